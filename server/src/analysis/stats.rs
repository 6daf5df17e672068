//! Counting statistics: shares with Wilson score intervals, and suppression of small
//! groups so that no panelist can be singled out in a breakdown.

use serde::Serialize;

/// The normal quantile for a two-sided 95% interval.
pub const Z95: f64 = 1.959963984540054;

/// The smallest number of people a published group may hold (see
/// [`suppress_small_groups`]).
pub const MIN_GROUP_SIZE: u64 = 5;

/// The Wilson score interval for a proportion: `successes` out of `total`, with normal
/// quantile `z` (use [`Z95`] for 95%). Unlike the plain normal interval it stays within
/// `[0, 1]` and behaves at 0 and 100%. Returns `(0, 0)` when `total` is 0; `successes`
/// above `total` count as `total`.
pub fn wilson_interval(successes: u64, total: u64, z: f64) -> (f64, f64) {
    if total == 0 {
        return (0.0, 0.0);
    }
    let successes = successes.min(total);
    let n = total as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).clamp(0.0, 1.0)
    };
    let high = if successes == total {
        1.0
    } else {
        (centre + half).clamp(0.0, 1.0)
    };
    (low, high)
}

/// One option's part of a whole: its count, the total, the share and the 95% Wilson
/// interval of the share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Share {
    /// The option, e.g. the verdict word `eens`.
    pub label: String,
    /// How many chose this option.
    pub count: u64,
    /// How many chose any option.
    pub total: u64,
    /// `count / total`, 0 when the total is 0.
    pub share: f64,
    /// Lower bound of the 95% Wilson interval.
    pub low: f64,
    /// Upper bound of the 95% Wilson interval.
    pub high: f64,
}

/// The split of verdicts (or any counted options): one [`Share`] per `(label, count)`, in
/// the order given, each against the sum of all counts.
pub fn verdict_split(counts: &[(String, u64)]) -> Vec<Share> {
    let total: u64 = counts.iter().map(|(_, count)| *count).sum();
    counts
        .iter()
        .map(|(label, count)| {
            let (low, high) = wilson_interval(*count, total, Z95);
            Share {
                label: label.clone(),
                count: *count,
                total,
                share: if total == 0 {
                    0.0
                } else {
                    *count as f64 / total as f64
                },
                low,
                high,
            }
        })
        .collect()
}

/// Why a group's count is hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SuppressReason {
    /// The group itself holds fewer than the minimum number of people.
    Small,
    /// The group is large enough, but showing it would let one compute a small group
    /// from the total.
    Complementary,
}

/// One group of a breakdown as it may be published.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupCell {
    /// The group's name, always shown.
    pub label: String,
    /// The number of people, `None` when suppressed.
    pub count: Option<u64>,
    /// Whether the count is hidden.
    pub suppressed: bool,
    /// Why the count is hidden, `None` when shown.
    pub reason: Option<SuppressReason>,
}

/// A breakdown as it may be published: the groups in input order, and the total.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupTable {
    /// The groups, in the order given.
    pub cells: Vec<GroupCell>,
    /// The sum of all groups, `None` when it is itself under the minimum (then every
    /// group is hidden too).
    pub total: Option<u64>,
}

