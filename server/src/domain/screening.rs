//! Automatic screening of a draft before anyone else reads it: personal data (BSN, IBAN,
//! phone numbers, e-mail addresses, postcodes and street addresses), banned and suspect
//! words, links and texts the author posted before.
//!
//! Pure code: [`screen`] takes the draft, the panel's [`Policy`] and the author's earlier
//! texts in the same case and returns a [`Verdict`] listing every [`Finding`] with byte
//! offsets into the draft, so a page can highlight what to change. The detectors are hand
//! written scanners and are tuned against false negatives: a resident's personal data
//! shown to the panel is worse than a post held for a moderator. They read the draft as a
//! reader sees it ([`Normalized`]): compatibility forms folded (NFKC), every decimal digit
//! as its ASCII value, invisible format characters and combining marks left out. Characters
//! that change the writing direction are refused, because with them the reader would see
//! something other than what is checked. The rules, and what they knowingly miss, are
//! described in `docs/moderation.md`.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{canonical_combining_class, compose, is_combining_mark};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// What a panel allows; set per municipality or case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Words or phrases that reject a draft: whole words, case-insensitive, accents kept
    /// (`café` does not match `cafe`). Whitespace inside a phrase matches any whitespace.
    pub banned_words: Vec<String>,
    /// Words or phrases that hold a draft for a moderator; matched like `banned_words`.
    pub suspect_words: Vec<String>,
    /// Whether links to websites are shown without a moderator's look first.
    pub allow_links: bool,
}

/// What happens to a draft. Ordered from mild to strict, so the strictest of several
/// outcomes is their maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Shown to the panel at once.
    Accept,
    /// Kept from the panel until a moderator has looked at it.
    Hold,
    /// Refused: the author has to change the text.
    Reject,
}

/// The kind of personal data (*persoonsgegevens*) a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A citizen service number (*burgerservicenummer*): nine digits passing the 11-test.
    Bsn,
    /// A bank account number (IBAN), or a Dutch-looking one with a typo in it.
    Iban,
    /// A Dutch (or international) telephone number.
    Phone,
    /// An e-mail address, also written with spaces or spelled out.
    Email,
    /// A postcode (with or without house number) or a street name with a house number.
    Postcode,
}

impl Kind {
    /// A stable short name for logs and moderator screens, e.g. `telefoon`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bsn => "bsn",
            Kind::Iban => "iban",
            Kind::Phone => "telefoon",
            Kind::Email => "e-mail",
            Kind::Postcode => "adres",
        }
    }
}

/// Why a part of a draft was flagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Something that identifies a person.
    PersonalData(Kind),
    /// A word from [`Policy::banned_words`].
    BannedWord,
    /// A word from [`Policy::suspect_words`].
    SuspectWord,
    /// A link to a website while [`Policy::allow_links`] is off.
    Link,
    /// The same text as one of the author's earlier texts in this case.
    Repeated,
    /// A character that changes the writing direction (bidi override, embedding, isolate
    /// or mark): with it, readers see the text in another order than the check reads it.
    DirectionControl,
}

impl Reason {
    /// The stable machine code: `persoonsgegevens` for every kind of personal data,
    /// `verboden_woord`, `verdacht_woord`, `link`, `herhaling` or `richtingteken`.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::PersonalData(_) => "persoonsgegevens",
            Reason::BannedWord => "verboden_woord",
            Reason::SuspectWord => "verdacht_woord",
            Reason::Link => "link",
            Reason::Repeated => "herhaling",
            Reason::DirectionControl => "richtingteken",
        }
    }

    /// What a finding for this reason does to the draft: banned words and direction
    /// controls reject, everything else holds.
    pub fn outcome(&self) -> Outcome {
        match self {
            Reason::BannedWord | Reason::DirectionControl => Outcome::Reject,
            _ => Outcome::Hold,
        }
    }

    /// The plain Dutch explanation shown to the author. It never contains the text found.
    pub fn message(&self) -> &'static str {
        match self {
            Reason::PersonalData(Kind::Bsn) => {
                "Uw tekst lijkt een burgerservicenummer (BSN) te bevatten. Haal het nummer \
                 weg: andere panelleden mogen geen persoonsgegevens zien."
            }
            Reason::PersonalData(Kind::Iban) => {
                "Uw tekst lijkt een bankrekeningnummer (IBAN) te bevatten. Haal het nummer \
                 weg: andere panelleden mogen geen persoonsgegevens zien."
            }
            Reason::PersonalData(Kind::Phone) => {
                "Uw tekst lijkt een telefoonnummer te bevatten. Haal het nummer weg: andere \
                 panelleden mogen geen persoonsgegevens zien."
            }
            Reason::PersonalData(Kind::Email) => {
                "Uw tekst lijkt een e-mailadres te bevatten. Haal het e-mailadres weg: andere \
                 panelleden mogen geen persoonsgegevens zien."
            }
            Reason::PersonalData(Kind::Postcode) => {
                "Uw tekst lijkt een adres of postcode te bevatten. Haal het adres weg: andere \
                 panelleden mogen niet kunnen zien waar iemand woont."
            }
            Reason::BannedWord => {
                "Uw tekst bevat een woord dat hier niet is toegestaan. Haal het woord weg of \
                 zeg het op een andere manier. Daarna kunt u uw bericht opnieuw plaatsen."
            }
            Reason::SuspectWord => {
                "Uw tekst bevat een woord waar een moderator eerst naar kijkt. Uw bericht is \
                 pas voor anderen zichtbaar als de moderator het heeft bekeken."
            }
            Reason::Link => {
                "Uw tekst bevat een link naar een website. Een moderator kijkt eerst naar \
                 uw bericht voordat anderen het zien. Haal de link weg als u niet wilt wachten."
            }
            Reason::Repeated => {
                "U heeft deze tekst al eerder geplaatst in dit gesprek. Een moderator kijkt \
                 eerst naar uw bericht voordat anderen het zien."
            }
            Reason::DirectionControl => {
                "Uw tekst bevat onzichtbare tekens die de schrijfrichting veranderen. Daardoor \
                 kan een lezer iets anders zien dan er staat. Haal die tekens weg, bijvoorbeeld \
                 door het gemarkeerde stuk opnieuw te typen."
            }
        }
    }

    /// The English twin of [`Reason::message`], for logs and English-speaking staff.
    pub fn message_en(&self) -> &'static str {
        match self {
            Reason::PersonalData(Kind::Bsn) => {
                "Your text seems to contain a citizen service number (BSN). Remove the \
                 number: other panelists may not see personal data."
            }
            Reason::PersonalData(Kind::Iban) => {
                "Your text seems to contain a bank account number (IBAN). Remove the number: \
                 other panelists may not see personal data."
            }
            Reason::PersonalData(Kind::Phone) => {
                "Your text seems to contain a telephone number. Remove the number: other \
                 panelists may not see personal data."
            }
            Reason::PersonalData(Kind::Email) => {
                "Your text seems to contain an e-mail address. Remove the address: other \
                 panelists may not see personal data."
            }
            Reason::PersonalData(Kind::Postcode) => {
                "Your text seems to contain an address or postcode. Remove the address: other \
                 panelists may not be able to tell where someone lives."
            }
            Reason::BannedWord => {
                "Your text contains a word that is not allowed here. Remove the word or say \
                 it differently, then post your message again."
            }
            Reason::SuspectWord => {
                "Your text contains a word a moderator looks at first. Your message becomes \
                 visible to others once the moderator has checked it."
            }
            Reason::Link => {
                "Your text contains a link to a website. A moderator looks at your message \
                 before others see it. Remove the link if you do not want to wait."
            }
            Reason::Repeated => {
                "You have posted this text before in this discussion. A moderator looks at \
                 your message before others see it."
            }
            Reason::DirectionControl => {
                "Your text contains invisible characters that change the writing direction, \
                 so a reader could see something other than what is written. Remove them, \
                 for example by typing the marked part again."
            }
        }
    }

    /// Order of reasons at the same position, so the list of findings is deterministic.
    fn rank(&self) -> u8 {
        match self {
            Reason::PersonalData(kind) => priority(*kind),
            Reason::BannedWord => 5,
            Reason::SuspectWord => 6,
            Reason::Link => 7,
            Reason::Repeated => 8,
            Reason::DirectionControl => 9,
        }
    }
}

/// One flagged part of a draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Why it was flagged.
    pub reason: Reason,
    /// What this finding alone does to the draft.
    pub outcome: Outcome,
    /// Byte offset in the draft where the flagged text starts.
    pub start: usize,
    /// Byte offset in the draft just after the flagged text.
    pub end: usize,
    /// Plain Dutch explanation for the author; never contains the flagged text.
    pub message: String,
}

impl Finding {
    fn new(reason: Reason, start: usize, end: usize) -> Self {
        Finding {
            reason,
            outcome: reason.outcome(),
            start,
            end,
            message: reason.message().to_owned(),
        }
    }
}

/// The result of screening one draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The strictest outcome of the findings; [`Outcome::Accept`] when there are none.
    pub outcome: Outcome,
    /// Every finding, in order of position in the draft.
    pub findings: Vec<Finding>,
}

/// Screens a draft before anyone else sees it. `previous` are the author's earlier texts
/// in the same case; the same text again (ignoring case and extra whitespace) is held.
/// Pure and deterministic: the same input always gives the same verdict.
pub fn screen(draft: &str, policy: &Policy, previous: &[&str]) -> Verdict {
    let norm = Normalized::new(draft);
    let text = norm.text.as_str();
    let emails = find_emails(text);
    let numbers = NumberChains::new(text);
    let detected = [
        (Kind::Iban, find_ibans(text)),
        (Kind::Email, emails.clone()),
        (Kind::Phone, numbers.phones()),
        (Kind::Bsn, numbers.bsns()),
        (Kind::Postcode, find_postcodes(text)),
        (Kind::Postcode, find_streets(text)),
    ];
    let personal = detected
        .into_iter()
        .flat_map(|(kind, spans)| spans.into_iter().map(move |(s, e)| (kind, s, e)))
        .collect();

    // Offsets into the normalised text until the end, where they are mapped back.
    let mut found: Vec<(Reason, usize, usize)> = resolve_personal(personal)
        .into_iter()
        .map(|(kind, s, e)| (Reason::PersonalData(kind), s, e))
        .collect();

    if !policy.allow_links {
        for (s, e) in find_links(text) {
            // A domain inside an e-mail address is already reported as the address.
            if !emails.iter().any(|&(es, ee)| es <= s && e <= ee) {
                found.push((Reason::Link, s, e));
            }
        }
    }
    let starts = word_starts(text);
    for (words, reason) in [
        (&policy.banned_words, Reason::BannedWord),
        (&policy.suspect_words, Reason::SuspectWord),
    ] {
        for word in words {
            // The list is read like the draft, so `café` typed either way is one word.
            let word = Normalized::new(word).text;
            for (s, e) in find_word(text, &starts, &word) {
                found.push((reason, s, e));
            }
        }
    }

    let comparable_draft = comparable(text);
    if !comparable_draft.is_empty()
        && previous
            .iter()
            .any(|p| comparable(&Normalized::new(p).text) == comparable_draft)
    {
        let start = text.len() - text.trim_start().len();
        let end = text.trim_end().len();
        found.push((Reason::Repeated, start, end));
    }

    let mut findings: Vec<Finding> = found
        .into_iter()
        .filter(|&(_, s, e)| s < e)
        .map(|(reason, s, e)| {
            let (s, e) = norm.original(s, e);
            Finding::new(reason, s, e)
        })
        .collect();
    findings.extend(
        direction_controls(draft)
            .into_iter()
            .map(|(s, e)| Finding::new(Reason::DirectionControl, s, e)),
    );

    findings.sort_by_key(|f| (f.start, f.end, f.reason.rank()));
    findings.dedup_by(|a, b| a.reason == b.reason && a.start == b.start && a.end == b.end);
    let outcome = findings
        .iter()
        .map(|f| f.outcome)
        .max()
        .unwrap_or(Outcome::Accept);
    Verdict { outcome, findings }
}

