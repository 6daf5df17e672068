//! `/api/v1` invitations: batches of letters for a panel (answered once with their codes
//! as JSON, a PDF of letters or a CSV for the mail merge), invitations by number with
//! revoking and replacing, the municipality's letter text, and the response figures.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ClientIp, Json, Path};
use crate::http::idempotency::OneTimeAnswer;
use crate::service::AuditContext;
use crate::service::export::{Separator, write_invitations_csv};
use crate::service::invitations::{
    BatchDetail, InvitationView, IssuedBatch, LetterSettings, ResponseOverview,
};

/// In what form the codes of new letters come, once.
#[derive(Clone, Copy, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LettersFormat {
    /// The batch with its codes as JSON.
    #[default]
    Json,
    /// The letters to print: one A4 page per invitee.
    Pdf,
    /// The sheet for the mail merge (UTF-8 with BOM).
    Csv,
}

impl crate::domain::ClosedSet for LettersFormat {
    fn all() -> &'static [Self] {
        &[LettersFormat::Json, LettersFormat::Pdf, LettersFormat::Csv]
    }
}

/// New letters for a panel.
#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"count": 3, "format": "json"})))]
#[serde(deny_unknown_fields)]
pub struct NewBatchInput {
    /// How many (1–2000).
    pub count: u32,
    /// `json` (default), `pdf` or `csv`.
    #[serde(default)]
    pub format: LettersFormat,
    /// For `csv`: `semicolon` (default) or `comma`.
    #[serde(default)]
    pub separator: Separator,
}

/// The form of a replacement letter.
#[derive(Deserialize, ToSchema, Default)]
#[schema(examples(json!({"format": "json"})))]
#[serde(deny_unknown_fields)]
pub struct ReplaceInput {
    /// `json` (default), `pdf` or `csv`.
    #[serde(default)]
    pub format: LettersFormat,
    /// For `csv`: `semicolon` (default) or `comma`.
    #[serde(default)]
    pub separator: Separator,
}

/// A new letter text.
#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"text": "Beste inwoner,\n\nDe gemeente {gemeente} nodigt u uit voor het bewonerspanel."})))]
#[serde(deny_unknown_fields)]
pub struct LetterInput {
    /// The text above the code; empty for the default. `{gemeente}` and `{panel}` are
    /// filled in.
    pub text: String,
}

