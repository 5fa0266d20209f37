//! Answering a question about an indicator from the aggregates: the rows of a breakdown,
//! each with its estimate, and the total.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rumbo_store::analytics::{CUBES, CellQuery, CellValues, CubePlan, Dim};
use rumbo_store::{FieldError, Store, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::definition::{Kind, Sensitivity};
use crate::estimate::{self, Estimate, Stratum};
use crate::registry::Registry;

/// A question: one indicator, broken down by some dimensions, within filters.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub indicator: String,
    pub by: Vec<Dim>,
    /// Only these values of these dimensions (sites by id, rounds by id).
    pub filters: Vec<(Dim, Vec<String>)>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Countries the reader may see (`None`: every country).
    pub scope: Option<Vec<String>>,
    /// Whether the reader may see the submissions themselves: restricted indicators and
    /// small cells.
    pub privileged: bool,
}

/// One row of a breakdown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Row {
    /// The value of each `by` dimension, by name.
    #[schema(value_type = Object)]
    pub keys: BTreeMap<String, String>,
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// The answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Answer {
    pub indicator: String,
    pub kind: Kind,
    pub by: Vec<Dim>,
    /// Whether the survey weights were applied (post-stratification on the registry).
    pub weighted: bool,
    /// The cube the answer was read from.
    pub cube: String,
    pub rows: Vec<Row>,
    /// Rows left out because they were too small to show (or would let one be recomputed).
    pub suppressed_rows: usize,
    pub total: Estimate,
}

