//! The door under pressure: a viewer that stops reading is cut off while the others keep
//! every event; SIGTERM closes every viewer with 1012, lets an open request finish and
//! exits in time; one client's thousand idle connections and thousand socket upgrades
//! are refused by caps and time-outs while a newcomer still logs in.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use beraad::http::ServerLimits;
use beraad::realtime::HubSettings;
use beraad::service::ServiceSettings;
use beraad::service::ratelimit::RateLimits;

use crate::helpers::{Client, Engine, TestApp, spawn_app_with_http};
use crate::multinode::{Proc, free_port, panelist};

type RawWs = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A server whose door has `limits` and tells clients apart by their own address (no
/// trusted proxy), on SQLite: the door does not depend on the engine.
async fn spawn_door(limits: ServerLimits) -> TestApp {
    let settings = ServiceSettings {
        rate_limits: RateLimits::unlimited(),
        ..ServiceSettings::default()
    };
    spawn_app_with_http(Engine::Sqlite, HubSettings::default(), settings, |http| {
        http.trusted_proxies = beraad::http::extract::TrustedProxies::none();
        http.limits = limits;
    })
    .await
}

fn addr_of(base: &str) -> SocketAddr {
    base.trim_start_matches("http://")
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .expect("server address")
}

/// A TCP connection to `server` from the loopback address `from` (Linux routes all of
/// 127.0.0.0/8 to the loopback device, so each address is another client).
async fn connect_from(from: Ipv4Addr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    socket.connect(server).await
}

/// Opens a WebSocket with `client`'s session from address `from`: the socket, or the
/// refusal's status and JSON body.
async fn ws_from(client: &Client, from: Ipv4Addr) -> Result<RawWs, (u16, Value)> {
    let mut req = client
        .ws_url
        .as_str()
        .into_client_request()
        .expect("request");
    if let Some(cookie) = &client.session_cookie {
        req.headers_mut()
            .insert("cookie", cookie.parse().expect("cookie"));
    }
    let tcp = connect_from(from, addr_of(&client.ws_url))
        .await
        .expect("connect");
    match tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp)).await
    {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let body = resp
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((resp.status().as_u16(), body))
        }
        Err(e) => panic!("ws connect: {e}"),
    }
}

/// Reads `ws` until its close frame; the close code (`None` if the connection ended
/// without one).
async fn close_code(ws: &mut RawWs, within: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("no close within {within:?}"),
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            Ok(None) | Ok(Some(Err(_))) => return None,
        }
    }
}

// --- 1. A stalled reader -------------------------------------------------------------

