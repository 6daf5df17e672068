//! The server under test, seen over HTTP: Beraad's API (log in, cases, posts, heads) or
//! the Node peer's `/publish` and `/head`. Also the preparation of a Beraad run and the
//! state file that lets several generator processes share it.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::args::Args;

/// Name of Beraad's session cookie.
pub const SESSION_COOKIE: &str = "beraad_session";

/// A logged-in session: the cookie value and the CSRF token for writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// Value of the `beraad_session` cookie.
    pub cookie: String,
    /// `X-CSRF-Token` for state-changing requests.
    pub csrf: String,
}

/// One prepared case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreparedCase {
    /// Case id.
    pub id: i64,
    /// The root reaction all load posts reply to.
    pub root_id: i64,
}

/// Everything a Beraad run needs, shareable between processes as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepared {
    /// The node it was prepared on.
    pub base_url: String,
    /// When.
    pub prepared_at: String,
    /// The admin session (reads case heads).
    pub admin: Session,
    /// The cases, in distribution order (the first is the most popular under Zipf).
    pub cases: Vec<PreparedCase>,
    /// Panelist sessions; connections and posts are spread over them.
    pub panelists: Vec<Session>,
}

impl Prepared {
    /// Reads a state file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read state file {}", path.display()))?;
        let p: Prepared = serde_json::from_str(&text)
            .with_context(|| format!("state file {} is not valid", path.display()))?;
        anyhow::ensure!(
            !p.cases.is_empty() && !p.panelists.is_empty(),
            "state file {} holds no cases or no panelists",
            path.display()
        );
        Ok(p)
    }

    /// Writes a state file (readable by the owner only: it holds live sessions).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text)
            .with_context(|| format!("cannot write state file {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }
}

/// The HTTP client used for preparation, posts and heads.
pub fn http_client(max_inflight: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(max_inflight)
        .timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .build()?)
}

/// The server under test.
pub enum Backend {
    /// Beraad with a prepared state.
    Beraad {
        /// Client.
        http: reqwest::Client,
        /// First node's base URL (posts and heads go there).
        base: String,
        /// Cases and sessions.
        prepared: Prepared,
    },
    /// The Node peer with topics `case:1..=cases`.
    Peer {
        /// Client.
        http: reqwest::Client,
        /// Base URL.
        base: String,
        /// Number of topics.
        cases: usize,
    },
}

impl Backend {
    /// Number of cases.
    pub fn cases(&self) -> usize {
        match self {
            Backend::Beraad { prepared, .. } => prepared.cases.len(),
            Backend::Peer { cases, .. } => *cases,
        }
    }

    /// Topic of case index `idx`.
    pub fn topic(&self, idx: usize) -> String {
        match self {
            Backend::Beraad { prepared, .. } => format!("case:{}", prepared.cases[idx].id),
            Backend::Peer { .. } => format!("case:{}", idx + 1),
        }
    }

    /// `Cookie` header for connection number `conn` (Beraad only).
    pub fn ws_cookie(&self, conn: usize) -> Option<String> {
        match self {
            Backend::Beraad { prepared, .. } => {
                let s = &prepared.panelists[conn % prepared.panelists.len()];
                Some(format!("{SESSION_COOKIE}={}", s.cookie))
            }
            Backend::Peer { .. } => None,
        }
    }

    /// The current last sequence number of case index `idx`.
    pub async fn head(&self, idx: usize) -> anyhow::Result<i64> {
        match self {
            Backend::Beraad {
                http,
                base,
                prepared,
            } => {
                let id = prepared.cases[idx].id;
                let v: Value = get_json(http.get(format!("{base}/api/v1/cases/{id}")).header(
                    "cookie",
                    format!("{SESSION_COOKIE}={}", prepared.admin.cookie),
                ))
                .await
                .with_context(|| format!("GET /api/v1/cases/{id}"))?;
                v["event_seq"]
                    .as_i64()
                    .with_context(|| format!("case {id} has no event_seq"))
            }
            Backend::Peer { http, base, .. } => {
                let topic = format!("case:{}", idx + 1);
                let v: Value =
                    get_json(http.get(format!("{base}/head")).query(&[("topic", &topic)]))
                        .await
                        .context("GET /head")?;
                v["head"].as_i64().context("/head answered without head")
            }
        }
    }

