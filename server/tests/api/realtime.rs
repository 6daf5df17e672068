//! The WebSocket path end to end: live delivery, exact resume, filtering per reader,
//! presence, and the door's checks.

use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    posts_arrive_live_in_order,
    resume_after_reconnect_gets_exactly_the_missed_events,
    withdrawn_text_reaches_only_its_author,
    verdicts_reach_a_panelist_only_after_their_own,
    presence_counts_panelists_and_staff,
    door_refuses_strangers_and_bad_messages,
);

mod slow_reader_is_told_to_resync_and_others_keep_up {
    use beraad::realtime::HubSettings;

    use crate::helpers::{Engine, spawn_app_with};

    const SMALL: HubSettings = HubSettings {
        outbox_capacity: 8,
        sweep_interval: std::time::Duration::from_secs(1),
    };

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::slow_reader(spawn_app_with(Engine::Sqlite, SMALL).await).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::slow_reader(spawn_app_with(Engine::Postgres, SMALL).await).await
    }
}

/// A viewer that stops reading fills its socket and then its (here tiny) outbox; it is
/// closed (told `resync_required` and 4002 if it reads again within the close grace),
/// while a reading viewer gets every event.
async fn slow_reader(app: TestApp) {
    let t = app.tenant("utrecht", 3).await;
    let case = app.open_case(&t, json!({"max_length": 2000})).await;
    let poster = app.panelist(&t.codes[0]).await;
    let slow = app.panelist(&t.codes[1]).await;
    let healthy = app.panelist(&t.codes[2]).await;
    let mut ws_slow = slow.ws_small_buffer().await;
    ws_slow.subscribe(case, 1).await;
    let mut ws_ok = healthy.ws().await;
    ws_ok.subscribe(case, 1).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, root) = poster
        .post(
            &url,
            json!({"verdict": "eens", "body": "Begin van een lange draad."}),
        )
        .await;
    let filler = "x".repeat(1900);
    let mut seen = ws_ok.events(1).await.len();
    for i in 0..120 {
        let (status, body) = poster
            .post(
                &url,
                json!({"parent_id": root["id"], "body": format!("{i} {filler}")}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        // The healthy viewer reads along.
        seen += ws_ok.events(1).await.len();
    }
    assert_eq!(seen, 121);
    // The slow viewer now reads what it was sent: a prefix of the events, then the end
    // of the connection. It read nothing for longer than the close grace, so the
    // instruction to resync and the close frame may not have fitted in; if they came,
    // they came last.
    let mut last_seq = 0;
    let mut told = false;
    while let Some(v) = ws_slow.next().await {
        assert!(!told, "nothing after resync_required: {v}");
        match v["type"].as_str() {
            Some("event") => {
                let seq = v["seq"].as_i64().unwrap();
                assert!(seq > last_seq, "in order, no duplicates");
                last_seq = seq;
            }
            Some("error") => {
                assert_eq!(v["code"], "resync_required");
                told = true;
            }
            _ => {}
        }
    }
    assert!(last_seq < 122, "it fell behind before the end");
}

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

async fn posts_arrive_live_in_order(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    // A case that shows the tally to all: every viewer reads every verdict.
    let case = app
        .open_case(&t, json!({"hide_tallies_until_reacted": false}))
        .await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let mut ws = a.ws().await;
    let ack = ws.subscribe(case, 1).await;
    assert_eq!(ack["topic"], format!("case:{case}"));
    assert_eq!(ack["head"], 1, "case.opened is the first event");
    assert!(ack["epoch"].as_str().is_some_and(|e| e.len() == 32));
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, root) = b
        .post(
            &url,
            json!({"verdict": "oneens", "body": "De gemeente had beter moeten kijken."}),
        )
        .await;
    a.post(
        &url,
        json!({"parent_id": root["id"], "body": "Daar ben ik het mee eens."}),
    )
    .await;
    b.put(
        &format!("/api/v1/posts/{}/weighing", root["id"]),
        json!({"value": "pass"}),
    )
    .await;
    a.put(
        &format!("/api/v1/posts/{}/weighing", root["id"]),
        json!({"value": "agree"}),
    )
    .await;
    let events = ws.events(3).await;
    assert_eq!(seqs(&events), vec![2, 3, 4]);
    assert_eq!(events[0]["event"], "post.created");
    assert_eq!(
        events[0]["post"]["body"],
        "De gemeente had beter moeten kijken."
    );
    assert_eq!(events[0]["post"]["verdict"], "oneens");
    assert_eq!(events[1]["post"]["parent_id"], root["id"]);
    assert_eq!(events[2]["event"], "weighing.changed");
    assert_eq!(
        events[2]["data"],
        json!({"post_id": root["id"], "agree": 1, "disagree": 0, "pass": 0})
    );
    // Closing the case reaches viewers too.
    app.staff(&t.admin)
        .await
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    let closed = ws.next_of("event").await;
    assert_eq!(closed["event"], "case.closed");
    assert_eq!(closed["seq"], 5);
}

