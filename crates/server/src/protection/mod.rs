//! Protection: red-flag rules and the alert inbox, case management, the service directory,
//! referrals, and complaints and feedback. Need-to-know throughout: every route asks the
//! permission matrix, and every read of a case, a referral or a sensitive feedback item is
//! written to the audit log.

pub mod alerts;
pub mod cases;
pub mod demo;
pub mod feedback;
pub mod flags;
pub mod referrals;
pub mod services;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use rumbo_domain::sealing::{SealError, Sealer};

use crate::AppState;

/// What the protection routes share: the key that seals identifying fields. (The red-flag
/// rules live with the indicators, in [`crate::analytics::Analytics::flags`], because every
/// write asks both.)
pub struct Protection {
    /// Seals and opens identifying fields (key outside the database).
    pub sealer: Sealer,
}

impl Protection {
    /// Reads the key file (created when `create` is set and there is none).
    pub fn open(key_file: &Path, create: bool) -> Result<Protection, SealError> {
        Ok(Protection { sealer: Sealer::from_file(key_file, create)? })
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(alerts::router())
        .merge(cases::router())
        .merge(referrals::router())
        .merge(feedback::router())
        .merge(services::router())
}

/// Opens the protection state for a server.
pub fn open(config: &crate::ServerConfig) -> Result<Arc<Protection>, crate::error::ApiError> {
    let path = config.key_file.clone().unwrap_or_else(|| config.data_dir.join("protection.key"));
    Protection::open(&path, config.create_key)
        .map(Arc::new)
        .map_err(|e| crate::error::ApiError::Internal(e.to_string()))
}
