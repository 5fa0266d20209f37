//! Situation reports, on both engines: the PDF downloaded through HTTP is turned into PNG
//! pages with `pdftoppm` and its text (`pdftotext`) holds the key figures as the aggregates
//! API gives them, written the reader's way; the HTML page and the API say the same; bad
//! questions are refused naming the field; strangers are sent to sign in; scopes hold.
//!
//! Without poppler-utils the PDF is only checked to be one; with
//! `RUMBO_REQUIRE_PDF_TOOLS=1` (as in CI) the missing tools fail the test.

use std::process::Command;

use chrono::{Days, Utc};
use rumbo_charts::{Format, Locale};
use serde_json::{Value, json};

use crate::common::{TestServer, client, publish_form, submit_answers};

const REGISTRY: &str = "| survey |\n\
    | | type | name | label | required |\n\
    | | select_one sites | site | Point | yes |\n\
    | | integer | f_adult | Women 18-59 | yes |\n\
    | | integer | m_adult | Men 18-59 | yes |\n\
    | choices |\n\
    | | list_name | name | label |\n\
    | | sites | PER-FMP-001 | Plaza Norte |\n\
    | settings |\n\
    | | form_id | version |\n\
    | | rep_registry | 1 |\n";

const SURVEY: &str = "| survey |\n\
    | | type | name | label | required | calculation |\n\
    | | select_one sites | site | Point | yes | |\n\
    | | select_one sex | sex | Sex | yes | |\n\
    | | integer | age | Age | yes | |\n\
    | | calculate | age_group | | | if(${age} < 60, '18-59', '60+') |\n\
    | | select_multiple need | needs | Needs | | |\n\
    | | select_one yn | incident | Incident on the way | | |\n\
    | choices |\n\
    | | list_name | name | label | |\n\
    | | sites | PER-FMP-001 | Plaza Norte | |\n\
    | | sex | female | Woman | |\n\
    | | sex | male | Man | |\n\
    | | need | food | Food | |\n\
    | | need | water | Water | |\n\
    | | yn | yes | Yes | |\n\
    | | yn | no | No | |\n\
    | settings |\n\
    | | form_id | version | |\n\
    | | rep_survey | 1 | |\n";

/// Names with characters Typst and HTML would read as markup: they must print as text.
const INDICATORS: &str = r#"
[[indicator]]
id = "rep_people"
form = "rep_registry"
kind = "sum"
name = { en = "People counted [#1] <b>", es = "Personas contadas [#1] <b>", pt = "Pessoas contadas [#1] <b>" }
cells = [
  { sex = "female", age_group = "18-59", value = "${f_adult}" },
  { sex = "male", age_group = "18-59", value = "${m_adult}" },
]
disaggregations = ["round", "country", "adm1", "site", "sex", "age_group"]
section = "flows"
headline = true

[[indicator]]
id = "rep_interviews"
form = "rep_survey"
kind = "count"
name = { en = "Interviews $x$", es = "Entrevistas $x$", pt = "Entrevistas $x$" }
disaggregations = ["round", "country", "adm1", "site", "sex", "age_group"]
section = "survey"
headline = true

[[indicator]]
id = "rep_food"
form = "rep_survey"
kind = "proportion"
name = { en = "Needs food \\ water", es = "Necesita alimentos \\ agua", pt = "Precisa de alimentos \\ água" }
numerator = "selected(${needs}, 'food')"
disaggregations = ["round", "country", "adm1", "site", "sex", "age_group"]
weight_by = "rep_people"
section = "needs"
headline = true

[[indicator]]
id = "rep_incident"
form = "rep_survey"
kind = "proportion"
name = { en = "Secret incident share", es = "Secret incident share", pt = "Secret incident share" }
numerator = "${incident} = 'yes'"
disaggregations = ["round", "country", "sex"]
sensitivity = "restricted"
section = "protection"
headline = true
"#;

async fn publish(s: &TestServer, token: &str, name: &str, form: &str) -> i64 {
    publish_form(s, token, name, form.as_bytes(), "PER").await
}

async fn submit(s: &TestServer, token: &str, form: i64, data: Value) {
    submit_answers(s, token, form, data).await;
}

