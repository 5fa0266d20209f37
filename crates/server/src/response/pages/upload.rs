//! The upload page (`/response/upload`): pick the organisation (a partner: hers) and year,
//! download the prefilled template, upload the filled one with a progress bar, and see the
//! organisation's earlier uploads; and the API behind it: the uploads of an organisation and
//! the progress of one upload.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::response::ActivityUpload;
use serde::Deserialize;
use utoipa::IntoParams;

use super::plan_year;
use super::progress::{Progress, ProgressReport, report};
use crate::AppState;
use crate::auth::{ApiCaller, CSRF_HEADER, Caller, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageError, PageResult, render};
use crate::response::{MAX_FILE, Stored, Tab, partner_organisation, read_file, require, tabs, upload_workbook};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/response/upload",
            get(upload_page).post(upload_post).layer(DefaultBodyLimit::max(MAX_FILE + 256 * 1024)),
        )
        .route("/api/v1/response/uploads", get(uploads_list))
        .route("/api/v1/response/uploads/progress/{token}", get(upload_progress))
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    organisation: Option<String>,
    #[serde(default)]
    year: Option<String>,
    /// The progress token a page sends with its upload.
    #[serde(default)]
    progress: Option<String>,
}

/// What became of the upload just sent.
struct Outcome {
    stored: Option<Stored>,
    /// Problems named by cell (or by field: `file`, `reports!`).
    problems: Vec<FieldError>,
    /// A refusal that is not about cells (a wrong file, too large…).
    message: Option<String>,
    rows_url: Option<String>,
}

/// An earlier upload as the table shows it.
struct PastUpload {
    u: ActivityUpload,
    when: String,
    outcome: &'static str,
}

#[derive(Template)]
#[template(path = "response_upload.html")]
struct UploadPage {
    c: Chrome,
    tabs: Vec<Tab>,
    organisations: Vec<Choice>,
    /// A partner's organisation (she cannot choose another).
    fixed_organisation: Option<String>,
    organisation: Option<i64>,
    years: Vec<Choice>,
    year: i32,
    has_plan: bool,
    template_url: Option<String>,
    outcome: Option<Outcome>,
    past: Vec<PastUpload>,
    phases: Vec<(&'static str, &'static str)>,
}

/// The page for an organisation and year (and the outcome of an upload, if one was sent).
async fn page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    uri: &Uri,
    organisation: Option<&str>,
    year: Option<&str>,
    outcome: Option<Outcome>,
) -> Result<UploadPage, PageError> {
    let own = partner_organisation(&caller.user)?;
    let (years, year) = plan_year(state, year).await?;
    let plan = state.store.response_plan_header(year).await.ok();
    let names = state.store.organisation_names().await?;
    let asked = organisation.map(str::trim).filter(|o| !o.is_empty());
    let organisation = match (own, asked) {
        (Some(o), _) => Some(o),
        (None, Some(a)) => {
            Some(a.parse::<i64>().map_err(|_| ApiError::invalid("organisation", format!("`{a}` is not a number")))?)
        }
        (None, None) => caller.user.organisation_id,
    };
    let past = match (&plan, organisation) {
        (Some(p), Some(o)) => state
            .store
            .activity_uploads(p.id, o)
            .await?
            .into_iter()
            .map(|u| PastUpload {
                when: u.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                outcome: lang.t(if u.status == "stored" {
                    "resp.up.outcome.stored"
                } else {
                    "resp.up.outcome.refused"
                }),
                u,
            })
            .collect(),
        _ => Vec::new(),
    };
    let current = organisation.map(|o| o.to_string()).unwrap_or_default();
    let fixed_organisation =
        own.map(|o| names.iter().find(|n| n.0 == o).map_or_else(|| o.to_string(), |n| n.1.clone()));
    Ok(UploadPage {
        c: Chrome::new(lang, Some(caller), uri, "resp.up.title"),
        tabs: tabs(caller, lang, uri.path()),
        organisations: super::organisation_choices(&names, &current, Some("—")),
        fixed_organisation,
        organisation,
        years: super::year_choices(&years, year),
        year,
        has_plan: plan.is_some(),
        template_url: organisation
            .filter(|_| plan.is_some())
            .map(|o| format!("/api/v1/response/reports/template.xlsx?organisation={o}&year={year}")),
        outcome,
        past,
        phases: ["receiving", "reading", "checking", "storing", "done", "failed", "lost"]
            .into_iter()
            .map(|p| (p, lang.t(&format!("resp.up.phase.{p}"))))
            .collect(),
    })
}

async fn upload_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    require(&caller.user, Permission::ReportActivities, "report activities")?;
    partner_organisation(&caller.user)?;
    let q = query.map(|Query(q)| q).unwrap_or_default();
    Ok(render(&page(&state, &caller, lang, &uri, q.organisation.as_deref(), q.year.as_deref(), None).await?))
}

