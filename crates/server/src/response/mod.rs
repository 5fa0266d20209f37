//! Response monitoring (5W): the regional plan and the monthly activity reports partners
//! send against it, through the JSON API (`/api/v1/response/…`) and Excel templates.
//!
//! Who may do what (see docs/response.md):
//! - everyone signed in reads the plan; [`Permission::ManagePlan`] loads it (in every
//!   country it names) and edits targets (in the target's country);
//! - [`Permission::ReportActivities`] enters, uploads, changes and deletes reports in the
//!   caller's countries. A partner reporter acts for her organisation only: she sees and
//!   changes the rows where it is the appealing or the implementing organisation, and
//!   downloads and uploads only its template;
//! - [`Permission::ReviewActivities`] approves or returns rows in the caller's countries.
//!
//! Access is checked before the input is: a refused caller learns nothing from a 422.

pub mod dashboard;
pub mod demo;
pub mod pages;
pub mod plan;
pub mod reached;
pub mod reports;
pub mod sheet;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate, Utc};
use rumbo_domain::permissions::{Permission, allows, scope};
use rumbo_store::FieldError;
use rumbo_store::model::{Role, User};
use rumbo_store::response::{
    ActivityReport, NewActivityReport, NewUpload, Plan, PlanIndicator, PlanSector, PlanTarget, ReportFilter, ReportPage,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::AppState;
use crate::auth::{ApiCaller, Caller};
use crate::collect::api::attachment_response;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use pages::progress::{Phase, Progress};
use reports::{Checker, ReportInput};
use sheet::XLSX;

/// The largest workbook accepted.
pub const MAX_FILE: usize = 50 * 1024 * 1024;
/// The most data rows an upload may hold.
pub const MAX_ROWS: usize = 100_000;
/// Row errors listed in one answer (the message says how many there were).
pub const MAX_ERRORS: usize = 1_000;

pub fn router() -> Router<AppState> {
    let upload_limit = axum::extract::DefaultBodyLimit::max(MAX_FILE + 256 * 1024);
    Router::new()
        .route("/api/v1/response/plan/template.xlsx", get(plan_template))
        .route("/api/v1/response/plans", post(plan_upload).layer(upload_limit))
        .route("/api/v1/response/plans/{year}", get(plan_get))
        .route("/api/v1/response/plans/{year}/targets", put(targets_put))
        .route("/api/v1/response/reports/template.xlsx", get(report_template))
        .route("/api/v1/response/reports/upload", post(report_upload).layer(upload_limit))
        // JSON rows: up to MAX_ROWS of them, well over axum's 2 MB default.
        .route("/api/v1/response/reports", get(report_list).post(report_create).layer(upload_limit))
        .route("/api/v1/response/reports/review", post(report_review))
        .route("/api/v1/response/reports/{id}", put(report_update).delete(report_delete))
        .route("/api/v1/response/reached", get(reached::reached))
        .merge(pages::router())
        .merge(dashboard::router())
}

/// A tab of the 5W pages' sub-navigation.
pub struct Tab {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
}

/// The 5W tabs a caller may open (the overview and the plan for everyone signed in; reports
/// for reporters and reviewers; the upload for reporters; the review queue for reviewers).
pub fn tabs(caller: &Caller, lang: crate::i18n::Lang, path: &str) -> Vec<Tab> {
    let user = &caller.user;
    let reports = allows(user, Permission::ReportActivities, None) || allows(user, Permission::ReviewActivities, None);
    let items: [(&str, &'static str, bool); 5] = [
        ("resp.tab.overview", "/response", true),
        ("resp.tab.plan", "/response/plan", true),
        ("resp.tab.reports", "/response/reports", reports),
        ("resp.tab.upload", "/response/upload", allows(user, Permission::ReportActivities, None)),
        ("resp.tab.review", "/response/review", allows(user, Permission::ReviewActivities, None)),
    ];
    items
        .into_iter()
        .filter(|(_, _, shown)| *shown)
        .map(|(key, href, _)| Tab {
            label: lang.t(key),
            href,
            active: if href == "/response" { path == href } else { path.starts_with(href) },
        })
        .collect()
}

/// The 5W texts (key, [English, Spanish, Portuguese]) shared by the pages.
pub const TEXTS: &[(&str, [&str; 3])] = &[
    ("resp.tab.overview", ["Overview", "Resumen", "Resumo"]),
    ("resp.tab.plan", ["Plan", "Plan", "Plano"]),
    ("resp.tab.reports", ["Reports", "Reportes", "Relatórios"]),
    ("resp.tab.upload", ["Upload", "Cargar", "Carregar"]),
    ("resp.tab.review", ["Review", "Revisión", "Revisão"]),
];

/// The response-monitoring part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(plan_template, plan_upload, plan_get, targets_put, report_template, report_upload, report_list,
        report_create, report_update, report_delete, report_review, reached::reached, pages::upload::uploads_list,
        pages::upload::upload_progress),
    components(schemas(Plan, PlanSector, PlanIndicator, PlanTarget, TargetsInput, ReportInput, ReportsInput,
        ActivityReport, ReportPage, Stored, Review, Reviewed, reached::Reached, reached::SectorReach, reached::CountryReach,
        rumbo_store::response::ActivityUpload, pages::progress::ProgressReport, pages::progress::Phase)),
    tags((name = "response", description = "Response monitoring (5W): the regional plan and partners' monthly activity reports.")),
)]
pub struct ResponseDoc;

