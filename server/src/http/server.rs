//! The listening side of the HTTP door: accepts TCP connections under caps (in all, and
//! per client address), serves each with hyper's HTTP/1 connection under a header-read
//! and a request time-out, counts WebSockets per session and per address for
//! `http::ws`, and drains on shutdown (not ready at once; after the drain delay stop
//! accepting, close every WebSocket with 1012, let open requests finish, give up after
//! the shutdown time-out). It knows the router
//! only as a tower service; no route or rule lives here.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use super::AppState;
use super::error::ApiError;
use super::extract::TrustedProxies;

/// Kernel send buffer of each accepted socket.
const SEND_BUFFER_BYTES: usize = 64 * 1024;
/// Connections the kernel may hold for us before we accept them (capped by
/// `net.core.somaxconn`): room for every viewer reconnecting at once after a restart.
const LISTEN_BACKLOG: u32 = 4096;

/// Caps and time-outs of the door. The defaults suit one node behind nothing or behind a
/// proxy; `beraad serve` sets each from a flag with a `BERAAD_*` twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Open TCP connections in all, WebSockets included; beyond it a new connection is
    /// answered `503 server_busy` and closed. Keep it under the process's open-file limit.
    pub max_connections: usize,
    /// Open TCP connections from one client address (IPv6: one /64), WebSockets
    /// included; beyond it a new connection is answered `429 too_many_connections` and
    /// closed. Not applied to a trusted proxy (`trusted_proxies`), whose connections
    /// carry many clients.
    pub max_connections_per_address: usize,
    /// Open WebSockets of one session; beyond it an upgrade is answered
    /// `429 too_many_sockets`.
    pub sockets_per_session: usize,
    /// Open WebSockets of one client address (behind a trusted proxy: the forwarded
    /// address); beyond it an upgrade is answered `429 too_many_sockets`.
    pub sockets_per_address: usize,
    /// Topics one WebSocket may follow at once; a further subscribe is answered with the
    /// error `too_many_topics`.
    pub topics_per_socket: usize,
    /// Time a connection has to deliver a request's headers, counted from when it opened
    /// or from its previous answer: so also how long an idle keep-alive connection stays.
    pub header_read_timeout: Duration,
    /// Time from a request's headers to its answer (reading the body included); after it
    /// the answer is `503 request_timeout`.
    pub request_timeout: Duration,
    /// Time a write to a WebSocket may take; a client that does not take a batch of frames
    /// within it is told `resync_required` and closed with 4002.
    pub socket_write_timeout: Duration,
    /// On SIGTERM or Ctrl-C: how long open requests and WebSocket goodbyes may take before
    /// the remaining connections are dropped.
    pub shutdown_timeout: Duration,
    /// On SIGTERM or Ctrl-C: how long the node goes on serving as before, except that
    /// `/readyz` answers 503 and new WebSockets are refused, before it closes its listener
    /// and its WebSockets; so a balancer that polls readiness stops sending here first.
    /// Zero (the default) closes at once.
    pub drain_delay: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 10_000,
            max_connections_per_address: 512,
            sockets_per_session: 16,
            sockets_per_address: 256,
            topics_per_socket: 32,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            socket_write_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(10),
            drain_delay: Duration::ZERO,
        }
    }
}

/// A client address as the caps count it: IPv4 whole, IPv6 by its /64 (what one
/// subscriber gets), an IPv4-mapped IPv6 address as IPv4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressKey(IpAddr);

impl AddressKey {
    /// The key of `ip` (the same rule as the login throttles').
    pub fn of(ip: IpAddr) -> AddressKey {
        AddressKey(crate::service::limits::address_key(ip))
    }
}

/// Counts per key under a cap.
#[derive(Debug)]
struct Counts<K>(Mutex<HashMap<K, usize>>);

impl<K: Hash + Eq> Counts<K> {
    fn new() -> Self {
        Counts(Mutex::new(HashMap::new()))
    }

