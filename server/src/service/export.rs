//! Exports of a case's thread for analysis elsewhere, as JSON Lines or CSV. Authors
//! appear under pseudonymous ids that are stable within one case and cannot be linked
//! across cases or to an invite code; every export is audited.

use std::io::Write;

use serde::Serialize;

use super::error::{Error, Result};
use super::policy::Actor;
use super::{AuditContext, Service};
use crate::domain::secrets::sha256_hex;
use crate::domain::{PostStatus, Role};
use crate::store::entities::case;
use crate::store::{audit, cases, posts};

pub use crate::domain::ExportFormat;

#[derive(Serialize)]
struct CaseRecord<'a> {
    record: &'static str,
    case_id: i64,
    title: &'a str,
    status: &'a str,
    outcome: &'a str,
    opens_at: Option<String>,
    closes_at: Option<String>,
}

#[derive(Serialize)]
struct PostRecord {
    record: &'static str,
    case_id: i64,
    post_id: i64,
    parent_id: Option<i64>,
    root_id: i64,
    depth: i32,
    author: String,
    kind: &'static str,
    verdict: Option<String>,
    status: String,
    moderation_reason: Option<String>,
    body: Option<String>,
    revision_count: i32,
    weighings_agree: i64,
    weighings_disagree: i64,
    weighings_pass: i64,
    flags: i64,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
struct WeighingRecord {
    record: &'static str,
    case_id: i64,
    post_id: i64,
    author: String,
    value: String,
    updated_at: String,
}

fn write_json_line(out: &mut (dyn Write + Send), value: &impl Serialize) -> Result<()> {
    let line = serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))?;
    writeln!(out, "{line}").map_err(|e| Error::Internal(format!("export write: {e}")))
}

/// The pseudonymous author id of a panelist within one case.
pub fn author_id(case: &case::Model, panelist_id: i64) -> String {
    let digest = sha256_hex(&format!("beraad-export:{}:{panelist_id}", case.export_salt));
    format!("p-{}", &digest[..16])
}

/// A CSV cell that a spreadsheet will not run as a formula: a cell starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
pub fn csv_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// The one way Beraad writes CSV (case exports, the audit log, invitation lists for the
/// mail merge): every cell of every row, the header included, passes [`csv_safe`], so no
/// text a person typed (a post, a panel's name, an audit detail) runs in a spreadsheet.
pub struct CsvSheet<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvSheet<W> {
    /// A sheet written to `out`.
    pub fn new(out: W) -> Self {
        CsvSheet {
            writer: csv::Writer::from_writer(out),
        }
    }

    /// A sheet written to `out` with another separator than the comma.
    pub fn with_separator(out: W, separator: Separator) -> Self {
        CsvSheet {
            writer: csv::WriterBuilder::new()
                .delimiter(separator.byte())
                .from_writer(out),
        }
    }

    /// Writes one row.
    pub fn row<I, S>(&mut self, cells: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.writer
            .write_record(cells.into_iter().map(|c| csv_safe(c.as_ref())))
            .map_err(|e| Error::Internal(format!("csv: {e}")))
    }

    /// Flushes the sheet and hands back what it was written to.
    pub fn finish(self) -> Result<W> {
        self.writer
            .into_inner()
            .map_err(|e| Error::Internal(format!("csv: {e}")))
    }
}

/// The cell separator of a mail-merge sheet.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Deserialize,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Separator {
    /// `;`, what Dutch Excel and LibreOffice expect (the comma is the decimal sign).
    #[default]
    Semicolon,
    /// `,`, for other programs.
    Comma,
}

impl crate::domain::ClosedSet for Separator {
    fn all() -> &'static [Self] {
        &[Separator::Semicolon, Separator::Comma]
    }
}

impl Separator {
    /// Parses `semicolon`/`;` or `comma`/`,`.
    pub fn parse(s: &str) -> Option<Separator> {
        match s.trim() {
            "semicolon" | ";" | "puntkomma" => Some(Separator::Semicolon),
            "comma" | "," | "komma" => Some(Separator::Comma),
            _ => None,
        }
    }

