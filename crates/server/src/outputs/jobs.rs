//! Background exports of submissions: as many rows as a form has, in constant memory,
//! surviving restarts.
//!
//! A job is queued by [`create`], which decides once, from the creator's permissions,
//! which countries the rows come from and whether sensitive answers are included. The
//! server's [`Worker`] takes one job at a time: on its first run it fixes the columns (the
//! fixed ones and every field of every version of the form, oldest version first) and the
//! file; then it reads the submissions in id order after a cursor, a batch at a time,
//! appends them to the file, flushes it to disk and records `(cursor, rows, bytes)` in the
//! job. A job found `running` after a restart (its lease ran out) is resumed: the file is
//! cut back to the bytes recorded and the rows after the cursor are written, so the file is
//! byte for byte the one an uninterrupted run writes.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeDelta, Utc};
use rumbo_domain::permissions::Permission;
use rumbo_store::FieldError;
use rumbo_store::collection::{STATUSES, SubmissionFilter, SubmissionRow};
use rumbo_store::exports::{ExportJob, ExportProgress, NewExportJob};
use rumbo_store::model::Role;
use rumbo_xlsform::{Field, Kind, QuestionType};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Notify, watch};

use crate::AppState;
use crate::auth::Caller;
use crate::collect::ops::{self, require_form};
use crate::error::{ApiError, ApiResult};

/// Rows read and written per batch (and so between two records of progress).
pub const BATCH: i64 = 5_000;

/// How long a worker holds a job without recording progress before another may take it.
const LEASE: TimeDelta = TimeDelta::seconds(60);

/// How often an idle worker looks for jobs (it is also woken when one is queued).
const IDLE: Duration = Duration::from_secs(5);

pub use crate::collect::ops::FIXED_COLUMNS;

/// The exports folder and the signal that wakes the worker.
pub struct Exports {
    dir: PathBuf,
    /// This process's name as a worker (jobs are leased to it).
    worker: String,
    wake: Notify,
}

impl Exports {
    /// Exports written under `dir` (created when the first one runs).
    pub fn new(dir: PathBuf) -> Self {
        let worker = format!("worker-{}", &rumbo_domain::secrets::new_secret("")[..12]);
        Self { dir, worker, wake: Notify::new() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Tells the worker a job is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Whether sensitive answers are in an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sensitive {
    /// The creator reviews submissions: sensitive answers are included.
    Include,
    /// The creator does not: the columns of sensitive questions are left out.
    Drop,
}

/// What the creator of a job may see, decided once when it is created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Access {
    /// The countries the rows come from (`None`: every country).
    pub scope: Option<Vec<String>>,
    pub sensitive: Sensitive,
}

/// The filters of an export: those of the review table.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportFilter {
    /// ISO alpha-3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_id: Option<i64>,
    /// Username of whoever submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter: Option<String>,
    /// `received`, `approved`, `rejected` or `flagged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Only submissions with (`true`) or without (`false`) validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<bool>,
    /// Collected on or after this day (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Collected on or before this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// The deleted submissions (the bin) instead of the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    /// Part of an instance id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

impl ExportFilter {
    /// The store's filter, limited to `scope`.
    pub fn submission_filter(&self, scope: Option<Vec<String>>) -> SubmissionFilter {
        SubmissionFilter {
            country: self.country.clone(),
            site_id: self.site_id,
            round_id: self.round_id,
            submitter: self.submitter.clone(),
            status: self.status.clone(),
            errors: self.errors,
            from: self.from,
            to: self.to,
            deleted: self.deleted,
            q: self.q.clone(),
            limit: None,
            offset: None,
            scope,
        }
    }

    /// Trims the texts (an empty one is no filter) and checks the values.
    fn clean(mut self) -> ApiResult<Self> {
        let tidy = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        self.country = tidy(self.country).map(|c| c.to_uppercase());
        self.submitter = tidy(self.submitter);
        self.status = tidy(self.status);
        self.q = tidy(self.q);
        let mut problems = Vec::new();
        if let Some(s) = &self.status
            && !STATUSES.contains(&s.as_str())
        {
            problems.push(FieldError::new("status", format!("`{s}` is not a status; use {}", STATUSES.join(", "))));
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            problems.push(FieldError::new("to", format!("{to} is before `from` ({from})")));
        }
        if self.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            problems.push(FieldError::new("q", "is longer than 200 characters"));
        }
        if self.submitter.as_ref().is_some_and(|s| s.chars().count() > 200) {
            problems.push(FieldError::new("submitter", "is longer than 200 characters"));
        }
        if problems.is_empty() { Ok(self) } else { Err(ApiError::Invalid(problems)) }
    }
}

/// An export to start: a form, a format and the review table's filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The form's id.
    pub form: i64,
    /// `csv` (the default): the one format that streams and resumes.
    #[serde(default)]
    pub format: Option<String>,
    /// ISO alpha-3.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub site_id: Option<i64>,
    #[serde(default)]
    pub round_id: Option<i64>,
    /// Username of whoever submitted.
    #[serde(default)]
    pub submitter: Option<String>,
    /// `received`, `approved`, `rejected` or `flagged`.
    #[serde(default)]
    pub status: Option<String>,
    /// Only submissions with (`true`) or without (`false`) validation errors.
    #[serde(default)]
    pub errors: Option<bool>,
    /// Collected on or after this day (`YYYY-MM-DD`).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Collected on or before this day.
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// The deleted submissions (the bin) instead of the others.
    #[serde(default)]
    pub deleted: Option<bool>,
    /// Part of an instance id.
    #[serde(default)]
    pub q: Option<String>,
}

