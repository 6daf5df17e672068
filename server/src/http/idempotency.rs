//! `Idempotency-Key` for POST requests under `/api/v1`: the first answer is stored and a
//! retry with the same key (by the same actor, with the same request) gets that answer
//! back, so a post sent twice over a bad connection is stored once. A retry while the
//! first is still running gets `409 idempotency_in_progress`; the same key with another
//! request gets `422 idempotency_key_reused`.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::session_of;
use super::{AppState, MAX_BODY_BYTES};
use crate::domain::secrets::sha256_hex_bytes;
use crate::store::idempotency;

/// Request header naming the idempotency key.
pub const HEADER: &str = "idempotency-key";

/// A claim older than this whose request never finished is taken to be abandoned.
const ABANDONED_AFTER_SECS: i64 = 60;

/// Largest stored answer.
const MAX_STORED_RESPONSE: usize = 256 * 1024;

/// The middleware.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match run(state, req, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(state: AppState, req: Request, next: Next) -> Result<Response, ApiError> {
    let Some(key) = req.headers().get(HEADER).cloned() else {
        return Ok(next.run(req).await);
    };
    if req.method() != Method::POST || req.uri().path().contains("/auth/") {
        return Ok(next.run(req).await);
    }
    let key = key
        .to_str()
        .ok()
        .filter(|k| (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Idempotency-Key bestaat uit 1 tot 128 zichtbare ASCII-tekens.",
            )
        })?;
    let Some(auth) = session_of(req.headers(), &state).await? else {
        // No session: the handler answers 401 and nothing is stored.
        return Ok(next.run(req).await);
    };
    let (mut parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::payload_too_large())?;
    let mut material = Vec::with_capacity(bytes.len() + 64);
    material.extend_from_slice(parts.method.as_str().as_bytes());
    material.push(b' ');
    material.extend_from_slice(parts.uri.path().as_bytes());
    material.push(b'\n');
    material.extend_from_slice(&bytes);
    let fingerprint = sha256_hex_bytes(&material);
    let scope = auth.actor.scope();
    let db = state.service.store.db();
    let now = state.service.now();

    if let Some(existing) = idempotency::claim(db, &scope, &key, &fingerprint, now)
        .await
        .map_err(crate::service::Error::from)?
    {
        if existing.fingerprint != fingerprint {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Deze Idempotency-Key is al gebruikt voor een ander verzoek.",
            ));
        }
        match (existing.status, existing.response.clone()) {
            (Some(status), Some(body)) => return Ok(replay(status, body)),
            _ => {
                let abandoned = (now - existing.created_at).num_seconds() > ABANDONED_AFTER_SECS;
                let reclaimed = abandoned
                    && idempotency::reclaim(db, &existing, now)
                        .await
                        .map_err(crate::service::Error::from)?;
                if !reclaimed {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "idempotency_in_progress",
                        "Een eerder verzoek met deze Idempotency-Key is nog bezig.",
                    ));
                }
            }
        }
    }

    parts.extensions.insert(auth);
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if status.is_server_error() {
        if let Err(e) = idempotency::release(db, &scope, &key).await {
            tracing::warn!(error = %e, "could not release idempotency claim");
        }
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_STORED_RESPONSE)
        .await
        .map_err(|e| crate::service::Error::Internal(format!("response body: {e}")))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    idempotency::complete(db, &scope, &key, status.as_u16(), &text)
        .await
        .map_err(crate::service::Error::from)?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn replay(status: i32, body: String) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut resp = (status, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}
