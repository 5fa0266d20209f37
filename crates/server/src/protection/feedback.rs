//! Complaints and feedback (CFM): what people tell the response, taken in from the public
//! web form (`/feedback`) or by staff for hotline calls, feedback boxes and conversations
//! (`/cfm`, `/api/v1/feedback`), then assigned, answered and closed with the person.
//!
//! Need-to-know: reading asks [`Permission::ViewFeedback`] in the item's country, handling
//! [`Permission::HandleFeedback`]; an allegation of sexual exploitation or abuse (PSEA) also
//! needs [`Permission::HandlePsea`] there. For anyone else a PSEA item does not exist: the
//! store leaves it out of lists, counts and trends, its page is a 404 like a missing one,
//! and the refused attempt is written to the audit log. Every read of one by the focal
//! point is written there too.
//!
//! Free text (the message, the contact, the answer) is sealed with a context of the item's
//! reference and the column, so a sealed value copied to another row or column does not
//! open.

mod api;
pub mod demo;
mod pages;
mod public;
mod trends;

use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use rumbo_domain::permissions::Permission;
use rumbo_store::AuditEvent;
use rumbo_store::error::Problems;
use rumbo_store::feedback::{
    self as fb, FeedbackClosure, FeedbackFilter, FeedbackResponse, FeedbackRow, MAX_CONTACT, MAX_TEXT, NewFeedback,
};
use rumbo_store::model::{Actor, Page, User};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

pub use api::FeedbackDoc;
pub use trends::Trends;

pub fn router() -> Router<AppState> {
    Router::new().merge(api::router()).merge(pages::router()).merge(public::router())
}

/// The name public intake and status reads are recorded under in the audit log.
const PUBLIC_ACTOR: &str = "public web form";

/// A new random reference: `FB-` and 10 characters of Crockford's base 32 (no I, L, O, U):
/// 50 bits, not guessable, easy to read out on the phone.
pub fn new_reference() -> String {
    format!("FB-{}", rumbo_domain::secrets::readable_code(10))
}

/// The sealing context of one column of one item.
fn context(reference: &str, column: &str) -> String {
    format!("feedback:{reference}/{column}")
}

/// A feedback item as the API shows it. `body`, `contact` and `response` are only in the
/// answer about one item (not in lists); `contact` only for those who handle feedback.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackItem {
    pub id: i64,
    /// The code the person was given to check the answer.
    pub reference: String,
    /// `web`, `hotline`, `box`, `face_to_face`.
    pub channel: String,
    /// `information_request`, `complaint`, `suggestion`, `thanks`, `psea`, `fraud`.
    pub category: String,
    pub sector: String,
    pub country_code: String,
    pub site_id: Option<i64>,
    pub site_name: Option<String>,
    /// `new`, `assigned`, `responded`, `closed`.
    pub status: String,
    pub wants_reply: bool,
    pub assigned_to: Option<i64>,
    pub assigned_name: Option<String>,
    /// The response deadline.
    pub due_on: NaiveDate,
    /// Past its deadline and not answered.
    pub overdue: bool,
    pub responded_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The person was told the answer when the item was closed.
    pub loop_closed: bool,
    /// 1 to 5, as the person said when the loop was closed.
    pub satisfaction: Option<i32>,
    /// Taken in on the public web form.
    pub from_public: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// What is shown where a sealed value does not open with this server's key.
const UNREADABLE: &str = "[sealed with another key: cannot be read here]";

impl FeedbackItem {
    /// The facts of a row, without its text.
    fn summary(row: &FeedbackRow, today: NaiveDate) -> Self {
        FeedbackItem {
            id: row.id,
            reference: row.reference.clone(),
            channel: row.channel.clone(),
            category: row.category.clone(),
            sector: row.sector.clone(),
            country_code: row.country_code.clone(),
            site_id: row.site_id,
            site_name: row.site_name.clone(),
            status: row.status.clone(),
            wants_reply: row.wants_reply,
            assigned_to: row.assigned_to,
            assigned_name: row.assigned_name.clone(),
            due_on: row.due_on,
            overdue: row.is_overdue(today),
            responded_at: row.responded_at,
            closed_at: row.closed_at,
            loop_closed: row.loop_closed_at.is_some(),
            satisfaction: row.satisfaction,
            from_public: row.created_by.is_none(),
            created_at: row.created_at,
            body: None,
            contact: None,
            response: None,
        }
    }

