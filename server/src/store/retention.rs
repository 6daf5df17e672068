//! Retention per municipality: the settings, the claim that makes a day's run happen
//! once across nodes, and the queries that count and apply what the settings say (codes
//! and sessions ended after the programme, the link between posts and panelists cut some
//! months after a case closed, audit entries past their period counted).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect,
};

use super::entities::{
    audit_entry, case, case_name, flag, invitation, moderation_action, panel, panelist, post,
    retention_policy, retention_run, session, weighing,
};

/// The marker at the start of a stand-in panelist's code digest: a row that takes over
/// one person's posts in one case once the link is cut, tied to no code and no person.
pub const UNLINKED_PREFIX: &str = "unlinked:";

/// A municipality's settings, if any.
pub async fn policy_of<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
) -> Result<Option<retention_policy::Model>, DbErr> {
    retention_policy::Entity::find_by_id(municipality_id)
        .one(db)
        .await
}

/// Every municipality's settings.
pub async fn policies<C: ConnectionTrait>(db: &C) -> Result<Vec<retention_policy::Model>, DbErr> {
    retention_policy::Entity::find().all(db).await
}

/// Stores a municipality's settings.
pub async fn set_policy<C: ConnectionTrait>(
    db: &C,
    p: retention_policy::Model,
) -> Result<retention_policy::Model, DbErr> {
    let exists = policy_of(db, p.municipality_id).await?.is_some();
    let am = retention_policy::ActiveModel {
        municipality_id: Set(p.municipality_id),
        programme_ends_at: Set(p.programme_ends_at),
        unlink_after_months: Set(p.unlink_after_months),
        audit_years: Set(p.audit_years),
        updated_by: Set(p.updated_by),
        updated_at: Set(p.updated_at),
    };
    if exists {
        am.update(db).await
    } else {
        am.insert(db).await
    }
}

/// Claims the run of `day` for the municipality; false when a run (on any node) already
/// claimed it. Inside the run's transaction, so a failed run leaves no claim.
pub async fn claim_run<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    day: &str,
    counts: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let n = retention_run::Entity::insert(retention_run::ActiveModel {
        municipality_id: Set(municipality_id),
        day: Set(day.to_owned()),
        counts: Set(counts.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(OnConflict::new().do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(n == 1)
}

/// The run of `day`, if there was one.
pub async fn run_of<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    day: &str,
) -> Result<Option<retention_run::Model>, DbErr> {
    retention_run::Entity::find()
        .filter(retention_run::Column::MunicipalityId.eq(municipality_id))
        .filter(retention_run::Column::Day.eq(day))
        .one(db)
        .await
}

/// Ids of the municipality's panelists (stand-ins excluded).
pub async fn panelists_of<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
) -> Result<Vec<i64>, DbErr> {
    let panels: Vec<i64> = panel::Entity::find()
        .select_only()
        .column(panel::Column::Id)
        .filter(panel::Column::MunicipalityId.eq(municipality_id))
        .into_tuple()
        .all(db)
        .await?;
    panelist::Entity::find()
        .select_only()
        .column(panelist::Column::Id)
        .filter(panelist::Column::PanelId.is_in(panels))
        .filter(panelist::Column::InviteCodeHash.not_like(format!("{UNLINKED_PREFIX}%")))
        .into_tuple()
        .all(db)
        .await
}

/// The municipality's active invitations.
pub async fn active_invitations<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
) -> Result<Vec<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::MunicipalityId.eq(municipality_id))
        .filter(invitation::Column::Status.eq("active"))
        .all(db)
        .await
}

/// Ends an active invitation with the state `expired`.
pub async fn expire_invitation<C: ConnectionTrait>(
    db: &C,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = invitation::Entity::update_many()
        .col_expr(invitation::Column::Status, Expr::value("expired"))
        .col_expr(invitation::Column::RevokedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::Status.eq("active"))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// How many sessions the given panelists hold.
pub async fn count_sessions<C: ConnectionTrait>(db: &C, panelists: &[i64]) -> Result<u64, DbErr> {
    session::Entity::find()
        .filter(session::Column::PanelistId.is_in(panelists.iter().copied()))
        .count(db)
        .await
}

/// Deletes the sessions of the given panelists.
pub async fn delete_sessions<C: ConnectionTrait>(db: &C, panelists: &[i64]) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::PanelistId.is_in(panelists.iter().copied()))
        .exec(db)
        .await?
        .rows_affected)
}

