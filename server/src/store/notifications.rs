//! Notification contacts, the outbox and its leases, the signing key, the last visit of
//! a case and the once-only "closing soon" mark. The outbox is claimed row by row with a
//! conditional `UPDATE … WHERE claimed_until < now`, which holds across nodes on both
//! engines: of two nodes updating one row, one sees `rows_affected == 1`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{case, case_visit, notification_contact, notification_outbox, signing_key};

/// The states of an outbox row.
pub mod status {
    /// Waiting to be sent (or to be tried again at `next_attempt_at`).
    pub const PENDING: &str = "pending";
    /// Handed to the mail server by a node; if that node dies here, nobody can know
    /// whether the message went out, so it is never sent again.
    pub const SENDING: &str = "sending";
    /// Accepted by the mail server.
    pub const SENT: &str = "sent";
    /// Given up: too many transient failures, or a node died while sending.
    pub const FAILED: &str = "failed";
    /// Refused for good by the mail server (a 5xx answer).
    pub const BOUNCED: &str = "bounced";
    /// Not sent: the address was removed or the kind unchosen before it went out.
    pub const DROPPED: &str = "dropped";
}

/// A panelist's contact.
pub async fn contact_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Option<notification_contact::Model>, DbErr> {
    notification_contact::Entity::find_by_id(panelist_id)
        .one(db)
        .await
}

/// Contacts of several panelists.
pub async fn contacts_of<C: ConnectionTrait>(
    db: &C,
    panelist_ids: &[i64],
) -> Result<Vec<notification_contact::Model>, DbErr> {
    notification_contact::Entity::find()
        .filter(notification_contact::Column::PanelistId.is_in(panelist_ids.iter().copied()))
        .all(db)
        .await
}

/// Stores a panelist's contact, replacing the one they had.
pub async fn put_contact<C: ConnectionTrait>(
    db: &C,
    row: notification_contact::Model,
) -> Result<notification_contact::Model, DbErr> {
    notification_contact::Entity::delete_by_id(row.panelist_id)
        .exec(db)
        .await?;
    notification_contact::ActiveModel {
        panelist_id: Set(row.panelist_id),
        email: Set(row.email),
        confirmed_at: Set(row.confirmed_at),
        kinds: Set(row.kinds),
        frequency: Set(row.frequency),
        language: Set(row.language),
        nonce: Set(row.nonce),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
    }
    .insert(db)
    .await
}

