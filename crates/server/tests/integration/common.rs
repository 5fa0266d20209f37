//! A running server on a fresh store, with a small fixture of countries, areas and users.

#![allow(dead_code)]

use reqwest::redirect::Policy;
use rumbo_domain::secrets::hash_password;
use rumbo_server::{AppState, ServerConfig};
use rumbo_store::model::{
    Actor, AdminAreaInput, CountryInput, OrganisationInput, OrganisationKind, Role, SiteInput, SiteKind, UserInput,
};
use rumbo_store::testing::TestDb;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct-horse-1";

/// A square around Cúcuta (lon -73..-72, lat 7..8.5) and one around Lima.
pub const NSA: &str = r#"{"type":"Polygon","coordinates":[[[-73,7],[-72,7],[-72,8.5],[-73,8.5],[-73,7]]]}"#;
pub const LIM: &str =
    r#"{"type":"Polygon","coordinates":[[[-77.5,-12.5],[-76.5,-12.5],[-76.5,-11.5],[-77.5,-11.5],[-77.5,-12.5]]]}"#;

pub struct TestServer {
    pub base: String,
    pub db: TestDb,
    /// The server's data folder (background exports are written in it).
    pub data: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestServer {
    /// Serves an empty store on a free port.
    pub async fn start(db: TestDb) -> TestServer {
        TestServer::start_in(db, tempfile::tempdir().expect("data folder")).await
    }

    /// Serves a store with `data` as the data folder (a restart keeps the folder, and with
    /// it the protection key).
    pub async fn start_in(db: TestDb, data: tempfile::TempDir) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let config = ServerConfig { data_dir: data.path().to_path_buf(), ..ServerConfig::default() };
        let state = AppState::open(db.store.clone(), config).await.expect("state");
        tokio::spawn(rumbo_server::launch_with_listener(state, listener, async {
            let _ = stopped.await;
        }));
        TestServer { base, db, data, stop: Some(stop) }
    }

    /// Serves a store holding Colombia and Peru, one admin-1 area each, a site in Peru, and
    /// the users `admin` (regional), `im_col` (IM officer, Colombia), `admin_col` (admin,
    /// Colombia), `enumerator` (Colombia) and `viewer` (regional).
    pub async fn with_fixture(db: TestDb) -> TestServer {
        seed(&db).await;
        TestServer::start(db).await
    }
}

