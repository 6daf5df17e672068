//! The names a panelist appears under: a word pair and a number from the lists below,
//! drawn at random. A panelist has one such name per case they write in (others can not
//! follow them from case to case) and one on their panel (shown to themselves only).
//! Pure: no storage, no axum.

use rand::Rng;
use rand::seq::SliceRandom;

/// What others read where a panelist who left the panel kept their posts.
pub const FORMER_PANELIST: &str = "oud-panellid";

/// The reason a post carries once its author left the panel and had it removed.
pub const LEFT_REASON: &str = "vertrokken";

const ADJECTIVES: &[&str] = &[
    "Rustige", "Vrolijke", "Wijze", "Snelle", "Stille", "Dappere", "Zonnige", "Heldere", "Warme",
    "Kalme", "Nuchtere", "Open", "Trouwe", "Vlotte", "Zachte", "Frisse",
];
const NOUNS: &[&str] = &[
    "Reiger", "Linde", "Eik", "Merel", "Vos", "Otter", "Wilg", "Kievit", "Beuk", "Zwaluw", "Das",
    "Populier", "Specht", "Lijster", "Berk", "Egel",
];

/// A name drawn at random (16 × 16 × 90 = 23 040 possibilities); the caller makes it
/// unique where it must be.
pub fn random_name() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "{} {} {}",
        ADJECTIVES.choose(&mut rng).copied().unwrap_or("Open"),
        NOUNS.choose(&mut rng).copied().unwrap_or("Linde"),
        rng.gen_range(10..100)
    )
}

/// A name drawn at random with a wider number (10–9999), for the rare case where twenty
/// draws of [`random_name`] were all taken in one case.
pub fn random_name_wide() -> String {
    let base = random_name();
    let n = rand::thread_rng().gen_range(100..10_000);
    match base.rsplit_once(' ') {
        Some((words, _)) => format!("{words} {n}"),
        None => format!("{base} {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_two_words_and_a_number() {
        for _ in 0..100 {
            let name = random_name();
            let parts: Vec<&str> = name.split(' ').collect();
            assert_eq!(parts.len(), 3, "{name}");
            assert!(ADJECTIVES.contains(&parts[0]) && NOUNS.contains(&parts[1]));
            let n: u32 = parts[2].parse().expect("number");
            assert!((10..100).contains(&n));
            assert_ne!(name, FORMER_PANELIST);
        }
        let wide = random_name_wide();
        let n: u32 = wide.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((100..10_000).contains(&n));
    }
}
