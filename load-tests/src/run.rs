//! One run of a scenario against one backend: connect the viewers, measure the server's
//! memory, post on a fixed timetable, optionally storm or slow some viewers down, drain,
//! compare positions with the case heads and build the report.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::SeedableRng;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::args::{Args, Distribution};
use crate::backend::Backend;
use crate::conn::{self, ConnSpec, Control, End, Shared};
use crate::dist::Chooser;
use crate::report::{MemoryReport, Report, SlowReport, StormReport};
use crate::stats::{Latency, Stats, get, inc};
use crate::util::{FromUsize, to_u64, unix_micros};

/// Where the viewers connect.
pub struct Endpoints {
    /// Base URLs (`http://host:port`), one per node.
    pub urls: Vec<String>,
    /// `Origin` header of the upgrade.
    pub origin: String,
    /// Server processes to measure.
    pub pids: Vec<u32>,
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            format!("{scheme}://{}", rest.split('/').next().unwrap_or_default())
        }
        None => url.to_owned(),
    }
}

/// `host:port` of an `http://` URL (port 80 when absent).
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or_default();
    if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !host.ends_with(']')
    {
        host.to_owned()
    } else {
        format!("{host}:80")
    }
}

/// Sum of the RSS of `pids`.
fn rss_sum(pids: &[u32]) -> anyhow::Result<u64> {
    let mut sum = 0;
    for &p in pids {
        sum += crate::util::rss_bytes(p)?;
    }
    Ok(sum)
}

/// A post body of `size` bytes starting with the send time: `lt:<unix µs>:<n> `.
pub fn make_body(sent_us: u64, n: u64, size: usize) -> String {
    const PAD: &str = "Belastingtest: de gemeente had eerder moeten kijken naar de situatie. ";
    let mut s = format!("lt:{sent_us}:{n} ");
    while s.len() < size {
        let need = size - s.len();
        s.push_str(&PAD[..need.min(PAD.len())]);
    }
    s
}

fn secs(us: u64) -> f64 {
    f64::from_u64(us) / 1e6
}

fn rate_per_sec(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        f64::from_u64(count) / secs
    } else {
        0.0
    }
}

