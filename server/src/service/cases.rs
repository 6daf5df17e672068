//! Cases: reading them (per role), writing and scheduling them (admins), opening and
//! closing them (by hand or when due), and reading a case's event log.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::TryIntoModel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::case_text::{self, CaseCorrection, CaseFinding, CaseTexts};
use super::error::{Error, Result};
use super::policy::{self, Actor};
use super::{AuditContext, Service};
use crate::domain::secrets::random_hex;
use crate::domain::{
    CaseStatus, LegalDomain, ModerationMode, Outcome, Role, Verdict, make_line_breaks_plain,
    text_length,
};
use crate::store::entities::{case, case_event};
use crate::store::{audit, cases, draws, events, people, posts};

/// One rule of the legal frame, explained.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FrameItem {
    /// E.g. "Artikel 2.3.5 Wmo 2015".
    pub title: String,
    /// What it means for this case, in plain words.
    pub text: String,
}

/// One step of the decision trail.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct TrailStep {
    /// Date of the step (`YYYY-MM-DD`), if known.
    #[serde(default)]
    pub date: Option<String>,
    /// E.g. "Keukentafelgesprek".
    pub step: String,
    /// What happened.
    pub text: String,
}

/// Verdict counts of a case.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Tally {
    /// Reactions agreeing with the decision.
    pub eens: i64,
    /// Reactions disagreeing.
    pub oneens: i64,
    /// Reactions in doubt.
    pub twijfel: i64,
    /// All reactions.
    pub total: i64,
}

/// A case as the actor may see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseView {
    /// Case id.
    pub id: i64,
    /// Municipality slug.
    pub municipality: String,
    /// Title.
    pub title: String,
    /// Law the decision was made under.
    pub domain: LegalDomain,
    /// What was applied for.
    pub provision: String,
    /// Outcome of the decision.
    pub outcome: Outcome,
    /// Short summary for lists.
    pub summary: String,
    /// The applicant's situation.
    pub situation: String,
    /// The decision.
    pub decision: String,
    /// The considerations (*overwegingen*).
    pub considerations: Vec<String>,
    /// The legal frame (*kaders*).
    pub frame: Vec<FrameItem>,
    /// The decision trail.
    pub trail: Vec<TrailStep>,
    /// Questions put to the panel.
    pub questions: Vec<String>,
    /// Status.
    pub status: CaseStatus,
    /// When the case opens (or opened).
    pub opens_at: Option<DateTime<Utc>>,
    /// When the case closes (or closed).
    pub closes_at: Option<DateTime<Utc>>,
    /// Post- or pre-moderation.
    pub moderation_mode: ModerationMode,
    /// Minimum length of a post, in characters.
    pub min_length: i32,
    /// Maximum length of a post, in characters.
    pub max_length: i32,
    /// Maximum reply nesting below a reaction.
    pub max_depth: i32,
    /// Whether links are allowed in posts.
    pub allow_links: bool,
    /// Whether panelists see the tally only after giving their own verdict.
    pub hide_tallies_until_reacted: bool,
    /// Whether each panelist's first post is held for a moderator.
    pub hold_first_post: bool,
    /// Slugs of the panels the case is put before (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panels: Option<Vec<String>>,
    /// The municipality's written response, once given.
    pub response: Option<String>,
    /// Parts of the text that look like personal data, per field with byte offsets, so
    /// an editor can highlight them (staff only). A case with findings opens or is
    /// scheduled only with `confirm_findings`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<CaseFinding>>,
    /// Corrections of the text after the case opened (errata), oldest first.
    pub corrections: Vec<CaseCorrection>,
    /// The last sequence number of the case's event log.
    pub event_seq: i64,
    /// Epoch of the event log; a change means positions held by clients are void.
    pub event_epoch: String,
    /// The id of the actor's own reaction, if any (panelists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_reaction_id: Option<i64>,
    /// Verdict counts, when the actor may see them.
    pub tally: Option<Tally>,
}

/// A case in a list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    /// Case id.
    pub id: i64,
    /// Municipality slug.
    pub municipality: String,
    /// Title.
    pub title: String,
    /// What was applied for.
    pub provision: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Summary.
    pub summary: String,
    /// Status.
    pub status: CaseStatus,
    /// When it opens.
    pub opens_at: Option<DateTime<Utc>>,
    /// When it closes.
    pub closes_at: Option<DateTime<Utc>>,
}

impl CaseView {
    /// Whether the case is open now: the only time its thread is live and writable.
    pub fn is_open(&self) -> bool {
        self.status == CaseStatus::Open
    }
}

/// Fields of a new case. Texts are plain; paragraphs are separated by blank lines.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"municipality": "utrecht", "title": "Traplift afgewezen", "domain": "wmo", "provision": "Traplift", "outcome": "afgewezen", "summary": "Een traplift werd afgewezen.", "situation": "Mevrouw A. woont in een eengezinswoning met een trap.", "decision": "De gemeente wijst de traplift af en adviseert te verhuizen.", "considerations": ["Verhuizen is goedkoper dan een traplift."], "frame": [{"title": "Artikel 2.3.5 Wmo 2015", "text": "De gemeente kijkt eerst naar eigen kracht."}], "trail": [{"date": "2026-01-10", "step": "Melding", "text": "Mevrouw meldt zich bij het Wmo-loket."}], "questions": ["Vindt u het besluit redelijk?"], "panels": ["utrecht"]})))]
pub struct NewCase {
    /// Municipality slug.
    pub municipality: String,
    /// Title (3–200 characters).
    pub title: String,
    /// `wmo`, `jeugdwet` or `participatiewet`.
    #[schema(value_type = LegalDomain)]
    pub domain: String,
    /// What was applied for.
    pub provision: String,
    /// `toegekend`, `afgewezen` or `deels_toegekend`.
    #[schema(value_type = Outcome)]
    pub outcome: String,
    /// Short summary.
    #[serde(default)]
    pub summary: String,
    /// The applicant's situation.
    pub situation: String,
    /// The decision.
    pub decision: String,
    /// Considerations.
    #[serde(default)]
    pub considerations: Vec<String>,
    /// Legal frame.
    #[serde(default)]
    pub frame: Vec<FrameItem>,
    /// Decision trail.
    #[serde(default)]
    pub trail: Vec<TrailStep>,
    /// Questions to the panel.
    #[serde(default)]
    pub questions: Vec<String>,
    /// Slugs of the panels to put the case before.
    #[serde(default)]
    pub panels: Vec<String>,
    /// `post` (default) or `pre`.
    #[serde(default)]
    #[schema(value_type = Option<ModerationMode>)]
    pub moderation_mode: Option<String>,
    /// Minimum post length (default 20; 1 up to `max_length`).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub min_length: Option<i32>,
    /// Maximum post length (default 2000, at most 10000).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_length: Option<i32>,
    /// Maximum reply nesting (default 3, at most 10).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10)]
    pub max_depth: Option<i32>,
    /// Whether links are allowed (default no).
    #[serde(default)]
    pub allow_links: Option<bool>,
    /// Whether tallies stay hidden until a panelist reacted (default yes).
    #[serde(default)]
    pub hide_tallies_until_reacted: Option<bool>,
    /// Whether each panelist's first post is held for a moderator (default no).
    #[serde(default)]
    pub hold_first_post: Option<bool>,
}

