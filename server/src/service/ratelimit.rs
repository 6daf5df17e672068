//! Rate limits on what panelists write: posts, replies, weighings and flags, per actor.
//!
//! Every limit is a GCRA ("generic cell rate algorithm") bucket: one token comes back
//! every [`Rate::per_seconds`], and up to [`Rate::burst`] may be spent at once. Over the
//! limit a check answers [`Error::RateLimited`] with the whole seconds to wait (at least
//! one), before anything is stored.
//!
//! Two implementations of [`ActionLimiter`]:
//! - [`LocalLimiter`] keeps the buckets in this process (governor keyed limiters), the
//!   default for a single node;
//! - [`RedisLimiter`] keeps them in Redis, so the limits hold for all nodes together,
//!   with the same arithmetic as governor, a Lua script and Redis's own clock. When Redis
//!   cannot be reached it fails *open* to a per-node [`LocalLimiter`] (see there why).

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::error::{Error, Result};

/// Something a panelist does that is rate-limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitedAction {
    /// A new top-level post (a reaction to the case).
    Post,
    /// A reply to a post.
    Reply,
    /// A weighing of a post.
    Weighing,
    /// A flag raised on a post.
    Flag,
}

impl LimitedAction {
    /// Every action, in a fixed order.
    pub const ALL: [LimitedAction; 4] = [
        LimitedAction::Post,
        LimitedAction::Reply,
        LimitedAction::Weighing,
        LimitedAction::Flag,
    ];

    /// The built-in rate of this action.
    pub fn default_quota(self) -> Rate {
        match self {
            LimitedAction::Post => Rate::new(10.0, 3),
            LimitedAction::Reply => Rate::new(5.0, 5),
            LimitedAction::Weighing => Rate::new(1.0, 30),
            LimitedAction::Flag => Rate::new(30.0, 5),
        }
    }

    /// A stable name, used in Redis keys and logs: `post`, `reply`, `weighing`, `flag`.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitedAction::Post => "post",
            LimitedAction::Reply => "reply",
            LimitedAction::Weighing => "weighing",
            LimitedAction::Flag => "flag",
        }
    }
}

impl std::fmt::Display for LimitedAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Shortest period a rate may have; anything shorter (zero, negative, NaN) counts as this.
const MIN_PERIOD: Duration = Duration::from_millis(1);
/// Longest period a rate may have (a year); longer or infinite counts as this.
const MAX_PERIOD: Duration = Duration::from_secs(365 * 24 * 3600);
/// Longest a full bucket may take to fill (a century), so that governor's nanosecond
/// arithmetic cannot overflow; a larger burst counts as the largest that fits.
const MAX_WINDOW: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// One rate: a token every `per_seconds`, at most `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// One token comes back every this many seconds (kept between 1 ms and a year).
    pub per_seconds: f64,
    /// How many actions may follow each other at once (0 counts as 1; capped so a full
    /// bucket fills in at most a century).
    pub burst: u32,
}

impl Rate {
    /// A token every `per_seconds`, at most `burst` at once.
    pub const fn new(per_seconds: f64, burst: u32) -> Self {
        Rate { per_seconds, burst }
    }

    /// The time one token takes to come back, within sane bounds.
    pub fn period(self) -> Duration {
        // `f64::max` ignores NaN, so NaN becomes the minimum.
        let secs = self
            .per_seconds
            .max(MIN_PERIOD.as_secs_f64())
            .min(MAX_PERIOD.as_secs_f64());
        Duration::try_from_secs_f64(secs).unwrap_or(MIN_PERIOD)
    }

    /// The burst: at least one, at most what fills in a century at [`Rate::period`].
    pub fn burst(self) -> NonZeroU32 {
        let fits = MAX_WINDOW.as_nanos() / self.period().as_nanos().max(1);
        let cap = u32::try_from(fits).unwrap_or(u32::MAX);
        NonZeroU32::new(self.burst.min(cap)).unwrap_or(NonZeroU32::MIN)
    }

    fn quota(self) -> Quota {
        Quota::with_period(self.period())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(self.burst())
    }
}

/// The rates of all limited actions (part of the service settings).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    /// New top-level posts.
    pub post: Rate,
    /// Replies.
    pub reply: Rate,
    /// Weighings.
    pub weighing: Rate,
    /// Flags.
    pub flag: Rate,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            post: LimitedAction::Post.default_quota(),
            reply: LimitedAction::Reply.default_quota(),
            weighing: LimitedAction::Weighing.default_quota(),
            flag: LimitedAction::Flag.default_quota(),
        }
    }
}

