//! Web forms and the captive portal.
//!
//! `/collect/{id}`: the form rendered in the browser by `webform.js` from the form's
//! definition, with its expressions compiled to JavaScript from the same AST the server
//! checks with (`/collect/{id}/expressions.js`: a static script, since the page's CSP
//! forbids `eval`). A service worker keeps the form for offline use and the answers wait in
//! IndexedDB until they are sent to `POST /api/v1/forms/{id}/submissions`.
//!
//! `/portal/{form_id}`: a public form (marked `public`) for Wi-Fi points, rendered by the
//! server as one plain HTML form with no script at all, so that it weighs a few kilobytes
//! and works on any browser; the server checks the answers and shows what to fix.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rumbo_domain::permissions::Permission;
use rumbo_store::collection::{Channel, FormRecord, Ingested};
use rumbo_xlsform::{Field, Form, Kind, QuestionType};
use serde_json::{Map, Value};

use super::Submitter;
use super::ops::{self, JsonSubmission};
use crate::AppState;
use crate::auth::{ApiCaller, SignedIn};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::{Chrome, PageError, PageResult, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/collect", get(collect_list))
        .route("/collect/sw.js", get(service_worker))
        .route("/collect/{id}", get(collect_page))
        .route("/collect/{id}/definition.json", get(definition))
        .route("/collect/{id}/expressions.js", get(expressions))
        .route(
            "/static/webform.js",
            get(|| async { asset("text/javascript", include_str!("../../assets/webform.js")) }),
        )
        .route("/static/webform.css", get(|| async { asset("text/css", include_str!("../../assets/webform.css")) }))
        .route("/static/portal.css", get(|| async { asset("text/css", include_str!("../../assets/portal.css")) }))
        .route("/portal/{form}", get(portal_page).post(portal_submit))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let content_type = HeaderValue::from_str(&format!("{content_type}; charset=utf-8"))
        .unwrap_or(HeaderValue::from_static("text/plain"));
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"))], body)
        .into_response()
}

