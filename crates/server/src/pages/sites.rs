//! Sites and flow-monitoring points: list, filter, download, create, edit, delete.

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::{get, post};
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::model::{Country, Site, SiteInput, SiteKind};
use serde::Deserialize;

use super::{
    Cell, Chrome, FilterField, FormField, FormPage, ListPage, ListQuery, NewQuery, PageResult, Posted, Row,
    code_choices, countries_allowing, country_choices, parse_code, parse_number, render, save_or_show, see_other,
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
        .route("/sites", get(list).post(create))
        .route("/sites/new", get(new_form))
        .route("/sites/{id}/edit", get(edit_form).post(update))
        .route("/sites/{id}/delete", post(delete))
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> PageResult {
    let filter = ops::scoped(&caller, q.filter())?;
    let page = state.store.list_sites(&filter).await?;
    let countries = ops::countries(&state.store, &caller).await?;
    let c = Chrome::new(lang, Some(&caller), &uri, "nav.sites");
    let can_edit = |country: &str| caller.allows(Permission::EditLocations, Some(country));
    let rows = page
        .items
        .iter()
        .map(|s| Row {
            cells: vec![
                Cell::text(&s.code),
                Cell::text(&s.name),
                Cell::text(lang.t(&format!("site.kind.{}", s.kind))),
                Cell::text(&s.country_code),
                Cell::text(
                    s.admin_area_name
                        .as_deref()
                        .map(|n| format!("{n} ({})", s.admin_area_pcode.as_deref().unwrap_or_default()))
                        .unwrap_or_default(),
                ),
                Cell::text(format!("{:.4}", s.latitude)),
                Cell::text(format!("{:.4}", s.longitude)),
                Cell::text(yes_no(lang, s.active)),
            ],
            edit: can_edit(&s.country_code).then(|| format!("/sites/{}/edit", s.id)),
        })
        .collect();
    let mut actions = Vec::new();
    if countries.iter().any(|c| can_edit(&c.code)) {
        actions.push(q.new_action(lang, "/sites"));
    }
    let mut page = ListPage::new(
        c,
        "/sites",
        vec![
            FilterField::country(lang, &countries, &q),
            FilterField::select(
                "kind",
                lang.t("common.kind"),
                code_choices(SiteKind::ALL, lang, "site.kind", q.kind.as_deref().unwrap_or_default(), true),
            ),
            FilterField::text("q", lang.t("common.search"), q.q.as_deref()),
        ],
        vec![
            lang.t("common.code"),
            lang.t("common.name"),
            lang.t("common.kind"),
            lang.t("common.country"),
            lang.t("site.admin_area"),
            lang.t("site.latitude"),
            lang.t("site.longitude"),
            lang.t("common.active"),
        ],
        rows,
        page.total,
    );
    page.actions = actions;
    page.respond(&state, &caller, &q, "sites").await
}

/// The site form as typed: numbers stay text until they are checked.
#[derive(Debug, Default, Deserialize)]
struct SiteForm {
    #[serde(default)]
    country_code: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    latitude: String,
    #[serde(default)]
    longitude: String,
    #[serde(default)]
    admin_area_pcode: String,
    #[serde(default)]
    active: Option<String>,
}

impl SiteForm {
    fn from_site(s: &Site) -> Self {
        SiteForm {
            country_code: s.country_code.clone(),
            code: s.code.clone(),
            name: s.name.clone(),
            kind: s.kind.to_string(),
            latitude: s.latitude.to_string(),
            longitude: s.longitude.to_string(),
            admin_area_pcode: s.admin_area_pcode.clone().unwrap_or_default(),
            active: s.active.then(|| "true".into()),
        }
    }

    fn input(&self) -> Result<SiteInput, ApiError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let latitude = parse_number(&self.latitude, "latitude", &mut errors);
        let longitude = parse_number(&self.longitude, "longitude", &mut errors);
        let kind = parse_code(&self.kind, "kind", &mut errors);
        match (latitude, longitude, kind) {
            (Some(latitude), Some(longitude), Some(kind)) if errors.is_empty() => Ok(SiteInput {
                country_code: self.country_code.clone(),
                code: self.code.clone(),
                name: self.name.clone(),
                kind,
                latitude,
                longitude,
                admin_area_pcode: Some(self.admin_area_pcode.clone()),
                active: self.active.is_some(),
            }),
            _ => Err(ApiError::Invalid(errors)),
        }
    }

    fn fields(&self, lang: Lang, countries: &[Country]) -> Vec<FormField> {
        vec![
            FormField::select(
                "country_code",
                lang.t("common.country"),
                country_choices(countries, lang, &self.country_code, false),
            )
            .required(),
            FormField::input("text", "code", lang.t("common.code"), &self.code).required(),
            FormField::input("text", "name", lang.t("common.name"), &self.name).required(),
            FormField::select(
                "kind",
                lang.t("common.kind"),
                code_choices(SiteKind::ALL, lang, "site.kind", &self.kind, false),
            )
            .required(),
            FormField::input("number", "latitude", lang.t("site.latitude"), &self.latitude).required(),
            FormField::input("number", "longitude", lang.t("site.longitude"), &self.longitude).required(),
            FormField::input("text", "admin_area_pcode", lang.t("site.admin_area"), &self.admin_area_pcode)
                .help(lang.t("site.admin_area_help")),
            FormField::checkbox("active", lang.t("common.active"), self.active.is_some()),
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
    let form = SiteForm {
        country_code: q.country.unwrap_or_default().to_uppercase(),
        kind: "border_crossing".into(),
        active: Some("true".into()),
        ..Default::default()
    };
    let c = Chrome::new(lang, Some(&caller), &uri, "nav.sites");
    Ok(render(&FormPage::new(c, "/sites", form.fields(lang, &countries), "/sites")))
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<SiteForm>,
) -> PageResult {
    let countries = countries_allowing(&state, &caller, Permission::EditLocations).await?;
    let page = FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.sites"),
        "/sites",
        form.fields(lang, &countries),
        "/sites",
    );
    let done = |saved: &Site| format!("/sites?country={}&notice=saved", saved.country_code);
    save_or_show(form.input(), |input| ops::create_site(&state.store, &caller, input), done, page).await
}

async fn edit_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let site = ops::site(&state.store, &caller, id).await?;
    caller.require(Permission::EditLocations, Some(&site.country_code))?;
    let countries = countries_allowing(&state, &caller, Permission::EditLocations).await?;
    let mut page = FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.sites"),
        format!("/sites/{id}/edit"),
        SiteForm::from_site(&site).fields(lang, &countries),
        format!("/sites?country={}", site.country_code),
    );
    page.c.title = format!("{} — {}", site.name, site.code);
    page.delete_url = Some(format!("/sites/{id}/delete"));
    Ok(render(&page))
}

async fn update(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<SiteForm>,
) -> PageResult {
    let countries = countries_allowing(&state, &caller, Permission::EditLocations).await?;
    let chrome = Chrome::new(lang, Some(&caller), &uri, "nav.sites");
    let mut page = FormPage::new(chrome, format!("/sites/{id}/edit"), form.fields(lang, &countries), "/sites");
    page.delete_url = Some(format!("/sites/{id}/delete"));
    let done = |saved: &Site| format!("/sites?country={}&notice=saved", saved.country_code);
    let saved =
        save_or_show(form.input(), |input| ops::update_site(&state.store, &caller, id, input), done, page).await;
    state.analytics.sites_changed(&state).await?;
    saved
}

async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<super::Ignored>,
) -> PageResult {
    let site = ops::site(&state.store, &caller, id).await?;
    let line = ops::delete_site(&state.store, &caller, id).await?;
    state.analytics.sites_changed(&state).await?;
    Ok(see_other(&format!("/sites?country={}&notice=deleted&undo={line}", site.country_code)))
}
