//! `/api/v1/moderation` and `/api/v1/audit`: queues, claims and actions for moderators;
//! the audit log for admins.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ClientIp, Json, Path, Query};
use crate::service::AuditContext;
use crate::service::audit::AuditPage;
use crate::service::moderation::{
    ActionInput, HandledPage, ModAction, PolicyInput, PremoderateInput, QueueCounts, QueueItem,
    QueueKind, QueuePage, SuspendInput,
};

/// Which queue and where to start.
#[derive(Deserialize, IntoParams)]
pub struct QueueQuery {
    /// `pending` (default) or `flagged`.
    pub kind: Option<QueueKind>,
    /// `next_cursor` of the previous page.
    pub after: Option<i64>,
    /// Page size (default 50, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Paging backwards in time.
#[derive(Deserialize, IntoParams)]
pub struct BeforeQuery {
    /// `next_cursor` of the previous page.
    pub before: Option<i64>,
    /// Page size (default 50, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Sizes of the queues.
#[utoipa::path(get, path = "/api/v1/moderation/{municipality}/counts", operation_id = "getQueueCounts", tag = "moderation",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht")),
    responses((status = 200, body = QueueCounts), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn counts(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(m): Path<String>,
) -> Result<axum::Json<QueueCounts>, ApiError> {
    Ok(axum::Json(
        state.service.queue_counts(&auth.actor, &m).await?,
    ))
}

/// A queue page, oldest first.
#[utoipa::path(get, path = "/api/v1/moderation/{municipality}/queue", operation_id = "listQueue", tag = "moderation",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht"), QueueQuery),
    responses((status = 200, body = QueuePage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(m): Path<String>,
    Query(q): Query<QueueQuery>,
) -> Result<axum::Json<QueuePage>, ApiError> {
    let kind = q.kind.unwrap_or(QueueKind::Pending);
    Ok(axum::Json(
        state
            .service
            .queue(
                &auth.actor,
                &m,
                kind,
                q.after.unwrap_or(0),
                super::page_size(q.limit, 50, 100)?,
            )
            .await?,
    ))
}

/// Recently handled, newest first.
#[utoipa::path(get, path = "/api/v1/moderation/{municipality}/handled", operation_id = "listHandled", tag = "moderation",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht"), BeforeQuery),
    responses((status = 200, body = HandledPage), (status = 403, body = ErrorBody)))]
pub async fn handled(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(m): Path<String>,
    Query(q): Query<BeforeQuery>,
) -> Result<axum::Json<HandledPage>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .handled(
                &auth.actor,
                &m,
                q.before,
                super::page_size(q.limit, 50, 100)?,
            )
            .await?,
    ))
}

/// Claims a post for a few minutes.
#[utoipa::path(post, path = "/api/v1/moderation/posts/{id}/claim", operation_id = "claimPost", tag = "moderation",
    params(("id" = i64, Path, description = "Post id", example = 1)),
    responses((status = 200, body = QueueItem), (status = 409, body = ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<QueueItem>, ApiError> {
    Ok(axum::Json(state.service.claim_post(&auth.actor, id).await?))
}

/// Gives a claim back.
#[utoipa::path(post, path = "/api/v1/moderation/posts/{id}/release", operation_id = "releasePost", tag = "moderation",
    params(("id" = i64, Path, description = "Post id", example = 1)),
    responses((status = 200, body = QueueItem)))]
pub async fn release(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<QueueItem>, ApiError> {
    Ok(axum::Json(
        state.service.release_post(&auth.actor, id).await?,
    ))
}

/// Approves, hides, restores, rejects or redacts a post.
#[utoipa::path(post, path = "/api/v1/moderation/posts/{id}/{action}", operation_id = "moderatePost", tag = "moderation",
    params(("id" = i64, Path, description = "Post id", example = 1), ("action" = ModAction, Path, description = "What to do with the post")),
    request_body = ActionInput,
    responses((status = 200, body = QueueItem), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path((id, action)): Path<(i64, String)>,
    Json(body): Json<ActionInput>,
) -> Result<axum::Json<QueueItem>, ApiError> {
    let action = ModAction::parse(&action).ok_or_else(ApiError::not_found)?;
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .moderate_post(&auth.actor, id, action, body, &ctx)
            .await?,
    ))
}

