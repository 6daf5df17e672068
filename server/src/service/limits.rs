//! Throttles for guessing: invite-code and password attempts, per client IP and for the
//! whole node. In-process (governor) on the embedded default.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

use super::error::{Error, Result};

/// Rates of the login throttles.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    /// Attempts per minute from one IP.
    pub per_ip_per_minute: u32,
    /// Attempts per second from everyone together.
    pub global_per_second: u32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_ip_per_minute: 10,
            global_per_second: 50,
        }
    }
}

/// The throttles themselves.
pub struct LoginThrottle {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    global: DefaultDirectRateLimiter,
    clock: DefaultClock,
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
        }
    }

    /// Counts one attempt from `ip`; fails with `rate_limited` when over either limit.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<()> {
        if let Some(ip) = ip
            && let Err(not_until) = self.per_ip.check_key(&ip)
        {
            return Err(retry_after(not_until.wait_time_from(self.clock.now())));
        }
        if let Err(not_until) = self.global.check() {
            return Err(retry_after(not_until.wait_time_from(self.clock.now())));
        }
        Ok(())
    }

    /// Drops idle per-IP state (called now and then by the housekeeping task).
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
    }
}

fn retry_after(wait: Duration) -> Error {
    Error::RateLimited {
        retry_after_secs: wait.as_secs().max(1),
    }
}