async fn resume_after_reconnect_gets_exactly_the_missed_events(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, root) = b
        .post(
            &url,
            json!({"verdict": "eens", "body": "Eerste bericht in de draad."}),
        )
        .await;
    let mut ws = a.ws().await;
    ws.subscribe(case, 0).await;
    let first = ws.events(2).await;
    assert_eq!(seqs(&first), vec![1, 2], "backlog from the start");
    drop(ws);
    // While A is away, five replies come in.
    for i in 0..5 {
        b.post(&url, json!({"parent_id": root["id"], "body": format!("Antwoord terwijl A weg is, nummer {i}.")})).await;
    }
    let mut ws = a.ws().await;
    let ack = ws.subscribe(case, 2).await;
    assert_eq!(ack["head"], 7);
    let missed = ws.events(5).await;
    assert_eq!(seqs(&missed), vec![3, 4, 5, 6, 7]);
    b.post(
        &url,
        json!({"parent_id": root["id"], "body": "En daarna live verder."}),
    )
    .await;
    assert_eq!(ws.next_of("event").await["seq"], 8);
    ws.quiet(300).await;
    // A position from another epoch, or from the future, is refused.
    let mut ws2 = a.ws().await;
    ws2.send(json!({"type": "subscribe", "topic": format!("case:{case}"), "after": 3, "epoch": "0123456789abcdef0123456789abcdef"})).await;
    let err = ws2.next_of("error").await;
    assert_eq!(err["code"], "resync_required");
    ws2.send(json!({"type": "subscribe", "topic": format!("case:{case}"), "after": 999}))
        .await;
    assert_eq!(ws2.next_of("error").await["code"], "resync_required");
}

async fn withdrawn_text_reaches_only_its_author(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let moderator = app.staff(&t.moderator).await;
    let (_, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "twijfel", "body": "Dit ga ik zo intrekken."}),
        )
        .await;
    let mut ws_author = author.ws().await;
    let mut ws_other = other.ws().await;
    let mut ws_mod = moderator.ws().await;
    for ws in [&mut ws_author, &mut ws_other, &mut ws_mod] {
        ws.subscribe(case, 2).await;
    }
    author
        .post(&format!("/api/v1/posts/{}/withdraw", post["id"]), json!({}))
        .await;
    let seen_author = ws_author.next_of("event").await;
    let seen_other = ws_other.next_of("event").await;
    let seen_mod = ws_mod.next_of("event").await;
    for e in [&seen_author, &seen_other, &seen_mod] {
        assert_eq!(e["event"], "post.withdrawn");
        assert_eq!(e["seq"], 3);
        assert_eq!(e["post"]["status"], "withdrawn");
    }
    assert_eq!(seen_author["post"]["body"], "Dit ga ik zo intrekken.");
    assert_eq!(seen_other["post"]["body"], Value::Null);
    assert_eq!(seen_other["post"]["verdict"], Value::Null);
    assert_eq!(seen_mod["post"]["body"], Value::Null);
}

