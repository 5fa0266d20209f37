//! Form and submission operations behind both the JSON API and the pages: each checks the
//! caller's permission for the countries concerned, then asks the store.

use std::fmt::Write as _;

use md5::{Digest as _, Md5};
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::collection::{
    Channel, FormRecord, FormSettings, FormVersion, Ingested, NewFormVersion, SubmissionDetail, SubmissionFilter,
    SubmissionRow,
};
use rumbo_store::model::Page;
use serde_json::Value;
use sha2::Sha256;

use super::{Envelope, Submitter, record};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// The largest XLSForm accepted.
pub const MAX_XLSFORM: usize = 20 * 1024 * 1024;

/// Whether the caller may do `permission` for a form: in every one of its countries for
/// managing it, in at least one for the rest.
pub fn require_form(caller: &Caller, form: &FormRecord, permission: Permission) -> ApiResult<()> {
    if form.countries.is_empty() {
        return caller.require(permission, None).and_then(|()| {
            if caller.user.all_countries {
                Ok(())
            } else {
                Err(ApiError::Forbidden("this form is attached to no country: a regional user manages it".into()))
            }
        });
    }
    if permission == Permission::ManageForms {
        for c in &form.countries {
            caller.require(permission, Some(c))?;
        }
        return Ok(());
    }
    if form.countries.iter().any(|c| caller.allows(permission, Some(c))) {
        Ok(())
    } else {
        caller.require(permission, Some(&form.countries[0]))
    }
}

/// Forms the caller may see (their countries'), with those the caller cannot use removed.
pub async fn list_forms(state: &AppState, caller: &Caller) -> ApiResult<Vec<FormRecord>> {
    let forms = state.store.list_forms(caller.scope().as_deref()).await?;
    Ok(forms
        .into_iter()
        .filter(|f| {
            [Permission::Submit, Permission::ViewSubmissions, Permission::ManageForms]
                .iter()
                .any(|p| f.countries.iter().any(|c| caller.allows(*p, Some(c))))
                || (f.countries.is_empty() && caller.user.all_countries)
        })
        .collect())
}

/// A form the caller may at least see.
pub async fn form(state: &AppState, caller: &Caller, id: i64) -> ApiResult<FormRecord> {
    let form = state.store.form(id).await?;
    let visible = [Permission::Submit, Permission::ViewSubmissions, Permission::ManageForms]
        .iter()
        .any(|p| require_form(caller, &form, *p).is_ok());
    if !visible {
        return Err(ApiError::Forbidden(format!(
            "your account ({}) may not see form {}: it belongs to other countries",
            caller.user.username, form.xml_form_id
        )));
    }
    Ok(form)
}

/// What publishing gave: the form, the new version, and what changed.
pub struct Published {
    pub form: FormRecord,
    pub version: FormVersion,
}

