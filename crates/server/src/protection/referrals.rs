//! Referrals between organisations: sent → accepted or declined → service provided → closed,
//! with deadlines, overdue flags and a chained receipt for each hand-off.
//!
//! The receiving organisation sees only what the person consented to share: the parts named
//! when the referral was sent, and of those only what the consent in force still allows. A
//! withdrawn consent stops all further sharing at once (the receiver then sees the code, the
//! service and the state, nothing about the person).

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use rumbo_domain::permissions::Permission;
use rumbo_store::model::Page;
use rumbo_store::protection::{Consent, NewReferral, Referral, ReferralEvent, ReferralFilter, referral_next};
use rumbo_store::services::ServiceFilter;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use super::cases::{Identity, audit_read, case_for, denied, identity_of, may_work_on};
use crate::AppState;
use crate::auth::{ApiCaller, Caller, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::i18n::Lang;
use crate::pages::{Chrome, PageResult, Posted, render, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases/{code}/referrals", post(api_send))
        .route("/api/v1/referrals", get(api_list))
        .route("/api/v1/referrals/{code}", get(api_get))
        .route("/api/v1/referrals/{code}/{step}", post(api_move))
        .route("/protection/cases/{code}/referrals", post(page_send))
        .route("/protection/referrals", get(list_page))
        .route("/protection/referrals/{code}", get(referral_page))
        .route("/protection/referrals/{code}/{step}", post(page_move))
}

#[derive(OpenApi)]
#[openapi(
    paths(api_send, api_list, api_get, api_move),
    components(schemas(Referral, ReferralEvent, ReferralInput, ReferralView, SharedPerson, StepInput))
)]
pub struct ReferralsDoc;

/// The parts of a case a referral may share, each needing its own consent.
pub const SHAREABLE: &[&str] = &["identity", "contact", "vulnerabilities", "assessment"];

/// How long the receiver has to answer a referral, and to provide the service once accepted.
const ANSWER_WITHIN_HOURS: i64 = 72;
const ANSWER_URGENT_HOURS: i64 = 24;
const PROVIDE_WITHIN_DAYS: i64 = 14;

/// A new referral.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReferralInput {
    pub service_id: i64,
    /// `normal` or `urgent` (24 hours to answer instead of 72).
    #[serde(default = "normal")]
    pub urgency: String,
    /// What the receiver needs to know (sealed; shown to the receiver while consent lasts).
    #[serde(default)]
    pub note: String,
    /// Parts of the case to share: identity, contact, vulnerabilities, assessment. Each needs
    /// the person's consent (share_identity…).
    #[serde(default)]
    pub share: Vec<String>,
}

fn normal() -> String {
    "normal".into()
}

/// A hand-off: an optional note.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct StepInput {
    #[serde(default)]
    pub note: String,
}

/// What a referral shows of the person, limited by consent.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SharedPerson {
    pub sex: String,
    pub age_group: String,
    pub nationality: String,
    /// Names, date of birth, document (with consent to share identity).
    pub identity: Option<Identity>,
    /// Phone and address (with consent to share contact details).
    pub phone: Option<String>,
    pub address: Option<String>,
    pub vulnerabilities: Option<String>,
    /// The latest assessment (with consent to share it).
    pub assessment: Option<String>,
}

/// A referral as one of its two sides sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralView {
    #[serde(flatten)]
    pub referral: Referral,
    /// `sender` or `receiver`.
    pub side: String,
    pub overdue: bool,
    /// The sender's note (while consent lasts).
    pub note: Option<String>,
    /// What the receiver may know of the person; `None` once consent is withdrawn.
    pub person: Option<SharedPerson>,
    /// Why nothing is shared, when nothing is.
    pub withheld: Option<String>,
    /// The next steps the caller may take.
    pub next: Vec<String>,
    pub events: Vec<EventView>,
}

/// A hand-off with its note opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    #[serde(flatten)]
    pub event: ReferralEvent,
    pub text: String,
}

