//! The access matrix of protection data, written once as data and checked by calling every
//! route as every role and country scope (and anonymously).
//!
//! A caller who may use a route gets through: a success, or an answer about the input she
//! sent (400, 409, 422 — the bodies below are deliberately wrong so that nothing changes).
//! Everyone else is refused (403) or told the record does not exist (404); never a 2xx,
//! never a 5xx. Anonymous callers get 401 from the API and the sign-in page from pages.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::client;
use crate::protection::{open_case, setup};

/// The fixture's users: role and country scope (and organisation, for referrals).
const USERS: &[&str] = &[
    "admin",        // admin, every country
    "admin_col",    // admin, Colombia
    "im_col",       // IM officer, Colombia
    "enumerator",   // enumerator, Colombia
    "viewer",       // viewer, every country
    "cw_col",       // caseworker, Colombia, Alpha: the case's caseworker
    "cw2_col",      // caseworker, Colombia, Alpha: another caseworker
    "cw_per",       // caseworker, Peru
    "fp_col",       // protection focal point, Colombia: supervisor, PSEA
    "fp_per",       // protection focal point, Peru
    "cw_beta",      // caseworker, Colombia, Beta: receives the referral
    "partner_beta", // partner reporter, Colombia, Beta
];

const HANDLERS: &[&str] = &["cw_col", "cw2_col", "cw_per", "fp_col", "fp_per", "cw_beta"];
const HANDLERS_COL: &[&str] = &["cw_col", "cw2_col", "fp_col", "cw_beta"];
const CASE_TEAM: &[&str] = &["cw_col", "fp_col"];
const RULE_READERS: &[&str] = &["admin", "admin_col", "cw_col", "cw2_col", "cw_per", "fp_col", "fp_per", "cw_beta"];
const FEEDBACK_READERS: &[&str] = &["im_col", "viewer", "cw_col", "cw2_col", "cw_per", "fp_col", "fp_per", "cw_beta"];
const FEEDBACK_READERS_COL: &[&str] = &["im_col", "viewer", "cw_col", "cw2_col", "fp_col", "cw_beta"];
const FEEDBACK_HANDLERS_COL: &[&str] = &["im_col", "cw_col", "cw2_col", "fp_col", "cw_beta"];
const EVERYONE: &[&str] = USERS;
const SEE_COL: &[&str] =
    &["admin", "admin_col", "im_col", "enumerator", "viewer", "cw_col", "cw2_col", "fp_col", "cw_beta", "partner_beta"];
const EDIT_SERVICES_COL: &[&str] = &["admin", "admin_col", "im_col", "fp_col"];

