//! A log-linear latency histogram: exact below 128 ns, then 64 linear buckets per power of two
//! (relative error under 1.6 %), fixed size, cheap to record into and to merge.

use std::time::Duration;

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
/// Index of the bucket holding `u64::MAX`, plus one.
const BUCKETS: usize = bucket_index(u64::MAX) + 1;

/// The bucket a value in nanoseconds falls into.
const fn bucket_index(v: u64) -> usize {
    if v < 2 * SUB {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros();
    let shift = msb - SUB_BITS;
    let mantissa = v >> shift; // in [SUB, 2 * SUB)
    (shift as u64 * SUB + mantissa) as usize
}

/// The smallest and the largest value of a bucket, in nanoseconds.
fn bucket_bounds(index: usize) -> (u64, u64) {
    let i = index as u64;
    if i < 2 * SUB {
        return (i, i);
    }
    let shift = i / SUB - 1;
    let mantissa = i % SUB + SUB;
    let low = mantissa << shift;
    let high = low + ((1u64 << shift) - 1);
    (low, high)
}

#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram").field("count", &self.count).field("min", &self.min).field("max", &self.max).finish()
    }
}

impl Histogram {
    pub fn new() -> Self {
        Self { counts: vec![0; BUCKETS], count: 0, min: u64::MAX, max: 0 }
    }

    pub fn record(&mut self, latency: Duration) {
        self.record_nanos(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn record_nanos(&mut self, v: u64) {
        self.counts[bucket_index(v)] += 1;
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn max_nanos(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// The value at quantile `q` (0..=1) in nanoseconds: the nearest-rank definition (the
    /// smallest recorded value with at least `q` of all values at or below it), reported as the
    /// middle of its bucket and clamped to the exact minimum and maximum. `None` when empty.
    pub fn quantile_nanos(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0u64;
        for (index, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (low, high) = bucket_bounds(index);
                let mid = low + (high - low) / 2;
                return Some(mid.clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        self.quantile_nanos(q).map(|n| n as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_cover_their_values() {
        let mut expected = 0usize;
        let mut v = 0u64;
        while v < 1 << 20 {
            let index = bucket_index(v);
            assert!(index == expected || index == expected + 1, "gap at {v}");
            expected = index;
            let (low, high) = bucket_bounds(index);
            assert!(low <= v && v <= high, "{v} outside bucket {index} [{low}, {high}]");
            v += 1;
        }
        assert_eq!(bucket_bounds(BUCKETS - 1).1, u64::MAX);
        assert_eq!(bucket_index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn relative_error_is_bounded() {
        for v in [129u64, 1_000, 54_321, 1_000_000, 123_456_789, 10_000_000_000] {
            let (low, high) = bucket_bounds(bucket_index(v));
            let mid = low + (high - low) / 2;
            let err = (mid as f64 - v as f64).abs() / v as f64;
            assert!(err < 1.0 / 64.0, "{v}: mid {mid} err {err}");
        }
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = Histogram::new();
        for v in 1..=100 {
            h.record_nanos(v);
        }
        assert_eq!(h.quantile_nanos(0.5), Some(50));
        assert_eq!(h.quantile_nanos(0.99), Some(99));
        assert_eq!(h.quantile_nanos(1.0), Some(100));
        assert_eq!(h.quantile_nanos(0.0), Some(1));
    }

    #[test]
    fn percentiles_of_a_skewed_distribution() {
        let mut h = Histogram::new();
        // 990 fast requests at 200 µs, 10 slow ones at 30 ms.
        for _ in 0..990 {
            h.record(Duration::from_micros(200));
        }
        for _ in 0..10 {
            h.record(Duration::from_millis(30));
        }
        let p50 = h.quantile_ms(0.5).unwrap();
        assert!((p50 - 0.2).abs() / 0.2 < 0.016, "{p50}");
        // rank 990 of 1000 is still a fast one; rank 991 is slow.
        let p99 = h.quantile_ms(0.99).unwrap();
        assert!((p99 - 0.2).abs() / 0.2 < 0.016, "{p99}");
        let p999 = h.quantile_ms(0.999).unwrap();
        assert!((p999 - 30.0).abs() / 30.0 < 0.016, "{p999}");
        assert_eq!(h.max_nanos(), Some(30_000_000));
    }

    #[test]
    fn quantiles_are_clamped_to_min_and_max() {
        let mut h = Histogram::new();
        h.record_nanos(1_000_003);
        assert_eq!(h.quantile_nanos(0.5), Some(1_000_003));
        assert_eq!(h.quantile_nanos(0.99), Some(1_000_003));
    }

    #[test]
    fn merge_adds_up() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        for v in 0..50 {
            a.record_nanos(v);
        }
        for v in 50..100 {
            b.record_nanos(v);
        }
        a.merge(&b);
        assert_eq!(a.count(), 100);
        assert_eq!(a.quantile_nanos(0.5), Some(49));
        assert_eq!(a.max_nanos(), Some(99));
        let empty = Histogram::new();
        assert_eq!(empty.quantile_nanos(0.5), None);
        a.merge(&empty);
        assert_eq!(a.count(), 100);
    }
}
