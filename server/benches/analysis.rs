//! Benchmarks of the analysis core on a synthetic case the size of a large real one:
//! 1,000 participants, 5,000 posts, 100,000 weighings (each participant weighs 100 posts
//! at random; three planted opinion groups, 10% passes), and 5,000 posts of about 300
//! characters of Dutch for verdicts and frequent terms. Target: the full analysis in
//! under one second on one core.
//!
//! Run with `cargo bench -p beraad --bench analysis`.

use std::hint::black_box;

use beraad::analysis::opinion::{OpinionSettings, Vote, opinion_map};
use beraad::analysis::stats::verdict_split;
use beraad::analysis::terms::frequent_terms;
use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::seq::{SliceRandom, index};
use rand::{Rng, SeedableRng};

const PARTICIPANTS: u64 = 1_000;
const POSTS: usize = 5_000;
const WEIGHINGS_EACH: usize = 100;
const GROUPS: u64 = 3;

/// The synthetic weighings: participant `p` belongs to group `p % 3`; each group leans
/// towards agreeing or disagreeing with each post, and a participant follows the lean
/// with chance 0.75, passes with chance 0.1 and goes against it otherwise.
fn weighings() -> Vec<Vote> {
    let mut rng = StdRng::seed_from_u64(2024);
    let lean: Vec<Vec<bool>> = (0..GROUPS)
        .map(|_| (0..POSTS).map(|_| rng.gen_bool(0.5)).collect())
        .collect();
    let mut votes = Vec::with_capacity(PARTICIPANTS as usize * WEIGHINGS_EACH);
    for participant in 0..PARTICIPANTS {
        let group = &lean[(participant % GROUPS) as usize];
        for post in index::sample(&mut rng, POSTS, WEIGHINGS_EACH) {
            let roll: f64 = rng.gen_range(0.0..1.0);
            let follows = if group[post] { 1 } else { -1 };
            let value = if roll < 0.75 {
                follows
            } else if roll < 0.85 {
                0
            } else {
                -follows
            };
            votes.push(Vote {
                participant,
                statement: post as u64,
                value,
            });
        }
    }
    votes
}

/// 5,000 posts of about 300 characters drawn from common Dutch words.
fn posts() -> Vec<String> {
    const WORDS: &[&str] = &[
        "de",
        "het",
        "een",
        "en",
        "van",
        "ik",
        "je",
        "dat",
        "die",
        "niet",
        "is",
        "op",
        "te",
        "in",
        "voor",
        "met",
        "zijn",
        "maar",
        "ook",
        "zorg",
        "gemeente",
        "wijkteam",
        "buurt",
        "mantelzorg",
        "ouderen",
        "jongeren",
        "wachtlijst",
        "budget",
        "huishoudelijke",
        "hulp",
        "indicatie",
        "wmo",
        "thuiszorg",
        "vervoer",
        "dagbesteding",
        "kosten",
        "eigen",
        "bijdrage",
        "keukentafelgesprek",
        "zorgaanbieder",
        "wethouder",
        "besluit",
        "eerlijk",
        "oneerlijk",
        "goed",
        "slecht",
        "belangrijk",
        "begrijpelijk",
        "café",
        "één",
        "misschien",
        "zeker",
        "bezuiniging",
        "toegankelijk",
        "welzijn",
        "inwoners",
    ];
    let mut rng = StdRng::seed_from_u64(7);
    (0..POSTS)
        .map(|_| {
            let mut post = String::with_capacity(320);
            while post.len() < 300 {
                if !post.is_empty() {
                    post.push_str(if rng.gen_bool(0.1) { ". " } else { " " });
                }
                post.push_str(WORDS.choose(&mut rng).copied().unwrap_or("zorg"));
            }
            post
        })
        .collect()
}

/// 5,000 verdict words, counted as the service would.
fn verdicts() -> Vec<&'static str> {
    let mut rng = StdRng::seed_from_u64(11);
    (0..POSTS)
        .map(|_| match rng.gen_range(0..10) {
            0..=4 => "eens",
            5..=7 => "oneens",
            _ => "twijfel",
        })
        .collect()
}

fn split(verdicts: &[&str]) -> Vec<beraad::analysis::stats::Share> {
    let mut counts: Vec<(String, u64)> = ["eens", "oneens", "twijfel"]
        .iter()
        .map(|w| (w.to_string(), 0))
        .collect();
    for verdict in verdicts {
        if let Some(slot) = counts.iter_mut().find(|(label, _)| label == verdict) {
            slot.1 += 1;
        }
    }
    verdict_split(&counts)
}

fn bench(c: &mut Criterion) {
    let votes = weighings();
    let posts = posts();
    let texts: Vec<&str> = posts.iter().map(String::as_str).collect();
    let verdicts = verdicts();
    let settings = OpinionSettings::default();

    let mut group = c.benchmark_group("analysis");
    group.sample_size(10);
    group.bench_function("opinion_map 1000x5000 100k weighings", |b| {
        b.iter(|| opinion_map(black_box(&votes), &settings))
    });
    group.bench_function("verdict_split 5000 verdicts", |b| {
        b.iter(|| split(black_box(&verdicts)))
    });
    group.bench_function("frequent_terms 5000 posts x 300 chars", |b| {
        b.iter(|| frequent_terms(black_box(&texts), 50))
    });
    group.bench_function("full analysis", |b| {
        b.iter(|| {
            (
                opinion_map(black_box(&votes), &settings),
                split(black_box(&verdicts)),
                frequent_terms(black_box(&texts), 50),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
