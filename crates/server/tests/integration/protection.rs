//! Protection on both engines: red flags raised in the submission's transaction and pushed
//! to the inbox, cases that only their caseworker and supervisor can open, referrals that
//! share only what the person consented to, and names that never reach the database in
//! clear.

use std::time::Duration;

use reqwest::StatusCode;
use rumbo_domain::secrets::hash_password;
use rumbo_store::model::{Actor, Role, SiteInput, SiteKind, UserInput};
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestServer, client, publish_form, submit_answers};

/// A name that appears nowhere but in one case's sealed identity.
pub const SECRET_NAME: &str = "Yuleidy Carrasquero";
const SECRET_DOCUMENT: &str = "V-19.874.332";
const SECRET_PHONE: &str = "+57 300 555 0199";

pub const FORM: &str = "| survey |\n\
    | | type | name | label | required |\n\
    | | select_one sites | site | Point | yes |\n\
    | | integer | age | Age | yes |\n\
    | | select_one yn | alone | Travelling alone | yes |\n\
    | | select_one yn | document_withheld | Someone keeps their document | |\n\
    | choices |\n\
    | | list_name | name | label |\n\
    | | sites | COL-FMP-101 | Rumichaca |\n\
    | | sites | PER-FMP-001 | Plaza Norte |\n\
    | | yn | yes | Yes |\n\
    | | yn | no | No |\n\
    | settings |\n\
    | | form_id | version |\n\
    | | prot_test | 1 |\n";

