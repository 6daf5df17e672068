//! The staff pages under `/beheer`: the start page with every case per municipality,
//! the case editor with a preview as panelists will see it, scheduling, opening and
//! closing, panels with invitations (a CSV for the mail merge), and staff accounts.
//! Forms re-render with the error beside its field and every typed value kept, or
//! redirect with `?ok=KEY` for a confirmation.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, SessionForm, Viewer, choices, render, see_other};
use crate::domain::{CaseStatus, LegalDomain, ModerationMode, Outcome, Role};
use crate::http::AppState;
use crate::http::extract::{Path, Query};
use crate::service::case_text::{self, CaseFinding, CaseTexts};
use crate::service::cases::{
    CaseChanges, CaseView, Closing, FrameItem, NewCase, OpenCase, Schedule, TrailStep,
};
use crate::service::export::Separator;
use crate::service::notices::ContactInput;
use crate::service::panels::{PanelSummary, StaffGrant, Workplace};
use crate::service::policy::StaffActor;
use crate::service::{AuditContext, Error};
use crate::web::i18n::Tr;
use crate::web::view::{
    ErrorSummary, Segment, datetime_local, local_date, local_time, marked, marked_paragraphs,
    parse_datetime_local,
};

/// The staff routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/beheer", get(start))
        .route("/beheer/casus/nieuw", get(new_case_page).post(new_case))
        .route(
            "/beheer/casus/{id}/bewerken",
            get(edit_case_page).post(edit_case),
        )
        .route("/beheer/casus/{id}/planning", post(schedule_case))
        .route("/beheer/casus/{id}/openen", post(open_case))
        .route("/beheer/casus/{id}/sluiten", post(close_case))
        .route("/beheer/casus/{id}/sluittijd", post(move_closing))
        .route("/beheer/panels", get(panels_page).post(add_panel))
        .route("/beheer/contact", get(contact_page).post(save_contact))
        .route("/beheer/panels/{slug}/uitnodigingen", post(invites))
        .route("/beheer/medewerkers", get(people_page).post(add_person))
        .route("/beheer/medewerkers/{id}/rol-intrekken", post(revoke_role))
        .route(
            "/beheer/medewerkers/uitnodigingen/{id}/intrekken",
            post(withdraw_invitation),
        )
}

/// Blank empty rows of the repeated legal-frame and trail fieldsets (the script adds
/// more on request).
const SPARE_ROWS: usize = 2;

/// A confirmation key from `?ok=`, when it is a plain word.
fn flash(t: &Tr, ok: Option<&str>) -> Option<String> {
    ok.filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(|k| t.of("staff.flash", k))
}

/// `?ok=KEY` and `?gemeente=SLUG`.
#[derive(Deserialize, Default)]
pub struct StaffQuery {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    gemeente: Option<String>,
}

/// The staff member, or a redirect / refusal page.
#[allow(
    clippy::result_large_err,
    reason = "the refusal is the page's whole answer, returned at once"
)]
fn staff_of(v: &Viewer) -> Result<&StaffActor, Response> {
    v.require_staff().map(|(_, s)| s)
}

#[allow(
    clippy::result_large_err,
    reason = "the refusal is the page's whole answer, returned at once"
)]
fn actor_of(v: &Viewer) -> Result<&crate::service::policy::Actor, Response> {
    v.require_staff().map(|(a, _)| &a.actor)
}

#[allow(
    clippy::result_large_err,
    reason = "the refusal is the page's whole answer, returned at once"
)]
/// The staff member acting and the audit context of their request, or the refusal page.
fn acting(v: &Viewer) -> Result<(&crate::service::policy::Actor, AuditContext), Response> {
    actor_of(v).map(|a| (a, AuditContext::new(a, v.ip)))
}

fn need_admin() -> Error {
    Error::forbidden(
        "forbidden",
        "Hiervoor is de rol 'admin' nodig in een gemeente.",
    )
}

/// A municipality to switch to in the page's municipality menu.
pub(super) struct Place {
    pub(super) slug: String,
    pub(super) name: String,
    pub(super) current: bool,
}

/// The municipalities the viewer administers, and the one chosen (`?gemeente=`, else
/// the first).
pub(super) async fn admin_places(
    state: &AppState,
    v: &Viewer,
    chosen: Option<&str>,
) -> Result<(Vec<Place>, Workplace), Response> {
    let actor = actor_of(v)?;
    let places: Vec<Workplace> = match state.service.workplaces(actor).await {
        Ok(w) => w.into_iter().filter(Workplace::is_admin).collect(),
        Err(e) => return Err(v.fail(e)),
    };
    let current = match chosen {
        Some(slug) => places.iter().find(|w| w.slug == slug),
        None => places.first(),
    };
    let Some(current) = current.cloned() else {
        return Err(match chosen {
            Some(_) if !places.is_empty() => v.fail(Error::not_found("municipality_not_found")),
            _ => v.fail(need_admin()),
        });
    };
    let list = places
        .into_iter()
        .map(|w| Place {
            current: w.slug == current.slug,
            slug: w.slug,
            name: w.name,
        })
        .collect();
    Ok((list, current))
}

// ---------------------------------------------------------------------------------
// Start page

struct CaseRow {
    id: i64,
    title: String,
    status: &'static str,
    status_key: String,
    opens: String,
    closes: String,
}

struct PlaceCases {
    slug: String,
    name: String,
    is_admin: bool,
    cases: Vec<CaseRow>,
}

#[derive(Template)]
#[template(path = "staff_home.html")]
struct StartPage {
    t: Tr,
    c: Chrome,
    places: Vec<PlaceCases>,
    any_admin: bool,
    flash: Option<String>,
}

/// `GET /beheer`: every case per municipality, with links to the editor, panels and
/// staff for admins. Moderators without another role go to their queues.
pub async fn start(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<StaffQuery>,
) -> Response {
    let s = match staff_of(&v) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if s.roles.iter().all(|r| r.role == Role::Moderator) {
        return see_other("/moderatie");
    }
    let actor = match actor_of(&v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (workplaces, cases) = match (
        state.service.workplaces(actor).await,
        state.service.list_cases(actor, None).await,
    ) {
        (Ok(w), Ok(c)) => (w, c),
        (Err(e), _) | (_, Err(e)) => return v.fail(e),
    };
    let places: Vec<PlaceCases> = workplaces
        .into_iter()
        .filter(|w| w.roles.iter().any(|r| *r != Role::Moderator))
        .map(|w| PlaceCases {
            is_admin: w.is_admin(),
            cases: cases
                .iter()
                .filter(|c| c.municipality == w.slug)
                .map(|c| CaseRow {
                    id: c.id,
                    title: c.title.clone(),
                    status: c.status.as_str(),
                    status_key: format!("status.{}", c.status.as_str()),
                    opens: c.opens_at.map(local_time).unwrap_or_default(),
                    closes: c.closes_at.map(local_time).unwrap_or_default(),
                })
                .collect(),
            slug: w.slug,
            name: w.name,
        })
        .collect();
    render(&StartPage {
        t: v.t,
        c: v.chrome("staff"),
        any_admin: places.iter().any(|p| p.is_admin),
        flash: flash(&v.t, q.ok.as_deref()),
        places,
    })
}

// ---------------------------------------------------------------------------------
// Case editor

/// Errors tied to form fields by name.
#[derive(Default)]
struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    fn set(&mut self, field: &'static str, message: String) {
        self.0.push((field, message));
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Clone, Default)]
struct FrameRow {
    title: String,
    text: String,
}