/// Whether the caller receives for the referral's organisation.
fn receives(caller: &Caller, r: &Referral) -> bool {
    caller.allows(Permission::HandleCases, Some(&r.country_code)) && caller.user.organisation_id == Some(r.to_org_id)
}

fn note_context(code: &str) -> String {
    format!("referral:{code}/note")
}

/// A fresh referral code: ten random characters.
fn new_code() -> String {
    let chars = rumbo_domain::secrets::readable_code(10);
    format!("REF-{}-{}", &chars[..5], &chars[5..])
}

/// The active services of a country, for the referral form.
pub async fn service_choices(state: &AppState, country: &str) -> ApiResult<Vec<(i64, String)>> {
    let filter = ServiceFilter {
        country: Some(country.to_owned()),
        active: Some(true),
        limit: Some(1000),
        ..ServiceFilter::default()
    };
    Ok(state
        .store
        .search_services(&filter)
        .await?
        .items
        .into_iter()
        .map(|s| (s.id, format!("{} — {} ({})", s.organisation_acronym, s.name, s.sector.as_str())))
        .collect())
}

/// Sends a referral of a case, sharing what the person consented to.
pub async fn send(
    state: &AppState,
    caller: &Caller,
    case_code: &str,
    input: &ReferralInput,
) -> ApiResult<ReferralView> {
    let case = case_for(state, caller, case_code, "refer").await?;
    if case.status != "open" {
        return Err(ApiError::Conflict {
            field: Some("case".into()),
            message: format!("case {} is closed", case.code),
        });
    }
    let mut problems = Vec::new();
    if !["normal", "urgent"].contains(&input.urgency.as_str()) {
        problems.push(rumbo_store::FieldError::new("urgency", "must be normal or urgent"));
    }
    if input.note.chars().count() > 5000 {
        problems.push(rumbo_store::FieldError::new("note", "is longer than 5000 characters"));
    }
    for part in &input.share {
        if !SHAREABLE.contains(&part.as_str()) {
            problems.push(rumbo_store::FieldError::new(
                "share",
                format!("`{part}` cannot be shared: use {}", SHAREABLE.join(", ")),
            ));
        }
    }
    match state.store.service(input.service_id).await {
        Ok(s) if !s.active => {
            problems.push(rumbo_store::FieldError::new("service_id", format!("service {} is no longer offered", s.id)));
        }
        Ok(s) if s.country_code != case.country_code => problems.push(rumbo_store::FieldError::new(
            "service_id",
            format!("service {} is in {}, the case in {}", s.id, s.country_code, case.country_code),
        )),
        Ok(_) => {}
        Err(_) => problems
            .push(rumbo_store::FieldError::new("service_id", format!("there is no service {}", input.service_id))),
    }
    if !problems.is_empty() {
        denied(
            state,
            caller,
            "referral",
            &case.code,
            Some(&case.country_code),
            json!({ "doing": "send", "refused": "invalid input" }),
        )
        .await;
        return Err(ApiError::Invalid(problems));
    }
    let consent = state.store.consent_in_force(case.id).await?;
    let Some(consent) = consent.filter(|c| c.covers("referral")) else {
        denied(
            state,
            caller,
            "referral",
            &case.code,
            Some(&case.country_code),
            json!({ "doing": "send", "refused": "no consent" }),
        )
        .await;
        return Err(ApiError::Conflict {
            field: Some("consent".into()),
            message: "the person has not consented to be referred (or withdrew consent): record consent first".into(),
        });
    };
    let missing: Vec<&str> =
        input.share.iter().map(String::as_str).filter(|p| !consent.covers(&format!("share_{p}"))).collect();
    if !missing.is_empty() {
        return Err(ApiError::invalid("share", format!("the person did not consent to share: {}", missing.join(", "))));
    }
    let shared: Vec<&str> = SHAREABLE.iter().copied().filter(|p| input.share.iter().any(|s| s == p)).collect();
    let code = new_code();
    let hours = if input.urgency == "urgent" { ANSWER_URGENT_HOURS } else { ANSWER_WITHIN_HOURS };
    let new = NewReferral {
        code: code.clone(),
        case_id: case.id,
        from_org_id: caller.user.organisation_id,
        service_id: input.service_id,
        urgency: input.urgency.clone(),
        shared: shared.join(" "),
        note: state.protection.sealer.seal(&note_context(&code), input.note.trim()),
        respond_by: Utc::now() + Duration::hours(hours),
    };
    state.store.send_referral(&caller.actor(), &new).await?;
    view(state, caller, &code).await
}

