//! Review of submissions: the filtered table of a form (with its CSV download), one
//! submission with everything about it, the review decisions (approve, reject, flag, bin,
//! restore) and the edit with a reason, which keeps the earlier version.

use std::fmt::Write as _;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::NaiveDate;
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::collection::{FormRecord, STATUSES, SubmissionFilter, SubmissionRow};
use rumbo_store::model::ListFilter;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::forms::when;
use super::{Choice, Chrome, Ignored, PageError, PageResult, Posted, country_choices, render, see_other};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::collect::ops::{self, require_form};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;

/// Rows per page of the review table.
const PAGE_SIZE: i64 = 100;
/// Answers shown as columns of the review table.
const ANSWER_COLUMNS: usize = 6;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/forms/{id}/submissions", get(list))
        .route("/forms/{id}/submissions.csv", get(download))
        .route("/submissions/{id}", get(show))
        .route("/submissions/{id}/status", post(set_status))
        .route("/submissions/{id}/delete", post(delete))
        .route("/submissions/{id}/restore", post(restore))
        .route("/submissions/{id}/edit", get(edit_form).post(edit))
}

// ---- the review table ----

/// The review table's query, as typed: every value stays text until it is checked, so an
/// empty select (`site_id=`) means "any".
#[derive(Debug, Clone, Default, Deserialize)]
struct ReviewQuery {
    from: Option<String>,
    to: Option<String>,
    country: Option<String>,
    site_id: Option<String>,
    round_id: Option<String>,
    submitter: Option<String>,
    status: Option<String>,
    /// `yes` (with validation errors), `no` (without), empty (either).
    errors: Option<String>,
    /// `true`: the bin (deleted submissions).
    deleted: Option<String>,
    q: Option<String>,
    offset: Option<String>,
}

fn filled(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

impl ReviewQuery {
    fn filter(&self) -> Result<SubmissionFilter, ApiError> {
        let mut errors = Vec::new();
        let date = |v: Option<&String>, field: &str, errors: &mut Vec<FieldError>| {
            filled(v).and_then(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| errors.push(FieldError::new(field, format!("'{d}' is not a date (YYYY-MM-DD)"))))
                    .ok()
            })
        };
        let id = |v: Option<&String>, field: &str, errors: &mut Vec<FieldError>| {
            filled(v).and_then(|d| {
                d.parse::<i64>().map_err(|_| errors.push(FieldError::new(field, format!("'{d}' is not an id")))).ok()
            })
        };
        let filter = SubmissionFilter {
            country: filled(self.country.as_ref()).map(str::to_uppercase),
            site_id: id(self.site_id.as_ref(), "site_id", &mut errors),
            round_id: id(self.round_id.as_ref(), "round_id", &mut errors),
            submitter: filled(self.submitter.as_ref()).map(str::to_string),
            status: filled(self.status.as_ref()).map(str::to_string),
            errors: match filled(self.errors.as_ref()) {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            },
            from: date(self.from.as_ref(), "from", &mut errors),
            to: date(self.to.as_ref(), "to", &mut errors),
            deleted: Some(self.in_bin()),
            q: filled(self.q.as_ref()).map(str::to_string),
            limit: Some(PAGE_SIZE),
            offset: Some(self.offset()),
            scope: None,
        };
        if errors.is_empty() { Ok(filter) } else { Err(ApiError::Invalid(errors)) }
    }

    fn in_bin(&self) -> bool {
        matches!(filled(self.deleted.as_ref()), Some("true" | "1" | "on" | "yes"))
    }

    fn offset(&self) -> i64 {
        filled(self.offset.as_ref()).and_then(|o| o.parse().ok()).unwrap_or(0).max(0)
    }

    /// The query string of these filters, at another offset.
    fn query(&self, offset: Option<i64>) -> String {
        let pairs: Vec<(&str, String)> = [
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("country", self.country.clone()),
            ("site_id", self.site_id.clone()),
            ("round_id", self.round_id.clone()),
            ("submitter", self.submitter.clone()),
            ("status", self.status.clone()),
            ("errors", self.errors.clone()),
            ("deleted", self.in_bin().then(|| "true".to_string())),
            ("q", self.q.clone()),
            ("offset", offset.filter(|o| *o > 0).map(|o| o.to_string())),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
        serde_html_form::to_string(pairs).unwrap_or_default()
    }
}

