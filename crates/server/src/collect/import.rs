//! Bulk import of submissions from a spreadsheet: CSV (comma, semicolon or tab; UTF-8 with
//! or without BOM), XLSX or XLS (first sheet). A KoboToolbox or ODK Central export reads as
//! it is: columns find their questions by name, by group path (`group/question`), by label
//! in any language of the form, or by an explicit `column=field` mapping; the export's
//! bookkeeping columns are left out.
//!
//! Every import starts as a dry run: each row becomes a JSON record, is checked by the
//! form's validator and by [`super::Collection::prepare`] (permission, site and country),
//! and every problem is reported by spreadsheet row (the header is row 1) and column.
//! Nothing is written until the import is run in mode `all` (one transaction, refused if a
//! row is invalid) or `valid` (the valid rows, in batches; the others skipped and listed).
//!
//! Imports run as background jobs whose progress the page polls; a job is seen only by
//! whoever started it and is forgotten an hour after it ends.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use calamine::{Data, Reader};
use chrono::{NaiveDate, NaiveDateTime};
use rumbo_domain::permissions::Permission;
use rumbo_store::collection::{Channel, FormRecord, Ingested, NewSubmission};
use rumbo_xlsform::{Form, Kind, QuestionType};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::{OpenApi, ToSchema};

use super::{Envelope, Submitter, ops};
use crate::AppState;
use crate::auth::{ApiCaller, Caller, SignedIn};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::i18n::Lang;
use crate::pages::{Chrome, PageResult, render};

/// The largest file accepted.
pub const MAX_FILE: usize = 50 * 1024 * 1024;
/// The most data rows a file may hold.
pub const MAX_ROWS: usize = 100_000;
/// Rows stored per transaction in mode `valid`.
const BATCH: usize = 500;
/// Row errors kept in a report (the counts stay exact).
const MAX_ERRORS: usize = 2_000;
/// How long a finished job stays visible.
const KEEP_JOBS: Duration = Duration::from_hours(1);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/forms/{id}/imports",
            post(start).layer(axum::extract::DefaultBodyLimit::max(MAX_FILE + 256 * 1024)),
        )
        .route("/api/v1/imports/{job}", get(status))
        .route("/api/v1/imports/{job}/commit", post(commit))
        .route("/forms/{id}/import", get(page))
}

#[derive(OpenApi)]
#[openapi(
    paths(start, status, commit),
    components(schemas(Mode, Progress, Report, RowError, MappedColumn, JobStatus, JobStarted, CommitRequest)),
    tags((name = "imports", description = "Bulk import of submissions from CSV or Excel files (a KoboToolbox export reads as is): dry run first, then all-or-nothing or valid rows only.")),
)]
pub struct ImportDoc;

// ---- modes, progress and reports ----

/// What an import does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Checks every row and reports; writes nothing.
    DryRun,
    /// Stores every row in one transaction, or nothing if any row is invalid or was
    /// imported before.
    All,
    /// Stores the valid rows and skips (and lists) the others.
    Valid,
}

impl Mode {
    /// Reads `dry_run` (also empty), `all` or `valid`.
    pub fn parse(text: &str) -> ApiResult<Mode> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "" | "dry_run" | "dryrun" | "check" => Ok(Mode::DryRun),
            "all" | "all_or_nothing" => Ok(Mode::All),
            "valid" | "valid_only" | "valid_rows" => Ok(Mode::Valid),
            other => Err(ApiError::invalid("mode", format!("`{other}` is not a mode: use dry_run, all or valid"))),
        }
    }
}

/// How far a job is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    /// `checking`, `storing`, `done` or `failed`.
    pub phase: &'static str,
    pub checked: usize,
    pub stored: usize,
    pub total: usize,
}

/// A problem with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// The row as the spreadsheet numbers it (the header is row 1).
    pub row: usize,
    pub column: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

/// What a column of the file was used for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MappedColumn {
    pub column: String,
    /// The form field it answers (a path, `group/question`), or `meta/instanceID`.
    pub field: Option<String>,
    /// For a Kobo split select-multiple column (`question/choice`), the choice.
    pub choice: Option<String>,
    /// How it was matched: `explicit`, `name`, `path`, `label`, `choice`, `instance_id`;
    /// or why it is not used: `ignored`, `repeat`, `unmapped`.
    pub how: &'static str,
    pub note: Option<String>,
}

/// What an import found and did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub mode: Mode,
    pub file_name: String,
    pub form_id: i64,
    pub xml_form_id: String,
    pub form_version: String,
    /// Data rows in the file (empty rows not counted).
    pub rows: usize,
    pub valid: usize,
    pub invalid: usize,
    /// Submissions stored by this import.
    pub created: usize,
    /// Rows stored before (same instance, same answers): not stored again.
    pub duplicates: usize,
    /// Rows not stored (invalid, or refused by the store).
    pub skipped: usize,
    /// Why nothing was stored, for an all-or-nothing import that was refused.
    pub refused: Option<String>,
    /// Every column and what it was used for.
    pub mapping: Vec<MappedColumn>,
    pub unmapped_columns: Vec<String>,
    /// Questions of the form that no column answers.
    pub fields_without_column: Vec<String>,
    /// Columns that cannot be imported from a flat file (questions inside repeats).
    pub not_importable: Vec<String>,
    pub errors: Vec<RowError>,
    /// Whether more row errors were found than are listed.
    pub errors_truncated: bool,
    /// The rows not stored (mode `valid`).
    pub skipped_rows: Vec<usize>,
}

// ---- reading the file ----

/// A cell as read: spreadsheets keep numbers and dates typed, so they can be written the
/// way each question expects.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date or time cell; `dated` is false for a time of day alone.
    Moment {
        at: NaiveDateTime,
        dated: bool,
    },
}

impl Cell {
    fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, without regard to the question.
    fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) => number_text(*n),
            Cell::Bool(b) => b.to_string(),
            Cell::Moment { at, dated: true } if at.time() == chrono::NaiveTime::MIN => at.date().to_string(),
            Cell::Moment { at, dated: true } => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            Cell::Moment { at, dated: false } => at.format("%H:%M:%S").to_string(),
        }
    }

    /// The cell as the answer to a question of type `kind`.
    fn answer(&self, kind: QuestionType) -> String {
        use QuestionType as Q;
        match (self, kind) {
            (Cell::Moment { at, .. }, Q::Date | Q::Metadata(rumbo_xlsform::model::Metadata::Today)) => {
                at.date().to_string()
            }
            (Cell::Moment { at, .. }, Q::Time) => at.format("%H:%M:%S").to_string(),
            (
                Cell::Moment { at, .. },
                Q::DateTime | Q::Metadata(rumbo_xlsform::model::Metadata::Start | rumbo_xlsform::model::Metadata::End),
            ) => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            (Cell::Text(t), Q::Date) => {
                let t = t.trim();
                // `2024-05-01 00:00:00` or `2024-05-01T…`: the day is what a date holds.
                match t.get(..10).filter(|d| t.len() > 10 && NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()) {
                    Some(day) => day.to_string(),
                    None => t.to_string(),
                }
            }
            (Cell::Text(t), Q::Integer) => {
                let t = t.trim();
                match t.strip_suffix(".0").filter(|i| i.parse::<i64>().is_ok()) {
                    Some(i) => i.to_string(),
                    None => t.to_string(),
                }
            }
            _ => self.text(),
        }
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

/// A file read into a header and rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<String>,
    /// `(spreadsheet row number, cells)` of the non-empty data rows.
    pub rows: Vec<(usize, Vec<Cell>)>,
    /// A digest of the content (not of the bytes: a workbook saved again keeps it), from
    /// which rows without an instance id get stable ids.
    pub digest: String,
}

