//! Row of `flags`.

use sea_orm::entity::prelude::*;

/// One row of `flags`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub post_id: i64,
    pub panelist_id: i64,
    pub reason: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
