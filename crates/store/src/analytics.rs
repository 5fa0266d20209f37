//! Indicators and their live aggregates.
//!
//! Aggregates are sums kept per *cell*: one indicator, one cube, one combination of
//! dimension values. Every write that changes what a submission counts for (a new
//! submission, an edit, a review that rejects it, a deletion) asks a [`Contributor`] what
//! the submission adds to which cells, before and after, and writes the difference in the
//! same transaction. Dashboards and the aggregates API read cells, never submissions.
//!
//! A *cube* keeps some of the dimensions and rolls the others up, so that a question is
//! answered from the smallest cube holding its dimensions: a time series from `time`, a
//! profile by nationality from `profile`, routes from `routes`, anything else from `all`.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::model::Actor;
use crate::{AuditEvent, Result, Store, StoreError, run};

/// A dimension an indicator can be broken down or filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    Round,
    Day,
    Month,
    Site,
    Country,
    Adm1,
    Sex,
    AgeGroup,
    Nationality,
    PopulationGroup,
    Direction,
    Origin,
    Destination,
}

impl Dim {
    pub const ALL: [Dim; 13] = [
        Dim::Round,
        Dim::Day,
        Dim::Month,
        Dim::Site,
        Dim::Country,
        Dim::Adm1,
        Dim::Sex,
        Dim::AgeGroup,
        Dim::Nationality,
        Dim::PopulationGroup,
        Dim::Direction,
        Dim::Origin,
        Dim::Destination,
    ];

    /// The name in the API (`by=adm1,sex`) and in indicator files.
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Round => "round",
            Dim::Day => "day",
            Dim::Month => "month",
            Dim::Site => "site",
            Dim::Country => "country",
            Dim::Adm1 => "adm1",
            Dim::Sex => "sex",
            Dim::AgeGroup => "age_group",
            Dim::Nationality => "nationality",
            Dim::PopulationGroup => "population_group",
            Dim::Direction => "direction",
            Dim::Origin => "origin",
            Dim::Destination => "destination",
        }
    }

    pub fn parse(name: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == name.trim())
    }

    fn column(self) -> &'static str {
        match self {
            Dim::Round => "round_id",
            Dim::Site => "site_id",
            other => other.as_str(),
        }
    }

    /// Whether the column holds a number (round, day, month, site) rather than text.
    fn numeric(self) -> bool {
        matches!(self, Dim::Round | Dim::Day | Dim::Month | Dim::Site)
    }
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cubes, smallest first: the dimensions each can keep. Round, site, country and
/// admin 1 are in every cube (country and admin 1 follow from the site), and so are sex and
/// age group, the strata survey weights are computed on. An indicator keeps in each cube
/// only the dimensions it can be broken down by (its [`CubePlan`]), so a breakdown nobody
/// may ask for costs no cells.
pub const CUBES: [(&str, &[Dim]); 4] = [
    ("strata", &[Dim::Round, Dim::Month, Dim::Site, Dim::Country, Dim::Adm1, Dim::Sex, Dim::AgeGroup]),
    (
        "time",
        &[
            Dim::Round,
            Dim::Day,
            Dim::Month,
            Dim::Site,
            Dim::Country,
            Dim::Adm1,
            Dim::Sex,
            Dim::AgeGroup,
            Dim::Direction,
        ],
    ),
    (
        "profile",
        &[
            Dim::Round,
            Dim::Month,
            Dim::Site,
            Dim::Country,
            Dim::Adm1,
            Dim::Sex,
            Dim::AgeGroup,
            Dim::Nationality,
            Dim::PopulationGroup,
            Dim::Direction,
        ],
    ),
    (
        "routes",
        &[
            Dim::Round,
            Dim::Month,
            Dim::Site,
            Dim::Country,
            Dim::Adm1,
            Dim::Sex,
            Dim::AgeGroup,
            Dim::Nationality,
            Dim::Origin,
            Dim::Destination,
        ],
    ),
];

/// The cubes one indicator is kept in, each with the dimensions it keeps there; a cube
/// that would keep the same dimensions as an earlier one is left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CubePlan(pub Vec<(usize, Vec<Dim>)>);

