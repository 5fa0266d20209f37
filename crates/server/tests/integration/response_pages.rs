//! The 5W pages on both engines, driven as a browser would (session cookie, CSRF field):
//! the report rows and their CSV (a partner sees her organisation's only), the entry form,
//! the upload with its progress endpoint, and the review queue.

use chrono::Datelike;
use reqwest::StatusCode;
use rumbo_store::model::{Actor, Role};
use rumbo_store::response::{PlanIndicator, PlanInput, PlanSector};
use serde_json::{Value, json};

use crate::common::{TestServer, client, multipart};

pub struct Fixture {
    pub year: i32,
    pub org_a: i64,
    pub org_b: i64,
}

fn this_year() -> i32 {
    chrono::Utc::now().year()
}

fn current_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

/// Two organisations, their partner reporters (`partner_a`, `partner_b`, Colombia and
/// Peru), an IM officer of Peru, and a plan running from January of last year to December
/// of this year with two indicators.
pub async fn setup(s: &TestServer) -> Fixture {
    let actor = Actor::system("test");
    let orgs = crate::common::partners(
        &s.db,
        &[
            ("partner_a", Role::PartnerReporter, Some(0), &["COL", "PER"]),
            ("partner_b", Role::PartnerReporter, Some(1), &["COL", "PER"]),
            ("im_per", Role::ImOfficer, None, &["PER"]),
        ],
    )
    .await;
    let year = this_year();
    let sector = |code: &str, name: &str| PlanSector {
        code: code.into(),
        parent_code: None,
        name_en: name.into(),
        name_es: name.into(),
        name_pt: name.into(),
    };
    let indicator = |code: &str, sector: &str, name: &str, people: bool| PlanIndicator {
        code: code.into(),
        sector_code: sector.into(),
        name_en: name.into(),
        name_es: name.into(),
        name_pt: name.into(),
        unit: if people { "people".into() } else { "kits".into() },
        counts_people: people,
    };
    s.db.save_response_plan(
        &actor,
        &PlanInput {
            year,
            name: format!("RMRP {year}"),
            period_start: chrono::NaiveDate::from_ymd_opt(year - 1, 1, 1).unwrap(),
            period_end: chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
            deadline_day: 10,
            sectors: vec![sector("EDU", "Education"), sector("SHE", "Shelter")],
            indicators: vec![
                indicator("EDU-1", "EDU", "Children in education", true),
                indicator("SHE-KITS", "SHE", "Shelter kits", false),
            ],
            targets: Vec::new(),
        },
    )
    .await
    .unwrap();
    Fixture { year, org_a: orgs[0], org_b: orgs[1] }
}

/// A JSON report row: indicator, country, admin 1, month and the five figures.
fn row(country: &str, admin1: &str, month: &str, figures: [i64; 5]) -> Value {
    json!({ "indicator": "EDU-1", "country": country, "admin1_pcode": admin1, "month": month,
        "population_type": "in_destination", "girls": figures[0], "boys": figures[1], "women": figures[2],
        "men": figures[3], "other": figures[4], "new_or_recurring": "new" })
}

