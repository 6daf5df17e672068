//! The staff pages under `/beheer`, driven over HTTP like a browser without scripts:
//! forms with the session's CSRF field, redirects followed.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_engines;
use crate::helpers::{Client, TestApp};

/// The answer to a form post: final status (after redirects), final path, headers and
/// body text.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) path: String,
    content_type: String,
    pub(crate) text: String,
}

/// Posts a form the way a page does: urlencoded fields plus the session's `csrf`.
pub(crate) async fn post_form(client: &Client, path: &str, fields: &[(&str, &str)]) -> Answer {
    let csrf = client.csrf.clone().unwrap_or_default();
    let mut pairs: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    pairs.extend_from_slice(fields);
    let body = serde_urlencoded::to_string(&pairs).expect("form");
    let resp = client
        .http
        .post(format!("{}{path}", client.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let content_type = header("content-type");
    Answer {
        status: resp.status(),
        path: resp.url().path().to_owned(),
        content_type,
        text: resp.text().await.expect("body"),
    }
}

/// The fields of a complete case form for municipality `m`.
fn case_form<'a>(m: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("gemeente", m),
        ("title", title),
        ("domain", "wmo"),
        ("provision", "Traplift"),
        ("outcome", "afgewezen"),
        ("summary", "Een traplift werd afgewezen."),
        (
            "situation",
            "Mevrouw A. woont in een eengezinswoning met een trap.",
        ),
        (
            "decision",
            "De gemeente wijst de traplift af en adviseert te verhuizen.",
        ),
        (
            "considerations",
            "Verhuizen is goedkoper.\n\nEen traplift is maatwerk.",
        ),
        ("questions", "Vindt u het besluit redelijk?"),
        ("frame_title", "Artikel 2.3.5 Wmo 2015"),
        ("frame_text", "De gemeente kijkt eerst naar eigen kracht."),
        ("frame_title", ""),
        ("frame_text", ""),
        ("trail_date", "2026-01-10"),
        ("trail_step", "Melding"),
        ("trail_text", "Mevrouw meldt zich bij het Wmo-loket."),
        ("trail_date", ""),
        ("trail_step", ""),
        ("trail_text", ""),
        ("panels", m),
        ("moderation_mode", "pre"),
        ("min_length", "15"),
        ("max_length", "800"),
        ("max_depth", "2"),
        ("hide_tallies_until_reacted", "1"),
        ("actie", "opslaan"),
    ]
}

/// The value of the `name` field of the first `<input>` carrying it, as rendered.
fn input_value<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let v = rest.find("value=\"")? + "value=\"".len();
    let end = rest[v..].find('"')?;
    Some(&rest[v..v + end])
}

