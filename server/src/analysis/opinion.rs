//! Opinion groups after the Pol.is method: who weighs posts alike, what sets each group
//! apart, and what every group shares.
//!
//! The steps, as in Pol.is:
//!
//! 1. **Matrix.** Weighings form a participants × statements matrix (+1 agree, −1
//!    disagree, 0 pass). A participant enters once they weighed at least
//!    [`OpinionSettings::min_votes`] statements (but never more than half the statements
//!    there are); the others are listed in [`OpinionMap::excluded`]. A missing entry is
//!    filled with its column's mean and every column is centred. After centring, a filled
//!    entry is exactly 0, so the centred matrix is as sparse as the weighings and is kept
//!    that way: nothing dense of size participants × statements is ever built.
//! 2. **PCA.** The first two principal components come from power iteration on the
//!    covariance `XᵀX`, applied as `Xᵀ(Xv)` on the sparse matrix (two passes over the
//!    weighings per step, no covariance matrix), from a fixed pseudo-random start, until
//!    the vector moves less than 1e-10 or after 1,000 steps; the second component is
//!    deflated by keeping it orthogonal to the first. A final Rayleigh–Ritz step turns the
//!    pair into the principal axes of their plane (the plane is found fast, the first
//!    axis slowly when the first two variances are close). Each component's sign is fixed
//!    so that its largest entry is positive. Participants are projected onto both and, as
//!    Pol.is does, the projection is scaled by `√(statements / weighings of this
//!    participant)` so that someone who weighed little is not pulled to the centre by the
//!    filled-in means.
//! 3. **Groups.** k-means on the 2-D points for k = 2..=[`OpinionSettings::max_k`]
//!    (k-means++ seeding from a fixed-seed `StdRng`, 10 restarts, the lowest within-group
//!    sum of squares kept); a k needs at least 2k participants and k distinct points. The
//!    k with the highest mean silhouette wins (ties: the smaller k). With fewer than four
//!    participants there are no groups. Groups are numbered by size, largest first.
//! 4. **Representative statements.** For a group and a statement, the agree rate is
//!    `(agrees + 1) / (weighings + 2)` — add-one (Laplace) smoothing, as Pol.is does, so a
//!    statement few weighed gets a rate near ½ rather than 0 or 1; passes count as
//!    weighings. The statement represents the group's agreement when both one-sided
//!    tests pass the 90% level (z > [`Z90`]): a two-proportion z-test of the group's rate
//!    against the rate of everyone else, and a test of the group's rate against ½. The
//!    same for disagreement. Ranked by the first z, the best [`MAX_REPRESENTATIVE`] are
//!    kept per group.
//! 5. **Consensus.** A statement every group agrees with (or every group disagrees with)
//!    at a smoothed rate above [`CONSENSUS_RATE`] (0.6: a clear majority even after
//!    smoothing, so a handful of weighings is not enough), ranked by its lowest group
//!    rate, highest first.
//!
//! Everything is deterministic: the same weighings give the same map, whatever their
//! order (except that of two weighings by one participant of one statement, the later in
//! the slice counts).

use std::cmp::Ordering;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// The one-sided 90% normal quantile: the bar both tests must pass for a statement to
/// be representative.
pub const Z90: f64 = 1.2815515655446004;

/// The smoothed rate every group must exceed for a statement to be consensus.
pub const CONSENSUS_RATE: f64 = 0.6;

/// How many representative statements are kept per group.
pub const MAX_REPRESENTATIVE: usize = 5;

const PCA_SEED: u64 = 0x6265_7261_6164_0001;
const KMEANS_SEED: u64 = 0x6265_7261_6164_0002;
const POWER_MAX_STEPS: usize = 1_000;
const POWER_TOLERANCE: f64 = 1e-10;
const KMEANS_RESTARTS: usize = 10;
const KMEANS_MAX_STEPS: usize = 100;
/// Above this many participants the silhouette is averaged over an evenly spaced sample
/// of this many (each still measured against everyone), to stay well under quadratic.
const SILHOUETTE_SAMPLE: usize = 2_000;

/// One weighing: a participant's judgement of a statement (a post).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Vote {
    /// Who weighed.
    pub participant: u64,
    /// What was weighed.
    pub statement: u64,
    /// +1 agree, −1 disagree, 0 pass (other values count by their sign).
    pub value: i8,
}

/// Knobs of the opinion map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OpinionSettings {
    /// A participant enters once they weighed at least this many statements — or half
    /// the statements there are (rounded down, at least 1), if that is fewer. Default 7.
    pub min_votes: usize,
    /// The largest number of groups tried. Default 5.
    pub max_k: usize,
}

impl Default for OpinionSettings {
    fn default() -> Self {
        Self {
            min_votes: 7,
            max_k: 5,
        }
    }
}

/// Whether a statement stands for agreeing or for disagreeing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Direction {
    /// The group (or everyone) agrees.
    Agree,
    /// The group (or everyone) disagrees.
    Disagree,
}

/// A participant's place on the map.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ParticipantPoint {
    /// The participant.
    pub participant: u64,
    /// Position along the first principal component.
    pub x: f64,
    /// Position along the second principal component.
    pub y: f64,
    /// Index into [`OpinionMap::groups`]; `None` when there are no groups.
    pub group: Option<usize>,
}

