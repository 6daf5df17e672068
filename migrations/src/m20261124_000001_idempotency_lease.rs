//! Idempotency claims that expire and answers that keep their headers: `lease_until` is
//! the moment a running request's claim lapses unless renewed (a claim left by a node
//! that died is taken over after it), `headers` the stored answer's headers as a JSON
//! list of `[name, value]`. One column per statement, because SQLite alters one column
//! at a time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Adds `lease_until` and `headers` to `idempotency_keys`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000001_idempotency_lease"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for mut col in [
            timestamp_with_time_zone_null("lease_until").to_owned(),
            text_null("headers").to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table("idempotency_keys")
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["headers", "lease_until"] {
            m.alter_table(
                Table::alter()
                    .table("idempotency_keys")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
