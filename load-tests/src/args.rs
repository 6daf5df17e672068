//! Command line of the load generator.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Which server the generator talks to.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// Beraad itself: log in, create cases and panelists, post through the API.
    Beraad,
    /// The Node broadcast peer (`load-tests/peers/ws-peer`): no auth, posts via `/publish`.
    Peer,
}

/// How viewers and posts are spread over the cases.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Every case alike.
    Uniform,
    /// Case i (from 1) weighs 1/i^s.
    Zipf,
}

impl Distribution {
    /// Lower-case name, as in the report.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::Uniform => "uniform",
            Distribution::Zipf => "zipf",
        }
    }
}

/// Load generator for Beraad's real-time endpoint `/api/v1/ws`.
///
/// Opens many WebSockets, subscribes each to one case, posts at a fixed rate (open loop)
/// and measures delivery latency, losses, duplicates, connection set-up rate and the
/// server's memory per connection.
#[derive(Parser, Debug, Clone)]
#[command(name = "beraad-load", version)]
pub struct Args {
    /// Server kind.
    #[arg(long, value_enum, default_value_t = TargetKind::Beraad)]
    pub target: TargetKind,
    /// Base URL of a node (repeat for several nodes; connections go round-robin, posts
    /// and preparation go to the first).
    #[arg(long = "url")]
    pub urls: Vec<String>,
    /// `Origin` header of the WebSocket upgrade (default: the first URL's origin).
    #[arg(long)]
    pub origin: Option<String>,

    /// Staff login used to create and open the cases (beraad).
    #[arg(long, default_value = "beheer@utrecht.demo")]
    pub admin_email: String,
    /// Password of that staff login.
    #[arg(long, default_value = "beraad-demo-2026")]
    pub admin_password: String,
    /// Municipality the cases belong to (beraad).
    #[arg(long, default_value = "utrecht")]
    pub municipality: String,
    /// Panel the cases are put before and the panelists are invited to (beraad).
    #[arg(long, default_value = "utrecht")]
    pub panel: String,
    /// The beraad binary, used for `invites create`.
    #[arg(long, default_value = "target/release/beraad")]
    pub beraad_bin: String,
    /// Database of the server, passed to `beraad invites create`.
    #[arg(
        long,
        env = "BERAAD_DATABASE_URL",
        default_value = "sqlite://data/beraad.db"
    )]
    pub database_url: String,
    /// Number of panelists to invite and log in; connections are spread over them.
    #[arg(long, default_value_t = 100)]
    pub panelists: usize,
    /// Panelist logins in flight at once.
    #[arg(long, default_value_t = 32)]
    pub login_concurrency: usize,
    /// Prepare (cases, panelists, root posts), write `--state` and exit.
    #[arg(long, requires = "state")]
    pub prepare_only: bool,
    /// Prepared state file: reused when it exists, written after preparing otherwise.
    #[arg(long)]
    pub state: Option<PathBuf>,

    /// Number of cases (topics).
    #[arg(long, default_value_t = 2)]
    pub cases: usize,
    /// Number of WebSocket connections held by this process.
    #[arg(long, default_value_t = 100)]
    pub connections: usize,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// Spread of viewers and posts over the cases.
    #[arg(long, value_enum, default_value_t = Distribution::Uniform)]
    pub distribution: Distribution,
    /// Exponent of the Zipf distribution.
    #[arg(long, default_value_t = 1.0)]
    pub zipf_s: f64,
    /// Posts per second (open loop, fixed timetable).
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Seconds of posting (with `--no-post`: seconds of listening).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Size of a post body in bytes (the timestamp prefix included).
    #[arg(long, default_value_t = 200)]
    pub message_size: usize,
    /// Only listen; another process posts.
    #[arg(long)]
    pub no_post: bool,
    /// Seconds to wait after posting before comparing positions with the case heads.
    #[arg(long, default_value_t = 3.0)]
    pub drain: f64,
    /// Posts in flight at once at most (beyond it posts queue, late, in the generator).
    #[arg(long, default_value_t = 512)]
    pub max_inflight: usize,
    /// Seconds a connection may take to open and be subscribed before it counts as failed.
    #[arg(long, default_value_t = 30.0)]
    pub connect_timeout: f64,
    /// Seed for the choice of cases for posts.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// PID of a server process whose resident memory to measure (repeatable).
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,

    /// Drop all connections at once during posting and reconnect them with `after`.
    #[arg(long)]
    pub reconnect_storm: bool,
    /// Seconds after posting starts at which the storm hits (default: half the duration).
    #[arg(long)]
    pub storm_after: Option<f64>,
    /// Seconds to wait at most for every reconnected viewer to catch up.
    #[arg(long, default_value_t = 60.0)]
    pub catch_up_timeout: f64,

    /// Fraction of connections that stop reading after subscribing.
    #[arg(long, default_value_t = 0.0)]
    pub slow_fraction: f64,
    /// Receive buffer (SO_RCVBUF) of slow connections in bytes; 0 keeps the system's.
    #[arg(long, default_value_t = 16384)]
    pub slow_rcvbuf: u32,

    /// Write the JSON report to this file (`-` for standard output).
    #[arg(long)]
    pub json: Option<String>,

    /// Run the scenario against beraad, then against the Node peer, and compare.
    #[arg(long)]
    pub compare_peer: bool,
    /// Port for the Node peer started by `--compare-peer`.
    #[arg(long, default_value_t = 18282)]
    pub peer_port: u16,
    /// Folder of the Node peer.
    #[arg(long, default_value = "load-tests/peers/ws-peer")]
    pub peer_dir: PathBuf,
    /// Node executable.
    #[arg(long, default_value = "node")]
    pub node_bin: String,
}

