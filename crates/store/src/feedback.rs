//! Complaints and feedback (CFM): items taken in from the public web form or by staff, and
//! their way from `new` to `closed`.
//!
//! The store never sees a key: free text (body, contact, response) arrives sealed by the
//! server and is returned sealed. What the store decides is which rows a reader may list:
//! [`FeedbackFilter`] carries the countries of the reader and those in which she may read
//! allegations of sexual exploitation or abuse (PSEA); every other PSEA row is left out of
//! lists, counts and trends at the SQL level, so no later step can leak it.
//!
//! Each transition is one conditional `UPDATE … WHERE status IN (…)` in the transaction of
//! its audit line: a transition from the wrong state changes nothing and is a conflict.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use crate::error::Problems;
use crate::model::Actor;
use crate::{AuditEvent, Result, Store, StoreError, run};

/// Ways an item reaches the team.
pub const CHANNELS: &[&str] = &["web", "hotline", "box", "face_to_face"];
/// What the person says, in the categories of the inter-agency CFM guidance.
pub const CATEGORIES: &[&str] = &["information_request", "complaint", "suggestion", "thanks", "psea", "fraud"];
/// The category only the protection focal point reads.
pub const PSEA: &str = "psea";
/// The sectors an item is about.
pub const SECTORS: &[&str] = &[
    "health",
    "mhpss",
    "shelter",
    "legal",
    "cash",
    "child_protection",
    "gbv",
    "livelihoods",
    "education",
    "food",
    "wash",
    "other",
];
/// The states, in order.
pub const STATUSES: &[&str] = &["new", "assigned", "responded", "closed"];

/// Days to answer, by category: an allegation the next day, a complaint or fraud within a
/// week, anything else within two.
pub fn days_to_respond(category: &str) -> i64 {
    match category {
        PSEA => 1,
        "complaint" | "fraud" => 7,
        _ => 14,
    }
}

/// The most characters of a message, a contact or a response.
pub const MAX_TEXT: usize = 4000;
/// The most characters of a contact.
pub const MAX_CONTACT: usize = 200;

/// A feedback item as stored; text columns still sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedbackRow {
    pub id: i64,
    pub reference: String,
    pub channel: String,
    pub category: String,
    pub sector: String,
    pub country_code: String,
    pub site_id: Option<i64>,
    pub site_name: Option<String>,
    /// Sealed.
    pub body: String,
    /// Sealed.
    pub contact: Option<String>,
    pub wants_reply: bool,
    pub status: String,
    pub assigned_to: Option<i64>,
    pub assigned_name: Option<String>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub due_on: NaiveDate,
    /// Sealed.
    pub response: Option<String>,
    pub responded_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub loop_closed_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<i32>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl FeedbackRow {
    pub fn is_psea(&self) -> bool {
        self.category == PSEA
    }

    /// Still waiting for an answer after its deadline.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        matches!(self.status.as_str(), "new" | "assigned") && self.due_on < today
    }
}

const COLUMNS: &str = "SELECT f.id, f.reference, f.channel, f.category, f.sector, f.country_code, f.site_id, \
    s.name AS site_name, f.body, f.contact, f.wants_reply, f.status, f.assigned_to, u.display_name AS assigned_name, \
    f.assigned_at, f.due_on, f.response, f.responded_at, f.closed_at, f.loop_closed_at, f.satisfaction, f.created_by, \
    f.created_at, f.updated_at \
    FROM feedback_items f LEFT JOIN sites s ON s.id = f.site_id LEFT JOIN users u ON u.id = f.assigned_to";

