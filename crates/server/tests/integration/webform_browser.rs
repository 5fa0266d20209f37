//! The web form in headless Chromium, offline and back: sign in as the enumerator, open
//! `/collect/{id}` until the service worker controls the page, cut the network, fill the
//! form (a constraint error shows and goes away), submit: one waits in IndexedDB and the
//! server has nothing; reload offline (the page comes from the service worker's cache and
//! the one is still waiting); reconnect: it is sent, exactly once.
//!
//! Offline is two things at once: the page's network is emulated offline through the
//! DevTools protocol (`navigator.onLine` turns false, the page's own requests fail, and the
//! `online` event fires when it is lifted), and the browser reaches the server only through
//! a small TCP relay in this test whose gate is closed meanwhile, since DevTools network
//! emulation of the page does not reach the service worker's own fetches. Nothing gets to
//! the server while offline, whichever context asks.
//!
//! It needs `chromedriver` and `chromium` (Debian packages `chromium-driver`, `chromium`).
//! Without them it says it is skipped; with `RUMBO_REQUIRE_BROWSER=1` (as in CI) it fails.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rumbo_store::Engine;
use rumbo_store::testing::TestDb;
use serde_json::{Value, json};
use thirtyfour::prelude::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::common::{PASSWORD, TestServer, client};
use crate::openrosa::publish;

/// A text, an integer with a constraint, a select_one and a group shown by it.
const FORM_MD: &str = "\
| survey   |                |            |                        |                   |                     |
|          | type           | name       | label                  | constraint        | relevant            |
|          | text           | site       | Site code              |                   |                     |
|          | integer        | adults     | Adults in the group    | . >= 0 and . < 50 |                     |
|          | select_one yn  | children   | Children in the group? |                   |                     |
|          | begin group    | kids       | Children               |                   | ${children} = 'yes' |
|          | integer        | kid_count  | How many children?     | . > 0             |                     |
|          | end group      |            |                        |                   |                     |
| choices  |                |            |                        |                   |                     |
|          | list_name      | name       | label                  |                   |                     |
|          | yn             | yes        | Yes                    |                   |                     |
|          | yn             | no         | No                     |                   |                     |
| settings |                |            |                        |                   |                     |
|          | form_title     | form_id    | version                |                   |                     |
|          | Web survey     | websurvey  | 2026120101             |                   |                     |
";

/// Each wait gives up after this long.
const WAIT: Duration = Duration::from_secs(20);

/// A TCP relay to the server with a gate: closed, it drops every connection (and the ones
/// open when it closed), as a pulled cable would.
struct Relay {
    base: String,
    open: Arc<AtomicBool>,
    /// Connections that arrived while the gate was closed.
    turned_away: Arc<AtomicUsize>,
    live: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let open = Arc::new(AtomicBool::new(true));
        let turned_away = Arc::new(AtomicUsize::new(0));
        let live: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (o, t, l) = (open.clone(), turned_away.clone(), live.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !o.load(Ordering::SeqCst) {
                    t.fetch_add(1, Ordering::SeqCst);
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut live = l.lock().unwrap();
                live.retain(|h| !h.is_finished());
                live.push(task.abort_handle());
            }
        })
        .abort_handle();
        Relay { base, open, turned_away, live, accept }
    }

    fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
        if !open {
            for h in self.live.lock().unwrap().drain(..) {
                h.abort();
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        self.set_open(false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rumbo_browser), ignore = "browser: install the Debian packages chromium and chromium-driver to run")]
async fn web_form_offline_then_synced_once() {
    let Some(browser) = crate::common::browser("1000,1200", true).await else { return };

    let db = TestDb::new(Engine::Sqlite, "webform_browser").await.expect("SQLite is always there");
    let server = TestServer::with_fixture(db).await;
    let form_id = publish(&server, "websurvey.md", FORM_MD, "COL").await;
    let relay = Relay::start(server.base.trim_start_matches("http://").to_string()).await;

    let crate::common::Browser { driver, chromedriver_url, .. } = &browser;
    let result = drive(driver, chromedriver_url, &server, &relay, form_id).await;
    if result.is_err() {
        // What the page said, to see what failed silently.
        for entry in driver.browser_log().await.unwrap_or_default() {
            eprintln!("browser {}: {}", entry.level, entry.message);
        }
        if let Ok(html) = driver.source().await {
            eprintln!("page source:\n{html}");
        }
    }
    driver.clone().quit().await.ok();
    if let Err(e) = result {
        panic!("{e}");
    }
}

