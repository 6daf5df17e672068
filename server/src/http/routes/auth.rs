//! `/api/v1/auth`: log in with an invite code or e-mail and password, look at and end the
//! session; `/api/v1/me/profile`: the panelist's consented profile.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Auth, ClientIp, Json, SESSION_COOKIE};
use crate::service::AuditContext;
use crate::service::auth::{Login, SessionView};
use crate::service::profile::{ProfileInput, ProfileView};

/// A panelist's login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"code": "K7QM-3XRT-9PWA-H", "remember": false})))]
pub struct InviteLogin {
    /// The code from the letter (spaces and dashes are ignored).
    pub code: String,
    /// "Remember me on this device": the session lives 30 days from its last use
    /// instead of the usual time. Only for panelists, on their own device.
    #[serde(default)]
    pub remember: bool,
}

/// A staff login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"email": "admin@utrecht.test", "password": "een-lang-testwachtwoord"})))]
pub struct StaffLogin {
    /// E-mail address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// The session cookie (HttpOnly, SameSite=Lax, Secure over TLS), shared with the login
/// forms of the pages.
pub fn session_cookie(state: &AppState, token: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies)
        .max_age(time_duration(max_age_secs))
        .build()
}

fn time_duration(secs: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(secs)
}

fn logged_in(state: &AppState, jar: CookieJar, login: Login) -> Response {
    // The cookie lives as long as the session (30 days when remembered).
    let ttl = (login.view.expires_at - state.service.now())
        .num_seconds()
        .max(0);
    let jar = jar.add(session_cookie(state, login.token, ttl));
    (jar, axum::Json(login.view)).into_response()
}

/// Logs a panelist in with the code from their letter.
#[utoipa::path(post, path = "/api/v1/auth/invite", operation_id = "loginPanelist", tag = "auth", request_body = InviteLogin,
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login_invite(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(body): Json<InviteLogin>,
) -> Result<Response, ApiError> {
    let login = state
        .service
        .login_panelist_on_device(&body.code, ip, body.remember)
        .await?;
    Ok(logged_in(&state, jar, login))
}

/// Logs a staff member in.
#[utoipa::path(post, path = "/api/v1/auth/login", operation_id = "loginStaff", tag = "auth", request_body = StaffLogin,
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login_staff(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(body): Json<StaffLogin>,
) -> Result<Response, ApiError> {
    let login = state
        .service
        .login_staff(&body.email, &body.password, ip)
        .await?;
    Ok(logged_in(&state, jar, login))
}

/// Ends the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", operation_id = "endSession", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    Auth(auth): Auth,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    state.service.logout(&auth).await?;
    let jar = jar.add(session_cookie(&state, String::new(), 0));
    Ok((StatusCode::NO_CONTENT, jar).into_response())
}

/// The current session, with the CSRF token for writes.
#[utoipa::path(get, path = "/api/v1/auth/session", operation_id = "getSession", tag = "auth",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)))]
pub async fn session(State(state): State<AppState>, Auth(auth): Auth) -> axum::Json<SessionView> {
    axum::Json(state.service.session_view(&auth))
}

/// The signed-in panelist's consented profile.
#[utoipa::path(get, path = "/api/v1/me/profile", operation_id = "getProfile", tag = "auth",
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn profile(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<axum::Json<ProfileView>, ApiError> {
    Ok(axum::Json(state.service.profile(&auth.actor).await?))
}

/// Shares (or, with `consent: false`, erases) the panelist's profile for the analysis.
#[utoipa::path(put, path = "/api/v1/me/profile", operation_id = "setProfile", tag = "auth", request_body = ProfileInput,
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_profile(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Json(body): Json<ProfileInput>,
) -> Result<axum::Json<ProfileView>, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    Ok(axum::Json(
        state.service.set_profile(&auth.actor, body, &ctx).await?,
    ))
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"current": "een-lang-testwachtwoord", "new": "nog-een-veel-langer-wachtwoord"})))]
pub struct PasswordChange {
    /// The current password.
    pub current: String,
    /// The new password (at least 12 characters).
    pub new: String,
}

/// Changes the signed-in staff member's password and ends their other sessions.
#[utoipa::path(post, path = "/api/v1/auth/password", operation_id = "changePassword", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ClientIp(ip): ClientIp,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let ctx = AuditContext::new(&auth.actor, ip);
    state
        .service
        .change_password(&auth, &body.current, &body.new, &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