/// Reads an uploaded XLSForm and publishes it: a new form, or a new version of the form
/// with the same `form_id`. Every problem in the file is reported at once, located by
/// sheet, row and column.
pub async fn publish(
    state: &AppState,
    caller: &Caller,
    file_name: &str,
    bytes: Vec<u8>,
    countries: Vec<String>,
) -> ApiResult<Published> {
    if bytes.is_empty() {
        return Err(ApiError::invalid("file", "is empty: choose an XLSForm (.xlsx, .xls, .csv or .md)"));
    }
    if bytes.len() > MAX_XLSFORM {
        return Err(ApiError::TooLarge(format!("an XLSForm may be at most {} MB", MAX_XLSFORM / (1024 * 1024))));
    }
    let name = file_name.to_string();
    let read_bytes = bytes.clone();
    let form = tokio::task::spawn_blocking(move || rumbo_xlsform::read_form(&read_bytes, Some(&name)))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|errors| {
            ApiError::Invalid(
                errors
                    .0
                    .iter()
                    .map(|e| {
                        let mut at = e.sheet.clone();
                        if let Some(row) = e.row {
                            let _ = write!(at, " row {row}");
                        }
                        if let Some(col) = &e.column {
                            let _ = write!(at, " column {col}");
                        }
                        FieldError::new(if at.is_empty() { "file".to_string() } else { at }, e.message.clone())
                    })
                    .collect(),
            )
        })?;
    let Some(version) = form.settings.version.clone().filter(|v| !v.trim().is_empty()) else {
        return Err(ApiError::invalid(
            "settings row 2 column version",
            "is empty: give the form a version (for example today's date, 2026112701) so that devices can tell versions apart",
        ));
    };
    let existing = state.store.form_by_xml_id(&form.id).await?;
    let mut countries: Vec<String> =
        countries.iter().map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty()).collect();
    countries.sort();
    countries.dedup();
    let changes = if let Some(old) = &existing {
        require_form(caller, old, Permission::ManageForms)?;
        match old.current_version_id {
            Some(v) => {
                let before = state.collect.compiled(v).await?;
                rumbo_xlsform::match_versions(&before.form, &form, &[]).to_string()
            }
            None => String::new(),
        }
    } else {
        if countries.is_empty() {
            return Err(ApiError::invalid("countries", "attach the new form to at least one country"));
        }
        for c in &countries {
            caller.require(Permission::ManageForms, Some(c))?;
        }
        String::new()
    };
    let xform = rumbo_xlsform::to_xform(&form);
    let md5 = format!("md5:{}", hex::encode(Md5::digest(xform.as_bytes())));
    let new = NewFormVersion {
        xml_form_id: form.id.clone(),
        title: form.title.clone(),
        version,
        file_name: file_name.to_string(),
        xlsform: bytes,
        xform,
        md5,
        changes,
        countries,
    };
    let (form, version) = state.store.publish_form_version(&caller.actor(), &new).await?;
    state.collect.forget_forms();
    // Indicators on this form are compiled against its new version, and rebuilt.
    state.analytics.rebuild(state, Some(&form.xml_form_id)).await?;
    // So are its red-flag rules.
    crate::protection::flags::reload(state).await?;
    Ok(Published { form, version })
}

/// Changes a form's settings and attachments (countries, sites, rounds).
pub async fn update_form(
    state: &AppState,
    caller: &Caller,
    id: i64,
    mut settings: FormSettings,
) -> ApiResult<FormRecord> {
    let form = state.store.form(id).await?;
    require_form(caller, &form, Permission::ManageForms)?;
    if let Some(countries) = settings.countries.as_mut() {
        for c in countries.iter_mut() {
            *c = c.trim().to_uppercase();
        }
        countries.retain(|c| !c.is_empty());
        countries.sort();
        countries.dedup();
        if countries.is_empty() {
            return Err(ApiError::invalid("countries", "a form needs at least one country"));
        }
        for c in countries.iter() {
            caller.require(Permission::ManageForms, Some(c))?;
            state
                .store
                .country(c)
                .await
                .map_err(|_| ApiError::invalid("countries", format!("{c} is not a country")))?;
        }
    }
    let countries = settings.countries.clone().unwrap_or_else(|| form.countries.clone());
    for site in settings.site_ids.iter().flatten() {
        let s = state.store.site(*site).await.map_err(|_| ApiError::invalid("site_ids", format!("no site {site}")))?;
        if !countries.contains(&s.country_code) {
            return Err(ApiError::invalid(
                "site_ids",
                format!("site {} is in {}, not a country of the form", s.code, s.country_code),
            ));
        }
    }
    for round in settings.round_ids.iter().flatten() {
        let r =
            state.store.round(*round).await.map_err(|_| ApiError::invalid("round_ids", format!("no round {round}")))?;
        if !countries.contains(&r.country_code) {
            return Err(ApiError::invalid(
                "round_ids",
                format!("round {} is in {}, not a country of the form", r.name, r.country_code),
            ));
        }
    }
    let form = state.store.update_form(&caller.actor(), id, &settings).await?;
    state.collect.forget_forms();
    Ok(form)
}

