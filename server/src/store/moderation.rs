//! Moderation queries: queues per municipality, claims, flags, actions, redaction.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{
    case, flag, idempotency_key, moderation_action, panelist, post, post_revision,
};

/// Ids of the cases of a municipality.
async fn case_ids<C: ConnectionTrait>(db: &C, municipality_id: i64) -> Result<Vec<i64>, DbErr> {
    case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::MunicipalityId.eq(municipality_id))
        .into_tuple()
        .all(db)
        .await
}

/// Ids of posts with open flags among the given cases.
async fn flagged_ids<C: ConnectionTrait>(db: &C, cases: &[i64]) -> Result<Vec<i64>, DbErr> {
    let mut ids: Vec<i64> = flag::Entity::find()
        .select_only()
        .column(flag::Column::PostId)
        .filter(flag::Column::ResolvedAt.is_null())
        .filter(flag::Column::CaseId.is_in(cases.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Held posts (pending) of a municipality, oldest first, after post id `after`.
pub async fn pending<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    after: i64,
    limit: u64,
) -> Result<Vec<post::Model>, DbErr> {
    let cases = case_ids(db, municipality_id).await?;
    post::Entity::find()
        .filter(post::Column::CaseId.is_in(cases))
        .filter(post::Column::Status.eq("pending"))
        .filter(post::Column::Id.gt(after))
        .order_by_asc(post::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Posts with open flags of a municipality, oldest first, after post id `after`.
pub async fn flagged<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    after: i64,
    limit: u64,
) -> Result<Vec<post::Model>, DbErr> {
    let cases = case_ids(db, municipality_id).await?;
    let ids: Vec<i64> = flagged_ids(db, &cases)
        .await?
        .into_iter()
        .filter(|id| *id > after)
        .take(limit as usize)
        .collect();
    post::Entity::find()
        .filter(post::Column::Id.is_in(ids))
        .order_by_asc(post::Column::Id)
        .all(db)
        .await
}

/// `(pending, flagged)` counts of a municipality.
pub async fn counts<C: ConnectionTrait>(db: &C, municipality_id: i64) -> Result<(u64, u64), DbErr> {
    let cases = case_ids(db, municipality_id).await?;
    let pending = post::Entity::find()
        .filter(post::Column::CaseId.is_in(cases.iter().copied()))
        .filter(post::Column::Status.eq("pending"))
        .count(db)
        .await?;
    let flagged = flagged_ids(db, &cases).await?.len() as u64;
    Ok((pending, flagged))
}

/// How often each moderation action was taken about each of these panelists (on their
/// posts or their account): `(panelist, action, count)`.
pub async fn action_counts<C: ConnectionTrait>(
    db: &C,
    panelist_ids: &[i64],
) -> Result<Vec<(i64, String, i64)>, DbErr> {
    if panelist_ids.is_empty() {
        return Ok(Vec::new());
    }
    moderation_action::Entity::find()
        .select_only()
        .column(moderation_action::Column::PanelistId)
        .column(moderation_action::Column::Action)
        .column_as(moderation_action::Column::Id.count(), "n")
        .filter(moderation_action::Column::PanelistId.is_in(panelist_ids.iter().copied()))
        .group_by(moderation_action::Column::PanelistId)
        .group_by(moderation_action::Column::Action)
        .into_tuple::<(i64, String, i64)>()
        .all(db)
        .await
}

/// `(slug, pending, flagged)` of every municipality, by slug (for the metrics).
pub async fn queue_sizes<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, u64, u64)>, DbErr> {
    let municipalities = super::entities::municipality::Entity::find()
        .order_by_asc(super::entities::municipality::Column::Slug)
        .all(db)
        .await?;
    let mut sizes = Vec::with_capacity(municipalities.len());
    for m in municipalities {
        let (pending, flagged) = counts(db, m.id).await?;
        sizes.push((m.slug, pending, flagged));
    }
    Ok(sizes)
}

/// Posts held for a moderator, in every municipality (for the metrics).
pub async fn held_total<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    post::Entity::find()
        .filter(post::Column::Status.eq("pending"))
        .count(db)
        .await
}

/// Recent moderation actions of a municipality, newest first, before id `before`.
pub async fn handled<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<moderation_action::Model>, DbErr> {
    let mut q = moderation_action::Entity::find()
        .filter(moderation_action::Column::MunicipalityId.eq(municipality_id));
    if let Some(b) = before {
        q = q.filter(moderation_action::Column::Id.lt(b));
    }
    q.order_by_desc(moderation_action::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Open flags of the given posts.
pub async fn open_flags<C: ConnectionTrait>(
    db: &C,
    post_ids: &[i64],
) -> Result<Vec<flag::Model>, DbErr> {
    flag::Entity::find()
        .filter(flag::Column::PostId.is_in(post_ids.iter().copied()))
        .filter(flag::Column::ResolvedAt.is_null())
        .order_by_asc(flag::Column::Id)
        .all(db)
        .await
}

/// Number of distinct panelists with an open flag on a post.
pub async fn open_flaggers<C: ConnectionTrait>(db: &C, post_id: i64) -> Result<u64, DbErr> {
    flag::Entity::find()
        .filter(flag::Column::PostId.eq(post_id))
        .filter(flag::Column::ResolvedAt.is_null())
        .count(db)
        .await
}

/// Marks every open flag of a post as handled.
pub async fn resolve_flags<C: ConnectionTrait>(
    db: &C,
    post_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(flag::Entity::update_many()
        .col_expr(flag::Column::ResolvedAt, Expr::value(now))
        .filter(flag::Column::PostId.eq(post_id))
        .filter(flag::Column::ResolvedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Claims a post for `staff_id` until `until`, unless another moderator holds a claim
/// that has not expired. Returns whether the claim is now this moderator's.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    post_id: i64,
    staff_id: i64,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = post::Entity::update_many()
        .col_expr(post::Column::ClaimedBy, Expr::value(staff_id))
        .col_expr(post::Column::ClaimedUntil, Expr::value(until))
        .filter(post::Column::Id.eq(post_id))
        .filter(
            Condition::any()
                .add(post::Column::ClaimedBy.is_null())
                .add(post::Column::ClaimedBy.eq(staff_id))
                .add(post::Column::ClaimedUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Drops any claim on a post.
pub async fn release<C: ConnectionTrait>(db: &C, post_id: i64) -> Result<(), DbErr> {
    post::Entity::update_many()
        .col_expr(post::Column::ClaimedBy, Expr::value(Option::<i64>::None))
        .col_expr(
            post::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(post::Column::Id.eq(post_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Sets a post's moderation state.
pub async fn set_state<C: ConnectionTrait>(
    db: &C,
    p: &post::Model,
    status: &str,
    reason: Option<&str>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<post::Model, DbErr> {
    let mut am: post::ActiveModel = p.clone().into();
    am.status = Set(status.to_owned());
    am.status_reason = Set(reason.map(str::to_owned));
    am.status_note = Set(note.map(str::to_owned));
    am.updated_at = Set(now);
    am.update(db).await
}

/// Replaces the text of a post and of every stored revision, so the original is gone
/// everywhere it was kept.
pub async fn redact<C: ConnectionTrait>(
    db: &C,
    p: &post::Model,
    replacement: &str,
    now: DateTime<Utc>,
) -> Result<post::Model, DbErr> {
    post_revision::Entity::update_many()
        .col_expr(post_revision::Column::Body, Expr::value(replacement))
        .filter(post_revision::Column::PostId.eq(p.id))
        .exec(db)
        .await?;
    // Stored answers to the author's retried requests may quote the text too.
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Scope.eq(format!("panelist:{}", p.panelist_id)))
        .exec(db)
        .await?;
    let mut am: post::ActiveModel = p.clone().into();
    am.body = Set(replacement.to_owned());
    am.updated_at = Set(now);
    am.update(db).await
}

/// Records a moderation action.
#[allow(clippy::too_many_arguments)]
pub async fn record_action<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    case_id: Option<i64>,
    post_id: Option<i64>,
    panelist_id: Option<i64>,
    staff_id: i64,
    action: &str,
    reason: Option<&str>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<moderation_action::Model, DbErr> {
    moderation_action::ActiveModel {
        municipality_id: Set(municipality_id),
        case_id: Set(case_id),
        post_id: Set(post_id),
        panelist_id: Set(panelist_id),
        staff_id: Set(staff_id),
        action: Set(action.to_owned()),
        reason: Set(reason.map(str::to_owned)),
        note: Set(note.map(str::to_owned)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Suspends a panelist until `until` (or lifts it with `None`).
pub async fn set_suspension<C: ConnectionTrait>(
    db: &C,
    p: &panelist::Model,
    until: Option<DateTime<Utc>>,
    reason: Option<&str>,
) -> Result<panelist::Model, DbErr> {
    let mut am: panelist::ActiveModel = p.clone().into();
    am.suspended_until = Set(until);
    am.suspended_reason = Set(reason.map(str::to_owned));
    am.update(db).await
}

/// Puts a panelist on pre-moderation, or takes them off.
pub async fn set_premoderated<C: ConnectionTrait>(
    db: &C,
    p: &panelist::Model,
    on: bool,
) -> Result<panelist::Model, DbErr> {
    let mut am: panelist::ActiveModel = p.clone().into();
    am.premoderated = Set(on);
    am.update(db).await
}

/// Whether a panelist has written anything in a case before.
pub async fn has_posted_in<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    panelist_id: i64,
) -> Result<bool, DbErr> {
    Ok(post::Entity::find()
        .filter(post::Column::CaseId.eq(case_id))
        .filter(post::Column::PanelistId.eq(panelist_id))
        .count(db)
        .await?
        > 0)
}

/// A panelist's earlier texts in a case (for the repeated-text check).
pub async fn texts_of<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    panelist_id: i64,
) -> Result<Vec<String>, DbErr> {
    post::Entity::find()
        .select_only()
        .column(post::Column::Body)
        .filter(post::Column::CaseId.eq(case_id))
        .filter(post::Column::PanelistId.eq(panelist_id))
        .into_tuple()
        .all(db)
        .await
}
