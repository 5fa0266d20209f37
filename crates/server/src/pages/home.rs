//! The start page: the caller's countries with what each holds.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;

use super::{Chrome, PageResult, render};
use crate::AppState;
use crate::auth::SignedIn;
use crate::i18n::Lang;
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

struct CountryRow {
    code: String,
    name: String,
    areas: i64,
    sites: i64,
    rounds: i64,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    scope: String,
    rows: Vec<CountryRow>,
}

async fn home(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    let countries = ops::countries(&state.store, &caller).await?;
    let counts = state.store.country_counts().await?;
    let rows = countries
        .iter()
        .map(|country| {
            let n = counts.iter().find(|c| c.code == country.code);
            CountryRow {
                code: country.code.clone(),
                name: match lang {
                    Lang::Es => country.name_es.clone(),
                    Lang::Pt => country.name_pt.clone(),
                    Lang::En => country.name_en.clone(),
                },
                areas: n.map_or(0, |n| n.admin_areas),
                sites: n.map_or(0, |n| n.sites),
                rounds: n.map_or(0, |n| n.rounds),
            }
        })
        .collect();
    let scope = if caller.user.all_countries {
        lang.t("home.all_countries").to_string()
    } else {
        caller.user.countries.join(", ")
    };
    Ok(render(&HomePage { c: Chrome::new(lang, Some(&caller), &uri, "home.title"), scope, rows }))
}