/// An item to take in; text already sealed with the context of `reference`.
#[derive(Debug, Clone)]
pub struct NewFeedback {
    pub reference: String,
    pub channel: String,
    pub category: String,
    pub sector: String,
    pub country_code: String,
    pub site_id: Option<i64>,
    pub body: String,
    pub contact: Option<String>,
    pub wants_reply: bool,
    /// `None`: the public web form.
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// Checks the coded fields of an item (the free text is checked before it is sealed).
pub fn check_codes(problems: &mut Problems, channel: &str, category: &str, sector: &str) {
    for (field, value, allowed) in
        [("channel", channel, CHANNELS), ("category", category, CATEGORIES), ("sector", sector, SECTORS)]
    {
        if value.trim().is_empty() {
            problems.push(field, "is required");
        } else if !allowed.contains(&value) {
            problems.push(field, format!("'{value}' is not one of: {}", allowed.join(", ")));
        }
    }
}

/// A demo or imported item with its whole history.
#[derive(Debug, Clone)]
pub struct FeedbackSeed {
    pub item: NewFeedback,
    pub status: String,
    pub assigned_to: Option<i64>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub response: Option<String>,
    pub responded_by: Option<i64>,
    pub responded_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub loop_closed: bool,
    pub satisfaction: Option<i32>,
}

/// Which items a reader lists.
#[derive(Debug, Clone, Default)]
pub struct FeedbackFilter {
    /// The reader's countries (`None`: every country).
    pub scope: Option<Vec<String>>,
    /// Where the reader may read PSEA allegations (`None`: every country of her scope).
    /// An empty list: nowhere.
    pub psea_in: Option<Vec<String>>,
    pub country: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub sector: Option<String>,
    pub site_id: Option<i64>,
    pub assigned_to: Option<i64>,
    /// Only items past their deadline and not yet answered (as of `today`).
    pub overdue: bool,
    pub today: Option<NaiveDate>,
    /// Leave PSEA out even where the reader may read it (trends).
    pub without_psea: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Appends the `WHERE` of a [`FeedbackFilter`] (a macro: the builder's engine differs).
macro_rules! push_feedback_filter {
    ($qb:ident, $f:ident) => {{
        $qb.push(" WHERE 1 = 1");
        if let Some(scope) = &$f.scope {
            // An empty scope matches nothing ('' is no country).
            $qb.push(" AND f.country_code IN (");
            let mut sep = $qb.separated(", ");
            sep.push_bind(String::new());
            for c in scope {
                sep.push_bind(c.clone());
            }
            $qb.push(")");
        }
        match (&$f.psea_in, $f.without_psea) {
            (_, true) => {
                $qb.push(" AND f.category <> 'psea'");
            }
            (Some(psea_in), false) => {
                $qb.push(" AND (f.category <> 'psea' OR f.country_code IN (");
                let mut sep = $qb.separated(", ");
                sep.push_bind(String::new());
                for c in psea_in {
                    sep.push_bind(c.clone());
                }
                $qb.push("))");
            }
            (None, false) => {}
        }
        for (column, value) in [
            ("f.country_code", &$f.country),
            ("f.status", &$f.status),
            ("f.category", &$f.category),
            ("f.channel", &$f.channel),
            ("f.sector", &$f.sector),
        ] {
            if let Some(v) = value {
                $qb.push(format!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        if let Some(site) = $f.site_id {
            $qb.push(" AND f.site_id = ").push_bind(site);
        }
        if let Some(user) = $f.assigned_to {
            $qb.push(" AND f.assigned_to = ").push_bind(user);
        }
        if $f.overdue {
            let today = $f.today.unwrap_or_else(|| Utc::now().date_naive());
            $qb.push(" AND f.status IN ('new', 'assigned') AND f.due_on < ").push_bind(today);
        }
    }};
}

/// One item's facts for the trends: no text, no identity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedbackFact {
    pub category: String,
    pub channel: String,
    pub sector: String,
    pub country_code: String,
    pub status: String,
    pub due_on: NaiveDate,
    pub responded_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<i32>,
    pub created_at: DateTime<Utc>,
}

/// The answer to give: sealed text, and who gives it.
#[derive(Debug, Clone)]
pub struct FeedbackResponse {
    pub response: String,
    pub by: i64,
}

/// Closing the loop: whether the person was told the answer, and how satisfied she was.
#[derive(Debug, Clone, Copy)]
pub struct FeedbackClosure {
    pub told_person: bool,
    pub satisfaction: Option<i32>,
    pub by: i64,
}

impl Store {
    /// Takes in an item (the reference must be new), with its audit line.
    #[tracing::instrument(skip_all)]
    pub async fn create_feedback(&self, actor: &Actor, new: &NewFeedback) -> Result<FeedbackRow> {
        let due_on = new.created_at.date_naive() + chrono::Days::new(days_to_respond(&new.category).unsigned_abs());
        let id = run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            if let Some(site) = new.site_id {
                let country: Option<String> = sqlx::query_scalar("SELECT country_code FROM sites WHERE id = $1")
                    .bind(site)
                    .fetch_optional(&mut *tx)
                    .await?;
                match country {
                    None => return Err(StoreError::invalid("site_id", format!("there is no site {site}"))),
                    Some(c) if c != new.country_code => {
                        return Err(StoreError::invalid(
                            "site_id",
                            format!("site {site} is in {c}, not in {}", new.country_code),
                        ));
                    }
                    Some(_) => {}
                }
            }
            let known: Option<String> = sqlx::query_scalar("SELECT code FROM countries WHERE code = $1")
                .bind(&new.country_code)
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() {
                return Err(StoreError::invalid("country_code", format!("there is no country '{}'", new.country_code)));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO feedback_items (reference, channel, category, sector, country_code, site_id, body, contact, \
                 wants_reply, status, due_on, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'new', $10, $11, $12, $13) RETURNING id",
            )
            .bind(&new.reference)
            .bind(&new.channel)
            .bind(&new.category)
            .bind(&new.sector)
            .bind(&new.country_code)
            .bind(new.site_id)
            .bind(&new.body)
            .bind(&new.contact)
            .bind(new.wants_reply)
            .bind(due_on)
            .bind(new.created_by)
            .bind(new.created_at)
            .bind(new.created_at)
            .fetch_one(&mut *tx)
            .await?;
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "create",
                    entity: "feedback",
                    entity_id: id.to_string(),
                    country_code: Some(&new.country_code),
                    // No text and no category: the log is read by administrators, who must
                    // not learn that an allegation was made.
                    detail: json!({ "channel": new.channel, "due_on": due_on }),
                },
            )
            .await?;
            tx.commit().await?;
            id
        });
        self.feedback(id).await
    }

