//! The per-case analysis staff read: participation, the verdict split with 95% Wilson
//! intervals, the split by consented profile attributes with small groups suppressed,
//! activity per day, arguments ranked by weighing, frequent terms and opinion groups.
//! The numbers come from `crate::analysis`; this module reads the data and decides who
//! may see it (analysts and admins of the case's municipality). It also gathers what
//! the staff pages show around those numbers: the live watch of a case, the dashboard,
//! the printable report and the quotes staff choose for it.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use utoipa::ToSchema;

use chrono::{DateTime, Utc};

use super::cases::CaseView;
use super::error::{Error, Result};
use super::policy::Actor;
use super::posts::ThreadPage;
use super::{AuditContext, Service};
use crate::analysis::opinion::{self, OpinionMap, OpinionSettings, Vote};
use crate::analysis::stats::{self, GroupTable, MIN_GROUP_SIZE, Share};
use crate::analysis::terms;
use crate::domain::{PostStatus, Role, Verdict};
use crate::store::entities::post;
use crate::store::{audit, cases, draws, people, posts, reports};

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
    /// The three best-weighed arguments agreeing with the decision, among those that
    /// convinced more panelists than they did not.
    pub arguments_for: Vec<RankedArgument>,
    /// The same for the arguments disagreeing with it.
    pub arguments_against: Vec<RankedArgument>,
    /// The municipality's written response, once given.
    pub response: Option<String>,
}

/// Posts shown per page of the staff's live thread.
const WATCH_PAGE: u64 = 100;

/// A visible post's text as the staff pages quote it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PostText {
    /// The post.
    pub post_id: i64,
    /// Its author's pseudonym.
    pub author: String,
    /// The verdict of a reaction; none for a reply.
    pub verdict: Option<Verdict>,
    /// Whether it is a reply rather than a reaction.
    pub reply: bool,
    /// Its text.
    pub body: String,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
}

/// What the staff's live view of a case holds.
#[derive(Clone, Debug)]
pub struct CaseWatch {
    /// The case with its tally.
    pub case: CaseView,
    /// A page of the thread, every post with its moderation state.
    pub thread: ThreadPage,
    /// The analysis, for analysts and admins (moderators watch without it).
    pub analysis: Option<CaseAnalysis>,
}

/// What the analysis dashboard of a case holds.
#[derive(Clone, Debug)]
pub struct CaseDashboard {
    /// The case.
    pub case: CaseView,
    /// The analysis.
    pub analysis: CaseAnalysis,
    /// The text of every visible post the opinion groups refer to, by post id.
    pub statements: HashMap<i64, PostText>,
    /// How many quotes are chosen for the report (and still visible).
    pub quotes: usize,
}

/// The printable report of a case.
#[derive(Clone, Debug)]
pub struct CaseReport {
    /// The case, with the municipality's response.
    pub case: CaseView,
    /// The analysis.
    pub analysis: CaseAnalysis,
    /// The text of every visible post the opinion groups refer to, by post id.
    pub statements: HashMap<i64, PostText>,
    /// The chosen quotes whose posts are still visible, in the order chosen.
    pub quotes: Vec<PostText>,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
}

/// A visible post staff may choose as a quote.
#[derive(Clone, Debug)]
pub struct QuoteCandidate {
    /// The post.
    pub post: PostText,
    /// Whether it is chosen.
    pub chosen: bool,
}

/// The municipality's response and the quote choice of a case.
#[derive(Clone, Debug)]
pub struct ReportChoices {
    /// The case, with the response written so far.
    pub case: CaseView,
    /// Whether the actor may write the response (admins).
    pub may_respond: bool,
    /// Every visible post of the case in thread order, with whether it is quoted.
    pub candidates: Vec<QuoteCandidate>,
}

impl Service {
    /// The analysis of a case, for its municipality's analysts and admins.
    pub async fn case_analysis(&self, actor: &Actor, case_id: i64) -> Result<CaseAnalysis> {
        let case = self.analyst_case(actor, case_id).await?;
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
        // "Strongest" means it convinced more panelists than it did not: an argument
        // weighed once for and three times against is not one of them.
        for list in [&mut a.arguments_for, &mut a.arguments_against] {
            list.retain(|arg| arg.agree > arg.disagree);
            list.truncate(3);
        }
        Ok(CaseOutcome {
            case_id,
            reacted: a.participation.reacted,
            verdicts: a.verdicts,
            arguments_for: a.arguments_for,
            arguments_against: a.arguments_against,
            response: case.response,
        })
    }

