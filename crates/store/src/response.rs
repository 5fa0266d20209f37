//! Response monitoring (5W): the regional plan (sectors, indicators, targets) and the monthly
//! activity reports that partners send against it.
//!
//! A plan is saved whole: its sectors, indicators and targets are replaced in one
//! transaction. Report rows arrive in batches (an uploaded template, a JSON request): a
//! batch is stored all or nothing, with multi-row `INSERT`s and one audit line. Every read
//! takes the caller's scope (countries, and for a partner reporter her organisation) from
//! the filter the server builds; the store never widens it.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::model::Actor;
use crate::{AuditEvent, Result, Store, StoreError, run};

/// The population types of the response (5W).
pub const POPULATION_TYPES: &[&str] =
    &["in_destination", "in_transit", "host_community", "pendular", "colombian_returnees"];
/// How assistance was given.
pub const MODALITIES: &[&str] = &["in_kind", "cash", "voucher", "service"];
/// Where a report row stands.
pub const REPORT_STATUSES: &[&str] = &["draft", "submitted", "approved", "returned"];

/// Rows per multi-row `INSERT` (26 values each: well under both engines' bind limits).
const CHUNK: usize = 1_000;

/// A response plan with everything in it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Plan {
    pub id: i64,
    pub year: i32,
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Reports for a month are due by this day of the following month.
    pub deadline_day: i32,
    pub sectors: Vec<PlanSector>,
    pub indicators: Vec<PlanIndicator>,
    pub targets: Vec<PlanTarget>,
}

/// The plan's own fields, without its content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct PlanHeader {
    pub id: i64,
    pub year: i32,
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub deadline_day: i32,
}

/// A sector, or a sub-sector (with its parent's code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct PlanSector {
    pub code: String,
    pub parent_code: Option<String>,
    pub name_en: String,
    pub name_es: String,
    pub name_pt: String,
}

/// An indicator of the plan, in one sector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct PlanIndicator {
    pub code: String,
    pub sector_code: String,
    pub name_en: String,
    pub name_es: String,
    pub name_pt: String,
    /// `people`, or another unit (`kits`, `sessions`…).
    pub unit: String,
    /// Whether the figures are people (and so enter the people-reached count).
    pub counts_people: bool,
}

/// People in need, people targeted and funding required, per country, admin 1 (`None`: the
/// whole country) and sector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct PlanTarget {
    pub country_code: String,
    pub admin1_pcode: Option<String>,
    pub sector_code: String,
    pub people_in_need: i64,
    pub people_targeted: i64,
    pub funding_required_usd: f64,
}

/// A plan to save (replacing the plan of the same year).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlanInput {
    pub year: i32,
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub deadline_day: i32,
    pub sectors: Vec<PlanSector>,
    pub indicators: Vec<PlanIndicator>,
    pub targets: Vec<PlanTarget>,
}

/// One report row to store (validated by the caller).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewActivityReport {
    pub appealing_org_id: i64,
    pub implementing_org_id: i64,
    pub indicator_code: String,
    pub sector_code: String,
    pub country_code: String,
    pub admin1_pcode: Option<String>,
    /// The first day of the month.
    pub month: NaiveDate,
    pub population_type: String,
    pub girls: i64,
    pub boys: i64,
    pub women: i64,
    pub men: i64,
    pub other: i64,
    pub total: i64,
    pub new_or_recurring: String,
    pub modality: Option<String>,
    pub cash_value_usd: Option<f64>,
    pub flag_late: bool,
    pub flag_duplicate: bool,
    pub flag_outlier: bool,
}

impl NewActivityReport {
    /// What makes two rows the same report: the duplicate check compares these.
    pub fn key(&self) -> ReportKey {
        ReportKey {
            appealing_org_id: self.appealing_org_id,
            implementing_org_id: self.implementing_org_id,
            indicator_code: self.indicator_code.clone(),
            admin1_pcode: self.admin1_pcode.clone(),
            country_code: self.country_code.clone(),
            month: self.month,
            population_type: self.population_type.clone(),
            new_or_recurring: self.new_or_recurring.clone(),
        }
    }
}