    /// Stores many items with their history in one transaction and one audit line (the demo).
    #[tracing::instrument(skip_all, fields(items = seeds.len()))]
    pub async fn import_feedback(&self, actor: &Actor, seeds: &[FeedbackSeed]) -> Result<usize> {
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            for s in seeds {
                let n = &s.item;
                let due_on = n.created_at.date_naive() + chrono::Days::new(days_to_respond(&n.category).unsigned_abs());
                let updated = s.closed_at.or(s.responded_at).or(s.assigned_at).unwrap_or(n.created_at);
                sqlx::query(
                    "INSERT INTO feedback_items (reference, channel, category, sector, country_code, site_id, body, \
                     contact, wants_reply, status, assigned_to, assigned_at, due_on, response, responded_by, \
                     responded_at, closed_by, closed_at, loop_closed_at, satisfaction, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                     $21, $22, $23)",
                )
                .bind(&n.reference)
                .bind(&n.channel)
                .bind(&n.category)
                .bind(&n.sector)
                .bind(&n.country_code)
                .bind(n.site_id)
                .bind(&n.body)
                .bind(&n.contact)
                .bind(n.wants_reply)
                .bind(&s.status)
                .bind(s.assigned_to)
                .bind(s.assigned_at)
                .bind(due_on)
                .bind(&s.response)
                .bind(s.responded_by)
                .bind(s.responded_at)
                .bind(s.closed_at.and(s.responded_by))
                .bind(s.closed_at)
                .bind(s.closed_at.filter(|_| s.loop_closed))
                .bind(s.satisfaction)
                .bind(n.created_by)
                .bind(n.created_at)
                .bind(updated)
                .execute(&mut *tx)
                .await?;
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: "import",
                    entity: "feedback",
                    entity_id: "demo".into(),
                    country_code: None,
                    detail: json!({ "items": seeds.len() }),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(seeds.len())
        })
    }

