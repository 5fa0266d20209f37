//! Storage errors: what went wrong, in words a caller can pass on.

use serde::Serialize;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as named in the API and the forms (`pcode`, `latitude`, …).
    pub field: String,
    /// What is wrong with it, in plain words.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// The write would break a uniqueness or reference rule (duplicate p-code, area still in use…).
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    /// The input itself is wrong; every problem found is listed.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict { field: Some(field.into()), message: message.into() }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Collects field errors so that every problem is reported at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) {
        if !ok {
            self.push(field, message);
        }
    }

    /// A required text: not empty after trimming, at most `max` characters.
    pub fn text(&mut self, value: &str, field: &str, max: usize) {
        if value.trim().is_empty() {
            self.push(field, "is required");
        } else if value.chars().count() > max {
            self.push(field, format!("is longer than {max} characters"));
        }
    }

    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() { Ok(()) } else { Err(StoreError::Invalid(self.0)) }
    }
}