impl Args {
    /// The node URLs without trailing slashes (default `http://127.0.0.1:8080`).
    pub fn base_urls(&self) -> Vec<String> {
        if self.urls.is_empty() {
            vec!["http://127.0.0.1:8080".to_owned()]
        } else {
            self.urls
                .iter()
                .map(|u| u.trim_end_matches('/').to_owned())
                .collect()
        }
    }

    /// Checks the numbers before anything starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.cases >= 1, "--cases must be at least 1");
        anyhow::ensure!(
            self.rate > 0.0 && self.rate.is_finite(),
            "--rate must be positive"
        );
        anyhow::ensure!(
            self.duration >= 0.0 && self.duration.is_finite(),
            "--duration must not be negative"
        );
        anyhow::ensure!(
            self.drain >= 0.0 && self.drain.is_finite(),
            "--drain must not be negative"
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.slow_fraction),
            "--slow-fraction must be between 0 and 1"
        );
        anyhow::ensure!(
            self.zipf_s >= 0.0 && self.zipf_s.is_finite(),
            "--zipf-s must not be negative"
        );
        anyhow::ensure!(
            self.connect_concurrency >= 1,
            "--connect-concurrency must be at least 1"
        );
        anyhow::ensure!(self.max_inflight >= 1, "--max-inflight must be at least 1");
        anyhow::ensure!(self.panelists >= 1, "--panelists must be at least 1");
        anyhow::ensure!(
            self.login_concurrency >= 1,
            "--login-concurrency must be at least 1"
        );
        anyhow::ensure!(
            self.message_size >= 32,
            "--message-size must be at least 32 bytes"
        );
        anyhow::ensure!(
            !(self.compare_peer && self.target == TargetKind::Peer),
            "--compare-peer runs against beraad first; leave --target at beraad"
        );
        if let Some(at) = self.storm_after {
            anyhow::ensure!(
                at >= 0.0 && at <= self.duration,
                "--storm-after must lie within --duration"
            );
        }
        for u in self.base_urls() {
            anyhow::ensure!(
                u.starts_with("http://"),
                "--url must be an http:// address, got '{u}'"
            );
        }
        Ok(())
    }
}
