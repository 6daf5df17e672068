//! The production topology as processes: Debian's nginx, configured by
//! `deploy/nginx/beraad.conf`, in front of two `beraad` nodes on one PostgreSQL database
//! and one Redis of the test's own. Panelists post and viewers follow a case through the
//! proxy; one node is drained with SIGTERM. Its viewers are closed with 1012, reconnect
//! through the proxy to the other node and see every event exactly once, in order; every
//! post is answered; the drained node reports itself not ready and exits in time.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Client, create_pg_database, drop_pg_database};
use crate::metrics::sample;
use crate::multinode::{
    Proc, free_port, open_demo_case, panelist, start_beraad_with, start_redis, wait_for_redis,
    wait_until_ready,
};

/// `deploy/nginx/beraad.conf` with the nodes at `nodes` on this machine and the proxy
/// listening on `port` of the loopback address: the only lines that differ from the file.
pub fn render_site(nodes: [u16; 2], port: u16) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx/beraad.conf");
    let src = std::fs::read_to_string(path).expect("deploy/nginx/beraad.conf");
    for line in [
        "server beraad-1:8080 ",
        "server beraad-2:8080 ",
        "listen 80;",
    ] {
        assert_eq!(
            src.matches(line).count(),
            1,
            "{path} must contain '{line}' once"
        );
    }
    src.replace(
        "server beraad-1:8080 ",
        &format!("server 127.0.0.1:{} ", nodes[0]),
    )
    .replace(
        "server beraad-2:8080 ",
        &format!("server 127.0.0.1:{} ", nodes[1]),
    )
    .replace("listen 80;", &format!("listen 127.0.0.1:{port};"))
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// nginx with its own prefix in `dir`, in the foreground as one process (so that killing
/// it leaves no worker behind), as `nobody` when the test runs as root.
fn start_nginx(dir: &Path, nodes: [u16; 2], port: u16) -> Proc {
    let p = dir.display();
    std::fs::write(dir.join("beraad.conf"), render_site(nodes, port)).expect("write site");
    std::fs::create_dir_all(dir.join("tmp")).expect("tmp");
    let main = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {p}/nginx.pid;\n\
         error_log {p}/error.log warn;\nevents {{ worker_connections 512; }}\n\
         http {{\n  access_log {p}/access.log;\n  client_body_temp_path {p}/tmp/body;\n  \
         proxy_temp_path {p}/tmp/proxy;\n  fastcgi_temp_path {p}/tmp/fastcgi;\n  \
         uwsgi_temp_path {p}/tmp/uwsgi;\n  scgi_temp_path {p}/tmp/scgi;\n  \
         include {p}/beraad.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).expect("write nginx.conf");
    let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|b| Path::new(b).exists())
        .unwrap_or("nginx");
    let mut cmd = Command::new(binary);
    cmd.args(["-p", &format!("{p}/"), "-c", &format!("{p}/nginx.conf")])
        .args(["-e", &format!("{p}/error.log")])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if running_as_root() {
        for d in [dir.to_path_buf(), dir.join("tmp")] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        }
        cmd.uid(65534).gid(65534);
    }
    Proc(
        cmd.spawn()
            .expect("nginx must be installed (scripts/test installs Debian's nginx)"),
    )
}

type RawWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What one viewer saw: the sequence numbers of the events, the close codes it was sent,
/// and how many times it connected.
#[derive(Debug, Default)]
struct Seen {
    seqs: Vec<i64>,
    closes: Vec<Option<u16>>,
    connects: usize,
}

/// A viewer as the web page's script is one: follows `case` over the proxy with the
/// session `cookie`, and after every close reconnects (a failed connect is tried again
/// after 100 ms) and subscribes again after the last event it saw; stops once it has
/// seen `until` (0: not yet known).
async fn view(url: String, cookie: String, case: i64, start: i64, until: Arc<AtomicI64>) -> Seen {
    let mut seen = Seen::default();
    let deadline = Instant::now() + Duration::from_secs(90);
    let done = |seen: &Seen| {
        let target = until.load(Ordering::Acquire);
        target > 0 && seen.seqs.last().copied().unwrap_or(start) >= target
    };
    while !done(&seen) {
        assert!(Instant::now() < deadline, "viewer never finished: {seen:?}");
        let mut req = url.as_str().into_client_request().expect("request");
        req.headers_mut()
            .insert("cookie", cookie.parse().expect("cookie"));
        let mut ws: RawWs = match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => ws,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        seen.connects += 1;
        let after = seen.seqs.last().copied().unwrap_or(start);
        let subscribe =
            json!({"type": "subscribe", "topic": format!("case:{case}"), "after": after});
        if ws.send(Message::text(subscribe.to_string())).await.is_err() {
            continue;
        }
        loop {
            match tokio::time::timeout(Duration::from_millis(300), ws.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let v: Value = serde_json::from_str(&text).expect("json frame");
                    match v["type"].as_str() {
                        Some("event") => seen.seqs.push(v["seq"].as_i64().expect("seq")),
                        Some("error") => panic!("the server answered an error: {v}"),
                        _ => {}
                    }
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    seen.closes.push(frame.map(|f| u16::from(f.code)));
                    break;
                }
                Ok(Some(Ok(_))) => {}
                Ok(None) | Ok(Some(Err(_))) => {
                    seen.closes.push(None);
                    break;
                }
                Err(_) if done(&seen) => return seen,
                Err(_) => {}
            }
        }
    }
    seen
}

