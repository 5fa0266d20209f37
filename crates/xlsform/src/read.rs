//! From bytes to sheets of text cells: `.xlsx`, `.xls` (through calamine),
//! and pyxform's two text syntaxes, CSV (first column names the sheet) and
//! markdown tables.

use std::io::Cursor;

use calamine::{Data, Reader};

use crate::model::FormError;

/// One sheet: its name as written and its non-empty rows, each with the
/// 1-based row number the spreadsheet shows.
#[derive(Clone, Debug, Default)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// What a file holds, before it is read as an XLSForm.
#[derive(Clone, Debug, Default)]
pub struct Workbook {
    pub sheets: Vec<Sheet>,
}

impl Workbook {
    /// The sheet named `name`, ignoring case and surrounding spaces.
    pub fn sheet(&self, name: &str) -> Option<&Sheet> {
        self.sheets.iter().find(|sheet| sheet.name.trim().eq_ignore_ascii_case(name))
    }
}

/// The largest spreadsheet we read (rows per sheet): beyond it a file is
/// more likely a data export than a form.
pub const MAX_ROWS: usize = 100_000;
const MAX_COLUMNS: usize = 2_000;

/// Reads a workbook. `file_name` (optional) only helps tell CSV from
/// markdown; spreadsheets are recognised by their content.
pub fn read_workbook(bytes: &[u8], file_name: Option<&str>) -> Result<Workbook, FormError> {
    if bytes.is_empty() {
        return Err(FormError::workbook("the file is empty"));
    }
    let extension = file_name.and_then(|name| name.rsplit_once('.')).map(|(_, ext)| ext.to_ascii_lowercase());
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return read_spreadsheet(bytes);
    }
    let Ok(text) = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) else {
        return Err(FormError::workbook(
            "this file is neither an Excel workbook (.xlsx, .xls) nor UTF-8 text (.csv, .md)",
        ));
    };
    let markdown = extension.as_deref() == Some("md")
        || (extension.as_deref() != Some("csv") && text.lines().any(|line| line.trim_start().starts_with('|')));
    let workbook = if markdown { read_markdown(text) } else { read_csv(text)? };
    if workbook.sheets.is_empty() {
        return Err(FormError::workbook("this file does not look like an XLSForm: no sheet found in it"));
    }
    Ok(workbook)
}

/// The most cells (rows × columns between the first and the last non-empty cell) a sheet
/// of an XLSForm may span.
pub const MAX_FORM_CELLS: u64 = 2_000_000;

/// Refuses an `.xlsx` whose sheets span more than `max_cells` cells, before anything is
/// allocated for them: a file of a few bytes with a cell at XFD1048576 would otherwise ask
/// for billions. Reads the cells one by one; other formats pass (their sizes are bounded
/// by the format, and the reader reports what is wrong with them).
pub fn check_xlsx_extent(bytes: &[u8], max_cells: u64) -> Result<(), String> {
    use calamine::DataType as _;
    let Ok(mut book) = calamine::Xlsx::new(Cursor::new(bytes)) else { return Ok(()) };
    for name in calamine::Reader::sheet_names(&book) {
        let Ok(mut cells) = book.worksheet_cells_reader(&name) else { continue };
        let (mut low, mut high) = ((u32::MAX, u32::MAX), (0u32, 0u32));
        while let Ok(Some(cell)) = cells.next_cell() {
            if cell.get_value().is_empty() {
                continue;
            }
            let (row, column) = cell.get_position();
            low = (low.0.min(row), low.1.min(column));
            high = (high.0.max(row), high.1.max(column));
            let rows = u64::from(high.0 - low.0) + 1;
            let columns = u64::from(high.1 - low.1) + 1;
            if rows * columns > max_cells {
                return Err(format!(
                    "sheet `{name}` spans at least {rows} rows by {columns} columns, more than the {max_cells} cells \
                     accepted: remove what lies far outside the data (a stray cell far down or to the right)"
                ));
            }
        }
    }
    Ok(())
}

