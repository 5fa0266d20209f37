//! Bulk import of submissions from CSV and Excel files, through the API and the page, on
//! both engines.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestServer, client, multipart};

const FORM: &str = "| survey |\n\
    | | type | name | label | required |\n\
    | | text | place | Place name | yes |\n\
    | | begin group | person | Person | |\n\
    | | integer | age | Age | yes |\n\
    | | date | arrived | Arrival date | |\n\
    | | end group | | | |\n\
    | | select_multiple needs | needs | Needs | |\n\
    | choices |\n\
    | | list_name | name | label |\n\
    | | needs | food | Food |\n\
    | | needs | water | Water |\n\
    | settings |\n\
    | | form_id | version |\n\
    | | import_test | 1 |\n";

/// Three good rows and one (spreadsheet row 5) whose age is not a number.
const CSV: &str = "_uuid,place,person/age,person/arrived,needs/food,needs/water,_submission_time\n\
    a1,Cúcuta,30,2024-05-01,1,0,2024-05-02T10:00:00\n\
    a2,Cúcuta,41,2024-05-02,1,1,2024-05-02T10:01:00\n\
    a3,Villa del Rosario,25,2024-05-03,0,0,2024-05-03T09:00:00\n\
    a4,Villa del Rosario,old,2024-05-03,0,1,2024-05-03T09:05:00\n";

const XLSX: &[u8] = include_bytes!("../fixtures/import-submissions.xlsx");