/// The fixture of [`TestServer::with_fixture`], in a store (for tests that run the server's
/// parts without serving).
pub async fn seed(db: &TestDb) {
    let actor = Actor::system("test");
    for (code, iso2, name) in [("COL", "CO", "Colombia"), ("PER", "PE", "Peru")] {
        db.upsert_country(
            &actor,
            &CountryInput {
                code: code.into(),
                iso2: iso2.into(),
                name_en: name.into(),
                name_es: name.into(),
                name_pt: name.into(),
            },
        )
        .await
        .unwrap();
    }
    for (country, pcode, name, geometry) in
        [("COL", "CO-NSA", "Norte de Santander", NSA), ("PER", "PE-LIM", "Lima", LIM)]
    {
        let mut a = AdminAreaInput {
            country_code: country.into(),
            pcode: pcode.into(),
            level: 1,
            name_en: name.into(),
            geometry: Some(geometry.into()),
            ..Default::default()
        };
        a.normalise();
        db.create_admin_area(&actor, &a).await.unwrap();
    }
    db.create_site(
        &actor,
        &SiteInput {
            country_code: "PER".into(),
            code: "PER-FMP-001".into(),
            name: "Terminal Plaza Norte".into(),
            kind: SiteKind::BusTerminal,
            latitude: -12.0,
            longitude: -77.06,
            admin_area_pcode: Some("PE-LIM".into()),
            active: true,
        },
    )
    .await
    .unwrap();
    let hash = hash_password(PASSWORD);
    for (username, role, all, countries) in [
        ("admin", Role::Admin, true, vec![]),
        ("im_col", Role::ImOfficer, false, vec!["COL".to_string()]),
        ("admin_col", Role::Admin, false, vec!["COL".to_string()]),
        ("enumerator", Role::Enumerator, false, vec!["COL".to_string()]),
        ("viewer", Role::Viewer, true, vec![]),
    ] {
        db.save_user(
            &actor,
            None,
            &UserInput {
                username: username.into(),
                display_name: format!("Test {username}"),
                role,
                organisation_id: None,
                all_countries: all,
                countries,
                active: true,
            },
            Some(&hash),
        )
        .await
        .unwrap();
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A bearer token for a fixture user.
    pub async fn token(&self, username: &str) -> String {
        self.token_with(username, PASSWORD).await
    }

    /// A bearer token for any user.
    pub async fn token_with(&self, username: &str, password: &str) -> String {
        let r = client()
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "token for {username}");
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
    }

    /// A browser-like client signed in as `username`, and the CSRF token of its session.
    pub async fn signed_in(&self, username: &str) -> (reqwest::Client, String) {
        let c = client();
        let page = c.get(self.url("/login")).send().await.unwrap().text().await.unwrap();
        let r = c
            .post(self.url("/login"))
            .form(&[("csrf", csrf_of(&page).as_str()), ("username", username), ("password", PASSWORD), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "sign-in of {username}");
        let home = c.get(self.url("/")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&home);
        (c, csrf)
    }
}

/// The 5W tests' two partner organisations, "Acción Norte" (AN) and "Bienestar Sur" (BS),
/// and their users: username, role, the organisation's index (0 or 1, or none) and
/// countries. The organisations' ids.
pub async fn partners(db: &TestDb, users: &[(&str, Role, Option<usize>, &[&str])]) -> [i64; 2] {
    let actor = Actor::system("test");
    let mut orgs = [0; 2];
    for (slot, (name, acronym)) in orgs.iter_mut().zip([("Acción Norte", "AN"), ("Bienestar Sur", "BS")]) {
        let input = OrganisationInput { name: name.into(), acronym: acronym.into(), kind: OrganisationKind::Nngo };
        *slot = db.save_organisation(&actor, None, &input).await.unwrap().id;
    }
    let hash = hash_password(PASSWORD);
    for (username, role, org, countries) in users {
        let user = UserInput {
            username: (*username).into(),
            display_name: (*username).into(),
            role: *role,
            organisation_id: org.map(|i| orgs[i]),
            all_countries: false,
            countries: countries.iter().map(|c| (*c).to_string()).collect(),
            active: true,
        };
        db.save_user(&actor, None, &user, Some(&hash)).await.unwrap();
    }
    orgs
}

/// A client that keeps cookies and does not follow redirects (so tests see them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

/// A multipart body of `(name, file name, content)` parts, and its content type.
/// Publishes a form (an XLSForm as markdown or xlsx, named `name`) for `countries`
/// (`"PER"`, `"COL,PER"`) through the API; its id.
pub async fn publish_form(s: &TestServer, token: &str, name: &str, form: &[u8], countries: &str) -> i64 {
    let (content_type, body) = multipart(&[("file", Some(name), form), ("countries", None, countries.as_bytes())]);
    let r = client()
        .post(s.url("/api/v1/forms"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["form"]["id"].as_i64().unwrap()
}

/// Sends one submission's answers (JSON) through the API; its id.
pub async fn submit_answers(s: &TestServer, token: &str, form: i64, data: Value) -> i64 {
    let r = client()
        .post(s.url(&format!("/api/v1/forms/{form}/submissions")))
        .bearer_auth(token)
        .json(&json!({ "data": data }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "rumbo-test-boundary";
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The value of the first hidden `csrf` field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("the page has a CSRF field");
    html[start..].split('"').next().unwrap().to_string()
}

/// Declares one test per engine, each given a running [`TestServer`] with the fixture.
#[macro_export]
macro_rules! server_tests {
    ($(async fn $name:ident($s:ident: TestServer) $body:block)+) => {
        rumbo_store::engine_tests! {
            $(
                async fn $name(db: TestDb) {
                    let $s = $crate::common::TestServer::with_fixture(db).await;
                    $body
                }
            )+
        }
    };
}

/// Headless Chromium driven through chromedriver, each on its own profile; both are stopped
/// when this is dropped.
pub struct Browser {
    pub driver: thirtyfour::WebDriver,
    /// chromedriver's address (for its DevTools endpoint).
    pub chromedriver_url: String,
    _chromedriver: ChildProcess,
    _profile: tempfile::TempDir,
}

struct ChildProcess(std::process::Child);

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn first_existing(paths: &[&str]) -> Option<String> {
    paths.iter().find(|p| std::path::Path::new(p).exists()).map(|p| (*p).to_string())
}

/// Starts Chromium (window `width,height`, with the browser's log kept when asked), or
/// `None` when Debian's `chromium` and `chromium-driver` are not installed: the test is then
/// skipped, unless `RUMBO_REQUIRE_BROWSER=1` (as in CI), which makes it fail.
pub async fn browser(window: &str, keep_log: bool) -> Option<Browser> {
    use thirtyfour::prelude::*;
    let required = std::env::var("RUMBO_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let (Some(chromedriver), Some(chromium)) = (
        first_existing(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
        first_existing(&["/usr/bin/chromium", "/usr/lib/chromium/chromium"]),
    ) else {
        assert!(!required, "RUMBO_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed");
        eprintln!("SKIPPED browser test: install the Debian packages chromium and chromium-driver to run it");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let process = ChildProcess(
        std::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = tempfile::tempdir().unwrap();
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(&chromium).unwrap();
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=en-US",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!("--window-size={window}")).unwrap();
    caps.add_arg(&format!("--user-data-dir={}", profile.path().display())).unwrap();
    if keep_log {
        caps.set_browser_log_level(thirtyfour::LoggingPrefsLogLevel::All).unwrap();
    }
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..50 {
        match WebDriver::new(&url, caps.clone()).await {
            Ok(driver) => {
                return Some(Browser { driver, chromedriver_url: url, _chromedriver: process, _profile: profile });
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
    panic!("chromedriver does not answer");
}
