//! Exports, on both engines: background exports of submissions end to end (created, polled,
//! downloaded, compared with the submissions), who gets which rows and which answers,
//! cancelling and deleting, bad requests named by field, the page and its button, an
//! export interrupted after one batch and resumed byte for byte; and aggregates as XLSX and
//! GeoJSON whose HXL row matches their columns.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use rumbo_analytics::hxl::valid;
use rumbo_server::auth::Caller;
use rumbo_server::collect::Submitter;
use rumbo_server::collect::ops::JsonSubmission;
use rumbo_server::outputs::jobs::{self, ExportRequest, Outcome, Run};
use rumbo_server::{AppState, ServerConfig};
use rumbo_store::collection::Channel;
use serde_json::{Value, json};

use crate::common::{TestServer, client, csrf_of, multipart, publish_form, submit_answers};

const FORM: &str = "| survey |\n\
    | | type | name | label | required | sensitive |\n\
    | | select_one countries | country | Country | yes | |\n\
    | | select_one sites | site | Point | | |\n\
    | | text | name | Name | | yes |\n\
    | | select_one sex | sex | Sex | yes | |\n\
    | | integer | age | Age | yes | |\n\
    | | select_multiple need | needs | Needs | | |\n\
    | | begin group | hh | Household | | |\n\
    | | integer | size | Size | | |\n\
    | | end group | | | | |\n\
    | | begin repeat | members | Members | | |\n\
    | | text | phone | Phone | | yes |\n\
    | | integer | m_age | Age | | |\n\
    | | end repeat | | | | |\n\
    | choices |\n\
    | | list_name | name | label | |\n\
    | | countries | COL | Colombia | |\n\
    | | countries | PER | Peru | |\n\
    | | sites | PER-FMP-001 | Plaza Norte | |\n\
    | | sex | female | Woman | |\n\
    | | sex | male | Man | |\n\
    | | need | food | Food | |\n\
    | | need | water | Water | |\n\
    | settings |\n\
    | | form_id | version | |\n\
    | | exp_test | 1 | |\n";

const INDICATORS: &str = r##"
[[indicator]]
id = "exp_people"
form = "exp_test"
kind = "count"
name = { en = "People seen" }
disaggregations = ["country", "adm1", "sex"]
hxl = "#affected+seen"
"##;

/// Submission `i`: even ones in Peru (at the point in Lima), odd ones in Colombia.
fn answers(i: usize) -> Value {
    let peru = i.is_multiple_of(2);
    let mut data = json!({
        "country": if peru { "PER" } else { "COL" },
        "name": format!("Person {i}"),
        "sex": if i.is_multiple_of(3) { "male" } else { "female" },
        "age": 20 + i,
        "needs": if i.is_multiple_of(4) { "food water" } else { "water" },
        "hh": { "size": 1 + i % 5 },
        "members": [{ "phone": format!("555-{i:04}"), "m_age": i % 17 }],
        "meta": { "instanceID": format!("uuid:exp-{i:04}") },
    });
    if peru {
        data["site"] = json!("PER-FMP-001");
    }
    data
}

async fn publish(s: &TestServer, token: &str) -> i64 {
    publish_form(s, token, "exp_test.md", FORM.as_bytes(), "COL,PER").await
}

async fn fill(s: &TestServer, token: &str, form: i64, n: usize) {
    for i in 0..n {
        submit_answers(s, token, form, answers(i)).await;
    }
}

