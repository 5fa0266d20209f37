//! Forms: the list with the XLSForm upload, and each form's page (versions, downloads,
//! settings). Publishing goes through [`ops::publish`]; a refused file comes back with every
//! problem located by sheet, row and column, which is what an IM officer needs to fix it.

use std::collections::HashSet;

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::collection::{FormRecord, FormSettings};
use rumbo_store::model::{Country, ListFilter};
use serde::Deserialize;

use super::{Choice, Chrome, FormField, PageError, PageResult, Posted, country_choices, render, see_other};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::collect::api::read_upload;
use crate::collect::ops::{self, require_form};
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::i18n::Lang;

pub fn router() -> Router<AppState> {
    let limit = DefaultBodyLimit::max(ops::MAX_XLSFORM + 64 * 1024);
    Router::new()
        .route("/forms", get(list).post(upload).layer(limit))
        .route("/forms/{id}", get(show))
        .route("/forms/{id}/versions", post(upload_version).layer(limit))
        .route("/forms/{id}/settings", post(update_settings))
}

/// A date and time as the pages show them (UTC).
pub(crate) fn when(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// One problem of a refused XLSForm, split into where it is and what it is.
pub struct Problem {
    pub sheet: String,
    pub row: String,
    pub column: String,
    pub message: String,
}

impl Problem {
    /// Splits an error's field (`survey row 12 column constraint`) into its parts.
    fn from_field_error(e: &FieldError) -> Self {
        let field = e.field.as_str();
        let (before_column, column) = match field.rfind(" column ") {
            Some(at) => (&field[..at], field[at + " column ".len()..].to_string()),
            None => (field, String::new()),
        };
        let (sheet, row) = match before_column.rfind(" row ") {
            Some(at) => (&before_column[..at], before_column[at + " row ".len()..].to_string()),
            None => (before_column, String::new()),
        };
        Problem { sheet: sheet.to_string(), row, column, message: e.message.clone() }
    }
}

/// The upload box: on the list (a new form or a new version) and on a form's page.
pub struct UploadBox {
    pub action: String,
    /// The countries a new form may be attached to (empty on a form's page).
    pub countries: Vec<Choice>,
    pub problems: Vec<Problem>,
    pub message: Option<String>,
}

impl UploadBox {
    /// Puts a failed upload's errors in the box; errors of the whole page stay errors.
    fn failed(&mut self, error: ApiError) -> Result<axum::http::StatusCode, PageError> {
        let status = error.status_code();
        match error {
            ApiError::Invalid(errors) | ApiError::InvalidSubmission(errors) => {
                self.problems = errors.iter().map(Problem::from_field_error).collect();
            }
            ApiError::Conflict { message, .. } | ApiError::BadRequest(message) | ApiError::TooLarge(message) => {
                self.message = Some(message);
            }
            other => return Err(PageError(other)),
        }
        Ok(status)
    }
}

/// A form in the list.
pub struct FormLine {
    pub id: i64,
    pub title: String,
    pub xml_form_id: String,
    pub version: String,
    pub countries: String,
    pub open: bool,
    pub public: bool,
    pub submissions: i64,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "forms.html")]
struct FormsPage {
    c: Chrome,
    forms: Vec<FormLine>,
    upload: Option<UploadBox>,
}

/// The countries in which the caller may publish forms (empty when none).
async fn publishing_countries(state: &AppState, caller: &Caller) -> Result<Vec<Country>, ApiError> {
    let mut countries = crate::ops::countries(&state.store, caller).await?;
    countries.retain(|c| caller.allows(Permission::ManageForms, Some(&c.code)));
    Ok(countries)
}

