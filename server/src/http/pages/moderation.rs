//! The moderator's pages at `/moderatie`: the held and flagged queues of one
//! municipality with their live counts, claims, the actions (approve, hide, reject,
//! restore, redact, suspend or pre-moderate the author) as plain forms, the recently
//! handled list and the audit log. Every form answers with a redirect back to the queue
//! (with a confirmation and the next item as anchor), or re-renders the page with the
//! error beside the form it concerns and the typed text kept. `moderation.js` adds the
//! live counts and keyboard shortcuts.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Amsterdam;
use serde::Deserialize;

use super::{Chrome, SessionForm, Viewer, choices, render, see_other};
use crate::domain::{FlagReason, ModAction, PostStatus, Role};
use crate::http::AppState;
use crate::http::extract::{Path, Query};
use crate::service::moderation::{
    ActionInput, HandledItem, PremoderateInput, QueueItem, QueueKind, SuspendInput,
};
use crate::service::policy::StaffActor;
use crate::service::{AuditContext, Error};
use crate::web::i18n::Tr;
use crate::web::view::{local_time, paragraphs};

/// The moderation routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/moderatie", get(queue_page))
        .route("/moderatie/afgehandeld", get(handled_page))
        .route("/moderatie/audit", get(audit_page))
        .route("/moderatie/bericht/{id}", get(card_page))
        .route("/moderatie/bericht/{id}/{action}", post(act))
        .route("/moderatie/panellid/{id}/schorsen", post(suspend))
        .route("/moderatie/panellid/{id}/voormoderatie", post(premoderate))
}

/// Queue items per page.
const QUEUE_PAGE: u64 = 20;
/// Handled actions per page.
const HANDLED_PAGE: u64 = 50;
/// Audit entries per page.
const AUDIT_PAGE: u64 = 100;
/// Longest suspension in days (the service allows 2160 hours).
const MAX_SUSPEND_DAYS: u32 = 90;

