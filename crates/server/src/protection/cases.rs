//! Case management: a person known by a pseudonymous code, identifying fields sealed with the
//! protection key, informed consent, vulnerabilities, the case file (assessments, service
//! plan, follow-ups, notes), closure, caseloads and transfers.
//!
//! Who may open a case file: its caseworker, and the protection focal points (supervisors)
//! of its country. Anyone else is told it does not exist, and the attempt is audited. Every
//! read of a case file is audited.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use rumbo_domain::permissions::Permission;
use rumbo_store::AuditEvent;
use rumbo_store::model::{Page, Role};
use rumbo_store::protection::{
    CLOSURE_REASONS, CONSENT_PURPOSES, CaseEntry, CaseFilter, CaseProfile, CaseRecord, Caseload, Consent, ENTRY_KINDS,
    NewCase, NewEntry, RISKS, Referral, VULNERABILITIES,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::auth::{ApiCaller, Caller, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::i18n::Lang;
use crate::pages::{Chrome, PageResult, Posted, render, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", get(api_list).post(api_open))
        .route("/api/v1/caseloads", get(api_caseloads))
        .route("/api/v1/cases/{code}", get(api_get).put(api_update))
        .route("/api/v1/cases/{code}/entries", post(api_add_entry))
        .route("/api/v1/cases/{code}/entries/{id}/done", post(api_entry_done))
        .route("/api/v1/cases/{code}/consent", post(api_consent))
        .route("/api/v1/cases/{code}/consent/withdraw", post(api_withdraw))
        .route("/api/v1/cases/{code}/transfer", post(api_transfer))
        .route("/protection", get(hub))
        .route("/protection/cases", get(list_page).post(page_open))
        .route("/protection/cases/new", get(new_page))
        .route("/protection/cases/{code}", get(case_page))
        .route("/protection/cases/{code}/entries", post(page_add_entry))
        .route("/protection/cases/{code}/entries/{id}/done", post(page_entry_done))
        .route("/protection/cases/{code}/consent", post(page_consent))
        .route("/protection/cases/{code}/consent/withdraw", post(page_withdraw))
        .route("/protection/cases/{code}/transfer", post(page_transfer))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api_list,
        api_open,
        api_caseloads,
        api_get,
        api_update,
        api_add_entry,
        api_entry_done,
        api_consent,
        api_withdraw,
        api_transfer
    ),
    components(schemas(
        CaseRecord,
        Identity,
        CaseInput,
        ProfileInput,
        ConsentInput,
        CaseView,
        EntryView,
        EntryInput,
        Consent,
        Caseload,
        TransferInput,
        WithdrawInput
    ))
)]
pub struct CasesDoc;

/// The identifying fields of a person: sealed together, never stored in clear.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Identity {
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    /// `YYYY-MM-DD`, if known.
    #[serde(default)]
    pub date_of_birth: String,
    /// Document type and number (passport, national id…).
    #[serde(default)]
    pub document: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
}

impl Identity {
    fn check(&self, problems: &mut Vec<rumbo_store::FieldError>) {
        if self.given_name.trim().is_empty() && self.family_name.trim().is_empty() {
            problems.push(rumbo_store::FieldError::new("identity.given_name", "a name (or an alias) is required"));
        }
        for (field, value) in [
            ("identity.given_name", &self.given_name),
            ("identity.family_name", &self.family_name),
            ("identity.document", &self.document),
            ("identity.phone", &self.phone),
            ("identity.address", &self.address),
        ] {
            if value.chars().count() > 200 {
                problems.push(rumbo_store::FieldError::new(field, "is longer than 200 characters"));
            }
        }
        if !self.date_of_birth.trim().is_empty()
            && NaiveDate::parse_from_str(self.date_of_birth.trim(), "%Y-%m-%d").is_err()
        {
            problems.push(rumbo_store::FieldError::new("identity.date_of_birth", "must be a date: YYYY-MM-DD"));
        }
    }
}

/// Consent as recorded with the person.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ConsentInput {
    /// Codes from: case_management, referral, share_identity, share_contact,
    /// share_vulnerabilities, share_assessment.
    pub purposes: Vec<String>,
    /// `verbal`, `written` or `guardian` (for a child, by the parent or guardian).
    pub method: String,
    pub given_on: NaiveDate,
}

