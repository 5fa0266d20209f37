//! Protection records: red-flag rules and their alerts, cases (with consent and the case
//! file) and referrals with their hand-off receipts.
//!
//! Identifying fields arrive here already sealed (see `rumbo_domain::sealing`): this layer
//! stores and returns the sealed text and never sees a name. Every write goes through one
//! transaction with its audit line; reads of cases and referrals are audited by the caller
//! with [`Store::record`](crate::Store::record), which knows who read what.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::model::{Actor, Page};
use crate::{AuditEvent, Result, Store, StoreError, run};

// ---------- red-flag rules and alerts ----------

/// Severities of a red flag, mildest first.
pub const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];

/// A red-flag rule on a form.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct FlagRule {
    pub id: i64,
    pub form_id: i64,
    pub name: String,
    /// An expression of the forms' language over the form's fields (`${age} < 18 and …`).
    pub expression: String,
    pub severity: String,
    pub message_en: String,
    pub message_es: String,
    pub message_pt: String,
    /// The country team the rule is for: it reads that country's submissions only and
    /// alerts its team (`None`: every country of the form, each alerting its own team).
    pub route_country: Option<String>,
    /// A site team: only that site's submissions (`None`: the whole country).
    pub route_site_id: Option<i64>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A rule as written by a focal point (checked by the server against the form first).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FlagRuleInput {
    pub form_id: i64,
    pub name: String,
    pub expression: String,
    pub severity: String,
    pub message_en: String,
    pub message_es: String,
    pub message_pt: String,
    #[serde(default)]
    pub route_country: Option<String>,
    #[serde(default)]
    pub route_site_id: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// An alert a new submission raised, to be written in the submission's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaisedAlert {
    pub rule_id: i64,
    pub severity: String,
    pub country_code: String,
    pub site_id: Option<i64>,
}

/// Where an alert stands.
pub const ALERT_STATUSES: &[&str] = &["open", "acknowledged", "dismissed", "case_opened"];

/// An alert, with its rule's name and messages.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Alert {
    pub id: i64,
    pub rule_id: i64,
    pub rule_name: String,
    pub form_id: i64,
    pub submission_id: i64,
    pub country_code: String,
    pub site_id: Option<i64>,
    pub site_code: Option<String>,
    pub severity: String,
    pub status: String,
    pub reason: Option<String>,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
    pub case_id: Option<i64>,
    pub message_en: String,
    pub message_es: String,
    pub message_pt: String,
    pub created_at: DateTime<Utc>,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct AlertFilter {
    /// `open` (the default on the inbox), `acknowledged`, `dismissed`, `case_opened`, or `all`.
    pub status: Option<String>,
    pub severity: Option<String>,
    pub country: Option<String>,
    pub site: Option<i64>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// The caller's countries (set by the server, never by the client).
    #[serde(skip)]
    pub scope: Option<Vec<String>>,
}

const ALERT_SELECT: &str = "SELECT a.id, a.rule_id, r.name AS rule_name, r.form_id, a.submission_id, a.country_code, \
     a.site_id, s.code AS site_code, a.severity, a.status, a.reason, u.username AS handled_by, a.handled_at, a.case_id, \
     r.message_en, r.message_es, r.message_pt, a.created_at \
     FROM alerts a JOIN flag_rules r ON r.id = a.rule_id LEFT JOIN sites s ON s.id = a.site_id \
     LEFT JOIN users u ON u.id = a.handled_by";

// ---------- cases ----------

/// Vulnerability categories of a case.
pub const VULNERABILITIES: &[&str] =
    &["uasc", "vot", "gbv", "pregnant_lactating", "disability", "chronic_illness", "older_person", "sogiesc"];

/// Risk levels of a case.
pub const RISKS: &[&str] = &["low", "medium", "high"];

/// What a person may consent to.
pub const CONSENT_PURPOSES: &[&str] =
    &["case_management", "referral", "share_identity", "share_contact", "share_vulnerabilities", "share_assessment"];

/// Kinds of entry in a case file.
pub const ENTRY_KINDS: &[&str] =
    &["assessment", "service_plan", "follow_up", "note", "transfer", "closure", "reopening"];

/// A case. `identity` is sealed (names, date of birth, document, phone, address).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CaseRecord {
    pub id: i64,
    pub code: String,
    pub country_code: String,
    pub organisation_id: Option<i64>,
    pub caseworker_id: i64,
    pub caseworker: String,
    pub status: String,
    pub risk: String,
    pub sex: String,
    pub age_group: String,
    pub nationality: String,
    /// Space-separated codes of [`VULNERABILITIES`].
    pub vulnerabilities: String,
    #[serde(skip)]
    pub identity: String,
    pub alert_id: Option<i64>,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closure_reason: Option<String>,
    /// Follow-ups and plan actions past their date and not done.
    pub overdue: i64,
}

