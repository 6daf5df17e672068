//! The notification pages: a panelist's e-mail settings at `/meldingen` (add, change,
//! remove), and the two pages a link in a message opens without a login: confirming an
//! address (`/meldingen/bevestigen`) and unsubscribing (`/afmelden`). Following a link
//! only shows a button; the change is a POST, so a mail scanner that fetches every link
//! changes nothing. `POST /afmelden?token=…` also takes a mail client's one-click
//! unsubscribe (RFC 8058).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, PublicForm, SessionForm, Viewer, choices, render, see_other};
use crate::domain::{MailLanguage, NotificationFrequency, NotificationKind};
use crate::http::AppState;
use crate::http::extract::Query;
use crate::service::notifications::{NotificationInput, NotificationSettings};
use crate::service::{AuditContext, Error};
use crate::web::i18n::Tr;
use crate::web::view::ErrorSummary;

/// The notification routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meldingen", get(settings_page).post(save_settings))
        .route("/meldingen/verwijderen", post(remove))
        .route("/meldingen/bevestigen", get(confirm_page).post(confirm))
        .route("/afmelden", get(unsubscribe_page).post(unsubscribe))
}

/// One choice of a form: its word, the catalogue key of its label, whether chosen.
struct Choice {
    value: &'static str,
    label: String,
    chosen: bool,
}