impl ConsentInput {
    fn check(&self, field: &str, problems: &mut Vec<rumbo_store::FieldError>) {
        for p in &self.purposes {
            if !CONSENT_PURPOSES.contains(&p.as_str()) {
                problems.push(rumbo_store::FieldError::new(
                    format!("{field}.purposes"),
                    format!("`{p}` is not a purpose: use {}", CONSENT_PURPOSES.join(", ")),
                ));
            }
        }
        if !self.purposes.iter().any(|p| p == "case_management") {
            problems.push(rumbo_store::FieldError::new(
                format!("{field}.purposes"),
                "must include case_management: a case is only opened with the person's consent",
            ));
        }
        if !["verbal", "written", "guardian"].contains(&self.method.as_str()) {
            problems
                .push(rumbo_store::FieldError::new(format!("{field}.method"), "must be verbal, written or guardian"));
        }
        if self.given_on > Utc::now().date_naive() {
            problems.push(rumbo_store::FieldError::new(format!("{field}.given_on"), "is in the future"));
        }
    }

    fn purposes(&self) -> String {
        let mut p: Vec<&str> =
            CONSENT_PURPOSES.iter().copied().filter(|c| self.purposes.iter().any(|p| p == c)).collect();
        p.dedup();
        p.join(" ")
    }
}

/// The profile of a case (non-identifying fields and the identity).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ProfileInput {
    #[serde(default = "medium")]
    pub risk: String,
    /// `female`, `male`, `other` or empty.
    #[serde(default)]
    pub sex: String,
    /// `0_4`, `5_11`, `12_17`, `18_59`, `60_plus` or empty.
    #[serde(default)]
    pub age_group: String,
    /// ISO alpha-3 code, or empty.
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub vulnerabilities: Vec<String>,
    pub identity: Identity,
}

fn medium() -> String {
    "medium".into()
}

const SEXES: &[&str] = &["female", "male", "other"];
const AGE_GROUPS: &[&str] = &["0_4", "5_11", "12_17", "18_59", "60_plus"];

impl ProfileInput {
    fn check(&self, problems: &mut Vec<rumbo_store::FieldError>) {
        use rumbo_store::FieldError as E;
        if !RISKS.contains(&self.risk.as_str()) {
            problems.push(E::new("risk", format!("must be one of: {}", RISKS.join(", "))));
        }
        if !self.sex.is_empty() && !SEXES.contains(&self.sex.as_str()) {
            problems.push(E::new("sex", "must be female, male, other or empty"));
        }
        if !self.age_group.is_empty() && !AGE_GROUPS.contains(&self.age_group.as_str()) {
            problems.push(E::new("age_group", format!("must be one of: {}", AGE_GROUPS.join(", "))));
        }
        if !self.nationality.is_empty()
            && (self.nationality.len() != 3 || !self.nationality.bytes().all(|b| b.is_ascii_uppercase()))
        {
            problems.push(E::new("nationality", "must be an ISO 3166-1 alpha-3 code, e.g. VEN"));
        }
        for v in &self.vulnerabilities {
            if !VULNERABILITIES.contains(&v.as_str()) {
                problems.push(E::new(
                    "vulnerabilities",
                    format!("`{v}` is not a category: use {}", VULNERABILITIES.join(", ")),
                ));
            }
        }
        self.identity.check(problems);
    }

    fn vulnerabilities(&self) -> String {
        VULNERABILITIES
            .iter()
            .copied()
            .filter(|c| self.vulnerabilities.iter().any(|v| v == c))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A new case.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CaseInput {
    /// ISO alpha-3 code of the country where the case is followed.
    pub country: String,
    /// The alert the case is opened from, if any.
    #[serde(default)]
    pub alert_id: Option<i64>,
    /// The caseworker (supervisors only; default: the caller).
    #[serde(default)]
    pub caseworker_id: Option<i64>,
    #[serde(flatten)]
    pub profile: ProfileInput,
    pub consent: ConsentInput,
}

/// A case file as its caseworker reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: CaseRecord,
    pub identity: Identity,
    /// The consent in force, if any.
    pub consent: Option<Consent>,
    pub consents: Vec<Consent>,
    pub entries: Vec<EntryView>,
    #[schema(value_type = Vec<Object>)]
    pub referrals: Vec<Referral>,
}

/// An entry of the case file, its text opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    #[serde(flatten)]
    pub entry: CaseEntry,
    pub text: String,
}

/// A new entry: an assessment, a service-plan action, a follow-up, a note, a closure or a
/// reopening.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct EntryInput {
    pub kind: String,
    pub text: String,
    /// For service-plan actions and follow-ups: when it is due.
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// For a closure: goals_met, moved_on, transferred_out, consent_withdrawn, lost_contact,
    /// deceased, other.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TransferInput {
    pub caseworker_id: i64,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WithdrawInput {
    #[serde(default)]
    pub note: String,
}

// ---------- access ----------

