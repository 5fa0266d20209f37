//! The staff pages: `/cfm` (list, filters, CSV with an HXL row), `/cfm/new` (intake of a
//! hotline call, a box or a conversation), `/cfm/{id}` (the item and its actions) and
//! `/cfm/trends`.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::Utc;
use rumbo_domain::permissions::Permission;
use rumbo_store::feedback::{self as fb, FeedbackRow};
use rumbo_store::model::{Country, ListFilter, Site};
use serde::Deserialize;

use super::{FeedbackInput, FeedbackItem, FeedbackQuery};
use crate::AppState;
use crate::auth::{Caller, SignedIn};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::pages::{
    Cell, Choice, Chrome, FilterField, FormField, FormPage, ListPage, NewQuery, PAGE_SIZE, PageResult, Posted, Row,
    code_choices, countries_allowing, country_choices, render, save_or_show, see_other, spreadsheet_safe, yes_no,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cfm", get(list).post(create))
        .route("/cfm/new", get(new_form))
        .route("/cfm/trends", get(super::trends::page))
        .route("/cfm/{id}", get(detail))
        .route("/cfm/{id}/assign", post(assign))
        .route("/cfm/{id}/respond", post(respond))
        .route("/cfm/{id}/close", post(close))
}

/// The label of a code in the reader's language (`fb.category.complaint`).
fn label(lang: Lang, prefix: &str, code: &str) -> &'static str {
    lang.t(&format!("fb.{prefix}.{code}"))
}