/// A viewer subscribes and then never reads again (a tiny receive buffer, so its socket
/// is full after a few frames). The server must drop it within the write time-out (here
/// 1 s) plus the close grace (2 s) of its socket filling up, which the other viewer of
/// the case sees as presence falling from two panelists to one, while that viewer keeps
/// receiving every event in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_reader_is_cut_off_while_others_keep_every_event() {
    let app = spawn_door(ServerLimits {
        socket_write_timeout: Duration::from_secs(1),
        ..ServerLimits::default()
    })
    .await;
    let t = app.tenant("utrecht", 3).await;
    let case = app.open_case(&t, json!({"max_length": 2000})).await;
    let poster = app.panelist(&t.codes[0]).await;
    let stalled = app.panelist(&t.codes[1]).await;
    let healthy = app.panelist(&t.codes[2]).await;
    let mut ws_stalled = stalled.ws_small_buffer().await;
    ws_stalled.subscribe(case, 1).await;
    let mut ws_ok = healthy.ws().await;
    ws_ok.subscribe(case, 1).await;
    loop {
        let p = ws_ok.next_of("presence").await;
        if p["panelists"] == 2 {
            break;
        }
    }
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, root) = poster
        .post(
            &url,
            json!({"verdict": "eens", "body": "Begin van een lange draad."}),
        )
        .await;
    let mut seen: Vec<i64> = vec![ws_ok.next_of("event").await["seq"].as_i64().expect("seq")];
    let filler = "x".repeat(1900);
    let started = Instant::now();
    let mut gone_after: Option<Duration> = None;
    let mut posted = 0;
    // Post on until the stalled viewer is gone, and twenty posts more.
    let mut extra = 20;
    while extra > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the stalled viewer was never dropped ({posted} posts, {:?})",
            started.elapsed()
        );
        let (status, body) = poster
            .post(
                &url,
                json!({"parent_id": root["id"], "body": format!("{posted} {filler}")}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        posted += 1;
        // The healthy viewer reads along: this post's event, and presence as it comes.
        let expected = 2 + posted;
        while seen.last().copied().unwrap_or(2) < expected {
            let v = ws_ok
                .next()
                .await
                .expect("the healthy viewer stays connected");
            match v["type"].as_str() {
                Some("event") => seen.push(v["seq"].as_i64().expect("seq")),
                Some("presence") if v["panelists"] == 1 && gone_after.is_none() => {
                    gone_after = Some(started.elapsed());
                }
                _ => {}
            }
        }
        if gone_after.is_some() {
            extra -= 1;
        }
    }
    let gone_after = gone_after.expect("dropped");
    let expected: Vec<i64> = (2..=2 + posted).collect();
    assert_eq!(
        seen, expected,
        "the healthy viewer got every event once, in order"
    );
    eprintln!("stalled reader dropped {gone_after:?} after posting began ({posted} posts)");
    assert!(
        gone_after < Duration::from_secs(8),
        "dropped only after {gone_after:?}"
    );
    // When the stalled client reads at last it finds a prefix of the events, in order,
    // and then the end of the connection.
    let mut last = 1;
    while let Some(v) = ws_stalled.next().await {
        if v["type"] == "event" {
            let seq = v["seq"].as_i64().expect("seq");
            assert!(seq > last, "in order");
            last = seq;
        }
    }
    assert!(last < 2 + posted, "it fell behind before the end");
}

/// A viewer too slow for its (here tiny) outbox is dropped from the room at once; if it
/// reads again within the close grace it finds, after a prefix of the events in order,
/// `resync_required` and close code 4002.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_reader_that_reads_again_is_told_to_resync_with_4002() {
    let settings = ServiceSettings {
        rate_limits: RateLimits::unlimited(),
        ..ServiceSettings::default()
    };
    let hub = HubSettings {
        outbox_capacity: 8,
        ..HubSettings::default()
    };
    let app = spawn_app_with_http(Engine::Sqlite, hub, settings, |http| {
        http.trusted_proxies = beraad::http::extract::TrustedProxies::none();
    })
    .await;
    let t = app.tenant("utrecht", 3).await;
    let case = app.open_case(&t, json!({"max_length": 2000})).await;
    let poster = app.panelist(&t.codes[0]).await;
    let slow = app.panelist(&t.codes[1]).await;
    let healthy = app.panelist(&t.codes[2]).await;
    // The slow viewer: a tiny receive buffer, subscribed, then not reading.
    let mut req = slow.ws_url.as_str().into_client_request().expect("request");
    req.headers_mut().insert(
        "cookie",
        slow.session_cookie
            .as_deref()
            .expect("cookie")
            .parse()
            .expect("cookie"),
    );
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = socket
        .connect(addr_of(&slow.ws_url))
        .await
        .expect("connect");
    let (mut ws_slow, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await
            .expect("ws");
    ws_slow
        .send(Message::text(
            json!({"type": "subscribe", "topic": format!("case:{case}"), "after": 1}).to_string(),
        ))
        .await
        .expect("subscribe");
    let mut ws_ok = healthy.ws().await;
    ws_ok.subscribe(case, 1).await;
    loop {
        if ws_ok.next_of("presence").await["panelists"] == 2 {
            break;
        }
    }
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, root) = poster
        .post(
            &url,
            json!({"verdict": "eens", "body": "Begin van een lange draad."}),
        )
        .await;
    let filler = "x".repeat(1900);
    let started = Instant::now();
    let mut posted = 0;
    'posting: loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the slow viewer never left the room"
        );
        poster
            .post(
                &url,
                json!({"parent_id": root["id"], "body": format!("{posted} {filler}")}),
            )
            .await;
        posted += 1;
        let expected = 2 + posted;
        loop {
            let v = ws_ok.next().await.expect("open");
            if v["type"] == "presence" && v["panelists"] == 1 {
                break 'posting;
            }
            if v["type"] == "event" && v["seq"] == expected {
                break;
            }
        }
    }
    // At once, the slow viewer reads again.
    let mut last = 1;
    let mut told = None;
    let close = loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws_slow.next())
            .await
            .expect("the slow viewer's socket ends");
        match msg {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("json");
                assert!(told.is_none(), "nothing after resync_required: {v}");
                match v["type"].as_str() {
                    Some("event") => {
                        let seq = v["seq"].as_i64().expect("seq");
                        assert!(seq > last, "in order, no duplicates");
                        last = seq;
                    }
                    Some("error") => told = Some(v),
                    _ => {}
                }
            }
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("the connection ended without a close frame: {e}"),
            None => panic!("the connection ended without a close frame"),
        }
    };
    let told = told.expect("told to resync");
    assert_eq!(told["code"], "resync_required");
    assert_eq!(
        told["topic"],
        Value::Null,
        "it concerns the whole connection"
    );
    assert_eq!(close, Some(4002));
    assert!(last < 2 + posted, "it fell behind before the end");
}

