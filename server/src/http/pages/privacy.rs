//! A resident's own data and leaving the panel, as pages: `/mijn-gegevens` (everything
//! kept about them, readable, with the JSON download of `/api/v1/me/data`),
//! `/panel-verlaten` (the choice for their posts and the confirmation, then
//! `/panel-verlaten/klaar`), the accountability text behind the privacy statement at
//! `/privacy/verantwoording`, and staff carrying out a written request to leave
//! (`POST /beheer/brieven/verlaten`, from the letters page).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;

use super::{Chrome, SessionForm, Viewer, render, see_other};
use crate::domain::PostsOnLeaving;
use crate::http::AppState;
use crate::http::extract::SESSION_COOKIE;
use crate::service::privacy::{LeaveInput, LeaveOnRequestInput, OwnData};
use crate::service::{AuditContext, Error};
use crate::web::i18n::Tr;
use crate::web::view::{ErrorSummary, local_time};

/// The privacy officer's document (data inventory, DPIA starter, processing register),
/// served as written in `docs/privacy.md`.
const ACCOUNTABILITY: &str = include_str!("../../../../docs/privacy.md");

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mijn-gegevens", get(own_data_page))
        .route("/panel-verlaten", get(leave_page).post(leave))
        .route("/panel-verlaten/klaar", get(left_page))
        .route("/privacy/verantwoording", get(accountability))
        .route("/beheer/brieven/verlaten", post(leave_on_request))
}

/// One line of a table on the own-data page: a label and its value, both plain text.
struct Row {
    label: String,
    value: String,
}

struct PostBlock {
    heading: String,
    meta: String,
    body: String,
    revisions: Vec<Row>,
}

#[derive(Template)]
#[template(path = "my_data.html")]
struct OwnDataPage {
    t: Tr,
    c: Chrome,
    profile: Vec<Row>,
    invitations: Vec<Row>,
    case_names: Vec<Row>,
    posts: Vec<PostBlock>,
    weighings: Vec<Row>,
    flags: Vec<Row>,
    moderation: Vec<Row>,
    consent: Vec<Row>,
    sessions: Vec<Row>,
    draws: Vec<Row>,
    audit: Vec<Row>,
    mail: Vec<Row>,
}

fn when(at: Option<chrono::DateTime<chrono::Utc>>, t: &Tr) -> String {
    at.map(local_time)
        .unwrap_or_else(|| t.t("mydata.never").to_owned())
}

fn or_none(v: Option<String>, t: &Tr) -> String {
    v.filter(|s| !s.is_empty())
        .unwrap_or_else(|| t.t("mydata.not_shared").to_owned())
}