impl RateLimits {
    /// Limits so high they never bind (the demo seed and tests of other rules).
    pub fn unlimited() -> Self {
        let r = Rate::new(0.001, 1_000_000);
        RateLimits {
            post: r,
            reply: r,
            weighing: r,
            flag: r,
        }
    }

    /// Parses `post=10/3,reply=5/5,weighing=1/30,flag=30/5` (seconds per action / burst);
    /// actions not named keep their defaults.
    pub fn parse(spec: &str) -> std::result::Result<Self, String> {
        let mut limits = RateLimits::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, rate) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not ACTION=SECONDS/BURST"))?;
            let (secs, burst) = rate
                .split_once('/')
                .ok_or_else(|| format!("'{rate}' is not SECONDS/BURST"))?;
            let secs: f64 = secs
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0)
                .ok_or_else(|| format!("'{secs}' is not a positive number of seconds"))?;
            let burst: u32 = burst
                .trim()
                .parse()
                .ok()
                .filter(|b| *b > 0)
                .ok_or_else(|| format!("'{burst}' is not a positive burst"))?;
            let slot = match name.trim() {
                "post" => &mut limits.post,
                "reply" => &mut limits.reply,
                "weighing" => &mut limits.weighing,
                "flag" => &mut limits.flag,
                other => {
                    return Err(format!(
                        "unknown action '{other}' (post, reply, weighing, flag)"
                    ));
                }
            };
            *slot = Rate::new(secs, burst);
        }
        Ok(limits)
    }

    /// The rate of `action`.
    pub fn rate(&self, action: LimitedAction) -> Rate {
        match action {
            LimitedAction::Post => self.post,
            LimitedAction::Reply => self.reply,
            LimitedAction::Weighing => self.weighing,
            LimitedAction::Flag => self.flag,
        }
    }
}

/// The future a check returns.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// Counts actions per key and refuses those over the limit.
pub trait ActionLimiter: Send + Sync + 'static {
    /// Counts one `action` by `key` (e.g. `panelist:7`): `Ok` if allowed (and counted),
    /// else [`Error::RateLimited`] with at least one second to wait (and nothing counted).
    fn check<'a>(&'a self, action: LimitedAction, key: &'a str) -> CheckFuture<'a>;

    /// Forgets idle state; meant for the periodic housekeeping. Does nothing by default.
    fn shrink(&self) {}
}

/// The error for a wait of `wait`, rounded up to whole seconds, at least one; counted
/// as a refusal of `action`.
fn limited(action: LimitedAction, wait: Duration) -> Error {
    crate::metrics::rate_limited(action.as_str());
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Error::RateLimited {
        retry_after_secs: secs.max(1),
    }
}

type KeyedLimiter<C> =
    RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// In-process limits: one governor keyed limiter per action, keyed by actor. Generic over
/// the governor clock so tests can use `governor::clock::FakeRelativeClock`.
pub struct LocalLimiter<C: Clock = DefaultClock> {
    post: KeyedLimiter<C>,
    reply: KeyedLimiter<C>,
    weighing: KeyedLimiter<C>,
    flag: KeyedLimiter<C>,
}

impl LocalLimiter<DefaultClock> {
    /// Limits with the given rates on the real clock.
    pub fn new(limits: RateLimits) -> Self {
        LocalLimiter::with_clock(limits, DefaultClock::default())
    }
}

impl<C: Clock + Clone> LocalLimiter<C> {
    /// Limits with the given rates on `clock`.
    pub fn with_clock(limits: RateLimits, clock: C) -> Self {
        let make = |action| {
            RateLimiter::new(
                limits.rate(action).quota(),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            )
        };
        LocalLimiter {
            post: make(LimitedAction::Post),
            reply: make(LimitedAction::Reply),
            weighing: make(LimitedAction::Weighing),
            flag: make(LimitedAction::Flag),
        }
    }

    fn limiter(&self, action: LimitedAction) -> &KeyedLimiter<C> {
        match action {
            LimitedAction::Post => &self.post,
            LimitedAction::Reply => &self.reply,
            LimitedAction::Weighing => &self.weighing,
            LimitedAction::Flag => &self.flag,
        }
    }

