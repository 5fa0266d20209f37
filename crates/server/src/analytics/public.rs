//! Figures for everyone: what anonymous readers, public pages, open data and reports get.
//! Every figure is a cell of one protected table per indicator (round × geography × sex ×
//! age group, with all their totals: [`rumbo_analytics::disclosure`]), so that no
//! combination of published figures lets a suppressed cell be recomputed.
//!
//! A public question may break down by `round`, `country`, `adm1`, `sex`, `age_group`
//! (those the indicator allows; never admin 1 for a sensitive topic) and filter each of
//! them to at most one value. Tables are computed again when the aggregates have changed
//! and the last one is over a minute old.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumbo_analytics::disclosure::Protected;
use rumbo_analytics::{Answer, IndicatorDef, QueryError, Request, Sensitivity};
use rumbo_store::FieldError;

use crate::AppState;

/// How long a protected table is used while the aggregates change under it.
const FRESH_FOR: Duration = Duration::from_mins(1);

/// The protected tables, by indicator.
#[derive(Default)]
pub struct Tables {
    kept: std::sync::Mutex<HashMap<String, Entry>>,
    /// One table computed at a time.
    building: tokio::sync::Mutex<()>,
    /// Indicators whose stale table is being computed again in the background.
    refreshing: std::sync::Mutex<std::collections::HashSet<String>>,
}

#[derive(Clone)]
struct Entry {
    version: u64,
    at: Instant,
    def: IndicatorDef,
    table: Arc<Protected>,
}

impl Tables {
    /// The table kept for `def`, and whether it is still fresh.
    fn get(&self, def: &IndicatorDef, version: u64) -> Option<(Arc<Protected>, bool)> {
        let tables = self.kept.lock().ok()?;
        let e = tables.get(&def.id).filter(|e| e.def == *def)?;
        Some((e.table.clone(), e.version == version || e.at.elapsed() < FRESH_FOR))
    }
}

/// An indicator's protected table. The first question waits for it; later ones get the one
/// kept while, once it is over a minute old and the aggregates have changed, a new one is
/// computed in the background.
pub async fn table(state: &AppState, indicator: &str) -> Result<Arc<Protected>, QueryError> {
    let registry = state.analytics.registry();
    let def = registry.get(indicator).ok_or_else(|| QueryError::UnknownIndicator(indicator.to_owned()))?;
    if def.sensitivity == Sensitivity::Restricted {
        return Err(QueryError::Restricted(def.id.clone()));
    }
    let cache = &state.analytics.public;
    let version = *state.analytics.subscribe().borrow();
    match cache.get(def, version) {
        Some((table, true)) => return Ok(table),
        Some((table, false)) => {
            let first = cache.refreshing.lock().is_ok_and(|mut r| r.insert(def.id.clone()));
            if first {
                let state = state.clone();
                let id = def.id.clone();
                tokio::spawn(async move {
                    if let Err(e) = compute(&state, &id, version).await {
                        tracing::warn!(indicator = %id, error = %e, "public table not computed again");
                    }
                    if let Ok(mut r) = state.analytics.public.refreshing.lock() {
                        r.remove(&id);
                    }
                });
            }
            return Ok(table);
        }
        None => {}
    }
    compute(state, &def.id, version).await
}

/// Computes an indicator's table (one at a time) and keeps it.
async fn compute(state: &AppState, indicator: &str, version: u64) -> Result<Arc<Protected>, QueryError> {
    let cache = &state.analytics.public;
    let _one = cache.building.lock().await;
    let registry = state.analytics.registry();
    let def = registry.get(indicator).ok_or_else(|| QueryError::UnknownIndicator(indicator.to_owned()))?;
    if let Some((t, true)) = cache.get(def, version) {
        return Ok(t);
    }
    let started = Instant::now();
    let table = Arc::new(Protected::build(&state.store, &registry, &def.id).await?);
    let (shown, hidden) = table.counts();
    tracing::debug!(indicator = %def.id, shown, hidden, ms = started.elapsed().as_millis(), "public table protected");
    if let Ok(mut tables) = cache.kept.lock() {
        tables.insert(def.id.clone(), Entry { version, at: Instant::now(), def: def.clone(), table: table.clone() });
    }
    Ok(table)
}

/// Protects the tables of every public indicator once, in the background, so that the
/// first reader of the public pages does not wait for them.
pub async fn warm(state: AppState) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = Instant::now();
    let defs = indicators(&state);
    for def in &defs {
        if let Err(e) = table(&state, &def.id).await {
            tracing::debug!(indicator = %def.id, error = %e, "public table not protected");
        }
    }
    if !defs.is_empty() {
        tracing::info!(indicators = defs.len(), seconds = started.elapsed().as_secs(), "public tables protected");
    }
}

/// The public answer to `request` (`privileged` and `scope` are ignored: public figures are
/// the same for everyone).
pub async fn answer(state: &AppState, request: &Request) -> Result<Answer, QueryError> {
    if request.from.is_some() || request.to.is_some() {
        let field = if request.from.is_some() { "from" } else { "to" };
        return Err(QueryError::Invalid(vec![FieldError::new(
            field,
            "public figures are by round: dates cannot be chosen (filter by round)",
        )]));
    }
    let table = table(state, &request.indicator).await?;
    table.answer(&request.by, &request.filters)
}