/// A statement that sets a group apart.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RepStatement {
    /// The statement.
    pub statement: u64,
    /// Whether the group stands out by agreeing or by disagreeing.
    pub direction: Direction,
    /// The group's smoothed rate of agreeing (or disagreeing).
    pub group_rate: f64,
    /// The same rate among all other participants on the map.
    pub rest_rate: f64,
    /// The two-proportion z-score of group against rest.
    pub z: f64,
}

/// An opinion group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    /// Its index in [`OpinionMap::groups`]: 0 is the largest.
    pub id: usize,
    /// How many participants it holds.
    pub size: usize,
    /// The mean position of its members.
    pub centre: (f64, f64),
    /// Up to [`MAX_REPRESENTATIVE`] statements that set it apart, strongest first.
    pub representative: Vec<RepStatement>,
}

/// A statement all groups agree with, or all disagree with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ConsensusStatement {
    /// The statement.
    pub statement: u64,
    /// Whether all groups agree or all disagree.
    pub direction: Direction,
    /// The lowest smoothed rate over the groups.
    pub min_rate: f64,
}

/// The opinion map of a set of weighings.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OpinionMap {
    /// Every participant who weighed enough, by participant id.
    pub participants: Vec<ParticipantPoint>,
    /// The groups, largest first; empty with fewer than four participants.
    pub groups: Vec<Group>,
    /// Consensus statements, the most widely shared first.
    pub consensus: Vec<ConsensusStatement>,
    /// The share of the total variance along each of the two components.
    pub explained_variance: (f64, f64),
    /// The mean silhouette of the chosen grouping (−1 to 1; 0 without groups).
    pub silhouette: f64,
    /// Participants left out for weighing too few statements, by id.
    pub excluded: Vec<u64>,
}

/// Builds the opinion map of `votes`; see the module documentation for the method.
pub fn opinion_map(votes: &[Vote], settings: &OpinionSettings) -> OpinionMap {
    build_map(votes, settings, MAX_REPRESENTATIVE)
}

fn build_map(votes: &[Vote], settings: &OpinionSettings, max_representative: usize) -> OpinionMap {
    let (matrix, excluded) = Matrix::build(votes, settings.min_votes);
    if matrix.participants.is_empty() {
        return OpinionMap {
            excluded,
            ..OpinionMap::default()
        };
    }
    let pca = Pca::of(&matrix);
    let points = pca.project(&matrix);
    let mut map = OpinionMap {
        participants: matrix
            .participants
            .iter()
            .zip(&points)
            .map(|(&participant, &(x, y))| ParticipantPoint {
                participant,
                x,
                y,
                group: None,
            })
            .collect(),
        explained_variance: pca.explained,
        excluded,
        ..OpinionMap::default()
    };
    let Some(clustering) = Clustering::choose(&points, settings.max_k) else {
        return map;
    };
    map.silhouette = clustering.silhouette;
    for (point, &group) in map.participants.iter_mut().zip(&clustering.assignment) {
        point.group = Some(group);
    }
    let tallies = Tallies::count(&matrix, &clustering.assignment, clustering.k);
    map.groups = (0..clustering.k)
        .map(|group| {
            let mut representative = tallies.representative(group, &matrix.statements);
            representative.truncate(max_representative);
            Group {
                id: group,
                size: clustering.sizes[group],
                centre: clustering.centres[group],
                representative,
            }
        })
        .collect();
    map.consensus = tallies.consensus(&matrix.statements);
    map
}

/// The weighings of the participants on the map, one row per participant, in compressed
/// sparse rows.
struct Matrix {
    /// Row ids, ascending.
    participants: Vec<u64>,
    /// Column ids, ascending: every statement weighed by someone on the map.
    statements: Vec<u64>,
    /// Row `i` holds entries `row_start[i]..row_start[i + 1]`.
    row_start: Vec<usize>,
    /// Column index of each entry.
    columns: Vec<usize>,
    /// Raw value of each entry: −1, 0 or +1.
    values: Vec<i8>,
    /// Value minus its column's mean.
    centred: Vec<f64>,
}