async fn admin_writes_a_case_with_the_form(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;

    let (status, page) = admin.get_text("/beheer/casus/nieuw").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"casus-formulier\""));
    assert!(page.contains("id=\"panel-utrecht\""), "panel checkbox");

    // A preview renders the typed case and saves nothing.
    let mut fields = case_form("utrecht", "Traplift <afgewezen>");
    fields.retain(|(k, _)| *k != "actie");
    fields.push(("actie", "voorbeeld"));
    let preview = post_form(&admin, "/beheer/casus/nieuw", &fields).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.text.contains("id=\"voorbeeld\""));
    assert!(
        preview.text.contains("Traplift &#60;afgewezen&#62;")
            || preview.text.contains("Traplift &lt;afgewezen&gt;")
    );
    assert!(preview.text.contains("Artikel 2.3.5 Wmo 2015"));
    let (_, list) = admin.get("/api/v1/cases").await;
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");

    // Saving creates a draft with every field as typed.
    let saved = post_form(
        &admin,
        "/beheer/casus/nieuw",
        &case_form("utrecht", "Traplift afgewezen"),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(saved.path.ends_with("/bewerken"), "{}", saved.path);
    let (_, list) = admin.get("/api/v1/cases").await;
    let id = list[0]["id"].as_i64().expect("id");
    assert_eq!(list[0]["title"], "Traplift afgewezen");
    assert_eq!(list[0]["status"], "draft");
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(
        case["considerations"],
        json!(["Verhuizen is goedkoper.", "Een traplift is maatwerk."])
    );
    assert_eq!(case["frame"].as_array().map(Vec::len), Some(1));
    assert_eq!(case["trail"][0]["date"], "2026-01-10");
    assert_eq!(case["panels"], json!(["utrecht"]));
    assert_eq!(case["moderation_mode"], "pre");
    assert_eq!(case["min_length"], 15);
    assert_eq!(case["max_depth"], 2);
    assert_eq!(case["allow_links"], false);
    assert_eq!(case["hide_tallies_until_reacted"], true);

    // The start page lists it with both links.
    let (_, start) = admin.get_text("/beheer").await;
    assert!(start.contains(&format!("href=\"/beheer/casus/{id}\"")));
    assert!(start.contains(&format!("href=\"/beheer/casus/{id}/bewerken\"")));

    // Edit, schedule, open and close through the forms.
    let mut changed = case_form("utrecht", "Traplift opnieuw bekeken");
    changed.retain(|(k, _)| *k != "moderation_mode");
    changed.push(("moderation_mode", "post"));
    let edited = post_form(&admin, &format!("/beheer/casus/{id}/bewerken"), &changed).await;
    assert_eq!(edited.status, StatusCode::OK);
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["title"], "Traplift opnieuw bekeken");
    assert_eq!(case["moderation_mode"], "post");

    let past = post_form(
        &admin,
        &format!("/beheer/casus/{id}/planning"),
        &[("opens_at", "2020-01-01T10:00"), ("closes_at", "")],
    )
    .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(past.text.contains("id=\"planning-fout\""));
    assert_eq!(
        input_value(&past.text, "opens_at"),
        Some("2020-01-01T10:00")
    );

    let scheduled = post_form(
        &admin,
        &format!("/beheer/casus/{id}/planning"),
        &[
            ("opens_at", "2099-03-01T09:00"),
            ("closes_at", "2099-03-15T17:00"),
        ],
    )
    .await;
    assert_eq!(scheduled.status, StatusCode::OK);
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["status"], "scheduled");
    // 09:00 Dutch winter time is 08:00 UTC.
    assert!(
        case["opens_at"]
            .as_str()
            .is_some_and(|s| s.starts_with("2099-03-01T08:00")),
        "{case}"
    );

    let opened = post_form(&admin, &format!("/beheer/casus/{id}/openen"), &[]).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(opened.text.contains("id=\"nu-sluiten\""));
    // Once open, the settings are fixed; the text changes only through an erratum.
    assert!(!opened.text.contains("name=\"moderation_mode\""));
    assert!(opened.text.contains("id=\"erratum-formulier\""));
    let closed = post_form(&admin, &format!("/beheer/casus/{id}/sluiten"), &[]).await;
    assert_eq!(closed.status, StatusCode::OK);
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["status"], "closed");
    let response = post_form(
        &admin,
        &format!("/beheer/casus/{id}/bewerken"),
        &[("response", "Wij nemen het advies over.")],
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    let (_, case) = admin.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(case["response"], "Wij nemen het advies over.");
    assert_eq!(case["title"], "Traplift opnieuw bekeken");
}

