//! Server-rendered pages. Every page is built from the same pieces: the [`Chrome`]
//! (navigation, language picker, signed-in user), a filterable [`ListPage`] that downloads
//! as CSV, and a [`FormPage`] that shows each field's error next to it.

mod areas;
mod audit;
mod countries;
mod forms;
mod home;
pub mod map;
mod organisations;
mod rounds;
mod session;
mod sites;
mod submissions;
mod tokens;
mod users;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::model::Country;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(home::router())
        .merge(countries::router())
        .merge(areas::router())
        .merge(sites::router())
        .merge(rounds::router())
        .merge(organisations::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(audit::router())
        .merge(map::router())
        .merge(forms::router())
        .merge(submissions::router())
        .merge(crate::analytics::dashboard::router())
        .merge(crate::analytics::indicators::router())
        .route("/undo/{line}", axum::routing::post(undo))
        .route(
            "/static/app.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
                    include_str!("../../assets/app.css"),
                )
            }),
        )
        .route(
            "/static/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
                    include_str!("../../assets/app.js"),
                )
            }),
        )
        .route(
            "/assets/import.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
                    include_str!("../../assets/import.js"),
                )
            }),
        )
}

/// One entry of the main navigation.
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
    pub enabled: bool,
}

/// One entry of the language picker.
pub struct LangLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

/// What surrounds every page.
pub struct Chrome {
    pub lang: Lang,
    pub title: String,
    pub signed_in: bool,
    pub user_name: String,
    pub user_role: &'static str,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub langs: Vec<LangLink>,
    pub notice: Option<&'static str>,
    /// The audit line of a deletion that the notice offers to undo.
    pub undo: Option<i64>,
}