async fn forms_page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    uri: &Uri,
    chosen: &[String],
) -> Result<FormsPage, PageError> {
    let forms = ops::list_forms(state, caller).await?;
    let countries = publishing_countries(state, caller).await?;
    let upload = (!countries.is_empty()).then(|| UploadBox {
        action: "/forms".into(),
        // One country to choose from: it is chosen already.
        countries: multi_choices(
            country_choices(&countries, lang, if countries.len() == 1 { &countries[0].code } else { "" }, false),
            chosen,
        ),
        problems: Vec::new(),
        message: None,
    });
    let forms = forms
        .into_iter()
        .map(|f| FormLine {
            id: f.id,
            version: f.version.clone().unwrap_or_default(),
            countries: f.countries.join(", "),
            open: f.open,
            public: f.public,
            submissions: f.submissions,
            updated: when(&f.updated_at),
            title: f.title,
            xml_form_id: f.xml_form_id,
        })
        .collect();
    Ok(FormsPage { c: Chrome::new(lang, Some(caller), uri, "nav.forms"), forms, upload })
}

/// Marks every choice whose value is in `chosen`.
fn multi_choices(mut choices: Vec<Choice>, chosen: &[String]) -> Vec<Choice> {
    for c in &mut choices {
        c.selected = chosen.contains(&c.value) || (chosen.is_empty() && c.selected);
    }
    choices
}

async fn list(State(state): State<AppState>, SignedIn(caller): SignedIn, lang: Lang, uri: Uri) -> PageResult {
    Ok(render(&forms_page(&state, &caller, lang, &uri, &[]).await?))
}

/// Reads the upload, checks the page's CSRF token and publishes. With `expected` (the
/// form's page), a file of another form is refused rather than published as that form.
async fn publish_upload(
    state: &AppState,
    caller: &Caller,
    multipart: Result<Multipart, MultipartRejection>,
    expected: Option<&str>,
) -> (Vec<String>, Result<ops::Published, ApiError>) {
    let upload = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(e) => return (Vec::new(), Err(e)),
    };
    if let Err(e) = caller.check_csrf(upload.csrf.as_deref()) {
        return (upload.countries, Err(e));
    }
    if let Some(expected) = expected {
        let (bytes, name) = (upload.bytes.clone(), upload.file_name.clone());
        let read = tokio::task::spawn_blocking(move || rumbo_xlsform::read_form(&bytes, Some(&name))).await;
        // A file that does not read is left to `publish`, which lists its problems.
        if let Ok(Ok(form)) = read
            && form.id != expected
        {
            let message = format!(
                "this file is the form `{}`, not `{expected}`: publish it from the forms list, or fix form_id in its settings sheet",
                form.id
            );
            return (upload.countries, Err(ApiError::Conflict { field: Some("file".into()), message }));
        }
    }
    let countries = upload.countries.clone();
    (countries, ops::publish(state, caller, &upload.file_name, upload.bytes, upload.countries).await)
}

