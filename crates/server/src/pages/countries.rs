//! Countries: the list for everyone, creation and renaming for regional administrators.

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use rumbo_domain::permissions::Permission;
use rumbo_store::model::{CountryInput, fold};
use serde::Deserialize;

use super::{Cell, Chrome, FormField, FormPage, ListPage, ListQuery, PageResult, Posted, Row, render, see_other};
use crate::AppState;
use crate::auth::SignedIn;
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/countries", get(list).post(save))
        .route("/countries/new", get(new_form))
        .route("/countries/{code}/edit", get(edit_form).post(save))
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> PageResult {
    let mut countries = ops::countries(&state.store, &caller).await?;
    if let Some(text) = q.q.as_deref().map(fold).filter(|t| !t.is_empty()) {
        countries.retain(|c| fold(&format!("{} {} {} {}", c.code, c.name_en, c.name_es, c.name_pt)).contains(&text));
    }
    let can_edit = caller.allows(Permission::EditCountries, None);
    let rows: Vec<Row> = countries
        .iter()
        .map(|c| Row {
            cells: vec![
                Cell::link(&c.code, format!("/admin-areas?country={}", c.code)),
                Cell::text(&c.iso2),
                Cell::text(&c.name_en),
                Cell::text(&c.name_es),
                Cell::text(&c.name_pt),
                Cell::link(lang.t("nav.map"), format!("/map?country={}", c.code)),
            ],
            edit: can_edit.then(|| format!("/countries/{}/edit", c.code)),
        })
        .collect();
    let total = rows.len() as i64;
    let mut page = ListPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.countries"),
        "/countries",
        vec![super::FilterField::text("q", lang.t("common.search"), q.q.as_deref())],
        vec![
            lang.t("country.code"),
            lang.t("country.iso2"),
            lang.t("country.name_en"),
            lang.t("country.name_es"),
            lang.t("country.name_pt"),
            lang.t("nav.map"),
        ],
        rows,
        total,
    );
    page.editable = can_edit;
    page.actions = if can_edit { vec![(lang.t("common.new"), "/countries/new".to_string())] } else { vec![] };
    page.respond(&state, &caller, &q, "countries").await
}

#[derive(Debug, Default, Deserialize)]
struct CountryForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    iso2: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    name_es: String,
    #[serde(default)]
    name_pt: String,
}

impl CountryForm {
    fn fields(&self, lang: Lang) -> Vec<FormField> {
        vec![
            FormField::input("text", "code", lang.t("country.code"), &self.code).required(),
            FormField::input("text", "iso2", lang.t("country.iso2"), &self.iso2).required(),
            FormField::input("text", "name_en", lang.t("country.name_en"), &self.name_en).required(),
            FormField::input("text", "name_es", lang.t("country.name_es"), &self.name_es).required(),
            FormField::input("text", "name_pt", lang.t("country.name_pt"), &self.name_pt).required(),
        ]
    }
}

async fn new_form(SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    caller.require(Permission::EditCountries, None)?;
    Ok(render(&FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.countries"),
        "/countries",
        CountryForm::default().fields(lang),
        "/countries",
    )))
}

async fn edit_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(code): ApiPath<String>,
) -> PageResult {
    caller.require(Permission::EditCountries, None)?;
    let c = state.store.country(&code.to_uppercase()).await?;
    let form =
        CountryForm { code: c.code.clone(), iso2: c.iso2, name_en: c.name_en, name_es: c.name_es, name_pt: c.name_pt };
    Ok(render(&FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.countries"),
        format!("/countries/{}/edit", c.code),
        form.fields(lang),
        "/countries",
    )))
}

async fn save(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<CountryForm>,
) -> PageResult {
    let input = CountryInput {
        code: form.code.trim().to_uppercase(),
        iso2: form.iso2.trim().to_uppercase(),
        name_en: form.name_en.trim().into(),
        name_es: form.name_es.trim().into(),
        name_pt: form.name_pt.trim().into(),
    };
    match ops::save_country(&state.store, &caller, &input).await {
        Ok(_) => Ok(see_other("/countries?notice=saved")),
        Err(e) => FormPage::new(
            Chrome::new(lang, Some(&caller), &uri, "nav.countries"),
            uri.path().to_string(),
            form.fields(lang),
            "/countries",
        )
        .failed(e),
    }
}
