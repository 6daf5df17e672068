//! The WebSocket door at `/api/v1/ws` (protocol: `docs/protocol.md`). One task per
//! connection: it reads client messages, writes frames from its bounded outbox, pings,
//! and re-checks the session now and then. Rooms (in `realtime`) fill the outbox; a
//! connection whose outbox overflows, or that does not take a write within the write
//! time-out, is told to resync and closed, so a slow reader never slows a room nor keeps
//! its memory. Upgrades are capped per session and per address, topics per socket; on
//! shutdown every socket is closed with 1012.

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use governor::{DefaultDirectRateLimiter, Quota};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{broadcast, mpsc, watch};

use super::AppState;
use super::error::{ApiError, ErrorBody as ApiErrorBody};
use super::extract::{ClientIp, session_of};
use super::server::{OpenConnection, Refusal, ServerLimits, until_draining};
use crate::domain::Role;
use crate::realtime::{ConnControl, Member, frame};
use crate::service::auth::Authenticated;
use crate::service::live::Reader;
use crate::service::policy::Actor;
use crate::service::{Error, Person};

/// Largest message accepted from a client (64 KiB).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Interval of server pings.
const PING_EVERY: Duration = Duration::from_secs(25);
/// A connection silent for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// How often the session behind a connection is checked again.
const SESSION_CHECK_EVERY: Duration = Duration::from_secs(45);
/// Frames written per flush.
const BATCH: usize = 64;
/// Close code: the session ended.
const CLOSE_SESSION_ENDED: u16 = 4001;
/// Close code: the client fell too far behind.
const CLOSE_RESYNC: u16 = 4002;
/// Close code: the person may no longer follow a topic of this connection (a role was
/// revoked); a new connection can follow what is still allowed.
const CLOSE_ACCESS_CHANGED: u16 = 4003;
/// Close code: the server is going away (shutdown or restart); reconnect.
const CLOSE_RESTART: u16 = 1012;
/// Time a closing connection gets for its last frames and the client's close reply.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum ClientMessage {
    Subscribe {
        topic: String,
        #[serde(default)]
        after: i64,
        #[serde(default)]
        epoch: Option<String>,
    },
    Unsubscribe {
        topic: String,
    },
    Ping,
}

/// Opens the WebSocket for live updates (see docs/protocol.md).
///
/// Checks the Origin, the session and the socket caps, then upgrades. A request that is
/// not a WebSocket handshake learns that only after the session check (so the door says
/// nothing to a stranger), as `426 upgrade_required` with the headers that name the
/// protocol.
#[utoipa::path(get, path = "/api/v1/ws", tag = "live", operation_id = "openLiveSocket",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 403, description = "A foreign Origin", body = ApiErrorBody),
        (status = 426, description = "Not a WebSocket handshake: send `Upgrade: websocket` and `Sec-WebSocket-Version: 13`", body = ApiErrorBody,
            headers(("Upgrade" = String, description = "websocket"), ("Sec-WebSocket-Version" = String, description = "13"))),
    ))]
pub async fn upgrade(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    connection: Option<Extension<OpenConnection>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !state.settings.origin_allowed(&headers) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "Deze website mag geen live verbinding openen.",
        )
        .into_response();
    }
    let auth = match session_of(&headers, &state).await {
        Ok(Some(a)) => a,
        Ok(None) => return ApiError::from(Error::unauthenticated()).into_response(),
        Err(e) => return e.into_response(),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) => return upgrade_required(),
    };
    let Some(hub) = state.hub.clone() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Live verbindingen zijn hier uitgeschakeld.",
        )
        .into_response();
    };
    // Without the server's door (a router driven directly, as in unit tests) there are
    // no caps to count against and no shutdown to follow.
    let connection = connection.map(|Extension(c)| c);
    let (permit, draining) = match &connection {
        Some(conn) => match conn.door().take_socket(auth.session_id, client_ip) {
            Ok(permit) => (Some(permit), Some(conn.door().drain_signal())),
            Err(refusal) => return refused(refusal),
        },
        None => (None, None),
    };
    let limits = state.settings.limits;
    ws.max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        // tungstenite reserves 128 KiB read and write buffers by default; most
        // connections sit idle, so keep them small and let them grow when needed.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_MESSAGE * 4)
        .on_upgrade(move |socket| async move {
            hub.stats
                .connections
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let conn = Connection::new(hub.clone(), auth, limits, draining);
            conn.run(socket).await;
            // The socket is closed: only now may its slots go to someone else.
            drop((permit, connection));
            hub.stats
                .connections
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        })
}