impl CubePlan {
    /// The plan of an indicator that may be broken down by `allowed`.
    pub fn new(allowed: &[Dim]) -> CubePlan {
        let mut plan: Vec<(usize, Vec<Dim>)> = Vec::new();
        for (cube, (_, dims)) in CUBES.iter().enumerate() {
            let kept: Vec<Dim> = dims.iter().copied().filter(|d| allowed.contains(d)).collect();
            if !plan.iter().any(|(_, k)| *k == kept) {
                plan.push((cube, kept));
            }
        }
        CubePlan(plan)
    }

    /// The smallest cube that keeps every dimension of `dims`.
    pub fn cube_for(&self, dims: &[Dim]) -> Option<usize> {
        self.0.iter().find(|(_, kept)| dims.iter().all(|d| kept.contains(d))).map(|(cube, _)| *cube)
    }

    /// The combinations of dimensions it can answer, for messages.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|(_, kept)| kept.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(" + "))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Where one unit (a submission, or one entry of a repeat) falls: a value per dimension,
/// `""` or `0` where it has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CellKey {
    pub round_id: i64,
    /// Days since 1970-01-01.
    pub day: i32,
    /// `yyyymm`.
    pub month: i32,
    pub site_id: i64,
    pub country: String,
    pub adm1: String,
    pub sex: String,
    pub age_group: String,
    pub nationality: String,
    pub population_group: String,
    pub direction: String,
    pub origin: String,
    pub destination: String,
}

impl CellKey {
    /// Sets `day` and `month` from a date.
    pub fn set_date(&mut self, date: NaiveDate) {
        self.day = date.signed_duration_since(NaiveDate::default()).num_days() as i32;
        self.month = date.year() * 100 + date.month() as i32;
    }

    /// The key with the dimensions not in `kept` rolled up.
    pub fn project(&self, kept: &[Dim]) -> CellKey {
        let keep = |d: Dim| kept.contains(&d);
        let text = |d: Dim, v: &String| if keep(d) { v.clone() } else { String::new() };
        CellKey {
            round_id: if keep(Dim::Round) { self.round_id } else { 0 },
            day: if keep(Dim::Day) { self.day } else { 0 },
            month: if keep(Dim::Month) { self.month } else { 0 },
            site_id: if keep(Dim::Site) { self.site_id } else { 0 },
            country: text(Dim::Country, &self.country),
            adm1: text(Dim::Adm1, &self.adm1),
            sex: text(Dim::Sex, &self.sex),
            age_group: text(Dim::AgeGroup, &self.age_group),
            nationality: text(Dim::Nationality, &self.nationality),
            population_group: text(Dim::PopulationGroup, &self.population_group),
            direction: text(Dim::Direction, &self.direction),
            origin: text(Dim::Origin, &self.origin),
            destination: text(Dim::Destination, &self.destination),
        }
    }

    /// The value of one dimension, as text.
    pub fn get(&self, dim: Dim) -> String {
        match dim {
            Dim::Round => self.round_id.to_string(),
            Dim::Day => self.day.to_string(),
            Dim::Month => self.month.to_string(),
            Dim::Site => self.site_id.to_string(),
            Dim::Country => self.country.clone(),
            Dim::Adm1 => self.adm1.clone(),
            Dim::Sex => self.sex.clone(),
            Dim::AgeGroup => self.age_group.clone(),
            Dim::Nationality => self.nationality.clone(),
            Dim::PopulationGroup => self.population_group.clone(),
            Dim::Direction => self.direction.clone(),
            Dim::Origin => self.origin.clone(),
            Dim::Destination => self.destination.clone(),
        }
    }
}

/// The sums kept per cell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CellValues {
    /// Units (submissions or repeat entries) counted.
    pub n: i64,
    /// Sum of the values (sum, mean) or of the numerator (proportion).
    pub num: f64,
    /// Sum of the squared values.
    pub num2: f64,
    /// Sum of the denominator (proportion; for a mean, the units with a value).
    pub den: f64,
}