/// One version's files: `(version, XLSForm bytes, XForm)`.
pub async fn version_files(
    state: &AppState,
    caller: &Caller,
    form_id: i64,
    version_id: Option<i64>,
) -> ApiResult<(FormRecord, FormVersion, Vec<u8>, String)> {
    let form = form(state, caller, form_id).await?;
    let version_id = version_id.or(form.current_version_id).ok_or_else(|| ApiError::NotFound("form version".into()))?;
    let (version, bytes, xform) = state.store.form_version_files(version_id).await?;
    if version.form_id != form.id {
        return Err(ApiError::NotFound("form version".into()));
    }
    Ok((form, version, bytes, xform))
}

// ---- submissions ----

/// A submission sent as JSON (web forms): `{version?, data}`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct JsonSubmission {
    /// The form version the answers were given in (default: the current one).
    #[serde(default)]
    pub version: Option<String>,
    /// The answers: the root's children, groups as objects, repeats as arrays, with
    /// `meta.instanceID`.
    pub data: Value,
}

/// Checks and stores a JSON submission; answers once it is committed.
pub async fn submit_json(
    state: &AppState,
    submitter: &Submitter,
    form: &FormRecord,
    body: JsonSubmission,
    channel: Channel,
) -> ApiResult<Ingested> {
    let entry = state.collect.entry(&form.xml_form_id).await?;
    let (compiled, validated, xml) = state.collect.check_json(&entry, body.version.as_deref(), &body.data).await?;
    let envelope = Envelope { channel, attachments: Vec::new(), complete: true };
    let prepared = state.collect.prepare(&entry, &compiled, validated, xml, submitter, envelope).await?;
    state.collect.store(prepared).await
}

/// The review table, limited to the caller's countries.
pub async fn list_submissions(
    state: &AppState,
    caller: &Caller,
    form_id: i64,
    mut filter: SubmissionFilter,
) -> ApiResult<(FormRecord, Page<SubmissionRow>)> {
    let form = form(state, caller, form_id).await?;
    require_form(caller, &form, Permission::ViewSubmissions)?;
    if let Some(c) = filter.country.as_mut() {
        *c = c.trim().to_uppercase();
        if !c.is_empty() {
            caller.require(Permission::ViewSubmissions, Some(c))?;
        }
    }
    filter.scope = caller.scope();
    let mut page = state.store.list_submissions(form.id, &filter).await?;
    let versions = state.store.form_versions(form.id).await?;
    for row in &mut page.items {
        hide_sensitive(state, caller, &versions, row).await?;
    }
    Ok((form, page))
}

/// Whether the caller may act on a submission of `country` (and its form).
fn require_submission(
    caller: &Caller,
    form: &FormRecord,
    country: Option<&str>,
    permission: Permission,
) -> ApiResult<()> {
    match country {
        Some(c) => caller.require(permission, Some(c)),
        None => require_form(caller, form, permission),
    }
}

/// A submission with its versions and attachments.
pub async fn submission(state: &AppState, caller: &Caller, id: i64) -> ApiResult<(FormRecord, SubmissionDetail)> {
    let mut detail = state.store.submission(id).await?;
    let form = state.store.form(detail.row.form_id).await?;
    require_submission(caller, &form, detail.row.country_code.as_deref(), Permission::ViewSubmissions)?;
    let versions = state.store.form_versions(form.id).await?;
    if let Some(hidden) = hide_sensitive(state, caller, &versions, &mut detail.row).await? {
        // Files answering a sensitive question (a photo of a document) are hidden too.
        detail.attachments.retain(|a| !hidden.contains(&a.name));
        detail.xml = String::new();
        for v in &mut detail.versions {
            v.data = String::new();
        }
    }
    Ok((form, detail))
}

