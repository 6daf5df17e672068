//! Logging in and out, sessions, CSRF and origin checks, login throttling.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_engines;
use crate::helpers::{STAFF_PASSWORD, TestApp, code};

both_engines!(
    panelist_logs_in_with_code_as_typed_from_letter,
    wrong_code_is_refused_without_a_session,
    staff_login_and_logout,
    writes_need_the_csrf_token,
    foreign_origin_cannot_write,
    login_guessing_is_throttled_per_ip,
    staff_change_their_password_and_other_sessions_end,
    only_the_rightmost_untrusted_forwarded_address_counts,
    ipv6_clients_share_a_throttle_per_64,
    password_guessing_backs_off_per_account_from_any_address,
    password_change_guessing_backs_off_per_account,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    use crate::helpers::{Engine, spawn_app_with_http};
    // The test client (127.0.0.1) is not the configured proxy.
    let app = spawn_app_with_http(
        Engine::Sqlite,
        beraad::realtime::HubSettings::default(),
        beraad::service::ServiceSettings::default(),
        |http| {
            http.trusted_proxies =
                beraad::http::extract::TrustedProxies::parse("10.0.0.0/8").expect("list");
        },
    )
    .await;
    let c = app.anonymous();
    let mut statuses = Vec::new();
    for i in 0..11 {
        let spoofed = format!("198.51.100.{i}");
        let (status, _) = c
            .send(
                Method::POST,
                "/api/v1/auth/invite",
                Some(json!({"code": "ABCD-EFGH-JKLMN"})),
                &[("x-forwarded-for", spoofed.as_str())],
            )
            .await;
        statuses.push(status);
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "a made-up X-Forwarded-For does not give a fresh budget: {statuses:?}"
    );
}

/// Eleven failing code logins with the given `X-Forwarded-For` values; the statuses.
async fn eleven_attempts(app: &TestApp, forwarded: impl Fn(u32) -> String) -> Vec<StatusCode> {
    let c = app.anonymous();
    let mut statuses = Vec::new();
    for i in 0..11 {
        let from = forwarded(i);
        let (status, _) = c
            .send(
                Method::POST,
                "/api/v1/auth/invite",
                Some(json!({"code": "ABCD-EFGH-JKLMN"})),
                &[("x-forwarded-for", from.as_str())],
            )
            .await;
        statuses.push(status);
    }
    statuses
}

async fn only_the_rightmost_untrusted_forwarded_address_counts(app: TestApp) {
    // The harness trusts loopback as its proxy. A client that writes its own
    // X-Forwarded-For only adds entries to the left of what the proxy appended.
    let statuses = eleven_attempts(&app, |i| format!("192.0.2.{i}, 203.0.113.7")).await;
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // Further trusted proxies on the right are skipped as well.
    let statuses = eleven_attempts(&app, |i| format!("192.0.2.{i}, 203.0.113.8, 127.0.0.1")).await;
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // Another client behind the same proxy keeps its own budget.
    let statuses = eleven_attempts(&app, |_| "203.0.113.9".to_owned()).await;
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
}

async fn ipv6_clients_share_a_throttle_per_64(app: TestApp) {
    let statuses = eleven_attempts(&app, |i| format!("2001:db8:1:2::{:x}", i + 1)).await;
    assert_eq!(
        statuses[10],
        StatusCode::TOO_MANY_REQUESTS,
        "one /64 is one client: {statuses:?}"
    );
    let statuses = eleven_attempts(&app, |_| "2001:db8:1:3::1".to_owned()).await;
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED, "another /64 is not");
}

/// A password login from `from`: status, error code and `Retry-After`.
async fn password_login(
    app: &TestApp,
    email: &str,
    password: &str,
    from: &str,
) -> (StatusCode, String, Option<u64>) {
    let resp = app
        .anonymous()
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("x-forwarded-for", from)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login");
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    (status, code(&body).to_owned(), retry)
}

async fn password_guessing_backs_off_per_account_from_any_address(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    for email in [t.admin.as_str(), "niemand@utrecht.test"] {
        let mut first_limited = None;
        for i in 0..20u32 {
            let from = format!(
                "198.51.{}.{}",
                100 + i,
                if email == t.admin { 1 } else { 2 }
            );
            let (status, code, retry) =
                password_login(&app, email, "een verkeerd wachtwoord", &from).await;
            if status == StatusCode::TOO_MANY_REQUESTS {
                assert_eq!(code, "rate_limited");
                assert!(retry.is_some_and(|s| s >= 1), "Retry-After is sent");
                first_limited.get_or_insert(i);
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED);
                assert_eq!(code, "invalid_credentials");
            }
        }
        // The same answers whether or not the account exists.
        assert_eq!(first_limited, Some(5), "{email}");
    }
    // While it waits, even the right password is refused for that account…
    let (status, _, _) = password_login(&app, &t.admin, STAFF_PASSWORD, "192.0.2.77").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // …but other accounts are not affected.
    let (status, _, _) = password_login(&app, &t.moderator, STAFF_PASSWORD, "192.0.2.77").await;
    assert_eq!(status, StatusCode::OK);
}