/// In a case that hides the tally until one's own verdict, the verdict of others'
/// reactions reaches a panelist's WebSocket only once they gave their own (the badges
/// would add up to the tally); the text does. Their own verdict, staff and a resume
/// after reacting see verdicts; withdrawing one's reaction hides them again, and a
/// closed case shows them to all.
async fn verdicts_reach_a_panelist_only_after_their_own(app: TestApp) {
    let t = app.tenant("utrecht", 4).await;
    let case = app
        .open_case(&t, json!({"hide_tallies_until_reacted": true}))
        .await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let c = app.panelist(&t.codes[2]).await;
    let d = app.panelist(&t.codes[3]).await;
    let staff = app.staff(&t.moderator).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let mut ws_a = a.ws().await;
    let mut ws_b = b.ws().await;
    let mut ws_staff = staff.ws().await;
    for ws in [&mut ws_a, &mut ws_b, &mut ws_staff] {
        ws.subscribe(case, 1).await;
    }
    let (_, b_root) = b
        .post(
            &url,
            json!({"verdict": "oneens", "body": "Ik vind dit besluit niet goed."}),
        )
        .await;
    let seen_a = ws_a.next_of("event").await;
    let seen_b = ws_b.next_of("event").await;
    let seen_staff = ws_staff.next_of("event").await;
    assert_eq!(seen_a["post"]["body"], "Ik vind dit besluit niet goed.");
    assert_eq!(
        seen_a["post"]["verdict"],
        Value::Null,
        "no verdict before one's own: {seen_a}"
    );
    assert_eq!(seen_b["post"]["verdict"], "oneens", "the author's own");
    assert_eq!(seen_staff["post"]["verdict"], "oneens");

    // A gives a verdict: from then on A reads the verdicts of others.
    let (_, a_root) = a
        .post(
            &url,
            json!({"verdict": "eens", "body": "Ik vind het besluit redelijk."}),
        )
        .await;
    assert_eq!(ws_a.next_of("event").await["post"]["verdict"], "eens");
    c.post(
        &url,
        json!({"verdict": "twijfel", "body": "Ik twijfel nog over dit besluit."}),
    )
    .await;
    let later = ws_a.next_of("event").await;
    assert_eq!(later["post"]["verdict"], "twijfel", "{later}");
    // An edit of B's reaction carries its verdict to A now.
    b.patch(
        &format!("/api/v1/posts/{}", b_root["id"]),
        json!({"body": "Ik vind dit besluit echt niet goed."}),
    )
    .await;
    assert_eq!(ws_a.next_of("event").await["post"]["verdict"], "oneens");

    // A resume renders anew for the reader: A sees all verdicts, D (no verdict) none.
    let mut ws_a2 = a.ws().await;
    ws_a2.subscribe(case, 1).await;
    let backlog_a = ws_a2.events(4).await;
    let mut ws_d = d.ws().await;
    ws_d.subscribe(case, 1).await;
    let backlog_d = ws_d.events(4).await;
    for (ea, ed) in backlog_a.iter().zip(&backlog_d) {
        assert_eq!(ea["seq"], ed["seq"]);
        assert!(ea["post"]["verdict"].is_string(), "{ea}");
        assert_eq!(ed["post"]["verdict"], Value::Null, "{ed}");
        assert!(ed["post"]["body"].is_string(), "the text is shown: {ed}");
    }
    // The HTTP thread agrees with the socket.
    let (_, thread) = d.get(&format!("/api/v1/cases/{case}/posts")).await;
    let items = thread["posts"].as_array().expect("posts");
    assert!(items.iter().all(|p| p["verdict"].is_null()), "{thread}");

    // A withdraws the reaction: verdicts are hidden from A again.
    a.post(
        &format!("/api/v1/posts/{}/withdraw", a_root["id"]),
        json!({}),
    )
    .await;
    let withdrawn = ws_a.next_of("event").await;
    assert_eq!(withdrawn["event"], "post.withdrawn");
    d.post(
        &url,
        json!({"verdict": "eens", "body": "Het besluit lijkt mij juist."}),
    )
    .await;
    let after_withdraw = ws_a.next_of("event").await;
    assert_eq!(
        after_withdraw["post"]["verdict"],
        Value::Null,
        "{after_withdraw}"
    );

    // Once the case is closed, every reader reads the verdicts.
    app.staff(&t.admin)
        .await
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    let mut ws_late = c.ws().await;
    ws_late.subscribe(case, 1).await;
    let closed = ws_late.events(6).await;
    let first = &closed[0];
    assert_eq!(first["post"]["verdict"], "oneens", "{first}");
}

