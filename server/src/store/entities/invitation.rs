//! Row of `invitations`.

use sea_orm::entity::prelude::*;

/// One row of `invitations`: one code handed out, by number; the code only as a digest.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub municipality_id: i64,
    pub batch_id: i64,
    pub panelist_id: i64,
    pub number: String,
    pub code_hash: String,
    pub status: String,
    pub replaces_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub first_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
