//! Test harness: a real server on a free port over a fresh database (a SQLite file in a
//! temporary folder, or a new PostgreSQL database), and HTTP clients that keep cookies
//! and send the CSRF token like a browser page would.

use std::collections::BTreeSet;
use std::sync::Arc;

use beraad::domain::Role;
use beraad::http::{AppState, HttpSettings, Server};
use beraad::service::clock::SystemClock;
use beraad::service::{AuditContext, Service, ServiceSettings};
use beraad::store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Password of the staff accounts the harness creates.
pub const STAFF_PASSWORD: &str = "een-lang-testwachtwoord";

/// Where the tests find PostgreSQL (a server with the right to create databases).
fn postgres_admin_url() -> String {
    std::env::var("BERAAD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Creates a fresh PostgreSQL database; returns its URL and name.
pub async fn create_pg_database() -> (String, String) {
    let name = format!("beraad_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Store::connect(&postgres_admin_url(), 1)
        .await
        .expect("PostgreSQL must run at BERAAD_TEST_POSTGRES_URL (default 127.0.0.1:5432)");
    sea_orm::ConnectionTrait::execute_unprepared(admin.db(), &format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let base = postgres_admin_url();
    let url = format!("{}/{name}", base.rsplit_once('/').expect("url").0);
    (url, name)
}

/// Drops a test database (from a thread of its own: callers may be in `Drop`).
pub fn drop_pg_database(name: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async move {
            if let Ok(admin) = Store::connect(&postgres_admin_url(), 1).await {
                let _ = sea_orm::ConnectionTrait::execute_unprepared(
                    admin.db(),
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )
                .await;
                admin.close().await.ok();
            }
        });
    })
    .join();
}

/// A running server with its own database.
pub struct TestApp {
    pub base: String,
    pub ws_url: String,
    pub service: Arc<Service>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

/// Starts a server over a fresh, migrated database.
pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, beraad::realtime::HubSettings::default()).await
}

/// Starts a server with explicit real-time settings.
pub async fn spawn_app_with(
    engine: Engine,
    hub_settings: beraad::realtime::HubSettings,
) -> TestApp {
    // Scenarios write faster than people do; the limits have tests of their own.
    let settings = ServiceSettings {
        rate_limits: beraad::service::ratelimit::RateLimits::unlimited(),
        ..ServiceSettings::default()
    };
    spawn_app_with_settings(engine, hub_settings, settings).await
}

/// Starts a server with explicit service and real-time settings.
pub async fn spawn_app_with_settings(
    engine: Engine,
    hub_settings: beraad::realtime::HubSettings,
    settings: ServiceSettings,
) -> TestApp {
    spawn_app_with_http(engine, hub_settings, settings, |_| {}).await
}

/// Starts a server with explicit settings, letting `http` change the HTTP settings the
/// harness uses (an https public address, a metrics token, …).
pub async fn spawn_app_with_http(
    engine: Engine,
    hub_settings: beraad::realtime::HubSettings,
    settings: ServiceSettings,
    http: impl FnOnce(&mut HttpSettings),
) -> TestApp {
    let (database_url, dir, pg_database) = match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}/beraad.db", dir.path().display());
            (url, Some(dir), None)
        }
        Engine::Postgres => {
            let (url, name) = create_pg_database().await;
            (url, None, Some(name))
        }
    };
    let mut app = spawn_app_on(&database_url, hub_settings, settings, http).await;
    app._dir = dir;
    app.pg_database = pg_database;
    app
}

