//! The audit log for regional administrators, with the state of its hash chain.

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use rumbo_domain::permissions::Permission;
use serde::Deserialize;

use super::{Cell, Chrome, FilterField, ListPage, ListQuery, PageResult, Row};
use crate::AppState;
use crate::auth::SignedIn;
use crate::extract::ApiQuery;
use crate::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(flatten)]
    list: ListQuery,
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> PageResult {
    caller.require(Permission::ViewAudit, None)?;
    let entity = q.list.kind.as_deref().filter(|k| !k.trim().is_empty());
    let lines = state.store.audit_log(if q.list.is_csv() { 10_000 } else { 500 }, entity).await?;
    let check = state.store.verify_audit_chain().await?;
    let mut c = Chrome::new(lang, Some(&caller), &uri, "nav.audit");
    c.title = match check.first_broken {
        None => format!("{} — {} ({})", lang.t("nav.audit"), lang.t("audit.chain_ok"), check.lines),
        Some(id) => format!("{} — {} {id}", lang.t("nav.audit"), lang.t("audit.chain_broken")),
    };
    let rows: Vec<Row> = lines
        .iter()
        .map(|l| Row {
            cells: vec![
                Cell::text(l.at.format("%Y-%m-%d %H:%M:%S").to_string()),
                Cell::text(&l.actor),
                Cell::text(&l.action),
                Cell::text(format!("{} {}", l.entity, l.entity_id)),
                Cell::text(l.country_code.clone().unwrap_or_default()),
                Cell::text(&l.detail),
            ],
            edit: None,
        })
        .collect();
    let total = rows.len() as i64;
    let mut page = ListPage::new(
        c,
        "/audit",
        vec![FilterField::text("kind", lang.t("audit.entity"), entity)],
        vec![
            lang.t("audit.at"),
            lang.t("audit.actor"),
            lang.t("audit.action"),
            lang.t("audit.entity"),
            lang.t("common.country"),
            "detail",
        ],
        rows,
        total,
    );
    page.editable = false;
    page.respond(&state, &caller, &q.list, "audit").await
}
