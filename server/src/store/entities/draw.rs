//! Row of `draws`.

use sea_orm::entity::prelude::*;

/// One row of `draws`: the draw of one case's panel from its pool.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "draws")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub case_id: i64,
    pub size: i32,
    /// The seed staff recorded before the draw (for example a publicly drawn number).
    #[sea_orm(column_type = "Text")]
    pub seed: String,
    /// Seats either way of a target share.
    pub tolerance: i32,
    /// Features, target shares and quotas, as JSON.
    #[sea_orm(column_type = "Text")]
    pub spec: String,
    pub min_probability: f64,
    /// Pool members no quota-meeting panel could seat.
    pub unseatable: i32,
    /// Panels in the lottery.
    pub lottery_panels: i32,
    /// The lottery's panel the lot fell on.
    pub chosen_panel: i32,
    /// SHA-256 of the canonical inputs (seed, case, quotas, pool with types and deficits).
    pub inputs_hash: String,
    /// Top-up rounds held since.
    pub top_ups: i32,
    pub staff_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
