//! `/api/v1/cases`: list, read, write, schedule, open and close cases (and move an open case's closing time); read a case's
//! event log; export its thread.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ClientIp, Json, Path, Query};
use crate::service::AuditContext;
use crate::service::analysis::{CaseAnalysis, CaseOutcome};
use crate::service::cases::{
    CaseChanges, CaseSummary, CaseView, Closing, EventPage, NewCase, OpenCase, Schedule,
};
use crate::service::export::ExportFormat;

/// Filter for the case list.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only cases of this municipality (staff).
    #[param(example = "utrecht")]
    pub municipality: Option<String>,
}

/// Lists the cases the actor may see.
#[utoipa::path(get, path = "/api/v1/cases", operation_id = "listCases", tag = "cases", params(ListQuery),
    responses((status = 200, body = [CaseSummary]), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<CaseSummary>>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .list_cases(&auth.actor, q.municipality.as_deref())
            .await?,
    ))
}

/// Creates a case as a draft (admins).
#[utoipa::path(post, path = "/api/v1/cases", operation_id = "createCase", tag = "cases", request_body = NewCase,
    responses((status = 201, body = CaseView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Json(body): Json<NewCase>,
) -> Result<Response, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    let view = state.service.create_case(&auth.actor, body, &ctx).await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// Reads a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}", operation_id = "getCase", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1)),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<CaseView>, ApiError> {
    Ok(axum::Json(state.service.get_case(&auth.actor, id).await?))
}

/// Changes a case (admins). Before it opens everything can change; after that only the
/// text, as an erratum with a reason (`erratum`), and the municipality's response. A
/// changed text with findings of personal data needs `confirm_findings` once the case is
/// scheduled (`422 case_personal_data`, with `fields`).
#[utoipa::path(patch, path = "/api/v1/cases/{id}", operation_id = "updateCase", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1)), request_body = CaseChanges,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(body): Json<CaseChanges>,
) -> Result<axum::Json<CaseView>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .update_case(&auth.actor, id, body, &ctx)
            .await?,
    ))
}

/// Schedules a case to open (admins). With findings of personal data in its text,
/// only with `confirm_findings` (`422 case_personal_data`, with `fields`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/schedule", operation_id = "scheduleCase", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1)), request_body = Schedule,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn schedule(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(body): Json<Schedule>,
) -> Result<axum::Json<CaseView>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .schedule_case(&auth.actor, id, body, &ctx)
            .await?,
    ))
}

/// Opens a case now (admins). The body may be left out; with findings of personal data
/// in the case's text it must hold `{"confirm_findings": true}` (else `422
/// case_personal_data`, with `fields`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/open", operation_id = "openCase", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1)), request_body(content = OpenCase, description = "Optional"),
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    OptionalJson(body): OptionalJson<OpenCase>,
) -> Result<axum::Json<CaseView>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .open_case(&auth.actor, id, body.unwrap_or_default(), &ctx)
            .await?,
    ))
}

/// A JSON body that may be left out: `None` for an empty body, else read like [`Json`]
/// (same content-type rule, control-character check and errors).
pub struct OptionalJson<T>(pub Option<T>);

impl<T, S> axum::extract::FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024)
            .await
            .map_err(|_| ApiError::payload_too_large())?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(OptionalJson(Some(value)))
    }
}

/// Closes a case now (admins).
#[utoipa::path(post, path = "/api/v1/cases/{id}/close", operation_id = "closeCase", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1)),
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<axum::Json<CaseView>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state.service.close_case(&auth.actor, id, &ctx).await?,
    ))
}

/// Moves the closing time of an open case (admins); `null` keeps it open until it is
/// closed by hand.
#[utoipa::path(put, path = "/api/v1/cases/{id}/closing", operation_id = "moveCaseClosing", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1)), request_body = Closing,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_closing(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Json(body): Json<Closing>,
) -> Result<axum::Json<CaseView>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state
            .service
            .move_closing(&auth.actor, id, body, &ctx)
            .await?,
    ))
}

