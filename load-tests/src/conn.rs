//! One viewer: a WebSocket subscribed to one case topic. Measures delivery latency of
//! the generator's posts, checks the sequence numbers for gaps and repeats, reconnects
//! with `after` in a storm, and, when slow, stops reading to see what the server does.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::stats::{Stats, inc};
use crate::util::unix_micros;

type Ws = WebSocketStream<TcpStream>;

/// What the orchestrator tells the viewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Control {
    /// Storm generation: when it changes, healthy viewers drop and reconnect.
    pub storm: u32,
    /// Close and report.
    pub stop: bool,
}

/// State shared by all viewers of a run.
pub struct Shared {
    /// Measurements.
    pub stats: Arc<Stats>,
    /// Orders from the orchestrator.
    pub control: watch::Receiver<Control>,
    /// Bounds the connections being opened at once.
    pub connect_sem: Arc<Semaphore>,
    /// Start of the connection ramp.
    pub ramp_start: Instant,
    /// Start of the run (deliveries are timed from here).
    pub run_start: Instant,
    /// When the storm hit.
    pub storm_start: OnceLock<Instant>,
    /// Per case: the head at the storm; a viewer has caught up once it has seen it.
    pub storm_targets: Vec<AtomicI64>,
    /// Small buffers: thousands of connections live in one process.
    pub ws_config: WebSocketConfig,
    /// Limit for opening a connection and getting `subscribed`.
    pub connect_timeout: Duration,
    /// SO_RCVBUF of slow viewers (0: the system's).
    pub slow_rcvbuf: u32,
}

/// One viewer's parameters.
#[derive(Debug, Clone)]
pub struct ConnSpec {
    /// Number of the viewer in this process.
    pub id: usize,
    /// Address of its node.
    pub addr: SocketAddr,
    /// `ws://host:port/api/v1/ws`.
    pub ws_url: String,
    /// `Cookie` header value, if any.
    pub cookie: Option<String>,
    /// `Origin` header value.
    pub origin: String,
    /// Index of its case.
    pub case_idx: usize,
    /// `case:ID`.
    pub topic: Arc<str>,
    /// Position to subscribe after.
    pub after: i64,
    /// Stops reading after subscribing.
    pub slow: bool,
}

/// How a viewer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Still connected when told to stop.
    Alive,
    /// Subscribed once, then the connection died.
    Died,
    /// Never got subscribed.
    Failed,
}

/// What a viewer reports at the end.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Index of its case.
    pub case_idx: usize,
    /// Highest sequence number seen.
    pub last_seq: i64,
    /// A slow viewer.
    pub slow: bool,
    /// How it ended.
    pub end: End,
}

/// A server message, as far as the generator reads it.
#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    topic: Option<Cow<'a, str>>,
    #[serde(default)]
    seq: Option<i64>,
    #[serde(default, borrow)]
    event: Option<Cow<'a, str>>,
    #[serde(default)]
    head: Option<i64>,
    #[serde(default, borrow)]
    epoch: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    code: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    post: Option<PostLite<'a>>,
}

#[derive(Deserialize)]
struct PostLite<'a> {
    #[serde(default, borrow)]
    body: Option<Cow<'a, str>>,
}

/// The send time (Unix microseconds) embedded in a load post's body.
pub fn sent_at(body: &str) -> Option<u64> {
    body.strip_prefix("lt:")?.split(':').next()?.parse().ok()
}

/// Why a read loop ended.
enum LoopEnd {
    Stop,
    Storm(u32),
    Lost(String),
}

/// Per-viewer position and bookkeeping.
struct View {
    last_seq: i64,
    epoch: Option<String>,
    generation: u32,
    caught_up: bool,
}

impl View {
    /// Updates the position with an event's sequence number.
    fn on_seq(&mut self, seq: i64, stats: &Stats) {
        if seq == self.last_seq + 1 {
            self.last_seq = seq;
        } else if seq > self.last_seq {
            let gap = u64::try_from(seq - self.last_seq - 1).unwrap_or(0);
            stats.lost_gaps.fetch_add(gap, Ordering::Relaxed);
            self.last_seq = seq;
        } else {
            inc(&stats.duplicated);
        }
    }