/// The upload itself, from the page's form (multipart: `csrf`, `organisation`, `year`,
/// `progress`, `file`). Answers with the page, showing what became of it: the rows stored
/// and flags raised, or every problem by cell. The page's script sends it with
/// `?progress=token` and shows the answer's result in place.
async fn upload_post(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    require(&caller.user, Permission::ReportActivities, "report activities")?;
    partner_organisation(&caller.user)?;
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let mut progress = Progress::start(q.progress.as_deref(), caller.user.id);
    let read = read_file(multipart).await;
    // The CSRF token travels in the form (or, from a script, in the header).
    let sent = match &read {
        Ok((_, _, fields)) => fields.get("csrf").cloned(),
        Err(_) => None,
    }
    .or_else(|| headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string));
    if let Err(e) = caller.check_csrf(sent.as_deref()) {
        progress.finish(false);
        return Err(PageError(e));
    }
    let empty = HashMap::new();
    let fields = read.as_ref().map_or(&empty, |(_, _, f)| f);
    let organisation = fields.get("organisation").cloned();
    let year = fields.get("year").cloned();
    if q.progress.is_none() {
        progress = Progress::start(fields.get("progress").map(String::as_str), caller.user.id);
    }
    let result = match read {
        Ok((file_name, bytes, fields)) => upload_workbook(&state, &caller, file_name, bytes, &fields, &progress).await,
        Err(e) => Err(e),
    };
    progress.finish(result.is_ok());
    let (status, outcome) = match result {
        Ok(stored) => {
            let rows_url = stored
                .upload_id
                .map(|u| format!("/response/reports?year={}&upload={u}", year.as_deref().unwrap_or_default().trim()));
            (StatusCode::OK, Outcome { stored: Some(stored), problems: Vec::new(), message: None, rows_url })
        }
        Err(ApiError::Invalid(problems)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Outcome { stored: None, problems, message: None, rows_url: None })
        }
        Err(e @ (ApiError::Forbidden(_) | ApiError::Unauthorized | ApiError::Internal(_))) => {
            return Err(PageError(e));
        }
        Err(e) => (
            e.status_code(),
            Outcome { stored: None, problems: Vec::new(), message: Some(e.to_string()), rows_url: None },
        ),
    };
    let page = page(&state, &caller, lang, &uri, organisation.as_deref(), year.as_deref(), Some(outcome)).await?;
    Ok((status, render(&page)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadsQuery {
    /// The plan year (default: this year).
    pub year: Option<i32>,
    /// The organisation (default: the caller's; a partner reporter: hers only).
    pub organisation: Option<i64>,
}

/// An organisation's uploads in a plan year, newest first: those stored (with their row
/// count) and those refused (with the reasons). A partner reporter lists her organisation's
/// only. A year without a plan has none.
#[utoipa::path(get, path = "/api/v1/response/uploads", tag = "response", params(UploadsQuery),
    responses((status = 200, body = Vec<ActivityUpload>), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn uploads_list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<UploadsQuery>,
) -> ApiResult<Json<Vec<ActivityUpload>>> {
    require(&caller.user, Permission::ReportActivities, "report activities")?;
    let own = partner_organisation(&caller.user)?;
    let organisation = match (own, q.organisation) {
        (Some(o), Some(asked)) if asked != o => {
            return Err(ApiError::Forbidden("you may list only your organisation's uploads".into()));
        }
        (Some(o), _) => o,
        (None, Some(asked)) => asked,
        (None, None) => caller
            .user
            .organisation_id
            .ok_or_else(|| ApiError::invalid("organisation", "is required (your account has no organisation)"))?,
    };
    let year = q.year.unwrap_or_else(|| chrono::Datelike::year(&chrono::Utc::now().date_naive()));
    let Ok(plan) = state.store.response_plan_header(year).await else { return Ok(Json(Vec::new())) };
    Ok(Json(state.store.activity_uploads(plan.id, organisation).await?))
}

/// How far the caller's upload under `token` has got (`phase`: receiving, reading,
/// checking, storing, done or failed; `done` of `total` rows while checking). Another
/// user's token, or one unknown or expired, is not found.
#[utoipa::path(get, path = "/api/v1/response/uploads/progress/{token}", tag = "response",
    params(("token" = String, Path, description = "the token the uploader sent with the file")),
    responses((status = 200, body = ProgressReport), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn upload_progress(
    ApiCaller(caller): ApiCaller,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<ProgressReport>> {
    require(&caller.user, Permission::ReportActivities, "report activities")?;
    report(&token, caller.user.id).map(Json).ok_or_else(|| ApiError::NotFound("an upload under this token".into()))
}
