//! Leaving the panel: `panelists.left_at` says when a panelist left (their code, sessions,
//! profile and per-case names are gone by then; the row stays so that posts they chose to
//! keep still hang in their threads, shown as "oud-panellid"), and `left_posts` what they
//! chose for their posts (`behouden` or `verwijderen`), so that a restore from a backup
//! can apply the same erasure again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Adds `panelists.left_at` and `panelists.left_posts`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_210100_leaving"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("panelists")
                .add_column(timestamp_with_time_zone_null("left_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("panelists")
                .add_column(string_len_null("left_posts", 16))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("panelists")
                .drop_column("left_posts")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("panelists")
                .drop_column("left_at")
                .to_owned(),
        )
        .await
    }
}