async fn presence_counts_panelists_and_staff(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let analyst = app.staff(&t.analyst).await;
    let mut ws_a = a.ws().await;
    ws_a.subscribe(case, 1).await;
    let p = ws_a.next_of("presence").await;
    assert_eq!(
        (p["panelists"].as_i64(), p["staff"].as_i64()),
        (Some(1), Some(0))
    );
    let mut ws_b = b.ws().await;
    ws_b.subscribe(case, 1).await;
    // Two tabs of one person count once.
    let mut ws_b2 = b.ws().await;
    ws_b2.subscribe(case, 1).await;
    let mut ws_s = analyst.ws().await;
    ws_s.subscribe(case, 1).await;
    let expected = json!([2, 1]);
    let mut last = Value::Null;
    for _ in 0..6 {
        let p = ws_a.next().await.expect("open");
        if p["type"] == "presence" {
            last = json!([p["panelists"], p["staff"]]);
            if last == expected {
                break;
            }
        }
    }
    assert_eq!(last, expected);
    drop(ws_s);
    let mut after = Value::Null;
    for _ in 0..4 {
        let p = ws_a.next_of("presence").await;
        after = json!([p["panelists"], p["staff"]]);
        if after == json!([2, 0]) {
            break;
        }
    }
    assert_eq!(after, json!([2, 0]));
}

async fn door_refuses_strangers_and_bad_messages(app: TestApp) {
    let u = app.tenant("utrecht", 1).await;
    let z = app.tenant("zoetermeer", 1).await;
    let case = app.open_case(&u, json!({})).await;
    let stranger = app.anonymous();
    assert_eq!(stranger.ws_with_origin(None).await.err(), Some(401));
    let zp = app.panelist(&z.codes[0]).await;
    assert_eq!(
        zp.ws_with_origin(Some("https://kwaadaardig.example"))
            .await
            .err(),
        Some(403)
    );
    let mut ws = zp.ws().await;
    ws.send(json!({"type": "subscribe", "topic": format!("case:{case}"), "after": 0}))
        .await;
    let err = ws.next_of("error").await;
    assert_eq!(
        err["code"], "forbidden",
        "another tenant's case is not followable"
    );
    ws.send(json!({"type": "subscribe", "topic": "chat:algemeen"}))
        .await;
    assert_eq!(ws.next_of("error").await["code"], "unknown_topic");
    ws.send_text("dit is geen json").await;
    assert_eq!(ws.next_of("error").await["code"], "bad_message");
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next_of("pong").await["type"], "pong");
    // Flooding the socket is limited per connection.
    for _ in 0..60 {
        ws.send(json!({"type": "ping"})).await;
    }
    let mut limited = false;
    for _ in 0..60 {
        let v = ws.next().await.expect("open");
        if v["type"] == "error" {
            assert_eq!(v["code"], "rate_limited");
            limited = true;
            break;
        }
    }
    assert!(
        limited,
        "60 messages at once exceed the per-connection limit"
    );
}