/// Whether the caller may work on the case: its caseworker, or a supervisor of its country.
pub fn may_work_on(caller: &Caller, case: &CaseRecord) -> bool {
    caller.allows(Permission::SuperviseCases, Some(&case.country_code))
        || (caller.allows(Permission::HandleCases, Some(&case.country_code)) && case.caseworker_id == caller.user.id)
}

/// The case with this code if the caller may work on it; otherwise "not found" (a forged or
/// foreign code learns nothing) and the attempt is audited.
pub async fn case_for(state: &AppState, caller: &Caller, code: &str, doing: &str) -> ApiResult<CaseRecord> {
    let code = code.trim();
    let found = if code.len() <= 40 { state.store.case_by_code(code).await? } else { None };
    match found {
        Some(case) if may_work_on(caller, &case) => Ok(case),
        found => {
            let detail = json!({ "doing": doing, "exists": found.is_some() });
            let country = found.as_ref().map(|c| c.country_code.clone());
            denied(state, caller, "case", &code.chars().take(40).collect::<String>(), country.as_deref(), detail).await;
            Err(ApiError::NotFound(format!("case {}", code.chars().take(40).collect::<String>())))
        }
    }
}

/// Records a refused attempt in the audit log.
pub async fn denied(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    id: &str,
    country: Option<&str>,
    detail: serde_json::Value,
) {
    let actor = caller.actor();
    let event = AuditEvent {
        actor: &actor,
        action: "denied",
        entity,
        entity_id: id.to_string(),
        country_code: country,
        detail,
    };
    if let Err(e) = state.store.record(event).await {
        tracing::error!(error = %e, "could not audit a refused attempt");
    }
}

/// Records a read in the audit log; the read fails if it cannot be recorded.
pub async fn audit_read(state: &AppState, caller: &Caller, entity: &str, id: &str, country: &str) -> ApiResult<()> {
    let actor = caller.actor();
    state
        .store
        .record(AuditEvent {
            actor: &actor,
            action: "read",
            entity,
            entity_id: id.to_string(),
            country_code: Some(country),
            detail: json!({}),
        })
        .await?;
    Ok(())
}

/// A fresh pseudonymous case code: the country and eight random characters.
fn new_code(country: &str) -> String {
    let chars = rumbo_domain::secrets::readable_code(8);
    format!("{country}-{}-{}", &chars[..4], &chars[4..])
}

fn identity_context(code: &str) -> String {
    format!("case:{code}/identity")
}

fn entry_context(code: &str) -> String {
    format!("case:{code}/entry")
}