// --- 2. SIGTERM ------------------------------------------------------------------------

/// Viewers are closed with 1012 at once, a request whose body is still arriving is
/// answered, a connection that never finishes its request does not hold the process up
/// beyond the shutdown time-out, and new connections are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_viewers_with_1012_finishes_requests_and_exits_in_time() {
    const SHUTDOWN_SECS: u64 = 3;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut proc = Proc(
        Command::new(env!("CARGO_BIN_EXE_beraad"))
            .args(["serve", "--demo"])
            .env(
                "BERAAD_DATABASE_URL",
                format!("sqlite://{}/beraad.db", dir.path().display()),
            )
            .env("BERAAD_BIND", format!("127.0.0.1:{port}"))
            .env("BERAAD_SHUTDOWN_TIMEOUT_SECS", SHUTDOWN_SECS.to_string())
            .env("BERAAD_RATE_LIMITS", "post=0.001/1000,reply=0.001/1000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start beraad"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let ready_by = Instant::now() + Duration::from_secs(60);
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < ready_by, "beraad did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let poster = panelist(port, "UTRE-CHTP-ANEL2").await;
    let (_, cases) = poster.get("/api/v1/cases").await;
    let case = cases
        .as_array()
        .and_then(|l| l.iter().find(|c| c["status"] == "open"))
        .and_then(|c| c["id"].as_i64())
        .expect("an open demo case");
    let (_, thread) = poster.get(&format!("/api/v1/cases/{case}/posts")).await;
    let root = thread["posts"][0]["id"].as_i64().expect("a demo post");
    let mut viewers = Vec::new();
    for code in ["UTRE-CHTP-ANEL3", "UTRE-CHTP-ANEL4", "UTRE-CHTP-ANEL5"] {
        let c = panelist(port, code).await;
        let mut ws = ws_from(&c, Ipv4Addr::LOCALHOST).await.expect("ws");
        ws.send(Message::text(
            json!({"type": "subscribe", "topic": format!("case:{case}"), "after": 0}).to_string(),
        ))
        .await
        .expect("subscribe");
        loop {
            let msg = ws.next().await.expect("open").expect("frame");
            if msg.to_text().is_ok_and(|t| t.contains("\"subscribed\"")) {
                break;
            }
        }
        viewers.push(ws);
    }
    // A reply whose body is only half sent when the signal comes.
    let body = json!({"parent_id": root, "body": "Verstuurd terwijl de server stopt."}).to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut inflight = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/cases/{case}/posts HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {}\r\n\
         X-CSRF-Token: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        poster.session_cookie.as_deref().expect("cookie"),
        poster.csrf.as_deref().expect("csrf"),
        body.len()
    );
    inflight.write_all(head.as_bytes()).await.expect("head");
    inflight.write_all(first).await.expect("first half");
    // A request that never finishes its head.
    let mut dawdler = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    dawdler
        .write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .await
        .expect("partial head");
    // Give the server a moment to read the head of the reply and start its handler.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &proc.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    for ws in &mut viewers {
        let code = close_code(ws, Duration::from_secs(2)).await;
        assert_eq!(code, Some(1012), "a viewer is told the service restarts");
    }
    let closed_after = signalled.elapsed();
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "no new connections while draining"
    );
    inflight.write_all(rest).await.expect("second half");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), inflight.read_to_end(&mut answer))
        .await
        .expect("the open request is answered")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let exit_by = signalled + Duration::from_secs(SHUTDOWN_SECS) + Duration::from_millis(1500);
    let exit = loop {
        if let Some(s) = proc.0.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < exit_by,
            "still running {:?} after SIGTERM",
            signalled.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let exited_after = signalled.elapsed();
    eprintln!("viewers closed {closed_after:?} and process exited {exited_after:?} after SIGTERM");
    assert!(exit.success(), "{exit:?}");
    drop(dawdler);
}