#[derive(Clone, Default)]
struct TrailRow {
    date: String,
    step: String,
    text: String,
}

/// Every field of the case form, as typed.
#[derive(Clone, Default)]
struct CaseFields {
    municipality: String,
    title: String,
    domain: String,
    provision: String,
    outcome: String,
    summary: String,
    situation: String,
    decision: String,
    considerations: String,
    questions: String,
    frame: Vec<FrameRow>,
    trail: Vec<TrailRow>,
    panels: Vec<String>,
    moderation_mode: String,
    min_length: String,
    max_length: String,
    max_depth: String,
    allow_links: bool,
    hide_tallies_until_reacted: bool,
    hold_first_post: bool,
    response: String,
    action: String,
    /// Why an open case's text is corrected (the erratum form).
    erratum: String,
    /// The admin ticked that the findings are not personal data of a real person.
    confirm: bool,
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl CaseFields {
    /// The form of a new case, with the service's defaults.
    fn blank(municipality: &str) -> CaseFields {
        CaseFields {
            municipality: municipality.to_owned(),
            domain: LegalDomain::Wmo.as_str().to_owned(),
            moderation_mode: ModerationMode::Post.as_str().to_owned(),
            min_length: "20".into(),
            max_length: "2000".into(),
            max_depth: "3".into(),
            hide_tallies_until_reacted: true,
            ..CaseFields::default()
        }
    }

    /// The form filled from a stored case.
    fn of_case(c: &CaseView) -> CaseFields {
        CaseFields {
            municipality: c.municipality.clone(),
            title: c.title.clone(),
            domain: c.domain.as_str().to_owned(),
            provision: c.provision.clone(),
            outcome: c.outcome.as_str().to_owned(),
            summary: c.summary.clone(),
            situation: c.situation.clone(),
            decision: c.decision.clone(),
            considerations: c
                .considerations
                .iter()
                .map(|s| one_line(s))
                .collect::<Vec<_>>()
                .join("\n"),
            questions: c
                .questions
                .iter()
                .map(|s| one_line(s))
                .collect::<Vec<_>>()
                .join("\n"),
            frame: c
                .frame
                .iter()
                .map(|f| FrameRow {
                    title: f.title.clone(),
                    text: f.text.clone(),
                })
                .collect(),
            trail: c
                .trail
                .iter()
                .map(|s| TrailRow {
                    date: s.date.clone().unwrap_or_default(),
                    step: s.step.clone(),
                    text: s.text.clone(),
                })
                .collect(),
            panels: c.panels.clone().unwrap_or_default(),
            moderation_mode: c.moderation_mode.as_str().to_owned(),
            min_length: c.min_length.to_string(),
            max_length: c.max_length.to_string(),
            max_depth: c.max_depth.to_string(),
            allow_links: c.allow_links,
            hide_tallies_until_reacted: c.hide_tallies_until_reacted,
            hold_first_post: c.hold_first_post,
            response: c.response.clone().unwrap_or_default(),
            action: String::new(),
            erratum: String::new(),
            confirm: false,
        }
    }

    /// The form from posted pairs; repeated names (`panels`, `frame_title`, …) keep
    /// their order.
    fn from_pairs(pairs: Vec<(String, String)>) -> CaseFields {
        let mut f = CaseFields::default();
        let (mut frame_titles, mut frame_texts) = (Vec::new(), Vec::new());
        let (mut dates, mut steps, mut texts) = (Vec::new(), Vec::new(), Vec::new());
        for (k, v) in pairs {
            // Browsers send line breaks as CR LF; the case text keeps plain LF, so
            // paragraphs split and an unchanged text compares equal.
            let v = v.replace("\r\n", "\n");
            match k.as_str() {
                "gemeente" => f.municipality = v,
                "title" => f.title = v,
                "domain" => f.domain = v,
                "provision" => f.provision = v,
                "outcome" => f.outcome = v,
                "summary" => f.summary = v,
                "situation" => f.situation = v,
                "decision" => f.decision = v,
                "considerations" => f.considerations = v,
                "questions" => f.questions = v,
                "frame_title" => frame_titles.push(v),
                "frame_text" => frame_texts.push(v),
                "trail_date" => dates.push(v),
                "trail_step" => steps.push(v),
                "trail_text" => texts.push(v),
                "panels" => f.panels.push(v),
                "moderation_mode" => f.moderation_mode = v,
                "min_length" => f.min_length = v,
                "max_length" => f.max_length = v,
                "max_depth" => f.max_depth = v,
                "allow_links" => f.allow_links = true,
                "hide_tallies_until_reacted" => f.hide_tallies_until_reacted = true,
                "hold_first_post" => f.hold_first_post = true,
                "response" => f.response = v,
                "actie" => f.action = v,
                "erratum" => f.erratum = v,
                "bevestig_bevindingen" => f.confirm = true,
                _ => {}
            }
        }
        let n = frame_titles.len().max(frame_texts.len());
        f.frame = (0..n)
            .map(|i| FrameRow {
                title: frame_titles.get(i).cloned().unwrap_or_default(),
                text: frame_texts.get(i).cloned().unwrap_or_default(),
            })
            .filter(|r| !(r.title.trim().is_empty() && r.text.trim().is_empty()))
            .collect();
        let n = dates.len().max(steps.len()).max(texts.len());
        f.trail = (0..n)
            .map(|i| TrailRow {
                date: dates.get(i).cloned().unwrap_or_default(),
                step: steps.get(i).cloned().unwrap_or_default(),
                text: texts.get(i).cloned().unwrap_or_default(),
            })
            .filter(|r| {
                !(r.date.trim().is_empty() && r.step.trim().is_empty() && r.text.trim().is_empty())
            })
            .collect();
        f
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn frame_items(&self) -> Vec<FrameItem> {
        self.frame
            .iter()
            .map(|r| FrameItem {
                title: r.title.trim().to_owned(),
                text: r.text.trim().to_owned(),
            })
            .collect()
    }

    fn trail_steps(&self) -> Vec<TrailStep> {
        self.trail
            .iter()
            .map(|r| TrailStep {
                date: Some(r.date.trim().to_owned()).filter(|d| !d.is_empty()),
                step: r.step.trim().to_owned(),
                text: r.text.trim().to_owned(),
            })
            .collect()
    }

    /// The three numbers, or errors beside the fields that hold no whole number.
    fn numbers(&self, t: &Tr, errors: &mut FieldErrors) -> Option<(i32, i32, i32)> {
        let mut parse = |field: &'static str, value: &str| match value.trim().parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.set(field, t.t("staff.editor.number_invalid").to_owned());
                None
            }
        };
        let min = parse("min_length", &self.min_length);
        let max = parse("max_length", &self.max_length);
        let depth = parse("max_depth", &self.max_depth);
        Some((min?, max?, depth?))
    }

