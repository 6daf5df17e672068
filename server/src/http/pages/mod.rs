//! The web pages: server-rendered HTML from compile-time-checked templates in
//! `web/templates`, with plain forms that work without JavaScript and small ES modules
//! from `web/static` that add live updates. Handlers are as thin as the JSON API's:
//! they read the viewer, call the service layer and render.
//!
//! Forms carry the session's CSRF token in a hidden `csrf` field; the origin guard of
//! [`crate::http`] refuses cross-site posts as well.

pub mod accounts;
pub mod dashboard;
pub mod draw;
pub mod letters;
pub mod moderation;
pub mod notifications;
pub mod panel;
pub mod privacy;
pub mod staff;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::domain::Role;
use crate::http::AppState;
use crate::http::extract::{
    ClientIp, SESSION_COOKIE, control_character_error, form_has_control_character, session_of,
};
use crate::service::Error;
use crate::service::auth::{Authenticated, Login};
use crate::service::policy::Actor;
use crate::web::i18n::{LANG_COOKIE, Lang, Tr};

/// Every page route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/inloggen/code", post(login_code))
        .route("/inloggen", get(login_staff_page).post(login_staff))
        .route("/uitloggen", post(logout_form))
        .route("/taal", get(switch_language))
        .route("/toegankelijkheid", get(accessibility))
        .route("/wachtwoord", get(password_page).post(change_password))
        .route("/static/{file}", get(asset))
        .merge(accounts::routes())
        .merge(panel::routes())
        .merge(moderation::routes())
        .merge(staff::routes())
        .merge(draw::routes())
        .merge(dashboard::routes())
        .merge(letters::routes())
        .merge(notifications::routes())
        .merge(privacy::routes())
}

/// The frame around every page: who is signed in, what they may reach, the CSRF token
/// for forms, and the texts the scripts need.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    /// Whether someone is signed in.
    pub signed_in: bool,
    /// A panelist is signed in.
    pub is_panelist: bool,
    /// The staff member moderates somewhere.
    pub is_moderator: bool,
    /// The staff member is an admin or analyst somewhere.
    pub is_staff: bool,
    /// Pseudonym or name.
    pub who: String,
    /// CSRF token for forms.
    pub csrf: String,
    /// Session expiry (RFC 3339), for the time-out warning.
    pub expires_at: String,
    /// The page's path, to come back to after switching language.
    pub path: String,
    /// Which part of the site (`panel`, `moderation`, `staff`), for `aria-current`.
    pub section: &'static str,
    /// The `js.*` texts as JSON.
    pub script_texts: String,
    /// The panelist's municipality and how to reach it, for the footer.
    pub contact: Option<crate::service::notices::MunicipalContact>,
}

/// Who is looking at a page, in which language.
pub struct Viewer {
    /// The texts of the chosen language.
    pub t: Tr,
    /// The session, if any.
    pub auth: Option<Authenticated>,
    /// The request path.
    pub path: String,
    /// The client's address.
    pub ip: Option<std::net::IpAddr>,
    /// A panelist's municipality and its contact, shown on every page they read.
    pub contact: Option<crate::service::notices::MunicipalContact>,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = jar
            .get(LANG_COOKIE)
            .map(|c| Lang::parse(c.value()))
            .unwrap_or_default();
        let t = Tr::new(lang);
        let auth = session_of(&parts.headers, state).await.ok().flatten();
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientIp(None));
        // Without the contact the page still serves; the footer then names no numbers.
        let contact = match &auth {
            Some(a) => state.service.my_contact(&a.actor).await.ok().flatten(),
            None => None,
        };
        Ok(Viewer {
            t,
            auth,
            path: parts.uri.path().to_owned(),
            ip,
            contact,
        })
    }
}

