//! Red-flag rules (written by focal points) and the alert inbox (caseworkers and focal
//! points of the alert's country): a live list, acknowledge, dismiss with a reason, open a
//! case.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use rumbo_domain::permissions::Permission;
use rumbo_store::model::Page;
use rumbo_store::protection::{ALERT_STATUSES, Alert, AlertFilter, FlagRule, FlagRuleInput, SEVERITIES};
use serde::Deserialize;
use tokio_stream::StreamExt as _;
use utoipa::OpenApi;

use super::flags;
use crate::AppState;
use crate::auth::{ApiCaller, Caller, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::i18n::Lang;
use crate::pages::{Chrome, PageResult, Posted, render, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/flag-rules", get(api_rules).post(api_create_rule))
        .route("/api/v1/flag-rules/{id}", get(api_rule).put(api_update_rule))
        .route("/api/v1/alerts", get(api_alerts))
        .route("/api/v1/alerts/stream", get(stream))
        .route("/api/v1/alerts/{id}", get(api_alert))
        .route("/api/v1/alerts/{id}/acknowledge", post(api_acknowledge))
        .route("/api/v1/alerts/{id}/dismiss", post(api_dismiss))
        .route("/protection/alerts", get(inbox))
        .route("/protection/alerts/{id}/acknowledge", post(page_acknowledge))
        .route("/protection/alerts/{id}/dismiss", post(page_dismiss))
        .route("/protection/rules", get(rules_page).post(page_save_rule))
        .route("/protection/rules/{id}", post(page_update_rule))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api_rules,
        api_create_rule,
        api_rule,
        api_update_rule,
        api_alerts,
        stream,
        api_alert,
        api_acknowledge,
        api_dismiss
    ),
    components(schemas(FlagRule, FlagRuleInput, Alert, Reason))
)]
pub struct AlertsDoc;

// ---------- rules ----------

/// The rules the caller may see: those concerning her countries.
async fn visible_rules(state: &AppState, caller: &Caller) -> ApiResult<Vec<FlagRule>> {
    let mut out = Vec::new();
    for rule in state.store.flag_rules(None).await? {
        let countries = flags::rule_countries(state, rule.form_id, rule.route_country.as_deref()).await?;
        let may = |p| countries.iter().any(|c| caller.allows(p, Some(c)));
        if may(Permission::ManageFlagRules) || may(Permission::HandleAlerts) {
            out.push(rule);
        }
    }
    Ok(out)
}

/// Saves a rule: the caller must manage rules in every country it concerns. A refused or
/// invalid rule changes nothing, and the attempt is audited.
async fn save_rule(state: &AppState, caller: &Caller, id: Option<i64>, input: &FlagRuleInput) -> ApiResult<FlagRule> {
    let saved = try_save_rule(state, caller, id, input).await;
    if let Err(e) = &saved {
        let detail = serde_json::json!({ "doing": "save", "form_id": input.form_id, "name": input.name, "refused": e.to_string() });
        let rule = id.map_or_else(|| "new".to_string(), |id| id.to_string());
        super::cases::denied(state, caller, "flag_rule", &rule, input.route_country.as_deref(), detail).await;
    }
    saved
}

async fn try_save_rule(
    state: &AppState,
    caller: &Caller,
    id: Option<i64>,
    input: &FlagRuleInput,
) -> ApiResult<FlagRule> {
    caller.require(Permission::ManageFlagRules, None)?;
    // Who may write it first (so nobody learns anything from the checks), then what it says.
    let countries = flags::rule_countries(state, input.form_id, input.route_country.as_deref())
        .await
        .map_err(|_| ApiError::invalid("form_id", format!("there is no form {}", input.form_id)))?;
    for country in countries {
        caller.require(Permission::ManageFlagRules, Some(&country))?;
    }
    flags::check(state, input).await?;
    if let Some(id) = id {
        let old = state.store.flag_rule(id).await.map_err(|_| ApiError::NotFound(format!("red-flag rule {id}")))?;
        for country in flags::rule_countries(state, old.form_id, old.route_country.as_deref()).await? {
            caller.require(Permission::ManageFlagRules, Some(&country))?;
        }
    }
    let saved = state.store.save_flag_rule(&caller.actor(), id, input).await?;
    flags::reload(state).await?;
    Ok(saved)
}