/// A row of the review table.
struct ReviewLine {
    id: i64,
    instance_id: String,
    received: String,
    collected_on: String,
    site: String,
    round: String,
    submitter: String,
    channel: String,
    status: String,
    status_label: &'static str,
    errors: i64,
    edits: i64,
    answers: Vec<String>,
}

#[derive(Template)]
#[template(path = "submissions.html")]
struct ReviewPage {
    c: Chrome,
    form: FormRecord,
    q: ReviewQuery,
    countries: Vec<Choice>,
    sites: Vec<Choice>,
    rounds: Vec<Choice>,
    statuses: Vec<Choice>,
    error_choices: Vec<Choice>,
    in_bin: bool,
    answer_columns: Vec<String>,
    rows: Vec<ReviewLine>,
    total: i64,
    first: i64,
    csv_url: String,
    prev_url: Option<String>,
    next_url: Option<String>,
    filter_errors: Vec<String>,
}

/// The answers of a record, flattened: groups joined with `/`; repeats, lists and points
/// kept whole.
fn flatten_record(record: &Value) -> Vec<(String, Value)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) if !map.contains_key("latitude") => {
                for (k, v) in map {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}/{k}") };
                    walk(&key, v, out);
                }
            }
            v => out.push((prefix.to_string(), v.clone())),
        }
    }
    let mut out = Vec::new();
    if record.is_object() {
        walk("", record, &mut out);
    }
    out
}

/// An answer as one line of text.
fn answer_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")
        }
        Value::Object(point) if point.contains_key("latitude") => ["latitude", "longitude", "altitude", "accuracy"]
            .iter()
            .filter_map(|k| point.get(*k).filter(|v| !v.is_null()).map(ToString::to_string))
            .collect::<Vec<_>>()
            .join(" "),
        v => v.to_string(),
    }
}

fn is_meta(key: &str) -> bool {
    key == "meta" || key.starts_with("meta/")
}

/// The labels of a form's fields by flattened key (`group/question`), in the reader's
/// language when the form has it.
type Labels = std::collections::HashMap<String, String>;

fn form_labels(form: &rumbo_xlsform::Form, lang: Lang) -> Labels {
    fn walk(prefix: &str, fields: &[rumbo_xlsform::Field], lang: Lang, out: &mut Labels) {
        for f in fields {
            let key = if prefix.is_empty() { f.name.clone() } else { format!("{prefix}/{}", f.name) };
            let suffix = format!("({})", lang.code());
            let language = f.label.0.keys().find(|k| k.ends_with(&suffix) || k.as_str() == lang.code());
            if let Some(label) = f.label.get(language.map(String::as_str)).filter(|l| !l.trim().is_empty()) {
                out.insert(key.clone(), label.trim().to_string());
            }
            walk(&key, &f.children, lang, out);
        }
    }
    let mut out = Labels::new();
    walk("", &form.fields, lang, &mut out);
    out
}