fn read_spreadsheet(bytes: &[u8]) -> Result<Workbook, FormError> {
    if is_encrypted(bytes) {
        return Err(FormError::workbook(
            "the workbook is protected by a password; save it without one and upload it again",
        ));
    }
    check_xlsx_extent(bytes, MAX_FORM_CELLS).map_err(FormError::workbook)?;
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|error| {
        let text = error.to_string();
        FormError::workbook(if text.to_ascii_lowercase().contains("password") || text.contains("encrypt") {
            "the workbook is protected by a password; save it without one and upload it again".to_owned()
        } else {
            format!("the file could not be read as an Excel workbook ({text}); is it damaged?")
        })
    })?;
    let mut sheets = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|error| FormError::new(&name, None, None, format!("the sheet could not be read: {error}")))?;
        let (first_row, first_column) = range.start().unwrap_or((0, 0));
        let mut rows = Vec::new();
        for (index, row) in range.rows().enumerate() {
            if rows.len() >= MAX_ROWS {
                return Err(FormError::new(
                    &name,
                    Some(first_row as usize + index + 1),
                    None,
                    format!("the sheet has more than {MAX_ROWS} rows; is this a form or a data export?"),
                ));
            }
            let mut cells: Vec<String> = vec![String::new(); first_column as usize];
            cells.extend(row.iter().take(MAX_COLUMNS).map(cell_text));
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            if !cells.is_empty() {
                rows.push((first_row as usize + index + 1, cells));
            }
        }
        sheets.push(Sheet { name, rows });
    }
    Ok(Workbook { sheets })
}

/// An Excel file saved with a password is an OLE container holding an
/// `EncryptedPackage` stream (its directory names are UTF-16).
fn is_encrypted(bytes: &[u8]) -> bool {
    const NAME: &[u8] = b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) && bytes.windows(NAME.len()).any(|window| window == NAME)
}

/// A cell as pyxform reads it: whole numbers without `.0`, booleans as
/// `TRUE`/`FALSE`, dates as `YYYY-MM-DD hh:mm:ss`, no-break spaces as spaces.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.replace('\u{a0}', " ").trim().to_owned(),
        Data::Int(number) => number.to_string(),
        Data::Float(number) => number_text(*number),
        Data::Bool(true) => "TRUE".to_owned(),
        Data::Bool(false) => "FALSE".to_owned(),
        Data::DateTime(moment) => {
            if moment.as_f64() < 1.0 {
                excel_date_text(moment.as_f64())
            } else {
                let (year, month, day, hour, minute, second, milli) = moment.to_ymd_hms_milli();
                let fraction = if milli > 0 { format!(".{:06}", u32::from(milli) * 1000) } else { String::new() };
                format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}{fraction}")
            }
        }
        Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Error(error) => format!("#{error:?}"),
    }
}

fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 { format!("{}", number as i64) } else { format!("{number}") }
}

/// An Excel serial date (days since 1899-12-30, with the 1900 leap-year
/// quirk) as Python prints a datetime, or a time when there is no day.
fn excel_date_text(serial: f64) -> String {
    use chrono::{Duration, NaiveDate};
    if !serial.is_finite() || !(0.0..3_000_000.0).contains(&serial) {
        return number_text(serial);
    }
    let seconds = (serial.fract() * 86_400.0).round() as i64;
    let days = serial.trunc() as i64;
    let time = format!("{:02}:{:02}:{:02}", seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    if days == 0 {
        return time;
    }
    let base = if days < 60 { NaiveDate::from_ymd_opt(1899, 12, 31) } else { NaiveDate::from_ymd_opt(1899, 12, 30) };
    match base.and_then(|base| base.checked_add_signed(Duration::days(days))) {
        Some(date) => format!("{date} {time}"),
        None => number_text(serial),
    }
}

/// pyxform's CSV syntax: a row whose first cell is filled starts a sheet
/// of that name; the following rows (first cell empty) are its rows.
fn read_csv(text: &str) -> Result<Workbook, FormError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut sheets: Vec<Sheet> = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| {
            FormError::new("csv", Some(index + 1), None, format!("this line is not valid CSV: {error}"))
        })?;
        let mut cells = record.iter().map(|cell| cell.trim().to_owned());
        let first = cells.next().unwrap_or_default();
        let rest: Vec<String> = cells.take(MAX_COLUMNS).collect();
        if !first.is_empty() {
            sheets.push(Sheet { name: first, rows: Vec::new() });
        }
        if rest.iter().all(String::is_empty) {
            continue;
        }
        let Some(sheet) = sheets.last_mut() else {
            return Err(FormError::workbook(
                "this CSV is not an XLSForm: its first line must name a sheet (survey) in the first column",
            ));
        };
        if sheet.rows.len() >= MAX_ROWS {
            return Err(FormError::new(&sheet.name, Some(index + 1), None, "too many rows"));
        }
        sheet.rows.push((index + 1, trimmed(rest)));
    }
    Ok(Workbook { sheets })
}

