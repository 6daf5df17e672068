//! Cases and the panels they are put before.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{case, case_erratum, case_panel};

/// Looks up a case by id.
#[tracing::instrument(skip(db))]
pub async fn case_by_id<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<case::Model>, DbErr> {
    case::Entity::find_by_id(id).one(db).await
}

/// Panel ids a case is put before.
pub async fn panels_of_case<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<Vec<i64>, DbErr> {
    Ok(case_panel::Entity::find()
        .filter(case_panel::Column::CaseId.eq(case_id))
        .all(db)
        .await?
        .into_iter()
        .map(|cp| cp.panel_id)
        .collect())
}

/// Replaces the panels of a case.
pub async fn set_case_panels<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    panel_ids: &[i64],
) -> Result<(), DbErr> {
    case_panel::Entity::delete_many()
        .filter(case_panel::Column::CaseId.eq(case_id))
        .exec(db)
        .await?;
    for panel_id in panel_ids {
        case_panel::ActiveModel {
            case_id: Set(case_id),
            panel_id: Set(*panel_id),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Cases of the given municipalities, newest first.
#[tracing::instrument(skip(db))]
pub async fn cases_of_municipalities<C: ConnectionTrait>(
    db: &C,
    municipality_ids: &[i64],
) -> Result<Vec<case::Model>, DbErr> {
    case::Entity::find()
        .filter(case::Column::MunicipalityId.is_in(municipality_ids.iter().copied()))
        .order_by_desc(case::Column::Id)
        .all(db)
        .await
}

/// Cases put before a panel with one of the given statuses, newest first.
#[tracing::instrument(skip(db))]
pub async fn cases_of_panel<C: ConnectionTrait>(
    db: &C,
    panel_id: i64,
    statuses: &[&str],
) -> Result<Vec<case::Model>, DbErr> {
    let case_ids: Vec<i64> = case_panel::Entity::find()
        .filter(case_panel::Column::PanelId.eq(panel_id))
        .all(db)
        .await?
        .into_iter()
        .map(|cp| cp.case_id)
        .collect();
    case::Entity::find()
        .filter(case::Column::Id.is_in(case_ids))
        .filter(case::Column::Status.is_in(statuses.iter().copied()))
        .order_by_desc(case::Column::Id)
        .all(db)
        .await
}

/// Inserts a case from a fully built active model.
pub async fn insert_case<C: ConnectionTrait>(
    db: &C,
    am: case::ActiveModel,
) -> Result<case::Model, DbErr> {
    am.insert(db).await
}

/// Saves changed fields of a case.
pub async fn update_case<C: ConnectionTrait>(
    db: &C,
    am: case::ActiveModel,
) -> Result<case::Model, DbErr> {
    am.update(db).await
}

/// Saves changed fields of a case only while its status is still `status`; `None` when
/// it moved on in the meantime (a scheduled case that opened by itself), so a change
/// checked against one status is never written under another.
pub async fn update_case_in_status<C: ConnectionTrait>(
    db: &C,
    am: case::ActiveModel,
    status: &str,
) -> Result<Option<case::Model>, DbErr> {
    let id = am.id.clone().unwrap();
    let result = case::Entity::update_many()
        .set(am)
        .filter(case::Column::Id.eq(id))
        .filter(case::Column::Status.eq(status))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    case_by_id(db, id).await
}

/// Records a correction of a case's text after it opened.
pub async fn insert_erratum<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    fields: &[&str],
    note: &str,
    staff_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<case_erratum::Model, DbErr> {
    case_erratum::ActiveModel {
        case_id: Set(case_id),
        fields: Set(serde_json::to_string(fields).unwrap_or_else(|_| "[]".into())),
        note: Set(note.to_owned()),
        staff_id: Set(staff_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The corrections of a case, oldest first.
pub async fn errata_of_case<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<Vec<case_erratum::Model>, DbErr> {
    case_erratum::Entity::find()
        .filter(case_erratum::Column::CaseId.eq(case_id))
        .order_by_asc(case_erratum::Column::Id)
        .all(db)
        .await
}

/// Takes the next sequence number of a case's event log. The `UPDATE … RETURNING` row
/// lock makes concurrent writers on any number of nodes queue per case, so numbers are
/// never skipped or repeated; it must run inside the transaction that appends the event.
pub async fn next_event_seq<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<i64, DbErr> {
    let rows = case::Entity::update_many()
        .col_expr(
            case::Column::EventSeq,
            Expr::col(case::Column::EventSeq).add(1),
        )
        .filter(case::Column::Id.eq(case_id))
        .exec_with_returning(db)
        .await?;
    rows.first()
        .map(|c| c.event_seq)
        .ok_or_else(|| DbErr::RecordNotFound(format!("case {case_id}")))
}

/// Last event sequence numbers of several cases.
pub async fn event_heads<C: ConnectionTrait>(
    db: &C,
    case_ids: &[i64],
) -> Result<std::collections::HashMap<i64, i64>, DbErr> {
    if case_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, i64)> = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .column(case::Column::EventSeq)
        .filter(case::Column::Id.is_in(case_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Scheduled cases whose opening time has passed, and open cases whose closing time has
/// passed.
pub async fn cases_due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<Vec<case::Model>, DbErr> {
    case::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(case::Column::Status.eq("scheduled"))
                        .add(case::Column::OpensAt.lte(now)),
                )
                .add(
                    Condition::all()
                        .add(case::Column::Status.eq("open"))
                        .add(case::Column::ClosesAt.lte(now)),
                ),
        )
        .all(db)
        .await
}

/// Moves a case from one status to another only if it is still in the first (and, with
/// `unchanged_since`, was not written since that time: its text is still the text that
/// was checked); returns whether this call made the change (so of several nodes only one
/// announces it).
#[allow(
    clippy::too_many_arguments,
    reason = "one conditional UPDATE; the arguments are its columns and conditions"
)]
pub async fn transition_status<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    from: &[&str],
    to: &str,
    opens_at: Option<DateTime<Utc>>,
    closes_at: Option<Option<DateTime<Utc>>>,
    unchanged_since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = case::Entity::update_many()
        .col_expr(case::Column::Status, Expr::value(to))
        .col_expr(case::Column::UpdatedAt, Expr::value(now));
    if let Some(at) = opens_at {
        update = update.col_expr(case::Column::OpensAt, Expr::value(at));
    }
    if let Some(at) = closes_at {
        update = update.col_expr(case::Column::ClosesAt, Expr::value(at));
    }
    if let Some(at) = unchanged_since {
        update = update.filter(case::Column::UpdatedAt.eq(at));
    }
    let result = update
        .filter(case::Column::Id.eq(case_id))
        .filter(case::Column::Status.is_in(from.iter().copied()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
