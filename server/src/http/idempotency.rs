//! `Idempotency-Key` for POST requests under `/api/v1`: the first answer is stored and a
//! retry with the same key (by the same actor, with the same request: method, path,
//! query and body) gets that answer back with its headers, so a post sent twice over a
//! bad connection is stored once. A retry while the first is still running gets
//! `409 idempotency_in_progress` with `Retry-After`; the same key with another request
//! gets `422 idempotency_key_reused`.
//!
//! A running request holds a short lease on its key and renews it while it runs; if the
//! request is dropped (the client went away, a time-out) the claim is released at once,
//! and if the node dies the lease runs out within [`LEASE`], after which a retry takes
//! the key over. Transient answers (401, 403, 408, 429 and 5xx) are never kept: a retry
//! after them runs again.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::session_of;
use super::{AppState, MAX_BODY_BYTES};
use crate::domain::secrets::sha256_hex_bytes;
use crate::service::Service;
use crate::store::idempotency::{self, Claim};

/// Request header naming the idempotency key.
pub const HEADER: &str = "idempotency-key";

/// Response header marking a stored answer given again.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// How long a claim holds without being renewed: a claim left by a node that died is
/// taken over by a retry after at most this long.
pub const LEASE: Duration = Duration::from_secs(5);

/// How often a running request renews its claim (well within [`LEASE`], so a slow
/// database write or two does not lose it).
const RENEW_EVERY: Duration = Duration::from_millis(1500);

/// What a 409 in progress tells the client to wait, in seconds: a live request usually
/// finishes well within it.
const RETRY_AFTER_SECS: u64 = 1;

/// Largest stored answer.
const MAX_STORED_RESPONSE: usize = 256 * 1024;

/// Response headers never stored with an answer: they describe one connection or one
/// moment (or, like `Set-Cookie`, carry a secret).
const NOT_REPLAYED: [HeaderName; 6] = [
    header::CONNECTION,
    header::CONTENT_LENGTH,
    header::DATE,
    header::SET_COOKIE,
    header::TRANSFER_ENCODING,
    header::HeaderName::from_static(REPLAYED_HEADER),
];

/// Marks an answer that holds secrets shown once (the codes of a new batch of
/// invitations): it is never stored. A retry with the same key gets `410
/// answer_not_kept` instead of a second batch, so a lost answer is noticed and its
/// codes can be revoked, while no code ever rests in `idempotency_keys`.
#[derive(Clone, Copy, Debug)]
pub struct OneTimeAnswer;
/// Whether a request by `method` to `path` (under `/api/v1` or with the prefix) takes
/// an `Idempotency-Key`: every POST but the logins, which make a new session each time,
/// and the signed links of a message, which need no session and change nothing twice.
/// The API description declares the header by the same rule.
pub fn honours(method: &Method, path: &str) -> bool {
    method == Method::POST && !path.contains("/auth/") && !path.contains("/notifications/")
}

/// `400 invalid_idempotency_key`.
pub fn invalid_key() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_idempotency_key",
        "Idempotency-Key bestaat uit 1 tot 128 zichtbare ASCII-tekens.",
    )
}

