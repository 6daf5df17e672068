//! Notifications by e-mail and return visits: `notification_contacts` (a panelist's
//! consented address, apart from everything they write, with the kinds and frequency
//! they chose and a nonce that signed links are bound to), `notification_outbox` (one
//! row per message to send, written with the event that causes it, claimed by one node
//! at a time through a lease), `signing_keys` (the key that signs confirmation and
//! unsubscribe links, shared by every node), `case_visits` (when a panelist last read a
//! case's thread), `cases.closing_notice_at` (when the "closing soon" notices of a
//! case were written, so they are written once) and `sessions.remembered` (a panelist
//! chose "remember me on this device": the session slides by 30 days, not 12 hours).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates the notification tables and the last-visit record.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_200000_notifications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notification_contacts")
                .col(big_integer("panelist_id").primary_key())
                .col(string_len("email", 254))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(string_len("kinds", 200))
                .col(string_len("frequency", 16))
                .col(string_len("language", 8))
                .col(string_len("nonce", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notification_contacts_panelist_id")
                        .from("notification_contacts", "panelist_id")
                        .to("panelists", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("notification_outbox")
                .col(big_pk_auto("id"))
                .col(big_integer("panelist_id"))
                .col(big_integer_null("case_id"))
                .col(string_len("kind", 32))
                .col(string_len_uniq("dedupe_key", 200))
                .col(string_len("status", 16))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("claimed_until"))
                .col(string_len_null("claimed_by", 64))
                .col(string_len_null("last_error", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notification_outbox_panelist_id")
                        .from("notification_outbox", "panelist_id")
                        .to("panelists", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notification_outbox_case_id")
                        .from("notification_outbox", "case_id")
                        .to("cases", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notification_outbox_due")
                .table("notification_outbox")
                .col("status")
                .col("next_attempt_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("signing_keys")
                .col(string_len("name", 32).primary_key())
                .col(string_len("secret", 128))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("case_visits")
                .col(big_integer("panelist_id"))
                .col(big_integer("case_id"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .primary_key(Index::create().col("panelist_id").col("case_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_case_visits_panelist_id")
                        .from("case_visits", "panelist_id")
                        .to("panelists", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_case_visits_case_id")
                        .from("case_visits", "case_id")
                        .to("cases", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("cases")
                .add_column(timestamp_with_time_zone_null("closing_notice_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("sessions")
                .add_column(boolean("remembered").default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("sessions")
                .drop_column("remembered")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("cases")
                .drop_column("closing_notice_at")
                .to_owned(),
        )
        .await?;
        for t in [
            "case_visits",
            "signing_keys",
            "notification_outbox",
            "notification_contacts",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
