//! Public figures on both engines: what an anonymous reader gets from the aggregates API,
//! its CSV with HXL, and the public pages — and an attack on all of it that must fail to
//! recompute any hidden cell.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use reqwest::StatusCode;
use rumbo_analytics::disclosure::recoverable;
use rumbo_store::model::{Actor, AdminAreaInput, SiteInput, SiteKind};
use serde_json::{Value, json};

use crate::common::{TestServer, client, publish_form, submit_answers};

const SURVEY: &str = "| survey |\n\
    | | type | name | label | required | calculation | sensitive |\n\
    | | select_one sites | site | Point | yes | | |\n\
    | | select_one sex | sex | Sex | yes | | |\n\
    | | integer | age | Age | yes | | |\n\
    | | calculate | age_group | | | if(${age} < 18, '12-17', if(${age} < 60, '18-59', '60+')) | |\n\
    | | select_one yn | food | Needs food | | | |\n\
    | | select_one yn | debt | Owes the person who arranged the trip | | | yes |\n\
    | choices |\n\
    | | list_name | name | label |\n\
    | | sites | PER-FMP-001 | Plaza Norte |\n\
    | | sites | PER-FMP-002 | Tumbes |\n\
    | | sites | PER-FMP-003 | Arequipa |\n\
    | | sites | COL-FMP-001 | Cúcuta |\n\
    | | sites | COL-FMP-002 | Arauca |\n\
    | | sex | female | Woman |\n\
    | | sex | male | Man |\n\
    | | yn | yes | Yes |\n\
    | | yn | no | No |\n\
    | settings |\n\
    | | form_id | version |\n\
    | | pub_test | 1 |\n";

const INDICATORS: &str = r##"
[[indicator]]
id = "pub_people"
form = "pub_test"
kind = "count"
name = { en = "People interviewed", es = "Personas entrevistadas" }
disaggregations = ["site", "adm1", "sex", "age_group"]
hxl = "#affected+interviewed"
headline = true

[[indicator]]
id = "pub_food"
form = "pub_test"
kind = "proportion"
name = { en = "Need food", es = "Necesitan alimentos" }
numerator = "${food} = 'yes'"
disaggregations = ["adm1", "sex"]
section = "needs"

[[indicator]]
id = "pub_debt"
form = "pub_test"
kind = "proportion"
name = { en = "Owe the person who arranged the trip" }
numerator = "${debt} = 'yes'"
disaggregations = ["adm1", "sex"]
sensitive_topic = true

[[indicator]]
id = "pub_debt_detail"
form = "pub_test"
kind = "count"
name = { en = "Secret detail" }
filter = "${debt} = 'yes'"
disaggregations = ["adm1", "site", "sex"]
sensitivity = "restricted"
"##;

/// Admin-1 areas and sites beyond the fixture's (Lima with PER-FMP-001, Norte de Santander).
async fn places(s: &TestServer) {
    let actor = Actor::system("test");
    for (country, pcode, name) in
        [("PER", "PE-TUM", "Tumbes"), ("PER", "PE-ARE", "Arequipa"), ("COL", "CO-ARA", "Arauca")]
    {
        let mut a = AdminAreaInput {
            country_code: country.into(),
            pcode: pcode.into(),
            level: 1,
            name_en: name.into(),
            ..Default::default()
        };
        a.normalise();
        s.db.create_admin_area(&actor, &a).await.unwrap();
    }
    for (country, code, area) in [
        ("PER", "PER-FMP-002", "PE-TUM"),
        ("PER", "PER-FMP-003", "PE-ARE"),
        ("COL", "COL-FMP-001", "CO-NSA"),
        ("COL", "COL-FMP-002", "CO-ARA"),
    ] {
        s.db.create_site(
            &actor,
            &SiteInput {
                country_code: country.into(),
                code: code.into(),
                name: code.into(),
                kind: SiteKind::BorderCrossing,
                latitude: if country == "PER" { -10.0 } else { 7.0 },
                longitude: -75.0,
                admin_area_pcode: Some(area.into()),
                active: true,
            },
        )
        .await
        .unwrap();
    }
}

