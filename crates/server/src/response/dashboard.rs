//! The 5W overview: people reached against the plan by country, sector, admin 1, partner
//! and month, with the funding the plan requires, and the HXL exports of each table
//! (`GET /response`, `GET /api/v1/response/overview`, `GET /api/v1/response/overview/{table}`);
//! and the plan page ([`plan_page`]).
//!
//! Every figure comes from [`super::reached::compute`]: the report rows of the caller's
//! countries (or one of them), consolidated without double counting, beside the plan's
//! targets. Everyone signed in may read them (ViewAnalytics), partners included: a partner
//! edits only her organisation's rows, but the consolidated figures are the response's.

pub mod plan_page;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, Utc};
use rumbo_analytics::fivew::Disagg;
use rumbo_analytics::hxl::{Table, Value};
use rumbo_charts::{Area, Bar, Format, Locale, MapLayers, Series};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::reached::{Computed, PlanFigures, compute};
use crate::AppState;
use crate::analytics::api::Labels;
use crate::auth::{ApiCaller, Caller, SignedIn};
use crate::collect::api::attachment_response;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageResult, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/response", get(page))
        .route("/api/v1/response/overview", get(overview_api))
        .route("/api/v1/response/overview/{table}", get(table_api))
        .merge(plan_page::router())
}

/// The overview's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(overview_api, table_api), components(schemas(Overview, Line, PartnerLine, MonthLine, UnitLine)))]
pub struct OverviewDoc;

/// Which figures to show.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// The plan's year (default: this year's plan, else last year's).
    pub year: Option<i32>,
    /// One country (ISO alpha-3); default: the caller's countries.
    pub country: Option<String>,
    /// One sector (with its sub-sectors); default: every sector.
    pub sector: Option<String>,
    /// `true` (or `on`): approved rows only; default: submitted and approved.
    pub approved_only: Option<String>,
    /// Tables: `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

fn clean(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_string)
}

impl OverviewQuery {
    fn country(&self) -> Option<String> {
        clean(self.country.as_ref()).map(|c| c.to_uppercase())
    }

    fn sector(&self) -> Option<String> {
        clean(self.sector.as_ref())
    }

    fn approved(&self) -> bool {
        matches!(self.approved_only.as_deref().map(str::trim), Some("true" | "1" | "on" | "yes"))
    }

    /// The query string of these filters (for links to the tables).
    fn query(&self, year: i32) -> String {
        let mut pairs = vec![("year", year.to_string())];
        if let Some(c) = self.country() {
            pairs.push(("country", c));
        }
        if let Some(s) = self.sector() {
            pairs.push(("sector", s));
        }
        if self.approved() {
            pairs.push(("approved_only", "true".into()));
        }
        serde_html_form::to_string(pairs).unwrap_or_default()
    }
}

/// The plan years this instance holds, newest first (the last four years and the next).
pub async fn plan_years(state: &AppState) -> ApiResult<Vec<i32>> {
    let now = Utc::now().date_naive().year();
    let mut years = Vec::new();
    for year in (now - 4..=now + 1).rev() {
        if state.store.response_plan_header(year).await.is_ok() {
            years.push(year);
        }
    }
    Ok(years)
}

/// The year asked for, else this year's plan, else the newest plan, else this year.
pub async fn year_of(state: &AppState, asked: Option<i32>) -> ApiResult<i32> {
    if let Some(year) = asked {
        return Ok(year);
    }
    let now = Utc::now().date_naive().year();
    let years = plan_years(state).await?;
    Ok(if years.contains(&now) { now } else { years.iter().copied().find(|y| *y <= now).unwrap_or(now) })
}

// ---- the figures ----

/// Targets, people reached and funding of one place, sector or the whole selection.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Line {
    /// ISO alpha-3 (empty in the total).
    pub country: String,
    pub admin1: Option<String>,
    pub sector: Option<String>,
    pub people_in_need: i64,
    pub people_targeted: i64,
    /// Girls, boys, women, men, other: people reached without double counting.
    #[schema(value_type = Object)]
    pub reached: Disagg,
    pub reached_total: u64,
    /// Reached over targeted, when there is a target.
    pub share_of_target: Option<f64>,
    pub funding_required_usd: f64,
}

impl Line {
    fn new(country: &str, admin1: Option<&str>, sector: Option<&str>, plan: PlanFigures, reached: Disagg) -> Line {
        let total = reached.total();
        Line {
            country: country.to_string(),
            admin1: admin1.map(str::to_string),
            sector: sector.map(str::to_string),
            people_in_need: plan.in_need,
            people_targeted: plan.targeted,
            reached,
            reached_total: total,
            share_of_target: (plan.targeted > 0).then(|| total as f64 / plan.targeted as f64),
            funding_required_usd: plan.funding_usd,
        }
    }
}

/// One partner's people reached: in each country its largest sector, summed over countries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerLine {
    pub organisation_id: i64,
    pub name: String,
    pub acronym: String,
    pub countries: Vec<String>,
    pub sectors: Vec<String>,
    /// Report rows counted.
    pub rows: usize,
    #[schema(value_type = Object)]
    pub reached: Disagg,
    pub reached_total: u64,
}

/// A sector's monthly progress in a country.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthLine {
    pub country: String,
    pub sector: String,
    /// `YYYY-MM`.
    pub month: String,
    /// New people reached in the month.
    pub in_month: u64,
    /// People reached from the plan's first month up to this one.
    pub cumulative: u64,
}