/// Why a question cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("there is no indicator `{0}`")]
    UnknownIndicator(String),
    #[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("you may not see indicator `{0}`: it is restricted to people who may read the submissions")]
    Restricted(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The strata interviews are weighted in: each round's point × sex × age-group cells.
const STRATA: [Dim; 4] = [Dim::Round, Dim::Site, Dim::Sex, Dim::AgeGroup];

fn day_number(date: NaiveDate) -> i32 {
    date.signed_duration_since(NaiveDate::default()).num_days() as i32
}

/// Answers `req` from the aggregates.
pub async fn aggregate(store: &Store, registry: &Registry, req: &Request) -> Result<Answer, QueryError> {
    let def = registry.get(&req.indicator).ok_or_else(|| QueryError::UnknownIndicator(req.indicator.clone()))?;
    if def.sensitivity == Sensitivity::Restricted && !req.privileged {
        return Err(QueryError::Restricted(def.id.clone()));
    }
    if let Some(problems) = registry.problems(&def.id) {
        return Err(QueryError::Invalid(
            problems
                .iter()
                .map(|p| {
                    FieldError::new("indicator", format!("{} cannot be computed: {}: {}", def.id, p.field, p.message))
                })
                .collect(),
        ));
    }
    let allowed = |d: Dim| def.disaggregations.contains(&d) || matches!(d, Dim::Round | Dim::Country);
    let mut problems = Vec::new();
    for d in &req.by {
        if !allowed(*d) {
            problems.push(FieldError::new(
                "by",
                format!(
                    "{} cannot be broken down by {d}; it can be by: {}",
                    def.id,
                    def.disaggregations.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let mut seen = Vec::new();
    for d in &req.by {
        if seen.contains(d) {
            problems.push(FieldError::new("by", format!("{d} is given twice")));
        }
        seen.push(*d);
    }
    for (d, _) in req.filters.iter().filter(|(_, v)| !v.is_empty()) {
        if !allowed(*d) && !matches!(d, Dim::Site | Dim::Adm1) {
            problems.push(FieldError::new(d.as_str(), format!("{} cannot be filtered by {d}", def.id)));
        }
    }
    if let (Some(from), Some(to)) = (req.from, req.to)
        && from > to
    {
        problems.push(FieldError::new("from", format!("{from} is after `to` ({to})")));
    }
    if !problems.is_empty() {
        return Err(QueryError::Invalid(problems));
    }
    let plan = registry.plan(&def.id).ok_or_else(|| QueryError::UnknownIndicator(def.id.clone()))?;
    // The cube that keeps everything asked, or a message saying what can be combined.
    let cube_of = |plan: &CubePlan, q: &CellQuery| {
        plan.cube_for(&q.dims()).ok_or_else(|| {
            QueryError::Invalid(vec![FieldError::new(
                "by",
                format!(
                    "{} cannot combine {}: its figures are kept by {}",
                    q.indicator,
                    q.dims().iter().map(|d| d.as_str()).collect::<Vec<_>>().join(" + "),
                    plan.describe()
                ),
            )])
        })
    };
    let mut base = CellQuery {
        indicator: def.id.clone(),
        cube: 0,
        group_by: req.by.clone(),
        filters: req.filters.clone(),
        from_day: req.from.map(day_number),
        to_day: req.to.map(day_number),
        scope: req.scope.clone(),
    };
    base.cube = cube_of(plan, &base)?;
    let weight_by = def.weight_by.as_ref().filter(|_| matches!(def.kind, Kind::Proportion | Kind::Mean));
    let (rows, total, cube) = match weight_by {
        None => {
            let cells = store.query_cells(&base).await?;
            let cube = CUBES[base.cube].0;
            let mut total = CellValues::default();
            let rows: Vec<(Vec<String>, Estimate)> = cells
                .into_iter()
                .map(|c| {
                    total.add(&c.values, 1);
                    (c.keys, estimate::unweighted(def.kind, &c.values))
                })
                .collect();
            (rows, estimate::unweighted(def.kind, &total), cube)
        }
        Some(registry_indicator) => {
            // The groups, split by stratum.
            let mut grouped = base.clone();
            for s in STRATA {
                if !grouped.group_by.contains(&s) {
                    grouped.group_by.push(s);
                }
            }
            let stratum_at: Vec<usize> =
                STRATA.iter().map(|s| grouped.group_by.iter().position(|g| g == s).unwrap_or_default()).collect();
            // The strata as a whole: filters that cut across strata (nationality...) are
            // left out, so each group is a domain of its strata.
            grouped.cube = cube_of(plan, &grouped)?;
            let target_plan = registry
                .plan(registry_indicator)
                .ok_or_else(|| QueryError::UnknownIndicator(registry_indicator.clone()))?;
            let strata_query = |indicator: &str| CellQuery {
                indicator: indicator.to_owned(),
                cube: 0,
                group_by: STRATA.to_vec(),
                filters: req
                    .filters
                    .iter()
                    .filter(|(d, _)| {
                        matches!(
                            d,
                            Dim::Round | Dim::Month | Dim::Site | Dim::Country | Dim::Adm1 | Dim::Sex | Dim::AgeGroup
                        )
                    })
                    .cloned()
                    .collect(),
                ..base.clone()
            };
            // The strata of the survey and of the registry, from the cubes that keep the
            // filters too (a date range needs the day).
            let mut survey_strata = strata_query(&def.id);
            survey_strata.cube = cube_of(plan, &survey_strata)?;
            let mut registry_strata = strata_query(registry_indicator);
            registry_strata.cube = cube_of(target_plan, &registry_strata)?;
            let cells = store.query_cells(&grouped).await?;
            let units: HashMap<Vec<String>, i64> =
                store.query_cells(&survey_strata).await?.into_iter().map(|c| (c.keys, c.values.n)).collect();
            let population: HashMap<Vec<String>, f64> =
                store.query_cells(&registry_strata).await?.into_iter().map(|c| (c.keys, c.values.num)).collect();
            let cube = CUBES[grouped.cube].0;
            let mut groups: BTreeMap<Vec<String>, Vec<Stratum>> = BTreeMap::new();
            // Ordered, so that the same sums always give the same figure to the last digit.
            let mut all: BTreeMap<Vec<String>, Stratum> = BTreeMap::new();
            for c in cells {
                let stratum: Vec<String> = stratum_at.iter().map(|&i| c.keys[i].clone()).collect();
                let s = Stratum {
                    values: c.values,
                    units: units.get(&stratum).copied().unwrap_or_default(),
                    population: population.get(&stratum).copied().unwrap_or_default(),
                };
                let whole = all.entry(stratum).or_insert(Stratum { values: CellValues::default(), ..s });
                whole.values.add(&c.values, 1);
                groups.entry(c.keys[..req.by.len()].to_vec()).or_default().push(s);
            }
            let rows = groups.into_iter().map(|(keys, strata)| (keys, estimate::weighted(def.kind, &strata))).collect();
            let all: Vec<Stratum> = all.into_values().collect();
            (rows, estimate::weighted(def.kind, &all), cube)
        }
    };
    // Small cells: hidden (with their keys, which would say who was there), and when just
    // one is, the next smallest too, so that the total minus the others reveals nothing.
    let mut suppressed_rows = 0;
    let mut rows: Vec<(Vec<String>, Estimate, Estimate)> = rows.into_iter().map(|(k, e)| (k, e, e)).collect();
    let mut total = total;
    if !req.privileged {
        for (_, e, _) in &mut rows {
            estimate::suppress(def.kind, e, def.suppression);
        }
        suppressed_rows = rows.iter().filter(|(_, e, _)| e.suppressed).count();
        if suppressed_rows == 1 {
            let size = |e: &Estimate| {
                if matches!(def.kind, Kind::Count | Kind::Sum) { e.value.unwrap_or(0.0) } else { e.n as f64 }
            };
            if let Some(next) =
                rows.iter_mut().filter(|(_, e, _)| !e.suppressed).min_by(|a, b| size(&a.2).total_cmp(&size(&b.2)))
            {
                next.1 = Estimate { suppressed: true, ..Estimate::default() };
                suppressed_rows += 1;
            }
        }
        rows.retain(|(_, e, _)| !e.suppressed);
        estimate::suppress(def.kind, &mut total, def.suppression);
    }
    let mut rows: Vec<Row> = rows
        .into_iter()
        .map(|(keys, estimate, _)| Row {
            keys: req.by.iter().map(|d| d.as_str().to_owned()).zip(keys).collect(),
            estimate,
        })
        .collect();
    rows.sort_by(|a, b| a.keys.values().cmp(b.keys.values()));
    Ok(Answer {
        indicator: def.id.clone(),
        kind: def.kind,
        by: req.by.clone(),
        weighted: weight_by.is_some(),
        cube: cube.to_owned(),
        rows,
        suppressed_rows,
        total,
    })
}
