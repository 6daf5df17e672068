//! Moderation: the queues of a municipality (held, flagged, recently handled), claims so
//! two moderators do not handle one post, the actions (approve, hide, restore, reject,
//! redact, suspend, pre-moderate), and the flag threshold. Every action is recorded as
//! a moderation action and an audit entry (never with the post's text), appended to the
//! case's event log, and shown to the author with its reason.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{Error, Result};
use super::policy::{self, Actor, StaffActor};
use super::posts::PostView;
use super::{AuditContext, Service};
use crate::domain::{FlagReason, PostStatus, Role, make_line_breaks_plain, text_length};
use crate::store::entities::{moderation_action, post};
use crate::store::{audit, cases, events, moderation, people, posts};

/// How long a claim lasts.
pub const CLAIM_MINUTES: i64 = 5;

/// Text that replaces a redacted post unless the moderator writes a cleaned version.
pub const REDACTED_TEXT: &str = "[Tekst verwijderd door een moderator: persoonsgegevens.]";

pub use crate::domain::ModAction;

/// Reason and note of an action.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "beledigend", "note": "Houd het bij de zaak."})))]
pub struct ActionInput {
    /// Reason code (`persoonsgegevens`, `beledigend`, `spam`, `off-topic`, `anders`);
    /// required to hide or reject.
    #[serde(default)]
    #[schema(value_type = Option<FlagReason>)]
    pub reason: Option<String>,
    /// Explanation for the author (required with `anders`).
    #[serde(default)]
    pub note: Option<String>,
    /// For `redact`: the cleaned text (default: a notice that text was removed).
    #[serde(default)]
    pub body: Option<String>,
    /// The revision the moderator read (`revision_count` of the post as shown); required
    /// to approve or restore, which fail with `post_changed` when the author changed the
    /// text since.
    #[serde(default)]
    pub revision: Option<i32>,
}

/// Suspension of a panelist.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"hours": 24, "reason": "Herhaald persoonsgegevens geplaatst."})))]
pub struct SuspendInput {
    /// Hours (1 to 2160); 0 lifts a suspension.
    #[schema(maximum = 2160)]
    pub hours: u32,
    /// Why (shown to the panelist).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Pre-moderation of one panelist.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"on": true})))]
pub struct PremoderateInput {
    /// Whether their posts are held until approved.
    pub on: bool,
}

/// A municipality's moderation policy.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"banned_words": ["scheldwoord"], "suspect_words": ["adres"], "flag_threshold": 3})))]
pub struct PolicyInput {
    /// Words and phrases that refuse a post (one per line or comma separated).
    #[serde(default)]
    pub banned_words: Vec<String>,
    /// Words and phrases that hold a post for a moderator.
    #[serde(default)]
    pub suspect_words: Vec<String>,
    /// Distinct flaggers that hide a post pending review (1–50, default 3).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub flag_threshold: Option<i32>,
}

pub use crate::domain::QueueKind;

/// Words a municipality may start from (offered on the policy page while its lists are
/// empty): abuse that has no place in a discussion, refused outright.
pub const STARTER_BANNED_WORDS: &[&str] = &[
    "kankerlijer",
    "krijg de kanker",
    "kanker op",
    "teringlijer",
    "tyfuslijer",
    "klootzak",
    "kutwijf",
    "hoerenzoon",
    "flikker",
    "mongool",
];

/// Words a municipality may start from: insults and threats that are sometimes meant
/// otherwise, held for a moderator to judge.
pub const STARTER_SUSPECT_WORDS: &[&str] = &[
    "kanker",
    "tering",
    "tyfus",
    "kut",
    "debiel",
    "idioot",
    "sukkel",
    "achterlijk",
    "profiteur",
    "uitvreter",
    "oplichter",
    "vermoorden",
    "opknopen",
];

/// Flags of one reason on a post.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FlagSummary {
    /// Reason.
    pub reason: FlagReason,
    /// How many panelists gave it.
    pub count: i64,
    /// Their notes.
    pub notes: Vec<String>,
}