    fn to_new_case(&self, (min, max, depth): (i32, i32, i32)) -> NewCase {
        NewCase {
            municipality: self.municipality.clone(),
            title: self.title.clone(),
            domain: self.domain.clone(),
            provision: self.provision.clone(),
            outcome: self.outcome.clone(),
            summary: self.summary.clone(),
            situation: self.situation.clone(),
            decision: self.decision.clone(),
            considerations: Self::lines(&self.considerations),
            frame: self.frame_items(),
            trail: self.trail_steps(),
            questions: Self::lines(&self.questions),
            panels: self.panels.clone(),
            moderation_mode: Some(self.moderation_mode.clone()),
            min_length: Some(min),
            max_length: Some(max),
            max_depth: Some(depth),
            allow_links: Some(self.allow_links),
            hide_tallies_until_reacted: Some(self.hide_tallies_until_reacted),
            hold_first_post: Some(self.hold_first_post),
        }
    }

    fn changes(&self, numbers: (i32, i32, i32)) -> CaseChanges {
        let n = self.to_new_case(numbers);
        CaseChanges {
            title: Some(n.title),
            domain: Some(n.domain),
            provision: Some(n.provision),
            outcome: Some(n.outcome),
            summary: Some(n.summary),
            situation: Some(n.situation),
            decision: Some(n.decision),
            considerations: Some(n.considerations),
            frame: Some(n.frame),
            trail: Some(n.trail),
            questions: Some(n.questions),
            panels: Some(n.panels),
            moderation_mode: n.moderation_mode,
            min_length: n.min_length,
            max_length: n.max_length,
            max_depth: n.max_depth,
            allow_links: n.allow_links,
            hide_tallies_until_reacted: n.hide_tallies_until_reacted,
            hold_first_post: n.hold_first_post,
            response: None,
            erratum: None,
            confirm_findings: self.confirm,
        }
    }

    /// The changes of an erratum: the text fields only, with the reason.
    fn erratum_changes(&self) -> CaseChanges {
        CaseChanges {
            title: Some(self.title.clone()),
            provision: Some(self.provision.clone()),
            summary: Some(self.summary.clone()),
            situation: Some(self.situation.clone()),
            decision: Some(self.decision.clone()),
            considerations: Some(Self::lines(&self.considerations)),
            frame: Some(self.frame_items()),
            trail: Some(self.trail_steps()),
            questions: Some(Self::lines(&self.questions)),
            erratum: Some(self.erratum.clone()),
            confirm_findings: self.confirm,
            ..CaseChanges::default()
        }
    }

    /// The texts as the service will store them.
    fn typed(&self) -> Typed {
        Typed {
            title: self.title.trim().to_owned(),
            provision: self.provision.trim().to_owned(),
            summary: self.summary.trim().to_owned(),
            situation: self.situation.trim().to_owned(),
            decision: self.decision.trim().to_owned(),
            considerations: Self::lines(&self.considerations),
            frame: self.frame_items(),
            trail: self.trail_steps(),
            questions: Self::lines(&self.questions),
            response: self.response.trim().to_owned(),
        }
    }

    /// The case as panelists will see it, with the findings marked.
    fn preview(&self, typed: &Typed, findings: &[CaseFinding]) -> Preview {
        let spans =
            |field: &str, index: Option<usize>, part: Option<&str>| -> Vec<(usize, usize)> {
                findings
                    .iter()
                    .filter(|f| f.field == field && f.index == index && f.part == part)
                    .map(|f| (f.start, f.end))
                    .collect()
            };
        let one = |field: &str, text: &str| marked(text, &spans(field, None, None));
        let item = |field: &str, i: usize, part: Option<&str>, text: &str| {
            marked(text, &spans(field, Some(i), part))
        };
        let items = |field: &str, list: &[String]| -> Vec<Vec<Segment>> {
            list.iter()
                .enumerate()
                .map(|(i, s)| item(field, i, None, s))
                .collect()
        };
        Preview {
            title: one("title", &typed.title),
            domain_key: format!("domain.{}", self.domain),
            provision: one("provision", &typed.provision),
            outcome_key: Outcome::parse(&self.outcome)
                .map(|o| format!("outcome.{}", o.as_str()))
                .unwrap_or_default(),
            summary: one("summary", &typed.summary),
            situation: marked_paragraphs(&typed.situation, &spans("situation", None, None)),
            decision: marked_paragraphs(&typed.decision, &spans("decision", None, None)),
            considerations: items("considerations", &typed.considerations),
            frame: typed
                .frame
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    (
                        item("frame", i, Some("title"), &f.title),
                        item("frame", i, Some("text"), &f.text),
                    )
                })
                .collect(),
            trail: typed
                .trail
                .iter()
                .enumerate()
                .map(|(i, t)| PreviewStep {
                    date: item(
                        "trail",
                        i,
                        Some("date"),
                        t.date.as_deref().unwrap_or_default(),
                    ),
                    step: item("trail", i, Some("step"), &t.step),
                    text: item("trail", i, Some("text"), &t.text),
                })
                .collect(),
            questions: items("questions", &typed.questions),
            hide_tallies: self.hide_tallies_until_reacted,
        }
    }
}

/// The text fields of the form as the service will store them (trimmed, lists split).
struct Typed {
    title: String,
    provision: String,
    summary: String,
    situation: String,
    decision: String,
    considerations: Vec<String>,
    frame: Vec<FrameItem>,
    trail: Vec<TrailStep>,
    questions: Vec<String>,
    response: String,
}

impl Typed {
    fn texts(&self) -> CaseTexts<'_> {
        CaseTexts {
            title: &self.title,
            provision: &self.provision,
            summary: &self.summary,
            situation: &self.situation,
            decision: &self.decision,
            considerations: &self.considerations,
            frame: &self.frame,
            trail: &self.trail,
            questions: &self.questions,
            response: Some(self.response.as_str()).filter(|r| !r.is_empty()),
        }
    }

    /// The text a finding points into.
    fn piece(&self, f: &CaseFinding) -> &str {
        fn at(list: &[String], index: Option<usize>) -> Option<&str> {
            index.and_then(|i| list.get(i)).map(String::as_str)
        }
        let text = match (f.field, f.part) {
            ("title", _) => Some(self.title.as_str()),
            ("provision", _) => Some(self.provision.as_str()),
            ("summary", _) => Some(self.summary.as_str()),
            ("situation", _) => Some(self.situation.as_str()),
            ("decision", _) => Some(self.decision.as_str()),
            ("response", _) => Some(self.response.as_str()),
            ("considerations", _) => at(&self.considerations, f.index),
            ("questions", _) => at(&self.questions, f.index),
            ("frame", part) => f.index.and_then(|i| self.frame.get(i)).map(|r| match part {
                Some("title") => r.title.as_str(),
                _ => r.text.as_str(),
            }),
            ("trail", part) => f.index.and_then(|i| self.trail.get(i)).map(|r| match part {
                Some("date") => r.date.as_deref().unwrap_or_default(),
                Some("step") => r.step.as_str(),
                _ => r.text.as_str(),
            }),
            _ => None,
        };
        text.unwrap_or_default()
    }
}

/// Characters of context shown on either side of a finding in the list.
const EXCERPT_CONTEXT: usize = 40;

/// A finding in the list above the form: where it is, what it looks like, and the text
/// around it with the finding marked.
struct FindingRow {
    /// Where in the form (`situation`, `kader-tekst-0`, …).
    anchor: String,
    /// The field (and item) in words.
    place: String,
    /// What it seems to be.
    explanation: String,
    /// The text around it, the finding marked.
    excerpt: Vec<Segment>,
}