    fn byte(self) -> u8 {
        match self {
            Separator::Semicolon => b';',
            Separator::Comma => b',',
        }
    }
}

/// Column names of the mail-merge sheet. Dutch, as the people who merge letters read
/// them, and the same whatever the language of the page it came from, because a mail
/// merge template names them.
pub const MAIL_MERGE_COLUMNS: [&str; 8] = [
    "uitnodigingsnummer",
    "code",
    "pseudoniem",
    "panel",
    "panelnaam",
    "gemeente",
    "inlogadres",
    "inloglink",
];

/// The invitations as a sheet for the mail merge, the same from the command line, the
/// API and the staff pages: UTF-8 with a byte order mark (so spreadsheet programs read
/// é and ë right), the chosen separator, the columns of [`MAIL_MERGE_COLUMNS`] with
/// the login address and the QR code's link, and every cell through [`csv_safe`].
pub fn write_invitations_csv<W: Write>(
    list: &[super::panels::Invitation],
    public_url: &str,
    separator: Separator,
    mut out: W,
) -> Result<W> {
    out.write_all("\u{feff}".as_bytes())
        .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    let mut sheet = CsvSheet::with_separator(out, separator);
    sheet.row(MAIL_MERGE_COLUMNS)?;
    let address = super::invitations::login_address(public_url);
    for i in list {
        sheet.row([
            i.number.as_str(),
            &i.code,
            &i.pseudonym,
            &i.panel,
            &i.panel_name,
            &i.municipality,
            &address,
            &super::invitations::login_link(public_url, &i.code),
        ])?;
    }
    sheet.finish()
}

/// Column names of the CSV export, in the order of [`PostRecord::csv_row`].
const POST_COLUMNS: [&str; 19] = [
    "record",
    "case_id",
    "post_id",
    "parent_id",
    "root_id",
    "depth",
    "author",
    "kind",
    "verdict",
    "status",
    "moderation_reason",
    "body",
    "revision_count",
    "weighings_agree",
    "weighings_disagree",
    "weighings_pass",
    "flags",
    "created_at",
    "updated_at",
];

impl PostRecord {
    /// The record as a CSV row (an absent value is an empty cell).
    fn csv_row(&self) -> [String; 19] {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            self.record.to_owned(),
            self.case_id.to_string(),
            self.post_id.to_string(),
            self.parent_id.map(|i| i.to_string()).unwrap_or_default(),
            self.root_id.to_string(),
            self.depth.to_string(),
            self.author.clone(),
            self.kind.to_owned(),
            opt(&self.verdict),
            self.status.clone(),
            opt(&self.moderation_reason),
            opt(&self.body),
            self.revision_count.to_string(),
            self.weighings_agree.to_string(),
            self.weighings_disagree.to_string(),
            self.weighings_pass.to_string(),
            self.flags.to_string(),
            self.created_at.clone(),
            self.updated_at.clone(),
        ]
    }
}

impl Service {
    /// The case, if `actor` (`None`: the operator) may export it.
    async fn exportable_case(&self, actor: Option<&Actor>, case_id: i64) -> Result<case::Model> {
        match actor {
            Some(actor) => self
                .case_for_role(actor, case_id, Role::Analyst)
                .await
                .map(|(case, _)| case),
            None => cases::case_by_id(self.store.db(), case_id)
                .await?
                .ok_or_else(|| Error::not_found("case_not_found")),
        }
    }

    /// Whether `actor` may export the case, without exporting or auditing anything (for
    /// `HEAD`).
    pub async fn check_case_export(&self, actor: &Actor, case_id: i64) -> Result<()> {
        self.exportable_case(Some(actor), case_id).await.map(|_| ())
    }