    /// The whole item, its text opened: the contact only for those who handle feedback.
    fn full(state: &AppState, caller: &Caller, row: &FeedbackRow) -> Self {
        let mut item = Self::summary(row, Utc::now().date_naive());
        item.body = Some(open(state, &row.reference, "body", &row.body));
        if caller.allows(Permission::HandleFeedback, Some(&row.country_code)) {
            item.contact = row.contact.as_deref().map(|c| open(state, &row.reference, "contact", c));
        }
        item.response = row.response.as_deref().map(|r| open(state, &row.reference, "response", r));
        item
    }
}

fn open(state: &AppState, reference: &str, column: &str, sealed: &str) -> String {
    state.protection.sealer.open(&context(reference, column), sealed).unwrap_or_else(|_| UNREADABLE.to_string())
}

/// The filters of a list, as typed (in a query string or a page's filter form); checked by
/// [`FeedbackQuery::filter`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct FeedbackQuery {
    /// ISO alpha-3 code of one country.
    pub country: Option<String>,
    /// `new`, `assigned`, `responded`, `closed`.
    pub status: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub sector: Option<String>,
    pub site_id: Option<String>,
    /// `true`: only items past their deadline and not answered.
    pub overdue: Option<String>,
    /// `me`: only items assigned to the caller.
    pub assigned: Option<String>,
    /// At most this many rows (default 100, at most 1000 through the API).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// `csv` (pages only).
    #[param(ignore)]
    pub format: Option<String>,
}