/// Stores rows through the JSON API as `user` (for `appealing`, when given); their ids.
async fn enter(s: &TestServer, user: &str, year: i32, appealing: Option<i64>, rows: Vec<Value>) -> Vec<i64> {
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|mut r| {
            if let Some(a) = appealing {
                r["appealing_organisation_id"] = json!(a);
            }
            r
        })
        .collect();
    let r = client()
        .post(s.url("/api/v1/response/reports"))
        .bearer_auth(s.token(user).await)
        .json(&json!({ "year": year, "rows": rows }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["ids"].as_array().unwrap().iter().map(|i| i.as_i64().unwrap()).collect()
}

/// A row as the API shows it to the admin.
async fn stored(s: &TestServer, year: i32, id: i64) -> Option<Value> {
    let list: Value = client()
        .get(s.url(&format!("/api/v1/response/reports?year={year}&limit=5000")))
        .bearer_auth(s.token("admin").await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["items"].as_array().unwrap().iter().find(|r| r["id"] == id).cloned()
}

async fn total(s: &TestServer, year: i32) -> i64 {
    let list: Value = client()
        .get(s.url(&format!("/api/v1/response/reports?year={year}")))
        .bearer_auth(s.token("admin").await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["total"].as_i64().unwrap()
}

async fn page(c: &reqwest::Client, s: &TestServer, path: &str) -> (StatusCode, String) {
    let r = c.get(s.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post_form(c: &reqwest::Client, s: &TestServer, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(s.url(path)).form(form).send().await.unwrap()
}

/// The part of a page from `from` up to the next `until` (or the end).
fn section<'a>(html: &'a str, from: &str, until: &str) -> &'a str {
    let start = html.find(from).unwrap_or_else(|| panic!("{from} is not on the page"));
    let rest = &html[start + from.len()..];
    &html[start..start + from.len() + rest.find(until).unwrap_or(rest.len())]
}

/// Writes a filled activity report template (sheets `reports` and `rumbo`).
pub fn report_file(year: i32, org: i64, org_name: &str, rows: &[[&str; 16]]) -> Vec<u8> {
    let header = rumbo_server::response::reports::COLUMNS;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("reports").unwrap();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, u16::try_from(c).unwrap(), *h).unwrap();
    }
    for (r, cells) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap();
        for (c, v) in cells.iter().enumerate() {
            let c = u16::try_from(c).unwrap();
            if v.is_empty() {
                continue;
            }
            match v.parse::<f64>() {
                Ok(n) if (7..=12).contains(&c) || c == 15 => sheet.write_number(r, c, n).unwrap(),
                _ => sheet.write_string(r, c, *v).unwrap(),
            };
        }
    }
    let meta = book.add_worksheet().set_name("rumbo").unwrap();
    for (r, (k, v)) in [
        ("kind", "activity_reports".to_string()),
        ("plan_year", year.to_string()),
        ("organisation_id", org.to_string()),
        ("organisation", org_name.to_string()),
    ]
    .iter()
    .enumerate()
    {
        let r = u32::try_from(r).unwrap();
        meta.write_string(r, 0, *k).unwrap();
        meta.write_string(r, 1, v).unwrap();
    }
    meta.set_hidden(true);
    book.save_to_buffer().unwrap()
}

/// A good template row in Colombia this month.
pub fn good_row(girls: &'static str) -> [&'static str; 16] {
    ["", "", "EDU-1", "COL", "CO-NSA", "", "in_destination", girls, "1", "1", "1", "0", "", "new", "in_kind", ""]
}