/// `426 upgrade_required` for a request to the WebSocket path that is no handshake.
fn upgrade_required() -> Response {
    let mut resp = ApiError::new(
        StatusCode::UPGRADE_REQUIRED,
        "upgrade_required",
        "Dit adres is voor een live verbinding: open het als WebSocket (Upgrade: websocket, versie 13).",
    )
    .into_response();
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(
        header::SEC_WEBSOCKET_VERSION,
        HeaderValue::from_static("13"),
    );
    resp
}

/// The answer to an upgrade over a cap, or during shutdown.
fn refused(refusal: Refusal) -> Response {
    let (status, code, message, retry_after) = match refusal {
        Refusal::Session => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sockets",
            "U heeft te veel live verbindingen open; sluit een paar tabbladen.",
            "10",
        ),
        Refusal::Address | Refusal::Busy => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sockets",
            "Te veel live verbindingen vanaf uw adres; probeer het later opnieuw.",
            "10",
        ),
        Refusal::Draining => (
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "De server start opnieuw op; maak zo opnieuw verbinding.",
            "2",
        ),
    };
    let mut resp = ApiError::new(status, code, message).into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(retry_after));
    resp
}

struct Connection {
    hub: Arc<crate::realtime::Hub>,
    auth: Authenticated,
    limits: ServerLimits,
    /// Turns `true` when the server shuts down (absent without the server's door).
    draining: Option<watch::Receiver<bool>>,
    conn_id: u64,
    control: Arc<ConnControl>,
    outbox_tx: mpsc::Sender<Utf8Bytes>,
    outbox_rx: mpsc::Receiver<Utf8Bytes>,
    topics: HashSet<i64>,
    moderation: HashSet<i64>,
    limiter: DefaultDirectRateLimiter,
}

