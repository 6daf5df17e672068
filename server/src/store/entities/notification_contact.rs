//! Row of `notification_contacts`: a panelist's consented e-mail address and choices.

use sea_orm::entity::prelude::*;

/// One row of `notification_contacts`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub panelist_id: i64,
    pub email: String,
    pub confirmed_at: Option<DateTimeUtc>,
    pub kinds: String,
    pub frequency: String,
    pub language: String,
    pub nonce: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
