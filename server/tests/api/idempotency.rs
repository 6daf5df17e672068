//! `Idempotency-Key` as a client on a bad connection uses it: many copies of one request
//! at once store one post, a claim left by a request that died is taken over within
//! seconds, transient refusals (403, 429) are not kept as the key's answer, and the query
//! string is part of what the key stands for.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{Client, Engine, TestApp, code, spawn_app_with_http};
use beraad::realtime::HubSettings;
use beraad::service::ServiceSettings;
use beraad::service::ratelimit::RateLimits;

both_engines!(
    idempotency_concurrent_copies_store_one_post,
    idempotency_claim_of_a_dead_request_is_taken_over_in_seconds,
    idempotency_query_string_is_part_of_the_request,
);

/// What a client sees of one answer.
struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    replayed: bool,
    content_type: Option<String>,
    body: Value,
}

/// Sends `body` to `path` with `key` (and the CSRF token unless `csrf` is false).
async fn send(c: &Client, path: &str, body: &Value, key: &str, csrf: bool) -> Answer {
    let mut req = c
        .http
        .request(Method::POST, format!("{}{path}", c.base))
        .header("idempotency-key", key)
        .json(body);
    if csrf {
        req = req.header("x-csrf-token", c.csrf.clone().expect("csrf"));
    }
    let resp = req.send().await.expect("request");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after").map(|v| v.parse().expect("Retry-After in seconds"));
    let replayed = header("idempotent-replayed").as_deref() == Some("true");
    let content_type = header("content-type");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    Answer {
        status,
        retry_after,
        replayed,
        content_type,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// Retries like a well-behaved client: on 409 in progress it waits `Retry-After`.
/// Returns the final answer and how long it took.
async fn retry_until_answered(
    c: &Client,
    path: &str,
    body: &Value,
    key: &str,
    within: Duration,
) -> (Answer, Duration) {
    let start = Instant::now();
    loop {
        let a = send(c, path, body, key, true).await;
        if a.status != StatusCode::CONFLICT {
            return (a, start.elapsed());
        }
        assert_eq!(code(&a.body), "idempotency_in_progress", "{}", a.body);
        let wait = a
            .retry_after
            .expect("a 409 in progress tells the client when to retry");
        assert!((1..=10).contains(&wait), "Retry-After {wait}");
        assert!(
            start.elapsed() < within,
            "still in progress after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

async fn idempotency_concurrent_copies_store_one_post(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let path = format!("/api/v1/cases/{case}/posts");
    let body =
        json!({"verdict": "eens", "body": "Twaalf keer tegelijk verstuurd over een slechte lijn."});

    let answers = futures_util::future::join_all(
        (0..12).map(|_| send(&p, &path, &body, "zelfde-sleutel", true)),
    )
    .await;

    let mut ids = Vec::new();
    for a in &answers {
        match a.status {
            StatusCode::CREATED => {
                assert_eq!(
                    a.content_type.as_deref(),
                    Some("application/json"),
                    "{}",
                    a.body
                );
                ids.push(a.body["id"].as_i64().expect("post id"));
            }
            StatusCode::CONFLICT => {
                assert_eq!(code(&a.body), "idempotency_in_progress");
                assert!(
                    a.retry_after.is_some_and(|s| (1..=10).contains(&s)),
                    "409 in progress without a usable Retry-After"
                );
            }
            s => panic!("unexpected answer {s}: {}", a.body),
        }
    }
    assert!(!ids.is_empty(), "at least one copy was answered 201");
    assert!(ids.iter().all(|id| *id == ids[0]), "one post: {ids:?}");
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.status == StatusCode::CREATED && !a.replayed)
            .count(),
        1,
        "exactly one copy ran; the others were replays"
    );

    // A later retry gets the same post back, marked as a replay, with its headers.
    let (again, _) =
        retry_until_answered(&p, &path, &body, "zelfde-sleutel", Duration::from_secs(10)).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(again.replayed);
    assert_eq!(again.content_type.as_deref(), Some("application/json"));
    assert_eq!(again.body["id"].as_i64(), Some(ids[0]));
    assert_eq!(again.body["body"], body["body"]);

    let thread = other.thread(case).await;
    assert_eq!(thread.len(), 1, "stored once: {thread:?}");
    assert_eq!(thread[0]["id"].as_i64(), Some(ids[0]));
}

/// A node that dies mid-request leaves its claim behind. A retry is told to come back
/// shortly, and within seconds (not a minute) it runs and stores the post once.
async fn idempotency_claim_of_a_dead_request_is_taken_over_in_seconds(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let path = format!("/api/v1/cases/{case}/posts");
    let body = json!({"verdict": "oneens", "body": "Verstuurd vlak voordat de server omviel."});

    // The claim exactly as the dead request left it.
    let token = p
        .session_cookie
        .as_deref()
        .and_then(|c| c.strip_prefix("beraad_session="))
        .expect("session cookie");
    let scope = app
        .service
        .authenticate(token)
        .await
        .expect("authenticate")
        .expect("session")
        .actor
        .scope();
    // The API router sees paths below `/api/v1`.
    let uri: axum::http::Uri = format!("/cases/{case}/posts").parse().expect("uri");
    let fingerprint = beraad::http::idempotency::fingerprint(
        &axum::http::Method::POST,
        &uri,
        &serde_json::to_vec(&body).expect("json"),
    );
    let db = app.service.store.db();
    let now = app.service.now();
    let lease = chrono::Duration::from_std(beraad::http::idempotency::LEASE).expect("lease");
    let claim = beraad::store::idempotency::claim(
        db,
        &scope,
        "na-de-crash",
        &fingerprint,
        now,
        now + lease,
    )
    .await
    .expect("claim");
    assert!(matches!(claim, beraad::store::idempotency::Claim::New(_)));

    let first = send(&p, &path, &body, "na-de-crash", true).await;
    assert_eq!(first.status, StatusCode::CONFLICT, "{}", first.body);
    assert_eq!(code(&first.body), "idempotency_in_progress");
    assert!(
        first.retry_after.is_some(),
        "409 in progress carries Retry-After"
    );

    let (done, took) =
        retry_until_answered(&p, &path, &body, "na-de-crash", Duration::from_secs(15)).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let id = done.body["id"].as_i64().expect("id");

    let replay = send(&p, &path, &body, "na-de-crash", true).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert!(replay.replayed);
    assert_eq!(replay.body["id"].as_i64(), Some(id));
    assert_eq!(other.thread(case).await.len(), 1);
}

async fn idempotency_query_string_is_part_of_the_request(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let body = json!({"verdict": "eens", "body": "Dezelfde tekst, een ander verzoek."});
    let first = send(
        &p,
        &format!("/api/v1/cases/{case}/posts?poging=1"),
        &body,
        "met-query",
        true,
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let second = send(
        &p,
        &format!("/api/v1/cases/{case}/posts?poging=2"),
        &body,
        "met-query",
        true,
    )
    .await;
    assert_eq!(
        second.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        second.body
    );
    assert_eq!(code(&second.body), "idempotency_key_reused");
    assert!(!second.replayed);
    assert_eq!(other.thread(case).await.len(), 1);
}

/// Transient refusals are not the key's answer: after a CSRF refusal (403) and after the
/// rate limit (429, whose `Retry-After` the client obeys) the same key stores the reply.
mod idempotency_transient_answers_are_not_kept {
    use super::*;

    async fn app(engine: Engine) -> TestApp {
        let settings = ServiceSettings {
            rate_limits: RateLimits::parse("reply=1/1").expect("limits"),
            ..ServiceSettings::default()
        };
        spawn_app_with_http(engine, HubSettings::default(), settings, |_| {}).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::transient_answers_are_not_kept(app(Engine::Sqlite).await).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::transient_answers_are_not_kept(app(Engine::Postgres).await).await
    }
}

async fn transient_answers_are_not_kept(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let path = format!("/api/v1/cases/{case}/posts");
    let root = send(
        &p,
        &path,
        &json!({"verdict": "eens", "body": "Het begin van de draad."}),
        "wortel",
        true,
    )
    .await;
    assert_eq!(root.status, StatusCode::CREATED, "{}", root.body);
    let root_id = root.body["id"].as_i64().expect("id");

    // 403: the page lost its CSRF token; the retry with the token stores the reply.
    let reply = json!({"parent_id": root_id, "body": "Eerst geweigerd, daarna goed."});
    let refused = send(&p, &path, &reply, "csrf-vergeten", false).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(code(&refused.body), "csrf_failed");
    let stored = send(&p, &path, &reply, "csrf-vergeten", true).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    assert!(!stored.replayed, "the 403 was not kept as the key's answer");

    // 429: one reply per second; the next one waits as told and then goes through.
    let quick = json!({"parent_id": root_id, "body": "Te snel achter elkaar verstuurd."});
    let limited = send(&p, &path, &quick, "te-snel", true).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert_eq!(code(&limited.body), "rate_limited");
    let wait = limited.retry_after.expect("429 carries Retry-After");
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
    let later = send(&p, &path, &quick, "te-snel", true).await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.body);
    assert!(!later.replayed, "the 429 was not kept as the key's answer");
    let again = send(&p, &path, &quick, "te-snel", true).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(again.replayed);
    assert_eq!(again.body["id"], later.body["id"]);

    let bodies: Vec<Value> = other
        .thread(case)
        .await
        .into_iter()
        .map(|p| p["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        vec![
            root.body["body"].clone(),
            reply["body"].clone(),
            quick["body"].clone()
        ]
    );
}
