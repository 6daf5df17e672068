//! Staff accounts and tenants: an account belongs to one e-mail address and may hold
//! roles in several municipalities, but a role in a municipality where the account does
//! not work yet is only an invitation until its holder accepts it with the code the
//! inviting admin passed on, and after choosing a password of their own. No admin ever
//! sees a password of an account that exists, nor the name or last login of someone
//! who does not work for their municipality.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{Client, STAFF_PASSWORD, TestApp};
use crate::staff_pages::{Answer, post_form};

both_engines!(
    an_account_elsewhere_gets_an_invitation_not_a_role,
    a_password_an_admin_saw_never_reaches_another_municipality,
    invitations_can_be_withdrawn_and_expire_with_nothing_granted,
    the_command_line_invites_an_existing_address_too,
);

/// Marker of the one-time password on the answer to adding a new account.
const PASSWORD_MARKER: &str = "id=\"eenmalig-wachtwoord\">";
/// Marker of the acceptance code on the answer to inviting an existing account.
const CODE_MARKER: &str = "id=\"aanname-code\">";

/// The text of the element that `marker` opens, if the page has one.
fn marked<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let at = html.find(marker)? + marker.len();
    let end = html[at..].find('<')?;
    Some(&html[at..at + end])
}

/// Adds `email` with `role` on the staff page of `municipality`.
async fn add(admin: &Client, municipality: &str, email: &str, name: &str, role: &str) -> Answer {
    post_form(
        admin,
        "/beheer/medewerkers",
        &[
            ("gemeente", municipality),
            ("email", email),
            ("name", name),
            ("role", role),
        ],
    )
    .await
}