impl Viewer {
    /// The page frame for this viewer.
    pub fn chrome(&self, section: &'static str) -> Chrome {
        let mut c = Chrome {
            path: self.path.clone(),
            section,
            script_texts: self.t.script_texts(),
            contact: self.contact.clone(),
            ..Chrome::default()
        };
        if let Some(auth) = &self.auth {
            c.signed_in = true;
            c.csrf = auth.csrf_token.clone();
            c.expires_at = auth.expires_at.to_rfc3339();
            match &auth.actor {
                Actor::Panelist(p) => {
                    c.is_panelist = true;
                    c.who = p.pseudonym.clone();
                }
                Actor::Staff(s) => {
                    c.who = s.name.clone();
                    // Admins hold every role of their municipality.
                    c.is_moderator = s
                        .roles
                        .iter()
                        .any(|r| matches!(r.role, Role::Moderator | Role::Admin));
                    c.is_staff = s
                        .roles
                        .iter()
                        .any(|r| matches!(r.role, Role::Admin | Role::Analyst));
                }
            }
        }
        c
    }

    /// The session, or a redirect to the right login page.
    // A page's failure is the answer itself; it is built once per request, so its size
    // costs nothing worth boxing.
    #[allow(clippy::result_large_err)]
    pub fn require(&self) -> Result<&Authenticated, Response> {
        self.auth.as_ref().ok_or_else(|| {
            let to = if self.path.starts_with("/beheer") || self.path.starts_with("/moderatie") {
                "/inloggen"
            } else {
                "/"
            };
            Redirect::to(to).into_response()
        })
    }

    /// The staff member signed in, or a redirect / refusal.
    #[allow(clippy::result_large_err)]
    pub fn require_staff(
        &self,
    ) -> Result<(&Authenticated, &crate::service::policy::StaffActor), Response> {
        let auth = self.require()?;
        match &auth.actor {
            Actor::Staff(s) => Ok((auth, s)),
            Actor::Panelist(_) => Err(self.fail(Error::forbidden(
                "staff_only",
                "Deze pagina is voor medewerkers van de gemeente.",
            ))),
        }
    }

    /// An error page for a service error, in the viewer's language.
    pub fn fail(&self, e: Error) -> Response {
        if matches!(e, Error::Unauthenticated { .. }) {
            return Redirect::to("/").into_response();
        }
        let status = crate::http::error::status_of(&e);
        if let Error::Unavailable { .. } = e {
            tracing::warn!(error = %e, "page could not reach the database");
            let heading = self.t.t("error.unavailable_heading").to_owned();
            let message = self.t.error(e.code(), &e.message());
            let mut resp = self.error_page(status, heading, message);
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(crate::service::error::UNAVAILABLE_RETRY_SECS),
            );
            return resp;
        }
        if status.is_server_error() {
            tracing::error!(error = %e, "page failed");
        }
        let heading = match status {
            StatusCode::NOT_FOUND => self.t.t("error.not_found_heading").to_owned(),
            StatusCode::FORBIDDEN => self.t.t("error.forbidden_heading").to_owned(),
            StatusCode::TOO_MANY_REQUESTS => self.t.t("error.rate_limited_heading").to_owned(),
            s if s.is_server_error() => self.t.t("error.internal_heading").to_owned(),
            _ => self.t.t("error.generic_heading").to_owned(),
        };
        let message = match status {
            StatusCode::NOT_FOUND => self.t.t("error.not_found_text").to_owned(),
            s if s.is_server_error() => self.t.t("error.internal_text").to_owned(),
            _ => self.t.error(e.code(), &e.message()),
        };
        self.error_page(status, heading, message)
    }

    /// A page saying what went wrong.
    pub fn error_page(&self, status: StatusCode, heading: String, message: String) -> Response {
        let page = ErrorPage {
            t: self.t,
            c: self.chrome(""),
            heading,
            message,
            back: "/",
        };
        (status, render(&page)).into_response()
    }
}