/// The municipality's closed or archived cases that closed before `before`.
pub async fn cases_closed_before<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    before: DateTime<Utc>,
) -> Result<Vec<case::Model>, DbErr> {
    case::Entity::find()
        .filter(case::Column::MunicipalityId.eq(municipality_id))
        .filter(case::Column::Status.is_in(["closed", "archived"]))
        .filter(case::Column::ClosesAt.lt(before))
        .all(db)
        .await
}

/// The panelists (stand-ins excluded) who wrote, weighed or flagged in a case.
pub async fn linked_panelists<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<Vec<i64>, DbErr> {
    let mut ids: Vec<i64> = post::Entity::find()
        .select_only()
        .column(post::Column::PanelistId)
        .filter(post::Column::CaseId.eq(case_id))
        .into_tuple()
        .all(db)
        .await?;
    let more: Vec<i64> = weighing::Entity::find()
        .select_only()
        .column(weighing::Column::PanelistId)
        .filter(weighing::Column::CaseId.eq(case_id))
        .into_tuple()
        .all(db)
        .await?;
    ids.extend(more);
    let more: Vec<i64> = flag::Entity::find()
        .select_only()
        .column(flag::Column::PanelistId)
        .filter(flag::Column::CaseId.eq(case_id))
        .into_tuple()
        .all(db)
        .await?;
    ids.extend(more);
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(ids);
    }
    let stand_ins: Vec<i64> = panelist::Entity::find()
        .select_only()
        .column(panelist::Column::Id)
        .filter(panelist::Column::Id.is_in(ids.iter().copied()))
        .filter(panelist::Column::InviteCodeHash.like(format!("{UNLINKED_PREFIX}%")))
        .into_tuple()
        .all(db)
        .await?;
    ids.retain(|id| !stand_ins.contains(id));
    Ok(ids)
}

/// Cuts one panelist's link to one case: a stand-in row (no code, no profile, no
/// invitation) takes over their posts, weighings, flags, moderators' actions and name
/// in that case. Their name in the case stays, so the thread reads as before.
pub async fn cut_link<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    p: &panelist::Model,
    stand_in_code: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let stand_in = panelist::ActiveModel {
        panel_id: Set(p.panel_id),
        pseudonym: Set(crate::domain::names::FORMER_PANELIST.to_owned()),
        invite_code_hash: Set(stand_in_code.to_owned()),
        profile_consent: Set(false),
        premoderated: Set(false),
        created_at: Set(now),
        left_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    post::Entity::update_many()
        .col_expr(post::Column::PanelistId, Expr::value(stand_in.id))
        .filter(post::Column::CaseId.eq(case_id))
        .filter(post::Column::PanelistId.eq(p.id))
        .exec(db)
        .await?;
    weighing::Entity::update_many()
        .col_expr(weighing::Column::PanelistId, Expr::value(stand_in.id))
        .filter(weighing::Column::CaseId.eq(case_id))
        .filter(weighing::Column::PanelistId.eq(p.id))
        .exec(db)
        .await?;
    flag::Entity::update_many()
        .col_expr(flag::Column::PanelistId, Expr::value(stand_in.id))
        .filter(flag::Column::CaseId.eq(case_id))
        .filter(flag::Column::PanelistId.eq(p.id))
        .exec(db)
        .await?;
    moderation_action::Entity::update_many()
        .col_expr(
            moderation_action::Column::PanelistId,
            Expr::value(stand_in.id),
        )
        .filter(moderation_action::Column::CaseId.eq(case_id))
        .filter(moderation_action::Column::PanelistId.eq(p.id))
        .exec(db)
        .await?;
    case_name::Entity::update_many()
        .col_expr(case_name::Column::PanelistId, Expr::value(stand_in.id))
        .filter(case_name::Column::CaseId.eq(case_id))
        .filter(case_name::Column::PanelistId.eq(p.id))
        .exec(db)
        .await?;
    Ok(())
}

/// How many of the municipality's audit entries are older than `before`.
pub async fn count_audit_before<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::MunicipalityId.eq(municipality_id))
        .filter(audit_entry::Column::CreatedAt.lt(before))
        .count(db)
        .await
}

/// Records the counts of a claimed run.
pub async fn set_run_counts<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    day: &str,
    counts: &str,
) -> Result<(), DbErr> {
    retention_run::Entity::update_many()
        .col_expr(retention_run::Column::Counts, Expr::value(counts))
        .filter(retention_run::Column::MunicipalityId.eq(municipality_id))
        .filter(retention_run::Column::Day.eq(day))
        .exec(db)
        .await
        .map(|_| ())
}