impl CellValues {
    pub fn add(&mut self, other: &CellValues, sign: i64) {
        self.n += sign * other.n;
        self.num += sign as f64 * other.num;
        self.num2 += sign as f64 * other.num2;
        self.den += sign as f64 * other.den;
    }

    pub fn is_zero(&self) -> bool {
        self.n == 0 && self.num == 0.0 && self.num2 == 0.0 && self.den == 0.0
    }
}

/// What the writer tells a [`Contributor`] about one submission.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub form_id: i64,
    pub data: &'a serde_json::Value,
    pub site_id: Option<i64>,
    pub country: Option<&'a str>,
    pub round_id: Option<i64>,
    pub collected_on: Option<NaiveDate>,
}

/// A cell key with its texts replaced by numbers (see [`Deltas`]): copied, compared and
/// hashed without touching a string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
struct Packed {
    round_id: i64,
    day: i32,
    month: i32,
    site_id: i64,
    /// Country, adm1, sex, age group, nationality, population group, direction, origin,
    /// destination.
    text: [u32; 9],
}

const TEXT_DIMS: [Dim; 9] = [
    Dim::Country,
    Dim::Adm1,
    Dim::Sex,
    Dim::AgeGroup,
    Dim::Nationality,
    Dim::PopulationGroup,
    Dim::Direction,
    Dim::Origin,
    Dim::Destination,
];

impl Packed {
    fn project(&self, kept: &[Dim]) -> Packed {
        let keep = |d: Dim| kept.contains(&d);
        let mut text = self.text;
        for (slot, dim) in text.iter_mut().zip(TEXT_DIMS) {
            if !keep(dim) {
                *slot = 0;
            }
        }
        Packed {
            round_id: if keep(Dim::Round) { self.round_id } else { 0 },
            day: if keep(Dim::Day) { self.day } else { 0 },
            month: if keep(Dim::Month) { self.month } else { 0 },
            site_id: if keep(Dim::Site) { self.site_id } else { 0 },
            text,
        }
    }
}

/// Cell deltas, by indicator and cube, summed before they are written. Texts are kept
/// once each and cells refer to them by number: a batch adds millions of deltas to a few
/// thousand distinct values.
#[derive(Debug, Default)]
pub struct Deltas {
    /// Text of each number; 0 is `""`.
    names: Vec<String>,
    numbers: HashMap<String, u32>,
    cells: HashMap<(u32, u8, Packed), CellValues>,
}

/// One cell of [`Deltas`], with its texts.
pub struct DeltaCell<'a> {
    pub indicator: &'a str,
    pub cube: usize,
    pub round_id: i64,
    pub day: i32,
    pub month: i32,
    pub site_id: i64,
    /// In the order of the `agg_cells` columns: country … destination.
    pub text: [&'a str; 9],
    pub values: CellValues,
}

impl Deltas {
    fn number(&mut self, text: &str) -> u32 {
        if text.is_empty() {
            return 0;
        }
        if self.names.is_empty() {
            self.names.push(String::new());
        }
        if let Some(n) = self.numbers.get(text) {
            return *n;
        }
        let n = self.names.len() as u32;
        self.names.push(text.to_owned());
        self.numbers.insert(text.to_owned(), n);
        n
    }