/// The labels of the form version a submission answers; none when it cannot be read.
async fn labels_of(state: &AppState, row: &SubmissionRow, lang: Lang) -> Labels {
    let Ok(versions) = state.store.form_versions(row.form_id).await else { return Labels::new() };
    let Some(version) = versions.into_iter().find(|v| v.version == row.version) else { return Labels::new() };
    match state.collect.compiled(version.id).await {
        Ok(compiled) => form_labels(&compiled.form, lang),
        Err(_) => Labels::new(),
    }
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> PageResult {
    let mut filter_errors = Vec::new();
    let filter = q.filter().unwrap_or_else(|e| {
        filter_errors = e.field_errors().iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        SubmissionFilter { deleted: Some(q.in_bin()), limit: Some(PAGE_SIZE), ..Default::default() }
    });
    let offset = filter.offset.unwrap_or(0);
    let (form, page) = ops::list_submissions(&state, &caller, id, filter).await?;
    let mut answer_columns: Vec<String> = Vec::new();
    let flat: Vec<Vec<(String, Value)>> = page.items.iter().map(|r| flatten_record(&r.answers())).collect();
    for key in flat.iter().flatten().map(|(k, _)| k) {
        if answer_columns.len() >= ANSWER_COLUMNS {
            break;
        }
        if !is_meta(key) && !answer_columns.contains(key) {
            answer_columns.push(key.clone());
        }
    }
    let rows = page
        .items
        .iter()
        .zip(&flat)
        .map(|(r, answers)| ReviewLine {
            id: r.id,
            instance_id: r.instance_id.clone(),
            received: when(&r.received_at),
            collected_on: r.collected_on.map(|d| d.to_string()).unwrap_or_default(),
            site: r.site_code.clone().unwrap_or_default(),
            round: r.round_name.clone().unwrap_or_default(),
            submitter: r.submitter.clone(),
            channel: r.channel.clone(),
            status_label: status_label(lang, &r.status),
            status: r.status.clone(),
            errors: r.error_count,
            edits: r.edits,
            answers: answer_columns
                .iter()
                .map(|c| answers.iter().find(|(k, _)| k == c).map(|(_, v)| answer_text(v)).unwrap_or_default())
                .collect(),
        })
        .collect::<Vec<_>>();
    // Choices: the form's countries the caller may read, and their sites and rounds.
    let countries = crate::ops::countries(&state.store, &caller).await?;
    let countries: Vec<_> = countries
        .into_iter()
        .filter(|c| form.countries.contains(&c.code) && caller.allows(Permission::ViewSubmissions, Some(&c.code)))
        .collect();
    let scope = Some(countries.iter().map(|c| c.code.clone()).collect::<Vec<_>>());
    let sites = state
        .store
        .list_sites(&ListFilter { limit: Some(100_000), scope: scope.clone(), ..Default::default() })
        .await?;
    let rounds = state.store.list_rounds(&ListFilter { limit: Some(100_000), scope, ..Default::default() }).await?;
    let current = |v: &Option<String>| v.clone().unwrap_or_default().trim().to_string();
    let mut site_choices = vec![Choice::new("", lang.t("common.all"), &current(&q.site_id))];
    site_choices.extend(
        sites
            .items
            .iter()
            .map(|s| Choice::new(s.id.to_string(), format!("{} — {}", s.code, s.name), &current(&q.site_id))),
    );
    let mut round_choices = vec![Choice::new("", lang.t("common.all"), &current(&q.round_id))];
    round_choices.extend(
        rounds
            .items
            .iter()
            .map(|r| Choice::new(r.id.to_string(), format!("{} ({})", r.name, r.country_code), &current(&q.round_id))),
    );
    let mut statuses = vec![Choice::new("", lang.t("common.all"), &current(&q.status))];
    statuses.extend(STATUSES.iter().map(|s| Choice::new(*s, status_label(lang, s), &current(&q.status))));
    let errors_now = current(&q.errors);
    let error_choices = vec![
        Choice::new("", lang.t("common.all"), &errors_now),
        Choice::new("yes", lang.t("sub.errors_yes"), &errors_now),
        Choice::new("no", lang.t("sub.errors_no"), &errors_now),
    ];
    let base = format!("/forms/{}/submissions", form.id);
    let prev_url = (offset > 0).then(|| format!("{base}?{}", q.query(Some((offset - PAGE_SIZE).max(0)))));
    let next_url =
        (offset + (rows.len() as i64) < page.total).then(|| format!("{base}?{}", q.query(Some(offset + PAGE_SIZE))));
    let mut c = Chrome::new(lang, Some(&caller), &uri, "sub.title");
    c.title = format!("{} — {}", lang.t("sub.title"), form.title);
    let page = ReviewPage {
        c,
        countries: country_choices(&countries, lang, &current(&q.country).to_uppercase(), true),
        sites: site_choices,
        rounds: round_choices,
        statuses,
        error_choices,
        in_bin: q.in_bin(),
        answer_columns,
        first: if rows.is_empty() { 0 } else { offset + 1 },
        total: page.total,
        csv_url: format!("/forms/{}/submissions.csv?{}", form.id, q.query(None)),
        prev_url,
        next_url,
        rows,
        form,
        q,
        filter_errors,
    };
    Ok(render(&page))
}

fn status_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "received" | "approved" | "rejected" | "flagged" => lang.t(&format!("sub.status.{status}")),
        _ => lang.t("sub.status.received"),
    }
}

