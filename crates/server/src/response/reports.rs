//! Monthly activity reports: the template an organisation downloads (prefilled, with
//! drop-down lists), reading a filled one, the checks every row passes whatever door it came
//! through (template, JSON), and the flags raised on the rows stored.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use rumbo_store::FieldError;
use rumbo_store::response::{MODALITIES, NewActivityReport, POPULATION_TYPES, PastFigure, Plan, PlanHeader, ReportKey};
use rust_xlsxwriter::{DataValidation, Format, Formula, Workbook};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::sheet::{Book, Sheet, first_of_month};
use crate::error::ApiError;

/// The data sheet's columns, in order.
pub const COLUMNS: &[&str] = &[
    "implementing_organisation",
    "sector",
    "indicator",
    "country",
    "admin1_pcode",
    "month",
    "population_type",
    "girls",
    "boys",
    "women",
    "men",
    "other",
    "total",
    "new_or_recurring",
    "modality",
    "cash_value_usd",
];
const NEW_OR_RECURRING: &[&str] = &["new", "recurring"];
/// Data rows the drop-down lists cover.
const TEMPLATE_ROWS: u32 = 100_000;

/// One report row as sent (JSON) or read (template), before it is checked.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ReportInput {
    /// The reporting organisation (default: the caller's).
    #[serde(default)]
    pub appealing_organisation_id: Option<i64>,
    /// The organisation that carried the activity out (default: the appealing one).
    #[serde(default)]
    pub implementing_organisation_id: Option<i64>,
    /// In a template: the implementing organisation's name, acronym or id.
    #[serde(default)]
    pub implementing_organisation: Option<String>,
    /// When given, the indicator must belong to this sector (or one of its sub-sectors).
    #[serde(default)]
    pub sector: Option<String>,
    pub indicator: String,
    pub country: String,
    #[serde(default)]
    pub admin1_pcode: Option<String>,
    /// `YYYY-MM` (or any date in the month).
    pub month: String,
    /// `in_destination`, `in_transit`, `host_community`, `pendular`, `colombian_returnees`.
    pub population_type: String,
    #[serde(default)]
    pub girls: Option<i64>,
    #[serde(default)]
    pub boys: Option<i64>,
    #[serde(default)]
    pub women: Option<i64>,
    #[serde(default)]
    pub men: Option<i64>,
    #[serde(default)]
    pub other: Option<i64>,
    /// Must equal the sum of the disaggregation when both are given; the sum when left out.
    #[serde(default)]
    pub total: Option<i64>,
    /// `new` or `recurring`.
    pub new_or_recurring: String,
    /// `in_kind`, `cash`, `voucher` or `service`.
    #[serde(default)]
    pub modality: Option<String>,
    #[serde(default)]
    pub cash_value_usd: Option<f64>,
}

/// What rows are checked against.
pub struct Checker {
    pub plan: PlanHeader,
    /// Indicator code → sector code.
    indicators: HashMap<String, (String, bool)>,
    /// Sector code → parent code.
    sectors: HashMap<String, Option<String>>,
    /// Admin-1 p-code → country.
    admin1: HashMap<String, String>,
    countries: HashSet<String>,
    /// Lower-case name, acronym and id → organisation id.
    organisations: HashMap<String, i64>,
    organisation_ids: HashSet<i64>,
}

impl Checker {
    pub fn new(
        plan: &Plan,
        admin1: HashMap<String, String>,
        countries: HashSet<String>,
        organisations: &[(i64, String, String)],
    ) -> Checker {
        let mut names = HashMap::new();
        for (id, name, acronym) in organisations {
            names.insert(name.to_lowercase(), *id);
            if !acronym.is_empty() {
                names.entry(acronym.to_lowercase()).or_insert(*id);
            }
            names.insert(id.to_string(), *id);
        }
        Checker {
            plan: PlanHeader {
                id: plan.id,
                year: plan.year,
                name: plan.name.clone(),
                period_start: plan.period_start,
                period_end: plan.period_end,
                deadline_day: plan.deadline_day,
            },
            indicators: plan
                .indicators
                .iter()
                .map(|i| (i.code.clone(), (i.sector_code.clone(), i.counts_people)))
                .collect(),
            sectors: plan.sectors.iter().map(|s| (s.code.clone(), s.parent_code.clone())).collect(),
            admin1,
            countries,
            organisations: names,
            organisation_ids: organisations.iter().map(|(id, _, _)| *id).collect(),
        }
    }

