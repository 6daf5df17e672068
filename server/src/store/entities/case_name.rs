//! Row of `case_names`: the name a panelist appears under in one case.

use sea_orm::entity::prelude::*;

/// One panelist's name in one case.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_names")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub panelist_id: i64,
    pub name: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
