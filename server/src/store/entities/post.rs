//! Row of `posts`.

use sea_orm::entity::prelude::*;

/// One row of `posts`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub panelist_id: i64,
    pub parent_id: Option<i64>,
    pub depth: i32,
    pub thread_path: String,
    pub verdict: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub status: String,
    pub status_reason: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub status_note: Option<String>,
    pub revision_count: i32,
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub claimed_by: Option<i64>,
    pub claimed_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub held_reasons: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
