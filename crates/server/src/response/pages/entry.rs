//! Report entry: one row typed into a form (`/response/reports/new`), changed
//! (`/response/reports/{id}/edit`) or deleted (`/response/reports/{id}/delete`), checked by
//! the same [`Checker`](crate::response::reports::Checker) as the API and flagged the same way.

use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::Utc;
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::response::{ActivityReport, MODALITIES, POPULATION_TYPES, Plan};
use serde::Deserialize;

use super::{plan_year, year_choices};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, FormField, Ignored, PageError, PageResult, Posted, render, see_other};
use crate::response::reports::ReportInput;
use crate::response::{
    Tab, checker, editable, partner_organisation, plan_of, refuse_countries, require, store_rows, tabs, update_row,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/response/reports/new", get(new_page).post(create))
        .route("/response/reports/{id}/edit", get(edit_page).post(update))
        .route("/response/reports/{id}/delete", post(delete))
}

/// The row form, as the browser sends it (every value as typed).
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct EntryForm {
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub appealing_organisation_id: String,
    #[serde(default)]
    pub implementing_organisation_id: String,
    #[serde(default)]
    pub indicator: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub admin1_pcode: String,
    #[serde(default)]
    pub month: String,
    #[serde(default)]
    pub population_type: String,
    #[serde(default)]
    pub girls: String,
    #[serde(default)]
    pub boys: String,
    #[serde(default)]
    pub women: String,
    #[serde(default)]
    pub men: String,
    #[serde(default)]
    pub other: String,
    #[serde(default)]
    pub total: String,
    #[serde(default)]
    pub new_or_recurring: String,
    #[serde(default)]
    pub modality: String,
    #[serde(default)]
    pub cash_value_usd: String,
}

fn opt(v: &str) -> Option<String> {
    Some(v.trim().to_string()).filter(|v| !v.is_empty())
}

impl EntryForm {
    /// The form of a stored row.
    fn of(r: &ActivityReport) -> EntryForm {
        let n = |v: i64| v.to_string();
        EntryForm {
            year: r.plan_year.to_string(),
            appealing_organisation_id: r.appealing_org_id.to_string(),
            implementing_organisation_id: if r.implementing_org_id == r.appealing_org_id {
                String::new()
            } else {
                r.implementing_org_id.to_string()
            },
            indicator: r.indicator_code.clone(),
            country: r.country_code.clone(),
            admin1_pcode: r.admin1_pcode.clone().unwrap_or_default(),
            month: r.month.format("%Y-%m").to_string(),
            population_type: r.population_type.clone(),
            girls: n(r.girls),
            boys: n(r.boys),
            women: n(r.women),
            men: n(r.men),
            other: n(r.other),
            total: n(r.total),
            new_or_recurring: r.new_or_recurring.clone(),
            modality: r.modality.clone().unwrap_or_default(),
            cash_value_usd: r.cash_value_usd.map(|v| v.to_string()).unwrap_or_default(),
        }
    }

    /// The row the form describes, and the values that could not be read.
    fn input(&self, lang: Lang, appealing: Option<i64>) -> (ReportInput, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut int = |name: &str, v: &str| -> Option<i64> {
            let v = opt(v)?;
            v.replace(' ', "")
                .parse::<i64>()
                .map_err(|_| errors.push(FieldError::new(name, format!("`{v}` {}", lang.t("resp.rep.not_number")))))
                .ok()
        };
        let girls = int("girls", &self.girls);
        let boys = int("boys", &self.boys);
        let women = int("women", &self.women);
        let men = int("men", &self.men);
        let other = int("other", &self.other);
        let total = int("total", &self.total);
        let implementing = int("implementing_organisation_id", &self.implementing_organisation_id);
        let cash_value_usd = opt(&self.cash_value_usd).and_then(|v| {
            v.replace(',', ".")
                .parse::<f64>()
                .map_err(|_| {
                    errors.push(FieldError::new("cash_value_usd", format!("`{v}` {}", lang.t("resp.rep.not_amount"))));
                })
                .ok()
        });
        let input = ReportInput {
            appealing_organisation_id: appealing,
            // Left empty: the appealing organisation itself (also when a row is changed).
            implementing_organisation_id: implementing.or(appealing),
            implementing_organisation: None,
            sector: None,
            indicator: self.indicator.trim().to_string(),
            country: self.country.trim().to_uppercase(),
            admin1_pcode: opt(&self.admin1_pcode),
            month: self.month.trim().to_string(),
            population_type: self.population_type.clone(),
            girls,
            boys,
            women,
            men,
            other,
            total,
            new_or_recurring: self.new_or_recurring.clone(),
            modality: opt(&self.modality),
            cash_value_usd,
        };
        (input, errors)
    }
}

