//! `GET /response/reports`: the report rows, filtered and paged, with their flags and
//! status, and the same view as CSV with an HXL hashtag row.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::get;
use rumbo_domain::permissions::{Permission, scope};
use rumbo_store::FieldError;
use rumbo_store::response::{REPORT_STATUSES, ReportFilter};
use serde::{Deserialize, Serialize};

use super::{Flag, Line, all_flags, may_change, plan_if_any, plan_year};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::{Choice, Chrome, PageError, PageResult, render, spreadsheet_safe};
use crate::response::{Tab, partner_organisation, sheet, tabs};

pub fn router() -> Router<AppState> {
    Router::new().route("/response/reports", get(list_page))
}

const PAGE: i64 = 100;
/// The most rows one CSV download holds.
const MOST_CSV: i64 = 100_000;

/// The filters of the list (as typed: each is checked, and a wrong one named).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(super) struct Filters {
    pub year: Option<String>,
    pub organisation: Option<String>,
    pub country: Option<String>,
    pub admin1: Option<String>,
    pub sector: Option<String>,
    pub indicator: Option<String>,
    pub month_from: Option<String>,
    pub month_to: Option<String>,
    pub status: Option<String>,
    pub flagged: Option<String>,
    pub upload: Option<String>,
    pub offset: Option<String>,
    pub format: Option<String>,
}

fn given(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Filters {
    fn flagged(&self) -> bool {
        matches!(self.flagged.as_deref().map(str::trim), Some("true" | "on" | "1" | "yes"))
    }

    /// The query string of this view with another offset and format.
    fn link(&self, year: i32, offset: i64, format: Option<&str>) -> String {
        let mut pairs: Vec<(&str, String)> = vec![("year", year.to_string())];
        for (k, v) in [
            ("organisation", &self.organisation),
            ("country", &self.country),
            ("admin1", &self.admin1),
            ("sector", &self.sector),
            ("indicator", &self.indicator),
            ("month_from", &self.month_from),
            ("month_to", &self.month_to),
            ("status", &self.status),
            ("upload", &self.upload),
        ] {
            if let Some(v) = given(v.as_ref()) {
                pairs.push((k, v));
            }
        }
        if self.flagged() {
            pairs.push(("flagged", "true".into()));
        }
        if offset > 0 {
            pairs.push(("offset", offset.to_string()));
        }
        if let Some(f) = format {
            pairs.push(("format", f.to_string()));
        }
        format!("/response/reports?{}", serde_html_form::to_string(pairs).unwrap_or_default())
    }

    /// The store filter, within the caller's scope; the filters that are not right, named.
    fn filter(&self, caller: &Caller, plan_id: i64, own: Option<i64>) -> Result<ReportFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |name: &str, v: &Option<String>| -> Option<i64> {
            let v = given(v.as_ref())?;
            v.parse::<i64>().map_err(|_| errors.push(FieldError::new(name, format!("`{v}` is not a number")))).ok()
        };
        let organisation = number("organisation", &self.organisation);
        let upload_id = number("upload", &self.upload);
        let offset = number("offset", &self.offset).unwrap_or(0).max(0);
        let mut month = |name: &str, v: &Option<String>| {
            let v = given(v.as_ref())?;
            sheet::parse_date(&v)
                .map(sheet::first_of_month)
                .ok_or_else(|| errors.push(FieldError::new(name, format!("`{v}` is not a month (YYYY-MM)"))))
                .ok()
        };
        let month_from = month("month_from", &self.month_from);
        let month_to = month("month_to", &self.month_to);
        let status = given(self.status.as_ref());
        if let Some(s) = &status
            && !REPORT_STATUSES.contains(&s.as_str())
        {
            errors.push(FieldError::new("status", format!("`{s}` is not one of {}", REPORT_STATUSES.join(", "))));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ReportFilter {
            plan_id,
            countries: scope(&caller.user),
            organisation_scope: own,
            organisation,
            country: given(self.country.as_ref()).map(|c| c.to_uppercase()),
            admin1: given(self.admin1.as_ref()),
            sector: given(self.sector.as_ref()),
            indicator: given(self.indicator.as_ref()),
            month_from,
            month_to,
            status,
            flagged: self.flagged(),
            upload_id,
            flagged_first: false,
            offset,
            limit: PAGE,
        })
    }
}