#[utoipa::path(get, path = "/api/v1/flag-rules", tag = "protection", responses((status = 200, body = [FlagRule])))]
async fn api_rules(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Vec<FlagRule>>> {
    if !caller.allows(Permission::ManageFlagRules, None) {
        caller.require(Permission::HandleAlerts, None)?;
    }
    Ok(Json(visible_rules(&state, &caller).await?))
}

#[utoipa::path(get, path = "/api/v1/flag-rules/{id}", tag = "protection", responses((status = 200, body = FlagRule)))]
async fn api_rule(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<FlagRule>> {
    visible_rules(&state, &caller)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("red-flag rule {id}")))
}

#[utoipa::path(post, path = "/api/v1/flag-rules", tag = "protection", request_body = FlagRuleInput,
    responses((status = 201, body = FlagRule), (status = 422, description = "the expression does not parse or names no field of the form")))]
async fn api_create_rule(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<FlagRuleInput>,
) -> ApiResult<(axum::http::StatusCode, Json<FlagRule>)> {
    Ok((axum::http::StatusCode::CREATED, Json(save_rule(&state, &caller, None, &input).await?)))
}

#[utoipa::path(put, path = "/api/v1/flag-rules/{id}", tag = "protection", request_body = FlagRuleInput,
    responses((status = 200, body = FlagRule)))]
async fn api_update_rule(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<FlagRuleInput>,
) -> ApiResult<Json<FlagRule>> {
    Ok(Json(save_rule(&state, &caller, Some(id), &input).await?))
}

// ---------- alerts ----------

/// The alerts of the caller's countries.
async fn alerts(state: &AppState, caller: &Caller, mut filter: AlertFilter) -> ApiResult<Page<Alert>> {
    caller.require(Permission::HandleAlerts, None)?;
    if let Some(c) = &filter.country {
        caller.require(Permission::HandleAlerts, Some(c))?;
    }
    if let Some(s) = filter.status.as_deref().filter(|s| *s != "all" && !ALERT_STATUSES.contains(s)) {
        return Err(ApiError::invalid(
            "status",
            format!("`{s}` is not a status: use all, {}", ALERT_STATUSES.join(", ")),
        ));
    }
    if let Some(s) = filter.severity.as_deref().filter(|s| !SEVERITIES.contains(s)) {
        return Err(ApiError::invalid("severity", format!("`{s}` is not a severity: use {}", SEVERITIES.join(", "))));
    }
    filter.scope = caller.scope();
    Ok(state.store.list_alerts(&filter).await?)
}