    /// Checks one row; its problems go to `errors`, each named by `field(column)`.
    pub fn check(
        &self,
        row: &ReportInput,
        appealing: i64,
        field: &dyn Fn(&str) -> String,
        errors: &mut Vec<FieldError>,
    ) -> Option<NewActivityReport> {
        let before = errors.len();
        let mut push = |column: &str, message: String| errors.push(FieldError::new(field(column), message));
        let implementing = match (&row.implementing_organisation_id, &row.implementing_organisation) {
            (Some(id), _) => {
                if !self.organisation_ids.contains(id) {
                    push("implementing_organisation_id", format!("{id} is not an organisation"));
                }
                *id
            }
            (None, Some(name)) => {
                if let Some(id) = self.organisations.get(&name.trim().to_lowercase()) {
                    *id
                } else {
                    push(
                        "implementing_organisation",
                        format!("`{name}` is not an organisation (by name, acronym or id)"),
                    );
                    appealing
                }
            }
            (None, None) => appealing,
        };
        let indicator = row.indicator.trim();
        let sector_code = match self.indicators.get(indicator) {
            None if indicator.is_empty() => {
                push("indicator", "is required".into());
                None
            }
            None => {
                push("indicator", format!("`{indicator}` is not an indicator of the {} plan", self.plan.year));
                None
            }
            Some((sector, _)) => Some(sector.clone()),
        };
        if let (Some(given), Some(actual)) =
            (row.sector.as_deref().map(str::trim).filter(|s| !s.is_empty()), &sector_code)
        {
            let parent = self.sectors.get(actual).cloned().flatten();
            if given != actual && parent.as_deref() != Some(given) {
                push(
                    "sector",
                    format!("the indicator `{indicator}` belongs to the sector `{actual}`, not to `{given}`"),
                );
            }
        }
        let country = row.country.trim().to_uppercase();
        if !self.countries.contains(&country) {
            push("country", format!("`{country}` is not a country of this instance"));
        }
        let admin1 = row.admin1_pcode.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(p) = &admin1 {
            match self.admin1.get(p) {
                Some(c) if *c == country => {}
                Some(c) => push("admin1_pcode", format!("the admin 1 area `{p}` is in {c}, not in {country}")),
                None => push("admin1_pcode", format!("`{p}` is not an admin 1 p-code")),
            }
        }
        let month = match super::sheet::parse_date(&row.month) {
            None => {
                push("month", format!("`{}` is not a month (YYYY-MM)", row.month.trim()));
                None
            }
            Some(d) => {
                let m = first_of_month(d);
                if m < first_of_month(self.plan.period_start) || m > self.plan.period_end {
                    push(
                        "month",
                        format!(
                            "{} is outside the plan period ({} to {})",
                            m.format("%Y-%m"),
                            self.plan.period_start,
                            self.plan.period_end
                        ),
                    );
                }
                Some(m)
            }
        };
        let population_type = code(&row.population_type);
        if !POPULATION_TYPES.contains(&population_type.as_str()) {
            push(
                "population_type",
                format!("`{}` is not one of {}", row.population_type.trim(), POPULATION_TYPES.join(", ")),
            );
        }
        let new_or_recurring = code(&row.new_or_recurring);
        if !NEW_OR_RECURRING.contains(&new_or_recurring.as_str()) {
            push("new_or_recurring", format!("`{}` is neither new nor recurring", row.new_or_recurring.trim()));
        }
        let modality = row.modality.as_deref().map(code).filter(|m| !m.is_empty());
        if let Some(m) = &modality
            && !MODALITIES.contains(&m.as_str())
        {
            push("modality", format!("`{m}` is not one of {}", MODALITIES.join(", ")));
        }
        let parts =
            [("girls", row.girls), ("boys", row.boys), ("women", row.women), ("men", row.men), ("other", row.other)];
        for (name, value) in parts.iter().chain([("total", row.total)].iter()) {
            if value.is_some_and(|v| v < 0) {
                push(name, "must not be negative".into());
            }
        }
        if let Some(cash) = row.cash_value_usd
            && (cash < 0.0 || !cash.is_finite())
        {
            push("cash_value_usd", "must not be negative".into());
        }
        let disaggregated = parts.iter().any(|(_, v)| v.is_some());
        let sum: i64 = parts.iter().filter_map(|(_, v)| *v).fold(0i64, i64::saturating_add);
        let counts_people = self.indicators.get(indicator).is_some_and(|(_, p)| *p);
        let total = match row.total {
            Some(t) if (disaggregated || counts_people) && t != sum => {
                push("total", format!("is {t} but girls, boys, women, men and other add up to {sum}"));
                t
            }
            Some(t) => t,
            None if disaggregated => sum,
            None => {
                push("total", "report a figure: the total or its disaggregation".into());
                0
            }
        };
        if errors.len() > before {
            return None;
        }
        Some(NewActivityReport {
            appealing_org_id: appealing,
            implementing_org_id: implementing,
            indicator_code: indicator.to_string(),
            sector_code: sector_code?,
            country_code: country,
            admin1_pcode: admin1,
            month: month?,
            population_type,
            girls: row.girls.unwrap_or(0),
            boys: row.boys.unwrap_or(0),
            women: row.women.unwrap_or(0),
            men: row.men.unwrap_or(0),
            other: row.other.unwrap_or(0),
            total,
            new_or_recurring,
            modality,
            cash_value_usd: row.cash_value_usd,
            flag_late: false,
            flag_duplicate: false,
            flag_outlier: false,
        })
    }
}

