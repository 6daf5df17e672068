//! Row of `invitation_batches`.

use sea_orm::entity::prelude::*;

/// One row of `invitation_batches`: the letters made for one panel at one time.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation_batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub municipality_id: i64,
    pub panel_id: i64,
    pub year: i32,
    pub seq: i32,
    pub kind: String,
    pub size: i32,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