enum Flow {
    Continue,
    /// Close, with this code and reason if any (`None`: the socket is already gone).
    Close(Option<(u16, &'static str)>),
    /// The client cannot keep up (its outbox overflowed, or a write ran past the write
    /// time-out): tell it to resync, then close with 4002.
    Behind,
}

/// The answer to a subscribe the server could not serve. While the database cannot be
/// reached the client is told `unavailable` with `retry_after` seconds and asks again
/// on the same connection; anything else is our fault and logged.
fn failure_frame(e: &Error, topic: &str) -> Utf8Bytes {
    match e {
        Error::Unavailable {
            retry_after_secs, ..
        } => {
            tracing::warn!(error = %e, "subscribe while the database is unavailable");
            frame(&json!({
                "type": "error", "code": "unavailable", "topic": topic,
                "retry_after": retry_after_secs,
                "message": "De verbinding met de gegevens is even weg; we proberen het zo opnieuw.",
            }))
        }
        _ => {
            tracing::error!(error = %e, "subscribe failed");
            error_frame("internal", Some(topic), "Er ging bij ons iets mis.")
        }
    }
}

fn error_frame(code: &str, topic: Option<&str>, message: &str) -> Utf8Bytes {
    frame(&json!({"type": "error", "code": code, "topic": topic, "message": message}))
}

fn too_many_topics(topic: &str) -> Utf8Bytes {
    error_frame(
        "too_many_topics",
        Some(topic),
        "Deze verbinding volgt al het maximum aantal onderwerpen; zeg er eerst een op.",
    )
}

impl Connection {
    fn new(
        hub: Arc<crate::realtime::Hub>,
        auth: Authenticated,
        limits: ServerLimits,
        draining: Option<watch::Receiver<bool>>,
    ) -> Self {
        let (outbox_tx, outbox_rx) = mpsc::channel(hub.settings_outbox());
        let per_second = NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(40).unwrap_or(NonZeroU32::MIN);
        Connection {
            conn_id: hub.next_conn_id(),
            hub,
            auth,
            limits,
            draining,
            control: Arc::new(ConnControl::default()),
            outbox_tx,
            outbox_rx,
            topics: HashSet::new(),
            moderation: HashSet::new(),
            limiter: DefaultDirectRateLimiter::direct(
                Quota::per_second(per_second).allow_burst(burst),
            ),
        }
    }

    async fn run(self, socket: WebSocket) {
        use tracing::Instrument;
        // Instrumenting (not entering) the span keeps it from leaking onto whatever else
        // this worker thread runs while the connection waits.
        let span =
            tracing::info_span!("ws", conn.id = self.conn_id, actor = %self.auth.actor.scope());
        self.serve(socket).instrument(span).await;
    }

    async fn serve(mut self, mut socket: WebSocket) {
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        let mut session_check = tokio::time::interval_at(
            tokio::time::Instant::now() + SESSION_CHECK_EVERY,
            SESSION_CHECK_EVERY,
        );
        let control = self.control.clone();
        let mut access = self.hub.access_changes();
        let me = Person::of(&self.auth.actor);
        let mut draining = self.draining.take();
        let mut last_heard = Instant::now();
        let close = loop {
            let flow = tokio::select! {
                biased;
                _ = control.wake.notified() => Flow::Behind,
                _ = shutting_down(&mut draining) => {
                    Flow::Close(Some((CLOSE_RESTART, "service_restart")))
                }
                out = self.outbox_rx.recv() => match out {
                    // A rooms marks a connection lagging while it may be stuck writing:
                    // the write gives way at once.
                    Some(first) => tokio::select! {
                        biased;
                        _ = control.wake.notified() => Flow::Behind,
                        flow = self.write_batch(&mut socket, first) => flow,
                    },
                    None => Flow::Close(None),
                },
                incoming = socket.recv() => match incoming {
                    Some(Ok(msg)) => {
                        last_heard = Instant::now();
                        self.on_message(&mut socket, msg).await
                    }
                    _ => Flow::Close(None),
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > IDLE_TIMEOUT {
                        Flow::Close(Some((1001, "idle")))
                    } else {
                        self.write(&mut socket, Message::Ping(Default::default())).await
                    }
                }
                _ = session_check.tick() => self.recheck_access().await,
                changed = access.recv() => match changed {
                    Ok(person) if person != me => Flow::Continue,
                    // This person's access changed, or announcements were missed.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.recheck_access().await
                    }
                    Err(broadcast::error::RecvError::Closed) => Flow::Close(None),
                },
            };
            match flow {
                Flow::Continue => {}
                Flow::Close(reason) => break reason.map(|r| (None, r)),
                Flow::Behind => {
                    let told = error_frame(
                        "resync_required",
                        None,
                        "U loopt te ver achter; laad de discussie opnieuw.",
                    );
                    break Some((Some(told), (CLOSE_RESYNC, "resync_required")));
                }
            }
        };
        // Leave the rooms first, so nothing more is queued, and free the outbox.
        for case_id in self.topics.drain() {
            self.hub.leave(case_id, self.conn_id);
        }
        for municipality_id in self.moderation.drain() {
            self.hub.unwatch_moderation(municipality_id, self.conn_id);
        }
        self.outbox_rx.close();
        while self.outbox_rx.try_recv().is_ok() {}
        if let Some((last_word, (code, reason))) = close {
            // The goodbye gets a grace period of its own, whatever the client does: a
            // client that reads gets the last word and the close frame, one that does
            // not is dropped when the grace ends.
            let goodbye = async {
                if let Some(text) = last_word {
                    socket.feed(Message::Text(text)).await?;
                }
                let frame = CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                };
                socket.send(Message::Close(Some(frame))).await?;
                // Wait for the client's close reply, so the close is a clean one.
                while let Some(Ok(_)) = socket.recv().await {}
                Ok::<(), axum::Error>(())
            };
            let _ = tokio::time::timeout(CLOSE_GRACE, goodbye).await;
        }
    }

    /// Writes `first` and whatever else waits in the outbox (up to a batch), within the
    /// write time-out.
    async fn write_batch(&mut self, socket: &mut WebSocket, first: Utf8Bytes) -> Flow {
        let outbox = &mut self.outbox_rx;
        let batch = async {
            socket.feed(Message::Text(first)).await?;
            for _ in 1..BATCH {
                match outbox.try_recv() {
                    Ok(next) => socket.feed(Message::Text(next)).await?,
                    Err(_) => break,
                }
            }
            socket.flush().await
        };
        match tokio::time::timeout(self.limits.socket_write_timeout, batch).await {
            Ok(Ok(())) => Flow::Continue,
            Ok(Err(_)) => Flow::Close(None),
            Err(_) => self.write_timed_out(),
        }
    }

