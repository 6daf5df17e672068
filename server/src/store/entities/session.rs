//! Row of `sessions`.

use sea_orm::entity::prelude::*;

/// One row of `sessions`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub token_hash: String,
    pub csrf_token: String,
    pub panelist_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub origin: Option<String>,
    pub remembered: bool,
}

impl ActiveModelBehavior for ActiveModel {}
