//! The draw of a case's panel from its pool (the panelists of the panels the case is put
//! before): staff set the size, the seed and the targets per feature value, the service
//! plans the maximin lottery ([`crate::domain::draw`]), casts it, stores every input so
//! the draw can be redone, reports targets against the result, verifies a stored draw and
//! tops it up with replacements from the same strata. Once a case has a draw, only its
//! seated panelists see the case.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::error::{Error, Result};
use super::policy::{self, Actor};
use super::{AuditContext, Person, Service};
use crate::analysis::stats::{self, FunnelStep, MIN_GROUP_SIZE};
use crate::domain::draw::{self as lottery, Feature, Member, Quota, Spec, UNKNOWN};
use crate::domain::{CaseStatus, PostStatus, Role};
use crate::store::entities::{case, draw, draw_member, panelist};
use crate::store::{audit, cases, draws, people, posts};

/// How long planning a lottery may take before the draw gives up.
const PLAN_BUDGET: Duration = Duration::from_secs(30);
/// Largest seed text.
const SEED_MAX: usize = 200;
/// Largest tolerance, in seats.
const TOLERANCE_MAX: u32 = 50;

/// A profile feature a draw can balance on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DrawFeature {
    /// Age band (`18-34`, `35-49`, `50-64`, `65-74`, `75+`).
    AgeBand,
    /// District, as panelists gave it.
    District,
    /// Own experience with the Wmo (`zelf`, `naaste`, `geen`).
    WmoExperience,
}

impl DrawFeature {
    /// Every feature.
    pub const ALL: [DrawFeature; 3] = [
        DrawFeature::AgeBand,
        DrawFeature::District,
        DrawFeature::WmoExperience,
    ];

    /// The word the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DrawFeature::AgeBand => "age_band",
            DrawFeature::District => "district",
            DrawFeature::WmoExperience => "wmo_experience",
        }
    }

    /// Parses the API word.
    pub fn parse(word: &str) -> Option<DrawFeature> {
        DrawFeature::ALL.into_iter().find(|f| f.as_str() == word)
    }

    /// A panelist's value: their consented answer, or `onbekend`.
    pub fn value_of(self, p: &panelist::Model) -> String {
        let answer = if p.profile_consent {
            match self {
                DrawFeature::AgeBand => p.age_band.as_deref(),
                DrawFeature::District => p.district.as_deref(),
                DrawFeature::WmoExperience => p.wmo_experience.as_deref(),
            }
        } else {
            None
        };
        answer
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .unwrap_or(UNKNOWN)
            .to_string()
    }
}

impl crate::domain::ClosedSet for DrawFeature {
    fn all() -> &'static [Self] {
        &DrawFeature::ALL
    }
}

/// Targets for one feature: a share per value (values left out get share 0). `onbekend`
/// is a value of its own.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeatureTargets {
    /// The feature.
    pub feature: DrawFeature,
    /// Target share per value, from 0 to 1; they add up to 1. Left out (or empty): the
    /// municipality's population figures for this feature.
    #[serde(default)]
    pub shares: BTreeMap<String, f64>,
}

/// What staff ask of a draw.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"size": 2, "seed": "trekking 28 november: 7 14 21", "tolerance": 2, "features": [{"feature": "wmo_experience", "shares": {"zelf": 0.2, "naaste": 0.2, "geen": 0.5, "onbekend": 0.1}}]})))]
pub struct DrawRequest {
    /// Seats, e.g. 250.
    pub size: u32,
    /// The seed recorded before the draw, e.g. the numbers of a public lottery; anyone
    /// with the inputs can redo the draw from it.
    pub seed: String,
    /// Seats a value may be off its target either way (default 2).
    #[serde(default = "default_tolerance")]
    #[schema(maximum = 50)]
    pub tolerance: u32,
    /// Features to balance on, with their targets.
    #[serde(default)]
    pub features: Vec<FeatureTargets>,
}

