//! Admin areas: list, filter, download, create, edit, delete, and import from GeoJSON.

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::Uri;
use axum::routing::{get, post};
use rumbo_domain::boundaries::BoundaryOptions;
use rumbo_domain::permissions::Permission;
use rumbo_store::model::{AdminArea, AdminAreaInput, Country};
use serde::Deserialize;

use super::{
    Cell, Choice, Chrome, FilterField, FormField, FormPage, Ignored, ListPage, ListQuery, NewQuery, PageError,
    PageResult, Posted, Row, countries_allowing, country_choices, parse_number, render, save_or_show, see_other,
    yes_no,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin-areas", get(list).post(create))
        .route("/admin-areas/new", get(new_form))
        .route(
            "/admin-areas/import",
            get(import_form).post(import).layer(axum::extract::DefaultBodyLimit::max(crate::MAX_UPLOAD)),
        )
        .route("/admin-areas/{id}/edit", get(edit_form).post(update))
        .route("/admin-areas/{id}/delete", post(delete))
}

fn level_choices(current: &str, any: bool, lang: Lang) -> Vec<Choice> {
    let mut choices = Vec::new();
    if any {
        choices.push(Choice::new("", lang.t("common.all"), current));
    }
    for level in 1..=5 {
        choices.push(Choice::new(level.to_string(), level.to_string(), current));
    }
    choices
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> PageResult {
    let filter = ops::scoped(&caller, q.filter())?;
    let page = state.store.list_admin_areas(&filter).await?;
    let countries = ops::countries(&state.store, &caller).await?;
    let can_edit = |country: &str| caller.allows(Permission::EditLocations, Some(country));
    let rows = page
        .items
        .iter()
        .map(|a| Row {
            cells: vec![
                Cell::text(&a.pcode),
                Cell::text(a.name(lang.code())),
                Cell::text(a.level.to_string()),
                Cell::text(a.parent_pcode.clone().unwrap_or_default()),
                Cell::text(&a.country_code),
                Cell::text(yes_no(lang, a.has_geometry)),
            ],
            edit: can_edit(&a.country_code).then(|| format!("/admin-areas/{}/edit", a.id)),
        })
        .collect();
    let mut actions = Vec::new();
    if countries.iter().any(|c| can_edit(&c.code)) {
        actions.push(q.new_action(lang, "/admin-areas"));
        actions.push((lang.t("area.import"), "/admin-areas/import".to_string()));
    }
    let mut page = ListPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.admin_areas"),
        "/admin-areas",
        vec![
            FilterField::country(lang, &countries, &q),
            FilterField::select(
                "level",
                lang.t("area.level"),
                level_choices(q.level.as_deref().unwrap_or_default(), true, lang),
            ),
            FilterField::text("q", lang.t("common.search"), q.q.as_deref()),
        ],
        vec![
            lang.t("area.pcode"),
            lang.t("common.name"),
            lang.t("area.level"),
            lang.t("area.parent"),
            lang.t("common.country"),
            lang.t("area.geometry"),
        ],
        rows,
        page.total,
    );
    page.actions = actions;
    page.respond(&state, &caller, &q, "admin-areas").await
}

#[derive(Debug, Default, Deserialize)]
struct AreaForm {
    #[serde(default)]
    country_code: String,
    #[serde(default)]
    pcode: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    parent_pcode: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    name_es: String,
    #[serde(default)]
    name_pt: String,
    #[serde(default)]
    geometry: String,
}

impl AreaForm {
    fn from_area(a: &AdminArea) -> Self {
        AreaForm {
            country_code: a.country_code.clone(),
            pcode: a.pcode.clone(),
            level: a.level.to_string(),
            parent_pcode: a.parent_pcode.clone().unwrap_or_default(),
            name_en: a.name_en.clone(),
            name_es: a.name_es.clone(),
            name_pt: a.name_pt.clone(),
            geometry: String::new(),
        }
    }

