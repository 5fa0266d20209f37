//! The operations behind both the JSON API and the pages: each checks the caller's
//! permission for the countries it touches, then asks the store. Handlers stay thin, and a
//! permission cannot be forgotten on one of the two doors.

use chrono::{Duration, Utc};
use rumbo_domain::boundaries::{AreaIndex, BoundaryOptions, check_geometry, read_boundaries};
use rumbo_domain::permissions::{Permission, may_manage_user};
use rumbo_domain::secrets::{check_password_strength, new_secret, secret_hash};
use rumbo_store::ImportSummary;
use rumbo_store::Store;
use rumbo_store::model::{
    AdminArea, AdminAreaInput, ApiToken, Country, CountryInput, ListFilter, Organisation, OrganisationInput, Page,
    Round, RoundInput, Site, SiteInput, User, UserInput,
};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// Restricts a list filter to the caller's countries, and refuses a country outside them.
pub fn scoped(caller: &Caller, mut filter: ListFilter) -> ApiResult<ListFilter> {
    if let Some(c) = filter.country.as_mut() {
        *c = c.trim().to_uppercase();
        if c.is_empty() {
            filter.country = None;
        }
    }
    if let Some(country) = &filter.country {
        caller.require(Permission::ViewReference, Some(country))?;
    }
    if filter.kind.as_deref().is_some_and(|k| k.trim().is_empty()) {
        filter.kind = None;
    }
    filter.scope = caller.scope();
    Ok(filter)
}

/// The most rows one API call returns; page with `offset` for more.
pub const MAX_API_PAGE: i64 = 1000;

/// [`scoped`], with the page size kept within [`MAX_API_PAGE`].
pub fn scoped_page(caller: &Caller, mut filter: ListFilter) -> ApiResult<ListFilter> {
    filter.limit = Some(filter.limit().min(MAX_API_PAGE));
    scoped(caller, filter)
}

// ---- signing in ----

/// Failed sign-ins in a row before an account is locked.
pub const MAX_LOGIN_FAILURES: i32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;

/// Checks a username and password (pages and API alike). Each attempt is counted before
/// the password is checked, so parallel guesses count too; five wrong ones lock the account
/// for a while, so passwords cannot be guessed at speed.
pub async fn authenticate(store: &Store, username: &str, password: &str) -> ApiResult<User> {
    let Some(credentials) = store.credentials(username).await? else {
        // Spend the time a real check takes, so a missing user does not answer faster.
        let _ = verify_password(password, &DUMMY_HASH).await;
        return Err(ApiError::BadCredentials);
    };
    let user = credentials.user;
    let now = Utc::now();
    if let Some(until) = credentials.locked_until.filter(|u| *u > now) {
        return Err(ApiError::Locked(until));
    }
    if !store.begin_login_attempt(user.id, MAX_LOGIN_FAILURES).await? {
        return Err(ApiError::Locked(now + Duration::minutes(1)));
    }
    if verify_password(password, &credentials.password_hash).await && user.active {
        store.login_succeeded(user.id).await?;
        // Keep the Digest secret in step with the password (OpenRosa clients use Digest).
        store.set_digest_ha1(user.id, crate::openrosa::digest_secret(&user, password).as_deref()).await?;
        return Ok(user);
    }
    if let Some(until) = store.login_failed(user.id, MAX_LOGIN_FAILURES, Duration::minutes(LOCKOUT_MINUTES)).await? {
        let system = rumbo_store::model::Actor::system("rumbo");
        store
            .record(rumbo_store::AuditEvent {
                actor: &system,
                action: "lock",
                entity: "user",
                entity_id: user.id.to_string(),
                country_code: None,
                detail: serde_json::json!({ "username": user.username, "until": until, "failures": MAX_LOGIN_FAILURES }),
            })
            .await?;
        return Err(ApiError::Locked(until));
    }
    Err(ApiError::BadCredentials)
}

/// Password hashing is slow on purpose: it runs on the blocking pool, a few at a time, so
/// that a burst of sign-ins cannot stall the server's other requests.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(_permit) = HASHING.acquire().await else { return false };
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || rumbo_domain::secrets::verify_password(&password, &hash)).await.unwrap_or(false)
}

