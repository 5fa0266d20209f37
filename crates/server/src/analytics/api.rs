//! The indicators and aggregates API: `/api/v1/indicators` and `/api/v1/aggregates`
//! (with `/api/v1/aggregates/stream`, the server-sent events open dashboards listen to).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use chrono::NaiveDate;
use rumbo_analytics::{Estimate, IndicatorDef, Kind, Registry, Request, Sensitivity};
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::analytics::Dim;
use rumbo_store::model::ListFilter;
use serde::{Deserialize, Serialize};
use tokio_stream::StreamExt as _;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::AppState;
use crate::auth::{ApiCaller, Caller, MaybeCaller};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/indicators", get(list).post(create))
        .route("/api/v1/indicators/import", post(import))
        .route("/api/v1/indicators/{id}", get(show).put(update).delete(remove))
        .route("/api/v1/aggregates", get(aggregates))
        .route("/api/v1/aggregates/stream", get(stream))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, create, import, show, update, remove, aggregates, stream),
    components(schemas(IndicatorView, IndicatorDef, rumbo_analytics::definition::TallyCell, Kind, Sensitivity, Dim, AggregatesView, RowView, Estimate, Imported)),
    tags((name = "indicators", description = "Indicators declared over form fields, and their live aggregates"))
)]
pub struct AnalyticsDoc;

/// An indicator as listed: its definition, and why it computes nothing if it does not.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    #[serde(flatten)]
    pub definition: IndicatorDef,
    /// Problems that keep the indicator from being computed (its form changed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<FieldError>,
}

fn view(registry: &Registry, def: &IndicatorDef) -> IndicatorView {
    IndicatorView {
        definition: def.clone(),
        problems: registry.problems(&def.id).map(<[_]>::to_vec).unwrap_or_default(),
    }
}

/// The indicators you may see.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators", responses((status = 200, body = Vec<IndicatorView>)))]
async fn list(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Vec<IndicatorView>>> {
    caller.require(Permission::ViewAnalytics, None)?;
    let registry = state.analytics.registry();
    Ok(Json(super::visible(&registry, &caller).iter().map(|d| view(&registry, d)).collect()))
}

/// One indicator.
#[utoipa::path(get, path = "/api/v1/indicators/{id}", tag = "indicators", params(("id" = String, Path)),
    responses((status = 200, body = IndicatorView), (status = 404, body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<IndicatorView>> {
    caller.require(Permission::ViewAnalytics, None)?;
    let registry = state.analytics.registry();
    let def = super::visible(&registry, &caller)
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("indicator {id}")))?;
    Ok(Json(view(&registry, &def)))
}

/// Declare an indicator; its aggregates are built from the submissions already stored.
#[utoipa::path(post, path = "/api/v1/indicators", tag = "indicators", request_body = IndicatorDef,
    responses((status = 201, body = IndicatorView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "an expression that does not parse, a field the form lacks, a breakdown the form cannot support")))]
async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(def): ApiJson<IndicatorDef>,
) -> ApiResult<impl IntoResponse> {
    if state.analytics.registry().get(&def.id).is_some() {
        return Err(ApiError::Conflict {
            field: Some("id".into()),
            message: format!("there is an indicator `{}` already: change it with PUT", def.id),
        });
    }
    let id = def.id.clone();
    super::save(&state, &caller, vec![def]).await?;
    let registry = state.analytics.registry();
    let def = registry.get(&id).ok_or_else(|| ApiError::Internal("the saved indicator is gone".into()))?;
    Ok((StatusCode::CREATED, Json(view(&registry, def))))
}

