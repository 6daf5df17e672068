//! The text of a notification e-mail, in Dutch or English, as plain text and as HTML
//! (askama, escaped): a line per event with the case's title and a link to it, and the
//! links to the settings and to a one-click unsubscribe. It never holds post text or
//! anything about a person. No I/O; the mail worker sends what this makes.

use askama::Template;

use super::i18n::{Lang, Tr};
use crate::service::notifications::Outgoing;

/// One event in a message.
pub struct MailItem {
    /// What happened, in a sentence.
    pub line: String,
    /// The case's title.
    pub title: Option<String>,
    /// The link to the case.
    pub link: Option<String>,
}

#[derive(Template)]
#[template(path = "mail.html")]
struct MailHtml<'a> {
    t: Tr,
    subject: &'a str,
    items: &'a [MailItem],
    digest: bool,
    confirm_link: Option<&'a str>,
    settings_link: &'a str,
    unsubscribe_link: &'a str,
}

/// A composed message.
pub struct Composed {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// The one-click unsubscribe address (also for `List-Unsubscribe`).
    pub unsubscribe_link: String,
}

/// Composes `o` with links under `public_url`.
pub fn compose(o: &Outgoing, public_url: &str) -> Composed {
    let t = Tr::new(Lang::parse(&o.language));
    let base = public_url.trim_end_matches('/');
    let unsubscribe_link = format!("{base}/afmelden?token={}", o.unsubscribe_token);
    let settings_link = format!("{base}/meldingen");
    let confirm_link = o
        .confirm_token
        .as_ref()
        .map(|tok| format!("{base}/meldingen/bevestigen?token={tok}"));
    let items: Vec<MailItem> = o
        .items
        .iter()
        .map(|(kind, case)| MailItem {
            line: t.of("mail.line", kind),
            title: case.as_ref().map(|(_, title)| title.clone()),
            link: case.as_ref().map(|(id, _)| format!("{base}/casus/{id}")),
        })
        .collect();
    let subject = if confirm_link.is_some() {
        t.t("mail.confirm_subject").to_owned()
    } else if o.digest || items.len() > 1 {
        t.t("mail.digest_subject").to_owned()
    } else {
        o.items
            .first()
            .map(|(kind, _)| t.of("mail.subject", kind))
            .unwrap_or_default()
    };
    let mut text = format!("{}\n\n", t.t("mail.greeting"));
    if let Some(link) = &confirm_link {
        text.push_str(&format!(
            "{}\n\n{}: {link}\n",
            t.t("mail.confirm_text"),
            t.t("mail.confirm_link")
        ));
    } else {
        if o.digest {
            text.push_str(&format!("{}\n\n", t.t("mail.digest_intro")));
        }
        for item in &items {
            text.push_str(&format!("- {}\n", item.line));
            if let Some(title) = &item.title {
                text.push_str(&format!("  {title}\n"));
            }
            if let Some(link) = &item.link {
                text.push_str(&format!("  {}: {link}\n", t.t("mail.open_case")));
            }
            text.push('\n');
        }
    }
    text.push_str(&format!(
        "\n-- \n{}\n{}: {settings_link}\n{}: {unsubscribe_link}\n",
        t.t("mail.footer_why"),
        t.t("mail.settings"),
        t.t("mail.unsubscribe"),
    ));
    let html = MailHtml {
        t,
        subject: &subject,
        items: &items,
        digest: o.digest,
        confirm_link: confirm_link.as_deref(),
        settings_link: &settings_link,
        unsubscribe_link: &unsubscribe_link,
    }
    .render()
    .unwrap_or_else(|_| text.clone());
    Composed {
        subject,
        text,
        html,
        unsubscribe_link,
    }
}
