//! Rounds (data-collection periods) per country.

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::{get, post};
use chrono::NaiveDate;
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::model::{Country, Round, RoundInput, RoundStatus};
use serde::Deserialize;

use super::{
    Cell, Chrome, FilterField, FormField, FormPage, Ignored, ListPage, ListQuery, NewQuery, PageResult, Posted, Row,
    code_choices, countries_allowing, country_choices, parse_code, render, save_or_show, see_other,
};
use crate::AppState;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rounds", get(list).post(create))
        .route("/rounds/new", get(new_form))
        .route("/rounds/{id}/edit", get(edit_form).post(update))
        .route("/rounds/{id}/delete", post(delete))
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> PageResult {
    let filter = ops::scoped(&caller, q.filter())?;
    let page = state.store.list_rounds(&filter).await?;
    let countries = ops::countries(&state.store, &caller).await?;
    let can_edit = |country: &str| caller.allows(Permission::EditRounds, Some(country));
    let rows = page
        .items
        .iter()
        .map(|r| Row {
            cells: vec![
                Cell::text(&r.country_code),
                Cell::text(&r.name),
                Cell::text(r.starts_on.to_string()),
                Cell::text(r.ends_on.to_string()),
                Cell::text(lang.t(&format!("round.status.{}", r.status))),
            ],
            edit: can_edit(&r.country_code).then(|| format!("/rounds/{}/edit", r.id)),
        })
        .collect();
    let mut actions = Vec::new();
    if countries.iter().any(|c| can_edit(&c.code)) {
        actions.push(q.new_action(lang, "/rounds"));
    }
    let mut page = ListPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.rounds"),
        "/rounds",
        vec![
            FilterField::country(lang, &countries, &q),
            FilterField::select(
                "kind",
                lang.t("common.status"),
                code_choices(RoundStatus::ALL, lang, "round.status", q.kind.as_deref().unwrap_or_default(), true),
            ),
            FilterField::text("q", lang.t("common.search"), q.q.as_deref()),
        ],
        vec![
            lang.t("common.country"),
            lang.t("common.name"),
            lang.t("round.starts_on"),
            lang.t("round.ends_on"),
            lang.t("common.status"),
        ],
        rows,
        page.total,
    );
    page.actions = actions;
    page.respond(&state, &caller, &q, "rounds").await
}

#[derive(Debug, Default, Deserialize)]
struct RoundForm {
    #[serde(default)]
    country_code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    status: String,
}

fn parse_date(value: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| {
            errors.push(FieldError::new(
                field,
                if value.trim().is_empty() {
                    "is required".into()
                } else {
                    format!("'{value}' is not a date (YYYY-MM-DD)")
                },
            ));
        })
        .ok()
}

impl RoundForm {
    fn from_round(r: &Round) -> Self {
        RoundForm {
            country_code: r.country_code.clone(),
            name: r.name.clone(),
            starts_on: r.starts_on.to_string(),
            ends_on: r.ends_on.to_string(),
            status: r.status.to_string(),
        }
    }

    fn input(&self) -> Result<RoundInput, ApiError> {
        let mut errors = Vec::new();
        let starts_on = parse_date(&self.starts_on, "starts_on", &mut errors);
        let ends_on = parse_date(&self.ends_on, "ends_on", &mut errors);
        let status = parse_code(&self.status, "status", &mut errors);
        match (starts_on, ends_on, status) {
            (Some(starts_on), Some(ends_on), Some(status)) => Ok(RoundInput {
                country_code: self.country_code.clone(),
                name: self.name.clone(),
                starts_on,
                ends_on,
                status,
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
            FormField::input("text", "name", lang.t("common.name"), &self.name).required(),
            FormField::input("date", "starts_on", lang.t("round.starts_on"), &self.starts_on).required(),
            FormField::input("date", "ends_on", lang.t("round.ends_on"), &self.ends_on).required(),
            FormField::select(
                "status",
                lang.t("common.status"),
                code_choices(RoundStatus::ALL, lang, "round.status", &self.status, false),
            )
            .required(),
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
    let countries = countries_allowing(&state, &caller, Permission::EditRounds).await?;
    let form = RoundForm {
        country_code: q.country.unwrap_or_default().to_uppercase(),
        status: "planned".into(),
        ..Default::default()
    };
    Ok(render(&FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.rounds"),
        "/rounds",
        form.fields(lang, &countries),
        "/rounds",
    )))
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<RoundForm>,
) -> PageResult {
    let countries = countries_allowing(&state, &caller, Permission::EditRounds).await?;
    let page = FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.rounds"),
        "/rounds",
        form.fields(lang, &countries),
        "/rounds",
    );
    let done = |saved: &Round| format!("/rounds?country={}&notice=saved", saved.country_code);
    save_or_show(form.input(), |input| ops::create_round(&state.store, &caller, input), done, page).await
}

async fn edit_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let round = ops::round(&state.store, &caller, id).await?;
    caller.require(Permission::EditRounds, Some(&round.country_code))?;
    let countries = countries_allowing(&state, &caller, Permission::EditRounds).await?;
    let mut page = FormPage::new(
        Chrome::new(lang, Some(&caller), &uri, "nav.rounds"),
        format!("/rounds/{id}/edit"),
        RoundForm::from_round(&round).fields(lang, &countries),
        format!("/rounds?country={}", round.country_code),
    );
    page.delete_url = Some(format!("/rounds/{id}/delete"));
    Ok(render(&page))
}

async fn update(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<RoundForm>,
) -> PageResult {
    let countries = countries_allowing(&state, &caller, Permission::EditRounds).await?;
    let chrome = Chrome::new(lang, Some(&caller), &uri, "nav.rounds");
    let mut page = FormPage::new(chrome, format!("/rounds/{id}/edit"), form.fields(lang, &countries), "/rounds");
    page.delete_url = Some(format!("/rounds/{id}/delete"));
    let done = |saved: &Round| format!("/rounds?country={}&notice=saved", saved.country_code);
    save_or_show(form.input(), |input| ops::update_round(&state.store, &caller, id, input), done, page).await
}

async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<Ignored>,
) -> PageResult {
    let round = ops::round(&state.store, &caller, id).await?;
    let line = ops::delete_round(&state.store, &caller, id).await?;
    state.analytics.rebuild(&state, None).await?;
    Ok(see_other(&format!("/rounds?country={}&notice=deleted&undo={line}", round.country_code)))
}
