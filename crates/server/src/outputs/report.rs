//! Situation reports: for a country (or the region) and a round, in Spanish, Portuguese or
//! English — key figures, charts, a map, tables, a methodology note and the data sources —
//! as an HTML page or a PDF (`rumbo-report`).
//!
//! Every figure is a public one, asked of [`crate::analytics::public::answer`]: restricted
//! indicators are left out, breakdowns are those public figures allow (round, country,
//! admin 1, sex, age group, each filtered to one value), and what disclosure control
//! suppresses is left out and counted under each table. The regional report takes the
//! round of the same name in every country: sums and counts add up the countries' figures;
//! shares and means are the countries' figures weighted by the population they stand for.
//!
//! Pages: `/reports` (choose), `/reports/view` (HTML), `/reports/report.pdf`. API:
//! `GET /api/v1/reports`. Command line: `rumbo report`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use rumbo_analytics::definition::AGE_GROUPS;
use rumbo_analytics::{Answer, Estimate, IndicatorDef, Kind, QueryError, Registry, Request, Sensitivity};
use rumbo_charts::{Area, Bar, Format, Locale, MapLayers, Series};
use rumbo_domain::permissions::Permission;
use rumbo_report::{Chart, Fact, KeyFigure, Report, Section, Table, Words};
use rumbo_store::analytics::Dim;
use rumbo_store::model::{ListFilter, Round};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::AppState;
use crate::analytics::api::Labels;
use crate::analytics::dashboard::{figure, format_of, section_title};
use crate::analytics::public;
use crate::auth::{ApiCaller, Caller, SignedIn};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageError, PageResult, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(page))
        .route("/reports/view", get(view))
        .route("/reports/report.pdf", get(download))
        .route("/api/v1/reports", get(api))
        .route(
            "/static/report.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
                    rumbo_report::STYLESHEET,
                )
            }),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(api),
    tags((name = "reports", description = "Situation reports per country (or the region) and round, as PDF or HTML"))
)]
pub struct ReportsDoc;

/// The question of a report. Every field is checked and named when wrong.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// A country (ISO alpha-3); leave it out for the regional report.
    pub country: Option<String>,
    /// The round, by id or by name. The regional report takes the round of that name in
    /// every country.
    pub round: Option<String>,
    /// `es`, `pt` or `en` (default: the reader's language).
    pub lang: Option<String>,
    /// `pdf` (default) or `html` (API only: the pages choose by address).
    pub format: Option<String>,
}

/// What a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Pdf,
    Html,
}

impl ReportFormat {
    pub fn parse(value: Option<&str>) -> ApiResult<ReportFormat> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "pdf") => Ok(ReportFormat::Pdf),
            Some("html") => Ok(ReportFormat::Html),
            Some(other) => {
                Err(ApiError::invalid("format", format!("`{other}` is not a report format; use pdf or html")))
            }
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "pdf",
            ReportFormat::Html => "html",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "application/pdf",
            ReportFormat::Html => "text/html; charset=utf-8",
        }
    }
}

/// A report asked for, every part checked: the country (none for the region), the round
/// in each country it covers, and the language.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub country: Option<String>,
    /// The round's name.
    pub round: String,
    /// The rounds covered: the country's, or the one of that name in every country.
    pub rounds: Vec<Round>,
    pub lang: Lang,
}

impl ReportRequest {
    /// `sitrep-COL-ronda-3-2025-es.pdf`.
    pub fn file_name(&self, format: ReportFormat) -> String {
        format!(
            "sitrep-{}-{}-{}.{}",
            self.country.as_deref().unwrap_or("region"),
            slug(&self.round),
            self.lang.code(),
            format.extension()
        )
    }

    /// The query string that asks for this report again.
    pub fn query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(c) = &self.country {
            pairs.push(("country", c.clone()));
        }
        pairs.push(("round", self.round.clone()));
        pairs.push(("lang", self.lang.code().to_owned()));
        serde_html_form::to_string(pairs).unwrap_or_default()
    }
}

/// Lower-case ASCII letters and digits, the rest as single dashes ("Ronda 3 – 2025" →
/// "ronda-3-2025").
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() { "round".into() } else { out.chars().take(60).collect() }
}

/// Every round, oldest first.
async fn all_rounds(state: &AppState) -> ApiResult<Vec<Round>> {
    let mut rounds =
        state.store.list_rounds(&ListFilter { limit: Some(100_000), ..ListFilter::default() }).await?.items;
    rounds.sort_by_key(|r| (r.starts_on, r.id));
    Ok(rounds)
}