/// Why a short text that nobody moderates before others read it (a profile's district, a
/// flag's note) may not be stored: the first finding of personal data or of a direction
/// control character, or `None` when it may. Links and words are not looked at here.
pub fn refusal(text: &str) -> Option<Reason> {
    personal_data(text).into_iter().next().map(|f| f.reason)
}

/// Every finding of personal data or of a direction control character in a text, in
/// order of position: what matters in a text that is not a panelist's post (the case text
/// staff write, a short note). Links and words are a panel's policy and not looked at.
pub fn personal_data(text: &str) -> Vec<Finding> {
    let allow_links = Policy {
        allow_links: true,
        ..Policy::default()
    };
    screen(text, &allow_links, &[])
        .findings
        .into_iter()
        .filter(|f| matches!(f.reason, Reason::PersonalData(_) | Reason::DirectionControl))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The draft as a reader sees it
// ---------------------------------------------------------------------------------------

/// The draft as the detectors read it: compatibility normalisation (NFKC, so `１`, `𝟏`
/// and `①` read `1`, `＠` reads `@`, a no-break space a space), every other decimal digit
/// (`١`, `१`, `๑` …) as its ASCII digit, hyphen look-alikes as `-`, and invisible
/// characters (format characters such as zero-width spaces, soft hyphens and direction
/// controls, other default-ignorable code points, and combining marks) left out. Each byte
/// remembers where in the draft it came from, so findings point into the draft.
struct Normalized {
    text: String,
    /// For every byte of `text`, the byte range in the draft of the character (with the
    /// combining marks that belong to it) it was made from.
    origin: Vec<(usize, usize)>,
}

impl Normalized {
    fn new(draft: &str) -> Self {
        let mut text = String::with_capacity(draft.len());
        let mut origin = Vec::with_capacity(draft.len());
        let mut chars = draft
            .char_indices()
            .filter(|&(_, c)| !is_invisible(c))
            .peekable();
        let mut segment = String::new();
        // NFKC per segment: a character with the marks (and Hangul jamo) that compose with
        // it, so every piece of output has one place in the draft it came from.
        while let Some((start, first)) = chars.next() {
            segment.clear();
            segment.push(first);
            let mut end = start + first.len_utf8();
            let mut last = first;
            while let Some(&(i, next)) = chars.peek() {
                let joins = is_combining_mark(next)
                    || canonical_combining_class(next) != 0
                    || compose(last, next).is_some();
                if !joins {
                    break;
                }
                segment.push(next);
                end = i + next.len_utf8();
                last = next;
                chars.next();
            }
            for c in segment.nfkc() {
                if is_invisible(c) || is_combining_mark(c) {
                    continue;
                }
                let c = fold(c);
                origin.extend(std::iter::repeat_n((start, end), c.len_utf8()));
                text.push(c);
            }
        }
        Normalized { text, origin }
    }

    /// The draft's byte range of the normalised `start..end` (not empty).
    fn original(&self, start: usize, end: usize) -> (usize, usize) {
        (self.origin[start].0, self.origin[end - 1].1)
    }
}

/// Characters a reader does not see: format characters (general category Cf: zero-width
/// space and joiners, soft hyphen, word joiner, byte order mark, direction controls, tags
/// …) and the other default-ignorable code points that are not combining marks (Hangul
/// fillers, the reserved U+2065, U+FFF0–U+FFF8 and U+E0000–U+E0FFF).
fn is_invisible(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
        || matches!(
            c,
            '\u{115f}'
                | '\u{1160}'
                | '\u{2065}'
                | '\u{3164}'
                | '\u{ffa0}'
                | '\u{fff0}'..='\u{fff8}'
                | '\u{e0000}'..='\u{e0fff}'
        )
}

/// One normalised character as the detectors want it: a decimal digit of any script as its
/// ASCII digit, a hyphen look-alike as `-`.
fn fold(c: char) -> char {
    if let Some(d) = decimal_value(c) {
        return char::from_digit(d, 10).unwrap_or(c);
    }
    match c {
        // Hyphen, non-breaking hyphen (NFKC makes it a hyphen), figure dash, hyphen bullet,
        // minus sign.
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2043}' | '\u{2212}' => '-',
        c => c,
    }
}

/// The value of a decimal digit of any script (general category Nd). Unicode encodes
/// every such set as ten consecutive code points from zero to nine and never breaks one
/// up, so the value is the distance from the start of the run of digits, modulo ten (the
/// mathematical digits are five sets in one run).
fn decimal_value(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return c.to_digit(10);
    }
    if c.general_category() != GeneralCategory::DecimalNumber {
        return None;
    }
    let mut zero = u32::from(c);
    while let Some(prev) = zero.checked_sub(1).and_then(char::from_u32)
        && prev.general_category() == GeneralCategory::DecimalNumber
    {
        zero -= 1;
    }
    Some((u32::from(c) - zero) % 10)
}

/// Characters that make a reader see text in another order than it is stored: the bidi
/// embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069) and the invisible
/// direction marks (U+200E, U+200F, U+061C), which can also reorder groups of digits.
fn is_direction_control(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}'
    )
}

/// Every run of direction controls in the draft, as byte offsets.
fn direction_controls(draft: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, c) in draft.char_indices() {
        if !is_direction_control(c) {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.1 == i => last.1 = i + c.len_utf8(),
            _ => out.push((i, i + c.len_utf8())),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------

/// Which personal-data detector wins when one finding lies inside another.
fn priority(kind: Kind) -> u8 {
    match kind {
        Kind::Iban => 0,
        Kind::Email => 1,
        Kind::Phone => 2,
        Kind::Bsn => 3,
        Kind::Postcode => 4,
    }
}

/// Merges overlapping findings of the same kind and drops a finding that lies wholly
/// inside one of a stronger kind (the digits of an IBAN are not also a phone number).
/// Partly overlapping findings of different kinds are both kept: nothing is lost.
fn resolve_personal(mut found: Vec<(Kind, usize, usize)>) -> Vec<(Kind, usize, usize)> {
    found.sort_by_key(|&(kind, s, e)| (priority(kind), s, e));
    let mut merged: Vec<(Kind, usize, usize)> = Vec::new();
    for (kind, s, e) in found {
        match merged.last_mut() {
            Some(last) if last.0 == kind && s < last.2 => last.2 = last.2.max(e),
            _ => merged.push((kind, s, e)),
        }
    }
    let mut kept: Vec<(Kind, usize, usize)> = Vec::new();
    for (kind, s, e) in merged {
        let inside_stronger = kept
            .iter()
            .any(|&(k, ks, ke)| k != kind && ks <= s && e <= ke);
        if !inside_stronger {
            kept.push((kind, s, e));
        }
    }
    kept
}

/// Lower case, trimmed, runs of whitespace collapsed to one space: what two texts must
/// share to be "the same text".
fn comparable(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A byte that belongs to a word: an ASCII letter or digit, or part of a non-ASCII
/// character (nearly always a letter in Dutch text).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// The character just before byte offset `i`.
fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i).and_then(|s| s.chars().next_back())
}

/// The character starting at byte offset `i`.
fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..).and_then(|s| s.chars().next())
}

/// Whether `b[i..]` starts with `word` (ASCII, case-insensitive).
fn starts_with_ci(b: &[u8], i: usize, word: &str) -> bool {
    b.get(i..i + word.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(word.as_bytes()))
}

/// The value of a short run of ASCII digits.
fn digits_value(digits: &str) -> u32 {
    digits.bytes().fold(0u32, |n, d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    })
}

// ---------------------------------------------------------------------------------------
// BSN and phone numbers: chains of digit groups
// ---------------------------------------------------------------------------------------

/// A maximal run of ASCII digits, as byte offsets.
#[derive(Clone, Copy, Debug)]
struct Group {
    start: usize,
    end: usize,
}

/// The draft's digit groups, joined into chains where people put separators between
/// groups of one number (`123 456 782`, `06-12 34 56 78`, `+31 (0)6 …`).
struct NumberChains<'a> {
    text: &'a str,
    chains: Vec<Vec<Group>>,
}

impl<'a> NumberChains<'a> {
    fn new(text: &'a str) -> Self {
        let b = text.as_bytes();
        let mut groups = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                groups.push(Group { start, end: i });
            } else {
                i += 1;
            }
        }
        let mut chains: Vec<Vec<Group>> = Vec::new();
        for g in groups {
            match chains.last_mut() {
                Some(chain)
                    if chain
                        .last()
                        .is_some_and(|prev| is_separator(&text[prev.end..g.start])) =>
                {
                    chain.push(g)
                }
                _ => chains.push(vec![g]),
            }
        }
        NumberChains { text, chains }
    }

    fn digits(&self, g: Group) -> &'a str {
        &self.text[g.start..g.end]
    }

    /// Dutch and international telephone numbers.
    fn phones(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for chain in &self.chains {
            if self.is_amount(chain) {
                continue;
            }
            let blocked = self.blocked(chain);
            let mut k = 0;
            while k < chain.len() {
                let plus = self.text.as_bytes().get(chain[k].start.wrapping_sub(1)) == Some(&b'+')
                    && chain[k].start > 0;
                if blocked[k] || !(plus || self.digits(chain[k]).starts_with('0')) {
                    k += 1;
                    continue;
                }
                let mut digits = String::new();
                let mut best = None;
                for m in k..chain.len() {
                    if blocked[m] {
                        break;
                    }
                    digits.push_str(self.digits(chain[m]));
                    if digits.len() > 15 {
                        break;
                    }
                    if is_phone(&digits, plus) {
                        best = Some(m);
                    }
                }
                match best {
                    Some(m) => {
                        let mut start = chain[k].start;
                        // Include the `+` of `+31` and the `(` of `(010) 123 45 67`.
                        if plus || (start > 0 && self.text.as_bytes()[start - 1] == b'(') {
                            start -= 1;
                        }
                        out.push((start, chain[m].end));
                        k = m + 1;
                    }
                    None => k += 1,
                }
            }
        }
        out
    }

    /// Nine digits passing the 11-test, or eight that pass it with a leading zero.
    fn bsns(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for chain in &self.chains {
            if self.is_amount(chain) {
                continue;
            }
            let blocked = self.blocked(chain);
            let mut k = 0;
            while k < chain.len() {
                let mut digits = String::new();
                let mut best = None;
                for m in k..chain.len() {
                    if blocked[m] {
                        break;
                    }
                    digits.push_str(self.digits(chain[m]));
                    match digits.len() {
                        9 if elf_proef(&digits) => best = Some(m),
                        8 if elf_proef(&format!("0{digits}")) => best = Some(m),
                        n if n > 9 => break,
                        _ => {}
                    }
                }
                match best {
                    Some(m) => {
                        out.push((chain[k].start, chain[m].end));
                        k = m + 1;
                    }
                    None => k += 1,
                }
            }
        }
        out
    }

    /// Groups that belong to a date (`12-03-2024`, `2024-03-12`), a year range
    /// (`2015-2019`) or a time range (`09.00-17.00`); these are not numbers of a person.
    /// Only dates with a four-digit year count, so `06-12-20-24-56` stays a phone number.
    fn blocked(&self, chain: &[Group]) -> Vec<bool> {
        let mut blocked = vec![false; chain.len()];
        let g = |k: usize| self.digits(chain[k]);
        let gap = |k: usize| &self.text[chain[k].end..chain[k + 1].start];
        let mark = |blocked: &mut Vec<bool>, from: usize, n: usize| {
            for flag in blocked.iter_mut().skip(from).take(n) {
                *flag = true;
            }
        };
        for k in 0..chain.len() {
            if k + 2 < chain.len() {
                let (a, b, c) = (g(k), g(k + 1), g(k + 2));
                let same_sep = gap(k) == gap(k + 1) && matches!(gap(k), "-" | "." | "/");
                let day_month_year = (1..=2).contains(&a.len())
                    && (1..=2).contains(&b.len())
                    && c.len() == 4
                    && (1..=31).contains(&digits_value(a))
                    && (1..=12).contains(&digits_value(b))
                    && is_year(c);
                let year_month_day = a.len() == 4
                    && is_year(a)
                    && (1..=2).contains(&b.len())
                    && (1..=2).contains(&c.len())
                    && (1..=12).contains(&digits_value(b))
                    && (1..=31).contains(&digits_value(c));
                if same_sep && (day_month_year || year_month_day) {
                    mark(&mut blocked, k, 3);
                }
            }
            if k + 1 < chain.len() {
                let (a, b) = (g(k), g(k + 1));
                if a.len() == 4
                    && b.len() == 4
                    && is_year(a)
                    && is_year(b)
                    && matches!(gap(k).trim(), "-" | "–" | "/")
                {
                    mark(&mut blocked, k, 2);
                }
            }
            if k + 3 < chain.len() {
                let is_time = |h: &str, sep: &str, m: &str| {
                    (1..=2).contains(&h.len())
                        && digits_value(h) <= 24
                        && sep == "."
                        && m.len() == 2
                        && digits_value(m) <= 59
                };
                if is_time(g(k), gap(k), g(k + 1))
                    && matches!(gap(k + 1).trim(), "-" | "–")
                    && is_time(g(k + 2), gap(k + 2), g(k + 3))
                {
                    mark(&mut blocked, k, 4);
                }
            }
        }
        blocked
    }

    /// A sum of money: a plain or thousands-grouped number after `€`/`EUR`, or before
    /// `,00`, `,-` or `euro`. Such a chain is neither a BSN nor a phone number.
    fn is_amount(&self, chain: &[Group]) -> bool {
        let (Some(first), Some(last)) = (chain.first(), chain.last()) else {
            return false;
        };
        let thousands = chain.len() == 1
            || (first.end - first.start <= 3
                && chain.iter().skip(1).all(|g| g.end - g.start == 3)
                && chain
                    .windows(2)
                    .all(|w| matches!(&self.text[w[0].end..w[1].start], "." | " ")));
        if !thousands {
            return false;
        }
        // Only the sign or word right next to the number matters.
        let before = self.text[..first.start].trim_end();
        // The word before, read backwards (`euro` gives `orue`).
        let word_before: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_alphabetic())
            .take(5)
            .flat_map(char::to_lowercase)
            .collect();
        let after = &self.text[last.end..];
        let after_b = after.as_bytes();
        let word_after: String = after
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphabetic())
            .take(5)
            .flat_map(char::to_lowercase)
            .collect();
        before.ends_with('€')
            || matches!(word_before.as_str(), "rue" | "orue")
            || matches!(word_after.as_str(), "eur" | "euro")
            || after.starts_with(",-")
            || after.starts_with(",–")
            || (after_b.len() >= 3
                && after_b[0] == b','
                && after_b[1].is_ascii_digit()
                && after_b[2].is_ascii_digit())
    }
}