/// Renders a template; a rendering failure (which the compile-time checks make
/// unlikely) becomes a plain 500.
pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A form post from a signed-in person: the session and the fields, after checking the
/// `csrf` field against the session's token.
pub struct SessionForm<T> {
    /// Who posted.
    pub viewer: Viewer,
    /// The fields.
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for SessionForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let auth = viewer.require()?;
        let bytes = axum::body::to_bytes(body, crate::http::MAX_BODY_BYTES)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        let sent: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        if !bool::from(sent.csrf.as_bytes().ct_eq(auth.csrf_token.as_bytes())) {
            return Err(viewer.fail(Error::forbidden(
                "csrf_failed",
                "Het formulier was verlopen. Laad de pagina opnieuw en probeer het nog eens.",
            )));
        }
        if form_has_control_character(&bytes) {
            return Err(viewer.fail(control_character_error()));
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            viewer.fail(Error::bad_request(
                "invalid_form",
                "Het formulier is niet volledig ingevuld.",
            ))
        })?;
        Ok(SessionForm { viewer, form })
    }
}

/// A form post from someone who need not be signed in (the login forms).
pub struct PublicForm<T> {
    /// Who posted.
    pub viewer: Viewer,
    /// The fields.
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for PublicForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, crate::http::MAX_BODY_BYTES)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        if form_has_control_character(&bytes) {
            return Err(viewer.fail(control_character_error()));
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            viewer.fail(Error::bad_request(
                "invalid_form",
                "Het formulier is niet volledig ingevuld.",
            ))
        })?;
        Ok(PublicForm { viewer, form })
    }
}

/// The choices of a closed set of stored words for a form: each word with the catalogue
/// key of its label (`prefix.word`).
pub fn choices<T: Copy>(
    all: &[T],
    word: fn(T) -> &'static str,
    prefix: &str,
) -> Vec<(&'static str, String)> {
    all.iter()
        .map(|v| (word(*v), format!("{prefix}.{}", word(*v))))
        .collect()
}

/// A 303 to `to` (after a form post).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Tr,
    c: Chrome,
    heading: String,
    message: String,
    back: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: Tr,
    c: Chrome,
    error: Option<String>,
    code: String,
}

#[derive(Template)]
#[template(path = "login_staff.html")]
struct StaffLoginPage {
    t: Tr,
    c: Chrome,
    error: Option<String>,
    email: String,
}

#[derive(Template)]
#[template(path = "accessibility.html")]
struct AccessibilityPage {
    t: Tr,
    c: Chrome,
}

/// `/`: the code login for visitors, the panelist's cases, or the staff member's start
/// (their invitations first, while any wait).
pub async fn home(State(state): State<AppState>, v: Viewer) -> Response {
    match v.auth.as_ref().map(|a| &a.actor) {
        None => render(&HomePage {
            t: v.t,
            c: v.chrome("panel"),
            error: None,
            code: String::new(),
        }),
        Some(Actor::Panelist(_)) => panel::my_cases(&state, &v).await,
        Some(actor @ Actor::Staff(s)) => {
            // Roles another municipality offered wait on their own page until answered.
            if let Ok(own) = state.service.own_staff_invitations(actor).await
                && own.invitations.iter().any(|i| !i.expired)
            {
                return see_other("/uitnodigingen");
            }
            let staff = s.roles.iter().any(|r| r.role != Role::Moderator);
            see_other(if staff { "/beheer" } else { "/moderatie" })
        }
    }
}

fn signed_in(state: &AppState, jar: CookieJar, login: Login, to: &str) -> Response {
    // The cookie lives as long as the session (30 days when remembered).
    let ttl = (login.view.expires_at - state.service.now())
        .num_seconds()
        .max(0);
    (
        jar.add(crate::http::routes::auth::session_cookie(
            state,
            login.token,
            ttl,
        )),
        see_other(to),
    )
        .into_response()
}

/// The code login form.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    /// "Remember me on this device" (ticked: any value).
    #[serde(default)]
    remember: Option<String>,
}

