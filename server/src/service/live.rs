//! Case events as the real-time layer sends them: read from the log in order, each post
//! event rendered from the post *as it is now* into at most two wire texts — the full
//! one, and for posts that not everyone may read, a placeholder without text or verdict.
//! Which reader gets which is [`policy::may_read_post_text`], the rule every door uses.
//! In a case that hides the tally until one's own verdict, a visible reaction gets a
//! third text without its verdict, for panelists who gave none ([`policy::sees_verdicts`]).
//! Rendered events are sent once and never kept: a resume renders anew.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Service;
use super::error::{Error, Result};
use super::policy::{self, Actor};
use super::posts::Weighings;
use crate::domain::{PostStatus, Verdict};
use crate::store::entities::{case_event, post};
use crate::store::{cases, events, posts};

/// A post inside a live event: the thread fields without anything reader-specific.
#[derive(Clone, Debug, Serialize)]
pub struct LivePost {
    /// Post id.
    pub id: i64,
    /// Case id.
    pub case_id: i64,
    /// Parent post.
    pub parent_id: Option<i64>,
    /// Nesting depth.
    pub depth: i32,
    /// Author's pseudonym.
    pub author: String,
    /// Verdict (reactions), if readable.
    pub verdict: Option<Verdict>,
    /// Text, if readable.
    pub body: Option<String>,
    /// State.
    pub status: PostStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Versions.
    pub revision_count: i32,
    /// Weighing counts.
    pub weighings: Weighings,
    /// Why a moderator hid or rejected it (reason code), for every reader.
    pub moderation_reason: Option<String>,
}

#[derive(Serialize)]
struct Wire<'a> {
    r#type: &'static str,
    topic: &'a str,
    seq: i64,
    event: &'a str,
    at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post: Option<&'a LivePost>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a serde_json::Value>,
}

/// One event ready to send.
#[derive(Clone, Debug)]
pub struct LiveEvent {
    /// Sequence number within the case.
    pub seq: i64,
    /// The message for readers who may read everything in it.
    pub full: String,
    /// For a post not everyone may read: the message for the others, without text and
    /// verdict. `None` when every reader gets `full`.
    pub restricted: Option<String>,
    /// For a visible reaction in a case that hides verdicts until one's own: the message
    /// for panelists who gave no verdict yet, without the verdict.
    pub no_verdict: Option<String>,
    /// Who gets which of the texts.
    pub access: Access,
    /// When the change was committed (for the delivery-lag metric).
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Which readers get the full message of an event: the post's state and author as read
/// when the event was rendered, judged by [`policy::may_read_post_text`].
#[derive(Clone, Debug)]
pub struct Access {
    /// The post's status, `None` for events without a post (open to all).
    pub status: Option<String>,
    /// The post's author.
    pub author_id: i64,
    /// Whether the post is a reaction (a verdict with its argument), which changes
    /// whether its author sees the verdicts of others.
    pub reaction: bool,
}

impl Access {
    /// Whether `reader` gets the full message.
    pub fn full_for(&self, reader: Reader) -> bool {
        match &self.status {
            None => true,
            Some(status) => policy::may_read_post_text(reader, status, self.author_id),
        }
    }

    /// After this event: whether `reader` (who saw verdicts: `sees`) sees the verdicts
    /// of others in the case — changed only by the reader's own reaction (given, or
    /// withdrawn), as [`policy::sees_verdicts`] counts it.
    pub fn sees_verdicts_after(&self, reader: Reader, sees: bool) -> bool {
        match (reader, &self.status) {
            (Reader::Panelist(id), Some(status)) if self.reaction && id == self.author_id => {
                status != PostStatus::Withdrawn.as_str()
            }
            _ => sees,
        }
    }
}

pub use policy::Reader;

/// The position of a case's log: last sequence number and epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogHead {
    /// Last sequence number.
    pub seq: i64,
    /// Epoch.
    pub epoch: String,
}

/// What a follower may read of a case, as checked when they subscribe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Follow {
    /// The log's head.
    pub head: LogHead,
    /// Whether the follower sees the verdicts of others' reactions now
    /// ([`policy::sees_verdicts`]; staff always).
    pub sees_verdicts: bool,
}

impl Service {
    /// Checks that the actor may follow the case live; returns the log's head and
    /// whether the actor sees others' verdicts.
    pub async fn authorize_follow(&self, actor: &Actor, case_id: i64) -> Result<Follow> {
        let case = self.visible_case(actor, case_id).await?;
        let sees_verdicts = match actor {
            Actor::Staff(_) => true,
            // Only a case that hides verdicts needs to know whether one reacted.
            Actor::Panelist(p) => {
                policy::sees_verdicts(&case, false)
                    || posts::reaction_of(self.store.db(), case.id, p.id)
                        .await?
                        .is_some()
            }
        };
        Ok(Follow {
            head: LogHead {
                seq: case.event_seq,
                epoch: case.event_epoch,
            },
            sees_verdicts,
        })
    }