/// `In destination` → `in_destination`.
fn code(text: &str) -> String {
    text.trim().to_lowercase().replace([' ', '-'], "_")
}

/// The day reports for `month` are due: the plan's deadline day of the following month.
pub fn deadline(month: NaiveDate, deadline_day: i32) -> NaiveDate {
    let next = first_of_month(month).checked_add_months(Months::new(1)).unwrap_or(month);
    next.with_day(u32::try_from(deadline_day).unwrap_or(28)).unwrap_or(next)
}

/// Raises the flags of new rows: late (stored after the deadline), duplicate (same key as a
/// stored row or as another new row), outlier (a total over ten times the organisation's
/// median for the indicator over earlier months, when there are at least three figures).
pub fn raise_flags<S: std::hash::BuildHasher>(
    rows: &mut [NewActivityReport],
    deadline_day: i32,
    today: NaiveDate,
    existing: &HashMap<ReportKey, i64, S>,
    past: &[PastFigure],
) {
    let mut batch: HashMap<ReportKey, usize> = HashMap::new();
    for r in rows.iter() {
        *batch.entry(r.key()).or_insert(0) += 1;
    }
    let mut by_indicator: HashMap<&str, Vec<&PastFigure>> = HashMap::new();
    for p in past {
        by_indicator.entry(p.indicator_code.as_str()).or_default().push(p);
    }
    let mut medians: HashMap<(String, NaiveDate), Option<f64>> = HashMap::new();
    for r in rows.iter_mut() {
        r.flag_late = today > deadline(r.month, deadline_day);
        let key = r.key();
        r.flag_duplicate = existing.contains_key(&key) || batch.get(&key).is_some_and(|n| *n > 1);
        let median = *medians.entry((r.indicator_code.clone(), r.month)).or_insert_with(|| {
            let mut earlier: Vec<i64> = by_indicator
                .get(r.indicator_code.as_str())
                .map(|v| v.iter().filter(|p| p.month < r.month).map(|p| p.total).collect())
                .unwrap_or_default();
            median(&mut earlier)
        });
        #[allow(clippy::cast_precision_loss)]
        let total = r.total as f64;
        r.flag_outlier = median.is_some_and(|m| m > 0.0 && total > 10.0 * m);
    }
}

