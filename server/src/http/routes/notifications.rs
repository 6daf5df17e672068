//! `/api/v1/me/notifications`: a panelist's consented e-mail address and choices;
//! `/api/v1/notifications/confirm` and `/unsubscribe`: the signed links from a message,
//! which need no session; `/api/v1/cases/{id}/announcements` and `/outbox`: the staff's
//! announcement to a case's panel and what became of the messages.

use axum::extract::State;
use axum::http::StatusCode;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ClientIp, Json, Path};
use crate::service::AuditContext;
use crate::service::notifications::{
    AnnouncementInput, AnnouncementView, LinkToken, NotificationInput, NotificationSettings,
    OutboxCounts,
};

/// The signed-in panelist's notification settings.
#[utoipa::path(get, path = "/api/v1/me/notifications", operation_id = "getNotificationSettings", tag = "notifications",
    responses((status = 200, body = NotificationSettings), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn settings(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<axum::Json<NotificationSettings>, ApiError> {
    Ok(axum::Json(
        state.service.notification_settings(&auth.actor).await?,
    ))
}

/// Sets the panelist's address and choices; a new address gets a confirmation message
/// and receives nothing else until it is confirmed.
#[utoipa::path(put, path = "/api/v1/me/notifications", operation_id = "setNotificationSettings", tag = "notifications", request_body = NotificationInput,
    responses((status = 200, body = NotificationSettings), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_settings(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Json(body): Json<NotificationInput>,
) -> Result<axum::Json<NotificationSettings>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .set_notifications(&auth.actor, body, &ctx)
            .await?,
    ))
}

/// Erases the panelist's address; nothing waiting for it is sent.
#[utoipa::path(delete, path = "/api/v1/me/notifications", operation_id = "deleteNotificationSettings", tag = "notifications",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
) -> Result<StatusCode, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    state
        .service
        .remove_notifications(&auth.actor, &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirms an address with the token from the confirmation message (no session).
#[utoipa::path(post, path = "/api/v1/notifications/confirm", operation_id = "confirmNotifications", tag = "notifications", request_body = LinkToken,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    Json(body): Json<LinkToken>,
) -> Result<StatusCode, ApiError> {
    state.service.confirm_notifications(&body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unsubscribes with the token from any message (no session): the address is erased.
#[utoipa::path(post, path = "/api/v1/notifications/unsubscribe", operation_id = "unsubscribeNotifications", tag = "notifications", request_body = LinkToken,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    Json(body): Json<LinkToken>,
) -> Result<StatusCode, ApiError> {
    state.service.unsubscribe(&body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Announces to a case's panel by e-mail (admins of its municipality), audited.
#[utoipa::path(post, path = "/api/v1/cases/{id}/announcements", operation_id = "announceToPanel", tag = "notifications", params(("id" = i64, Path, description = "Case id", example = 1)), request_body = AnnouncementInput,
    responses((status = 201, body = AnnouncementView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn announce(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(body): Json<AnnouncementInput>,
) -> Result<(StatusCode, axum::Json<AnnouncementView>), ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    let v = state.service.announce(&auth.actor, id, body, &ctx).await?;
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// How many e-mails about a case wait, went out, failed or were refused (admins).
#[utoipa::path(get, path = "/api/v1/cases/{id}/outbox", operation_id = "getCaseOutbox", tag = "notifications", params(("id" = i64, Path, description = "Case id", example = 1)),
    responses((status = 200, body = OutboxCounts), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<OutboxCounts>, ApiError> {
    Ok(axum::Json(
        state.service.outbox_counts(&auth.actor, id).await?,
    ))
}
