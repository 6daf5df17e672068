//! The command line as an operator uses it: migrate, demo, invitations for the mail
//! merge, staff accounts, exports, and clear errors for bad configuration.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use beraad::service::clock::SystemClock;
use beraad::service::{Service, ServiceSettings};
use beraad::store::Store;
use serde_json::Value;

fn beraad(db: &str, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beraad"));
    cmd.args(args)
        .env("BERAAD_DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .env_remove("BERAAD_STAFF_PASSWORD")
        .env_remove("BERAAD_PUBLIC_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("beraad binary");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_work_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/nested/beraad.db", dir.path().display());

    let out = beraad(&db, &["migrate"], None, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("up to date"));

    let out = beraad(
        &db,
        &["invites", "create", "--panel", "utrecht", "--count", "3"],
        None,
        &[],
    );
    assert!(!out.status.success(), "no panel yet");
    assert!(
        text(&out.stderr).contains("panel_not_found"),
        "{}",
        text(&out.stderr)
    );

    let out = beraad(&db, &["demo"], None, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("beheer@utrecht.demo") && printed.contains("UTRE-CHTP-ANEL2"),
        "{printed}"
    );
    let again = beraad(&db, &["demo"], None, &[]);
    assert!(text(&again.stdout).contains("already holds data"));

    // Invitations: CSV for the mail merge, codes that log in.
    let out = beraad(
        &db,
        &["invites", "create", "--panel", "utrecht", "--count", "3"],
        None,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let csv = csv.strip_prefix('\u{feff}').expect("UTF-8 with a BOM");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("uitnodigingsnummer,code,pseudoniem,panel,panelnaam,gemeente,inlogadres,inloglink")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row[1].len(), 15, "ABCD-EFGH-JKLMN: {}", row[1]);
        assert_eq!(row[3], "utrecht");
        assert_eq!(row[5], "Gemeente Utrecht");
    }
    let store = Store::connect(&db, 2).await.expect("store");
    let service = Service::new(store, Arc::new(SystemClock), ServiceSettings::default());
    let login = service
        .login_panelist(rows[0][1], None)
        .await
        .expect("code from the CSV logs in");
    assert_eq!(login.view.pseudonym.as_deref(), Some(rows[0][2]));

    // Letters: a batch as PDF and sheet, written once to new files; a code replaced and
    // another revoked by number.
    let files = tempfile::tempdir().expect("tempdir");
    let pdf = files.path().join("brieven.pdf");
    let sheet = files.path().join("brieven.csv");
    let pdf_arg = pdf.display().to_string();
    let sheet_arg = sheet.display().to_string();
    let letters_args = [
        "letters", "create", "--panel", "utrecht", "--count", "2", "--out", &pdf_arg, "--csv",
        &sheet_arg,
    ];
    let out = beraad(&db, &letters_args, None, &[]);
    assert!(!out.status.success(), "no public address");
    assert!(
        text(&out.stderr).contains("BERAAD_PUBLIC_URL"),
        "{}",
        text(&out.stderr)
    );
    assert!(!pdf.exists(), "nothing written, no codes made");
    let public = [("BERAAD_PUBLIC_URL", "https://beraad.utrecht.nl")];
    let out = beraad(&db, &letters_args, None, &public);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pages = crate::letters::pdf_pages(&std::fs::read(&pdf).expect("pdf"));
    assert_eq!(pages.len(), 2);
    assert!(
        pages[0].contains("https://beraad.utrecht.nl/"),
        "{}",
        pages[0]
    );
    let sheet_text = std::fs::read_to_string(&sheet).expect("sheet");
    let first: Vec<&str> = sheet_text
        .lines()
        .nth(1)
        .expect("a row")
        .split(';')
        .collect();
    let (number, code) = (first[0].to_owned(), first[1].to_owned());
    assert!(pages[0].contains(&number) && pages[0].contains(&code));
    let again = beraad(&db, &letters_args, None, &public);
    assert!(
        !again.status.success(),
        "existing files are not overwritten"
    );

    let replaced = files.path().join("vervangen.pdf");
    let replaced_arg = replaced.display().to_string();
    let out = beraad(
        &db,
        &[
            "letters",
            "replace",
            "--municipality",
            "utrecht",
            "--number",
            &number,
            "--out",
            &replaced_arg,
        ],
        None,
        &public,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        crate::letters::pdf_pages(&std::fs::read(&replaced).expect("pdf")).len(),
        1
    );
    assert!(
        service.login_panelist(&code, None).await.is_err(),
        "the old code is void"
    );
    let second: Vec<&str> = sheet_text
        .lines()
        .nth(2)
        .expect("a row")
        .split(';')
        .collect();
    let out = beraad(
        &db,
        &[
            "letters",
            "revoke",
            "--municipality",
            "utrecht",
            "--number",
            second[0],
        ],
        None,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("revoked"));
    assert!(service.login_panelist(second[1], None).await.is_err());

    // Staff accounts: password from standard input, never a flag; weak ones refused.
    let out = beraad(
        &db,
        &[
            "staff",
            "create",
            "--municipality",
            "utrecht",
            "--email",
            "Nieuw@Utrecht.nl",
            "--role",
            "moderator",
        ],
        Some("kort\n"),
        &[],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("12"), "{}", text(&out.stderr));
    let out = beraad(
        &db,
        &[
            "staff",
            "create",
            "--municipality",
            "utrecht",
            "--email",
            "Nieuw@Utrecht.nl",
            "--role",
            "moderator",
        ],
        Some("een-heel-lang-wachtwoord\n"),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    service
        .login_staff("nieuw@utrecht.nl", "een-heel-lang-wachtwoord", None)
        .await
        .expect("the new account logs in");
    // That address asked for in another municipality is invited, not granted: the
    // operator's password is not used and the code to pass on is printed.
    let out = beraad(
        &db,
        &[
            "staff",
            "create",
            "--municipality",
            "zoetermeer",
            "--email",
            "nieuw@utrecht.nl",
            "--role",
            "admin",
        ],
        Some("een-ander-lang-wachtwoord\n"),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("already has an account") && printed.contains("Nothing was granted"),
        "{printed}"
    );
    assert!(
        service
            .login_staff("nieuw@utrecht.nl", "een-ander-lang-wachtwoord", None)
            .await
            .is_err(),
        "the account keeps its own password"
    );
    let login = service
        .login_staff("nieuw@utrecht.nl", "een-heel-lang-wachtwoord", None)
        .await
        .expect("login");
    assert_eq!(login.view.roles.len(), 1, "no role in zoetermeer yet");

    // Export of a demo case with a discussion, as JSON Lines and CSV.
    let out = beraad(
        &db,
        &["export", "--case", "2", "--format", "jsonl"],
        None,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(records[0]["record"], "case");
    let posts: Vec<&Value> = records.iter().filter(|r| r["record"] == "post").collect();
    assert!(posts.len() >= 6, "the closed demo case has a discussion");
    assert!(
        posts
            .iter()
            .all(|p| p["author"].as_str().is_some_and(|a| a.starts_with("p-")))
    );
    let out = beraad(
        &db,
        &["export", "--case", "2", "--format", "csv"],
        None,
        &[],
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).lines().count(), posts.len() + 1);
    let out = beraad(
        &db,
        &["export", "--case", "2", "--format", "xml"],
        None,
        &[],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("jsonl or csv"));

    // Bad configuration is refused with a message that says what to fix.
    let out = beraad("mysql://localhost/x", &["migrate"], None, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("BERAAD_DATABASE_URL"),
        "{}",
        text(&out.stderr)
    );
    // The old proxy switch trusted any peer's X-Forwarded-For; it is refused by name.
    let out = beraad(
        &db,
        &["serve", "--bind", "127.0.0.1:0"],
        None,
        &[("BERAAD_TRUST_PROXY", "true")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("BERAAD_TRUSTED_PROXIES"),
        "{}",
        text(&out.stderr)
    );
    let out = beraad(
        &db,
        &["serve", "--bind", "127.0.0.1:0"],
        None,
        &[("BERAAD_TRUSTED_PROXIES", "127.0.0.1,proxy.internal")],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("BERAAD_TRUSTED_PROXIES") && err.contains("proxy.internal"),
        "{err}"
    );
    let out = beraad(&db, &["serve", "--bind", "geen-adres"], None, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("BERAAD_BIND"),
        "{}",
        text(&out.stderr)
    );
}

/// `beraad backup` copies a SQLite database while a node serves it, and the copy, put in
/// place of the database, serves the same discussion; it never overwrites a file, and on
/// PostgreSQL it says to use pg_dump and fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_a_serving_sqlite_database_and_the_copy_restores() {
    use crate::multinode::{free_port, open_demo_case, panelist, start_beraad, wait_until_ready};
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/live/beraad.db", dir.path().display());
    let port = free_port();
    let node = start_beraad(&db, None, port, true);
    wait_until_ready(&format!("http://127.0.0.1:{port}"), "beraad").await;
    let resident = panelist(port, "UTRE-CHTP-ANEL2").await;
    let (case, root, _) = open_demo_case(&resident).await;
    let (status, posted) = resident
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            serde_json::json!({"parent_id": root, "body": "Geschreven vóór de back-up."}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{posted}");

    // While the node serves.
    let file = dir.path().join("beraad-backup.db");
    let file_arg = file.display().to_string();
    let out = beraad(&db, &["backup", &file_arg], None, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Backup written"),
        "{}",
        text(&out.stdout)
    );
    // Written after the backup: not in it.
    let (_, later) = resident
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            serde_json::json!({"parent_id": root, "body": "Geschreven na de back-up."}),
        )
        .await;
    let again = beraad(&db, &["backup", &file_arg], None, &[]);
    assert!(!again.status.success(), "a backup never overwrites");
    assert!(
        text(&again.stderr).contains("exists already"),
        "{}",
        text(&again.stderr)
    );
    drop(node);

    // Restore: the copy becomes the database of a new node.
    let restored_dir = dir.path().join("restored");
    std::fs::create_dir(&restored_dir).expect("mkdir");
    std::fs::copy(&file, restored_dir.join("beraad.db")).expect("copy");
    let restored = format!("sqlite://{}/beraad.db", restored_dir.display());
    let port = free_port();
    let _node = start_beraad(&restored, None, port, false);
    wait_until_ready(&format!("http://127.0.0.1:{port}"), "restored beraad").await;
    let resident = panelist(port, "UTRE-CHTP-ANEL2").await;
    let (status, kept) = resident
        .get(&format!("/api/v1/posts/{}", posted["id"]))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{kept}");
    assert_eq!(kept["body"], "Geschreven vóór de back-up.");
    let (status, _) = resident
        .get(&format!("/api/v1/posts/{}", later["id"]))
        .await;
    assert_eq!(
        status,
        reqwest::StatusCode::NOT_FOUND,
        "written after the backup"
    );

    let out = beraad(
        "postgres://postgres@127.0.0.1:5432/beraad",
        &["backup", &dir.path().join("pg.db").display().to_string()],
        None,
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("pg_dump"),
        "{}",
        text(&out.stderr)
    );
    let out = beraad(
        &format!("sqlite://{}/nothing-here.db", dir.path().display()),
        &["backup", &dir.path().join("x.db").display().to_string()],
        None,
        &[],
    );
    assert!(!out.status.success(), "no database, no backup");
}
