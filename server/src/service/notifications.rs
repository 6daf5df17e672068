//! Notifications by e-mail: a panelist's consented contact (an address they confirm by
//! a signed link, the kinds and frequency they chose, removed at any time), the outbox
//! that events write to in their own transaction, the staff's announcements to a case's
//! panel, and the steps the mail worker ([`crate::mail`]) takes through the outbox.
//! Messages carry no post text and no personal data; the address itself is never logged,
//! audited or exported. This module must not depend on axum or on the SMTP client.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{Error, Result};
use super::policy::Actor;
use super::{AuditContext, Service};
use crate::domain::secrets;
use crate::domain::{AnnouncementKind, MailLanguage, NotificationFrequency, NotificationKind};
use crate::store::entities::{case, notification_contact};
use crate::store::notifications::{self as outbox, NewMessage, status};
use crate::store::{audit, cases, draws, people};

/// The outbox kind of the message that asks to confirm an address.
pub const CONFIRM_KIND: &str = "bevestigen";
/// The outbox kind of a staff reminder.
pub const REMINDER_KIND: &str = "herinnering";
/// How long before a case closes its "closing soon" messages are written.
pub const CLOSING_SOON: Duration = Duration::hours(48);
/// The longest address accepted (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;
/// Link purposes, part of what is signed.
const CONFIRM: &str = "confirm";
const UNSUBSCRIBE: &str = "unsubscribe";

/// State the notifications share on one node.
#[derive(Default)]
pub struct NotifyState {
    key: tokio::sync::OnceCell<Vec<u8>>,
    mail_configured: AtomicBool,
}

/// A panelist's notification settings, as they see them.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct NotificationSettings {
    /// Their address, if they gave one (shown only to themselves).
    pub email: Option<String>,
    /// Whether they confirmed it through the link sent to it.
    pub confirmed: bool,
    /// What they want to be told.
    #[schema(value_type = Vec<NotificationKind>)]
    pub kinds: Vec<String>,
    /// At once or in a daily digest.
    #[schema(value_type = NotificationFrequency)]
    pub frequency: String,
    /// The language of their messages.
    #[schema(value_type = MailLanguage)]
    pub language: String,
    /// Whether this server can send mail at all.
    pub mail_configured: bool,
    /// Whether the mail server refused the last message to this address for good.
    pub bounced: bool,
}

/// New notification settings. A changed address must be confirmed again.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"email": "bewoner@example.nl", "kinds": ["casus_geopend", "antwoord"], "frequency": "direct", "language": "nl"})))]
pub struct NotificationInput {
    /// The address to send to (at most 254 characters).
    #[schema(max_length = 254, pattern = r"^[^\x00-\x20\x7f@]+@[^\x00-\x20\x7f@]+$")]
    pub email: String,
    /// What to be told (none: nothing is sent, the address is kept).
    #[serde(default)]
    #[schema(value_type = Vec<NotificationKind>)]
    pub kinds: Vec<String>,
    /// `direct` or `dagelijks`.
    #[schema(value_type = NotificationFrequency)]
    pub frequency: String,
    /// `nl` or `en`.
    #[serde(default = "dutch")]
    #[schema(value_type = MailLanguage)]
    pub language: String,
}

fn dutch() -> String {
    MailLanguage::Nl.as_str().into()
}

/// A token from a link in a message.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"token": "Y29uZmlybToxOmFiYw.c2lnbmF0dXJl"})))]
pub struct LinkToken {
    /// The token as the link carried it.
    #[schema(max_length = 400, pattern = r"^[A-Za-z0-9_.-]+$")]
    pub token: String,
}

/// A staff announcement to a case's panel.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"kind": "herinnering"})))]
pub struct AnnouncementInput {
    /// `reactie_gemeente` or `herinnering`.
    #[schema(value_type = AnnouncementKind)]
    pub kind: String,
}