// ---- access ----

fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::Forbidden(message.into())
}

/// The organisation a partner reporter acts for (`None` for other roles).
pub(crate) fn partner_organisation(user: &User) -> ApiResult<Option<i64>> {
    if user.role != Role::PartnerReporter {
        return Ok(None);
    }
    user.organisation_id
        .map(Some)
        .ok_or_else(|| forbidden("your account is not linked to an organisation: ask an administrator to link it"))
}

/// May the caller change this row (country, organisations)?
pub(crate) fn may_report(user: &User, country: &str, appealing: i64, implementing: i64) -> ApiResult<()> {
    if !allows(user, Permission::ReportActivities, Some(country)) {
        return Err(forbidden(format!("you may not report activities in {country}")));
    }
    if let Some(org) = partner_organisation(user)?
        && appealing != org
        && implementing != org
    {
        return Err(forbidden("you may report only your organisation's activities"));
    }
    Ok(())
}

pub(crate) fn require(user: &User, permission: Permission, what: &str) -> ApiResult<()> {
    if allows(user, permission, None) { Ok(()) } else { Err(forbidden(format!("you may not {what}"))) }
}

/// The plan of a year, or a 404 that says so.
pub(crate) async fn plan_of(state: &AppState, year: i32) -> ApiResult<Plan> {
    state.store.response_plan(year).await.map_err(|e| match e {
        rumbo_store::StoreError::NotFound { .. } => ApiError::NotFound(format!("a response plan for {year}")),
        other => other.into(),
    })
}

pub(crate) async fn checker(state: &AppState, plan: &Plan) -> ApiResult<Checker> {
    let admin1 = state.store.admin1_countries().await?;
    let countries: HashSet<String> = state.store.list_countries().await?.into_iter().map(|c| c.code).collect();
    let organisations = state.store.organisation_names().await?;
    Ok(Checker::new(plan, admin1, countries, &organisations))
}

async fn reference(state: &AppState) -> ApiResult<plan::Reference> {
    Ok(plan::Reference {
        countries: state.store.list_countries().await?.into_iter().map(|c| c.code).collect(),
        admin1: state.store.admin1_countries().await?,
    })
}

pub(crate) async fn read_file(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<(String, Vec<u8>, HashMap<String, String>)> {
    let mut multipart = multipart
        .map_err(|e| ApiError::BadRequest(format!("send the file as multipart/form-data: {}", e.body_text())))?;
    let mut file = None;
    let mut fields = HashMap::new();
    let fail = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!("a workbook may be at most {} MB", MAX_FILE / (1024 * 1024)))
        } else {
            ApiError::BadRequest(format!("the upload is malformed or was cut short: {}", e.body_text()))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(fail)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload.xlsx").to_string();
            file = Some((file_name, field.bytes().await.map_err(fail)?.to_vec()));
        } else {
            fields.insert(name, field.text().await.map_err(fail)?);
        }
    }
    let (name, bytes) = file.ok_or_else(|| ApiError::invalid("file", "is missing: attach the workbook as `file`"))?;
    Ok((name, bytes, fields))
}

pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))?
}

// ---- the plan ----

#[derive(Debug, Deserialize, IntoParams)]
pub struct YearQuery {
    /// The plan year (default: this year).
    pub year: Option<i32>,
}

/// The plan template (XLSX): sheets `sectors` (prefilled with the RMRP sectors),
/// `indicators`, `targets` and `rumbo` (kind, year, name, period, deadline day).
#[utoipa::path(get, path = "/api/v1/response/plan/template.xlsx", tag = "response", params(YearQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 403, body = ErrorBody)))]
async fn plan_template(ApiCaller(caller): ApiCaller, ApiQuery(q): ApiQuery<YearQuery>) -> ApiResult<Response> {
    require(&caller.user, Permission::ManagePlan, "manage the response plan")?;
    let year = q.year.unwrap_or_else(|| Utc::now().date_naive().year());
    let bytes = plan::template(year)?;
    Ok(attachment_response(&format!("rumbo-plan-{year}.xlsx"), XLSX, bytes))
}

/// Load a plan from a filled template (multipart `file`): every row is checked and every
/// problem named by `sheet!A1`; nothing is saved unless all is right. Replaces the plan of
/// the same year.
#[utoipa::path(post, path = "/api/v1/response/plans", tag = "response",
    request_body(content_type = "multipart/form-data", description = "`file`: the filled plan template"),
    responses((status = 201, body = Plan), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn plan_upload(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    require(&caller.user, Permission::ManagePlan, "manage the response plan")?;
    let (_, bytes, _) = read_file(multipart).await?;
    let saved = dashboard::plan_page::load(&state, &caller, bytes).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// The plan of a year: sectors, indicators and targets.
#[utoipa::path(get, path = "/api/v1/response/plans/{year}", tag = "response", params(("year" = i32, Path)),
    responses((status = 200, body = Plan), (status = 404, body = ErrorBody)))]