/// Change an indicator; its aggregates are rebuilt.
#[utoipa::path(put, path = "/api/v1/indicators/{id}", tag = "indicators", params(("id" = String, Path)), request_body = IndicatorDef,
    responses((status = 200, body = IndicatorView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(def): ApiJson<IndicatorDef>,
) -> ApiResult<Json<IndicatorView>> {
    if def.id != id {
        return Err(ApiError::invalid(
            "id",
            format!("the body's id `{}` is not the one in the address (`{id}`)", def.id),
        ));
    }
    if state.analytics.registry().get(&id).is_none() {
        return Err(ApiError::NotFound(format!("indicator {id}")));
    }
    super::save(&state, &caller, vec![def]).await?;
    let registry = state.analytics.registry();
    let def = registry.get(&id).ok_or_else(|| ApiError::Internal("the saved indicator is gone".into()))?;
    Ok(Json(view(&registry, def)))
}

/// Delete an indicator and its aggregates.
#[utoipa::path(delete, path = "/api/v1/indicators/{id}", tag = "indicators", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "another indicator is weighted by it")))]
async fn remove(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    super::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    /// Indicators saved (created or replaced).
    pub saved: usize,
}

/// Load an indicator file (TOML, as in `data/indicators/dtm.toml`): every indicator in it
/// is saved, or none is.
#[utoipa::path(post, path = "/api/v1/indicators/import", tag = "indicators", request_body(content = String, content_type = "application/toml"),
    responses((status = 200, body = Imported), (status = 422, body = ErrorBody)))]
async fn import(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    body: String,
) -> ApiResult<Json<Imported>> {
    if body.len() > 2 * 1024 * 1024 {
        return Err(ApiError::TooLarge("an indicator file may be at most 2 MiB".into()));
    }
    let saved = super::load_file(&state, &caller, &body).await?;
    Ok(Json(Imported { saved }))
}

/// The question of `GET /api/v1/aggregates`. Lists are comma-separated.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct AggregateParams {
    /// The indicator's id.
    pub indicator: String,
    /// Breakdown: `round`, `day`, `month`, `site`, `country`, `adm1`, `sex`, `age_group`,
    /// `nationality`, `population_group`, `direction`, `origin`, `destination`.
    pub by: Option<String>,
    /// Rounds, by id or by name (a name stands for that round in every country).
    pub round: Option<String>,
    /// First day (`YYYY-MM-DD`), inclusive.
    pub from: Option<String>,
    /// Last day, inclusive.
    pub to: Option<String>,
    /// Countries (ISO alpha-3).
    pub country: Option<String>,
    /// Admin-1 areas, by p-code.
    pub adm1: Option<String>,
    /// Sites, by code.
    pub site: Option<String>,
    pub sex: Option<String>,
    pub age_group: Option<String>,
    pub nationality: Option<String>,
    pub population_group: Option<String>,
    pub direction: Option<String>,
    pub origin: Option<String>,
    pub destination: Option<String>,
    /// `json` (the default), `csv` or `xlsx` (a header row, an HXL hashtag row, then one row
    /// per place and time with a column per sex × age group), or `geojson` (a feature per
    /// row on its admin-1 area or country, the hashtags in the `hxl` member).
    pub format: Option<String>,
}