/// What an announcement reached.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AnnouncementView {
    /// Messages queued (panelists of the panel who chose this kind of message).
    pub queued: usize,
    /// Whether this server can send mail now; without it the messages wait.
    pub mail_configured: bool,
}

/// The outbox of a case as staff see it: counts only, no addresses.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct OutboxCounts {
    /// Waiting (or being sent).
    pub pending: usize,
    /// Accepted by the mail server.
    pub sent: usize,
    /// Given up after failures.
    pub failed: usize,
    /// Refused by the mail server.
    pub bounced: usize,
    /// Whether this server can send mail.
    pub mail_configured: bool,
}

/// One message the worker is to send: everything it needs, nothing it may not show.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// The outbox rows this message covers (several in a digest).
    pub ids: Vec<i64>,
    /// The recipient's address.
    pub to: String,
    /// `nl` or `en`.
    pub language: String,
    /// The outbox kind of each item with its case (id and title).
    pub items: Vec<(String, Option<(i64, String)>)>,
    /// A digest of several events.
    pub digest: bool,
    /// The signed one-click unsubscribe token.
    pub unsubscribe_token: String,
    /// For a confirmation message: the signed confirmation token.
    pub confirm_token: Option<String>,
    /// This attempt's number (1 for the first).
    pub attempt: i32,
}

fn kinds_of(row: &notification_contact::Model) -> Vec<String> {
    row.kinds
        .split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

fn view(
    row: Option<notification_contact::Model>,
    mail_configured: bool,
    bounced: bool,
) -> NotificationSettings {
    match row {
        Some(r) => NotificationSettings {
            bounced,
            kinds: kinds_of(&r),
            email: Some(r.email),
            confirmed: r.confirmed_at.is_some(),
            frequency: r.frequency,
            language: r.language,
            mail_configured,
        },
        None => NotificationSettings {
            email: None,
            confirmed: false,
            kinds: Vec::new(),
            frequency: NotificationFrequency::Now.as_str().into(),
            language: dutch(),
            mail_configured,
            bounced: false,
        },
    }
}

/// Checks an address's form (with the SMTP client's own parser, the `email_address`
/// crate's rules) without saying anything about it in the error.
fn check_email(email: &str) -> Result<String> {
    let email = email.trim();
    if email.is_empty() {
        return Err(Error::invalid_fields(
            "email_required",
            "Vul een e-mailadres in.",
            vec!["email"],
        ));
    }
    if email.chars().count() > MAX_EMAIL || email.parse::<lettre_address::Address>().is_err() {
        return Err(Error::invalid_fields(
            "invalid_email",
            "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.",
            vec!["email"],
        ));
    }
    Ok(email.to_owned())
}

/// The address parser, re-exported so the service does not use the transport.
mod lettre_address {
    pub use lettre::Address;
}

/// The next daily digest: 07:00 in the Netherlands.
pub fn next_digest(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::TimeZone;
    let tz = chrono_tz::Europe::Amsterdam;
    let local = now.with_timezone(&tz);
    let mut day = local.date_naive();
    if local.time() >= chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default() {
        day = day.succ_opt().unwrap_or(day);
    }
    let at = day.and_hms_opt(7, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&at)
        .earliest()
        .map_or(now + Duration::hours(24), |t| t.with_timezone(&Utc))
}

/// The panelists a case speaks to: its drawn panel, or without a draw everyone on its
/// panels.
pub async fn audience<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<Vec<i64>> {
    if let Some(seated) = draws::seated_of_case(db, case_id).await? {
        return Ok(seated);
    }
    let panels = cases::panels_of_case(db, case_id).await?;
    Ok(people::panelists_of_panels(db, &panels)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect())
}

/// Writes a message of `kind` about `case_id` to every one of `panelists` who confirmed
/// an address and chose `chooses` (inside the caller's transaction). `key` names the
/// event; the outbox keeps one message per event and recipient. Returns how many.
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    panelists: &[i64],
    chooses: NotificationKind,
    kind: &str,
    case_id: Option<i64>,
    key: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    if panelists.is_empty() {
        return Ok(0);
    }
    let contacts = outbox::contacts_of(db, panelists).await?;
    let messages: Vec<NewMessage> = contacts
        .into_iter()
        .filter(|c| c.confirmed_at.is_some() && kinds_of(c).iter().any(|k| k == chooses.as_str()))
        .map(|c| NewMessage {
            panelist_id: c.panelist_id,
            case_id,
            kind: kind.to_owned(),
            dedupe_key: format!("{key}:{}", c.panelist_id),
            due: if c.frequency == NotificationFrequency::Daily.as_str() {
                next_digest(now)
            } else {
                now
            },
        })
        .collect();
    let n = messages.len();
    outbox::enqueue(db, messages, now).await?;
    Ok(n)
}