/// Checks the parameters: a known country (or none), a round of it (by id or name), a
/// report language. `lang` is used when the parameters name none.
pub async fn resolve(state: &AppState, p: &ReportParams, lang: Lang) -> ApiResult<ReportRequest> {
    let lang = match p.lang.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => lang,
        Some(code) => match code.to_ascii_lowercase().as_str() {
            "es" => Lang::Es,
            "pt" => Lang::Pt,
            "en" => Lang::En,
            _ => return Err(ApiError::invalid("lang", format!("`{code}` is not a report language; use es, pt or en"))),
        },
    };
    let country = p.country.as_deref().map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty());
    if let Some(code) = &country
        && !state.store.list_countries().await?.iter().any(|c| c.code == *code)
    {
        return Err(ApiError::invalid("country", format!("there is no country `{code}`")));
    }
    let asked = p.round.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let Some(asked) = asked else {
        return Err(ApiError::invalid("round", "choose a round, by id or by name"));
    };
    let rounds = all_rounds(state).await?;
    let name = if let Ok(id) = asked.parse::<i64>() {
        let round = rounds
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| ApiError::invalid("round", format!("there is no round {id}")))?;
        if let Some(code) = country.as_ref().filter(|c| **c != round.country_code) {
            return Err(ApiError::invalid(
                "round",
                format!("round {id} is a round of {}, not of {code}: give its name instead", round.country_code),
            ));
        }
        round.name.clone()
    } else {
        asked.to_owned()
    };
    let covered: Vec<Round> = rounds
        .iter()
        .filter(|r| r.name.trim().eq_ignore_ascii_case(name.trim()))
        .filter(|r| country.as_ref().is_none_or(|c| *c == r.country_code))
        .cloned()
        .collect();
    let Some(first) = covered.first() else {
        let known: BTreeSet<&str> = rounds
            .iter()
            .filter(|r| country.as_ref().is_none_or(|c| *c == r.country_code))
            .map(|r| r.name.as_str())
            .collect();
        let place = country.as_deref().unwrap_or("any country");
        let hint = if known.is_empty() {
            String::new()
        } else {
            format!("; rounds: {}", known.into_iter().collect::<Vec<_>>().join(", "))
        };
        return Err(ApiError::invalid("round", format!("{place} has no round named `{name}`{hint}")));
    };
    Ok(ReportRequest { country, round: first.name.clone(), rounds: covered, lang })
}

/// Whether `caller` may have this report: a country of theirs, or the region when their
/// account covers every country.
pub fn allow(caller: &Caller, req: &ReportRequest) -> ApiResult<()> {
    caller.require(Permission::ViewAnalytics, None)?;
    match &req.country {
        Some(c) => caller.require(Permission::ViewAnalytics, Some(c)),
        None if caller.scope().is_some() => Err(ApiError::Forbidden(
            "the regional report covers every country, and your account is scoped to some: choose one of yours (country=…)"
                .into(),
        )),
        None => Ok(()),
    }
}

/// One country's round: what every figure is filtered to.
struct Unit {
    country: String,
    round: i64,
}

impl Unit {
    fn filters(&self) -> Vec<(Dim, Vec<String>)> {
        vec![(Dim::Country, vec![self.country.clone()]), (Dim::Round, vec![self.round.to_string()])]
    }
}

/// An indicator's figures for the report: the total, and by admin 1 (a country's report)
/// or by country (the regional one).
#[derive(Default)]
struct Figures {
    total: Estimate,
    by_place: BTreeMap<String, Estimate>,
    /// Figures of the breakdown that disclosure control left out.
    suppressed: usize,
    weighted: bool,
}

/// The figures of several countries as one: sums and counts added; shares and means
/// weighted by the population each stands for (its weighted base, or its n). Suppressed
/// parts are left out. One part is returned as it is (with its interval).
fn combine(kind: Kind, parts: &[Estimate]) -> Estimate {
    if let [one] = parts {
        return *one;
    }
    let shown: Vec<&Estimate> = parts.iter().filter(|e| e.value.is_some_and(f64::is_finite)).collect();
    let n = shown.iter().map(|e| e.n).sum();
    let value = match kind {
        Kind::Count | Kind::Sum => (!shown.is_empty()).then(|| shown.iter().filter_map(|e| e.value).sum()),
        Kind::Proportion | Kind::Mean => {
            let (mut top, mut base) = (0.0, 0.0);
            for e in &shown {
                let w = e.weighted_base.unwrap_or(e.n as f64);
                top += e.value.unwrap_or_default() * w;
                base += w;
            }
            (base > 0.0).then(|| top / base)
        }
    };
    Estimate { value, n, suppressed: value.is_none() && parts.iter().any(|e| e.suppressed), ..Estimate::default() }
}

