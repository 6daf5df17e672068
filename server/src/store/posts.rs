//! The thread of a case: posts, their revisions, weighings and flags.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{flag, post, post_revision, weighing};

/// Width of one id in a thread path; ids are zero-padded so that sorting paths as text
/// gives depth-first thread order with siblings oldest first.
const PATH_WIDTH: usize = 12;

/// The thread path of a post under `parent_path` (or at the top).
pub fn thread_path(parent_path: Option<&str>, id: i64) -> String {
    match parent_path {
        Some(parent) => format!("{parent}/{id:0PATH_WIDTH$}"),
        None => format!("{id:0PATH_WIDTH$}"),
    }
}

/// What a new post holds.
pub struct NewPost<'a> {
    /// Case the post belongs to.
    pub case_id: i64,
    /// Author.
    pub panelist_id: i64,
    /// The post it answers, if a reply.
    pub parent: Option<&'a post::Model>,
    /// Verdict, for a reaction.
    pub verdict: Option<&'a str>,
    /// Text.
    pub body: &'a str,
    /// Initial status.
    pub status: &'a str,
    /// The client's idempotency key, so a retry finds the stored post.
    pub idempotency_key: Option<&'a str>,
    /// Why the post is held (JSON list), if it is.
    pub held_reasons: Option<String>,
}

