//! Property tests of the screening: for any text it ends without a panic and reports
//! findings inside the draft on character boundaries; a valid BSN or IBAN is caught
//! whatever invisible characters, separators and digit forms a writer mixes into it.

use proptest::prelude::*;

use super::{Kind, Policy, Reason, screen};

/// Characters a writer can slip between digits without changing what a reader sees.
const INVISIBLE: &[char] = &[
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{00AD}', '\u{FEFF}', '\u{0301}',
];
/// Separators readers take for a pause between digit groups.
const SEPARATORS: &[&str] = &[" ", "-", ".", " - ", "\u{00A0}", "\u{2011}", "\u{2013}"];
/// Zero of a few decimal digit sets (ASCII, full width, Arabic-Indic, Devanagari,
/// mathematical bold).
const ZEROS: &[u32] = &[0x30, 0xFF10, 0x0660, 0x0966, 0x1D7CE];

/// Nine digits passing the 11-test (a valid BSN), from a seed of eight digits.
fn bsn_from(seed: [u8; 8]) -> Option<String> {
    let weights = [9, 8, 7, 6, 5, 4, 3, 2];
    let sum: i32 = seed
        .iter()
        .zip(weights)
        .map(|(d, w)| i32::from(*d) * w)
        .sum();
    // The last digit d satisfies (sum - d) % 11 == 0.
    let last = sum.rem_euclid(11);
    (last <= 9 && seed[0] != 0).then(|| {
        seed.iter()
            .map(|d| char::from(b'0' + d))
            .chain(std::iter::once(char::from(b'0' + last as u8)))
            .collect()
    })
}

/// Writes `digits` in the digit set starting at `zero`, with `noise` between them.
fn disguise(digits: &str, zero: u32, noise: &[(usize, usize)]) -> String {
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        let value = d.to_digit(10).unwrap_or(0);
        out.push(char::from_u32(zero + value).unwrap_or(d));
        if let Some((kind, pick)) = noise.get(i) {
            match kind % 3 {
                0 => out.push(INVISIBLE[pick % INVISIBLE.len()]),
                1 if i % 3 == 2 => out.push_str(SEPARATORS[pick % SEPARATORS.len()]),
                _ => {}
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn any_text_is_screened_without_panic_and_findings_point_into_it(text in "\\PC{0,400}") {
        let verdict = screen(&text, &Policy::default(), &[]);
        for f in &verdict.findings {
            prop_assert!(f.start < f.end && f.end <= text.len(), "{f:?} in {text:?}");
            prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        }
    }

    #[test]
    fn any_bytes_as_text_are_screened_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = screen(&text, &Policy::default(), &[&text]);
    }

    #[test]
    fn a_valid_bsn_is_caught_in_any_disguise(
        seed in proptest::array::uniform8(0u8..10),
        zero in proptest::sample::select(ZEROS),
        noise in proptest::collection::vec((0usize..3, 0usize..16), 9),
        before in "[a-zA-Z ]{0,30}",
    ) {
        let Some(bsn) = bsn_from(seed) else { return Ok(()) };
        let text = format!("{before} mijn nummer is {} graag", disguise(&bsn, zero, &noise));
        let verdict = screen(&text, &Policy::default(), &[]);
        prop_assert!(
            verdict.findings.iter().any(|f| f.reason == Reason::PersonalData(Kind::Bsn)),
            "missed {bsn} in {text:?}"
        );
    }
}