    /// Adds `sign` times `values` to the cells of `key` in each cube of `plan`.
    pub fn add(&mut self, indicator: &str, plan: &CubePlan, key: &CellKey, values: &CellValues, sign: i64) {
        let indicator = self.number(indicator);
        let mut text = [0; 9];
        for (slot, dim) in text.iter_mut().zip(TEXT_DIMS) {
            let value = match dim {
                Dim::Country => &key.country,
                Dim::Adm1 => &key.adm1,
                Dim::Sex => &key.sex,
                Dim::AgeGroup => &key.age_group,
                Dim::Nationality => &key.nationality,
                Dim::PopulationGroup => &key.population_group,
                Dim::Direction => &key.direction,
                Dim::Origin => &key.origin,
                _ => &key.destination,
            };
            *slot = self.number(value);
        }
        let full = Packed { round_id: key.round_id, day: key.day, month: key.month, site_id: key.site_id, text };
        for (cube, kept) in &plan.0 {
            let entry = self.cells.entry((indicator, *cube as u8, full.project(kept))).or_default();
            entry.add(values, sign);
        }
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The cells whose sums are not all zero.
    pub fn cells(&self) -> impl Iterator<Item = DeltaCell<'_>> {
        let name = |n: u32| self.names.get(n as usize).map_or("", String::as_str);
        self.cells.iter().filter(|(_, v)| !v.is_zero()).map(move |((indicator, cube, k), v)| DeltaCell {
            indicator: name(*indicator),
            cube: usize::from(*cube),
            round_id: k.round_id,
            day: k.day,
            month: k.month,
            site_id: k.site_id,
            text: k.text.map(name),
            values: *v,
        })
    }
}

/// Says what a submission adds to the aggregates: implemented by the indicator registry
/// (`rumbo-analytics`), called by the store inside the write transaction.
pub trait Contributor: Send + Sync {
    /// Whether any indicator reads this form (otherwise nothing is computed).
    fn reads(&self, form_id: i64) -> bool;
    /// Adds `sign` (1 or -1) times what the submission contributes to `out`.
    fn contribute(&self, facts: &Facts<'_>, sign: i64, out: &mut Deltas);
    /// Whether a red-flag rule reads this form.
    fn flags(&self, _form_id: i64) -> bool {
        false
    }
    /// The red flags a new (or edited) submission raises; written in its transaction.
    fn alerts(&self, _facts: &Facts<'_>) -> Vec<crate::protection::RaisedAlert> {
        Vec::new()
    }
}

/// A contributor that reads no form.
pub struct NoIndicators;

impl Contributor for NoIndicators {
    fn reads(&self, _form_id: i64) -> bool {
        false
    }

