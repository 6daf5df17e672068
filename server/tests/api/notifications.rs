//! Notifications by e-mail against a real SMTP server (aiosmtpd from PyPI, started by
//! the test): a confirmed subscriber gets one message per event, nobody else gets any,
//! no message holds post text, the unsubscribe link works without a login (by its page
//! and by a mail client's one-click post), staff see when mail is not configured, a
//! refused address is recorded as bounced, and of two nodes on one PostgreSQL where one
//! is killed while the mail server holds its message, nothing is sent twice.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use beraad::mail::{MailSettings, Mailer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{Client, TestApp, create_pg_database, drop_pg_database, spawn_app_on};
use crate::multinode::{free_port, start_beraad_with, wait_until_ready};

both_engines!(each_event_reaches_each_subscriber_once);
both_engines!(refusals_and_missing_configuration_are_recorded);
both_engines!(a_held_reply_tells_the_author_once_approved);

/// The post texts of the scenario; no message may hold any of them.
const SECRET_REACTION: &str = "Mijn zzgeheime reden over de traplift van de buurvrouw.";
const SECRET_REPLY: &str = "Een zzantwoord met eigen woorden over de trap.";

/// The aiosmtpd server of one test, writing each message to its own directory.
pub struct Sink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
    pub list_unsubscribe: String,
}

fn tools_dir() -> PathBuf {
    std::env::var_os("BERAAD_CONTRACT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../contract-tools"))
}

