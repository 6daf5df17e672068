//! The audit log: append-only (the database refuses UPDATE and DELETE on it).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::audit_entry;

/// One entry to append: who did what to which object, with what result, from where.
#[derive(Clone, Debug)]
pub struct NewAuditEntry {
    /// Municipality the object belongs to, if any.
    pub municipality_id: Option<i64>,
    /// `staff`, `panelist` or `system`.
    pub actor_kind: &'static str,
    /// Id of the acting staff member or panelist.
    pub actor_id: Option<i64>,
    /// What was done, e.g. `case.open`.
    pub action: &'static str,
    /// Kind of object, e.g. `case`.
    pub object_type: &'static str,
    /// Id of the object.
    pub object_id: Option<String>,
    /// `ok` or `denied`.
    pub result: &'static str,
    /// Where the request came from (client IP or `cli`).
    pub origin: Option<String>,
    /// Further facts as JSON; never a post body, invite code or BSN.
    pub detail: serde_json::Value,
}

/// Appends an audit entry.
pub async fn append<C: ConnectionTrait>(
    db: &C,
    entry: NewAuditEntry,
    now: DateTime<Utc>,
) -> Result<audit_entry::Model, DbErr> {
    audit_entry::ActiveModel {
        municipality_id: Set(entry.municipality_id),
        actor_kind: Set(entry.actor_kind.to_owned()),
        actor_id: Set(entry.actor_id),
        action: Set(entry.action.to_owned()),
        object_type: Set(entry.object_type.to_owned()),
        object_id: Set(entry.object_id),
        result: Set(entry.result.to_owned()),
        origin: Set(entry.origin),
        detail: Set(entry.detail.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Audit entries of a municipality, newest first, before id `before`; with `prefixes`,
/// only actions starting with one of them.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    before: Option<i64>,
    limit: u64,
    prefixes: Option<&[&str]>,
) -> Result<Vec<audit_entry::Model>, DbErr> {
    let mut q =
        audit_entry::Entity::find().filter(audit_entry::Column::MunicipalityId.eq(municipality_id));
    if let Some(prefixes) = prefixes {
        let mut any = sea_orm::Condition::any();
        for p in prefixes {
            any = any.add(audit_entry::Column::Action.starts_with(*p));
        }
        q = q.filter(any);
    }
    if let Some(before) = before {
        q = q.filter(audit_entry::Column::Id.lt(before));
    }
    q.order_by_desc(audit_entry::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
