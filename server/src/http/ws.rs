//! The WebSocket door at `/api/v1/ws` (protocol: `docs/protocol.md`). One task per
//! connection: it reads client messages, writes frames from its bounded outbox, pings,
//! and re-checks the session now and then. Rooms (in `realtime`) fill the outbox; a
//! connection whose outbox overflows is told to resync and closed, so a slow reader
//! never slows a room.

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use governor::{DefaultDirectRateLimiter, Quota};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::AppState;
use super::error::ApiError;
use super::extract::session_of;
use crate::realtime::{ConnControl, Member, frame};
use crate::service::Error;
use crate::service::auth::Authenticated;
use crate::service::live::Reader;
use crate::service::policy::Actor;

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

/// `GET /api/v1/ws`: checks the Origin and the session, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
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
    let Some(hub) = state.hub.clone() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Live verbindingen zijn hier uitgeschakeld.",
        )
        .into_response();
    };
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
            Connection::new(hub.clone(), auth).run(socket).await;
            hub.stats
                .connections
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        })
}

struct Connection {
    hub: Arc<crate::realtime::Hub>,
    auth: Authenticated,
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
    Close(Option<(u16, &'static str)>),
}

fn error_frame(code: &str, topic: Option<&str>, message: &str) -> Utf8Bytes {
    frame(&json!({"type": "error", "code": code, "topic": topic, "message": message}))
}

impl Connection {
    fn new(hub: Arc<crate::realtime::Hub>, auth: Authenticated) -> Self {
        let (outbox_tx, outbox_rx) = mpsc::channel(hub.settings_outbox());
        let per_second = NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(40).unwrap_or(NonZeroU32::MIN);
        Connection {
            conn_id: hub.next_conn_id(),
            hub,
            auth,
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
        let mut last_heard = Instant::now();
        let close = loop {
            let flow = tokio::select! {
                biased;
                _ = self.control.wake.notified() => {
                    let msg = error_frame("resync_required", None, "U loopt te ver achter; laad de discussie opnieuw.");
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Text(msg))).await;
                    Flow::Close(Some((CLOSE_RESYNC, "resync_required")))
                }
                out = self.outbox_rx.recv() => match out {
                    Some(first) => self.write_batch(&mut socket, first).await,
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
                    } else if socket.send(Message::Ping(Default::default())).await.is_err() {
                        Flow::Close(None)
                    } else {
                        Flow::Continue
                    }
                }
                _ = session_check.tick() => {
                    if self.session_still_valid().await {
                        Flow::Continue
                    } else {
                        Flow::Close(Some((CLOSE_SESSION_ENDED, "session_ended")))
                    }
                }
            };
            if let Flow::Close(reason) = flow {
                break reason;
            }
        };
        for case_id in self.topics.drain() {
            self.hub.leave(case_id, self.conn_id);
        }
        for municipality_id in self.moderation.drain() {
            self.hub.unwatch_moderation(municipality_id, self.conn_id);
        }
        if let Some((code, reason)) = close {
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            };
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                socket.send(Message::Close(Some(frame))),
            )
            .await;
        }
    }

    async fn write_batch(&mut self, socket: &mut WebSocket, first: Utf8Bytes) -> Flow {
        if socket.feed(Message::Text(first)).await.is_err() {
            return Flow::Close(None);
        }
        for _ in 1..BATCH {
            match self.outbox_rx.try_recv() {
                Ok(next) => {
                    if socket.feed(Message::Text(next)).await.is_err() {
                        return Flow::Close(None);
                    }
                }
                Err(_) => break,
            }
        }
        if socket.flush().await.is_err() {
            return Flow::Close(None);
        }
        Flow::Continue
    }

    async fn send(&self, socket: &mut WebSocket, frame: Utf8Bytes) -> Flow {
        match socket.send(Message::Text(frame)).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Close(None),
        }
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
                self.subscribe_moderation(socket, &topic).await
            }
            ClientMessage::Subscribe {
                topic,
                after,
                epoch,
            } => {
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
                match self
                    .hub
                    .service()
                    .authorize_follow(&self.auth.actor, case_id)
                    .await
                {
                    Ok(_) => {}
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
                    Err(e) => {
                        tracing::error!(error = %e, "subscribe failed");
                        return self
                            .send(
                                socket,
                                error_frame("internal", Some(&topic), "Er ging bij ons iets mis."),
                            )
                            .await;
                    }
                }
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
            Err(e) => {
                tracing::error!(error = %e, "moderation subscribe failed");
                return self
                    .send(
                        socket,
                        error_frame("internal", Some(topic), "Er ging bij ons iets mis."),
                    )
                    .await;
            }
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

    async fn session_still_valid(&self) -> bool {
        let service = self.hub.service();
        match service
            .session_still_valid(self.auth.session_id, &self.auth.actor)
            .await
        {
            Ok(valid) => valid,
            // A database hiccup is not a reason to drop people; check again later.
            Err(e) => {
                tracing::warn!(error = %e, "session check failed");
                true
            }
        }
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