/// Posts on a fixed timetable (open loop): post n is due at start + n/rate, whatever the
/// answers to earlier posts; its body carries that due time. Returns the posts sent.
async fn post_loop(
    backend: Arc<Backend>,
    chooser: Chooser,
    args: Args,
    stats: Arc<Stats>,
    per_case_ok: Arc<Vec<AtomicU64>>,
) -> u64 {
    let total = to_u64(args.rate * args.duration);
    let inflight = Arc::new(Semaphore::new(args.max_inflight));
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let start = tokio::time::Instant::now();
    let base_us = unix_micros();
    let mut tasks = JoinSet::new();
    for n in 0..total {
        let offset = Duration::from_secs_f64(f64::from_u64(n) / args.rate);
        tokio::time::sleep_until(start + offset).await;
        let case = chooser.sample(&mut rng);
        let sent_us = base_us + u64::try_from(offset.as_micros()).unwrap_or(u64::MAX);
        let body = make_body(sent_us, n, args.message_size);
        let backend = backend.clone();
        let stats = stats.clone();
        let inflight = inflight.clone();
        let per_case_ok = per_case_ok.clone();
        tasks.spawn(async move {
            let Ok(_permit) = inflight.acquire().await else {
                return;
            };
            let t0 = Instant::now();
            match backend.post(case, n, body).await {
                Ok(()) => {
                    let us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
                    stats.post_http.record(usize::try_from(n).unwrap_or(0), us);
                    inc(&stats.posts_ok);
                    inc(&per_case_ok[case]);
                }
                Err(kind) => {
                    inc(&stats.posts_failed);
                    stats.error(kind);
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    total
}

/// Whether connection `i` is one of the slow ones (spread evenly, `fraction` of all).
fn is_slow(i: usize, fraction: f64) -> bool {
    if fraction <= 0.0 {
        return false;
    }
    let before = (f64::from_usize(i) * fraction).floor();
    let after = (f64::from_usize(i + 1) * fraction).floor();
    after > before
}

/// Runs the scenario of `args` against `backend`.
pub async fn run(args: &Args, backend: Arc<Backend>, ep: &Endpoints) -> anyhow::Result<Report> {
    let k = backend.cases();
    let chooser = Chooser::new(args.distribution, k, args.zipf_s);
    let c = args.connections;

    // Resolve every node once.
    let mut nodes = Vec::new();
    for url in &ep.urls {
        let hp = host_port(url);
        let addr = tokio::net::lookup_host(&hp)
            .await
            .with_context(|| format!("cannot resolve {hp}"))?
            .next()
            .with_context(|| format!("{hp} resolves to nothing"))?;
        nodes.push((addr, format!("ws://{hp}/api/v1/ws")));
    }

    eprintln!(
        "[{}] {c} connections over {} node(s), {k} cases ({})",
        backend_name(&backend),
        nodes.len(),
        args.distribution.name()
    );
    let heads = backend.heads().await.context("reading the case heads")?;
    let topics: Vec<Arc<str>> = (0..k).map(|i| Arc::from(backend.topic(i))).collect();

    let rss_before = if ep.pids.is_empty() {
        None
    } else {
        Some(rss_sum(&ep.pids)?)
    };

    let stats = Arc::new(Stats::new());
    let (control_tx, control_rx) = watch::channel(Control::default());
    let shared = Arc::new(Shared {
        stats: stats.clone(),
        control: control_rx,
        connect_sem: Arc::new(Semaphore::new(args.connect_concurrency)),
        ramp_start: Instant::now(),
        run_start: Instant::now(),
        storm_start: OnceLock::new(),
        storm_targets: (0..k).map(|_| AtomicI64::new(i64::MAX)).collect(),
        ws_config: WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0)
            .max_message_size(Some(1 << 20))
            .max_frame_size(Some(1 << 20)),
        connect_timeout: Duration::from_secs_f64(args.connect_timeout),
        slow_rcvbuf: args.slow_rcvbuf,
    });

    // Viewers per case (healthy ones), for the expected deliveries.
    let mut healthy_per_case = vec![0u64; k];
    let mut n_slow = 0u64;
    let mut viewers = JoinSet::new();
    for i in 0..c {
        let case_idx = chooser.for_connection(i);
        let (addr, ws_url) = &nodes[i % nodes.len()];
        let slow = is_slow(i, args.slow_fraction);
        if slow {
            n_slow += 1;
        } else {
            healthy_per_case[case_idx] += 1;
        }
        let spec = ConnSpec {
            id: i,
            addr: *addr,
            ws_url: ws_url.clone(),
            cookie: backend.ws_cookie(i),
            origin: ep.origin.clone(),
            case_idx,
            topic: topics[case_idx].clone(),
            after: heads[case_idx],
            slow,
        };
        viewers.spawn(conn::run(spec, shared.clone()));
    }

    // The ramp: wait until every viewer is subscribed or has given up.
    let mut last_print = Instant::now();
    loop {
        let done = get(&stats.subscribed) + get(&stats.failed);
        if done >= u64::try_from(c).unwrap_or(u64::MAX) {
            break;
        }
        if last_print.elapsed() >= Duration::from_secs(2) {
            eprintln!(
                "  ramp: {} subscribed, {} failed of {c}",
                get(&stats.subscribed),
                get(&stats.failed)
            );
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ramp_secs = shared.ramp_start.elapsed().as_secs_f64();
    let connect_secs = secs(get(&stats.last_upgrade_at));
    let connect_per_sec = rate_per_sec(get(&stats.upgrades), connect_secs);
    eprintln!(
        "  ramp done in {ramp_secs:.2} s: {} subscribed, {} failed ({connect_per_sec:.0} upgrades/s)",
        get(&stats.subscribed),
        get(&stats.failed)
    );

    let memory = match rss_before {
        Some(before) => {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some(MemoryReport {
                pids: ep.pids.clone(),
                before_bytes: before,
                after_bytes: rss_sum(&ep.pids)?,
            })
        }
        None => None,
    };

    // Posting (or listening), with the storm on the side.
    let per_case_ok: Arc<Vec<AtomicU64>> = Arc::new((0..k).map(|_| AtomicU64::new(0)).collect());
    let post_start = Instant::now();
    let posting = (!args.no_post).then(|| {
        tokio::spawn(post_loop(
            backend.clone(),
            chooser.clone(),
            args.clone(),
            stats.clone(),
            per_case_ok.clone(),
        ))
    });
    let storm_at = args.storm_after.unwrap_or(args.duration / 2.0);
    let mut storm_viewers = 0u64;
    let mut died_at_storm = 0u64;
    if args.reconnect_storm {
        tokio::time::sleep(Duration::from_secs_f64(storm_at)).await;
        let targets = backend
            .heads()
            .await
            .context("reading heads for the storm")?;
        for (t, h) in shared.storm_targets.iter().zip(&targets) {
            t.store(*h, Ordering::Relaxed);
        }
        died_at_storm = get(&stats.died);
        storm_viewers =
            (get(&stats.subscribed) - get(&stats.slow_subscribed)).saturating_sub(died_at_storm);
        let _ = shared.storm_start.set(Instant::now());
        eprintln!("  storm: dropping {storm_viewers} connections");
        control_tx.send_modify(|c| c.storm += 1);
    }
    let posts_sent = match posting {
        Some(task) => task.await.unwrap_or(0),
        None => {
            let left = Duration::from_secs_f64(args.duration).saturating_sub(post_start.elapsed());
            tokio::time::sleep(left).await;
            0
        }
    };
    tokio::time::sleep(Duration::from_secs_f64(args.drain)).await;
    if args.reconnect_storm {
        let limit = Instant::now() + Duration::from_secs_f64(args.catch_up_timeout);
        while get(&stats.caught_up) + (get(&stats.died) - died_at_storm) < storm_viewers
            && Instant::now() < limit
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // The end: positions against heads.
    let final_heads = backend.heads().await.context("reading the final heads")?;
    control_tx.send_modify(|c| c.stop = true);
    let mut lost_tail = 0u64;
    let mut lost_on_closed = 0u64;
    while let Some(res) = viewers.join_next().await {
        let Ok(o) = res else {
            stats.error("viewer_task_panicked");
            continue;
        };
        if o.slow || o.end == End::Failed {
            continue;
        }
        let missing = u64::try_from(final_heads[o.case_idx] - o.last_seq).unwrap_or(0);
        match o.end {
            End::Alive => lost_tail += missing,
            End::Died => lost_on_closed += missing,
            End::Failed => {}
        }
    }

    let last_delivery = secs(get(&stats.last_delivery_at))
        - post_start.duration_since(shared.run_start).as_secs_f64();
    let window = last_delivery.max(args.duration);
    let deliveries = get(&stats.deliveries);
    let expected_deliveries = (!args.no_post).then(|| {
        per_case_ok
            .iter()
            .zip(&healthy_per_case)
            .map(|(ok, v)| get(ok) * v)
            .sum()
    });
    let lost_gaps = get(&stats.lost_gaps);
    let storm = args.reconnect_storm.then(|| {
        let caught_up = get(&stats.caught_up);
        let reconnect_secs = secs(get(&stats.last_reconnect_at));
        let all = caught_up + (get(&stats.died) - died_at_storm) >= storm_viewers;
        StormReport {
            at_secs: storm_at,
            viewers: storm_viewers,
            reconnects: get(&stats.reconnects),
            reconnect_secs,
            reconnect_per_sec: rate_per_sec(get(&stats.reconnects), reconnect_secs),
            caught_up,
            not_caught_up: storm_viewers.saturating_sub(caught_up),
            catch_up_secs: all.then(|| secs(get(&stats.caught_up_at))),
        }
    });
    let slow = (n_slow > 0).then(|| SlowReport {
        connections: get(&stats.slow_subscribed),
        resync_required: get(&stats.slow_resync),
        closed: get(&stats.slow_closed),
        still_open: get(&stats.slow_open),
    });
    let rss_per_connection_bytes = memory.as_ref().map(|m| {
        (f64::from_u64(m.after_bytes) - f64::from_u64(m.before_bytes)) / f64::from_usize(c.max(1))
    });
    Ok(Report {
        target: backend_name(&backend).to_owned(),
        nodes: nodes.len(),
        connections: c,
        subscribed: get(&stats.subscribed),
        failed_connections: get(&stats.failed),
        cases: k,
        distribution: args.distribution.name().to_owned(),
        zipf_s: (args.distribution == Distribution::Zipf).then_some(args.zipf_s),
        rate: if args.no_post { 0.0 } else { args.rate },
        duration: args.duration,
        message_size: args.message_size,
        posts_sent,
        posts_ok: get(&stats.posts_ok),
        posts_failed: get(&stats.posts_failed),
        post_http_us: Latency::of(&stats.post_http.merged()),
        deliveries,
        expected_deliveries,
        deliveries_per_sec: rate_per_sec(deliveries, window),
        latency_us: Latency::of(&stats.latency.merged()),
        connect_per_sec,
        connect_secs,
        ramp_secs,
        errors: stats.errors(),
        lost: lost_gaps + lost_tail,
        lost_gaps,
        lost_tail,
        lost_on_closed,
        duplicated: get(&stats.duplicated),
        died: get(&stats.died),
        presence_messages: get(&stats.presence),
        memory,
        rss_per_connection_bytes,
        catch_up_secs: storm.as_ref().and_then(|s| s.catch_up_secs),
        storm,
        slow,
    })
}

fn backend_name(b: &Backend) -> &'static str {
    match b {
        Backend::Beraad { .. } => "beraad",
        Backend::Peer { .. } => "peer",
    }
}

/// How many files this process will need for `args`.
pub fn files_needed(args: &Args) -> u64 {
    u64::try_from(args.connections + args.max_inflight + 256).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_size_and_the_timestamp() {
        let b = make_body(1_700_000_000_000_000, 7, 200);
        assert_eq!(b.len(), 200);
        assert!(b.starts_with("lt:1700000000000000:7 "));
        assert_eq!(crate::conn::sent_at(&b), Some(1_700_000_000_000_000));
        let short = make_body(1, 1, 10);
        assert!(short.len() >= 10);
    }

    #[test]
    fn slow_viewers_are_spread_evenly() {
        let n = (0..1000).filter(|&i| is_slow(i, 0.05)).count();
        assert_eq!(n, 50);
        assert_eq!((0..100).filter(|&i| is_slow(i, 0.0)).count(), 0);
        assert_eq!((0..100).filter(|&i| is_slow(i, 1.0)).count(), 100);
    }

    #[test]
    fn urls_give_origins_and_addresses() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080/x"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(host_port("http://127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(host_port("http://localhost"), "localhost:80");
        assert_eq!(host_port("http://[::1]:9000/"), "[::1]:9000");
        assert_eq!(host_port("http://[::1]"), "[::1]:80");
    }
}
