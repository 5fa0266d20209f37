//! The report as HTML: a whole page, or the `<article>` alone for a page of the caller's.

use std::fmt::Write as _;

use crate::{Chart, Report, Table, lang_tag};

/// The report's style sheet: every rule is under `.report`, so it can sit beside a site's
/// own. It prints well (charts and tables are not split across pages).
pub const STYLESHEET: &str = include_str!("report.css");

/// The report as a page of its own: style sheet inline, charts inline, no script, nothing
/// fetched from elsewhere.
pub fn to_html(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>\n{STYLESHEET}</style>\n</head>\n<body>\n",
        lang_tag(&report.lang),
        esc(&report.title),
    );
    out.push_str(&to_html_fragment(report));
    out.push_str("</body>\n</html>\n");
    out
}

/// The report's `<article class="report">` alone, for a page that links [`STYLESHEET`].
pub fn to_html_fragment(report: &Report) -> String {
    let words = &report.words;
    let mut out = String::with_capacity(64 * 1024);
    let _ = writeln!(out, "<article class=\"report\" lang=\"{}\">", lang_tag(&report.lang));
    let _ = writeln!(out, "<header class=\"report-head\">\n<h1>{}</h1>", esc(&report.title));
    if !report.subtitle.is_empty() {
        let _ = writeln!(out, "<p class=\"report-subtitle\">{}</p>", esc(&report.subtitle));
    }
    if !report.generated_at.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"report-generated\">{}: <time>{}</time></p>",
            esc(&words.generated),
            esc(&report.generated_at)
        );
    }
    out.push_str("</header>\n");

    if !report.figures.is_empty() {
        let _ = writeln!(
            out,
            "<section class=\"report-figures\" aria-labelledby=\"report-figures\">\n<h2 id=\"report-figures\">{}</h2>\n<ul>",
            esc(&words.key_figures)
        );
        for f in &report.figures {
            let _ = write!(
                out,
                "<li><span class=\"report-figure-value\">{}</span> <span class=\"report-figure-label\">{}</span>",
                esc(&f.value),
                esc(&f.label)
            );
            if !f.note.is_empty() {
                let _ = write!(out, " <span class=\"report-figure-note\">{}</span>", esc(&f.note));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n</section>\n");
    }

    for (i, section) in report.sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section class=\"report-section\" aria-labelledby=\"report-s{i}\">\n<h2 id=\"report-s{i}\">{}</h2>",
            esc(&section.heading)
        );
        if let Some(intro) = section.intro.as_deref().filter(|t| !t.is_empty()) {
            let _ = writeln!(out, "<p>{}</p>", esc(intro));
        }
        let several = section.charts.len() > 1;
        if several {
            out.push_str("<div class=\"report-charts\">\n");
        }
        for chart in &section.charts {
            figure(&mut out, chart, "report-chart");
        }
        if several {
            out.push_str("</div>\n");
        }
        if let Some(table) = &section.table {
            write_table(&mut out, table);
        }
        out.push_str("</section>\n");
    }

    if let Some(map) = &report.map {
        let _ = writeln!(
            out,
            "<section class=\"report-section report-map\" aria-labelledby=\"report-map\">\n<h2 id=\"report-map\">{}</h2>",
            esc(&words.map)
        );
        figure(&mut out, map, "report-chart report-map-figure");
        out.push_str("</section>\n");
    }

    out.push_str("<footer class=\"report-notes\">\n");
    if !report.methodology.is_empty() {
        let _ = writeln!(
            out,
            "<section aria-labelledby=\"report-method\">\n<h2 id=\"report-method\">{}</h2>",
            esc(&words.methodology)
        );
        for p in &report.methodology {
            let _ = writeln!(out, "<p>{}</p>", esc(p));
        }
        out.push_str("</section>\n");
    }
    if !report.disclosure.is_empty() {
        let _ = writeln!(
            out,
            "<section aria-labelledby=\"report-disclosure\">\n<h2 id=\"report-disclosure\">{}</h2>\n<p>{}</p>\n</section>",
            esc(&words.disclosure),
            esc(&report.disclosure)
        );
    }
    if !report.sources.is_empty() {
        let _ = writeln!(
            out,
            "<section aria-labelledby=\"report-sources\">\n<h2 id=\"report-sources\">{}</h2>\n<dl>",
            esc(&words.sources)
        );
        for fact in &report.sources {
            let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(&fact.label), esc(&fact.value));
        }
        out.push_str("</dl>\n</section>\n");
    }
    out.push_str("</footer>\n</article>\n");
    out
}

fn figure(out: &mut String, chart: &Chart, class: &str) {
    let _ = writeln!(out, "<figure class=\"{class}\">");
    if chart.svg.trim_start().starts_with("<svg") {
        out.push_str(&chart.svg);
        out.push('\n');
    }
    let _ = write!(out, "<figcaption>{}", esc(&chart.title));
    if let Some(note) = chart.note.as_deref().filter(|n| !n.is_empty()) {
        let _ = write!(out, " <span class=\"report-note\">{}</span>", esc(note));
    }
    out.push_str("</figcaption>\n</figure>\n");
}

fn write_table(out: &mut String, table: &Table) {
    out.push_str("<div class=\"report-table\">\n<table>\n");
    if !table.caption.is_empty() {
        let _ = writeln!(out, "<caption>{}</caption>", esc(&table.caption));
    }
    out.push_str("<thead><tr>");
    for h in &table.headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(out, "<th scope=\"row\">{}</th>", esc(cell));
            } else {
                let _ = write!(out, "<td>{}</td>", esc(cell));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    if let Some(note) = table.note.as_deref().filter(|n| !n.is_empty()) {
        let _ = writeln!(out, "<p class=\"report-note\">{}</p>", esc(note));
    }
    out.push_str("</div>\n");
}

/// Text for HTML: `& < > " '` escaped, and the characters HTML forbids dropped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && !matches!(c, '\n' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fact, KeyFigure, Section};

    #[test]
    fn text_is_escaped_and_charts_are_inlined() {
        let report = Report {
            title: "<script>alert(1)</script>".into(),
            lang: "es".into(),
            figures: vec![KeyFigure::new("a & b", "12.345", "\"n\" = 3")],
            sections: vec![Section {
                heading: "Flujos".into(),
                charts: vec![Chart { title: "x".into(), svg: "<svg viewBox=\"0 0 1 1\"></svg>".into(), note: None }],
                table: Some(Table {
                    caption: "t".into(),
                    headers: vec!["Área".into(), "Valor".into()],
                    rows: vec![vec!["<b>".into(), "1".into()]],
                    note: Some("1 celda suprimida".into()),
                }),
                ..Section::default()
            }],
            sources: vec![Fact::new("Ronda", "R'3")],
            ..Report::default()
        };
        let html = to_html(&report);
        assert!(html.starts_with("<!doctype html>") && html.contains("<html lang=\"es\">"));
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("a &amp; b") && html.contains("&quot;n&quot; = 3") && html.contains("R&#39;3"));
        assert!(html.contains("<svg viewBox=\"0 0 1 1\"></svg>"));
        assert!(html.contains("<th scope=\"row\">&lt;b&gt;</th><td>1</td>"));
        assert!(html.contains("<style>"));
        assert!(!to_html_fragment(&report).contains("<style>"));
    }
}