/// `422 idempotency_key_reused`.
pub fn key_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "Deze Idempotency-Key is al gebruikt voor een ander verzoek.",
    )
}

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
    if !honours(req.method(), req.uri().path()) {
        return Ok(next.run(req).await);
    }
    let key = key
        .to_str()
        .ok()
        .filter(|k| (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .ok_or_else(invalid_key)?;
    let Some(auth) = session_of(req.headers(), &state).await? else {
        // No session: the handler answers 401 and nothing is stored.
        return Ok(next.run(req).await);
    };
    let (mut parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::payload_too_large())?;
    let fingerprint = fingerprint(&parts.method, &parts.uri, &bytes);
    let scope = auth.actor.scope();
    let service = state.service.clone();
    let db = service.store.db();

    // At most two rounds: the second follows the removal of a claim whose lease ran out.
    let mut id = None;
    for _ in 0..2 {
        let now = service.now();
        let lease_until = now + lease();
        match idempotency::claim(db, &scope, &key, &fingerprint, now, lease_until)
            .await
            .map_err(crate::service::Error::from)?
        {
            Claim::New(claimed) => {
                id = Some(claimed);
                break;
            }
            Claim::Released => continue,
            Claim::Existing(existing) => {
                if existing.fingerprint != fingerprint {
                    return Err(key_reused());
                }
                if let (Some(status), Some(body)) = (existing.status, existing.response.clone()) {
                    return Ok(replay(status, existing.headers.as_deref(), body));
                }
                let lease_end = existing
                    .lease_until
                    .unwrap_or(existing.created_at + lease());
                let expired = now >= lease_end
                    && idempotency::drop_expired(db, &existing)
                        .await
                        .map_err(crate::service::Error::from)?;
                if !expired {
                    return Err(in_progress());
                }
                tracing::info!(
                    idempotency.record = existing.id,
                    "taking over the claim of a request that stopped"
                );
            }
        }
    }
    let Some(id) = id else {
        return Err(in_progress());
    };
    let claim = ClaimGuard::hold(service.clone(), id);

    parts.extensions.insert(auth);
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if is_transient(status) {
        claim.release().await;
        return Ok(response);
    }
    if response.extensions().get::<OneTimeAnswer>().is_some() {
        let kept = ApiError::new(
            StatusCode::GONE,
            "answer_not_kept",
            "Het eerste antwoord op dit verzoek hield codes die Beraad niet bewaart. Trek de \
             uitnodigingen in als dat antwoord verloren ging, en maak nieuwe.",
        )
        .into_response();
        let (kept_parts, kept_body) = kept.into_parts();
        let kept_bytes = to_bytes(kept_body, MAX_STORED_RESPONSE)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&kept_bytes).into_owned();
        let headers = stored_headers(&kept_parts.headers);
        match idempotency::complete(db, id, StatusCode::GONE.as_u16(), &headers, &text).await {
            Ok(_) => claim.keep(),
            Err(e) => tracing::warn!(error = %e, "could not store the idempotent answer"),
        }
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_STORED_RESPONSE).await {
        Ok(b) => b,
        Err(e) => {
            // The claim is released when `claim` drops; a retry runs again.
            return Err(crate::service::Error::Internal(format!("response body: {e}")).into());
        }
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let headers = stored_headers(&parts.headers);
    match idempotency::complete(db, id, status.as_u16(), &headers, &text).await {
        Ok(_) => claim.keep(),
        // The answer stands (the change is made); only a retry may run again, which
        // the unique key on posts makes harmless for the one write that matters most.
        Err(e) => tracing::warn!(error = %e, "could not store the idempotent answer"),
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn lease() -> chrono::Duration {
    chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::seconds(5))
}

/// Answers that say "not now" rather than "this is the result": a retry must run again.
fn is_transient(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::UNAUTHORIZED
            | StatusCode::FORBIDDEN
            | StatusCode::REQUEST_TIMEOUT
            | StatusCode::TOO_MANY_REQUESTS
    ) || status.is_server_error()
}

/// `409 idempotency_in_progress` with `Retry-After`.
pub fn in_progress() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_in_progress",
        "Een eerder verzoek met deze Idempotency-Key is nog bezig.",
    )
    .with_retry_after(RETRY_AFTER_SECS)
}

/// A claim held by the running request: renewed in the background, released if the
/// request ends without an answer to keep (also when its future is dropped).
struct ClaimGuard {
    service: Arc<Service>,
    id: i64,
    renewal: tokio::task::JoinHandle<()>,
    settled: bool,
}

impl ClaimGuard {
    fn hold(service: Arc<Service>, id: i64) -> ClaimGuard {
        let renewing = service.clone();
        let renewal = tokio::spawn(async move {
            let mut tick = tokio::time::interval(RENEW_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let until = renewing.now() + lease();
                match idempotency::renew(renewing.store.db(), id, until).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => tracing::warn!(error = %e, "could not renew an idempotency claim"),
                }
            }
        });
        ClaimGuard {
            service,
            id,
            renewal,
            settled: false,
        }
    }

    /// The answer is stored: nothing left to do.
    fn keep(mut self) {
        self.settled = true;
    }

    /// Forgets the claim now, so a retry runs again.
    async fn release(mut self) {
        self.settled = true;
        self.renewal.abort();
        if let Err(e) = idempotency::release(self.service.store.db(), self.id).await {
            tracing::warn!(error = %e, "could not release an idempotency claim");
        }
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        self.renewal.abort();
        if self.settled {
            return;
        }
        // The request was dropped mid-way, or its answer could not be read: free the key
        // for a retry rather than make it wait for the lease.
        let (service, id) = (self.service.clone(), self.id);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = idempotency::release(service.store.db(), id).await {
                    tracing::warn!(error = %e, "could not release an idempotency claim");
                }
            });
        }
    }
}

