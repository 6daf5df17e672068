//! Translations. Every text a person reads in the pages comes from the Dutch (default)
//! or English catalogue in `web/i18n/`, embedded in the binary: `nl.toml`/`en.toml` for
//! the common and panelist pages, and one pair per staff area (`*-moderatie`,
//! `*-beheer`, `*-analyse`). Keys are the dotted paths of the TOML tables
//! (`verdict.legend`); the areas use distinct top-level tables.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

/// Name of the cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "beraad_lang";

/// A language of the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// Dutch, the default.
    #[default]
    Nl,
    /// English.
    En,
}

impl Lang {
    /// The language a code (`nl`, `en`) names; anything else is Dutch.
    pub fn parse(code: &str) -> Lang {
        match code {
            "en" => Lang::En,
            _ => Lang::Nl,
        }
    }

    /// The BCP 47 code (`nl`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }
}

type Catalog = HashMap<String, String>;

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalog) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

fn load(sources: &[&str]) -> Catalog {
    let mut out = Catalog::new();
    // The catalogues are part of the binary and checked by the tests below, so a parse
    // failure cannot reach a running server; a missing text would show its key.
    for source in sources {
        if let Ok(table) = source.parse::<toml::Table>() {
            flatten("", &table, &mut out);
        }
    }
    out
}

const NL_SOURCES: [&str; 8] = [
    include_str!("../../../web/i18n/nl.toml"),
    include_str!("../../../web/i18n/nl-moderatie.toml"),
    include_str!("../../../web/i18n/nl-beheer.toml"),
    include_str!("../../../web/i18n/nl-analyse.toml"),
    include_str!("../../../web/i18n/nl-loting.toml"),
    include_str!("../../../web/i18n/nl-brieven.toml"),
    include_str!("../../../web/i18n/nl-meldingen.toml"),
    include_str!("../../../web/i18n/nl-gegevens.toml"),
];
const EN_SOURCES: [&str; 8] = [
    include_str!("../../../web/i18n/en.toml"),
    include_str!("../../../web/i18n/en-moderatie.toml"),
    include_str!("../../../web/i18n/en-beheer.toml"),
    include_str!("../../../web/i18n/en-analyse.toml"),
    include_str!("../../../web/i18n/en-loting.toml"),
    include_str!("../../../web/i18n/en-brieven.toml"),
    include_str!("../../../web/i18n/en-meldingen.toml"),
    include_str!("../../../web/i18n/en-gegevens.toml"),
];

static NL: LazyLock<Catalog> = LazyLock::new(|| load(&NL_SOURCES));
static EN: LazyLock<Catalog> = LazyLock::new(|| load(&EN_SOURCES));

/// The texts of one language, handed to every template as `t`.
#[derive(Clone, Copy)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
    catalog: &'static Catalog,
}

impl std::fmt::Debug for Tr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tr({})", self.lang.code())
    }
}