/// Opens the sealed identity of a case.
pub fn identity_of(state: &AppState, case: &CaseRecord) -> ApiResult<Identity> {
    let value = state
        .protection
        .sealer
        .open_json(&identity_context(&case.code), &case.identity)
        .map_err(|e| ApiError::Internal(format!("case {}: {e}", case.code)))?;
    serde_json::from_value(value).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Opens the text of a case entry.
pub fn entry_text(state: &AppState, case: &CaseRecord, entry: &CaseEntry) -> String {
    state.protection.sealer.open(&entry_context(&case.code), &entry.body).unwrap_or_else(|_| "(unreadable)".into())
}

fn seal_identity(state: &AppState, code: &str, identity: &Identity) -> (String, Option<String>) {
    let value = serde_json::to_value(identity).unwrap_or_default();
    let sealed = state.protection.sealer.seal_json(&identity_context(code), &value);
    let index = Some(identity.document.trim())
        .filter(|d| !d.is_empty())
        .map(|d| state.protection.sealer.blind_index("document", d));
    (sealed, index)
}

// ---------- operations ----------

/// Opens a case, with its first consent.
pub async fn open(state: &AppState, caller: &Caller, input: &CaseInput) -> ApiResult<CaseView> {
    caller.require(Permission::HandleCases, None)?;
    caller.require(Permission::HandleCases, Some(&input.country))?;
    let mut problems = Vec::new();
    input.profile.check(&mut problems);
    input.consent.check("consent", &mut problems);
    if state.store.country(&input.country).await.is_err() {
        problems.push(rumbo_store::FieldError::new("country", format!("there is no country {}", input.country)));
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    caller.require(Permission::HandleCases, Some(&input.country))?;
    let caseworker = match input.caseworker_id {
        None => caller.user.clone(),
        Some(id) if id == caller.user.id => caller.user.clone(),
        Some(id) => {
            caller.require(Permission::SuperviseCases, Some(&input.country))?;
            let user = state
                .store
                .user(id)
                .await
                .map_err(|_| ApiError::invalid("caseworker_id", format!("there is no user {id}")))?;
            if !rumbo_domain::permissions::allows(&user, Permission::HandleCases, Some(&input.country)) {
                return Err(ApiError::invalid(
                    "caseworker_id",
                    format!("{} does not work on cases in {}", user.username, input.country),
                ));
            }
            user
        }
    };
    if let Some(alert) = input.alert_id {
        let a = state
            .store
            .alert(alert)
            .await
            .ok()
            .filter(|a| caller.allows(Permission::HandleAlerts, Some(&a.country_code)));
        let Some(a) = a else { return Err(ApiError::invalid("alert_id", format!("there is no alert {alert}"))) };
        if a.country_code != input.country {
            return Err(ApiError::invalid(
                "alert_id",
                format!("alert {alert} is of {}, not {}", a.country_code, input.country),
            ));
        }
    }
    let code = new_code(&input.country);
    let (identity, document_index) = seal_identity(state, &code, &input.profile.identity);
    let new = NewCase {
        code: code.clone(),
        country_code: input.country.clone(),
        organisation_id: caseworker.organisation_id,
        caseworker_id: caseworker.id,
        risk: input.profile.risk.clone(),
        sex: input.profile.sex.clone(),
        age_group: input.profile.age_group.clone(),
        nationality: input.profile.nationality.clone(),
        vulnerabilities: input.profile.vulnerabilities(),
        identity,
        document_index,
        alert_id: input.alert_id,
    };
    let case = state.store.open_case(&caller.actor(), &new).await?;
    state
        .store
        .record_consent(
            &caller.actor(),
            case.id,
            &input.consent.purposes(),
            &input.consent.method,
            input.consent.given_on,
        )
        .await?;
    if input.alert_id.is_some() {
        state.analytics.flags().changed();
    }
    view(state, caller, &code).await
}

/// The whole case file (an audited read).
pub async fn view(state: &AppState, caller: &Caller, code: &str) -> ApiResult<CaseView> {
    let case = case_for(state, caller, code, "read").await?;
    audit_read(state, caller, "case", &case.code, &case.country_code).await?;
    let identity = identity_of(state, &case)?;
    let consents = state.store.consents(case.id).await?;
    let entries = state
        .store
        .case_entries(case.id)
        .await?
        .into_iter()
        .map(|e| EntryView { text: entry_text(state, &case, &e), entry: e })
        .collect();
    let referrals = state.store.referrals_of_case(case.id).await?;
    Ok(CaseView {
        consent: consents.iter().rev().find(|c| c.withdrawn_at.is_none()).cloned(),
        consents,
        entries,
        referrals,
        identity,
        case,
    })
}

/// The cases the caller may see: her own; every case of her countries for a supervisor.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    mut filter: CaseFilter,
    document: Option<&str>,
) -> ApiResult<Page<CaseRecord>> {
    caller.require(Permission::HandleCases, None)?;
    if let Some(c) = &filter.country {
        caller.require(Permission::HandleCases, Some(c))?;
    }
    if let Some(s) = filter.status.as_deref().filter(|s| !["open", "closed", "all"].contains(s)) {
        return Err(ApiError::invalid("status", format!("`{s}` is not a status: use open, closed or all")));
    }
    if let Some(v) = filter.vulnerability.as_deref().filter(|v| !VULNERABILITIES.contains(v)) {
        return Err(ApiError::invalid(
            "vulnerability",
            format!("`{v}` is not a category: use {}", VULNERABILITIES.join(", ")),
        ));
    }
    filter.scope = caller.scope();
    if !caller.allows(Permission::SuperviseCases, None) {
        filter.only_caseworker = Some(caller.user.id);
    }
    if let Some(d) = document.map(str::trim).filter(|d| !d.is_empty()) {
        filter.document_index = Some(state.protection.sealer.blind_index("document", d));
    }
    let mut page = state.store.list_cases(&filter).await?;
    // A supervisor of some countries sees only their cases; the scope filter did that. A
    // caseworker's own cases in a country she no longer covers are left out too.
    page.items.retain(|c| may_work_on(caller, c));
    Ok(page)
}

pub async fn update(state: &AppState, caller: &Caller, code: &str, input: &ProfileInput) -> ApiResult<CaseView> {
    let case = case_for(state, caller, code, "update").await?;
    let mut problems = Vec::new();
    input.check(&mut problems);
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let (identity, document_index) = seal_identity(state, &case.code, &input.identity);
    let profile = CaseProfile {
        risk: input.risk.clone(),
        sex: input.sex.clone(),
        age_group: input.age_group.clone(),
        nationality: input.nationality.clone(),
        vulnerabilities: input.vulnerabilities(),
        identity,
        document_index,
    };
    state.store.update_case(&caller.actor(), case.id, &profile).await?;
    view(state, caller, code).await
}

pub async fn add_entry(state: &AppState, caller: &Caller, code: &str, input: &EntryInput) -> ApiResult<EntryView> {
    let case = case_for(state, caller, code, "add an entry").await?;
    let mut problems = Vec::new();
    if !ENTRY_KINDS.contains(&input.kind.as_str()) || input.kind == "transfer" {
        problems.push(rumbo_store::FieldError::new(
            "kind",
            "must be assessment, service_plan, follow_up, note, closure or reopening (a supervisor transfers a case)",
        ));
    }
    if input.text.trim().is_empty() {
        problems.push(rumbo_store::FieldError::new("text", "is required"));
    } else if input.text.chars().count() > 20_000 {
        problems.push(rumbo_store::FieldError::new("text", "is longer than 20000 characters"));
    }
    if matches!(input.kind.as_str(), "service_plan" | "follow_up") && input.due_on.is_none() {
        problems.push(rumbo_store::FieldError::new("due_on", "a planned action or follow-up needs a date"));
    }
    let reason = input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if input.kind == "closure" {
        match reason {
            Some(r) if CLOSURE_REASONS.contains(&r) => {}
            _ => problems.push(rumbo_store::FieldError::new(
                "reason",
                format!("say why the case is closed: {}", CLOSURE_REASONS.join(", ")),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let entry = NewEntry {
        kind: input.kind.clone(),
        body: state.protection.sealer.seal(&entry_context(&case.code), input.text.trim()),
        due_on: input.due_on,
        to_caseworker: None,
        reason: reason.map(str::to_owned),
    };
    let saved = state.store.add_case_entry(&caller.actor(), case.id, &entry).await?;
    Ok(EntryView { text: entry_text(state, &case, &saved), entry: saved })
}

pub async fn transfer(state: &AppState, caller: &Caller, code: &str, input: &TransferInput) -> ApiResult<CaseView> {
    let case = case_for(state, caller, code, "transfer").await?;
    caller.require(Permission::SuperviseCases, Some(&case.country_code))?;
    let to = state
        .store
        .user(input.caseworker_id)
        .await
        .map_err(|_| ApiError::invalid("caseworker_id", format!("there is no user {}", input.caseworker_id)))?;
    if !rumbo_domain::permissions::allows(&to, Permission::HandleCases, Some(&case.country_code)) {
        return Err(ApiError::invalid(
            "caseworker_id",
            format!("{} does not work on cases in {}", to.username, case.country_code),
        ));
    }
    if to.id == case.caseworker_id {
        return Err(ApiError::invalid("caseworker_id", format!("the case is {}'s already", to.username)));
    }
    let note =
        if input.note.trim().is_empty() { format!("transferred to {}", to.username) } else { input.note.clone() };
    let entry = NewEntry {
        kind: "transfer".into(),
        body: state.protection.sealer.seal(&entry_context(&case.code), &note),
        to_caseworker: Some(to.id),
        ..NewEntry::default()
    };
    state.store.add_case_entry(&caller.actor(), case.id, &entry).await?;
    view(state, caller, code).await
}

pub async fn consent(state: &AppState, caller: &Caller, code: &str, input: &ConsentInput) -> ApiResult<Consent> {
    let case = case_for(state, caller, code, "record consent").await?;
    let mut problems = Vec::new();
    input.check("consent", &mut problems);
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    Ok(state.store.record_consent(&caller.actor(), case.id, &input.purposes(), &input.method, input.given_on).await?)
}

pub async fn withdraw(state: &AppState, caller: &Caller, code: &str, note: &str) -> ApiResult<()> {
    let case = case_for(state, caller, code, "withdraw consent").await?;
    if note.chars().count() > 500 {
        return Err(ApiError::invalid("note", "is longer than 500 characters"));
    }
    state.store.withdraw_consent(&caller.actor(), case.id, note.trim()).await?;
    Ok(())
}

// ---------- API ----------

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct ListQuery {
    #[serde(flatten)]
    #[param(inline)]
    filter: CaseFilter,
    /// Exact document number (matched through its blind index, never stored in clear).
    document: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "protection", params(CaseFilter),
    responses((status = 200, body = inline(Page<CaseRecord>))))]
async fn api_list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<CaseRecord>>> {
    Ok(Json(list(&state, &caller, q.filter, q.document.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "protection", request_body = CaseInput,
    responses((status = 201, body = CaseView), (status = 422, description = "a field is wrong; nothing is stored")))]
async fn api_open(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<CaseInput>,
) -> ApiResult<(StatusCode, Json<CaseView>)> {
    Ok((StatusCode::CREATED, Json(open(&state, &caller, &input).await?)))
}

#[utoipa::path(get, path = "/api/v1/caseloads", tag = "protection", responses((status = 200, body = [Caseload])))]
async fn api_caseloads(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Vec<Caseload>>> {
    caller.require(Permission::SuperviseCases, None)?;
    Ok(Json(state.store.caseloads(caller.scope().as_deref()).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{code}", tag = "protection",
    responses((status = 200, body = CaseView), (status = 404, description = "no such case, or not the caller's")))]
async fn api_get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(view(&state, &caller, &code).await?))
}

#[utoipa::path(put, path = "/api/v1/cases/{code}", tag = "protection", request_body = ProfileInput, responses((status = 200, body = CaseView)))]
async fn api_update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<ProfileInput>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(update(&state, &caller, &code, &input).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{code}/entries", tag = "protection", request_body = EntryInput,
    responses((status = 201, body = EntryView), (status = 409, description = "the case is closed")))]
async fn api_add_entry(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<EntryInput>,
) -> ApiResult<(StatusCode, Json<EntryView>)> {
    Ok((StatusCode::CREATED, Json(add_entry(&state, &caller, &code, &input).await?)))
}

#[utoipa::path(post, path = "/api/v1/cases/{code}/entries/{id}/done", tag = "protection", responses((status = 204)))]
async fn api_entry_done(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath((code, id)): ApiPath<(String, i64)>,
) -> ApiResult<StatusCode> {
    let case = case_for(&state, &caller, &code, "complete an action").await?;
    state.store.complete_case_entry(&caller.actor(), case.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/cases/{code}/consent", tag = "protection", request_body = ConsentInput,
    responses((status = 201, body = Consent)))]
async fn api_consent(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<ConsentInput>,
) -> ApiResult<(StatusCode, Json<Consent>)> {
    Ok((StatusCode::CREATED, Json(consent(&state, &caller, &code, &input).await?)))
}

#[utoipa::path(post, path = "/api/v1/cases/{code}/consent/withdraw", tag = "protection", request_body = WithdrawInput,
    responses((status = 204), (status = 409, description = "no consent in force")))]
async fn api_withdraw(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
    OptionalJson(body): OptionalJson<WithdrawInput>,
) -> ApiResult<StatusCode> {
    let note = body.note;
    withdraw(&state, &caller, &code, &note).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/cases/{code}/transfer", tag = "protection", request_body = TransferInput,
    responses((status = 200, body = CaseView), (status = 403, description = "only a supervisor transfers cases")))]
async fn api_transfer(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<TransferInput>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(transfer(&state, &caller, &code, &input).await?))
}

// ---------- pages ----------

#[derive(Template)]
#[template(path = "protection_hub.html")]
struct HubPage {
    c: Chrome,
    alerts: Option<i64>,
    cases: Option<i64>,
    referrals: Option<(i64, i64)>,
    rules: bool,
}

async fn hub(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    let any = [Permission::HandleAlerts, Permission::HandleCases, Permission::ManageFlagRules];
    if !any.iter().any(|p| caller.allows(*p, None)) {
        caller.require(Permission::HandleCases, None)?;
    }
    let alerts = if caller.allows(Permission::HandleAlerts, None) {
        let f = rumbo_store::protection::AlertFilter { scope: caller.scope(), limit: Some(1), ..Default::default() };
        Some(state.store.list_alerts(&f).await?.total)
    } else {
        None
    };
    let cases = if caller.allows(Permission::HandleCases, None) {
        Some(list(&state, &caller, CaseFilter::default(), None).await?.total)
    } else {
        None
    };
    let referrals = if caller.allows(Permission::HandleCases, None) {
        let all = super::referrals::list(&state, &caller, rumbo_store::protection::ReferralFilter::default()).await?;
        let now = Utc::now();
        Some((all.total, all.items.iter().filter(|r| r.overdue(now)).count() as i64))
    } else {
        None
    };
    Ok(render(&HubPage {
        c: Chrome::new(lang, Some(&caller), &uri, "nav.protection"),
        alerts,
        cases,
        referrals,
        rules: caller.allows(Permission::ManageFlagRules, None) || caller.allows(Permission::HandleAlerts, None),
    }))
}

struct CaseLine {
    c: CaseRecord,
    vulnerabilities: Vec<&'static str>,
    opened: String,
}

#[derive(Template)]
#[template(path = "protection_cases.html")]
struct ListPage {
    c: Chrome,
    lines: Vec<CaseLine>,
    total: i64,
    loads: Vec<Caseload>,
    status: String,
    vulnerability: String,
    vulnerabilities: Vec<(&'static str, &'static str)>,
    document: String,
}

#[derive(Deserialize, Default)]
struct ListPageQuery {
    status: Option<String>,
    vulnerability: Option<String>,
    document: Option<String>,
}

fn vulnerability_labels(lang: Lang, codes: &str) -> Vec<&'static str> {
    codes.split_whitespace().map(|v| lang.t(&format!("prot.vuln.{v}"))).collect()
}

