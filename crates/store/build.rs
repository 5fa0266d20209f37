fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // The PostgreSQL half of the conformance suite is compiled as ignored (and so reported as
    // skipped) unless a test server is configured, or required as in CI.
    println!("cargo:rustc-check-cfg=cfg(rumbo_postgres)");
    println!("cargo:rerun-if-env-changed=RUMBO_TEST_POSTGRES_URL");
    println!("cargo:rerun-if-env-changed=RUMBO_REQUIRE_POSTGRES");
    let configured = std::env::var("RUMBO_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty());
    let required = std::env::var("RUMBO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    if configured || required {
        println!("cargo:rustc-cfg=rumbo_postgres");
    }
}