async fn get_json(s: &TestServer, token: &str, path: &str) -> Value {
    let r = client().get(s.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

/// A round of Peru around today (submissions are placed in rounds by the day they are
/// collected), its id.
async fn round_now(s: &TestServer, token: &str) -> i64 {
    let today = Utc::now().date_naive();
    let r = client()
        .post(s.url("/api/v1/rounds"))
        .bearer_auth(token)
        .json(&json!({
            "country_code": "PER", "name": "Ronda Única – Test",
            "starts_on": today.checked_sub_days(Days::new(20)).unwrap(),
            "ends_on": today.checked_add_days(Days::new(20)).unwrap(),
            "status": "open",
        }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// Text with every kind of space taken out, so "63,4 %" matches whatever space a PDF keeps.
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}').collect()
}

/// Whether poppler's tools are here; without them the test says it skips that part, unless
/// `RUMBO_REQUIRE_PDF_TOOLS=1`.
fn pdf_tools() -> bool {
    let found = ["pdftoppm", "pdftotext"]
        .iter()
        .all(|tool| Command::new(tool).arg("-v").output().is_ok_and(|o| o.status.success() || !o.stderr.is_empty()));
    if !found {
        let required = std::env::var("RUMBO_REQUIRE_PDF_TOOLS").is_ok_and(|v| v == "1");
        assert!(!required, "RUMBO_REQUIRE_PDF_TOOLS=1 but pdftoppm or pdftotext (poppler-utils) is not installed");
        eprintln!("SKIPPED the PDF pages and text checks: install poppler-utils (pdftoppm, pdftotext) to run them");
    }
    found
}

/// The PDF as PNG pages (how many) and as text.
fn pages_and_text(pdf: &[u8]) -> (usize, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftoppm")
        .arg("-png")
        .arg("-r")
        .arg("40")
        .arg(&file)
        .arg(dir.path().join("page"))
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let pages = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .filter(|e| e.metadata().is_ok_and(|m| m.len() > 1000))
        .count();
    let out = Command::new("pdftotext").arg("-enc").arg("UTF-8").arg(&file).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    (pages, String::from_utf8(out.stdout).unwrap())
}

/// The headline figures as the aggregates API gives them, written as `lang` writes them.
async fn key_figures(s: &TestServer, token: &str, round: i64, lang: &str) -> Vec<(String, String)> {
    let locale = Locale::for_lang(lang);
    let mut figures = Vec::new();
    for (indicator, format) in
        [("rep_people", Format::Count), ("rep_interviews", Format::Count), ("rep_food", Format::Percent)]
    {
        let answer =
            get_json(s, token, &format!("/api/v1/aggregates?indicator={indicator}&country=PER&round={round}")).await;
        let value = answer["total"]["value"].as_f64().unwrap_or_else(|| panic!("{indicator} has a value: {answer}"));
        figures.push((indicator.to_owned(), locale.format(value, format)));
    }
    figures
}

crate::server_tests! {
    async fn a_situation_report_holds_the_public_key_figures_as_pdf_and_html(s: TestServer) {
        let admin = s.token("admin").await;
        let round = round_now(&s, &admin).await;
        let registry = publish(&s, &admin, "rep_registry.md", REGISTRY).await;
        let survey = publish(&s, &admin, "rep_survey.md", SURVEY).await;
        // 3 000 women and 7 400 men counted; 12 women (8 need food) and 12 men (3 do)
        // interviewed.
        for (i, (f, m)) in [(1000, 2000), (2000, 5400)].into_iter().enumerate() {
            submit(&s, &admin, registry, json!({
                "site": "PER-FMP-001", "f_adult": f, "m_adult": m, "meta": { "instanceID": format!("uuid:rep-reg-{i}") },
            })).await;
        }
        for (sex, food) in [("female", 8), ("male", 3)] {
            for i in 0..12 {
                submit(&s, &admin, survey, json!({
                    "site": "PER-FMP-001", "sex": sex, "age": 25 + i, "needs": if i < food { "food water" } else { "water" },
                    "incident": "yes", "meta": { "instanceID": format!("uuid:rep-svy-{sex}-{i}") },
                })).await;
            }
        }
        let r = client().post(s.url("/api/v1/indicators/import")).bearer_auth(&admin).body(INDICATORS).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

        // The PDF, downloaded from the page's button by a signed-in reader.
        let (browser, _) = s.signed_in("viewer").await;
        let page = browser.get(s.url("/reports")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"report-pdf\"") && page.contains("Ronda Única – Test"), "{page}");
        assert!(page.contains("href=\"/reports\""), "the navigation leads to the reports");
        let r = browser
            .get(s.url(&format!("/reports/report.pdf?country=PER&round={round}&lang=es")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert_eq!(disposition, "attachment; filename=\"sitrep-PER-ronda-unica-test-es.pdf\"");
        let pdf = r.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "a PDF");
        if pdf_tools() {
            let (pages, text) = pages_and_text(&pdf);
            assert!(pages >= 1, "pdftoppm made {pages} pages");
            let flat = squeeze(&text);
            for (indicator, value) in key_figures(&s, &admin, round, "es").await {
                assert!(flat.contains(&squeeze(&value)), "{indicator} = {value} is in the PDF:\n{text}");
            }
            assert!(flat.contains("10.400"), "Spanish groups thousands with a point:\n{text}");
            assert!(text.contains("Informe de situación") && text.contains("Ronda Única – Test"), "{text}");
            assert!(flat.contains(&squeeze("Personas contadas [#1] <b>")), "markup in names prints as text:\n{text}");
            assert!(flat.contains(&squeeze("Necesita alimentos \\ agua")), "{text}");
            assert!(!text.contains("Secret incident"), "restricted indicators stay out of reports:\n{text}");
            // The sources: 24 interviews; two registry records, a small number said as such.
            assert!(flat.contains("Registroscontadosenlaronda") && flat.contains("rep_survey:24"), "{text}");
            assert!(flat.contains("rep_registry:menosde5"), "{text}");
        }
        // The same report in English, as a page of the site.
        let html = browser
            .get(s.url("/reports/view?country=PER&round=Ronda%20%C3%9Anica%20%E2%80%93%20Test&lang=en"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for (indicator, value) in key_figures(&s, &admin, round, "en").await {
            assert!(html.contains(&value), "{indicator} = {value} is on the page");
        }
        assert!(html.contains("10,400") && html.contains("<svg") && html.contains("Situation report"), "{html}");
        assert!(html.contains("People counted [#1] &lt;b&gt;") && !html.contains("People counted [#1] <b>"));
        assert!(!html.contains("Secret incident"));
        assert!(html.contains("href=\"/static/report.css\"") && html.contains("/reports/report.pdf?country=PER"));
        let css = browser.get(s.url("/static/report.css")).send().await.unwrap();
        assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");

        // The API, in Portuguese: a self-contained page, and the PDF.
        let viewer = s.token("viewer").await;
        let r = client()
            .get(s.url(&format!("/api/v1/reports?country=per&round={round}&lang=pt&format=html")))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let page = r.text().await.unwrap();
        assert!(page.starts_with("<!doctype html>") && page.contains("<style>") && page.contains("10.400"));
        assert!(page.contains("Relatório de situação"));
        let r = client().get(s.url(&format!("/api/v1/reports?country=PER&round={round}"))).bearer_auth(&viewer).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
        // The regional report takes the round of that name in every country.
        let r = client().get(s.url("/api/v1/reports?round=Ronda%20%C3%9Anica%20%E2%80%93%20Test&lang=en&format=html")).bearer_auth(&viewer).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let region = r.text().await.unwrap();
        assert!(region.contains("Situation report: Region") && region.contains("10,400"), "{region}");

        // Downloads are exports: in the audit log.
        let audit = get_json(&s, &admin, "/api/v1/audit?entity=report").await;
        assert_eq!(audit[0]["action"], "export", "{audit}");
        assert!(audit.as_array().unwrap().iter().any(|l| l["country_code"] == "PER" && l["actor"] == "viewer"), "{audit}");

        // Bad questions: 4xx, the field named.
        let other = {
            let r = client()
                .post(s.url("/api/v1/rounds"))
                .bearer_auth(&admin)
                .json(&json!({ "country_code": "COL", "name": "Ronda Colombia", "starts_on": "2025-01-01", "ends_on": "2025-02-01", "status": "closed" }))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
        };
        for (query, field) in [
            (format!("country=XYZ&round={round}"), "country"),
            ("country=PER&round=999999".to_owned(), "round"),
            ("country=PER&round=Ronda%20Nunca".to_owned(), "round"),
            (format!("country=PER&round={other}"), "round"),
            ("country=PER".to_owned(), "round"),
            (format!("country=PER&round={round}&lang=fr"), "lang"),
            (format!("country=PER&round={round}&format=docx"), "format"),
        ] {
            let r = client().get(s.url(&format!("/api/v1/reports?{query}"))).bearer_auth(&viewer).send().await.unwrap();
            assert_eq!(r.status(), 422, "{query}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["field"], field, "{query}: {body}");
        }
        let r = browser.get(s.url("/reports/report.pdf?country=PER&round=Ronda%20Nunca")).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("no round named"));

        // Strangers sign in first; scoped readers keep to their countries.
        let r = client().get(s.url(&format!("/reports/report.pdf?country=PER&round={round}"))).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next="));
        let r = client().get(s.url("/reports")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let r = client().get(s.url(&format!("/api/v1/reports?country=PER&round={round}"))).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let im = s.token("im_col").await;
        let r = client().get(s.url(&format!("/api/v1/reports?country=PER&round={round}"))).bearer_auth(&im).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = client().get(s.url("/api/v1/reports?round=Ronda%20Colombia")).bearer_auth(&im).send().await.unwrap();
        assert_eq!(r.status(), 403, "the regional report needs every country");
        let r = client().get(s.url("/api/v1/reports?country=COL&round=Ronda%20Colombia&format=html")).bearer_auth(&im).send().await.unwrap();
        assert_eq!(r.status(), 200, "their own country, even with no figures yet");
        assert!(r.text().await.unwrap().contains("No figures yet"));
    }
}
