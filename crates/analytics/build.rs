fn main() {
    // Tests that need PostgreSQL or Chromium are compiled as ignored (reported as skipped,
    // with the reason) unless the service is there or required, as in CI.
    println!("cargo:rustc-check-cfg=cfg(rumbo_postgres)");
    println!("cargo:rustc-check-cfg=cfg(rumbo_browser)");
    for var in ["RUMBO_TEST_POSTGRES_URL", "RUMBO_REQUIRE_POSTGRES", "RUMBO_REQUIRE_BROWSER"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=/usr/bin/chromedriver");
    let set = |var: &str| std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0");
    if set("RUMBO_TEST_POSTGRES_URL") || set("RUMBO_REQUIRE_POSTGRES") {
        println!("cargo:rustc-cfg=rumbo_postgres");
    }
    if std::path::Path::new("/usr/bin/chromedriver").exists() || set("RUMBO_REQUIRE_BROWSER") {
        println!("cargo:rustc-cfg=rumbo_browser");
    }
}