/// An indicator that does not count people (kits, sessions…): the quantity reported.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitLine {
    pub country: String,
    pub sector: String,
    pub indicator: String,
    pub unit: String,
    pub quantity: u64,
}

/// The consolidated figures of a plan for the chosen countries and sector.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overview {
    pub year: i32,
    pub plan: String,
    pub country: Option<String>,
    pub sector: Option<String>,
    pub approved_only: bool,
    /// Report rows read.
    pub rows: usize,
    /// Organisations with rows.
    pub organisations: usize,
    /// The whole selection: the countries' figures summed.
    pub total: Line,
    /// Per country, across sectors (the largest sector per admin 1, summed).
    pub countries: Vec<Line>,
    /// Per country and sector.
    pub sectors: Vec<Line>,
    /// Per sector, the countries summed.
    pub regional_sectors: Vec<Line>,
    /// Per admin 1, across sectors.
    pub areas: Vec<Line>,
    /// Partners, most people reached first.
    pub partners: Vec<PartnerLine>,
    pub months: Vec<MonthLine>,
    pub other_units: Vec<UnitLine>,
}

fn add(line: &mut Line, other: &Line) {
    line.people_in_need += other.people_in_need;
    line.people_targeted += other.people_targeted;
    line.reached = line.reached.plus(other.reached);
    line.reached_total = line.reached.total();
    line.funding_required_usd += other.funding_required_usd;
    line.share_of_target = (line.people_targeted > 0).then(|| line.reached_total as f64 / line.people_targeted as f64);
}

/// Lays the consolidated figures out per country, sector, area, partner and month.
fn overview(c: &Computed, q: &OverviewQuery, year: i32, organisations: &HashMap<i64, (String, String)>) -> Overview {
    let con = &c.consolidated;
    let reach_of = |r: Option<&rumbo_analytics::fivew::Reach>| r.map(|r| r.total).unwrap_or_default();
    let mut country_codes: BTreeSet<String> = con.intersector.keys().cloned().collect();
    country_codes.extend(c.targets.by_sector.keys().map(|(country, _)| country.clone()));
    let countries: Vec<Line> = country_codes
        .iter()
        .map(|country| {
            Line::new(country, None, None, c.targets.intersector(country), reach_of(con.intersector.get(country)))
        })
        .collect();
    let mut total = Line::default();
    for line in &countries {
        add(&mut total, line);
    }
    let mut sector_keys: BTreeSet<(String, String)> = con.by_sector.keys().cloned().collect();
    sector_keys.extend(c.targets.by_sector.keys().cloned());
    let sectors: Vec<Line> = sector_keys
        .iter()
        .map(|key| {
            let plan = c.targets.by_sector.get(key).copied().unwrap_or_default();
            Line::new(&key.0, None, Some(&key.1), plan, reach_of(con.by_sector.get(key)))
        })
        .collect();
    let mut regional: BTreeMap<&str, Line> = BTreeMap::new();
    for line in &sectors {
        let sector = line.sector.as_deref().unwrap_or_default();
        let slot =
            regional.entry(sector).or_insert_with(|| Line { sector: Some(sector.to_string()), ..Line::default() });
        add(slot, line);
    }
    let regional_sectors: Vec<Line> = regional.into_values().collect();
    let mut area_keys: BTreeSet<(String, String)> =
        con.intersector_by_area.keys().filter(|(_, a)| !a.is_empty()).cloned().collect();
    area_keys.extend(c.targets.by_area_sector.keys().map(|(country, area, _)| (country.clone(), area.clone())));
    let areas = area_keys
        .iter()
        .map(|(country, area)| {
            let reached = reach_of(con.intersector_by_area.get(&(country.clone(), area.clone())));
            Line::new(country, Some(area), None, c.targets.area(country, area), reached)
        })
        .collect();
    // Partners: per country the largest sector (cell by cell), summed over countries.
    let mut per_partner: BTreeMap<&str, BTreeMap<&str, Disagg>> = BTreeMap::new();
    let mut partner_sectors: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for ((org, country, sector), reach) in &con.by_organisation {
        let slot = per_partner.entry(org).or_default().entry(country).or_default();
        *slot = slot.max_per_cell(reach.total);
        partner_sectors.entry(org).or_default().insert(sector);
    }
    let mut row_counts: HashMap<&str, usize> = HashMap::new();
    let mut row_countries: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for r in &c.rows {
        *row_counts.entry(r.organisation.as_str()).or_default() += 1;
        row_countries.entry(r.organisation.as_str()).or_default().insert(r.country.as_str());
    }
    let mut partners: Vec<PartnerLine> = row_counts
        .keys()
        .map(|org| {
            let by_country = per_partner.get(org);
            let reached =
                by_country.map_or_else(Disagg::default, |m| m.values().fold(Disagg::default(), |s, d| s.plus(*d)));
            let id = org.parse::<i64>().unwrap_or_default();
            let (name, acronym) =
                organisations.get(&id).cloned().unwrap_or_else(|| ((*org).to_string(), String::new()));
            let countries =
                row_countries.get(org).map(|c| c.iter().map(|c| (*c).to_string()).collect()).unwrap_or_default();
            PartnerLine {
                organisation_id: id,
                name,
                acronym,
                countries,
                sectors: partner_sectors
                    .get(org)
                    .map(|s| s.iter().map(|s| (*s).to_string()).collect())
                    .unwrap_or_default(),
                rows: row_counts.get(org).copied().unwrap_or_default(),
                reached,
                reached_total: reached.total(),
            }
        })
        .collect();
    partners.sort_by(|a, b| b.reached_total.cmp(&a.reached_total).then_with(|| a.name.cmp(&b.name)));
    let months = con
        .progress
        .iter()
        .map(|((country, sector, month), p)| MonthLine {
            country: country.clone(),
            sector: sector.clone(),
            month: month.format("%Y-%m").to_string(),
            in_month: p.in_month.total(),
            cumulative: p.cumulative.total(),
        })
        .collect();
    let units: HashMap<&str, &str> = c.plan.indicators.iter().map(|i| (i.code.as_str(), i.unit.as_str())).collect();
    let other_units = con
        .other_units
        .iter()
        .map(|((country, sector, indicator), quantity)| UnitLine {
            country: country.clone(),
            sector: sector.clone(),
            indicator: indicator.clone(),
            unit: units.get(indicator.as_str()).copied().unwrap_or_default().to_string(),
            quantity: *quantity,
        })
        .collect();
    Overview {
        year,
        plan: c.plan.name.clone(),
        country: q.country(),
        sector: q.sector(),
        approved_only: q.approved(),
        rows: c.rows.len(),
        organisations: row_counts.len(),
        total,
        countries,
        sectors,
        regional_sectors,
        areas,
        partners,
        months,
        other_units,
    }
}

