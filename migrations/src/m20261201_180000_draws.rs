//! The draw of a case's panel from the pool: one `draws` row per case (size, the seed
//! staff recorded beforehand, the quotas as JSON, the lottery's figures and a hash of
//! every input), one `draw_members` row per pool member at the time of the draw (their
//! type, chance and earlier deficit, and whether they were drawn, replaced or drawn as a
//! replacement), and `population_figures`: a municipality's shares per feature value,
//! entered once and offered as targets.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `draws`, `draw_members` and `population_figures`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_180000_draws"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("draws")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("case_id"))
                .col(integer("size"))
                .col(text("seed"))
                .col(integer("tolerance"))
                .col(text("spec"))
                .col(double("min_probability"))
                .col(integer("unseatable"))
                .col(integer("lottery_panels"))
                .col(integer("chosen_panel"))
                .col(string_len("inputs_hash", 64))
                .col(integer("top_ups").default(0))
                .col(big_integer_null("staff_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_draws_case_id")
                        .from("draws", "case_id")
                        .to("cases", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_draws_staff_id")
                        .from("draws", "staff_id")
                        .to("staff_users", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("draw_members")
                .col(big_integer("draw_id"))
                .col(big_integer("panelist_id"))
                .col(text("type_key"))
                .col(double("probability"))
                .col(double("deficit"))
                .col(string_len("status", 16))
                .col(integer("round"))
                .col(timestamp_with_time_zone_null("seated_at"))
                .primary_key(Index::create().col("draw_id").col("panelist_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_draw_members_draw_id")
                        .from("draw_members", "draw_id")
                        .to("draws", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_draw_members_panelist_id")
                        .from("draw_members", "panelist_id")
                        .to("panelists", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_draw_members_panelist")
                .table("draw_members")
                .col("panelist_id")
                .col("status")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("population_figures")
                .col(big_integer("municipality_id"))
                .col(string_len("feature", 32))
                .col(string_len("value", 80))
                .col(double("share"))
                .primary_key(
                    Index::create()
                        .col("municipality_id")
                        .col("feature")
                        .col("value"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_population_figures_municipality_id")
                        .from("population_figures", "municipality_id")
                        .to("municipalities", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["population_figures", "draw_members", "draws"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
