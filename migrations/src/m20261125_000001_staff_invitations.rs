//! Staff accounts that cross municipalities only by consent. `staff_invitations` holds a
//! role offered to an existing account by another municipality's admin: it takes effect
//! when the account's holder accepts it with the code the admin passed on (stored as a
//! SHA-256 digest, like invite codes) before `expires_at`. `staff_users.
//! password_chosen_at` says when the holder last set their own password: a password an
//! admin or operator handed out does not count, and an account without one cannot
//! accept an invitation, so nobody who once saw its first password can use it elsewhere.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `staff_invitations` and adds `staff_users.password_chosen_at`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000001_staff_invitations"
    }
}

fn fk(
    col: &'static str,
    target: &'static str,
    action: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_staff_invitations_{col}"))
        .from("staff_invitations", col)
        .to(target, "id")
        .on_delete(action)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, SetNull};
        m.alter_table(
            Table::alter()
                .table("staff_users")
                .add_column(timestamp_with_time_zone_null("password_chosen_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("staff_invitations")
                .col(big_pk_auto("id"))
                .col(big_integer("staff_id"))
                .col(big_integer("municipality_id"))
                .col(string_len("role", 16))
                .col(string_len("code_hash", 64))
                .col(big_integer_null("invited_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(&mut fk("staff_id", "staff_users", Cascade))
                .foreign_key(&mut fk("municipality_id", "municipalities", Cascade))
                .foreign_key(&mut fk("invited_by", "staff_users", SetNull))
                .to_owned(),
        )
        .await?;
        // One offer per account, municipality and role: offering it again replaces the code.
        m.create_index(
            Index::create()
                .name("uq_staff_invitations")
                .table("staff_invitations")
                .col("staff_id")
                .col("municipality_id")
                .col("role")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_staff_invitations_municipality")
                .table("staff_invitations")
                .col("municipality_id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("staff_invitations").to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table("staff_users")
                .drop_column("password_chosen_at")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
