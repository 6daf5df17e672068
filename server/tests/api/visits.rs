//! Return visits: "my cases" says what is new, done, closing soon or answered; the
//! thread and the live fragments mark posts by others since the reader's last visit;
//! "remember me on this device" keeps a panelist (never staff) logged in for 30 days.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(my_cases_and_the_thread_say_what_is_new);
both_engines!(remember_me_is_for_panelists_only);

async fn my_cases_and_the_thread_say_what_is_new(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let me = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    // House rules first, as every panelist does at the first login.
    for p in [&me, &other] {
        let resp = p
            .http
            .post(format!("{}/huisregels", p.base))
            .form(&[("csrf", p.csrf.clone().unwrap_or_default())])
            .send()
            .await
            .expect("rules");
        assert!(resp.status().is_success() || resp.status().is_redirection());
    }
    let (status, page) = me.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Nieuw voor u"),
        "a case never opened is new: {page}"
    );

    // The first visit marks nothing (everything would be new) and is recorded.
    let (status, page) = me.get_text(&format!("/casus/{case}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("tag-new"), "{page}");
    let (_, page) = me.get_text("/").await;
    assert!(!page.contains("Nieuw voor u"), "{page}");

    // Someone else posts: my cases counts it, the thread marks it and links to it.
    let (status, post) = other
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Ik vind het besluit redelijk onderbouwd."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let id = post["id"].as_i64().expect("id");
    let (_, page) = me.get_text("/").await;
    assert!(
        page.contains("1 nieuw bericht sinds uw vorige bezoek"),
        "{page}"
    );
    // The live script's fragment, asked for right after, marks it too.
    let (_, fragment) = me
        .get_text(&format!("/casus/{case}/berichten?ids={id}"))
        .await;
    assert!(fragment.contains("tag-new"), "{fragment}");
    let (_, page) = me.get_text(&format!("/casus/{case}")).await;
    assert!(page.contains(&format!("href=\"#bericht-{id}\"")), "{page}");
    assert!(
        page.contains("1 nieuw bericht sinds uw vorige bezoek"),
        "{page}"
    );
    assert!(page.contains("tag-new"), "{page}");
    // Seen now: the next visit marks nothing.
    let (_, page) = me.get_text(&format!("/casus/{case}")).await;
    assert!(!page.contains("tag-new"), "{page}");
    let (_, page) = me.get_text("/").await;
    assert!(!page.contains("sinds uw vorige bezoek"), "{page}");

    // My own verdict and the municipality's response are marked.
    let (status, _) = me
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Ik vind dat de traplift had gemoeten."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let admin = app.staff(&t.admin).await;
    let (status, _) = admin
        .patch(
            &format!("/api/v1/cases/{case}"),
            json!({"response": "De gemeente neemt het advies over."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = me.get_text("/").await;
    assert!(page.contains("U gaf uw oordeel"), "{page}");
    assert!(page.contains("De gemeente heeft gereageerd"), "{page}");
    assert!(
        !page.contains("Sluit binnenkort"),
        "no closing time set: {page}"
    );
}

async fn remember_me_is_for_panelists_only(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    // Without the choice: the usual 12 hours.
    let plain = app.panelist(&t.codes[0]).await;
    let (_, s) = plain.get("/api/v1/auth/session").await;
    let expires = chrono::DateTime::parse_from_rfc3339(s["expires_at"].as_str().expect("expiry"))
        .expect("time");
    let hours = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((11..=12).contains(&hours), "{s}");
    // With it: 30 days, and the cookie lives as long.
    let mut remembered = app.anonymous();
    let resp = remembered
        .http
        .post(format!("{}/api/v1/auth/invite", remembered.base))
        .json(&json!({"code": t.codes[1], "remember": true}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("beraad_session="))
        .expect("session cookie")
        .to_owned();
    let max_age: i64 = cookie
        .split(';')
        .find_map(|p| p.trim().strip_prefix("Max-Age="))
        .and_then(|v| v.parse().ok())
        .expect("Max-Age");
    assert!(max_age > 29 * 24 * 3600, "{cookie}");
    let body: serde_json::Value = resp.json().await.expect("json");
    remembered.csrf = body["csrf_token"].as_str().map(str::to_owned);
    let (_, s) = remembered.get("/api/v1/auth/session").await;
    let expires = chrono::DateTime::parse_from_rfc3339(s["expires_at"].as_str().expect("expiry"))
        .expect("time");
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!(days >= 29, "{s}");
    // The login page offers it; staff cannot ask for it.
    let (_, page) = app.anonymous().get_text("/").await;
    assert!(page.contains("Onthoud mij op dit apparaat"), "{page}");
    let (status, body) = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({"email": t.admin, "password": crate::helpers::STAFF_PASSWORD, "remember": true}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let admin = app.staff(&t.admin).await;
    let (_, s) = admin.get("/api/v1/auth/session").await;
    let expires = chrono::DateTime::parse_from_rfc3339(s["expires_at"].as_str().expect("expiry"))
        .expect("time");
    assert!((expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours() <= 12);
    // Logging out ends a remembered session like any other.
    let (status, _) = remembered.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = remembered.get("/api/v1/auth/session").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