async fn list_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<ListPageQuery>,
) -> PageResult {
    let status = q.status.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into());
    let vulnerability = q.vulnerability.clone().filter(|s| !s.is_empty());
    let filter =
        CaseFilter { status: Some(status.clone()), vulnerability: vulnerability.clone(), ..CaseFilter::default() };
    let page = list(&state, &caller, filter, q.document.as_deref()).await?;
    let loads = if caller.allows(Permission::SuperviseCases, None) {
        state.store.caseloads(caller.scope().as_deref()).await?
    } else {
        Vec::new()
    };
    let lines = page
        .items
        .into_iter()
        .map(|c| CaseLine {
            vulnerabilities: vulnerability_labels(lang, &c.vulnerabilities),
            opened: c.opened_at.format("%Y-%m-%d").to_string(),
            c,
        })
        .collect();
    Ok(render(&ListPage {
        c: Chrome::new(lang, Some(&caller), &uri, "prot.cases"),
        lines,
        total: page.total,
        loads,
        status,
        vulnerability: vulnerability.unwrap_or_default(),
        vulnerabilities: VULNERABILITIES.iter().map(|v| (*v, lang.t(&format!("prot.vuln.{v}")))).collect(),
        document: q.document.unwrap_or_default(),
    }))
}

#[derive(Template)]
#[template(path = "protection_case_new.html")]
struct NewPage {
    c: Chrome,
    countries: Vec<String>,
    country: String,
    alert: Option<i64>,
    vulnerabilities: Vec<(&'static str, &'static str)>,
    purposes: Vec<(&'static str, &'static str)>,
    today: String,
}