/// pyxform's markdown syntax: `| survey |` starts a sheet, `| | type | name |`
/// are its rows; lines starting with `#` are comments.
fn read_markdown(text: &str) -> Workbook {
    let mut sheets: Vec<Sheet> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') || !line.starts_with('|') {
            continue;
        }
        let inner = line.trim_start_matches('|');
        let inner = inner.strip_suffix('|').unwrap_or(inner);
        if inner.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
            continue;
        }
        let mut cells = split_markdown_row(inner).into_iter();
        let first = cells.next().unwrap_or_default();
        let rest: Vec<String> = cells.take(MAX_COLUMNS).collect();
        if !first.is_empty() {
            sheets.push(Sheet { name: first, rows: Vec::new() });
        }
        if let Some(sheet) = sheets.last_mut()
            && !rest.iter().all(String::is_empty)
            && sheet.rows.len() < MAX_ROWS
        {
            sheet.rows.push((index + 1, trimmed(rest)));
        }
    }
    Workbook { sheets }
}

fn split_markdown_row(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cells.last_mut().expect("one cell").push('|');
            }
            '|' => cells.push(String::new()),
            _ => cells.last_mut().expect("one cell").push(c),
        }
    }
    cells.into_iter().map(|cell| cell.trim().to_owned()).collect()
}

fn trimmed(mut cells: Vec<String>) -> Vec<String> {
    while cells.last().is_some_and(String::is_empty) {
        cells.pop();
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_cell_far_away_is_refused_before_the_sheet_is_allocated() {
        // A1:C2 hold a form; XFD1048576 holds an `x`: 17 billion cells as a rectangle.
        let bytes = include_bytes!("../tests/fixtures/far-cell.xlsx");
        let message = check_xlsx_extent(bytes, MAX_FORM_CELLS).unwrap_err();
        assert!(message.contains("sheet `survey` spans at least 1048576 rows by 16384 columns"), "{message}");
        let errors = crate::read_form(bytes, Some("far.xlsx")).unwrap_err().to_string();
        assert!(errors.contains("stray cell"), "{errors}");
        // An ordinary workbook passes.
        let ordinary = include_bytes!("../../../data/xlsform-corpus/pyxform/example_xls/or_other.xlsx");
        assert!(check_xlsx_extent(ordinary, MAX_FORM_CELLS).is_ok());
    }

    #[test]
    fn excel_dates_read_as_python_prints_them() {
        assert_eq!(excel_date_text(1.0), "1900-01-01 00:00:00");
        assert_eq!(excel_date_text(41255.0), "2012-12-12 00:00:00");
        assert_eq!(excel_date_text(0.5), "12:00:00");
        assert_eq!(number_text(18.31), "18.31");
        assert_eq!(number_text(3.0), "3");
    }

    #[test]
    fn csv_and_markdown_syntaxes_name_their_sheets() {
        let csv = "survey,,\n,type,name\n,text,q1\nchoices,,\n,list_name,name\n";
        let book = read_workbook(csv.as_bytes(), Some("f.csv")).unwrap();
        assert_eq!(book.sheets.len(), 2);
        assert_eq!(book.sheet("SURVEY").unwrap().rows[1].1, vec!["text", "q1"]);
        let md = "| survey |\n| | type | name |\n|---|---|---|\n| | text | a\\|b |\n# comment\n";
        let book = read_workbook(md.as_bytes(), Some("f.md")).unwrap();
        assert_eq!(book.sheet("survey").unwrap().rows[1].1, vec!["text", "a|b"]);
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(read_workbook(b"", None).unwrap_err().message.contains("empty"));
        assert!(read_workbook(&[0xff, 0xfe, 0x00], None).is_err());
        let mut protected = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        protected.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert!(read_workbook(&protected, Some("f.xlsx")).unwrap_err().message.contains("password"));
        let zip_but_not_xlsx = b"PK\x03\x04garbage";
        assert!(read_workbook(zip_but_not_xlsx, None).unwrap_err().message.contains("Excel"));
    }
}
