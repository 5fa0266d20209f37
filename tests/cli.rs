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

#[test]
fn forms_are_published_and_submissions_imported_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(rumbo(d, &["import", "countries"]).status.success());
    let added = rumbo(
        d,
        &["user", "add", "ana", "--role", "im_officer", "--countries", "COL", "--password", "long password 1"],
    );
    assert!(added.status.success(), "{}", text(&added));

    let form = d.join("needs.md");
    std::fs::write(
        &form,
        "| survey |\n| | type | name | label | constraint |\n| | integer | people | People | . > 0 |\n\
         | | select_multiple need | needs | Needs | |\n\
         | choices |\n| | list_name | name | label | |\n| | need | food | Food | |\n| | need | water | Water | |\n\
         | settings |\n| | form_id | version | | |\n| | needs | 1 | | |\n",
    )
    .unwrap();
    let refused = rumbo(d, &["form", "publish", form.to_str().unwrap(), "--countries", "PER", "--as", "ana"]);
    assert!(!refused.status.success(), "ana works in Colombia only");
    assert!(text(&refused).contains("PER"), "{}", text(&refused));
    let published = rumbo(d, &["form", "publish", form.to_str().unwrap(), "--countries", "COL", "--as", "ana"]);
    assert!(published.status.success(), "{}", text(&published));
    assert!(text(&published).contains("published form needs"), "{}", text(&published));

    let csv = d.join("rows.csv");
    std::fs::write(&csv, "people,needs\n3,food water\n0,food\n2,water\n").unwrap();
    let dry = rumbo(d, &["import", "submissions", csv.to_str().unwrap(), "--form", "needs", "--as", "ana"]);
    assert_eq!(dry.status.code(), Some(1), "a dry run with an invalid row fails: {}", text(&dry));
    assert!(text(&dry).contains("row 3"), "{}", text(&dry));
    assert!(text(&dry).contains("3 rows, 2 valid, 1 invalid; 0 stored"), "{}", text(&dry));
    let all =
        rumbo(d, &["import", "submissions", csv.to_str().unwrap(), "--form", "needs", "--as", "ana", "--mode", "all"]);
    assert!(!all.status.success());
    assert!(text(&all).contains("nothing was stored") || text(&all).contains("0 stored"), "{}", text(&all));
    let valid = rumbo(
        d,
        &["import", "submissions", csv.to_str().unwrap(), "--form", "needs", "--as", "ana", "--mode", "valid"],
    );
    assert!(valid.status.success(), "{}", text(&valid));
    assert!(text(&valid).contains("2 stored"), "{}", text(&valid));
    assert!(text(&valid).contains("checked 3/3 rows"), "progress lines: {}", text(&valid));
    let again = rumbo(
        d,
        &["import", "submissions", csv.to_str().unwrap(), "--form", "needs", "--as", "ana", "--mode", "valid"],
    );
    assert!(text(&again).contains("0 stored, 2 already there"), "{}", text(&again));
}

