//! The report as PDF, typeset by Typst used as a library.
//!
//! A [`ReportWorld`] is the whole file system Typst sees: `main.typ` (the template compiled
//! into this crate), `data.json` (the report) and one SVG file per chart. The file names are
//! fixed (Typst interns every file id for the life of the process, so names must not grow
//! without bound). Fonts and the standard library are built once and shared.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;
use typst::diag::{FileError, FileResult, SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use crate::{Report, ReportError, lang_tag};

/// The template: it reads `data.json` and places the charts.
const TEMPLATE: &str = include_str!("report.typ");

/// The tallest a chart may be drawn relative to its width when its `viewBox` cannot be read.
const DEFAULT_RATIO: f64 = 0.6;

/// The bundled fonts, read once.
static FONTS: LazyLock<(LazyHash<FontBook>, Vec<Font>)> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts().flat_map(|data| Font::iter(Bytes::new(data))).collect();
    (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
});

/// Typst's standard library, built once.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(<Library as LibraryExt>::default()));

/// Where a chart is, for the template: its file and its height over its width.
#[derive(Serialize)]
struct Placed {
    file: Option<String>,
    ratio: f64,
}

/// What `data.json` holds.
#[derive(Serialize)]
struct Data<'a> {
    report: &'a Report,
    /// The language tag Typst is given (checked).
    lang: String,
    /// Per section, per chart.
    charts: Vec<Vec<Placed>>,
    map: Option<Placed>,
}

/// Everything Typst can read while typesetting one report.
struct ReportWorld {
    main: Source,
    files: HashMap<FileId, Bytes>,
}

