//! Concurrency promises tested concurrently: many panelists writing to one case at once,
//! through two servers on one database, get sequence numbers with no repeat and no gap,
//! one event per post, and every post once.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Client, create_pg_database, drop_pg_database, spawn_app, spawn_app_on};

/// Posts per writer.
const POSTS: usize = 8;

/// `writers` panelists, alternating between servers `a` and `b` (at most eight logins
/// per server, under the per-address login limit).
async fn writers_on_one_case(
    a: &crate::helpers::TestApp,
    b: &crate::helpers::TestApp,
    writers: usize,
) {
    let t = a.tenant("utrecht", writers as u32).await;
    let case = a.open_case(&t, json!({})).await;
    let mut clients: Vec<Client> = Vec::new();
    for (i, code) in t.codes.iter().enumerate() {
        let app = if i % 2 == 0 { a } else { b };
        clients.push(app.panelist(code).await);
    }
    let mut tasks = Vec::new();
    for (w, c) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let url = format!("/api/v1/cases/{case}/posts");
            let (status, root) = c
                .post(&url, json!({"verdict": "eens", "body": format!("Reactie van schrijver {w}.")}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{root}");
            let mut ids = vec![root["id"].as_i64().expect("id")];
            for i in 1..POSTS {
                let (status, reply) = c
                    .post(
                        &url,
                        json!({"parent_id": root["id"], "body": format!("Antwoord {i} van schrijver {w}.")}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{reply}");
                ids.push(reply["id"].as_i64().expect("id"));
            }
            ids
        }));
    }
    let mut ids = BTreeSet::new();
    for t in tasks {
        for id in t.await.expect("writer") {
            assert!(ids.insert(id), "post id {id} handed out twice");
        }
    }
    let total = writers * POSTS;
    assert_eq!(ids.len(), total);
    let reader = a.staff(&t.analyst).await;
    let mut events = Vec::new();
    loop {
        let after = events
            .last()
            .map_or(0, |e: &serde_json::Value| e["seq"].as_i64().unwrap());
        let (_, page) = reader
            .get(&format!(
                "/api/v1/cases/{case}/events?after={after}&limit=100"
            ))
            .await;
        let batch = page["events"].as_array().expect("events").clone();
        if batch.is_empty() {
            break;
        }
        events.extend(batch);
    }
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = (1..=(total as i64 + 1)).collect();
    assert_eq!(seqs, expected, "no sequence number repeated or skipped");
    let created: BTreeSet<i64> = events
        .iter()
        .filter(|e| e["event"] == "post.created")
        .map(|e| e["post_id"].as_i64().expect("post id"))
        .collect();
    assert_eq!(created, ids, "one post.created event per post");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_writers_to_one_case_get_every_number_once() {
    let app = spawn_app(crate::helpers::Engine::Sqlite).await;
    writers_on_one_case(&app, &app, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_writers_on_two_servers_get_every_number_once() {
    let (url, name) = create_pg_database().await;
    let settings = || beraad::service::ServiceSettings {
        rate_limits: beraad::service::ratelimit::RateLimits::unlimited(),
        ..Default::default()
    };
    let a = spawn_app_on(&url, Default::default(), settings(), |_| {}).await;
    let b = spawn_app_on(&url, Default::default(), settings(), |_| {}).await;
    writers_on_one_case(&a, &b, 12).await;
    drop((a, b));
    drop_pg_database(name);
}
