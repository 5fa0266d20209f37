//! People reached against the plan: the partners' report rows consolidated without double
//! counting ([`rumbo_analytics::fivew`]) and set beside the plan's targets.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use rumbo_analytics::fivew::{self, Disagg, PopulationType, Reach, ReachRow, Rules};
use rumbo_domain::permissions::Permission;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;

/// Which figures to consolidate.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReachedQuery {
    /// The plan's year.
    pub year: i32,
    /// One country (ISO alpha-3); default: the caller's countries.
    pub country: Option<String>,
    /// Count approved rows only (default: submitted and approved).
    #[serde(default)]
    pub approved_only: bool,
}

/// People reached in a country and sector, with the plan's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct SectorReach {
    pub country: String,
    pub sector: String,
    /// Girls, boys, women, men, other: people reached without double counting.
    #[schema(value_type = Object)]
    pub reached: Disagg,
    pub reached_total: u64,
    pub people_in_need: i64,
    pub people_targeted: i64,
    pub funding_required_usd: f64,
    /// Reached over targeted, when there is a target.
    pub share_of_target: Option<f64>,
}

/// A country's people reached across sectors (the largest sector per area, summed).
#[derive(Debug, Serialize, ToSchema)]
pub struct CountryReach {
    pub country: String,
    #[schema(value_type = Object)]
    pub reached: Disagg,
    pub reached_total: u64,
    #[schema(value_type = Object)]
    pub by_population: BTreeMap<PopulationType, Disagg>,
}

/// The consolidated figures of a plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reached {
    pub year: i32,
    /// The report rows read.
    pub rows: usize,
    pub sectors: Vec<SectorReach>,
    pub countries: Vec<CountryReach>,
}

fn population(code: &str) -> Option<PopulationType> {
    serde_json::from_value(serde_json::Value::String(code.to_string())).ok()
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// People reached per country and sector, and across sectors, against the plan's targets;
/// the method is in docs/response.md.
#[utoipa::path(get, path = "/api/v1/response/reached", tag = "response", params(ReachedQuery),
    responses((status = 200, body = Reached), (status = 404, description = "no plan for that year")))]
pub async fn reached(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<ReachedQuery>,
) -> ApiResult<Json<Reached>> {
    caller.require(Permission::ViewAnalytics, None)?;
    if let Some(c) = &q.country {
        caller.require(Permission::ViewAnalytics, Some(c))?;
    }
    let plan = state
        .store
        .response_plan(q.year)
        .await
        .map_err(|_| ApiError::NotFound(format!("a response plan for {}", q.year)))?;
    let countries = match (&q.country, caller.scope()) {
        (Some(c), _) => Some(vec![c.clone()]),
        (None, scope) => scope,
    };
    let facts = state.store.reach_facts(plan.id, countries.as_deref(), q.approved_only).await?;
    let rows: Vec<ReachRow> = facts
        .iter()
        .filter_map(|f| {
            Some(ReachRow {
                organisation: f.organisation.to_string(),
                sector: f.sector.clone(),
                indicator: f.indicator.clone(),
                counts_people: f.counts_people,
                country: f.country.clone(),
                admin1: f.admin1.clone().unwrap_or_default(),
                month: f.month,
                population: population(&f.population)?,
                new: f.new_or_recurring == "new",
                reached: Disagg {
                    girls: count(f.girls),
                    boys: count(f.boys),
                    women: count(f.women),
                    men: count(f.men),
                    other: count(f.other),
                },
            })
        })
        .collect();
    let consolidated = fivew::consolidate(&rows, &Rules::default());
    // The plan's figures per country and sector: the sum of its admin-1 rows where it has
    // some, else its country row (never both, which would count the country twice).
    let mut by_area: BTreeMap<(String, String), (i64, i64, f64)> = BTreeMap::new();
    let mut whole: BTreeMap<(String, String), (i64, i64, f64)> = BTreeMap::new();
    for t in plan.targets.iter().filter(|t| countries.as_ref().is_none_or(|c| c.contains(&t.country_code))) {
        let map = if t.admin1_pcode.is_some() { &mut by_area } else { &mut whole };
        let slot = map.entry((t.country_code.clone(), t.sector_code.clone())).or_default();
        slot.0 += t.people_in_need;
        slot.1 += t.people_targeted;
        slot.2 += t.funding_required_usd;
    }
    let mut targets = whole;
    targets.extend(by_area);
    let mut keys: std::collections::BTreeSet<(String, String)> = targets.keys().cloned().collect();
    keys.extend(consolidated.by_sector.keys().cloned());
    let sectors = keys
        .into_iter()
        .map(|key| {
            let reached = consolidated.by_sector.get(&key).map(|r: &Reach| r.total).unwrap_or_default();
            let (in_need, targeted, funding) = targets.get(&key).copied().unwrap_or_default();
            let total = reached.total();
            SectorReach {
                share_of_target: (targeted > 0).then(|| total as f64 / targeted as f64),
                country: key.0,
                sector: key.1,
                reached,
                reached_total: total,
                people_in_need: in_need,
                people_targeted: targeted,
                funding_required_usd: funding,
            }
        })
        .collect();
    let countries = consolidated
        .intersector
        .iter()
        .map(|(country, r)| CountryReach {
            country: country.clone(),
            reached: r.total,
            reached_total: r.total.total(),
            by_population: r.by_population.clone(),
        })
        .collect();
    Ok(Json(Reached { year: q.year, rows: rows.len(), sectors, countries }))
}
