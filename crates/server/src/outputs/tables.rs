//! Published tables in the formats other tools read: XLSX (a sheet per table, the HXL row
//! under the headers, numbers as numbers) and GeoJSON (a feature per row, placed on its
//! admin-1 area or country, with the HXL tags of its properties beside them).
//!
//! CSV is [`rumbo_analytics::hxl::write_csv`]; all three carry the same headers and tags.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::header;
use axum::response::{IntoResponse, Response};
use geo::Simplify as _;
use rumbo_analytics::hxl::{Table, Value};
use rust_xlsxwriter::{Color, Format, Workbook, XlsxError};
use serde_json::{Map, Value as Json, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// The most rows a sheet holds (Excel's limit, less the header and HXL rows).
pub const MAX_SHEET_ROWS: usize = 1_048_576 - 2;

/// How much boundaries are simplified, in degrees (about 1 km): enough for a map of areas,
/// and it keeps a file of a country's admin-1 areas small.
const SIMPLIFY: f64 = 0.01;

/// A workbook with one sheet per table: the headers (bold), the HXL row, then the rows;
/// the top two rows frozen and the columns as wide as their contents.
pub fn xlsx(sheets: &[(String, &Table)]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let tag = Format::new().set_italic().set_font_color(Color::RGB(0x0055_5555));
    let mut names: BTreeSet<String> = BTreeSet::new();
    for (name, table) in sheets {
        if table.rows.len() > MAX_SHEET_ROWS {
            return Err(XlsxError::RowColumnLimitError);
        }
        let sheet = workbook.add_worksheet();
        sheet.set_name(sheet_name(name, &mut names))?;
        let mut widths: Vec<usize> = Vec::with_capacity(table.headers.len());
        for (col, (header, hashtag)) in table.headers.iter().zip(&table.tags).enumerate() {
            let col = column(col)?;
            sheet.write_string_with_format(0, col, header, &bold)?;
            sheet.write_string_with_format(1, col, hashtag, &tag)?;
            widths.push(header.chars().count().max(hashtag.chars().count()));
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = (r + 2) as u32;
            for (col, value) in row.iter().enumerate() {
                let width = match value {
                    // A string cell is never run as a formula: no `'` is needed here.
                    Value::Text(text) => {
                        sheet.write_string(r, column(col)?, text)?;
                        text.chars().count()
                    }
                    Value::Number(n) if n.is_finite() => {
                        sheet.write_number(r, column(col)?, *n)?;
                        Value::Number(*n).to_csv().len()
                    }
                    Value::Number(_) | Value::Empty => 0,
                };
                if let Some(w) = widths.get_mut(col) {
                    *w = (*w).max(width);
                }
            }
        }
        for (col, width) in widths.into_iter().enumerate() {
            sheet.set_column_width(column(col)?, (width.clamp(6, 60) + 2) as f64)?;
        }
        sheet.set_freeze_panes(2, 0)?;
    }
    if sheets.is_empty() {
        workbook.add_worksheet();
    }
    workbook.save_to_buffer()
}

fn column(index: usize) -> Result<u16, XlsxError> {
    u16::try_from(index).ok().filter(|c| *c < 16_384).ok_or(XlsxError::RowColumnLimitError)
}

/// A sheet name Excel accepts (at most 31 characters, none of `[]:*?/\`, not blank), and
/// unique in the workbook.
fn sheet_name(name: &str, taken: &mut BTreeSet<String>) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect::<String>()
        .trim_matches(|c: char| c == '\'' || c.is_whitespace())
        .to_string();
    let base: String = if clean.is_empty() || clean.eq_ignore_ascii_case("history") { "Table".into() } else { clean };
    let mut candidate: String = base.chars().take(31).collect();
    let mut n = 2;
    while taken.contains(&candidate.to_lowercase()) {
        let suffix = format!(" ({n})");
        candidate = base.chars().take(31 - suffix.len()).collect::<String>() + &suffix;
        n += 1;
    }
    taken.insert(candidate.to_lowercase());
    candidate
}

/// A FeatureCollection with one feature per row: the row's cells as properties (keyed by
/// header; numbers as numbers, empty cells as `null`), and the geometry of its admin-1 area
/// (the `#adm1+code` column) or else its country (`#country+code`) from `geometries`, by
/// code; `null` for a row with neither. The foreign member `hxl` maps each property to its
/// hashtag.
pub fn geojson(table: &Table, geometries: &BTreeMap<String, Json>) -> Json {
    let keys = property_names(&table.headers);
    let place = table.column("#adm1+code").or_else(|| table.column("#country+code"));
    let features: Vec<Json> = table
        .rows
        .iter()
        .map(|row| {
            let mut properties = Map::new();
            for (key, value) in keys.iter().zip(row) {
                let v = match value {
                    Value::Text(t) => Json::String(t.clone()),
                    Value::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
                    Value::Empty => Json::Null,
                };
                properties.insert(key.clone(), v);
            }
            let geometry = place
                .and_then(|i| row.get(i))
                .and_then(|v| if let Value::Text(code) = v { geometries.get(code) } else { None })
                .cloned()
                .unwrap_or(Json::Null);
            json!({ "type": "Feature", "geometry": geometry, "properties": properties })
        })
        .collect();
    let hxl: Map<String, Json> =
        keys.iter().zip(&table.tags).map(|(k, t)| (k.clone(), Json::String(t.clone()))).collect();
    json!({ "type": "FeatureCollection", "hxl": hxl, "features": features })
}