/// The referral with this code, if the caller is on one of its two sides; otherwise "not
/// found", and the attempt is audited.
async fn referral_for(state: &AppState, caller: &Caller, code: &str, doing: &str) -> ApiResult<(Referral, bool)> {
    let code = code.trim();
    let found = if code.len() <= 40 { state.store.referral_by_code(code).await? } else { None };
    if let Some(r) = found {
        if receives(caller, &r) {
            return Ok((r, false));
        }
        if let Ok(case) = state.store.case(r.case_id).await
            && may_work_on(caller, &case)
        {
            return Ok((r, true));
        }
        denied(state, caller, "referral", &r.code, Some(&r.country_code), json!({ "doing": doing })).await;
    } else {
        let shown: String = code.chars().take(40).collect();
        denied(state, caller, "referral", &shown, None, json!({ "doing": doing, "exists": false })).await;
    }
    Err(ApiError::NotFound(format!("referral {}", code.chars().take(40).collect::<String>())))
}

/// What the receiver may know of the person now.
async fn shared_person(state: &AppState, r: &Referral, consent: Option<&Consent>) -> ApiResult<Option<SharedPerson>> {
    let Some(consent) = consent.filter(|c| c.covers("referral")) else { return Ok(None) };
    let case = state.store.case(r.case_id).await?;
    let may = |part: &str| r.shared.split_whitespace().any(|p| p == part) && consent.covers(&format!("share_{part}"));
    let identity = if may("identity") || may("contact") { Some(identity_of(state, &case)?) } else { None };
    let assessment = if may("assessment") {
        state
            .store
            .case_entries(case.id)
            .await?
            .iter()
            .rev()
            .find(|e| e.kind == "assessment")
            .map(|e| super::cases::entry_text(state, &case, e))
    } else {
        None
    };
    Ok(Some(SharedPerson {
        sex: case.sex.clone(),
        age_group: case.age_group.clone(),
        nationality: case.nationality.clone(),
        phone: identity.as_ref().filter(|_| may("contact")).map(|i| i.phone.clone()),
        address: identity.as_ref().filter(|_| may("contact")).map(|i| i.address.clone()),
        identity: identity.filter(|_| may("identity")).map(|i| Identity {
            phone: String::new(),
            address: String::new(),
            ..i
        }),
        vulnerabilities: may("vulnerabilities").then(|| case.vulnerabilities.clone()),
        assessment,
    }))
}

/// A referral as the caller's side sees it (an audited read).
pub async fn view(state: &AppState, caller: &Caller, code: &str) -> ApiResult<ReferralView> {
    let (referral, sender) = referral_for(state, caller, code, "read").await?;
    audit_read(state, caller, "referral", &referral.code, &referral.country_code).await?;
    let consent = state.store.consent_in_force(referral.case_id).await?;
    let consented = consent.as_ref().is_some_and(|c| c.covers("referral"));
    let (person, withheld) = if sender {
        (None, None)
    } else if consented {
        (shared_person(state, &referral, consent.as_ref()).await?, None)
    } else {
        (None, Some("the person withdrew consent: nothing more is shared".to_string()))
    };
    let open_note =
        |sealed: &str| state.protection.sealer.open(&note_context(&referral.code), sealed).unwrap_or_default();
    let show_notes = sender || consented;
    let events = state
        .store
        .referral_events(referral.id)
        .await?
        .into_iter()
        .map(|e| EventView { text: if show_notes { open_note(&e.note) } else { String::new() }, event: e })
        .collect();
    let next = referral_next(&referral.status)
        .iter()
        .filter(|s| if **s == "closed" { sender } else { !sender })
        .map(|s| (*s).to_string())
        .collect();
    Ok(ReferralView {
        overdue: referral.overdue(Utc::now()),
        side: if sender { "sender" } else { "receiver" }.into(),
        note: show_notes.then(|| open_note(&referral.note)),
        person,
        withheld,
        next,
        events,
        referral,
    })
}

