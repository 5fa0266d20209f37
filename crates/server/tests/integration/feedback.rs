//! Complaints and feedback on both engines: the anonymous public form (and its CSRF
//! guard), staff intake, the whole life of an item, steps out of order, bad input, and
//! above all that an allegation of sexual exploitation or abuse (PSEA) is seen by the
//! protection focal point of its country and by nobody else — in lists, pages, counts,
//! trends and downloads — with every read and refused attempt in the audit log.

use reqwest::StatusCode;
use rumbo_domain::secrets::hash_password;
use rumbo_store::feedback::FeedbackFilter;
use rumbo_store::model::{Actor, ListFilter, Role, UserInput};
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestServer, client, csrf_of};

/// Adds a caseworker and a focal point in Colombia, and a focal point in Peru.
async fn team(s: &TestServer) {
    let hash = hash_password(PASSWORD);
    for (username, role, country) in [
        ("cw_col", Role::Caseworker, "COL"),
        ("fp_col", Role::ProtectionFocalPoint, "COL"),
        ("fp_per", Role::ProtectionFocalPoint, "PER"),
    ] {
        s.db.save_user(
            &Actor::system("test"),
            None,
            &UserInput {
                username: username.into(),
                display_name: format!("Test {username}"),
                role,
                organisation_id: None,
                all_countries: false,
                countries: vec![country.to_string()],
                active: true,
            },
            Some(&hash),
        )
        .await
        .unwrap();
    }
}

async fn user_id(s: &TestServer, username: &str) -> i64 {
    s.db.user_id_by_username(username).await.unwrap()
}