/// The duplicate key of a report row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct ReportKey {
    pub appealing_org_id: i64,
    pub implementing_org_id: i64,
    pub indicator_code: String,
    pub admin1_pcode: Option<String>,
    pub country_code: String,
    pub month: NaiveDate,
    pub population_type: String,
    pub new_or_recurring: String,
}

/// A stored report row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct ActivityReport {
    pub id: i64,
    pub plan_year: i32,
    pub appealing_org_id: i64,
    pub appealing_org: String,
    pub implementing_org_id: i64,
    pub implementing_org: String,
    pub indicator_code: String,
    pub sector_code: String,
    pub country_code: String,
    pub admin1_pcode: Option<String>,
    pub month: NaiveDate,
    pub population_type: String,
    pub girls: i64,
    pub boys: i64,
    pub women: i64,
    pub men: i64,
    pub other: i64,
    pub total: i64,
    pub new_or_recurring: String,
    pub modality: Option<String>,
    pub cash_value_usd: Option<f64>,
    pub status: String,
    pub reviewer_note: Option<String>,
    pub flag_late: bool,
    pub flag_duplicate: bool,
    pub flag_outlier: bool,
    pub upload_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which report rows to list. `countries` and `organisation_scope` are the caller's scope,
/// set by the server; the rest are the caller's filters.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub plan_id: i64,
    /// `None`: every country.
    pub countries: Option<Vec<String>>,
    /// A partner reporter's organisation: rows where it is the appealing or the implementing one.
    pub organisation_scope: Option<i64>,
    /// Rows of this organisation (appealing or implementing).
    pub organisation: Option<i64>,
    pub country: Option<String>,
    pub admin1: Option<String>,
    pub sector: Option<String>,
    pub indicator: Option<String>,
    pub month_from: Option<NaiveDate>,
    pub month_to: Option<NaiveDate>,
    pub status: Option<String>,
    /// Only rows with at least one flag.
    pub flagged: bool,
    /// Only the rows of this upload.
    pub upload_id: Option<i64>,
    /// Flagged rows first (the review queue), then newest month first.
    pub flagged_first: bool,
    pub offset: i64,
    pub limit: i64,
}

/// One page of report rows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportPage {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub items: Vec<ActivityReport>,
}

/// The upload a batch came from.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub organisation_id: i64,
    pub file_name: String,
}

/// An upload, stored or refused.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ActivityUpload {
    pub id: i64,
    pub organisation_id: i64,
    pub file_name: String,
    pub rows: i64,
    /// `stored` or `refused`.
    pub status: String,
    /// Why it was refused.
    pub error_summary: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// One earlier figure of an organisation: what the outlier check compares with.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PastFigure {
    pub indicator_code: String,
    pub month: NaiveDate,
    pub total: i64,
}

const REPORT_COLUMNS: &str = "SELECT r.id, p.year AS plan_year, r.appealing_org_id, a.name AS appealing_org, \
    r.implementing_org_id, i.name AS implementing_org, r.indicator_code, r.sector_code, r.country_code, r.admin1_pcode, \
    r.month, r.population_type, r.girls, r.boys, r.women, r.men, r.other, r.total, r.new_or_recurring, r.modality, \
    r.cash_value_usd, r.status, r.reviewer_note, r.flag_late, r.flag_duplicate, r.flag_outlier, r.upload_id, \
    r.created_by, r.created_at, r.updated_at \
    FROM activity_reports r JOIN response_plans p ON p.id = r.plan_id \
    JOIN organisations a ON a.id = r.appealing_org_id JOIN organisations i ON i.id = r.implementing_org_id";