#[derive(Deserialize, Default)]
struct NewQuery {
    alert: Option<i64>,
    country: Option<String>,
}

async fn new_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<NewQuery>,
) -> PageResult {
    caller.require(Permission::HandleCases, None)?;
    let countries: Vec<String> = match caller.scope() {
        Some(c) => c,
        None => state.store.list_countries().await?.into_iter().map(|c| c.code).collect(),
    };
    Ok(render(&NewPage {
        c: Chrome::new(lang, Some(&caller), &uri, "prot.new_case"),
        country: q.country.unwrap_or_else(|| countries.first().cloned().unwrap_or_default()),
        countries,
        alert: q.alert,
        vulnerabilities: VULNERABILITIES.iter().map(|v| (*v, lang.t(&format!("prot.vuln.{v}")))).collect(),
        purposes: CONSENT_PURPOSES.iter().map(|p| (*p, lang.t(&format!("prot.purpose.{p}")))).collect(),
        today: Utc::now().date_naive().to_string(),
    }))
}

/// The new-case form, flat as the browser sends it.
#[derive(Deserialize)]
struct NewCaseForm {
    country: String,
    #[serde(default)]
    alert_id: String,
    #[serde(default)]
    risk: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    age_group: String,
    #[serde(default)]
    nationality: String,
    #[serde(default)]
    vulnerabilities: Vec<String>,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    date_of_birth: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    purposes: Vec<String>,
    #[serde(default)]
    method: String,
    #[serde(default)]
    given_on: String,
}