fn some_text(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl FeedbackQuery {
    /// The store's filter for this caller: her countries, PSEA only where she may read it,
    /// and each typed filter checked (a wrong one is a 422 naming it).
    pub fn filter(&self, caller: &Caller) -> ApiResult<FeedbackFilter> {
        let mut f = reader_filter(caller)?;
        let mut problems = Problems::default();
        f.country = some_text(self.country.as_ref()).map(|c| c.to_uppercase());
        for (field, value, allowed, slot) in [
            ("status", &self.status, fb::STATUSES, &mut f.status),
            ("category", &self.category, fb::CATEGORIES, &mut f.category),
            ("channel", &self.channel, fb::CHANNELS, &mut f.channel),
            ("sector", &self.sector, fb::SECTORS, &mut f.sector),
        ] {
            if let Some(v) = some_text(value.as_ref()) {
                if allowed.contains(&v.as_str()) {
                    *slot = Some(v);
                } else {
                    problems.push(field, format!("'{v}' is not one of: {}", allowed.join(", ")));
                }
            }
        }
        if let Some(site) = some_text(self.site_id.as_ref()) {
            match site.parse() {
                Ok(id) => f.site_id = Some(id),
                Err(_) => problems.push("site_id", format!("'{site}' is not a site id (a number)")),
            }
        }
        match some_text(self.overdue.as_ref()).as_deref() {
            None | Some("false" | "0" | "no") => {}
            Some("true" | "1" | "on" | "yes") => f.overdue = true,
            Some(other) => problems.push("overdue", format!("'{other}' is neither true nor false")),
        }
        match some_text(self.assigned.as_ref()).as_deref() {
            None => {}
            Some("me") => f.assigned_to = Some(caller.user.id),
            Some(other) => problems.push("assigned", format!("'{other}' is not 'me'")),
        }
        problems.into_result()?;
        if let Some(country) = &f.country {
            caller.require(Permission::ViewFeedback, Some(country))?;
        }
        f.limit = self.limit;
        f.offset = self.offset;
        Ok(f)
    }
}

/// What a caller may list at all: her countries, and PSEA only where she is the focal point.
/// Roles without [`Permission::ViewFeedback`] (administrators, enumerators…) get a 403.
pub fn reader_filter(caller: &Caller) -> ApiResult<FeedbackFilter> {
    caller.require(Permission::ViewFeedback, None)?;
    Ok(FeedbackFilter {
        scope: caller.scope(),
        // The scope limits the focal point to her countries; everyone else reads no PSEA.
        psea_in: if caller.allows(Permission::HandlePsea, None) { None } else { Some(Vec::new()) },
        today: Some(Utc::now().date_naive()),
        ..FeedbackFilter::default()
    })
}

/// Whether the caller may read this item.
fn may_read(caller: &Caller, row: &FeedbackRow) -> bool {
    caller.allows(Permission::ViewFeedback, Some(&row.country_code))
        && (!row.is_psea() || caller.allows(Permission::HandlePsea, Some(&row.country_code)))
}

/// Lists items, and records in the audit log which PSEA items the reader saw.
pub async fn list(state: &AppState, caller: &Caller, filter: &FeedbackFilter) -> ApiResult<Page<FeedbackRow>> {
    let page = state.store.list_feedback(filter).await?;
    let sensitive: Vec<i64> = page.items.iter().filter(|r| r.is_psea()).map(|r| r.id).collect();
    if !sensitive.is_empty() {
        state
            .store
            .record(AuditEvent {
                actor: &caller.actor(),
                action: "read",
                entity: "feedback",
                entity_id: "list".into(),
                country_code: filter.country.as_deref(),
                detail: json!({ "sensitive": sensitive }),
            })
            .await?;
    }
    Ok(page)
}

/// One item the caller may read. An item she may not read answers like a missing one (a
/// PSEA item must not be known to exist), after the refused attempt is recorded; a role
/// that reads no feedback at all is told so whatever the id.
pub async fn read(state: &AppState, caller: &Caller, id: i64) -> ApiResult<FeedbackRow> {
    let missing = || ApiError::NotFound(format!("feedback item {id}"));
    let row = match state.store.feedback(id).await {
        Ok(row) => row,
        Err(rumbo_store::StoreError::NotFound { .. }) => {
            caller.require(Permission::ViewFeedback, None)?;
            return Err(missing());
        }
        Err(e) => return Err(e.into()),
    };
    let allowed = may_read(caller, &row);
    if row.is_psea() {
        state
            .store
            .record(AuditEvent {
                actor: &caller.actor(),
                action: if allowed { "read" } else { "read_refused" },
                entity: "feedback",
                entity_id: id.to_string(),
                country_code: Some(&row.country_code),
                detail: json!({ "sensitive": true }),
            })
            .await?;
    }
    if !allowed {
        caller.require(Permission::ViewFeedback, None)?;
        return Err(missing());
    }
    Ok(row)
}

/// An item the caller may read and handle (for the transitions).
async fn handled(state: &AppState, caller: &Caller, id: i64) -> ApiResult<FeedbackRow> {
    let row = read(state, caller, id).await?;
    caller.require(Permission::HandleFeedback, Some(&row.country_code))?;
    if row.is_psea() {
        caller.require(Permission::HandlePsea, Some(&row.country_code))?;
    }
    Ok(row)
}

/// A new item as typed, in the API or a form; its text still plain.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FeedbackInput {
    /// `web`, `hotline`, `box`, `face_to_face` (the public form is always `web`).
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub sector: String,
    /// ISO alpha-3 code of the country.
    #[serde(default)]
    pub country_code: String,
    #[serde(default)]
    pub site_id: Option<i64>,
    /// What the person said.
    #[serde(default)]
    pub body: String,
    /// How to reach her, if she wants to be reached.
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub wants_reply: bool,
}

impl FeedbackInput {
    /// Checks every field, each problem named; the text is trimmed.
    fn check(&mut self) -> ApiResult<()> {
        let mut problems = Problems::default();
        self.country_code = self.country_code.trim().to_uppercase();
        self.body = self.body.trim().to_string();
        self.contact = some_text(self.contact.as_ref());
        if self.country_code.is_empty() {
            problems.push("country_code", "is required");
        }
        fb::check_codes(&mut problems, &self.channel, &self.category, &self.sector);
        problems.text(&self.body, "body", MAX_TEXT);
        if let Some(contact) = &self.contact {
            problems.check(
                contact.chars().count() <= MAX_CONTACT,
                "contact",
                format!("is longer than {MAX_CONTACT} characters"),
            );
        }
        Ok(problems.into_result()?)
    }
}