/// Adds the filter's conditions (`WHERE` already written).
fn push_report_filter<'a, DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<'a, DB>, f: &'a ReportFilter)
where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    NaiveDate: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push(" r.plan_id = ").push_bind(f.plan_id);
    if let Some(countries) = &f.countries {
        qb.push(" AND r.country_code IN (");
        if countries.is_empty() {
            qb.push("NULL");
        }
        let mut list = qb.separated(", ");
        for c in countries {
            list.push_bind(c.clone());
        }
        qb.push(")");
    }
    for org in [f.organisation_scope, f.organisation].into_iter().flatten() {
        qb.push(" AND (r.appealing_org_id = ")
            .push_bind(org)
            .push(" OR r.implementing_org_id = ")
            .push_bind(org)
            .push(")");
    }
    for (column, value) in [
        ("r.country_code", &f.country),
        ("r.admin1_pcode", &f.admin1),
        ("r.sector_code", &f.sector),
        ("r.indicator_code", &f.indicator),
        ("r.status", &f.status),
    ] {
        if let Some(v) = value {
            qb.push(format!(" AND {column} = ")).push_bind(v.clone());
        }
    }
    if let Some(from) = f.month_from {
        qb.push(" AND r.month >= ").push_bind(from);
    }
    if let Some(to) = f.month_to {
        qb.push(" AND r.month <= ").push_bind(to);
    }
    if f.flagged {
        qb.push(" AND (r.flag_late OR r.flag_duplicate OR r.flag_outlier)");
    }
    if let Some(upload) = f.upload_id {
        qb.push(" AND r.upload_id = ").push_bind(upload);
    }
}