/// The query string of a list with other paging or format.
fn list_url(q: &FeedbackQuery, offset: Option<i64>, format: Option<&str>) -> String {
    let pairs: Vec<(&str, String)> = [
        ("country", q.country.clone()),
        ("status", q.status.clone()),
        ("category", q.category.clone()),
        ("channel", q.channel.clone()),
        ("sector", q.sector.clone()),
        ("site_id", q.site_id.clone()),
        ("overdue", q.overdue.clone()),
        ("assigned", q.assigned.clone()),
        ("offset", offset.filter(|o| *o > 0).map(|o| o.to_string())),
        ("format", format.map(str::to_string)),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    format!("/cfm?{}", serde_html_form::to_string(pairs).unwrap_or_default())
}

/// The columns of the list and its download, with their HXL hashtags.
const COLUMNS: [(&str, &str); 11] = [
    ("fb.reference", "#meta+id"),
    ("fb.received", "#date+reported"),
    ("common.country", "#country+code"),
    ("fb.site", "#loc+name"),
    ("fb.channel", "#meta+channel"),
    ("fb.category", "#indicator+category"),
    ("fb.sector", "#sector"),
    ("fb.status", "#status"),
    ("fb.assigned_to", "#contact+assigned"),
    ("fb.due_on", "#date+due"),
    ("fb.overdue", "#indicator+overdue"),
];

fn cells(lang: Lang, r: &FeedbackRow, today: chrono::NaiveDate) -> Vec<Cell> {
    vec![
        Cell::link(&r.reference, format!("/cfm/{}", r.id)),
        Cell::text(r.created_at.format("%Y-%m-%d").to_string()),
        Cell::text(&r.country_code),
        Cell::text(r.site_name.clone().unwrap_or_default()),
        Cell::text(label(lang, "channel", &r.channel)),
        Cell::text(label(lang, "category", &r.category)),
        Cell::text(label(lang, "sector", &r.sector)),
        Cell::text(label(lang, "status", &r.status)),
        Cell::text(r.assigned_name.clone().unwrap_or_default()),
        Cell::text(r.due_on.to_string()),
        Cell::text(yes_no(lang, r.is_overdue(today))),
    ]
}

/// The sites of the caller's countries, as choices labelled with their country.
async fn site_choices(state: &AppState, countries: &[Country], current: &str) -> Result<Vec<Choice>, ApiError> {
    let filter = ListFilter {
        limit: Some(100_000),
        scope: Some(countries.iter().map(|c| c.code.clone()).collect()),
        ..ListFilter::default()
    };
    let sites: Vec<Site> = state.store.list_sites(&filter).await?.items;
    let mut choices = vec![Choice::new("", "—", current)];
    choices.extend(
        sites.iter().map(|s| Choice::new(s.id.to_string(), format!("{} · {}", s.country_code, s.name), current)),
    );
    Ok(choices)
}

async fn list(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<FeedbackQuery>,
) -> PageResult {
    let csv = q.format.as_deref() == Some("csv");
    let mut f = q.filter(&caller)?;
    f.limit = Some(if csv { 100_000 } else { PAGE_SIZE });
    f.offset = if csv { None } else { q.offset };
    let page = super::list(&state, &caller, &f).await?;
    let today = Utc::now().date_naive();
    let rows: Vec<Row> = page.items.iter().map(|r| Row { cells: cells(lang, r, today), edit: None }).collect();
    if csv {
        return download(&state, &caller, lang, &q, &rows).await;
    }
    let countries = crate::ops::countries(&state.store, &caller).await?;
    let countries: Vec<Country> =
        countries.into_iter().filter(|c| caller.allows(Permission::ViewFeedback, Some(&c.code))).collect();
    let current = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut filters = vec![
        FilterField::select(
            "country",
            lang.t("common.country"),
            country_choices(&countries, lang, &current(&q.country).to_uppercase(), true),
        ),
        FilterField::select(
            "status",
            lang.t("fb.status"),
            code_choices(fb::STATUSES, lang, "fb.status", &current(&q.status), true),
        ),
    ];
    let categories: Vec<&str> = fb::CATEGORIES
        .iter()
        .copied()
        .filter(|c| *c != fb::PSEA || caller.allows(Permission::HandlePsea, None))
        .collect();
    filters.push(FilterField::select(
        "category",
        lang.t("fb.category"),
        code_choices(&categories, lang, "fb.category", &current(&q.category), true),
    ));
    filters.push(FilterField::select(
        "channel",
        lang.t("fb.channel"),
        code_choices(fb::CHANNELS, lang, "fb.channel", &current(&q.channel), true),
    ));
    filters.push(FilterField::select(
        "sector",
        lang.t("fb.sector"),
        code_choices(fb::SECTORS, lang, "fb.sector", &current(&q.sector), true),
    ));
    filters.push(FilterField::select(
        "site_id",
        lang.t("fb.site"),
        site_choices(&state, &countries, &current(&q.site_id)).await?,
    ));
    filters.push(FilterField::select(
        "overdue",
        lang.t("fb.overdue"),
        vec![
            Choice::new("", lang.t("common.all"), &current(&q.overdue)),
            Choice::new("true", lang.t("common.yes"), &current(&q.overdue)),
        ],
    ));
    filters.push(FilterField::select(
        "assigned",
        lang.t("fb.assigned_to"),
        vec![
            Choice::new("", lang.t("common.all"), &current(&q.assigned)),
            Choice::new("me", lang.t("fb.assigned_me"), &current(&q.assigned)),
        ],
    ));
    let mut list = ListPage::new(
        Chrome::new(lang, Some(&caller), &uri, "fb.list.title"),
        "/cfm",
        filters,
        COLUMNS.iter().map(|(key, _)| lang.t(key)).collect(),
        rows,
        page.total,
    );
    list.editable = false;
    if countries.iter().any(|c| caller.allows(Permission::HandleFeedback, Some(&c.code))) {
        list.actions.push((lang.t("fb.new.title"), "/cfm/new".to_string()));
    }
    list.actions.push((lang.t("fb.trends.title"), "/cfm/trends".to_string()));
    let offset = q.offset.unwrap_or(0).max(0);
    list.csv_url = Some(list_url(&q, None, Some("csv")));
    if offset > 0 {
        list.prev_url = Some(list_url(&q, Some((offset - PAGE_SIZE).max(0)), None));
    }
    if offset + (list.rows.len() as i64) < list.total {
        list.next_url = Some(list_url(&q, Some(offset + PAGE_SIZE), None));
    }
    Ok(render(&list))
}

/// The list as CSV, with an HXL hashtag row under the header; written to the audit log as an
/// export.
async fn download(state: &AppState, caller: &Caller, lang: Lang, q: &FeedbackQuery, rows: &[Row]) -> PageResult {
    state
        .store
        .record(rumbo_store::AuditEvent {
            actor: &caller.actor(),
            action: "export",
            entity: "feedback",
            entity_id: "csv".into(),
            country_code: q.country.as_deref().filter(|c| !c.is_empty()),
            detail: serde_json::json!({ "rows": rows.len(), "filters": list_url(q, None, None) }),
        })
        .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(COLUMNS.iter().map(|(key, _)| lang.t(key)));
    let _ = out.write_record(COLUMNS.iter().map(|(_, hxl)| *hxl));
    for row in rows {
        let _ = out.write_record(row.cells.iter().map(|c| spreadsheet_safe(&c.text).into_owned()));
    }
    let body = out.into_inner().unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"feedback.csv\"".to_string()),
        ],
        body,
    )
        .into_response())
}