/// `GET /forms/{id}/submissions.csv`: exactly what the table shows with these filters.
async fn download(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> PageResult {
    let filter = q.filter()?;
    Ok(crate::collect::api::export(&state, &caller, id, filter).await?)
}

// ---- one submission ----

/// Percent-encodes a path segment (attachment names come from devices).
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

use crate::collect::record::escape as escape_html;

/// The answers as nested definition lists: groups nest, repeats become numbered lists.
/// Written here rather than in the template because it is recursive; every text is escaped.
fn answers_html(value: &Value, labels: &Labels, empty: &str) -> String {
    struct Ctx<'a> {
        labels: &'a Labels,
        empty: &'a str,
    }
    fn list(prefix: &str, map: &Map<String, Value>, ctx: &Ctx<'_>, out: &mut String) {
        out.push_str("<dl class=\"answers\">");
        for (k, v) in map {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}/{k}") };
            out.push_str("<dt>");
            if let Some(label) = ctx.labels.get(&key) {
                escape_html(label, out);
                out.push_str(" <code>");
                escape_html(k, out);
                out.push_str("</code>");
            } else {
                escape_html(k, out);
            }
            out.push_str("</dt><dd>");
            item(&key, v, ctx, out);
            out.push_str("</dd>");
        }
        out.push_str("</dl>");
    }
    fn item(key: &str, value: &Value, ctx: &Ctx<'_>, out: &mut String) {
        let empty = ctx.empty;
        match value {
            Value::Object(map) if !map.contains_key("latitude") => list(key, map, ctx, out),
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                out.push_str("<ol class=\"repeat\">");
                for entry in items {
                    out.push_str("<li>");
                    item(key, entry, ctx, out);
                    out.push_str("</li>");
                }
                out.push_str("</ol>");
            }
            Value::Null => {
                out.push_str("<span class=\"muted\">");
                escape_html(empty, out);
                out.push_str("</span>");
            }
            v => escape_html(&answer_text(v), out),
        }
    }
    let ctx = Ctx { labels, empty };
    let mut out = String::new();
    match value {
        Value::Object(map) => list("", map, &ctx, &mut out),
        v => item("", v, &ctx, &mut out),
    }
    out
}

struct AttachmentLine {
    name: String,
    href: String,
    content_type: String,
    size: i64,
    image: bool,
}

struct VersionLine {
    instance_id: String,
    replaced_by: String,
    reason: String,
    replaced_at: String,
}

