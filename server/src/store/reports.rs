//! The per-case report: which posts staff chose to quote.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::entities::report_quote;

/// The quotes chosen for a case, in the order they were chosen.
pub async fn quotes_of_case<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<Vec<report_quote::Model>, DbErr> {
    report_quote::Entity::find()
        .filter(report_quote::Column::CaseId.eq(case_id))
        .order_by_asc(report_quote::Column::Id)
        .all(db)
        .await
}

/// Adds a post as a quote of its case.
pub async fn add_quote<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    post_id: i64,
    staff_id: i64,
    now: DateTime<Utc>,
) -> Result<report_quote::Model, DbErr> {
    report_quote::ActiveModel {
        case_id: Set(case_id),
        post_id: Set(post_id),
        chosen_by_staff_id: Set(staff_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Removes the given posts from a case's quotes.
pub async fn remove_quotes<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    post_ids: &[i64],
) -> Result<u64, DbErr> {
    if post_ids.is_empty() {
        return Ok(0);
    }
    let res = report_quote::Entity::delete_many()
        .filter(report_quote::Column::CaseId.eq(case_id))
        .filter(report_quote::Column::PostId.is_in(post_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
