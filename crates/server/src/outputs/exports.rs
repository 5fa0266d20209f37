//! Background exports over HTTP: the API (`/api/v1/exports`) and the page (`/exports`)
//! that lists them with their progress. The work itself is in [`super::jobs`].

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use rumbo_store::FieldError;
use rumbo_store::exports::ExportJob;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use super::jobs::{self, ExportFilter, ExportRequest, Sensitive};
use crate::AppState;
use crate::auth::{ApiCaller, Caller, SignedIn};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::i18n::Lang;
use crate::pages::{Chrome, Ignored, PageResult, Posted, render, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exports", get(list).post(start))
        .route("/api/v1/exports/{id}", get(show).delete(remove))
        .route("/api/v1/exports/{id}/download", get(download))
        .route("/exports", get(page).post(start_from_page))
        .route("/exports/{id}/cancel", post(cancel_from_page))
        .route("/exports/{id}/delete", post(delete_from_page))
        .route(
            "/static/exports.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
                    include_str!("../../assets/exports.js"),
                )
            }),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(start, list, show, download, remove),
    components(schemas(ExportRequest, ExportFilter, ExportView, Sensitive)),
    tags((name = "exports", description = "Exports of submissions written in the background: any number of rows, in constant memory, resumed after a restart. Only CSV; aggregates download as CSV, XLSX or GeoJSON from /api/v1/aggregates."))
)]
pub struct ExportsDoc;

/// An export and how far it got.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportView {
    pub id: i64,
    pub form_id: i64,
    /// The form's `form_id` (what devices know it by).
    pub form: String,
    pub form_title: String,
    pub format: String,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub status: String,
    pub rows_done: i64,
    /// How many rows matched when the export started (an estimate: more may arrive).
    pub rows_total: Option<i64>,
    /// 0 to 100.
    pub percent: f64,
    pub bytes_written: i64,
    /// The filters asked for.
    #[schema(value_type = Object)]
    pub filter: Value,
    /// Whether sensitive answers are in the file (decided from the creator's role).
    pub sensitive: Sensitive,
    pub created_by: String,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Where to download the file, once the export is done.
    pub download: Option<String>,
}

impl From<&ExportJob> for ExportView {
    fn from(job: &ExportJob) -> Self {
        let percent = match (job.status.as_str(), job.rows_total) {
            ("done", _) => 100.0,
            (_, Some(total)) if total > 0 => (job.rows_done as f64 * 100.0 / total as f64).clamp(0.0, 99.9),
            _ => 0.0,
        };
        ExportView {
            id: job.id,
            form_id: job.form_id,
            form: job.xml_form_id.clone(),
            form_title: job.form_title.clone(),
            format: job.format.clone(),
            status: job.status.clone(),
            rows_done: job.rows_done,
            rows_total: job.rows_total,
            percent: (percent * 10.0).round() / 10.0,
            bytes_written: job.bytes_written,
            filter: serde_json::from_str(&job.filter).unwrap_or(Value::Null),
            sensitive: jobs::access_of(job).sensitive,
            created_by: job.username.clone(),
            error: job.error.clone(),
            created_at: job.created_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
            download: (job.status == "done").then(|| format!("/api/v1/exports/{}/download", job.id)),
        }
    }
}

/// The jobs `caller` may see, newest first.
async fn visible(state: &AppState, caller: &Caller) -> ApiResult<Vec<ExportJob>> {
    let everyone = caller.user.role == rumbo_store::model::Role::Admin;
    let jobs = state.store.list_export_jobs((!everyone).then_some(caller.user.id), 500).await?;
    Ok(jobs.into_iter().filter(|j| jobs::may_see(caller, j)).collect())
}

/// A job `caller` may see; another's is "not found".
async fn job_of(state: &AppState, caller: &Caller, id: i64) -> ApiResult<ExportJob> {
    let job = state.store.export_job(id).await?;
    if jobs::may_see(caller, &job) { Ok(job) } else { Err(ApiError::NotFound(format!("export {id}"))) }
}

