//! Liveness, readiness and metrics.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::http::AppState;
use crate::http::error::ApiError;

/// Alive: the process answers.
pub async fn healthz() -> impl IntoResponse {
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({"status": "ok"})),
    )
}

/// Ready: the database answers and, when configured, the Redis bus is connected.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = match state.service.store.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            false
        }
    };
    let bus = state.redis.as_ref().is_none_or(|r| r.is_connected());
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let status = if database && bus {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(serde_json::json!({
            "status": if database && bus { "ok" } else { "unavailable" },
            "database": word(database),
            "bus": if state.redis.is_some() { word(bus) } else { "in-process" },
        })),
    )
}

/// Whether `headers` carry `Authorization: Bearer <token>` (compared in constant time).
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|sent| bool::from(sent.trim().as_bytes().ct_eq(token.as_bytes())))
}

/// Prometheus metrics of this node, for the holder of `BERAAD_METRICS_TOKEN`
/// (`Authorization: Bearer …`). Without a configured token there is nothing here (404):
/// counts of connections and rooms tell an outsider how busy a discussion is.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.settings.metrics_token.as_deref() else {
        return ApiError::not_found().into_response();
    };
    if !bearer_matches(&headers, token) {
        let mut resp = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "metrics_token_required",
            "Stuur het metrics-token als Authorization: Bearer.",
        )
        .into_response();
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return resp;
    }
    let mut out = String::new();
    if let Some(hub) = &state.hub {
        let s = &hub.stats;
        let rows: [(&str, &str, &str, i64); 5] = [
            (
                "beraad_ws_connections",
                "gauge",
                "Open WebSocket connections.",
                s.connections.load(Relaxed),
            ),
            (
                "beraad_rooms",
                "gauge",
                "Cases followed live on this node.",
                hub.room_count() as i64,
            ),
            (
                "beraad_events_total",
                "counter",
                "Case events fanned out.",
                s.events.load(Relaxed) as i64,
            ),
            (
                "beraad_deliveries_total",
                "counter",
                "Frames queued to connections.",
                s.deliveries.load(Relaxed) as i64,
            ),
            (
                "beraad_resyncs_total",
                "counter",
                "Connections told to resync for falling behind.",
                s.resyncs.load(Relaxed) as i64,
            ),
        ];
        for (name, kind, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