    /// The heads of all cases, fetched a few at a time.
    pub async fn heads(&self) -> anyhow::Result<Vec<i64>> {
        stream::iter(0..self.cases())
            .map(|i| self.head(i))
            .buffered(16)
            .try_collect()
            .await
    }

    /// Posts `body` to case index `idx` as post number `n`; the error is a short kind for
    /// the tally.
    pub async fn post(&self, idx: usize, n: u64, body: String) -> Result<(), String> {
        let req = match self {
            Backend::Beraad {
                http,
                base,
                prepared,
            } => {
                let case = &prepared.cases[idx];
                let who = usize::try_from(n % u64::try_from(prepared.panelists.len()).unwrap_or(1))
                    .unwrap_or(0);
                let s = &prepared.panelists[who];
                http.post(format!("{base}/api/v1/cases/{}/posts", case.id))
                    .header("cookie", format!("{SESSION_COOKIE}={}", s.cookie))
                    .header("x-csrf-token", &s.csrf)
                    .json(&json!({"parent_id": case.root_id, "body": body}))
            }
            Backend::Peer { http, base, .. } => http
                .post(format!("{base}/publish"))
                .json(&json!({"topic": format!("case:{}", idx + 1), "body": body})),
        };
        match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                // Read the answer so the connection can be reused.
                let _ = resp.bytes().await;
                Ok(())
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                let code = resp
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
                Err(match code {
                    Some(c) => format!("post_{status}_{c}"),
                    None => format!("post_{status}"),
                })
            }
            Err(e) if e.is_timeout() => Err("post_timeout".to_owned()),
            Err(_) => Err("post_transport".to_owned()),
        }
    }
}

async fn get_json(req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let resp = req.send().await?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        bail!(
            "HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    Ok(resp.json().await?)
}

/// Sends a JSON write with the session, returns the JSON answer.
async fn write_json(
    http: &reqwest::Client,
    url: &str,
    session: &Session,
    body: &Value,
) -> anyhow::Result<Value> {
    let resp = http
        .post(url)
        .header("cookie", format!("{SESSION_COOKIE}={}", session.cookie))
        .header("x-csrf-token", &session.csrf)
        .json(body)
        .send()
        .await?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        bail!(
            "POST {url}: HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    Ok(resp.json().await?)
}

/// Logs in at `path` with `body`, retrying while the server answers `429`.
async fn login(http: &reqwest::Client, url: &str, body: &Value) -> anyhow::Result<Session> {
    for _attempt in 0..120 {
        let resp = http.post(url).json(body).send().await?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1)
                .clamp(1, 60);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            bail!(
                "login at {url}: HTTP {status}: {}",
                text.chars().take(300).collect::<String>()
            );
        }
        let cookie = resp
            .cookies()
            .find(|c| c.name() == SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .with_context(|| format!("login at {url} set no {SESSION_COOKIE} cookie"))?;
        let v: Value = resp.json().await?;
        let csrf = v["csrf_token"]
            .as_str()
            .with_context(|| format!("login at {url} answered without csrf_token"))?
            .to_owned();
        return Ok(Session { cookie, csrf });
    }
    bail!("login at {url}: still rate limited after two minutes; raise the server's login limits")
}

/// Creates `count` panelists with `beraad invites create` and returns their codes.
fn create_invites(args: &Args, count: usize) -> anyhow::Result<Vec<String>> {
    let mut codes = Vec::with_capacity(count);
    while codes.len() < count {
        let batch = (count - codes.len()).min(10_000);
        let out = std::process::Command::new(&args.beraad_bin)
            .args(["invites", "create", "--panel", &args.panel, "--count"])
            .arg(batch.to_string())
            .env("BERAAD_DATABASE_URL", &args.database_url)
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| {
                format!(
                    "cannot run {} (set --beraad-bin to the server binary)",
                    args.beraad_bin
                )
            })?;
        if !out.status.success() {
            bail!("{} invites create failed: {}", args.beraad_bin, out.status);
        }
        let got = parse_invite_codes(&out.stdout)?;
        anyhow::ensure!(
            got.len() == batch,
            "invites create printed {} codes, expected {batch}",
            got.len()
        );
        codes.extend(got);
    }
    Ok(codes)
}

/// The `code` column of the invitations CSV.
fn parse_invite_codes(csv_bytes: &[u8]) -> anyhow::Result<Vec<String>> {
    let mut r = csv::Reader::from_reader(csv_bytes);
    let col = r
        .headers()?
        .iter()
        .position(|h| h == "code")
        .context("the invitations CSV has no 'code' column")?;
    let mut codes = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        if let Some(c) = rec.get(col) {
            codes.push(c.to_owned());
        }
    }
    Ok(codes)
}

