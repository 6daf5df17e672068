//! The panelist's pages: my cases, a case with its thread, and the forms to give a
//! verdict, reply, weigh, flag, edit and withdraw. Every form answers with a redirect
//! back to the post it concerns, or re-renders the page with the error beside the field
//! and the typed text kept.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, SessionForm, Viewer, choices, render, see_other};
use crate::domain::{AgeBand, CaseStatus, FlagReason, Verdict, WmoExperience};
use crate::http::AppState;
use crate::http::extract::{Path, Query};
use crate::service::analysis::CaseOutcome;
use crate::service::cases::{CaseSummary, CaseView};
use crate::service::policy::Actor;
use crate::service::posts::{
    ContestInput, EditPostInput, FlagInput, NewPostInput, PostView, WeighingInput,
};
use crate::service::profile::{ProfileInput, ProfileView};
use crate::service::{AuditContext, Error};
use crate::web::i18n::Tr;
use crate::web::view::{ErrorSummary, PostItem, local_date, local_time, paragraphs};

/// The panelist's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/casus/{id}", get(case_page))
        .route("/casus/{id}/reactie", post(post_reaction))
        .route("/casus/{id}/antwoord", post(post_reply))
        .route("/casus/{id}/berichten", get(posts_fragment))
        .route("/bericht/{id}/waardering", post(weigh))
        .route("/bericht/{id}/melding", post(flag))
        .route("/bericht/{id}/bezwaar", post(contest))
        .route("/bericht/{id}/intrekken", get(withdraw_page).post(withdraw))
        .route("/bericht/{id}/bewerken", get(edit_page).post(edit))
        .route("/profiel", get(profile_page).post(save_profile))
        .route("/huisregels", get(rules_page).post(accept_rules))
        .route("/privacy", get(privacy_page))
}

/// Posts shown per page of a thread.
const THREAD_PAGE: u64 = 100;

struct CaseGroup {
    key: &'static str,
    heading: &'static str,
    empty: &'static str,
    cases: Vec<CaseCard>,
}

struct CaseCard {
    id: i64,
    title: String,
    summary: String,
    outcome_key: String,
    when: String,
    link: bool,
    /// The reader's own posts here that others cannot read, as notices.
    notices: Vec<String>,
}

#[derive(Template)]
#[template(path = "my_cases.html")]
struct MyCasesPage {
    t: Tr,
    c: Chrome,
    groups: Vec<CaseGroup>,
    suspended: Option<String>,
}

fn suspension_notice(t: &Tr, actor: &Actor, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    match actor {
        // The reason the moderator gave, which the suspension form promises is shown.
        Actor::Panelist(p) => p.suspended_until.filter(|until| *until > now).map(|until| {
            let mut notice = t.with("panel.suspended", "until", local_time(until));
            if let Some(reason) = p.suspended_reason.as_deref().filter(|r| !r.is_empty()) {
                notice.push(' ');
                notice.push_str(&t.with("panel.suspended_reason", "reason", reason));
            }
            notice
        }),
        Actor::Staff(_) => None,
    }
}

fn card(t: &Tr, c: CaseSummary) -> CaseCard {
    let when = match c.status {
        CaseStatus::Scheduled => c
            .opens_at
            .map(|at| t.with("mycases.opens", "date", local_time(at))),
        CaseStatus::Open => c
            .closes_at
            .map(|at| t.with("mycases.closes", "date", local_time(at))),
        _ => c
            .closes_at
            .map(|at| t.with("mycases.closed", "date", local_date(at))),
    };
    CaseCard {
        id: c.id,
        link: c.status != CaseStatus::Scheduled,
        title: c.title,
        summary: c.summary,
        outcome_key: format!("outcome.{}", c.outcome.as_str()),
        when: when.unwrap_or_default(),
        notices: Vec::new(),
    }
}

