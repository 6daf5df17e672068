//! Faults with real resources: a SQLite database on a small filesystem that fills up
//! and frees again, and a PostgreSQL server of the test's own that stops and starts.
//! What a client sees is checked (503 with a code and `Retry-After`, quickly; readiness;
//! recovery without a restart) and that every acknowledged post is stored.
//!
//! Both need root (to mount a filesystem, to run PostgreSQL as its own user), as CI has;
//! without it they say so on standard error and pass without running.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, spawn_app_on};

/// Whether this process runs as root.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Service settings without per-panelist rate limits (the faults are the subject here).
fn settings() -> beraad::service::ServiceSettings {
    beraad::service::ServiceSettings {
        rate_limits: beraad::service::ratelimit::RateLimits::unlimited(),
        ..Default::default()
    }
}

/// A tmpfs of a few MiB, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> Option<SmallDisk> {
        if !is_root() {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills every free byte with a file of its own.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.filler()).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let small = [0u8; 512];
        while f.write_all(&small).is_ok() {}
        let _ = f.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.filler()).expect("remove filler");
    }

    fn filler(&self) -> PathBuf {
        self.path().join("filler")
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// One write as a page's script sends it: status, body, `Retry-After` and time taken.
async fn post_reply(
    client: &Client,
    case: i64,
    parent: &Value,
    body: &str,
    key: &str,
) -> (StatusCode, Value, Option<String>, Duration) {
    let started = Instant::now();
    let resp = client
        .http
        .post(format!("{}/api/v1/cases/{case}/posts", client.base))
        .header("x-csrf-token", client.csrf.clone().unwrap_or_default())
        .header("idempotency-key", key)
        .json(&json!({"parent_id": parent, "body": body}))
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let value: Value = resp.json().await.unwrap_or(Value::Null);
    (status, value, retry, started.elapsed())
}

async fn readyz(app: &TestApp) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    let resp = reqwest::get(format!("{}/readyz", app.base))
        .await
        .expect("readyz");
    let status = resp.status();
    (
        status,
        resp.json().await.unwrap_or(Value::Null),
        started.elapsed(),
    )
}

/// Post ids in the database file, read through a connection of its own (not the
/// server's pool, whose connections could see their own uncommitted work).
async fn stored_post_ids(url: &str) -> Vec<i64> {
    use sea_orm::{ConnectionTrait, Statement};
    let store = beraad::store::Store::connect(url, 1)
        .await
        .expect("connect");
    let rows = store
        .db()
        .query_all_raw(Statement::from_string(
            store.db().get_database_backend(),
            "SELECT id FROM posts".to_owned(),
        ))
        .await
        .expect("posts");
    let ids = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id").expect("id"))
        .collect();
    store.close().await.ok();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_disk_full_refuses_writes_clearly_keeps_every_acknowledged_post_and_heals() {
    let Some(disk) = SmallDisk::mount(8) else {
        eprintln!("SKIPPED sqlite disk-full fault: needs root to mount a small tmpfs");
        return;
    };
    let url = format!("sqlite://{}/beraad.db", disk.path().display());
    let app = spawn_app_on(
        &url,
        beraad::realtime::HubSettings::default(),
        settings(),
        |_| {},
    )
    .await;
    let t = app.tenant("utrecht", 1).await;
    let case = app.open_case(&t, json!({"max_length": 10000})).await;
    let p = app.panelist(&t.codes[0]).await;
    let (status, root) = p
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Het begin van een lange draad over de traplift."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{root}");
    disk.fill();
    let text = "Een lang antwoord over de keukentafel en de traplift. ".repeat(150);
    let mut acked: Vec<i64> = Vec::new();
    let mut refused = 0;
    for i in 0..80 {
        let (status, body, retry, took) = post_reply(
            &p,
            case,
            &root["id"],
            &format!("{i} {text}"),
            &format!("vol-{i}"),
        )
        .await;
        assert!(took < Duration::from_secs(5), "answered in {took:?}");
        match status {
            StatusCode::CREATED => acked.push(body["id"].as_i64().expect("id")),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
                assert!(retry.is_some(), "503 carries Retry-After");
                refused += 1;
            }
            other => panic!("a full disk answered {other}: {body}"),
        }
    }
    eprintln!(
        "disk full: {} acknowledged, {refused} refused with 503",
        acked.len()
    );
    assert!(refused > 0, "the full disk refused some writes");
    let (status, ready, took) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(ready["database"], "not_writable");
    assert!(took < Duration::from_secs(1));

    // Space comes back: writes work again without a restart.
    disk.free();
    let healed = Instant::now();
    let mut i = 1000;
    loop {
        let (status, body, _, _) =
            post_reply(&p, case, &root["id"], "Weer ruimte.", &format!("vol-{i}")).await;
        i += 1;
        if status == StatusCode::CREATED {
            acked.push(body["id"].as_i64().expect("id"));
            break;
        }
        assert!(
            healed.elapsed() < Duration::from_secs(15),
            "still {status} 15 s after the disk freed: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for n in 0..10 {
        let (status, body, _, _) =
            post_reply(&p, case, &root["id"], "En nog een.", &format!("na-{n}")).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        acked.push(body["id"].as_i64().expect("id"));
    }
    let (status, ready, _) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK, "{ready}");

    // Every acknowledged post is in the file, seen through a connection of its own.
    let stored = stored_post_ids(&url).await;
    let lost: Vec<i64> = acked
        .iter()
        .filter(|id| !stored.contains(id))
        .copied()
        .collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    drop(app);
}

