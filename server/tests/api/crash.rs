//! A node killed with SIGKILL while panelists post and a viewer follows, on each engine:
//! after a restart every acknowledged post is there, a retry with the same
//! Idempotency-Key stores nothing twice, the event log has no gap or repeat, and the
//! viewer who resumes has every event exactly once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, create_pg_database, drop_pg_database};
use crate::multinode::{
    client, free_port, open_demo_case, panelist, start_beraad, wait_until_ready,
};

/// The same person on another port (the session lives in the database).
fn moved(c: &Client, port: u16) -> Client {
    let mut m = client(port);
    m.http = c.http.clone();
    m.csrf = c.csrf.clone();
    m.session_cookie = c.session_cookie.clone();
    m
}

/// Posts one reply with a key; `Some(id)` when acknowledged, `None` when the answer
/// never came (the node died) or was not a success.
async fn post_keyed(c: &Client, case: i64, root: i64, key: &str, body: &str) -> Option<i64> {
    match send_keyed(c, case, root, key, body).await {
        Some((StatusCode::CREATED, v, _)) => v["id"].as_i64(),
        _ => None,
    }
}

/// Retries a keyed post as a client does: on 409 (the key is still claimed by the
/// request the crash cut) or 503 it waits as `Retry-After` says, for 30 s at most.
async fn retry_keyed(c: &Client, case: i64, root: i64, key: &str, body: &str) -> i64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match send_keyed(c, case, root, key, body).await {
            Some((StatusCode::CREATED, v, _)) => return v["id"].as_i64().expect("id"),
            Some((status, v, retry))
                if matches!(
                    status,
                    StatusCode::CONFLICT | StatusCode::SERVICE_UNAVAILABLE
                ) =>
            {
                let wait = retry.unwrap_or_else(|| panic!("{status} without Retry-After: {v}"));
                assert!(
                    std::time::Instant::now() < deadline,
                    "{key}: still {status}"
                );
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            other => panic!("retry of {key} after the restart: {other:?}"),
        }
    }
}

async fn send_keyed(
    c: &Client,
    case: i64,
    root: i64,
    key: &str,
    body: &str,
) -> Option<(StatusCode, Value, Option<u64>)> {
    let resp = c
        .http
        .post(format!("{}/api/v1/cases/{case}/posts", c.base))
        .header("x-csrf-token", c.csrf.clone().unwrap_or_default())
        .header("idempotency-key", key)
        .json(&json!({"parent_id": root, "body": body}))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    Some((
        status,
        resp.json::<Value>().await.unwrap_or(Value::Null),
        retry,
    ))
}

