//! Row of `report_quotes`.

use sea_orm::entity::prelude::*;

/// One row of `report_quotes`: a post chosen as a quote for a case's report.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report_quotes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub post_id: i64,
    pub chosen_by_staff_id: i64,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
