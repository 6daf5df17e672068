//! The whole Beraad schema (DESIGN §3): tenants, panels, people, cases, the thread, the
//! case event log, audit, idempotency and sessions. Portable SQL only; JSON is kept in
//! text columns so both engines store it the same way.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates every table of the first schema version.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_create_schema"
    }
}

fn ts(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

fn ts_null(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(col)
}

fn fk(
    table: &'static str,
    col: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(target, "id")
        .on_delete(on_delete)
        .to_owned()
}

fn index(table: &'static str, name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

/// Tables in creation order (children after parents); dropped in reverse.
const TABLES: &[&str] = &[
    "municipalities",
    "panels",
    "panelists",
    "staff_users",
    "staff_roles",
    "cases",
    "case_panels",
    "posts",
    "post_revisions",
    "weighings",
    "flags",
    "moderation_actions",
    "case_events",
    "audit_entries",
    "idempotency_keys",
    "sessions",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, SetNull};

        m.create_table(
            Table::create()
                .table("municipalities")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("slug", 64))
                .col(string_len("name", 200))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("panels")
                .col(big_pk_auto("id"))
                .col(big_integer("municipality_id"))
                .col(string_len_uniq("slug", 64))
                .col(string_len("name", 200))
                .col(ts("created_at"))
                .foreign_key(&mut fk(
                    "panels",
                    "municipality_id",
                    "municipalities",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("panelists")
                .col(big_pk_auto("id"))
                .col(big_integer("panel_id"))
                .col(string_len("pseudonym", 80))
                .col(string_len_uniq("invite_code_hash", 64))
                .col(string_len_null("age_band", 16))
                .col(string_len_null("district", 80))
                .col(string_len_null("wmo_experience", 16))
                .col(boolean("profile_consent").default(false))
                .col(ts("created_at"))
                .col(ts_null("first_login_at"))
                .col(ts_null("last_login_at"))
                .col(ts_null("suspended_until"))
                .col(string_len_null("suspended_reason", 500))
                .foreign_key(&mut fk("panelists", "panel_id", "panels", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("panelists", "idx_panelists_panel", &["panel_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("staff_users")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("email", 254))
                .col(string_len("name", 200))
                .col(string_len("password_hash", 200))
                .col(boolean("disabled").default(false))
                .col(ts("created_at"))
                .col(ts_null("last_login_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("staff_roles")
                .col(big_pk_auto("id"))
                .col(big_integer("staff_id"))
                .col(big_integer("municipality_id"))
                .col(string_len("role", 16))
                .col(ts("created_at"))
                .foreign_key(&mut fk("staff_roles", "staff_id", "staff_users", Cascade))
                .foreign_key(&mut fk(
                    "staff_roles",
                    "municipality_id",
                    "municipalities",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "staff_roles",
                "uq_staff_roles",
                &["staff_id", "municipality_id", "role"],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("cases")
                .col(big_pk_auto("id"))
                .col(big_integer("municipality_id"))
                .col(string_len("title", 200))
                .col(string_len("domain", 32))
                .col(string_len("provision", 200))
                .col(string_len("outcome", 32))
                .col(text("summary"))
                .col(text("situation"))
                .col(text("decision"))
                .col(text("considerations"))
                .col(text("frame"))
                .col(text("trail"))
                .col(text("questions"))
                .col(string_len("status", 16))
                .col(ts_null("opens_at"))
                .col(ts_null("closes_at"))
                .col(string_len("moderation_mode", 16))
                .col(integer("min_length"))
                .col(integer("max_length"))
                .col(integer("max_depth"))
                .col(boolean("allow_links").default(false))
                .col(boolean("hide_tallies_until_reacted").default(true))
                .col(text_null("response"))
                .col(big_integer("event_seq").default(0))
                .col(string_len("event_epoch", 32))
                .col(string_len("export_salt", 32))
                .col(big_integer_null("created_by"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk(
                    "cases",
                    "municipality_id",
                    "municipalities",
                    Cascade,
                ))
                .foreign_key(&mut fk("cases", "created_by", "staff_users", SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "cases",
            "idx_cases_municipality_status",
            &["municipality_id", "status"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("case_panels")
                .col(big_integer("case_id"))
                .col(big_integer("panel_id"))
                .primary_key(Index::create().col("case_id").col("panel_id"))
                .foreign_key(&mut fk("case_panels", "case_id", "cases", Cascade))
                .foreign_key(&mut fk("case_panels", "panel_id", "panels", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("case_panels", "idx_case_panels_panel", &["panel_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("posts")
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(big_integer("panelist_id"))
                .col(big_integer_null("parent_id"))
                .col(integer("depth"))
                .col(string_len("thread_path", 255))
                .col(string_len_null("verdict", 16))
                .col(text("body"))
                .col(string_len("status", 16))
                .col(string_len_null("status_reason", 64))
                .col(text_null("status_note"))
                .col(integer("revision_count").default(1))
                .col(string_len_null("idempotency_key", 128))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("posts", "case_id", "cases", Cascade))
                .foreign_key(&mut fk("posts", "panelist_id", "panelists", Cascade))
                .foreign_key(&mut fk("posts", "parent_id", "posts", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "posts",
            "idx_posts_thread",
            &["case_id", "thread_path"],
        ))
        .await?;
        m.create_index(
            index(
                "posts",
                "uq_posts_idempotency",
                &["panelist_id", "idempotency_key"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // One live reaction (top-level post) per panelist per case. A partial index is
        // the same SQL on both engines; a withdrawn reaction frees the slot.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_posts_one_reaction ON posts (case_id, panelist_id) \
                 WHERE parent_id IS NULL AND status <> 'withdrawn'",
            )
            .await?;

        m.create_table(
            Table::create()
                .table("post_revisions")
                .col(big_pk_auto("id"))
                .col(big_integer("post_id"))
                .col(integer("revision"))
                .col(string_len_null("verdict", 16))
                .col(text("body"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("post_revisions", "post_id", "posts", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "post_revisions",
                "uq_post_revisions",
                &["post_id", "revision"],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("weighings")
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(big_integer("post_id"))
                .col(big_integer("panelist_id"))
                .col(string_len("value", 16))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("weighings", "case_id", "cases", Cascade))
                .foreign_key(&mut fk("weighings", "post_id", "posts", Cascade))
                .foreign_key(&mut fk("weighings", "panelist_id", "panelists", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("weighings", "uq_weighings", &["post_id", "panelist_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index("weighings", "idx_weighings_case", &["case_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("flags")
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(big_integer("post_id"))
                .col(big_integer("panelist_id"))
                .col(string_len("reason", 32))
                .col(text_null("note"))
                .col(ts("created_at"))
                .col(ts_null("resolved_at"))
                .foreign_key(&mut fk("flags", "case_id", "cases", Cascade))
                .foreign_key(&mut fk("flags", "post_id", "posts", Cascade))
                .foreign_key(&mut fk("flags", "panelist_id", "panelists", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("flags", "uq_flags", &["post_id", "panelist_id"])
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("moderation_actions")
                .col(big_pk_auto("id"))
                .col(big_integer("municipality_id"))
                .col(big_integer_null("case_id"))
                .col(big_integer_null("post_id"))
                .col(big_integer_null("panelist_id"))
                .col(big_integer("staff_id"))
                .col(string_len("action", 32))
                .col(string_len_null("reason", 64))
                .col(text_null("note"))
                .col(ts("created_at"))
                .foreign_key(&mut fk(
                    "moderation_actions",
                    "municipality_id",
                    "municipalities",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "moderation_actions",
                    "staff_id",
                    "staff_users",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("case_events")
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(big_integer("seq"))
                .col(string_len("kind", 32))
                .col(big_integer_null("post_id"))
                .col(text("payload"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("case_events", "case_id", "cases", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("case_events", "uq_case_events_seq", &["case_id", "seq"])
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("audit_entries")
                .col(big_pk_auto("id"))
                .col(big_integer_null("municipality_id"))
                .col(string_len("actor_kind", 16))
                .col(big_integer_null("actor_id"))
                .col(string_len("action", 64))
                .col(string_len("object_type", 32))
                .col(string_len_null("object_id", 64))
                .col(string_len("result", 16))
                .col(string_len_null("origin", 64))
                .col(text("detail"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "audit_entries",
            "idx_audit_municipality",
            &["municipality_id", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(big_pk_auto("id"))
                .col(string_len("scope", 64))
                .col(string_len("key", 128))
                .col(string_len("fingerprint", 64))
                .col(integer_null("status"))
                .col(text_null("response"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("idempotency_keys", "uq_idempotency", &["scope", "key"])
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("token_hash", 64))
                .col(string_len("csrf_token", 64))
                .col(big_integer_null("panelist_id"))
                .col(big_integer_null("staff_id"))
                .col(ts("created_at"))
                .col(ts("last_seen_at"))
                .col(ts("expires_at"))
                .col(string_len_null("origin", 64))
                .foreign_key(&mut fk("sessions", "panelist_id", "panelists", Cascade))
                .foreign_key(&mut fk("sessions", "staff_id", "staff_users", Cascade))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}
