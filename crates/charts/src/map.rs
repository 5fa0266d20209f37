//! Maps: areas shaded by value (choropleth), proportional circles at points, and flows between
//! places. Geometry comes already projected to pixels: this module only draws.

use crate::bars::tooltip;
use crate::locale::{Format, Locale};
use crate::svg::{self, Frame, INK, MUTED, Px, SMALL, WIDTH, esc, fit, text_width, w};

/// Fills of the five classes, light to dark: ColorBrewer's YlGnBu (the five darkest of its
/// six-class scheme, so the lightest class still stands out from the page and from "no
/// data"). Sequential and safe for colour-blind readers.
pub(crate) const CLASSES: [&str; 5] = ["#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"];
/// Fill of points without CSS.
pub(crate) const POINT: &str = "#e66101";
/// Stroke of flows and their arrowheads without CSS.
pub(crate) const FLOW: &str = "#5e3c99";

/// An administrative area, its outline already projected to the map's pixels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Area {
    /// A stable code (P-code); written as `data-code` for scripts and styles.
    pub code: String,
    pub name: String,
    /// SVG path data in the map's pixel space.
    pub d: String,
    /// `None` (or not finite) draws the area hatched as no data.
    pub value: Option<f64>,
    pub href: Option<String>,
}

/// A place drawn as a circle whose area is proportional to its value (a flow monitoring
/// point and its count).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Point {
    pub name: String,
    pub x: f64,
    pub y: f64,
    pub value: f64,
    pub href: Option<String>,
}

/// Movement from one place to another, drawn as a curved arrow as thick as its value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flow {
    pub from: (f64, f64),
    pub to: (f64, f64),
    pub value: f64,
    /// Names the flow in its tooltip: "Cúcuta → Lima".
    pub label: String,
}

/// What a map shows. Coordinates are pixels in a `width` × `height` box; the legend is drawn
/// below it.
#[derive(Clone, Copy, Debug, Default)]
pub struct MapLayers<'a> {
    pub width: f64,
    pub height: f64,
    pub areas: &'a [Area],
    pub points: &'a [Point],
    pub flows: &'a [Flow],
    /// Heads the legend of the area classes.
    pub legend_title: &'a str,
    /// Heads the legend of circle sizes; when empty, that legend is not drawn.
    pub points_title: &'a str,
}

/// Class breaks for a choropleth: the quintiles of the values, each rounded to two
/// significant figures (so the legend reads "1200–5000", not "1187–4968"), keeping only those
/// strictly between the smallest and largest value. Returns up to four thresholds: a value
/// belongs to class `k` when exactly `k` thresholds are at or below it. Fewer distinct values
/// give fewer classes.
pub(crate) fn breaks(values: &[f64], format: Format) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else { return Vec::new() };
    let mut out: Vec<f64> = Vec::new();
    for q in 1..5 {
        let raw = sorted[q * sorted.len() / 5];
        let mut t = round_significant(raw, 2);
        if matches!(format, Format::Count) {
            t = t.round();
        }
        if t > min && t <= max && out.last().is_none_or(|&last| t > last) {
            out.push(t);
        }
    }
    out
}

/// `v` rounded to `digits` significant figures.
fn round_significant(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    if !scale.is_finite() || scale == 0.0 {
        return v;
    }
    (v * scale).round() / scale
}

/// Which of `count` classes `v` falls in, given the thresholds from [`breaks`].
fn class_of(v: f64, thresholds: &[f64]) -> usize {
    thresholds.iter().filter(|&&t| t <= v).count()
}

/// The palette entry of class `k` when there are `count` classes, spread over the scheme.
fn class_colour(k: usize, count: usize) -> &'static str {
    let index = if count <= 1 { 2 } else { (k * 4 + (count - 1) / 2) / (count - 1) };
    CLASSES[index.min(4)]
}