/// Hides group counts so that nobody can be singled out, given that the total is shown.
///
/// The rule (`min` is normally [`MIN_GROUP_SIZE`]):
///
/// 1. A group of 1 to `min - 1` people is hidden ([`SuppressReason::Small`]). An empty
///    group is shown as 0: it describes nobody.
/// 2. While the hidden groups together hold fewer than `min` people (which includes the
///    case of a single hidden group, whose count would follow from the total minus the
///    shown ones), the smallest shown non-empty group is hidden as well
///    ([`SuppressReason::Complementary`]; ties go to the first in input order). Then at
///    least two groups are hidden and together they hold `min` or more, so no hidden
///    count can be computed from the total — for instance two hidden groups of 1 each
///    would otherwise be revealed by their sum of 2, as hidden groups are never empty.
/// 3. When the total itself is 1 to `min - 1`, every non-empty group and the total are
///    hidden.
///
/// Groups are hidden, not merged: a caller who prefers an "overig" row can sum the
/// hidden groups itself as long as it shows that sum only when it is `min` or more
/// (which rule 2 guarantees).
pub fn suppress_small_groups(groups: Vec<(String, u64)>, min: u64) -> GroupTable {
    let total: u64 = groups.iter().map(|(_, count)| *count).sum();
    let mut reasons: Vec<Option<SuppressReason>> = groups
        .iter()
        .map(|(_, count)| (*count > 0 && *count < min).then_some(SuppressReason::Small))
        .collect();
    let total_hidden = total > 0 && total < min;
    if total_hidden {
        for (reason, (_, count)) in reasons.iter_mut().zip(&groups) {
            if *count > 0 && reason.is_none() {
                *reason = Some(SuppressReason::Complementary);
            }
        }
    } else {
        loop {
            let hidden: u64 = reasons
                .iter()
                .zip(&groups)
                .filter(|(reason, _)| reason.is_some())
                .map(|(_, (_, count))| *count)
                .sum();
            if hidden == 0 || hidden >= min {
                break;
            }
            let smallest = reasons
                .iter()
                .zip(&groups)
                .enumerate()
                .filter(|(_, (reason, (_, count)))| reason.is_none() && *count > 0)
                .min_by_key(|(index, (_, (_, count)))| (*count, *index))
                .map(|(index, _)| index);
            match smallest {
                Some(index) => reasons[index] = Some(SuppressReason::Complementary),
                // Unreachable: the total is `min` or more, so shown groups remain.
                None => break,
            }
        }
    }
    let cells = groups
        .into_iter()
        .zip(reasons)
        .map(|((label, count), reason)| GroupCell {
            label,
            count: if reason.is_some() { None } else { Some(count) },
            suppressed: reason.is_some(),
            reason,
        })
        .collect();
    GroupTable {
        cells,
        total: if total_hidden { None } else { Some(total) },
    }
}

/// One step of a response funnel as it may be published.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunnelStep {
    /// What the step counts (`letters`, `used`, `consented`, `reacted`, later `drawn`).
    pub step: String,
    /// The number of people, `None` when suppressed.
    pub count: Option<u64>,
    /// Whether the count is hidden.
    pub suppressed: bool,
}

