//! `/api/v1/me/data` and `/api/v1/me/leave`: a panelist's own data and leaving the panel;
//! `/api/v1/municipalities/{municipality}/invitations/{number}/leave`: staff carrying out
//! a written request to leave.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::auth::session_cookie;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ClientIp, Json, Path};
use crate::service::AuditContext;
use crate::service::privacy::{LeaveInput, LeaveOnRequestInput, LeaveOutcome, OwnData};

/// Everything Beraad keeps about the signed-in panelist (AVG articles 15 and 20).
#[utoipa::path(get, path = "/api/v1/me/data", operation_id = "getOwnData", tag = "privacy",
    responses((status = 200, body = OwnData,
        headers(("Content-Disposition" = String, description = "attachment; filename=\"mijn-gegevens.json\""))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn own_data(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Response, ApiError> {
    let data = state.service.own_data(&auth.actor).await?;
    Ok((
        [(
            axum::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"mijn-gegevens.json\"",
        )],
        axum::Json(data),
    )
        .into_response())
}

/// Leaves the panel: the code stops working, sessions end, profile and per-case names are
/// erased, and the posts are kept as "oud-panellid" or removed, as chosen.
#[utoipa::path(post, path = "/api/v1/me/leave", operation_id = "leavePanel", tag = "privacy", request_body = LeaveInput,
    responses((status = 200, body = LeaveOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn leave(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(body): Json<LeaveInput>,
) -> Result<Response, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    let outcome = state.service.leave_panel(&auth.actor, body, &ctx).await?;
    let jar = jar.add(session_cookie(&state, String::new(), 0));
    Ok((jar, axum::Json(outcome)).into_response())
}

/// Carries out a resident's written request to leave the panel, by invitation number
/// (admins).
#[utoipa::path(post, path = "/api/v1/municipalities/{municipality}/invitations/{number}/leave", operation_id = "leavePanelOnRequest", tag = "privacy",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht"),
        ("number" = String, Path, description = "Invitation number")),
    request_body = LeaveOnRequestInput,
    responses((status = 200, body = LeaveOutcome), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn leave_on_request(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path((m, number)): Path<(String, String)>,
    Json(body): Json<LeaveOnRequestInput>,
) -> Result<axum::Json<LeaveOutcome>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .leave_panel_on_request(&auth.actor, &m, &number, body, &ctx)
            .await?,
    ))
}
