//! The case text staff write: screened for personal data in every field, refused at
//! opening or scheduling unless an admin confirms the findings, and corrected after
//! opening only through an audited erratum that panelists see.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, code, create_case};
use crate::staff_pages::post_form;

both_engines!(
    staff_see_personal_data_in_case_text_per_field,
    a_case_with_findings_opens_only_after_confirmation,
    an_open_case_is_corrected_by_an_audited_erratum,
    an_erratum_changes_text_only,
    the_editor_marks_findings_and_asks_for_confirmation,
    the_editor_corrects_an_open_case,
);

/// A valid BSN (passes the 11-test).
const BSN: &str = "111222333";
/// A Dutch mobile number.
const PHONE: &str = "06-12345678";

/// The text a finding points at.
fn found<'a>(case: &'a Value, f: &Value) -> &'a str {
    let field = f["field"].as_str().expect("field");
    let mut v = &case[field];
    if let Some(i) = f["index"].as_u64() {
        v = &v[i as usize];
    }
    if let Some(part) = f["part"].as_str() {
        v = &v[part];
    }
    let text = v.as_str().expect("a text field");
    let (s, e) = (
        f["start"].as_u64().expect("start") as usize,
        f["end"].as_u64().expect("end") as usize,
    );
    &text[s..e]
}

