//! Upgrading a database that holds the previous release's data: the schema is taken back
//! to the previous release's migrations (those of 2026-11-23) with everything in it, this
//! release's migrations are applied again, and what panelists and staff had is still
//! there and usable.

use beraad_migrations::{Migrator, MigratorTrait};
use reqwest::StatusCode;
use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(this_release_s_migrations_keep_the_previous_release_s_data);

/// Migrations added since the previous release.
const NEW_MIGRATIONS: u32 = 8;

async fn this_release_s_migrations_keep_the_previous_release_s_data(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let url = format!("/api/v1/cases/{case}/posts");
    let (status, post) = author
        .send(
            reqwest::Method::POST,
            &url,
            Some(json!({"verdict": "oneens", "body": "Geschreven onder de vorige versie."})),
            &[("idempotency-key", "vorige-versie-1")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let (_, held) = author
        .post(
            &url,
            json!({"parent_id": post["id"], "body": "Bel me op 06-12345678 voor meer."}),
        )
        .await;
    assert_eq!(held["status"], "pending");
    let db = app.service.store.db();
    let applied = Migrator::get_applied_migrations(db)
        .await
        .expect("applied")
        .len();
    Migrator::down(db, Some(NEW_MIGRATIONS))
        .await
        .expect("back to the previous release's schema");
    assert_eq!(
        Migrator::get_applied_migrations(db)
            .await
            .expect("applied")
            .len(),
        applied - NEW_MIGRATIONS as usize
    );
    Migrator::up(db, None)
        .await
        .expect("this release's migrations");

    // Panelists log in with the codes from their letters and read what they wrote.
    let author = app.panelist(&t.codes[0]).await;
    let other = app.panelist(&t.codes[1]).await;
    let thread = other.thread(case).await;
    assert_eq!(thread[0]["body"], "Geschreven onder de vorige versie.");
    assert_eq!(thread[1]["status"], "pending");
    assert_eq!(thread[1]["body"], serde_json::Value::Null);
    // A retry from before the upgrade stores nothing twice.
    let (status, again) = author
        .send(
            reqwest::Method::POST,
            &url,
            Some(json!({"verdict": "oneens", "body": "Geschreven onder de vorige versie."})),
            &[("idempotency-key", "vorige-versie-1")],
        )
        .await;
    assert!(status.is_success(), "{status} {again}");
    assert_eq!(again["id"], post["id"]);
    // Moderators find the held post and staff keep their roles.
    let moderator = app.staff(&t.moderator).await;
    let (_, queue) = moderator
        .get("/api/v1/moderation/utrecht/queue?kind=pending")
        .await;
    assert_eq!(queue["items"][0]["post"]["id"], held["id"]);
    let (status, body) = moderator
        .post(
            &format!("/api/v1/moderation/posts/{}/approve", held["id"]),
            json!({"revision": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The codes handed out before invitations had numbers got numbers: one batch for
    // the panel, the first use carried over, and they can be revoked like any other.
    let admin = app.staff(&t.admin).await;
    let year = chrono::Utc::now().format("%Y").to_string();
    let (status, first) = admin
        .get(&format!(
            "/api/v1/municipalities/utrecht/invitations/{year}-001-0001"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "active");
    assert!(first["first_used_at"].is_string(), "{first}");
    let (status, revoked) = admin
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{year}-001-0002/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    let (status, _) = app
        .anonymous()
        .post("/api/v1/auth/invite", json!({"code": &t.codes[1]}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