/// Moves a referral one step: the receiver accepts, declines, marks provided; the sender
/// closes once the service was provided.
pub async fn step(state: &AppState, caller: &Caller, code: &str, step: &str, note: &str) -> ApiResult<ReferralView> {
    let to = match step {
        "accept" => "accepted",
        "decline" => "declined",
        "provide" => "provided",
        "close" => "closed",
        other => {
            return Err(ApiError::NotFound(format!("step {other} (use accept, decline, provide or close)")));
        }
    };
    let (referral, sender) = referral_for(state, caller, code, step).await?;
    let side_ok = if to == "closed" { sender } else { !sender };
    if !side_ok {
        denied(
            state,
            caller,
            "referral",
            &referral.code,
            Some(&referral.country_code),
            json!({ "doing": step, "refused": "wrong side" }),
        )
        .await;
        return Err(ApiError::Forbidden(if sender {
            format!("only the receiving organisation ({}) may {step} this referral", referral.to_org)
        } else {
            "only the sending caseworker closes a referral".to_string()
        }));
    }
    if note.chars().count() > 5000 {
        return Err(ApiError::invalid("note", "is longer than 5000 characters"));
    }
    if to == "declined" && note.trim().is_empty() {
        return Err(ApiError::invalid("note", "say why the referral is declined"));
    }
    let respond_by = (to == "accepted").then(|| Utc::now() + Duration::days(PROVIDE_WITHIN_DAYS));
    let sealed = state.protection.sealer.seal(&note_context(&referral.code), note.trim());
    match state
        .store
        .move_referral(&caller.actor(), referral.id, to, caller.user.organisation_id, &sealed, respond_by)
        .await
    {
        Ok(_) => view(state, caller, code).await,
        Err(e) => {
            denied(
                state,
                caller,
                "referral",
                &referral.code,
                Some(&referral.country_code),
                json!({ "doing": step, "refused": e.to_string() }),
            )
            .await;
            Err(e.into())
        }
    }
}

/// The referrals the caller's side deals with.
pub async fn list(state: &AppState, caller: &Caller, mut filter: ReferralFilter) -> ApiResult<Page<Referral>> {
    caller.require(Permission::HandleCases, None)?;
    if let Some(s) = filter.status.as_deref().filter(|s| !rumbo_store::protection::REFERRAL_STATUSES.contains(s)) {
        return Err(ApiError::invalid("status", format!("`{s}` is not a status")));
    }
    if let Some(d) = filter.direction.as_deref().filter(|d| !["sent", "received"].contains(d)) {
        return Err(ApiError::invalid("direction", format!("`{d}` is not a direction: use sent or received")));
    }
    filter.scope = caller.scope();
    filter.to_org = caller.user.organisation_id;
    filter.all_cases = caller.allows(Permission::SuperviseCases, None);
    filter.case_worker = Some(caller.user.id);
    let mut page = state.store.list_referrals(&filter).await?;
    page.items.retain(|r| receives(caller, r) || caller.allows(Permission::HandleCases, Some(&r.country_code)));
    Ok(page)
}

// ---------- API ----------

#[utoipa::path(post, path = "/api/v1/cases/{code}/referrals", tag = "protection", request_body = ReferralInput,
    responses((status = 201, body = ReferralView), (status = 409, description = "no consent to refer"),
              (status = 422, description = "no such service, or a part the person did not consent to share")))]
async fn api_send(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<ReferralInput>,
) -> ApiResult<(StatusCode, Json<ReferralView>)> {
    Ok((StatusCode::CREATED, Json(send(&state, &caller, &code, &input).await?)))
}