/// `A`, `B`, … `Z`, `AA`: a column as spreadsheets name it.
fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Reads a CSV or Excel file. Fails with a message a person can act on.
pub fn read_table(bytes: &[u8], file_name: &str) -> ApiResult<Table> {
    if bytes.is_empty() {
        return Err(ApiError::invalid("file", "the file is empty"));
    }
    if bytes.len() > MAX_FILE {
        return Err(ApiError::TooLarge(format!("a file to import may be at most {} MB", MAX_FILE / (1024 * 1024))));
    }
    let excel_name = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xls"));
    let spreadsheet = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    let raw = if spreadsheet {
        read_workbook(bytes)?
    } else if excel_name {
        return Err(ApiError::UnsupportedMediaType(format!(
            "{file_name} is named like an Excel workbook but is not one; is it damaged?"
        )));
    } else {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(body).ok().filter(|t| !t.contains('\0')).ok_or_else(|| {
            ApiError::UnsupportedMediaType(
                "this file is neither a CSV file in UTF-8 nor an Excel workbook (.xlsx, .xls): save it as \"CSV UTF-8\" or as .xlsx".into(),
            )
        })?;
        read_csv(text)?
    };
    table_of(raw)
}

fn table_of(raw: Vec<(usize, Vec<Cell>)>) -> ApiResult<Table> {
    let mut rows = raw.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let Some((_, header)) = rows.next() else {
        return Err(ApiError::invalid("file", "the file has no header row: its first row must name the columns"));
    };
    let mut columns: Vec<String> = header.iter().map(Cell::text).collect();
    let data: Vec<(usize, Vec<Cell>)> = rows.collect();
    if data.len() > MAX_ROWS {
        return Err(ApiError::TooLarge(format!(
            "the file has {} rows: at most {MAX_ROWS} can be imported at once; split it",
            data.len()
        )));
    }
    if data.is_empty() {
        return Err(ApiError::invalid("file", "the file has a header row but no rows of data below it"));
    }
    let width = data.iter().map(|(_, c)| c.len()).max().unwrap_or(0).max(columns.len());
    columns.resize(width, String::new());
    for (i, c) in columns.iter_mut().enumerate() {
        if c.is_empty() {
            *c = format!("(column {})", column_letter(i));
        }
    }
    let mut hash = Sha256::new();
    for c in &columns {
        hash.update(c.as_bytes());
        hash.update([0x1f]);
    }
    for (row, cells) in &data {
        hash.update(row.to_le_bytes());
        for c in cells {
            hash.update(c.text().as_bytes());
            hash.update([0x1f]);
        }
        hash.update([0x1e]);
    }
    Ok(Table { columns, rows: data, digest: hex::encode(hash.finalize()) })
}

/// The delimiter of a CSV file: whichever of `,`, `;` and tab appears most in its first
/// line (outside quotes).
fn delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for ch in text.chars() {
        match ch {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|i| (counts[*i], 3 - i)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

fn read_csv(text: &str) -> ApiResult<Vec<(usize, Vec<Cell>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // Spreadsheets show a quoted cell with line breaks on one row: count rows, not lines.
    let mut breaks = 0u64;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let at = e.position().map(|p| format!(" at line {}", p.line())).unwrap_or_default();
            ApiError::invalid("file", format!("the CSV file could not be read{at}: {e}"))
        })?;
        let (mut line, byte) = record.position().map_or((0, 0), |p| (p.line(), p.byte()));
        // Blank lines before a record are skipped by the reader but are rows of the sheet.
        let blank = text.as_bytes().get(usize::try_from(byte).unwrap_or(usize::MAX)..).unwrap_or_default();
        line += blank.iter().take_while(|b| matches!(b, b'\n' | b'\r')).filter(|b| **b == b'\n').count() as u64;
        let row = usize::try_from(line.saturating_sub(breaks)).unwrap_or(usize::MAX);
        breaks += record.iter().map(|f| f.matches('\n').count() as u64).sum::<u64>();
        if rows.len() > MAX_ROWS + 1 {
            return Err(ApiError::TooLarge(format!(
                "the file has more than {MAX_ROWS} rows: at most {MAX_ROWS} can be imported at once; split it"
            )));
        }
        rows.push((row, record.iter().map(|f| Cell::Text(f.to_string())).collect()));
    }
    Ok(rows)
}

fn read_workbook(bytes: &[u8]) -> ApiResult<Vec<(usize, Vec<Cell>)>> {
    // 100,000 rows of 100 columns, or any other shape of that many cells.
    rumbo_xlsform::read::check_xlsx_extent(bytes, 10_000_000).map_err(ApiError::TooLarge)?;
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| {
        let text = e.to_string();
        if text.to_ascii_lowercase().contains("password") || text.contains("ncrypt") {
            ApiError::invalid(
                "file",
                "the workbook is protected by a password; save it without one and upload it again",
            )
        } else {
            ApiError::UnsupportedMediaType(format!("the file could not be read as an Excel workbook ({text})"))
        }
    })?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| ApiError::invalid("file", "the workbook has no sheet"))?
        .map_err(|e| ApiError::invalid("file", format!("the first sheet could not be read: {e}")))?;
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::new();
    for (index, row) in range.rows().enumerate() {
        if rows.len() > MAX_ROWS + 1 {
            return Err(ApiError::TooLarge(format!(
                "the sheet has more than {MAX_ROWS} rows: at most {MAX_ROWS} can be imported at once; split it"
            )));
        }
        let mut cells = vec![Cell::Empty; first_column as usize];
        cells.extend(row.iter().map(cell_of));
        rows.push((first_row as usize + index + 1, cells));
    }
    Ok(rows)
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(t) => Cell::Text(t.replace('\u{a0}', " ")),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(moment) => {
            let serial = moment.as_f64();
            let (y, mo, d, h, mi, s, _) = moment.to_ymd_hms_milli();
            let time = chrono::NaiveTime::from_hms_opt(u32::from(h), u32::from(mi), u32::from(s));
            match (NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d)), time) {
                (Some(day), Some(time)) if serial >= 1.0 => Cell::Moment { at: day.and_time(time), dated: true },
                (_, Some(time)) if serial < 1.0 => Cell::Moment { at: NaiveDate::MIN.and_time(time), dated: false },
                _ => Cell::Number(serial),
            }
        }
        Data::DateTimeIso(t) | Data::DurationIso(t) => Cell::Text(t.clone()),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

// ---- the form's fields ----

/// Lower case, without accents, punctuation or markup: how labels and headers compare.
fn normalise(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            _ => plain.push(ch),
        }
    }
    let mut out = String::with_capacity(plain.len());
    for ch in plain.chars().flat_map(char::to_lowercase) {
        let ch = match ch {
            'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'ý' | 'ÿ' => 'y',
            c => c,
        };
        if ch.is_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim_end().to_string()
}

/// A question of the form a column can answer.
#[derive(Debug, Clone)]
struct Question {
    name: String,
    /// Where the answer goes in the JSON record (flat groups left out).
    record_path: Vec<String>,
    /// `group/question`, as exports name it.
    path: String,
    kind: QuestionType,
    /// The enclosing repeat, if any: not importable from a flat file.
    repeat: Option<String>,
    /// `(name, normalised labels)` of the choices of a select.
    choices: Vec<(String, Vec<String>)>,
    /// Whether people answer it (not a calculation or device metadata).
    asked: bool,
}

