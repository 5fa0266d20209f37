//! Countries, admin areas, sites and rounds.

use chrono::Utc;
use serde_json::json;
use sqlx::QueryBuilder;

use crate::model::{
    Actor, AdminArea, AdminAreaInput, AreaShape, Country, CountryInput, ListFilter, Page, Round, RoundInput, Site,
    SiteInput, fold,
};
use crate::{AuditEvent, Result, Store, StoreError, run};

const AREA_COLUMNS: &str = "SELECT a.id, a.country_code, a.pcode, a.level, a.parent_id, p.pcode AS parent_pcode, \
     a.name_en, a.name_es, a.name_pt, (a.geometry IS NOT NULL) AS has_geometry \
     FROM admin_areas a LEFT JOIN admin_areas p ON p.id = a.parent_id";

const SITE_COLUMNS: &str = "SELECT s.id, s.country_code, s.code, s.name, s.kind, s.latitude, s.longitude, \
     s.admin_area_id, a.pcode AS admin_area_pcode, a.name_en AS admin_area_name, s.active \
     FROM sites s LEFT JOIN admin_areas a ON a.id = s.admin_area_id";

const ROUND_COLUMNS: &str = "SELECT id, country_code, name, starts_on, ends_on, status FROM rounds r";

/// What one country holds.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct CountryCounts {
    pub code: String,
    pub admin_areas: i64,
    pub sites: i64,
    pub rounds: i64,
}

/// How many areas an import created and updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

/// Fails with a field error unless the country exists (inside a write transaction).
macro_rules! check_country {
    ($tx:expr, $code:expr) => {{
        let found: Option<String> = sqlx::query_scalar("SELECT code FROM countries WHERE code = $1")
            .bind($code)
            .fetch_optional(&mut *$tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::invalid("country_code", format!("no country has code {}", $code)));
        }
    }};
}

/// Inserts (`None`) or updates (`Some(id)`) one admin area inside a write transaction, after
/// checking its country, the uniqueness of its p-code and its parent. Evaluates to its id.
macro_rules! area_write {
    ($tx:expr, $input:expr, $existing:expr) => {{
        let input: &AdminAreaInput = $input;
        let existing: Option<i64> = $existing;
        check_country!($tx, &input.country_code);
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM admin_areas WHERE pcode = $1")
            .bind(&input.pcode)
            .fetch_optional(&mut *$tx)
            .await?;
        if taken.is_some() && taken != existing {
            return Err(StoreError::conflict("pcode", format!("an area with p-code {} exists already", input.pcode)));
        }
        if let Some(id) = existing {
            // An area never changes country, and keeps its level while it has sub-areas.
            let (country, level): (String, i32) =
                sqlx::query_as("SELECT country_code, level FROM admin_areas WHERE id = $1").bind(id).fetch_one(&mut *$tx).await?;
            if country != input.country_code {
                return Err(StoreError::conflict(
                    "pcode",
                    format!("the area {} belongs to {country}; it cannot be changed as an area of {}", input.pcode, input.country_code),
                ));
            }
            if level != input.level {
                let children: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admin_areas WHERE parent_id = $1")
                    .bind(id)
                    .fetch_one(&mut *$tx)
                    .await?;
                if children > 0 {
                    return Err(StoreError::conflict(
                        "level",
                        format!("{} has {children} sub-areas; its level cannot change", input.pcode),
                    ));
                }
            }
        }
        let parent_id: Option<i64> = match &input.parent_pcode {
            None => None,
            Some(parent) => {
                let row: Option<(i64, String, i32)> =
                    sqlx::query_as("SELECT id, country_code, level FROM admin_areas WHERE pcode = $1")
                        .bind(parent)
                        .fetch_optional(&mut *$tx)
                        .await?;
                match row {
                    None => {
                        return Err(StoreError::invalid("parent_pcode", format!("no admin area has p-code {parent}")));
                    }
                    Some((_, country, _)) if country != input.country_code => {
                        return Err(StoreError::invalid(
                            "parent_pcode",
                            format!("the parent {parent} is in {country}, not in {}", input.country_code),
                        ));
                    }
                    Some((_, _, level)) if level != input.level - 1 => {
                        return Err(StoreError::invalid(
                            "parent_pcode",
                            format!("the parent {parent} is at level {level}; an area of level {} needs a parent of level {}", input.level, input.level - 1),
                        ));
                    }
                    Some((id, _, _)) if Some(id) == existing => {
                        return Err(StoreError::invalid("parent_pcode", "an area cannot be its own parent"));
                    }
                    Some((id, _, _)) => Some(id),
                }
            }
        };
        let now = Utc::now();
        let id = match existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE admin_areas SET pcode = $1, level = $2, parent_id = $3, name_en = $4, name_es = $5, name_pt = $6, \
                     geometry = COALESCE($7, geometry), updated_at = $8 WHERE id = $9",
                )
                .bind(&input.pcode).bind(input.level).bind(parent_id).bind(&input.name_en).bind(&input.name_es)
                .bind(&input.name_pt).bind(&input.geometry).bind(now).bind(id)
                .execute(&mut *$tx)
                .await?;
                id
            }
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO admin_areas (country_code, pcode, level, parent_id, name_en, name_es, name_pt, geometry, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(&input.country_code).bind(&input.pcode).bind(input.level).bind(parent_id).bind(&input.name_en)
                .bind(&input.name_es).bind(&input.name_pt).bind(&input.geometry).bind(now).bind(now)
                .fetch_one(&mut *$tx)
                .await?;
                id
            }
        };
        let search = fold(&format!("{} {} {} {}", input.pcode, input.name_en, input.name_es, input.name_pt));
        sqlx::query("UPDATE admin_areas SET search = $1 WHERE id = $2").bind(search).bind(id).execute(&mut *$tx).await?;
        id
    }};
}