const CASE_SELECT: &str = "SELECT c.id, c.code, c.country_code, c.organisation_id, c.caseworker_id, u.username AS caseworker, \
     c.status, c.risk, c.sex, c.age_group, c.nationality, c.vulnerabilities, c.identity, c.alert_id, c.opened_at, \
     c.updated_at, c.closed_at, c.closure_reason, \
     (SELECT COUNT(*) FROM case_entries e WHERE e.case_id = c.id AND e.due_on IS NOT NULL AND e.done_at IS NULL \
      AND e.due_on < CURRENT_DATE) AS overdue \
     FROM cases c JOIN users u ON u.id = c.caseworker_id";

/// A new case: its code is made by the caller (pseudonymous, random) and its identity sealed.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub code: String,
    pub country_code: String,
    pub organisation_id: Option<i64>,
    pub caseworker_id: i64,
    pub risk: String,
    pub sex: String,
    pub age_group: String,
    pub nationality: String,
    pub vulnerabilities: String,
    pub identity: String,
    pub document_index: Option<String>,
    pub alert_id: Option<i64>,
}

/// What may change on a case's profile.
#[derive(Debug, Clone)]
pub struct CaseProfile {
    pub risk: String,
    pub sex: String,
    pub age_group: String,
    pub nationality: String,
    pub vulnerabilities: String,
    pub identity: String,
    pub document_index: Option<String>,
}

/// Which cases to list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct CaseFilter {
    /// `open` (default), `closed` or `all`.
    pub status: Option<String>,
    pub country: Option<String>,
    pub vulnerability: Option<String>,
    pub risk: Option<String>,
    /// The caseworker's user id (supervisors).
    pub caseworker: Option<i64>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    #[serde(skip)]
    pub scope: Option<Vec<String>>,
    /// Only this caseworker's cases (set by the server for caseworkers).
    #[serde(skip)]
    pub only_caseworker: Option<i64>,
    /// Only cases whose document has this blind index (set by the server from `document`).
    #[serde(skip)]
    pub document_index: Option<String>,
}

/// A consent record.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Consent {
    pub id: i64,
    pub case_id: i64,
    /// Space-separated codes of [`CONSENT_PURPOSES`].
    pub purposes: String,
    pub method: String,
    pub given_on: NaiveDate,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
    pub withdrawal_note: Option<String>,
}

impl Consent {
    pub fn covers(&self, purpose: &str) -> bool {
        self.withdrawn_at.is_none() && self.purposes.split_whitespace().any(|p| p == purpose)
    }
}

/// An entry of a case file; `body` is sealed.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CaseEntry {
    pub id: i64,
    pub case_id: i64,
    pub kind: String,
    #[serde(skip)]
    pub body: String,
    pub due_on: Option<NaiveDate>,
    pub done_at: Option<DateTime<Utc>>,
    pub author: String,
    pub at: DateTime<Utc>,
}

/// A new entry of a case file.
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    /// One of [`ENTRY_KINDS`].
    pub kind: String,
    /// Sealed text.
    pub body: String,
    pub due_on: Option<NaiveDate>,
    /// For a `transfer`: the new caseworker.
    pub to_caseworker: Option<i64>,
    /// For a `closure`: one of [`CLOSURE_REASONS`].
    pub reason: Option<String>,
}

/// Why a case is closed.
pub const CLOSURE_REASONS: &[&str] =
    &["goals_met", "moved_on", "transferred_out", "consent_withdrawn", "lost_contact", "deceased", "other"];

/// A caseworker's load (open cases).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Caseload {
    pub caseworker_id: i64,
    pub caseworker: String,
    pub open_cases: i64,
    pub high_risk: i64,
    pub overdue: i64,
}

// ---------- referrals ----------

/// Where a referral stands.
pub const REFERRAL_STATUSES: &[&str] = &["sent", "accepted", "declined", "provided", "closed"];

/// The next states a referral may take from `status`.
pub fn referral_next(status: &str) -> &'static [&'static str] {
    match status {
        "sent" => &["accepted", "declined"],
        "accepted" => &["provided"],
        "provided" => &["closed"],
        _ => &[],
    }
}

/// A referral; `note` is sealed.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Referral {
    pub id: i64,
    pub code: String,
    pub case_id: i64,
    pub case_code: String,
    pub from_org_id: Option<i64>,
    pub from_org: Option<String>,
    pub service_id: i64,
    pub service: String,
    pub sector: String,
    pub to_org_id: i64,
    pub to_org: String,
    pub country_code: String,
    pub status: String,
    pub urgency: String,
    /// Space-separated parts of the case the person consented to share when it was sent.
    pub shared: String,
    #[serde(skip)]
    pub note: String,
    pub respond_by: DateTime<Utc>,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Referral {
    /// Whether the next step is late.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        matches!(self.status.as_str(), "sent" | "accepted") && self.respond_by < now
    }
}

