//! The service directory: organisations' services by sector, place, eligibility, contact
//! and hours.
//!
//! - Pages for signed-in users: `/services` (filter, download as CSV), `/services/new`,
//!   `/services/{id}/edit` with deactivate and reactivate (services are never deleted, so
//!   referrals made to them keep their meaning).
//! - The JSON API under `/api/v1/services`; `DELETE` deactivates.
//! - The public page `/public/services` and `/api/v1/public/services`: anonymous, only
//!   public and active services, nearest first from a point. The page works without
//!   JavaScript; a small script adds a "use my location" button.
//!
//! Reading needs [`Permission::ViewReference`] in the service's country, writing
//! [`Permission::EditServices`] there.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::model::{AdminArea, Country, ListFilter, Organisation, Page};
use rumbo_store::services::{Near, Sector, Service, ServiceFilter, ServiceInput};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::AppState;
use crate::auth::{ApiCaller, Caller, SignedIn};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::pages::{
    Cell, Choice, Chrome, FilterField, FormField, ListPage, PAGE_SIZE, PageError, PageResult, Posted, Row,
    code_choices, countries_allowing, country_choices, parse_code, render, see_other, spreadsheet_safe, yes_no,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(list).post(create))
        .route("/services/new", get(new_form))
        .route("/services/{id}/edit", get(edit_form).post(update))
        .route("/services/{id}/deactivate", post(deactivate))
        .route("/services/{id}/reactivate", post(reactivate))
        .route("/public/services", get(public_page))
        .route("/static/services.js", get(script))
        .route("/api/v1/services", get(api_list).post(api_create))
        .route("/api/v1/services/{id}", get(api_get).put(api_update).delete(api_deactivate))
        .route("/api/v1/services/{id}/reactivate", post(api_reactivate))
        .route("/api/v1/public/services", get(api_public))
}

/// The service directory's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(api_list, api_create, api_get, api_update, api_deactivate, api_reactivate, api_public),
    components(schemas(Service, ServiceInput, Sector))
)]
pub struct ServicesDoc;

// ---------------------------------------------------------------------------------------
// Searching: one query, as typed, for the API, the list page and the public page.

/// A search of the directory. Values are checked here, so that a wrong one is a 422 that
/// names its parameter.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// ISO alpha-3 code of a country.
    country: Option<String>,
    /// Sectors, comma-separated: `health`, `mhpss`, `shelter`, `legal`, `cash`,
    /// `child_protection`, `gbv`, `livelihoods`.
    sector: Option<String>,
    /// p-code of an admin-1 area.
    admin1: Option<String>,
    /// Id of an organisation.
    organisation: Option<String>,
    /// Free text: name, organisation, eligibility, address.
    q: Option<String>,
    /// Latitude of the point to search near (decimal degrees); with `lon`, results come
    /// nearest first with `distance_km`.
    lat: Option<String>,
    /// Longitude of the point to search near.
    lon: Option<String>,
    /// Only services within this many kilometres of the point.
    radius_km: Option<String>,
    /// `true`, `false` or `all` (default: `all` in the API, open services on the pages).
    active: Option<String>,
    /// `true`, `false` or `all` (default `all`).
    public: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<String>,
    offset: Option<String>,
    /// `csv` downloads the list page.
    #[param(ignore)]
    format: Option<String>,
    /// The public page's language (`es`, `pt`, `en`).
    #[param(ignore)]
    lang: Option<String>,
}