/// Appends the filter conditions shared by every list: country, the caller's scope, free text.
macro_rules! push_common_filters {
    ($qb:expr, $f:expr, $alias:literal, [$($text_col:literal),+]) => {{
        if let Some(country) = &$f.country {
            $qb.push(concat!(" AND ", $alias, ".country_code = ")).push_bind(country.clone());
        }
        if let Some(scope) = &$f.scope {
            if scope.is_empty() {
                $qb.push(" AND 1 = 0");
            } else {
                $qb.push(concat!(" AND ", $alias, ".country_code IN ("));
                let mut list = $qb.separated(", ");
                for c in scope {
                    list.push_bind(c.clone());
                }
                list.push_unseparated(")");
            }
        }
        if let Some(pattern) = $f.pattern() {
            $qb.push(" AND (1 = 0");
            $(
                $qb.push(concat!(" OR ", $text_col, " LIKE ")).push_bind(pattern.clone()).push(" ESCAPE '\\'");
            )+
            $qb.push(")");
        }
    }};
}

impl Store {
    // ---- countries ----

    pub async fn list_countries(&self) -> Result<Vec<Country>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as("SELECT code, iso2, name_en, name_es, name_pt FROM countries ORDER BY code")
                .fetch_all(pool)
                .await?)
        })
    }

    pub async fn country(&self, code: &str) -> Result<Country> {
        run!(self, |pool, _h| {
            sqlx::query_as("SELECT code, iso2, name_en, name_es, name_pt FROM countries WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "country" })
        })
    }

    /// Creates the country, or updates its names when it exists already.
    #[tracing::instrument(skip_all)]
    pub async fn upsert_country(&self, actor: &Actor, input: &CountryInput) -> Result<Country> {
        input.validate()?;
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let exists: Option<String> = sqlx::query_scalar("SELECT code FROM countries WHERE code = $1")
                .bind(&input.code)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() {
                sqlx::query("UPDATE countries SET iso2 = $1, name_en = $2, name_es = $3, name_pt = $4, updated_at = $5 WHERE code = $6")
                    .bind(&input.iso2).bind(&input.name_en).bind(&input.name_es).bind(&input.name_pt).bind(now).bind(&input.code)
                    .execute(&mut *tx)
                    .await?;
            } else {
                sqlx::query("INSERT INTO countries (code, iso2, name_en, name_es, name_pt, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&input.code).bind(&input.iso2).bind(&input.name_en).bind(&input.name_es).bind(&input.name_pt).bind(now).bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: if exists.is_some() { "update" } else { "create" },
                    entity: "country",
                    entity_id: input.code.clone(),
                    country_code: Some(&input.code),
                    detail: json!({ "name_en": input.name_en }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.country(&input.code).await
    }

    /// For every country: how many admin areas, sites and rounds it holds.
    pub async fn country_counts(&self) -> Result<Vec<CountryCounts>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT c.code, \
                 (SELECT COUNT(*) FROM admin_areas a WHERE a.country_code = c.code) AS admin_areas, \
                 (SELECT COUNT(*) FROM sites s WHERE s.country_code = c.code) AS sites, \
                 (SELECT COUNT(*) FROM rounds r WHERE r.country_code = c.code) AS rounds \
                 FROM countries c ORDER BY c.code",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    // ---- admin areas ----

    pub async fn list_admin_areas(&self, f: &ListFilter) -> Result<Page<AdminArea>> {
        run!(self, |pool, _h| {
            let filters = |qb: &mut QueryBuilder<'_, _>| {
                push_common_filters!(qb, f, "a", ["a.search"]);
                if let Some(level) = f.level {
                    qb.push(" AND a.level = ").push_bind(level);
                }
            };
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM admin_areas a WHERE 1 = 1");
            filters(&mut count);
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            let mut qb = QueryBuilder::new(AREA_COLUMNS);
            qb.push(" WHERE 1 = 1");
            filters(&mut qb);
            qb.push(" ORDER BY a.country_code, a.level, a.pcode LIMIT ").push_bind(f.limit());
            qb.push(" OFFSET ").push_bind(f.offset());
            let items = qb.build_query_as().fetch_all(pool).await?;
            Ok(Page { items, total })
        })
    }

    pub async fn admin_area(&self, id: i64) -> Result<AdminArea> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{AREA_COLUMNS} WHERE a.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "admin area" })
        })
    }

    pub async fn admin_area_by_pcode(&self, pcode: &str) -> Result<AdminArea> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{AREA_COLUMNS} WHERE a.pcode = $1"))
                .bind(pcode)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "admin area" })
        })
    }

    /// The boundary of every area of one level in one country (areas without geometry left out).
    pub async fn area_shapes(&self, country: &str, level: i32) -> Result<Vec<AreaShape>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT id, pcode, name_en, name_es, name_pt, geometry FROM admin_areas \
                 WHERE country_code = $1 AND level = $2 AND geometry IS NOT NULL ORDER BY pcode",
            )
            .bind(country)
            .bind(level)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The GeoJSON geometry of one area, if it has one.
    pub async fn area_geometry(&self, id: i64) -> Result<Option<String>> {
        run!(self, |pool, _h| {
            let row: Option<Option<String>> = sqlx::query_scalar("SELECT geometry FROM admin_areas WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.ok_or(StoreError::NotFound { entity: "admin area" })
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_admin_area(&self, actor: &Actor, input: &AdminAreaInput) -> Result<AdminArea> {
        input.validate()?;
        let id = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let id = area_write!(tx, input, None);
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "create",
                    entity: "admin_area",
                    entity_id: input.pcode.clone(),
                    country_code: Some(&input.country_code),
                    detail: json!({ "name_en": input.name_en, "level": input.level, "parent": input.parent_pcode }),
                },
            )
            .await?;
            tx.commit().await?;
            id
        });
        self.admin_area(id).await
    }

    /// Changes an area. A `None` geometry keeps the stored one.
    #[tracing::instrument(skip_all)]
    pub async fn update_admin_area(&self, actor: &Actor, id: i64, input: &AdminAreaInput) -> Result<AdminArea> {
        input.validate()?;
        let before = self.admin_area(id).await?;
        if before.country_code != input.country_code {
            return Err(StoreError::invalid("country_code", "an area cannot move to another country"));
        }
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            area_write!(tx, input, Some(id));
            h::audit(&mut tx, AuditEvent {
                actor,
                action: "update",
                entity: "admin_area",
                entity_id: input.pcode.clone(),
                country_code: Some(&input.country_code),
                detail: json!({ "before": { "pcode": before.pcode, "name_en": before.name_en, "level": before.level, "parent": before.parent_pcode },
                                "after": { "pcode": input.pcode, "name_en": input.name_en, "level": input.level, "parent": input.parent_pcode } }),
            })
            .await?;
            tx.commit().await?;
        });
        self.admin_area(id).await
    }

    #[tracing::instrument(skip_all)]
    /// Deletes an area that nothing uses; returns the id of the audit line, which holds
    /// everything needed to undo the deletion.
    pub async fn delete_admin_area(&self, actor: &Actor, id: i64) -> Result<i64> {
        let area = self.admin_area(id).await?;
        let geometry = self.area_geometry(id).await?;
        let line = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let children: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admin_areas WHERE parent_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let sites: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sites WHERE admin_area_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            if children > 0 || sites > 0 {
                return Err(StoreError::Conflict {
                    field: None,
                    message: format!(
                        "{} is still used by {children} sub-areas and {sites} sites; move or delete them first",
                        area.pcode
                    ),
                });
            }
            sqlx::query("DELETE FROM admin_areas WHERE id = $1").bind(id).execute(&mut *tx).await?;
            let mut detail = serde_json::to_value(&area).unwrap_or_default();
            detail["geometry"] = json!(geometry);
            let line = h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "delete",
                    entity: "admin_area",
                    entity_id: area.pcode.clone(),
                    country_code: Some(&area.country_code),
                    detail,
                },
            )
            .await?;
            tx.commit().await?;
            line
        });
        Ok(line)
    }

    /// Loads many areas in one transaction: all of them or none. Parents may come from the
    /// store or from earlier in the same batch (areas are written level by level).
    /// With `replace`, an area whose p-code exists is updated; otherwise that is a conflict.
    #[tracing::instrument(skip_all, fields(areas = inputs.len()))]
    pub async fn import_admin_areas(
        &self,
        actor: &Actor,
        inputs: &[AdminAreaInput],
        replace: bool,
    ) -> Result<ImportSummary> {
        let mut problems = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            if let Err(StoreError::Invalid(errors)) = input.validate() {
                problems.extend(errors.into_iter().map(|mut e| {
                    e.field = format!("features[{i}].{}", e.field);
                    e
                }));
            }
        }
        if !problems.is_empty() {
            return Err(StoreError::Invalid(problems));
        }
        let mut ordered: Vec<&AdminAreaInput> = inputs.iter().collect();
        ordered.sort_by_key(|a| a.level);
        let mut summary = ImportSummary::default();
        let (mut created, mut updated) = (Vec::new(), Vec::new());
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            for input in &ordered {
                let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM admin_areas WHERE pcode = $1")
                    .bind(&input.pcode)
                    .fetch_optional(&mut *tx)
                    .await?;
                match existing {
                    Some(_) if !replace => {
                        return Err(StoreError::conflict(
                            "pcode",
                            format!(
                                "an area with p-code {} exists already (import again with replace to update it)",
                                input.pcode
                            ),
                        ));
                    }
                    Some(id) => {
                        area_write!(tx, input, Some(id));
                        summary.updated += 1;
                        updated.push(input.pcode.as_str());
                    }
                    None => {
                        area_write!(tx, input, None);
                        summary.created += 1;
                        created.push(input.pcode.as_str());
                    }
                }
            }
            let countries: std::collections::BTreeSet<&str> = inputs.iter().map(|a| a.country_code.as_str()).collect();
            let countries: Vec<&str> = countries.into_iter().collect();
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "import",
                    entity: "admin_area",
                    entity_id: format!("{} areas", inputs.len()),
                    country_code: if countries.len() == 1 { Some(countries[0]) } else { None },
                    detail: json!({ "created": created, "updated": updated, "countries": countries }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(summary)
    }

    // ---- sites ----

    pub async fn list_sites(&self, f: &ListFilter) -> Result<Page<Site>> {
        run!(self, |pool, _h| {
            let filters = |qb: &mut QueryBuilder<'_, _>| {
                push_common_filters!(qb, f, "s", ["s.search", "a.search"]);
                if let Some(kind) = &f.kind {
                    qb.push(" AND s.kind = ").push_bind(kind.clone());
                }
            };
            let mut count = QueryBuilder::new(
                "SELECT COUNT(*) FROM sites s LEFT JOIN admin_areas a ON a.id = s.admin_area_id WHERE 1 = 1",
            );
            filters(&mut count);
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            let mut qb = QueryBuilder::new(SITE_COLUMNS);
            qb.push(" WHERE 1 = 1");
            filters(&mut qb);
            qb.push(" ORDER BY s.country_code, s.code LIMIT ").push_bind(f.limit());
            qb.push(" OFFSET ").push_bind(f.offset());
            let items = qb.build_query_as().fetch_all(pool).await?;
            Ok(Page { items, total })
        })
    }

    pub async fn site(&self, id: i64) -> Result<Site> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{SITE_COLUMNS} WHERE s.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "site" })
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_site(&self, actor: &Actor, input: &SiteInput) -> Result<Site> {
        self.write_site(actor, None, input).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn update_site(&self, actor: &Actor, id: i64, input: &SiteInput) -> Result<Site> {
        let before = self.site(id).await?;
        if before.country_code != input.country_code {
            return Err(StoreError::invalid("country_code", "a site cannot move to another country"));
        }
        self.write_site(actor, Some(id), input).await
    }

    async fn write_site(&self, actor: &Actor, id: Option<i64>, input: &SiteInput) -> Result<Site> {
        input.validate()?;
        let now = Utc::now();
        let updating = id.is_some();
        let id = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            check_country!(tx, &input.country_code);
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM sites WHERE code = $1")
                .bind(&input.code)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() && taken != id {
                return Err(StoreError::conflict("code", format!("a site with code {} exists already", input.code)));
            }
            let area_id: Option<i64> = match &input.admin_area_pcode {
                None => None,
                Some(pcode) => {
                    let area: Option<(i64, String)> =
                        sqlx::query_as("SELECT id, country_code FROM admin_areas WHERE pcode = $1")
                            .bind(pcode)
                            .fetch_optional(&mut *tx)
                            .await?;
                    match area {
                        None => {
                            return Err(StoreError::invalid(
                                "admin_area_pcode",
                                format!("no admin area has p-code {pcode}"),
                            ));
                        }
                        Some((_, c)) if c != input.country_code => {
                            return Err(StoreError::invalid(
                                "admin_area_pcode",
                                format!("{pcode} is in {c}, not in {}", input.country_code),
                            ));
                        }
                        Some((area_id, _)) => Some(area_id),
                    }
                }
            };
            let id: i64 = if let Some(id) = id {
                sqlx::query("UPDATE sites SET code = $1, name = $2, kind = $3, latitude = $4, longitude = $5, admin_area_id = $6, active = $7, updated_at = $8 WHERE id = $9")
                    .bind(&input.code).bind(&input.name).bind(input.kind.as_str()).bind(input.latitude).bind(input.longitude)
                    .bind(area_id).bind(input.active).bind(now).bind(id)
                    .execute(&mut *tx).await?;
                id
            } else {
                sqlx::query_scalar("INSERT INTO sites (country_code, code, name, kind, latitude, longitude, admin_area_id, active, created_at, updated_at) \
                                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
                    .bind(&input.country_code).bind(&input.code).bind(&input.name).bind(input.kind.as_str()).bind(input.latitude)
                    .bind(input.longitude).bind(area_id).bind(input.active).bind(now).bind(now)
                    .fetch_one(&mut *tx).await?
            };
            sqlx::query("UPDATE sites SET search = $1 WHERE id = $2")
                .bind(fold(&format!("{} {}", input.code, input.name)))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            h::audit(&mut tx, AuditEvent {
                actor,
                action: if updating { "update" } else { "create" },
                entity: "site",
                entity_id: input.code.clone(),
                country_code: Some(&input.country_code),
                detail: json!({ "name": input.name, "kind": input.kind, "latitude": input.latitude, "longitude": input.longitude, "admin_area": input.admin_area_pcode, "active": input.active }),
            })
            .await?;
            tx.commit().await?;
            id
        });
        self.site(id).await
    }

    #[tracing::instrument(skip_all)]
    /// Deletes the site; returns the id of the audit line, which holds the whole record so
    /// that the deletion can be undone.
    pub async fn delete_site(&self, actor: &Actor, id: i64) -> Result<i64> {
        let site = self.site(id).await?;
        let line = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            sqlx::query("DELETE FROM sites WHERE id = $1").bind(id).execute(&mut *tx).await?;
            let line = h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "delete",
                    entity: "site",
                    entity_id: site.code.clone(),
                    country_code: Some(&site.country_code),
                    detail: serde_json::to_value(&site).unwrap_or_default(),
                },
            )
            .await?;
            tx.commit().await?;
            line
        });
        Ok(line)
    }

    // ---- rounds ----

    pub async fn list_rounds(&self, f: &ListFilter) -> Result<Page<Round>> {
        run!(self, |pool, _h| {
            let filters = |qb: &mut QueryBuilder<'_, _>| {
                push_common_filters!(qb, f, "r", ["r.search"]);
                if let Some(kind) = &f.kind {
                    qb.push(" AND r.status = ").push_bind(kind.clone());
                }
            };
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM rounds r WHERE 1 = 1");
            filters(&mut count);
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            let mut qb = QueryBuilder::new(ROUND_COLUMNS);
            qb.push(" WHERE 1 = 1");
            filters(&mut qb);
            qb.push(" ORDER BY r.country_code, r.starts_on DESC, r.name LIMIT ").push_bind(f.limit());
            qb.push(" OFFSET ").push_bind(f.offset());
            let items = qb.build_query_as().fetch_all(pool).await?;
            Ok(Page { items, total })
        })
    }

    pub async fn round(&self, id: i64) -> Result<Round> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{ROUND_COLUMNS} WHERE r.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "round" })
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_round(&self, actor: &Actor, input: &RoundInput) -> Result<Round> {
        self.write_round(actor, None, input).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn update_round(&self, actor: &Actor, id: i64, input: &RoundInput) -> Result<Round> {
        let before = self.round(id).await?;
        if before.country_code != input.country_code {
            return Err(StoreError::invalid("country_code", "a round cannot move to another country"));
        }
        self.write_round(actor, Some(id), input).await
    }

    async fn write_round(&self, actor: &Actor, id: Option<i64>, input: &RoundInput) -> Result<Round> {
        input.validate()?;
        let now = Utc::now();
        let name = input.name.trim();
        let id = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            check_country!(tx, &input.country_code);
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM rounds WHERE country_code = $1 AND name = $2")
                .bind(&input.country_code)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() && taken != id {
                return Err(StoreError::conflict(
                    "name",
                    format!("{} already has a round named {name}", input.country_code),
                ));
            }
            let new_id: i64 = if let Some(id) = id {
                sqlx::query("UPDATE rounds SET name = $1, starts_on = $2, ends_on = $3, status = $4, updated_at = $5 WHERE id = $6")
                    .bind(name).bind(input.starts_on).bind(input.ends_on).bind(input.status.as_str()).bind(now).bind(id)
                    .execute(&mut *tx).await?;
                id
            } else {
                sqlx::query_scalar(
                    "INSERT INTO rounds (country_code, name, starts_on, ends_on, status, created_at, updated_at) \
                                    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&input.country_code)
                .bind(name)
                .bind(input.starts_on)
                .bind(input.ends_on)
                .bind(input.status.as_str())
                .bind(now)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
            };
            sqlx::query("UPDATE rounds SET search = $1 WHERE id = $2")
                .bind(fold(name))
                .bind(new_id)
                .execute(&mut *tx)
                .await?;
            h::audit(&mut tx, AuditEvent {
                actor,
                action: if id.is_some() { "update" } else { "create" },
                entity: "round",
                entity_id: new_id.to_string(),
                country_code: Some(&input.country_code),
                detail: json!({ "name": name, "starts_on": input.starts_on, "ends_on": input.ends_on, "status": input.status }),
            })
            .await?;
            tx.commit().await?;
            new_id
        });
        self.round(id).await
    }

    #[tracing::instrument(skip_all)]
    /// Deletes the round; returns the id of the audit line, which holds the whole record so
    /// that the deletion can be undone.
    pub async fn delete_round(&self, actor: &Actor, id: i64) -> Result<i64> {
        let round = self.round(id).await?;
        let line = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            sqlx::query("DELETE FROM rounds WHERE id = $1").bind(id).execute(&mut *tx).await?;
            let line = h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "delete",
                    entity: "round",
                    entity_id: id.to_string(),
                    country_code: Some(&round.country_code),
                    detail: serde_json::to_value(&round).unwrap_or_default(),
                },
            )
            .await?;
            tx.commit().await?;
            line
        });
        Ok(line)
    }
}
