//! The JSON API under `/api/v1`, described by the OpenAPI document at
//! `/api/v1/openapi.json`. Every route but the token route needs a caller
//! (`Authorization: Bearer …`, or the session cookie with `X-CSRF-Token` on writes).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use chrono::{DateTime, Utc};
use rumbo_domain::boundaries::BoundaryOptions;
use rumbo_domain::permissions::Permission;
use rumbo_store::model::{
    AdminArea, AdminAreaInput, ApiToken, AuditRecord, Country, CountryInput, ListFilter, Organisation,
    OrganisationInput, OrganisationKind, Page, Role, Round, RoundInput, RoundStatus, Site, SiteInput, SiteKind, User,
    UserInput,
};
use rumbo_store::{ChainCheck, FieldError, ImportSummary};
use serde::Deserialize;
use utoipa::OpenApi;

use crate::AppState;
use crate::auth::{ApiCaller, Caller};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/auth/token", post(issue_token))
        .route("/api/v1/me", get(me))
        .route("/api/v1/countries", get(list_countries))
        .route("/api/v1/countries/{code}", get(get_country).put(put_country))
        .route("/api/v1/countries/{code}/map.svg", get(country_map))
        .route("/api/v1/admin-areas", get(list_admin_areas).post(create_admin_area))
        .route(
            "/api/v1/admin-areas/import",
            post(import_admin_areas).layer(axum::extract::DefaultBodyLimit::max(crate::MAX_UPLOAD)),
        )
        .route("/api/v1/admin-areas/{id}", get(get_admin_area).put(update_admin_area).delete(delete_admin_area))
        .route("/api/v1/admin-areas/{id}/geometry", get(get_admin_area_geometry))
        .route("/api/v1/sites", get(list_sites).post(create_site))
        .route("/api/v1/sites/{id}", get(get_site).put(update_site).delete(delete_site))
        .route("/api/v1/rounds", get(list_rounds).post(create_round))
        .route("/api/v1/rounds/{id}", get(get_round).put(update_round).delete(delete_round))
        .route("/api/v1/organisations", get(list_organisations).post(create_organisation))
        .route("/api/v1/organisations/{id}", get(get_organisation).put(update_organisation))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user).put(update_user))
        .route("/api/v1/users/{id}/password", put(set_password))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/audit/verify", get(verify_audit))
        .route("/api/v1/undo/{line}", post(undo))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Rumbo API", description = "Rumbo's JSON API. Authenticate with POST /api/v1/auth/token, then send `Authorization: Bearer <token>`. Errors share one body: `code`, `message`, `field`, `errors`."),
    paths(
        issue_token, me, list_countries, get_country, put_country, country_map,
        list_admin_areas, create_admin_area, import_admin_areas, get_admin_area, update_admin_area, delete_admin_area, get_admin_area_geometry,
        list_sites, create_site, get_site, update_site, delete_site,
        list_rounds, create_round, get_round, update_round, delete_round,
        list_organisations, create_organisation, get_organisation, update_organisation,
        list_users, create_user, get_user, update_user, set_password,
        list_tokens, create_token, revoke_token, audit_log, verify_audit, undo,
    ),
    components(schemas(
        ErrorBody, FieldError, Country, CountryInput, AdminArea, AdminAreaInput, Site, SiteInput, SiteKind, Round, RoundInput, RoundStatus,
        Organisation, OrganisationInput, OrganisationKind, User, UserInput, Role, ApiToken, AuditRecord, ChainCheck, ImportSummary,
        TokenRequest, TokenResponse, NewUser, UserUpdate, PasswordChange, NewToken, CreatedToken, ops::Restored,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> impl IntoResponse {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::collect::api::CollectionDoc::openapi());
    doc.merge(crate::collect::import::ImportDoc::openapi());
    doc.merge(crate::analytics::api::AnalyticsDoc::openapi());
    doc.merge(crate::outputs::report::ReportsDoc::openapi());
    doc.merge(crate::outputs::exports::ExportsDoc::openapi());
    doc.merge(crate::protection::feedback::FeedbackDoc::openapi());
    doc.merge(crate::protection::services::ServicesDoc::openapi());
    doc.merge(crate::protection::alerts::AlertsDoc::openapi());
    doc.merge(crate::protection::cases::CasesDoc::openapi());
    doc.merge(crate::protection::referrals::ReferralsDoc::openapi());
    doc.merge(crate::response::ResponseDoc::openapi());
    doc.merge(crate::response::dashboard::OverviewDoc::openapi());
    Json(doc)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
    /// A name to recognise the token by (default: "api").
    #[serde(default)]
    pub name: Option<String>,
    /// Days until the token expires (default 30; 1 to 3650).
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: Option<DateTime<Utc>>,
    pub user: User,
}

/// Exchange a username and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", security(()), request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody, description = "locked after repeated failures")))]
async fn issue_token(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<impl IntoResponse> {
    let user = ops::authenticate(&state.store, &req.username, &req.password).await?;
    let caller = Caller { user, csrf: None };
    let (token, secret) = ops::create_token(
        &state.store,
        &caller,
        req.name.as_deref().unwrap_or("api"),
        Some(req.expires_in_days.unwrap_or(30)),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse { token: secret, token_type: "Bearer", expires_at: token.expires_at, user: caller.user }),
    ))
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
async fn me(ApiCaller(caller): ApiCaller) -> Json<User> {
    Json(caller.user)
}

/// Countries within the caller's scope.
#[utoipa::path(get, path = "/api/v1/countries", tag = "locations", responses((status = 200, body = Vec<Country>)))]
async fn list_countries(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Vec<Country>>> {
    Ok(Json(ops::countries(&state.store, &caller).await?))
}

#[utoipa::path(get, path = "/api/v1/countries/{code}", tag = "locations", params(("code" = String, Path, description = "ISO 3166-1 alpha-3")),
    responses((status = 200, body = Country), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_country(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Country>> {
    Ok(Json(ops::country(&state.store, &caller, &code).await?))
}

/// Create or rename a country (regional administrators).
#[utoipa::path(put, path = "/api/v1/countries/{code}", tag = "locations", request_body = CountryInput,
    params(("code" = String, Path, description = "ISO 3166-1 alpha-3")),
    responses((status = 200, body = Country), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_country(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<CountryInput>,
) -> ApiResult<Json<Country>> {
    if input.code != code {
        return Err(ApiError::invalid("code", format!("the body says {} but the URL says {code}", input.code)));
    }
    Ok(Json(ops::save_country(&state.store, &caller, &input).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct MapQuery {
    /// `en`, `es` or `pt` (default `en`).
    lang: Option<String>,
}

/// The country's admin-1 areas and sites as an SVG map.
#[utoipa::path(get, path = "/api/v1/countries/{code}/map.svg", tag = "locations", params(("code" = String, Path), MapQuery),
    responses((status = 200, content_type = "image/svg+xml", body = String)))]
async fn country_map(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<MapQuery>,
) -> ApiResult<impl IntoResponse> {
    let lang = q.lang.as_deref().and_then(crate::i18n::Lang::parse).unwrap_or_default();
    let svg = crate::pages::map::country_svg(&state, &caller, &code, lang).await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], svg))
}

// ---- admin areas ----

/// Admin areas, filtered by `country`, `level` and free text `q`.
#[utoipa::path(get, path = "/api/v1/admin-areas", tag = "locations", params(ListFilter), responses((status = 200, body = Page<AdminArea>)))]
async fn list_admin_areas(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(f): ApiQuery<ListFilter>,
) -> ApiResult<Json<Page<AdminArea>>> {
    let f = ops::scoped_page(&caller, f)?;
    Ok(Json(state.store.list_admin_areas(&f).await?))
}

#[utoipa::path(post, path = "/api/v1/admin-areas", tag = "locations", request_body = AdminAreaInput,
    responses((status = 201, body = AdminArea), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_admin_area(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<AdminAreaInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(ops::create_admin_area(&state.store, &caller, input).await?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct ImportQuery {
    /// Country of every feature (default: each feature's `adm0_a3` property).
    country: Option<String>,
    /// Admin level of the features (default 1).
    level: Option<i32>,
    /// Merge features that share a p-code into one area.
    #[serde(default)]
    dissolve: bool,
    /// Update areas whose p-code exists already, instead of refusing the file.
    #[serde(default)]
    replace: bool,
    /// Property holding the p-code.
    code_property: Option<String>,
    /// Property holding the name.
    name_property: Option<String>,
    /// Property holding the parent's p-code.
    parent_property: Option<String>,
}

impl ImportQuery {
    fn options(self) -> (BoundaryOptions, bool) {
        let country = self.country.map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty());
        (
            BoundaryOptions {
                level: self.level,
                country,
                code_property: self.code_property.filter(|s| !s.trim().is_empty()),
                name_property: self.name_property.filter(|s| !s.trim().is_empty()),
                parent_property: self.parent_property.filter(|s| !s.trim().is_empty()),
                dissolve: self.dissolve,
            },
            self.replace,
        )
    }
}

/// Load admin areas from a GeoJSON FeatureCollection (the request body): all or nothing.
#[utoipa::path(post, path = "/api/v1/admin-areas/import", tag = "locations", params(ImportQuery),
    request_body(content = String, content_type = "application/geo+json"),
    responses((status = 201, body = ImportSummary), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_admin_areas(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::invalid("file", "is not UTF-8 text"))?;
    let (options, replace) = q.options();
    let summary = ops::import_boundaries(&state.store, &caller, text, &options, replace).await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

#[utoipa::path(get, path = "/api/v1/admin-areas/{id}", tag = "locations", params(("id" = i64, Path)),
    responses((status = 200, body = AdminArea), (status = 404, body = ErrorBody)))]
async fn get_admin_area(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AdminArea>> {
    Ok(Json(ops::admin_area(&state.store, &caller, id).await?))
}

/// The area's boundary as a GeoJSON geometry (404 when it has none).
#[utoipa::path(get, path = "/api/v1/admin-areas/{id}/geometry", tag = "locations", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/geo+json", body = String), (status = 404, body = ErrorBody)))]
async fn get_admin_area_geometry(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<impl IntoResponse> {
    ops::admin_area(&state.store, &caller, id).await?;
    let geometry =
        state.store.area_geometry(id).await?.ok_or_else(|| ApiError::NotFound("boundary of this area".into()))?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], geometry))
}

#[utoipa::path(put, path = "/api/v1/admin-areas/{id}", tag = "locations", params(("id" = i64, Path)), request_body = AdminAreaInput,
    responses((status = 200, body = AdminArea), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_admin_area(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AdminAreaInput>,
) -> ApiResult<Json<AdminArea>> {
    Ok(Json(ops::update_admin_area(&state.store, &caller, id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/admin-areas/{id}", tag = "locations", params(("id" = i64, Path)),
    responses((status = 204), (status = 409, body = ErrorBody)))]
async fn delete_admin_area(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(deleted(ops::delete_admin_area(&state.store, &caller, id).await?))
}

// ---- sites ----

/// Sites and flow-monitoring points, filtered by `country`, `kind` and `q`.
#[utoipa::path(get, path = "/api/v1/sites", tag = "locations", params(ListFilter), responses((status = 200, body = Page<Site>)))]
async fn list_sites(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(f): ApiQuery<ListFilter>,
) -> ApiResult<Json<Page<Site>>> {
    let f = ops::scoped_page(&caller, f)?;
    Ok(Json(state.store.list_sites(&f).await?))
}

/// Create a site; without `admin_area_pcode` its area is found from the coordinates.
#[utoipa::path(post, path = "/api/v1/sites", tag = "locations", request_body = SiteInput,
    responses((status = 201, body = Site), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_site(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<SiteInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(ops::create_site(&state.store, &caller, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "locations", params(("id" = i64, Path)), responses((status = 200, body = Site), (status = 404, body = ErrorBody)))]
async fn get_site(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Site>> {
    Ok(Json(ops::site(&state.store, &caller, id).await?))
}

#[utoipa::path(put, path = "/api/v1/sites/{id}", tag = "locations", params(("id" = i64, Path)), request_body = SiteInput,
    responses((status = 200, body = Site), (status = 422, body = ErrorBody)))]
async fn update_site(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<SiteInput>,
) -> ApiResult<Json<Site>> {
    let site = ops::update_site(&state.store, &caller, id, input).await?;
    state.analytics.sites_changed(&state).await?;
    Ok(Json(site))
}

#[utoipa::path(delete, path = "/api/v1/sites/{id}", tag = "locations", params(("id" = i64, Path)), responses((status = 204)))]
async fn delete_site(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<impl IntoResponse> {
    let line = ops::delete_site(&state.store, &caller, id).await?;
    state.analytics.sites_changed(&state).await?;
    Ok(deleted(line))
}

// ---- rounds ----

/// Rounds, filtered by `country`, status (`kind`) and `q`.
#[utoipa::path(get, path = "/api/v1/rounds", tag = "locations", params(ListFilter), responses((status = 200, body = Page<Round>)))]
async fn list_rounds(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(f): ApiQuery<ListFilter>,
) -> ApiResult<Json<Page<Round>>> {
    let f = ops::scoped_page(&caller, f)?;
    Ok(Json(state.store.list_rounds(&f).await?))
}

#[utoipa::path(post, path = "/api/v1/rounds", tag = "locations", request_body = RoundInput,
    responses((status = 201, body = Round), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_round(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<RoundInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(ops::create_round(&state.store, &caller, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}", tag = "locations", params(("id" = i64, Path)), responses((status = 200, body = Round)))]
async fn get_round(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Round>> {
    Ok(Json(ops::round(&state.store, &caller, id).await?))
}

#[utoipa::path(put, path = "/api/v1/rounds/{id}", tag = "locations", params(("id" = i64, Path)), request_body = RoundInput, responses((status = 200, body = Round)))]
async fn update_round(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RoundInput>,
) -> ApiResult<Json<Round>> {
    Ok(Json(ops::update_round(&state.store, &caller, id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/rounds/{id}", tag = "locations", params(("id" = i64, Path)), responses((status = 204)))]
async fn delete_round(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<impl IntoResponse> {
    let line = ops::delete_round(&state.store, &caller, id).await?;
    // Its submissions no longer have a round: their cells are rebuilt.
    state.analytics.rebuild(&state, None).await?;
    Ok(deleted(line))
}

// ---- organisations ----

#[utoipa::path(get, path = "/api/v1/organisations", tag = "people", params(ListFilter), responses((status = 200, body = Page<Organisation>)))]
async fn list_organisations(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(f): ApiQuery<ListFilter>,
) -> ApiResult<Json<Page<Organisation>>> {
    Ok(Json(ops::organisations(&state.store, &caller, &f).await?))
}

#[utoipa::path(post, path = "/api/v1/organisations", tag = "people", request_body = OrganisationInput, responses((status = 201, body = Organisation)))]
async fn create_organisation(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(ops::save_organisation(&state.store, &caller, None, &input).await?)))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "people", params(("id" = i64, Path)), responses((status = 200, body = Organisation)))]
async fn get_organisation(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Organisation>> {
    caller.require(Permission::ViewReference, None)?;
    Ok(Json(state.store.organisation(id).await?))
}

#[utoipa::path(put, path = "/api/v1/organisations/{id}", tag = "people", params(("id" = i64, Path)), request_body = OrganisationInput, responses((status = 200, body = Organisation)))]
async fn update_organisation(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> ApiResult<Json<Organisation>> {
    Ok(Json(ops::save_organisation(&state.store, &caller, Some(id), &input).await?))
}

// ---- users ----

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    #[serde(flatten)]
    pub user: UserInput,
    /// At least 8 characters.
    pub password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserUpdate {
    #[serde(flatten)]
    pub user: UserInput,
    /// A new password, or leave out to keep it.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    /// At least 8 characters.
    pub password: String,
    /// Required when changing one's own password.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// Users the caller may manage (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "people", params(ListFilter), responses((status = 200, body = Page<User>)))]
async fn list_users(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(f): ApiQuery<ListFilter>,
) -> ApiResult<Json<Page<User>>> {
    Ok(Json(ops::users(&state.store, &caller, f).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "people", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<impl IntoResponse> {
    let user = ops::save_user(&state.store, &caller, None, input.user, Some(&input.password)).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "people", params(("id" = i64, Path)), responses((status = 200, body = User)))]
async fn get_user(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<User>> {
    Ok(Json(ops::user(&state.store, &caller, id).await?))
}

#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "people", params(("id" = i64, Path)), request_body = UserUpdate, responses((status = 200, body = User)))]
async fn update_user(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<UserUpdate>,
) -> ApiResult<Json<User>> {
    Ok(Json(ops::save_user(&state.store, &caller, Some(id), input.user, input.password.as_deref()).await?))
}

/// Set a password: one's own (with `current_password`), or (administrators) another user's.
/// Ends the user's sessions.
#[utoipa::path(put, path = "/api/v1/users/{id}/password", tag = "people", params(("id" = i64, Path)), request_body = PasswordChange, responses((status = 204)))]
async fn set_password(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    ops::set_password(&state.store, &caller, id, &input.password, input.current_password.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- tokens ----

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    pub name: String,
    /// Days until it expires; leave out for a token that does not expire.
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret, shown this once.
    pub secret: String,
}

/// The caller's API tokens.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", responses((status = 200, body = Vec<ApiToken>)))]
async fn list_tokens(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(state.store.list_api_tokens(caller.user.id).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = NewToken, responses((status = 201, body = CreatedToken)))]
async fn create_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<NewToken>,
) -> ApiResult<impl IntoResponse> {
    let (token, secret) = ops::create_token(&state.store, &caller, &input.name, input.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.store.revoke_api_token(&caller.actor(), caller.user.id, id).await?;
    crate::openrosa::forget_callers();
    Ok(StatusCode::NO_CONTENT)
}

// ---- audit ----

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct AuditQuery {
    /// At most this many lines, newest first (default 200).
    limit: Option<i64>,
    /// Only lines about this kind of record (`site`, `user`…).
    entity: Option<String>,
}

/// The audit log, newest first (regional administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Vec<AuditRecord>)))]
async fn audit_log(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    caller.require(Permission::ViewAudit, None)?;
    Ok(Json(state.store.audit_log(q.limit.unwrap_or(200), q.entity.as_deref()).await?))
}

/// Recompute the audit chain and report the first broken line, if any.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = ChainCheck)))]
async fn verify_audit(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<ChainCheck>> {
    caller.require(Permission::ViewAudit, None)?;
    Ok(Json(state.store.verify_audit_chain().await?))
}

/// Undo a deletion: the site, round or admin area deleted by audit line `line` is created
/// again as it was. The id of that line comes back from the DELETE (`X-Undo-Line` header).
#[utoipa::path(post, path = "/api/v1/undo/{line}", tag = "audit", params(("line" = i64, Path, description = "audit line of the deletion")),
    responses((status = 201, body = ops::Restored), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn undo(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(line): ApiPath<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(ops::undo_delete(&state.store, &caller, line).await?)))
}

/// A 204 for a deletion, naming the audit line that can undo it.
fn deleted(line: i64) -> impl IntoResponse {
    (StatusCode::NO_CONTENT, [("x-undo-line", line.to_string())])
}