#[derive(Template)]
#[template(path = "submission.html")]
struct SubmissionPage {
    c: Chrome,
    form: FormRecord,
    row: SubmissionRow,
    status_label: &'static str,
    received: String,
    updated: String,
    deleted: Option<String>,
    answers: String,
    validation_errors: Vec<(String, String)>,
    attachments: Vec<AttachmentLine>,
    versions: Vec<VersionLine>,
    /// Reviews, edits, deletions and restorations: when, who, what, why.
    history: Vec<(String, String, &'static str, String)>,
    xml: String,
    can_review: bool,
}

async fn may_review(state: &AppState, caller: &Caller, row: &SubmissionRow) -> Result<bool, ApiError> {
    Ok(match &row.country_code {
        Some(c) => caller.allows(Permission::ReviewSubmissions, Some(c)),
        None => require_form(caller, &state.store.form(row.form_id).await?, Permission::ReviewSubmissions).is_ok(),
    })
}

async fn show(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let (form, detail) = ops::submission(&state, &caller, id).await?;
    let can_review = may_review(&state, &caller, &detail.row).await?;
    let row = detail.row;
    let validation_errors = row
        .error_list()
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            (text("field"), text("message"))
        })
        .collect();
    let attachments = detail
        .attachments
        .into_iter()
        .map(|a| AttachmentLine {
            href: format!("/api/v1/submissions/{}/attachments/{}", row.id, path_segment(&a.name)),
            image: a.content_type.starts_with("image/"),
            name: a.name,
            content_type: a.content_type,
            size: a.size,
        })
        .collect();
    let versions = detail
        .versions
        .into_iter()
        .map(|v| VersionLine {
            instance_id: v.instance_id,
            replaced_by: v.replaced_by,
            reason: v.reason,
            replaced_at: when(&v.replaced_at),
        })
        .collect();
    let history = state
        .store
        .audit_of("submission", &row.id.to_string())
        .await?
        .into_iter()
        .map(|line| {
            let detail: Value = serde_json::from_str(&line.detail).unwrap_or(Value::Null);
            let what = match line.action.as_str() {
                "review" => status_label(lang, detail["after"].as_str().unwrap_or_default()),
                "update" => lang.t("sub.history_edited"),
                "delete" => lang.t("sub.history_deleted"),
                "restore" => lang.t("sub.history_restored"),
                _ => lang.t("sub.history_other"),
            };
            let why = detail["note"].as_str().or_else(|| detail["reason"].as_str()).unwrap_or_default().to_string();
            (when(&line.at), line.actor, what, why)
        })
        .collect();
    let mut c = Chrome::new(lang, Some(&caller), &uri, "sub.detail");
    c.title = format!("{} — {}", lang.t("sub.detail"), row.instance_id);
    let page = SubmissionPage {
        c,
        status_label: status_label(lang, &row.status),
        received: when(&row.received_at),
        updated: when(&row.updated_at),
        deleted: row.deleted_at.as_ref().map(when),
        answers: answers_html(&row.answers(), &labels_of(&state, &row, lang).await, lang.t("sub.no_answer")),
        validation_errors,
        attachments,
        versions,
        history,
        xml: detail.xml,
        can_review,
        form,
        row,
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

async fn set_status(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form }: Posted<StatusForm>,
) -> PageResult {
    ops::set_status(&state, &caller, id, &form.status, form.note.trim()).await?;
    Ok(see_other(&format!("/submissions/{id}?notice=saved")))
}

async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<Ignored>,
) -> PageResult {
    ops::set_deleted(&state, &caller, id, true).await?;
    Ok(see_other(&format!("/submissions/{id}?notice=deleted")))
}

async fn restore(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, .. }: Posted<Ignored>,
) -> PageResult {
    ops::set_deleted(&state, &caller, id, false).await?;
    Ok(see_other(&format!("/submissions/{id}?notice=restored")))
}

// ---- the edit ----

/// One answer on the edit page: a flattened key, its text, and whether it is JSON.
struct EditField {
    key: String,
    label: Option<String>,
    /// The input's name: the key, prefixed so it cannot meet `csrf` or `reason`.
    name: String,
    value: String,
    json: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "submission_edit.html")]
struct EditPage {
    c: Chrome,
    id: i64,
    instance_id: String,
    fields: Vec<EditField>,
    reason: String,
    reason_error: Option<String>,
    errors: Vec<String>,
}

const ANSWER_PREFIX: &str = "answer:";

/// Whether an answer is edited as JSON text: repeats, lists, points and other structures.
fn edited_as_json(value: &Value) -> bool {
    matches!(value, Value::Array(_) | Value::Object(_))
}

fn edit_fields(record: &Value, labels: &Labels) -> Vec<EditField> {
    flatten_record(record)
        .into_iter()
        .filter(|(k, _)| !is_meta(k))
        .map(|(key, value)| {
            let json = edited_as_json(&value);
            let value = match &value {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                v if json => serde_json::to_string_pretty(v).unwrap_or_default(),
                v => v.to_string(),
            };
            EditField {
                name: format!("{ANSWER_PREFIX}{key}"),
                label: labels.get(&key).cloned(),
                key,
                value,
                json,
                error: None,
            }
        })
        .collect()
}