/// Starts a server over the database at `database_url` (which the caller made and
/// cleans up), migrating it first.
pub async fn spawn_app_on(
    database_url: &str,
    hub_settings: beraad::realtime::HubSettings,
    settings: ServiceSettings,
    http: impl FnOnce(&mut HttpSettings),
) -> TestApp {
    let store = Store::connect(database_url, 8).await.expect("connect");
    store.migrate().await.expect("migrate");
    let service = Arc::new(Service::new(store, Arc::new(SystemClock), settings));
    let (hub, _) =
        beraad::realtime::start_with(service.clone(), None, hub_settings).expect("realtime");
    let mut http_settings = HttpSettings {
        allowed_origins: vec!["http://beraad.test".into()],
        secure_cookies: false,
        // Tests stand in for a proxy on this machine and name clients in
        // X-Forwarded-For.
        trusted_proxies: beraad::http::extract::TrustedProxies::loopback(),
        limits: beraad::http::ServerLimits::default(),
        hsts: false,
        metrics_token: None,
    };
    http(&mut http_settings);
    let state = AppState {
        hub: Some(hub),
        redis: None,
        service: service.clone(),
        settings: Arc::new(http_settings),
    };
    let server = Server::bind("127.0.0.1:0", state).await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        ws_url: format!("ws://{addr}/api/v1/ws"),
        service,
        shutdown: Some(tx),
        _dir: None,
        pg_database: None,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(name) = self.pg_database.take() {
            drop_pg_database(name);
        }
    }
}

/// A municipality with a panel, staff in each role and panelists with known codes.
pub struct Tenant {
    pub slug: String,
    pub codes: Vec<String>,
    pub admin: String,
    pub moderator: String,
    pub analyst: String,
}

impl TestApp {
    /// Creates municipality `slug` with panel `slug`, `panelists` invite codes and one
    /// staff member per role (`admin@slug.test`, …).
    pub async fn tenant(&self, slug: &str, panelists: u32) -> Tenant {
        let s = &self.service;
        let ctx = AuditContext::cli();
        s.create_municipality(slug, &format!("Gemeente {slug}"))
            .await
            .expect("municipality");
        s.create_panel(slug, slug, &format!("Panel {slug}"))
            .await
            .expect("panel");
        let codes = if panelists == 0 {
            Vec::new()
        } else {
            s.create_invites(slug, panelists, &ctx)
                .await
                .expect("invites")
                .into_iter()
                .map(|i| i.code)
                .collect()
        };
        let mut emails = Vec::new();
        for role in [Role::Admin, Role::Moderator, Role::Analyst] {
            let email = format!("{}@{slug}.test", role.as_str());
            s.create_staff(slug, &email, "", role, STAFF_PASSWORD, &ctx)
                .await
                .expect("staff");
            emails.push(email);
        }
        Tenant {
            slug: slug.into(),
            codes,
            admin: emails[0].clone(),
            moderator: emails[1].clone(),
            analyst: emails[2].clone(),
        }
    }

