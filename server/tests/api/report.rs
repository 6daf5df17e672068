//! The staff's pages of a case through the browser's door: quotes chosen for the
//! report, the municipality's response reaching the panel after close, who may read the
//! dashboard and the report, and small profile groups kept out of sight.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::both_engines;
use crate::helpers::{Client, TestApp};

both_engines!(
    chosen_quotes_appear_in_the_report_until_their_post_is_hidden,
    other_municipalities_staff_get_not_found,
    response_form_saves_after_close_and_panelists_read_it,
    dashboard_hides_profile_groups_under_five,
);

/// Posts a form the way a browser does (with the session's CSRF field); returns the
/// status after following the redirect, and the page.
async fn submit(client: &Client, path: &str, fields: &[(&str, String)]) -> (StatusCode, String) {
    let mut form: Vec<(&str, String)> = vec![("csrf", client.csrf.clone().unwrap_or_default())];
    form.extend(fields.iter().cloned());
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

/// The part of `html` from the element with id `from` up to the one with id `to` (or
/// to the end when there is none).
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{from}\""))
        .unwrap_or_else(|| panic!("no #{from} in the page"));
    let rest = &html[start..];
    let end = rest.find(&format!("id=\"{to}\"")).unwrap_or(rest.len());
    &rest[..end]
}

