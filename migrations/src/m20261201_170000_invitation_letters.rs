//! Invitations as records: every code handed out belongs to a batch (`invitation_batches`:
//! the letters staff made for one panel at one time, or the single letter of a replaced
//! code) and has a row in `invitations` with a number staff can read over the phone
//! (`2026-003-0142`: year, batch, letter; unique per municipality), the digest of its
//! code, its status (`active`, `revoked`, `replaced`) and when the code was first used.
//! The code itself is never stored. `municipalities.letter_text` is the letter staff
//! set (none: the Dutch default), and `municipalities.invitation_batches_made` a counter
//! whose update takes the municipality's row lock, so two batches made at once on
//! PostgreSQL never get the same number.
//!
//! Panelists invited before this migration get one batch per panel (kind `existing`)
//! with numbered invitations for their current codes, so their codes can be revoked and
//! replaced like any other.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::ConnectionTrait;
use sea_orm_migration::sea_orm::prelude::DateTimeUtc;

/// Creates `invitation_batches` and `invitations`, adds the letter columns to
/// `municipalities`, and numbers the codes already handed out.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_170000_invitation_letters"
    }
}

fn fk(
    table: &'static str,
    col: &'static str,
    target: &'static str,
    action: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(target, "id")
        .on_delete(action)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, SetNull};
        for mut col in [
            text_null("letter_text").to_owned(),
            integer("invitation_batches_made").default(0).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table("municipalities")
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("invitation_batches")
                .col(big_pk_auto("id"))
                .col(big_integer("municipality_id"))
                .col(big_integer("panel_id"))
                .col(integer("year"))
                .col(integer("seq"))
                .col(string_len("kind", 16))
                .col(integer("size"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "invitation_batches",
                    "municipality_id",
                    "municipalities",
                    Cascade,
                ))
                .foreign_key(&mut fk("invitation_batches", "panel_id", "panels", Cascade))
                .foreign_key(&mut fk(
                    "invitation_batches",
                    "created_by",
                    "staff_users",
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_invitation_batches_number")
                .table("invitation_batches")
                .col("municipality_id")
                .col("year")
                .col("seq")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("invitations")
                .col(big_pk_auto("id"))
                .col(big_integer("municipality_id"))
                .col(big_integer("batch_id"))
                .col(big_integer("panelist_id"))
                .col(string_len("number", 32))
                .col(string_len_uniq("code_hash", 64))
                .col(string_len("status", 16))
                .col(big_integer_null("replaces_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("first_used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk(
                    "invitations",
                    "municipality_id",
                    "municipalities",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "invitations",
                    "batch_id",
                    "invitation_batches",
                    Cascade,
                ))
                .foreign_key(&mut fk("invitations", "panelist_id", "panelists", Cascade))
                .foreign_key(&mut fk(
                    "invitations",
                    "replaces_id",
                    "invitations",
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_invitations_number")
                .table("invitations")
                .col("municipality_id")
                .col("number")
                .unique()
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_invitations_batch", "batch_id"),
            ("idx_invitations_panelist", "panelist_id"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table("invitations")
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        number_existing_codes(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("invitations").to_owned())
            .await?;
        m.drop_table(Table::drop().table("invitation_batches").to_owned())
            .await?;
        for col in ["letter_text", "invitation_batches_made"] {
            m.alter_table(
                Table::alter()
                    .table("municipalities")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// One batch per panel that has panelists, numbered in the order of the panels' first
/// panelists, with an invitation per panelist for the code they hold now.
async fn number_existing_codes(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let rows = db
        .query_all(
            &Query::select()
                .expr_as(Expr::col(("panelists", "id")), "panelist_id")
                .expr_as(Expr::col(("panelists", "panel_id")), "panel_id")
                .expr_as(Expr::col(("panelists", "invite_code_hash")), "code_hash")
                .expr_as(Expr::col(("panelists", "created_at")), "created_at")
                .expr_as(Expr::col(("panelists", "first_login_at")), "first_login_at")
                .expr_as(Expr::col(("panels", "municipality_id")), "municipality_id")
                .from("panelists")
                .inner_join(
                    "panels",
                    Expr::col(("panels", "id")).equals(("panelists", "panel_id")),
                )
                .order_by(("panelists", "id"), Order::Asc)
                .to_owned(),
        )
        .await?;
    struct Existing {
        panelist: i64,
        panel: i64,
        municipality: i64,
        code_hash: String,
        created_at: DateTimeUtc,
        first_login_at: Option<DateTimeUtc>,
    }
    let mut existing = Vec::with_capacity(rows.len());
    for r in rows {
        existing.push(Existing {
            panelist: r.try_get("", "panelist_id")?,
            panel: r.try_get("", "panel_id")?,
            municipality: r.try_get("", "municipality_id")?,
            code_hash: r.try_get("", "code_hash")?,
            created_at: r.try_get("", "created_at")?,
            first_login_at: r.try_get("", "first_login_at")?,
        });
    }
    // Panels in the order of their first panelist; batches numbered per municipality
    // and year.
    let mut panels: Vec<i64> = Vec::new();
    for e in &existing {
        if !panels.contains(&e.panel) {
            panels.push(e.panel);
        }
    }
    let mut seqs: Vec<((i64, i32), i32)> = Vec::new();
    for panel in panels {
        let members: Vec<&Existing> = existing.iter().filter(|e| e.panel == panel).collect();
        let first = members[0];
        // `Datelike` is not re-exported; the year of a UTC time by its formatting.
        let year: i32 = first
            .created_at
            .format("%Y")
            .to_string()
            .parse()
            .map_err(|e| DbErr::Custom(format!("year of a panelist: {e}")))?;
        let key = (first.municipality, year);
        let seq = match seqs.iter_mut().find(|(k, _)| *k == key) {
            Some((_, s)) => {
                *s += 1;
                *s
            }
            None => {
                seqs.push((key, 1));
                1
            }
        };
        let batch = db
            .query_one(
                &Query::insert()
                    .into_table("invitation_batches")
                    .columns([
                        "municipality_id",
                        "panel_id",
                        "year",
                        "seq",
                        "kind",
                        "size",
                        "created_at",
                    ])
                    .values_panic([
                        first.municipality.into(),
                        panel.into(),
                        year.into(),
                        seq.into(),
                        "existing".into(),
                        (members.len() as i32).into(),
                        first.created_at.into(),
                    ])
                    .returning_col("id")
                    .to_owned(),
            )
            .await?
            .ok_or_else(|| DbErr::Custom("no id for a new invitation batch".into()))?;
        let batch_id: i64 = batch.try_get("", "id")?;
        for (n, e) in members.iter().enumerate() {
            let number = format!("{year}-{seq:03}-{:04}", n + 1);
            db.execute(
                &Query::insert()
                    .into_table("invitations")
                    .columns([
                        "municipality_id",
                        "batch_id",
                        "panelist_id",
                        "number",
                        "code_hash",
                        "status",
                        "created_at",
                        "first_used_at",
                    ])
                    .values_panic([
                        e.municipality.into(),
                        batch_id.into(),
                        e.panelist.into(),
                        number.into(),
                        e.code_hash.clone().into(),
                        "active".into(),
                        e.created_at.into(),
                        e.first_login_at.into(),
                    ])
                    .to_owned(),
            )
            .await?;
        }
    }
    for ((municipality, _), seq) in seqs {
        db.execute(
            &Query::update()
                .table("municipalities")
                .value(
                    "invitation_batches_made",
                    Expr::col("invitation_batches_made").add(seq),
                )
                .and_where(Expr::col("id").eq(municipality))
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}