fn default_tolerance() -> u32 {
    2
}

/// One value of a balanced feature in the report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ValueReport {
    /// The value (`onbekend` for no consented answer).
    pub value: String,
    /// Target share.
    pub target: f64,
    /// Fewest seats allowed.
    pub min_seats: u32,
    /// Most seats allowed.
    pub max_seats: u32,
    /// Pool members with this value.
    pub pool: u32,
    /// Seated now.
    pub seated: u32,
    /// Seated share.
    pub share: f64,
    /// Whether the seats are within the bounds.
    pub within: bool,
}

/// One balanced feature in the report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FeatureReport {
    /// The feature.
    pub feature: DrawFeature,
    /// Per value.
    pub values: Vec<ValueReport>,
}

/// A draw as staff read it: what was asked, what came out, and what makes it checkable.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DrawReport {
    /// The case.
    pub case_id: i64,
    /// Seats.
    pub size: u32,
    /// The recorded seed.
    pub seed: String,
    /// Tolerance in seats.
    pub tolerance: u32,
    /// Pool members at the time of the draw.
    pub pool: u32,
    /// Seated now (the draw and its replacements).
    pub seated: u32,
    /// Seated and then replaced for not responding.
    pub replaced: u32,
    /// The case's response among the seated: `drawn`, `used` (logged in at least once)
    /// and `reacted` (wrote a reaction in the case), with the analysis's small-number
    /// suppression: a step (or its remainder) under 5 is hidden.
    #[schema(value_type = Vec<Object>)]
    pub response: Vec<FunnelStep>,
    /// The smallest chance of any pool member who could be seated (the maximin value).
    pub min_probability: f64,
    /// The largest chance of any pool member.
    pub max_probability: f64,
    /// Pool members no panel meeting the targets could seat (chance 0).
    pub unseatable: u32,
    /// Panels in the lottery.
    pub lottery_panels: u32,
    /// SHA-256 of the canonical inputs.
    pub inputs_hash: String,
    /// Top-up rounds held.
    pub top_ups: u32,
    /// Per feature: targets against what was attained.
    pub features: Vec<FeatureReport>,
    /// When the draw was made.
    pub created_at: DateTime<Utc>,
}

/// The outcome of redoing a stored draw.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DrawCheck {
    /// Whether the stored inputs still hash to the recorded hash.
    pub inputs_match: bool,
    /// Whether redoing the draw seats exactly the people it seated.
    pub selection_matches: bool,
    /// The maximin value found again.
    pub min_probability: f64,
}

/// The outcome of a top-up.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TopUpResult {
    /// Seats given to replacements.
    pub replaced: u32,
    /// Seated non-responders for whose stratum nobody was left.
    pub unfilled: u32,
    /// The report after the top-up.
    pub report: DrawReport,
}

/// A municipality's population share of one feature value.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"feature": "age_band", "value": "18-34", "share": 0.27})))]
pub struct PopulationShare {
    /// The feature.
    pub feature: DrawFeature,
    /// The value.
    pub value: String,
    /// Share, from 0 to 1.
    pub share: f64,
}

/// The stored spec of a draw.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct StoredSpec {
    features: Vec<StoredFeature>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
struct StoredFeature {
    feature: DrawFeature,
    shares: BTreeMap<String, f64>,
    quotas: BTreeMap<String, Quota>,
}

