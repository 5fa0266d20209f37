//! Admin boundaries: reading admin areas from GeoJSON, and finding the area under a point.
//!
//! A boundary file is a GeoJSON `FeatureCollection` with one (Multi)Polygon feature per
//! area. The p-code, names, country and parent are read from properties; the names of the
//! common sources are known (OCHA COD `ADM1_PCODE`/`ADM1_ES`, Natural Earth
//! `iso3166_2_isocodes`/`name`/`adm0_a3`, geoBoundaries `shapeISO`/`shapeName`), and any
//! other can be named explicitly.

use std::collections::HashMap;

use geo::{Contains, Distance, Euclidean, Geometry, MultiPolygon, Point};
use geojson::{GeoJson, Value};
use rumbo_store::FieldError;
use rumbo_store::model::{AdminAreaInput, AreaShape};

/// How to read a boundary file.
#[derive(Debug, Clone, Default)]
pub struct BoundaryOptions {
    /// Admin level of every feature (default 1).
    pub level: Option<i32>,
    /// Country of every feature; when missing, read from the `adm0_a3`/`country_code` property.
    pub country: Option<String>,
    /// Property holding the p-code (default: the first known one present).
    pub code_property: Option<String>,
    /// Property holding the name (default: the first known one present).
    pub name_property: Option<String>,
    /// Property holding the parent's p-code, for levels below 1.
    pub parent_property: Option<String>,
    /// Merge features that share a p-code into one multi-part area instead of refusing them.
    pub dissolve: bool,
}

const CODE_PROPERTIES: &[&str] =
    &["pcode", "iso3166_2_isocodes", "ADM1_PCODE", "ADM2_PCODE", "adm1_pcode", "adm2_pcode", "shapeISO"];
const NAME_PROPERTIES: &[&str] = &[
    "name_en",
    "ADM1_EN",
    "ADM2_EN",
    "name",
    "iso3166_2_name_isocodes",
    "gn_name",
    "shapeName",
    "NAME",
    "ADM1_ES",
    "ADM2_ES",
];
const NAME_ES_PROPERTIES: &[&str] = &["name_es", "ADM1_ES", "ADM2_ES"];
const NAME_PT_PROPERTIES: &[&str] = &["name_pt", "ADM1_PT", "ADM2_PT"];
const COUNTRY_PROPERTIES: &[&str] = &["country_code", "adm0_a3", "ADM0_A3", "ISO_A3", "shapeGroup"];
const PARENT_PROPERTIES: &[&str] = &["parent_pcode", "ADM1_PCODE", "adm1_pcode"];