/// A filter above the table.
pub struct Select {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "response_reports.html")]
struct ListPage {
    c: Chrome,
    tabs: Vec<Tab>,
    selects: Vec<Select>,
    month_from: String,
    month_to: String,
    flagged: bool,
    upload: String,
    has_plan: bool,
    errors: Vec<String>,
    lines: Vec<Line>,
    total: i64,
    from: i64,
    to: i64,
    csv_url: String,
    prev_url: Option<String>,
    next_url: Option<String>,
    may_enter: bool,
    legend: Vec<Flag>,
}

async fn list_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    query: Result<Query<Filters>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let user = &caller.user;
    if !caller.allows(Permission::ReportActivities, None) && !caller.allows(Permission::ReviewActivities, None) {
        return Err(ApiError::Forbidden("you may not read activity reports".into()).into());
    }
    let own = partner_organisation(user)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(format!("the filters could not be read: {e}")))?;
    let (years, year) = plan_year(&state, q.year.as_deref()).await?;
    let plan = plan_if_any(&state, year).await?;
    let mut errors = Vec::new();
    let filter = match &plan {
        Some(p) => match q.filter(&caller, p.id, own) {
            Ok(f) => Some(f),
            Err(e) => {
                errors = e;
                None
            }
        },
        None => None,
    };
    let csv = q.format.as_deref() == Some("csv");
    if csv {
        let Some(filter) = filter else {
            let e = if errors.is_empty() {
                ApiError::NotFound(format!("a response plan for {year}"))
            } else {
                ApiError::Invalid(errors)
            };
            return Err(PageError(e));
        };
        return download(&state, &caller, filter, year, &q).await;
    }
    let (lines, total, offset) = match &filter {
        Some(f) => {
            let page = state.store.list_activity_reports(f).await?;
            let lines: Vec<Line> = page
                .items
                .into_iter()
                .map(|r| {
                    let editable = may_change(&caller, &r);
                    Line::new(lang, plan.as_ref(), r, editable)
                })
                .collect();
            (lines, page.total, page.offset)
        }
        None => (Vec::new(), 0, 0),
    };
    let organisations = state.store.organisation_names().await?;
    let countries =
        super::countries_for(&state, &caller, &[Permission::ReportActivities, Permission::ReviewActivities]).await?;
    let admin1 = super::admin1_of(&state, &countries).await?;
    let current = |v: &Option<String>| given(v.as_ref()).unwrap_or_default();
    let all = lang.t("common.all");
    let mut selects =
        vec![Select { name: "year", label: lang.t("resp.rep.year"), options: super::year_choices(&years, year) }];
    if own.is_none() {
        selects.push(Select {
            name: "organisation",
            label: lang.t("resp.rep.organisation"),
            options: super::organisation_choices(&organisations, &current(&q.organisation), Some(all)),
        });
    }
    selects.push(Select {
        name: "country",
        label: lang.t("common.country"),
        options: crate::pages::country_choices(&countries, lang, &current(&q.country).to_uppercase(), true),
    });
    let mut admin1_options = vec![Choice::new("", all, &current(&q.admin1))];
    admin1_options
        .extend(admin1.iter().map(|(p, c)| Choice::new(p.clone(), format!("{p} ({c})"), &current(&q.admin1))));
    selects.push(Select { name: "admin1", label: lang.t("resp.rep.admin1"), options: admin1_options });
    let mut sectors = vec![Choice::new("", all, &current(&q.sector))];
    let mut indicators = vec![Choice::new("", all, &current(&q.indicator))];
    if let Some(p) = &plan {
        sectors.extend(p.sectors.iter().map(|s| {
            Choice::new(s.code.clone(), super::sector_name(plan.as_ref(), lang, &s.code), &current(&q.sector))
        }));
        indicators.extend(p.indicators.iter().map(|i| {
            Choice::new(i.code.clone(), super::indicator_name(plan.as_ref(), lang, &i.code), &current(&q.indicator))
        }));
    }
    selects.push(Select { name: "sector", label: lang.t("resp.rep.sector"), options: sectors });
    selects.push(Select { name: "indicator", label: lang.t("resp.rep.indicator"), options: indicators });
    let mut statuses = vec![Choice::new("", all, &current(&q.status))];
    statuses.extend(
        ["submitted", "approved", "returned"]
            .iter()
            .map(|s| Choice::new(*s, lang.t(&format!("resp.rep.status.{s}")), &current(&q.status))),
    );
    selects.push(Select { name: "status", label: lang.t("common.status"), options: statuses });
    let shown = i64::try_from(lines.len()).unwrap_or(0);
    let page = ListPage {
        c: Chrome::new(lang, Some(&caller), &uri, "resp.rep.title"),
        tabs: tabs(&caller, lang, uri.path()),
        selects,
        month_from: current(&q.month_from),
        month_to: current(&q.month_to),
        flagged: q.flagged(),
        upload: current(&q.upload),
        has_plan: plan.is_some(),
        errors: errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
        total,
        from: if shown > 0 { offset + 1 } else { 0 },
        to: offset + shown,
        csv_url: q.link(year, 0, Some("csv")),
        prev_url: (offset > 0).then(|| q.link(year, (offset - PAGE).max(0), None)),
        next_url: (offset + shown < total).then(|| q.link(year, offset + PAGE, None)),
        lines,
        may_enter: plan.is_some() && caller.allows(Permission::ReportActivities, None),
        legend: all_flags(lang),
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, render(&page)).into_response())
}