/// Changes to a case; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"summary": "Een traplift werd afgewezen; verhuizen werd geadviseerd.", "erratum": "De samenvatting noemt nu ook het advies."})))]
pub struct CaseChanges {
    /// Title.
    pub title: Option<String>,
    /// Law.
    #[schema(value_type = Option<LegalDomain>)]
    pub domain: Option<String>,
    /// Provision.
    pub provision: Option<String>,
    /// Outcome.
    #[schema(value_type = Option<Outcome>)]
    pub outcome: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Situation.
    pub situation: Option<String>,
    /// Decision.
    pub decision: Option<String>,
    /// Considerations.
    pub considerations: Option<Vec<String>>,
    /// Legal frame.
    pub frame: Option<Vec<FrameItem>>,
    /// Trail.
    pub trail: Option<Vec<TrailStep>>,
    /// Questions.
    pub questions: Option<Vec<String>>,
    /// Panels.
    pub panels: Option<Vec<String>>,
    /// Moderation mode.
    #[schema(value_type = Option<ModerationMode>)]
    pub moderation_mode: Option<String>,
    /// Minimum post length (1 up to `max_length`).
    #[schema(minimum = 1, maximum = 10000)]
    pub min_length: Option<i32>,
    /// Maximum post length (at most 10000).
    #[schema(minimum = 1, maximum = 10000)]
    pub max_length: Option<i32>,
    /// Maximum reply nesting (at most 10).
    #[schema(minimum = 0, maximum = 10)]
    pub max_depth: Option<i32>,
    /// Links allowed.
    pub allow_links: Option<bool>,
    /// Tallies hidden until reacted.
    pub hide_tallies_until_reacted: Option<bool>,
    /// First posts held.
    pub hold_first_post: Option<bool>,
    /// The municipality's response (may also be set after closing).
    pub response: Option<String>,
    /// Why the text of an open or closed case is corrected (5–300 characters; panelists
    /// read it beside the corrected text). Required for, and only for, changes of the
    /// text fields after the case opened; settings, panels, law and outcome stay fixed.
    pub erratum: Option<String>,
    /// Confirms that the admin checked the findings in the changed text and that they are
    /// not personal data of a real person: needed to change the text of a scheduled,
    /// open or closed case when the new text has findings.
    #[serde(default)]
    pub confirm_findings: bool,
}

/// Opening a case now.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"confirm_findings": false})))]
pub struct OpenCase {
    /// Confirms that the admin checked the case's `findings` and that they are not
    /// personal data of a real person; needed when there are findings.
    #[serde(default)]
    pub confirm_findings: bool,
}

/// When a case opens and closes.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"opens_at": "2030-03-02T08:00:00Z", "closes_at": "2030-03-16T17:00:00Z"})))]
pub struct Schedule {
    /// Opening time (in the future).
    pub opens_at: DateTime<Utc>,
    /// Closing time (after opening), if fixed.
    #[serde(default)]
    pub closes_at: Option<DateTime<Utc>>,
    /// Confirms that the admin checked the case's `findings` and that they are not
    /// personal data of a real person; needed when there are findings.
    #[serde(default)]
    pub confirm_findings: bool,
}

/// A new closing time for an open case.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"closes_at": "2030-03-23T17:00:00Z"})))]
pub struct Closing {
    /// Closing time (in the future), or `null` to keep the case open until it is closed
    /// by hand.
    pub closes_at: Option<DateTime<Utc>>,
}

fn plain_frame(frame: &mut [FrameItem]) {
    for f in frame {
        make_line_breaks_plain(&mut f.title);
        make_line_breaks_plain(&mut f.text);
    }
}

fn plain_trail(trail: &mut [TrailStep]) {
    for t in trail {
        make_line_breaks_plain(&mut t.step);
        make_line_breaks_plain(&mut t.text);
    }
}

impl NewCase {
    /// Every text with plain LF line breaks (see [`make_line_breaks_plain`]).
    fn make_line_breaks_plain(&mut self) {
        for s in [
            &mut self.title,
            &mut self.provision,
            &mut self.summary,
            &mut self.situation,
            &mut self.decision,
        ] {
            make_line_breaks_plain(s);
        }
        self.considerations
            .iter_mut()
            .chain(self.questions.iter_mut())
            .for_each(make_line_breaks_plain);
        plain_frame(&mut self.frame);
        plain_trail(&mut self.trail);
    }
}

impl CaseChanges {
    /// Every text with plain LF line breaks (see [`make_line_breaks_plain`]).
    fn make_line_breaks_plain(&mut self) {
        for s in [
            &mut self.title,
            &mut self.provision,
            &mut self.summary,
            &mut self.situation,
            &mut self.decision,
            &mut self.response,
            &mut self.erratum,
        ]
        .into_iter()
        .flatten()
        {
            make_line_breaks_plain(s);
        }
        self.considerations
            .iter_mut()
            .chain(self.questions.iter_mut())
            .flatten()
            .for_each(make_line_breaks_plain);
        if let Some(f) = self.frame.as_mut() {
            plain_frame(f);
        }
        if let Some(t) = self.trail.as_mut() {
            plain_trail(t);
        }
    }
}