    /// The head of a case's log, for any case (the real-time layer's own bookkeeping).
    pub async fn log_head(&self, case_id: i64) -> Result<LogHead> {
        let case = cases::case_by_id(self.store.db(), case_id)
            .await?
            .ok_or_else(|| Error::not_found("case_not_found"))?;
        Ok(LogHead {
            seq: case.event_seq,
            epoch: case.event_epoch,
        })
    }

    /// Heads of several cases at once.
    pub async fn log_heads(&self, case_ids: &[i64]) -> Result<HashMap<i64, i64>> {
        Ok(cases::event_heads(self.store.db(), case_ids).await?)
    }

    /// Events of a case after `after`, rendered for sending, at most `limit`.
    pub async fn live_events(
        &self,
        case_id: i64,
        after: i64,
        limit: u64,
    ) -> Result<Vec<LiveEvent>> {
        let db = self.store.db();
        let list = events::after(db, case_id, after, limit).await?;
        let mut post_ids: Vec<i64> = list.iter().filter_map(|e| e.post_id).collect();
        post_ids.sort_unstable();
        post_ids.dedup();
        let found = posts::posts_by_ids(db, &post_ids).await?;
        let authors: Vec<(i64, i64)> = found.iter().map(|p| (p.case_id, p.panelist_id)).collect();
        let names = crate::store::names::display_names(db, &authors).await?;
        let counts = posts::weighing_counts(db, &post_ids).await?;
        let by_id: HashMap<i64, &post::Model> = found.iter().map(|p| (p.id, p)).collect();
        // Whether verdicts are held back from panelists who gave none: read only when the
        // batch carries a reaction.
        let gates_verdicts = if found.iter().any(is_reaction) {
            cases::case_by_id(db, case_id)
                .await?
                .is_some_and(|c| !policy::sees_verdicts(&c, false))
        } else {
            false
        };
        let topic = format!("case:{case_id}");
        let mut out = Vec::with_capacity(list.len());
        for e in list {
            let p = e.post_id.and_then(|id| by_id.get(&id).copied());
            let live = p.map(|p| live_post(p, &names, &counts));
            out.push(render(&topic, &e, p, live, gates_verdicts)?);
        }
        Ok(out)
    }
}

/// A reaction: a top-level post with a verdict.
fn is_reaction(p: &post::Model) -> bool {
    p.parent_id.is_none() && p.verdict.is_some()
}

fn live_post(
    p: &post::Model,
    names: &HashMap<(i64, i64), String>,
    counts: &HashMap<i64, posts::WeighingCounts>,
) -> LivePost {
    LivePost {
        id: p.id,
        case_id: p.case_id,
        parent_id: p.parent_id,
        depth: p.depth,
        author: super::posts::display_name(names, p),
        verdict: p.verdict.as_deref().and_then(Verdict::parse),
        body: Some(p.body.clone()),
        status: PostStatus::parse(&p.status).unwrap_or(PostStatus::Hidden),
        created_at: p.created_at,
        updated_at: p.updated_at,
        revision_count: p.revision_count,
        weighings: counts.get(&p.id).copied().unwrap_or_default().into(),
        moderation_reason: p.status_reason.clone(),
    }
}

fn render(
    topic: &str,
    e: &case_event::Model,
    p: Option<&post::Model>,
    live: Option<LivePost>,
    gates_verdicts: bool,
) -> Result<LiveEvent> {
    let data: Option<serde_json::Value> = if e.kind.starts_with("post.") {
        None
    } else {
        Some(serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null))
    };
    // Post events carry the post; other events carry their data.
    let live = if e.kind.starts_with("post.") {
        live
    } else {
        None
    };
    let to_text = |post: Option<&LivePost>| {
        serde_json::to_string(&Wire {
            r#type: "event",
            topic,
            seq: e.seq,
            event: &e.kind,
            at: e.created_at,
            post,
            data: data.as_ref(),
        })
        .map_err(|err| Error::Internal(format!("render event: {err}")))
    };
    let full = to_text(live.as_ref())?;
    let access = Access {
        status: p.filter(|_| live.is_some()).map(|p| p.status.clone()),
        author_id: p.map_or(0, |p| p.panelist_id),
        reaction: p.is_some_and(is_reaction),
    };
    let open_to_all = p.is_none_or(policy::post_open_to_all);
    let (restricted, no_verdict) = match (&live, open_to_all) {
        (Some(l), false) => {
            let mut hidden = l.clone();
            hidden.body = None;
            hidden.verdict = None;
            (Some(to_text(Some(&hidden))?), None)
        }
        // Readers without the full text get no verdict anyway; the others may need a
        // text without it.
        (Some(l), true) if gates_verdicts && l.verdict.is_some() => {
            let mut no_verdict = l.clone();
            no_verdict.verdict = None;
            (None, Some(to_text(Some(&no_verdict))?))
        }
        _ => (None, None),
    };
    Ok(LiveEvent {
        seq: e.seq,
        full,
        access,
        restricted,
        no_verdict,
        at: e.created_at,
    })
}
