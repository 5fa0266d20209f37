//! The map page: a country's admin-1 areas drawn as SVG from their stored boundaries, with
//! its sites as points (names on hover).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use rumbo_domain::map::{Map, draw};
use rumbo_domain::permissions::Permission;
use rumbo_store::model::ListFilter;
use serde::Deserialize;

use super::{Choice, Chrome, PageResult, country_choices, render};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::i18n::Lang;
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new().route("/map", get(page))
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    c: Chrome,
    countries: Vec<Choice>,
    map: Map,
    map_label: String,
}

#[derive(Template)]
#[template(path = "svg.html")]
struct MapSvg {
    map: Map,
    map_label: String,
}

async fn country_map(state: &AppState, caller: &Caller, code: &str, lang: Lang) -> Result<(Map, String), ApiError> {
    let country = ops::country(&state.store, caller, code).await?;
    caller.require(Permission::ViewReference, Some(&country.code))?;
    let shapes = state.store.area_shapes(&country.code, 1).await?;
    let sites = state
        .store
        .list_sites(&ListFilter { country: Some(country.code.clone()), limit: Some(100_000), ..Default::default() })
        .await?
        .items;
    let name = match lang {
        Lang::Es => country.name_es,
        Lang::Pt => country.name_pt,
        Lang::En => country.name_en,
    };
    Ok((draw(&shapes, &sites, lang.code(), 900.0), format!("{} — {name}", lang.t("map.title"))))
}

/// The map of one country as a standalone SVG document.
pub async fn country_svg(state: &AppState, caller: &Caller, code: &str, lang: Lang) -> Result<String, ApiError> {
    let (map, map_label) = country_map(state, caller, code, lang).await?;
    MapSvg { map, map_label }.render().map_err(|e| ApiError::Internal(e.to_string()))
}

#[derive(Deserialize)]
struct MapQuery {
    country: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<MapQuery>,
) -> PageResult {
    let countries = ops::countries(&state.store, &caller).await?;
    let code = q
        .country
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty())
        .or_else(|| countries.iter().find(|c| c.code == "COL").or(countries.first()).map(|c| c.code.clone()))
        .ok_or_else(|| ApiError::NotFound("country".into()))?;
    let (map, map_label) = country_map(&state, &caller, &code, lang).await?;
    let mut c = Chrome::new(lang, Some(&caller), &uri, "map.title");
    c.title.clone_from(&map_label);
    Ok(render(&MapPage { c, countries: country_choices(&countries, lang, &code, false), map, map_label }))
}
