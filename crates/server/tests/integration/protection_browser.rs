//! The alert inbox in headless Chromium: it fills by itself when a flagged submission
//! arrives, and a case opened from the alert shows the person's name to her caseworker.
//! Screenshots go to `test-artifacts/alerts-inbox.png` and `test-artifacts/case-file.png`.

use std::time::Duration;

use rumbo_store::Engine;
use rumbo_store::testing::TestDb;
use serde_json::json;
use thirtyfour::prelude::*;

use crate::common::{PASSWORD, TestServer, client, submit_answers};
use crate::protection::setup;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rumbo_browser), ignore = "browser: install the Debian packages chromium and chromium-driver to run")]
async fn the_inbox_fills_live_and_a_case_opens_from_an_alert() {
    let Some(browser) = crate::common::browser("1280,1000", false).await else { return };
    let db = TestDb::new(Engine::Sqlite, "protection_browser").await.expect("SQLite is always there");
    let s = TestServer::with_fixture(db).await;
    let (form, _) = setup(&s).await;
    let fp = s.token("fp_col").await;
    let r = client()
        .post(s.url("/api/v1/flag-rules"))
        .bearer_auth(&fp)
        .json(&json!({ "form_id": form, "name": "child alone", "expression": "${age} < 18 and ${alone} = 'yes'",
            "severity": "critical", "route_country": "COL", "message_en": "Child travelling alone",
            "message_es": "Niño viajando solo", "message_pt": "Criança viajando sozinha" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let driver = browser.driver.clone();
    let result = drive(&driver, &s, form).await;
    driver.quit().await.ok();
    result.expect("the browser session");
}

async fn drive(driver: &WebDriver, s: &TestServer, form: i64) -> WebDriverResult<()> {
    driver.goto(s.url("/protection/alerts")).await?;
    driver.find(By::Id("username")).await?.send_keys("cw_col").await?;
    driver.find(By::Id("password")).await?.send_keys(PASSWORD).await?;
    driver.find(By::Id("sign-in")).await?.click().await?;
    driver.query(By::Id("alert-count")).first().await?;
    assert!(driver.find_all(By::Css("#alerts tbody tr")).await?.is_empty(), "no alert yet");
    // Give the page's event stream a moment to connect, then a child alone arrives.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let enumerator = s.token("enumerator").await;
    submit_answers(
        s,
        &enumerator,
        form,
        json!({ "site": "COL-FMP-101", "age": 14, "alone": "yes",
        "meta": { "instanceID": "uuid:browser-1" } }),
    )
    .await;
    let row = driver
        .query(By::Css("#alerts tbody tr"))
        .wait(Duration::from_secs(15), Duration::from_millis(200))
        .first()
        .await?;
    assert!(row.text().await?.contains("Child travelling alone"), "the alert appears without a reload");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts");
    std::fs::create_dir_all(&dir).ok();
    std::fs::write(dir.join("alerts-inbox.png"), driver.screenshot_as_png().await?).expect("save the screenshot");

    // Open a case from it.
    row.find(By::Css("a.button")).await?.click().await?;
    driver.find(By::Css("input[name='given_name']")).await?.send_keys("Wilmer").await?;
    driver.find(By::Css("input[name='family_name']")).await?.send_keys("Guevara Pacheco").await?;
    driver.find(By::Css("input[name='vulnerabilities'][value='uasc']")).await?.click().await?;
    driver.find(By::Css("#case-form button[type='submit']")).await?.click().await?;
    let code = driver.query(By::Id("case-code")).first().await?.text().await?;
    assert!(code.starts_with("COL-"), "{code}");
    let identity = driver.find(By::Id("identity")).await?.text().await?;
    assert!(identity.contains("Guevara Pacheco"), "{identity}");
    std::fs::write(dir.join("case-file.png"), driver.screenshot_as_png().await?).expect("save the screenshot");
    // The alert is now closed by the case.
    driver.goto(s.url("/protection/alerts?status=case_opened")).await?;
    let rows = driver.find_all(By::Css("#alerts tbody tr")).await?;
    assert_eq!(rows.len(), 1);
    Ok(())
}