/// Headers as property names: a header seen before gets ` (2)`, ` (3)`…
fn property_names(headers: &[String]) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    headers
        .iter()
        .map(|h| {
            let n = seen.entry(h.as_str()).or_insert(0);
            *n += 1;
            if *n == 1 { h.clone() } else { format!("{h} ({n})") }
        })
        .collect()
}

/// The boundaries a table's rows need, simplified: its admin-1 areas by p-code (when it has
/// an `#adm1+code` column) or else its countries by code, each country as the union of its
/// admin-1 areas. `country_of` says which country a p-code is in.
pub async fn boundaries(
    state: &AppState,
    table: &Table,
    country_of: impl Fn(&str) -> Option<String>,
) -> ApiResult<BTreeMap<String, Json>> {
    let codes = |i: usize| -> BTreeSet<String> {
        table
            .rows
            .iter()
            .filter_map(|r| if let Some(Value::Text(c)) = r.get(i) { Some(c.clone()) } else { None })
            .collect()
    };
    let mut out = BTreeMap::new();
    if let Some(i) = table.column("#adm1+code") {
        let wanted = codes(i);
        let countries: BTreeSet<String> = wanted.iter().filter_map(|p| country_of(p)).collect();
        for country in countries {
            for shape in state.store.area_shapes(&country, 1).await? {
                if wanted.contains(&shape.pcode)
                    && let Some(g) = simplified(&shape.geometry)
                {
                    out.insert(shape.pcode, g);
                }
            }
        }
    } else if let Some(i) = table.column("#country+code") {
        for country in codes(i) {
            let mut polygons: Vec<geo::Polygon<f64>> = Vec::new();
            for shape in state.store.area_shapes(&country, 1).await? {
                if let Some(mp) = multi_polygon(&shape.geometry) {
                    polygons.extend(mp.0);
                }
            }
            if !polygons.is_empty()
                && let Some(g) = to_json(&geo::MultiPolygon(polygons))
            {
                out.insert(country, g);
            }
        }
    }
    Ok(out)
}

fn multi_polygon(text: &str) -> Option<geo::MultiPolygon<f64>> {
    let g: geojson::Geometry = text.parse().ok()?;
    let g: geo::Geometry<f64> = g.try_into().ok()?;
    let mp = match g {
        geo::Geometry::Polygon(p) => geo::MultiPolygon(vec![p]),
        geo::Geometry::MultiPolygon(mp) => mp,
        _ => return None,
    };
    let simple: Vec<geo::Polygon<f64>> =
        mp.simplify(&SIMPLIFY).0.into_iter().filter(|p| p.exterior().0.len() >= 4).collect();
    // A small island may vanish when simplified: keep the original then.
    Some(if simple.is_empty() { mp } else { geo::MultiPolygon(simple) })
}

fn simplified(text: &str) -> Option<Json> {
    to_json(&multi_polygon(text)?)
}

/// A geometry as GeoJSON, coordinates rounded to 5 decimals (about a metre).
fn to_json(mp: &geo::MultiPolygon<f64>) -> Option<Json> {
    let round = |v: f64| (v * 1e5).round() / 1e5;
    let polygons: Vec<Json> =
        mp.0.iter()
            .map(|p| {
                let rings: Vec<Json> = std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|ring| Json::Array(ring.0.iter().map(|c| json!([round(c.x), round(c.y)])).collect()))
                    .collect();
                Json::Array(rings)
            })
            .collect();
    match polygons.len() {
        0 => None,
        1 => Some(json!({ "type": "Polygon", "coordinates": polygons[0] })),
        _ => Some(json!({ "type": "MultiPolygon", "coordinates": polygons })),
    }
}

/// The formats a published table downloads in.
pub const FORMATS: [&str; 3] = ["csv", "xlsx", "geojson"];