impl ExportRequest {
    /// The filters asked for.
    pub fn filter(&self) -> ExportFilter {
        ExportFilter {
            country: self.country.clone(),
            site_id: self.site_id,
            round_id: self.round_id,
            submitter: self.submitter.clone(),
            status: self.status.clone(),
            errors: self.errors,
            from: self.from,
            to: self.to,
            deleted: self.deleted,
            q: self.q.clone(),
        }
    }
}

/// Queues an export of a form's submissions for `caller`, who must be able to read them.
/// Rows come from the caller's countries; sensitive answers are included only for callers
/// who review submissions.
pub async fn create(state: &AppState, caller: &Caller, request: ExportRequest) -> ApiResult<ExportJob> {
    let format = request.format.as_deref().map_or("csv", str::trim).to_ascii_lowercase();
    if format != "csv" {
        return Err(ApiError::invalid(
            "format",
            format!(
                "`{format}` cannot be written in the background: use `csv` (XLSX and GeoJSON are offered for aggregates)"
            ),
        ));
    }
    let form = ops::form(state, caller, request.form).await?;
    require_form(caller, &form, Permission::ViewSubmissions)?;
    let filter = request.filter().clean()?;
    if let Some(c) = &filter.country {
        if !form.countries.contains(c) {
            return Err(ApiError::invalid("country", format!("{c} is not a country of form {}", form.xml_form_id)));
        }
        caller.require(Permission::ViewSubmissions, Some(c))?;
    }
    if let Some(site) = filter.site_id {
        state.store.site(site).await.map_err(|_| ApiError::invalid("site_id", format!("there is no site {site}")))?;
    }
    if let Some(round) = filter.round_id {
        state
            .store
            .round(round)
            .await
            .map_err(|_| ApiError::invalid("round_id", format!("there is no round {round}")))?;
    }
    let access = Access {
        scope: caller.scope(),
        sensitive: if caller.allows(Permission::ReviewSubmissions, None) {
            Sensitive::Include
        } else {
            Sensitive::Drop
        },
    };
    let new = NewExportJob {
        user_id: caller.user.id,
        form_id: form.id,
        format,
        filter: serde_json::to_value(&filter).unwrap_or_default(),
        access: serde_json::to_value(&access).unwrap_or_default(),
        country: filter.country.clone(),
    };
    let job = state.store.create_export_job(&caller.actor(), &new).await?;
    state.exports.wake();
    Ok(job)
}