/// The query of the moderation pages: which municipality, which queue, paging and a
/// confirmation key.
#[derive(Deserialize, Default)]
pub struct ModQuery {
    #[serde(default)]
    gemeente: Option<String>,
    #[serde(default)]
    wachtrij: Option<String>,
    #[serde(default)]
    na: Option<String>,
    #[serde(default)]
    voor: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

/// A municipality slug safe to put in a link, or `None`.
fn clean_slug(s: &str) -> Option<&str> {
    (!s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    .then_some(s)
}

/// `pending` or `flagged` from the query; held posts by default.
fn queue_kind(s: Option<&str>) -> QueueKind {
    match s {
        Some("flagged") => QueueKind::Flagged,
        _ => QueueKind::Pending,
    }
}

fn kind_word(k: QueueKind) -> &'static str {
    match k {
        QueueKind::Pending => "pending",
        QueueKind::Flagged => "flagged",
    }
}

/// The municipality as shown: its slug with a capital.
fn display_name(slug: &str) -> String {
    let mut chars = slug.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Slugs of the municipalities where the staff member holds `role` (admins hold all).
fn slugs_with(s: &StaffActor, role: Role) -> Vec<String> {
    let mut out: Vec<String> = s
        .roles
        .iter()
        .filter(|r| s.has_role(r.municipality_id, role))
        .map(|r| r.municipality.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The confirmation under `moderation.flash.KEY`, for a plain key.
fn flash(t: &Tr, ok: Option<&str>) -> Option<String> {
    ok.filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(|k| t.of("moderation.flash", k))
}

/// A page the viewer may not use: analysts without the moderator role, or admins-only
/// pages for moderators.
fn no_access(v: &Viewer, key: &str) -> Response {
    v.error_page(
        StatusCode::FORBIDDEN,
        v.t.t("error.forbidden_heading").to_owned(),
        v.t.t(key).to_owned(),
    )
}

/// A link in the municipality chooser.
struct Choice {
    href: String,
    name: String,
}

#[derive(Template)]
#[template(path = "mod_choose.html")]
struct ChoosePage {
    t: Tr,
    c: Chrome,
    heading: &'static str,
    choices: Vec<Choice>,
}

/// Which municipality a page is about, or the answer to give instead.
enum Pick {
    /// This municipality.
    Slug(String),
    /// A redirect, a chooser or a refusal.
    Answer(Response),
}

/// The municipality a page is about: the one asked for, the only one the viewer
/// works for (by redirect), or a chooser when there are several.
fn pick_municipality(
    v: &Viewer,
    s: &StaffActor,
    wanted: Option<&str>,
    role: Role,
    base: &str,
) -> Pick {
    if let Some(w) = wanted.filter(|w| !w.is_empty()) {
        return match clean_slug(w) {
            Some(slug) => Pick::Slug(slug.to_owned()),
            None => Pick::Answer(v.fail(Error::not_found("municipality_not_found"))),
        };
    }
    let slugs = slugs_with(s, role);
    match slugs.as_slice() {
        [] => Pick::Answer(no_access(
            v,
            if role == Role::Admin {
                "moderation.audit.no_access"
            } else {
                "moderation.no_access"
            },
        )),
        [one] => Pick::Answer(see_other(&format!("{base}?gemeente={one}"))),
        many => Pick::Answer(render(&ChoosePage {
            t: v.t,
            c: v.chrome("moderation"),
            heading: "moderation.choose.heading",
            choices: many
                .iter()
                .map(|slug| Choice {
                    href: format!("{base}?gemeente={slug}"),
                    name: display_name(slug),
                })
                .collect(),
        })),
    }
}

/// The tabs between the queues, the handled list and the audit log.
struct SubNav {
    slug: String,
    name: String,
    current: &'static str,
    is_admin: bool,
}

impl SubNav {
    fn new(s: &StaffActor, slug: &str, current: &'static str) -> SubNav {
        SubNav {
            slug: slug.to_owned(),
            name: display_name(slug),
            current,
            is_admin: slugs_with(s, Role::Admin).iter().any(|m| m == slug),
        }
    }
}

/// One queue tab with its count.
struct Tab {
    kind: &'static str,
    label: &'static str,
    count: u64,
    current: bool,
}

/// A dialog with a reason (hide, reject): its state after a failed attempt.
struct ReasonDialog {
    action: &'static str,
    summary: &'static str,
    legend: &'static str,
    submit: &'static str,
    open: bool,
    error: Option<String>,
    /// `reason` or `note`: the field the error belongs to.
    error_on: &'static str,
    reason: String,
    note: String,
}

impl ReasonDialog {
    fn new(action: &'static str) -> ReasonDialog {
        ReasonDialog {
            action,
            summary: if action == "hide" {
                "moderation.hide.summary"
            } else {
                "moderation.reject.summary"
            },
            legend: if action == "hide" {
                "moderation.hide.legend"
            } else {
                "moderation.reject.legend"
            },
            submit: if action == "hide" {
                "moderation.hide.submit"
            } else {
                "moderation.reject.submit"
            },
            open: false,
            error: None,
            error_on: "",
            reason: String::new(),
            note: String::new(),
        }
    }

    /// Whether the radio of `reason` is chosen.
    fn checked(&self, reason: &str) -> bool {
        self.reason == reason
    }
}

/// A form that failed, to show beside the form with what was typed.
#[derive(Default)]
struct ItemError {
    post_id: i64,
    /// `claim`, `release`, `approve`, `hide`, `reject`, `restore`, `redact`, `suspend`,
    /// `premoderate`.
    action: String,
    /// Which field the error belongs to (`reason`, `note`, `body`, `days`), if any.
    field: &'static str,
    message: String,
    reason: String,
    note: String,
    body: String,
    days: String,
}

/// Flags of one reason, labelled.
struct FlagRow {
    label: String,
    count: i64,
    notes: Vec<String>,
}

/// A queue item ready for the template.
struct ItemView {
    id: i64,
    case_id: i64,
    case_title: String,
    author: String,
    panelist_id: i64,
    when: String,
    iso: String,
    state_key: &'static str,
    state_label: String,
    paragraphs: Vec<String>,
    body: String,
    held: Vec<String>,
    flags: Vec<FlagRow>,
    claim: Option<String>,
    claimed_by_me: bool,
    /// What approving does to this post, in words: approve a held post, keep a visible
    /// one visible, make a hidden one visible again.
    approve_label: &'static str,
    /// The revision on screen, sent with approve so it applies to this text only.
    revision: i32,
    /// "Changed by the author", when the text on screen is not the first version.
    edited: Option<String>,
    next: String,
    action_error: Option<String>,
    dialogs: Vec<ReasonDialog>,
    redact_open: bool,
    redact_error: Option<String>,
    suspend_open: bool,
    suspend_error: Option<String>,
    suspend_error_on: &'static str,
    suspend_days: String,
    suspend_reason: String,
}

fn hhmm(at: DateTime<Utc>) -> String {
    at.with_timezone(&Amsterdam).format("%H:%M").to_string()
}

fn item_view(t: &Tr, me: &StaffActor, q: QueueItem, next: String) -> ItemView {
    let claimed_by_me = q.claimed_by.as_deref() == Some(me.name.as_str());
    let claim = match (&q.claimed_by, q.claimed_until) {
        (Some(_), Some(until)) if claimed_by_me => {
            Some(t.with("moderation.item.claimed_by_me", "time", hhmm(until)))
        }
        (Some(name), Some(until)) => Some(
            t.with("moderation.item.claimed_by", "name", name)
                .replace("{time}", &hhmm(until)),
        ),
        _ => None,
    };
    let body = q.post.body.clone().unwrap_or_default();
    let mut hide = ReasonDialog::new("hide");
    if q.post.status == PostStatus::Hidden {
        // Already hidden (by flags or a moderator): the moderator keeps it hidden with
        // their own reason, which the author reads.
        hide.summary = "moderation.hide.summary_hidden";
        hide.submit = "moderation.hide.submit_hidden";
    }
    let mut dialogs = vec![hide];
    if q.post.status == PostStatus::Pending {
        dialogs.push(ReasonDialog::new("reject"));
    }
    ItemView {
        id: q.post.id,
        case_id: q.post.case_id,
        case_title: q.case_title,
        author: q.post.author.clone(),
        panelist_id: q.panelist_id,
        when: local_time(q.post.created_at),
        iso: q.post.created_at.to_rfc3339(),
        state_key: q.post.status.as_str(),
        state_label: t.of("poststatus", q.post.status.as_str()),
        paragraphs: paragraphs(&body),
        body,
        held: q
            .held_reasons
            .iter()
            .map(|r| t.error(&format!("held_{}", r.code), &r.message))
            .collect(),
        flags: q
            .flags
            .iter()
            .map(|f| FlagRow {
                label: t.of("reason", f.reason.as_str()),
                count: f.count,
                notes: f.notes.clone(),
            })
            .collect(),
        claim,
        claimed_by_me,
        approve_label: match q.post.status {
            PostStatus::Visible => "moderation.item.keep_visible",
            PostStatus::Hidden | PostStatus::Rejected => "moderation.item.make_visible",
            _ => "moderation.item.approve",
        },
        revision: q.post.revision_count,
        edited: (q.post.revision_count > 1)
            .then(|| t.n("moderation.item.edited", q.post.revision_count)),
        next,
        action_error: None,
        dialogs,
        redact_open: false,
        redact_error: None,
        suspend_open: false,
        suspend_error: None,
        suspend_error_on: "",
        suspend_days: String::new(),
        suspend_reason: String::new(),
    }
}

/// Puts a failed form's error and text back on its item; gives the error back if the
/// item is not on this page.
fn attach_error(items: &mut [ItemView], e: ItemError) -> Option<ItemError> {
    let Some(item) = items.iter_mut().find(|i| i.id == e.post_id) else {
        return Some(e);
    };
    match e.action.as_str() {
        "hide" | "reject" => {
            if let Some(d) = item.dialogs.iter_mut().find(|d| d.action == e.action) {
                d.open = true;
                d.error = Some(e.message);
                d.error_on = if e.field == "note" { "note" } else { "reason" };
                d.reason = e.reason;
                d.note = e.note;
            } else {
                item.action_error = Some(e.message);
            }
        }
        "redact" => {
            item.redact_open = true;
            item.redact_error = Some(e.message);
            item.body = e.body;
        }
        "suspend" => {
            item.suspend_open = true;
            item.suspend_error = Some(e.message);
            item.suspend_error_on = if e.field == "days" { "days" } else { "reason" };
            item.suspend_days = e.days;
            item.suspend_reason = e.reason;
        }
        _ => item.action_error = Some(e.message),
    }
    None
}

#[derive(Template)]
#[template(path = "mod_queue.html")]
struct QueuePageView {
    t: Tr,
    c: Chrome,
    nav: SubNav,
    kind: &'static str,
    tabs: Vec<Tab>,
    heading: &'static str,
    empty: &'static str,
    items: Vec<ItemView>,
    next_cursor: Option<i64>,
    flash: Option<String>,
    page_error: Option<String>,
    reasons: Vec<(&'static str, String)>,
    max_days: u32,
    /// Where a form returns to (empty: the queue).
    back: String,
}

/// Renders a queue, with a failed form if any.
#[allow(clippy::too_many_arguments)]
async fn render_queue(
    state: &AppState,
    v: &Viewer,
    s: &StaffActor,
    slug: &str,
    kind: QueueKind,
    after: i64,
    ok: Option<&str>,
    error: Option<ItemError>,
    status: StatusCode,
) -> Response {
    let Some(auth) = &v.auth else {
        return see_other("/inloggen");
    };
    let actor = &auth.actor;
    let counts = match state.service.queue_counts(actor, slug).await {
        Ok(c) => c,
        Err(e) => return v.fail(e),
    };
    let page = match state
        .service
        .queue(actor, slug, kind, after, QUEUE_PAGE)
        .await
    {
        Ok(p) => p,
        Err(e) => return v.fail(e),
    };
    let ids: Vec<i64> = page.items.iter().map(|i| i.post.id).collect();
    let mut items: Vec<ItemView> = page
        .items
        .into_iter()
        .enumerate()
        .map(|(i, q)| {
            // After handling an item the moderator lands on the one after it (or the
            // one before, for the last).
            let next = ids
                .get(i + 1)
                .or_else(|| i.checked_sub(1).and_then(|p| ids.get(p)))
                .map(|id| format!("item-{id}"))
                .unwrap_or_else(|| "wachtrij-kop".to_owned());
            item_view(&v.t, s, q, next)
        })
        .collect();
    let page_error = match error {
        Some(e) => attach_error(&mut items, e).map(|e| e.message),
        None => None,
    };
    let current = kind_word(kind);
    let view = QueuePageView {
        t: v.t,
        c: v.chrome("moderation"),
        nav: SubNav::new(s, slug, "queue"),
        kind: current,
        tabs: vec![
            Tab {
                kind: "pending",
                label: "moderation.queue.pending",
                count: counts.pending,
                current: current == "pending",
            },
            Tab {
                kind: "flagged",
                label: "moderation.queue.flagged",
                count: counts.flagged,
                current: current == "flagged",
            },
        ],
        heading: if kind == QueueKind::Pending {
            "moderation.queue.pending_heading"
        } else {
            "moderation.queue.flagged_heading"
        },
        empty: if kind == QueueKind::Pending {
            "moderation.queue.pending_empty"
        } else {
            "moderation.queue.flagged_empty"
        },
        items,
        next_cursor: page.next_cursor,
        flash: flash(&v.t, ok),
        page_error,
        reasons: choices(FlagReason::CHOICES, FlagReason::as_str, "reason"),
        max_days: MAX_SUSPEND_DAYS,
        back: String::new(),
    };
    (status, render(&view)).into_response()
}

/// One post's moderation card, reached from the thread or the watch page.
#[derive(Template)]
#[template(path = "mod_post.html")]
struct CardPageView {
    t: Tr,
    c: Chrome,
    nav: SubNav,
    kind: &'static str,
    item: ItemView,
    flash: Option<String>,
    page_error: Option<String>,
    reasons: Vec<(&'static str, String)>,
    max_days: u32,
    back: String,
}

/// Renders one post's card, with a failed form if any.
async fn render_card(
    state: &AppState,
    v: &Viewer,
    s: &StaffActor,
    post_id: i64,
    ok: Option<&str>,
    error: Option<ItemError>,
    status: StatusCode,
) -> Response {
    let Some(auth) = &v.auth else {
        return see_other("/inloggen");
    };
    let (item, slug) = match state.service.moderation_item(&auth.actor, post_id).await {
        Ok(found) => found,
        Err(e) => return v.fail(e),
    };
    let mut items = vec![item_view(&v.t, s, item, String::new())];
    let page_error = match error {
        Some(e) => attach_error(&mut items, e).map(|e| e.message),
        None => None,
    };
    let Some(item) = items.pop() else {
        return v.fail(Error::not_found("post_not_found"));
    };
    let view = CardPageView {
        t: v.t,
        c: v.chrome("moderation"),
        nav: SubNav::new(s, &slug, "queue"),
        kind: "",
        item,
        flash: flash(&v.t, ok),
        page_error,
        reasons: choices(FlagReason::CHOICES, FlagReason::as_str, "reason"),
        max_days: MAX_SUSPEND_DAYS,
        back: format!("bericht-{post_id}"),
    };
    (status, render(&view)).into_response()
}

/// `?ok=ACTION` confirms what was just done.
#[derive(Deserialize, Default)]
pub struct CardQuery {
    #[serde(default)]
    ok: Option<String>,
}

/// `GET /moderatie/bericht/{id}`: any post of the moderator's municipality as a card
/// (hide, redact, suspend its author), queued or not.
pub async fn card_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<CardQuery>,
) -> Response {
    let (_, s) = match v.require_staff() {
        Ok(x) => x,
        Err(r) => return r,
    };
    render_card(&state, &v, s, id, q.ok.as_deref(), None, StatusCode::OK).await
}

/// `GET /moderatie?gemeente=SLUG&wachtrij=pending|flagged`: a queue with its items.
pub async fn queue_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ModQuery>,
) -> Response {
    let (_, s) = match v.require_staff() {
        Ok(x) => x,
        Err(r) => return r,
    };
    let slug = match pick_municipality(&v, s, q.gemeente.as_deref(), Role::Moderator, "/moderatie")
    {
        Pick::Slug(slug) => slug,
        Pick::Answer(r) => return r,
    };
    let after =
        q.na.as_deref()
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0);
    render_queue(
        &state,
        &v,
        s,
        &slug,
        queue_kind(q.wachtrij.as_deref()),
        after,
        q.ok.as_deref(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The fields of every action form (each form sends those it has).
#[derive(Deserialize, Default)]
pub struct ActForm {
    #[serde(default)]
    gemeente: String,
    #[serde(default)]
    wachtrij: String,
    /// Anchor to land on after the action (`item-ID` or `wachtrij-kop`).
    #[serde(default)]
    volgende: String,
    /// `afgehandeld` when the form sits on the handled list.
    #[serde(default)]
    terug: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    on: String,
    /// The queue item a form about its author sits on.
    #[serde(default)]
    post: String,
    /// The revision of the post the moderator read, for approve and restore.
    #[serde(default)]
    revision: String,
}

fn nonempty(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Where to return after an action, with the confirmation and anchor.
fn back_to(form: &ActForm, ok: &str, anchor: &str) -> String {
    if let Some(id) = card_of(form) {
        return format!("/moderatie/bericht/{id}?ok={ok}#melding");
    }
    let slug = clean_slug(&form.gemeente).unwrap_or_default();
    if form.terug == "afgehandeld" {
        return format!("/moderatie/afgehandeld?gemeente={slug}&ok={ok}#afgehandeld-kop");
    }
    let kind = kind_word(queue_kind(Some(form.wachtrij.as_str())));
    let anchor = if anchor.starts_with("item-") || anchor == "wachtrij-kop" {
        anchor
    } else {
        "wachtrij-kop"
    };
    format!("/moderatie?gemeente={slug}&wachtrij={kind}&ok={ok}#{anchor}")
}

/// The post whose card the form sits on (`terug=bericht-ID`), if any.
fn card_of(form: &ActForm) -> Option<i64> {
    form.terug.strip_prefix("bericht-")?.parse().ok()
}

/// The field a service error belongs to.
fn field_of(code: &str) -> &'static str {
    match code {
        "note_required" | "note_too_long" => "note",
        "reason_required" | "invalid_reason" => "reason",
        "body_too_long" => "body",
        "invalid_hours" => "days",
        _ => "",
    }
}

/// Re-renders the page the form came from with its error.
async fn failed(
    state: &AppState,
    v: &Viewer,
    form: &ActForm,
    error: ItemError,
    status: StatusCode,
) -> Response {
    let s = match v.require_staff() {
        Ok((_, s)) => s,
        Err(r) => return r,
    };
    if let Some(id) = card_of(form) {
        return render_card(state, v, s, id, None, Some(error), status).await;
    }
    let Some(slug) = clean_slug(&form.gemeente) else {
        return v.fail(Error::not_found("municipality_not_found"));
    };
    if form.terug == "afgehandeld" {
        return render_handled(state, v, s, slug, None, None, Some(error), status).await;
    }
    render_queue(
        state,
        v,
        s,
        slug,
        queue_kind(Some(form.wachtrij.as_str())),
        0,
        None,
        Some(error),
        status,
    )
    .await
}

/// Whether a service error belongs beside the form (rather than on an error page).
fn form_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Invalid { .. }
            | Error::Conflict { .. }
            | Error::RateLimited { .. }
            | Error::Unavailable { .. }
    )
}

/// `POST /moderatie/bericht/{id}/{action}`: claim, release, approve, hide, reject,
/// restore or redact a post.
pub async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    SessionForm { viewer: v, form }: SessionForm<ActForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let actor = &auth.actor;
    let result = match action.as_str() {
        "claim" => state.service.claim_post(actor, id).await.map(|_| ()),
        "release" => state.service.release_post(actor, id).await.map(|_| ()),
        other => {
            let Some(act) = ModAction::parse(other) else {
                return v.fail(Error::not_found("not_found"));
            };
            let input = ActionInput {
                reason: nonempty(&form.reason),
                note: nonempty(&form.note),
                body: if act == ModAction::Redact {
                    nonempty(&form.body)
                } else {
                    None
                },
                revision: form.revision.trim().parse().ok(),
            };
            let ctx = AuditContext::new(actor, v.ip);
            state
                .service
                .moderate_post(actor, id, act, input, &ctx)
                .await
                .map(|_| ())
        }
    };
    match result {
        Ok(()) => {
            // Claims and redactions keep the item in the queue: stay on it.
            let anchor = if matches!(action.as_str(), "claim" | "release" | "redact") {
                format!("item-{id}")
            } else {
                form.volgende.clone()
            };
            see_other(&back_to(&form, &action, &anchor))
        }
        Err(e) if form_error(&e) => {
            let status = crate::http::error::status_of(&e);
            let error = ItemError {
                post_id: id,
                action: action.clone(),
                field: field_of(e.code()),
                message: v.t.error(e.code(), &e.message()),
                reason: form.reason.clone(),
                note: form.note.clone(),
                body: form.body.clone(),
                days: String::new(),
            };
            failed(&state, &v, &form, error, status).await
        }
        Err(e) => v.fail(e),
    }
}

/// `POST /moderatie/panellid/{id}/schorsen`: suspends the author of a queue item for
/// some days, with a reason they will read.
pub async fn suspend(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<ActForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let post_id = form.post.parse::<i64>().unwrap_or_default();
    let fail_with = |field: &'static str, message: String| ItemError {
        post_id,
        action: "suspend".into(),
        field,
        message,
        reason: form.reason.clone(),
        days: form.days.clone(),
        ..ItemError::default()
    };
    let days = match form.days.trim().parse::<u32>() {
        Ok(d) if (1..=MAX_SUSPEND_DAYS).contains(&d) => d,
        _ => {
            let error = fail_with(
                "days",
                v.t.n("moderation.suspend.days_invalid", MAX_SUSPEND_DAYS),
            );
            return failed(&state, &v, &form, error, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let input = SuspendInput {
        hours: days * 24,
        reason: nonempty(&form.reason),
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state
        .service
        .suspend_panelist(&auth.actor, id, input, &ctx)
        .await
    {
        Ok(()) => see_other(&back_to(&form, "suspend", &format!("item-{post_id}"))),
        Err(e) if form_error(&e) => {
            let status = crate::http::error::status_of(&e);
            let error = fail_with(field_of(e.code()), v.t.error(e.code(), &e.message()));
            failed(&state, &v, &form, error, status).await
        }
        Err(e) => v.fail(e),
    }
}

/// `POST /moderatie/panellid/{id}/voormoderatie`: holds every later post of the author
/// for a moderator (`on=1`), or stops doing so (`on=0`).
pub async fn premoderate(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<ActForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let on = form.on == "1";
    let post_id = form.post.parse::<i64>().unwrap_or_default();
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state
        .service
        .premoderate_panelist(&auth.actor, id, PremoderateInput { on }, &ctx)
        .await
    {
        Ok(()) => see_other(&back_to(
            &form,
            if on {
                "premoderate_on"
            } else {
                "premoderate_off"
            },
            &format!("item-{post_id}"),
        )),
        Err(e) if form_error(&e) => {
            let status = crate::http::error::status_of(&e);
            let error = ItemError {
                post_id,
                action: "premoderate".into(),
                message: v.t.error(e.code(), &e.message()),
                ..ItemError::default()
            };
            failed(&state, &v, &form, error, status).await
        }
        Err(e) => v.fail(e),
    }
}

/// A row of the handled list.
struct HandledRow {
    item: HandledItem,
    when: String,
    iso: String,
    action_label: String,
    reason_label: String,
    can_restore: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "mod_handled.html")]
struct HandledPageView {
    t: Tr,
    c: Chrome,
    nav: SubNav,
    rows: Vec<HandledRow>,
    next_cursor: Option<i64>,
    flash: Option<String>,
    page_error: Option<String>,
}

/// Renders the handled list, with a failed restore if any.
#[allow(clippy::too_many_arguments)]
async fn render_handled(
    state: &AppState,
    v: &Viewer,
    s: &StaffActor,
    slug: &str,
    before: Option<i64>,
    ok: Option<&str>,
    error: Option<ItemError>,
    status: StatusCode,
) -> Response {
    let Some(auth) = &v.auth else {
        return see_other("/inloggen");
    };
    let page = match state
        .service
        .handled(&auth.actor, slug, before, HANDLED_PAGE)
        .await
    {
        Ok(p) => p,
        Err(e) => return v.fail(e),
    };
    let mut seen: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut error = error;
    let rows: Vec<HandledRow> = page
        .items
        .into_iter()
        .map(|item| {
            // Only a post's latest action can be undone, and only a hide or reject.
            let latest = item.post_id.is_some_and(|p| seen.insert(p));
            let can_restore = latest && matches!(item.action.as_str(), "hide" | "reject");
            let row_error = if can_restore && error.as_ref().map(|e| e.post_id) == item.post_id {
                error.take().map(|e| e.message)
            } else {
                None
            };
            HandledRow {
                when: local_time(item.at),
                iso: item.at.to_rfc3339(),
                action_label: v.t.of("moderation.action", &item.action),
                reason_label: item
                    .reason
                    .as_deref()
                    .map(|r| v.t.of("reason", r))
                    .unwrap_or_default(),
                can_restore,
                error: row_error,
                item,
            }
        })
        .collect();
    let view = HandledPageView {
        t: v.t,
        c: v.chrome("moderation"),
        nav: SubNav::new(s, slug, "handled"),
        rows,
        next_cursor: page.next_cursor,
        flash: flash(&v.t, ok),
        page_error: error.map(|e| e.message),
    };
    (status, render(&view)).into_response()
}

/// `GET /moderatie/afgehandeld?gemeente=SLUG`: recent actions, newest first, with a
/// button to restore a hidden or rejected post.
pub async fn handled_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ModQuery>,
) -> Response {
    let (_, s) = match v.require_staff() {
        Ok(x) => x,
        Err(r) => return r,
    };
    let slug = match pick_municipality(
        &v,
        s,
        q.gemeente.as_deref(),
        Role::Moderator,
        "/moderatie/afgehandeld",
    ) {
        Pick::Slug(slug) => slug,
        Pick::Answer(r) => return r,
    };
    let before = q.voor.as_deref().and_then(|n| n.parse::<i64>().ok());
    render_handled(
        &state,
        &v,
        s,
        &slug,
        before,
        q.ok.as_deref(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A row of the audit table.
struct AuditRow {
    when: String,
    iso: String,
    actor: String,
    /// The action in words (the code itself when the catalogue has no words for it).
    action_label: String,
    action: String,
    object: String,
    result_label: String,
    denied: bool,
    origin: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "mod_audit.html")]
struct AuditPageView {
    t: Tr,
    c: Chrome,
    nav: SubNav,
    rows: Vec<AuditRow>,
    next_cursor: Option<i64>,
    export_href: String,
}

/// `GET /moderatie/audit?gemeente=SLUG&voor=ID`: the municipality's audit log, newest
/// first: all of it with a CSV download for admins, the moderation entries for moderators.
pub async fn audit_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ModQuery>,
) -> Response {
    let (auth, s) = match v.require_staff() {
        Ok(x) => x,
        Err(r) => return r,
    };
    let slug = match pick_municipality(
        &v,
        s,
        q.gemeente.as_deref(),
        Role::Moderator,
        "/moderatie/audit",
    ) {
        Pick::Slug(slug) => slug,
        Pick::Answer(r) => return r,
    };
    let before = q.voor.as_deref().and_then(|n| n.parse::<i64>().ok());
    let page = match state
        .service
        .audit_page(&auth.actor, &slug, before, AUDIT_PAGE)
        .await
    {
        Ok(p) => p,
        Err(Error::Forbidden { .. }) => return no_access(&v, "moderation.audit.no_access"),
        Err(e) => return v.fail(e),
    };
    let rows = page
        .entries
        .into_iter()
        .map(|e| AuditRow {
            when: local_time(e.at),
            iso: e.at.to_rfc3339(),
            actor: match e.actor_id {
                Some(id) => format!("{} #{id}", v.t.of("moderation.audit.actor", &e.actor_kind)),
                None => v.t.of("moderation.audit.actor", &e.actor_kind),
            },
            action_label: v.t.of("moderation.audit.actions", &e.action),
            action: e.action,
            object: match e.object_id {
                Some(id) => format!("{} {id}", e.object_type),
                None => e.object_type,
            },
            result_label: v.t.of("moderation.audit.result", &e.result),
            denied: e.result != "ok",
            origin: e.origin.unwrap_or_default(),
            detail: match &e.detail {
                serde_json::Value::Null => String::new(),
                serde_json::Value::Object(m) if m.is_empty() => String::new(),
                d => d.to_string(),
            },
        })
        .collect();
    render(&AuditPageView {
        t: v.t,
        c: v.chrome("moderation"),
        nav: SubNav::new(s, &slug, "audit"),
        rows,
        next_cursor: page.next_cursor,
        export_href: format!("/api/v1/audit/export?municipality={slug}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_checked_before_they_reach_a_link() {
        assert_eq!(clean_slug("utrecht"), Some("utrecht"));
        assert_eq!(clean_slug("den-haag2"), Some("den-haag2"));
        assert_eq!(clean_slug(""), None);
        assert_eq!(clean_slug("a&b=c"), None);
        assert_eq!(clean_slug("Utrecht"), None);
    }

    #[test]
    fn after_an_action_the_moderator_lands_on_the_next_item() {
        let form = ActForm {
            gemeente: "utrecht".into(),
            wachtrij: "flagged".into(),
            ..ActForm::default()
        };
        assert_eq!(
            back_to(&form, "approve", "item-12"),
            "/moderatie?gemeente=utrecht&wachtrij=flagged&ok=approve#item-12"
        );
        assert_eq!(
            back_to(&form, "hide", "javascript:x"),
            "/moderatie?gemeente=utrecht&wachtrij=flagged&ok=hide#wachtrij-kop"
        );
        let handled = ActForm {
            gemeente: "utrecht".into(),
            terug: "afgehandeld".into(),
            ..ActForm::default()
        };
        assert!(back_to(&handled, "restore", "").starts_with("/moderatie/afgehandeld?"));
    }

    #[test]
    fn municipality_names_get_a_capital() {
        assert_eq!(display_name("zoetermeer"), "Zoetermeer");
        assert_eq!(display_name(""), "");
    }
}