/// Start exporting a form's submissions (with the review table's filters) in the
/// background. Rows come from your countries; sensitive answers are in the file only if
/// your role reviews submissions. Follow it with `GET /api/v1/exports/{id}`.
#[utoipa::path(post, path = "/api/v1/exports", tag = "exports", request_body = ExportRequest,
    responses((status = 202, body = ExportView, description = "queued"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "a filter or the format is wrong: `field` names it")))]
async fn start(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(request): ApiJson<ExportRequest>,
) -> ApiResult<Response> {
    let job = jobs::create(&state, &caller, request).await?;
    let mut response = (StatusCode::ACCEPTED, Json(ExportView::from(&job))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/exports/{}", job.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Your exports, newest first (administrators: those of their countries' users too).
#[utoipa::path(get, path = "/api/v1/exports", tag = "exports", responses((status = 200, body = Vec<ExportView>)))]
async fn list(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Vec<ExportView>>> {
    Ok(Json(visible(&state, &caller).await?.iter().map(ExportView::from).collect()))
}

/// One export: its status and progress.
#[utoipa::path(get, path = "/api/v1/exports/{id}", tag = "exports", params(("id" = i64, Path)),
    responses((status = 200, body = ExportView), (status = 404, body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ExportView>> {
    Ok(Json(ExportView::from(&job_of(&state, &caller, id).await?)))
}

/// The file of a finished export (streamed; recorded in the audit log).
#[utoipa::path(get, path = "/api/v1/exports/{id}/download", tag = "exports", params(("id" = i64, Path)),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "not finished")))]
async fn download(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let job = state.store.export_job(id).await?;
    jobs::may_download(&state, &caller, &job).await?;
    if job.status != "done" {
        return Err(ApiError::Conflict {
            field: Some("status".into()),
            message: format!("export {id} is {}: the file can be downloaded once it is done", job.status),
        });
    }
    let path = job.file_path.clone().unwrap_or_default();
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::error!(job = id, error = %e, "the file of a finished export is missing");
        ApiError::NotFound(format!("the file of export {id} (it is gone from the server: start the export again)"))
    })?;
    let size = file.metadata().await.map(|m| m.len()).unwrap_or_default();
    state
        .store
        .record(rumbo_store::AuditEvent {
            actor: &caller.actor(),
            action: "download",
            entity: "export",
            entity_id: id.to_string(),
            country_code: None,
            detail: serde_json::json!({
                "what": "submissions", "form": job.form_id, "rows": job.rows_done, "bytes": size,
                "sensitive": jobs::access_of(&job).sensitive,
            }),
        })
        .await?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
    let name = format!("{}-submissions-{id}.csv", job.xml_form_id);
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}\"")),
        ],
        body,
    )
        .into_response())
}

