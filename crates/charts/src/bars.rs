//! Horizontal bar charts: breakdowns by nationality, needs, destinations.

use crate::locale::{Format, Locale};
use crate::scale::Axis;
use crate::svg::{self, BASELINE, FONT, Frame, GRID, INK, MUTED, Px, SMALL, WIDTH, esc, finite, fit, text_width, w};

/// Fill of bars without CSS: a muted blue.
pub(crate) const BAR: &str = "#3f6e9f";

/// One bar: a category and its value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bar {
    /// The category, as the user wrote it (escaped when drawn).
    pub label: String,
    /// The value; `None` when it was suppressed (a cell too small to publish): no bar is drawn,
    /// only "—", and the tooltip says why. A value that is not finite is drawn as no data.
    pub value: Option<f64>,
    /// Lower end of the 95 % confidence interval, drawn as a whisker with `high`.
    pub low: Option<f64>,
    /// Upper end of the 95 % confidence interval.
    pub high: Option<f64>,
    /// Where clicking the bar goes (a filter); relative or http(s) only.
    pub href: Option<String>,
    /// Added to the tooltip: "n = 312".
    pub note: Option<String>,
}

impl Bar {
    /// A bar with a label and a value, and nothing else.
    pub fn new(label: impl Into<String>, value: Option<f64>) -> Bar {
        Bar { label: label.into(), value, ..Bar::default() }
    }
}

/// The tooltip of a value: "label: value (IC 95 %: low–high), note".
pub(crate) fn tooltip(
    label: &str,
    value: Option<f64>,
    ci: Option<(f64, f64)>,
    note: Option<&str>,
    format: Format,
    locale: &Locale,
) -> String {
    let mut out = String::new();
    if !label.is_empty() {
        w!(out, "{label}: ");
    }
    match value {
        Some(v) if v.is_finite() => {
            out.push_str(&locale.format(v, format));
            if let Some((low, high)) = ci {
                w!(out, " ({}: {}–{})", locale.text.ci, locale.format(low, format), locale.format(high, format));
            }
        }
        Some(_) => out.push_str(&locale.text.no_data),
        None => out.push_str(&locale.text.suppressed),
    }
    if let Some(note) = note.filter(|n| !n.is_empty()) {
        w!(out, ", {note}");
    }
    out
}