/// Reads admin areas from GeoJSON text. Every problem is reported, each naming its feature.
pub fn read_boundaries(text: &str, options: &BoundaryOptions) -> Result<Vec<AdminAreaInput>, Vec<FieldError>> {
    let geojson: GeoJson =
        text.parse().map_err(|e| vec![FieldError::new("file", format!("is not valid GeoJSON: {e}"))])?;
    let GeoJson::FeatureCollection(collection) = geojson else {
        return Err(vec![FieldError::new("file", "must be a GeoJSON FeatureCollection")]);
    };
    if collection.features.is_empty() {
        return Err(vec![FieldError::new("features", "the collection has no features")]);
    }
    let level = options.level.unwrap_or(1);
    let mut errors = Vec::new();
    let mut areas: Vec<(AdminAreaInput, usize, Vec<geojson::PolygonType>)> = Vec::new();
    let mut by_code: HashMap<String, usize> = HashMap::new();

    for (i, feature) in collection.features.iter().enumerate() {
        let at = |what: &str| format!("features[{i}].{what}");
        let prop = |names: &[&str], explicit: &Option<String>| -> Option<String> {
            let props = feature.properties.as_ref()?;
            let pick = |name: &str| {
                props.get(name).and_then(|v| match v {
                    serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            };
            match explicit {
                Some(name) => pick(name),
                None => names.iter().find_map(|n| pick(n)),
            }
        };
        let Some(code) = prop(CODE_PROPERTIES, &options.code_property) else {
            let named = options.code_property.clone().unwrap_or_else(|| CODE_PROPERTIES.join(" or "));
            errors.push(FieldError::new(at("properties"), format!("has no p-code (looked for {named})")));
            continue;
        };
        let Some(name) = prop(NAME_PROPERTIES, &options.name_property) else {
            errors.push(FieldError::new(at("properties"), format!("area {code} has no name")));
            continue;
        };
        let country = options.country.clone().or_else(|| prop(COUNTRY_PROPERTIES, &None)).map(|c| c.to_uppercase());
        let Some(country) = country else {
            errors.push(FieldError::new(
                at("properties"),
                format!("area {code} has no country (give the country, or an adm0_a3 property)"),
            ));
            continue;
        };
        let parent = if level > 1 { prop(PARENT_PROPERTIES, &options.parent_property) } else { None };
        let polygons = match feature.geometry.as_ref().map(|g| &g.value) {
            Some(Value::Polygon(p)) => vec![p.clone()],
            Some(Value::MultiPolygon(mp)) => mp.clone(),
            Some(_) => {
                errors.push(FieldError::new(at("geometry"), format!("area {code}: must be a Polygon or MultiPolygon")));
                continue;
            }
            None => Vec::new(),
        };
        if let Some(problem) = check_polygons(&polygons) {
            errors.push(FieldError::new(at("geometry"), format!("area {code}: {problem}")));
            continue;
        }
        let mut input = AdminAreaInput {
            country_code: country,
            pcode: code.clone(),
            level,
            parent_pcode: parent,
            name_en: name,
            name_es: prop(NAME_ES_PROPERTIES, &None).unwrap_or_default(),
            name_pt: prop(NAME_PT_PROPERTIES, &None).unwrap_or_default(),
            geometry: None,
        };
        input.normalise();
        let vertices = polygons.iter().flatten().map(Vec::len).sum();
        match by_code.get(&code) {
            Some(&first) if options.dissolve => {
                let (kept, kept_vertices, kept_polygons) = &mut areas[first];
                if kept.country_code != input.country_code {
                    errors.push(FieldError::new(at("properties"), format!("p-code {code} is used in two countries")));
                    continue;
                }
                // The largest part names the merged area.
                if vertices > *kept_vertices {
                    kept.name_en = input.name_en;
                    kept.name_es = input.name_es;
                    kept.name_pt = input.name_pt;
                    *kept_vertices = vertices;
                }
                kept_polygons.extend(polygons);
            }
            Some(&first) => errors.push(FieldError::new(
                at("properties"),
                format!("p-code {code} is used again (first by feature {}); p-codes must be unique, or import with dissolve to merge the parts", areas[first].1),
            )),
            None => {
                by_code.insert(code, areas.len());
                areas.push((input, i, polygons));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(areas
        .into_iter()
        .map(|(mut input, _, polygons)| {
            if !polygons.is_empty() {
                let value = if polygons.len() == 1 {
                    Value::Polygon(polygons.into_iter().next().unwrap_or_default())
                } else {
                    Value::MultiPolygon(polygons)
                };
                input.geometry = Some(geojson::Geometry::new(value).to_string());
            }
            input
        })
        .collect())
}

/// What is wrong with these polygons, if anything: every polygon needs an outer ring, every
/// ring at least four positions (a closed triangle), every position a longitude and latitude.
fn check_polygons(polygons: &[geojson::PolygonType]) -> Option<String> {
    if polygons.iter().any(Vec::is_empty) {
        return Some("a polygon has no rings".into());
    }
    if let Some(ring) = polygons.iter().flatten().find(|ring| ring.len() < 4) {
        return Some(format!("a ring has {} positions; a closed ring needs at least 4", ring.len()));
    }
    polygons.iter().flatten().flatten().find_map(|pos| check_position(pos))
}

fn check_position(pos: &[f64]) -> Option<String> {
    match pos {
        [lon, lat, ..] if (-180.0..=180.0).contains(lon) && (-90.0..=90.0).contains(lat) => None,
        [lon, lat, ..] => Some(format!("coordinate [{lon}, {lat}] is not a longitude/latitude pair")),
        _ => Some("a position needs a longitude and a latitude".into()),
    }
}

/// Checks a geometry given as GeoJSON text: it must be a Polygon or MultiPolygon.
pub fn check_geometry(text: &str) -> Result<(), String> {
    let geometry: geojson::Geometry = text.parse().map_err(|e| format!("is not a GeoJSON geometry: {e}"))?;
    let polygons = match &geometry.value {
        Value::Polygon(p) => vec![p.clone()],
        Value::MultiPolygon(mp) => mp.clone(),
        _ => return Err("must be a Polygon or MultiPolygon".into()),
    };
    match check_polygons(&polygons) {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// How far (in degrees, about 20 km) a point may lie outside every boundary and still be
/// placed in the nearest area: coarse boundaries cut corners at rivers and coasts, where
/// border crossings and ports stand.
pub const NEAREST_AREA_TOLERANCE: f64 = 0.2;

/// The areas of one level, ready to answer "which area is this point in?".
pub struct AreaIndex {
    areas: Vec<(String, MultiPolygon<f64>)>,
}

impl AreaIndex {
    pub fn new(shapes: &[AreaShape]) -> Self {
        let areas = shapes
            .iter()
            .filter_map(|s| {
                let g: geojson::Geometry = s.geometry.parse().ok()?;
                let g: Geometry<f64> = g.try_into().ok()?;
                let g = match g {
                    Geometry::Polygon(p) => MultiPolygon(vec![p]),
                    Geometry::MultiPolygon(mp) => mp,
                    _ => return None,
                };
                Some((s.pcode.clone(), g))
            })
            .collect();
        Self { areas }
    }

    /// The p-code of the area containing the point (longitude, latitude), or else of the
    /// nearest area within [`NEAREST_AREA_TOLERANCE`].
    pub fn locate(&self, longitude: f64, latitude: f64) -> Option<&str> {
        let point = Point::new(longitude, latitude);
        if let Some((code, _)) = self.areas.iter().find(|(_, g)| g.contains(&point)) {
            return Some(code);
        }
        self.areas
            .iter()
            .map(|(code, g)| (code, Euclidean.distance(&point, g)))
            .filter(|(_, d)| *d <= NEAREST_AREA_TOLERANCE)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(code, _)| code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"pcode":"XX-A","name":"Alpha","adm0_a3":"COL"},
       "geometry":{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,2],[0,0]]]}},
      {"type":"Feature","properties":{"pcode":"XX-B","name":"Beta","adm0_a3":"COL"},
       "geometry":{"type":"Polygon","coordinates":[[[2,0],[4,0],[4,2],[2,2],[2,0]]]}}]}"#;

    #[test]
    fn reads_codes_names_and_geometry() {
        let areas = read_boundaries(TWO, &BoundaryOptions::default()).expect("valid");
        assert_eq!(areas.len(), 2);
        assert_eq!(areas[0].pcode, "XX-A");
        assert_eq!(areas[0].name_es, "Alpha");
        assert_eq!(areas[0].country_code, "COL");
        assert!(areas[0].geometry.as_deref().unwrap().contains("Polygon"));
    }

    #[test]
    fn duplicate_codes_are_refused_unless_dissolved() {
        let dup = TWO.replace("XX-B", "XX-A");
        let errors = read_boundaries(&dup, &BoundaryOptions::default()).unwrap_err();
        assert!(errors[0].message.contains("XX-A is used again"), "{errors:?}");
        assert_eq!(errors[0].field, "features[1].properties");
        let merged =
            read_boundaries(&dup, &BoundaryOptions { dissolve: true, ..Default::default() }).expect("dissolved");
        assert_eq!(merged.len(), 1);
        assert!(merged[0].geometry.as_deref().unwrap().contains("MultiPolygon"));
    }

    #[test]
    fn malformed_files_get_clear_errors() {
        assert!(
            read_boundaries("{not json", &BoundaryOptions::default()).unwrap_err()[0]
                .message
                .contains("not valid GeoJSON")
        );
        let point = r#"{"type":"Point","coordinates":[1,2]}"#;
        assert!(
            read_boundaries(point, &BoundaryOptions::default()).unwrap_err()[0].message.contains("FeatureCollection")
        );
        let no_code = TWO.replace("\"pcode\":\"XX-A\",", "");
        assert!(read_boundaries(&no_code, &BoundaryOptions::default()).unwrap_err()[0].message.contains("no p-code"));
        let empty = TWO.replace("[[[0,0],[2,0],[2,2],[0,2],[0,0]]]", "[]");
        assert!(read_boundaries(&empty, &BoundaryOptions::default()).unwrap_err()[0].message.contains("no rings"));
        assert!(
            check_geometry(r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}"#)
                .unwrap_err()
                .contains("at least 4")
        );
        let bad_coord = TWO.replace("[[[0,0],", "[[[0,500],");
        assert!(
            read_boundaries(&bad_coord, &BoundaryOptions::default()).unwrap_err()[0]
                .message
                .contains("not a longitude/latitude")
        );
    }

    #[test]
    fn locates_points_in_areas() {
        let areas = read_boundaries(TWO, &BoundaryOptions::default()).unwrap();
        let shapes: Vec<AreaShape> = areas
            .iter()
            .enumerate()
            .map(|(i, a)| AreaShape {
                id: i as i64,
                pcode: a.pcode.clone(),
                name_en: a.name_en.clone(),
                name_es: a.name_es.clone(),
                name_pt: a.name_pt.clone(),
                geometry: a.geometry.clone().unwrap(),
            })
            .collect();
        let index = AreaIndex::new(&shapes);
        assert_eq!(index.locate(1.0, 1.0), Some("XX-A"));
        assert_eq!(index.locate(3.0, 1.0), Some("XX-B"));
        assert_eq!(index.locate(9.0, 9.0), None);
        // Just outside the coarse boundary: the nearest area.
        assert_eq!(index.locate(4.1, 1.0), Some("XX-B"));
    }
}