#[derive(Template)]
#[template(path = "response_entry.html")]
struct EntryPage {
    c: Chrome,
    tabs: Vec<Tab>,
    action: String,
    /// The appealing organisation, when it is fixed (a partner's; a row being changed).
    fixed_organisation: Option<String>,
    fields: Vec<FormField>,
    errors: Vec<String>,
    year: i32,
    delete_url: Option<String>,
    editing: bool,
}

/// What the form needs besides the values: the plan, and the caller's choices.
struct Lists {
    plan: Plan,
    years: Vec<i32>,
    organisations: Vec<(i64, String, String)>,
    countries: Vec<rumbo_store::model::Country>,
    admin1: Vec<(String, String)>,
}

async fn lists(state: &AppState, caller: &Caller, plan: Plan) -> Result<Lists, ApiError> {
    let countries = super::countries_for(state, caller, &[Permission::ReportActivities]).await?;
    let admin1 = super::admin1_of(state, &countries).await?;
    Ok(Lists {
        plan,
        years: state.store.response_plan_years().await?,
        organisations: state.store.organisation_names().await?,
        countries,
        admin1,
    })
}

/// The form's fields, filled with `f`, with each error beside its field.
#[allow(clippy::too_many_lines)]
fn fields(lang: Lang, l: &Lists, f: &EntryForm, appealing_fixed: bool, editing: bool) -> Vec<FormField> {
    let t = |k: &str| lang.t(k);
    let mut out = Vec::new();
    if !editing {
        out.push(FormField::select("year", t("resp.rep.year"), year_choices(&l.years, l.plan.year)).required());
    }
    if !appealing_fixed {
        out.push(
            FormField::select(
                "appealing_organisation_id",
                t("resp.rep.appealing"),
                super::organisation_choices(&l.organisations, &f.appealing_organisation_id, Some("—")),
            )
            .required(),
        );
    }
    let mut indicators = vec![Choice::new("", "—", &f.indicator)];
    indicators.extend(
        l.plan
            .indicators
            .iter()
            .map(|i| Choice::new(i.code.clone(), super::indicator_name(Some(&l.plan), lang, &i.code), &f.indicator)),
    );
    out.push(FormField::select("indicator", t("resp.rep.indicator"), indicators).required());
    let country = f.country.trim().to_uppercase();
    let mut countries = crate::pages::country_choices(&l.countries, lang, &country, false);
    if !country.is_empty() && !countries.iter().any(|c| c.selected) {
        countries.insert(0, Choice::new(country.clone(), country.clone(), &country));
    }
    out.push(FormField::select("country", t("common.country"), countries).required());
    let mut admin1 = vec![Choice::new("", "—", &f.admin1_pcode)];
    admin1.extend(l.admin1.iter().map(|(p, c)| Choice::new(p.clone(), format!("{p} ({c})"), f.admin1_pcode.trim())));
    if !f.admin1_pcode.trim().is_empty() && !admin1.iter().any(|c| c.selected) {
        admin1.push(Choice::new(f.admin1_pcode.trim(), f.admin1_pcode.trim(), f.admin1_pcode.trim()));
    }
    out.push(FormField::select("admin1_pcode", t("resp.rep.admin1"), admin1));
    out.push(FormField::input("month", "month", t("resp.rep.month"), f.month.clone()).required().help("YYYY-MM"));
    let mut populations = vec![Choice::new("", "—", &f.population_type)];
    populations
        .extend(POPULATION_TYPES.iter().map(|p| Choice::new(*p, t(&format!("resp.rep.pop.{p}")), &f.population_type)));
    out.push(FormField::select("population_type", t("resp.rep.population"), populations).required());
    for (name, key, value) in [
        ("girls", "resp.rep.girls", &f.girls),
        ("boys", "resp.rep.boys", &f.boys),
        ("women", "resp.rep.women", &f.women),
        ("men", "resp.rep.men", &f.men),
        ("other", "resp.rep.other", &f.other),
        ("total", "resp.rep.total", &f.total),
    ] {
        // Text, not number: a mistyped figure comes back as typed, beside its error.
        out.push(FormField::input("text", name, t(key), value.clone()));
    }
    let mut recurrence = vec![Choice::new("", "—", &f.new_or_recurring)];
    recurrence
        .extend(["new", "recurring"].iter().map(|r| Choice::new(*r, t(&format!("resp.rep.{r}")), &f.new_or_recurring)));
    out.push(FormField::select("new_or_recurring", t("resp.rep.recurrence"), recurrence).required());
    let mut modalities = vec![Choice::new("", "—", &f.modality)];
    modalities.extend(MODALITIES.iter().map(|m| Choice::new(*m, t(&format!("resp.rep.mod.{m}")), &f.modality)));
    out.push(FormField::select("modality", t("resp.rep.modality"), modalities));
    out.push(FormField::input("text", "cash_value_usd", t("resp.rep.cash_value"), f.cash_value_usd.clone()));
    out.push(FormField::select(
        "implementing_organisation_id",
        t("resp.rep.implementing"),
        super::organisation_choices(&l.organisations, &f.implementing_organisation_id, Some(t("resp.rep.same_org"))),
    ));
    out
}