    /// Counts one `action` by `key` at once (the synchronous form of
    /// [`ActionLimiter::check`]).
    pub fn check_now(&self, action: LimitedAction, key: &str) -> Result<()> {
        let limiter = self.limiter(action);
        limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| limited(action, not_until.wait_time_from(limiter.clock().now())))
    }

    /// Drops the state of keys that are back to a full bucket.
    pub fn shrink(&self) {
        for action in LimitedAction::ALL {
            let limiter = self.limiter(action);
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

impl<C> ActionLimiter for LocalLimiter<C>
where
    C: Clock + Clone + Send + Sync + 'static,
    C::Instant: Send + Sync,
{
    fn check<'a>(&'a self, action: LimitedAction, key: &'a str) -> CheckFuture<'a> {
        Box::pin(std::future::ready(self.check_now(action, key)))
    }

    fn shrink(&self) {
        LocalLimiter::shrink(self);
    }
}

/// GCRA on one key, atomically, with Redis's clock (so the nodes' clocks do not matter).
/// `KEYS[1]`: the bucket; `ARGV[1]`: emission interval in ms; `ARGV[2]`: burst tolerance
/// in ms (interval × (burst − 1)). The key holds the theoretical arrival time (TAT) in ms
/// and expires when the bucket is full again. Returns 0 when allowed (and counted), else
/// the milliseconds to wait (nothing counted). Same arithmetic as governor.
const GCRA_SCRIPT: &str = r"
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return wait end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat))
redis.call('PEXPIRE', KEYS[1], new_tat - now)
return 0
";

/// Prefix of the bucket keys: `beraad:rl:{action}:{key}`.
const KEY_PREFIX: &str = "beraad:rl:";
/// After a failure, Redis is not tried again for this long (the fallback answers).
const RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// At most one warning about an unreachable Redis per this period.
const WARN_EVERY: Duration = Duration::from_secs(30);
/// How long connecting may take before the fallback answers.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one script call may take before the fallback answers.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// The connection to Redis, if any.
#[derive(Default)]
struct Link {
    conn: Option<redis::aio::MultiplexedConnection>,
    /// SHA-1 of the loaded script, as `SCRIPT LOAD` answered.
    sha: Option<String>,
    /// Counts connections, so a failure on an old one does not drop a newer one.
    generation: u64,
    /// Not before this instant is Redis tried again.
    retry_at: Option<Instant>,
    /// Whether the last attempt failed (to log the recovery once).
    down: bool,
}

/// Limits shared by all nodes through Redis: the same GCRA as [`LocalLimiter`], one Lua
/// script per check (`EVALSHA`) on key `beraad:rl:{action}:{key}`, timed by Redis's
/// `TIME`.
///
/// **Fails open.** When Redis cannot be reached (or errs, or is slow), the check is
/// answered by a per-node [`LocalLimiter`] with the same rates instead of failing the
/// request: these limits only slow down floods of writing, they guard no secret (login
/// throttles are separate), and refusing every post while Redis restarts would silence
/// the whole forum. So during an outage each panelist gets at most the limit *per node*,
/// and a warning is logged at most once every 30 s. Redis is tried again after a second;
/// the connection is rebuilt after any error.
pub struct RedisLimiter {
    client: redis::Client,
    limits: RateLimits,
    link: tokio::sync::Mutex<Link>,
    fallback: LocalLimiter,
    last_warning: Mutex<Option<Instant>>,
    failures: AtomicU64,
}

