//! Collection: the forms in use and the path every submission takes, whatever door it came
//! through (OpenRosa, web form, captive portal, bulk import): find the form version, check
//! the answers with the form's [`Validator`], link the submission to its site and country,
//! check the submitter may submit there, and hand it to the group-commit writer
//! ([`ingest`]), which answers only once the transaction holding it has committed.

pub mod api;
pub mod demo;
pub mod import;
pub mod ingest;
pub mod ops;
pub mod record;
pub mod web;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use rumbo_domain::permissions::Permission;
use rumbo_store::Store;
use rumbo_store::collection::{Channel, FormRecord, Ingested, NewAttachment, NewSubmission};
use rumbo_store::model::User;
use rumbo_xlsform::{Form, Validated, Validator};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// A form version ready to check submissions: the form read from its XLSForm, and its
/// validator (both built once per version and shared).
pub struct Compiled {
    pub version_id: i64,
    pub version: String,
    pub form: Form,
    pub validator: Validator,
}

/// A form with the ids of its versions by version string.
#[derive(Clone)]
pub struct FormEntry {
    pub record: FormRecord,
    pub versions: HashMap<String, i64>,
}

/// Who sends a submission: a user, or nobody (public captive-portal forms).
#[derive(Debug, Clone)]
pub struct Submitter {
    pub user: Option<User>,
    pub name: String,
}

impl Submitter {
    pub fn user(caller: &Caller) -> Self {
        Self { user: Some(caller.user.clone()), name: caller.user.username.clone() }
    }

    pub fn anonymous() -> Self {
        Self { user: None, name: "anonymous".into() }
    }

    fn allows(&self, country: &str) -> bool {
        self.user.as_ref().is_some_and(|u| rumbo_domain::permissions::allows(u, Permission::Submit, Some(country)))
    }
}

/// What arrives with a submission besides its answers.
pub struct Envelope {
    pub channel: Channel,
    pub attachments: Vec<NewAttachment>,
    /// `false` for the parts of a split OpenRosa submission before the last.
    pub complete: bool,
}

/// The forms in use, their validators, and the writer.
pub struct Collection {
    store: Store,
    forms: RwLock<HashMap<String, Arc<FormEntry>>>,
    compiled: Mutex<HashMap<i64, Arc<Compiled>>>,
    /// Site code -> (id, country), read again every [`SITES_FOR`].
    sites: RwLock<Option<(Instant, Arc<SiteIndex>)>>,
    writer: ingest::Writer,
}

type SiteIndex = HashMap<String, (i64, String)>;

/// How long the site index is used before it is read again (sites change rarely; a new
/// point is known to the collection within this time).
const SITES_FOR: Duration = Duration::from_secs(30);

impl Collection {
    pub fn new(store: Store, analytics: Arc<crate::analytics::Analytics>) -> Self {
        let writer = ingest::Writer::start(store.clone(), analytics);
        Self { store, forms: RwLock::default(), compiled: Mutex::default(), sites: RwLock::default(), writer }
    }

    /// Forgets what is cached of the forms (after a version is published or a form changed).
    pub fn forget_forms(&self) {
        if let Ok(mut forms) = self.forms.write() {
            forms.clear();
        }
    }

    /// The id and country of a site code.
    async fn site(&self, code: &str) -> ApiResult<Option<(i64, String)>> {
        let cached = self.sites.read().ok().and_then(|s| s.clone()).filter(|(at, _)| at.elapsed() < SITES_FOR);
        let index = if let Some((_, index)) = cached {
            index
        } else {
            let index: Arc<SiteIndex> = Arc::new(
                self.store.site_index().await?.into_iter().map(|(code, id, country)| (code, (id, country))).collect(),
            );
            if let Ok(mut sites) = self.sites.write() {
                *sites = Some((Instant::now(), index.clone()));
            }
            index
        };
        Ok(index.get(code).cloned())
    }

