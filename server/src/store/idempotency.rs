//! Idempotency records: the first answer to a write, kept so a retry with the same
//! `Idempotency-Key` gets that answer instead of a second write.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};

use super::entities::idempotency_key;

/// Claims `(scope, key)` for a request with `fingerprint`. Returns `Ok(None)` when the
/// claim is new, or the existing record when the key was used before.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Option<idempotency_key::Model>, DbErr> {
    let inserted = idempotency_key::ActiveModel {
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        status: Set(None),
        response: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(None),
        Err(e) if super::is_unique_violation(&e) => {
            idempotency_key::Entity::find()
                .filter(idempotency_key::Column::Scope.eq(scope))
                .filter(idempotency_key::Column::Key.eq(key))
                .one(db)
                .await
        }
        Err(e) => Err(e),
    }
}

/// Takes over a claim whose request never finished (the node died mid-way).
pub async fn reclaim<C: ConnectionTrait>(
    db: &C,
    record: &idempotency_key::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(idempotency_key::Column::Id.eq(record.id))
        .filter(idempotency_key::Column::Status.is_null())
        .filter(idempotency_key::Column::CreatedAt.eq(record.created_at))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Stores the answer of a finished request.
pub async fn complete<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    status: u16,
    response: &str,
) -> Result<(), DbErr> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Status,
            sea_orm::sea_query::Expr::value(i32::from(status)),
        )
        .col_expr(
            idempotency_key::Column::Response,
            sea_orm::sea_query::Expr::value(response.to_owned()),
        )
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await
        .map(|_| ())
}

/// Forgets a claim whose request failed on the server, so a retry runs again.
pub async fn release<C: ConnectionTrait>(db: &C, scope: &str, key: &str) -> Result<(), DbErr> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Status.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes records older than `before`.
pub async fn purge<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
