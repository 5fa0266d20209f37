//! The dashboard: headline figures, trends, the population pyramid, breakdowns, routes and
//! a map, for the region or one country, one admin-1 area or one point, drawn as SVG on the
//! server from the aggregates API. It follows new submissions live (server-sent events).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::Response;
use axum::routing::get;
use rumbo_analytics::{Estimate, IndicatorDef, Kind};
use rumbo_charts::{Area, Bar, Flow, Format, Locale, MapLayers, Point, Series};
use rumbo_domain::permissions::Permission;
use rumbo_store::analytics::Dim;
use serde::Deserialize;

use super::api::{AggregateParams, AggregatesView, Labels, answer};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageResult, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(super::public::router())
        .route("/dashboard", get(page))
        .route("/dashboard/data.csv", get(csv))
        .route(
            "/static/dashboard.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
                    include_str!("../../assets/dashboard.js"),
                )
            }),
        )
}

/// The dashboard's filters (all optional).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DashboardQuery {
    pub country: Option<String>,
    /// A round by name (the same round in every country).
    pub round: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub adm1: Option<String>,
    pub site: Option<String>,
    pub nationality: Option<String>,
    /// The indicator the map colours areas by.
    pub map: Option<String>,
    /// Only the figures (for live reloads).
    pub partial: Option<String>,
    /// The public dashboard (`/public`): links stay there.
    #[serde(skip)]
    pub public: bool,
}

impl DashboardQuery {
    fn clean(value: Option<&String>) -> Option<String> {
        value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn params(&self, indicator: &str, by: &[Dim]) -> AggregateParams {
        AggregateParams {
            indicator: indicator.to_owned(),
            by: Some(by.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(",")),
            round: Self::clean(self.round.as_ref()),
            from: Self::clean(self.from.as_ref()),
            to: Self::clean(self.to.as_ref()),
            country: Self::clean(self.country.as_ref()),
            adm1: Self::clean(self.adm1.as_ref()),
            site: Self::clean(self.site.as_ref()),
            nationality: Self::clean(self.nationality.as_ref()),
            ..AggregateParams::default()
        }
    }

    /// This dashboard's address with some filters changed (`None` removes one).
    fn link(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut pairs: BTreeMap<&str, String> = BTreeMap::new();
        for (k, v) in [
            ("country", &self.country),
            ("round", &self.round),
            ("from", &self.from),
            ("to", &self.to),
            ("adm1", &self.adm1),
            ("site", &self.site),
            ("nationality", &self.nationality),
            ("map", &self.map),
        ] {
            if let Some(v) = Self::clean(v.as_ref()) {
                pairs.insert(k, v);
            }
        }
        for (k, v) in changes {
            match v {
                Some(v) => pairs.insert(k, (*v).to_owned()),
                None => pairs.remove(k),
            };
        }
        let query = serde_html_form::to_string(pairs.into_iter().collect::<Vec<_>>()).unwrap_or_default();
        let path = if self.public { "/public" } else { "/dashboard" };
        if query.is_empty() { path.into() } else { format!("{path}?{query}") }
    }
}

/// A headline figure.
pub struct Headline {
    pub label: String,
    pub value: String,
    pub note: String,
}

/// A chart with its figures as a table (for screen readers, and to download).
pub struct Card {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub wide: bool,
    pub csv: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    countries: Vec<Choice>,
    rounds: Vec<Choice>,
    areas: Vec<Choice>,
    maps: Vec<Choice>,
    q: DashboardQuery,
    crumbs: Vec<(String, String)>,
    headlines: Vec<Headline>,
    cards: Vec<Card>,
    manage: bool,
    empty: bool,
}

#[derive(Template)]
#[template(path = "dashboard_body.html")]
struct DashboardBody {
    c: Chrome,
    headlines: Vec<Headline>,
    cards: Vec<Card>,
    empty: bool,
}

pub(crate) fn format_of(kind: Kind) -> Format {
    match kind {
        Kind::Count | Kind::Sum => Format::Count,
        Kind::Proportion => Format::Percent,
        Kind::Mean => Format::Decimal(1),
    }
}

pub(crate) fn figure(e: &Estimate, kind: Kind, locale: &Locale, lang: Lang) -> (String, String) {
    let value = match e.value {
        Some(v) => locale.format(v, format_of(kind)),
        None if e.suppressed => "—".to_owned(),
        None => "—".to_owned(),
    };
    let mut note = String::new();
    if let (Some(low), Some(high)) = (e.low, e.high) {
        let _ = write!(
            note,
            "{} {}–{} · ",
            lang.t("dash.ci"),
            locale.format(low, format_of(kind)),
            locale.format(high, format_of(kind))
        );
    }
    if e.suppressed {
        note.push_str(lang.t("dash.suppressed"));
    } else {
        let _ = write!(note, "n = {}", locale.number(e.n as f64, 0));
    }
    (value, note)
}

/// The dashboard's pieces, computed for one caller and one set of filters.
struct Builder<'a> {
    state: &'a AppState,
    /// `None`: the public dashboard.
    caller: Option<&'a Caller>,
    q: &'a DashboardQuery,
    lang: Lang,
    locale: Locale,
}

