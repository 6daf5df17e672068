//! `/metrics` after real traffic: requests by route and status with latency
//! histograms, database statement, write-wait and pool-wait times, the pool's
//! connections, refusals by limit, the moderation queues and the live layer's gauges, in
//! Prometheus' text format for the holder of the token.

use beraad::service::ServiceSettings;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Engine, spawn_app_with_http};

/// The value of the first sample of `name` whose labels include every one of `labels`.
pub fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next().is_some_and(|n| n == name))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_requests_latency_database_and_refusals() {
    let mut settings = ServiceSettings::default();
    // The logins of the fixture (an admin opening the case, a panelist, an admin) and
    // one wrong code pass; the next attempt from this address is refused.
    settings.login_limits.per_ip_per_minute = 4;
    let app = spawn_app_with_http(
        Engine::Sqlite,
        beraad::realtime::HubSettings::default(),
        settings,
        |h| h.metrics_token = Some("tel-token".into()),
    )
    .await;
    let t = app.tenant("utrecht", 1).await;
    // A pre-moderated case: the panelist's reaction is held.
    let case = app.open_case(&t, json!({"moderation_mode": "pre"})).await;
    let panelist = app.panelist(&t.codes[0]).await;
    let mut ws = panelist.ws().await;
    ws.subscribe(case, 0).await;
    let (status, held) = panelist
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Verhuizen is hier de redelijke keuze."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(held["status"], "pending");
    // The author sees their held post arrive live: the room fanned it out.
    let mut seen = Vec::new();
    while !seen.contains(&json!("post.created")) {
        assert!(seen.len() < 5, "{seen:?}");
        seen.push(ws.next_of("event").await["event"].clone());
    }
    let admin = app.staff(&t.admin).await;
    let (status, _) = admin.get("/api/v1/cases").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin.get("/api/v1/cases/987654").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let anon = app.anonymous();
    let (status, _) = anon
        .post("/api/v1/auth/invite", json!({"code": "AAAA-BBBB-CCCC-D"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = anon
        .post("/api/v1/auth/invite", json!({"code": "AAAA-BBBB-CCCC-D"}))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    let resp = anon
        .http
        .get(format!("{}/metrics", app.base))
        .bearer_auth("tel-token")
        .send()
        .await
        .expect("metrics");
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.expect("text");

    let requests = "beraad_http_requests_total";
    for (route, status) in [("/api/v1/cases", "200"), ("/api/v1/cases/{id}", "404")] {
        let n = sample(
            &text,
            requests,
            &[
                "method=\"GET\"",
                &format!("route=\"{route}\""),
                &format!("status=\"{status}\""),
            ],
        );
        assert!(n.is_some_and(|n| n >= 1.0), "{route} {status} in:\n{text}");
    }
    assert!(
        sample(
            &text,
            requests,
            &["route=\"/api/v1/auth/invite\"", "status=\"429\""]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "beraad_http_request_duration_seconds_bucket",
            &["route=\"/api/v1/cases\"", "le=\"+Inf\""]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    for name in [
        "beraad_db_query_duration_seconds_count",
        "beraad_db_write_wait_seconds_count",
        "beraad_delivery_lag_seconds_count",
    ] {
        assert!(
            sample(&text, name, &[]).is_some_and(|n| n >= 1.0),
            "{name}:\n{text}"
        );
    }
    assert!(
        sample(
            &text,
            "beraad_rate_limited_total",
            &["limit=\"login_address\""]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "beraad_ws_connections", &[]).is_some(),
        "{text}"
    );
    assert!(
        sample(&text, "beraad_ws_subscriptions_total", &["topic=\"case\""])
            .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "beraad_posts_held", &[]).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    // The held reaction is in its municipality's queue; nothing is flagged there.
    assert_eq!(
        sample(
            &text,
            "beraad_moderation_queue",
            &["municipality=\"utrecht\"", "queue=\"held\""]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "beraad_moderation_queue",
            &["municipality=\"utrecht\"", "queue=\"flagged\""]
        ),
        Some(0.0),
        "{text}"
    );
    // The pool's wait is measured apart from the statements: at every write's start.
    assert!(
        sample(
            &text,
            "beraad_db_pool_wait_seconds_count",
            &["for=\"write\"", "outcome=\"ok\""]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "beraad_db_pool_max_connections", &[]).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "beraad_db_pool_connections", &["state=\"idle\""]).is_some(),
        "{text}"
    );
    assert!(text.contains("# HELP beraad_http_requests_total"), "{text}");
    assert!(
        text.contains("# TYPE beraad_http_request_duration_seconds histogram"),
        "{text}"
    );
}