async fn a_rejected_case_form_keeps_the_input(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let mut fields = case_form("utrecht", "Traplift voor mevrouw");
    fields.retain(|(k, _)| *k != "situation");
    fields.push(("situation", "Te kort"));
    let answer = post_form(&admin, "/beheer/casus/nieuw", &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        input_value(&answer.text, "title"),
        Some("Traplift voor mevrouw")
    );
    assert!(
        answer.text.contains("id=\"situation-fout\""),
        "error beside the field"
    );
    assert!(answer.text.contains(">Te kort</textarea>"));
    assert!(
        answer.text.contains("Artikel 2.3.5 Wmo 2015"),
        "frame rows kept"
    );

    // A number that is not one is caught before the service.
    let mut fields = case_form("utrecht", "Traplift voor mevrouw");
    fields.retain(|(k, _)| *k != "max_depth");
    fields.push(("max_depth", "veel"));
    let answer = post_form(&admin, "/beheer/casus/nieuw", &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text.contains("id=\"max_depth-fout\""));

    // A forged panel of another municipality is refused beside the panels.
    app.tenant("zeist", 0).await;
    let mut fields = case_form("utrecht", "Traplift voor mevrouw");
    fields.push(("panels", "zeist"));
    let answer = post_form(&admin, "/beheer/casus/nieuw", &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text.contains("id=\"panels-fout\""));
    let (_, list) = admin.get("/api/v1/cases").await;
    assert_eq!(list.as_array().map(Vec::len), Some(0));

    // Without the CSRF field nothing happens.
    let resp = admin
        .http
        .post(format!("{}/beheer/casus/nieuw", admin.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("gemeente=utrecht&title=x")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

async fn invitations_download_as_csv_with_working_codes(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let created = post_form(
        &admin,
        "/beheer/panels",
        &[
            ("gemeente", "utrecht"),
            ("name", "Wijkpanel Oost"),
            ("slug", "oost"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK);
    assert!(created.text.contains("id=\"panel-oost\""));
    let taken = post_form(
        &admin,
        "/beheer/panels",
        &[
            ("gemeente", "utrecht"),
            ("name", "Nog een"),
            ("slug", "oost"),
        ],
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.text.contains("id=\"panel-slug-fout\""));
    assert_eq!(input_value(&taken.text, "name"), Some("Nog een"));

    let made = post_form(
        &admin,
        "/beheer/panels/oost/uitnodigingen",
        &[
            ("gemeente", "utrecht"),
            ("count", "3"),
            ("separator", "semicolon"),
        ],
    )
    .await;
    assert_eq!(made.status, StatusCode::OK);
    assert!(made.content_type.starts_with("text/html"));
    let (name, sheet) = crate::letters::data_link(&made.text, "brieven-csv");
    assert!(name.ends_with(".csv"), "{name}");
    assert!(sheet.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&sheet[3..]);
    let header = reader.headers().expect("header").clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        beraad::service::export::MAIL_MERGE_COLUMNS
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 3);
    let (pdf_name, pdf) = crate::letters::data_link(&made.text, "brieven-pdf");
    assert!(pdf_name.ends_with(".pdf"), "{pdf_name}");
    assert_eq!(crate::letters::pdf_pages(&pdf).len(), 3);
    for row in &rows {
        assert_eq!(&row[3], "oost");
        assert_eq!(&row[4], "Wijkpanel Oost");
        let mut panelist = app.anonymous();
        panelist
            .login("/api/v1/auth/invite", json!({"code": &row[1]}))
            .await;
        let (status, me) = panelist.get("/api/v1/auth/session").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["pseudonym"], row[2]);
    }
    let rows: Vec<Vec<String>> = rows.iter().map(|r| vec![r[1].to_owned()]).collect();
    let (_, page) = admin.get_text("/beheer/panels").await;
    assert!(page.contains("data-members=\"3\""));

    // Both the panel and the invitations are audited as the admin's acts, without codes.
    let (_, audit) = admin.get("/api/v1/audit?municipality=utrecht").await;
    let entries = audit["entries"].as_array().cloned().unwrap_or_default();
    let invites = entries
        .iter()
        .find(|e| e["action"] == "invites.create" && e["object_id"] == "oost")
        .expect("invites audited");
    assert_eq!(invites["actor_kind"], "staff");
    assert_eq!(invites["detail"]["count"], 3);
    assert!(entries.iter().any(|e| e["action"] == "panel.create"));
    let text = audit.to_string();
    for row in &rows {
        assert!(!text.contains(&row[0]), "no code in the audit log");
    }

    let too_many = post_form(
        &admin,
        "/beheer/panels/oost/uitnodigingen",
        &[("gemeente", "utrecht"), ("count", "2001")],
    )
    .await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_many.text.contains("id=\"aantal-oost-fout\""));

    // Another municipality's admin cannot invite to this panel.
    let z = app.tenant("zeist", 0).await;
    let other = app.staff(&z.admin).await;
    let refused = post_form(
        &other,
        "/beheer/panels/oost/uitnodigingen",
        &[("gemeente", "zeist"), ("count", "1")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}

async fn admins_manage_staff_accounts(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let (status, page) = admin.get_text("/beheer/medewerkers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&t.moderator));

    let bad = post_form(
        &admin,
        "/beheer/medewerkers",
        &[
            ("gemeente", "utrecht"),
            ("email", "geen-adres"),
            ("name", "Els"),
            ("role", "analyst"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("id=\"email-fout\""));
    assert_eq!(input_value(&bad.text, "name"), Some("Els"));

    let added = post_form(
        &admin,
        "/beheer/medewerkers",
        &[
            ("gemeente", "utrecht"),
            ("email", "els@utrecht.test"),
            ("name", "Els de Vries"),
            ("role", "analyst"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::OK);
    let marker = "id=\"eenmalig-wachtwoord\">";
    let at = added.text.find(marker).expect("password shown") + marker.len();
    let password = &added.text[at..at + added.text[at..].find('<').expect("end")];
    assert!(password.len() >= 20, "{password}");
    let mut els = app.anonymous();
    els.login(
        "/api/v1/auth/login",
        json!({"email": "els@utrecht.test", "password": password}),
    )
    .await;
    let (_, me) = els.get("/api/v1/auth/session").await;
    assert_eq!(me["roles"][0]["role"], "analyst");

    // An existing account only gains a role; no new password.
    let again = post_form(
        &admin,
        "/beheer/medewerkers",
        &[
            ("gemeente", "utrecht"),
            ("email", "els@utrecht.test"),
            ("name", ""),
            ("role", "moderator"),
        ],
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(!again.text.contains(marker));
    assert!(again.path.ends_with("/beheer/medewerkers"));

    let id_marker = "action=\"/beheer/medewerkers/";
    let els_row = again.text.find("els@utrecht.test").expect("row of els");
    let from =
        again.text[els_row..].find(id_marker).expect("revoke form") + els_row + id_marker.len();
    let id: i64 = again.text[from..]
        .split('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let revoked = post_form(
        &admin,
        &format!("/beheer/medewerkers/{id}/rol-intrekken"),
        &[("gemeente", "utrecht"), ("role", "analyst")],
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let (_, me) = els.get("/api/v1/auth/session").await;
    assert_eq!(
        me["roles"],
        json!([{"municipality": "utrecht", "role": "moderator"}])
    );
    let (_, audit) = admin.get("/api/v1/audit?municipality=utrecht").await;
    let text = audit.to_string();
    assert!(text.contains("staff.create") && text.contains("staff.revoke"));
    assert!(!text.contains(password), "no password in the audit log");

    // Admins cannot take away their own admin role.
    let me = beraad::store::people::staff_by_email(app.service.store.db(), &t.admin)
        .await
        .expect("db")
        .expect("admin");
    let own = post_form(
        &admin,
        &format!("/beheer/medewerkers/{}/rol-intrekken", me.id),
        &[("gemeente", "utrecht"), ("role", "admin")],
    )
    .await;
    assert_eq!(own.status, StatusCode::CONFLICT);
    assert!(own.text.contains("id=\"formulier-fout\""));
    let (_, mine) = admin.get("/api/v1/auth/session").await;
    assert_eq!(mine["roles"][0]["role"], "admin");
}

async fn other_roles_cannot_author(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let id = crate::helpers::create_case(&admin, "utrecht", json!({})).await;
    let analyst = app.staff(&t.analyst).await;
    let (status, _) = analyst.get_text("/beheer/casus/nieuw").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = analyst
        .get_text(&format!("/beheer/casus/{id}/bewerken"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = analyst.get_text("/beheer/panels").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = analyst.get_text("/beheer/medewerkers").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let answer = post_form(&analyst, &format!("/beheer/casus/{id}/openen"), &[]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // The analyst's start page lists the case to watch, without an edit link.
    let (status, start) = analyst.get_text("/beheer").await;
    assert_eq!(status, StatusCode::OK);
    assert!(start.contains(&format!("href=\"/beheer/casus/{id}\"")));
    assert!(!start.contains("/bewerken"));
    assert!(!start.contains("/beheer/casus/nieuw"));

    // Another municipality's admin sees nothing of it.
    let z = app.tenant("zeist", 0).await;
    let other = app.staff(&z.admin).await;
    let (status, _) = other
        .get_text(&format!("/beheer/casus/{id}/bewerken"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = other.get_text("/beheer/panels?gemeente=utrecht").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A moderator goes to the queues.
    let moderator = app.staff(&t.moderator).await;
    let resp = moderator
        .http
        .get(format!("{}/beheer", moderator.base))
        .send()
        .await
        .expect("request");
    assert!(resp.url().path().starts_with("/moderatie"));
}

both_engines!(
    admin_writes_a_case_with_the_form,
    a_rejected_case_form_keeps_the_input,
    invitations_download_as_csv_with_working_codes,
    admins_manage_staff_accounts,
    other_roles_cannot_author,
);