/// A PostgreSQL server of the test's own (initdb on a free port, run as `postgres`),
/// stopped on drop.
struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
}

impl OwnPostgres {
    fn start() -> Option<OwnPostgres> {
        if !is_root() {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status()
            .ok()?;
        let data = dir.path().join("data");
        let ok = Command::new("runuser")
            .args([
                "-u", "postgres", "--", "initdb", "-A", "trust", "-U", "postgres", "-D",
            ])
            .arg(&data)
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        let pg = OwnPostgres { dir, port };
        pg.ctl("start").then_some(pg)
    }

    fn ctl(&self, what: &str) -> bool {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        Command::new("runuser")
            .args(["-u", "postgres", "--", "pg_ctl", "-w", "-m", "fast", "-D"])
            .arg(self.dir.path().join("data"))
            .args(["-l"])
            .arg(self.dir.path().join("log"))
            .args(["-o", &opts, what])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        self.ctl("stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_answers_503_quickly_and_open_pages_resume_after_it() {
    let Some(pg) = OwnPostgres::start() else {
        eprintln!("SKIPPED PostgreSQL outage fault: needs root to run a server of its own");
        return;
    };
    let app = spawn_app_on(
        &pg.url(),
        beraad::realtime::HubSettings::default(),
        settings(),
        |_| {},
    )
    .await;
    let t = app.tenant("utrecht", 2).await;
    let case = app.open_case(&t, json!({})).await;
    let author = app.panelist(&t.codes[0]).await;
    let viewer = app.panelist(&t.codes[1]).await;
    let mut ws = viewer.ws().await;
    ws.subscribe(case, 1).await;
    let (status, root) = author
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Voor de storing geschreven."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{root}");
    assert_eq!(ws.next_of("event").await["seq"], 2);

    assert!(pg.ctl("stop"), "stop PostgreSQL");
    let (status, body, retry, took) = post_reply(
        &author,
        case,
        &root["id"],
        "Tijdens de storing.",
        "storing-1",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "store_unavailable");
    assert!(retry.is_some());
    assert!(took < Duration::from_secs(3), "answered in {took:?}");
    let (status, ready, took) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(ready["database"], "unreachable");
    assert!(
        took < Duration::from_secs(1),
        "readiness answered in {took:?}"
    );
    // A subscribe on the open socket is told to try again, not that something broke.
    ws.send(json!({"type": "subscribe", "topic": format!("case:{case}"), "after": 2}))
        .await;
    let answer = ws.next_of("error").await;
    assert_eq!(answer["code"], "unavailable", "{answer}");
    assert!(answer["retry_after"].as_u64().is_some());

    assert!(pg.ctl("start"), "start PostgreSQL");
    let healed = Instant::now();
    let mut n = 0;
    let reply = loop {
        n += 1;
        let (status, body, _, _) = post_reply(
            &author,
            case,
            &root["id"],
            "Na de storing.",
            &format!("na-{n}"),
        )
        .await;
        if status == StatusCode::CREATED {
            break body;
        }
        assert!(
            healed.elapsed() < Duration::from_secs(15),
            "still {status} 15 s after PostgreSQL came back: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // The page that stayed open gets the new post without reloading.
    ws.send(json!({"type": "subscribe", "topic": format!("case:{case}"), "after": 2}))
        .await;
    let mut got = false;
    for _ in 0..10 {
        let v = ws.next().await.expect("socket open");
        if v["type"] == "event" && v["post"]["id"] == reply["id"] {
            got = true;
            break;
        }
    }
    assert!(
        got,
        "the open page received the post written after the outage"
    );
    let (status, ready, _) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    drop(ws);
    drop(app);
}
