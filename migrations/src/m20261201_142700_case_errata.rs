//! Errata: corrections of a case's text after it opened. Each row says when, by whom,
//! which text fields changed (a JSON list of field names) and why, in a short note that
//! panelists read beside the corrected text. The text itself is not kept here: the case
//! holds the corrected version, and the audit log who did it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `case_errata`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_142700_case_errata"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("case_errata")
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(text("fields"))
                .col(text("note"))
                .col(big_integer_null("staff_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_case_errata_case_id")
                        .from("case_errata", "case_id")
                        .to("cases", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_case_errata_staff_id")
                        .from("case_errata", "staff_id")
                        .to("staff_users", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_case_errata_case")
                .table("case_errata")
                .col("case_id")
                .col("id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("case_errata").to_owned())
            .await?;
        Ok(())
    }
}