/// Every post body in the case's thread, with its id.
async fn thread_bodies(c: &Client, case: i64) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/cases/{case}/posts?limit=100&cursor={cur}"),
            None => format!("/api/v1/cases/{case}/posts?limit=100"),
        };
        let (status, page) = c.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for p in page["posts"].as_array().expect("posts") {
            out.push((
                p["id"].as_i64().expect("id"),
                p["body"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return out,
        }
    }
}

/// Sequence numbers of the case's event log after `after`.
async fn logged_seqs(c: &Client, case: i64, after: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut pos = after;
    loop {
        let (status, page) = c
            .get(&format!(
                "/api/v1/cases/{case}/events?after={pos}&limit=100"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let events = page["events"].as_array().expect("events");
        if events.is_empty() {
            return out;
        }
        for e in events {
            pos = e["seq"].as_i64().expect("seq");
            out.push(pos);
        }
    }
}

async fn crash_under_load(db_url: &str, engine: &str) {
    let port = free_port();
    let mut node = start_beraad(db_url, None, port, true);
    wait_until_ready(&format!("http://127.0.0.1:{port}"), "node").await;
    let poster = panelist(port, "UTRE-CHTP-ANEL2").await;
    let (case, root, start) = open_demo_case(&poster).await;

    let viewer = panelist(port, "UTRE-CHTP-ANEL3").await;
    let mut ws = viewer.ws_with_origin(None).await.expect("ws");
    ws.subscribe(case, start).await;
    let seen = Arc::new(Mutex::new(Vec::<i64>::new()));
    let reading = {
        let seen = seen.clone();
        tokio::spawn(async move {
            // Reads until the node dies under it.
            loop {
                let next = tokio::time::timeout(Duration::from_secs(30), ws.next_raw()).await;
                let Ok(Some(msg)) = next else { return };
                let Ok(text) = msg.to_text() else { continue };
                let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                if v["type"] == "event" {
                    seen.lock().unwrap().push(v["seq"].as_i64().expect("seq"));
                }
            }
        })
    };

    // Four writers post until the node is killed under them.
    let acked = Arc::new(Mutex::new(HashMap::<String, i64>::new()));
    let sent = Arc::new(Mutex::new(BTreeMap::<String, String>::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (poster, acked, sent) = (moved(&poster, port), acked.clone(), sent.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let key = format!("crash-{w}-{i}");
                let body = format!("Bericht {w}-{i} tijdens de crashtest.");
                sent.lock().unwrap().insert(key.clone(), body.clone());
                match post_keyed(&poster, case, root, &key, &body).await {
                    Some(id) => {
                        acked.lock().unwrap().insert(key, id);
                    }
                    None => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    node.0.kill().expect("SIGKILL");
    let _ = node.0.wait();
    for w in writers {
        let _ = w.await;
    }
    let _ = reading.await;
    let acked_before = acked.lock().unwrap().len();

    // The node comes back on the same database; unanswered requests are retried with
    // their keys, as a client would.
    let port = free_port();
    let _node = start_beraad(db_url, None, port, false);
    wait_until_ready(&format!("http://127.0.0.1:{port}"), "restarted node").await;
    let poster = moved(&poster, port);
    let unanswered: Vec<(String, String)> = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| !acked.lock().unwrap().contains_key(*k))
        .map(|(k, b)| (k.clone(), b.clone()))
        .collect();
    for (key, body) in &unanswered {
        let id = retry_keyed(&poster, case, root, key, body).await;
        acked.lock().unwrap().insert(key.clone(), id);
    }

    let bodies = thread_bodies(&poster, case).await;
    let acked = acked.lock().unwrap().clone();
    for (key, id) in &acked {
        let body = &sent.lock().unwrap()[key];
        let copies: Vec<i64> = bodies
            .iter()
            .filter(|(_, b)| b == body)
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(
            copies,
            vec![*id],
            "{key}: stored exactly once as acknowledged"
        );
    }
    let logged = logged_seqs(&poster, case, start).await;
    let head = *logged.last().expect("events");
    let expected: Vec<i64> = (start + 1..=head).collect();
    assert_eq!(logged, expected, "the event log has no gap or repeat");
    assert_eq!(
        head - start,
        acked.len() as i64,
        "one event per stored post"
    );

    // The viewer resumes from what it saw and ends up with every event exactly once.
    let mut seen = seen.lock().unwrap().clone();
    let viewer = moved(&viewer, port);
    let mut ws = viewer.ws_with_origin(None).await.expect("ws");
    ws.subscribe(case, seen.last().copied().unwrap_or(start))
        .await;
    while seen.last().copied().unwrap_or(start) < head {
        let v = ws.next_of("event").await;
        seen.push(v["seq"].as_i64().expect("seq"));
    }
    assert_eq!(seen, expected, "the viewer has every event once, in order");
    eprintln!(
        "kill -9 on {engine}: {acked_before} acknowledged before the kill, {} retried after \
         it, {} posts stored once each, {} events without gap, viewer complete",
        unanswered.len(),
        acked.len(),
        head - start
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_node_killed_under_load_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/beraad.db", dir.path().display());
    crash_under_load(&url, "SQLite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_node_killed_under_load_loses_and_doubles_nothing() {
    let (url, name) = create_pg_database().await;
    crash_under_load(&url, "PostgreSQL").await;
    drop_pg_database(name);
}