    /// The staff's live view of a case: the case with its tally, a page of the thread
    /// with every post's moderation state, and (for analysts and admins) the analysis
    /// for the participation and activity numbers. Any staff member of the case's
    /// municipality may watch; panelists may not.
    pub async fn case_watch(
        &self,
        actor: &Actor,
        case_id: i64,
        cursor: Option<&str>,
    ) -> Result<CaseWatch> {
        let Actor::Staff(staff) = actor else {
            return Err(Error::forbidden(
                "staff_only",
                "Deze pagina is voor medewerkers van de gemeente.",
            ));
        };
        let model = self.visible_case(actor, case_id).await?;
        let case = self.get_case(actor, case_id).await?;
        let thread = self
            .thread(actor, case_id, cursor, Some(WATCH_PAGE))
            .await?;
        let analysis = if staff.has_role(model.municipality_id, Role::Analyst) {
            Some(self.analyse(&model).await?)
        } else {
            None
        };
        Ok(CaseWatch {
            case,
            thread,
            analysis,
        })
    }

    /// The analysis dashboard of a case (analysts and admins): the analysis, the texts
    /// of the posts its opinion groups refer to and how many quotes are chosen.
    pub async fn case_dashboard(&self, actor: &Actor, case_id: i64) -> Result<CaseDashboard> {
        let model = self.analyst_case(actor, case_id).await?;
        let case = self.get_case(actor, case_id).await?;
        let analysis = self.analyse(&model).await?;
        let statements = self.statement_texts(case_id, &analysis.opinion).await?;
        let quotes = self.visible_quotes(case_id).await?.len();
        Ok(CaseDashboard {
            case,
            analysis,
            statements,
            quotes,
        })
    }

    /// The printable report of a case (analysts and admins): the case, the analysis,
    /// the chosen quotes that are still visible and the municipality's response.
    pub async fn case_report(&self, actor: &Actor, case_id: i64) -> Result<CaseReport> {
        let model = self.analyst_case(actor, case_id).await?;
        let case = self.get_case(actor, case_id).await?;
        let analysis = self.analyse(&model).await?;
        let statements = self.statement_texts(case_id, &analysis.opinion).await?;
        let quotes = self.visible_quotes(case_id).await?;
        Ok(CaseReport {
            case,
            analysis,
            statements,
            quotes,
            generated_at: self.now(),
        })
    }

    /// The visible posts of a case that analysts and admins may quote in the report,
    /// with whether each is chosen, and whether the actor may write the response.
    pub async fn report_choices(&self, actor: &Actor, case_id: i64) -> Result<ReportChoices> {
        let model = self.analyst_case(actor, case_id).await?;
        let may_respond =
            matches!(actor, Actor::Staff(s) if s.has_role(model.municipality_id, Role::Admin));
        let case = self.get_case(actor, case_id).await?;
        let db = self.store.db();
        let chosen: HashSet<i64> = reports::quotes_of_case(db, case_id)
            .await?
            .into_iter()
            .map(|q| q.post_id)
            .collect();
        let mut visible: Vec<post::Model> = posts::posts_of_case(db, case_id)
            .await?
            .into_iter()
            .filter(|p| p.status == PostStatus::Visible.as_str())
            .collect();
        visible.sort_by(|a, b| a.thread_path.cmp(&b.thread_path));
        let candidates = self
            .post_texts(visible)
            .await?
            .into_iter()
            .map(|post| QuoteCandidate {
                chosen: chosen.contains(&post.post_id),
                post,
            })
            .collect();
        Ok(ReportChoices {
            case,
            may_respond,
            candidates,
        })
    }