/// The order sections come in; others follow by name.
const SECTION_ORDER: [&str; 12] = [
    "baseline",
    "flows",
    "survey",
    "profile",
    "intentions",
    "needs",
    "vulnerabilities",
    "route",
    "documentation",
    "protection",
    "return",
    "return_profile",
];

fn section_heading(section: &str, lang: Lang) -> String {
    match section {
        "baseline" | "flows" | "survey" => lang.t(&format!("report.section.{section}")).to_owned(),
        _ => section_title(section, lang),
    }
}

fn adm1_public(def: &IndicatorDef) -> bool {
    def.disaggregations.contains(&Dim::Adm1) && !def.sensitive_topic
}

fn additive(kind: Kind) -> bool {
    matches!(kind, Kind::Count | Kind::Sum)
}

/// What the report is built from.
struct Builder<'a> {
    state: &'a AppState,
    req: &'a ReportRequest,
    lang: Lang,
    locale: Locale,
    labels: Arc<Labels>,
    registry: Arc<Registry>,
    units: Vec<Unit>,
    rounds: Vec<Round>,
}

impl Builder<'_> {
    /// A public answer; `None` when the indicator cannot be asked this (a breakdown its
    /// public figures do not allow).
    async fn ask(&self, def: &IndicatorDef, by: &[Dim], filters: Vec<(Dim, Vec<String>)>) -> ApiResult<Option<Answer>> {
        let request = Request { indicator: def.id.clone(), by: by.to_vec(), filters, ..Request::default() };
        match public::answer(self.state, &request).await {
            Ok(answer) => Ok(Some(answer)),
            Err(QueryError::Store(e)) => Err(e.into()),
            Err(e) => {
                tracing::debug!(indicator = %def.id, error = %e, "left out of the report");
                Ok(None)
            }
        }
    }

    fn regional(&self) -> bool {
        self.req.country.is_none()
    }

    async fn figures(&self, def: &IndicatorDef) -> ApiResult<Figures> {
        let mut f = Figures::default();
        if self.regional() {
            let mut parts = Vec::new();
            for unit in &self.units {
                let Some(answer) = self.ask(def, &[], unit.filters()).await? else { continue };
                f.weighted |= answer.weighted;
                if answer.total.suppressed {
                    f.suppressed += 1;
                }
                if answer.total.value.is_some() {
                    f.by_place.insert(unit.country.clone(), answer.total);
                }
                parts.push(answer.total);
            }
            f.total = combine(def.kind, &parts);
        } else if let Some(unit) = self.units.first() {
            let by: &[Dim] = if adm1_public(def) { &[Dim::Adm1] } else { &[] };
            if let Some(answer) = self.ask(def, by, unit.filters()).await? {
                f.weighted = answer.weighted;
                f.suppressed = answer.suppressed_rows;
                f.total = answer.total;
                for row in answer.rows {
                    if let Some(code) = row.keys.get("adm1").filter(|c| !c.is_empty()) {
                        f.by_place.insert(code.clone(), row.estimate);
                    }
                }
            }
        }
        Ok(f)
    }

    fn place_name(&self, def: &IndicatorDef, code: &str) -> String {
        if self.regional() {
            self.labels.country_name(code, self.lang)
        } else {
            self.labels.label(&self.registry, def, Dim::Adm1, code, self.lang)
        }
    }

    fn by_place_words(&self) -> &'static str {
        self.lang.t(if self.regional() { "report.by_country" } else { "dash.by_adm1" })
    }

    fn value(&self, e: &Estimate, kind: Kind) -> String {
        e.value.map_or_else(|| "—".to_owned(), |v| self.locale.format(v, format_of(kind)))
    }

    fn n_note(&self, e: &Estimate) -> String {
        format!("n = {}", self.locale.number(e.n as f64, 0))
    }

    /// Bars of an indicator by place, largest first.
    fn place_bars(&self, def: &IndicatorDef, f: &Figures) -> Option<Chart> {
        if f.by_place.is_empty() {
            return None;
        }
        let mut bars: Vec<Bar> = f
            .by_place
            .iter()
            .map(|(code, e)| Bar {
                label: self.place_name(def, code),
                value: e.value,
                low: e.low,
                high: e.high,
                href: None,
                note: Some(self.n_note(e)),
            })
            .collect();
        bars.sort_by(|a, b| b.value.unwrap_or(-1.0).total_cmp(&a.value.unwrap_or(-1.0)));
        // Every country of the region; the 15 largest areas of a country.
        bars.truncate(if self.regional() { 40 } else { 15 });
        let title = format!("{} — {}", def.name_in(self.lang.code()), self.by_place_words());
        Some(Chart {
            svg: rumbo_charts::bars(&title, &bars, format_of(def.kind), &self.locale),
            title,
            note: self.suppressed_note(f.suppressed),
        })
    }

    fn suppressed_note(&self, count: usize) -> Option<String> {
        (count > 0).then(|| format!("{}: {count}", self.lang.t("report.suppressed_cells")))
    }

    /// Women and men by age group, added over the countries covered.
    async fn pyramid(&self, def: &IndicatorDef) -> ApiResult<Option<Chart>> {
        if !(def.disaggregations.contains(&Dim::Sex) && def.disaggregations.contains(&Dim::AgeGroup)) {
            return Ok(None);
        }
        let mut cells: HashMap<(String, String), f64> = HashMap::new();
        let mut suppressed = 0;
        for unit in &self.units {
            let Some(answer) = self.ask(def, &[Dim::Sex, Dim::AgeGroup], unit.filters()).await? else { continue };
            suppressed += answer.suppressed_rows;
            for row in &answer.rows {
                let (Some(sex), Some(age), Some(v)) =
                    (row.keys.get("sex"), row.keys.get("age_group"), row.estimate.value)
                else {
                    continue;
                };
                *cells.entry((sex.clone(), age.clone())).or_default() += v;
            }
        }
        if cells.is_empty() {
            return Ok(None);
        }
        let groups: Vec<String> = AGE_GROUPS.iter().map(|(g, _)| (*g).to_owned()).collect();
        let side = |sex: &str| -> Vec<Option<f64>> {
            groups.iter().map(|g| cells.get(&(sex.to_owned(), g.clone())).copied()).collect()
        };
        let title = format!("{} — {}", def.name_in(self.lang.code()), self.lang.t("dash.pyramid"));
        Ok(Some(Chart {
            svg: rumbo_charts::pyramid(
                &title,
                &groups,
                &side("female"),
                &side("male"),
                (self.lang.t("dash.women"), self.lang.t("dash.men")),
                Format::Count,
                &self.locale,
            ),
            title,
            note: self.suppressed_note(suppressed),
        }))
    }

    /// The indicator in every round up to this one (added over the countries covered).
    async fn trend(&self, def: &IndicatorDef) -> ApiResult<Option<Chart>> {
        let until = self.req.rounds.iter().map(|r| r.starts_on).max().unwrap_or(NaiveDate::MAX);
        let filters = match &self.req.country {
            Some(c) => vec![(Dim::Country, vec![c.clone()])],
            None => Vec::new(),
        };
        let Some(answer) = self.ask(def, &[Dim::Round], filters).await? else { return Ok(None) };
        let by_id: HashMap<i64, &Round> = self.rounds.iter().map(|r| (r.id, r)).collect();
        // Rounds by name (the same round in every country), at their first start.
        let mut points: BTreeMap<String, (NaiveDate, Option<f64>)> = BTreeMap::new();
        for row in &answer.rows {
            let Some(round) = row.keys.get("round").and_then(|id| id.parse::<i64>().ok()).and_then(|id| by_id.get(&id))
            else {
                continue;
            };
            if round.starts_on > until {
                continue;
            }
            let point = points.entry(round.name.clone()).or_insert((round.starts_on, None));
            point.0 = point.0.min(round.starts_on);
            if let Some(v) = row.estimate.value {
                point.1 = Some(point.1.unwrap_or_default() + v);
            }
        }
        let mut points: Vec<(NaiveDate, String, Option<f64>)> =
            points.into_iter().map(|(name, (start, v))| (start, name, v)).collect();
        points.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        if points.iter().filter(|(_, _, v)| v.is_some_and(|v| v > 0.0)).count() < 2 {
            return Ok(None);
        }
        let name = def.name_in(self.lang.code());
        let title = format!("{name} — {}", self.lang.t("dash.by_round"));
        let x: Vec<String> = points.iter().map(|(_, n, _)| n.clone()).collect();
        let values: Vec<Option<f64>> = points.iter().map(|(_, _, v)| *v).collect();
        Ok(Some(Chart {
            svg: rumbo_charts::lines(
                &title,
                &x,
                &[Series { name: name.to_owned(), values }],
                format_of(def.kind),
                &self.locale,
            ),
            title,
            note: None,
        }))
    }

    /// The indicators of a section side by side, one row per place and a total.
    fn table(&self, section: &str, defs: &[&IndicatorDef], figures: &HashMap<String, Figures>) -> Table {
        let first = defs[0];
        let mut places: BTreeMap<String, String> = BTreeMap::new();
        for def in defs {
            for code in figures[&def.id].by_place.keys() {
                places.entry(code.clone()).or_insert_with(|| self.place_name(first, code));
            }
        }
        let mut rows: Vec<Vec<String>> =
            places
                .iter()
                .map(|(code, name)| {
                    let mut row = vec![name.clone()];
                    row.extend(defs.iter().map(|d| {
                        figures[&d.id].by_place.get(code).map_or_else(|| "—".into(), |e| self.value(e, d.kind))
                    }));
                    row
                })
                .collect();
        rows.sort_by(|a, b| a[0].cmp(&b[0]));
        let mut total = vec![self.lang.t("report.total").to_owned()];
        total.extend(defs.iter().map(|d| self.value(&figures[&d.id].total, d.kind)));
        rows.push(total);
        let mut headers = vec![self.lang.t(if self.regional() { "common.country" } else { "dash.adm1" }).to_owned()];
        headers.extend(defs.iter().map(|d| d.name_in(self.lang.code()).to_owned()));
        let suppressed: usize = defs.iter().map(|d| figures[&d.id].suppressed).sum();
        let mut notes = Vec::new();
        notes.extend(self.suppressed_note(suppressed));
        if defs.iter().any(|d| figures[&d.id].weighted) {
            notes.push(self.lang.t("dash.weighted").to_owned());
        }
        Table {
            caption: format!("{} — {}", section_heading(section, self.lang), self.by_place_words()),
            headers,
            rows,
            note: (!notes.is_empty()).then(|| notes.join(" · ")),
        }
    }

    /// The choropleth of an indicator by admin-1 area, as the dashboard draws it (without
    /// links and points: sites are not a public breakdown).
    async fn map(&self, def: &IndicatorDef, figures: &Figures) -> ApiResult<Option<Chart>> {
        let countries: Vec<String> =
            self.units.iter().map(|u| u.country.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        if countries.is_empty() {
            return Ok(None);
        }
        let drawn =
            self.state.analytics.drawn_map(self.state, &countries, self.req.country.as_deref(), self.lang).await?;
        if drawn.areas.is_empty() {
            return Ok(None);
        }
        let mut values: HashMap<String, Option<f64>> = HashMap::new();
        let mut suppressed = 0;
        if self.regional() {
            for unit in &self.units {
                let Some(answer) = self.ask(def, &[Dim::Adm1], unit.filters()).await? else { continue };
                suppressed += answer.suppressed_rows;
                for row in answer.rows {
                    if let Some(code) = row.keys.get("adm1") {
                        values.insert(code.clone(), row.estimate.value);
                    }
                }
            }
        } else {
            suppressed = figures.suppressed;
            values.extend(figures.by_place.iter().map(|(code, e)| (code.clone(), e.value)));
        }
        let areas: Vec<Area> = drawn
            .areas
            .iter()
            .map(|a| Area {
                code: a.pcode.clone(),
                name: a.name.clone(),
                d: a.d.clone(),
                value: values.get(&a.pcode).copied().flatten(),
                href: None,
            })
            .collect();
        let name = def.name_in(self.lang.code());
        let title = format!("{name} — {}", self.lang.t("dash.by_adm1"));
        let layers = MapLayers {
            width: drawn.width,
            height: drawn.height,
            areas: &areas,
            points: &[],
            flows: &[],
            legend_title: name,
            points_title: "",
        };
        Ok(Some(Chart {
            svg: rumbo_charts::map(&title, &layers, format_of(def.kind), &self.locale),
            title,
            note: self.suppressed_note(suppressed),
        }))
    }

    /// Forms, round, records counted, indicators and when. The records are what the
    /// figures rest on, read from them (the largest n of the form's indicators counted per
    /// submission), not counted again in the submissions: outputs read aggregates only.
    async fn sources(
        &self,
        defs: &[&IndicatorDef],
        figures: &HashMap<String, Figures>,
        generated: &str,
    ) -> ApiResult<Vec<Fact>> {
        let lang = self.lang;
        let mut facts = Vec::new();
        let mut records: BTreeMap<&str, i64> = BTreeMap::new();
        for def in defs {
            let n = if def.unit.is_none() { figures[&def.id].total.n } else { 0 };
            let most = records.entry(def.form.as_str()).or_default();
            *most = (*most).max(n);
        }
        let threshold = defs.iter().map(|d| d.suppression).min().unwrap_or(5).max(1);
        let mut titles = Vec::new();
        let mut counts = Vec::new();
        for (form, n) in records {
            let Ok(entry) = self.state.collect.entry(form).await else { continue };
            let record = &entry.record;
            titles.push(format!("{} ({})", record.title, record.xml_form_id));
            // A handful of records is itself a small cell.
            let count = if n >= i64::from(threshold) || n == 0 {
                self.locale.number(n as f64, 0)
            } else {
                lang.t("report.fewer_than").replace("{n}", &threshold.to_string())
            };
            counts.push(format!("{}: {count}", record.title));
        }
        if !titles.is_empty() {
            facts.push(Fact::new(lang.t("report.source.forms"), titles.join("; ")));
        }
        facts.push(Fact::new(lang.t("sub.round"), self.round_line()));
        if !counts.is_empty() {
            facts.push(Fact::new(lang.t("report.source.submissions"), counts.join("; ")));
        }
        facts.push(Fact::new(
            lang.t("report.source.indicators"),
            format!("{} · {}", defs.len(), lang.t("report.source.indicators_note")),
        ));
        facts.push(Fact::new(lang.t("report.generated"), format!("{generated} · Rumbo")));
        Ok(facts)
    }

    /// "Ronda 3 – 2025: 2025-10-01 – 2025-12-15" (and the countries, for the region).
    fn round_line(&self) -> String {
        let start = self.req.rounds.iter().map(|r| r.starts_on).min();
        let end = self.req.rounds.iter().map(|r| r.ends_on).max();
        let mut line = self.req.round.clone();
        if let (Some(start), Some(end)) = (start, end) {
            let _ = write!(line, ": {start} – {end}");
        }
        if self.regional() {
            let names: Vec<String> =
                self.units.iter().map(|u| self.labels.country_name(&u.country, self.lang)).collect();
            let _ = write!(line, " · {} ({}): {}", self.lang.t("nav.countries"), names.len(), names.join(", "));
        }
        line
    }
}