/// Organisations Alpha (the caseworkers') and Beta (receives referrals); protection users;
/// a site in Colombia; a service of Beta. Returns (form id, Beta's service id).
pub async fn setup(s: &TestServer) -> (i64, i64) {
    let admin = s.token("admin").await;
    let mut orgs = Vec::new();
    for (name, acronym) in [("Alpha Protección", "ALP"), ("Beta Servicios", "BET")] {
        let r = client()
            .post(s.url("/api/v1/organisations"))
            .bearer_auth(&admin)
            .json(&json!({ "name": name, "acronym": acronym, "kind": "nngo" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        orgs.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let actor = Actor::system("test");
    let hash = hash_password(PASSWORD);
    for (username, role, org, countries) in [
        ("cw_col", Role::Caseworker, orgs[0], vec!["COL"]),
        ("cw2_col", Role::Caseworker, orgs[0], vec!["COL"]),
        ("cw_per", Role::Caseworker, orgs[0], vec!["PER"]),
        ("fp_col", Role::ProtectionFocalPoint, orgs[0], vec!["COL"]),
        ("fp_per", Role::ProtectionFocalPoint, orgs[0], vec!["PER"]),
        ("cw_beta", Role::Caseworker, orgs[1], vec!["COL"]),
        ("partner_beta", Role::PartnerReporter, orgs[1], vec!["COL"]),
    ] {
        s.db.save_user(
            &actor,
            None,
            &UserInput {
                username: username.into(),
                display_name: username.into(),
                role,
                organisation_id: Some(org),
                all_countries: false,
                countries: countries.iter().map(|c| (*c).to_string()).collect(),
                active: true,
            },
            Some(&hash),
        )
        .await
        .unwrap();
    }
    s.db.create_site(
        &actor,
        &SiteInput {
            country_code: "COL".into(),
            code: "COL-FMP-101".into(),
            name: "Rumichaca".into(),
            kind: SiteKind::BorderCrossing,
            latitude: 0.81,
            longitude: -77.66,
            admin_area_pcode: Some("CO-NSA".into()),
            active: true,
        },
    )
    .await
    .unwrap();
    let form = publish_form(s, &admin, "prot_test.md", FORM.as_bytes(), "COL,PER").await;
    let im = s.token("im_col").await;
    let r = client()
        .post(s.url("/api/v1/services"))
        .bearer_auth(&im)
        .json(&json!({ "organisation_id": orgs[1], "name": "Atención psicosocial", "sector": "mhpss",
                       "country_code": "COL", "latitude": 7.89, "longitude": -72.5 }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (form, body["id"].as_i64().unwrap())
}

async fn get(s: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    let r = client().get(s.url(path)).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(s: &TestServer, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = client().post(s.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn field_named(body: &Value, field: &str) -> bool {
    body["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["field"] == field))
        || body["field"] == field
        || body.to_string().contains(&format!("\"{field}\""))
}

/// Opens a case as `who`; its code.
pub async fn open_case(s: &TestServer, who: &str, purposes: &[&str]) -> String {
    let t = s.token(who).await;
    let (status, body) = post(
        s,
        &t,
        "/api/v1/cases",
        json!({
            "country": "COL", "risk": "high", "sex": "female", "age_group": "18_59", "nationality": "VEN",
            "vulnerabilities": ["gbv", "pregnant_lactating"],
            "identity": { "given_name": "Yuleidy", "family_name": "Carrasquero", "document": SECRET_DOCUMENT,
                          "phone": SECRET_PHONE, "address": "Barrio La Parada" },
            "consent": { "purposes": purposes, "method": "verbal", "given_on": "2026-11-01" }
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let code = body["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("COL-"), "{code}");
    assert!(!code.to_lowercase().contains("yuleidy"));
    code
}

crate::server_tests! {
    async fn a_red_flag_is_raised_with_the_submission_and_reaches_the_inbox_live(s: TestServer) {
        let (form, _) = setup(&s).await;
        let fp = s.token("fp_col").await;
        // Rules that do not parse or name no field: 422 naming the expression, nothing saved.
        let rule = |expression: &str| json!({
            "form_id": form, "name": "child alone", "expression": expression, "severity": "critical", "route_country": "COL",
            "message_en": "Child travelling alone", "message_es": "Niño viajando solo", "message_pt": "Criança viajando sozinha"
        });
        for bad in ["${age} < ", "${edad} < 18", "frobnicate(${age})"] {
            let (status, body) = post(&s, &fp, "/api/v1/flag-rules", rule(bad)).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
            assert!(field_named(&body, "expression"), "{body}");
        }
        let (status, body) = post(&s, &fp, "/api/v1/flag-rules", json!({ "form_id": form, "name": "x", "expression": "${age} < 18",
            "severity": "extreme", "message_en": "", "message_es": "m", "message_pt": "m", "route_country": "COL" })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_named(&body, "severity") && field_named(&body, "message_en"), "{body}");
        let (_, rules) = get(&s, &fp, "/api/v1/flag-rules").await;
        assert_eq!(rules.as_array().unwrap().len(), 0, "nothing saved");
        let refused = s.db.audit_log(100, Some("flag_rule")).await.unwrap();
        assert_eq!(refused.iter().filter(|l| l.action == "denied").count(), 4, "each attempt is audited");
        // Only focal points (and admins) write rules.
        let cw = s.token("cw_col").await;
        let (status, _) = post(&s, &cw, "/api/v1/flag-rules", rule("${age} < 18 and ${alone} = 'yes'")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // A focal point of Colombia writes rules for Colombia's team, not for every country
        // of the form.
        let mut everywhere = rule("${age} < 18 and ${alone} = 'yes'");
        everywhere["route_country"] = Value::Null;
        assert_eq!(post(&s, &fp, "/api/v1/flag-rules", everywhere).await.0, StatusCode::FORBIDDEN);
        let (status, body) = post(&s, &fp, "/api/v1/flag-rules", rule("${age} < 18 and ${alone} = 'yes'")).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        // The caseworker's inbox listens.
        let mut stream = client().get(s.url("/api/v1/alerts/stream")).bearer_auth(&cw).send().await.unwrap();
        assert_eq!(stream.status(), 200);
        let enumerator = s.token("enumerator").await;
        submit_answers(&s, &enumerator, form, json!({ "site": "COL-FMP-101", "age": 30, "alone": "yes", "meta": { "instanceID": "uuid:prot-1" } })).await;
        // A Peruvian child alone: Colombia's rule does not read Peru's submissions.
        let admin = s.token("admin").await;
        submit_answers(&s, &admin, form, json!({ "site": "PER-FMP-001", "age": 12, "alone": "yes", "meta": { "instanceID": "uuid:prot-2" } })).await;
        let flagged = submit_answers(&s, &enumerator, form, json!({ "site": "COL-FMP-101", "age": 15, "alone": "yes", "meta": { "instanceID": "uuid:prot-3" } })).await;
        let mut seen = String::new();
        while !seen.contains("event: update") {
            let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.expect("an event within 5 s").unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("the stream stays open")));
        }
        let (status, alerts) = get(&s, &cw, "/api/v1/alerts").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(alerts["total"], 1, "{alerts}");
        let alert = &alerts["items"][0];
        assert_eq!(alert["submission_id"], flagged);
        assert_eq!(alert["country_code"], "COL");
        assert_eq!(alert["severity"], "critical");
        let id = alert["id"].as_i64().unwrap();
        // Another country's caseworker, an enumerator, a viewer, an IM officer: nothing.
        let (_, other) = get(&s, &s.token("cw_per").await, "/api/v1/alerts").await;
        assert_eq!(other["total"], 0);
        assert_eq!(get(&s, &s.token("cw_per").await, &format!("/api/v1/alerts/{id}")).await.0, StatusCode::NOT_FOUND);
        for who in ["enumerator", "viewer", "im_col", "admin"] {
            assert_eq!(get(&s, &s.token(who).await, "/api/v1/alerts").await.0, StatusCode::FORBIDDEN, "{who}");
        }
        // Dismissing needs a reason; acknowledging twice is out of order.
        let (status, body) = post(&s, &cw, &format!("/api/v1/alerts/{id}/dismiss"), json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_named(&body, "reason"));
        assert_eq!(post(&s, &cw, &format!("/api/v1/alerts/{id}/acknowledge"), json!({})).await.0, StatusCode::OK);
        let (status, body) = post(&s, &cw, &format!("/api/v1/alerts/{id}/acknowledge"), json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        // A case opened from the alert closes it.
        let (status, case) = post(&s, &cw, "/api/v1/cases", json!({
            "country": "COL", "alert_id": id, "age_group": "12_17", "vulnerabilities": ["uasc"],
            "identity": { "given_name": "Alias Pedro" },
            "consent": { "purposes": ["case_management"], "method": "guardian", "given_on": "2026-11-02" }
        })).await;
        assert_eq!(status, StatusCode::CREATED, "{case}");
        let (_, alert) = get(&s, &cw, &format!("/api/v1/alerts/{id}")).await;
        assert_eq!(alert["status"], "case_opened");
        assert_eq!(alert["case_id"], case["id"]);
        // The inbox page lists alerts in the reader's language.
        let (c, _) = s.signed_in("fp_col").await;
        let page = c.get(s.url("/protection/alerts?status=all&lang=es")).header("accept-language", "es").send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Niño viajando solo") || html.contains("Child travelling alone"), "the alert is listed");
    }

    async fn a_case_is_read_only_by_its_caseworker_and_supervisor_and_every_read_is_audited(s: TestServer) {
        setup(&s).await;
        let code = open_case(&s, "cw_col", &["case_management", "referral", "share_contact"]).await;
        let path = format!("/api/v1/cases/{code}");
        let (status, case) = get(&s, &s.token("cw_col").await, &path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(case["identity"]["given_name"], "Yuleidy");
        assert_eq!(case["identity"]["document"], SECRET_DOCUMENT);
        let (status, case) = get(&s, &s.token("fp_col").await, &path).await;
        assert_eq!(status, StatusCode::OK, "the focal point supervises the country's cases");
        assert_eq!(case["identity"]["family_name"], "Carrasquero");
        let (status, loads) = get(&s, &s.token("fp_col").await, "/api/v1/caseloads").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(loads, json!([{ "caseworker_id": case["caseworker_id"], "caseworker": "cw_col", "open_cases": 1, "high_risk": 1, "overdue": 0 }]));
        let (_, none) = get(&s, &s.token("fp_per").await, "/api/v1/caseloads").await;
        assert_eq!(none, json!([]), "Peru's focal point sees Peru's caseloads only");
        // Nobody else: another caseworker of the country, another country's caseworker and
        // focal point, the receiving organisation (no referral yet), enumerators, viewers,
        // IM officers, admins.
        for who in ["cw2_col", "cw_per", "fp_per", "cw_beta", "partner_beta", "enumerator", "viewer", "im_col", "admin", "admin_col"] {
            let (status, body) = get(&s, &s.token(who).await, &path).await;
            assert!(status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN, "{who} got {status}");
            assert!(!body.to_string().contains("Carrasquero"), "{who}");
            let (_, list) = get(&s, &s.token(who).await, "/api/v1/cases?status=all").await;
            assert!(!list.to_string().contains(&code), "{who} lists the case");
        }
        // The same on the pages.
        for who in ["cw_per", "enumerator", "viewer"] {
            let (c, _) = s.signed_in(who).await;
            let r = c.get(s.url(&format!("/protection/cases/{code}"))).send().await.unwrap();
            assert!(r.status() == 404 || r.status() == 403, "{who}: {}", r.status());
            assert!(!r.text().await.unwrap().contains("Carrasquero"));
        }
        let (c, _) = s.signed_in("cw_col").await;
        let page = c.get(s.url(&format!("/protection/cases/{code}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Carrasquero"), "the caseworker's page shows the name");
        let list = c.get(s.url("/protection/cases")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains(&code) && !list.contains("Carrasquero"), "lists show codes, not names");
        // Search by document goes through the blind index.
        let (_, found) = get(&s, &s.token("cw_col").await, "/api/v1/cases?document=v19874332").await;
        assert_eq!(found["total"], 1, "{found}");
        // A forged code is a 404 and the attempt is audited.
        let (status, _) = get(&s, &s.token("cw_col").await, "/api/v1/cases/COL-AAAA-BBBB").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let lines = s.db.audit_log(500, Some("case")).await.unwrap();
        assert!(lines.iter().any(|l| l.action == "denied" && l.entity_id == "COL-AAAA-BBBB"));
        assert!(lines.iter().any(|l| l.action == "denied" && l.entity_id == code && l.actor == "cw_per"));
        let reads = lines.iter().filter(|l| l.action == "read" && l.entity_id == code).count();
        assert!(reads >= 3, "every read is audited ({reads})");
        assert!(lines.iter().all(|l| !l.detail.contains("Carrasquero")), "the audit log holds no name");
        // A supervisor transfers the case; the old caseworker no longer opens it.
        let cw2 = s.db.user_id_by_username("cw2_col").await.unwrap();
        let (status, _) = post(&s, &s.token("cw_col").await, &format!("/api/v1/cases/{code}/transfer"), json!({ "caseworker_id": cw2 })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a caseworker does not transfer");
        let (status, moved) = post(&s, &s.token("fp_col").await, &format!("/api/v1/cases/{code}/transfer"), json!({ "caseworker_id": cw2 })).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(get(&s, &s.token("cw2_col").await, &path).await.0, StatusCode::OK);
        assert_eq!(get(&s, &s.token("cw_col").await, &path).await.0, StatusCode::NOT_FOUND);
        // The case file: plan, follow-up, closure with a reason; nothing after closure.
        let t = s.token("cw2_col").await;
        let (status, body) = post(&s, &t, &format!("{path}/entries"), json!({ "kind": "follow_up", "text": "Call back" })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_named(&body, "due_on"));
        let (status, _) = post(&s, &t, &format!("{path}/entries"), json!({ "kind": "assessment", "text": "Needs psychosocial support" })).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, body) = post(&s, &t, &format!("{path}/entries"), json!({ "kind": "closure", "text": "Done" })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_named(&body, "reason"));
        let (status, _) = post(&s, &t, &format!("{path}/entries"), json!({ "kind": "closure", "text": "Done", "reason": "goals_met" })).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = post(&s, &t, &format!("{path}/entries"), json!({ "kind": "note", "text": "late" })).await;
        assert_eq!(status, StatusCode::CONFLICT, "a closed case takes no entries");
        let (_, case) = get(&s, &t, &path).await;
        assert_eq!(case["status"], "closed");
        assert_eq!(case["closure_reason"], "goals_met");
        // Bad input names the field; nothing is stored.
        let before = get(&s, &t, "/api/v1/cases?status=all").await.1["total"].clone();
        let (status, body) = post(&s, &t, "/api/v1/cases", json!({
            "country": "COL", "vulnerabilities": ["tall"], "identity": { "given_name": "" , "date_of_birth": "yesterday" },
            "consent": { "purposes": ["referral"], "method": "shouted", "given_on": "2026-11-01" }
        })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["vulnerabilities", "identity.given_name", "identity.date_of_birth", "consent.purposes", "consent.method"] {
            assert!(field_named(&body, f), "{f}: {body}");
        }
        assert_eq!(get(&s, &t, "/api/v1/cases?status=all").await.1["total"], before);
        let (status, _) = post(&s, &t, "/api/v1/cases", json!({
            "country": "PER", "identity": { "given_name": "X" },
            "consent": { "purposes": ["case_management"], "method": "verbal", "given_on": "2026-11-01" }
        })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a caseworker of Colombia opens no case in Peru");
    }

    async fn a_referral_shares_only_what_was_consented_and_a_withdrawal_stops_it(s: TestServer) {
        let (_, service) = setup(&s).await;
        let code = open_case(&s, "cw_col", &["case_management", "referral", "share_contact", "share_vulnerabilities"]).await;
        let cw = s.token("cw_col").await;
        let refer = format!("/api/v1/cases/{code}/referrals");
        // Sharing what the person did not consent to, or a service that does not exist: 422.
        let (status, body) = post(&s, &cw, &refer, json!({ "service_id": service, "share": ["identity", "contact"] })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_named(&body, "share") && body.to_string().contains("identity"), "{body}");
        let (status, body) = post(&s, &cw, &refer, json!({ "service_id": 999_999, "share": ["contact"] })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_named(&body, "service_id"), "{body}");
        let (_, none) = get(&s, &cw, "/api/v1/referrals").await;
        assert_eq!(none["total"], 0, "nothing was sent");
        let (status, sent) = post(&s, &cw, &refer, json!({ "service_id": service, "urgency": "urgent",
            "note": "Needs support this week", "share": ["contact", "vulnerabilities"] })).await;
        assert_eq!(status, StatusCode::CREATED, "{sent}");
        let rcode = sent["code"].as_str().unwrap().to_string();
        assert_eq!(sent["status"], "sent");
        let path = format!("/api/v1/referrals/{rcode}");

        // The receiving organisation sees the contact and vulnerabilities, not the name.
        let beta = s.token("cw_beta").await;
        let (status, seen) = get(&s, &beta, &path).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["side"], "receiver");
        assert_eq!(seen["person"]["phone"], SECRET_PHONE);
        assert_eq!(seen["person"]["vulnerabilities"], "gbv pregnant_lactating");
        assert!(seen["person"]["identity"].is_null());
        assert!(!seen.to_string().contains("Carrasquero") && !seen.to_string().contains(SECRET_DOCUMENT));
        assert_eq!(seen["note"], "Needs support this week");
        // Nor does the receiver open the case itself.
        assert_eq!(get(&s, &beta, &format!("/api/v1/cases/{code}")).await.0, StatusCode::NOT_FOUND);
        // Another organisation's staff, a partner reporter, another country: not found.
        for who in ["cw_per", "partner_beta", "cw2_col", "viewer"] {
            let (status, body) = get(&s, &s.token(who).await, &path).await;
            assert!(status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN, "{who}: {status}");
            assert!(!body.to_string().contains(SECRET_PHONE), "{who}");
        }
        // Out of order: closing a referral never accepted; the sender accepting for the receiver.
        let (status, body) = post(&s, &cw, &format!("{path}/close"), json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(get(&s, &cw, &path).await.1["status"], "sent", "nothing changed");
        assert_eq!(post(&s, &cw, &format!("{path}/accept"), json!({})).await.0, StatusCode::FORBIDDEN);
        assert_eq!(post(&s, &beta, &format!("{path}/provide"), json!({})).await.0, StatusCode::CONFLICT);
        let lines = s.db.audit_log(500, Some("referral")).await.unwrap();
        assert!(lines.iter().filter(|l| l.action == "denied" && l.entity_id == rcode).count() >= 2, "attempts are audited");
        // The hand-offs, each with a receipt chained to the one before.
        let (status, accepted) = post(&s, &beta, &format!("{path}/accept"), json!({ "note": "Appointment Monday" })).await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        post(&s, &beta, &format!("{path}/provide"), json!({})).await;
        let (status, closed) = post(&s, &cw, &format!("{path}/close"), json!({ "note": "Confirmed with her" })).await;
        assert_eq!(status, StatusCode::OK, "{closed}");
        let events = closed["events"].as_array().unwrap();
        let steps: Vec<&str> = events.iter().map(|e| e["to_status"].as_str().unwrap()).collect();
        assert_eq!(steps, ["sent", "accepted", "provided", "closed"]);
        let receipts: std::collections::HashSet<&str> = events.iter().map(|e| e["receipt"].as_str().unwrap()).collect();
        assert_eq!(receipts.len(), 4);
        assert!(receipts.iter().all(|r| r.len() == 64));

        // A second referral, then the person withdraws consent: the receiver sees nothing
        // more, and no new referral can be sent.
        let (_, second) = post(&s, &cw, &refer, json!({ "service_id": service, "share": ["contact"] })).await;
        let second = format!("/api/v1/referrals/{}", second["code"].as_str().unwrap());
        assert_eq!(get(&s, &beta, &second).await.1["person"]["phone"], SECRET_PHONE);
        let (status, _) = post(&s, &cw, &format!("/api/v1/cases/{code}/consent/withdraw"), json!({ "note": "asked to stop" })).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, after) = get(&s, &beta, &second).await;
        assert_eq!(status, StatusCode::OK);
        assert!(after["person"].is_null(), "{after}");
        assert!(after["note"].is_null());
        assert!(!after.to_string().contains(SECRET_PHONE));
        assert!(after["withheld"].as_str().unwrap().contains("withdrew"));
        let (status, body) = post(&s, &cw, &refer, json!({ "service_id": service, "share": [] })).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        // Consent given again (only to refer): sharing resumes without the contact.
        let (status, _) = post(&s, &cw, &format!("/api/v1/cases/{code}/consent"),
            json!({ "purposes": ["case_management", "referral"], "method": "written", "given_on": "2026-11-20" })).await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, again) = get(&s, &beta, &second).await;
        assert!(again["person"].is_object() && again["person"]["phone"].is_null(), "{again}");
    }

    async fn the_database_alone_does_not_reveal_a_name(s: TestServer) {
        setup(&s).await;
        let code = open_case(&s, "cw_col", &["case_management"]).await;
        let t = s.token("cw_col").await;
        post(&s, &t, &format!("/api/v1/cases/{code}/entries"),
            json!({ "kind": "assessment", "text": format!("{SECRET_NAME} reports threats") })).await;
        // The server reads it back…
        assert_eq!(get(&s, &t, &format!("/api/v1/cases/{code}")).await.1["identity"]["given_name"], "Yuleidy");
        // …but neither the SQLite file (with its log) nor a PostgreSQL dump holds it.
        let needles = ["Yuleidy", "Carrasquero", "19.874.332", "555 0199"];
        if let Some(file) = s.db.sqlite_file() {
            let mut bytes = std::fs::read(&file).unwrap();
            bytes.extend(std::fs::read(file.with_extension("db-wal")).unwrap_or_default());
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.contains(&code), "the file does hold the case");
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
            assert!(text.contains(&code), "the dump does hold the case");
            for n in needles {
                assert!(!text.contains(n), "{n} is in the PostgreSQL dump");
            }
        }
    }
}
