//! The review queue (`/response/review`): submitted rows of the reviewer's countries, flagged
//! first; ticked rows are approved or returned with a note, through the API's review.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use rumbo_domain::permissions::{Permission, scope};
use rumbo_store::response::ReportFilter;
use serde::Deserialize;

use super::{Flag, Line, all_flags, plan_if_any, plan_year};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageError, PageResult, Posted, render, see_other};
use crate::response::{Review, Tab, require, review_rows, tabs};

pub fn router() -> Router<AppState> {
    Router::new().route("/response/review", get(queue).post(act))
}

const PAGE: i64 = 200;

/// The queue's filters (as typed).
#[derive(Debug, Clone, Default, Deserialize)]
struct Filters {
    #[serde(default)]
    year: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    organisation: Option<String>,
    #[serde(default)]
    flagged: Option<String>,
    #[serde(default)]
    offset: Option<String>,
    /// After a review: what was done, and to how many rows.
    #[serde(default)]
    reviewed: Option<String>,
    #[serde(default)]
    changed: Option<u64>,
}

/// The review form: the filters it came from, the ticked rows, the action and the note.
#[derive(Debug, Clone, Default, Deserialize)]
struct ReviewForm {
    #[serde(default)]
    year: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    organisation: Option<String>,
    #[serde(default)]
    flagged: Option<String>,
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: String,
}

fn given(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn is_on(v: Option<&String>) -> bool {
    matches!(v.map(|s| s.trim()), Some("true" | "on" | "1" | "yes"))
}

#[derive(Template)]
#[template(path = "response_review.html")]
struct QueuePage {
    c: Chrome,
    tabs: Vec<Tab>,
    years: Vec<Choice>,
    countries: Vec<Choice>,
    organisations: Vec<Choice>,
    flagged: bool,
    year: i32,
    country: String,
    organisation: String,
    has_plan: bool,
    lines: Vec<Line>,
    total: i64,
    ticked: Vec<i64>,
    note: String,
    error: Option<String>,
    done: Option<String>,
    next_url: Option<String>,
    legend: Vec<Flag>,
}

impl QueuePage {
    // The template hands the id over by reference.
    #[allow(clippy::trivially_copy_pass_by_ref)]
    fn is_ticked(&self, id: &i64) -> bool {
        self.ticked.contains(id)
    }
}

/// The queue page for these filters (and, after a failed review, the ticks, note and error).
#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    uri: &Uri,
    f: &Filters,
    ticked: Vec<i64>,
    note: String,
    error: Option<String>,
) -> Result<QueuePage, PageError> {
    let (years, year) = plan_year(state, f.year.as_deref()).await?;
    let plan = plan_if_any(state, year).await?;
    let country = given(f.country.as_ref()).map(|c| c.to_uppercase()).unwrap_or_default();
    let organisation = given(f.organisation.as_ref()).unwrap_or_default();
    let org_id = if organisation.is_empty() {
        None
    } else {
        Some(
            organisation
                .parse::<i64>()
                .map_err(|_| ApiError::invalid("organisation", format!("`{organisation}` is not a number")))?,
        )
    };
    let offset = given(f.offset.as_ref()).and_then(|o| o.parse::<i64>().ok()).unwrap_or(0).max(0);
    let flagged = is_on(f.flagged.as_ref());
    // The reviewer's countries (those where she may review).
    let countries = super::countries_for(state, caller, &[Permission::ReviewActivities]).await?;
    let (lines, total) = match &plan {
        Some(p) => {
            let reviewable = scope(&caller.user).map(|_| countries.iter().map(|c| c.code.clone()).collect());
            let filter = ReportFilter {
                plan_id: p.id,
                countries: reviewable,
                organisation: org_id,
                country: Some(country.clone()).filter(|c| !c.is_empty()),
                status: Some("submitted".into()),
                flagged,
                flagged_first: true,
                offset,
                limit: PAGE,
                ..ReportFilter::default()
            };
            let page = state.store.list_activity_reports(&filter).await?;
            let lines = page.items.into_iter().map(|r| Line::new(lang, plan.as_ref(), r, false)).collect();
            (lines, page.total)
        }
        None => (Vec::new(), 0),
    };
    let shown = i64::try_from(lines.len()).unwrap_or(0);
    let next_url = (offset + shown < total).then(|| {
        let pairs = [
            ("year", year.to_string()),
            ("country", country.clone()),
            ("organisation", organisation.clone()),
            ("flagged", if flagged { "true".into() } else { String::new() }),
            ("offset", (offset + PAGE).to_string()),
        ];
        let pairs: Vec<_> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        format!("/response/review?{}", serde_html_form::to_string(pairs).unwrap_or_default())
    });
    let done = match (f.reviewed.as_deref(), f.changed) {
        (Some("approved"), Some(n)) => Some(format!("{} {n}", lang.t("resp.rev.approved"))),
        (Some("returned"), Some(n)) => Some(format!("{} {n}", lang.t("resp.rev.returned"))),
        _ => None,
    };
    let all = lang.t("common.all");
    Ok(QueuePage {
        c: Chrome::new(lang, Some(caller), uri, "resp.rev.title"),
        tabs: tabs(caller, lang, uri.path()),
        years: super::year_choices(&years, year),
        countries: crate::pages::country_choices(&countries, lang, &country, true),
        organisations: super::organisation_choices(&state.store.organisation_names().await?, &organisation, Some(all)),
        flagged,
        year,
        country,
        organisation,
        has_plan: plan.is_some(),
        lines,
        total,
        ticked,
        note,
        error,
        done,
        next_url,
        legend: all_flags(lang),
    })
}