/// Queues "case opened" to a case's audience (inside the opening transaction).
pub async fn queue_case_opened<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    let who = audience(db, case_id).await?;
    let kind = NotificationKind::CaseOpened;
    queue(
        db,
        &who,
        kind,
        kind.as_str(),
        Some(case_id),
        &format!("opened:{case_id}"),
        now,
    )
    .await
}

/// Queues "the municipality responded" to a case's audience, once per case.
pub async fn queue_response<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    let who = audience(db, case_id).await?;
    let kind = NotificationKind::Response;
    queue(
        db,
        &who,
        kind,
        kind.as_str(),
        Some(case_id),
        &format!("response:{case_id}"),
        now,
    )
    .await
}

/// Queues "someone replied to your post" to the author of the post replied to.
pub async fn queue_reply<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    parent_author: i64,
    reply_id: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    let kind = NotificationKind::Reply;
    queue(
        db,
        &[parent_author],
        kind,
        kind.as_str(),
        Some(case_id),
        &format!("reply:{reply_id}"),
        now,
    )
    .await
}

impl NotifyState {
    fn configured(&self) -> bool {
        self.mail_configured.load(Ordering::Relaxed)
    }
}

impl Service {
    /// Tells the service whether a mail server is configured (at start).
    pub fn set_mail_configured(&self, configured: bool) {
        self.notify
            .mail_configured
            .store(configured, Ordering::Relaxed);
    }

    /// Whether a mail server is configured.
    pub fn mail_configured(&self) -> bool {
        self.notify.configured()
    }

    /// The key that signs links, shared by every node through the database.
    async fn link_key(&self) -> Result<&[u8]> {
        let key = self
            .notify
            .key
            .get_or_try_init(|| async {
                outbox::signing_key(self.store.db(), "links", secrets::new_token(), self.now())
                    .await
                    .map(String::into_bytes)
            })
            .await?;
        Ok(key.as_slice())
    }

    /// The signed-in panelist's notification settings.
    pub async fn notification_settings(&self, actor: &Actor) -> Result<NotificationSettings> {
        let p = actor.panelist()?;
        let db = self.store.db();
        let row = outbox::contact_of(db, p.id).await?;
        let bounced = outbox::outbox_of_panelist(db, p.id)
            .await?
            .iter()
            .rev()
            .find(|r| r.status != status::DROPPED && r.status != status::PENDING)
            .is_some_and(|r| r.status == status::BOUNCED);
        Ok(view(row, self.mail_configured(), bounced))
    }

