//! The result of a run: a JSON object and a readable table, and the comparison of a
//! Beraad run with a peer run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::stats::Latency;
use crate::util::FromUsize;

/// What happened in the reconnect storm.
#[derive(Debug, Clone, Serialize)]
pub struct StormReport {
    /// Seconds after posting started at which all connections were dropped.
    pub at_secs: f64,
    /// Healthy viewers connected when the storm hit.
    pub viewers: u64,
    /// Successful reconnections.
    pub reconnects: u64,
    /// Seconds from the drop to the last successful reconnection.
    pub reconnect_secs: f64,
    /// Reconnections per second over that time.
    pub reconnect_per_sec: f64,
    /// Viewers that saw the case head of the storm moment again.
    pub caught_up: u64,
    /// Viewers that did not within the wait.
    pub not_caught_up: u64,
    /// Seconds from the drop until the last viewer caught up (none if some never did).
    pub catch_up_secs: Option<f64>,
}

/// What happened to the viewers that stopped reading.
#[derive(Debug, Clone, Serialize)]
pub struct SlowReport {
    /// Slow viewers (subscribed).
    pub connections: u64,
    /// Told `resync_required`.
    pub resync_required: u64,
    /// Closed by the server (close frame, reset or end of stream).
    pub closed: u64,
    /// Still open at the end, never told anything.
    pub still_open: u64,
}

/// Server memory around the connection ramp.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryReport {
    /// PIDs measured (their RSS added up).
    pub pids: Vec<u32>,
    /// RSS before connecting.
    pub before_bytes: u64,
    /// RSS once all connections were subscribed.
    pub after_bytes: u64,
}

/// The result of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `beraad` or `peer`.
    pub target: String,
    /// Nodes the connections were spread over.
    pub nodes: usize,
    /// Connections attempted by this process.
    pub connections: usize,
    /// Connections that got subscribed.
    pub subscribed: u64,
    /// Connections that never got subscribed.
    pub failed_connections: u64,
    /// Cases (topics).
    pub cases: usize,
    /// `uniform` or `zipf`.
    pub distribution: String,
    /// Zipf exponent (when Zipf).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zipf_s: Option<f64>,
    /// Posts per second asked for (0 with `--no-post`).
    pub rate: f64,
    /// Seconds of posting (or listening).
    pub duration: f64,
    /// Post body size in bytes.
    pub message_size: usize,
    /// Posts scheduled and sent.
    pub posts_sent: u64,
    /// Posts the server acknowledged.
    pub posts_ok: u64,
    /// Posts that failed.
    pub posts_failed: u64,
    /// Round trip of the post requests (µs).
    pub post_http_us: Latency,
    /// `post.created` events with a generator timestamp received by healthy viewers.
    pub deliveries: u64,
    /// Posts acknowledged × this process's healthy viewers of their case (when posting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_deliveries: Option<u64>,
    /// Deliveries per second over the posting time (longer if deliveries lagged).
    pub deliveries_per_sec: f64,
    /// Delivery latency: receive time − the post's scheduled send time (µs).
    pub latency_us: Latency,
    /// Successful upgrades per second over the ramp.
    pub connect_per_sec: f64,
    /// Seconds from the first connection attempt to the last successful upgrade.
    pub connect_secs: f64,
    /// Seconds until every connection was subscribed or had failed.
    pub ramp_secs: f64,
    /// Error tallies by kind.
    pub errors: BTreeMap<String, u64>,
    /// Events never received: gaps within streams plus the distance to the case head at
    /// the end (live healthy viewers).
    pub lost: u64,
    /// Of which gaps within the streams.
    pub lost_gaps: u64,
    /// Of which missing at the end.
    pub lost_tail: u64,
    /// Events missed by viewers whose connection died (counted apart from `lost`).
    pub lost_on_closed: u64,
    /// Events received twice (or out of order).
    pub duplicated: u64,
    /// Healthy viewers whose connection died during the run.
    pub died: u64,
    /// Presence messages received.
    pub presence_messages: u64,
    /// Server memory, when `--server-pid` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryReport>,
    /// (RSS after − RSS before) / connections.
    pub rss_per_connection_bytes: Option<f64>,
    /// Reconnect storm: seconds until every viewer caught up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catch_up_secs: Option<f64>,
    /// Reconnect storm details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storm: Option<StormReport>,
    /// Slow reader details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow: Option<SlowReport>,
}

fn ms(us: u64) -> String {
    let ms = f64::from_u64(us) / 1000.0_f64;
    format!("{ms:.2} ms")
}

fn mib(bytes: f64) -> String {
    if bytes.abs() >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", bytes / 1024.0)
    }
}

