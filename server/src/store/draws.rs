//! Draws of a case's panel: the draw row, its pool members and their fate, the deficits
//! people carry from earlier draws, and a municipality's population figures.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::entities::{draw, draw_member, panelist, population_figure};

/// What became of a pool member in a draw.
pub mod status {
    /// In the pool, not seated.
    pub const POOL: &str = "pool";
    /// Seated (by the draw or as a replacement).
    pub const DRAWN: &str = "drawn";
    /// Seated, then replaced for not responding.
    pub const REPLACED: &str = "replaced";
}

/// The draw of a case, if one was made.
pub async fn draw_of_case<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<Option<draw::Model>, DbErr> {
    draw::Entity::find()
        .filter(draw::Column::CaseId.eq(case_id))
        .one(db)
        .await
}

/// `None` when the case has no draw (its panels decide); otherwise whether the panelist
/// holds a seat in it.
pub async fn seat_of<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    panelist_id: i64,
) -> Result<Option<bool>, DbErr> {
    let Some(d) = draw_of_case(db, case_id).await? else {
        return Ok(None);
    };
    let seated = draw_member::Entity::find()
        .filter(draw_member::Column::DrawId.eq(d.id))
        .filter(draw_member::Column::PanelistId.eq(panelist_id))
        .filter(draw_member::Column::Status.eq(status::DRAWN))
        .one(db)
        .await?
        .is_some();
    Ok(Some(seated))
}

/// Of `case_ids`, those with a draw in which the panelist holds no seat.
pub async fn cases_without_seat<C: ConnectionTrait>(
    db: &C,
    case_ids: &[i64],
    panelist_id: i64,
) -> Result<Vec<i64>, DbErr> {
    let draws = draw::Entity::find()
        .filter(draw::Column::CaseId.is_in(case_ids.iter().copied()))
        .all(db)
        .await?;
    if draws.is_empty() {
        return Ok(Vec::new());
    }
    let seated: Vec<i64> = draw_member::Entity::find()
        .filter(draw_member::Column::DrawId.is_in(draws.iter().map(|d| d.id)))
        .filter(draw_member::Column::PanelistId.eq(panelist_id))
        .filter(draw_member::Column::Status.eq(status::DRAWN))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.draw_id)
        .collect();
    Ok(draws
        .into_iter()
        .filter(|d| !seated.contains(&d.id))
        .map(|d| d.case_id)
        .collect())
}

/// Panelist ids seated in a case's draw, or `None` without a draw.
pub async fn seated_of_case<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<Option<Vec<i64>>, DbErr> {
    let Some(d) = draw_of_case(db, case_id).await? else {
        return Ok(None);
    };
    Ok(Some(
        draw_member::Entity::find()
            .filter(draw_member::Column::DrawId.eq(d.id))
            .filter(draw_member::Column::Status.eq(status::DRAWN))
            .all(db)
            .await?
            .into_iter()
            .map(|m| m.panelist_id)
            .collect(),
    ))
}

/// Every pool member of a draw, by panelist id.
pub async fn members_of_draw<C: ConnectionTrait>(
    db: &C,
    draw_id: i64,
) -> Result<Vec<draw_member::Model>, DbErr> {
    draw_member::Entity::find()
        .filter(draw_member::Column::DrawId.eq(draw_id))
        .order_by_asc(draw_member::Column::PanelistId)
        .all(db)
        .await
}

/// Each panelist's deficit from draws other than `except_draw`: the sum of their chances
/// minus the times they were seated (a replaced seat counts: the lot fell on them).
pub async fn deficits<C: ConnectionTrait>(
    db: &C,
    panelist_ids: &[i64],
    except_draw: Option<i64>,
) -> Result<HashMap<i64, f64>, DbErr> {
    let mut out: HashMap<i64, f64> = HashMap::new();
    for chunk in panelist_ids.chunks(500) {
        let mut query = draw_member::Entity::find()
            .filter(draw_member::Column::PanelistId.is_in(chunk.iter().copied()));
        if let Some(id) = except_draw {
            query = query.filter(draw_member::Column::DrawId.ne(id));
        }
        for m in query.all(db).await? {
            let seated = if m.status == status::POOL { 0.0 } else { 1.0 };
            *out.entry(m.panelist_id).or_default() += m.probability - seated;
        }
    }
    Ok(out)
}

