//! The 5W overview and the plan page on both engines: people reached against targets by
//! country, sector, admin 1, partner and month on a hand-computed example, the HXL tables
//! (CSV and XLSX), the page, and targets edited and plans loaded from the plan page, with
//! bad input refused and nothing changed.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use chrono::{Datelike, NaiveDate};
use rumbo_store::model::{Actor, AdminAreaInput, Role};
use rumbo_store::response::{PlanIndicator, PlanInput, PlanSector, PlanTarget};
use serde_json::{Value, json};

use crate::common::{TestServer, client, multipart};

struct Ctx {
    year: i32,
    org_a: i64,
    org_b: i64,
}

fn sector(code: &str, parent: Option<&str>, name: &str) -> PlanSector {
    PlanSector {
        code: code.into(),
        parent_code: parent.map(Into::into),
        name_en: name.into(),
        name_es: format!("{name} (es)"),
        name_pt: format!("{name} (pt)"),
    }
}

fn indicator(code: &str, sector: &str, unit: &str) -> PlanIndicator {
    PlanIndicator {
        code: code.into(),
        sector_code: sector.into(),
        name_en: format!("Indicator {code}"),
        name_es: format!("Indicador {code}"),
        name_pt: format!("Indicador {code}"),
        unit: unit.into(),
        counts_people: unit == "people",
    }
}

fn target(country: &str, admin1: Option<&str>, sector: &str, in_need: i64, targeted: i64, funding: f64) -> PlanTarget {
    PlanTarget {
        country_code: country.into(),
        admin1_pcode: admin1.map(Into::into),
        sector_code: sector.into(),
        people_in_need: in_need,
        people_targeted: targeted,
        funding_required_usd: funding,
    }
}

fn row(org: i64, indicator: &str, country: &str, admin1: &str, month: &str, figures: [i64; 4], new: bool) -> Value {
    json!({
        "appealing_organisation_id": org,
        "indicator": indicator,
        "country": country,
        "admin1_pcode": admin1,
        "month": month,
        "population_type": "in_destination",
        "girls": figures[0], "boys": figures[1], "women": figures[2], "men": figures[3], "other": 0,
        "new_or_recurring": if new { "new" } else { "recurring" },
        "modality": "in_kind",
    })
}

/// A plan (stored directly: the template's own tests are in `response.rs`), two partner
/// organisations with a reporter each, and a Peruvian IM officer.
async fn setup(s: &TestServer) -> Ctx {
    let actor = Actor::system("test");
    let mut area = AdminAreaInput {
        country_code: "COL".into(),
        pcode: "CO-ANT".into(),
        level: 1,
        name_en: "Antioquia".into(),
        ..Default::default()
    };
    area.normalise();
    s.db.create_admin_area(&actor, &area).await.unwrap();
    let year = chrono::Utc::now().year();
    let plan = PlanInput {
        year,
        name: format!("Plan {year}"),
        period_start: NaiveDate::from_ymd_opt(year, 1, 1).unwrap(),
        period_end: NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
        deadline_day: 28,
        sectors: vec![
            sector("EDU", None, "Education"),
            sector("PRO", None, "Protection"),
            sector("PRO-CP", Some("PRO"), "Child protection"),
            sector("SHE", None, "Shelter"),
        ],
        indicators: vec![
            indicator("EDU-1", "EDU", "people"),
            indicator("CP-1", "PRO-CP", "people"),
            indicator("SHE-KITS", "SHE", "kits"),
        ],
        targets: vec![
            target("COL", Some("CO-NSA"), "EDU", 1000, 500, 25_000.0),
            target("COL", Some("CO-ANT"), "EDU", 400, 100, 5_000.0),
            target("COL", None, "PRO-CP", 300, 200, 10_000.0),
            target("PER", None, "PRO-CP", 800, 300, 12_000.0),
        ],
    };
    s.db.save_response_plan(&actor, &plan).await.unwrap();
    let orgs = crate::common::partners(
        &s.db,
        &[("partner_a", Role::PartnerReporter, Some(0), &["COL"]), ("im_per", Role::ImOfficer, None, &["PER"])],
    )
    .await;
    Ctx { year, org_a: orgs[0], org_b: orgs[1] }
}