async fn service_worker() -> Response {
    let mut response = asset("text/javascript", include_str!("../../assets/webform-sw.js"));
    let h = response.headers_mut();
    h.insert("service-worker-allowed", HeaderValue::from_static("/collect/"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A form the caller may fill in.
async fn fillable(state: &AppState, caller: &crate::auth::Caller, id: i64) -> Result<FormRecord, ApiError> {
    let form = ops::form(state, caller, id).await?;
    ops::require_form(caller, &form, Permission::Submit)?;
    Ok(form)
}

#[derive(Template)]
#[template(path = "collect_list.html")]
struct CollectList {
    c: Chrome,
    forms: Vec<FormRecord>,
}

async fn collect_list(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    let forms = ops::list_forms(&state, &caller)
        .await?
        .into_iter()
        .filter(|f| {
            f.open && f.current_version_id.is_some() && ops::require_form(&caller, f, Permission::Submit).is_ok()
        })
        .collect();
    Ok(render(&CollectList { c: Chrome::new(lang, Some(&caller), &uri, "collect.title"), forms }))
}

#[derive(Template)]
#[template(path = "collect.html")]
struct CollectPage {
    c: Chrome,
    form: FormRecord,
}

async fn collect_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    Path(id): Path<i64>,
) -> PageResult {
    let form = fillable(&state, &caller, id).await?;
    let mut c = Chrome::new(lang, Some(&caller), &uri, "collect.title");
    c.title.clone_from(&form.title);
    Ok(render(&CollectPage { c, form }))
}

async fn definition(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let form = fillable(&state, &caller, id).await?;
    let compiled = state.collect.current(&form).await?;
    Ok(axum::Json(rumbo_xlsform::webform::definition(&compiled.form)).into_response())
}

async fn expressions(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let form = fillable(&state, &caller, id).await?;
    let compiled = state.collect.current(&form).await?;
    let script = rumbo_xlsform::webform::expressions_js(&compiled.form);
    Ok(([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], script).into_response())
}

// ---- the captive portal ----

/// One question of the portal page.
struct PortalField {
    name: String,
    label: String,
    hint: String,
    /// `text`, `number`, `decimal`, `date`, `one`, `many`, `note`.
    kind: &'static str,
    required: bool,
    value: String,
    values: Vec<String>,
    choices: Vec<(String, String)>,
    error: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    lang: String,
    title: String,
    action: String,
    token: String,
    languages: Vec<(String, String, bool)>,
    fields: Vec<PortalField>,
    thanks: bool,
    problems: bool,
    t_send: &'static str,
    t_thanks: &'static str,
    t_again: &'static str,
    t_fix: &'static str,
    t_required: &'static str,
}

/// The language of a form matching a query or the browser: `Español (es)` for `es`.
fn form_language(form: &Form, wanted: Option<&str>, ui: Lang) -> Option<String> {
    let code = |l: &str| l.rsplit_once('(').map(|(_, c)| c.trim_end_matches(')').trim().to_string());
    if let Some(w) = wanted
        && let Some(l) = form.languages.iter().find(|l| l.as_str() == w || code(l).as_deref() == Some(w))
    {
        return Some(l.clone());
    }
    form.languages
        .iter()
        .find(|l| code(l).as_deref() == Some(ui.code()))
        .cloned()
        .or_else(|| form.settings.default_language.clone())
}

fn portal_fields(form: &Form, language: Option<&str>) -> Vec<PortalField> {
    fn walk(form: &Form, fields: &[Field], language: Option<&str>, prefix: &str, out: &mut Vec<PortalField>) {
        for f in fields {
            let name = if prefix.is_empty() { f.name.clone() } else { format!("{prefix}/{}", f.name) };
            let label = f.label.get(language).unwrap_or_default().to_string();
            let kind = match f.kind {
                Some(Kind::Group) => {
                    walk(form, &f.children, language, &name, out);
                    continue;
                }
                Some(Kind::Question(q)) => match q {
                    QuestionType::Text | QuestionType::Barcode => "text",
                    QuestionType::Integer => "number",
                    QuestionType::Decimal => "decimal",
                    QuestionType::Date => "date",
                    QuestionType::SelectOne => "one",
                    QuestionType::SelectMultiple => "many",
                    QuestionType::Note => "note",
                    _ => continue,
                },
                _ => continue,
            };
            let choices = f
                .list
                .as_deref()
                .and_then(|l| form.choice_list(l))
                .map(|l| {
                    l.choices
                        .iter()
                        .map(|c| (c.name.clone(), c.label.get(language).unwrap_or(&c.name).to_string()))
                        .collect()
                })
                .unwrap_or_default();
            out.push(PortalField {
                name,
                label,
                hint: f.hint.get(language).unwrap_or_default().to_string(),
                kind,
                required: f.required.as_deref().is_some_and(|r| matches!(r.trim(), "yes" | "true()" | "true")),
                value: String::new(),
                values: Vec::new(),
                choices,
                error: String::new(),
            });
        }
    }
    let mut out = Vec::new();
    walk(form, &form.fields, language, "", &mut out);
    out
}

async fn public_form(
    state: &AppState,
    xml_form_id: &str,
) -> Result<(FormRecord, std::sync::Arc<super::Compiled>), ApiError> {
    let entry = state.collect.entry(xml_form_id).await?;
    if !entry.record.public || !entry.record.open {
        return Err(ApiError::NotFound(format!("public form {xml_form_id}")));
    }
    let compiled = state.collect.current(&entry.record).await?;
    Ok((entry.record.clone(), compiled))
}

fn portal(form: &FormRecord, compiled: &super::Compiled, language: Option<&String>, ui: Lang) -> PortalPage {
    let languages = compiled
        .form
        .languages
        .iter()
        .filter(|l| l.as_str() != rumbo_xlsform::model::DEFAULT_LANGUAGE)
        .map(|l| {
            let code = l.rsplit_once('(').map_or(l.as_str(), |(_, c)| c.trim_end_matches(')'));
            (code.to_string(), l.rsplit_once(" (").map_or(l.as_str(), |(n, _)| n).to_string(), Some(l) == language)
        })
        .collect();
    PortalPage {
        lang: ui.code().into(),
        title: compiled.form.title.clone(),
        action: format!("/portal/{}", crate::collect::record::url_segment(&form.xml_form_id)),
        token: crate::openrosa::form_token(),
        languages,
        fields: portal_fields(&compiled.form, language.map(String::as_str)),
        thanks: false,
        problems: false,
        t_send: ui.t("portal.send"),
        t_thanks: ui.t("portal.thanks"),
        t_again: ui.t("portal.again"),
        t_fix: ui.t("portal.fix"),
        t_required: ui.t("portal.required"),
    }
}

fn portal_response(status: StatusCode, page: &PortalPage) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => PageError(ApiError::Internal(e.to_string())).into_response(),
    }
}

