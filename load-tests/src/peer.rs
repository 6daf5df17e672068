//! Starting and stopping the Node broadcast peer (`load-tests/peers/ws-peer`) for
//! `--compare-peer`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// A running peer, stopped when dropped.
pub struct PeerProcess {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl PeerProcess {
    /// The peer's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the peer and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

/// The peer's folder: `dir` if it exists, else the one beside this crate's sources.
fn peer_dir(dir: &Path) -> PathBuf {
    if dir.join("server.js").exists() {
        return dir.to_path_buf();
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/ws-peer");
    if beside.join("server.js").exists() {
        beside
    } else {
        dir.to_path_buf()
    }
}

/// Installs the peer's dependencies if needed, starts it on `port` and waits until it
/// answers.
pub async fn start(
    dir: &Path,
    node: &str,
    port: u16,
    http: &reqwest::Client,
) -> anyhow::Result<PeerProcess> {
    let dir = peer_dir(dir);
    let server = dir.join("server.js");
    anyhow::ensure!(
        server.exists(),
        "no peer at {} (set --peer-dir)",
        server.display()
    );
    if !dir.join("node_modules").exists() {
        eprintln!("installing the peer's dependencies (npm install)");
        let status = Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&dir)
            .stdout(Stdio::null())
            .status()
            .await
            .context("cannot run npm")?;
        if !status.success() {
            bail!("npm install in {} failed: {status}", dir.display());
        }
    }
    let child = Command::new(node)
        .arg(&server)
        .arg("--port")
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {node} {}", server.display()))?;
    let mut peer = PeerProcess {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let limit = Instant::now() + Duration::from_secs(15);
    loop {
        let probe = http
            .get(format!("{}/head", peer.url))
            .query(&[("topic", "case:1")])
            .send()
            .await;
        if probe.is_ok_and(|r| r.status().is_success()) {
            return Ok(peer);
        }
        if let Ok(Some(status)) = peer.child.try_wait() {
            bail!("the peer exited at start: {status}");
        }
        if Instant::now() > limit {
            peer.stop().await;
            bail!("the peer did not answer on port {port} within 15 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