type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn wd<T>(r: WebDriverResult<T>) -> Result<T, String> {
    r.map_err(|e| e.to_string())
}

/// Polls `probe` every 200 ms until it gives `Some`, for at most [`WAIT`].
async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, String>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await? {
            return Ok(v);
        }
        if start.elapsed() > WAIT {
            return Err(format!("timed out after {WAIT:?} waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn js(driver: &WebDriver, script: &str) -> Result<Value, String> {
    Ok(wd(driver.execute(script, Vec::new()).await)?.json().clone())
}

async fn js_async(driver: &WebDriver, script: &str) -> Result<Value, String> {
    Ok(wd(driver.execute_async(script, Vec::new()).await)?.json().clone())
}

/// The submissions the server holds for the form, seen by the admin.
async fn stored(server: &TestServer, token: &str, form_id: i64) -> Result<Value, String> {
    let r = client()
        .get(server.url(&format!("/api/v1/forms/{form_id}/submissions")))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    ensure!(r.status() == 200, "listing submissions: {}", r.status());
    r.json().await.map_err(|e| e.to_string())
}

/// The status bar's text ("" when hidden).
async fn status(driver: &WebDriver) -> Result<String, String> {
    let v =
        js(driver, "var b = document.querySelector('.rf-status'); return b ? (b.hidden ? '' : b.textContent) : null;")
            .await?;
    Ok(v.as_str().unwrap_or("<no status bar>").to_string())
}

/// How many submissions wait in the page's IndexedDB outbox.
async fn outbox_count(driver: &WebDriver) -> Result<i64, String> {
    let v = js_async(
        driver,
        "var done = arguments[arguments.length - 1];
         RumboForms.outbox.all().then(function (items) { done((items || []).length); }, function (e) { done(-1); });",
    )
    .await?;
    v.as_i64().ok_or_else(|| format!("outbox count: {v}"))
}

/// Waits for the rendered form.
async fn form_rendered(driver: &WebDriver) -> Check {
    wait_for("the form to be rendered", || async {
        let v = js(driver, "return !!document.querySelector('#webform form.rf-form .rf-type-integer input');").await?;
        if v == json!(true) {
            return Ok(Some(()));
        }
        // A load failure is final: say so at once.
        let failed =
            js(driver, "var m = document.querySelector('#webform .rf-bad'); return m ? m.textContent : null;").await?;
        if let Some(m) = failed.as_str() {
            return Err(format!("the form did not load: {m}"));
        }
        Ok(None)
    })
    .await
}

/// The input of the question labelled `label`.
async fn input(driver: &WebDriver, label: &str) -> Result<WebElement, String> {
    let xpath = format!(
        "//div[contains(@class,'rf-field')][.//span[@class='rf-label-text' and normalize-space()='{label}']]//input"
    );
    wd(driver.find(By::XPath(&xpath)).await)
}

/// The error shown under the question labelled `label` ("" when none).
async fn error_of(driver: &WebDriver, label: &str) -> Result<String, String> {
    let xpath = format!(
        "//div[contains(@class,'rf-field')][.//span[@class='rf-label-text' and normalize-space()='{label}']]/div[contains(@class,'rf-error')]"
    );
    let e = wd(driver.find(By::XPath(&xpath)).await)?;
    if wd(e.attr("hidden").await)?.is_some() {
        return Ok(String::new());
    }
    wd(e.text().await)
}

/// A DevTools protocol command to the page, through chromedriver's `goog/cdp/execute` (what
/// thirtyfour's `ChromeDevTools` sends; its `cdp` feature is not enabled in this workspace).
async fn cdp(driver: &WebDriver, chromedriver: &str, cmd: &str, params: Value) -> Check {
    let url = format!("{chromedriver}/session/{}/goog/cdp/execute", driver.session_id());
    let r =
        client().post(url).json(&json!({ "cmd": cmd, "params": params })).send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    ensure!(status.is_success(), "{cmd}: {status} {body}");
    Ok(())
}

async fn network(driver: &WebDriver, chromedriver: &str, relay: &Relay, online: bool) -> Check {
    cdp(driver, chromedriver, "Network.enable", json!({})).await?;
    if online {
        relay.set_open(true);
    }
    let conditions = json!({ "offline": !online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 });
    cdp(driver, chromedriver, "Network.emulateNetworkConditions", conditions).await?;
    if !online {
        relay.set_open(false);
    }
    let on_line = js(driver, "return navigator.onLine;").await?;
    ensure!(on_line == json!(online), "navigator.onLine is {on_line}, wanted {online}");
    Ok(())
}

async fn drive(driver: &WebDriver, chromedriver: &str, server: &TestServer, relay: &Relay, form_id: i64) -> Check {
    let admin = server.token("admin").await;
    let page = format!("/collect/{form_id}");

    // 1. Sign in through the login page, open the form, wait for the service worker.
    wd(driver.goto(relay.url(&page)).await)?;
    ensure!(wd(driver.current_url().await)?.as_str().contains("/login"), "the form needs a sign-in");
    wd(wd(driver.find(By::Id("username")).await)?.send_keys("enumerator").await)?;
    wd(wd(driver.find(By::Id("password")).await)?.send_keys(PASSWORD).await)?;
    wd(wd(driver.find(By::Id("sign-in")).await)?.click().await)?;
    form_rendered(driver).await?;
    let url = wd(driver.current_url().await)?;
    ensure!(url.path() == page, "back on the form after signing in: {url}");

    let reloaded = std::cell::Cell::new(false);
    wait_for("the service worker to control the page", || async {
        if js(driver, "return !!(navigator.serviceWorker && navigator.serviceWorker.controller);").await? == json!(true) {
            return Ok(Some(()));
        }
        let ready = js_async(
            driver,
            "var done = arguments[arguments.length - 1];
             navigator.serviceWorker.getRegistration('/collect/').then(function (r) { done(!!(r && r.active)); }, function () { done(false); });",
        )
        .await?;
        if ready == json!(true) && !reloaded.get() {
            // Active but not (yet) claiming this page: a reload puts it in charge.
            reloaded.set(true);
            wd(driver.refresh().await)?;
            form_rendered(driver).await?;
        }
        Ok(None)
    })
    .await?;
    // Ready for offline use: the page, its definition and its expressions are kept.
    wait_for("the form to be kept for offline use", || async {
        let v = js_async(
            driver,
            &format!(
                "var done = arguments[arguments.length - 1];
                 Promise.all(['{page}', '{page}/definition.json', '{page}/expressions.js', '/static/webform.js']
                   .map(function (u) {{ return caches.match(u); }}))
                   .then(function (hits) {{ done(hits.every(Boolean)); }}, function (e) {{ done(String(e)); }});"
            ),
        )
        .await?;
        Ok((v == json!(true)).then_some(()))
    })
    .await?;
    ensure!(outbox_count(driver).await? == 0, "nothing waits yet");

    // 2. Offline.
    network(driver, chromedriver, relay, false).await?;

    // 3. Fill the form: a bad value shows the constraint's error, a good one clears it.
    wd(input(driver, "Site code").await?.send_keys("CUC-07").await)?;
    let adults = input(driver, "Adults in the group").await?;
    wd(adults.send_keys("80").await)?;
    let error = wait_for("the constraint error", || async {
        let e = error_of(driver, "Adults in the group").await?;
        Ok((!e.is_empty()).then_some(e))
    })
    .await?;
    ensure!(error.contains("not allowed"), "the constraint's message: {error}");
    // Erased as a person would (WebDriver's clear fires no `input` event).
    wd(adults.send_keys(Key::Backspace + Key::Backspace + "3").await)?;
    wait_for("the constraint error to go away", || async {
        Ok(error_of(driver, "Adults in the group").await?.is_empty().then_some(()))
    })
    .await?;
    // The group shows once "Yes" is chosen.
    // (Hidden questions are not drawn: its labels are still empty, so it is found by class.)
    let kid_count_hidden = "var f = document.querySelector('fieldset.rf-group'); return f ? f.hidden : null;";
    ensure!(js(driver, kid_count_hidden).await? == json!(true), "the children's group waits for the answer");
    wd(wd(driver.find(By::XPath("//label[contains(@class,'rf-choice')][normalize-space()='Yes']/input")).await)?
        .click()
        .await)?;
    wait_for("the children's group to show", || async {
        Ok((js(driver, kid_count_hidden).await? == json!(false)).then_some(()))
    })
    .await?;
    wd(input(driver, "How many children?").await?.send_keys("2").await)?;
    wd(wd(driver.find(By::Css("button.rf-submit")).await)?.click().await)?;

    wait_for("the form to be saved", || async {
        let m =
            js(driver, "var m = document.querySelector('.rf-message'); return m && !m.hidden ? m.textContent : '';")
                .await?;
        let m = m.as_str().unwrap_or_default().to_string();
        ensure!(!m.contains("attention"), "the form was refused: {m}");
        Ok(m.contains("Saved").then_some(()))
    })
    .await?;
    wait_for("the status bar to say 1 waiting", || async {
        let s = status(driver).await?;
        Ok(s.contains("1 waiting to be sent").then_some(()))
    })
    .await?;
    ensure!(outbox_count(driver).await? == 1, "one submission in the outbox");
    let total = &stored(server, &admin, form_id).await?["total"];
    ensure!(*total == json!(0), "nothing reached the server while offline: {total}");

    // 4. Reload while offline: the page comes from the service worker, the submission waits.
    wd(driver.refresh().await)?;
    form_rendered(driver).await?;
    ensure!(
        js(driver, "return !!navigator.serviceWorker.controller && navigator.onLine === false;").await? == json!(true),
        "the offline page is the service worker's"
    );
    wait_for("the status bar to still say 1 waiting", || async {
        Ok(status(driver).await?.contains("1 waiting to be sent").then_some(()))
    })
    .await?;
    let total = &stored(server, &admin, form_id).await?["total"];
    ensure!(*total == json!(0), "still nothing on the server: {total}");
    eprintln!("connections turned away while offline: {}", relay.turned_away.load(Ordering::SeqCst));

    // 5. Online again: the `online` event sends it.
    network(driver, chromedriver, relay, true).await?;
    let page_of = wait_for("the submission to reach the server", || async {
        let page = stored(server, &admin, form_id).await?;
        let pending = outbox_count(driver).await?;
        Ok((page["total"] == json!(1) && pending == 0).then_some(page))
    })
    .await?;
    wait_for("the status bar to clear", || async { Ok(status(driver).await?.trim().is_empty().then_some(())) }).await?;
    let data = &page_of["items"][0]["data"];
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    ensure!(text(&data["site"]) == "CUC-07", "site: {data}");
    ensure!(text(&data["adults"]) == "3", "adults: {data}");
    ensure!(text(&data["children"]) == "yes", "children: {data}");
    ensure!(text(&data["kids"]["kid_count"]) == "2", "kid_count: {data}");
    ensure!(text(&data["meta"]["instanceID"]).starts_with("uuid:"), "instance: {data}");

    // Once more: nothing is sent again.
    wd(driver.refresh().await)?;
    form_rendered(driver).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    ensure!(outbox_count(driver).await? == 0, "the outbox stays empty");
    let total = &stored(server, &admin, form_id).await?["total"];
    ensure!(*total == json!(1), "exactly one submission, no duplicate: {total}");

    // Signing out forgets the pages kept for offline use (they hold the user's name).
    wd(wd(driver.find(By::Id("sign-out")).await)?.click().await)?;
    wait_for("the sign-in page", || async {
        Ok(wd(driver.current_url().await)?.path().starts_with("/login").then_some(()))
    })
    .await?;
    let kept = js_async(
        driver,
        "var done = arguments[arguments.length - 1];
         caches.keys().then(function (keys) { done(keys.filter(function (k) { return k.indexOf('rumbo-forms-') === 0; }).length); },
                            function (e) { done(String(e)); });",
    )
    .await?;
    ensure!(kept == json!(0), "no form cache is left after signing out: {kept}");
    Ok(())
}