/// The access decided for a job.
pub fn access_of(job: &ExportJob) -> Access {
    // A job whose access cannot be read shows nothing sensitive to anyone.
    serde_json::from_str(&job.access).unwrap_or(Access { scope: Some(Vec::new()), sensitive: Sensitive::Drop })
}

/// Whether `caller` may see a job (and cancel or delete it): its creator, or an
/// administrator of every country its rows may come from.
pub fn may_see(caller: &Caller, job: &ExportJob) -> bool {
    if !caller.user.active {
        return false;
    }
    if job.user_id == caller.user.id {
        return true;
    }
    if caller.user.role != Role::Admin {
        return false;
    }
    match access_of(job).scope {
        None => caller.user.all_countries,
        Some(countries) => countries.iter().all(|c| caller.user.covers(c)),
    }
}

/// Whether `caller` may read a job's file now: someone who sees the job and still reads
/// the form's submissions (and reviews them, when the file holds sensitive answers).
pub async fn may_download(state: &AppState, caller: &Caller, job: &ExportJob) -> ApiResult<()> {
    if !may_see(caller, job) {
        return Err(ApiError::NotFound(format!("export {}", job.id)));
    }
    let form = ops::form(state, caller, job.form_id).await?;
    require_form(caller, &form, Permission::ViewSubmissions)?;
    if access_of(job).sensitive == Sensitive::Include {
        caller.require(Permission::ReviewSubmissions, None)?;
    }
    Ok(())
}

// ---- the columns ----

/// One answer column of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The answer's path in the record: groups joined with `/` (`household/size`).
    pub path: String,
    /// The question (or a group around it) is marked sensitive.
    pub sensitive: bool,
    /// For a repeat (written whole, as JSON): the sensitive answers inside each entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden_within: Vec<String>,
}

/// The columns of a job, fixed on its first run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub columns: Vec<Column>,
}

impl Plan {
    /// The header row.
    pub fn header(&self) -> Vec<String> {
        FIXED_COLUMNS.iter().map(|c| (*c).to_string()).chain(self.columns.iter().map(|c| c.path.clone())).collect()
    }
}

/// The answer columns of one form version, in form order.
pub fn version_columns(fields: &[Field], sensitive_paths: &[String]) -> Vec<Column> {
    fn walk(fields: &[Field], prefix: &str, inherited: bool, listed: &[String], out: &mut Vec<Column>) {
        for field in fields {
            let path = if prefix.is_empty() { field.name.clone() } else { format!("{prefix}/{}", field.name) };
            let sensitive = inherited || field.sensitive || listed.contains(&path);
            match &field.kind {
                Some(Kind::Group) if field.flat => walk(&field.children, prefix, sensitive, listed, out),
                Some(Kind::Group) => walk(&field.children, &path, sensitive, listed, out),
                Some(Kind::Repeat) => {
                    let mut inside = Vec::new();
                    walk(&field.children, "", false, &[], &mut inside);
                    let hidden_within = inside.into_iter().filter(|c| c.sensitive).map(|c| c.path).collect();
                    out.push(Column { path, sensitive, hidden_within });
                }
                Some(Kind::Question(QuestionType::Note)) | None => {}
                Some(Kind::Question(_)) => out.push(Column { path, sensitive, hidden_within: Vec::new() }),
            }
        }
    }
    // The validator's paths start with the root element (`/data/…`).
    let listed: Vec<String> = sensitive_paths
        .iter()
        .filter_map(|p| p.trim_start_matches('/').split_once('/').map(|(_, r)| r.to_string()))
        .collect();
    let mut out = Vec::new();
    walk(fields, "", false, &listed, &mut out);
    out
}

