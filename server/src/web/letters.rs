//! Invitation letters as a print-ready PDF: one A4 page per invitee with the
//! municipality's letter text, the personal code, the address to go to, a QR code that
//! opens the login with the code filled in, and the invitation number. Pure: bytes in
//! memory from plain data, no database, no HTTP.
//!
//! Written with `pdf-writer` (the PDF layer of Typst) in the standard Helvetica and
//! Courier faces, which every PDF reader and printer has, so nothing is embedded and a
//! page stays a few kilobytes; the QR code (`qrcode`) is drawn as vector squares, sharp
//! at any printer resolution.

use std::io::Write as _;

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use qrcode::{Color, EcLevel, QrCode};

/// Width of an A4 page in points.
const PAGE_WIDTH: f32 = 595.28;
/// Height of an A4 page in points.
const PAGE_HEIGHT: f32 = 841.89;
/// Left and right margin (25 mm).
const MARGIN: f32 = 70.87;
/// Size of the letter text.
const BODY_SIZE: f32 = 11.0;
/// Distance between lines of the letter text.
const LEADING: f32 = 15.0;
/// Characters per line of the letter text: 11 pt Helvetica averages about 5.3 pt per
/// character of Dutch prose, so 80 characters stay within the 453 pt between the
/// margins.
pub const LINE_CHARS: usize = 80;
/// Lines of letter text that fit above the code block.
pub const MAX_BODY_LINES: usize = 28;

/// The fixed texts around the personal parts, in the letter's language.
#[derive(Clone, Debug)]
pub struct LetterLabels {
    /// Heading above the code, e.g. "Uw persoonlijke code".
    pub code_heading: String,
    /// Before the login address, e.g. "Ga naar".
    pub go_to: String,
    /// Beside the QR code, e.g. "Of scan deze code met uw telefoon".
    pub scan: String,
    /// Before the invitation number, e.g. "Uitnodigingsnummer".
    pub number: String,
    /// The footer, e.g. "Code kwijt? Bel de gemeente en noem het uitnodigingsnummer."
    pub footer: String,
}

/// One letter.
#[derive(Clone, Debug)]
pub struct Letter {
    /// Invitation number (`2026-003-0142`).
    pub number: String,
    /// The code as printed (`ABCD-EFGH-JKLMN`).
    pub code: String,
    /// The login address printed on the letter.
    pub login_address: String,
    /// Where the QR code leads: the login with the code in the fragment.
    pub qr_url: String,
}

/// What every letter of a batch shares.
#[derive(Clone, Debug)]
pub struct LetterSet<'a> {
    /// Municipality name, the letterhead.
    pub municipality: &'a str,
    /// Panel name.
    pub panel: &'a str,
    /// The letter text; paragraphs separated by a blank line.
    pub text: &'a str,
    /// Fixed texts.
    pub labels: &'a LetterLabels,
    /// Title of the document.
    pub title: &'a str,
}

/// The letter text broken into printed lines: paragraphs kept, words wrapped at
/// [`LINE_CHARS`], an empty line between paragraphs.
pub fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, paragraph) in text
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        if i > 0 {
            lines.push(String::new());
        }
        for source_line in paragraph.lines() {
            let mut line = String::new();
            for word in source_line.split_whitespace() {
                let word_len = word.chars().count();
                let line_len = line.chars().count();
                if line_len > 0 && line_len + 1 + word_len > LINE_CHARS {
                    lines.push(std::mem::take(&mut line));
                }
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
            }
            lines.push(line);
        }
    }
    lines
}

/// `text` in WinAnsiEncoding, the encoding of the standard faces: ASCII and Latin-1 as
/// they are, the typographic quotes, dashes, ellipsis and euro sign at their code
/// points; anything else (which the faces cannot draw) as `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

const HELVETICA: Name<'static> = Name(b"F1");
const HELVETICA_BOLD: Name<'static> = Name(b"F2");
const COURIER_BOLD: Name<'static> = Name(b"F3");

fn text_at(content: &mut Content, font: Name, size: f32, x: f32, y: f32, text: &str) {
    content
        .begin_text()
        .set_font(font, size)
        .next_line(x, y)
        .show(Str(&win_ansi(text)))
        .end_text();
}

