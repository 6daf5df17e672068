//! Request extractors: JSON bodies whose rejections speak our error format, the
//! authenticated actor (session cookie, with the CSRF check on state-changing requests),
//! and the client's address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::service::Error;
use crate::service::auth::Authenticated;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "beraad_session";

/// Header carrying the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON body; malformed input becomes an [`ApiError`] with a stable code.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Json(value))
    }
}

/// The authenticated actor of a request. On any method other than GET/HEAD/OPTIONS the
/// `X-CSRF-Token` header must match the session's token.
pub struct Auth(pub Authenticated);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = match parts.extensions.get::<Authenticated>() {
            Some(a) => a.clone(),
            None => session_of(&parts.headers, state)
                .await?
                .ok_or_else(|| ApiError::from(Error::unauthenticated()))?,
        };
        if !parts.method.is_safe() {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !bool::from(sent.as_bytes().ct_eq(auth.csrf_token.as_bytes())) {
                return Err(Error::forbidden(
                    "csrf_failed",
                    "Dit verzoek mist een geldig CSRF-token (kopregel X-CSRF-Token).",
                )
                .into());
            }
        }
        Ok(Auth(auth))
    }
}

/// The session behind the request's cookie, if any.
pub async fn session_of(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Option<Authenticated>, ApiError> {
    let jar = CookieJar::from_headers(headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    Ok(state.service.authenticate(&token).await?)
}

/// The client's IP address: the peer, or with `trust_proxy` the first
/// `X-Forwarded-For` entry.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.settings.trust_proxy
            && let Some(ip) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return Ok(ClientIp(Some(ip)));
        }
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

/// A path parameter; a malformed one answers 404 like an unknown resource.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(v) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Path(v))
    }
}

/// Query parameters; malformed ones answer `400 invalid_query`.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(v) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Query(v))
    }
}

/// The request's `Idempotency-Key`, if sent.
pub fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get(super::idempotency::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