    fn contribute(&self, _facts: &Facts<'_>, _sign: i64, _out: &mut Deltas) {}
}

/// Whether a submission in this state counts in the aggregates.
pub fn counts(status: &str, deleted: bool) -> bool {
    !deleted && status != "rejected"
}

/// A stored indicator definition.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct StoredIndicator {
    pub id: String,
    pub form: String,
    /// The definition, as JSON text.
    pub definition: String,
    pub position: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to the set of indicators.
#[derive(Debug, Clone)]
pub enum IndicatorChange {
    /// Create or replace: `(id, form, definition JSON)`.
    Save {
        id: String,
        form: String,
        definition: String,
    },
    Delete {
        id: String,
    },
    /// Rebuild the cells of an unchanged indicator (its form got a new version, a site moved).
    Rebuild {
        id: String,
        form: String,
    },
}

/// A question to the aggregates: one indicator, sums grouped by `group_by`, read from
/// `cube` (which must keep every dimension grouped or filtered on: see [`CubePlan`]).
#[derive(Debug, Clone, Default)]
pub struct CellQuery {
    pub indicator: String,
    pub cube: usize,
    pub group_by: Vec<Dim>,
    /// Only these values of these dimensions (empty list: no filter).
    pub filters: Vec<(Dim, Vec<String>)>,
    /// Days since 1970-01-01, inclusive.
    pub from_day: Option<i32>,
    pub to_day: Option<i32>,
    /// Countries the reader may see (`None`: all).
    pub scope: Option<Vec<String>>,
}

impl CellQuery {
    /// Every dimension the query needs a cube to keep.
    pub fn dims(&self) -> Vec<Dim> {
        let mut dims = self.group_by.clone();
        dims.extend(self.filters.iter().filter(|(_, v)| !v.is_empty()).map(|(d, _)| *d));
        if self.from_day.is_some() || self.to_day.is_some() {
            dims.push(Dim::Day);
        }
        dims
    }
}

/// One group of an answer: the dimension values (as text, in `group_by` order) and sums.
#[derive(Debug, Clone, PartialEq)]
pub struct CellRow {
    pub keys: Vec<String>,
    pub values: CellValues,
}

/// Writes summed deltas: one upsert per cell, a few hundred cells a statement.
macro_rules! write_deltas {
    ($tx:ident, $deltas:expr) => {{
        let cells: Vec<_> = $deltas.cells().collect();
        for chunk in cells.chunks(400) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO agg_cells (indicator, cube, round_id, day, month, site_id, country, adm1, sex, age_group, \
                 nationality, population_group, direction, origin, destination, n, num, num2, den) ",
            );
            qb.push_values(chunk, |mut b, c| {
                b.push_bind(c.indicator)
                    .push_bind(c.cube as i32)
                    .push_bind(c.round_id)
                    .push_bind(c.day)
                    .push_bind(c.month)
                    .push_bind(c.site_id);
                for text in c.text {
                    b.push_bind(text);
                }
                b.push_bind(c.values.n).push_bind(c.values.num).push_bind(c.values.num2).push_bind(c.values.den);
            });
            qb.push(
                " ON CONFLICT (indicator, cube, round_id, day, month, site_id, country, adm1, sex, age_group, \
                 nationality, population_group, direction, origin, destination) DO UPDATE SET \
                 n = agg_cells.n + excluded.n, num = agg_cells.num + excluded.num, \
                 num2 = agg_cells.num2 + excluded.num2, den = agg_cells.den + excluded.den",
            );
            qb.build().execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use write_deltas;

/// A submission as the aggregates see it, read inside a write transaction.
pub(crate) type FactsRow =
    (i64, i64, String, Option<i64>, Option<String>, Option<i64>, Option<NaiveDate>, String, bool);

/// Reads what a submission counted for, inside the transaction: `(id, form, data, site,
/// country, round, collected on, status, deleted)`.
macro_rules! read_facts {
    ($tx:ident, $id:expr) => {{
        let row: Option<$crate::analytics::FactsRow> = sqlx::query_as(
            "SELECT id, form_id, data, site_id, country_code, round_id, collected_on, status, \
             (deleted_at IS NOT NULL) FROM submissions WHERE id = $1",
        )
        .bind($id)
        .fetch_optional(&mut *$tx)
        .await?;
        row
    }};
}
pub(crate) use read_facts;

/// Adds what a row read by `read_facts!` contributes, times `sign`, when it counts.
pub(crate) fn contribute_row(contributor: &dyn Contributor, row: &FactsRow, sign: i64, out: &mut Deltas) {
    let (_, form_id, data, site_id, country, round_id, collected_on, status, deleted) = row;
    if !contributor.reads(*form_id) || !counts(status, *deleted) {
        return;
    }
    let Ok(data) = serde_json::from_str::<serde_json::Value>(data) else { return };
    contributor.contribute(
        &Facts {
            form_id: *form_id,
            data: &data,
            site_id: *site_id,
            country: country.as_deref(),
            round_id: *round_id,
            collected_on: *collected_on,
        },
        sign,
        out,
    );
}

const FACTS_PAGE: i64 = 2_000;

impl Store {
    /// Every indicator, in their order.
    pub async fn indicators(&self) -> Result<Vec<StoredIndicator>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT id, form, definition, position, created_by, created_at, updated_at FROM indicators \
                 ORDER BY position, id",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// Applies changes to the indicators and rebuilds their aggregates from the stored
    /// submissions, in one transaction that holds the write lock: no submission can slip
    /// between the rebuild and the moment new submissions start counting for the new
    /// definitions. `activate(true)` is called once the lock is held, to make the new
    /// definitions the ones writers use (and `contributor` must already compute them);
    /// `activate(false)` if the change fails, before the lock is let go.
    pub async fn change_indicators(
        &self,
        actor: &Actor,
        changes: &[IndicatorChange],
        contributor: &dyn Contributor,
        activate: &(dyn Fn(bool) + Sync),
    ) -> Result<usize> {
        let now = Utc::now();
        let result: Result<usize> = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            activate(true);
            let work = async {
                let mut position: i32 =
                    sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM indicators").fetch_one(&mut *tx).await?;
                let mut forms = Vec::new();
                for change in changes {
                    let (id, detail) = match change {
                        IndicatorChange::Save { id, form, definition } => {
                            position += 1;
                            let existed = sqlx::query(
                                "UPDATE indicators SET form = $1, definition = $2, updated_at = $3 WHERE id = $4",
                            )
                            .bind(form)
                            .bind(definition)
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                                > 0;
                            if !existed {
                                sqlx::query(
                                    "INSERT INTO indicators (id, form, definition, position, created_by, created_at, updated_at) \
                                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                                )
                                .bind(id)
                                .bind(form)
                                .bind(definition)
                                .bind(position)
                                .bind(&actor.name)
                                .bind(now)
                                .execute(&mut *tx)
                                .await?;
                            }
                            forms.push(form.clone());
                            let definition: serde_json::Value = serde_json::from_str(definition).unwrap_or_default();
                            (
                                id,
                                json!({ "action": if existed { "update" } else { "create" }, "definition": definition }),
                            )
                        }
                        IndicatorChange::Delete { id } => {
                            let gone = sqlx::query("DELETE FROM indicators WHERE id = $1")
                                .bind(id)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            if gone == 0 {
                                return Err(StoreError::NotFound { entity: "indicator" });
                            }
                            (id, json!({ "action": "delete" }))
                        }
                        IndicatorChange::Rebuild { id, form } => {
                            forms.push(form.clone());
                            (id, json!({ "action": "rebuild" }))
                        }
                    };
                    sqlx::query("DELETE FROM agg_cells WHERE indicator = $1").bind(id).execute(&mut *tx).await?;
                    h::audit(
                        &mut tx,
                        AuditEvent {
                            actor,
                            action: match change {
                                IndicatorChange::Delete { .. } => "delete",
                                IndicatorChange::Save { .. } => "save",
                                IndicatorChange::Rebuild { .. } => "rebuild",
                            },
                            entity: "indicator",
                            entity_id: id.clone(),
                            country_code: None,
                            detail,
                        },
                    )
                    .await?;
                }
                // Rebuild the saved indicators from every submission of their forms; the
                // contributor computes only the indicators being rebuilt.
                forms.sort();
                forms.dedup();
                let mut rebuilt = 0;
                for form in forms {
                    let mut after = 0_i64;
                    loop {
                        let rows: Vec<FactsRow> = sqlx::query_as(
                            "SELECT s.id, s.form_id, s.data, s.site_id, s.country_code, s.round_id, s.collected_on, \
                             s.status, (s.deleted_at IS NOT NULL) FROM submissions s JOIN forms f ON f.id = s.form_id \
                             WHERE f.xml_form_id = $1 AND s.id > $2 ORDER BY s.id LIMIT $3",
                        )
                        .bind(&form)
                        .bind(after)
                        .bind(FACTS_PAGE)
                        .fetch_all(&mut *tx)
                        .await?;
                        let Some(last) = rows.last() else { break };
                        after = last.0;
                        let mut deltas = Deltas::default();
                        for row in &rows {
                            contribute_row(contributor, row, 1, &mut deltas);
                        }
                        rebuilt += rows.len();
                        write_deltas!(tx, deltas);
                    }
                }
                Ok::<usize, StoreError>(rebuilt)
            };
            match work.await {
                Ok(rebuilt) => match tx.commit().await {
                    Ok(()) => Ok(rebuilt),
                    Err(e) => {
                        activate(false);
                        Err(e.into())
                    }
                },
                Err(e) => {
                    activate(false);
                    Err(e)
                }
            }
        });
        result
    }

    /// Rebuilds every aggregate from the stored submissions (`rumbo reaggregate`), in one
    /// transaction; returns how many submissions were read and how many cells written.
    pub async fn reaggregate(&self, actor: &Actor, contributor: &dyn Contributor) -> Result<(usize, usize)> {
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            sqlx::query("DELETE FROM agg_cells").execute(&mut *tx).await?;
            let mut after = 0_i64;
            let mut read = 0;
            let mut all = Deltas::default();
            loop {
                let rows: Vec<FactsRow> = sqlx::query_as(
                    "SELECT id, form_id, data, site_id, country_code, round_id, collected_on, status, \
                     (deleted_at IS NOT NULL) FROM submissions WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(FACTS_PAGE)
                .fetch_all(&mut *tx)
                .await?;
                let Some(last) = rows.last() else { break };
                after = last.0;
                read += rows.len();
                for row in &rows {
                    contribute_row(contributor, row, 1, &mut all);
                }
            }
            let cells = all.cells().count();
            write_deltas!(tx, all);
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "reaggregate",
                    entity: "indicator",
                    entity_id: String::new(),
                    country_code: None,
                    detail: json!({ "submissions": read, "cells": cells }),
                },
            )
            .await?;
            tx.commit().await?;
            Ok((read, cells))
        })
    }

