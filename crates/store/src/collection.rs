//! Collection: forms and their versions, and the submissions every channel (OpenRosa,
//! web forms, bulk import) lands in.
//!
//! Submissions arrive in batches ([`Store::ingest`]): one transaction, one audit line, one
//! commit (one fsync) for everything that arrived within a few milliseconds. That is how
//! the server acknowledges thousands per second while acknowledging only what is committed.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::analytics::{Contributor, Deltas, Facts, contribute_row, read_facts, write_deltas};
use crate::model::{Actor, Page};
use crate::{AuditEvent, Result, Store, StoreError, run};

/// Runs `$body` (which changes submission `$id`) and writes what the change does to the
/// aggregates: what the submission counted for before is taken away, what it counts for
/// after is added.
macro_rules! recounted {
    ($tx:ident, $id:expr, $contributor:expr, $deltas:ident, $body:block) => {{
        let before = read_facts!($tx, $id);
        $body
        let after = read_facts!($tx, $id);
        if let Some(row) = &before {
            contribute_row($contributor, row, -1, &mut $deltas);
        }
        if let Some(row) = &after {
            contribute_row($contributor, row, 1, &mut $deltas);
        }
    }};
}

macro_rules! insert_attachment {
    ($tx:ident, $id:expr, $a:expr) => {{
        use sha2::Digest as _;
        sqlx::query(
            "INSERT INTO attachments (submission_id, name, content_type, size, sha256, content) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($id)
        .bind(&$a.name)
        .bind(&$a.content_type)
        .bind($a.content.len() as i64)
        .bind(hex::encode(sha2::Sha256::digest(&$a.content)))
        .bind(&$a.content)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Replaces a form's links in `$table` (countries, sites or rounds) when new ones are given.
macro_rules! replace_links {
    ($tx:ident, $table:literal, $column:literal, $id:expr, $values:expr) => {{
        if let Some(values) = $values {
            sqlx::query(concat!("DELETE FROM ", $table, " WHERE form_id = $1")).bind($id).execute(&mut *$tx).await?;
            for value in values {
                sqlx::query(concat!("INSERT INTO ", $table, " (form_id, ", $column, ") VALUES ($1, $2)"))
                    .bind($id)
                    .bind(value)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
    }};
}

/// Copies a submission's current version into `submission_versions`.
macro_rules! keep_version {
    ($tx:ident, $id:expr, $by:expr, $reason:expr, $now:expr) => {{
        sqlx::query(
            "INSERT INTO submission_versions (submission_id, instance_id, xml, xml_sha256, data, replaced_by, reason, replaced_at) \
             SELECT id, instance_id, xml, xml_sha256, data, $2, $3, $4 FROM submissions WHERE id = $1",
        )
        .bind($id)
        .bind($by)
        .bind($reason)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}

macro_rules! push_submission_filter {
    ($qb:ident, $f:ident) => {{
        if $f.deleted.unwrap_or(false) {
            $qb.push(" AND s.deleted_at IS NOT NULL");
        } else {
            $qb.push(" AND s.deleted_at IS NULL");
        }
        if let Some(scope) = &$f.scope {
            $qb.push(" AND s.country_code IN (");
            let mut sep = $qb.separated(", ");
            sep.push_bind("");
            for c in scope {
                sep.push_bind(c.clone());
            }
            $qb.push(")");
        }
        if let Some(c) = $f.country.as_ref().filter(|c| !c.is_empty()) {
            $qb.push(" AND s.country_code = ").push_bind(c.clone());
        }
        if let Some(site) = $f.site_id {
            $qb.push(" AND s.site_id = ").push_bind(site);
        }
        if let Some(round) = $f.round_id {
            $qb.push(" AND s.round_id = ").push_bind(round);
        }
        if let Some(who) = $f.submitter.as_ref().filter(|w| !w.is_empty()) {
            $qb.push(" AND s.submitter = ").push_bind(who.clone());
        }
        if let Some(status) = $f.status.as_ref().filter(|s| !s.is_empty()) {
            $qb.push(" AND s.status = ").push_bind(status.clone());
        }
        match $f.errors {
            Some(true) => {
                $qb.push(" AND s.error_count > 0");
            }
            Some(false) => {
                $qb.push(" AND s.error_count = 0");
            }
            None => {}
        }
        if let Some(from) = $f.from {
            $qb.push(" AND s.collected_on >= ").push_bind(from);
        }
        if let Some(to) = $f.to {
            $qb.push(" AND s.collected_on <= ").push_bind(to);
        }
        if let Some(q) = $f.q.as_ref().map(|q| q.trim()).filter(|q| !q.is_empty()) {
            let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            $qb.push(" AND s.instance_id LIKE ").push_bind(format!("%{escaped}%")).push(" ESCAPE '\\'");
        }
    }};
}
pub(crate) use push_submission_filter;

/// A form and its current version.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct FormRecord {
    pub id: i64,
    /// The XForm id (`form_id` in the settings sheet): what devices know the form by.
    pub xml_form_id: String,
    pub title: String,
    /// Whether submissions are accepted.
    pub open: bool,
    /// Whether anyone may submit without signing in (captive-portal forms).
    pub public: bool,
    /// Whether answers that break a constraint or leave a required question empty are kept
    /// (listed as validation errors for review) instead of refused.
    pub accept_with_errors: bool,
    pub current_version_id: Option<i64>,
    pub version: Option<String>,
    /// `md5:…` of the current XForm, as devices compare it.
    pub md5: Option<String>,
    pub submissions: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub countries: Vec<String>,
    #[sqlx(skip)]
    pub site_ids: Vec<i64>,
    #[sqlx(skip)]
    pub round_ids: Vec<i64>,
}

/// One published version of a form (without its files).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct FormVersion {
    pub id: i64,
    pub form_id: i64,
    pub version: String,
    pub file_name: String,
    pub md5: String,
    /// What changed since the version before, in words.
    pub changes: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A version to publish.
#[derive(Debug, Clone)]
pub struct NewFormVersion {
    pub xml_form_id: String,
    pub title: String,
    pub version: String,
    pub file_name: String,
    pub xlsform: Vec<u8>,
    pub xform: String,
    pub md5: String,
    pub changes: String,
    /// Countries to attach a new form to (a new version keeps the form's countries).
    pub countries: Vec<String>,
}

/// What can be changed on a form without publishing a version.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct FormSettings {
    pub title: Option<String>,
    pub open: Option<bool>,
    pub public: Option<bool>,
    pub accept_with_errors: Option<bool>,
    pub countries: Option<Vec<String>>,
    pub site_ids: Option<Vec<i64>>,
    pub round_ids: Option<Vec<i64>>,
}

/// Where a submission came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    OpenRosa,
    Web,
    Import,
    Portal,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::OpenRosa => "openrosa",
            Channel::Web => "web",
            Channel::Import => "import",
            Channel::Portal => "portal",
        }
    }
}

/// A file that came with a submission.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A checked submission, ready to store.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub form_id: i64,
    pub form_version_id: i64,
    pub instance_id: String,
    pub deprecated_id: Option<String>,
    pub country_code: Option<String>,
    pub site_id: Option<i64>,
    pub submitted_by: Option<i64>,
    pub submitter: String,
    pub channel: Channel,
    pub xml: String,
    pub xml_sha256: String,
    pub data: serde_json::Value,
    /// Validation problems kept with the submission (forms that accept them).
    pub errors: serde_json::Value,
    pub error_count: i64,
    /// `false` for the parts of a split OpenRosa submission before the last.
    pub complete: bool,
    pub collected_on: Option<NaiveDate>,
    pub attachments: Vec<NewAttachment>,
}

/// What became of one submission of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Stored (or, for a later part of a split submission, completed): 201.
    Created { id: i64 },
    /// The same instance with the same content was stored already: 202.
    Duplicate { id: i64 },
    /// The instance id is taken by different content: 409.
    Conflict { message: String },
    /// `deprecatedID` names nothing stored, or another form: 400.
    Refused { field: String, message: String },
}

/// Review states.
pub const STATUSES: &[&str] = &["received", "approved", "rejected", "flagged"];

/// A row of the review table.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct SubmissionRow {
    pub id: i64,
    pub form_id: i64,
    pub version: String,
    pub instance_id: String,
    pub country_code: Option<String>,
    pub site_id: Option<i64>,
    pub site_code: Option<String>,
    pub round_id: Option<i64>,
    pub round_name: Option<String>,
    pub submitter: String,
    pub channel: String,
    pub status: String,
    pub complete: bool,
    pub error_count: i64,
    pub edits: i64,
    pub collected_on: Option<NaiveDate>,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// The answers (JSON text; the API returns it parsed).
    #[serde(skip)]
    pub data: String,
    #[serde(skip)]
    pub errors: String,
}

