//! Row of `staff_users`.

use sea_orm::entity::prelude::*;

/// One row of `staff_users`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    /// When the holder last set a password of their own (`None`: the password was
    /// handed out by an admin or an operator).
    pub password_chosen_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