    /// Sets which visible posts of a case the report quotes (analysts and admins):
    /// `post_ids` become the chosen set among the case's visible posts. Quotes of posts
    /// that are not visible now are kept, so that a post restored later returns to the
    /// report. Audited as `report.quotes`. Returns how many visible posts are quoted.
    pub async fn set_report_quotes(
        &self,
        actor: &Actor,
        case_id: i64,
        post_ids: &[i64],
        ctx: &AuditContext,
    ) -> Result<usize> {
        let db = self.store.db();
        let (case, staff) = self.case_for_role(actor, case_id, Role::Analyst).await?;
        if post_ids.len() > 1000 {
            return Err(Error::invalid(
                "too_many_quotes",
                "Kies hoogstens 1000 citaten.",
            ));
        }
        let wanted: HashSet<i64> = post_ids.iter().copied().collect();
        let mut ids: Vec<i64> = wanted.iter().copied().collect();
        ids.sort_unstable();
        let found = posts::posts_by_ids(db, &ids).await?;
        let visible: HashSet<i64> = found
            .iter()
            .filter(|p| p.case_id == case_id && p.status == PostStatus::Visible.as_str())
            .map(|p| p.id)
            .collect();
        if visible.len() != wanted.len() {
            return Err(Error::invalid(
                "quote_not_visible",
                "Alleen zichtbare berichten van deze casus kunnen als citaat worden gekozen.",
            ));
        }
        let existing = reports::quotes_of_case(db, case_id).await?;
        let existing_posts: Vec<i64> = existing.iter().map(|q| q.post_id).collect();
        let existing_visible: HashSet<i64> = posts::posts_by_ids(db, &existing_posts)
            .await?
            .into_iter()
            .filter(|p| p.status == PostStatus::Visible.as_str())
            .map(|p| p.id)
            .collect();
        let mut added: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !existing_posts.contains(id))
            .collect();
        added.sort_unstable();
        let mut removed: Vec<i64> = existing_visible.difference(&wanted).copied().collect();
        removed.sort_unstable();
        let now = self.now();
        let tx = self.store.begin_write().await?;
        reports::remove_quotes(&*tx, case_id, &removed).await?;
        for post_id in &added {
            reports::add_quote(&*tx, case_id, *post_id, staff.id, now).await?;
        }
        audit::append(
            &*tx,
            ctx.entry(
                Some(case.municipality_id),
                "report.quotes",
                "case",
                case_id.to_string(),
                serde_json::json!({"added": added, "removed": removed}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(wanted.len())
    }

    /// Loads a case for an analyst or admin of its municipality.
    async fn analyst_case(
        &self,
        actor: &Actor,
        case_id: i64,
    ) -> Result<crate::store::entities::case::Model> {
        self.case_for_role(actor, case_id, Role::Analyst)
            .await
            .map(|(case, _)| case)
    }

    /// The chosen quotes of a case whose posts are visible, in the order chosen.
    async fn visible_quotes(&self, case_id: i64) -> Result<Vec<PostText>> {
        let db = self.store.db();
        let order: Vec<i64> = reports::quotes_of_case(db, case_id)
            .await?
            .into_iter()
            .map(|q| q.post_id)
            .collect();
        let found: Vec<post::Model> = posts::posts_by_ids(db, &order)
            .await?
            .into_iter()
            .filter(|p| p.case_id == case_id && p.status == PostStatus::Visible.as_str())
            .collect();
        let mut texts = self.post_texts(found).await?;
        texts.sort_by_key(|t| order.iter().position(|id| *id == t.post_id));
        Ok(texts)
    }

    /// The texts of the visible posts an opinion map refers to, by post id.
    async fn statement_texts(
        &self,
        case_id: i64,
        map: &OpinionMap,
    ) -> Result<HashMap<i64, PostText>> {
        let mut ids: Vec<i64> = map
            .groups
            .iter()
            .flat_map(|g| g.representative.iter().map(|r| r.statement))
            .chain(map.consensus.iter().map(|c| c.statement))
            .filter_map(|id| i64::try_from(id).ok())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let found: Vec<post::Model> = posts::posts_by_ids(self.store.db(), &ids)
            .await?
            .into_iter()
            .filter(|p| p.case_id == case_id && p.status == PostStatus::Visible.as_str())
            .collect();
        Ok(self
            .post_texts(found)
            .await?
            .into_iter()
            .map(|t| (t.post_id, t))
            .collect())
    }

    /// Posts as quotable texts, with their authors' pseudonyms, in the order given.
    async fn post_texts(&self, list: Vec<post::Model>) -> Result<Vec<PostText>> {
        let authors: Vec<(i64, i64)> = list.iter().map(|p| (p.case_id, p.panelist_id)).collect();
        let names = crate::store::names::display_names(self.store.db(), &authors).await?;
        Ok(list
            .into_iter()
            .map(|p| PostText {
                post_id: p.id,
                author: super::posts::display_name(&names, &p),
                verdict: p.verdict.as_deref().and_then(Verdict::parse),
                reply: p.parent_id.is_some(),
                body: p.body,
                created_at: p.created_at,
            })
            .collect())
    }

    async fn analyse(&self, case: &crate::store::entities::case::Model) -> Result<CaseAnalysis> {
        let db = self.store.db();
        let case_id = case.id;
        let panel_ids = cases::panels_of_case(db, case_id).await?;
        let mut panelists = people::panelists_of_panels(db, &panel_ids).await?;
        // A drawn case's panel is the people seated in its draw, not its whole pool.
        if let Some(seated) = draws::seated_of_case(db, case_id).await? {
            panelists.retain(|p| seated.contains(&p.id));
        }
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
        let authors: Vec<(i64, i64)> = reactions
            .iter()
            .map(|p| (p.case_id, p.panelist_id))
            .collect();
        let names = crate::store::names::display_names(db, &authors).await?;
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
                        author: super::posts::display_name(&names, p),
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