const REFERRAL_SELECT: &str = "SELECT r.id, r.code, r.case_id, c.code AS case_code, r.from_org_id, fo.name AS from_org, \
     r.service_id, sv.name AS service, sv.sector, r.to_org_id, o.name AS to_org, r.country_code, r.status, r.urgency, \
     r.shared, r.note, r.respond_by, r.created_by, r.created_at, r.updated_at \
     FROM referrals r JOIN cases c ON c.id = r.case_id JOIN services sv ON sv.id = r.service_id \
     JOIN organisations o ON o.id = r.to_org_id LEFT JOIN organisations fo ON fo.id = r.from_org_id";

/// A hand-off of a referral and its receipt.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ReferralEvent {
    pub id: i64,
    pub referral_id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub by_user: String,
    pub by_org: Option<String>,
    #[serde(skip)]
    pub note: String,
    pub at: DateTime<Utc>,
    /// SHA-256 over this hand-off and the receipt before it.
    pub receipt: String,
}

/// A new referral (code made by the caller, note sealed, `shared` decided from consent).
#[derive(Debug, Clone)]
pub struct NewReferral {
    pub code: String,
    pub case_id: i64,
    pub from_org_id: Option<i64>,
    pub service_id: i64,
    pub urgency: String,
    pub shared: String,
    pub note: String,
    pub respond_by: DateTime<Utc>,
}

/// Which referrals to list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct ReferralFilter {
    /// `received` (to the caller's organisation), `sent` (from the caller's cases) or both.
    pub direction: Option<String>,
    pub status: Option<String>,
    pub overdue: Option<bool>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    #[serde(skip)]
    pub scope: Option<Vec<String>>,
    /// Referrals to this organisation (set by the server).
    #[serde(skip)]
    pub to_org: Option<i64>,
    /// Referrals of cases of this caseworker (set by the server; `None` with `all_cases`).
    #[serde(skip)]
    pub case_worker: Option<i64>,
    /// Referrals of every case of the scope (supervisors).
    #[serde(skip)]
    pub all_cases: bool,
}

/// The receipt of a hand-off: it chains to the one before, so a hand-off cannot be
/// changed or dropped without the receipts after it no longer matching.
pub fn receipt(prev: &str, code: &str, from: Option<&str>, to: &str, by: i64, at: DateTime<Utc>, note: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, code, from.unwrap_or(""), to, &by.to_string(), &at.to_rfc3339(), note] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The code and country of a case, inside a transaction; not found is an error.
macro_rules! case_of {
    ($tx:ident, $id:expr) => {{
        let found: Option<(String, String)> = sqlx::query_as("SELECT code, country_code FROM cases WHERE id = $1")
            .bind($id)
            .fetch_optional(&mut *$tx)
            .await?;
        found.ok_or(StoreError::NotFound { entity: "case" })?
    }};
}

/// `AND <column> IN (the scope)`; an empty scope matches nothing.
macro_rules! scope {
    ($qb:expr, $scope:expr, $column:literal) => {
        if let Some(scope) = $scope {
            $qb.push(concat!(" AND ", $column, " IN ('' "));
            for c in scope {
                $qb.push(", ").push_bind(c.clone());
            }
            $qb.push(")");
        }
    };
}

impl Store {
    // ---------- rules ----------

