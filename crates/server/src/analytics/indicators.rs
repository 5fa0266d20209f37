//! The indicators pages: the list, and an editor where an indicator (or a whole indicator
//! file) is written in TOML, as in `data/indicators/dtm.toml`. Saving checks everything and
//! rebuilds the aggregates; an error names the indicator, the field and the problem, and
//! keeps the text.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use rumbo_analytics::IndicatorDef;
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::i18n::Lang;
use crate::pages::{Chrome, PageResult, Posted, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/indicators", get(list).post(save))
        .route("/indicators/new", get(new))
        .route("/indicators/{id}/edit", get(edit))
        .route("/indicators/{id}/delete", post(delete))
}

/// One line of the list.
pub struct Line {
    pub id: String,
    pub name: String,
    pub form: String,
    pub kind: &'static str,
    pub section: String,
    pub restricted: bool,
    pub weighted: bool,
    pub breakdowns: String,
    pub cells: i64,
    pub problems: Vec<FieldError>,
}

#[derive(Template)]
#[template(path = "indicators.html")]
struct ListPage {
    c: Chrome,
    lines: Vec<Line>,
    manage: bool,
}

#[derive(Template)]
#[template(path = "indicator_edit.html")]
struct EditPage {
    c: Chrome,
    text: String,
    errors: Vec<FieldError>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    indicator: [&'a IndicatorDef; 1],
}

/// An indicator written as an indicator file.
pub fn to_toml(def: &IndicatorDef) -> String {
    toml::to_string(&FileOut { indicator: [def] }).unwrap_or_default()
}

const TEMPLATE: &str = r#"# One or more [[indicator]] blocks. Kinds: count, sum, proportion, mean.
# Expressions use the form's fields as in the XLSForm: ${field}, selected(), and so on.
[[indicator]]
id = "fms_need_health"
form = "rumbo_fms"
kind = "proportion"
name = { es = "Necesita atención en salud", pt = "Precisa de atendimento de saúde", en = "Needs health care" }
numerator = "selected(${needs}, 'health')"
denominator = "${consent} = 'yes'"
disaggregations = ["round", "month", "country", "adm1", "site", "sex", "age_group", "nationality", "population_group"]
dimensions = { origin = "${country_origin}", destination = "${dest_country}" }
sensitivity = "public"
suppression = 5
weight_by = "fmr_people"
section = "needs"
"#;

async fn list(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    caller.require(Permission::ViewAnalytics, None)?;
    let registry = state.analytics.registry();
    let cells = state.store.cell_counts().await?;
    let lines = super::visible(&registry, &caller)
        .into_iter()
        .map(|d| Line {
            name: d.name_in(lang.code()).to_owned(),
            form: d.form.clone(),
            kind: d.kind.as_str(),
            section: d.section.clone().unwrap_or_default(),
            restricted: d.sensitivity == rumbo_analytics::Sensitivity::Restricted,
            weighted: d.weight_by.is_some(),
            breakdowns: d.disaggregations.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", "),
            cells: cells.get(&d.id).copied().unwrap_or_default(),
            problems: registry.problems(&d.id).map(<[_]>::to_vec).unwrap_or_default(),
            id: d.id,
        })
        .collect();
    let manage = caller.allows(Permission::ManageIndicators, None);
    Ok(render(&ListPage { c: Chrome::new(lang, Some(&caller), &uri, "ind.title"), lines, manage }))
}

async fn new(SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    caller.require(Permission::ManageIndicators, None)?;
    let c = Chrome::new(lang, Some(&caller), &uri, "ind.new");
    Ok(render(&EditPage { c, text: TEMPLATE.to_owned(), errors: Vec::new() }))
}

async fn edit(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
) -> PageResult {
    caller.require(Permission::ManageIndicators, None)?;
    let registry = state.analytics.registry();
    let def = registry.get(&id).ok_or_else(|| ApiError::NotFound(format!("indicator {id}")))?;
    let c = Chrome::new(lang, Some(&caller), &uri, "ind.edit");
    Ok(render(&EditPage { c, text: to_toml(def), errors: Vec::new() }))
}

#[derive(Deserialize)]
struct Confirm {
    #[serde(default, rename = "csrf")]
    _csrf: Option<String>,
}

#[derive(Deserialize)]
struct Written {
    #[serde(default)]
    text: String,
}

async fn save(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<Written>,
) -> PageResult {
    caller.require(Permission::ManageIndicators, None)?;
    match super::load_file(&state, &caller, &form.text).await {
        Ok(_) => Ok(Redirect::to("/indicators?notice=saved").into_response()),
        Err(ApiError::Invalid(errors)) => {
            let c = Chrome::new(lang, Some(&caller), &uri, "ind.edit");
            Ok(render(&EditPage { c, text: form.text, errors }))
        }
        Err(e @ (ApiError::Conflict { .. } | ApiError::BadRequest(_))) => {
            let c = Chrome::new(lang, Some(&caller), &uri, "ind.edit");
            Ok(render(&EditPage { c, text: form.text, errors: vec![FieldError::new("indicator", e.to_string())] }))
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    Posted { caller, form: _ }: Posted<Confirm>,
) -> PageResult {
    super::delete(&state, &caller, &id).await?;
    Ok(Redirect::to("/indicators?notice=deleted").into_response())
}
