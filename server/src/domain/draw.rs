//! The draw (sortition) of a case's panel from a pool: quotas per feature value, the
//! maximin selection probabilities of Flanigan et al. (2021) found by column generation,
//! and a seeded, reproducible choice of people. Pure code; `docs/draw.md` explains it.
//!
//! People with the same values on every balanced feature are interchangeable for the
//! quotas, so the work is done per *type* (one combination of values) rather than per
//! person: a panel is a number of seats per type, a person's chance is their type's
//! expected seats divided by the type's size. That keeps the linear programs small (a
//! pool of 1,000 on three features has at most a few hundred types) without changing the
//! optimum: averaging an optimal lottery over the people of each type keeps every quota
//! and raises nobody's minimum.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use microlp::{ComparisonOp, OptimizationDirection, Problem};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// The value a person without a consented answer has on a feature.
pub const UNKNOWN: &str = "onbekend";

/// Seats a value may take, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Quota {
    /// Fewest seats.
    pub min: u32,
    /// Most seats.
    pub max: u32,
}

impl Quota {
    /// The seats a target share of `size` allows with `tolerance` seats either way:
    /// from `floor(share × size) − tolerance` (not below 0) to
    /// `ceil(share × size) + tolerance` (not above `size`).
    pub fn from_share(share: f64, size: u32, tolerance: u32) -> Quota {
        let exact = share.clamp(0.0, 1.0) * f64::from(size);
        // `exact` lies in 0..=size, so the casts cannot truncate.
        let low = (exact + 1e-9).floor() as u32;
        let high = (exact - 1e-9).ceil() as u32;
        Quota {
            min: low.saturating_sub(tolerance),
            max: (high + tolerance).min(size),
        }
    }
}

/// One feature to balance on, with a quota per value. A value some pool member has but
/// the feature does not list may take no seats.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Feature {
    /// The feature's name (`age_band`, `district`, `wmo_experience`).
    pub name: String,
    /// Quota per value.
    pub quotas: BTreeMap<String, Quota>,
}

/// A pool member as the draw sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The panelist's id.
    pub id: i64,
    /// Their value on each balanced feature, in the order of [`Spec::features`].
    pub values: Vec<String>,
    /// Earlier draws' chances minus times drawn (positive: drawn less often than their
    /// chances promised). Among people of one type, the largest deficit goes first.
    pub deficit: f64,
}

/// What a draw must meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Seats.
    pub size: u32,
    /// Features to balance on.
    pub features: Vec<Feature>,
}

/// Why no draw could be planned.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DrawError {
    /// The pool is smaller than the panel.
    #[error("the pool has {pool} members, fewer than the {size} seats")]
    PoolTooSmall {
        /// Pool members.
        pool: usize,
        /// Seats asked for.
        size: u32,
    },
    /// A value's minimum cannot be reached from the pool.
    #[error("{feature} = {value} needs at least {min} seats, the pool has {available}")]
    TooFewInPool {
        /// The feature.
        feature: String,
        /// The value.
        value: String,
        /// Seats the quota asks for at least.
        min: u32,
        /// Pool members with that value.
        available: u32,
    },
    /// No panel meets every quota at once.
    #[error("no panel of this size meets every quota at once")]
    Infeasible,
    /// The solver gave up (time or numerical trouble).
    #[error("the solver stopped: {0}")]
    Solver(String),
}

/// The lottery over panels that gives everyone the maximin chance.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The distinct value combinations, in a fixed order.
    pub types: Vec<Vec<String>>,
    /// Pool members per type.
    pub type_sizes: Vec<u32>,
    /// Panels (seats per type) and their probabilities; probabilities sum to 1.
    pub panels: Vec<(Vec<u32>, f64)>,
    /// Each type's chance per member.
    pub type_probabilities: Vec<f64>,
    /// The smallest chance of any member who can be seated at all.
    pub min_probability: f64,
    /// Members no panel meeting the quotas can seat (their chance is 0).
    pub unseatable: u32,
    /// Column-generation rounds.
    pub rounds: u32,
}

impl Plan {
    /// A member's chance, by their values.
    pub fn probability_of(&self, values: &[String]) -> f64 {
        self.types
            .iter()
            .position(|t| t.as_slice() == values)
            .map_or(0.0, |i| self.type_probabilities[i])
    }
}

/// The result of choosing from a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Which panel of the plan the lot fell on.
    pub panel: usize,
    /// The chosen members' ids, ascending.
    pub chosen: Vec<i64>,
}