/// The panelist's start page: open, upcoming and closed cases.
pub async fn my_cases(state: &AppState, v: &Viewer) -> Response {
    let Some(auth) = &v.auth else {
        return see_other("/");
    };
    // The house rules come first, once: until a panelist accepted them, the start page
    // is the rules.
    match state.service.house_rules_accepted(&auth.actor).await {
        Ok(true) => {}
        Ok(false) => return see_other("/huisregels"),
        Err(e) => return v.fail(e),
    }
    let list = match state.service.list_cases(&auth.actor, None).await {
        Ok(l) => l,
        Err(e) => return v.fail(e),
    };
    let mut groups = vec![
        CaseGroup {
            key: "open",
            heading: "mycases.open",
            empty: "mycases.none_open",
            cases: vec![],
        },
        CaseGroup {
            key: "binnenkort",
            heading: "mycases.upcoming",
            empty: "mycases.none_upcoming",
            cases: vec![],
        },
        CaseGroup {
            key: "gesloten",
            heading: "mycases.closed_heading",
            empty: "mycases.none_closed",
            cases: vec![],
        },
    ];
    let unseen = match state.service.my_unseen_posts(&auth.actor).await {
        Ok(u) => u,
        Err(e) => return v.fail(e),
    };
    for c in list {
        let mut notices = Vec::new();
        if let Some(u) = unseen.get(&c.id) {
            if u.held > 0 {
                notices.push(v.t.n("mycases.held", u.held));
            }
            if u.hidden > 0 {
                notices.push(v.t.n("mycases.hidden", u.hidden));
            }
        }
        let i = match c.status {
            CaseStatus::Open => 0,
            CaseStatus::Scheduled => 1,
            _ => 2,
        };
        let mut card = card(&v.t, c);
        card.notices = notices;
        groups[i].cases.push(card);
    }
    render(&MyCasesPage {
        t: v.t,
        c: v.chrome("panel"),
        suspended: suspension_notice(&v.t, &auth.actor, state.service.now()),
        groups,
    })
}

/// What the verdict form holds after a failed attempt.
#[derive(Default)]
struct VerdictForm {
    verdict: String,
    body: String,
    error: Option<String>,
    verdict_error: Option<String>,
    body_error: Option<String>,
}

/// A reply that was not accepted: to which post, why, and its text.
struct ReplyError {
    parent_id: i64,
    message: String,
    body: String,
}

/// A flag that was not accepted: of which post, why, and what was chosen and typed.
struct FlagError {
    post_id: i64,
    message: String,
    reason: String,
    note: String,
}

/// What went wrong on the case page, shown beside the form concerned and summed up at
/// the top of the page.
#[derive(Default)]
struct Failed {
    verdict: VerdictForm,
    reply: Option<ReplyError>,
    flag: Option<FlagError>,
    /// An objection to a moderator's decision that was not accepted: post, why, text.
    contest: Option<(i64, String, String)>,
    /// Something about one post that is no form field (a weighing that could not be
    /// taken), linked to the post.
    post: Option<(i64, String)>,
}

impl Failed {
    fn summary(&self) -> ErrorSummary {
        let mut s = ErrorSummary::default();
        let v = &self.verdict;
        if let Some(e) = &v.error {
            s.add("oordeel-fout", e.clone());
        }
        if let Some(e) = &v.verdict_error {
            s.add("oordeel-eens", e.clone());
        }
        if let Some(e) = &v.body_error {
            s.add("reden", e.clone());
        }
        if let Some(r) = &self.reply {
            s.add(format!("antwoord-{}", r.parent_id), r.message.clone());
        }
        if let Some(f) = &self.flag {
            s.add(
                format!("melding-{}-toelichting", f.post_id),
                f.message.clone(),
            );
        }
        if let Some((id, message, _)) = &self.contest {
            s.add(format!("bezwaar-{id}"), message.clone());
        }
        if let Some((id, message)) = &self.post {
            s.add(format!("bericht-{id}"), message.clone());
        }
        s
    }
}