/// Every column of every version of a form, oldest version first (a field that came later
/// is added at the end; one marked sensitive in any version stays sensitive); sensitive
/// columns are left out when the creator may not see them.
async fn plan(state: &AppState, form_id: i64, sensitive: Sensitive) -> ApiResult<Plan> {
    let mut versions = state.store.form_versions(form_id).await?;
    versions.reverse();
    let mut columns: Vec<Column> = Vec::new();
    for version in versions {
        let compiled = state.collect.compiled(version.id).await?;
        for column in version_columns(&compiled.form.fields, compiled.validator.sensitive_paths()) {
            match columns.iter_mut().find(|c| c.path == column.path) {
                Some(known) => {
                    known.sensitive |= column.sensitive;
                    for inner in column.hidden_within {
                        if !known.hidden_within.contains(&inner) {
                            known.hidden_within.push(inner);
                        }
                    }
                }
                None => columns.push(column),
            }
        }
    }
    if sensitive == Sensitive::Drop {
        columns.retain(|c| !c.sensitive);
    }
    Ok(Plan { columns })
}

// ---- the rows ----

/// Writes one submission as a CSV record.
pub fn write_row<W: Write>(
    out: &mut csv::Writer<W>,
    plan: &Plan,
    sensitive: Sensitive,
    row: &SubmissionRow,
) -> csv::Result<()> {
    // As in the review table: sensitive answers only for reviewers, and never for a
    // submission without a country.
    let reveal = sensitive == Sensitive::Include && row.country_code.is_some();
    let data: Value = serde_json::from_str(&row.data).unwrap_or(Value::Null);
    let fixed = crate::collect::ops::fixed_cells(row);
    for cell in &fixed {
        out.write_field(crate::pages::spreadsheet_safe(cell).as_bytes())?;
    }
    for column in &plan.columns {
        let value = lookup(&data, &column.path);
        let text = if reveal {
            answer_text(value)
        } else if column.sensitive {
            String::new()
        } else if column.hidden_within.is_empty() {
            answer_text(value)
        } else {
            let mut value = value.cloned().unwrap_or(Value::Null);
            for inner in &column.hidden_within {
                strip(&mut value, &inner.split('/').collect::<Vec<_>>());
            }
            answer_text(Some(&value))
        };
        out.write_field(crate::pages::spreadsheet_safe(&text).as_bytes())?;
    }
    out.write_record(None::<&[u8]>)
}

/// The value at `group/question` in a record.
fn lookup<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(data, |v, key| v.get(key))
}

/// Removes the answer at `parts` inside every entry of a repeat (and nested repeats).
fn strip(value: &mut Value, parts: &[&str]) {
    match (value, parts) {
        (Value::Array(items), parts) => items.iter_mut().for_each(|item| strip(item, parts)),
        (Value::Object(map), [last]) => {
            map.remove(*last);
        }
        (Value::Object(map), [first, rest @ ..]) => {
            if let Some(inner) = map.get_mut(*first) {
                strip(inner, rest);
            }
        }
        _ => {}
    }
}

/// An answer as one cell: lists joined with spaces, points as `lat lon alt accuracy` (as
/// ODK writes them), repeats as JSON.
fn answer_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")
        }
        Some(Value::Object(point)) if point.contains_key("latitude") => {
            ["latitude", "longitude", "altitude", "accuracy"]
                .iter()
                .filter_map(|k| point.get(*k).filter(|v| !v.is_null()).map(ToString::to_string))
                .collect::<Vec<_>>()
                .join(" ")
        }
        Some(v) => v.to_string(),
    }
}

// ---- the worker ----

/// How a run of a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed,
    /// The job was cancelled, deleted or taken over by another worker while it ran.
    Lost,
    /// The server is stopping: the job was given back, to be resumed on the next start.
    Stopped,
    /// `max_batches` were written (tests: a crash after that many batches).
    Paused,
}

/// How to run a job.
#[derive(Debug, Clone)]
pub struct Run {
    /// The worker the job is leased to.
    pub worker: String,
    pub batch: i64,
    /// Stop (without finishing or giving the job back) after this many batches.
    pub max_batches: Option<usize>,
}

