//! A panelist's consented profile: shared with consent, erased without it, checked, and
//! never open to staff as one person's answers.

use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    profile_is_shared_with_consent_and_erased_without,
    profile_rejects_unknown_answers_and_changes_nothing,
    staff_have_no_profile_of_their_own,
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