fn parse_day(value: &str, field: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, "must be a date: YYYY-MM-DD"))
}

async fn page_open(State(state): State<AppState>, Posted { caller, form }: Posted<NewCaseForm>) -> PageResult {
    let input = CaseInput {
        country: form.country.trim().to_uppercase(),
        alert_id: form.alert_id.trim().parse().ok(),
        caseworker_id: None,
        profile: ProfileInput {
            risk: if form.risk.is_empty() { medium() } else { form.risk },
            sex: form.sex,
            age_group: form.age_group,
            nationality: form.nationality.trim().to_uppercase(),
            vulnerabilities: form.vulnerabilities,
            identity: Identity {
                given_name: form.given_name,
                family_name: form.family_name,
                date_of_birth: form.date_of_birth,
                document: form.document,
                phone: form.phone,
                address: form.address,
            },
        },
        consent: ConsentInput {
            purposes: form.purposes,
            method: form.method,
            given_on: parse_day(&form.given_on, "given_on")?,
        },
    };
    let case = open(&state, &caller, &input).await?;
    Ok(see_other(&format!("/protection/cases/{}?notice=saved", case.case.code)))
}

#[derive(Template)]
#[template(path = "protection_case.html")]
struct CasePage {
    c: Chrome,
    v: CaseView,
    vulnerabilities: Vec<&'static str>,
    kinds: Vec<(&'static str, &'static str)>,
    reasons: Vec<(&'static str, &'static str)>,
    purposes: Vec<(&'static str, &'static str)>,
    services: Vec<(i64, String)>,
    caseworkers: Vec<(i64, String)>,
    supervisor: bool,
    today: String,
    now: chrono::DateTime<Utc>,
}