/// Erases a panelist's contact; returns whether there was one.
pub async fn delete_contact<C: ConnectionTrait>(db: &C, panelist_id: i64) -> Result<bool, DbErr> {
    Ok(notification_contact::Entity::delete_by_id(panelist_id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Confirms a contact if its nonce is still `nonce`; returns whether it matched.
pub async fn confirm_contact<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = notification_contact::Entity::update_many()
        .col_expr(notification_contact::Column::ConfirmedAt, Expr::value(now))
        .filter(notification_contact::Column::PanelistId.eq(panelist_id))
        .filter(notification_contact::Column::Nonce.eq(nonce))
        .filter(notification_contact::Column::ConfirmedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// A message to queue.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// To whom.
    pub panelist_id: i64,
    /// About which case.
    pub case_id: Option<i64>,
    /// Which kind of message.
    pub kind: String,
    /// Unique per event and recipient: a second write of the same message is ignored.
    pub dedupe_key: String,
    /// When it may go out first (now, or the next digest).
    pub due: DateTime<Utc>,
}

/// Queues messages; one already queued under the same key is left as it is.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    messages: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows = messages
        .into_iter()
        .map(|m| notification_outbox::ActiveModel {
            panelist_id: Set(m.panelist_id),
            case_id: Set(m.case_id),
            kind: Set(m.kind),
            dedupe_key: Set(m.dedupe_key),
            status: Set(status::PENDING.into()),
            attempts: Set(0),
            next_attempt_at: Set(m.due),
            claimed_until: Set(None),
            claimed_by: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            sent_at: Set(None),
            ..Default::default()
        });
    notification_outbox::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([notification_outbox::Column::DedupeKey])
        .exec(db)
        .await?;
    Ok(())
}

/// Drops every message still waiting for a panelist (their address was removed).
pub async fn drop_pending_of<C: ConnectionTrait>(db: &C, panelist_id: i64) -> Result<u64, DbErr> {
    Ok(notification_outbox::Entity::update_many()
        .col_expr(
            notification_outbox::Column::Status,
            Expr::value(status::DROPPED),
        )
        .filter(notification_outbox::Column::PanelistId.eq(panelist_id))
        .filter(notification_outbox::Column::Status.eq(status::PENDING))
        .exec(db)
        .await?
        .rows_affected)
}

/// Rows that are due and not claimed by a live lease, oldest first.
pub async fn due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<notification_outbox::Model>, DbErr> {
    notification_outbox::Entity::find()
        .filter(notification_outbox::Column::Status.eq(status::PENDING))
        .filter(notification_outbox::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(notification_outbox::Column::ClaimedUntil.is_null())
                .add(notification_outbox::Column::ClaimedUntil.lt(now)),
        )
        .order_by_asc(notification_outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Claims one due row for `node` until `now + lease`; returns whether this call got it.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: i64,
    node: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<bool, DbErr> {
    let r = notification_outbox::Entity::update_many()
        .col_expr(
            notification_outbox::Column::ClaimedUntil,
            Expr::value(now + lease),
        )
        .col_expr(notification_outbox::Column::ClaimedBy, Expr::value(node))
        .filter(notification_outbox::Column::Id.eq(id))
        .filter(notification_outbox::Column::Status.eq(status::PENDING))
        .filter(
            Condition::any()
                .add(notification_outbox::Column::ClaimedUntil.is_null())
                .add(notification_outbox::Column::ClaimedUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Marks claimed rows as being handed to the mail server, if `node` still holds them.
pub async fn start_sending<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    node: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<u64, DbErr> {
    Ok(notification_outbox::Entity::update_many()
        .col_expr(
            notification_outbox::Column::Status,
            Expr::value(status::SENDING),
        )
        .col_expr(
            notification_outbox::Column::ClaimedUntil,
            Expr::value(now + lease),
        )
        .col_expr(
            notification_outbox::Column::Attempts,
            Expr::col(notification_outbox::Column::Attempts).add(1),
        )
        .filter(notification_outbox::Column::Id.is_in(ids.iter().copied()))
        .filter(notification_outbox::Column::ClaimedBy.eq(node))
        .filter(notification_outbox::Column::Status.eq(status::PENDING))
        .filter(notification_outbox::Column::ClaimedUntil.gt(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// Records the end of rows: `sent`, `failed`, `bounced` or `dropped`.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    to: &str,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut u = notification_outbox::Entity::update_many()
        .col_expr(notification_outbox::Column::Status, Expr::value(to))
        .col_expr(
            notification_outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            notification_outbox::Column::LastError,
            Expr::value(error.map(str::to_owned)),
        );
    if to == status::SENT {
        u = u.col_expr(notification_outbox::Column::SentAt, Expr::value(now));
    }
    u.filter(notification_outbox::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts rows back to wait until `next`, after a transient failure.
pub async fn retry_at<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    next: DateTime<Utc>,
    error: &str,
) -> Result<(), DbErr> {
    notification_outbox::Entity::update_many()
        .col_expr(
            notification_outbox::Column::Status,
            Expr::value(status::PENDING),
        )
        .col_expr(
            notification_outbox::Column::NextAttemptAt,
            Expr::value(next),
        )
        .col_expr(
            notification_outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(notification_outbox::Column::LastError, Expr::value(error))
        .filter(notification_outbox::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Rows left `sending` by a node whose lease lapsed (it died mid-send): recorded as
/// failed, never sent again, since the mail server may have taken them.
pub async fn give_up_interrupted<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(notification_outbox::Entity::update_many()
        .col_expr(
            notification_outbox::Column::Status,
            Expr::value(status::FAILED),
        )
        .col_expr(
            notification_outbox::Column::LastError,
            Expr::value("interrupted"),
        )
        .filter(notification_outbox::Column::Status.eq(status::SENDING))
        .filter(notification_outbox::Column::ClaimedUntil.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// The outbox rows about a case, for the staff's counts.
pub async fn outbox_of_case<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<Vec<notification_outbox::Model>, DbErr> {
    notification_outbox::Entity::find()
        .filter(notification_outbox::Column::CaseId.eq(case_id))
        .all(db)
        .await
}

/// The outbox rows of a panelist.
pub async fn outbox_of_panelist<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<notification_outbox::Model>, DbErr> {
    notification_outbox::Entity::find()
        .filter(notification_outbox::Column::PanelistId.eq(panelist_id))
        .order_by_asc(notification_outbox::Column::Id)
        .all(db)
        .await
}

/// The secret stored under `name`, made from `fresh` by the first node that asks.
pub async fn signing_key<C: ConnectionTrait>(
    db: &C,
    name: &str,
    fresh: String,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    signing_key::Entity::insert(signing_key::ActiveModel {
        name: Set(name.to_owned()),
        secret: Set(fresh),
        created_at: Set(now),
    })
    .on_conflict_do_nothing_on([signing_key::Column::Name])
    .exec(db)
    .await?;
    signing_key::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|k| k.secret)
        .ok_or_else(|| DbErr::RecordNotFound("signing key".into()))
}

/// When a panelist last read each of `case_ids`.
pub async fn visits_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    case_ids: &[i64],
) -> Result<Vec<case_visit::Model>, DbErr> {
    case_visit::Entity::find()
        .filter(case_visit::Column::PanelistId.eq(panelist_id))
        .filter(case_visit::Column::CaseId.is_in(case_ids.iter().copied()))
        .all(db)
        .await
}

/// Records that a panelist read a case's thread now.
pub async fn record_visit<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    case_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    case_visit::Entity::insert(case_visit::ActiveModel {
        panelist_id: Set(panelist_id),
        case_id: Set(case_id),
        last_seen_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([case_visit::Column::PanelistId, case_visit::Column::CaseId])
            .update_column(case_visit::Column::LastSeenAt)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Open cases that close before `until` and whose "closing soon" notices were not yet
/// written.
pub async fn cases_closing_before<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<case::Model>, DbErr> {
    case::Entity::find()
        .filter(case::Column::Status.eq("open"))
        .filter(case::Column::ClosesAt.gt(now))
        .filter(case::Column::ClosesAt.lte(until))
        .filter(Expr::col(Alias::new("closing_notice_at")).is_null())
        .all(db)
        .await
}

/// Marks a case's "closing soon" notices as written; returns whether this call did
/// (of several nodes, one).
pub async fn mark_closing_notice<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let q = Query::update()
        .table(Alias::new("cases"))
        .value(Alias::new("closing_notice_at"), now)
        .and_where(Expr::col(Alias::new("id")).eq(Expr::val(case_id)))
        .and_where(Expr::col(Alias::new("closing_notice_at")).is_null())
        .to_owned();
    let r = db.execute(&q).await?;
    Ok(r.rows_affected() == 1)
}

/// Of `case_ids`, those where a panelist has a reaction that is not withdrawn.
pub async fn cases_with_reaction_by<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    case_ids: &[i64],
) -> Result<Vec<i64>, DbErr> {
    use super::entities::post;
    Ok(post::Entity::find()
        .filter(post::Column::PanelistId.eq(panelist_id))
        .filter(post::Column::CaseId.is_in(case_ids.iter().copied()))
        .filter(post::Column::ParentId.is_null())
        .filter(post::Column::Status.ne("withdrawn"))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.case_id)
        .collect())
}

/// How many posts others wrote in a case after `since` that everyone may read.
pub async fn visible_posts_since<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    since: DateTime<Utc>,
    not_by: i64,
) -> Result<u64, DbErr> {
    use super::entities::post;
    use sea_orm::PaginatorTrait;
    post::Entity::find()
        .filter(post::Column::CaseId.eq(case_id))
        .filter(post::Column::CreatedAt.gt(since))
        .filter(post::Column::PanelistId.ne(not_by))
        .filter(post::Column::Status.eq("visible"))
        .count(db)
        .await
}
