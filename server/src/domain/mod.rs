//! Domain vocabulary of Beraad: the closed sets of values (verdicts, roles, statuses…)
//! and the secrets a person holds (invite codes, session tokens). Pure code: this module
//! depends on neither axum nor sea-orm, so its rules can be tested on their own.

pub mod draw;
pub mod names;
pub mod screening;
pub mod secrets;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A closed set of values sent and accepted as words (see `word_enum!`). The API
/// description publishes each as a named string enum, and a test serialises every value
/// of every set to hold the two together.
pub trait ClosedSet: Copy + Serialize + DeserializeOwned + ToSchema + 'static {
    /// Every value, in declaration order.
    fn all() -> &'static [Self];
}

/// The schema of an optional answer from a closed set: one of its words, an empty
/// string (not shared) or null.
pub fn optional_word<T: ClosedSet>() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Ref, Type};
    OneOfBuilder::new()
        .item(Ref::from_schema_name(T::name()))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(0))
                .description(Some("Not shared.")),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// Declares a closed set of values stored and sent as lower-case Dutch or English words,
/// with parsing that names what was expected. Its OpenAPI schema is written here rather
/// than derived: utoipa's derive does not read a `#[serde(rename)]` whose word comes in
/// through a macro, and would publish the Rust names.
macro_rules! word_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word under which this value is stored and sent.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            /// Parses the stored or sent word; `None` if it is not one of [`Self::ALL`].
            pub fn parse(word: &str) -> Option<Self> {
                match word { $($word => Some($name::$variant),)+ _ => None }
            }

            /// The accepted words, for error messages.
            pub fn expected() -> String {
                [$($word),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let doc: &[&str] = &[$($doc),*];
                let words = [$($word),+];
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")))
                    .enum_values(Some(words))
                    .examples([words[0]])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl ClosedSet for $name {
            fn all() -> &'static [Self] {
                Self::ALL
            }
        }
    };
}

word_enum!(
    /// A panelist's verdict on the municipality's decision.
    Verdict { Agree = "eens", Disagree = "oneens", Doubt = "twijfel" }
);

word_enum!(
    /// What becomes of a panelist's posts when they leave the panel: kept under
    /// "oud-panellid", or removed (a placeholder keeps the thread's shape).
    PostsOnLeaving { Keep = "behouden", Remove = "verwijderen" }
);

word_enum!(
    /// A panelist's weighing (*waardering*) of someone else's post.
    WeighingValue { Agree = "agree", Disagree = "disagree", Pass = "pass" }
);

word_enum!(
    /// Why a panelist flags (*meldt*) a post, or why a moderator hid it; `bezwaar` is
    /// the author contesting a moderator's decision on their own post.
    FlagReason {
        PersonalData = "persoonsgegevens",
        Offensive = "beledigend",
        Spam = "spam",
        OffTopic = "off-topic",
        Other = "anders",
        Contest = "bezwaar",
    }
);

