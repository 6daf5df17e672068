//! Makes the audit log append-only inside the database itself: any UPDATE or DELETE on
//! `audit_entries` is refused by a trigger, so no code path (and no API) can rewrite it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Adds triggers that refuse changes to audit entries.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_append_only_audit"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END; \
                     $$ LANGUAGE plpgsql",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries \
                     FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries \
                     BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries \
                     BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER audit_entries_no_change ON audit_entries")
                    .await?;
                db.execute_unprepared("DROP FUNCTION audit_entries_append_only()")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER audit_entries_no_update")
                    .await?;
                db.execute_unprepared("DROP TRIGGER audit_entries_no_delete")
                    .await?;
            }
        }
        Ok(())
    }
}
