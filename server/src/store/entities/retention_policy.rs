//! Row of `retention_policies`: a municipality's retention settings.

use sea_orm::entity::prelude::*;

/// One municipality's retention settings.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub municipality_id: i64,
    pub programme_ends_at: Option<DateTimeUtc>,
    pub unlink_after_months: Option<i32>,
    pub audit_years: Option<i32>,
    pub updated_by: Option<i64>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