impl Matrix {
    /// Builds the matrix of the participants who weighed enough; returns it with the ids
    /// of those left out.
    fn build(votes: &[Vote], min_votes: usize) -> (Matrix, Vec<u64>) {
        let mut sorted: Vec<&Vote> = votes.iter().collect();
        // Stable, so of two weighings of one statement by one participant the later
        // stays later.
        sorted.sort_by_key(|vote| (vote.participant, vote.statement));
        let mut unique: Vec<Vote> = Vec::with_capacity(sorted.len());
        for vote in sorted {
            let value = vote.value.signum();
            match unique.last_mut() {
                Some(last)
                    if last.participant == vote.participant && last.statement == vote.statement =>
                {
                    last.value = value;
                }
                _ => unique.push(Vote { value, ..*vote }),
            }
        }
        let mut all_statements: Vec<u64> = unique.iter().map(|vote| vote.statement).collect();
        all_statements.sort_unstable();
        all_statements.dedup();
        let threshold = min_votes.min(all_statements.len() / 2).max(1);

        let mut participants = Vec::new();
        let mut excluded = Vec::new();
        let mut kept: Vec<Vote> = Vec::with_capacity(unique.len());
        for run in unique.chunk_by(|a, b| a.participant == b.participant) {
            if run.len() >= threshold {
                participants.push(run[0].participant);
                kept.extend_from_slice(run);
            } else {
                excluded.push(run[0].participant);
            }
        }

        let mut statements: Vec<u64> = kept.iter().map(|vote| vote.statement).collect();
        statements.sort_unstable();
        statements.dedup();
        let mut row_start = Vec::with_capacity(participants.len() + 1);
        let mut columns = Vec::with_capacity(kept.len());
        let mut values = Vec::with_capacity(kept.len());
        let mut sums = vec![0.0; statements.len()];
        let mut counts = vec![0u32; statements.len()];
        row_start.push(0);
        for run in kept.chunk_by(|a, b| a.participant == b.participant) {
            for vote in run {
                // Every kept statement is in `statements`, so the search always succeeds.
                let column = statements
                    .binary_search(&vote.statement)
                    .unwrap_or_default();
                columns.push(column);
                values.push(vote.value);
                sums[column] += f64::from(vote.value);
                counts[column] += 1;
            }
            row_start.push(columns.len());
        }
        let means: Vec<f64> = sums
            .iter()
            .zip(&counts)
            .map(|(sum, &count)| sum / f64::from(count.max(1)))
            .collect();
        let centred = columns
            .iter()
            .zip(&values)
            .map(|(&c, &v)| f64::from(v) - means[c])
            .collect();
        (
            Matrix {
                participants,
                statements,
                row_start,
                columns,
                values,
                centred,
            },
            excluded,
        )
    }

    /// The entries of row `row`: column indices and centred values.
    fn row(&self, row: usize) -> (&[usize], &[f64]) {
        let range = self.row_start[row]..self.row_start[row + 1];
        (&self.columns[range.clone()], &self.centred[range])
    }

    /// `Xv`: each participant's centred weighings along `v`.
    fn times(&self, v: &[f64]) -> Vec<f64> {
        (0..self.participants.len())
            .map(|row| {
                let (columns, centred) = self.row(row);
                columns.iter().zip(centred).map(|(&c, x)| x * v[c]).sum()
            })
            .collect()
    }

    /// `w = Xᵀ(Xv)` with `u` as scratch space for `Xv`.
    fn gram(&self, v: &[f64], u: &mut [f64], w: &mut [f64]) {
        for (row, slot) in u.iter_mut().enumerate() {
            let (columns, centred) = self.row(row);
            *slot = columns.iter().zip(centred).map(|(&c, x)| x * v[c]).sum();
        }
        w.fill(0.0);
        for (row, &ui) in u.iter().enumerate() {
            let (columns, centred) = self.row(row);
            for (&c, x) in columns.iter().zip(centred) {
                w[c] += x * ui;
            }
        }
    }
}

/// The first two principal components.
struct Pca {
    components: [Vec<f64>; 2],
    explained: (f64, f64),
}

impl Pca {
    fn of(matrix: &Matrix) -> Pca {
        let total: f64 = matrix.centred.iter().map(|x| x * x).sum();
        let mut rng = StdRng::seed_from_u64(PCA_SEED);
        let mut first = power_component(matrix, None, total, &mut rng);
        let mut second = power_component(matrix, Some(&first), total, &mut rng);
        if second.iter().any(|&x| x != 0.0) {
            align_in_plane(matrix, &mut first, &mut second);
        }
        fix_sign(&mut first);
        fix_sign(&mut second);
        let share = |v: &[f64]| {
            let variance: f64 = matrix.times(v).iter().map(|x| x * x).sum();
            if total > 0.0 { variance / total } else { 0.0 }
        };
        Pca {
            explained: (share(&first), share(&second)),
            components: [first, second],
        }
    }

    /// Each participant's scaled projection onto the two components.
    fn project(&self, matrix: &Matrix) -> Vec<(f64, f64)> {
        let statements = matrix.statements.len() as f64;
        (0..matrix.participants.len())
            .map(|row| {
                let (columns, centred) = matrix.row(row);
                let along = |component: &[f64]| -> f64 {
                    columns
                        .iter()
                        .zip(centred)
                        .map(|(&c, x)| x * component[c])
                        .sum()
                };
                let scale = (statements / columns.len().max(1) as f64).sqrt();
                (
                    along(&self.components[0]) * scale,
                    along(&self.components[1]) * scale,
                )
            })
            .collect()
    }
}

/// One principal component by power iteration, kept orthogonal to `previous`: a unit
/// vector, or a zero vector when no variance is left (`total` is the sum of squares of
/// the whole matrix).
fn power_component(
    matrix: &Matrix,
    previous: Option<&[f64]>,
    total: f64,
    rng: &mut StdRng,
) -> Vec<f64> {
    let columns = matrix.statements.len();
    let mut v: Vec<f64> = (0..columns).map(|_| rng.gen_range(-1.0..1.0)).collect();
    deflate(&mut v, previous);
    if !normalise(&mut v, 1e-12) {
        return vec![0.0; columns];
    }
    let mut u = vec![0.0; matrix.participants.len()];
    let mut w = vec![0.0; columns];
    for _ in 0..POWER_MAX_STEPS {
        matrix.gram(&v, &mut u, &mut w);
        deflate(&mut w, previous);
        // |XᵀXv| ≤ the largest eigenvalue ≤ the trace, so this is "no variance left".
        if !normalise(&mut w, 1e-10 * total) {
            return vec![0.0; columns];
        }
        let change: f64 = w
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        std::mem::swap(&mut v, &mut w);
        if change < POWER_TOLERANCE {
            break;
        }
    }
    v
}