impl FindingRow {
    fn new(t: &Tr, typed: &Typed, f: &CaseFinding) -> FindingRow {
        let (anchor, part_key) = match (f.field, f.index, f.part) {
            ("frame", Some(i), Some("title")) => (format!("kader-titel-{i}"), Some("frame_title")),
            ("frame", Some(i), _) => (format!("kader-tekst-{i}"), Some("frame_text")),
            ("trail", Some(i), Some("date")) => (format!("verloop-datum-{i}"), Some("trail_date")),
            ("trail", Some(i), Some("step")) => (format!("verloop-stap-{i}"), Some("trail_step")),
            ("trail", Some(i), _) => (format!("verloop-tekst-{i}"), Some("trail_text")),
            (field, _, _) => (field.to_owned(), None),
        };
        let mut place = vec![t.t(&format!("staff.editor.{}", f.field)).to_owned()];
        if let Some(i) = f.index {
            place.push(t.n("staff.findings.item", i + 1));
        }
        if let Some(key) = part_key {
            place.push(t.t(&format!("staff.editor.{key}")).to_owned());
        }
        FindingRow {
            anchor,
            place: place.join(" – "),
            explanation: t.t(&format!("staff.findings.kind.{}", f.kind)).to_owned(),
            excerpt: excerpt(typed.piece(f), f.start, f.end),
        }
    }
}

/// The text around bytes `start..end` of `text`, at most [`EXCERPT_CONTEXT`] characters
/// on either side, with that part marked and `…` where the text goes on.
fn excerpt(text: &str, start: usize, end: usize) -> Vec<Segment> {
    if start > end
        || end > text.len()
        || !text.is_char_boundary(start)
        || !text.is_char_boundary(end)
    {
        return Vec::new();
    }
    let from = text[..start]
        .char_indices()
        .rev()
        .nth(EXCERPT_CONTEXT - 1)
        .map_or(0, |(i, _)| i);
    let to = text[end..]
        .char_indices()
        .nth(EXCERPT_CONTEXT)
        .map_or(text.len(), |(i, _)| end + i);
    let mut out = Vec::new();
    let ellipsis = || Segment {
        text: "…".into(),
        mark: false,
    };
    if from > 0 {
        out.push(ellipsis());
    }
    for mut run in marked(&text[from..to], &[(start - from, end - from)]) {
        run.text = run.text.replace(['\r', '\n'], " ");
        out.push(run);
    }
    if to < text.len() {
        out.push(ellipsis());
    }
    out
}

/// The case as panelists will see it, from the form as typed, findings marked.
struct Preview {
    title: Vec<Segment>,
    domain_key: String,
    provision: Vec<Segment>,
    outcome_key: String,
    summary: Vec<Segment>,
    situation: Vec<Vec<Segment>>,
    decision: Vec<Vec<Segment>>,
    considerations: Vec<Vec<Segment>>,
    frame: Vec<(Vec<Segment>, Vec<Segment>)>,
    trail: Vec<PreviewStep>,
    questions: Vec<Vec<Segment>>,
    hide_tallies: bool,
}

/// One step of the decision trail in the preview.
struct PreviewStep {
    date: Vec<Segment>,
    step: Vec<Segment>,
    text: Vec<Segment>,
}

struct PanelChoice {
    slug: String,
    name: String,
    members: u64,
    checked: bool,
}

/// The status part of the editor: what can be done next.
#[derive(Default)]
struct StatusPart {
    opens_text: String,
    closes_text: String,
    opens_at: String,
    closes_at: String,
    can_schedule: bool,
    can_open: bool,
    can_close: bool,
    /// The stored text has findings: opening and scheduling need the confirmation box.
    needs_confirm: bool,
    schedule_error: Option<String>,
    /// The closing time in the form that moves it (`datetime-local`), and its error.
    closing_at: String,
    closing_error: Option<String>,
    error: Option<String>,
}

/// A correction already made, for the erratum part of the editor.
struct CorrectionRow {
    date: String,
    fields: String,
    note: String,
}