async fn hash_password(password: &str) -> ApiResult<String> {
    let _permit = HASHING.acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let password = password.to_string();
    tokio::task::spawn_blocking(move || rumbo_domain::secrets::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| rumbo_domain::secrets::hash_password("not a real password"));

// ---- countries ----

pub async fn countries(store: &Store, caller: &Caller) -> ApiResult<Vec<Country>> {
    let mut all = store.list_countries().await?;
    all.retain(|c| caller.user.covers(&c.code));
    Ok(all)
}

pub async fn country(store: &Store, caller: &Caller, code: &str) -> ApiResult<Country> {
    let code = code.trim().to_uppercase();
    caller.require(Permission::ViewReference, Some(&code))?;
    Ok(store.country(&code).await?)
}

pub async fn save_country(store: &Store, caller: &Caller, input: &CountryInput) -> ApiResult<Country> {
    caller.require(Permission::EditCountries, None)?;
    Ok(store.upsert_country(&caller.actor(), input).await?)
}

// ---- admin areas ----

pub async fn admin_area(store: &Store, caller: &Caller, id: i64) -> ApiResult<AdminArea> {
    let area = store.admin_area(id).await?;
    caller.require(Permission::ViewReference, Some(&area.country_code))?;
    Ok(area)
}

fn check_area_geometry(input: &AdminAreaInput) -> ApiResult<()> {
    match input.geometry.as_deref() {
        Some(g) if !g.trim().is_empty() => check_geometry(g).map_err(|m| ApiError::invalid("geometry", m)),
        _ => Ok(()),
    }
}

pub async fn create_admin_area(store: &Store, caller: &Caller, mut input: AdminAreaInput) -> ApiResult<AdminArea> {
    input.normalise();
    caller.require(Permission::EditLocations, Some(&input.country_code))?;
    check_area_geometry(&input)?;
    Ok(store.create_admin_area(&caller.actor(), &input).await?)
}

pub async fn update_admin_area(
    store: &Store,
    caller: &Caller,
    id: i64,
    mut input: AdminAreaInput,
) -> ApiResult<AdminArea> {
    input.normalise();
    let before = store.admin_area(id).await?;
    caller.require(Permission::EditLocations, Some(&before.country_code))?;
    caller.require(Permission::EditLocations, Some(&input.country_code))?;
    if input.geometry.as_deref().is_some_and(|g| g.trim().is_empty()) {
        input.geometry = None;
    }
    check_area_geometry(&input)?;
    Ok(store.update_admin_area(&caller.actor(), id, &input).await?)
}

pub async fn delete_admin_area(store: &Store, caller: &Caller, id: i64) -> ApiResult<i64> {
    let area = store.admin_area(id).await?;
    caller.require(Permission::EditLocations, Some(&area.country_code))?;
    Ok(store.delete_admin_area(&caller.actor(), id).await?)
}

/// Imports a GeoJSON boundary file; every country it touches must be in the caller's scope.
pub async fn import_boundaries(
    store: &Store,
    caller: &Caller,
    text: &str,
    options: &BoundaryOptions,
    replace: bool,
) -> ApiResult<ImportSummary> {
    let areas = read_boundaries(text, options).map_err(ApiError::Invalid)?;
    let mut countries: Vec<&str> = areas.iter().map(|a| a.country_code.as_str()).collect();
    countries.sort_unstable();
    countries.dedup();
    for country in countries {
        caller.require(Permission::ImportBoundaries, Some(country))?;
    }
    Ok(store.import_admin_areas(&caller.actor(), &areas, replace).await?)
}

// ---- sites ----

pub async fn site(store: &Store, caller: &Caller, id: i64) -> ApiResult<Site> {
    let site = store.site(id).await?;
    caller.require(Permission::ViewReference, Some(&site.country_code))?;
    Ok(site)
}

/// Finds the admin area of a site from its coordinates when none is given: the deepest
/// level with boundaries that contains the point.
async fn locate_site(store: &Store, input: &mut SiteInput) -> ApiResult<()> {
    if input.admin_area_pcode.is_some() {
        return Ok(());
    }
    for level in (1..=3).rev() {
        let shapes = store.area_shapes(&input.country_code, level).await?;
        if shapes.is_empty() {
            continue;
        }
        if let Some(pcode) = AreaIndex::new(&shapes).locate(input.longitude, input.latitude) {
            input.admin_area_pcode = Some(pcode.to_string());
            return Ok(());
        }
    }
    Ok(())
}

pub async fn create_site(store: &Store, caller: &Caller, mut input: SiteInput) -> ApiResult<Site> {
    input.normalise();
    caller.require(Permission::EditLocations, Some(&input.country_code))?;
    input.validate()?;
    locate_site(store, &mut input).await?;
    Ok(store.create_site(&caller.actor(), &input).await?)
}

pub async fn update_site(store: &Store, caller: &Caller, id: i64, mut input: SiteInput) -> ApiResult<Site> {
    input.normalise();
    let before = store.site(id).await?;
    caller.require(Permission::EditLocations, Some(&before.country_code))?;
    caller.require(Permission::EditLocations, Some(&input.country_code))?;
    input.validate()?;
    locate_site(store, &mut input).await?;
    Ok(store.update_site(&caller.actor(), id, &input).await?)
}

pub async fn delete_site(store: &Store, caller: &Caller, id: i64) -> ApiResult<i64> {
    let site = store.site(id).await?;
    caller.require(Permission::EditLocations, Some(&site.country_code))?;
    Ok(store.delete_site(&caller.actor(), id).await?)
}

// ---- rounds ----

pub async fn round(store: &Store, caller: &Caller, id: i64) -> ApiResult<Round> {
    let round = store.round(id).await?;
    caller.require(Permission::ViewReference, Some(&round.country_code))?;
    Ok(round)
}

pub async fn create_round(store: &Store, caller: &Caller, mut input: RoundInput) -> ApiResult<Round> {
    input.country_code = input.country_code.trim().to_uppercase();
    caller.require(Permission::EditRounds, Some(&input.country_code))?;
    Ok(store.create_round(&caller.actor(), &input).await?)
}

pub async fn update_round(store: &Store, caller: &Caller, id: i64, mut input: RoundInput) -> ApiResult<Round> {
    input.country_code = input.country_code.trim().to_uppercase();
    let before = store.round(id).await?;
    caller.require(Permission::EditRounds, Some(&before.country_code))?;
    caller.require(Permission::EditRounds, Some(&input.country_code))?;
    Ok(store.update_round(&caller.actor(), id, &input).await?)
}

pub async fn delete_round(store: &Store, caller: &Caller, id: i64) -> ApiResult<i64> {
    let round = store.round(id).await?;
    caller.require(Permission::EditRounds, Some(&round.country_code))?;
    Ok(store.delete_round(&caller.actor(), id).await?)
}

// ---- undo ----

/// What undoing a deletion brought back.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Restored {
    /// `site`, `round` or `admin_area`.
    pub entity: String,
    /// The id of the record as it is now.
    pub id: i64,
    pub country_code: String,
}