impl Chrome {
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    /// The chrome of a page seen by `caller` (or by nobody, on the sign-in page).
    pub fn new(lang: Lang, caller: Option<&Caller>, uri: &Uri, title_key: &str) -> Self {
        let path = uri.path();
        let back = uri.path_and_query().map_or("/", |p| p.as_str());
        let langs = Lang::ALL
            .iter()
            .map(|l| LangLink {
                code: l.code(),
                name: l.native_name(),
                href: format!(
                    "/lang?{}",
                    serde_html_form::to_string([("to", l.code()), ("back", back)]).unwrap_or_default()
                ),
                current: *l == lang,
            })
            .collect();
        let mut nav = Vec::new();
        if let Some(caller) = caller {
            let items: [(&str, &'static str, Option<Permission>); 10] = [
                ("nav.home", "/", None),
                ("nav.countries", "/countries", None),
                ("nav.admin_areas", "/admin-areas", None),
                ("nav.sites", "/sites", None),
                ("nav.rounds", "/rounds", None),
                ("nav.map", "/map", None),
                ("nav.organisations", "/organisations", None),
                ("svc.nav", "/services", None),
                ("nav.users", "/users", Some(Permission::ManageUsers)),
                ("nav.audit", "/audit", Some(Permission::ViewAudit)),
            ];
            for (key, href, permission) in items {
                if permission.is_none_or(|p| caller.allows(p, None)) {
                    let active = if href == "/" { path == "/" } else { path.starts_with(href) };
                    nav.push(NavItem { label: lang.t(key), href, active, enabled: true });
                }
            }
            if caller.allows(Permission::ViewAnalytics, None) {
                let active = ["/dashboard", "/indicators"].iter().any(|p| path.starts_with(p));
                nav.insert(1, NavItem { label: lang.t("nav.dashboard"), href: "/dashboard", active, enabled: true });
                let active = path.starts_with("/reports");
                nav.insert(2, NavItem { label: lang.t("report.nav"), href: "/reports", active, enabled: true });
            }
            let collects = [Permission::Submit, Permission::ViewSubmissions, Permission::ManageForms];
            if collects.iter().any(|p| caller.allows(*p, None)) {
                let active = ["/forms", "/submissions"].iter().any(|p| path.starts_with(p));
                nav.push(NavItem { label: lang.t("nav.forms"), href: "/forms", active, enabled: true });
            }
            if caller.allows(Permission::ViewSubmissions, None) {
                let active = path.starts_with("/exports");
                nav.push(NavItem { label: lang.t("exports.title"), href: "/exports", active, enabled: true });
            }
            if caller.allows(Permission::Submit, None) {
                let active = path.starts_with("/collect");
                nav.push(NavItem { label: lang.t("nav.collect"), href: "/collect", active, enabled: true });
            }
            if caller.allows(Permission::ViewFeedback, None) {
                let active = path.starts_with("/cfm");
                nav.push(NavItem { label: lang.t("cfm.nav"), href: "/cfm", active, enabled: true });
            }
            nav.push(NavItem {
                label: lang.t("nav.tokens"),
                href: "/tokens",
                active: path.starts_with("/tokens"),
                enabled: true,
            });
            let protects = [Permission::HandleAlerts, Permission::HandleCases, Permission::ManageFlagRules];
            if protects.iter().any(|p| caller.allows(*p, None)) {
                let active = path.starts_with("/protection");
                nav.push(NavItem { label: lang.t("nav.protection"), href: "/protection", active, enabled: true });
            }
            nav.push(NavItem {
                label: lang.t("nav.response"),
                href: "/response",
                active: path.starts_with("/response"),
                enabled: true,
            });
        }
        let query: NoticeQuery = uri.query().and_then(|q| serde_html_form::from_str(q).ok()).unwrap_or_default();
        let notice = match query.notice.as_deref() {
            Some("saved") => Some(lang.t("common.saved")),
            Some("deleted") => Some(lang.t("common.deleted")),
            Some("imported") => Some(lang.t("common.imported")),
            Some("restored") => Some(lang.t("common.restored")),
            _ => None,
        };
        let undo = query.undo.filter(|_| caller.is_some() && notice.is_some());
        Chrome {
            lang,
            title: lang.t(title_key).to_string(),
            signed_in: caller.is_some(),
            user_name: caller.map(|c| c.user.display_name.clone()).unwrap_or_default(),
            user_role: caller.map_or("", |c| lang.t(&format!("role.{}", c.user.role))),
            csrf: caller.and_then(|c| c.csrf.clone()).unwrap_or_default(),
            nav,
            langs,
            notice,
            undo,
        }
    }
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    notice: Option<String>,
    undo: Option<i64>,
}

/// Renders a template, or a plain 500 if rendering fails.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// An error on a page. It travels as a response extension and is drawn, in the reader's
/// language, by [`render_page_errors`].
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<rumbo_store::StoreError> for PageError {
    fn from(e: rumbo_store::StoreError) -> Self {
        PageError(e.into())
    }
}

#[derive(Clone)]
struct PageErrorInfo {
    heading_key: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error on a page");
        }
        let heading_key = match self.0.status_code() {
            StatusCode::FORBIDDEN => "error.forbidden",
            StatusCode::NOT_FOUND => "error.not_found",
            _ => "common.error",
        };
        let message = match &self.0 {
            ApiError::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        let mut response = self.0.status_code().into_response();
        response.extensions_mut().insert(PageErrorInfo { heading_key, message });
        response
    }
}

pub type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    heading: &'static str,
    message: String,
}

/// Draws [`PageError`]s as pages in the reader's language, with the navigation of the
/// signed-in user when there is one.
pub async fn render_page_errors(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let lang = Lang::from_headers(request.headers());
    let uri = request.uri().clone();
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let Some(info) = response.extensions().get::<PageErrorInfo>().cloned() else { return response };
    let status = response.status();
    let caller = crate::auth::session_caller(&state, &axum_extra::extract::CookieJar::from_headers(&headers))
        .await
        .ok()
        .flatten();
    let c = Chrome::new(lang, caller.as_ref(), &uri, info.heading_key);
    let page = ErrorPage { heading: lang.t(info.heading_key), message: info.message, c };
    (status, render(&page)).into_response()
}

/// A choice in a select.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Self {
        let value = value.into();
        let selected = value == current;
        Choice { value, label: label.into(), selected }
    }
}

/// The countries the caller may see, as choices; with `any`, a first "all" choice.
pub fn country_choices(countries: &[Country], lang: Lang, current: &str, any: bool) -> Vec<Choice> {
    let mut choices = Vec::new();
    if any {
        choices.push(Choice::new("", lang.t("common.all"), current));
    }
    for c in countries {
        let name = match lang {
            Lang::Es => &c.name_es,
            Lang::Pt => &c.name_pt,
            Lang::En => &c.name_en,
        };
        choices.push(Choice::new(c.code.clone(), format!("{name} ({})", c.code), current));
    }
    choices
}