/// The report, from the public figures.
pub async fn build(state: &AppState, req: &ReportRequest) -> ApiResult<Report> {
    let lang = req.lang;
    let registry = state.analytics.registry();
    let labels = state.analytics.labels(state).await?;
    let units: Vec<Unit> = req.rounds.iter().map(|r| Unit { country: r.country_code.clone(), round: r.id }).collect();
    let b = Builder {
        state,
        req,
        lang,
        locale: Locale::for_lang(lang.code()),
        labels,
        registry: registry.clone(),
        units,
        rounds: all_rounds(state).await?,
    };
    // Public indicators that compute, with a section or a headline.
    let defs: Vec<&IndicatorDef> = registry
        .defs()
        .iter()
        .filter(|d| d.sensitivity == Sensitivity::Public && registry.problems(&d.id).is_none())
        .filter(|d| d.headline || d.section.is_some())
        .collect();
    let mut figures: HashMap<String, Figures> = HashMap::new();
    for def in &defs {
        figures.insert(def.id.clone(), b.figures(def).await?);
    }

    let key_figures: Vec<KeyFigure> = defs
        .iter()
        .filter(|d| d.headline)
        .map(|d| {
            let (value, note) = figure(&figures[&d.id].total, d.kind, &b.locale, lang);
            KeyFigure::new(d.name_in(lang.code()), value, note)
        })
        .collect();

    let mut by_section: BTreeMap<(usize, String), Vec<&IndicatorDef>> = BTreeMap::new();
    for def in &defs {
        if let Some(section) = &def.section {
            let rank = SECTION_ORDER.iter().position(|s| s == section).unwrap_or(SECTION_ORDER.len());
            by_section.entry((rank, section.clone())).or_default().push(def);
        }
    }
    let mut sections = Vec::new();
    let mut flow_main: Option<&IndicatorDef> = None;
    let mut baseline: Option<&IndicatorDef> = None;
    for ((_, section), members) in &by_section {
        // A section's indicators are of one family: counts and sums, or shares and means.
        let family = additive(members[0].kind);
        let members: Vec<&IndicatorDef> = members.iter().copied().filter(|d| additive(d.kind) == family).collect();
        let mut charts = Vec::new();
        if family {
            let main = members.iter().copied().find(|d| !d.cells.is_empty()).unwrap_or(members[0]);
            if section == "baseline" {
                baseline.get_or_insert(main);
            } else if section == "flows" {
                flow_main.get_or_insert(main);
            }
            charts.extend(b.place_bars(main, &figures[&main.id]));
            charts.extend(b.pyramid(main).await?);
            charts.extend(b.trend(main).await?);
        } else {
            let kind = members[0].kind;
            let bars: Vec<Bar> = members
                .iter()
                .filter(|d| d.kind == kind)
                .map(|d| {
                    let e = &figures[&d.id].total;
                    Bar {
                        label: d.name_in(lang.code()).to_owned(),
                        value: e.value,
                        low: e.low,
                        high: e.high,
                        href: None,
                        note: Some(b.n_note(e)),
                    }
                })
                .collect();
            let title = section_heading(section, lang);
            let weighted = members.iter().any(|d| figures[&d.id].weighted);
            charts.push(Chart {
                svg: rumbo_charts::bars(&title, &bars, format_of(kind), &b.locale),
                title,
                note: weighted.then(|| lang.t("dash.weighted").to_owned()),
            });
        }
        sections.push(Section {
            heading: section_heading(section, lang),
            intro: None,
            charts,
            table: Some(b.table(section, &members, &figures)),
        });
    }
    if figures.values().all(|f| f.total.value.is_none_or(|v| v == 0.0)) {
        sections.insert(
            0,
            Section {
                heading: lang.t("report.empty_heading").to_owned(),
                intro: Some(lang.t("report.empty").to_owned()),
                ..Section::default()
            },
        );
    }

    let map_def = baseline.or(flow_main).filter(|d| adm1_public(d));
    let map = match map_def {
        Some(def) => b.map(def, &figures[&def.id]).await?,
        None => None,
    };

    let mut methodology = vec![lang.t("report.method.intro").to_owned()];
    if flow_main.is_some() {
        methodology.push(lang.t("report.method.flows").to_owned());
    }
    if defs.iter().any(|d| d.weight_by.is_some()) {
        methodology.push(lang.t("report.method.survey").to_owned());
    }
    if baseline.is_some() {
        methodology.push(lang.t("report.method.baseline").to_owned());
    }
    if req.country.is_none() {
        methodology.push(lang.t("report.method.regional").to_owned());
    }
    let threshold = defs.iter().map(|d| d.suppression).min().unwrap_or(5);
    let suppressed: usize = figures.values().map(|f| f.suppressed).sum();
    let mut disclosure = lang.t("report.disclosure_text").replace("{n}", &threshold.to_string());
    if suppressed > 0 {
        let _ = write!(disclosure, " {}: {suppressed}.", lang.t("report.suppressed_here"));
    }

    let generated = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let sources = b.sources(&defs, &figures, &generated).await?;
    let place = match &req.country {
        Some(c) => b.labels.country_name(c, lang),
        None => lang.t("dash.region").to_owned(),
    };
    Ok(Report {
        title: format!("{}: {place}", lang.t("report.sitrep")),
        subtitle: b.round_line(),
        lang: lang.code().to_owned(),
        generated_at: generated,
        words: Words {
            key_figures: lang.t("report.key_figures").to_owned(),
            map: lang.t("report.map").to_owned(),
            methodology: lang.t("report.methodology").to_owned(),
            sources: lang.t("report.sources").to_owned(),
            disclosure: lang.t("report.disclosure").to_owned(),
            generated: lang.t("report.generated").to_owned(),
            page: lang.t("report.page").to_owned(),
        },
        figures: key_figures,
        sections,
        map,
        methodology,
        sources,
        disclosure,
    })
}