    fn input(&self) -> Result<AdminAreaInput, ApiError> {
        let mut errors = Vec::new();
        let level = parse_number(&self.level, "level", &mut errors).ok_or(ApiError::Invalid(errors))?;
        Ok(AdminAreaInput {
            country_code: self.country_code.clone(),
            pcode: self.pcode.clone(),
            level,
            parent_pcode: Some(self.parent_pcode.clone()),
            name_en: self.name_en.clone(),
            name_es: self.name_es.clone(),
            name_pt: self.name_pt.clone(),
            geometry: Some(self.geometry.clone()).filter(|g| !g.trim().is_empty()),
        })
    }

    fn fields(&self, lang: Lang, countries: &[Country]) -> Vec<FormField> {
        vec![
            FormField::select(
                "country_code",
                lang.t("common.country"),
                country_choices(countries, lang, &self.country_code, false),
            )
            .required(),
            FormField::input("text", "pcode", lang.t("area.pcode"), &self.pcode).required(),
            FormField::select("level", lang.t("area.level"), level_choices(&self.level, false, lang)).required(),
            FormField::input("text", "parent_pcode", lang.t("area.parent"), &self.parent_pcode),
            FormField::input("text", "name_en", lang.t("country.name_en"), &self.name_en).required(),
            FormField::input("text", "name_es", lang.t("country.name_es"), &self.name_es),
            FormField::input("text", "name_pt", lang.t("country.name_pt"), &self.name_pt),
            FormField::input("textarea", "geometry", lang.t("area.geometry"), &self.geometry)
                .help(lang.t("area.geometry_help")),
        ]
    }
}

async fn new_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<NewQuery>,
) -> PageResult {
    let countries = countries_allowing(&state, &caller, Permission::EditLocations).await?;
    let form = AreaForm {
        country_code: q.country.unwrap_or_default().to_uppercase(),
        level: "1".into(),
        ..Default::default()
    };
    Ok(render(&FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.admin_areas"),
        "/admin-areas",
        form.fields(lang, &countries),
        "/admin-areas",
    )))
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<AreaForm>,
) -> PageResult {
    let countries = countries_allowing(&state, &caller, Permission::EditLocations).await?;
    let page = FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.admin_areas"),
        "/admin-areas",
        form.fields(lang, &countries),
        "/admin-areas",
    );
    let done = |saved: &AdminArea| format!("/admin-areas?country={}&notice=saved", saved.country_code);
    save_or_show(form.input(), |input| ops::create_admin_area(&state.store, &caller, input), done, page).await
}

async fn edit_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let area = ops::admin_area(&state.store, &caller, id).await?;
    caller.require(Permission::EditLocations, Some(&area.country_code))?;
    let countries = countries_allowing(&state, &caller, Permission::EditLocations).await?;
    let mut page = FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.admin_areas"),
        format!("/admin-areas/{id}/edit"),
        AreaForm::from_area(&area).fields(lang, &countries),
        format!("/admin-areas?country={}", area.country_code),
    );
    page.c.title = format!("{} — {}", area.name(lang.code()), area.pcode);
    page.delete_url = Some(format!("/admin-areas/{id}/delete"));
    Ok(render(&page))
}

async fn update(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<AreaForm>,
) -> PageResult {
    let countries = countries_allowing(&state, &caller, Permission::EditLocations).await?;
    let chrome = Chrome::new(lang, Some(&caller), &uri, "nav.admin_areas");
    let mut page =
        FormPage::new(chrome, format!("/admin-areas/{id}/edit"), form.fields(lang, &countries), "/admin-areas");
    page.delete_url = Some(format!("/admin-areas/{id}/delete"));
    let done = |saved: &AdminArea| format!("/admin-areas?country={}&notice=saved", saved.country_code);
    save_or_show(form.input(), |input| ops::update_admin_area(&state.store, &caller, id, input), done, page).await
}

