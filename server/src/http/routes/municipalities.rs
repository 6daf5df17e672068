//! `/api/v1/municipalities/{municipality}/contact`: the contact that panelist pages show
//! residents (phone, e-mail, opening hours), read and set by the municipality's admins.

use axum::extract::State;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ClientIp, Json, Path};
use crate::service::AuditContext;
use crate::service::notices::{ContactInput, MunicipalContact};

/// The municipality's contact for residents (admins).
#[utoipa::path(get, path = "/api/v1/municipalities/{municipality}/contact", operation_id = "getContact", tag = "municipalities",
    params(("municipality" = String, Path, description = "Municipality slug")),
    responses((status = 200, body = MunicipalContact), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn contact(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(m): Path<String>,
) -> Result<axum::Json<MunicipalContact>, ApiError> {
    Ok(axum::Json(state.service.contact(&auth.actor, &m).await?))
}

/// Sets the contact every panelist page of the municipality shows (admins); an empty
/// field is cleared.
#[utoipa::path(put, path = "/api/v1/municipalities/{municipality}/contact", operation_id = "setContact", tag = "municipalities",
    params(("municipality" = String, Path, description = "Municipality slug")), request_body = ContactInput,
    responses((status = 200, body = MunicipalContact), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_contact(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(m): Path<String>,
    Json(body): Json<ContactInput>,
) -> Result<axum::Json<MunicipalContact>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .set_contact(&auth.actor, &m, body, &ctx)
            .await?,
    ))
}