/// The QR code of `url` as dark squares, `size` points wide with its lower left corner
/// at `(x, y)`; `None` when the address is too long for a QR code.
fn draw_qr(content: &mut Content, url: &str, x: f32, y: f32, size: f32) -> Option<()> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let module = size / width as f32;
    content.set_fill_gray(0.0);
    let colors = code.to_colors();
    // One rectangle per horizontal run of dark modules: half the drawing operations of
    // one square per module, and no hairline gaps between neighbours when printed.
    for (row, line) in colors.chunks(width).enumerate() {
        let mut col = 0;
        while col < width {
            if line[col] != Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < width && line[col] == Color::Dark {
                col += 1;
            }
            content.rect(
                x + start as f32 * module,
                y + size - (row + 1) as f32 * module,
                (col - start) as f32 * module,
                module,
            );
        }
    }
    content.fill_nonzero();
    Some(())
}

fn page_content(set: &LetterSet, body: &[String], letter: &Letter) -> Vec<u8> {
    let mut c = Content::new();
    let right = PAGE_WIDTH - MARGIN;
    // Letterhead.
    text_at(
        &mut c,
        HELVETICA_BOLD,
        16.0,
        MARGIN,
        PAGE_HEIGHT - 80.0,
        set.municipality,
    );
    text_at(
        &mut c,
        HELVETICA,
        10.0,
        MARGIN,
        PAGE_HEIGHT - 98.0,
        set.panel,
    );
    let number_line = format!("{}: {}", set.labels.number, letter.number);
    text_at(
        &mut c,
        HELVETICA,
        10.0,
        right - 200.0,
        PAGE_HEIGHT - 80.0,
        &number_line,
    );
    // The letter text.
    let mut y = PAGE_HEIGHT - 150.0;
    for line in body.iter().take(MAX_BODY_LINES) {
        if !line.is_empty() {
            text_at(&mut c, HELVETICA, BODY_SIZE, MARGIN, y, line);
        }
        y -= LEADING;
    }
    // The code block: a light frame holding the code and the address, the QR code
    // beside it.
    let block_top = 250.0;
    let block_height = 150.0;
    c.set_fill_gray(0.93)
        .rect(
            MARGIN,
            block_top - block_height,
            right - MARGIN,
            block_height,
        )
        .fill_nonzero();
    c.set_fill_gray(0.0);
    text_at(
        &mut c,
        HELVETICA_BOLD,
        12.0,
        MARGIN + 15.0,
        block_top - 28.0,
        &set.labels.code_heading,
    );
    text_at(
        &mut c,
        COURIER_BOLD,
        22.0,
        MARGIN + 15.0,
        block_top - 60.0,
        &letter.code,
    );
    text_at(
        &mut c,
        HELVETICA,
        11.0,
        MARGIN + 15.0,
        block_top - 92.0,
        &format!("{}:", set.labels.go_to),
    );
    text_at(
        &mut c,
        HELVETICA_BOLD,
        11.0,
        MARGIN + 15.0,
        block_top - 108.0,
        &letter.login_address,
    );
    text_at(
        &mut c,
        HELVETICA,
        9.0,
        MARGIN + 15.0,
        block_top - 132.0,
        &set.labels.scan,
    );
    let qr_size = 120.0;
    c.set_fill_gray(1.0)
        .rect(
            right - qr_size - 15.0,
            block_top - block_height + 15.0,
            qr_size,
            qr_size,
        )
        .fill_nonzero();
    // An address too long for a QR code leaves the white square: the printed address
    // and code still work.
    let _ = draw_qr(
        &mut c,
        &letter.qr_url,
        right - qr_size - 15.0,
        block_top - block_height + 15.0,
        qr_size,
    );
    // Footer.
    text_at(&mut c, HELVETICA, 9.0, MARGIN, 60.0, &set.labels.footer);
    text_at(&mut c, HELVETICA, 9.0, MARGIN, 46.0, &number_line);
    c.finish().to_vec()
}

/// `data` compressed for a `FlateDecode` stream (zlib), so a batch of two thousand
/// letters stays a few megabytes; `None` if compressing failed (then the page is
/// stored as it is).
fn deflate(data: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::default(),
    );
    encoder.write_all(data).ok()?;
    encoder.finish().ok()
}