/// Undoes a deletion from its audit line: the record is created again as it was, by the
/// same checks as any creation (the caller must be allowed to create it in its country).
pub async fn undo_delete(store: &Store, caller: &Caller, line_id: i64) -> ApiResult<Restored> {
    let line = store.audit_line(line_id).await?;
    let not_undoable = || ApiError::invalid("line", "only the deletion of a site, round or admin area can be undone");
    if line.action != "delete" {
        return Err(not_undoable());
    }
    let detail: serde_json::Value = serde_json::from_str(&line.detail).map_err(|_| not_undoable())?;
    let unreadable =
        |e: serde_json::Error| ApiError::invalid("line", format!("the deleted record cannot be read back: {e}"));
    let (id, country_code) = match line.entity.as_str() {
        "site" => {
            let site = create_site(store, caller, serde_json::from_value(detail).map_err(unreadable)?).await?;
            (site.id, site.country_code)
        }
        "round" => {
            let round = create_round(store, caller, serde_json::from_value(detail).map_err(unreadable)?).await?;
            (round.id, round.country_code)
        }
        "admin_area" => {
            let area = create_admin_area(store, caller, serde_json::from_value(detail).map_err(unreadable)?).await?;
            (area.id, area.country_code)
        }
        _ => return Err(not_undoable()),
    };
    Ok(Restored { entity: line.entity, id, country_code })
}

// ---- organisations ----

pub async fn organisations(store: &Store, caller: &Caller, filter: &ListFilter) -> ApiResult<Page<Organisation>> {
    caller.require(Permission::ViewReference, None)?;
    Ok(store.list_organisations(filter).await?)
}