#[utoipa::path(get, path = "/api/v1/referrals", tag = "protection", params(ReferralFilter),
    responses((status = 200, body = inline(Page<Referral>))))]
async fn api_list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(filter): ApiQuery<ReferralFilter>,
) -> ApiResult<Json<Page<Referral>>> {
    Ok(Json(list(&state, &caller, filter).await?))
}

#[utoipa::path(get, path = "/api/v1/referrals/{code}", tag = "protection",
    responses((status = 200, body = ReferralView), (status = 404, description = "no such referral, or not the caller's organisation's")))]
async fn api_get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<ReferralView>> {
    Ok(Json(view(&state, &caller, &code).await?))
}

/// `step`: accept, decline, provide (the receiver) or close (the sender, after provision).
#[utoipa::path(post, path = "/api/v1/referrals/{code}/{step}", tag = "protection", request_body = StepInput,
    responses((status = 200, body = ReferralView), (status = 409, description = "a step out of order")))]
async fn api_move(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath((code, step_name)): ApiPath<(String, String)>,
    OptionalJson(body): OptionalJson<StepInput>,
) -> ApiResult<Json<ReferralView>> {
    let note = body.note;
    Ok(Json(step(&state, &caller, &code, &step_name, &note).await?))
}

// ---------- pages ----------

#[derive(Deserialize)]
struct SendForm {
    service_id: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    share: Vec<String>,
}

async fn page_send(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    Posted { caller, form }: Posted<SendForm>,
) -> PageResult {
    let service_id = form.service_id.trim().parse().map_err(|_| ApiError::invalid("service_id", "choose a service"))?;
    let input = ReferralInput {
        service_id,
        urgency: if form.urgency.is_empty() { normal() } else { form.urgency },
        note: form.note,
        share: form.share,
    };
    let sent = send(&state, &caller, &code, &input).await?;
    Ok(see_other(&format!("/protection/referrals/{}?notice=saved", sent.referral.code)))
}

struct Line {
    r: Referral,
    overdue: bool,
    received: bool,
    due: String,
}

#[derive(Template)]
#[template(path = "protection_referrals.html")]
struct ListPage {
    c: Chrome,
    lines: Vec<Line>,
}

async fn list_page(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    let page = list(&state, &caller, ReferralFilter::default()).await?;
    let now = Utc::now();
    let lines = page
        .items
        .into_iter()
        .map(|r| Line {
            overdue: r.overdue(now),
            received: receives(&caller, &r),
            due: r.respond_by.format("%Y-%m-%d %H:%M").to_string(),
            r,
        })
        .collect();
    Ok(render(&ListPage { c: Chrome::new(lang, Some(&caller), &uri, "prot.referrals"), lines }))
}

#[derive(Template)]
#[template(path = "protection_referral.html")]
struct ReferralPage {
    c: Chrome,
    v: ReferralView,
}

impl ReferralPage {
    /// The step (in the address) that leads to a state.
    #[allow(clippy::unused_self)] // called from the template as a method
    fn step_of(&self, state: &str) -> &'static str {
        match state {
            "accepted" => "accept",
            "declined" => "decline",
            "provided" => "provide",
            _ => "close",
        }
    }
}

async fn referral_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(code): ApiPath<String>,
) -> PageResult {
    let v = view(&state, &caller, &code).await?;
    Ok(render(&ReferralPage { c: Chrome::new(lang, Some(&caller), &uri, "prot.referral"), v }))
}

#[derive(Deserialize)]
struct StepForm {
    #[serde(default)]
    note: String,
}

async fn page_move(
    State(state): State<AppState>,
    ApiPath((code, step_name)): ApiPath<(String, String)>,
    Posted { caller, form }: Posted<StepForm>,
) -> PageResult {
    step(&state, &caller, &code, &step_name, &form.note).await?;
    Ok(see_other(&format!("/protection/referrals/{code}?notice=saved")))
}