/// The CSV columns and their HXL hashtags.
const CSV_COLUMNS: &[(&str, &str)] = &[
    ("id", "#meta+id"),
    ("plan_year", "#date+year+plan"),
    ("appealing_organisation", "#org+appealing"),
    ("implementing_organisation", "#org+implementing"),
    ("sector", "#sector"),
    ("indicator", "#indicator+code"),
    ("country", "#country+code"),
    ("admin1_pcode", "#adm1+code"),
    ("month", "#date+month"),
    ("population_type", "#population+type"),
    ("girls", "#reached+f+children"),
    ("boys", "#reached+m+children"),
    ("women", "#reached+f+adults"),
    ("men", "#reached+m+adults"),
    ("other", "#reached+other"),
    ("total", "#reached+total"),
    ("new_or_recurring", "#reached+type"),
    ("modality", "#delivery+type"),
    ("cash_value_usd", "#value+cash+usd"),
    ("status", "#status+report"),
    ("reviewer_note", "#description+review"),
    ("flag_late", "#meta+flag+late"),
    ("flag_duplicate", "#meta+flag+duplicate"),
    ("flag_outlier", "#meta+flag+outlier"),
];

/// The rows of the view (every page of it, up to [`MOST_CSV`]) as CSV: a header, an HXL
/// hashtag row, then the rows. Written to the audit log as an export.
async fn download(state: &AppState, caller: &Caller, mut filter: ReportFilter, year: i32, q: &Filters) -> PageResult {
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, cells: Vec<String>| {
        out.write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))
            .map_err(|e| PageError(ApiError::Internal(e.to_string())))
    };
    write(&mut out, CSV_COLUMNS.iter().map(|(c, _)| (*c).to_string()).collect())?;
    write(&mut out, CSV_COLUMNS.iter().map(|(_, h)| (*h).to_string()).collect())?;
    filter.offset = 0;
    filter.limit = 5_000;
    let mut rows = 0;
    loop {
        let page = state.store.list_activity_reports(&filter).await?;
        let n = i64::try_from(page.items.len()).unwrap_or(0);
        for r in page.items {
            rows += 1;
            write(
                &mut out,
                vec![
                    r.id.to_string(),
                    r.plan_year.to_string(),
                    r.appealing_org,
                    r.implementing_org,
                    r.sector_code,
                    r.indicator_code,
                    r.country_code,
                    r.admin1_pcode.unwrap_or_default(),
                    r.month.format("%Y-%m").to_string(),
                    r.population_type,
                    r.girls.to_string(),
                    r.boys.to_string(),
                    r.women.to_string(),
                    r.men.to_string(),
                    r.other.to_string(),
                    r.total.to_string(),
                    r.new_or_recurring,
                    r.modality.unwrap_or_default(),
                    r.cash_value_usd.map(|v| v.to_string()).unwrap_or_default(),
                    r.status,
                    r.reviewer_note.unwrap_or_default(),
                    r.flag_late.to_string(),
                    r.flag_duplicate.to_string(),
                    r.flag_outlier.to_string(),
                ],
            )?;
        }
        filter.offset += n;
        if n < filter.limit || filter.offset >= page.total || filter.offset >= MOST_CSV {
            break;
        }
    }
    state
        .store
        .record(rumbo_store::AuditEvent {
            actor: &caller.actor(),
            action: "export",
            entity: "activity_reports",
            entity_id: "csv".into(),
            country_code: filter.country.as_deref(),
            detail: serde_json::json!({ "rows": rows, "filters": q.link(year, 0, None) }),
        })
        .await?;
    let body = out.into_inner().map_err(|e| PageError(ApiError::Internal(e.to_string())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"rumbo-5w-{year}.csv\"")),
        ],
        body,
    )
        .into_response())
}