fn check_shares(feature: DrawFeature, shares: &BTreeMap<String, f64>) -> Result<()> {
    if shares.is_empty() {
        return Err(Error::invalid(
            "targets_missing",
            format!(
                "Geef streefaandelen voor '{}', of leg eerst bevolkingscijfers vast.",
                feature.as_str()
            ),
        ));
    }
    for (value, share) in shares {
        if value.trim().is_empty() || value.chars().count() > 80 {
            return Err(Error::invalid(
                "invalid_field",
                "Een waarde moet 1 tot 80 tekens lang zijn.",
            ));
        }
        if !share.is_finite() || !(0.0..=1.0).contains(share) {
            return Err(Error::invalid(
                "invalid_share",
                format!("Het aandeel van '{value}' moet tussen 0 en 1 liggen."),
            ));
        }
    }
    let total: f64 = shares.values().sum();
    if (total - 1.0).abs() > 0.01 {
        return Err(Error::invalid(
            "shares_do_not_add_up",
            format!(
                "De streefaandelen voor '{}' tellen op tot {:.1}% in plaats van 100%.",
                feature.as_str(),
                total * 100.0
            ),
        ));
    }
    Ok(())
}

/// SHA-256 of the canonical inputs: the case, seed, size, quotas and every pool member
/// with their type and deficit (to a millionth), in id order.
fn inputs_hash(case_id: i64, seed: &str, spec: &Spec, members: &[Member]) -> String {
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by_key(|m| m.id);
    let canonical = serde_json::json!({
        "version": 1,
        "case": case_id,
        "seed": seed,
        "size": spec.size,
        "features": spec.features,
        "pool": sorted
            .iter()
            .map(|m| serde_json::json!([m.id, m.values, (m.deficit * 1e6).round() as i64]))
            .collect::<Vec<_>>(),
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn to_spec(size: u32, stored: &StoredSpec) -> Spec {
    Spec {
        size,
        features: stored
            .features
            .iter()
            .map(|f| Feature {
                name: f.feature.as_str().to_string(),
                quotas: f.quotas.clone(),
            })
            .collect(),
    }
}

/// Plans the lottery and casts round 0 of it from the seed, on the blocking pool (the
/// solver may take a while). The draw and its check both go through here.
async fn cast(
    spec: Spec,
    members: Vec<Member>,
    case_id: i64,
    seed: String,
) -> Result<(lottery::Plan, lottery::Selection, Vec<Member>)> {
    tokio::task::spawn_blocking(move || {
        let plan = lottery::plan(&spec, &members, PLAN_BUDGET)?;
        let selection = lottery::select(&plan, &members, &mut lottery::stream(case_id, &seed, 0));
        Ok::<_, lottery::DrawError>((plan, selection, members))
    })
    .await
    .map_err(|e| Error::Internal(format!("draw task failed: {e}")))?
    .map_err(plan_error)
}

fn plan_error(e: lottery::DrawError) -> Error {
    use lottery::DrawError as E;
    match e {
        E::PoolTooSmall { pool, size } => Error::invalid(
            "pool_too_small",
            format!("De pool telt {pool} panelleden, minder dan de {size} plaatsen."),
        ),
        E::TooFewInPool {
            feature,
            value,
            min,
            available,
        } => Error::invalid(
            "targets_unreachable",
            format!(
                "Voor {feature} = {value} zijn minstens {min} plaatsen nodig, maar de pool telt er {available}. Verlaag het streefaandeel of verhoog de marge."
            ),
        ),
        E::Infeasible => Error::invalid(
            "targets_unreachable",
            "Geen panel van deze omvang haalt alle streefaandelen tegelijk. Verhoog de marge of balanceer op minder kenmerken.",
        ),
        E::Solver(why) => Error::Internal(format!("draw planning failed: {why}")),
    }
}

impl Service {
    /// Loads a case for staff who may run its draw (admins of its municipality), or for
    /// the operator at the command line (`None`).
    async fn draw_case(&self, actor: Option<&Actor>, case_id: i64) -> Result<case::Model> {
        match actor {
            Some(actor) => self
                .case_for_role(actor, case_id, Role::Admin)
                .await
                .map(|(case, _)| case),
            None => cases::case_by_id(self.store.db(), case_id)
                .await?
                .ok_or_else(|| Error::not_found("case_not_found")),
        }
    }

    /// The pool of a case: every panelist of the panels it is put before.
    async fn pool_of(&self, case_id: i64) -> Result<Vec<panelist::Model>> {
        let db = self.store.db();
        let panels = cases::panels_of_case(db, case_id).await?;
        let mut pool = people::panelists_of_panels(db, &panels).await?;
        pool.sort_by_key(|p| p.id);
        Ok(pool)
    }

    /// Draws the case's panel. Allowed until the case opens; a second draw before then
    /// replaces the first (both audited).
    pub async fn make_draw(
        &self,
        actor: Option<&Actor>,
        case_id: i64,
        request: DrawRequest,
        audit_ctx: &AuditContext,
    ) -> Result<DrawReport> {
        let case = self.draw_case(actor, case_id).await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Draft);
        if !matches!(status, CaseStatus::Draft | CaseStatus::Scheduled) {
            return Err(Error::conflict(
                "case_already_open",
                "Deze casus is al geopend; de loting ligt vast. Vul hem zo nodig aan met vervangers.",
            ));
        }
        let seed = request.seed.trim().to_string();
        if seed.is_empty() || seed.chars().count() > SEED_MAX {
            return Err(Error::invalid_fields(
                "invalid_field",
                "Leg vooraf een startgetal (seed) vast van 1 tot 200 tekens, bijvoorbeeld een openbaar getrokken getal.",
                vec!["seed"],
            ));
        }
        if request.size == 0 {
            return Err(Error::invalid_fields(
                "invalid_field",
                "Het aantal plaatsen moet minstens 1 zijn.",
                vec!["size"],
            ));
        }
        if request.tolerance > TOLERANCE_MAX {
            return Err(Error::invalid_fields(
                "invalid_field",
                format!("De marge is hoogstens {TOLERANCE_MAX} plaatsen."),
                vec!["tolerance"],
            ));
        }
        let mut seen = Vec::new();
        for f in &request.features {
            if seen.contains(&f.feature) {
                return Err(Error::invalid(
                    "invalid_field",
                    format!(
                        "Het kenmerk '{}' staat er twee keer in.",
                        f.feature.as_str()
                    ),
                ));
            }
            seen.push(f.feature);
        }
        let population = draws::population_of(self.store.db(), case.municipality_id).await?;
        let pool = self.pool_of(case_id).await?;
        let existing = draws::draw_of_case(self.store.db(), case_id).await?;
        let deficits = draws::deficits(
            self.store.db(),
            &pool.iter().map(|p| p.id).collect::<Vec<_>>(),
            existing.as_ref().map(|d| d.id),
        )
        .await?;

        let mut stored = Vec::new();
        for f in &request.features {
            let shares = if f.shares.is_empty() {
                population
                    .iter()
                    .filter(|p| p.feature == f.feature.as_str())
                    .map(|p| (p.value.clone(), p.share))
                    .collect()
            } else {
                f.shares.clone()
            };
            check_shares(f.feature, &shares)?;
            let mut quotas: BTreeMap<String, Quota> = shares
                .iter()
                .map(|(v, s)| {
                    (
                        v.clone(),
                        Quota::from_share(*s, request.size, request.tolerance),
                    )
                })
                .collect();
            // A value in the pool without a target gets share 0 and the tolerance.
            for p in &pool {
                quotas
                    .entry(f.feature.value_of(p))
                    .or_insert_with(|| Quota::from_share(0.0, request.size, request.tolerance));
            }
            stored.push(StoredFeature {
                feature: f.feature,
                shares,
                quotas,
            });
        }
        let stored = StoredSpec { features: stored };
        let spec = to_spec(request.size, &stored);
        let members: Vec<Member> = pool
            .iter()
            .map(|p| Member {
                id: p.id,
                values: stored
                    .features
                    .iter()
                    .map(|f| f.feature.value_of(p))
                    .collect(),
                deficit: deficits.get(&p.id).copied().unwrap_or(0.0),
            })
            .collect();
        let hash = inputs_hash(case_id, &seed, &spec, &members);
        let (plan, selection, members) = cast(spec, members, case_id, seed.clone()).await?;

        let now = self.now();
        let tx = self.store.begin_write().await?;
        // Re-read under the write lock: the case may have opened meanwhile.
        let fresh = cases::case_by_id(&*tx, case_id)
            .await?
            .ok_or_else(|| Error::not_found("case_not_found"))?;
        if !matches!(
            CaseStatus::parse(&fresh.status),
            Some(CaseStatus::Draft | CaseStatus::Scheduled)
        ) {
            return Err(Error::conflict(
                "case_already_open",
                "Deze casus is al geopend; de loting ligt vast.",
            ));
        }
        let replaced_earlier = existing.is_some();
        draws::delete_draw(&*tx, case_id).await?;
        let staff_id = match actor {
            Some(Actor::Staff(s)) => Some(s.id),
            _ => None,
        };
        let row = draws::insert_draw(
            &*tx,
            draw::ActiveModel {
                case_id: Set(case_id),
                size: Set(request.size as i32),
                seed: Set(seed.clone()),
                tolerance: Set(request.tolerance as i32),
                spec: Set(serde_json::to_string(&stored).expect("spec serialises")),
                min_probability: Set(plan.min_probability),
                unseatable: Set(plan.unseatable as i32),
                lottery_panels: Set(plan.panels.len() as i32),
                chosen_panel: Set(selection.panel as i32),
                inputs_hash: Set(hash.clone()),
                top_ups: Set(0),
                staff_id: Set(staff_id),
                created_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
        let rows = members
            .iter()
            .map(|m| {
                let seated = selection.chosen.binary_search(&m.id).is_ok();
                draw_member::ActiveModel {
                    draw_id: Set(row.id),
                    panelist_id: Set(m.id),
                    type_key: Set(serde_json::to_string(&m.values).expect("values serialise")),
                    probability: Set(plan.probability_of(&m.values)),
                    deficit: Set(m.deficit),
                    status: Set(if seated {
                        draws::status::DRAWN
                    } else {
                        draws::status::POOL
                    }
                    .to_string()),
                    round: Set(0),
                    seated_at: Set(seated.then_some(now)),
                }
            })
            .collect();
        draws::insert_members(&*tx, rows).await?;
        audit::append(
            &*tx,
            audit_ctx.entry(
                Some(case.municipality_id),
                "case.draw",
                "case",
                case_id.to_string(),
                serde_json::json!({
                    "size": request.size,
                    "pool": members.len(),
                    "features": stored.features.iter().map(|f| f.feature).collect::<Vec<_>>(),
                    "tolerance": request.tolerance,
                    "min_probability": plan.min_probability,
                    "inputs_hash": hash,
                    "replaces_earlier_draw": replaced_earlier,
                }),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        // No socket can hold the case yet: it opens only after the draw is fixed.
        tracing::info!(
            case.id = case_id,
            draw.size = request.size,
            draw.pool = members.len(),
            draw.min_probability = plan.min_probability,
            draw.rounds = plan.rounds,
            "panel drawn"
        );
        self.draw_report(actor, case_id).await
    }

    /// The draw of a case as a report (`draw_not_found` without one).
    pub async fn draw_report(&self, actor: Option<&Actor>, case_id: i64) -> Result<DrawReport> {
        self.draw_case(actor, case_id).await?;
        let db = self.store.db();
        let d = draws::draw_of_case(db, case_id)
            .await?
            .ok_or_else(|| Error::not_found("draw_not_found"))?;
        let members = draws::members_of_draw(db, d.id).await?;
        let stored: StoredSpec = serde_json::from_str(&d.spec)
            .map_err(|e| Error::Internal(format!("stored draw spec unreadable: {e}")))?;
        let seated: Vec<&draw_member::Model> = members
            .iter()
            .filter(|m| m.status == draws::status::DRAWN)
            .collect();
        let seated_ids: Vec<i64> = seated.iter().map(|m| m.panelist_id).collect();
        let responded = draws::logged_in(db, &seated_ids).await?.len() as u64;
        let reactors: std::collections::HashSet<i64> = posts::posts_of_case(db, case_id)
            .await?
            .into_iter()
            .filter(|p| p.parent_id.is_none() && p.status != PostStatus::Withdrawn.as_str())
            .map(|p| p.panelist_id)
            .collect();
        let reacted = seated
            .iter()
            .filter(|m| reactors.contains(&m.panelist_id))
            .count() as u64;
        let types: Vec<Vec<String>> = members
            .iter()
            .map(|m| serde_json::from_str(&m.type_key).unwrap_or_default())
            .collect();
        let features = stored
            .features
            .iter()
            .enumerate()
            .map(|(f, sf)| {
                let mut values: Vec<ValueReport> = sf
                    .quotas
                    .iter()
                    .map(|(value, q)| {
                        let has = |i: usize| types[i].get(f) == Some(value);
                        let pool = (0..members.len()).filter(|&i| has(i)).count() as u32;
                        let seated_here = (0..members.len())
                            .filter(|&i| has(i) && members[i].status == draws::status::DRAWN)
                            .count() as u32;
                        ValueReport {
                            value: value.clone(),
                            target: sf.shares.get(value).copied().unwrap_or(0.0),
                            min_seats: q.min,
                            max_seats: q.max,
                            pool,
                            seated: seated_here,
                            share: if seated.is_empty() {
                                0.0
                            } else {
                                f64::from(seated_here) / seated.len() as f64
                            },
                            within: q.min <= seated_here && seated_here <= q.max,
                        }
                    })
                    .collect();
                values.sort_by(|a, b| {
                    (a.value == UNKNOWN)
                        .cmp(&(b.value == UNKNOWN))
                        .then(a.value.cmp(&b.value))
                });
                FeatureReport {
                    feature: sf.feature,
                    values,
                }
            })
            .collect();
        Ok(DrawReport {
            case_id,
            size: d.size as u32,
            seed: d.seed,
            tolerance: d.tolerance as u32,
            pool: members.len() as u32,
            seated: seated.len() as u32,
            replaced: members
                .iter()
                .filter(|m| m.status == draws::status::REPLACED)
                .count() as u32,
            response: stats::funnel(
                ("drawn", seated.len() as u64),
                &[("used", responded), ("reacted", reacted)],
                MIN_GROUP_SIZE,
            ),
            min_probability: d.min_probability,
            max_probability: members.iter().map(|m| m.probability).fold(0.0, f64::max),
            unseatable: d.unseatable as u32,
            lottery_panels: d.lottery_panels as u32,
            inputs_hash: d.inputs_hash,
            top_ups: d.top_ups as u32,
            features,
            created_at: d.created_at,
        })
    }

    /// Redoes a stored draw from its stored inputs and says whether it comes out the same.
    pub async fn verify_draw(&self, actor: Option<&Actor>, case_id: i64) -> Result<DrawCheck> {
        self.draw_case(actor, case_id).await?;
        let db = self.store.db();
        let d = draws::draw_of_case(db, case_id)
            .await?
            .ok_or_else(|| Error::not_found("draw_not_found"))?;
        let rows = draws::members_of_draw(db, d.id).await?;
        let stored: StoredSpec = serde_json::from_str(&d.spec)
            .map_err(|e| Error::Internal(format!("stored draw spec unreadable: {e}")))?;
        let spec = to_spec(d.size as u32, &stored);
        let members: Vec<Member> = rows
            .iter()
            .map(|r| Member {
                id: r.panelist_id,
                values: serde_json::from_str(&r.type_key).unwrap_or_default(),
                deficit: r.deficit,
            })
            .collect();
        // The draw's own seats: round 0, still seated or replaced since.
        let mut seated: Vec<i64> = rows
            .iter()
            .filter(|r| r.round == 0 && r.status != draws::status::POOL)
            .map(|r| r.panelist_id)
            .collect();
        seated.sort_unstable();
        let inputs_match = inputs_hash(case_id, &d.seed, &spec, &members) == d.inputs_hash;
        let (plan, selection, _) = cast(spec, members, case_id, d.seed.clone()).await?;
        Ok(DrawCheck {
            inputs_match,
            selection_matches: selection.chosen == seated,
            min_probability: plan.min_probability,
        })
    }

    /// Replaces seated panelists who have not logged in within `days` days of being
    /// seated by pool members of the same stratum (the same values on every balanced
    /// feature), chosen as the draw chose: largest deficit first, then by lot from the
    /// recorded seed and the round. Allowed until the case closes.
    pub async fn top_up_draw(
        &self,
        actor: Option<&Actor>,
        case_id: i64,
        days: u32,
        audit_ctx: &AuditContext,
    ) -> Result<TopUpResult> {
        let case = self.draw_case(actor, case_id).await?;
        if matches!(
            CaseStatus::parse(&case.status),
            Some(CaseStatus::Closed | CaseStatus::Archived)
        ) {
            return Err(Error::conflict(
                "case_closed",
                "Deze casus is gesloten; aanvullen kan niet meer.",
            ));
        }
        if days > 365 {
            return Err(Error::invalid_fields(
                "invalid_field",
                "Geef een termijn van 0 tot 365 dagen.",
                vec!["days"],
            ));
        }
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let d = draws::draw_of_case(&*tx, case_id)
            .await?
            .ok_or_else(|| Error::not_found("draw_not_found"))?;
        let rows = draws::members_of_draw(&*tx, d.id).await?;
        let cutoff = now - chrono::Duration::days(i64::from(days));
        let to_member = |r: &draw_member::Model| Member {
            id: r.panelist_id,
            values: serde_json::from_str(&r.type_key).unwrap_or_default(),
            deficit: r.deficit,
        };
        let due: Vec<&draw_member::Model> = rows
            .iter()
            .filter(|r| r.status == draws::status::DRAWN)
            .filter(|r| r.seated_at.is_some_and(|at| at <= cutoff))
            .collect();
        let responded =
            draws::logged_in(&*tx, &due.iter().map(|r| r.panelist_id).collect::<Vec<_>>()).await?;
        let leaving: Vec<Member> = due
            .into_iter()
            .filter(|r| !responded.contains(&r.panelist_id))
            .map(to_member)
            .collect();
        let candidates: Vec<Member> = rows
            .iter()
            .filter(|r| r.status == draws::status::POOL)
            .map(to_member)
            .collect();
        let round = d.top_ups + 1;
        let pairs = lottery::replacements(
            &leaving,
            &candidates,
            &mut lottery::stream(case_id, &d.seed, round as u32),
        );
        for (out, inn) in &pairs {
            draws::set_member_status(&*tx, d.id, *out, draws::status::REPLACED, None).await?;
            draws::set_member_status(&*tx, d.id, *inn, draws::status::DRAWN, Some((round, now)))
                .await?;
        }
        if !pairs.is_empty() {
            draws::count_top_up(&*tx, d.id).await?;
        }
        let unfilled = (leaving.len() - pairs.len()) as u32;
        audit::append(
            &*tx,
            audit_ctx.entry(
                Some(case.municipality_id),
                "case.draw_top_up",
                "case",
                case_id.to_string(),
                serde_json::json!({
                    "days": days,
                    "not_responded": leaving.len(),
                    "replaced": pairs.len(),
                    "unfilled": unfilled,
                    "round": round,
                }),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        for (out, inn) in &pairs {
            self.ring_person(Person::Panelist(*out));
            self.ring_person(Person::Panelist(*inn));
        }
        Ok(TopUpResult {
            replaced: pairs.len() as u32,
            unfilled,
            report: self.draw_report(actor, case_id).await?,
        })
    }

    /// What the pool of a case looks like per feature value (counts), to start targets
    /// from; admins only.
    pub async fn pool_profile(
        &self,
        actor: Option<&Actor>,
        case_id: i64,
    ) -> Result<Vec<PopulationShare>> {
        self.draw_case(actor, case_id).await?;
        let pool = self.pool_of(case_id).await?;
        let mut out = Vec::new();
        for feature in DrawFeature::ALL {
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for p in &pool {
                *counts.entry(feature.value_of(p)).or_default() += 1;
            }
            for (value, n) in counts {
                out.push(PopulationShare {
                    feature,
                    value,
                    share: f64::from(n) / pool.len().max(1) as f64,
                });
            }
        }
        Ok(out)
    }

    /// A municipality's population figures.
    pub async fn population(
        &self,
        actor: &Actor,
        municipality: &str,
    ) -> Result<Vec<PopulationShare>> {
        let m = self.municipality_for_admin(actor, municipality).await?;
        Ok(draws::population_of(self.store.db(), m.id)
            .await?
            .into_iter()
            .filter_map(|p| {
                Some(PopulationShare {
                    feature: DrawFeature::parse(&p.feature)?,
                    value: p.value,
                    share: p.share,
                })
            })
            .collect())
    }

    /// Replaces a municipality's population figures for the features given.
    pub async fn set_population(
        &self,
        actor: &Actor,
        municipality: &str,
        figures: Vec<PopulationShare>,
        audit_ctx: &AuditContext,
    ) -> Result<Vec<PopulationShare>> {
        let m = self.municipality_for_admin(actor, municipality).await?;
        let mut by_feature: BTreeMap<DrawFeature, BTreeMap<String, f64>> = BTreeMap::new();
        for f in &figures {
            if by_feature
                .entry(f.feature)
                .or_default()
                .insert(f.value.trim().to_string(), f.share)
                .is_some()
            {
                return Err(Error::invalid(
                    "invalid_field",
                    format!(
                        "'{}' staat twee keer bij '{}'.",
                        f.value,
                        f.feature.as_str()
                    ),
                ));
            }
        }
        for (feature, shares) in &by_feature {
            check_shares(*feature, shares)?;
        }
        let now = self.now();
        let tx = self.store.begin_write().await?;
        for (feature, shares) in &by_feature {
            let list: Vec<(String, f64)> = shares.iter().map(|(v, s)| (v.clone(), *s)).collect();
            draws::set_population(&*tx, m.id, feature.as_str(), &list).await?;
        }
        audit::append(
            &*tx,
            audit_ctx.entry(
                Some(m.id),
                "municipality.population",
                "municipality",
                m.id.to_string(),
                serde_json::json!({"features": by_feature.keys().collect::<Vec<_>>()}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.population(actor, municipality).await
    }

    async fn municipality_for_admin(
        &self,
        actor: &Actor,
        slug: &str,
    ) -> Result<crate::store::entities::municipality::Model> {
        let m = people::municipality_by_slug(self.store.db(), slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        policy::require_role(actor, m.id, Role::Admin, "municipality_not_found")?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_must_add_up_to_one() {
        let mut shares = BTreeMap::new();
        shares.insert("a".to_string(), 0.5);
        shares.insert("b".to_string(), 0.3);
        let e = check_shares(DrawFeature::District, &shares).unwrap_err();
        assert_eq!(e.code(), "shares_do_not_add_up");
        shares.insert("c".to_string(), 0.2);
        check_shares(DrawFeature::District, &shares).unwrap();
        shares.insert("d".to_string(), -0.1);
        assert_eq!(
            check_shares(DrawFeature::District, &shares)
                .unwrap_err()
                .code(),
            "invalid_share"
        );
    }
}
