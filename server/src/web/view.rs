//! Small view helpers: dates in Dutch local time, paragraphs, and a post prepared for
//! the thread template (labels, notices, pressed weighing buttons).

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Amsterdam;

use super::i18n::Tr;
use crate::domain::{PostStatus, Verdict, WeighingValue};
use crate::service::posts::PostView;

/// A moment as people in the Netherlands read it: `23-11-2026 14:05`.
pub fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Amsterdam)
        .format("%d-%m-%Y %H:%M")
        .to_string()
}

/// A date as people in the Netherlands read it: `23-11-2026`.
pub fn local_date(at: DateTime<Utc>) -> String {
    at.with_timezone(&Amsterdam).format("%d-%m-%Y").to_string()
}

/// The value for an `<input type="datetime-local">`: local time without zone.
pub fn datetime_local(at: DateTime<Utc>) -> String {
    at.with_timezone(&Amsterdam)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Parses an `<input type="datetime-local">` value as Dutch local time.
pub fn parse_datetime_local(value: &str) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M").ok()?;
    Amsterdam
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Paragraphs of a text: runs of lines separated by blank lines, each run joined.
pub fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.trim().replace('\n', " "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// A run of text, highlighted (`<mark>`) or not: how the case editor shows findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The text.
    pub text: String,
    /// Whether it is part of a finding.
    pub mark: bool,
}

/// `text` cut into runs, those inside one of the byte ranges `spans` marked. The ranges
/// are offsets into a larger text of which `text` starts at byte `base`.
fn segments_at(text: &str, base: usize, spans: &[(usize, usize)]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for (i, c) in text.char_indices() {
        let at = base + i;
        let mark = spans.iter().any(|&(s, e)| s <= at && at < e);
        match out.last_mut() {
            Some(last) if last.mark == mark => last.text.push(c),
            _ => out.push(Segment {
                text: c.to_string(),
                mark,
            }),
        }
    }
    out
}

/// `text` cut into runs, with the byte ranges `spans` marked.
pub fn marked(text: &str, spans: &[(usize, usize)]) -> Vec<Segment> {
    segments_at(text, 0, spans)
}

/// The [`paragraphs`] of a text, each cut into runs with the byte ranges `spans` (offsets
/// into the whole text) marked.
pub fn marked_paragraphs(text: &str, spans: &[(usize, usize)]) -> Vec<Vec<Segment>> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in text.split("\n\n") {
        let lead = piece.len() - piece.trim_start().len();
        let trimmed = piece.trim();
        if !trimmed.is_empty() {
            let mut runs = segments_at(trimmed, start + lead, spans);
            for r in &mut runs {
                r.text = r.text.replace('\n', " ");
            }
            out.push(runs);
        }
        start += piece.len() + 2;
    }
    out
}

/// The errors of a form that was not accepted, for the summary at the top of the page
/// (the GOV.UK and NL Design System pattern): each links to the field it is about, and
/// the summary takes the focus when the page loads, so nobody has to search for it.
#[derive(Clone, Debug, Default)]
pub struct ErrorSummary(pub Vec<(String, String)>);

impl ErrorSummary {
    /// Adds `message` about the element with id `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    /// A summary of one error.
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> ErrorSummary {
        let mut s = ErrorSummary::default();
        s.add(field, message);
        s
    }

    /// A summary of `error` about `field`, if there is one (for pages with one error).
    pub fn of(field: &str, error: &Option<String>) -> ErrorSummary {
        error
            .as_ref()
            .map(|e| ErrorSummary::one(field, e.clone()))
            .unwrap_or_default()
    }