    /// Writes one message within the write time-out.
    async fn write(&self, socket: &mut WebSocket, msg: Message) -> Flow {
        match tokio::time::timeout(self.limits.socket_write_timeout, socket.send(msg)).await {
            Ok(Ok(())) => Flow::Continue,
            Ok(Err(_)) => Flow::Close(None),
            Err(_) => self.write_timed_out(),
        }
    }

    /// A write ran past the write time-out: the client does not keep up.
    fn write_timed_out(&self) -> Flow {
        tracing::info!(
            timeout_secs = self.limits.socket_write_timeout.as_secs_f32(),
            "client took no frames within the write time-out"
        );
        self.hub
            .stats
            .resyncs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Flow::Behind
    }

    async fn send(&self, socket: &mut WebSocket, frame: Utf8Bytes) -> Flow {
        self.write(socket, Message::Text(frame)).await
    }

    async fn on_message(&mut self, socket: &mut WebSocket, msg: Message) -> Flow {
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => return Flow::Close(None),
            Message::Ping(_) | Message::Pong(_) => return Flow::Continue,
            Message::Binary(_) => {
                return self
                    .send(
                        socket,
                        error_frame("bad_message", None, "Stuur JSON-tekstberichten."),
                    )
                    .await;
            }
        };
        if self.limiter.check().is_err() {
            return self
                .send(
                    socket,
                    error_frame(
                        "rate_limited",
                        None,
                        "Te veel berichten; dit bericht is genegeerd.",
                    ),
                )
                .await;
        }
        let parsed: ClientMessage = match serde_json::from_str(text.as_str()) {
            Ok(m) => m,
            Err(_) => {
                return self
                    .send(
                        socket,
                        error_frame(
                            "bad_message",
                            None,
                            "Onbekend of onvolledig bericht; zie docs/protocol.md.",
                        ),
                    )
                    .await;
            }
        };
        match parsed {
            ClientMessage::Ping => self.send(socket, frame(&json!({"type": "pong"}))).await,
            ClientMessage::Unsubscribe { topic } if topic.starts_with("moderation:") => {
                let slug = topic.trim_start_matches("moderation:");
                if let Ok(Some(m)) =
                    crate::store::people::municipality_by_slug(self.hub.service().store.db(), slug)
                        .await
                    && self.moderation.remove(&m.id)
                {
                    self.hub.unwatch_moderation(m.id, self.conn_id);
                }
                Flow::Continue
            }
            ClientMessage::Unsubscribe { topic } => {
                if let Some(case_id) = parse_topic(&topic)
                    && self.topics.remove(&case_id)
                {
                    self.hub.leave(case_id, self.conn_id);
                }
                Flow::Continue
            }
            ClientMessage::Subscribe { topic, .. } if topic.starts_with("moderation:") => {
                metrics::counter!(crate::metrics::WS_SUBSCRIPTIONS, "topic" => "moderation")
                    .increment(1);
                self.subscribe_moderation(socket, &topic).await
            }
            ClientMessage::Subscribe {
                topic,
                after,
                epoch,
            } => {
                metrics::counter!(crate::metrics::WS_SUBSCRIPTIONS, "topic" => "case").increment(1);
                let Some(case_id) = parse_topic(&topic) else {
                    return self
                        .send(
                            socket,
                            error_frame("unknown_topic", Some(&topic), "Onbekend onderwerp."),
                        )
                        .await;
                };
                if after < 0 {
                    return self
                        .send(
                            socket,
                            error_frame(
                                "bad_message",
                                Some(&topic),
                                "'after' kan niet negatief zijn.",
                            ),
                        )
                        .await;
                }
                if !self.topics.contains(&case_id)
                    && self.topic_count() >= self.limits.topics_per_socket
                {
                    return self.send(socket, too_many_topics(&topic)).await;
                }
                // Every subscribe is judged on the person as they are now.
                if let Flow::Close(reason) = self.recheck_access().await {
                    return Flow::Close(reason);
                }
                let sees_verdicts = match self
                    .hub
                    .service()
                    .authorize_follow(&self.auth.actor, case_id)
                    .await
                {
                    Ok(follow) => follow.sees_verdicts,
                    Err(Error::NotFound { .. } | Error::Forbidden { .. }) => {
                        return self
                            .send(
                                socket,
                                error_frame(
                                    "forbidden",
                                    Some(&topic),
                                    "U kunt deze casus niet volgen.",
                                ),
                            )
                            .await;
                    }
                    Err(e) => return self.send(socket, failure_frame(&e, &topic)).await,
                };
                if self.topics.remove(&case_id) {
                    self.hub.leave(case_id, self.conn_id);
                }
                self.topics.insert(case_id);
                let (reader, person) = match &self.auth.actor {
                    Actor::Staff(s) => (Reader::Staff, (true, s.id)),
                    Actor::Panelist(p) => (Reader::Panelist(p.id), (false, p.id)),
                };
                self.hub.join(
                    case_id,
                    Member {
                        conn_id: self.conn_id,
                        reader,
                        sees_verdicts,
                        person,
                        outbox: self.outbox_tx.clone(),
                        control: self.control.clone(),
                        after,
                        epoch,
                    },
                );
                Flow::Continue
            }
        }
    }

    /// `moderation:SLUG`: queue sizes of a municipality, for its moderators.
    async fn subscribe_moderation(&mut self, socket: &mut WebSocket, topic: &str) -> Flow {
        let slug = topic.trim_start_matches("moderation:");
        if let Flow::Close(reason) = self.recheck_access().await {
            return Flow::Close(reason);
        }
        let service = self.hub.service().clone();
        let counts = match service.queue_counts(&self.auth.actor, slug).await {
            Ok(c) => c,
            Err(Error::NotFound { .. } | Error::Forbidden { .. }) => {
                return self
                    .send(
                        socket,
                        error_frame(
                            "forbidden",
                            Some(topic),
                            "Alleen moderatoren van deze gemeente volgen deze wachtrij.",
                        ),
                    )
                    .await;
            }
            Err(e) => return self.send(socket, failure_frame(&e, topic)).await,
        };
        let municipality_id =
            match crate::store::people::municipality_by_slug(service.store.db(), slug).await {
                Ok(Some(m)) => m.id,
                _ => {
                    return self
                        .send(
                            socket,
                            error_frame("unknown_topic", Some(topic), "Onbekende gemeente."),
                        )
                        .await;
                }
            };
        if !self.moderation.contains(&municipality_id)
            && self.topic_count() >= self.limits.topics_per_socket
        {
            return self.send(socket, too_many_topics(topic)).await;
        }
        if self.moderation.insert(municipality_id) {
            self.hub.watch_moderation(
                municipality_id,
                crate::realtime::ModWatcher {
                    conn_id: self.conn_id,
                    slug: slug.to_owned(),
                    outbox: self.outbox_tx.clone(),
                },
            );
        }
        let ack = frame(&json!({
            "type": "subscribed", "topic": topic, "pending": counts.pending, "flagged": counts.flagged,
        }));
        self.send(socket, ack).await
    }

    /// Topics this connection follows.
    fn topic_count(&self) -> usize {
        self.topics.len() + self.moderation.len()
    }

    /// Loads the actor again and checks that the session holds and that every topic
    /// this connection follows is still allowed; closes the connection otherwise. A
    /// database hiccup is not a reason to drop people: the next check decides.
    async fn recheck_access(&mut self) -> Flow {
        let service = self.hub.service().clone();
        let actor = match service
            .current_actor(self.auth.session_id, &self.auth.actor)
            .await
        {
            Ok(Some(actor)) => actor,
            Ok(None) => return Flow::Close(Some((CLOSE_SESSION_ENDED, "session_ended"))),
            Err(e) => {
                tracing::warn!(error = %e, "access check failed");
                return Flow::Continue;
            }
        };
        for &case_id in &self.topics {
            match service.authorize_follow(&actor, case_id).await {
                Ok(_) => {}
                Err(Error::NotFound { .. } | Error::Forbidden { .. }) => {
                    return Flow::Close(Some((CLOSE_ACCESS_CHANGED, "access_changed")));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "access check failed");
                    return Flow::Continue;
                }
            }
        }
        let moderates =
            |m: i64| matches!(&actor, Actor::Staff(s) if s.has_role(m, Role::Moderator));
        if !self.moderation.iter().all(|&m| moderates(m)) {
            return Flow::Close(Some((CLOSE_ACCESS_CHANGED, "access_changed")));
        }
        self.auth.actor = actor;
        Flow::Continue
    }
}

/// Completes when the server starts shutting down; never without the server's door.
async fn shutting_down(draining: &mut Option<watch::Receiver<bool>>) {
    match draining {
        Some(rx) => until_draining(rx).await,
        None => std::future::pending().await,
    }
}

/// `case:ID` → ID.
fn parse_topic(topic: &str) -> Option<i64> {
    topic
        .strip_prefix("case:")?
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
}
