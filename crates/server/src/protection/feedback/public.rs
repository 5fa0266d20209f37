//! The public pages: `/feedback`, where anyone leaves a message without signing in, and
//! `/feedback/status`, where she reads the answer with her reference. Plain HTML forms
//! (no script needed). The anonymous form is protected from cross-site posts as the
//! sign-in page is: a random token in a same-site cookie and in the form, compared.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use rumbo_domain::secrets::{constant_time_eq, new_secret};
use rumbo_store::AuditEvent;
use rumbo_store::feedback as fb;
use rumbo_store::model::{Actor, ListFilter};
use serde::Deserialize;
use serde_json::json;

use super::{FeedbackInput, PUBLIC_ACTOR};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageError, PageResult, code_choices, country_choices, render};

/// The cookie holding the public form's anti-forgery token.
const FEEDBACK_CSRF_COOKIE: &str = "rumbo_feedback_csrf";

pub fn router() -> Router<AppState> {
    Router::new().route("/feedback", get(form).post(submit)).route("/feedback/status", get(status))
}

fn csrf_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((FEEDBACK_CSRF_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/feedback")
        .build()
}

/// The sites of a country, grouped under it.
struct SiteGroup {
    country: String,
    sites: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "feedback_public.html")]
struct PublicPage {
    c: Chrome,
    csrf: String,
    countries: Vec<Choice>,
    site_groups: Vec<SiteGroup>,
    categories: Vec<Choice>,
    sectors: Vec<Choice>,
    body: String,
    contact: String,
    wants_reply: bool,
    errors: Vec<String>,
    /// The reference given, once the message is stored.
    reference: Option<String>,
}

/// The public form as typed.
#[derive(Debug, Default, Deserialize)]
struct PublicForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    country_code: String,
    #[serde(default)]
    site_id: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    wants_reply: Option<String>,
}

async fn page(state: &AppState, lang: Lang, uri: &Uri, f: &PublicForm, csrf: String) -> Result<PublicPage, ApiError> {
    let countries = state.store.list_countries().await?;
    let sites = state.store.list_sites(&ListFilter { limit: Some(100_000), ..ListFilter::default() }).await?.items;
    let site_groups = countries
        .iter()
        .map(|c| SiteGroup {
            country: match lang {
                Lang::Es => c.name_es.clone(),
                Lang::Pt => c.name_pt.clone(),
                Lang::En => c.name_en.clone(),
            },
            sites: sites
                .iter()
                .filter(|s| s.active && s.country_code == c.code)
                .map(|s| Choice::new(s.id.to_string(), s.name.clone(), &f.site_id))
                .collect(),
        })
        .filter(|g| !g.sites.is_empty())
        .collect();
    let mut country_list = vec![Choice::new("", "—", &f.country_code)];
    country_list.extend(country_choices(&countries, lang, &f.country_code, false));
    let mut categories = vec![Choice::new("", "—", &f.category)];
    categories.extend(code_choices(fb::CATEGORIES, lang, "fb.category", &f.category, false));
    let mut sectors = vec![Choice::new("", "—", &f.sector)];
    sectors.extend(code_choices(fb::SECTORS, lang, "fb.sector", &f.sector, false));
    Ok(PublicPage {
        c: Chrome::new(lang, None, uri, "fb.public.title"),
        csrf,
        countries: country_list,
        site_groups,
        categories,
        sectors,
        body: f.body.clone(),
        contact: f.contact.clone(),
        wants_reply: f.wants_reply.is_some(),
        errors: Vec::new(),
        reference: None,
    })
}

async fn form(State(state): State<AppState>, lang: Lang, uri: Uri, jar: CookieJar) -> PageResult {
    let csrf = new_secret("");
    let page = page(&state, lang, &uri, &PublicForm::default(), csrf.clone()).await?;
    Ok((jar.add(csrf_cookie(csrf, state.config.secure_cookies)), render(&page)).into_response())
}

async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    jar: CookieJar,
    axum::Form(f): axum::Form<PublicForm>,
) -> PageResult {
    let expected = jar.get(FEEDBACK_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(&expected, &f.csrf) {
        return Err(PageError(ApiError::Forbidden(lang.t("error.csrf").into())));
    }
    let site_id = match f.site_id.trim() {
        "" => Ok(None),
        s => s.parse().map(Some).map_err(|_| ApiError::invalid("site_id", format!("'{s}' is not a site"))),
    };
    let result = match site_id {
        Ok(site_id) => {
            let input = FeedbackInput {
                channel: "web".into(),
                category: f.category.clone(),
                sector: f.sector.clone(),
                country_code: f.country_code.clone(),
                site_id,
                body: f.body.clone(),
                contact: Some(f.contact.clone()),
                wants_reply: f.wants_reply.is_some(),
            };
            super::create(&state, None, input).await
        }
        Err(e) => Err(e),
    };
    // A fresh token for the next message (or the corrected one).
    let csrf = new_secret("");
    let jar = jar.add(csrf_cookie(csrf.clone(), state.config.secure_cookies));
    match result {
        Ok(row) => {
            let mut done = page(&state, lang, &uri, &PublicForm::default(), csrf).await?;
            done.reference = Some(row.reference);
            Ok((StatusCode::CREATED, jar, render(&done)).into_response())
        }
        Err(ApiError::Invalid(errors)) => {
            let mut again = page(&state, lang, &uri, &f, csrf).await?;
            again.errors =
                errors.iter().map(|e| format!("{}: {}", lang.t(&format!("fb.field.{}", e.field)), e.message)).collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, jar, render(&again)).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Debug, Default, Deserialize)]
struct StatusQuery {
    #[serde(default)]
    reference: String,
}

#[derive(Template)]
#[template(path = "feedback_status.html")]
struct StatusPage {
    c: Chrome,
    reference: String,
    /// A reference was asked for.
    asked: bool,
    /// What it names (`None`: no such reference).
    found: Option<Found>,
}

/// What the person may know of her message: where it stands and, once given, the answer.
struct Found {
    status: &'static str,
    received: String,
    response: Option<String>,
}

async fn status(State(state): State<AppState>, lang: Lang, uri: Uri, ApiQuery(q): ApiQuery<StatusQuery>) -> Response {
    let reference = q.reference.trim().to_uppercase();
    let mut page = StatusPage {
        c: Chrome::new(lang, None, &uri, "fb.status.title"),
        reference: reference.clone(),
        asked: false,
        found: None,
    };
    if reference.is_empty() {
        return render(&page);
    }
    let row = match state.store.feedback_by_reference(&reference).await {
        Ok(row) => row,
        Err(e) => return PageError(e.into()).into_response(),
    };
    let Some(row) = row else {
        page.asked = true;
        return (StatusCode::NOT_FOUND, render(&page)).into_response();
    };
    if row.is_psea() {
        let event = AuditEvent {
            actor: &Actor::system(PUBLIC_ACTOR),
            action: "read",
            entity: "feedback",
            entity_id: row.id.to_string(),
            country_code: Some(&row.country_code),
            detail: json!({ "sensitive": true, "by": "reference" }),
        };
        if let Err(e) = state.store.record(event).await {
            return PageError(e.into()).into_response();
        }
    }
    let response = match (&row.response, row.status.as_str()) {
        (Some(sealed), "responded" | "closed") => Some(super::open(&state, &row.reference, "response", sealed)),
        _ => None,
    };
    page.asked = true;
    page.found = Some(Found {
        status: lang.t(&format!("fb.public_status.{}", row.status)),
        received: row.created_at.format("%Y-%m-%d").to_string(),
        response,
    });
    render(&page)
}