/// A horizontal bar chart, one row per bar in the order given, with value labels at the bar
/// ends, 95 % confidence whiskers where given, and a value axis with gridlines below.
pub fn bars(title: &str, bars: &[Bar], format: Format, locale: &Locale) -> String {
    if bars.is_empty() {
        return svg::no_data(title, locale);
    }
    const ROW: f64 = 28.0;
    const THICK: f64 = 18.0;
    const TOP: f64 = 4.0;

    let value = |b: &Bar| finite(b.value);
    let ci = |b: &Bar| match (value(b), finite(b.low), finite(b.high)) {
        (Some(_), Some(low), Some(high)) => Some((low.min(high), low.max(high))),
        _ => None,
    };
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for b in bars {
        for v in value(b).into_iter().chain(ci(b).into_iter().flat_map(|(l, h)| [l, h])) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let axis = Axis::new(lo, hi, 5, format);
    let texts: Vec<Option<String>> = bars.iter().map(|b| value(b).map(|v| locale.format(v, format))).collect();
    let value_room = texts.iter().flatten().map(|t| text_width(t, FONT)).fold(24.0, f64::max) + 8.0;
    let label_room = bars.iter().map(|b| text_width(&b.label, FONT)).fold(40.0, f64::max).min(WIDTH * 0.34);
    let label_end = 8.0 + label_room;
    let left = label_end + 12.0 + if axis.lo < 0.0 { value_room } else { 0.0 };
    let right = WIDTH - value_room;
    let at = |v: f64| axis.at(v, left, right);
    let bottom = TOP + ROW * bars.len() as f64;
    let height = bottom + 22.0;

    let mut body = String::new();
    // Gridlines and the axis first, so bars and labels are drawn over them.
    w!(body, r#"<g class="chart-grid" aria-hidden="true"><path stroke="{GRID}" d=""#);
    for &t in axis.ticks.iter().filter(|t| t.abs() > 0.0) {
        w!(body, "M{} {}V{}", Px(at(t)), Px(TOP), Px(bottom));
    }
    w!(body, r#""/><path stroke="{BASELINE}" d="M{} {}V{}"/></g>"#, Px(at(0.0)), Px(TOP), Px(bottom));
    w!(body, r#"<g class="chart-axis" aria-hidden="true" fill="{MUTED}" font-size="{SMALL}" text-anchor="middle">"#);
    for &t in &axis.ticks {
        w!(body, r#"<text x="{}" y="{}">{}</text>"#, Px(at(t)), Px(bottom + 15.0), esc(&axis.label(t, locale)));
    }
    body.push_str("</g>");

    let mut highest: Option<(f64, &str, &str)> = None;
    for (i, (b, text)) in bars.iter().zip(&texts).enumerate() {
        let row = TOP + ROW * i as f64;
        let middle = row + ROW / 2.0;
        let baseline = middle + FONT * 0.35;
        let tip = tooltip(&b.label, b.value, ci(b), b.note.as_deref(), format, locale);
        let end = svg::open(&mut body, "chart-row", &tip, b.href.as_deref());
        // An invisible band over the whole row: the tooltip and the link work anywhere on it.
        w!(
            body,
            r#"<rect class="chart-hit" x="0" y="{}" width="{WIDTH}" height="{ROW}" fill="transparent"/><text class="chart-label" x="{}" y="{}" text-anchor="end" fill="{INK}">{}</text>"#,
            Px(row),
            Px(label_end),
            Px(baseline),
            esc(&fit(&b.label, label_room, FONT)),
        );
        if let (Some(v), Some(text)) = (value(b), text) {
            let (zero, tip_x) = (at(0.0), at(v));
            w!(
                body,
                r#"<rect class="chart-bar" x="{}" y="{}" width="{}" height="{THICK}" fill="{BAR}"/>"#,
                Px(zero.min(tip_x)),
                Px(middle - THICK / 2.0),
                Px((tip_x - zero).abs()),
            );
            let mut far = tip_x;
            if let Some((low, high)) = ci(b) {
                let (low_x, high_x) = (at(low), at(high));
                w!(
                    body,
                    r#"<path class="chart-ci" stroke="{INK}" stroke-width="1.2" d="M{l} {m}H{h}M{l} {t}V{u}M{h} {t}V{u}"/>"#,
                    l = Px(low_x),
                    h = Px(high_x),
                    m = Px(middle),
                    t = Px(middle - 5.0),
                    u = Px(middle + 5.0),
                );
                far = if v < 0.0 { far.min(low_x) } else { far.max(high_x) };
            }
            let (label_x, anchor) = if v < 0.0 { (far - 4.0, "end") } else { (far + 4.0, "start") };
            w!(
                body,
                r#"<text class="chart-value" x="{}" y="{}" text-anchor="{anchor}" fill="{INK}">{}</text>"#,
                Px(label_x),
                Px(baseline),
                esc(text),
            );
            if highest.is_none_or(|(h, _, _)| v > h) {
                highest = Some((v, &b.label, text));
            }
        } else {
            w!(
                body,
                r#"<text class="chart-suppressed" x="{}" y="{}" fill="{MUTED}">—</text>"#,
                Px(at(0.0) + 4.0),
                Px(baseline)
            );
        }
        svg::close(&mut body, end);
    }
    let desc = match highest {
        Some((_, label, text)) => format!("{}: {label} ({text}).", locale.text.highest),
        None if bars.iter().any(|b| b.value.is_none()) => locale.text.suppressed.clone(),
        None => locale.text.no_data.clone(),
    };
    Frame { kind: "bars", title, desc: &desc, width: WIDTH, height }.finish("", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::tests::{marks_have_titles, well_formed};

    fn sample() -> Vec<Bar> {
        vec![
            Bar {
                label: "Venezuela".into(),
                value: Some(0.634),
                low: Some(0.61),
                high: Some(0.66),
                href: Some("?nationality=VEN&round=3".into()),
                note: Some("n = 312".into()),
            },
            Bar::new("Colombia", Some(0.2)),
            Bar::new("Haití", None),
        ]
    }

    #[test]
    fn draws_rows_with_tooltips() {
        let svg = bars("Nacionalidad", &sample(), Format::Percent, &Locale::for_lang("es"));
        well_formed(&svg);
        assert_eq!(marks_have_titles(&svg, &["chart-row"]), 3);
        assert!(svg.contains("<title>Venezuela: 63,4\u{a0}% (IC 95 %: 61,0\u{a0}%–66,0\u{a0}%), n = 312</title>"));
        assert!(svg.contains(r#"<a href="?nationality=VEN&amp;round=3" class="chart-link chart-row">"#));
        assert!(svg.contains(r#"role="group""#), "a chart with links is not an img");
        assert!(svg.contains("Valor más alto: Venezuela (63,4\u{a0}%)."));
        assert_eq!(svg.matches("class=\"chart-bar\"").count(), 2);
        assert_eq!(svg.matches("class=\"chart-ci\"").count(), 1);
    }

    #[test]
    fn suppressed_value_has_no_bar() {
        let svg = bars("x", &[Bar::new("Haití", None)], Format::Count, &Locale::for_lang("en"));
        well_formed(&svg);
        assert!(!svg.contains("chart-bar\""));
        assert!(svg.contains(">—</text>"));
        assert!(svg.contains("<title>Haití: suppressed: too few responses to publish</title>"));
        assert!(svg.contains(r#"role="img""#));
    }

    #[test]
    fn hostile_labels_are_escaped() {
        let hostile = r#"<script>alert("x")</script>' onload='y"#;
        let list = [Bar {
            label: hostile.into(),
            value: Some(1.0),
            note: Some("</title><script>".into()),
            href: Some(r#""><script>"#.into()),
            ..Bar::default()
        }];
        let svg = bars(hostile, &list, Format::Count, &Locale::for_lang("en"));
        well_formed(&svg);
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("' onload"));
        assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)"));
        let unsafe_link = [Bar { href: Some("javascript:alert(1)".into()), ..list[0].clone() }];
        let svg = bars("x", &unsafe_link, Format::Count, &Locale::for_lang("en"));
        assert!(!svg.contains("javascript") && !svg.contains("<a "));
    }

    #[test]
    fn empty_and_not_finite() {
        let svg = bars("Nada", &[], Format::Count, &Locale::for_lang("es"));
        well_formed(&svg);
        assert!(svg.contains(">Sin datos</text>") && svg.contains("chart-empty"));
        let odd = [
            Bar::new("a", Some(f64::NAN)),
            Bar { low: Some(f64::NEG_INFINITY), high: Some(f64::NAN), ..Bar::new("b", Some(f64::INFINITY)) },
            Bar { low: Some(f64::NAN), high: Some(3.0), ..Bar::new("c", Some(2.0)) },
        ];
        let svg = bars("x", &odd, Format::Count, &Locale::for_lang("en"));
        well_formed(&svg);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert!(svg.contains("<title>a: No data</title>"));
        assert_eq!(svg.matches("class=\"chart-bar\"").count(), 1);
        assert_eq!(svg.matches("class=\"chart-ci\"").count(), 0);
    }

    #[test]
    fn negative_values_and_deterministic_output() {
        let list = [Bar::new("Saldo", Some(-120.0)), Bar::new("Otro", Some(300.0))];
        let a = bars("Saldo", &list, Format::Count, &Locale::for_lang("es"));
        well_formed(&a);
        assert_eq!(a, bars("Saldo", &list, Format::Count, &Locale::for_lang("es")));
        assert_ne!(a, bars("Saldo 2", &list, Format::Count, &Locale::for_lang("es")), "ids differ");
        assert!(!a.contains('\u{1}'));
    }
}
