//! The staff pages for letters and codes at `/beheer/brieven`: the response per panel
//! and batch, the lost-code call (look an invitation up by number, revoke it, give a
//! new code), and the letter text. A batch just made (here or from the panels page) is
//! answered with one page that carries its letters and its mail-merge sheet as
//! downloads inside the page itself, so its codes exist in that one answer only.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::Deserialize;

use super::staff::{Place, admin_places};
use super::{Chrome, SessionForm, Viewer, render, see_other};
use crate::http::AppState;
use crate::http::extract::Query;
use crate::service::export::{Separator, write_invitations_csv};
use crate::service::invitations::{
    BatchKind, BatchView, InvitationView, IssuedBatch, ResponseFigures,
};
use crate::service::{AuditContext, Error};
use crate::web::i18n::Tr;
use crate::web::view::local_time;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/beheer/brieven", get(page))
        .route("/beheer/brieven/intrekken", post(revoke))
        .route("/beheer/brieven/vervangen", post(replace))
        .route("/beheer/brieven/tekst", post(set_text))
}

/// `?gemeente=SLUG&nummer=NUMBER&ok=KEY`.
#[derive(Deserialize, Default)]
pub struct LettersQuery {
    #[serde(default)]
    gemeente: Option<String>,
    #[serde(default)]
    nummer: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

/// One row of a figures table: label cells, then each step's count or "fewer than 5".
struct FigureRow {
    id: String,
    cells: Vec<String>,
    figures: Vec<(String, bool)>,
}

fn figures(t: &Tr, f: &ResponseFigures) -> Vec<(String, bool)> {
    f.steps
        .iter()
        .map(|s| match s.count {
            Some(n) => (n.to_string(), false),
            None => (t.t("letters.page.suppressed").to_owned(), true),
        })
        .collect()
}

fn kind_key(k: BatchKind) -> &'static str {
    match k {
        BatchKind::Letters => "letters",
        BatchKind::Replacement => "replacement",
        BatchKind::Existing => "existing",
    }
}

fn batch_row(t: &Tr, b: &BatchView) -> FigureRow {
    FigureRow {
        id: format!("partij-{}", b.number),
        cells: vec![
            b.number.clone(),
            b.panel_name.clone(),
            t.of("letters.kind", kind_key(b.kind)),
            local_time(b.created_at),
        ],
        figures: figures(t, &b.figures),
    }
}

/// The invitation looked up, as shown.
struct Found {
    number: String,
    status: String,
    status_label: String,
    pseudonym: String,
    panel: String,
    first_used: Option<String>,
    replaced_by: Option<String>,
    replaces: Option<String>,
}

impl Found {
    fn of(t: &Tr, i: InvitationView) -> Found {
        Found {
            status_label: t.of("letters.status", &i.status),
            status: i.status,
            number: i.number,
            pseudonym: i.pseudonym,
            panel: i.panel,
            first_used: i.first_used_at.map(local_time),
            replaced_by: i.replaced_by,
            replaces: i.replaces,
        }
    }
}

#[derive(Template)]
#[template(path = "letters.html")]
struct LettersPage {
    t: Tr,
    c: Chrome,
    places: Vec<Place>,
    municipality: String,
    municipality_name: String,
    panels: Vec<FigureRow>,
    batches: Vec<FigureRow>,
    number: String,
    number_error: Option<String>,
    found: Option<Found>,
    letter_text: String,
    letter_default: bool,
    letter_error: Option<String>,
    flash: Option<String>,
}

/// What a failed form keeps.
#[derive(Default)]
struct Extras {
    number: String,
    number_error: Option<String>,
    letter_text: Option<String>,
    letter_error: Option<String>,
    flash: Option<String>,
}