async fn organisations(state: &AppState) -> ApiResult<HashMap<i64, (String, String)>> {
    Ok(state.store.organisation_names().await?.into_iter().map(|(id, name, acronym)| (id, (name, acronym))).collect())
}

/// The overview of the filters, and the plan read for it.
async fn build(state: &AppState, caller: &Caller, q: &OverviewQuery) -> ApiResult<(Overview, Computed)> {
    let year = year_of(state, q.year).await?;
    let country = q.country();
    let computed = compute(state, caller, year, country.as_deref(), q.sector().as_deref(), q.approved()).await?;
    let overview = overview(&computed, q, year, &organisations(state).await?);
    Ok((overview, computed))
}

/// People reached against the plan, by country, sector, admin 1, partner and month, with
/// the funding required; the method is in docs/response.md.
#[utoipa::path(get, path = "/api/v1/response/overview", tag = "response", params(OverviewQuery),
    responses((status = 200, body = Overview), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "unknown sector")))]
async fn overview_api(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<OverviewQuery>,
) -> ApiResult<Json<Overview>> {
    Ok(Json(build(&state, &caller, &q).await?.0))
}

// ---- the tables (CSV and XLSX with HXL) ----

/// The tables of the overview, by their name in the URL.
pub const TABLES: [&str; 7] = ["countries", "sectors", "areas", "partners", "months", "funding", "units"];

/// Names of things in the reader's language.
struct Names<'a> {
    lang: Lang,
    labels: &'a Labels,
    sectors: HashMap<String, String>,
    indicators: HashMap<String, String>,
}

impl Names<'_> {
    fn sector(&self, code: &str) -> String {
        self.sectors.get(code).cloned().unwrap_or_else(|| code.to_string())
    }
}

fn names<'a>(plan: &rumbo_store::response::Plan, labels: &'a Labels, lang: Lang) -> Names<'a> {
    let pick = |en: &str, es: &str, pt: &str| {
        match lang {
            Lang::Es => es,
            Lang::Pt => pt,
            Lang::En => en,
        }
        .to_string()
    };
    Names {
        lang,
        labels,
        sectors: plan.sectors.iter().map(|s| (s.code.clone(), pick(&s.name_en, &s.name_es, &s.name_pt))).collect(),
        indicators: plan
            .indicators
            .iter()
            .map(|i| (i.code.clone(), pick(&i.name_en, &i.name_es, &i.name_pt)))
            .collect(),
    }
}

fn num(n: impl Into<f64>) -> Value {
    Value::Number(n.into())
}

fn text(t: impl Into<String>) -> Value {
    Value::Text(t.into())
}

/// The columns every figure line ends with.
const FIGURES: [(&str, &str); 11] = [
    ("resp.col.in_need", "#inneed"),
    ("resp.col.targeted", "#targeted"),
    ("resp.col.girls", "#reached+f+children"),
    ("resp.col.boys", "#reached+m+children"),
    ("resp.col.women", "#reached+f+adults"),
    ("resp.col.men", "#reached+m+adults"),
    ("resp.col.other", "#reached+other"),
    ("resp.col.reached", "#reached+total"),
    ("resp.col.share", "#reached+pct"),
    ("resp.col.funding", "#value+funding+required+usd"),
    ("resp.col.cost", "#value+funding+per_person+usd"),
];

fn figures(line: &Line) -> Vec<Value> {
    let r = line.reached;
    vec![
        num(line.people_in_need as f64),
        num(line.people_targeted as f64),
        num(r.girls as f64),
        num(r.boys as f64),
        num(r.women as f64),
        num(r.men as f64),
        num(r.other as f64),
        num(line.reached_total as f64),
        line.share_of_target.map_or(Value::Empty, num),
        num(line.funding_required_usd),
        if line.people_targeted > 0 {
            num((line.funding_required_usd / line.people_targeted as f64 * 100.0).round() / 100.0)
        } else {
            Value::Empty
        },
    ]
}

/// A table of `items`, one row each, under the columns' headers (in `lang`) and HXL tags.
fn rows_table<T>(lang: Lang, columns: &[(&str, &str)], items: &[T], row: impl Fn(&T) -> Vec<Value>) -> Table {
    let (headers, tags) = columns.iter().map(|(key, tag)| (lang.t(key).to_string(), (*tag).to_string())).unzip();
    Table { headers, tags, rows: items.iter().map(row).collect() }
}