/// At most this many PDFs are typeset at once (each takes a core for a moment).
static TYPESETTING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The report written as `format`. A PDF is typeset off the async threads.
pub async fn write_as(report: Report, format: ReportFormat) -> ApiResult<Vec<u8>> {
    match format {
        ReportFormat::Html => Ok(rumbo_report::to_html(&report).into_bytes()),
        ReportFormat::Pdf => {
            let _slot = TYPESETTING.acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
            tokio::task::spawn_blocking(move || rumbo_report::to_pdf(&report))
                .await
                .map_err(|e| ApiError::Internal(format!("the report task failed: {e}")))?
                .map_err(|e| ApiError::Internal(e.to_string()))
        }
    }
}

/// Builds, renders and hands over a report as a download, written to the audit log.
async fn export(state: &AppState, caller: &Caller, req: &ReportRequest, format: ReportFormat) -> ApiResult<Response> {
    let started = std::time::Instant::now();
    let report = build(state, req).await?;
    let bytes = write_as(report, format).await?;
    let name = req.file_name(format);
    tracing::info!(report = %name, bytes = bytes.len(), ms = started.elapsed().as_millis(), "situation report made");
    state
        .store
        .record(rumbo_store::AuditEvent {
            actor: &caller.actor(),
            action: "export",
            entity: "report",
            entity_id: name.clone(),
            country_code: req.country.as_deref(),
            detail: serde_json::json!({
                "what": "situation report",
                "round": req.round,
                "rounds": req.rounds.iter().map(|r| r.id).collect::<Vec<_>>(),
                "lang": req.lang.code(),
                "format": format.extension(),
                "bytes": bytes.len(),
            }),
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}

/// A situation report for a country (or the region, without `country`) and a round, as PDF
/// (default) or a self-contained HTML page. Figures are the public ones: restricted
/// indicators are left out and small cells suppressed, as for everyone.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ReportParams),
    responses(
        (status = 200, description = "the report, as an attachment", content_type = "application/pdf"),
        (status = 200, description = "the report as HTML (`format=html`)", content_type = "text/html"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a country outside your scope, or the region with a scoped account"),
        (status = 422, body = ErrorBody, description = "unknown country, round, language or format (the field is named)"),
    ))]
async fn api(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    lang: Lang,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    caller.require(Permission::ViewAnalytics, None)?;
    let format = ReportFormat::parse(p.format.as_deref())?;
    let req = resolve(&state, &p, lang).await?;
    allow(&caller, &req)?;
    export(&state, &caller, &req, format).await
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    c: Chrome,
    countries: Vec<Choice>,
    rounds: Vec<Choice>,
    langs: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "report_view.html")]
