//! The case text staff write, read the way panelists will read it: every text field
//! screened for personal data (BSN, IBAN, phone number, e-mail address, postcode or
//! street address) and for characters that change the writing direction, with the
//! same detectors as posts ([`screening::personal_data`]) but without a panel's word
//! and link policy, which is about panelists' posts. Also the rules of an erratum: what
//! it may change and the note panelists read beside the corrected text.
//!
//! Pure code: no database, no axum. The service decides when findings block a step
//! ([`Service::open_case`](super::Service::open_case), scheduling, errata), the pages
//! and the API show them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::cases::{FrameItem, TrailStep};
use super::error::{Error, Result};
use crate::domain::screening::{self, Reason};
use crate::domain::text_length;

/// One part of a case's text that looks like personal data.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct CaseFinding {
    /// The field as the API names it: `title`, `provision`, `summary`, `situation`,
    /// `decision`, `considerations`, `frame`, `trail`, `questions` or `response`.
    pub field: &'static str,
    /// The item of a list field (`considerations`, `frame`, `trail`, `questions`),
    /// counted from 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The part of a `frame` item (`title`, `text`) or `trail` step (`date`, `step`,
    /// `text`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<&'static str>,
    /// `bsn`, `iban`, `telefoon`, `e-mail`, `adres`, or `richtingteken` (invisible
    /// characters that change the writing direction, so readers may see something else
    /// than what was checked).
    pub kind: &'static str,
    /// Byte offset into that text where the finding starts.
    pub start: usize,
    /// Byte offset into that text just after the finding.
    pub end: usize,
}

/// A correction of a case's text after it opened, as everyone who reads the case sees
/// it.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct CaseCorrection {
    /// When the text was corrected.
    pub at: DateTime<Utc>,
    /// The corrected fields, named as in the API (`situation`, `frame`, …).
    pub fields: Vec<String>,
    /// Why, in the admin's words.
    pub note: String,
}

/// The fields of a case an erratum may correct: its texts. What the panel was asked
/// and how (panels, moderation, post settings), the law and the outcome of the decision
/// and the dates stay as they were when the case opened.
pub const ERRATUM_FIELDS: [&str; 9] = [
    "title",
    "provision",
    "summary",
    "situation",
    "decision",
    "considerations",
    "frame",
    "trail",
    "questions",
];

/// Shortest and longest note of an erratum, in characters.
const NOTE_MIN: usize = 5;
const NOTE_MAX: usize = 300;

/// The text fields of a case, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct CaseTexts<'a> {
    /// Title.
    pub title: &'a str,
    /// What was applied for.
    pub provision: &'a str,
    /// Summary.
    pub summary: &'a str,
    /// The applicant's situation.
    pub situation: &'a str,
    /// The decision.
    pub decision: &'a str,
    /// Considerations.
    pub considerations: &'a [String],
    /// Legal frame.
    pub frame: &'a [FrameItem],
    /// Decision trail.
    pub trail: &'a [TrailStep],
    /// Questions to the panel.
    pub questions: &'a [String],
    /// The municipality's response.
    pub response: Option<&'a str>,
}

/// Where a piece of case text lives: field, list item and part.
type Place = (&'static str, Option<usize>, Option<&'static str>);

impl<'a> CaseTexts<'a> {
    /// Every piece of text with its place, in the order the case page shows them.
    fn pieces(&self) -> Vec<(Place, &'a str)> {
        let mut out: Vec<(Place, &'a str)> = vec![
            (("title", None, None), self.title),
            (("provision", None, None), self.provision),
            (("summary", None, None), self.summary),
            (("situation", None, None), self.situation),
            (("decision", None, None), self.decision),
        ];
        for (i, s) in self.considerations.iter().enumerate() {
            out.push((("considerations", Some(i), None), s));
        }
        for (i, f) in self.frame.iter().enumerate() {
            out.push((("frame", Some(i), Some("title")), &f.title));
            out.push((("frame", Some(i), Some("text")), &f.text));
        }
        for (i, t) in self.trail.iter().enumerate() {
            if let Some(d) = &t.date {
                out.push((("trail", Some(i), Some("date")), d));
            }
            out.push((("trail", Some(i), Some("step")), &t.step));
            out.push((("trail", Some(i), Some("text")), &t.text));
        }
        for (i, s) in self.questions.iter().enumerate() {
            out.push((("questions", Some(i), None), s));
        }
        if let Some(r) = self.response {
            out.push((("response", None, None), r));
        }
        out
    }
}

