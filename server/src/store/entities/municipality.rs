//! Row of `municipalities`.

use sea_orm::entity::prelude::*;

/// One row of `municipalities`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "municipalities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub flag_threshold: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub banned_words: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub suspect_words: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub letter_text: Option<String>,
    pub invitation_batches_made: i32,
    pub created_at: DateTimeUtc,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub contact_hours: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
