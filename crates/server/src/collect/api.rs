//! The collection part of the JSON API: forms and their versions, submissions and review.

use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rumbo_store::collection::{
    AttachmentInfo, Channel, FormRecord, FormSettings, FormVersion, Ingested, SubmissionFilter, SubmissionRow,
    SubmissionVersion,
};
use rumbo_store::model::Page;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use super::Submitter;
use super::ops::{self, JsonSubmission, SubmissionEdit};
use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/forms", get(list_forms).post(upload_form))
        .route("/api/v1/forms/{id}", get(get_form).put(update_form))
        .route("/api/v1/forms/{id}/xlsform", get(download_xlsform))
        .route("/api/v1/forms/{id}/xform", get(download_xform))
        .route("/api/v1/forms/{id}/submissions", get(list_submissions).post(submit))
        .route("/api/v1/forms/{id}/submissions.csv", get(export_submissions))
        .route("/api/v1/submissions/{id}", get(get_submission).put(edit_submission).delete(delete_submission))
        .route("/api/v1/submissions/{id}/status", post(set_status))
        .route("/api/v1/submissions/{id}/restore", post(restore_submission))
        .route("/api/v1/submissions/{id}/attachments/{name}", get(get_attachment))
        .layer(axum::extract::DefaultBodyLimit::max(ops::MAX_XLSFORM + 64 * 1024))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_forms, upload_form, get_form, update_form, download_xlsform, download_xform,
        list_submissions, submit, export_submissions, get_submission, edit_submission, delete_submission,
        set_status, restore_submission, get_attachment,
    ),
    components(schemas(
        FormRecord, FormVersion, FormSettings, FormDetail, Published, JsonSubmission, Submitted, SubmissionOut,
        SubmissionDetailOut, SubmissionVersion, AttachmentInfo, SubmissionEdit, StatusChange,
    )),
    tags((name = "collection", description = "Forms (XLSForm upload, versions, XForm), submissions and their review. Devices use the OpenRosa server under /openrosa/.")),
)]
pub struct CollectionDoc;

/// A form with its versions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormDetail {
    #[serde(flatten)]
    pub form: FormRecord,
    pub versions: Vec<FormVersion>,
}

/// What an upload published.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    pub form: FormRecord,
    pub version: FormVersion,
}

/// Forms of the caller's countries.
#[utoipa::path(get, path = "/api/v1/forms", tag = "collection", responses((status = 200, body = Vec<FormRecord>)))]
async fn list_forms(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Vec<FormRecord>>> {
    Ok(Json(ops::list_forms(&state, &caller).await?))
}

/// Upload an XLSForm (multipart field `file`; optional `countries`, one field per country
/// or comma-separated, for a new form). A new `form_id` creates a form; a known one adds a
/// version (its `version` must be new). Problems in the file come back as 422 with each
/// one located by sheet, row and column.
#[utoipa::path(post, path = "/api/v1/forms", tag = "collection",
    request_body(content_type = "multipart/form-data", description = "`file`: the XLSForm; `countries`: ISO alpha-3 codes"),
    responses((status = 201, body = Published), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn upload_form(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    let upload = read_upload(multipart).await?;
    let published = ops::publish(&state, &caller, &upload.file_name, upload.bytes, upload.countries).await?;
    Ok((StatusCode::CREATED, Json(Published { form: published.form, version: published.version })))
}

/// An XLSForm upload (API and pages).
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub countries: Vec<String>,
    /// The page form's CSRF token, if sent.
    pub csrf: Option<String>,
}

/// Reads an XLSForm upload.
pub async fn read_upload(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Upload> {
    let mut multipart = multipart
        .map_err(|e| ApiError::BadRequest(format!("send the XLSForm as multipart/form-data: {}", e.body_text())))?;
    let mut file = None;
    let mut countries = Vec::new();
    let mut csrf = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| upload_error(&e))? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or("form.xlsx").to_string();
                let bytes = field.bytes().await.map_err(|e| upload_error(&e))?;
                file = Some((file_name, bytes.to_vec()));
            }
            "countries" | "country" => {
                let text = field.text().await.map_err(|e| upload_error(&e))?;
                countries.extend(text.split(',').map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty()));
            }
            "csrf" => csrf = Some(field.text().await.map_err(|e| upload_error(&e))?),
            _ => {}
        }
    }
    let (file_name, bytes) =
        file.ok_or_else(|| ApiError::invalid("file", "is missing: attach the XLSForm as `file`"))?;
    Ok(Upload { file_name, bytes, countries, csrf })
}