impl Run {
    pub fn new(worker: &str) -> Self {
        Self { worker: worker.to_string(), batch: BATCH, max_batches: None }
    }
}

/// Takes the next job for `worker`: one left running by a stopped process first, then the
/// oldest queued one.
pub async fn claim(state: &AppState, worker: &str, now: chrono::DateTime<Utc>) -> ApiResult<Option<i64>> {
    Ok(state.store.claim_export_job(worker, now, LEASE).await?)
}

/// Runs a claimed job until it is done (or stopped, or lost). A failure is recorded in the
/// job; only a failure to record it comes back as an error.
pub async fn run_job(state: &AppState, id: i64, run: &Run, stop: Option<&watch::Receiver<bool>>) -> ApiResult<Outcome> {
    match write_job(state, id, run, stop).await {
        Ok(outcome) => Ok(outcome),
        Err(e) => {
            let message = match &e {
                ApiError::Internal(detail) => {
                    tracing::error!(job = id, %detail, "export failed");
                    "internal error: see the server's log".to_string()
                }
                other => other.to_string(),
            };
            if let Ok(job) = state.store.export_job(id).await
                && let Some(path) = &job.file_path
            {
                let _ = tokio::fs::remove_file(path).await;
            }
            state.store.finish_export_job(id, &run.worker, Some(&message)).await?;
            Ok(Outcome::Failed)
        }
    }
}

/// The file of a job, open for appending at the recorded length (or written anew).
struct Output {
    file: File,
    progress: ExportProgress,
}

async fn write_job(state: &AppState, id: i64, run: &Run, stop: Option<&watch::Receiver<bool>>) -> ApiResult<Outcome> {
    let mut job = state.store.export_job(id).await?;
    let access = access_of(&job);
    let filter: ExportFilter = serde_json::from_str(&job.filter)
        .map_err(|e| ApiError::Internal(format!("the filter of export {id} does not read: {e}")))?;
    let filter = filter.submission_filter(access.scope.clone());
    let internal = |e: std::io::Error| ApiError::Internal(format!("export {id}: {e}"));
    if job.columns.is_empty() {
        // First run: fix the columns, the size estimate and the file.
        let plan = plan(state, job.form_id, access.sensitive).await?;
        let total = state.store.count_submissions(job.form_id, &filter).await?;
        tokio::fs::create_dir_all(state.exports.dir()).await.map_err(internal)?;
        let name = format!("export-{id}-{}.csv", &rumbo_domain::secrets::new_secret("")[..16]);
        let path = state.exports.dir().join(name).to_string_lossy().into_owned();
        let columns = serde_json::to_string(&plan).unwrap_or_default();
        if !state.store.plan_export_job(id, &run.worker, &columns, total, &path).await? {
            return Ok(Outcome::Lost);
        }
        job = state.store.export_job(id).await?;
    }
    let plan: Arc<Plan> = Arc::new(
        serde_json::from_str(&job.columns)
            .map_err(|e| ApiError::Internal(format!("the columns of export {id} do not read: {e}")))?,
    );
    let path =
        PathBuf::from(job.file_path.clone().ok_or_else(|| ApiError::Internal(format!("export {id} has no file")))?);
    let recorded =
        ExportProgress { cursor_id: job.cursor_id, rows_done: job.rows_done, bytes_written: job.bytes_written };
    let header = plan.header();
    let mut output = blocking(move || open_output(&path, recorded, &header)).await?.map_err(internal)?;
    if output.progress != recorded && !record(state, id, run, output.progress).await? {
        return Ok(Outcome::Lost);
    }
    let mut batches = 0;
    let mut rows = state.store.submissions_after(job.form_id, &filter, output.progress.cursor_id, run.batch).await?;
    loop {
        if stop.is_some_and(|s| *s.borrow()) {
            state.store.release_export_job(id, &run.worker).await?;
            return Ok(Outcome::Stopped);
        }
        if rows.is_empty() {
            blocking(move || output.file.sync_all()).await?.map_err(internal)?;
            return Ok(if state.store.finish_export_job(id, &run.worker, None).await? {
                Outcome::Done
            } else {
                Outcome::Lost
            });
        }
        // The next batch is read while this one is written.
        let after = rows.last().map_or(output.progress.cursor_id, |r| r.id);
        let plan = plan.clone();
        let sensitive = access.sensitive;
        let write = blocking(move || append(output, &plan, sensitive, &rows));
        let read = state.store.submissions_after(job.form_id, &filter, after, run.batch);
        let (written, next) = tokio::join!(write, read);
        output = written?.map_err(internal)?;
        if !record(state, id, run, output.progress).await? {
            // Cancelled or deleted while this batch was written: the file goes too.
            if state.store.export_job(id).await.map_or(true, |j| j.status == "cancelled") {
                let _ = tokio::fs::remove_file(PathBuf::from(job.file_path.clone().unwrap_or_default())).await;
            }
            return Ok(Outcome::Lost);
        }
        batches += 1;
        if run.max_batches.is_some_and(|max| batches >= max) {
            return Ok(Outcome::Paused);
        }
        rows = next?;
    }
}

