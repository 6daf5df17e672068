//! `/api/v1/cases/{id}/draw` and `/api/v1/municipalities/{municipality}/population`: draw a
//! case's panel from its pool, read and verify the draw, top it up, and keep the
//! population figures targets can start from (admins).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ClientIp, Json, Path};
use crate::service::AuditContext;
use crate::service::draws::{DrawCheck, DrawReport, DrawRequest, PopulationShare, TopUpResult};

/// Draws the case's panel from its pool (admins, until the case opens; a new draw
/// replaces an earlier one).
#[utoipa::path(post, path = "/api/v1/cases/{id}/draw", operation_id = "makeDraw", tag = "draws", params(("id" = i64, Path, description = "Case id")), request_body = DrawRequest,
    responses((status = 201, body = DrawReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn make(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(body): Json<DrawRequest>,
) -> Result<Response, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    let report = state
        .service
        .make_draw(Some(&auth.actor), id, body, &ctx)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(report)).into_response())
}

/// The case's draw: targets against what was attained, the maximin chance, the seed and
/// the hash of the inputs.
#[utoipa::path(get, path = "/api/v1/cases/{id}/draw", operation_id = "getDraw", tag = "draws", params(("id" = i64, Path, description = "Case id")),
    responses((status = 403, body = ErrorBody), (status = 200, body = DrawReport), (status = 404, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<DrawReport>, ApiError> {
    Ok(axum::Json(
        state.service.draw_report(Some(&auth.actor), id).await?,
    ))
}

/// Redoes the draw from its stored inputs and says whether it comes out the same.
#[utoipa::path(get, path = "/api/v1/cases/{id}/draw/verify", operation_id = "verifyDraw", tag = "draws", params(("id" = i64, Path, description = "Case id")),
    responses((status = 403, body = ErrorBody), (status = 200, body = DrawCheck), (status = 404, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<DrawCheck>, ApiError> {
    Ok(axum::Json(
        state.service.verify_draw(Some(&auth.actor), id).await?,
    ))
}

/// Which seated panelists count as not responding.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"days": 14})))]
pub struct TopUp {
    /// Seated at least this many days ago and never logged in.
    #[schema(maximum = 365)]
    pub days: u32,
}

/// Replaces seated panelists who did not respond by pool members of the same stratum.
#[utoipa::path(post, path = "/api/v1/cases/{id}/draw/top-up", operation_id = "topUpDraw", tag = "draws", params(("id" = i64, Path, description = "Case id")), request_body = TopUp,
    responses((status = 200, body = TopUpResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn top_up(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(body): Json<TopUp>,
) -> Result<axum::Json<TopUpResult>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .top_up_draw(Some(&auth.actor), id, body.days, &ctx)
            .await?,
    ))
}

/// The case's pool per feature value (shares), to start targets from.
#[utoipa::path(get, path = "/api/v1/cases/{id}/pool", operation_id = "getCasePool", tag = "draws", params(("id" = i64, Path, description = "Case id")),
    responses((status = 403, body = ErrorBody), (status = 200, body = [PopulationShare]), (status = 404, body = ErrorBody)))]
pub async fn pool(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<PopulationShare>>, ApiError> {
    Ok(axum::Json(
        state.service.pool_profile(Some(&auth.actor), id).await?,
    ))
}

/// The municipality's population figures.
#[utoipa::path(get, path = "/api/v1/municipalities/{municipality}/population", operation_id = "getPopulation", tag = "draws", params(("municipality" = String, Path, description = "Municipality slug")),
    responses((status = 403, body = ErrorBody), (status = 200, body = [PopulationShare]), (status = 404, body = ErrorBody)))]
pub async fn population(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(slug): Path<String>,
) -> Result<axum::Json<Vec<PopulationShare>>, ApiError> {
    Ok(axum::Json(
        state.service.population(&auth.actor, &slug).await?,
    ))
}

/// Replaces the population figures of the features given (each feature's shares add up
/// to 1).
#[utoipa::path(put, path = "/api/v1/municipalities/{municipality}/population", operation_id = "setPopulation", tag = "draws", params(("municipality" = String, Path, description = "Municipality slug")), request_body(content = [PopulationShare], example = json!([{"feature": "wmo_experience", "value": "zelf", "share": 0.2}, {"feature": "wmo_experience", "value": "naaste", "share": 0.2}, {"feature": "wmo_experience", "value": "geen", "share": 0.6}])),
    responses((status = 200, body = [PopulationShare]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_population(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Json(body): Json<Vec<PopulationShare>>,
) -> Result<axum::Json<Vec<PopulationShare>>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .set_population(&auth.actor, &slug, body, &ctx)
            .await?,
    ))
}
