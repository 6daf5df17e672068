//! Idempotency records: the first answer to a write, kept so a retry with the same
//! `Idempotency-Key` gets that answer instead of a second write. A record without an
//! answer is a *claim* of a request still running; its lease (`lease_until`) is renewed
//! while the request runs, so a claim left by a node that died expires within seconds.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};

use super::entities::idempotency_key;

/// The outcome of [`claim`].
#[derive(Clone, Debug)]
pub enum Claim {
    /// The key was free and is now claimed by this request: the record's id.
    New(i64),
    /// The key was used before: the record as it stands (answered or still claimed).
    Existing(idempotency_key::Model),
    /// The key was claimed a moment ago and released before it could be read: the
    /// caller may claim again.
    Released,
}

/// Claims `(scope, key)` for a request with `fingerprint` until `lease_until`.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Claim, DbErr> {
    let inserted = idempotency_key::ActiveModel {
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        status: Set(None),
        response: Set(None),
        headers: Set(None),
        lease_until: Set(Some(lease_until)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(m) => Ok(Claim::New(m.id)),
        Err(e) if super::is_unique_violation(&e) => {
            let existing = idempotency_key::Entity::find()
                .filter(idempotency_key::Column::Scope.eq(scope))
                .filter(idempotency_key::Column::Key.eq(key))
                .one(db)
                .await?;
            Ok(existing.map_or(Claim::Released, Claim::Existing))
        }
        Err(e) => Err(e),
    }
}

/// Removes a claim whose lease ran out (its request died), provided nobody answered or
/// renewed it since `record` was read. Returns whether it was removed.
pub async fn drop_expired<C: ConnectionTrait>(
    db: &C,
    record: &idempotency_key::Model,
) -> Result<bool, DbErr> {
    let lease = match record.lease_until {
        Some(t) => idempotency_key::Column::LeaseUntil.eq(t),
        None => idempotency_key::Column::LeaseUntil.is_null(),
    };
    let result = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Id.eq(record.id))
        .filter(idempotency_key::Column::Status.is_null())
        .filter(lease)
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Extends the lease of a running request's claim. Returns `false` when the claim is
/// gone (answered, released or taken over).
pub async fn renew<C: ConnectionTrait>(
    db: &C,
    id: i64,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::LeaseUntil,
            Expr::value(lease_until),
        )
        .filter(idempotency_key::Column::Id.eq(id))
        .filter(idempotency_key::Column::Status.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Stores the answer of a finished request on its claim: status, the headers to replay
/// (JSON) and the body. Returns `false` when the claim was no longer this request's.
pub async fn complete<C: ConnectionTrait>(
    db: &C,
    id: i64,
    status: u16,
    headers: &str,
    response: &str,
) -> Result<bool, DbErr> {
    let result = idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Status,
            Expr::value(i32::from(status)),
        )
        .col_expr(
            idempotency_key::Column::Headers,
            Expr::value(headers.to_owned()),
        )
        .col_expr(
            idempotency_key::Column::Response,
            Expr::value(response.to_owned()),
        )
        .col_expr(
            idempotency_key::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(idempotency_key::Column::Id.eq(id))
        .filter(idempotency_key::Column::Status.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Forgets a claim whose request ended without an answer worth keeping (a transient
/// refusal, a server error, or a request that was dropped), so a retry runs again.
pub async fn release<C: ConnectionTrait>(db: &C, id: i64) -> Result<(), DbErr> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Id.eq(id))
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
