//! The thread: reactions (a verdict with a reason), replies, edits, withdrawals,
//! weighings and flags. Every change commits with its case event in one transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Service;
use super::error::{Error, Result};
use super::policy::{self, Actor, PanelistActor};
use super::ratelimit::LimitedAction;
use crate::domain::screening;
use crate::domain::{
    CaseStatus, FlagReason, PostStatus, Verdict, WeighingValue, make_line_breaks_plain, text_length,
};
use crate::store::entities::{case, post};
use std::collections::{HashMap, HashSet};

use crate::store::posts::{NewPost, WeighingCounts};
use crate::store::{events, is_unique_violation, posts};

/// A reaction or reply to post. Described in the API as one of [`NewReaction`] and
/// [`NewReply`] (see its `ToSchema`); the service tells the two apart by `parent_id`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPostInput {
    /// `eens`, `oneens` or `twijfel`; required for a reaction, absent for a reply.
    #[serde(default)]
    pub verdict: Option<String>,
    /// The text: the reason for the verdict, or the reply.
    pub body: String,
    /// The post this replies to; absent for a reaction.
    #[serde(default)]
    pub parent_id: Option<i64>,
}

/// A reaction: the panelist's verdict on the decision with the reason for it; one per
/// panelist per case (a withdrawn one frees the place). The text must be as long as the
/// case asks (`min_length`..`max_length` of the case, 20..2000 by default).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"verdict": "oneens", "body": "Een traplift is goedkoper dan verhuizen op deze leeftijd."})))]
pub struct NewReaction {
    /// The verdict.
    pub verdict: Verdict,
    /// The reason for it.
    pub body: String,
}

/// A reply under a reaction or another reply (nesting capped by the case's `max_depth`).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"parent_id": 1, "body": "Verhuizen kost ook geld en het netwerk van mevrouw."})))]
pub struct NewReply {
    /// The post this replies to.
    pub parent_id: i64,
    /// The reply.
    pub body: String,
}

impl utoipa::PartialSchema for NewPostInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{OneOfBuilder, Ref};
        OneOfBuilder::new()
            .item(Ref::from_schema_name("NewReaction"))
            .item(Ref::from_schema_name("NewReply"))
            .description(Some(
                "A reaction (a verdict with its reason) or, with `parent_id`, a reply (without a verdict).",
            ))
            .examples([serde_json::json!({"verdict": "eens", "body": "Verhuizen is hier redelijk, de woning is te groot."})])
            .into()
    }
}

impl ToSchema for NewPostInput {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("NewReaction".into(), NewReaction::schema()));
        schemas.push(("NewReply".into(), NewReply::schema()));
        <NewReaction as ToSchema>::schemas(schemas);
    }
}

/// A new text (and, for a reaction, possibly a new verdict).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"body": "Een traplift is hier redelijker dan verhuizen, op haar leeftijd.", "verdict": "oneens"})))]
pub struct EditPostInput {
    /// The new text.
    pub body: String,
    /// A new verdict (reactions only).
    #[serde(default)]
    #[schema(value_type = Option<Verdict>)]
    pub verdict: Option<String>,
}

/// A weighing of someone else's post.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"value": "agree"})))]
pub struct WeighingInput {
    /// `agree`, `disagree` or `pass`.
    #[schema(value_type = WeighingValue)]
    pub value: String,
}

/// A flag on a post.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "persoonsgegevens", "note": "Er staat een adres in."})))]
pub struct FlagInput {
    /// `persoonsgegevens`, `beledigend`, `spam`, `off-topic` or `anders`.
    #[schema(value_type = FlagReason)]
    pub reason: String,
    /// Explanation; required with `anders`.
    #[serde(default)]
    pub note: Option<String>,
}

/// An author's objection to a moderator's decision on their own post.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"note": "Mijn bericht bevat geen persoonsgegevens; ik noem alleen mijn eigen wijk."})))]
pub struct ContestInput {
    /// Why the decision should be reconsidered (10–1000 characters; moderators read it).
    pub note: String,
}

/// Weighing counts of a post.
#[derive(Clone, Copy, Debug, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct Weighings {
    /// Agree.
    pub agree: i64,
    /// Disagree.
    pub disagree: i64,
    /// Pass.
    pub pass: i64,
}

impl From<WeighingCounts> for Weighings {
    fn from(c: WeighingCounts) -> Self {
        Weighings {
            agree: c.agree,
            disagree: c.disagree,
            pass: c.pass,
        }
    }
}

