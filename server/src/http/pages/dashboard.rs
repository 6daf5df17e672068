//! The staff's pages of one case: the live watch (thread with moderation states,
//! tally, presence, participation and activity), the analysis dashboard, the printable
//! report, and the form for the municipality's response and the report's quotes.
//! Every chart is an inline SVG hidden from assistive technology, with a data table
//! beside it saying the same in text.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, SessionForm, Viewer, render, see_other};
use crate::analysis::opinion::{Direction, OpinionMap};
use crate::analysis::stats::Share;
use crate::domain::{CaseStatus, Verdict};
use crate::http::AppState;
use crate::http::extract::{Path, Query};
use crate::service::analysis::{AttributeSplit, CaseAnalysis, PostText, RankedArgument};
use crate::service::cases::{CaseChanges, CaseView};
use crate::service::{AuditContext, Error};
use crate::web::charts::{self, ChartLabels};
use crate::web::i18n::Tr;
use crate::web::view::{PostItem, local_date, local_time, paragraphs};

/// The staff's per-case routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/beheer/casus/{id}", get(watch_page))
        .route("/beheer/casus/{id}/kerncijfers", get(summary_fragment))
        .route("/beheer/casus/{id}/analyse", get(analysis_page))
        .route("/beheer/casus/{id}/rapport", get(report_page))
        .route(
            "/beheer/casus/{id}/reactie",
            get(response_page).post(save_response),
        )
        .route("/beheer/casus/{id}/citaten", post(save_quotes))
}

/// The heading facts of a case, as every page here shows them.
struct CaseHead {
    id: i64,
    title: String,
    domain_key: String,
    outcome_key: String,
    status_key: String,
    provision: String,
    period: String,
    open: bool,
    watch_path: String,
}

impl CaseHead {
    fn of(case: &CaseView) -> CaseHead {
        let period = match (case.opens_at, case.closes_at) {
            (Some(o), Some(c)) => format!("{} – {}", local_date(o), local_date(c)),
            (Some(o), None) => local_date(o),
            _ => String::new(),
        };
        CaseHead {
            id: case.id,
            title: case.title.clone(),
            domain_key: format!("domain.{}", case.domain.as_str()),
            outcome_key: format!("outcome.{}", case.outcome.as_str()),
            status_key: format!("status.{}", case.status.as_str()),
            provision: case.provision.clone(),
            period,
            open: case.status == CaseStatus::Open,
            watch_path: format!("/beheer/casus/{}", case.id),
        }
    }
}

/// One step of participation.
struct Step {
    label: &'static str,
    count: u64,
    share: String,
}

/// One verdict in the split.
struct VerdictRow {
    label: String,
    count: u64,
    share: String,
    interval: String,
}

/// One day of activity.
struct Day {
    date: String,
    iso: String,
    posts: u64,
}

