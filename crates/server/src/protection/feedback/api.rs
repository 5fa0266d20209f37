//! `/api/v1/feedback`: list, take in, read, assign, respond, close, trends.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use rumbo_store::model::Page;
use serde::Deserialize;
use utoipa::OpenApi;

use super::{FeedbackInput, FeedbackItem, FeedbackQuery, Trends};
use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ops::MAX_API_PAGE;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/feedback", get(list).post(create))
        .route("/api/v1/feedback/trends", get(trends))
        .route("/api/v1/feedback/{id}", get(item))
        .route("/api/v1/feedback/{id}/assign", post(assign))
        .route("/api/v1/feedback/{id}/respond", post(respond))
        .route("/api/v1/feedback/{id}/close", post(close))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, create, item, assign, respond, close, trends),
    components(schemas(
        FeedbackItem,
        FeedbackInput,
        Assignment,
        Answer,
        Closure,
        Trends,
        super::trends::Count,
        super::trends::MonthRow
    ))
)]
pub struct FeedbackDoc;

/// Feedback items the caller may read, newest first (no text: read one item for it).
/// Allegations of sexual exploitation or abuse are listed only to the protection focal
/// point of their country.
#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback", params(FeedbackQuery),
    responses((status = 200, body = Page<FeedbackItem>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<FeedbackQuery>,
) -> ApiResult<Json<Page<FeedbackItem>>> {
    let mut f = q.filter(&caller)?;
    f.limit = Some(f.limit.unwrap_or(100).clamp(1, MAX_API_PAGE));
    let page = super::list(&state, &caller, &f).await?;
    let today = Utc::now().date_naive();
    Ok(Json(Page { items: page.items.iter().map(|r| FeedbackItem::summary(r, today)).collect(), total: page.total }))
}

/// Take in an item heard on a hotline, found in a box or told face to face (the public
/// uses the page `/feedback`). The answer holds the reference to give the person (and no
/// text when it is an allegation the caller may not read afterwards).
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", request_body = FeedbackInput,
    responses((status = 201, body = FeedbackItem), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(input): ApiJson<FeedbackInput>,
) -> ApiResult<(StatusCode, Json<FeedbackItem>)> {
    let row = super::create(&state, Some(&caller), input).await?;
    // Whoever takes in an allegation without being the focal point gets its reference only.
    let item = if super::may_read(&caller, &row) {
        FeedbackItem::full(&state, &caller, &row)
    } else {
        FeedbackItem::summary(&row, Utc::now().date_naive())
    };
    Ok((StatusCode::CREATED, Json(item)))
}

/// One item with its text. An item the caller may not read is a 404, as if it did not
/// exist; reads of allegations (and refused attempts) are written to the audit log.
#[utoipa::path(get, path = "/api/v1/feedback/{id}", tag = "feedback",
    responses((status = 200, body = FeedbackItem), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn item(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<FeedbackItem>> {
    let row = super::read(&state, &caller, id).await?;
    Ok(Json(FeedbackItem::full(&state, &caller, &row)))
}

/// Who takes the item.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    /// A user who may handle feedback in the item's country (a protection focal point for
    /// an allegation of sexual exploitation or abuse).
    pub user_id: Option<i64>,
}

/// Assign an item (a `new` one, or again while `assigned`).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/assign", tag = "feedback", request_body = Assignment,
    responses((status = 200, body = FeedbackItem), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(a): ApiJson<Assignment>,
) -> ApiResult<Json<FeedbackItem>> {
    let row = super::assign(&state, &caller, id, a.user_id).await?;
    Ok(Json(FeedbackItem::full(&state, &caller, &row)))
}

/// The answer given to the person.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    #[serde(default)]
    pub response: String,
}

/// Record the answer (a `new` or `assigned` item; the person sees it with her reference).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/respond", tag = "feedback", request_body = Answer,
    responses((status = 200, body = FeedbackItem), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn respond(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(a): ApiJson<Answer>,
) -> ApiResult<Json<FeedbackItem>> {
    let row = super::respond(&state, &caller, id, &a.response).await?;
    Ok(Json(FeedbackItem::full(&state, &caller, &row)))
}

/// Closing the loop with the person.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Closure {
    /// The person was told the answer (default true); false when she could not be reached.
    #[serde(default = "yes")]
    pub told_person: bool,
    /// 1 (very unhappy) to 5 (very happy), if she said.
    #[serde(default)]
    pub satisfaction: Option<i32>,
}

fn yes() -> bool {
    true
}

/// Close an answered item, once.
#[utoipa::path(post, path = "/api/v1/feedback/{id}/close", tag = "feedback", request_body = Closure,
    responses((status = 200, body = FeedbackItem), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn close(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<Closure>,
) -> ApiResult<Json<FeedbackItem>> {
    let row = super::close(&state, &caller, id, c.told_person, c.satisfaction).await?;
    Ok(Json(FeedbackItem::full(&state, &caller, &row)))
}

/// Trends of the non-sensitive categories (allegations of sexual exploitation or abuse are
/// never counted here, whoever asks): items per month and category, by channel and
/// sector, the share answered within the deadline and the average satisfaction.
#[utoipa::path(get, path = "/api/v1/feedback/trends", tag = "feedback", params(FeedbackQuery),
    responses((status = 200, body = Trends), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn trends(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<FeedbackQuery>,
) -> ApiResult<Json<Trends>> {
    Ok(Json(super::trends::compute(&state, &caller, &q).await?))
}