impl Tr {
    /// The texts of `lang`.
    pub fn new(lang: Lang) -> Tr {
        let catalog: &'static Catalog = match lang {
            Lang::Nl => &NL,
            Lang::En => &EN,
        };
        Tr { lang, catalog }
    }

    /// The text under `key`; the key itself when missing (the tests keep that from
    /// happening).
    pub fn t<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.catalog.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The label of a stored word under a prefix (`verdict` + `eens` → `verdict.eens`);
    /// the word itself when the catalogue has none.
    pub fn of(&self, prefix: &str, word: &str) -> String {
        match self.catalog.get(&format!("{prefix}.{word}")) {
            Some(s) => s.clone(),
            None => word.to_owned(),
        }
    }

    /// The text under `key` with `{n}` replaced by `n`; for exactly one, the text under
    /// `key_one` when the catalogue has it ("1 panellid gaf", not "1 panelleden gaven").
    pub fn n(&self, key: &str, n: impl Display) -> String {
        let n = n.to_string();
        let one = (n == "1")
            .then(|| self.catalog.get(&format!("{key}_one")))
            .flatten();
        match one {
            Some(text) => text.replace("{n}", &n),
            None => self.t(key).replace("{n}", &n),
        }
    }

    /// The text under `key` with `{name}` replaced by `value`.
    pub fn with(&self, key: &str, name: &str, value: impl Display) -> String {
        self.t(key)
            .replace(&format!("{{{name}}}"), &value.to_string())
    }

    /// The text for a service error code (`error.CODE`), or `fallback` (the service's
    /// own Dutch message) when the catalogue has none.
    pub fn error(&self, code: &str, fallback: &str) -> String {
        let key = format!("error.{code}");
        match self.catalog.get(&key) {
            Some(s) => s.clone(),
            None => fallback.to_owned(),
        }
    }

    /// The texts the page scripts need (keys under `js.`), as a JSON object.
    pub fn script_texts(&self) -> String {
        let map: std::collections::BTreeMap<&str, &str> = self
            .catalog
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("js.").map(|k| (k, v.as_str())))
            .collect();
        // `<` is escaped so the JSON can sit inside a `<script type="application/json">`.
        serde_json::to_string(&map)
            .unwrap_or_else(|_| "{}".into())
            .replace('<', "\\u003c")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(c: &Catalog) -> std::collections::BTreeSet<&str> {
        c.keys().map(String::as_str).collect()
    }

    #[test]
    fn both_catalogues_parse_and_hold_the_same_keys() {
        for (i, source) in NL_SOURCES.iter().chain(EN_SOURCES.iter()).enumerate() {
            if let Err(e) = source.parse::<toml::Table>() {
                panic!("catalogue {i} does not parse: {e}");
            }
        }
        let (nl, en) = (keys(&NL), keys(&EN));
        let only_nl: Vec<_> = nl.difference(&en).collect();
        // Service errors may have an English text only: their Dutch comes from the
        // service itself.
        let only_en: Vec<_> = en
            .difference(&nl)
            .filter(|k| !k.starts_with("error."))
            .collect();
        assert!(only_nl.is_empty(), "missing in en.toml: {only_nl:?}");
        assert!(only_en.is_empty(), "missing in nl.toml: {only_en:?}");
    }

    /// Every `t.t("…")`, `t.n("…"` and `t.with("…"` in the templates names a key of
    /// the catalogue.
    #[test]
    fn every_key_the_templates_use_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/templates");
        let mut missing = Vec::new();
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("templates dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("template");
            for marker in ["t.t(\"", "t.n(\"", "t.with(\""] {
                for (i, _) in text.match_indices(marker) {
                    let rest = &text[i + marker.len()..];
                    let key = &rest[..rest.find('"').unwrap_or(0)];
                    seen += 1;
                    if !NL.contains_key(key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(seen > 50, "the templates use translations");
        assert!(missing.is_empty(), "unknown keys: {missing:#?}");
    }

    /// Every stored word the pages show has a label in the catalogue.
    #[test]
    fn every_domain_word_has_a_label() {
        use crate::domain::*;
        let mut words: Vec<(&str, &str)> = Vec::new();
        words.extend(Verdict::ALL.iter().map(|v| ("verdict", v.as_str())));
        words.extend(CaseStatus::ALL.iter().map(|v| ("status", v.as_str())));
        words.extend(Outcome::ALL.iter().map(|v| ("outcome", v.as_str())));
        words.extend(LegalDomain::ALL.iter().map(|v| ("domain", v.as_str())));
        words.extend(PostStatus::ALL.iter().map(|v| ("poststatus", v.as_str())));
        words.extend(FlagReason::ALL.iter().map(|v| ("reason", v.as_str())));
        words.extend(ModAction::ALL.iter().map(|v| ("modaction", v.as_str())));
        words.extend(Role::ALL.iter().map(|v| ("role", v.as_str())));
        let missing: Vec<String> = words
            .iter()
            .map(|(p, w)| format!("{p}.{w}"))
            .filter(|k| !NL.contains_key(k))
            .collect();
        assert!(missing.is_empty(), "no label for {missing:?}");
    }

    #[test]
    fn placeholders_are_filled() {
        let t = Tr::new(Lang::Nl);
        assert!(!t.n("result.reacted", 3).contains("{n}"));
        assert!(t.n("result.reacted", 3).contains('3'));
        assert_eq!(Tr::new(Lang::En).t("no.such.key"), "no.such.key");
        assert_eq!(t.n("result.reacted", 1), "1 panellid gaf een oordeel.");
        assert_eq!(
            Tr::new(Lang::En).n("result.reacted", 1),
            "1 panel member gave a verdict."
        );
    }
}
