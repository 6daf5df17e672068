//! Bounded fuzzing through the public door, with inputs drawn by proptest's
//! deterministic runner: arbitrary and mangled WebSocket messages, and arbitrary cursor,
//! position and page-size parameters. Nothing may crash the server or earn a 5xx; a
//! socket that was sent rubbish still answers a ping.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::StatusCode;
use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    mangled_websocket_messages_get_errors_never_a_crash,
    arbitrary_cursors_positions_and_page_sizes_never_earn_a_5xx,
);

/// `n` values of a strategy, the same on every run.
fn samples<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).expect("value").current())
        .collect()
}

/// Client messages: free text, and the protocol's shapes with odd fields and values.
fn messages(case: i64) -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just("subscribe".to_owned()),
        Just("unsubscribe".to_owned()),
        Just("ping".to_owned()),
        "[A-Za-z]{0,12}",
    ];
    let topic = prop_oneof![
        Just(format!("case:{case}")),
        Just("moderation:utrecht".to_owned()),
        "(case|moderation|chat):[-0-9a-z]{0,24}",
        "\\PC{0,40}",
    ];
    let after = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just("1e309".to_owned()),
        Just("-0".to_owned()),
        Just("\"12\"".to_owned()),
        Just("null".to_owned()),
        Just("[1,2]".to_owned()),
        Just("99999999999999999999999".to_owned()),
    ];
    prop_oneof![
        "\\PC{0,200}",
        (kind, topic, after).prop_map(|(k, t, a)| {
            format!(
                r#"{{"type":{},"topic":{},"after":{a}}}"#,
                json!(k),
                json!(t)
            )
        }),
        "\\{(\"[a-z]{1,8}\":[0-9]{1,4},?){0,6}\\}",
        (1usize..200).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d))),
    ]
}

async fn mangled_websocket_messages_get_errors_never_a_crash(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let panelist = app.panelist(&t.codes[0]).await;
    let inputs = samples(messages(case), 240);
    // Thirty messages per socket stay inside the per-connection rate limit.
    for chunk in inputs.chunks(30) {
        let mut ws = panelist.ws().await;
        for text in chunk {
            ws.send_text(text).await;
        }
        ws.send(json!({"type": "ping"})).await;
        loop {
            let v = ws
                .next()
                .await
                .expect("the socket stays open after rubbish");
            assert_ne!(v["code"], "internal", "{v}");
            if v["type"] == "pong" {
                break;
            }
        }
    }
    // The server still serves people.
    let (status, _) = panelist.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, StatusCode::OK);
}

async fn arbitrary_cursors_positions_and_page_sizes_never_earn_a_5xx(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let panelist = app.panelist(&t.codes[0]).await;
    panelist
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Een gewone reactie om door te bladeren."}),
        )
        .await;
    let values = samples(
        prop_oneof![
            "\\PC{0,300}",
            "[0-9/]{0,300}",
            any::<i64>().prop_map(|n| n.to_string())
        ],
        150,
    );
    for v in values {
        let v: String = url_encode(&v);
        for path in [
            format!("/api/v1/cases/{case}/posts?cursor={v}"),
            format!("/api/v1/cases/{case}/posts?limit={v}"),
            format!("/api/v1/cases/{case}/events?after={v}"),
            format!("/api/v1/cases/{case}/events?after=0&limit={v}"),
        ] {
            let (status, body) = panelist.get(&path).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{path}: {status} {body}"
            );
            if status == StatusCode::BAD_REQUEST {
                assert!(body["error"]["code"].is_string(), "{path}: {body}");
            }
        }
    }
}

/// Percent-encodes everything but unreserved characters.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