/// Removes the answers of sensitive questions for callers who do not review; gives the
/// answers hidden (`None` when nothing was).
async fn hide_sensitive(
    state: &AppState,
    caller: &Caller,
    versions: &[FormVersion],
    row: &mut SubmissionRow,
) -> ApiResult<Option<Vec<String>>> {
    if row.country_code.as_deref().is_some_and(|c| caller.allows(Permission::ReviewSubmissions, Some(c))) {
        return Ok(None);
    }
    let version = versions.iter().find(|v| v.version == row.version);
    let version = version.ok_or_else(|| ApiError::NotFound("form version".into()))?;
    let compiled = state.collect.compiled(version.id).await?;
    let paths = compiled.validator.sensitive_paths();
    if paths.is_empty() {
        return Ok(None);
    }
    let mut data = row.answers();
    let mut hidden = Vec::new();
    for path in paths {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').skip(1).collect();
        remove_path(&mut data, &parts, &mut hidden);
    }
    row.data = data.to_string();
    // A problem with a sensitive answer may quote it: only its field is said.
    let sensitive: Vec<String> = paths.iter().map(|p| p.trim_start_matches('/').to_string()).collect();
    let mut errors = row.error_list();
    if let Some(list) = errors.as_array_mut() {
        for e in list {
            let field = e["field"].as_str().unwrap_or_default();
            let plain: String =
                field.split('[').map(|part| part.split_once(']').map_or(part, |(_, rest)| rest)).collect();
            if sensitive.contains(&plain) {
                e["message"] = Value::String("(hidden)".into());
            }
        }
    }
    row.errors = errors.to_string();
    Ok(Some(hidden))
}

fn remove_path(value: &mut Value, parts: &[&str], hidden: &mut Vec<String>) {
    match (value, parts) {
        (Value::Object(map), [last]) if map.contains_key(*last) => {
            if let Some(Value::String(text)) = map.insert((*last).to_string(), Value::String("(hidden)".into())) {
                hidden.push(text);
            }
        }
        (Value::Object(map), [first, rest @ ..]) => {
            if let Some(v) = map.get_mut(*first) {
                remove_path(v, rest, hidden);
            }
        }
        (Value::Array(items), parts) => {
            for item in items {
                remove_path(item, parts, hidden);
            }
        }
        _ => {}
    }
}

/// A reviewer's edit: new answers and the reason. The earlier version is kept.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct SubmissionEdit {
    /// The whole record, as `GET` returns it in `data`.
    pub data: Value,
    pub reason: String,
}

pub async fn edit_submission(state: &AppState, caller: &Caller, id: i64, edit: SubmissionEdit) -> ApiResult<()> {
    let detail = state.store.submission(id).await?;
    let form = state.store.form(detail.row.form_id).await?;
    require_submission(caller, &form, detail.row.country_code.as_deref(), Permission::ReviewSubmissions)?;
    if detail.row.deleted_at.is_some() {
        return Err(ApiError::Conflict { field: None, message: "restore the submission before editing it".into() });
    }
    if edit.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "say why the submission is edited"));
    }
    let version = state
        .store
        .form_versions(form.id)
        .await?
        .into_iter()
        .find(|v| v.version == detail.row.version)
        .ok_or_else(|| ApiError::NotFound("form version".into()))?;
    let compiled = state.collect.compiled(version.id).await?;
    let mut data = edit.data;
    let new_id = format!("uuid:{}", uuid_v4());
    if let Some(map) = data.as_object_mut() {
        let meta = map.entry("meta").or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert("instanceID".into(), Value::String(new_id.clone()));
            meta.insert("deprecatedID".into(), Value::String(detail.row.instance_id.clone()));
        }
    }
    let validated = compiled.validator.validate_json(&data).map_err(|r| ApiError::BadRequest(r.message))?;
    let errors: Vec<FieldError> =
        validated.errors.iter().map(|e| FieldError::new(e.path.trim_start_matches('/'), e.message.clone())).collect();
    if !errors.is_empty() && !form.accept_with_errors {
        return Err(ApiError::InvalidSubmission(errors));
    }
    let xml = record::to_xml(&compiled.form, &compiled.version, &validated);
    let sha = hex::encode(Sha256::digest(xml.as_bytes()));
    state
        .store
        .edit_submission(
            &caller.actor(),
            id,
            &new_id,
            &xml,
            &sha,
            &validated.record,
            &serde_json::to_value(&errors).unwrap_or_default(),
            errors.len() as i64,
            &edit.reason,
            state.analytics.contributor(),
        )
        .await?;
    state.analytics.changed();
    Ok(())
}