async fn render_page(
    state: &AppState,
    v: &Viewer,
    chosen: Option<&str>,
    extras: Extras,
    code: StatusCode,
) -> Response {
    let (places, current) = match admin_places(state, v, chosen).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok((auth, _)) = v.require_staff() else {
        return v.fail(Error::unauthenticated());
    };
    let actor = &auth.actor;
    let s = &state.service;
    let overview = match s.response_overview(actor, &current.slug).await {
        Ok(o) => o,
        Err(e) => return v.fail(e),
    };
    let letter = match s.letter_settings(actor, &current.slug).await {
        Ok(l) => l,
        Err(e) => return v.fail(e),
    };
    let t = &v.t;
    let mut extras = extras;
    let mut found = None;
    if extras.number_error.is_none() && !extras.number.is_empty() {
        match s
            .invitation_by_number(actor, &current.slug, &extras.number)
            .await
        {
            Ok(i) => found = Some(Found::of(t, i)),
            Err(Error::NotFound { .. }) => {
                extras.number_error = Some(t.t("letters.page.not_found").to_owned());
            }
            Err(e) => return v.fail(e),
        }
    }
    let code = if extras.number_error.is_some() && code == StatusCode::OK {
        StatusCode::NOT_FOUND
    } else {
        code
    };
    let page = LettersPage {
        t: v.t,
        c: v.chrome("staff"),
        places,
        municipality: current.slug,
        municipality_name: current.name,
        panels: overview
            .panels
            .iter()
            .map(|p| FigureRow {
                id: format!("respons-{}", p.panel),
                cells: vec![p.panel_name.clone()],
                figures: figures(t, &p.figures),
            })
            .collect(),
        batches: overview.batches.iter().map(|b| batch_row(t, b)).collect(),
        number: extras.number,
        number_error: extras.number_error,
        found,
        letter_default: letter.text.is_none() && extras.letter_text.is_none(),
        letter_text: extras
            .letter_text
            .or(letter.text)
            .unwrap_or_else(|| t.t("letters.default_text").trim().to_owned()),
        letter_error: extras.letter_error,
        flash: extras.flash,
    };
    (code, render(&page)).into_response()
}

/// `GET /beheer/brieven?gemeente=SLUG[&nummer=NUMBER]`.
pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<LettersQuery>,
) -> Response {
    let flash = match q.ok.as_deref() {
        Some("revoked") => Some(v.t.with(
            "letters.page.revoked",
            "number",
            q.nummer.as_deref().unwrap_or_default(),
        )),
        Some("letter_saved") => Some(v.t.t("letters.page.letter_saved").to_owned()),
        Some("left") => Some(v.t.with(
            "letters.leave.done",
            "number",
            q.nummer.as_deref().unwrap_or_default(),
        )),
        Some("leave_unconfirmed") => Some(v.t.t("letters.leave.unconfirmed").to_owned()),
        Some("already_left") => Some(v.t.t("letters.leave.already").to_owned()),
        _ => None,
    };
    let extras = Extras {
        number: q.nummer.unwrap_or_default().trim().to_owned(),
        flash,
        ..Extras::default()
    };
    render_page(&state, &v, q.gemeente.as_deref(), extras, StatusCode::OK).await
}

/// The lost-code forms.
#[derive(Deserialize)]
pub struct NumberForm {
    #[serde(default)]
    gemeente: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    separator: String,
}

async fn number_failed(state: &AppState, v: &Viewer, form: &NumberForm, e: Error) -> Response {
    match e {
        e @ (Error::NotFound { .. } | Error::Conflict { .. } | Error::Invalid { .. })
            if e.code() != "municipality_not_found" =>
        {
            let code = crate::http::error::status_of(&e);
            let message = if matches!(e, Error::NotFound { .. }) {
                v.t.t("letters.page.not_found").to_owned()
            } else {
                v.t.error(e.code(), &e.message())
            };
            let extras = Extras {
                number: form.number.trim().to_owned(),
                number_error: Some(message),
                ..Extras::default()
            };
            render_page(state, v, Some(&form.gemeente), extras, code).await
        }
        e => v.fail(e),
    }
}