/// One correction of the case text, as the case page shows it.
struct ErratumLine {
    date: String,
    note: String,
}

/// The corrections of a case's text, shown beside the parts they changed.
struct Errata(Vec<(Vec<String>, ErratumLine)>);

impl Errata {
    fn of_case(case: &CaseView) -> Errata {
        Errata(
            case.corrections
                .iter()
                .map(|c| {
                    (
                        c.fields.clone(),
                        ErratumLine {
                            date: local_date(c.at),
                            note: c.note.clone(),
                        },
                    )
                })
                .collect(),
        )
    }

    /// The corrections that changed `field`, oldest first.
    fn of(&self, field: &str) -> Vec<&ErratumLine> {
        self.0
            .iter()
            .filter(|(fields, _)| fields.iter().any(|f| f == field))
            .map(|(_, line)| line)
            .collect()
    }

    /// The corrections of the heading: title, provision or summary.
    fn heading(&self) -> Vec<&ErratumLine> {
        self.0
            .iter()
            .filter(|(fields, _)| {
                fields
                    .iter()
                    .any(|f| matches!(f.as_str(), "title" | "provision" | "summary"))
            })
            .map(|(_, line)| line)
            .collect()
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    t: Tr,
    c: Chrome,
    case: CaseView,
    errata: Errata,
    back_href: &'static str,
    back_label: &'static str,
    domain_key: String,
    outcome_key: String,
    status_key: String,
    period: String,
    situation: Vec<String>,
    decision: Vec<String>,
    suspended: Option<String>,
    flash: Option<String>,
    outcome: Option<CaseOutcome>,
    outcome_rows: Vec<(String, u64, String)>,
    show_verdict_form: bool,
    verdict_form: VerdictForm,
    verdict_choices: Vec<(&'static str, String)>,
    length_hint: String,
    posts: Vec<PostItem>,
    next_cursor: Option<String>,
    interactive: bool,
    can_write: bool,
    show_state: bool,
    max_depth: i32,
    flag_reasons: Vec<(&'static str, String)>,
    idem: String,
    errors: ErrorSummary,
    moderate: bool,
}

/// `?na=CURSOR` pages the thread; `?ok=KEY` shows a confirmation.
#[derive(Deserialize, Default)]
pub struct CaseQuery {
    #[serde(default)]
    na: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

fn flag_reasons() -> Vec<(&'static str, String)> {
    choices(FlagReason::CHOICES, FlagReason::as_str, "reason")
}

fn verdict_choices() -> Vec<(&'static str, String)> {
    choices(Verdict::ALL, Verdict::as_str, "verdict.choice")
}

/// Renders the case page with an optional failed form.
async fn render_case(
    state: &AppState,
    v: &Viewer,
    id: i64,
    query: CaseQuery,
    failed: Failed,
    status: StatusCode,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let actor = &auth.actor;
    let case = match state.service.get_case(actor, id).await {
        Ok(c) => c,
        Err(e) => return v.fail(e),
    };
    let thread = match state
        .service
        .thread(actor, id, query.na.as_deref(), Some(THREAD_PAGE))
        .await
    {
        Ok(t) => t,
        Err(e) => return v.fail(e),
    };
    let is_panelist = matches!(actor, Actor::Panelist(_));
    let now = state.service.now();
    let suspended = suspension_notice(&v.t, actor, now);
    let open = case.status == CaseStatus::Open;
    let can_write = is_panelist && open && suspended.is_none();
    let outcome = if matches!(case.status, CaseStatus::Closed | CaseStatus::Archived) {
        state.service.case_outcome(actor, id).await.ok()
    } else {
        None
    };
    let outcome_rows = outcome
        .as_ref()
        .map(|o| {
            o.verdicts
                .iter()
                .map(|s| {
                    (
                        format!("verdict.{}", s.label),
                        s.count,
                        format!(
                            "{:.0}% ({:.0}–{:.0}%)",
                            s.share * 100.0,
                            s.low * 100.0,
                            s.high * 100.0
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let errors = failed.summary();
    let Failed {
        verdict: verdict_form,
        reply,
        flag,
        contest,
        ..
    } = failed;
    let mut posts = PostItem::list(&v.t, thread.posts, !is_panelist);
    if let Some(r) = reply
        && let Some(p) = posts.iter_mut().find(|p| p.view.id == r.parent_id)
    {
        p.reply_error = Some(r.message);
        p.reply_body = r.body;
    }
    if let Some((id, message, note)) = contest
        && let Some(p) = posts.iter_mut().find(|p| p.view.id == id)
    {
        p.contest_error = Some(message);
        p.contest_note = note;
    }
    if let Some(f) = flag
        && let Some(p) = posts.iter_mut().find(|p| p.view.id == f.post_id)
    {
        p.flag_error = Some(f.message);
        p.flag_reason = f.reason;
        p.flag_note = f.note;
    }
    let period = match (case.opens_at, case.closes_at) {
        (Some(o), Some(c)) => format!("{} – {}", local_date(o), local_date(c)),
        (Some(o), None) => local_date(o),
        _ => String::new(),
    };
    let flash = query
        .ok
        .as_deref()
        .filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(|k| v.t.of("flash", k));
    let page = CasePage {
        t: v.t,
        c: v.chrome("panel"),
        back_href: if is_panelist { "/" } else { "/beheer" },
        back_label: if is_panelist {
            "case.back_panel"
        } else {
            "case.back_staff"
        },
        domain_key: format!("domain.{}", case.domain.as_str()),
        outcome_key: format!("outcome.{}", case.outcome.as_str()),
        status_key: format!("status.{}", case.status.as_str()),
        period,
        situation: paragraphs(&case.situation),
        decision: paragraphs(&case.decision),
        errata: Errata::of_case(&case),
        suspended,
        flash,
        outcome,
        outcome_rows,
        show_verdict_form: can_write && case.my_reaction_id.is_none(),
        verdict_form,
        verdict_choices: verdict_choices(),
        length_hint: v
            .t
            .with("verdict.length_hint", "min", case.min_length)
            .replace("{max}", &case.max_length.to_string()),
        posts,
        next_cursor: thread.next_cursor,
        interactive: is_panelist,
        can_write,
        show_state: !is_panelist,
        max_depth: case.max_depth,
        flag_reasons: flag_reasons(),
        idem: uuid::Uuid::new_v4().to_string(),
        errors,
        moderate: super::moderates(actor, &case.municipality),
        case,
    };
    (status, render(&page)).into_response()
}

/// `GET /casus/{id}`: a case with its thread.
pub async fn case_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(query): Query<CaseQuery>,
) -> Response {
    render_case(&state, &v, id, query, Failed::default(), StatusCode::OK).await
}

/// The verdict form.
#[derive(Deserialize)]
pub struct ReactionForm {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    idem: String,
}

/// The confirmation to show after a post was saved: `what`, or `what_held` when others
/// cannot read it yet, so the page never thanks for a post as if it were published.
fn held_or(what: &'static str, p: &PostView) -> String {
    if p.status == crate::domain::PostStatus::Pending {
        format!("{what}_held")
    } else {
        what.to_owned()
    }
}

fn idem_key(s: &str) -> Option<&str> {
    (!s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        .then_some(s)
}

/// `POST /casus/{id}/reactie`: gives a verdict with a reason.
pub async fn post_reaction(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<ReactionForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = NewPostInput {
        verdict: Some(form.verdict.clone()),
        body: form.body.clone(),
        parent_id: None,
    };
    let mut failed = VerdictForm {
        verdict: form.verdict.clone(),
        body: form.body.clone(),
        ..VerdictForm::default()
    };
    if form.verdict.is_empty() {
        failed.verdict_error = Some(v.t.t("verdict.choose").to_owned());
        return render_case(
            &state,
            &v,
            id,
            CaseQuery::default(),
            Failed {
                verdict: failed,
                ..Failed::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state
        .service
        .create_post(&auth.actor, id, input, idem_key(&form.idem))
        .await
    {
        Ok(p) => see_other(&format!(
            "/casus/{id}?ok={}#bericht-{}",
            held_or("reaction", &p),
            p.id
        )),
        Err(
            e @ (Error::Invalid { .. }
            | Error::Conflict { .. }
            | Error::RateLimited { .. }
            | Error::Unavailable { .. }),
        ) => {
            let status = crate::http::error::status_of(&e);
            let message = v.t.error(e.code(), &e.message());
            if e.code().starts_with("body") || e.code() == "links_not_allowed" {
                failed.body_error = Some(message);
            } else if e.code().contains("verdict") {
                failed.verdict_error = Some(message);
            } else {
                failed.error = Some(message);
            }
            let failed = Failed {
                verdict: failed,
                ..Failed::default()
            };
            render_case(&state, &v, id, CaseQuery::default(), failed, status).await
        }
        Err(e) => v.fail(e),
    }
}

/// The reply form.
#[derive(Deserialize)]
pub struct ReplyForm {
    parent_id: i64,
    #[serde(default)]
    body: String,
    #[serde(default)]
    idem: String,
}

/// `POST /casus/{id}/antwoord`: replies to a post.
pub async fn post_reply(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<ReplyForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = NewPostInput {
        verdict: None,
        body: form.body.clone(),
        parent_id: Some(form.parent_id),
    };
    match state
        .service
        .create_post(&auth.actor, id, input, idem_key(&form.idem))
        .await
    {
        Ok(p) => see_other(&format!(
            "/casus/{id}?ok={}#bericht-{}",
            held_or("reply", &p),
            p.id
        )),
        Err(
            e @ (Error::Invalid { .. }
            | Error::Conflict { .. }
            | Error::RateLimited { .. }
            | Error::Unavailable { .. }),
        ) => {
            let status = crate::http::error::status_of(&e);
            let reply = ReplyError {
                parent_id: form.parent_id,
                message: v.t.error(e.code(), &e.message()),
                body: form.body,
            };
            let failed = Failed {
                reply: Some(reply),
                ..Failed::default()
            };
            render_case(&state, &v, id, CaseQuery::default(), failed, status).await
        }
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "posts_fragment.html")]
struct PostsFragment {
    t: Tr,
    c: Chrome,
    posts: Vec<PostItem>,
    interactive: bool,
    can_write: bool,
    show_state: bool,
    max_depth: i32,
    flag_reasons: Vec<(&'static str, String)>,
    idem: String,
    moderate: bool,
}

/// `?ids=1,2,3`: which posts to render.
#[derive(Deserialize)]
pub struct FragmentQuery {
    #[serde(default)]
    ids: String,
}

/// `GET /casus/{id}/berichten?ids=…`: posts rendered as in the thread, for the live
/// script to insert when the reader asks for new posts. At most 50 at a time.
pub async fn posts_fragment(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<FragmentQuery>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(_) => return StatusCode::UNAUTHORIZED.into_response(),
    };
    let actor = &auth.actor;
    let case = match state.service.get_case(actor, id).await {
        Ok(c) => c,
        Err(e) => return v.fail(e),
    };
    let mut views: Vec<PostView> = Vec::new();
    for post_id in q
        .ids
        .split(',')
        .filter_map(|s| s.trim().parse::<i64>().ok())
        .take(50)
    {
        match state.service.get_post(actor, post_id).await {
            Ok(p) if p.case_id == id => views.push(p),
            Ok(_) | Err(Error::NotFound { .. }) => {}
            Err(e) => return v.fail(e),
        }
    }
    let is_panelist = matches!(actor, Actor::Panelist(_));
    let now = state.service.now();
    let page = PostsFragment {
        t: v.t,
        c: v.chrome("panel"),
        posts: views
            .into_iter()
            .map(|p| PostItem::new(&v.t, p, None, !is_panelist))
            .collect(),
        interactive: is_panelist,
        can_write: is_panelist
            && case.status == CaseStatus::Open
            && suspension_notice(&v.t, actor, now).is_none(),
        show_state: !is_panelist,
        max_depth: case.max_depth,
        flag_reasons: flag_reasons(),
        idem: uuid::Uuid::new_v4().to_string(),
        moderate: super::moderates(actor, &case.municipality),
    };
    render(&page)
}

/// The weighing buttons.
#[derive(Deserialize)]
pub struct WeighForm {
    #[serde(default)]
    value: String,
}

/// `POST /bericht/{id}/waardering`: weighs someone's post.
pub async fn weigh(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<WeighForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state
        .service
        .weigh_post(&auth.actor, id, WeighingInput { value: form.value })
        .await
    {
        Ok(p) => see_other(&format!(
            "/casus/{}?ok=weighing#bericht-{}",
            p.case_id, p.id
        )),
        // A weighing that cannot be taken (the post was hidden meanwhile, the case
        // closed) is said on the case page, beside the post, not on a page of its own.
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. } | Error::RateLimited { .. })) => {
            match state.service.get_post(&auth.actor, id).await {
                Ok(p) => {
                    let status = crate::http::error::status_of(&e);
                    let failed = Failed {
                        post: Some((id, v.t.error(e.code(), &e.message()))),
                        ..Failed::default()
                    };
                    render_case(&state, &v, p.case_id, CaseQuery::default(), failed, status).await
                }
                Err(e) => v.fail(e),
            }
        }
        Err(e) => v.fail(e),
    }
}

/// The flag dialog.
#[derive(Deserialize)]
pub struct FlagForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

/// `POST /bericht/{id}/melding`: flags a post for the moderators.
pub async fn flag(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<FlagForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let post = match state.service.get_post(&auth.actor, id).await {
        Ok(p) => p,
        Err(e) => return v.fail(e),
    };
    let note = Some(form.note.trim().to_owned()).filter(|n| !n.is_empty());
    match state
        .service
        .flag_post(
            &auth.actor,
            id,
            FlagInput {
                reason: form.reason.clone(),
                note,
            },
        )
        .await
    {
        Ok(_) => see_other(&format!("/casus/{}?ok=flag#bericht-{id}", post.case_id)),
        // Flagged before (another tab, a double click): the post says so.
        Err(Error::Conflict {
            code: "already_flagged",
            ..
        }) => see_other(&format!("/casus/{}#bericht-{id}", post.case_id)),
        Err(
            e @ (Error::Invalid { .. }
            | Error::Conflict { .. }
            | Error::RateLimited { .. }
            | Error::Unavailable { .. }),
        ) => {
            let status = crate::http::error::status_of(&e);
            let failed = Failed {
                flag: Some(FlagError {
                    post_id: id,
                    message: v.t.error(e.code(), &e.message()),
                    reason: form.reason,
                    note: form.note,
                }),
                ..Failed::default()
            };
            render_case(
                &state,
                &v,
                post.case_id,
                CaseQuery::default(),
                failed,
                status,
            )
            .await
        }
        Err(e) => v.fail(e),
    }
}

/// The objection to a moderator's decision.
#[derive(Deserialize)]
pub struct ContestForm {
    #[serde(default)]
    note: String,
}

/// `POST /bericht/{id}/bezwaar`: the author contests a moderator's decision on their
/// own post; it goes back to the moderators.
pub async fn contest(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<ContestForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let post = match state.service.get_post(&auth.actor, id).await {
        Ok(p) => p,
        Err(e) => return v.fail(e),
    };
    let input = ContestInput {
        note: form.note.clone(),
    };
    match state
        .service
        .contest_moderation(&auth.actor, id, input)
        .await
    {
        Ok(_) => see_other(&format!(
            "/casus/{}?ok=contested#bericht-{id}",
            post.case_id
        )),
        Err(
            e @ (Error::Invalid { .. }
            | Error::Conflict { .. }
            | Error::RateLimited { .. }
            | Error::Unavailable { .. }),
        ) => {
            let status = crate::http::error::status_of(&e);
            let failed = Failed {
                contest: Some((id, v.t.error(e.code(), &e.message()), form.note)),
                ..Failed::default()
            };
            render_case(
                &state,
                &v,
                post.case_id,
                CaseQuery::default(),
                failed,
                status,
            )
            .await
        }
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "withdraw.html")]
struct WithdrawPage {
    t: Tr,
    c: Chrome,
    post: PostView,
}

/// `GET /bericht/{id}/intrekken`: asks before withdrawing one's own post, since others
/// then no longer read it and its replies hang under a placeholder.
pub async fn withdraw_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.service.get_post(&auth.actor, id).await {
        Ok(p) if p.mine => render(&WithdrawPage {
            t: v.t,
            c: v.chrome("panel"),
            post: p,
        }),
        Ok(_) => v.fail(Error::forbidden(
            "not_author",
            "U kunt alleen uw eigen berichten intrekken.",
        )),
        Err(e) => v.fail(e),
    }
}

/// `POST /bericht/{id}/intrekken`: withdraws one's own post.
pub async fn withdraw(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, .. }: SessionForm<serde::de::IgnoredAny>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.service.withdraw_post(&auth.actor, id).await {
        Ok(p) => see_other(&format!("/casus/{}?ok=withdrawn#bericht-{id}", p.case_id)),
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "post_edit.html")]
struct EditPage {
    t: Tr,
    c: Chrome,
    post: PostView,
    body: String,
    verdict: String,
    error: Option<String>,
    verdict_choices: Vec<(&'static str, String)>,
    errors: ErrorSummary,
}

fn edit_render(
    v: &Viewer,
    post: PostView,
    body: String,
    verdict: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let page = EditPage {
        t: v.t,
        c: v.chrome("panel"),
        body,
        verdict,
        errors: error
            .as_ref()
            .map(|e| ErrorSummary::one("tekst", e.clone()))
            .unwrap_or_default(),
        error,
        verdict_choices: verdict_choices(),
        post,
    };
    (status, render(&page)).into_response()
}

/// `GET /bericht/{id}/bewerken`: the form to change one's own post.
pub async fn edit_page(State(state): State<AppState>, v: Viewer, Path(id): Path<i64>) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.service.get_post(&auth.actor, id).await {
        Ok(p) if p.mine => {
            let body = p.body.clone().unwrap_or_default();
            let verdict = p.verdict.map(|v| v.as_str().to_owned()).unwrap_or_default();
            edit_render(&v, p, body, verdict, None, StatusCode::OK)
        }
        Ok(_) => v.fail(Error::forbidden(
            "not_author",
            "U kunt alleen uw eigen berichten aanpassen.",
        )),
        Err(e) => v.fail(e),
    }
}

/// The edit form.
#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    verdict: String,
}

/// `POST /bericht/{id}/bewerken`: saves a new version of one's own post.
pub async fn edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<EditForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = EditPostInput {
        body: form.body.clone(),
        verdict: Some(form.verdict.clone()).filter(|s| !s.is_empty()),
    };
    match state.service.edit_post(&auth.actor, id, input).await {
        Ok(p) => see_other(&format!(
            "/casus/{}?ok={}#bericht-{id}",
            p.case_id,
            held_or("edited", &p)
        )),
        Err(
            e @ (Error::Invalid { .. }
            | Error::Conflict { .. }
            | Error::RateLimited { .. }
            | Error::Unavailable { .. }),
        ) => {
            let status = crate::http::error::status_of(&e);
            let message = v.t.error(e.code(), &e.message());
            match state.service.get_post(&auth.actor, id).await {
                Ok(p) => edit_render(&v, p, form.body, form.verdict, Some(message), status),
                Err(e) => v.fail(e),
            }
        }
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    t: Tr,
    c: Chrome,
    profile: ProfileView,
    age_bands: Vec<(&'static str, String)>,
    experiences: Vec<(&'static str, String)>,
    error: Option<String>,
    saved: bool,
    errors: ErrorSummary,
}

fn profile_render(
    v: &Viewer,
    profile: ProfileView,
    error: Option<String>,
    saved: bool,
    status: StatusCode,
) -> Response {
    let page = ProfilePage {
        t: v.t,
        c: v.chrome("panel"),
        profile,
        age_bands: choices(AgeBand::ALL, AgeBand::as_str, "profile.age"),
        experiences: choices(WmoExperience::ALL, WmoExperience::as_str, "profile.wmo"),
        errors: error
            .as_ref()
            .map(|e| ErrorSummary::one("profiel-fout", e.clone()))
            .unwrap_or_default(),
        error,
        saved,
    };
    (status, render(&page)).into_response()
}

/// `?ok=1` after saving.
#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    ok: Option<String>,
}

/// `GET /profiel`: what the panelist shares about themselves, with consent.
pub async fn profile_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<SavedQuery>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.service.profile(&auth.actor).await {
        Ok(p) => profile_render(&v, p, None, q.ok.is_some(), StatusCode::OK),
        Err(e) => v.fail(e),
    }
}

/// The profile form.
#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    consent: Option<String>,
    #[serde(default)]
    age_band: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    wmo_experience: String,
}

/// `POST /profiel`: saves (or, without consent, erases) the profile.
pub async fn save_profile(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<ProfileForm>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let input = ProfileInput {
        consent: form.consent.is_some(),
        age_band: Some(form.age_band.clone()),
        district: Some(form.district.clone()),
        wmo_experience: Some(form.wmo_experience.clone()),
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state.service.set_profile(&auth.actor, input, &ctx).await {
        Ok(_) => see_other("/profiel?ok=1"),
        Err(e @ Error::Invalid { .. }) => {
            let typed = ProfileView {
                consent: form.consent.is_some(),
                age_band: Some(form.age_band),
                district: Some(form.district),
                wmo_experience: Some(form.wmo_experience),
            };
            let message = v.t.error(e.code(), &e.message());
            profile_render(
                &v,
                typed,
                Some(message),
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    t: Tr,
    c: Chrome,
    must_accept: bool,
    accepted_now: bool,
}

/// `GET /huisregels`: the house rules, for everyone; a panelist who has not accepted
/// them yet (at the first login) gets the button to accept.
pub async fn rules_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<SavedQuery>,
) -> Response {
    let must_accept = match &v.auth {
        Some(auth) => match state.service.house_rules_accepted(&auth.actor).await {
            Ok(accepted) => !accepted,
            Err(e) => return v.fail(e),
        },
        None => false,
    };
    render(&RulesPage {
        t: v.t,
        c: v.chrome("panel"),
        must_accept,
        accepted_now: q.ok.is_some(),
    })
}

/// `POST /huisregels`: the panelist accepts the house rules and goes on to their cases.
pub async fn accept_rules(
    State(state): State<AppState>,
    SessionForm { viewer: v, .. }: SessionForm<serde::de::IgnoredAny>,
) -> Response {
    let auth = match v.require() {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.service.accept_house_rules(&auth.actor).await {
        Ok(()) => see_other("/"),
        Err(e) => v.fail(e),
    }
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    t: Tr,
    c: Chrome,
}

/// `GET /privacy`: the privacy statement.
pub async fn privacy_page(v: Viewer) -> Response {
    render(&PrivacyPage {
        t: v.t,
        c: v.chrome("panel"),
    })
}
