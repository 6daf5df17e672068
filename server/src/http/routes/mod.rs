//! Route handlers, one module per resource. Each handler extracts, calls one service
//! function and answers.

pub mod auth;
pub mod cases;
pub mod draws;
pub mod health;
pub mod invitations;
pub mod moderation;
pub mod municipalities;
pub mod notifications;
pub mod posts;
pub mod privacy;
pub mod retention;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post, put};

use super::AppState;
use super::error::ApiError;

/// A page size from the query: `default` when absent; outside `1..=max` it is refused
/// with `400 invalid_query` (the API description states each maximum, and a client
/// asking for more should learn it rather than silently get fewer).
pub fn page_size(limit: Option<u64>, default: u64, max: u64) -> Result<u64, ApiError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::unreadable(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "limit",
            &format!("out of range 1..={max}"),
        )),
    }
}

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
        .route(
            "/me/notifications",
            get(notifications::settings)
                .put(notifications::set_settings)
                .delete(notifications::remove),
        )
        .route("/notifications/confirm", post(notifications::confirm))
        .route(
            "/notifications/unsubscribe",
            post(notifications::unsubscribe),
        )
        .route("/cases/{id}/announcements", post(notifications::announce))
        .route("/cases/{id}/outbox", get(notifications::outbox))
        .route("/me/data", get(privacy::own_data))
        .route("/me/leave", post(privacy::leave))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/{id}", get(cases::get).patch(cases::update))
        .route("/cases/{id}/schedule", post(cases::schedule))
        .route("/cases/{id}/open", post(cases::open))
        .route("/cases/{id}/close", post(cases::close))
        .route("/cases/{id}/closing", put(cases::move_closing))
        .route("/cases/{id}/events", get(cases::events))
        .route("/cases/{id}/draw", get(draws::report).post(draws::make))
        .route("/cases/{id}/draw/verify", get(draws::verify))
        .route("/cases/{id}/draw/top-up", post(draws::top_up))
        .route("/cases/{id}/pool", get(draws::pool))
        .route(
            "/municipalities/{municipality}/population",
            get(draws::population).put(draws::set_population),
        )
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
            get(moderation::get_policy).put(moderation::policy),
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
            "/panels/{slug}/invitation-batches",
            post(invitations::create_batch),
        )
        .route("/invitation-batches/{id}", get(invitations::batch))
        .route(
            "/municipalities/{municipality}/response",
            get(invitations::response),
        )
        .route(
            "/municipalities/{municipality}/letter",
            get(invitations::letter).put(invitations::set_letter),
        )
        .route(
            "/municipalities/{municipality}/invitations/{number}",
            get(invitations::invitation),
        )
        .route(
            "/municipalities/{municipality}/invitations/{number}/revoke",
            post(invitations::revoke),
        )
        .route(
            "/municipalities/{municipality}/invitations/{number}/replace",
            post(invitations::replace),
        )
        .route(
            "/municipalities/{municipality}/invitations/{number}/leave",
            post(privacy::leave_on_request),
        )
        .route(
            "/municipalities/{municipality}/retention",
            get(retention::settings).put(retention::set_settings),
        )
        .route(
            "/municipalities/{municipality}/retention/plan",
            get(retention::plan),
        )
        .route(
            "/municipalities/{municipality}/retention/run",
            post(retention::run),
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