impl Report {
    /// A readable table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let mut row = |k: &str, v: String| {
            let _ = writeln!(t, "  {k:<26} {v}");
        };
        row(
            "target",
            format!("{} ({} node(s))", self.target, self.nodes),
        );
        row(
            "connections",
            format!(
                "{} ({} subscribed, {} failed)",
                self.connections, self.subscribed, self.failed_connections
            ),
        );
        row(
            "cases",
            match self.zipf_s {
                Some(s) => format!("{} ({}, s = {s})", self.cases, self.distribution),
                None => format!("{} ({})", self.cases, self.distribution),
            },
        );
        row(
            "connect rate",
            format!(
                "{:.0}/s (last upgrade after {:.2} s; ramp {:.2} s)",
                self.connect_per_sec, self.connect_secs, self.ramp_secs
            ),
        );
        if let Some(m) = &self.memory {
            row(
                "server RSS",
                format!(
                    "{} → {} (pids {:?})",
                    mib(f64::from_u64(m.before_bytes)),
                    mib(f64::from_u64(m.after_bytes)),
                    m.pids
                ),
            );
        }
        if let Some(r) = self.rss_per_connection_bytes {
            row("RSS per connection", format!("{r:.0} bytes"));
        }
        row(
            "posting",
            format!(
                "{}/s for {} s, {} B bodies",
                self.rate, self.duration, self.message_size
            ),
        );
        row(
            "posts",
            format!(
                "{} sent, {} ok, {} failed",
                self.posts_sent, self.posts_ok, self.posts_failed
            ),
        );
        if self.post_http_us.count > 0 {
            row(
                "post round trip",
                format!(
                    "p50 {}  p99 {}  max {}",
                    ms(self.post_http_us.p50),
                    ms(self.post_http_us.p99),
                    ms(self.post_http_us.max)
                ),
            );
        }
        row(
            "deliveries",
            match self.expected_deliveries {
                Some(e) => format!(
                    "{} of {e} expected ({:.0}/s)",
                    self.deliveries, self.deliveries_per_sec
                ),
                None => format!("{} ({:.0}/s)", self.deliveries, self.deliveries_per_sec),
            },
        );
        let l = &self.latency_us;
        row(
            "latency",
            format!(
                "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
                ms(l.p50),
                ms(l.p90),
                ms(l.p99),
                ms(l.p999),
                ms(l.max)
            ),
        );
        row(
            "lost / duplicated",
            format!(
                "{} ({} gaps, {} at the end) / {}",
                self.lost, self.lost_gaps, self.lost_tail, self.duplicated
            ),
        );
        if self.died > 0 || self.lost_on_closed > 0 {
            row(
                "died connections",
                format!("{} (missed {} events)", self.died, self.lost_on_closed),
            );
        }
        row("presence messages", self.presence_messages.to_string());
        if let Some(s) = &self.storm {
            row(
                "storm",
                format!(
                    "at {:.1} s: {} viewers, {} reconnects in {:.2} s ({:.0}/s)",
                    s.at_secs, s.viewers, s.reconnects, s.reconnect_secs, s.reconnect_per_sec
                ),
            );
            row(
                "catch-up",
                match s.catch_up_secs {
                    Some(c) => format!("all {} caught up after {c:.2} s", s.caught_up),
                    None => format!("{} caught up, {} did NOT", s.caught_up, s.not_caught_up),
                },
            );
        }
        if let Some(s) = &self.slow {
            row(
                "slow readers",
                format!(
                    "{}: {} told resync_required, {} closed, {} still open",
                    s.connections, s.resync_required, s.closed, s.still_open
                ),
            );
        }
        if self.errors.is_empty() {
            row("errors", "none".to_owned());
        } else {
            row("errors", String::new());
            for (k, v) in &self.errors {
                let _ = writeln!(t, "    {k:<40} {v}");
            }
        }
        t
    }
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b != 0.0 && a.is_finite() && b.is_finite()).then(|| a / b)
}

/// The ratios beraad/peer of a comparison.
pub fn ratios(beraad: &Report, peer: &Report) -> Value {
    let f = <f64 as FromUsize>::from_u64;
    json!({
        "deliveries_per_sec": ratio(beraad.deliveries_per_sec, peer.deliveries_per_sec),
        "p50": ratio(f(beraad.latency_us.p50), f(peer.latency_us.p50)),
        "p99": ratio(f(beraad.latency_us.p99), f(peer.latency_us.p99)),
        "connect_per_sec": ratio(beraad.connect_per_sec, peer.connect_per_sec),
        "rss_per_connection_bytes": match (beraad.rss_per_connection_bytes, peer.rss_per_connection_bytes) {
            (Some(a), Some(b)) => ratio(a, b),
            _ => None,
        },
    })
}

/// A readable comparison.
pub fn comparison_table(beraad: &Report, peer: &Report) -> String {
    let r = ratios(beraad, peer);
    let show = |v: &Value| v.as_f64().map_or("-".to_owned(), |x| format!("{x:.2}"));
    let mut t = String::new();
    let _ = writeln!(
        t,
        "  {:<26} {:>14} {:>14} {:>8}",
        "", "beraad", "peer", "ratio"
    );
    let _ = writeln!(
        t,
        "  {:<26} {:>14.0} {:>14.0} {:>8}",
        "deliveries/s",
        beraad.deliveries_per_sec,
        peer.deliveries_per_sec,
        show(&r["deliveries_per_sec"])
    );
    let _ = writeln!(
        t,
        "  {:<26} {:>14} {:>14} {:>8}",
        "latency p50",
        ms(beraad.latency_us.p50),
        ms(peer.latency_us.p50),
        show(&r["p50"])
    );
    let _ = writeln!(
        t,
        "  {:<26} {:>14} {:>14} {:>8}",
        "latency p99",
        ms(beraad.latency_us.p99),
        ms(peer.latency_us.p99),
        show(&r["p99"])
    );
    let _ = writeln!(
        t,
        "  {:<26} {:>14.0} {:>14.0} {:>8}",
        "connects/s",
        beraad.connect_per_sec,
        peer.connect_per_sec,
        show(&r["connect_per_sec"])
    );
    let rss = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.0} B"));
    let _ = writeln!(
        t,
        "  {:<26} {:>14} {:>14} {:>8}",
        "RSS per connection",
        rss(beraad.rss_per_connection_bytes),
        rss(peer.rss_per_connection_bytes),
        show(&r["rss_per_connection_bytes"])
    );
    let _ = writeln!(
        t,
        "  {:<26} {:>14} {:>14}",
        "lost / duplicated",
        format!("{}/{}", beraad.lost, beraad.duplicated),
        format!("{}/{}", peer.lost, peer.duplicated)
    );
    t
}
