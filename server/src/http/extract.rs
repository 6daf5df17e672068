//! Request extractors: JSON bodies whose rejections speak our error format, the
//! authenticated actor (session cookie, with the CSRF check on state-changing requests),
//! and the client's address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
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

/// Whether `text` holds a control character other than tab, newline and carriage
/// return (C0 and DEL). No text in Beraad has a use for them: they are invisible, can
/// hide or rewrite what a reader sees in a terminal or a spreadsheet, and PostgreSQL
/// refuses NUL in text outright.
pub fn has_control_character(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The refusal of input with such a character: `422 control_character`.
pub fn control_character_error() -> Error {
    Error::invalid(
        "control_character",
        "De tekst bevat een onzichtbaar stuurteken (zoals NUL of ESC). Haal het weg en probeer het opnieuw.",
    )
}

/// Whether any string or key in a JSON value holds a control character.
fn json_has_control_character(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => has_control_character(s),
        Value::Array(items) => items.iter().any(json_has_control_character),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| has_control_character(k) || json_has_control_character(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Writes every number with a zero fraction (`8.0`) as the integer it is. JSON has one
/// kind of number and JSON Schema counts `8.0` as an integer, but serde refuses it for an
/// integer field; the API description promises integers, so it takes them either way.
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// Whether any name or value of a URL-encoded form or query holds a control character.
pub fn form_has_control_character(encoded: &[u8]) -> bool {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded).is_ok_and(|pairs| {
        pairs
            .iter()
            .any(|(k, v)| has_control_character(k) || has_control_character(v))
    })
}

/// Whether the request says its body is JSON (`application/json` or `…+json`).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// A JSON body; malformed input becomes an [`ApiError`] with a stable code. This is the
/// one place every JSON text enters: a control character in any string or key of the
/// body (whether the handler reads that field or not) is refused with
/// `422 control_character` before anything is looked at or stored.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Stuur JSON met Content-Type: application/json.",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(JsonRejection::from)?;
        let axum::Json(mut tree) = axum::Json::<serde_json::Value>::from_bytes(&bytes)?;
        if json_has_control_character(&tree) {
            return Err(control_character_error().into());
        }
        integral_floats_as_integers(&mut tree);
        // serde reads a struct from a JSON array too (its fields in order); a body that
        // the description calls an object must be one.
        if tree.is_array() && expects_object::<T>() {
            return Err(ApiError::unreadable(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "",
                "invalid type: sequence, expected an object",
            ));
        }
        serde_path_to_error::deserialize::<_, T>(tree)
            .map(Json)
            .map_err(|e| {
                ApiError::unreadable(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    &e.path().to_string(),
                    &e.inner().to_string(),
                )
            })
    }
}

/// Whether `T` reads itself from a JSON object (a struct or a map) rather than from a
/// sequence or a scalar: asks `T` to deserialize from a probe that only notes which kind
/// of input `T` asks for.
fn expects_object<T: DeserializeOwned>() -> bool {
    use serde::de::value::Error as ProbeError;
    struct Probe<'a>(&'a mut bool);
    impl<'de> serde::Deserializer<'de> for Probe<'_> {
        type Error = ProbeError;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeError> {
            Err(serde::de::Error::custom("probe"))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            _: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, ProbeError> {
            *self.0 = true;
            Err(serde::de::Error::custom("probe"))
        }
        fn deserialize_map<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeError> {
            *self.0 = true;
            Err(serde::de::Error::custom("probe"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct enum
            identifier ignored_any
        }
    }
    let mut object = false;
    let _ = T::deserialize(Probe(&mut object));
    object
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
                return Err(csrf_failed());
            }
        }
        Ok(Auth(auth))
    }
}