/// The form's questions, found by name, path or label.
struct Questions {
    list: Vec<Question>,
    by_key: HashMap<String, usize>,
    by_label: HashMap<String, Vec<usize>>,
}

const SEPARATORS: [char; 4] = ['/', '-', '.', ':'];

impl Questions {
    fn new(form: &Form) -> Self {
        let mut list = Vec::new();
        let mut by_key = HashMap::new();
        let mut by_label: HashMap<String, Vec<usize>> = HashMap::new();
        for (path, field) in form.walk() {
            let Some(Kind::Question(kind)) = field.kind else { continue };
            if matches!(kind, QuestionType::Note | QuestionType::Trigger | QuestionType::ExternalInstance { .. }) {
                continue;
            }
            // The ancestors: the fields named by the path before this one.
            let mut ancestors = Vec::new();
            let mut level = &form.fields;
            for name in &path[..path.len() - 1] {
                if let Some(f) = level.iter().find(|f| f.name == *name) {
                    ancestors.push(f);
                    level = &f.children;
                }
            }
            let repeat = ancestors.iter().rev().find(|f| f.is_repeat()).map(|f| f.name.clone());
            let mut record_path: Vec<String> = ancestors.iter().filter(|f| !f.flat).map(|f| f.name.clone()).collect();
            record_path.push(field.name.clone());
            let choices = field
                .list
                .as_deref()
                .and_then(|l| form.choice_list(l))
                .map(|l| {
                    l.choices
                        .iter()
                        .map(|c| (c.name.clone(), c.label.0.values().map(|t| normalise(t)).collect()))
                        .collect()
                })
                .unwrap_or_default();
            let index = list.len();
            let joined: Vec<&str> = path.clone();
            by_key.entry(field.name.clone()).or_insert(index);
            for sep in SEPARATORS {
                by_key.entry(joined.join(&sep.to_string())).or_insert(index);
            }
            for label in field.label.0.values() {
                let key = normalise(label);
                if !key.is_empty() {
                    let entry = by_label.entry(key).or_default();
                    if !entry.contains(&index) {
                        entry.push(index);
                    }
                }
            }
            list.push(Question {
                name: field.name.clone(),
                record_path,
                path: joined.join("/"),
                kind,
                repeat,
                choices,
                asked: kind.control().is_some() && !kind.is_attachment(),
            });
        }
        Questions { list, by_key, by_label }
    }

    /// A question by name or path (exactly as written).
    fn by_name(&self, text: &str) -> Option<usize> {
        self.by_key.get(text.trim()).copied()
    }