    /// Whether there is anything to show.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A post ready for the thread template.
#[derive(Clone, Debug)]
pub struct PostItem {
    /// The post as the reader may see it.
    pub view: PostView,
    /// `eens`/`oneens`/`twijfel` for reactions whose verdict the reader may see.
    pub verdict_key: Option<&'static str>,
    /// Catalogue key of the verdict's label.
    pub verdict_label: &'static str,
    /// Local time of posting.
    pub when: String,
    /// ISO time for `<time datetime>`.
    pub iso: String,
    /// Pseudonym of the post replied to.
    pub parent_author: Option<String>,
    /// Text in place of a body the reader may not read.
    pub placeholder: String,
    /// A notice for the author or staff (held, hidden, withdrawn).
    pub notice: String,
    /// `info` or `warning`.
    pub notice_kind: &'static str,
    /// Why the post is held, in plain words.
    pub reasons: Vec<String>,
    /// State word for staff (`visible`, `pending`, …).
    pub state_key: &'static str,
    /// Catalogue key of the state's label.
    pub state_label: &'static str,
    /// Whether the post is visible to everyone.
    pub visible: bool,
    /// Whether the author withdrew it.
    pub withdrawn: bool,
    /// `aria-pressed` values of the three weighing buttons.
    pub weighed_agree: &'static str,
    /// See `weighed_agree`.
    pub weighed_disagree: &'static str,
    /// See `weighed_agree`.
    pub weighed_pass: &'static str,
    /// An error of a reply to this post that was not accepted.
    pub reply_error: Option<String>,
    /// The text of that reply, so nothing typed is lost.
    pub reply_body: String,
    /// Whether the reader flagged this post already (no second flag is offered).
    pub flagged: bool,
    /// An error of a flag of this post that was not accepted.
    pub flag_error: Option<String>,
    /// The reason chosen in that flag, so it stays chosen.
    pub flag_reason: String,
    /// The note typed in that flag.
    pub flag_note: String,
    /// Whether the author may still change it (not withdrawn or rejected).
    pub editable: bool,
    /// Whether the author may contest a moderator's decision on it (hidden or
    /// rejected, not contested yet).
    pub contestable: bool,
    /// An error of an objection that was not accepted.
    pub contest_error: Option<String>,
    /// The text of that objection.
    pub contest_note: String,
    /// Written by someone else since the reader's last visit.
    pub is_new: bool,
}

/// The reason stored when enough flags hid a post pending review.
const FLAGS_REASON: &str = "meldingen";

fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Agree => "verdict.eens",
        Verdict::Disagree => "verdict.oneens",
        Verdict::Doubt => "verdict.twijfel",
    }
}

fn state_label(s: PostStatus) -> &'static str {
    match s {
        PostStatus::Visible => "poststatus.visible",
        PostStatus::Pending => "poststatus.pending",
        PostStatus::Hidden => "poststatus.hidden",
        PostStatus::Rejected => "poststatus.rejected",
        PostStatus::Withdrawn => "poststatus.withdrawn",
    }
}

fn pressed(mine: Option<WeighingValue>, v: WeighingValue) -> &'static str {
    if mine == Some(v) { "true" } else { "false" }
}

impl PostItem {
    /// Prepares `view` for a reader; `staff` readers see states and reasons.
    pub fn new(t: &Tr, view: PostView, parent_author: Option<String>, staff: bool) -> PostItem {
        let status = view.status;
        let reason = view
            .moderation_reason
            .as_deref()
            .map(|r| t.of("reason", r))
            .unwrap_or_default();
        // Flags can hide a post before any moderator saw it: that is said as it is.
        let by_flags =
            status == PostStatus::Hidden && view.moderation_reason.as_deref() == Some(FLAGS_REASON);
        let placeholder = match status {
            PostStatus::Pending => t.t("post.placeholder_pending").to_owned(),
            PostStatus::Hidden if by_flags => t.t("post.placeholder_flagged").to_owned(),
            // The author left the panel and had their posts removed.
            PostStatus::Withdrawn
                if view.moderation_reason.as_deref() == Some(crate::domain::names::LEFT_REASON) =>
            {
                t.t("post.placeholder_left").to_owned()
            }
            PostStatus::Withdrawn => t.t("post.placeholder_withdrawn").to_owned(),
            PostStatus::Hidden | PostStatus::Rejected if !reason.is_empty() => {
                t.with("post.placeholder_hidden_reason", "reason", &reason)
            }
            _ => t.t("post.placeholder_hidden").to_owned(),
        };
        let (notice, notice_kind) = match status {
            _ if !(view.mine || staff) => (String::new(), "info"),
            PostStatus::Pending if view.mine => (t.t("post.notice_pending").to_owned(), "info"),
            PostStatus::Hidden if view.mine && by_flags => {
                (t.t("post.notice_flagged").to_owned(), "warning")
            }
            PostStatus::Hidden | PostStatus::Rejected if view.mine => {
                (t.with("post.notice_hidden", "reason", &reason), "warning")
            }
            PostStatus::Withdrawn if view.mine => (t.t("post.notice_withdrawn").to_owned(), "info"),
            PostStatus::Hidden | PostStatus::Rejected if staff => (
                t.with("post.notice_hidden_staff", "reason", &reason),
                "warning",
            ),
            _ => (String::new(), "info"),
        };
        let mut reasons: Vec<String> = view
            .held_reasons
            .iter()
            .flatten()
            .filter(|_| status == PostStatus::Pending)
            .map(|r| t.error(&format!("held_{}", r.code), &r.message))
            .collect();
        if let Some(note) = view
            .moderation_note
            .as_deref()
            .filter(|_| !notice.is_empty())
        {
            reasons.push(t.with("post.moderator_note", "note", note));
        }
        let verdict_key = view
            .verdict
            .filter(|_| view.body.is_some())
            .map(|v| v.as_str());
        PostItem {
            verdict_label: view.verdict.map(verdict_label).unwrap_or(""),
            verdict_key,
            when: local_time(view.created_at),
            iso: view.created_at.to_rfc3339(),
            parent_author,
            placeholder,
            notice,
            notice_kind,
            reasons,
            state_key: status.as_str(),
            state_label: state_label(status),
            visible: status == PostStatus::Visible && view.body.is_some(),
            withdrawn: status == PostStatus::Withdrawn,
            weighed_agree: pressed(view.my_weighing, WeighingValue::Agree),
            weighed_disagree: pressed(view.my_weighing, WeighingValue::Disagree),
            weighed_pass: pressed(view.my_weighing, WeighingValue::Pass),
            reply_error: None,
            reply_body: String::new(),
            flagged: view.my_flag,
            flag_error: None,
            flag_reason: String::new(),
            flag_note: String::new(),
            contestable: view.mine
                && !view.my_flag
                && matches!(status, PostStatus::Hidden | PostStatus::Rejected),
            contest_error: None,
            contest_note: String::new(),
            is_new: false,
            editable: view.mine
                && matches!(
                    status,
                    PostStatus::Visible | PostStatus::Pending | PostStatus::Hidden
                ),
            view,
        }
    }

