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

#[test]
fn form_check_and_xform_work_like_xls2xform() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/data/xlsform-corpus/pyxform/example_xls");
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_rumbo")).args(args).output().unwrap();

    let good = format!("{corpus}/or_other.xlsx");
    let out = run(&["form", "check", &good]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no problems"), "{}", text(&out));
    let out = run(&["form", "xform", &good]);
    assert!(out.status.success());
    let xform = String::from_utf8(out.stdout).unwrap();
    assert!(xform.contains("<bind nodeset=\"/data/fav_color_other\""), "{xform}");
    assert!(xform.contains("jr:preload=\"uid\""), "{xform}");

    let bad = dir.path().join("bad.md");
    std::fs::write(&bad, "| survey |\n| | type | name | label |\n| | integr | age | Age |\n| | text | age | Again |\n")
        .unwrap();
    let out = run(&["form", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let errors = String::from_utf8(out.stderr).unwrap();
    assert!(errors.contains("row 3, column type: `integr` is not a question type"), "{errors}");
    assert!(errors.contains("2 problem(s) found") || errors.contains("problem(s) found"), "{errors}");
    let out = run(&["form", "xform", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}