/// Position in the event log.
#[derive(Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Return events after this sequence number (default 0).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// Reads a case's event log after a sequence number.
#[utoipa::path(get, path = "/api/v1/cases/{id}/events", operation_id = "listCaseEvents", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1), EventsQuery),
    responses((status = 200, body = EventPage), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
    Query(q): Query<EventsQuery>,
) -> Result<axum::Json<EventPage>, ApiError> {
    Ok(axum::Json(
        state
            .service
            .events_after(
                &auth.actor,
                id,
                q.after.unwrap_or(0),
                super::page_size(q.limit, 100, 1000)?,
            )
            .await?,
    ))
}

/// Export format.
#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `jsonl` (default) or `csv`.
    #[param(value_type = Option<ExportFormat>)]
    pub format: Option<String>,
}

/// Exports a case's thread (analysts and admins); audited.
#[utoipa::path(get, path = "/api/v1/cases/{id}/export", operation_id = "exportCase", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1), ExportQuery),
    responses(
        (status = 200, description = "The case and its posts with pseudonymous author ids: JSON Lines (first the case, then every post) or CSV (one row per post)",
            content((String = "application/jsonl"), (String = "text/csv")),
            headers(("Content-Disposition" = String, description = "attachment; filename=\"casus-ID.jsonl\" (or .csv)"))),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = export_format(&q)?;
    let ctx = AuditContext::new(&auth.actor, ip);
    let mut out: Vec<u8> = Vec::new();
    state
        .service
        .export_case(Some(&auth.actor), id, format, &ctx, &mut out)
        .await?;
    Ok((export_headers(id, format), out).into_response())
}

/// Checks an export: the same status and headers as `GET` would give.
///
/// Nothing is exported or audited.
#[utoipa::path(head, path = "/api/v1/cases/{id}/export", operation_id = "checkCaseExport", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1), ExportQuery),
    responses(
        (status = 200, description = "The export would be given",
            headers(("Content-Type" = String, description = "application/jsonl or text/csv"), ("Content-Disposition" = String, description = "attachment; filename=\"casus-ID.jsonl\" (or .csv)"))),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_head(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = export_format(&q)?;
    state.service.check_case_export(&auth.actor, id).await?;
    Ok(export_headers(id, format).into_response())
}

fn export_format(q: &ExportQuery) -> Result<ExportFormat, ApiError> {
    ExportFormat::parse(q.format.as_deref().unwrap_or("jsonl")).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_format",
            "Kies als formaat jsonl of csv.",
        )
    })
}

fn export_headers(id: i64, format: ExportFormat) -> [(header::HeaderName, String); 2] {
    let (ctype, ext) = match format {
        ExportFormat::JsonLines => ("application/jsonl; charset=utf-8", "jsonl"),
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    [
        (header::CONTENT_TYPE, ctype.to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"casus-{id}.{ext}\""),
        ),
    ]
}

/// The analysis of a case: participation, verdict split with 95% Wilson intervals, split
/// by consented profile with small groups suppressed, activity, arguments ranked by
/// weighing, frequent terms and opinion groups (analysts and admins).
#[utoipa::path(get, path = "/api/v1/cases/{id}/analysis", operation_id = "getCaseAnalysis", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1)),
    responses((status = 200, body = CaseAnalysis), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn analysis(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<CaseAnalysis>, ApiError> {
    Ok(axum::Json(
        state.service.case_analysis(&auth.actor, id).await?,
    ))
}

/// The panel's outcome after the case closed: verdict split, best-weighed arguments and
/// the municipality's response (everyone who may see the case).
#[utoipa::path(get, path = "/api/v1/cases/{id}/outcome", operation_id = "getCaseOutcome", tag = "cases", params(("id" = i64, Path, description = "Case id", example = 1)),
    responses((status = 200, body = CaseOutcome), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn outcome(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<i64>,
) -> Result<axum::Json<CaseOutcome>, ApiError> {
    Ok(axum::Json(
        state.service.case_outcome(&auth.actor, id).await?,
    ))
}