async fn portal_page(
    State(state): State<AppState>,
    Path(xml_form_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    ui: Lang,
) -> Result<Response, PageError> {
    let (form, compiled) = public_form(&state, &xml_form_id).await?;
    let language = form_language(&compiled.form, q.get("lang").map(String::as_str), ui);
    Ok(portal_response(StatusCode::OK, &portal(&form, &compiled, language.as_ref(), ui)))
}

async fn portal_submit(
    State(state): State<AppState>,
    Path(xml_form_id): Path<String>,
    ui: Lang,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let (form, compiled) = public_form(&state, &xml_form_id).await?;
    let pairs: Vec<(String, String)> = serde_html_form::from_bytes(&body)
        .map_err(|e| PageError(ApiError::BadRequest(format!("the form could not be read: {e}"))))?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let language = form_language(&compiled.form, get("_lang"), ui);
    let mut page = portal(&form, &compiled, language.as_ref(), ui);
    // Answers into the record: groups nested, numbers as numbers, several choices as a list.
    let mut record = Map::new();
    for f in &mut page.fields {
        let values: Vec<String> = pairs
            .iter()
            .filter(|(n, v)| n == &f.name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect();
        f.value = values.first().cloned().unwrap_or_default();
        f.values.clone_from(&values);
        if f.kind == "note" || values.is_empty() {
            continue;
        }
        let value = match f.kind {
            "many" => Value::Array(values.iter().cloned().map(Value::String).collect()),
            _ => Value::String(f.value.clone()),
        };
        insert_at(&mut record, &f.name.split('/').collect::<Vec<_>>(), value);
    }
    if !get("_token").is_some_and(crate::openrosa::form_token_valid) {
        // The page sat open too long (or did not come from here): show it again, filled.
        page.problems = true;
        return Ok(portal_response(StatusCode::BAD_REQUEST, &page));
    }
    let instance = format!("uuid:{}", ops::uuid_v4());
    record.insert("meta".into(), serde_json::json!({ "instanceID": instance }));
    let body = JsonSubmission { version: None, data: Value::Object(record) };
    match ops::submit_json(&state, &Submitter::anonymous(), &form, body, Channel::Portal).await {
        Ok(Ingested::Created { .. } | Ingested::Duplicate { .. }) => {
            page.thanks = true;
            page.fields.clear();
            Ok(portal_response(StatusCode::CREATED, &page))
        }
        Ok(Ingested::Conflict { message } | Ingested::Refused { message, .. }) => {
            Err(PageError(ApiError::Conflict { field: None, message }))
        }
        Err(ApiError::InvalidSubmission(errors)) => {
            page.problems = true;
            for e in errors {
                let name = e.field.split('/').skip(1).collect::<Vec<_>>().join("/");
                let name = name.split('[').next().unwrap_or_default().to_string();
                if let Some(f) =
                    page.fields.iter_mut().find(|f| f.name == name || f.name.ends_with(&format!("/{name}")))
                {
                    f.error = e.message;
                }
            }
            Ok(portal_response(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(PageError(e)),
    }
}

/// Puts `value` at `group/…/name` in the record, creating the groups.
fn insert_at(record: &mut Map<String, Value>, path: &[&str], value: Value) {
    match path {
        [] => {}
        [name] => {
            record.insert((*name).to_string(), value);
        }
        [group, rest @ ..] => {
            let entry = record.entry((*group).to_string()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert_at(inner, rest, value);
            }
        }
    }
}
