//! The plan page (`/response/plan`): the plan's sectors, indicators and targets for
//! everyone signed in; for ManagePlan, the template to fill, the upload of a filled one
//! (all or nothing, every problem named by `sheet!A1`) and the targets of a country edited
//! in place.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, Utc};
use rumbo_domain::permissions::{Permission, allows};
use rumbo_store::FieldError;
use rumbo_store::response::{Plan, PlanInput, PlanTarget, ReportFilter};
use serde::Deserialize;

use super::{plan_years, year_of};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageError, PageResult, Posted, render};
use crate::response::{Tab, plan};

pub fn router() -> Router<AppState> {
    let upload_limit = axum::extract::DefaultBodyLimit::max(crate::response::MAX_FILE + 256 * 1024);
    Router::new()
        .route("/response/plan", get(page))
        .route("/response/plan/upload", post(upload).layer(upload_limit))
        .route("/response/plan/targets", post(save_targets))
}

/// Loads a plan from a filled template: every problem named, nothing saved unless all is
/// right; the caller must manage the plan in every country it (and the plan it replaces)
/// names. Shared by the page and `POST /api/v1/response/plans`.
pub async fn load(state: &AppState, caller: &Caller, bytes: Vec<u8>) -> ApiResult<Plan> {
    if !allows(&caller.user, Permission::ManagePlan, None) {
        return Err(ApiError::Forbidden("you may not manage the response plan".into()));
    }
    let reference = Arc::new(crate::response::reference(state).await?);
    let r = reference.clone();
    let parsed = tokio::task::spawn_blocking(move || plan::read(bytes, &r))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // The countries a plan names (and those of the plan it replaces) must all be the caller's.
    let mut countries: HashSet<String> = HashSet::new();
    if let Ok(p) = &parsed {
        countries.extend(p.targets.iter().map(|t| t.country_code.clone()));
        if let Ok(old) = state.store.response_plan(p.year).await {
            countries.extend(old.targets.iter().map(|t| t.country_code.clone()));
        }
    }
    if !caller.user.all_countries
        && let Some(c) = countries.iter().find(|c| !allows(&caller.user, Permission::ManagePlan, Some(c)))
    {
        return Err(ApiError::Forbidden(format!(
            "you may not manage the plan in {c}: a plan with targets there needs a regional account"
        )));
    }
    let input = parsed?;
    if let Ok(old) = state.store.response_plan(input.year).await {
        refuse_dropping_used_indicators(state, &old, &input).await?;
    }
    Ok(state.store.save_response_plan(&caller.actor(), &input).await?)
}

