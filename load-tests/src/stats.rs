//! Measurements shared by all connection tasks: latency histograms (sharded so that
//! thousands of tasks rarely meet on one lock), counters and error tallies.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest latency recorded exactly (one hour in microseconds); larger ones saturate.
const MAX_MICROS: u64 = 3_600_000_000;
/// Number of histogram shards.
const SHARDS: usize = 32;

/// A new latency histogram in microseconds with three significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant, valid histogram bounds")
}

/// A histogram split over shards, each behind its own lock.
pub struct ShardedHistogram {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl ShardedHistogram {
    fn new() -> Self {
        ShardedHistogram {
            shards: (0..SHARDS).map(|_| Mutex::new(new_histogram())).collect(),
        }
    }

    /// Records `micros` in the shard of `key`.
    pub fn record(&self, key: usize, micros: u64) {
        let shard = &self.shards[key % SHARDS];
        let mut h = shard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        h.saturating_record(micros.clamp(1, MAX_MICROS));
    }

    /// All shards added up.
    pub fn merged(&self) -> Histogram<u64> {
        let mut out = new_histogram();
        for s in &self.shards {
            let h = s.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Same bounds everywhere, so adding cannot fail.
            let _ = out.add(&*h);
        }
        out
    }
}

/// Percentiles of a latency histogram, in microseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    /// Number of samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
    /// Mean, rounded.
    pub mean: u64,
}

impl Latency {
    /// Percentiles of `h` (all zero when empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: crate::util::to_u64(h.mean()),
        }
    }
}

/// Everything the connections and the poster count.
pub struct Stats {
    /// Delivery latency of `post.created` events to healthy viewers.
    pub latency: ShardedHistogram,
    /// Round trip of the HTTP post requests.
    pub post_http: ShardedHistogram,
    /// `post.created` events with a generator timestamp received by healthy viewers.
    pub deliveries: AtomicU64,
    /// Microseconds since the run's start of the last delivery.
    pub last_delivery_at: AtomicU64,
    /// Sequence numbers skipped within a connection's stream.
    pub lost_gaps: AtomicU64,
    /// Sequence numbers received again (or going backwards).
    pub duplicated: AtomicU64,
    /// Events of any kind received (all connections).
    pub events: AtomicU64,
    /// Presence messages received.
    pub presence: AtomicU64,
    /// Successful WebSocket upgrades (the first connection of each viewer).
    pub upgrades: AtomicU64,
    /// Microseconds since the ramp's start of the last successful first upgrade.
    pub last_upgrade_at: AtomicU64,
    /// Viewers whose first subscription was answered.
    pub subscribed: AtomicU64,
    /// Slow viewers whose first subscription was answered.
    pub slow_subscribed: AtomicU64,
    /// Viewers that gave up during the ramp (failed upgrade, close, timeout).
    pub failed: AtomicU64,
    /// Healthy viewers that were subscribed and whose connection died since.
    pub died: AtomicU64,
    /// Successful upgrades after the storm.
    pub reconnects: AtomicU64,
    /// Microseconds since the storm of the last successful reconnect.
    pub last_reconnect_at: AtomicU64,
    /// Viewers that caught up with the case head after the storm.
    pub caught_up: AtomicU64,
    /// Microseconds since the storm at which the last viewer caught up.
    pub caught_up_at: AtomicU64,
    /// Posts acknowledged by the server.
    pub posts_ok: AtomicU64,
    /// Posts refused or failed.
    pub posts_failed: AtomicU64,
    /// Slow viewers that were told `resync_required`.
    pub slow_resync: AtomicU64,
    /// Slow viewers whose connection the server closed.
    pub slow_closed: AtomicU64,
    /// Slow viewers still open at the end.
    pub slow_open: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    /// All zero.
    pub fn new() -> Self {
        let zero = || AtomicU64::new(0);
        Stats {
            latency: ShardedHistogram::new(),
            post_http: ShardedHistogram::new(),
            deliveries: zero(),
            last_delivery_at: zero(),
            lost_gaps: zero(),
            duplicated: zero(),
            events: zero(),
            presence: zero(),
            upgrades: zero(),
            last_upgrade_at: zero(),
            subscribed: zero(),
            slow_subscribed: zero(),
            failed: zero(),
            died: zero(),
            reconnects: zero(),
            last_reconnect_at: zero(),
            caught_up: zero(),
            caught_up_at: zero(),
            posts_ok: zero(),
            posts_failed: zero(),
            slow_resync: zero(),
            slow_closed: zero(),
            slow_open: zero(),
            errors: Mutex::new(BTreeMap::new()),
        }
    }

    /// Counts one error of kind `kind`.
    pub fn error(&self, kind: impl Into<String>) {
        let mut e = self
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *e.entry(kind.into()).or_insert(0) += 1;
    }

    /// The error tallies so far.
    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Adds one to a counter.
pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Reads a counter.
pub fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_merge_into_one_histogram() {
        let h = ShardedHistogram::new();
        for i in 0..1000u64 {
            h.record(usize::try_from(i).unwrap_or(0), i + 1);
        }
        let l = Latency::of(&h.merged());
        assert_eq!(l.count, 1000);
        assert!((495..=505).contains(&l.p50), "{}", l.p50);
        assert!(l.max >= 1000 && l.max <= 1001);
    }

    #[test]
    fn errors_are_tallied_by_kind() {
        let s = Stats::new();
        s.error("upgrade_401");
        s.error("upgrade_401");
        s.error("ws_error_forbidden");
        let e = s.errors();
        assert_eq!(e.get("upgrade_401"), Some(&2));
        assert_eq!(e.len(), 2);
    }
}