/// method, path, JSON body ("" for none), who gets through. `{case}`, `{alert}`,
/// `{referral}`, `{service}`, `{form}`, `{feedback}` (a complaint) and `{psea}` (an
/// allegation of sexual exploitation or abuse) stand for the fixture's records, all in
/// Colombia; `{long}` for a text too long to be taken.
const MATRIX: &[(&str, &str, &str, &[&str])] = &[
    // ---- pages ----
    ("GET", "/protection", "", RULE_READERS),
    ("GET", "/protection/alerts", "", HANDLERS),
    ("GET", "/protection/rules", "", RULE_READERS),
    ("GET", "/protection/cases", "", HANDLERS),
    ("GET", "/protection/cases/new", "", HANDLERS),
    ("GET", "/protection/cases/{case}", "", CASE_TEAM),
    ("GET", "/protection/referrals", "", HANDLERS),
    ("GET", "/protection/referrals/{referral}", "", &["cw_col", "fp_col", "cw_beta"]),
    ("GET", "/services", "", EVERYONE),
    ("GET", "/cfm", "", FEEDBACK_READERS),
    ("GET", "/cfm/{feedback}", "", FEEDBACK_READERS_COL),
    ("GET", "/cfm/{psea}", "", &["fp_col"]),
    ("GET", "/cfm/trends", "", FEEDBACK_READERS),
    ("GET", "/response/reports", "", &["admin", "admin_col", "im_col", "partner_beta"]),
    ("GET", "/response/reports/999999/edit", "", &[]),
    ("GET", "/response/upload", "", &["admin", "admin_col", "im_col", "partner_beta"]),
    ("GET", "/response/review", "", &["admin", "admin_col", "im_col"]),
    ("GET", "/response", "", EVERYONE),
    ("GET", "/response/plan", "", EVERYONE),
    ("GET", "/response/plan?country=PER", "", &["admin", "viewer", "cw_per", "fp_per"]),
    // ---- red flags ----
    ("GET", "/api/v1/flag-rules", "", RULE_READERS),
    (
        "POST",
        "/api/v1/flag-rules",
        r#"{"form_id": {form}, "name": "t", "expression": "${age} <", "severity": "high", "message_en": "m", "message_es": "m", "message_pt": "m", "route_country": "COL"}"#,
        &["admin", "admin_col", "fp_col"],
    ),
    ("GET", "/api/v1/alerts", "", HANDLERS),
    ("GET", "/api/v1/alerts/stream", "", HANDLERS),
    ("GET", "/api/v1/alerts/{alert}", "", HANDLERS_COL),
    ("POST", "/api/v1/alerts/{alert}/acknowledge", r#"{"reason": "{long}"}"#, HANDLERS_COL),
    ("POST", "/api/v1/alerts/{alert}/dismiss", "{}", HANDLERS_COL),
    // ---- cases ----
    ("GET", "/api/v1/cases", "", HANDLERS),
    (
        "POST",
        "/api/v1/cases",
        r#"{"country": "COL", "identity": {}, "consent": {"purposes": [], "method": "x", "given_on": "2026-01-01"}}"#,
        HANDLERS_COL,
    ),
    ("GET", "/api/v1/caseloads", "", &["fp_col", "fp_per"]),
    ("GET", "/api/v1/cases/{case}", "", CASE_TEAM),
    ("PUT", "/api/v1/cases/{case}", r#"{"identity": {}}"#, CASE_TEAM),
    ("POST", "/api/v1/cases/{case}/entries", r#"{"kind": "nope", "text": ""}"#, CASE_TEAM),
    ("POST", "/api/v1/cases/{case}/entries/999999/done", "", CASE_TEAM),
    ("POST", "/api/v1/cases/{case}/consent", r#"{"purposes": [], "method": "x", "given_on": "2026-01-01"}"#, CASE_TEAM),
    ("POST", "/api/v1/cases/{case}/consent/withdraw", r#"{"note": "{long}"}"#, CASE_TEAM),
    ("POST", "/api/v1/cases/{case}/transfer", r#"{"caseworker_id": 999999}"#, &["fp_col"]),
    ("POST", "/api/v1/cases/{case}/referrals", r#"{"service_id": 999999}"#, CASE_TEAM),
    // ---- referrals ----
    ("GET", "/api/v1/referrals", "", HANDLERS),
    ("GET", "/api/v1/referrals/{referral}", "", &["cw_col", "fp_col", "cw_beta"]),
    ("POST", "/api/v1/referrals/{referral}/accept", r#"{"note": "{long}"}"#, &["cw_beta"]),
    ("POST", "/api/v1/referrals/{referral}/decline", r#"{"note": ""}"#, &["cw_beta"]),
    ("POST", "/api/v1/referrals/{referral}/close", r#"{"note": "{long}"}"#, CASE_TEAM),
    // ---- the service directory ----
    ("GET", "/api/v1/services", "", EVERYONE),
    ("GET", "/api/v1/services/{service}", "", SEE_COL),
    (
        "POST",
        "/api/v1/services",
        r#"{"organisation_id": 999999, "name": "", "sector": "health", "country_code": "COL"}"#,
        EDIT_SERVICES_COL,
    ),
    (
        "PUT",
        "/api/v1/services/{service}",
        r#"{"organisation_id": 999999, "name": "", "sector": "health", "country_code": "COL"}"#,
        EDIT_SERVICES_COL,
    ),
    // ---- complaints and feedback ----
    ("GET", "/api/v1/feedback", "", FEEDBACK_READERS),
    ("GET", "/api/v1/feedback/trends", "", FEEDBACK_READERS),
    ("GET", "/api/v1/feedback/{feedback}", "", FEEDBACK_READERS_COL),
    ("GET", "/api/v1/feedback/{psea}", "", &["fp_col"]),
    ("POST", "/api/v1/feedback/{feedback}/respond", r#"{"response": ""}"#, FEEDBACK_HANDLERS_COL),
    ("POST", "/api/v1/feedback/{psea}/respond", r#"{"response": ""}"#, &["fp_col"]),
    ("POST", "/api/v1/feedback/{feedback}/assign", "{}", FEEDBACK_HANDLERS_COL),
    ("POST", "/api/v1/feedback/{psea}/assign", "{}", &["fp_col"]),
    ("POST", "/api/v1/feedback/{psea}/close", r#"{"satisfaction": 9}"#, &["fp_col"]),
    // ---- response monitoring (5W): uploads ----
    ("GET", "/api/v1/response/plan/template.xlsx", "", &["admin", "admin_col", "im_col"]),
    ("GET", "/api/v1/response/uploads", "", &["admin", "admin_col", "im_col", "partner_beta"]),
    ("GET", "/api/v1/response/uploads/progress/never-sent-token-000", "", &[]),
    // ---- the audit log ----
    ("GET", "/api/v1/audit", "", &["admin"]),
    ("GET", "/api/v1/audit/verify", "", &["admin"]),
];

/// Routes anyone may use without signing in.
const PUBLIC: &[&str] = &["/public/services", "/api/v1/public/services", "/feedback"];

fn passed(status: StatusCode) -> bool {
    status.is_success()
        || [StatusCode::BAD_REQUEST, StatusCode::CONFLICT, StatusCode::UNPROCESSABLE_ENTITY].contains(&status)
}

crate::server_tests! {
    async fn every_protection_route_answers_as_the_matrix_says_for_every_role_and_country(s: TestServer) {
        let (form, service) = setup(&s).await;
        let case = open_case(&s, "cw_col", &["case_management", "referral", "share_contact"]).await;
        let cw = s.token("cw_col").await;
        // A referral to Beta, an alert in Colombia, a complaint and an allegation.
        let r = client().post(s.url(&format!("/api/v1/cases/{case}/referrals"))).bearer_auth(&cw)
            .json(&json!({ "service_id": service, "share": ["contact"] })).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let referral = r.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();
        let fp = s.token("fp_col").await;
        let r = client().post(s.url("/api/v1/flag-rules")).bearer_auth(&fp).json(&json!({
            "form_id": form, "name": "any", "expression": "${age} >= 0", "severity": "low", "route_country": "COL",
            "message_en": "m", "message_es": "m", "message_pt": "m" })).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        crate::common::submit_answers(&s, &s.token("enumerator").await, form,
            json!({ "site": "COL-FMP-101", "age": 20, "alone": "no", "meta": { "instanceID": "uuid:access-1" } })).await;
        let alerts: Value = client().get(s.url("/api/v1/alerts")).bearer_auth(&cw).send().await.unwrap().json().await.unwrap();
        let alert = alerts["items"][0]["id"].as_i64().expect("an alert");
        let mut items = Vec::new();
        for category in ["complaint", "psea"] {
            let r = client().post(s.url("/api/v1/feedback")).bearer_auth(&cw).json(&json!({
                "channel": "hotline", "category": category, "sector": "health", "country_code": "COL",
                "body": "Reported by phone" })).send().await.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{body}");
            items.push(body["id"].as_i64().unwrap());
        }
        let long = "x".repeat(6000);
        let fill = |text: &str| {
            text.replace("{case}", &case)
                .replace("{referral}", &referral)
                .replace("{alert}", &alert.to_string())
                .replace("{service}", &service.to_string())
                .replace("{form}", &form.to_string())
                .replace("{feedback}", &items[0].to_string())
                .replace("{psea}", &items[1].to_string())
                .replace("{long}", &long)
        };

        let mut tokens = Vec::new();
        let mut browsers = Vec::new();
        for user in USERS {
            tokens.push(s.token(user).await);
            browsers.push(s.signed_in(user).await.0);
        }
        let mut wrong = Vec::new();
        for (method, path, body, allowed) in MATRIX {
            assert!(allowed.iter().all(|u| USERS.contains(u)), "{path}: unknown user in the matrix");
            let path = fill(path);
            let api = path.starts_with("/api/");
            let send = |c: &reqwest::Client, token: Option<&str>| {
                let mut rq = c.request(method.parse().unwrap(), s.url(&path));
                if let Some(t) = token {
                    rq = rq.bearer_auth(t);
                }
                if !body.is_empty() {
                    rq = rq.header("content-type", "application/json").body(fill(body));
                }
                rq.send()
            };
            for (i, user) in USERS.iter().enumerate() {
                let r = if api { send(&client(), Some(&tokens[i])).await } else { send(&browsers[i], None).await };
                let status = r.unwrap().status();
                let expected_pass = allowed.contains(user);
                let ok = if expected_pass {
                    passed(status)
                } else {
                    status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND
                };
                if !ok {
                    wrong.push(format!("{method} {path} as {user}: {status} (expected {})", if expected_pass { "through" } else { "403/404" }));
                }
            }
            // Anonymous.
            let status = send(&client(), None).await.unwrap().status();
            let expected = if api { StatusCode::UNAUTHORIZED } else { StatusCode::SEE_OTHER };
            if status != expected {
                wrong.push(format!("{method} {path} anonymously: {status} (expected {expected})"));
            }
        }
        for path in PUBLIC {
            let status = client().get(s.url(path)).send().await.unwrap().status();
            if status != StatusCode::OK {
                wrong.push(format!("GET {path} anonymously: {status} (expected 200)"));
            }
        }
        assert!(wrong.is_empty(), "{} answers differ from the matrix:\n{}", wrong.len(), wrong.join("\n"));
        // Nothing the refused callers sent changed anything: the case is still the caseworker's,
        // the referral still sent, the alert still open.
        let (_, c) = (0, client().get(s.url(&format!("/api/v1/cases/{case}"))).bearer_auth(&cw).send().await.unwrap().json::<Value>().await.unwrap());
        assert_eq!(c["caseworker"], "cw_col");
        assert_eq!(c["status"], "open");
        let r: Value = client().get(s.url(&format!("/api/v1/referrals/{referral}"))).bearer_auth(&cw).send().await.unwrap().json().await.unwrap();
        assert_eq!(r["status"], "sent");
        let a: Value = client().get(s.url(&format!("/api/v1/alerts/{alert}"))).bearer_auth(&cw).send().await.unwrap().json().await.unwrap();
        assert_eq!(a["status"], "open");
    }
}