/// `rumbo demo` opens with the DTM forms, indicators and live figures; `rumbo indicators`
/// and `rumbo reaggregate` work on what it left, and give the same figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_opens_with_live_dtm_figures_that_a_rebuild_reproduces() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rumbo"))
        .args(["demo", "--data-dir", d.to_str().unwrap(), "--port", &port.to_string(), "--demo-password", "cli-demo-1"])
        .env("RUMBO_DEMO_SUBMISSIONS", "2000")
        .env("RUMBO_DEMO_5W_ROWS", "3000")
        .env("RUMBO_DEMO_TRICKLE_MS", "0")
        .env("RUMBO_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let mut guard = Kill(child);
    let (lines, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut said = String::new();
    while !said.contains("more submissions loaded") {
        let line = ready.recv_timeout(std::time::Duration::from_mins(10)).expect("the demo loads");
        said.push_str(&line);
        said.push('\n');
    }
    assert!(said.contains("34 DTM indicators"), "{said}");
    let base = format!("http://127.0.0.1:{port}");
    let c = reqwest::Client::new();
    let token: serde_json::Value = c
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "im_officer", "password": "cli-demo-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let ask = |path: &str| {
        let c = c.clone();
        let url = format!("{base}{path}");
        let token = token.clone();
        async move { c.get(url).bearer_auth(token).send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let people = ask("/api/v1/aggregates?indicator=fmr_people&by=adm1,sex,age_group&country=COL").await;
    assert!(people["total"]["value"].as_f64().unwrap() > 0.0, "{people}");
    let food = ask("/api/v1/aggregates?indicator=fms_need_food&by=sex&country=COL").await;
    assert_eq!(food["weighted"], true, "{food}");
    let before = (people["total"].clone(), food["total"].clone());

    // Protection: the caseworker's caseload and inbox, the receiver's referrals.
    assert!(said.contains("Protection: 3 red-flag rules"), "{said}");
    let sign_in = |username: &'static str| {
        let c = c.clone();
        let base = base.clone();
        async move {
            let t: serde_json::Value = c
                .post(format!("{base}/api/v1/auth/token"))
                .json(&serde_json::json!({"username": username, "password": "cli-demo-1"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            t["token"].as_str().unwrap().to_owned()
        }
    };
    let caseworker = sign_in("caseworker").await;
    let cases: serde_json::Value = c
        .get(format!("{base}/api/v1/cases?status=all"))
        .bearer_auth(&caseworker)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cases["total"], 12, "{cases}");
    let alerts = c.get(format!("{base}/api/v1/alerts?status=all")).bearer_auth(&caseworker).send().await.unwrap();
    assert_eq!(alerts.status(), 200);
    let referrals: serde_json::Value =
        c.get(format!("{base}/api/v1/referrals")).bearer_auth(&caseworker).send().await.unwrap().json().await.unwrap();
    assert!(referrals["total"].as_i64().unwrap() >= 12, "{referrals}");
    // The demo's names are sealed: the database file does not hold them.
    let mut bytes = std::fs::read(d.join("rumbo.db")).unwrap();
    bytes.extend(std::fs::read(d.join("rumbo.db-wal")).unwrap_or_default());
    let file = String::from_utf8_lossy(&bytes);
    for name in ["Rondón Salcedo", "Pérez Villalba", "Marcano Ortiz"] {
        assert!(!file.contains(name), "{name} is in the database file");
    }

    // 5W: 230 organisations, plans for 2025 and 2026, every month of 2025 reported, flagged
    // rows awaiting review, and every host country reached below its target.
    assert!(said.contains("5W: 230 organisations, plans 2025–2026"), "{said}");
    let admin = sign_in("admin").await;
    let get = |path: String| {
        let c = c.clone();
        let url = format!("{base}{path}");
        let admin = admin.clone();
        async move {
            let r = c.get(&url).bearer_auth(admin).send().await.unwrap();
            assert_eq!(r.status(), 200, "{url}");
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let orgs = get("/api/v1/organisations?limit=1".into()).await;
    assert_eq!(orgs["total"], 230, "{orgs}");
    for year in [2025, 2026] {
        let plan = get(format!("/api/v1/response/plans/{year}")).await;
        assert!(plan["targets"].as_array().unwrap().len() > 17 * 15, "{year}: {}", plan["targets"]);
    }
    for month in 1..=12 {
        let m = format!("2025-{month:02}");
        let rows = get(format!("/api/v1/response/reports?year=2025&month_from={m}&month_to={m}&limit=1")).await;
        assert!(rows["total"].as_i64().unwrap() > 0, "{m}: {rows}");
        assert_eq!(rows["items"][0]["status"], "approved", "{m}: {rows}");
    }
    let flagged = get("/api/v1/response/reports?year=2026&status=submitted&flagged=true&limit=1".into()).await;
    assert!(flagged["total"].as_i64().unwrap() > 0, "{flagged}");
    let reached = get("/api/v1/response/reached?year=2025".into()).await;
    let countries = reached["countries"].as_array().unwrap();
    assert_eq!(countries.len(), 17, "{reached}");
    for country in countries {
        let code = country["country"].as_str().unwrap();
        let sectors: Vec<&serde_json::Value> =
            reached["sectors"].as_array().unwrap().iter().filter(|s| s["country"] == code).collect();
        let targeted: i64 = sectors.iter().map(|s| s["people_targeted"].as_i64().unwrap()).sum();
        let total = country["reached_total"].as_i64().unwrap();
        assert!(total > 0 && total < targeted, "{code}: reached {total}, targeted {targeted}");
        for s in sectors {
            let (r, t) = (s["reached_total"].as_i64().unwrap(), s["people_targeted"].as_i64().unwrap());
            assert!(r < t, "{code} {}: reached {r}, targeted {t}", s["sector"]);
        }
    }
    drop(guard);

    let listed = text(&rumbo(d, &["indicators", "list"]));
    assert!(listed.contains("fmr_people") && listed.contains("cells"), "{listed}");
    let rebuilt = rumbo(d, &["reaggregate"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    assert!(text(&rebuilt).contains("submissions"), "{}", text(&rebuilt));
    let bad = d.join("bad.toml");
    std::fs::write(&bad, "[[indicator]]\nid = \"x\"\nform = \"rumbo_fms\"\nkind = \"proportion\"\nname = { en = \"X\" }\nnumerator = \"${nope} = 1\"\ndisaggregations = []\n").unwrap();
    let refused = rumbo(d, &["indicators", "load", bad.to_str().unwrap(), "--as", "admin"]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("nope") && text(&refused).contains("nothing was saved"), "{}", text(&refused));

    // The same figures after the rebuild.
    let mut again = Command::new(env!("CARGO_BIN_EXE_rumbo"))
        .args(["demo", "--data-dir", d.to_str().unwrap(), "--port", &port.to_string(), "--demo-password", "cli-demo-1"])
        .env("RUMBO_DEMO_TRICKLE_MS", "0")
        .env("RUMBO_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = again.stdout.take().unwrap();
    guard = Kill(again);
    let mut reader = BufReader::new(stdout).lines();
    while let Some(Ok(line)) = reader.next() {
        if line.contains("api/v1/openapi.json") {
            break;
        }
    }
    for _ in 0..50 {
        if c.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let people = ask("/api/v1/aggregates?indicator=fmr_people&by=adm1,sex,age_group&country=COL").await;
    let food = ask("/api/v1/aggregates?indicator=fms_need_food&by=sex&country=COL").await;
    assert_eq!((people["total"].clone(), food["total"].clone()), before);
    drop(guard);
}

/// Copies a data folder (database, its log, key) to a new temporary folder.
fn copy_data(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.path().join(entry.file_name())).unwrap();
        }
    }
    to
}

/// Runs one statement on the SQLite file of a data folder, as someone with the file would.
fn tamper(data: &Path, sql: &str) {
    let url = format!("sqlite://{}", data.join("rumbo.db").display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::ConnectOptions as _;
        let mut conn = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().connect().await.unwrap();
        let done = sqlx::query(sql).execute(&mut conn).await.unwrap();
        assert_eq!(done.rows_affected(), 1, "{sql}");
    });
}

#[test]
fn audit_verify_catches_a_changed_or_removed_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(rumbo(d, &["import", "countries"]).status.success());
    for name in ["ana", "bea", "cris"] {
        let added =
            rumbo(d, &["user", "add", name, "--role", "viewer", "--all-countries", "--password", "long password 1"]);
        assert!(added.status.success(), "{}", text(&added));
    }
    let ok = rumbo(d, &["audit", "verify"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("intact"), "{}", text(&ok));
    let head = String::from_utf8(rumbo(d, &["audit", "head"]).stdout).unwrap().trim().to_string();
    let (last, _) = head.split_once(':').expect("LINE:HASH");
    let last: i64 = last.parse().unwrap();
    assert!(last >= 4, "{head}");
    assert!(rumbo(d, &["audit", "verify", "--expect-head", &head]).status.success());

    // A changed line: who did it.
    let changed = copy_data(d);
    tamper(changed.path(), "UPDATE audit_log SET actor = 'someone else' WHERE id = 3");
    let out = rumbo(changed.path(), &["audit", "verify"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("broken at line 3"), "{}", text(&out));

    // A removed line in the middle.
    let removed = copy_data(d);
    tamper(removed.path(), "DELETE FROM audit_log WHERE id = 2");
    let out = rumbo(removed.path(), &["audit", "verify"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("broken at line 3"), "{}", text(&out));

    // The newest line removed: the chain alone still holds, the noted head does not.
    let cut = copy_data(d);
    tamper(cut.path(), &format!("DELETE FROM audit_log WHERE id = {last}"));
    assert!(rumbo(cut.path(), &["audit", "verify"]).status.success());
    let out = rumbo(cut.path(), &["audit", "verify", "--expect-head", &head]);
    assert!(!out.status.success());
    assert!(text(&out).contains(&format!("audit line {last} is gone")), "{}", text(&out));
}

#[test]
fn a_server_refuses_a_protection_key_other_than_the_databases() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = rumbo(d, &["indicators", "list"]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(d.join("protection.key").exists(), "a new instance makes its key");
    let again = rumbo(d, &["indicators", "list"]);
    assert!(again.status.success(), "{}", text(&again));
    // Another key: refused, naming both fingerprints.
    let other = d.join("elsewhere.key");
    std::fs::write(&other, "ab".repeat(32)).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_rumbo"))
        .args(["indicators", "list"])
        .env("RUMBO_DATA_DIR", d)
        .env("RUMBO_KEY_FILE", &other)
        .env_remove("RUMBO_DATABASE_URL")
        .env("RUMBO_LOG", "warn")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(text(&refused).contains("not the key this database was sealed with"), "{}", text(&refused));
    // A missing key file: refused, and no new key is made.
    std::fs::rename(d.join("protection.key"), d.join("moved.key")).unwrap();
    let missing = rumbo(d, &["indicators", "list"]);
    assert!(!missing.status.success());
    assert!(text(&missing).contains("there is no protection key at"), "{}", text(&missing));
    assert!(!d.join("protection.key").exists(), "no new key was made");
}
