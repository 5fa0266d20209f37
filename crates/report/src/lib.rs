//! Situation reports: key figures, charts, a map, tables, a methodology note and the data
//! sources, as one self-contained HTML page ([`to_html`]) or a PDF ([`to_pdf`]).
//!
//! The crate knows nothing of the server, the database or the indicators: the caller fills
//! a [`Report`] with text already written in the reader's language (numbers formatted,
//! headings translated) and SVG charts already drawn (`rumbo-charts`), and gets bytes back.
//!
//! ```no_run
//! use rumbo_report::{KeyFigure, Report, Section, to_html, to_pdf};
//!
//! let report = Report {
//!     title: "Colombia — Ronda 3".into(),
//!     lang: "es".into(),
//!     figures: vec![KeyFigure::new("Personas observadas", "12.345", "n = 412")],
//!     sections: vec![Section { heading: "Flujos".into(), ..Section::default() }],
//!     ..Report::default()
//! };
//! let page: String = to_html(&report);
//! let pdf: Vec<u8> = to_pdf(&report).expect("typeset");
//! ```
//!
//! # PDF
//!
//! The PDF is typeset with Typst, used as a library: the template (`report.typ`) is compiled
//! in, the report travels to it as a JSON file it reads with `json()`, and each chart as an
//! SVG file it places with `image()`. No user text ever becomes Typst markup, so labels
//! holding `#`, `$`, `]` or backslashes print as they are. Fonts are the ones bundled with
//! `typst-assets` (Libertinus Serif), so the result is the same on every machine.
//!
//! # HTML
//!
//! [`to_html`] writes a page with its style sheet inline, to save or send by mail;
//! [`to_html_fragment`] writes only the report's `<article>`, for a page that brings
//! [`STYLESHEET`] itself (a server whose content security policy forbids inline styles).
//! Text is escaped; SVG charts go in as they are (they come from `rumbo-charts`, which
//! escapes what it draws).

mod html;
mod pdf;

use serde::Serialize;

pub use html::{STYLESHEET, to_html, to_html_fragment};
pub use pdf::{forget_memoised, to_pdf};

/// A situation report, in one language.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub title: String,
    /// Under the title: the area and period covered.
    pub subtitle: String,
    /// The language the text is written in (`es`, `pt`, `en`): hyphenation and the page's
    /// `lang`.
    pub lang: String,
    /// When the report was made, as the reader writes dates ("2026-05-14 10:32 UTC").
    pub generated_at: String,
    /// Headings and the few words the layout says by itself.
    pub words: Words,
    /// The headline figures, shown first.
    pub figures: Vec<KeyFigure>,
    pub sections: Vec<Section>,
    /// The map, after the sections.
    pub map: Option<Chart>,
    /// How the figures are estimated, one paragraph each.
    pub methodology: Vec<String>,
    /// Where the figures come from: forms, rounds, submissions, dates.
    pub sources: Vec<Fact>,
    /// What statistical disclosure control left out, and why.
    pub disclosure: String,
}

/// The words of the layout, in the report's language.
#[derive(Debug, Clone, Serialize)]
pub struct Words {
    pub key_figures: String,
    pub map: String,
    pub methodology: String,
    pub sources: String,
    pub disclosure: String,
    /// Before the date the report was made: "Generated".
    pub generated: String,
    /// Before the page number: "Page".
    pub page: String,
}

impl Default for Words {
    fn default() -> Self {
        Words {
            key_figures: "Key figures".into(),
            map: "Map".into(),
            methodology: "Methodology".into(),
            sources: "Data sources".into(),
            disclosure: "Statistical disclosure control".into(),
            generated: "Generated".into(),
            page: "Page".into(),
        }
    }
}

/// A headline figure: what it counts, its value, and a note (interval, n).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct KeyFigure {
    pub label: String,
    pub value: String,
    pub note: String,
}

impl KeyFigure {
    pub fn new(label: impl Into<String>, value: impl Into<String>, note: impl Into<String>) -> Self {
        KeyFigure { label: label.into(), value: value.into(), note: note.into() }
    }
}

/// A part of the report: a topic (flows, profile, needs…) with its charts and a table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Section {
    pub heading: String,
    pub intro: Option<String>,
    pub charts: Vec<Chart>,
    pub table: Option<Table>,
}

/// An SVG chart (or map) with a caption.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Chart {
    pub title: String,
    /// The drawing: one `<svg>` element with a `viewBox`.
    #[serde(skip)]
    pub svg: String,
    /// Under the chart: weighting, suppressed cells.
    pub note: Option<String>,
}

/// A table of figures. Cells are text already formatted; columns after the first are
/// right-aligned (they hold numbers).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Under the table: cells suppressed, weighting.
    pub note: Option<String>,
}

/// One line of the data sources: what and its value ("Round", "Ronda 3 – 2025, 1 Oct – 15
/// Dec 2025").
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

impl Fact {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Fact { label: label.into(), value: value.into() }
    }
}

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Typst refused the document (a chart that is not valid SVG, a bug in the template).
    #[error("the report could not be typeset: {0}")]
    Typeset(String),
    /// The typeset document could not be written as PDF.
    #[error("the report could not be written as PDF: {0}")]
    Pdf(String),
}

/// The report's language tag if it is one Typst accepts (two or three ASCII letters),
/// else `en`.
pub(crate) fn lang_tag(lang: &str) -> String {
    let tag = lang.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    if (2..=3).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_lowercase()) { tag } else { "en".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_checked() {
        assert_eq!(lang_tag("es"), "es");
        assert_eq!(lang_tag("pt-BR"), "pt");
        assert_eq!(lang_tag("PT_br"), "pt");
        assert_eq!(lang_tag(""), "en");
        assert_eq!(lang_tag("\"); #panic()"), "en");
        assert_eq!(lang_tag("español"), "en");
    }
}
