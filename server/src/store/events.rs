//! The case event log: every visible change of a case, numbered per case. Appending takes
//! the next number inside the caller's transaction, so the change and its event commit
//! together or not at all.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::cases::next_event_seq;
use super::entities::case_event;

/// Appends an event to a case's log with the case's next sequence number.
pub async fn append<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    kind: &str,
    post_id: Option<i64>,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<case_event::Model, DbErr> {
    let seq = next_event_seq(db, case_id).await?;
    case_event::ActiveModel {
        case_id: Set(case_id),
        seq: Set(seq),
        kind: Set(kind.to_owned()),
        post_id: Set(post_id),
        payload: Set(payload.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Events of a case after sequence number `after`, in order, at most `limit`.
#[tracing::instrument(skip(db))]
pub async fn after<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    after: i64,
    limit: u64,
) -> Result<Vec<case_event::Model>, DbErr> {
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::Seq.gt(after))
        .order_by_asc(case_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}
