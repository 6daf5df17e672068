//! The first promise to a resident: text a moderator removed, an author withdrew or
//! changed, or nobody approved yet never reaches another reader, by any door (live
//! frames, resumes, threads), and a moderator's decision applies to the text they saw.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, code};

both_engines!(
    resume_from_before_a_change_shows_each_post_as_it_is_now,
    approve_pins_the_revision_the_moderator_saw,
    editing_a_hidden_post_puts_it_back_before_a_moderator,
    tally_counts_only_what_the_reader_may_see,
    revoked_role_and_suspension_close_open_sockets,
);

/// Every frame a socket sends until it falls quiet, as one text.
async fn drain(ws: &mut crate::helpers::Ws, head: i64) -> String {
    let mut all = String::new();
    loop {
        let v = ws.next_of("event").await;
        all.push_str(&v.to_string());
        if v["seq"].as_i64() == Some(head) {
            return all;
        }
    }
}

async fn resume_from_before_a_change_shows_each_post_as_it_is_now(app: TestApp) {
    resume_scenario(&app, &app).await;
}

/// Two servers on one PostgreSQL database: the posts are written and changed through
/// one, the viewers follow and resume on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_on_another_node_shows_each_post_as_it_is_now() {
    let (url, name) = crate::helpers::create_pg_database().await;
    let settings = || beraad::service::ServiceSettings {
        rate_limits: beraad::service::ratelimit::RateLimits::unlimited(),
        ..Default::default()
    };
    let a = crate::helpers::spawn_app_on(&url, Default::default(), settings(), |_| {}).await;
    let b = crate::helpers::spawn_app_on(&url, Default::default(), settings(), |_| {}).await;
    resume_scenario(&a, &b).await;
    drop((a, b));
    crate::helpers::drop_pg_database(name);
}

