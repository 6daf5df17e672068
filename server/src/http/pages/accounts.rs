//! A staff member's own invitations (`/uitnodigingen`): roles another municipality
//! offered their account, accepted with the code its admin passed on. Any staff account
//! reaches this page, with or without roles; the rules live in `service::panels`.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, SavedQuery, SessionForm, Viewer, render, see_other};
use crate::http::AppState;
use crate::http::extract::{Path, Query};
use crate::service::{AuditContext, Error};
use crate::web::i18n::Tr;
use crate::web::view::local_time;

/// The routes of a staff member's own invitations.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/uitnodigingen", get(invitations_page))
        .route("/uitnodigingen/{id}/aannemen", post(accept))
}

/// One invitation as its holder sees it.
struct Row {
    id: i64,
    municipality_name: String,
    role_key: String,
    expires: String,
    expired: bool,
}

#[derive(Template)]
#[template(path = "invitations.html")]
struct InvitationsPage {
    t: Tr,
    c: Chrome,
    rows: Vec<Row>,
    own_password: bool,
    accepted: bool,
    /// A refused acceptance: the invitation it was about and what to tell.
    error: Option<(i64, String)>,
}

async fn render_page(
    state: &AppState,
    v: &Viewer,
    accepted: bool,
    error: Option<(i64, String)>,
    status: StatusCode,
) -> Response {
    let auth = match v.require_staff() {
        Ok((auth, _)) => auth,
        Err(r) => return r,
    };
    let own = match state.service.own_staff_invitations(&auth.actor).await {
        Ok(o) => o,
        Err(e) => return v.fail(e),
    };
    let rows = own
        .invitations
        .into_iter()
        .map(|i| Row {
            id: i.id,
            municipality_name: i.municipality_name,
            role_key: format!("role.{}", i.role.as_str()),
            expires: local_time(i.expires_at),
            expired: i.expired,
        })
        .collect();
    let page = InvitationsPage {
        t: v.t,
        c: v.chrome(""),
        rows,
        own_password: own.own_password,
        accepted,
        error,
    };
    (status, render(&page)).into_response()
}

/// `GET /uitnodigingen`: the invitations waiting for the signed-in staff member.
pub async fn invitations_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<SavedQuery>,
) -> Response {
    render_page(&state, &v, q.ok.is_some(), None, StatusCode::OK).await
}

/// The accept form.
#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    code: String,
}

/// `POST /uitnodigingen/{id}/aannemen`: accepts with the code; the role takes effect at
/// once. A refusal shows the page again with the reason beside that invitation.
pub async fn accept(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<AcceptForm>,
) -> Response {
    let auth = match v.require_staff() {
        Ok((auth, _)) => auth,
        Err(r) => return r,
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state
        .service
        .accept_staff_invitation(&auth.actor, id, &form.code, &ctx)
        .await
    {
        Ok(_) => see_other("/uitnodigingen?ok=1"),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let status = crate::http::error::status_of(&e);
            let message = v.t.error(e.code(), &e.message());
            render_page(&state, &v, false, Some((id, message)), status).await
        }
        Err(e) => v.fail(e),
    }
}