impl SubmissionRow {
    pub fn answers(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null)
    }

    pub fn error_list(&self) -> serde_json::Value {
        serde_json::from_str(&self.errors).unwrap_or_else(|_| json!([]))
    }
}

/// An earlier version of a submission.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct SubmissionVersion {
    pub id: i64,
    pub instance_id: String,
    pub replaced_by: String,
    pub reason: String,
    pub replaced_at: DateTime<Utc>,
    #[serde(skip)]
    pub data: String,
}

/// See [`Store::submission_owner`].
#[derive(Debug, Clone)]
pub struct SubmissionOwner {
    pub id: i64,
    pub form_id: i64,
    pub country: String,
    pub submitted_by: Option<i64>,
    pub status: String,
}

/// An attachment's description.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AttachmentInfo {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// A submission with everything about it.
#[derive(Debug, Clone)]
pub struct SubmissionDetail {
    pub row: SubmissionRow,
    pub xml: String,
    pub versions: Vec<SubmissionVersion>,
    pub attachments: Vec<AttachmentInfo>,
}

/// Filter for the review table.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct SubmissionFilter {
    pub country: Option<String>,
    pub site_id: Option<i64>,
    pub round_id: Option<i64>,
    /// Username of whoever submitted.
    pub submitter: Option<String>,
    /// `received`, `approved`, `rejected` or `flagged`.
    pub status: Option<String>,
    /// Only submissions with (`true`) or without (`false`) validation errors.
    pub errors: Option<bool>,
    /// Collected on or after this day.
    pub from: Option<NaiveDate>,
    /// Collected on or before this day.
    pub to: Option<NaiveDate>,
    /// The deleted ones (the bin) instead of the others.
    pub deleted: Option<bool>,
    /// Part of an instance id.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    #[serde(skip)]
    #[param(ignore)]
    #[schema(ignore)]
    pub scope: Option<Vec<String>>,
}