/// Words people type between digit groups instead of the mark itself.
const SEPARATOR_WORDS: &[&str] = &[
    "punt",
    "streep",
    "streepje",
    "spatie",
    "koppelteken",
    "dash",
    "dot",
];

/// What may stand between two digit groups of one number: at most three characters of
/// whitespace (one line break at most) and up to two of `. - – _ / ( )`, or a separator
/// spelled out between spaces (`06 streepje 12345678`, `123 punt 456`).
fn is_separator(gap: &str) -> bool {
    let n = gap.chars().count();
    if n == 0 {
        return false;
    }
    if n > 3 {
        let word = gap.trim_matches(' ');
        return gap.len() - word.len() >= 2
            && gap.starts_with(' ')
            && gap.ends_with(' ')
            && gap.len() - word.len() <= 4
            && SEPARATOR_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word));
    }
    let mut newlines = 0;
    let mut marks = 0;
    for c in gap.chars() {
        match c {
            '\n' => newlines += 1,
            '.' | '-' | '–' | '_' | '/' | '(' | ')' => marks += 1,
            c if c.is_whitespace() => {}
            _ => return false,
        }
    }
    newlines <= 1 && marks <= 2
}

fn is_year(digits: &str) -> bool {
    digits.len() == 4 && (1900..=2099).contains(&digits_value(digits))
}

/// The 11-test (*elfproef*) for a BSN: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 divisible by 11,
/// and not all zeros.
fn elf_proef(digits: &str) -> bool {
    let d = digits.as_bytes();
    if d.len() != 9 || !d.iter().all(u8::is_ascii_digit) || d.iter().all(|&c| c == b'0') {
        return false;
    }
    let mut sum: i64 = 0;
    for (i, &c) in d.iter().enumerate() {
        let value = i64::from(c - b'0');
        let weight = if i == 8 { -1 } else { 9 - i as i64 };
        sum += weight * value;
    }
    sum % 11 == 0
}

/// Whether the digits (separators removed) are a telephone number: Dutch `0` + 9 digits
/// (mobile `06…` and landlines), `0800`/`0900`/`0906`/`0909` + 4–7 digits, `+31`/`0031`
/// (with an optional `(0)`) + 9 digits, or any other international number of 10–15
/// digits after `+` or `00`.
fn is_phone(digits: &str, plus: bool) -> bool {
    let national = if plus {
        digits.strip_prefix("31")
    } else {
        digits.strip_prefix("0031")
    };
    if let Some(rest) = national {
        let rest = rest.strip_prefix('0').unwrap_or(rest);
        if rest.len() == 9 && !rest.starts_with('0') {
            return true;
        }
    }
    if plus {
        return (10..=15).contains(&digits.len()) && !digits.starts_with('0');
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return (10..=15).contains(&rest.len()) && !rest.starts_with('0');
    }
    let service = ["0800", "0900", "0906", "0909"]
        .iter()
        .any(|p| digits.starts_with(p));
    if service && (8..=11).contains(&digits.len()) {
        return true;
    }
    digits.len() == 10 && digits.starts_with('0')
}

// ---------------------------------------------------------------------------------------
// IBAN
// ---------------------------------------------------------------------------------------