fn choices_of(all: Vec<(&'static str, String)>, chosen: impl Fn(&str) -> bool) -> Vec<Choice> {
    all.into_iter()
        .map(|(value, label)| Choice {
            value,
            label,
            chosen: chosen(value),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct SettingsPage {
    t: Tr,
    c: Chrome,
    s: NotificationSettings,
    kinds: Vec<Choice>,
    frequencies: Vec<Choice>,
    languages: Vec<Choice>,
    error: Option<String>,
    flash: Option<String>,
    errors: ErrorSummary,
}

fn settings_render(
    v: &Viewer,
    s: NotificationSettings,
    error: Option<String>,
    flash: Option<String>,
    status: StatusCode,
) -> Response {
    let kinds = choices_of(
        choices(
            NotificationKind::ALL,
            NotificationKind::as_str,
            "notify.kind",
        ),
        |v| s.kinds.iter().any(|k| k == v),
    );
    let frequencies = choices_of(
        choices(
            NotificationFrequency::ALL,
            NotificationFrequency::as_str,
            "notify.frequency",
        ),
        |v| s.frequency == v,
    );
    let languages = choices_of(
        choices(MailLanguage::ALL, MailLanguage::as_str, "notify.language"),
        |v| s.language == v,
    );
    let page = SettingsPage {
        t: v.t,
        c: v.chrome("panel"),
        s,
        kinds,
        frequencies,
        languages,
        errors: error
            .as_ref()
            .map(|e| ErrorSummary::one("email", e.clone()))
            .unwrap_or_default(),
        error,
        flash,
    };
    (status, render(&page)).into_response()
}

/// `?ok=saved|removed`.
#[derive(Deserialize, Default)]
pub struct FlashQuery {
    #[serde(default)]
    ok: Option<String>,
}

/// `GET /meldingen`: the panelist's notification settings.
pub async fn settings_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<FlashQuery>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let flash = match q.ok.as_deref() {
        Some("saved") => Some(v.t.t("notify.saved").to_owned()),
        Some("removed") => Some(v.t.t("notify.removed").to_owned()),
        _ => None,
    };
    match state.service.notification_settings(&auth.actor).await {
        Ok(s) => settings_render(&v, s, None, flash, StatusCode::OK),
        Err(e) => v.fail(e),
    }
}

/// The settings form: every checked `kinds` box is one field.
#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    language: String,
}

fn read_settings_form(pairs: Vec<(String, String)>) -> SettingsForm {
    let mut f = SettingsForm {
        email: String::new(),
        kinds: Vec::new(),
        frequency: String::new(),
        language: String::new(),
    };
    for (k, v) in pairs {
        match k.as_str() {
            "email" => f.email = v,
            "kinds" => f.kinds.push(v),
            "frequency" => f.frequency = v,
            "language" => f.language = v,
            _ => {}
        }
    }
    f
}

/// `POST /meldingen`: saves the address and choices.
pub async fn save_settings(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<Vec<(String, String)>>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let form = read_settings_form(form);
    let input = NotificationInput {
        email: form.email.clone(),
        kinds: form.kinds.clone(),
        frequency: form.frequency.clone(),
        language: form.language.clone(),
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state
        .service
        .set_notifications(&auth.actor, input, &ctx)
        .await
    {
        Ok(_) => see_other("/meldingen?ok=saved"),
        Err(e @ Error::Invalid { .. }) => {
            let typed = NotificationSettings {
                email: Some(form.email),
                confirmed: false,
                kinds: form.kinds,
                frequency: form.frequency,
                language: form.language,
                mail_configured: state.service.mail_configured(),
                bounced: false,
            };
            let message = v.t.error(e.code(), &e.message());
            settings_render(
                &v,
                typed,
                Some(message),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => v.fail(e),
    }
}

/// `POST /meldingen/verwijderen`: erases the address.
pub async fn remove(
    State(state): State<AppState>,
    SessionForm { viewer: v, .. }: SessionForm<serde::de::IgnoredAny>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state.service.remove_notifications(&auth.actor, &ctx).await {
        Ok(()) => see_other("/meldingen?ok=removed"),
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "notify_link.html")]
struct LinkPage {
    t: Tr,
    c: Chrome,
    title: &'static str,
    text: &'static str,
    submit: &'static str,
    action: &'static str,
    token: String,
    done: Option<&'static str>,
    invalid: bool,
}

/// `?token=…` from a link.
#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
}

/// The form behind a link's button (or a mail client's one-click post).
#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    token: Option<String>,
}

fn link_page(v: &Viewer, unsubscribe: bool, token: String, done: bool, invalid: bool) -> Response {
    let (title, text, submit, action, done_text) = if unsubscribe {
        (
            "notify.unsubscribe_title",
            "notify.unsubscribe_text",
            "notify.unsubscribe_submit",
            "/afmelden",
            "notify.unsubscribe_done",
        )
    } else {
        (
            "notify.confirm_title",
            "notify.confirm_text",
            "notify.confirm_submit",
            "/meldingen/bevestigen",
            "notify.confirm_done",
        )
    };
    let page = LinkPage {
        t: v.t,
        c: v.chrome("panel"),
        title,
        text,
        submit,
        action,
        token,
        done: done.then_some(done_text),
        invalid,
    };
    let status = if invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, render(&page)).into_response()
}

/// `GET /meldingen/bevestigen?token=…`: asks to confirm the address.
pub async fn confirm_page(v: Viewer, Query(q): Query<TokenQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    let invalid = token.is_empty();
    link_page(&v, false, token, false, invalid)
}

/// `POST /meldingen/bevestigen`: confirms the address.
pub async fn confirm(
    State(state): State<AppState>,
    PublicForm { viewer: v, form }: PublicForm<TokenForm>,
) -> Response {
    let token = form.token.unwrap_or_default();
    match state.service.confirm_notifications(&token).await {
        Ok(()) => link_page(&v, false, String::new(), true, false),
        Err(Error::Invalid { .. }) => link_page(&v, false, String::new(), false, true),
        Err(e) => v.fail(e),
    }
}

/// `GET /afmelden?token=…`: asks to unsubscribe.
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<TokenQuery>,
) -> Response {
    let token = q.token.unwrap_or_default();
    match state.service.unsubscribe_valid(&token).await {
        Ok(valid) => link_page(&v, true, token, false, !valid),
        Err(e) => v.fail(e),
    }
}

/// `POST /afmelden`: unsubscribes by the token in the form or, for a mail client's
/// one-click post (`List-Unsubscribe=One-Click`), in the address.
pub async fn unsubscribe(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
    PublicForm { viewer: v, form }: PublicForm<Vec<(String, String)>>,
) -> Response {
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
        .or(q.token)
        .unwrap_or_default();
    match state.service.unsubscribe(&token).await {
        Ok(()) => link_page(&v, true, String::new(), true, false),
        Err(Error::Invalid { .. }) => link_page(&v, true, String::new(), false, true),
        Err(e) => v.fail(e),
    }
}