/// Interviews spread unevenly over points, sexes and ages: many small cells.
async fn interviews(s: &TestServer, token: &str) {
    let form = publish_form(s, token, "pub_test.md", SURVEY.as_bytes(), "PER,COL").await;
    let sites = ["PER-FMP-001", "PER-FMP-002", "PER-FMP-003", "COL-FMP-001", "COL-FMP-002"];
    // (site, sex, age) with how many of each: the big ones and a scatter of ones and twos.
    let mut plan: Vec<(&str, &str, u32, usize)> = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        plan.push((site, "female", 30, 6 + i));
        plan.push((site, "male", 30, 7 + 2 * i));
        plan.push((site, if i % 2 == 0 { "female" } else { "male" }, 70, 1 + i % 3));
        plan.push((site, "male", 15, usize::from(i != 2) * (2 + i % 2)));
    }
    let mut n = 0;
    for (site, sex, age, count) in plan {
        for k in 0..count {
            n += 1;
            let data = json!({
                "site": site, "sex": sex, "age": age, "food": if k % 3 == 0 { "yes" } else { "no" },
                "debt": if k % 4 == 1 { "yes" } else { "no" },
                "meta": { "instanceID": format!("uuid:pub-{n}") },
            });
            submit_answers(s, token, form, data).await;
        }
    }
}