const FORM_COLUMNS: &str = "SELECT f.id, f.xml_form_id, f.title, f.open, f.public, f.accept_with_errors, \
    f.current_version_id, v.version, v.md5, \
    (SELECT COUNT(*) FROM submissions s WHERE s.form_id = f.id AND s.deleted_at IS NULL) AS submissions, \
    f.created_at, f.updated_at \
    FROM forms f LEFT JOIN form_versions v ON v.id = f.current_version_id";

pub(crate) const ROW_COLUMNS: &str = "SELECT s.id, s.form_id, v.version, s.instance_id, s.country_code, s.site_id, \
    si.code AS site_code, s.round_id, r.name AS round_name, s.submitter, s.channel, s.status, s.complete, \
    s.error_count, s.edits, s.collected_on, s.received_at, s.updated_at, s.deleted_at, s.data, s.errors \
    FROM submissions s JOIN form_versions v ON v.id = s.form_version_id \
    LEFT JOIN sites si ON si.id = s.site_id LEFT JOIN rounds r ON r.id = s.round_id";

impl Store {
    // ---- forms ----

    /// Forms attached to at least one of `scope`'s countries (`None`: every form).
    pub async fn list_forms(&self, scope: Option<&[String]>) -> Result<Vec<FormRecord>> {
        let mut forms: Vec<FormRecord> = run!(self, |pool, _h| {
            sqlx::query_as(&format!("{FORM_COLUMNS} ORDER BY f.title, f.id")).fetch_all(pool).await?
        });
        self.fill_form_links(&mut forms).await?;
        if let Some(scope) = scope {
            forms.retain(|f| f.countries.iter().any(|c| scope.contains(c)));
        }
        Ok(forms)
    }

    pub async fn form(&self, id: i64) -> Result<FormRecord> {
        let form: Option<FormRecord> = run!(self, |pool, _h| {
            sqlx::query_as(&format!("{FORM_COLUMNS} WHERE f.id = $1")).bind(id).fetch_optional(pool).await?
        });
        let mut forms: Vec<FormRecord> = form.into_iter().collect();
        self.fill_form_links(&mut forms).await?;
        forms.pop().ok_or(StoreError::NotFound { entity: "form" })
    }

    /// The form devices know as `xml_form_id`.
    pub async fn form_by_xml_id(&self, xml_form_id: &str) -> Result<Option<FormRecord>> {
        let id: Option<i64> = run!(self, |pool, _h| {
            sqlx::query_scalar("SELECT id FROM forms WHERE xml_form_id = $1")
                .bind(xml_form_id)
                .fetch_optional(pool)
                .await?
        });
        match id {
            Some(id) => Ok(Some(self.form(id).await?)),
            None => Ok(None),
        }
    }

    async fn fill_form_links(&self, forms: &mut [FormRecord]) -> Result<()> {
        if forms.is_empty() {
            return Ok(());
        }
        type Links = (Vec<(i64, String)>, Vec<(i64, i64)>, Vec<(i64, i64)>);
        let (countries, sites, rounds): Links = run!(self, |pool, _h| {
            (
                sqlx::query_as("SELECT form_id, country_code FROM form_countries ORDER BY country_code")
                    .fetch_all(pool)
                    .await?,
                sqlx::query_as("SELECT form_id, site_id FROM form_sites ORDER BY site_id").fetch_all(pool).await?,
                sqlx::query_as("SELECT form_id, round_id FROM form_rounds ORDER BY round_id").fetch_all(pool).await?,
            )
        });
        let index: HashMap<i64, usize> = forms.iter().enumerate().map(|(i, f)| (f.id, i)).collect();
        for (form, country) in countries {
            if let Some(&i) = index.get(&form) {
                forms[i].countries.push(country);
            }
        }
        for (form, site) in sites {
            if let Some(&i) = index.get(&form) {
                forms[i].site_ids.push(site);
            }
        }
        for (form, round) in rounds {
            if let Some(&i) = index.get(&form) {
                forms[i].round_ids.push(round);
            }
        }
        Ok(())
    }