impl Builder<'_> {
    async fn ask(&self, indicator: &str, by: &[Dim]) -> ApiResult<AggregatesView> {
        answer(self.state, self.caller, &self.q.params(indicator, by), self.lang).await
    }

    /// Like [`Builder::ask`], but a question the indicator cannot answer with these filters
    /// (a date range on figures kept by month) leaves its chart out instead of failing.
    async fn try_ask(&self, indicator: &str, by: &[Dim]) -> ApiResult<Option<AggregatesView>> {
        match self.ask(indicator, by).await {
            Ok(view) => Ok(Some(view)),
            Err(ApiError::Invalid(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn csv_link(&self, indicator: &str, by: &[Dim]) -> String {
        let p = self.q.params(indicator, by);
        let pairs: Vec<(&str, String)> = [
            ("indicator", Some(p.indicator)),
            ("by", p.by),
            ("round", p.round),
            ("from", p.from),
            ("to", p.to),
            ("country", p.country),
            ("adm1", p.adm1),
            ("site", p.site),
            ("nationality", p.nationality),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let path = if self.caller.is_some() { "/dashboard/data.csv" } else { "/public/data.csv" };
        format!("{path}?{}", serde_html_form::to_string(pairs).unwrap_or_default())
    }

    fn bars_of(&self, view: &AggregatesView, dim: Dim, limit: usize, link: Option<&str>) -> Vec<Bar> {
        let mut rows: Vec<_> =
            view.rows.iter().filter(|r| r.keys.get(dim.as_str()).is_some_and(|k| !k.is_empty())).collect();
        rows.sort_by(|a, b| b.estimate.value.unwrap_or(-1.0).total_cmp(&a.estimate.value.unwrap_or(-1.0)));
        rows.into_iter()
            .take(limit)
            .map(|r| {
                let key = r.keys.get(dim.as_str()).cloned().unwrap_or_default();
                Bar {
                    label: r.labels.get(dim.as_str()).cloned().unwrap_or_default(),
                    value: r.estimate.value,
                    low: r.estimate.low,
                    high: r.estimate.high,
                    href: link.map(|l| self.q.link(&[(l, Some(&key))])),
                    note: Some(format!("n = {}", self.locale.number(r.estimate.n as f64, 0))),
                }
            })
            .collect()
    }
}

/// Indicators of the dashboard, found by what they are declared as.
struct Chosen<'a> {
    flow: Option<&'a IndicatorDef>,
    interviews: Option<&'a IndicatorDef>,
    headlines: Vec<&'a IndicatorDef>,
    sections: BTreeMap<String, Vec<&'a IndicatorDef>>,
    baseline: Option<&'a IndicatorDef>,
}

fn choose(defs: &[IndicatorDef]) -> Chosen<'_> {
    let section = |d: &IndicatorDef| d.section.clone().unwrap_or_default();
    let flow = defs.iter().find(|d| d.kind == Kind::Sum && section(d) == "flows" && !d.cells.is_empty());
    let interviews = defs.iter().find(|d| d.kind == Kind::Count && d.disaggregations.contains(&Dim::Destination));
    let baseline = defs.iter().find(|d| section(d) == "baseline" && d.kind == Kind::Sum);
    let mut sections: BTreeMap<String, Vec<&IndicatorDef>> = BTreeMap::new();
    for d in defs.iter().filter(|d| matches!(d.kind, Kind::Proportion | Kind::Mean)) {
        if let Some(s) = &d.section {
            sections.entry(s.clone()).or_default().push(d);
        }
    }
    Chosen { flow, interviews, headlines: defs.iter().filter(|d| d.headline).collect(), sections, baseline }
}

/// The headline figures and charts for a reader (`None`: anyone, public figures only).
#[allow(clippy::many_single_char_names)] // b(uilder), q(uery), x and the like
pub(crate) async fn build(
    state: &AppState,
    caller: Option<&Caller>,
    q: &DashboardQuery,
    lang: Lang,
    labels: &Labels,
) -> ApiResult<(Vec<Headline>, Vec<Card>)> {
    let registry = state.analytics.registry();
    let defs = match caller {
        Some(caller) => super::visible(&registry, caller),
        None => super::public::indicators(state),
    };
    let chosen = choose(&defs);
    let b = Builder { state, caller, q, lang, locale: Locale::for_lang(lang.code()) };
    let mut headlines = Vec::new();
    for def in &chosen.headlines {
        let Some(view) = b.try_ask(&def.id, &[]).await? else { continue };
        let (value, note) = figure(&view.total, def.kind, &b.locale, lang);
        headlines.push(Headline { label: def.name_in(lang.code()).to_owned(), value, note });
    }
    let mut cards = Vec::new();
    if let Some(flow) = chosen.flow {
        let name = flow.name_in(lang.code());
        // Daily series (or monthly over a long period).
        // By day within a round or a date range; by month over everything (from the
        // small strata cube instead of every day of every point) — as the indicator allows.
        let narrowed = [&q.round, &q.from, &q.to].iter().any(|v| DashboardQuery::clean(v.as_ref()).is_some());
        let order = if narrowed { [Dim::Day, Dim::Month] } else { [Dim::Month, Dim::Day] };
        let mut series = None;
        for dim in order.into_iter().filter(|d| flow.disaggregations.contains(d)) {
            if let Some(view) = b.try_ask(&flow.id, &[dim]).await? {
                let too_long = dim == Dim::Day && view.rows.len() > 120 && flow.disaggregations.contains(&Dim::Month);
                if !too_long {
                    series = Some((dim, view));
                    break;
                }
            }
        }
        if let Some((dim, series_view)) = series {
            let long = dim == Dim::Month;
            let x: Vec<String> =
                series_view.rows.iter().map(|r| r.labels.get(dim.as_str()).cloned().unwrap_or_default()).collect();
            let values: Vec<Option<f64>> = series_view.rows.iter().map(|r| r.estimate.value).collect();
            let title = format!("{name} — {}", lang.t(if long { "dash.by_month" } else { "dash.by_day" }));
            cards.push(Card {
                id: "series".into(),
                svg: rumbo_charts::lines(
                    &title,
                    &x,
                    &[Series { name: name.to_owned(), values }],
                    Format::Count,
                    &b.locale,
                ),
                title,
                wide: true,
                csv: b.csv_link(&flow.id, &[dim]),
                note: String::new(),
            });
        }
        // Trend across rounds (a round by name is the same round in every country).
        if DashboardQuery::clean(q.round.as_ref()).is_none() {
            let scope =
                q.country.as_ref().map(|c| vec![c.trim().to_uppercase()]).or_else(|| caller.and_then(Caller::scope));
            let mut x = Vec::new();
            let mut values = Vec::new();
            for (round, _) in labels.round_names(scope.as_deref()) {
                let mut p = q.params(&flow.id, &[]);
                p.round = Some(round.clone());
                let value = match answer(state, caller, &p, lang).await {
                    Ok(view) => view.total.value,
                    // A round's name across countries is no public figure.
                    Err(ApiError::Invalid(_)) => None,
                    Err(e) => return Err(e),
                };
                x.push(round);
                values.push(value);
            }
            if values.iter().filter(|v| v.is_some_and(|v| v > 0.0)).count() > 1 {
                let title = format!("{name} — {}", lang.t("dash.by_round"));
                cards.push(Card {
                    id: "rounds".into(),
                    svg: rumbo_charts::lines(
                        &title,
                        &x,
                        &[Series { name: name.to_owned(), values }],
                        Format::Count,
                        &b.locale,
                    ),
                    title,
                    wide: false,
                    csv: b.csv_link(&flow.id, &[Dim::Round]),
                    note: String::new(),
                });
            }
        }
        // Population pyramid.
        let pyramid = b.try_ask(&flow.id, &[Dim::Sex, Dim::AgeGroup]).await?.unwrap_or_else(|| empty_view(flow));
        let groups: Vec<String> =
            rumbo_analytics::definition::AGE_GROUPS.iter().map(|(g, _)| (*g).to_owned()).collect();
        let cell = |sex: &str, group: &str| {
            pyramid
                .rows
                .iter()
                .find(|r| {
                    r.keys.get("sex").map(String::as_str) == Some(sex)
                        && r.keys.get("age_group").map(String::as_str) == Some(group)
                })
                .and_then(|r| r.estimate.value)
        };
        let female: Vec<Option<f64>> = groups.iter().map(|g| cell("female", g)).collect();
        let male: Vec<Option<f64>> = groups.iter().map(|g| cell("male", g)).collect();
        let title = format!("{name} — {}", lang.t("dash.pyramid"));
        cards.push(Card {
            id: "pyramid".into(),
            svg: rumbo_charts::pyramid(
                &title,
                &groups,
                &female,
                &male,
                (lang.t("dash.women"), lang.t("dash.men")),
                Format::Count,
                &b.locale,
            ),
            title,
            wide: false,
            csv: b.csv_link(&flow.id, &[Dim::Sex, Dim::AgeGroup]),
            note: String::new(),
        });
        for (dim, key, link) in [
            (Dim::Nationality, "dash.by_nationality", Some("nationality")),
            (Dim::Direction, "dash.by_direction", None),
        ] {
            if flow.disaggregations.contains(&dim) {
                let Some(view) = b.try_ask(&flow.id, &[dim]).await? else { continue };
                let title = format!("{name} — {}", lang.t(key));
                cards.push(Card {
                    id: dim.as_str().into(),
                    svg: rumbo_charts::bars(&title, &b.bars_of(&view, dim, 10, link), Format::Count, &b.locale),
                    title,
                    wide: false,
                    csv: b.csv_link(&flow.id, &[dim]),
                    note: String::new(),
                });
            }
        }
    }
    // Sections of survey indicators: one bar per indicator, with its interval.
    for (section, defs) in &chosen.sections {
        let mut bars = Vec::new();
        let mut weighted = false;
        let kind = defs[0].kind;
        for def in defs.iter().filter(|d| d.kind == kind) {
            let Some(view) = b.try_ask(&def.id, &[]).await? else { continue };
            weighted |= view.weighted;
            bars.push(Bar {
                label: def.name_in(lang.code()).to_owned(),
                value: view.total.value,
                low: view.total.low,
                high: view.total.high,
                href: None,
                note: Some(format!("n = {}", b.locale.number(view.total.n as f64, 0))),
            });
        }
        if bars.is_empty() {
            continue;
        }
        let title = section_title(section, lang);
        cards.push(Card {
            id: format!("section-{section}"),
            svg: rumbo_charts::bars(&title, &bars, format_of(kind), &b.locale),
            title,
            wide: false,
            csv: b.csv_link(&defs[0].id, &[]),
            note: if weighted { lang.t("dash.weighted").to_owned() } else { String::new() },
        });
    }
    // Destinations and routes.
    if let Some(interviews) = chosen.interviews {
        if let Some(view) = b.try_ask(&interviews.id, &[Dim::Destination]).await? {
            let title = lang.t("dash.destinations").to_owned();
            cards.push(Card {
                id: "destinations".into(),
                svg: rumbo_charts::bars(
                    &title,
                    &b.bars_of(&view, Dim::Destination, 10, None),
                    Format::Count,
                    &b.locale,
                ),
                title,
                wide: false,
                csv: b.csv_link(&interviews.id, &[Dim::Destination]),
                note: interviews.name_in(lang.code()).to_owned(),
            });
        }
        if interviews.disaggregations.contains(&Dim::Origin)
            && let Some(view) = b.try_ask(&interviews.id, &[Dim::Origin, Dim::Destination]).await?
        {
            // Routes between two known, different countries.
            let mut rows: Vec<_> = view
                .rows
                .iter()
                .filter(|r| r.estimate.value.is_some())
                .filter(|r| {
                    let (o, d) = (r.keys.get("origin"), r.keys.get("destination"));
                    o != d
                        && o.is_some_and(|o| !o.is_empty() && o != "other")
                        && d.is_some_and(|d| !d.is_empty() && d != "other")
                })
                .collect();
            rows.sort_by(|a, b| b.estimate.value.unwrap_or(0.0).total_cmp(&a.estimate.value.unwrap_or(0.0)));
            let bars: Vec<Bar> = rows
                .iter()
                .take(10)
                .map(|r| Bar {
                    label: format!(
                        "{} → {}",
                        r.labels.get("origin").cloned().unwrap_or_default(),
                        r.labels.get("destination").cloned().unwrap_or_default()
                    ),
                    value: r.estimate.value,
                    note: Some(format!("n = {}", b.locale.number(r.estimate.n as f64, 0))),
                    ..Bar::default()
                })
                .collect();
            let title = lang.t("dash.routes").to_owned();
            cards.push(Card {
                id: "routes".into(),
                svg: rumbo_charts::bars(&title, &bars, Format::Count, &b.locale),
                title,
                wide: false,
                csv: b.csv_link(&interviews.id, &[Dim::Origin, Dim::Destination]),
                note: interviews.name_in(lang.code()).to_owned(),
            });
        }
    }
    // The map.
    let map_def = DashboardQuery::clean(q.map.as_ref())
        .and_then(|id| defs.iter().find(|d| d.id == id && d.disaggregations.contains(&Dim::Adm1)))
        .or(chosen.baseline)
        .or(chosen.flow);
    if let Some(def) = map_def {
        cards.push(map_card(&b, def, chosen.flow, chosen.interviews, labels).await?);
    }
    Ok((headlines, cards))
}

/// An answer with no rows, for a chart whose question cannot be asked with these filters.
fn empty_view(def: &IndicatorDef) -> AggregatesView {
    AggregatesView {
        indicator: def.id.clone(),
        name: String::new(),
        kind: def.kind,
        by: Vec::new(),
        weighted: false,
        cube: String::new(),
        rows: Vec::new(),
        suppressed_rows: 0,
        total: Estimate::default(),
    }
}

pub(crate) fn section_title(section: &str, lang: Lang) -> String {
    let key = format!("dash.section.{section}");
    let text = lang.t(&key);
    if text == "?" { section.replace('_', " ") } else { text.to_owned() }
}

/// Numbers of an SVG path, as (x, y) pairs: enough to find a shape's middle.
fn path_centre(d: &str) -> Option<(f64, f64)> {
    let numbers: Vec<f64> =
        d.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).filter_map(|s| s.parse().ok()).collect();
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for pair in numbers.chunks_exact(2) {
        sx += pair[0];
        sy += pair[1];
        n += 1.0;
    }
    (n > 0.0).then(|| (sx / n, sy / n))
}

async fn map_card(
    b: &Builder<'_>,
    def: &IndicatorDef,
    flow: Option<&IndicatorDef>,
    interviews: Option<&IndicatorDef>,
    labels: &Labels,
) -> ApiResult<Card> {
    let state = b.state;
    let lang = b.lang;
    let country = DashboardQuery::clean(b.q.country.as_ref()).map(|c| c.to_uppercase());
    let countries: Vec<String> = match &country {
        Some(c) => vec![c.clone()],
        None => match b.caller {
            Some(caller) => crate::ops::countries(&state.store, caller).await?,
            None => state.store.list_countries().await?,
        }
        .into_iter()
        .map(|c| c.code)
        .collect(),
    };
    let drawn = state.analytics.drawn_map(state, &countries, country.as_deref(), lang).await?;
    let values = b.try_ask(&def.id, &[Dim::Adm1]).await?;
    let by_area: BTreeMap<&str, Option<f64>> = values
        .iter()
        .flat_map(|v| &v.rows)
        .map(|r| (r.keys.get("adm1").map_or("", String::as_str), r.estimate.value))
        .collect();
    let areas: Vec<Area> = drawn
        .areas
        .iter()
        .map(|a| Area {
            code: a.pcode.clone(),
            name: a.name.clone(),
            d: a.d.clone(),
            value: by_area.get(a.pcode.as_str()).copied().flatten(),
            href: labels
                .area_country(&a.pcode)
                .map(|c| b.q.link(&[("country", Some(c)), ("adm1", Some(&a.pcode)), ("site", None)])),
        })
        .collect();
    let mut points = Vec::new();
    if let Some(flow) = flow
        && let Some(by_site) = b.try_ask(&flow.id, &[Dim::Site]).await?
    {
        for r in &by_site.rows {
            let Some(id) = r.keys.get("site").and_then(|s| s.parse::<i64>().ok()) else { continue };
            let Some(code) = labels.site_code(id) else { continue };
            let Some(p) = drawn.points.iter().find(|p| p.code == code) else { continue };
            points.push(Point {
                name: p.name.clone(),
                x: p.x,
                y: p.y,
                value: r.estimate.value.unwrap_or(0.0),
                href: Some(b.q.link(&[("site", Some(code))])),
            });
        }
    }
    // Lines between countries of origin and intended destination, where both are drawn.
    let mut flows = Vec::new();
    if let Some(interviews) = interviews.filter(|d| d.disaggregations.contains(&Dim::Origin)) {
        let mut centres: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
        for a in &drawn.areas {
            if let (Some(c), Some((x, y))) = (labels.area_country(&a.pcode), path_centre(&a.d)) {
                let e = centres.entry(c.to_owned()).or_default();
                *e = (e.0 + x, e.1 + y, e.2 + 1.0);
            }
        }
        let centre = |c: &str| centres.get(c).map(|(x, y, n)| (x / n, y / n));
        let routes = b.try_ask(&interviews.id, &[Dim::Origin, Dim::Destination]).await?;
        let mut rows: Vec<_> =
            routes.iter().flat_map(|r| &r.rows).filter(|r| r.keys.get("origin") != r.keys.get("destination")).collect();
        rows.sort_by(|a, b| b.estimate.value.unwrap_or(0.0).total_cmp(&a.estimate.value.unwrap_or(0.0)));
        for r in rows.into_iter().take(12) {
            let (Some(o), Some(d)) = (r.keys.get("origin"), r.keys.get("destination")) else { continue };
            if let (Some(from), Some(to), Some(value)) = (centre(o), centre(d), r.estimate.value) {
                flows.push(Flow {
                    from,
                    to,
                    value,
                    label: format!(
                        "{} → {}",
                        r.labels.get("origin").cloned().unwrap_or_default(),
                        r.labels.get("destination").cloned().unwrap_or_default()
                    ),
                });
            }
        }
    }
    let title = format!("{} — {}", def.name_in(lang.code()), lang.t("dash.by_adm1"));
    let layers = MapLayers {
        width: drawn.width,
        height: drawn.height,
        areas: &areas,
        points: &points,
        flows: &flows,
        legend_title: def.name_in(lang.code()),
        points_title: flow.map_or("", |f| f.name_in(lang.code())),
    };
    Ok(Card {
        id: "map".into(),
        svg: rumbo_charts::map(&title, &layers, format_of(def.kind), &b.locale),
        title,
        wide: true,
        csv: b.csv_link(&def.id, &[Dim::Adm1]),
        note: lang.t("dash.map_note").to_owned(),
    })
}

async fn page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> PageResult {
    caller.require(Permission::ViewAnalytics, None)?;
    if let Some(country) = DashboardQuery::clean(q.country.as_ref()) {
        caller.require(Permission::ViewAnalytics, Some(&country.to_uppercase()))?;
    }
    let labels = state.analytics.labels(&state).await?;
    let (headlines, cards) = build(&state, Some(&caller), &q, lang, &labels).await?;
    let empty = headlines.is_empty() && cards.is_empty();
    let chrome = Chrome::new(lang, Some(&caller), &uri, "dash.title");
    if q.partial.is_some() {
        return Ok(render(&DashboardBody { c: chrome, headlines, cards, empty }));
    }
    let countries = crate::ops::countries(&state.store, &caller).await?;
    let current = DashboardQuery::clean(q.country.as_ref()).unwrap_or_default().to_uppercase();
    let country_choices = crate::pages::country_choices(&countries, lang, &current, true);
    let scope = if current.is_empty() { caller.scope() } else { Some(vec![current.clone()]) };
    let round_now = DashboardQuery::clean(q.round.as_ref()).unwrap_or_default();
    let mut rounds = vec![Choice::new("", lang.t("common.all"), &round_now)];
    rounds.extend(
        labels.round_names(scope.as_deref()).into_iter().map(|(name, _)| Choice::new(name.clone(), name, &round_now)),
    );
    let adm1_now = DashboardQuery::clean(q.adm1.as_ref()).unwrap_or_default();
    let mut areas = vec![Choice::new("", lang.t("common.all"), &adm1_now)];
    if !current.is_empty() {
        for a in state.store.area_shapes(&current, 1).await? {
            let name = match lang {
                Lang::Es => a.name_es,
                Lang::Pt => a.name_pt,
                Lang::En => a.name_en,
            };
            areas.push(Choice::new(a.pcode, name, &adm1_now));
        }
    }
    let registry = state.analytics.registry();
    let map_now = DashboardQuery::clean(q.map.as_ref()).unwrap_or_default();
    let mut maps = vec![Choice::new("", lang.t("dash.map_default"), &map_now)];
    maps.extend(
        super::visible(&registry, &caller)
            .iter()
            .filter(|d| d.disaggregations.contains(&Dim::Adm1))
            .map(|d| Choice::new(d.id.clone(), d.name_in(lang.code()), &map_now)),
    );
    // Region → country → admin 1 → point.
    let mut crumbs =
        vec![(lang.t("dash.region").to_owned(), q.link(&[("country", None), ("adm1", None), ("site", None)]))];
    if !current.is_empty() {
        crumbs.push((labels.country_name(&current, lang), q.link(&[("adm1", None), ("site", None)])));
    }
    if !adm1_now.is_empty() {
        let name = areas.iter().find(|a| a.value == adm1_now).map_or_else(|| adm1_now.clone(), |a| a.label.clone());
        crumbs.push((name, q.link(&[("site", None)])));
    }
    if let Some(site) = DashboardQuery::clean(q.site.as_ref()) {
        crumbs.push((site, q.link(&[])));
    }
    let manage = caller.allows(Permission::ManageIndicators, None);
    Ok(render(&DashboardPage {
        c: chrome,
        countries: country_choices,
        rounds,
        areas,
        maps,
        q,
        crumbs,
        headlines,
        cards,
        manage,
        empty,
    }))
}

/// The figures of one chart as CSV, as the reader sees them, with the HXL hashtag row.
async fn csv(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    ApiQuery(p): ApiQuery<AggregateParams>,
) -> Result<Response, crate::pages::PageError> {
    let (def, table) = super::api::table(&state, Some(&caller), &p, lang).await?;
    Ok(crate::outputs::tables::download(&state, &def.id, &table, p.format.as_deref().unwrap_or("csv")).await?)
}