struct ReportView {
    c: Chrome,
    article: String,
    pdf_href: String,
}

/// Choose a report.
async fn page(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    caller.require(Permission::ViewAnalytics, None)?;
    let mut countries = crate::ops::countries(&state.store, &caller).await?;
    countries.retain(|c| caller.allows(Permission::ViewAnalytics, Some(&c.code)));
    let regional = caller.scope().is_none();
    let first = if regional { String::new() } else { countries.first().map(|c| c.code.clone()).unwrap_or_default() };
    let mut country_choices = Vec::new();
    if regional {
        country_choices.push(Choice::new("", lang.t("report.whole_region"), &first));
    }
    country_choices.extend(crate::pages::country_choices(&countries, lang, &first, false));
    // Round names in the caller's countries; the latest one under way chosen.
    let codes: BTreeSet<&str> = countries.iter().map(|c| c.code.as_str()).collect();
    let today = chrono::Utc::now().date_naive();
    let mut names: Vec<(NaiveDate, String)> = Vec::new();
    for r in all_rounds(&state).await?.into_iter().filter(|r| codes.contains(r.country_code.as_str())) {
        match names.iter_mut().find(|(_, n)| *n == r.name) {
            Some(entry) => entry.0 = entry.0.min(r.starts_on),
            None => names.push((r.starts_on, r.name)),
        }
    }
    names.sort();
    let current = names
        .iter()
        .rev()
        .find(|(start, _)| *start <= today)
        .or(names.last())
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    let rounds = names.into_iter().rev().map(|(_, n)| Choice::new(n.clone(), n, &current)).collect();
    let langs = Lang::ALL.iter().map(|l| Choice::new(l.code(), l.native_name(), lang.code())).collect();
    Ok(render(&ReportsPage {
        c: Chrome::new(lang, Some(&caller), &uri, "report.title"),
        countries: country_choices,
        rounds,
        langs,
    }))
}

