//! Invitation letters and codes through the API: numbered batches, the PDF of letters
//! read back, the mail-merge sheet as Dutch spreadsheet programs read it, revoking and
//! replacing a code (posts and profile kept), answers with codes never kept for a
//! retry, and the response figures with small numbers suppressed.

use std::collections::BTreeSet;

use beraad::service::ServiceSettings;
use beraad::service::ratelimit::RateLimits;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, Engine, TestApp, code};

/// A server whose login limits let one test log in a dozen panelists from one address.
async fn spawn(engine: Engine) -> TestApp {
    let mut settings = ServiceSettings {
        rate_limits: RateLimits::unlimited(),
        ..ServiceSettings::default()
    };
    settings.login_limits.per_ip_per_minute = 1000;
    settings.login_limits.global_per_second = 1000;
    crate::helpers::spawn_app_with_settings(
        engine,
        beraad::realtime::HubSettings::default(),
        settings,
    )
    .await
}

macro_rules! scenarios {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(super::spawn(crate::helpers::Engine::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(super::spawn(crate::helpers::Engine::Postgres).await).await
                }
            }
        )+
    };
}

scenarios!(
    a_replaced_code_logs_in_to_the_same_panelist_with_posts_kept,
    a_revoked_code_logs_nobody_in,
    invitation_numbers_are_unique_per_municipality,
    the_mail_merge_sheet_suits_dutch_spreadsheets,
    the_letters_pdf_has_a_page_per_invitee,
    answers_with_codes_are_not_kept_for_a_retry,
    response_figures_suppress_small_numbers,
    the_staff_page_looks_up_revokes_and_sets_the_letter,
);

/// A raw answer: status, content type, disposition and bytes.
struct Raw {
    status: StatusCode,
    content_type: String,
    disposition: String,
    bytes: Vec<u8>,
}