/// A published table as a download: `csv`, `xlsx` or `geojson` (placed on the boundaries
/// of its admin-1 areas or countries). `name` names the file and the sheet.
pub async fn download(state: &AppState, name: &str, table: &Table, format: &str) -> ApiResult<Response> {
    let file: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_".contains(c) { c } else { '_' }).collect();
    let (content_type, extension, bytes) = match format.trim() {
        "csv" => return crate::analytics::api::csv_response(&file, table),
        "xlsx" => {
            let sheets = [(name.to_string(), table)];
            let bytes = xlsx(&sheets).map_err(|e| xlsx_error(&e))?;
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", bytes)
        }
        "geojson" => {
            let labels = state.analytics.labels(state).await?;
            let geometries = boundaries(state, table, |pcode| labels.area_country(pcode).map(str::to_owned)).await?;
            ("application/geo+json", "geojson", geojson(table, &geometries).to_string().into_bytes())
        }
        other => {
            return Err(ApiError::invalid("format", format!("`{other}` is not a format: use {}", FORMATS.join(", "))));
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}.{extension}\"")),
        ],
        bytes,
    )
        .into_response())
}

/// An error writing a workbook, for the API.
pub fn xlsx_error(e: &XlsxError) -> ApiError {
    match e {
        XlsxError::RowColumnLimitError => {
            ApiError::TooLarge("the table is larger than a spreadsheet holds: download it as CSV".into())
        }
        other => ApiError::Internal(format!("cannot write the workbook: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader as _};
    use rumbo_analytics::hxl::valid;

    use super::*;

    fn table() -> Table {
        Table {
            headers: vec![
                "Admin 1 (code)".into(),
                "Admin 1".into(),
                "People (Women)".into(),
                "People (Women): n".into(),
            ],
            tags: vec!["#adm1+code".into(), "#adm1+name".into(), "#affected+f".into(), "#meta+n+f".into()],
            rows: vec![
                vec![
                    Value::Text("CO-NSA".into()),
                    Value::Text("Norte de Santander".into()),
                    Value::Number(12.0),
                    Value::Number(3.0),
                ],
                vec![Value::Text("PE-LIM".into()), Value::Text("=Lima".into()), Value::Empty, Value::Number(2.0)],
            ],
        }
    }

    #[test]
    fn a_workbook_keeps_headers_tags_and_numbers() {
        let t = table();
        let bytes = xlsx(&[("People by admin 1: a long name that Excel cuts".into(), &t), ("x".into(), &t)]).unwrap();
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let names = book.sheet_names();
        assert_eq!(names.len(), 2);
        assert!(names[0].chars().count() <= 31);
        let range = book.worksheet_range(&names[0]).unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows[0][0], Data::String("Admin 1 (code)".into()));
        let tags: Vec<String> = rows[1].iter().map(ToString::to_string).collect();
        assert_eq!(tags, t.tags);
        assert!(tags.iter().all(|tag| valid(tag)));
        assert_eq!(rows[2][2], Data::Float(12.0));
        // A text stays text: no formula, no added quote.
        assert_eq!(rows[3][1], Data::String("=Lima".into()));
        assert_eq!(rows[3][2], Data::Empty);
    }

    #[test]
    fn sheet_names_are_cleaned_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(sheet_name("a/b: c?", &mut taken), "a_b_ c_");
        assert_eq!(sheet_name("A/B: C?", &mut taken), "A_B_ C_ (2)");
        assert_eq!(sheet_name("", &mut taken), "Table");
        assert_eq!(sheet_name(&"x".repeat(40), &mut taken).chars().count(), 31);
    }

    #[test]
    fn features_carry_the_row_the_tags_and_the_area() {
        let square =
            json!({ "type": "Polygon", "coordinates": [[[-73.0, 7.0], [-72.0, 7.0], [-72.0, 8.5], [-73.0, 7.0]]] });
        let geometries = BTreeMap::from([("CO-NSA".to_string(), square.clone())]);
        let fc = geojson(&table(), &geometries);
        assert_eq!(fc["type"], "FeatureCollection");
        let hxl = fc["hxl"].as_object().unwrap();
        assert_eq!(hxl.len(), 4);
        assert_eq!(hxl["Admin 1 (code)"], "#adm1+code");
        let features = fc["features"].as_array().unwrap();
        assert_eq!(features[0]["geometry"], square);
        assert_eq!(features[0]["properties"]["People (Women)"], 12.0);
        assert!(features[1]["geometry"].is_null());
        assert!(features[1]["properties"]["People (Women)"].is_null());
        // It reads as GeoJSON.
        let parsed: geojson::GeoJson = fc.to_string().parse().unwrap();
        assert!(matches!(parsed, geojson::GeoJson::FeatureCollection(_)));
    }

    #[test]
    fn boundaries_are_simplified_and_rounded() {
        let ring: Vec<Json> = (0..=100)
            .map(|i| {
                let a = f64::from(i) / 100.0 * std::f64::consts::TAU;
                json!([-72.5 + 0.5 * a.cos() + 1e-9, 7.5 + 0.5 * a.sin()])
            })
            .collect();
        let text = json!({ "type": "Polygon", "coordinates": [ring] }).to_string();
        let g = simplified(&text).unwrap();
        let points = g["coordinates"][0].as_array().unwrap();
        assert!(points.len() < 100 && points.len() >= 4, "{}", points.len());
        assert!(g.to_string().len() < text.len());
    }
}