async fn plan_get(
    State(state): State<AppState>,
    ApiCaller(_): ApiCaller,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<Json<Plan>> {
    Ok(Json(plan_of(&state, year).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TargetsInput {
    pub targets: Vec<PlanTarget>,
}

/// Set targets (matched on country, admin 1 and sector; new ones are added). Needs
/// ManagePlan in each target's country.
#[utoipa::path(put, path = "/api/v1/response/plans/{year}/targets", tag = "response", params(("year" = i32, Path)),
    request_body = TargetsInput,
    responses((status = 200, body = Plan), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn targets_put(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(year): ApiPath<i32>,
    ApiJson(mut body): ApiJson<TargetsInput>,
) -> ApiResult<Json<Plan>> {
    require(&caller.user, Permission::ManagePlan, "manage the response plan")?;
    for t in &mut body.targets {
        t.country_code = t.country_code.trim().to_uppercase();
        t.admin1_pcode = t.admin1_pcode.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
        if !allows(&caller.user, Permission::ManagePlan, Some(&t.country_code)) {
            return Err(forbidden(format!("you may not manage the plan in {}", t.country_code)));
        }
    }
    let current = plan_of(&state, year).await?;
    let sectors: HashSet<&str> = current.sectors.iter().map(|s| s.code.as_str()).collect();
    let errors = plan::check_targets(&body.targets, &sectors, &reference(&state).await?);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    Ok(Json(state.store.save_response_targets(&caller.actor(), year, &body.targets).await?))
}

// ---- activity reports ----

#[derive(Debug, Deserialize, IntoParams)]
pub struct TemplateQuery {
    /// The reporting (appealing) organisation.
    pub organisation: i64,
    /// The plan year (default: this year).
    pub year: Option<i32>,
}

/// The activity report template for an organisation and plan year: a `reports` sheet with
/// drop-down lists, and hidden `lists` and `rumbo` (kind, year, organisation) sheets. A
/// partner reporter downloads only her organisation's.
#[utoipa::path(get, path = "/api/v1/response/reports/template.xlsx", tag = "response", params(TemplateQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn report_template(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<TemplateQuery>,
) -> ApiResult<Response> {
    require(&caller.user, Permission::ReportActivities, "report activities")?;
    if let Some(org) = partner_organisation(&caller.user)?
        && org != q.organisation
    {
        return Err(forbidden("you may download only your organisation's template"));
    }
    let organisation = state.store.organisation(q.organisation).await?;
    let year = q.year.unwrap_or_else(|| Utc::now().date_naive().year());
    let plan = plan_of(&state, year).await?;
    let scope = scope(&caller.user);
    let covers = |c: &str| scope.as_ref().is_none_or(|s| s.iter().any(|x| x == c));
    let mut countries: Vec<String> =
        state.store.list_countries().await?.into_iter().map(|c| c.code).filter(|c| covers(c)).collect();
    countries.sort();
    let mut admin1: Vec<String> =
        state.store.admin1_countries().await?.into_iter().filter(|(_, c)| covers(c)).map(|(p, _)| p).collect();
    admin1.sort();
    let lists = reports::TemplateLists {
        organisation_id: organisation.id,
        organisation: organisation.name.clone(),
        year,
        indicators: plan.indicators.iter().map(|i| i.code.clone()).collect(),
        sectors: plan.sectors.iter().map(|s| s.code.clone()).collect(),
        countries,
        admin1,
        organisations: state.store.organisation_names().await?.into_iter().map(|(_, name, _)| name).collect(),
    };
    let bytes = blocking(move || reports::template(&lists)).await?;
    let safe = organisation.acronym.clone();
    Ok(attachment_response(&format!("rumbo-activities-{year}-{safe}.xlsx"), XLSX, bytes))
}

/// What a batch of rows became.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stored {
    pub upload_id: Option<i64>,
    pub rows: usize,
    pub ids: Vec<i64>,
    pub late: usize,
    pub duplicate: usize,
    pub outlier: usize,
    /// Time to read, check and store, in milliseconds.
    pub elapsed_ms: u128,
    /// Of which reading the workbook (uploads only).
    pub read_ms: u128,
    /// Of which checking the rows and raising their flags.
    pub check_ms: u128,
    /// Of which storing them.
    pub store_ms: u128,
}

/// Checks rows, raises their flags and stores them all, or nothing.
pub(crate) async fn store_rows(
    state: &AppState,
    caller: &Caller,
    plan: &Plan,
    checked: Vec<NewActivityReport>,
    upload: Option<NewUpload>,
    started: Instant,
    read_ms: u128,
) -> ApiResult<Stored> {
    let flagging = Instant::now();
    let mut rows = checked;
    let mut by_org: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_org.entry(r.appealing_org_id).or_default().push(i);
    }
    let today = Utc::now().date_naive();
    for (org, indexes) in by_org {
        let existing = state.store.activity_report_keys(plan.id, org, None).await?;
        let past = state.store.organisation_past_figures(plan.id, org).await?;
        let mut group: Vec<NewActivityReport> = indexes.iter().map(|i| rows[*i].clone()).collect();
        reports::raise_flags(&mut group, plan.deadline_day, today, &existing, &past);
        for (i, r) in indexes.into_iter().zip(group) {
            rows[i] = r;
        }
    }
    let flag_ms = flagging.elapsed().as_millis();
    let storing = Instant::now();
    let (upload_id, ids) =
        state.store.insert_activity_reports(&caller.actor(), plan.id, upload.as_ref(), &rows).await?;
    let store_ms = storing.elapsed().as_millis();
    let elapsed_ms = started.elapsed().as_millis();
    Ok(Stored {
        upload_id,
        rows: ids.len(),
        late: rows.iter().filter(|r| r.flag_late).count(),
        duplicate: rows.iter().filter(|r| r.flag_duplicate).count(),
        outlier: rows.iter().filter(|r| r.flag_outlier).count(),
        ids,
        elapsed_ms,
        read_ms,
        check_ms: elapsed_ms.saturating_sub(read_ms + store_ms).max(flag_ms),
        store_ms,
    })
}

pub(crate) fn refuse_countries<'a>(user: &User, countries: impl Iterator<Item = &'a str>) -> ApiResult<()> {
    let mut seen = HashSet::new();
    for c in countries {
        let c = c.trim().to_uppercase();
        if seen.insert(c.clone()) && !c.is_empty() && !allows(user, Permission::ReportActivities, Some(&c)) {
            return Err(forbidden(format!("you may not report activities in {c}")));
        }
    }
    Ok(())
}

/// Upload a filled activity report template (multipart `file`; optional `organisation`
/// and `year`: what the uploader means to send, checked against the template). Every row
/// is checked and stored as `submitted`, all or nothing; problems are named by cell
/// (`reports!H12`).
#[utoipa::path(post, path = "/api/v1/response/reports/upload", tag = "response",
    request_body(content_type = "multipart/form-data", description = "`file`: the filled template; `organisation`, `year`: optional checks"),
    responses((status = 201, body = Stored), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn report_upload(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    require(&caller.user, Permission::ReportActivities, "report activities")?;
    partner_organisation(&caller.user)?;
    let (file_name, bytes, fields) = read_file(multipart).await?;
    let progress = Progress::start(fields.get("progress").map(String::as_str), caller.user.id);
    let stored = upload_workbook(&state, &caller, file_name, bytes, &fields, &progress).await;
    progress.finish(stored.is_ok());
    Ok((StatusCode::CREATED, Json(stored?)))
}

/// Reads, checks and stores a filled activity report template (what the upload API and the
/// upload page both do), telling `progress` how far it got. A refused upload is recorded
/// with its reasons.
pub(crate) async fn upload_workbook(
    state: &AppState,
    caller: &Caller,
    file_name: String,
    bytes: Vec<u8>,
    fields: &HashMap<String, String>,
    progress: &Progress,
) -> ApiResult<Stored> {
    let started = Instant::now();
    require(&caller.user, Permission::ReportActivities, "report activities")?;
    let own = partner_organisation(&caller.user)?;
    progress.set(Phase::Reading, 0, 0);
    let copy = bytes.clone();
    let (filled, merged) =
        tokio::join!(blocking(move || reports::open(bytes)), blocking(move || reports::refuse_merged(copy)));
    let filled = filled?;
    merged?;
    let identity = filled.identity.clone();
    let expected_org = own.or_else(|| fields.get("organisation").and_then(|o| o.trim().parse::<i64>().ok()));
    if let Some(org) = expected_org
        && org != identity.organisation_id
    {
        let name = state.store.organisation(org).await.map_or_else(|_| format!("organisation {org}"), |o| o.name);
        let message = format!(
            "this template is for {} (organisation {}), not for {name} (organisation {org}): download your organisation's template",
            identity.organisation, identity.organisation_id
        );
        return Err(if own.is_some() { forbidden(message) } else { ApiError::invalid("file", message) });
    }
    if let Some(year) = fields.get("year").and_then(|y| y.trim().parse::<i32>().ok())
        && year != identity.year
    {
        return Err(ApiError::invalid(
            "file",
            format!(
                "this template is for the {} plan, not for the {year} plan: download the {year} template",
                identity.year
            ),
        ));
    }
    let plan = plan_of(state, identity.year).await.map_err(|_| {
        ApiError::invalid(
            "file",
            format!("this template is for the {} plan, and there is no plan for {}", identity.year, identity.year),
        )
    })?;
    let organisation = state.store.organisation(identity.organisation_id).await.map_err(|_| {
        ApiError::invalid(
            "file",
            format!("the template's organisation ({}) no longer exists", identity.organisation_id),
        )
    })?;
    let checker = std::sync::Arc::new(checker(state, &plan).await?);
    let sheet = filled.sheet;
    let (rows, cell_errors) = blocking(move || {
        let mut errors = Vec::new();
        let rows = reports::rows(&sheet, &mut errors);
        Ok((rows, errors))
    })
    .await?;
    if rows.len() > MAX_ROWS {
        return Err(ApiError::invalid(
            "reports!",
            format!("holds {} rows; at most {MAX_ROWS} are taken in one upload", rows.len()),
        ));
    }
    if rows.is_empty() && cell_errors.is_empty() {
        return Err(ApiError::invalid("reports!", "holds no rows"));
    }
    refuse_countries(&caller.user, rows.iter().map(|(_, r)| r.country.as_str()))?;
    let read_ms = started.elapsed().as_millis();
    let org_id = organisation.id;
    let row_count = rows.len();
    let c = checker.clone();
    let p = progress.clone();
    progress.set(Phase::Checking, 0, row_count);
    let (checked, mut errors) = blocking(move || {
        let mut errors = cell_errors;
        let mut checked = Vec::with_capacity(rows.len());
        for (i, (r, row)) in rows.iter().enumerate() {
            let field = |name: &str| sheet::address("reports", *r, reports::column_of(name));
            if let Some(ok) = c.check(row, org_id, &field, &mut errors) {
                checked.push(ok);
            }
            if i % 200 == 199 {
                p.set(Phase::Checking, i + 1, rows.len());
            }
        }
        p.set(Phase::Checking, rows.len(), rows.len());
        Ok((checked, errors))
    })
    .await?;
    if !errors.is_empty() {
        let total = errors.len();
        let summary: Vec<String> = errors.iter().take(20).map(|e| format!("{}: {}", e.field, e.message)).collect();
        let refused = NewUpload { organisation_id: org_id, file_name: file_name.clone() };
        let summary = format!("{total} problems: {}", summary.join("; "));
        state.store.record_refused_upload(&caller.actor(), plan.id, &refused, row_count, &summary).await?;
        errors.truncate(MAX_ERRORS);
        if total > MAX_ERRORS {
            errors.push(FieldError::new(
                "reports!",
                format!("{total} problems in all; the first {MAX_ERRORS} are listed"),
            ));
        }
        return Err(ApiError::Invalid(errors));
    }
    progress.set(Phase::Storing, 0, row_count);
    let upload = NewUpload { organisation_id: org_id, file_name };
    let stored = store_rows(state, caller, &plan, checked, Some(upload), started, read_ms).await?;
    tracing::info!(
        rows = stored.rows,
        elapsed_ms = u64::try_from(stored.elapsed_ms).unwrap_or(u64::MAX),
        read_ms = u64::try_from(stored.read_ms).unwrap_or(u64::MAX),
        store_ms = u64::try_from(stored.store_ms).unwrap_or(u64::MAX),
        "activity report upload stored"
    );
    Ok(stored)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportsInput {
    /// The plan year.
    pub year: i32,
    pub rows: Vec<ReportInput>,
}

/// The appealing organisation of a JSON row: given, or the caller's own.
fn appealing_of(user: &User, row: &ReportInput, field: &str) -> ApiResult<i64> {
    row.appealing_organisation_id
        .or(user.organisation_id)
        .ok_or_else(|| ApiError::invalid(field, "is required (your account has no organisation to default to)"))
}

/// Enter report rows (JSON): same checks as an upload, all or nothing; stored as `submitted`.
#[utoipa::path(post, path = "/api/v1/response/reports", tag = "response", request_body = ReportsInput,
    responses((status = 201, body = Stored), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn report_create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<ReportsInput>,
) -> ApiResult<impl IntoResponse> {
    let started = Instant::now();
    require(&caller.user, Permission::ReportActivities, "report activities")?;
    let own = partner_organisation(&caller.user)?;
    if body.rows.len() > MAX_ROWS {
        return Err(ApiError::invalid("rows", format!("at most {MAX_ROWS} rows are taken at once")));
    }
    refuse_countries(&caller.user, body.rows.iter().map(|r| r.country.as_str()))?;
    if let Some(org) = own {
        for r in &body.rows {
            let appealing = r.appealing_organisation_id.unwrap_or(org);
            if appealing != org && r.implementing_organisation_id != Some(org) {
                return Err(forbidden("you may report only your organisation's activities"));
            }
        }
    }
    let plan = plan_of(&state, body.year).await?;
    let checker = checker(&state, &plan).await?;
    let mut errors = Vec::new();
    let mut checked = Vec::with_capacity(body.rows.len());
    for (i, row) in body.rows.iter().enumerate() {
        let appealing = match appealing_of(&caller.user, row, &format!("rows[{i}].appealing_organisation_id")) {
            Ok(a) => a,
            Err(ApiError::Invalid(e)) => {
                errors.extend(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let field = |name: &str| format!("rows[{i}].{name}");
        if let Some(ok) = checker.check(row, appealing, &field, &mut errors) {
            checked.push(ok);
        }
    }
    if !errors.is_empty() {
        errors.truncate(MAX_ERRORS);
        return Err(ApiError::Invalid(errors));
    }
    if checked.is_empty() {
        return Err(ApiError::invalid("rows", "send at least one row"));
    }
    let stored = store_rows(&state, &caller, &plan, checked, None, started, 0).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The plan year (default: this year).
    pub year: Option<i32>,
    /// Rows of this organisation (appealing or implementing).
    pub organisation: Option<i64>,
    pub country: Option<String>,
    pub admin1: Option<String>,
    pub sector: Option<String>,
    pub indicator: Option<String>,
    /// `YYYY-MM`.
    pub month_from: Option<String>,
    /// `YYYY-MM`.
    pub month_to: Option<String>,
    pub status: Option<String>,
    /// Only rows with a flag (late, duplicate, outlier).
    #[serde(default)]
    pub flagged: bool,
    pub offset: Option<i64>,
    /// At most 5000 (default 100).
    pub limit: Option<i64>,
}

/// Report rows, filtered and paged: a partner reporter sees her organisation's only; others
/// the rows of their countries.
#[utoipa::path(get, path = "/api/v1/response/reports", tag = "response", params(ReportQuery),
    responses((status = 200, body = ReportPage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn report_list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Json<ReportPage>> {
    let user = &caller.user;
    if !allows(user, Permission::ReportActivities, None) && !allows(user, Permission::ReviewActivities, None) {
        return Err(forbidden("you may not read activity reports"));
    }
    let own = partner_organisation(user)?;
    let month = |v: &Option<String>, field: &str| -> ApiResult<Option<NaiveDate>> {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                sheet::parse_date(s)
                    .map(sheet::first_of_month)
                    .ok_or_else(|| ApiError::invalid(field, format!("`{s}` is not a month (YYYY-MM)")))
            })
            .transpose()
    };
    let plan = state
        .store
        .response_plan_header(q.year.unwrap_or_else(|| Utc::now().date_naive().year()))
        .await
        .map_err(|_| ApiError::NotFound("a response plan for that year".into()))?;
    let filter = ReportFilter {
        plan_id: plan.id,
        countries: scope(user),
        organisation_scope: own,
        organisation: q.organisation,
        country: q.country.map(|c| c.trim().to_uppercase()),
        admin1: q.admin1,
        sector: q.sector,
        indicator: q.indicator,
        month_from: month(&q.month_from, "month_from")?,
        month_to: month(&q.month_to, "month_to")?,
        status: q.status,
        flagged: q.flagged,
        upload_id: None,
        flagged_first: false,
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(state.store.list_activity_reports(&filter).await?))
}

/// The stored row, if the caller may change it.
pub(crate) async fn editable(state: &AppState, user: &User, id: i64) -> ApiResult<ActivityReport> {
    let row = state.store.activity_report(id).await?;
    if let Err(e) = may_report(user, &row.country_code, row.appealing_org_id, row.implementing_org_id) {
        // A row the caller may not see is not there for her.
        let visible = allows(user, Permission::ReportActivities, Some(&row.country_code))
            && partner_organisation(user)?.is_none();
        return Err(if visible { e } else { ApiError::NotFound(format!("activity report {id}")) });
    }
    if row.status == "approved" {
        return Err(ApiError::Conflict {
            field: Some("status".into()),
            message: "an approved report can no longer be changed".into(),
        });
    }
    Ok(row)
}

/// Change one row (not once approved); it is checked again and goes back to `submitted`.
#[utoipa::path(put, path = "/api/v1/response/reports/{id}", tag = "response", params(("id" = i64, Path)),
    request_body = ReportInput,
    responses((status = 200, body = ActivityReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn report_update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(row): ApiJson<ReportInput>,
) -> ApiResult<Json<ActivityReport>> {
    Ok(Json(update_row(&state, &caller, id, &row, Vec::new()).await?))
}

/// Changes one row (what the API and the edit page both do): access first, then the
/// `input_errors` the caller's form already found together with the row's checks.
pub(crate) async fn update_row(
    state: &AppState,
    caller: &Caller,
    id: i64,
    row: &ReportInput,
    input_errors: Vec<FieldError>,
) -> ApiResult<ActivityReport> {
    let user = &caller.user;
    let current = editable(state, user, id).await?;
    let appealing = row.appealing_organisation_id.unwrap_or(current.appealing_org_id);
    let implementing = row.implementing_organisation_id.unwrap_or(current.implementing_org_id);
    may_report(user, row.country.trim().to_uppercase().as_str(), appealing, implementing)?;
    let plan = plan_of(state, current.plan_year).await?;
    let checker = checker(state, &plan).await?;
    let mut errors = input_errors;
    let mut input = row.clone();
    input.implementing_organisation_id = Some(implementing);
    let checked = checker.check(&input, appealing, &|name: &str| name.to_string(), &mut errors);
    let (Some(mut checked), true) = (checked, errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
    let existing = state.store.activity_report_keys(plan.id, appealing, Some(id)).await?;
    let past: Vec<_> = state.store.organisation_past_figures(plan.id, appealing).await?;
    let mut one = [checked.clone()];
    reports::raise_flags(&mut one, plan.deadline_day, Utc::now().date_naive(), &existing, &past);
    checked = one[0].clone();
    Ok(state.store.update_activity_report(&caller.actor(), id, &checked).await?)
}

/// Delete one row (not once approved).
#[utoipa::path(delete, path = "/api/v1/response/reports/{id}", tag = "response", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn report_delete(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    editable(&state, &caller.user, id).await?;
    state.store.delete_activity_report(&caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Review {
    pub ids: Vec<i64>,
    /// `approve` or `return`.
    pub action: String,
    /// Required to return rows: what to fix.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reviewed {
    pub changed: u64,
    pub status: String,
}

/// Approve or return rows (ReviewActivities in every row's country).
#[utoipa::path(post, path = "/api/v1/response/reports/review", tag = "response", request_body = Review,
    responses((status = 200, body = Reviewed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn report_review(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<Review>,
) -> ApiResult<Json<Reviewed>> {
    Ok(Json(review_rows(&state, &caller, &body).await?))
}

/// Approves or returns rows (what the review API and the review queue both do): the
/// caller's access to every row is checked before the action and the note are.
pub(crate) async fn review_rows(state: &AppState, caller: &Caller, body: &Review) -> ApiResult<Reviewed> {
    require(&caller.user, Permission::ReviewActivities, "review activity reports")?;
    let mut ids = body.ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let owners = state.store.activity_report_owners(&ids).await?;
    if let Some(c) = owners.iter().map(|o| &o.1).find(|c| !allows(&caller.user, Permission::ReviewActivities, Some(c)))
    {
        return Err(forbidden(format!("you may not review activity reports in {c}")));
    }
    if owners.len() != ids.len() {
        let found: HashSet<i64> = owners.iter().map(|o| o.0).collect();
        let missing: Vec<String> = ids.iter().filter(|i| !found.contains(i)).map(ToString::to_string).collect();
        return Err(ApiError::NotFound(format!("activity reports {}", missing.join(", "))));
    }
    let status = match body.action.trim() {
        "approve" => "approved",
        "return" => "returned",
        other => return Err(ApiError::invalid("action", format!("`{other}` is neither approve nor return"))),
    };
    let note = body.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if status == "returned" && note.is_none() {
        return Err(ApiError::invalid("note", "say what to fix when returning reports"));
    }
    if ids.is_empty() {
        return Err(ApiError::invalid("ids", "name at least one report"));
    }
    let changed = state.store.review_activity_reports(&caller.actor(), &ids, status, note).await?;
    Ok(Reviewed { changed, status: status.to_string() })
}