/// Opens a case and has the first `n` panelists give a verdict; returns the case and
/// the ids of their reactions.
async fn case_with_reactions(
    app: &TestApp,
    t: &crate::helpers::Tenant,
    bodies: &[&str],
) -> (i64, Vec<i64>) {
    let case = app.open_case(t, json!({})).await;
    let mut ids = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let p = app.panelist(&t.codes[i]).await;
        let verdict = ["eens", "oneens", "twijfel"][i % 3];
        let (status, post) = p
            .post(
                &format!("/api/v1/cases/{case}/posts"),
                json!({"verdict": verdict, "body": body}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{post}");
        ids.push(post["id"].as_i64().expect("id"));
    }
    (case, ids)
}

async fn chosen_quotes_appear_in_the_report_until_their_post_is_hidden(app: TestApp) {
    let t = app.tenant("utrecht", 3).await;
    let first = "Een traplift is goedkoper dan verhuizen op hoge leeftijd.";
    let second = "Verhuizen haalt mevrouw weg uit haar vertrouwde buurt.";
    let (case, ids) = case_with_reactions(&app, &t, &[first, second]).await;
    let analyst = app.staff(&t.analyst).await;

    let (status, page) = analyst
        .get_text(&format!("/beheer/casus/{case}/reactie"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(first) && page.contains(second),
        "both posts can be chosen"
    );
    assert!(
        !page.contains("id=\"reactie-tekst\""),
        "analysts choose quotes but do not write the response"
    );

    let (status, page) = submit(
        &analyst,
        &format!("/beheer/casus/{case}/citaten"),
        &[("quote", ids[0].to_string()), ("quote", ids[1].to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("De citaten zijn opgeslagen."));

    let (status, report) = analyst
        .get_text(&format!("/beheer/casus/{case}/rapport"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let quotes = between(&report, "r-citaten", "r-reactie");
    assert!(quotes.contains(first), "{quotes}");
    assert!(quotes.contains(second), "{quotes}");
    assert!(report.contains("Afdrukken"));

    let m = app.staff(&t.moderator).await;
    let (status, body) = m
        .post(
            &format!("/api/v1/moderation/posts/{}/hide", ids[1]),
            json!({"reason": "beledigend"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, report) = analyst
        .get_text(&format!("/beheer/casus/{case}/rapport"))
        .await;
    let quotes = between(&report, "r-citaten", "r-reactie");
    assert!(quotes.contains(first), "{quotes}");
    assert!(
        !quotes.contains(second),
        "a hidden post is not quoted: {quotes}"
    );
    assert!(!report.contains(second), "nor shown anywhere in the report");

    // A hidden post cannot be chosen either.
    let (status, page) = submit(
        &analyst,
        &format!("/beheer/casus/{case}/citaten"),
        &[("quote", ids[1].to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Alleen zichtbare berichten"), "{page}");
}

async fn other_municipalities_staff_get_not_found(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let other = app.tenant("zeist", 0).await;
    let (case, _) = case_with_reactions(&app, &t, &["Het besluit is goed uitgelegd."]).await;
    for email in [&other.admin, &other.analyst, &other.moderator] {
        let staff = app.staff(email).await;
        for page in ["", "/analyse", "/rapport", "/reactie", "/kerncijfers"] {
            let (status, _) = staff.get_text(&format!("/beheer/casus/{case}{page}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{email} {page}");
        }
        let (status, _) = submit(
            &staff,
            &format!("/beheer/casus/{case}/reactie"),
            &[("response", "Niet van ons.".into())],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{email} may not respond");
    }
    // The case's own staff do get in; a moderator watches but does not analyse.
    let analyst = app.staff(&t.analyst).await;
    for page in ["", "/analyse", "/rapport", "/reactie"] {
        let (status, _) = analyst
            .get_text(&format!("/beheer/casus/{case}{page}"))
            .await;
        assert_eq!(status, StatusCode::OK, "analyst {page}");
    }
    let moderator = app.staff(&t.moderator).await;
    let (status, watch) = moderator.get_text(&format!("/beheer/casus/{case}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(watch.contains("Het besluit is goed uitgelegd."));
    assert!(
        watch.contains("Zichtbaar"),
        "posts show their moderation state"
    );
    let (status, _) = moderator
        .get_text(&format!("/beheer/casus/{case}/analyse"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Panelists are not staff.
    let panelist = app.panelist(&t.codes[0]).await;
    let (status, _) = panelist.get_text(&format!("/beheer/casus/{case}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn response_form_saves_after_close_and_panelists_read_it(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let (case, _) =
        case_with_reactions(&app, &t, &["De gemeente had beter moeten luisteren."]).await;
    let admin = app.staff(&t.admin).await;
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let response = "Wij nemen het advies van het panel over en kijken opnieuw naar de traplift.";
    let (status, page) = submit(
        &admin,
        &format!("/beheer/casus/{case}/reactie"),
        &[("response", response.into())],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("De reactie is opgeslagen."));
    assert!(page.contains(response), "the form shows the saved text");

    let panelist = app.panelist(&t.codes[0]).await;
    let (status, case_page) = panelist.get_text(&format!("/casus/{case}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(case_page.contains(response), "panelists read the response");

    let (_, report) = admin
        .get_text(&format!("/beheer/casus/{case}/rapport"))
        .await;
    assert!(between(&report, "r-reactie", "einde").contains(response));

    // Analysts may not write it.
    let analyst = app.staff(&t.analyst).await;
    let (status, _) = submit(
        &analyst,
        &format!("/beheer/casus/{case}/reactie"),
        &[("response", "Iets anders.".into())],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn dashboard_hides_profile_groups_under_five(app: TestApp) {
    let t = app.tenant("utrecht", 7).await;
    let bodies: Vec<String> = (0..7)
        .map(|i| format!("Mijn oordeel nummer {i} over dit besluit."))
        .collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let (case, _) = case_with_reactions(&app, &t, &refs).await;
    // Everyone consented; two panelists form a group of their own, five the other.
    app.service
        .store
        .db()
        .execute_unprepared(
            "UPDATE panelists SET profile_consent = TRUE, \
             age_band = CASE WHEN id % 3 = 0 THEN '65+' ELSE '18-34' END, \
             district = 'Oost'",
        )
        .await
        .expect("profiles");
    let analyst = app.staff(&t.analyst).await;
    let (status, page) = analyst
        .get_text(&format!("/beheer/casus/{case}/analyse"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let ages = between(&page, "profiel-age_band", "profiel-district");
    assert!(
        ages.contains("te weinig deelnemers om te tonen"),
        "small groups are suppressed: {ages}"
    );
    assert!(ages.contains("65+"), "the group's name stays");
    assert!(
        !ages.contains(">2<"),
        "the count of the small group is not shown"
    );
    let districts = between(&page, "profiel-district", "argumenten-kop");
    assert!(
        !districts.contains("te weinig deelnemers om te tonen"),
        "a group of seven is shown"
    );
    assert!(districts.contains(">7<"));
}