impl Sink {
    /// Starts the server on a free port with `args` (see `smtp_sink.py`).
    pub async fn start(args: &[&str]) -> Sink {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let tools = tools_dir();
        assert!(
            tools.join("aiosmtpd").exists(),
            "aiosmtpd is missing from {}: run scripts/test, or \
             python3 -m pip install --target {} -r scripts/contract-tools.txt",
            tools.display(),
            tools.display()
        );
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/smtp_sink.py");
        let child =
            Command::new(std::env::var("BERAAD_PYTHON").unwrap_or_else(|_| "python3".into()))
                .env("PYTHONPATH", &tools)
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .arg(script)
                .arg(port.to_string())
                .arg(dir.path())
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("python3 runs the SMTP server");
        let sink = Sink { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !sink.dir.path().join("ready").exists() {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sink
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Whether the first (slow) message has arrived.
    pub fn receiving(&self) -> bool {
        self.dir.path().join("receiving").exists()
    }

    /// Every message received so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        read_mails(self.dir.path())
    }

    /// Waits until at least `n` messages arrived, then a moment more, and returns all.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.mails();
            if got.len() >= n {
                // Anything sent twice would arrive right behind.
                tokio::time::sleep(Duration::from_millis(600)).await;
                return self.mails();
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages, got {}: {:#?}",
                got.len(),
                got.iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn read_mails(dir: &Path) -> Vec<Mail> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .map(|bytes| {
            let raw = String::from_utf8_lossy(&bytes).into_owned();
            let to = raw
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("X-Sink-To: "))
                .unwrap_or_default()
                .trim()
                .to_owned();
            let parsed = mail_parser::MessageParser::default()
                .parse(&bytes)
                .expect("a parsable message");
            let list_unsubscribe = parsed
                .header_raw("List-Unsubscribe")
                .unwrap_or_default()
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            Mail {
                to,
                subject: parsed.subject().unwrap_or_default().to_owned(),
                text: parsed
                    .body_text(0)
                    .map(|t| t.into_owned())
                    .unwrap_or_default(),
                html: parsed
                    .body_html(0)
                    .map(|t| t.into_owned())
                    .unwrap_or_default(),
                raw,
                list_unsubscribe,
            }
        })
        .collect()
}

/// Runs a mail worker of this test's own for `app` (as `serve` does with
/// `BERAAD_SMTP_URL`), polling often and retrying soon.
fn start_worker(app: &TestApp, smtp_url: &str) -> tokio::task::JoinHandle<()> {
    let mut s = MailSettings::new(
        smtp_url,
        "Beraad <beraad@gemeente.test>",
        "http://beraad.test",
    );
    s.poll = Duration::from_millis(100);
    s.retry_base = chrono::Duration::milliseconds(200);
    s.max_attempts = 3;
    beraad::mail::spawn(
        Arc::clone(&app.service),
        Mailer::new(s).expect("mail settings"),
    )
}

/// The part of a link after `marker`, up to the next space, quote or line end.
fn token_after(text: &str, marker: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {text}"))
        + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

async fn subscribe(p: &Client, email: &str, kinds: &[&str]) {
    let (status, body) = p
        .put(
            "/api/v1/me/notifications",
            json!({"email": email, "kinds": kinds, "frequency": "direct", "language": "nl"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["confirmed"], false, "{body}");
}

/// Confirms every confirmation message among `mails` through the link's own page.
async fn confirm_all(app: &TestApp, mails: &[Mail]) {
    for m in mails
        .iter()
        .filter(|m| m.text.contains("/meldingen/bevestigen?token="))
    {
        let token = token_after(&m.text, "/meldingen/bevestigen?token=");
        let anon = app.anonymous();
        // The link shows a button; only the post confirms.
        let (status, page) = anon
            .get_text(&format!("/meldingen/bevestigen?token={token}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Bevestigen"), "{page}");
        let (status, _) = anon
            .post("/api/v1/notifications/confirm", json!({"token": token}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
}

fn to(mails: &[Mail], who: &str) -> Vec<String> {
    mails
        .iter()
        .filter(|m| m.to == who)
        .map(|m| m.subject.clone())
        .collect()
}

async fn each_event_reaches_each_subscriber_once(app: TestApp) {
    let sink = Sink::start(&[]).await;
    let worker = start_worker(&app, &sink.url());
    let t = app.tenant("utrecht", 4).await;
    let mut p = Vec::new();
    for code in &t.codes {
        p.push(app.panelist(code).await);
    }
    let all = [
        "casus_geopend",
        "antwoord",
        "sluit_binnenkort",
        "reactie_gemeente",
    ];
    subscribe(&p[0], "een@bewoners.test", &all).await;
    subscribe(&p[1], "twee@bewoners.test", &["casus_geopend"]).await;
    // p[2] gives no address; p[3] gives one and removes it again.
    subscribe(&p[3], "vier@bewoners.test", &all).await;
    let confirmations = sink.wait_for(3).await;
    assert_eq!(confirmations.len(), 3, "one confirmation per address");
    confirm_all(&app, &confirmations).await;
    let (_, s) = p[0].get("/api/v1/me/notifications").await;
    assert_eq!(s["confirmed"], true, "{s}");
    let (status, _) = p[3]
        .http
        .delete(format!("{}/api/v1/me/notifications", p[3].base))
        .header("X-CSRF-Token", p[3].csrf.clone().unwrap_or_default())
        .send()
        .await
        .map(|r| (r.status(), ()))
        .expect("delete");
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, s) = p[3].get("/api/v1/me/notifications").await;
    assert_eq!(s["email"], Value::Null, "the address is erased: {s}");

    // Events: the case opens, p0 reacts, p1 replies to p0, the municipality responds,
    // and the admin sends a reminder.
    let case = app.open_case(&t, json!({})).await;
    let (status, root) = p[0]
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": SECRET_REACTION}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{root}");
    let (status, reply) = p[1]
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": root["id"], "body": SECRET_REPLY}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    // Replying to oneself tells nobody.
    let (status, _) = p[0]
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": root["id"], "body": "Nog een aanvulling van mijzelf hierop."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let admin = app.staff(&t.admin).await;
    let (status, body) = admin
        .patch(
            &format!("/api/v1/cases/{case}"),
            json!({"response": "De gemeente neemt het advies van het panel over."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, a) = admin
        .post(
            &format!("/api/v1/cases/{case}/announcements"),
            json!({"kind": "herinnering"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["queued"], 2, "p0 and p1 chose case news: {a}");

    // 3 confirmations, opened ×2, reply ×1, response ×1, reminder ×2.
    let mails = sink.wait_for(9).await;
    assert_eq!(
        mails.len(),
        9,
        "{:#?}",
        mails
            .iter()
            .map(|m| (&m.to, &m.subject))
            .collect::<Vec<_>>()
    );
    let mut one = to(&mails, "een@bewoners.test");
    one.sort();
    let mut want_one = vec![
        "Bevestig uw e-mailadres voor Beraad",
        "Er is een casus voor u geopend",
        "Iemand heeft gereageerd op uw bericht",
        "De gemeente heeft gereageerd",
        "Herinnering: een casus staat voor u open",
    ];
    want_one.sort();
    assert_eq!(one, want_one);
    let mut two = to(&mails, "twee@bewoners.test");
    two.sort();
    let mut want_two = vec![
        "Bevestig uw e-mailadres voor Beraad",
        "Er is een casus voor u geopend",
        "Herinnering: een casus staat voor u open",
    ];
    want_two.sort();
    assert_eq!(two, want_two, "p1 chose only case news");
    assert_eq!(
        to(&mails, "vier@bewoners.test"),
        vec!["Bevestig uw e-mailadres voor Beraad"],
        "nothing after removal"
    );
    let title = "Traplift afgewezen";
    for m in &mails {
        for secret in [SECRET_REACTION, SECRET_REPLY, "zzgeheime", "zzantwoord"] {
            assert!(
                !m.raw.contains(secret) && !m.text.contains(secret) && !m.html.contains(secret),
                "post text in a message: {m:#?}"
            );
        }
        assert!(!m.text.contains("utrecht") || m.text.contains("beraad.test"));
        assert!(
            m.list_unsubscribe
                .starts_with("http://beraad.test/afmelden?token="),
            "{m:#?}"
        );
        assert!(
            m.raw
                .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        );
        assert!(
            !m.html.is_empty() && m.html.contains("lang=\"nl\""),
            "plain text and HTML"
        );
        if m.subject.contains("casus") && !m.subject.contains("Bevestig") {
            assert!(
                m.text.contains(title) && m.text.contains(&format!("/casus/{case}")),
                "{m:#?}"
            );
        }
    }

    // Unsubscribing by the link's page, without a login.
    let last = mails
        .iter()
        .rev()
        .find(|m| m.to == "een@bewoners.test")
        .expect("a message");
    let path = last
        .list_unsubscribe
        .trim_start_matches("http://beraad.test");
    let anon = app.anonymous();
    let (status, page) = anon.get_text(path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Afmelden"), "{page}");
    let (_, s) = p[0].get("/api/v1/me/notifications").await;
    assert_eq!(
        s["email"], "een@bewoners.test",
        "looking at the page changes nothing"
    );
    let token = token_after(path, "token=");
    let resp = anon
        .http
        .post(format!("{}/afmelden", anon.base))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("unsubscribe");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.text()
            .await
            .unwrap_or_default()
            .contains("U bent afgemeld")
    );
    let (_, s) = p[0].get("/api/v1/me/notifications").await;
    assert_eq!(s["email"], Value::Null, "the address is erased: {s}");
    // A mail client's one-click unsubscribe (RFC 8058) for p1.
    let last = mails
        .iter()
        .rev()
        .find(|m| m.to == "twee@bewoners.test")
        .expect("a message");
    let resp = anon
        .http
        .post(
            last.list_unsubscribe
                .replace("http://beraad.test", &anon.base),
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one-click");
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, s) = p[1].get("/api/v1/me/notifications").await;
    assert_eq!(s["email"], Value::Null, "{s}");
    // A second click is harmless; a forged token is refused.
    let (status, _) = anon
        .post("/api/v1/notifications/unsubscribe", json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let forged = format!("{}x", &token[..token.len() - 1]);
    let (status, body) = anon
        .post(
            "/api/v1/notifications/unsubscribe",
            json!({"token": forged}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_link");

    // Nobody is subscribed any more: a new announcement sends nothing.
    let (_, a) = admin
        .post(
            &format!("/api/v1/cases/{case}/announcements"),
            json!({"kind": "reactie_gemeente"}),
        )
        .await;
    assert_eq!(a["queued"], 0, "{a}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.mails().len(), 9);

    // The addresses are nowhere in the case's export or the audit log.
    let (_, audit) = admin.get_text("/api/v1/audit?municipality=utrecht").await;
    assert!(!audit.contains("bewoners.test"), "{audit}");
    assert!(audit.contains("case.announce"), "announcements are audited");
    let (_, export) = admin
        .get_text(&format!("/api/v1/cases/{case}/export"))
        .await;
    assert!(!export.contains("bewoners.test"));
    worker.abort();
}

async fn refusals_and_missing_configuration_are_recorded(app: TestApp) {
    let t = app.tenant("utrecht", 2).await;
    let p0 = app.panelist(&t.codes[0]).await;
    let p1 = app.panelist(&t.codes[1]).await;
    subscribe(&p0, "een@bewoners.test", &["casus_geopend"]).await;
    subscribe(&p1, "geweigerd@bewoners.test", &["casus_geopend"]).await;
    let admin = app.staff(&t.admin).await;
    let case = crate::helpers::create_case(&admin, "utrecht", json!({})).await;
    // No mail server yet: the staff page says so, and the settings page too.
    let (status, page) = admin
        .get_text(&format!("/beheer/casus/{case}/reactie"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("E-mail is niet ingesteld"), "{page}");
    let (_, page) = p0.get_text("/meldingen").await;
    assert!(
        page.contains("kan op dit moment geen e-mail versturen"),
        "{page}"
    );
    // The confirmations wait in the outbox until a server is configured.
    let sink = Sink::start(&["--refuse", "geweigerd@bewoners.test"]).await;
    let worker = start_worker(&app, &sink.url());
    let mails = sink.wait_for(1).await;
    assert_eq!(mails.len(), 1, "the refused address gets nothing");
    confirm_all(&app, &mails).await;
    // p1's address was refused for good: bounced, never confirmed, nothing more to it.
    let (_, s) = p1.get("/api/v1/me/notifications").await;
    assert_eq!(s["confirmed"], false);
    let (status, _) = admin
        .post(&format!("/api/v1/cases/{case}/open"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mails = sink.wait_for(2).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].to, "een@bewoners.test");
    let (_, counts) = admin.get(&format!("/api/v1/cases/{case}/outbox")).await;
    assert_eq!(counts["sent"], 1, "{counts}");
    assert_eq!(counts["mail_configured"], true, "{counts}");
    let (_, page) = admin
        .get_text(&format!("/beheer/casus/{case}/reactie"))
        .await;
    assert!(!page.contains("E-mail is niet ingesteld"), "{page}");
    let (_, s) = p1.get("/api/v1/me/notifications").await;
    assert_eq!(
        s["bounced"], true,
        "the panelist sees the address was refused: {s}"
    );
    let (_, page) = p1.get_text("/meldingen").await;
    assert!(page.contains("geweigerd"), "{page}");
    // A mail server that is down: the message waits and is retried, then sent.
    drop(sink);
    let (status, _) = admin
        .post(
            &format!("/api/v1/cases/{case}/announcements"),
            json!({"kind": "herinnering"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, counts) = admin.get(&format!("/api/v1/cases/{case}/outbox")).await;
    assert_eq!(counts["pending"], 1, "waiting for the server: {counts}");
    worker.abort();
}

async fn a_held_reply_tells_the_author_once_approved(app: TestApp) {
    let sink = Sink::start(&[]).await;
    let worker = start_worker(&app, &sink.url());
    let t = app.tenant("utrecht", 2).await;
    let author = app.panelist(&t.codes[0]).await;
    let replier = app.panelist(&t.codes[1]).await;
    subscribe(&author, "een@bewoners.test", &["antwoord"]).await;
    confirm_all(&app, &sink.wait_for(1).await).await;
    // Every post waits for a moderator in this case.
    let case = app.open_case(&t, json!({"moderation_mode": "pre"})).await;
    let moderator = app.staff(&t.moderator).await;
    let approve = |id: i64| {
        let moderator = &moderator;
        async move {
            let (status, body) = moderator
                .post(
                    &format!("/api/v1/moderation/posts/{id}/approve"),
                    json!({"revision": 1}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    };
    let (_, root) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": SECRET_REACTION}),
        )
        .await;
    approve(root["id"].as_i64().expect("id")).await;
    let (status, reply) = replier
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": root["id"], "body": SECRET_REPLY}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["status"], "pending");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.mails().len(), 1, "nothing while the reply is held");
    approve(reply["id"].as_i64().expect("id")).await;
    let mails = sink.wait_for(2).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    assert_eq!(mails[1].subject, "Iemand heeft gereageerd op uw bericht");
    assert!(!mails[1].raw.contains("zzantwoord"));
    worker.abort();
}

/// Two `beraad serve` nodes on one PostgreSQL send one outbox. Node A is killed while
/// the mail server holds its first message (already taken, not yet answered); node B
/// then sends the rest. Every recipient gets each message exactly once, and the one
/// whose fate node A never learnt is recorded as failed rather than sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_send_sends_nothing_twice() {
    let (db_url, db_name) = create_pg_database().await;
    let app = spawn_app_on(
        &db_url,
        beraad::realtime::HubSettings::default(),
        beraad::service::ServiceSettings::default(),
        |_| {},
    )
    .await;
    let t = app.tenant("utrecht", 4).await;
    // Addresses confirmed through a first mail server with the test's own worker.
    let confirm_sink = Sink::start(&[]).await;
    let worker = start_worker(&app, &confirm_sink.url());
    for (i, code) in t.codes.iter().enumerate() {
        let p = app.panelist(code).await;
        subscribe(&p, &format!("lid{i}@bewoners.test"), &["casus_geopend"]).await;
    }
    let mails = confirm_sink.wait_for(4).await;
    confirm_all(&app, &mails).await;
    worker.abort();
    // Four messages wait: the case opens.
    let case = app.open_case(&t, json!({})).await;

    let slow = Sink::start(&["--slow-first", "8"]).await;
    let env = [
        ("BERAAD_SMTP_URL", slow.url()),
        ("BERAAD_MAIL_FROM", "beraad@gemeente.test".to_owned()),
        ("BERAAD_MAIL_POLL_MS", "100".to_owned()),
        ("BERAAD_MAIL_LEASE_SECS", "2".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = start_beraad_with(&db_url, None, port_a, false, &env);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !slow.receiving() {
        assert!(Instant::now() < deadline, "node A sent nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The server has the message and holds its answer: node A dies now.
    a.0.kill().expect("kill node A");
    let _ = a.0.wait();
    let b = start_beraad_with(&db_url, None, port_b, false, &env);
    wait_until_ready(&format!("http://127.0.0.1:{port_b}"), "node B").await;
    let mails = slow.wait_for(4).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails_after = slow.mails();
    assert_eq!(mails.len(), mails_after.len());
    let mut recipients: Vec<String> = mails_after.iter().map(|m| m.to.clone()).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        vec![
            "lid0@bewoners.test",
            "lid1@bewoners.test",
            "lid2@bewoners.test",
            "lid3@bewoners.test"
        ],
        "each once"
    );
    let admin = app.staff(&t.admin).await;
    let (_, counts) = admin.get(&format!("/api/v1/cases/{case}/outbox")).await;
    assert_eq!(counts["sent"], 3, "{counts}");
    assert_eq!(
        counts["failed"], 1,
        "the interrupted one is recorded, not resent: {counts}"
    );
    drop(b);
    drop(app);
    drop_pg_database(db_name);
}
