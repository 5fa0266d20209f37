//! Population pyramids: age groups by sex.

use crate::bars::tooltip;
use crate::locale::{Format, Locale};
use crate::scale::Axis;
use crate::svg::{self, BASELINE, FONT, Frame, GRID, INK, MUTED, Px, SMALL, WIDTH, esc, finite, fit, text_width, w};

/// Fill of the female side without CSS (Paul Tol's muted rose).
pub(crate) const FEMALE: &str = "#c2607a";
/// Fill of the male side without CSS (Paul Tol's blue).
pub(crate) const MALE: &str = "#4477aa";

/// A population pyramid. `groups` are age groups youngest first (drawn at the bottom);
/// `female` and `male` hold one value per group (missing entries count as suppressed);
/// `labels` names the two sides, female first ("Mujeres", "Hombres"). Both sides share one
/// scale, so their bars compare.
pub fn pyramid(
    title: &str,
    groups: &[String],
    female: &[Option<f64>],
    male: &[Option<f64>],
    labels: (&str, &str),
    format: Format,
    locale: &Locale,
) -> String {
    if groups.is_empty() {
        return svg::no_data(title, locale);
    }
    const ROW: f64 = 24.0;
    const THICK: f64 = 18.0;
    const TOP: f64 = 26.0;
    let get = |side: &[Option<f64>], i: usize| side.get(i).copied().flatten();
    let sides = [(labels.0, female, FEMALE, "chart-female"), (labels.1, male, MALE, "chart-male")];

    let mut hi = 0.0f64;
    for i in 0..groups.len() {
        for (_, side, _, _) in &sides {
            hi = hi.max(finite(get(side, i)).unwrap_or(0.0));
        }
    }
    let axis = Axis::new(0.0, hi, 2, format);
    let value_room = (0..groups.len())
        .flat_map(|i| sides.iter().filter_map(move |(_, side, _, _)| finite(get(side, i))))
        .map(|v| text_width(&locale.format(v, format), SMALL))
        .fold(20.0, f64::max)
        + 8.0;
    let middle_room = groups.iter().map(|g| text_width(g, FONT)).fold(36.0, f64::max).min(140.0) + 16.0;
    let inner_left = WIDTH / 2.0 - middle_room / 2.0;
    let inner_right = WIDTH / 2.0 + middle_room / 2.0;
    let reach = inner_left - value_room - 6.0;
    let len = |v: f64| axis.at(v, 0.0, reach);
    let bottom = TOP + ROW * groups.len() as f64;
    let height = bottom + 22.0;

    let mut body = String::new();
    w!(
        body,
        r#"<g class="chart-legend" font-weight="600" fill="{INK}" text-anchor="middle"><text x="{}" y="16">{}</text><text x="{}" y="16">{}</text></g>"#,
        Px(inner_left - reach / 2.0),
        esc(labels.0),
        Px(inner_right + reach / 2.0),
        esc(labels.1)
    );
    w!(body, r#"<g class="chart-grid" aria-hidden="true"><path stroke="{GRID}" d=""#);
    for &t in axis.ticks.iter().filter(|t| t.abs() > 0.0) {
        for x in [inner_left - len(t), inner_right + len(t)] {
            w!(body, "M{} {}V{}", Px(x), Px(TOP), Px(bottom));
        }
    }
    w!(
        body,
        r#""/><path stroke="{BASELINE}" d="M{l} {t}V{b}M{r} {t}V{b}"/></g>"#,
        l = Px(inner_left),
        r = Px(inner_right),
        t = Px(TOP),
        b = Px(bottom)
    );
    w!(body, r#"<g class="chart-axis" aria-hidden="true" fill="{MUTED}" font-size="{SMALL}" text-anchor="middle">"#);
    for &t in &axis.ticks {
        let label = esc(&axis.label(t, locale));
        for x in [inner_left - len(t), inner_right + len(t)] {
            w!(body, r#"<text x="{}" y="{}">{label}</text>"#, Px(x), Px(bottom + 15.0));
        }
    }
    body.push_str("</g>");

    let mut highest: Option<(f64, &str, &str)> = None;
    // The oldest group at the top.
    for (row, (i, group)) in groups.iter().enumerate().rev().enumerate() {
        let y = TOP + ROW * row as f64;
        let baseline = y + ROW / 2.0 + FONT * 0.35;
        w!(
            body,
            r#"<text class="chart-label" x="{}" y="{}" text-anchor="middle" fill="{INK}">{}</text>"#,
            Px(WIDTH / 2.0),
            Px(baseline),
            esc(&fit(group, middle_room - 8.0, FONT))
        );
        for (s, (label, side, colour, class)) in sides.iter().enumerate() {
            let value = get(side, i);
            let name = format!("{label}, {group}");
            let end = svg::open(&mut body, class, &tooltip(&name, value, None, None, format, locale), None);
            let (hit_x, hit_w) = if s == 0 { (0.0, inner_left) } else { (inner_right, WIDTH - inner_right) };
            w!(
                body,
                r#"<rect class="chart-hit" x="{}" y="{}" width="{}" height="{ROW}" fill="transparent"/>"#,
                Px(hit_x),
                Px(y),
                Px(hit_w)
            );
            let toward = |from: f64, by: f64| if s == 0 { from - by } else { from + by };
            let (start, anchor) = if s == 0 { (inner_left, "end") } else { (inner_right, "start") };
            if let Some(v) = finite(value) {
                let l = len(v.max(0.0));
                w!(
                    body,
                    r#"<rect class="chart-bar" x="{}" y="{}" width="{}" height="{THICK}" fill="{colour}"/><text class="chart-value" x="{}" y="{}" text-anchor="{anchor}" fill="{INK}" font-size="{SMALL}">{}</text>"#,
                    Px(if s == 0 { start - l } else { start }),
                    Px(y + (ROW - THICK) / 2.0),
                    Px(l),
                    Px(toward(start, l + 4.0)),
                    Px(baseline - 0.5),
                    esc(&locale.format(v, format))
                );
                if highest.is_none_or(|(h, _, _)| v > h) {
                    highest = Some((v, label, group));
                }
            } else {
                w!(
                    body,
                    r#"<text class="chart-suppressed" x="{}" y="{}" text-anchor="{anchor}" fill="{MUTED}">—</text>"#,
                    Px(toward(start, 4.0)),
                    Px(baseline)
                );
            }
            svg::close(&mut body, end);
        }
    }
    let desc = match highest {
        Some((v, label, group)) => format!("{}: {label}, {group} ({}).", locale.text.highest, locale.format(v, format)),
        None => locale.text.suppressed.clone(),
    };
    Frame { kind: "pyramid", title, desc: &desc, width: WIDTH, height }.finish("", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::tests::{marks_have_titles, well_formed};

    fn groups() -> Vec<String> {
        ["0–4", "5–17", "18–59", "60+"].iter().map(|&g| g.to_owned()).collect()
    }

    #[test]
    fn both_sides_with_titles() {
        let f = [Some(0.08), Some(0.17), Some(0.22), None];
        let m = [Some(0.07), Some(0.15), Some(0.25), Some(0.03)];
        let svg =
            pyramid("Edad y sexo", &groups(), &f, &m, ("Mujeres", "Hombres"), Format::Percent, &Locale::for_lang("es"));
        well_formed(&svg);
        assert_eq!(marks_have_titles(&svg, &["chart-female", "chart-male"]), 8);
        assert_eq!(svg.matches("class=\"chart-bar\"").count(), 7);
        assert!(svg.contains("<title>Mujeres, 60+: dato suprimido: muy pocas respuestas para publicarlo</title>"));
        assert!(svg.contains("Valor más alto: Hombres, 18–59 (25,0\u{a0}%)."));
        // Oldest on top: "60+" is drawn before "0–4".
        assert!(svg.find(">60+</text>").unwrap() < svg.find(">0–4</text>").unwrap());
    }

    #[test]
    fn short_sides_empty_and_not_finite() {
        let en = Locale::for_lang("en");
        assert!(pyramid("x", &[], &[], &[], ("F", "M"), Format::Count, &en).contains("No data"));
        let svg = pyramid(
            "x",
            &groups(),
            &[Some(f64::NAN)],
            &[Some(-3.0), Some(f64::INFINITY)],
            ("<F>", "M"),
            Format::Count,
            &en,
        );
        well_formed(&svg);
        assert!(!svg.contains("NaN") && svg.contains("&lt;F&gt;"));
        assert_eq!(svg.matches("class=\"chart-bar\"").count(), 1);
    }
}
