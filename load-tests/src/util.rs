//! Small helpers: number conversions, wall-clock microseconds, `/proc` readings.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;

/// Conversions of counts to `f64` (exact below 2^53, which counts here stay under).
pub trait FromUsize {
    /// `n` as a float.
    fn from_usize(n: usize) -> Self;
    /// `n` as a float.
    fn from_u64(n: u64) -> Self;
}

impl FromUsize for f64 {
    #[allow(clippy::cast_precision_loss)]
    fn from_usize(n: usize) -> f64 {
        n as f64
    }
    #[allow(clippy::cast_precision_loss)]
    fn from_u64(n: u64) -> f64 {
        n as f64
    }
}

/// A float rounded to a count (saturating; negative and NaN give 0).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn to_u64(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else {
        x.round() as u64
    }
}

/// Microseconds since the Unix epoch, by the wall clock.
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Resident memory (VmRSS) of a process in bytes.
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_vmrss(&text).with_context(|| format!("no VmRSS line in {path}"))
}

fn parse_vmrss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The soft and hard limits on open files of this process.
fn open_file_limits() -> Option<(u64, Option<u64>)> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let mut fields = line.trim_start_matches("Max open files").split_whitespace();
    let soft = fields.next()?.parse().ok()?;
    let hard = fields.next().and_then(|h| h.parse().ok());
    Some((soft, hard))
}

/// Makes sure this process may open `needed` files: raises the soft limit to the hard
/// one with `prlimit` (util-linux) when needed, and warns when that is not enough.
pub fn ensure_open_files(needed: u64) {
    let Some((soft, hard)) = open_file_limits() else {
        return;
    };
    if soft >= needed {
        return;
    }
    if let Some(hard) = hard
        && hard > soft
    {
        let pid = std::process::id();
        let _ = std::process::Command::new("prlimit")
            .args([
                "--pid",
                &pid.to_string(),
                &format!("--nofile={hard}:{hard}"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    let now = open_file_limits().map_or(soft, |(s, _)| s);
    if now < needed {
        eprintln!(
            "warning: this process may open {now} files but needs about {needed}; \
             run `ulimit -n 20000` first"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmrss_is_read_in_bytes() {
        let status = "Name:\tberaad\nVmPeak:\t  99 kB\nVmRSS:\t   1234 kB\nThreads: 3\n";
        assert_eq!(parse_vmrss(status), Some(1234 * 1024));
        assert_eq!(parse_vmrss("Name: x\n"), None);
    }

    #[test]
    fn floats_round_to_counts() {
        assert_eq!(to_u64(2.5), 3);
        assert_eq!(to_u64(-1.0), 0);
        assert_eq!(to_u64(f64::NAN), 0);
    }
}