/// The random stream of a draw: ChaCha20 keyed by SHA-256 of the case, the seed staff
/// recorded beforehand and the round (0 for the draw, 1, 2… for top-ups). ChaCha20 is
/// named rather than `StdRng` so the stream cannot change with a library upgrade.
pub fn stream(case_id: i64, seed: &str, round: u32) -> ChaCha20Rng {
    let mut hash = Sha256::new();
    hash.update(b"beraad-draw-v1\0");
    hash.update(case_id.to_be_bytes());
    hash.update(round.to_be_bytes());
    hash.update(seed.as_bytes());
    ChaCha20Rng::from_seed(hash.finalize().into())
}

/// Plans the lottery: checks the quotas against the pool, then finds the distribution
/// over quota-meeting panels that maximises the smallest chance of any member.
pub fn plan(spec: &Spec, members: &[Member], budget: Duration) -> Result<Plan, DrawError> {
    if members.len() < spec.size as usize {
        return Err(DrawError::PoolTooSmall {
            pool: members.len(),
            size: spec.size,
        });
    }
    let mut by_type: BTreeMap<&[String], u32> = BTreeMap::new();
    for m in members {
        *by_type.entry(m.values.as_slice()).or_default() += 1;
    }
    let types: Vec<Vec<String>> = by_type.keys().map(|k| k.to_vec()).collect();
    let type_sizes: Vec<u32> = by_type.values().copied().collect();
    for (f, feature) in spec.features.iter().enumerate() {
        for (value, quota) in &feature.quotas {
            let available: u32 = types
                .iter()
                .zip(&type_sizes)
                .filter(|(t, _)| &t[f] == value)
                .map(|(_, n)| n)
                .sum();
            if available < quota.min {
                return Err(DrawError::TooFewInPool {
                    feature: feature.name.clone(),
                    value: value.clone(),
                    min: quota.min,
                    available,
                });
            }
        }
    }
    let oracle = Oracle {
        spec,
        types: &types,
        sizes: &type_sizes,
    };
    let started = Instant::now();
    let count = types.len();

    // Seed the columns: panels that seat types no panel seats yet, until every type that
    // can be seated is.
    let mut panels: Vec<Vec<u32>> = Vec::new();
    let mut covered = vec![false; count];
    let first = oracle.best(&vec![1.0; count])?;
    mark(&mut covered, &first);
    panels.push(first);
    let mut seatable = vec![true; count];
    loop {
        let weights: Vec<f64> = (0..count)
            .map(|t| if covered[t] || !seatable[t] { 0.0 } else { 1.0 })
            .collect();
        if weights.iter().all(|w| *w == 0.0) {
            break;
        }
        let panel = oracle.best(&weights)?;
        let newly: Vec<usize> = (0..count)
            .filter(|&t| !covered[t] && panel[t] > 0)
            .collect();
        if newly.is_empty() {
            // Every remaining type is one no quota-meeting panel can seat.
            for t in 0..count {
                if !covered[t] {
                    seatable[t] = false;
                }
            }
            break;
        }
        mark(&mut covered, &panel);
        panels.push(panel);
    }
    let live: Vec<usize> = (0..count).filter(|&t| seatable[t]).collect();
    let unseatable: u32 = (0..count)
        .filter(|&t| !seatable[t])
        .map(|t| type_sizes[t])
        .sum();

    // Column generation on the dual: weights on types that make every known panel look
    // poor; the oracle then looks for a panel that does better under those weights.
    let mut rounds = 0;
    loop {
        rounds += 1;
        let (weights, bound) = dual(&panels, &type_sizes, &live)?;
        let candidate = oracle.best(&weights)?;
        let value: f64 = candidate
            .iter()
            .zip(&type_sizes)
            .zip(&weights)
            .map(|((c, n), w)| f64::from(*c) * w / f64::from(*n))
            .sum();
        if value <= bound + 1e-7 || panels.contains(&candidate) {
            break;
        }
        if started.elapsed() > budget {
            return Err(DrawError::Solver(format!(
                "no optimum within {} s",
                budget.as_secs()
            )));
        }
        panels.push(candidate);
    }

    let weights = primal(&panels, &type_sizes, &live)?;
    let mut type_probabilities = vec![0.0; count];
    let mut chosen_panels = Vec::new();
    for (panel, w) in panels.into_iter().zip(weights) {
        if w <= 1e-9 {
            continue;
        }
        for t in 0..count {
            type_probabilities[t] += w * f64::from(panel[t]) / f64::from(type_sizes[t]);
        }
        chosen_panels.push((panel, w));
    }
    let total: f64 = chosen_panels.iter().map(|(_, w)| w).sum();
    for (_, w) in &mut chosen_panels {
        *w /= total;
    }
    for p in &mut type_probabilities {
        *p /= total;
    }
    let min_probability = live
        .iter()
        .map(|&t| type_probabilities[t])
        .fold(f64::INFINITY, f64::min);
    Ok(Plan {
        types,
        type_sizes,
        panels: chosen_panels,
        type_probabilities,
        min_probability: if min_probability.is_finite() {
            min_probability
        } else {
            0.0
        },
        unseatable,
        rounds,
    })
}