    /// After a storm: notes the moment this viewer has seen the case head of the storm.
    fn check_caught_up(&mut self, case_idx: usize, shared: &Shared) {
        if self.generation == 0 || self.caught_up {
            return;
        }
        let target = shared.storm_targets[case_idx].load(Ordering::Relaxed);
        if self.last_seq >= target {
            self.caught_up = true;
            inc(&shared.stats.caught_up);
            if let Some(start) = shared.storm_start.get() {
                let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                shared.stats.caught_up_at.fetch_max(us, Ordering::Relaxed);
            }
        }
    }
}

/// Handles one text message in the live phase; returns why to stop, if so.
fn handle_text(
    text: &str,
    recv_us: u64,
    spec: &ConnSpec,
    view: &mut View,
    shared: &Shared,
) -> Option<LoopEnd> {
    let stats = &*shared.stats;
    let Ok(msg) = serde_json::from_str::<Incoming<'_>>(text) else {
        stats.error("bad_json");
        return None;
    };
    match &*msg.kind {
        "event" => {
            if msg.topic.as_deref() != Some(&*spec.topic) {
                stats.error("event_of_other_topic");
                return None;
            }
            inc(&stats.events);
            let Some(seq) = msg.seq else {
                stats.error("event_without_seq");
                return None;
            };
            view.on_seq(seq, stats);
            if msg.event.as_deref() == Some("post.created") && !spec.slow {
                match msg.post.as_ref().and_then(|p| p.body.as_deref()) {
                    Some(body) => {
                        if let Some(sent) = sent_at(body) {
                            stats.latency.record(spec.id, recv_us.saturating_sub(sent));
                            inc(&stats.deliveries);
                            let at = u64::try_from(shared.run_start.elapsed().as_micros())
                                .unwrap_or(u64::MAX);
                            stats.last_delivery_at.fetch_max(at, Ordering::Relaxed);
                        }
                    }
                    None => stats.error("post_without_body"),
                }
            }
            view.check_caught_up(spec.case_idx, shared);
            None
        }
        "presence" => {
            inc(&stats.presence);
            None
        }
        "pong" => None,
        "subscribed" => {
            stats.error("subscribed_twice");
            None
        }
        "error" => {
            let code = msg.code.as_deref().unwrap_or("none");
            stats.error(format!("ws_error_{code}"));
            if code == "resync_required" {
                Some(LoopEnd::Lost("after_resync_required".to_owned()))
            } else {
                None
            }
        }
        other => {
            stats.error(format!(
                "unknown_type_{}",
                other.chars().take(20).collect::<String>()
            ));
            None
        }
    }
}

/// Short error kind of a failed upgrade.
fn upgrade_error(e: &WsError) -> String {
    match e {
        WsError::Http(resp) => format!("upgrade_{}", resp.status().as_u16()),
        WsError::Io(_) => "upgrade_io".to_owned(),
        WsError::Protocol(_) => "upgrade_protocol".to_owned(),
        _ => "upgrade_failed".to_owned(),
    }
}

/// Opens the TCP connection and upgrades it.
async fn open(spec: &ConnSpec, shared: &Shared) -> Result<Ws, String> {
    let socket = if spec.addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|_| "socket".to_owned())?;
    if spec.slow && shared.slow_rcvbuf > 0 {
        let _ = socket.set_recv_buffer_size(shared.slow_rcvbuf);
    }
    let stream = socket
        .connect(spec.addr)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => "connect_refused".to_owned(),
            std::io::ErrorKind::AddrNotAvailable => "connect_no_local_port".to_owned(),
            _ => "connect_failed".to_owned(),
        })?;
    let _ = stream.set_nodelay(true);
    let mut req = spec
        .ws_url
        .as_str()
        .into_client_request()
        .map_err(|_| "bad_ws_url".to_owned())?;
    if let Ok(v) = HeaderValue::from_str(&spec.origin) {
        req.headers_mut().insert("origin", v);
    }
    if let Some(c) = &spec.cookie
        && let Ok(v) = HeaderValue::from_str(c)
    {
        req.headers_mut().insert("cookie", v);
    }
    let (ws, _resp) =
        tokio_tungstenite::client_async_with_config(req, stream, Some(shared.ws_config))
            .await
            .map_err(|e| upgrade_error(&e))?;
    Ok(ws)
}