/// Choices from a code list, labelled through `prefix.code` translations.
pub fn code_choices<T: Copy + std::fmt::Display>(
    all: &[T],
    lang: Lang,
    prefix: &str,
    current: &str,
    any: bool,
) -> Vec<Choice> {
    let mut choices = Vec::new();
    if any {
        choices.push(Choice::new("", lang.t("common.all"), current));
    }
    for v in all {
        choices.push(Choice::new(v.to_string(), lang.t(&format!("{prefix}.{v}")), current));
    }
    choices
}

/// A filter above a list.
pub struct FilterField {
    pub name: &'static str,
    pub label: &'static str,
    /// `select` or an input type.
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
}

impl FilterField {
    /// The country filter: the caller's countries, the query's one chosen.
    pub fn country(lang: Lang, countries: &[Country], query: &ListQuery) -> Self {
        let current = query.country.clone().unwrap_or_default().to_uppercase();
        Self::select("country", lang.t("common.country"), country_choices(countries, lang, &current, true))
    }

    pub fn text(name: &'static str, label: &'static str, value: Option<&str>) -> Self {
        FilterField { name, label, kind: "search", value: value.unwrap_or_default().to_string(), options: Vec::new() }
    }

    pub fn select(name: &'static str, label: &'static str, options: Vec<Choice>) -> Self {
        FilterField { name, label, kind: "select", value: String::new(), options }
    }
}

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Cell { text: text.into(), href: None }
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Self {
        Cell { text: text.into(), href: Some(href.into()) }
    }
}

pub struct Row {
    pub cells: Vec<Cell>,
    pub edit: Option<String>,
}

/// The countries in which the caller may do `permission`; a 403 when there are none.
pub async fn countries_allowing(
    state: &AppState,
    caller: &Caller,
    permission: Permission,
) -> Result<Vec<Country>, ApiError> {
    let mut countries = crate::ops::countries(&state.store, caller).await?;
    countries.retain(|c| caller.allows(permission, Some(&c.code)));
    if countries.is_empty() {
        // A role without the permission is told so by the matrix; otherwise no country fits.
        caller.require(permission, None)?;
        return Err(ApiError::Forbidden("none of your countries allows this".into()));
    }
    Ok(countries)
}

/// Saves what a form says: on success, a redirect to `done(saved)`; on failure, the form
/// again with the errors next to their fields.
pub async fn save_or_show<I, T, Fut>(
    input: Result<I, ApiError>,
    save: impl FnOnce(I) -> Fut,
    done: impl FnOnce(&T) -> String,
    form: FormPage,
) -> PageResult
where
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let result = match input {
        Ok(input) => save(input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(saved) => Ok(see_other(&done(&saved))),
        Err(e) => form.failed(e),
    }
}

/// A filterable, paged list that also downloads as CSV (`?format=csv`).
#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage {
    pub c: Chrome,
    pub base_url: &'static str,
    pub filters: Vec<FilterField>,
    pub actions: Vec<(&'static str, String)>,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Row>,
    pub total: i64,
    pub editable: bool,
    pub csv_url: Option<String>,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

/// The query of a list page: filters, paging and format.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub country: Option<String>,
    pub q: Option<String>,
    pub level: Option<String>,
    pub kind: Option<String>,
    pub offset: Option<i64>,
    pub format: Option<String>,
}

pub const PAGE_SIZE: i64 = 100;

impl ListQuery {
    /// The "New" button of a list, keeping the chosen country for the new record.
    pub fn new_action(&self, lang: Lang, base_url: &str) -> (&'static str, String) {
        (lang.t("common.new"), format!("{base_url}/new?country={}", self.country.clone().unwrap_or_default()))
    }

    pub fn filter(&self) -> rumbo_store::model::ListFilter {
        let csv = self.is_csv();
        rumbo_store::model::ListFilter {
            country: self.country.clone().filter(|c| !c.trim().is_empty()),
            q: self.q.clone(),
            level: self.level.as_deref().and_then(|l| l.trim().parse().ok()),
            kind: self.kind.clone().filter(|k| !k.trim().is_empty()),
            // A download holds everything that matches, not one screen of it.
            limit: Some(if csv { 100_000 } else { PAGE_SIZE }),
            offset: if csv { None } else { self.offset },
            scope: None,
        }
    }