fn mark(covered: &mut [bool], panel: &[u32]) {
    for (c, seats) in covered.iter_mut().zip(panel) {
        if *seats > 0 {
            *c = true;
        }
    }
}

/// Finds the quota-meeting panel with the largest weighted sum of chances.
struct Oracle<'a> {
    spec: &'a Spec,
    types: &'a [Vec<String>],
    sizes: &'a [u32],
}

impl Oracle<'_> {
    /// `weights[t]` is the weight of type `t` as a whole; a seat of type `t` is worth
    /// `weights[t] / sizes[t]`.
    fn best(&self, weights: &[f64]) -> Result<Vec<u32>, DrawError> {
        let mut problem = Problem::new(OptimizationDirection::Maximize);
        let vars: Vec<_> = self
            .sizes
            .iter()
            .zip(weights)
            .map(|(n, w)| {
                let cap = i32::try_from(*n).unwrap_or(i32::MAX);
                problem.add_integer_var(w / f64::from(*n), (0, cap))
            })
            .collect();
        let all: Vec<_> = vars.iter().map(|v| (*v, 1.0)).collect();
        problem.add_constraint(&all, ComparisonOp::Eq, f64::from(self.spec.size));
        for (f, feature) in self.spec.features.iter().enumerate() {
            let mut per_value: BTreeMap<&str, Vec<(microlp::Variable, f64)>> = BTreeMap::new();
            for (t, ty) in self.types.iter().enumerate() {
                per_value
                    .entry(ty[f].as_str())
                    .or_default()
                    .push((vars[t], 1.0));
            }
            for (value, terms) in per_value {
                match feature.quotas.get(value) {
                    Some(q) => {
                        if q.min > 0 {
                            problem.add_constraint(&terms, ComparisonOp::Ge, f64::from(q.min));
                        }
                        problem.add_constraint(&terms, ComparisonOp::Le, f64::from(q.max));
                    }
                    None => problem.add_constraint(&terms, ComparisonOp::Le, 0.0),
                }
            }
        }
        let solution = solve(&problem)?;
        Ok(vars
            .iter()
            .map(|v| solution.var_value(*v).round().max(0.0) as u32)
            .collect())
    }
}

/// Solves a program to proven optimality.
fn solve(problem: &Problem) -> Result<microlp::Solution, DrawError> {
    problem
        .solve()
        .map_err(|e| match e {
            microlp::Error::Infeasible => DrawError::Infeasible,
            other => DrawError::Solver(other.to_string()),
        })?
        .into_solution()
        .map_err(|_| DrawError::Solver("interrupted before a solution was found".into()))
}

/// The restricted dual: type weights (summing to 1 over seatable types) that minimise
/// the best known panel's weighted chance. Returns the weights and that bound.
fn dual(panels: &[Vec<u32>], sizes: &[u32], live: &[usize]) -> Result<(Vec<f64>, f64), DrawError> {
    let mut problem = Problem::new(OptimizationDirection::Minimize);
    let bound = problem.add_var(1.0, (f64::NEG_INFINITY, f64::INFINITY));
    let mut weights = vec![None; sizes.len()];
    for &t in live {
        weights[t] = Some(problem.add_var(0.0, (0.0, f64::INFINITY)));
    }
    let sum: Vec<_> = weights.iter().flatten().map(|v| (*v, 1.0)).collect();
    problem.add_constraint(&sum, ComparisonOp::Eq, 1.0);
    for panel in panels {
        let mut terms: Vec<_> = live
            .iter()
            .filter(|&&t| panel[t] > 0)
            .filter_map(|&t| weights[t].map(|v| (v, f64::from(panel[t]) / f64::from(sizes[t]))))
            .collect();
        terms.push((bound, -1.0));
        problem.add_constraint(&terms, ComparisonOp::Le, 0.0);
    }
    let solution = solve(&problem)?;
    let values = weights
        .iter()
        .map(|w| w.map_or(0.0, |v| solution.var_value(v).max(0.0)))
        .collect();
    Ok((values, solution.var_value(bound)))
}