/// Posts `body` to `path` until it is created: a 502, 503 or 504 from the proxy while a
/// node drains is tried again with the same `Idempotency-Key`, as a client should.
/// Returns how many tries it took.
async fn post_surely(who: &Client, path: &str, body: Value, key: &str) -> usize {
    for attempt in 1..=10 {
        let (status, answer) = who
            .send(
                Method::POST,
                path,
                Some(body.clone()),
                &[("idempotency-key", key)],
            )
            .await;
        if status == StatusCode::CREATED {
            return attempt;
        }
        assert!(
            matches!(
                status,
                StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ),
            "{status} {answer}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("a post was never created");
}

/// Everything the test started, stopped in the right order when dropped.
struct Topology {
    nginx: Option<Proc>,
    nodes: Vec<Option<Proc>>,
    redis: Option<Proc>,
    db_name: String,
}

impl Drop for Topology {
    fn drop(&mut self) {
        self.nginx = None;
        self.nodes.clear();
        self.redis = None;
        drop_pg_database(std::mem::take(&mut self.db_name));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_a_node_behind_nginx_moves_its_viewers_to_the_other_without_a_gap() {
    const DRAIN_DELAY_SECS: u64 = 2;
    const SHUTDOWN_SECS: u64 = 5;
    const POSTS: usize = 40;
    const SIGTERM_AFTER: usize = 10;
    let dir = tempfile::tempdir().expect("tempdir");
    let (db_url, db_name) = create_pg_database().await;
    let redis_port = free_port();
    let mut topology = Topology {
        nginx: None,
        nodes: Vec::new(),
        redis: Some(start_redis(redis_port)),
        db_name,
    };
    wait_for_redis(redis_port).await;
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let env = [
        ("BERAAD_TRUSTED_PROXIES", "127.0.0.1"),
        ("BERAAD_DRAIN_DELAY_SECS", "2"),
        ("BERAAD_SHUTDOWN_TIMEOUT_SECS", "5"),
    ];
    let ports = [free_port(), free_port()];
    let metrics_ports = [free_port(), free_port()];
    for (i, port) in ports.into_iter().enumerate() {
        // Metrics on an address of their own, as Prometheus scrapes each node.
        let metrics_addr = format!("127.0.0.1:{}", metrics_ports[i]);
        let mut env = env.to_vec();
        env.push(("BERAAD_METRICS_ADDR", metrics_addr.as_str()));
        let node = start_beraad_with(&db_url, Some(&redis_url), port, i == 0, &env);
        topology.nodes.push(Some(node));
        wait_until_ready(&format!("http://127.0.0.1:{port}"), "a node").await;
    }
    let proxy_port = free_port();
    topology.nginx = Some(start_nginx(dir.path(), ports, proxy_port));
    let proxy = format!("http://127.0.0.1:{proxy_port}");
    wait_until_ready(&proxy, "nginx").await;

    // Everyone comes in through the proxy.
    let posters = [
        panelist(proxy_port, "UTRE-CHTP-ANEL2").await,
        panelist(proxy_port, "UTRE-CHTP-ANEL6").await,
    ];
    let (case, root, start) = open_demo_case(&posters[0]).await;
    let until = Arc::new(AtomicI64::new(0));
    let mut viewers = Vec::new();
    for code in ["UTRE-CHTP-ANEL3", "UTRE-CHTP-ANEL4", "UTRE-CHTP-ANEL5"] {
        let c = panelist(proxy_port, code).await;
        let cookie = c.session_cookie.clone().expect("session cookie");
        // Two tabs each: nginx hands consecutive upgrades to the nodes in turn, so both
        // nodes have viewers.
        for _ in 0..2 {
            viewers.push(tokio::spawn(view(
                format!("ws://127.0.0.1:{proxy_port}/api/v1/ws"),
                cookie.clone(),
                case,
                start,
                until.clone(),
            )));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Let every viewer subscribe before the first post.
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Both nodes have viewers, as their metrics say (no token on the metrics address);
    // the proxy does not pass /metrics on.
    let mut sockets = Vec::new();
    for port in metrics_ports {
        let r = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .expect("metrics address");
        assert_eq!(r.status(), StatusCode::OK);
        let text = r.text().await.expect("text");
        sockets.push(sample(&text, "beraad_ws_connections", &[]).unwrap_or(0.0));
        assert!(
            sample(&text, "beraad_db_pool_max_connections", &[]).is_some_and(|n| n >= 1.0),
            "{text}"
        );
        // The pool's wait is probed once a second, apart from any statement.
        assert!(
            sample(
                &text,
                "beraad_db_pool_wait_seconds_count",
                &["for=\"probe\""]
            )
            .is_some_and(|n| n >= 1.0),
            "{text}"
        );
    }
    assert_eq!(sockets.iter().sum::<f64>(), 6.0, "{sockets:?}");
    assert!(
        sockets[0] >= 1.0 && sockets[1] >= 1.0,
        "both nodes have viewers: {sockets:?}"
    );
    let r = reqwest::get(format!("{proxy}/metrics"))
        .await
        .expect("metrics");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let path = format!("/api/v1/cases/{case}/posts");
    let mut tries = 0;
    let mut signalled = None;
    for i in 0..POSTS {
        if i == SIGTERM_AFTER {
            let node = topology.nodes[0].as_ref().expect("node A");
            let ok = Command::new("kill")
                .args(["-TERM", &node.0.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "kill -TERM");
            signalled = Some(Instant::now());
            // The drained node says at once that it is not ready (it still answers
            // during its drain delay); the proxy still is ready.
            loop {
                let own = reqwest::get(format!("http://127.0.0.1:{}/readyz", ports[0]))
                    .await
                    .expect("the drained node still answers during its drain delay");
                let status = own.status();
                let own: Value = own.json().await.expect("json");
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    assert_eq!(own["status"], "draining", "{own}");
                    break;
                }
                assert!(
                    signalled.is_some_and(|t: Instant| t.elapsed() < Duration::from_secs(1)),
                    "still ready a second after SIGTERM: {own}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let through = reqwest::get(format!("{proxy}/readyz"))
                .await
                .expect("readyz");
            assert_eq!(
                through.status(),
                StatusCode::OK,
                "nginx tries the other node"
            );
        }
        let who = &posters[i % 2];
        let body = json!({"parent_id": root, "body": format!("Bijdrage {i} via de proxy.")});
        tries += post_surely(who, &path, body, &format!("proxy-test-{case}-{i}")).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let head = start + POSTS as i64;
    let (_, view_now) = posters[0].get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(view_now["event_seq"], head, "every post was created once");
    until.store(head, Ordering::Release);

    // The drained node exits by itself, in time and cleanly.
    let signalled = signalled.expect("signalled");
    let mut node_a = topology.nodes[0].take().expect("node A");
    let exit_by = signalled + Duration::from_secs(DRAIN_DELAY_SECS + SHUTDOWN_SECS + 2);
    let exit = loop {
        if let Some(s) = node_a.0.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < exit_by, "node A still runs after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let exited_after = signalled.elapsed();
    assert!(exit.success(), "node A exited with {exit:?}");

    let expected: Vec<i64> = (start + 1..=head).collect();
    let mut moved = 0;
    for viewer in viewers {
        let seen = tokio::time::timeout(Duration::from_secs(60), viewer)
            .await
            .expect("every viewer catches up")
            .expect("viewer task");
        assert_eq!(seen.seqs, expected, "every event exactly once, in order");
        assert!(
            seen.closes.iter().all(|c| *c == Some(1012)),
            "the only close a viewer sees is the drain's 1012: {:?}",
            seen.closes
        );
        if !seen.closes.is_empty() {
            moved += 1;
            assert!(seen.connects >= 2, "a closed viewer reconnected");
        }
    }
    eprintln!(
        "{moved} of 6 viewers moved to the other node; {tries} tries for {POSTS} posts; \
         node A exited {exited_after:?} after SIGTERM"
    );
    assert_eq!(moved as f64, sockets[0], "exactly node A's viewers moved");
}