/// The letters as one PDF, one A4 page each, in the order given.
pub fn letters_pdf(set: &LetterSet, letters: &[Letter]) -> Vec<u8> {
    let body = wrap(set.text);
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let fonts = [
        (HELVETICA, Ref::new(3), b"Helvetica".as_slice()),
        (HELVETICA_BOLD, Ref::new(4), b"Helvetica-Bold".as_slice()),
        (COURIER_BOLD, Ref::new(5), b"Courier-Bold".as_slice()),
    ];
    let info = Ref::new(6);
    let first_page = 7;
    let page_ids: Vec<Ref> = (0..letters.len())
        .map(|i| Ref::new(first_page + 2 * i as i32))
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(letters.len() as i32);
    for (_, id, base) in &fonts {
        pdf.type1_font(*id)
            .base_font(Name(base))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(pdf_writer::TextStr(set.title))
        .creator(pdf_writer::TextStr("Beraad"));
    for (letter, id) in letters.iter().zip(&page_ids) {
        let content_id = Ref::new(id.get() + 1);
        let mut pdf_page = pdf.page(*id);
        pdf_page
            .parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .contents(content_id);
        let mut resources = pdf_page.resources();
        let mut font_dict = resources.fonts();
        for (name, font_id, _) in &fonts {
            font_dict.pair(*name, *font_id);
        }
        font_dict.finish();
        resources.finish();
        pdf_page.finish();
        let content = page_content(set, &body, letter);
        match deflate(&content) {
            Some(packed) => {
                pdf.stream(content_id, &packed).filter(Filter::FlateDecode);
            }
            None => {
                pdf.stream(content_id, &content);
            }
        }
    }
    pdf.finish()
}

/// The letters of a batch just made, in Dutch (the language of the letters whatever
/// the language of the page): the municipality's text or the default, with `{gemeente}`
/// and `{panel}` filled in.
pub fn batch_pdf(issued: &crate::service::invitations::IssuedBatch, public_url: &str) -> Vec<u8> {
    use crate::service::invitations::{login_address, login_link};
    use crate::web::i18n::{Lang, Tr};
    let t = Tr::new(Lang::Nl);
    let labels = LetterLabels {
        code_heading: t.t("letters.pdf.code_heading").to_owned(),
        go_to: t.t("letters.pdf.go_to").to_owned(),
        scan: t.t("letters.pdf.scan").to_owned(),
        number: t.t("letters.pdf.number").to_owned(),
        footer: t.t("letters.pdf.footer").to_owned(),
    };
    let (municipality, panel) = issued
        .invitations
        .first()
        .map(|i| (i.municipality.as_str(), i.panel_name.as_str()))
        .unwrap_or_default();
    let text = issued
        .letter_text
        .as_deref()
        .unwrap_or_else(|| t.t("letters.default_text"))
        .replace("{gemeente}", municipality)
        .replace("{panel}", panel);
    let title = t.with("letters.pdf.title", "number", &issued.number);
    let set = LetterSet {
        municipality,
        panel,
        text: &text,
        labels: &labels,
        title: &title,
    };
    let letters: Vec<Letter> = issued
        .invitations
        .iter()
        .map(|i| Letter {
            number: i.number.clone(),
            code: i.code.clone(),
            login_address: login_address(public_url),
            qr_url: login_link(public_url, &i.code),
        })
        .collect();
    letters_pdf(&set, &letters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_paragraphs_and_line_length() {
        let text = format!("{}\n\nTweede alinea.", "woord ".repeat(40));
        let lines = wrap(&text);
        assert!(lines.iter().all(|l| l.chars().count() <= LINE_CHARS));
        assert_eq!(lines.last().map(String::as_str), Some("Tweede alinea."));
        assert!(lines.contains(&String::new()));
    }

    #[test]
    fn dutch_letters_are_encoded_for_the_standard_faces() {
        assert_eq!(win_ansi("één"), vec![0xe9, 0xe9, b'n']);
        assert_eq!(win_ansi("€ – ’"), vec![0x80, b' ', 0x96, b' ', 0x92]);
        assert_eq!(win_ansi("ŉ"), vec![b'?']);
    }

    #[test]
    fn a_letter_per_page() {
        let labels = LetterLabels {
            code_heading: "Uw persoonlijke code".into(),
            go_to: "Ga naar".into(),
            scan: "Of scan de code".into(),
            number: "Uitnodigingsnummer".into(),
            footer: "Code kwijt? Bel ons.".into(),
        };
        let set = LetterSet {
            municipality: "Gemeente Utrecht",
            panel: "Panel",
            text: "Beste bewoner,\n\nWelkom.",
            labels: &labels,
            title: "Brieven",
        };
        let letter = |n: u32| Letter {
            number: format!("2026-001-{n:04}"),
            code: "ABCD-EFGH-JKLMN".into(),
            login_address: "https://beraad.example.nl/".into(),
            qr_url: "https://beraad.example.nl/#code=ABCD-EFGH-JKLMN".into(),
        };
        let pdf = letters_pdf(&set, &[letter(1), letter(2), letter(3)]);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 3"), "page tree counts three pages");
        // Compressed pages: two thousand letters stay within a few megabytes.
        let many: Vec<Letter> = (1..=100).map(letter).collect();
        let size = letters_pdf(&set, &many).len();
        assert!(size < 100 * 4096, "{size} bytes for 100 letters");
    }
}