/// Participation, verdict split and activity: the numbers that move while a case is
/// open, rendered as one block that the watch script can fetch again.
struct Summary {
    steps: Vec<Step>,
    steps_svg: String,
    verdicts: Vec<VerdictRow>,
    verdicts_svg: String,
    reacted: u64,
    days: Vec<Day>,
    days_svg: String,
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn chart_labels(t: &Tr) -> ChartLabels {
    ChartLabels {
        no_data: t.t("analysis.no_data").to_owned(),
        names: Verdict::ALL
            .iter()
            .map(|v| (v.as_str().to_owned(), t.of("verdict", v.as_str())))
            .collect(),
        group_names: Vec::new(),
        group_word: t.t("analysis.opinion.group_word").to_owned(),
    }
}

fn verdict_rows(t: &Tr, shares: &[Share]) -> Vec<VerdictRow> {
    shares
        .iter()
        .map(|s| VerdictRow {
            label: t.of("verdict", &s.label),
            count: s.count,
            share: percent(s.share),
            interval: format!("{} – {}", percent(s.low), percent(s.high)),
        })
        .collect()
}

impl Summary {
    fn of(t: &Tr, a: &CaseAnalysis) -> Summary {
        let p = &a.participation;
        let raw: [(&'static str, u64); 5] = [
            ("analysis.participation.invited", p.invited),
            ("analysis.participation.logged_in", p.logged_in),
            ("analysis.participation.reacted", p.reacted),
            ("analysis.participation.replied", p.replied),
            ("analysis.participation.weighed", p.weighed),
        ];
        let steps: Vec<Step> = raw
            .iter()
            .map(|(label, count)| Step {
                label,
                count: *count,
                share: if p.invited > 0 {
                    percent(*count as f64 / p.invited as f64)
                } else {
                    String::from("–")
                },
            })
            .collect();
        let named: Vec<(String, u64)> = raw
            .iter()
            .map(|(label, count)| (t.t(label).to_owned(), *count))
            .collect();
        let labels = chart_labels(t);
        Summary {
            steps_svg: charts::participation_chart(&named),
            steps,
            verdicts: verdict_rows(t, &a.verdicts),
            verdicts_svg: charts::verdict_chart(&a.verdicts, &labels),
            reacted: p.reacted,
            days: a
                .activity
                .iter()
                .map(|(day, posts)| Day {
                    date: chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
                        .map(|d| d.format("%d-%m-%Y").to_string())
                        .unwrap_or_else(|_| day.clone()),
                    iso: day.clone(),
                    posts: *posts,
                })
                .collect(),
            days_svg: charts::activity_chart(&a.activity, &labels),
        }
    }
}

/// One row of a profile table: a group, its size and its verdict shares, or nothing
/// but its name when it is too small to show.
struct ProfileRow {
    label: String,
    count: Option<u64>,
    shares: Vec<String>,
}

/// The verdict split within one consented profile attribute.
struct ProfileTable {
    attribute: String,
    caption: String,
    rows: Vec<ProfileRow>,
    total: Option<u64>,
}

fn profile_tables(t: &Tr, splits: &[AttributeSplit]) -> Vec<ProfileTable> {
    splits
        .iter()
        .filter(|s| !s.groups.cells.is_empty())
        .map(|s| ProfileTable {
            attribute: s.attribute.clone(),
            caption: t.with(
                "analysis.profile.caption",
                "attribute",
                t.of("analysis.profile.attribute", &s.attribute),
            ),
            rows: s
                .groups
                .cells
                .iter()
                .map(|c| ProfileRow {
                    label: c.label.clone(),
                    count: c.count,
                    shares: if c.suppressed {
                        Vec::new()
                    } else {
                        Verdict::ALL
                            .iter()
                            .map(|v| {
                                s.verdicts
                                    .get(&c.label)
                                    .and_then(|list| list.iter().find(|x| x.label == v.as_str()))
                                    .map(|x| format!("{} ({})", percent(x.share), x.count))
                                    .unwrap_or_else(|| String::from("–"))
                            })
                            .collect()
                    },
                })
                .collect(),
            total: s.groups.total,
        })
        .collect()
}

/// A post an opinion group refers to, with what it says about the group.
struct StatementRow {
    post_id: i64,
    author: String,
    body: Option<String>,
    stance: String,
}

/// An opinion group with its representative arguments.
struct GroupView {
    name: String,
    size: usize,
    statements: Vec<StatementRow>,
}

/// The opinion map with its groups and consensus, for the dashboard and the report.
struct OpinionView {
    svg: String,
    participants: usize,
    excluded: usize,
    groups: Vec<GroupView>,
    ungrouped: usize,
    consensus: Vec<StatementRow>,
}

fn statement(
    t: &Tr,
    texts: &std::collections::HashMap<i64, PostText>,
    id: u64,
    stance: String,
) -> StatementRow {
    let post_id = i64::try_from(id).unwrap_or_default();
    let text = texts.get(&post_id);
    StatementRow {
        post_id,
        author: text.map(|p| p.author.clone()).unwrap_or_default(),
        body: text.map(|p| p.body.clone()),
        stance: if text.is_none() {
            t.t("analysis.opinion.not_visible").to_owned()
        } else {
            stance
        },
    }
}

fn direction_key(d: Direction) -> &'static str {
    match d {
        Direction::Agree => "analysis.opinion.agree",
        Direction::Disagree => "analysis.opinion.disagree",
    }
}

fn opinion_view(
    t: &Tr,
    map: &OpinionMap,
    texts: &std::collections::HashMap<i64, PostText>,
) -> OpinionView {
    let labels = chart_labels(t);
    let groups = map
        .groups
        .iter()
        .map(|g| GroupView {
            name: labels.group_name(g.id),
            size: g.size,
            statements: g
                .representative
                .iter()
                .map(|r| {
                    let stance = t
                        .t(direction_key(r.direction))
                        .replace("{group}", &percent(r.group_rate))
                        .replace("{rest}", &percent(r.rest_rate));
                    statement(t, texts, r.statement, stance)
                })
                .collect(),
        })
        .collect();
    OpinionView {
        svg: charts::opinion_map_chart(map, &labels),
        participants: map.participants.len(),
        excluded: map.excluded.len(),
        ungrouped: if map.groups.is_empty() {
            0
        } else {
            map.participants
                .iter()
                .filter(|p| p.group.is_none())
                .count()
        },
        groups,
        consensus: map
            .consensus
            .iter()
            .map(|c| {
                let key = match c.direction {
                    Direction::Agree => "analysis.opinion.consensus_agree",
                    Direction::Disagree => "analysis.opinion.consensus_disagree",
                };
                statement(t, texts, c.statement, t.n(key, percent(c.min_rate)))
            })
            .collect(),
    }
}

// A page's failure is the answer itself, built once per request: not worth boxing.
#[allow(clippy::result_large_err)]
fn is_staff_reader(v: &Viewer) -> Result<&crate::service::auth::Authenticated, Response> {
    v.require_staff().map(|(auth, _)| auth)
}

// ---------------------------------------------------------------------------------
// The live watch.

#[derive(Template)]
#[template(path = "dash_watch.html")]
struct WatchPage {
    t: Tr,
    c: Chrome,
    head: CaseHead,
    case: CaseView,
    summary: Option<Summary>,
    may_analyse: bool,
    may_edit: bool,
    posts: Vec<PostItem>,
    next_cursor: Option<String>,
    interactive: bool,
    can_write: bool,
    show_state: bool,
    max_depth: i32,
    flag_reasons: Vec<(&'static str, String)>,
    idem: String,
    moderate: bool,
}

/// `?na=CURSOR` pages the thread.
#[derive(Deserialize, Default)]
pub struct WatchQuery {
    #[serde(default)]
    na: Option<String>,
}

/// `GET /beheer/casus/{id}`: the staff's live view of a case.
pub async fn watch_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<WatchQuery>,
) -> Response {
    let (auth, staff) = match v.require_staff() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let w = match state
        .service
        .case_watch(&auth.actor, id, q.na.as_deref())
        .await
    {
        Ok(w) => w,
        Err(e) => return v.fail(e),
    };
    let may_edit = staff
        .roles
        .iter()
        .any(|r| r.municipality == w.case.municipality && r.role == crate::domain::Role::Admin);
    let page = WatchPage {
        t: v.t,
        c: v.chrome("staff"),
        head: CaseHead::of(&w.case),
        summary: w.analysis.as_ref().map(|a| Summary::of(&v.t, a)),
        may_analyse: w.analysis.is_some(),
        may_edit,
        posts: PostItem::list(&v.t, w.thread.posts, true),
        next_cursor: w.thread.next_cursor,
        interactive: false,
        can_write: false,
        show_state: true,
        max_depth: w.case.max_depth,
        flag_reasons: Vec::new(),
        idem: String::new(),
        moderate: super::moderates(&auth.actor, &w.case.municipality),
        case: w.case,
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "dash_summary_fragment.html")]
struct SummaryFragment {
    t: Tr,
    summary: Summary,
}

/// `GET /beheer/casus/{id}/kerncijfers`: participation, verdict split and activity as
/// an HTML fragment, for the watch script to refresh while the case is open.
pub async fn summary_fragment(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> Response {
    let auth = match is_staff_reader(&v) {
        Ok(a) => a,
        Err(_) => return StatusCode::UNAUTHORIZED.into_response(),
    };
    match state.service.case_analysis(&auth.actor, id).await {
        Ok(a) => render(&SummaryFragment {
            t: v.t,
            summary: Summary::of(&v.t, &a),
        }),
        Err(e) => v.fail(e),
    }
}

// ---------------------------------------------------------------------------------
// The analysis dashboard.

#[derive(Template)]
#[template(path = "dash_analyse.html")]
struct AnalysisPage {
    t: Tr,
    c: Chrome,
    head: CaseHead,
    summary: Summary,
    profiles: Vec<ProfileTable>,
    arguments_for: Vec<RankedArgument>,
    arguments_against: Vec<RankedArgument>,
    terms: Vec<(String, u64)>,
    opinion: OpinionView,
    quotes: usize,
    verdict_names: Vec<String>,
}

fn verdict_names(t: &Tr) -> Vec<String> {
    Verdict::ALL
        .iter()
        .map(|v| t.of("verdict", v.as_str()))
        .collect()
}

/// `GET /beheer/casus/{id}/analyse`: the analysis dashboard (analysts and admins).
pub async fn analysis_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> Response {
    let auth = match is_staff_reader(&v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let d = match state.service.case_dashboard(&auth.actor, id).await {
        Ok(d) => d,
        Err(e) => return v.fail(e),
    };
    let a = &d.analysis;
    let page = AnalysisPage {
        t: v.t,
        c: v.chrome("staff"),
        head: CaseHead::of(&d.case),
        summary: Summary::of(&v.t, a),
        profiles: profile_tables(&v.t, &a.by_profile),
        arguments_for: a.arguments_for.clone(),
        arguments_against: a.arguments_against.clone(),
        terms: a.terms.clone(),
        opinion: opinion_view(&v.t, &a.opinion, &d.statements),
        quotes: d.quotes,
        verdict_names: verdict_names(&v.t),
    };
    render(&page)
}

// ---------------------------------------------------------------------------------
// The printable report.

/// A quote as the report shows it.
struct QuoteView {
    author: String,
    body: String,
    verdict: String,
    reply: bool,
}

fn quote_view(t: &Tr, p: &PostText) -> QuoteView {
    QuoteView {
        author: p.author.clone(),
        body: p.body.clone(),
        verdict: p
            .verdict
            .map(|v| t.of("verdict", v.as_str()))
            .unwrap_or_default(),
        reply: p.reply,
    }
}

#[derive(Template)]
#[template(path = "dash_report.html")]
struct ReportPage {
    t: Tr,
    c: Chrome,
    head: CaseHead,
    case: CaseView,
    situation: Vec<String>,
    decision: Vec<String>,
    response: Vec<String>,
    summary: Summary,
    arguments_for: Vec<RankedArgument>,
    arguments_against: Vec<RankedArgument>,
    opinion: OpinionView,
    quotes: Vec<QuoteView>,
    generated: String,
}

/// `GET /beheer/casus/{id}/rapport`: the printable report (analysts and admins).
pub async fn report_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> Response {
    let auth = match is_staff_reader(&v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let r = match state.service.case_report(&auth.actor, id).await {
        Ok(r) => r,
        Err(e) => return v.fail(e),
    };
    let a = &r.analysis;
    let mut arguments_for = a.arguments_for.clone();
    arguments_for.truncate(5);
    let mut arguments_against = a.arguments_against.clone();
    arguments_against.truncate(5);
    let page = ReportPage {
        t: v.t,
        c: v.chrome("staff"),
        head: CaseHead::of(&r.case),
        situation: paragraphs(&r.case.situation),
        decision: paragraphs(&r.case.decision),
        response: r
            .case
            .response
            .as_deref()
            .map(paragraphs)
            .unwrap_or_default(),
        summary: Summary::of(&v.t, a),
        arguments_for,
        arguments_against,
        opinion: opinion_view(&v.t, &a.opinion, &r.statements),
        quotes: r.quotes.iter().map(|q| quote_view(&v.t, q)).collect(),
        generated: local_time(r.generated_at),
        case: r.case,
    };
    render(&page)
}

// ---------------------------------------------------------------------------------
// The municipality's response and the quotes.

/// A post that may be quoted, as the form lists it.
struct CandidateView {
    id: i64,
    author: String,
    body: String,
    verdict: String,
    reply: bool,
    chosen: bool,
    when: String,
}

#[derive(Template)]
#[template(path = "dash_response.html")]
struct ResponsePage {
    t: Tr,
    c: Chrome,
    head: CaseHead,
    may_respond: bool,
    response: String,
    response_error: Option<String>,
    quotes_error: Option<String>,
    flash: Option<String>,
    candidates: Vec<CandidateView>,
}

/// `?ok=KEY` shows a confirmation.
#[derive(Deserialize, Default)]
pub struct FlashQuery {
    #[serde(default)]
    ok: Option<String>,
}

/// A failed form on the response page: which one, the message, and the typed text.
enum Failed {
    None,
    Response(String, String),
    Quotes(String),
}

async fn render_response(
    state: &AppState,
    v: &Viewer,
    id: i64,
    flash: Option<String>,
    failed: Failed,
    status: StatusCode,
) -> Response {
    let auth = match is_staff_reader(v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let choices = match state.service.report_choices(&auth.actor, id).await {
        Ok(c) => c,
        Err(e) => return v.fail(e),
    };
    let (response, response_error, quotes_error) = match failed {
        Failed::None => (
            choices.case.response.clone().unwrap_or_default(),
            None,
            None,
        ),
        Failed::Response(message, text) => (text, Some(message), None),
        Failed::Quotes(message) => (
            choices.case.response.clone().unwrap_or_default(),
            None,
            Some(message),
        ),
    };
    let page = ResponsePage {
        t: v.t,
        c: v.chrome("staff"),
        head: CaseHead::of(&choices.case),
        may_respond: choices.may_respond,
        response,
        response_error,
        quotes_error,
        flash,
        candidates: choices
            .candidates
            .into_iter()
            .map(|c| CandidateView {
                id: c.post.post_id,
                verdict: c
                    .post
                    .verdict
                    .map(|verdict| v.t.of("verdict", verdict.as_str()))
                    .unwrap_or_default(),
                when: local_time(c.post.created_at),
                author: c.post.author,
                body: c.post.body,
                reply: c.post.reply,
                chosen: c.chosen,
            })
            .collect(),
    };
    (status, render(&page)).into_response()
}

/// `GET /beheer/casus/{id}/reactie`: the municipality's response (admins) and the
/// quotes for the report (analysts and admins).
pub async fn response_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let flash =
        q.ok.as_deref()
            .filter(|k| matches!(*k, "response" | "quotes"))
            .map(|k| v.t.of("analysis.response.flash", k));
    render_response(&state, &v, id, flash, Failed::None, StatusCode::OK).await
}

/// The response form.
#[derive(Deserialize)]
pub struct ResponseForm {
    #[serde(default)]
    response: String,
}

/// `POST /beheer/casus/{id}/reactie`: saves the municipality's response (admins; also
/// after the case closed).
pub async fn save_response(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<ResponseForm>,
) -> Response {
    let auth = match is_staff_reader(&v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ctx = AuditContext::new(&auth.actor, v.ip);
    let changes = CaseChanges {
        response: Some(form.response.clone()),
        ..CaseChanges::default()
    };
    match state
        .service
        .update_case(&auth.actor, id, changes, &ctx)
        .await
    {
        Ok(_) => see_other(&format!("/beheer/casus/{id}/reactie?ok=response#reactie")),
        Err(e @ Error::Invalid { .. }) => {
            let status = crate::http::error::status_of(&e);
            let message = v.t.error(e.code(), &e.message());
            render_response(
                &state,
                &v,
                id,
                None,
                Failed::Response(message, form.response),
                status,
            )
            .await
        }
        Err(e) => v.fail(e),
    }
}

/// `POST /beheer/casus/{id}/citaten`: sets which posts the report quotes (every
/// checked `quote` field is a post id).
pub async fn save_quotes(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<Vec<(String, String)>>,
) -> Response {
    let auth = match is_staff_reader(&v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut ids = Vec::new();
    for (name, value) in &form {
        if name == "quote" {
            match value.parse::<i64>() {
                Ok(id) => ids.push(id),
                Err(_) => {
                    return v.fail(Error::bad_request(
                        "invalid_form",
                        "Het formulier is niet volledig ingevuld.",
                    ));
                }
            }
        }
    }
    let ctx = AuditContext::new(&auth.actor, v.ip);
    match state
        .service
        .set_report_quotes(&auth.actor, id, &ids, &ctx)
        .await
    {
        Ok(_) => see_other(&format!("/beheer/casus/{id}/reactie?ok=quotes#citaten")),
        Err(e @ Error::Invalid { .. }) => {
            let status = crate::http::error::status_of(&e);
            let message = v.t.error(e.code(), &e.message());
            render_response(&state, &v, id, None, Failed::Quotes(message), status).await
        }
        Err(e) => v.fail(e),
    }
}