async fn queue(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    query: Result<Query<Filters>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    require(&caller.user, Permission::ReviewActivities, "review activity reports")?;
    let Query(f) = query.map_err(|e| ApiError::BadRequest(format!("the filters could not be read: {e}")))?;
    Ok(render(&page(&state, &caller, lang, &uri, &f, Vec::new(), String::new(), None).await?))
}

async fn act(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<ReviewForm>,
) -> PageResult {
    require(&caller.user, Permission::ReviewActivities, "review activity reports")?;
    let filters = Filters {
        year: form.year.clone(),
        country: form.country.clone(),
        organisation: form.organisation.clone(),
        flagged: form.flagged.clone(),
        ..Filters::default()
    };
    let mut ids = Vec::with_capacity(form.ids.len());
    for id in &form.ids {
        ids.push(id.trim().parse::<i64>().map_err(|_| ApiError::invalid("ids", format!("`{id}` is not a row")))?);
    }
    let action = form.action.trim().to_string();
    // The API's own order: access to every row, then the action, the note and the rows.
    let review = Review { ids: ids.clone(), action: action.clone(), note: Some(form.note.clone()) };
    let refusal = if ids.is_empty() && matches!(action.as_str(), "approve" | "return") {
        // Nothing ticked: say so in the reader's language (no row to check access to).
        if action == "return" && form.note.trim().is_empty() {
            Some(lang.t("resp.rev.need_note").to_string())
        } else {
            Some(lang.t("resp.rev.need_rows").to_string())
        }
    } else {
        match review_rows(&state, &caller, &review).await {
            Ok(done) => {
                let pairs: Vec<(&str, String)> = [
                    ("year", given(form.year.as_ref()).unwrap_or_default()),
                    ("country", given(form.country.as_ref()).unwrap_or_default()),
                    ("organisation", given(form.organisation.as_ref()).unwrap_or_default()),
                    ("flagged", if is_on(form.flagged.as_ref()) { "true".into() } else { String::new() }),
                    ("reviewed", done.status.clone()),
                    ("changed", done.changed.to_string()),
                ]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect();
                return Ok(see_other(&format!(
                    "/response/review?{}",
                    serde_html_form::to_string(pairs).unwrap_or_default()
                )));
            }
            Err(ApiError::Invalid(errors)) => Some(
                errors
                    .iter()
                    .map(|e| match e.field.as_str() {
                        "note" => lang.t("resp.rev.need_note").to_string(),
                        "ids" => lang.t("resp.rev.need_rows").to_string(),
                        _ => format!("{}: {}", e.field, e.message),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Err(e) => return Err(PageError(e)),
        }
    };
    let page = page(&state, &caller, lang, &uri, &filters, ids, form.note.clone(), refusal).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}