/// A query value with surrounding spaces removed; `None` when empty.
fn clean(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// A decimal number typed by a person (a comma is read as the decimal point).
fn number(value: &str) -> Option<f64> {
    value.trim().replace(',', ".").parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `true`, `false` or `all`; `default` when not given.
fn flag(value: Option<&str>, field: &str, default: Option<bool>, errors: &mut Vec<FieldError>) -> Option<bool> {
    match clean(value).map(str::to_ascii_lowercase).as_deref() {
        None => default,
        Some("true" | "yes" | "1") => Some(true),
        Some("false" | "no" | "0") => Some(false),
        Some("all" | "any") => None,
        Some(other) => {
            errors.push(FieldError::new(field, format!("'{other}' is not one of: true, false, all")));
            default
        }
    }
}

impl ServiceQuery {
    /// The filter this query asks for (before the caller's scope), or every problem in it.
    fn filter(&self, default_active: Option<bool>) -> ApiResult<ServiceFilter> {
        let mut errors = Vec::new();
        let country = clean(self.country.as_deref()).map(str::to_uppercase);
        if let Some(c) = &country
            && !(c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            errors.push(FieldError::new("country", format!("'{c}' is not an ISO 3166-1 alpha-3 code, e.g. COL")));
        }
        let mut sectors = Vec::new();
        for code in
            clean(self.sector.as_deref()).unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty())
        {
            match code.parse::<Sector>() {
                Ok(s) => sectors.push(s),
                Err(e) => errors.push(FieldError::new("sector", format!("'{code}' is not a sector: it {e}"))),
            }
        }
        let organisation_id = clean(self.organisation.as_deref()).and_then(|o| {
            o.parse::<i64>()
                .map_err(|_| errors.push(FieldError::new("organisation", format!("'{o}' is not an organisation id"))))
                .ok()
        });
        let near = self.near(&mut errors);
        let mut whole = |value: Option<&str>, field: &str| {
            clean(value).and_then(|v| match v.parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    errors.push(FieldError::new(field, format!("'{v}' is not a whole number of 0 or more")));
                    None
                }
            })
        };
        let limit = whole(self.limit.as_deref(), "limit");
        let offset = whole(self.offset.as_deref(), "offset");
        let active = flag(self.active.as_deref(), "active", default_active, &mut errors);
        let public = flag(self.public.as_deref(), "public", None, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        Ok(ServiceFilter {
            scope: None,
            country,
            sectors,
            admin1: clean(self.admin1.as_deref()).map(str::to_string),
            organisation_id,
            q: clean(self.q.as_deref()).map(str::to_string),
            active,
            public,
            near,
            limit,
            offset,
        })
    }

    /// The point to search near: both coordinates or neither, in range; a radius only with
    /// a point.
    fn near(&self, errors: &mut Vec<FieldError>) -> Option<Near> {
        let mut coordinate = |value: Option<&str>, field: &str, max: f64| {
            let v = clean(value)?;
            match number(v) {
                Some(n) if (-max..=max).contains(&n) => Some(n),
                Some(_) => {
                    errors.push(FieldError::new(field, format!("must be a number between -{max} and {max}")));
                    None
                }
                None => {
                    errors.push(FieldError::new(field, format!("'{v}' is not a number")));
                    None
                }
            }
        };
        let lat = coordinate(self.lat.as_deref(), "lat", 90.0);
        let lon = coordinate(self.lon.as_deref(), "lon", 180.0);
        let radius = clean(self.radius_km.as_deref()).and_then(|r| match number(r) {
            Some(n) if n > 0.0 && n <= 20_100.0 => Some(n),
            _ => {
                errors.push(FieldError::new("radius_km", format!("'{r}' is not a distance in km (more than 0)")));
                None
            }
        });
        if let (Some(latitude), Some(longitude)) = (lat, lon) {
            return Some(Near { latitude, longitude, radius_km: radius });
        }
        let lat_given = clean(self.lat.as_deref()).is_some();
        let lon_given = clean(self.lon.as_deref()).is_some();
        if lat_given && !lon_given {
            errors.push(FieldError::new("lon", "is required with lat"));
        } else if lon_given && !lat_given {
            errors.push(FieldError::new("lat", "is required with lon"));
        } else if radius.is_some() && !lat_given {
            errors.push(FieldError::new("radius_km", "needs a point: give lat and lon"));
        }
        None
    }

    /// The query as URL parameters, with another offset and format (for the pager and the
    /// download link).
    fn with(&self, offset: Option<i64>, format: Option<&str>) -> String {
        let pairs: Vec<(&str, String)> = [
            ("country", self.country.clone()),
            ("sector", self.sector.clone()),
            ("admin1", self.admin1.clone()),
            ("organisation", self.organisation.clone()),
            ("q", self.q.clone()),
            ("active", self.active.clone()),
            ("offset", offset.filter(|o| *o > 0).map(|o| o.to_string())),
            ("format", format.map(str::to_string)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.trim().is_empty()).map(|v| (k, v)))
        .collect();
        serde_html_form::to_string(pairs).unwrap_or_default()
    }
}

/// Limits a filter to what the caller may read: a chosen country must be one of theirs.
fn scoped(caller: &Caller, mut filter: ServiceFilter) -> ApiResult<ServiceFilter> {
    if let Some(country) = &filter.country {
        caller.require(Permission::ViewReference, Some(country))?;
    }
    filter.scope = caller.scope();
    Ok(filter)
}

// ---------------------------------------------------------------------------------------
// Operations behind both the pages and the API: each asks the permission matrix first.