/// `POST /inloggen/code`: a panelist logs in with the code from their letter.
pub async fn login_code(
    State(state): State<AppState>,
    jar: CookieJar,
    PublicForm { viewer: v, form }: PublicForm<CodeForm>,
) -> Response {
    match state
        .service
        .login_panelist_on_device(&form.code, v.ip, form.remember.is_some())
        .await
    {
        Ok(login) => signed_in(&state, jar, login, "/"),
        Err(e) => {
            let status = crate::http::error::status_of(&e);
            let page = HomePage {
                t: v.t,
                c: v.chrome("panel"),
                error: Some(v.t.error(e.code(), &e.message())),
                code: form.code.chars().take(40).collect(),
            };
            (status, render(&page)).into_response()
        }
    }
}

/// `GET /inloggen`: the staff login form.
pub async fn login_staff_page(v: Viewer) -> Response {
    render(&StaffLoginPage {
        t: v.t,
        c: v.chrome("staff"),
        error: None,
        email: String::new(),
    })
}

/// The staff login form.
#[derive(Deserialize)]
pub struct StaffLoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /inloggen`: a staff member logs in.
pub async fn login_staff(
    State(state): State<AppState>,
    jar: CookieJar,
    PublicForm { viewer: v, form }: PublicForm<StaffLoginForm>,
) -> Response {
    match state
        .service
        .login_staff(&form.email, &form.password, v.ip)
        .await
    {
        Ok(login) => signed_in(&state, jar, login, "/"),
        Err(e) => {
            let status = crate::http::error::status_of(&e);
            let page = StaffLoginPage {
                t: v.t,
                c: v.chrome("staff"),
                error: Some(v.t.error(e.code(), &e.message())),
                email: form.email.chars().take(200).collect(),
            };
            (status, render(&page)).into_response()
        }
    }
}

/// `POST /uitloggen`: ends the session and returns home.
pub async fn logout_form(
    State(state): State<AppState>,
    jar: CookieJar,
    SessionForm { viewer, .. }: SessionForm<serde::de::IgnoredAny>,
) -> Response {
    if let Some(auth) = &viewer.auth
        && let Err(e) = state.service.logout(auth).await
    {
        tracing::warn!(error = %e, "logout failed");
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    (jar, see_other("/")).into_response()
}

/// The language switch.
#[derive(Deserialize)]
pub struct LanguageQuery {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    terug: String,
}

/// `GET /taal?lang=en&terug=/pad`: remembers the language and returns to the page.
pub async fn switch_language(
    State(state): State<AppState>,
    jar: CookieJar,
    crate::http::extract::Query(q): crate::http::extract::Query<LanguageQuery>,
) -> Response {
    let lang = Lang::parse(&q.lang);
    let cookie = Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies)
        .max_age(cookie::time::Duration::days(365))
        .build();
    let back = if is_local_path(&q.terug) {
        q.terug.as_str()
    } else {
        "/"
    };
    (jar.add(cookie), see_other(back)).into_response()
}

/// Whether `path` is a path on this site: browsers read `//host` and `/\\host` as another
/// site, so neither passes, nor does anything with control characters.
fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c.is_control() || c == '\\')
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    t: Tr,
    c: Chrome,
    error: Option<String>,
    error_on_current: bool,
    saved: bool,
}

/// `?ok=1` after a change.
#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    ok: Option<String>,
}