    /// The form devices know as `xml_form_id`, with its versions.
    pub async fn entry(&self, xml_form_id: &str) -> ApiResult<Arc<FormEntry>> {
        if let Some(entry) = self.forms.read().ok().and_then(|f| f.get(xml_form_id).cloned()) {
            return Ok(entry);
        }
        let record = self
            .store
            .form_by_xml_id(xml_form_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("form {xml_form_id}")))?;
        let versions = self.store.form_versions(record.id).await?.into_iter().map(|v| (v.version, v.id)).collect();
        let entry = Arc::new(FormEntry { record, versions });
        if let Ok(mut forms) = self.forms.write() {
            forms.insert(xml_form_id.to_string(), entry.clone());
        }
        Ok(entry)
    }

    /// The checked form of one version, built on first use.
    pub async fn compiled(&self, version_id: i64) -> ApiResult<Arc<Compiled>> {
        if let Some(c) = self.compiled.lock().ok().and_then(|c| c.get(&version_id).cloned()) {
            return Ok(c);
        }
        let (version, xlsform, _) = self.store.form_version_files(version_id).await?;
        let file_name = version.file_name.clone();
        let compiled = tokio::task::spawn_blocking(move || {
            let form = rumbo_xlsform::read_form(&xlsform, Some(&file_name))
                .map_err(|e| ApiError::Internal(format!("stored form version {version_id} no longer reads: {e}")))?;
            let validator = Validator::new(&form);
            Ok::<_, ApiError>(Compiled { version_id, version: version.version, form, validator })
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
        let compiled = Arc::new(compiled);
        if let Ok(mut cache) = self.compiled.lock() {
            cache.insert(version_id, compiled.clone());
        }
        Ok(compiled)
    }

    /// The current version of a form, checked.
    pub async fn current(&self, record: &FormRecord) -> ApiResult<Arc<Compiled>> {
        let version_id = record
            .current_version_id
            .ok_or_else(|| ApiError::Conflict { field: None, message: "the form has no version yet".into() })?;
        self.compiled(version_id).await
    }

    /// Finds the form and version an XML submission answers, and checks it.
    pub async fn check_xml(&self, xml: &str) -> ApiResult<(Arc<FormEntry>, Arc<Compiled>, Validated)> {
        let (form_id, version) = record::root_form_id(xml).map_err(ApiError::BadRequest)?;
        let entry = self.entry(&form_id).await?;
        let version_id = *entry.versions.get(version.as_deref().unwrap_or_default()).ok_or_else(|| {
            ApiError::NotFound(format!(
                "version {} of form {form_id} (the device holds a version this server does not know: download the form again)",
                version.as_deref().unwrap_or("(none)")
            ))
        })?;
        let compiled = self.compiled(version_id).await?;
        let validated = compiled.validator.validate_xml(xml).map_err(|r| ApiError::BadRequest(r.message))?;
        Ok((entry, compiled, validated))
    }

    /// Checks answers sent as JSON against a form's current version (or the version named).
    pub async fn check_json(
        &self,
        entry: &FormEntry,
        version: Option<&str>,
        answers: &Value,
    ) -> ApiResult<(Arc<Compiled>, Validated, String)> {
        let version_id = match version {
            Some(v) => *entry.versions.get(v).ok_or_else(|| {
                ApiError::NotFound(format!(
                    "version {v} of form {} (reload the form to get its current version)",
                    entry.record.xml_form_id
                ))
            })?,
            None => entry
                .record
                .current_version_id
                .ok_or_else(|| ApiError::Conflict { field: None, message: "the form has no version yet".into() })?,
        };
        let compiled = self.compiled(version_id).await?;
        let validated = compiled.validator.validate_json(answers).map_err(|r| ApiError::BadRequest(r.message))?;
        let xml = record::to_xml(&compiled.form, &compiled.version, &validated);
        Ok((compiled, validated, xml))
    }

    /// Turns a checked submission into one to store: refuses what the form or the
    /// submitter does not allow, links it to its site and country.
    pub async fn prepare(
        &self,
        entry: &FormEntry,
        compiled: &Compiled,
        validated: Validated,
        xml: String,
        submitter: &Submitter,
        envelope: Envelope,
    ) -> ApiResult<NewSubmission> {
        let form = &entry.record;
        if !form.open {
            return Err(ApiError::Forbidden(format!(
                "form {} is closed: it no longer accepts submissions",
                form.xml_form_id
            )));
        }
        if submitter.user.is_none() && !form.public {
            return Err(ApiError::Unauthorized);
        }
        if let Some(user) = &submitter.user {
            let may =
                form.countries.iter().any(|c| rumbo_domain::permissions::allows(user, Permission::Submit, Some(c)));
            if !may {
                return Err(ApiError::Forbidden(format!(
                    "your account ({}) may not submit to form {}: it is not open to your countries or your role",
                    user.username, form.xml_form_id
                )));
            }
        }
        let Some(instance_id) = validated.instance_id.clone().filter(|i| !i.trim().is_empty()) else {
            return Err(ApiError::InvalidSubmission(vec![rumbo_store::FieldError::new(
                "meta/instanceID",
                "is missing: every submission needs its own id (uuid:…)",
            )]));
        };
        if instance_id.len() > 200 {
            return Err(ApiError::InvalidSubmission(vec![rumbo_store::FieldError::new(
                "meta/instanceID",
                "is longer than 200 characters",
            )]));
        }
        let errors: Vec<rumbo_store::FieldError> = validated
            .errors
            .iter()
            .map(|e| rumbo_store::FieldError::new(e.path.trim_start_matches('/'), e.message.clone()))
            .collect();
        if !errors.is_empty() && !form.accept_with_errors {
            return Err(ApiError::InvalidSubmission(errors));
        }
        // The site answer links the submission to its point, and so to its country.
        let (mut site_id, mut country) = (None, None);
        if let Some(code) = record::answer(&validated.record, "site").and_then(Value::as_str) {
            if let Some((id, c)) = self.site(code).await? {
                site_id = Some(id);
                country = Some(c);
            }
            // A form attached to some points takes submissions from those points only.
            if !form.site_ids.is_empty() && !site_id.is_some_and(|id| form.site_ids.contains(&id)) {
                return Err(ApiError::InvalidSubmission(vec![rumbo_store::FieldError::new(
                    "site",
                    format!("{code} is not one of the points this form is collected at"),
                )]));
            }
        }
        if country.is_none() {
            country = record::answer(&validated.record, "country")
                .and_then(Value::as_str)
                .map(str::to_uppercase)
                .filter(|c| form.countries.contains(c))
                .or_else(|| (form.countries.len() == 1).then(|| form.countries[0].clone()));
        }
        // Every submission belongs to one of the form's countries: that is who may read it.
        let Some(country) = country.filter(|c| form.countries.contains(c)) else {
            return Err(ApiError::InvalidSubmission(vec![rumbo_store::FieldError::new(
                "site",
                format!(
                    "the submission's country cannot be told, or is not one of the form's ({}): answer `site` with \
                     a point of those countries, or `country` with one of them",
                    form.countries.join(", ")
                ),
            )]));
        };
        if let Some(user) = &submitter.user
            && !submitter.allows(&country)
        {
            return Err(ApiError::Forbidden(format!(
                "your account ({}) may not submit data for {country}: it is scoped to other countries",
                user.username
            )));
        }
        // An edit from a device replaces a submission: only its own submitter or a reviewer
        // of its country may do that, and a submission never changes country.
        let deprecated_id = validated.deprecated_id.clone().filter(|d| !d.trim().is_empty());
        if let Some(old) = &deprecated_id
            && let Some(target) = self.store.submission_owner(old).await?
        {
            let reviewer = submitter.user.as_ref().is_some_and(|u| {
                rumbo_domain::permissions::allows(u, Permission::ReviewSubmissions, Some(&target.country))
            });
            let own = submitter.user.as_ref().is_some_and(|u| target.submitted_by == Some(u.id));
            if target.form_id != form.id || !(own || reviewer) {
                return Err(ApiError::Forbidden(format!(
                    "deprecatedID {old}: only whoever sent that submission, or a reviewer of its country, may replace it"
                )));
            }
            if target.country != country {
                return Err(ApiError::InvalidSubmission(vec![rumbo_store::FieldError::new(
                    "site",
                    format!("an edit cannot move a submission from {} to {country}", target.country),
                )]));
            }
        }
        let collected_on = ["today", "start", "end"]
            .iter()
            .filter_map(|k| record::answer(&validated.record, k).and_then(Value::as_str))
            .find_map(|v| v.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()))
            .or_else(|| Some(Utc::now().date_naive()));
        let error_count = errors.len() as i64;
        Ok(NewSubmission {
            form_id: form.id,
            form_version_id: compiled.version_id,
            instance_id,
            deprecated_id,
            country_code: Some(country),
            site_id,
            submitted_by: submitter.user.as_ref().map(|u| u.id),
            submitter: submitter.name.clone(),
            channel: envelope.channel,
            xml_sha256: hex::encode(Sha256::digest(xml.as_bytes())),
            xml,
            data: validated.record,
            errors: serde_json::to_value(&errors).unwrap_or_default(),
            error_count,
            complete: envelope.complete,
            collected_on,
            attachments: envelope.attachments,
        })
    }

    /// Stores a submission; answers once it is committed.
    pub async fn store(&self, submission: NewSubmission) -> ApiResult<Ingested> {
        self.writer.submit(submission).await
    }
}