/// `POST /forms`: a new form, or a new version of the form with the same `form_id`.
async fn upload(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let (countries, result) = publish_upload(&state, &caller, multipart, None).await;
    match result {
        Ok(published) => Ok(see_other(&format!("/forms/{}?notice=published", published.form.id))),
        Err(e) => {
            let mut page = forms_page(&state, &caller, lang, &uri, &countries).await?;
            let status = match page.upload.as_mut() {
                Some(upload) => upload.failed(e)?,
                None => return Err(PageError(e)),
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

/// A version in the form's page.
pub struct VersionLine {
    pub id: i64,
    pub version: String,
    pub file_name: String,
    pub created_by: String,
    pub created_at: String,
    pub changes: String,
    pub current: bool,
}

/// The settings form of a form's page.
pub struct SettingsBox {
    pub fields: Vec<FormField>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "forms_show.html")]
struct FormShowPage {
    c: Chrome,
    form: FormRecord,
    countries: String,
    versions: Vec<VersionLine>,
    can_view_submissions: bool,
    can_review: bool,
    upload: Option<UploadBox>,
    settings: Option<SettingsBox>,
}

/// The settings as typed in the form.
#[derive(Debug, Default, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    open: Option<String>,
    #[serde(default)]
    public: Option<String>,
    #[serde(default)]
    accept_with_errors: Option<String>,
    #[serde(default)]
    countries: Vec<String>,
    #[serde(default)]
    site_ids: Vec<String>,
    #[serde(default)]
    round_ids: Vec<String>,
}

impl SettingsForm {
    fn from_form(f: &FormRecord) -> Self {
        SettingsForm {
            title: f.title.clone(),
            open: f.open.then(|| "true".into()),
            public: f.public.then(|| "true".into()),
            accept_with_errors: f.accept_with_errors.then(|| "true".into()),
            countries: f.countries.clone(),
            site_ids: f.site_ids.iter().map(ToString::to_string).collect(),
            round_ids: f.round_ids.iter().map(ToString::to_string).collect(),
        }
    }

    fn settings(&self) -> Result<FormSettings, ApiError> {
        let mut errors = Vec::new();
        let mut ids = |values: &[String], field: &str| -> Vec<i64> {
            values
                .iter()
                .filter(|v| !v.trim().is_empty())
                .filter_map(|v| {
                    v.trim()
                        .parse()
                        .map_err(|_| errors.push(FieldError::new(field, format!("'{v}' is not an id"))))
                        .ok()
                })
                .collect()
        };
        let site_ids = ids(&self.site_ids, "site_ids");
        let round_ids = ids(&self.round_ids, "round_ids");
        if self.title.trim().is_empty() {
            errors.push(FieldError::new("title", "is required"));
        }
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        Ok(FormSettings {
            title: Some(self.title.trim().to_string()),
            open: Some(self.open.is_some()),
            public: Some(self.public.is_some()),
            accept_with_errors: Some(self.accept_with_errors.is_some()),
            countries: Some(self.countries.clone()),
            site_ids: Some(site_ids),
            round_ids: Some(round_ids),
        })
    }

    async fn fields(
        &self,
        state: &AppState,
        caller: &Caller,
        form: &FormRecord,
        lang: Lang,
    ) -> Result<Vec<FormField>, ApiError> {
        let mut countries = publishing_countries(state, caller).await?;
        countries.retain(|c| caller.allows(Permission::ManageForms, Some(&c.code)));
        let scope = Some(form.countries.clone());
        let sites = state
            .store
            .list_sites(&ListFilter { limit: Some(100_000), scope: scope.clone(), ..Default::default() })
            .await?;
        let rounds = state.store.list_rounds(&ListFilter { limit: Some(100_000), scope, ..Default::default() }).await?;
        let chosen = |values: &[String]| values.iter().map(|v| v.trim().to_string()).collect::<HashSet<_>>();
        let (site_set, round_set) = (chosen(&self.site_ids), chosen(&self.round_ids));
        let site_choices = sites
            .items
            .iter()
            .map(|s| Choice {
                value: s.id.to_string(),
                label: format!("{} — {} ({})", s.code, s.name, s.country_code),
                selected: site_set.contains(&s.id.to_string()),
            })
            .collect();
        let round_choices = rounds
            .items
            .iter()
            .map(|r| Choice {
                value: r.id.to_string(),
                label: format!("{} ({}, {} – {})", r.name, r.country_code, r.starts_on, r.ends_on),
                selected: round_set.contains(&r.id.to_string()),
            })
            .collect();
        let chosen_countries: Vec<String> = self.countries.iter().map(|c| c.trim().to_uppercase()).collect();
        Ok(vec![
            FormField::input("text", "title", lang.t("form.title"), &self.title).required(),
            FormField::checkbox("open", lang.t("form.is_open"), self.open.is_some()),
            FormField::checkbox("public", lang.t("form.is_public"), self.public.is_some()),
            FormField::checkbox("accept_with_errors", lang.t("form.accept_errors"), self.accept_with_errors.is_some()),
            FormField::multiselect(
                "countries",
                lang.t("form.countries"),
                multi_choices(country_choices(&countries, lang, "", false), &chosen_countries),
            )
            .required(),
            FormField::multiselect("site_ids", lang.t("form.sites"), site_choices).help(lang.t("form.sites_help")),
            FormField::multiselect("round_ids", lang.t("form.rounds"), round_choices).help(lang.t("form.rounds_help")),
        ])
    }
}

async fn form_page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    uri: &Uri,
    id: i64,
    typed: Option<&SettingsForm>,
) -> Result<FormShowPage, PageError> {
    let form = ops::form(state, caller, id).await?;
    let versions = state.store.form_versions(form.id).await?;
    let can_manage = require_form(caller, &form, Permission::ManageForms).is_ok();
    let settings = if can_manage {
        let from_form = SettingsForm::from_form(&form);
        let typed = typed.unwrap_or(&from_form);
        Some(SettingsBox { fields: typed.fields(state, caller, &form, lang).await?, errors: Vec::new() })
    } else {
        None
    };
    let upload = can_manage.then(|| UploadBox {
        action: format!("/forms/{}/versions", form.id),
        countries: Vec::new(),
        problems: Vec::new(),
        message: None,
    });
    let versions = versions
        .into_iter()
        .map(|v| VersionLine {
            current: Some(v.id) == form.current_version_id,
            id: v.id,
            version: v.version,
            file_name: v.file_name,
            created_by: v.created_by,
            created_at: when(&v.created_at),
            changes: v.changes,
        })
        .collect();
    let mut c = Chrome::new(lang, Some(caller), uri, "nav.forms");
    c.title.clone_from(&form.title);
    if let Some("published") = uri.query().and_then(|q| q.split('&').find_map(|p| p.strip_prefix("notice="))) {
        c.notice = Some(lang.t("form.published"));
    }
    Ok(FormShowPage {
        c,
        countries: form.countries.join(", "),
        can_view_submissions: require_form(caller, &form, Permission::ViewSubmissions).is_ok(),
        can_review: require_form(caller, &form, Permission::ReviewSubmissions).is_ok(),
        form,
        versions,
        upload,
        settings,
    })
}

async fn show(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    Ok(render(&form_page(&state, &caller, lang, &uri, id, None).await?))
}

/// `POST /forms/{id}/versions`: the upload of the form's page; a refused file is shown on
/// the form's page.
async fn upload_version(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let form = ops::form(&state, &caller, id).await?;
    let (_, result) = publish_upload(&state, &caller, multipart, Some(&form.xml_form_id)).await;
    match result {
        Ok(published) => Ok(see_other(&format!("/forms/{}?notice=published", published.form.id))),
        Err(e) => {
            let mut page = form_page(&state, &caller, lang, &uri, id, None).await?;
            let status = match page.upload.as_mut() {
                Some(upload) => upload.failed(e)?,
                None => return Err(PageError(e)),
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

async fn update_settings(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<SettingsForm>,
) -> PageResult {
    let result = match form.settings() {
        Ok(settings) => ops::update_form(&state, &caller, id, settings).await,
        Err(e) => Err(e),
    };
    let error = match result {
        Ok(saved) => return Ok(see_other(&format!("/forms/{}?notice=saved", saved.id))),
        Err(e) => e,
    };
    let mut page = form_page(&state, &caller, lang, &uri, id, Some(&form)).await?;
    let status = error.status_code();
    let Some(settings) = page.settings.as_mut() else { return Err(PageError(error)) };
    match error {
        ApiError::Invalid(errors) => {
            for e in errors {
                match settings.fields.iter_mut().find(|f| f.name == e.field) {
                    Some(f) => {
                        settings.errors.push(format!("{}: {}", f.label, e.message));
                        f.error = Some(e.message);
                    }
                    None => settings.errors.push(format!("{}: {}", e.field, e.message)),
                }
            }
        }
        ApiError::Conflict { message, .. } | ApiError::BadRequest(message) => settings.errors.push(message),
        other => return Err(PageError(other)),
    }
    Ok((status, render(&page)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_split_by_sheet_row_and_column() {
        let p = Problem::from_field_error(&FieldError::new("survey row 12 column constraint", "bad"));
        assert_eq!((p.sheet.as_str(), p.row.as_str(), p.column.as_str()), ("survey", "12", "constraint"));
        let p = Problem::from_field_error(&FieldError::new("choices row 3", "dup"));
        assert_eq!((p.sheet.as_str(), p.row.as_str(), p.column.as_str()), ("choices", "3", ""));
        let p = Problem::from_field_error(&FieldError::new("file", "is empty"));
        assert_eq!((p.sheet.as_str(), p.row.as_str()), ("file", ""));
    }
}