/// The audit entries of municipality `utrecht` with `action`, newest first.
async fn audit_entries(app: &TestApp, admin_email: &str, action: &str) -> Vec<Value> {
    let admin = app.staff(admin_email).await;
    let (status, page) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=200")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

async fn staff_see_personal_data_in_case_text_per_field(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let admin = app.staff(&t.admin).await;
    let situation = format!("Mevrouw A. noemde haar BSN {BSN} aan het loket.");
    let id = create_case(
        &admin,
        "utrecht",
        json!({
            "situation": situation,
            "considerations": ["Verhuizen is goedkoper.", format!("Bel de dochter op {PHONE}.")],
            "frame": [{"title": "Artikel 2.3.5 Wmo 2015", "text": "Zij woont op Kerkstraat 12 in Utrecht."}],
        }),
    )
    .await;
    let (status, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{case}");
    let findings = case["findings"].as_array().expect("findings for staff");
    assert_eq!(findings.len(), 3, "{findings:?}");

    let bsn = &findings[0];
    assert_eq!(bsn["field"], "situation");
    assert_eq!(bsn["kind"], "bsn");
    assert!(bsn.get("index").is_none_or(Value::is_null), "{bsn}");
    assert_eq!(found(&case, bsn), BSN);
    assert_eq!(
        bsn["start"].as_u64(),
        situation.find(BSN).map(|i| i as u64),
        "byte offsets into the field"
    );

    let phone = findings
        .iter()
        .find(|f| f["field"] == "considerations")
        .expect("phone");
    assert_eq!(phone["index"], 1);
    assert_eq!(phone["kind"], "telefoon");
    assert_eq!(found(&case, phone), PHONE);

    let address = findings
        .iter()
        .find(|f| f["field"] == "frame")
        .expect("address");
    assert_eq!(
        (&address["index"], &address["part"]),
        (&json!(0), &json!("text"))
    );
    assert_eq!(address["kind"], "adres");
    assert_eq!(found(&case, address), "Kerkstraat 12");

    // A clean case has an empty list; panelists never get one.
    let clean = create_case(&admin, "utrecht", json!({})).await;
    let (_, clean_case) = admin.get(&format!("/api/v1/cases/{clean}")).await;
    assert_eq!(clean_case["findings"], json!([]));
    let open = app.open_case(&t, json!({})).await;
    let p = app.panelist(&t.codes[0]).await;
    let (_, seen) = p.get(&format!("/api/v1/cases/{open}")).await;
    assert!(seen.get("findings").is_none(), "{seen}");

    // Editing the text screens the new text.
    let (status, edited) = admin
        .patch(
            &format!("/api/v1/cases/{id}"),
            json!({"situation": "Mevrouw A. woont alleen in een eengezinswoning.", "considerations": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let left: Vec<&Value> = edited["findings"].as_array().unwrap().iter().collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["field"], "frame");
}

async fn a_case_with_findings_opens_only_after_confirmation(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let admin = app.staff(&t.admin).await;
    let id = create_case(
        &admin,
        "utrecht",
        json!({
            "situation": format!("Mevrouw A. noemde haar BSN {BSN} aan het loket."),
            "decision": format!("De gemeente belde mevrouw op {PHONE} en wees de traplift af."),
        }),
    )
    .await;

    // Opening and scheduling are refused with the fields named, and change nothing.
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{id}/open"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "case_personal_data");
    assert_eq!(body["error"]["fields"], json!(["situation", "decision"]));
    let (status, body) = admin
        .post(
            &format!("/api/v1/cases/{id}/open"),
            json!({"confirm_findings": false}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let soon = chrono::Utc::now() + chrono::Duration::days(1);
    let (status, body) = admin
        .post(
            &format!("/api/v1/cases/{id}/schedule"),
            json!({"opens_at": soon}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "case_personal_data");
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["status"], "draft");
    let p = app.panelist(&t.codes[0]).await;
    let (status, _) = p.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Scheduling with the confirmation works; a text change of the scheduled case with
    // new findings needs it again, since the case then opens by itself.
    let (status, body) = admin
        .post(
            &format!("/api/v1/cases/{id}/schedule"),
            json!({"opens_at": soon, "confirm_findings": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .patch(
            &format!("/api/v1/cases/{id}"),
            json!({"summary": "Mail naar jan.jansen@example.nl voor meer."}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"], json!(["summary"]));
    let (status, body) = admin
        .patch(&format!("/api/v1/cases/{id}"), json!({"max_depth": 2}))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "settings change without confirmation: {body}"
    );

    // Opening with the confirmation works and is audited without the text.
    let (status, body) = admin
        .post(
            &format!("/api/v1/cases/{id}/open"),
            json!({"confirm_findings": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "open");
    let (status, _) = p.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    for action in ["case.schedule", "case.open"] {
        let entries = audit_entries(&app, &t.admin, action).await;
        let entry = entries.first().expect("audit entry");
        assert_eq!(
            entry["detail"]["confirmed_findings"],
            json!({"fields": ["situation", "decision"], "count": 2}),
            "{action}: {entry}"
        );
        assert!(!entry.to_string().contains(BSN), "{entry}");
        assert!(!entry.to_string().contains("12345678"), "{entry}");
    }

    // A clean case opens without any confirmation, and its entry names none.
    let clean = app.open_case(&t, json!({})).await;
    let entries = audit_entries(&app, &t.admin, "case.open").await;
    let clean_id = clean.to_string();
    let entry = entries
        .iter()
        .find(|e| e["object_id"] == clean_id.as_str())
        .expect("entry");
    assert!(
        entry["detail"].get("confirmed_findings").is_none(),
        "{entry}"
    );
}

async fn an_open_case_is_corrected_by_an_audited_erratum(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let z = app.tenant("zeist", 0).await;
    let id = app
        .open_case(
            &t,
            json!({"situation": "Mevrouw A. woont met haar zoon in een eengezinswoning."}),
        )
        .await;
    let admin = app.staff(&t.admin).await;
    let p = app.panelist(&t.codes[0]).await;
    let (_, before) = p.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(before["corrections"], json!([]));
    let corrected = "Mevrouw A. woont in een eengezinswoning.";

    // Without a reason an open case's text stays as it is.
    let (status, body) = admin
        .patch(
            &format!("/api/v1/cases/{id}"),
            json!({"situation": corrected}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "case_not_editable");

    // Nobody but an admin of the municipality corrects it.
    let erratum = json!({"situation": corrected, "erratum": "De zoon woont er niet; dat stond er per abuis."});
    for email in [&t.moderator, &t.analyst] {
        let (status, _) = app
            .staff(email)
            .await
            .patch(&format!("/api/v1/cases/{id}"), erratum.clone())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{email}");
    }
    let (status, _) = p
        .patch(&format!("/api/v1/cases/{id}"), erratum.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .staff(&z.admin)
        .await
        .patch(&format!("/api/v1/cases/{id}"), erratum.clone())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, still) = p.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(still["situation"], before["situation"]);

    // The admin's erratum changes the text.
    let (_, head) = p.get(&format!("/api/v1/cases/{id}/events")).await;
    let seq = head["head"].as_i64().unwrap();
    let (status, body) = admin
        .patch(&format!("/api/v1/cases/{id}"), erratum.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["situation"], corrected);

    // Panelists read the new text with the date and reason of the correction.
    let (_, seen) = p.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(seen["situation"], corrected);
    let c = &seen["corrections"][0];
    assert_eq!(c["fields"], json!(["situation"]));
    assert_eq!(c["note"], "De zoon woont er niet; dat stond er per abuis.");
    assert!(c["at"].as_str().is_some_and(|s| s.starts_with("20")), "{c}");
    let (status, page) = p.get_text(&format!("/casus/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Tekst aangepast op"), "the case page says so");
    assert!(page.contains("De zoon woont er niet; dat stond er per abuis."));

    // The event log has the correction, without any text.
    let (_, events) = p
        .get(&format!("/api/v1/cases/{id}/events?after={seq}"))
        .await;
    let event = &events["events"][0];
    assert_eq!(event["event"], "case.corrected", "{events}");
    assert_eq!(event["data"]["fields"], json!(["situation"]));
    assert!(!event.to_string().contains("eengezinswoning"), "{event}");
    assert!(!event.to_string().contains("abuis"), "{event}");

    // The audit log has who corrected which fields, without the text.
    let entries = audit_entries(&app, &t.admin, "case.correct").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["detail"]["fields"], json!(["situation"]));
    assert!(!entries[0].to_string().contains("eengezinswoning"));

    // An erratum that introduces personal data needs the confirmation too.
    let (status, body) = admin
        .patch(
            &format!("/api/v1/cases/{id}"),
            json!({"decision": format!("De gemeente belde op {PHONE} en wees de traplift af."), "erratum": "Telefonisch besluit toegevoegd."}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"], json!(["decision"]));

    // A closed case can be corrected as well.
    admin
        .post(&format!("/api/v1/cases/{id}/close"), json!({}))
        .await;
    let (status, body) = admin
        .patch(
            &format!("/api/v1/cases/{id}"),
            json!({"title": "Traplift afgewezen (gecorrigeerd)", "erratum": "Titel verduidelijkt."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, seen) = p.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(seen["corrections"].as_array().map(Vec::len), Some(2));
    assert_eq!(seen["corrections"][1]["fields"], json!(["title"]));
}

async fn an_erratum_changes_text_only(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let id = app.open_case(&t, json!({})).await;
    let admin = app.staff(&t.admin).await;
    let url = format!("/api/v1/cases/{id}");
    let note = "Alleen een correctie van de tekst.";
    // Panels, moderation, settings, the law and the outcome stay as they were.
    for change in [
        json!({"panels": []}),
        json!({"moderation_mode": "pre"}),
        json!({"max_depth": 1}),
        json!({"outcome": "toegekend"}),
        json!({"domain": "jeugdwet"}),
        json!({"situation": "Mevrouw A. woont in een huis.", "allow_links": true}),
    ] {
        let mut body = change.clone();
        body["erratum"] = json!(note);
        let (status, answer) = admin.patch(&url, body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{change}: {answer}");
        assert_eq!(code(&answer), "case_not_editable");
    }
    // The reason is short, says something, and holds no personal data.
    for bad in [
        "",
        "  ",
        &"x".repeat(301),
        &format!("Bel {PHONE} voor uitleg."),
    ] {
        let (status, answer) = admin
            .patch(
                &url,
                json!({"situation": "Mevrouw A. woont in een huis.", "erratum": bad}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}: {answer}"
        );
    }
    // An erratum must change something; a draft needs none.
    let (_, case) = admin.get(&url).await;
    let (status, answer) = admin
        .patch(
            &url,
            json!({"situation": case["situation"], "erratum": note}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(code(&answer), "nothing_corrected");
    let draft = create_case(&admin, "utrecht", json!({})).await;
    let (status, answer) = admin
        .patch(
            &format!("/api/v1/cases/{draft}"),
            json!({"title": "Iets anders", "erratum": note}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (_, after) = admin.get(&url).await;
    assert_eq!(after["corrections"], json!([]));
    assert_eq!(after["situation"], case["situation"]);
    assert_eq!(after["event_seq"], case["event_seq"]);
}

async fn the_editor_marks_findings_and_asks_for_confirmation(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let id = create_case(
        &admin,
        "utrecht",
        json!({"situation": format!("Mevrouw A. noemde haar BSN {BSN} aan het loket.")}),
    )
    .await;
    let editor = format!("/beheer/casus/{id}/bewerken");
    let (status, page) = admin.get_text(&editor).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("id=\"bevindingen\""),
        "the findings are listed"
    );
    assert!(page.contains(&format!("<mark>{BSN}</mark>")), "and marked");
    assert!(page.contains("burgerservicenummer"), "explained in Dutch");
    assert!(
        page.contains("name=\"bevestig_bevindingen\""),
        "a checkbox to confirm"
    );

    // The preview of typed text marks it too.
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    let mut fields = form_of(&case);
    fields.push((
        "situation".into(),
        format!("Zij woont op 3511 AB 12 in Utrecht, BSN {BSN}."),
    ));
    fields.push(("actie".into(), "voorbeeld".into()));
    let preview = post_form(&admin, &editor, &pairs(&fields)).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.text.contains("id=\"voorbeeld\""));
    assert!(
        preview.text.contains("<mark>3511 AB 12</mark>"),
        "{}",
        preview.text
    );
    assert!(preview.text.contains(&format!("<mark>{BSN}</mark>")));

    // Opening without the tick is refused beside the button; with it the case opens.
    let refused = post_form(&admin, &format!("/beheer/casus/{id}/openen"), &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let at = refused
        .text
        .find("id=\"status-fout\"")
        .expect("error beside the button");
    let error = &refused.text[at..at + refused.text[at..].find("</div>").unwrap_or(0)];
    assert!(error.contains("De situatie"), "names the field: {error}");
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["status"], "draft");
    let planned = post_form(
        &admin,
        &format!("/beheer/casus/{id}/planning"),
        &[("opens_at", "2099-03-01T09:00"), ("closes_at", "")],
    )
    .await;
    assert_eq!(planned.status, StatusCode::UNPROCESSABLE_ENTITY);
    let opened = post_form(
        &admin,
        &format!("/beheer/casus/{id}/openen"),
        &[("bevestig_bevindingen", "1")],
    )
    .await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(opened.path.ends_with("/bewerken"), "{}", opened.path);
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["status"], "open");
}

async fn the_editor_corrects_an_open_case(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let id = app.open_case(&t, json!({})).await;
    let admin = app.staff(&t.admin).await;
    let editor = format!("/beheer/casus/{id}/bewerken");
    let (_, page) = admin.get_text(&editor).await;
    assert!(page.contains("id=\"erratum-formulier\""), "an erratum form");
    assert!(page.contains("name=\"erratum\""));
    assert!(page.contains("name=\"situation\""));
    assert!(
        !page.contains("name=\"moderation_mode\""),
        "settings are fixed"
    );
    assert!(!page.contains("name=\"panels\""), "panels are fixed");

    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    let mut fields = form_of(&case);
    fields.push((
        "situation".into(),
        "Mevrouw A. woont alleen in een eengezinswoning.".into(),
    ));
    fields.push(("actie".into(), "erratum".into()));
    // Without a reason it is refused beside the reason, keeping the typed text.
    let refused = post_form(&admin, &editor, &pairs(&fields)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains("id=\"erratum-fout\""),
        "{}",
        refused.text
    );
    assert!(
        refused
            .text
            .contains(">Mevrouw A. woont alleen in een eengezinswoning.</textarea>")
    );
    fields.push(("erratum".into(), "Het woord ‘alleen’ ontbrak.".into()));
    let saved = post_form(&admin, &editor, &pairs(&fields)).await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(saved.path.ends_with("/bewerken"), "{}", saved.path);
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(
        case["situation"],
        "Mevrouw A. woont alleen in een eengezinswoning."
    );
    assert_eq!(case["corrections"][0]["fields"], json!(["situation"]));
    assert_eq!(case["moderation_mode"], "post");

    let p = app.panelist(&t.codes[0]).await;
    let (_, page) = p.get_text(&format!("/casus/{id}")).await;
    assert!(page.contains("Tekst aangepast op"));
    assert!(page.contains("Het woord ‘alleen’ ontbrak."));
}

/// The text fields of the editor form filled from a case in the API, without the
/// situation (which the tests type).
fn form_of(case: &Value) -> Vec<(String, String)> {
    let s = |k: &str| case[k].as_str().unwrap_or_default().to_owned();
    let lines = |k: &str| {
        case[k]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    };
    let mut out: Vec<(String, String)> = vec![
        ("title".into(), s("title")),
        ("domain".into(), s("domain")),
        ("provision".into(), s("provision")),
        ("outcome".into(), s("outcome")),
        ("summary".into(), s("summary")),
        ("decision".into(), s("decision")),
        ("considerations".into(), lines("considerations")),
        ("questions".into(), lines("questions")),
        ("moderation_mode".into(), s("moderation_mode")),
        ("min_length".into(), case["min_length"].to_string()),
        ("max_length".into(), case["max_length"].to_string()),
        ("max_depth".into(), case["max_depth"].to_string()),
    ];
    for f in case["frame"].as_array().into_iter().flatten() {
        out.push((
            "frame_title".into(),
            f["title"].as_str().unwrap_or_default().into(),
        ));
        out.push((
            "frame_text".into(),
            f["text"].as_str().unwrap_or_default().into(),
        ));
    }
    for step in case["trail"].as_array().into_iter().flatten() {
        out.push((
            "trail_date".into(),
            step["date"].as_str().unwrap_or_default().into(),
        ));
        out.push((
            "trail_step".into(),
            step["step"].as_str().unwrap_or_default().into(),
        ));
        out.push((
            "trail_text".into(),
            step["text"].as_str().unwrap_or_default().into(),
        ));
    }
    for panel in case["panels"].as_array().into_iter().flatten() {
        out.push(("panels".into(), panel.as_str().unwrap_or_default().into()));
    }
    out
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}
