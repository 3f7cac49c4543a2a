//! Percentiles of round-trip samples.

use serde_json::{Value, json};

/// p50 / p99 / max of a set of round trips, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The `p`-quantile (0..=1) of sorted values, nearest-rank.
pub fn quantile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Latency {
    /// From round trips in nanoseconds.
    pub fn from_ns(mut ns: Vec<u64>) -> Self {
        ns.sort_unstable();
        let ms = |v: u64| v as f64 / 1e6;
        Self {
            samples: ns.len(),
            p50_ms: ms(quantile(&ns, 0.50)),
            p99_ms: ms(quantile(&ns, 0.99)),
            max_ms: ms(ns.last().copied().unwrap_or(0)),
        }
    }

    pub fn to_json(self) -> Value {
        json!({"samples": self.samples, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 50);
        assert_eq!(quantile(&v, 0.99), 99);
        assert_eq!(quantile(&v, 1.0), 100);
        assert_eq!(quantile(&[7], 0.99), 7);
        assert_eq!(quantile(&[], 0.5), 0);
    }

    #[test]
    fn latency_in_ms() {
        let l = Latency::from_ns(vec![3_000_000, 1_000_000, 2_000_000]);
        assert_eq!(l.samples, 3);
        assert!((l.p50_ms - 2.0).abs() < 1e-9);
        assert!((l.max_ms - 3.0).abs() < 1e-9);
    }
}