/// Every finding of personal data (or of direction controls) in a case's text, by
/// field in page order and then by position.
pub fn screen_case(texts: &CaseTexts<'_>) -> Vec<CaseFinding> {
    let mut out = Vec::new();
    for ((field, index, part), text) in texts.pieces() {
        for f in screening::personal_data(text) {
            let kind = match f.reason {
                Reason::PersonalData(kind) => kind.as_str(),
                _ => "richtingteken",
            };
            out.push(CaseFinding {
                field,
                index,
                part,
                kind,
                start: f.start,
                end: f.end,
            });
        }
    }
    out
}

/// The fields that hold findings, each once, in page order.
pub fn fields_of(findings: &[CaseFinding]) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = Vec::new();
    for f in findings {
        if !fields.contains(&f.field) {
            fields.push(f.field);
        }
    }
    fields
}

/// What a step that shows text to panelists needs before it may go ahead: nothing when
/// there are no findings; with findings, the admin's explicit confirmation that they
/// checked them and they are not personal data of a real person. Returns the audit
/// detail of a confirmation (which fields, how many findings; never the text), or
/// `422 case_personal_data` naming the fields.
pub fn require_confirmation(
    findings: &[CaseFinding],
    confirmed: bool,
) -> Result<Option<serde_json::Value>> {
    if findings.is_empty() {
        return Ok(None);
    }
    let fields = fields_of(findings);
    if !confirmed {
        return Err(Error::invalid_fields(
            "case_personal_data",
            format!(
                "De tekst van de casus lijkt persoonsgegevens te bevatten (in: {}). Haal ze \
                 weg, of bevestig (\"confirm_findings\": true) dat u de gevonden stukken hebt \
                 gecontroleerd en dat het geen persoonsgegevens van een echt persoon zijn.",
                fields.join(", ")
            ),
            fields,
        ));
    }
    Ok(Some(serde_json::json!({
        "fields": fields,
        "count": findings.len(),
    })))
}