    pub fn is_csv(&self) -> bool {
        self.format.as_deref() == Some("csv")
    }

    fn with(&self, offset: Option<i64>, format: Option<&str>) -> String {
        let pairs: Vec<(&str, String)> = [
            ("country", self.country.clone()),
            ("q", self.q.clone()),
            ("level", self.level.clone()),
            ("kind", self.kind.clone()),
            ("offset", offset.filter(|o| *o > 0).map(|o| o.to_string())),
            ("format", format.map(str::to_string)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
        serde_html_form::to_string(pairs).unwrap_or_default()
    }
}

impl ListPage {
    /// A list with rows that may be edited, no actions yet, and pager and CSV links to fill.
    pub fn new(
        c: Chrome,
        base_url: &'static str,
        filters: Vec<FilterField>,
        columns: Vec<&'static str>,
        rows: Vec<Row>,
        total: i64,
    ) -> Self {
        ListPage {
            c,
            base_url,
            filters,
            actions: Vec::new(),
            columns,
            rows,
            total,
            editable: true,
            csv_url: None,
            prev_url: None,
            next_url: None,
        }
    }

    /// Fills the CSV link and the pager from the query and the total.
    pub fn paged(mut self, query: &ListQuery) -> Self {
        let offset = query.offset.unwrap_or(0).max(0);
        self.csv_url = Some(format!("{}?{}", self.base_url, query.with(None, Some("csv"))));
        if offset > 0 {
            self.prev_url = Some(format!("{}?{}", self.base_url, query.with(Some((offset - PAGE_SIZE).max(0)), None)));
        }
        if offset + (self.rows.len() as i64) < self.total {
            self.next_url = Some(format!("{}?{}", self.base_url, query.with(Some(offset + PAGE_SIZE), None)));
        }
        self
    }

    /// The page, or its rows as CSV when the query asks for it. A download is an export:
    /// it is written to the audit log with its filters and size.
    pub async fn respond(self, state: &AppState, caller: &Caller, query: &ListQuery, entity: &str) -> PageResult {
        if !query.is_csv() {
            return Ok(render(&self.paged(query)));
        }
        state
            .store
            .record(rumbo_store::AuditEvent {
                actor: &caller.actor(),
                action: "export",
                entity,
                entity_id: "csv".into(),
                country_code: query.country.as_deref().filter(|c| !c.is_empty()),
                detail: serde_json::json!({ "rows": self.rows.len(), "filters": query.with(None, None) }),
            })
            .await?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let _ = out.write_record(&self.columns);
        for row in &self.rows {
            let _ = out.write_record(row.cells.iter().map(|c| spreadsheet_safe(&c.text).into_owned()));
        }
        let body = out.into_inner().unwrap_or_default();
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{entity}.csv\"")),
            ],
            body,
        )
            .into_response())
    }
}

/// A cell that a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'`, unless it is a plain number (a
/// negative longitude must stay a number).
pub fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && text.parse::<f64>().is_err() { format!("'{text}").into() } else { text.into() }
}

/// One field of a record form.
pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    /// An input type, or `select`, `multiselect`, `textarea`, `checkbox`.
    pub kind: &'static str,
    pub value: String,
    pub checked: bool,
    pub options: Vec<Choice>,
    pub required: bool,
    pub help: Option<&'static str>,
    pub error: Option<String>,
}

impl FormField {
    pub fn input(kind: &'static str, name: &'static str, label: &'static str, value: impl Into<String>) -> Self {
        FormField {
            name,
            label,
            kind,
            value: value.into(),
            checked: false,
            options: Vec::new(),
            required: false,
            help: None,
            error: None,
        }
    }

    pub fn select(name: &'static str, label: &'static str, options: Vec<Choice>) -> Self {
        FormField { options, ..Self::input("select", name, label, "") }
    }

    pub fn multiselect(name: &'static str, label: &'static str, options: Vec<Choice>) -> Self {
        FormField { options, ..Self::input("multiselect", name, label, "") }
    }

    pub fn checkbox(name: &'static str, label: &'static str, checked: bool) -> Self {
        FormField { checked, ..Self::input("checkbox", name, label, "") }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn help(mut self, help: &'static str) -> Self {
        self.help = Some(help);
        self
    }
}

/// A record form. Errors from the server are put next to their fields.
#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub c: Chrome,
    pub action: String,
    pub fields: Vec<FormField>,
    pub errors: Vec<String>,
    pub cancel_url: String,
    pub delete_url: Option<String>,
    pub multipart: bool,
}