/// The batch in the chosen form, marked so that it is never stored for a retry.
fn issued(state: &AppState, batch: IssuedBatch, format: LettersFormat, sep: Separator) -> Response {
    let public_url = state.settings.public_url();
    let name = format!("brieven-{}", batch.number);
    let mut response = match format {
        LettersFormat::Json => (StatusCode::CREATED, axum::Json(&batch)).into_response(),
        LettersFormat::Pdf => (
            StatusCode::CREATED,
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename={name}.pdf"),
                ),
            ],
            crate::web::letters::batch_pdf(&batch, public_url),
        )
            .into_response(),
        LettersFormat::Csv => {
            match write_invitations_csv(&batch.invitations, public_url, sep, Vec::new()) {
                Ok(body) => (
                    StatusCode::CREATED,
                    [
                        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                        (
                            header::CONTENT_DISPOSITION,
                            format!("attachment; filename={name}.csv"),
                        ),
                    ],
                    body,
                )
                    .into_response(),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response.extensions_mut().insert(OneTimeAnswer);
    response
}

/// Makes a batch of letters for a panel (admins of its municipality). The codes are in
/// this answer only: as JSON, as the PDF of letters or as the mail-merge CSV.
#[utoipa::path(post, path = "/api/v1/panels/{slug}/invitation-batches", operation_id = "createInvitationBatch", tag = "invitations",
    params(("slug" = String, Path, description = "Panel slug")), request_body = NewBatchInput,
    responses((status = 201, description = "The batch with its codes, once: JSON, or the letters (PDF) or the sheet (CSV) when asked",
            content((IssuedBatch = "application/json"), (Vec<u8> = "application/pdf"), (String = "text/csv"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_batch(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Json(body): Json<NewBatchInput>,
) -> Result<Response, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    let batch = state
        .service
        .create_invitation_batch(&auth.actor, &slug, body.count, &ctx)
        .await?;
    Ok(issued(&state, batch, body.format, body.separator))
}

/// A batch with its invitations' numbers and states, never their codes (admins).
#[utoipa::path(get, path = "/api/v1/invitation-batches/{id}", operation_id = "getInvitationBatch", tag = "invitations",
    params(("id" = i64, Path, description = "Batch id")),
    responses((status = 200, body = BatchDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn batch(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<BatchDetail>, ApiError> {
    Ok(axum::Json(
        state.service.invitation_batch(&auth.actor, id).await?,
    ))
}

/// The response per panel and per batch, small numbers suppressed (analysts and
/// admins).
#[utoipa::path(get, path = "/api/v1/municipalities/{municipality}/response", operation_id = "getResponseFigures", tag = "invitations",
    params(("municipality" = String, Path, description = "Municipality slug")),
    responses((status = 200, body = ResponseOverview), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn response(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(m): Path<String>,
) -> Result<axum::Json<ResponseOverview>, ApiError> {
    Ok(axum::Json(
        state.service.response_overview(&auth.actor, &m).await?,
    ))
}

/// An invitation by its number (admins).
#[utoipa::path(get, path = "/api/v1/municipalities/{municipality}/invitations/{number}", operation_id = "getInvitation", tag = "invitations",
    params(("municipality" = String, Path, description = "Municipality slug"),
        ("number" = String, Path, description = "Invitation number, e.g. 2026-003-0142")),
    responses((status = 200, body = InvitationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn invitation(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path((m, number)): Path<(String, String)>,
) -> Result<axum::Json<InvitationView>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .invitation_by_number(&auth.actor, &m, &number)
            .await?,
    ))
}

/// Revokes an invitation: its code logs nobody in and the panelist's sessions end
/// (admins).
#[utoipa::path(post, path = "/api/v1/municipalities/{municipality}/invitations/{number}/revoke", operation_id = "revokeInvitation", tag = "invitations",
    params(("municipality" = String, Path, description = "Municipality slug"),
        ("number" = String, Path, description = "Invitation number")),
    responses((status = 200, body = InvitationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path((m, number)): Path<(String, String)>,
) -> Result<axum::Json<InvitationView>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .revoke_invitation(&auth.actor, &m, &number, &ctx)
            .await?,
    ))
}

/// Gives the panelist of an invitation a new code in a batch of one: the old code stops
/// working, posts and profile stay (admins). The new code is in this answer only.
#[utoipa::path(post, path = "/api/v1/municipalities/{municipality}/invitations/{number}/replace", operation_id = "replaceInvitation", tag = "invitations",
    params(("municipality" = String, Path, description = "Municipality slug"),
        ("number" = String, Path, description = "Invitation number")),
    request_body = ReplaceInput,
    responses((status = 201, description = "The batch with its codes, once: JSON, or the letters (PDF) or the sheet (CSV) when asked",
            content((IssuedBatch = "application/json"), (Vec<u8> = "application/pdf"), (String = "text/csv"))), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path((m, number)): Path<(String, String)>,
    Json(body): Json<ReplaceInput>,
) -> Result<Response, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    let batch = state
        .service
        .replace_invitation(&auth.actor, &m, &number, &ctx)
        .await?;
    Ok(issued(&state, batch, body.format, body.separator))
}

/// The municipality's letter text (admins); `null` while the default is used.
#[utoipa::path(get, path = "/api/v1/municipalities/{municipality}/letter", operation_id = "getLetterText", tag = "invitations",
    params(("municipality" = String, Path, description = "Municipality slug")),
    responses((status = 200, body = LetterSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn letter(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(m): Path<String>,
) -> Result<axum::Json<LetterSettings>, ApiError> {
    Ok(axum::Json(
        state.service.letter_settings(&auth.actor, &m).await?,
    ))
}

/// Sets the letter text (admins); empty for the default.
#[utoipa::path(put, path = "/api/v1/municipalities/{municipality}/letter", operation_id = "setLetterText", tag = "invitations",
    params(("municipality" = String, Path, description = "Municipality slug")), request_body = LetterInput,
    responses((status = 200, body = LetterSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_letter(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(m): Path<String>,
    Json(body): Json<LetterInput>,
) -> Result<axum::Json<LetterSettings>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .set_letter_text(&auth.actor, &m, &body.text, &ctx)
            .await?,
    ))
}
