//! The 5W pages for reporters and reviewers: report rows (list, entry, edit), the upload
//! with its progress bar, and the review queue.

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}

/// The texts of these pages (key, [English, Spanish, Portuguese]).
pub const TEXTS: &[(&str, [&str; 3])] = &[];