/// A post waiting for a moderator.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QueueItem {
    /// The post, with its text.
    pub post: PostView,
    /// The author's panelist id (to suspend or pre-moderate them).
    pub panelist_id: i64,
    /// Title of its case.
    pub case_title: String,
    /// Why it was held (automatic checks, pre-moderation).
    pub held_reasons: Vec<super::posts::HeldReason>,
    /// Open flags by reason.
    pub flags: Vec<FlagSummary>,
    /// Moderator holding a claim on it.
    pub claimed_by: Option<String>,
    /// Until when the claim holds.
    pub claimed_until: Option<DateTime<Utc>>,
    /// The author's current measures and earlier moderation.
    pub author_record: AuthorRecord,
}

/// What moderators have done about an author before, and what holds now.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct AuthorRecord {
    /// Suspended until then (only while the suspension lasts).
    pub suspended_until: Option<DateTime<Utc>>,
    /// Their new posts wait for a moderator first.
    pub premoderated: bool,
    /// Earlier moderation actions about their posts and account, by action, most
    /// frequent first.
    pub history: Vec<ActionCount>,
}

/// How often one moderation action was taken.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActionCount {
    /// The action (`hide`, `reject`, `approve`, `restore`, `redact`, `suspend`,
    /// `unsuspend`, `premoderate`, `unpremoderate`).
    pub action: String,
    /// How often.
    pub count: i64,
}

/// A page of a queue.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QueuePage {
    /// Items, oldest first.
    pub items: Vec<QueueItem>,
    /// Pass as `after` for the next page.
    pub next_cursor: Option<i64>,
}

/// Queue sizes.
#[derive(Clone, Copy, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct QueueCounts {
    /// Held posts.
    pub pending: u64,
    /// Posts with open flags.
    pub flagged: u64,
}

/// A recent action.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HandledItem {
    /// Action id.
    pub id: i64,
    /// What was done.
    pub action: String,
    /// Case.
    pub case_id: Option<i64>,
    /// Post.
    pub post_id: Option<i64>,
    /// Panelist.
    pub panelist_id: Option<i64>,
    /// Moderator's name.
    pub moderator: String,
    /// Reason code.
    pub reason: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// The post's current revision, to pin a restore to.
    pub revision: Option<i32>,
}

/// A page of recent actions.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HandledPage {
    /// Newest first.
    pub items: Vec<HandledItem>,
    /// Pass as `before` for the next page.
    pub next_cursor: Option<i64>,
}

fn parse_reason(input: &ActionInput, required: bool) -> Result<Option<FlagReason>> {
    let reason = match input.reason.as_deref() {
        Some(r) => Some(FlagReason::parse_choice(r).ok_or_else(|| {
            Error::invalid(
                "invalid_reason",
                format!("Kies een reden uit: {}.", FlagReason::choices_expected()),
            )
        })?),
        None if required => {
            return Err(Error::invalid(
                "reason_required",
                "Geef een reden op; de schrijver krijgt die te zien.",
            ));
        }
        None => None,
    };
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if reason == Some(FlagReason::Other) && note.is_none() {
        return Err(Error::invalid(
            "note_required",
            "Licht bij 'anders' toe waarom.",
        ));
    }
    if note.is_some_and(|n| text_length(n) > 1000) {
        return Err(Error::invalid(
            "note_too_long",
            "De toelichting is hoogstens 1000 tekens.",
        ));
    }
    Ok(reason)
}