/// One table of the overview, with its headers in the reader's language and an HXL row.
fn table(name: &str, o: &Overview, n: &Names) -> Option<Table> {
    let lang = n.lang;
    let country = [("common.country", "#country+code"), ("resp.col.country_name", "#country+name")];
    let sector = [("resp.col.sector", "#sector+code"), ("resp.col.sector_name", "#sector+name")];
    let line_table = |lead: &[(&str, &str)], lines: &[Line], lead_values: &dyn Fn(&Line) -> Vec<Value>| {
        let mut columns = lead.to_vec();
        columns.extend(FIGURES);
        rows_table(lang, &columns, lines, |l| {
            let mut row = lead_values(l);
            row.extend(figures(l));
            row
        })
    };
    let country_values = |l: &Line| vec![text(&l.country), text(n.labels.country_name(&l.country, lang))];
    Some(match name {
        "countries" => {
            let mut lines = o.countries.clone();
            let mut total = o.total.clone();
            total.country = lang.t("resp.total").to_string();
            lines.push(total);
            line_table(&country, &lines, &|l| {
                if l.country == lang.t("resp.total") { vec![text(&l.country), Value::Empty] } else { country_values(l) }
            })
        }
        "sectors" => {
            let lead: Vec<(&str, &str)> = country.iter().chain(&sector).copied().collect();
            line_table(&lead, &o.sectors, &|l| {
                let s = l.sector.as_deref().unwrap_or_default();
                let mut v = country_values(l);
                v.extend([text(s), text(n.sector(s))]);
                v
            })
        }
        "funding" => line_table(&sector, &o.regional_sectors, &|l| {
            let s = l.sector.as_deref().unwrap_or_default();
            vec![text(s), text(n.sector(s))]
        }),
        "areas" => {
            let lead: Vec<(&str, &str)> = country
                .iter()
                .copied()
                .chain([("resp.col.admin1", "#adm1+code"), ("resp.col.admin1_name", "#adm1+name")])
                .collect();
            line_table(&lead, &o.areas, &|l| {
                let a = l.admin1.as_deref().unwrap_or_default();
                let mut v = country_values(l);
                v.extend([text(a), text(n.labels.area_name(a, lang))]);
                v
            })
        }
        "partners" => {
            let columns = [
                ("resp.col.org_name", "#org+name"),
                ("resp.col.org_acronym", "#org+acronym"),
                ("resp.col.countries", "#country+code+list"),
                ("resp.col.sectors", "#sector+code+list"),
                ("resp.col.rows", "#meta+rows"),
                ("resp.col.girls", "#reached+f+children"),
                ("resp.col.boys", "#reached+m+children"),
                ("resp.col.women", "#reached+f+adults"),
                ("resp.col.men", "#reached+m+adults"),
                ("resp.col.other", "#reached+other"),
                ("resp.col.reached", "#reached+total"),
            ];
            rows_table(lang, &columns, &o.partners, |p| {
                let r = p.reached;
                vec![
                    text(&p.name),
                    text(&p.acronym),
                    text(p.countries.join(" ")),
                    text(p.sectors.join(" ")),
                    num(p.rows as f64),
                    num(r.girls as f64),
                    num(r.boys as f64),
                    num(r.women as f64),
                    num(r.men as f64),
                    num(r.other as f64),
                    num(p.reached_total as f64),
                ]
            })
        }
        "months" => {
            let columns = [
                country[0],
                sector[0],
                sector[1],
                ("resp.col.month", "#date+month"),
                ("resp.col.new", "#reached+new"),
                ("resp.col.cumulative", "#reached+total+cumulative"),
            ];
            rows_table(lang, &columns, &o.months, |m| {
                vec![
                    text(&m.country),
                    text(&m.sector),
                    text(n.sector(&m.sector)),
                    text(&m.month),
                    num(m.in_month as f64),
                    num(m.cumulative as f64),
                ]
            })
        }
        "units" => {
            let columns = [
                country[0],
                sector[0],
                ("resp.col.indicator", "#indicator+code"),
                ("resp.col.indicator_name", "#indicator+name"),
                ("resp.col.unit", "#indicator+unit"),
                ("resp.col.quantity", "#output+total"),
            ];
            rows_table(lang, &columns, &o.other_units, |u| {
                vec![
                    text(&u.country),
                    text(&u.sector),
                    text(&u.indicator),
                    text(n.indicators.get(&u.indicator).cloned().unwrap_or_default()),
                    text(&u.unit),
                    num(u.quantity as f64),
                ]
            })
        }
        _ => return None,
    })
}