impl RedisLimiter {
    /// Limits on the Redis at `url`. Fails only for a malformed URL; Redis is connected
    /// on first use (and the fallback answers until it is reachable).
    pub fn new(url: &str, limits: RateLimits) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("BERAAD_REDIS_URL is not a valid Redis URL: {e}"))?;
        Ok(RedisLimiter::with_client(client, limits))
    }

    /// Limits on the Redis behind `client`.
    pub fn with_client(client: redis::Client, limits: RateLimits) -> Self {
        RedisLimiter {
            client,
            limits,
            link: tokio::sync::Mutex::new(Link::default()),
            fallback: LocalLimiter::new(limits),
            last_warning: Mutex::new(None),
            failures: AtomicU64::new(0),
        }
    }

    /// A usable connection and the script's SHA, connecting (and loading the script) if
    /// needed; `None` while Redis is down (after a failure, for [`RECONNECT_DELAY`]).
    async fn connection(&self) -> Option<(redis::aio::MultiplexedConnection, String, u64)> {
        let mut link = self.link.lock().await;
        if let (Some(conn), Some(sha)) = (&link.conn, &link.sha) {
            return Some((conn.clone(), sha.clone(), link.generation));
        }
        if link.retry_at.is_some_and(|at| Instant::now() < at) {
            return None;
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let connected = async {
            let mut conn = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            let sha = load_script(&mut conn).await?;
            Ok::<_, redis::RedisError>((conn, sha))
        }
        .await;
        match connected {
            Ok((conn, sha)) => {
                link.generation += 1;
                link.conn = Some(conn.clone());
                link.sha = Some(sha.clone());
                link.retry_at = None;
                if link.down {
                    link.down = false;
                    tracing::info!("redis rate limiter connected again; limits are shared");
                }
                Some((conn, sha, link.generation))
            }
            Err(e) => {
                link.conn = None;
                link.retry_at = Some(Instant::now() + RECONNECT_DELAY);
                link.down = true;
                drop(link);
                self.warn(&e);
                None
            }
        }
    }

    /// Forgets connection `generation` after an error on it.
    async fn failed(&self, generation: u64, e: &redis::RedisError) {
        {
            let mut link = self.link.lock().await;
            if link.generation == generation {
                link.conn = None;
                link.retry_at = Some(Instant::now() + RECONNECT_DELAY);
                link.down = true;
            }
        }
        self.warn(e);
    }

    /// Logs that Redis failed, at most once per [`WARN_EVERY`].
    fn warn(&self, e: &redis::RedisError) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last_warning.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.is_none_or(|at| now.duration_since(at) >= WARN_EVERY) {
            *last = Some(now);
            self.failures.store(0, Ordering::Relaxed);
            tracing::warn!(
                error = %e,
                failures,
                "redis rate limiter unavailable; limits hold per node until it is back"
            );
        }
    }

    /// Runs the check in Redis: `Some(wait_ms)` (0 = allowed), or `None` when Redis could
    /// not answer.
    async fn check_shared(&self, action: LimitedAction, key: &str) -> Option<u64> {
        let (mut conn, sha, generation) = self.connection().await?;
        let rate = self.limits.rate(action);
        let interval_ms = u64::try_from(rate.period().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let tolerance_ms = interval_ms.saturating_mul(u64::from(rate.burst().get() - 1));
        let bucket = format!("{KEY_PREFIX}{}:{key}", action.as_str());
        let mut answer = eval(&mut conn, &sha, &bucket, interval_ms, tolerance_ms).await;
        if let Err(e) = &answer
            && e.code() == Some("NOSCRIPT")
        {
            // The script cache was flushed (e.g. `SCRIPT FLUSH`): load it again, once.
            answer = match load_script(&mut conn).await {
                Ok(sha) => {
                    let result = eval(&mut conn, &sha, &bucket, interval_ms, tolerance_ms).await;
                    let mut link = self.link.lock().await;
                    if link.generation == generation {
                        link.sha = Some(sha);
                    }
                    result
                }
                Err(e) => Err(e),
            };
        }
        match answer {
            Ok(wait_ms) => Some(u64::try_from(wait_ms).unwrap_or(0)),
            Err(e) => {
                self.failed(generation, &e).await;
                None
            }
        }
    }
}

async fn load_script(conn: &mut redis::aio::MultiplexedConnection) -> redis::RedisResult<String> {
    redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(GCRA_SCRIPT)
        .query_async(conn)
        .await
}

async fn eval(
    conn: &mut redis::aio::MultiplexedConnection,
    sha: &str,
    bucket: &str,
    interval_ms: u64,
    tolerance_ms: u64,
) -> redis::RedisResult<i64> {
    redis::cmd("EVALSHA")
        .arg(sha)
        .arg(1)
        .arg(bucket)
        .arg(interval_ms)
        .arg(tolerance_ms)
        .query_async(conn)
        .await
}

impl ActionLimiter for RedisLimiter {
    fn check<'a>(&'a self, action: LimitedAction, key: &'a str) -> CheckFuture<'a> {
        Box::pin(async move {
            match self.check_shared(action, key).await {
                Some(0) => Ok(()),
                Some(wait_ms) => Err(limited(action, Duration::from_millis(wait_ms))),
                // Fail open to this node's own limits (see the type's documentation).
                None => self.fallback.check_now(action, key),
            }
        })
    }

