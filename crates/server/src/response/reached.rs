//! People reached against the plan: the partners' report rows consolidated without double
//! counting ([`rumbo_analytics::fivew`]) and set beside the plan's targets.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use axum::Json;
use axum::extract::State;
use rumbo_analytics::fivew::{self, Consolidated, Disagg, PopulationType, Reach, ReachRow};
use rumbo_domain::permissions::Permission;
use rumbo_store::response::{Plan, ReachFacts};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{ApiCaller, Caller};
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

/// The report rows as the consolidation reads them.
pub fn reach_rows(facts: &[ReachFacts]) -> Vec<ReachRow> {
    facts
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
        .collect()
}

/// People in need, people targeted and funding required (USD).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PlanFigures {
    pub in_need: i64,
    pub targeted: i64,
    pub funding_usd: f64,
}

impl PlanFigures {
    fn add(&mut self, other: PlanFigures) {
        self.in_need += other.in_need;
        self.targeted += other.targeted;
        self.funding_usd += other.funding_usd;
    }
}

/// The plan's figures of the chosen countries (`None`: all) and sector (`None`: all).
pub struct PlanTargets {
    /// (country, sector): the sum of its admin-1 rows where it has some, else its country
    /// row (never both, which would count the country twice).
    pub by_sector: BTreeMap<(String, String), PlanFigures>,
    /// (country, admin 1, sector): the admin-1 rows.
    pub by_area_sector: BTreeMap<(String, String, String), PlanFigures>,
}

impl PlanTargets {
    pub fn of(plan: &Plan, countries: Option<&[String]>, sector: Option<&dyn Fn(&str) -> bool>) -> PlanTargets {
        let mut by_area: BTreeMap<(String, String), PlanFigures> = BTreeMap::new();
        let mut whole: BTreeMap<(String, String), PlanFigures> = BTreeMap::new();
        let mut by_area_sector = BTreeMap::new();
        let chosen = plan.targets.iter().filter(|t| {
            countries.is_none_or(|c| c.contains(&t.country_code)) && sector.is_none_or(|f| f(&t.sector_code))
        });
        for t in chosen {
            let figures = PlanFigures {
                in_need: t.people_in_need,
                targeted: t.people_targeted,
                funding_usd: t.funding_required_usd,
            };
            let key = (t.country_code.clone(), t.sector_code.clone());
            if let Some(area) = &t.admin1_pcode {
                by_area.entry(key).or_default().add(figures);
                by_area_sector
                    .entry((t.country_code.clone(), area.clone(), t.sector_code.clone()))
                    .or_insert_with(PlanFigures::default)
                    .add(figures);
            } else {
                whole.entry(key).or_default().add(figures);
            }
        }
        let mut by_sector = whole;
        by_sector.extend(by_area);
        PlanTargets { by_sector, by_area_sector }
    }

    /// A country's figures across sectors, as people reached are: per admin 1 the largest
    /// sector, summed over the admin 1 areas; where sectors are planned for the whole
    /// country only, the largest of them (whichever is larger). Funding is summed.
    pub fn intersector(&self, country: &str) -> PlanFigures {
        let mut per_area: BTreeMap<&str, PlanFigures> = BTreeMap::new();
        for ((c, area, _), f) in &self.by_area_sector {
            if c == country {
                let slot = per_area.entry(area.as_str()).or_default();
                slot.in_need = slot.in_need.max(f.in_need);
                slot.targeted = slot.targeted.max(f.targeted);
            }
        }
        let areas = per_area.values().fold(PlanFigures::default(), |mut sum, f| {
            sum.add(*f);
            sum
        });
        let mut out = PlanFigures::default();
        for ((c, _), f) in &self.by_sector {
            if c == country {
                out.in_need = out.in_need.max(f.in_need);
                out.targeted = out.targeted.max(f.targeted);
                out.funding_usd += f.funding_usd;
            }
        }
        out.in_need = out.in_need.max(areas.in_need);
        out.targeted = out.targeted.max(areas.targeted);
        out
    }