/// A report as a page of the site.
async fn view(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> PageResult {
    let req = resolve(&state, &p, lang).await?;
    allow(&caller, &req)?;
    let report = build(&state, &req).await?;
    Ok(render(&ReportView {
        c: Chrome::new(lang, Some(&caller), &uri, "report.title"),
        article: rumbo_report::to_html_fragment(&report),
        pdf_href: format!("/reports/report.pdf?{}", req.query()),
    }))
}

/// A report as a PDF download.
async fn download(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<Response, PageError> {
    let req = resolve(&state, &p, lang).await?;
    allow(&caller, &req)?;
    Ok(export(&state, &caller, &req, ReportFormat::Pdf).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain() {
        assert_eq!(slug("Ronda 3 – 2025"), "ronda-3-2025");
        assert_eq!(slug("Rodada de verão ñ"), "rodada-de-verao-n");
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("«»"), "round");
    }

    #[test]
    fn formats_are_checked() {
        assert_eq!(ReportFormat::parse(None).unwrap(), ReportFormat::Pdf);
        assert_eq!(ReportFormat::parse(Some("HTML")).unwrap(), ReportFormat::Html);
        let e = ReportFormat::parse(Some("docx")).unwrap_err();
        assert_eq!(e.field(), Some("format"));
    }

    #[test]
    fn countries_combine_into_the_region() {
        let e = |value: Option<f64>, n: i64, base: Option<f64>| Estimate {
            value,
            n,
            weighted_base: base,
            suppressed: value.is_none(),
            ..Estimate::default()
        };
        let sum = combine(Kind::Sum, &[e(Some(10.0), 3, None), e(Some(5.0), 2, None), e(None, 0, None)]);
        assert_eq!(sum.value, Some(15.0));
        assert_eq!(sum.n, 5);
        // 0.5 of 300 people and 0.2 of 100: 170 of 400.
        let share = combine(Kind::Proportion, &[e(Some(0.5), 30, Some(300.0)), e(Some(0.2), 10, Some(100.0))]);
        assert!((share.value.unwrap() - 0.425).abs() < 1e-12);
        let hidden = combine(Kind::Proportion, &[e(None, 0, None), e(None, 0, None)]);
        assert!(hidden.value.is_none() && hidden.suppressed);
        let one = e(Some(0.3), 40, None);
        assert_eq!(combine(Kind::Proportion, &[one]), one);
    }
}
