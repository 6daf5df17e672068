//! Cases: who sees which, admins writing, scheduling, opening and closing, tenancy.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, code, create_case};

both_engines!(
    analysis_counts_participation_and_splits_verdicts,
    panelists_see_only_opened_cases_of_their_panel,
    other_tenant_answers_as_if_nothing_exists,
    only_admins_write_cases,
    invalid_case_input_is_refused_and_nothing_is_stored,
    draft_can_be_edited_until_opened,
    scheduled_case_opens_when_due,
    an_open_case_closing_time_moves_and_the_case_closes_then,
    closed_case_accepts_no_writes,
    tallies_stay_hidden_until_own_verdict,
);

async fn panelists_see_only_opened_cases_of_their_panel(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let admin = app.staff(&t.admin).await;
    let draft = create_case(&admin, "utrecht", json!({"title": "Concept"})).await;
    let open = app.open_case(&t, json!({"title": "Open casus"})).await;
    let p = app.panelist(&t.codes[0]).await;
    let (status, list) = p.get("/api/v1/cases").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![open]);
    let (status, body) = p.get(&format!("/api/v1/cases/{draft}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "case_not_found");
    let (status, case) = p.get(&format!("/api/v1/cases/{open}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(case["title"], "Open casus");
    assert_eq!(case["frame"][0]["title"], "Artikel 2.3.5 Wmo 2015");
    assert!(
        case.get("panels").is_none(),
        "panel assignment is staff information"
    );
    // Staff see both.
    let (_, list) = admin.get("/api/v1/cases").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

async fn other_tenant_answers_as_if_nothing_exists(app: TestApp) {
    let u = app.tenant("utrecht", 1).await;
    let z = app.tenant("zoetermeer", 1).await;
    let case = app.open_case(&u, json!({})).await;
    let p = app.panelist(&u.codes[0]).await;
    let (status, post) = p
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Ik ben het er niet mee eens."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let post_id = post["id"].as_i64().unwrap();

    let zp = app.panelist(&z.codes[0]).await;
    let zadmin = app.staff(&z.admin).await;
    for c in [&zp, &zadmin] {
        let (status, body) = c.get(&format!("/api/v1/cases/{case}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(code(&body), "case_not_found");
        let (status, _) = c.get(&format!("/api/v1/cases/{case}/posts")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = c.get(&format!("/api/v1/posts/{post_id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(code(&body), "post_not_found");
        let (_, list) = c.get("/api/v1/cases").await;
        assert_eq!(list, json!([]));
    }
    let (status, _) = zadmin
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = zadmin
        .post(
            "/api/v1/cases",
            crate::helpers::case_body("utrecht", json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = zp
        .put(
            &format!("/api/v1/posts/{post_id}/weighing"),
            json!({"value": "agree"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The case is untouched.
    let (_, case_now) = app
        .staff(&u.admin)
        .await
        .get(&format!("/api/v1/cases/{case}"))
        .await;
    assert_eq!(case_now["status"], "open");
}

async fn only_admins_write_cases(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({})).await;
    for email in [&t.moderator, &t.analyst] {
        let c = app.staff(email).await;
        let (status, body) = c
            .post(
                "/api/v1/cases",
                crate::helpers::case_body("utrecht", json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{email}");
        assert_eq!(code(&body), "forbidden");
        let (status, _) = c
            .post(&format!("/api/v1/cases/{case}/close"), json!({}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let p = app.panelist(&t.codes[0]).await;
    let (status, _) = p
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, c) = p.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(c["status"], "open");
}

async fn invalid_case_input_is_refused_and_nothing_is_stored(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let cases = [
        (
            json!({"domain": "belastingen"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"outcome": "misschien"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"title": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"panels": ["bestaat-niet"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_panel",
        ),
        (
            json!({"min_length": 50, "max_length": 10}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"title": 12}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"onbekend": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (extra, status, expected) in cases {
        let (got, body) = admin
            .post(
                "/api/v1/cases",
                crate::helpers::case_body("utrecht", extra.clone()),
            )
            .await;
        assert_eq!(got, status, "{extra}: {body}");
        assert_eq!(code(&body), expected, "{extra}");
    }
    let (_, list) = admin.get("/api/v1/cases").await;
    assert_eq!(list, json!([]));
}

async fn draft_can_be_edited_until_opened(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let id = create_case(&admin, "utrecht", json!({})).await;
    let (status, body) = admin
        .patch(
            &format!("/api/v1/cases/{id}"),
            json!({"title": "Traplift opnieuw bekeken", "max_depth": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "Traplift opnieuw bekeken");
    assert_eq!(body["max_depth"], 2);
    let (status, _) = admin
        .post(&format!("/api/v1/cases/{id}/open"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = admin
        .patch(
            &format!("/api/v1/cases/{id}"),
            json!({"title": "Toch anders"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "case_not_editable");
    // The municipality's response can be written after opening.
    let (status, body) = admin
        .patch(
            &format!("/api/v1/cases/{id}"),
            json!({"response": "Wij nemen het advies over."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"], "Wij nemen het advies over.");
    assert_eq!(body["title"], "Traplift opnieuw bekeken");
}

async fn scheduled_case_opens_when_due(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let admin = app.staff(&t.admin).await;
    let id = create_case(&admin, "utrecht", json!({})).await;
    let (status, body) = admin
        .post(
            &format!("/api/v1/cases/{id}/schedule"),
            json!({"opens_at": "2020-01-01T09:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "invalid_schedule");
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(600);
    let (status, body) = admin
        .post(
            &format!("/api/v1/cases/{id}/schedule"),
            json!({"opens_at": soon, "closes_at": soon + chrono::Duration::days(7)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "scheduled");
    let p = app.panelist(&t.codes[0]).await;
    let (status, _) = p.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not visible before it opens");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(app.service.apply_due_transitions().await.unwrap(), 1);
    assert_eq!(
        app.service.apply_due_transitions().await.unwrap(),
        0,
        "opens once"
    );
    let (status, body) = p.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "open");
    let (_, events) = p.get(&format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(events["events"][0]["event"], "case.opened");
    assert_eq!(events["events"][0]["seq"], 1);
}

/// An admin moves the closing time of an open case: later, or none, never into the past;
/// the case closes at the new time, and a closed case's time no longer moves.
async fn an_open_case_closing_time_moves_and_the_case_closes_then(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let id = app.open_case(&t, json!({})).await;
    let admin = app.staff(&t.admin).await;
    let url = format!("/api/v1/cases/{id}/closing");
    let (status, body) = admin
        .put(&url, json!({"closes_at": "2020-01-01T09:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "invalid_schedule");
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["closes_at"], Value::Null, "nothing changed");
    let (status, body) = admin
        .put(&url, json!({"closes_at": "2099-03-01T17:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["closes_at"], "2099-03-01T17:00:00Z");
    assert_eq!(body["status"], "open");
    // A moderator may not move it.
    let (status, _) = app
        .staff(&t.moderator)
        .await
        .put(&url, json!({"closes_at": null}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Moved to just ahead: the case closes then, once.
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(500);
    let (status, body) = admin.put(&url, json!({"closes_at": soon})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.service.apply_due_transitions().await.unwrap(),
        0,
        "not yet"
    );
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(app.service.apply_due_transitions().await.unwrap(), 1);
    let (status, body) = admin
        .put(&url, json!({"closes_at": "2099-03-01T17:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "case_not_open");
    // The audit log says what happened, in words.
    let (_, audit) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=100")
        .await;
    let moved = audit["entries"].as_array().map(|a| {
        a.iter()
            .filter(|e| e["action"] == "case.move_closing")
            .count()
    });
    assert_eq!(moved, Some(2), "{audit}");
}

async fn closed_case_accepts_no_writes(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    let (_, post) = a
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Een redelijk besluit."}),
        )
        .await;
    let post_id = post["id"].as_i64().unwrap();
    let admin = app.staff(&t.admin).await;
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "closed");
    let attempts = [
        b.post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Ik ben het oneens hiermee."}),
        )
        .await,
        b.post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": post_id, "body": "Een antwoord te laat."}),
        )
        .await,
        a.patch(
            &format!("/api/v1/posts/{post_id}"),
            json!({"body": "Toch iets anders gezegd."}),
        )
        .await,
        a.post(&format!("/api/v1/posts/{post_id}/withdraw"), json!({}))
            .await,
        b.put(
            &format!("/api/v1/posts/{post_id}/weighing"),
            json!({"value": "agree"}),
        )
        .await,
        b.post(
            &format!("/api/v1/posts/{post_id}/flags"),
            json!({"reason": "spam"}),
        )
        .await,
    ];
    for (status, body) in attempts {
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(code(&body), "case_closed");
    }
    let (_, thread) = b.get(&format!("/api/v1/cases/{case}/posts")).await;
    let posts = thread["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["body"], "Een redelijk besluit.");
    assert_eq!(
        posts[0]["weighings"],
        json!({"agree": 0, "disagree": 0, "pass": 0})
    );
    let (status, _) = admin
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn tallies_stay_hidden_until_own_verdict(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let a = app.panelist(&t.codes[0]).await;
    let b = app.panelist(&t.codes[1]).await;
    a.post(
        &format!("/api/v1/cases/{case}/posts"),
        json!({"verdict": "oneens", "body": "Dit is niet eerlijk."}),
    )
    .await;
    let (_, seen_by_b) = b.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(seen_by_b["tally"], json!(null));
    let (_, seen_by_a) = a.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(
        seen_by_a["tally"],
        json!({"eens": 0, "oneens": 1, "twijfel": 0, "total": 1})
    );
    assert!(seen_by_a["my_reaction_id"].is_i64());
    b.post(
        &format!("/api/v1/cases/{case}/posts"),
        json!({"verdict": "twijfel", "body": "Ik weet het nog niet."}),
    )
    .await;
    let (_, seen_by_b) = b.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(seen_by_b["tally"]["total"], 2);
    let (_, staff_view) = app
        .staff(&t.analyst)
        .await
        .get(&format!("/api/v1/cases/{case}"))
        .await;
    assert_eq!(staff_view["tally"]["twijfel"], 1);
}

async fn analysis_counts_participation_and_splits_verdicts(app: TestApp) {
    let t = app.tenant("utrecht", 7).await;
    let z = app.tenant("zoetermeer", 0).await;
    let case = app.open_case(&t, json!({})).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let verdicts = ["eens", "eens", "eens", "eens", "oneens", "oneens"];
    let mut clients = Vec::new();
    let mut ids = Vec::new();
    for (i, v) in verdicts.iter().enumerate() {
        let c = app.panelist(&t.codes[i]).await;
        let (_, post) = c
            .post(&url, json!({"verdict": v, "body": format!("De rolstoel is nodig, argument nummer {i}.")}))
            .await;
        ids.push(post["id"].as_i64().unwrap());
        clients.push(c);
    }
    // Reaction 1 is weighed best among those agreeing with the decision.
    for c in &clients[2..5] {
        c.put(
            &format!("/api/v1/posts/{}/weighing", ids[1]),
            json!({"value": "agree"}),
        )
        .await;
    }
    clients[5]
        .put(
            &format!("/api/v1/posts/{}/weighing", ids[0]),
            json!({"value": "disagree"}),
        )
        .await;
    clients[0]
        .post(
            &url,
            json!({"parent_id": ids[4], "body": "Een antwoord op de tegenstem."}),
        )
        .await;

    let analyst = app.staff(&t.analyst).await;
    let (status, a) = analyst.get(&format!("/api/v1/cases/{case}/analysis")).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        a["participation"],
        json!({"invited": 7, "logged_in": 6, "reacted": 6, "replied": 1, "weighed": 4})
    );
    let eens = a["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == "eens")
        .unwrap();
    assert_eq!(
        (eens["count"].as_u64(), eens["total"].as_u64()),
        (Some(4), Some(6))
    );
    // 95% Wilson interval of 4 out of 6.
    assert!(
        (eens["low"].as_f64().unwrap() - 0.2999).abs() < 1e-3,
        "{eens}"
    );
    assert!(
        (eens["high"].as_f64().unwrap() - 0.9032).abs() < 1e-3,
        "{eens}"
    );
    assert_eq!(a["arguments_for"][0]["post_id"], ids[1]);
    assert_eq!(a["arguments_for"][0]["agree"], 3);
    assert_eq!(a["arguments_against"].as_array().unwrap().len(), 2);
    assert!(
        a["terms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t[0] == "rolstoel"),
        "{}",
        a["terms"]
    );
    assert!(
        !a["terms"].as_array().unwrap().iter().any(|t| t[0] == "de"),
        "stop words are removed"
    );
    // Nobody consented to share a profile: no groups to show.
    assert!(
        a["by_profile"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["groups"]["cells"] == json!([]))
    );
    // Who may read it.
    let (status, _) = clients[0]
        .get(&format!("/api/v1/cases/{case}/analysis"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .staff(&t.moderator)
        .await
        .get(&format!("/api/v1/cases/{case}/analysis"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .staff(&z.analyst)
        .await
        .get(&format!("/api/v1/cases/{case}/analysis"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
