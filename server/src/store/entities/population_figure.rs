//! Row of `population_figures`.

use sea_orm::entity::prelude::*;

/// A municipality's population share of one value of one feature.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "population_figures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub municipality_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub feature: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    pub share: f64,
}

impl ActiveModelBehavior for ActiveModel {}
