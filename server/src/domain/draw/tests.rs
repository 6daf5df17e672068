//! Tests of the draw: quotas met by every panel of the lottery, the maximin value on pools
//! where it is known by hand, reproducibility from the seed, and fairness over repeated
//! draws.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::*;

const BUDGET: Duration = Duration::from_secs(60);

fn feature(name: &str, quotas: &[(&str, u32, u32)]) -> Feature {
    Feature {
        name: name.to_string(),
        quotas: quotas
            .iter()
            .map(|(v, min, max)| {
                (
                    v.to_string(),
                    Quota {
                        min: *min,
                        max: *max,
                    },
                )
            })
            .collect(),
    }
}

fn member(id: i64, values: &[&str]) -> Member {
    Member {
        id,
        values: values.iter().map(|v| v.to_string()).collect(),
        deficit: 0.0,
    }
}

/// A deterministic pool: `n` members over three features with uneven shares.
fn pool(n: i64) -> Vec<Member> {
    let ages = ["18-34", "35-49", "50-64", "65-74", "75+", UNKNOWN];
    let age_weights = [22, 25, 25, 13, 10, 5];
    let districts = ["Noord", "Oost", "Zuid", "West", "Centrum", "Buiten"];
    let wmo = ["zelf", "naaste", "geen", UNKNOWN];
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let pick = |weights: &[u32], rng: &mut ChaCha20Rng| {
        let total: u32 = weights.iter().sum();
        let mut x = rng.gen_range(0..total);
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    };
    (1..=n)
        .map(|id| {
            let a = pick(&age_weights, &mut rng);
            let d = pick(&[18, 22, 20, 20, 12, 8], &mut rng);
            let w = pick(&[15, 25, 55, 5], &mut rng);
            member(id, &[ages[a], districts[d], wmo[w]])
        })
        .collect()
}

fn spec_for(members: &[Member], size: u32, tolerance: u32) -> Spec {
    let names = ["age_band", "district", "wmo_experience"];
    let features = names
        .iter()
        .enumerate()
        .map(|(f, name)| {
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for m in members {
                *counts.entry(m.values[f].clone()).or_default() += 1;
            }
            let total = members.len() as f64;
            Feature {
                name: name.to_string(),
                quotas: counts
                    .into_iter()
                    .map(|(v, c)| (v, Quota::from_share(f64::from(c) / total, size, tolerance)))
                    .collect(),
            }
        })
        .collect();
    Spec { size, features }
}

fn meets(spec: &Spec, plan: &Plan, seats: &[u32]) -> bool {
    if seats.iter().sum::<u32>() != spec.size {
        return false;
    }
    spec.features.iter().enumerate().all(|(f, feature)| {
        let mut per: HashMap<&str, u32> = HashMap::new();
        for (t, ty) in plan.types.iter().enumerate() {
            *per.entry(ty[f].as_str()).or_default() += seats[t];
        }
        per.iter().all(|(v, n)| match feature.quotas.get(*v) {
            Some(q) => q.min <= *n && *n <= q.max,
            None => *n == 0,
        }) && feature
            .quotas
            .iter()
            .all(|(v, q)| per.get(v.as_str()).copied().unwrap_or(0) >= q.min)
    })
}

#[test]
fn quota_from_share_rounds_outwards_and_adds_the_tolerance() {
    assert_eq!(Quota::from_share(0.25, 250, 0), Quota { min: 62, max: 63 });
    assert_eq!(Quota::from_share(0.2, 250, 0), Quota { min: 50, max: 50 });
    assert_eq!(Quota::from_share(0.2, 250, 3), Quota { min: 47, max: 53 });
    assert_eq!(Quota::from_share(0.01, 250, 5), Quota { min: 0, max: 8 });
    assert_eq!(Quota::from_share(1.0, 10, 4), Quota { min: 6, max: 10 });
}

#[test]
fn a_small_type_with_a_fixed_seat_gets_the_same_chance_as_everyone() {
    // 2 of type A, 8 of type B, 5 seats, exactly one seat for A: every panel is 1 A + 4 B,
    // so each A has 1/2 and each B 4/8.
    let members: Vec<Member> = (1..=10)
        .map(|id| member(id, &[if id <= 2 { "A" } else { "B" }]))
        .collect();
    let spec = Spec {
        size: 5,
        features: vec![feature("f", &[("A", 1, 1), ("B", 0, 5)])],
    };
    let plan = plan(&spec, &members, BUDGET).unwrap();
    assert!((plan.min_probability - 0.5).abs() < 1e-6, "{plan:?}");
    assert_eq!(plan.unseatable, 0);
}