impl Service {
    async fn municipality_for_moderation<'a>(
        &self,
        actor: &'a Actor,
        slug: &str,
    ) -> Result<(i64, &'a StaffActor)> {
        let m = people::municipality_by_slug(self.store.db(), slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        let s = policy::require_role(actor, m.id, Role::Moderator, "municipality_not_found")?;
        Ok((m.id, s))
    }

    /// A post and its municipality, for a moderator of that municipality.
    async fn post_for_moderation<'a>(
        &self,
        actor: &'a Actor,
        post_id: i64,
    ) -> Result<(post::Model, i64, &'a StaffActor)> {
        let p = posts::post_by_id(self.store.db(), post_id)
            .await?
            .ok_or_else(|| Error::not_found("post_not_found"))?;
        // A post in a case the actor may not know of is as missing as that case.
        let (case, s) = match self.case_for_role(actor, p.case_id, Role::Moderator).await {
            Ok(found) => found,
            Err(Error::NotFound { .. }) => return Err(Error::not_found("post_not_found")),
            Err(e) => return Err(e),
        };
        Ok((p, case.municipality_id, s))
    }

    /// One post as a moderation card, queued or not, with its municipality's slug:
    /// moderators act on any post of their municipality (an insult nobody flagged too).
    pub async fn moderation_item(
        &self,
        actor: &Actor,
        post_id: i64,
    ) -> Result<(QueueItem, String)> {
        let (p, municipality_id, _) = self.post_for_moderation(actor, post_id).await?;
        let slug = people::municipality_by_id(self.store.db(), municipality_id)
            .await?
            .map(|m| m.slug)
            .unwrap_or_default();
        let item = self
            .queue_items(actor, vec![p])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found("post_not_found"))?;
        Ok((item, slug))
    }

    /// Queue sizes of a municipality.
    pub async fn queue_counts(&self, actor: &Actor, municipality: &str) -> Result<QueueCounts> {
        let (m, _) = self
            .municipality_for_moderation(actor, municipality)
            .await?;
        let (pending, flagged) = moderation::counts(self.store.db(), m).await?;
        Ok(QueueCounts { pending, flagged })
    }

    /// A page of the held or flagged queue, oldest first.
    pub async fn queue(
        &self,
        actor: &Actor,
        municipality: &str,
        kind: QueueKind,
        after: i64,
        limit: u64,
    ) -> Result<QueuePage> {
        let (m, _) = self
            .municipality_for_moderation(actor, municipality)
            .await?;
        let limit = limit.clamp(1, 100);
        let db = self.store.db();
        let list = match kind {
            QueueKind::Pending => moderation::pending(db, m, after, limit + 1).await?,
            QueueKind::Flagged => moderation::flagged(db, m, after, limit + 1).await?,
        };
        let more = list.len() as u64 > limit;
        let list: Vec<post::Model> = list.into_iter().take(limit as usize).collect();
        let next_cursor = if more {
            list.last().map(|p| p.id)
        } else {
            None
        };
        let items = self.queue_items(actor, list).await?;
        Ok(QueuePage { items, next_cursor })
    }

    async fn queue_items(&self, actor: &Actor, list: Vec<post::Model>) -> Result<Vec<QueueItem>> {
        let db = self.store.db();
        let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
        let flags = moderation::open_flags(db, &ids).await?;
        let mut titles: HashMap<i64, String> = HashMap::new();
        let mut claimers: HashMap<i64, String> = HashMap::new();
        for p in &list {
            if let std::collections::hash_map::Entry::Vacant(e) = titles.entry(p.case_id)
                && let Some(c) = cases::case_by_id(db, p.case_id).await?
            {
                e.insert(c.title);
            }
            if let Some(staff_id) = p.claimed_by
                && let std::collections::hash_map::Entry::Vacant(e) = claimers.entry(staff_id)
                && let Some(s) = people::staff_by_id(db, staff_id).await?
            {
                e.insert(s.name);
            }
        }
        let now = self.now();
        let mut authors: Vec<i64> = list.iter().map(|p| p.panelist_id).collect();
        authors.sort_unstable();
        authors.dedup();
        let mut records: HashMap<i64, AuthorRecord> = HashMap::new();
        for p in people::panelists_by_ids(db, &authors).await? {
            records.insert(
                p.id,
                AuthorRecord {
                    suspended_until: p.suspended_until.filter(|u| *u > now),
                    premoderated: p.premoderated,
                    history: Vec::new(),
                },
            );
        }
        for (panelist, action, count) in moderation::action_counts(db, &authors).await? {
            if let Some(r) = records.get_mut(&panelist) {
                r.history.push(ActionCount { action, count });
            }
        }
        for r in records.values_mut() {
            r.history
                .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.action.cmp(&b.action)));
        }
        type Meta = (
            i64,
            i64,
            i64,
            Option<String>,
            Option<i64>,
            Option<DateTime<Utc>>,
        );
        let meta: Vec<Meta> = list
            .iter()
            .map(|p| {
                (
                    p.id,
                    p.case_id,
                    p.panelist_id,
                    p.held_reasons.clone(),
                    p.claimed_by,
                    p.claimed_until,
                )
            })
            .collect();
        let views = self.post_views(actor, list).await?;
        Ok(views
            .into_iter()
            .zip(meta)
            .map(
                |(view, (id, case_id, panelist_id, held, claimed_by, claimed_until))| {
                    let mut by_reason: Vec<FlagSummary> = Vec::new();
                    for f in flags.iter().filter(|f| f.post_id == id) {
                        let reason = FlagReason::parse(&f.reason).unwrap_or(FlagReason::Other);
                        let entry = match by_reason.iter().position(|s| s.reason == reason) {
                            Some(i) => &mut by_reason[i],
                            None => {
                                by_reason.push(FlagSummary {
                                    reason,
                                    count: 0,
                                    notes: Vec::new(),
                                });
                                let last = by_reason.len() - 1;
                                &mut by_reason[last]
                            }
                        };
                        entry.count += 1;
                        if let Some(n) = &f.note {
                            entry.notes.push(n.clone());
                        }
                    }
                    let live_claim = claimed_until.filter(|u| *u > now);
                    QueueItem {
                        post: view,
                        panelist_id,
                        case_title: titles.get(&case_id).cloned().unwrap_or_default(),
                        held_reasons: held
                            .as_deref()
                            .and_then(|h| serde_json::from_str(h).ok())
                            .unwrap_or_default(),
                        flags: by_reason,
                        claimed_by: live_claim
                            .and(claimed_by)
                            .and_then(|s| claimers.get(&s).cloned()),
                        claimed_until: live_claim,
                        author_record: records.get(&panelist_id).cloned().unwrap_or_default(),
                    }
                },
            )
            .collect())
    }

    /// Posts held for a moderator in every municipality, for the operator's metrics
    /// (a count only: no municipality, case or text).
    pub async fn held_posts_total(&self) -> Result<u64> {
        Ok(moderation::held_total(self.store.db()).await?)
    }

    /// The moderation queues of every municipality: `(slug, held, flagged)`. For the
    /// operator's metrics only (no actor: it names no post and no person).
    pub async fn queue_sizes(&self) -> Result<Vec<(String, u64, u64)>> {
        Ok(moderation::queue_sizes(self.store.db()).await?)
    }

    /// Recently handled items, newest first.
    pub async fn handled(
        &self,
        actor: &Actor,
        municipality: &str,
        before: Option<i64>,
        limit: u64,
    ) -> Result<HandledPage> {
        let (m, _) = self
            .municipality_for_moderation(actor, municipality)
            .await?;
        let limit = limit.clamp(1, 100);
        let db = self.store.db();
        let list = moderation::handled(db, m, before, limit + 1).await?;
        let more = list.len() as u64 > limit;
        let list: Vec<moderation_action::Model> = list.into_iter().take(limit as usize).collect();
        let mut names: HashMap<i64, String> = HashMap::new();
        for a in &list {
            if let std::collections::hash_map::Entry::Vacant(e) = names.entry(a.staff_id)
                && let Some(s) = people::staff_by_id(db, a.staff_id).await?
            {
                e.insert(s.name);
            }
        }
        let next_cursor = if more {
            list.last().map(|a| a.id)
        } else {
            None
        };
        let mut post_ids: Vec<i64> = list.iter().filter_map(|a| a.post_id).collect();
        post_ids.sort_unstable();
        post_ids.dedup();
        let revisions: HashMap<i64, i32> = posts::posts_by_ids(db, &post_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p.revision_count))
            .collect();
        Ok(HandledPage {
            items: list
                .into_iter()
                .map(|a| HandledItem {
                    id: a.id,
                    action: a.action,
                    case_id: a.case_id,
                    post_id: a.post_id,
                    panelist_id: a.panelist_id,
                    moderator: names.get(&a.staff_id).cloned().unwrap_or_default(),
                    reason: a.reason,
                    note: a.note,
                    at: a.created_at,
                    revision: a.post_id.and_then(|id| revisions.get(&id).copied()),
                })
                .collect(),
            next_cursor,
        })
    }

    /// Claims a post for this moderator for a few minutes.
    pub async fn claim_post(&self, actor: &Actor, post_id: i64) -> Result<QueueItem> {
        let (_, _, staff) = self.post_for_moderation(actor, post_id).await?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        if !moderation::claim(
            &*tx,
            post_id,
            staff.id,
            now + Duration::minutes(CLAIM_MINUTES),
            now,
        )
        .await?
        {
            return Err(Error::conflict(
                "claimed_by_other",
                "Een andere moderator behandelt dit bericht al.",
            ));
        }
        tx.commit().await?;
        self.queue_item(actor, post_id).await
    }

    /// Gives a claim back.
    pub async fn release_post(&self, actor: &Actor, post_id: i64) -> Result<QueueItem> {
        let (p, _, staff) = self.post_for_moderation(actor, post_id).await?;
        if p.claimed_by == Some(staff.id) {
            moderation::release(self.store.db(), post_id).await?;
        }
        self.queue_item(actor, post_id).await
    }

    async fn queue_item(&self, actor: &Actor, post_id: i64) -> Result<QueueItem> {
        let p = posts::post_by_id(self.store.db(), post_id)
            .await?
            .ok_or_else(|| Error::not_found("post_not_found"))?;
        self.queue_items(actor, vec![p])
            .await?
            .pop()
            .ok_or_else(|| Error::Internal("queue item lost".into()))
    }

    /// Applies a moderator's decision to a post.
    pub async fn moderate_post(
        &self,
        actor: &Actor,
        post_id: i64,
        action: ModAction,
        mut input: ActionInput,
        ctx: &AuditContext,
    ) -> Result<QueueItem> {
        for text in [input.note.as_mut(), input.body.as_mut()]
            .into_iter()
            .flatten()
        {
            make_line_breaks_plain(text);
        }
        let (_, municipality_id, staff) = self.post_for_moderation(actor, post_id).await?;
        let publishes = matches!(action, ModAction::Approve | ModAction::Restore);
        if publishes && input.revision.is_none() {
            return Err(Error::invalid(
                "revision_required",
                "Geef de versie van het bericht mee die u hebt gelezen.",
            ));
        }
        let now = self.now();
        let reason = parse_reason(
            &input,
            matches!(action, ModAction::Hide | ModAction::Reject),
        )?;
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let not_now = |what: &str| {
            Error::conflict(
                "invalid_transition",
                format!("Dit bericht kan nu niet worden {what}."),
            )
        };
        let tx = self.store.begin_write().await?;
        // Decide on the post as it is now, not as it was read before the transaction.
        let p = posts::post_for_update(&*tx, post_id)
            .await?
            .ok_or_else(|| Error::not_found("post_not_found"))?;
        if p.claimed_by.is_some_and(|s| s != staff.id) && p.claimed_until.is_some_and(|u| u > now) {
            return Err(Error::conflict(
                "claimed_by_other",
                "Een andere moderator behandelt dit bericht al.",
            ));
        }
        if publishes && input.revision != Some(p.revision_count) {
            return Err(Error::conflict(
                "post_changed",
                "De schrijver heeft het bericht aangepast nadat u het opende. Lees de nieuwe \
                 tekst en beslis opnieuw.",
            ));
        }
        let status = PostStatus::parse(&p.status).unwrap_or(PostStatus::Hidden);
        let saved = match state_change(action) {
            Some((from, to, keeps_reason, verb)) => {
                if !from.contains(&status) {
                    return Err(not_now(verb));
                }
                let (reason, note) = if keeps_reason {
                    (reason.map(FlagReason::as_str), note)
                } else {
                    (None, None)
                };
                moderation::set_state(&*tx, &p, to.as_str(), reason, note, now).await?
            }
            None => {
                let replacement = input
                    .body
                    .as_deref()
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .unwrap_or(REDACTED_TEXT);
                if text_length(replacement) > 10_000 {
                    return Err(Error::invalid(
                        "body_too_long",
                        "De opgeschoonde tekst is te lang.",
                    ));
                }
                moderation::redact(&*tx, &p, replacement, now).await?
            }
        };
        if action != ModAction::Redact {
            moderation::resolve_flags(&*tx, post_id, now).await?;
        }
        moderation::release(&*tx, post_id).await?;
        moderation::record_action(
            &*tx,
            municipality_id,
            Some(p.case_id),
            Some(post_id),
            Some(p.panelist_id),
            staff.id,
            action.as_str(),
            reason.map(FlagReason::as_str),
            note,
            now,
        )
        .await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(municipality_id),
                moderation_audit_action(action),
                "post",
                post_id.to_string(),
                serde_json::json!({"reason": reason, "from": status, "to": saved.status}),
            ),
            now,
        )
        .await?;
        let event = events::append(
            &*tx,
            p.case_id,
            "post.moderated",
            Some(post_id),
            &super::posts::post_event(&saved),
            now,
        )
        .await?;
        // A reply published now tells the author of the post it answers, as a reply
        // published at once does; the outbox keeps it to one message per reply.
        if publishes
            && saved.status == PostStatus::Visible.as_str()
            && let Some(parent_id) = p.parent_id
            && let Some(parent) = posts::post_by_id(&*tx, parent_id).await?
            && parent.panelist_id != p.panelist_id
        {
            super::notifications::queue_reply(&*tx, p.case_id, parent.panelist_id, post_id, now)
                .await?;
        }
        tx.commit().await?;
        self.ring(p.case_id, event.seq);
        self.ring_moderation(municipality_id, post_id);
        tracing::info!(
            post.id = post_id,
            moderation.action = action.as_str(),
            "post moderated"
        );
        self.queue_item(actor, post_id).await
    }

    /// A municipality's word lists and flag threshold (admins).
    pub async fn moderation_policy(
        &self,
        actor: &Actor,
        municipality: &str,
    ) -> Result<PolicyInput> {
        let m = people::municipality_by_slug(self.store.db(), municipality)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        policy::require_role(actor, m.id, Role::Admin, "municipality_not_found")?;
        let words = |list: &Option<String>| -> Vec<String> {
            list.as_deref()
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Ok(PolicyInput {
            banned_words: words(&m.banned_words),
            suspect_words: words(&m.suspect_words),
            flag_threshold: Some(m.flag_threshold),
        })
    }

    /// Sets a municipality's word lists and flag threshold (admins).
    pub async fn set_moderation_policy(
        &self,
        actor: &Actor,
        municipality: &str,
        input: PolicyInput,
        ctx: &AuditContext,
    ) -> Result<PolicyInput> {
        let db = self.store.db();
        let m = people::municipality_by_slug(db, municipality)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        policy::require_role(actor, m.id, Role::Admin, "municipality_not_found")?;
        let threshold = input.flag_threshold.unwrap_or(m.flag_threshold);
        if !(1..=50).contains(&threshold) {
            return Err(Error::invalid(
                "invalid_threshold",
                "De meldingsdrempel ligt tussen 1 en 50.",
            ));
        }
        let clean = |list: &[String]| -> Result<Vec<String>> {
            let words: Vec<String> = list
                .iter()
                .map(|w| w.trim().to_owned())
                .filter(|w| !w.is_empty())
                .collect();
            if words.len() > 500
                || words
                    .iter()
                    .any(|w| w.chars().count() > 100 || w.contains(['\n', ',']))
            {
                return Err(Error::invalid(
                    "invalid_words",
                    "Hoogstens 500 woorden of zinsdelen van elk hoogstens 100 tekens, zonder komma.",
                ));
            }
            Ok(words)
        };
        let banned = clean(&input.banned_words)?;
        let suspect = clean(&input.suspect_words)?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        people::set_moderation_policy(&*tx, &m, &banned.join("\n"), &suspect.join("\n"), threshold)
            .await?;
        audit::append(&*tx, ctx.entry(Some(m.id), "moderation.policy", "municipality", m.slug.clone(), serde_json::json!({"banned": banned.len(), "suspect": suspect.len(), "flag_threshold": threshold})), now).await?;
        tx.commit().await?;
        Ok(PolicyInput {
            banned_words: banned,
            suspect_words: suspect,
            flag_threshold: Some(threshold),
        })
    }

    /// Suspends a panelist of the moderator's municipality (or lifts it with 0 hours).
    pub async fn suspend_panelist(
        &self,
        actor: &Actor,
        panelist_id: i64,
        mut input: SuspendInput,
        ctx: &AuditContext,
    ) -> Result<()> {
        if let Some(r) = input.reason.as_mut() {
            make_line_breaks_plain(r);
        }
        let (panelist, municipality_id, staff) =
            self.panelist_for_moderation(actor, panelist_id).await?;
        if input.hours > 24 * 90 {
            return Err(Error::invalid(
                "invalid_hours",
                "Schors voor hoogstens 90 dagen (2160 uur).",
            ));
        }
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if input.hours > 0 && reason.is_none() {
            return Err(Error::invalid(
                "reason_required",
                "Geef een reden op; het panellid krijgt die te zien.",
            ));
        }
        let now = self.now();
        let until = (input.hours > 0).then(|| now + Duration::hours(i64::from(input.hours)));
        let tx = self.store.begin_write().await?;
        moderation::set_suspension(&*tx, &panelist, until, reason).await?;
        let action = if until.is_some() {
            "suspend"
        } else {
            "unsuspend"
        };
        moderation::record_action(
            &*tx,
            municipality_id,
            None,
            None,
            Some(panelist_id),
            staff.id,
            action,
            None,
            reason,
            now,
        )
        .await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(municipality_id),
                if until.is_some() {
                    "panelist.suspend"
                } else {
                    "panelist.unsuspend"
                },
                "panelist",
                panelist_id.to_string(),
                serde_json::json!({"until": until}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.ring_person(super::Person::Panelist(panelist_id));
        Ok(())
    }

    /// Puts one panelist on pre-moderation (or takes them off).
    pub async fn premoderate_panelist(
        &self,
        actor: &Actor,
        panelist_id: i64,
        input: PremoderateInput,
        ctx: &AuditContext,
    ) -> Result<()> {
        let (panelist, municipality_id, staff) =
            self.panelist_for_moderation(actor, panelist_id).await?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        moderation::set_premoderated(&*tx, &panelist, input.on).await?;
        let action = if input.on {
            "premoderate"
        } else {
            "unpremoderate"
        };
        moderation::record_action(
            &*tx,
            municipality_id,
            None,
            None,
            Some(panelist_id),
            staff.id,
            action,
            None,
            None,
            now,
        )
        .await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(municipality_id),
                if input.on {
                    "panelist.premoderate"
                } else {
                    "panelist.unpremoderate"
                },
                "panelist",
                panelist_id.to_string(),
                serde_json::json!({}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn panelist_for_moderation<'a>(
        &self,
        actor: &'a Actor,
        panelist_id: i64,
    ) -> Result<(crate::store::entities::panelist::Model, i64, &'a StaffActor)> {
        let db = self.store.db();
        let p = people::panelist_by_id(db, panelist_id)
            .await?
            .ok_or_else(|| Error::not_found("panelist_not_found"))?;
        let panel = people::panel_by_id(db, p.panel_id)
            .await?
            .ok_or_else(|| Error::not_found("panelist_not_found"))?;
        let s = policy::require_role(
            actor,
            panel.municipality_id,
            Role::Moderator,
            "panelist_not_found",
        )?;
        Ok((p, panel.municipality_id, s))
    }

    /// After a new flag: hides a visible post pending review once enough distinct
    /// panelists flagged it. Runs inside the flag's transaction; returns the event to
    /// ring after commit.
    pub(crate) async fn apply_flag_threshold<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        p: &post::Model,
        municipality_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        if p.status != PostStatus::Visible.as_str() {
            return Ok(None);
        }
        let threshold = people::municipality_by_id(db, municipality_id)
            .await?
            .map_or(3, |m| m.flag_threshold.max(1));
        if moderation::open_flaggers(db, p.id).await? < threshold as u64 {
            return Ok(None);
        }
        let saved = moderation::set_state(
            db,
            p,
            PostStatus::Hidden.as_str(),
            Some("meldingen"),
            None,
            now,
        )
        .await?;
        let event = events::append(
            db,
            p.case_id,
            "post.moderated",
            Some(p.id),
            &super::posts::post_event(&saved),
            now,
        )
        .await?;
        Ok(Some(event.seq))
    }
}

/// What an action does to a post's state: the states it applies to, the state it leads
/// to, whether the reason and note are kept (for the author and the placeholder), and
/// the Dutch past participle for the error when it does not apply. `None` for redaction,
/// which changes the text and not the state.
fn state_change(
    action: ModAction,
) -> Option<(&'static [PostStatus], PostStatus, bool, &'static str)> {
    use PostStatus::{Hidden, Pending, Rejected, Visible};
    match action {
        ModAction::Approve => Some((&[Pending, Visible, Hidden], Visible, false, "goedgekeurd")),
        ModAction::Hide => Some((&[Visible, Pending, Hidden], Hidden, true, "verborgen")),
        ModAction::Restore => Some((&[Hidden, Rejected], Visible, false, "teruggezet")),
        ModAction::Reject => Some((&[Pending], Rejected, true, "afgewezen")),
        ModAction::Redact => None,
    }
}

fn moderation_audit_action(action: ModAction) -> &'static str {
    match action {
        ModAction::Approve => "post.approve",
        ModAction::Hide => "post.hide",
        ModAction::Restore => "post.restore",
        ModAction::Reject => "post.reject",
        ModAction::Redact => "post.redact",
    }
}