    /// Sums of one indicator's cells, grouped, from the smallest cube that can answer.
    pub async fn query_cells(&self, q: &CellQuery) -> Result<Vec<CellRow>> {
        let cube = q.cube;
        let mut select = String::from("SELECT ");
        for (i, d) in q.group_by.iter().enumerate() {
            if d.numeric() {
                let _ = write!(select, "CAST({} AS TEXT) AS k{i}, ", d.column());
            } else {
                let _ = write!(select, "{} AS k{i}, ", d.column());
            }
        }
        select.push_str(
            "CAST(SUM(n) AS BIGINT), CAST(SUM(num) AS DOUBLE PRECISION), CAST(SUM(num2) AS DOUBLE PRECISION), \
             CAST(SUM(den) AS DOUBLE PRECISION) FROM agg_cells WHERE indicator = ",
        );
        let width = q.group_by.len();
        run!(self, |pool, _h| {
            let select = if matches!(self, Store::Sqlite(_)) {
                select.replace("DOUBLE PRECISION", "REAL").replace("AS BIGINT", "AS INTEGER")
            } else {
                select
            };
            let mut qb = sqlx::QueryBuilder::new(select);
            qb.push_bind(&q.indicator).push(" AND cube = ").push_bind(cube as i32);
            for (dim, values) in q.filters.iter().filter(|(_, v)| !v.is_empty()) {
                qb.push(format!(" AND {} IN (", dim.column()));
                let mut sep = qb.separated(", ");
                for v in values {
                    if dim.numeric() {
                        sep.push_bind(v.parse::<i64>().unwrap_or(-1));
                    } else {
                        sep.push_bind(v.clone());
                    }
                }
                qb.push(")");
            }
            if let Some(from) = q.from_day {
                qb.push(" AND day >= ").push_bind(from);
            }
            if let Some(to) = q.to_day {
                qb.push(" AND day <= ").push_bind(to);
            }
            if let Some(scope) = &q.scope {
                qb.push(" AND country IN (");
                let mut sep = qb.separated(", ");
                // A scope with no country sees nothing.
                sep.push_bind("-");
                for c in scope {
                    sep.push_bind(c.clone());
                }
                qb.push(")");
            }
            if width > 0 {
                qb.push(" GROUP BY ");
                let mut sep = qb.separated(", ");
                for i in 0..width {
                    sep.push(format!("k{i}"));
                }
            }
            let rows = qb.build().fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                use sqlx::Row as _;
                let mut keys = Vec::with_capacity(width);
                for i in 0..width {
                    keys.push(row.try_get::<Option<String>, _>(i)?.unwrap_or_default());
                }
                let n: Option<i64> = row.try_get(width)?;
                let Some(n) = n else { continue };
                let values = CellValues {
                    n,
                    num: row.try_get::<Option<f64>, _>(width + 1)?.unwrap_or_default(),
                    num2: row.try_get::<Option<f64>, _>(width + 2)?.unwrap_or_default(),
                    den: row.try_get::<Option<f64>, _>(width + 3)?.unwrap_or_default(),
                };
                if values.is_zero() {
                    continue;
                }
                out.push(CellRow { keys, values });
            }
            Ok(out)
        })
    }

    /// Runs `f` while holding the write lock, between two writes: what the writers use
    /// (the indicators in use) is switched by it without a write seeing half of the change.
    pub async fn exclusively(&self, f: &(dyn Fn() + Sync)) -> Result<()> {
        run!(self, |pool, h| {
            let tx = h::begin_write(pool).await?;
            f();
            tx.commit().await?;
        });
        Ok(())
    }

    /// `(id, country, admin-1 p-code)` of every site: where a site's submissions are counted.
    pub async fn site_areas(&self) -> Result<Vec<(i64, String, String)>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT s.id, s.country_code, COALESCE(a.pcode, '') FROM sites s \
                 LEFT JOIN admin_areas a ON a.id = s.admin_area_id ORDER BY s.id",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// How many cells each indicator has (for the indicators page and benchmarks).
    pub async fn cell_counts(&self) -> Result<HashMap<String, i64>> {
        run!(self, |pool, _h| {
            let rows: Vec<(String, i64)> =
                sqlx::query_as("SELECT indicator, COUNT(*) FROM agg_cells GROUP BY indicator").fetch_all(pool).await?;
            Ok(rows.into_iter().collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_indicator_keeps_only_its_breakdowns_and_the_smallest_cube_is_chosen() {
        let all = CubePlan::new(&Dim::ALL);
        assert_eq!(all.0.len(), CUBES.len());
        assert_eq!(all.cube_for(&[Dim::Adm1, Dim::Sex, Dim::AgeGroup, Dim::Round]), Some(0));
        assert_eq!(all.cube_for(&[Dim::Day]), Some(1));
        assert_eq!(all.cube_for(&[Dim::Nationality, Dim::Month]), Some(2));
        assert_eq!(all.cube_for(&[Dim::Destination, Dim::Origin]), Some(3));
        assert_eq!(all.cube_for(&[Dim::Destination, Dim::PopulationGroup]), None);
        // Without day or direction the time cube would repeat the strata cube: it is left
        // out; without origin and destination, the routes cube too.
        let survey =
            CubePlan::new(&[Dim::Round, Dim::Site, Dim::Country, Dim::Adm1, Dim::Sex, Dim::AgeGroup, Dim::Nationality]);
        assert_eq!(survey.0.iter().map(|(c, _)| *c).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(survey.cube_for(&[Dim::Nationality]), Some(2));
        assert_eq!(survey.cube_for(&[Dim::Day]), None);
        assert!(survey.describe().contains("nationality"));
    }

    #[test]
    fn projection_rolls_up_what_a_cube_does_not_keep() {
        let mut key =
            CellKey { round_id: 3, site_id: 9, country: "COL".into(), sex: "female".into(), ..CellKey::default() };
        key.nationality = "VEN".into();
        key.set_date(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        assert_eq!(key.month, 202_602);
        let time = key.project(CUBES[1].1);
        assert_eq!((time.nationality.as_str(), time.day, time.sex.as_str()), ("", key.day, "female"));
        let profile = key.project(CUBES[2].1);
        assert_eq!((profile.nationality.as_str(), profile.day, profile.month), ("VEN", 0, 202_602));
        assert_eq!(key.project(&Dim::ALL), key);
    }

    #[test]
    fn deltas_of_the_same_cell_are_summed_and_cancel() {
        let key = CellKey { round_id: 1, sex: "male".into(), ..CellKey::default() };
        let one = CellValues { n: 1, num: 2.0, num2: 4.0, den: 1.0 };
        let plan = CubePlan::new(&Dim::ALL);
        let mut deltas = Deltas::default();
        deltas.add("x", &plan, &key, &one, 1);
        deltas.add("x", &plan, &key, &one, 1);
        assert_eq!(deltas.len(), CUBES.len());
        assert!(deltas.cells().all(|c| c.values.n == 2 && (c.values.num - 4.0).abs() < 1e-9 && c.text[2] == "male"));
        deltas.add("x", &plan, &key, &one, -1);
        deltas.add("x", &plan, &key, &one, -1);
        assert_eq!(deltas.cells().count(), 0);
    }
}
