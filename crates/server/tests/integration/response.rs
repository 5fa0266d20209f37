//! Response monitoring (5W) on both engines: the plan template round trip, activity report
//! templates filled and uploaded, every kind of bad workbook refused with nothing stored,
//! the flags, review, the partner's view and the JSON API; and a 50,000-row upload.

use std::io::Cursor;
use std::time::Instant;

use calamine::{Data, Reader, Xlsx};
use chrono::Datelike;
use reqwest::StatusCode;
use rumbo_store::model::Role;
use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};

use crate::common::{TestServer, client, multipart};

struct Ctx {
    year: i32,
    org_a: i64,
    org_b: i64,
    admin: String,
    partner_a: String,
    partner_b: String,
    im_col: String,
    im_per: String,
}

fn this_year() -> i32 {
    chrono::Utc::now().year()
}

/// A month of the plan as `YYYY-MM` (the plan runs from January of last year to December
/// of this year, so that last year's months are always late and this month never is).
fn month(year: i32, m: u32) -> String {
    format!("{year}-{m:02}")
}

fn current_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

/// Writes a workbook: sheets of rows of JSON values (strings, numbers, null for empty).
fn workbook(sheets: &[(&str, Vec<Vec<Value>>)], merge: Option<(&str, u32, u16, u32, u16)>, hidden: &[&str]) -> Vec<u8> {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet().set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (u32::try_from(r).unwrap(), u16::try_from(c).unwrap());
                match v {
                    Value::String(s) => {
                        sheet.write_string(r, c, s).unwrap();
                    }
                    Value::Number(n) => {
                        sheet.write_number(r, c, n.as_f64().unwrap()).unwrap();
                    }
                    _ => {}
                }
            }
        }
        if let Some((m, r0, c0, r1, c1)) = merge
            && m == *name
        {
            sheet.merge_range(r0, c0, r1, c1, "merged", &rust_xlsxwriter::Format::new()).unwrap();
        }
        if hidden.contains(name) {
            sheet.set_hidden(true);
        }
    }
    book.save_to_buffer().unwrap()
}

fn strings(values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| json!(v)).collect()
}

const REPORT_HEADER: &[&str] = &[
    "implementing_organisation",
    "sector",
    "indicator",
    "country",
    "admin1_pcode",
    "month",
    "population_type",
    "girls",
    "boys",
    "women",
    "men",
    "other",
    "total",
    "new_or_recurring",
    "modality",
    "cash_value_usd",
];

/// A report row: indicator, country, admin 1, month, population type, the five figures and
/// the total (null: left empty).
fn row(indicator: &str, country: &str, admin1: &str, month: &str, figures: [i64; 5], total: Value) -> Vec<Value> {
    let mut r = vec![
        json!(""),
        json!(""),
        json!(indicator),
        json!(country),
        json!(admin1),
        json!(month),
        json!("in_destination"),
    ];
    r.extend(figures.iter().map(|f| json!(f)));
    r.extend([total, json!("new"), json!("in_kind"), Value::Null]);
    r
}

/// A filled activity report template for an organisation and year.
fn report_file(year: i32, org: i64, org_name: &str, rows: Vec<Vec<Value>>) -> Vec<u8> {
    report_file_with(year, org, org_name, rows, "reports", None)
}

fn report_file_with(
    year: i32,
    org: i64,
    org_name: &str,
    rows: Vec<Vec<Value>>,
    sheet: &str,
    merge: Option<(&str, u32, u16, u32, u16)>,
) -> Vec<u8> {
    let mut data = vec![strings(REPORT_HEADER)];
    data.extend(rows);
    let meta = vec![
        strings(&["kind", "activity_reports"]),
        strings(&["plan_year", &year.to_string()]),
        strings(&["organisation_id", &org.to_string()]),
        strings(&["organisation", org_name]),
    ];
    workbook(&[(sheet, data), ("rumbo", meta)], merge, &["rumbo"])
}

