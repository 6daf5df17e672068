//! The OpenAPI description of `/api/v1`, generated from the handlers' annotations.

use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::routes::{auth, cases, moderation, municipalities, posts};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Beraad API",
        description = "Deliberation forum engine: cases, reactions, replies, weighings and flags. \
            Log in to get the session cookie; send the session's csrf_token as X-CSRF-Token on every \
            state-changing request and an Idempotency-Key on every POST you may retry. \
            Errors are {\"error\":{\"code\",\"message\"}} with stable codes."
    ),
    paths(
        auth::login_invite, auth::login_staff, auth::logout, auth::session,
        auth::profile, auth::set_profile, auth::change_password,
        cases::list, cases::create, cases::get, cases::update, cases::schedule, cases::open,
        cases::close, cases::events, cases::export, cases::analysis, cases::outcome,
        posts::thread, posts::create, posts::get, posts::edit, posts::withdraw, posts::weigh,
        posts::flag, posts::contest, posts::revisions, posts::check,
        moderation::counts, moderation::queue, moderation::handled, moderation::claim,
        moderation::release, moderation::act, moderation::suspend, moderation::premoderate,
        moderation::audit, moderation::audit_export, moderation::policy,
        municipalities::contact, municipalities::set_contact,
    ),
    modifiers(&SessionCookie),
    tags(
        (name = "auth", description = "Sessions"),
        (name = "cases", description = "Cases (casussen)"),
        (name = "posts", description = "The thread"),
        (name = "moderation", description = "Moderation queues and actions; the audit log"),
        (name = "municipalities", description = "What a municipality tells its residents"),
    )
)]
pub struct ApiDoc;

struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::extract::SESSION_COOKIE,
            ))),
        );
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}