/// A new version of a plan may not drop an indicator (or move it to another sector) that
/// report rows already use: those rows would drop out of every figure.
async fn refuse_dropping_used_indicators(state: &AppState, old: &Plan, new: &PlanInput) -> ApiResult<()> {
    let kept: HashMap<&str, &str> = new.indicators.iter().map(|i| (i.code.as_str(), i.sector_code.as_str())).collect();
    let mut errors = Vec::new();
    for i in &old.indicators {
        if kept.get(i.code.as_str()) == Some(&i.sector_code.as_str()) {
            continue;
        }
        let filter =
            ReportFilter { plan_id: old.id, indicator: Some(i.code.clone()), limit: 1, ..ReportFilter::default() };
        let used = state.store.list_activity_reports(&filter).await?.total;
        if used > 0 {
            let change = if kept.contains_key(i.code.as_str()) { "moves to another sector" } else { "is left out" };
            errors.push(FieldError::new(
                "indicators!",
                format!(
                    "indicator `{}` {change}, but {used} report rows of {} use it in sector `{}`: keep it as it is (its names may change)",
                    i.code, old.year, i.sector_code
                ),
            ));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

#[derive(Debug, Default, Deserialize)]
struct PlanQuery {
    year: Option<i32>,
    country: Option<String>,
}

/// A target as shown (and, for a manager, edited).
struct TargetRow {
    country: String,
    admin1: String,
    admin1_name: String,
    sector: String,
    sector_name: String,
    in_need: String,
    targeted: String,
    funding: String,
}

struct IndicatorRow {
    sector: String,
    code: String,
    name: String,
    unit: String,
    counts_people: bool,
}

#[derive(Template)]
#[template(path = "response_plan.html")]
struct PlanPage {
    c: Chrome,
    tabs: Vec<Tab>,
    years: Vec<Choice>,
    year: i32,
    countries: Vec<Choice>,
    country: String,
    plan: Option<Plan>,
    sectors: Vec<(String, String, bool)>,
    indicators: Vec<IndicatorRow>,
    targets: Vec<TargetRow>,
    /// May load a plan.
    manage: bool,
    /// May edit this country's targets.
    edit: bool,
    admin1_choices: Vec<Choice>,
    sector_choices: Vec<Choice>,
    errors: Vec<String>,
}

fn pick<'a>(lang: Lang, en: &'a str, es: &'a str, pt: &'a str) -> &'a str {
    match lang {
        Lang::Es => es,
        Lang::Pt => pt,
        Lang::En => en,
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.2}") }
}

/// What a refused post shows again: the problems and, after a refused edit, the rows as
/// they were typed.
#[derive(Default)]
struct Refused {
    errors: Vec<String>,
    typed: Option<Vec<TargetRow>>,
}

/// Builds the page for a year and country.
async fn plan_page(
    state: &AppState,
    caller: &Caller,
    (lang, uri): (Lang, &Uri),
    year: i32,
    country: Option<String>,
    refused: Refused,
) -> ApiResult<PlanPage> {
    let Refused { errors, typed } = refused;
    let held = plan_years(state).await?;
    let mut years: Vec<Choice> =
        held.iter().map(|y| Choice::new(y.to_string(), y.to_string(), &year.to_string())).collect();
    if !held.contains(&year) {
        years.insert(0, Choice::new(year.to_string(), year.to_string(), &year.to_string()));
    }
    let country = country.map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty());
    if let Some(c) = &country {
        caller.require(Permission::ViewReference, Some(c))?;
    }
    let visible = crate::ops::countries(&state.store, caller).await?;
    let countries = crate::pages::country_choices(&visible, lang, country.as_deref().unwrap_or_default(), true);
    let plan = state.store.response_plan(year).await.ok();
    let labels = state.analytics.labels(state).await?;
    let manage = allows(&caller.user, Permission::ManagePlan, None);
    let edit =
        plan.is_some() && country.as_deref().is_some_and(|c| allows(&caller.user, Permission::ManagePlan, Some(c)));
    let mut page = PlanPage {
        c: Chrome::new(lang, Some(caller), uri, "resp.plan.title"),
        tabs: crate::response::tabs(caller, lang, uri.path()),
        years,
        year,
        countries,
        country: country.clone().unwrap_or_default(),
        plan: None,
        sectors: Vec::new(),
        indicators: Vec::new(),
        targets: Vec::new(),
        manage,
        edit,
        admin1_choices: Vec::new(),
        sector_choices: Vec::new(),
        errors,
    };
    let Some(plan) = plan else { return Ok(page) };
    let sector_names: HashMap<&str, &str> =
        plan.sectors.iter().map(|s| (s.code.as_str(), pick(lang, &s.name_en, &s.name_es, &s.name_pt))).collect();
    let sector_name = |code: &str| sector_names.get(code).copied().unwrap_or(code).to_string();
    page.sectors =
        plan.sectors.iter().map(|s| (s.code.clone(), sector_name(&s.code), s.parent_code.is_some())).collect();
    page.indicators = plan
        .indicators
        .iter()
        .map(|i| IndicatorRow {
            sector: sector_name(&i.sector_code),
            code: i.code.clone(),
            name: pick(lang, &i.name_en, &i.name_es, &i.name_pt).to_string(),
            unit: i.unit.clone(),
            counts_people: i.counts_people,
        })
        .collect();
    let scope: Option<HashSet<String>> = match &country {
        Some(c) => Some(std::iter::once(c.clone()).collect()),
        None => caller.scope().map(|s| s.into_iter().collect()),
    };
    page.targets = typed.unwrap_or_else(|| {
        plan.targets
            .iter()
            .filter(|t| scope.as_ref().is_none_or(|s| s.contains(&t.country_code)))
            .map(|t| {
                let admin1 = t.admin1_pcode.clone().unwrap_or_default();
                TargetRow {
                    country: t.country_code.clone(),
                    admin1_name: if admin1.is_empty() { String::new() } else { labels.area_name(&admin1, lang) },
                    admin1,
                    sector: t.sector_code.clone(),
                    sector_name: sector_name(&t.sector_code),
                    in_need: t.people_in_need.to_string(),
                    targeted: t.people_targeted.to_string(),
                    funding: number(t.funding_required_usd),
                }
            })
            .collect()
    });
    if edit && let Some(c) = &country {
        let mut areas: Vec<(String, String)> = state
            .store
            .admin1_countries()
            .await?
            .into_iter()
            .filter(|(_, owner)| owner == c)
            .map(|(p, _)| (labels.area_name(&p, lang), p))
            .collect();
        areas.sort();
        page.admin1_choices = std::iter::once(Choice::new("", lang.t("resp.plan.whole_country"), ""))
            .chain(areas.into_iter().map(|(name, p)| Choice::new(p.clone(), format!("{name} ({p})"), "")))
            .collect();
        page.sector_choices =
            plan.sectors.iter().map(|s| Choice::new(s.code.clone(), sector_name(&s.code), "")).collect();
    }
    page.plan = Some(plan);
    Ok(page)
}

