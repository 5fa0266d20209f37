fn main() {
    // The pyxform conformance test needs a Python with pyxform (`.ci/run` makes one);
    // without it the test is compiled as ignored and reported as skipped.
    println!("cargo:rustc-check-cfg=cfg(rumbo_pyxform)");
    println!("cargo:rerun-if-env-changed=RUMBO_PYXFORM_PYTHON");
    if std::env::var("RUMBO_PYXFORM_PYTHON").is_ok_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=rumbo_pyxform");
    }
}
