//! Row of `draw_members`.

use sea_orm::entity::prelude::*;

/// One pool member of one draw: their type at the time, their chance, their deficit
/// from earlier draws, and what became of them (`pool`, `drawn`, `replaced`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "draw_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub draw_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub panelist_id: i64,
    /// The member's values on the balanced features, a JSON list.
    #[sea_orm(column_type = "Text")]
    pub type_key: String,
    pub probability: f64,
    pub deficit: f64,
    pub status: String,
    /// 0 for the draw, 1, 2… for the top-up that seated or replaced them.
    pub round: i32,
    pub seated_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
