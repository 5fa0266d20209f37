//! Signing in and out, and choosing the language.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{Duration, Utc};
use rumbo_domain::secrets::{constant_time_eq, new_secret, secret_hash};
use rumbo_store::AuditEvent;
use rumbo_store::model::Actor;
use serde::Deserialize;
use serde_json::json;

use super::{Chrome, PageError, PageResult, Posted, render, see_other};
use crate::AppState;
use crate::auth::{LOGIN_CSRF_COOKIE, SESSION_COOKIE, session_cookie};
use crate::error::ApiError;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::ops;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/lang", get(choose_language))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    csrf: String,
    next: String,
    username: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// Only same-site paths are followed after signing in or choosing a language: a single
/// leading `/`, and no backslash or control character anywhere (browsers drop tabs and
/// newlines, which would turn `/\t/host` into `//host`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.chars().any(|c| c.is_control() || c == '\\') => {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

fn login_csrf_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((LOGIN_CSRF_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/login")
        .build()
}

async fn login_page(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Response {
    let csrf = new_secret("");
    let page = LoginPage {
        c: Chrome::new(lang, None, &uri, "login.title"),
        csrf: csrf.clone(),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: q.expired.is_some().then(|| lang.t("login.expired")),
    };
    (jar.add(login_csrf_cookie(csrf, state.config.secure_cookies)), render(&page)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    jar: CookieJar,
    axum::Form(form): axum::Form<LoginForm>,
) -> PageResult {
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(&expected, &form.csrf) {
        return Err(PageError(ApiError::Forbidden(lang.t("error.csrf").into())));
    }
    let user = match ops::authenticate(&state.store, &form.username, &form.password).await {
        Ok(user) => user,
        Err(e @ (ApiError::BadCredentials | ApiError::Locked(_))) => {
            let status = e.status_code();
            let csrf = new_secret("");
            let page = LoginPage {
                c: Chrome::new(lang, None, &uri, "login.title"),
                csrf: csrf.clone(),
                next: safe_next(form.next.as_deref()),
                username: form.username.clone(),
                error: Some(if matches!(e, ApiError::Locked(_)) {
                    lang.t("login.locked")
                } else {
                    lang.t("login.failed")
                }),
            };
            let jar = jar.add(login_csrf_cookie(csrf, state.config.secure_cookies));
            return Ok((status, jar, render(&page)).into_response());
        }
        Err(e) => return Err(PageError(e)),
    };
    let secret = new_secret("");
    let hours = state.config.session_hours;
    state
        .store
        .create_session(user.id, &secret_hash(&secret), &new_secret(""), Utc::now() + Duration::hours(hours))
        .await?;
    state
        .store
        .record(AuditEvent {
            actor: &Actor::user(&user),
            action: "sign_in",
            entity: "user",
            entity_id: user.id.to_string(),
            country_code: None,
            detail: json!({ "username": user.username }),
        })
        .await?;
    let jar = jar.remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/login")).add(session_cookie(
        secret,
        state.config.secure_cookies,
        cookie::time::Duration::hours(hours),
    ));
    Ok((jar, see_other(&safe_next(form.next.as_deref()))).into_response())
}

#[derive(Deserialize)]
struct Nothing {}

async fn logout(State(state): State<AppState>, jar: CookieJar, posted: Posted<Nothing>) -> PageResult {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        state.store.delete_session(&secret_hash(cookie.value())).await?;
        let user = &posted.caller.user;
        state
            .store
            .record(AuditEvent {
                actor: &Actor::user(user),
                action: "sign_out",
                entity: "user",
                entity_id: user.id.to_string(),
                country_code: None,
                detail: json!({ "username": user.username }),
            })
            .await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, see_other("/login")).into_response())
}

#[derive(Deserialize)]
struct LangQuery {
    to: String,
    back: Option<String>,
}

async fn choose_language(jar: CookieJar, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::parse(&q.to).unwrap_or_default();
    let cookie = Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(365))
        .build();
    (jar.add(cookie), see_other(&safe_next(q.back.as_deref()))).into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/sites?country=COL")), "/sites?country=COL");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/x\r\nSet-Cookie: a=b")), "/");
    }
}