/// Records progress and renews the lease; `false` when the job is no longer this worker's.
async fn record(state: &AppState, id: i64, run: &Run, progress: ExportProgress) -> ApiResult<bool> {
    Ok(state.store.record_export_progress(id, &run.worker, progress, Utc::now() + LEASE).await?)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))
}

/// Opens a job's file where its last recorded batch ended: a new file gets the header;
/// a file shorter than recorded (lost in a crash of the machine) is started again.
fn open_output(path: &Path, recorded: ExportProgress, header: &[String]) -> std::io::Result<Output> {
    let existing = std::fs::metadata(path).map(|m| m.len()).ok();
    let resumable = recorded.bytes_written > 0 && existing.is_some_and(|len| len >= recorded.bytes_written as u64);
    let mut file = std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(path)?;
    if resumable {
        // Whatever was written after the last record is written again.
        file.set_len(recorded.bytes_written as u64)?;
        file.seek(SeekFrom::End(0))?;
        return Ok(Output { file, progress: recorded });
    }
    file.set_len(0)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(header)?;
    let bytes = out.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
    file.write_all(&bytes)?;
    file.sync_data()?;
    Ok(Output { file, progress: ExportProgress { cursor_id: 0, rows_done: 0, bytes_written: bytes.len() as i64 } })
}

/// Appends a batch and makes it durable before its progress is recorded.
fn append(mut output: Output, plan: &Plan, sensitive: Sensitive, rows: &[SubmissionRow]) -> std::io::Result<Output> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 256));
    for row in rows {
        write_row(&mut out, plan, sensitive, row)?;
    }
    let bytes = out.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
    output.file.write_all(&bytes)?;
    output.file.sync_data()?;
    output.progress = ExportProgress {
        cursor_id: rows.last().map_or(output.progress.cursor_id, |r| r.id),
        rows_done: output.progress.rows_done + rows.len() as i64,
        bytes_written: output.progress.bytes_written + bytes.len() as i64,
    };
    Ok(output)
}

/// The export worker of a running server.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts taking jobs, one at a time, beginning with those a previous run left.
    pub fn start(state: AppState) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(work(state, stopped));
        Self { stop, task }
    }

    /// Finishes the batch under way, gives the job back for the next start, and stops.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(30), self.task).await.is_err() {
            tracing::warn!("the export worker did not stop within 30 s");
        }
    }
}

