//! Row of `retention_runs`: one day's application of a municipality's retention.

use sea_orm::entity::prelude::*;

/// One run of the retention job.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub municipality_id: i64,
    pub day: String,
    #[sea_orm(column_type = "Text")]
    pub counts: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
