//! Charts and maps drawn as accessible SVG on the server: horizontal bars, lines over time,
//! population pyramids and maps (choropleth areas, proportional circles, flow arrows).
//!
//! Every function is pure: data in, a `String` of SVG out, the same bytes for the same input.
//! The SVG goes inline in server-rendered HTML (and later in PDF reports), so it works
//! offline and without JavaScript.
//!
//! ```
//! use rumbo_charts::{Bar, Format, Locale, bars};
//!
//! let es = Locale::for_lang("es");
//! let nationality = [
//!     Bar { note: Some("n = 312".into()), href: Some("?nacionalidad=VEN".into()), ..Bar::new("Venezuela", Some(0.634)) },
//!     Bar::new("Haití", None), // suppressed: drawn as "—"
//! ];
//! let svg = bars("Nacionalidad", &nationality, Format::Percent, &es);
//! assert!(svg.contains("<title>Venezuela: 63,4\u{a0}%, n = 312</title>"));
//! ```
//!
//! # Why not a plotting crate
//!
//! Charts here must carry things general plotting libraries (plotters and the like) do not
//! give: a `<title>` tooltip on every mark ("Venezuela: 63,4 % (IC 95 %: 61,0 %–66,0 %), n =
//! 312"), ARIA names and summaries, links on bars and map areas (click to filter), numbers
//! written per language (12.345 in Spanish, 12,345 in English), suppressed small cells drawn
//! as such, and small output that styles itself from the page's CSS. Written by hand it is a
//! few hundred lines with no dependency.
//!
//! # Accessibility
//!
//! Each chart is `<svg role="img" aria-labelledby="{id}-t {id}-d">` with a `<title>` (the
//! caller's title) and a `<desc>` summarising it (the largest value; for lines, the last
//! value of each). A chart with links is `role="group"` instead, since an `img` hides its
//! children, links included, from assistive technology. Each mark has a `<title>` child
//! (shown as a tooltip); linked marks are `<a class="chart-link">` with the title inside the
//! link. Pages should still offer the numbers as a table for screen reader users.
//!
//! # Styling
//!
//! Fills and strokes are set as presentation attributes, so a chart looks right with no CSS,
//! and any CSS rule overrides them. The classes:
//!
//! - root: `chart` and `chart-bars`, `chart-lines`, `chart-pyramid`, `chart-map` or
//!   `chart-empty`; it has no width or height, only a `viewBox`, so it fills its container;
//!   text inherits the page's font;
//! - everywhere: `chart-grid` (gridlines), `chart-axis` (tick labels), `chart-legend`,
//!   `chart-label` (category names), `chart-value` (value labels), `chart-suppressed` ("—"),
//!   `chart-hit` (invisible band that catches the pointer: `.chart-row:hover .chart-hit
//!   {fill:#f2f5f9}`), `chart-link` (an `<a>`);
//! - bars: `chart-row` (one per bar), `chart-bar`, `chart-ci` (confidence whisker);
//! - lines: `chart-line`, `chart-dots`, `chart-dot`, `chart-column` (hover band per x label),
//!   with `chart-series-0`, `chart-series-1`… on each series' line, dots and legend key;
//! - pyramid: `chart-female`, `chart-male` (one per bar), `chart-bar` inside;
//! - map: `map-areas`, `map-area` with `map-class-0`…`map-class-4` or `map-nodata` and
//!   `data-code`; `map-points`/`map-point`; `map-flows`/`map-flow`.
//!
//! Ids inside a chart (`{id}-t`, `{id}-d`, the map's `{id}-arrow` marker and `{id}-nodata`
//! hatch) start with `c` and twelve hex digits of a hash of the whole chart, so several
//! charts on one page do not clash and output stays deterministic.
//!
//! # Safety of caller text
//!
//! Labels, names, notes, codes and path data come from users: all are escaped (`& < > " '`),
//! and characters XML forbids are dropped. Links are kept only when relative or http(s) or
//! mailto. Numbers that are not finite are skipped or shown as no data, never drawn.

mod bars;
mod lines;
mod locale;
mod map;
mod pyramid;
mod scale;
mod svg;

pub use bars::{Bar, bars};
pub use lines::{Series, lines};
pub use locale::{ChartText, Format, Locale};
pub use map::{Area, Flow, MapLayers, Point, map};
pub use pyramid::pyramid;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::tests::well_formed;

    fn every_kind(locale: &Locale) -> Vec<String> {
        let x: Vec<String> = ["enero", "febrero", "marzo"].iter().map(|&m| m.to_owned()).collect();
        let series = [Series { name: "Llegadas".into(), values: vec![Some(3.0), None, Some(f64::NAN)] }];
        let groups: Vec<String> = vec!["0–17".into(), "18+".into()];
        let areas = [Area { code: "A".into(), name: "A".into(), d: "M0 0h9v9z".into(), value: Some(1.0), href: None }];
        let points = [Point { name: "P".into(), x: 5.0, y: 5.0, value: 2.0, href: Some("?p=1".into()) }];
        let flows = [Flow { from: (0.0, 0.0), to: (50.0, 40.0), value: 3.0, label: "A → B".into() }];
        let layers = MapLayers {
            width: 100.0,
            height: 80.0,
            areas: &areas,
            points: &points,
            flows: &flows,
            legend_title: "Personas",
            points_title: "Llegadas",
        };
        vec![
            bars("Barras", &[Bar::new("a", Some(1.0)), Bar::new("b", None)], Format::Count, locale),
            lines("Líneas", &x, &series, Format::Count, locale),
            pyramid("Pirámide", &groups, &[Some(0.1), None], &[Some(0.2)], ("M", "H"), Format::Percent, locale),
            map("Mapa", &layers, Format::Count, locale),
            bars("Vacío", &[], Format::Count, locale),
        ]
    }

    #[test]
    fn every_chart_is_accessible_well_formed_and_deterministic() {
        for lang in ["es", "pt", "en"] {
            let locale = Locale::for_lang(lang);
            let charts = every_kind(&locale);
            assert_eq!(charts, every_kind(&locale), "same input, same bytes");
            let mut ids = Vec::new();
            for svg in &charts {
                well_formed(svg);
                let root = &svg[..svg.find('>').unwrap()];
                assert!(root.contains(" viewBox=\"0 0 ") && root.contains("font-family=\"inherit\""), "{root}");
                assert!(root.contains("role=\"img\"") || root.contains("role=\"group\""), "{root}");
                assert!(!root.contains(" width=") && !root.contains(" height="), "no fixed size: {root}");
                let id = root.split("aria-labelledby=\"").nth(1).unwrap().split('-').next().unwrap().to_owned();
                assert!(root.contains(&format!("aria-labelledby=\"{id}-t {id}-d\"")));
                assert!(
                    svg.contains(&format!("<title id=\"{id}-t\">")) && svg.contains(&format!("<desc id=\"{id}-d\">"))
                );
                assert!(!svg.contains("NaN") && !svg.contains("inf") && !svg.contains('\u{1}'));
                ids.push(id);
            }
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), charts.len(), "each chart has its own id");
        }
    }
}