/// The staff intake form as typed.
#[derive(Debug, Default, Deserialize)]
struct IntakeForm {
    #[serde(default)]
    country_code: String,
    #[serde(default)]
    site_id: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    wants_reply: Option<String>,
}

impl IntakeForm {
    fn input(&self) -> Result<FeedbackInput, ApiError> {
        let site_id = match self.site_id.trim() {
            "" => None,
            s => Some(s.parse().map_err(|_| ApiError::invalid("site_id", format!("'{s}' is not a site id")))?),
        };
        Ok(FeedbackInput {
            channel: self.channel.clone(),
            category: self.category.clone(),
            sector: self.sector.clone(),
            country_code: self.country_code.clone(),
            site_id,
            body: self.body.clone(),
            contact: Some(self.contact.clone()),
            wants_reply: self.wants_reply.is_some(),
        })
    }
}

async fn intake_page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    uri: &Uri,
    f: &IntakeForm,
) -> Result<FormPage, ApiError> {
    let countries = countries_allowing(state, caller, Permission::HandleFeedback).await?;
    let staff_channels: Vec<&str> = fb::CHANNELS.to_vec();
    let fields = vec![
        FormField::select(
            "country_code",
            lang.t("common.country"),
            country_choices(&countries, lang, &f.country_code, false),
        )
        .required(),
        FormField::select("site_id", lang.t("fb.site"), site_choices(state, &countries, &f.site_id).await?),
        FormField::select(
            "channel",
            lang.t("fb.channel"),
            code_choices(&staff_channels, lang, "fb.channel", &f.channel, false),
        )
        .required(),
        FormField::select(
            "category",
            lang.t("fb.category"),
            code_choices(fb::CATEGORIES, lang, "fb.category", &f.category, false),
        )
        .required()
        .help(lang.t("fb.psea_help")),
        FormField::select(
            "sector",
            lang.t("fb.sector"),
            code_choices(fb::SECTORS, lang, "fb.sector", &f.sector, false),
        )
        .required(),
        FormField { value: f.body.clone(), ..FormField::input("textarea", "body", lang.t("fb.body"), "") }.required(),
        FormField::input("text", "contact", lang.t("fb.contact"), f.contact.clone()).help(lang.t("fb.contact_help")),
        FormField::checkbox("wants_reply", lang.t("fb.wants_reply"), f.wants_reply.is_some()),
    ];
    Ok(FormPage::new(Chrome::new(lang, Some(caller), uri, "fb.new.title"), "/cfm", fields, "/cfm"))
}

async fn new_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiQuery(q): ApiQuery<NewQuery>,
) -> PageResult {
    let form = IntakeForm {
        country_code: q.country.unwrap_or_default().to_uppercase(),
        channel: "hotline".into(),
        ..IntakeForm::default()
    };
    Ok(render(&intake_page(&state, &caller, lang, &uri, &form).await?))
}

async fn create(State(state): State<AppState>, lang: Lang, uri: Uri, posted: Posted<IntakeForm>) -> PageResult {
    let Posted { caller, form } = posted;
    let page = intake_page(&state, &caller, lang, &uri, &form).await?;
    save_or_show(
        form.input(),
        |input| super::create(&state, Some(&caller), input),
        // An allegation taken in by someone who may not read it: only its reference (to give
        // the person), on the page the person herself would see.
        |row: &FeedbackRow| {
            if super::may_read(&caller, row) {
                format!("/cfm/{}?notice=saved", row.id)
            } else {
                format!("/feedback/status?reference={}", row.reference)
            }
        },
        page,
    )
    .await
}

