//! Row of `panelists`.

use sea_orm::entity::prelude::*;

/// One row of `panelists`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "panelists")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub panel_id: i64,
    pub pseudonym: String,
    pub invite_code_hash: String,
    pub age_band: Option<String>,
    pub district: Option<String>,
    pub wmo_experience: Option<String>,
    pub profile_consent: bool,
    pub created_at: DateTimeUtc,
    pub first_login_at: Option<DateTimeUtc>,
    pub last_login_at: Option<DateTimeUtc>,
    pub suspended_until: Option<DateTimeUtc>,
    pub suspended_reason: Option<String>,
    pub premoderated: bool,
    pub house_rules_accepted_at: Option<DateTimeUtc>,
    pub left_at: Option<DateTimeUtc>,
    pub left_posts: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