    /// One item, whoever may read it (the server decides).
    pub async fn feedback(&self, id: i64) -> Result<FeedbackRow> {
        run!(self, |pool, _h| {
            sqlx::query_as(&format!("{COLUMNS} WHERE f.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound { entity: "feedback item" })
        })
    }

    /// The item with this public reference.
    pub async fn feedback_by_reference(&self, reference: &str) -> Result<Option<FeedbackRow>> {
        run!(self, |pool, _h| {
            Ok(sqlx::query_as(&format!("{COLUMNS} WHERE f.reference = $1"))
                .bind(reference)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// The items a filter lets through, newest first, with the total.
    pub async fn list_feedback(&self, f: &FeedbackFilter) -> Result<crate::model::Page<FeedbackRow>> {
        let limit = f.limit.unwrap_or(100).clamp(1, 100_000);
        let offset = f.offset.unwrap_or(0).max(0);
        run!(self, |pool, _h| {
            let mut count = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM feedback_items f");
            push_feedback_filter!(count, f);
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            let mut qb = sqlx::QueryBuilder::new(COLUMNS);
            push_feedback_filter!(qb, f);
            qb.push(" ORDER BY f.id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
            let items = qb.build_query_as().fetch_all(pool).await?;
            Ok(crate::model::Page { items, total })
        })
    }

    /// The facts of every item a filter lets through, for the trends (no text).
    pub async fn feedback_facts(&self, f: &FeedbackFilter) -> Result<Vec<FeedbackFact>> {
        run!(self, |pool, _h| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT f.category, f.channel, f.sector, f.country_code, f.status, f.due_on, f.responded_at, \
                 f.satisfaction, f.created_at FROM feedback_items f",
            );
            push_feedback_filter!(qb, f);
            qb.push(" ORDER BY f.id");
            Ok(qb.build_query_as().fetch_all(pool).await?)
        })
    }

    /// Gives the item to a user (from `new`, or again while `assigned`).
    #[tracing::instrument(skip_all, fields(id))]
    pub async fn assign_feedback(&self, actor: &Actor, id: i64, user: i64) -> Result<FeedbackRow> {
        let now = Utc::now();
        self.transition(
            actor,
            Step {
                id,
                action: "assign",
                from: &["new", "assigned"],
                refusal: "it was answered already: an answered item keeps its handler",
                set: "status = 'assigned', assigned_to = $1, assigned_at = $2, updated_at = $2",
                values: vec![Val::Int(user), Val::Time(now)],
                detail: json!({ "assigned_to": user }),
            },
        )
        .await
    }

    /// Records the answer (from `new` or `assigned`; an unassigned item goes to whoever
    /// answers it).
    #[tracing::instrument(skip_all, fields(id))]
    pub async fn respond_feedback(&self, actor: &Actor, id: i64, r: &FeedbackResponse) -> Result<FeedbackRow> {
        self.transition(
            actor,
            Step {
                id,
                action: "respond",
                from: &["new", "assigned"],
                refusal: "it was answered already",
                set: "status = 'responded', response = $1, responded_by = $2, responded_at = $3, \
                      assigned_to = COALESCE(assigned_to, $2), assigned_at = COALESCE(assigned_at, $3), updated_at = $3",
                values: vec![Val::Text(r.response.clone()), Val::Int(r.by), Val::Time(Utc::now())],
                detail: json!({ "responded_by": r.by }),
            },
        )
        .await
    }

    /// Closes the loop (only an answered item).
    #[tracing::instrument(skip_all, fields(id))]
    pub async fn close_feedback(&self, actor: &Actor, id: i64, c: FeedbackClosure) -> Result<FeedbackRow> {
        let now = Utc::now();
        self.transition(
            actor,
            Step {
                id,
                action: "close",
                from: &["responded"],
                refusal: "only an answered item is closed, once: answer it first",
                set: "status = 'closed', closed_by = $1, closed_at = $2, loop_closed_at = $3, satisfaction = $4, \
                      updated_at = $2",
                values: vec![
                    Val::Int(c.by),
                    Val::Time(now),
                    Val::OptTime(c.told_person.then_some(now)),
                    Val::OptInt(c.satisfaction),
                ],
                detail: json!({ "told_person": c.told_person, "satisfaction": c.satisfaction }),
            },
        )
        .await
    }

    /// One step of the state machine: the `UPDATE` only applies from the states in `from`;
    /// otherwise nothing changes and the caller is told why.
    async fn transition(&self, actor: &Actor, step: Step) -> Result<FeedbackRow> {
        let current = self.feedback(step.id).await?;
        let from = step.from.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "UPDATE feedback_items SET {} WHERE id = ${} AND status IN ({from})",
            step.set,
            step.values.len() + 1
        );
        run!(self, |pool, h| {
            let mut tx = h::begin_write(pool).await?;
            let mut q = sqlx::query(&sql);
            for v in &step.values {
                q = match v {
                    Val::Int(i) => q.bind(*i),
                    Val::OptInt(i) => q.bind(*i),
                    Val::Text(t) => q.bind(t.clone()),
                    Val::Time(t) => q.bind(*t),
                    Val::OptTime(t) => q.bind(*t),
                };
            }
            let done = q.bind(step.id).execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::conflict(
                    "status",
                    format!(
                        "feedback item {} is {}: it cannot be {}, {}",
                        step.id,
                        current.status,
                        past(step.action),
                        step.refusal
                    ),
                ));
            }
            h::audit(
                &mut tx,
                AuditEvent {
                    actor,
                    action: step.action,
                    entity: "feedback",
                    entity_id: step.id.to_string(),
                    country_code: Some(&current.country_code),
                    detail: step.detail,
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.feedback(step.id).await
    }
}

fn past(action: &str) -> &'static str {
    match action {
        "assign" => "assigned",
        "respond" => "answered",
        _ => "closed",
    }
}

/// A transition: which states it leaves, what it sets (`$1`… bound from `values`, the id
/// comes last) and what the audit line says.
struct Step {
    id: i64,
    action: &'static str,
    from: &'static [&'static str],
    refusal: &'static str,
    set: &'static str,
    values: Vec<Val>,
    detail: serde_json::Value,
}

/// A value bound into a transition's `SET`.
enum Val {
    Int(i64),
    OptInt(Option<i32>),
    Text(String),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
}