/// One item and, for those who handle it, the next steps.
#[derive(Template)]
#[template(path = "feedback_detail.html")]
struct DetailPage {
    c: Chrome,
    item: FeedbackItem,
    channel: &'static str,
    category: &'static str,
    sector: &'static str,
    status: &'static str,
    may_handle: bool,
    assignees: Vec<Choice>,
    error: Option<String>,
    history: Vec<(String, String, &'static str)>,
}

async fn detail_page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    uri: &Uri,
    row: &FeedbackRow,
    error: Option<String>,
) -> Result<DetailPage, ApiError> {
    let may_handle = caller.allows(Permission::HandleFeedback, Some(&row.country_code))
        && (!row.is_psea() || caller.allows(Permission::HandlePsea, Some(&row.country_code)));
    let assignees = if may_handle && matches!(row.status.as_str(), "new" | "assigned") {
        let current = row.assigned_to.map(|u| u.to_string()).unwrap_or_default();
        super::assignees(state, &row.country_code, row.is_psea())
            .await?
            .iter()
            .map(|u| {
                Choice::new(
                    u.id.to_string(),
                    format!("{} ({})", u.display_name, lang.t(&format!("role.{}", u.role))),
                    &current,
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let history = state
        .store
        .audit_of("feedback", &row.id.to_string())
        .await?
        .into_iter()
        .filter(|l| matches!(l.action.as_str(), "create" | "assign" | "respond" | "close"))
        .map(|l| (l.at.format("%Y-%m-%d %H:%M").to_string(), l.actor, lang.t(&format!("fb.action.{}", l.action))))
        .collect();
    let item = FeedbackItem::full(state, caller, row);
    Ok(DetailPage {
        c: Chrome::new(lang, Some(caller), uri, "fb.detail.title"),
        channel: label(lang, "channel", &row.channel),
        category: label(lang, "category", &row.category),
        sector: label(lang, "sector", &row.sector),
        status: label(lang, "status", &row.status),
        item,
        may_handle,
        assignees,
        error,
        history,
    })
}

async fn detail(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
) -> PageResult {
    let row = super::read(&state, &caller, id).await?;
    Ok(render(&detail_page(&state, &caller, lang, &uri, &row, None).await?))
}

/// After an action: back to the item, or the item again with what went wrong (a wrong
/// input or a step out of order keeps its 4xx status; nothing was changed).
async fn after(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    uri: &Uri,
    id: i64,
    result: Result<FeedbackRow, ApiError>,
) -> PageResult {
    match result {
        Ok(_) => Ok(see_other(&format!("/cfm/{id}?notice=saved"))),
        Err(e @ (ApiError::Invalid(_) | ApiError::Conflict { .. })) => {
            let status = e.status_code();
            let row = super::read(state, caller, id).await?;
            let page = detail_page(
                state,
                caller,
                lang,
                &Uri::from_maybe_shared(format!("/cfm/{id}")).unwrap_or_else(|_| uri.clone()),
                &row,
                Some(e.to_string()),
            )
            .await?;
            Ok((status, render(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    user_id: String,
}

async fn assign(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    posted: Posted<AssignForm>,
) -> PageResult {
    let Posted { caller, form } = posted;
    let result = match form.user_id.trim() {
        "" => Err(ApiError::invalid("user_id", "is required: choose who takes the item")),
        s => match s.parse() {
            Ok(user) => super::assign(&state, &caller, id, Some(user)).await,
            Err(_) => Err(ApiError::invalid("user_id", format!("'{s}' is not a user id"))),
        },
    };
    after(&state, &caller, lang, &uri, id, result).await
}

#[derive(Deserialize)]
struct RespondForm {
    #[serde(default)]
    response: String,
}

async fn respond(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    posted: Posted<RespondForm>,
) -> PageResult {
    let Posted { caller, form } = posted;
    let result = super::respond(&state, &caller, id, &form.response).await;
    after(&state, &caller, lang, &uri, id, result).await
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    told_person: Option<String>,
    #[serde(default)]
    satisfaction: String,
}

async fn close(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    posted: Posted<CloseForm>,
) -> PageResult {
    let Posted { caller, form } = posted;
    let result = match form.satisfaction.trim() {
        "" => super::close(&state, &caller, id, form.told_person.is_some(), None).await,
        s => match s.parse() {
            Ok(n) => super::close(&state, &caller, id, form.told_person.is_some(), Some(n)).await,
            Err(_) => Err(ApiError::invalid("satisfaction", format!("'{s}' is not a number from 1 to 5"))),
        },
    };
    after(&state, &caller, lang, &uri, id, result).await
}
