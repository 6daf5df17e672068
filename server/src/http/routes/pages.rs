//! Web pages. For now the landing page and its stylesheet, embedded in the binary so the
//! server needs no files beside it.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use crate::http::AppState;
use crate::http::extract::{SESSION_COOKIE, session_of};

const LANDING: &str = include_str!("../../../../web/templates/landing.html");
const NOT_FOUND: &str = include_str!("../../../../web/templates/not_found.html");
const STYLESHEET: &str = include_str!("../../../../web/static/beraad.css");

/// The landing page.
pub async fn landing() -> Html<&'static str> {
    Html(LANDING)
}

/// The stylesheet.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// A page that does not exist.
pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Html(NOT_FOUND)).into_response()
}

/// Logging out from a plain form: ends the session if there is one and returns home.
/// Same-site cookies and the origin check guard this form.
pub async fn logout_form(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    jar: CookieJar,
) -> Response {
    if let Ok(Some(auth)) = session_of(&headers, &state).await
        && let Err(e) = state.service.logout(&auth).await
    {
        tracing::warn!(error = %e, "logout failed");
    }
    let jar = jar.remove(axum_extra::extract::cookie::Cookie::build(SESSION_COOKIE).path("/"));
    (jar, Redirect::to("/")).into_response()
}
