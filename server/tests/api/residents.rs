//! What residents type arrives as they meant it: line breaks from a browser form (CR LF)
//! or an old client (CR) are stored as plain LF by every door, so paragraphs survive.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_engines;
use crate::helpers::{TestApp, create_case};

both_engines!(line_breaks_are_stored_as_plain_newlines_by_every_door);

async fn line_breaks_are_stored_as_plain_newlines_by_every_door(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let admin = app.staff(&t.admin).await;
    let case = create_case(
        &admin,
        "utrecht",
        json!({
            "situation": "Mevrouw woont alleen.\r\n\r\nZij loopt slecht.",
            "considerations": ["Eerste regel.\r\nTweede regel."],
            "frame": [{"title": "Artikel 2.3.5", "text": "Eigen kracht.\r\n\r\nDaarna hulp."}],
        }),
    )
    .await;
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/open"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, got) = admin.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(
        got["situation"],
        "Mevrouw woont alleen.\n\nZij loopt slecht."
    );
    assert_eq!(got["considerations"][0], "Eerste regel.\nTweede regel.");
    assert_eq!(got["frame"][0]["text"], "Eigen kracht.\n\nDaarna hulp.");

    // A post, its edit and a reply.
    let p = app.panelist(&t.codes[0]).await;
    let (status, post) = p
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Eerste alinea van mij.\r\n\r\nTweede alinea."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["body"], "Eerste alinea van mij.\n\nTweede alinea.");
    let id = post["id"].as_i64().expect("id");
    let (status, edited) = p
        .patch(
            &format!("/api/v1/posts/{id}"),
            json!({"body": "Nieuwe alinea van mij.\rEn een oude Mac-regel."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        edited["body"],
        "Nieuwe alinea van mij.\nEn een oude Mac-regel."
    );
    let other = app.panelist(&t.codes[1]).await;
    let (status, reply) = other
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": id, "body": "Dat zie ik anders.\r\n\r\nWant zo."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["body"], "Dat zie ik anders.\n\nWant zo.");

    // The case page shows the situation as two paragraphs.
    let (_, page) = p.get_text(&format!("/casus/{case}")).await;
    assert!(page.contains("<p>Mevrouw woont alleen.</p>"), "{page}");
    assert!(page.contains("<p>Zij loopt slecht.</p>"));

    // The municipality's response after closing.
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .patch(
            &format!("/api/v1/cases/{case}"),
            json!({"response": "Wij nemen het advies over.\r\n\r\nDe traplift komt er."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["response"],
        "Wij nemen het advies over.\n\nDe traplift komt er."
    );
    let (_, report) = admin
        .get_text(&format!("/beheer/casus/{case}/rapport"))
        .await;
    assert!(
        report.contains("<p>Wij nemen het advies over.</p><p>De traplift komt er.</p>"),
        "the report keeps the response's paragraphs"
    );
}

both_engines!(an_argument_more_unconvincing_than_convincing_is_not_among_the_strongest);

async fn an_argument_more_unconvincing_than_convincing_is_not_among_the_strongest(app: TestApp) {
    let t = app.tenant("utrecht", 6).await;
    let case = app.open_case(&t, json!({})).await;
    let mut panelists = Vec::new();
    for code in &t.codes {
        panelists.push(app.panelist(code).await);
    }
    let mut ids = Vec::new();
    for (i, body) in [
        "Het besluit klopt, want verhuizen is echt beter.",
        "Eens, maar alleen omdat het goedkoper is voor iedereen.",
    ]
    .iter()
    .enumerate()
    {
        let (status, post) = panelists[i]
            .post(
                &format!("/api/v1/cases/{case}/posts"),
                json!({"verdict": "eens", "body": body}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{post}");
        ids.push(post["id"].as_i64().expect("id"));
    }
    // The first convinces two; the second one, and three not.
    for (who, post, value) in [
        (2, ids[0], "agree"),
        (3, ids[0], "agree"),
        (2, ids[1], "agree"),
        (3, ids[1], "disagree"),
        (4, ids[1], "disagree"),
        (5, ids[1], "disagree"),
    ] {
        let (status, body) = panelists[who]
            .put(
                &format!("/api/v1/posts/{post}/weighing"),
                json!({"value": value}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let admin = app.staff(&t.admin).await;
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, outcome) = panelists[0]
        .get(&format!("/api/v1/cases/{case}/outcome"))
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let listed: Vec<i64> = outcome["arguments_for"]
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["post_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(
        listed,
        vec![ids[0]],
        "only the argument that convinced more than it did not"
    );
}

both_engines!(an_admin_sets_the_contact_that_panelist_pages_show);

async fn an_admin_sets_the_contact_that_panelist_pages_show(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    let admin = app.staff(&t.admin).await;
    let url = "/api/v1/municipalities/utrecht/contact";
    let (status, body) = admin
        .put(
            url,
            json!({"phone": "14  030", "email": "panel@utrecht.test", "hours": "Op werkdagen van 9 tot 17 uur"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["phone"], "14 030");
    assert_eq!(body["name"], "Gemeente utrecht");

    // Bad input gets a stable code and changes nothing.
    for (field, value, code) in [
        ("phone", "bel mij", "invalid_contact_phone"),
        ("email", "geen adres", "invalid_contact_email"),
        ("hours", &"x".repeat(201) as &str, "invalid_contact_hours"),
    ] {
        let (status, body) = admin.put(url, json!({ field: value })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(crate::helpers::code(&body), code);
    }
    let (_, now) = admin.get(url).await;
    assert_eq!(now["email"], "panel@utrecht.test");

    let moderator = app.staff(&t.moderator).await;
    let (status, _) = moderator.put(url, json!({"phone": "112"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let p = app.panelist(&t.codes[0]).await;
    let (_, page) = p.get_text(&format!("/casus/{case}")).await;
    assert!(
        page.contains("Vragen? Neem contact op met Gemeente utrecht"),
        "{page}"
    );
    assert!(page.contains("href=\"tel:14030\""));
    assert!(page.contains("panel@utrecht.test"));
    assert!(page.contains("Op werkdagen van 9 tot 17 uur"));
}

both_engines!(an_author_contests_a_moderators_decision_and_it_reaches_the_queue);

async fn an_author_contests_a_moderators_decision_and_it_reaches_the_queue(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let (status, post) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Die ambtenaren snappen er niets van."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let id = post["id"].as_i64().expect("id");
    let url = format!("/api/v1/posts/{id}/contest");
    let note = json!({"note": "Ik bedoelde het niet beledigend; het gaat over de regels."});

    // Only a decision can be contested, only by the author, and others cannot flag
    // with the contest's reason.
    let (status, body) = author.post(&url, note.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(crate::helpers::code(&body), "not_contestable");
    let (status, body) = other
        .post(
            &format!("/api/v1/posts/{id}/flags"),
            json!({"reason": "bezwaar", "note": "zomaar"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(crate::helpers::code(&body), "invalid_flag_reason");

    let moderator = app.staff(&t.moderator).await;
    let (status, body) = moderator
        .post(
            &format!("/api/v1/moderation/posts/{id}/hide"),
            json!({"reason": "beledigend"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = other.post(&url, note.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = author.post(&url, json!({"note": "Nee"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(crate::helpers::code(&body), "contest_too_short");
    let (status, body) = author.post(&url, note.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = author.post(&url, note.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(crate::helpers::code(&body), "already_contested");

    // The moderators find it among the flagged posts, with the author's words.
    let (status, queue) = moderator
        .get("/api/v1/moderation/utrecht/queue?kind=flagged")
        .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let item = queue["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["post"]["id"] == id)
        .expect("the contested post is in the queue")
        .clone();
    assert_eq!(item["flags"][0]["reason"], "bezwaar");
    assert_eq!(
        item["flags"][0]["notes"][0],
        "Ik bedoelde het niet beledigend; het gaat over de regels."
    );
    // Restoring it settles the contest.
    let (status, body) = moderator
        .post(
            &format!("/api/v1/moderation/posts/{id}/restore"),
            json!({"revision": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, queue) = moderator
        .get("/api/v1/moderation/utrecht/queue?kind=flagged")
        .await;
    assert!(
        queue["items"].as_array().expect("items").is_empty(),
        "{queue}"
    );
}