fn upload_error(e: &axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(format!("an XLSForm may be at most {} MB", ops::MAX_XLSFORM / (1024 * 1024)))
    } else {
        ApiError::BadRequest(format!("the upload is malformed or was cut short: {}", e.body_text()))
    }
}

/// A form with its versions.
#[utoipa::path(get, path = "/api/v1/forms/{id}", tag = "collection", params(("id" = i64, Path)),
    responses((status = 200, body = FormDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_form(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<FormDetail>> {
    let form = ops::form(&state, &caller, id).await?;
    let versions = state.store.form_versions(id).await?;
    Ok(Json(FormDetail { form, versions }))
}

/// Change a form's title, open/closed state, public flag, error policy, and the
/// countries, sites and rounds it is attached to (fields left out stay as they are).
#[utoipa::path(put, path = "/api/v1/forms/{id}", tag = "collection", params(("id" = i64, Path)), request_body = FormSettings,
    responses((status = 200, body = FormRecord), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_form(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(settings): ApiJson<FormSettings>,
) -> ApiResult<Json<FormRecord>> {
    Ok(Json(ops::update_form(&state, &caller, id, settings).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct VersionQuery {
    /// A version's id (default: the current version).
    pub version_id: Option<i64>,
}

/// Download the XLSForm of a version, as it was uploaded.
#[utoipa::path(get, path = "/api/v1/forms/{id}/xlsform", tag = "collection", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, description = "the file", content_type = "application/octet-stream")))]
async fn download_xlsform(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> ApiResult<Response> {
    let (_, version, bytes, _) = ops::version_files(&state, &caller, id, q.version_id).await?;
    Ok(attachment_response(&version.file_name, content_type_of(&version.file_name), bytes))
}

/// Download the XForm (ODK XML) of a version.
#[utoipa::path(get, path = "/api/v1/forms/{id}/xform", tag = "collection", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, description = "the XForm", content_type = "text/xml")))]
async fn download_xform(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> ApiResult<Response> {
    let (form, version, _, xform) = ops::version_files(&state, &caller, id, q.version_id).await?;
    let name = format!("{}-{}.xml", form.xml_form_id, version.version);
    Ok(attachment_response(&name, "text/xml; charset=utf-8", xform.into_bytes()))
}

pub fn content_type_of(file_name: &str) -> &'static str {
    let ext = std::path::Path::new(file_name).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let lower = ext.as_deref().unwrap_or_default();
    if lower == "xlsx" {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else if lower == "xls" {
        "application/vnd.ms-excel"
    } else if lower == "csv" {
        "text/csv; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

/// A download with a safe file name.
pub fn attachment_response(file_name: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let safe: String =
        file_name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// A submission row with its answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionOut {
    #[serde(flatten)]
    pub row: SubmissionRow,
    /// The answers (sensitive ones hidden from callers who do not review).
    pub data: Value,
    /// Validation problems kept with the submission (forms that accept them).
    pub validation_errors: Value,
}

impl From<SubmissionRow> for SubmissionOut {
    fn from(row: SubmissionRow) -> Self {
        Self { data: row.answers(), validation_errors: row.error_list(), row }
    }
}

/// The review table, filtered by date, site, round, submitter, status and validation errors.
#[utoipa::path(get, path = "/api/v1/forms/{id}/submissions", tag = "collection", params(("id" = i64, Path), SubmissionFilter),
    responses((status = 200, body = Page<SubmissionOut>)))]
async fn list_submissions(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(mut f): ApiQuery<SubmissionFilter>,
) -> ApiResult<Json<Page<SubmissionOut>>> {
    f.limit = Some(f.limit.unwrap_or(100).min(crate::ops::MAX_API_PAGE));
    let (_, page) = ops::list_submissions(&state, &caller, id, f).await?;
    Ok(Json(Page { total: page.total, items: page.items.into_iter().map(SubmissionOut::from).collect() }))
}

/// What became of a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    pub id: i64,
    /// `created` (201) or `duplicate` (202: the same instance was stored before).
    pub outcome: &'static str,
}

/// Send a submission as JSON (what the web forms do). 201 once committed; 202 for an
/// instance stored before with the same content; 409 for one with different content.
#[utoipa::path(post, path = "/api/v1/forms/{id}/submissions", tag = "collection", params(("id" = i64, Path)), request_body = JsonSubmission,
    responses((status = 201, body = Submitted), (status = 202, body = Submitted), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn submit(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<JsonSubmission>,
) -> ApiResult<Response> {
    let form = ops::form(&state, &caller, id).await?;
    outcome_response(ops::submit_json(&state, &Submitter::user(&caller), &form, body, Channel::Web).await?)
}

/// 201, 202 or the error an outcome means.
pub fn outcome_response(outcome: Ingested) -> ApiResult<Response> {
    match outcome {
        Ingested::Created { id } => {
            Ok((StatusCode::CREATED, Json(Submitted { id, outcome: "created" })).into_response())
        }
        Ingested::Duplicate { id } => {
            Ok((StatusCode::ACCEPTED, Json(Submitted { id, outcome: "duplicate" })).into_response())
        }
        Ingested::Conflict { message } => Err(ApiError::Conflict { field: Some("instanceID".into()), message }),
        Ingested::Refused { field, message } => {
            Err(ApiError::InvalidSubmission(vec![rumbo_store::FieldError::new(field, message)]))
        }
    }
}

/// Exactly what the review table shows with these filters, as CSV (up to 100,000 rows).
#[utoipa::path(get, path = "/api/v1/forms/{id}/submissions.csv", tag = "collection", params(("id" = i64, Path), SubmissionFilter),
    responses((status = 200, description = "CSV", content_type = "text/csv")))]
async fn export_submissions(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<SubmissionFilter>,
) -> ApiResult<Response> {
    export(&state, &caller, id, f).await
}

/// The CSV export of a filtered review table (API and pages).
pub async fn export(
    state: &AppState,
    caller: &crate::auth::Caller,
    id: i64,
    mut f: SubmissionFilter,
) -> ApiResult<Response> {
    f.limit = Some(100_000);
    f.offset = None;
    let (form, page) = ops::list_submissions(state, caller, id, f).await?;
    state
        .store
        .record(rumbo_store::AuditEvent {
            actor: &caller.actor(),
            action: "export",
            entity: "form",
            entity_id: form.id.to_string(),
            country_code: None,
            detail: serde_json::json!({ "rows": page.items.len(), "what": "submissions" }),
        })
        .await?;
    let csv = ops::submissions_csv(&page.items);
    Ok(attachment_response(
        &format!("{}-submissions.csv", form.xml_form_id),
        "text/csv; charset=utf-8",
        csv.into_bytes(),
    ))
}

/// A submission with its earlier versions and attachments.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionDetailOut {
    #[serde(flatten)]
    pub submission: SubmissionOut,
    pub xml: String,
    pub versions: Vec<SubmissionVersion>,
    pub attachments: Vec<AttachmentInfo>,
}

#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "collection", params(("id" = i64, Path)),
    responses((status = 200, body = SubmissionDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_submission(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SubmissionDetailOut>> {
    let (_, d) = ops::submission(&state, &caller, id).await?;
    Ok(Json(SubmissionDetailOut {
        submission: d.row.into(),
        xml: d.xml,
        versions: d.versions,
        attachments: d.attachments,
    }))
}

/// Edit the answers with a reason; the earlier version is kept and the edit audited.
#[utoipa::path(put, path = "/api/v1/submissions/{id}", tag = "collection", params(("id" = i64, Path)), request_body = SubmissionEdit,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn edit_submission(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(edit): ApiJson<SubmissionEdit>,
) -> ApiResult<StatusCode> {
    ops::edit_submission(&state, &caller, id, edit).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A review decision.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusChange {
    /// `received`, `approved`, `rejected` or `flagged`.
    pub status: String,
    #[serde(default)]
    pub note: String,
}

/// Approve, reject or flag a submission.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/status", tag = "collection", params(("id" = i64, Path)), request_body = StatusChange,
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn set_status(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<StatusChange>,
) -> ApiResult<StatusCode> {
    ops::set_status(&state, &caller, id, &change.status, &change.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move a submission to the bin (it can be restored).
#[utoipa::path(delete, path = "/api/v1/submissions/{id}", tag = "collection", params(("id" = i64, Path)), responses((status = 204)))]
async fn delete_submission(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    ops::set_deleted(&state, &caller, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a submission out of the bin.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/restore", tag = "collection", params(("id" = i64, Path)), responses((status = 204)))]
async fn restore_submission(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    ops::set_deleted(&state, &caller, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Download an attachment of a submission.
#[utoipa::path(get, path = "/api/v1/submissions/{id}/attachments/{name}", tag = "collection",
    params(("id" = i64, Path), ("name" = String, Path)), responses((status = 200, description = "the file")))]
async fn get_attachment(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath((id, name)): ApiPath<(i64, String)>,
) -> ApiResult<Response> {
    // Only the files the caller may see are listed (a sensitive answer's file is not).
    let (_, detail) = ops::submission(&state, &caller, id).await?;
    if !detail.attachments.iter().any(|a| a.name == name) {
        return Err(ApiError::NotFound("attachment".into()));
    }
    let (content_type, bytes) = state.store.attachment(id, &name).await?;
    Ok(attachment_response(&name, &content_type, bytes))
}