/// A post as the actor may see it. The text of a post that is not visible to this actor
/// is absent (`body: null`): a placeholder keeps its place in the thread.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PostView {
    /// Post id.
    pub id: i64,
    /// Case id.
    pub case_id: i64,
    /// The post this replies to.
    pub parent_id: Option<i64>,
    /// 0 for a reaction, 1.. for replies.
    pub depth: i32,
    /// The author's pseudonym.
    pub author: String,
    /// Whether the actor wrote it.
    pub mine: bool,
    /// The verdict of a reaction.
    pub verdict: Option<Verdict>,
    /// The text, if the actor may read it.
    pub body: Option<String>,
    /// Moderation and authorship state.
    pub status: PostStatus,
    /// When posted.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Number of versions (1 if never edited).
    pub revision_count: i32,
    /// Weighing counts.
    pub weighings: Weighings,
    /// The actor's own weighing.
    pub my_weighing: Option<WeighingValue>,
    /// Whether the reader has flagged this post.
    pub my_flag: bool,
    /// Why a moderator hid or rejected it (reason code; for everyone, so the placeholder
    /// can say why), or `meldingen` when flags hid it pending review.
    pub moderation_reason: Option<String>,
    /// The moderator's note (author and staff only).
    pub moderation_note: Option<String>,
    /// Why the post is held, in plain words (author and staff only).
    pub held_reasons: Option<Vec<HeldReason>>,
}

/// Why a post is held, in a stable code and plain Dutch.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct HeldReason {
    /// `persoonsgegevens`, `verdacht_woord`, `link`, `herhaling`, `voormoderatie`,
    /// `eerste_bericht`.
    pub code: String,
    /// What the author reads.
    pub message: String,
}

/// A draft to check while typing.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"body": "Mijn buurvrouw heeft hetzelfde meegemaakt."})))]
pub struct CheckInput {
    /// The text so far.
    pub body: String,
}

/// One finding of the automatic check.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CheckFinding {
    /// Stable code (`persoonsgegevens`, `verboden_woord`, `verdacht_woord`, `link`,
    /// `herhaling`, `richtingteken`).
    pub code: String,
    /// `hold` or `reject`.
    #[schema(value_type = crate::domain::CheckOutcome)]
    pub outcome: String,
    /// Byte offset where the found text starts (to highlight it).
    pub start: usize,
    /// Byte offset just after it.
    pub end: usize,
    /// Plain Dutch explanation; never repeats the found text.
    pub message: String,
}

/// What would happen to a draft if it were posted now.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// `accept`, `hold` or `reject`.
    #[schema(value_type = crate::domain::CheckOutcome)]
    pub outcome: String,
    /// Every finding, in order of position.
    pub findings: Vec<CheckFinding>,
}

fn outcome_word(o: screening::Outcome) -> &'static str {
    match o {
        screening::Outcome::Accept => "accept",
        screening::Outcome::Hold => "hold",
        screening::Outcome::Reject => "reject",
    }
}

/// A panelist's posts in one case that others cannot read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnseenPosts {
    /// Held for a moderator.
    pub held: u32,
    /// Hidden or rejected by a moderator.
    pub hidden: u32,
}

/// One page of a thread.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ThreadPage {
    /// Posts in thread order (each reaction followed by its replies).
    pub posts: Vec<PostView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A stored flag.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FlagView {
    /// Flag id.
    pub id: i64,
    /// Post flagged.
    pub post_id: i64,
    /// Reason.
    pub reason: FlagReason,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// One version of a post.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RevisionView {
    /// 1 for the first version.
    pub revision: i32,
    /// Verdict in this version.
    pub verdict: Option<Verdict>,
    /// Text of this version.
    pub body: String,
    /// When written.
    pub created_at: DateTime<Utc>,
}

const MAX_PAGE: u64 = 100;

fn parse_verdict(v: &str) -> Result<Verdict> {
    Verdict::parse(v).ok_or_else(|| {
        Error::invalid(
            "invalid_verdict",
            format!("Kies een oordeel uit: {}.", Verdict::expected()),
        )
    })
}

fn check_body(case: &case::Model, body: &str) -> Result<()> {
    let n = text_length(body);
    if n < case.min_length as usize {
        return Err(Error::invalid(
            "body_too_short",
            format!(
                "Uw tekst is te kort: schrijf minstens {} tekens (nu {n}).",
                case.min_length
            ),
        ));
    }
    if n > case.max_length as usize {
        return Err(Error::invalid(
            "body_too_long",
            format!(
                "Uw tekst is te lang: hoogstens {} tekens (nu {n}).",
                case.max_length
            ),
        ));
    }
    Ok(())
}