/// Puts each error beside its field (or above the form when no field has its name).
fn attach(fields: &mut [FormField], errors: &[FieldError]) -> Vec<String> {
    let mut summary = Vec::new();
    for e in errors {
        let name = match e.field.as_str() {
            "implementing_organisation" => "implementing_organisation_id",
            other => other,
        };
        match fields.iter_mut().find(|f| f.name == name) {
            Some(f) => {
                if f.error.is_none() {
                    f.error = Some(e.message.clone());
                }
                summary.push(format!("{}: {}", f.label, e.message));
            }
            None => summary.push(format!("{}: {}", e.field, e.message)),
        }
    }
    summary
}

fn organisation_name(l: &Lists, id: i64) -> String {
    l.organisations.iter().find(|o| o.0 == id).map_or_else(|| id.to_string(), |o| o.1.clone())
}

/// Errors of the same field after the first are the checker's echo of a value the form
/// could not read: keep the first.
fn first_per_field(errors: Vec<FieldError>) -> Vec<FieldError> {
    let mut seen = std::collections::HashSet::new();
    errors.into_iter().filter(|e| seen.insert(e.field.clone())).collect()
}

#[derive(Deserialize, Default)]
struct NewQuery {
    year: Option<String>,
}

async fn new_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    query: Result<Query<NewQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    require(&caller.user, Permission::ReportActivities, "report activities")?;
    let own = partner_organisation(&caller.user)?;
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let (_, year) = plan_year(&state, q.year.as_deref()).await?;
    let plan = plan_of(&state, year).await?;
    let l = lists(&state, &caller, plan).await?;
    let appealing = own.or(caller.user.organisation_id);
    let form = EntryForm {
        year: year.to_string(),
        appealing_organisation_id: appealing.map(|a| a.to_string()).unwrap_or_default(),
        country: l.countries.first().map(|c| c.code.clone()).unwrap_or_default(),
        month: Utc::now().format("%Y-%m").to_string(),
        population_type: "in_destination".into(),
        new_or_recurring: "new".into(),
        ..EntryForm::default()
    };
    Ok(render(&EntryPage {
        c: Chrome::new(lang, Some(&caller), &uri, "resp.rep.entry_title"),
        tabs: tabs(&caller, lang, uri.path()),
        action: "/response/reports/new".into(),
        fixed_organisation: own.map(|o| organisation_name(&l, o)),
        fields: fields(lang, &l, &form, own.is_some(), false),
        errors: Vec::new(),
        year,
        delete_url: None,
        editing: false,
    }))
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<EntryForm>,
) -> PageResult {
    let user = &caller.user;
    // Access first: the permission, the organisation, the country.
    require(user, Permission::ReportActivities, "report activities")?;
    let own = partner_organisation(user)?;
    refuse_countries(user, std::iter::once(form.country.as_str()))?;
    let mut errors = Vec::new();
    let appealing = match own {
        Some(o) => Some(o),
        None => match opt(&form.appealing_organisation_id) {
            None => {
                errors.push(FieldError::new("appealing_organisation_id", lang.t("resp.rep.required")));
                None
            }
            Some(v) => v
                .parse::<i64>()
                .map_err(|_| {
                    errors.push(FieldError::new(
                        "appealing_organisation_id",
                        format!("`{v}` {}", lang.t("resp.rep.not_number")),
                    ));
                })
                .ok(),
        },
    };
    if let Some(a) = appealing
        && own.is_none()
        && !state.store.organisation_names().await?.iter().any(|o| o.0 == a)
    {
        errors.push(FieldError::new("appealing_organisation_id", format!("{a} is not an organisation")));
    }
    let (_, year) = plan_year(&state, Some(&form.year)).await?;
    let plan = plan_of(&state, year).await?;
    let checker = checker(&state, &plan).await?;
    let (input, parse_errors) = form.input(lang, appealing);
    errors.extend(parse_errors);
    let checked = checker.check(&input, appealing.unwrap_or(0), &|name: &str| name.to_string(), &mut errors);
    if let (Some(row), true) = (checked, errors.is_empty()) {
        let stored = store_rows(&state, &caller, &plan, vec![row], None, Instant::now(), 0).await?;
        let id = stored.ids.first().copied().unwrap_or_default();
        return Ok(see_other(&format!("/response/reports?year={year}&notice=saved#row-{id}")));
    }
    let l = lists(&state, &caller, plan).await?;
    let mut fields = fields(lang, &l, &form, own.is_some(), false);
    let errors = attach(&mut fields, &first_per_field(errors));
    let page = EntryPage {
        c: Chrome::new(lang, Some(&caller), &uri, "resp.rep.entry_title"),
        tabs: tabs(&caller, lang, uri.path()),
        action: "/response/reports/new".into(),
        fixed_organisation: own.map(|o| organisation_name(&l, o)),
        fields,
        errors,
        year,
        delete_url: None,
        editing: false,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// The row if the caller may change it; an approved row is a 409 that says so.
async fn changeable(state: &AppState, caller: &Caller, lang: Lang, id: i64) -> Result<ActivityReport, PageError> {
    editable(state, &caller.user, id).await.map_err(|e| match e {
        ApiError::Conflict { .. } => {
            PageError(ApiError::Conflict { field: None, message: lang.t("resp.rep.approved_locked").into() })
        }
        other => PageError(other),
    })
}

fn edit_page_of(lang: Lang, caller: &Caller, uri: &Uri, l: &Lists, r: &ActivityReport, form: &EntryForm) -> EntryPage {
    EntryPage {
        c: Chrome::new(lang, Some(caller), uri, "resp.rep.edit_title"),
        tabs: tabs(caller, lang, uri.path()),
        action: format!("/response/reports/{}/edit", r.id),
        fixed_organisation: Some(r.appealing_org.clone()),
        fields: fields(lang, l, form, true, true),
        errors: Vec::new(),
        year: r.plan_year,
        delete_url: Some(format!("/response/reports/{}/delete", r.id)),
        editing: true,
    }
}

async fn edit_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let r = changeable(&state, &caller, lang, id).await?;
    let plan = plan_of(&state, r.plan_year).await?;
    let l = lists(&state, &caller, plan).await?;
    Ok(render(&edit_page_of(lang, &caller, &uri, &l, &r, &EntryForm::of(&r))))
}

async fn update(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<EntryForm>,
) -> PageResult {
    let r = changeable(&state, &caller, lang, id).await?;
    let (input, parse_errors) = form.input(lang, Some(r.appealing_org_id));
    match update_row(&state, &caller, id, &input, parse_errors).await {
        Ok(_) => Ok(see_other(&format!("/response/reports?year={}&notice=saved#row-{id}", r.plan_year))),
        Err(ApiError::Invalid(errors)) => {
            let plan = plan_of(&state, r.plan_year).await?;
            let l = lists(&state, &caller, plan).await?;
            let mut page = edit_page_of(lang, &caller, &uri, &l, &r, &form);
            page.errors = attach(&mut page.fields, &first_per_field(errors));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(ApiError::Conflict { .. }) => {
            Err(PageError(ApiError::Conflict { field: None, message: lang.t("resp.rep.approved_locked").into() }))
        }
        Err(e) => Err(PageError(e)),
    }
}

async fn delete(
    State(state): State<AppState>,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<Ignored>,
) -> PageResult {
    let r = changeable(&state, &caller, lang, id).await?;
    state.store.delete_activity_report(&caller.actor(), id).await.map_err(|e| match e {
        rumbo_store::StoreError::Conflict { .. } => {
            PageError(ApiError::Conflict { field: None, message: lang.t("resp.rep.approved_locked").into() })
        }
        other => PageError(other.into()),
    })?;
    Ok(see_other(&format!("/response/reports?year={}&notice=deleted", r.plan_year)))
}