/// Turns two orthonormal vectors within the plane of the top two components into the
/// principal axes of that plane (a Rayleigh–Ritz step). Power iteration finds the plane
/// quickly (at the rate λ₃/λ₂) but the first axis only at the rate λ₂/λ₁, so when the
/// first two variances are close the step budget may end with the axes still turned
/// within the plane; this puts them right at the cost of two products.
fn align_in_plane(matrix: &Matrix, first: &mut [f64], second: &mut [f64]) {
    let a = matrix.times(first);
    let b = matrix.times(second);
    let dot = |x: &[f64], y: &[f64]| -> f64 { x.iter().zip(y).map(|(p, q)| p * q).sum() };
    let (p, q, r) = (dot(&a, &a), dot(&a, &b), dot(&b, &b));
    let angle = 0.5 * (2.0 * q).atan2(p - r);
    let (sin, cos) = angle.sin_cos();
    for (x, y) in first.iter_mut().zip(second.iter_mut()) {
        (*x, *y) = (cos * *x + sin * *y, cos * *y - sin * *x);
    }
}

/// Flips `v` so that its entry of largest magnitude (the first of equals) is positive.
fn fix_sign(v: &mut [f64]) {
    let largest = v.iter().fold(
        0.0,
        |best: f64, &x| if x.abs() > best.abs() { x } else { best },
    );
    if largest < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
}

/// Removes from `v` its part along the unit vector `previous`.
fn deflate(v: &mut [f64], previous: Option<&[f64]>) {
    if let Some(previous) = previous {
        let dot: f64 = v.iter().zip(previous).map(|(a, b)| a * b).sum();
        v.iter_mut().zip(previous).for_each(|(a, b)| *a -= dot * b);
    }
}

/// Scales `v` to unit length; false (and `v` untouched) when its length is `floor` or
/// less.
fn normalise(v: &mut [f64], floor: f64) -> bool {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm <= floor || norm == 0.0 {
        return false;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    true
}

type Point = (f64, f64);

fn distance2(a: Point, b: Point) -> f64 {
    (a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1)
}

/// The chosen grouping of the participants.
struct Clustering {
    k: usize,
    /// Group of each participant, groups numbered largest first.
    assignment: Vec<usize>,
    sizes: Vec<usize>,
    centres: Vec<Point>,
    silhouette: f64,
}

impl Clustering {
    /// k-means for every feasible k up to `max_k`, keeping the best mean silhouette.
    fn choose(points: &[Point], max_k: usize) -> Option<Clustering> {
        let mut distinct = points.to_vec();
        distinct.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        distinct.dedup();
        let mut best: Option<(usize, Vec<usize>, f64)> = None;
        for k in 2..=max_k {
            if points.len() < 2 * k || distinct.len() < k {
                continue;
            }
            let assignment = kmeans(points, k, KMEANS_SEED.wrapping_add(k as u64));
            let silhouette = silhouette(points, &assignment, k);
            if best.as_ref().is_none_or(|(_, _, s)| silhouette > *s) {
                best = Some((k, assignment, silhouette));
            }
        }
        let (k, assignment, silhouette) = best?;
        Some(Self::ordered(points, k, &assignment, silhouette))
    }

    /// Renumbers groups by size (largest first; ties by centre) and computes centres.
    fn ordered(points: &[Point], k: usize, assignment: &[usize], silhouette: f64) -> Clustering {
        let (sizes, centres) = sizes_and_centres(points, assignment, k);
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| {
            sizes[b]
                .cmp(&sizes[a])
                .then(centres[a].0.total_cmp(&centres[b].0))
                .then(centres[a].1.total_cmp(&centres[b].1))
                .then(a.cmp(&b))
        });
        let mut rank = vec![0; k];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new;
        }
        Clustering {
            k,
            assignment: assignment.iter().map(|&g| rank[g]).collect(),
            sizes: order.iter().map(|&g| sizes[g]).collect(),
            centres: order.iter().map(|&g| centres[g]).collect(),
            silhouette,
        }
    }
}

fn sizes_and_centres(points: &[Point], assignment: &[usize], k: usize) -> (Vec<usize>, Vec<Point>) {
    let mut sizes = vec![0usize; k];
    let mut sums = vec![(0.0, 0.0); k];
    for (&point, &group) in points.iter().zip(assignment) {
        sizes[group] += 1;
        sums[group].0 += point.0;
        sums[group].1 += point.1;
    }
    let centres = sums
        .iter()
        .zip(&sizes)
        .map(|(&(x, y), &n)| {
            if n == 0 {
                (0.0, 0.0)
            } else {
                (x / n as f64, y / n as f64)
            }
        })
        .collect();
    (sizes, centres)
}

