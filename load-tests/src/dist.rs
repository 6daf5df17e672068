//! Spreading viewers and posts over the cases: uniform or Zipf.

use rand::Rng;

use crate::args::Distribution;
use crate::util::FromUsize;

/// The golden ratio's fractional part: steps of it spread points evenly over [0, 1).
const GOLDEN: f64 = 0.618_033_988_749_894_8;

/// Chooses a case index (0-based) by the configured distribution.
#[derive(Debug, Clone)]
pub struct Chooser {
    kind: Distribution,
    /// Cumulative probabilities, the last one 1.0.
    cdf: Vec<f64>,
}

impl Chooser {
    /// A chooser over `k` cases; case i (0-based) weighs 1/(i+1)^s under Zipf.
    pub fn new(kind: Distribution, k: usize, s: f64) -> Self {
        let k = k.max(1);
        let weights: Vec<f64> = match kind {
            Distribution::Uniform => vec![1.0; k],
            Distribution::Zipf => (1..=k).map(|i| 1.0 / f64::from_usize(i).powf(s)).collect(),
        };
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        if let Some(last) = cdf.last_mut() {
            *last = 1.0;
        }
        Chooser { kind, cdf }
    }

    /// Number of cases.
    pub fn len(&self) -> usize {
        self.cdf.len()
    }

    /// The case at cumulative probability `q` in [0, 1).
    pub fn quantile(&self, q: f64) -> usize {
        let i = self.cdf.partition_point(|&c| c <= q);
        i.min(self.cdf.len() - 1)
    }

    /// A random case.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> usize {
        self.quantile(rng.r#gen::<f64>())
    }

    /// The case of connection number `i`: round-robin when uniform, otherwise an evenly
    /// spread (low-discrepancy) quantile, so that the shares are exact up to rounding
    /// without depending on chance.
    pub fn for_connection(&self, i: usize) -> usize {
        match self.kind {
            Distribution::Uniform => i % self.len(),
            Distribution::Zipf => {
                let q = (0.5 + f64::from_usize(i) * GOLDEN).fract();
                self.quantile(q)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn uniform_connections_go_round_robin() {
        let c = Chooser::new(Distribution::Uniform, 3, 1.0);
        let got: Vec<usize> = (0..6).map(|i| c.for_connection(i)).collect();
        assert_eq!(got, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn zipf_shares_follow_the_weights() {
        let k = 10;
        let c = Chooser::new(Distribution::Zipf, k, 1.0);
        let n = 100_000;
        let mut counts = vec![0usize; k];
        for i in 0..n {
            counts[c.for_connection(i)] += 1;
        }
        let h: f64 = (1..=k).map(|i| 1.0 / f64::from_usize(i)).sum();
        for (i, &got) in counts.iter().enumerate() {
            let want = f64::from_usize(n) / (f64::from_usize(i + 1) * h);
            assert!(
                (f64::from_usize(got) - want).abs() < 0.01 * f64::from_usize(n),
                "case {i}: {got} vs {want}"
            );
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let first = (0..10_000).filter(|_| c.sample(&mut rng) == 0).count();
        assert!((3000..3800).contains(&first), "{first}");
    }

    #[test]
    fn quantile_stays_in_range() {
        let c = Chooser::new(Distribution::Zipf, 5, 2.0);
        assert_eq!(c.quantile(0.0), 0);
        assert_eq!(c.quantile(0.999_999_9), 4);
        assert_eq!(c.quantile(1.0), 4);
    }
}