/// Opens a connection, subscribes with the viewer's position and waits for `subscribed`.
async fn connect_and_subscribe(
    spec: &ConnSpec,
    shared: &Shared,
    view: &mut View,
) -> Result<Ws, String> {
    let permit = shared
        .connect_sem
        .acquire()
        .await
        .map_err(|_| "closed".to_owned())?;
    // The limit runs from the moment this viewer may connect, not from its spawning.
    let deadline = tokio::time::Instant::now() + shared.connect_timeout;
    let mut ws = {
        let _permit = permit;
        tokio::time::timeout_at(deadline, open(spec, shared))
            .await
            .map_err(|_| "connect_timeout".to_owned())??
    };
    let stats = &*shared.stats;
    if view.generation == 0 {
        inc(&stats.upgrades);
        let at = u64::try_from(shared.ramp_start.elapsed().as_micros()).unwrap_or(u64::MAX);
        stats.last_upgrade_at.fetch_max(at, Ordering::Relaxed);
    } else {
        inc(&stats.reconnects);
        if let Some(start) = shared.storm_start.get() {
            let at = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            stats.last_reconnect_at.fetch_max(at, Ordering::Relaxed);
        }
    }
    let mut sub = json!({"type": "subscribe", "topic": &*spec.topic, "after": view.last_seq});
    if let Some(e) = &view.epoch {
        sub["epoch"] = json!(e);
    }
    ws.send(Message::text(sub.to_string()))
        .await
        .map_err(|_| "subscribe_send_failed".to_owned())?;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| "subscribe_timeout".to_owned())?;
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(f))) => {
                return Err(match f {
                    Some(f) => format!("closed_before_subscribed_{}", u16::from(f.code)),
                    None => "closed_before_subscribed".to_owned(),
                });
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err("lost_before_subscribed".to_owned()),
        };
        let Ok(m) = serde_json::from_str::<Incoming<'_>>(&text) else {
            stats.error("bad_json");
            continue;
        };
        match &*m.kind {
            "subscribed" if m.topic.as_deref() == Some(&*spec.topic) => {
                if let Some(e) = m.epoch {
                    view.epoch = Some(e.into_owned());
                }
                if let Some(head) = m.head
                    && head < view.last_seq
                {
                    stats.error("subscribed_head_behind_position");
                }
                return Ok(ws);
            }
            "error" => {
                let code = m.code.as_deref().unwrap_or("none");
                return Err(format!("subscribe_error_{code}"));
            }
            "presence" => inc(&stats.presence),
            "event" => stats.error("event_before_subscribed"),
            _ => {}
        }
    }
}

/// Reads until told to stop or storm, or until the connection ends.
async fn read_loop(
    ws: &mut Ws,
    spec: &ConnSpec,
    view: &mut View,
    shared: &Shared,
    control: &mut watch::Receiver<Control>,
) -> LoopEnd {
    loop {
        {
            let c = *control.borrow_and_update();
            if c.stop {
                return LoopEnd::Stop;
            }
            if c.storm != view.generation {
                return LoopEnd::Storm(c.storm);
            }
        }
        tokio::select! {
            changed = control.changed() => {
                if changed.is_err() {
                    return LoopEnd::Stop;
                }
            }
            msg = ws.next() => {
                let recv_us = unix_micros();
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        if let Some(end) = handle_text(&t, recv_us, spec, view, shared) {
                            return end;
                        }
                    }
                    Some(Ok(Message::Close(f))) => {
                        return LoopEnd::Lost(match f {
                            Some(f) => format!("closed_by_server_{}", u16::from(f.code)),
                            None => "closed_by_server".to_owned(),
                        });
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) => return LoopEnd::Lost("read_error".to_owned()),
                    None => return LoopEnd::Lost("eof".to_owned()),
                }
            }
        }
    }
}

/// A slow viewer: reads nothing until the end, then looks at what the server did.
async fn park_slow(mut ws: Ws, shared: &Shared, control: &mut watch::Receiver<Control>) -> End {
    while !control.borrow_and_update().stop {
        if control.changed().await.is_err() {
            break;
        }
    }
    let stats = &*shared.stats;
    let hard = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut resync = false;
    let mut closed = false;
    loop {
        let idle = (tokio::time::Instant::now() + Duration::from_millis(500)).min(hard);
        match tokio::time::timeout_at(idle, ws.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Text(t)))) => {
                if t.contains("\"resync_required\"") && t.contains("\"error\"") {
                    resync = true;
                }
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => {
                closed = true;
                break;
            }
            Ok(Some(Ok(_))) => {}
        }
    }
    if resync {
        inc(&stats.slow_resync);
    }
    if closed {
        inc(&stats.slow_closed);
        End::Died
    } else {
        inc(&stats.slow_open);
        let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
        End::Alive
    }
}