/// The best of [`KMEANS_RESTARTS`] k-means runs (lowest sum of squares), each seeded by
/// k-means++ from a `StdRng` seeded with `seed`.
fn kmeans(points: &[Point], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut best: Option<(f64, Vec<usize>)> = None;
    for _ in 0..KMEANS_RESTARTS {
        let centres = kmeans_plus_plus(points, k, &mut rng);
        let (inertia, assignment) = lloyd(points, centres);
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, assignment));
        }
    }
    best.map(|(_, assignment)| assignment).unwrap_or_default()
}

/// k-means++ seeding: each next centre drawn with probability proportional to the
/// squared distance to the nearest centre so far.
fn kmeans_plus_plus(points: &[Point], k: usize, rng: &mut StdRng) -> Vec<Point> {
    let mut centres = vec![points[rng.gen_range(0..points.len())]];
    let mut nearest: Vec<f64> = points.iter().map(|&p| distance2(p, centres[0])).collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().sum();
        let index = if total > 0.0 {
            let mut target = rng.gen_range(0.0..total);
            nearest
                .iter()
                .position(|&d| {
                    target -= d;
                    target < 0.0
                })
                // Rounding can leave a sliver past the end: take the last candidate.
                .unwrap_or_else(|| nearest.iter().rposition(|&d| d > 0.0).unwrap_or(0))
        } else {
            rng.gen_range(0..points.len())
        };
        let centre = points[index];
        centres.push(centre);
        for (d, &p) in nearest.iter_mut().zip(points) {
            *d = d.min(distance2(p, centre));
        }
    }
    centres
}

/// Lloyd's iterations from `centres` until no point moves; an emptied group takes the
/// point farthest from its own centre. Returns the sum of squares and the assignment.
fn lloyd(points: &[Point], mut centres: Vec<Point>) -> (f64, Vec<usize>) {
    let k = centres.len();
    let nearest = |p: Point, centres: &[Point]| -> usize {
        let mut best = 0;
        for (g, &c) in centres.iter().enumerate().skip(1) {
            if distance2(p, c) < distance2(p, centres[best]) {
                best = g;
            }
        }
        best
    };
    let mut assignment: Vec<usize> = points.iter().map(|&p| nearest(p, &centres)).collect();
    for _ in 0..KMEANS_MAX_STEPS {
        let (sizes, new_centres) = sizes_and_centres(points, &assignment, k);
        centres = new_centres;
        for group in (0..k).filter(|&g| sizes[g] == 0) {
            let farthest = points
                .iter()
                .zip(&assignment)
                .enumerate()
                .max_by(|(i, (p, g)), (j, (q, h))| {
                    distance2(**p, centres[**g])
                        .total_cmp(&distance2(**q, centres[**h]))
                        .then(j.cmp(i))
                })
                .map(|(i, _)| i)
                .unwrap_or(0);
            centres[group] = points[farthest];
            assignment[farthest] = group;
        }
        let next: Vec<usize> = points.iter().map(|&p| nearest(p, &centres)).collect();
        if next == assignment {
            break;
        }
        assignment = next;
    }
    let (_, centres) = sizes_and_centres(points, &assignment, k);
    let inertia = points
        .iter()
        .zip(&assignment)
        .map(|(&p, &g)| distance2(p, centres[g]))
        .sum();
    (inertia, assignment)
}

/// The mean silhouette: per point `(b − a) / max(a, b)`, with `a` the mean distance to
/// the rest of its group and `b` the lowest mean distance to another group (0 for a
/// point alone in its group). Over an evenly spaced sample when there are many points.
fn silhouette(points: &[Point], assignment: &[usize], k: usize) -> f64 {
    let n = points.len();
    let mut sizes = vec![0usize; k];
    for &g in assignment {
        sizes[g] += 1;
    }
    let sample = n.min(SILHOUETTE_SAMPLE);
    if sample == 0 {
        return 0.0;
    }
    let mut sums = vec![0.0; k];
    let mut total = 0.0;
    for s in 0..sample {
        let i = s * n / sample;
        let own = assignment[i];
        if sizes[own] < 2 {
            continue;
        }
        sums.fill(0.0);
        for (&p, &g) in points.iter().zip(assignment) {
            sums[g] += distance2(points[i], p).sqrt();
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..k)
            .filter(|&g| g != own && sizes[g] > 0)
            .map(|g| sums[g] / sizes[g] as f64)
            .fold(f64::INFINITY, f64::min);
        let spread = a.max(b);
        if spread > 0.0 && b.is_finite() {
            total += (b - a) / spread;
        }
    }
    total / sample as f64
}

/// Agree, disagree and all weighings of one statement within some set of participants.
#[derive(Clone, Copy, Default)]
struct Tally {
    agree: u32,
    disagree: u32,
    seen: u32,
}

impl Tally {
    fn of(&self, direction: Direction) -> u32 {
        match direction {
            Direction::Agree => self.agree,
            Direction::Disagree => self.disagree,
        }
    }
}

/// Tallies per group and statement, and over everyone.
struct Tallies {
    groups: Vec<Vec<Tally>>,
    all: Vec<Tally>,
}