    fn shrink(&self) {
        self.fallback.shrink();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn retry_after(r: Result<()>) -> u64 {
        match r {
            Err(Error::RateLimited { retry_after_secs }) => retry_after_secs,
            other => panic!("expected rate_limited, got {other:?}"),
        }
    }

    fn fake() -> (LocalLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (
            LocalLimiter::with_clock(RateLimits::default(), clock.clone()),
            clock,
        )
    }

    #[test]
    fn defaults_and_names_are_stable() {
        let limits = RateLimits::default();
        assert_eq!(limits.rate(LimitedAction::Post), Rate::new(10.0, 3));
        assert_eq!(limits.rate(LimitedAction::Reply), Rate::new(5.0, 5));
        assert_eq!(limits.rate(LimitedAction::Weighing), Rate::new(1.0, 30));
        assert_eq!(limits.rate(LimitedAction::Flag), Rate::new(30.0, 5));
        let names: Vec<_> = LimitedAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names, ["post", "reply", "weighing", "flag"]);
    }

    #[test]
    fn odd_rates_are_kept_sane() {
        assert_eq!(Rate::new(0.0, 0).period(), MIN_PERIOD);
        assert_eq!(Rate::new(f64::NAN, 1).period(), MIN_PERIOD);
        assert_eq!(Rate::new(-5.0, 1).period(), MIN_PERIOD);
        assert_eq!(Rate::new(f64::INFINITY, 1).period(), MAX_PERIOD);
        assert_eq!(Rate::new(0.0, 0).burst().get(), 1);
        assert_eq!(Rate::new(f64::INFINITY, u32::MAX).burst().get(), 100);
        assert_eq!(Rate::new(0.001, u32::MAX).burst().get(), u32::MAX);
        // Building limiters from them does not panic.
        let odd = Rate::new(f64::NAN, 0);
        let limits = RateLimits {
            post: odd,
            reply: odd,
            weighing: odd,
            flag: Rate::new(f64::INFINITY, u32::MAX),
        };
        let limiter = LocalLimiter::new(limits);
        assert!(limiter.check_now(LimitedAction::Flag, "k").is_ok());
    }

    #[test]
    fn post_burst_then_refused_then_allowed_after_ten_seconds() {
        let (limiter, clock) = fake();
        for _ in 0..3 {
            assert!(limiter.check_now(LimitedAction::Post, "panelist:1").is_ok());
        }
        let wait = retry_after(limiter.check_now(LimitedAction::Post, "panelist:1"));
        assert_eq!(wait, 10);
        // A refusal counts nothing: still refused, still ten seconds.
        assert_eq!(
            retry_after(limiter.check_now(LimitedAction::Post, "panelist:1")),
            10
        );
        clock.advance(Duration::from_secs(10));
        assert!(limiter.check_now(LimitedAction::Post, "panelist:1").is_ok());
        assert!(
            limiter
                .check_now(LimitedAction::Post, "panelist:1")
                .is_err()
        );
    }

    #[test]
    fn keys_are_independent() {
        let (limiter, _clock) = fake();
        for _ in 0..3 {
            assert!(limiter.check_now(LimitedAction::Post, "panelist:1").is_ok());
        }
        assert!(
            limiter
                .check_now(LimitedAction::Post, "panelist:1")
                .is_err()
        );
        for _ in 0..3 {
            assert!(limiter.check_now(LimitedAction::Post, "panelist:2").is_ok());
        }
        assert!(
            limiter
                .check_now(LimitedAction::Post, "panelist:2")
                .is_err()
        );
    }

    #[test]
    fn actions_are_independent() {
        let (limiter, _clock) = fake();
        for _ in 0..3 {
            assert!(limiter.check_now(LimitedAction::Post, "panelist:1").is_ok());
        }
        assert!(
            limiter
                .check_now(LimitedAction::Post, "panelist:1")
                .is_err()
        );
        assert!(
            limiter
                .check_now(LimitedAction::Weighing, "panelist:1")
                .is_ok()
        );
        assert!(
            limiter
                .check_now(LimitedAction::Reply, "panelist:1")
                .is_ok()
        );
        assert!(limiter.check_now(LimitedAction::Flag, "panelist:1").is_ok());
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let (limiter, clock) = fake();
        for _ in 0..30 {
            assert!(limiter.check_now(LimitedAction::Weighing, "p").is_ok());
        }
        // The next token is under a second away: rounded up to one.
        assert_eq!(
            retry_after(limiter.check_now(LimitedAction::Weighing, "p")),
            1
        );
        clock.advance(Duration::from_millis(999));
        assert_eq!(
            retry_after(limiter.check_now(LimitedAction::Weighing, "p")),
            1
        );
        // Partial seconds round up.
        for _ in 0..3 {
            assert!(limiter.check_now(LimitedAction::Post, "p").is_ok());
        }
        clock.advance(Duration::from_millis(500));
        assert_eq!(retry_after(limiter.check_now(LimitedAction::Post, "p")), 10);
        clock.advance(Duration::from_millis(9_400));
        assert_eq!(retry_after(limiter.check_now(LimitedAction::Post, "p")), 1);
    }