async fn anonymous(s: &TestServer, path: &str) -> (StatusCode, Value) {
    let r = client().get(s.url(path)).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

crate::server_tests! {
    async fn anonymous_readers_get_public_figures_from_which_nothing_hidden_can_be_recomputed(s: TestServer) {
        let admin = s.token("admin").await;
        places(&s).await;
        interviews(&s, &admin).await;
        let r = client().post(s.url("/api/v1/indicators/import")).bearer_auth(&admin).body(INDICATORS).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

        // The truth, as someone who may read the submissions sees it: the finest cells.
        let r = client()
            .get(s.url("/api/v1/aggregates?indicator=pub_people&by=round,country,adm1,sex,age_group"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        let truth: Value = r.json().await.unwrap();
        let key = |row: &Value| -> [String; 5] {
            ["round", "country", "adm1", "sex", "age_group"].map(|d| row["keys"][d].as_str().unwrap_or_default().to_owned())
        };
        let finest: Vec<([String; 5], f64)> =
            truth["rows"].as_array().unwrap().iter().map(|r| (key(r), r["value"].as_f64().unwrap())).collect();
        assert!(finest.iter().any(|(_, v)| *v > 0.0 && *v < 5.0), "the data should have small cells: {truth}");
        let index: HashMap<[String; 5], usize> = finest.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
        let dims = ["round", "country", "adm1", "sex", "age_group"];
        let values_of = |d: usize| {
            let mut v: Vec<String> = finest.iter().map(|(k, _)| k[d].clone()).collect();
            v.sort();
            v.dedup();
            v
        };

        // Everything an anonymous reader can ask: every breakdown, with no filter or one.
        let mut published: Vec<Vec<usize>> = Vec::new();
        let mut asked = 0;
        for mask in 0u32..32 {
            let by: Vec<&str> = dims.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, d)| *d).collect();
            let mut filters: Vec<Option<(usize, String)>> = vec![None];
            for (i, _) in dims.iter().enumerate().filter(|(i, _)| mask & (1 << i) == 0) {
                filters.extend(values_of(i).into_iter().map(|v| Some((i, v))));
            }
            for filter in filters {
                let mut path = format!("/api/v1/aggregates?indicator=pub_people&by={}", by.join(","));
                if let Some((i, v)) = &filter {
                    let _ = write!(path, "&{}={v}", dims[*i]);
                }
                let (status, answer) = anonymous(&s, &path).await;
                asked += 1;
                if status != StatusCode::OK {
                    continue;
                }
                let members = |keys: &Value| -> Vec<usize> {
                    finest
                        .iter()
                        .filter(|(k, _)| {
                            dims.iter().enumerate().all(|(i, d)| {
                                let want = keys.get(*d).and_then(Value::as_str).map(str::to_owned).or_else(|| {
                                    filter.as_ref().filter(|(f, _)| *f == i).map(|(_, v)| v.clone())
                                });
                                want.is_none_or(|w| w == k[i])
                            })
                        })
                        .map(|(k, _)| index[k])
                        .collect()
                };
                for row in answer["rows"].as_array().unwrap() {
                    let v = row["value"].as_f64().unwrap();
                    assert!(v >= 5.0, "an anonymous reader got a cell under the threshold: {path} {row}");
                    let set = members(&row["keys"]);
                    let sum: f64 = set.iter().map(|&i| finest[i].1).sum();
                    assert!((sum - v).abs() < 1e-9, "{path}: {v} is not the sum of its cells ({sum})");
                    published.push(set);
                }
                if let Some(v) = answer["total"]["value"].as_f64() {
                    assert!(v >= 5.0 || v == 0.0, "a small total was published: {path} {answer}");
                    published.push(members(&json!({})));
                }
            }
        }
        assert!(asked > 100 && published.len() > 50, "{asked} questions, {} figures", published.len());
        published.sort();
        published.dedup();
        // The attack: every small cell of every breakdown, recomputed from what was published?
        let mut targets = Vec::new();
        let mut small = Vec::new();
        for mask in 0u32..32 {
            let kept: Vec<usize> = (0..5).filter(|i| mask & (1 << i) != 0).collect();
            let mut sums: BTreeMap<Vec<String>, (f64, Vec<usize>)> = BTreeMap::new();
            for (i, (k, v)) in finest.iter().enumerate() {
                let e = sums.entry(kept.iter().map(|d| k[*d].clone()).collect()).or_default();
                e.0 += v;
                e.1.push(i);
            }
            for (k, (v, set)) in sums {
                if v > 0.0 && v < 5.0 {
                    small.push((k, v));
                    targets.push(set);
                }
            }
        }
        assert!(!targets.is_empty());
        let found = recoverable(finest.len(), &published, &targets);
        let recovered: Vec<_> = small.iter().zip(&found).filter(|(_, f)| **f).map(|(s, _)| s).collect();
        assert!(recovered.is_empty(), "small cells recomputed from public figures: {recovered:?}");

        // What may not be asked without signing in.
        let (status, body) = anonymous(&s, "/api/v1/aggregates?indicator=pub_debt_detail").await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = anonymous(&s, "/api/v1/aggregates?indicator=pub_people&by=site").await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("site"), "{body}");
        let (status, _) = anonymous(&s, "/api/v1/aggregates?indicator=pub_people&from=2026-01-01").await;
        assert_eq!(status, 422);
        let (status, body) = anonymous(&s, "/api/v1/aggregates?indicator=pub_people&by=sex&country=PER,COL").await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("one value per filter"), "{body}");
        // A sensitive topic: by country, never by admin 1 — in public and for a viewer.
        let (status, body) = anonymous(&s, "/api/v1/aggregates?indicator=pub_debt&by=country").await;
        assert_eq!(status, 200, "{body}");
        let (status, _) = anonymous(&s, "/api/v1/aggregates?indicator=pub_debt&by=adm1").await;
        assert_eq!(status, 422);
        let (status, _) = anonymous(&s, "/api/v1/aggregates?indicator=pub_debt&adm1=PE-LIM").await;
        assert_eq!(status, 422);
        let viewer = s.token("viewer").await;
        let r = client().get(s.url("/api/v1/aggregates?indicator=pub_debt&by=adm1")).bearer_auth(&viewer).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let r = client().get(s.url("/api/v1/aggregates?indicator=pub_debt&by=adm1")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 200, "the regional administrator reads the submissions");
        // A wrong token is not anonymous.
        let r = client().get(s.url("/api/v1/aggregates?indicator=pub_people")).bearer_auth("nonsense").send().await.unwrap();
        assert_eq!(r.status(), 401);

        // CSV with its HXL row: one tag per column.
        let r = client().get(s.url("/api/v1/aggregates?indicator=pub_people&by=adm1,sex,age_group&country=PER&format=csv")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = r.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let tags = &records[0];
        assert_eq!(tags.len(), headers.len(), "{csv}");
        assert!(tags.iter().all(rumbo_analytics::hxl::valid), "{csv}");
        assert_eq!(&tags[0], "#adm1+code");
        assert!(tags.iter().any(|t| t == "#affected+interviewed+f+adults+age18_59"), "{csv}");
        assert!(records[1..].iter().all(|r| r[0].starts_with("PE-")), "{csv}");
        for r in &records[1..] {
            for (tag, cell) in tags.iter().zip(r.iter()) {
                if tag.starts_with("#affected") && !cell.is_empty() {
                    assert!(cell.parse::<f64>().unwrap() >= 5.0, "{csv}");
                }
            }
        }
        let r = client().get(s.url("/api/v1/aggregates?indicator=pub_people&format=pdf")).send().await.unwrap();
        assert_eq!(r.status(), 422);

        // The public pages: anonymous, public indicators only.
        let r = client().get(s.url("/public")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("People interviewed") && html.contains("<svg"), "{html}");
        assert!(!html.contains("Secret detail"));
        let r = client().get(s.url("/public/PER")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("/public/data.csv?"), "{html}");
        // Open data: each public indicator's whole public table, in every format.
        assert!(html.contains("id=\"open-data\""), "{html}");
        assert!(!html.contains("pub_debt_detail"));
        for format in ["csv", "xlsx", "geojson"] {
            let r = client()
                .get(s.url(&format!("/api/v1/aggregates?indicator=pub_people&by=round,country,adm1,sex,age_group&country=PER&format={format}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{format}");
        }
        let r = client().get(s.url("/public/XXX")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let r = client().get(s.url("/public/data.csv?indicator=pub_people&by=country")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let csv = r.text().await.unwrap();
        assert!(csv.lines().nth(1).unwrap().starts_with("#country+code,#country+name,#affected+interviewed"), "{csv}");
    }
}
