//! What every resident is told: `panelists.house_rules_accepted_at` records when a
//! panelist accepted the house rules (asked at the first login, before anything else),
//! and `municipalities.contact_phone`, `contact_email` and `contact_hours` hold the
//! municipality's own contact, shown on every panelist page.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Adds the house-rules acceptance and the municipal contact.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_170000_resident_notices"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        m.alter_table(
            Table::alter()
                .table("panelists")
                .add_column(timestamp_with_time_zone_null("house_rules_accepted_at"))
                .to_owned(),
        )
        .await?;
        for col in ["contact_phone", "contact_email", "contact_hours"] {
            m.alter_table(
                Table::alter()
                    .table("municipalities")
                    .add_column(string_len_null(col, 200))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["contact_hours", "contact_email", "contact_phone"] {
            m.alter_table(
                Table::alter()
                    .table("municipalities")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table("panelists")
                .drop_column("house_rules_accepted_at")
                .to_owned(),
        )
        .await
    }
}
