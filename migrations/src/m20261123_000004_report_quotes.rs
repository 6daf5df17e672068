//! Quotes for the printable report: posts that staff chose to quote, at most once per
//! case. Only visible posts are ever shown, so a quote whose post is hidden later simply
//! drops out of the report.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `report_quotes`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000004_report_quotes"
    }
}

fn fk(col: &'static str, target: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_report_quotes_{col}"))
        .from("report_quotes", col)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("report_quotes")
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(big_integer("post_id"))
                .col(big_integer("chosen_by_staff_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("case_id", "cases"))
                .foreign_key(&mut fk("post_id", "posts"))
                .foreign_key(&mut fk("chosen_by_staff_id", "staff_users"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_report_quotes")
                .table("report_quotes")
                .col("case_id")
                .col("post_id")
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("report_quotes").to_owned())
            .await?;
        Ok(())
    }
}
