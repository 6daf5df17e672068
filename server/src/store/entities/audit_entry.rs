//! Row of `audit_entries`.

use sea_orm::entity::prelude::*;

/// One row of `audit_entries`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub municipality_id: Option<i64>,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub result: String,
    pub origin: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
