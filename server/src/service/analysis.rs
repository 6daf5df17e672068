//! The per-case analysis staff read: participation, the verdict split with 95% Wilson
//! intervals, the split by consented profile attributes with small groups suppressed,
//! activity per day, arguments ranked by weighing, frequent terms and opinion groups.
//! The numbers come from `crate::analysis`; this module reads the data and decides who
//! may see it (analysts and admins of the case's municipality).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use utoipa::ToSchema;

use super::Service;
use super::error::{Error, Result};
use super::policy::{self, Actor};
use crate::analysis::opinion::{self, OpinionMap, OpinionSettings, Vote};
use crate::analysis::stats::{self, GroupTable, MIN_GROUP_SIZE, Share};
use crate::analysis::terms;
use crate::domain::{PostStatus, Role, Verdict};
use crate::store::entities::post;
use crate::store::{cases, people, posts};

/// How many took part, step by step.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Participation {
    /// Panelists on the case's panels.
    pub invited: u64,
    /// Of those, who ever logged in.
    pub logged_in: u64,
    /// Who gave a verdict.
    pub reacted: u64,
    /// Who replied to someone.
    pub replied: u64,
    /// Who weighed someone's argument.
    pub weighed: u64,
}

/// An argument with how the panel weighed it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RankedArgument {
    /// The reaction.
    pub post_id: i64,
    /// Its author's pseudonym.
    pub author: String,
    /// Its text.
    pub body: String,
    /// Agree weighings.
    pub agree: i64,
    /// Disagree weighings.
    pub disagree: i64,
    /// Pass weighings.
    pub pass: i64,
}

/// The split of verdicts within one profile attribute.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttributeSplit {
    /// `age_band`, `district` or `wmo_experience`.
    pub attribute: String,
    /// Groups of reacting panelists who consented to share it; groups under 5 (and
    /// those that would reveal them) are suppressed.
    #[schema(value_type = Object)]
    pub groups: GroupTable,
    /// Per shown group, the verdict split.
    #[schema(value_type = Object)]
    pub verdicts: BTreeMap<String, Vec<Share>>,
}

/// The analysis of one case.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseAnalysis {
    /// Case id.
    pub case_id: i64,
    /// Participation.
    pub participation: Participation,
    /// Verdicts with 95% Wilson intervals.
    #[schema(value_type = Vec<Object>)]
    pub verdicts: Vec<Share>,
    /// The same split per consented profile attribute.
    pub by_profile: Vec<AttributeSplit>,
    /// Posts per day (UTC), oldest first.
    pub activity: Vec<(String, u64)>,
    /// Reactions agreeing with the decision, best weighed first (top 10).
    pub arguments_for: Vec<RankedArgument>,
    /// Reactions disagreeing with the decision, best weighed first (top 10).
    pub arguments_against: Vec<RankedArgument>,
    /// The 25 most frequent terms, Dutch stop words removed.
    pub terms: Vec<(String, u64)>,
    /// Opinion groups from the weighings (statements are post ids).
    #[schema(value_type = Object)]
    pub opinion: OpinionMap,
}

/// What the panel thought, for panelists after the case closed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseOutcome {
    /// Case id.
    pub case_id: i64,
    /// How many panelists gave a verdict.
    pub reacted: u64,
    /// The verdict split with 95% Wilson intervals.
    #[schema(value_type = Vec<Object>)]
    pub verdicts: Vec<Share>,
    /// The three best-weighed arguments agreeing with the decision.
    pub arguments_for: Vec<RankedArgument>,
    /// The three best-weighed arguments disagreeing with it.
    pub arguments_against: Vec<RankedArgument>,
    /// The municipality's written response, once given.
    pub response: Option<String>,
}

impl Service {
    /// The analysis of a case, for its municipality's analysts and admins.
    pub async fn case_analysis(&self, actor: &Actor, case_id: i64) -> Result<CaseAnalysis> {
        let db = self.store.db();
        let case = cases::case_by_id(db, case_id)
            .await?
            .ok_or_else(|| Error::not_found("case_not_found"))?;
        policy::require_role(actor, case.municipality_id, Role::Analyst, "case_not_found")?;
        self.analyse(&case).await
    }

    /// The panel's outcome for everyone who may see a closed case: the verdict split,
    /// the best-weighed arguments on each side and the municipality's response, so that
    /// taking part visibly leads somewhere.
    pub async fn case_outcome(&self, actor: &Actor, case_id: i64) -> Result<CaseOutcome> {
        let case = self.visible_case(actor, case_id).await?;
        if !matches!(case.status.as_str(), "closed" | "archived") {
            return Err(Error::conflict(
                "case_not_closed",
                "De uitkomst is er zodra de casus gesloten is.",
            ));
        }
        let mut a = self.analyse(&case).await?;
        a.arguments_for.truncate(3);
        a.arguments_against.truncate(3);
        Ok(CaseOutcome {
            case_id,
            reacted: a.participation.reacted,
            verdicts: a.verdicts,
            arguments_for: a.arguments_for,
            arguments_against: a.arguments_against,
            response: case.response,
        })
    }

