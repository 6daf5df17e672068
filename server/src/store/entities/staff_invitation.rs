//! Row of `staff_invitations`.

use sea_orm::entity::prelude::*;

/// One row of `staff_invitations`: a role offered to an existing account, waiting for
/// its holder to accept it with the code (stored hashed).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_invitations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub staff_id: i64,
    pub municipality_id: i64,
    pub role: String,
    pub code_hash: String,
    pub invited_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