#[test]
fn loose_quotas_give_everyone_size_over_pool() {
    let members: Vec<Member> = (1..=12)
        .map(|id| member(id, &[if id % 3 == 0 { "A" } else { "B" }]))
        .collect();
    let spec = Spec {
        size: 6,
        features: vec![feature("f", &[("A", 0, 6), ("B", 0, 6)])],
    };
    let plan = plan(&spec, &members, BUDGET).unwrap();
    assert!((plan.min_probability - 0.5).abs() < 1e-6, "{plan:?}");
}

#[test]
fn an_overrepresented_value_caps_its_members_chances_but_not_the_others() {
    // 4 A and 16 B; 5 seats with at least 3 for A: A's chances are at least 3/4, B's at
    // most 2/16, and the maximin is B's 2/16 = 0.125 (the cap on B decides).
    let members: Vec<Member> = (1..=20)
        .map(|id| member(id, &[if id <= 4 { "A" } else { "B" }]))
        .collect();
    let spec = Spec {
        size: 5,
        features: vec![feature("f", &[("A", 3, 5), ("B", 0, 2)])],
    };
    let plan = plan(&spec, &members, BUDGET).unwrap();
    assert!((plan.min_probability - 0.125).abs() < 1e-6, "{plan:?}");
    let a = plan.probability_of(&["A".to_string()]);
    assert!(a >= 0.75 - 1e-6, "{a}");
}

#[test]
fn every_panel_of_the_lottery_meets_every_quota_and_chances_add_up_to_the_seats() {
    let members = pool(300);
    let spec = spec_for(&members, 60, 1);
    let plan = plan(&spec, &members, BUDGET).unwrap();
    let total: f64 = plan.panels.iter().map(|(_, w)| w).sum();
    assert!((total - 1.0).abs() < 1e-6);
    for (seats, _) in &plan.panels {
        assert!(
            meets(&spec, &plan, seats),
            "panel breaks a quota: {seats:?}"
        );
    }
    let expected_seats: f64 = plan
        .type_probabilities
        .iter()
        .zip(&plan.type_sizes)
        .map(|(p, n)| p * f64::from(*n))
        .sum();
    assert!((expected_seats - 60.0).abs() < 1e-4, "{expected_seats}");
    // Proportional quotas with a seat of slack leave room for nearly equal chances.
    assert!(plan.min_probability > 0.15, "{}", plan.min_probability);
    assert!(plan.min_probability <= 60.0 / 300.0 + 1e-9);
}

#[test]
fn the_selection_meets_the_quotas_and_is_the_same_for_the_same_seed() {
    let members = pool(200);
    let spec = spec_for(&members, 40, 1);
    let plan = plan(&spec, &members, BUDGET).unwrap();
    let a = select(
        &plan,
        &members,
        &mut stream(3, "lotto 2026-11-28: 4 12 19 27 33 41", 0),
    );
    let b = select(
        &plan,
        &members,
        &mut stream(3, "lotto 2026-11-28: 4 12 19 27 33 41", 0),
    );
    let c = select(
        &plan,
        &members,
        &mut stream(3, "lotto 2026-11-28: 4 12 19 27 33 42", 0),
    );
    let d = select(
        &plan,
        &members,
        &mut stream(4, "lotto 2026-11-28: 4 12 19 27 33 41", 0),
    );
    assert_eq!(a, b);
    assert_ne!(a.chosen, c.chosen, "another seed, another panel");
    assert_ne!(a.chosen, d.chosen, "another case, another panel");
    assert_eq!(a.chosen.len(), 40);
    let by_id: HashMap<i64, &Member> = members.iter().map(|m| (m.id, m)).collect();
    let mut seats = vec![0u32; plan.types.len()];
    for id in &a.chosen {
        let t = plan
            .types
            .iter()
            .position(|t| *t == by_id[id].values)
            .unwrap();
        seats[t] += 1;
    }
    assert!(meets(&spec, &plan, &seats));
}

