//! Row of `case_errata`.

use sea_orm::entity::prelude::*;

/// One row of `case_errata`: a correction of a case's text after it opened.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_errata")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    /// The corrected fields, a JSON list of field names.
    #[sea_orm(column_type = "Text")]
    pub fields: String,
    /// Why, as panelists read it.
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub staff_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