async fn page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<PlanQuery>,
) -> PageResult {
    let year = year_of(&state, q.year).await?;
    Ok(render(&plan_page(&state, &caller, (lang, &uri), year, q.country, Refused::default()).await?))
}

fn refused(page: &PlanPage, status: StatusCode) -> Response {
    (status, render(page)).into_response()
}

/// A filled plan template from the page (multipart: `csrf`, `file`).
async fn upload(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    caller.require(Permission::ManagePlan, None)?;
    let mut multipart = multipart
        .map_err(|e| ApiError::BadRequest(format!("send the file as multipart/form-data: {}", e.body_text())))?;
    let (mut csrf, mut file) = (None, None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(format!("the upload is malformed or was cut short: {}", e.body_text())))?
    {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.ok(),
            "file" => {
                let bytes = field.bytes().await.map_err(|e| {
                    ApiError::BadRequest(format!("the upload is malformed or was cut short: {}", e.body_text()))
                })?;
                file = Some(bytes.to_vec());
            }
            _ => {}
        }
    }
    caller.check_csrf(csrf.as_deref())?;
    let year_now = Utc::now().date_naive().year();
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let errors = vec![format!("{}: {}", lang.t("resp.plan.file"), lang.t("resp.plan.no_file"))];
        let page = plan_page(&state, &caller, (lang, &uri), year_now, None, Refused { errors, typed: None }).await?;
        return Ok(refused(&page, StatusCode::UNPROCESSABLE_ENTITY));
    };
    match load(&state, &caller, bytes).await {
        Ok(plan) => Ok(Redirect::to(&format!("/response/plan?year={}&notice=imported", plan.year)).into_response()),
        Err(e) if e.status_code().is_client_error() && e.status_code() != StatusCode::FORBIDDEN => {
            let status = e.status_code();
            let errors = match e {
                ApiError::Invalid(errors) => errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
                other => vec![other.to_string()],
            };
            let page =
                plan_page(&state, &caller, (lang, &uri), year_now, None, Refused { errors, typed: None }).await?;
            Ok(refused(&page, status))
        }
        Err(e) => Err(e.into()),
    }
}

/// The targets of one country as typed on the page (one entry per row, in order).
#[derive(Debug, Deserialize)]
struct TargetsForm {
    year: i32,
    country: String,
    #[serde(default)]
    admin1: Vec<String>,
    #[serde(default)]
    sector: Vec<String>,
    #[serde(default)]
    in_need: Vec<String>,
    #[serde(default)]
    targeted: Vec<String>,
    #[serde(default)]
    funding: Vec<String>,
}

async fn save_targets(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<TargetsForm>,
) -> Result<Response, PageError> {
    let country = form.country.trim().to_uppercase();
    caller.require(Permission::ManagePlan, Some(&country))?;
    let plan = state
        .store
        .response_plan(form.year)
        .await
        .map_err(|_| ApiError::NotFound(format!("a response plan for {}", form.year)))?;
    let cell = |v: &Vec<String>, i: usize| v.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut errors: Vec<FieldError> = Vec::new();
    let mut targets = Vec::new();
    let mut typed = Vec::new();
    let rows = form.sector.len().max(form.in_need.len()).max(form.targeted.len());
    for i in 0..rows {
        let (admin1, sector) = (cell(&form.admin1, i), cell(&form.sector, i));
        let (in_need, targeted, funding) = (cell(&form.in_need, i), cell(&form.targeted, i), cell(&form.funding, i));
        // The blank row for a new target, left blank.
        if in_need.is_empty() && targeted.is_empty() && funding.is_empty() {
            continue;
        }
        let field = |name: &str| format!("targets[{i}].{name}");
        let mut row_errors = Vec::new();
        let need = |v: &str, name: &str, errors: &mut Vec<FieldError>| {
            if v.is_empty() { Some(0) } else { crate::pages::parse_number::<i64>(v, &field(name), errors) }
        };
        let people_in_need = need(&in_need, "people_in_need", &mut row_errors);
        let people_targeted = need(&targeted, "people_targeted", &mut row_errors);
        let funding_required_usd = if funding.is_empty() {
            Some(0.0)
        } else {
            crate::pages::parse_number::<f64>(&funding, &field("funding_required_usd"), &mut row_errors)
        };
        if sector.is_empty() {
            row_errors.push(FieldError::new(field("sector_code"), "choose a sector"));
        }
        typed.push(TargetRow {
            country: country.clone(),
            admin1_name: admin1.clone(),
            admin1: admin1.clone(),
            sector_name: sector.clone(),
            sector: sector.clone(),
            in_need,
            targeted,
            funding,
        });
        if let (Some(people_in_need), Some(people_targeted), Some(funding_required_usd), true) =
            (people_in_need, people_targeted, funding_required_usd, row_errors.is_empty())
        {
            targets.push(PlanTarget {
                country_code: country.clone(),
                admin1_pcode: (!admin1.is_empty()).then_some(admin1),
                sector_code: sector,
                people_in_need,
                people_targeted,
                funding_required_usd,
            });
        }
        errors.extend(row_errors);
    }
    if errors.is_empty() {
        let sectors: HashSet<&str> = plan.sectors.iter().map(|s| s.code.as_str()).collect();
        let reference = crate::response::reference(&state).await?;
        errors = plan::check_targets(&targets, &sectors, &reference);
        for t in &targets {
            if t.people_targeted > t.people_in_need && t.people_in_need > 0 {
                errors.push(FieldError::new(
                    format!("{} {}", t.admin1_pcode.as_deref().unwrap_or(&country), t.sector_code),
                    "more people targeted than in need",
                ));
            }
        }
    }
    if !errors.is_empty() {
        let errors = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        let page =
            plan_page(&state, &caller, (lang, &uri), form.year, Some(country), Refused { errors, typed: Some(typed) })
                .await?;
        return Ok(refused(&page, StatusCode::UNPROCESSABLE_ENTITY));
    }
    state.store.save_response_targets(&caller.actor(), form.year, &targets).await?;
    Ok(Redirect::to(&format!("/response/plan?year={}&country={country}&notice=saved", form.year)).into_response())
}