    /// A question by label, if exactly one has it.
    fn by_label(&self, text: &str) -> Result<Option<usize>, String> {
        match self.by_label.get(&normalise(text)).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([one]) => Ok(Some(*one)),
            Some(many) => Err(format!(
                "the label fits several questions ({}): map it explicitly",
                many.iter().map(|i| self.list[*i].path.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

// ---- mapping columns to questions ----

#[derive(Debug, Clone, PartialEq)]
enum Use {
    Question(usize),
    Choice(usize, String),
    InstanceId,
    Ignored,
    Repeat(usize),
    Unmapped,
}

/// The instance-id columns, best first.
const ID_COLUMNS: [&str; 7] =
    ["meta/instanceid", "meta-instanceid", "meta.instanceid", "instanceid", "_uuid", "uuid", "_id"];

fn is_bookkeeping(header: &str) -> bool {
    let lower = header.trim().to_ascii_lowercase();
    lower.starts_with('_')
        || ["formhub", "meta", "__version__"]
            .iter()
            .any(|p| lower == *p || SEPARATORS.iter().any(|s| lower.starts_with(&format!("{p}{s}"))))
}

/// How the columns of a file are used.
struct Mapping {
    uses: Vec<Use>,
    report: Vec<MappedColumn>,
    /// The column of each question, for locating errors.
    column_of: HashMap<String, String>,
    id_column: Option<usize>,
}

/// Splits `question/choice` (any separator) when `question` is a select_multiple and
/// `choice` one of its choices (by name or label).
fn split_choice(questions: &Questions, text: &str) -> Option<(usize, String)> {
    for sep in SEPARATORS {
        let Some((head, tail)) = text.rsplit_once(sep) else { continue };
        let Some(question) = questions.by_name(head).or_else(|| questions.by_label(head).ok().flatten()) else {
            continue;
        };
        let q = &questions.list[question];
        if q.kind != QuestionType::SelectMultiple {
            continue;
        }
        let tail = tail.trim();
        let key = normalise(tail);
        if let Some((name, _)) =
            q.choices.iter().find(|(name, _)| name == tail).or_else(|| q.choices.iter().find(|(_, l)| l.contains(&key)))
        {
            return Some((question, name.clone()));
        }
    }
    None
}

/// What a column header (or the right side of an explicit mapping) names, and how.
fn resolve(questions: &Questions, header: &str) -> (Use, &'static str, Option<String>) {
    let trimmed = header.trim();
    let lower = trimmed.to_ascii_lowercase();
    if ID_COLUMNS.contains(&lower.as_str()) {
        return (Use::InstanceId, "instance_id", None);
    }
    let question = |i: usize, how| {
        let q = &questions.list[i];
        match &q.repeat {
            Some(r) => (
                Use::Repeat(i),
                "repeat",
                Some(format!("`{}` is inside the repeat `{r}`: repeats cannot be imported from a flat file", q.path)),
            ),
            None => (Use::Question(i), how, None),
        }
    };
    if let Some(i) = questions.by_name(trimmed) {
        return question(i, if questions.list[i].name == trimmed { "name" } else { "path" });
    }
    if let Some((i, choice)) = split_choice(questions, trimmed) {
        return (Use::Choice(i, choice), "choice", None);
    }
    if is_bookkeeping(trimmed) {
        return (Use::Ignored, "ignored", Some("bookkeeping column of the export".into()));
    }
    for sep in SEPARATORS {
        if let Some(i) = trimmed.rsplit_once(sep).and_then(|(_, tail)| questions.by_name(tail)) {
            return question(i, "path");
        }
    }
    let mut ambiguous = None;
    for text in [Some(trimmed), trimmed.rsplit_once('/').map(|(_, tail)| tail)].into_iter().flatten() {
        match questions.by_label(text) {
            Ok(Some(i)) => return question(i, "label"),
            Ok(None) => {}
            Err(e) => ambiguous = ambiguous.or(Some(e)),
        }
    }
    (Use::Unmapped, "unmapped", ambiguous)
}

/// Reads an explicit mapping: lines `column=field` (or `column=` to leave a column out).
pub fn parse_mapping(text: &str) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((column, field)) = line.rsplit_once('=') else {
            return Err(ApiError::invalid(
                "mapping",
                format!("line {}: write `column=field` (or `column=` to skip it)", n + 1),
            ));
        };
        out.push((column.trim().to_string(), field.trim().to_string()));
    }
    Ok(out)
}

impl Mapping {
    fn new(questions: &Questions, columns: &[String], explicit: &[(String, String)]) -> ApiResult<Self> {
        let mut resolved: Vec<(Use, &'static str, Option<String>)> = Vec::with_capacity(columns.len());
        let mut explicit_at = vec![false; columns.len()];
        for (column, target) in explicit {
            let Some(at) = columns
                .iter()
                .position(|c| c == column)
                .or_else(|| columns.iter().position(|c| c.trim().eq_ignore_ascii_case(column.trim())))
            else {
                return Err(ApiError::invalid("mapping", format!("the file has no column `{column}`")));
            };
            explicit_at[at] = true;
            let _ = target;
        }
        for (at, column) in columns.iter().enumerate() {
            let explicit = explicit_at[at]
                .then(|| {
                    explicit.iter().rev().find(|(c, _)| c == column || c.trim().eq_ignore_ascii_case(column.trim()))
                })
                .flatten();
            match explicit {
                Some((_, target)) if target.is_empty() => {
                    resolved.push((Use::Ignored, "ignored", Some("left out by the mapping".into())));
                }
                Some((_, target)) => {
                    let (use_, _, note) = resolve(questions, target);
                    if matches!(use_, Use::Unmapped | Use::Ignored) {
                        return Err(ApiError::invalid(
                            "mapping",
                            format!("`{column}={target}`: the form has no question `{target}`"),
                        ));
                    }
                    resolved.push((use_, "explicit", note));
                }
                None => resolved.push(resolve(questions, column)),
            }
        }
        // One column per question: explicit ones first, then in file order.
        let mut order: Vec<usize> = (0..columns.len()).filter(|i| explicit_at[*i]).collect();
        order.extend((0..columns.len()).filter(|i| !explicit_at[*i]));
        let mut taken: HashMap<usize, usize> = HashMap::new();
        let mut taken_choice: HashSet<(usize, String)> = HashSet::new();
        let mut id_column = None;
        for &at in &order {
            match &resolved[at].0 {
                Use::Question(q) => {
                    if let Some(other) = taken.get(q) {
                        resolved[at] = (
                            Use::Ignored,
                            "ignored",
                            Some(format!(
                                "`{}` already comes from column `{}`",
                                questions.list[*q].path, columns[*other]
                            )),
                        );
                    } else {
                        taken.insert(*q, at);
                    }
                }
                Use::InstanceId => {
                    let rank = |i: usize| {
                        ID_COLUMNS.iter().position(|c| *c == columns[i].trim().to_ascii_lowercase()).unwrap_or(0)
                    };
                    match id_column {
                        Some(best) if !explicit_at[at] && rank(best) <= rank(at) => {
                            resolved[at] = (
                                Use::Ignored,
                                "ignored",
                                Some(format!("the instance id comes from column `{}`", columns[best])),
                            );
                        }
                        Some(best) => {
                            resolved[best] = (
                                Use::Ignored,
                                "ignored",
                                Some(format!("the instance id comes from column `{}`", columns[at])),
                            );
                            id_column = Some(at);
                        }
                        None => id_column = Some(at),
                    }
                }
                _ => {}
            }
        }
        for &at in &order {
            if let Use::Choice(q, choice) = &resolved[at].0 {
                let (q, choice) = (*q, choice.clone());
                if let Some(main) = taken.get(&q) {
                    let note = format!("the answer comes from column `{}`", columns[*main]);
                    resolved[at] = (Use::Ignored, "ignored", Some(note));
                } else if !taken_choice.insert((q, choice.clone())) {
                    resolved[at] =
                        (Use::Ignored, "ignored", Some(format!("choice `{choice}` appears in another column")));
                }
            }
        }
        let mut column_of = HashMap::new();
        let mut report = Vec::with_capacity(columns.len());
        let mut uses = Vec::with_capacity(columns.len());
        for (at, (use_, how, note)) in resolved.into_iter().enumerate() {
            let (field, choice) = match &use_ {
                Use::Question(q) | Use::Repeat(q) => (Some(questions.list[*q].path.clone()), None),
                Use::Choice(q, c) => (Some(questions.list[*q].path.clone()), Some(c.clone())),
                Use::InstanceId => (Some("meta/instanceID".to_string()), None),
                Use::Ignored | Use::Unmapped => (None, None),
            };
            if let Use::Question(q) | Use::Choice(q, _) = &use_ {
                column_of.entry(questions.list[*q].name.clone()).or_insert_with(|| columns[at].clone());
            }
            if use_ == Use::InstanceId {
                column_of.insert("instanceID".into(), columns[at].clone());
            }
            report.push(MappedColumn { column: columns[at].clone(), field, choice, how, note });
            uses.push(use_);
        }
        Ok(Mapping { uses, report, column_of, id_column })
    }
}

// ---- rows to records ----

/// A row made into a JSON record, with the problems found on the way.
struct Built {
    record: Value,
    instance_id: String,
    errors: Vec<RowError>,
}

fn put(record: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            record.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let child = record.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            if let Some(child) = child.as_object_mut() {
                put(child, rest, value);
            }
        }
    }
}

/// A stable instance id for a row without one: the same file gives the same ids.
fn derived_id(digest: &str, row: usize) -> String {
    let h = Sha256::digest(format!("rumbo-import:{digest}:{row}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("uuid:{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn build(questions: &Questions, mapping: &Mapping, table: &Table, row: usize, cells: &[Cell]) -> Built {
    let mut record = Map::new();
    let mut errors = Vec::new();
    let mut chosen: HashMap<usize, Vec<String>> = HashMap::new();
    for (at, use_) in mapping.uses.iter().enumerate() {
        let cell = cells.get(at).unwrap_or(&Cell::Empty);
        match use_ {
            Use::Question(q) if !cell.is_empty() => {
                let q = &questions.list[*q];
                let mut text = cell.answer(q.kind);
                if q.kind == QuestionType::SelectOne && !q.choices.iter().any(|(n, _)| *n == text) {
                    // A Kobo export "with labels" holds the choice's label: take its name.
                    let key = normalise(&text);
                    if let Some((name, _)) = q.choices.iter().find(|(_, labels)| labels.contains(&key)) {
                        text.clone_from(name);
                    }
                }
                put(&mut record, &q.record_path, Value::String(text));
            }
            Use::Choice(q, choice) => {
                let picked = match cell {
                    Cell::Empty => false,
                    Cell::Bool(b) => *b,
                    Cell::Number(n) => *n != 0.0,
                    other => match other.text().to_ascii_lowercase().as_str() {
                        "" | "0" | "0.0" | "false" | "no" | "n" => false,
                        "1" | "1.0" | "true" | "yes" | "y" | "x" => true,
                        text => {
                            errors.push(RowError {
                                row,
                                column: Some(table.columns[at].clone()),
                                field: Some(questions.list[*q].name.clone()),
                                message: format!("`{text}` is not 1/0 or True/False (does the row choose `{choice}`?)"),
                            });
                            false
                        }
                    },
                };
                let list = chosen.entry(*q).or_default();
                if picked {
                    list.push(choice.clone());
                }
            }
            _ => {}
        }
    }
    for (q, names) in chosen {
        if !names.is_empty() {
            put(&mut record, &questions.list[q].record_path, Value::String(names.join(" ")));
        }
    }
    let given = mapping
        .id_column
        .and_then(|at| cells.get(at))
        .map(Cell::text)
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let instance_id = match given {
        Some(id) if id.starts_with("uuid:") => id,
        Some(id) => format!("uuid:{id}"),
        None => derived_id(&table.digest, row),
    };
    let mut meta = Map::new();
    meta.insert("instanceID".into(), Value::String(instance_id.clone()));
    record.insert("meta".into(), Value::Object(meta));
    Built { record: Value::Object(record), instance_id, errors }
}

/// The question an error path (`data/group/question[2]/x`) names, and its column.
fn locate(mapping: &Mapping, path_or_field: &str) -> (Option<String>, Option<String>) {
    let last = path_or_field.rsplit('/').next().unwrap_or(path_or_field);
    let name = last.split('[').next().unwrap_or(last).to_string();
    if name.is_empty() {
        return (None, None);
    }
    (mapping.column_of.get(&name).cloned(), Some(name))
}

// ---- running an import ----

/// A file read for import, with the mapping asked for; kept by a dry-run job so the import
/// can be run from it.
#[derive(Debug)]
pub struct ImportFile {
    pub file_name: String,
    pub table: Table,
    pub mapping: Vec<(String, String)>,
}

struct Errors {
    list: Vec<RowError>,
    truncated: bool,
}

impl Errors {
    fn push(&mut self, e: RowError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(e);
        } else {
            self.truncated = true;
        }
    }
}

/// Checks every row, then stores them as `mode` says. `progress` is told as rows are
/// checked and stored.
async fn run<F: FnMut(&Progress) + Send>(
    state: &AppState,
    caller: &Caller,
    form_id: i64,
    file: &ImportFile,
    mode: Mode,
    progress: &mut F,
) -> ApiResult<Report> {
    let form = state.store.form(form_id).await?;
    ops::require_form(caller, &form, Permission::ReviewSubmissions)?;
    let entry = state.collect.entry(&form.xml_form_id).await?;
    let compiled = state.collect.current(&entry.record).await?;
    let questions = Questions::new(&compiled.form);
    let table = &file.table;
    let mapping = Mapping::new(&questions, &table.columns, &file.mapping)?;
    let submitter = Submitter::user(caller);
    let total = table.rows.len();
    let mut p = Progress { phase: "checking", checked: 0, stored: 0, total };
    progress(&p);

    let mut errors = Errors { list: Vec::new(), truncated: false };
    let mut valid_rows = 0usize;
    let mut invalid: Vec<usize> = Vec::new();
    let mut ready: Vec<(usize, NewSubmission)> = Vec::new();
    let (mut created, mut duplicates) = (0usize, 0usize);
    let mut store_failed: Vec<usize> = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let actor = caller.actor();

    for (n, (row, cells)) in table.rows.iter().enumerate() {
        let row = *row;
        let built = build(&questions, &mapping, table, row, cells);
        let mut row_errors = built.errors;
        if let Some(first) = seen_ids.get(&built.instance_id) {
            row_errors.push(RowError {
                row,
                column: mapping.column_of.get("instanceID").cloned(),
                field: Some("instanceID".into()),
                message: format!("instance id {} is also the id of row {first}", built.instance_id),
            });
        } else {
            seen_ids.insert(built.instance_id.clone(), row);
        }
        let mut prepared = None;
        match state.collect.check_json(&entry, Some(&compiled.version), &built.record).await {
            Err(e) => row_errors.push(RowError { row, column: None, field: None, message: e.to_string() }),
            Ok((compiled, validated, xml)) => {
                if !validated.errors.is_empty() && !form.accept_with_errors {
                    for e in &validated.errors {
                        let (column, _) = locate(&mapping, &e.path);
                        row_errors.push(RowError {
                            row,
                            column,
                            field: Some(e.field.clone()),
                            message: e.message.clone(),
                        });
                    }
                } else if row_errors.is_empty() {
                    let envelope = Envelope { channel: Channel::Import, attachments: Vec::new(), complete: true };
                    match state.collect.prepare(&entry, &compiled, validated, xml, &submitter, envelope).await {
                        Ok(s) => prepared = Some(s),
                        Err(ApiError::Internal(e)) => return Err(ApiError::Internal(e)),
                        Err(e) if e.field_errors().is_empty() => {
                            row_errors.push(RowError { row, column: None, field: None, message: e.to_string() });
                        }
                        Err(e) => {
                            for fe in e.field_errors() {
                                let (column, field) = locate(&mapping, &fe.field);
                                row_errors.push(RowError { row, column, field, message: fe.message.clone() });
                            }
                        }
                    }
                }
            }
        }
        match prepared {
            Some(s) if row_errors.is_empty() => {
                valid_rows += 1;
                if mode != Mode::DryRun {
                    ready.push((row, s));
                }
            }
            _ => {
                invalid.push(row);
                for e in row_errors {
                    errors.push(e);
                }
            }
        }
        p.checked = n + 1;
        // Mode `valid` stores as it goes, in batches.
        if mode == Mode::Valid && ready.len() >= BATCH {
            store_batch(state, &actor, &mut ready, &mut created, &mut duplicates, &mut store_failed, &mut errors).await;
            p.stored = created + duplicates;
        }
        if n % 100 == 99 {
            progress(&p);
            tokio::task::yield_now().await;
        }
    }
    progress(&p);

    let mut refused = None;
    match mode {
        Mode::DryRun => {}
        Mode::Valid => {
            p.phase = "storing";
            store_batch(state, &actor, &mut ready, &mut created, &mut duplicates, &mut store_failed, &mut errors).await;
            p.stored = created + duplicates;
            progress(&p);
        }
        Mode::All if !invalid.is_empty() => {
            refused = Some(format!(
                "nothing was imported: {} of {total} rows are invalid (first: row {}); fix them, or import only the valid rows",
                invalid.len(),
                invalid[0]
            ));
        }
        Mode::All => {
            p.phase = "storing";
            progress(&p);
            let batch: Vec<NewSubmission> = ready.drain(..).map(|(_, s)| s).collect();
            match state.store.ingest_atomic(&actor, &batch, state.analytics.contributor()).await {
                Ok(outcomes) => {
                    created = outcomes.iter().filter(|o| matches!(o, Ingested::Created { .. })).count();
                    p.stored = created;
                }
                Err(rumbo_store::StoreError::Conflict { message, .. }) => refused = Some(message),
                Err(e) => return Err(e.into()),
            }
            progress(&p);
        }
    }
    if created > 0 {
        state.collect.forget_forms();
        state.analytics.changed();
    }
    let mut skipped_rows = invalid.clone();
    skipped_rows.extend(store_failed);
    skipped_rows.sort_unstable();
    let skipped = match mode {
        Mode::DryRun => 0,
        Mode::All if refused.is_some() => total,
        _ => skipped_rows.len(),
    };
    let unmapped_columns = mapping.report.iter().filter(|m| m.how == "unmapped").map(|m| m.column.clone()).collect();
    let not_importable = mapping
        .report
        .iter()
        .filter(|m| m.how == "repeat")
        .map(|m| format!("{}: {}", m.column, m.note.clone().unwrap_or_default()))
        .collect();
    let answered: HashSet<&str> = mapping.report.iter().filter_map(|m| m.field.as_deref()).collect();
    let fields_without_column = questions
        .list
        .iter()
        .filter(|q| q.asked && q.repeat.is_none() && !answered.contains(q.path.as_str()))
        .map(|q| q.path.clone())
        .collect();
    Ok(Report {
        mode,
        file_name: file.file_name.clone(),
        form_id: form.id,
        xml_form_id: form.xml_form_id.clone(),
        form_version: compiled.version.clone(),
        rows: total,
        valid: valid_rows,
        invalid: invalid.len(),
        created,
        duplicates,
        skipped,
        refused,
        mapping: mapping.report,
        unmapped_columns,
        fields_without_column,
        not_importable,
        errors: errors.list,
        errors_truncated: errors.truncated,
        skipped_rows: if mode == Mode::Valid { skipped_rows } else { Vec::new() },
    })
}

async fn store_batch(
    state: &AppState,
    actor: &rumbo_store::model::Actor,
    ready: &mut Vec<(usize, NewSubmission)>,
    created: &mut usize,
    duplicates: &mut usize,
    failed: &mut Vec<usize>,
    errors: &mut Errors,
) {
    if ready.is_empty() {
        return;
    }
    let (rows, batch): (Vec<usize>, Vec<NewSubmission>) = ready.drain(..).unzip();
    let outcomes = state.store.ingest(actor, &batch, state.analytics.contributor()).await;
    for (row, outcome) in rows.into_iter().zip(outcomes) {
        let problem = match outcome {
            Ok(Ingested::Created { .. }) => {
                *created += 1;
                None
            }
            Ok(Ingested::Duplicate { .. }) => {
                *duplicates += 1;
                None
            }
            Ok(Ingested::Conflict { message } | Ingested::Refused { message, .. }) => Some(message),
            Err(e) => Some(ApiError::from(e).to_string()),
        };
        if let Some(message) = problem {
            failed.push(row);
            errors.push(RowError { row, column: None, field: Some("instanceID".into()), message });
        }
    }
}

/// Imports a file from the command line: reads it, checks every row and stores them as
/// `mode` says, telling `progress` as it goes. `form` is the form's numeric id or its
/// `form_id`; `mapping` holds `(column, field)` pairs (an empty field leaves the column out).
pub async fn run_cli(
    state: &AppState,
    caller: &Caller,
    form: &str,
    path: &Path,
    mapping: &[(String, String)],
    mode: Mode,
    mut progress: impl FnMut(&Progress) + Send,
) -> Result<Report, ApiError> {
    let record = find_form(state, form).await?;
    ops::require_form(caller, &record, Permission::ReviewSubmissions)?;
    let meta = tokio::fs::metadata(path).await.map_err(|e| ApiError::BadRequest(format!("{}: {e}", path.display())))?;
    if meta.len() > MAX_FILE as u64 {
        return Err(ApiError::TooLarge(format!("a file to import may be at most {} MB", MAX_FILE / (1024 * 1024))));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| ApiError::BadRequest(format!("{}: {e}", path.display())))?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name = file_name.clone();
    let table = tokio::task::spawn_blocking(move || read_table(&bytes, &name))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let file = ImportFile { file_name, table, mapping: mapping.to_vec() };
    let mut progress = |p: &Progress| progress(p);
    let report = run(state, caller, record.id, &file, mode, &mut progress).await?;
    progress(&Progress {
        phase: "done",
        checked: report.rows,
        stored: report.created + report.duplicates,
        total: report.rows,
    });
    Ok(report)
}

async fn find_form(state: &AppState, form: &str) -> ApiResult<FormRecord> {
    let form = form.trim();
    if let Ok(id) = form.parse::<i64>()
        && let Ok(record) = state.store.form(id).await
    {
        return Ok(record);
    }
    state.store.form_by_xml_id(form).await?.ok_or_else(|| ApiError::NotFound(format!("form {form}")))
}

// ---- jobs ----

struct Job {
    owner: i64,
    form_id: i64,
    mode: Mode,
    /// The file, kept by dry runs so the import can be run from them.
    file: Option<Arc<ImportFile>>,
    progress: Progress,
    outcome: Option<Result<Report, (StatusCode, String)>>,
    finished: Option<Instant>,
}

static JOBS: LazyLock<Mutex<HashMap<String, Job>>> = LazyLock::new(Mutex::default);

fn jobs() -> std::sync::MutexGuard<'static, HashMap<String, Job>> {
    // A panic while holding the lock leaves the table usable: take it back.
    JOBS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts a job in the background; answers its id.
fn spawn_job(state: AppState, caller: Caller, form_id: i64, file: Arc<ImportFile>, mode: Mode) -> String {
    let id = ops::uuid_v4();
    let total = file.table.rows.len();
    {
        let mut table = jobs();
        table.retain(|_, j| j.finished.is_none_or(|at| at.elapsed() < KEEP_JOBS));
        table.insert(
            id.clone(),
            Job {
                owner: caller.user.id,
                form_id,
                mode,
                file: Some(file.clone()),
                progress: Progress { phase: "checking", checked: 0, stored: 0, total },
                outcome: None,
                finished: None,
            },
        );
    }
    let job = id.clone();
    tokio::spawn(async move {
        let mut update = |p: &Progress| {
            if let Some(j) = jobs().get_mut(&job) {
                j.progress = p.clone();
            }
        };
        let outcome = run(&state, &caller, form_id, &file, mode, &mut update).await;
        if let Err(ApiError::Internal(detail)) = &outcome {
            tracing::error!(%detail, "import failed");
        }
        if let Some(j) = jobs().get_mut(&job) {
            j.progress.phase = if outcome.is_ok() { "done" } else { "failed" };
            j.finished = Some(Instant::now());
            if mode != Mode::DryRun {
                j.file = None;
            }
            j.outcome = Some(outcome.map_err(|e| {
                let message = if matches!(e, ApiError::Internal(_)) { "internal error".into() } else { e.to_string() };
                (e.status_code(), message)
            }));
        }
    });
    id
}

/// A job's state, as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobStatus {
    pub job: String,
    pub form_id: i64,
    pub mode: Mode,
    /// `checking`, `storing`, `done` or `failed`.
    pub phase: &'static str,
    pub checked: usize,
    pub stored: usize,
    pub total: usize,
    pub done: bool,
    /// When done: what was found and done.
    pub report: Option<Report>,
    /// When failed: why.
    pub error: Option<String>,
    pub error_status: Option<u16>,
}

/// The id of a started job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobStarted {
    pub job: String,
}

fn job_status(id: &str, caller: &Caller) -> ApiResult<JobStatus> {
    let table = jobs();
    let job = table
        .get(id)
        .filter(|j| j.owner == caller.user.id)
        .ok_or_else(|| ApiError::NotFound(format!("import {id}")))?;
    let (report, error, error_status) = match &job.outcome {
        Some(Ok(r)) => (Some(r.clone()), None, None),
        Some(Err((status, message))) => (None, Some(message.clone()), Some(status.as_u16())),
        None => (None, None, None),
    };
    Ok(JobStatus {
        job: id.to_string(),
        form_id: job.form_id,
        mode: job.mode,
        phase: job.progress.phase,
        checked: job.progress.checked,
        stored: job.progress.stored,
        total: job.progress.total,
        done: job.outcome.is_some(),
        report,
        error,
        error_status,
    })
}

// ---- API ----

/// An upload to import.
struct ImportUpload {
    file_name: String,
    bytes: Vec<u8>,
    mapping: String,
    mode: String,
}

fn upload_error(e: &axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(format!("a file to import may be at most {} MB", MAX_FILE / (1024 * 1024)))
    } else {
        ApiError::BadRequest(format!("the upload is malformed or was cut short: {}", e.body_text()))
    }
}

async fn read_upload(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<ImportUpload> {
    let mut multipart = multipart
        .map_err(|e| ApiError::BadRequest(format!("send the file as multipart/form-data: {}", e.body_text())))?;
    let mut upload =
        ImportUpload { file_name: String::new(), bytes: Vec::new(), mapping: String::new(), mode: String::new() };
    let mut has_file = false;
    while let Some(field) = multipart.next_field().await.map_err(|e| upload_error(&e))? {
        match field.name().unwrap_or_default() {
            "file" => {
                upload.file_name = field.file_name().unwrap_or("import.csv").to_string();
                upload.bytes = field.bytes().await.map_err(|e| upload_error(&e))?.to_vec();
                has_file = true;
            }
            "mapping" => upload.mapping = field.text().await.map_err(|e| upload_error(&e))?,
            "mode" => upload.mode = field.text().await.map_err(|e| upload_error(&e))?,
            _ => {}
        }
    }
    if !has_file {
        return Err(ApiError::invalid("file", "is missing: attach the CSV or Excel file as `file`"));
    }
    Ok(upload)
}

/// Import submissions from a CSV or Excel file (multipart: `file`; optional `mapping`,
/// lines `column=field` (`column=` leaves a column out); `mode` = `dry_run` (default),
/// `all` or `valid`). Answers 202 with the job to poll.
#[utoipa::path(post, path = "/api/v1/forms/{id}/imports", tag = "imports", params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "`file`: CSV, XLSX or XLS; `mapping`: lines `column=field`; `mode`: dry_run, all or valid"),
    responses((status = 202, body = JobStarted), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    let form = state.store.form(id).await?;
    ops::require_form(&caller, &form, Permission::ReviewSubmissions)?;
    let upload = read_upload(multipart).await?;
    let mode = Mode::parse(&upload.mode)?;
    let mapping = parse_mapping(&upload.mapping)?;
    let name = upload.file_name.clone();
    let table = tokio::task::spawn_blocking(move || read_table(&upload.bytes, &name))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    // A wrong mapping is told now, not in the job.
    let entry = state.collect.entry(&form.xml_form_id).await?;
    let compiled = state.collect.current(&entry.record).await?;
    Mapping::new(&Questions::new(&compiled.form), &table.columns, &mapping)?;
    let file = Arc::new(ImportFile { file_name: upload.file_name, table, mapping });
    let job = spawn_job(state, caller, form.id, file, mode);
    Ok((StatusCode::ACCEPTED, Json(JobStarted { job })))
}

/// An import's progress and, once done, its report.
#[utoipa::path(get, path = "/api/v1/imports/{job}", tag = "imports", params(("job" = String, Path)),
    responses((status = 200, body = JobStatus), (status = 404, body = ErrorBody)))]
async fn status(ApiCaller(caller): ApiCaller, ApiPath(job): ApiPath<String>) -> ApiResult<Json<JobStatus>> {
    Ok(Json(job_status(&job, &caller)?))
}

/// The import to run from a dry run.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommitRequest {
    /// `all` or `valid`.
    pub mode: String,
}

