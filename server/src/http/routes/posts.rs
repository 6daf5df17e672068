//! `/api/v1/cases/{id}/posts` and `/api/v1/posts/{id}`: the thread, reactions and
//! replies, edits, withdrawals, weighings and flags.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query, idempotency_key};
use crate::service::posts::{
    CheckInput, CheckResult, ContestInput, EditPostInput, FlagInput, FlagView, NewPostInput,
    PostView, RevisionView, ThreadPage, WeighingInput,
};

/// Paging of a thread.
#[derive(Deserialize, IntoParams)]
pub struct ThreadQuery {
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9/]*$", max_length = 255)]
    pub cursor: Option<String>,
    /// Page size (default 50, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Reads a case's thread in order, a page at a time.
#[utoipa::path(get, path = "/api/v1/cases/{id}/posts", operation_id = "listPosts", tag = "posts", params(("id" = i64, Path, description = "Case id", example = 1), ThreadQuery),
    responses((status = 200, body = ThreadPage), (status = 404, body = ErrorBody)))]
pub async fn thread(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
    Query(q): Query<ThreadQuery>,
) -> Result<axum::Json<ThreadPage>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .thread(
                &auth.actor,
                id,
                q.cursor.as_deref(),
                Some(super::page_size(q.limit, 50, 100)?),
            )
            .await?,
    ))
}

/// Posts a reaction (with a verdict) or, with `parent_id`, a reply. Send an
/// `Idempotency-Key` so a retry is stored once.
#[utoipa::path(post, path = "/api/v1/cases/{id}/posts", operation_id = "createPost", tag = "posts", params(("id" = i64, Path, description = "Case id", example = 1)),
    request_body = NewPostInput,
    responses((status = 201, body = PostView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<NewPostInput>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers);
    let view = state
        .service
        .create_post(&auth.actor, id, body, key.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// Reads one post.
#[utoipa::path(get, path = "/api/v1/posts/{id}", operation_id = "getPost", tag = "posts", params(("id" = i64, Path, description = "Post id", example = 1)),
    responses((status = 200, body = PostView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<PostView>, ApiError> {
    Ok(axum::Json(state.service.get_post(&auth.actor, id).await?))
}

/// Edits one's own post while the case is open.
#[utoipa::path(patch, path = "/api/v1/posts/{id}", operation_id = "editPost", tag = "posts", params(("id" = i64, Path, description = "Post id", example = 1)), request_body = EditPostInput,
    responses((status = 200, body = PostView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
    Json(body): Json<EditPostInput>,
) -> Result<axum::Json<PostView>, ApiError> {
    Ok(axum::Json(
        state.service.edit_post(&auth.actor, id, body).await?,
    ))
}

/// Withdraws one's own post while the case is open.
#[utoipa::path(post, path = "/api/v1/posts/{id}/withdraw", operation_id = "withdrawPost", tag = "posts", params(("id" = i64, Path, description = "Post id", example = 1)),
    responses((status = 200, body = PostView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<PostView>, ApiError> {
    Ok(axum::Json(
        state.service.withdraw_post(&auth.actor, id).await?,
    ))
}

/// Weighs someone else's post; sending again changes the weighing.
#[utoipa::path(put, path = "/api/v1/posts/{id}/weighing", operation_id = "weighPost", tag = "posts", params(("id" = i64, Path, description = "Post id", example = 1)), request_body = WeighingInput,
    responses((status = 200, body = PostView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn weigh(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
    Json(body): Json<WeighingInput>,
) -> Result<axum::Json<PostView>, ApiError> {
    Ok(axum::Json(
        state.service.weigh_post(&auth.actor, id, body).await?,
    ))
}

/// Flags a post for the moderators.
#[utoipa::path(post, path = "/api/v1/posts/{id}/flags", operation_id = "flagPost", tag = "posts", params(("id" = i64, Path, description = "Post id", example = 1)), request_body = FlagInput,
    responses((status = 201, body = FlagView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn flag(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
    Json(body): Json<FlagInput>,
) -> Result<Response, ApiError> {
    let view = state.service.flag_post(&auth.actor, id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// The author contests a moderator's decision (hidden or rejected) on their own post;
/// the post returns to the moderators' flagged queue with the author's words.
#[utoipa::path(post, path = "/api/v1/posts/{id}/contest", operation_id = "contestDecision", tag = "posts", params(("id" = i64, Path, description = "Post id")), request_body = ContestInput,
    responses((status = 201, body = FlagView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn contest(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
    Json(body): Json<ContestInput>,
) -> Result<Response, ApiError> {
    let view = state
        .service
        .contest_moderation(&auth.actor, id, body)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// The versions of a post (its author and staff).
#[utoipa::path(get, path = "/api/v1/posts/{id}/revisions", operation_id = "listPostRevisions", tag = "posts", params(("id" = i64, Path, description = "Post id", example = 1)),
    responses((status = 200, body = [RevisionView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revisions(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<RevisionView>>, ApiError> {
    Ok(axum::Json(state.service.revisions(&auth.actor, id).await?))
}

/// Checks a draft while the panelist types: what the automatic check would hold or
/// refuse, and why. Stores nothing.
#[utoipa::path(post, path = "/api/v1/cases/{id}/posts/check", operation_id = "checkDraft", tag = "posts", params(("id" = i64, Path, description = "Case id", example = 1)),
    request_body = CheckInput,
    responses((status = 200, body = CheckResult), (status = 404, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
    Json(body): Json<CheckInput>,
) -> Result<axum::Json<CheckResult>, ApiError> {
    Ok(axum::Json(
        state.service.check_draft(&auth.actor, id, body).await?,
    ))
}