/// `POST /beheer/brieven/intrekken`: revokes the code of an invitation.
pub async fn revoke(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<NumberForm>,
) -> Response {
    let auth = match v.require_staff() {
        Ok((auth, _)) => auth,
        Err(r) => return r,
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state
        .service
        .revoke_invitation(&auth.actor, &form.gemeente, &form.number, &ctx)
        .await
    {
        Ok(i) => see_other(&format!(
            "/beheer/brieven?gemeente={}&nummer={}&ok=revoked",
            form.gemeente, i.number
        )),
        Err(e) => number_failed(&state, &v, &form, e).await,
    }
}

/// `POST /beheer/brieven/vervangen`: a new code for the panelist of an invitation,
/// answered with the page that holds its letter.
pub async fn replace(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<NumberForm>,
) -> Response {
    let auth = match v.require_staff() {
        Ok((auth, _)) => auth,
        Err(r) => return r,
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state
        .service
        .replace_invitation(&auth.actor, &form.gemeente, &form.number, &ctx)
        .await
    {
        Ok(batch) => made_page(
            &state,
            &v,
            &batch,
            Separator::parse(&form.separator).unwrap_or_default(),
        ),
        Err(e) => number_failed(&state, &v, &form, e).await,
    }
}

/// The letter-text form.
#[derive(Deserialize)]
pub struct TextForm {
    #[serde(default)]
    gemeente: String,
    #[serde(default)]
    text: String,
}

/// `POST /beheer/brieven/tekst`: stores the letter text.
pub async fn set_text(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<TextForm>,
) -> Response {
    let auth = match v.require_staff() {
        Ok((auth, _)) => auth,
        Err(r) => return r,
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state
        .service
        .set_letter_text(&auth.actor, &form.gemeente, &form.text, &ctx)
        .await
    {
        Ok(_) => see_other(&format!(
            "/beheer/brieven?gemeente={}&ok=letter_saved#brieftekst-kop",
            form.gemeente
        )),
        Err(e @ Error::Invalid { .. }) => {
            let code = crate::http::error::status_of(&e);
            let extras = Extras {
                letter_text: Some(form.text),
                letter_error: Some(v.t.error(e.code(), &e.message())),
                ..Extras::default()
            };
            render_page(&state, &v, Some(&form.gemeente), extras, code).await
        }
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "letters_made.html")]
struct MadePage {
    t: Tr,
    c: Chrome,
    municipality: String,
    heading: String,
    count: String,
    pdf_name: String,
    pdf_href: String,
    csv_name: String,
    csv_href: String,
}

/// The answer to a batch just made: one page whose two links hold the letters (PDF)
/// and the mail-merge sheet (CSV) as `data:` addresses, so both downloads come from
/// this answer and nothing keeps the codes afterwards. `no-store` keeps it out of the
/// browser's cache.
pub fn made_page(
    state: &AppState,
    v: &Viewer,
    batch: &IssuedBatch,
    separator: Separator,
) -> Response {
    let public_url = state.settings.public_url();
    let csv = match write_invitations_csv(&batch.invitations, public_url, separator, Vec::new()) {
        Ok(c) => c,
        Err(e) => return v.fail(e),
    };
    let pdf = crate::web::letters::batch_pdf(batch, public_url);
    let b64 = base64::engine::general_purpose::STANDARD;
    let t = &v.t;
    let heading_key = match batch.kind {
        BatchKind::Replacement => "letters.made.replacement_heading",
        _ => "letters.made.heading",
    };
    let number = match batch.kind {
        BatchKind::Replacement => batch
            .invitations
            .first()
            .map(|i| i.number.clone())
            .unwrap_or_default(),
        _ => batch.number.clone(),
    };
    let first = batch.invitations.first().map(|i| i.number.as_str());
    let last = batch.invitations.last().map(|i| i.number.as_str());
    let page = MadePage {
        t: v.t,
        c: v.chrome("staff"),
        municipality: batch.municipality_slug.clone(),
        heading: t.with(heading_key, "number", &number),
        count: t
            .n(
                if batch.invitations.len() == 1 {
                    "letters.made.count_one"
                } else {
                    "letters.made.count"
                },
                batch.invitations.len(),
            )
            .replace("{first}", first.unwrap_or_default())
            .replace("{last}", last.unwrap_or_default()),
        pdf_name: format!("brieven-{number}.pdf"),
        pdf_href: format!("data:application/pdf;base64,{}", b64.encode(&pdf)),
        csv_name: format!("brieven-{number}.csv"),
        csv_href: format!("data:text/csv;charset=utf-8;base64,{}", b64.encode(&csv)),
    };
    tracing::info!(
        batch.id = batch.id,
        count = batch.invitations.len(),
        "letters handed out"
    );
    let mut response = (StatusCode::OK, render(&page)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
