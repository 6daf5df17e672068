//! Row of `cases`.

use sea_orm::entity::prelude::*;

/// One row of `cases`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub municipality_id: i64,
    pub title: String,
    pub domain: String,
    pub provision: String,
    pub outcome: String,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    #[sea_orm(column_type = "Text")]
    pub situation: String,
    #[sea_orm(column_type = "Text")]
    pub decision: String,
    #[sea_orm(column_type = "Text")]
    pub considerations: String,
    #[sea_orm(column_type = "Text")]
    pub frame: String,
    #[sea_orm(column_type = "Text")]
    pub trail: String,
    #[sea_orm(column_type = "Text")]
    pub questions: String,
    pub status: String,
    pub opens_at: Option<DateTimeUtc>,
    pub closes_at: Option<DateTimeUtc>,
    pub moderation_mode: String,
    pub min_length: i32,
    pub max_length: i32,
    pub max_depth: i32,
    pub allow_links: bool,
    pub hide_tallies_until_reacted: bool,
    pub hold_first_post: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub response: Option<String>,
    pub event_seq: i64,
    pub event_epoch: String,
    pub export_salt: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