/// One service the caller may read.
async fn service(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Service> {
    let service = state.store.service(id).await?;
    caller.require(Permission::ViewReference, Some(&service.country_code))?;
    Ok(service)
}

async fn create_service(state: &AppState, caller: &Caller, mut input: ServiceInput) -> ApiResult<Service> {
    input.normalise();
    // Who may write there first, so that a refused caller learns nothing from the checks.
    caller.require(Permission::EditServices, Some(&input.country_code))?;
    input.validate()?;
    Ok(state.store.create_service(&caller.actor(), &input).await?)
}

async fn update_service(state: &AppState, caller: &Caller, id: i64, mut input: ServiceInput) -> ApiResult<Service> {
    let before = service(state, caller, id).await?;
    caller.require(Permission::EditServices, Some(&before.country_code))?;
    input.normalise();
    Ok(state.store.update_service(&caller.actor(), id, &input).await?)
}

async fn set_active(state: &AppState, caller: &Caller, id: i64, active: bool) -> ApiResult<Service> {
    let before = service(state, caller, id).await?;
    caller.require(Permission::EditServices, Some(&before.country_code))?;
    Ok(state.store.set_service_active(&caller.actor(), id, active).await?)
}

// ---------------------------------------------------------------------------------------
// JSON API.

/// Services in the caller's countries: by `country`, `sector`, `admin1`, `organisation`,
/// text `q`, `active` and `public`; with `lat` and `lon`, nearest first with `distance_km`.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", params(ServiceQuery),
    responses((status = 200, body = Page<Service>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn api_list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<ServiceQuery>,
) -> ApiResult<Json<Page<Service>>> {
    let mut filter = scoped(&caller, q.filter(None)?)?;
    filter.limit = Some(filter.limit.unwrap_or(100).clamp(1, crate::ops::MAX_API_PAGE));
    Ok(Json(state.store.search_services(&filter).await?))
}

/// Add a service (admin, IM officer or protection focal point of its country).
#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = ServiceInput,
    responses((status = 201, body = Service), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn api_create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<ServiceInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(create_service(&state, &caller, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "services", params(("id" = i64, Path)),
    responses((status = 200, body = Service), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Service>> {
    Ok(Json(service(&state, &caller, id).await?))
}

/// Change a service (it stays in its country).
#[utoipa::path(put, path = "/api/v1/services/{id}", tag = "services", params(("id" = i64, Path)), request_body = ServiceInput,
    responses((status = 200, body = Service), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn api_update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> ApiResult<Json<Service>> {
    Ok(Json(update_service(&state, &caller, id, input).await?))
}

/// Deactivate a service: it stays in the directory, closed (undo with `reactivate`).
#[utoipa::path(delete, path = "/api/v1/services/{id}", tag = "services", params(("id" = i64, Path)),
    responses((status = 200, body = Service), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_deactivate(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Service>> {
    Ok(Json(set_active(&state, &caller, id, false).await?))
}

/// Open a deactivated service again.
#[utoipa::path(post, path = "/api/v1/services/{id}/reactivate", tag = "services", params(("id" = i64, Path)),
    responses((status = 200, body = Service), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_reactivate(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Service>> {
    Ok(Json(set_active(&state, &caller, id, true).await?))
}

/// The public directory, for everyone: public, open services only (`active` and `public`
/// are ignored), nearest first when `lat` and `lon` are given.
#[utoipa::path(get, path = "/api/v1/public/services", tag = "services", security(()), params(ServiceQuery),
    responses((status = 200, body = Page<Service>), (status = 422, body = ErrorBody)))]
async fn api_public(State(state): State<AppState>, ApiQuery(q): ApiQuery<ServiceQuery>) -> ApiResult<Response> {
    let filter = public_filter(&q, 100)?;
    let mut response = Json(state.store.search_services(&filter).await?).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    Ok(response)
}

/// What anyone may see: public and open services.
fn public_filter(q: &ServiceQuery, max: i64) -> ApiResult<ServiceFilter> {
    let mut filter = q.filter(None)?;
    filter.active = Some(true);
    filter.public = Some(true);
    filter.limit = Some(filter.limit.unwrap_or(max).clamp(1, max));
    Ok(filter)
}

// ---------------------------------------------------------------------------------------
// The list page.

fn sector_label(lang: Lang, sector: Sector) -> &'static str {
    lang.t(&format!("svc.sector.{sector}"))
}

/// Admin-1 areas of some countries (all of them when `countries` is empty), by p-code.
async fn admin1_areas(state: &AppState, countries: &[String]) -> ApiResult<Vec<AdminArea>> {
    let filter = ListFilter {
        level: Some(1),
        limit: Some(100_000),
        scope: (!countries.is_empty()).then(|| countries.to_vec()),
        ..Default::default()
    };
    Ok(state.store.list_admin_areas(&filter).await?.items)
}

async fn organisations(state: &AppState) -> ApiResult<Vec<Organisation>> {
    let filter = ListFilter { limit: Some(100_000), ..Default::default() };
    Ok(state.store.list_organisations(&filter).await?.items)
}

fn organisation_label(o: &Organisation) -> String {
    if o.acronym.is_empty() || o.acronym == o.name { o.name.clone() } else { format!("{} ({})", o.name, o.acronym) }
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<ServiceQuery>,
) -> PageResult {
    let csv = q.format.as_deref() == Some("csv");
    let mut filter = scoped(&caller, q.filter(Some(true))?)?;
    // A download holds everything that matches, not one screen of it.
    filter.limit = Some(if csv { 100_000 } else { PAGE_SIZE });
    if csv {
        filter.offset = None;
    }
    let page = state.store.search_services(&filter).await?;
    let countries = crate::ops::countries(&state.store, &caller).await?;
    let can_edit = |country: &str| caller.allows(Permission::EditServices, Some(country));
    let rows = page
        .items
        .iter()
        .map(|s| Row {
            cells: vec![
                Cell::text(&s.name),
                Cell::text(if s.organisation_acronym.is_empty() {
                    &s.organisation_name
                } else {
                    &s.organisation_acronym
                }),
                Cell::text(sector_label(lang, s.sector)),
                Cell::text(&s.country_code),
                Cell::text(s.admin1_name.as_deref().unwrap_or_default()),
                Cell::text(&s.address),
                Cell::text(&s.hours),
                Cell::text(&s.contact),
                Cell::text(yes_no(lang, s.public)),
                Cell::text(yes_no(lang, s.active)),
            ],
            edit: can_edit(&s.country_code).then(|| format!("/services/{}/edit", s.id)),
        })
        .collect::<Vec<_>>();
    let filters = list_filters(&state, lang, &countries, &q, filter.country.as_deref()).await?;
    let mut list = ListPage::new(
        Chrome::new(lang, Some(&caller), &uri, "svc.title"),
        "/services",
        filters,
        vec![
            lang.t("common.name"),
            lang.t("svc.organisation"),
            lang.t("svc.sector"),
            lang.t("common.country"),
            lang.t("svc.admin1"),
            lang.t("svc.address"),
            lang.t("svc.hours"),
            lang.t("svc.contact"),
            lang.t("svc.public_short"),
            lang.t("common.active"),
        ],
        rows,
        page.total,
    );
    if countries.iter().any(|c| can_edit(&c.code)) {
        let country = filter.country.clone().unwrap_or_default();
        list.actions.push((lang.t("common.new"), format!("/services/new?country={country}")));
    }
    if csv {
        return download(&state, &caller, &q, &list).await;
    }
    let offset = filter.offset.unwrap_or(0);
    list.csv_url = Some(format!("/services?{}", q.with(None, Some("csv"))));
    if offset > 0 {
        list.prev_url = Some(format!("/services?{}", q.with(Some((offset - PAGE_SIZE).max(0)), None)));
    }
    if offset + i64::try_from(list.rows.len()).unwrap_or(0) < list.total {
        list.next_url = Some(format!("/services?{}", q.with(Some(offset + PAGE_SIZE), None)));
    }
    Ok(render(&list))
}

/// The filters above the list: country, sector, admin 1 (of the chosen country),
/// organisation, status and text.
async fn list_filters(
    state: &AppState,
    lang: Lang,
    countries: &[Country],
    q: &ServiceQuery,
    country: Option<&str>,
) -> ApiResult<Vec<FilterField>> {
    let current_country = country.unwrap_or_default();
    let sector = clean(q.sector.as_deref()).unwrap_or_default();
    let mut filters = vec![
        FilterField::select(
            "country",
            lang.t("common.country"),
            country_choices(countries, lang, current_country, true),
        ),
        FilterField::select(
            "sector",
            lang.t("svc.sector"),
            code_choices(Sector::ALL, lang, "svc.sector", sector, true),
        ),
    ];
    let admin1 = clean(q.admin1.as_deref()).unwrap_or_default();
    if let Some(country) = country {
        let mut choices = vec![Choice::new("", lang.t("common.all"), admin1)];
        for a in admin1_areas(state, &[country.to_string()]).await? {
            choices.push(Choice::new(a.pcode.clone(), a.name(lang.code()), admin1));
        }
        filters.push(FilterField::select("admin1", lang.t("svc.admin1"), choices));
    } else {
        filters.push(FilterField::text("admin1", lang.t("svc.admin1"), Some(admin1)));
    }
    let organisation = clean(q.organisation.as_deref()).unwrap_or_default();
    let mut choices = vec![Choice::new("", lang.t("common.all"), organisation)];
    for o in organisations(state).await? {
        choices.push(Choice::new(o.id.to_string(), organisation_label(&o), organisation));
    }
    filters.push(FilterField::select("organisation", lang.t("svc.organisation"), choices));
    let status = clean(q.active.as_deref()).unwrap_or("true");
    filters.push(FilterField::select(
        "active",
        lang.t("common.status"),
        vec![
            Choice::new("true", lang.t("svc.only_active"), status),
            Choice::new("false", lang.t("svc.only_inactive"), status),
            Choice::new("all", lang.t("common.all"), status),
        ],
    ));
    filters.push(FilterField::text("q", lang.t("common.search"), q.q.as_deref()));
    Ok(filters)
}

/// The list as CSV: what the page shows, every page of it. A download is an export, so it
/// is written to the audit log with its filters and size.
async fn download(state: &AppState, caller: &Caller, q: &ServiceQuery, list: &ListPage) -> PageResult {
    state
        .store
        .record(rumbo_store::AuditEvent {
            actor: &caller.actor(),
            action: "export",
            entity: "services",
            entity_id: "csv".into(),
            country_code: clean(q.country.as_deref()),
            detail: serde_json::json!({ "rows": list.rows.len(), "filters": q.with(None, None) }),
        })
        .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(&list.columns);
    for row in &list.rows {
        let _ = out.write_record(row.cells.iter().map(|c| spreadsheet_safe(&c.text).into_owned()));
    }
    let body = out.into_inner().unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"services.csv\""),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// The record form.

/// The service form as typed: numbers stay text until they are checked.
#[derive(Debug, Default, Deserialize)]
struct ServiceForm {
    #[serde(default)]
    country_code: String,
    #[serde(default)]
    organisation_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    admin1_pcode: String,
    #[serde(default)]
    site_id: String,
    #[serde(default)]
    latitude: String,
    #[serde(default)]
    longitude: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    eligibility: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    public: Option<String>,
    #[serde(default)]
    active: Option<String>,
}

/// An optional number typed into a form: empty is none; anything else must be a number.
fn optional_number<T: std::str::FromStr>(value: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    v.replace(',', ".").parse().map_err(|_| errors.push(FieldError::new(field, format!("'{v}' is not a number")))).ok()
}

impl ServiceForm {
    fn from_service(s: &Service) -> Self {
        ServiceForm {
            country_code: s.country_code.clone(),
            organisation_id: s.organisation_id.to_string(),
            name: s.name.clone(),
            sector: s.sector.to_string(),
            admin1_pcode: s.admin1_pcode.clone().unwrap_or_default(),
            site_id: s.site_id.map(|i| i.to_string()).unwrap_or_default(),
            latitude: s.latitude.map(|v| v.to_string()).unwrap_or_default(),
            longitude: s.longitude.map(|v| v.to_string()).unwrap_or_default(),
            address: s.address.clone(),
            eligibility: s.eligibility.clone(),
            contact: s.contact.clone(),
            hours: s.hours.clone(),
            languages: s.languages.clone(),
            public: s.public.then(|| "true".into()),
            active: s.active.then(|| "true".into()),
        }
    }

    fn input(&self) -> Result<ServiceInput, ApiError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let organisation_id = if self.organisation_id.trim().is_empty() {
            errors.push(FieldError::new("organisation_id", "is required"));
            None
        } else {
            optional_number(&self.organisation_id, "organisation_id", &mut errors)
        };
        let sector = parse_code::<Sector>(&self.sector, "sector", &mut errors);
        let site_id = optional_number(&self.site_id, "site_id", &mut errors);
        let latitude = optional_number(&self.latitude, "latitude", &mut errors);
        let longitude = optional_number(&self.longitude, "longitude", &mut errors);
        match (organisation_id, sector) {
            (Some(organisation_id), Some(sector)) if errors.is_empty() => Ok(ServiceInput {
                organisation_id,
                name: self.name.clone(),
                sector,
                country_code: self.country_code.clone(),
                admin1_pcode: Some(self.admin1_pcode.clone()),
                site_id,
                latitude,
                longitude,
                address: self.address.clone(),
                eligibility: self.eligibility.clone(),
                contact: self.contact.clone(),
                hours: self.hours.clone(),
                languages: self.languages.clone(),
                public: self.public.is_some(),
                active: self.active.is_some(),
            }),
            _ => Err(ApiError::Invalid(errors)),
        }
    }

    async fn fields(&self, state: &AppState, caller: &Caller, lang: Lang) -> ApiResult<Vec<FormField>> {
        let countries = countries_allowing(state, caller, Permission::EditServices).await?;
        let codes: Vec<String> = countries.iter().map(|c| c.code.clone()).collect();
        let mut orgs = vec![Choice::new("", "—", &self.organisation_id)];
        orgs.extend(
            organisations(state)
                .await?
                .iter()
                .map(|o| Choice::new(o.id.to_string(), organisation_label(o), &self.organisation_id)),
        );
        let mut areas = vec![Choice::new("", "—", &self.admin1_pcode)];
        areas.extend(admin1_areas(state, &codes).await?.iter().map(|a| {
            Choice::new(
                a.pcode.clone(),
                format!("{} · {} ({})", a.country_code, a.name(lang.code()), a.pcode),
                &self.admin1_pcode,
            )
        }));
        let site_filter = ListFilter { limit: Some(100_000), scope: Some(codes), ..Default::default() };
        let mut sites = vec![Choice::new("", "—", &self.site_id)];
        sites.extend(
            state
                .store
                .list_sites(&site_filter)
                .await?
                .items
                .iter()
                .map(|s| Choice::new(s.id.to_string(), format!("{} — {}", s.code, s.name), &self.site_id)),
        );
        Ok(vec![
            FormField::select(
                "country_code",
                lang.t("common.country"),
                country_choices(&countries, lang, &self.country_code, false),
            )
            .required(),
            FormField::select("organisation_id", lang.t("svc.organisation"), orgs).required(),
            FormField::input("text", "name", lang.t("common.name"), &self.name).required(),
            FormField::select(
                "sector",
                lang.t("svc.sector"),
                code_choices(Sector::ALL, lang, "svc.sector", &self.sector, false),
            )
            .required(),
            FormField::select("admin1_pcode", lang.t("svc.admin1"), areas),
            FormField::select("site_id", lang.t("svc.site"), sites),
            FormField::input("text", "latitude", lang.t("svc.latitude"), &self.latitude)
                .help(lang.t("svc.coordinates_help")),
            FormField::input("text", "longitude", lang.t("svc.longitude"), &self.longitude),
            FormField::input("text", "address", lang.t("svc.address"), &self.address),
            FormField::input("textarea", "eligibility", lang.t("svc.eligibility"), &self.eligibility)
                .help(lang.t("svc.eligibility_help")),
            FormField::input("text", "contact", lang.t("svc.contact"), &self.contact),
            FormField::input("text", "hours", lang.t("svc.hours"), &self.hours),
            FormField::input("text", "languages", lang.t("svc.languages"), &self.languages),
            FormField::checkbox("public", lang.t("svc.public"), self.public.is_some()),
            FormField::checkbox("active", lang.t("common.active"), self.active.is_some()),
        ])
    }
}

/// A service's form, with a deactivate (or reactivate) button when editing.
#[derive(Template)]
#[template(path = "services_form.html")]
struct ServiceFormPage {
    c: Chrome,
    action: String,
    fields: Vec<FormField>,
    errors: Vec<String>,
    cancel_url: String,
    /// Where the deactivate or reactivate button posts, and its label and confirmation.
    toggle: Option<(String, &'static str, &'static str)>,
}

impl ServiceFormPage {
    /// Shows a failed save: field errors next to their fields, the rest above the form.
    fn failed(mut self, error: ApiError) -> PageResult {
        let status = error.status_code();
        match error {
            ApiError::Invalid(errors) => {
                for e in errors {
                    match self.fields.iter_mut().find(|f| f.name == e.field) {
                        Some(f) => {
                            self.errors.push(format!("{}: {}", f.label, e.message));
                            f.error = Some(e.message);
                        }
                        None => self.errors.push(format!("{}: {}", e.field, e.message)),
                    }
                }
            }
            ApiError::Conflict { message, .. } | ApiError::BadRequest(message) => self.errors.push(message),
            other => return Err(PageError(other)),
        }
        Ok((status, render(&self)).into_response())
    }
}

#[derive(Deserialize)]
struct NewQuery {
    country: Option<String>,
}

async fn new_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<NewQuery>,
) -> PageResult {
    let form = ServiceForm {
        country_code: q.country.unwrap_or_default().trim().to_uppercase(),
        sector: "health".into(),
        public: Some("true".into()),
        active: Some("true".into()),
        ..Default::default()
    };
    let page = ServiceFormPage {
        c: Chrome::new(lang, Some(&caller), &uri, "svc.new"),
        action: "/services".into(),
        fields: form.fields(&state, &caller, lang).await?,
        errors: Vec::new(),
        cancel_url: "/services".into(),
        toggle: None,
    };
    Ok(render(&page))
}

/// Saves a posted form: back to the list on success, the form with its errors otherwise.
async fn save(
    state: &AppState,
    lang: Lang,
    uri: &Uri,
    caller: &Caller,
    id: Option<i64>,
    form: &ServiceForm,
) -> PageResult {
    let (action, title) = match id {
        Some(id) => (format!("/services/{id}/edit"), "svc.edit"),
        None => ("/services".to_string(), "svc.new"),
    };
    let page = ServiceFormPage {
        c: Chrome::new(lang, Some(caller), uri, title),
        action,
        fields: form.fields(state, caller, lang).await?,
        errors: Vec::new(),
        cancel_url: "/services".into(),
        toggle: None,
    };
    let saved = match form.input() {
        Ok(input) => match id {
            Some(id) => update_service(state, caller, id, input).await,
            None => create_service(state, caller, input).await,
        },
        Err(e) => Err(e),
    };
    match saved {
        Ok(s) => Ok(see_other(&format!("/services?country={}&notice=saved", s.country_code))),
        Err(e) => page.failed(e),
    }
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<ServiceForm>,
) -> PageResult {
    save(&state, lang, &uri, &caller, None, &form).await
}

async fn update(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<ServiceForm>,
) -> PageResult {
    save(&state, lang, &uri, &caller, Some(id), &form).await
}

async fn edit_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let s = service(&state, &caller, id).await?;
    caller.require(Permission::EditServices, Some(&s.country_code))?;
    let mut c = Chrome::new(lang, Some(&caller), &uri, "svc.edit");
    c.title = format!("{} — {}", s.name, s.organisation_name);
    let toggle = if s.active {
        (format!("/services/{id}/deactivate"), lang.t("svc.deactivate"), lang.t("svc.confirm_deactivate"))
    } else {
        (format!("/services/{id}/reactivate"), lang.t("svc.reactivate"), lang.t("svc.confirm_reactivate"))
    };
    let page = ServiceFormPage {
        c,
        action: format!("/services/{id}/edit"),
        fields: ServiceForm::from_service(&s).fields(&state, &caller, lang).await?,
        errors: Vec::new(),
        cancel_url: format!("/services?country={}", s.country_code),
        toggle: Some(toggle),
    };
    Ok(render(&page))
}

async fn deactivate(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<crate::pages::Ignored>,
) -> PageResult {
    let s = set_active(&state, &caller, id, false).await?;
    Ok(see_other(&format!("/services/{id}/edit?notice=saved&country={}", s.country_code)))
}

async fn reactivate(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<crate::pages::Ignored>,
) -> PageResult {
    let s = set_active(&state, &caller, id, true).await?;
    Ok(see_other(&format!("/services/{id}/edit?notice=saved&country={}", s.country_code)))
}

// ---------------------------------------------------------------------------------------
// The public page.

/// One service as a person looking for help sees it.
struct PublicService {
    name: String,
    organisation: String,
    sector: &'static str,
    distance: Option<String>,
    area: String,
    address: String,
    hours: String,
    contact: String,
    eligibility: String,
    languages: String,
}

#[derive(Template)]
#[template(path = "services_public.html")]
struct PublicPage {
    c: Chrome,
    countries: Vec<Choice>,
    sectors: Vec<Choice>,
    areas: Vec<Choice>,
    lat: String,
    lon: String,
    errors: Vec<String>,
    /// Whether a search was made (a country or a point was given).
    searched: bool,
    near: bool,
    results: Vec<PublicService>,
    total: i64,
}

/// The most services the public page lists.
const PUBLIC_PAGE_SIZE: i64 = 50;

/// A distance as a person reads it: metres under a kilometre, one decimal under ten.
fn distance_text(km: f64) -> String {
    if km < 1.0 {
        format!("{} m", ((km * 1000.0 / 10.0).round() * 10.0).max(10.0))
    } else if km < 10.0 {
        format!("{km:.1} km")
    } else {
        format!("{km:.0} km")
    }
}

async fn public_page(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    uri: Uri,
    ApiQuery(q): ApiQuery<ServiceQuery>,
) -> Response {
    let lang = q.lang.as_deref().and_then(Lang::parse).unwrap_or_else(|| Lang::from_headers(&headers));
    match public_html(&state, lang, &uri, &q).await {
        Ok((status, html)) => {
            let mut r = (status, axum::response::Html(html)).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
            r
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn public_html(state: &AppState, lang: Lang, uri: &Uri, q: &ServiceQuery) -> ApiResult<(StatusCode, String)> {
    let countries = state.store.list_countries().await?;
    let mut c = Chrome::new(lang, None, uri, "svc.public_title");
    // The language links keep the search: this page takes its language from `lang`.
    for l in &mut c.langs {
        let mut pairs: Vec<(&str, &str)> = [
            ("country", q.country.as_deref()),
            ("sector", q.sector.as_deref()),
            ("admin1", q.admin1.as_deref()),
            ("lat", q.lat.as_deref()),
            ("lon", q.lon.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| clean(v).map(|v| (k, v)))
        .collect();
        pairs.push(("lang", l.code));
        l.href = format!("/public/services?{}", serde_html_form::to_string(pairs).unwrap_or_default());
    }
    let (filter, errors) = match public_filter(q, PUBLIC_PAGE_SIZE) {
        Ok(f) => (Some(f), Vec::new()),
        Err(e) => (
            None,
            e.field_errors().iter().map(|e| format!("{}: {}", public_field_label(lang, &e.field), e.message)).collect(),
        ),
    };
    let country = filter.as_ref().and_then(|f| f.country.clone()).filter(|c| countries.iter().any(|x| &x.code == c));
    let areas = match &country {
        Some(c) => admin1_areas(state, std::slice::from_ref(c)).await?,
        None => Vec::new(),
    };
    let names: HashMap<&str, &str> = areas.iter().map(|a| (a.pcode.as_str(), a.name(lang.code()))).collect();
    let searched = filter.as_ref().is_some_and(|f| country.is_some() || f.near.is_some());
    let (results, total, near) = match filter.filter(|_| searched) {
        Some(mut f) => {
            f.country.clone_from(&country);
            let page = state.store.search_services(&f).await?;
            let results = page
                .items
                .iter()
                .map(|s| PublicService {
                    name: s.name.clone(),
                    organisation: s.organisation_name.clone(),
                    sector: sector_label(lang, s.sector),
                    distance: s.distance_km.map(distance_text),
                    area: s
                        .admin1_pcode
                        .as_deref()
                        .and_then(|p| names.get(p).copied().map(str::to_string).or_else(|| s.admin1_name.clone()))
                        .unwrap_or_default(),
                    address: s.address.clone(),
                    hours: s.hours.clone(),
                    contact: s.contact.clone(),
                    eligibility: s.eligibility.clone(),
                    languages: s.languages.clone(),
                })
                .collect();
            (results, page.total, f.near.is_some())
        }
        None => (Vec::new(), 0, false),
    };
    let current = country.clone().unwrap_or_default();
    let sector = clean(q.sector.as_deref()).unwrap_or_default();
    let admin1 = clean(q.admin1.as_deref()).unwrap_or_default();
    let mut area_choices = vec![Choice::new("", lang.t("common.all"), admin1)];
    area_choices.extend(areas.iter().map(|a| Choice::new(a.pcode.clone(), a.name(lang.code()), admin1)));
    let mut sectors = vec![Choice::new("", lang.t("svc.any_need"), sector)];
    sectors.extend(code_choices(Sector::ALL, lang, "svc.sector", sector, false));
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = PublicPage {
        c,
        countries: country_choices(&countries, lang, &current, true),
        sectors,
        areas: area_choices,
        lat: q.lat.clone().unwrap_or_default(),
        lon: q.lon.clone().unwrap_or_default(),
        errors,
        searched,
        near,
        results,
        total,
    };
    let html = page.render().map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((status, html))
}

/// The label of a search parameter on the public page, for its error messages.
fn public_field_label(lang: Lang, field: &str) -> String {
    match field {
        "lat" => lang.t("svc.latitude").to_string(),
        "lon" => lang.t("svc.longitude").to_string(),
        "sector" => lang.t("svc.need").to_string(),
        "country" => lang.t("common.country").to_string(),
        other => other.to_string(),
    }
}

/// The "use my location" button of the public page (the page works without it).
async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../assets/services.js"),
    )
}
