//! The 5W upload page in headless Chromium: a partner uploads a filled template, the
//! progress bar moves up to the end and the result is shown in place; then an IM officer
//! approves a row in the review queue. Screenshots go to `test-artifacts/response-*.png`
//! (upload, reports, entry, review).

use std::time::Duration;

use rumbo_store::Engine;
use rumbo_store::testing::TestDb;
use thirtyfour::prelude::*;

use crate::common::{PASSWORD, TestServer};
use crate::response_pages::{good_row, report_file, setup, with_month};

/// Rows in the uploaded workbook: enough for the server to report checking them.
const ROWS: usize = 3_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rumbo_browser), ignore = "browser: install the Debian packages chromium and chromium-driver to run")]
async fn a_template_uploads_with_a_progress_bar_and_a_row_is_approved() {
    let Some(browser) = crate::common::browser("1280,1000", false).await else { return };
    let db = TestDb::new(Engine::Sqlite, "response_browser").await.expect("SQLite is always there");
    let s = TestServer::with_fixture(db).await;
    let f = setup(&s).await;
    let month: &'static str = Box::leak(chrono::Utc::now().format("%Y-%m").to_string().into_boxed_str());
    let rows: Vec<[&str; 16]> =
        (0..ROWS).map(|i| with_month(good_row(if i % 2 == 0 { "2" } else { "3" }), month)).collect();
    let file = tempfile::Builder::new().suffix(".xlsx").tempfile().unwrap();
    std::fs::write(file.path(), report_file(f.year, f.org_a, "Acción Norte", &rows)).unwrap();
    let driver = browser.driver.clone();
    let result = drive(&driver, &s, file.path()).await;
    driver.quit().await.ok();
    result.expect("the browser session");
}

async fn sign_in(driver: &WebDriver, user: &str) -> WebDriverResult<()> {
    driver.find(By::Id("username")).await?.send_keys(user).await?;
    driver.find(By::Id("password")).await?.send_keys(PASSWORD).await?;
    driver.find(By::Id("sign-in")).await?.click().await
}

async fn drive(driver: &WebDriver, s: &TestServer, file: &std::path::Path) -> WebDriverResult<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts");
    std::fs::create_dir_all(&dir).ok();
    driver.goto(s.url("/response/upload")).await?;
    sign_in(driver, "partner_a").await?;
    driver.query(By::Id("upload-form")).first().await?;
    assert!(driver.find(By::Id("upload-progress")).await?.attr("hidden").await?.is_some(), "no bar before an upload");
    driver.find(By::Id("upload-file")).await?.send_keys(file.display().to_string()).await?;
    driver.find(By::Id("upload-send")).await?.click().await?;
    let stored =
        driver.query(By::Id("upload-stored")).wait(Duration::from_mins(1), Duration::from_millis(100)).first().await?;
    assert!(stored.text().await?.contains(&ROWS.to_string()), "{}", stored.text().await?);
    // The page stayed where it was: the result came in place.
    assert!(driver.current_url().await?.as_str().ends_with("/response/upload"));
    let bar = driver.find(By::Id("upload-bar")).await?;
    assert_eq!(bar.prop("value").await?.as_deref(), Some("100"));
    let trail: Vec<u32> =
        bar.attr("data-trail").await?.unwrap_or_default().split(',').filter_map(|v| v.parse().ok()).collect();
    eprintln!("progress bar values: {trail:?}");
    assert!(trail.len() >= 3, "the bar moved in steps: {trail:?}");
    assert!(trail.windows(2).all(|w| w[0] < w[1]), "and only forward: {trail:?}");
    assert_eq!(trail.last(), Some(&100));
    assert!(driver.find(By::Id("upload-phase")).await?.text().await?.contains("Done"));
    // The upload is listed under the earlier ones.
    let past = driver.find_all(By::Css("#past-table tbody tr")).await?;
    assert_eq!(past.len(), 1);
    std::fs::write(dir.join("response-upload.png"), driver.screenshot_as_png().await?).expect("save the screenshot");
    // The rows of this upload, paged.
    driver.find(By::Id("see-rows")).await?.click().await?;
    let count = driver.query(By::Id("row-count")).first().await?.text().await?;
    assert!(count.contains(&format!("of {ROWS}")), "{count}");
    assert_eq!(driver.find_all(By::Css("#report-rows tbody tr")).await?.len(), 100);
    std::fs::write(dir.join("response-reports.png"), driver.screenshot_as_png().await?).expect("save the screenshot");
    driver.goto(s.url("/response/reports/new")).await?;
    std::fs::write(dir.join("response-entry.png"), driver.screenshot_as_png().await?).expect("save the screenshot");

    // The reviewer approves the first row of her queue.
    driver.find(By::Id("sign-out")).await?.click().await?;
    // Signed out (the script first clears the offline forms, then posts): the sign-in page.
    driver.query(By::Id("username")).wait(Duration::from_secs(15), Duration::from_millis(100)).first().await?;
    driver.goto(s.url("/response/review")).await?;
    sign_in(driver, "im_col").await?;
    let first = driver.query(By::Css("#review-rows tbody tr input[name='ids']")).first().await?;
    assert!(driver.find(By::Id("pick-all")).await?.is_displayed().await?, "the script offers to tick every row");
    first.click().await?;
    driver.find(By::Id("approve")).await?.click().await?;
    let done =
        driver.query(By::Id("review-done")).wait(Duration::from_secs(15), Duration::from_millis(100)).first().await?;
    assert!(done.text().await?.ends_with(" 1"), "{}", done.text().await?);
    let count = driver.find(By::Id("queue-count")).await?.text().await?;
    assert!(count.contains(&(ROWS - 1).to_string()), "{count}");
    std::fs::write(dir.join("response-review.png"), driver.screenshot_as_png().await?).expect("save the screenshot");
    Ok(())
}
