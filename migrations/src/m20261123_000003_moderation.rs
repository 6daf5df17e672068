//! Moderation: per-municipality word lists and flag threshold, per-case holding of first
//! posts, per-panelist pre-moderation, and claims and held reasons on posts. One column
//! per statement, because SQLite alters one column at a time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Adds the moderation columns.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000003_moderation"
    }
}

fn columns() -> Vec<(&'static str, ColumnDef)> {
    vec![
        (
            "municipalities",
            integer("flag_threshold").default(3).to_owned(),
        ),
        ("municipalities", text_null("banned_words").to_owned()),
        ("municipalities", text_null("suspect_words").to_owned()),
        (
            "cases",
            boolean("hold_first_post").default(false).to_owned(),
        ),
        (
            "panelists",
            boolean("premoderated").default(false).to_owned(),
        ),
        ("posts", big_integer_null("claimed_by").to_owned()),
        (
            "posts",
            timestamp_with_time_zone_null("claimed_until").to_owned(),
        ),
        ("posts", text_null("held_reasons").to_owned()),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut col) in columns() {
            m.alter_table(Table::alter().table(table).add_column(&mut col).to_owned())
                .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_posts_status")
                .table("posts")
                .col("status")
                .col("id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_flags_open")
                .table("flags")
                .col("resolved_at")
                .col("post_id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_flags_open")
                .table("flags")
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_posts_status")
                .table("posts")
                .to_owned(),
        )
        .await?;
        for (table, col) in columns().into_iter().rev() {
            let name = col.get_column_name();
            m.alter_table(Table::alter().table(table).drop_column(name).to_owned())
                .await?;
        }
        Ok(())
    }
}