impl FormPage {
    pub fn new(c: Chrome, action: impl Into<String>, fields: Vec<FormField>, cancel_url: impl Into<String>) -> Self {
        FormPage {
            c,
            action: action.into(),
            fields,
            errors: Vec::new(),
            cancel_url: cancel_url.into(),
            delete_url: None,
            multipart: false,
        }
    }

    /// Shows a failed save: field errors next to their fields, the rest above the form.
    /// Forbidden and not-found stay errors of the whole page.
    pub fn failed(mut self, error: ApiError) -> PageResult {
        let status = error.status_code();
        match error {
            ApiError::Invalid(field_errors) => self.attach(&field_errors),
            ApiError::Conflict { field: Some(field), message } => self.attach(&[FieldError::new(field, message)]),
            ApiError::Conflict { field: None, message } | ApiError::BadRequest(message) => self.errors.push(message),
            other => return Err(PageError(other)),
        }
        Ok((status, render(&self)).into_response())
    }

    fn attach(&mut self, errors: &[FieldError]) {
        for e in errors {
            match self.fields.iter_mut().find(|f| f.name == e.field) {
                Some(f) => {
                    f.error = Some(e.message.clone());
                    self.errors.push(format!("{}: {}", f.label, e.message));
                }
                None => self.errors.push(format!("{}: {}", e.field, e.message)),
            }
        }
    }
}

/// A form post from a signed-in user whose CSRF token has been checked.
pub struct Posted<T> {
    pub caller: Caller,
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: Option<String>,
}

impl<S, T> FromRequest<S> for Posted<T>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let SignedIn(caller) = SignedIn::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(request, state).await.map_err(IntoResponse::into_response)?;
        let csrf: CsrfField = serde_html_form::from_bytes(&bytes).unwrap_or(CsrfField { csrf: None });
        caller.check_csrf(csrf.csrf.as_deref()).map_err(|e| PageError(e).into_response())?;
        let form = serde_html_form::from_bytes(&bytes)
            .map_err(|e| PageError(ApiError::BadRequest(format!("the form could not be read: {e}"))).into_response())?;
        Ok(Posted { caller, form })
    }
}

/// Parses a number typed into a form, naming the field when it is not one.
pub fn parse_number<T: std::str::FromStr>(value: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    if let Ok(v) = value.trim().replace(',', ".").parse() {
        Some(v)
    } else {
        errors.push(FieldError::new(
            field,
            if value.trim().is_empty() { "is required".to_string() } else { format!("'{value}' is not a number") },
        ));
        None
    }
}

/// Parses a choice from a code list, naming the field when it is not one of them.
pub fn parse_code<T: std::str::FromStr<Err = String>>(
    value: &str,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    value.parse().map_err(|e: String| errors.push(FieldError::new(field, e))).ok()
}

pub fn see_other(url: &str) -> Response {
    Redirect::to(url).into_response()
}

/// The headers' language, for handlers that have the headers but not the extractor.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::from_headers(headers)
}

pub fn yes_no(lang: Lang, v: bool) -> &'static str {
    lang.t(if v { "common.yes" } else { "common.no" })
}

/// Undoes a deletion offered by a notice, then shows the list it came from.
async fn undo(
    axum::extract::State(state): axum::extract::State<AppState>,
    crate::extract::ApiPath(line): crate::extract::ApiPath<i64>,
    Posted { caller, .. }: Posted<Ignored>,
) -> PageResult {
    let restored = crate::ops::undo_delete(&state.store, &caller, line).await?;
    let list = match restored.entity.as_str() {
        "site" => "/sites",
        "round" => "/rounds",
        _ => "/admin-areas",
    };
    Ok(see_other(&format!("{list}?country={}&notice=restored", restored.country_code)))
}

/// The query of a "new record" page: the country to start with.
#[derive(Deserialize)]
pub struct NewQuery {
    pub country: Option<String>,
}

/// A form whose only field is the CSRF token (delete buttons, sign-out).
#[derive(Deserialize)]
pub struct Ignored {}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn exported_cells_cannot_be_formulas() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("-72.4528"), "-72.4528");
        assert_eq!(spreadsheet_safe("Cúcuta"), "Cúcuta");
    }
}
