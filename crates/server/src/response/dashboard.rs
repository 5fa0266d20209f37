//! The 5W overview: people reached against the plan by country, sector, admin 1, partner
//! and month, with funding, and the HXL exports of each table; and the plan page.

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}

/// The texts of these pages (key, [English, Spanish, Portuguese]).
pub const TEXTS: &[(&str, [&str; 3])] = &[];