    #[tokio::test]
    async fn trait_object_and_shrink() {
        let clock = FakeRelativeClock::default();
        let limiter: std::sync::Arc<dyn ActionLimiter> = std::sync::Arc::new(
            LocalLimiter::with_clock(RateLimits::default(), clock.clone()),
        );
        for _ in 0..5 {
            assert!(limiter.check(LimitedAction::Flag, "p").await.is_ok());
        }
        assert_eq!(
            retry_after(limiter.check(LimitedAction::Flag, "p").await),
            30
        );
        limiter.shrink();
        // Shrinking keeps a bucket that is not full again.
        assert!(limiter.check(LimitedAction::Flag, "p").await.is_err());
        clock.advance(Duration::from_secs(300));
        limiter.shrink();
        assert!(limiter.check(LimitedAction::Flag, "p").await.is_ok());
    }

    /// A `redis-server` of this test's own on a free port, killed on drop.
    struct RedisServer {
        child: std::process::Child,
        port: u16,
    }

    impl RedisServer {
        fn start() -> RedisServer {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let child = std::process::Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("redis-server is installed");
            let server = RedisServer { child, port };
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            panic!("redis-server did not start on port {port}");
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/", self.port)
        }
    }

    impl Drop for RedisServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    #[tokio::test]
    async fn redis_limiter_shares_limits_between_nodes_and_fails_open() {
        let redis = RedisServer::start();
        let node_a = RedisLimiter::new(&redis.url(), RateLimits::default()).expect("url");
        let node_b = RedisLimiter::new(&redis.url(), RateLimits::default()).expect("url");
        let who = "panelist:1";

        // Three posts in total, over both nodes (per node, b would still have two left).
        assert!(node_a.check(LimitedAction::Post, who).await.is_ok());
        assert!(node_b.check(LimitedAction::Post, who).await.is_ok());
        assert!(node_a.check(LimitedAction::Post, who).await.is_ok());
        let wait = retry_after(node_b.check(LimitedAction::Post, who).await);
        assert!((9..=10).contains(&wait), "retry after {wait}");
        let wait = retry_after(node_a.check(LimitedAction::Post, who).await);
        assert!((9..=10).contains(&wait), "retry after {wait}");

        // Other panelists and other actions have their own buckets.
        assert!(
            node_b
                .check(LimitedAction::Post, "panelist:2")
                .await
                .is_ok()
        );
        assert!(node_b.check(LimitedAction::Weighing, who).await.is_ok());

        // The bucket is one key holding the TAT in ms, expiring when full again.
        let client = redis::Client::open(redis.url()).expect("url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        let ttl: i64 = redis::cmd("PTTL")
            .arg("beraad:rl:post:panelist:1")
            .query_async(&mut conn)
            .await
            .expect("pttl");
        assert!((20_000..=30_000).contains(&ttl), "pttl {ttl}");

        // A flushed script cache is reloaded transparently.
        let () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut conn)
            .await
            .expect("flush");
        assert!(node_a.check(LimitedAction::Reply, who).await.is_ok());
        assert!(node_a.check(LimitedAction::Post, who).await.is_err());

        // Redis goes away: the limiters still answer, from each node's own buckets.
        drop(conn);
        drop(redis);
        for _ in 0..3 {
            assert!(
                node_a
                    .check(LimitedAction::Post, "panelist:3")
                    .await
                    .is_ok()
            );
        }
        let wait = retry_after(node_a.check(LimitedAction::Post, "panelist:3").await);
        assert!((9..=10).contains(&wait), "retry after {wait}");
        // Per node now: node b has its own burst.
        assert!(
            node_b
                .check(LimitedAction::Post, "panelist:3")
                .await
                .is_ok()
        );
    }
}
