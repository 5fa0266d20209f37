//! The regional response plan as a workbook: the template Rumbo hands out (sheets
//! `sectors`, `indicators`, `targets`, and `rumbo` with the plan's own fields), and reading
//! a filled one back, every row checked and every problem named by sheet, row and column.

use std::collections::{HashMap, HashSet};

use rumbo_store::FieldError;
use rumbo_store::response::{PlanIndicator, PlanInput, PlanSector, PlanTarget};
use rust_xlsxwriter::{Format, Workbook};

use super::sheet::{Book, Sheet};
use crate::error::ApiError;

pub const SECTOR_COLUMNS: &[&str] = &["code", "parent_code", "name_en", "name_es", "name_pt"];
pub const INDICATOR_COLUMNS: &[&str] =
    &["code", "sector_code", "name_en", "name_es", "name_pt", "unit", "counts_people"];
pub const TARGET_COLUMNS: &[&str] =
    &["country", "admin1_pcode", "sector_code", "people_in_need", "people_targeted", "funding_required_usd"];

/// The RMRP sectors and sub-sectors, prefilled in the template: (code, parent, en, es, pt).
pub const DEFAULT_SECTORS: &[(&str, Option<&str>, &str, &str, &str)] = &[
    ("EDU", None, "Education", "Educación", "Educação"),
    ("FSC", None, "Food security", "Seguridad alimentaria", "Segurança alimentar"),
    ("HEA", None, "Health", "Salud", "Saúde"),
    ("HTR", None, "Humanitarian transportation", "Transporte humanitario", "Transporte humanitário"),
    ("INT", None, "Integration", "Integración", "Integração"),
    ("NUT", None, "Nutrition", "Nutrición", "Nutrição"),
    ("PRO", None, "Protection", "Protección", "Proteção"),
    ("PRO-CP", Some("PRO"), "Child protection", "Protección de la niñez", "Proteção da criança"),
    ("PRO-GBV", Some("PRO"), "Gender-based violence", "Violencia basada en género", "Violência baseada em gênero"),
    (
        "PRO-HTS",
        Some("PRO"),
        "Human trafficking and smuggling",
        "Trata y tráfico de personas",
        "Tráfico e contrabando de pessoas",
    ),
    ("SHE", None, "Shelter", "Alojamiento", "Abrigo"),
    ("WASH", None, "Water, sanitation and hygiene", "Agua, saneamiento e higiene", "Água, saneamento e higiene"),
    (
        "MPC",
        None,
        "Multipurpose cash",
        "Transferencias monetarias multipropósito",
        "Transferências monetárias multipropósito",
    ),
    ("CS", None, "Common services", "Servicios comunes", "Serviços comuns"),
    (
        "CS-CWC",
        Some("CS"),
        "Communication with communities",
        "Comunicación con comunidades",
        "Comunicação com comunidades",
    ),
    ("CS-IM", Some("CS"), "Information management", "Manejo de información", "Gestão de informação"),
    ("CS-SS", Some("CS"), "Support spaces", "Espacios de apoyo", "Espaços de apoio"),
];

