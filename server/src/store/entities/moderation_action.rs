//! Row of `moderation_actions`.

use sea_orm::entity::prelude::*;

/// One row of `moderation_actions`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moderation_actions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub municipality_id: i64,
    pub case_id: Option<i64>,
    pub post_id: Option<i64>,
    pub panelist_id: Option<i64>,
    pub staff_id: i64,
    pub action: String,
    pub reason: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