fn file_id(name: &str) -> FileId {
    let path = VirtualPath::new(format!("/{name}")).expect("a plain file name is a valid path");
    RootedPath::new(VirtualRoot::Project, path).intern()
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() { Ok(self.main.clone()) } else { Err(FileError::NotSource) }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.get(&id).cloned().ok_or_else(|| FileError::NotFound(id.vpath().get_without_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.1.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

/// Height over width of an SVG, from its `viewBox`.
fn ratio_of(svg: &str) -> f64 {
    let Some(start) = svg.find("viewBox=\"").map(|i| i + "viewBox=\"".len()) else { return DEFAULT_RATIO };
    let numbers: Vec<f64> =
        svg[start..].split('"').next().unwrap_or_default().split([' ', ',']).filter_map(|n| n.parse().ok()).collect();
    match numbers[..] {
        [_, _, w, h] if w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite() => h / w,
        _ => DEFAULT_RATIO,
    }
}

/// Whether a chart has a drawing to place.
fn drawn(svg: &str) -> bool {
    svg.trim_start().starts_with("<svg")
}

/// The report as a PDF (A4).
pub fn to_pdf(report: &Report) -> Result<Vec<u8>, ReportError> {
    let (document, _warnings) = typeset(report)?;
    let options = typst_pdf::PdfOptions { creator: Smart::Custom(Some("Rumbo".into())), ..Default::default() };
    typst_pdf::pdf(&document, &options).map_err(|errors| ReportError::Pdf(describe(&errors)))
}

/// The report laid out in pages, and Typst's warnings (the template's business, not the
/// reader's: tests check there are none).
fn typeset(report: &Report) -> Result<(PagedDocument, Vec<String>), ReportError> {
    let mut files = HashMap::new();
    let mut charts = Vec::with_capacity(report.sections.len());
    for (i, section) in report.sections.iter().enumerate() {
        let mut placed = Vec::with_capacity(section.charts.len());
        for (j, chart) in section.charts.iter().enumerate() {
            if drawn(&chart.svg) {
                let name = format!("chart-{i}-{j}.svg");
                files.insert(file_id(&name), Bytes::from_string(chart.svg.clone()));
                placed.push(Placed { file: Some(name), ratio: ratio_of(&chart.svg) });
            } else {
                placed.push(Placed { file: None, ratio: DEFAULT_RATIO });
            }
        }
        charts.push(placed);
    }
    let map = report.map.as_ref().filter(|m| drawn(&m.svg)).map(|m| {
        files.insert(file_id("map.svg"), Bytes::from_string(m.svg.clone()));
        Placed { file: Some("map.svg".into()), ratio: ratio_of(&m.svg) }
    });
    let data = Data { report, lang: lang_tag(&report.lang), charts, map };
    let json = serde_json::to_vec(&data).map_err(|e| ReportError::Typeset(e.to_string()))?;
    files.insert(file_id("data.json"), Bytes::new(json));
    let world = ReportWorld { main: Source::new(file_id("main.typ"), TEMPLATE.to_owned()), files };

    let Warned { output, warnings } = typst::compile::<PagedDocument>(&world);
    // Typst memoises across documents; keep what recent reports used, drop the rest.
    typst::comemo::evict(10);
    let document = output.map_err(|errors| ReportError::Typeset(describe(&errors)))?;
    Ok((document, warnings.iter().map(|w| w.message.to_string()).collect()))
}

/// Drops everything Typst memoised from earlier reports, so that the next one is typeset
/// from scratch (benchmarks; reports otherwise share what did not change between them).
pub fn forget_memoised() {
    typst::comemo::evict(0);
}

fn describe(errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| {
            let mut text = e.message.to_string();
            for hint in &e.hints {
                text.push_str(" (");
                text.push_str(&hint.v);
                text.push(')');
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Chart, Fact, KeyFigure, Section, Table};

    fn sample(label: &str) -> Report {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 200" font-family="inherit" font-size="12"><rect x="10" y="10" width="200" height="30" fill="#0b5394"/><text x="10" y="80">Venezuela 63,4 %</text></svg>"##;
        Report {
            title: format!("Colombia — {label}"),
            subtitle: "Ronda 3 – 2025".into(),
            lang: "es".into(),
            generated_at: "2026-05-14 10:32 UTC".into(),
            figures: vec![
                KeyFigure::new(label, "12.345", "n = 412"),
                KeyFigure::new("Piensa quedarse", "63,4\u{a0}%", "IC 95 % 61,0 %–66,0 %"),
            ],
            sections: vec![Section {
                heading: label.into(),
                intro: Some(label.into()),
                charts: vec![
                    Chart { title: label.into(), svg: svg.into(), note: Some(label.into()) },
                    Chart { title: "sin dibujo".into(), svg: String::new(), note: None },
                ],
                table: Some(Table {
                    caption: label.into(),
                    headers: vec!["Área".into(), label.into()],
                    rows: vec![vec![label.into(), "1.234".into()], vec!["Arauca".into(), "—".into()]],
                    note: Some("2 celdas suprimidas".into()),
                }),
            }],
            map: Some(Chart { title: "Mapa".into(), svg: svg.replace("400 200", "300 900"), note: None }),
            methodology: vec![label.into(), "Segundo párrafo.".into()],
            sources: vec![Fact::new("Formularios", label), Fact::new("Envíos", "1.234")],
            disclosure: label.into(),
            ..Report::default()
        }
    }

    #[test]
    fn a_report_typesets_to_pdf() {
        let (_, warnings) = typeset(&sample("Personas observadas")).expect("typeset");
        assert!(warnings.is_empty(), "{warnings:?}");
        let pdf = to_pdf(&sample("Personas observadas")).expect("typeset");
        assert!(pdf.starts_with(b"%PDF-"), "{:?}", &pdf[..16.min(pdf.len())]);
        assert!(pdf.len() > 5_000);
    }

    #[test]
    fn hostile_text_is_printed_not_run() {
        for label in [
            "<script>alert(1)</script>",
            "#panic(\"boom\")",
            "]) #set page(width: 1pt) [",
            "$x^2$ and \\ backslash \\",
            "*bold* _it_ @ref <label> `raw` // comment /* open",
            "#{ while true {} }",
            "= not a heading",
            "\"quoted\" 'single' & more",
        ] {
            let pdf = to_pdf(&sample(label)).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert!(pdf.starts_with(b"%PDF-"), "{label}");
        }
    }

    #[test]
    fn ratios_come_from_the_view_box() {
        assert!((ratio_of(r#"<svg viewBox="0 0 640 320">"#) - 0.5).abs() < 1e-9);
        assert!((ratio_of("<svg>") - DEFAULT_RATIO).abs() < 1e-9);
        assert!((ratio_of(r#"<svg viewBox="0 0 0 10">"#) - DEFAULT_RATIO).abs() < 1e-9);
    }
}