/// A plan workbook as the template lays it out: one sector, one indicator, one target.
fn plan_workbook(year: i32) -> Vec<u8> {
    let year = year.to_string();
    let (start, end) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let sheets: [(&str, Vec<Vec<&str>>); 4] = [
        (
            "sectors",
            vec![
                vec!["code", "parent_code", "name_en", "name_es", "name_pt"],
                vec!["EDU", "", "Education", "Educación", "Educação"],
            ],
        ),
        (
            "indicators",
            vec![
                vec!["code", "sector_code", "name_en", "name_es", "name_pt", "unit", "counts_people"],
                vec!["EDU-1", "EDU", "Children in school", "", "", "people", "yes"],
            ],
        ),
        (
            "targets",
            vec![
                vec![
                    "country",
                    "admin1_pcode",
                    "sector_code",
                    "people_in_need",
                    "people_targeted",
                    "funding_required_usd",
                ],
                vec!["COL", "CO-NSA", "EDU", "100", "50", "1000"],
            ],
        ),
        (
            "rumbo",
            vec![
                vec!["kind", "response_plan"],
                vec!["plan_year", year.as_str()],
                vec!["name", "Plan from the page"],
                vec!["period_start", start.as_str()],
                vec!["period_end", end.as_str()],
                vec!["report_deadline_day", "10"],
            ],
        ),
    ];
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet().set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (u32::try_from(r).unwrap(), u16::try_from(c).unwrap());
                match v.parse::<f64>() {
                    Ok(n) if r > 0 && name != "rumbo" => {
                        sheet.write_number(r, c, n).unwrap();
                    }
                    _ if v.is_empty() => {}
                    _ => {
                        sheet.write_string(r, c, *v).unwrap();
                    }
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

async fn get_json(s: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let r = client().get(s.url(path)).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Rows through the JSON API, as the admin.
async fn report(s: &TestServer, token: &str, year: i32, rows: Vec<Value>) {
    let r = client()
        .post(s.url("/api/v1/response/reports"))
        .bearer_auth(token)
        .json(&json!({ "year": year, "rows": rows }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_eq!(status, 201, "{}", r.text().await.unwrap());
}

fn line<'a>(lines: &'a Value, key: &str, value: &str) -> &'a Value {
    lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {lines}"))
}

crate::server_tests! {
    async fn overview_sets_people_reached_beside_targets(s: TestServer) {
        let c = setup(&s).await;
        let admin = s.token("admin").await;
        let y = c.year;
        let (jan, feb) = (format!("{y}-01"), format!("{y}-02"));
        report(&s, &admin, y, vec![
            // Acción Norte, January, Norte de Santander: education and child protection
            // (the same children, maybe), and shelter kits (not people).
            row(c.org_a, "EDU-1", "COL", "CO-NSA", &jan, [1, 2, 3, 4], true),
            row(c.org_a, "CP-1", "COL", "CO-NSA", &jan, [5, 0, 0, 0], true),
            json!({"appealing_organisation_id": c.org_a, "indicator": "SHE-KITS", "country": "COL", "admin1_pcode": "CO-NSA", "month": jan,
                   "population_type": "in_destination", "other": 40, "new_or_recurring": "new", "modality": "in_kind"}),
            // February: the same pupils again (recurring: not counted twice) and 2 new boys.
            row(c.org_a, "EDU-1", "COL", "CO-NSA", &feb, [1, 2, 3, 4], false),
            row(c.org_a, "EDU-1", "COL", "CO-NSA", &feb, [0, 2, 0, 0], true),
            // Bienestar Sur: education in Antioquia, and child protection in Peru.
            row(c.org_b, "EDU-1", "COL", "CO-ANT", &jan, [2, 0, 0, 0], true),
            row(c.org_b, "CP-1", "PER", "PE-LIM", &jan, [3, 3, 0, 0], true),
        ]).await;

        let (status, o) = get_json(&s, &admin, &format!("/api/v1/response/overview?year={y}")).await;
        assert_eq!(status, 200, "{o}");
        assert_eq!(o["rows"], 7);
        assert_eq!(o["organisations"], 2);
        // Colombia: in Norte de Santander the larger per cell of education (January's 1, 2,
        // 3, 4 and February's 2 new boys: 1, 4, 3, 4) and child protection (5, 0, 0, 0):
        // 5 + 4 + 3 + 4 = 16; Antioquia 2: 18 across sectors.
        let col = line(&o["countries"], "country", "COL");
        assert_eq!(col["reached_total"], 18, "{o}");
        assert_eq!(col["reached"], json!({"girls": 7, "boys": 4, "women": 3, "men": 4, "other": 0}));
        // Targeted across sectors: per admin 1 the largest sector (500 + 100), or the largest
        // country-wide sector (EDU 600, PRO-CP 200): 600. Funding is summed: 40,000.
        assert_eq!(col["people_targeted"], 600);
        assert_eq!(col["people_in_need"], 1400);
        assert_eq!(col["funding_required_usd"], 40_000.0);
        assert!((col["share_of_target"].as_f64().unwrap() - 18.0 / 600.0).abs() < 1e-9);
        let per = line(&o["countries"], "country", "PER");
        assert_eq!(per["reached_total"], 6);
        assert_eq!(o["total"]["reached_total"], 24);
        assert_eq!(o["total"]["people_targeted"], 900);
        // Per sector: education in Colombia 10 + 2 new boys + 2 in Antioquia = 14 against 600
        // (the admin-1 sum).
        let edu = o["sectors"].as_array().unwrap().iter().find(|l| l["country"] == "COL" && l["sector"] == "EDU").unwrap();
        assert_eq!(edu["reached_total"], 14);
        assert_eq!(edu["people_targeted"], 600);
        // Regional per sector: child protection is Colombia's 5 and Peru's 6.
        assert_eq!(line(&o["regional_sectors"], "sector", "PRO-CP")["reached_total"], 11);
        assert_eq!(line(&o["regional_sectors"], "sector", "PRO-CP")["people_targeted"], 500);
        // Per admin 1, with the area's largest sector target.
        let nsa = line(&o["areas"], "admin1", "CO-NSA");
        assert_eq!(nsa["reached_total"], 16);
        assert_eq!(nsa["people_targeted"], 500);
        assert_eq!(line(&o["areas"], "admin1", "CO-ANT")["reached_total"], 2);
        // Partners: Acción Norte 16 (its largest sector per cell), Bienestar Sur 2 + 6.
        let partners = o["partners"].as_array().unwrap();
        assert_eq!(partners[0]["acronym"], "AN");
        assert_eq!(partners[0]["reached_total"], 16);
        assert_eq!(partners[0]["rows"], 5);
        assert_eq!(partners[1]["reached_total"], 8);
        assert_eq!(partners[1]["countries"], json!(["COL", "PER"]));
        // Monthly progress of education in Colombia: 12 in January, 16 by February.
        let months: Vec<&Value> = o["months"].as_array().unwrap().iter().filter(|m| m["country"] == "COL" && m["sector"] == "EDU").collect();
        assert_eq!(months.len(), 2);
        assert_eq!((months[0]["month"].as_str(), months[0]["cumulative"].as_u64()), (Some(jan.as_str()), Some(12)));
        assert_eq!((months[1]["in_month"].as_u64(), months[1]["cumulative"].as_u64()), (Some(2), Some(14)));
        // Kits are kept apart, never people.
        assert_eq!(o["other_units"][0]["indicator"], "SHE-KITS");
        assert_eq!(o["other_units"][0]["quantity"], 40);

        // One country, one sector (with its sub-sectors).
        let (_, o) = get_json(&s, &admin, &format!("/api/v1/response/overview?year={y}&country=COL&sector=PRO")).await;
        assert_eq!(o["total"]["reached_total"], 5, "{o}");
        assert_eq!(o["total"]["people_targeted"], 200);
        assert_eq!(o["countries"].as_array().unwrap().len(), 1);
        // Approved rows only: none yet.
        let (_, o) = get_json(&s, &admin, &format!("/api/v1/response/overview?year={y}&approved_only=true")).await;
        assert_eq!(o["total"]["reached_total"], 0);
        assert_eq!(o["total"]["people_targeted"], 900);

        // Everyone signed in reads the consolidated figures of her countries: a partner too.
        let partner = s.token("partner_a").await;
        let (status, o) = get_json(&s, &partner, &format!("/api/v1/response/overview?year={y}")).await;
        assert_eq!(status, 200);
        assert_eq!(o["countries"].as_array().unwrap().len(), 1, "a Colombian partner sees Colombia: {o}");
        assert_eq!(o["total"]["reached_total"], 18);
        // Bad questions: a clear 4xx each.
        let im_per = s.token("im_per").await;
        assert_eq!(get_json(&s, &im_per, &format!("/api/v1/response/overview?year={y}&country=COL")).await.0, 403);
        let (status, body) = get_json(&s, &admin, &format!("/api/v1/response/overview?year={y}&sector=NOPE")).await;
        assert_eq!(status, 422);
        assert!(body.to_string().contains("sector"), "{body}");
        assert_eq!(get_json(&s, &admin, "/api/v1/response/overview?year=1990").await.0, 404);
        assert_eq!(get_json(&s, &admin, &format!("/api/v1/response/overview/nope?year={y}")).await.0, 404);
        assert_eq!(get_json(&s, &admin, &format!("/api/v1/response/overview/countries?year={y}&format=pdf")).await.0, 422);
        assert_eq!(client().get(s.url(&format!("/api/v1/response/overview?year={y}"))).send().await.unwrap().status(), 401);

        // The tables: CSV with an HXL row, and every table in one workbook.
        let r = client().get(s.url(&format!("/api/v1/response/overview/countries?year={y}"))).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = r.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[1].starts_with("#country+code,#country+name,#inneed,#targeted,#reached+f+children,#reached+m+children"), "{csv}");
        assert!(lines.iter().any(|l| l.starts_with("COL,Colombia,1400,600,7,4,3,4,0,18,0.0300,40000,66.6700")), "{csv}");
        assert!(lines.last().unwrap().starts_with("Total,,2200,900,"), "{csv}");
        let r = client().get(s.url(&format!("/api/v1/response/overview/partners?year={y}"))).bearer_auth(&admin).send().await.unwrap();
        let csv = r.text().await.unwrap();
        assert!(csv.lines().nth(1).unwrap().starts_with("#org+name,#org+acronym"), "{csv}");
        assert!(csv.contains("Acción Norte,AN,COL,EDU PRO-CP,5,"), "{csv}");
        let r = client().get(s.url(&format!("/api/v1/response/overview/all?year={y}"))).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
        assert_eq!(book.sheet_names(), ["countries", "sectors", "areas", "partners", "months", "funding", "units"]);

        // The routes are in the OpenAPI document.
        let doc: Value = client().get(s.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert!(doc["paths"]["/api/v1/response/overview"].is_object());
        assert!(doc["paths"]["/api/v1/response/overview/{table}"].is_object());

        // The page, in Spanish: the figures, the map, the downloads.
        let (browser, _) = s.signed_in("viewer").await;
        let page = browser.get(s.url("/response")).header("accept-language", "es").send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("id=\"response-headlines\""), "{html}");
        assert!(html.contains("<svg"));
        assert!(html.contains("Colombia"));
        assert!(html.contains("Acción Norte"));
        assert!(html.contains("/api/v1/response/overview/countries?year="));
        assert!(html.contains("personas alcanzadas"));
        let html = browser.get(s.url("/response?year=1990")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("id=\"no-plan\""));
        let r = browser.get(s.url("/response?sector=NOPE")).send().await.unwrap();
        assert_eq!(r.status(), 422);
    }

    async fn plan_page_edits_targets_and_refuses_bad_input(s: TestServer) {
        let c = setup(&s).await;
        let y = c.year;
        let admin = s.token("admin").await;
        let (browser, csrf) = s.signed_in("admin").await;
        let html = browser.get(s.url(&format!("/response/plan?year={y}&country=COL"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("id=\"targets-form\""), "{html}");
        assert!(html.contains("Norte de Santander"));
        assert!(html.contains("id=\"plan-load\""));
        // The three Colombian targets in the plan's order, then the blank row: raise the
        // education target in Norte de Santander, add one for child protection in Antioquia.
        let post = |form: Vec<(&'static str, String)>| {
            let browser = browser.clone();
            let url = s.url("/response/plan/targets");
            async move { browser.post(url).form(&form).send().await.unwrap() }
        };
        let plan: Value = get_json(&s, &admin, &format!("/api/v1/response/plans/{y}")).await.1;
        let col: Vec<&Value> = plan["targets"].as_array().unwrap().iter().filter(|t| t["country_code"] == "COL").collect();
        let mut form = vec![("csrf", csrf.clone()), ("year", y.to_string()), ("country", "COL".into())];
        for t in &col {
            form.push(("admin1", t["admin1_pcode"].as_str().unwrap_or_default().to_string()));
            form.push(("sector", t["sector_code"].as_str().unwrap().to_string()));
            form.push(("in_need", t["people_in_need"].to_string()));
            let targeted = if t["admin1_pcode"] == "CO-NSA" { "700".to_string() } else { t["people_targeted"].to_string() };
            form.push(("targeted", targeted));
            form.push(("funding", t["funding_required_usd"].to_string()));
        }
        let good = form.clone();
        form.extend([("admin1", "CO-ANT".into()), ("sector", "PRO-CP".into()), ("in_need", "50".into()), ("targeted", "20".into()), ("funding", "1000.5".into())]);
        // Text in a number: refused, named, what was typed kept, nothing saved.
        let mut bad = form.clone();
        let i = bad.iter().position(|(k, _)| *k == "targeted").unwrap();
        bad[i].1 = "setecientos".into();
        let r = post(bad).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("targets[0].people_targeted"), "{html}");
        assert!(html.contains("value=\"setecientos\""));
        // More people targeted than in need: refused.
        let mut bad = form.clone();
        let i = bad.iter().rposition(|(k, _)| *k == "targeted").unwrap();
        bad[i].1 = "5000".into();
        let r = post(bad).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("more people targeted than in need"));
        // An area of another country: refused.
        let mut bad = form.clone();
        let i = bad.iter().rposition(|(k, _)| *k == "admin1").unwrap();
        bad[i].1 = "PE-LIM".into();
        assert_eq!(post(bad).await.status(), 422);
        let unchanged: Value = get_json(&s, &admin, &format!("/api/v1/response/plans/{y}")).await.1;
        assert_eq!(unchanged["targets"], plan["targets"]);
        // Without the CSRF token: refused.
        let mut forged = form.clone();
        forged[0].1 = "forged".into();
        assert_eq!(post(forged).await.status(), 403);
        // The good form: saved.
        let r = post(form).await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let saved: Value = get_json(&s, &admin, &format!("/api/v1/response/plans/{y}")).await.1;
        let targets = saved["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 5, "{saved}");
        assert!(targets.iter().any(|t| t["admin1_pcode"] == "CO-NSA" && t["people_targeted"] == 700));
        assert!(targets.iter().any(|t| t["admin1_pcode"] == "CO-ANT" && t["sector_code"] == "PRO-CP" && t["funding_required_usd"] == 1000.5));
        // The overview follows: Colombia's targeted across sectors is now 700 + 100.
        let (_, o) = get_json(&s, &admin, &format!("/api/v1/response/overview?year={y}&country=COL")).await;
        assert_eq!(o["total"]["people_targeted"], 800, "{o}");

        // Peru's IM officer may not edit Colombia's targets, and sees no form there.
        let (per, per_csrf) = s.signed_in("im_per").await;
        let mut other = good.clone();
        other[0].1 = per_csrf;
        assert_eq!(per.post(s.url("/response/plan/targets")).form(&other).send().await.unwrap().status(), 403);
        let (viewer, viewer_csrf) = s.signed_in("viewer").await;
        let html = viewer.get(s.url(&format!("/response/plan?year={y}&country=COL"))).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("id=\"targets-form\""));
        assert!(!html.contains("id=\"plan-load\""));
        assert!(html.contains("id=\"plan-targets\""));
        assert!(html.contains("Indicator EDU-1"));
        let mut other = good;
        other[0].1.clone_from(&viewer_csrf);
        assert_eq!(viewer.post(s.url("/response/plan/targets")).form(&other).send().await.unwrap().status(), 403);

        // A plan upload from the page: not a workbook → the page with the error; the plan
        // is unchanged. A viewer may not upload at all.
        let (content_type, body) = multipart(&[("csrf", None, csrf.as_bytes()), ("file", Some("plan.xlsx"), b"not a workbook")]);
        let r = browser.post(s.url("/response/plan/upload")).header("content-type", content_type).body(body).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("id=\"plan-errors\""));
        let (content_type, body) = multipart(&[("csrf", None, viewer_csrf.as_bytes()), ("file", Some("plan.xlsx"), b"x")]);
        assert_eq!(viewer.post(s.url("/response/plan/upload")).header("content-type", content_type).body(body).send().await.unwrap().status(), 403);
        let (content_type, body) = multipart(&[("csrf", None, b"forged"), ("file", Some("plan.xlsx"), b"x")]);
        assert_eq!(browser.post(s.url("/response/plan/upload")).header("content-type", content_type).body(body).send().await.unwrap().status(), 403);
        // A plan that leaves out an indicator report rows use is refused, nothing changed.
        report(&s, &admin, y, vec![row(c.org_a, "CP-1", "COL", "CO-NSA", &format!("{y}-01"), [1, 0, 0, 0], true)]).await;
        let (content_type, body) = multipart(&[("csrf", None, csrf.as_bytes()), ("file", Some("plan.xlsx"), &plan_workbook(y))]);
        let r = browser.post(s.url("/response/plan/upload")).header("content-type", content_type).body(body).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("indicator `CP-1` is left out, but 1 report rows"), "{html}");
        let kept: Value = get_json(&s, &admin, &format!("/api/v1/response/plans/{y}")).await.1;
        assert_eq!(kept["indicators"].as_array().unwrap().len(), 3);
        let r = client().get(s.url(&format!("/api/v1/response/reports?year={y}"))).bearer_auth(&admin).send().await.unwrap();
        let rows: Value = r.json().await.unwrap();
        let id = rows["items"][0]["id"].as_i64().unwrap();
        let r = client().delete(s.url(&format!("/api/v1/response/reports/{id}"))).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 204);
        // A filled plan loads through the page and replaces the year's plan.
        let (content_type, body) = multipart(&[("csrf", None, csrf.as_bytes()), ("file", Some("plan.xlsx"), &plan_workbook(y))]);
        let r = browser.post(s.url("/response/plan/upload")).header("content-type", content_type).body(body).send().await.unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let loaded: Value = get_json(&s, &admin, &format!("/api/v1/response/plans/{y}")).await.1;
        assert_eq!(loaded["name"], "Plan from the page");
        assert_eq!(loaded["targets"].as_array().unwrap().len(), 1);
    }
}