/// `GET /wachtwoord`: the staff member's own password.
pub async fn password_page(
    v: Viewer,
    crate::http::extract::Query(q): crate::http::extract::Query<SavedQuery>,
) -> Response {
    if let Err(r) = v.require_staff() {
        return r;
    }
    render(&PasswordPage {
        t: v.t,
        c: v.chrome(""),
        error: None,
        error_on_current: false,
        saved: q.ok.is_some(),
    })
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /wachtwoord`: changes the password; other sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<PasswordForm>,
) -> Response {
    let auth = match v.require_staff() {
        Ok((auth, _)) => auth,
        Err(r) => return r,
    };
    let failed = |message: String, on_current: bool, status: StatusCode| {
        let page = PasswordPage {
            t: v.t,
            c: v.chrome(""),
            error: Some(message),
            error_on_current: on_current,
            saved: false,
        };
        (status, render(&page)).into_response()
    };
    if form.new != form.repeat {
        return failed(
            v.t.t("password.mismatch").to_owned(),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let ctx = crate::service::AuditContext::new(&auth.actor, v.ip);
    match state
        .service
        .change_password(auth, &form.current, &form.new, &ctx)
        .await
    {
        Ok(()) => see_other("/wachtwoord?ok=1"),
        Err(e @ Error::Invalid { .. }) => failed(
            v.t.error(e.code(), &e.message()),
            e.code() == "wrong_password",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => v.fail(e),
    }
}

/// `/toegankelijkheid`: the accessibility statement.
pub async fn accessibility(v: Viewer) -> Response {
    render(&AccessibilityPage {
        t: v.t,
        c: v.chrome(""),
    })
}

const STYLESHEET: &str = include_str!("../../../../web/static/beraad.css");
const SESSION_JS: &str = include_str!("../../../../web/static/session.js");
const LIVE_JS: &str = include_str!("../../../../web/static/live.js");
const REALTIME_JS: &str = include_str!("../../../../web/static/realtime.js");
const MODERATION_JS: &str = include_str!("../../../../web/static/moderation.js");
const WATCH_JS: &str = include_str!("../../../../web/static/watch.js");
const CASE_EDITOR_JS: &str = include_str!("../../../../web/static/case-editor.js");
const CODE_JS: &str = include_str!("../../../../web/static/code.js");
const MODERATION_CSS: &str = include_str!("../../../../web/static/moderatie.css");
const STAFF_CSS: &str = include_str!("../../../../web/static/beheer.css");
const ANALYSIS_CSS: &str = include_str!("../../../../web/static/analyse.css");

/// `/static/FILE`: the stylesheet and scripts, embedded in the binary.
pub async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "beraad.css" => (STYLESHEET, "text/css; charset=utf-8"),
        "session.js" => (SESSION_JS, "text/javascript; charset=utf-8"),
        "live.js" => (LIVE_JS, "text/javascript; charset=utf-8"),
        "realtime.js" => (REALTIME_JS, "text/javascript; charset=utf-8"),
        "moderation.js" => (MODERATION_JS, "text/javascript; charset=utf-8"),
        "watch.js" => (WATCH_JS, "text/javascript; charset=utf-8"),
        "case-editor.js" => (CASE_EDITOR_JS, "text/javascript; charset=utf-8"),
        "code.js" => (CODE_JS, "text/javascript; charset=utf-8"),
        "moderatie.css" => (MODERATION_CSS, "text/css; charset=utf-8"),
        "beheer.css" => (STAFF_CSS, "text/css; charset=utf-8"),
        "analyse.css" => (ANALYSIS_CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// A page that does not exist.
pub async fn not_found(v: Viewer) -> Response {
    v.error_page(
        StatusCode::NOT_FOUND,
        v.t.t("error.not_found_heading").to_owned(),
        v.t.t("error.not_found_text").to_owned(),
    )
}

/// Whether the actor moderates in the municipality `slug` (moderators and admins): they
/// get a "Modereren" link on every post of its cases.
pub(crate) fn moderates(actor: &Actor, slug: &str) -> bool {
    matches!(actor, Actor::Staff(s) if s.roles.iter().any(|r| {
        r.municipality == slug && matches!(r.role, crate::domain::Role::Moderator | crate::domain::Role::Admin)
    }))
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn the_language_switch_returns_only_to_this_site() {
        assert!(is_local_path("/casus/3"));
        assert!(is_local_path("/"));
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "",
            "/a\\b",
            "/a\nb",
        ] {
            assert!(!is_local_path(evil), "{evil:?}");
        }
    }
}
