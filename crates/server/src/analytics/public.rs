//! Figures for everyone: what anonymous readers, public pages, open data and reports get.
//! Every figure is a cell of one protected table per indicator (round × geography × sex ×
//! age group, with all their totals), with disclosure control applied to the whole table
//! so that no published combination lets a suppressed cell be recomputed.
//!
//! A public question may break down by `round`, `country`, `adm1`, `sex`, `age_group`
//! (those the indicator allows) and filter each of them to at most one value.

use rumbo_analytics::{Answer, QueryError, Request};

use crate::AppState;

/// The public answer to `request` (`privileged` and `scope` are ignored: public figures are
/// the same for everyone).
pub async fn answer(state: &AppState, request: &Request) -> Result<Answer, QueryError> {
    // First version: the per-table suppression of `aggregate`; replaced by the protected
    // tables of `rumbo_analytics::disclosure`.
    let request = Request { privileged: false, scope: None, ..request.clone() };
    let registry = state.analytics.registry();
    rumbo_analytics::aggregate(&state.store, &registry, &request).await
}