/// An entry of a case's event log.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Sequence number within the case.
    pub seq: i64,
    /// Kind, e.g. `post.created`.
    pub event: String,
    /// Post concerned, if any.
    pub post_id: Option<i64>,
    /// Facts of the event (never a post body).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// A page of a case's event log.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Events after the requested position, in order.
    pub events: Vec<EventView>,
    /// The case's current last sequence number.
    pub head: i64,
    /// Epoch of the log.
    pub epoch: String,
}

const MAX_TEXT: usize = 20_000;
const MAX_ITEMS: usize = 50;
const MAX_SHORT: usize = 200;
const DEFAULT_MIN_LENGTH: i32 = 20;
const DEFAULT_MAX_LENGTH: i32 = 2000;
const DEFAULT_MAX_DEPTH: i32 = 3;

fn check_text(field: &'static str, value: &str, min: usize) -> Result<()> {
    let n = text_length(value);
    if n < min {
        return Err(Error::invalid(
            "invalid_field",
            format!("Het veld '{field}' is te kort (minstens {min} tekens)."),
        ));
    }
    if n > MAX_TEXT {
        return Err(Error::invalid(
            "invalid_field",
            format!("Het veld '{field}' is te lang (hoogstens {MAX_TEXT} tekens)."),
        ));
    }
    Ok(())
}

/// Titles and provisions are at most 200 characters.
fn check_short(field: &'static str, value: &str) -> Result<()> {
    if text_length(value) > MAX_SHORT {
        return Err(Error::invalid(
            "invalid_field",
            format!("Het veld '{field}' is te lang (hoogstens {MAX_SHORT} tekens)."),
        ));
    }
    Ok(())
}

/// The fields of a case whose `invalid_field` errors name them (`'title'`).
const CASE_FIELDS: [&str; 14] = [
    "title",
    "domain",
    "provision",
    "outcome",
    "summary",
    "situation",
    "decision",
    "considerations",
    "frame",
    "trail",
    "questions",
    "moderation_mode",
    "response",
    "erratum",
];

/// The field of a [`NewCase`] or [`CaseChanges`] that an error of
/// [`Service::create_case`] or [`Service::update_case`] is about (`title`, `min_length`,
/// `panels`, …), so a form can show the error beside that field; `None` for errors about
/// the case as a whole.
pub fn error_field(e: &Error) -> Option<&'static str> {
    let Error::Invalid { code, message, .. } = e else {
        return None;
    };
    match *code {
        "unknown_panel" => Some("panels"),
        "invalid_field" => CASE_FIELDS
            .iter()
            .find(|f| message.contains(&format!("'{f}'")))
            .copied()
            .or_else(|| {
                if message.starts_with(LIMITS_LENGTH_MESSAGE) {
                    Some("min_length")
                } else if message.starts_with(LIMITS_DEPTH_MESSAGE) {
                    Some("max_depth")
                } else {
                    None
                }
            }),
        _ => None,
    }
}

const LIMITS_LENGTH_MESSAGE: &str =
    "Minimale en maximale lengte moeten tussen 1 en 10000 liggen, minimaal niet boven maximaal.";
const LIMITS_DEPTH_MESSAGE: &str = "De maximale diepte van antwoorden ligt tussen 0 en 10.";

fn check_list<T>(
    field: &'static str,
    items: &[T],
    text_of: impl Fn(&T) -> Vec<&str>,
) -> Result<()> {
    if items.len() > MAX_ITEMS {
        return Err(Error::invalid(
            "invalid_field",
            format!("Het veld '{field}' heeft te veel onderdelen (hoogstens {MAX_ITEMS})."),
        ));
    }
    for item in items {
        for t in text_of(item) {
            check_text(field, t, 1)?;
        }
    }
    Ok(())
}

fn parse_word<T>(
    field: &'static str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    expected: String,
) -> Result<T> {
    parse(value).ok_or_else(|| {
        Error::invalid(
            "invalid_field",
            format!("Ongeldige waarde voor '{field}': kies uit {expected}."),
        )
    })
}

fn json_list<T: Serialize>(items: &T) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn read_list<T: for<'de> Deserialize<'de>>(text: &str) -> Vec<T> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The findings of personal data in a stored case's text.
fn findings_of(c: &case::Model) -> Vec<CaseFinding> {
    let (considerations, frame, trail, questions): (
        Vec<String>,
        Vec<FrameItem>,
        Vec<TrailStep>,
        Vec<String>,
    ) = (
        read_list(&c.considerations),
        read_list(&c.frame),
        read_list(&c.trail),
        read_list(&c.questions),
    );
    case_text::screen_case(&CaseTexts {
        title: &c.title,
        provision: &c.provision,
        summary: &c.summary,
        situation: &c.situation,
        decision: &c.decision,
        considerations: &considerations,
        frame: &frame,
        trail: &trail,
        questions: &questions,
        response: c.response.as_deref(),
    })
}

/// The text fields an erratum may correct whose value differs between two versions of a
/// case, in page order.
fn changed_text_fields(old: &case::Model, new: &case::Model) -> Vec<&'static str> {
    let lists_differ =
        |a: &str, b: &str| read_list::<serde_json::Value>(a) != read_list::<serde_json::Value>(b);
    case_text::ERRATUM_FIELDS
        .into_iter()
        .filter(|field| match *field {
            "title" => old.title != new.title,
            "provision" => old.provision != new.provision,
            "summary" => old.summary != new.summary,
            "situation" => old.situation != new.situation,
            "decision" => old.decision != new.decision,
            "considerations" => lists_differ(&old.considerations, &new.considerations),
            "frame" => lists_differ(&old.frame, &new.frame),
            "trail" => lists_differ(&old.trail, &new.trail),
            "questions" => lists_differ(&old.questions, &new.questions),
            _ => false,
        })
        .collect()
}

/// Checks post-length and nesting settings together.
fn check_limits(min: i32, max: i32, depth: i32) -> Result<()> {
    if !(1..=10_000).contains(&max) || !(1..=max).contains(&min) {
        return Err(Error::invalid("invalid_field", LIMITS_LENGTH_MESSAGE));
    }
    if !(0..=10).contains(&depth) {
        return Err(Error::invalid("invalid_field", LIMITS_DEPTH_MESSAGE));
    }
    Ok(())
}