    async fn analyse(&self, case: &crate::store::entities::case::Model) -> Result<CaseAnalysis> {
        let db = self.store.db();
        let case_id = case.id;
        let panel_ids = cases::panels_of_case(db, case_id).await?;
        let panelists = people::panelists_of_panels(db, &panel_ids).await?;
        let all_posts = posts::posts_of_case(db, case_id).await?;
        let weighings = posts::weighings_of_case(db, case_id).await?;
        let live: Vec<&post::Model> = all_posts
            .iter()
            .filter(|p| {
                p.status != PostStatus::Withdrawn.as_str()
                    && p.status != PostStatus::Rejected.as_str()
            })
            .collect();
        let reactions: Vec<&post::Model> = live
            .iter()
            .copied()
            .filter(|p| p.parent_id.is_none())
            .collect();

        let distinct =
            |ids: &mut dyn Iterator<Item = i64>| ids.collect::<HashSet<i64>>().len() as u64;
        let participation = Participation {
            invited: panelists.len() as u64,
            logged_in: panelists
                .iter()
                .filter(|p| p.first_login_at.is_some())
                .count() as u64,
            reacted: distinct(&mut reactions.iter().map(|p| p.panelist_id)),
            replied: distinct(
                &mut live
                    .iter()
                    .filter(|p| p.parent_id.is_some())
                    .map(|p| p.panelist_id),
            ),
            weighed: distinct(&mut weighings.iter().map(|w| w.panelist_id)),
        };

        let count_verdicts = |list: &[&post::Model]| -> Vec<(String, u64)> {
            Verdict::ALL
                .iter()
                .map(|v| {
                    let n = list
                        .iter()
                        .filter(|p| p.verdict.as_deref() == Some(v.as_str()))
                        .count();
                    (v.as_str().to_owned(), n as u64)
                })
                .collect()
        };
        let verdicts = stats::verdict_split(&count_verdicts(&reactions));

        let profiles: HashMap<i64, &crate::store::entities::panelist::Model> =
            panelists.iter().map(|p| (p.id, p)).collect();
        type Attr = fn(&crate::store::entities::panelist::Model) -> Option<&String>;
        let attributes: [(&str, Attr); 3] = [
            ("age_band", |p| p.age_band.as_ref()),
            ("district", |p| p.district.as_ref()),
            ("wmo_experience", |p| p.wmo_experience.as_ref()),
        ];
        let mut by_profile = Vec::new();
        for (name, get) in attributes {
            let mut groups: BTreeMap<String, Vec<&post::Model>> = BTreeMap::new();
            for r in &reactions {
                if let Some(p) = profiles.get(&r.panelist_id).filter(|p| p.profile_consent)
                    && let Some(value) = get(p)
                {
                    groups.entry(value.clone()).or_default().push(r);
                }
            }
            let table = stats::suppress_small_groups(
                groups
                    .iter()
                    .map(|(k, v)| (k.clone(), v.len() as u64))
                    .collect(),
                MIN_GROUP_SIZE,
            );
            let shown: HashSet<&str> = table
                .cells
                .iter()
                .filter(|c| !c.suppressed)
                .map(|c| c.label.as_str())
                .collect();
            let verdicts = groups
                .iter()
                .filter(|(k, _)| shown.contains(k.as_str()))
                .map(|(k, v)| (k.clone(), stats::verdict_split(&count_verdicts(v))))
                .collect();
            by_profile.push(AttributeSplit {
                attribute: name.to_owned(),
                groups: table,
                verdicts,
            });
        }

        let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
        for p in &live {
            *per_day
                .entry(p.created_at.format("%Y-%m-%d").to_string())
                .or_insert(0) += 1;
        }

        let ids: Vec<i64> = reactions.iter().map(|p| p.id).collect();
        let counts = posts::weighing_counts(db, &ids).await?;
        let mut authors: Vec<i64> = reactions.iter().map(|p| p.panelist_id).collect();
        authors.sort_unstable();
        authors.dedup();
        let names = posts::pseudonyms(db, &authors).await?;
        let ranked = |verdict: Verdict| -> Vec<RankedArgument> {
            let mut list: Vec<RankedArgument> = reactions
                .iter()
                .filter(|p| {
                    p.status == PostStatus::Visible.as_str()
                        && p.verdict.as_deref() == Some(verdict.as_str())
                })
                .map(|p| {
                    let c = counts.get(&p.id).copied().unwrap_or_default();
                    RankedArgument {
                        post_id: p.id,
                        author: names.get(&p.panelist_id).cloned().unwrap_or_default(),
                        body: p.body.clone(),
                        agree: c.agree,
                        disagree: c.disagree,
                        pass: c.pass,
                    }
                })
                .collect();
            list.sort_by_key(|a| {
                (
                    std::cmp::Reverse(a.agree - a.disagree),
                    std::cmp::Reverse(a.agree),
                    a.post_id,
                )
            });
            list.truncate(10);
            list
        };

        let texts: Vec<String> = live
            .iter()
            .filter(|p| p.status == PostStatus::Visible.as_str())
            .map(|p| p.body.clone())
            .collect();
        let votes: Vec<Vote> = weighings
            .iter()
            .map(|w| Vote {
                participant: w.panelist_id as u64,
                statement: w.post_id as u64,
                value: match w.value.as_str() {
                    "agree" => 1,
                    "disagree" => -1,
                    _ => 0,
                },
            })
            .collect();
        // The opinion map and the term count take up to a few hundred milliseconds for
        // a large case: off the async workers, so live delivery and other requests on
        // this node keep flowing while a dashboard is computed.
        let (terms, opinion) = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            (
                terms::frequent_terms(&refs, 25),
                opinion::opinion_map(&votes, &OpinionSettings::default()),
            )
        })
        .await
        .map_err(|e| Error::Internal(format!("analysis task failed: {e}")))?;

        Ok(CaseAnalysis {
            case_id,
            participation,
            verdicts,
            by_profile,
            activity: per_day.into_iter().collect(),
            arguments_for: ranked(Verdict::Agree),
            arguments_against: ranked(Verdict::Disagree),
            terms,
            opinion,
        })
    }
}
