//! Moderation through the API: held posts, the flag threshold, claims, every action and
//! its audit entry, suspension, and who may moderate at all.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, code};

both_engines!(
    every_action_leaves_an_audit_entry,
    first_posts_held_and_moderators_see_queue_sizes_live,
    post_with_a_bsn_is_held_and_never_reaches_other_panelists,
    check_endpoint_warns_while_typing_and_banned_words_refuse,
    held_post_is_seen_only_by_author_and_moderators_until_approved,
    flags_hide_a_post_at_the_threshold_and_a_moderator_restores_it,
    hide_leaves_a_placeholder_with_the_reason,
    redaction_removes_the_text_everywhere,
    suspension_and_premoderation_of_one_panelist,
    only_moderators_of_the_municipality_moderate,
    audit_log_is_readable_exportable_and_append_only,
);

async fn held_post_is_seen_only_by_author_and_moderators_until_approved(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({"moderation_mode": "pre"})).await;
    let author = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let mut ws_other = other.ws().await;
    ws_other.subscribe(case, 1).await;
    let (status, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Wachten op goedkeuring."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["status"], "pending");
    assert_eq!(post["body"], "Wachten op goedkeuring.");
    assert_eq!(post["held_reasons"][0]["code"], "voormoderatie");
    assert!(
        post["held_reasons"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("moderator"))
    );
    let id = post["id"].as_i64().unwrap();

    let seen = other.thread(case).await;
    assert_eq!(seen[0]["status"], "pending");
    assert_eq!(
        seen[0]["body"],
        Value::Null,
        "others see only a placeholder"
    );
    assert_eq!(seen[0]["held_reasons"], Value::Null);
    let live = ws_other.next_of("event").await;
    assert_eq!(live["post"]["body"], Value::Null);

    let m1 = app.staff(&t.moderator).await;
    let m2 = app.staff(&t.admin).await; // admins hold every role
    let (_, counts) = m1.get("/api/v1/moderation/utrecht/counts").await;
    assert_eq!(counts, json!({"pending": 1, "flagged": 0}));
    let (status, queue) = m1
        .get("/api/v1/moderation/utrecht/queue?kind=pending")
        .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    assert_eq!(queue["items"][0]["post"]["body"], "Wachten op goedkeuring.");
    assert_eq!(
        queue["items"][0]["held_reasons"][0]["code"],
        "voormoderatie"
    );

    let (status, claimed) = m1
        .post(&format!("/api/v1/moderation/posts/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{claimed}");
    assert!(claimed["claimed_by"].is_string());
    let (status, body) = m2
        .post(&format!("/api/v1/moderation/posts/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "claimed_by_other");
    let (status, body) = m2
        .post(
            &format!("/api/v1/moderation/posts/{id}/approve"),
            json!({"revision": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "claimed_by_other");

    let (status, done) = m1
        .post(
            &format!("/api/v1/moderation/posts/{id}/approve"),
            json!({"revision": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["post"]["status"], "visible");
    assert_eq!(
        other.thread(case).await[0]["body"],
        "Wachten op goedkeuring."
    );
    let live = ws_other.next_of("event").await;
    assert_eq!(live["event"], "post.moderated");
    assert_eq!(live["post"]["body"], "Wachten op goedkeuring.");
    let (_, counts) = m1.get("/api/v1/moderation/utrecht/counts").await;
    assert_eq!(counts, json!({"pending": 0, "flagged": 0}));
    let (_, handled) = m1.get("/api/v1/moderation/utrecht/handled").await;
    assert_eq!(handled["items"][0]["action"], "approve");
    assert_eq!(handled["items"][0]["post_id"], id);
}

async fn flags_hide_a_post_at_the_threshold_and_a_moderator_restores_it(app: TestApp) {
    let t = app.tenant("utrecht", 4).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let (_, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Een omstreden mening."}),
        )
        .await;
    let id = post["id"].as_i64().unwrap();
    for (i, reason) in ["beledigend", "spam"].iter().enumerate() {
        let p = app.panelist(&t.codes[i + 1]).await;
        p.post(
            &format!("/api/v1/posts/{id}/flags"),
            json!({"reason": reason}),
        )
        .await;
    }
    let reader = app.panelist(&t.codes[3]).await;
    assert_eq!(
        reader.thread(case).await[0]["status"],
        "visible",
        "two flags are below the threshold"
    );
    let (status, _) = reader
        .post(
            &format!("/api/v1/posts/{id}/flags"),
            json!({"reason": "anders", "note": "Klopt niet."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let seen = reader.thread(case).await;
    assert_eq!(seen[0]["status"], "hidden");
    assert_eq!(seen[0]["moderation_reason"], "meldingen");
    assert_eq!(seen[0]["body"], Value::Null);

    let m = app.staff(&t.moderator).await;
    let (_, queue) = m.get("/api/v1/moderation/utrecht/queue?kind=flagged").await;
    let item = &queue["items"][0];
    assert_eq!(item["post"]["id"], id);
    let mut reasons: Vec<&str> = item["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap())
        .collect();
    reasons.sort_unstable();
    assert_eq!(reasons, vec!["anders", "beledigend", "spam"]);
    let (status, done) = m
        .post(
            &format!("/api/v1/moderation/posts/{id}/restore"),
            json!({"revision": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(reader.thread(case).await[0]["status"], "visible");
    let (_, counts) = m.get("/api/v1/moderation/utrecht/counts").await;
    assert_eq!(counts["flagged"], 0, "the flags were handled");
}

async fn hide_leaves_a_placeholder_with_the_reason(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, post) = author
        .post(
            &url,
            json!({"verdict": "oneens", "body": "Iets kwetsends."}),
        )
        .await;
    let id = post["id"].as_i64().unwrap();
    let (_, reply) = other
        .post(
            &url,
            json!({"parent_id": id, "body": "Een antwoord eronder."}),
        )
        .await;
    let m = app.staff(&t.moderator).await;
    let (status, body) = m
        .post(&format!("/api/v1/moderation/posts/{id}/hide"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "reason_required");
    let (status, _) = m
        .post(
            &format!("/api/v1/moderation/posts/{id}/hide"),
            json!({"reason": "beledigend", "note": "Houd het respectvol."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let seen = other.thread(case).await;
    assert_eq!(seen.len(), 2, "the reply keeps its place");
    assert_eq!(seen[0]["status"], "hidden");
    assert_eq!(seen[0]["moderation_reason"], "beledigend");
    assert_eq!(seen[0]["moderation_note"], Value::Null);
    assert_eq!(seen[0]["body"], Value::Null);
    assert_eq!(seen[1]["id"], reply["id"]);
    let mine = author.thread(case).await;
    assert_eq!(
        mine[0]["moderation_note"], "Houd het respectvol.",
        "the author is told why"
    );
    assert_eq!(mine[0]["body"], "Iets kwetsends.");
    let (status, body) = m
        .post(
            &format!("/api/v1/moderation/posts/{id}/reject"),
            json!({"reason": "spam"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "only held posts are rejected");
    assert_eq!(code(&body), "invalid_transition");
}

async fn redaction_removes_the_text_everywhere(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let (_, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Bel mij op nummer 0612345678."}),
        )
        .await;
    let id = post["id"].as_i64().unwrap();
    author
        .patch(
            &format!("/api/v1/posts/{id}"),
            json!({"body": "Bel mij op 0612345678, echt."}),
        )
        .await;
    let m = app.staff(&t.moderator).await;
    let (status, done) = m
        .post(
            &format!("/api/v1/moderation/posts/{id}/redact"),
            json!({"reason": "persoonsgegevens", "body": "Bel mij op [nummer verwijderd]."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        post["status"], "pending",
        "the phone number held the post in the first place"
    );
    // The author edited once: the moderator approves the second version, as redacted.
    let (status, _) = m
        .post(
            &format!("/api/v1/moderation/posts/{id}/approve"),
            json!({"revision": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, revisions) = author.get(&format!("/api/v1/posts/{id}/revisions")).await;
    for r in revisions.as_array().unwrap() {
        assert_eq!(r["body"], "Bel mij op [nummer verwijderd].");
    }
    let admin = app.staff(&t.admin).await;
    let (_, audit) = admin.get("/api/v1/audit?municipality=utrecht").await;
    let text = audit.to_string();
    assert!(text.contains("post.redact"));
    assert!(
        !text.contains("0612345678"),
        "the audit keeps that it happened, not the text"
    );
    let (_, export) = admin
        .get_text(&format!("/api/v1/cases/{case}/export"))
        .await;
    assert!(export.contains("[nummer verwijderd]"));
    assert!(!export.contains("0612345678"));
}

async fn suspension_and_premoderation_of_one_panelist(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, post) = p
        .post(
            &url,
            json!({"verdict": "eens", "body": "Mijn eerste bericht."}),
        )
        .await;
    let m = app.staff(&t.moderator).await;
    let (_, item) = m
        .post(
            &format!("/api/v1/moderation/posts/{}/claim", post["id"]),
            json!({}),
        )
        .await;
    let panelist_id = item["panelist_id"].as_i64().expect("panelist id");
    m.post(
        &format!("/api/v1/moderation/posts/{}/release", post["id"]),
        json!({}),
    )
    .await;

    let (status, body) = m
        .post(
            &format!("/api/v1/moderation/panelists/{panelist_id}/suspend"),
            json!({"hours": 24}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "reason_required");
    let (status, _) = m
        .post(
            &format!("/api/v1/moderation/panelists/{panelist_id}/suspend"),
            json!({"hours": 24, "reason": "Herhaaldelijk beledigend."}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = p
        .post(
            &url,
            json!({"parent_id": post["id"], "body": "Kan ik nog reageren?"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "suspended");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Herhaaldelijk beledigend."),
        "the panelist is told why"
    );
    m.post(
        &format!("/api/v1/moderation/panelists/{panelist_id}/suspend"),
        json!({"hours": 0}),
    )
    .await;
    let (status, _) = p
        .post(
            &url,
            json!({"parent_id": post["id"], "body": "Weer welkom terug."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    m.post(
        &format!("/api/v1/moderation/panelists/{panelist_id}/premoderate"),
        json!({"on": true}),
    )
    .await;
    let (_, held) = p
        .post(
            &url,
            json!({"parent_id": post["id"], "body": "Dit wordt eerst bekeken."}),
        )
        .await;
    assert_eq!(held["status"], "pending");
    let other = app.panelist(&t.codes[1]).await;
    let (_, fine) = other
        .post(
            &url,
            json!({"verdict": "twijfel", "body": "Mijn bericht gaat direct."}),
        )
        .await;
    assert_eq!(
        fine["status"], "visible",
        "pre-moderation of one panelist holds only theirs"
    );
}

async fn only_moderators_of_the_municipality_moderate(app: TestApp) {
    let u = app.tenant("utrecht", 2).await;
    let z = app.tenant("zoetermeer", 0).await;
    let case = app.open_case(&u, json!({})).await;
    let author = app.panelist(&u.codes[0]).await;
    let (_, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Gewoon een mening."}),
        )
        .await;
    let id = post["id"].as_i64().unwrap();
    let other = app.panelist(&u.codes[1]).await;
    let (status, body) = other
        .post(
            &format!("/api/v1/moderation/posts/{id}/hide"),
            json!({"reason": "spam"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "forbidden");
    let (status, _) = other.get("/api/v1/moderation/utrecht/queue").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let analyst = app.staff(&u.analyst).await;
    let (status, _) = analyst
        .post(
            &format!("/api/v1/moderation/posts/{id}/hide"),
            json!({"reason": "spam"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let zm = app.staff(&z.moderator).await;
    let (status, body) = zm
        .post(
            &format!("/api/v1/moderation/posts/{id}/hide"),
            json!({"reason": "spam"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "post_not_found");
    let (status, _) = zm.get("/api/v1/moderation/utrecht/queue").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.thread(case).await[0]["status"],
        "visible",
        "nothing changed"
    );
}

async fn audit_log_is_readable_exportable_and_append_only(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let admin = app.staff(&t.admin).await;
    let (status, page) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=100")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let actions: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "case.open",
        "case.create",
        "staff.login",
        "invites.create",
        "staff.create",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let open = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "case.open")
        .unwrap();
    assert_eq!(open["object_id"], case.to_string());
    assert_eq!(open["actor_kind"], "staff");
    assert_eq!(open["result"], "ok");
    let (status, csv) = admin
        .get_text("/api/v1/audit/export?municipality=utrecht")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with("id,at,actor_kind"));
    assert!(csv.contains("case.open"));
    let (_, again) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=1")
        .await;
    assert_eq!(
        again["entries"][0]["action"], "audit.export",
        "the export itself is audited"
    );
    // Moderators read the moderation entries only, and cannot export.
    let author = app.panelist(&t.codes[0]).await;
    let (_, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Dit vind ik een onredelijk besluit van de gemeente."}),
        )
        .await;
    let m = app.staff(&t.moderator).await;
    let (status, _) = m
        .post(
            &format!("/api/v1/moderation/posts/{}/hide", post["id"]),
            json!({"reason": "off-topic"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = m.get("/api/v1/audit?municipality=utrecht&limit=100").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let seen: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(seen.contains(&"post.hide"), "{seen:?}");
    assert!(
        seen.iter().all(|a| a.starts_with("post.")
            || a.starts_with("panelist.")
            || a.starts_with("moderation.")),
        "{seen:?}"
    );
    let (status, _) = m
        .get_text("/api/v1/audit/export?municipality=utrecht")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let analyst = app.staff(&t.analyst).await;
    let (status, _) = analyst.get("/api/v1/audit?municipality=utrecht").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Not even the database lets anyone change or remove an entry.
    let db = app.service.store.db();
    let del = sea_orm::ConnectionTrait::execute_unprepared(db, "DELETE FROM audit_entries").await;
    assert!(del.is_err(), "delete refused");
    let upd =
        sea_orm::ConnectionTrait::execute_unprepared(db, "UPDATE audit_entries SET action = 'x'")
            .await;
    assert!(upd.is_err(), "update refused");
}

mod limits_refuse_with_429_and_store_nothing {
    use beraad::realtime::HubSettings;
    use beraad::service::ServiceSettings;

    use crate::helpers::{Engine, spawn_app_with_settings};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let app = spawn_app_with_settings(
            Engine::Sqlite,
            HubSettings::default(),
            ServiceSettings::default(),
        )
        .await;
        super::rate_limits(app).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let app = spawn_app_with_settings(
            Engine::Postgres,
            HubSettings::default(),
            ServiceSettings::default(),
        )
        .await;
        super::rate_limits(app).await
    }
}

/// With the default limits (replies: a burst of 5, then one per 5 s), the sixth quick
/// reply gets 429 with Retry-After and is not stored; another panelist is not affected.
async fn rate_limits(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, root) = a
        .post(
            &url,
            json!({"verdict": "eens", "body": "Begin van de draad."}),
        )
        .await;
    for i in 0..5 {
        let (status, body) = a
            .post(
                &url,
                json!({"parent_id": root["id"], "body": format!("Snel antwoord {i}.")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let resp = a
        .http
        .post(format!("{}{url}", a.base))
        .header("x-csrf-token", a.csrf.clone().unwrap())
        .json(&json!({"parent_id": root["id"], "body": "Een te veel."}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&retry), "retry after {retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "rate_limited");
    assert_eq!(
        b.thread(case).await.len(),
        6,
        "the refused reply was not stored"
    );
    let (status, _) = b
        .post(
            &url,
            json!({"parent_id": root["id"], "body": "Ik mag nog wel."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn post_with_a_bsn_is_held_and_never_reaches_other_panelists(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let mut ws_other = other.ws().await;
    ws_other.subscribe(case, 1).await;
    // 111.222.333 passes the 11-test: 9+8+7+12+10+8+9+6-3 = 66 = 6 x 11.
    let body = "Mijn moeder (BSN 111.222.333) kreeg ook geen rolstoel.";
    let (status, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["status"], "pending");
    assert_eq!(post["held_reasons"][0]["code"], "persoonsgegevens");
    let message = post["held_reasons"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("BSN") || message.contains("burgerservicenummer"),
        "{message}"
    );
    assert!(
        !message.contains("111"),
        "the explanation never repeats the number"
    );
    // Other panelists: a placeholder over HTTP and over the WebSocket, never the text.
    let seen = other.thread(case).await;
    assert_eq!(seen[0]["body"], Value::Null);
    let live = ws_other.next_of("event").await;
    assert_eq!(live["post"]["body"], Value::Null);
    assert!(!live.to_string().contains("111.222.333"));
    let (_, single) = other.get(&format!("/api/v1/posts/{}", post["id"])).await;
    assert!(!single.to_string().contains("111.222.333"));
    // Moderators see it in the queue; the author still sees their own text.
    let m = app.staff(&t.moderator).await;
    let (_, queue) = m.get("/api/v1/moderation/utrecht/queue").await;
    assert_eq!(queue["items"][0]["post"]["body"], body);
    assert_eq!(author.thread(case).await[0]["body"], body);
    // The same number written with spaces is caught too; a plain amount is not.
    let (_, spaced) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": post["id"], "body": "Nummer 111 222 333 dus."}),
        )
        .await;
    assert_eq!(spaced["status"], "pending");
    let (_, plain) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": post["id"], "body": "Het kostte 1.250 euro per jaar."}),
        )
        .await;
    assert_eq!(plain["status"], "visible");
}

async fn check_endpoint_warns_while_typing_and_banned_words_refuse(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    let draft = "Bel me: 06-12345678 of mail jan@voorbeeld.nl";
    let (status, check) = p
        .post(
            &format!("/api/v1/cases/{case}/posts/check"),
            json!({"body": draft}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["outcome"], "hold");
    let findings = check["findings"].as_array().unwrap();
    assert!(findings.len() >= 2, "{check}");
    for f in findings {
        let (start, end) = (
            f["start"].as_u64().unwrap() as usize,
            f["end"].as_u64().unwrap() as usize,
        );
        assert!(start < end && end <= draft.len());
        assert!(!f["message"].as_str().unwrap().contains(&draft[start..end]));
    }
    assert!(p.thread(case).await.is_empty(), "checking stores nothing");
    let admin = app.staff(&t.admin).await;
    let (status, policy) = admin
        .put("/api/v1/moderation/utrecht/policy", json!({"banned_words": ["sukkel"], "suspect_words": ["oplichter"], "flag_threshold": 2}))
        .await;
    assert_eq!(status, StatusCode::OK, "{policy}");
    let url = format!("/api/v1/cases/{case}/posts");
    let (status, body) = p
        .post(
            &url,
            json!({"verdict": "oneens", "body": "De ambtenaar is een sukkel."}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "post_rejected");
    assert!(
        p.thread(case).await.is_empty(),
        "a refused post is not stored"
    );
    let (_, held) = p
        .post(
            &url,
            json!({"verdict": "oneens", "body": "Die zorgaanbieder lijkt wel een oplichter."}),
        )
        .await;
    assert_eq!(held["status"], "pending");
    assert_eq!(held["held_reasons"][0]["code"], "verdacht_woord");
    let (status, _) = app
        .staff(&t.moderator)
        .await
        .put("/api/v1/moderation/utrecht/policy", json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins set the policy");
}

async fn every_action_leaves_an_audit_entry(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({"moderation_mode": "pre"})).await;
    let p = app.panelist(&t.codes[0]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, a) = p
        .post(
            &url,
            json!({"verdict": "eens", "body": "Eerste, wordt goedgekeurd."}),
        )
        .await;
    let (_, b) = p
        .post(
            &url,
            json!({"parent_id": a["id"], "body": "Tweede, wordt afgewezen."}),
        )
        .await;
    let m = app.staff(&t.moderator).await;
    let act = |id: &Value, action: &str| format!("/api/v1/moderation/posts/{id}/{action}");
    let steps = [
        (act(&a["id"], "approve"), json!({"revision": 1})),
        (act(&b["id"], "reject"), json!({"reason": "off-topic"})),
        (act(&a["id"], "hide"), json!({"reason": "spam"})),
        (act(&a["id"], "restore"), json!({"revision": 1})),
        (
            act(&a["id"], "redact"),
            json!({"reason": "persoonsgegevens"}),
        ),
        (act(&b["id"], "restore"), json!({"revision": 1})),
    ];
    for (path, body) in steps {
        let (status, answer) = m.post(&path, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
    let (_, item) = m.post(&act(&a["id"], "claim"), json!({})).await;
    let panelist = item["panelist_id"].as_i64().unwrap();
    m.post(
        &format!("/api/v1/moderation/panelists/{panelist}/suspend"),
        json!({"hours": 1, "reason": "Afkoelen."}),
    )
    .await;
    m.post(
        &format!("/api/v1/moderation/panelists/{panelist}/premoderate"),
        json!({"on": true}),
    )
    .await;
    let admin = app.staff(&t.admin).await;
    let (_, audit) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=500")
        .await;
    let entries = audit["entries"].as_array().unwrap();
    for action in [
        "post.approve",
        "post.reject",
        "post.hide",
        "post.restore",
        "post.redact",
        "panelist.suspend",
        "panelist.premoderate",
    ] {
        let e = entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in the audit log"));
        assert_eq!(e["actor_kind"], "staff");
        assert_eq!(e["result"], "ok");
        assert!(e["at"].is_string() && e["object_id"].is_string());
    }
    let (_, handled) = m.get("/api/v1/moderation/utrecht/handled?limit=100").await;
    assert_eq!(handled["items"].as_array().unwrap().len(), 8);
    assert_eq!(handled["items"][0]["action"], "premoderate", "newest first");
}

async fn first_posts_held_and_moderators_see_queue_sizes_live(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({"hold_first_post": true})).await;
    let m = app.staff(&t.moderator).await;
    let mut ws = m.ws().await;
    ws.send(json!({"type": "subscribe", "topic": "moderation:utrecht"}))
        .await;
    let ack = ws.next_of("subscribed").await;
    assert_eq!(
        (ack["pending"].as_u64(), ack["flagged"].as_u64()),
        (Some(0), Some(0))
    );
    let p = app.panelist(&t.codes[0]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, first) = p
        .post(
            &url,
            json!({"verdict": "eens", "body": "Mijn allereerste bericht."}),
        )
        .await;
    assert_eq!(first["status"], "pending");
    assert_eq!(first["held_reasons"][0]["code"], "eerste_bericht");
    let update = ws.next_of("moderation").await;
    assert_eq!(update["topic"], "moderation:utrecht");
    assert_eq!(update["pending"], 1);
    assert_eq!(
        update["post_id"], first["id"],
        "the message names the new item"
    );
    m.post(
        &format!("/api/v1/moderation/posts/{}/approve", first["id"]),
        json!({"revision": 1}),
    )
    .await;
    assert_eq!(ws.next_of("moderation").await["pending"], 0);
    let (_, second) = p
        .post(
            &url,
            json!({"parent_id": first["id"], "body": "Mijn tweede bericht."}),
        )
        .await;
    assert_eq!(second["status"], "visible", "only the first post is held");
    // Panelists cannot follow the queues.
    let mut pws = p.ws().await;
    pws.send(json!({"type": "subscribe", "topic": "moderation:utrecht"}))
        .await;
    assert_eq!(pws.next_of("error").await["code"], "forbidden");
}