/// One alert, if it is of the caller's countries (otherwise it does not exist for her).
async fn alert(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Alert> {
    let found =
        state.store.alert(id).await.ok().filter(|a| caller.allows(Permission::HandleAlerts, Some(&a.country_code)));
    found.ok_or_else(|| ApiError::NotFound(format!("alert {id}")))
}

async fn handle(state: &AppState, caller: &Caller, id: i64, status: &str, reason: Option<&str>) -> ApiResult<Alert> {
    alert(state, caller, id).await?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if status == "dismissed" && reason.is_none() {
        return Err(ApiError::invalid("reason", "say why the alert is dismissed"));
    }
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::invalid("reason", "is longer than 500 characters"));
    }
    let handled = state.store.handle_alert(&caller.actor(), id, status, reason).await?;
    state.analytics.flags().changed();
    Ok(handled)
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "protection", params(AlertFilter), responses((status = 200, body = inline(Page<Alert>))))]
async fn api_alerts(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(filter): ApiQuery<AlertFilter>,
) -> ApiResult<Json<Page<Alert>>> {
    Ok(Json(alerts(&state, &caller, filter).await?))
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "protection", responses((status = 200, body = Alert)))]
async fn api_alert(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Alert>> {
    Ok(Json(alert(&state, &caller, id).await?))
}

/// Why an alert is dismissed (or a note on acknowledging it).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "protection", request_body = Reason, responses((status = 200, body = Alert)))]
async fn api_acknowledge(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(body): OptionalJson<Reason>,
) -> ApiResult<Json<Alert>> {
    let reason = body.reason;
    Ok(Json(handle(&state, &caller, id, "acknowledged", reason.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/dismiss", tag = "protection", request_body = Reason,
    responses((status = 200, body = Alert), (status = 422, description = "no reason given")))]
async fn api_dismiss(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Reason>,
) -> ApiResult<Json<Alert>> {
    Ok(Json(handle(&state, &caller, id, "dismissed", body.reason.as_deref()).await?))
}

/// Server-sent events: an `update` event whenever alerts are raised or handled.
#[utoipa::path(get, path = "/api/v1/alerts/stream", tag = "protection",
    responses((status = 200, description = "text/event-stream of `update` events", content_type = "text/event-stream")))]
async fn stream(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<impl IntoResponse> {
    caller.require(Permission::HandleAlerts, None)?;
    let updates = tokio_stream::wrappers::WatchStream::from_changes(state.analytics.flags().subscribe());
    let events = updates
        .throttle(Duration::from_millis(500))
        .map(|version| Ok::<_, Infallible>(Event::default().event("update").data(version.to_string())));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

// ---------- pages ----------

struct AlertLine {
    a: Alert,
    message: String,
    created: String,
    handled: String,
    overdue_hours: i64,
}

#[derive(Template)]
#[template(path = "protection_alerts.html")]
struct InboxPage {
    c: Chrome,
    lines: Vec<AlertLine>,
    total: i64,
    status: String,
    severity: String,
    statuses: Vec<(&'static str, String)>,
    severities: Vec<(&'static str, String)>,
    partial: bool,
    may_open_cases: bool,
}

#[derive(Template)]
#[template(path = "protection_alerts_rows.html")]
struct InboxBody<'a> {
    c: &'a Chrome,
    lines: &'a [AlertLine],
    total: i64,
    may_open_cases: bool,
}

#[derive(Deserialize, Default)]
struct InboxQuery {
    status: Option<String>,
    severity: Option<String>,
    partial: Option<u8>,
}

async fn inbox(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> PageResult {
    let status = q.status.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into());
    let severity = q.severity.clone().filter(|s| !s.is_empty());
    let filter = AlertFilter {
        status: Some(status.clone()),
        severity: severity.clone(),
        limit: Some(500),
        ..AlertFilter::default()
    };
    let page = alerts(&state, &caller, filter).await?;
    let now = chrono::Utc::now();
    let lines = page
        .items
        .into_iter()
        .map(|a| {
            let message = match lang {
                Lang::Es => a.message_es.clone(),
                Lang::Pt => a.message_pt.clone(),
                Lang::En => a.message_en.clone(),
            };
            AlertLine {
                created: a.created_at.format("%Y-%m-%d %H:%M").to_string(),
                handled: a
                    .handled_at
                    .map(|h| format!("{} · {}", h.format("%Y-%m-%d %H:%M"), a.handled_by.clone().unwrap_or_default()))
                    .unwrap_or_default(),
                overdue_hours: if a.status == "open" { (now - a.created_at).num_hours() } else { 0 },
                message,
                a,
            }
        })
        .collect();
    let p = InboxPage {
        c: Chrome::new(lang, Some(&caller), &uri, "prot.alerts"),
        lines,
        total: page.total,
        statuses: std::iter::once("all")
            .chain(ALERT_STATUSES.iter().copied())
            .map(|s| (s, lang.t(&format!("prot.alert.{s}")).to_string()))
            .collect(),
        severities: SEVERITIES.iter().map(|s| (*s, lang.t(&format!("prot.severity.{s}")).to_string())).collect(),
        status,
        severity: severity.unwrap_or_default(),
        partial: q.partial == Some(1),
        may_open_cases: caller.allows(Permission::HandleCases, None),
    };
    if p.partial {
        return Ok(render(&InboxBody { c: &p.c, lines: &p.lines, total: p.total, may_open_cases: p.may_open_cases }));
    }
    Ok(render(&p))
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: Option<String>,
}

async fn page_acknowledge(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<ReasonForm>,
) -> PageResult {
    handle(&state, &caller, id, "acknowledged", form.reason.as_deref()).await?;
    Ok(see_other("/protection/alerts?notice=saved"))
}

async fn page_dismiss(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<ReasonForm>,
) -> PageResult {
    handle(&state, &caller, id, "dismissed", form.reason.as_deref()).await?;
    Ok(see_other("/protection/alerts?notice=saved"))
}

struct RuleLine {
    r: FlagRule,
    form: String,
    message: String,
}

#[derive(Template)]
#[template(path = "protection_rules.html")]
struct RulesPage {
    c: Chrome,
    rules: Vec<RuleLine>,
    forms: Vec<(i64, String)>,
    severities: Vec<(&'static str, String)>,
    may_edit: bool,
}

async fn rules_page(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    rules_response(&state, &caller, lang, &uri).await
}

async fn rules_response(state: &AppState, caller: &Caller, lang: Lang, uri: &Uri) -> PageResult {
    if !caller.allows(Permission::ManageFlagRules, None) {
        caller.require(Permission::HandleAlerts, None)?;
    }
    let forms: Vec<(i64, String)> = state
        .store
        .list_forms(caller.scope().as_deref())
        .await?
        .into_iter()
        .map(|f| (f.id, format!("{} ({})", f.title, f.xml_form_id)))
        .collect();
    let rules = visible_rules(state, caller)
        .await?
        .into_iter()
        .map(|r| RuleLine {
            form: forms.iter().find(|(id, _)| *id == r.form_id).map(|(_, n)| n.clone()).unwrap_or_default(),
            message: flags::message(&r, lang).to_string(),
            r,
        })
        .collect();
    Ok(render(&RulesPage {
        c: Chrome::new(lang, Some(caller), uri, "prot.rules"),
        rules,
        forms,
        severities: SEVERITIES.iter().map(|s| (*s, lang.t(&format!("prot.severity.{s}")).to_string())).collect(),
        may_edit: caller.allows(Permission::ManageFlagRules, None),
    }))
}

#[derive(Deserialize)]
struct RuleForm {
    form_id: String,
    name: String,
    expression: String,
    severity: String,
    message_en: String,
    message_es: String,
    message_pt: String,
    #[serde(default)]
    route_country: String,
    #[serde(default)]
    active: Option<String>,
}

impl RuleForm {
    fn input(self) -> ApiResult<FlagRuleInput> {
        Ok(FlagRuleInput {
            form_id: self.form_id.trim().parse().map_err(|_| ApiError::invalid("form_id", "choose a form"))?,
            name: self.name,
            expression: self.expression,
            severity: self.severity,
            message_en: self.message_en,
            message_es: self.message_es,
            message_pt: self.message_pt,
            route_country: Some(self.route_country.trim().to_uppercase()).filter(|c| !c.is_empty()),
            route_site_id: None,
            active: self.active.is_some(),
        })
    }
}

async fn page_save_rule(State(state): State<AppState>, Posted { caller, form }: Posted<RuleForm>) -> PageResult {
    save_rule(&state, &caller, None, &form.input()?).await?;
    Ok(see_other("/protection/rules?notice=saved"))
}

async fn page_update_rule(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<RuleForm>,
) -> PageResult {
    save_rule(&state, &caller, Some(id), &form.input()?).await?;
    Ok(see_other("/protection/rules?notice=saved"))
}
