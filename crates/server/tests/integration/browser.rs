//! A browser test in headless Chromium: sign in, switch the language, open the map, and
//! check that the SVG holds one path per admin-1 area. A screenshot of the map is saved to
//! `test-artifacts/map-colombia.png`.
//!
//! It needs `chromedriver` and `chromium` (Debian packages `chromium-driver`, `chromium`).
//! Without them it says it is skipped; with `RUMBO_REQUIRE_BROWSER=1` (as in CI) it fails.

use rumbo_domain::demo;
use rumbo_store::Engine;
use rumbo_store::testing::TestDb;
use thirtyfour::prelude::*;

use crate::common::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rumbo_browser), ignore = "browser: install the Debian packages chromium and chromium-driver to run")]
async fn sign_in_switch_language_and_draw_the_map() {
    let Some(browser) = crate::common::browser("1280,1000", false).await else { return };

    let db = TestDb::new(Engine::Sqlite, "browser").await.expect("SQLite is always there");
    demo::seed(&db.store, "browser-test-1").await.expect("demo data");
    let expected_areas = db.area_shapes("COL", 1).await.unwrap().len();
    let server = TestServer::start(db).await;

    let driver = browser.driver;
    let result = drive(&driver, &server, expected_areas).await;
    driver.quit().await.ok();
    result.unwrap();
}

async fn drive(driver: &WebDriver, server: &TestServer, expected_areas: usize) -> WebDriverResult<()> {
    driver.goto(server.url("/map?country=COL")).await?;
    assert!(driver.current_url().await?.as_str().contains("/login"), "the map needs a sign-in");
    driver.find(By::Id("username")).await?.send_keys("im_officer").await?;
    driver.find(By::Id("password")).await?.send_keys("browser-test-1").await?;
    driver.find(By::Id("sign-in")).await?.click().await?;
    driver.query(By::Css("svg#map")).first().await?;
    assert!(driver.current_url().await?.as_str().ends_with("/map?country=COL"), "back where the user was going");

    driver.find(By::Css("#lang-picker a[data-lang='es']")).await?.click().await?;
    driver.query(By::Css("html[lang='es'] svg#map")).first().await?;
    let heading = driver.find(By::Tag("h1")).await?.text().await?;
    assert!(heading.contains("Mapa") && heading.contains("Colombia"), "{heading}");
    assert_eq!(driver.find(By::Tag("html")).await?.attr("lang").await?.as_deref(), Some("es"));

    let paths = driver.find_all(By::Css("svg#map path.area")).await?;
    assert_eq!(paths.len(), expected_areas, "one path per admin-1 area of Colombia");
    assert!(expected_areas >= 32, "Colombia has its departments ({expected_areas})");
    let sites = driver.find_all(By::Css("svg#map circle.site")).await?;
    assert!(sites.len() >= 10, "Colombia's flow-monitoring points are drawn ({})", sites.len());
    let title = sites[0].find(By::Tag("title")).await?.inner_html().await?;
    assert!(!title.is_empty(), "every point is named on hover");

    let png = driver.find(By::Css("figure.map-frame")).await?.screenshot_as_png().await?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts");
    std::fs::create_dir_all(&dir).ok();
    std::fs::write(dir.join("map-colombia.png"), &png).expect("save the screenshot");
    let page = driver.screenshot_as_png().await?;
    std::fs::write(dir.join("map-page.png"), &page).expect("save the screenshot");
    assert!(png.len() > 10_000, "the screenshot shows a drawn map");
    Ok(())
}