/// The note of an erratum, trimmed: 5 to 300 characters, without personal data or
/// direction controls (panelists read it as it is, and nobody moderates it).
pub fn erratum_note(note: &str) -> Result<String> {
    let n = text_length(note);
    if !(NOTE_MIN..=NOTE_MAX).contains(&n) {
        return Err(Error::invalid(
            "invalid_field",
            format!(
                "Het veld 'erratum' moet kort zeggen waarom de tekst is aangepast \
                 ({NOTE_MIN} tot {NOTE_MAX} tekens)."
            ),
        ));
    }
    if screening::refusal(note).is_some() {
        return Err(Error::invalid(
            "erratum_personal_data",
            "De reden van het erratum lijkt persoonsgegevens te bevatten. Panelleden lezen \
             deze reden; noem alleen wat er is aangepast.",
        ));
    }
    Ok(note.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(
        situation: &'a str,
        considerations: &'a [String],
        frame: &'a [FrameItem],
        trail: &'a [TrailStep],
    ) -> CaseTexts<'a> {
        CaseTexts {
            title: "Traplift afgewezen",
            provision: "Traplift",
            summary: "",
            situation,
            decision: "De gemeente wijst de traplift af.",
            considerations,
            frame,
            trail,
            questions: &[],
            response: None,
        }
    }

    #[test]
    fn findings_point_into_their_field() {
        let situation = "Haar BSN is 111222333, zegt ze.";
        let considerations = vec!["Geen.".to_owned(), "Bel 06-12345678 terug.".to_owned()];
        let frame = vec![FrameItem {
            title: "Artikel 2.3.5 Wmo 2015".into(),
            text: "Zij woont op Kerkstraat 12.".into(),
        }];
        let trail = vec![TrailStep {
            date: Some("2026-01-10".into()),
            step: "Melding".into(),
            text: "Mail aan jan@voorbeeld.nl gestuurd.".into(),
        }];
        let found = screen_case(&texts(situation, &considerations, &frame, &trail));
        let at = |f: &CaseFinding| -> &str {
            let text = match (f.field, f.index, f.part) {
                ("situation", None, None) => situation,
                ("considerations", Some(i), None) => &considerations[i],
                ("frame", Some(i), Some("text")) => &frame[i].text,
                ("trail", Some(i), Some("text")) => &trail[i].text,
                other => panic!("unexpected place {other:?}"),
            };
            &text[f.start..f.end]
        };
        let got: Vec<(&str, &str, &str)> = found.iter().map(|f| (f.field, f.kind, at(f))).collect();
        assert_eq!(
            got,
            vec![
                ("situation", "bsn", "111222333"),
                ("considerations", "telefoon", "06-12345678"),
                ("frame", "adres", "Kerkstraat 12"),
                ("trail", "e-mail", "jan@voorbeeld.nl"),
            ]
        );
        assert_eq!(
            fields_of(&found),
            vec!["situation", "considerations", "frame", "trail"]
        );
    }

    #[test]
    fn links_and_dates_are_no_findings() {
        let trail = vec![TrailStep {
            date: Some("2026-01-10".into()),
            step: "Bezwaar".into(),
            text: "Zie www.wmo.nl en artikel 2.3.5, besluit van 12-03-2024.".into(),
        }];
        assert_eq!(
            screen_case(&texts("Mevrouw woont alleen.", &[], &[], &trail)),
            vec![]
        );
    }

    #[test]
    fn direction_controls_are_findings() {
        let found = screen_case(&texts(
            "Mevrouw \u{202E}333222111 woont hier.",
            &[],
            &[],
            &[],
        ));
        assert!(found.iter().any(|f| f.kind == "richtingteken"), "{found:?}");
    }

    #[test]
    fn findings_block_until_confirmed() {
        assert_eq!(require_confirmation(&[], false).ok(), Some(None));
        let found = screen_case(&texts("BSN 111222333 en 06-12345678.", &[], &[], &[]));
        let refused = require_confirmation(&found, false).expect_err("refused");
        assert_eq!(refused.code(), "case_personal_data");
        assert_eq!(refused.fields(), &["situation"]);
        assert!(!refused.message().contains("111222333"));
        let detail = require_confirmation(&found, true).expect("confirmed");
        assert_eq!(
            detail,
            Some(serde_json::json!({"fields": ["situation"], "count": 2}))
        );
    }

    #[test]
    fn erratum_notes_are_short_and_hold_no_personal_data() {
        assert_eq!(
            erratum_note("  Adres weggehaald. ").ok().as_deref(),
            Some("Adres weggehaald.")
        );
        assert!(erratum_note("kort").is_err());
        assert!(erratum_note(&"x".repeat(301)).is_err());
        assert_eq!(
            erratum_note("Bel 06-12345678.").err().map(|e| e.code()),
            Some("erratum_personal_data")
        );
    }

    /// The demo opens its cases without anyone confirming findings, so its texts must
    /// have none.
    #[test]
    fn the_demo_cases_have_no_findings() {
        #[derive(serde::Deserialize)]
        struct Demo {
            title: String,
            provision: String,
            summary: String,
            situation: String,
            decision: String,
            considerations: Vec<String>,
            frame: Vec<FrameItem>,
            trail: Vec<DemoStep>,
            questions: Vec<String>,
        }
        #[derive(serde::Deserialize)]
        struct DemoStep {
            step: String,
            text: String,
        }
        let cases: Vec<Demo> =
            serde_json::from_str(include_str!("../demo/cases.json")).expect("demo cases");
        for c in &cases {
            let trail: Vec<TrailStep> = c
                .trail
                .iter()
                .map(|t| TrailStep {
                    date: Some("2026-01-10".into()),
                    step: t.step.clone(),
                    text: t.text.clone(),
                })
                .collect();
            let found = screen_case(&CaseTexts {
                title: &c.title,
                provision: &c.provision,
                summary: &c.summary,
                situation: &c.situation,
                decision: &c.decision,
                considerations: &c.considerations,
                frame: &c.frame,
                trail: &trail,
                questions: &c.questions,
                response: None,
            });
            assert_eq!(found, vec![], "{}", c.title);
        }
    }
}