/// The roles a session holds, as `municipality:role` words.
async fn roles(client: &Client) -> Vec<String> {
    let (status, me) = client.get("/api/v1/auth/session").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    me["roles"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    format!(
                        "{}:{}",
                        r["municipality"].as_str().unwrap_or(""),
                        r["role"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Logs in with e-mail and password; the client, or the refusal's status.
async fn login(app: &TestApp, email: &str, password: &str) -> Result<Client, StatusCode> {
    let c = app.anonymous();
    let (status, _) = c
        .post(
            "/api/v1/auth/login",
            json!({"email": email, "password": password}),
        )
        .await;
    if status != StatusCode::OK {
        return Err(status);
    }
    let mut c = app.anonymous();
    c.login(
        "/api/v1/auth/login",
        json!({"email": email, "password": password}),
    )
    .await;
    Ok(c)
}

/// The id of the first invitation row on a page (`id="uitnodiging-ID"`).
fn invitation_id(html: &str) -> i64 {
    let marker = "id=\"uitnodiging-";
    let at = html.find(marker).expect("an invitation row") + marker.len();
    html[at..]
        .split('"')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("invitation id")
}

/// The audit log of `municipality` as its admin reads it.
async fn audit(admin: &Client, municipality: &str) -> Value {
    let (status, page) = admin
        .get(&format!(
            "/api/v1/audit?municipality={municipality}&limit=100"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

async fn an_account_elsewhere_gets_an_invitation_not_a_role(app: TestApp) {
    let u = app.tenant("utrecht", 0).await;
    let z = app.tenant("zoetermeer", 0).await;
    let utrecht = app.staff(&u.admin).await;
    let zoetermeer = app.staff(&z.admin).await;

    // Utrecht's admin creates Jan's account and sees its first password.
    let created = add(
        &utrecht,
        "utrecht",
        "jan@gedeeld.test",
        "Jan Jansen",
        "analyst",
    )
    .await;
    assert_eq!(created.status, StatusCode::OK);
    let first_password = marked(&created.text, PASSWORD_MARKER)
        .expect("a new account's password is shown once")
        .to_owned();
    let jan = login(&app, "jan@gedeeld.test", &first_password)
        .await
        .expect("Jan logs in");
    assert_eq!(roles(&jan).await, ["utrecht:analyst"]);

    // Zoetermeer's admin adds the same address as admin: no password, no name, no last
    // login, and a clear word of what happened instead.
    let invited = add(
        &zoetermeer,
        "zoetermeer",
        "JAN@gedeeld.test",
        "Jan Z.",
        "admin",
    )
    .await;
    assert_eq!(invited.status, StatusCode::OK, "{}", invited.text);
    assert!(
        marked(&invited.text, PASSWORD_MARKER).is_none(),
        "no password of an existing account"
    );
    assert!(
        !invited.text.contains("Jan Jansen"),
        "no name from another municipality"
    );
    assert!(
        invited.text.contains("id=\"al-een-account\""),
        "the admin is told the address has an account"
    );
    let code = marked(&invited.text, CODE_MARKER)
        .expect("an acceptance code to pass on")
        .to_owned();
    assert_eq!(code.len(), 15, "{code}");
    let (_, list) = zoetermeer
        .get_text("/beheer/medewerkers?gemeente=zoetermeer")
        .await;
    assert!(!list.contains("Jan Jansen"));
    assert!(
        list.contains("id=\"uitnodigingen-tabel\""),
        "the pending invitation is listed"
    );
    assert!(list.contains("jan@gedeeld.test"));
    assert!(!list.contains(&code), "the code is shown only once");

    // Nothing is granted yet: not to Jan's session, nor to whoever holds the first
    // password (Utrecht's admin saw it).
    assert_eq!(roles(&jan).await, ["utrecht:analyst"]);
    let (status, _) = jan
        .get_text("/beheer/medewerkers?gemeente=zoetermeer")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = jan.get("/api/v1/audit?municipality=zoetermeer").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Jan sees the invitation on his pages; "/" takes him there.
    let resp = jan
        .http
        .get(format!("{}/", jan.base))
        .send()
        .await
        .expect("home");
    assert_eq!(resp.url().path(), "/uitnodigingen");
    let page = resp.text().await.expect("page");
    assert!(page.contains("Gemeente zoetermeer"), "{page}");
    let id = invitation_id(&page);
    let accept = format!("/uitnodigingen/{id}/aannemen");

    // The first password was seen by an admin: it must be replaced before the account
    // can work anywhere else.
    let refused = post_form(&jan, &accept, &[("code", &code)]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("id=\"formulier-fout\""));
    assert_eq!(roles(&jan).await, ["utrecht:analyst"]);
    let own = "jans eigen lange wachtwoord";
    let (status, body) = jan
        .post(
            "/api/v1/auth/password",
            json!({"current": first_password, "new": own}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // A wrong code changes nothing.
    let wrong = post_form(&jan, &accept, &[("code", "ABCD-EFGH-JKLMN")]).await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert_eq!(roles(&jan).await, ["utrecht:analyst"]);

    // The right code, typed as people type it, takes effect.
    let typed = code.to_lowercase().replace('-', " ");
    let accepted = post_form(&jan, &accept, &[("code", &typed)]).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert!(accepted.text.contains("id=\"melding\""));
    let mut now = roles(&jan).await;
    now.sort();
    assert_eq!(now, ["utrecht:analyst", "zoetermeer:admin"]);
    assert!(
        login(&app, "jan@gedeeld.test", &first_password)
            .await
            .is_err()
    );
    // The invitation is used up.
    let again = post_form(&jan, &accept, &[("code", &code)]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // Zoetermeer now lists Jan as its staff, and its audit log tells the story without
    // the code; Utrecht's log holds nothing of Zoetermeer.
    let (_, list) = zoetermeer
        .get_text("/beheer/medewerkers?gemeente=zoetermeer")
        .await;
    assert!(list.contains("Jan Jansen"));
    assert!(!list.contains("id=\"uitnodigingen-tabel\""));
    let log = audit(&zoetermeer, "zoetermeer").await.to_string();
    assert!(
        log.contains("staff.invite") && log.contains("staff.accept"),
        "{log}"
    );
    assert!(!log.contains(&code));
    let log = audit(&utrecht, "utrecht").await.to_string();
    assert!(
        !log.contains("staff.invite") && !log.contains("staff.accept"),
        "{log}"
    );

    // Adding a further role where the account already works takes effect at once.
    let more = add(
        &zoetermeer,
        "zoetermeer",
        "jan@gedeeld.test",
        "",
        "moderator",
    )
    .await;
    assert_eq!(more.status, StatusCode::OK);
    assert!(more.path.ends_with("/beheer/medewerkers"));
    assert!(
        roles(&jan)
            .await
            .contains(&"zoetermeer:moderator".to_owned())
    );
    assert!(
        audit(&zoetermeer, "zoetermeer")
            .await
            .to_string()
            .contains("staff.grant")
    );
}

async fn a_password_an_admin_saw_never_reaches_another_municipality(app: TestApp) {
    let u = app.tenant("utrecht", 0).await;
    let z = app.tenant("zoetermeer", 0).await;
    let utrecht = app.staff(&u.admin).await;
    let zoetermeer = app.staff(&z.admin).await;

    // Utrecht's admin claims an address of Zoetermeer's future staff, and replaces the
    // password with one of their own.
    let created = add(
        &utrecht,
        "utrecht",
        "piet@zoetermeer.test",
        "Piet",
        "analyst",
    )
    .await;
    let seen = marked(&created.text, PASSWORD_MARKER)
        .expect("password")
        .to_owned();
    let held = login(&app, "piet@zoetermeer.test", &seen)
        .await
        .expect("login");
    let chosen = "het wachtwoord van utrecht";
    let (status, _) = held
        .post(
            "/api/v1/auth/password",
            json!({"current": seen, "new": chosen}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Zoetermeer's admin adds that address as admin. The code goes to the real Piet;
    // whoever holds the account cannot take the role without it.
    let invited = add(
        &zoetermeer,
        "zoetermeer",
        "piet@zoetermeer.test",
        "Piet",
        "admin",
    )
    .await;
    assert!(marked(&invited.text, PASSWORD_MARKER).is_none());
    assert!(marked(&invited.text, CODE_MARKER).is_some());
    let (_, page) = held.get_text("/uitnodigingen").await;
    let accept = format!("/uitnodigingen/{}/aannemen", invitation_id(&page));
    let mut refusals = Vec::new();
    for guess in [
        "ABCD-EFGH-JKLMN",
        "BCDE-FGHJ-KLMNP",
        "CDEF-GHJK-LMNPQ",
        "DEFG-HJKL-MNPQR",
        "EFGH-JKLM-NPQRS",
        "FGHJ-KLMN-PQRST",
        "GHJK-LMNP-QRSTU",
    ] {
        refusals.push(post_form(&held, &accept, &[("code", guess)]).await.status);
    }
    assert_eq!(refusals[0], StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refusals.contains(&StatusCode::TOO_MANY_REQUESTS),
        "guessing codes backs off: {refusals:?}"
    );
    assert_eq!(roles(&held).await, ["utrecht:analyst"]);
    let (status, _) = held.get("/api/v1/audit?municipality=zoetermeer").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Adding an address again while it waits gives a new code; the old one is void.
    let first = marked(&invited.text, CODE_MARKER).expect("code").to_owned();
    let again = add(
        &zoetermeer,
        "zoetermeer",
        "piet@zoetermeer.test",
        "",
        "admin",
    )
    .await;
    let second = marked(&again.text, CODE_MARKER)
        .expect("a fresh code")
        .to_owned();
    assert_ne!(first, second);

    // A brand-new account of Zoetermeer is Zoetermeer's alone, with its password.
    let fresh = add(
        &zoetermeer,
        "zoetermeer",
        "kees@zoetermeer.test",
        "Kees",
        "moderator",
    )
    .await;
    let password = marked(&fresh.text, PASSWORD_MARKER)
        .expect("password")
        .to_owned();
    let kees = login(&app, "kees@zoetermeer.test", &password)
        .await
        .expect("login");
    assert_eq!(roles(&kees).await, ["zoetermeer:moderator"]);
}

async fn invitations_can_be_withdrawn_and_expire_with_nothing_granted(app: TestApp) {
    let u = app.tenant("utrecht", 0).await;
    let z = app.tenant("zoetermeer", 0).await;
    let zoetermeer = app.staff(&z.admin).await;
    // Utrecht's moderator (created with a password the operator typed) is invited.
    let invited = add(&zoetermeer, "zoetermeer", &u.moderator, "", "analyst").await;
    let code = marked(&invited.text, CODE_MARKER).expect("code").to_owned();
    let (_, list) = zoetermeer
        .get_text("/beheer/medewerkers?gemeente=zoetermeer")
        .await;
    let id = invitation_id(&list);

    // Another municipality's admin cannot withdraw it.
    let utrecht = app.staff(&u.admin).await;
    let foreign = post_form(
        &utrecht,
        &format!("/beheer/medewerkers/uitnodigingen/{id}/intrekken"),
        &[("gemeente", "zoetermeer")],
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    let withdrawn = post_form(
        &zoetermeer,
        &format!("/beheer/medewerkers/uitnodigingen/{id}/intrekken"),
        &[("gemeente", "zoetermeer")],
    )
    .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text);
    assert!(!withdrawn.text.contains("id=\"uitnodigingen-tabel\""));
    assert!(
        audit(&zoetermeer, "zoetermeer")
            .await
            .to_string()
            .contains("staff.invite_withdraw")
    );

    // The moderator chose their own password, so only the withdrawal stops them.
    let moderator = app.staff(&u.moderator).await;
    let (status, _) = moderator
        .post(
            "/api/v1/auth/password",
            json!({"current": STAFF_PASSWORD, "new": "een eigen wachtwoord"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, page) = moderator.get_text("/uitnodigingen").await;
    assert!(!page.contains("id=\"uitnodiging-"));
    let gone = post_form(
        &moderator,
        &format!("/uitnodigingen/{id}/aannemen"),
        &[("code", &code)],
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(roles(&moderator).await, ["utrecht:moderator"]);

    // An invitation older than its validity cannot be accepted.
    let invited = add(&zoetermeer, "zoetermeer", &u.moderator, "", "analyst").await;
    let code = marked(&invited.text, CODE_MARKER).expect("code").to_owned();
    let (_, page) = moderator.get_text("/uitnodigingen").await;
    let id = invitation_id(&page);
    // Its validity ends the moment it was made (both engines read this the same way).
    sea_orm::ConnectionTrait::execute_unprepared(
        app.service.store.db(),
        &format!("UPDATE staff_invitations SET expires_at = created_at WHERE id = {id}"),
    )
    .await
    .expect("age the invitation");
    let late = post_form(
        &moderator,
        &format!("/uitnodigingen/{id}/aannemen"),
        &[("code", &code)],
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
    assert_eq!(roles(&moderator).await, ["utrecht:moderator"]);
}

async fn the_command_line_invites_an_existing_address_too(app: TestApp) {
    let u = app.tenant("utrecht", 0).await;
    app.tenant("zoetermeer", 0).await;
    use beraad::service::AuditContext;
    use beraad::service::panels::StaffGrant;
    let granted = app
        .service
        .create_staff(
            "zoetermeer",
            &u.analyst,
            "",
            beraad::domain::Role::Admin,
            "een wachtwoord dat niet telt",
            &AuditContext::cli(),
        )
        .await
        .expect("grant");
    assert!(
        matches!(granted, StaffGrant::Invited { .. }),
        "an existing account is invited, not granted"
    );
    // The operator's password did not replace the account's, and no role was given.
    assert!(
        login(&app, &u.analyst, "een wachtwoord dat niet telt")
            .await
            .is_err()
    );
    let analyst = app.staff(&u.analyst).await;
    assert_eq!(roles(&analyst).await, ["utrecht:analyst"]);
}
