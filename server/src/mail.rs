//! The mail worker: sends the notification outbox over SMTP with `lettre` (rustls), on
//! every node at once. Each message is claimed by one node through a lease
//! ([`Service::claim_mail`]), marked `sending` just before it is handed to the mail
//! server, and recorded as sent, bounced (a 5xx answer) or retried with backoff (a 4xx
//! answer or no connection). A node that dies between `sending` and the answer leaves a
//! row nobody can know the fate of; it is recorded as failed and never sent twice.
//! Only this module touches the SMTP client; addresses never reach a log.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::service::Service;
use crate::service::notifications::Outgoing;
use crate::web::mail::compose;

/// How the worker sends.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtp://host:port?tls=required` or `smtps://user:pass@host`.
    pub smtp_url: String,
    /// The sender, e.g. `Beraad <beraad@gemeente.nl>`.
    pub from: String,
    /// The address the links point at.
    pub public_url: String,
    /// How often the outbox is looked at.
    pub poll: Duration,
    /// How long a claim holds before another node may take the message.
    pub lease: chrono::Duration,
    /// The first wait after a transient failure; it doubles with every attempt.
    pub retry_base: chrono::Duration,
    /// Attempts before a message is given up.
    pub max_attempts: i32,
    /// This node's name in claims.
    pub node: String,
}

impl MailSettings {
    /// Settings with the usual timing for `smtp_url`, `from` and `public_url`.
    pub fn new(smtp_url: &str, from: &str, public_url: &str) -> MailSettings {
        MailSettings {
            smtp_url: smtp_url.to_owned(),
            from: from.to_owned(),
            public_url: public_url.to_owned(),
            poll: Duration::from_secs(2),
            lease: chrono::Duration::seconds(120),
            retry_base: chrono::Duration::minutes(1),
            max_attempts: 8,
            node: format!(
                "{}-{}",
                std::process::id(),
                crate::domain::secrets::random_hex()
            ),
        }
    }
}

/// A sending mail worker.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: MailSettings,
}

impl Mailer {
    /// Checks the settings (the SMTP address and the sender) without connecting.
    pub fn new(settings: MailSettings) -> anyhow::Result<Mailer> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("BERAAD_MAIL_FROM is not an address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(|e| anyhow::anyhow!("BERAAD_SMTP_URL cannot be used: {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(Mailer {
            transport,
            from,
            settings,
        })
    }

    fn message(&self, o: &Outgoing) -> anyhow::Result<Message> {
        let c = compose(o, &self.settings.public_url);
        let to: Mailbox = o.to.parse()?;
        let host = self.from.email.domain().to_owned();
        let ids: Vec<String> = o.ids.iter().map(i64::to_string).collect();
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(c.subject)
            // The same id on every attempt, so a receiver can tell a repeat.
            .message_id(Some(format!("<beraad.{}@{host}>", ids.join("-"))))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", c.unsubscribe_link),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .multipart(MultiPart::alternative_plain_html(c.text, c.html))?)
    }

    /// One pass over the outbox: claims what is due and sends it. Returns how many
    /// messages were handed to the mail server.
    pub async fn run_once(&self, service: &Service) -> crate::service::Result<usize> {
        let s = &self.settings;
        let batch = service.claim_mail(&s.node, 50, s.lease).await?;
        let mut sent = 0;
        for o in batch {
            let message = match self.message(&o) {
                Ok(m) => m,
                Err(_) => {
                    service.mail_bounced(&o.ids, "unbuildable").await?;
                    continue;
                }
            };
            if !service.start_sending(&s.node, &o.ids, s.lease).await? {
                continue;
            }
            match self.transport.send(message).await {
                Ok(_) => {
                    service.mail_sent(&o.ids).await?;
                    crate::metrics::mail_sent();
                    sent += 1;
                }
                Err(e) => {
                    // Only the reply code is kept: a server's text may repeat the address.
                    let code = e
                        .status()
                        .map_or_else(|| "no-connection".to_owned(), |c| c.to_string());
                    if e.is_permanent() {
                        tracing::warn!(outbox.ids = ?o.ids, smtp.code = %code, "mail refused");
                        service.mail_bounced(&o.ids, &code).await?;
                    } else {
                        tracing::warn!(outbox.ids = ?o.ids, smtp.code = %code, attempt = o.attempt, "mail failed; will retry");
                        service
                            .mail_failed(&o.ids, o.attempt, s.max_attempts, s.retry_base, &code)
                            .await?;
                    }
                    crate::metrics::mail_failed();
                }
            }
        }
        Ok(sent)
    }
}

/// Runs the worker until the process ends.
pub fn spawn(service: Arc<Service>, mailer: Mailer) -> tokio::task::JoinHandle<()> {
    service.set_mail_configured(true);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(mailer.settings.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = mailer.run_once(&service).await {
                tracing::warn!(error = %e, "mail worker pass failed");
            }
        }
    })
}