async fn post_raw(client: &Client, path: &str, body: Value, headers: &[(&str, &str)]) -> Raw {
    let mut req = client
        .http
        .post(format!("{}{path}", client.base))
        .json(&body);
    if let Some(csrf) = &client.csrf {
        req = req.header("x-csrf-token", csrf);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    Raw {
        status: resp.status(),
        content_type: header("content-type"),
        disposition: header("content-disposition"),
        bytes: resp.bytes().await.expect("body").to_vec(),
    }
}

/// Makes a batch as JSON; returns `(number, code)` per letter and the batch.
async fn batch(admin: &Client, panel: &str, count: u32) -> (Vec<(String, String)>, Value) {
    let (status, body) = admin
        .post(
            &format!("/api/v1/panels/{panel}/invitation-batches"),
            json!({"count": count}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let letters = body["invitations"]
        .as_array()
        .expect("invitations")
        .iter()
        .map(|i| {
            (
                i["number"].as_str().expect("number").to_owned(),
                i["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect();
    (letters, body)
}

/// Whether `code` logs in through the API, and as whom.
async fn try_login(app: &TestApp, code: &str) -> Result<Client, (StatusCode, Value)> {
    let (status, body) = app
        .anonymous()
        .post("/api/v1/auth/invite", json!({"code": code}))
        .await;
    if status == StatusCode::OK {
        Ok(app.panelist(code).await)
    } else {
        Err((status, body))
    }
}

async fn a_replaced_code_logs_in_to_the_same_panelist_with_posts_kept(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let (letters, _) = batch(&admin, "utrecht", 3).await;
    let (number, old_code) = letters[0].clone();
    let case = app.open_case(&t, json!({})).await;

    let old = app.panelist(&old_code).await;
    let (_, me) = old.get("/api/v1/auth/session").await;
    let pseudonym = me["pseudonym"].as_str().expect("pseudonym").to_owned();
    let (status, body) = old
        .put(
            "/api/v1/me/profile",
            json!({"consent": true, "age_band": "65-74", "district": "Oost", "wmo_experience": "zelf"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, post) = old
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Een redelijk besluit, goed uitgelegd."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");

    let (status, replaced) = admin
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{number}/replace"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{replaced}");
    assert_eq!(replaced["kind"], "replacement");
    let new = &replaced["invitations"][0];
    let new_code = new["code"].as_str().expect("new code");
    let new_number = new["number"].as_str().expect("new number");
    assert_ne!(new_code, old_code);
    assert_ne!(new_number, number);
    assert_eq!(new["pseudonym"], pseudonym.as_str());

    // The old session ended, the old code is refused like one that never existed.
    let (status, _) = old.get("/api/v1/auth/session").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, refused) = try_login(&app, &old_code)
        .await
        .err()
        .expect("old code refused");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&refused), "invalid_code");

    // The new code is the same panelist: pseudonym, profile and posts kept.
    let again = try_login(&app, new_code)
        .await
        .unwrap_or_else(|(status, body)| panic!("new code refused: {status} {body}"));
    let (_, me) = again.get("/api/v1/auth/session").await;
    assert_eq!(me["pseudonym"], pseudonym.as_str());
    let (_, profile) = again.get("/api/v1/me/profile").await;
    assert_eq!(profile["district"], "Oost", "{profile}");
    let thread = again.thread(case).await;
    let mine = thread
        .iter()
        .find(|p| p["id"] == post["id"])
        .expect("the post is still there");
    assert_eq!(mine["body"], "Een redelijk besluit, goed uitgelegd.");
    let (status, edited) = again
        .patch(
            &format!("/api/v1/posts/{}", post["id"]),
            json!({"body": "Een redelijk besluit, en goed uitgelegd."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "still the author: {edited}");

    // The old number shows what happened; it cannot be replaced a second time.
    let (_, view) = admin
        .get(&format!(
            "/api/v1/municipalities/utrecht/invitations/{number}"
        ))
        .await;
    assert_eq!(view["status"], "replaced");
    assert_eq!(view["replaced_by"], new_number);
    let (status, body) = admin
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{number}/replace"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "invitation_replaced");

    // Audited with both numbers, never a code.
    let (_, audit) = admin.get("/api/v1/audit?municipality=utrecht").await;
    let text = audit.to_string();
    assert!(text.contains("invitation.replace"), "{text}");
    assert!(text.contains(new_number));
    for (_, c) in &letters {
        assert!(!text.contains(c.as_str()), "no code in the audit log");
    }
    assert!(!text.contains(new_code), "no new code in the audit log");
}

async fn a_revoked_code_logs_nobody_in(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let (letters, _) = batch(&admin, "utrecht", 2).await;
    let (number, the_code) = letters[1].clone();
    let panelist = app.panelist(&the_code).await;
    let mut ws = panelist.ws().await;
    let case = app.open_case(&t, json!({})).await;
    ws.subscribe(case, 0).await;

    let (status, view) = admin
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{number}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "revoked");
    assert!(view["first_used_at"].is_string(), "the code had been used");

    assert!(ws.closed_within(5000).await, "the panelist's socket closes");
    let (status, _) = panelist.get("/api/v1/auth/session").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, refused) = try_login(&app, &the_code).await.err().expect("refused");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&refused), "invalid_code");
    // The other letter of the batch still works.
    assert!(try_login(&app, &letters[0].1).await.is_ok());

    // Revoking twice changes nothing; an unknown or malformed number is not found.
    let (status, body) = admin
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{number}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "invitation_not_active");
    for missing in ["2020-001-0001", "geen-nummer", "1'%20OR%201=1"] {
        let (status, body) = admin
            .post(
                &format!("/api/v1/municipalities/utrecht/invitations/{missing}/revoke"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {body}");
    }

    // A revoked invitation can still be given a new code.
    let (status, replaced) = admin
        .post(
            &format!("/api/v1/municipalities/utrecht/invitations/{number}/replace"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{replaced}");
    let new_code = replaced["invitations"][0]["code"].as_str().expect("code");
    assert!(try_login(&app, new_code).await.is_ok());
    let (_, view) = admin
        .get(&format!(
            "/api/v1/municipalities/utrecht/invitations/{number}"
        ))
        .await;
    assert_eq!(view["status"], "revoked", "stays revoked: {view}");

    let (_, audit) = admin.get("/api/v1/audit?municipality=utrecht").await;
    let text = audit.to_string();
    assert!(text.contains("invitation.revoke"));
    assert!(!text.contains(&the_code));
}

fn plausible(number: &str) -> bool {
    let parts: Vec<&str> = number.split('-').collect();
    parts.len() == 3
        && [4, 3, 4] == [parts[0].len(), parts[1].len(), parts[2].len()]
        && number.chars().all(|c| c.is_ascii_digit() || c == '-')
}

async fn invitation_numbers_are_unique_per_municipality(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let z = app.tenant("zoetermeer", 0).await;
    let admin = app.staff(&t.admin).await;
    let admin_z = app.staff(&z.admin).await;
    let year = chrono::Utc::now().format("%Y").to_string();

    let (first, body) = batch(&admin, "utrecht", 3).await;
    assert_eq!(body["number"], format!("{year}-001"));
    assert_eq!(first[0].0, format!("{year}-001-0001"));
    assert_eq!(first[2].0, format!("{year}-001-0003"));
    // Two batches at once get two numbers.
    let (a, b) = tokio::join!(batch(&admin, "utrecht", 2), batch(&admin, "utrecht", 2));
    let mut numbers: Vec<String> = [first, a.0, b.0]
        .concat()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let batch_numbers: BTreeSet<String> = [a.1["number"].clone(), b.1["number"].clone()]
        .iter()
        .map(|n| n.as_str().expect("batch number").to_owned())
        .collect();
    assert_eq!(
        batch_numbers,
        BTreeSet::from([format!("{year}-002"), format!("{year}-003")])
    );
    let (status, replaced) = admin
        .post(
            &format!(
                "/api/v1/municipalities/utrecht/invitations/{}/replace",
                numbers[0]
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{replaced}");
    numbers.push(
        replaced["invitations"][0]["number"]
            .as_str()
            .expect("number")
            .to_owned(),
    );
    assert_eq!(
        numbers.last().map(String::as_str),
        Some(format!("{year}-004-0001").as_str())
    );
    assert!(numbers.iter().all(|n| plausible(n)), "{numbers:?}");
    let distinct: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), numbers.len(), "{numbers:?}");

    // Another municipality counts its own, and cannot reach these numbers.
    let (theirs, _) = batch(&admin_z, "zoetermeer", 1).await;
    assert_eq!(theirs[0].0, format!("{year}-001-0001"));
    let (status, _) = admin_z
        .get(&format!(
            "/api/v1/municipalities/utrecht/invitations/{}",
            numbers[1]
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin_z
        .post(
            &format!(
                "/api/v1/municipalities/zoetermeer/invitations/{}/revoke",
                numbers[1]
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "Utrecht's number is not Zoetermeer's"
    );
    // Still active in Utrecht.
    let (_, view) = admin
        .get(&format!(
            "/api/v1/municipalities/utrecht/invitations/{}",
            numbers[1]
        ))
        .await;
    assert_eq!(view["status"], "active");
}

async fn the_mail_merge_sheet_suits_dutch_spreadsheets(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    app.service
        .create_panel(
            "utrecht",
            "wijk",
            "=HYPERLINK(\"http://x\";\"klik\") Wijkpanel",
        )
        .await
        .expect("panel");
    let admin = app.staff(&t.admin).await;
    let sheet = post_raw(
        &admin,
        "/api/v1/panels/wijk/invitation-batches",
        json!({"count": 3, "format": "csv", "separator": "semicolon"}),
        &[],
    )
    .await;
    assert_eq!(sheet.status, StatusCode::CREATED);
    assert!(
        sheet.content_type.starts_with("text/csv"),
        "{}",
        sheet.content_type
    );
    assert!(sheet.disposition.contains(".csv"), "{}", sheet.disposition);
    assert!(
        sheet.bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "UTF-8 with BOM"
    );
    let text = String::from_utf8(sheet.bytes[3..].to_vec()).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "uitnodigingsnummer;code;pseudoniem;panel;panelnaam;gemeente;inlogadres;inloglink"
    );
    assert_eq!(lines.len(), 4, "a header and three letters");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    for row in &rows {
        assert!(plausible(&row[0]), "{}", &row[0]);
        assert!(row[4].starts_with("'="), "formula neutralised: {}", &row[4]);
        assert_eq!(&row[5], "Gemeente utrecht");
        assert_eq!(&row[6], "http://beraad.test/");
        assert_eq!(row[7], format!("http://beraad.test/#code={}", &row[1]));
        assert!(try_login(&app, &row[1]).await.is_ok(), "the code logs in");
    }

    let comma = post_raw(
        &admin,
        "/api/v1/panels/utrecht/invitation-batches",
        json!({"count": 1, "format": "csv", "separator": "comma"}),
        &[],
    )
    .await;
    let text = String::from_utf8(comma.bytes[3..].to_vec()).expect("utf-8");
    assert!(
        text.starts_with("uitnodigingsnummer,code,pseudoniem,"),
        "{text}"
    );

    // A separator that does not exist is refused and makes nothing.
    let (status, body) = admin
        .post(
            "/api/v1/panels/utrecht/invitation-batches",
            json!({"count": 1, "format": "csv", "separator": "tab"}),
        )
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    let (_, overview) = admin.get("/api/v1/municipalities/utrecht/response").await;
    assert_eq!(
        overview["batches"].as_array().map(Vec::len),
        Some(2),
        "{overview}"
    );
}

/// The file behind a download link of a page (`<a id=ID download=NAME href="data:…;base64,…">`):
/// its name and bytes.
pub(crate) fn data_link(html: &str, id: &str) -> (String, Vec<u8>) {
    use base64::Engine as _;
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no link #{id}"));
    let start = html[..at].rfind("<a ").expect("the link's start");
    let tag = &html[start..start + html[start..].find('>').expect("the link's end")];
    let attr = |name: &str| {
        let from = tag.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
        tag[from..from + tag[from..].find('"').expect("quote")].to_owned()
    };
    let href = attr("href");
    let b64 = href.split_once(";base64,").expect("a data address").1;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    (attr("download"), bytes)
}

/// The text of every page of a PDF.
pub(crate) fn pdf_pages(bytes: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF");
    doc.get_pages()
        .keys()
        .map(|n| doc.extract_text(&[*n]).expect("text"))
        .collect()
}

/// What the QR code on the first page of a PDF says, as a phone would read it from the
/// printed page: the page rasterised at 150 dpi by Poppler's `pdftoppm`, the code read by
/// ZBar's `zbarimg` (Debian's poppler-utils and zbar-tools; `scripts/test` installs
/// them).
fn qr_of_first_page(pdf: &[u8]) -> String {
    use std::process::Command;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("brieven.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    let image = dir.path().join("pagina");
    let out = Command::new("pdftoppm")
        .args(["-f", "1", "-l", "1", "-r", "150", "-png", "-singlefile"])
        .arg(&file)
        .arg(&image)
        .output()
        .expect("pdftoppm (apt-get install poppler-utils, or run scripts/test)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(image.with_extension("png"))
        .output()
        .expect("zbarimg (apt-get install zbar-tools, or run scripts/test)");
    assert!(
        out.status.success(),
        "no QR code found: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

async fn the_letters_pdf_has_a_page_per_invitee(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let (status, body) = admin
        .put(
            "/api/v1/municipalities/utrecht/letter",
            json!({"text": "Beste buurtbewoner,\n\nDe gemeente {gemeente} nodigt u uit voor het {panel}. Wij zijn benieuwd naar uw oordeel over één besluit."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let letters = post_raw(
        &admin,
        "/api/v1/panels/utrecht/invitation-batches",
        json!({"count": 3, "format": "pdf"}),
        &[],
    )
    .await;
    assert_eq!(letters.status, StatusCode::CREATED);
    assert_eq!(letters.content_type, "application/pdf");
    let pages = pdf_pages(&letters.bytes);
    assert_eq!(pages.len(), 3, "one page per invitee");
    let year = chrono::Utc::now().format("%Y").to_string();
    let mut codes = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let number = format!("{year}-001-{:04}", i + 1);
        assert!(page.contains(&number), "page {i} holds {number}: {page}");
        assert!(page.contains("Beste buurtbewoner"), "{page}");
        assert!(page.contains("Gemeente utrecht nodigt u uit"), "{page}");
        assert!(
            page.contains("één besluit"),
            "Dutch letters survive: {page}"
        );
        assert!(page.contains("http://beraad.test/"), "{page}");
        let code = page
            .split_whitespace()
            .find(|w| w.len() == 15 && w.matches('-').count() == 2 && !w.starts_with(&year))
            .unwrap_or_else(|| panic!("a code on page {i}: {page}"))
            .to_owned();
        codes.push(code);
    }
    let distinct: BTreeSet<&String> = codes.iter().collect();
    assert_eq!(distinct.len(), 3);
    // The QR code on the printed page opens the login with that page's code.
    assert_eq!(
        qr_of_first_page(&letters.bytes),
        format!("http://beraad.test/#code={}", codes[0])
    );
    for c in &codes {
        assert!(
            try_login(&app, c).await.is_ok(),
            "the printed code {c} logs in"
        );
    }

    // A text too long for one page is refused and the stored one stays.
    let (status, body) = admin
        .put(
            "/api/v1/municipalities/utrecht/letter",
            json!({"text": "Een regel.\n\n".repeat(40)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "letter_too_long");
    let (_, letter) = admin.get("/api/v1/municipalities/utrecht/letter").await;
    assert!(
        letter["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Beste buurtbewoner"),
        "{letter}"
    );
    // Empty brings the default back.
    let (status, letter) = admin
        .put(
            "/api/v1/municipalities/utrecht/letter",
            json!({"text": "  "}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(letter["text"].is_null());
    let replaced = post_raw(
        &admin,
        &format!("/api/v1/municipalities/utrecht/invitations/{year}-001-0002/replace"),
        json!({"format": "pdf"}),
        &[],
    )
    .await;
    assert_eq!(replaced.status, StatusCode::CREATED);
    let pages = pdf_pages(&replaced.bytes);
    assert_eq!(pages.len(), 1);
    assert!(
        pages[0].contains(&format!("{year}-002-0001")),
        "{}",
        pages[0]
    );
    assert!(
        pages[0].contains("Beste bewoner"),
        "the default text: {}",
        pages[0]
    );
}

async fn answers_with_codes_are_not_kept_for_a_retry(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let key = [("idempotency-key", "brieven-1")];
    let body = json!({"count": 2});
    let first = post_raw(
        &admin,
        "/api/v1/panels/utrecht/invitation-batches",
        body.clone(),
        &key,
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let first: Value = serde_json::from_slice(&first.bytes).expect("json");
    let retry = post_raw(
        &admin,
        "/api/v1/panels/utrecht/invitation-batches",
        body,
        &key,
    )
    .await;
    assert_eq!(retry.status, StatusCode::GONE);
    let retry: Value = serde_json::from_slice(&retry.bytes).expect("json");
    assert_eq!(code(&retry), "answer_not_kept");
    let (_, overview) = admin.get("/api/v1/municipalities/utrecht/response").await;
    assert_eq!(
        overview["batches"].as_array().map(Vec::len),
        Some(1),
        "the retry made no second batch"
    );
    // No code rests in the store: the stored answer is the refusal, not the codes.
    let dump = stored_answers(&app).await;
    assert!(dump.contains("answer_not_kept"), "{dump}");
    for i in first["invitations"].as_array().expect("invitations") {
        let c = i["code"].as_str().expect("code");
        assert!(!dump.contains(c), "code {c} stored");
        assert!(!dump.contains(&c.replace('-', "")), "code {c} stored");
    }
}

/// Every answer kept for idempotent retries, as one text.
async fn stored_answers(app: &TestApp) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.service.store.db();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT response FROM idempotency_keys".to_owned(),
        ))
        .await
        .expect("stored answers");
    rows.iter()
        .filter_map(|r| r.try_get::<Option<String>>("", "response").ok().flatten())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn response_figures_suppress_small_numbers(app: TestApp) {
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let (big, _) = batch(&admin, "utrecht", 12).await;
    let (small, _) = batch(&admin, "utrecht", 3).await;
    let case = app.open_case(&t, json!({})).await;
    // Seven of twelve log in (five do not), five share a profile, two react.
    for (i, (_, c)) in big.iter().take(7).enumerate() {
        let p = app.panelist(c).await;
        if i < 5 {
            let (status, body) = p
                .put(
                    "/api/v1/me/profile",
                    json!({"consent": true, "age_band": "50-64", "district": "Noord", "wmo_experience": "geen"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        if i < 2 {
            let (status, body) = p
                .post(
                    &format!("/api/v1/cases/{case}/posts"),
                    json!({"verdict": "twijfel", "body": "Ik twijfel nog over dit besluit."}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }
    app.panelist(&small[0].1).await;

    let analyst = app.staff(&t.analyst).await;
    let (status, overview) = analyst.get("/api/v1/municipalities/utrecht/response").await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let steps = |v: &Value| -> Vec<(String, Value, bool)> {
        v["figures"]["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| {
                (
                    s["step"].as_str().expect("step").to_owned(),
                    s["count"].clone(),
                    s["suppressed"].as_bool().expect("suppressed"),
                )
            })
            .collect()
    };
    let batches = overview["batches"].as_array().expect("batches");
    let big_batch = batches
        .iter()
        .find(|b| b["size"] == 12)
        .expect("the big batch");
    assert_eq!(
        steps(big_batch),
        vec![
            ("letters".to_owned(), json!(12), false),
            ("used".to_owned(), json!(7), false),
            ("consented".to_owned(), json!(5), false),
            ("reacted".to_owned(), Value::Null, true),
        ]
    );
    let small_batch = batches
        .iter()
        .find(|b| b["size"] == 3)
        .expect("small batch");
    let small_steps = steps(small_batch);
    assert!(
        small_steps.iter().all(|(step, count, hidden)| {
            // Three letters, one login: every count that is not 0 is hidden.
            *hidden || count == &json!(0) || step == "none"
        }),
        "{small_steps:?}"
    );
    assert!(small_steps[0].2, "three letters are too few to show");
    // The panel: fifteen letters, eight logged in (seven did not), five consented
    // (ten did not), two reacted.
    let panel = &overview["panels"][0];
    assert_eq!(
        steps(panel),
        vec![
            ("letters".to_owned(), json!(15), false),
            ("used".to_owned(), json!(8), false),
            ("consented".to_owned(), json!(5), false),
            ("reacted".to_owned(), Value::Null, true),
        ]
    );
    // No text of a post, no pseudonym, no code in the figures.
    let text = overview.to_string();
    assert!(!text.contains("twijfel nog"));
    for (_, c) in big.iter().chain(&small) {
        assert!(!text.contains(c.as_str()));
    }

    // Moderators do not see them; another municipality's staff do not find them.
    let moderator = app.staff(&t.moderator).await;
    let (status, _) = moderator
        .get("/api/v1/municipalities/utrecht/response")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let z = app.tenant("zoetermeer", 0).await;
    let other = app.staff(&z.analyst).await;
    let (status, body) = other.get("/api/v1/municipalities/utrecht/response").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "municipality_not_found");
}

async fn the_staff_page_looks_up_revokes_and_sets_the_letter(app: TestApp) {
    use crate::staff_pages::post_form;
    let t = app.tenant("utrecht", 0).await;
    let admin = app.staff(&t.admin).await;
    let (letters, _) = batch(&admin, "utrecht", 5).await;
    let (number, the_code) = letters[0].clone();

    let (status, page) = admin.get_text("/beheer/brieven?gemeente=utrecht").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"partijen-tabel\""), "{page}");
    assert!(
        page.contains("id=\"standaardtekst\""),
        "the default text is in use"
    );
    assert!(!page.contains(&the_code), "no code on the page");

    // An unknown number: the page says so beside the field, in Dutch.
    let (status, page) = admin
        .get_text("/beheer/brieven?gemeente=utrecht&nummer=2020-009-0001")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("id=\"nummer-fout\""));
    assert!(page.contains("Er is geen uitnodiging met dit nummer"));

    let (status, page) = admin
        .get_text(&format!("/beheer/brieven?gemeente=utrecht&nummer={number}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-status=\"active\""), "{page}");
    let revoked = post_form(
        &admin,
        "/beheer/brieven/intrekken",
        &[("gemeente", "utrecht"), ("number", &number)],
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(revoked.text.contains("id=\"melding\""));
    assert!(revoked.text.contains("data-status=\"revoked\""));
    assert!(try_login(&app, &the_code).await.is_err());
    let again = post_form(
        &admin,
        "/beheer/brieven/intrekken",
        &[("gemeente", "utrecht"), ("number", &number)],
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.text.contains("id=\"nummer-fout\""));

    // The letter text: too long is refused beside the field with the text kept.
    let long = "Een regel.\n\n".repeat(40);
    let refused = post_form(
        &admin,
        "/beheer/brieven/tekst",
        &[("gemeente", "utrecht"), ("text", &long)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("id=\"brieftekst-fout\""));
    let saved = post_form(
        &admin,
        "/beheer/brieven/tekst",
        &[
            ("gemeente", "utrecht"),
            ("text", "Beste {gemeente}-bewoner,\n\nDoe mee."),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(saved.text.contains("Beste {gemeente}-bewoner,"));
    assert!(!saved.text.contains("id=\"standaardtekst\""));
    let (_, letter) = admin.get("/api/v1/municipalities/utrecht/letter").await;
    assert_eq!(letter["text"], "Beste {gemeente}-bewoner,\n\nDoe mee.");

    // A replacement from the page answers with the letter and sheet in the page.
    let made = post_form(
        &admin,
        "/beheer/brieven/vervangen",
        &[
            ("gemeente", "utrecht"),
            ("number", &letters[1].0),
            ("separator", "comma"),
        ],
    )
    .await;
    assert_eq!(made.status, StatusCode::OK);
    let (_, pdf) = data_link(&made.text, "brieven-pdf");
    let pages = pdf_pages(&pdf);
    assert_eq!(pages.len(), 1);
    assert!(
        pages[0].contains("Beste Gemeente utrecht-bewoner,"),
        "{}",
        pages[0]
    );
    let (_, sheet) = data_link(&made.text, "brieven-csv");
    let sheet = String::from_utf8(sheet[3..].to_vec()).expect("utf-8");
    let row: Vec<&str> = sheet.lines().nth(1).expect("row").split(',').collect();
    assert!(try_login(&app, row[1]).await.is_ok());

    // Analysts, moderators and other municipalities' admins get no such page.
    let analyst = app.staff(&t.analyst).await;
    let (status, _) = analyst.get_text("/beheer/brieven?gemeente=utrecht").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let z = app.tenant("zoetermeer", 0).await;
    let other = app.staff(&z.admin).await;
    let (status, _) = other.get_text("/beheer/brieven?gemeente=utrecht").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let refused = post_form(
        &other,
        "/beheer/brieven/intrekken",
        &[("gemeente", "utrecht"), ("number", &letters[2].0)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(try_login(&app, &letters[2].1).await.is_ok(), "still active");
}