/// Run the import a dry run checked, with the same file and mapping: `all` or `valid`.
#[utoipa::path(post, path = "/api/v1/imports/{job}/commit", tag = "imports", params(("job" = String, Path)),
    request_body = CommitRequest,
    responses((status = 202, body = JobStarted), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn commit(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(job): ApiPath<String>,
    ApiJson(body): ApiJson<CommitRequest>,
) -> ApiResult<impl IntoResponse> {
    let mode = Mode::parse(&body.mode)?;
    if mode == Mode::DryRun {
        return Err(ApiError::invalid("mode", "choose `all` or `valid`: the dry run is done"));
    }
    let (form_id, file) = {
        let table = jobs();
        let j = table
            .get(&job)
            .filter(|j| j.owner == caller.user.id)
            .ok_or_else(|| ApiError::NotFound(format!("import {job}")))?;
        if j.mode != Mode::DryRun {
            return Err(ApiError::Conflict { field: None, message: "only a dry run can be imported from".into() });
        }
        if j.outcome.is_none() {
            return Err(ApiError::Conflict { field: None, message: "the dry run is still running".into() });
        }
        let file = j.file.clone().ok_or_else(|| ApiError::Conflict {
            field: None,
            message: "the file of this dry run is no longer kept: upload it again".into(),
        })?;
        (j.form_id, file)
    };
    let form = state.store.form(form_id).await?;
    ops::require_form(&caller, &form, Permission::ReviewSubmissions)?;
    let job = spawn_job(state, caller, form_id, file, mode);
    Ok((StatusCode::ACCEPTED, Json(JobStarted { job })))
}

// ---- page ----

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    form: FormRecord,
    texts: String,
}