    /// Takes one for `key` if it holds fewer than `cap`.
    fn take(&self, key: K, cap: usize) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(key).or_insert(0);
        if *n >= cap {
            return false;
        }
        *n += 1;
        true
    }

    /// Gives one back for `key`.
    fn give_back(&self, key: &K) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(key);
            }
        }
    }
}

/// What the listener shares with every connection: the caps and their counts, and the
/// drain signal.
#[derive(Debug)]
pub struct Door {
    limits: ServerLimits,
    /// Peers exempt from the TCP cap per address: the trusted proxies.
    proxies: TrustedProxies,
    open: AtomicUsize,
    /// Woken when the last connection closes.
    all_closed: Notify,
    by_address: Counts<AddressKey>,
    sockets_by_session: Counts<i64>,
    sockets_by_address: Counts<AddressKey>,
    /// Set at the shutdown signal: not ready, no new WebSockets.
    draining: AtomicBool,
    /// Turned `true` after the drain delay: WebSockets close with 1012, connections
    /// finish their request and close.
    closing: watch::Sender<bool>,
}

/// Why a connection or a socket was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The node holds `max_connections`.
    Busy,
    /// This address holds its connections or sockets.
    Address,
    /// This session holds its sockets.
    Session,
    /// The node is shutting down.
    Draining,
}

impl Door {
    fn new(limits: ServerLimits, proxies: TrustedProxies) -> Arc<Door> {
        Arc::new(Door {
            limits,
            proxies,
            open: AtomicUsize::new(0),
            all_closed: Notify::new(),
            by_address: Counts::new(),
            sockets_by_session: Counts::new(),
            sockets_by_address: Counts::new(),
            draining: AtomicBool::new(false),
            closing: watch::channel(false).0,
        })
    }

    /// The caps and time-outs.
    pub fn limits(&self) -> &ServerLimits {
        &self.limits
    }

    /// Open TCP connections (WebSockets included).
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Whether the node is shutting down (from the signal on): not ready, and refusing
    /// new WebSockets.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// A receiver that turns `true` when the node closes its connections (the drain
    /// delay after the signal).
    pub fn drain_signal(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Admits a new TCP connection from `peer`, or says why not.
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<ConnPermit, Refusal> {
        if self.open.fetch_add(1, Ordering::AcqRel) >= self.limits.max_connections {
            self.release();
            return Err(Refusal::Busy);
        }
        let address = if !self.proxies.contains(peer) {
            let key = AddressKey::of(peer);
            if !self
                .by_address
                .take(key, self.limits.max_connections_per_address)
            {
                self.release();
                return Err(Refusal::Address);
            }
            Some(key)
        } else {
            None
        };
        Ok(ConnPermit {
            door: self.clone(),
            address,
        })
    }

    fn release(&self) {
        if self.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.all_closed.notify_waiters();
        }
    }

    /// Takes a WebSocket slot for `session` from `client`, or says why not.
    pub fn take_socket(
        self: &Arc<Self>,
        session: i64,
        client: Option<IpAddr>,
    ) -> Result<SocketPermit, Refusal> {
        if self.is_draining() {
            return Err(Refusal::Draining);
        }
        let address = client.map(AddressKey::of);
        if let Some(key) = address
            && !self
                .sockets_by_address
                .take(key, self.limits.sockets_per_address)
        {
            return Err(Refusal::Address);
        }
        if !self
            .sockets_by_session
            .take(session, self.limits.sockets_per_session)
        {
            if let Some(key) = &address {
                self.sockets_by_address.give_back(key);
            }
            return Err(Refusal::Session);
        }
        Ok(SocketPermit {
            door: self.clone(),
            session,
            address,
        })
    }

