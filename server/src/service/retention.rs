//! Retention per municipality, set by its admins: codes and sessions end when the
//! programme ends, the link between posts and panelists is cut some months after a case
//! closed (a stand-in row without code or profile takes over the posts, so the thread
//! and its names stay), and audit entries past the legal period are counted. A dry run
//! says what a run would do; a run applies it once per municipality and day whatever
//! the number of nodes (a unique claim in the run's own transaction), and is audited
//! with counts, never content.

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{Error, Result};
use super::policy::Actor;
use super::{AuditContext, Service};
use crate::domain::Role;
use crate::store::entities::retention_policy;
use crate::store::{audit, invitations, people, retention};

/// A municipality's retention settings; absent values switch that rule off.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"programme_ends_at": "2027-06-30T22:00:00Z", "unlink_after_months": 6, "audit_years": 7})))]
pub struct RetentionSettings {
    /// When the programme ends: from then on every code stops working and every
    /// panelist's session ends.
    #[serde(default)]
    pub programme_ends_at: Option<DateTime<Utc>>,
    /// Months after a case closed before the link between its posts and the panelists
    /// who wrote them is cut (0–120; 0 cuts it once the case has closed).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 120)]
    pub unlink_after_months: Option<i32>,
    /// Years audit entries are kept (1–30); entries past it are counted in every report.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 30)]
    pub audit_years: Option<i32>,
}

/// What a run removes or would remove: counts, never content.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
pub struct RetentionCounts {
    /// Invitations whose code stopped working.
    pub codes_ended: u64,
    /// Panelists' sessions ended.
    pub sessions_ended: u64,
    /// Panelists whose link to a case's posts, weighings and flags was cut (counted per
    /// case).
    pub links_cut: u64,
    /// Audit entries older than the legal period (counted; removing them is the
    /// operator's step, as the log is append-only).
    pub audit_past_period: u64,
}

/// The report of a dry run or a run.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct RetentionReport {
    /// Whether this only says what a run would do.
    pub dry_run: bool,
    /// The day (UTC) of the run.
    pub day: String,
    /// Whether this call applied it (false for a dry run, or when a run of this day had
    /// already been applied, by any node; then the counts are that run's).
    pub applied: bool,
    /// The counts.
    pub counts: RetentionCounts,
}

fn invalid_settings(message: &str) -> Error {
    Error::invalid("invalid_retention", message.to_owned())
}

fn view(p: Option<retention_policy::Model>) -> RetentionSettings {
    p.map(|p| RetentionSettings {
        programme_ends_at: p.programme_ends_at,
        unlink_after_months: p.unlink_after_months,
        audit_years: p.audit_years,
    })
    .unwrap_or_default()
}