/// Cancels an export that is queued or running (200, the export), or deletes a finished
/// one and its file (204).
#[utoipa::path(delete, path = "/api/v1/exports/{id}", tag = "exports", params(("id" = i64, Path)),
    responses((status = 200, body = ExportView, description = "cancelled"), (status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    Ok(match cancel_or_delete(&state, &caller, id).await? {
        Some(job) => Json(ExportView::from(&job)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Cancels an active job (giving it back) or deletes a finished one; the file goes either way.
async fn cancel_or_delete(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Option<ExportJob>> {
    let job = job_of(state, caller, id).await?;
    let cancelled = if job.is_active() {
        match state.store.cancel_export_job(&caller.actor(), id).await {
            Ok(job) => Some(job),
            // It finished in the meantime: delete it instead.
            Err(rumbo_store::StoreError::Conflict { .. }) => {
                state.store.delete_export_job(&caller.actor(), id).await?;
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        state.store.delete_export_job(&caller.actor(), id).await?;
        None
    };
    if let Some(path) = &job.file_path {
        let _ = tokio::fs::remove_file(path).await;
    }
    Ok(cancelled)
}

// ---- the page ----

/// One export on the page.
struct Line {
    view: ExportView,
    status_label: &'static str,
    created: String,
    size: String,
    active: bool,
    /// Sensitive answers are in the file.
    included: bool,
}

#[derive(Template)]
#[template(path = "exports.html")]
struct ExportsPage {
    c: Chrome,
    lines: Vec<Line>,
}

/// A size in bytes, for people.
fn size_text(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

async fn page(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    let lines = visible(&state, &caller)
        .await?
        .iter()
        .map(|job| Line {
            view: ExportView::from(job),
            status_label: lang.t(&format!("exports.status.{}", job.status)),
            created: job.created_at.format("%Y-%m-%d %H:%M").to_string(),
            size: size_text(job.bytes_written),
            active: job.is_active(),
            included: jobs::access_of(job).sensitive == Sensitive::Include,
        })
        .collect();
    Ok(render(&ExportsPage { c: Chrome::new(lang, Some(&caller), &uri, "exports.title"), lines }))
}

/// The review page's filters as posted: text, checked here.
#[derive(Debug, Deserialize)]
struct StartForm {
    form: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    site_id: Option<String>,
    #[serde(default)]
    round_id: Option<String>,
    #[serde(default)]
    submitter: Option<String>,
    #[serde(default)]
    status: Option<String>,
    /// `yes`, `no` or empty.
    #[serde(default)]
    errors: Option<String>,
    #[serde(default)]
    deleted: Option<String>,
    #[serde(default)]
    q: Option<String>,
}

impl StartForm {
    fn request(self) -> ApiResult<ExportRequest> {
        let mut problems = Vec::new();
        let filled = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let id = |v: Option<String>, field: &str, problems: &mut Vec<FieldError>| {
            filled(v).and_then(|v| {
                v.parse::<i64>().map_err(|_| problems.push(FieldError::new(field, format!("'{v}' is not an id")))).ok()
            })
        };
        let date = |v: Option<String>, field: &str, problems: &mut Vec<FieldError>| {
            filled(v).and_then(|v| {
                NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .map_err(|_| problems.push(FieldError::new(field, format!("'{v}' is not a date (YYYY-MM-DD)"))))
                    .ok()
            })
        };
        let form = id(Some(self.form), "form", &mut problems);
        let request = ExportRequest {
            form: form.unwrap_or_default(),
            format: None,
            country: filled(self.country),
            site_id: id(self.site_id, "site_id", &mut problems),
            round_id: id(self.round_id, "round_id", &mut problems),
            submitter: filled(self.submitter),
            status: filled(self.status),
            errors: match filled(self.errors).as_deref() {
                Some("yes" | "true") => Some(true),
                Some("no" | "false") => Some(false),
                _ => None,
            },
            from: date(self.from, "from", &mut problems),
            to: date(self.to, "to", &mut problems),
            deleted: filled(self.deleted).map(|d| matches!(d.as_str(), "true" | "1" | "on" | "yes")),
            q: filled(self.q),
        };
        if form.is_none() && problems.is_empty() {
            problems.push(FieldError::new("form", "is required"));
        }
        if problems.is_empty() { Ok(request) } else { Err(ApiError::Invalid(problems)) }
    }
}

async fn start_from_page(State(state): State<AppState>, Posted { caller, form }: Posted<StartForm>) -> PageResult {
    jobs::create(&state, &caller, form.request()?).await?;
    Ok(see_other("/exports?notice=saved"))
}

async fn cancel_from_page(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<Ignored>,
) -> PageResult {
    cancel_or_delete(&state, &caller, id).await?;
    Ok(see_other("/exports?notice=saved"))
}

async fn delete_from_page(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<Ignored>,
) -> PageResult {
    cancel_or_delete(&state, &caller, id).await?;
    Ok(see_other("/exports?notice=deleted"))
}
