//! Row of `case_panels`: which panels a case is put before.

use sea_orm::entity::prelude::*;

/// One case–panel assignment.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_panels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub panel_id: i64,
}

impl ActiveModelBehavior for ActiveModel {}
