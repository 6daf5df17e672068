//! Two `beraad` processes on one PostgreSQL database and one Redis of the test's own:
//! what is posted on node A reaches viewers on node B in order, and after Redis is
//! stopped and started again mid-stream every viewer still has every event exactly once.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Client, Ws, create_pg_database, drop_pg_database};
use crate::metrics::sample;

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn start_redis(port: u16) -> Proc {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (it is on CI machines)");
    Proc(child)
}

pub async fn wait_until_ready(base: &str, what: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "{what} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn wait_for_redis(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "redis did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two `beraad` nodes on one fresh PostgreSQL database with a Redis of the test's own
/// between them; node A seeds the demo. Dropping it stops them and drops the database.
struct TwoNodes {
    port_a: u16,
    port_b: u16,
    redis_port: u16,
    redis: Option<Proc>,
    nodes: Option<(Proc, Proc)>,
    db_name: String,
}

impl TwoNodes {
    /// Starts Redis and both nodes (with `env` set on each) and waits until both are ready.
    async fn start(env: &[(&str, &str)]) -> TwoNodes {
        let (db_url, db_name) = create_pg_database().await;
        let redis_port = free_port();
        let redis_url = format!("redis://127.0.0.1:{redis_port}");
        let redis = start_redis(redis_port);
        wait_for_redis(redis_port).await;
        let (port_a, port_b) = (free_port(), free_port());
        let a = start_beraad_with(&db_url, Some(&redis_url), port_a, true, env);
        wait_until_ready(&format!("http://127.0.0.1:{port_a}"), "node A").await;
        let b = start_beraad_with(&db_url, Some(&redis_url), port_b, false, env);
        wait_until_ready(&format!("http://127.0.0.1:{port_b}"), "node B").await;
        TwoNodes {
            port_a,
            port_b,
            redis_port,
            redis: Some(redis),
            nodes: Some((a, b)),
            db_name,
        }
    }

    /// The running Redis.
    fn redis(&self) -> &Proc {
        self.redis.as_ref().expect("redis running")
    }

    /// Stops Redis (the process is killed).
    fn stop_redis(&mut self) {
        self.redis = None;
    }

    /// Starts Redis again on its port.
    async fn start_redis(&mut self) {
        self.redis = Some(start_redis(self.redis_port));
        wait_for_redis(self.redis_port).await;
    }
}

impl Drop for TwoNodes {
    fn drop(&mut self) {
        self.nodes = None;
        self.redis = None;
        drop_pg_database(std::mem::take(&mut self.db_name));
    }
}

/// Starts `beraad serve` on `db_url` (and Redis, if given) at `port`, with the demo
/// seeded when `demo`, and without per-panelist rate limits.
pub fn start_beraad(db_url: &str, redis_url: Option<&str>, port: u16, demo: bool) -> Proc {
    start_beraad_with(db_url, redis_url, port, demo, &[])
}

/// [`start_beraad`] with further environment settings.
pub fn start_beraad_with(
    db_url: &str,
    redis_url: Option<&str>,
    port: u16,
    demo: bool,
    env: &[(&str, &str)],
) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beraad"));
    cmd.envs(env.iter().copied());
    if let Some(url) = redis_url {
        cmd.env("BERAAD_REDIS_URL", url);
    }
    cmd.arg("serve")
        .env("BERAAD_DATABASE_URL", db_url)
        .env("BERAAD_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .env("BERAAD_RATE_LIMITS", "post=0.001/1000,reply=0.001/1000")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if demo {
        cmd.arg("--demo");
    }
    Proc(cmd.spawn().expect("start beraad"))
}

pub fn client(port: u16) -> Client {
    Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client"),
        base: format!("http://127.0.0.1:{port}"),
        ws_url: format!("ws://127.0.0.1:{port}/api/v1/ws"),
        csrf: None,
        session_cookie: None,
    }
}

pub async fn panelist(port: u16, code: &str) -> Client {
    let mut c = client(port);
    c.login("/api/v1/auth/invite", json!({"code": code})).await;
    c
}

