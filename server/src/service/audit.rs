//! Reading the audit log: admins page through their municipality's entries and export
//! them as CSV (the export is itself audited). Nothing here or anywhere can change or
//! delete an entry; the database refuses it.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{Error, Result};
use super::export::CsvSheet;
use super::policy::{self, Actor};
use super::{AuditContext, Service};
use crate::domain::Role;
use crate::store::entities::audit_entry;
use crate::store::{audit, people};

/// One audit entry.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Entry id.
    pub id: i64,
    /// `staff`, `panelist`, `operator` or `system`.
    pub actor_kind: String,
    /// Id of the acting staff member or panelist.
    pub actor_id: Option<i64>,
    /// What was done, e.g. `post.hide`.
    pub action: String,
    /// Kind of object.
    pub object_type: String,
    /// Object id.
    pub object_id: Option<String>,
    /// `ok` or `denied`.
    pub result: String,
    /// Client address, `cli` or none.
    pub origin: Option<String>,
    /// Further facts.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

/// A page of the audit log.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditView>,
    /// Pass as `before` for the next page.
    pub next_cursor: Option<i64>,
}

fn view(e: audit_entry::Model) -> AuditView {
    AuditView {
        id: e.id,
        actor_kind: e.actor_kind,
        actor_id: e.actor_id,
        action: e.action,
        object_type: e.object_type,
        object_id: e.object_id,
        result: e.result,
        origin: e.origin,
        detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
        at: e.created_at,
    }
}

/// Action prefixes of the audit entries moderators may read.
const MODERATION_ACTIONS: [&str; 3] = ["post.", "panelist.", "moderation."];

impl Service {
    async fn audit_municipality(&self, actor: &Actor, slug: &str) -> Result<i64> {
        let m = people::municipality_by_slug(self.store.db(), slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        policy::require_role(actor, m.id, Role::Admin, "municipality_not_found")?;
        Ok(m.id)
    }

    /// A page of a municipality's audit log, newest first: everything for admins; for
    /// moderators the moderation entries (posts, panelists, the moderation policy), so
    /// they can account for their own and their colleagues' actions.
    pub async fn audit_page(
        &self,
        actor: &Actor,
        municipality: &str,
        before: Option<i64>,
        limit: u64,
    ) -> Result<AuditPage> {
        let m = people::municipality_by_slug(self.store.db(), municipality)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        policy::require_role(actor, m.id, Role::Moderator, "municipality_not_found")?;
        let everything = matches!(actor, Actor::Staff(s) if s.has_role(m.id, Role::Admin));
        let prefixes: Option<&[&str]> = if everything {
            None
        } else {
            Some(&MODERATION_ACTIONS)
        };
        let m = m.id;
        let limit = limit.clamp(1, 500);
        let list = audit::page(self.store.db(), m, before, limit + 1, prefixes).await?;
        let more = list.len() as u64 > limit;
        let entries: Vec<AuditView> = list.into_iter().take(limit as usize).map(view).collect();
        let next_cursor = if more {
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            next_cursor,
        })
    }

    /// Whether `actor` may export the municipality's audit log, without exporting or
    /// auditing anything (for `HEAD`).
    pub async fn check_audit_export(&self, actor: &Actor, municipality: &str) -> Result<()> {
        self.audit_municipality(actor, municipality)
            .await
            .map(|_| ())
    }

    /// The whole audit log of a municipality as CSV (admins); the export is audited.
    pub async fn audit_csv(
        &self,
        actor: &Actor,
        municipality: &str,
        ctx: &AuditContext,
        out: &mut (dyn Write + Send),
    ) -> Result<usize> {
        let m = self.audit_municipality(actor, municipality).await?;
        let db = self.store.db();
        audit::append(
            db,
            ctx.entry(
                Some(m),
                "audit.export",
                "municipality",
                municipality.to_owned(),
                serde_json::json!({}),
            ),
            self.now(),
        )
        .await?;
        let mut sheet = CsvSheet::new(out);
        sheet.row([
            "id",
            "at",
            "actor_kind",
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "result",
            "origin",
            "detail",
        ])?;
        let mut before = None;
        let mut n = 0;
        loop {
            let page = audit::page(db, m, before, 1000, None).await?;
            let Some(last) = page.last().map(|e| e.id) else {
                break;
            };
            for e in page {
                sheet.row([
                    e.id.to_string(),
                    e.created_at.to_rfc3339(),
                    e.actor_kind,
                    e.actor_id.map(|i| i.to_string()).unwrap_or_default(),
                    e.action,
                    e.object_type,
                    e.object_id.unwrap_or_default(),
                    e.result,
                    e.origin.unwrap_or_default(),
                    e.detail,
                ])?;
                n += 1;
            }
            before = Some(last);
        }
        sheet
            .finish()?
            .flush()
            .map_err(|e| Error::Internal(format!("audit csv: {e}")))?;
        Ok(n)
    }
}