    /// An admin 1 area's figures across sectors (the largest sector).
    pub fn area(&self, country: &str, area: &str) -> PlanFigures {
        let mut out = PlanFigures::default();
        for ((c, a, _), f) in &self.by_area_sector {
            if c == country && a == area {
                out.in_need = out.in_need.max(f.in_need);
                out.targeted = out.targeted.max(f.targeted);
                out.funding_usd += f.funding_usd;
            }
        }
        out
    }
}

/// A plan's report rows, consolidated.
pub struct Computed {
    pub plan: Plan,
    /// The countries read (`None`: every country).
    pub countries: Option<Vec<String>>,
    pub rows: Vec<ReachRow>,
    pub consolidated: Consolidated,
    pub targets: PlanTargets,
}

/// Reads and consolidates a plan's rows: of one country or the caller's countries, of one
/// sector (and its sub-sectors) or all, submitted and approved or approved only.
pub async fn compute(
    state: &AppState,
    caller: &Caller,
    year: i32,
    country: Option<&str>,
    sector: Option<&str>,
    approved_only: bool,
) -> ApiResult<Computed> {
    caller.require(Permission::ViewAnalytics, None)?;
    if let Some(c) = country {
        caller.require(Permission::ViewAnalytics, Some(c))?;
    }
    let plan =
        state.store.response_plan(year).await.map_err(|_| ApiError::NotFound(format!("a response plan for {year}")))?;
    let in_sector: Option<HashSet<String>> = match sector {
        None => None,
        Some(code) => {
            let chosen: HashSet<String> = plan
                .sectors
                .iter()
                .filter(|s| s.code == code || s.parent_code.as_deref() == Some(code))
                .map(|s| s.code.clone())
                .collect();
            if chosen.is_empty() {
                return Err(ApiError::invalid("sector", format!("`{code}` is not a sector of the {year} plan")));
            }
            Some(chosen)
        }
    };
    let countries = match (country, caller.scope()) {
        (Some(c), _) => Some(vec![c.to_string()]),
        (None, scope) => scope,
    };
    let facts = state.store.reach_facts(plan.id, countries.as_deref(), approved_only).await?;
    let mut rows = reach_rows(&facts);
    if let Some(chosen) = &in_sector {
        rows.retain(|r| chosen.contains(&r.sector));
    }
    let rules = state.config.consolidation.clone();
    let (rows, consolidated) = tokio::task::spawn_blocking(move || {
        let consolidated = fivew::consolidate(&rows, &rules);
        (rows, consolidated)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let filter = in_sector.as_ref().map(|chosen| move |s: &str| chosen.contains(s));
    let targets = PlanTargets::of(&plan, countries.as_deref(), filter.as_ref().map(|f| f as &dyn Fn(&str) -> bool));
    Ok(Computed { plan, countries, rows, consolidated, targets })
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
    let country = q.country.as_deref().map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty());
    let computed = compute(&state, &caller, q.year, country.as_deref(), None, q.approved_only).await?;
    let consolidated = &computed.consolidated;
    let mut keys: BTreeSet<(String, String)> = computed.targets.by_sector.keys().cloned().collect();
    keys.extend(consolidated.by_sector.keys().cloned());
    let sectors = keys
        .into_iter()
        .map(|key| {
            let reached = consolidated.by_sector.get(&key).map(|r: &Reach| r.total).unwrap_or_default();
            let plan = computed.targets.by_sector.get(&key).copied().unwrap_or_default();
            let total = reached.total();
            SectorReach {
                share_of_target: (plan.targeted > 0).then(|| total as f64 / plan.targeted as f64),
                country: key.0,
                sector: key.1,
                reached,
                reached_total: total,
                people_in_need: plan.in_need,
                people_targeted: plan.targeted,
                funding_required_usd: plan.funding_usd,
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
    Ok(Json(Reached { year: q.year, rows: computed.rows.len(), sectors, countries }))
}
