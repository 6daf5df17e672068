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
);

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