/// Runs one viewer to the end.
pub async fn run(spec: ConnSpec, shared: Arc<Shared>) -> Outcome {
    let mut control = shared.control.clone();
    let mut view = View {
        last_seq: spec.after,
        epoch: None,
        generation: 0,
        caught_up: false,
    };
    let stats = &*shared.stats;
    let mut retries = 0u32;
    let outcome = |view: &View, end: End| Outcome {
        case_idx: spec.case_idx,
        last_seq: view.last_seq,
        slow: spec.slow,
        end,
    };
    loop {
        let mut ws = match connect_and_subscribe(&spec, &shared, &mut view).await {
            Ok(ws) => ws,
            Err(kind) => {
                if view.generation == 0 {
                    stats.error(kind);
                    inc(&stats.failed);
                    return outcome(&view, End::Failed);
                }
                stats.error(format!("reconnect_{kind}"));
                retries += 1;
                if retries > 20 || control.borrow().stop {
                    inc(&stats.died);
                    return outcome(&view, End::Died);
                }
                let backoff = Duration::from_millis(100 * u64::from(retries.min(20)));
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        retries = 0;
        if view.generation == 0 {
            inc(&stats.subscribed);
            if spec.slow {
                inc(&stats.slow_subscribed);
            }
        }
        if spec.slow {
            let end = park_slow(ws, &shared, &mut control).await;
            return outcome(&view, end);
        }
        view.check_caught_up(spec.case_idx, &shared);
        match read_loop(&mut ws, &spec, &mut view, &shared, &mut control).await {
            LoopEnd::Stop => {
                let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                return outcome(&view, End::Alive);
            }
            LoopEnd::Storm(g) => {
                // Drop the socket without a closing handshake, as a lost network would.
                drop(ws);
                view.generation = g;
                view.caught_up = false;
            }
            LoopEnd::Lost(kind) => {
                stats.error(kind);
                inc(&stats.died);
                return outcome(&view, End::Died);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_time_is_read_from_the_body() {
        assert_eq!(
            sent_at("lt:1700000000123456:42 xxxx"),
            Some(1_700_000_000_123_456)
        );
        assert_eq!(sent_at("gewoon een bericht"), None);
        assert_eq!(sent_at("lt:abc:1 "), None);
    }

    #[test]
    fn gaps_and_repeats_are_counted() {
        let stats = Stats::new();
        let mut v = View {
            last_seq: 10,
            epoch: None,
            generation: 0,
            caught_up: false,
        };
        for seq in [11, 12, 15, 15, 13, 16] {
            v.on_seq(seq, &stats);
        }
        assert_eq!(v.last_seq, 16);
        assert_eq!(crate::stats::get(&stats.lost_gaps), 2);
        assert_eq!(crate::stats::get(&stats.duplicated), 2);
    }

    #[test]
    fn server_messages_parse_with_borrowed_fields() {
        let text = r#"{"type":"event","topic":"case:12","seq":58,"event":"post.created","at":"2026-11-23T10:15:02.123Z","post":{"id":311,"case_id":12,"parent_id":290,"depth":1,"author":"Rustige Reiger 42","verdict":null,"body":"lt:5:1 caf\u00e9","status":"visible","weighings":{"agree":0,"disagree":0,"pass":0}}}"#;
        let m: Incoming<'_> = serde_json::from_str(text).expect("parses");
        assert_eq!(&*m.kind, "event");
        assert_eq!(m.seq, Some(58));
        let body = m.post.and_then(|p| p.body).expect("body");
        assert_eq!(sent_at(&body), Some(5));
        let hidden = r#"{"type":"event","topic":"case:1","seq":2,"event":"post.created","post":{"body":null}}"#;
        let m: Incoming<'_> = serde_json::from_str(hidden).expect("parses");
        assert!(m.post.and_then(|p| p.body).is_none());
    }
}
