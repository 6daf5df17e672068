//! Server-side sessions, found by the hash of the cookie token.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};

use super::entities::session;

/// Who a new session belongs to.
#[derive(Clone, Copy, Debug)]
pub enum SessionOwner {
    /// A panelist, by id.
    Panelist(i64),
    /// A staff member, by id.
    Staff(i64),
}

/// Stores a session.
#[allow(
    clippy::too_many_arguments,
    reason = "one INSERT; the arguments are its columns"
)]
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    csrf_token: &str,
    owner: SessionOwner,
    origin: Option<String>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    remembered: bool,
) -> Result<session::Model, DbErr> {
    let (panelist_id, staff_id) = match owner {
        SessionOwner::Panelist(id) => (Some(id), None),
        SessionOwner::Staff(id) => (None, Some(id)),
    };
    session::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        csrf_token: Set(csrf_token.to_owned()),
        panelist_id: Set(panelist_id),
        staff_id: Set(staff_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
        origin: Set(origin),
        remembered: Set(remembered),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Looks up an unexpired session by token hash.
pub async fn find_live<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash))
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// Whether a session exists and has not expired.
pub async fn is_live<C: ConnectionTrait>(
    db: &C,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(session::Entity::find_by_id(id)
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .is_some())
}

/// Extends a session that is in use.
pub async fn extend<C: ConnectionTrait>(
    db: &C,
    s: &session::Model,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut am: session::ActiveModel = s.clone().into();
    am.last_seen_at = Set(now);
    am.expires_at = Set(expires_at);
    am.update(db).await.map(|_| ())
}

/// Ends a session.
pub async fn delete<C: ConnectionTrait>(db: &C, id: i64) -> Result<(), DbErr> {
    session::Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// Ends every session of a panelist (on suspension).
pub async fn delete_for_panelist<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::PanelistId.eq(panelist_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Ends every session of a staff member but one (after a password change).
pub async fn delete_other_staff_sessions<C: ConnectionTrait>(
    db: &C,
    staff_id: i64,
    keep: i64,
) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::StaffId.eq(staff_id))
        .filter(session::Column::Id.ne(keep))
        .exec(db)
        .await?
        .rows_affected)
}

/// Removes expired sessions.
pub async fn purge_expired<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
