//! Row of `idempotency_keys`.

use sea_orm::entity::prelude::*;

/// One row of `idempotency_keys`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub scope: String,
    pub key: String,
    pub fingerprint: String,
    pub status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub response: Option<String>,
    pub created_at: DateTimeUtc,
    /// When the claim of a running request lapses unless renewed (none once answered).
    pub lease_until: Option<DateTimeUtc>,
    /// The stored answer's headers, a JSON list of `[name, value]`.
    #[sea_orm(column_type = "Text", nullable)]
    pub headers: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