    /// Publishes a version: creates the form when its id is new, and makes the version
    /// current. A version string already used by the form is a conflict.
    #[tracing::instrument(skip_all, fields(form = %new.xml_form_id, version = %new.version))]
    pub async fn publish_form_version(&self, actor: &Actor, new: &NewFormVersion) -> Result<(FormRecord, FormVersion)> {
        let now = Utc::now();
        let (form_id, version_id) = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM forms WHERE xml_form_id = $1")
                .bind(&new.xml_form_id)
                .fetch_optional(&mut *tx)
                .await?;
            let form_id = if let Some(id) = existing {
                let taken: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM form_versions WHERE form_id = $1 AND version = $2")
                        .bind(id)
                        .bind(&new.version)
                        .fetch_optional(&mut *tx)
                        .await?;
                if taken.is_some() {
                    return Err(StoreError::conflict(
                        "version",
                        format!(
                            "form {} already has a version {}: raise `version` in the settings sheet to publish a new one",
                            new.xml_form_id, new.version
                        ),
                    ));
                }
                sqlx::query("UPDATE forms SET title = $1, updated_at = $2 WHERE id = $3")
                    .bind(&new.title)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            } else {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO forms (xml_form_id, title, search, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&new.xml_form_id)
                .bind(&new.title)
                .bind(crate::model::fold(&format!("{} {}", new.xml_form_id, new.title)))
                .bind(now)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                for country in &new.countries {
                    sqlx::query("INSERT INTO form_countries (form_id, country_code) VALUES ($1, $2)")
                        .bind(id)
                        .bind(country)
                        .execute(&mut *tx)
                        .await?;
                }
                id
            };
            let version_id: i64 = sqlx::query_scalar(
                "INSERT INTO form_versions (form_id, version, file_name, xlsform, xform, md5, changes, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(form_id)
            .bind(&new.version)
            .bind(&new.file_name)
            .bind(&new.xlsform)
            .bind(&new.xform)
            .bind(&new.md5)
            .bind(&new.changes)
            .bind(&actor.name)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE forms SET current_version_id = $1 WHERE id = $2")
                .bind(version_id)
                .bind(form_id)
                .execute(&mut *tx)
                .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: if existing.is_some() { "publish" } else { "create" },
                    entity: "form",
                    entity_id: form_id.to_string(),
                    country_code: None,
                    detail: json!({
                        "xml_form_id": new.xml_form_id, "version": new.version, "file": new.file_name,
                        "md5": new.md5, "changes": new.changes,
                    }),
                },
            )
            .await?;
            tx.commit().await?;
            (form_id, version_id)
        });
        let form = self.form(form_id).await?;
        let version = self.form_versions(form_id).await?.into_iter().find(|v| v.id == version_id);
        Ok((form, version.ok_or(StoreError::NotFound { entity: "form version" })?))
    }

    /// A form's versions, newest first.
    pub async fn form_versions(&self, form_id: i64) -> Result<Vec<FormVersion>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT id, form_id, version, file_name, md5, changes, created_by, created_at FROM form_versions \
                 WHERE form_id = $1 ORDER BY id DESC",
            )
            .bind(form_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// One version's files: the XLSForm as uploaded and the XForm.
    pub async fn form_version_files(&self, version_id: i64) -> Result<(FormVersion, Vec<u8>, String)> {
        run!(self, |pool, _h| {
            type Row = (i64, i64, String, String, String, String, String, DateTime<Utc>, Vec<u8>, String);
            let row: Option<Row> = sqlx::query_as(
                "SELECT id, form_id, version, file_name, md5, changes, created_by, created_at, xlsform, xform \
                     FROM form_versions WHERE id = $1",
            )
            .bind(version_id)
            .fetch_optional(pool)
            .await?;
            let (id, form_id, version, file_name, md5, changes, created_by, created_at, xlsform, xform) =
                row.ok_or(StoreError::NotFound { entity: "form version" })?;
            Ok((FormVersion { id, form_id, version, file_name, md5, changes, created_by, created_at }, xlsform, xform))
        })
    }

    /// Every version's XLSForm, for building validators at start-up: `(version id, bytes, file name)`.
    pub async fn form_version_sources(&self) -> Result<Vec<(i64, Vec<u8>, String)>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as("SELECT id, xlsform, file_name FROM form_versions ORDER BY id").fetch_all(pool).await?)
        })
    }

    /// Changes a form's title, open state, public flag and attachments.
    pub async fn update_form(&self, actor: &Actor, id: i64, settings: &FormSettings) -> Result<FormRecord> {
        let before = self.form(id).await?;
        let mut p = crate::error::Problems::default();
        if let Some(title) = &settings.title {
            p.text(title, "title", 300);
        }
        p.into_result()?;
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            sqlx::query(
                "UPDATE forms SET title = $1, open = $2, public = $3, accept_with_errors = $4, updated_at = $5 WHERE id = $6",
            )
            .bind(settings.title.as_deref().map_or(before.title.as_str(), str::trim))
            .bind(settings.open.unwrap_or(before.open))
            .bind(settings.public.unwrap_or(before.public))
            .bind(settings.accept_with_errors.unwrap_or(before.accept_with_errors))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            replace_links!(tx, "form_countries", "country_code", id, &settings.countries);
            replace_links!(tx, "form_sites", "site_id", id, &settings.site_ids);
            replace_links!(tx, "form_rounds", "round_id", id, &settings.round_ids);
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "update",
                    entity: "form",
                    entity_id: id.to_string(),
                    country_code: None,
                    detail: json!({
                        "before": { "title": before.title, "open": before.open, "public": before.public,
                            "accept_with_errors": before.accept_with_errors, "countries": before.countries,
                            "site_ids": before.site_ids, "round_ids": before.round_ids },
                        "after": {
                            "title": settings.title, "open": settings.open, "public": settings.public,
                            "accept_with_errors": settings.accept_with_errors, "countries": settings.countries,
                            "site_ids": settings.site_ids, "round_ids": settings.round_ids },
                    }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.form(id).await
    }

    /// `(code, id, country)` of every site, for linking submissions to their point.
    pub async fn site_index(&self) -> Result<Vec<(String, i64, String)>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as("SELECT code, id, country_code FROM sites ORDER BY code").fetch_all(pool).await?)
        })
    }

    // ---- HTTP Digest ----

    /// Stores `MD5(username:realm:password)` for HTTP Digest sign-in.
    pub async fn set_digest_ha1(&self, user_id: i64, ha1: Option<&str>) -> Result<()> {
        run!(self, |pool, _h| {
            sqlx::query("UPDATE users SET digest_ha1 = $1 WHERE id = $2").bind(ha1).bind(user_id).execute(pool).await?;
        });
        Ok(())
    }

    /// The Digest secret of an active user, with the failed sign-ins in a row and until when
    /// the account is locked.
    pub async fn digest_ha1(&self, username: &str) -> Result<Option<(i64, String, i32, Option<DateTime<Utc>>)>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT id, digest_ha1, failed_logins, locked_until FROM users \
                 WHERE username = $1 AND active = TRUE AND digest_ha1 IS NOT NULL",
            )
            .bind(username)
            .fetch_optional(pool)
            .await?)
        })
    }

    // ---- submissions ----

    /// Stores a batch of checked submissions in one transaction with one audit line, and
    /// says what became of each. Should the batch fail as a whole, each submission is tried
    /// again in its own transaction, so one bad submission cannot sink the others.
    #[tracing::instrument(skip_all, fields(count = batch.len()))]
    pub async fn ingest(
        &self,
        actor: &Actor,
        batch: &[NewSubmission],
        contributor: &dyn Contributor,
    ) -> Vec<Result<Ingested>> {
        match self.ingest_together(actor, batch, false, contributor).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(e) if batch.len() == 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(error = %e, "batch failed; storing its submissions one by one");
                let mut out = Vec::with_capacity(batch.len());
                for one in batch {
                    out.push(
                        self.ingest_together(actor, std::slice::from_ref(one), false, contributor)
                            .await
                            .map(|mut o| o.remove(0)),
                    );
                }
                out
            }
        }
    }

    /// Stores a batch all or nothing (bulk import): one transaction that is rolled back,
    /// storing nothing, unless every submission is new.
    pub async fn ingest_atomic(
        &self,
        actor: &Actor,
        batch: &[NewSubmission],
        contributor: &dyn Contributor,
    ) -> Result<Vec<Ingested>> {
        self.ingest_together(actor, batch, true, contributor).await
    }

    async fn ingest_together(
        &self,
        actor: &Actor,
        batch: &[NewSubmission],
        atomic: bool,
        contributor: &dyn Contributor,
    ) -> Result<Vec<Ingested>> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let mut deltas = Deltas::default();
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut stored = Vec::new();
            let mut raised = 0;
            // What of the batch is stored already, in one query per few hundred ids.
            let mut known: HashMap<String, (i64, String, bool)> = HashMap::new();
            for chunk in batch.chunks(500) {
                for table in [
                    "SELECT instance_id, id, xml_sha256, complete FROM submissions WHERE instance_id IN (",
                    "SELECT instance_id, submission_id, xml_sha256, TRUE FROM submission_versions WHERE instance_id IN (",
                ] {
                    let mut qb = sqlx::QueryBuilder::new(table);
                    let mut ids = qb.separated(", ");
                    for s in chunk {
                        ids.push_bind(&s.instance_id);
                    }
                    qb.push(")");
                    let rows: Vec<(String, i64, String, bool)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    for (instance, id, sha, complete) in rows {
                        known.insert(instance, (id, sha, complete));
                    }
                }
            }
            for s in batch {
                let existing = known.get(&s.instance_id).cloned();
                if let Some((id, sha, complete)) = existing {
                    if sha != s.xml_sha256 {
                        outcomes.push(Ingested::Conflict {
                            message: format!(
                                "instance {} was submitted before with different content; an edit needs a new instanceID and deprecatedID",
                                s.instance_id
                            ),
                        });
                        continue;
                    }
                    // The same document again: a later part of a split submission adds
                    // its attachments and completes it; otherwise it is a duplicate.
                    let mut added = 0;
                    // Only a split submission still waiting for its parts takes files this way.
                    for a in s.attachments.iter().filter(|_| !complete) {
                        let have: Option<i64> =
                            sqlx::query_scalar("SELECT id FROM attachments WHERE submission_id = $1 AND name = $2")
                                .bind(id)
                                .bind(&a.name)
                                .fetch_optional(&mut *tx)
                                .await?;
                        if have.is_none() {
                            insert_attachment!(tx, id, a);
                            added += 1;
                        }
                    }
                    if !complete && s.complete {
                        sqlx::query("UPDATE submissions SET complete = TRUE, updated_at = $1 WHERE id = $2")
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        known.insert(s.instance_id.clone(), (id, sha.clone(), true));
                    }
                    if added > 0 || (!complete && s.complete) {
                        stored.push(json!({ "id": id, "instance": s.instance_id, "by": s.submitter, "part": true }));
                        outcomes.push(Ingested::Created { id });
                    } else {
                        outcomes.push(Ingested::Duplicate { id });
                    }
                    continue;
                }
                if let Some(old) = &s.deprecated_id {
                    let target: Option<(i64, i64, String)> = sqlx::query_as(
                        "SELECT id, form_id, instance_id FROM submissions WHERE instance_id = $1 AND deleted_at IS NULL",
                    )
                    .bind(old)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some((id, _, _)) = target.filter(|t| t.1 == s.form_id) else {
                        outcomes.push(Ingested::Refused {
                            field: "deprecatedID".into(),
                            message: format!("deprecatedID {old} names no current submission of this form"),
                        });
                        continue;
                    };
                    recounted!(tx, id, contributor, deltas, {
                        keep_version!(tx, id, &s.submitter, "edited on the device", now);
                        sqlx::query(
                        "UPDATE submissions SET instance_id = $1, form_version_id = $2, xml = $3, xml_sha256 = $4, data = $5, \
                         errors = $6, error_count = $7, complete = $8, edits = edits + 1, updated_at = $9, \
                         country_code = COALESCE($10, country_code), site_id = COALESCE($11, site_id), \
                         status = 'received' WHERE id = $12",
                    )
                    .bind(&s.instance_id)
                    .bind(s.form_version_id)
                    .bind(&s.xml)
                    .bind(&s.xml_sha256)
                    .bind(s.data.to_string())
                    .bind(s.errors.to_string())
                    .bind(s.error_count)
                    .bind(s.complete)
                    .bind(now)
                    .bind(&s.country_code)
                    .bind(s.site_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    });
                    for a in &s.attachments {
                        sqlx::query("DELETE FROM attachments WHERE submission_id = $1 AND name = $2")
                            .bind(id)
                            .bind(&a.name)
                            .execute(&mut *tx)
                            .await?;
                        insert_attachment!(tx, id, a);
                    }
                    if s.complete && contributor.flags(s.form_id) {
                        let facts = Facts {
                            form_id: s.form_id,
                            data: &s.data,
                            site_id: s.site_id,
                            country: s.country_code.as_deref(),
                            round_id: None,
                            collected_on: s.collected_on,
                        };
                        raised += h::raise_alerts(&mut tx, id, &contributor.alerts(&facts), now).await?;
                    }
                    known.insert(s.instance_id.clone(), (id, s.xml_sha256.clone(), s.complete));
                    stored.push(json!({ "id": id, "instance": s.instance_id, "by": s.submitter, "edits": old }));
                    outcomes.push(Ingested::Created { id });
                    continue;
                }
                let (id, round_id): (i64, Option<i64>) = sqlx::query_as(
                    "INSERT INTO submissions (form_id, form_version_id, instance_id, root_id, country_code, site_id, round_id, \
                     submitted_by, submitter, channel, xml, xml_sha256, data, errors, error_count, complete, collected_on, \
                     received_at, updated_at) \
                     VALUES ($1, $2, $3, $3, $4, $5, \
                     (SELECT id FROM rounds WHERE country_code = $4 AND starts_on <= $6 AND ends_on >= $6 ORDER BY starts_on DESC LIMIT 1), \
                     $7, $8, $9, $10, $11, $12, $13, $14, $15, $6, $16, $16) RETURNING id, round_id",
                )
                .bind(s.form_id)
                .bind(s.form_version_id)
                .bind(&s.instance_id)
                .bind(&s.country_code)
                .bind(s.site_id)
                .bind(s.collected_on)
                .bind(s.submitted_by)
                .bind(&s.submitter)
                .bind(s.channel.as_str())
                .bind(&s.xml)
                .bind(&s.xml_sha256)
                .bind(s.data.to_string())
                .bind(s.errors.to_string())
                .bind(s.error_count)
                .bind(s.complete)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                for a in &s.attachments {
                    insert_attachment!(tx, id, a);
                }
                let facts = Facts {
                    form_id: s.form_id,
                    data: &s.data,
                    site_id: s.site_id,
                    country: s.country_code.as_deref(),
                    round_id,
                    collected_on: s.collected_on,
                };
                if contributor.reads(s.form_id) {
                    contributor.contribute(&facts, 1, &mut deltas);
                }
                if s.complete && contributor.flags(s.form_id) {
                    raised += h::raise_alerts(&mut tx, id, &contributor.alerts(&facts), now).await?;
                }
                known.insert(s.instance_id.clone(), (id, s.xml_sha256.clone(), s.complete));
                stored.push(json!({ "id": id, "instance": s.instance_id, "by": s.submitter }));
                outcomes.push(Ingested::Created { id });
            }
            if atomic
                && let Some((i, o)) = outcomes.iter().enumerate().find(|(_, o)| !matches!(o, Ingested::Created { .. }))
            {
                {
                    let why = match o {
                        Ingested::Duplicate { .. } => "was imported or submitted before".to_string(),
                        Ingested::Conflict { message } | Ingested::Refused { message, .. } => message.clone(),
                        Ingested::Created { .. } => String::new(),
                    };
                    return Err(StoreError::conflict(
                        "rows",
                        format!("nothing was imported: submission {} ({}) {why}", i + 1, batch[i].instance_id),
                    ));
                }
            }
            write_deltas!(tx, deltas);
            if raised > 0 {
                tracing::debug!(raised, "red flags raised");
            }
            if !stored.is_empty() {
                let first = stored.first().and_then(|s| s["id"].as_i64()).unwrap_or_default();
                h::audit(
                    &mut tx,
                    AuditEvent {
                        actor,
                        action: "submit",
                        entity: "submission",
                        entity_id: first.to_string(),
                        country_code: None,
                        detail: json!({ "count": stored.len(), "submissions": stored }),
                    },
                )
                .await?;
            }
            tx.commit().await?;
            Ok(outcomes)
        })
    }

    /// The review table: submissions of one form, newest first.
    pub async fn list_submissions(&self, form_id: i64, f: &SubmissionFilter) -> Result<Page<SubmissionRow>> {
        run!(self, |pool, _h| {
            let mut count = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM submissions s WHERE s.form_id = ");
            let mut rows = sqlx::QueryBuilder::new(ROW_COLUMNS);
            rows.push(" WHERE s.form_id = ");
            for qb in [&mut count, &mut rows] {
                qb.push_bind(form_id);
                push_submission_filter!(qb, f);
            }
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            rows.push(" ORDER BY s.received_at DESC, s.id DESC LIMIT ")
                .push_bind(f.limit.unwrap_or(100).clamp(1, 100_000))
                .push(" OFFSET ")
                .push_bind(f.offset.unwrap_or(0).max(0));
            let items: Vec<SubmissionRow> = rows.build_query_as().fetch_all(pool).await?;
            Ok(Page { items, total })
        })
    }

    pub async fn submission(&self, id: i64) -> Result<SubmissionDetail> {
        run!(self, |pool, _h| {
            let row: SubmissionRow = sqlx::query_as(&format!("{ROW_COLUMNS} WHERE s.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "submission" })?;
            let xml: String =
                sqlx::query_scalar("SELECT xml FROM submissions WHERE id = $1").bind(id).fetch_one(pool).await?;
            let versions = sqlx::query_as(
                "SELECT id, instance_id, replaced_by, reason, replaced_at, data FROM submission_versions \
                 WHERE submission_id = $1 ORDER BY id DESC",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let attachments = sqlx::query_as(
                "SELECT name, content_type, size, sha256 FROM attachments WHERE submission_id = $1 ORDER BY name",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            Ok(SubmissionDetail { row, xml, versions, attachments })
        })
    }

    /// Who may replace the current submission with this instance id: its form, country,
    /// submitter and status.
    pub async fn submission_owner(&self, instance_id: &str) -> Result<Option<SubmissionOwner>> {
        run!(self, |pool, _h| {
            type Row = (i64, i64, Option<String>, Option<i64>, String);
            let row: Option<Row> = sqlx::query_as(
                "SELECT id, form_id, country_code, submitted_by, status FROM submissions \
                 WHERE instance_id = $1 AND deleted_at IS NULL",
            )
            .bind(instance_id)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|(id, form_id, country, submitted_by, status)| SubmissionOwner {
                id,
                form_id,
                country: country.unwrap_or_default(),
                submitted_by,
                status,
            }))
        })
    }

    /// The submission stored under an instance id (current or earlier version).
    pub async fn submission_id_by_instance(&self, instance_id: &str) -> Result<Option<i64>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_scalar(
                "SELECT id FROM submissions WHERE instance_id = $1 \
                 UNION ALL SELECT submission_id FROM submission_versions WHERE instance_id = $1",
            )
            .bind(instance_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// One attachment's type and bytes.
    pub async fn attachment(&self, submission_id: i64, name: &str) -> Result<(String, Vec<u8>)> {
        run!(self, |pool, _h| {
            sqlx::query_as("SELECT content_type, content FROM attachments WHERE submission_id = $1 AND name = $2")
                .bind(submission_id)
                .bind(name)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "attachment" })
        })
    }

    /// A reviewer's edit: the previous version is kept with the reason, the edit audited.
    #[allow(clippy::too_many_arguments)]
    pub async fn edit_submission(
        &self,
        actor: &Actor,
        id: i64,
        new_instance_id: &str,
        xml: &str,
        xml_sha256: &str,
        data: &serde_json::Value,
        errors: &serde_json::Value,
        error_count: i64,
        reason: &str,
        contributor: &dyn Contributor,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(StoreError::invalid("reason", "say why the submission is edited"));
        }
        let before = self.submission(id).await?;
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let mut deltas = Deltas::default();
            recounted!(tx, id, contributor, deltas, {
                keep_version!(tx, id, &actor.name, reason.trim(), now);
                sqlx::query(
                    "UPDATE submissions SET instance_id = $1, xml = $2, xml_sha256 = $3, data = $4, errors = $5, \
                 error_count = $6, edits = edits + 1, updated_at = $7 WHERE id = $8",
                )
                .bind(new_instance_id)
                .bind(xml)
                .bind(xml_sha256)
                .bind(data.to_string())
                .bind(errors.to_string())
                .bind(error_count)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            });
            write_deltas!(tx, deltas);
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "update",
                    entity: "submission",
                    entity_id: id.to_string(),
                    country_code: before.row.country_code.as_deref(),
                    detail: json!({
                        "reason": reason.trim(), "instance": new_instance_id,
                        "replaces": before.row.instance_id, "before": before.row.answers(), "after": data,
                    }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Approve, reject or flag; an optional note goes to the audit line.
    pub async fn set_submission_status(
        &self,
        actor: &Actor,
        id: i64,
        status: &str,
        note: &str,
        contributor: &dyn Contributor,
    ) -> Result<()> {
        if !STATUSES.contains(&status) {
            return Err(StoreError::invalid("status", format!("must be one of: {}", STATUSES.join(", "))));
        }
        let before = self.submission(id).await?;
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let mut deltas = Deltas::default();
            recounted!(tx, id, contributor, deltas, {
                sqlx::query("UPDATE submissions SET status = $1, updated_at = $2 WHERE id = $3")
                    .bind(status)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            });
            write_deltas!(tx, deltas);
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "review",
                    entity: "submission",
                    entity_id: id.to_string(),
                    country_code: before.row.country_code.as_deref(),
                    detail: json!({ "before": before.row.status, "after": status, "note": note.trim() }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Soft delete (`deleted = true`) or restore.
    pub async fn set_submission_deleted(
        &self,
        actor: &Actor,
        id: i64,
        deleted: bool,
        contributor: &dyn Contributor,
    ) -> Result<()> {
        let before = self.submission(id).await?;
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let mut deltas = Deltas::default();
            recounted!(tx, id, contributor, deltas, {
                sqlx::query("UPDATE submissions SET deleted_at = $1, updated_at = $2 WHERE id = $3")
                    .bind(deleted.then_some(now))
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            });
            write_deltas!(tx, deltas);
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: if deleted { "delete" } else { "restore" },
                    entity: "submission",
                    entity_id: id.to_string(),
                    country_code: before.row.country_code.as_deref(),
                    detail: json!({ "instance": before.row.instance_id }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