/// Prepares a Beraad run: admin login, K open cases with a root reaction each, N
/// logged-in panelists.
pub async fn prepare(args: &Args, http: &reqwest::Client) -> anyhow::Result<Prepared> {
    let base = args.base_urls()[0].clone();
    eprintln!("preparing on {base}: admin login");
    let admin = login(
        http,
        &format!("{base}/api/v1/auth/login"),
        &json!({"email": args.admin_email, "password": args.admin_password}),
    )
    .await
    .context("admin login failed (check --admin-email/--admin-password)")?;

    eprintln!("creating and opening {} cases", args.cases);
    let mut case_ids = Vec::with_capacity(args.cases);
    for i in 0..args.cases {
        let case = write_json(
            http,
            &format!("{base}/api/v1/cases"),
            &admin,
            &json!({
                "municipality": args.municipality,
                "title": format!("Belasting {}", i + 1),
                "domain": "wmo",
                "provision": "Test",
                "outcome": "afgewezen",
                "summary": "Belastingtest",
                "situation": "Situatie voor de belastingtest.",
                "decision": "Besluit voor de belastingtest.",
                "panels": [args.panel],
                "min_length": 1,
                "max_length": 10000,
                "max_depth": 3
            }),
        )
        .await
        .context("creating a case failed")?;
        let id = case["id"].as_i64().context("created case has no id")?;
        write_json(
            http,
            &format!("{base}/api/v1/cases/{id}/open"),
            &admin,
            &json!({}),
        )
        .await
        .context("opening a case failed")?;
        case_ids.push(id);
    }

    eprintln!(
        "inviting {} panelists with {}",
        args.panelists, args.beraad_bin
    );
    let codes = create_invites(args, args.panelists)?;
    eprintln!(
        "logging {} panelists in ({} at a time)",
        codes.len(),
        args.login_concurrency
    );
    let invite_url = format!("{base}/api/v1/auth/invite");
    let panelists: Vec<Session> = stream::iter(codes)
        .map(|code| {
            let url = invite_url.clone();
            async move { login(http, &url, &json!({ "code": code })).await }
        })
        .buffered(args.login_concurrency)
        .try_collect()
        .await
        .context("panelist login failed")?;

    eprintln!("posting a root reaction per case");
    let author = &panelists[0];
    let mut cases = Vec::with_capacity(case_ids.len());
    for id in case_ids {
        let post = write_json(
            http,
            &format!("{base}/api/v1/cases/{id}/posts"),
            author,
            &json!({"verdict": "eens", "body": "Wortel van de belastingtest."}),
        )
        .await
        .context("posting the root reaction failed")?;
        let root_id = post["id"].as_i64().context("root post has no id")?;
        cases.push(PreparedCase { id, root_id });
    }
    Ok(Prepared {
        base_url: base,
        prepared_at: chrono::Utc::now().to_rfc3339(),
        admin,
        cases,
        panelists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_codes_come_from_the_code_column() {
        let csv = b"code,pseudonym,panel,panel_name,municipality\n\
                    ABCD-EFGH-JKLM2,Rustige Reiger 1,utrecht,\"Panel, Utrecht\",utrecht\n\
                    NPQR-STUV-WXYZ3,Vrolijke Vink 2,utrecht,\"Panel, Utrecht\",utrecht\n";
        let codes = parse_invite_codes(csv).unwrap_or_default();
        assert_eq!(codes, vec!["ABCD-EFGH-JKLM2", "NPQR-STUV-WXYZ3"]);
    }

    #[test]
    fn state_files_round_trip() {
        let p = Prepared {
            base_url: "http://127.0.0.1:8080".into(),
            prepared_at: "now".into(),
            admin: Session {
                cookie: "a".into(),
                csrf: "b".into(),
            },
            cases: vec![PreparedCase { id: 9, root_id: 40 }],
            panelists: vec![Session {
                cookie: "c".into(),
                csrf: "d".into(),
            }],
        };
        let dir = std::env::temp_dir().join(format!("beraad-load-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("state.json");
        p.save(&path).expect("state written");
        let q = Prepared::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.cases[0].root_id, 40);
        assert_eq!(q.panelists[0].csrf, "d");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