/// The public indicators, in declaration order.
pub fn indicators(state: &AppState) -> Vec<IndicatorDef> {
    let registry = state.analytics.registry();
    registry
        .defs()
        .iter()
        .filter(|d| d.sensitivity == Sensitivity::Public && registry.problems(&d.id).is_none())
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------
// The public dashboard: `/public`, `/public/{country}`, anonymous and read-only.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::dashboard::{Card, DashboardQuery, Headline, build};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/public", get(region))
        .route("/public/data.csv", get(data))
        .route("/public/{country}", get(country))
}

/// The public dashboard's filters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PublicQuery {
    pub country: Option<String>,
    /// A round by name (in a country).
    pub round: Option<String>,
    pub adm1: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "public.html")]
struct PublicPage {
    c: Chrome,
    countries: Vec<Choice>,
    rounds: Vec<Choice>,
    country: String,
    crumbs: Vec<(String, String)>,
    headlines: Vec<Headline>,
    cards: Vec<Card>,
    empty: bool,
    /// Open data: each public indicator's name and the address of its full public table
    /// (without `format`).
    open_data: Vec<(String, String)>,
}

/// Rendered pages, by address and language, kept as long as the tables they show.
#[derive(Default)]
pub struct Pages(std::sync::Mutex<HashMap<String, (Instant, String)>>);

async fn region(state: State<AppState>, lang: Lang, uri: Uri, ApiQuery(q): ApiQuery<PublicQuery>) -> Response {
    respond(&state, lang, &uri, q).await
}

async fn country(
    state: State<AppState>,
    lang: Lang,
    uri: Uri,
    Path(code): Path<String>,
    ApiQuery(mut q): ApiQuery<PublicQuery>,
) -> Response {
    q.country = Some(code);
    respond(&state, lang, &uri, q).await
}

async fn respond(state: &AppState, lang: Lang, uri: &Uri, q: PublicQuery) -> Response {
    match page(state, lang, uri, q).await {
        Ok(html) => {
            let mut r = Html(html).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
            r
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn page(state: &AppState, lang: Lang, uri: &Uri, q: PublicQuery) -> Result<String, ApiError> {
    let clean = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let country = clean(q.country).map(|c| c.to_uppercase());
    let round = clean(q.round);
    let adm1 = clean(q.adm1);
    let key = format!("{}|{country:?}|{round:?}|{adm1:?}", lang.code());
    if let Some((at, html)) = state.analytics.public_pages.0.lock().ok().and_then(|p| p.get(&key).cloned())
        && at.elapsed() < FRESH_FOR
    {
        return Ok(html);
    }
    let labels = state.analytics.labels(state).await?;
    let countries = state.store.list_countries().await?;
    if let Some(c) = &country
        && !countries.iter().any(|x| &x.code == c)
    {
        return Err(ApiError::NotFound(format!("country {c}")));
    }
    if round.is_some() && country.is_none() {
        return Err(ApiError::invalid("round", "public figures by round are per country: choose a country first"));
    }
    let dq = DashboardQuery {
        country: country.clone(),
        round: round.clone(),
        adm1: adm1.clone(),
        public: true,
        ..DashboardQuery::default()
    };
    let (headlines, cards) = build(state, None, &dq, lang, &labels).await?;
    let current = country.clone().unwrap_or_default();
    let mut country_choices = crate::pages::country_choices(&countries, lang, &current, true);
    country_choices.retain(|c| c.value.is_empty() || countries.iter().any(|x| x.code == c.value));
    let round_now = round.clone().unwrap_or_default();
    let mut rounds = vec![Choice::new("", lang.t("common.all"), &round_now)];
    if let Some(c) = &country {
        rounds.extend(
            labels
                .round_names(Some(std::slice::from_ref(c)))
                .into_iter()
                .map(|(name, _)| Choice::new(name.clone(), name, &round_now)),
        );
    }
    let mut crumbs = vec![(lang.t("dash.region").to_owned(), "/public".to_owned())];
    if let Some(c) = &country {
        crumbs.push((labels.country_name(c, lang), format!("/public/{c}")));
    }
    let empty = headlines.is_empty() && cards.is_empty();
    let open_data = indicators(state)
        .iter()
        .map(|def| {
            let by: Vec<&str> = rumbo_analytics::disclosure::public_dims(def).iter().map(|d| d.as_str()).collect();
            let mut pairs = vec![("indicator", def.id.clone()), ("by", by.join(","))];
            if let Some(c) = &country {
                pairs.push(("country", c.clone()));
            }
            let query = serde_html_form::to_string(pairs).unwrap_or_default();
            (def.name_in(lang.code()).to_owned(), format!("/api/v1/aggregates?{query}"))
        })
        .collect();
    let html = askama::Template::render(&PublicPage {
        c: Chrome::new(lang, None, uri, "pub.title"),
        countries: country_choices,
        rounds,
        country: current,
        crumbs,
        headlines,
        cards,
        empty,
        open_data,
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Ok(mut pages) = state.analytics.public_pages.0.lock() {
        if pages.len() > 256 {
            pages.clear();
        }
        pages.insert(key, (Instant::now(), html.clone()));
    }
    Ok(html)
}

/// A public chart's figures as CSV with its HXL row.
async fn data(
    State(state): State<AppState>,
    lang: Lang,
    ApiQuery(p): ApiQuery<super::api::AggregateParams>,
) -> Result<Response, PageError> {
    let (def, table) = super::api::table(&state, None, &p, lang).await?;
    Ok(crate::outputs::tables::download(&state, &def.id, &table, p.format.as_deref().unwrap_or("csv")).await?)
}
