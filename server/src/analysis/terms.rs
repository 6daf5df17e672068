//! Frequent terms in Dutch texts (reasons, posts): words counted after dropping common
//! Dutch function words, for a word list or cloud in the analysis view.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Words shorter than this many letters are never counted.
pub const MIN_TERM_LETTERS: usize = 3;

/// Common Dutch function words (articles, pronouns, prepositions, conjunctions,
/// auxiliary and very common verbs, adverbs) that say nothing about the subject. Words
/// that carry an opinion in a deliberation — `eens`, `oneens`, `goed`, `slecht`,
/// `twijfel` — are deliberately absent. Lower case; the list is also used for words under
/// [`MIN_TERM_LETTERS`] letters, which are dropped anyway.
#[rustfmt::skip]
pub const STOP_WORDS: &[&str] = &[
    "aan", "achter", "af", "al", "alle", "alleen", "allemaal", "alles", "als", "alsof",
    "altijd", "ander", "andere", "anders", "bent", "ben", "bij", "bijna", "binnen", "boven",
    "daar", "daarbij", "daardoor", "daarin", "daarmee", "daarna", "daarom", "daarop",
    "daarvan", "daarvoor", "dan", "dat", "de", "den", "denk", "denken", "der", "deze",
    "die", "dit", "doe", "doen", "doet", "door", "dus", "echt", "echter", "een", "eigen",
    "eigenlijk", "elk", "elke", "en", "enige", "enkele", "er", "erg", "even", "ga", "gaan",
    "gaat", "gedaan", "geen", "geweest", "gewoon", "haar", "had", "hadden", "heb", "hebben",
    "hebt", "heeft", "heel", "hele", "hem", "hen", "het", "hetzelfde", "hier", "hij", "hoe",
    "hoewel", "hun", "ieder", "iedere", "iemand", "iets", "ik", "in", "is", "ja", "je",
    "jij", "jou", "jouw", "jullie", "kan", "kom", "komen", "komt", "kon", "konden", "kun",
    "kunnen", "kunt", "laat", "maar", "me", "meer", "men", "met", "mij", "mijn",
    "misschien", "moet", "moeten", "mogen", "na", "naar", "naast", "nee", "net", "niet",
    "niets", "nog", "nou", "nu", "of", "ofwel", "om", "omdat", "onder", "ons", "onze",
    "ook", "op", "over", "per", "reeds", "sinds", "sommige", "steeds", "te", "tegen",
    "tijdens", "toch", "toen", "tot", "tussen", "u", "uit", "uw", "van", "veel", "vind",
    "vinden", "vindt", "voor", "vooral", "waar", "waarbij", "waardoor", "waarin", "waarom",
    "wanneer", "want", "waren", "was", "wat", "we", "weer", "wel", "welk", "welke", "werd",
    "werden", "wie", "wij", "wil", "willen", "word", "worden", "wordt", "zal", "ze", "zeer",
    "zelf", "zich", "zij", "zijn", "zo", "zoals", "zodat", "zonder", "zou", "zouden",
    "zullen", "één",
];

static STOP_SET: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| STOP_WORDS.iter().copied().collect());

/// Whether `word` (lower case) is one of the [`STOP_WORDS`].
pub fn is_stop_word(word: &str) -> bool {
    STOP_SET.contains(word)
}

/// The `top` most frequent terms over all `texts`, with how often each occurs.
///
/// Texts are lower-cased and split on every character that is not a letter (letters
/// with diacritics such as `é` or `ë` are letters; digits, hyphens and apostrophes split
/// words: `auto's` gives `auto`). Words under [`MIN_TERM_LETTERS`] letters and
/// [`STOP_WORDS`] are dropped. Every occurrence counts. Equal counts are ordered by the
/// word (by Unicode code point, so `école` comes after `zorg`).
pub fn frequent_terms(texts: &[&str], top: usize) -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for text in texts {
        let lower = text.to_lowercase();
        for word in lower.split(|c: char| !c.is_alphabetic()) {
            if word.chars().nth(MIN_TERM_LETTERS - 1).is_none() || is_stop_word(word) {
                continue;
            }
            match counts.get_mut(word) {
                Some(count) => *count += 1,
                None => {
                    counts.insert(word.to_string(), 1);
                }
            }
        }
    }
    let mut terms: Vec<(String, u64)> = counts.into_iter().collect();
    terms.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    terms.truncate(top);
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_removed() {
        let terms = frequent_terms(
            &[
                "Ik vind dat de zorg in het dorp niet goed is geregeld.",
                "De zorg is voor mij en voor de buren van groot belang.",
            ],
            10,
        );
        assert_eq!(
            terms,
            [
                ("zorg".to_string(), 2),
                ("belang".to_string(), 1),
                ("buren".to_string(), 1),
                ("dorp".to_string(), 1),
                ("geregeld".to_string(), 1),
                ("goed".to_string(), 1),
                ("groot".to_string(), 1),
            ]
        );
    }

    #[test]
    fn the_stop_word_list_is_lower_case_without_doubles() {
        assert!(STOP_WORDS.len() >= 150, "{} stop words", STOP_WORDS.len());
        assert_eq!(STOP_SET.len(), STOP_WORDS.len());
        assert!(STOP_WORDS.iter().all(|w| w.to_lowercase() == *w));
        for opinion in ["eens", "oneens", "twijfel", "goed", "slecht", "zorg"] {
            assert!(!is_stop_word(opinion), "{opinion}");
        }
    }

    #[test]
    fn words_keep_diacritics_and_split_on_other_characters() {
        let terms = frequent_terms(
            &["Één café, twee cafés; ÉÉN CAFÉ! auto's 112-meldkamer"],
            10,
        );
        assert_eq!(
            terms,
            [
                ("café".to_string(), 2),
                ("auto".to_string(), 1),
                ("cafés".to_string(), 1),
                ("meldkamer".to_string(), 1),
                ("twee".to_string(), 1),
            ]
        );
    }

    #[test]
    fn short_words_are_dropped() {
        let terms = frequent_terms(&["ok xl wmo wmo ab"], 10);
        assert_eq!(terms, [("wmo".to_string(), 2)]);
    }

    #[test]
    fn ties_are_alphabetical_and_top_cuts() {
        let terms = frequent_terms(&["wijk buurt wijk buurt straat dorp"], 3);
        assert_eq!(
            terms,
            [
                ("buurt".to_string(), 2),
                ("wijk".to_string(), 2),
                ("dorp".to_string(), 1)
            ]
        );
        assert!(frequent_terms(&["wijk"], 0).is_empty());
        assert!(frequent_terms(&[], 5).is_empty());
    }
}