    /// Writes the export of a case to `out`. `actor` is `None` for the operator at the
    /// command line; over the network only analysts and admins of the case's municipality
    /// may export.
    pub async fn export_case(
        &self,
        actor: Option<&Actor>,
        case_id: i64,
        format: ExportFormat,
        ctx: &AuditContext,
        out: &mut (dyn Write + Send),
    ) -> Result<usize> {
        let db = self.store.db();
        let case = self.exportable_case(actor, case_id).await?;
        let list = posts::posts_of_case(db, case_id).await?;
        let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
        let counts = posts::weighing_counts(db, &ids).await?;
        let flags = posts::flag_counts(db, case_id).await?;
        let records: Vec<PostRecord> = list
            .into_iter()
            .map(|p| {
                let w = counts.get(&p.id).copied().unwrap_or_default();
                PostRecord {
                    record: "post",
                    case_id,
                    post_id: p.id,
                    parent_id: p.parent_id,
                    root_id: p
                        .thread_path
                        .split('/')
                        .next()
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(p.id),
                    depth: p.depth,
                    author: author_id(&case, p.panelist_id),
                    kind: if p.parent_id.is_none() {
                        "reaction"
                    } else {
                        "reply"
                    },
                    verdict: p.verdict.clone(),
                    body: (p.status == PostStatus::Visible.as_str()).then(|| p.body.clone()),
                    moderation_reason: p.status_reason.clone(),
                    status: p.status,
                    revision_count: p.revision_count,
                    weighings_agree: w.agree,
                    weighings_disagree: w.disagree,
                    weighings_pass: w.pass,
                    flags: flags.get(&p.id).copied().unwrap_or(0),
                    created_at: p.created_at.to_rfc3339(),
                    updated_at: p.updated_at.to_rfc3339(),
                }
            })
            .collect();
        let io = |e: std::io::Error| Error::Internal(format!("export write: {e}"));
        match format {
            ExportFormat::JsonLines => {
                let head = CaseRecord {
                    record: "case",
                    case_id,
                    title: &case.title,
                    status: &case.status,
                    outcome: &case.outcome,
                    opens_at: case.opens_at.map(|t| t.to_rfc3339()),
                    closes_at: case.closes_at.map(|t| t.to_rfc3339()),
                };
                write_json_line(out, &head)?;
                for r in &records {
                    write_json_line(out, r)?;
                }
                for w in posts::weighings_of_case(db, case_id).await? {
                    write_json_line(
                        out,
                        &WeighingRecord {
                            record: "weighing",
                            case_id,
                            post_id: w.post_id,
                            author: author_id(&case, w.panelist_id),
                            value: w.value,
                            updated_at: w.updated_at.to_rfc3339(),
                        },
                    )?;
                }
            }
            ExportFormat::Csv => {
                // The same fields as the JSON Lines post records, one row each.
                let mut sheet = CsvSheet::new(&mut *out);
                sheet.row(POST_COLUMNS)?;
                for r in &records {
                    sheet.row(r.csv_row())?;
                }
                sheet.finish()?.flush().map_err(io)?;
            }
        }
        audit::append(
            db,
            ctx.entry(
                Some(case.municipality_id),
                "case.export",
                "case",
                case_id.to_string(),
                serde_json::json!({"format": if format == ExportFormat::Csv { "csv" } else { "jsonl" }, "posts": records.len()}),
            ),
            self.now(),
        )
        .await?;
        Ok(records.len())
    }
}

#[cfg(test)]
mod tests {
    use super::{CsvSheet, csv_safe};

    #[test]
    fn every_cell_of_a_sheet_is_neutralised() {
        let mut sheet = CsvSheet::new(Vec::new());
        sheet.row(["naam", "=kop", "-", "+", "@", "leeg"]).unwrap();
        sheet
            .row([
                "+31 6 1234",
                "@SUM(A1)",
                "\tinspringen",
                "\rterug",
                "gewoon",
                "",
            ])
            .unwrap();
        let text = String::from_utf8(sheet.finish().unwrap()).unwrap();
        let mut rows = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let rows: Vec<Vec<String>> = rows
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(rows[0], ["naam", "'=kop", "'-", "'+", "'@", "leeg"]);
        assert_eq!(
            rows[1],
            [
                "'+31 6 1234",
                "'@SUM(A1)",
                "'\tinspringen",
                "'\rterug",
                "gewoon",
                ""
            ]
        );
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(csv_safe("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_safe("-1"), "'-1");
        assert_eq!(csv_safe("@x"), "'@x");
        assert_eq!(csv_safe("gewoon"), "gewoon");
    }
}
