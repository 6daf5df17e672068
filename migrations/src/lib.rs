//! The Beraad database schema as ordered sea-orm migrations, portable between SQLite and
//! PostgreSQL. Nothing here knows about the server: it only shapes tables.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_schema;
mod m20261123_000002_append_only_audit;
mod m20261123_000003_moderation;
mod m20261123_000004_report_quotes;
mod m20261124_000001_idempotency_lease;
mod m20261125_000001_staff_invitations;
mod m20261201_142700_case_errata;
mod m20261201_170000_invitation_letters;
mod m20261201_170000_resident_notices;
mod m20261201_180000_draws;
mod m20261201_200000_notifications;
mod m20261201_210000_case_names;
mod m20261201_210100_leaving;
mod m20261201_210200_retention;

/// All migrations of Beraad, in the order they are applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_schema::Migration),
            Box::new(m20261123_000002_append_only_audit::Migration),
            Box::new(m20261123_000003_moderation::Migration),
            Box::new(m20261123_000004_report_quotes::Migration),
            Box::new(m20261124_000001_idempotency_lease::Migration),
            Box::new(m20261125_000001_staff_invitations::Migration),
            Box::new(m20261201_142700_case_errata::Migration),
            Box::new(m20261201_170000_invitation_letters::Migration),
            Box::new(m20261201_170000_resident_notices::Migration),
            Box::new(m20261201_180000_draws::Migration),
            Box::new(m20261201_200000_notifications::Migration),
            Box::new(m20261201_210000_case_names::Migration),
            Box::new(m20261201_210100_leaving::Migration),
            Box::new(m20261201_210200_retention::Migration),
        ]
    }
}
