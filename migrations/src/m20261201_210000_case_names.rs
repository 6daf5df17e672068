//! Per-case display names: `case_names` holds the name a panelist appears under in one
//! case, drawn when they first write there. Unique per case (two authors never share a
//! name in one thread) and per case and panelist (a panelist keeps their name within a
//! case). Names of different cases are drawn independently, so no name says who wrote in
//! another case. The server assigns names to authors of posts written before this table
//! existed when it starts (`store::names::backfill`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `case_names`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_210000_case_names"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("case_names")
                .col(big_integer("case_id"))
                .col(big_integer("panelist_id"))
                .col(string_len("name", 64))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("case_id").col("panelist_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_case_names_case_id")
                        .from("case_names", "case_id")
                        .to("cases", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_case_names_panelist_id")
                        .from("case_names", "panelist_id")
                        .to("panelists", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_case_names_name")
                .table("case_names")
                .col("case_id")
                .col("name")
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("case_names").to_owned())
            .await?;
        Ok(())
    }
}