/// Texts the page's script shows, in the reader's language.
const SCRIPT_TEXTS: &[&str] = &[
    "import.phase_checking",
    "import.phase_storing",
    "import.phase_done",
    "import.phase_failed",
    "import.rows",
    "import.valid",
    "import.invalid",
    "import.created",
    "import.duplicates",
    "import.skipped",
    "import.row",
    "import.column",
    "import.field",
    "import.message",
    "import.how",
    "import.mapping_used",
    "import.unmapped",
    "import.missing_fields",
    "import.not_importable",
    "import.errors",
    "import.no_errors",
    "import.truncated",
    "import.run_all",
    "import.run_valid",
    "import.nothing_written",
    "import.refused",
    "import.checked",
    "import.stored",
];

async fn page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let form = state.store.form(id).await?;
    ops::require_form(&caller, &form, Permission::ReviewSubmissions)?;
    let texts: Map<String, Value> =
        SCRIPT_TEXTS.iter().map(|k| ((*k).to_string(), Value::String(lang.t(k).to_string()))).collect();
    let page = ImportPage {
        c: Chrome::new(lang, Some(&caller), &uri, "import.title"),
        form,
        texts: Value::Object(texts).to_string(),
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], render(&page)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = "| survey |\n\
        | | type | name | label::English (en) | label::Español (es) |\n\
        | | text | site | Site | Sitio |\n\
        | | begin group | person | Person | Persona |\n\
        | | integer | age | Age in years | Edad en años |\n\
        | | date | arrived | Arrival date | Fecha de llegada |\n\
        | | end group | | | |\n\
        | | select_multiple needs | needs | Needs | Necesidades |\n\
        | | select_one yn | alone | Travelling alone? | ¿Viaja solo? |\n\
        | | begin repeat | member | Member | Miembro |\n\
        | | text | member_name | Name | Nombre |\n\
        | | end repeat | | | |\n\
        | choices |\n\
        | | list_name | name | label::English (en) | label::Español (es) |\n\
        | | needs | food | Food | Comida |\n\
        | | needs | water | Water | Agua |\n\
        | | yn | yes | Yes | Sí |\n\
        | | yn | no | No | No |\n\
        | settings |\n\
        | | form_id | t |\n";

    fn questions() -> Questions {
        Questions::new(&rumbo_xlsform::read_form(FORM.as_bytes(), Some("t.md")).unwrap())
    }

    fn mapped(columns: &[&str], explicit: &[(&str, &str)]) -> Vec<MappedColumn> {
        let columns: Vec<String> = columns.iter().map(|c| (*c).to_string()).collect();
        let explicit: Vec<(String, String)> =
            explicit.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect();
        Mapping::new(&questions(), &columns, &explicit).unwrap().report
    }

    fn how(report: &[MappedColumn]) -> Vec<(&str, Option<&str>)> {
        report.iter().map(|m| (m.how, m.field.as_deref())).collect()
    }

    #[test]
    fn a_workbook_with_a_stray_cell_far_away_is_too_large() {
        let bytes = include_bytes!("../../../xlsform/tests/fixtures/far-cell.xlsx");
        match read_table(bytes, "far.xlsx") {
            Err(ApiError::TooLarge(message)) => assert!(message.contains("stray cell"), "{message}"),
            other => panic!("expected 413, got {:?}", other.map(|t| t.columns)),
        }
    }

    #[test]
    fn columns_find_questions_by_name_path_and_label() {
        let report = mapped(
            &[
                "site",
                "person/age",
                "group_x-arrived",
                "¿VIAJA SOLO?",
                "Necesidades",
                "_uuid",
                "_submission_time",
                "odd",
            ],
            &[],
        );
        assert_eq!(
            how(&report),
            [
                ("name", Some("site")),
                ("path", Some("person/age")),
                ("path", Some("person/arrived")),
                ("label", Some("alone")),
                ("label", Some("needs")),
                ("instance_id", Some("meta/instanceID")),
                ("ignored", None),
                ("unmapped", None),
            ]
        );
        let report =
            mapped(&["Site", "person.age", "Edad en anos", "member/member_name", "meta/instanceID", "_id"], &[]);
        assert_eq!(
            how(&report),
            [
                ("label", Some("site")),
                ("path", Some("person/age")),
                ("ignored", None),
                ("repeat", Some("member/member_name")),
                ("instance_id", Some("meta/instanceID")),
                ("ignored", None),
            ]
        );
        assert!(report[2].note.as_deref().unwrap().contains("already comes from column `person.age`"));
        assert!(report[3].note.as_deref().unwrap().contains("repeat"));
    }

    #[test]
    fn explicit_mapping_overrides_and_leaves_out() {
        let report = mapped(&["q1", "site"], &[("q1", "person/age"), ("site", "")]);
        assert_eq!(how(&report), [("explicit", Some("person/age")), ("ignored", None)]);
        let columns = vec!["q1".to_string()];
        let wrong = Mapping::new(&questions(), &columns, &[("q1".into(), "nope".into())]);
        assert!(wrong.is_err_and(|e| e.to_string().contains("no question `nope`")));
        let missing = Mapping::new(&questions(), &columns, &[("q9".into(), "site".into())]);
        assert!(missing.is_err_and(|e| e.to_string().contains("no column `q9`")));
        assert_eq!(
            parse_mapping("a = site\n\n# note\nb=").unwrap(),
            [("a".into(), "site".into()), ("b".into(), String::new())]
        );
        assert!(parse_mapping("just words").is_err());
    }

    #[test]
    fn split_select_multiple_columns_make_one_answer() {
        let q = questions();
        let table =
            read_table(b"site,needs/food,needs/water,Necesidades/Agua\nA,1,True,\nB,0,False,\nC,maybe,1,\n", "x.csv")
                .unwrap();
        let mapping = Mapping::new(&q, &table.columns, &[]).unwrap();
        assert_eq!(mapping.report[1].how, "choice");
        assert_eq!(mapping.report[1].choice.as_deref(), Some("food"));
        assert_eq!(mapping.report[3].how, "ignored", "the same choice twice");
        let (row, cells) = &table.rows[0];
        let built = build(&q, &mapping, &table, *row, cells);
        assert_eq!(built.record["needs"], "food water");
        let (row, cells) = &table.rows[1];
        assert!(build(&q, &mapping, &table, *row, cells).record.get("needs").is_none());
        let (row, cells) = &table.rows[2];
        let built = build(&q, &mapping, &table, *row, cells);
        assert_eq!(built.errors.len(), 1);
        assert_eq!(built.errors[0].row, 4);
        assert_eq!(built.errors[0].column.as_deref(), Some("needs/food"));
        // With the main column as well (Kobo exports both), the main one is used.
        let m = mapped(&["needs", "needs/food"], &[]);
        assert_eq!(how(&m), [("name", Some("needs")), ("ignored", None)]);
    }

    #[test]
    fn rows_are_numbered_as_the_spreadsheet_shows_them() {
        let text = "\u{feff}site;person/age\nA;30\n\n\"B\nsecond line\";40\nC;50\n";
        let table = read_table(text.as_bytes(), "x.csv").unwrap();
        assert_eq!(table.columns, ["site", "person/age"]);
        let rows: Vec<usize> = table.rows.iter().map(|(r, _)| *r).collect();
        assert_eq!(rows, [2, 4, 5]);
        let tabbed = read_table(b"site\tperson/age\nA\t3,5\n", "x.tsv").unwrap();
        assert_eq!(tabbed.rows[0].1[1], Cell::Text("3,5".into()));
        assert!(read_table(b"", "x.csv").is_err_and(|e| e.to_string().contains("empty")));
        assert!(read_table(b"\n\n", "x.csv").is_err_and(|e| e.to_string().contains("no header row")));
        assert!(read_table(b"a,b\n", "x.csv").is_err_and(|e| e.to_string().contains("no rows")));
        assert!(
            read_table(&[0xff, 0xfe, 0, 0x41], "x.csv")
                .is_err_and(|e| e.status_code() == StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
        assert!(read_table(b"plain", "x.xlsx").is_err_and(|e| e.status_code() == StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }

    #[test]
    fn cells_are_written_the_way_questions_expect() {
        let day = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let at = day.and_hms_opt(0, 0, 0).unwrap();
        let moment = Cell::Moment { at, dated: true };
        assert_eq!(moment.answer(QuestionType::Date), "2024-05-01");
        assert_eq!(moment.answer(QuestionType::DateTime), "2024-05-01T00:00:00");
        assert_eq!(moment.answer(QuestionType::Text), "2024-05-01");
        assert_eq!(Cell::Number(42.0).answer(QuestionType::Integer), "42");
        assert_eq!(Cell::Number(2.5).answer(QuestionType::Decimal), "2.5");
        assert_eq!(Cell::Text("42.0".into()).answer(QuestionType::Integer), "42");
        assert_eq!(Cell::Text("2024-05-01 00:00:00".into()).answer(QuestionType::Date), "2024-05-01");
        let time = Cell::Moment { at: NaiveDate::MIN.and_hms_opt(9, 30, 0).unwrap(), dated: false };
        assert_eq!(time.answer(QuestionType::Time), "09:30:00");
    }

    #[test]
    fn records_nest_groups_and_get_stable_ids() {
        let q = questions();
        let table =
            read_table("site,age,arrived,alone,_uuid\nA,30,2024-05-01,Sí,\nB,,,no,abc\n".as_bytes(), "x.csv").unwrap();
        let mapping = Mapping::new(&q, &table.columns, &[]).unwrap();
        let (row, cells) = &table.rows[0];
        let built = build(&q, &mapping, &table, *row, cells);
        assert_eq!(built.record["person"]["age"], "30");
        assert_eq!(built.record["person"]["arrived"], "2024-05-01");
        assert_eq!(built.record["alone"], "yes", "a choice label becomes its name");
        assert!(built.instance_id.starts_with("uuid:"));
        assert_eq!(built.instance_id, build(&q, &mapping, &table, *row, cells).instance_id);
        assert_eq!(built.record["meta"]["instanceID"], Value::String(built.instance_id.clone()));
        let (row, cells) = &table.rows[1];
        let built = build(&q, &mapping, &table, *row, cells);
        assert_eq!(built.instance_id, "uuid:abc");
        assert!(built.record.get("person").is_none(), "empty cells are not answers");
    }

    #[test]
    fn labels_compare_without_case_accents_or_markup() {
        assert_eq!(normalise("¿Viaja <b>SOLO</b>?"), "viaja solo");
        assert_eq!(normalise("Edad en años"), normalise("EDAD EN ANOS"));
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(delimiter("a;b;\"c,d,e\"\n1,2"), b';');
    }
}
