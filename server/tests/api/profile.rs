//! A panelist's consented profile: shared with consent, erased without it, checked (also
//! for personal data in the district), and never open to staff as one person's answers.

use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    profile_is_shared_with_consent_and_erased_without,
    profile_rejects_unknown_answers_and_changes_nothing,
    staff_have_no_profile_of_their_own,
    district_with_personal_data_or_direction_controls_is_refused,
);

async fn profile_is_shared_with_consent_and_erased_without(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let p = app.panelist(&t.codes[0]).await;
    let (status, body) = p.get("/api/v1/me/profile").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["consent"], false);
    assert!(body["age_band"].is_null());

    let (status, body) = p
        .put(
            "/api/v1/me/profile",
            json!({"consent": true, "age_band": "65-74", "district": " Overvecht ", "wmo_experience": "naaste"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = p.get("/api/v1/me/profile").await;
    assert_eq!(body["consent"], true);
    assert_eq!(body["age_band"], "65-74");
    assert_eq!(body["district"], "Overvecht");
    assert_eq!(body["wmo_experience"], "naaste");

    // Withdrawing consent erases every answer, even those sent along.
    let (status, _) = p
        .put(
            "/api/v1/me/profile",
            json!({"consent": false, "age_band": "18-34"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = p.get("/api/v1/me/profile").await;
    assert_eq!(body["consent"], false);
    assert!(body["age_band"].is_null());
    assert!(body["district"].is_null());
    assert!(body["wmo_experience"].is_null());
}

async fn profile_rejects_unknown_answers_and_changes_nothing(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let p = app.panelist(&t.codes[0]).await;
    p.put(
        "/api/v1/me/profile",
        json!({"consent": true, "age_band": "50-64"}),
    )
    .await;
    let (status, body) = p
        .put(
            "/api/v1/me/profile",
            json!({"consent": true, "age_band": "12"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "invalid_age_band");
    let (status, body) = p
        .put(
            "/api/v1/me/profile",
            json!({"consent": true, "district": "x".repeat(81)}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "district_too_long");
    let (_, body) = p.get("/api/v1/me/profile").await;
    assert_eq!(
        body["age_band"], "50-64",
        "a refused change leaves the profile as it was"
    );
}

async fn staff_have_no_profile_of_their_own(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let (status, body) = admin.get("/api/v1/me/profile").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "panelists_only");
}

async fn district_with_personal_data_or_direction_controls_is_refused(app: TestApp) {
    let t = app.tenant("utrecht", 1).await;
    let p = app.panelist(&t.codes[0]).await;
    let (status, body) = p
        .put(
            "/api/v1/me/profile",
            json!({"consent": true, "age_band": "65-74", "district": "Overvecht"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Nobody moderates a district before it is stored, so personal data is refused, also
    // when disguised.
    for district in [
        "Kerkstraat 12",
        "Kerkstr. 12a",
        "3511 AB",
        "3511-ab",
        "Overvecht, 06-12345678",
        "Zuilen (jan@voorbeeld.nl)",
        "wijk \u{ff13}\u{ff15}\u{ff11}\u{ff11}\u{200b}AB",
    ] {
        let (status, body) = p
            .put(
                "/api/v1/me/profile",
                json!({"consent": true, "age_band": "75+", "district": district}),
            )
            .await;
        assert_eq!(status, 422, "{district:?}: {body}");
        assert_eq!(
            body["error"]["code"], "district_personal_data",
            "{district:?}"
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("wijk"), "{message}");
        assert!(
            !message.contains(district),
            "the message does not repeat the text"
        );
    }
    let (status, body) = p
        .put(
            "/api/v1/me/profile",
            json!({"consent": true, "district": "\u{202e}thcevrevO"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "direction_control");
    let (_, body) = p.get("/api/v1/me/profile").await;
    assert_eq!(
        body["district"], "Overvecht",
        "a refused change stores nothing"
    );
    assert_eq!(body["age_band"], "65-74");

    // An ordinary district with a number in its name is kept.
    let (status, body) = p
        .put(
            "/api/v1/me/profile",
            json!({"consent": true, "district": "Leidsche Rijn, deel 2"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["district"], "Leidsche Rijn, deel 2");
}