/// `403 csrf_failed`: a state-changing request without the session's CSRF token.
pub fn csrf_failed() -> ApiError {
    Error::forbidden(
        "csrf_failed",
        "Dit verzoek mist een geldig CSRF-token (kopregel X-CSRF-Token).",
    )
    .into()
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

/// The proxies whose `X-Forwarded-For` is believed: addresses and networks
/// (`BERAAD_TRUSTED_PROXIES`, e.g. `127.0.0.1,::1,10.0.0.0/8`). Empty: no header is
/// believed and the client is the TCP peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// No proxy: the peer is the client.
    pub fn none() -> Self {
        TrustedProxies(Vec::new())
    }

    /// Loopback (`127.0.0.0/8`, `::1`): a proxy on the same machine.
    pub fn loopback() -> Self {
        Self::parse("127.0.0.0/8,::1").unwrap_or_default()
    }

    /// Reads a comma-separated list of addresses and networks in CIDR notation; an empty
    /// list trusts no one. The error names the entry that is neither.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("'{entry}' is not an IP address or network (a.b.c.d/n)"))?;
            nets.push(net.trunc());
        }
        Ok(TrustedProxies(nets))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind a request from `peer`: the peer itself unless it is a trusted
    /// proxy; otherwise the rightmost `X-Forwarded-For` address that is not a trusted
    /// proxy. Entries left of it were written by the client or by proxies we do not
    /// know, so they prove nothing. When every entry is trusted the leftmost counts;
    /// when an entry is not an address, the hop that handed it over does.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            let Ok(ip) = entry.parse::<IpAddr>() else {
                return client;
            };
            client = ip.to_canonical();
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

/// The client's IP address: the TCP peer, or behind a trusted proxy the address it
/// forwarded (see [`TrustedProxies::client`]). Throttles count it per address (IPv6 per
/// /64, see [`crate::service::limits::address_key`]); audit entries keep it whole.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| {
                    state
                        .settings
                        .trusted_proxies
                        .client(addr.ip(), &parts.headers)
                }),
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
        // An identifier with a control character names nothing.
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        if raw.iter().any(|(_, v)| has_control_character(v)) {
            return Err(ApiError::not_found());
        }
        let axum::extract::Path(v) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Path(v))
    }
}

/// Query parameters; malformed ones answer `400 invalid_query` naming the parameter, ones with a control
/// character `422 control_character`.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default().as_bytes();
        if form_has_control_character(query) {
            return Err(control_character_error().into());
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(Query)
            .map_err(|e| {
                ApiError::unreadable(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_query",
                    &e.path().to_string(),
                    &e.inner().to_string(),
                )
            })
    }
}

/// The request's `Idempotency-Key`, if sent.
pub fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get(super::idempotency::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_forwarded_address() {
        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8 ,::1").expect("list");
        let peer = ip("10.1.2.3");
        // A client's own header entries sit left of what the proxies appended.
        let h = forwarded(&["1.1.1.1, 203.0.113.7, 10.9.9.9"]);
        assert_eq!(proxies.client(peer, &h), ip("203.0.113.7"));
        // Several headers count as one list, in order.
        let h = forwarded(&["1.1.1.1", "203.0.113.8"]);
        assert_eq!(proxies.client(peer, &h), ip("203.0.113.8"));
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(proxies.client(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        // Only trusted hops: the farthest one; no header: the peer.
        let h = forwarded(&["10.0.0.5, 10.0.0.6"]);
        assert_eq!(proxies.client(peer, &h), ip("10.0.0.5"));
        assert_eq!(proxies.client(peer, &HeaderMap::new()), peer);
        // Garbage stops the walk at the hop that handed it over.
        let h = forwarded(&["203.0.113.9, geen-adres, 10.0.0.7"]);
        assert_eq!(proxies.client(peer, &h), ip("10.0.0.7"));
        // IPv4-mapped peers and entries are read as IPv4.
        assert_eq!(
            proxies.client(ip("::ffff:10.1.2.3"), &forwarded(&["::ffff:198.51.100.4"])),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn no_trusted_proxies_means_the_peer_and_bad_entries_are_named() {
        let none = TrustedProxies::parse("").expect("empty");
        assert!(none.is_empty());
        let h = forwarded(&["203.0.113.7"]);
        assert_eq!(none.client(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        let err = TrustedProxies::parse("127.0.0.1,proxy.internal").expect_err("host name");
        assert!(err.contains("proxy.internal"), "{err}");
        assert!(TrustedProxies::loopback().contains(ip("127.0.0.9")));
        assert!(TrustedProxies::loopback().contains(ip("::1")));
    }
}