#[derive(Template)]
#[template(path = "staff_case_editor.html")]
struct EditorPage {
    t: Tr,
    c: Chrome,
    case_id: Option<i64>,
    action: String,
    status_key: String,
    editable: bool,
    places: Vec<Place>,
    f: CaseFields,
    e: FieldErrors,
    form_error: Option<String>,
    panels: Vec<PanelChoice>,
    domains: Vec<(&'static str, String)>,
    outcomes: Vec<(&'static str, String)>,
    modes: Vec<(&'static str, String)>,
    frame_rows: Vec<(usize, FrameRow)>,
    trail_rows: Vec<(usize, TrailRow)>,
    preview: Option<Preview>,
    flash: Option<String>,
    status: StatusPart,
    /// Findings of personal data in the text shown.
    findings: Vec<FindingRow>,
    /// Whether the text form shows the confirmation box (a scheduled or open case whose
    /// text has findings: saving a changed text with findings needs it).
    form_confirm: bool,
    /// Earlier errata of an open case.
    corrections: Vec<CorrectionRow>,
}

/// What to show besides the case: a failed form, a preview, a confirmation.
#[derive(Default)]
struct EditorExtras {
    fields: Option<CaseFields>,
    errors: FieldErrors,
    form_error: Option<String>,
    preview: bool,
    flash: Option<String>,
    schedule_error: Option<String>,
    status_error: Option<String>,
    schedule_values: Option<(String, String)>,
    /// The closing time as typed in the form that moves it, and why it was refused.
    closing_value: Option<String>,
    closing_error: Option<String>,
}

fn rows<T: Clone + Default>(items: &[T]) -> Vec<(usize, T)> {
    items
        .iter()
        .cloned()
        .chain(std::iter::repeat_n(T::default(), SPARE_ROWS))
        .enumerate()
        .collect()
}

/// Renders the editor of a new case (`case` is `None`) or of a stored one.
async fn render_editor(
    state: &AppState,
    v: &Viewer,
    case: Option<&CaseView>,
    municipality: &str,
    places: Vec<Place>,
    extras: EditorExtras,
    code: StatusCode,
) -> Response {
    let actor = match actor_of(v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let panel_list: Vec<PanelSummary> = match state.service.list_panels(actor, municipality).await {
        Ok(p) => p,
        Err(e) => return v.fail(e),
    };
    let f = extras.fields.unwrap_or_else(|| match case {
        Some(c) => CaseFields::of_case(c),
        None => CaseFields::blank(municipality),
    });
    let panels = panel_list
        .into_iter()
        .map(|p| PanelChoice {
            checked: f.panels.contains(&p.slug),
            slug: p.slug,
            name: p.name,
            members: p.members,
        })
        .collect();
    let mut status = StatusPart {
        needs_confirm: case.is_some_and(|c| c.findings.as_ref().is_some_and(|f| !f.is_empty())),
        schedule_error: extras.schedule_error,
        closing_error: extras.closing_error,
        error: extras.status_error,
        ..StatusPart::default()
    };
    let typed = f.typed();
    let found = case_text::screen_case(&typed.texts());
    let findings: Vec<FindingRow> = found
        .iter()
        .map(|x| FindingRow::new(&v.t, &typed, x))
        .collect();
    let corrections = case
        .map(|c| {
            c.corrections
                .iter()
                .map(|e| CorrectionRow {
                    date: local_date(e.at),
                    fields: e
                        .fields
                        .iter()
                        .map(|f| v.t.t(&format!("staff.editor.{f}")).to_owned())
                        .collect::<Vec<_>>()
                        .join(", "),
                    note: e.note.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let (case_id, action, status_key, editable) = match case {
        Some(c) => {
            status.opens_text = c.opens_at.map(local_time).unwrap_or_default();
            status.closes_text = c.closes_at.map(local_time).unwrap_or_default();
            (status.opens_at, status.closes_at) = extras.schedule_values.unwrap_or_else(|| {
                (
                    c.opens_at.map(datetime_local).unwrap_or_default(),
                    c.closes_at.map(datetime_local).unwrap_or_default(),
                )
            });
            status.can_schedule = c.status.editable();
            status.can_open = c.status.editable();
            status.can_close = c.status == CaseStatus::Open;
            status.closing_at = extras
                .closing_value
                .unwrap_or_else(|| c.closes_at.map(datetime_local).unwrap_or_default());
            (
                Some(c.id),
                format!("/beheer/casus/{}/bewerken", c.id),
                format!("status.{}", c.status.as_str()),
                c.status.editable(),
            )
        }
        None => (
            None,
            "/beheer/casus/nieuw".to_owned(),
            "status.draft".to_owned(),
            true,
        ),
    };
    let form_confirm = case.is_some_and(|c| c.status != CaseStatus::Draft) && !findings.is_empty();
    let page = EditorPage {
        t: v.t,
        c: v.chrome("staff"),
        case_id,
        action,
        status_key,
        editable,
        places,
        preview: extras.preview.then(|| f.preview(&typed, &found)),
        findings,
        form_confirm,
        corrections,
        frame_rows: rows(&f.frame),
        trail_rows: rows(&f.trail),
        f,
        e: extras.errors,
        form_error: extras.form_error,
        panels,
        domains: choices(LegalDomain::ALL, LegalDomain::as_str, "domain"),
        outcomes: choices(Outcome::ALL, Outcome::as_str, "outcome"),
        modes: choices(
            ModerationMode::ALL,
            ModerationMode::as_str,
            "staff.editor.mode",
        ),
        flash: extras.flash,
        status,
    };
    let mut resp = (code, render(&page)).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

/// The text of a service error on the editor page. A refusal for findings names the
/// fields by their labels.
fn error_text(t: &Tr, e: &Error) -> String {
    if e.code() == "case_personal_data" {
        let fields: Vec<String> = e
            .fields()
            .iter()
            .map(|f| t.t(&format!("staff.editor.{f}")).to_owned())
            .collect();
        return format!("{} {}.", t.t("staff.findings.refused"), fields.join(", "));
    }
    t.error(e.code(), &e.message())
}

/// Puts a service error beside its field, or above the form.
fn place_error(t: &Tr, e: &Error, extras: &mut EditorExtras) {
    let mut message = error_text(t, e);
    match crate::service::cases::error_field(e) {
        Some(field) => {
            let label = t.t(&format!("staff.editor.{field}")).to_owned();
            message = message.replace(&format!("'{field}'"), &format!("‘{label}’"));
            extras.errors.set(field, message);
        }
        None => extras.form_error = Some(message),
    }
}

/// `GET /beheer/casus/nieuw?gemeente=SLUG`: the form for a new case (admins).
pub async fn new_case_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<StaffQuery>,
) -> Response {
    let (places, current) = match admin_places(&state, &v, q.gemeente.as_deref()).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    render_editor(
        &state,
        &v,
        None,
        &current.slug,
        places,
        EditorExtras::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /beheer/casus/nieuw`: previews or creates a case as a draft.
pub async fn new_case(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<Vec<(String, String)>>,
) -> Response {
    let f = CaseFields::from_pairs(form);
    let (places, current) = match admin_places(&state, &v, Some(&f.municipality)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut extras = EditorExtras::default();
    if f.action == "voorbeeld" {
        extras.preview = true;
        extras.fields = Some(f);
        return render_editor(
            &state,
            &v,
            None,
            &current.slug,
            places,
            extras,
            StatusCode::OK,
        )
        .await;
    }
    let Some(numbers) = f.numbers(&v.t, &mut extras.errors) else {
        extras.fields = Some(f);
        return render_editor(
            &state,
            &v,
            None,
            &current.slug,
            places,
            extras,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    match state
        .service
        .create_case(actor, f.to_new_case(numbers), &ctx)
        .await
    {
        Ok(c) => see_other(&format!("/beheer/casus/{}/bewerken?ok=created", c.id)),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let code = crate::http::error::status_of(&e);
            place_error(&v.t, &e, &mut extras);
            extras.fields = Some(f);
            render_editor(&state, &v, None, &current.slug, places, extras, code).await
        }
        Err(e) => v.fail(e),
    }
}

/// Loads a case for its editor and renders the page.
async fn editor_for(
    state: &AppState,
    v: &Viewer,
    id: i64,
    extras: EditorExtras,
    code: StatusCode,
) -> Response {
    let actor = match actor_of(v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let case = match state.service.case_for_editing(actor, id).await {
        Ok(c) => c,
        Err(e) => return v.fail(e),
    };
    render_editor(
        state,
        v,
        Some(&case),
        &case.municipality,
        Vec::new(),
        extras,
        code,
    )
    .await
}

/// `GET /beheer/casus/{id}/bewerken`: the form of a stored case with its status
/// actions (admins).
pub async fn edit_case_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<StaffQuery>,
) -> Response {
    let extras = EditorExtras {
        flash: flash(&v.t, q.ok.as_deref()),
        ..EditorExtras::default()
    };
    editor_for(&state, &v, id, extras, StatusCode::OK).await
}

/// `POST /beheer/casus/{id}/bewerken`: previews or saves changes. Until the case
/// opens every field can change; after that the text only as an erratum (`actie=erratum`,
/// with a reason), and the municipality's response.
pub async fn edit_case(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<Vec<(String, String)>>,
) -> Response {
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let case = match state.service.case_for_editing(actor, id).await {
        Ok(c) => c,
        Err(e) => return v.fail(e),
    };
    let mut f = CaseFields::from_pairs(form);
    f.municipality = case.municipality.clone();
    let mut extras = EditorExtras::default();
    let changes = if case.status.editable() {
        if f.action == "voorbeeld" {
            extras.preview = true;
            extras.fields = Some(f);
            return editor_for(&state, &v, id, extras, StatusCode::OK).await;
        }
        match f.numbers(&v.t, &mut extras.errors) {
            Some(n) => f.changes(n),
            None => {
                extras.fields = Some(f);
                return editor_for(&state, &v, id, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        }
    } else if matches!(f.action.as_str(), "erratum" | "voorbeeld") {
        // The erratum form holds the text fields only; the rest stays as stored.
        let mut typed = CaseFields::of_case(&case);
        typed.title = f.title;
        typed.provision = f.provision;
        typed.summary = f.summary;
        typed.situation = f.situation;
        typed.decision = f.decision;
        typed.considerations = f.considerations;
        typed.questions = f.questions;
        typed.frame = f.frame;
        typed.trail = f.trail;
        typed.erratum = f.erratum;
        typed.confirm = f.confirm;
        typed.action = f.action;
        f = typed;
        if f.action == "voorbeeld" {
            extras.preview = true;
            extras.fields = Some(f);
            return editor_for(&state, &v, id, extras, StatusCode::OK).await;
        }
        f.erratum_changes()
    } else {
        CaseChanges {
            response: Some(f.response.clone()),
            ..CaseChanges::default()
        }
    };
    let erratum = changes.erratum.is_some();
    match state.service.update_case(actor, id, changes, &ctx).await {
        Ok(_) => see_other(&format!(
            "/beheer/casus/{id}/bewerken?ok={}",
            if erratum { "corrected" } else { "saved" }
        )),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let code = crate::http::error::status_of(&e);
            place_error(&v.t, &e, &mut extras);
            if !case.status.editable() && !erratum {
                let mut kept = CaseFields::of_case(&case);
                kept.response = f.response;
                f = kept;
            }
            extras.fields = Some(f);
            editor_for(&state, &v, id, extras, code).await
        }
        Err(e) => v.fail(e),
    }
}

/// The scheduling form.
#[derive(Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    opens_at: String,
    #[serde(default)]
    closes_at: String,
    /// Ticked: the findings in the text are not personal data of a real person.
    #[serde(default)]
    bevestig_bevindingen: Option<String>,
}

/// The form that moves an open case's closing time.
#[derive(Deserialize)]
pub struct ClosingForm {
    #[serde(default)]
    closes_at: String,
}

/// `POST /beheer/casus/{id}/sluittijd`: moves the closing time of an open case (Dutch
/// local time; empty: open until closed by hand).
pub async fn move_closing(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<ClosingForm>,
) -> Response {
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut extras = EditorExtras {
        closing_value: Some(form.closes_at.clone()),
        ..EditorExtras::default()
    };
    let closes_at = if form.closes_at.trim().is_empty() {
        None
    } else {
        match parse_datetime_local(&form.closes_at) {
            Some(at) => Some(at),
            None => {
                extras.closing_error = Some(v.t.t("staff.status.time_invalid").to_owned());
                return editor_for(&state, &v, id, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        }
    };
    match state
        .service
        .move_closing(actor, id, Closing { closes_at }, &ctx)
        .await
    {
        Ok(_) => see_other(&format!(
            "/beheer/casus/{id}/bewerken?ok=closing_moved#status"
        )),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let code = crate::http::error::status_of(&e);
            extras.closing_error = Some(error_text(&v.t, &e));
            editor_for(&state, &v, id, extras, code).await
        }
        Err(e) => v.fail(e),
    }
}

/// The button that opens a case now, with the confirmation box when the text has
/// findings.
#[derive(Deserialize)]
pub struct OpenForm {
    /// Ticked: the findings in the text are not personal data of a real person.
    #[serde(default)]
    bevestig_bevindingen: Option<String>,
}

/// `POST /beheer/casus/{id}/planning`: sets when the case opens and closes (Dutch
/// local time).
pub async fn schedule_case(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<ScheduleForm>,
) -> Response {
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut extras = EditorExtras {
        schedule_values: Some((form.opens_at.clone(), form.closes_at.clone())),
        ..EditorExtras::default()
    };
    let opens = parse_datetime_local(&form.opens_at);
    let closes = if form.closes_at.trim().is_empty() {
        Ok(None)
    } else {
        parse_datetime_local(&form.closes_at).map(Some).ok_or(())
    };
    let (Some(opens_at), Ok(closes_at)) = (opens, closes) else {
        extras.schedule_error = Some(v.t.t("staff.status.time_invalid").to_owned());
        return editor_for(&state, &v, id, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match state
        .service
        .schedule_case(
            actor,
            id,
            Schedule {
                opens_at,
                closes_at,
                confirm_findings: form.bevestig_bevindingen.is_some(),
            },
            &ctx,
        )
        .await
    {
        Ok(_) => see_other(&format!("/beheer/casus/{id}/bewerken?ok=scheduled#status")),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let code = crate::http::error::status_of(&e);
            extras.schedule_error = Some(error_text(&v.t, &e));
            editor_for(&state, &v, id, extras, code).await
        }
        Err(e) => v.fail(e),
    }
}

/// Opens (`Some`, with the confirmation of findings) or closes (`None`) a case now,
/// back to the editor with a confirmation or the reason it could not.
async fn transition(state: &AppState, v: &Viewer, id: i64, open: Option<OpenCase>) -> Response {
    let (actor, ctx) = match acting(v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let opening = open.is_some();
    let result = match open {
        Some(o) => state.service.open_case(actor, id, o, &ctx).await,
        None => state.service.close_case(actor, id, &ctx).await,
    };
    match result {
        Ok(_) => see_other(&format!(
            "/beheer/casus/{id}/bewerken?ok={}#status",
            if opening { "opened" } else { "closed" }
        )),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let code = crate::http::error::status_of(&e);
            let extras = EditorExtras {
                status_error: Some(error_text(&v.t, &e)),
                ..EditorExtras::default()
            };
            editor_for(state, v, id, extras, code).await
        }
        Err(e) => v.fail(e),
    }
}

/// `POST /beheer/casus/{id}/openen`: opens the case now (with findings in its text only
/// when the confirmation box is ticked).
pub async fn open_case(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<OpenForm>,
) -> Response {
    let open = OpenCase {
        confirm_findings: form.bevestig_bevindingen.is_some(),
    };
    transition(&state, &v, id, Some(open)).await
}

/// `POST /beheer/casus/{id}/sluiten`: closes the case now.
pub async fn close_case(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, .. }: SessionForm<serde::de::IgnoredAny>,
) -> Response {
    transition(&state, &v, id, None).await
}

// ---------------------------------------------------------------------------------
// Panels and invitations

#[derive(Template)]
#[template(path = "staff_panels.html")]
struct PanelsPage {
    t: Tr,
    c: Chrome,
    places: Vec<Place>,
    municipality: String,
    municipality_name: String,
    panels: Vec<PanelSummary>,
    name: String,
    slug: String,
    e: FieldErrors,
    form_error: Option<String>,
    invite_slug: String,
    invite_count: String,
    invite_error: Option<String>,
    max_invites: u32,
    flash: Option<String>,
}

/// A failed panel or invitation form.
#[derive(Default)]
struct PanelsExtras {
    name: String,
    slug: String,
    errors: FieldErrors,
    form_error: Option<String>,
    invite_slug: String,
    invite_count: String,
    invite_error: Option<String>,
    flash: Option<String>,
}

async fn render_panels(
    state: &AppState,
    v: &Viewer,
    chosen: Option<&str>,
    extras: PanelsExtras,
    code: StatusCode,
) -> Response {
    let (places, current) = match admin_places(state, v, chosen).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let actor = match actor_of(v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let panels = match state.service.list_panels(actor, &current.slug).await {
        Ok(p) => p,
        Err(e) => return v.fail(e),
    };
    let page = PanelsPage {
        t: v.t,
        c: v.chrome("staff"),
        places,
        municipality: current.slug,
        municipality_name: current.name,
        panels,
        name: extras.name,
        slug: extras.slug,
        e: extras.errors,
        form_error: extras.form_error,
        invite_slug: extras.invite_slug,
        invite_count: extras.invite_count,
        invite_error: extras.invite_error,
        max_invites: crate::service::panels::MAX_WEB_INVITES,
        flash: extras.flash,
    };
    (code, render(&page)).into_response()
}

/// `GET /beheer/panels?gemeente=SLUG`: the municipality's panels (admins).
pub async fn panels_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<StaffQuery>,
) -> Response {
    let extras = PanelsExtras {
        flash: flash(&v.t, q.ok.as_deref()),
        ..PanelsExtras::default()
    };
    render_panels(&state, &v, q.gemeente.as_deref(), extras, StatusCode::OK).await
}

/// The new-panel form.
#[derive(Deserialize)]
pub struct PanelForm {
    #[serde(default)]
    gemeente: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
}

/// `POST /beheer/panels`: creates a panel.
pub async fn add_panel(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<PanelForm>,
) -> Response {
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    match state
        .service
        .add_panel(actor, &form.gemeente, &form.slug, &form.name, &ctx)
        .await
    {
        Ok(_) => see_other(&format!(
            "/beheer/panels?gemeente={}&ok=panel_created",
            form.gemeente
        )),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let code = crate::http::error::status_of(&e);
            let message = v.t.error(e.code(), &e.message());
            let mut extras = PanelsExtras {
                name: form.name,
                slug: form.slug,
                ..PanelsExtras::default()
            };
            match e.code() {
                "invalid_name" => extras.errors.set("name", message),
                "invalid_slug" | "slug_taken" => extras.errors.set("slug", message),
                _ => extras.form_error = Some(message),
            }
            render_panels(&state, &v, Some(&form.gemeente), extras, code).await
        }
        Err(e) => v.fail(e),
    }
}

/// The invitation form.
#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    gemeente: String,
    #[serde(default)]
    count: String,
    #[serde(default)]
    separator: String,
}

/// `POST /beheer/panels/{slug}/uitnodigingen`: makes a batch of letters and answers
/// with the page that holds them (PDF) and the mail-merge sheet (CSV). The codes exist
/// only in this answer.
pub async fn invites(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    SessionForm { viewer: v, form }: SessionForm<InviteForm>,
) -> Response {
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let failed = |message: String| PanelsExtras {
        invite_slug: slug.clone(),
        invite_count: form.count.clone(),
        invite_error: Some(message),
        ..PanelsExtras::default()
    };
    let Ok(count) = form.count.trim().parse::<u32>() else {
        let extras = failed(v.t.t("staff.panels.count_invalid").to_owned());
        return render_panels(
            &state,
            &v,
            Some(&form.gemeente),
            extras,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let batch = match state
        .service
        .create_invitation_batch(actor, &slug, count, &ctx)
        .await
    {
        Ok(b) => b,
        Err(e @ Error::Invalid { .. }) => {
            let code = crate::http::error::status_of(&e);
            let extras = failed(v.t.error(e.code(), &e.message()));
            return render_panels(&state, &v, Some(&form.gemeente), extras, code).await;
        }
        Err(e) => return v.fail(e),
    };
    let separator = Separator::parse(&form.separator).unwrap_or_default();
    super::letters::made_page(&state, &v, &batch, separator)
}

// ---------------------------------------------------------------------------------
// Staff accounts

struct MemberRow {
    id: i64,
    name: String,
    email: String,
    /// `(word, label key, name of the revoke button for screen readers)`.
    roles: Vec<(&'static str, String, String)>,
    last_login: String,
    me: bool,
    disabled: bool,
}

/// An invitation of an account from elsewhere, waiting for its holder: the address and
/// role only.
struct InvitationRow {
    id: i64,
    email: String,
    role_key: String,
    created: String,
    expires: String,
    expired: bool,
}

#[derive(Template)]
#[template(path = "staff_people.html")]
struct PeoplePage {
    t: Tr,
    c: Chrome,
    places: Vec<Place>,
    municipality: String,
    municipality_name: String,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    email: String,
    name: String,
    role: String,
    roles: Vec<(&'static str, String)>,
    e: FieldErrors,
    form_error: Option<String>,
    flash: Option<String>,
}

/// A failed staff form.
#[derive(Default)]
struct PeopleExtras {
    email: String,
    name: String,
    role: String,
    errors: FieldErrors,
    form_error: Option<String>,
    flash: Option<String>,
}

async fn render_people(
    state: &AppState,
    v: &Viewer,
    chosen: Option<&str>,
    extras: PeopleExtras,
    code: StatusCode,
) -> Response {
    let (places, current) = match admin_places(state, v, chosen).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (actor, me) = match (actor_of(v), staff_of(v)) {
        (Ok(a), Ok(s)) => (a, s.id),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let list = match state.service.list_staff(actor, &current.slug).await {
        Ok(l) => l,
        Err(e) => return v.fail(e),
    };
    let invitations = match state
        .service
        .list_staff_invitations(actor, &current.slug)
        .await
    {
        Ok(l) => l
            .into_iter()
            .map(|i| InvitationRow {
                id: i.id,
                email: i.email,
                role_key: format!("role.{}", i.role.as_str()),
                created: local_time(i.created_at),
                expires: local_time(i.expires_at),
                expired: i.expired,
            })
            .collect(),
        Err(e) => return v.fail(e),
    };
    let members = list
        .into_iter()
        .map(|s| MemberRow {
            me: s.id == me,
            id: s.id,
            email: s.email,
            roles: s
                .roles
                .iter()
                .map(|r| {
                    let label = v.t.of("role", r.as_str());
                    let what =
                        v.t.with("staff.people.revoke_what", "role", &label)
                            .replace("{name}", &s.name);
                    (r.as_str(), format!("role.{}", r.as_str()), what)
                })
                .collect(),
            name: s.name,
            last_login: s.last_login_at.map(local_time).unwrap_or_default(),
            disabled: s.disabled,
        })
        .collect();
    let page = PeoplePage {
        t: v.t,
        c: v.chrome("staff"),
        places,
        municipality: current.slug,
        municipality_name: current.name,
        members,
        invitations,
        role: if extras.role.is_empty() {
            Role::Moderator.as_str().to_owned()
        } else {
            extras.role
        },
        email: extras.email,
        name: extras.name,
        roles: choices(Role::ALL, Role::as_str, "role"),
        e: extras.errors,
        form_error: extras.form_error,
        flash: extras.flash,
    };
    (code, render(&page)).into_response()
}

/// `GET /beheer/medewerkers?gemeente=SLUG`: the municipality's staff (admins).
pub async fn people_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<StaffQuery>,
) -> Response {
    let extras = PeopleExtras {
        flash: flash(&v.t, q.ok.as_deref()),
        ..PeopleExtras::default()
    };
    render_people(&state, &v, q.gemeente.as_deref(), extras, StatusCode::OK).await
}

/// The new-staff form.
#[derive(Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    gemeente: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

#[derive(Template)]
#[template(path = "staff_person_added.html")]
struct PersonAddedPage {
    t: Tr,
    c: Chrome,
    municipality: String,
    municipality_name: String,
    email: String,
    name: String,
    role_key: String,
    password: String,
}

#[derive(Template)]
#[template(path = "staff_person_invited.html")]
struct PersonInvitedPage {
    t: Tr,
    c: Chrome,
    municipality: String,
    municipality_name: String,
    email: String,
    role_key: String,
    code: String,
    expires: String,
}

/// `POST /beheer/medewerkers`: gives someone a role (see [`StaffGrant`]). A new
/// account's generated password is shown once, on the answer to this post (never
/// stored or sent elsewhere); an account that already works here gains the role; an
/// account from elsewhere is invited, and the answer says so and shows the acceptance
/// code once, with nothing else of that account.
pub async fn add_person(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<PersonForm>,
) -> Response {
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut extras = PeopleExtras {
        email: form.email.clone(),
        name: form.name.clone(),
        role: form.role.clone(),
        ..PeopleExtras::default()
    };
    let Some(role) = Role::parse(&form.role) else {
        extras
            .errors
            .set("role", v.t.t("staff.people.role_invalid").to_owned());
        return render_people(
            &state,
            &v,
            Some(&form.gemeente),
            extras,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let (places, current) = match admin_places(&state, &v, Some(&form.gemeente)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    drop(places);
    match state
        .service
        .add_staff(actor, &current.slug, &form.email, &form.name, role, &ctx)
        .await
    {
        Ok(added) => {
            let mut resp = match (added.grant, added.password) {
                (StaffGrant::Created(staff), Some(password)) => render(&PersonAddedPage {
                    t: v.t,
                    c: v.chrome("staff"),
                    municipality: current.slug,
                    municipality_name: current.name,
                    email: staff.email,
                    name: staff.name,
                    role_key: format!("role.{}", role.as_str()),
                    password,
                }),
                (
                    StaffGrant::Invited {
                        email,
                        code,
                        expires_at,
                    },
                    _,
                ) => render(&PersonInvitedPage {
                    t: v.t,
                    c: v.chrome("staff"),
                    municipality: current.slug,
                    municipality_name: current.name,
                    email,
                    role_key: format!("role.{}", role.as_str()),
                    code,
                    expires: local_time(expires_at),
                }),
                _ => {
                    return see_other(&format!(
                        "/beheer/medewerkers?gemeente={}&ok=role_added",
                        current.slug
                    ));
                }
            };
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            resp
        }
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let code = crate::http::error::status_of(&e);
            let message = v.t.error(e.code(), &e.message());
            match e.code() {
                "invalid_email" => extras.errors.set("email", message),
                "invalid_name" => extras.errors.set("name", message),
                _ => extras.form_error = Some(message),
            }
            render_people(&state, &v, Some(&current.slug), extras, code).await
        }
        Err(e) => v.fail(e),
    }
}

/// The revoke button.
#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    gemeente: String,
    #[serde(default)]
    role: String,
}

/// `POST /beheer/medewerkers/{id}/rol-intrekken`: takes a role away.
pub async fn revoke_role(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<RevokeForm>,
) -> Response {
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(role) = Role::parse(&form.role) else {
        return v.fail(Error::bad_request(
            "invalid_form",
            "Het formulier is niet volledig ingevuld.",
        ));
    };
    match state
        .service
        .revoke_staff_role(actor, &form.gemeente, id, role, &ctx)
        .await
    {
        Ok(()) => see_other(&format!(
            "/beheer/medewerkers?gemeente={}&ok=role_revoked",
            form.gemeente
        )),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let code = crate::http::error::status_of(&e);
            let extras = PeopleExtras {
                form_error: Some(v.t.error(e.code(), &e.message())),
                ..PeopleExtras::default()
            };
            render_people(&state, &v, Some(&form.gemeente), extras, code).await
        }
        Err(e) => v.fail(e),
    }
}

/// The withdraw button of a waiting invitation.
#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    gemeente: String,
}

/// `POST /beheer/medewerkers/uitnodigingen/{id}/intrekken`: withdraws an invitation; its
/// code is void from then on.
pub async fn withdraw_invitation(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<WithdrawForm>,
) -> Response {
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    match state
        .service
        .withdraw_staff_invitation(actor, &form.gemeente, id, &ctx)
        .await
    {
        Ok(()) => see_other(&format!(
            "/beheer/medewerkers?gemeente={}&ok=invitation_withdrawn",
            form.gemeente
        )),
        Err(e) => v.fail(e),
    }
}

// ---------------------------------------------------------------------------------
// The municipality's contact, shown to residents on every page.

#[derive(Template)]
#[template(path = "staff_contact.html")]
struct ContactPage {
    t: Tr,
    c: Chrome,
    places: Vec<Place>,
    municipality: String,
    municipality_name: String,
    phone: String,
    email: String,
    hours: String,
    flash: Option<String>,
    errors: ErrorSummary,
    phone_error: Option<String>,
    email_error: Option<String>,
    hours_error: Option<String>,
}

/// The contact form as sent.
#[derive(Deserialize, Default)]
pub struct ContactForm {
    #[serde(default)]
    gemeente: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    hours: String,
}

/// `GET /beheer/contact?gemeente=SLUG`: how residents reach the municipality (admins).
pub async fn contact_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<StaffQuery>,
) -> Response {
    let (places, current) = match admin_places(&state, &v, q.gemeente.as_deref()).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let actor = match actor_of(&v) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let contact = match state.service.contact(actor, &current.slug).await {
        Ok(c) => c,
        Err(e) => return v.fail(e),
    };
    render(&ContactPage {
        t: v.t,
        c: v.chrome("staff"),
        places,
        municipality: current.slug,
        municipality_name: current.name,
        phone: contact.phone.unwrap_or_default(),
        email: contact.email.unwrap_or_default(),
        hours: contact.hours.unwrap_or_default(),
        flash: flash(&v.t, q.ok.as_deref()),
        errors: ErrorSummary::default(),
        phone_error: None,
        email_error: None,
        hours_error: None,
    })
}

/// `POST /beheer/contact`: saves the contact; a refusal comes back with the form.
pub async fn save_contact(
    State(state): State<AppState>,
    SessionForm { viewer: v, form }: SessionForm<ContactForm>,
) -> Response {
    let (actor, ctx) = match acting(&v) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let input = ContactInput {
        phone: Some(form.phone.clone()),
        email: Some(form.email.clone()),
        hours: Some(form.hours.clone()),
    };
    let error = match state
        .service
        .set_contact(actor, &form.gemeente, input, &ctx)
        .await
    {
        Ok(_) => {
            return see_other(&format!(
                "/beheer/contact?gemeente={}&ok=contact_saved#melding",
                form.gemeente
            ));
        }
        Err(e @ Error::Invalid { .. }) => e,
        Err(e) => return v.fail(e),
    };
    let (places, current) = match admin_places(&state, &v, Some(&form.gemeente)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let message = error_text(&v.t, &error);
    let (mut phone_error, mut email_error, mut hours_error) = (None, None, None);
    let field = match error.code() {
        "invalid_contact_phone" => {
            phone_error = Some(message.clone());
            "telefoon"
        }
        "invalid_contact_email" => {
            email_error = Some(message.clone());
            "email"
        }
        _ => {
            hours_error = Some(message.clone());
            "openingstijden"
        }
    };
    let page = ContactPage {
        t: v.t,
        c: v.chrome("staff"),
        places,
        municipality: current.slug,
        municipality_name: current.name,
        phone: form.phone,
        email: form.email,
        hours: form.hours,
        flash: None,
        errors: ErrorSummary::one(field, message),
        phone_error,
        email_error,
        hours_error,
    };
    (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
}
