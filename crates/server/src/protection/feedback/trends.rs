//! Trends of the non-sensitive categories, as JSON and as a dashboard of server-drawn SVG.
//! Allegations of sexual exploitation or abuse are never counted, not even for the focal
//! point: a count by month, site or channel of a rare category can point at a person.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use chrono::Datelike;
use rumbo_charts::{Bar, Format, Locale, Series};
use rumbo_store::feedback::{self as fb, FeedbackFact};
use serde::Serialize;

use super::FeedbackQuery;
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageResult, code_choices, country_choices, render};

/// How many months the trends go back.
const MONTHS: usize = 12;

/// A count of items with one code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Count {
    pub code: String,
    pub items: i64,
}

/// One category's items per month (in the order of [`Trends::months`]).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthRow {
    pub category: String,
    pub items: Vec<i64>,
}

/// The trends of the non-sensitive categories.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Trends {
    /// Always true: allegations of sexual exploitation or abuse are never counted here.
    pub psea_excluded: bool,
    pub total: i64,
    /// `YYYY-MM`, oldest first (the last twelve months with items).
    pub months: Vec<String>,
    pub by_month: Vec<MonthRow>,
    pub by_category: Vec<Count>,
    pub by_channel: Vec<Count>,
    pub by_sector: Vec<Count>,
    /// Items answered (responded or closed).
    pub answered: i64,
    /// Of those, answered by their deadline.
    pub answered_on_time: i64,
    /// `answered_on_time / answered`, when anything was answered.
    pub share_on_time: Option<f64>,
    /// Items still waiting past their deadline.
    pub overdue: i64,
    /// Average satisfaction (1 to 5) of those who said.
    pub satisfaction: Option<f64>,
    pub satisfaction_answers: i64,
}

/// The trends the caller may see, for the query's filters (PSEA always left out).
pub async fn compute(state: &AppState, caller: &Caller, q: &FeedbackQuery) -> ApiResult<Trends> {
    let mut f = q.filter(caller)?;
    f.without_psea = true;
    f.limit = None;
    let facts = state.store.feedback_facts(&f).await?;
    Ok(summarise(&facts, chrono::Utc::now().date_naive()))
}

fn counts(facts: &[FeedbackFact], codes: &[&str], key: impl Fn(&FeedbackFact) -> &str) -> Vec<Count> {
    codes
        .iter()
        .filter(|c| **c != fb::PSEA)
        .map(|c| Count { code: (*c).to_string(), items: facts.iter().filter(|f| key(f) == *c).count() as i64 })
        .collect()
}

fn summarise(facts: &[FeedbackFact], today: chrono::NaiveDate) -> Trends {
    let month = |f: &FeedbackFact| format!("{:04}-{:02}", f.created_at.year(), f.created_at.month());
    let mut per: BTreeMap<String, BTreeMap<&str, i64>> = BTreeMap::new();
    for f in facts {
        *per.entry(month(f)).or_default().entry(f.category.as_str()).or_default() += 1;
    }
    let months: Vec<String> = per.keys().rev().take(MONTHS).rev().cloned().collect();
    let by_month = fb::CATEGORIES
        .iter()
        .filter(|c| **c != fb::PSEA)
        .map(|c| MonthRow {
            category: (*c).to_string(),
            items: months.iter().map(|m| per.get(m).and_then(|cs| cs.get(c)).copied().unwrap_or(0)).collect(),
        })
        .collect();
    let answered: Vec<&FeedbackFact> = facts.iter().filter(|f| f.responded_at.is_some()).collect();
    let on_time = answered.iter().filter(|f| f.responded_at.is_some_and(|r| r.date_naive() <= f.due_on)).count();
    let scores: Vec<i32> = facts.iter().filter_map(|f| f.satisfaction).collect();
    #[allow(clippy::cast_precision_loss)]
    Trends {
        psea_excluded: true,
        total: facts.len() as i64,
        months,
        by_month,
        by_category: counts(facts, fb::CATEGORIES, |f| &f.category),
        by_channel: counts(facts, fb::CHANNELS, |f| &f.channel),
        by_sector: counts(facts, fb::SECTORS, |f| &f.sector),
        answered: answered.len() as i64,
        answered_on_time: on_time as i64,
        share_on_time: (!answered.is_empty()).then(|| on_time as f64 / answered.len() as f64),
        overdue: facts.iter().filter(|f| matches!(f.status.as_str(), "new" | "assigned") && f.due_on < today).count()
            as i64,
        satisfaction: (!scores.is_empty()).then(|| f64::from(scores.iter().sum::<i32>()) / scores.len() as f64),
        satisfaction_answers: scores.len() as i64,
    }
}

/// One chart of the dashboard.
struct Chart {
    title: String,
    svg: String,
}

#[derive(Template)]
#[template(path = "feedback_trends.html")]
struct TrendsPage {
    c: Chrome,
    countries: Vec<Choice>,
    sectors: Vec<Choice>,
    trends: Trends,
    /// The filters, for the JSON link.
    query: String,
    on_time: String,
    satisfaction: String,
    charts: Vec<Chart>,
}

/// `/cfm/trends`.
pub async fn page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<FeedbackQuery>,
) -> PageResult {
    let trends = compute(&state, &caller, &q).await?;
    let locale = Locale::for_lang(lang.code());
    #[allow(clippy::cast_precision_loss)]
    let bars = |prefix: &str, counts: &[Count]| -> Vec<Bar> {
        counts.iter().map(|c| Bar::new(lang.t(&format!("{prefix}.{}", c.code)), Some(c.items as f64))).collect()
    };
    #[allow(clippy::cast_precision_loss)]
    let series: Vec<Series> = trends
        .by_month
        .iter()
        .map(|r| Series {
            name: lang.t(&format!("fb.category.{}", r.category)).to_string(),
            values: r.items.iter().map(|n| Some(*n as f64)).collect(),
        })
        .collect();
    let mut charts = Vec::new();
    let title = lang.t("fb.trends.by_month").to_string();
    charts.push(Chart { svg: rumbo_charts::lines(&title, &trends.months, &series, Format::Count, &locale), title });
    for (key, prefix, counts) in [
        ("fb.trends.by_category", "fb.category", &trends.by_category),
        ("fb.trends.by_channel", "fb.channel", &trends.by_channel),
        ("fb.trends.by_sector", "fb.sector", &trends.by_sector),
    ] {
        let title = lang.t(key).to_string();
        charts.push(Chart { svg: rumbo_charts::bars(&title, &bars(prefix, counts), Format::Count, &locale), title });
    }
    let countries = crate::ops::countries(&state.store, &caller).await?;
    let current = q.country.clone().unwrap_or_default().to_uppercase();
    let page = TrendsPage {
        c: Chrome::new(lang, Some(&caller), &uri, "fb.trends.title"),
        countries: country_choices(&countries, lang, &current, true),
        sectors: code_choices(fb::SECTORS, lang, "fb.sector", q.sector.as_deref().unwrap_or_default(), true),
        on_time: trends.share_on_time.map_or_else(|| "—".to_string(), |s| locale.percent(s)),
        satisfaction: trends.satisfaction.map_or_else(|| "—".to_string(), |s| locale.number(s, 1)),
        trends,
        query: uri.query().unwrap_or_default().to_string(),
        charts,
    };
    Ok(render(&page))
}