/// The restricted primal: probabilities over the known panels that maximise the smallest
/// chance of a seatable type.
fn primal(panels: &[Vec<u32>], sizes: &[u32], live: &[usize]) -> Result<Vec<f64>, DrawError> {
    let mut problem = Problem::new(OptimizationDirection::Maximize);
    let floor = problem.add_var(1.0, (0.0, 1.0));
    let lambdas: Vec<_> = panels
        .iter()
        .map(|_| problem.add_var(0.0, (0.0, 1.0)))
        .collect();
    let sum: Vec<_> = lambdas.iter().map(|v| (*v, 1.0)).collect();
    problem.add_constraint(&sum, ComparisonOp::Eq, 1.0);
    for &t in live {
        let mut terms: Vec<_> = panels
            .iter()
            .zip(&lambdas)
            .filter(|(p, _)| p[t] > 0)
            .map(|(p, l)| (*l, f64::from(p[t]) / f64::from(sizes[t])))
            .collect();
        terms.push((floor, -1.0));
        problem.add_constraint(&terms, ComparisonOp::Ge, 0.0);
    }
    let solution = solve(&problem)?;
    Ok(lambdas
        .iter()
        .map(|v| solution.var_value(*v).max(0.0))
        .collect())
}

/// Casts the lot: a panel of the plan by its probability, then, within each type, the
/// members with the largest deficit, ties broken by the stream. The same plan, members
/// and stream always give the same selection.
pub fn select(plan: &Plan, members: &[Member], rng: &mut ChaCha20Rng) -> Selection {
    let lot: f64 = rng.r#gen();
    let mut panel = plan.panels.len() - 1;
    let mut acc = 0.0;
    for (i, (_, w)) in plan.panels.iter().enumerate() {
        acc += w;
        if lot < acc {
            panel = i;
            break;
        }
    }
    let seats = &plan.panels[panel].0;
    let mut chosen = Vec::new();
    for (t, ty) in plan.types.iter().enumerate() {
        if seats[t] == 0 {
            continue;
        }
        let order = ranked(members.iter().filter(|m| &m.values == ty), rng);
        chosen.extend(order.into_iter().take(seats[t] as usize));
    }
    chosen.sort_unstable();
    Selection { panel, chosen }
}

/// Replacements for members who did not respond: for each, the next member of the same
/// type (largest deficit first, ties by the stream) among `candidates`, who must not be
/// drawn already. Returns `(replaced, replacement)` pairs; a member whose type has no
/// candidate left stays unreplaced.
pub fn replacements(
    leaving: &[Member],
    candidates: &[Member],
    rng: &mut ChaCha20Rng,
) -> Vec<(i64, i64)> {
    let mut by_type: BTreeMap<&[String], Vec<i64>> = BTreeMap::new();
    let mut types: Vec<&[String]> = leaving.iter().map(|m| m.values.as_slice()).collect();
    types.sort();
    types.dedup();
    for ty in types {
        let order = ranked(candidates.iter().filter(|m| m.values == ty), rng);
        by_type.insert(ty, order);
    }
    let mut leaving: Vec<&Member> = leaving.iter().collect();
    leaving.sort_by_key(|m| m.id);
    let mut out = Vec::new();
    for m in leaving {
        let queue = by_type
            .get_mut(m.values.as_slice())
            .expect("type listed above");
        if !queue.is_empty() {
            out.push((m.id, queue.remove(0)));
        }
    }
    out
}

/// Members in the order they are taken: largest deficit first (to a millionth, so
/// rounding noise does not decide), then a random key drawn per member in id order.
fn ranked<'a>(members: impl Iterator<Item = &'a Member>, rng: &mut ChaCha20Rng) -> Vec<i64> {
    let mut list: Vec<&Member> = members.collect();
    list.sort_by_key(|m| m.id);
    let mut keyed: Vec<(i64, u64, i64)> = list
        .into_iter()
        .map(|m| ((m.deficit * 1e6).round() as i64, rng.r#gen::<u64>(), m.id))
        .collect();
    keyed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, _, id)| id).collect()
}

#[cfg(test)]
mod tests;