/// Puts `value` at `path` (`group/question`) in a record, creating groups on the way.
fn set_path(record: &mut Value, path: &[&str], value: Value) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(map) = record.as_object_mut() else { return };
    if rest.is_empty() {
        map.insert((*first).to_string(), value);
    } else {
        let next = map.entry((*first).to_string()).or_insert_with(|| Value::Object(Map::new()));
        set_path(next, rest, value);
    }
}

/// The record rebuilt from the edit page: each answer from its input; numbers stay
/// numbers where they were; empty is null; JSON fields must be JSON.
fn rebuild(original: &Value, typed: &std::collections::HashMap<String, String>) -> Result<Value, Vec<FieldError>> {
    let mut record = original.clone();
    let mut errors = Vec::new();
    for (key, before) in flatten_record(original).into_iter().filter(|(k, _)| !is_meta(k)) {
        let Some(text) = typed.get(&format!("{ANSWER_PREFIX}{key}")) else { continue };
        let trimmed = text.trim();
        let value = if trimmed.is_empty() {
            Value::Null
        } else if edited_as_json(&before) {
            match serde_json::from_str(trimmed) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(FieldError::new(key.clone(), format!("is not valid JSON: {e}")));
                    continue;
                }
            }
        } else if before.is_number() {
            trimmed
                .parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| trimmed.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number))
                .unwrap_or_else(|| Value::String(text.clone()))
        } else if before.is_boolean() {
            match trimmed {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(text.clone()),
            }
        } else {
            Value::String(text.clone())
        };
        let parts: Vec<&str> = key.split('/').collect();
        set_path(&mut record, &parts, value);
    }
    if errors.is_empty() { Ok(record) } else { Err(errors) }
}

/// Loads what the edit needs: the submission (the caller must review it) and its record.
async fn editable(state: &AppState, caller: &Caller, id: i64) -> Result<(SubmissionRow, String), PageError> {
    let (form, detail) = ops::submission(state, caller, id).await?;
    if !may_review(state, caller, &detail.row).await? {
        return Err(PageError(
            require_form(caller, &form, Permission::ReviewSubmissions)
                .err()
                .unwrap_or_else(|| ApiError::Forbidden("you may not edit this submission".into())),
        ));
    }
    if detail.row.deleted_at.is_some() {
        return Err(PageError(ApiError::Conflict {
            field: None,
            message: "restore the submission before editing it".into(),
        }));
    }
    Ok((detail.row, form.xml_form_id))
}

async fn edit_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let (row, _) = editable(&state, &caller, id).await?;
    let mut c = Chrome::new(lang, Some(&caller), &uri, "sub.edit");
    c.title = format!("{} — {}", lang.t("sub.edit"), row.instance_id);
    Ok(render(&EditPage {
        c,
        id,
        fields: edit_fields(&row.answers(), &labels_of(&state, &row, lang).await),
        instance_id: row.instance_id,
        reason: String::new(),
        reason_error: None,
        errors: Vec::new(),
    }))
}