impl FlagReason {
    /// The reasons a reader may flag someone else's post for and a moderator may hide
    /// one for: every reason but the author's contest.
    pub const CHOICES: &'static [FlagReason] = &[
        FlagReason::PersonalData,
        FlagReason::Offensive,
        FlagReason::Spam,
        FlagReason::OffTopic,
        FlagReason::Other,
    ];

    /// Parses one of [`Self::CHOICES`].
    pub fn parse_choice(word: &str) -> Option<FlagReason> {
        Self::parse(word).filter(|r| Self::CHOICES.contains(r))
    }

    /// The words of [`Self::CHOICES`], for error messages.
    pub fn choices_expected() -> String {
        Self::CHOICES
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

word_enum!(
    /// A staff member's role within one municipality.
    Role { Admin = "admin", Moderator = "moderator", Analyst = "analyst" }
);

word_enum!(
    /// Where a case is in its life.
    CaseStatus {
        Draft = "draft",
        Scheduled = "scheduled",
        Open = "open",
        Closed = "closed",
        Archived = "archived",
    }
);

word_enum!(
    /// Whether posts are visible at once (post) or held until approved (pre).
    ModerationMode { Post = "post", Pre = "pre" }
);

word_enum!(
    /// The outcome of the municipality's decision.
    Outcome { Granted = "toegekend", Refused = "afgewezen", PartlyGranted = "deels_toegekend" }
);

word_enum!(
    /// The law a case was decided under.
    LegalDomain { Wmo = "wmo", Jeugdwet = "jeugdwet", Participatiewet = "participatiewet" }
);

word_enum!(
    /// Moderation and authorship state of a post.
    PostStatus {
        Visible = "visible",
        Pending = "pending",
        Hidden = "hidden",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
);

word_enum!(
    /// A moderator's decision on a post.
    ModAction {
        /// Make a held or flagged post visible (and close its flags).
        Approve = "approve",
        /// Hide a post; a placeholder with the reason stays in the thread.
        Hide = "hide",
        /// Make a hidden or rejected post visible again.
        Restore = "restore",
        /// Refuse a held post for good.
        Reject = "reject",
        /// Remove personal data from the text, everywhere it was stored.
        Redact = "redact",
    }
);

word_enum!(
    /// Age band a panelist may share, for the split of verdicts by age.
    AgeBand {
        /// 18 to 34.
        From18 = "18-34",
        /// 35 to 49.
        From35 = "35-49",
        /// 50 to 64.
        From50 = "50-64",
        /// 65 to 74.
        From65 = "65-74",
        /// 75 and older.
        From75 = "75+",
    }
);

word_enum!(
    /// A panelist's own experience with the Wmo, if shared.
    WmoExperience {
        /// Received or applied for support themselves.
        Own = "zelf",
        /// Through someone close (a partner, parent or child).
        Close = "naaste",
        /// None.
        None = "geen",
    }
);

word_enum!(
    /// Who holds a session.
    SessionKind { Panelist = "panelist", Staff = "staff" }
);

word_enum!(
    /// Which moderation queue: held posts (pre-moderation and automatic checks) or posts
    /// with open flags.
    QueueKind { Pending = "pending", Flagged = "flagged" }
);

word_enum!(
    /// Format of an export: JSON Lines (first the case, then every post) or CSV (one row
    /// per post, with a header row).
    ExportFormat { JsonLines = "jsonl", Csv = "csv" }
);

word_enum!(
    /// What the automatic check does with a draft: let it through, hold it for a
    /// moderator, or refuse it.
    CheckOutcome { Accept = "accept", Hold = "hold", Reject = "reject" }
);

impl CaseStatus {
    /// Panelists see a case only once it has been opened.
    pub fn visible_to_panelists(self) -> bool {
        matches!(
            self,
            CaseStatus::Open | CaseStatus::Closed | CaseStatus::Archived
        )
    }

    /// Texts and settings of a case can be changed until it opens.
    pub fn editable(self) -> bool {
        matches!(self, CaseStatus::Draft | CaseStatus::Scheduled)
    }
}

/// Length of a text as a person counts it: characters, not bytes, ignoring the
/// whitespace around it.
pub fn text_length(text: &str) -> usize {
    text.trim().chars().count()
}

/// `text` with every line break as a plain LF. Browsers send a textarea's line breaks
/// as CR LF and some old clients as a lone CR; paragraphs are split on LF, and an
/// unchanged text must compare equal, so every text a person writes passes here once,
/// at the service's door.
pub fn plain_line_breaks(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// [`plain_line_breaks`] in place.
pub fn make_line_breaks_plain(text: &mut String) {
    if text.contains('\r') {
        *text = plain_line_breaks(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_become_plain_newlines() {
        assert_eq!(plain_line_breaks("a\r\n\r\nb\rc\n"), "a\n\nb\nc\n");
        let mut s = String::from("één\r\ntwee");
        make_line_breaks_plain(&mut s);
        assert_eq!(s, "één\ntwee");
    }

    #[test]
    fn words_round_trip() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(*v));
        }
        assert_eq!(FlagReason::parse("off-topic"), Some(FlagReason::OffTopic));
        assert_eq!(Verdict::parse("EENS"), None);
        assert_eq!(Verdict::expected(), "eens, oneens, twijfel");
    }

    #[test]
    fn text_length_counts_characters() {
        assert_eq!(text_length("  één ßtraat  "), 10);
    }
}

word_enum!(
    /// What a panelist may choose to be told by e-mail.
    NotificationKind {
        /// A case was opened for them.
        CaseOpened = "casus_geopend",
        /// Someone replied to their post.
        Reply = "antwoord",
        /// A case they can take part in closes within two days.
        ClosingSoon = "sluit_binnenkort",
        /// The municipality responded to a case's outcome.
        Response = "reactie_gemeente",
    }
);

word_enum!(
    /// How often a panelist is told: at once, or in one message a day.
    NotificationFrequency { Now = "direct", Daily = "dagelijks" }
);

word_enum!(
    /// The language of a panelist's messages.
    MailLanguage { Nl = "nl", En = "en" }
);

word_enum!(
    /// What staff may announce to a case's panel by e-mail: the municipality's response,
    /// or a reminder that the case is open. Only fixed texts: an announcement carries no
    /// words of its own, so no personal data can be put in one.
    AnnouncementKind { Response = "reactie_gemeente", Reminder = "herinnering" }
);