impl Tallies {
    fn count(matrix: &Matrix, assignment: &[usize], k: usize) -> Tallies {
        let columns = matrix.statements.len();
        let mut groups = vec![vec![Tally::default(); columns]; k];
        let mut all = vec![Tally::default(); columns];
        for (row, &group) in assignment.iter().enumerate() {
            let range = matrix.row_start[row]..matrix.row_start[row + 1];
            for (&c, &value) in matrix.columns[range.clone()]
                .iter()
                .zip(&matrix.values[range])
            {
                for tally in [&mut groups[group][c], &mut all[c]] {
                    tally.seen += 1;
                    match value.cmp(&0) {
                        Ordering::Greater => tally.agree += 1,
                        Ordering::Less => tally.disagree += 1,
                        Ordering::Equal => {}
                    }
                }
            }
        }
        Tallies { groups, all }
    }

    /// Every statement representative of `group`, strongest first.
    fn representative(&self, group: usize, statements: &[u64]) -> Vec<RepStatement> {
        let mut found = Vec::new();
        for (c, (own, all)) in self.groups[group].iter().zip(&self.all).enumerate() {
            for direction in [Direction::Agree, Direction::Disagree] {
                let (hits, seen) = (own.of(direction), own.seen);
                let (rest_hits, rest_seen) = (all.of(direction) - hits, all.seen - seen);
                let z = two_proportion_z(hits, seen, rest_hits, rest_seen);
                if z > Z90 && against_half_z(hits, seen) > Z90 {
                    found.push(RepStatement {
                        statement: statements[c],
                        direction,
                        group_rate: smoothed(hits, seen),
                        rest_rate: smoothed(rest_hits, rest_seen),
                        z,
                    });
                }
            }
        }
        found.sort_by(|a, b| b.z.total_cmp(&a.z).then(a.statement.cmp(&b.statement)));
        found
    }

    /// Statements every group agrees (or disagrees) with above [`CONSENSUS_RATE`].
    fn consensus(&self, statements: &[u64]) -> Vec<ConsensusStatement> {
        let mut found = Vec::new();
        for (c, &statement) in statements.iter().enumerate() {
            for direction in [Direction::Agree, Direction::Disagree] {
                let min_rate = self
                    .groups
                    .iter()
                    .map(|tallies| smoothed(tallies[c].of(direction), tallies[c].seen))
                    .fold(f64::INFINITY, f64::min);
                if min_rate > CONSENSUS_RATE && min_rate.is_finite() {
                    found.push(ConsensusStatement {
                        statement,
                        direction,
                        min_rate,
                    });
                }
            }
        }
        found.sort_by(|a, b| {
            b.min_rate
                .total_cmp(&a.min_rate)
                .then(a.statement.cmp(&b.statement))
        });
        found
    }
}

/// The add-one (Laplace) smoothed rate `(hits + 1) / (seen + 2)`.
fn smoothed(hits: u32, seen: u32) -> f64 {
    (f64::from(hits) + 1.0) / (f64::from(seen) + 2.0)
}

/// One-sided two-proportion z-score of `hits/seen` above `rest_hits/rest_seen`, with
/// both rates and the pooled rate smoothed by one pseudo-hit and one pseudo-miss.
fn two_proportion_z(hits: u32, seen: u32, rest_hits: u32, rest_seen: u32) -> f64 {
    let (n1, n2) = (f64::from(seen) + 2.0, f64::from(rest_seen) + 2.0);
    let pooled = (f64::from(hits) + f64::from(rest_hits) + 2.0) / (n1 + n2);
    let error = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    (smoothed(hits, seen) - smoothed(rest_hits, rest_seen)) / error
}