#[test]
fn a_minimum_the_pool_cannot_fill_is_named() {
    let members: Vec<Member> = (1..=10)
        .map(|id| member(id, &[if id <= 2 { "A" } else { "B" }]))
        .collect();
    let spec = Spec {
        size: 5,
        features: vec![feature("f", &[("A", 3, 5), ("B", 0, 5)])],
    };
    assert_eq!(
        plan(&spec, &members, BUDGET).unwrap_err(),
        DrawError::TooFewInPool {
            feature: "f".into(),
            value: "A".into(),
            min: 3,
            available: 2
        }
    );
    let spec = Spec {
        size: 11,
        features: vec![],
    };
    assert!(matches!(
        plan(&spec, &members, BUDGET),
        Err(DrawError::PoolTooSmall { pool: 10, size: 11 })
    ));
}

#[test]
fn quotas_that_cannot_hold_together_are_infeasible() {
    // Everyone young lives in the north: at least 3 young and at most 1 northerner
    // cannot both hold.
    let members: Vec<Member> = (1..=10)
        .map(|id| {
            if id <= 5 {
                member(id, &["jong", "noord"])
            } else {
                member(id, &["oud", "zuid"])
            }
        })
        .collect();
    let spec = Spec {
        size: 4,
        features: vec![
            feature("age", &[("jong", 3, 4), ("oud", 0, 4)]),
            feature("district", &[("noord", 0, 1), ("zuid", 0, 4)]),
        ],
    };
    assert_eq!(
        plan(&spec, &members, BUDGET).unwrap_err(),
        DrawError::Infeasible
    );
}

#[test]
fn members_no_panel_can_seat_are_counted_and_left_out_of_the_minimum() {
    let members: Vec<Member> = (1..=10)
        .map(|id| member(id, &[if id <= 2 { UNKNOWN } else { "B" }]))
        .collect();
    let spec = Spec {
        size: 4,
        features: vec![feature("f", &[("B", 4, 4)])],
    };
    let plan = plan(&spec, &members, BUDGET).unwrap();
    assert_eq!(plan.unseatable, 2);
    assert!((plan.min_probability - 0.5).abs() < 1e-6);
    assert_eq!(plan.probability_of(&[UNKNOWN.to_string()]), 0.0);
}

#[test]
fn over_repeated_draws_nobody_is_drawn_twice_before_everyone_of_their_type_once() {
    // 40 members, 10 seats, no binding quotas: four draws with deficits carried over
    // seat everyone exactly once.
    let mut members: Vec<Member> = (1..=40)
        .map(|id| member(id, &[if id % 2 == 0 { "A" } else { "B" }]))
        .collect();
    let spec = Spec {
        size: 10,
        features: vec![feature("f", &[("A", 5, 5), ("B", 5, 5)])],
    };
    let mut times: HashMap<i64, u32> = HashMap::new();
    for round in 0..4 {
        let plan = plan(&spec, &members, BUDGET).unwrap();
        let chosen = select(&plan, &members, &mut stream(round, "zaad", 0)).chosen;
        for m in &mut members {
            m.deficit += plan.probability_of(&m.values);
            if chosen.contains(&m.id) {
                m.deficit -= 1.0;
                *times.entry(m.id).or_default() += 1;
            }
        }
    }
    assert_eq!(times.len(), 40, "everyone drawn once");
    assert!(times.values().all(|t| *t == 1));
}

#[test]
fn replacements_come_from_the_same_type_and_are_reproducible() {
    let members: Vec<Member> = (1..=12)
        .map(|id| member(id, &[if id <= 6 { "A" } else { "B" }]))
        .collect();
    let leaving = vec![members[0].clone(), members[6].clone()];
    let candidates: Vec<Member> = members
        .iter()
        .filter(|m| [3, 4, 9].contains(&m.id))
        .cloned()
        .collect();
    let a = replacements(&leaving, &candidates, &mut stream(1, "s", 1));
    let b = replacements(&leaving, &candidates, &mut stream(1, "s", 1));
    assert_eq!(a, b);
    assert_eq!(a.len(), 2);
    assert!(a[0].0 == 1 && [3, 4].contains(&a[0].1));
    assert_eq!(a[1], (7, 9));
    let none = replacements(&leaving[1..], &candidates[..2], &mut stream(1, "s", 1));
    assert!(none.is_empty(), "no B left to take the seat");
}