    /// Prepares a page of posts, naming the author each reply answers.
    pub fn list(t: &Tr, views: Vec<PostView>, staff: bool) -> Vec<PostItem> {
        let authors: std::collections::HashMap<i64, String> =
            views.iter().map(|v| (v.id, v.author.clone())).collect();
        views
            .into_iter()
            .map(|v| {
                let parent = v.parent_id.and_then(|p| authors.get(&p).cloned());
                PostItem::new(t, v, parent, staff)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_follow_offsets_across_paragraphs() {
        let text = "Mevrouw belt 06-12345678.\n\n  Zij woont op\nKerkstraat 12.";
        let phone = text.find("06-").unwrap();
        let street = text.find("Kerkstraat").unwrap();
        let spans = [(phone, phone + 11), (street, street + 13)];
        let paras = marked_paragraphs(text, &spans);
        let show = |runs: &[Segment]| {
            runs.iter()
                .map(|r| {
                    if r.mark {
                        format!("[{}]", r.text)
                    } else {
                        r.text.clone()
                    }
                })
                .collect::<String>()
        };
        assert_eq!(paras.len(), 2);
        assert_eq!(show(&paras[0]), "Mevrouw belt [06-12345678].");
        assert_eq!(show(&paras[1]), "Zij woont op [Kerkstraat 12].");
        let plain: Vec<String> = paras
            .iter()
            .map(|p| p.iter().map(|r| r.text.as_str()).collect())
            .collect();
        assert_eq!(plain, paragraphs(text));
        let accents = "één 123";
        let at = accents.find('1').unwrap();
        assert_eq!(show(&marked(accents, &[(at, at + 3)])), "één [123]");
        assert_eq!(marked("", &[(0, 3)]), vec![]);
    }

    #[test]
    fn times_show_in_dutch_local_time_across_daylight_saving() {
        let winter: DateTime<Utc> = "2026-11-23T13:05:00Z".parse().expect("time");
        let summer: DateTime<Utc> = "2026-07-01T13:05:00Z".parse().expect("time");
        assert_eq!(local_time(winter), "23-11-2026 14:05");
        assert_eq!(local_time(summer), "01-07-2026 15:05");
        assert_eq!(parse_datetime_local("2026-11-23T14:05"), Some(winter));
        assert_eq!(datetime_local(summer), "2026-07-01T15:05");
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        assert_eq!(
            paragraphs("Een\ntwee\n\n\nDrie\n"),
            vec!["Een twee".to_owned(), "Drie".to_owned()]
        );
        assert!(paragraphs("  \n\n ").is_empty());
    }
}