impl Service {
    async fn load_case(&self, actor: &Actor, id: i64) -> Result<(case::Model, Vec<i64>)> {
        let db = self.store.db();
        let case = cases::case_by_id(db, id)
            .await?
            .ok_or_else(|| Error::not_found("case_not_found"))?;
        let panels = cases::panels_of_case(db, id).await?;
        let seat = self.seat_in_draw(actor, id).await?;
        policy::require_case_visible(actor, &case, &panels, seat)?;
        Ok((case, panels))
    }

    /// For a panelist, whether they hold a seat in the case's draw (`None`: no draw, or
    /// not a panelist).
    async fn seat_in_draw(&self, actor: &Actor, case_id: i64) -> Result<Option<bool>> {
        match actor {
            Actor::Panelist(p) => Ok(draws::seat_of(self.store.db(), case_id, p.id).await?),
            Actor::Staff(_) => Ok(None),
        }
    }

    /// Loads a case the actor may see, or `case_not_found`.
    pub async fn visible_case(&self, actor: &Actor, id: i64) -> Result<case::Model> {
        self.load_case(actor, id).await.map(|(c, _)| c)
    }

    /// Loads a case for an admin of its municipality.
    async fn admin_case(&self, actor: &Actor, id: i64) -> Result<case::Model> {
        self.case_for_role(actor, id, Role::Admin)
            .await
            .map(|(case, _)| case)
    }