/// The plan template for a year: the default sectors, empty indicators and targets.
pub fn template(year: i32) -> Result<Vec<u8>, ApiError> {
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(format!("plan template: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet().set_name("sectors").map_err(fail)?;
    header(sheet, SECTOR_COLUMNS, &bold).map_err(fail)?;
    for (i, (code, parent, en, es, pt)) in DEFAULT_SECTORS.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        sheet.write_string(r, 0, *code).map_err(fail)?;
        if let Some(p) = parent {
            sheet.write_string(r, 1, *p).map_err(fail)?;
        }
        sheet.write_string(r, 2, *en).map_err(fail)?;
        sheet.write_string(r, 3, *es).map_err(fail)?;
        sheet.write_string(r, 4, *pt).map_err(fail)?;
    }
    let sheet = book.add_worksheet().set_name("indicators").map_err(fail)?;
    header(sheet, INDICATOR_COLUMNS, &bold).map_err(fail)?;
    let sheet = book.add_worksheet().set_name("targets").map_err(fail)?;
    header(sheet, TARGET_COLUMNS, &bold).map_err(fail)?;
    let sheet = book.add_worksheet().set_name("rumbo").map_err(fail)?;
    for (r, (key, value)) in [
        ("kind", "response_plan".to_string()),
        ("plan_year", year.to_string()),
        ("name", format!("Regional Refugee and Migrant Response Plan {year}")),
        ("period_start", format!("{year}-01-01")),
        ("period_end", format!("{year}-12-31")),
        ("report_deadline_day", "10".to_string()),
    ]
    .into_iter()
    .enumerate()
    {
        let r = u32::try_from(r).unwrap_or(u32::MAX);
        sheet.write_string_with_format(r, 0, key, &bold).map_err(fail)?;
        sheet.write_string(r, 1, value).map_err(fail)?;
    }
    sheet.set_column_width(1, 50).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

fn header(
    sheet: &mut rust_xlsxwriter::Worksheet,
    columns: &[&str],
    bold: &Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (c, name) in columns.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, c, *name, bold)?;
        sheet.set_column_width(c, 22)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Reads the key/value `rumbo` sheet.
pub fn settings(sheet: &Sheet) -> HashMap<String, (usize, String)> {
    let mut out = HashMap::new();
    for r in 0..=sheet.last_row().unwrap_or(0) {
        if let Some(key) = sheet.text(r, 0) {
            out.insert(key.to_ascii_lowercase(), (r, sheet.text(r, 1).unwrap_or_default()));
        }
    }
    out
}

/// What the server knows when it reads a plan: the countries and level-1 areas.
pub struct Reference {
    pub countries: HashSet<String>,
    /// p-code → country.
    pub admin1: HashMap<String, String>,
}

/// Reads a filled plan template. Every problem is listed (by `sheet!A1` address); the plan
/// is returned only when there is none.
pub fn read(bytes: Vec<u8>, reference: &Reference) -> Result<PlanInput, ApiError> {
    let mut book = Book::open(bytes)?;
    let mut sheets = Vec::new();
    for name in ["rumbo", "sectors", "indicators", "targets"] {
        sheets.push(book.sheet(name)?);
    }
    for name in ["sectors", "indicators", "targets"] {
        book.refuse_merged(name)?;
    }
    let [meta, sectors, indicators, targets] =
        <[Sheet; 4]>::try_from(sheets).map_err(|_| ApiError::Internal("sheets".into()))?;
    let mut errors = Vec::new();

    // The plan's own fields.
    let fields = settings(&meta);
    let value = |key: &str| fields.get(key).map(|(r, v)| (*r, v.clone()));
    let require = |key: &str, errors: &mut Vec<FieldError>| match value(key) {
        Some((r, v)) if !v.is_empty() => Some((r, v)),
        Some((r, _)) => {
            errors.push(FieldError::new(meta.addr(r, 1), format!("`{key}` is required")));
            None
        }
        None => {
            errors.push(FieldError::new("rumbo!A1", format!("the row `{key}` is missing")));
            None
        }
    };
    if let Some((r, kind)) = require("kind", &mut errors)
        && kind != "response_plan"
    {
        return Err(ApiError::invalid(
            &meta.addr(r, 1),
            format!("this workbook is a `{kind}` template, not a response plan: download the plan template"),
        ));
    }
    let year = require("plan_year", &mut errors).and_then(|(r, v)| match v.parse::<i32>() {
        Ok(y) if (2000..=2100).contains(&y) => Some(y),
        _ => {
            errors.push(FieldError::new(meta.addr(r, 1), format!("`{v}` is not a year")));
            None
        }
    });
    let name = require("name", &mut errors).map(|(_, v)| v);
    let date = |key: &str, errors: &mut Vec<FieldError>| {
        require(key, errors).and_then(|(r, v)| {
            let parsed = super::sheet::parse_date(&v);
            if parsed.is_none() {
                errors.push(FieldError::new(meta.addr(r, 1), format!("`{v}` is not a date (YYYY-MM-DD)")));
            }
            parsed
        })
    };
    let start = date("period_start", &mut errors);
    let end = date("period_end", &mut errors);
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        errors.push(FieldError::new("rumbo!B5", "the period ends before it starts"));
    }
    let deadline = match value("report_deadline_day") {
        None => Some(10),
        Some((r, v)) => match v.parse::<i32>() {
            Ok(d) if (1..=28).contains(&d) => Some(d),
            _ => {
                errors.push(FieldError::new(meta.addr(r, 1), format!("`{v}` is not a day between 1 and 28")));
                None
            }
        },
    };

    let sector_list = read_sectors(&sectors, &mut errors);
    let codes: HashSet<&str> = sector_list.iter().map(|s| s.code.as_str()).collect();
    let indicator_list = read_indicators(&indicators, &codes, &mut errors);
    let target_list = read_targets(&targets, &codes, reference, &mut errors);

    if !errors.is_empty() {
        errors.truncate(super::MAX_ERRORS);
        return Err(ApiError::Invalid(errors));
    }
    match (year, name, start, end, deadline) {
        (Some(year), Some(name), Some(period_start), Some(period_end), Some(deadline_day)) => Ok(PlanInput {
            year,
            name,
            period_start,
            period_end,
            deadline_day,
            sectors: sector_list,
            indicators: indicator_list,
            targets: target_list,
        }),
        _ => Err(ApiError::invalid("rumbo!", "the plan's fields are incomplete")),
    }
}

fn read_sectors(sheet: &Sheet, errors: &mut Vec<FieldError>) -> Vec<PlanSector> {
    if let Err(ApiError::Invalid(e)) = sheet.expect_header(SECTOR_COLUMNS) {
        errors.extend(e);
        return Vec::new();
    }
    let mut out: Vec<PlanSector> = Vec::new();
    let mut seen = HashSet::new();
    for r in 1..=sheet.last_row().unwrap_or(0) {
        if sheet.blank_row(r, SECTOR_COLUMNS.len()) {
            continue;
        }
        let Some(code) = sheet.text(r, 0) else {
            errors.push(FieldError::new(sheet.addr(r, 0), "the sector code is required"));
            continue;
        };
        if !seen.insert(code.clone()) {
            errors.push(FieldError::new(sheet.addr(r, 0), format!("the sector `{code}` is listed twice")));
        }
        let name_en = sheet.text(r, 2).unwrap_or_default();
        if name_en.is_empty() {
            errors.push(FieldError::new(sheet.addr(r, 2), "the English name is required"));
        }
        out.push(PlanSector {
            parent_code: sheet.text(r, 1),
            name_es: sheet.text(r, 3).unwrap_or_else(|| name_en.clone()),
            name_pt: sheet.text(r, 4).unwrap_or_else(|| name_en.clone()),
            name_en,
            code,
        });
    }
    let top: HashSet<&str> = out.iter().filter(|s| s.parent_code.is_none()).map(|s| s.code.as_str()).collect();
    for (i, s) in out.iter().enumerate() {
        if let Some(parent) = &s.parent_code
            && !top.contains(parent.as_str())
        {
            errors.push(FieldError::new(
                sheet.addr(row_of(sheet, i, SECTOR_COLUMNS.len()), 1),
                format!("the parent sector `{parent}` is not a sector (without parent) of this sheet"),
            ));
        }
    }
    out
}

/// The sheet row of the `i`-th non-blank data row.
fn row_of(sheet: &Sheet, i: usize, columns: usize) -> usize {
    (1..=sheet.last_row().unwrap_or(0)).filter(|r| !sheet.blank_row(*r, columns)).nth(i).unwrap_or(1)
}

fn read_indicators(sheet: &Sheet, sectors: &HashSet<&str>, errors: &mut Vec<FieldError>) -> Vec<PlanIndicator> {
    if let Err(ApiError::Invalid(e)) = sheet.expect_header(INDICATOR_COLUMNS) {
        errors.extend(e);
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for r in 1..=sheet.last_row().unwrap_or(0) {
        if sheet.blank_row(r, INDICATOR_COLUMNS.len()) {
            continue;
        }
        let code = sheet.text(r, 0).unwrap_or_default();
        if code.is_empty() {
            errors.push(FieldError::new(sheet.addr(r, 0), "the indicator code is required"));
        } else if !seen.insert(code.clone()) {
            errors.push(FieldError::new(sheet.addr(r, 0), format!("the indicator `{code}` is listed twice")));
        }
        let sector_code = sheet.text(r, 1).unwrap_or_default();
        if !sectors.contains(sector_code.as_str()) {
            errors.push(FieldError::new(
                sheet.addr(r, 1),
                format!("`{sector_code}` is not a sector of the `sectors` sheet"),
            ));
        }
        let name_en = sheet.text(r, 2).unwrap_or_default();
        if name_en.is_empty() {
            errors.push(FieldError::new(sheet.addr(r, 2), "the English name is required"));
        }
        let unit = sheet.text(r, 5).unwrap_or_else(|| "people".into());
        let counts_people = match sheet.text(r, 6).map(|t| t.to_ascii_lowercase()) {
            None => unit.eq_ignore_ascii_case("people"),
            Some(t) if matches!(t.as_str(), "yes" | "true" | "1" | "sí" | "si" | "sim") => true,
            Some(t) if matches!(t.as_str(), "no" | "false" | "0" | "não" | "nao") => false,
            Some(t) => {
                errors.push(FieldError::new(sheet.addr(r, 6), format!("`{t}` is neither yes nor no")));
                false
            }
        };
        out.push(PlanIndicator {
            code,
            sector_code,
            name_es: sheet.text(r, 3).unwrap_or_else(|| name_en.clone()),
            name_pt: sheet.text(r, 4).unwrap_or_else(|| name_en.clone()),
            name_en,
            unit,
            counts_people,
        });
    }
    out
}

fn read_targets(
    sheet: &Sheet,
    sectors: &HashSet<&str>,
    reference: &Reference,
    errors: &mut Vec<FieldError>,
) -> Vec<PlanTarget> {
    if let Err(ApiError::Invalid(e)) = sheet.expect_header(TARGET_COLUMNS) {
        errors.extend(e);
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for r in 1..=sheet.last_row().unwrap_or(0) {
        if sheet.blank_row(r, TARGET_COLUMNS.len()) {
            continue;
        }
        let country = sheet.text(r, 0).unwrap_or_default().to_uppercase();
        if !reference.countries.contains(&country) {
            errors.push(FieldError::new(sheet.addr(r, 0), format!("`{country}` is not a country of this instance")));
        }
        let admin1 = sheet.text(r, 1);
        if let Some(p) = &admin1 {
            match reference.admin1.get(p) {
                Some(c) if *c == country => {}
                Some(c) => errors.push(FieldError::new(
                    sheet.addr(r, 1),
                    format!("the admin 1 area `{p}` is in {c}, not in {country}"),
                )),
                None => errors.push(FieldError::new(sheet.addr(r, 1), format!("`{p}` is not an admin 1 p-code"))),
            }
        }
        let sector_code = sheet.text(r, 2).unwrap_or_default();
        if !sectors.contains(sector_code.as_str()) {
            errors.push(FieldError::new(
                sheet.addr(r, 2),
                format!("`{sector_code}` is not a sector of the `sectors` sheet"),
            ));
        }
        if !seen.insert((country.clone(), admin1.clone(), sector_code.clone())) {
            errors.push(FieldError::new(sheet.addr(r, 0), "this country, admin 1 and sector have a target already"));
        }
        let figure = |c: usize, errors: &mut Vec<FieldError>| match sheet.integer(r, c, errors) {
            Some(v) if v < 0 => {
                errors.push(FieldError::new(sheet.addr(r, c), "must not be negative"));
                0
            }
            Some(v) => v,
            None => 0,
        };
        let people_in_need = figure(3, errors);
        let people_targeted = figure(4, errors);
        let funding = match sheet.number(r, 5, errors) {
            Some(v) if v < 0.0 => {
                errors.push(FieldError::new(sheet.addr(r, 5), "must not be negative"));
                0.0
            }
            Some(v) => v,
            None => 0.0,
        };
        out.push(PlanTarget {
            country_code: country,
            admin1_pcode: admin1,
            sector_code,
            people_in_need,
            people_targeted,
            funding_required_usd: funding,
        });
    }
    out
}

/// Checks targets sent through the API against the plan's sectors and the areas.
pub fn check_targets<S: std::hash::BuildHasher>(
    targets: &[PlanTarget],
    sectors: &HashSet<&str, S>,
    reference: &Reference,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let f = |name: &str| format!("targets[{i}].{name}");
        if !reference.countries.contains(&t.country_code) {
            errors.push(FieldError::new(
                f("country_code"),
                format!("`{}` is not a country of this instance", t.country_code),
            ));
        }
        if let Some(p) = &t.admin1_pcode
            && reference.admin1.get(p) != Some(&t.country_code)
        {
            errors.push(FieldError::new(
                f("admin1_pcode"),
                format!("`{p}` is not an admin 1 area of {}", t.country_code),
            ));
        }
        if !sectors.contains(t.sector_code.as_str()) {
            errors.push(FieldError::new(f("sector_code"), format!("`{}` is not a sector of the plan", t.sector_code)));
        }
        for (name, negative) in [
            ("people_in_need", t.people_in_need < 0),
            ("people_targeted", t.people_targeted < 0),
            ("funding_required_usd", t.funding_required_usd < 0.0 || !t.funding_required_usd.is_finite()),
        ] {
            if negative {
                errors.push(FieldError::new(f(name), "must not be negative"));
            }
        }
    }
    errors
}
