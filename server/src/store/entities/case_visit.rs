//! Row of `case_visits`: when a panelist last read a case's thread.

use sea_orm::entity::prelude::*;

/// One row of `case_visits`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_visits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub panelist_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: i64,
    pub last_seen_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