async fn start(s: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    let r = client().post(s.url("/api/v1/exports")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Polls an export until it is no longer queued or running.
async fn finished(s: &TestServer, token: &str, id: i64) -> Value {
    for _ in 0..300 {
        let job: Value = client()
            .get(s.url(&format!("/api/v1/exports/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("export {id} did not finish");
}

async fn download(s: &TestServer, token: &str, id: i64) -> (StatusCode, String) {
    let r = client().get(s.url(&format!("/api/v1/exports/{id}/download"))).bearer_auth(token).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A CSV as its header and its rows keyed by the first column (the submission id).
fn read_csv(text: &str) -> (Vec<String>, HashMap<String, HashMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let row: HashMap<String, String> = header.iter().cloned().zip(r.iter().map(str::to_string)).collect();
            (r[0].to_string(), row)
        })
        .collect();
    (header, rows)
}

crate::server_tests! {
    async fn an_export_runs_in_the_background_and_holds_every_submission(s: TestServer) {
        let admin = s.token("admin").await;
        let form = publish(&s, &admin).await;
        fill(&s, &admin, form, 12).await;

        let (status, job) = start(&s, &admin, json!({ "form": form })).await;
        assert_eq!(status, 202, "{job}");
        assert_eq!(job["status"], "queued");
        let id = job["id"].as_i64().unwrap();
        let job = finished(&s, &admin, id).await;
        assert_eq!(job["status"], "done", "{job}");
        assert_eq!((job["rows_done"].as_i64(), job["rows_total"].as_i64(), job["percent"].as_f64()), (Some(12), Some(12), Some(100.0)));
        assert_eq!(job["sensitive"], "include");
        assert_eq!(job["download"], format!("/api/v1/exports/{id}/download"));

        let (status, text) = download(&s, &admin, id).await;
        assert_eq!(status, 200);
        assert_eq!(job["bytes_written"].as_i64(), Some(text.len() as i64));
        let (header, rows) = read_csv(&text);
        assert_eq!(header[..13], jobs::FIXED_COLUMNS.map(String::from));
        assert_eq!(header[13..], ["country", "site", "name", "sex", "age", "needs", "hh/size", "members"].map(String::from));
        assert_eq!(rows.len(), 12);
        // Row by row and column by column, what the review table's CSV holds.
        let sync = client()
            .get(s.url(&format!("/api/v1/forms/{form}/submissions.csv")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (sync_header, sync_rows) = read_csv(&sync);
        assert_eq!(sync_rows.len(), 12);
        let mut compared = 0;
        for (id, row) in &rows {
            let expected = &sync_rows[id];
            for column in header.iter().filter(|c| sync_header.contains(c)) {
                assert_eq!(row[column], expected[column], "submission {id}, column {column}");
                compared += 1;
            }
        }
        assert!(compared >= 12 * 20, "{compared}");
        let one = rows.values().find(|r| r["instance_id"] == "uuid:exp-0004").unwrap();
        assert_eq!((one["name"].as_str(), one["needs"].as_str(), one["hh/size"].as_str()), ("Person 4", "food water", "5"));
        assert_eq!(one["members"], r#"[{"phone":"555-0004","m_age":4}]"#);
        assert_eq!((one["country"].as_str(), one["site"].as_str()), ("PER", "PER-FMP-001"));

        // Created and downloaded: both in the audit log.
        let audit: Value = client().get(s.url("/api/v1/audit?entity=export")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        let actions: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|l| l["action"].as_str()).collect();
        assert!(actions.contains(&"export") && actions.contains(&"download"), "{actions:?}");

        // Listed; deleted with its file; gone.
        let list: Value = client().get(s.url("/api/v1/exports")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(list[0]["id"].as_i64(), Some(id));
        let files = || std::fs::read_dir(s.data.path().join("exports")).map_or(0, Iterator::count);
        assert_eq!(files(), 1);
        let r = client().delete(s.url(&format!("/api/v1/exports/{id}"))).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(files(), 0);
        let r = client().get(s.url(&format!("/api/v1/exports/{id}"))).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 404);
    }

    async fn rows_and_answers_follow_the_creators_rights(s: TestServer) {
        let admin = s.token("admin").await;
        let form = publish(&s, &admin).await;
        fill(&s, &admin, form, 10).await;

        // A viewer reads every country but no sensitive answer: the columns are left out,
        // and so is the phone inside each household member.
        let viewer = s.token("viewer").await;
        let (status, job) = start(&s, &viewer, json!({ "form": form })).await;
        assert_eq!(status, 202, "{job}");
        assert_eq!(job["sensitive"], "drop");
        let viewer_job = job["id"].as_i64().unwrap();
        assert_eq!(finished(&s, &viewer, viewer_job).await["status"], "done");
        let (_, text) = download(&s, &viewer, viewer_job).await;
        let (header, rows) = read_csv(&text);
        assert_eq!(rows.len(), 10);
        assert!(!header.contains(&"name".to_string()), "{header:?}");
        assert!(header.contains(&"members".to_string()));
        assert!(!text.contains("Person ") && !text.contains("555-"), "{text}");
        assert!(text.contains(r#"[{""m_age"":3}]"#), "{text}");

        // A Colombian IM officer reviews: the names are there, only for Colombia.
        let im = s.token("im_col").await;
        let (status, job) = start(&s, &im, json!({ "form": form, "status": "received" })).await;
        assert_eq!(status, 202, "{job}");
        assert_eq!(job["sensitive"], "include");
        let im_job = job["id"].as_i64().unwrap();
        assert_eq!(finished(&s, &im, im_job).await["status"], "done");
        let (_, text) = download(&s, &im, im_job).await;
        let (header, rows) = read_csv(&text);
        assert!(header.contains(&"name".to_string()));
        assert_eq!(rows.len(), 5);
        assert!(rows.values().all(|r| r["country"] == "COL" && r["name"].starts_with("Person ")));
        assert!(text.contains("555-0001"));

        // Each sees only their own exports: someone else's is not found.
        for path in [format!("/api/v1/exports/{viewer_job}"), format!("/api/v1/exports/{viewer_job}/download")] {
            let r = client().get(s.url(&path)).bearer_auth(&im).send().await.unwrap();
            assert_eq!(r.status(), 404, "{path}");
        }
        let r = client().delete(s.url(&format!("/api/v1/exports/{viewer_job}"))).bearer_auth(&im).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let list: Value = client().get(s.url("/api/v1/exports")).bearer_auth(&im).send().await.unwrap().json().await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        // The regional administrator sees both.
        let list: Value = client().get(s.url("/api/v1/exports")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2);

        // Another country's data is refused; so is a role that does not read submissions.
        let (status, body) = start(&s, &im, json!({ "form": form, "country": "PER" })).await;
        assert_eq!(status, 403, "{body}");
        let enumerator = s.token("enumerator").await;
        let (status, body) = start(&s, &enumerator, json!({ "form": form })).await;
        assert_eq!(status, 403, "{body}");
        let (content_type, body) =
            multipart(&[("file", Some("per.md"), FORM.replace("exp_test", "per_only").as_bytes()), ("countries", None, b"PER")]);
        let r = client().post(s.url("/api/v1/forms")).bearer_auth(&admin).header("content-type", content_type).body(body).send().await.unwrap();
        let per_form = r.json::<Value>().await.unwrap()["form"]["id"].as_i64().unwrap();
        let admin_col = s.token("admin_col").await;
        let (status, body) = start(&s, &admin_col, json!({ "form": per_form })).await;
        assert_eq!(status, 403, "{body}");
    }

    async fn bad_requests_name_their_field(s: TestServer) {
        let admin = s.token("admin").await;
        let form = publish(&s, &admin).await;
        for (body, field, status) in [
            (json!({ "form": form, "format": "xlsx" }), "format", 422),
            (json!({ "form": form, "status": "lost" }), "status", 422),
            (json!({ "form": form, "from": "2026-05-02", "to": "2026-05-01" }), "to", 422),
            (json!({ "form": form, "from": "yesterday" }), "from", 422),
            (json!({ "form": form, "site_id": 999 }), "site_id", 422),
            (json!({ "form": form, "country": "ARG" }), "country", 422),
            (json!({ "form": form, "contry": "COL" }), "contry", 422),
            (json!({ "format": "csv" }), "form", 422),
        ] {
            let (got, answer) = start(&s, &admin, body.clone()).await;
            assert_eq!(got.as_u16(), status, "{body} → {answer}");
            assert!(answer["field"].as_str().is_some_and(|f| f.contains(field)), "{body} → {answer}");
        }
        let (status, _) = start(&s, &admin, json!({ "form": 9999 })).await;
        assert_eq!(status, 404);
        let r = client().get(s.url("/api/v1/exports/9999/download")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 404);
    }

    async fn the_review_page_starts_an_export_that_the_exports_page_follows(s: TestServer) {
        let admin = s.token("admin").await;
        let form = publish(&s, &admin).await;
        fill(&s, &admin, form, 3).await;
        let (c, _) = s.signed_in("admin").await;
        let page = c.get(s.url(&format!("/forms/{form}/submissions?country=COL"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"export-all\""), "{page}");
        let start = &page[page.find("id=\"export-all\"").unwrap()..];
        assert!(start.contains("name=\"country\" value=\"COL\""));
        let csrf = csrf_of(start);
        // Without the CSRF token nothing starts.
        let r = c.post(s.url("/exports")).form(&[("form", form.to_string())]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = c
            .post(s.url("/exports"))
            .form(&[("csrf", csrf.as_str()), ("form", &form.to_string()), ("country", "COL")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let list: Value = client().get(s.url("/api/v1/exports")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        let id = list[0]["id"].as_i64().unwrap();
        assert_eq!(list[0]["filter"]["country"], "COL");
        assert_eq!(finished(&s, &admin, id).await["rows_done"].as_i64(), Some(1));
        let page = c.get(s.url("/exports")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!("/api/v1/exports/{id}/download")), "{page}");
        // The session downloads it too.
        let r = c.get(s.url(&format!("/api/v1/exports/{id}/download"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains("exp_test-submissions"));
        // A bad filter is named.
        let r = c
            .post(s.url("/exports"))
            .form(&[("csrf", csrf.as_str()), ("form", &form.to_string()), ("from", "May")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("from"));
    }

    async fn aggregates_download_as_xlsx_and_geojson_with_their_hxl_row(s: TestServer) {
        let admin = s.token("admin").await;
        let form = publish(&s, &admin).await;
        let r = client().post(s.url("/api/v1/indicators/import")).bearer_auth(&admin).body(INDICATORS).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        fill(&s, &admin, form, 14).await;
        let get = |path: String| {
            let admin = admin.clone();
            let url = s.url(&path);
            async move { client().get(url).bearer_auth(&admin).send().await.unwrap() }
        };

        // XLSX: the header row, the HXL row (one valid tag per column), then the rows.
        let r = get("/api/v1/aggregates?indicator=exp_people&by=adm1,sex&format=xlsx".into()).await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
        let bytes = r.bytes().await.unwrap().to_vec();
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
        use calamine::Reader as _;
        let sheet = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&sheet).unwrap();
        let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(ToString::to_string).collect()).collect();
        let (headers, tags) = (&rows[0], &rows[1]);
        assert_eq!(headers.len(), tags.len());
        assert!(tags.iter().all(|t| valid(t)), "{tags:?}");
        assert_eq!(tags[0], "#adm1+code");
        assert!(tags.iter().any(|t| t == "#affected+seen+f"), "{tags:?}");
        // Peru's submissions are in Lima; Colombia's have no point, so no admin-1 area.
        assert!(rows[2..].iter().any(|r| r[0] == "PE-LIM"), "{rows:?}");
        let data_row = rows[2..].iter().find(|r| r[0] == "PE-LIM").unwrap();
        let f = tags.iter().position(|t| t == "#affected+seen+f").unwrap();
        assert!(matches!(range.get((rows.iter().position(|r| r == data_row).unwrap(), f)), Some(calamine::Data::Float(_))));
        // The same table as CSV has the same tags.
        let csv = get("/api/v1/aggregates?indicator=exp_people&by=adm1,sex&format=csv".into()).await.text().await.unwrap();
        assert_eq!(csv.lines().nth(1).unwrap().split(',').collect::<Vec<_>>(), tags.iter().map(String::as_str).collect::<Vec<_>>());

        // GeoJSON: one feature per row on its area, the `hxl` member naming every property.
        let r = get("/api/v1/aggregates?indicator=exp_people&by=adm1,sex&format=geojson".into()).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/geo+json");
        let fc: Value = r.json().await.unwrap();
        let hxl = fc["hxl"].as_object().unwrap();
        let features = fc["features"].as_array().unwrap();
        assert_eq!(features.len(), rows.len() - 2);
        for feature in features {
            let properties = feature["properties"].as_object().unwrap();
            assert_eq!(properties.len(), hxl.len());
            assert!(properties.keys().all(|k| hxl.contains_key(k)));
        }
        assert!(hxl.values().all(|t| valid(t.as_str().unwrap())));
        let code = hxl.iter().find(|(_, t)| *t == "#adm1+code").map(|(k, _)| k.clone()).unwrap();
        let lima = features.iter().find(|f| f["properties"][&code] == "PE-LIM").unwrap();
        assert_eq!(lima["geometry"]["type"], "Polygon");
        // The admin-1 code column holds p-codes of areas that exist.
        for feature in features {
            let pcode = feature["properties"][&code].as_str().unwrap_or_default();
            assert!(pcode.is_empty() || pcode == "—" || ["PE-LIM", "CO-NSA"].contains(&pcode), "{pcode}");
        }
        // By country: each feature on its country's boundary.
        let fc: Value = get("/api/v1/aggregates?indicator=exp_people&by=country&format=geojson".into()).await.json().await.unwrap();
        let code = fc["hxl"].as_object().unwrap().iter().find(|(_, t)| *t == "#country+code").map(|(k, _)| k.clone()).unwrap();
        let peru = fc["features"].as_array().unwrap().iter().find(|f| f["properties"][&code] == "PER").unwrap();
        assert_eq!(peru["geometry"]["type"], "Polygon");

        // The dashboard's download answers the same formats; a wrong one is named.
        let (c, _) = s.signed_in("admin").await;
        let r = c.get(s.url("/dashboard/data.csv?indicator=exp_people&by=adm1&format=xlsx")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"].to_str().unwrap().ends_with(".xlsx\""));
        let r = get("/api/v1/aggregates?indicator=exp_people&by=adm1&format=pdf".into()).await;
        assert_eq!(r.status(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["field"], "format");
    }
}

rumbo_store::engine_tests! {
    async fn an_interrupted_export_resumes_to_the_same_file(db: TestDb) {
        crate::common::seed(&db).await;
        let data = tempfile::tempdir().unwrap();
        // The server's parts, without serving: no worker runs but the ones this test drives.
        let config = ServerConfig { data_dir: data.path().to_path_buf(), ..ServerConfig::default() };
        let state = AppState::open(db.store.clone(), config).await.unwrap();
        let user = db.user(db.user_id_by_username("admin").await.unwrap()).await.unwrap();
        let caller = Caller { user, csrf: None };
        let published = rumbo_server::collect::ops::publish(&state, &caller, "exp_test.md", FORM.as_bytes().to_vec(), vec!["COL".into(), "PER".into()])
            .await
            .unwrap();
        for i in 0..23 {
            let body = JsonSubmission { version: None, data: answers(i) };
            rumbo_server::collect::ops::submit_json(&state, &Submitter::user(&caller), &published.form, body, Channel::Web).await.unwrap();
        }
        let request = ExportRequest { form: published.form.id, ..ExportRequest::default() };
        let now = chrono::Utc::now();

        // Uninterrupted, in batches of 5.
        let whole = jobs::create(&state, &caller, request.clone()).await.unwrap();
        assert_eq!(jobs::claim(&state, "one", now).await.unwrap(), Some(whole.id));
        let run = Run { batch: 5, ..Run::new("one") };
        assert_eq!(jobs::run_job(&state, whole.id, &run, None).await.unwrap(), Outcome::Done);
        let whole = db.export_job(whole.id).await.unwrap();
        let expected = std::fs::read(whole.file_path.unwrap()).unwrap();
        assert_eq!(whole.rows_done, 23);

        // Interrupted after one batch of 7, with half a batch more on disk than recorded.
        let job = jobs::create(&state, &caller, request).await.unwrap();
        assert_eq!(jobs::claim(&state, "first", now).await.unwrap(), Some(job.id));
        let first = Run { batch: 7, max_batches: Some(1), ..Run::new("first") };
        assert_eq!(jobs::run_job(&state, job.id, &first, None).await.unwrap(), Outcome::Paused);
        let stopped = db.export_job(job.id).await.unwrap();
        assert_eq!((stopped.status.as_str(), stopped.rows_done), ("running", 7));
        let path = stopped.file_path.clone().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), stopped.bytes_written as u64);
        {
            use std::io::Write as _;
            let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
            file.write_all(b"99999,uuid:half-written,").unwrap();
        }

        // "Restart": the lease still runs, then it has run out and another worker resumes.
        assert_eq!(jobs::claim(&state, "second", now).await.unwrap(), None);
        let later = now + chrono::TimeDelta::minutes(5);
        assert_eq!(jobs::claim(&state, "second", later).await.unwrap(), Some(job.id));
        let second = Run { batch: 4, ..Run::new("second") };
        assert_eq!(jobs::run_job(&state, job.id, &second, None).await.unwrap(), Outcome::Done);
        let resumed = db.export_job(job.id).await.unwrap();
        assert_eq!((resumed.status.as_str(), resumed.rows_done), ("done", 23));
        let got = std::fs::read(&path).unwrap();
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected));
        assert_eq!(resumed.bytes_written as usize, got.len());

        // A running job cancelled between two batches stops and its file goes.
        let job = jobs::create(&state, &caller, ExportRequest { form: published.form.id, ..ExportRequest::default() }).await.unwrap();
        assert_eq!(jobs::claim(&state, "third", later).await.unwrap(), Some(job.id));
        let third = Run { batch: 5, max_batches: Some(1), ..Run::new("third") };
        assert_eq!(jobs::run_job(&state, job.id, &third, None).await.unwrap(), Outcome::Paused);
        db.cancel_export_job(&caller.actor(), job.id).await.unwrap();
        let path = db.export_job(job.id).await.unwrap().file_path.unwrap();
        let third = Run { batch: 5, ..Run::new("third") };
        assert_eq!(jobs::run_job(&state, job.id, &third, None).await.unwrap(), Outcome::Lost);
        assert!(!std::path::Path::new(&path).exists());

        // A server stopped gracefully gives its job back; the next one to start finishes it.
        let job = jobs::create(&state, &caller, ExportRequest { form: published.form.id, ..ExportRequest::default() }).await.unwrap();
        assert_eq!(jobs::claim(&state, "fourth", chrono::Utc::now()).await.unwrap(), Some(job.id));
        let fourth = Run { batch: 6, max_batches: Some(2), ..Run::new("fourth") };
        assert_eq!(jobs::run_job(&state, job.id, &fourth, None).await.unwrap(), Outcome::Paused);
        db.release_export_job(job.id, "fourth").await.unwrap();
        drop(state);
        let s = TestServer::start_in(db, data).await;
        let mut done = None;
        for _ in 0..300 {
            let j = s.db.export_job(job.id).await.unwrap();
            if j.status == "done" {
                done = Some(j);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let done = done.expect("the restarted server finishes the export");
        assert_eq!(std::fs::read(done.file_path.unwrap()).unwrap(), expected);
    }
}
