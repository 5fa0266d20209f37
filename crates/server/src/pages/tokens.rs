//! The caller's own API tokens: create (shown once) and revoke.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use rumbo_store::model::ApiToken;
use serde::Deserialize;

use super::{Chrome, Ignored, PageResult, Posted, render, see_other};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::i18n::Lang;
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new().route("/tokens", get(page).post(create)).route("/tokens/{id}/revoke", post(revoke))
}

struct TokenRow {
    id: i64,
    name: String,
    created: String,
    expires: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    c: Chrome,
    tokens: Vec<TokenRow>,
    secret: Option<String>,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    uri: &Uri,
    secret: Option<String>,
    error: Option<String>,
) -> Result<TokensPage, ApiError> {
    let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| lang.t("token.never").to_string(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
    };
    let tokens = state
        .store
        .list_api_tokens(caller.user.id)
        .await?
        .into_iter()
        .map(|t: ApiToken| TokenRow {
            id: t.id,
            name: t.name,
            created: fmt(Some(t.created_at)),
            expires: fmt(t.expires_at),
            last_used: fmt(t.last_used_at),
        })
        .collect();
    Ok(TokensPage { c: Chrome::new(lang, Some(caller), uri, "nav.tokens"), tokens, secret, error })
}

async fn page(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    Ok(render(&show(&state, &caller, lang, &uri, None, None).await?))
}

#[derive(Deserialize)]
struct NewToken {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_in_days: String,
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Posted { caller, form }: Posted<NewToken>,
) -> PageResult {
    let days = match form.expires_in_days.trim() {
        "" => Ok(None),
        d => d
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::invalid("expires_in_days", format!("'{d}' is not a whole number of days"))),
    };
    let result = match days {
        Ok(days) => ops::create_token(&state.store, &caller, &form.name, days).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((_, secret)) => Ok(render(&show(&state, &caller, lang, &uri, Some(secret), None).await?)),
        Err(e @ ApiError::Invalid(_)) => {
            let page = show(&state, &caller, lang, &uri, None, Some(e.to_string())).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<Ignored>,
) -> PageResult {
    state.store.revoke_api_token(&caller.actor(), caller.user.id, id).await?;
    crate::openrosa::forget_callers();
    Ok(see_other("/tokens?notice=deleted"))
}