/// Takes in an item: from staff (`caller`), or from the public web form (`None`).
pub async fn create(state: &AppState, caller: Option<&Caller>, mut input: FeedbackInput) -> ApiResult<FeedbackRow> {
    if caller.is_none() {
        input.channel = "web".into();
    }
    input.check()?;
    if let Some(caller) = caller {
        caller.require(Permission::HandleFeedback, Some(&input.country_code))?;
    }
    let actor = caller.map_or_else(|| Actor::system(PUBLIC_ACTOR), Caller::actor);
    let sealer = &state.protection.sealer;
    // A reference is 50 random bits: two items drawing the same one would make the insert
    // fail on the unique index rather than mix them up.
    let reference = new_reference();
    let new = NewFeedback {
        body: sealer.seal(&context(&reference, "body"), &input.body),
        contact: input.contact.as_deref().map(|c| sealer.seal(&context(&reference, "contact"), c)),
        reference,
        channel: input.channel.clone(),
        category: input.category.clone(),
        sector: input.sector.clone(),
        country_code: input.country_code.clone(),
        site_id: input.site_id,
        wants_reply: input.wants_reply,
        created_by: caller.map(|c| c.user.id),
        created_at: Utc::now(),
    };
    Ok(state.store.create_feedback(&actor, &new).await?)
}

/// Users who may take an item of this country (and category): active, with
/// [`Permission::HandleFeedback`] there, and [`Permission::HandlePsea`] for an allegation.
pub async fn assignees(state: &AppState, country: &str, psea: bool) -> ApiResult<Vec<User>> {
    let filter = rumbo_store::model::ListFilter { limit: Some(100_000), ..Default::default() };
    let mut users = state.store.list_users(&filter).await?.items;
    users.retain(|u| may_take(u, country, psea));
    Ok(users)
}

fn may_take(user: &User, country: &str, psea: bool) -> bool {
    rumbo_domain::permissions::allows(user, Permission::HandleFeedback, Some(country))
        && (!psea || rumbo_domain::permissions::allows(user, Permission::HandlePsea, Some(country)))
}

/// Gives the item to a user who may handle it.
pub async fn assign(state: &AppState, caller: &Caller, id: i64, user_id: Option<i64>) -> ApiResult<FeedbackRow> {
    let row = handled(state, caller, id).await?;
    let Some(user_id) = user_id else { return Err(ApiError::invalid("user_id", "is required")) };
    let user = match state.store.user(user_id).await {
        Ok(u) => u,
        Err(rumbo_store::StoreError::NotFound { .. }) => {
            return Err(ApiError::invalid("user_id", format!("there is no user {user_id}")));
        }
        Err(e) => return Err(e.into()),
    };
    if !may_take(&user, &row.country_code, row.is_psea()) {
        let why = if row.is_psea() {
            format!(
                "{} is not a protection focal point of {}: an allegation of sexual exploitation or abuse goes only to one",
                user.username, row.country_code
            )
        } else {
            format!("{} may not handle complaints and feedback in {}", user.username, row.country_code)
        };
        return Err(ApiError::invalid("user_id", why));
    }
    Ok(state.store.assign_feedback(&caller.actor(), id, user.id).await?)
}

/// Records the answer given (sealed).
pub async fn respond(state: &AppState, caller: &Caller, id: i64, response: &str) -> ApiResult<FeedbackRow> {
    // Who may first: a refused caller learns nothing (not even that the item exists) from
    // a complaint about her input.
    let row = handled(state, caller, id).await?;
    let response = response.trim();
    let mut problems = Problems::default();
    problems.text(response, "response", MAX_TEXT);
    problems.into_result()?;
    let sealed = state.protection.sealer.seal(&context(&row.reference, "response"), response);
    Ok(state
        .store
        .respond_feedback(&caller.actor(), id, &FeedbackResponse { response: sealed, by: caller.user.id })
        .await?)
}

/// Closes the loop with the person.
pub async fn close(
    state: &AppState,
    caller: &Caller,
    id: i64,
    told_person: bool,
    satisfaction: Option<i32>,
) -> ApiResult<FeedbackRow> {
    handled(state, caller, id).await?;
    if let Some(s) = satisfaction
        && !(1..=5).contains(&s)
    {
        return Err(ApiError::invalid("satisfaction", format!("{s} is not between 1 and 5")));
    }
    let closure = FeedbackClosure { told_person, satisfaction, by: caller.user.id };
    Ok(state.store.close_feedback(&caller.actor(), id, closure).await?)
}