/// The median of at least three figures.
fn median(values: &mut [i64]) -> Option<f64> {
    if values.len() < 3 {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    #[allow(clippy::cast_precision_loss)]
    Some(if n % 2 == 1 { values[n / 2] as f64 } else { f64::midpoint(values[n / 2 - 1] as f64, values[n / 2] as f64) })
}

/// What the template is for, from its hidden `rumbo` sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateIdentity {
    pub year: i32,
    pub organisation_id: i64,
    pub organisation: String,
}

/// The lists a template offers.
pub struct TemplateLists {
    pub organisation_id: i64,
    pub organisation: String,
    pub year: i32,
    pub indicators: Vec<String>,
    pub sectors: Vec<String>,
    pub countries: Vec<String>,
    pub admin1: Vec<String>,
    pub organisations: Vec<String>,
}

/// The activity report template for one organisation and plan year.
pub fn template(lists: &TemplateLists) -> Result<Vec<u8>, ApiError> {
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(format!("report template: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let columns: Vec<(&str, Vec<String>)> = vec![
        ("indicators", lists.indicators.clone()),
        ("countries", lists.countries.clone()),
        ("admin1", lists.admin1.clone()),
        ("population_types", POPULATION_TYPES.iter().map(ToString::to_string).collect()),
        ("new_or_recurring", NEW_OR_RECURRING.iter().map(ToString::to_string).collect()),
        ("modalities", MODALITIES.iter().map(ToString::to_string).collect()),
        ("organisations", lists.organisations.clone()),
        ("sectors", lists.sectors.clone()),
    ];
    // Which data column each list serves.
    let serves: [(usize, usize); 8] = [(2, 0), (3, 1), (4, 2), (6, 3), (13, 4), (14, 5), (0, 6), (1, 7)];
    let sheet = book.add_worksheet().set_name("reports").map_err(fail)?;
    for (c, name) in COLUMNS.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, c, *name, &bold).map_err(fail)?;
        sheet.set_column_width(c, 18).map_err(fail)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    for (data_col, list_col) in serves {
        let len = columns[list_col].1.len();
        if len == 0 {
            continue;
        }
        let letter = super::sheet::column_letter(list_col);
        let dv = DataValidation::new()
            .allow_list_formula(Formula::new(format!("=lists!${letter}$2:${letter}${}", len + 1)))
            .set_error_title("Rumbo")
            .map_err(fail)?
            .set_error_message(format!("Choose a value from the list `{}`.", columns[list_col].0))
            .map_err(fail)?;
        let col = u16::try_from(data_col).unwrap_or(u16::MAX);
        sheet.add_data_validation(1, col, TEMPLATE_ROWS, col, &dv).map_err(fail)?;
    }
    let sheet = book.add_worksheet().set_name("lists").map_err(fail)?;
    for (c, (name, values)) in columns.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, c, *name, &bold).map_err(fail)?;
        for (r, v) in values.iter().enumerate() {
            sheet.write_string(u32::try_from(r + 1).unwrap_or(u32::MAX), c, v).map_err(fail)?;
        }
    }
    sheet.set_hidden(true);
    let sheet = book.add_worksheet().set_name("rumbo").map_err(fail)?;
    for (r, (key, value)) in [
        ("kind", "activity_reports".to_string()),
        ("plan_year", lists.year.to_string()),
        ("organisation_id", lists.organisation_id.to_string()),
        ("organisation", lists.organisation.clone()),
    ]
    .into_iter()
    .enumerate()
    {
        let r = u32::try_from(r).unwrap_or(u32::MAX);
        sheet.write_string(r, 0, key).map_err(fail)?;
        sheet.write_string(r, 1, value).map_err(fail)?;
    }
    sheet.set_hidden(true);
    book.save_to_buffer().map_err(fail)
}

