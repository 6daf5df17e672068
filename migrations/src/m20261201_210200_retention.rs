//! Retention per municipality: `retention_policies` holds what staff set (when the
//! programme ends, after how many months past a case's close the link between posts and
//! panelists is cut, how many years audit entries are kept), and `retention_runs` one row
//! per municipality and day the retention job applied it, with its counts: the unique key
//! is what makes a run happen once however many nodes start it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `retention_policies` and `retention_runs`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_210200_retention"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("retention_policies")
                .col(big_integer("municipality_id").primary_key())
                .col(timestamp_with_time_zone_null("programme_ends_at"))
                .col(integer_null("unlink_after_months"))
                .col(integer_null("audit_years"))
                .col(big_integer_null("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_retention_policies_municipality_id")
                        .from("retention_policies", "municipality_id")
                        .to("municipalities", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("retention_runs")
                .col(big_pk_auto("id"))
                .col(big_integer("municipality_id"))
                .col(string_len("day", 10))
                .col(text("counts"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_retention_runs_municipality_id")
                        .from("retention_runs", "municipality_id")
                        .to("municipalities", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_retention_runs_day")
                .table("retention_runs")
                .col("municipality_id")
                .col("day")
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("retention_runs").to_owned())
            .await?;
        m.drop_table(Table::drop().table("retention_policies").to_owned())
            .await?;
        Ok(())
    }
}
