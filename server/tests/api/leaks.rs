//! The small leaks: HSTS behind https, `no-store` on what a session sees, control
//! characters refused at every door, formulas neutralised in every CSV, `HEAD` on an
//! export without side effects, and `/metrics` only for the holder of its token.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{Client, Engine, TestApp, code, spawn_app_with_http};
use beraad::realtime::HubSettings;
use beraad::service::ServiceSettings;

both_engines!(
    control_characters_are_refused_at_every_door,
    head_on_an_export_has_no_side_effects,
);

/// A server with the harness's defaults and HTTP settings changed by `http`.
async fn app_with(engine: Engine, http: impl FnOnce(&mut beraad::http::HttpSettings)) -> TestApp {
    let settings = ServiceSettings {
        rate_limits: beraad::service::ratelimit::RateLimits::unlimited(),
        ..ServiceSettings::default()
    };
    spawn_app_with_http(engine, HubSettings::default(), settings, http).await
}

/// A GET (or HEAD) with this client's cookies: status, headers and text.
async fn fetch(
    c: &Client,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut req = c.http.request(method, format!("{}{path}", c.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// A form post from a page of this client's session (the CSRF field filled in).
async fn form(c: &Client, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let mut all: Vec<(&str, &str)> = vec![("csrf", c.csrf.as_deref().expect("csrf"))];
    all.extend_from_slice(fields);
    let resp = c
        .http
        .post(format!("{}{path}", c.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&all).expect("form"))
        .send()
        .await
        .expect("form post");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_only_when_the_public_address_is_https() {
    let https = app_with(Engine::Sqlite, |s| {
        s.secure_cookies = true;
        s.hsts = true;
    })
    .await;
    let c = https.anonymous();
    for path in ["/healthz", "/", "/api/v1/cases", "/bestaat-niet"] {
        let (_, h, _) = fetch(&c, Method::GET, path, &[]).await;
        assert_eq!(
            header(&h, "strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    let http = app_with(Engine::Sqlite, |_| {}).await;
    let (_, h, _) = fetch(&http.anonymous(), Method::GET, "/", &[]).await;
    assert_eq!(header(&h, "strict-transport-security"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_for_a_session_and_exports_are_not_cached() {
    let app = app_with(Engine::Sqlite, |_| {}).await;
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;

    // The login answer carries the CSRF token and sets the session cookie.
    let resp = app
        .anonymous()
        .http
        .post(format!("{}/api/v1/auth/invite", app.base))
        .json(&json!({"code": t.codes[0]}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(resp.headers(), "cache-control"), Some("no-store"));

    let p = app.panelist(&t.codes[0]).await;
    let admin = app.staff(&t.admin).await;
    for (who, path) in [
        (&p, "/api/v1/cases".to_owned()),
        (&p, format!("/api/v1/cases/{case}/posts")),
        (&p, "/api/v1/auth/session".to_owned()),
        (&p, "/".to_owned()),
        (&p, format!("/casus/{case}")),
        (&admin, format!("/api/v1/cases/{case}/export?format=csv")),
        (&admin, format!("/api/v1/cases/{case}/export")),
        (
            &admin,
            "/api/v1/audit/export?municipality=utrecht".to_owned(),
        ),
        (&admin, "/beheer".to_owned()),
        (&admin, "/moderatie".to_owned()),
    ] {
        let (status, h, _) = fetch(who, Method::GET, &path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header(&h, "cache-control"), Some("no-store"), "{path}");
    }
    // Static assets are the same for everyone and keep their own rule.
    let (status, h, _) = fetch(&p, Method::GET, "/static/live.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "cache-control"), Some("no-cache"));
}

async fn control_characters_are_refused_at_every_door(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let posts = format!("/api/v1/cases/{case}/posts");

    // JSON API: NUL, BEL, ESC and DEL anywhere in a text are refused with one code.
    for body in [
        "Een NUL \u{0} midden in de tekst.",
        "Een bel \u{7} in de tekst.",
        "Kleur \u{1b}[31m in de terminal.",
        "Een DEL \u{7f} in de tekst.",
    ] {
        let (status, answer) = p
            .post(&posts, json!({"verdict": "eens", "body": body}))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body:?}: {answer}"
        );
        assert_eq!(code(&answer), "control_character", "{answer}");
    }
    // Also in a field the handler ignores, in a nested list and in a key.
    let admin = app.staff(&t.admin).await;
    let (status, answer) = admin
        .post(
            "/api/v1/cases",
            crate::helpers::case_body("utrecht", json!({"considerations": ["Goed\u{0}"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(code(&answer), "control_character");
    let (status, answer) = p
        .post(
            &posts,
            json!({"verdict": "eens", "body": "Netjes.", "x\u{0}": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(code(&answer), "control_character");
    // Logins too (a NUL made PostgreSQL fail with a 500).
    let (status, answer) = app
        .anonymous()
        .post("/api/v1/auth/invite", json!({"code": "ABCD\u{0}"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(code(&answer), "control_character");
    // And query parameters.
    let (status, answer) = admin.get("/api/v1/audit?municipality=utre%00cht").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(code(&answer), "control_character");

    // Newline, tab and carriage return are ordinary text (a CR LF is kept as a plain
    // line break).
    let text = "Eerste regel.\r\nTweede regel\tmet een tab.";
    let (status, stored) = p
        .post(&posts, json!({"verdict": "eens", "body": text}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert_eq!(stored["body"], "Eerste regel.\nTweede regel\tmet een tab.");

    // A suspension reason with control characters is neither stored nor shown.
    let m = app.staff(&t.moderator).await;
    let (_, item) = m
        .post(
            &format!("/api/v1/moderation/posts/{}/claim", stored["id"]),
            json!({}),
        )
        .await;
    let panelist = item["panelist_id"].as_i64().expect("panelist id");
    let (status, answer) = m
        .post(
            &format!("/api/v1/moderation/panelists/{panelist}/suspend"),
            json!({"hours": 24, "reason": "Beledigend\u{8}\u{8}\u{8}Vriendelijk"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(code(&answer), "control_character");
    // The same through the moderation page's form.
    let (status, page) = form(
        &m,
        &format!("/moderatie/panellid/{panelist}/schorsen"),
        &[
            ("days", "1"),
            ("reason", "Bel\u{7}\u{7}"),
            ("post", &stored["id"].to_string()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        !page.contains('\u{7}'),
        "the control character is not echoed"
    );
    let (status, answer) = p
        .post(
            &posts,
            json!({"parent_id": stored["id"], "body": "Ik ben niet geschorst."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "not suspended: {answer}");

    // A panelist's page form.
    let (status, page) = form(
        &other,
        &format!("/casus/{case}/reactie"),
        &[
            ("verdict", "oneens"),
            ("body", "Via de pagina met een \u{0} erin."),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(!page.contains('\u{0}'));

    let bodies: Vec<Value> = other
        .thread(case)
        .await
        .into_iter()
        .map(|p| p["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        vec![stored["body"].clone(), json!("Ik ben niet geschorst.")]
    );
}

async fn head_on_an_export_has_no_side_effects(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let admin = app.staff(&t.admin).await;
    let p = app.panelist(&t.codes[0]).await;
    let exports = async |admin: &Client| -> (usize, usize) {
        let (status, page) = admin
            .get("/api/v1/audit?municipality=utrecht&limit=500")
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let actions: Vec<&str> = page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["result"] == "ok")
            .filter_map(|e| e["action"].as_str())
            .collect();
        (
            actions.iter().filter(|a| **a == "case.export").count(),
            actions.iter().filter(|a| **a == "audit.export").count(),
        )
    };

    let export = format!("/api/v1/cases/{case}/export?format=csv");
    let (status, h, body) = fetch(&admin, Method::HEAD, &export, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), Some("text/csv; charset=utf-8"));
    assert!(body.is_empty());
    let audit = "/api/v1/audit/export?municipality=utrecht";
    let (status, h, _) = fetch(&admin, Method::HEAD, audit, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(exports(&admin).await, (0, 0), "HEAD exported nothing");

    // HEAD answers what GET would: a panelist may not export, nor may anyone anonymous.
    let (head_export, _, _) = fetch(&p, Method::HEAD, &export, &[]).await;
    let (head_audit, _, _) = fetch(&p, Method::HEAD, audit, &[]).await;
    let (status, _, _) = fetch(&app.anonymous(), Method::HEAD, &export, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(exports(&admin).await, (0, 0), "HEAD exported nothing");
    let (get_export, _, _) = fetch(&p, Method::GET, &export, &[]).await;
    let (get_audit, _, _) = fetch(&p, Method::GET, audit, &[]).await;
    assert_eq!(head_export, get_export);
    assert_eq!(head_audit, get_audit);
    assert_eq!(get_export, StatusCode::FORBIDDEN);
    assert_eq!(get_audit, StatusCode::FORBIDDEN);

    let (status, _, _) = fetch(&admin, Method::GET, &export, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = fetch(&admin, Method::GET, audit, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(exports(&admin).await, (1, 1), "each GET is audited once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_answer_only_the_holder_of_the_token() {
    let app = app_with(Engine::Sqlite, |s| {
        s.metrics_token = Some("meet-token-123".into());
    })
    .await;
    let c = app.anonymous();
    let (status, h, _) = fetch(&c, Method::GET, "/metrics", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(header(&h, "www-authenticate"), Some("Bearer"));
    let (status, _, _) = fetch(
        &c,
        Method::GET,
        "/metrics",
        &[("authorization", "Bearer meet-token-12")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, text) = fetch(
        &c,
        Method::GET,
        "/metrics",
        &[("authorization", "Bearer meet-token-123")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("beraad_ws_connections"), "{text}");

    // Without a token configured there is nothing at /metrics.
    let open = app_with(Engine::Sqlite, |_| {}).await;
    let (status, _, text) = fetch(&open.anonymous(), Method::GET, "/metrics", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!text.contains("beraad_"));
}

/// The operator's invitation CSV: names that a spreadsheet would run as a formula come
/// out as text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_csv_of_the_command_line_neutralises_formulas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/beraad.db", dir.path().display());
    {
        let store = beraad::store::Store::connect(&db, 2)
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        let service = beraad::service::Service::new(
            store.clone(),
            std::sync::Arc::new(beraad::service::clock::SystemClock),
            ServiceSettings::default(),
        );
        service
            .create_municipality("formule", "=HYPERLINK(\"https://kwaad.example\")")
            .await
            .expect("municipality");
        service
            .create_panel("formule", "formule", "\tPanel met tab")
            .await
            .expect("panel");
        store.close().await.expect("close");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_beraad"))
        .args(["invites", "create", "--panel", "formule", "--count", "2"])
        .env("BERAAD_DATABASE_URL", &db)
        .env("RUST_LOG", "warn")
        .output()
        .expect("beraad");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sheet = out
        .stdout
        .strip_prefix("\u{feff}".as_bytes())
        .expect("UTF-8 with a BOM");
    let mut rows = csv::Reader::from_reader(sheet);
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(&r[4], "'\tPanel met tab");
        assert_eq!(&r[5], "'=HYPERLINK(\"https://kwaad.example\")");
        for cell in r.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula cell {cell:?}"
            );
        }
    }
}

/// A `beraad serve` process, ended when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The flags and variables reach the server: an https public address turns HSTS on, and
/// `BERAAD_METRICS_TOKEN` (or `--metrics-token`) guards `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_hsts_and_the_metrics_token_from_its_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/beraad.db", dir.path().display());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let _server = Served(
        Command::new(env!("CARGO_BIN_EXE_beraad"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--metrics-token", "vlag-token"])
            .env("BERAAD_DATABASE_URL", &db)
            .env("BERAAD_PUBLIC_URL", "https://beraad.example.nl")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("beraad serve"),
    );
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = None;
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            ready = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = ready.expect("server started");
    assert_eq!(
        header(ready.headers(), "strict-transport-security"),
        Some("max-age=31536000")
    );
    let status = |r: reqwest::Response| r.status();
    let anonymous = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(status(anonymous), StatusCode::UNAUTHORIZED);
    let with_token = http
        .get(format!("{base}/metrics"))
        .bearer_auth("vlag-token")
        .send()
        .await
        .expect("metrics");
    assert_eq!(status(with_token), StatusCode::OK);
}
