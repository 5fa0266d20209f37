//! Time series: arrivals per day, needs per round.

use crate::bars::tooltip;
use crate::locale::{Format, Locale};
use crate::scale::Axis;
use crate::svg::{self, BASELINE, FONT, Frame, GRID, INK, MUTED, Px, SMALL, WIDTH, esc, finite, fit, text_width, w};

/// Colours of series, in order (Paul Tol's "bright" scheme, safe for colour-blind readers);
/// an eighth series takes the first colour again.
pub(crate) const SERIES: [&str; 7] = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#999999"];

/// One line: a name for the legend and tooltips, and one value per x label (`None` leaves a
/// gap in the line).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A line chart of one or more series over the same x labels (days, months, rounds), with a
/// dot and a tooltip on every value, gaps where a value is missing, and a legend when there
/// is more than one series. Values beyond the number of x labels are ignored.
pub fn lines(title: &str, x_labels: &[String], series: &[Series], format: Format, locale: &Locale) -> String {
    const PLOT: f64 = 200.0;
    let n = x_labels.len();
    let value = |s: &Series, i: usize| finite(s.values.get(i).copied().flatten());
    let (mut lo, mut hi, mut any) = (0.0f64, 0.0f64, false);
    for s in series {
        for v in (0..n).filter_map(|i| value(s, i)) {
            (lo, hi, any) = (lo.min(v), hi.max(v), true);
        }
    }
    if !any {
        return svg::no_data(title, locale);
    }
    let axis = Axis::new(lo, hi, 5, format);

    // Legend rows, laid out left to right.
    let mut legend = String::new();
    let mut legend_height = 0.0;
    if series.len() > 1 {
        let (mut lx, mut ly) = (8.0, 12.0);
        w!(legend, r#"<g class="chart-legend" aria-hidden="true" fill="{INK}">"#);
        for (i, s) in series.iter().enumerate() {
            let name = fit(&s.name, 200.0, FONT);
            let item = 24.0 + text_width(&name, FONT) + 18.0;
            if lx + item > WIDTH && lx > 8.0 {
                (lx, ly) = (8.0, ly + 18.0);
            }
            w!(
                legend,
                r#"<path class="chart-series-{i}" d="M{} {}h16" stroke="{}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
                Px(lx),
                Px(ly - 4.0),
                SERIES[i % SERIES.len()],
                Px(lx + 22.0),
                Px(ly),
                esc(&name)
            );
            lx += item;
        }
        legend.push_str("</g>");
        legend_height = ly + 10.0;
    }
    let top = legend_height + 8.0;
    let bottom = top + PLOT;
    let y_at = |v: f64| axis.at(v, bottom, top);

    // X labels: all of them level when they fit. Otherwise a long series (days) keeps them
    // level but shows one in every `every`; a short one (rounds, months) slants them all,
    // thinning only if still crowded.
    let labels: Vec<String> = x_labels.iter().map(|l| fit(l, 110.0, SMALL)).collect();
    let widest = labels.iter().map(|l| text_width(l, SMALL)).fold(0.0, f64::max);
    let first = labels.first().map_or(0.0, |l| text_width(l, SMALL));
    let last = labels.last().map_or(0.0, |l| text_width(l, SMALL));
    let tick_room = axis.ticks.iter().map(|&t| text_width(&axis.label(t, locale), SMALL)).fold(0.0, f64::max);
    let mut left = (tick_room + 14.0).max(first / 2.0 + 4.0);
    let mut right = WIDTH - (last / 2.0 + 4.0).max(12.0);
    let slot = |left: f64, right: f64| if n > 1 { (right - left) / (n - 1) as f64 } else { right - left };
    let (level, every) = if widest + 10.0 <= slot(left, right) {
        (true, 1)
    } else if n > 24 {
        (true, round_every((widest + 16.0) / slot(left, right)))
    } else {
        left = left.max(first * 0.71 + 4.0);
        right = WIDTH - 12.0;
        (false, round_every(15.0 / slot(left, right)))
    };
    let px = |i: usize| if n > 1 { left + (right - left) * i as f64 / (n - 1) as f64 } else { left.midpoint(right) };
    let height = bottom + if level { 26.0 } else { widest * 0.71 + 20.0 };

    let mut body = legend;
    w!(body, r#"<g class="chart-grid" aria-hidden="true"><path stroke="{GRID}" d=""#);
    for &t in axis.ticks.iter().filter(|t| t.abs() > 0.0) {
        w!(body, "M{} {}H{}", Px(left), Px(y_at(t)), Px(right));
    }
    w!(body, r#""/><path stroke="{BASELINE}" d="M{} {}H{}"/></g>"#, Px(left), Px(y_at(0.0)), Px(right));
    w!(body, r#"<g class="chart-axis" aria-hidden="true" fill="{MUTED}" font-size="{SMALL}"><g text-anchor="end">"#);
    for &t in &axis.ticks {
        w!(body, r#"<text x="{}" y="{}">{}</text>"#, Px(left - 8.0), Px(y_at(t) + 4.0), esc(&axis.label(t, locale)));
    }
    w!(body, r#"</g><g text-anchor="{}">"#, if level { "middle" } else { "end" });
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        if level {
            w!(body, r#"<text x="{}" y="{}">{}</text>"#, Px(px(i)), Px(bottom + 16.0), esc(label));
        } else {
            let (tx, ty) = (px(i) + 3.0, bottom + 10.0);
            w!(
                body,
                r#"<text x="{}" y="{}" transform="rotate(-45 {} {})">{}</text>"#,
                Px(tx),
                Px(ty),
                Px(tx),
                Px(ty),
                esc(label)
            );
        }
    }
    body.push_str("</g></g>");

    // A band per x label with every series' value: hovering anywhere in the column tells.
    if n > 0 {
        let band = slot(left, right).min(right - left);
        w!(body, r#"<g class="chart-columns">"#);
        for (i, label) in x_labels.iter().enumerate() {
            let parts: Vec<String> = series
                .iter()
                .filter_map(|s| value(s, i).map(|v| tooltip(&s.name, Some(v), None, None, format, locale)))
                .collect();
            if parts.is_empty() {
                continue;
            }
            let tip = format!("{label}: {}", parts.join("; "));
            let shape = format!(
                r#"<rect class="chart-column" x="{}" y="{}" width="{}" height="{}" fill="transparent""#,
                Px(px(i) - band / 2.0),
                Px(top),
                Px(band),
                Px(PLOT)
            );
            svg::shape(&mut body, &shape, "rect", &tip, None);
        }
        body.push_str("</g>");
    }

    // Many dots would blur the line: past 40 they stay invisible, there for their tooltips
    // (CSS can show them: `.chart-dot:hover{fill-opacity:1}`).
    let dots_shown = n <= 40;
    let mut highest: Option<(f64, &str, &str)> = None;
    let mut latest = Vec::new();
    for (k, s) in series.iter().enumerate() {
        let colour = SERIES[k % SERIES.len()];
        let mut path = String::new();
        let mut pen_down = false;
        for i in 0..n {
            match value(s, i) {
                Some(v) => {
                    w!(path, "{}{} {}", if pen_down { 'L' } else { 'M' }, Px(px(i)), Px(y_at(v)));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if path.contains('L') {
            w!(
                body,
                r#"<path class="chart-line chart-series-{k}" d="{path}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>"#
            );
        }
        w!(
            body,
            r#"<g class="chart-dots chart-series-{k}" fill="{colour}" {}>"#,
            if dots_shown { r##"stroke="#fff" stroke-width="1""## } else { r#"fill-opacity="0""# }
        );
        for (i, label) in x_labels.iter().enumerate() {
            let Some(v) = value(s, i) else { continue };
            let name = if s.name.is_empty() { label.clone() } else { format!("{}, {label}", s.name) };
            let shape = format!(r#"<circle class="chart-dot" cx="{}" cy="{}" r="3""#, Px(px(i)), Px(y_at(v)));
            svg::shape(&mut body, &shape, "circle", &tooltip(&name, Some(v), None, None, format, locale), None);
            if highest.is_none_or(|(h, _, _)| v > h) {
                highest = Some((v, &s.name, label));
            }
        }
        body.push_str("</g>");
        if let Some((i, v)) = (0..n).rev().find_map(|i| value(s, i).map(|v| (i, v))) {
            let name = if s.name.is_empty() { x_labels[i].clone() } else { format!("{}, {}", s.name, x_labels[i]) };
            latest.push(tooltip(&name, Some(v), None, None, format, locale));
        }
    }

    let mut desc = String::new();
    if let Some((v, name, label)) = highest {
        let what = if name.is_empty() { label.to_owned() } else { format!("{name}, {label}") };
        w!(desc, "{}: {what} ({}). ", locale.text.highest, locale.format(v, format));
    }
    w!(desc, "{}: {}.", locale.text.latest, latest.join("; "));
    Frame { kind: "lines", title, desc: &desc, width: WIDTH, height }.finish("", &body)
}

/// One label in every so many: a round number at least `raw` (2, 3, 5, 7 for weeks, 10,
/// 14, 15, 30…).
fn round_every(raw: f64) -> usize {
    const ROUND: [usize; 16] = [1, 2, 3, 4, 5, 6, 7, 10, 12, 14, 15, 20, 25, 30, 50, 100];
    let raw = if raw.is_finite() { raw.ceil().max(1.0) as usize } else { 1 };
    ROUND.iter().copied().find(|&k| k >= raw).unwrap_or(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::tests::{marks_have_titles, well_formed};

    fn months(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("2025-{:02}", i % 12 + 1)).collect()
    }

    #[test]
    fn gaps_break_the_line() {
        let s = Series { name: "Llegadas".into(), values: vec![Some(10.0), Some(12.0), None, Some(9.0), Some(11.0)] };
        let svg = lines("Llegadas", &months(5), &[s], Format::Count, &Locale::for_lang("es"));
        well_formed(&svg);
        let path = svg.split("class=\"chart-line chart-series-0\" d=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(marks_have_titles(&svg, &["chart-dot"]), 4);
        assert!(svg.contains("<title>Llegadas, 2025-02: 12</title>"));
        assert!(svg.contains("Último valor: Llegadas, 2025-05: 11."));
        assert!(!svg.contains("chart-legend"), "one series needs no legend");
    }

    #[test]
    fn several_series_and_many_labels() {
        let x = months(80);
        let a = Series { name: "Entradas".into(), values: (0..80).map(|i| Some(f64::from(i) * 100.0)).collect() };
        let b = Series { name: "Salidas".into(), values: (0..85).map(|i| Some(f64::from(i) * 50.0)).collect() };
        let svg = lines("Flujos", &x, &[a, b], Format::Count, &Locale::for_lang("en"));
        well_formed(&svg);
        assert!(svg.contains("chart-legend") && svg.contains(">Salidas</text>"));
        assert!(!svg.contains("rotate(-45"), "a long series keeps its labels level");
        let shown = svg.matches("\">2025-").count();
        assert!((5..=20).contains(&shown), "and thins them: {shown}");
        assert!(svg.contains(r#"fill-opacity="0""#), "dense dots are there but invisible");
        assert_eq!(marks_have_titles(&svg, &["chart-dot", "chart-column"]), 240);
        assert!(svg.contains("<title>2025-04: Entradas: 300; Salidas: 150</title>"));
    }

    #[test]
    fn short_series_with_long_labels_slant() {
        let x: Vec<String> = (1..=12).map(|m| format!("Ronda {m} (septiembre de 2025)")).collect();
        let s = Series { name: String::new(), values: (0..12).map(|i| Some(f64::from(i))).collect() };
        let svg = lines("x", &x, &[s], Format::Decimal(1), &Locale::for_lang("es"));
        well_formed(&svg);
        assert_eq!(svg.matches("rotate(-45").count(), 12);
        assert!(svg.contains("<title>Ronda 3 (septiembre de 2025): 2,0</title>"));
        assert_eq!(round_every(8.5), 10);
        assert_eq!(round_every(f64::NAN), 1);
    }

    #[test]
    fn empty_and_not_finite() {
        let en = Locale::for_lang("en");
        assert!(lines("x", &[], &[], Format::Count, &en).contains(">No data</text>"));
        let s = Series { name: "a".into(), values: vec![None, Some(f64::NAN), Some(f64::INFINITY)] };
        assert!(lines("x", &months(3), &[s], Format::Count, &en).contains(">No data</text>"));
        let s = Series { name: "a".into(), values: vec![Some(f64::NAN), Some(0.5)] };
        let svg = lines("x", &months(2), &[s], Format::Percent, &en);
        well_formed(&svg);
        assert!(!svg.contains("NaN"));
        assert_eq!(svg.matches("class=\"chart-dot\"").count(), 1);
    }

    #[test]
    fn single_point_and_hostile_names() {
        let s = Series { name: "<b>\"a\"</b>".into(), values: vec![Some(3.0)] };
        let svg = lines("<t>", &["<x>".to_owned()], &[s], Format::Decimal(1), &Locale::for_lang("pt"));
        well_formed(&svg);
        assert!(svg.contains("<title>&lt;b&gt;&quot;a&quot;&lt;/b&gt;, &lt;x&gt;: 3,0</title>"));
    }
}
