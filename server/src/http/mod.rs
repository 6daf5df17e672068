//! The HTTP door: routes, middleware and the JSON API under `/api/v1`. Handlers are thin:
//! they extract, call one service function and answer; every rule lives in
//! [`crate::service`].

pub mod error;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod server;
pub mod ws;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::trace::TraceLayer;

use self::error::ApiError;
pub use self::server::{Server, ServerLimits};
use crate::service::Service;

/// Largest request body accepted (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Settings of the HTTP door.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Origins (`scheme://host[:port]`) allowed to make state-changing requests and open
    /// WebSockets from a browser.
    pub allowed_origins: Vec<String>,
    /// Whether cookies carry `Secure` (when served over TLS).
    pub secure_cookies: bool,
    /// The proxies whose `X-Forwarded-For` is believed (none: the peer is the client).
    pub trusted_proxies: extract::TrustedProxies,
    /// Caps on connections, sockets and topics, and the door's time-outs.
    pub limits: ServerLimits,
    /// Whether answers carry `Strict-Transport-Security` (the public address is https).
    pub hsts: bool,
    /// Bearer token that `/metrics` requires; without one `/metrics` answers 404.
    pub metrics_token: Option<String>,
}

impl HttpSettings {
    /// The address people reach this server at (`BERAAD_PUBLIC_URL`'s origin, the
    /// first allowed origin), printed on letters as the login address.
    pub fn public_url(&self) -> &str {
        self.allowed_origins
            .first()
            .map_or("http://localhost:8080", String::as_str)
    }

    /// Whether a request's `Origin` header (if a browser sent one) is on the allowlist.
    /// Requests without the header come from non-browser clients and pass.
    pub fn origin_allowed(&self, headers: &axum::http::HeaderMap) -> bool {
        headers.get(header::ORIGIN).is_none_or(|origin| {
            origin
                .to_str()
                .is_ok_and(|o| self.allowed_origins.iter().any(|a| a == o))
        })
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The service layer.
    pub service: Arc<Service>,
    /// HTTP settings.
    pub settings: Arc<HttpSettings>,
    /// Live delivery (absent in tools that only serve HTTP).
    pub hub: Option<Arc<crate::realtime::Hub>>,
    /// The Redis bus, when configured (for readiness).
    pub redis: Option<Arc<crate::realtime::redis_bus::RedisBus>>,
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    // Metrics recorded from here on are kept.
    crate::metrics::handle();
    let api = routes::api_routes()
        .fallback(|| async { ApiError::not_found() })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(middleware::map_response(api_envelope));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(routes::health::metrics))
        .merge(pages::routes())
        // Inside routing, where the matched route's template is known.
        .route_layer(middleware::from_fn(record_request))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), origin_guard))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
        }))
        .with_state(state)
}

/// Counts a request by method, route template and status, and times it.
async fn record_request(req: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    // Known methods only: a made-up method must not make a series of its own.
    let method = match *req.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!(crate::metrics::HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(crate::metrics::HTTP_DURATION, "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// Under `/api/v1` every refusal is the JSON error envelope. axum answers a method that
/// a route does not have with an empty `405`; it becomes `405 method_not_allowed`,
/// keeping the `Allow` header axum wrote.
async fn api_envelope(resp: Response) -> Response {
    if resp.status() != StatusCode::METHOD_NOT_ALLOWED
        || resp.headers().contains_key(header::CONTENT_TYPE)
    {
        return resp;
    }
    let allow = resp.headers().get(header::ALLOW).cloned();
    let mut out = ApiError::method_not_allowed().into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

/// Content-Security-Policy of every answer: no inline script, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `Strict-Transport-Security` behind an https public address: a year, this host only
/// (other hosts of the municipality's domain may not serve https).
const HSTS: &str = "max-age=31536000";

/// Adds the security headers to every answer. Answers are `no-store` unless they say
/// otherwise (only the static assets do): nearly every answer is for one session (a
/// thread, a queue, an export, a login's CSRF token), and a shared or back-button cache
/// must not keep any of it.
async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.settings.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// Refuses state-changing requests whose `Origin` header names a site not on the
/// allowlist (a browser always sends it on such requests; other clients may omit it).
async fn origin_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !state.settings.origin_allowed(req.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "Dit verzoek komt van een website die hier niet mag schrijven.",
        )
        .into_response();
    }
    next.run(req).await
}

/// Waits for SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}

/// The router of the metrics listener (`BERAAD_METRICS_ADDR`): `GET /metrics` without a
/// token, nothing else.
pub fn metrics_router(state: AppState) -> Router {
    // The recorder must exist before anything records.
    let _ = crate::metrics::handle();
    Router::new()
        .route("/metrics", get(routes::health::metrics_open))
        .fallback(|| async { ApiError::not_found().into_response() })
        .with_state(state)
}

/// Serves [`metrics_router`] on `listener` until the process ends.
pub fn spawn_metrics_listener(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, metrics_router(state)).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    })
}

/// Measures the database pool's wait once a second until the process ends
/// (`Store::probe_pool_wait`).
pub fn spawn_pool_probe(service: Arc<Service>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            service.store.probe_pool_wait().await;
        }
    })
}

/// Runs housekeeping every `every` until the process ends.
pub fn spawn_housekeeping(service: Arc<Service>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = service.housekeeping().await {
                tracing::warn!(error = %e, "housekeeping failed");
            }
        }
    })
}