/// A response funnel (letters sent, codes used, profile consented, reacted; per case
/// also drawn) with the analysis's suppression: the base is hidden when it is 1 to
/// `min - 1`, and each step is published as the split of the base into those who took
/// it and those who did not, through [`suppress_small_groups`], so neither a small
/// step nor a small remainder (for example the 2 of 250 who did not log in) can be
/// read or computed. Steps are given in order; each counts people within the base.
pub fn funnel(base: (&str, u64), steps: &[(&str, u64)], min: u64) -> Vec<FunnelStep> {
    let (base_step, base_count) = base;
    let base_hidden = base_count > 0 && base_count < min;
    let mut out = vec![FunnelStep {
        step: base_step.to_owned(),
        count: (!base_hidden).then_some(base_count),
        suppressed: base_hidden,
    }];
    for (step, count) in steps {
        let count = (*count).min(base_count);
        let table = suppress_small_groups(
            vec![
                ("yes".to_owned(), count),
                ("no".to_owned(), base_count - count),
            ],
            min,
        );
        let cell = &table.cells[0];
        out.push(FunnelStep {
            step: (*step).to_owned(),
            count: cell.count,
            suppressed: cell.suppressed,
        });
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn funnels_hide_small_steps_and_small_remainders() {
        let f = funnel(
            ("letters", 250),
            &[("used", 120), ("reacted", 3), ("consented", 248)],
            5,
        );
        assert_eq!(f[0].count, Some(250));
        assert_eq!(f[1].count, Some(120));
        assert!(
            f[2].suppressed && f[2].count.is_none(),
            "3 people are too few"
        );
        assert!(
            f[3].suppressed,
            "the 2 who did not consent would follow from 248"
        );
        let small = funnel(("letters", 4), &[("used", 0)], 5);
        assert!(small[0].suppressed);
        assert_eq!(small[1].count, Some(0), "nobody is nobody");
        let empty = funnel(("letters", 0), &[("used", 0)], 5);
        assert_eq!(empty[0].count, Some(0));
    }

    use super::*;

    fn close(actual: (f64, f64), expected: (f64, f64)) {
        assert!(
            (actual.0 - expected.0).abs() < 5e-5 && (actual.1 - expected.1).abs() < 5e-5,
            "{actual:?} is not {expected:?} to 4 decimals"
        );
    }

    #[test]
    fn wilson_matches_reference_values() {
        close(wilson_interval(50, 100, Z95), (0.4038, 0.5962));
        close(wilson_interval(0, 10, Z95), (0.0, 0.2775));
        close(wilson_interval(10, 10, Z95), (0.7225, 1.0));
        close(wilson_interval(1, 10, Z95), (0.0179, 0.4042));
        close(wilson_interval(81, 263, Z95), (0.2553, 0.3662));
        assert_eq!(wilson_interval(0, 10, Z95).0, 0.0);
        assert_eq!(wilson_interval(10, 10, Z95).1, 1.0);
    }

    #[test]
    fn wilson_of_nothing_is_zero() {
        assert_eq!(wilson_interval(0, 0, Z95), (0.0, 0.0));
        assert_eq!(wilson_interval(3, 0, Z95), (0.0, 0.0));
    }

    #[test]
    fn wilson_caps_successes_at_total() {
        assert_eq!(wilson_interval(12, 10, Z95), wilson_interval(10, 10, Z95));
    }

    #[test]
    fn verdict_split_gives_shares_and_intervals() {
        let split = verdict_split(&[
            ("eens".to_string(), 50),
            ("oneens".to_string(), 30),
            ("twijfel".to_string(), 20),
        ]);
        assert_eq!(split.len(), 3);
        assert_eq!(split[0].label, "eens");
        assert_eq!(split[0].total, 100);
        assert!((split[0].share - 0.5).abs() < 1e-12);
        close((split[0].low, split[0].high), (0.4038, 0.5962));
        assert!((split.iter().map(|s| s.share).sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(split.iter().all(|s| s.low <= s.share && s.share <= s.high));
    }

    #[test]
    fn verdict_split_of_no_verdicts_is_all_zero() {
        let split = verdict_split(&[("eens".to_string(), 0), ("oneens".to_string(), 0)]);
        assert!(
            split
                .iter()
                .all(|s| s.total == 0 && s.share == 0.0 && s.high == 0.0)
        );
    }

    fn table(groups: &[(&str, u64)]) -> GroupTable {
        let groups = groups
            .iter()
            .map(|(label, count)| (label.to_string(), *count))
            .collect();
        suppress_small_groups(groups, MIN_GROUP_SIZE)
    }

    fn counts(table: &GroupTable) -> Vec<Option<u64>> {
        table.cells.iter().map(|cell| cell.count).collect()
    }

    #[test]
    fn large_groups_are_shown() {
        let table = table(&[("18-30", 12), ("31-60", 40), ("60+", 9)]);
        assert_eq!(counts(&table), [Some(12), Some(40), Some(9)]);
        assert!(
            table
                .cells
                .iter()
                .all(|cell| !cell.suppressed && cell.reason.is_none())
        );
        assert_eq!(table.total, Some(61));
    }

    #[test]
    fn a_small_group_and_its_complement_are_hidden() {
        let table = table(&[("18-30", 3), ("31-60", 40), ("60+", 9)]);
        assert_eq!(counts(&table), [None, Some(40), None]);
        assert_eq!(table.cells[0].reason, Some(SuppressReason::Small));
        assert_eq!(table.cells[2].reason, Some(SuppressReason::Complementary));
        assert!(table.cells[2].suppressed);
        assert_eq!(table.total, Some(52));
    }

    #[test]
    fn two_small_groups_summing_under_the_minimum_need_a_third() {
        let table = table(&[("a", 1), ("b", 1), ("c", 30), ("d", 8)]);
        assert_eq!(counts(&table), [None, None, Some(30), None]);
        assert_eq!(table.cells[3].reason, Some(SuppressReason::Complementary));
    }

    #[test]
    fn two_small_groups_summing_to_the_minimum_suffice() {
        let table = table(&[("a", 2), ("b", 4), ("c", 30)]);
        assert_eq!(counts(&table), [None, None, Some(30)]);
        assert!(
            table
                .cells
                .iter()
                .all(|cell| cell.reason != Some(SuppressReason::Complementary))
        );
    }

    #[test]
    fn empty_groups_are_shown_and_never_count_as_complement() {
        let table = table(&[("a", 0), ("b", 2), ("c", 6), ("d", 7)]);
        assert_eq!(counts(&table), [Some(0), None, None, Some(7)]);
    }

    #[test]
    fn complement_ties_go_to_the_first_group() {
        let table = table(&[("a", 9), ("b", 4), ("c", 9)]);
        assert_eq!(counts(&table), [None, None, Some(9)]);
    }

    #[test]
    fn a_small_total_hides_everything() {
        let table = table(&[("a", 3), ("b", 0)]);
        assert_eq!(counts(&table), [None, Some(0)]);
        assert_eq!(table.total, None);
    }

    #[test]
    fn nobody_at_all_is_shown_as_zero() {
        let table = table(&[("a", 0), ("b", 0)]);
        assert_eq!(counts(&table), [Some(0), Some(0)]);
        assert_eq!(table.total, Some(0));
    }
}