/// One-sided z-score of the smoothed rate `hits/seen` above ½.
fn against_half_z(hits: u32, seen: u32) -> f64 {
    (smoothed(hits, seen) - 0.5) / (0.25 / (f64::from(seen) + 2.0)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A_AGREES: std::ops::Range<u64> = 0..6;
    const CONSENSUS: u64 = 12;

    /// 40 participants (even ids in group A, odd in B) × 13 statements: A agrees with
    /// 0–5 and disagrees with 6–11, B the opposite, and everyone agrees with 12. Each
    /// weighing is missing with chance 10%, and 10% are noise: half of those a pass, half
    /// the opposite. Participants 100–102 weighed only three statements.
    fn planted(seed: u64) -> Vec<Vote> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut votes = Vec::new();
        for participant in 0..40u64 {
            let in_a = participant % 2 == 0;
            for statement in 0..13u64 {
                if rng.gen_bool(0.10) {
                    continue;
                }
                let mut value: i8 =
                    if statement == CONSENSUS || A_AGREES.contains(&statement) == in_a {
                        1
                    } else {
                        -1
                    };
                let roll: f64 = rng.gen_range(0.0..1.0);
                if roll < 0.05 {
                    value = 0;
                } else if roll < 0.10 {
                    value = -value;
                }
                votes.push(Vote {
                    participant,
                    statement,
                    value,
                });
            }
        }
        for participant in 100..103u64 {
            for statement in 0..3u64 {
                votes.push(Vote {
                    participant,
                    statement,
                    value: 1,
                });
            }
        }
        votes
    }

    fn group_of(map: &OpinionMap, participant: u64) -> Option<usize> {
        map.participants
            .iter()
            .find(|p| p.participant == participant)
            .and_then(|p| p.group)
    }

    #[test]
    fn planted_groups_are_recovered() {
        let map = opinion_map(&planted(7), &OpinionSettings::default());
        assert_eq!(map.groups.len(), 2, "k = 2 chosen: {map:#?}");
        assert_eq!(map.participants.len(), 40);
        let a = group_of(&map, 0).expect("grouped");
        let right = (0..40u64)
            .filter(|&p| (group_of(&map, p) == Some(a)) == (p % 2 == 0))
            .count();
        assert_eq!(right, 40, "every participant in the right group");
        assert_eq!(map.groups.iter().map(|g| g.size).sum::<usize>(), 40);
        assert!(map.silhouette > 0.5, "silhouette {}", map.silhouette);
        assert!(
            map.explained_variance.0 > 0.3,
            "{:?}",
            map.explained_variance
        );
        assert!(map.explained_variance.0 >= map.explained_variance.1);
    }

    #[test]
    fn planted_statements_represent_their_groups() {
        let map = build_map(&planted(7), &OpinionSettings::default(), usize::MAX);
        let a = group_of(&map, 0).expect("grouped");
        let b = group_of(&map, 1).expect("grouped");
        let has = |group: usize, statement: u64, direction: Direction| {
            map.groups[group]
                .representative
                .iter()
                .any(|r| r.statement == statement && r.direction == direction)
        };
        for statement in A_AGREES {
            assert!(
                has(a, statement, Direction::Agree),
                "A agrees with {statement}"
            );
            assert!(
                has(b, statement, Direction::Disagree),
                "B disagrees with {statement}"
            );
        }
        // The mirror image, 6–11, holds too, but the draw may sink one cell: with seed 7
        // group B weighed statement 9 with 11 agrees, 3 disagrees and 3 passes, a
        // smoothed rate of 12/19 = 0.63, which is not significantly above ½ (z = 1.15).
        let mirrored = (6..12)
            .filter(|&s| has(a, s, Direction::Disagree) && has(b, s, Direction::Agree))
            .count();
        assert!(mirrored >= 5, "{mirrored} of 6");
        for group in &map.groups {
            assert!(
                group
                    .representative
                    .iter()
                    .all(|r| r.statement != CONSENSUS)
            );
            assert!(group.representative.windows(2).all(|w| w[0].z >= w[1].z));
            for r in &group.representative {
                assert!(
                    r.z > Z90 && r.group_rate > 0.5 && r.group_rate > r.rest_rate,
                    "{r:?}"
                );
            }
        }
    }

    #[test]
    fn at_most_five_representative_statements_all_right() {
        let map = opinion_map(&planted(7), &OpinionSettings::default());
        let a = group_of(&map, 0).expect("grouped");
        for group in &map.groups {
            assert_eq!(group.representative.len(), MAX_REPRESENTATIVE);
            for r in &group.representative {
                let agrees = A_AGREES.contains(&r.statement) == (group.id == a);
                let expected = if agrees {
                    Direction::Agree
                } else {
                    Direction::Disagree
                };
                assert_eq!(r.direction, expected, "{r:?} in group {}", group.id);
            }
        }
    }

    #[test]
    fn a_statement_everyone_agrees_with_is_consensus() {
        let map = opinion_map(&planted(7), &OpinionSettings::default());
        assert_eq!(map.consensus.len(), 1, "{:?}", map.consensus);
        let consensus = map.consensus[0];
        assert_eq!(consensus.statement, CONSENSUS);
        assert_eq!(consensus.direction, Direction::Agree);
        assert!(consensus.min_rate > CONSENSUS_RATE);
    }

    #[test]
    fn participants_below_min_votes_are_excluded() {
        let map = opinion_map(&planted(7), &OpinionSettings::default());
        assert_eq!(map.excluded, [100, 101, 102]);
        assert!(map.participants.iter().all(|p| p.participant < 100));
        assert!(
            map.participants
                .windows(2)
                .all(|w| w[0].participant < w[1].participant)
        );
    }

    #[test]
    fn min_votes_is_at_most_half_the_statements() {
        let votes: Vec<Vote> = (0..6u64)
            .flat_map(|participant| {
                (0..2u64).map(move |statement| Vote {
                    participant,
                    statement: statement + 2 * (participant % 2),
                    value: 1,
                })
            })
            .chain([Vote {
                participant: 9,
                statement: 0,
                value: 1,
            }])
            .collect();
        // Four statements: two weighings suffice, whatever min_votes says.
        let map = opinion_map(
            &votes,
            &OpinionSettings {
                min_votes: 7,
                max_k: 5,
            },
        );
        assert_eq!(map.participants.len(), 6);
        assert_eq!(map.excluded, [9]);
    }

    #[test]
    fn same_input_gives_same_output_in_any_order() {
        let votes = planted(11);
        let settings = OpinionSettings::default();
        let first = opinion_map(&votes, &settings);
        assert_eq!(first, opinion_map(&votes, &settings));
        let mut shuffled = votes.clone();
        shuffled.reverse();
        shuffled.rotate_left(17);
        assert_eq!(first, opinion_map(&shuffled, &settings));
    }

    #[test]
    fn other_seeds_are_recovered_too() {
        for seed in [1, 2, 3, 4, 5] {
            let map = opinion_map(&planted(seed), &OpinionSettings::default());
            assert_eq!(map.groups.len(), 2, "seed {seed}");
            let a = group_of(&map, 0).expect("grouped");
            let right = (0..40u64)
                .filter(|&p| (group_of(&map, p) == Some(a)) == (p % 2 == 0))
                .count();
            assert!(right >= 38, "seed {seed}: {right} of 40");
        }
    }

    #[test]
    fn later_weighing_of_the_same_statement_counts() {
        let mut votes = planted(7);
        let flipped: Vec<Vote> = votes
            .iter()
            .filter(|v| v.participant == 0)
            .map(|v| Vote {
                value: -v.value,
                ..*v
            })
            .collect();
        votes.extend(flipped);
        let map = opinion_map(&votes, &OpinionSettings::default());
        // Participant 0 now weighs like group B.
        assert_eq!(group_of(&map, 0), group_of(&map, 1));
    }

    #[test]
    fn too_few_participants_give_no_groups() {
        let votes: Vec<Vote> = (0..3u64)
            .flat_map(|participant| {
                (0..8u64).map(move |statement| Vote {
                    participant,
                    statement,
                    value: if statement % (participant + 2) == 0 {
                        1
                    } else {
                        -1
                    },
                })
            })
            .collect();
        let map = opinion_map(&votes, &OpinionSettings::default());
        assert_eq!(map.participants.len(), 3);
        assert!(map.participants.iter().all(|p| p.group.is_none()));
        assert!(map.groups.is_empty() && map.consensus.is_empty());
        assert_eq!(map.silhouette, 0.0);
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert_eq!(
            opinion_map(&[], &OpinionSettings::default()),
            OpinionMap::default()
        );
    }

    #[test]
    fn unanimous_weighings_have_no_variance_and_no_groups() {
        let votes: Vec<Vote> = (0..10u64)
            .flat_map(|participant| {
                (0..8u64).map(move |statement| Vote {
                    participant,
                    statement,
                    value: 1,
                })
            })
            .collect();
        let map = opinion_map(&votes, &OpinionSettings::default());
        assert_eq!(map.participants.len(), 10);
        assert!(map.participants.iter().all(|p| p.x == 0.0 && p.y == 0.0));
        assert_eq!(map.explained_variance, (0.0, 0.0));
        assert!(map.groups.is_empty());
    }

    #[test]
    fn smoothing_and_tests_match_hand_computation() {
        assert!((smoothed(0, 0) - 0.5).abs() < 1e-12);
        assert!((smoothed(8, 10) - 0.75).abs() < 1e-12);
        // (0.75 − 0.5) / √(0.25 / 12)
        assert!((against_half_z(8, 10) - 0.25 / (0.25f64 / 12.0).sqrt()).abs() < 1e-12);
        // Equal rates: no difference.
        assert!(two_proportion_z(4, 8, 9, 18).abs() < 1e-12);
        // 9/10 vs 1/10, smoothed 10/12 vs 2/12, pooled 12/24.
        let expected = (10.0 / 12.0 - 2.0 / 12.0) / (0.25f64 * (2.0 / 12.0)).sqrt();
        assert!((two_proportion_z(9, 10, 1, 10) - expected).abs() < 1e-12);
    }

    #[test]
    fn components_are_orthonormal_and_ordered() {
        let (matrix, _) = Matrix::build(&planted(3), 6);
        let pca = Pca::of(&matrix);
        let dot = |x: &[f64], y: &[f64]| -> f64 { x.iter().zip(y).map(|(p, q)| p * q).sum() };
        let [first, second] = &pca.components;
        assert!((dot(first, first) - 1.0).abs() < 1e-9);
        assert!((dot(second, second) - 1.0).abs() < 1e-9);
        assert!(dot(first, second).abs() < 1e-9);
        assert!(pca.explained.0 >= pca.explained.1 && pca.explained.1 > 0.0);
        assert!(pca.explained.0 + pca.explained.1 <= 1.0 + 1e-12);
        // The first axis is an eigenvector: XᵀXv is parallel to v.
        let mut u = vec![0.0; matrix.participants.len()];
        let mut w = vec![0.0; first.len()];
        matrix.gram(first, &mut u, &mut w);
        let lambda = dot(&w, first);
        assert!(
            w.iter()
                .zip(first)
                .all(|(a, b)| (a - lambda * b).abs() < 1e-6 * lambda)
        );
    }

    #[test]
    fn power_iteration_finds_the_principal_axes() {
        // Two statements, perfectly correlated: one axis carries all variance.
        let votes: Vec<Vote> = (0..8u64)
            .flat_map(|participant| {
                let value = if participant < 4 { 1 } else { -1 };
                [
                    Vote {
                        participant,
                        statement: 0,
                        value,
                    },
                    Vote {
                        participant,
                        statement: 1,
                        value,
                    },
                ]
            })
            .collect();
        let (matrix, _) = Matrix::build(&votes, 1);
        let pca = Pca::of(&matrix);
        let axis = std::f64::consts::FRAC_1_SQRT_2;
        assert!(
            (pca.components[0][0] - axis).abs() < 1e-9,
            "{:?}",
            pca.components
        );
        assert!((pca.components[0][1] - axis).abs() < 1e-9);
        assert!((pca.explained.0 - 1.0).abs() < 1e-9 && pca.explained.1.abs() < 1e-9);
    }
}