pub async fn set_status(state: &AppState, caller: &Caller, id: i64, status: &str, note: &str) -> ApiResult<()> {
    let detail = state.store.submission(id).await?;
    let form = state.store.form(detail.row.form_id).await?;
    require_submission(caller, &form, detail.row.country_code.as_deref(), Permission::ReviewSubmissions)?;
    state.store.set_submission_status(&caller.actor(), id, status, note, state.analytics.contributor()).await?;
    state.analytics.changed();
    Ok(())
}

pub async fn set_deleted(state: &AppState, caller: &Caller, id: i64, deleted: bool) -> ApiResult<()> {
    let detail = state.store.submission(id).await?;
    let form = state.store.form(detail.row.form_id).await?;
    require_submission(caller, &form, detail.row.country_code.as_deref(), Permission::ReviewSubmissions)?;
    state.store.set_submission_deleted(&caller.actor(), id, deleted, state.analytics.contributor()).await?;
    state.analytics.changed();
    Ok(())
}

/// A random (version 4) UUID.
pub fn uuid_v4() -> String {
    let hex = rumbo_domain::secrets::new_secret("");
    let mut b: Vec<u8> = (0..16).filter_map(|i| u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()).collect();
    b.resize(16, 0);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(&b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// The review table as CSV: the columns every row has, then one column per answer (groups
/// joined with `/`; repeats and lists as JSON), in the order of the first rows.
/// The columns every submissions export starts with.
pub const FIXED_COLUMNS: [&str; 13] = [
    "id",
    "instance_id",
    "form_version",
    "country",
    "site",
    "round",
    "submitter",
    "channel",
    "status",
    "errors",
    "edits",
    "collected_on",
    "received_at",
];

/// A submission's cells under [`FIXED_COLUMNS`].
pub fn fixed_cells(row: &SubmissionRow) -> [String; 13] {
    [
        row.id.to_string(),
        row.instance_id.clone(),
        row.version.clone(),
        row.country_code.clone().unwrap_or_default(),
        row.site_code.clone().unwrap_or_default(),
        row.round_name.clone().unwrap_or_default(),
        row.submitter.clone(),
        row.channel.clone(),
        row.status.clone(),
        row.error_count.to_string(),
        row.edits.to_string(),
        row.collected_on.map(|d| d.to_string()).unwrap_or_default(),
        row.received_at.to_rfc3339(),
    ]
}

pub fn submissions_csv(rows: &[SubmissionRow]) -> String {
    let mut columns: Vec<String> = Vec::new();
    let mut flat_rows = Vec::with_capacity(rows.len());
    for row in rows {
        let mut flat = Vec::new();
        flatten("", &row.answers(), &mut flat);
        for (k, _) in &flat {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        flat_rows.push(flat);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = FIXED_COLUMNS.iter().map(|s| (*s).to_string()).collect();
    header.extend(columns.iter().cloned());
    let _ = w.write_record(&header);
    for (row, flat) in rows.iter().zip(flat_rows) {
        let mut rec = fixed_cells(row).to_vec();
        for c in &columns {
            let v = flat.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone()).unwrap_or_default();
            rec.push(v);
        }
        let rec: Vec<String> = rec.iter().map(|v| crate::pages::spreadsheet_safe(v).into_owned()).collect();
        let _ = w.write_record(&rec);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) if !map.contains_key("latitude") => {
            for (k, v) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}/{k}") };
                flatten(&key, v, out);
            }
        }
        Value::Null => out.push((prefix.to_string(), String::new())),
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            out.push((prefix.to_string(), items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")));
        }
        v => out.push((prefix.to_string(), v.to_string())),
    }
}