async fn edit(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    Posted { caller, form: typed }: Posted<std::collections::HashMap<String, String>>,
) -> PageResult {
    let (row, _) = editable(&state, &caller, id).await?;
    let original = row.answers();
    let reason = typed.get("reason").cloned().unwrap_or_default();
    let result = match rebuild(&original, &typed) {
        Ok(_) if reason.trim().is_empty() => Err(ApiError::invalid("reason", lang.t("sub.reason_required"))),
        Ok(data) => {
            ops::edit_submission(&state, &caller, id, ops::SubmissionEdit { data, reason: reason.trim().to_string() })
                .await
        }
        Err(errors) => Err(ApiError::InvalidSubmission(errors)),
    };
    let error = match result {
        Ok(()) => return Ok(see_other(&format!("/submissions/{id}?notice=saved"))),
        Err(e) => e,
    };
    // Show the page again with what was typed and each error next to its answer.
    let mut fields = edit_fields(&original, &labels_of(&state, &row, lang).await);
    for f in &mut fields {
        if let Some(v) = typed.get(&f.name) {
            f.value.clone_from(v);
        }
    }
    let mut page = EditPage {
        c: Chrome::new(lang, Some(&caller), &uri, "sub.edit"),
        id,
        instance_id: row.instance_id.clone(),
        fields,
        reason,
        reason_error: None,
        errors: Vec::new(),
    };
    page.c.title = format!("{} — {}", lang.t("sub.edit"), row.instance_id);
    let status = error.status_code();
    match error {
        ApiError::Invalid(errors) | ApiError::InvalidSubmission(errors) => {
            for e in errors {
                page.attach(&e);
            }
        }
        ApiError::Conflict { message, .. } | ApiError::BadRequest(message) => page.errors.push(message),
        other => return Err(PageError(other)),
    }
    Ok((if status == StatusCode::OK { StatusCode::BAD_REQUEST } else { status }, render(&page)).into_response())
}

impl EditPage {
    /// Puts an error next to its answer. Validation paths name the root
    /// (`data/group/q`, `data/household/member[2]/age`); the answer is the longest key that
    /// the path (without the root) starts with.
    fn attach(&mut self, e: &FieldError) {
        if e.field == "reason" {
            self.reason_error = Some(e.message.clone());
            self.errors.push(format!("{}: {}", self.c.t("sub.reason"), e.message));
            return;
        }
        let path = e.field.trim_start_matches('/');
        let candidates = [path, path.split_once('/').map_or(path, |(_, rest)| rest)];
        let found = self
            .fields
            .iter_mut()
            .filter(|f| {
                candidates.iter().any(|p| {
                    *p == f.key
                        || p.strip_prefix(f.key.as_str())
                            .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('/'))
                })
            })
            .max_by_key(|f| f.key.len());
        match found {
            Some(f) => {
                let message = if candidates.contains(&f.key.as_str()) {
                    e.message.clone()
                } else {
                    format!("{}: {}", e.field, e.message)
                };
                self.errors.push(format!("{}: {}", f.key, e.message));
                f.error = Some(message);
            }
            None => self.errors.push(format!("{}: {}", e.field, e.message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_edited_record_keeps_its_types_and_shape() {
        let original = json!({"age": 30, "name": "Ana", "g": {"q": "x", "n": 1.5}, "kids": [{"a": 1}], "meta": {"instanceID": "uuid:1"}});
        let fields = edit_fields(&original, &Labels::new());
        let keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["age", "name", "g/q", "g/n", "kids"], "in the record's order");
        let typed: std::collections::HashMap<String, String> = [
            ("answer:age", "31"),
            ("answer:name", ""),
            ("answer:g/q", "<b>y</b>"),
            ("answer:g/n", "2.5"),
            ("answer:kids", "[{\"a\": 2}]"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let rebuilt = rebuild(&original, &typed).unwrap();
        assert_eq!(
            rebuilt,
            json!({"age": 31, "name": null, "g": {"q": "<b>y</b>", "n": 2.5}, "kids": [{"a": 2}], "meta": {"instanceID": "uuid:1"}})
        );
        let mut bad = typed.clone();
        bad.insert("answer:kids".into(), "[{".into());
        assert_eq!(rebuild(&original, &bad).unwrap_err()[0].field, "kids");
    }

    #[test]
    fn answers_are_escaped_and_nested() {
        let labels: Labels = [("g/r/a".to_string(), "<i>A</i>".to_string())].into_iter().collect();
        let html = answers_html(&json!({"q": "<script>", "g": {"r": [{"a": "1"}, {"a": null}]}}), &labels, "—");
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(html.contains("<dt>&lt;i&gt;A&lt;/i&gt; <code>a</code></dt><dd>1</dd>"), "{html}");
        assert!(html.contains("<ol class=\"repeat\"><li><dl class=\"answers\"><dt>&lt;i&gt;A"));
        assert_eq!(path_segment("photo 1/é.jpg"), "photo%201%2F%C3%A9.jpg");
    }
}