/// What identifies a request under one key: method, path with query, and body.
pub fn fingerprint(method: &Method, uri: &Uri, body: &[u8]) -> String {
    let target = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let mut material = Vec::with_capacity(body.len() + target.len() + 16);
    material.extend_from_slice(method.as_str().as_bytes());
    material.push(b' ');
    material.extend_from_slice(target.as_bytes());
    material.push(b'\n');
    material.extend_from_slice(body);
    sha256_hex_bytes(&material)
}

/// The headers of an answer worth giving again, as a JSON list of `[name, value]`.
fn stored_headers(headers: &HeaderMap) -> String {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(name, _)| !NOT_REPLAYED.contains(name))
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

/// A stored answer given again, with its stored headers and `Idempotent-Replayed: true`.
fn replay(status: i32, headers: Option<&str>, body: String) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut resp = (status, body).into_response();
    let out = resp.headers_mut();
    // Answers stored before headers were kept were all JSON.
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let pairs: Vec<(String, String)> = headers
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default();
    let mut replaced = Vec::new();
    for (name, value) in pairs {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) else {
            continue;
        };
        if NOT_REPLAYED.contains(&name) {
            continue;
        }
        // The first stored value of a name replaces what `into_response` set; further
        // values of the same name are appended.
        if replaced.contains(&name) {
            out.append(name, value);
        } else {
            out.insert(name.clone(), value);
            replaced.push(name);
        }
    }
    out.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_keep_the_headers_of_the_answer_and_drop_the_rest() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
        h.insert(
            header::LOCATION,
            HeaderValue::from_static("/api/v1/posts/7"),
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        h.append("x-note", HeaderValue::from_static("een"));
        h.append("x-note", HeaderValue::from_static("twee"));
        h.insert(header::SET_COOKIE, HeaderValue::from_static("s=geheim"));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        let stored = stored_headers(&h);
        assert!(!stored.contains("geheim"), "{stored}");
        let resp = replay(201, Some(&stored), "{}".into());
        assert_eq!(resp.status(), StatusCode::CREATED);
        let got = resp.headers();
        assert_eq!(got[header::CONTENT_TYPE], "text/csv");
        assert_eq!(got[header::LOCATION], "/api/v1/posts/7");
        assert_eq!(got[header::RETRY_AFTER], "30");
        let notes: Vec<_> = got.get_all("x-note").iter().collect();
        assert_eq!(notes, ["een", "twee"]);
        assert!(got.get(header::SET_COOKIE).is_none());
        assert_eq!(got[REPLAYED_HEADER], "true");
    }

    #[test]
    fn answers_stored_before_headers_were_kept_replay_as_json() {
        let resp = replay(422, None, "{}".into());
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn the_query_string_is_part_of_the_fingerprint() {
        let a: Uri = "/api/v1/cases/1/posts?x=1".parse().unwrap();
        let b: Uri = "/api/v1/cases/1/posts?x=2".parse().unwrap();
        let c: Uri = "/api/v1/cases/1/posts".parse().unwrap();
        let f = |u: &Uri| fingerprint(&Method::POST, u, b"{}");
        assert_ne!(f(&a), f(&b));
        assert_ne!(f(&a), f(&c));
        assert_eq!(f(&a), f(&a.clone()));
    }

    #[test]
    fn transient_answers_are_the_listed_ones() {
        for s in [401, 403, 408, 429, 500, 502, 503, 504] {
            assert!(is_transient(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [200, 201, 204, 400, 404, 409, 413, 422] {
            assert!(!is_transient(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }
}