    /// Stores the signed-in panelist's address and choices. A new address is
    /// unconfirmed until its link is followed; a confirmation message is queued.
    pub async fn set_notifications(
        &self,
        actor: &Actor,
        input: NotificationInput,
        ctx: &AuditContext,
    ) -> Result<NotificationSettings> {
        let p = actor.panelist()?;
        let email = check_email(&input.email)?;
        let mut kinds = Vec::new();
        for k in &input.kinds {
            let kind = NotificationKind::parse(k).ok_or_else(|| {
                Error::invalid_fields(
                    "invalid_notification_kind",
                    format!(
                        "Kies wat u wilt horen uit: {}.",
                        NotificationKind::expected()
                    ),
                    vec!["kinds"],
                )
            })?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        let frequency = NotificationFrequency::parse(&input.frequency).ok_or_else(|| {
            Error::invalid_fields(
                "invalid_frequency",
                format!("Kies hoe vaak: {}.", NotificationFrequency::expected()),
                vec!["frequency"],
            )
        })?;
        let language = MailLanguage::parse(&input.language).ok_or_else(|| {
            Error::invalid_fields(
                "invalid_language",
                format!("Kies een taal: {}.", MailLanguage::expected()),
                vec!["language"],
            )
        })?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let old = outbox::contact_of(&*tx, p.id).await?;
        let same_address = old.as_ref().is_some_and(|o| o.email == email);
        let (nonce, confirmed_at, created_at) = match &old {
            Some(o) if same_address => (o.nonce.clone(), o.confirmed_at, o.created_at),
            _ => (secrets::random_hex(), None, now),
        };
        let row = outbox::put_contact(
            &*tx,
            notification_contact::Model {
                panelist_id: p.id,
                email,
                confirmed_at,
                kinds: kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                frequency: frequency.as_str().into(),
                language: language.as_str().into(),
                nonce: nonce.clone(),
                created_at,
                updated_at: now,
            },
        )
        .await?;
        if !same_address {
            // Messages for the old address are not sent to the new one unconfirmed.
            outbox::drop_pending_of(&*tx, p.id).await?;
            outbox::enqueue(
                &*tx,
                vec![NewMessage {
                    panelist_id: p.id,
                    case_id: None,
                    kind: CONFIRM_KIND.into(),
                    dedupe_key: format!("confirm:{}:{nonce}", p.id),
                    due: now,
                }],
                now,
            )
            .await?;
        }
        // The address itself stays out of the audit log.
        audit::append(
            &*tx,
            ctx.entry(
                Some(p.municipality_id),
                "notifications.update",
                "panelist",
                p.id.to_string(),
                serde_json::json!({"new_address": !same_address}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(panelist.id = p.id, "notification settings saved");
        Ok(view(Some(row), self.mail_configured(), false))
    }

    /// Erases the signed-in panelist's address and drops what was waiting for it.
    pub async fn remove_notifications(&self, actor: &Actor, ctx: &AuditContext) -> Result<()> {
        let p = actor.panelist()?;
        self.erase_contact(p.id, p.municipality_id, "notifications.erase", ctx)
            .await
    }

    async fn erase_contact(
        &self,
        panelist_id: i64,
        municipality_id: i64,
        action: &'static str,
        ctx: &AuditContext,
    ) -> Result<()> {
        let now = self.now();
        let tx = self.store.begin_write().await?;
        outbox::delete_contact(&*tx, panelist_id).await?;
        outbox::drop_pending_of(&*tx, panelist_id).await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(municipality_id),
                action,
                "panelist",
                panelist_id.to_string(),
                serde_json::json!({}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(panelist.id = panelist_id, "notification address erased");
        Ok(())
    }

    fn bad_link() -> Error {
        Error::invalid_fields(
            "invalid_link",
            "Deze link is niet (meer) geldig. Misschien is het adres intussen gewijzigd of verwijderd.",
            vec!["token"],
        )
    }

    /// Confirms an address by the token from the confirmation message (no login).
    pub async fn confirm_notifications(&self, token: &str) -> Result<()> {
        let key = self.link_key().await?.to_vec();
        let (panelist_id, nonce) =
            secrets::verify_link(&key, CONFIRM, token).ok_or_else(Self::bad_link)?;
        let db = self.store.db();
        let contact = outbox::contact_of(db, panelist_id)
            .await?
            .filter(|c| c.nonce == nonce)
            .ok_or_else(Self::bad_link)?;
        if contact.confirmed_at.is_some() {
            return Ok(());
        }
        let panelist = people::panelist_by_id(db, panelist_id)
            .await?
            .ok_or_else(Self::bad_link)?;
        let municipality_id = people::panel_by_id(db, panelist.panel_id)
            .await?
            .map(|p| p.municipality_id);
        let now = self.now();
        let tx = self.store.begin_write().await?;
        if outbox::confirm_contact(&*tx, panelist_id, &nonce, now).await? {
            audit::append(
                &*tx,
                AuditContext::system().entry(
                    municipality_id,
                    "notifications.confirm",
                    "panelist",
                    panelist_id.to_string(),
                    serde_json::json!({}),
                ),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether an unsubscribe token is (still) good, for the page that asks to confirm.
    pub async fn unsubscribe_valid(&self, token: &str) -> Result<bool> {
        let key = self.link_key().await?.to_vec();
        let Some((panelist_id, nonce)) = secrets::verify_link(&key, UNSUBSCRIBE, token) else {
            return Ok(false);
        };
        Ok(outbox::contact_of(self.store.db(), panelist_id)
            .await?
            .is_some_and(|c| c.nonce == nonce))
    }

    /// Unsubscribes by the token in a message (no login): the address is erased. A
    /// token whose address is already gone succeeds too, so a second click is harmless.
    pub async fn unsubscribe(&self, token: &str) -> Result<()> {
        let key = self.link_key().await?.to_vec();
        let (panelist_id, nonce) =
            secrets::verify_link(&key, UNSUBSCRIBE, token).ok_or_else(Self::bad_link)?;
        let db = self.store.db();
        let Some(contact) = outbox::contact_of(db, panelist_id).await? else {
            return Ok(());
        };
        if contact.nonce != nonce {
            return Ok(());
        }
        let panelist = people::panelist_by_id(db, panelist_id)
            .await?
            .ok_or_else(Self::bad_link)?;
        let municipality_id = people::panel_by_id(db, panelist.panel_id)
            .await?
            .map_or(0, |p| p.municipality_id);
        self.erase_contact(
            panelist_id,
            municipality_id,
            "notifications.unsubscribe",
            &AuditContext::system(),
        )
        .await
    }

    /// Announces to a case's panel by e-mail (admins), audited. Only panelists who chose
    /// the matching kind receive it (the response, or for a reminder "case opened").
    pub async fn announce(
        &self,
        actor: &Actor,
        case_id: i64,
        input: AnnouncementInput,
        ctx: &AuditContext,
    ) -> Result<AnnouncementView> {
        let case = self.admin_case(actor, case_id).await?;
        let kind = AnnouncementKind::parse(&input.kind).ok_or_else(|| {
            Error::invalid_fields(
                "invalid_announcement",
                format!("Kies een bericht uit: {}.", AnnouncementKind::expected()),
                vec!["kind"],
            )
        })?;
        let (chooses, outbox_kind) = match kind {
            AnnouncementKind::Response => (
                NotificationKind::Response,
                NotificationKind::Response.as_str(),
            ),
            AnnouncementKind::Reminder => (NotificationKind::CaseOpened, REMINDER_KIND),
        };
        let now = self.now();
        let key = format!("announce:{}:{}", case.id, uuid::Uuid::new_v4().simple());
        let tx = self.store.begin_write().await?;
        let who = audience(&*tx, case.id).await?;
        let queued = queue(&*tx, &who, chooses, outbox_kind, Some(case.id), &key, now).await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(case.municipality_id),
                "case.announce",
                "case",
                case.id.to_string(),
                serde_json::json!({"kind": kind.as_str(), "queued": queued}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            case.id = case.id,
            queued,
            kind = kind.as_str(),
            "announcement queued"
        );
        Ok(AnnouncementView {
            queued,
            mail_configured: self.mail_configured(),
        })
    }

    /// The outbox counts of a case (admins), for the staff case page.
    pub async fn outbox_counts(&self, actor: &Actor, case_id: i64) -> Result<OutboxCounts> {
        let case = self.admin_case(actor, case_id).await?;
        let mut c = OutboxCounts {
            mail_configured: self.mail_configured(),
            ..OutboxCounts::default()
        };
        for row in outbox::outbox_of_case(self.store.db(), case.id).await? {
            match row.status.as_str() {
                status::PENDING | status::SENDING => c.pending += 1,
                status::SENT => c.sent += 1,
                status::FAILED => c.failed += 1,
                status::BOUNCED => c.bounced += 1,
                _ => {}
            }
        }
        Ok(c)
    }

    /// Writes the "closing soon" messages of cases closing within two days, once per
    /// case across nodes; called by housekeeping. Also records as failed what a dead
    /// node left half sent.
    pub async fn notification_upkeep(&self) -> Result<()> {
        let now = self.now();
        outbox::give_up_interrupted(self.store.db(), now).await?;
        for case in outbox::cases_closing_before(self.store.db(), now, now + CLOSING_SOON).await? {
            let tx = self.store.begin_write().await?;
            if outbox::mark_closing_notice(&*tx, case.id, now).await? {
                let who = audience(&*tx, case.id).await?;
                let kind = NotificationKind::ClosingSoon;
                queue(
                    &*tx,
                    &who,
                    kind,
                    kind.as_str(),
                    Some(case.id),
                    &format!("closing:{}", case.id),
                    now,
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Claims up to `limit` due messages for `node` for `lease`, grouped into what is
    /// sent as one message (a daily digest takes every due row of its panelist). Rows
    /// whose address is gone, unconfirmed or no longer wants the kind are dropped.
    pub async fn claim_mail(
        &self,
        node: &str,
        limit: u64,
        lease: Duration,
    ) -> Result<Vec<Outgoing>> {
        let now = self.now();
        let db = self.store.db();
        outbox::give_up_interrupted(db, now).await?;
        let due = outbox::due(db, now, limit).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let mut mine = Vec::new();
        {
            let tx = self.store.begin_write().await?;
            for row in due {
                if outbox::claim(&*tx, row.id, node, now, lease).await? {
                    mine.push(row);
                }
            }
            tx.commit().await?;
        }
        let ids: Vec<i64> = mine.iter().map(|r| r.panelist_id).collect();
        let contacts = outbox::contacts_of(db, &ids).await?;
        let key = self.link_key().await?.to_vec();
        let mut out: Vec<Outgoing> = Vec::new();
        let mut dropped = Vec::new();
        let mut titles: std::collections::HashMap<i64, String> = Default::default();
        for row in mine {
            let Some(c) = contacts.iter().find(|c| c.panelist_id == row.panelist_id) else {
                dropped.push(row.id);
                continue;
            };
            let wanted = if row.kind == CONFIRM_KIND {
                c.confirmed_at.is_none()
            } else {
                let chooses = if row.kind == REMINDER_KIND {
                    NotificationKind::CaseOpened.as_str()
                } else {
                    row.kind.as_str()
                };
                c.confirmed_at.is_some() && kinds_of(c).iter().any(|k| k == chooses)
            };
            if !wanted {
                dropped.push(row.id);
                continue;
            }
            let case = match row.case_id {
                Some(id) => {
                    if let std::collections::hash_map::Entry::Vacant(e) = titles.entry(id) {
                        let title = cases::case_by_id(db, id)
                            .await?
                            .map(|c: case::Model| c.title)
                            .unwrap_or_default();
                        e.insert(title);
                    }
                    Some((id, titles[&id].clone()))
                }
                None => None,
            };
            let digest =
                c.frequency == NotificationFrequency::Daily.as_str() && row.kind != CONFIRM_KIND;
            if digest
                && let Some(o) = out
                    .iter_mut()
                    .find(|o| o.digest && o.to == c.email && o.confirm_token.is_none())
            {
                o.ids.push(row.id);
                o.attempt = o.attempt.max(row.attempts + 1);
                o.items.push((row.kind.clone(), case));
                continue;
            }
            out.push(Outgoing {
                ids: vec![row.id],
                to: c.email.clone(),
                language: c.language.clone(),
                items: vec![(row.kind.clone(), case)],
                digest,
                unsubscribe_token: secrets::sign_link(&key, UNSUBSCRIBE, c.panelist_id, &c.nonce),
                confirm_token: (row.kind == CONFIRM_KIND)
                    .then(|| secrets::sign_link(&key, CONFIRM, c.panelist_id, &c.nonce)),
                attempt: row.attempts + 1,
            });
        }
        if !dropped.is_empty() {
            outbox::finish(db, &dropped, status::DROPPED, None, now).await?;
        }
        Ok(out)
    }

    /// Marks claimed rows as handed to the mail server; `false` if `node` lost them
    /// (its lease lapsed and another node took them), in which case it must not send.
    pub async fn start_sending(&self, node: &str, ids: &[i64], lease: Duration) -> Result<bool> {
        let tx = self.store.begin_write().await?;
        let n = outbox::start_sending(&*tx, ids, node, self.now(), lease).await?;
        tx.commit().await?;
        Ok(n == ids.len() as u64)
    }

    /// Records that the mail server accepted a message.
    pub async fn mail_sent(&self, ids: &[i64]) -> Result<()> {
        let tx = self.store.begin_write().await?;
        outbox::finish(&*tx, ids, status::SENT, None, self.now()).await?;
        Ok(tx.commit().await?)
    }

    /// Records that the mail server refused a message for good.
    pub async fn mail_bounced(&self, ids: &[i64], error: &str) -> Result<()> {
        let tx = self.store.begin_write().await?;
        outbox::finish(&*tx, ids, status::BOUNCED, Some(error), self.now()).await?;
        Ok(tx.commit().await?)
    }

    /// Records a transient failure: the rows wait `base · 2^attempts` (at most six
    /// hours) and are given up after `max_attempts`.
    pub async fn mail_failed(
        &self,
        ids: &[i64],
        attempts: i32,
        max_attempts: i32,
        base: Duration,
        error: &str,
    ) -> Result<()> {
        // Writes go through the write gate, so SQLite never answers them with "busy".
        let tx = self.store.begin_write().await?;
        if attempts >= max_attempts {
            outbox::finish(&*tx, ids, status::FAILED, Some(error), self.now()).await?;
        } else {
            let factor = 1i32 << attempts.clamp(0, 16);
            let wait = (base * factor).min(Duration::hours(6));
            outbox::retry_at(&*tx, ids, self.now() + wait, error).await?;
        }
        Ok(tx.commit().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_daily_digest_goes_at_seven_dutch_time() {
        // 06:30 in winter (UTC+1): today at 07:00 local, 06:00 UTC.
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 5, 30, 0).unwrap();
        assert_eq!(
            next_digest(winter),
            Utc.with_ymd_and_hms(2026, 1, 15, 6, 0, 0).unwrap()
        );
        // 08:00 in summer (UTC+2): tomorrow at 07:00 local, 05:00 UTC.
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap();
        assert_eq!(
            next_digest(summer),
            Utc.with_ymd_and_hms(2026, 7, 2, 5, 0, 0).unwrap()
        );
    }

    #[test]
    fn an_address_is_checked_without_repeating_it() {
        assert_eq!(check_email(" a@example.nl ").unwrap(), "a@example.nl");
        for bad in [
            "",
            "geen adres",
            "a@",
            "@b.nl",
            &format!("{}@x.nl", "a".repeat(260)),
        ] {
            let e = check_email(bad).unwrap_err();
            assert!(
                !e.message().contains(bad.trim()) || bad.trim().is_empty(),
                "{e:?}"
            );
        }
    }
}