impl Service {
    /// A municipality's retention settings (admins).
    pub async fn retention_settings(
        &self,
        actor: &Actor,
        municipality_slug: &str,
    ) -> Result<RetentionSettings> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        Ok(view(retention::policy_of(self.store.db(), m.id).await?))
    }

    /// Sets a municipality's retention settings (admins); audited.
    pub async fn set_retention_settings(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        input: RetentionSettings,
        ctx: &AuditContext,
    ) -> Result<RetentionSettings> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        if input
            .unlink_after_months
            .is_some_and(|n| !(0..=120).contains(&n))
        {
            return Err(invalid_settings(
                "Kies voor het loskoppelen 0 tot 120 maanden na het sluiten van een casus.",
            ));
        }
        if input.audit_years.is_some_and(|n| !(1..=30).contains(&n)) {
            return Err(invalid_settings(
                "Kies voor het logboek een bewaartermijn van 1 tot 30 jaar.",
            ));
        }
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let saved = retention::set_policy(
            &*tx,
            retention_policy::Model {
                municipality_id: m.id,
                programme_ends_at: input.programme_ends_at,
                unlink_after_months: input.unlink_after_months,
                audit_years: input.audit_years,
                updated_by: match actor {
                    Actor::Staff(s) => Some(s.id),
                    Actor::Panelist(_) => None,
                },
                updated_at: now,
            },
        )
        .await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "retention.set",
                "municipality",
                m.slug.clone(),
                serde_json::json!(view(Some(saved.clone()))),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(view(Some(saved)))
    }

    /// What a run would do now (admins).
    pub async fn retention_plan(
        &self,
        actor: &Actor,
        municipality_slug: &str,
    ) -> Result<RetentionReport> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        self.retention_dry_run(m.id).await
    }

    /// Applies the retention now (admins); once per day, however often it is asked.
    pub async fn run_retention(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        ctx: &AuditContext,
    ) -> Result<RetentionReport> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        self.retention_apply(m.id, ctx).await
    }

    /// The scheduled job: for every municipality with settings and no run today, the dry
    /// run (logged), then the run. Safe on every node at once.
    pub async fn apply_retention_everywhere(&self) -> Result<usize> {
        let day = self.now().format("%Y-%m-%d").to_string();
        let mut applied = 0;
        for p in retention::policies(self.store.db()).await? {
            if retention::run_of(self.store.db(), p.municipality_id, &day)
                .await?
                .is_some()
            {
                continue;
            }
            let plan = self.retention_dry_run(p.municipality_id).await?;
            tracing::info!(
                municipality.id = p.municipality_id,
                codes = plan.counts.codes_ended,
                sessions = plan.counts.sessions_ended,
                links = plan.counts.links_cut,
                audit_past_period = plan.counts.audit_past_period,
                "retention dry run"
            );
            if self
                .retention_apply(p.municipality_id, &AuditContext::system())
                .await?
                .applied
            {
                applied += 1;
            }
        }
        Ok(applied)
    }

    async fn retention_dry_run(&self, municipality_id: i64) -> Result<RetentionReport> {
        let db = self.store.db();
        let now = self.now();
        let policy = view(retention::policy_of(db, municipality_id).await?);
        let mut counts = RetentionCounts::default();
        if policy.programme_ends_at.is_some_and(|end| end <= now) {
            counts.codes_ended = retention::active_invitations(db, municipality_id)
                .await?
                .len() as u64;
            let panelists = retention::panelists_of(db, municipality_id).await?;
            counts.sessions_ended = retention::count_sessions(db, &panelists).await?;
        }
        if let Some(before) = unlink_before(&policy, now) {
            for case in retention::cases_closed_before(db, municipality_id, before).await? {
                counts.links_cut += retention::linked_panelists(db, case.id).await?.len() as u64;
            }
        }
        if let Some(before) = audit_before(&policy, now) {
            counts.audit_past_period =
                retention::count_audit_before(db, municipality_id, before).await?;
        }
        Ok(RetentionReport {
            dry_run: true,
            day: now.format("%Y-%m-%d").to_string(),
            applied: false,
            counts,
        })
    }

    async fn retention_apply(
        &self,
        municipality_id: i64,
        ctx: &AuditContext,
    ) -> Result<RetentionReport> {
        let now = self.now();
        let day = now.format("%Y-%m-%d").to_string();
        let tx = self.store.begin_write().await?;
        // The claim comes first: a second node's insert waits for this transaction and
        // then finds the day taken.
        if !retention::claim_run(&*tx, municipality_id, &day, "{}", now).await? {
            drop(tx);
            let run = retention::run_of(self.store.db(), municipality_id, &day).await?;
            let counts = run
                .and_then(|r| serde_json::from_str(&r.counts).ok())
                .unwrap_or_default();
            return Ok(RetentionReport {
                dry_run: false,
                day,
                applied: false,
                counts,
            });
        }
        let policy = view(retention::policy_of(&*tx, municipality_id).await?);
        let mut counts = RetentionCounts::default();
        if policy.programme_ends_at.is_some_and(|end| end <= now) {
            for i in retention::active_invitations(&*tx, municipality_id).await? {
                if retention::expire_invitation(&*tx, i.id, now).await? {
                    invitations::set_panelist_code_hash(
                        &*tx,
                        i.panelist_id,
                        &super::invitations::void_code_hash(),
                    )
                    .await?;
                    counts.codes_ended += 1;
                }
            }
            let panelists = retention::panelists_of(&*tx, municipality_id).await?;
            counts.sessions_ended = retention::delete_sessions(&*tx, &panelists).await?;
        }
        if let Some(before) = unlink_before(&policy, now) {
            for case in retention::cases_closed_before(&*tx, municipality_id, before).await? {
                for panelist_id in retention::linked_panelists(&*tx, case.id).await? {
                    let Some(p) = people::panelist_by_id(&*tx, panelist_id).await? else {
                        continue;
                    };
                    let stand_in = format!(
                        "{}{}",
                        retention::UNLINKED_PREFIX,
                        &super::invitations::void_code_hash()[5..]
                    );
                    retention::cut_link(&*tx, case.id, &p, &stand_in, now).await?;
                    counts.links_cut += 1;
                }
            }
        }
        if let Some(before) = audit_before(&policy, now) {
            counts.audit_past_period =
                retention::count_audit_before(&*tx, municipality_id, before).await?;
        }
        let detail = serde_json::json!(counts);
        retention::set_run_counts(&*tx, municipality_id, &day, &detail.to_string()).await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(municipality_id),
                "retention.run",
                "municipality",
                municipality_id.to_string(),
                detail,
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            municipality.id = municipality_id,
            codes = counts.codes_ended,
            sessions = counts.sessions_ended,
            links = counts.links_cut,
            "retention applied"
        );
        Ok(RetentionReport {
            dry_run: false,
            day,
            applied: true,
            counts,
        })
    }
}

/// Cases that closed before this moment have their links cut.
fn unlink_before(p: &RetentionSettings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let months = u32::try_from(p.unlink_after_months?).ok()?;
    now.checked_sub_months(Months::new(months))
}

/// Audit entries from before this moment are past the legal period.
fn audit_before(p: &RetentionSettings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let years = u32::try_from(p.audit_years?).ok()?;
    now.checked_sub_months(Months::new(years * 12))
}