/// Inserts a post with its first revision and its thread path.
pub async fn insert_post<C: ConnectionTrait>(
    db: &C,
    new: NewPost<'_>,
    now: DateTime<Utc>,
) -> Result<post::Model, DbErr> {
    let inserted = post::ActiveModel {
        case_id: Set(new.case_id),
        panelist_id: Set(new.panelist_id),
        parent_id: Set(new.parent.map(|p| p.id)),
        depth: Set(new.parent.map_or(0, |p| p.depth + 1)),
        // The real path needs the id; a unique placeholder keeps the column non-null.
        thread_path: Set(String::from("~")),
        verdict: Set(new.verdict.map(str::to_owned)),
        body: Set(new.body.to_owned()),
        status: Set(new.status.to_owned()),
        revision_count: Set(1),
        idempotency_key: Set(new.idempotency_key.map(str::to_owned)),
        held_reasons: Set(new.held_reasons),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mut am: post::ActiveModel = inserted.clone().into();
    am.thread_path = Set(thread_path(
        new.parent.map(|p| p.thread_path.as_str()),
        inserted.id,
    ));
    let saved = am.update(db).await?;
    insert_revision(db, &saved, now).await?;
    Ok(saved)
}

async fn insert_revision<C: ConnectionTrait>(
    db: &C,
    p: &post::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    post_revision::ActiveModel {
        post_id: Set(p.id),
        revision: Set(p.revision_count),
        verdict: Set(p.verdict.clone()),
        body: Set(p.body.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Stores a new text (and verdict) of a post as its next revision.
pub async fn revise_post<C: ConnectionTrait>(
    db: &C,
    p: &post::Model,
    body: &str,
    verdict: Option<&str>,
    now: DateTime<Utc>,
) -> Result<post::Model, DbErr> {
    let mut am: post::ActiveModel = p.clone().into();
    am.body = Set(body.to_owned());
    if verdict.is_some() {
        am.verdict = Set(verdict.map(str::to_owned));
    }
    am.revision_count = Set(p.revision_count + 1);
    am.updated_at = Set(now);
    let saved = am.update(db).await?;
    insert_revision(db, &saved, now).await?;
    Ok(saved)
}

/// Holds a post for a moderator, with the reasons (JSON list). A reason a moderator gave
/// for an earlier hide no longer applies to the held text and is cleared.
pub async fn hold<C: ConnectionTrait>(
    db: &C,
    p: &post::Model,
    held_reasons: &str,
    now: DateTime<Utc>,
) -> Result<post::Model, DbErr> {
    let mut am: post::ActiveModel = p.clone().into();
    am.status = Set("pending".to_owned());
    am.held_reasons = Set(Some(held_reasons.to_owned()));
    am.status_reason = Set(None);
    am.status_note = Set(None);
    am.updated_at = Set(now);
    am.update(db).await
}

/// Sets the status of a post.
pub async fn set_post_status<C: ConnectionTrait>(
    db: &C,
    p: &post::Model,
    status: &str,
    now: DateTime<Utc>,
) -> Result<post::Model, DbErr> {
    let mut am: post::ActiveModel = p.clone().into();
    am.status = Set(status.to_owned());
    am.updated_at = Set(now);
    am.update(db).await
}

/// Looks up a post by id.
pub async fn post_by_id<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<post::Model>, DbErr> {
    post::Entity::find_by_id(id).one(db).await
}

/// Reads a post inside a write transaction and locks its row until the transaction
/// ends (on SQLite the write gate already orders writers), so a decision is taken on the
/// post as it is now.
pub async fn post_for_update<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<post::Model>, DbErr> {
    post::Entity::find_by_id(id).lock_exclusive().one(db).await
}

/// Looks up several posts by id.
pub async fn posts_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<Vec<post::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    post::Entity::find()
        .filter(post::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Looks up a post by its author's idempotency key.
pub async fn post_by_idempotency_key<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    key: &str,
) -> Result<Option<post::Model>, DbErr> {
    post::Entity::find()
        .filter(post::Column::PanelistId.eq(panelist_id))
        .filter(post::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

/// A panelist's live (not withdrawn) reaction in a case.
pub async fn reaction_of<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    panelist_id: i64,
) -> Result<Option<post::Model>, DbErr> {
    post::Entity::find()
        .filter(post::Column::CaseId.eq(case_id))
        .filter(post::Column::PanelistId.eq(panelist_id))
        .filter(post::Column::ParentId.is_null())
        .filter(post::Column::Status.ne("withdrawn"))
        .one(db)
        .await
}

/// One page of a thread in depth-first order, after the thread path `after`.
#[tracing::instrument(skip(db))]
pub async fn thread_page<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<post::Model>, DbErr> {
    let mut q = post::Entity::find().filter(post::Column::CaseId.eq(case_id));
    if let Some(after) = after {
        q = q.filter(post::Column::ThreadPath.gt(after));
    }
    q.order_by_asc(post::Column::ThreadPath)
        .limit(limit)
        .all(db)
        .await
}

/// Every post of a case in thread order (for exports).
pub async fn posts_of_case<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<Vec<post::Model>, DbErr> {
    post::Entity::find()
        .filter(post::Column::CaseId.eq(case_id))
        .order_by_asc(post::Column::ThreadPath)
        .all(db)
        .await
}

/// A panelist's posts that others cannot read (held, hidden or rejected), oldest first.
pub async fn unseen_posts_by<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<post::Model>, DbErr> {
    post::Entity::find()
        .filter(post::Column::PanelistId.eq(panelist_id))
        .filter(post::Column::Status.is_in(["pending", "hidden", "rejected"]))
        .order_by_asc(post::Column::Id)
        .all(db)
        .await
}

/// Agree / disagree / pass counts of one post.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WeighingCounts {
    /// Weighed "agree".
    pub agree: i64,
    /// Weighed "disagree".
    pub disagree: i64,
    /// Weighed "pass".
    pub pass: i64,
}

#[derive(FromQueryResult)]
struct CountRow {
    post_id: i64,
    value: String,
    n: i64,
}

/// Weighing counts of the given posts.
pub async fn weighing_counts<C: ConnectionTrait>(
    db: &C,
    post_ids: &[i64],
) -> Result<HashMap<i64, WeighingCounts>, DbErr> {
    let rows = weighing::Entity::find()
        .select_only()
        .column(weighing::Column::PostId)
        .column(weighing::Column::Value)
        .column_as(weighing::Column::Id.count(), "n")
        .filter(weighing::Column::PostId.is_in(post_ids.iter().copied()))
        .group_by(weighing::Column::PostId)
        .group_by(weighing::Column::Value)
        .into_model::<CountRow>()
        .all(db)
        .await?;
    let mut out: HashMap<i64, WeighingCounts> = HashMap::new();
    for row in rows {
        let c = out.entry(row.post_id).or_default();
        match row.value.as_str() {
            "agree" => c.agree = row.n,
            "disagree" => c.disagree = row.n,
            _ => c.pass = row.n,
        }
    }
    Ok(out)
}

/// Every weighing of a case, oldest first (for exports).
pub async fn weighings_of_case<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<Vec<weighing::Model>, DbErr> {
    weighing::Entity::find()
        .filter(weighing::Column::CaseId.eq(case_id))
        .order_by_asc(weighing::Column::Id)
        .all(db)
        .await
}

/// A panelist's own weighings among the given posts.
pub async fn weighings_by<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    post_ids: &[i64],
) -> Result<HashMap<i64, String>, DbErr> {
    Ok(weighing::Entity::find()
        .filter(weighing::Column::PanelistId.eq(panelist_id))
        .filter(weighing::Column::PostId.is_in(post_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|w| (w.post_id, w.value))
        .collect())
}

/// Which of `post_ids` the panelist has flagged.
pub async fn flagged_by<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    post_ids: &[i64],
) -> Result<std::collections::HashSet<i64>, DbErr> {
    Ok(flag::Entity::find()
        .filter(flag::Column::PanelistId.eq(panelist_id))
        .filter(flag::Column::PostId.is_in(post_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.post_id)
        .collect())
}

/// Sets (or changes) a panelist's weighing of a post; returns whether anything changed.
pub async fn upsert_weighing<C: ConnectionTrait>(
    db: &C,
    p: &post::Model,
    panelist_id: i64,
    value: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let existing = weighing::Entity::find()
        .filter(weighing::Column::PostId.eq(p.id))
        .filter(weighing::Column::PanelistId.eq(panelist_id))
        .one(db)
        .await?;
    match existing {
        Some(w) if w.value == value => Ok(false),
        Some(w) => {
            let mut am: weighing::ActiveModel = w.into();
            am.value = Set(value.to_owned());
            am.updated_at = Set(now);
            am.update(db).await?;
            Ok(true)
        }
        None => {
            weighing::ActiveModel {
                case_id: Set(p.case_id),
                post_id: Set(p.id),
                panelist_id: Set(panelist_id),
                value: Set(value.to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            Ok(true)
        }
    }
}

/// Stores a flag; a second flag by the same panelist on the same post is a unique
/// violation.
pub async fn insert_flag<C: ConnectionTrait>(
    db: &C,
    p: &post::Model,
    panelist_id: i64,
    reason: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<flag::Model, DbErr> {
    flag::ActiveModel {
        case_id: Set(p.case_id),
        post_id: Set(p.id),
        panelist_id: Set(panelist_id),
        reason: Set(reason.to_owned()),
        note: Set(note.map(str::to_owned)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Number of flags per post of a case.
pub async fn flag_counts<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<HashMap<i64, i64>, DbErr> {
    let mut out = HashMap::new();
    for f in flag::Entity::find()
        .filter(flag::Column::CaseId.eq(case_id))
        .all(db)
        .await?
    {
        *out.entry(f.post_id).or_insert(0) += 1;
    }
    Ok(out)
}

#[derive(FromQueryResult)]
struct VerdictRow {
    verdict: Option<String>,
    n: i64,
}

/// Reactions per verdict in a case, counting the reactions in `statuses` and, for
/// `own_author`, that panelist's own reaction in any state but withdrawn or rejected.
pub async fn verdict_counts<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    statuses: &[&str],
    own_author: Option<i64>,
) -> Result<HashMap<String, i64>, DbErr> {
    let mut counted = Condition::any().add(post::Column::Status.is_in(statuses.iter().copied()));
    if let Some(author) = own_author {
        counted = counted.add(
            Condition::all()
                .add(post::Column::PanelistId.eq(author))
                .add(post::Column::Status.is_in(["visible", "hidden", "pending"])),
        );
    }
    let rows = post::Entity::find()
        .select_only()
        .column(post::Column::Verdict)
        .column_as(post::Column::Id.count(), "n")
        .filter(post::Column::CaseId.eq(case_id))
        .filter(post::Column::ParentId.is_null())
        .filter(counted)
        .group_by(post::Column::Verdict)
        .into_model::<VerdictRow>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.verdict.map(|v| (v, r.n)))
        .collect())
}

/// Revisions of a post, oldest first.
pub async fn revisions_of<C: ConnectionTrait>(
    db: &C,
    post_id: i64,
) -> Result<Vec<post_revision::Model>, DbErr> {
    post_revision::Entity::find()
        .filter(post_revision::Column::PostId.eq(post_id))
        .order_by_asc(post_revision::Column::Revision)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::thread_path;

    #[test]
    fn thread_paths_sort_depth_first() {
        let a = thread_path(None, 9);
        let a_reply = thread_path(Some(&a), 10);
        let b = thread_path(None, 10);
        let mut paths = vec![b.clone(), a_reply.clone(), a.clone()];
        paths.sort();
        assert_eq!(paths, vec![a, a_reply, b]);
    }
}
