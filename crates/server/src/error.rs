//! HTTP errors: one enum for the JSON API, with a stable body
//! (`{"code", "message", "field", "errors"}`) that never leaks internals.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rumbo_store::{FieldError, StoreError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("sign in first: send 'Authorization: Bearer <token>' (see POST /api/v1/auth/token)")]
    Unauthorized,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed sign-ins: this account is locked until {} UTC", .0.format("%H:%M"))]
    Locked(chrono::DateTime<chrono::Utc>),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    #[error("{}", summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    /// A submission whose answers break the form's rules: 400, each field named.
    #[error("{}", summary(.0))]
    InvalidSubmission(Vec<FieldError>),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("internal error")]
    Internal(String),
}

fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Locked(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) | ApiError::InvalidSubmission(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::Locked(_) => "locked",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict { .. } => "conflict",
            ApiError::Invalid(_) | ApiError::InvalidSubmission(_) => "invalid",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::TooLarge(_) => "too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Invalid(errors) | ApiError::InvalidSubmission(errors) => errors.first().map(|e| e.field.as_str()),
            ApiError::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            ApiError::Invalid(errors) | ApiError::InvalidSubmission(errors) => errors,
            _ => &[],
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity } => ApiError::NotFound(entity.to_string()),
            StoreError::Conflict { field, message } => ApiError::Conflict { field, message },
            StoreError::Invalid(errors) => ApiError::Invalid(errors),
            StoreError::Database(e) => {
                if let Some(db) = e.as_database_error() {
                    if db.is_unique_violation() {
                        return ApiError::Conflict {
                            field: None,
                            message: "a record with the same key exists already".into(),
                        };
                    }
                    if db.is_foreign_key_violation() {
                        return ApiError::Conflict {
                            field: None,
                            message: "the record refers to, or is used by, another record".into(),
                        };
                    }
                }
                ApiError::Internal(e.to_string())
            }
            StoreError::Migrate(e) => ApiError::Internal(e.to_string()),
        }
    }
}

/// The JSON body of every API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code: `unauthorized`, `forbidden`, `not_found`, `conflict`, `invalid`, `bad_request`, `internal`.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The first field concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field error, for `invalid`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            code: self.code(),
            message: self.to_string(),
            field: self.field().map(str::to_string),
            errors: self.field_errors().to_vec(),
        };
        let mut response = (self.status_code(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized) {
            response.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
