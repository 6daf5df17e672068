//! Return visits: what is new for a panelist since they last came. Each read of a case's
//! thread records the time (`case_visits`, one row per panelist and case); "my cases"
//! marks a case as new (never read), verdict given, closing soon or responded, with the
//! number of posts by others since the last visit, and the thread marks those posts.
//! Staff are not tracked. This module must not depend on axum.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::Service;
use super::error::Result;
use super::notifications::CLOSING_SOON;
use super::policy::Actor;
use crate::store::{cases, notifications as visits};

/// What "my cases" says about one case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseMarks {
    /// The panelist never opened this open case.
    pub new: bool,
    /// The panelist gave their verdict (a reaction that is not withdrawn).
    pub verdict_given: bool,
    /// The case is open and closes within two days.
    pub closing_soon: bool,
    /// The municipality wrote its response.
    pub responded: bool,
    /// Posts by others, readable by everyone, since the panelist's last visit.
    pub new_posts: u64,
}

impl Service {
    /// The marks of `case_ids` for the signed-in panelist.
    pub async fn my_case_marks(
        &self,
        actor: &Actor,
        case_ids: &[i64],
    ) -> Result<HashMap<i64, CaseMarks>> {
        let p = actor.panelist()?;
        let db = self.store.db();
        let now = self.now();
        let seen: HashMap<i64, DateTime<Utc>> = visits::visits_of(db, p.id, case_ids)
            .await?
            .into_iter()
            .map(|v| (v.case_id, v.last_seen_at))
            .collect();
        let reacted = visits::cases_with_reaction_by(db, p.id, case_ids).await?;
        let mut out = HashMap::new();
        for &id in case_ids {
            let Some(case) = cases::case_by_id(db, id).await? else {
                continue;
            };
            let open = case.status == "open";
            let new_posts = match seen.get(&id) {
                Some(at) if open => visits::visible_posts_since(db, id, *at, p.id).await?,
                _ => 0,
            };
            out.insert(
                id,
                CaseMarks {
                    new: open && !seen.contains_key(&id),
                    verdict_given: reacted.contains(&id),
                    closing_soon: open
                        && case
                            .closes_at
                            .is_some_and(|at| at > now && at - now <= CLOSING_SOON),
                    responded: case.response.as_deref().is_some_and(|r| !r.is_empty()),
                    new_posts,
                },
            );
        }
        Ok(out)
    }

    /// When the signed-in panelist last read a case's thread (`None` for staff, or the
    /// first visit).
    pub async fn last_visit(&self, actor: &Actor, case_id: i64) -> Result<Option<DateTime<Utc>>> {
        let Actor::Panelist(p) = actor else {
            return Ok(None);
        };
        Ok(visits::visits_of(self.store.db(), p.id, &[case_id])
            .await?
            .first()
            .map(|v| v.last_seen_at))
    }

    /// Records that the signed-in panelist read a case's thread now (staff: nothing).
    pub async fn record_visit(&self, actor: &Actor, case_id: i64) -> Result<()> {
        let Actor::Panelist(p) = actor else {
            return Ok(());
        };
        let now = self.now();
        let tx = self.store.begin_write().await?;
        visits::record_visit(&*tx, p.id, case_id, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