/// An opened report template: what it is for, and its data sheet.
pub struct Filled {
    pub identity: TemplateIdentity,
    pub sheet: Sheet,
}

/// Refuses merged cells in the `reports` sheet. Finding them reads the whole sheet again,
/// so the upload runs this beside [`open`], on its own copy of the file.
pub fn refuse_merged(bytes: Vec<u8>) -> Result<(), ApiError> {
    let mut book = Book::open(bytes)?;
    if book.sheet_names.iter().any(|n| n == "reports") { book.refuse_merged("reports") } else { Ok(()) }
}

/// Opens a filled template: its identity and its `reports` sheet (header checked).
pub fn open(bytes: Vec<u8>) -> Result<Filled, ApiError> {
    let mut book = Book::open(bytes)?;
    let meta = book.sheet("rumbo")?;
    let fields = super::plan::settings(&meta);
    let get = |k: &str| fields.get(k).map(|(_, v)| v.clone()).unwrap_or_default();
    if get("kind") != "activity_reports" {
        return Err(ApiError::invalid(
            "rumbo!B1",
            format!(
                "this workbook is not an activity report template (kind `{}`): download the template for your organisation",
                get("kind")
            ),
        ));
    }
    let year = get("plan_year").parse::<i32>().map_err(|_| {
        ApiError::invalid("rumbo!B2", "the template's plan year is unreadable: download a new template")
    })?;
    let organisation_id = get("organisation_id").parse::<i64>().map_err(|_| {
        ApiError::invalid("rumbo!B3", "the template's organisation is unreadable: download a new template")
    })?;
    let identity = TemplateIdentity { year, organisation_id, organisation: get("organisation") };
    let sheet = book.sheet("reports")?;
    sheet.expect_header(COLUMNS)?;
    Ok(Filled { identity, sheet })
}

/// The data rows of a filled template (sheet row, row) and the cell problems found (text in
/// number cells, unreadable dates).
pub fn rows(sheet: &Sheet, errors: &mut Vec<FieldError>) -> Vec<(usize, ReportInput)> {
    let mut out = Vec::new();
    for r in 1..=sheet.last_row().unwrap_or(0) {
        if sheet.blank_row(r, COLUMNS.len()) {
            continue;
        }
        let month = match sheet.date(r, 5, errors) {
            Some(d) => d.format("%Y-%m-%d").to_string(),
            None => sheet.text(r, 5).unwrap_or_default(),
        };
        let mut int = |c: usize| sheet.integer(r, c, errors);
        let (girls, boys, women, men, other, total) = (int(7), int(8), int(9), int(10), int(11), int(12));
        out.push((
            r,
            ReportInput {
                appealing_organisation_id: None,
                implementing_organisation_id: None,
                implementing_organisation: sheet.text(r, 0),
                sector: sheet.text(r, 1),
                indicator: sheet.text(r, 2).unwrap_or_default(),
                country: sheet.text(r, 3).unwrap_or_default(),
                admin1_pcode: sheet.text(r, 4),
                month,
                population_type: sheet.text(r, 6).unwrap_or_default(),
                girls,
                boys,
                women,
                men,
                other,
                total,
                new_or_recurring: sheet.text(r, 13).unwrap_or_default(),
                modality: sheet.text(r, 14),
                cash_value_usd: sheet.number(r, 15, errors),
            },
        ));
    }
    out
}

/// The column index of a field of [`ReportInput`] in the template.
pub fn column_of(field: &str) -> usize {
    let name = match field {
        "implementing_organisation_id" => "implementing_organisation",
        other => other,
    };
    COLUMNS.iter().position(|c| *c == name).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_due_on_the_deadline_day_of_the_next_month() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(deadline(d(2026, 3, 1), 10), d(2026, 4, 10));
        assert_eq!(deadline(d(2026, 12, 1), 5), d(2027, 1, 5));
    }

    #[test]
    fn the_median_needs_three_figures() {
        assert_eq!(median(&mut [5, 1]), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
    }
}