async fn upload_form(s: &TestServer, token: &str) -> i64 {
    let (content_type, body) =
        multipart(&[("file", Some("import_test.md"), FORM.as_bytes()), ("countries", None, b"COL")]);
    let r = client()
        .post(s.url("/api/v1/forms"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["form"]["id"].as_i64().unwrap()
}

async fn start(s: &TestServer, token: &str, form: i64, file: (&str, &[u8]), mode: &str) -> reqwest::Response {
    let (content_type, body) = multipart(&[("file", Some(file.0), file.1), ("mode", None, mode.as_bytes())]);
    client()
        .post(s.url(&format!("/api/v1/forms/{form}/imports")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Polls a job until it is done; answers its last state.
async fn finished(s: &TestServer, token: &str, job: &str) -> Value {
    for _ in 0..400 {
        let r = client().get(s.url(&format!("/api/v1/imports/{job}"))).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let state: Value = r.json().await.unwrap();
        if state["done"] == true {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("import {job} did not finish");
}

/// Starts an import and waits for its report.
async fn import(s: &TestServer, token: &str, form: i64, file: (&str, &[u8]), mode: &str) -> Value {
    let r = start(s, token, form, file, mode).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job = r.json::<Value>().await.unwrap()["job"].as_str().unwrap().to_string();
    let state = finished(s, token, &job).await;
    assert_eq!(state["phase"], "done", "{state}");
    state["report"].clone()
}

async fn stored(s: &TestServer, token: &str, form: i64) -> i64 {
    let r = client().get(s.url(&format!("/api/v1/forms/{form}/submissions"))).bearer_auth(token).send().await.unwrap();
    r.json::<Value>().await.unwrap()["total"].as_i64().unwrap()
}

crate::server_tests! {
    async fn a_csv_is_checked_then_imported_all_or_nothing_or_valid_rows_only(s: TestServer) {
        let admin = s.token("admin").await;
        let form = upload_form(&s, &admin).await;
        let file = ("kobo-export.csv", CSV.as_bytes());

        let dry = import(&s, &admin, form, file, "dry_run").await;
        assert_eq!((dry["rows"].as_u64(), dry["valid"].as_u64(), dry["invalid"].as_u64()), (Some(4), Some(3), Some(1)), "{dry}");
        let errors = dry["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{dry}");
        assert_eq!(errors[0]["row"], 5);
        assert_eq!(errors[0]["field"], "age");
        assert_eq!(errors[0]["column"], "person/age");
        let mapping = dry["mapping"].as_array().unwrap();
        let how = |column: &str| mapping.iter().find(|m| m["column"] == column).map(|m| m["how"].clone()).unwrap();
        assert_eq!(how("_uuid"), "instance_id");
        assert_eq!(how("person/age"), "path");
        assert_eq!(how("needs/water"), "choice");
        assert_eq!(how("_submission_time"), "ignored");
        assert_eq!(stored(&s, &admin, form).await, 0, "a dry run writes nothing");

        let all = import(&s, &admin, form, file, "all").await;
        assert!(all["refused"].as_str().unwrap().contains("row 5"), "{all}");
        assert_eq!(all["created"], 0);
        assert_eq!(stored(&s, &admin, form).await, 0, "all or nothing: nothing");

        let valid = import(&s, &admin, form, file, "valid").await;
        assert_eq!((valid["created"].as_u64(), valid["skipped"].as_u64()), (Some(3), Some(1)), "{valid}");
        assert_eq!(valid["skipped_rows"], json!([5]));
        assert_eq!(stored(&s, &admin, form).await, 3);
        let list: Value = client().get(s.url(&format!("/api/v1/forms/{form}/submissions"))).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        let first = list["items"].as_array().unwrap().iter().find(|i| i["instance_id"] == "uuid:a2").unwrap().clone();
        assert_eq!(first["channel"], "import");
        assert_eq!(first["data"]["person"]["age"], 41);
        assert_eq!(first["data"]["needs"], json!(["food", "water"]));

        let again = import(&s, &admin, form, file, "valid").await;
        assert_eq!((again["created"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(3)), "{again}");
        assert_eq!(stored(&s, &admin, form).await, 3);
        let all_again = import(&s, &admin, form, ("fixed.csv", CSV.replace(",old,", ",70,").as_bytes()), "all").await;
        assert!(all_again["refused"].as_str().unwrap().contains("before"), "{all_again}");
        assert_eq!(stored(&s, &admin, form).await, 3);
    }

    async fn an_xlsx_export_with_labels_and_dates_imports_with_stable_ids(s: TestServer) {
        let admin = s.token("admin").await;
        let form = upload_form(&s, &admin).await;
        let file = ("export.xlsx", XLSX);
        let dry = import(&s, &admin, form, file, "dry_run").await;
        assert_eq!((dry["valid"].as_u64(), dry["invalid"].as_u64()), (Some(2), Some(0)), "{dry}");
        let mapping = dry["mapping"].as_array().unwrap();
        assert_eq!(mapping[0]["how"], "label");
        assert_eq!(mapping[2]["field"], "person/arrived");
        let valid = import(&s, &admin, form, file, "valid").await;
        assert_eq!(valid["created"], 2, "{valid}");
        let list: Value = client().get(s.url(&format!("/api/v1/forms/{form}/submissions"))).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        let items = list["items"].as_array().unwrap();
        assert!(items.iter().any(|i| i["data"]["person"]["arrived"] == "2024-06-01" && i["data"]["person"]["age"] == 52), "{list}");
        assert!(items.iter().all(|i| i["instance_id"].as_str().unwrap().starts_with("uuid:")));
        let again = import(&s, &admin, form, file, "valid").await;
        assert_eq!((again["created"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(2)), "the same file gives the same ids: {again}");
    }

    async fn a_dry_run_is_committed_from_the_page_session(s: TestServer) {
        let admin = s.token("admin").await;
        let form = upload_form(&s, &admin).await;
        let (browser, csrf) = s.signed_in("admin").await;
        let page = browser.get(s.url(&format!("/forms/{form}/import"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("id=\"import-form\"") && html.contains("/assets/import.js"));
        let js = browser.get(s.url("/assets/import.js")).send().await.unwrap();
        assert_eq!(js.status(), StatusCode::OK);

        let (content_type, body) = multipart(&[("file", Some("x.csv"), CSV.as_bytes()), ("mode", None, b"dry_run")]);
        let url = s.url(&format!("/api/v1/forms/{form}/imports"));
        let without = browser.post(&url).header("content-type", &content_type).body(body.clone()).send().await.unwrap();
        assert_eq!(without.status(), StatusCode::FORBIDDEN, "a session needs its CSRF token");
        let r = browser.post(&url).header("content-type", &content_type).header("x-csrf-token", &csrf).body(body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let job = r.json::<Value>().await.unwrap()["job"].as_str().unwrap().to_string();
        for _ in 0..400 {
            let state: Value = browser.get(s.url(&format!("/api/v1/imports/{job}"))).send().await.unwrap().json().await.unwrap();
            if state["done"] == true {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let other = s.token("im_col").await;
        let hidden = client().get(s.url(&format!("/api/v1/imports/{job}"))).bearer_auth(&other).send().await.unwrap();
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "jobs are seen only by whoever started them");

        let commit = browser
            .post(s.url(&format!("/api/v1/imports/{job}/commit")))
            .header("x-csrf-token", &csrf)
            .json(&json!({ "mode": "valid" }))
            .send()
            .await
            .unwrap();
        assert_eq!(commit.status(), StatusCode::ACCEPTED);
        let next = commit.json::<Value>().await.unwrap()["job"].as_str().unwrap().to_string();
        let mut report = Value::Null;
        for _ in 0..400 {
            let state: Value = browser.get(s.url(&format!("/api/v1/imports/{next}"))).send().await.unwrap().json().await.unwrap();
            if state["done"] == true {
                report = state["report"].clone();
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(report["created"], 3, "{report}");
        assert_eq!(stored(&s, &admin, form).await, 3);
    }

    async fn bad_files_and_callers_get_clear_refusals(s: TestServer) {
        let admin = s.token("admin").await;
        let form = upload_form(&s, &admin).await;
        let viewer = s.token("viewer").await;
        let denied = start(&s, &viewer, form, ("x.csv", CSV.as_bytes()), "dry_run").await;
        assert_eq!(denied.status(), StatusCode::FORBIDDEN);
        let page = client().get(s.url(&format!("/forms/{form}/import"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::SEE_OTHER, "the page asks to sign in");

        let empty = start(&s, &admin, form, ("x.csv", b""), "dry_run").await;
        assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("empty"));
        let binary = start(&s, &admin, form, ("x.bin", &[0xff, 0xfe, 0x00, 0x01]), "dry_run").await;
        assert_eq!(binary.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let header_only = start(&s, &admin, form, ("x.csv", b"place,person/age\n"), "dry_run").await;
        assert_eq!(header_only.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let mode = start(&s, &admin, form, ("x.csv", CSV.as_bytes()), "sometimes").await;
        assert_eq!(mode.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(mode.json::<Value>().await.unwrap()["field"], "mode");
        let (content_type, body) = multipart(&[("file", Some("x.csv"), CSV.as_bytes()), ("mapping", None, b"nothing=place")]);
        let mapping = client().post(s.url(&format!("/api/v1/forms/{form}/imports"))).bearer_auth(&admin).header("content-type", content_type).body(body).send().await.unwrap();
        assert_eq!(mapping.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(mapping.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("no column `nothing`"));
        let unknown = client().get(s.url("/api/v1/imports/nope")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    }
}