/// A map: areas shaded in up to five classes (see [`breaks`]) with hatched "no data" areas,
/// circles sized by value, curved flow arrows as thick as their value, and a legend below.
/// Layers are drawn in that order, so circles stay on top and hoverable.
pub fn map(title: &str, layers: &MapLayers, format: Format, locale: &Locale) -> String {
    let (width, height) = (finite_or(layers.width, 0.0).max(0.0), finite_or(layers.height, 0.0).max(0.0));
    let points: Vec<&Point> =
        layers.points.iter().filter(|p| p.x.is_finite() && p.y.is_finite() && p.value.is_finite()).collect();
    let flows: Vec<&Flow> = layers
        .flows
        .iter()
        .filter(|f| [f.from.0, f.from.1, f.to.0, f.to.1, f.value].iter().all(|v| v.is_finite()))
        .collect();
    if width <= 0.0 || height <= 0.0 || (layers.areas.is_empty() && points.is_empty() && flows.is_empty()) {
        return svg::no_data(title, locale);
    }
    let area_value = |a: &Area| a.value.filter(|v| v.is_finite());
    let values: Vec<f64> = layers.areas.iter().filter_map(area_value).collect();
    let thresholds = breaks(&values, format);
    let classes = if values.is_empty() { 0 } else { thresholds.len() + 1 };
    let any_missing = layers.areas.iter().any(|a| area_value(a).is_none());

    let largest = points.iter().map(|p| p.value).fold(0.0, f64::max);
    let r_max = (width.min(height) / 16.0).clamp(8.0, 28.0);
    let radius = |v: f64| if largest > 0.0 { (r_max * (v.max(0.0) / largest).sqrt()).max(2.5) } else { 3.0 };
    // Text and strokes scale with the map, so that shown as wide as the other charts, its
    // legend reads at the same size as theirs.
    let scale = (width / WIDTH).clamp(0.5, 4.0);
    let font = SMALL * scale;
    let heaviest = flows.iter().map(|f| f.value).fold(0.0, f64::max);
    let thickness = |v: f64| scale * if heaviest > 0.0 { 1.2 + 4.8 * v.max(0.0) / heaviest } else { 1.2 };

    let mut body = String::new();
    let mut defs = String::new();
    if !layers.areas.is_empty() {
        w!(body, r##"<g class="map-areas" stroke="#fff" stroke-width="0.8" stroke-linejoin="round">"##);
        for a in layers.areas {
            let (class, fill) = match area_value(a) {
                Some(v) => {
                    let k = class_of(v, &thresholds);
                    (format!("map-area map-class-{k}"), class_colour(k, classes).to_owned())
                }
                None => ("map-area map-nodata".to_owned(), format!("url(#{}-nodata)", svg::ID)),
            };
            let tip = match area_value(a) {
                Some(v) => tooltip(&a.name, Some(v), None, None, format, locale),
                None => format!("{}: {}", a.name, locale.text.no_data),
            };
            let shape =
                format!(r#"<path class="{class}" data-code="{}" d="{}" fill="{fill}""#, esc(&a.code), esc(&a.d));
            svg::shape(&mut body, &shape, "path", &tip, a.href.as_deref());
        }
        body.push_str("</g>");
    }
    if !flows.is_empty() {
        w!(
            defs,
            r#"<marker id="{}-arrow" viewBox="0 0 10 10" refX="1.5" refY="5" markerWidth="3.5" markerHeight="3.5" orient="auto"><path d="M0 0L10 5L0 10z" fill="{FLOW}"/></marker>"#,
            svg::ID
        );
        w!(body, r#"<g class="map-flows" fill="none" stroke-linecap="round">"#);
        for f in &flows {
            let (x0, y0, x1, y1) = (f.from.0, f.from.1, f.to.0, f.to.1);
            let length = (x1 - x0).hypot(y1 - y0);
            if length < 1.0 {
                continue;
            }
            // Bend to the left of the direction of travel, so A→B and B→A do not overlap.
            let (cx, cy) = (x0.midpoint(x1) + (y1 - y0) * 0.2, y0.midpoint(y1) - (x1 - x0) * 0.2);
            // Start and end at the rim of a circle drawn at either end, and end the line where
            // the arrowhead starts, so the head's tip touches the target.
            let stroke = thickness(f.value);
            let rim = |x: f64, y: f64| {
                points
                    .iter()
                    .filter(|p| (p.x - x).hypot(p.y - y) < 1.0)
                    .map(|p| radius(p.value) + scale)
                    .fold(0.0, f64::max)
            };
            let back = (stroke * 3.0).min(length * 0.4);
            let (mut r0, mut r1) = (rim(x0, y0), rim(x1, y1));
            if r0 + r1 + back > length * 0.8 {
                (r0, r1) = (0.0, 0.0);
            }
            let unit = |dx: f64, dy: f64| {
                let norm = dx.hypot(dy).max(1e-9);
                (dx / norm, dy / norm)
            };
            let (ux, uy) = unit(cx - x0, cy - y0);
            let (x0, y0) = (x0 + ux * r0, y0 + uy * r0);
            let (tx, ty) = unit(x1 - cx, y1 - cy);
            let (ex, ey) = (x1 - tx * (r1 + back), y1 - ty * (r1 + back));
            let d = format!("M{} {}Q{} {} {} {}", Px(x0), Px(y0), Px(cx), Px(cy), Px(ex), Px(ey));
            let end =
                svg::open(&mut body, "map-flow", &tooltip(&f.label, Some(f.value), None, None, format, locale), None);
            // A white casing under the line keeps it legible over dark areas.
            w!(
                body,
                r##"<path class="map-flow-casing" d="{d}" stroke="#fff" stroke-opacity="0.7" stroke-width="{}"/><path class="map-flow-line" d="{d}" stroke="{FLOW}" stroke-width="{}" marker-end="url(#{}-arrow)"/>"##,
                Px(stroke + 2.0 * scale),
                Px(stroke),
                svg::ID
            );
            svg::close(&mut body, end);
        }
        body.push_str("</g>");
    }
    if !points.is_empty() {
        // Largest first, so small circles stay on top and can be pointed at.
        let mut order = points.clone();
        order.sort_by(|a, b| b.value.total_cmp(&a.value));
        w!(
            body,
            r##"<g class="map-points" fill="{POINT}" fill-opacity="0.75" stroke="#fff" stroke-width="{}">"##,
            Px(scale)
        );
        for p in order {
            let shape =
                format!(r#"<circle class="map-point" cx="{}" cy="{}" r="{}""#, Px(p.x), Px(p.y), Px(radius(p.value)));
            let tip = tooltip(&p.name, Some(p.value), None, None, format, locale);
            svg::shape(&mut body, &shape, "circle", &tip, p.href.as_deref());
        }
        body.push_str("</g>");
    }

    // The legend, below the map: classes, then "no data", then circle sizes.
    let mut legend = String::new();
    let top = height + 10.0 * scale;
    let mut x = 8.0 * scale;
    let mut legend_height: f64 = 0.0;
    let heading = |legend: &mut String, x: f64, y: f64, text: &str| {
        w!(
            legend,
            r#"<text x="{}" y="{}" font-weight="600" fill="{INK}">{}</text>"#,
            Px(x),
            Px(y + font),
            esc(&fit(text, width - x - 8.0 * scale, font))
        );
    };
    if classes > 0 || any_missing {
        heading(&mut legend, x, top, layers.legend_title);
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut edges = vec![min];
        edges.extend(&thresholds);
        edges.push(max);
        let mut items: Vec<(String, String)> = (0..classes)
            .map(|k| {
                let range = if classes == 1 || edges[k] >= edges[k + 1] {
                    locale.format(edges[k], format)
                } else {
                    format!("{}–{}", locale.format(edges[k], format), locale.format(edges[k + 1], format))
                };
                (class_colour(k, classes).to_owned(), range)
            })
            .collect();
        if any_missing {
            items.push((format!("url(#{}-nodata)", svg::ID), locale.text.no_data.clone()));
        }
        let swatch_top = top + font + 6.0 * scale;
        for (k, (fill, text)) in items.iter().enumerate() {
            let box_width = text_width(text, font).max(36.0 * scale) + 10.0 * scale;
            if any_missing && k == classes {
                x += 10.0 * scale;
            }
            w!(
                legend,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"/><text x="{}" y="{}" fill="{MUTED}">{}</text>"#,
                Px(x),
                Px(swatch_top),
                Px(box_width - 2.0 * scale),
                Px(10.0 * scale),
                Px(x),
                Px(swatch_top + 10.0 * scale + font + 2.0 * scale),
                esc(text)
            );
            x += box_width;
        }
        x += 22.0 * scale;
        legend_height = swatch_top + 10.0 * scale + font + 6.0 * scale - top;
    }
    if !points.is_empty() && !layers.points_title.is_empty() && largest > 0.0 {
        let sizes = [round_significant(largest, 1), round_significant(largest / 5.0, 1)];
        let texts = sizes.map(|v| locale.format(v, format));
        let item = |v: f64, text: &str| radius(v) * 2.0 + 6.0 * scale + text_width(text, font) + 14.0 * scale;
        let room = item(sizes[0], &texts[0]) + item(sizes[1], &texts[1]);
        let (mut px, mut py) = (x, top);
        if px + room.max(text_width(layers.points_title, font)) > width {
            (px, py) = (8.0 * scale, top + legend_height + 6.0 * scale);
        }
        heading(&mut legend, px, py, layers.points_title);
        let base = py + font + 6.0 * scale + 2.0 * radius(sizes[0]);
        for (&v, text) in sizes.iter().zip(&texts) {
            let r = radius(v);
            w!(
                legend,
                r##"<circle cx="{}" cy="{}" r="{}" fill="{POINT}" fill-opacity="0.75" stroke="#fff"/><text x="{}" y="{}" fill="{MUTED}">{}</text>"##,
                Px(px + r),
                Px(base - r),
                Px(r),
                Px(px + 2.0 * r + 6.0 * scale),
                Px(base - r + font * 0.35),
                esc(text)
            );
            px += item(v, text);
        }
        legend_height = legend_height.max(base - top + 4.0 * scale);
    }
    if !legend.is_empty() {
        w!(body, r#"<g class="chart-legend" aria-hidden="true" font-size="{}">{legend}</g>"#, Px(font));
    }
    if classes > 0 || any_missing {
        w!(
            defs,
            r##"<pattern id="{}-nodata" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f0f0f0"/><path d="M0 0V6" stroke="#c4c4c4" stroke-width="2"/></pattern>"##,
            svg::ID
        );
    }

    let mut desc = String::new();
    let top_area =
        layers.areas.iter().filter_map(|a| area_value(a).map(|v| (v, &a.name))).max_by(|a, b| a.0.total_cmp(&b.0));
    let top_point = points.iter().max_by(|a, b| a.value.total_cmp(&b.value)).map(|p| (p.value, &p.name));
    for (v, name) in top_area.into_iter().chain(top_point) {
        w!(desc, "{}: {name} ({}). ", locale.text.highest, locale.format(v, format));
    }
    if desc.is_empty() {
        desc.clone_from(&locale.text.no_data);
    }
    let frame =
        Frame { kind: "map", title, desc: desc.trim_end(), width, height: height + legend_height + 14.0 * scale };
    frame.finish(&defs, &body)
}

fn finite_or(v: f64, fallback: f64) -> f64 {
    if v.is_finite() { v } else { fallback }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::tests::{marks_have_titles, well_formed};

    fn square(x: f64, y: f64) -> String {
        format!("M{x} {y}h50v50h-50z")
    }

    #[test]
    fn quintile_breaks_rounded() {
        let values: Vec<f64> = (1..=100).map(|i| f64::from(i) * 37.0).collect();
        assert_eq!(breaks(&values, Format::Count), vec![780.0, 1500.0, 2300.0, 3000.0]);
        assert_eq!(breaks(&[5.0, 5.0, 5.0], Format::Count), Vec::<f64>::new());
        assert_eq!(breaks(&[1.0, 2.0], Format::Count), vec![2.0]);
        assert_eq!(breaks(&[], Format::Count), Vec::<f64>::new());
        assert_eq!(breaks(&[f64::NAN, 0.12, 0.34, 0.56, 0.78, 0.9], Format::Percent), vec![0.34, 0.56, 0.78, 0.9]);
        assert_eq!(class_of(0.0, &[1.0, 2.0]), 0);
        assert_eq!(class_of(1.0, &[1.0, 2.0]), 1);
        assert_eq!(class_of(9.0, &[1.0, 2.0]), 2);
        assert_eq!((0..5).map(|k| class_colour(k, 5)).collect::<Vec<_>>(), CLASSES);
        assert_eq!([class_colour(0, 2), class_colour(1, 2)], [CLASSES[0], CLASSES[4]]);
    }

    fn layers<'a>(areas: &'a [Area], points: &'a [Point], flows: &'a [Flow]) -> MapLayers<'a> {
        MapLayers {
            width: 400.0,
            height: 300.0,
            areas,
            points,
            flows,
            legend_title: "Personas",
            points_title: "Llegadas",
        }
    }

    #[test]
    fn all_layers() {
        let areas: Vec<Area> = (0..6)
            .map(|i| Area {
                code: format!("CO{i:02}"),
                name: format!("Área {i}"),
                d: square(f64::from(i) * 60.0, 10.0),
                value: if i == 5 { None } else { Some(f64::from(i) * 1000.0) },
                href: (i == 0).then(|| "?admin1=CO00".to_owned()),
            })
            .collect();
        let points = [
            Point { name: "Cúcuta".into(), x: 40.0, y: 40.0, value: 5000.0, href: None },
            Point { name: "Ipiales".into(), x: 100.0, y: 40.0, value: 200.0, href: Some("/p/2".into()) },
            Point { name: "bad".into(), x: f64::NAN, y: 1.0, value: 1.0, href: None },
        ];
        let flows = [
            Flow { from: (40.0, 40.0), to: (300.0, 200.0), value: 1200.0, label: "Cúcuta → Lima".into() },
            Flow { from: (1.0, 1.0), to: (1.0, 1.0), value: 1.0, label: "nowhere".into() },
            Flow { from: (f64::NAN, 1.0), to: (1.0, 1.0), value: 1.0, label: "bad".into() },
        ];
        let svg = map("Mapa", &layers(&areas, &points, &flows), Format::Count, &Locale::for_lang("es"));
        well_formed(&svg);
        assert_eq!(marks_have_titles(&svg, &["map-area", "map-point", "map-flow"]), 6 + 2 + 1 + 2);
        assert!(svg.contains("<title>Área 5: Sin datos</title>"));
        assert!(svg.contains("<title>Cúcuta → Lima: 1200</title>"));
        assert!(svg.contains(">Sin datos</text>"), "legend has no data");
        assert!(svg.contains("data-code=\"CO03\""));
        let id = svg.split("aria-labelledby=\"").nth(1).unwrap().split('-').next().unwrap();
        assert!(svg.contains(&format!("<marker id=\"{id}-arrow\"")));
        assert!(svg.contains(&format!("marker-end=\"url(#{id}-arrow)\"")));
        assert!(svg.contains(&format!("fill=\"url(#{id}-nodata)\"")));
        assert!(svg.contains("Valor más alto: Área 4 (4000). Valor más alto: Cúcuta (5000)."));
        // The small circle is drawn after (over) the large one.
        assert!(svg.find("Ipiales").unwrap() > svg.find("<title>Cúcuta: 5000").unwrap());
    }

    #[test]
    fn different_maps_have_different_ids() {
        let areas = [Area { name: "a".into(), d: square(0.0, 0.0), value: Some(1.0), ..Area::default() }];
        let a = map("Uno", &layers(&areas, &[], &[]), Format::Count, &Locale::for_lang("en"));
        let b = map("Dos", &layers(&areas, &[], &[]), Format::Count, &Locale::for_lang("en"));
        let id = |s: &str| s.split("<title id=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        assert_ne!(id(&a), id(&b));
        assert_eq!(a, map("Uno", &layers(&areas, &[], &[]), Format::Count, &Locale::for_lang("en")));
    }

    #[test]
    fn empty_hostile_and_not_finite() {
        let en = Locale::for_lang("en");
        assert!(map("x", &layers(&[], &[], &[]), Format::Count, &en).contains("No data"));
        let bad = MapLayers { width: f64::NAN, ..layers(&[], &[], &[]) };
        assert!(map("x", &bad, Format::Count, &en).contains("No data"));
        let areas = [Area {
            code: "\"><script>".into(),
            name: "<img src=x onerror=alert(1)>".into(),
            d: "M0 0\"/><script>alert(1)</script><path d=\"".into(),
            value: Some(f64::NAN),
            href: Some("javascript:alert(1)".into()),
        }];
        let svg = map("x", &layers(&areas, &[], &[]), Format::Count, &en);
        well_formed(&svg);
        assert!(!svg.contains("<script") && !svg.contains("<img") && !svg.contains("javascript"));
        assert!(svg.contains("map-nodata"));
    }
}