fn split(value: Option<&String>) -> Vec<String> {
    value
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Labels for dimension values: sites, rounds, areas and countries by language.
pub struct Labels {
    sites: HashMap<i64, (String, String, String)>,
    site_codes: HashMap<String, i64>,
    rounds: HashMap<i64, (String, String, NaiveDate)>,
    areas: HashMap<String, (String, [String; 3])>,
    countries: HashMap<String, [String; 3]>,
}

impl Labels {
    pub async fn load(state: &AppState) -> ApiResult<Arc<Labels>> {
        let all = ListFilter { limit: Some(100_000), ..ListFilter::default() };
        let sites = state.store.list_sites(&all).await?.items;
        let rounds = state.store.list_rounds(&all).await?.items;
        let areas = state.store.list_admin_areas(&ListFilter { level: Some(1), ..all.clone() }).await?.items;
        let countries = state.store.list_countries().await?;
        Ok(Arc::new(Labels {
            site_codes: sites.iter().map(|s| (s.code.clone(), s.id)).collect(),
            sites: sites.into_iter().map(|s| (s.id, (s.code, s.name, s.country_code))).collect(),
            rounds: rounds.into_iter().map(|r| (r.id, (r.name, r.country_code, r.starts_on))).collect(),
            areas: areas.into_iter().map(|a| (a.pcode, (a.country_code, [a.name_en, a.name_es, a.name_pt]))).collect(),
            countries: countries.into_iter().map(|c| (c.code, [c.name_en, c.name_es, c.name_pt])).collect(),
        }))
    }

    fn pick(names: &[String; 3], lang: Lang) -> String {
        match lang {
            Lang::En => names[0].clone(),
            Lang::Es => names[1].clone(),
            Lang::Pt => names[2].clone(),
        }
    }

    /// The label of one value of a dimension.
    pub fn label(&self, registry: &Registry, def: &IndicatorDef, dim: Dim, value: &str, lang: Lang) -> String {
        let found = match dim {
            Dim::Site => value.parse().ok().and_then(|id: i64| self.sites.get(&id)).map(|(_, name, _)| name.clone()),
            Dim::Round => value
                .parse()
                .ok()
                .and_then(|id: i64| self.rounds.get(&id))
                .map(|(name, country, _)| format!("{name} ({country})")),
            Dim::Adm1 => self.areas.get(value).map(|(_, names)| Self::pick(names, lang)),
            Dim::Country | Dim::Origin | Dim::Destination | Dim::Nationality => registry
                .label(def, dim, value, lang.code())
                .or_else(|| self.countries.get(value).map(|n| Self::pick(n, lang))),
            Dim::Month => value.parse::<i32>().ok().filter(|m| *m > 0).map(|m| format!("{}-{:02}", m / 100, m % 100)),
            Dim::Day => value
                .parse::<i64>()
                .ok()
                .and_then(|d| NaiveDate::default().checked_add_days(chrono::Days::new(d.max(0).cast_unsigned())))
                .map(|d| d.to_string()),
            _ => registry.label(def, dim, value, lang.code()),
        };
        match found {
            Some(label) if !label.is_empty() => label,
            _ if value.is_empty() => "—".to_owned(),
            _ => value.to_owned(),
        }
    }

    /// Round names in a scope, oldest first, each with its ids.
    pub fn round_names(&self, scope: Option<&[String]>) -> Vec<(String, Vec<i64>)> {
        let mut by_name: BTreeMap<(NaiveDate, String), Vec<i64>> = BTreeMap::new();
        let mut first: HashMap<String, NaiveDate> = HashMap::new();
        for (name, _, start) in self.rounds.values() {
            let e = first.entry(name.clone()).or_insert(*start);
            *e = (*e).min(*start);
        }
        for (id, (name, country, _)) in &self.rounds {
            if scope.is_none_or(|s| s.contains(country)) {
                by_name.entry((first[name], name.clone())).or_default().push(*id);
            }
        }
        by_name
            .into_iter()
            .map(|((_, name), mut ids)| {
                ids.sort_unstable();
                (name, ids)
            })
            .collect()
    }

    pub fn site_code(&self, id: i64) -> Option<&str> {
        self.sites.get(&id).map(|(code, _, _)| code.as_str())
    }

    pub fn area_country(&self, pcode: &str) -> Option<&str> {
        self.areas.get(pcode).map(|(c, _)| c.as_str())
    }

    pub fn country_name(&self, code: &str, lang: Lang) -> String {
        self.countries.get(code).map_or_else(|| code.to_owned(), |n| Self::pick(n, lang))
    }

    /// An admin area's name in `lang` (its p-code when unknown).
    pub fn area_name(&self, pcode: &str, lang: Lang) -> String {
        self.areas.get(pcode).map_or_else(|| pcode.to_owned(), |(_, n)| Self::pick(n, lang))
    }
}

/// The most values one filter may list.
const MAX_VALUES: usize = 200;

/// Turns the parameters into a question the caller may ask: every code is checked, every
/// country against the caller's scope.
/// Anonymous callers (`None`) may ask about every country, and get public figures only.
pub fn resolve(labels: &Labels, caller: Option<&Caller>, p: &AggregateParams) -> ApiResult<Request> {
    let require = |country: Option<&str>| caller.map_or(Ok(()), |c| c.require(Permission::ViewAnalytics, country));
    require(None)?;
    let mut problems = Vec::new();
    let mut by = Vec::new();
    for name in split(p.by.as_ref()) {
        match Dim::parse(&name) {
            Some(d) => by.push(d),
            None => problems.push(FieldError::new(
                "by",
                format!("`{name}` is not a dimension; use {}", Dim::ALL.map(Dim::as_str).join(", ")),
            )),
        }
    }
    let date = |field: &str, v: Option<&String>, problems: &mut Vec<FieldError>| {
        let v = v.map(|v| v.trim()).filter(|v| !v.is_empty())?;
        let parsed = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
        if parsed.is_none() {
            problems.push(FieldError::new(field, format!("`{v}` is not a date written YYYY-MM-DD")));
        }
        parsed
    };
    let from = date("from", p.from.as_ref(), &mut problems);
    let to = date("to", p.to.as_ref(), &mut problems);
    let mut filters: Vec<(Dim, Vec<String>)> = Vec::new();
    // Countries, each within the caller's scope.
    let countries: Vec<String> = split(p.country.as_ref()).into_iter().map(|c| c.to_uppercase()).collect();
    for (field, given) in [("country", &p.country), ("adm1", &p.adm1), ("site", &p.site), ("round", &p.round)] {
        if split(given.as_ref()).len() > MAX_VALUES {
            return Err(ApiError::invalid(field, format!("at most {MAX_VALUES} values")));
        }
    }
    for c in &countries {
        if labels.countries.contains_key(c) {
            require(Some(c))?;
        } else {
            problems.push(FieldError::new("country", format!("there is no country `{c}`")));
        }
    }
    let mut asked = countries.clone();
    let adm1 = split(p.adm1.as_ref());
    for pcode in &adm1 {
        match labels.area_country(pcode) {
            None => problems.push(FieldError::new("adm1", format!("there is no admin-1 area with p-code `{pcode}`"))),
            Some(country) => {
                require(Some(country))?;
                asked.push(country.to_owned());
            }
        }
    }
    let mut site_ids = Vec::new();
    for code in split(p.site.as_ref()) {
        match labels.site_codes.get(&code) {
            None => problems.push(FieldError::new("site", format!("there is no site `{code}`"))),
            Some(id) => {
                let country = labels.sites[id].2.clone();
                require(Some(&country))?;
                asked.push(country);
                site_ids.push(id.to_string());
            }
        }
    }
    let mut round_ids = Vec::new();
    // A round's name within the one country asked about is that country's round.
    let one_country = (countries.len() == 1).then(|| countries[0].as_str());
    for r in split(p.round.as_ref()) {
        if let Ok(id) = r.parse::<i64>() {
            if labels.rounds.contains_key(&id) {
                round_ids.push(id.to_string());
            } else {
                problems.push(FieldError::new("round", format!("there is no round {id}")));
            }
        } else {
            let ids: Vec<String> = labels
                .rounds
                .iter()
                .filter(|(_, (name, country, _))| {
                    name.eq_ignore_ascii_case(&r) && one_country.is_none_or(|c| c == country)
                })
                .map(|(id, _)| id.to_string())
                .collect();
            if ids.is_empty() {
                problems.push(FieldError::new("round", format!("there is no round named `{r}`")));
            }
            round_ids.extend(ids);
        }
    }
    filters.push((Dim::Country, countries.clone()));
    filters.push((Dim::Adm1, adm1));
    filters.push((Dim::Site, site_ids));
    filters.push((Dim::Round, round_ids));
    for (dim, value) in [
        (Dim::Sex, &p.sex),
        (Dim::AgeGroup, &p.age_group),
        (Dim::Nationality, &p.nationality),
        (Dim::PopulationGroup, &p.population_group),
        (Dim::Direction, &p.direction),
        (Dim::Origin, &p.origin),
        (Dim::Destination, &p.destination),
    ] {
        let values = split(value.as_ref());
        if values.iter().any(|v| v.len() > 64) {
            problems.push(FieldError::new(dim.as_str(), "values are at most 64 characters"));
        }
        if values.len() > MAX_VALUES {
            problems.push(FieldError::new(dim.as_str(), format!("at most {MAX_VALUES} values")));
        }
        filters.push((dim, values));
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    asked.sort();
    asked.dedup();
    Ok(Request {
        indicator: p.indicator.trim().to_owned(),
        by,
        filters,
        from,
        to,
        scope: caller.and_then(Caller::scope),
        privileged: caller.is_some_and(|c| super::privileged(c, Some(&asked))),
    })
}

/// One row of the answer, with labels.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowView {
    /// The value of each `by` dimension (codes and ids).
    #[schema(value_type = Object)]
    pub keys: BTreeMap<String, String>,
    /// The same, as names in the reader's language.
    #[schema(value_type = Object)]
    pub labels: BTreeMap<String, String>,
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// The answer of `GET /api/v1/aggregates`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregatesView {
    pub indicator: String,
    pub name: String,
    pub kind: Kind,
    pub by: Vec<Dim>,
    /// Survey weights applied (post-stratification on the registry's point × sex × age cells).
    pub weighted: bool,
    /// The cube the figures were read from.
    pub cube: String,
    pub rows: Vec<RowView>,
    /// Rows left out because they were too small to show to this reader (or would let one
    /// be recomputed from the total).
    pub suppressed_rows: usize,
    pub total: Estimate,
}

/// Turns a question error into the API's.
pub fn query_error(e: rumbo_analytics::QueryError) -> ApiError {
    match e {
        rumbo_analytics::QueryError::UnknownIndicator(id) => ApiError::NotFound(format!("indicator {id}")),
        rumbo_analytics::QueryError::Invalid(errors) => ApiError::Invalid(errors),
        rumbo_analytics::QueryError::Restricted(_) => ApiError::Forbidden(e.to_string()),
        rumbo_analytics::QueryError::Store(e) => e.into(),
    }
}

/// Asks the aggregates. Anonymous callers get the public figures (disclosure control across
/// every published table); signed-in readers who may not read the submissions get small
/// cells suppressed, and those who may not read sensitive answers get sensitive topics by
/// country at most.
pub async fn ask(
    state: &AppState,
    caller: Option<&Caller>,
    p: &AggregateParams,
) -> ApiResult<(Arc<Registry>, Arc<Labels>, rumbo_analytics::Answer)> {
    let labels = state.analytics.labels(state).await?;
    let request = resolve(&labels, caller, p)?;
    let registry = state.analytics.registry();
    let answer = if caller.is_none() {
        super::public::answer(state, &request).await
    } else {
        // Sensitive answers are read by reviewers only; so are sensitive topics below
        // country level.
        let sees_sensitive = caller.is_some_and(|c| c.allows(Permission::ReviewSubmissions, None));
        if !sees_sensitive
            && let Some(def) = registry.get(&request.indicator)
            && def.sensitive_topic
        {
            let below_country = |d: &Dim| matches!(d, Dim::Adm1 | Dim::Site);
            if let Some(d) = request
                .by
                .iter()
                .chain(request.filters.iter().filter(|(_, v)| !v.is_empty()).map(|(d, _)| d))
                .find(|d| below_country(d))
            {
                return Err(ApiError::invalid(
                    d.as_str(),
                    format!("{} is a sensitive topic: it is shown by country at most", def.id),
                ));
            }
        }
        rumbo_analytics::aggregate(&state.store, &registry, &request).await
    }
    .map_err(query_error)?;
    Ok((registry, labels, answer))
}

/// Asks the aggregates and labels the answer.
pub async fn answer(
    state: &AppState,
    caller: Option<&Caller>,
    p: &AggregateParams,
    lang: Lang,
) -> ApiResult<AggregatesView> {
    let (registry, labels, answer) = ask(state, caller, p).await?;
    let def = registry.get(&answer.indicator).ok_or_else(|| ApiError::NotFound("indicator".into()))?;
    let rows = answer
        .rows
        .into_iter()
        .map(|row| {
            let labels = row
                .keys
                .iter()
                .map(|(dim, value)| {
                    let d = Dim::parse(dim).unwrap_or(Dim::Site);
                    (dim.clone(), labels.label(&registry, def, d, value, lang))
                })
                .collect();
            RowView { keys: row.keys, labels, estimate: row.estimate }
        })
        .collect();
    Ok(AggregatesView {
        indicator: def.id.clone(),
        name: def.name_in(lang.code()).to_owned(),
        kind: answer.kind,
        by: answer.by,
        weighted: answer.weighted,
        cube: answer.cube,
        rows,
        suppressed_rows: answer.suppressed_rows,
        total: answer.total,
    })
}

/// The answer as a published table: labelled, with its HXL hashtags.
pub async fn table(
    state: &AppState,
    caller: Option<&Caller>,
    p: &AggregateParams,
    lang: Lang,
) -> ApiResult<(IndicatorDef, rumbo_analytics::hxl::Table)> {
    let (registry, labels, answer) = ask(state, caller, p).await?;
    let def = registry.get(&answer.indicator).ok_or_else(|| ApiError::NotFound("indicator".into()))?;
    let label = |d: Dim, v: &str| labels.label(&registry, def, d, v, lang);
    let table = rumbo_analytics::hxl::table(def, def.name_in(lang.code()), &answer, &label);
    Ok((def.clone(), table))
}

/// A table as a CSV download.
pub fn csv_response(name: &str, table: &rumbo_analytics::hxl::Table) -> ApiResult<axum::response::Response> {
    let mut bytes = Vec::new();
    rumbo_analytics::hxl::write_csv(table, &mut bytes).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")),
        ],
        bytes,
    )
        .into_response())
}