impl Store {
    /// Saves a plan whole: creates the year's plan or replaces its name, period, sectors,
    /// indicators and targets, all or nothing.
    #[tracing::instrument(skip_all, fields(year = input.year))]
    pub async fn save_response_plan(&self, actor: &Actor, input: &PlanInput) -> Result<Plan> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM response_plans WHERE year = $1")
                .bind(input.year)
                .fetch_optional(&mut *tx)
                .await?;
            let id: i64 = match existing {
                Some(id) => {
                    sqlx::query(
                        "UPDATE response_plans SET name = $1, period_start = $2, period_end = $3, deadline_day = $4, \
                         updated_at = $5 WHERE id = $6",
                    )
                    .bind(&input.name)
                    .bind(input.period_start)
                    .bind(input.period_end)
                    .bind(input.deadline_day)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    for table in ["response_sectors", "response_indicators", "response_targets"] {
                        sqlx::query(&format!("DELETE FROM {table} WHERE plan_id = $1")).bind(id).execute(&mut *tx).await?;
                    }
                    id
                }
                None => {
                    sqlx::query_scalar(
                        "INSERT INTO response_plans (year, name, period_start, period_end, deadline_day, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(input.year)
                    .bind(&input.name)
                    .bind(input.period_start)
                    .bind(input.period_end)
                    .bind(input.deadline_day)
                    .bind(now)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?
                }
            };
            for (chunk_no, chunk) in input.sectors.chunks(CHUNK).enumerate() {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO response_sectors (plan_id, code, parent_code, name_en, name_es, name_pt, position) ",
                );
                qb.push_values(chunk.iter().enumerate(), |mut b, (i, s)| {
                    b.push_bind(id)
                        .push_bind(&s.code)
                        .push_bind(&s.parent_code)
                        .push_bind(&s.name_en)
                        .push_bind(&s.name_es)
                        .push_bind(&s.name_pt)
                        .push_bind(i32::try_from(chunk_no * CHUNK + i).unwrap_or(i32::MAX));
                });
                qb.build().execute(&mut *tx).await?;
            }
            for (chunk_no, chunk) in input.indicators.chunks(CHUNK).enumerate() {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO response_indicators (plan_id, code, sector_code, name_en, name_es, name_pt, unit, counts_people, position) ",
                );
                qb.push_values(chunk.iter().enumerate(), |mut b, (i, s)| {
                    b.push_bind(id)
                        .push_bind(&s.code)
                        .push_bind(&s.sector_code)
                        .push_bind(&s.name_en)
                        .push_bind(&s.name_es)
                        .push_bind(&s.name_pt)
                        .push_bind(&s.unit)
                        .push_bind(s.counts_people)
                        .push_bind(i32::try_from(chunk_no * CHUNK + i).unwrap_or(i32::MAX));
                });
                qb.build().execute(&mut *tx).await?;
            }
            for chunk in input.targets.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO response_targets (plan_id, country_code, admin1_pcode, sector_code, people_in_need, \
                     people_targeted, funding_required_usd) ",
                );
                qb.push_values(chunk, |mut b, t| {
                    b.push_bind(id)
                        .push_bind(&t.country_code)
                        .push_bind(&t.admin1_pcode)
                        .push_bind(&t.sector_code)
                        .push_bind(t.people_in_need)
                        .push_bind(t.people_targeted)
                        .push_bind(t.funding_required_usd);
                });
                qb.build().execute(&mut *tx).await?;
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: if existing.is_some() { "update" } else { "create" },
                    entity: "response_plan",
                    entity_id: id.to_string(),
                    country_code: None,
                    detail: json!({
                        "year": input.year, "name": input.name, "sectors": input.sectors.len(),
                        "indicators": input.indicators.len(), "targets": input.targets.len(),
                    }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.response_plan(input.year).await
    }

    /// The plan's own fields.
    pub async fn response_plan_header(&self, year: i32) -> Result<PlanHeader> {
        run!(self, |pool, _h| {
            sqlx::query_as(
                "SELECT id, year, name, period_start, period_end, deadline_day FROM response_plans WHERE year = $1",
            )
            .bind(year)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound { entity: "response plan" })
        })
    }

    /// The plan of a year, with its sectors, indicators and targets.
    pub async fn response_plan(&self, year: i32) -> Result<Plan> {
        let header = self.response_plan_header(year).await?;
        run!(self, |pool, _h| {
            let sectors: Vec<PlanSector> = sqlx::query_as(
                "SELECT code, parent_code, name_en, name_es, name_pt FROM response_sectors WHERE plan_id = $1 ORDER BY position",
            )
            .bind(header.id)
            .fetch_all(pool)
            .await?;
            let indicators: Vec<PlanIndicator> = sqlx::query_as(
                "SELECT code, sector_code, name_en, name_es, name_pt, unit, counts_people FROM response_indicators \
                 WHERE plan_id = $1 ORDER BY position",
            )
            .bind(header.id)
            .fetch_all(pool)
            .await?;
            let targets: Vec<PlanTarget> = sqlx::query_as(
                "SELECT country_code, admin1_pcode, sector_code, people_in_need, people_targeted, funding_required_usd \
                 FROM response_targets WHERE plan_id = $1 ORDER BY country_code, admin1_pcode, sector_code, id",
            )
            .bind(header.id)
            .fetch_all(pool)
            .await?;
            Ok(Plan {
                id: header.id,
                year: header.year,
                name: header.name,
                period_start: header.period_start,
                period_end: header.period_end,
                deadline_day: header.deadline_day,
                sectors,
                indicators,
                targets,
            })
        })
    }

    /// Sets the figures of the targets given (matched on country, admin 1 and sector; a
    /// target not in the plan yet is added), in one transaction.
    #[tracing::instrument(skip_all, fields(year))]
    pub async fn save_response_targets(&self, actor: &Actor, year: i32, targets: &[PlanTarget]) -> Result<Plan> {
        let header = self.response_plan_header(year).await?;
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            for t in targets {
                let mut qb = sqlx::QueryBuilder::new("DELETE FROM response_targets WHERE plan_id = ");
                qb.push_bind(header.id).push(" AND country_code = ").push_bind(&t.country_code);
                qb.push(" AND sector_code = ").push_bind(&t.sector_code);
                match &t.admin1_pcode {
                    Some(p) => qb.push(" AND admin1_pcode = ").push_bind(p),
                    None => qb.push(" AND admin1_pcode IS NULL"),
                };
                qb.build().execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO response_targets (plan_id, country_code, admin1_pcode, sector_code, people_in_need, \
                     people_targeted, funding_required_usd) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(header.id)
                .bind(&t.country_code)
                .bind(&t.admin1_pcode)
                .bind(&t.sector_code)
                .bind(t.people_in_need)
                .bind(t.people_targeted)
                .bind(t.funding_required_usd)
                .execute(&mut *tx)
                .await?;
                h::audit(
                    &mut tx,
                    AuditEvent {
                        actor,
                        action: "update",
                        entity: "response_target",
                        entity_id: format!(
                            "{year}/{}/{}/{}",
                            t.country_code,
                            t.admin1_pcode.as_deref().unwrap_or("-"),
                            t.sector_code
                        ),
                        country_code: Some(&t.country_code),
                        detail: json!(t),
                    },
                )
                .await?;
            }
            tx.commit().await?;
        });
        self.response_plan(year).await
    }

    /// Every organisation: id, name and acronym (what report templates list).
    pub async fn organisation_names(&self) -> Result<Vec<(i64, String, String)>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as("SELECT id, name, acronym FROM organisations ORDER BY name").fetch_all(pool).await?)
        })
    }

    /// Level-1 admin areas: p-code → country.
    pub async fn admin1_countries(&self) -> Result<HashMap<String, String>> {
        run!(self, |pool, _h| {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT pcode, country_code FROM admin_areas WHERE level = 1").fetch_all(pool).await?;
            Ok(rows.into_iter().collect())
        })
    }

    /// Stores a batch of report rows (status `submitted`), all or nothing, with one audit
    /// line per country for the batch; with an upload record when the rows came from a file.
    /// Returns the upload's id (if any) and the rows stored.
    #[tracing::instrument(skip_all, fields(rows = rows.len()))]
    pub async fn insert_activity_reports(
        &self,
        actor: &Actor,
        plan_id: i64,
        upload: Option<&NewUpload>,
        rows: &[NewActivityReport],
    ) -> Result<(Option<i64>, Vec<i64>)> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let upload_id: Option<i64> = match upload {
                Some(u) => Some(
                    sqlx::query_scalar(
                        "INSERT INTO activity_uploads (plan_id, organisation_id, file_name, rows, status, created_by, created_at) \
                         VALUES ($1, $2, $3, $4, 'stored', $5, $6) RETURNING id",
                    )
                    .bind(plan_id)
                    .bind(u.organisation_id)
                    .bind(&u.file_name)
                    .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
                    .bind(actor.user_id)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?,
                ),
                None => None,
            };
            let mut ids = Vec::with_capacity(rows.len());
            for chunk in rows.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO activity_reports (plan_id, appealing_org_id, implementing_org_id, indicator_code, sector_code, \
                     country_code, admin1_pcode, month, population_type, girls, boys, women, men, other, total, new_or_recurring, \
                     modality, cash_value_usd, status, flag_late, flag_duplicate, flag_outlier, upload_id, created_by, \
                     created_at, updated_at) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(plan_id)
                        .push_bind(r.appealing_org_id)
                        .push_bind(r.implementing_org_id)
                        .push_bind(&r.indicator_code)
                        .push_bind(&r.sector_code)
                        .push_bind(&r.country_code)
                        .push_bind(&r.admin1_pcode)
                        .push_bind(r.month)
                        .push_bind(&r.population_type)
                        .push_bind(r.girls)
                        .push_bind(r.boys)
                        .push_bind(r.women)
                        .push_bind(r.men)
                        .push_bind(r.other)
                        .push_bind(r.total)
                        .push_bind(&r.new_or_recurring)
                        .push_bind(&r.modality)
                        .push_bind(r.cash_value_usd)
                        .push_bind("submitted")
                        .push_bind(r.flag_late)
                        .push_bind(r.flag_duplicate)
                        .push_bind(r.flag_outlier)
                        .push_bind(upload_id)
                        .push_bind(actor.user_id)
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.push(" RETURNING id");
                let chunk_ids: Vec<i64> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
                ids.extend(chunk_ids);
            }
            let mut countries: Vec<&str> = rows.iter().map(|r| r.country_code.as_str()).collect();
            countries.sort_unstable();
            countries.dedup();
            for country in countries {
                let in_country = rows.iter().filter(|r| r.country_code == country).count();
                h::audit(
                    &mut tx,
                    AuditEvent {
                        actor,
                        action: "import",
                        entity: "activity_reports",
                        entity_id: upload_id.map_or_else(
                            || format!("batch:{}", ids.first().copied().unwrap_or(0)),
                            |u| format!("upload:{u}"),
                        ),
                        country_code: Some(country),
                        detail: json!({
                            "plan": plan_id, "rows": in_country,
                            "organisation": upload.map(|u| u.organisation_id),
                            "file": upload.map(|u| u.file_name.as_str()),
                        }),
                    },
                )
                .await?;
            }
            tx.commit().await?;
            Ok((upload_id, ids))
        })
    }

    /// Records an upload that was refused (nothing of it stored), with the reason, so that
    /// the attempts of an organisation can be followed up.
    #[tracing::instrument(skip_all)]
    pub async fn record_refused_upload(
        &self,
        actor: &Actor,
        plan_id: i64,
        upload: &NewUpload,
        rows: usize,
        summary: &str,
    ) -> Result<i64> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO activity_uploads (plan_id, organisation_id, file_name, rows, status, error_summary, created_by, \
                 created_at) VALUES ($1, $2, $3, $4, 'refused', $5, $6, $7) RETURNING id",
            )
            .bind(plan_id)
            .bind(upload.organisation_id)
            .bind(&upload.file_name)
            .bind(i64::try_from(rows).unwrap_or(i64::MAX))
            .bind(summary)
            .bind(actor.user_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "refuse",
                    entity: "activity_upload",
                    entity_id: id.to_string(),
                    country_code: None,
                    detail: json!({ "plan": plan_id, "organisation": upload.organisation_id, "file": upload.file_name, "rows": rows }),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// The years that have a plan, newest first.
    pub async fn response_plan_years(&self) -> Result<Vec<i32>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_scalar("SELECT year FROM response_plans ORDER BY year DESC").fetch_all(pool).await?)
        })
    }

    /// An organisation's uploads in a plan, newest first.
    pub async fn activity_uploads(&self, plan_id: i64, organisation: i64) -> Result<Vec<ActivityUpload>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT id, organisation_id, file_name, rows, status, error_summary, created_by, created_at \
                 FROM activity_uploads WHERE plan_id = $1 AND organisation_id = $2 ORDER BY id DESC",
            )
            .bind(plan_id)
            .bind(organisation)
            .fetch_all(pool)
            .await?)
        })
    }

    /// One page of report rows.
    pub async fn list_activity_reports(&self, f: &ReportFilter) -> Result<ReportPage> {
        let limit = f.limit.clamp(1, 5_000);
        let offset = f.offset.max(0);
        run!(self, |pool, _h| {
            let mut count = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM activity_reports r WHERE");
            push_report_filter(&mut count, f);
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            let mut qb = sqlx::QueryBuilder::new(format!("{REPORT_COLUMNS} WHERE"));
            push_report_filter(&mut qb, f);
            if f.flagged_first {
                qb.push(" ORDER BY CASE WHEN (r.flag_late OR r.flag_duplicate OR r.flag_outlier) THEN 0 ELSE 1 END,");
            } else {
                qb.push(" ORDER BY");
            }
            qb.push(" r.month DESC, r.id LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
            let items = qb.build_query_as().fetch_all(pool).await?;
            Ok(ReportPage { total, offset, limit, items })
        })
    }

    pub async fn activity_report(&self, id: i64) -> Result<ActivityReport> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{REPORT_COLUMNS} WHERE r.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "activity report" })
        })
    }

    /// Replaces one row's figures (it goes back to `submitted`). Refused once approved.
    #[tracing::instrument(skip_all, fields(id))]
    pub async fn update_activity_report(
        &self,
        actor: &Actor,
        id: i64,
        r: &NewActivityReport,
    ) -> Result<ActivityReport> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let done = sqlx::query(
                "UPDATE activity_reports SET appealing_org_id = $1, implementing_org_id = $2, indicator_code = $3, \
                 sector_code = $4, country_code = $5, admin1_pcode = $6, month = $7, population_type = $8, girls = $9, \
                 boys = $10, women = $11, men = $12, other = $13, total = $14, new_or_recurring = $15, modality = $16, \
                 cash_value_usd = $17, flag_late = $18, flag_duplicate = $19, flag_outlier = $20, status = 'submitted', \
                 updated_at = $21 WHERE id = $22 AND status <> 'approved'",
            )
            .bind(r.appealing_org_id)
            .bind(r.implementing_org_id)
            .bind(&r.indicator_code)
            .bind(&r.sector_code)
            .bind(&r.country_code)
            .bind(&r.admin1_pcode)
            .bind(r.month)
            .bind(&r.population_type)
            .bind(r.girls)
            .bind(r.boys)
            .bind(r.women)
            .bind(r.men)
            .bind(r.other)
            .bind(r.total)
            .bind(&r.new_or_recurring)
            .bind(&r.modality)
            .bind(r.cash_value_usd)
            .bind(r.flag_late)
            .bind(r.flag_duplicate)
            .bind(r.flag_outlier)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::conflict("status", "an approved report can no longer be changed"));
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "update",
                    entity: "activity_report",
                    entity_id: id.to_string(),
                    country_code: Some(&r.country_code),
                    detail: json!(r),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.activity_report(id).await
    }

    /// Deletes one row. Refused once approved.
    #[tracing::instrument(skip_all, fields(id))]
    pub async fn delete_activity_report(&self, actor: &Actor, id: i64) -> Result<()> {
        let row = self.activity_report(id).await?;
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let done = sqlx::query("DELETE FROM activity_reports WHERE id = $1 AND status <> 'approved'")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::conflict("status", "an approved report can no longer be deleted"));
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "delete",
                    entity: "activity_report",
                    entity_id: id.to_string(),
                    country_code: Some(&row.country_code),
                    detail: json!({ "indicator": row.indicator_code, "month": row.month, "total": row.total }),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Sets the status (`approved` or `returned`) and the reviewer's note of many rows at
    /// once, in one transaction; returns how many changed.
    #[tracing::instrument(skip_all, fields(rows = ids.len()))]
    pub async fn review_activity_reports(
        &self,
        actor: &Actor,
        ids: &[i64],
        status: &str,
        note: Option<&str>,
    ) -> Result<u64> {
        if !matches!(status, "approved" | "returned") {
            return Err(StoreError::invalid("action", "is neither approve nor return"));
        }
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let mut changed = 0;
            for chunk in ids.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new("UPDATE activity_reports SET status = ");
                qb.push_bind(status)
                    .push(", reviewer_note = ")
                    .push_bind(note)
                    .push(", reviewed_by = ")
                    .push_bind(actor.user_id)
                    .push(", reviewed_at = ")
                    .push_bind(now)
                    .push(", updated_at = ")
                    .push_bind(now)
                    .push(" WHERE id IN (");
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                changed += qb.build().execute(&mut *tx).await?.rows_affected();
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "review",
                    entity: "activity_reports",
                    entity_id: ids.first().map(ToString::to_string).unwrap_or_default(),
                    country_code: None,
                    detail: json!({ "ids": ids, "status": status, "note": note }),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(changed)
        })
    }

    /// The countries and organisations of the given rows (`id`, country, appealing,
    /// implementing, status), for the caller's access check.
    pub async fn activity_report_owners(&self, ids: &[i64]) -> Result<Vec<(i64, String, i64, i64, String)>> {
        let mut out = Vec::with_capacity(ids.len());
        run!(self, |pool, _h| {
            for chunk in ids.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT id, country_code, appealing_org_id, implementing_org_id, status FROM activity_reports WHERE id IN (",
                );
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                let rows: Vec<(i64, String, i64, i64, String)> = qb.build_query_as().fetch_all(pool).await?;
                out.extend(rows);
            }
        });
        Ok(out)
    }

    /// The duplicate keys of an organisation's rows in a plan (as appealing organisation),
    /// with how many rows share each; `except` leaves one row out (the one being edited).
    pub async fn activity_report_keys(
        &self,
        plan_id: i64,
        organisation: i64,
        except: Option<i64>,
    ) -> Result<HashMap<ReportKey, i64>> {
        run!(self, |pool, _h| {
            let rows: Vec<ReportKey> = sqlx::query_as(
                "SELECT appealing_org_id, implementing_org_id, indicator_code, admin1_pcode, country_code, month, \
                 population_type, new_or_recurring FROM activity_reports WHERE plan_id = $1 AND appealing_org_id = $2 \
                 AND id <> $3",
            )
            .bind(plan_id)
            .bind(organisation)
            .bind(except.unwrap_or(0))
            .fetch_all(pool)
            .await?;
            let mut keys = HashMap::new();
            for k in rows {
                *keys.entry(k).or_insert(0) += 1;
            }
            Ok(keys)
        })
    }

    /// The totals of the organisation's submitted and approved rows, per indicator and month:
    /// what its usual figure is measured on.
    pub async fn organisation_past_figures(&self, plan_id: i64, organisation: i64) -> Result<Vec<PastFigure>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT indicator_code, month, total FROM activity_reports \
                 WHERE plan_id = $1 AND appealing_org_id = $2 AND status IN ('submitted', 'approved')",
            )
            .bind(plan_id)
            .bind(organisation)
            .fetch_all(pool)
            .await?)
        })
    }
}