    /// Every rule (or those of one form).
    pub async fn flag_rules(&self, form_id: Option<i64>) -> Result<Vec<FlagRule>> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new("SELECT * FROM flag_rules");
            if let Some(form) = form_id {
                qb.push(" WHERE form_id = ").push_bind(form);
            }
            qb.push(" ORDER BY form_id, name");
            Ok(qb.build_query_as().fetch_all(pool).await?)
        })
    }

    pub async fn flag_rule(&self, id: i64) -> Result<FlagRule> {
        run!(self, |pool, _h| {
            sqlx::query_as("SELECT * FROM flag_rules WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "red-flag rule" })
        })
    }

    /// Creates (`id: None`) or replaces a rule.
    pub async fn save_flag_rule(&self, actor: &Actor, id: Option<i64>, rule: &FlagRuleInput) -> Result<FlagRule> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM flag_rules WHERE form_id = $1 AND name = $2")
                .bind(rule.form_id)
                .bind(&rule.name)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some_and(|t| Some(t) != id) {
                return Err(StoreError::conflict("name", format!("the form has a rule named {:?} already", rule.name)));
            }
            let saved: FlagRule = match id {
                None => {
                    sqlx::query_as(
                        "INSERT INTO flag_rules (form_id, name, expression, severity, message_en, message_es, message_pt, \
                         route_country, route_site_id, active, created_by, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING *",
                    )
                    .bind(rule.form_id)
                    .bind(&rule.name)
                    .bind(&rule.expression)
                    .bind(&rule.severity)
                    .bind(&rule.message_en)
                    .bind(&rule.message_es)
                    .bind(&rule.message_pt)
                    .bind(&rule.route_country)
                    .bind(rule.route_site_id)
                    .bind(rule.active)
                    .bind(actor.user_id)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?
                }
                Some(id) => sqlx::query_as(
                    "UPDATE flag_rules SET form_id = $1, name = $2, expression = $3, severity = $4, message_en = $5, \
                     message_es = $6, message_pt = $7, route_country = $8, route_site_id = $9, active = $10, updated_at = $11 \
                     WHERE id = $12 RETURNING *",
                )
                .bind(rule.form_id)
                .bind(&rule.name)
                .bind(&rule.expression)
                .bind(&rule.severity)
                .bind(&rule.message_en)
                .bind(&rule.message_es)
                .bind(&rule.message_pt)
                .bind(&rule.route_country)
                .bind(rule.route_site_id)
                .bind(rule.active)
                .bind(now)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound { entity: "red-flag rule" })?,
            };
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: if id.is_some() { "update" } else { "create" },
                    entity: "flag_rule",
                    entity_id: saved.id.to_string(),
                    country_code: saved.route_country.as_deref(),
                    detail: json!({ "form_id": saved.form_id, "name": saved.name, "expression": saved.expression,
                                    "severity": saved.severity, "active": saved.active }),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(saved)
        })
    }

    // ---------- alerts ----------

    pub async fn list_alerts(&self, f: &AlertFilter) -> Result<Page<Alert>> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT * FROM ({ALERT_SELECT}) x WHERE 1 = 1"));
            let mut count = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM alerts a WHERE 1 = 1");
            for q in [&mut qb, &mut count] {
                match f.status.as_deref() {
                    Some("all") => {}
                    Some(s) => {
                        q.push(" AND status = ").push_bind(s.to_string());
                    }
                    None => {
                        q.push(" AND status = 'open'");
                    }
                }
                if let Some(s) = &f.severity {
                    q.push(" AND severity = ").push_bind(s.clone());
                }
                if let Some(c) = &f.country {
                    q.push(" AND country_code = ").push_bind(c.clone());
                }
                if let Some(site) = f.site {
                    q.push(" AND site_id = ").push_bind(site);
                }
                scope!(q, &f.scope, "country_code");
            }
            qb.push(" ORDER BY id DESC LIMIT ")
                .push_bind(f.limit.unwrap_or(100).clamp(1, 1000))
                .push(" OFFSET ")
                .push_bind(f.offset.unwrap_or(0).max(0));
            let items = qb.build_query_as().fetch_all(pool).await?;
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            Ok(Page { items, total })
        })
    }

    pub async fn alert(&self, id: i64) -> Result<Alert> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{ALERT_SELECT} WHERE a.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "alert" })
        })
    }

    /// Acknowledges or dismisses an open alert (dismissing needs a reason).
    pub async fn handle_alert(&self, actor: &Actor, id: i64, status: &str, reason: Option<&str>) -> Result<Alert> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let current: Option<(String, String)> =
                sqlx::query_as("SELECT status, country_code FROM alerts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let (was, country) = current.ok_or(StoreError::NotFound { entity: "alert" })?;
            let allowed = match status {
                "acknowledged" => was == "open",
                "dismissed" => was == "open" || was == "acknowledged",
                _ => return Err(StoreError::invalid("status", "must be acknowledged or dismissed")),
            };
            if !allowed {
                return Err(StoreError::conflict("status", format!("the alert is {was}: it cannot become {status}")));
            }
            sqlx::query("UPDATE alerts SET status = $1, reason = $2, handled_by = $3, handled_at = $4 WHERE id = $5")
                .bind(status)
                .bind(reason)
                .bind(actor.user_id)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: status,
                    entity: "alert",
                    entity_id: id.to_string(),
                    country_code: Some(&country),
                    detail: json!({ "from": was, "reason": reason }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.alert(id).await
    }

    // ---------- cases ----------

    /// Opens a case (from an alert, when `alert_id` is set: the alert becomes `case_opened`).
    pub async fn open_case(&self, actor: &Actor, new: &NewCase) -> Result<CaseRecord> {
        let now = Utc::now();
        let id = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            if let Some(alert) = new.alert_id {
                let status: Option<String> = sqlx::query_scalar("SELECT status FROM alerts WHERE id = $1")
                    .bind(alert)
                    .fetch_optional(&mut *tx)
                    .await?;
                match status.as_deref() {
                    None => return Err(StoreError::invalid("alert_id", format!("there is no alert {alert}"))),
                    Some("case_opened" | "dismissed") => {
                        return Err(StoreError::conflict(
                            "alert_id",
                            format!("alert {alert} is {} already", status.unwrap_or_default()),
                        ));
                    }
                    Some(_) => {}
                }
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO cases (code, country_code, organisation_id, caseworker_id, risk, sex, age_group, nationality, \
                 vulnerabilities, identity, document_index, alert_id, opened_by, opened_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
            )
            .bind(&new.code)
            .bind(&new.country_code)
            .bind(new.organisation_id)
            .bind(new.caseworker_id)
            .bind(&new.risk)
            .bind(&new.sex)
            .bind(&new.age_group)
            .bind(&new.nationality)
            .bind(&new.vulnerabilities)
            .bind(&new.identity)
            .bind(&new.document_index)
            .bind(new.alert_id)
            .bind(actor.user_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(alert) = new.alert_id {
                sqlx::query(
                    "UPDATE alerts SET status = 'case_opened', case_id = $1, handled_by = $2, handled_at = $3 WHERE id = $4",
                )
                .bind(id)
                .bind(actor.user_id)
                .bind(now)
                .bind(alert)
                .execute(&mut *tx)
                .await?;
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "create",
                    entity: "case",
                    entity_id: new.code.clone(),
                    country_code: Some(&new.country_code),
                    detail: json!({ "caseworker_id": new.caseworker_id, "alert_id": new.alert_id,
                                    "vulnerabilities": new.vulnerabilities, "risk": new.risk }),
                },
            )
            .await?;
            tx.commit().await?;
            id
        });
        self.case(id).await
    }

    pub async fn case(&self, id: i64) -> Result<CaseRecord> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{CASE_SELECT} WHERE c.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "case" })
        })
    }

    /// A case by its code (`None` when no case has it).
    pub async fn case_by_code(&self, code: &str) -> Result<Option<CaseRecord>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(&format!("{CASE_SELECT} WHERE c.code = $1")).bind(code).fetch_optional(pool).await?)
        })
    }

    pub async fn list_cases(&self, f: &CaseFilter) -> Result<Page<CaseRecord>> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT * FROM ({CASE_SELECT}) x WHERE 1 = 1"));
            match f.status.as_deref() {
                Some("all") => {}
                Some(s) => {
                    qb.push(" AND status = ").push_bind(s.to_string());
                }
                None => {
                    qb.push(" AND status = 'open'");
                }
            }
            if let Some(c) = &f.country {
                qb.push(" AND country_code = ").push_bind(c.clone());
            }
            if let Some(v) = &f.vulnerability {
                qb.push(" AND (' ' || vulnerabilities || ' ') LIKE ").push_bind(format!("% {v} %"));
            }
            if let Some(r) = &f.risk {
                qb.push(" AND risk = ").push_bind(r.clone());
            }
            if let Some(w) = f.caseworker {
                qb.push(" AND caseworker_id = ").push_bind(w);
            }
            if let Some(w) = f.only_caseworker {
                qb.push(" AND caseworker_id = ").push_bind(w);
            }
            if let Some(d) = &f.document_index {
                qb.push(" AND id IN (SELECT id FROM cases WHERE document_index = ").push_bind(d.clone()).push(")");
            }
            scope!(qb, &f.scope, "country_code");
            let mut items: Vec<CaseRecord> = qb.build_query_as().fetch_all(pool).await?;
            items.sort_by(|a, b| {
                let rank = |r: &str| RISKS.iter().position(|x| *x == r).unwrap_or(0);
                rank(&b.risk).cmp(&rank(&a.risk)).then(b.overdue.cmp(&a.overdue)).then(b.id.cmp(&a.id))
            });
            let total = items.len() as i64;
            let offset = f.offset.unwrap_or(0).max(0) as usize;
            let limit = f.limit.unwrap_or(200).clamp(1, 1000) as usize;
            Ok(Page { items: items.into_iter().skip(offset).take(limit).collect(), total })
        })
    }

    /// Open cases, high-risk ones and overdue actions per caseworker of the scope.
    pub async fn caseloads(&self, scope: Option<&[String]>) -> Result<Vec<Caseload>> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT c.caseworker_id, u.username AS caseworker, COUNT(*) AS open_cases, \
                 CAST(SUM(CASE WHEN c.risk = 'high' THEN 1 ELSE 0 END) AS BIGINT) AS high_risk, \
                 CAST(SUM((SELECT COUNT(*) FROM case_entries e WHERE e.case_id = c.id AND e.due_on IS NOT NULL \
                      AND e.done_at IS NULL AND e.due_on < CURRENT_DATE)) AS BIGINT) AS overdue \
                 FROM cases c JOIN users u ON u.id = c.caseworker_id WHERE c.status = 'open'",
            );
            scope!(qb, scope, "c.country_code");
            qb.push(" GROUP BY c.caseworker_id, u.username ORDER BY u.username");
            Ok(qb.build_query_as().fetch_all(pool).await?)
        })
    }

    /// Changes a case's profile (identity sealed by the caller).
    pub async fn update_case(&self, actor: &Actor, id: i64, p: &CaseProfile) -> Result<CaseRecord> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let (code, country) = case_of!(tx, id);
            sqlx::query(
                "UPDATE cases SET risk = $1, sex = $2, age_group = $3, nationality = $4, vulnerabilities = $5, \
                 identity = $6, document_index = $7, updated_at = $8 WHERE id = $9",
            )
            .bind(&p.risk)
            .bind(&p.sex)
            .bind(&p.age_group)
            .bind(&p.nationality)
            .bind(&p.vulnerabilities)
            .bind(&p.identity)
            .bind(&p.document_index)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "update",
                    entity: "case",
                    entity_id: code,
                    country_code: Some(&country),
                    detail: json!({ "risk": p.risk, "vulnerabilities": p.vulnerabilities, "identity": "changed (sealed)" }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.case(id).await
    }

    /// Adds an entry to a case file; a `closure` closes the case, a `reopening` reopens it,
    /// a `transfer` hands it to `to_caseworker`.
    pub async fn add_case_entry(&self, actor: &Actor, case_id: i64, entry: &NewEntry) -> Result<CaseEntry> {
        let now = Utc::now();
        let NewEntry { kind, body, due_on, to_caseworker, reason } = entry;
        let (kind, due_on, to_caseworker) = (kind.as_str(), *due_on, *to_caseworker);
        let author = actor.user_id.ok_or_else(|| StoreError::invalid("author", "a case entry needs a user"))?;
        let entry_id = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let (code, country, status): (String, String, String) =
                sqlx::query_as("SELECT code, country_code, status FROM cases WHERE id = $1")
                    .bind(case_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound { entity: "case" })?;
            match (kind, status.as_str()) {
                ("reopening", "open") => return Err(StoreError::conflict("kind", "the case is open")),
                ("reopening", _) => {}
                (_, "closed") => {
                    return Err(StoreError::conflict("kind", "the case is closed: reopen it first"));
                }
                _ => {}
            }
            match kind {
                "closure" => {
                    sqlx::query(
                        "UPDATE cases SET status = 'closed', closed_at = $1, closure_reason = $2, updated_at = $1 WHERE id = $3",
                    )
                    .bind(now)
                    .bind(reason)
                    .bind(case_id)
                    .execute(&mut *tx)
                    .await?;
                }
                "reopening" => {
                    sqlx::query(
                        "UPDATE cases SET status = 'open', closed_at = NULL, closure_reason = NULL, updated_at = $1 WHERE id = $2",
                    )
                    .bind(now)
                    .bind(case_id)
                    .execute(&mut *tx)
                    .await?;
                }
                "transfer" => {
                    let to = to_caseworker.ok_or_else(|| StoreError::invalid("caseworker_id", "is required"))?;
                    sqlx::query("UPDATE cases SET caseworker_id = $1, updated_at = $2 WHERE id = $3")
                        .bind(to)
                        .bind(now)
                        .bind(case_id)
                        .execute(&mut *tx)
                        .await?;
                }
                _ => {
                    sqlx::query("UPDATE cases SET updated_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(case_id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO case_entries (case_id, kind, body, due_on, author_id, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(case_id)
            .bind(kind)
            .bind(body)
            .bind(due_on)
            .bind(author)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: kind,
                    entity: "case",
                    entity_id: code,
                    country_code: Some(&country),
                    detail: json!({ "entry": id, "due_on": due_on, "to_caseworker": to_caseworker, "reason": reason }),
                },
            )
            .await?;
            tx.commit().await?;
            id
        });
        self.case_entries(case_id)
            .await?
            .into_iter()
            .find(|e| e.id == entry_id)
            .ok_or(StoreError::NotFound { entity: "case entry" })
    }

    /// Marks a planned action or follow-up done.
    pub async fn complete_case_entry(&self, actor: &Actor, case_id: i64, entry_id: i64) -> Result<()> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let done = sqlx::query(
                "UPDATE case_entries SET done_at = $1 WHERE id = $2 AND case_id = $3 AND due_on IS NOT NULL AND done_at IS NULL",
            )
            .bind(now)
            .bind(entry_id)
            .bind(case_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(StoreError::conflict("entry", "no open action or follow-up with this id in the case"));
            }
            let (code, country) = case_of!(tx, case_id);
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "complete",
                    entity: "case",
                    entity_id: code,
                    country_code: Some(&country),
                    detail: json!({ "entry": entry_id }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn case_entries(&self, case_id: i64) -> Result<Vec<CaseEntry>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT e.id, e.case_id, e.kind, e.body, e.due_on, e.done_at, u.username AS author, e.at \
                 FROM case_entries e JOIN users u ON u.id = e.author_id WHERE e.case_id = $1 ORDER BY e.id",
            )
            .bind(case_id)
            .fetch_all(pool)
            .await?)
        })
    }

    // ---------- consent ----------

    pub async fn consents(&self, case_id: i64) -> Result<Vec<Consent>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT k.id, k.case_id, k.purposes, k.method, k.given_on, r.username AS recorded_by, k.recorded_at, \
                 k.withdrawn_at, w.username AS withdrawn_by, k.withdrawal_note \
                 FROM case_consents k JOIN users r ON r.id = k.recorded_by LEFT JOIN users w ON w.id = k.withdrawn_by \
                 WHERE k.case_id = $1 ORDER BY k.id",
            )
            .bind(case_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The consent in force: the newest one not withdrawn.
    pub async fn consent_in_force(&self, case_id: i64) -> Result<Option<Consent>> {
        Ok(self.consents(case_id).await?.into_iter().rev().find(|c| c.withdrawn_at.is_none()))
    }

    /// Records a new consent; it replaces the one in force (which is marked withdrawn).
    pub async fn record_consent(
        &self,
        actor: &Actor,
        case_id: i64,
        purposes: &str,
        method: &str,
        given_on: NaiveDate,
    ) -> Result<Consent> {
        let now = Utc::now();
        let by = actor.user_id.ok_or_else(|| StoreError::invalid("recorded_by", "consent is recorded by a user"))?;
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let (code, country) = case_of!(tx, case_id);
            sqlx::query(
                "UPDATE case_consents SET withdrawn_at = $1, withdrawn_by = $2, withdrawal_note = 'replaced by a new consent' \
                 WHERE case_id = $3 AND withdrawn_at IS NULL",
            )
            .bind(now)
            .bind(by)
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO case_consents (case_id, purposes, method, given_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(case_id)
            .bind(purposes)
            .bind(method)
            .bind(given_on)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "consent",
                    entity: "case",
                    entity_id: code,
                    country_code: Some(&country),
                    detail: json!({ "purposes": purposes, "method": method, "given_on": given_on }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.consent_in_force(case_id).await?.ok_or(StoreError::NotFound { entity: "consent" })
    }

    /// Withdraws the consent in force: from now on nothing of the case is shared.
    pub async fn withdraw_consent(&self, actor: &Actor, case_id: i64, note: &str) -> Result<()> {
        let now = Utc::now();
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let (code, country) = case_of!(tx, case_id);
            let changed = sqlx::query(
                "UPDATE case_consents SET withdrawn_at = $1, withdrawn_by = $2, withdrawal_note = $3 \
                 WHERE case_id = $4 AND withdrawn_at IS NULL",
            )
            .bind(now)
            .bind(actor.user_id)
            .bind(note)
            .bind(case_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::conflict("consent", "the case has no consent in force to withdraw"));
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "withdraw_consent",
                    entity: "case",
                    entity_id: code,
                    country_code: Some(&country),
                    detail: json!({ "note": note }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    // ---------- referrals ----------

    /// Sends a referral: the service must exist and be active; its organisation receives it.
    pub async fn send_referral(&self, actor: &Actor, new: &NewReferral) -> Result<Referral> {
        let now = Utc::now();
        let by = actor.user_id.ok_or_else(|| StoreError::invalid("created_by", "a referral is sent by a user"))?;
        let id = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let service: Option<(i64, String, bool)> =
                sqlx::query_as("SELECT organisation_id, country_code, active FROM services WHERE id = $1")
                    .bind(new.service_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((to_org, country, active)) = service else {
                return Err(StoreError::invalid("service_id", format!("there is no service {}", new.service_id)));
            };
            if !active {
                return Err(StoreError::invalid(
                    "service_id",
                    format!("service {} is no longer offered", new.service_id),
                ));
            }
            let case_code: String = sqlx::query_scalar("SELECT code FROM cases WHERE id = $1")
                .bind(new.case_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound { entity: "case" })?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO referrals (code, case_id, from_org_id, service_id, to_org_id, country_code, status, urgency, \
                 shared, note, respond_by, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'sent', $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            )
            .bind(&new.code)
            .bind(new.case_id)
            .bind(new.from_org_id)
            .bind(new.service_id)
            .bind(to_org)
            .bind(&country)
            .bind(&new.urgency)
            .bind(&new.shared)
            .bind(&new.note)
            .bind(new.respond_by)
            .bind(by)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let r = receipt("", &new.code, None, "sent", by, now, &new.note);
            sqlx::query(
                "INSERT INTO referral_events (referral_id, from_status, to_status, by_user, by_org, note, at, receipt) \
                 VALUES ($1, NULL, 'sent', $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(by)
            .bind(new.from_org_id)
            .bind(&new.note)
            .bind(now)
            .bind(&r)
            .execute(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "send",
                    entity: "referral",
                    entity_id: new.code.clone(),
                    country_code: Some(&country),
                    detail: json!({ "case": case_code, "service_id": new.service_id, "to_org": to_org,
                                    "shared": new.shared, "receipt": r }),
                },
            )
            .await?;
            tx.commit().await?;
            id
        });
        self.referral(id).await
    }

    pub async fn referral(&self, id: i64) -> Result<Referral> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{REFERRAL_SELECT} WHERE r.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "referral" })
        })
    }

    pub async fn referral_by_code(&self, code: &str) -> Result<Option<Referral>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(&format!("{REFERRAL_SELECT} WHERE r.code = $1")).bind(code).fetch_optional(pool).await?)
        })
    }

    pub async fn referrals_of_case(&self, case_id: i64) -> Result<Vec<Referral>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(&format!("{REFERRAL_SELECT} WHERE r.case_id = $1 ORDER BY r.id"))
                .bind(case_id)
                .fetch_all(pool)
                .await?)
        })
    }

    pub async fn list_referrals(&self, f: &ReferralFilter) -> Result<Page<Referral>> {
        let now = Utc::now();
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT * FROM ({REFERRAL_SELECT}) x WHERE ("));
            let received = f.to_org.filter(|_| f.direction.as_deref() != Some("sent"));
            let sent = f.direction.as_deref() != Some("received");
            let mut any = false;
            if let Some(org) = received {
                qb.push("to_org_id = ").push_bind(org);
                any = true;
            }
            if sent && (f.all_cases || f.case_worker.is_some()) {
                if any {
                    qb.push(" OR ");
                }
                if f.all_cases {
                    qb.push("1 = 1");
                } else if let Some(w) = f.case_worker {
                    qb.push("case_id IN (SELECT id FROM cases WHERE caseworker_id = ").push_bind(w).push(")");
                }
                any = true;
            }
            if !any {
                qb.push("1 = 0");
            }
            qb.push(")");
            if let Some(s) = &f.status {
                qb.push(" AND status = ").push_bind(s.clone());
            }
            if f.overdue == Some(true) {
                qb.push(" AND status IN ('sent', 'accepted') AND respond_by < ").push_bind(now);
            }
            scope!(qb, &f.scope, "country_code");
            qb.push(" ORDER BY id DESC");
            let all: Vec<Referral> = qb.build_query_as().fetch_all(pool).await?;
            let total = all.len() as i64;
            let offset = f.offset.unwrap_or(0).max(0) as usize;
            let limit = f.limit.unwrap_or(200).clamp(1, 1000) as usize;
            Ok(Page { items: all.into_iter().skip(offset).take(limit).collect(), total })
        })
    }

    pub async fn referral_events(&self, referral_id: i64) -> Result<Vec<ReferralEvent>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(
                "SELECT e.id, e.referral_id, e.from_status, e.to_status, u.username AS by_user, o.name AS by_org, e.note, \
                 e.at, e.receipt FROM referral_events e JOIN users u ON u.id = e.by_user \
                 LEFT JOIN organisations o ON o.id = e.by_org WHERE e.referral_id = $1 ORDER BY e.id",
            )
            .bind(referral_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Moves a referral to its next state, with a receipt; refuses a step out of order.
    /// `respond_by` is the deadline of the step after this one (`None`: unchanged).
    pub async fn move_referral(
        &self,
        actor: &Actor,
        id: i64,
        to: &str,
        by_org: Option<i64>,
        note: &str,
        respond_by: Option<DateTime<Utc>>,
    ) -> Result<(Referral, ReferralEvent)> {
        let now = Utc::now();
        let by = actor.user_id.ok_or_else(|| StoreError::invalid("by", "a referral is moved by a user"))?;
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let (code, status, country): (String, String, String) =
                sqlx::query_as("SELECT code, status, country_code FROM referrals WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound { entity: "referral" })?;
            if !referral_next(&status).contains(&to) {
                let next = referral_next(&status);
                return Err(StoreError::conflict(
                    "status",
                    if next.is_empty() {
                        format!("referral {code} is {status}: nothing follows")
                    } else {
                        format!("referral {code} is {status}: it can only become {}", next.join(" or "))
                    },
                ));
            }
            let prev: String = sqlx::query_scalar(
                "SELECT receipt FROM referral_events WHERE referral_id = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or_default();
            let r = receipt(&prev, &code, Some(&status), to, by, now, note);
            sqlx::query("UPDATE referrals SET status = $1, updated_at = $2, respond_by = COALESCE($3, respond_by) WHERE id = $4")
                .bind(to)
                .bind(now)
                .bind(respond_by)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO referral_events (referral_id, from_status, to_status, by_user, by_org, note, at, receipt) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(&status)
            .bind(to)
            .bind(by)
            .bind(by_org)
            .bind(note)
            .bind(now)
            .bind(&r)
            .execute(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: to,
                    entity: "referral",
                    entity_id: code,
                    country_code: Some(&country),
                    detail: json!({ "from": status, "receipt": r }),
                },
            )
            .await?;
            tx.commit().await?;
        });
        let referral = self.referral(id).await?;
        let event = self.referral_events(id).await?.pop().ok_or(StoreError::NotFound { entity: "referral event" })?;
        Ok((referral, event))
    }
}

impl Store {
    /// The fingerprint of the protection key this database's fields are sealed with, if one
    /// was recorded.
    pub async fn recorded_protection_key(&self) -> Result<Option<String>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_scalar("SELECT value FROM instance_facts WHERE name = 'protection_key'")
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Records the fingerprint of the protection key (once: a recorded one is kept); the
    /// fingerprint recorded.
    pub async fn record_protection_key(&self, fingerprint: &str) -> Result<String> {
        run!(self, |pool, _h| {
            sqlx::query(
                "INSERT INTO instance_facts (name, value) VALUES ('protection_key', $1) ON CONFLICT (name) DO NOTHING",
            )
            .bind(fingerprint)
            .execute(pool)
            .await?;
        });
        Ok(self.recorded_protection_key().await?.unwrap_or_else(|| fingerprint.to_string()))
    }
}
