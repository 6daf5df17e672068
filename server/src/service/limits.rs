//! Throttles for guessing: invite-code and password attempts per client address and for
//! the whole node (governor), and a backoff per account that holds whichever address
//! the attempts come from. All in process: each node counts its own attempts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

use super::error::{Error, Result};

/// Rates of the login throttles.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    /// Attempts per minute from one client address (IPv6: one /64).
    pub per_ip_per_minute: u32,
    /// Attempts per second from everyone together.
    pub global_per_second: u32,
    /// Attempts on one account before it must wait between attempts (the wait starts
    /// at a second and doubles with every further failure).
    pub account_free_attempts: u32,
    /// The longest wait between attempts on one account.
    pub account_max_wait: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_ip_per_minute: 10,
            global_per_second: 50,
            account_free_attempts: 5,
            account_max_wait: Duration::from_secs(15 * 60),
        }
    }
}

/// The address a throttle counts a client by: IPv4 whole, IPv6 by its /64 (what one
/// subscriber or one machine gets: a client picks any address in it at will), an
/// IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// The throttles themselves.
pub struct LoginThrottle {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    global: DefaultDirectRateLimiter,
    clock: DefaultClock,
    accounts: AccountBackoff,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl LoginThrottle {
    /// Throttles with the given rates.
    pub fn new(limits: LoginLimits) -> Self {
        let per_ip = Quota::per_minute(nonzero(limits.per_ip_per_minute));
        let global = Quota::per_second(nonzero(limits.global_per_second))
            .allow_burst(nonzero(limits.global_per_second.saturating_mul(2)));
        LoginThrottle {
            per_ip: DefaultKeyedRateLimiter::keyed(per_ip),
            global: DefaultDirectRateLimiter::direct(global),
            clock: DefaultClock::default(),
            accounts: AccountBackoff::new(limits.account_free_attempts, limits.account_max_wait),
        }
    }

    /// Counts one attempt from `ip`; fails with `rate_limited` when over either limit.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<()> {
        if let Some(ip) = ip
            && let Err(not_until) = self.per_ip.check_key(&address_key(ip))
        {
            crate::metrics::rate_limited("login_address");
            return Err(retry_after(not_until.wait_time_from(self.clock.now())));
        }
        if let Err(not_until) = self.global.check() {
            crate::metrics::rate_limited("login_node");
            return Err(retry_after(not_until.wait_time_from(self.clock.now())));
        }
        Ok(())
    }

    /// Counts one attempt on `account` (a key such as the e-mail address, whether or not
    /// an account has it, so that the answer tells nothing about that); fails with
    /// `rate_limited` while the account waits. The attempt counts as failed until
    /// [`LoginThrottle::account_succeeded`] says otherwise, so attempts sent at once
    /// are counted before any of them is checked.
    pub fn check_account(&self, account: &str) -> Result<()> {
        self.accounts.attempt(account, Instant::now())
    }

    /// Forgets the failures of `account` after a correct password or code.
    pub fn account_succeeded(&self, account: &str) {
        self.accounts.succeeded(account);
    }

    /// Drops idle per-address and per-account state (called now and then by the
    /// housekeeping task).
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
        self.accounts.shrink(Instant::now());
    }
}

fn retry_after(wait: Duration) -> Error {
    Error::RateLimited {
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

/// Longest account key kept (an e-mail address has at most 254 characters).
const MAX_ACCOUNT_KEY: usize = 254;

/// Failed attempts on one account.
#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Instant,
    not_before: Instant,
}

impl Failures {
    /// From when on the account has been left alone: its last attempt, or the end of
    /// the wait that attempt set.
    fn quiet_from(&self) -> Instant {
        self.last.max(self.not_before)
    }
}

/// Exponential backoff per account: the first `free` attempts pass, each further one
/// must wait a second, two, four, … (at most `max_wait`) after the previous one. An
/// account left alone for an hour after its last attempt and wait is forgiven.
#[derive(Debug)]
struct AccountBackoff {
    free: u32,
    max_wait: Duration,
    entries: Mutex<HashMap<String, Failures>>,
}

/// How long after its last wait ended an account's failures are forgotten.
const FORGIVE_AFTER: Duration = Duration::from_secs(60 * 60);

impl AccountBackoff {
    fn new(free: u32, max_wait: Duration) -> Self {
        AccountBackoff {
            free: free.max(1),
            max_wait: max_wait.max(Duration::from_secs(1)),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(account: &str) -> String {
        let mut key = account.trim().to_lowercase();
        if key.len() > MAX_ACCOUNT_KEY {
            let mut end = MAX_ACCOUNT_KEY;
            while !key.is_char_boundary(end) {
                end -= 1;
            }
            key.truncate(end);
        }
        key
    }

    fn attempt(&self, account: &str, now: Instant) -> Result<()> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let f = entries.entry(Self::key(account)).or_insert(Failures {
            count: 0,
            last: now,
            not_before: now,
        });
        if now >= f.quiet_from() + FORGIVE_AFTER {
            f.count = 0;
        }
        if now < f.not_before {
            crate::metrics::rate_limited("login_account");
            return Err(retry_after(f.not_before - now));
        }
        f.count = f.count.saturating_add(1);
        f.last = now;
        if f.count >= self.free {
            let doublings = (f.count - self.free).min(20);
            let wait = Duration::from_secs(1u64 << doublings).min(self.max_wait);
            f.not_before = now + wait;
        }
        Ok(())
    }

    fn succeeded(&self, account: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&Self::key(account));
    }

    fn shrink(&self, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, f| now < f.quiet_from() + FORGIVE_AFTER);
        entries.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_keyed_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_account_waits_longer_after_each_failure_and_is_forgiven_after_success() {
        let b = AccountBackoff::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(b.attempt("Jan@X.nl", t0).is_ok());
        }
        // The third failure set a wait of one second.
        assert!(matches!(
            b.attempt("jan@x.nl", t0),
            Err(Error::RateLimited {
                retry_after_secs: 1
            })
        ));
        assert!(b.attempt("jan@x.nl", t0 + Duration::from_secs(1)).is_ok());
        assert!(matches!(
            b.attempt("jan@x.nl", t0 + Duration::from_millis(1500)),
            Err(Error::RateLimited {
                retry_after_secs: 2
            })
        ));
        // Waits stop growing at the maximum.
        let mut t = t0 + Duration::from_secs(1);
        for _ in 0..10 {
            t += Duration::from_secs(11);
            assert!(b.attempt("jan@x.nl", t).is_ok());
        }
        assert!(matches!(
            b.attempt("jan@x.nl", t),
            Err(Error::RateLimited {
                retry_after_secs: 10
            })
        ));
        // Another account is not affected; a success forgets the failures.
        assert!(b.attempt("piet@x.nl", t).is_ok());
        b.succeeded("JAN@x.nl");
        assert!(b.attempt("jan@x.nl", t).is_ok());
    }

    #[test]
    fn failures_are_forgotten_an_hour_after_the_wait_and_shrink_drops_them() {
        let b = AccountBackoff::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(b.attempt("a", t0).is_ok());
        assert!(b.attempt("a", t0).is_err());
        let later = t0 + Duration::from_secs(1) + FORGIVE_AFTER;
        b.shrink(later + Duration::from_secs(61));
        assert!(b.entries.lock().unwrap().is_empty());
        assert!(b.attempt("a", later).is_ok());
    }
}