async fn post(s: &TestServer, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = client().post(s.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(s: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    let r = client().get(s.url(path)).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Takes in an item through the API as `token`; the answer.
async fn take_in(s: &TestServer, token: &str, category: &str, country: &str, body: &str) -> Value {
    let (status, item) = post(
        s,
        token,
        "/api/v1/feedback",
        json!({ "channel": "hotline", "category": category, "sector": "shelter", "country_code": country,
                "body": body, "contact": "WhatsApp of the person", "wants_reply": true }),
    )
    .await;
    assert_eq!(status, 201, "{item}");
    item
}

/// Every item in the store, whoever may read it (to check that nothing changed).
async fn all_items(s: &TestServer) -> Vec<rumbo_store::feedback::FeedbackRow> {
    s.db.list_feedback(&FeedbackFilter { limit: Some(1000), ..FeedbackFilter::default() }).await.unwrap().items
}

fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e["field"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

crate::server_tests! {
    async fn the_public_leaves_a_message_without_signing_in(s: TestServer) {
        let c = client();
        let page = c.get(s.url("/feedback")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("name=\"body\""), "{page}");
        let csrf = csrf_of(&page);

        // Without the form's token (a post from another site): refused, nothing stored.
        let forged = client()
            .post(s.url("/feedback"))
            .form(&[("csrf", "forged"), ("country_code", "PER"), ("category", "complaint"), ("sector", "food"), ("body", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        let wrong = c
            .post(s.url("/feedback"))
            .form(&[("csrf", "not-the-token"), ("country_code", "PER"), ("category", "complaint"), ("sector", "food"), ("body", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 403);
        assert!(all_items(&s).await.is_empty());

        // A message with its fields wrong: every problem named, nothing stored.
        let r = c
            .post(s.url("/feedback"))
            .form(&[("csrf", csrf.as_str()), ("country_code", "PER"), ("category", "gossip"), ("sector", "food"), ("body", "  ")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("What is it about?") && page.contains("gossip"), "{page}");
        assert!(page.contains("Your message") && page.contains("is required"), "{page}");
        assert!(all_items(&s).await.is_empty());

        // A good one: a reference to check the answer with.
        let csrf = csrf_of(&page);
        let site = s.db.list_sites(&ListFilter::default()).await.unwrap().items[0].id.to_string();
        let r = c
            .post(s.url("/feedback"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("country_code", "PER"),
                ("site_id", site.as_str()),
                ("category", "complaint"),
                ("sector", "food"),
                ("body", "The queue for food lasted six hours <b>without water</b>"),
                ("contact", "a phone number"),
                ("wants_reply", "true"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let page = r.text().await.unwrap();
        let start = page.find("id=\"reference\">").unwrap() + "id=\"reference\">".len();
        let reference = page[start..].split('<').next().unwrap().to_string();
        assert!(reference.starts_with("FB-") && reference.len() == 13, "{reference}");
        let items = all_items(&s).await;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].channel, "web");
        assert_eq!(items[0].created_by, None);

        // The person checks it: received, no answer yet.
        let r = client().get(s.url(&format!("/feedback/status?reference={}", reference.to_lowercase()))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let status = r.text().await.unwrap();
        assert!(status.contains("Received, waiting to be read"), "{status}");
        assert!(!status.contains("six hours"), "the status page shows no text of the message");
        let r = client().get(s.url("/feedback/status?reference=FB-AAAAAAAAAA")).send().await.unwrap();
        assert_eq!(r.status(), 404);

        // An allegation from the public is taken like any other.
        let r = c
            .post(s.url("/feedback"))
            .form(&[
                ("csrf", csrf_of(&page).as_str()),
                ("country_code", "COL"),
                ("category", "psea"),
                ("sector", "shelter"),
                ("body", "Someone asked for something in exchange for a mattress"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);

        // The public page links to the form.
        let public = client().get(s.url("/public")).send().await.unwrap().text().await.unwrap();
        assert!(public.contains("href=\"/feedback\""));
    }

    async fn an_item_goes_from_intake_to_a_closed_loop(s: TestServer) {
        team(&s).await;
        let cw = s.token("cw_col").await;
        let item = take_in(&s, &cw, "complaint", "COL", "The hygiene kit was incomplete").await;
        let id = item["id"].as_i64().unwrap();
        assert_eq!(item["status"], "new");
        assert_eq!(item["body"], "The hygiene kit was incomplete");
        assert_eq!(item["contact"], "WhatsApp of the person");
        let created = chrono::DateTime::parse_from_rfc3339(item["created_at"].as_str().unwrap()).unwrap();
        let due = (created.date_naive() + chrono::Days::new(7)).to_string();
        assert_eq!(item["due_on"], due.as_str(), "a complaint is answered within a week");

        let me = user_id(&s, "cw_col").await;
        let (status, item) = post(&s, &cw, &format!("/api/v1/feedback/{id}/assign"), json!({ "user_id": me })).await;
        assert_eq!(status, 200, "{item}");
        assert_eq!(item["status"], "assigned");
        assert_eq!(item["assigned_to"], me);

        let (status, item) = post(&s, &cw, &format!("/api/v1/feedback/{id}/respond"), json!({ "response": "A new kit is on its way." })).await;
        assert_eq!(status, 200, "{item}");
        assert_eq!(item["status"], "responded");
        assert_eq!(item["response"], "A new kit is on its way.");

        // The person reads the answer with her reference.
        let reference = item["reference"].as_str().unwrap();
        let page = client().get(s.url(&format!("/feedback/status?reference={reference}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("A new kit is on its way."), "{page}");

        let (status, item) = post(&s, &cw, &format!("/api/v1/feedback/{id}/close"), json!({ "satisfaction": 4 })).await;
        assert_eq!(status, 200, "{item}");
        assert_eq!(item["status"], "closed");
        assert_eq!(item["loop_closed"], true);
        assert_eq!(item["satisfaction"], 4);

        // Closing twice is refused, and nothing changes.
        let (status, body) = post(&s, &cw, &format!("/api/v1/feedback/{id}/close"), json!({ "satisfaction": 1 })).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["field"], "status");
        assert!(body["message"].as_str().unwrap().contains("is closed"), "{body}");
        let (_, again) = get(&s, &cw, &format!("/api/v1/feedback/{id}")).await;
        assert_eq!(again["satisfaction"], 4);

        // The API document describes the routes.
        let doc: Value = client().get(s.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
        for path in ["/api/v1/feedback", "/api/v1/feedback/{id}", "/api/v1/feedback/{id}/close", "/api/v1/feedback/trends"] {
            assert!(doc["paths"].get(path).is_some(), "{path} is not in the OpenAPI document");
        }

        // Each step is in the audit log, in order.
        let lines = s.db.audit_of("feedback", &id.to_string()).await.unwrap();
        let actions: Vec<&str> = lines.iter().map(|l| l.action.as_str()).collect();
        assert_eq!(actions, ["create", "assign", "respond", "close"]);
        assert!(s.db.verify_audit_chain().await.unwrap().first_broken.is_none());

        // A viewer reads the complaint (it is not sensitive), without the contact.
        let viewer = s.token("viewer").await;
        let (status, seen) = get(&s, &viewer, &format!("/api/v1/feedback/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(seen["body"], "The hygiene kit was incomplete");
        assert!(seen.get("contact").is_none(), "{seen}");
        // …but may not handle it.
        let (status, _) = post(&s, &viewer, "/api/v1/feedback", json!({ "channel": "box", "category": "thanks", "sector": "food", "country_code": "COL", "body": "Thanks" })).await;
        assert_eq!(status, 403);
    }

    async fn steps_out_of_order_and_bad_input_change_nothing(s: TestServer) {
        team(&s).await;
        let cw = s.token("cw_col").await;
        let item = take_in(&s, &cw, "information_request", "COL", "Where do I renew my permit?").await;
        let id = item["id"].as_i64().unwrap();
        let before = all_items(&s).await;

        // Closing an item never answered.
        let (status, body) = post(&s, &cw, &format!("/api/v1/feedback/{id}/close"), json!({})).await;
        assert_eq!(status, 409, "{body}");
        assert!(body["message"].as_str().unwrap().contains("answer it first"), "{body}");
        // An empty answer, a missing assignee, someone who may not take it, a viewer.
        let (status, body) = post(&s, &cw, &format!("/api/v1/feedback/{id}/respond"), json!({ "response": "   " })).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&body), ["response"]);
        let (status, body) = post(&s, &cw, &format!("/api/v1/feedback/{id}/assign"), json!({})).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&body), ["user_id"]);
        let viewer_id = user_id(&s, "viewer").await;
        let (status, body) = post(&s, &cw, &format!("/api/v1/feedback/{id}/assign"), json!({ "user_id": viewer_id })).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["message"].as_str().unwrap().contains("may not handle"), "{body}");
        let (status, body) = post(&s, &cw, &format!("/api/v1/feedback/{id}/assign"), json!({ "user_id": 99999 })).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&body), ["user_id"]);
        // A focal point of Peru may not take an item of Colombia.
        let fp_per = user_id(&s, "fp_per").await;
        let (status, _) = post(&s, &cw, &format!("/api/v1/feedback/{id}/assign"), json!({ "user_id": fp_per })).await;
        assert_eq!(status, 422);
        // Bad intake: every field named; a wrong type named by its path.
        let (status, body) = post(&s, &cw, "/api/v1/feedback", json!({ "channel": "pigeon", "category": "", "sector": "space", "country_code": "", "body": "" })).await;
        assert_eq!(status, 422, "{body}");
        let mut fields = error_fields(&body);
        fields.sort();
        assert_eq!(fields, ["body", "category", "channel", "country_code", "sector"]);
        let (status, body) = post(&s, &cw, "/api/v1/feedback", json!({ "channel": "box", "category": "thanks", "sector": "food", "country_code": "COL", "body": "x", "site_id": "near the bridge" })).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["field"], "site_id");
        // A site of another country.
        let peru_site = s.db.list_sites(&ListFilter::default()).await.unwrap().items[0].id;
        let (status, body) = post(&s, &cw, "/api/v1/feedback", json!({ "channel": "box", "category": "thanks", "sector": "food", "country_code": "COL", "body": "x", "site_id": peru_site })).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["field"], "site_id");
        // A caseworker of Colombia may not take in for Peru.
        let (status, _) = post(&s, &cw, "/api/v1/feedback", json!({ "channel": "box", "category": "thanks", "sector": "food", "country_code": "PER", "body": "x" })).await;
        assert_eq!(status, 403);
        // Bad filters are named too.
        let (status, body) = get(&s, &cw, "/api/v1/feedback?status=lost&site_id=abc").await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(error_fields(&body), ["status", "site_id"]);
        // Not a number where an id goes: a 400, not a 500.
        let (status, _) = get(&s, &cw, "/api/v1/feedback/abc").await;
        assert_eq!(status, 400);

        let after = all_items(&s).await;
        assert_eq!(before.len(), after.len());
        assert_eq!(after[0].status, "new");
        assert_eq!(after[0].updated_at, before[0].updated_at);

        // Answered (an unassigned item goes to whoever answers), then no second answer, no
        // assignment, and a satisfaction out of range refused.
        let (status, item) = post(&s, &cw, &format!("/api/v1/feedback/{id}/respond"), json!({ "response": "At the office on Monday." })).await;
        assert_eq!(status, 200);
        assert_eq!(item["assigned_to"], user_id(&s, "cw_col").await);
        let (status, _) = post(&s, &cw, &format!("/api/v1/feedback/{id}/respond"), json!({ "response": "Other answer" })).await;
        assert_eq!(status, 409);
        let me = user_id(&s, "cw_col").await;
        let (status, _) = post(&s, &cw, &format!("/api/v1/feedback/{id}/assign"), json!({ "user_id": me })).await;
        assert_eq!(status, 409);
        let (status, body) = post(&s, &cw, &format!("/api/v1/feedback/{id}/close"), json!({ "satisfaction": 9 })).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&body), ["satisfaction"]);
        let (_, item) = get(&s, &cw, &format!("/api/v1/feedback/{id}")).await;
        assert_eq!(item["status"], "responded");
        assert_eq!(item["response"], "At the office on Monday.");
    }

    async fn a_viewer_never_sees_a_sexual_exploitation_allegation(s: TestServer) {
        team(&s).await;
        let cw = s.token("cw_col").await;
        let complaint = take_in(&s, &cw, "complaint", "COL", "The shelter has no light at night").await;
        let psea = take_in(&s, &cw, "psea", "COL", "A distributor asked for favours in exchange for food").await;
        // The caseworker who took the call gets the reference, not the text back.
        assert!(psea.get("body").is_none(), "{psea}");
        let psea_id = psea["id"].as_i64().unwrap();
        let reference = psea["reference"].as_str().unwrap().to_string();
        let missing = psea_id + 1000;

        for who in ["viewer", "im_col", "cw_col", "fp_per"] {
            let token = s.token(who).await;
            let (status, list) = get(&s, &token, "/api/v1/feedback").await;
            assert_eq!(status, 200, "{who}");
            let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
            assert!(!ids.contains(&psea_id), "{who} lists the allegation");
            let expected = i32::from(who != "fp_per");
            assert_eq!(list["total"], expected, "{who}: the count leaves it out");
            let (status, _) = get(&s, &token, "/api/v1/feedback?category=psea").await;
            assert_eq!(status, 200);
            let (_, only) = get(&s, &token, "/api/v1/feedback?category=psea").await;
            assert_eq!(only["total"], 0, "{who}");

            // Its page answers like a missing one.
            let (status, body) = get(&s, &token, &format!("/api/v1/feedback/{psea_id}")).await;
            assert_eq!(status, 404, "{who}: {body}");
            assert_eq!(body["message"], format!("feedback item {psea_id} not found"));
            let (_, nothing) = get(&s, &token, &format!("/api/v1/feedback/{missing}")).await;
            assert_eq!(nothing["message"], format!("feedback item {missing} not found"));
            assert!(!body.to_string().contains(&reference));

            // Nor in the trends, nor in a download.
            let (_, trends) = get(&s, &token, "/api/v1/feedback/trends").await;
            assert!(!trends.to_string().contains("\"psea\""), "{who}: {trends}");
            let (c, _) = s.signed_in(who).await;
            let csv = c.get(s.url("/cfm?format=csv")).send().await.unwrap().text().await.unwrap();
            assert!(!csv.contains(&reference), "{who}: {csv}");
            assert!(!csv.contains("Sexual exploitation"), "{who}");
            let page = c.get(s.url(&format!("/cfm/{psea_id}"))).send().await.unwrap();
            assert_eq!(page.status(), 404, "{who}");
            let list = c.get(s.url("/cfm")).send().await.unwrap().text().await.unwrap();
            assert!(!list.contains(&reference), "{who}");
        }
        // The viewer does see the complaint: the rule is about allegations only.
        let viewer = s.token("viewer").await;
        let (status, _) = get(&s, &viewer, &format!("/api/v1/feedback/{}", complaint["id"])).await;
        assert_eq!(status, 200);

        // An administrator reads no feedback at all: the same 403 for any id.
        let admin = s.token("admin").await;
        let (status, a) = get(&s, &admin, &format!("/api/v1/feedback/{psea_id}")).await;
        let (status_missing, b) = get(&s, &admin, &format!("/api/v1/feedback/{missing}")).await;
        assert_eq!((status, status_missing), (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN));
        assert_eq!(a, b);
        let (status, _) = get(&s, &admin, "/api/v1/feedback").await;
        assert_eq!(status, 403);

        // Every refused attempt is in the audit log.
        let lines = s.db.audit_of("feedback", &psea_id.to_string()).await.unwrap();
        let refused: Vec<&str> = lines.iter().filter(|l| l.action == "read_refused").map(|l| l.actor.as_str()).collect();
        for who in ["viewer", "im_col", "cw_col", "fp_per", "admin"] {
            assert!(refused.contains(&who), "{who} not audited: {refused:?}");
        }
        // No audit line says what the allegation is about.
        assert!(!lines.iter().any(|l| l.detail.contains("favours")));

        // The focal point of Colombia sees it, and her read is audited.
        let fp = s.token("fp_col").await;
        let (_, list) = get(&s, &fp, "/api/v1/feedback").await;
        assert_eq!(list["total"], 2);
        let (status, item) = get(&s, &fp, &format!("/api/v1/feedback/{psea_id}")).await;
        assert_eq!(status, 200);
        assert_eq!(item["body"], "A distributor asked for favours in exchange for food");
        assert_eq!(item["due_on"], (chrono::DateTime::parse_from_rfc3339(item["created_at"].as_str().unwrap()).unwrap().date_naive() + chrono::Days::new(1)).to_string());
        let lines = s.db.audit_of("feedback", &psea_id.to_string()).await.unwrap();
        assert!(lines.iter().any(|l| l.action == "read" && l.actor == "fp_col"), "{lines:?}");
        let (c, _) = s.signed_in("fp_col").await;
        let page = c.get(s.url(&format!("/cfm/{psea_id}"))).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("asked for favours"));

        // Only a focal point may take it: not the caseworker, and the caseworker may not act on it.
        let cw_id = user_id(&s, "cw_col").await;
        let (status, body) = post(&s, &fp, &format!("/api/v1/feedback/{psea_id}/assign"), json!({ "user_id": cw_id })).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["message"].as_str().unwrap().contains("focal point"));
        let (status, _) = post(&s, &cw, &format!("/api/v1/feedback/{psea_id}/respond"), json!({ "response": "x" })).await;
        assert_eq!(status, 404);
        let fp_id = user_id(&s, "fp_col").await;
        let (status, _) = post(&s, &fp, &format!("/api/v1/feedback/{psea_id}/assign"), json!({ "user_id": fp_id })).await;
        assert_eq!(status, 200);
    }

    async fn trends_never_count_allegations(s: TestServer) {
        team(&s).await;
        let cw = s.token("cw_col").await;
        let first = take_in(&s, &cw, "complaint", "COL", "one").await;
        take_in(&s, &cw, "thanks", "COL", "two").await;
        take_in(&s, &cw, "psea", "COL", "three").await;
        let id = first["id"].as_i64().unwrap();
        post(&s, &cw, &format!("/api/v1/feedback/{id}/respond"), json!({ "response": "done" })).await;
        post(&s, &cw, &format!("/api/v1/feedback/{id}/close"), json!({ "satisfaction": 5 })).await;

        let fp = s.token("fp_col").await;
        let (status, trends) = get(&s, &fp, "/api/v1/feedback/trends?country=COL").await;
        assert_eq!(status, 200, "{trends}");
        assert_eq!(trends["total"], 2, "{trends}");
        assert_eq!(trends["psea_excluded"], true);
        assert!(trends["by_category"].as_array().unwrap().iter().all(|c| c["code"] != "psea"));
        assert!(trends["by_month"].as_array().unwrap().iter().all(|c| c["category"] != "psea"));
        assert_eq!(trends["answered"], 1);
        assert_eq!(trends["answered_on_time"], 1);
        assert_eq!(trends["satisfaction"], 5.0);

        let (c, _) = s.signed_in("fp_col").await;
        let page = c.get(s.url("/cfm/trends")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(page.contains("id=\"psea-excluded\""));
        assert!(page.contains("<svg"));
        assert!(page.contains("id=\"trend-total\">2<"), "{page}");
        let (status, _) = get(&s, &s.token("admin").await, "/api/v1/feedback/trends").await;
        assert_eq!(status, 403);
    }

    async fn the_text_is_sealed_at_rest(s: TestServer) {
        team(&s).await;
        let cw = s.token("cw_col").await;
        let (status, item) = post(
            &s,
            &cw,
            "/api/v1/feedback",
            json!({ "channel": "face_to_face", "category": "complaint", "sector": "cash", "country_code": "COL",
                    "body": "Marker-body-7c1 the card did not work", "contact": "Ana Demo +57 300 555 0199", "wants_reply": true }),
        )
        .await;
        assert_eq!(status, 201);
        let id = item["id"].as_i64().unwrap();
        post(&s, &cw, &format!("/api/v1/feedback/{id}/respond"), json!({ "response": "Marker-response-9d2" })).await;
        let raw = s.db.feedback(id).await.unwrap();
        for (column, value, marker) in [
            ("body", raw.body.clone(), "Marker-body"),
            ("contact", raw.contact.clone().unwrap(), "Ana Demo"),
            ("response", raw.response.clone().unwrap(), "Marker-response"),
        ] {
            assert!(value.starts_with("s1:"), "{column} is not sealed: {value}");
            assert!(!value.contains(marker), "{column} in clear");
        }
        assert!(!raw.contact.unwrap().contains("555"));
        // Neither the SQLite file (with its log) nor a PostgreSQL dump holds the text.
        let needles = ["Marker-body", "Ana Demo", "555 0199", "Marker-response"];
        if let Some(file) = s.db.sqlite_file() {
            let mut bytes = std::fs::read(&file).unwrap();
            bytes.extend(std::fs::read(file.with_extension("db-wal")).unwrap_or_default());
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.contains(&raw.reference), "the file does hold the item");
            for n in needles {
                assert!(!text.contains(n), "{n} is in the SQLite file");
            }
        }
        if let Some((url, schema)) = s.db.postgres_schema() {
            let out = std::process::Command::new("pg_dump")
                .args(["--dbname", url, "--schema", schema, "--data-only"])
                .output()
                .expect("pg_dump (postgresql-client) is installed");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains(&raw.reference), "the dump does hold the item");
            for n in needles {
                assert!(!text.contains(n), "{n} is in the PostgreSQL dump");
            }
        }
        // Those who may read it get it opened.
        let (_, seen) = get(&s, &cw, &format!("/api/v1/feedback/{id}")).await;
        assert_eq!(seen["body"], "Marker-body-7c1 the card did not work");
    }

    async fn staff_pages_take_in_list_download_and_act(s: TestServer) {
        team(&s).await;
        let (c, csrf) = s.signed_in("cw_col").await;
        let home = c.get(s.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(home.contains("href=\"/cfm\""), "the navigation links the feedback");
        let (admin, _) = s.signed_in("admin").await;
        let home = admin.get(s.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(!home.contains("href=\"/cfm\""), "an administrator has no feedback link");

        let form = c.get(s.url("/cfm/new")).send().await.unwrap();
        assert_eq!(form.status(), 200);
        let form = form.text().await.unwrap();
        assert!(form.contains("name=\"channel\"") && form.contains("Hotline"));

        // A bad intake shows the form again with the field named.
        let r = c
            .post(s.url("/cfm"))
            .form(&[("csrf", csrf.as_str()), ("country_code", "COL"), ("channel", "box"), ("category", "complaint"), ("sector", "food"), ("body", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("is required"));
        // Without the CSRF token: refused.
        let r = c
            .post(s.url("/cfm"))
            .form(&[("country_code", "COL"), ("channel", "box"), ("category", "complaint"), ("sector", "food"), ("body", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(all_items(&s).await.is_empty());

        let r = c
            .post(s.url("/cfm"))
            .form(&[("csrf", csrf.as_str()), ("country_code", "COL"), ("channel", "box"), ("category", "complaint"), ("sector", "food"), ("body", "Found in the box: <script>alert(1)</script>")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/cfm/"), "{location}");
        let id = all_items(&s).await[0].id;
        let page = c.get(s.url(&format!("/cfm/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("alert(1)") && !page.contains("<script>alert(1)"), "the text is escaped");
        assert!(page.contains(&format!("action=\"/cfm/{id}/assign\"")));

        // Acting from the page: answer, then closing twice shows the reason with a 409.
        let r = c.post(s.url(&format!("/cfm/{id}/respond"))).form(&[("response", "Thanks")]).send().await.unwrap();
        assert_eq!(r.status(), 403, "no CSRF token");
        let r = c.post(s.url(&format!("/cfm/{id}/respond"))).form(&[("csrf", csrf.as_str()), ("response", "Replaced")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let r = c.post(s.url(&format!("/cfm/{id}/close"))).form(&[("csrf", csrf.as_str()), ("told_person", "true"), ("satisfaction", "3")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let r = c.post(s.url(&format!("/cfm/{id}/close"))).form(&[("csrf", csrf.as_str()), ("satisfaction", "3")]).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("id=\"action-error\""));

        // The list filters, and downloads what it shows with an HXL row.
        let list = c.get(s.url("/cfm?status=closed&category=complaint")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains(&format!("href=\"/cfm/{id}\"")), "{list}");
        let mine = c.get(s.url("/cfm?assigned=me")).send().await.unwrap().text().await.unwrap();
        assert!(mine.contains(&format!("href=\"/cfm/{id}\"")), "answered by her, so hers");
        let empty = c.get(s.url("/cfm?status=new")).send().await.unwrap().text().await.unwrap();
        assert!(!empty.contains(&format!("href=\"/cfm/{id}\"")));
        let r = c.get(s.url("/cfm?status=closed&format=csv")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = r.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[1].starts_with("#meta+id,#date+reported,#country+code"), "{csv}");
        assert_eq!(lines.len(), 3, "{csv}");
        let exports = s.db.audit_log(50, Some("feedback")).await.unwrap();
        assert!(exports.iter().any(|l| l.action == "export"));
        // A bad filter on the page is a clear 422.
        let r = c.get(s.url("/cfm?overdue=perhaps")).send().await.unwrap();
        assert_eq!(r.status(), 422);
    }
}

rumbo_store::engine_tests! {
    async fn the_demo_holds_feedback_of_every_kind(db: TestDb) {
        rumbo_domain::demo::seed(&db.store, "demo-password-1").await.expect("the demo geography and users");
        let data = tempfile::tempdir().unwrap();
        let config = rumbo_server::ServerConfig { data_dir: data.path().to_path_buf(), ..Default::default() };
        let state = rumbo_server::AppState::open(db.store.clone(), config).await.expect("state");
        let n = rumbo_server::protection::feedback::demo::fill(&state).await.expect("the demo feedback");
        assert_eq!(n, rumbo_server::protection::feedback::demo::ITEMS);
        let items = db.list_feedback(&FeedbackFilter { limit: Some(1000), ..FeedbackFilter::default() }).await.unwrap().items;
        assert_eq!(items.len(), n);
        let today = chrono::Utc::now().date_naive();
        for status in ["new", "assigned", "responded", "closed"] {
            assert!(items.iter().any(|i| i.status == status), "no {status} item");
        }
        for category in rumbo_store::feedback::CATEGORIES {
            assert!(items.iter().any(|i| i.category == *category), "no {category} item");
        }
        for channel in rumbo_store::feedback::CHANNELS {
            assert!(items.iter().any(|i| i.channel == *channel), "no {channel} item");
        }
        assert!(items.iter().any(|i| i.is_overdue(today)), "some items are overdue");
        let late = |i: &&rumbo_store::feedback::FeedbackRow| i.responded_at.is_some_and(|r| r.date_naive() > i.due_on);
        let answered = items.iter().filter(|i| i.responded_at.is_some()).count();
        let answered_late = items.iter().filter(late).count();
        assert!(answered_late > 0 && answered_late < answered / 2, "{answered_late} of {answered} answered late");
        // Allegations are only ever with a focal point.
        let focal_point = db.user_id_by_username("protection_focal_point").await.unwrap();
        assert!(items.iter().filter(|i| i.is_psea()).all(|i| i.assigned_to.is_none_or(|u| u == focal_point)));
        assert!(items.iter().all(|i| i.body.starts_with("s1:")));
        assert_eq!(db.verify_audit_chain().await.unwrap().first_broken, None);
    }
}
