//! The `rumbo` command line, run as a person would, on a temporary SQLite store.

use std::path::Path;
use std::process::{Command, Output};

fn rumbo(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rumbo"))
        .args(args)
        .env("RUMBO_DATA_DIR", data_dir)
        .env_remove("RUMBO_DATABASE_URL")
        .env("RUMBO_LOG", "warn")
        .output()
        .expect("run rumbo")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const BOUNDARIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/boundaries/ne_10m_admin1_lac18.geojson");

#[test]
fn users_tokens_and_boundaries_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(rumbo(d, &["migrate"]).status.success());

    let refused = rumbo(d, &["import", "boundaries", BOUNDARIES]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("is used again"), "{}", text(&refused));

    let added = rumbo(
        d,
        &["user", "add", "maria", "--role", "im_officer", "--countries", "COL", "--password", "long password 1"],
    );
    assert!(!added.status.success(), "COL does not exist yet");
    assert!(text(&added).contains("no country has code COL"), "{}", text(&added));

    let bad_role = rumbo(d, &["user", "add", "maria", "--role", "boss", "--all-countries"]);
    assert!(!bad_role.status.success());
    assert!(text(&bad_role).contains("--role must be one of"), "{}", text(&bad_role));

    let added = rumbo(d, &["user", "add", "maria", "--role", "admin", "--all-countries", "--name", "María"]);
    assert!(added.status.success(), "{}", text(&added));
    assert!(text(&added).contains("password: "), "a generated password is printed");
    let listed = text(&rumbo(d, &["user", "list"]));
    assert!(listed.contains("maria") && listed.contains("all countries"), "{listed}");
    let token = rumbo(d, &["user", "token", "maria", "--expires-in-days", "7"]);
    assert!(token.status.success());
    assert!(String::from_utf8_lossy(&token.stdout).trim().starts_with("rumbo_"));
    let passwd = rumbo(d, &["user", "passwd", "maria", "--password", "short"]);
    assert!(!passwd.status.success());
    assert!(text(&passwd).contains("at least 8 characters"));
    assert!(rumbo(d, &["user", "passwd", "nobody"]).status.code() != Some(0));

    let malformed = d.join("broken.geojson");
    std::fs::write(&malformed, "{\"type\":").unwrap();
    let out = rumbo(d, &["import", "boundaries", malformed.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("not valid GeoJSON"), "{}", text(&out));

    let missing = rumbo(d, &["import", "boundaries", BOUNDARIES, "--dissolve"]);
    assert!(!missing.status.success());
    assert!(text(&missing).contains("no country has code"), "{}", text(&missing));
    assert!(rumbo(d, &["import", "countries"]).status.success());
    let imported = rumbo(d, &["import", "boundaries", BOUNDARIES, "--dissolve"]);
    assert!(imported.status.success(), "{}", text(&imported));
    assert!(text(&imported).contains("330 areas created, 0 updated"), "{}", text(&imported));
    let again = rumbo(d, &["import", "boundaries", BOUNDARIES, "--dissolve"]);
    assert!(text(&again).contains("exists already"), "{}", text(&again));

    let config = rumbo(d, &["default-config"]);
    assert!(String::from_utf8_lossy(&config.stdout).contains("database_url"));
}