    /// Starts the drain: `/readyz` answers 503 and new WebSockets are refused.
    fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
        tracing::info!(
            drain_delay_secs = self.limits.drain_delay.as_secs_f64(),
            "shutting down: not ready; closing after the drain delay"
        );
    }

    /// Closes every WebSocket with 1012 and every connection after its request.
    fn close_all(&self) {
        self.draining.store(true, Ordering::Release);
        self.closing.send_replace(true);
        tracing::info!(
            connections = self.open_connections(),
            "shutting down: WebSockets closed with 1012, open requests finishing"
        );
    }

    /// Waits until every connection is closed or the shutdown time-out passes.
    async fn wait_closed(&self) {
        let deadline = tokio::time::Instant::now() + self.limits.shutdown_timeout;
        loop {
            let mut closed = pin!(self.all_closed.notified());
            closed.as_mut().enable();
            if self.open_connections() == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, closed).await.is_err() {
                tracing::warn!(
                    connections = self.open_connections(),
                    timeout_secs = self.limits.shutdown_timeout.as_secs(),
                    "shutdown time-out: dropping the connections still open"
                );
                return;
            }
        }
    }
}

/// One open TCP connection, counted until the last holder lets go: the HTTP connection
/// and, after an upgrade, the WebSocket that took over its socket.
#[derive(Debug)]
struct ConnPermit {
    door: Arc<Door>,
    address: Option<AddressKey>,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        if let Some(key) = &self.address {
            self.door.by_address.give_back(key);
        }
        self.door.release();
    }
}

/// The TCP connection a request came in on (a request extension): a WebSocket keeps it
/// so that its socket stays counted, and reaches the door's caps and drain signal
/// through it.
#[derive(Clone, Debug)]
pub struct OpenConnection(Arc<ConnPermit>);

impl OpenConnection {
    /// The door this connection came through.
    pub fn door(&self) -> &Arc<Door> {
        &self.0.door
    }
}

/// One open WebSocket, counted for its session and address until dropped.
#[derive(Debug)]
pub struct SocketPermit {
    door: Arc<Door>,
    session: i64,
    address: Option<AddressKey>,
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        self.door.sockets_by_session.give_back(&self.session);
        if let Some(key) = &self.address {
            self.door.sockets_by_address.give_back(key);
        }
    }
}

/// A bound server, ready to run.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
    door: Arc<Door>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) with the limits of `state.settings`.
    pub async fn bind(addr: &str, state: AppState) -> std::io::Result<Server> {
        let addr = tokio::net::lookup_host(addr).await?.next().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to bind")
        })?;
        let socket = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(LISTEN_BACKLOG)?;
        let door = Door::new(
            state.settings.limits,
            state.settings.trusted_proxies.clone(),
        );
        Ok(Server {
            listener,
            app: super::router(state),
            door,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes; then drains: `/readyz` answers 503 and new
    /// WebSockets are refused; after `drain_delay` it stops accepting, closes every
    /// WebSocket with 1012, lets open requests finish, and returns once every connection
    /// is closed or the shutdown time-out has passed.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Server {
            listener,
            app,
            door,
        } = self;
        let door_for_signal = door.clone();
        let shutdown = async move {
            shutdown.await;
            door_for_signal.start_draining();
            tokio::time::sleep(door_for_signal.limits.drain_delay).await;
        };
        let mut shutdown = pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                },
            };
            match door.admit(peer.ip()) {
                Ok(permit) => {
                    let conn = OpenConnection(Arc::new(permit));
                    tokio::spawn(serve_connection(tcp, peer, app.clone(), conn));
                }
                Err(refusal) => refuse(tcp, refusal),
            }
        }
        // The drain started `drain_delay` ago; from now on connections are refused.
        drop(listener);
        door.close_all();
        door.wait_closed().await;
        Ok(())
    }
}