fn own_data_view(v: &Viewer, d: OwnData) -> OwnDataPage {
    let t = &v.t;
    let row = |label: &str, value: String| Row {
        label: t.t(label).to_owned(),
        value,
    };
    let yes_no = |b: bool| t.t(if b { "mydata.yes" } else { "mydata.no" }).to_owned();
    let p = d.profile;
    let profile = vec![
        row("mydata.municipality", d.municipality),
        row("mydata.panel", d.panel),
        row("mydata.pseudonym", p.pseudonym),
        row("mydata.consent", yes_no(p.profile_consent)),
        row("mydata.age_band", or_none(p.age_band, t)),
        row("mydata.district", or_none(p.district, t)),
        row("mydata.wmo", or_none(p.wmo_experience, t)),
        row("mydata.created", local_time(p.created_at)),
        row("mydata.first_login", when(p.first_login_at, t)),
        row("mydata.last_login", when(p.last_login_at, t)),
        row("mydata.suspended", when(p.suspended_until, t)),
        row("mydata.premoderated", yes_no(p.premoderated)),
    ];
    OwnDataPage {
        t: v.t,
        c: v.chrome("panel"),
        profile,
        invitations: d
            .invitations
            .into_iter()
            .map(|i| Row {
                label: i.number,
                value: format!(
                    "{} · {} {}",
                    i.status,
                    t.t("mydata.since"),
                    local_time(i.created_at)
                ),
            })
            .collect(),
        case_names: d
            .case_names
            .into_iter()
            .map(|n| Row {
                label: n.case_title,
                value: n.name,
            })
            .collect(),
        posts: d
            .posts
            .into_iter()
            .map(|p| PostBlock {
                heading: p.case_title,
                meta: format!(
                    "{}{} · {}",
                    p.verdict.map(|v| format!("{v} · ")).unwrap_or_default(),
                    p.status.as_str(),
                    local_time(p.created_at)
                ),
                body: p.body,
                revisions: p
                    .revisions
                    .into_iter()
                    .map(|r| Row {
                        label: format!("{} {}", t.t("mydata.revision"), r.revision),
                        value: format!("{} — {}", local_time(r.created_at), r.body),
                    })
                    .collect(),
            })
            .collect(),
        weighings: d
            .weighings
            .into_iter()
            .map(|w| Row {
                label: format!("{} {}", t.t("mydata.post"), w.post_id),
                value: format!("{} · {}", w.value, local_time(w.updated_at)),
            })
            .collect(),
        flags: d
            .flags
            .into_iter()
            .map(|f| Row {
                label: format!("{} {}", t.t("mydata.post"), f.post_id),
                value: format!(
                    "{}{} · {}",
                    f.reason,
                    f.note.map(|n| format!(": {n}")).unwrap_or_default(),
                    local_time(f.created_at)
                ),
            })
            .collect(),
        moderation: d
            .moderation
            .into_iter()
            .map(|m| Row {
                label: m.action,
                value: format!(
                    "{}{} · {}",
                    m.reason.unwrap_or_default(),
                    m.note.map(|n| format!(": {n}")).unwrap_or_default(),
                    local_time(m.created_at)
                ),
            })
            .collect(),
        consent: d
            .consent_history
            .into_iter()
            .map(|c| Row {
                label: t.of("mydata.consent_event", &c.action),
                value: local_time(c.at),
            })
            .collect(),
        sessions: d
            .sessions
            .into_iter()
            .map(|s| Row {
                label: local_time(s.created_at),
                value: format!("{} {}", t.t("mydata.until"), local_time(s.expires_at)),
            })
            .collect(),
        mail: d
            .notification_contact
            .iter()
            .map(|c| Row {
                label: t.t("mydata.mail_address").to_owned(),
                value: format!(
                    "{} · {} · {}",
                    c.email,
                    c.frequency,
                    if c.confirmed_at.is_some() {
                        t.t("mydata.mail_confirmed")
                    } else {
                        t.t("mydata.mail_unconfirmed")
                    }
                ),
            })
            .chain(d.notifications.iter().map(|n| Row {
                label: format!("{} · {}", local_time(n.created_at), n.kind),
                value: n.status.clone(),
            }))
            .collect(),
        draws: d
            .draws
            .into_iter()
            .map(|s| Row {
                label: format!("{} {}", t.t("mydata.draw"), s.draw_id),
                value: format!("{} · {}", s.status, when(s.seated_at, t)),
            })
            .collect(),
        audit: d
            .audit
            .into_iter()
            .map(|a| Row {
                label: a.action,
                value: format!(
                    "{} · {}{}",
                    local_time(a.created_at),
                    a.actor_kind,
                    a.origin.map(|o| format!(" · {o}")).unwrap_or_default()
                ),
            })
            .collect(),
    }
}

/// `GET /mijn-gegevens`: everything kept about the signed-in panelist, readable.
pub async fn own_data_page(State(state): State<AppState>, v: Viewer) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.service.own_data(&auth.actor).await {
        Ok(d) => render(&own_data_view(&v, d)),
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "leave.html")]
struct LeavePage {
    t: Tr,
    c: Chrome,
    choice: String,
    choice_error: Option<String>,
    confirm_error: Option<String>,
    errors: ErrorSummary,
}