/// Two letters, two check digits and 11–30 letters or digits, in any case, possibly in
/// groups separated by single spaces or dashes (`NL 91 …` too, in capitals). Held when mod-97 gives 1, and also when it has the
/// Dutch shape (`NL` + 2 digits + 4 letters + 10 digits) but a wrong check: a mistyped
/// account number still points at a person.
fn find_ibans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= b.len() {
        let letters = b[i].is_ascii_alphabetic() && b[i + 1].is_ascii_alphabetic();
        let head = letters && b[i + 2].is_ascii_digit() && b[i + 3].is_ascii_digit();
        // `NL 91 …`: only in capitals at the start of a word, so prose is not read as one.
        let spaced_head = letters
            && b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 2] == b' '
            && b.get(i + 3).is_some_and(u8::is_ascii_digit)
            && b.get(i + 4).is_some_and(u8::is_ascii_digit)
            && (i == 0 || !is_word_byte(b[i - 1]));
        if !(head || spaced_head) {
            i += 1;
            continue;
        }
        // Collect the first token and the groups after it (separated by one space or
        // dash); a later group counts only if it is short (≤ 4) or holds a digit, so prose
        // after the number is not swallowed.
        let mut chars: Vec<u8> = Vec::new();
        let mut ends: Vec<(usize, usize)> = Vec::new(); // (number of chars, byte end)
        let mut j = i;
        let mut first = true;
        loop {
            let start = j;
            while j < b.len() && b[j].is_ascii_alphanumeric() {
                j += 1;
            }
            let token = &b[start..j];
            let fits = first || token.len() <= 4 || token.iter().any(u8::is_ascii_digit);
            if token.is_empty() || !fits || chars.len() + token.len() > 34 {
                break;
            }
            if j < b.len() && b[j] >= 0x80 {
                // Glued to a non-ASCII letter: not a separate number.
                break;
            }
            chars.extend(token.iter().map(u8::to_ascii_uppercase));
            ends.push((chars.len(), j));
            first = false;
            if j + 1 < b.len() && matches!(b[j], b' ' | b'-') && b[j + 1].is_ascii_alphanumeric() {
                j += 1;
            } else {
                break;
            }
        }
        let candidates = || ends.iter().rev().filter(|(n, _)| (15..=34).contains(n));
        let found = candidates()
            .find(|&&(n, _)| iban_checks(&chars[..n]))
            .or_else(|| candidates().find(|&&(n, _)| dutch_shape(&chars[..n])));
        match found {
            Some(&(_, end)) => {
                out.push((i, end));
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// Mod-97 check of an upper-case IBAN: the first four characters moved to the end,
/// letters counted as 10–35, the remainder must be 1.
fn iban_checks(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let mut rest: u32 = 0;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        rest = match c {
            b'0'..=b'9' => (rest * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (rest * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rest == 1
}

/// `NL` + 2 digits + 4 letters + 10 digits, upper case.
fn dutch_shape(iban: &[u8]) -> bool {
    iban.len() == 18
        && iban.starts_with(b"NL")
        && iban[2..4].iter().all(u8::is_ascii_digit)
        && iban[4..8].iter().all(u8::is_ascii_alphabetic)
        && iban[8..].iter().all(u8::is_ascii_digit)
}

// ---------------------------------------------------------------------------------------
// E-mail addresses
// ---------------------------------------------------------------------------------------

/// Top-level domains that make a bare `name.tld` a link, and `punt tld` part of a
/// spelled-out e-mail address.
/// Separated by single spaces.
const TLDS: &str = "nl be com org net eu de fr uk info io co app online site shop \
    amsterdam frl tv gov edu biz";

fn is_tld(label: &str) -> bool {
    TLDS.split(' ').any(|t| t.eq_ignore_ascii_case(label))
}

/// `local@domain.tld`, also with spaces around `@` or the dots, with `(at)`/`[at]`, and
/// spelled out as `jan punt jansen apenstaartje domein punt nl` or `jan at gmail dot com`.
fn find_emails(text: &str) -> Vec<(usize, usize)> {
    const MARKERS: &[&str] = &[
        "@",
        "(at)",
        "[at]",
        "(apenstaartje)",
        "[apenstaartje]",
        "apenstaartje",
        "at",
    ];
    let b = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let mut hits: Vec<(usize, &str)> = Vec::new();
    for marker in MARKERS {
        hits.extend(lower.match_indices(marker));
    }
    hits.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (pos, marker) in hits {
        let end = pos + marker.len();
        if out.iter().any(|&(s, e)| s <= pos && pos < e) {
            continue;
        }
        // `apenstaartje` can only mean `@`; `at` is a word elsewhere too, so it needs a
        // domain with a known top-level domain after it.
        let spelled = marker == "apenstaartje";
        let english = marker == "at";
        if (spelled || english)
            && !(char_before(text, pos).is_some_and(char::is_whitespace)
                && char_at(text, end).is_some_and(char::is_whitespace))
        {
            continue;
        }
        // The local part, left of the marker.
        let before = &text[..pos];
        let local_end = before.trim_end().len();
        let space_before = pos - local_end;
        if space_before > 2 && !spelled {
            continue;
        }
        let local_start = local_label_start(text, local_end);
        let local = &text[local_start..local_end];
        let mut local_start = local_start + (local.len() - local.trim_start_matches('.').len());
        if !local.chars().any(char::is_alphanumeric) {
            continue;
        }
        // `jan punt jansen apenstaartje …`, `jan(punt)jansen@…`: dots spelled out in the
        // local part as well.
        for _ in 0..4 {
            let Some(dot_start) = spelled_dot_before(b, local_start, marker != "@") else {
                break;
            };
            let label_start = local_label_start(text, dot_start);
            if label_start == dot_start {
                break;
            }
            local_start = label_start;
        }
        // The domain, right of the marker.
        let after = &text[end..];
        let space_after = after.len() - after.trim_start().len();
        if space_after > 2 && !spelled {
            continue;
        }
        let (labels, domain_end) = domain_labels(text, end + space_after);
        let Some(first) = labels.first() else {
            continue;
        };
        let spaced = space_before > 0 || space_after > 0 || marker.starts_with(['(', '[']);
        let ok = if english {
            labels.len() >= 2 && labels.last().is_some_and(|t| is_tld(t))
        } else if spelled || !spaced {
            !first.is_empty()
        } else {
            labels.len() >= 2
                && labels
                    .last()
                    .is_some_and(|t| t.len() >= 2 && t.chars().all(char::is_alphabetic))
        };
        if ok {
            out.push((local_start, domain_end));
        }
    }
    out
}

/// Where the label of a local part that ends at `end` starts (letters, digits and
/// `._%+-'`).
fn local_label_start(text: &str, end: usize) -> usize {
    text[..end]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphanumeric() || "._%+-'".contains(c))
        .last()
        .map_or(end, |(i, _)| i)
}

/// Ways to write the dot of an address: the mark itself, in brackets, or as a word
/// (`true`: only between spaces).
const DOTS: &[(&str, bool)] = &[
    ("(punt)", false),
    ("[punt]", false),
    ("(dot)", false),
    ("[dot]", false),
    (".", false),
    ("punt", true),
    ("dot", true),
];

/// A dot between two labels of a domain at `i`: `.`, `(punt)`, `[dot]` …, possibly with a
/// space on either side, or the word `punt`/`dot` between spaces. Returns where the next
/// label starts and whether it must be a known top-level domain: with spaces or a word,
/// only a known top-level domain shows that an address goes on.
fn dot_at(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let skip = |j: usize| if b.get(j) == Some(&b' ') { j + 1 } else { j };
    let j = skip(i);
    for &(dot, word) in DOTS {
        if !starts_with_ci(b, j, dot) {
            continue;
        }
        let k = j + dot.len();
        let next = skip(k);
        if word && !(j > i && next > k) {
            continue;
        }
        return Some((next, word || j > i || next > k));
    }
    None
}

/// A spelled-out dot (`(punt)`, `[dot]`, or with `words` also ` punt `) that ends at `i`,
/// possibly with spaces around it. Returns where it starts.
fn spelled_dot_before(b: &[u8], i: usize, words: bool) -> Option<usize> {
    let j = if i > 0 && b[i - 1] == b' ' { i - 1 } else { i };
    for &(dot, word) in DOTS {
        if dot == "." {
            continue;
        }
        let Some(s) = j.checked_sub(dot.len()) else {
            continue;
        };
        if !starts_with_ci(b, s, dot) {
            continue;
        }
        let k = if s > 0 && b[s - 1] == b' ' { s - 1 } else { s };
        if word && !(words && j < i && k < s) {
            continue;
        }
        return Some(k);
    }
    None
}

/// The labels of a domain starting at `i`, joined by dots as [`dot_at`] reads them.
/// Returns the labels and the byte offset after the last one.
fn domain_labels(text: &str, i: usize) -> (Vec<&str>, usize) {
    let label_at = |at: usize| -> &str {
        let rest = &text[at..];
        let len = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '-'))
            .map_or(rest.len(), |(n, _)| n);
        &rest[..len]
    };
    let b = text.as_bytes();
    let mut labels = Vec::new();
    let first = label_at(i);
    if first.is_empty() {
        return (labels, i);
    }
    labels.push(first);
    let mut end = i + first.len();
    while let Some((at, needs_tld)) = dot_at(b, end) {
        let label = label_at(at);
        let one_case = label.bytes().all(|c| c.is_ascii_lowercase())
            || label.bytes().all(|c| c.is_ascii_uppercase());
        if label.is_empty() || label.starts_with('-') || (needs_tld && !(is_tld(label) && one_case))
        {
            break;
        }
        labels.push(label);
        end = at + label.len();
    }
    (labels, end)
}

// ---------------------------------------------------------------------------------------
// Postcodes and street addresses
// ---------------------------------------------------------------------------------------

/// Two-letter words and units that often follow a year or amount (`2024 is`, `1500 mg`):
/// in lower case after a space they count as a postcode only with a house number named
/// before them or one that ends the phrase.
const POSTCODE_STOP_PAIRS: &[&str] = &[
    "al", "an", "ca", "cc", "cl", "cm", "de", "dl", "dm", "en", "er", "ga", "gb", "gr", "ha", "he",
    "ik", "in", "is", "ja", "je", "kb", "kg", "km", "kw", "mb", "me", "mg", "ml", "mm", "na", "nu",
    "of", "oh", "ok", "om", "op", "pp", "st", "te", "tv", "uw", "ze", "zo",
];

/// Words before a house number: `nr 12`, `huisnummer 12`.
const HOUSE_NUMBER_WORDS: &[&str] = &["huisnummer", "huisnr", "nummer", "hnr", "nr", "no"];

/// A postcode: four digits 1000–9999, an optional space, two letters other than SA, SD
/// and SS, not followed by another letter; with a house number after it or one named
/// before it (`huisnummer 12, 3511 ab`) the span covers that too. A bare postcode is held
/// as well: it narrows a person down to a street. Two spaces or a dash (`3511-AB`,
/// `3511 - AB`) also separate the parts, with letters in one case only, so that
/// `2023 - De gemeente` stays prose.
fn find_postcodes(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i - start != 4 || b[start] == b'0' {
            continue;
        }
        let mut letters = i;
        while letters < b.len() && letters - i < 2 && b[letters] == b' ' {
            letters += 1;
        }
        let mut unusual = letters - i > 1;
        if letters - i <= 1 && b.get(letters) == Some(&b'-') {
            unusual = true;
            letters += 1;
            if b.get(letters) == Some(&b' ') {
                letters += 1;
            }
        }
        let spaced = letters > i;
        let pair_ok = b.get(letters).is_some_and(u8::is_ascii_alphabetic)
            && b.get(letters + 1).is_some_and(u8::is_ascii_alphabetic)
            && !char_at(text, letters + 2).is_some_and(char::is_alphabetic);
        if !pair_ok {
            continue;
        }
        let pair = text[letters..letters + 2].to_ascii_lowercase();
        if matches!(pair.as_str(), "sa" | "sd" | "ss") {
            continue;
        }
        let pair_end = letters + 2;
        let after = house_number_after(b, pair_end, 3);
        let before = house_number_before(text, start);
        let lower = text[letters..pair_end]
            .bytes()
            .all(|c| c.is_ascii_lowercase());
        let upper = text[letters..pair_end]
            .bytes()
            .all(|c| c.is_ascii_uppercase());
        if unusual && !(lower || upper) {
            continue;
        }
        if spaced && lower && POSTCODE_STOP_PAIRS.contains(&pair.as_str()) {
            // `2024 is`, `1500 mg`: prose unless a house number clearly belongs to it,
            // named before it or ending the phrase (`… 12.`, `… 12 Utrecht`), not
            // `in 2023 is 12 keer`; and a year after `in`, `sinds` … is a year
            // (`in 2024 om 480.`).
            if before.is_none() && is_year(&text[start..i]) && after_time_word(text, start) {
                continue;
            }
            let ends_phrase = after.is_some_and(|end| {
                let rest = &text[end..];
                let next = rest.trim_start_matches(' ');
                match next.chars().next() {
                    None => true,
                    Some(c) if c.is_alphanumeric() => next.len() < rest.len() && c.is_uppercase(),
                    Some(_) => true,
                }
            });
            if before.is_none() && !ends_phrase {
                continue;
            }
        }
        out.push((before.unwrap_or(start), after.unwrap_or(pair_end)));
        i = after.unwrap_or(pair_end);
    }
    out
}

/// Words before a year: `in 2024`, `sinds 2019`, `tot en met 2025`.
const TIME_WORDS: &[&str] = &[
    "in", "sinds", "vanaf", "van", "tot", "met", "na", "voor", "tussen", "en", "eind", "begin",
    "medio", "per", "jaar", "najaar", "voorjaar", "zomer", "winter",
];

/// Whether the word before byte offset `i` (one space away) is one of [`TIME_WORDS`].
fn after_time_word(text: &str, i: usize) -> bool {
    let Some(before) = text[..i].strip_suffix(' ') else {
        return false;
    };
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphabetic())
        .last()
        .map_or(before.len(), |(n, _)| n);
    let word = &before[word_start..];
    TIME_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// A house number after `i`: up to `max_gap` spaces or commas, an optional `nr`-like
/// word, then the number. Returns the end of the number.
fn house_number_after(b: &[u8], i: usize, max_gap: usize) -> Option<usize> {
    let mut j = i;
    while j < b.len() && j - i < max_gap && matches!(b[j], b' ' | b',') {
        j += 1;
    }
    if let Some(word) = HOUSE_NUMBER_WORDS.iter().find(|w| {
        starts_with_ci(b, j, w) && b.get(j + w.len()).is_some_and(|c| !c.is_ascii_alphabetic())
    }) {
        j += word.len();
        if b.get(j) == Some(&b'.') {
            j += 1;
        }
        let k = j;
        while j < b.len() && j - k < 2 && b[j] == b' ' {
            j += 1;
        }
    } else if j == i && b.get(j).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    house_number_at(b, j)
}

/// A house number named before a postcode: `huisnummer 12, 3511 AB`. Returns where the
/// naming word starts.
fn house_number_before(text: &str, postcode_start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut j = postcode_start;
    while j > 0 && postcode_start - j < 3 && matches!(b[j - 1], b' ' | b',') {
        j -= 1;
    }
    let number_end = j;
    while j > 0 && (b[j - 1].is_ascii_alphanumeric() || b[j - 1] == b'-') {
        j -= 1;
    }
    if house_number_at(b, j) != Some(number_end) {
        return None;
    }
    let mut k = j;
    while k > 0 && j - k < 2 && b[k - 1] == b' ' {
        k -= 1;
    }
    if k > 0 && b[k - 1] == b'.' {
        k -= 1;
    }
    HOUSE_NUMBER_WORDS.iter().find_map(|w| {
        let s = k.checked_sub(w.len())?;
        let at_word_start = s == 0 || !is_word_byte(b[s - 1]);
        (at_word_start && starts_with_ci(b, s, w)).then_some(s)
    })
}

/// A house number at `i`: 1–5 digits not starting with 0, optionally with a letter
/// (`12a`, `12-a`) or a number (`12-3`) added. Returns its end.
fn house_number_at(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j == i || j - i > 5 || b[i] == b'0' {
        return None;
    }
    let letter_alone = |k: usize| {
        b.get(k).is_some_and(u8::is_ascii_alphabetic)
            && !b.get(k + 1).is_some_and(|&c| is_word_byte(c))
    };
    if letter_alone(j) {
        return Some(j + 1);
    }
    if b.get(j) == Some(&b'-') {
        if letter_alone(j + 1) {
            return Some(j + 2);
        }
        let mut k = j + 1;
        while k < b.len() && b[k].is_ascii_digit() && k - j <= 3 {
            k += 1;
        }
        if k > j + 1 && !b.get(k).is_some_and(u8::is_ascii_digit) {
            return Some(k);
        }
    }
    Some(j)
}

/// Endings of Dutch street names.
/// Separated by single spaces.
const STREET_SUFFIXES: &str = "straat laan weg plein gracht singel kade dijk hof pad steeg \
    dreef plantsoen markt wal park boulevard";

/// Abbreviated street endings, and whether the abbreviation needs its full stop:
/// `Kerkstr. 12`, `Kerkstr 12`, `Kastanjeln. 4`.
const STREET_ABBREVIATIONS: &[(&str, bool)] = &[("str", false), ("ln", true)];

/// Words with a street ending that are no street.
const NOT_STREETS: &[&str] = &["onderweg", "blokkade", "kwal"];

/// Words that make the number before them a quantity, not a house number: `de Rijksweg
/// 20 minuten`, `het fietspad 3 jaar lang`.
const QUANTITY_WORDS: &[&str] = &[
    "keer",
    "maal",
    "x",
    "seconden",
    "minuut",
    "minuten",
    "kwartier",
    "uur",
    "uren",
    "dag",
    "dagen",
    "week",
    "weken",
    "maand",
    "maanden",
    "jaar",
    "jaren",
    "km",
    "kilometer",
    "kilometers",
    "m",
    "meter",
    "meters",
    "cm",
    "procent",
    "euro",
    "kilo",
    "kg",
    "stuks",
    "mensen",
    "huizen",
    "woningen",
    "auto's",
    "bussen",
];

/// Whether the word after the house number ending at `i` (after spaces) makes it a
/// quantity.
fn quantity_follows(text: &str, i: usize) -> bool {
    let rest = text[i..].trim_start_matches(' ');
    if rest.len() == text.len() - i {
        return false;
    }
    let word: String = rest
        .chars()
        .take_while(|&c| c.is_alphabetic() || c == '\'')
        .collect();
    QUANTITY_WORDS.iter().any(|w| w.eq_ignore_ascii_case(&word))
        || (word.is_empty() && rest.starts_with('%'))
}

/// A street name with a house number: a word ending in a street suffix or its abbreviation
/// (longer than the suffix itself), then a house number, e.g. `Kerkstraat 12`,
/// `Oudegracht 123a`, `Dorpsweg nr. 4`, `Kerkstr. 12`, `Kerkstraat 12 A`.
fn find_streets(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_alphabetic() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphabetic() {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        if char_before(text, start).is_some_and(char::is_alphanumeric) {
            continue;
        }
        let word = text[start..end].to_lowercase();
        let longer_than =
            |suffix: &str| word.ends_with(suffix) && word.chars().count() > suffix.chars().count();
        let dotted = b.get(end) == Some(&b'.');
        let abbreviated = STREET_ABBREVIATIONS
            .iter()
            .any(|&(suffix, needs_dot)| longer_than(suffix) && (dotted || !needs_dot));
        let is_street = (STREET_SUFFIXES.split(' ').any(longer_than) || abbreviated)
            && !NOT_STREETS.contains(&word.as_str());
        if !is_street {
            continue;
        }
        let mut j = if abbreviated && dotted { end + 1 } else { end };
        let name_end = j;
        while j < b.len() && j - name_end < 2 && b[j] == b' ' {
            j += 1;
        }
        if let Some(mut number_end) = house_number_after(b, j, 0) {
            if quantity_follows(text, number_end) {
                continue;
            }
            // `Kerkstraat 12 A`: a capital standing alone after the number is its letter.
            if b.get(number_end) == Some(&b' ')
                && b.get(number_end + 1).is_some_and(u8::is_ascii_uppercase)
                && !b.get(number_end + 2).is_some_and(|&c| is_word_byte(c))
                && b.get(number_end - 1).is_some_and(u8::is_ascii_digit)
            {
                number_end += 2;
            }
            out.push((start, number_end));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------------------

/// `scheme://…`, `www.…` and bare domains with a known top-level domain (`voorbeeld.nl`,
/// `example.com/pad`). The top-level domain must be all lower or all upper case, so a
/// missing space after a full stop (`afgewezen.De`) is not a link.
fn find_links(text: &str) -> Vec<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let word_start =
            i == 0 || !(is_word_byte(b[i - 1]) || matches!(b[i - 1], b'.' | b'-' | b'_' | b'/'));
        if !word_start || !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let mut scheme_end = i;
        while scheme_end < b.len() && b[scheme_end].is_ascii_alphabetic() {
            scheme_end += 1;
        }
        let end = if scheme_end > i && lower[scheme_end..].starts_with("://") {
            Some(url_end(b, scheme_end + 3))
        } else if lower[i..].starts_with("www.") {
            Some(url_end(b, i + 4))
        } else {
            bare_domain(text, b, i)
        };
        match end {
            Some(end) if end > i => {
                out.push((i, end));
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The end of a URL: up to whitespace or `<>"`, without trailing punctuation.
fn url_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'<' | b'>' | b'"') {
        i += 1;
    }
    while i > 0
        && matches!(
            b[i - 1],
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b'\'' | b']'
        )
    {
        i -= 1;
    }
    i
}

/// `label.label.tld` at `i` (in the lower-cased bytes `b`), with an optional path.
fn bare_domain(text: &str, b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    let mut last_label;
    let mut labels = 0;
    loop {
        let start = j;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
            j += 1;
        }
        if j == start || b[start] == b'-' {
            return None;
        }
        labels += 1;
        last_label = start;
        if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_alphanumeric() {
            j += 1;
        } else {
            break;
        }
    }
    if labels < 2 || b.get(j).is_some_and(|&c| is_word_byte(c)) {
        return None;
    }
    let tld = &text[last_label..j];
    let one_case =
        tld.bytes().all(|c| c.is_ascii_lowercase()) || tld.bytes().all(|c| c.is_ascii_uppercase());
    if !is_tld(tld) || !one_case {
        return None;
    }
    if b.get(j) == Some(&b'/')
        || (b.get(j) == Some(&b':') && b.get(j + 1).is_some_and(u8::is_ascii_digit))
    {
        return Some(url_end(b, j));
    }
    Some(j)
}

// ---------------------------------------------------------------------------------------
// Banned and suspect words
// ---------------------------------------------------------------------------------------

/// Byte offsets where a word starts: a character that is not preceded by a letter or
/// digit.
fn word_starts(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut prev_word = false;
    for (i, c) in text.char_indices() {
        if !prev_word {
            out.push(i);
        }
        prev_word = c.is_alphanumeric();
    }
    out
}

/// Every whole-word occurrence of `word` (case-insensitive, accents kept; whitespace in
/// the word matches any run of whitespace), trying only the given word starts.
fn find_word(text: &str, starts: &[usize], word: &str) -> Vec<(usize, usize)> {
    let pattern: Vec<char> = word
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    if pattern.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut from = 0;
    for &start in starts {
        if start < from {
            continue;
        }
        if let Some(end) = match_at(text, start, &pattern)
            && !char_at(text, end).is_some_and(char::is_alphanumeric)
        {
            out.push((start, end));
            from = end;
        }
    }
    out
}

/// Matches the lower-cased `pattern` at `start`; returns the byte offset after the match.
fn match_at(text: &str, start: usize, pattern: &[char]) -> Option<usize> {
    let mut chars = text[start..].char_indices().peekable();
    let mut p = 0;
    while p < pattern.len() {
        let (_, c) = chars.next()?;
        if pattern[p] == ' ' {
            if !c.is_whitespace() {
                return None;
            }
            while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
                chars.next();
            }
            p += 1;
            continue;
        }
        for lc in c.to_lowercase() {
            if pattern.get(p) != Some(&lc) {
                return None;
            }
            p += 1;
        }
    }
    Some(chars.peek().map_or(text.len(), |&(i, _)| start + i))
}

#[cfg(test)]
mod corpus;

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    /// Screens with the default policy and no earlier texts.
    fn check(draft: &str) -> Verdict {
        screen(draft, &Policy::default(), &[])
    }

    /// The personal-data findings as (kind, found text).
    fn personal(draft: &str) -> Vec<(Kind, &str)> {
        check(draft)
            .findings
            .iter()
            .filter_map(|f| match f.reason {
                Reason::PersonalData(kind) => Some((kind, &draft[f.start..f.end])),
                _ => None,
            })
            .collect()
    }

    fn assert_clean(draft: &str) {
        let verdict = check(draft);
        assert_eq!(verdict.outcome, Outcome::Accept, "{draft:?}: {verdict:?}");
        assert!(verdict.findings.is_empty(), "{draft:?}: {verdict:?}");
    }

    // --- BSN ---------------------------------------------------------------------------

    #[test]
    fn elf_proef_by_hand() {
        // 123456782: 9·1 + 8·2 + 7·3 + 6·4 + 5·5 + 4·6 + 3·7 + 2·8 − 1·2
        //          = 9 + 16 + 21 + 24 + 25 + 24 + 21 + 16 − 2 = 154 = 14 · 11 → valid.
        assert!(elf_proef("123456782"));
        // 111222333: 9 + 8 + 7 + 12 + 10 + 8 + 9 + 6 − 3 = 66 = 6 · 11 → valid.
        assert!(elf_proef("111222333"));
        // 123456789: 156 − 9 = 147 = 13 · 11 + 4 → invalid.
        assert!(!elf_proef("123456789"));
        // 012345672: 0 + 8 + 14 + 18 + 20 + 20 + 18 + 14 − 2 = 110 = 10 · 11 → valid.
        assert!(elf_proef("012345672"));
        assert!(!elf_proef("000000000"));
    }

    #[test]
    fn valid_bsn_is_held() {
        let draft = "Mijn BSN is 123456782, staat op de brief.";
        let verdict = check(draft);
        assert_eq!(verdict.outcome, Outcome::Hold);
        assert_eq!(personal(draft), vec![(Kind::Bsn, "123456782")]);
        assert_eq!(personal("nummer 111222333"), vec![(Kind::Bsn, "111222333")]);
    }

    #[test]
    fn bsn_with_separators_is_held() {
        for (draft, found) in [
            ("bsn 123 456 782 graag", "123 456 782"),
            ("bsn 123.456.782.", "123.456.782"),
            ("bsn 1234-56-782", "1234-56-782"),
            ("bsn 123 - 456 - 782", "123 - 456 - 782"),
            ("bsn 12 34 56 782", "12 34 56 782"),
        ] {
            assert_eq!(personal(draft), vec![(Kind::Bsn, found)], "{draft}");
        }
    }

    #[test]
    fn eight_digit_bsn_with_dropped_zero_is_held() {
        // 012345672 passes the 11-test (see above); written without the leading zero.
        assert_eq!(personal("BSN: 12345672"), vec![(Kind::Bsn, "12345672")]);
        assert_eq!(personal("BSN: 1234 5672"), vec![(Kind::Bsn, "1234 5672")]);
    }

    #[test]
    fn invalid_bsn_is_not_flagged() {
        assert_clean("Het dossier heeft nummer 123456789.");
        assert_clean("Nullen: 000000000.");
        // 12345678 with a zero in front: 0+8+14+18+20+20+18+14-8 = 104, not divisible.
        assert_clean("Nummer 12345678.");
    }

    #[test]
    fn bsn_inside_a_longer_digit_run_is_not_a_bsn() {
        assert_clean("Referentie 1234567821 van de gemeente.");
        assert_clean("Referentie 91234567821.");
    }

    // --- IBAN --------------------------------------------------------------------------

    #[test]
    fn iban_checks_by_hand() {
        assert!(iban_checks(b"NL91ABNA0417164300"));
        assert!(iban_checks(b"DE89370400440532013000"));
        assert!(!iban_checks(b"NL91ABNA0417164301"));
        assert!(dutch_shape(b"NL91ABNA0417164301"));
    }

    #[test]
    fn valid_ibans_are_held() {
        for (draft, found) in [
            ("Rekening NL91ABNA0417164300.", "NL91ABNA0417164300"),
            ("rekening nl91abna0417164300 graag", "nl91abna0417164300"),
            (
                "IBAN: NL91 ABNA 0417 1643 00 op naam",
                "NL91 ABNA 0417 1643 00",
            ),
            ("iban nl91 abna 0417 1643 00", "nl91 abna 0417 1643 00"),
            (
                "Duitse rekening DE89370400440532013000.",
                "DE89370400440532013000",
            ),
            (
                "Duits: DE89 3704 0044 0532 0130 00",
                "DE89 3704 0044 0532 0130 00",
            ),
            ("iban NL91-ABNA-0417-1643-00.", "NL91-ABNA-0417-1643-00"),
            ("iban NL 91 ABNA 0417 1643 00.", "NL 91 ABNA 0417 1643 00"),
        ] {
            assert_eq!(personal(draft), vec![(Kind::Iban, found)], "{draft}");
        }
    }

    #[test]
    fn mistyped_dutch_iban_is_still_held() {
        assert_eq!(
            personal("Rekening NL91ABNA0417164301."),
            vec![(Kind::Iban, "NL91ABNA0417164301")]
        );
        assert_eq!(
            personal("Rekening NL91 ABNA 0417 1643 01 en verder"),
            vec![(Kind::Iban, "NL91 ABNA 0417 1643 01")]
        );
    }

    #[test]
    fn invalid_foreign_iban_is_not_flagged() {
        assert_clean("Code DE89370400440532013001 klopt niet.");
    }

    // --- Phone numbers -----------------------------------------------------------------

    #[test]
    fn phone_numbers_are_held() {
        for number in [
            "0612345678",
            "06-12345678",
            "06 1234 5678",
            "06 12 34 56 78",
            "06 - 12345678",
            "06.12.34.56.78",
            "+31 6 12345678",
            "+31612345678",
            "+31(0)6 12345678",
            "+31 (0)6-12345678",
            "0031 6 12345678",
            "0031612345678",
            "010-1234567",
            "0201234567",
            "070 123 4567",
            "0800-1234",
            "0800 0123",
            "0900 1234567",
            "0900-123 45 67",
            "(010) 123 45 67",
            "+32 470 12 34 56",
        ] {
            let draft = format!("Bel me op {number} na vijf uur.");
            let verdict = check(&draft);
            let found: Vec<_> = verdict
                .findings
                .iter()
                .map(|f| (f.reason, &draft[f.start..f.end]))
                .collect();
            assert_eq!(
                found,
                vec![(Reason::PersonalData(Kind::Phone), number)],
                "{number}"
            );
            assert_eq!(verdict.outcome, Outcome::Hold);
        }
    }

    #[test]
    fn other_numbers_pass() {
        for draft in [
            "De eigen bijdrage is € 1.250,00 per jaar.",
            "Het budget is € 12.345.678 voor de hele stad.",
            "Dat kost 1.250.000 euro.",
            "Begroot: EUR 12.345.678 en 12.345.678 EUR.",
            "In 2024 kreeg ik het besluit.",
            "Volgens artikel 2.3.5 van de verordening mag dat.",
            "Het besluit is van 12-03-2024.",
            "Op 06-12-2024 10:30 had ik een gesprek.",
            "Het besluit is van 2024-03-12.",
            "Ik krijg 2,5 uur per week hulp.",
            "Van 2015-2019 had ik een scootmobiel.",
            "Het loket is open van 09.00-17.00 uur.",
            "Het loket is open van 09.00 - 17.00 uur.",
            "Ze is 82 jaar en woont 1,2 km van de winkels.",
            "Ik heb 3 keer gebeld, 20 minuten gewacht en 45 euro betaald.",
        ] {
            assert_clean(draft);
        }
    }

    // --- E-mail addresses --------------------------------------------------------------

    #[test]
    fn email_addresses_are_held() {
        for (draft, found) in [
            (
                "Mail jan.jansen@voorbeeld.nl maar.",
                "jan.jansen@voorbeeld.nl",
            ),
            ("Mail JAN@VOORBEELD.NL", "JAN@VOORBEELD.NL"),
            ("Mail jan @ voorbeeld.nl even", "jan @ voorbeeld.nl"),
            ("Mail jan(at)voorbeeld.nl even", "jan(at)voorbeeld.nl"),
            (
                "mail jan apenstaartje voorbeeld punt nl",
                "jan apenstaartje voorbeeld punt nl",
            ),
            (
                "mail jan apenstaartje gmail.com",
                "jan apenstaartje gmail.com",
            ),
            (
                "mail jan_de.vries+zorg@mail.example.com.",
                "jan_de.vries+zorg@mail.example.com",
            ),
        ] {
            assert_eq!(personal(draft), vec![(Kind::Email, found)], "{draft}");
        }
    }

    #[test]
    fn at_signs_that_are_no_address_pass() {
        assert_clean("Ik zit @ thuis.");
        assert_clean("Het punt is dat ik 80 ben.");
    }

    #[test]
    fn email_is_not_also_reported_as_link() {
        let verdict = check("Mail jan@voorbeeld.nl");
        assert_eq!(verdict.findings.len(), 1);
        assert_eq!(
            verdict.findings[0].reason,
            Reason::PersonalData(Kind::Email)
        );
    }

    // --- Postcodes and addresses -------------------------------------------------------

    #[test]
    fn postcode_with_house_number_is_held() {
        for (draft, found) in [
            ("Ik woon op 3511 AB 12 in Utrecht.", "3511 AB 12"),
            ("Adres: 3511AB, nr 12.", "3511AB, nr 12"),
            ("Adres: 3511ab 12a", "3511ab 12a"),
            ("Adres: 3511AB12.", "3511AB12"),
            (
                "Mijn huisnummer 12, 3511 ab is bekend.",
                "huisnummer 12, 3511 ab",
            ),
        ] {
            assert_eq!(personal(draft), vec![(Kind::Postcode, found)], "{draft}");
        }
    }

    #[test]
    fn bare_postcode_is_held() {
        assert_eq!(
            personal("Ik woon in 3511 AB."),
            vec![(Kind::Postcode, "3511 AB")]
        );
        assert_eq!(
            personal("postcode 3511ab"),
            vec![(Kind::Postcode, "3511ab")]
        );
        assert_eq!(
            personal("postcode 9999 ZZ"),
            vec![(Kind::Postcode, "9999 ZZ")]
        );
    }

    #[test]
    fn sa_sd_ss_and_other_lookalikes_are_no_postcode() {
        assert_clean("Code 3511 SA hier.");
        assert_clean("Code 3511 SD hier.");
        assert_clean("Code 3511SS hier.");
        assert_clean("Code 0123 AB hier.");
        assert_clean("Code 3511 ABC hier.");
        assert_clean("Sinds 2019 is mijn moeder ziek en in 2023 op de wachtlijst gezet.");
        assert_clean("Ze krijgt 1500 mg per dag.");
        assert_clean("In 2023 is 12 keer gebeld.");
        assert_eq!(
            personal("Ik woon op 2514 en 12."),
            vec![(Kind::Postcode, "2514 en 12")]
        );
        assert_eq!(
            personal("Ik woon op 2514 en 12 Den Haag"),
            vec![(Kind::Postcode, "2514 en 12")]
        );
    }

    #[test]
    fn street_with_number_is_held() {
        for (draft, found) in [
            ("Ze woont op de Kerkstraat 12 hier.", "Kerkstraat 12"),
            ("Adres Oudegracht 123a, Utrecht", "Oudegracht 123a"),
            ("Dorpsweg nr. 4 is het.", "Dorpsweg nr. 4"),
            ("Op de Jan van Goyenkade 7-2 woont ze.", "Goyenkade 7-2"),
            ("Zeeweg 3", "Zeeweg 3"),
        ] {
            assert_eq!(personal(draft), vec![(Kind::Postcode, found)], "{draft}");
        }
    }

    #[test]
    fn street_and_postcode_are_both_listed() {
        assert_eq!(
            personal("Kerkstraat 12, 3511 AB Utrecht"),
            vec![
                (Kind::Postcode, "Kerkstraat 12"),
                (Kind::Postcode, "3511 AB")
            ]
        );
    }

    #[test]
    fn street_words_without_number_pass() {
        assert_clean("Ik woon aan de Kerkstraat.");
        assert_clean("Ik was onderweg 2 uur kwijt.");
        assert_clean("In de straat 12 huizen.");
    }

    // --- Words, links, repetition ------------------------------------------------------

    #[test]
    fn banned_word_rejects_and_suspect_word_holds() {
        let policy = Policy {
            banned_words: vec!["idioot".into(), "café".into()],
            suspect_words: vec!["advocaat".into(), "rechter zaak".into()],
            allow_links: false,
        };
        let draft = "Wat een IDIOOT. Idioten zijn dat.";
        let verdict = screen(draft, &policy, &[]);
        assert_eq!(verdict.outcome, Outcome::Reject);
        assert_eq!(verdict.findings.len(), 1);
        assert_eq!(verdict.findings[0].reason, Reason::BannedWord);
        assert_eq!(
            &draft[verdict.findings[0].start..verdict.findings[0].end],
            "IDIOOT"
        );

        // Accents are kept: café is banned, cafe is not.
        assert_eq!(
            screen("Naar het cafe.", &policy, &[]).outcome,
            Outcome::Accept
        );
        assert_eq!(
            screen("Naar het Café.", &policy, &[]).outcome,
            Outcome::Reject
        );

        let draft = "Ik neem een advocaat. Naar de rechter\n  zaak.";
        let verdict = screen(draft, &policy, &[]);
        assert_eq!(verdict.outcome, Outcome::Hold);
        let found: Vec<_> = verdict
            .findings
            .iter()
            .map(|f| &draft[f.start..f.end])
            .collect();
        assert_eq!(found, vec!["advocaat", "rechter\n  zaak"]);
        assert!(
            verdict
                .findings
                .iter()
                .all(|f| f.reason == Reason::SuspectWord)
        );
    }

    #[test]
    fn links_are_held_unless_allowed() {
        for (draft, found) in [
            (
                "Zie https://voorbeeld.nl/pad?x=1.",
                "https://voorbeeld.nl/pad?x=1",
            ),
            ("Zie http://example.com", "http://example.com"),
            ("Kijk op www.gemeente.nl/wmo, daar.", "www.gemeente.nl/wmo"),
            ("Kijk op voorbeeld.nl/pad.", "voorbeeld.nl/pad"),
            ("Kijk op example.com.", "example.com"),
            ("Kijk op NU.NL", "NU.NL"),
        ] {
            let verdict = check(draft);
            assert_eq!(verdict.outcome, Outcome::Hold, "{draft}");
            assert_eq!(verdict.findings.len(), 1, "{draft}");
            let f = &verdict.findings[0];
            assert_eq!((f.reason, &draft[f.start..f.end]), (Reason::Link, found));
            let allowed = Policy {
                allow_links: true,
                ..Policy::default()
            };
            assert_eq!(
                screen(draft, &allowed, &[]).outcome,
                Outcome::Accept,
                "{draft}"
            );
        }
        assert_clean("De aanvraag is afgewezen.De gemeente zegt nee.");
        assert_clean("Dat is o.a. de reden, t.z.t. hoor ik meer.");
    }

    #[test]
    fn repeated_text_is_held() {
        let previous = ["Ik ben het  ONEENS met dit besluit. ", "Iets anders."];
        let draft = "\n ik ben het oneens met\tdit   besluit.  ";
        let verdict = screen(draft, &Policy::default(), &previous);
        assert_eq!(verdict.outcome, Outcome::Hold);
        assert_eq!(verdict.findings.len(), 1);
        let f = &verdict.findings[0];
        assert_eq!(f.reason, Reason::Repeated);
        assert_eq!(
            &draft[f.start..f.end],
            "ik ben het oneens met\tdit   besluit."
        );

        let fresh = screen("Ik ben het eens.", &Policy::default(), &previous);
        assert_eq!(fresh.outcome, Outcome::Accept);
        assert_eq!(
            screen("  ", &Policy::default(), &["", " "]).outcome,
            Outcome::Accept
        );
    }

    // --- The whole verdict -------------------------------------------------------------

    const WHEELCHAIR_POST: &str = "Mijn buurvrouw is 82 en zit sinds 2019 in een rolstoel. \
        De gemeente heeft haar aanvraag voor een elektrische rolstoel afgewezen, omdat ze \
        2,5 uur per week hulp krijgt van haar dochter. Volgens artikel 2.3.5 van de \
        verordening moet de gemeente kijken naar wat iemand zelf kan. Maar met een \
        handbewogen rolstoel komt ze niet bij de winkels, die 1,2 km verderop liggen, en \
        haar schouders doen nu al pijn. De eigen bijdrage van € 19,00 per maand is ook veel \
        voor iemand met alleen AOW. Het besluit van 12-03-2024 vind ik daarom niet redelijk: \
        zelfstandig boodschappen doen hoort bij meedoen in de samenleving.";

    #[test]
    fn clean_wheelchair_post_is_accepted() {
        let verdict = check(WHEELCHAIR_POST);
        assert_eq!(
            verdict,
            Verdict {
                outcome: Outcome::Accept,
                findings: vec![]
            }
        );
    }

    const RICH_DRAFT: &str = "Mijn vader (BSN 123 456 782) woont op de Kerkstraat 12, \
        3511 AB Utrecht. Bel hem op 06-12345678 of mail vader@voorbeeld.nl. Het geld gaat \
        naar NL91 ABNA 0417 1643 00, zie www.voorbeeld.nl voor meer.";

    #[test]
    fn every_finding_is_listed_in_order_with_offsets() {
        let verdict = check(RICH_DRAFT);
        let found: Vec<_> = verdict
            .findings
            .iter()
            .map(|f| (f.reason, &RICH_DRAFT[f.start..f.end]))
            .collect();
        assert_eq!(
            found,
            vec![
                (Reason::PersonalData(Kind::Bsn), "123 456 782"),
                (Reason::PersonalData(Kind::Postcode), "Kerkstraat 12"),
                (Reason::PersonalData(Kind::Postcode), "3511 AB"),
                (Reason::PersonalData(Kind::Phone), "06-12345678"),
                (Reason::PersonalData(Kind::Email), "vader@voorbeeld.nl"),
                (Reason::PersonalData(Kind::Iban), "NL91 ABNA 0417 1643 00"),
                (Reason::Link, "www.voorbeeld.nl"),
            ]
        );
        assert_eq!(verdict.outcome, Outcome::Hold);
        let bsn = &verdict.findings[0];
        assert_eq!(bsn.start, RICH_DRAFT.find("123 456").unwrap_or(usize::MAX));
        assert_eq!(bsn.end - bsn.start, "123 456 782".len());
    }

    #[test]
    fn offsets_are_byte_offsets_after_multibyte_text() {
        let draft = "Één café, één rolstoel — bel 0612345678.";
        let verdict = check(draft);
        assert_eq!(verdict.findings.len(), 1);
        let f = &verdict.findings[0];
        assert_eq!(&draft[f.start..f.end], "0612345678");
        assert_eq!(f.start, draft.find('0').unwrap_or(usize::MAX));
    }

    #[test]
    fn messages_never_contain_the_found_value() {
        let policy = Policy {
            banned_words: vec!["sukkel".into()],
            suspect_words: vec!["rechter".into()],
            allow_links: false,
        };
        let draft = format!("{RICH_DRAFT} Die sukkel van een rechter. jan @ voorbeeld.nl");
        let verdict = screen(&draft, &policy, &[draft.as_str()]);
        assert!(verdict.findings.len() >= 10, "{verdict:?}");
        for f in &verdict.findings {
            let value = &draft[f.start..f.end];
            assert!(!value.is_empty());
            assert!(!f.message.contains(value), "{value:?} in {:?}", f.message);
            assert!(!f.reason.message_en().contains(value));
            assert_eq!(f.message, f.reason.message());
            assert_eq!(f.outcome, f.reason.outcome());
        }
    }

    #[test]
    fn screening_is_deterministic() {
        let policy = Policy {
            banned_words: vec!["sukkel".into()],
            suspect_words: vec!["rechter".into()],
            allow_links: false,
        };
        let draft = format!("{RICH_DRAFT} sukkel rechter {WHEELCHAIR_POST}");
        let first = screen(&draft, &policy, &[WHEELCHAIR_POST]);
        for _ in 0..3 {
            assert_eq!(screen(&draft, &policy, &[WHEELCHAIR_POST]), first);
        }
    }

    #[test]
    fn strictest_outcome_wins() {
        let policy = Policy {
            banned_words: vec!["sukkel".into()],
            suspect_words: vec!["rechter".into()],
            allow_links: false,
        };
        let draft = "De rechter is een sukkel, bel 0612345678.";
        let verdict = screen(draft, &policy, &[]);
        let outcomes: Vec<_> = verdict.findings.iter().map(|f| f.outcome).collect();
        assert_eq!(
            outcomes,
            vec![Outcome::Hold, Outcome::Reject, Outcome::Hold]
        );
        assert_eq!(verdict.outcome, Outcome::Reject);
        assert!(Outcome::Accept < Outcome::Hold && Outcome::Hold < Outcome::Reject);

        let held = screen("De rechter, bel 0612345678.", &policy, &[]);
        assert_eq!(held.outcome, Outcome::Hold);
    }

    #[test]
    fn codes_are_stable() {
        for kind in [
            Kind::Bsn,
            Kind::Iban,
            Kind::Phone,
            Kind::Email,
            Kind::Postcode,
        ] {
            assert_eq!(Reason::PersonalData(kind).code(), "persoonsgegevens");
        }
        assert_eq!(Reason::BannedWord.code(), "verboden_woord");
        assert_eq!(Reason::SuspectWord.code(), "verdacht_woord");
        assert_eq!(Reason::Link.code(), "link");
        assert_eq!(Reason::Repeated.code(), "herhaling");
    }

    #[test]
    fn default_policy_is_empty_without_links() {
        let policy = Policy::default();
        assert!(policy.banned_words.is_empty() && policy.suspect_words.is_empty());
        assert!(!policy.allow_links);
    }

    #[test]
    fn random_text_never_panics_and_offsets_are_char_boundaries() {
        const PIECES: &[&str] = &[
            "0",
            "6",
            "1",
            "9",
            "31",
            "+",
            " ",
            "  ",
            "-",
            ".",
            "/",
            "(",
            ")",
            ",",
            "@",
            "é",
            "€",
            "—",
            "\u{a0}",
            "\n",
            "NL",
            "nl",
            "AB",
            "ab",
            "straat",
            "www",
            "http://",
            "apenstaartje",
            "punt",
            "nr",
            "İ",
            "ß",
            "x",
            "com",
            "\u{200b}",
            "\u{ad}",
            "\u{301}",
            "\u{202e}",
            "١",
            "１",
            "ﬁ",
            "½",
            "\u{1100}",
            "\u{1161}",
            "\u{11a8}",
            "at",
            "streepje",
        ];
        let policy = Policy {
            banned_words: vec!["é".into(), "ab".into()],
            suspect_words: vec!["i̇".into(), "SS".into()],
            allow_links: false,
        };
        let mut seed: u64 = 0x5eed;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut found = 0;
        for _ in 0..3000 {
            // The length comes from a fresh number each time, so an empty draft does not
            // repeat for ever.
            let mut draft = String::new();
            for _ in 0..next() % 40 {
                draft.push_str(PIECES[next() % PIECES.len()]);
            }
            let verdict = screen(&draft, &policy, &[draft.as_str()]);
            for f in &verdict.findings {
                assert!(f.start < f.end && f.end <= draft.len(), "{draft:?}: {f:?}");
                assert!(draft.is_char_boundary(f.start) && draft.is_char_boundary(f.end));
            }
            let starts: Vec<_> = verdict.findings.iter().map(|f| f.start).collect();
            assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{draft:?}");
            found += verdict.findings.len();
        }
        assert!(
            found > 3000,
            "the drafts are varied enough to find things: {found}"
        );
    }

    #[test]
    fn odd_input_does_not_panic() {
        for draft in [
            "",
            "@",
            "@@",
            "+",
            "0",
            "NL",
            "NL91",
            "é@é.é",
            "3511",
            "www.",
            "a.b",
            "€",
            "\u{301}",
            "\u{200b}",
            "\u{202e}",
            "\u{fe0f}\u{301}",
            " at ",
            "punt",
            "Kerkstr.",
        ] {
            let _ = check(draft);
        }
    }

    // --- Disguises: the check reads the text as a reader sees it -----------------------

    /// Every finding as (code, found text in the original draft).
    fn found(draft: &str) -> Vec<(&'static str, &str)> {
        check(draft)
            .findings
            .iter()
            .map(|f| (f.reason.code(), &draft[f.start..f.end]))
            .collect()
    }

    #[test]
    fn invisible_characters_inside_numbers_are_seen_through() {
        for (draft, kind, span) in [
            (
                "bsn 123\u{200b}456\u{200b}782.",
                Kind::Bsn,
                "123\u{200b}456\u{200b}782",
            ),
            (
                "bsn 1\u{200c}2\u{200d}3456782.",
                Kind::Bsn,
                "1\u{200c}2\u{200d}3456782",
            ),
            ("bsn 123\u{2060}456782.", Kind::Bsn, "123\u{2060}456782"),
            (
                "bsn 123\u{ad}456\u{ad}782.",
                Kind::Bsn,
                "123\u{ad}456\u{ad}782",
            ),
            (
                "bsn \u{feff}123456\u{feff}782.",
                Kind::Bsn,
                "123456\u{feff}782",
            ),
            ("bsn 123 \u{200b}456 782.", Kind::Bsn, "123 \u{200b}456 782"),
            (
                "bel 06\u{200b}12345678 maar",
                Kind::Phone,
                "06\u{200b}12345678",
            ),
            (
                "bel 06-\u{ad}1234\u{2060}5678 maar",
                Kind::Phone,
                "06-\u{ad}1234\u{2060}5678",
            ),
            (
                "iban NL91\u{200b}ABNA\u{200b}0417164300 graag",
                Kind::Iban,
                "NL91\u{200b}ABNA\u{200b}0417164300",
            ),
            (
                "postcode 3511\u{200b}AB hier",
                Kind::Postcode,
                "3511\u{200b}AB",
            ),
            (
                "mail jan\u{200b}@voorbeeld.nl",
                Kind::Email,
                "jan\u{200b}@voorbeeld.nl",
            ),
        ] {
            assert_eq!(personal(draft), vec![(kind, span)], "{draft:?}");
        }
    }

    #[test]
    fn combining_marks_on_digits_are_seen_through() {
        for (draft, span) in [
            (
                "bsn 1\u{301}2\u{301}3\u{301}456782 ja",
                "1\u{301}2\u{301}3\u{301}456782",
            ),
            (
                "bsn 123\u{332}456\u{332}782\u{332} ja",
                "123\u{332}456\u{332}782\u{332}",
            ),
            ("bsn 1\u{20e3}23456782 ja", "1\u{20e3}23456782"),
        ] {
            assert_eq!(personal(draft), vec![(Kind::Bsn, span)], "{draft:?}");
        }
    }

    #[test]
    fn decimal_digits_of_every_script_count_as_digits() {
        for (draft, kind, span) in [
            ("bsn １２３４５６７８２.", Kind::Bsn, "１２３４５６７８２"),
            ("bsn ١٢٣٤٥٦٧٨٢.", Kind::Bsn, "١٢٣٤٥٦٧٨٢"),
            ("bsn ۱۲۳۴۵۶۷۸۲.", Kind::Bsn, "۱۲۳۴۵۶۷۸۲"),
            ("bsn १२३४५६७८२.", Kind::Bsn, "१२३४५६७८२"),
            ("bsn ১২৩৪৫৬৭৮২.", Kind::Bsn, "১২৩৪৫৬৭৮২"),
            ("bsn ๑๒๓๔๕๖๗๘๒.", Kind::Bsn, "๑๒๓๔๕๖๗๘๒"),
            ("bsn 𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟐.", Kind::Bsn, "𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟐"),
            ("bsn 𝟙𝟚𝟛 𝟜𝟝𝟞 𝟟𝟠𝟚.", Kind::Bsn, "𝟙𝟚𝟛 𝟜𝟝𝟞 𝟟𝟠𝟚"),
            ("bsn 123 ٤٥٦ 782.", Kind::Bsn, "123 ٤٥٦ 782"),
            ("bel ٠٦١٢٣٤٥٦٧٨ maar", Kind::Phone, "٠٦١٢٣٤٥٦٧٨"),
            (
                "bel ０６－１２３４５６７８ maar",
                Kind::Phone,
                "０６－１２３４５６７８",
            ),
            (
                "iban NL٩١ABNA٠٤١٧١٦٤٣٠٠ ja",
                Kind::Iban,
                "NL٩١ABNA٠٤١٧١٦٤٣٠٠",
            ),
            (
                "iban ＮＬ９１ＡＢＮＡ０４１７１６４３００ ja",
                Kind::Iban,
                "ＮＬ９１ＡＢＮＡ０４１７１６４３００",
            ),
            ("postcode ３５１１ＡＢ ja", Kind::Postcode, "３５１１ＡＢ"),
            (
                "mail ｊａｎ＠ｖｏｏｒｂｅｅｌｄ．ｎｌ ja",
                Kind::Email,
                "ｊａｎ＠ｖｏｏｒｂｅｅｌｄ．ｎｌ",
            ),
        ] {
            assert_eq!(personal(draft), vec![(kind, span)], "{draft:?}");
        }
    }

    #[test]
    fn hyphen_lookalikes_separate_digit_groups() {
        for (draft, kind, span) in [
            (
                "bel 06\u{2011}12345678 maar",
                Kind::Phone,
                "06\u{2011}12345678",
            ),
            (
                "bel 06\u{2010}12345678 maar",
                Kind::Phone,
                "06\u{2010}12345678",
            ),
            (
                "bsn 123\u{2212}456\u{2212}782 ja",
                Kind::Bsn,
                "123\u{2212}456\u{2212}782",
            ),
            (
                "bsn 123\u{a0}456\u{202f}782 ja",
                Kind::Bsn,
                "123\u{a0}456\u{202f}782",
            ),
            ("bsn 123_456_782 ja", Kind::Bsn, "123_456_782"),
        ] {
            assert_eq!(personal(draft), vec![(kind, span)], "{draft:?}");
        }
    }

    #[test]
    fn spelled_out_separators_between_digit_groups_are_seen_through() {
        for (draft, kind, span) in [
            (
                "bel 06 streepje 12345678 maar",
                Kind::Phone,
                "06 streepje 12345678",
            ),
            (
                "bsn 123 punt 456 punt 782 ja",
                Kind::Bsn,
                "123 punt 456 punt 782",
            ),
            (
                "bsn 123 spatie 456 spatie 782 ja",
                Kind::Bsn,
                "123 spatie 456 spatie 782",
            ),
        ] {
            assert_eq!(personal(draft), vec![(kind, span)], "{draft:?}");
        }
    }

    #[test]
    fn direction_controls_are_refused() {
        // U+202E shows "287654321" to a reader as the valid BSN 123456782; the check
        // must not have to guess what the reader sees.
        for control in [
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}',
        ] {
            let draft = format!("Mijn nummer: {control}287654321, echt.");
            let verdict = check(&draft);
            assert_eq!(verdict.outcome, Outcome::Reject, "{control:?}");
            let direction: Vec<_> = found(&draft)
                .into_iter()
                .filter(|(code, _)| *code == "richtingteken")
                .collect();
            assert_eq!(
                direction,
                vec![("richtingteken", control.encode_utf8(&mut [0; 4]) as &str)]
            );
        }
        let draft = "bsn \u{202e}287654321\u{202c} en \u{2067}iets\u{2069}.";
        assert_eq!(
            found(draft)
                .into_iter()
                .filter(|(code, _)| *code == "richtingteken")
                .count(),
            4,
            "every control is highlighted"
        );
    }

    #[test]
    fn postcode_spellings_are_held() {
        for (draft, span) in [
            ("Ik woon in 3511-AB.", "3511-AB"),
            ("Ik woon in 3511 - AB.", "3511 - AB"),
            ("Ik woon in 3511  AB.", "3511  AB"),
            ("Ik woon in 3511-ab 12.", "3511-ab 12"),
            ("Ik woon in 3511 ab.", "3511 ab"),
            ("Ik woon in 3511ab.", "3511ab"),
        ] {
            assert_eq!(personal(draft), vec![(Kind::Postcode, span)], "{draft:?}");
        }
    }

    #[test]
    fn street_spellings_are_held() {
        for (draft, span) in [
            ("Ze woont op de Kerkstraat 12a hier.", "Kerkstraat 12a"),
            ("Ze woont op de Kerkstr. 12 hier.", "Kerkstr. 12"),
            ("Ze woont op de Kerkstr 12 hier.", "Kerkstr 12"),
            (
                "Ze woont op de Bilderdijkstr. 3-2 hier.",
                "Bilderdijkstr. 3-2",
            ),
            ("Ze woont op de Kastanjeln. 4 hier.", "Kastanjeln. 4"),
            ("Ze woont op de Kerkstraat 12 A hier.", "Kerkstraat 12 A"),
        ] {
            assert_eq!(personal(draft), vec![(Kind::Postcode, span)], "{draft:?}");
        }
    }

    #[test]
    fn email_spellings_are_held() {
        for (draft, span) in [
            (
                "mail jan punt jansen apenstaartje gmail punt com graag",
                "jan punt jansen apenstaartje gmail punt com",
            ),
            ("mail jan[at]gmail[dot]com graag", "jan[at]gmail[dot]com"),
            ("mail jan (at) gmail . com graag", "jan (at) gmail . com"),
            ("mail jan @ gmail . com graag", "jan @ gmail . com"),
            ("mail jan@gmail . com graag", "jan@gmail . com"),
            (
                "mail JAN [AT] GMAIL [DOT] COM graag",
                "JAN [AT] GMAIL [DOT] COM",
            ),
            ("mail jan at gmail dot com graag", "jan at gmail dot com"),
            (
                "mail jan.jansen (apenstaartje) gmail (punt) nl",
                "jan.jansen (apenstaartje) gmail (punt) nl",
            ),
        ] {
            assert_eq!(personal(draft), vec![(Kind::Email, span)], "{draft:?}");
        }
    }

    #[test]
    fn disguised_banned_words_and_links_are_found() {
        let policy = Policy {
            banned_words: vec!["idioot".into()],
            ..Policy::default()
        };
        for draft in [
            "Wat een idi\u{200b}oot.",
            "Wat een ＩＤＩＯＯＴ.",
            "Wat een idi\u{ad}oot.",
        ] {
            assert_eq!(
                screen(draft, &policy, &[]).outcome,
                Outcome::Reject,
                "{draft:?}"
            );
        }
        assert_eq!(
            found("Kijk op ｗｗｗ．ｖｏｏｒｂｅｅｌｄ．ｎｌ nu."),
            vec![("link", "ｗｗｗ．ｖｏｏｒｂｅｅｌｄ．ｎｌ")]
        );
    }

    #[test]
    fn ordinary_text_with_typography_passes() {
        assert_clean("Het loket is open van 9.00\u{2009}–\u{2009}17.00 uur.");
        assert_clean("De eigen bijdrage is €\u{a0}19,00 per maand.");
        assert_clean("Café De Zon, ﬁjn dat het kan: 2½ uur per week.");
        assert_clean("Zij zegt: «ik kan het niet meer» — en dat begrijp ik.");
        assert_clean("Het punt is dat ik 3 uur wacht; punt 2 van de brief klopt niet.");
    }

    #[test]
    fn quantities_after_a_street_and_years_after_a_time_word_are_no_address() {
        assert_clean("Met de taxi ben je over de Rijksweg 20 minuten onderweg.");
        assert_clean("Het fietspad 3 jaar lang niet gemaaid, en de Dorpsweg 2 keer per week.");
        assert_clean("In 2022 ging het om 350 mensen, in 2024 om 480.");
        assert_clean("Sinds 2019 is het 12.");
        // A house number still makes an address, and a named one always does.
        assert_eq!(
            personal("Ze woont op de Rijksweg 20, al jaren."),
            vec![(Kind::Postcode, "Rijksweg 20")]
        );
        assert_eq!(
            personal("Mijn huisnummer 12, 2024 om."),
            vec![(Kind::Postcode, "huisnummer 12, 2024 om")]
        );
    }

    #[test]
    fn every_decimal_digit_has_its_value() {
        let mut sets = 0;
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            if c.general_category() != GeneralCategory::DecimalNumber {
                assert_eq!(decimal_value(c), None, "{c:?}");
                continue;
            }
            let value = decimal_value(c).unwrap_or(99);
            assert!(value <= 9, "{c:?}");
            if value == 0 {
                sets += 1;
            }
            // Where compatibility normalisation knows the digit, it agrees.
            let nfkc: String = c.to_string().nfkc().collect();
            if let Some(d) = nfkc.chars().next().filter(char::is_ascii_digit) {
                assert_eq!(d.to_digit(10), Some(value), "{c:?}");
            }
        }
        assert!(sets >= 60, "{sets} sets of digits");
        for (c, v) in [
            ('7', 7),
            ('٣', 3),
            ('۸', 8),
            ('५', 5),
            ('৯', 9),
            ('๒', 2),
            ('𝟗', 9),
            ('𝟶', 0),
        ] {
            assert_eq!(decimal_value(c), Some(v), "{c:?}");
        }
        assert_eq!(decimal_value('x'), None);
        assert_eq!(decimal_value('½'), None);
    }

    #[test]
    fn normalised_offsets_map_back_to_the_draft() {
        let draft = "ﬁjn: \u{200b}e\u{301} 1\u{ad}2";
        let norm = Normalized::new(draft);
        assert_eq!(norm.text, "fijn: é 12");
        assert_eq!(norm.origin.len(), norm.text.len());
        // Both letters of the ligature come from it; the accent belongs to its letter.
        assert_eq!(norm.original(0, 1), (0, "ﬁ".len()));
        assert_eq!(norm.original(1, 2), (0, "ﬁ".len()));
        let e = norm.text.find('é').unwrap_or(0);
        let (s, t) = norm.original(e, e + 'é'.len_utf8());
        assert_eq!(&draft[s..t], "e\u{301}");
        let one = norm.text.find('1').unwrap_or(0);
        let (s, t) = norm.original(one, one + 2);
        assert_eq!(&draft[s..t], "1\u{ad}2");
    }

    #[test]
    fn short_texts_are_refused_for_personal_data_and_direction_controls() {
        assert_eq!(refusal("Overvecht"), None);
        assert_eq!(refusal("Leidsche Rijn, wijk 3"), None);
        assert_eq!(refusal("zie www.voorbeeld.nl"), None);
        assert_eq!(
            refusal("Kerkstraat 12"),
            Some(Reason::PersonalData(Kind::Postcode))
        );
        assert_eq!(
            refusal("3511\u{200b}AB"),
            Some(Reason::PersonalData(Kind::Postcode))
        );
        assert_eq!(
            refusal("bel ٠٦١٢٣٤٥٦٧٨"),
            Some(Reason::PersonalData(Kind::Phone))
        );
        assert_eq!(refusal("\u{202e}thcevrevO"), Some(Reason::DirectionControl));
    }
}
