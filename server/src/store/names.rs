//! Per-case display names (`case_names`): the name each author appears under in one case,
//! drawn when they first write there and unique within the case.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use super::entities::{case_name, panelist, post};
use crate::domain::names::{random_name, random_name_wide};

/// The display names of the given authors, keyed by `(case id, panelist id)`. A pair
/// without a name (a panelist who left and kept their posts) is absent: callers show
/// [`crate::domain::names::FORMER_PANELIST`].
pub async fn display_names<C: ConnectionTrait>(
    db: &C,
    pairs: &[(i64, i64)],
) -> Result<HashMap<(i64, i64), String>, DbErr> {
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let mut cases: Vec<i64> = pairs.iter().map(|p| p.0).collect();
    cases.sort_unstable();
    cases.dedup();
    let mut people: Vec<i64> = pairs.iter().map(|p| p.1).collect();
    people.sort_unstable();
    people.dedup();
    Ok(case_name::Entity::find()
        .filter(case_name::Column::CaseId.is_in(cases))
        .filter(case_name::Column::PanelistId.is_in(people))
        .all(db)
        .await?
        .into_iter()
        .map(|n| ((n.case_id, n.panelist_id), n.name))
        .collect())
}

/// The name of one panelist in one case, if they have one.
pub async fn name_in_case<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    panelist_id: i64,
) -> Result<Option<String>, DbErr> {
    Ok(case_name::Entity::find_by_id((case_id, panelist_id))
        .one(db)
        .await?
        .map(|n| n.name))
}

/// The panelist's name in the case, drawn now if they have none: a random name not yet
/// used in the case. Safe under concurrent writers on any number of nodes: an insert that
/// meets either unique key does nothing, and the row is read back.
pub async fn ensure<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    panelist_id: i64,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    for attempt in 0..40 {
        if let Some(name) = name_in_case(db, case_id, panelist_id).await? {
            return Ok(name);
        }
        let candidate = if attempt < 20 {
            random_name()
        } else {
            random_name_wide()
        };
        case_name::Entity::insert(case_name::ActiveModel {
            case_id: Set(case_id),
            panelist_id: Set(panelist_id),
            name: Set(candidate),
            created_at: Set(now),
        })
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    }
    name_in_case(db, case_id, panelist_id)
        .await?
        .ok_or_else(|| DbErr::Custom("no free display name in this case".into()))
}

/// Gives a name to every author of a post who has none in that case and has not left the
/// panel (posts written before per-case names existed). Returns how many were given.
pub async fn backfill<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let authors: Vec<(i64, i64)> = post::Entity::find()
        .select_only()
        .column(post::Column::CaseId)
        .column(post::Column::PanelistId)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    if authors.is_empty() {
        return Ok(0);
    }
    let named: std::collections::HashSet<(i64, i64)> = case_name::Entity::find()
        .select_only()
        .column(case_name::Column::CaseId)
        .column(case_name::Column::PanelistId)
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let left: std::collections::HashSet<i64> = panelist::Entity::find()
        .select_only()
        .column(panelist::Column::Id)
        .filter(panelist::Column::LeftAt.is_not_null())
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut given = 0;
    for (case_id, panelist_id) in authors {
        if named.contains(&(case_id, panelist_id)) || left.contains(&panelist_id) {
            continue;
        }
        ensure(db, case_id, panelist_id, now).await?;
        given += 1;
    }
    Ok(given)
}

/// Forgets every per-case name of a panelist (when they leave the panel).
pub async fn forget<C: ConnectionTrait>(db: &C, panelist_id: i64) -> Result<u64, DbErr> {
    Ok(case_name::Entity::delete_many()
        .filter(case_name::Column::PanelistId.eq(panelist_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Every per-case name of a panelist, keyed by case id (for their own-data download).
pub async fn names_of<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
) -> Result<Vec<case_name::Model>, DbErr> {
    case_name::Entity::find()
        .filter(case_name::Column::PanelistId.eq(panelist_id))
        .all(db)
        .await
}