    /// A client without a session.
    pub fn anonymous(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
            base: self.base.clone(),
            ws_url: self.ws_url.clone(),
            csrf: None,
            session_cookie: None,
        }
    }

    /// A panelist logged in with `code`.
    pub async fn panelist(&self, code: &str) -> Client {
        let mut c = self.anonymous();
        c.login("/api/v1/auth/invite", json!({"code": code})).await;
        c
    }

    /// A staff member logged in.
    pub async fn staff(&self, email: &str) -> Client {
        let mut c = self.anonymous();
        c.login(
            "/api/v1/auth/login",
            json!({"email": email, "password": STAFF_PASSWORD}),
        )
        .await;
        c
    }

    /// An open case before the tenant's panel, created and opened by its admin; returns
    /// its id.
    pub async fn open_case(&self, tenant: &Tenant, extra: Value) -> i64 {
        let admin = self.staff(&tenant.admin).await;
        let id = create_case(&admin, &tenant.slug, extra).await;
        let (status, body) = admin
            .post(&format!("/api/v1/cases/{id}/open"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        id
    }
}

/// A minimal valid case body for `municipality`, with `extra` fields merged in.
pub fn case_body(municipality: &str, extra: Value) -> Value {
    let mut body = json!({
        "municipality": municipality,
        "title": "Traplift afgewezen",
        "domain": "wmo",
        "provision": "Traplift",
        "outcome": "afgewezen",
        "summary": "Een traplift werd afgewezen.",
        "situation": "Mevrouw A. woont in een eengezinswoning met een trap.",
        "decision": "De gemeente wijst de traplift af en adviseert te verhuizen.",
        "considerations": ["Verhuizen is goedkoper dan een traplift."],
        "frame": [{"title": "Artikel 2.3.5 Wmo 2015", "text": "De gemeente kijkt eerst naar eigen kracht."}],
        "trail": [{"date": "2026-01-10", "step": "Melding", "text": "Mevrouw meldt zich bij het Wmo-loket."}],
        "questions": ["Vindt u het besluit redelijk?"],
        "panels": [municipality],
        "min_length": 10,
        "max_length": 500,
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Creates a draft case; returns its id.
pub async fn create_case(admin: &Client, municipality: &str, extra: Value) -> i64 {
    let (status, body) = admin
        .post("/api/v1/cases", case_body(municipality, extra))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().expect("id")
}

/// An HTTP client with a cookie jar, sending the CSRF token on writes.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub ws_url: String,
    pub csrf: Option<String>,
    pub session_cookie: Option<String>,
}

impl Client {
    /// Logs in at `path`, keeping the CSRF token and the session cookie.
    pub async fn login(&mut self, path: &str, body: Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), StatusCode::OK);
        self.session_cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()
                    .filter(|c| c.starts_with("beraad_session="))
            })
            .map(str::to_owned);
        let body: Value = resp.json().await.expect("json");
        self.csrf = body["csrf_token"].as_str().map(str::to_owned);
    }

    /// Opens a WebSocket whose socket has a tiny receive buffer, for a client that stops
    /// reading.
    pub async fn ws_small_buffer(&self) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = self.ws_url.as_str().into_client_request().expect("request");
        if let Some(cookie) = &self.session_cookie {
            req.headers_mut()
                .insert("cookie", cookie.parse().expect("cookie"));
        }
        let addr: std::net::SocketAddr = self
            .ws_url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .expect("addr");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("rcvbuf");
        let tcp = socket.connect(addr).await.expect("connect");
        let (stream, _) =
            tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
                .await
                .expect("ws");
        Ws { stream }
    }

    /// Opens a WebSocket with this client's session.
    pub async fn ws(&self) -> Ws {
        self.ws_with_origin(Some("http://beraad.test"))
            .await
            .expect("ws upgrade")
    }

    /// Opens a WebSocket with an explicit `Origin` (or none); the upgrade's HTTP status
    /// on refusal.
    pub async fn ws_with_origin(&self, origin: Option<&str>) -> Result<Ws, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = self.ws_url.as_str().into_client_request().expect("request");
        if let Some(cookie) = &self.session_cookie {
            req.headers_mut()
                .insert("cookie", cookie.parse().expect("cookie"));
        }
        if let Some(origin) = origin {
            req.headers_mut()
                .insert("origin", origin.parse().expect("origin"));
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((stream, _)) => Ok(Ws { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("ws connect: {e}"),
        }
    }

    /// Sends a request; returns status and JSON body (`Null` if the body is not JSON).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if method != Method::GET
            && let Some(csrf) = &self.csrf
        {
            req = req.header("x-csrf-token", csrf);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// As a moderator of utrecht: suspends the author of a held post (found in the
    /// held queue) for a day, and asserts it worked.
    pub async fn suspend_author_of(&self, held: &Value) {
        let (_, queue) = self
            .get("/api/v1/moderation/utrecht/queue?kind=pending")
            .await;
        let item = queue["items"]
            .as_array()
            .and_then(|l| l.iter().find(|i| i["post"]["id"] == held["id"]))
            .cloned()
            .unwrap_or_else(|| panic!("held post {} in the queue: {queue}", held["id"]));
        let (status, body) = self
            .post(
                &format!(
                    "/api/v1/moderation/panelists/{}/suspend",
                    item["panelist_id"]
                ),
                json!({"hours": 24, "reason": "herhaald persoonsgegevens"}),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
    }

    /// A GET whose answer is not JSON (CSV, JSON Lines): status and text.
    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = resp.status();
        (status, resp.text().await.expect("body"))
    }

    /// A case's thread as this client sees it (first 100 posts).
    pub async fn thread(&self, case: i64) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/v1/cases/{case}/posts?limit=100"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["posts"].as_array().cloned().unwrap_or_default()
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(body), &[]).await
    }
}