/// Reads a sheet of a workbook as text.
fn read_sheet(bytes: &[u8], name: &str) -> Vec<Vec<String>> {
    let mut book = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range(name).unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

async fn upload(s: &TestServer, token: &str, path: &str, file: &[u8], extra: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![("file", Some("filled.xlsx"), file)];
    for (k, v) in extra {
        parts.push((k, None, v.as_bytes()));
    }
    let (content_type, body) = multipart(&parts);
    let r = client()
        .post(s.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(s: &TestServer, token: &str, path: &str) -> reqwest::Response {
    client().get(s.url(path)).bearer_auth(token).send().await.unwrap()
}

async fn send(s: &TestServer, token: &str, method: reqwest::Method, path: &str, body: &Value) -> (StatusCode, Value) {
    let r = client().request(method, s.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// How many report rows a caller sees in the plan.
async fn count(s: &TestServer, token: &str, year: i32, query: &str) -> i64 {
    let r = get(s, token, &format!("/api/v1/response/reports?year={year}&{query}")).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["total"].as_i64().unwrap()
}

fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e["field"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

/// The plan workbook: the template's sectors, three indicators, targets in both countries.
fn plan_file(year: i32, sectors: Vec<Vec<Value>>, indicators: Vec<Vec<Value>>, targets: Vec<Vec<Value>>) -> Vec<u8> {
    let meta = vec![
        strings(&["kind", "response_plan"]),
        strings(&["plan_year", &year.to_string()]),
        strings(&["name", &format!("RMRP {year}")]),
        strings(&["period_start", &format!("{}-01-01", year - 1)]),
        strings(&["period_end", &format!("{year}-12-31")]),
        strings(&["report_deadline_day", "10"]),
    ];
    workbook(&[("sectors", sectors), ("indicators", indicators), ("targets", targets), ("rumbo", meta)], None, &[])
}

fn good_indicators() -> Vec<Vec<Value>> {
    vec![
        strings(&["code", "sector_code", "name_en", "name_es", "name_pt", "unit", "counts_people"]),
        strings(&[
            "EDU-1",
            "EDU",
            "Children in education",
            "Niñez en educación",
            "Crianças na educação",
            "people",
            "yes",
        ]),
        strings(&["CP-1", "PRO-CP", "Children given protection", "", "", "people", ""]),
        strings(&["SHE-KITS", "SHE", "Shelter kits", "", "", "kits", "no"]),
    ]
}

fn good_targets() -> Vec<Vec<Value>> {
    vec![
        strings(&[
            "country",
            "admin1_pcode",
            "sector_code",
            "people_in_need",
            "people_targeted",
            "funding_required_usd",
        ]),
        vec![json!("COL"), json!("CO-NSA"), json!("EDU"), json!(1000), json!(500), json!(25000.5)],
        vec![json!("PER"), Value::Null, json!("PRO"), json!(800), json!(300), json!(12000)],
    ]
}

/// Organisations, users and the plan (loaded from the downloaded template).
async fn setup(s: &TestServer) -> Ctx {
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
    let admin = s.token("admin").await;
    let template = get(s, &admin, &format!("/api/v1/response/plan/template.xlsx?year={year}")).await;
    assert_eq!(template.status(), 200);
    let bytes = template.bytes().await.unwrap();
    let sectors: Vec<Vec<Value>> = read_sheet(&bytes, "sectors")
        .into_iter()
        .map(|r| r.into_iter().map(|c| if c.is_empty() { Value::Null } else { json!(c) }).collect())
        .collect();
    let (status, body) =
        upload(s, &admin, "/api/v1/response/plans", &plan_file(year, sectors, good_indicators(), good_targets()), &[])
            .await;
    assert_eq!(status, 201, "{body}");
    Ctx {
        year,
        org_a: orgs[0],
        org_b: orgs[1],
        admin,
        partner_a: s.token("partner_a").await,
        partner_b: s.token("partner_b").await,
        im_col: s.token("im_col").await,
        im_per: s.token("im_per").await,
    }
}

crate::server_tests! {
    async fn plan_template_round_trip_and_errors(s: TestServer) {
        let c = setup(&s).await;
        // The template carries the RMRP sectors and what it is.
        let bytes = get(&s, &c.admin, &format!("/api/v1/response/plan/template.xlsx?year={}", c.year)).await.bytes().await.unwrap();
        let sectors = read_sheet(&bytes, "sectors");
        assert_eq!(sectors[0], ["code", "parent_code", "name_en", "name_es", "name_pt"]);
        assert!(sectors.iter().any(|r| r[0] == "PRO-GBV" && r[1] == "PRO"));
        assert!(sectors.iter().any(|r| r[0] == "CS-IM" && r[1] == "CS"));
        assert_eq!(read_sheet(&bytes, "rumbo")[0], ["kind", "response_plan"]);

        // The plan loaded in setup reads back as JSON, for everyone signed in.
        let viewer = s.token("viewer").await;
        let plan: Value = get(&s, &viewer, &format!("/api/v1/response/plans/{}", c.year)).await.json().await.unwrap();
        assert_eq!(plan["indicators"].as_array().unwrap().len(), 3);
        assert_eq!(plan["indicators"][1]["counts_people"], true);
        assert_eq!(plan["indicators"][2]["counts_people"], false);
        assert_eq!(plan["targets"].as_array().unwrap().len(), 2);
        assert_eq!(plan["sectors"].as_array().unwrap().len(), 17);
        assert_eq!(plan["period_start"], format!("{}-01-01", c.year - 1));

        // A plan with errors: each named by sheet, row and column; nothing saved.
        let sectors = vec![strings(&["code", "parent_code", "name_en", "name_es", "name_pt"]), strings(&["EDU", "", "Education", "", ""]), strings(&["PRO-CP", "NOPE", "Child protection", "", ""])];
        let indicators = vec![
            strings(&["code", "sector_code", "name_en", "name_es", "name_pt", "unit", "counts_people"]),
            strings(&["EDU-1", "EDU", "Children in education", "", "", "people", "maybe"]),
            strings(&["EDU-2", "HEALTH", "Other", "", "", "people", "yes"]),
        ];
        let targets = vec![
            strings(&["country", "admin1_pcode", "sector_code", "people_in_need", "people_targeted", "funding_required_usd"]),
            vec![json!("COL"), json!("PE-LIM"), json!("EDU"), json!(-5), json!("lots"), json!(10)],
        ];
        let (status, body) = upload(&s, &c.admin, "/api/v1/response/plans", &plan_file(c.year, sectors, indicators, targets), &[]).await;
        assert_eq!(status, 422, "{body}");
        let f = fields(&body);
        for expected in ["sectors!B3", "indicators!G2", "indicators!B3", "targets!B2", "targets!D2", "targets!E2"] {
            assert!(f.contains(&expected.to_string()), "{expected} missing from {f:?}");
        }
        let plan: Value = get(&s, &viewer, &format!("/api/v1/response/plans/{}", c.year)).await.json().await.unwrap();
        assert_eq!(plan["indicators"].as_array().unwrap().len(), 3, "nothing was saved");

        // Only plan managers load plans; an IM officer of Peru may not edit a Colombian target.
        let (status, _) = upload(&s, &c.partner_a, "/api/v1/response/plans", &[1, 2, 3], &[]).await;
        assert_eq!(status, 403);
        let target = json!({"targets": [{"country_code": "COL", "admin1_pcode": "CO-NSA", "sector_code": "EDU", "people_in_need": 1200, "people_targeted": 600, "funding_required_usd": 30000.0}]});
        let (status, _) = send(&s, &c.im_per, reqwest::Method::PUT, &format!("/api/v1/response/plans/{}/targets", c.year), &target).await;
        assert_eq!(status, 403);
        let (status, body) = send(&s, &c.im_col, reqwest::Method::PUT, &format!("/api/v1/response/plans/{}/targets", c.year), &target).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["targets"].as_array().unwrap().len(), 2);
        assert!(body["targets"].as_array().unwrap().iter().any(|t| t["people_in_need"] == 1200));
        let bad = json!({"targets": [{"country_code": "COL", "admin1_pcode": "PE-LIM", "sector_code": "NOPE", "people_in_need": -1, "people_targeted": 0, "funding_required_usd": 0.0}]});
        let (status, body) = send(&s, &c.im_col, reqwest::Method::PUT, &format!("/api/v1/response/plans/{}/targets", c.year), &bad).await;
        assert_eq!(status, 422);
        assert_eq!(fields(&body), ["targets[0].admin1_pcode", "targets[0].sector_code", "targets[0].people_in_need"]);
        // An unknown year is a 404.
        assert_eq!(get(&s, &viewer, "/api/v1/response/plans/1999").await.status(), 404);
    }

    async fn report_template_upload_and_flags(s: TestServer) {
        let c = setup(&s).await;
        // The partner downloads her organisation's template, prefilled and with lists.
        let r = get(&s, &c.partner_a, &format!("/api/v1/response/reports/template.xlsx?organisation={}&year={}", c.org_a, c.year)).await;
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.unwrap();
        let meta = read_sheet(&bytes, "rumbo");
        assert_eq!(meta[1], ["plan_year", &c.year.to_string()]);
        assert_eq!(meta[2], ["organisation_id", &c.org_a.to_string()]);
        assert_eq!(meta[3], ["organisation", "Acción Norte"]);
        assert_eq!(read_sheet(&bytes, "reports")[0], REPORT_HEADER);
        let lists = read_sheet(&bytes, "lists");
        assert!(lists.iter().any(|r| r[0] == "SHE-KITS"));
        assert!(lists.iter().any(|r| r[2] == "CO-NSA"));
        // ... but not another organisation's.
        let r = get(&s, &c.partner_a, &format!("/api/v1/response/reports/template.xlsx?organisation={}&year={}", c.org_b, c.year)).await;
        assert_eq!(r.status(), 403);

        // Filled: three earlier months, then this month; a late row, a duplicated pair, an outlier.
        let last = c.year - 1;
        let mut rows = vec![
            row("EDU-1", "COL", "CO-NSA", &month(last, 2), [1, 2, 3, 4, 0], json!(10)),
            row("EDU-1", "COL", "CO-NSA", &month(last, 3), [1, 2, 3, 4, 0], json!(10)),
            row("EDU-1", "COL", "CO-NSA", &month(last, 4), [2, 2, 3, 4, 1], Value::Null),
        ];
        let (status, body) = upload(&s, &c.partner_a, "/api/v1/response/reports/upload", &report_file(c.year, c.org_a, "Acción Norte", rows.clone()), &[]).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["rows"], 3);
        assert_eq!(body["late"], 3, "last year's months are late");
        assert_eq!(body["duplicate"], 0);
        assert_eq!(body["outlier"], 0);

        rows = vec![
            // Ten times the usual 10-12: an outlier (and late).
            row("EDU-1", "COL", "CO-NSA", &month(last, 5), [100, 100, 100, 100, 100], json!(500)),
            // This month, twice: duplicates, not late.
            row("CP-1", "PER", "PE-LIM", &current_month(), [1, 1, 0, 0, 0], json!(2)),
            row("CP-1", "PER", "PE-LIM", &current_month(), [1, 1, 0, 0, 0], json!(2)),
            // Kits: a total without disaggregation, no admin 1; sector given by its parent.
            {
                let mut r = row("SHE-KITS", "PER", "", &current_month(), [0; 5], json!(40));
                r[7..12].fill(Value::Null);
                r[1] = json!("SHE");
                r[14] = json!("in kind");
                r
            },
            // The same key as a stored row: a duplicate.
            row("EDU-1", "COL", "CO-NSA", &month(last, 2), [1, 2, 3, 4, 0], json!(10)),
        ];
        let (status, body) = upload(&s, &c.partner_a, "/api/v1/response/reports/upload", &report_file(c.year, c.org_a, "Acción Norte", rows), &[("year", &c.year.to_string())]).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["rows"], 5);
        assert_eq!(body["outlier"], 1);
        assert_eq!(body["duplicate"], 3);
        assert_eq!(body["late"], 2);

        let list: Value = get(&s, &c.partner_a, &format!("/api/v1/response/reports?year={}&flagged=true&limit=50", c.year)).await.json().await.unwrap();
        let items = list["items"].as_array().unwrap();
        let outlier: Vec<&Value> = items.iter().filter(|i| i["flag_outlier"] == true).collect();
        assert_eq!(outlier.len(), 1);
        assert_eq!(outlier[0]["total"], 500);
        assert_eq!(outlier[0]["status"], "submitted");
        assert_eq!(count(&s, &c.partner_a, c.year, "").await, 8);
        let kits: Value = get(&s, &c.partner_a, &format!("/api/v1/response/reports?year={}&indicator=SHE-KITS", c.year)).await.json().await.unwrap();
        assert_eq!(kits["items"][0]["total"], 40);
        assert_eq!(kits["items"][0]["modality"], "in_kind");
        assert_eq!(kits["items"][0]["admin1_pcode"], Value::Null);
        assert_eq!(count(&s, &c.partner_a, c.year, "country=PER&sector=PRO-CP").await, 2);
        assert_eq!(count(&s, &c.partner_a, c.year, &format!("month_from={}&month_to={}", month(last, 3), month(last, 4))).await, 2);
        // The other partner sees none of it; the Peru IM officer sees Peru's rows only.
        assert_eq!(count(&s, &c.partner_b, c.year, "").await, 0);
        assert_eq!(count(&s, &c.im_per, c.year, "").await, 3);
        assert_eq!(count(&s, &c.admin, c.year, "").await, 8);
        // A viewer does not read rows.
        let viewer = s.token("viewer").await;
        assert_eq!(get(&s, &viewer, &format!("/api/v1/response/reports?year={}", c.year)).await.status(), 403);
    }

    async fn bad_workbooks_are_refused_and_nothing_is_stored(s: TestServer) {
        let c = setup(&s).await;
        let y = c.year;
        let ok = || row("EDU-1", "COL", "CO-NSA", &current_month(), [1, 2, 3, 4, 0], json!(10));
        let path = "/api/v1/response/reports/upload";
        let file = |rows: Vec<Vec<Value>>| report_file(y, c.org_a, "Acción Norte", rows);

        // A template from another year: no plan for it, and named against the year meant.
        let (status, body) = upload(&s, &c.partner_a, path, &report_file(y - 3, c.org_a, "Acción Norte", vec![ok()]), &[]).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["message"].as_str().unwrap().contains(&(y - 3).to_string()), "{body}");
        let (status, body) = upload(&s, &c.partner_a, path, &report_file(y - 3, c.org_a, "Acción Norte", vec![ok()]), &[("year", &y.to_string())]).await;
        assert_eq!(status, 422);
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(&(y - 3).to_string()) && message.contains(&y.to_string()), "{message}");

        // Another organisation's template: the partner is refused, naming both.
        let (status, body) = upload(&s, &c.partner_a, path, &report_file(y, c.org_b, "Bienestar Sur", vec![ok()]), &[]).await;
        assert_eq!(status, 403);
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("Bienestar Sur") && message.contains("Acción Norte"), "{message}");
        // An IM officer who says which organisation she uploads for is told the same.
        let (status, body) = upload(&s, &c.im_col, path, &report_file(y, c.org_b, "Bienestar Sur", vec![ok()]), &[("organisation", &c.org_a.to_string())]).await;
        assert_eq!(status, 422);
        assert!(body["message"].as_str().unwrap().contains("Bienestar Sur"));

        // A renamed sheet.
        let (status, body) = upload(&s, &c.partner_a, path, &report_file_with(y, c.org_a, "Acción Norte", vec![ok()], "Sheet1", None), &[]).await;
        assert_eq!(status, 422);
        assert_eq!(body["field"], "reports!");
        assert!(body["message"].as_str().unwrap().contains("no sheet `reports`"));
        // Not a workbook at all.
        let (status, body) = upload(&s, &c.partner_a, path, b"girls,boys\n1,2\n", &[]).await;
        assert_eq!(status, 422);
        assert_eq!(body["field"], "file");
        // Merged cells.
        let (status, body) = upload(&s, &c.partner_a, path, &report_file_with(y, c.org_a, "Acción Norte", vec![ok(), ok()], "reports", Some(("reports", 1, 0, 2, 1))), &[]).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["field"], "reports!A2");
        assert!(body["message"].as_str().unwrap().contains("A2:B3"));

        // Row-level problems, each named by cell; the good rows are not stored either.
        let mut text = ok();
        text[7] = json!("many");
        let mut negative = ok();
        negative[8] = json!(-1);
        let mut sum = ok();
        sum[12] = json!(99);
        let mut outside = ok();
        outside[5] = json!(month(y + 1, 3));
        let mut foreign = ok();
        foreign[4] = json!("PE-LIM");
        let mut sector = ok();
        sector[1] = json!("HEA");
        let mut unknown = ok();
        unknown[2] = json!("NOPE-1");
        unknown[6] = json!("tourists");
        let (status, body) = upload(&s, &c.partner_a, path, &file(vec![ok(), text, negative, sum, outside, foreign, sector, unknown]), &[]).await;
        assert_eq!(status, 422, "{body}");
        let f = fields(&body);
        for expected in ["reports!H3", "reports!I4", "reports!M5", "reports!F6", "reports!E7", "reports!B8", "reports!C9", "reports!G9"] {
            assert!(f.contains(&expected.to_string()), "{expected} missing from {f:?}");
        }
        let text_error = body["errors"].as_array().unwrap().iter().find(|e| e["field"] == "reports!H3").unwrap();
        assert!(text_error["message"].as_str().unwrap().contains("many"));
        assert_eq!(count(&s, &c.admin, y, "").await, 0, "nothing was stored");
        // The refused attempt is recorded, with its reasons, for follow-up.
        let plan = s.db.response_plan_header(y).await.unwrap();
        let uploads = s.db.activity_uploads(plan.id, c.org_a).await.unwrap();
        assert_eq!(uploads.len(), 1);
        assert_eq!(uploads[0].status, "refused");
        assert_eq!(uploads[0].rows, 8);
        assert!(uploads[0].error_summary.as_deref().unwrap().contains("reports!H3"));

        // A row in a country the partner does not cover is refused before it is checked.
        let (status, _) = upload(&s, &c.im_per, path, &file(vec![ok()]), &[]).await;
        assert_eq!(status, 403);
        assert_eq!(count(&s, &c.admin, y, "").await, 0);
    }

    async fn review_and_the_partners_view(s: TestServer) {
        let c = setup(&s).await;
        let y = c.year;
        let rows = json!({"year": y, "rows": [
            {"indicator": "EDU-1", "country": "COL", "admin1_pcode": "CO-NSA", "month": current_month(), "population_type": "host_community",
             "girls": 3, "boys": 2, "new_or_recurring": "new", "modality": "cash", "cash_value_usd": 120.5},
            {"indicator": "CP-1", "country": "PER", "month": current_month(), "population_type": "in_transit",
             "women": 4, "total": 4, "new_or_recurring": "recurring"}
        ]});
        let (status, body) = send(&s, &c.partner_a, reqwest::Method::POST, "/api/v1/response/reports", &rows).await;
        assert_eq!(status, 201, "{body}");
        let ids: Vec<i64> = body["ids"].as_array().unwrap().iter().map(|i| i.as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 2);
        let list: Value = get(&s, &c.partner_a, &format!("/api/v1/response/reports?year={y}&country=COL")).await.json().await.unwrap();
        assert_eq!(list["items"][0]["total"], 5);
        assert_eq!(list["items"][0]["appealing_org_id"], c.org_a);
        assert_eq!(list["items"][0]["cash_value_usd"], 120.5);

        // JSON rows are checked as uploaded ones are, and named by path.
        let bad = json!({"year": y, "rows": [{"indicator": "EDU-1", "country": "COL", "admin1_pcode": "PE-LIM", "month": "2001-01",
            "population_type": "in_destination", "girls": -1, "total": 7, "new_or_recurring": "often"}]});
        let (status, body) = send(&s, &c.partner_a, reqwest::Method::POST, "/api/v1/response/reports", &bad).await;
        assert_eq!(status, 422);
        let f = fields(&body);
        for expected in ["rows[0].admin1_pcode", "rows[0].month", "rows[0].girls", "rows[0].total", "rows[0].new_or_recurring"] {
            assert!(f.contains(&expected.to_string()), "{expected} missing from {f:?}");
        }
        // A partner may not report for another organisation.
        let other = json!({"year": y, "rows": [{"appealing_organisation_id": c.org_b, "indicator": "EDU-1", "country": "COL",
            "month": current_month(), "population_type": "in_destination", "girls": 1, "new_or_recurring": "new"}]});
        let (status, _) = send(&s, &c.partner_a, reqwest::Method::POST, "/api/v1/response/reports", &other).await;
        assert_eq!(status, 403);

        // The other partner can neither see, change nor delete these rows.
        assert_eq!(count(&s, &c.partner_b, y, "").await, 0);
        assert_eq!(count(&s, &c.partner_b, y, &format!("organisation={}", c.org_a)).await, 0);
        let change = json!({"indicator": "EDU-1", "country": "COL", "admin1_pcode": "CO-NSA", "month": current_month(),
            "population_type": "host_community", "girls": 4, "boys": 2, "new_or_recurring": "new"});
        let (status, _) = send(&s, &c.partner_b, reqwest::Method::PUT, &format!("/api/v1/response/reports/{}", ids[0]), &change).await;
        assert_eq!(status, 404);
        let (status, _) = send(&s, &c.partner_b, reqwest::Method::DELETE, &format!("/api/v1/response/reports/{}", ids[0]), &json!({})).await;
        assert_eq!(status, 404);
        // The IM officer of Peru may not touch the Colombian row, nor review it.
        let (status, _) = send(&s, &c.im_per, reqwest::Method::PUT, &format!("/api/v1/response/reports/{}", ids[0]), &change).await;
        assert_eq!(status, 404);
        let (status, _) = send(&s, &c.im_per, reqwest::Method::POST, "/api/v1/response/reports/review", &json!({"ids": [ids[0]], "action": "approve"})).await;
        assert_eq!(status, 403);
        // Partners do not review.
        let (status, _) = send(&s, &c.partner_a, reqwest::Method::POST, "/api/v1/response/reports/review", &json!({"ids": [ids[0]], "action": "approve"})).await;
        assert_eq!(status, 403);

        // The owner changes her row; the figures are checked again.
        let (status, body) = send(&s, &c.partner_a, reqwest::Method::PUT, &format!("/api/v1/response/reports/{}", ids[0]), &change).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 6);
        let mut wrong = change.clone();
        wrong["total"] = json!(1);
        let (status, body) = send(&s, &c.partner_a, reqwest::Method::PUT, &format!("/api/v1/response/reports/{}", ids[0]), &wrong).await;
        assert_eq!(status, 422);
        assert_eq!(body["field"], "total");

        // Review: returning needs a note; approved rows are frozen.
        let (status, _) = send(&s, &c.im_col, reqwest::Method::POST, "/api/v1/response/reports/review", &json!({"ids": [ids[0]], "action": "return"})).await;
        assert_eq!(status, 422);
        let (status, body) = send(&s, &c.im_col, reqwest::Method::POST, "/api/v1/response/reports/review", &json!({"ids": [ids[0]], "action": "return", "note": "check the girls"})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["changed"], 1);
        let list: Value = get(&s, &c.partner_a, &format!("/api/v1/response/reports?year={y}&status=returned")).await.json().await.unwrap();
        assert_eq!(list["items"][0]["reviewer_note"], "check the girls");
        let (status, body) = send(&s, &c.admin, reqwest::Method::POST, "/api/v1/response/reports/review", &json!({"ids": ids, "action": "approve"})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["changed"], 2);
        assert_eq!(count(&s, &c.partner_a, y, "status=approved").await, 2);
        let (status, _) = send(&s, &c.partner_a, reqwest::Method::PUT, &format!("/api/v1/response/reports/{}", ids[0]), &change).await;
        assert_eq!(status, 409);
        let (status, _) = send(&s, &c.partner_a, reqwest::Method::DELETE, &format!("/api/v1/response/reports/{}", ids[1]), &json!({})).await;
        assert_eq!(status, 409);
        let (status, _) = send(&s, &c.admin, reqwest::Method::POST, "/api/v1/response/reports/review", &json!({"ids": [999_999], "action": "approve"})).await;
        assert_eq!(status, 404);

        // A fresh row is deleted by its owner.
        let (status, body) = send(&s, &c.partner_a, reqwest::Method::POST, "/api/v1/response/reports", &json!({"year": y, "rows": [change]})).await;
        assert_eq!(status, 201, "{body}");
        let id = body["ids"][0].as_i64().unwrap();
        let (status, _) = send(&s, &c.partner_a, reqwest::Method::DELETE, &format!("/api/v1/response/reports/{id}"), &json!({})).await;
        assert_eq!(status, 204);
        assert_eq!(count(&s, &c.partner_a, y, "").await, 2);

        // The routes are in the OpenAPI document.
        let doc: Value = client().get(s.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert!(doc["paths"]["/api/v1/response/reports/upload"].is_object());
    }

    async fn fifty_thousand_rows_in_one_upload(s: TestServer) {
        let c = setup(&s).await;
        let populations = ["in_destination", "in_transit", "host_community", "pendular", "colombian_returnees"];
        let indicators = [("EDU-1", "COL", "CO-NSA"), ("CP-1", "PER", "PE-LIM")];
        let mut rows = Vec::with_capacity(50_000);
        for i in 0..50_000_u32 {
            let (indicator, country, admin1) = indicators[(i % 2) as usize];
            let m = month(c.year - 1 + i32::try_from(i / 12 % 2).unwrap(), i % 12 + 1);
            let mut r = row(indicator, country, admin1, &m, [i64::from(i % 7), 1, 2, 3, 0], Value::Null);
            r[6] = json!(populations[(i / 24 % 5) as usize]);
            rows.push(r);
        }
        let started = Instant::now();
        let file = report_file(c.year, c.org_a, "Acción Norte", rows);
        let written = started.elapsed();
        let started = Instant::now();
        let (status, body) = upload(&s, &c.partner_a, "/api/v1/response/reports/upload", &file, &[]).await;
        let elapsed = started.elapsed();
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["rows"], 50_000);
        eprintln!(
            "50,000-row activity upload on {:?}: {:.2?} (server: {} ms = read {} + check {} + store {}; file {} KB written in {:.2?})",
            s.db.store.engine(),
            elapsed,
            body["elapsed_ms"],
            body["read_ms"],
            body["check_ms"],
            body["store_ms"],
            file.len() / 1024,
            written
        );
        assert_eq!(count(&s, &c.admin, c.year, "").await, 50_000);
    }

    async fn people_reached_are_consolidated_without_double_counting(s: TestServer) {
        let c = setup(&s).await;
        let m = month(c.year, 1);
        // Acción Norte: education and child protection, the same month and department;
        // Bienestar Sur: education there too; shelter kits are not people.
        let rows_a = vec![
            row("EDU-1", "COL", "CO-NSA", &m, [1, 2, 3, 4, 0], json!(10)),
            row("CP-1", "COL", "CO-NSA", &m, [5, 0, 0, 0, 0], json!(5)),
            row("SHE-KITS", "COL", "CO-NSA", &m, [0, 0, 40, 0, 0], json!(40)),
        ];
        let (status, body) = upload(&s, &c.partner_a, "/api/v1/response/reports/upload", &report_file(c.year, c.org_a, "Acción Norte", rows_a), &[]).await;
        assert_eq!(status, 201, "{body}");
        let rows_b = vec![row("EDU-1", "COL", "CO-NSA", &m, [2, 0, 0, 0, 0], json!(2))];
        let (status, body) = upload(&s, &c.partner_b, "/api/v1/response/reports/upload", &report_file(c.year, c.org_b, "Bienestar Sur", rows_b), &[]).await;
        assert_eq!(status, 201, "{body}");

        let r = get(&s, &c.im_col, &format!("/api/v1/response/reached?year={}&country=COL", c.year)).await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        let sector = |code: &str| body["sectors"].as_array().unwrap().iter().find(|x| x["sector"] == code).cloned().unwrap_or(Value::Null);
        // Education: the two organisations summed, cell by cell: girls 1+2, boys 2, women 3, men 4.
        let edu = sector("EDU");
        assert_eq!(edu["reached"], json!({ "girls": 3, "boys": 2, "women": 3, "men": 4, "other": 0 }), "{body}");
        assert_eq!(edu["reached_total"], 12);
        assert_eq!(edu["people_targeted"], 500);
        assert!((edu["share_of_target"].as_f64().unwrap() - 12.0 / 500.0).abs() < 1e-9);
        assert_eq!(sector("PRO-CP")["reached_total"], 5);
        // Across sectors, the larger per cell in the department: girls max(3, 5) = 5, so
        // 5 + 2 + 3 + 4 = 14 (not 12 + 5); the 40 shelter kits are never people.
        let col = &body["countries"][0];
        assert_eq!(col["country"], "COL");
        assert_eq!(col["reached_total"], 14, "{body}");
        // Peru's IM officer may not ask for Colombia.
        assert_eq!(get(&s, &c.im_per, &format!("/api/v1/response/reached?year={}&country=COL", c.year)).await.status(), 403);
        assert_eq!(get(&s, &c.admin, "/api/v1/response/reached?year=1990").await.status(), 404);
    }
}