    /// Loads a case for a staff member holding `role` in its municipality: its other
    /// staff and the panelists who can see it get `forbidden`, everyone else
    /// `case_not_found` ([`policy::require_case_role`]).
    pub(crate) async fn case_for_role<'a>(
        &self,
        actor: &'a Actor,
        id: i64,
        role: Role,
    ) -> Result<(case::Model, &'a policy::StaffActor)> {
        let db = self.store.db();
        let case = cases::case_by_id(db, id)
            .await?
            .ok_or_else(|| Error::not_found("case_not_found"))?;
        let panels = match actor {
            Actor::Panelist(_) => cases::panels_of_case(db, id).await?,
            Actor::Staff(_) => Vec::new(),
        };
        let seat = self.seat_in_draw(actor, id).await?;
        let staff = policy::require_case_role(actor, &case, &panels, seat, role, "case_not_found")?;
        Ok((case, staff))
    }

    /// A case as its editor sees it (admins of its municipality only; other staff get
    /// `forbidden`, outsiders `case_not_found`).
    pub async fn case_for_editing(&self, actor: &Actor, id: i64) -> Result<CaseView> {
        let case = self.admin_case(actor, id).await?;
        let panels = cases::panels_of_case(self.store.db(), id).await?;
        self.case_view(actor, case, &panels).await
    }

    /// Cases the actor may see: a panelist's opened cases and those scheduled to open (a
    /// list entry only; the case itself shows once open), or every case of the staff
    /// member's municipalities (optionally one, by slug).
    pub async fn list_cases(
        &self,
        actor: &Actor,
        municipality: Option<&str>,
    ) -> Result<Vec<CaseSummary>> {
        let db = self.store.db();
        let list = match actor {
            Actor::Panelist(p) => {
                let list = cases::cases_of_panel(
                    db,
                    p.panel_id,
                    &["scheduled", "open", "closed", "archived"],
                )
                .await?;
                let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
                let unseated = draws::cases_without_seat(db, &ids, p.id).await?;
                list.into_iter()
                    .filter(|c| !unseated.contains(&c.id))
                    .collect()
            }
            Actor::Staff(s) => {
                let mut ids = s.municipality_ids();
                if let Some(slug) = municipality {
                    let m = people::municipality_by_slug(db, slug)
                        .await?
                        .filter(|m| ids.contains(&m.id))
                        .ok_or_else(|| Error::not_found("municipality_not_found"))?;
                    ids = vec![m.id];
                }
                cases::cases_of_municipalities(db, &ids).await?
            }
        };
        let slugs = self.municipality_slugs(&list).await?;
        Ok(list
            .into_iter()
            .map(|c| CaseSummary {
                id: c.id,
                municipality: slugs.get(&c.municipality_id).cloned().unwrap_or_default(),
                title: c.title,
                provision: c.provision,
                outcome: Outcome::parse(&c.outcome).unwrap_or(Outcome::Refused),
                summary: c.summary,
                status: CaseStatus::parse(&c.status).unwrap_or(CaseStatus::Draft),
                opens_at: c.opens_at,
                closes_at: c.closes_at,
            })
            .collect())
    }

    async fn municipality_slugs(&self, list: &[case::Model]) -> Result<HashMap<i64, String>> {
        let mut out = HashMap::new();
        for c in list {
            if let std::collections::hash_map::Entry::Vacant(e) = out.entry(c.municipality_id)
                && let Some(m) =
                    people::municipality_by_id(self.store.db(), c.municipality_id).await?
            {
                e.insert(m.slug);
            }
        }
        Ok(out)
    }

    /// One case as the actor may see it.
    pub async fn get_case(&self, actor: &Actor, id: i64) -> Result<CaseView> {
        let (case, panels) = self.load_case(actor, id).await?;
        self.case_view(actor, case, &panels).await
    }

    async fn case_view(&self, actor: &Actor, c: case::Model, panels: &[i64]) -> Result<CaseView> {
        let db = self.store.db();
        let municipality = people::municipality_by_id(db, c.municipality_id)
            .await?
            .map(|m| m.slug)
            .unwrap_or_default();
        let status = CaseStatus::parse(&c.status).unwrap_or(CaseStatus::Draft);
        let my_reaction = match actor {
            Actor::Panelist(p) => posts::reaction_of(db, c.id, p.id).await?,
            Actor::Staff(_) => None,
        };
        let show_tally = match actor {
            Actor::Staff(_) => true,
            Actor::Panelist(_) => policy::sees_verdicts(&c, my_reaction.is_some()),
        };
        let tally = if show_tally {
            // Count what this reader may read: visible reactions, the reader's own, and
            // for staff also held and hidden ones (never withdrawn or rejected).
            let (statuses, own): (&[&str], Option<i64>) = match actor {
                Actor::Staff(_) => (&["visible", "hidden", "pending"], None),
                Actor::Panelist(p) => (&["visible"], Some(p.id)),
            };
            let counts = posts::verdict_counts(db, c.id, statuses, own).await?;
            let get = |v: Verdict| counts.get(v.as_str()).copied().unwrap_or(0);
            let (eens, oneens, twijfel) = (
                get(Verdict::Agree),
                get(Verdict::Disagree),
                get(Verdict::Doubt),
            );
            Some(Tally {
                eens,
                oneens,
                twijfel,
                total: eens + oneens + twijfel,
            })
        } else {
            None
        };
        let panel_slugs = match actor {
            Actor::Staff(_) => {
                let mut slugs = Vec::new();
                for id in panels {
                    if let Some(p) = people::panel_by_id(db, *id).await? {
                        slugs.push(p.slug);
                    }
                }
                Some(slugs)
            }
            Actor::Panelist(_) => None,
        };
        let findings = match actor {
            Actor::Staff(_) => Some(findings_of(&c)),
            Actor::Panelist(_) => None,
        };
        let corrections = cases::errata_of_case(db, c.id)
            .await?
            .into_iter()
            .map(|e| CaseCorrection {
                at: e.created_at,
                fields: read_list(&e.fields),
                note: e.note,
            })
            .collect();
        Ok(CaseView {
            id: c.id,
            municipality,
            title: c.title,
            domain: LegalDomain::parse(&c.domain).unwrap_or(LegalDomain::Wmo),
            provision: c.provision,
            outcome: Outcome::parse(&c.outcome).unwrap_or(Outcome::Refused),
            summary: c.summary,
            situation: c.situation,
            decision: c.decision,
            considerations: read_list(&c.considerations),
            frame: read_list(&c.frame),
            trail: read_list(&c.trail),
            questions: read_list(&c.questions),
            status,
            opens_at: c.opens_at,
            closes_at: c.closes_at,
            moderation_mode: ModerationMode::parse(&c.moderation_mode)
                .unwrap_or(ModerationMode::Post),
            min_length: c.min_length,
            max_length: c.max_length,
            max_depth: c.max_depth,
            allow_links: c.allow_links,
            hide_tallies_until_reacted: c.hide_tallies_until_reacted,
            hold_first_post: c.hold_first_post,
            panels: panel_slugs,
            response: c.response,
            findings,
            corrections,
            event_seq: c.event_seq,
            event_epoch: c.event_epoch,
            my_reaction_id: my_reaction.map(|p| p.id),
            tally,
        })
    }

    /// Resolves panel slugs to ids within one municipality.
    async fn panel_ids(&self, municipality_id: i64, slugs: &[String]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(slugs.len());
        for slug in slugs {
            let panel = people::panel_by_slug(self.store.db(), slug)
                .await?
                .filter(|p| p.municipality_id == municipality_id)
                .ok_or_else(|| {
                    Error::invalid(
                        "unknown_panel",
                        format!("Panel '{slug}' bestaat niet in deze gemeente."),
                    )
                })?;
            ids.push(panel.id);
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Creates a case as a draft (admins).
    pub async fn create_case(
        &self,
        actor: &Actor,
        mut new: NewCase,
        audit_ctx: &AuditContext,
    ) -> Result<CaseView> {
        new.make_line_breaks_plain();
        let db = self.store.db();
        let municipality = people::municipality_by_slug(db, &new.municipality)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        policy::require_role(
            actor,
            municipality.id,
            Role::Admin,
            "municipality_not_found",
        )?;
        check_text("title", &new.title, 3)?;
        check_short("title", &new.title)?;
        check_short("provision", &new.provision)?;
        let domain = parse_word(
            "domain",
            &new.domain,
            LegalDomain::parse,
            LegalDomain::expected(),
        )?;
        let outcome = parse_word("outcome", &new.outcome, Outcome::parse, Outcome::expected())?;
        check_text("provision", &new.provision, 2)?;
        check_text("situation", &new.situation, 10)?;
        check_text("decision", &new.decision, 10)?;
        check_text("summary", &new.summary, 0)?;
        check_list("considerations", &new.considerations, |s| vec![s.as_str()])?;
        check_list("frame", &new.frame, |f| {
            vec![f.title.as_str(), f.text.as_str()]
        })?;
        check_list("trail", &new.trail, |t| {
            vec![t.step.as_str(), t.text.as_str()]
        })?;
        check_list("questions", &new.questions, |s| vec![s.as_str()])?;
        let mode = match &new.moderation_mode {
            Some(m) => parse_word(
                "moderation_mode",
                m,
                ModerationMode::parse,
                ModerationMode::expected(),
            )?,
            None => ModerationMode::Post,
        };
        let min_length = new.min_length.unwrap_or(DEFAULT_MIN_LENGTH);
        let max_length = new.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
        let max_depth = new.max_depth.unwrap_or(DEFAULT_MAX_DEPTH);
        check_limits(min_length, max_length, max_depth)?;
        let panel_ids = self.panel_ids(municipality.id, &new.panels).await?;
        let now = self.now();
        let staff_id = match actor {
            Actor::Staff(s) => Some(s.id),
            Actor::Panelist(_) => None,
        };
        let tx = self.store.begin_write().await?;
        let case = cases::insert_case(
            &*tx,
            case::ActiveModel {
                municipality_id: Set(municipality.id),
                title: Set(new.title.trim().to_owned()),
                domain: Set(domain.as_str().to_owned()),
                provision: Set(new.provision.trim().to_owned()),
                outcome: Set(outcome.as_str().to_owned()),
                summary: Set(new.summary.trim().to_owned()),
                situation: Set(new.situation.trim().to_owned()),
                decision: Set(new.decision.trim().to_owned()),
                considerations: Set(json_list(&new.considerations)),
                frame: Set(json_list(&new.frame)),
                trail: Set(json_list(&new.trail)),
                questions: Set(json_list(&new.questions)),
                status: Set(CaseStatus::Draft.as_str().to_owned()),
                opens_at: Set(None),
                closes_at: Set(None),
                moderation_mode: Set(mode.as_str().to_owned()),
                min_length: Set(min_length),
                max_length: Set(max_length),
                max_depth: Set(max_depth),
                allow_links: Set(new.allow_links.unwrap_or(false)),
                hide_tallies_until_reacted: Set(new.hide_tallies_until_reacted.unwrap_or(true)),
                hold_first_post: Set(new.hold_first_post.unwrap_or(false)),
                response: Set(None),
                event_seq: Set(0),
                event_epoch: Set(random_hex()),
                export_salt: Set(random_hex()),
                created_by: Set(staff_id),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
        cases::set_case_panels(&*tx, case.id, &panel_ids).await?;
        audit::append(
            &*tx,
            audit_ctx.entry(
                Some(municipality.id),
                "case.create",
                "case",
                case.id.to_string(),
                serde_json::json!({"title": case.title}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(case.id = case.id, "case created");
        self.case_view(actor, case, &panel_ids).await
    }

    /// Changes a case (admins). Texts and settings can change until the case opens; the
    /// municipality's response can be written at any time. After opening the text can
    /// only be corrected with an erratum (a short reason panelists read beside the
    /// corrected text), which is recorded, audited and announced as `case.corrected`;
    /// settings, panels, law and outcome stay fixed. Once the case is scheduled, a
    /// changed text with findings of personal data needs `confirm_findings`, because
    /// panelists will read it without another step.
    pub async fn update_case(
        &self,
        actor: &Actor,
        id: i64,
        mut ch: CaseChanges,
        audit_ctx: &AuditContext,
    ) -> Result<CaseView> {
        ch.make_line_breaks_plain();
        let case = self.admin_case(actor, id).await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Draft);
        let text_change = ch.title.is_some()
            || ch.provision.is_some()
            || ch.summary.is_some()
            || ch.situation.is_some()
            || ch.decision.is_some()
            || ch.considerations.is_some()
            || ch.frame.is_some()
            || ch.trail.is_some()
            || ch.questions.is_some();
        let settings_change = ch.domain.is_some()
            || ch.outcome.is_some()
            || ch.panels.is_some()
            || ch.moderation_mode.is_some()
            || ch.min_length.is_some()
            || ch.max_length.is_some()
            || ch.max_depth.is_some()
            || ch.allow_links.is_some()
            || ch.hide_tallies_until_reacted.is_some()
            || ch.hold_first_post.is_some();
        if !status.editable() {
            if settings_change {
                return Err(Error::conflict(
                    "case_not_editable",
                    "Van een geopende casus liggen de instellingen, de panels, de wet en de uitkomst vast. De tekst kan alleen nog met een erratum worden gecorrigeerd; de reactie van de gemeente kan altijd.",
                ));
            }
            if text_change && ch.erratum.is_none() {
                return Err(Error::conflict(
                    "case_not_editable",
                    "De tekst van een geopende casus kan alleen nog met een erratum worden gecorrigeerd: zeg in 'erratum' kort waarom de tekst verandert. De reactie van de gemeente kan altijd.",
                ));
            }
        } else if ch.erratum.is_some() {
            return Err(Error::invalid(
                "invalid_field",
                "Het veld 'erratum' is alleen voor een geopende of gesloten casus; een concept of geplande casus wijzigt u gewoon.",
            ));
        }
        let note = ch
            .erratum
            .as_deref()
            .map(case_text::erratum_note)
            .transpose()?;
        let mut am: case::ActiveModel = case.clone().into();
        if let Some(v) = &ch.title {
            check_text("title", v, 3)?;
            check_short("title", v)?;
            am.title = Set(v.trim().to_owned());
        }
        if let Some(v) = &ch.domain {
            am.domain = Set(
                parse_word("domain", v, LegalDomain::parse, LegalDomain::expected())?
                    .as_str()
                    .to_owned(),
            );
        }
        if let Some(v) = &ch.provision {
            check_text("provision", v, 2)?;
            check_short("provision", v)?;
            am.provision = Set(v.trim().to_owned());
        }
        if let Some(v) = &ch.outcome {
            am.outcome = Set(
                parse_word("outcome", v, Outcome::parse, Outcome::expected())?
                    .as_str()
                    .to_owned(),
            );
        }
        if let Some(v) = &ch.summary {
            check_text("summary", v, 0)?;
            am.summary = Set(v.trim().to_owned());
        }
        if let Some(v) = &ch.situation {
            check_text("situation", v, 10)?;
            am.situation = Set(v.trim().to_owned());
        }
        if let Some(v) = &ch.decision {
            check_text("decision", v, 10)?;
            am.decision = Set(v.trim().to_owned());
        }
        if let Some(v) = &ch.considerations {
            check_list("considerations", v, |s| vec![s.as_str()])?;
            am.considerations = Set(json_list(v));
        }
        if let Some(v) = &ch.frame {
            check_list("frame", v, |f| vec![f.title.as_str(), f.text.as_str()])?;
            am.frame = Set(json_list(v));
        }
        if let Some(v) = &ch.trail {
            check_list("trail", v, |t| vec![t.step.as_str(), t.text.as_str()])?;
            am.trail = Set(json_list(v));
        }
        if let Some(v) = &ch.questions {
            check_list("questions", v, |s| vec![s.as_str()])?;
            am.questions = Set(json_list(v));
        }
        if let Some(v) = &ch.moderation_mode {
            am.moderation_mode = Set(parse_word(
                "moderation_mode",
                v,
                ModerationMode::parse,
                ModerationMode::expected(),
            )?
            .as_str()
            .to_owned());
        }
        let min = ch.min_length.unwrap_or(case.min_length);
        let max = ch.max_length.unwrap_or(case.max_length);
        let depth = ch.max_depth.unwrap_or(case.max_depth);
        check_limits(min, max, depth)?;
        am.min_length = Set(min);
        am.max_length = Set(max);
        am.max_depth = Set(depth);
        if let Some(v) = ch.allow_links {
            am.allow_links = Set(v);
        }
        if let Some(v) = ch.hide_tallies_until_reacted {
            am.hide_tallies_until_reacted = Set(v);
        }
        if let Some(v) = ch.hold_first_post {
            am.hold_first_post = Set(v);
        }
        if let Some(v) = &ch.response {
            check_text("response", v, 0)?;
            am.response = Set(Some(v.trim().to_owned()).filter(|s| !s.is_empty()));
        }
        let panel_ids = match &ch.panels {
            Some(slugs) => Some(self.panel_ids(case.municipality_id, slugs).await?),
            None => None,
        };
        let now = self.now();
        am.updated_at = Set(now);
        let new = am
            .clone()
            .try_into_model()
            .map_err(|e| Error::Internal(format!("case model: {e}")))?;
        let changed = changed_text_fields(&case, &new);
        if note.is_some() && changed.is_empty() {
            return Err(Error::invalid(
                "nothing_corrected",
                "Het erratum verandert niets aan de tekst van de casus.",
            ));
        }
        // A draft is read by nobody yet: its findings are checked when it is scheduled or
        // opened. Later, only what this change writes is checked.
        let confirmed = if status == CaseStatus::Draft {
            None
        } else {
            let found: Vec<CaseFinding> = findings_of(&new)
                .into_iter()
                .filter(|f| changed.contains(&f.field))
                .collect();
            case_text::require_confirmation(&found, ch.confirm_findings)?
        };
        let staff_id = match actor {
            Actor::Staff(s) => Some(s.id),
            Actor::Panelist(_) => None,
        };
        let tx = self.store.begin_write().await?;
        let saved = cases::update_case_in_status(&*tx, am, &case.status)
            .await?
            .ok_or_else(|| {
                Error::conflict(
                    "case_changed",
                    "De status van de casus is intussen veranderd (bijvoorbeeld vanzelf geopend). Bekijk de casus opnieuw en sla de wijziging dan op.",
                )
            })?;
        if let Some(ids) = &panel_ids {
            cases::set_case_panels(&*tx, id, ids).await?;
        }
        let mut last_event = None;
        if let Some(note) = &note {
            cases::insert_erratum(&*tx, id, &changed, note, staff_id, now).await?;
            last_event = Some(
                events::append(
                    &*tx,
                    id,
                    "case.corrected",
                    None,
                    &serde_json::json!({"fields": changed}),
                    now,
                )
                .await?,
            );
        }
        if ch.response.is_some() {
            last_event = Some(
                events::append(&*tx, id, "case.response", None, &serde_json::json!({}), now)
                    .await?,
            );
        }
        let mut detail = serde_json::json!({"fields": changed});
        if let Some(c) = confirmed {
            detail["confirmed_findings"] = c;
        }
        audit::append(
            &*tx,
            audit_ctx.entry(
                Some(case.municipality_id),
                if note.is_some() {
                    "case.correct"
                } else {
                    "case.update"
                },
                "case",
                id.to_string(),
                detail,
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        if let Some(e) = last_event {
            self.ring(id, e.seq);
        }
        if note.is_some() {
            tracing::info!(case.id = id, fields = ?changed, "case text corrected");
        }
        let panels = cases::panels_of_case(self.store.db(), id).await?;
        self.case_view(actor, saved, &panels).await
    }

    /// Schedules a case to open (and possibly close) at given times (admins). A case
    /// whose text has findings of personal data is scheduled only with
    /// `confirm_findings`; the confirmation is audited.
    pub async fn schedule_case(
        &self,
        actor: &Actor,
        id: i64,
        s: Schedule,
        audit_ctx: &AuditContext,
    ) -> Result<CaseView> {
        let case = self.admin_case(actor, id).await?;
        let now = self.now();
        if s.opens_at <= now {
            return Err(Error::invalid(
                "invalid_schedule",
                "De openingstijd moet in de toekomst liggen.",
            ));
        }
        if s.closes_at.is_some_and(|c| c <= s.opens_at) {
            return Err(Error::invalid(
                "invalid_schedule",
                "De sluitingstijd moet na de openingstijd liggen.",
            ));
        }
        self.require_panels(id).await?;
        let not_editable = || {
            Error::conflict(
                "case_not_editable",
                "Alleen een concept of geplande casus kan worden ingepland.",
            )
        };
        if !CaseStatus::parse(&case.status).is_some_and(CaseStatus::editable) {
            return Err(not_editable());
        }
        let confirmed = case_text::require_confirmation(&findings_of(&case), s.confirm_findings)?;
        let tx = self.store.begin_write().await?;
        let changed = cases::transition_status(
            &*tx,
            id,
            &["draft", "scheduled"],
            "scheduled",
            Some(s.opens_at),
            Some(s.closes_at),
            Some(case.updated_at),
            now,
        )
        .await?;
        if !changed {
            drop(tx);
            return Err(self.why_not_moved(id).await?.unwrap_or_else(not_editable));
        }
        let mut detail = serde_json::json!({"opens_at": s.opens_at, "closes_at": s.closes_at});
        if let Some(c) = confirmed {
            detail["confirmed_findings"] = c;
        }
        audit::append(
            &*tx,
            audit_ctx.entry(
                Some(case.municipality_id),
                "case.schedule",
                "case",
                id.to_string(),
                detail,
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.get_case(actor, id).await
    }

    async fn require_panels(&self, id: i64) -> Result<()> {
        if cases::panels_of_case(self.store.db(), id).await?.is_empty() {
            return Err(Error::conflict(
                "no_panels",
                "Koppel eerst een panel aan deze casus.",
            ));
        }
        Ok(())
    }

    /// Why a draft or scheduled case did not move to its next status although it was in
    /// one of those when checked: it was written in the meantime, so its text may no
    /// longer be the text that was checked (`case_changed`). `None` when it has left
    /// those statuses.
    async fn why_not_moved(&self, id: i64) -> Result<Option<Error>> {
        let now = cases::case_by_id(self.store.db(), id).await?;
        Ok(now
            .filter(|c| CaseStatus::parse(&c.status).is_some_and(CaseStatus::editable))
            .map(|_| {
                Error::conflict(
                    "case_changed",
                    "De casus is intussen gewijzigd. Bekijk de tekst opnieuw en probeer het dan nog eens.",
                )
            }))
    }

    /// Opens a case now (admins). A case whose text has findings of personal data opens
    /// only with `confirm_findings`; the confirmation is audited.
    pub async fn open_case(
        &self,
        actor: &Actor,
        id: i64,
        open: OpenCase,
        audit_ctx: &AuditContext,
    ) -> Result<CaseView> {
        let case = self.admin_case(actor, id).await?;
        self.require_panels(id).await?;
        let not_editable =
            || Error::conflict("case_not_editable", "Deze casus is al geopend of gesloten.");
        if !CaseStatus::parse(&case.status).is_some_and(CaseStatus::editable) {
            return Err(not_editable());
        }
        let confirmed =
            case_text::require_confirmation(&findings_of(&case), open.confirm_findings)?;
        let detail = match confirmed {
            Some(c) => serde_json::json!({"confirmed_findings": c}),
            None => serde_json::json!({}),
        };
        if !self
            .transition(
                &case,
                &["draft", "scheduled"],
                CaseStatus::Open,
                Some(case.updated_at),
                detail,
                audit_ctx,
            )
            .await?
        {
            return Err(self.why_not_moved(id).await?.unwrap_or_else(not_editable));
        }
        self.get_case(actor, id).await
    }

    /// Closes a case now (admins). A closed case accepts no writes.
    pub async fn close_case(
        &self,
        actor: &Actor,
        id: i64,
        audit_ctx: &AuditContext,
    ) -> Result<CaseView> {
        let case = self.admin_case(actor, id).await?;
        if !self
            .transition(
                &case,
                &["open"],
                CaseStatus::Closed,
                None,
                serde_json::json!({}),
                audit_ctx,
            )
            .await?
        {
            return Err(Error::conflict(
                "case_not_open",
                "Alleen een geopende casus kan worden gesloten.",
            ));
        }
        self.get_case(actor, id).await
    }

    /// Moves the closing time of an open case (admins): later when the discussion needs
    /// more time, earlier, or none. Refused once the case has closed.
    pub async fn move_closing(
        &self,
        actor: &Actor,
        id: i64,
        closing: Closing,
        audit_ctx: &AuditContext,
    ) -> Result<CaseView> {
        let case = self.admin_case(actor, id).await?;
        let now = self.now();
        if closing.closes_at.is_some_and(|c| c <= now) {
            return Err(Error::invalid(
                "invalid_schedule",
                "De sluitingstijd moet in de toekomst liggen. Wilt u de casus nu sluiten? \
                 Gebruik dan \"Nu sluiten\".",
            ));
        }
        let not_open = || {
            Error::conflict(
                "case_not_open",
                "Alleen bij een geopende casus kan de sluitingstijd worden verschoven.",
            )
        };
        if case.status != CaseStatus::Open.as_str() {
            return Err(not_open());
        }
        let tx = self.store.begin_write().await?;
        // Only while still open: a case that closed meanwhile stays closed.
        if !cases::transition_status(
            &*tx,
            id,
            &["open"],
            "open",
            None,
            Some(closing.closes_at),
            None,
            now,
        )
        .await?
        {
            return Err(not_open());
        }
        audit::append(
            &*tx,
            audit_ctx.entry(
                Some(case.municipality_id),
                "case.move_closing",
                "case",
                id.to_string(),
                serde_json::json!({"from": case.closes_at, "to": closing.closes_at}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.get_case(actor, id).await
    }

    /// Moves a case to `to` if it is in one of `from` (and, with `unchanged_since`, was
    /// not written since), appending the event and an audit entry with `detail` in the
    /// same transaction. Returns whether this call made the change.
    async fn transition(
        &self,
        case: &case::Model,
        from: &[&str],
        to: CaseStatus,
        unchanged_since: Option<DateTime<Utc>>,
        detail: serde_json::Value,
        audit_ctx: &AuditContext,
    ) -> Result<bool> {
        let now = self.now();
        let (opens_at, closes_at, kind, action) = match to {
            CaseStatus::Open => (Some(now), None, "case.opened", "case.open"),
            _ => (None, Some(Some(now)), "case.closed", "case.close"),
        };
        // A case opened by hand keeps a closing time that still lies ahead.
        let closes_at = match (to, case.closes_at) {
            (CaseStatus::Open, Some(at)) if at <= now => Some(None),
            _ => closes_at,
        };
        let tx = self.store.begin_write().await?;
        if !cases::transition_status(
            &*tx,
            case.id,
            from,
            to.as_str(),
            opens_at,
            closes_at,
            unchanged_since,
            now,
        )
        .await?
        {
            return Ok(false);
        }
        let event = events::append(
            &*tx,
            case.id,
            kind,
            None,
            &serde_json::json!({"status": to}),
            now,
        )
        .await?;
        audit::append(
            &*tx,
            audit_ctx.entry(
                Some(case.municipality_id),
                action,
                "case",
                case.id.to_string(),
                detail,
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.ring(case.id, event.seq);
        tracing::info!(case.id = case.id, case.seq = event.seq, status = %to, "case status changed");
        Ok(true)
    }

    /// Opens scheduled cases whose time has come and closes open cases past their closing
    /// time. Safe to run on every node at once: each change happens once.
    pub async fn apply_due_transitions(&self) -> Result<usize> {
        let due = cases::cases_due(self.store.db(), self.now()).await?;
        let mut changed = 0;
        for case in due {
            let (from, to) = if case.status == "scheduled" {
                ("scheduled", CaseStatus::Open)
            } else {
                ("open", CaseStatus::Closed)
            };
            if self
                .transition(
                    &case,
                    &[from],
                    to,
                    None,
                    serde_json::json!({}),
                    &AuditContext::system(),
                )
                .await?
            {
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// The case's event log after `after`, at most `limit` entries.
    pub async fn events_after(
        &self,
        actor: &Actor,
        case_id: i64,
        after: i64,
        limit: u64,
    ) -> Result<EventPage> {
        let case = self.visible_case(actor, case_id).await?;
        if after < 0 {
            return Err(Error::bad_request(
                "invalid_cursor",
                "'after' kan niet negatief zijn.",
            ));
        }
        let list = events::after(self.store.db(), case_id, after, limit.clamp(1, 1000)).await?;
        Ok(EventPage {
            events: list.into_iter().map(event_view).collect(),
            head: case.event_seq,
            epoch: case.event_epoch,
        })
    }
}

/// The wire view of a stored event.
pub fn event_view(e: case_event::Model) -> EventView {
    EventView {
        seq: e.seq,
        event: e.kind,
        post_id: e.post_id,
        data: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
        at: e.created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_field() {
        let field = |r: Result<()>| r.err().as_ref().and_then(error_field);
        assert_eq!(
            field(check_text("situation", "kort", 10)),
            Some("situation")
        );
        assert_eq!(
            field(check_short("provision", &"x".repeat(201))),
            Some("provision")
        );
        assert_eq!(field(check_limits(50, 10, 3)), Some("min_length"));
        assert_eq!(field(check_limits(1, 10, 11)), Some("max_depth"));
        assert_eq!(
            field(check_list("frame", &[String::new()], |s| vec![s.as_str()])),
            Some("frame")
        );
        assert_eq!(
            error_field(&Error::invalid("unknown_panel", "x")),
            Some("panels")
        );
        assert_eq!(error_field(&Error::conflict("no_panels", "x")), None);
    }
}