// --- 3. One client, thousands of connections -------------------------------------------

/// Reads until the server closes the connection, at most `within`: what it sent, or
/// `None` if it was still open then.
async fn read_until_closed(c: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    match tokio::time::timeout(within, c.read_to_end(&mut buf)).await {
        Ok(_) => Some(buf),
        Err(_) => None,
    }
}

fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// From one address, 1,000 TCP connections that never send a byte; from another, 1,000
/// socket upgrades with one session. The excess is refused at once (429 with a JSON
/// code), idle, half-sent and kept-alive connections end at the header-read time-out, a
/// body that never ends at the request time-out, and meanwhile a newcomer from a third
/// address logs in and `/healthz` answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_with_thousands_of_connections_cannot_lock_others_out() {
    const IDLE_FROM: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
    const SOCKETS_FROM: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
    const SLOW_FROM: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
    let limits = ServerLimits {
        header_read_timeout: Duration::from_secs(3),
        request_timeout: Duration::from_secs(2),
        ..ServerLimits::default()
    };
    let app = spawn_door(limits).await;
    let server = addr_of(&app.base);
    let t = app.tenant("utrecht", 2).await;
    let attacker = app.panelist(&t.codes[0]).await;
    let files_before = open_files();

    // A half-sent head, a kept-alive connection after one answer, a body that never ends.
    let slow_started = Instant::now();
    let mut half_head = connect_from(SLOW_FROM, server).await.expect("connect");
    half_head
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: beraad.test\r\nX-Lan")
        .await
        .expect("write");
    let mut kept_alive = connect_from(SLOW_FROM, server).await.expect("connect");
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: beraad.test\r\n\r\n")
        .await
        .expect("write");
    let mut endless_body = connect_from(SLOW_FROM, server).await.expect("connect");
    endless_body
        .write_all(
            b"POST /api/v1/auth/invite HTTP/1.1\r\nHost: beraad.test\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"code\"",
        )
        .await
        .expect("write");

    // 1,000 idle connections, all at once: the listen backlog holds them until the
    // server accepts. Those over the per-address cap are answered 429 and closed at once.
    let started = Instant::now();
    let mut idle: Vec<TcpStream> =
        futures_util::future::join_all((0..1000).map(|_| connect_from(IDLE_FROM, server)))
            .await
            .into_iter()
            .map(|r| r.expect("connect"))
            .collect();
    let first_reads = futures_util::future::join_all(
        idle.iter_mut()
            .map(|c| read_until_closed(c, Duration::from_secs(1))),
    )
    .await;
    let mut still_open = Vec::new();
    let mut refused_at_once = 0;
    for (c, read) in idle.into_iter().zip(first_reads) {
        match read {
            None => still_open.push(c),
            Some(answer) => {
                let answer = String::from_utf8_lossy(&answer);
                assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
                assert!(answer.contains("\"too_many_connections\""), "{answer}");
                refused_at_once += 1;
            }
        }
    }
    assert_eq!(refused_at_once, 1000 - limits.max_connections_per_address);
    assert_eq!(still_open.len(), limits.max_connections_per_address);

    // 1,000 upgrades with one session: sixteen sockets, the rest refused.
    let attempts: Vec<Result<RawWs, (u16, Value)>> =
        futures_util::stream::iter((0..1000).map(|_| ws_from(&attacker, SOCKETS_FROM)))
            .buffer_unordered(32)
            .collect()
            .await;
    let mut open = Vec::new();
    let mut refusals = 0;
    for a in attempts {
        match a {
            Ok(ws) => open.push(ws),
            Err((status, body)) => {
                assert_eq!(status, 429, "{body}");
                refusals += 1;
            }
        }
    }
    let upgrades_took = started.elapsed();
    assert_eq!(
        open.len(),
        limits.sockets_per_session,
        "sockets per session are capped"
    );
    assert_eq!(refusals, 1000 - limits.sockets_per_session);
    // The refusal says why, in the API's error format.
    let (status, body) = attacker
        .send(
            reqwest::Method::GET,
            "/api/v1/ws",
            None,
            &[
                ("connection", "upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "13"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(crate::helpers::code(&body), "too_many_sockets");
    let files_held = open_files();

    // With all of that held open, a newcomer logs in and the health check answers.
    let t0 = Instant::now();
    let newcomer = app.panelist(&t.codes[1]).await;
    let (status, _) = newcomer.get("/api/v1/auth/session").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let (status, _) = app.anonymous().get("/healthz").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let login_took = t0.elapsed();
    assert!(login_took < Duration::from_secs(2), "{login_took:?}");

    // The idle connections the cap let in end at the header-read time-out.
    let reads = futures_util::future::join_all(
        still_open
            .iter_mut()
            .map(|c| read_until_closed(c, Duration::from_secs(5))),
    )
    .await;
    for read in &reads {
        assert_eq!(
            read.as_deref(),
            Some(&[][..]),
            "an idle connection was still open {:?} after it was made",
            started.elapsed()
        );
    }
    let idle_gone_after = started.elapsed();
    // So do the half-sent head and the kept-alive connection (after its answer); the
    // body that never ends gets 503 at the request time-out.
    let half = read_until_closed(&mut half_head, Duration::from_secs(5)).await;
    assert!(
        half.is_some(),
        "a half-sent head is cut off at the header-read time-out"
    );
    let kept = read_until_closed(&mut kept_alive, Duration::from_secs(5))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(String::from_utf8_lossy(&kept).starts_with("HTTP/1.1 200"));
    let endless = read_until_closed(&mut endless_body, Duration::from_secs(5))
        .await
        .expect("a body that never ends is cut off");
    let endless = String::from_utf8_lossy(&endless);
    assert!(endless.starts_with("HTTP/1.1 503"), "{endless}");
    assert!(endless.contains("\"request_timeout\""), "{endless}");
    let slow_gone_after = slow_started.elapsed();
    assert!(
        slow_gone_after < Duration::from_secs(8),
        "{slow_gone_after:?}"
    );
    eprintln!(
        "open files: {files_before} before, {files_held} with everything held; \
         1,000 connects and 1,000 upgrades took {upgrades_took:?}; login and /healthz \
         took {login_took:?}; every idle connection closed {idle_gone_after:?} after the \
         first was opened; half-sent, kept-alive and endless-body connections gone after \
         {slow_gone_after:?}"
    );
    drop(open);
}
