//! A resident's data rights through every door: a different name in every case (thread
//! JSON, case page, WebSocket frames, export, analysis and report), leaving the panel
//! (code refused, profile and names gone, posts kept as "oud-panellid" or removed, by
//! the resident or by staff on a written request, audited without personal data), and
//! the download of one's own data, complete against a seeded panelist.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{Client, TestApp, code, create_pg_database, drop_pg_database, spawn_app_on};

both_engines!(
    a_panelist_has_another_name_in_every_case_by_every_door,
    leaving_with_posts_kept_shows_them_as_former_panelist,
    leaving_with_posts_removed_keeps_the_thread_shape,
    staff_carry_out_a_written_request_to_leave,
    leaving_needs_a_choice_and_a_confirmation_and_changes_nothing_without,
    own_data_holds_everything_kept_about_the_panelist,
    pages_for_own_data_and_leaving_work_without_script,
    retention_reports_first_then_applies_once,
    erasures_are_replayed_after_a_restore,
    the_email_address_is_in_own_data_and_gone_after_leaving,
);

/// The e-mail address for notifications is personal data like the profile: one's own
/// data lists it (and the messages made), and leaving erases it with every message not
/// yet sent.
async fn the_email_address_is_in_own_data_and_gone_after_leaving(app: TestApp) {
    use beraad::domain::secrets::{hash_invite_code, normalize_invite_code};
    use beraad::store::{notifications, people};
    let t = app.tenant("utrecht", 1).await;
    let a = app.panelist(&t.codes[0]).await;
    let (status, body) = a
        .put(
            "/api/v1/me/notifications",
            json!({"email": "a.jansen@voorbeeld.nl", "kinds": ["casus_geopend"], "frequency": "direct", "language": "nl"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A case opens for the panel: a message waits in the outbox (no mail server here).
    app.open_case(&t, json!({})).await;
    let (_, data) = a.get("/api/v1/me/data").await;
    assert_eq!(
        data["notification_contact"]["email"], "a.jansen@voorbeeld.nl",
        "{data}"
    );
    assert_eq!(data["notification_contact"]["confirmed_at"], Value::Null);
    let (_, page) = a.get_text("/mijn-gegevens").await;
    assert!(
        page.contains("a.jansen@voorbeeld.nl"),
        "the page shows it too"
    );

    let db = app.service.store.db();
    let id =
        people::panelist_by_code_hash(db, &hash_invite_code(&normalize_invite_code(&t.codes[0])))
            .await
            .unwrap()
            .expect("panelist")
            .id;
    let pending = |rows: Vec<beraad::store::entities::notification_outbox::Model>| {
        rows.into_iter().filter(|n| n.status == "pending").count()
    };
    assert_eq!(
        pending(notifications::outbox_of_panelist(db, id).await.unwrap()),
        1,
        "the case opening waits to be sent"
    );
    let (status, out) = a
        .post(
            "/api/v1/me/leave",
            json!({"posts": "behouden", "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(
        notifications::contact_of(db, id).await.unwrap().is_none(),
        "the address is erased"
    );
    assert_eq!(
        pending(notifications::outbox_of_panelist(db, id).await.unwrap()),
        0,
        "nothing is left to send"
    );
}

/// A form post as a browser sends it; returns the status after following redirects
/// and the page.
async fn submit(client: &Client, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let mut form: Vec<(&str, String)> = vec![("csrf", client.csrf.clone().unwrap_or_default())];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let resp = client
        .http
        .post(format!("{}{path}", client.base))
        .header("origin", "http://beraad.test")
        .form(&form)
        .send()
        .await
        .expect("form post");
    let status = resp.status();
    (status, resp.text().await.expect("page"))
}

async fn react(p: &Client, case: i64, verdict: &str, body: &str) -> Value {
    let (status, post) = p
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": verdict, "body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    post
}

async fn reply(p: &Client, case: i64, parent: &Value, body: &str) -> Value {
    let (status, post) = p
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": parent["id"], "body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    post
}

/// The author shown for post `id` in a thread.
fn author_of(thread: &[Value], id: &Value) -> String {
    thread
        .iter()
        .find(|p| &p["id"] == id)
        .and_then(|p| p["author"].as_str())
        .unwrap_or_else(|| panic!("post {id} in the thread"))
        .to_owned()
}

/// The author of the first event about post `id` a fresh socket gets from the start of
/// the case's log.
async fn ws_author(client: &Client, case: i64, id: &Value) -> String {
    let mut ws = client.ws().await;
    ws.subscribe(case, 0).await;
    loop {
        let ev = ws.next_of("event").await;
        if &ev["post"]["id"] == id {
            return ev["post"]["author"]
                .as_str()
                .expect("author in frame")
                .to_owned();
        }
    }
}

async fn a_panelist_has_another_name_in_every_case_by_every_door(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let first = app.open_case(&t, json!({})).await;
    let second = app
        .open_case(&t, json!({"title": "Scootmobiel toegekend"}))
        .await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let (_, session) = a.get("/api/v1/auth/session").await;
    let panel_name = session["pseudonym"].as_str().unwrap_or_default().to_owned();

    let in_first = react(
        &a,
        first,
        "eens",
        "Een traplift is hier de redelijke keuze.",
    )
    .await;
    let in_second = react(
        &a,
        second,
        "oneens",
        "Een scootmobiel lost het probleem niet op.",
    )
    .await;
    let b_root = react(
        &b,
        first,
        "twijfel",
        "Ik twijfel nog over verhuizen op die leeftijd.",
    )
    .await;
    let again = reply(
        &a,
        first,
        &b_root,
        "Verhuizen is op die leeftijd een grote stap.",
    )
    .await;

    // HTTP JSON: another reader sees two unrelated names, stable within a case.
    let name1 = author_of(&b.thread(first).await, &in_first["id"]);
    let name2 = author_of(&b.thread(second).await, &in_second["id"]);
    assert_ne!(name1, name2, "one name per case");
    assert_ne!(name1, panel_name, "the panel name stays the panelist's own");
    assert_ne!(name2, panel_name);
    assert_eq!(
        author_of(&b.thread(first).await, &again["id"]),
        name1,
        "stable within the case"
    );
    let b_name = author_of(&b.thread(first).await, &b_root["id"]);
    assert_ne!(b_name, name1, "two authors never share a name in a case");
    // The author sees the same names on their own posts.
    assert_eq!(author_of(&a.thread(first).await, &in_first["id"]), name1);

    // Page HTML.
    let (status, page1) = b.get_text(&format!("/casus/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page2) = b.get_text(&format!("/casus/{second}")).await;
    assert!(
        page1.contains(&name1) && !page1.contains(&name2),
        "case page 1 names only its own"
    );
    assert!(
        page2.contains(&name2) && !page2.contains(&name1),
        "case page 2 names only its own"
    );
    assert!(!page1.contains(&panel_name) && !page2.contains(&panel_name));

    // WebSocket frames.
    assert_eq!(ws_author(&b, first, &in_first["id"]).await, name1);
    assert_eq!(ws_author(&b, second, &in_second["id"]).await, name2);

    // Staff: moderators' thread, the analysis, the report and the export.
    let moderator = app.staff(&t.moderator).await;
    assert_eq!(
        author_of(&moderator.thread(first).await, &in_first["id"]),
        name1
    );
    assert_eq!(
        author_of(&moderator.thread(second).await, &in_second["id"]),
        name2
    );
    let analyst = app.staff(&t.analyst).await;
    let (status, analysis) = analyst
        .get(&format!("/api/v1/cases/{first}/analysis"))
        .await;
    assert_eq!(status, StatusCode::OK, "{analysis}");
    let text = analysis.to_string();
    assert!(text.contains(&name1) && !text.contains(&name2) && !text.contains(&panel_name));
    let (_, analysis) = analyst
        .get(&format!("/api/v1/cases/{second}/analysis"))
        .await;
    let text = analysis.to_string();
    assert!(text.contains(&name2) && !text.contains(&name1));
    let (status, _) = submit(
        &analyst,
        &format!("/beheer/casus/{first}/citaten"),
        &[("quote", &in_first["id"].to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, report) = analyst
        .get_text(&format!("/beheer/casus/{first}/rapport"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(report.contains(&name1) && !report.contains(&name2) && !report.contains(&panel_name));

    let admin = app.staff(&t.admin).await;
    let export_author = |jsonl: &str, id: &Value| -> String {
        jsonl
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|r| r["record"] == "post" && &r["post_id"] == id)
            .and_then(|r| r["author"].as_str().map(str::to_owned))
            .expect("post in export")
    };
    let (status, x1) = admin
        .get_text(&format!("/api/v1/cases/{first}/export?format=jsonl"))
        .await;
    assert_eq!(status, StatusCode::OK, "{x1}");
    let (_, x2) = admin
        .get_text(&format!("/api/v1/cases/{second}/export?format=jsonl"))
        .await;
    let id1 = export_author(&x1, &in_first["id"]);
    assert_ne!(
        id1,
        export_author(&x2, &in_second["id"]),
        "exports unlinkable across cases"
    );
    assert_eq!(id1, export_author(&x1, &again["id"]));
    for x in [&x1, &x2] {
        assert!(!x.contains(&name1) && !x.contains(&name2) && !x.contains(&panel_name));
    }
}

async fn leaving_with_posts_kept_shows_them_as_former_panelist(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    a.put(
        "/api/v1/me/profile",
        json!({"consent": true, "age_band": "65-74", "district": "Overvecht"}),
    )
    .await;
    let body = "Een traplift is hier de redelijke keuze voor mevrouw.";
    let post = react(&a, case, "eens", body).await;
    let name = author_of(&b.thread(case).await, &post["id"]);
    let mut ws = a.ws().await;
    ws.subscribe(case, 0).await;

    let (status, out) = a
        .post(
            "/api/v1/me/leave",
            json!({"posts": "behouden", "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out, json!({"posts": "behouden", "post_count": 1}));

    // The session is over, its socket closes, and the code logs nobody in.
    let (status, _) = a.get("/api/v1/me/profile").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(ws.closed_within(5_000).await, "the open socket closes");
    let (status, body_) = app
        .anonymous()
        .post("/api/v1/auth/invite", json!({"code": t.codes[0]}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body_}");

    // The post stays, under "oud-panellid", for readers and staff alike.
    let thread = b.thread(case).await;
    let kept = thread.iter().find(|p| p["id"] == post["id"]).expect("kept");
    assert_eq!(kept["author"], "oud-panellid");
    assert_eq!(kept["body"], body);
    let (_, page) = b.get_text(&format!("/casus/{case}")).await;
    assert!(page.contains("oud-panellid") && !page.contains(&name));
    let frame_author = ws_author(&b, case, &post["id"]).await;
    assert_eq!(frame_author, "oud-panellid");

    // Audited without the person: the panel, the choice and a count.
    let admin = app.staff(&t.admin).await;
    let (_, audit) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=500")
        .await;
    let entry = audit["entries"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["action"] == "panelist.leave"))
        .cloned()
        .unwrap_or_else(|| panic!("leave audited: {audit}"));
    assert_eq!(entry["object_type"], "panel");
    assert!(entry["actor_id"].is_null(), "{entry}");
    assert!(entry["origin"].is_null(), "{entry}");
    assert_eq!(entry["detail"]["post_count"], 1);
    assert!(!entry.to_string().contains(&name));
}

async fn leaving_with_posts_removed_keeps_the_thread_shape(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let body = "Verhuizen haalt mevrouw weg uit haar vertrouwde buurt.";
    let post = react(&a, case, "oneens", body).await;
    let edited = "Verhuizen haalt mevrouw weg uit haar vertrouwde buurt en kerk.";
    let (status, _) = a
        .patch(
            &format!("/api/v1/posts/{}", post["id"]),
            json!({"body": edited}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let answer = reply(&b, case, &post, "Dat vind ik ook, de buurt is belangrijk.").await;

    let (status, out) = a
        .post(
            "/api/v1/me/leave",
            json!({"posts": "verwijderen", "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["post_count"], 1);

    let thread = b.thread(case).await;
    assert_eq!(thread.len(), 2, "the thread keeps its shape");
    let gone = thread
        .iter()
        .find(|p| p["id"] == post["id"])
        .expect("placeholder");
    assert!(gone["body"].is_null());
    assert_eq!(gone["status"], "withdrawn");
    assert_eq!(gone["moderation_reason"], "vertrokken");
    assert_eq!(gone["author"], "oud-panellid");
    let kept = thread
        .iter()
        .find(|p| p["id"] == answer["id"])
        .expect("reply");
    assert_eq!(kept["parent_id"], post["id"]);
    // Staff cannot read it either, nor its earlier version, nor in the export.
    let moderator = app.staff(&t.moderator).await;
    let (_, revisions) = moderator
        .get(&format!("/api/v1/posts/{}/revisions", post["id"]))
        .await;
    assert!(!revisions.to_string().contains("vertrouwde"), "{revisions}");
    let admin = app.staff(&t.admin).await;
    let (_, x) = admin
        .get_text(&format!("/api/v1/cases/{case}/export?format=jsonl"))
        .await;
    assert!(!x.contains("vertrouwde buurt"), "{x}");
    let (_, page) = b.get_text(&format!("/casus/{case}")).await;
    assert!(!page.contains("vertrouwde buurt en kerk"));
    assert!(
        page.contains("de schrijver heeft het panel verlaten"),
        "placeholder text"
    );
}

async fn staff_carry_out_a_written_request_to_leave(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let post = react(
        &a,
        case,
        "eens",
        "Ik vind het besluit redelijk en goed uitgelegd.",
    )
    .await;
    let admin = app.staff(&t.admin).await;
    // The tenant's codes were numbered when issued, in order: A holds the first.
    let number = first_number(&admin).await;
    let moderator = app.staff(&t.moderator).await;
    let (status, body) = moderator
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{number}/leave"),
            json!({"posts": "verwijderen"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only: {body}");
    let (status, body) = admin
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{number}/leave"),
            json!({"posts": "verwijderen"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["post_count"], 1);
    let (status, body) = admin
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{number}/leave"),
            json!({"posts": "verwijderen"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "already_left");
    // The invitation says so, and cannot be replaced by a new code.
    let (_, inv) = admin
        .get(&format!(
            "/api/v1/municipalities/utrecht/invitations/{number}"
        ))
        .await;
    assert_eq!(inv["status"], "left", "{inv}");
    let (status, body) = admin
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{number}/replace"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "panelist_left");
    // The panelist's session ended and their post is gone.
    let (status, _) = a.get("/api/v1/me/profile").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, thread) = admin.get(&format!("/api/v1/cases/{case}/posts")).await;
    let gone = thread["posts"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["id"] == post["id"]))
        .cloned()
        .expect("placeholder");
    assert!(gone["body"].is_null());
    let (_, audit) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=500")
        .await;
    let entry = audit["entries"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|e| e["action"] == "panelist.leave_on_request")
        })
        .cloned()
        .unwrap_or_else(|| panic!("audited: {audit}"));
    assert!(
        !entry.to_string().contains(&number),
        "no invitation number in the audit"
    );
}

/// The number of the first invitation of the tenant (that of `codes[0]`).
async fn first_number(admin: &Client) -> String {
    let (status, overview) = admin.get("/api/v1/municipalities/utrecht/response").await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let batch = overview["batches"][0]["id"].as_i64().expect("a batch");
    let (status, detail) = admin
        .get(&format!("/api/v1/invitation-batches/{batch}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    detail["invitations"][0]["number"]
        .as_str()
        .expect("number")
        .to_owned()
}

async fn leaving_needs_a_choice_and_a_confirmation_and_changes_nothing_without(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let a = app.panelist(&t.codes[0]).await;
    let (status, body) = a
        .post(
            "/api/v1/me/leave",
            json!({"posts": "behouden", "confirm": false}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "confirmation_required");
    let (status, body) = a
        .post("/api/v1/me/leave", json!({"posts": "weg", "confirm": true}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "invalid_posts_choice");
    let (status, _) = a.get("/api/v1/me/profile").await;
    assert_eq!(status, StatusCode::OK, "still a panelist");
    let admin = app.staff(&t.admin).await;
    let (status, body) = admin
        .post(
            "/api/v1/me/leave",
            json!({"posts": "behouden", "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

async fn own_data_holds_everything_kept_about_the_panelist(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    a.put(
        "/api/v1/me/profile",
        json!({"consent": true, "age_band": "65-74", "district": "Overvecht", "wmo_experience": "zelf"}),
    )
    .await;
    let mine = react(
        &a,
        case,
        "eens",
        "Eerste versie van mijn oordeel over de traplift.",
    )
    .await;
    a.patch(
        &format!("/api/v1/posts/{}", mine["id"]),
        json!({"body": "Tweede versie van mijn oordeel over de traplift."}),
    )
    .await;
    let theirs = react(
        &b,
        case,
        "oneens",
        "Verhuizen is op die leeftijd geen goed idee.",
    )
    .await;
    let my_reply = reply(
        &a,
        case,
        &theirs,
        "Daar heeft u een punt, maar het kost veel.",
    )
    .await;
    let (status, _) = a
        .put(
            &format!("/api/v1/posts/{}/weighing", theirs["id"]),
            json!({"value": "agree"}),
        )
        .await;
    assert!(status.is_success());
    let (status, body) = a
        .post(
            &format!("/api/v1/posts/{}/flags", theirs["id"]),
            json!({"reason": "off-topic", "note": "Gaat niet over het besluit."}),
        )
        .await;
    assert!(status.is_success(), "{body}");

    let (status, d) = a.get("/api/v1/me/data").await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["municipality"], "Gemeente utrecht");
    assert_eq!(d["profile"]["profile_consent"], true);
    assert_eq!(d["profile"]["age_band"], "65-74");
    assert_eq!(d["profile"]["district"], "Overvecht");
    assert_eq!(d["profile"]["wmo_experience"], "zelf");
    assert!(d["profile"]["first_login_at"].is_string());
    let posts = d["posts"].as_array().expect("posts");
    assert_eq!(posts.len(), 2);
    let p0 = posts
        .iter()
        .find(|p| p["id"] == mine["id"])
        .expect("reaction");
    assert_eq!(p0["verdict"], "eens");
    assert_eq!(
        p0["body"],
        "Tweede versie van mijn oordeel over de traplift."
    );
    assert_eq!(p0["revisions"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        p0["revisions"][0]["body"],
        "Eerste versie van mijn oordeel over de traplift."
    );
    assert_eq!(p0["case_title"], "Traplift afgewezen");
    assert!(
        posts
            .iter()
            .any(|p| p["id"] == my_reply["id"] && p["parent_id"] == theirs["id"])
    );
    assert_eq!(
        d["weighings"],
        json!([{
            "case_id": case, "post_id": theirs["id"], "value": "agree",
            "created_at": d["weighings"][0]["created_at"], "updated_at": d["weighings"][0]["updated_at"],
        }])
    );
    assert_eq!(d["flags"][0]["reason"], "off-topic");
    assert_eq!(d["flags"][0]["note"], "Gaat niet over het besluit.");
    let name = author_of(&b.thread(case).await, &mine["id"]);
    assert_eq!(d["case_names"][0]["name"], name);
    assert_eq!(d["case_names"][0]["case_id"], case);
    let consent: Vec<&str> = d["consent_history"]
        .as_array()
        .expect("consent")
        .iter()
        .filter_map(|c| c["action"].as_str())
        .collect();
    assert!(consent.contains(&"profile.update"), "{consent:?}");
    assert_eq!(d["invitations"].as_array().map(Vec::len), Some(1));
    assert_eq!(d["invitations"][0]["status"], "active");
    assert!(d["sessions"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(d["audit"].as_array().is_some_and(|s| !s.is_empty()));
    // Nothing of another panelist, and never a code or a session key.
    let text = d.to_string();
    assert!(
        !text.contains("Verhuizen is op die leeftijd"),
        "not another's post text"
    );
    assert!(!text.contains(&t.codes[0]) && !text.contains(&t.codes[1]));
    assert!(!text.contains("token"));
    // Staff have no own data of this kind.
    let admin = app.staff(&t.admin).await;
    let (status, _) = admin.get("/api/v1/me/data").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn pages_for_own_data_and_leaving_work_without_script(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    react(
        &a,
        case,
        "twijfel",
        "Ik weet het nog niet, de kosten zijn hoog.",
    )
    .await;
    let (status, page) = a.get_text("/mijn-gegevens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Ik weet het nog niet, de kosten zijn hoog."));
    assert!(
        page.contains("/api/v1/me/data"),
        "the JSON download is linked"
    );
    let (status, page) = a.get_text("/privacy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/mijn-gegevens") && page.contains("/panel-verlaten"));
    assert!(page.contains("/privacy/verantwoording"));
    let (status, doc) = app.anonymous().get_text("/privacy/verantwoording").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc.contains("Data inventory") && doc.contains("case_names"));

    // Without the confirmation the form comes back with the error beside its field.
    let (status, page) = submit(&a, "/panel-verlaten", &[("posts", "behouden")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"bevestigen-fout\""));
    assert!(
        page.contains("value=\"behouden\" checked"),
        "the choice is kept"
    );
    let (status, _) = a.get("/api/v1/me/profile").await;
    assert_eq!(status, StatusCode::OK, "nothing happened");

    let (status, page) = submit(
        &a,
        "/panel-verlaten",
        &[("posts", "verwijderen"), ("confirm", "ja")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("U heeft het panel verlaten"), "{page}");
    let (status, _) = a.get("/api/v1/me/profile").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A closed case where A and B wrote and B weighed A, with retention set to end the
/// programme an hour ago and cut links at close; returns the case and A's post.
async fn closed_case_under_retention(app: &TestApp) -> (crate::helpers::Tenant, i64, Value) {
    let t = app.tenant("utrecht", 3).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let post = react(&a, case, "eens", "Een traplift is hier de redelijke keuze.").await;
    react(
        &b,
        case,
        "oneens",
        "Verhuizen is op die leeftijd geen goed idee.",
    )
    .await;
    let (status, _) = b
        .put(
            &format!("/api/v1/posts/{}/weighing", post["id"]),
            json!({"value": "agree"}),
        )
        .await;
    assert!(status.is_success());
    let admin = app.staff(&t.admin).await;
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ended = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let (status, body) = admin
        .put(
            "/api/v1/municipalities/utrecht/retention",
            json!({"programme_ends_at": ended, "unlink_after_months": 0, "audit_years": 7}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unlink_after_months"], 0);
    // Settings are an object: an array with their values in order is no settings.
    let (status, refused) = admin
        .put(
            "/api/v1/municipalities/utrecht/retention",
            json!([null, null]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(code(&refused), "invalid_body");
    let (_, kept) = admin.get("/api/v1/municipalities/utrecht/retention").await;
    assert_eq!(kept, body, "a refused body changes nothing");
    (t, case, post)
}

async fn retention_reports_first_then_applies_once(app: TestApp) {
    let (t, case, post) = closed_case_under_retention(&app).await;
    let admin = app.staff(&t.admin).await;
    let a = app.panelist(&t.codes[0]).await;
    let before = author_of(&admin.thread(case).await, &post["id"]);
    let (_, analysis_before) = admin.get(&format!("/api/v1/cases/{case}/analysis")).await;

    // The dry run counts and changes nothing.
    let (status, plan) = admin
        .get("/api/v1/municipalities/utrecht/retention/plan")
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["applied"], false);
    assert_eq!(plan["counts"]["codes_ended"], 3, "{plan}");
    assert_eq!(
        plan["counts"]["links_cut"], 2,
        "A and B acted in the case: {plan}"
    );
    assert!(
        plan["counts"]["sessions_ended"].as_u64().unwrap_or(0) >= 1,
        "{plan}"
    );
    assert_eq!(plan["counts"]["audit_past_period"], 0);
    let (status, _) = a.get("/api/v1/me/profile").await;
    assert_eq!(status, StatusCode::OK, "a dry run ends nothing");

    // Two runs at once: one applies, the other finds the day done, with the same counts.
    let (one, two) = tokio::join!(
        admin.post("/api/v1/municipalities/utrecht/retention/run", json!({})),
        admin.post("/api/v1/municipalities/utrecht/retention/run", json!({})),
    );
    assert_eq!(
        (one.0, two.0),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        one.1,
        two.1
    );
    let applied: Vec<&Value> = [&one.1, &two.1]
        .into_iter()
        .filter(|r| r["applied"] == true)
        .collect();
    assert_eq!(
        applied.len(),
        1,
        "exactly one run applies: {} {}",
        one.1,
        two.1
    );
    assert_eq!(one.1["counts"], plan["counts"]);
    assert_eq!(two.1["counts"], plan["counts"]);
    let (_, again) = admin
        .post("/api/v1/municipalities/utrecht/retention/run", json!({}))
        .await;
    assert_eq!(again["applied"], false);

    // Codes and sessions ended; the thread reads as before, the analysis counts the same.
    let (status, _) = a.get("/api/v1/me/profile").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .anonymous()
        .post("/api/v1/auth/invite", json!({"code": t.codes[2]}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a code never used stopped working too"
    );
    assert_eq!(author_of(&admin.thread(case).await, &post["id"]), before);
    let (_, analysis_after) = admin.get(&format!("/api/v1/cases/{case}/analysis")).await;
    assert_eq!(analysis_after["verdicts"], analysis_before["verdicts"]);
    assert_eq!(
        analysis_after["arguments_for"],
        analysis_before["arguments_for"]
    );

    // Audited once, with counts.
    let (_, audit) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=500")
        .await;
    let runs: Vec<&Value> = audit["entries"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|e| e["action"] == "retention.run")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(runs.len(), 1, "{audit}");
    assert_eq!(runs[0]["detail"], plan["counts"]);
    // Nothing is left to cut the next time.
    let (_, plan) = admin
        .get("/api/v1/municipalities/utrecht/retention/plan")
        .await;
    assert_eq!(plan["counts"]["links_cut"], 0, "{plan}");
    assert_eq!(plan["counts"]["codes_ended"], 0, "{plan}");
}

/// Two nodes over one database run the retention at the same moment: it applies once.
async fn retention_once_across_two_nodes(url: &str) {
    let settings = || beraad::service::ServiceSettings {
        rate_limits: beraad::service::ratelimit::RateLimits::unlimited(),
        ..Default::default()
    };
    let a = spawn_app_on(url, Default::default(), settings(), |_| {}).await;
    let b = spawn_app_on(url, Default::default(), settings(), |_| {}).await;
    let (t, _, _) = closed_case_under_retention(&a).await;
    let admin_a = a.staff(&t.admin).await;
    let admin_b = b.staff(&t.admin).await;
    let (x, y, z, w) = tokio::join!(
        admin_a.post("/api/v1/municipalities/utrecht/retention/run", json!({})),
        admin_b.post("/api/v1/municipalities/utrecht/retention/run", json!({})),
        a.service.apply_retention_everywhere(),
        b.service.apply_retention_everywhere(),
    );
    assert_eq!(
        (x.0, y.0),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        x.1,
        y.1
    );
    let by_api = [&x.1, &y.1].iter().filter(|r| r["applied"] == true).count();
    let by_job = z.expect("job a") + w.expect("job b");
    assert_eq!(by_api + by_job, 1, "one run in all: {} {}", x.1, y.1);
    assert_eq!(x.1["counts"]["links_cut"], 2);
    assert_eq!(y.1["counts"]["links_cut"], 2);
    let (_, audit) = admin_b
        .get("/api/v1/audit?municipality=utrecht&limit=500")
        .await;
    let runs = audit["entries"]
        .as_array()
        .map(|l| l.iter().filter(|e| e["action"] == "retention.run").count())
        .unwrap_or_default();
    assert_eq!(runs, 1, "{audit}");
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_once_across_two_nodes_on_postgres() {
    let (url, name) = create_pg_database().await;
    retention_once_across_two_nodes(&url).await;
    drop_pg_database(name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_once_across_two_nodes_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/beraad.db", dir.path().display());
    retention_once_across_two_nodes(&url).await;
}

async fn erasures_are_replayed_after_a_restore(app: TestApp) {
    use beraad::service::privacy::Erasure;
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    react(&a, case, "eens", "Een traplift is hier de redelijke keuze.").await;
    let b_post = react(
        &b,
        case,
        "oneens",
        "Verhuizen is op die leeftijd geen goed idee.",
    )
    .await;
    let (status, _) = a
        .post(
            "/api/v1/me/leave",
            json!({"posts": "behouden", "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let list = app.service.erasures().await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].posts.as_str(), "behouden");
    // The list as it stood later than the restored state: B left after the backup.
    // The tenant's panelists were made in one batch, in order: B's id follows A's.
    let b_id = list[0].panelist_id + 1;
    let later = vec![
        list[0].clone(),
        Erasure {
            panelist_id: b_id,
            left_at: chrono::Utc::now(),
            posts: beraad::domain::PostsOnLeaving::Remove,
        },
    ];
    let ctx = beraad::service::AuditContext::cli();
    let applied = app
        .service
        .replay_erasures(&later, &ctx)
        .await
        .expect("replay");
    assert_eq!(applied, 1, "A was erased already; B is erased now");
    let again = app
        .service
        .replay_erasures(&later, &ctx)
        .await
        .expect("replay");
    assert_eq!(again, 0, "replaying twice changes nothing");
    let (status, _) = b.get("/api/v1/me/profile").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let admin = app.staff(&t.admin).await;
    let gone = admin
        .thread(case)
        .await
        .into_iter()
        .find(|p| p["id"] == b_post["id"])
        .expect("placeholder");
    assert!(gone["body"].is_null(), "{gone}");
}