/// One table of the overview (`countries`, `sectors`, `areas`, `partners`, `months`,
/// `funding`, `units`) as CSV with an HXL row (`#country+code`, `#sector+code`,
/// `#reached+f+children`…), or `format=xlsx`; `all` is every table, as a workbook.
#[utoipa::path(get, path = "/api/v1/response/overview/{table}", tag = "response",
    params(("table" = String, Path, description = "countries, sectors, areas, partners, months, funding, units, or all (XLSX)"), OverviewQuery),
    responses((status = 200, content_type = "text/csv"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn table_api(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    lang: Lang,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<OverviewQuery>,
) -> ApiResult<Response> {
    let name = name.trim_end_matches(".csv").trim_end_matches(".xlsx").to_string();
    if name != "all" && !TABLES.contains(&name.as_str()) {
        return Err(ApiError::NotFound(format!("a 5W table `{name}` (there are {} and all)", TABLES.join(", "))));
    }
    let format = clean(q.format.as_ref()).unwrap_or_else(|| if name == "all" { "xlsx".into() } else { "csv".into() });
    if !matches!(format.as_str(), "csv" | "xlsx") || (name == "all" && format == "csv") {
        return Err(ApiError::invalid("format", format!("`{format}` is not offered: ask for csv or xlsx (all: xlsx)")));
    }
    let (overview, computed) = build(&state, &caller, &q).await?;
    let labels = state.analytics.labels(&state).await?;
    let n = names(&computed.plan, &labels, lang);
    let chosen: Vec<&str> = if name == "all" { TABLES.to_vec() } else { vec![name.as_str()] };
    let tables: Vec<(String, Table)> =
        chosen.iter().filter_map(|t| table(t, &overview, &n).map(|table| ((*t).to_string(), table))).collect();
    let file = format!("rumbo-5w-{}-{name}", overview.year);
    if format == "csv" {
        let (_, table) = tables.first().ok_or_else(|| ApiError::NotFound(name.clone()))?;
        return crate::analytics::api::csv_response(&file, table);
    }
    let sheets: Vec<(String, &Table)> = tables.iter().map(|(n, t)| (n.clone(), t)).collect();
    let bytes = crate::outputs::tables::xlsx(&sheets).map_err(|e| crate::outputs::tables::xlsx_error(&e))?;
    Ok(attachment_response(&format!("{file}.xlsx"), super::sheet::XLSX, bytes))
}

// ---- the page ----

struct Headline {
    value: String,
    label: &'static str,
    note: String,
}

struct Chart {
    id: &'static str,
    title: String,
    svg: String,
    csv: String,
    wide: bool,
}

/// A row of a table on the page, ready to print.
struct Printed {
    name: String,
    href: Option<String>,
    in_need: String,
    targeted: String,
    reached: String,
    share: String,
    /// Width of the progress bar, 0–100.
    bar: u32,
    funding: String,
}

struct PrintedPartner {
    name: String,
    acronym: String,
    countries: String,
    sectors: usize,
    rows: String,
    reached: String,
}

#[derive(Template)]
#[template(path = "response_overview.html")]
struct OverviewPage {
    c: Chrome,
    tabs: Vec<super::Tab>,
    years: Vec<Choice>,
    countries: Vec<Choice>,
    sectors: Vec<Choice>,
    approved_only: bool,
    no_plan: Option<i32>,
    plan_name: String,
    headlines: Vec<Headline>,
    charts: Vec<Chart>,
    first_column: &'static str,
    lines: Vec<Printed>,
    sector_lines: Vec<Printed>,
    partners: Vec<PrintedPartner>,
    partners_total: usize,
    query: String,
    tables: Vec<(&'static str, String)>,
}

fn printed(locale: &Locale, name: String, href: Option<String>, l: &Line) -> Printed {
    Printed {
        name,
        href,
        in_need: locale.number(l.people_in_need as f64, 0),
        targeted: locale.number(l.people_targeted as f64, 0),
        reached: locale.number(l.reached_total as f64, 0),
        share: l.share_of_target.map_or_else(|| "—".to_string(), |s| locale.percent(s)),
        bar: l.share_of_target.map_or(0, |s| (s * 100.0).clamp(0.0, 100.0).round() as u32),
        funding: locale.number(l.funding_required_usd, 0),
    }
}

/// The months of the plan's period, as `YYYY-MM`, up to the last month with rows.
fn months_of(o: &Overview, plan: &rumbo_store::response::Plan) -> Vec<String> {
    let last = o.months.iter().map(|m| m.month.as_str()).max().unwrap_or_default().to_string();
    let mut out = Vec::new();
    let mut day = plan.period_start.with_day(1).unwrap_or(plan.period_start);
    while day <= plan.period_end && out.len() < 60 {
        let month = day.format("%Y-%m").to_string();
        if month > last {
            break;
        }
        out.push(month);
        day = day.checked_add_months(chrono::Months::new(1)).unwrap_or(plan.period_end + chrono::Days::new(1));
    }
    out
}

fn charts(
    state_map: &rumbo_domain::map::Map,
    o: &Overview,
    c: &Computed,
    n: &Names,
    locale: &Locale,
    query: &str,
) -> Vec<Chart> {
    let lang = n.lang;
    let csv = |table: &str| format!("/api/v1/response/overview/{table}?{query}");
    let mut charts = Vec::new();
    // Share of target: by country, or by sector inside one country.
    let (title, bars): (String, Vec<Bar>) = if o.country.is_some() {
        let bars = o
            .sectors
            .iter()
            .filter(|l| l.people_targeted > 0)
            .map(|l| {
                let s = l.sector.as_deref().unwrap_or_default();
                Bar {
                    href: Some(format!("/response?{query}&sector={s}")),
                    note: Some(format!(
                        "{} / {}",
                        locale.number(l.reached_total as f64, 0),
                        locale.number(l.people_targeted as f64, 0)
                    )),
                    ..Bar::new(n.sector(s), l.share_of_target)
                }
            })
            .collect();
        (lang.t("resp.chart.share_sector").to_string(), bars)
    } else {
        let bars = o
            .countries
            .iter()
            .filter(|l| l.people_targeted > 0)
            .map(|l| Bar {
                href: Some(format!("/response?{query}&country={}", l.country)),
                note: Some(format!(
                    "{} / {}",
                    locale.number(l.reached_total as f64, 0),
                    locale.number(l.people_targeted as f64, 0)
                )),
                ..Bar::new(n.labels.country_name(&l.country, lang), l.share_of_target)
            })
            .collect();
        (lang.t("resp.chart.share_country").to_string(), bars)
    };
    let table = if o.country.is_some() { "sectors" } else { "countries" };
    charts.push(Chart {
        id: "share",
        svg: rumbo_charts::bars(&title, &bars, Format::Percent, locale),
        title,
        csv: csv(table),
        wide: false,
    });
    // Map: people reached by admin 1, across sectors.
    let by_area: HashMap<&str, f64> =
        o.areas.iter().filter_map(|l| Some((l.admin1.as_deref()?, l.reached_total as f64))).collect();
    let areas: Vec<Area> = state_map
        .areas
        .iter()
        .map(|a| Area {
            code: a.pcode.clone(),
            name: a.name.clone(),
            d: a.d.clone(),
            value: by_area.get(a.pcode.as_str()).copied(),
            href: None,
        })
        .collect();
    let title = lang.t("resp.chart.map").to_string();
    let layers = MapLayers {
        width: state_map.width,
        height: state_map.height,
        areas: &areas,
        points: &[],
        flows: &[],
        legend_title: lang.t("resp.col.reached"),
        points_title: "",
    };
    charts.push(Chart {
        id: "map",
        svg: rumbo_charts::map(&title, &layers, Format::Count, locale),
        title,
        csv: csv("areas"),
        wide: true,
    });
    // Monthly progress: cumulative people reached per sector (the countries summed), the
    // six largest sectors.
    let months = months_of(o, &c.plan);
    let mut per_sector: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for m in &o.months {
        *per_sector.entry(m.sector.as_str()).or_default().entry(m.month.as_str()).or_default() += m.cumulative;
    }
    let mut series: Vec<Series> = per_sector
        .iter()
        .map(|(sector, by_month)| {
            let mut last = None;
            let values = months
                .iter()
                .map(|m| {
                    if let Some(v) = by_month.get(m.as_str()) {
                        last = Some(*v as f64);
                    }
                    last
                })
                .collect();
            Series { name: n.sector(sector), values }
        })
        .collect();
    series.sort_by(|a, b| {
        let end = |s: &Series| s.values.last().copied().flatten().unwrap_or_default();
        end(b).total_cmp(&end(a))
    });
    series.truncate(6);
    let title = lang.t("resp.chart.months").to_string();
    charts.push(Chart {
        id: "months",
        svg: rumbo_charts::lines(&title, &months, &series, Format::Count, locale),
        title,
        csv: csv("months"),
        wide: false,
    });
    // Funding required by sector.
    let bars: Vec<Bar> = o
        .regional_sectors
        .iter()
        .filter(|l| l.funding_required_usd > 0.0)
        .map(|l| Bar::new(n.sector(l.sector.as_deref().unwrap_or_default()), Some(l.funding_required_usd)))
        .collect();
    let title = lang.t("resp.chart.funding").to_string();
    charts.push(Chart {
        id: "funding",
        svg: rumbo_charts::bars(&title, &bars, Format::Count, locale),
        title,
        csv: csv("funding"),
        wide: false,
    });
    charts
}

async fn page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<OverviewQuery>,
) -> PageResult {
    let chrome = Chrome::new(lang, Some(&caller), &uri, "resp.title");
    let tabs = super::tabs(&caller, lang, uri.path());
    let year = year_of(&state, q.year).await?;
    let years_held = plan_years(&state).await?;
    let mut years: Vec<Choice> =
        years_held.iter().map(|y| Choice::new(y.to_string(), y.to_string(), &year.to_string())).collect();
    if !years_held.contains(&year) {
        years.insert(0, Choice::new(year.to_string(), year.to_string(), &year.to_string()));
    }
    let country = q.country();
    let visible = crate::ops::countries(&state.store, &caller).await?;
    let countries = crate::pages::country_choices(&visible, lang, country.as_deref().unwrap_or_default(), true);
    let query = q.query(year);
    if state.store.response_plan_header(year).await.is_err() {
        return Ok(render(&OverviewPage {
            c: chrome,
            tabs,
            years,
            countries,
            sectors: Vec::new(),
            approved_only: q.approved(),
            no_plan: Some(year),
            plan_name: String::new(),
            headlines: Vec::new(),
            charts: Vec::new(),
            first_column: "common.country",
            lines: Vec::new(),
            sector_lines: Vec::new(),
            partners: Vec::new(),
            partners_total: 0,
            query,
            tables: Vec::new(),
        }));
    }
    let (ov, computed) = build(&state, &caller, &q).await?;
    let labels = state.analytics.labels(&state).await?;
    let nm = names(&computed.plan, &labels, lang);
    let locale = Locale::for_lang(lang.code());
    let drawn_countries: Vec<String> = match &country {
        Some(c) => vec![c.clone()],
        None => visible.iter().map(|c| c.code.clone()).collect(),
    };
    let drawn = state.analytics.drawn_map(&state, &drawn_countries, country.as_deref(), lang).await?;
    let charts = charts(&drawn, &ov, &computed, &nm, &locale, &query);
    let sector_now = q.sector().unwrap_or_default();
    let mut sectors = vec![Choice::new("", lang.t("common.all"), &sector_now)];
    sectors.extend(computed.plan.sectors.iter().map(|s| {
        let indent = if s.parent_code.is_some() { "— " } else { "" };
        Choice::new(s.code.clone(), format!("{indent}{}", nm.sector(&s.code)), &sector_now)
    }));
    let tot = &ov.total;
    let headlines = vec![
        Headline {
            value: locale.number(tot.reached_total as f64, 0),
            label: lang.t("resp.head.reached"),
            note: tot
                .share_of_target
                .map_or_else(String::new, |s| format!("{} {}", locale.percent(s), lang.t("resp.head.of_target"))),
        },
        Headline {
            value: locale.number(tot.people_targeted as f64, 0),
            label: lang.t("resp.head.targeted"),
            note: String::new(),
        },
        Headline {
            value: locale.number(tot.people_in_need as f64, 0),
            label: lang.t("resp.head.in_need"),
            note: String::new(),
        },
        Headline {
            value: format!("US$ {}", locale.number(tot.funding_required_usd, 0)),
            label: lang.t("resp.head.funding"),
            note: String::new(),
        },
        Headline {
            value: locale.number(ov.organisations as f64, 0),
            label: lang.t("resp.head.partners"),
            note: format!("{} {}", locale.number(ov.rows as f64, 0), lang.t("resp.head.rows")),
        },
    ];
    let (first_column, lines) = if country.is_some() {
        let lines = ov
            .areas
            .iter()
            .map(|l| {
                let a = l.admin1.as_deref().unwrap_or_default();
                printed(&locale, labels.area_name(a, lang), None, l)
            })
            .collect();
        ("resp.col.admin1_name", lines)
    } else {
        let lines = ov
            .countries
            .iter()
            .map(|l| {
                let href = format!("/response?{query}&country={}", l.country);
                printed(&locale, labels.country_name(&l.country, lang), Some(href), l)
            })
            .collect();
        ("common.country", lines)
    };
    let mut sector_lines: Vec<Printed> = ov
        .regional_sectors
        .iter()
        .map(|l| {
            let s = l.sector.as_deref().unwrap_or_default();
            printed(&locale, nm.sector(s), Some(format!("/response?{query}&sector={s}")), l)
        })
        .collect();
    let mut total = printed(&locale, lang.t("resp.total").to_string(), None, tot);
    total.funding = locale.number(ov.regional_sectors.iter().map(|l| l.funding_required_usd).sum::<f64>(), 0);
    sector_lines.push(total);
    let partners = ov
        .partners
        .iter()
        .take(25)
        .map(|p| PrintedPartner {
            name: p.name.clone(),
            acronym: p.acronym.clone(),
            countries: p.countries.join(", "),
            sectors: p.sectors.len(),
            rows: locale.number(p.rows as f64, 0),
            reached: locale.number(p.reached_total as f64, 0),
        })
        .collect();
    let tables = TABLES.iter().map(|t| (*t, format!("/api/v1/response/overview/{t}?{query}"))).collect();
    Ok(render(&OverviewPage {
        c: chrome,
        tabs,
        years,
        countries,
        sectors,
        approved_only: q.approved(),
        no_plan: None,
        plan_name: computed.plan.name.clone(),
        headlines,
        charts,
        first_column,
        lines,
        sector_lines,
        partners,
        partners_total: ov.partners.len(),
        query,
        tables,
    }))
}

/// The texts of these pages (key, [English, Spanish, Portuguese]).
pub const TEXTS: &[(&str, [&str; 3])] = &[
    ("resp.title", ["Response monitoring (5W)", "Monitoreo de la respuesta (5W)", "Monitoramento da resposta (5W)"]),
    (
        "resp.lead",
        [
            "People reached by the partners' activities against the regional plan, without counting the same people twice: within an area and month the largest indicator of a sector, across months only new people, across sectors the largest sector per area.",
            "Personas alcanzadas por las actividades de los socios frente al plan regional, sin contar dos veces a las mismas personas: en un área y mes el mayor indicador de un sector, entre meses solo las personas nuevas, entre sectores el mayor sector por área.",
            "Pessoas alcançadas pelas atividades dos parceiros frente ao plano regional, sem contar duas vezes as mesmas pessoas: em uma área e mês o maior indicador de um setor, entre meses só as pessoas novas, entre setores o maior setor por área.",
        ],
    ),
    ("resp.year", ["Plan year", "Año del plan", "Ano do plano"]),
    ("resp.sector", ["Sector", "Sector", "Setor"]),
    ("resp.approved_only", ["Approved reports only", "Solo reportes aprobados", "Só relatórios aprovados"]),
    (
        "resp.no_plan",
        [
            "There is no response plan for this year yet. An information-management officer loads it on the Plan tab.",
            "Todavía no hay un plan de respuesta para este año. Un oficial de gestión de información lo carga en la pestaña Plan.",
            "Ainda não há um plano de resposta para este ano. Um oficial de gestão de informação o carrega na aba Plano.",
        ],
    ),
    ("resp.total", ["Total", "Total", "Total"]),
    ("resp.head.reached", ["people reached", "personas alcanzadas", "pessoas alcançadas"]),
    ("resp.head.of_target", ["of the target", "de la meta", "da meta"]),
    ("resp.head.targeted", ["people targeted", "personas meta", "pessoas-alvo"]),
    ("resp.head.in_need", ["people in need", "personas con necesidades", "pessoas com necessidades"]),
    ("resp.head.funding", ["funding required", "financiamiento requerido", "financiamento necessário"]),
    ("resp.head.partners", ["partners reporting", "socios que reportan", "parceiros que relatam"]),
    ("resp.head.rows", ["report rows", "filas de reporte", "linhas de relatório"]),
    (
        "resp.chart.share_country",
        [
            "Share of target reached, by country",
            "Porcentaje de la meta alcanzado, por país",
            "Parcela da meta alcançada, por país",
        ],
    ),
    (
        "resp.chart.share_sector",
        [
            "Share of target reached, by sector",
            "Porcentaje de la meta alcanzado, por sector",
            "Parcela da meta alcançada, por setor",
        ],
    ),
    (
        "resp.chart.map",
        [
            "People reached by admin 1 (all sectors)",
            "Personas alcanzadas por admin 1 (todos los sectores)",
            "Pessoas alcançadas por admin 1 (todos os setores)",
        ],
    ),
    (
        "resp.chart.months",
        [
            "People reached so far, by month and sector",
            "Personas alcanzadas hasta la fecha, por mes y sector",
            "Pessoas alcançadas até agora, por mês e setor",
        ],
    ),
    (
        "resp.chart.funding",
        [
            "Funding required by sector (US$)",
            "Financiamiento requerido por sector (US$)",
            "Financiamento necessário por setor (US$)",
        ],
    ),
    ("resp.by_place", ["Reached against targeted", "Alcanzadas frente a la meta", "Alcançadas frente à meta"]),
    ("resp.by_sector", ["By sector", "Por sector", "Por setor"]),
    ("resp.partners", ["Partners", "Socios", "Parceiros"]),
    (
        "resp.partners_note",
        [
            "the 25 reaching most people; the table has them all",
            "los 25 que más personas alcanzan; la tabla los tiene a todos",
            "os 25 que mais pessoas alcançam; a tabela tem todos",
        ],
    ),
    (
        "resp.downloads",
        [
            "Download the tables (CSV with HXL tags)",
            "Descargar las tablas (CSV con etiquetas HXL)",
            "Baixar as tabelas (CSV com etiquetas HXL)",
        ],
    ),
    ("resp.all_xlsx", ["every table as XLSX", "todas las tablas en XLSX", "todas as tabelas em XLSX"]),
    ("resp.col.country_name", ["Country name", "Nombre del país", "Nome do país"]),
    ("resp.col.sector", ["Sector code", "Código del sector", "Código do setor"]),
    ("resp.col.sector_name", ["Sector", "Sector", "Setor"]),
    ("resp.col.admin1", ["Admin 1 p-code", "P-código admin 1", "P-código admin 1"]),
    ("resp.col.admin1_name", ["Admin 1", "Admin 1", "Admin 1"]),
    ("resp.col.in_need", ["People in need", "Personas con necesidades", "Pessoas com necessidades"]),
    ("resp.col.targeted", ["People targeted", "Personas meta", "Pessoas-alvo"]),
    ("resp.col.girls", ["Girls reached", "Niñas alcanzadas", "Meninas alcançadas"]),
    ("resp.col.boys", ["Boys reached", "Niños alcanzados", "Meninos alcançados"]),
    ("resp.col.women", ["Women reached", "Mujeres alcanzadas", "Mulheres alcançadas"]),
    ("resp.col.men", ["Men reached", "Hombres alcanzados", "Homens alcançados"]),
    ("resp.col.other", ["Other reached", "Otras personas alcanzadas", "Outras pessoas alcançadas"]),
    ("resp.col.reached", ["People reached", "Personas alcanzadas", "Pessoas alcançadas"]),
    ("resp.col.share", ["Share of target", "Porcentaje de la meta", "Parcela da meta"]),
    (
        "resp.col.funding",
        ["Funding required (US$)", "Financiamiento requerido (US$)", "Financiamento necessário (US$)"],
    ),
    (
        "resp.col.cost",
        [
            "Funding per person targeted (US$)",
            "Financiamiento por persona meta (US$)",
            "Financiamento por pessoa-alvo (US$)",
        ],
    ),
    ("resp.col.org_name", ["Organisation", "Organización", "Organização"]),
    ("resp.col.org_acronym", ["Acronym", "Sigla", "Sigla"]),
    ("resp.col.countries", ["Countries", "Países", "Países"]),
    ("resp.col.sectors", ["Sectors", "Sectores", "Setores"]),
    ("resp.col.rows", ["Report rows", "Filas de reporte", "Linhas de relatório"]),
    ("resp.col.month", ["Month", "Mes", "Mês"]),
    ("resp.col.new", ["New people in the month", "Personas nuevas en el mes", "Pessoas novas no mês"]),
    (
        "resp.col.cumulative",
        ["People reached so far", "Personas alcanzadas hasta la fecha", "Pessoas alcançadas até agora"],
    ),
    ("resp.col.indicator", ["Indicator code", "Código del indicador", "Código do indicador"]),
    ("resp.col.indicator_name", ["Indicator", "Indicador", "Indicador"]),
    ("resp.col.unit", ["Unit", "Unidad", "Unidade"]),
    ("resp.col.quantity", ["Quantity", "Cantidad", "Quantidade"]),
    ("resp.table.countries", ["by country", "por país", "por país"]),
    ("resp.table.sectors", ["by country and sector", "por país y sector", "por país e setor"]),
    ("resp.table.areas", ["by admin 1", "por admin 1", "por admin 1"]),
    ("resp.table.partners", ["by partner", "por socio", "por parceiro"]),
    ("resp.table.months", ["by month", "por mes", "por mês"]),
    ("resp.table.funding", ["funding by sector", "financiamiento por sector", "financiamento por setor"]),
    (
        "resp.table.units",
        ["other units (kits, sessions…)", "otras unidades (kits, sesiones…)", "outras unidades (kits, sessões…)"],
    ),
];