fn leave_render(
    v: &Viewer,
    choice: String,
    choice_error: Option<String>,
    confirm_error: Option<String>,
    status: StatusCode,
) -> Response {
    let mut errors = ErrorSummary::default();
    if let Some(e) = &choice_error {
        errors.add("berichten-behouden", e.clone());
    }
    if let Some(e) = &confirm_error {
        errors.add("bevestigen", e.clone());
    }
    let page = LeavePage {
        t: v.t,
        c: v.chrome("panel"),
        choice,
        choice_error,
        confirm_error,
        errors,
    };
    (status, render(&page)).into_response()
}

/// `GET /panel-verlaten`: what leaving means, the choice for the posts and the
/// confirmation.
pub async fn leave_page(v: Viewer) -> Response {
    if let Err(r) = v.require() {
        return r;
    }
    leave_render(&v, String::new(), None, None, StatusCode::OK)
}

/// The leaving form.
#[derive(Deserialize)]
pub struct LeaveForm {
    #[serde(default)]
    posts: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /panel-verlaten`: leaves the panel; the session ends with it.
pub async fn leave(
    State(state): State<AppState>,
    jar: CookieJar,
    SessionForm { viewer: v, form }: SessionForm<LeaveForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = LeaveInput {
        posts: form.posts.clone(),
        confirm: form.confirm.is_some(),
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state.service.leave_panel(&auth.actor, input, &ctx).await {
        Ok(_) => {
            let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
            (jar, see_other("/panel-verlaten/klaar")).into_response()
        }
        Err(e @ Error::Invalid { .. }) => {
            let message = v.t.error(e.code(), &e.message());
            let (choice_error, confirm_error) = if e.code() == "confirmation_required" {
                (None, Some(message))
            } else {
                (Some(message), None)
            };
            leave_render(
                &v,
                form.posts,
                choice_error,
                confirm_error,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "left.html")]
struct LeftPage {
    t: Tr,
    c: Chrome,
}

/// `GET /panel-verlaten/klaar`: the confirmation that one has left (no session needed).
pub async fn left_page(v: Viewer) -> Response {
    render(&LeftPage {
        t: v.t,
        c: v.chrome("panel"),
    })
}

/// `GET /privacy/verantwoording`: the data inventory, DPIA starter and processing
/// register entry, as plain text for a municipality's privacy officer.
pub async fn accountability() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        ACCOUNTABILITY,
    )
        .into_response()
}

/// Staff's form for a written request to leave.
#[derive(Deserialize)]
pub struct LeaveRequestForm {
    gemeente: String,
    number: String,
    #[serde(default)]
    posts: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /beheer/brieven/verlaten`: carries out a resident's written request to leave,
/// by invitation number, and returns to the letters page with the outcome.
pub async fn leave_on_request(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<LeaveRequestForm>,
) -> Response {
    let auth = match v.require_staff() {
        Ok((auth, _)) => auth,
        Err(r) => return r,
    };
    let back = |ok: &str| {
        see_other(&format!(
            "/beheer/brieven?gemeente={}&nummer={}&ok={ok}",
            urlencoding(&form.gemeente),
            urlencoding(&form.number)
        ))
    };
    if form.confirm.is_none() || PostsOnLeaving::parse(&form.posts).is_none() {
        return back("leave_unconfirmed");
    }
    let ctx = AuditContext::new(&auth.actor, v.ip);
    let input = LeaveOnRequestInput {
        posts: form.posts.clone(),
    };
    match state
        .service
        .leave_panel_on_request(&auth.actor, &form.gemeente, &form.number, input, &ctx)
        .await
    {
        Ok(_) => back("left"),
        Err(Error::Conflict { .. }) => back("already_left"),
        Err(e) => v.fail(e),
    }
}

/// Percent-encodes a query value (slugs and numbers are plain already; this keeps a
/// typed value from breaking the query).
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
