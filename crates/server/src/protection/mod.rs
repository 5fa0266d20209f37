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
use crate::error::ApiError;

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

/// Opens the protection key for a server and checks it is the one the database's fields were
/// sealed with. A new database records the key's fingerprint (and a new instance creates the
/// key); a database that has one refuses another key, or a missing key file (a moved data
/// folder, a forgotten `--key-file`): nothing could be read, and new data would be sealed
/// with a key nobody keeps.
pub async fn open_checked(
    store: &rumbo_store::Store,
    config: &crate::ServerConfig,
) -> Result<Arc<Protection>, ApiError> {
    let path = config.key_file.clone().unwrap_or_else(|| config.data_dir.join("protection.key"));
    let recorded = store.recorded_protection_key().await?;
    let refuse = |why: String| ApiError::Conflict { field: Some("key_file".into()), message: why };
    if let Some(recorded) = &recorded
        && !path.exists()
    {
        return Err(refuse(format!(
            "there is no protection key at {}, and this database's fields are sealed with the key of fingerprint {recorded}: \
             point --key-file (RUMBO_KEY_FILE) at that key file",
            path.display()
        )));
    }
    let protection =
        Protection::open(&path, config.create_key && recorded.is_none()).map_err(|e| refuse(e.to_string()))?;
    let ours = protection.sealer.fingerprint();
    let recorded = store.record_protection_key(ours).await?;
    if recorded != ours {
        return Err(refuse(format!(
            "the protection key in {} (fingerprint {ours}) is not the key this database was sealed with (fingerprint {recorded}): \
             point --key-file (RUMBO_KEY_FILE) at the right key file",
            path.display()
        )));
    }
    Ok(Arc::new(protection))
}