/// Errors of `accept`: a connection that died in the backlog is skipped; anything else
/// (out of file descriptors) is logged and waited out briefly, as the open connections
/// close.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Answers a connection over a cap at once and closes it. The answer fits an empty send
/// buffer, so a non-blocking write suffices; nothing is read.
fn refuse(tcp: TcpStream, refusal: Refusal) {
    let (status, code, message) = match refusal {
        Refusal::Address => (
            "429 Too Many Requests",
            "too_many_connections",
            "Te veel verbindingen vanaf uw adres; sluit er een paar en probeer het opnieuw.",
        ),
        _ => (
            "503 Service Unavailable",
            "server_busy",
            "De server is even te druk; probeer het zo opnieuw.",
        ),
    };
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 5\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.try_write(answer.as_bytes());
}

/// Serves one HTTP/1 connection (and its upgrade) until it closes; on shutdown, lets the
/// request in progress finish and then closes.
async fn serve_connection(tcp: TcpStream, peer: SocketAddr, app: Router, conn: OpenConnection) {
    // Live frames are small: send them at once rather than wait to coalesce.
    let _ = tcp.set_nodelay(true);
    // A modest send buffer makes a client that stops reading show up as a full outbox or
    // a late write within seconds instead of after megabytes of kernel buffering.
    let _ = socket2::SockRef::from(&tcp).set_send_buffer_size(SEND_BUFFER_BYTES);
    let door = conn.door().clone();
    let limits = door.limits;
    let mut draining = door.drain_signal();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let app = app.clone();
        let conn = conn.clone();
        async move {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(conn);
            match tokio::time::timeout(limits.request_timeout, app.oneshot(req)).await {
                Ok(answer) => answer,
                Err(_) => Ok(request_timed_out()),
            }
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut connection = pin!(
        builder
            .serve_connection(TokioIo::new(tcp), service)
            .with_upgrades()
    );
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = until_draining(&mut draining) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

/// Completes when the drain signal turns `true` (or its sender is gone).
pub async fn until_draining(signal: &mut watch::Receiver<bool>) {
    let _ = signal.wait_for(|draining| *draining).await;
}

/// The answer to a request that ran past the request time-out.
fn request_timed_out() -> Response {
    let mut resp = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "request_timeout",
        "Dit verzoek duurde te lang; probeer het opnieuw.",
    )
    .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_counted_per_ipv4_and_per_ipv6_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(AddressKey::of(a), AddressKey::of(b));
        assert_ne!(AddressKey::of(a), AddressKey::of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(AddressKey::of(mapped), AddressKey::of(v4));
    }

    #[test]
    fn caps_refuse_the_excess_and_release_on_drop() {
        let limits = ServerLimits {
            max_connections: 3,
            max_connections_per_address: 2,
            sockets_per_session: 1,
            sockets_per_address: 2,
            ..ServerLimits::default()
        };
        let door = Door::new(limits, TrustedProxies::parse("192.0.2.9").unwrap());
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        let there: IpAddr = "192.0.2.2".parse().unwrap();
        let a = door.admit(here).unwrap();
        let _b = door.admit(here).unwrap();
        assert_eq!(door.admit(here).err(), Some(Refusal::Address));
        let _c = door.admit(there).unwrap();
        assert_eq!(door.admit(there).err(), Some(Refusal::Busy));
        drop(a);
        assert!(door.admit(here).is_ok());
        let s = door.take_socket(7, Some(here)).unwrap();
        assert_eq!(
            door.take_socket(7, Some(here)).err(),
            Some(Refusal::Session)
        );
        let _t = door.take_socket(8, Some(here)).unwrap();
        assert_eq!(
            door.take_socket(9, Some(here)).err(),
            Some(Refusal::Address)
        );
        drop(s);
        assert!(door.take_socket(7, Some(here)).is_ok());
        // A trusted proxy carries many clients: only the cap in all applies to it.
        drop((_b, _c));
        let proxy: IpAddr = "192.0.2.9".parse().unwrap();
        let _p = door.admit(proxy).unwrap();
        let _q = door.admit(proxy).unwrap();
        let _r = door.admit(proxy).unwrap();
        assert_eq!(door.admit(proxy).err(), Some(Refusal::Busy));
    }
}
