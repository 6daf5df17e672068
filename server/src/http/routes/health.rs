//! Liveness, readiness and metrics.

use std::sync::atomic::Ordering::Relaxed;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::server::OpenConnection;

/// The answer of `/healthz`.
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({"status": "ok"})))]
pub struct Liveness {
    /// Always `ok`.
    pub status: &'static str,
}

/// The answer of `/readyz`.
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({"status": "ok", "database": "ok", "bus": "in-process"})))]
pub struct Readiness {
    /// `ok`, `degraded` (ready, but Redis is away: other nodes' events arrive by the
    /// once-a-second sweep), `unavailable` (not ready) or `draining` (not ready: the node
    /// is shutting down after SIGTERM; see docs/protocol.md).
    pub status: &'static str,
    /// `ok`, `unreachable` (no answer within the budget) or `not_writable` (a write
    /// failed for want of a writable database in the last seconds).
    pub database: &'static str,
    /// `in-process` (one node, no Redis), `ok` or `degraded` (Redis unreachable).
    pub bus: &'static str,
}

/// Alive: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "getLiveness",
    responses((status = 200, description = "The process answers", body = Liveness)))]
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, axum::Json(Liveness { status: "ok" }))
}

/// How long readiness waits for the database before it counts as unreachable.
const READY_BUDGET: std::time::Duration = std::time::Duration::from_millis(800);
/// After a write failed for want of a writable database, the node reports not ready for
/// this long (unless a write commits sooner), then offers itself again.
const WRITE_FAILURE_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

/// Ready: this node can serve its own clients now.
///
/// The database must answer within the
/// budget and must not have refused a write just now (a full disk, a read-only server).
/// Redis is reported but does not decide readiness: without it every node still serves
/// its own clients, and the sweep of log heads delivers across nodes within a second;
/// failing readiness on Redis would make a balancer drain every node at once. Answers
/// within a second whatever the database does. From SIGTERM on the node is `draining`
/// and not ready, so that balancers send new clients elsewhere.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "getReadiness",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready: the database does not answer or cannot write, or the node is shutting down", body = Readiness),
    ))]
pub async fn readyz(
    State(state): State<AppState>,
    connection: Option<Extension<OpenConnection>>,
) -> impl IntoResponse {
    let draining = connection.is_some_and(|Extension(c)| c.door().is_draining());
    let store = &state.service.store;
    let database = match tokio::time::timeout(READY_BUDGET, store.ping()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            "unreachable"
        }
        Err(_) => {
            tracing::warn!("readiness: database did not answer in time");
            "unreachable"
        }
    };
    let database = if database == "ok" && store.write_failing(WRITE_FAILURE_WINDOW) {
        "not_writable"
    } else {
        database
    };
    let bus = match &state.redis {
        None => "in-process",
        Some(r) if r.is_connected() => "ok",
        Some(_) => "degraded",
    };
    let ready = database == "ok" && !draining;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let overall = if draining {
        "draining"
    } else if !ready {
        "unavailable"
    } else if bus == "degraded" {
        "degraded"
    } else {
        "ok"
    };
    (
        status,
        axum::Json(Readiness {
            status: overall,
            database,
            bus,
        }),
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

/// The metrics at `BERAAD_METRICS_ADDR`, a listener of their own on an address only the
/// monitoring reaches: no token.
pub async fn metrics_open(State(state): State<AppState>) -> Response {
    exposition(&state).await
}

/// Prometheus metrics of this node, for the holder of `BERAAD_METRICS_TOKEN`.
///
/// Send it as `Authorization: Bearer …`. Without a configured token there is nothing
/// here (404): counts of connections and rooms tell an outsider how busy a discussion is.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "getMetrics",
    responses(
        (status = 200, description = "Prometheus text exposition format", content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, description = "No or a wrong token"),
        (status = 404, description = "No metrics token configured"),
    ))]
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
    exposition(&state).await
}

/// The Prometheus text of this node, with the gauges read now: the live layer's counts,
/// the database pool, and the moderation queues (read from the database within the
/// readiness budget: a database that does not answer leaves the last values standing
/// rather than hang the scrape). Served at `/metrics` behind the token, and at
/// `BERAAD_METRICS_ADDR` without one.
pub async fn exposition(state: &AppState) -> Response {
    if let Some(hub) = &state.hub {
        use crate::metrics::{DELIVERIES, EVENTS, RESYNCS, ROOMS, WS_CONNECTIONS};
        let s = &hub.stats;
        metrics::gauge!(WS_CONNECTIONS).set(s.connections.load(Relaxed) as f64);
        metrics::gauge!(ROOMS).set(hub.room_count() as f64);
        metrics::counter!(EVENTS).absolute(s.events.load(Relaxed));
        metrics::counter!(DELIVERIES).absolute(s.deliveries.load(Relaxed));
        metrics::counter!(RESYNCS).absolute(s.resyncs.load(Relaxed));
    }
    let (in_use, idle, max) = state.service.store.pool_state();
    metrics::gauge!(crate::metrics::DB_POOL_CONNECTIONS, "state" => "in_use")
        .set(f64::from(in_use));
    metrics::gauge!(crate::metrics::DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    metrics::gauge!(crate::metrics::DB_POOL_MAX).set(f64::from(max));
    let held = tokio::time::timeout(READY_BUDGET, state.service.held_posts_total()).await;
    if let Ok(Ok(n)) = held {
        metrics::gauge!(crate::metrics::POSTS_HELD).set(n as f64);
    }
    let queues = tokio::time::timeout(READY_BUDGET, state.service.queue_sizes()).await;
    if let Ok(Ok(queues)) = queues {
        use crate::metrics::MODERATION_QUEUE;
        for (slug, held, flagged) in queues {
            metrics::gauge!(MODERATION_QUEUE, "municipality" => slug.clone(), "queue" => "held")
                .set(held as f64);
            metrics::gauge!(MODERATION_QUEUE, "municipality" => slug, "queue" => "flagged")
                .set(flagged as f64);
        }
    }
    let out = crate::metrics::render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