impl CasePage {
    fn purpose_label(&self, code: &str) -> &'static str {
        self.c.t(&format!("prot.purpose.{code}"))
    }
}

async fn case_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(code): ApiPath<String>,
) -> PageResult {
    let v = view(&state, &caller, &code).await?;
    let supervisor = caller.allows(Permission::SuperviseCases, Some(&v.case.country_code));
    let caseworkers = if supervisor {
        let filter = rumbo_store::model::ListFilter { limit: Some(1000), ..Default::default() };
        state
            .store
            .list_users(&filter)
            .await?
            .items
            .into_iter()
            .filter(|u| matches!(u.role, Role::Caseworker | Role::ProtectionFocalPoint))
            .filter(|u| rumbo_domain::permissions::allows(u, Permission::HandleCases, Some(&v.case.country_code)))
            .map(|u| (u.id, format!("{} ({})", u.display_name, u.username)))
            .collect()
    } else {
        Vec::new()
    };
    let services = super::referrals::service_choices(&state, &v.case.country_code).await?;
    Ok(render(&CasePage {
        c: Chrome::new(lang, Some(&caller), &uri, "prot.case"),
        vulnerabilities: vulnerability_labels(lang, &v.case.vulnerabilities),
        kinds: ["assessment", "service_plan", "follow_up", "note", "closure", "reopening"]
            .iter()
            .map(|k| (*k, lang.t(&format!("prot.entry.{k}"))))
            .collect(),
        reasons: CLOSURE_REASONS.iter().map(|r| (*r, lang.t(&format!("prot.closure.{r}")))).collect(),
        purposes: CONSENT_PURPOSES.iter().map(|p| (*p, lang.t(&format!("prot.purpose.{p}")))).collect(),
        services,
        caseworkers,
        supervisor,
        today: Utc::now().date_naive().to_string(),
        now: Utc::now(),
        v,
    }))
}

#[derive(Deserialize)]
struct EntryForm {
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    reason: String,
}

async fn page_add_entry(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    Posted { caller, form }: Posted<EntryForm>,
) -> PageResult {
    let due_on = if form.due_on.trim().is_empty() { None } else { Some(parse_day(&form.due_on, "due_on")?) };
    let input = EntryInput { kind: form.kind, text: form.text, due_on, reason: Some(form.reason) };
    add_entry(&state, &caller, &code, &input).await?;
    Ok(see_other(&format!("/protection/cases/{code}?notice=saved")))
}

async fn page_entry_done(
    State(state): State<AppState>,
    ApiPath((code, id)): ApiPath<(String, i64)>,
    Posted { caller, .. }: Posted<crate::pages::Ignored>,
) -> PageResult {
    let case = case_for(&state, &caller, &code, "complete an action").await?;
    state.store.complete_case_entry(&caller.actor(), case.id, id).await?;
    Ok(see_other(&format!("/protection/cases/{code}?notice=saved")))
}

#[derive(Deserialize)]
struct ConsentForm {
    #[serde(default)]
    purposes: Vec<String>,
    #[serde(default)]
    method: String,
    #[serde(default)]
    given_on: String,
}

async fn page_consent(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    Posted { caller, form }: Posted<ConsentForm>,
) -> PageResult {
    let input =
        ConsentInput { purposes: form.purposes, method: form.method, given_on: parse_day(&form.given_on, "given_on")? };
    consent(&state, &caller, &code, &input).await?;
    Ok(see_other(&format!("/protection/cases/{code}?notice=saved")))
}

#[derive(Deserialize)]
struct WithdrawForm {
    #[serde(default)]
    note: String,
}

async fn page_withdraw(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    Posted { caller, form }: Posted<WithdrawForm>,
) -> PageResult {
    withdraw(&state, &caller, &code, &form.note).await?;
    Ok(see_other(&format!("/protection/cases/{code}?notice=saved")))
}

#[derive(Deserialize)]
struct TransferForm {
    caseworker_id: String,
    #[serde(default)]
    note: String,
}

async fn page_transfer(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    Posted { caller, form }: Posted<TransferForm>,
) -> PageResult {
    let caseworker_id =
        form.caseworker_id.trim().parse().map_err(|_| ApiError::invalid("caseworker_id", "choose a caseworker"))?;
    transfer(&state, &caller, &code, &TransferInput { caseworker_id, note: form.note }).await?;
    // The supervisor still sees the case; a caseworker who handed it on would not.
    Ok(see_other(&format!("/protection/cases/{code}?notice=saved")))
}