/// One report row as the consolidation of people reached reads it (no text, no person).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReachFacts {
    pub organisation: i64,
    pub sector: String,
    pub indicator: String,
    pub counts_people: bool,
    pub country: String,
    pub admin1: Option<String>,
    pub month: NaiveDate,
    pub population: String,
    pub new_or_recurring: String,
    pub girls: i64,
    pub boys: i64,
    pub women: i64,
    pub men: i64,
    pub other: i64,
}

impl Store {
    /// The rows of a plan that count towards people reached: submitted and approved ones
    /// (approved only when asked), of `countries` (`None`: every country).
    pub async fn reach_facts(
        &self,
        plan_id: i64,
        countries: Option<&[String]>,
        approved_only: bool,
    ) -> Result<Vec<ReachFacts>> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT r.appealing_org_id AS organisation, r.sector_code AS sector, r.indicator_code AS indicator, \
                 i.counts_people, r.country_code AS country, r.admin1_pcode AS admin1, r.month, \
                 r.population_type AS population, r.new_or_recurring, r.girls, r.boys, r.women, r.men, r.other \
                 FROM activity_reports r JOIN response_indicators i ON i.plan_id = r.plan_id AND i.code = r.indicator_code \
                 WHERE r.plan_id = ",
            );
            qb.push_bind(plan_id);
            qb.push(if approved_only {
                " AND r.status = 'approved'"
            } else {
                " AND r.status IN ('submitted', 'approved')"
            });
            if let Some(countries) = countries {
                qb.push(" AND r.country_code IN (''");
                for c in countries {
                    qb.push(", ").push_bind(c.clone());
                }
                qb.push(")");
            }
            Ok(qb.build_query_as().fetch_all(pool).await?)
        })
    }
}
