//! Organisations taking part in the response.

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use rumbo_domain::permissions::Permission;
use rumbo_store::model::{Organisation, OrganisationInput, OrganisationKind};
use serde::Deserialize;

use super::{
    Cell, Chrome, FilterField, FormField, FormPage, ListPage, ListQuery, PageResult, Posted, Row, code_choices,
    parse_code, render, save_or_show,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations", get(list).post(create))
        .route("/organisations/new", get(new_form))
        .route("/organisations/{id}/edit", get(edit_form).post(update))
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> PageResult {
    let page = ops::organisations(&state.store, &caller, &q.filter()).await?;
    let can_edit = caller.allows(Permission::EditOrganisations, None);
    let rows = page
        .items
        .iter()
        .map(|o| Row {
            cells: vec![
                Cell::text(&o.name),
                Cell::text(&o.acronym),
                Cell::text(lang.t(&format!("org.kind.{}", o.kind))),
            ],
            edit: can_edit.then(|| format!("/organisations/{}/edit", o.id)),
        })
        .collect();
    let mut page = ListPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.organisations"),
        "/organisations",
        vec![
            FilterField::select(
                "kind",
                lang.t("common.kind"),
                code_choices(OrganisationKind::ALL, lang, "org.kind", q.kind.as_deref().unwrap_or_default(), true),
            ),
            FilterField::text("q", lang.t("common.search"), q.q.as_deref()),
        ],
        vec![lang.t("common.name"), lang.t("org.acronym"), lang.t("common.kind")],
        rows,
        page.total,
    );
    page.editable = can_edit;
    page.actions = if can_edit { vec![(lang.t("common.new"), "/organisations/new".to_string())] } else { vec![] };
    page.respond(&state, &caller, &q, "organisations").await
}

#[derive(Debug, Default, Deserialize)]
struct OrganisationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    acronym: String,
    #[serde(default)]
    kind: String,
}

impl OrganisationForm {
    fn from_organisation(o: &Organisation) -> Self {
        OrganisationForm { name: o.name.clone(), acronym: o.acronym.clone(), kind: o.kind.to_string() }
    }

    fn input(&self) -> Result<OrganisationInput, ApiError> {
        let mut errors = Vec::new();
        match parse_code(&self.kind, "kind", &mut errors) {
            Some(kind) => Ok(OrganisationInput { name: self.name.clone(), acronym: self.acronym.clone(), kind }),
            None => Err(ApiError::Invalid(errors)),
        }
    }

    fn fields(&self, lang: Lang) -> Vec<FormField> {
        vec![
            FormField::input("text", "name", lang.t("common.name"), &self.name).required(),
            FormField::input("text", "acronym", lang.t("org.acronym"), &self.acronym),
            FormField::select(
                "kind",
                lang.t("common.kind"),
                code_choices(OrganisationKind::ALL, lang, "org.kind", &self.kind, false),
            )
            .required(),
        ]
    }
}

async fn new_form(SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    caller.require(Permission::EditOrganisations, None)?;
    let form = OrganisationForm { kind: "nngo".into(), ..Default::default() };
    Ok(render(&FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.organisations"),
        "/organisations",
        form.fields(lang),
        "/organisations",
    )))
}

async fn save(
    state: &AppState,
    lang: Lang,
    uri: &Uri,
    caller: &crate::auth::Caller,
    id: Option<i64>,
    form: &OrganisationForm,
) -> PageResult {
    caller.require(Permission::EditOrganisations, None)?;
    let action = id.map_or_else(|| "/organisations".to_string(), |id| format!("/organisations/{id}/edit"));
    let page = FormPage::new(
        Chrome::new(lang, Some(caller), uri, "nav.organisations"),
        action,
        form.fields(lang),
        "/organisations",
    );
    let save = |input: OrganisationInput| async move { ops::save_organisation(&state.store, caller, id, &input).await };
    save_or_show(form.input(), save, |_: &Organisation| "/organisations?notice=saved".into(), page).await
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<OrganisationForm>,
) -> PageResult {
    save(&state, lang, &uri, &caller, None, &form).await
}

async fn edit_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    caller.require(Permission::EditOrganisations, None)?;
    let org = state.store.organisation(id).await?;
    let form = OrganisationForm::from_organisation(&org);
    Ok(render(&FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.organisations"),
        format!("/organisations/{id}/edit"),
        form.fields(lang),
        "/organisations",
    )))
}

async fn update(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<OrganisationForm>,
) -> PageResult {
    save(&state, lang, &uri, &caller, Some(id), &form).await
}
