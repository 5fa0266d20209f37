//! Maps drawn as SVG on the server: admin areas as paths, sites as points.
//!
//! The projection is equirectangular, with longitudes scaled by the cosine of the map's
//! middle latitude so that shapes keep their proportions at these latitudes. Vertices that
//! fall within half a pixel of the previous one are dropped, which keeps the SVG small
//! without a separate simplification step.

use std::fmt::Write as _;

use geojson::Value;
use rumbo_store::model::{AreaShape, Site};

/// One area, ready to draw.
#[derive(Debug, Clone)]
pub struct MapArea {
    pub pcode: String,
    pub name: String,
    /// SVG path data (numbers and commands only).
    pub d: String,
}

/// One site, ready to draw.
#[derive(Debug, Clone)]
pub struct MapPoint {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub x: f64,
    pub y: f64,
}

/// A drawn map, in pixels.
#[derive(Debug, Clone)]
pub struct Map {
    pub width: f64,
    pub height: f64,
    pub areas: Vec<MapArea>,
    pub points: Vec<MapPoint>,
}

struct Projection {
    min_x: f64,
    max_y: f64,
    scale: f64,
    kx: f64,
    margin: f64,
}

impl Projection {
    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        (self.margin + (lon * self.kx - self.min_x) * self.scale, self.margin + (self.max_y - lat) * self.scale)
    }
}

/// Draws the areas (names in `lang`) and the sites that fall within the map, `width` pixels wide.
pub fn draw(shapes: &[AreaShape], sites: &[Site], lang: &str, width: f64) -> Map {
    let parsed: Vec<(&AreaShape, Vec<geojson::PolygonType>)> = shapes
        .iter()
        .filter_map(|s| {
            let g: geojson::Geometry = s.geometry.parse().ok()?;
            let polygons = match g.value {
                Value::Polygon(p) => vec![p],
                Value::MultiPolygon(mp) => mp,
                _ => return None,
            };
            Some((s, polygons))
        })
        .collect();
    let mut lons = Vec::new();
    let mut lats = Vec::new();
    for pos in parsed.iter().flat_map(|(_, p)| p.iter().flatten().flatten()) {
        lons.push(pos[0]);
        lats.push(pos[1]);
    }
    if lons.is_empty() {
        for s in sites {
            lons.push(s.longitude);
            lats.push(s.latitude);
        }
    }
    if lons.is_empty() {
        return Map { width, height: width / 2.0, areas: Vec::new(), points: Vec::new() };
    }
    let (min_lon, max_lon) = min_max(&lons);
    let (min_lat, max_lat) = min_max(&lats);
    let kx = f64::midpoint(min_lat, max_lat).to_radians().cos().max(0.2);
    let margin = 10.0;
    let span_x = ((max_lon - min_lon) * kx).max(1e-6);
    let span_y = (max_lat - min_lat).max(1e-6);
    let scale = (width - 2.0 * margin) / span_x;
    let height = (span_y * scale + 2.0 * margin).clamp(100.0, width * 2.0);
    let scale = scale.min((height - 2.0 * margin) / span_y);
    let proj = Projection { min_x: min_lon * kx, max_y: max_lat, scale, kx, margin };

    let areas = parsed
        .iter()
        .map(|(shape, polygons)| {
            let mut d = String::new();
            for ring in polygons.iter().flatten() {
                let mut last: Option<(f64, f64)> = None;
                let mut drawn = 0;
                for pos in ring {
                    let (x, y) = proj.xy(pos[0], pos[1]);
                    if last.is_some_and(|(lx, ly)| (lx - x).abs() < 0.5 && (ly - y).abs() < 0.5) {
                        continue;
                    }
                    let _ = write!(d, "{}{:.1} {:.1}", if drawn == 0 { "M" } else { "L" }, x, y);
                    last = Some((x, y));
                    drawn += 1;
                }
                if drawn > 0 {
                    d.push('Z');
                }
            }
            let name = match lang {
                "es" => &shape.name_es,
                "pt" => &shape.name_pt,
                _ => &shape.name_en,
            };
            MapArea { pcode: shape.pcode.clone(), name: name.clone(), d }
        })
        .collect();
    let points = sites
        .iter()
        .map(|s| {
            let (x, y) = proj.xy(s.longitude, s.latitude);
            MapPoint {
                code: s.code.clone(),
                name: s.name.clone(),
                kind: s.kind.as_str().to_string(),
                x: round1(x),
                y: round1(y),
            }
        })
        .filter(|p| p.x >= 0.0 && p.x <= width && p.y >= 0.0 && p.y <= height)
        .collect();
    Map { width, height: round1(height), areas, points }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumbo_store::model::SiteKind;

    #[test]
    fn draws_one_path_per_area_and_places_sites_inside() {
        let square = |code: &str, x0: f64| AreaShape {
            id: 0,
            pcode: code.into(),
            name_en: format!("{code} en"),
            name_es: format!("{code} es"),
            name_pt: format!("{code} pt"),
            geometry: format!(
                r#"{{"type":"Polygon","coordinates":[[[{x0},0],[{},0],[{},1],[{x0},1],[{x0},0]]]}}"#,
                x0 + 1.0,
                x0 + 1.0
            ),
        };
        let site = Site {
            id: 1,
            country_code: "COL".into(),
            code: "S1".into(),
            name: "Bridge".into(),
            kind: SiteKind::BorderCrossing,
            latitude: 0.5,
            longitude: 0.5,
            admin_area_id: None,
            admin_area_pcode: None,
            admin_area_name: None,
            active: true,
        };
        let map = draw(&[square("A", 0.0), square("B", 1.0)], &[site], "es", 400.0);
        assert_eq!(map.areas.len(), 2);
        assert_eq!(map.areas[0].name, "A es");
        assert!(map.areas[0].d.starts_with('M') && map.areas[0].d.ends_with('Z'));
        assert_eq!(map.points.len(), 1);
        let p = &map.points[0];
        assert!(p.x > 10.0 && p.x < 200.0, "{p:?}");
    }
}
