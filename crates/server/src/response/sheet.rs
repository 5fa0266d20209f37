//! Reading the workbooks Rumbo hands out: a sheet by name, its header, its cells by
//! spreadsheet address (`targets!C12`), and refusals for what a template must not hold
//! (a missing or renamed sheet, merged cells, text where a number belongs).

use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use chrono::{Datelike, NaiveDate};
use rumbo_store::FieldError;

use crate::error::ApiError;

/// The workbook MIME type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An opened workbook.
pub struct Book {
    xlsx: Xlsx<Cursor<Vec<u8>>>,
    pub sheet_names: Vec<String>,
}

/// The column letter of a 0-based column (`0` → `A`, `27` → `AB`).
pub fn column_letter(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + u8::try_from(col % 26).unwrap_or(0));
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The address of a cell (0-based row and column) as a spreadsheet names it: `sheet!C12`.
pub fn address(sheet: &str, row: usize, col: usize) -> String {
    format!("{sheet}!{}{}", column_letter(col), row + 1)
}

impl Book {
    /// Opens an XLSX file; anything else is a clear 422 on `file`.
    pub fn open(bytes: Vec<u8>) -> Result<Book, ApiError> {
        let xlsx = Xlsx::new(Cursor::new(bytes))
            .map_err(|e| ApiError::invalid("file", format!("is not an Excel workbook (.xlsx) Rumbo can read: {e}")))?;
        let sheet_names = xlsx.sheet_names();
        Ok(Book { xlsx, sheet_names })
    }

    /// A sheet's cells; a missing sheet (renamed, deleted) is named in the error.
    pub fn sheet(&mut self, name: &str) -> Result<Sheet, ApiError> {
        if !self.sheet_names.iter().any(|n| n == name) {
            return Err(ApiError::invalid(
                &format!("{name}!"),
                format!(
                    "the workbook has no sheet `{name}` (it has: {}); use the template as downloaded, without renaming its sheets",
                    self.sheet_names.join(", ")
                ),
            ));
        }
        let range = self
            .xlsx
            .worksheet_range(name)
            .map_err(|e| ApiError::invalid(&format!("{name}!"), format!("cannot be read: {e}")))?;
        Ok(Sheet { name: name.to_string(), range })
    }

    /// Refuses merged cells in a sheet (a merged cell hides which row a value belongs to).
    pub fn refuse_merged(&mut self, name: &str) -> Result<(), ApiError> {
        let merged = self
            .xlsx
            .merge_cells_by_sheet_name(name)
            .map_err(|e| ApiError::invalid(&format!("{name}!"), format!("cannot be read: {e}")))?;
        let errors: Vec<FieldError> = merged
            .iter()
            .take(50)
            .map(|d| {
                let (r0, c0) = (d.start.0 as usize, d.start.1 as usize);
                let (r1, c1) = (d.end.0 as usize, d.end.1 as usize);
                FieldError::new(
                    address(name, r0, c0),
                    format!(
                        "cells {}{}:{}{} are merged: unmerge them and give every row its own values",
                        column_letter(c0),
                        r0 + 1,
                        column_letter(c1),
                        r1 + 1
                    ),
                )
            })
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
    }
}

/// One sheet's cells.
pub struct Sheet {
    pub name: String,
    range: Range<Data>,
}

impl Sheet {
    /// The last row with data (0-based; `None` for an empty sheet).
    pub fn last_row(&self) -> Option<usize> {
        self.range.end().map(|(r, _)| r as usize)
    }

    pub fn cell(&self, row: usize, col: usize) -> &Data {
        let (Ok(r), Ok(c)) = (u32::try_from(row), u32::try_from(col)) else { return &Data::Empty };
        self.range.get_value((r, c)).unwrap_or(&Data::Empty)
    }

    pub fn addr(&self, row: usize, col: usize) -> String {
        address(&self.name, row, col)
    }