/// The texts of the plan page (key, [English, Spanish, Portuguese]).
pub const TEXTS: &[(&str, [&str; 3])] = &[
    ("resp.plan.title", ["Response plan", "Plan de respuesta", "Plano de resposta"]),
    (
        "resp.plan.none",
        ["There is no plan for this year.", "No hay un plan para este año.", "Não há um plano para este ano."],
    ),
    ("resp.plan.period", ["Period", "Período", "Período"]),
    ("resp.plan.deadline", ["Reports due by day", "Reportes a entregar hasta el día", "Relatórios devidos até o dia"]),
    ("resp.plan.deadline_after", ["of the following month", "del mes siguiente", "do mês seguinte"]),
    ("resp.plan.load", ["Load a plan", "Cargar un plan", "Carregar um plano"]),
    (
        "resp.plan.load_help",
        [
            "Download the template, fill its sheets (sectors, indicators, targets) and upload it. Every problem is named by sheet and cell, and nothing is saved until all is right. A plan replaces the plan of the same year.",
            "Descargue la plantilla, llene sus hojas (sectores, indicadores, metas) y cárguela. Cada problema se indica por hoja y celda, y no se guarda nada hasta que todo esté bien. Un plan reemplaza el plan del mismo año.",
            "Baixe o modelo, preencha as planilhas (setores, indicadores, metas) e carregue-o. Cada problema é indicado por planilha e célula, e nada é salvo até que tudo esteja certo. Um plano substitui o plano do mesmo ano.",
        ],
    ),
    (
        "resp.plan.template",
        ["Download the plan template", "Descargar la plantilla del plan", "Baixar o modelo do plano"],
    ),
    ("resp.plan.file", ["Filled template", "Plantilla llena", "Modelo preenchido"]),
    (
        "resp.plan.no_file",
        [
            "choose the filled workbook (.xlsx)",
            "elija el libro lleno (.xlsx)",
            "escolha a pasta de trabalho preenchida (.xlsx)",
        ],
    ),
    ("resp.plan.upload", ["Load the plan", "Cargar el plan", "Carregar o plano"]),
    ("resp.plan.sectors", ["Sectors", "Sectores", "Setores"]),
    ("resp.plan.indicators", ["Indicators", "Indicadores", "Indicadores"]),
    ("resp.plan.unit", ["Unit", "Unidad", "Unidade"]),
    ("resp.plan.counts_people", ["Counts people", "Cuenta personas", "Conta pessoas"]),
    ("resp.plan.targets", ["Targets", "Metas", "Metas"]),
    (
        "resp.plan.targets_help",
        [
            "Choose a country to edit its targets: change a figure, or fill the last row to add a target. A country's figures are the sum of its admin 1 rows where it has some.",
            "Elija un país para editar sus metas: cambie una cifra, o llene la última fila para agregar una meta. Las cifras de un país son la suma de sus filas de admin 1 cuando las tiene.",
            "Escolha um país para editar suas metas: altere um número, ou preencha a última linha para adicionar uma meta. Os números de um país são a soma de suas linhas de admin 1 quando as tem.",
        ],
    ),
    ("resp.plan.whole_country", ["Whole country", "Todo el país", "Todo o país"]),
    ("resp.plan.save_targets", ["Save the targets", "Guardar las metas", "Salvar as metas"]),
    ("resp.plan.yes", ["yes", "sí", "sim"]),
    ("resp.plan.no", ["no", "no", "não"]),
];