/// An indicator's figures, broken down and filtered, from the live aggregates. Survey
/// indicators weighted by the registry carry their 95% confidence interval and unweighted n.
/// Cells smaller than the indicator's threshold are suppressed for readers who may not read
/// the submissions.
///
/// Without credentials the answer is public: public indicators only, broken down by round,
/// country, admin 1, sex and age group with one value per filter, and every cell that is
/// small — or would let a small one be recomputed from any other public figure — left out.
/// `format=csv` answers a CSV with an HXL hashtag row; `format=xlsx` the same as a
/// workbook; `format=geojson` a FeatureCollection placed on the areas' boundaries.
#[utoipa::path(get, path = "/api/v1/aggregates", tag = "indicators", params(AggregateParams),
    responses((status = 200, body = AggregatesView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "unknown p-code, site, round or dimension; a breakdown the indicator does not allow")))]
async fn aggregates(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    lang: Lang,
    ApiQuery(p): ApiQuery<AggregateParams>,
) -> ApiResult<axum::response::Response> {
    match p.format.as_deref().map_or("json", str::trim) {
        "" | "json" => Ok(Json(answer(&state, caller.as_ref(), &p, lang).await?).into_response()),
        format @ ("csv" | "xlsx" | "geojson") => {
            let (def, table) = table(&state, caller.as_ref(), &p, lang).await?;
            crate::outputs::tables::download(&state, &def.id, &table, format).await
        }
        other => Err(ApiError::invalid("format", format!("`{other}` is not a format: use json, csv, xlsx or geojson"))),
    }
}

/// Server-sent events: an `update` event (at most one a second) whenever the aggregates
/// change. Dashboards reload their figures on it.
#[utoipa::path(get, path = "/api/v1/aggregates/stream", tag = "indicators",
    responses((status = 200, description = "text/event-stream of `update` events", content_type = "text/event-stream")))]
async fn stream(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> ApiResult<impl IntoResponse> {
    caller.require(Permission::ViewAnalytics, None)?;
    let updates = tokio_stream::wrappers::WatchStream::from_changes(state.analytics.subscribe());
    let events = updates
        .throttle(Duration::from_millis(700))
        .map(|version| Ok::<_, Infallible>(Event::default().event("update").data(version.to_string())));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