async fn password_change_guessing_backs_off_per_account(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let c = app.staff(&t.moderator).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let (status, body) = c
            .post(
                "/api/v1/auth/password",
                json!({"current": "niet het wachtwoord", "new": "een nieuw en lang wachtwoord"}),
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(code(&body), "rate_limited");
        }
        statuses.push(status);
    }
    assert_eq!(statuses[0], StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // The account waits at the login too, from wherever.
    let (status, _, _) = password_login(&app, &t.moderator, STAFF_PASSWORD, "192.0.2.88").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

async fn panelist_logs_in_with_code_as_typed_from_letter(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    // The letter shows ABCD-EFGH-JKLMN; people type it in lower case with spaces.
    let typed = t.codes[0].to_lowercase().replace('-', " ");
    let c = app.anonymous();
    let (status, body) = c.post("/api/v1/auth/invite", json!({"code": typed})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "panelist");
    assert!(body["pseudonym"].as_str().is_some_and(|p| !p.is_empty()));
    let (status, session) = c.get("/api/v1/auth/session").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["pseudonym"], body["pseudonym"]);
}

async fn wrong_code_is_refused_without_a_session(app: TestApp) {
    app.tenant("utrecht", 1).await;
    let c = app.anonymous();
    let (status, body) = c
        .post("/api/v1/auth/invite", json!({"code": "ABCD-EFGH-JKLMN"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "invalid_code");
    let (status, body) = c.get("/api/v1/cases").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "unauthenticated");
}

async fn staff_login_and_logout(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let c = app.anonymous();
    let (status, body) = c
        .post(
            "/api/v1/auth/login",
            json!({"email": t.admin, "password": "fout-wachtwoord!!"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "invalid_credentials");

    let c = app.staff(&t.admin).await;
    let (status, session) = c.get("/api/v1/auth/session").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["kind"], "staff");
    assert_eq!(session["roles"][0]["role"], "admin");
    assert_eq!(session["roles"][0]["municipality"], "utrecht");

    let (status, _) = c.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = c.get("/api/v1/auth/session").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn writes_need_the_csrf_token(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let mut c = app.panelist(&t.codes[0]).await;
    let token = c.csrf.take();
    let post = json!({"verdict": "eens", "body": "Ik vind dit een redelijk besluit."});
    let (status, body) = c
        .post(&format!("/api/v1/cases/{case}/posts"), post.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "csrf_failed");
    let (status, body) = c
        .send(
            Method::POST,
            &format!("/api/v1/cases/{case}/posts"),
            Some(post.clone()),
            &[("x-csrf-token", "verkeerd")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Nothing was stored by the refused attempts.
    let (_, thread) = c.get(&format!("/api/v1/cases/{case}/posts")).await;
    assert_eq!(thread["posts"].as_array().map(Vec::len), Some(0));
    c.csrf = token;
    let (status, _) = c.post(&format!("/api/v1/cases/{case}/posts"), post).await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn foreign_origin_cannot_write(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let c = app.anonymous();
    let (status, body) = c
        .send(
            Method::POST,
            "/api/v1/auth/invite",
            Some(json!({"code": t.codes[0]})),
            &[("origin", "https://kwaadaardig.example")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "origin_not_allowed");
    let (status, _) = c
        .send(
            Method::POST,
            "/api/v1/auth/invite",
            Some(json!({"code": t.codes[0]})),
            &[("origin", "http://beraad.test")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn login_guessing_is_throttled_per_ip(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let c = app.anonymous();
    let from = [("x-forwarded-for", "203.0.113.7")];
    let mut limited = None;
    for i in 0..30 {
        let (status, body) = c
            .send(
                Method::POST,
                "/api/v1/auth/invite",
                Some(json!({"code": "ABCD-EFGH-JKLMN"})),
                &from,
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(code(&body), "rate_limited");
            limited = Some(i);
            break;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        limited,
        Some(10),
        "the 11th attempt within a minute is throttled"
    );
    // Even the right code is refused from that address for now…
    let (status, _) = c
        .send(
            Method::POST,
            "/api/v1/auth/invite",
            Some(json!({"code": t.codes[0]})),
            &from,
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // …but another address is not affected.
    let (status, _) = c
        .send(
            Method::POST,
            "/api/v1/auth/invite",
            Some(json!({"code": t.codes[0]})),
            &[("x-forwarded-for", "198.51.100.9")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn staff_change_their_password_and_other_sessions_end(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let here = app.staff(&t.moderator).await;
    let elsewhere = app.staff(&t.moderator).await;
    let new = "een nieuw en lang wachtwoord";

    let (status, body) = here
        .post(
            "/api/v1/auth/password",
            json!({"current": "niet het wachtwoord", "new": new}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "wrong_password");
    let (status, body) = here
        .post(
            "/api/v1/auth/password",
            json!({"current": STAFF_PASSWORD, "new": "kort"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "weak_password");

    let (status, body) = here
        .post(
            "/api/v1/auth/password",
            json!({"current": STAFF_PASSWORD, "new": new}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // This session goes on; the one on the other device has ended.
    let (status, _) = here.get("/api/v1/auth/session").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = elsewhere.get("/api/v1/auth/session").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The old password no longer logs in; the new one does.
    let (status, _) = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({"email": t.moderator, "password": STAFF_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({"email": t.moderator, "password": new}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Audited without the password.
    let admin = app.staff(&t.admin).await;
    let (_, page) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=50")
        .await;
    let entry = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "staff.password")
        .expect("audit entry");
    assert!(!entry.to_string().contains(new));
    // Panelists have no password to change.
    let p = app.panelist(&t.codes[0]).await;
    let (status, _) = p
        .post(
            "/api/v1/auth/password",
            json!({"current": "x", "new": "y".repeat(20)}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