pub async fn save_organisation(
    store: &Store,
    caller: &Caller,
    id: Option<i64>,
    input: &OrganisationInput,
) -> ApiResult<Organisation> {
    caller.require(Permission::EditOrganisations, None)?;
    Ok(store.save_organisation(&caller.actor(), id, input).await?)
}

// ---- users ----

pub async fn users(store: &Store, caller: &Caller, mut filter: ListFilter) -> ApiResult<Page<User>> {
    caller.require(Permission::ManageUsers, None)?;
    filter.scope = caller.scope();
    Ok(store.list_users(&filter).await?)
}

/// A user the caller may manage.
pub async fn user(store: &Store, caller: &Caller, id: i64) -> ApiResult<User> {
    caller.require(Permission::ManageUsers, None)?;
    let user = store.user(id).await?;
    if !may_manage_user(&caller.user, user.all_countries, &user.countries) {
        return Err(ApiError::Forbidden(format!("{} works in countries outside your scope", user.username)));
    }
    Ok(user)
}

/// Creates (`id` = `None`, password required) or changes a user (password optional).
pub async fn save_user(
    store: &Store,
    caller: &Caller,
    id: Option<i64>,
    mut input: UserInput,
    password: Option<&str>,
) -> ApiResult<User> {
    caller.require(Permission::ManageUsers, None)?;
    input.normalise();
    if let Some(id) = id {
        user(store, caller, id).await?;
    }
    if !may_manage_user(&caller.user, input.all_countries, &input.countries) {
        return Err(ApiError::Forbidden("you may only give users countries within your own scope".into()));
    }
    let password = password.filter(|p| !p.is_empty());
    if id.is_none() && password.is_none() {
        return Err(ApiError::invalid("password", "is required for a new user"));
    }
    if let Some(p) = password {
        check_password_strength(p).map_err(|m| ApiError::invalid("password", m))?;
    }
    if id == Some(caller.user.id) && (input.role != caller.user.role || !input.active) {
        return Err(ApiError::invalid("role", "you cannot change your own role or deactivate yourself"));
    }
    input.validate()?;
    let hash = match password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let saved = store.save_user(&caller.actor(), id, &input, hash.as_deref()).await?;
    crate::openrosa::forget_callers();
    if let Some(p) = password {
        store.set_digest_ha1(saved.id, crate::openrosa::digest_secret(&saved, p).as_deref()).await?;
    } else if crate::openrosa::digest_secret(&saved, "").is_none() {
        // A role that keeps no Digest secret (an enumerator made administrator) loses it.
        store.set_digest_ha1(saved.id, None).await?;
    }
    Ok(saved)
}

/// Sets a password. One's own needs the current password (a stolen session or token must
/// not be enough to take the account over); another user's needs the right to manage them.
pub async fn set_password(
    store: &Store,
    caller: &Caller,
    id: i64,
    password: &str,
    current_password: Option<&str>,
) -> ApiResult<()> {
    if id == caller.user.id {
        let credentials = store.credentials(&caller.user.username).await?.ok_or(ApiError::Unauthorized)?;
        let current = current_password.unwrap_or_default();
        if !verify_password(current, &credentials.password_hash).await {
            return Err(ApiError::invalid("current_password", "is missing or wrong"));
        }
    } else {
        user(store, caller, id).await?;
    }
    check_password_strength(password).map_err(|m| ApiError::invalid("password", m))?;
    let hash = hash_password(password).await?;
    store.set_password(&caller.actor(), id, &hash).await?;
    crate::openrosa::forget_callers();
    let user = store.user(id).await?;
    Ok(store.set_digest_ha1(id, crate::openrosa::digest_secret(&user, password).as_deref()).await?)
}

// ---- API tokens ----

/// Issues a token for the caller; the secret is returned once and stored only as a hash.
pub async fn create_token(
    store: &Store,
    caller: &Caller,
    name: &str,
    expires_in_days: Option<i64>,
) -> ApiResult<(ApiToken, String)> {
    if let Some(days) = expires_in_days
        && !(1..=3650).contains(&days)
    {
        return Err(ApiError::invalid("expires_in_days", "must be between 1 and 3650"));
    }
    let secret = new_secret("rumbo_");
    let expires_at = expires_in_days.map(|d| Utc::now() + Duration::days(d));
    let token =
        store.create_api_token(&caller.actor(), caller.user.id, name, &secret_hash(&secret), expires_at).await?;
    Ok((token, secret))
}