/// A template row with this month filled in.
pub fn with_month(mut r: [&'static str; 16], month: &'static str) -> [&'static str; 16] {
    r[5] = month;
    r
}

crate::server_tests! {
    async fn a_partner_sees_only_her_organisations_rows_in_the_table_and_the_csv(s: TestServer) {
        let f = setup(&s).await;
        let last = format!("{}-03", f.year - 1);
        let mine = enter(&s, "partner_a", f.year, None, vec![row("COL", "CO-NSA", &last, [1, 2, 3, 4, 0]), row("PER", "PE-LIM", &current_month(), [5, 5, 5, 5, 0])]).await;
        let theirs = enter(&s, "partner_b", f.year, None, vec![row("COL", "CO-NSA", &current_month(), [9, 9, 9, 9, 9])]).await;
        let (c, csrf) = s.signed_in("partner_a").await;

        let (status, html) = page(&c, &s, &format!("/response/reports?year={}", f.year)).await;
        assert_eq!(status, 200);
        assert!(html.contains("nav class=\"tabs\""), "the 5W tabs are shown");
        assert_eq!(html.matches("<tr id=\"row-").count(), 2, "her two rows only");
        for id in &mine {
            assert!(html.contains(&format!("id=\"row-{id}\"")));
        }
        assert!(!html.contains(&format!("id=\"row-{}\"", theirs[0])));
        assert!(!html.contains("Bienestar Sur"), "no trace of the other organisation");
        // The late row carries its flag, and the legend says what it means.
        assert!(section(&html, &format!("id=\"row-{}\"", mine[0]), "</tr>").contains("flag-late"));
        assert!(html.contains("Stored after the reporting deadline"));
        // In Spanish too.
        let r = c.get(s.url(&format!("/response/reports?year={}", f.year))).header("accept-language", "es").send().await.unwrap();
        assert!(r.text().await.unwrap().contains("Reportes de actividades"));

        // The CSV holds the same rows, under a header and an HXL hashtag row.
        let r = c.get(s.url(&format!("/response/reports?year={}&format=csv", f.year))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let body = r.text().await.unwrap();
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 4, "{body}");
        assert!(lines[0].starts_with("id,plan_year,appealing_organisation,implementing_organisation,sector,indicator"));
        assert!(lines[1].starts_with("#meta+id,"));
        for tag in ["#org+appealing", "#org+implementing", "#sector", "#indicator+code", "#country+code", "#adm1+code",
            "#date+month", "#population+type", "#reached+f+children", "#reached+m+children", "#reached+f+adults",
            "#reached+m+adults", "#reached+other", "#reached+total"] {
            assert!(lines[1].split(',').any(|c| c == tag), "{tag} missing from {}", lines[1]);
        }
        assert!(lines[2..].iter().all(|l| l.contains("Acción Norte")), "{body}");

        // Another organisation's row cannot be opened, changed or deleted: it is not there.
        let (status, _) = page(&c, &s, &format!("/response/reports/{}/edit", theirs[0])).await;
        assert_eq!(status, 404);
        let r = post_form(&c, &s, &format!("/response/reports/{}/delete", theirs[0]), &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), 404);
        let r = post_form(&c, &s, &format!("/response/reports/{}/edit", theirs[0]), &[("csrf", &csrf), ("girls", "x")]).await;
        assert_eq!(r.status(), 404);
        assert!(stored(&s, f.year, theirs[0]).await.is_some());
        // Her own row opens, filled with its values; deleting it works.
        let (status, html) = page(&c, &s, &format!("/response/reports/{}/edit", mine[1])).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"PE-LIM\" selected"), "{html}");
        let r = post_form(&c, &s, &format!("/response/reports/{}/delete", mine[1]), &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), 303);
        assert!(stored(&s, f.year, mine[1]).await.is_none());
        // Without the CSRF field nothing is deleted.
        let r = post_form(&c, &s, &format!("/response/reports/{}/delete", mine[0]), &[]).await;
        assert_eq!(r.status(), 403);
        assert!(stored(&s, f.year, mine[0]).await.is_some());
        // A viewer does not read report rows.
        let (v, _) = s.signed_in("viewer").await;
        assert_eq!(page(&v, &s, "/response/reports").await.0, 403);
    }

    async fn the_entry_form_names_the_field_keeps_the_values_and_stores_nothing_on_error(s: TestServer) {
        let f = setup(&s).await;
        let (c, csrf) = s.signed_in("partner_a").await;
        let (status, html) = page(&c, &s, "/response/reports/new").await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"fixed-organisation\">Acción Norte<"), "a partner reports for her organisation");
        assert!(html.contains("name=\"indicator\""));
        let year = f.year.to_string();
        let month = current_month();
        let form = |boys: &'static str, total: &'static str| -> Vec<(&'static str, String)> {
            vec![("csrf", csrf.clone()), ("year", year.clone()), ("indicator", "EDU-1".into()), ("country", "COL".into()),
                ("admin1_pcode", "CO-NSA".into()), ("month", month.clone()), ("population_type", "in_destination".into()),
                ("girls", "3".into()), ("boys", boys.into()), ("women", String::new()), ("men", String::new()), ("other", String::new()),
                ("total", total.into()), ("new_or_recurring", "new".into()), ("modality", "cash".into()),
                ("cash_value_usd", "12,5".into()), ("implementing_organisation_id", String::new())]
        };
        // A figure that is not a number: named beside its field, everything typed kept.
        let r = c.post(s.url("/response/reports/new")).form(&form("lots", "99")).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        let boys = section(&html, "id=\"field-boys\"", "id=\"field-");
        assert!(boys.contains("field invalid") || html.contains("class=\"field invalid\" id=\"field-boys\""), "{boys}");
        assert!(boys.contains("id=\"e-boys\""), "{boys}");
        assert!(boys.contains("lots"), "{boys}");
        assert!(boys.contains("value=\"lots\""), "{boys}");
        assert!(section(&html, "id=\"field-total\"", "id=\"field-").contains("value=\"99\""));
        assert!(section(&html, "id=\"field-cash_value_usd\"", "id=\"field-").contains("value=\"12,5\""));
        assert!(section(&html, "id=\"field-modality\"", "id=\"field-").contains("value=\"cash\" selected"));
        assert!(section(&html, "id=\"field-admin1_pcode\"", "id=\"field-").contains("value=\"CO-NSA\" selected"));
        assert_eq!(total(&s, f.year).await, 0, "nothing stored");
        // A total that does not add up: the checker's message, beside the total.
        let r = c.post(s.url("/response/reports/new")).form(&form("4", "99")).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        let total_field = section(&html, "id=\"field-total\"", "id=\"field-");
        assert!(total_field.contains("id=\"e-total\"") && total_field.contains("add up to 7"), "{total_field}");
        assert!(!section(&html, "id=\"field-boys\"", "id=\"field-").contains("e-boys"));
        assert_eq!(total(&s, f.year).await, 0, "nothing stored");
        // A country the partner does not cover is refused before the figures are read.
        let mut foreign = form("lots", "99");
        foreign[3].1 = "ECU".into();
        let r = c.post(s.url("/response/reports/new")).form(&foreign).send().await.unwrap();
        assert_eq!(r.status(), 403);
        // Without the CSRF field: refused.
        let mut no_csrf = form("4", "7");
        no_csrf.remove(0);
        assert_eq!(c.post(s.url("/response/reports/new")).form(&no_csrf).send().await.unwrap().status(), 403);
        assert_eq!(total(&s, f.year).await, 0);

        // Right: stored, flagged as the API would, and back to the list.
        let r = c.post(s.url("/response/reports/new")).form(&form("4", "7")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/response/reports?"));
        assert_eq!(total(&s, f.year).await, 1);
        let list: Value = client().get(s.url(&format!("/api/v1/response/reports?year={}", f.year)))
            .bearer_auth(s.token("admin").await).send().await.unwrap().json().await.unwrap();
        let id = list["items"][0]["id"].as_i64().unwrap();
        assert_eq!(list["items"][0]["appealing_org_id"], f.org_a);
        assert_eq!(list["items"][0]["total"], 7);
        assert_eq!(list["items"][0]["cash_value_usd"], 12.5);
        // The same row again is a duplicate of it.
        let r = c.post(s.url("/response/reports/new")).form(&form("4", "7")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let list: Value = client().get(s.url(&format!("/api/v1/response/reports?year={}&flagged=true", f.year)))
            .bearer_auth(s.token("admin").await).send().await.unwrap().json().await.unwrap();
        assert_eq!(list["items"][0]["flag_duplicate"], true);

        // Changing it: errors beside the field again; then saved.
        let mut change = form("x", "7");
        change.retain(|(k, _)| *k != "year");
        let r = c.post(s.url(&format!("/response/reports/{id}/edit"))).form(&change).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(section(&r.text().await.unwrap(), "id=\"field-boys\"", "id=\"field-").contains("value=\"x\""));
        let change = form("5", "8");
        let r = c.post(s.url(&format!("/response/reports/{id}/edit"))).form(&change).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(stored(&s, f.year, id).await.unwrap()["total"], 8);

        // Once approved it can no longer be changed or deleted, and the page says so.
        let r = client().post(s.url("/api/v1/response/reports/review")).bearer_auth(s.token("im_col").await)
            .json(&json!({ "ids": [id], "action": "approve" })).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let (status, html) = page(&c, &s, &format!("/response/reports/{id}/edit")).await;
        assert_eq!(status, 409);
        assert!(html.contains("approved"), "{html}");
        let r = post_form(&c, &s, &format!("/response/reports/{id}/delete"), &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), 409);
        assert!(stored(&s, f.year, id).await.is_some());
        let (_, html) = page(&c, &s, &format!("/response/reports?year={}", f.year)).await;
        assert!(section(&html, &format!("id=\"row-{id}\""), "</tr>").contains("can no longer be changed"));
    }

    async fn the_csv_downloads_the_filtered_view_with_its_hxl_row(s: TestServer) {
        let f = setup(&s).await;
        enter(&s, "partner_a", f.year, None, vec![row("COL", "CO-NSA", &current_month(), [1, 1, 1, 1, 0]), row("PER", "PE-LIM", &current_month(), [2, 2, 2, 2, 0])]).await;
        enter(&s, "partner_b", f.year, None, vec![row("PER", "PE-LIM", &current_month(), [3, 3, 3, 3, 0])]).await;
        let (c, _) = s.signed_in("admin").await;
        let (status, html) = page(&c, &s, &format!("/response/reports?year={}&country=PER", f.year)).await;
        assert_eq!(status, 200);
        assert_eq!(html.matches("<tr id=\"row-").count(), 2);
        // The download link keeps the filters.
        let link = section(&html, "id=\"download-csv\"", ">");
        assert!(link.contains("country=PER") && link.contains("format=csv"), "{link}");
        let r = c.get(s.url(&format!("/response/reports?year={}&country=PER&format=csv", f.year))).send().await.unwrap();
        let body = r.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let header = reader.headers().unwrap().clone();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows[0].get(4), Some("#sector"));
        assert_eq!(rows[0].get(header.iter().position(|h| h == "girls").unwrap()), Some("#reached+f+children"));
        assert_eq!(rows.len(), 3, "the HXL row and two Peruvian rows: {body}");
        let country = header.iter().position(|h| h == "country").unwrap();
        assert!(rows[1..].iter().all(|r| r.get(country) == Some("PER")));
        let girls: Vec<&str> = rows[1..].iter().map(|r| r.get(header.iter().position(|h| h == "girls").unwrap()).unwrap()).collect();
        assert!(girls.contains(&"2") && girls.contains(&"3"), "{girls:?}");
        // Filtered further by organisation.
        let r = c.get(s.url(&format!("/response/reports?year={}&country=PER&organisation={}&format=csv", f.year, f.org_b))).send().await.unwrap();
        assert_eq!(r.text().await.unwrap().lines().count(), 3);
        // A filter that is not right is named, with a 4xx.
        let (status, html) = page(&c, &s, &format!("/response/reports?year={}&month_from=soon", f.year)).await;
        assert_eq!(status, 422);
        assert!(html.contains("month_from") && html.contains("soon"));
        let r = c.get(s.url(&format!("/response/reports?year={}&month_from=soon&format=csv", f.year))).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let (status, _) = page(&c, &s, "/response/reports?year=later").await;
        assert_eq!(status, 422);
        // A year without a plan says so.
        let (status, html) = page(&c, &s, "/response/reports?year=1999").await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"no-plan\""));
    }

    async fn the_review_queue_approves_and_returns_with_a_note(s: TestServer) {
        let f = setup(&s).await;
        let last = format!("{}-03", f.year - 1);
        let ids = enter(&s, "partner_a", f.year, None, vec![
            row("COL", "CO-NSA", &current_month(), [1, 1, 1, 1, 0]),
            row("COL", "CO-NSA", &last, [2, 2, 2, 2, 0]),
            row("COL", "", &current_month(), [3, 3, 3, 3, 0]),
        ]).await;
        let peru = enter(&s, "partner_a", f.year, None, vec![row("PER", "PE-LIM", &current_month(), [4, 4, 4, 4, 0])]).await;
        let (c, csrf) = s.signed_in("im_col").await;
        let (status, html) = page(&c, &s, "/response/review").await;
        assert_eq!(status, 200);
        assert!(html.contains("nav class=\"tabs\""));
        assert_eq!(html.matches("<tr id=\"review-").count(), 3, "Colombia's rows only");
        assert!(!html.contains(&format!("id=\"review-{}\"", peru[0])));
        // The late row comes first.
        let first = html.find("<tr id=\"review-").unwrap();
        assert_eq!(&html[first..first + format!("<tr id=\"review-{}\"", ids[1]).len()], format!("<tr id=\"review-{}\"", ids[1]));

        // Returning without a note: the error is shown, the ticks kept, nothing changed.
        let id0 = ids[0].to_string();
        let r = post_form(&c, &s, "/response/review", &[("csrf", &csrf), ("ids", &id0), ("action", "return"), ("note", " ")]).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(section(&html, "id=\"review-error\"", "</div>").contains("Say what to fix"), "{html}");
        assert!(section(&html, &format!("id=\"pick-{id0}\""), ">").contains("checked"));
        assert_eq!(stored(&s, f.year, ids[0]).await.unwrap()["status"], "submitted");
        // Nothing ticked.
        let r = post_form(&c, &s, "/response/review", &[("csrf", &csrf), ("action", "approve")]).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("Tick at least one row"));
        // With a note: returned, and the partner reads the note.
        let r = post_form(&c, &s, "/response/review", &[("csrf", &csrf), ("ids", &id0), ("action", "return"), ("note", "Fix the admin 1")]).await;
        assert_eq!(r.status(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.contains("reviewed=returned") && location.contains("changed=1"), "{location}");
        let (_, html) = page(&c, &s, &location).await;
        assert!(html.contains("id=\"review-done\""));
        let row0 = stored(&s, f.year, ids[0]).await.unwrap();
        assert_eq!(row0["status"], "returned");
        assert_eq!(row0["reviewer_note"], "Fix the admin 1");
        let (p, _) = s.signed_in("partner_a").await;
        let (_, html) = page(&p, &s, &format!("/response/reports?year={}", f.year)).await;
        assert!(section(&html, &format!("id=\"row-{id0}\""), "</tr>").contains("Fix the admin 1"));
        // Approving two at once.
        let (a, b) = (ids[1].to_string(), ids[2].to_string());
        let r = post_form(&c, &s, "/response/review", &[("csrf", &csrf), ("ids", &a), ("ids", &b), ("action", "approve")]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(stored(&s, f.year, ids[1]).await.unwrap()["status"], "approved");
        assert_eq!(stored(&s, f.year, ids[2]).await.unwrap()["status"], "approved");
        let (_, html) = page(&c, &s, "/response/review").await;
        assert_eq!(html.matches("<tr id=\"review-").count(), 0, "nothing left to review");
        // A Peruvian row is not hers to review; without CSRF nothing happens.
        let pid = peru[0].to_string();
        let r = post_form(&c, &s, "/response/review", &[("csrf", &csrf), ("ids", &pid), ("action", "approve")]).await;
        assert_eq!(r.status(), 403);
        let r = post_form(&c, &s, "/response/review", &[("ids", &pid), ("action", "approve")]).await;
        assert_eq!(r.status(), 403);
        assert_eq!(stored(&s, f.year, peru[0]).await.unwrap()["status"], "submitted");
        // A partner does not review.
        assert_eq!(page(&p, &s, "/response/review").await.0, 403);
    }

    async fn the_upload_page_stores_a_template_and_its_progress_is_the_uploaders_only(s: TestServer) {
        let f = setup(&s).await;
        let (c, csrf) = s.signed_in("partner_a").await;
        let (status, html) = page(&c, &s, "/response/upload").await;
        assert_eq!(status, 200);
        let link = section(&html, "/api/v1/response/reports/template.xlsx?", "\"");
        assert!(link.contains(&format!("organisation={}&", f.org_a)) && link.contains(&format!("year={}", f.year)), "{link}");
        assert!(html.contains("id=\"upload-bar\""));
        assert!(html.contains("/static/response.js"));
        assert_eq!(c.get(s.url("/static/response.js")).send().await.unwrap().status(), 200);

        let month = current_month();
        let month: &'static str = Box::leak(month.into_boxed_str());
        let file = report_file(f.year, f.org_a, "Acción Norte", &[with_month(good_row("2"), month), with_month(good_row("3"), month)]);
        let year = f.year.to_string();
        let org = f.org_a.to_string();
        let send = |c: reqwest::Client, token: &'static str, csrf: Option<String>, file: Vec<u8>| {
            let year = year.clone();
            let org = org.clone();
            let s = &s;
            async move {
                let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![
                    ("organisation", None, org.as_bytes()),
                    ("year", None, year.as_bytes()),
                    ("file", Some("march.xlsx"), &file),
                ];
                if let Some(t) = &csrf {
                    parts.insert(0, ("csrf", None, t.as_bytes()));
                }
                let (content_type, body) = multipart(&parts);
                let r = c.post(s.url(&format!("/response/upload?progress={token}"))).header("content-type", content_type).body(body).send().await.unwrap();
                (r.status(), r.text().await.unwrap())
            }
        };
        // Without the CSRF field: refused, nothing stored.
        let (status, _) = send(c.clone(), "token-without-csrf-000", None, file.clone()).await;
        assert_eq!(status, 403);
        assert_eq!(total(&s, f.year).await, 0);

        let token = "a1b2c3d4e5f6a7b8c9d0e1f2";
        let (status, html) = send(c.clone(), token, Some(csrf.clone()), file.clone()).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("id=\"stored-rows\">2<"), "{html}");
        assert!(html.contains("id=\"see-rows\""));
        assert_eq!(total(&s, f.year).await, 2);
        // The progress is there for the uploader, and for nobody else.
        let r = c.get(s.url(&format!("/api/v1/response/uploads/progress/{token}"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["phase"], "done");
        assert_eq!(p["done"], 2);
        assert_eq!(p["total"], 2);
        let (other, _) = s.signed_in("partner_b").await;
        assert_eq!(other.get(s.url(&format!("/api/v1/response/uploads/progress/{token}"))).send().await.unwrap().status(), 404);
        let r = client().get(s.url(&format!("/api/v1/response/uploads/progress/{token}"))).bearer_auth(s.token("partner_b").await).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let (viewer, _) = s.signed_in("viewer").await;
        assert_eq!(viewer.get(s.url(&format!("/api/v1/response/uploads/progress/{token}"))).send().await.unwrap().status(), 403);
        assert_eq!(c.get(s.url("/api/v1/response/uploads/progress/never-sent-token-000")).send().await.unwrap().status(), 404);
        // partner_b cannot take the token over to read partner_a's progress.
        let (status, _) = send(other.clone(), token, Some(crate::common::csrf_of(&page(&other, &s, "/response/upload").await.1)), file.clone()).await;
        assert_eq!(status, 403, "another organisation's template");
        assert_eq!(other.get(s.url(&format!("/api/v1/response/uploads/progress/{token}"))).send().await.unwrap().status(), 404);

        // A workbook with problems: listed by cell, nothing stored, the attempt listed.
        let bad = report_file(f.year, f.org_a, "Acción Norte", &[with_month(good_row("many"), month), with_month(good_row("1"), "someday")]);
        let (status, html) = send(c.clone(), "token-bad-workbook-0001", Some(csrf.clone()), bad).await;
        assert_eq!(status, 422);
        let problems = section(&html, "id=\"upload-problems\"", "</table>");
        assert!(problems.contains("reports!H2") && problems.contains("reports!F3"), "{problems}");
        assert_eq!(total(&s, f.year).await, 2);
        // Not a workbook at all: said so, 4xx.
        let (status, html) = send(c.clone(), "token-not-a-workbook-01", Some(csrf.clone()), b"girls,boys".to_vec()).await;
        assert!(status.is_client_error(), "{status}");
        assert!(html.contains("id=\"upload-refused\""));

        // The uploads API: hers, stored and refused with the reasons; not another's.
        let partner = s.token("partner_a").await;
        let list: Value = client().get(s.url(&format!("/api/v1/response/uploads?year={}", f.year))).bearer_auth(&partner).send().await.unwrap().json().await.unwrap();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 2, "{list:?}");
        assert_eq!(list[1]["status"], "stored");
        assert_eq!(list[1]["rows"], 2);
        assert_eq!(list[0]["status"], "refused");
        assert!(list[0]["error_summary"].as_str().unwrap().contains("reports!H2"));
        let r = client().get(s.url(&format!("/api/v1/response/uploads?year={}&organisation={}", f.year, f.org_a))).bearer_auth(s.token("partner_b").await).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = client().get(s.url(&format!("/api/v1/response/uploads?year={}&organisation={}", f.year, f.org_a))).bearer_auth(s.token("im_col").await).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap().as_array().unwrap().len(), 2);
        // The page lists them too.
        let (_, html) = page(&c, &s, "/response/upload").await;
        assert_eq!(section(&html, "id=\"past-table\"", "</table>").matches("<tr data-status=").count(), 2);
        // A viewer neither sees the page nor the list.
        assert_eq!(page(&viewer, &s, "/response/upload").await.0, 403);
        let r = client().get(s.url("/api/v1/response/uploads")).bearer_auth(s.token("viewer").await).send().await.unwrap();
        assert_eq!(r.status(), 403);
    }
}
