//! Who is calling: a session cookie (pages) or a bearer token (API), and the CSRF checks
//! that go with cookies. What the caller may then do is decided by
//! [`rumbo_domain::permissions`], through [`Caller::require`].

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use rumbo_domain::permissions::{self, Permission};
use rumbo_domain::secrets::{constant_time_eq, secret_hash};
use rumbo_store::model::{Actor, User};

use crate::AppState;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "rumbo_session";
pub const LOGIN_CSRF_COOKIE: &str = "rumbo_login_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// The session's CSRF token; `None` when the caller used a bearer token.
    pub csrf: Option<String>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::user(&self.user)
    }

    pub fn allows(&self, permission: Permission, country: Option<&str>) -> bool {
        permissions::allows(&self.user, permission, country)
    }

    /// Fails with 403 unless the permission matrix allows this.
    pub fn require(&self, permission: Permission, country: Option<&str>) -> Result<(), ApiError> {
        if self.allows(permission, country) {
            return Ok(());
        }
        let what = match permission {
            Permission::ViewReference => "see data",
            Permission::EditLocations => "edit admin areas and sites",
            Permission::EditRounds => "edit rounds",
            Permission::ImportBoundaries => "import boundaries",
            Permission::EditOrganisations => "edit organisations",
            Permission::EditCountries => "edit countries (a regional administrator does this)",
            Permission::ManageUsers => "manage these users",
            Permission::ViewAudit => "read the audit log (a regional administrator does this)",
            Permission::ManageForms => "manage forms",
            Permission::Submit => "submit data",
            Permission::ViewSubmissions => "read submissions",
            Permission::ReviewSubmissions => "review submissions",
            Permission::ViewAnalytics => "see dashboards",
            Permission::ManageIndicators => "declare indicators",
            Permission::ManageFlagRules => "manage red-flag rules",
            Permission::HandleAlerts => "receive red-flag alerts",
            Permission::HandleCases => "work on protection cases",
            Permission::SuperviseCases => "supervise protection cases",
            Permission::EditServices => "edit the service directory",
            Permission::ViewFeedback => "read complaints and feedback",
            Permission::HandleFeedback => "handle complaints and feedback",
            Permission::ManagePlan => "manage the response plan",
            Permission::ReportActivities => "report activities",
            Permission::ReviewActivities => "review activity reports",
            Permission::HandlePsea => {
                "read allegations of sexual exploitation or abuse (the protection focal point does this)"
            }
        };
        Err(ApiError::Forbidden(match country {
            Some(c) if permissions::role_grants(self.user.role, permission) => {
                format!("your account ({}) may not {what} in {c}: it is scoped to other countries", self.user.username)
            }
            _ => format!("your role ({}) may not {what}", self.user.role),
        }))
    }

    /// The countries this caller's lists are limited to (`None`: every country).
    pub fn scope(&self) -> Option<Vec<String>> {
        permissions::scope(&self.user)
    }

    /// Checks a submitted CSRF token against the session's.
    pub fn check_csrf(&self, submitted: Option<&str>) -> Result<(), ApiError> {
        match (&self.csrf, submitted) {
            (None, _) => Ok(()),
            (Some(expected), Some(got)) if constant_time_eq(expected, got) => Ok(()),
            _ => Err(ApiError::Forbidden(
                "the CSRF token is missing or wrong: reload the page and try again (API clients send it in the X-CSRF-Token header, or use a bearer token)".into(),
            )),
        }
    }
}

/// The caller of a session cookie, if it names a live session.
pub async fn session_caller(state: &AppState, jar: &CookieJar) -> Result<Option<Caller>, ApiError> {
    let Some(cookie) = jar.get(SESSION_COOKIE) else { return Ok(None) };
    Ok(state.store.session(&secret_hash(cookie.value())).await?.map(|(user, csrf)| Caller { user, csrf: Some(csrf) }))
}

/// API authentication: `Authorization: Bearer …`, or the session cookie together with the
/// `X-CSRF-Token` header on writes.
pub struct ApiCaller(pub Caller);

impl<S> FromRequestParts<S> for ApiCaller
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        credentials(parts, &AppState::from_ref(state)).await?.map(ApiCaller).ok_or(ApiError::Unauthorized)
    }
}

/// The caller named by the request's credentials (`None` when it carries none): a bearer
/// token, or the session cookie with the CSRF header on writes. Wrong credentials are a 401.
async fn credentials(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        let user = state.store.token_user(&secret_hash(token)).await?.ok_or(ApiError::Unauthorized)?;
        return Ok(Some(Caller { user, csrf: None }));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(caller) = session_caller(state, &jar).await? else { return Ok(None) };
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        caller.check_csrf(sent)?;
    }
    Ok(Some(caller))
}

/// A caller who may be anonymous: credentials are checked as for [`ApiCaller`] when they
/// are given (a wrong token is still a 401), and `None` when there are none.
pub struct MaybeCaller(pub Option<Caller>);

impl<S> FromRequestParts<S> for MaybeCaller
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Ok(MaybeCaller(credentials(parts, &AppState::from_ref(state)).await?))
    }
}

/// Page authentication: the session cookie, or a redirect to the sign-in page.
pub struct SignedIn(pub Caller);

/// Sends the browser to the sign-in page, remembering where it was going.
pub struct ToSignIn {
    next: String,
    expired: bool,
}

impl IntoResponse for ToSignIn {
    fn into_response(self) -> Response {
        let next: String = serde_html_form::to_string([("next", self.next.as_str())]).unwrap_or_default();
        let expired = if self.expired { "&expired=1" } else { "" };
        Redirect::to(&format!("/login?{next}{expired}")).into_response()
    }
}

impl<S> FromRequestParts<S> for SignedIn
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let state = AppState::from_ref(state);
        let jar = CookieJar::from_headers(&parts.headers);
        let next = if parts.method == Method::GET {
            parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string()
        } else {
            "/".to_string()
        };
        match session_caller(&state, &jar).await {
            Ok(Some(caller)) => Ok(SignedIn(caller)),
            Ok(None) => Err(ToSignIn { next, expired: jar.get(SESSION_COOKIE).is_some() }.into_response()),
            Err(e) => Err(crate::pages::PageError(e).into_response()),
        }
    }
}

/// The session cookie: HTTP-only, same-site, secure when served over HTTPS.
pub fn session_cookie(value: String, secure: bool, max_age: cookie::time::Duration) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(max_age)
        .build()
}
