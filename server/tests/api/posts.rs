//! The thread: reactions, replies, edits, withdrawals, weighings, flags, idempotency and
//! bad input.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, code};

both_engines!(
    exports_parse_back_with_ids_that_do_not_link_cases,
    reaction_rules_and_errors_change_nothing,
    replies_nest_up_to_the_cap_in_thread_order,
    edits_keep_revisions_and_only_the_author_edits,
    withdrawn_post_leaves_a_placeholder,
    weighings_change_and_never_on_own_post,
    flags_one_per_panelist,
    flag_note_with_personal_data_is_refused,
    direction_controls_are_refused_in_posts,
    idempotency_key_stores_a_post_once,
    malformed_and_oversized_bodies_get_clear_errors,
    thread_is_paged_in_order_and_events_are_numbered,
);

async fn reaction_rules_and_errors_change_nothing(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app
        .open_case(&t, json!({"min_length": 10, "max_length": 60}))
        .await;
    let p = app.panelist(&t.codes[0]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let bad = [
        (
            json!({"verdict": "misschien", "body": "Een geldige lengte hier."}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_verdict",
        ),
        (
            json!({"body": "Een geldige lengte hier."}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "verdict_required",
        ),
        (
            json!({"verdict": "eens", "body": "Te kort"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "body_too_short",
        ),
        (
            json!({"verdict": "eens", "body": "x".repeat(61)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "body_too_long",
        ),
        (
            json!({"verdict": "eens", "body": "         korter         "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "body_too_short",
        ),
        (
            json!({"verdict": "eens", "body": "Een geldige lengte hier.", "parent_id": 999999}),
            StatusCode::NOT_FOUND,
            "post_not_found",
        ),
    ];
    for (body, status, expected) in bad {
        let (got, answer) = p.post(&url, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(code(&answer), expected);
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    assert!(
        p.thread(case).await.is_empty(),
        "nothing stored by bad input"
    );
    let (status, _) = p
        .post(
            "/api/v1/cases/999999/posts",
            json!({"verdict": "eens", "body": "Een geldige lengte hier."}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Lengths count characters, not bytes: 60 characters with accents fit.
    let (status, post) = p
        .post(&url, json!({"verdict": "twijfel", "body": "é".repeat(60)}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["verdict"], "twijfel");
    assert_eq!(post["mine"], true);
    let (status, body) = p
        .post(
            &url,
            json!({"verdict": "eens", "body": "Nog een mening erbij."}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "already_reacted");
    assert_eq!(p.thread(case).await.len(), 1);
    // Staff do not post.
    let (status, body) = app
        .staff(&t.admin)
        .await
        .post(&url, json!({"verdict": "eens", "body": "Een medewerker."}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "panelists_only");
}

async fn replies_nest_up_to_the_cap_in_thread_order(app: TestApp) {
    let t = app.tenant("utrecht", 3).await;
    let case = app.open_case(&t, json!({"max_depth": 2})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let c = app.panelist(&t.codes[2]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, ra) = a
        .post(&url, json!({"verdict": "eens", "body": "Reactie van A."}))
        .await;
    let (_, rb) = b
        .post(&url, json!({"verdict": "oneens", "body": "Reactie van B."}))
        .await;
    let (_, r1) = c
        .post(
            &url,
            json!({"parent_id": ra["id"], "body": "Antwoord aan A."}),
        )
        .await;
    let (status, r2) = a
        .post(
            &url,
            json!({"parent_id": r1["id"], "body": "Antwoord op antwoord."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r2}");
    assert_eq!(r2["depth"], 2);
    let (status, body) = c
        .post(
            &url,
            json!({"parent_id": r2["id"], "body": "Eén niveau te diep."}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "nesting_too_deep");
    let (status, body) = c
        .post(
            &url,
            json!({"parent_id": rb["id"], "verdict": "eens", "body": "Met oordeel erbij."}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "verdict_not_allowed");
    let (_, rb1) = a
        .post(
            &url,
            json!({"parent_id": rb["id"], "body": "Antwoord aan B."}),
        )
        .await;
    // Replies do not use up the one reaction.
    let (status, _) = c
        .post(
            &url,
            json!({"verdict": "twijfel", "body": "Reactie van C."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let order: Vec<String> = b
        .thread(case)
        .await
        .iter()
        .map(|p| p["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        order,
        vec![
            "Reactie van A.",
            "Antwoord aan A.",
            "Antwoord op antwoord.",
            "Reactie van B.",
            "Antwoord aan B.",
            "Reactie van C."
        ]
    );
    assert_eq!(rb1["parent_id"], rb["id"]);
}

async fn edits_keep_revisions_and_only_the_author_edits(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let (_, post) = a
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Eerste versie."}),
        )
        .await;
    let id = post["id"].as_i64().unwrap();
    let (status, edited) = a
        .patch(
            &format!("/api/v1/posts/{id}"),
            json!({"body": "Tweede versie, beter.", "verdict": "twijfel"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["body"], "Tweede versie, beter.");
    assert_eq!(edited["verdict"], "twijfel");
    assert_eq!(edited["revision_count"], 2);
    let (status, body) = b
        .patch(
            &format!("/api/v1/posts/{id}"),
            json!({"body": "Iemand anders wijzigt."}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "not_author");
    let (status, body) = a
        .patch(&format!("/api/v1/posts/{id}"), json!({"body": "kort"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "body_too_short");
    let (status, revisions) = a.get(&format!("/api/v1/posts/{id}/revisions")).await;
    assert_eq!(status, StatusCode::OK);
    let bodies: Vec<&str> = revisions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["Eerste versie.", "Tweede versie, beter."]);
    let (status, _) = b.get(&format!("/api/v1/posts/{id}/revisions")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, staff) = app
        .staff(&t.moderator)
        .await
        .get(&format!("/api/v1/posts/{id}/revisions"))
        .await;
    assert_eq!(staff.as_array().map(Vec::len), Some(2));
}

async fn withdrawn_post_leaves_a_placeholder(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, post) = a
        .post(
            &url,
            json!({"verdict": "oneens", "body": "Dit trek ik later in."}),
        )
        .await;
    let id = post["id"].as_i64().unwrap();
    let (_, reply) = b
        .post(&url, json!({"parent_id": id, "body": "Een antwoord erop."}))
        .await;
    let (status, body) = b
        .post(&format!("/api/v1/posts/{id}/withdraw"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "not_author");
    let (status, body) = a
        .post(&format!("/api/v1/posts/{id}/withdraw"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "withdrawn");
    let seen = b.thread(case).await;
    assert_eq!(seen.len(), 2, "the reply keeps its place");
    assert_eq!(seen[0]["status"], "withdrawn");
    assert_eq!(seen[0]["body"], Value::Null);
    assert_eq!(seen[0]["verdict"], Value::Null);
    assert_eq!(seen[1]["id"], reply["id"]);
    // After withdrawing, the panelist may react anew.
    let (status, _) = a
        .post(
            &url,
            json!({"verdict": "eens", "body": "Nieuwe, betere reactie."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, case_view) = b.get(&format!("/api/v1/cases/{case}")).await;
    let _ = case_view;
}

async fn weighings_change_and_never_on_own_post(app: TestApp) {
    let t = app.tenant("utrecht", 3).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let c = app.panelist(&t.codes[2]).await;
    let (_, post) = a
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Goed onderbouwd besluit."}),
        )
        .await;
    let url = format!("/api/v1/posts/{}/weighing", post["id"]);
    let (status, body) = a.put(&url, json!({"value": "agree"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "own_post");
    let (status, body) = b.put(&url, json!({"value": "supergoed"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "invalid_weighing");
    let (status, body) = b.put(&url, json!({"value": "agree"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["my_weighing"], "agree");
    c.put(&url, json!({"value": "disagree"})).await;
    let (_, body) = b.put(&url, json!({"value": "pass"})).await;
    assert_eq!(
        body["weighings"],
        json!({"agree": 0, "disagree": 1, "pass": 1})
    );
    assert_eq!(body["my_weighing"], "pass");
    let seen = a.thread(case).await;
    assert_eq!(
        seen[0]["weighings"],
        json!({"agree": 0, "disagree": 1, "pass": 1})
    );
    assert_eq!(seen[0]["my_weighing"], Value::Null);
}

async fn flags_one_per_panelist(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let (_, post) = a
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Iets om te melden."}),
        )
        .await;
    let url = format!("/api/v1/posts/{}/flags", post["id"]);
    let (status, body) = b.post(&url, json!({"reason": "vervelend"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "invalid_flag_reason");
    let (status, body) = b.post(&url, json!({"reason": "anders"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "note_required");
    let (status, body) = a.post(&url, json!({"reason": "spam"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "own_post");
    let (status, body) = b.post(&url, json!({"reason": "persoonsgegevens"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["reason"], "persoonsgegevens");
    let (status, body) = b.post(&url, json!({"reason": "spam"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "already_flagged");
}

async fn flag_note_with_personal_data_is_refused(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let (_, post) = a
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Iets om te melden."}),
        )
        .await;
    let url = format!("/api/v1/posts/{}/flags", post["id"]);
    // Moderators read a note as it was typed, without a look by anyone first: personal
    // data in it is refused, also when disguised.
    for note in [
        "Dit is het nummer van mijn buurvrouw: 06-12345678.",
        "Haar BSN 123\u{200b}456\u{200b}782 staat er echt niet in.",
        "Het adres is Kerkstraat 12, dat klopt.",
        "Mail mij op jan (at) voorbeeld . nl",
    ] {
        let (status, body) = b
            .post(&url, json!({"reason": "anders", "note": note}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{note:?}: {body}");
        assert_eq!(code(&body), "note_personal_data", "{note:?}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("toelichting"), "{message}");
    }
    let (status, body) = b
        .post(
            &url,
            json!({"reason": "anders", "note": "Lees \u{202e}siht\u{202c} eens."}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "direction_control");
    // Nothing was stored: a note without personal data is still the panelist's first flag.
    let (status, body) = b
        .post(
            &url,
            json!({"reason": "persoonsgegevens", "note": "Er staat een telefoonnummer in."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn direction_controls_are_refused_in_posts(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    // Stored backwards in a right-to-left override, a reader sees 123456782.
    let body = "Mijn BSN is \u{202e}287654321\u{202c}, kijk maar.";
    let (status, answer) = p
        .post(
            &format!("/api/v1/cases/{case}/posts/check"),
            json!({"body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcome"], "reject");
    let finding = &answer["findings"][0];
    assert_eq!(finding["code"], "richtingteken");
    let start = finding["start"].as_u64().unwrap_or(0) as usize;
    let end = finding["end"].as_u64().unwrap_or(0) as usize;
    assert_eq!(body.get(start..end), Some("\u{202e}"));

    let (status, answer) = p
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(code(&answer), "direction_control");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("schrijfrichting"), "{message}");
    let (_, thread) = p.get(&format!("/api/v1/cases/{case}/posts")).await;
    assert_eq!(thread["posts"], json!([]), "nothing stored");

    // An edit is refused the same way.
    let (status, post) = p
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Een gewone reactie hier."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let (status, answer) = p
        .patch(
            &format!("/api/v1/posts/{}", post["id"]),
            json!({"body": "Een gewone \u{2067}reactie\u{2069} hier."}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(code(&answer), "direction_control");
}

async fn idempotency_key_stores_a_post_once(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, reaction) = a
        .post(
            &url,
            json!({"verdict": "eens", "body": "Een reactie om op te antwoorden."}),
        )
        .await;
    let reply =
        json!({"parent_id": reaction["id"], "body": "Een antwoord over een slechte verbinding."});
    let key = [("idempotency-key", "retry-123")];
    let (s1, first) = b.send(Method::POST, &url, Some(reply.clone()), &key).await;
    let (s2, second) = b.send(Method::POST, &url, Some(reply.clone()), &key).await;
    assert_eq!(s1, StatusCode::CREATED);
    assert_eq!(s2, StatusCode::CREATED);
    assert_eq!(first["id"], second["id"]);
    assert_eq!(a.thread(case).await.len(), 2, "stored once");
    // The same key with another body is refused.
    let (status, body) = b
        .send(
            Method::POST,
            &url,
            Some(json!({"parent_id": reaction["id"], "body": "Iets heel anders nu."})),
            &key,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "idempotency_key_reused");
    // Keys belong to one person: another panelist's identical key is independent.
    let (status, other) = a
        .send(
            Method::POST,
            &url,
            Some(json!({"parent_id": reaction["id"], "body": "Mijn eigen antwoord."})),
            &key,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    assert_ne!(other["id"], first["id"]);
    // An error answer is replayed too, and still stores nothing.
    let bad = json!({"verdict": "eens", "body": "kort"});
    let (s1, e1) = b
        .send(
            Method::POST,
            &url,
            Some(bad.clone()),
            &[("idempotency-key", "bad-1")],
        )
        .await;
    let (s2, e2) = b
        .send(
            Method::POST,
            &url,
            Some(bad),
            &[("idempotency-key", "bad-1")],
        )
        .await;
    assert_eq!(
        (s1, s2),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY
        )
    );
    assert_eq!(e1, e2);
    assert_eq!(a.thread(case).await.len(), 3);
}

async fn malformed_and_oversized_bodies_get_clear_errors(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    let url = format!("{}/api/v1/cases/{case}/posts", app.base);
    let csrf = p.csrf.clone().unwrap();
    let resp = p
        .http
        .post(&url)
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/json")
        .body("{\"verdict\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "invalid_json");
    let resp = p
        .http
        .post(&url)
        .header("x-csrf-token", &csrf)
        .body("verdict=eens")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = json!({"verdict": "eens", "body": "a".repeat(70 * 1024)});
    let resp = p
        .http
        .post(&url)
        .header("x-csrf-token", &csrf)
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "payload_too_large");
    let resp = p
        .http
        .post(&url)
        .header("x-csrf-token", &csrf)
        .header("idempotency-key", "groot")
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = p.get("/api/v1/cases/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
    let (status, body) = p.get("/api/v1/bestaat-niet").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
    assert!(p.thread(case).await.is_empty());
}

async fn thread_is_paged_in_order_and_events_are_numbered(app: TestApp) {
    let t = app.tenant("utrecht", 5).await;
    let case = app.open_case(&t, json!({})).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let mut expected = Vec::new();
    for (i, code) in t.codes.iter().enumerate() {
        let p = app.panelist(code).await;
        let (_, r) = p
            .post(
                &url,
                json!({"verdict": "eens", "body": format!("Reactie nummer {i}.")}),
            )
            .await;
        expected.push(r["id"].as_i64().unwrap());
    }
    let reader = app.panelist(&t.codes[0]).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{url}?limit=2&cursor={c}"),
            None => format!("{url}?limit=2"),
        };
        let (status, page) = reader.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["posts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let (status, body) = reader.get(&format!("{url}?cursor=x%27%20OR%201")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_cursor");
    let (_, events) = reader
        .get(&format!("/api/v1/cases/{case}/events?after=1"))
        .await;
    let seqs: Vec<i64> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        vec![2, 3, 4, 5, 6],
        "case.opened is 1, then one per post"
    );
    assert_eq!(events["head"], 6);
    assert!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["event"] == "post.created" && e["data"].get("body").is_none())
    );
}

async fn export_lines(c: &crate::helpers::Client, case: i64) -> Vec<Value> {
    let (status, text) = c
        .get_text(&format!("/api/v1/cases/{case}/export?format=jsonl"))
        .await;
    assert_eq!(status, StatusCode::OK);
    text.lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

async fn exports_parse_back_with_ids_that_do_not_link_cases(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let c1 = app.open_case(&t, json!({})).await;
    let c2 = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let (_, r1) = a
        .post(
            &format!("/api/v1/cases/{c1}/posts"),
            json!({"verdict": "oneens", "body": "Reactie in casus een."}),
        )
        .await;
    a.post(
        &format!("/api/v1/cases/{c2}/posts"),
        json!({"verdict": "eens", "body": "Reactie in casus twee."}),
    )
    .await;
    let (_, reply) = b
        .post(
            &format!("/api/v1/cases/{c1}/posts"),
            json!({"parent_id": r1["id"], "body": "=HYPERLINK(\"x\") antwoord"}),
        )
        .await;
    b.put(
        &format!("/api/v1/posts/{}/weighing", r1["id"]),
        json!({"value": "agree"}),
    )
    .await;

    let analyst = app.staff(&t.analyst).await;
    let one = export_lines(&analyst, c1).await;
    assert_eq!(one[0]["record"], "case");
    let posts: Vec<&Value> = one.iter().filter(|r| r["record"] == "post").collect();
    let weighings: Vec<&Value> = one.iter().filter(|r| r["record"] == "weighing").collect();
    // The export parses back to the thread as stored.
    let (_, thread) = analyst.get(&format!("/api/v1/cases/{c1}/posts")).await;
    let stored = thread["posts"].as_array().unwrap();
    assert_eq!(posts.len(), stored.len());
    for (e, s) in posts.iter().zip(stored) {
        assert_eq!(e["post_id"], s["id"]);
        assert_eq!(e["parent_id"], s["parent_id"]);
        assert_eq!(e["depth"], s["depth"]);
        assert_eq!(e["body"], s["body"]);
        assert_eq!(e["verdict"], s["verdict"]);
        assert_eq!(e["root_id"], r1["id"]);
    }
    assert_eq!(posts[0]["weighings_agree"], 1);
    assert_eq!(weighings.len(), 1);
    assert_eq!(
        weighings[0]["author"], posts[1]["author"],
        "B's weighing and B's reply share B's id"
    );
    assert_ne!(posts[0]["author"], posts[1]["author"]);
    // A's id in case two is another one: ids do not link across cases.
    let two = export_lines(&analyst, c2).await;
    let a_in_two = two.iter().find(|r| r["record"] == "post").unwrap();
    assert_ne!(a_in_two["author"], posts[0]["author"]);
    for code in &t.codes {
        assert!(!one.iter().any(|r| r.to_string().contains(code.as_str())));
    }
    // CSV neutralises formulas.
    let (_, csv) = analyst
        .get_text(&format!("/api/v1/cases/{c1}/export?format=csv"))
        .await;
    assert!(csv.contains("\"'=HYPERLINK"), "{csv}");
    assert!(!reply["body"].is_null());
    // Who may export, and that it is audited.
    let (status, _) = a.get(&format!("/api/v1/cases/{c1}/export")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, audit) = app
        .staff(&t.admin)
        .await
        .get("/api/v1/audit?municipality=utrecht")
        .await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "case.export")
    );
}