/// The demo's first open case as `who` sees it: its id, the first post of its thread and
/// the head of its event log.
pub async fn open_demo_case(who: &Client) -> (i64, i64, i64) {
    let (_, cases) = who.get("/api/v1/cases").await;
    let case = cases
        .as_array()
        .and_then(|l| l.iter().find(|c| c["status"] == "open"))
        .and_then(|c| c["id"].as_i64())
        .expect("an open demo case");
    let (_, thread) = who.get(&format!("/api/v1/cases/{case}/posts")).await;
    let root = thread["posts"][0]["id"].as_i64().expect("a demo post");
    let (_, view) = who.get(&format!("/api/v1/cases/{case}")).await;
    (case, root, view["event_seq"].as_i64().expect("head"))
}

/// Reads events until the viewer has seen `head`; returns the sequence numbers seen.
async fn collect_until(ws: &mut Ws, head: i64, seen: &mut Vec<i64>) {
    while seen.last().copied().unwrap_or(0) < head {
        let v = ws.next().await.expect("socket open");
        if v["type"] == "event" {
            seen.push(v["seq"].as_i64().expect("seq"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_every_event_once_across_a_redis_restart() {
    let mut nodes = TwoNodes::start(&[]).await;
    let (port_a, port_b) = (nodes.port_a, nodes.port_b);

    // The demo's first Utrecht panelist posts on node A, into an open case's thread.
    let poster = panelist(port_a, "UTRE-CHTP-ANEL2").await;
    let (case, root, start) = open_demo_case(&poster).await;

    // Viewers: two on node B, one on node A.
    let mut viewers = Vec::new();
    for (port, code) in [
        (port_b, "UTRE-CHTP-ANEL3"),
        (port_b, "UTRE-CHTP-ANEL4"),
        (port_a, "UTRE-CHTP-ANEL5"),
    ] {
        let c = panelist(port, code).await;
        let mut ws = c.ws_with_origin(None).await.expect("ws");
        let ack = ws.subscribe(case, start).await;
        assert!(ack["head"].as_i64().unwrap() >= start);
        viewers.push((c, ws, Vec::<i64>::new()));
    }
    let url = format!("/api/v1/cases/{case}/posts");
    let reply = |i: usize| json!({"parent_id": root, "body": format!("Bericht {i} van node A.")});

    // Presence counts the viewers of both nodes together.
    let on_a = &mut viewers[2].1;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let p = on_a.next_of("presence").await;
        if p["panelists"] == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "presence over both nodes never reached 3: {p}"
        );
    }

    // 1. Live, in order, across nodes.
    for i in 0..5 {
        let (status, body) = poster.post(&url, reply(i)).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    }
    for (_, ws, seen) in &mut viewers {
        let mut bodies = Vec::new();
        while seen.len() < 5 {
            let v = ws.next().await.expect("open");
            if v["type"] == "event" {
                seen.push(v["seq"].as_i64().unwrap());
                bodies.push(v["post"]["body"].clone());
            }
        }
        let expected: Vec<Value> = (0..5)
            .map(|i| json!(format!("Bericht {i} van node A.")))
            .collect();
        assert_eq!(bodies, expected);
    }

    // 2. Redis stops mid-stream; posting goes on; Redis comes back; posting goes on.
    nodes.stop_redis();
    for i in 5..15 {
        poster.post(&url, reply(i)).await;
    }
    nodes.start_redis().await;
    for i in 15..25 {
        poster.post(&url, reply(i)).await;
    }
    let (_, case_view) = poster.get(&format!("/api/v1/cases/{case}")).await;
    let head = case_view["event_seq"].as_i64().unwrap();
    assert_eq!(head, start + 25);
    for (_, ws, seen) in &mut viewers {
        tokio::time::timeout(Duration::from_secs(20), collect_until(ws, head, seen))
            .await
            .expect("every viewer catches up");
        let expected: Vec<i64> = (start + 1..=head).collect();
        assert_eq!(*seen, expected, "every event exactly once, in order");
        ws.quiet(300).await;
    }
    // 3. A viewer that reconnects to the other node resumes exactly.
    let (c, ws, seen) = viewers.remove(0);
    drop(ws);
    poster.post(&url, reply(25)).await;
    let moved = {
        let mut m = client(port_a);
        m.session_cookie = c.session_cookie.clone();
        m
    };
    let mut ws = moved.ws_with_origin(None).await.expect("ws on A");
    let last = *seen.last().unwrap();
    ws.subscribe(case, last).await;
    let e = ws.next_of("event").await;
    assert_eq!(e["seq"], last + 1);
    assert_eq!(e["post"]["body"], "Bericht 25 van node A.");
}

/// Sends SIGSTOP or SIGCONT to a process.
fn signal(p: &Proc, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &p.0.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_slows_no_request_and_loses_no_event() {
    let nodes = TwoNodes::start(&[]).await;
    let (port_a, port_b) = (nodes.port_a, nodes.port_b);
    let poster = panelist(port_a, "UTRE-CHTP-ANEL2").await;
    let (case, root, start) = open_demo_case(&poster).await;
    let viewer = panelist(port_b, "UTRE-CHTP-ANEL3").await;
    let mut ws = viewer.ws_with_origin(None).await.expect("ws");
    ws.subscribe(case, start).await;

    // Redis stops answering (SIGSTOP), without closing its connections.
    signal(nodes.redis(), "-STOP");
    let url = format!("/api/v1/cases/{case}/posts");
    for i in 0..10 {
        let started = Instant::now();
        let (status, body) = poster
            .post(
                &url,
                json!({"parent_id": root, "body": format!("Bericht {i} terwijl Redis hangt.")}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a post took {:?} while Redis hung",
            started.elapsed()
        );
    }
    // Readiness stays 200 (every node still serves its own clients) and says the bus is
    // degraded once Redis missed its once-a-second exchange.
    for port in [port_a, port_b] {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let started = Instant::now();
            let r = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
                .await
                .expect("readyz");
            assert!(started.elapsed() < Duration::from_secs(1));
            assert_eq!(
                r.status(),
                reqwest::StatusCode::OK,
                "a hung Redis fails no node"
            );
            let body: Value = r.json().await.expect("json");
            if body["bus"] == "degraded" {
                break;
            }
            assert!(Instant::now() < deadline, "never reported degraded: {body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // The viewer on the other node gets every event through the sweep of log heads.
    let mut seen = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        collect_until(&mut ws, start + 10, &mut seen),
    )
    .await
    .expect("the viewer on node B catches up while Redis hangs");
    signal(nodes.redis(), "-CONT");
    for i in 10..15 {
        poster
            .post(
                &url,
                json!({"parent_id": root, "body": format!("Bericht {i} na Redis.")}),
            )
            .await;
    }
    tokio::time::timeout(
        Duration::from_secs(10),
        collect_until(&mut ws, start + 15, &mut seen),
    )
    .await
    .expect("and after Redis answers again");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = reqwest::get(format!("http://127.0.0.1:{port_b}/readyz"))
            .await
            .expect("readyz");
        let body: Value = r.json().await.expect("json");
        if body["bus"] == "ok" {
            break;
        }
        assert!(Instant::now() < deadline, "the bus never recovered: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let expected: Vec<i64> = (start + 1..=start + 15).collect();
    assert_eq!(seen, expected, "every event exactly once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_on_one_node_closes_the_panelist_s_socket_on_another() {
    let nodes = TwoNodes::start(&[]).await;
    let (port_a, port_b) = (nodes.port_a, nodes.port_b);
    let resident = panelist(port_b, "UTRE-CHTP-ANEL4").await;
    let (case, root, _) = open_demo_case(&resident).await;
    let mut ws = resident.ws_with_origin(None).await.expect("ws");
    ws.subscribe(case, 0).await;
    let (_, held) = resident
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": root, "body": "Bel me op 06-12345678, dan leg ik het uit."}),
        )
        .await;
    assert_eq!(held["status"], "pending", "{held}");
    let mut moderator = client(port_a);
    moderator
        .login(
            "/api/v1/auth/login",
            json!({"email": "moderator@utrecht.demo", "password": "beraad-demo-2026"}),
        )
        .await;
    moderator.suspend_author_of(&held).await;
    assert!(
        ws.closed_within(1500).await,
        "the socket on node B was still open 1.5 s later"
    );
}

/// The metrics of the node at `port`, with the test's token.
async fn scrape(port: u16) -> String {
    let r = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    r.text().await.expect("text")
}

const METRICS_TOKEN: &str = "multinode-metrics";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_between_nodes_goes_through_redis_and_its_reconnect_not_only_the_sweep() {
    // A sweep every ten minutes: within this test only Redis can carry a ring.
    let mut nodes = TwoNodes::start(&[
        ("BERAAD_SWEEP_INTERVAL_MS", "600000"),
        ("BERAAD_METRICS_TOKEN", METRICS_TOKEN),
    ])
    .await;
    let (port_a, port_b) = (nodes.port_a, nodes.port_b);
    let poster = panelist(port_a, "UTRE-CHTP-ANEL2").await;
    let (case, root, start) = open_demo_case(&poster).await;
    let viewer = panelist(port_b, "UTRE-CHTP-ANEL3").await;
    let mut ws = viewer.ws_with_origin(None).await.expect("ws");
    ws.subscribe(case, start).await;
    // Node B must follow the case on Redis before the first post.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let post = |i: usize| json!({"parent_id": root, "body": format!("Bericht {i} over de bus.")});

    // 1. Redis carries the ring: the viewer on B has the post within two seconds.
    poster.post(&url, post(0)).await;
    let mut seen = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(2),
        collect_until(&mut ws, start + 1, &mut seen),
    )
    .await
    .expect("delivered through Redis");
    // The round trip to Redis is counted on A, B's one subscription on B.
    let on_a = scrape(port_a).await;
    let published = |text: &str| {
        sample(
            text,
            "beraad_redis_publish_duration_seconds_count",
            &["outcome=\"ok\""],
        )
        .unwrap_or(0.0)
    };
    assert!(published(&on_a) >= 1.0, "{on_a}");
    let subscribes = |text: &str| {
        sample(
            text,
            "beraad_redis_connects_total",
            &["connection=\"subscribe\""],
        )
        .unwrap_or(0.0)
    };
    let on_b = scrape(port_b).await;
    assert_eq!(subscribes(&on_b), 1.0, "{on_b}");
    assert_eq!(sample(&on_b, "beraad_redis_subscribed", &[]), Some(1.0));
    // 2. Without Redis, and with the sweep far away, nothing reaches B; B says so.
    nodes.stop_redis();
    tokio::time::sleep(Duration::from_millis(300)).await;
    poster.post(&url, post(1)).await;
    ws.quiet(2000).await;
    assert_eq!(
        sample(&scrape(port_b).await, "beraad_redis_subscribed", &[]),
        Some(0.0)
    );
    // 3. Redis returns: the bus reconnects, rings every room, and B catches up.
    nodes.start_redis().await;
    tokio::time::timeout(
        Duration::from_secs(10),
        collect_until(&mut ws, start + 2, &mut seen),
    )
    .await
    .expect("caught up after the bus reconnected");
    assert_eq!(seen, vec![start + 1, start + 2]);
    let on_b = scrape(port_b).await;
    assert_eq!(subscribes(&on_b), 2.0, "the reconnect is counted: {on_b}");
    assert_eq!(sample(&on_b, "beraad_redis_subscribed", &[]), Some(1.0));
    // A's publishing connection comes back too: a post after the restart reaches B
    // through Redis, and A counts it.
    poster.post(&url, post(2)).await;
    tokio::time::timeout(
        Duration::from_secs(5),
        collect_until(&mut ws, start + 3, &mut seen),
    )
    .await
    .expect("delivered through Redis after its restart");
    let after = scrape(port_a).await;
    assert!(published(&after) >= 2.0, "{after}");
}