async fn delete(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<Ignored>,
) -> PageResult {
    let area = ops::admin_area(&state.store, &caller, id).await?;
    match ops::delete_admin_area(&state.store, &caller, id).await {
        Ok(line) => Ok(see_other(&format!("/admin-areas?country={}&notice=deleted&undo={line}", area.country_code))),
        Err(e @ ApiError::Conflict { .. }) => {
            let countries = countries_allowing(&state, &caller, Permission::EditLocations).await?;
            let mut page = FormPage::new(
                Chrome::new(lang, Some(&caller), &uri, "nav.admin_areas"),
                format!("/admin-areas/{id}/edit"),
                AreaForm::from_area(&area).fields(lang, &countries),
                "/admin-areas",
            );
            page.delete_url = Some(format!("/admin-areas/{id}/delete"));
            page.failed(e)
        }
        Err(e) => Err(PageError(e)),
    }
}

fn import_fields(
    lang: Lang,
    countries: &[Country],
    country: &str,
    level: &str,
    dissolve: bool,
    replace: bool,
) -> Vec<FormField> {
    vec![
        FormField::input("file", "file", lang.t("area.import_file"), "").required().help(lang.t("area.import_help")),
        FormField::select("country", lang.t("common.country"), country_choices(countries, lang, country, true)),
        FormField::select("level", lang.t("area.level"), level_choices(level, false, lang)),
        FormField::input("text", "code_property", lang.t("area.code_property"), ""),
        FormField::input("text", "name_property", lang.t("area.name_property"), ""),
        FormField::checkbox("dissolve", lang.t("area.dissolve"), dissolve),
        FormField::checkbox("replace", lang.t("area.replace"), replace),
    ]
}

async fn import_form(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    let countries = countries_allowing(&state, &caller, Permission::ImportBoundaries).await?;
    let mut page = FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "area.import"),
        "/admin-areas/import",
        import_fields(lang, &countries, "", "1", false, false),
        "/admin-areas",
    );
    page.multipart = true;
    Ok(render(&page))
}

/// The import form arrives as multipart (it carries a file), so its CSRF token is read here.
async fn import(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    mut multipart: Multipart,
) -> PageResult {
    let countries = countries_allowing(&state, &caller, Permission::ImportBoundaries).await?;
    let mut csrf = None;
    let mut text = None;
    let mut options = BoundaryOptions::default();
    let (mut country, mut level, mut replace) = (String::new(), "1".to_string(), false);
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError(ApiError::BadRequest(format!("the upload could not be read: {e}")))
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let bytes = field.bytes().await.map_err(bad)?;
            text = Some(
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| ApiError::invalid("file", "is not UTF-8 text (is it a GeoJSON file?)")),
            );
            continue;
        }
        let value = field.text().await.map_err(bad)?;
        match name.as_str() {
            "csrf" => csrf = Some(value),
            "country" => country = value.trim().to_uppercase(),
            "level" => level = value,
            "code_property" => options.code_property = Some(value).filter(|v| !v.trim().is_empty()),
            "name_property" => options.name_property = Some(value).filter(|v| !v.trim().is_empty()),
            "dissolve" => options.dissolve = true,
            "replace" => replace = true,
            _ => {}
        }
    }
    caller.check_csrf(csrf.as_deref())?;
    options.country = Some(country.clone()).filter(|c| !c.is_empty());
    let mut errors = Vec::new();
    options.level = parse_number(&level, "level", &mut errors);
    let result = match (text, errors.is_empty()) {
        (Some(Ok(text)), true) => ops::import_boundaries(&state.store, &caller, &text, &options, replace).await,
        (Some(Err(e)), _) => Err(e),
        (None, _) => Err(ApiError::invalid("file", "choose a GeoJSON file")),
        (_, false) => Err(ApiError::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/admin-areas?country={country}&notice=imported"))),
        Err(e) => {
            let mut page = FormPage::new(
                Chrome::new(lang, Some(&caller), &uri, "area.import"),
                "/admin-areas/import",
                import_fields(lang, &countries, &country, &level, options.dissolve, replace),
                "/admin-areas",
            );
            page.multipart = true;
            page.failed(e)
        }
    }
}
