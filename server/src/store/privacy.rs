//! A resident's data as a whole: everything kept about one panelist (for their own-data
//! download) and the erasure when they leave the panel.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::entities::{
    draw_member, flag, idempotency_key, invitation, moderation_action, panelist, post,
    post_revision, session, weighing,
};

/// Every post of a panelist, oldest first.
pub async fn posts_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<post::Model>, DbErr> {
    post::Entity::find()
        .filter(post::Column::PanelistId.eq(panelist_id))
        .order_by_asc(post::Column::Id)
        .all(db)
        .await
}

/// Every revision of the given posts, by post and revision.
pub async fn revisions_of_posts<C: ConnectionTrait>(
    db: &C,
    post_ids: &[i64],
) -> Result<Vec<post_revision::Model>, DbErr> {
    post_revision::Entity::find()
        .filter(post_revision::Column::PostId.is_in(post_ids.iter().copied()))
        .order_by_asc(post_revision::Column::PostId)
        .order_by_asc(post_revision::Column::Revision)
        .all(db)
        .await
}

/// Every weighing a panelist gave, oldest first.
pub async fn weighings_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<weighing::Model>, DbErr> {
    weighing::Entity::find()
        .filter(weighing::Column::PanelistId.eq(panelist_id))
        .order_by_asc(weighing::Column::Id)
        .all(db)
        .await
}

/// Every flag a panelist made, oldest first.
pub async fn flags_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<flag::Model>, DbErr> {
    flag::Entity::find()
        .filter(flag::Column::PanelistId.eq(panelist_id))
        .order_by_asc(flag::Column::Id)
        .all(db)
        .await
}

/// A panelist's sessions (the tokens are digests; the answer never carries them).
pub async fn sessions_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::PanelistId.eq(panelist_id))
        .order_by_asc(session::Column::Id)
        .all(db)
        .await
}

/// A panelist's invitations (their first letter and any replacements), oldest first.
pub async fn invitations_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::PanelistId.eq(panelist_id))
        .order_by_asc(invitation::Column::Id)
        .all(db)
        .await
}

/// Moderators' actions about a panelist (suspensions, pre-moderation) and their posts.
pub async fn moderation_actions_about<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    post_ids: &[i64],
) -> Result<Vec<moderation_action::Model>, DbErr> {
    moderation_action::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(moderation_action::Column::PanelistId.eq(panelist_id))
                .add(moderation_action::Column::PostId.is_in(post_ids.iter().copied())),
        )
        .order_by_asc(moderation_action::Column::Id)
        .all(db)
        .await
}

/// The draws a panelist was in (seated, reserve or replaced).
pub async fn draw_seats_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<draw_member::Model>, DbErr> {
    draw_member::Entity::find()
        .filter(draw_member::Column::PanelistId.eq(panelist_id))
        .order_by_asc(draw_member::Column::DrawId)
        .all(db)
        .await
}

/// Erases a panelist's own row: code, pseudonym, profile, consent, last login,
/// suspension and pre-moderation go; `left_at` is set. The row stays so that posts they
/// kept still hang in their threads.
pub async fn erase_panelist<C: ConnectionTrait>(
    db: &C,
    p: &panelist::Model,
    void_code_hash: &str,
    posts: &str,
    now: DateTime<Utc>,
) -> Result<panelist::Model, DbErr> {
    let mut am: panelist::ActiveModel = p.clone().into();
    am.pseudonym = Set(crate::domain::names::FORMER_PANELIST.to_owned());
    am.invite_code_hash = Set(void_code_hash.to_owned());
    am.age_band = Set(None);
    am.district = Set(None);
    am.wmo_experience = Set(None);
    am.profile_consent = Set(false);
    am.last_login_at = Set(None);
    am.suspended_until = Set(None);
    am.suspended_reason = Set(None);
    am.premoderated = Set(false);
    am.house_rules_accepted_at = Set(None);
    am.left_at = Set(Some(now));
    am.left_posts = Set(Some(posts.to_owned()));
    am.update(db).await
}

/// Ends every still-active invitation of a panelist with the state `left`.
pub async fn end_invitations_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value("left"))
        .col_expr(invitation::Column::RevokedAt, Expr::value(now))
        .filter(invitation::Column::PanelistId.eq(panelist_id))
        .filter(invitation::Column::Status.eq("active"))
        .exec(db)
        .await?
        .rows_affected)
}

/// Removes a post's text everywhere it was kept (the post, every revision) and marks it
/// withdrawn with the reason `vertrokken`, so the thread keeps a placeholder.
pub async fn remove_post<C: ConnectionTrait>(
    db: &C,
    p: &post::Model,
    now: DateTime<Utc>,
) -> Result<post::Model, DbErr> {
    post_revision::Entity::update_many()
        .col_expr(post_revision::Column::Body, Expr::value(""))
        .filter(post_revision::Column::PostId.eq(p.id))
        .exec(db)
        .await?;
    let mut am: post::ActiveModel = p.clone().into();
    am.body = Set(String::new());
    am.status = Set("withdrawn".to_owned());
    am.status_reason = Set(Some(crate::domain::names::LEFT_REASON.to_owned()));
    am.status_note = Set(None);
    am.held_reasons = Set(None);
    am.claimed_by = Set(None);
    am.claimed_until = Set(None);
    am.updated_at = Set(now);
    am.update(db).await
}

/// Erases the notes a panelist wrote with their flags (the flags still count).
pub async fn erase_flag_notes<C: ConnectionTrait>(db: &C, panelist_id: i64) -> Result<(), DbErr> {
    flag::Entity::update_many()
        .col_expr(flag::Column::Note, Expr::value(Option::<String>::None))
        .filter(flag::Column::PanelistId.eq(panelist_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Drops a panelist's stored idempotent answers (they may quote their posts).
pub async fn drop_stored_answers<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<(), DbErr> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Scope.eq(format!("panelist:{panelist_id}")))
        // The claim of the request now running stays, so its answer can be stored.
        .filter(idempotency_key::Column::Status.is_not_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// Audit entries about a panelist or made by them (profile consent given and withdrawn,
/// and anything else logged under their id), oldest first.
pub async fn audit_entries_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<super::entities::audit_entry::Model>, DbErr> {
    use super::entities::audit_entry;
    audit_entry::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(audit_entry::Column::ObjectType.eq("panelist"))
                        .add(audit_entry::Column::ObjectId.eq(panelist_id.to_string())),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(audit_entry::Column::ActorKind.eq("panelist"))
                        .add(audit_entry::Column::ActorId.eq(panelist_id)),
                ),
        )
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await
}

/// Every panelist who left, oldest first (the replay list of erasures for a restore);
/// stand-ins of cut links are left out.
pub async fn left_panelists<C: ConnectionTrait>(db: &C) -> Result<Vec<panelist::Model>, DbErr> {
    panelist::Entity::find()
        .filter(panelist::Column::LeftAt.is_not_null())
        .filter(panelist::Column::LeftPosts.is_not_null())
        .order_by_asc(panelist::Column::LeftAt)
        .all(db)
        .await
}
