//! Route handlers, one module per resource. Each handler extracts, calls one service
//! function and answers.

pub mod auth;
pub mod cases;
pub mod health;
pub mod moderation;
pub mod municipalities;
pub mod posts;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

/// Every route under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(super::openapi::openapi_json))
        .route("/ws", get(super::ws::upgrade))
        .route("/auth/invite", post(auth::login_invite))
        .route("/auth/login", post(auth::login_staff))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/session", get(auth::session))
        .route("/auth/password", post(auth::change_password))
        .route("/me/profile", get(auth::profile).put(auth::set_profile))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/{id}", get(cases::get).patch(cases::update))
        .route("/cases/{id}/schedule", post(cases::schedule))
        .route("/cases/{id}/open", post(cases::open))
        .route("/cases/{id}/close", post(cases::close))
        .route("/cases/{id}/events", get(cases::events))
        // Exports are audited: HEAD (which axum would otherwise answer by running GET)
        // only checks access.
        .route(
            "/cases/{id}/export",
            get(cases::export).head(cases::export_head),
        )
        .route("/cases/{id}/analysis", get(cases::analysis))
        .route("/cases/{id}/outcome", get(cases::outcome))
        .route("/cases/{id}/posts", get(posts::thread).post(posts::create))
        .route("/cases/{id}/posts/check", post(posts::check))
        .route("/posts/{id}", get(posts::get).patch(posts::edit))
        .route("/posts/{id}/withdraw", post(posts::withdraw))
        .route("/posts/{id}/weighing", axum::routing::put(posts::weigh))
        .route("/posts/{id}/flags", post(posts::flag))
        .route("/posts/{id}/contest", post(posts::contest))
        .route("/posts/{id}/revisions", get(posts::revisions))
        .route("/moderation/{municipality}/counts", get(moderation::counts))
        .route("/moderation/{municipality}/queue", get(moderation::queue))
        .route(
            "/moderation/{municipality}/handled",
            get(moderation::handled),
        )
        .route(
            "/moderation/{municipality}/policy",
            axum::routing::put(moderation::policy),
        )
        .route("/moderation/posts/{id}/claim", post(moderation::claim))
        .route("/moderation/posts/{id}/release", post(moderation::release))
        .route("/moderation/posts/{id}/{action}", post(moderation::act))
        .route(
            "/moderation/panelists/{id}/suspend",
            post(moderation::suspend),
        )
        .route(
            "/moderation/panelists/{id}/premoderate",
            post(moderation::premoderate),
        )
        .route(
            "/municipalities/{municipality}/contact",
            get(municipalities::contact).put(municipalities::set_contact),
        )
        .route("/audit", get(moderation::audit))
        .route(
            "/audit/export",
            get(moderation::audit_export).head(moderation::audit_export_head),
        )
}
