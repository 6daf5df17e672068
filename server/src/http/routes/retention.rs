//! `/api/v1/municipalities/{municipality}/retention`: a municipality's retention settings,
//! the dry run of what the retention job would remove now, and running it (admins).

use axum::extract::State;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ClientIp, Json, Path};
use crate::service::AuditContext;
use crate::service::retention::{RetentionReport, RetentionSettings};

/// A municipality's retention settings (admins).
#[utoipa::path(get, path = "/api/v1/municipalities/{municipality}/retention", operation_id = "getRetention", tag = "privacy",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht")),
    responses((status = 200, body = RetentionSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn settings(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(m): Path<String>,
) -> Result<axum::Json<RetentionSettings>, ApiError> {
    Ok(axum::Json(
        state.service.retention_settings(&auth.actor, &m).await?,
    ))
}

/// Sets a municipality's retention settings (admins); audited.
#[utoipa::path(put, path = "/api/v1/municipalities/{municipality}/retention", operation_id = "setRetention", tag = "privacy",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht")),
    request_body = RetentionSettings,
    responses((status = 200, body = RetentionSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_settings(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(m): Path<String>,
    Json(body): Json<RetentionSettings>,
) -> Result<axum::Json<RetentionSettings>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .set_retention_settings(&auth.actor, &m, body, &ctx)
            .await?,
    ))
}

/// What the retention job would remove now, as counts (admins).
#[utoipa::path(get, path = "/api/v1/municipalities/{municipality}/retention/plan", operation_id = "planRetention", tag = "privacy",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht")),
    responses((status = 200, body = RetentionReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn plan(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(m): Path<String>,
) -> Result<axum::Json<RetentionReport>, ApiError> {
    Ok(axum::Json(
        state.service.retention_plan(&auth.actor, &m).await?,
    ))
}

/// Applies the retention now, once per day whichever node is asked (admins); audited
/// with counts.
#[utoipa::path(post, path = "/api/v1/municipalities/{municipality}/retention/run", operation_id = "runRetention", tag = "privacy",
    params(("municipality" = String, Path, description = "Municipality slug", example = "utrecht")),
    responses((status = 200, body = RetentionReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(m): Path<String>,
) -> Result<axum::Json<RetentionReport>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state.service.run_retention(&auth.actor, &m, &ctx).await?,
    ))
}