async fn work(state: AppState, mut stop: watch::Receiver<bool>) {
    let worker = state.exports.worker.clone();
    let run = Run::new(&worker);
    loop {
        if *stop.borrow() {
            return;
        }
        match claim(&state, &worker, Utc::now()).await {
            Ok(Some(id)) => {
                tracing::info!(job = id, "export started");
                match run_job(&state, id, &run, Some(&stop)).await {
                    Ok(outcome) => tracing::info!(job = id, ?outcome, "export ended"),
                    Err(e) => {
                        tracing::error!(job = id, error = %e, "export could not record its end");
                        tokio::time::sleep(IDLE).await;
                    }
                }
            }
            Ok(None) => {
                tokio::select! {
                    () = state.exports.wake.notified() => {}
                    () = tokio::time::sleep(IDLE) => {}
                    _ = stop.changed() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for exports");
                tokio::select! {
                    () = tokio::time::sleep(IDLE) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(data: &str, country: Option<&str>) -> SubmissionRow {
        SubmissionRow {
            id: 7,
            form_id: 1,
            version: "1".into(),
            instance_id: "uuid:x".into(),
            country_code: country.map(str::to_string),
            site_id: None,
            site_code: None,
            round_id: None,
            round_name: None,
            submitter: "ana".into(),
            channel: "web".into(),
            status: "received".into(),
            complete: true,
            error_count: 0,
            edits: 0,
            collected_on: None,
            received_at: chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z").unwrap().to_utc(),
            updated_at: Utc::now(),
            deleted_at: None,
            data: data.into(),
            errors: "[]".into(),
        }
    }

    fn plan() -> Plan {
        let column = |path: &str, sensitive: bool, hidden: &[&str]| Column {
            path: path.into(),
            sensitive,
            hidden_within: hidden.iter().map(|h| (*h).to_string()).collect(),
        };
        Plan {
            columns: vec![
                column("name", true, &[]),
                column("hh/size", false, &[]),
                column("members", false, &["phone"]),
                column("where", false, &[]),
                column("needs", false, &[]),
                column("note", false, &[]),
            ],
        }
    }

    fn csv_of(sensitive: Sensitive, country: Option<&str>) -> String {
        let data = r#"{"name":"Ana","hh":{"size":3},"members":[{"age":4,"phone":"555"}],
            "where":{"latitude":7.9,"longitude":-72.5},"needs":["food","water"],"note":"=1+1"}"#;
        let mut out = csv::Writer::from_writer(Vec::new());
        write_row(&mut out, &plan(), sensitive, &row(data, country)).unwrap();
        String::from_utf8(out.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn answers_become_cells_and_sensitive_ones_stay_with_reviewers() {
        let all = csv_of(Sensitive::Include, Some("COL"));
        assert!(all.starts_with("7,uuid:x,1,COL,,,ana,web,received,0,0,,2026-11-27T10:00:00+00:00,Ana,3,"), "{all}");
        assert!(all.contains(r#""[{""age"":4,""phone"":""555""}]""#), "{all}");
        assert!(all.contains(",7.9 -72.5,food water,'=1+1"), "{all}");
        // Without review rights (or without a country), the name is blank and the phone
        // inside the repeat is gone.
        for hidden in [csv_of(Sensitive::Drop, Some("COL")), csv_of(Sensitive::Include, None)] {
            assert!(!hidden.contains("Ana") && !hidden.contains("555"), "{hidden}");
            assert!(hidden.contains(r#""[{""age"":4}]""#), "{hidden}");
        }
    }

    #[test]
    fn columns_follow_the_form_with_groups_and_repeats() {
        let form = rumbo_xlsform::read_form(
            b"| survey |\n| | type | name | label | sensitive |\n| | text | name | Name | yes |\n\
              | | begin group | hh | Household | |\n| | integer | size | Size | |\n| | note | n | Note | |\n\
              | | end group | | | |\n| | begin repeat | members | Members | |\n| | text | phone | Phone | yes |\n\
              | | integer | age | Age | |\n| | end repeat | | | |\n\
              | settings |\n| | form_id | version |\n| | t | 1 |\n",
            Some("t.md"),
        )
        .unwrap();
        let validator = rumbo_xlsform::Validator::new(&form);
        let columns = version_columns(&form.fields, validator.sensitive_paths());
        let paths: Vec<&str> = columns.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["name", "hh/size", "members"]);
        assert!(columns[0].sensitive && !columns[1].sensitive);
        assert_eq!(columns[2].hidden_within, ["phone"]);
    }
}
