//! Benchmark of the panel draw: 250 seats from a pool of 1,000 on three features (age
//! band, district, own Wmo experience) whose make-up differs from the municipality's, as a
//! letter-recruited pool does (older residents and Wmo users answer more often). Targets
//! are Dutch municipal shares; "onbekend" keeps its pool share.
//!
//! `cargo bench -p beraad --bench draw` prints one JSON line per run with the maximin
//! value and the time. With `-- --write DIR` it also writes the pool (`people.csv`) and the
//! quotas (`features.csv`) in the layout the Python `sortition-algorithms` package reads,
//! for `scripts/compare-draw`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use beraad::domain::draw::{self, Feature, Member, Quota, Spec, UNKNOWN};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const POOL: i64 = 1_000;
const SEATS: u32 = 250;
const TOLERANCE: u32 = 2;

/// (value, share among adult residents, share among pool members who answered).
type Shares = [(&'static str, f64, f64)];

const AGES: [(&str, f64, f64); 5] = [
    ("18-34", 0.27, 0.15),
    ("35-49", 0.23, 0.19),
    ("50-64", 0.25, 0.29),
    ("65-74", 0.14, 0.23),
    ("75+", 0.11, 0.14),
];
const DISTRICTS: [(&str, f64, f64); 10] = [
    ("Centrum", 0.06, 0.05),
    ("Dorp", 0.07, 0.09),
    ("Buytenwegh", 0.11, 0.12),
    ("Driemanspolder", 0.05, 0.06),
    ("Meerzicht", 0.12, 0.11),
    ("Noordhove", 0.08, 0.10),
    ("Oosterheem", 0.17, 0.12),
    ("Palenstein", 0.07, 0.06),
    ("Rokkeveen", 0.14, 0.16),
    ("Seghwaert", 0.13, 0.13),
];
const WMO: [(&str, f64, f64); 3] = [
    ("zelf", 0.08, 0.16),
    ("naaste", 0.17, 0.24),
    ("geen", 0.75, 0.60),
];
/// Pool members who did not answer a feature (or did not consent).
const UNKNOWN_SHARE: f64 = 0.05;

fn pick(rng: &mut ChaCha20Rng, values: &Shares) -> &'static str {
    if rng.r#gen::<f64>() < UNKNOWN_SHARE {
        return UNKNOWN;
    }
    let mut x = rng.r#gen::<f64>();
    for (v, _, pool) in values {
        if x < *pool {
            return v;
        }
        x -= pool;
    }
    values[values.len() - 1].0
}

fn pool() -> Vec<Member> {
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    (1..=POOL)
        .map(|id| Member {
            id,
            values: vec![
                pick(&mut rng, &AGES).to_string(),
                pick(&mut rng, &DISTRICTS).to_string(),
                pick(&mut rng, &WMO).to_string(),
            ],
            deficit: 0.0,
        })
        .collect()
}

fn spec(members: &[Member]) -> Spec {
    let features: [(&str, &Shares); 3] = [
        ("age_band", &AGES),
        ("district", &DISTRICTS),
        ("wmo_experience", &WMO),
    ];
    Spec {
        size: SEATS,
        features: features
            .iter()
            .enumerate()
            .map(|(f, (name, values))| {
                let unknown = members.iter().filter(|m| m.values[f] == UNKNOWN).count() as f64
                    / members.len() as f64;
                let mut quotas: BTreeMap<String, Quota> = values
                    .iter()
                    .map(|(v, population, _)| {
                        let share = population * (1.0 - unknown);
                        (v.to_string(), Quota::from_share(share, SEATS, TOLERANCE))
                    })
                    .collect();
                quotas.insert(UNKNOWN.into(), Quota::from_share(unknown, SEATS, TOLERANCE));
                Feature {
                    name: name.to_string(),
                    quotas,
                }
            })
            .collect(),
    }
}

fn write_inputs(dir: &std::path::Path, members: &[Member], spec: &Spec) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut people = std::fs::File::create(dir.join("people.csv"))?;
    writeln!(people, "id,age_band,district,wmo_experience")?;
    for m in members {
        writeln!(people, "{},{}", m.id, m.values.join(","))?;
    }
    let mut features = std::fs::File::create(dir.join("features.csv"))?;
    writeln!(features, "feature,value,min,max")?;
    for f in &spec.features {
        for (value, q) in &f.quotas {
            writeln!(features, "{},{},{},{}", f.name, value, q.min, q.max)?;
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let members = pool();
    let spec = spec(&members);
    if let Some(i) = args.iter().position(|a| a == "--write") {
        let dir = args.get(i + 1).expect("--write DIR");
        write_inputs(std::path::Path::new(dir), &members, &spec).expect("write inputs");
    }
    let runs = if args.iter().any(|a| a == "--test") {
        1
    } else {
        3
    };
    for run in 0..runs {
        let started = Instant::now();
        let plan = draw::plan(&spec, &members, Duration::from_secs(300)).expect("plan");
        let planned = started.elapsed();
        let selection = draw::select(&plan, &members, &mut draw::stream(1, "bench", 0));
        let total = started.elapsed();
        println!(
            "{}",
            serde_json::json!({
                "run": run,
                "pool": members.len(),
                "seats": SEATS,
                "types": plan.types.len(),
                "min_probability": plan.min_probability,
                "unseatable": plan.unseatable,
                "lottery_panels": plan.panels.len(),
                "rounds": plan.rounds,
                "plan_seconds": planned.as_secs_f64(),
                "total_seconds": total.as_secs_f64(),
                "seated": selection.chosen.len(),
            })
        );
    }
}