fn require_open(case: &case::Model) -> Result<()> {
    match CaseStatus::parse(&case.status) {
        Some(CaseStatus::Open) => Ok(()),
        _ => Err(Error::conflict(
            "case_closed",
            "Deze casus is gesloten; er kan niet meer worden gereageerd.",
        )),
    }
}

fn not_found_post() -> Error {
    Error::not_found("post_not_found")
}

impl Service {
    /// Loads a post in a case the actor may see, or `post_not_found`.
    async fn visible_post(
        &self,
        actor: &Actor,
        post_id: i64,
    ) -> Result<(post::Model, case::Model)> {
        let post = posts::post_by_id(self.store.db(), post_id)
            .await?
            .ok_or_else(not_found_post)?;
        let case = match self.visible_case(actor, post.case_id).await {
            Ok(c) => c,
            Err(Error::NotFound { .. }) => return Err(not_found_post()),
            Err(e) => return Err(e),
        };
        Ok((post, case))
    }

    /// A panelist writing now in an open case they can see.
    fn writer<'a>(&self, actor: &'a Actor, case: &case::Model) -> Result<&'a PanelistActor> {
        let p = actor.panelist()?;
        require_open(case)?;
        policy::require_not_suspended(p, self.now())?;
        Ok(p)
    }

    /// Posts a reaction (with verdict) or a reply. With an idempotency key, a retry
    /// returns the post stored the first time.
    pub async fn create_post(
        &self,
        actor: &Actor,
        case_id: i64,
        mut input: NewPostInput,
        idempotency_key: Option<&str>,
    ) -> Result<PostView> {
        make_line_breaks_plain(&mut input.body);
        let case = self.visible_case(actor, case_id).await?;
        let p = self.writer(actor, &case)?;
        let db = self.store.db();
        if let Some(key) = idempotency_key
            && let Some(existing) = posts::post_by_idempotency_key(db, p.id, key).await?
        {
            return self.post_view(actor, existing).await;
        }
        let parent = match input.parent_id {
            Some(parent_id) => {
                let parent = posts::post_by_id(db, parent_id)
                    .await?
                    .filter(|pp| pp.case_id == case_id)
                    .ok_or_else(not_found_post)?;
                if parent.status == PostStatus::Withdrawn.as_str()
                    || !policy::can_read_post_body(actor, &parent)
                {
                    return Err(Error::conflict(
                        "parent_unavailable",
                        "Op dit bericht kan niet (meer) worden gereageerd.",
                    ));
                }
                if parent.depth + 1 > case.max_depth {
                    return Err(Error::invalid(
                        "nesting_too_deep",
                        format!(
                            "Antwoorden gaan hier hoogstens {} niveaus diep; reageer op een eerder bericht.",
                            case.max_depth
                        ),
                    ));
                }
                Some(parent)
            }
            None => None,
        };
        let verdict = match (&parent, &input.verdict) {
            (None, Some(v)) => Some(parse_verdict(v)?),
            (None, None) => {
                return Err(Error::invalid(
                    "verdict_required",
                    format!("Geef bij uw reactie een oordeel: {}.", Verdict::expected()),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "verdict_not_allowed",
                    "Een antwoord op een ander bericht heeft geen eigen oordeel.",
                ));
            }
            (Some(_), None) => None,
        };
        check_body(&case, &input.body)?;
        let action = if parent.is_some() {
            LimitedAction::Reply
        } else {
            LimitedAction::Post
        };
        self.check_rate(action, actor).await?;
        let held = self.hold_reasons(&case, p.id, &input.body, None).await?;
        let status = if held.is_empty() {
            PostStatus::Visible
        } else {
            PostStatus::Pending
        };
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let stored = posts::insert_post(
            &*tx,
            NewPost {
                case_id,
                panelist_id: p.id,
                parent: parent.as_ref(),
                verdict: verdict.map(Verdict::as_str),
                body: input.body.trim(),
                status: status.as_str(),
                idempotency_key,
                held_reasons: (!held.is_empty()).then(|| serde_json::json!(held).to_string()),
            },
            now,
        )
        .await;
        let stored = match stored {
            Ok(s) => s,
            Err(e) if is_unique_violation(&e) => {
                drop(tx);
                if let Some(key) = idempotency_key
                    && let Some(existing) = posts::post_by_idempotency_key(db, p.id, key).await?
                {
                    return self.post_view(actor, existing).await;
                }
                return Err(Error::conflict(
                    "already_reacted",
                    "U heeft al een reactie op deze casus gegeven; u kunt die wel aanpassen.",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        crate::store::names::ensure(&*tx, case_id, p.id, now).await?;
        let event = events::append(
            &*tx,
            case_id,
            "post.created",
            Some(stored.id),
            &post_event(&stored),
            now,
        )
        .await?;
        // A reply others can read tells the author of the post replied to (a held reply
        // tells nobody: its author's peer could not read it yet).
        if let Some(parent) = &parent
            && status == PostStatus::Visible
            && parent.panelist_id != p.id
        {
            super::notifications::queue_reply(&*tx, case_id, parent.panelist_id, stored.id, now)
                .await?;
        }
        tx.commit().await?;
        self.ring(case_id, event.seq);
        if status == PostStatus::Pending {
            self.ring_moderation(case.municipality_id, stored.id);
        }
        tracing::debug!(
            case.id = case_id,
            post.id = stored.id,
            case.seq = event.seq,
            "post created"
        );
        self.post_view(actor, stored).await
    }

    /// The municipality's screening policy for a case.
    async fn screening_policy(&self, case: &case::Model) -> Result<screening::Policy> {
        let m =
            crate::store::people::municipality_by_id(self.store.db(), case.municipality_id).await?;
        let words = |list: Option<&String>| -> Vec<String> {
            list.map(|l| {
                l.split(['\n', ','])
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
        };
        Ok(screening::Policy {
            banned_words: words(m.as_ref().and_then(|m| m.banned_words.as_ref())),
            suspect_words: words(m.as_ref().and_then(|m| m.suspect_words.as_ref())),
            allow_links: case.allow_links,
        })
    }

    /// Screens a draft by this panelist in this case (earlier texts count for repeats).
    async fn screen_draft(
        &self,
        case: &case::Model,
        panelist_id: i64,
        body: &str,
        except_post: Option<i64>,
    ) -> Result<screening::Verdict> {
        let policy = self.screening_policy(case).await?;
        let mut previous =
            crate::store::moderation::texts_of(self.store.db(), case.id, panelist_id).await?;
        if let Some(id) = except_post
            && let Some(own) = posts::post_by_id(self.store.db(), id).await?
        {
            previous.retain(|t| *t != own.body);
        }
        let refs: Vec<&str> = previous.iter().map(String::as_str).collect();
        Ok(screening::screen(body, &policy, &refs))
    }

    /// What would happen to a draft if posted now: the check the page runs while the
    /// panelist types. Stores nothing.
    pub async fn check_draft(
        &self,
        actor: &Actor,
        case_id: i64,
        input: CheckInput,
    ) -> Result<CheckResult> {
        let case = self.visible_case(actor, case_id).await?;
        let p = actor.panelist()?;
        if text_length(&input.body) > case.max_length as usize * 2 {
            return Err(Error::invalid(
                "body_too_long",
                "De tekst is te lang om te controleren.",
            ));
        }
        let verdict = self.screen_draft(&case, p.id, &input.body, None).await?;
        Ok(CheckResult {
            outcome: outcome_word(verdict.outcome).to_owned(),
            findings: verdict
                .findings
                .into_iter()
                .map(|f| CheckFinding {
                    code: f.reason.code().to_owned(),
                    outcome: outcome_word(f.outcome).to_owned(),
                    start: f.start,
                    end: f.end,
                    message: f.message,
                })
                .collect(),
        })
    }

    /// Why a new text by this panelist in this case is held before anyone else sees it:
    /// the automatic check, pre-moderation of the case or of the panelist, or a first
    /// post in a case that holds first posts. Empty when it may be shown at once. A text
    /// the check rejects is refused here with the reasons, and nothing is stored.
    async fn hold_reasons(
        &self,
        case: &case::Model,
        panelist_id: i64,
        body: &str,
        except_post: Option<i64>,
    ) -> Result<Vec<HeldReason>> {
        let verdict = self
            .screen_draft(case, panelist_id, body, except_post)
            .await?;
        if verdict.outcome == screening::Outcome::Reject {
            let mut messages: Vec<&str> = Vec::new();
            for f in &verdict.findings {
                if f.outcome == screening::Outcome::Reject && !messages.contains(&&*f.message) {
                    messages.push(&f.message);
                }
            }
            let direction = verdict
                .findings
                .iter()
                .any(|f| f.reason == screening::Reason::DirectionControl);
            let code = if direction {
                "direction_control"
            } else {
                "post_rejected"
            };
            return Err(Error::invalid(code, messages.join(" ")));
        }
        let mut held: Vec<HeldReason> = Vec::new();
        for f in verdict.findings {
            if f.outcome == screening::Outcome::Hold
                && !held
                    .iter()
                    .any(|h| h.code == f.reason.code() && h.message == f.message)
            {
                held.push(HeldReason {
                    code: f.reason.code().to_owned(),
                    message: f.message,
                });
            }
        }
        let db = self.store.db();
        let premoderated = crate::store::people::panelist_by_id(db, panelist_id)
            .await?
            .is_some_and(|p| p.premoderated);
        if case.moderation_mode == crate::domain::ModerationMode::Pre.as_str() || premoderated {
            held.push(HeldReason {
                code: "voormoderatie".into(),
                message:
                    "Een moderator bekijkt berichten hier eerst; daarna ziet het panel uw bericht."
                        .into(),
            });
        } else if except_post.is_none()
            && case.hold_first_post
            && !crate::store::moderation::has_posted_in(db, case.id, panelist_id).await?
        {
            held.push(HeldReason {
                code: "eerste_bericht".into(),
                message: "Uw eerste bericht in deze casus wordt eerst door een moderator bekeken."
                    .into(),
            });
        }
        Ok(held)
    }

    /// Edits one's own post while the case is open; the old text stays as a revision.
    pub async fn edit_post(
        &self,
        actor: &Actor,
        post_id: i64,
        mut input: EditPostInput,
    ) -> Result<PostView> {
        make_line_breaks_plain(&mut input.body);
        let (post, case) = self.visible_post(actor, post_id).await?;
        let p = self.writer(actor, &case)?;
        if post.panelist_id != p.id {
            return Err(Error::forbidden(
                "not_author",
                "U kunt alleen uw eigen berichten aanpassen.",
            ));
        }
        if post.status == PostStatus::Withdrawn.as_str()
            || post.status == PostStatus::Rejected.as_str()
        {
            return Err(Error::conflict(
                "post_not_editable",
                "Dit bericht kan niet meer worden aangepast.",
            ));
        }
        let verdict = match (&input.verdict, post.parent_id) {
            (Some(v), None) => Some(parse_verdict(v)?),
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "verdict_not_allowed",
                    "Een antwoord op een ander bericht heeft geen eigen oordeel.",
                ));
            }
            (None, _) => None,
        };
        check_body(&case, &input.body)?;
        let held = self
            .hold_reasons(&case, p.id, &input.body, Some(post.id))
            .await?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        // The post as it is now: a moderator may have acted since it was read above.
        let post = posts::post_for_update(&*tx, post.id)
            .await?
            .ok_or_else(|| Error::not_found("post_not_found"))?;
        let status = PostStatus::parse(&post.status).unwrap_or(PostStatus::Hidden);
        if matches!(status, PostStatus::Withdrawn | PostStatus::Rejected) {
            return Err(Error::conflict(
                "post_not_editable",
                "Dit bericht kan niet meer worden aangepast.",
            ));
        }
        let mut saved = posts::revise_post(
            &*tx,
            &post,
            input.body.trim(),
            verdict.map(Verdict::as_str),
            now,
        )
        .await?;
        // A post nobody else reads yet (held) or any more (hidden) goes back before a
        // moderator with the reasons of its new text; a claim on the old text ends, so no
        // decision is taken on text the moderator did not see.
        let requeue = matches!(status, PostStatus::Pending | PostStatus::Hidden);
        if requeue || !held.is_empty() {
            let mut reasons = held.clone();
            if requeue {
                reasons.push(HeldReason {
                    code: "bewerkt".into(),
                    message: "U hebt dit bericht aangepast; een moderator bekijkt de nieuwe \
                              tekst voordat anderen die zien."
                        .into(),
                });
            }
            saved = posts::hold(&*tx, &saved, &serde_json::json!(reasons).to_string(), now).await?;
            crate::store::moderation::release(&*tx, saved.id).await?;
        }
        let event = events::append(
            &*tx,
            case.id,
            "post.edited",
            Some(saved.id),
            &post_event(&saved),
            now,
        )
        .await?;
        tx.commit().await?;
        self.ring(case.id, event.seq);
        if requeue || !held.is_empty() {
            self.ring_moderation(case.municipality_id, post.id);
        }
        self.post_view(actor, saved).await
    }

    /// Withdraws one's own post while the case is open. Replies keep their place under
    /// a placeholder.
    pub async fn withdraw_post(&self, actor: &Actor, post_id: i64) -> Result<PostView> {
        let (post, case) = self.visible_post(actor, post_id).await?;
        let p = self.writer(actor, &case)?;
        if post.panelist_id != p.id {
            return Err(Error::forbidden(
                "not_author",
                "U kunt alleen uw eigen berichten intrekken.",
            ));
        }
        if post.status == PostStatus::Withdrawn.as_str() {
            return self.post_view(actor, post).await;
        }
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let saved =
            posts::set_post_status(&*tx, &post, PostStatus::Withdrawn.as_str(), now).await?;
        let event = events::append(
            &*tx,
            case.id,
            "post.withdrawn",
            Some(saved.id),
            &post_event(&saved),
            now,
        )
        .await?;
        tx.commit().await?;
        self.ring(case.id, event.seq);
        self.post_view(actor, saved).await
    }

    /// Weighs someone else's visible post; weighing again changes the weighing.
    pub async fn weigh_post(
        &self,
        actor: &Actor,
        post_id: i64,
        input: WeighingInput,
    ) -> Result<PostView> {
        let (post, case) = self.visible_post(actor, post_id).await?;
        let p = self.writer(actor, &case)?;
        let value = WeighingValue::parse(&input.value).ok_or_else(|| {
            Error::invalid(
                "invalid_weighing",
                format!("Kies een waardering uit: {}.", WeighingValue::expected()),
            )
        })?;
        if post.panelist_id == p.id {
            return Err(Error::invalid(
                "own_post",
                "U kunt uw eigen bericht niet waarderen.",
            ));
        }
        if post.status != PostStatus::Visible.as_str() {
            return Err(Error::conflict(
                "post_unavailable",
                "Dit bericht kan nu niet worden gewaardeerd.",
            ));
        }
        let now = self.now();
        self.check_rate(LimitedAction::Weighing, actor).await?;
        let tx = self.store.begin_write().await?;
        let mut appended = None;
        if posts::upsert_weighing(&*tx, &post, p.id, value.as_str(), now).await? {
            let counts = posts::weighing_counts(&*tx, &[post.id])
                .await?
                .remove(&post.id)
                .unwrap_or_default();
            appended = Some(events::append(
                &*tx,
                case.id,
                "weighing.changed",
                Some(post.id),
                &serde_json::json!({"post_id": post.id, "agree": counts.agree, "disagree": counts.disagree, "pass": counts.pass}),
                now,
            )
            .await?);
        }
        tx.commit().await?;
        if let Some(e) = appended {
            self.ring(case.id, e.seq);
        }
        self.post_view(actor, post).await
    }

    /// Flags a post (one flag per panelist per post).
    pub async fn flag_post(
        &self,
        actor: &Actor,
        post_id: i64,
        mut input: FlagInput,
    ) -> Result<FlagView> {
        if let Some(n) = input.note.as_mut() {
            make_line_breaks_plain(n);
        }
        let (post, case) = self.visible_post(actor, post_id).await?;
        let p = self.writer(actor, &case)?;
        let reason = FlagReason::parse_choice(&input.reason).ok_or_else(|| {
            Error::invalid(
                "invalid_flag_reason",
                format!("Kies een reden uit: {}.", FlagReason::choices_expected()),
            )
        })?;
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if reason == FlagReason::Other && note.is_none() {
            return Err(Error::invalid(
                "note_required",
                "Licht bij 'anders' kort toe wat er aan de hand is.",
            ));
        }
        if note.is_some_and(|n| text_length(n) > 1000) {
            return Err(Error::invalid(
                "note_too_long",
                "De toelichting is hoogstens 1000 tekens.",
            ));
        }
        // Moderators read the note as typed: no personal data (they see the post itself).
        if let Some(n) = note {
            super::profile::refuse_personal_data(
                n,
                "note_personal_data",
                "Uw toelichting lijkt persoonsgegevens te bevatten. Schrijf ze niet over: de \
                 moderator ziet het gemelde bericht zelf.",
            )?;
        }
        if post.panelist_id == p.id {
            return Err(Error::invalid(
                "own_post",
                "U kunt uw eigen bericht niet melden; u kunt het wel aanpassen of intrekken.",
            ));
        }
        // Only what this reader can read can be reported: a held, hidden or withdrawn
        // post of someone else is not before them.
        if !policy::can_read_post_body(actor, &post) {
            return Err(Error::conflict(
                "post_unavailable",
                "Dit bericht kan nu niet worden gemeld.",
            ));
        }
        let now = self.now();
        self.check_rate(LimitedAction::Flag, actor).await?;
        let tx = self.store.begin_write().await?;
        let flag = match posts::insert_flag(&*tx, &post, p.id, reason.as_str(), note, now).await {
            Ok(f) => f,
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::conflict(
                    "already_flagged",
                    "U heeft dit bericht al gemeld.",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let hidden = self
            .apply_flag_threshold(&*tx, &post, case.municipality_id, now)
            .await?;
        tx.commit().await?;
        if let Some(seq) = hidden {
            self.ring(case.id, seq);
        }
        self.ring_moderation(case.municipality_id, post.id);
        tracing::info!(case.id = case.id, post.id = post.id, flag.reason = %reason, "post flagged");
        Ok(FlagView {
            id: flag.id,
            post_id: post.id,
            reason,
            created_at: flag.created_at,
        })
    }

    /// The author contests a moderator's decision (hidden or rejected) on their own
    /// post: the objection is stored as the author's flag with the reason `bezwaar`, so
    /// the post returns to the moderators' flagged queue with the author's words, and
    /// the moderator's next decision on it settles it. One contest per post.
    pub async fn contest_moderation(
        &self,
        actor: &Actor,
        post_id: i64,
        mut input: ContestInput,
    ) -> Result<FlagView> {
        make_line_breaks_plain(&mut input.note);
        let (post, case) = self.visible_post(actor, post_id).await?;
        let p = actor.panelist()?;
        if post.panelist_id != p.id {
            return Err(Error::forbidden(
                "not_author",
                "U kunt alleen bezwaar maken tegen een beslissing over uw eigen bericht.",
            ));
        }
        if !matches!(
            PostStatus::parse(&post.status),
            Some(PostStatus::Hidden | PostStatus::Rejected)
        ) {
            return Err(Error::conflict(
                "not_contestable",
                "Er is over dit bericht geen beslissing van een moderator om bezwaar tegen te maken.",
            ));
        }
        let note = input.note.trim();
        let n = text_length(note);
        if n < 10 {
            return Err(Error::invalid(
                "contest_too_short",
                "Schrijf in minstens 10 tekens waarom u het niet eens bent met de beslissing.",
            ));
        }
        if n > 1000 {
            return Err(Error::invalid(
                "contest_too_long",
                "Uw bezwaar is hoogstens 1000 tekens.",
            ));
        }
        super::profile::refuse_personal_data(
            note,
            "note_personal_data",
            "Uw bezwaar lijkt persoonsgegevens te bevatten. Schrijf ze niet op: de moderator \
             ziet uw bericht zelf.",
        )?;
        let now = self.now();
        self.check_rate(LimitedAction::Flag, actor).await?;
        let tx = self.store.begin_write().await?;
        let flag = match posts::insert_flag(
            &*tx,
            &post,
            p.id,
            FlagReason::Contest.as_str(),
            Some(note),
            now,
        )
        .await
        {
            Ok(f) => f,
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::conflict(
                    "already_contested",
                    "U heeft al bezwaar gemaakt tegen deze beslissing.",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        self.ring_moderation(case.municipality_id, post.id);
        tracing::info!(case.id = case.id, post.id = post.id, "moderation contested");
        Ok(FlagView {
            id: flag.id,
            post_id: post.id,
            reason: FlagReason::Contest,
            created_at: flag.created_at,
        })
    }

    /// One page of a case's thread in order, after `cursor`.
    pub async fn thread(
        &self,
        actor: &Actor,
        case_id: i64,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<ThreadPage> {
        self.visible_case(actor, case_id).await?;
        if let Some(c) = cursor
            && (c.len() > 255 || !c.bytes().all(|b| b.is_ascii_digit() || b == b'/'))
        {
            return Err(Error::bad_request("invalid_cursor", "Ongeldige cursor."));
        }
        let limit = limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let list = posts::thread_page(self.store.db(), case_id, cursor, limit + 1).await?;
        let more = list.len() as u64 > limit;
        let list: Vec<post::Model> = list.into_iter().take(limit as usize).collect();
        let next_cursor = if more {
            list.last().map(|p| p.thread_path.clone())
        } else {
            None
        };
        Ok(ThreadPage {
            posts: self.post_views(actor, list).await?,
            next_cursor,
        })
    }

    /// Per case, how many of the signed-in panelist's posts others cannot read: held for a
    /// moderator, and hidden or rejected by one. So the start page can tell them.
    pub async fn my_unseen_posts(&self, actor: &Actor) -> Result<HashMap<i64, UnseenPosts>> {
        let p = actor.panelist()?;
        let mut out: HashMap<i64, UnseenPosts> = HashMap::new();
        for post in posts::unseen_posts_by(self.store.db(), p.id).await? {
            let entry = out.entry(post.case_id).or_default();
            if post.status == PostStatus::Pending.as_str() {
                entry.held += 1;
            } else {
                entry.hidden += 1;
            }
        }
        Ok(out)
    }

    /// One post as the actor may see it.
    pub async fn get_post(&self, actor: &Actor, post_id: i64) -> Result<PostView> {
        let (post, _) = self.visible_post(actor, post_id).await?;
        self.post_view(actor, post).await
    }

    /// The versions of a post (its author and staff only).
    pub async fn revisions(&self, actor: &Actor, post_id: i64) -> Result<Vec<RevisionView>> {
        let (post, _) = self.visible_post(actor, post_id).await?;
        let allowed = match actor {
            Actor::Panelist(p) => p.id == post.panelist_id,
            Actor::Staff(_) => true,
        };
        if !allowed {
            return Err(Error::forbidden(
                "not_author",
                "Alleen de schrijver ziet eerdere versies.",
            ));
        }
        Ok(posts::revisions_of(self.store.db(), post_id)
            .await?
            .into_iter()
            .map(|r| RevisionView {
                revision: r.revision,
                verdict: r.verdict.as_deref().and_then(Verdict::parse),
                body: r.body,
                created_at: r.created_at,
            })
            .collect())
    }

    async fn post_view(&self, actor: &Actor, post: post::Model) -> Result<PostView> {
        let mut views = self.post_views(actor, vec![post]).await?;
        views
            .pop()
            .ok_or_else(|| Error::Internal("post view lost".into()))
    }

    /// Renders posts for an actor: the one place that decides which text and verdict a
    /// reader gets.
    pub async fn post_views(&self, actor: &Actor, list: Vec<post::Model>) -> Result<Vec<PostView>> {
        let db = self.store.db();
        let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
        let authors: Vec<(i64, i64)> = list.iter().map(|p| (p.case_id, p.panelist_id)).collect();
        let names = crate::store::names::display_names(db, &authors).await?;
        let counts = posts::weighing_counts(db, &ids).await?;
        let mine = match actor {
            Actor::Panelist(p) => posts::weighings_by(db, p.id, &ids).await?,
            Actor::Staff(_) => Default::default(),
        };
        let me = match actor {
            Actor::Panelist(p) => Some(p.id),
            Actor::Staff(_) => None,
        };
        let (flagged, no_verdicts) = match actor {
            Actor::Panelist(p) => {
                let mut case_ids: Vec<i64> = list.iter().map(|p| p.case_id).collect();
                case_ids.sort_unstable();
                case_ids.dedup();
                let mut hidden = HashSet::new();
                for case_id in case_ids {
                    if let Some(case) = crate::store::cases::case_by_id(db, case_id).await?
                        && !policy::sees_verdicts(
                            &case,
                            posts::reaction_of(db, case_id, p.id).await?.is_some(),
                        )
                    {
                        hidden.insert(case_id);
                    }
                }
                (posts::flagged_by(db, p.id, &ids).await?, hidden)
            }
            Actor::Staff(_) => Default::default(),
        };
        Ok(list
            .into_iter()
            .map(|p| {
                let readable = policy::can_read_post_body(actor, &p);
                let verdict_readable =
                    readable && (me == Some(p.panelist_id) || !no_verdicts.contains(&p.case_id));
                PostView {
                    id: p.id,
                    case_id: p.case_id,
                    parent_id: p.parent_id,
                    depth: p.depth,
                    author: display_name(&names, &p),
                    mine: me == Some(p.panelist_id),
                    verdict: if verdict_readable {
                        p.verdict.as_deref().and_then(Verdict::parse)
                    } else {
                        None
                    },
                    body: readable.then(|| p.body.clone()),
                    status: PostStatus::parse(&p.status).unwrap_or(PostStatus::Hidden),
                    created_at: p.created_at,
                    updated_at: p.updated_at,
                    revision_count: p.revision_count,
                    weighings: counts.get(&p.id).copied().unwrap_or_default().into(),
                    my_weighing: mine.get(&p.id).and_then(|v| WeighingValue::parse(v)),
                    my_flag: flagged.contains(&p.id),
                    moderation_reason: p.status_reason.clone(),
                    moderation_note: readable.then(|| p.status_note.clone()).flatten(),
                    held_reasons: readable
                        .then(|| {
                            p.held_reasons
                                .as_deref()
                                .and_then(|h| serde_json::from_str(h).ok())
                        })
                        .flatten(),
                }
            })
            .collect())
    }
}

/// The name a post's author appears under in its case: their per-case name, or
/// "oud-panellid" once they left the panel and kept their posts.
pub(crate) fn display_name(
    names: &std::collections::HashMap<(i64, i64), String>,
    p: &post::Model,
) -> String {
    names
        .get(&(p.case_id, p.panelist_id))
        .cloned()
        .unwrap_or_else(|| crate::domain::names::FORMER_PANELIST.to_owned())
}

/// Event payload of a post change: where it sits and its state, never its text.
pub(crate) fn post_event(p: &post::Model) -> serde_json::Value {
    serde_json::json!({
        "post_id": p.id,
        "parent_id": p.parent_id,
        "depth": p.depth,
        "status": p.status,
        "revision_count": p.revision_count,
        "reason": p.status_reason,
    })
}
