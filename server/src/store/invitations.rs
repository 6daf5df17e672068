//! Invitation batches and the numbered invitations in them (codes as digests only), the
//! municipality's letter text, and the counts behind the response figures.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{invitation, invitation_batch, municipality, panelist, post};

/// Takes the next batch number of a municipality in a year. The `UPDATE` of the
/// municipality's counter takes its row lock first, so concurrent batches on any number of
/// nodes queue here and never read the same highest number; it must run inside the
/// transaction that stores the batch.
pub async fn next_batch_seq<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    year: i32,
) -> Result<i32, DbErr> {
    municipality::Entity::update_many()
        .col_expr(
            municipality::Column::InvitationBatchesMade,
            Expr::col(municipality::Column::InvitationBatchesMade).add(1),
        )
        .filter(municipality::Column::Id.eq(municipality_id))
        .exec(db)
        .await?;
    let last = invitation_batch::Entity::find()
        .filter(invitation_batch::Column::MunicipalityId.eq(municipality_id))
        .filter(invitation_batch::Column::Year.eq(year))
        .order_by_desc(invitation_batch::Column::Seq)
        .one(db)
        .await?;
    Ok(last.map_or(1, |b| b.seq + 1))
}

/// A batch to store.
pub struct NewBatch<'a> {
    /// Municipality.
    pub municipality_id: i64,
    /// Panel the letters invite to.
    pub panel_id: i64,
    /// Year of its number.
    pub year: i32,
    /// Its number within the municipality and year (from [`next_batch_seq`]).
    pub seq: i32,
    /// `letters` or `replacement`.
    pub kind: &'a str,
    /// Letters in it.
    pub size: i32,
    /// Staff member who made it (none from the command line).
    pub created_by: Option<i64>,
}

/// Stores a batch.
pub async fn insert_batch<C: ConnectionTrait>(
    db: &C,
    new: NewBatch<'_>,
    now: DateTime<Utc>,
) -> Result<invitation_batch::Model, DbErr> {
    invitation_batch::ActiveModel {
        municipality_id: Set(new.municipality_id),
        panel_id: Set(new.panel_id),
        year: Set(new.year),
        seq: Set(new.seq),
        kind: Set(new.kind.to_owned()),
        size: Set(new.size),
        created_by: Set(new.created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// An invitation to store: the code arrives as its digest.
pub struct NewInvitation<'a> {
    /// Municipality (numbers are unique within it).
    pub municipality_id: i64,
    /// Batch.
    pub batch_id: i64,
    /// The panelist the code logs in.
    pub panelist_id: i64,
    /// The invitation number (`2026-003-0142`).
    pub number: &'a str,
    /// Digest of the code.
    pub code_hash: &'a str,
    /// The invitation this one replaces.
    pub replaces_id: Option<i64>,
}

/// Stores an active invitation.
pub async fn insert_invitation<C: ConnectionTrait>(
    db: &C,
    new: NewInvitation<'_>,
    now: DateTime<Utc>,
) -> Result<invitation::Model, DbErr> {
    invitation::ActiveModel {
        municipality_id: Set(new.municipality_id),
        batch_id: Set(new.batch_id),
        panelist_id: Set(new.panelist_id),
        number: Set(new.number.to_owned()),
        code_hash: Set(new.code_hash.to_owned()),
        status: Set("active".to_owned()),
        replaces_id: Set(new.replaces_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Looks up an invitation by the digest of its code, whatever its status.
pub async fn invitation_by_code_hash<C: ConnectionTrait>(
    db: &C,
    code_hash: &str,
) -> Result<Option<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::CodeHash.eq(code_hash))
        .one(db)
        .await
}

/// Looks up an invitation by id.
pub async fn invitation_by_id<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<invitation::Model>, DbErr> {
    invitation::Entity::find_by_id(id).one(db).await
}

/// The invitation that replaced this one, if any.
pub async fn replacement_of<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::ReplacesId.eq(id))
        .one(db)
        .await
}

/// Looks up an invitation of a municipality by its number.
#[tracing::instrument(skip(db))]
pub async fn invitation_by_number<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    number: &str,
) -> Result<Option<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::MunicipalityId.eq(municipality_id))
        .filter(invitation::Column::Number.eq(number))
        .one(db)
        .await
}

/// Ends an active invitation (`revoked` or `replaced`); whether it was still active (a
/// concurrent revocation loses).
pub async fn end_invitation<C: ConnectionTrait>(
    db: &C,
    id: i64,
    status: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value(status))
        .col_expr(invitation::Column::RevokedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::Status.eq("active"))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records the first use of an invitation's code (later uses change nothing).
pub async fn mark_used<C: ConnectionTrait>(
    db: &C,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    invitation::Entity::update_many()
        .col_expr(invitation::Column::FirstUsedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::FirstUsedAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// Points a panelist's own code digest at their current code (or, once revoked without
/// a replacement, at a marker no code has).
pub async fn set_panelist_code_hash<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    code_hash: &str,
) -> Result<(), DbErr> {
    panelist::Entity::update_many()
        .col_expr(panelist::Column::InviteCodeHash, Expr::value(code_hash))
        .filter(panelist::Column::Id.eq(panelist_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// A batch by id.
pub async fn batch_by_id<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<invitation_batch::Model>, DbErr> {
    invitation_batch::Entity::find_by_id(id).one(db).await
}

/// The batches of a municipality, newest first.
pub async fn batches_of_municipality<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
) -> Result<Vec<invitation_batch::Model>, DbErr> {
    invitation_batch::Entity::find()
        .filter(invitation_batch::Column::MunicipalityId.eq(municipality_id))
        .order_by_desc(invitation_batch::Column::Year)
        .order_by_desc(invitation_batch::Column::Seq)
        .all(db)
        .await
}

/// The invitations of a batch, by number.
pub async fn invitations_of_batch<C: ConnectionTrait>(
    db: &C,
    batch_id: i64,
) -> Result<Vec<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::BatchId.eq(batch_id))
        .order_by_asc(invitation::Column::Number)
        .all(db)
        .await
}

/// Every invitation of a municipality.
pub async fn invitations_of_municipality<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
) -> Result<Vec<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::MunicipalityId.eq(municipality_id))
        .order_by_asc(invitation::Column::Id)
        .all(db)
        .await
}

/// Of the given panelists, those with a reaction (a top-level post) that is not
/// withdrawn, in any case.
pub async fn panelists_with_reaction<C: ConnectionTrait>(
    db: &C,
    panelist_ids: &[i64],
) -> Result<Vec<i64>, DbErr> {
    if panelist_ids.is_empty() {
        return Ok(Vec::new());
    }
    post::Entity::find()
        .select_only()
        .column(post::Column::PanelistId)
        .distinct()
        .filter(post::Column::PanelistId.is_in(panelist_ids.iter().copied()))
        .filter(post::Column::ParentId.is_null())
        .filter(post::Column::Status.ne("withdrawn"))
        .into_tuple::<i64>()
        .all(db)
        .await
}

/// Stores a municipality's letter text (`None`: the default).
pub async fn set_letter_text<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    text: Option<String>,
) -> Result<(), DbErr> {
    municipality::Entity::update_many()
        .col_expr(municipality::Column::LetterText, Expr::value(text))
        .filter(municipality::Column::Id.eq(municipality_id))
        .exec(db)
        .await
        .map(|_| ())
}