/// The error code of an error answer.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// Declares a scenario `async fn name(app: TestApp)` as two tests, one per engine.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Engine::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Engine::Postgres).await).await
                }
            }
        )+
    };
}

/// A test WebSocket client that collects what the server sends.
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Ws {
    /// Sends a JSON message.
    pub async fn send(&mut self, v: Value) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::text(v.to_string()))
            .await
            .expect("ws send");
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::text(text))
            .await
            .expect("ws send");
    }

    /// The next JSON message within five seconds, or `None` if the socket closed.
    pub async fn next(&mut self) -> Option<Value> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let msg = tokio::time::timeout(std::time::Duration::from_secs(5), self.stream.next())
                .await
                .expect("no message from the server within 5 s");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Some(serde_json::from_str(t.as_str()).expect("json"));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next frame of any kind, or `None` once the socket closed (no time-out).
    pub async fn next_raw(&mut self) -> Option<tokio_tungstenite::tungstenite::Message> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        match self.stream.next().await {
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => None,
            Some(Ok(m)) => Some(m),
        }
    }

    /// Whether the socket closes (a close frame or end of stream) within `ms`.
    pub async fn closed_within(&mut self, ms: u64) -> bool {
        let wait = std::time::Duration::from_millis(ms);
        tokio::time::timeout(wait, async { while self.next_raw().await.is_some() {} })
            .await
            .is_ok()
    }

    /// The next message of type `kind`, skipping presence updates.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let v = self.next().await.expect("socket closed");
            if v["type"] == kind {
                return v;
            }
            assert_eq!(v["type"], "presence", "expected {kind}, got {v}");
        }
    }

    /// Subscribes and returns the acknowledgement.
    pub async fn subscribe(&mut self, case: i64, after: i64) -> Value {
        self.send(json!({"type": "subscribe", "topic": format!("case:{case}"), "after": after}))
            .await;
        self.next_of("subscribed").await
    }

    /// The next `n` events (skipping presence).
    pub async fn events(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            out.push(self.next_of("event").await);
        }
        out
    }

    /// Asserts nothing but presence arrives within `ms` milliseconds.
    pub async fn quiet(&mut self, ms: u64) {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Text(t)))) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("json");
                    assert_eq!(v["type"], "presence", "unexpected message {v}");
                }
                Ok(_) => {}
            }
        }
    }
}

/// The `(METHOD, path)` pairs a router function registers with `.route(…)`, read from
/// its source (axum cannot list its routes), with `prefix` before each path.
pub fn routes_in(src: &str, function: &str, prefix: &str) -> BTreeSet<(String, String)> {
    let body = src
        .split(&format!("pub fn {function}("))
        .nth(1)
        .unwrap_or_else(|| panic!("fn {function} in the source"));
    // Up to the end of the function: the next item at the start of a line.
    let body = body.split("\n}").next().unwrap_or(body);
    let mut out = BTreeSet::new();
    for chunk in body.split(".route(").skip(1) {
        let mut depth = 1;
        let end = chunk
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("a closed .route( call");
        let call = &chunk[..end];
        let path = call.split('"').nth(1).expect("a path literal");
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            let needle = format!("{method}(");
            for (i, _) in call.match_indices(&needle) {
                if matches!(
                    call[..i].chars().last(),
                    Some('.' | ':' | '(' | ',' | ' ' | '\n')
                ) {
                    out.insert((method.to_uppercase(), format!("{prefix}{path}")));
                }
            }
        }
    }
    out
}