    /// Checks that row 1 holds the expected headers, in order.
    pub fn expect_header(&self, columns: &[&str]) -> Result<(), ApiError> {
        let errors: Vec<FieldError> = columns
            .iter()
            .enumerate()
            .filter(|(c, name)| !text(self.cell(0, *c)).eq_ignore_ascii_case(name))
            .map(|(c, name)| {
                FieldError::new(
                    self.addr(0, c),
                    format!(
                        "the header must be `{name}` (found `{}`); use the template as downloaded",
                        text(self.cell(0, c))
                    ),
                )
            })
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
    }

    /// Whether a data row is blank.
    pub fn blank_row(&self, row: usize, columns: usize) -> bool {
        (0..columns).all(|c| text(self.cell(row, c)).is_empty())
    }

    /// A text cell, trimmed (numbers written as text; `None` when empty).
    pub fn text(&self, row: usize, col: usize) -> Option<String> {
        let t = text(self.cell(row, col));
        if t.is_empty() { None } else { Some(t) }
    }

    /// A whole non-negative or negative number; text is an error naming the cell.
    pub fn integer(&self, row: usize, col: usize, errors: &mut Vec<FieldError>) -> Option<i64> {
        let value = self.number(row, col, errors)?;
        if value.fract() != 0.0 || value.abs() > 1e15 {
            errors.push(FieldError::new(self.addr(row, col), format!("must be a whole number, not {value}")));
            return None;
        }
        #[allow(clippy::cast_possible_truncation)]
        Some(value as i64)
    }

    /// A number; text is an error naming the cell.
    pub fn number(&self, row: usize, col: usize, errors: &mut Vec<FieldError>) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        match self.cell(row, col) {
            Data::Empty => None,
            Data::Int(i) => Some(*i as f64),
            Data::Float(f) => Some(*f),
            Data::String(s) if s.trim().is_empty() => None,
            Data::String(s) => {
                if let Ok(v) = s.trim().parse::<f64>()
                    && v.is_finite()
                {
                    return Some(v);
                }
                errors.push(FieldError::new(
                    self.addr(row, col),
                    format!("must be a number, not the text `{}`", s.trim()),
                ));
                None
            }
            Data::Error(e) => {
                errors.push(FieldError::new(self.addr(row, col), format!("holds the spreadsheet error {e}")));
                None
            }
            other => {
                errors.push(FieldError::new(self.addr(row, col), format!("must be a number, not `{other}`")));
                None
            }
        }
    }

    /// A date cell, or text `YYYY-MM-DD` / `YYYY-MM` (the first of the month).
    pub fn date(&self, row: usize, col: usize, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
        let parsed = match self.cell(row, col) {
            Data::Empty => return None,
            Data::DateTime(d) => {
                let (y, m, day, ..) = d.to_ymd_hms_milli();
                NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(day))
            }
            Data::DateTimeIso(s) | Data::String(s) => parse_date(s),
            #[allow(clippy::cast_possible_truncation)]
            Data::Float(f) if *f > 0.0 && *f < 2_958_466.0 => {
                NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|d| d.checked_add_days(chrono::Days::new(*f as u64)))
            }
            _ => None,
        };
        if parsed.is_none() {
            let shown = text(self.cell(row, col));
            if shown.is_empty() {
                return None;
            }
            errors.push(FieldError::new(
                self.addr(row, col),
                format!("must be a date (YYYY-MM-DD or YYYY-MM), not `{shown}`"),
            ));
        }
        parsed
    }
}

/// `YYYY-MM-DD`, `YYYY-MM` (the first of the month) or an ISO date-time.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    if let Ok(d) = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d") {
        return Some(d);
    }
    s.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// The first day of a date's month.
pub fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// A cell as trimmed text (whole numbers without `.0`).
pub fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        #[allow(clippy::cast_possible_truncation)]
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_as_spreadsheets_do() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(address("targets", 11, 2), "targets!C12");
    }

    #[test]
    fn months_read_in_both_forms() {
        assert_eq!(parse_date("2026-03"), NaiveDate::from_ymd_opt(2026, 3, 1));
        assert_eq!(parse_date("2026-03-15"), NaiveDate::from_ymd_opt(2026, 3, 15));
        assert_eq!(parse_date("March"), None);
    }
}