/// Of `panelist_ids`, those who have logged in at least once.
pub async fn logged_in<C: ConnectionTrait>(
    db: &C,
    panelist_ids: &[i64],
) -> Result<std::collections::HashSet<i64>, DbErr> {
    let mut out = std::collections::HashSet::new();
    for chunk in panelist_ids.chunks(500) {
        out.extend(
            panelist::Entity::find()
                .filter(panelist::Column::Id.is_in(chunk.iter().copied()))
                .filter(panelist::Column::FirstLoginAt.is_not_null())
                .all(db)
                .await?
                .into_iter()
                .map(|p| p.id),
        );
    }
    Ok(out)
}

/// Removes a case's draw and its members (a draw redone before the case opens).
pub async fn delete_draw<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<(), DbErr> {
    if let Some(d) = draw_of_case(db, case_id).await? {
        draw_member::Entity::delete_many()
            .filter(draw_member::Column::DrawId.eq(d.id))
            .exec(db)
            .await?;
        draw::Entity::delete_by_id(d.id).exec(db).await?;
    }
    Ok(())
}

/// Inserts a draw.
pub async fn insert_draw<C: ConnectionTrait>(
    db: &C,
    am: draw::ActiveModel,
) -> Result<draw::Model, DbErr> {
    am.insert(db).await
}

/// Inserts pool members, in batches the engines' parameter limits allow.
pub async fn insert_members<C: ConnectionTrait>(
    db: &C,
    rows: Vec<draw_member::ActiveModel>,
) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(400).collect();
        draw_member::Entity::insert_many(batch).exec(db).await?;
    }
    Ok(())
}

/// Sets what became of a pool member; a newly seated member also gets the round and
/// time of their seat (a replaced one keeps the round they were seated in).
pub async fn set_member_status<C: ConnectionTrait>(
    db: &C,
    draw_id: i64,
    panelist_id: i64,
    new_status: &str,
    seated: Option<(i32, DateTime<Utc>)>,
) -> Result<(), DbErr> {
    let mut update = draw_member::Entity::update_many()
        .col_expr(draw_member::Column::Status, Expr::value(new_status))
        .filter(draw_member::Column::DrawId.eq(draw_id))
        .filter(draw_member::Column::PanelistId.eq(panelist_id));
    if let Some((round, at)) = seated {
        update = update
            .col_expr(draw_member::Column::Round, Expr::value(round))
            .col_expr(draw_member::Column::SeatedAt, Expr::value(at));
    }
    update.exec(db).await?;
    Ok(())
}

/// Counts one more top-up round on a draw.
pub async fn count_top_up<C: ConnectionTrait>(db: &C, draw_id: i64) -> Result<(), DbErr> {
    draw::Entity::update_many()
        .col_expr(draw::Column::TopUps, Expr::col(draw::Column::TopUps).add(1))
        .filter(draw::Column::Id.eq(draw_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A municipality's population figures.
pub async fn population_of<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
) -> Result<Vec<population_figure::Model>, DbErr> {
    population_figure::Entity::find()
        .filter(population_figure::Column::MunicipalityId.eq(municipality_id))
        .order_by_asc(population_figure::Column::Feature)
        .order_by_asc(population_figure::Column::Value)
        .all(db)
        .await
}

/// Replaces a municipality's figures for one feature.
pub async fn set_population<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    feature: &str,
    shares: &[(String, f64)],
) -> Result<(), DbErr> {
    population_figure::Entity::delete_many()
        .filter(population_figure::Column::MunicipalityId.eq(municipality_id))
        .filter(population_figure::Column::Feature.eq(feature))
        .exec(db)
        .await?;
    for (value, share) in shares {
        population_figure::ActiveModel {
            municipality_id: Set(municipality_id),
            feature: Set(feature.to_owned()),
            value: Set(value.clone()),
            share: Set(*share),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