/// Suspends a panelist for some hours (0 lifts it).
#[utoipa::path(post, path = "/api/v1/moderation/panelists/{id}/suspend", operation_id = "suspendPanelist", tag = "moderation",
    params(("id" = i64, Path, description = "Panelist id", example = 1)), request_body = SuspendInput,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn suspend(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(body): Json<SuspendInput>,
) -> Result<StatusCode, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    state
        .service
        .suspend_panelist(&auth.actor, id, body, &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts a panelist on pre-moderation or takes them off.
#[utoipa::path(post, path = "/api/v1/moderation/panelists/{id}/premoderate", operation_id = "premoderatePanelist", tag = "moderation",
    params(("id" = i64, Path, description = "Panelist id", example = 1)), request_body = PremoderateInput,
    responses((status = 204)))]
pub async fn premoderate(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(body): Json<PremoderateInput>,
) -> Result<StatusCode, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    state
        .service
        .premoderate_panelist(&auth.actor, id, body, &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose audit log.
#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Municipality slug.
    #[param(example = "utrecht")]
    pub municipality: String,
    /// `next_cursor` of the previous page.
    pub before: Option<i64>,
    /// Page size (default 100, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

/// The audit log of a municipality, newest first (admins).
#[utoipa::path(get, path = "/api/v1/audit", operation_id = "listAuditEntries", tag = "moderation", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Query(q): Query<AuditQuery>,
) -> Result<axum::Json<AuditPage>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .audit_page(
                &auth.actor,
                &q.municipality,
                q.before,
                super::page_size(q.limit, 100, 500)?,
            )
            .await?,
    ))
}

/// The whole audit log of a municipality as CSV (admins; audited).
#[utoipa::path(get, path = "/api/v1/audit/export", operation_id = "exportAuditLog", tag = "moderation", params(AuditQuery),
    responses(
        (status = 200, description = "Every audit entry of the municipality, newest first, as CSV",
            content((String = "text/csv")),
            headers(("Content-Disposition" = String, description = "attachment; filename=\"audit-SLUG.csv\""))),
        (status = 403, body = ErrorBody)))]
pub async fn audit_export(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    let mut out: Vec<u8> = Vec::new();
    state
        .service
        .audit_csv(&auth.actor, &q.municipality, &ctx, &mut out)
        .await?;
    Ok((audit_export_headers(&q.municipality), out).into_response())
}

/// Checks the audit export: the same status and headers as `GET` would give.
///
/// Nothing is exported or audited.
#[utoipa::path(head, path = "/api/v1/audit/export", operation_id = "checkAuditExport", tag = "moderation", params(AuditQuery),
    responses(
        (status = 200, description = "The export would be given",
            headers(("Content-Type" = String, description = "text/csv"), ("Content-Disposition" = String, description = "attachment; filename=\"audit-SLUG.csv\""))),
        (status = 403, body = ErrorBody)))]
pub async fn audit_export_head(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    state
        .service
        .check_audit_export(&auth.actor, &q.municipality)
        .await?;
    Ok(audit_export_headers(&q.municipality).into_response())
}

fn audit_export_headers(municipality: &str) -> [(header::HeaderName, String); 2] {
    [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"audit-{municipality}.csv\""),
        ),
    ]
}

/// Reads the municipality's banned and suspect words and flag threshold (admins).
#[utoipa::path(get, path = "/api/v1/moderation/{municipality}/policy", operation_id = "getModerationPolicy", tag = "moderation",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht")),
    responses((status = 200, body = PolicyInput), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(m): Path<String>,
) -> Result<axum::Json<PolicyInput>, ApiError> {
    Ok(axum::Json(
        state.service.moderation_policy(&auth.actor, &m).await?,
    ))
}

/// Sets the municipality's banned and suspect words and flag threshold (admins).
#[utoipa::path(put, path = "/api/v1/moderation/{municipality}/policy", operation_id = "setModerationPolicy", tag = "moderation",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht")), request_body = PolicyInput,
    responses((status = 200, body = PolicyInput), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn policy(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(m): Path<String>,
    Json(body): Json<PolicyInput>,
) -> Result<axum::Json<PolicyInput>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .set_moderation_policy(&auth.actor, &m, body, &ctx)
            .await?,
    ))
}