/// Posts written and changed through `writes`; read live and resumed through `reads`.
async fn resume_scenario(writes: &TestApp, reads: &TestApp) {
    let app = writes;
    let t = app.tenant("utrecht", 3).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let viewer = reads.panelist(&t.codes[1]).await;
    let late = reads.panelist(&t.codes[2]).await;
    let moderator = app.staff(&t.moderator).await;
    let analyst = reads.staff(&t.analyst).await;
    // A viewer follows from the start, so the node keeps the case's recent events.
    let mut ws_viewer = viewer.ws().await;
    ws_viewer.subscribe(case, 1).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, hidden) = author
        .post(
            &url,
            json!({"verdict": "oneens", "body": "Verborgen-tekst die een moderator afschermt."}),
        )
        .await;
    let mut ids = vec![hidden["id"].clone()];
    for body in [
        "Ingetrokken-tekst die de schrijver terugneemt.",
        "Oude-tekst van voor de bewerking.",
        "Geredigeerde-tekst met iets persoonlijks erin.",
    ] {
        let (status, reply) = author
            .post(&url, json!({"parent_id": hidden["id"], "body": body}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        ids.push(reply["id"].clone());
    }
    assert_eq!(ws_viewer.events(4).await.len(), 4);
    let act = |id: &Value, what: &str| format!("/api/v1/moderation/posts/{id}/{what}");
    let (status, body) = moderator
        .post(&act(&ids[0], "hide"), json!({"reason": "beledigend"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    author
        .post(&format!("/api/v1/posts/{}/withdraw", ids[1]), json!({}))
        .await;
    let (status, body) = author
        .patch(
            &format!("/api/v1/posts/{}", ids[2]),
            json!({"body": "Nieuwe tekst na de bewerking."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = moderator.post(&act(&ids[3], "redact"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let head = 9;
    assert_eq!(
        ws_viewer.events(4).await.last().unwrap()["seq"],
        head,
        "four changes after four posts"
    );
    let old = [
        "Verborgen-tekst",
        "Ingetrokken-tekst",
        "Oude-tekst",
        "Geredigeerde-tekst",
    ];
    // A panelist who resumes from before the changes, from memory or from the log.
    for after in [1, 0] {
        let mut ws = late.ws().await;
        ws.subscribe(case, after).await;
        let seen = drain(&mut ws, head).await;
        for text in old {
            assert!(!seen.contains(text), "resume after {after} re-sent {text}");
        }
        assert!(seen.contains("Nieuwe tekst na de bewerking."));
    }
    // Staff read held and hidden text, but not withdrawn or redacted text either.
    let mut ws = analyst.ws().await;
    ws.subscribe(case, 1).await;
    let seen = drain(&mut ws, head).await;
    for text in ["Ingetrokken-tekst", "Oude-tekst", "Geredigeerde-tekst"] {
        assert!(!seen.contains(text), "staff resume re-sent {text}");
    }
    // The author resumes too: their own withdrawn text is theirs, the redacted text gone.
    let mut ws = author.ws().await;
    ws.subscribe(case, 1).await;
    let seen = drain(&mut ws, head).await;
    assert!(!seen.contains("Geredigeerde-tekst"));
    assert!(!seen.contains("Oude-tekst"));
}

async fn approve_pins_the_revision_the_moderator_saw(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let moderator = app.staff(&t.moderator).await;
    let (status, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Bel me gerust op 06-12345678 als u vragen heeft."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["status"], "pending");
    let id = post["id"].as_i64().unwrap();
    // The moderator opens the queue and claims the post as it is now.
    let (_, queue) = moderator
        .get("/api/v1/moderation/utrecht/queue?kind=pending")
        .await;
    let seen_revision = queue["items"][0]["post"]["revision_count"].clone();
    assert_eq!(seen_revision, 1);
    let (status, _) = moderator
        .post(&format!("/api/v1/moderation/posts/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Meanwhile the author swaps the phone number for a BSN and an IBAN.
    let (status, edited) = author
        .patch(
            &format!("/api/v1/posts/{id}"),
            json!({"body": "Mijn BSN is 111222333 en mijn rekening NL91ABNA0417164300."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["status"], "pending");
    // The edit is screened again: the reasons name the new findings, the claim is gone.
    let (_, queue) = moderator
        .get("/api/v1/moderation/utrecht/queue?kind=pending")
        .await;
    let item = &queue["items"][0];
    assert_eq!(item["post"]["revision_count"], 2);
    assert_eq!(item["claimed_by"], Value::Null, "{item}");
    let reasons = item["held_reasons"].to_string();
    assert!(reasons.contains("BSN"), "{reasons}");
    assert!(
        reasons.contains("IBAN") || reasons.contains("rekening"),
        "{reasons}"
    );
    // Approving what the moderator saw is refused; the panel never reads the BSN.
    let approve = format!("/api/v1/moderation/posts/{id}/approve");
    let (status, body) = moderator
        .post(&approve, json!({"revision": seen_revision}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "post_changed");
    let (status, body) = moderator.post(&approve, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "revision_required");
    let thread = other.thread(case).await;
    assert_eq!(thread[0]["status"], "pending");
    assert_eq!(thread[0]["body"], Value::Null);
    // Approving the revision on screen works.
    let (status, body) = moderator.post(&approve, json!({"revision": 2})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["post"]["status"], "visible");
}

async fn editing_a_hidden_post_puts_it_back_before_a_moderator(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let moderator = app.staff(&t.moderator).await;
    let (_, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Een scherpe maar nette mening."}),
        )
        .await;
    let id = post["id"].as_i64().unwrap();
    let (status, body) = moderator
        .post(
            &format!("/api/v1/moderation/posts/{id}/hide"),
            json!({"reason": "beledigend"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, edited) = author
        .patch(
            &format!("/api/v1/posts/{id}"),
            json!({"body": "Nu met mijn BSN 111222333 erin."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        edited["status"], "pending",
        "an edited hidden post waits again"
    );
    let (_, queue) = moderator
        .get("/api/v1/moderation/utrecht/queue?kind=pending")
        .await;
    assert_eq!(queue["items"][0]["post"]["id"], id);
    assert!(
        queue["items"][0]["held_reasons"]
            .to_string()
            .contains("BSN")
    );
    // A restore of what was hidden no longer applies; the post never reaches others.
    let (status, body) = moderator
        .post(
            &format!("/api/v1/moderation/posts/{id}/restore"),
            json!({"revision": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let thread = other.thread(case).await;
    assert_eq!(thread[0]["body"], Value::Null);
}

async fn tally_counts_only_what_the_reader_may_see(app: TestApp) {
    let t = app.tenant("utrecht", 3).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let c = app.panelist(&t.codes[2]).await;
    let moderator = app.staff(&t.moderator).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (_, visible) = a
        .post(
            &url,
            json!({"verdict": "eens", "body": "Ik ben het eens met de gemeente."}),
        )
        .await;
    assert_eq!(visible["status"], "visible");
    let (_, held) = b
        .post(
            &url,
            json!({"verdict": "oneens", "body": "Bel 06-12345678 voor mijn verhaal."}),
        )
        .await;
    assert_eq!(held["status"], "pending");
    let (_, hidden) = c
        .post(
            &url,
            json!({"verdict": "oneens", "body": "Iets wat verborgen wordt."}),
        )
        .await;
    moderator
        .post(
            &format!("/api/v1/moderation/posts/{}/hide", hidden["id"]),
            json!({"reason": "beledigend"}),
        )
        .await;
    let (status, seen) = a.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    let tally = &seen["tally"];
    assert_eq!(tally["eens"], 1, "{seen}");
    assert_eq!(
        tally["oneens"], 0,
        "held and hidden reactions are not counted: {tally}"
    );
    // The author of the held reaction counts their own; staff count what they can read.
    let (_, seen) = b.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(seen["tally"]["oneens"], 1, "{seen}");
    let (_, seen) = moderator.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(seen["tally"]["oneens"], 2, "{seen}");
}

async fn revoked_role_and_suspension_close_open_sockets(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let panelist = app.panelist(&t.codes[0]).await;
    let analyst = app.staff(&t.analyst).await;
    let admin = app.staff(&t.admin).await;
    let moderator = app.staff(&t.moderator).await;
    let mut ws_analyst = analyst.ws().await;
    ws_analyst.subscribe(case, 1).await;
    let mut ws_panelist = panelist.ws().await;
    ws_panelist.subscribe(case, 1).await;
    // The admin revokes the analyst's role: the open socket closes within a second.
    let (_, page) = admin.get_text("/beheer/medewerkers?gemeente=utrecht").await;
    let at = page.find(t.analyst.as_str()).expect("analyst listed");
    let form = &page[at..];
    let path = "/beheer/medewerkers/";
    let from = form.find(path).expect("revoke form") + path.len();
    let id: String = form[from..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let csrf = admin.csrf.clone().unwrap_or_default();
    let resp = admin
        .http
        .post(format!(
            "{}/beheer/medewerkers/{id}/rol-intrekken",
            admin.base
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&gemeente=utrecht&role=analyst"))
        .send()
        .await
        .expect("request");
    assert!(
        resp.url().as_str().contains("ok=role_revoked"),
        "{} {}",
        resp.status(),
        resp.url()
    );
    assert!(
        ws_analyst.closed_within(1500).await,
        "analyst socket still open"
    );
    // A suspended panelist's socket closes too.
    let (_, held) = panelist
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Bel me op 06-12345678."}),
        )
        .await;
    moderator.suspend_author_of(&held).await;
    assert!(
        ws_panelist.closed_within(1500).await,
        "suspended socket still open"
    );
}
