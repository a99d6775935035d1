//! Exact order statistics in bounded memory: radix selection over the order-preserving u64 encoding of
//! f64 (`shared/spec/scale.md`, "Exact quantiles in bounded memory").
//!
//! Every value maps to a key with `a < b ⇔ key(a) < key(b)` (the order of [`f64::total_cmp`]). A
//! [`RankSelection`] finds the values of given 0-based ranks among n values in a few passes over them:
//!
//! ```text
//! pass 1  count the keys in 2^bits buckets of their top bits      → the bucket holding each rank
//! pass 2  count that bucket's keys by their next bits, or collect  → a narrower interval, or the values
//!  ...    (when the interval holds few enough keys to keep)
//! last    select each rank among the collected keys               → exact values
//! ```
//!
//! The state of a pass is a fixed array of counts (or the few collected keys) per interval, so it merges
//! by addition: batches and partitions may be counted separately in any order. Ranks close together (a
//! median and the order statistics of its bootstrap) share intervals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Order-preserving key of a value: for any a, b, `a.total_cmp(&b) == order_key(a).cmp(&order_key(b))`.
///
/// ```
/// use payequity::stats::{from_order_key, order_key};
/// assert!(order_key(-2.0) < order_key(-1.0) && order_key(-1.0) < order_key(0.0));
/// assert!(order_key(0.5) < order_key(3.0));
/// assert_eq!(from_order_key(order_key(-7.25)), -7.25);
/// ```
pub fn order_key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The value of an [`order_key`].
pub fn from_order_key(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

/// What a pass does over the keys of one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Step {
    /// Count keys in buckets of width 2^shift from the interval's start.
    Count { shift: u32, counts: Vec<u64> },
    /// Keep every key.
    Collect { keys: Vec<u64> },
}

/// Keys `lo..=hi`, of which `below` values lie under `lo`; the ranks it holds, and this pass's step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Interval {
    lo: u64,
    hi: u64,
    below: u64,
    ranks: Vec<u64>,
    step: Step,
}

impl Interval {
    fn add(&mut self, key: u64) {
        match &mut self.step {
            Step::Count { shift, counts } => counts[((key - self.lo) >> *shift) as usize] += 1,
            Step::Collect { keys } => keys.push(key),
        }
    }
}

/// The exact values of some ranks among values seen pass after pass; see the module docs.
///
/// ```
/// use payequity::stats::RankSelection;
/// let values = [5.0, -1.0, 3.0, 3.0, 10.0, 0.5];
/// let mut selection = RankSelection::new(8, 4);
/// while !selection.is_done() {
///     for &v in &values {
///         selection.add(v);
///     }
///     if selection.pass() == 1 {
///         selection.target(&[0, 2, 3, 5]); // ranks known once n is
///     }
///     selection.refine().unwrap();
/// }
/// assert_eq!(selection.value(0), Some(-1.0));
/// assert_eq!(selection.value(2), Some(3.0));
/// assert_eq!(selection.value(3), Some(3.0));
/// assert_eq!(selection.value(5), Some(10.0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankSelection {
    /// Bits resolved per counting pass (buckets = 2^bits).
    bits: u32,
    /// An interval holding at most this many keys is collected rather than counted again.
    collect_limit: u64,
    /// Disjoint intervals in key order.
    intervals: Vec<Interval>,
    /// Values seen in the first pass.
    n: u64,
    passes: usize,
    resolved: BTreeMap<u64, f64>,
}

impl RankSelection {
    /// A selection whose first pass counts every value in 2^`bits` buckets of its top bits (`bits` in
    /// 4..=20) and that collects an interval once it holds at most `collect_limit` values.
    pub fn new(bits: u32, collect_limit: u64) -> RankSelection {
        let bits = bits.clamp(4, 20);
        RankSelection {
            bits,
            collect_limit,
            intervals: vec![Interval {
                lo: 0,
                hi: u64::MAX,
                below: 0,
                ranks: Vec::new(),
                step: Step::Count { shift: 64 - bits, counts: vec![0; 1 << bits] },
            }],
            n: 0,
            passes: 0,
            resolved: BTreeMap::new(),
        }
    }

    /// Sets the number of keys below which an interval is collected rather than counted again (e.g. a
    /// memory budget shared by every selection, once their number is known).
    pub fn set_collect_limit(&mut self, limit: u64) {
        self.collect_limit = limit;
    }

    /// 1 during the first pass, then one more after each [`RankSelection::refine`].
    pub fn pass(&self) -> usize {
        self.passes + 1
    }

    /// Values seen in the first pass (known once it is over).
    pub fn len(&self) -> u64 {
        self.n
    }

    /// True when no value was seen in the first pass.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// True when every targeted rank is resolved (after the pass that collected them).
    pub fn is_done(&self) -> bool {
        self.passes > 0 && self.intervals.is_empty()
    }

    /// Sets the 0-based ranks to find (after the first pass, before [`RankSelection::refine`]); ranks at or
    /// beyond n are ignored.
    pub fn target(&mut self, ranks: &[u64]) {
        if let Some(first) = self.intervals.first_mut() {
            first.ranks.extend(ranks.iter().copied().filter(|&r| r < self.n));
            first.ranks.sort_unstable();
            first.ranks.dedup();
        }
    }

    /// Adds a value to the current pass (values outside every open interval are not needed any more).
    pub fn add(&mut self, value: f64) {
        let key = order_key(value);
        if self.passes == 0 {
            self.n += 1;
            self.intervals[0].add(key);
            return;
        }
        // Intervals are disjoint and few: the last one starting at or below the key may hold it.
        let at = self.intervals.partition_point(|i| i.lo <= key);
        if at > 0 && key <= self.intervals[at - 1].hi {
            self.intervals[at - 1].add(key);
        }
    }

    /// Adds the counts and keys of another selection of the same pass (associative and commutative).
    pub fn merge(&mut self, other: &RankSelection) -> Result<()> {
        let same = self.passes == other.passes
            && self.intervals.len() == other.intervals.len()
            && self.intervals.iter().zip(&other.intervals).all(|(a, b)| (a.lo, a.hi) == (b.lo, b.hi));
        if !same {
            return Err(Error::Invalid("internal: merging rank selections of different passes".into()));
        }
        if self.passes == 0 {
            self.n += other.n;
        }
        for (mine, theirs) in self.intervals.iter_mut().zip(&other.intervals) {
            match (&mut mine.step, &theirs.step) {
                (Step::Count { counts, .. }, Step::Count { counts: more, .. }) => {
                    counts.iter_mut().zip(more).for_each(|(a, b)| *a += b);
                }
                (Step::Collect { keys }, Step::Collect { keys: more }) => keys.extend_from_slice(more),
                _ => return Err(Error::Invalid("internal: merging rank selections of different steps".into())),
            }
        }
        Ok(())
    }

    /// Ends a pass: resolves the ranks it can, and narrows the intervals of the others for the next pass.
    pub fn refine(&mut self) -> Result<()> {
        self.passes += 1;
        // Each counting pass resolves `bits` more bits of the key; one more pass collects.
        if self.passes > (64 / self.bits) as usize + 2 {
            return Err(Error::Invalid("internal: radix selection did not converge".into()));
        }
        let intervals = std::mem::take(&mut self.intervals);
        for interval in intervals {
            if interval.ranks.is_empty() {
                continue;
            }
            match interval.step {
                Step::Collect { mut keys } => {
                    keys.sort_unstable();
                    for r in interval.ranks {
                        let key = keys.get((r - interval.below) as usize).ok_or_else(|| {
                            Error::Invalid("internal: radix selection lost values between passes".into())
                        })?;
                        self.resolved.insert(r, from_order_key(*key));
                    }
                }
                Step::Count { shift, counts } => {
                    self.narrow(interval.lo, interval.hi, interval.below, interval.ranks, shift, &counts)
                }
            }
        }
        Ok(())
    }

    /// The buckets holding `ranks` become the next pass's intervals (runs of adjacent small ones, one).
    fn narrow(&mut self, lo: u64, hi: u64, below: u64, ranks: Vec<u64>, shift: u32, counts: &[u64]) {
        let mut next: Vec<(u64, u64, u64, u64, Vec<u64>)> = Vec::new(); // (lo, hi, below, count, ranks)
        let mut ranks = ranks.into_iter().peekable();
        let mut cumulative = below;
        for (bucket, &count) in counts.iter().enumerate() {
            let start = lo + ((bucket as u64) << shift);
            let mut held = Vec::new();
            while let Some(&r) = ranks.peek() {
                if r >= cumulative + count {
                    break;
                }
                held.push(r);
                ranks.next();
            }
            if !held.is_empty() {
                if shift == 0 {
                    // A bucket of one key: its ranks are that value.
                    held.into_iter().for_each(|r| {
                        self.resolved.insert(r, from_order_key(start));
                    });
                } else {
                    let end = start.saturating_add((1u64 << shift) - 1).min(hi);
                    match next.last_mut() {
                        // Adjacent buckets share an interval only when it is collected next (so every
                        // counted interval is one bucket and the key range shrinks each pass).
                        Some(last) if last.1.checked_add(1) == Some(start) && last.3 + count <= self.collect_limit => {
                            last.1 = end;
                            last.3 += count;
                            last.4.extend(held);
                        }
                        _ => next.push((start, end, cumulative, count, held)),
                    }
                }
            }
            cumulative += count;
            if ranks.peek().is_none() {
                break;
            }
        }
        for (lo, hi, below, count, ranks) in next {
            let step = if count <= self.collect_limit {
                Step::Collect { keys: Vec::with_capacity(count as usize) }
            } else {
                let width_bits = 64 - (hi - lo).leading_zeros();
                let shift = width_bits.saturating_sub(self.bits);
                Step::Count { shift, counts: vec![0; (((hi - lo) >> shift) + 1) as usize] }
            };
            self.intervals.push(Interval { lo, hi, below, ranks, step });
        }
    }

    /// The value of rank `rank` once resolved.
    pub fn value(&self, rank: u64) -> Option<f64> {
        self.resolved.get(&rank).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn select(values: &[f64], ranks: &[u64], bits: u32, limit: u64, parts: usize) -> Vec<Option<f64>> {
        let mut selection = RankSelection::new(bits, limit);
        while !selection.is_done() {
            let chunk = values.len().div_ceil(parts.max(1)).max(1);
            let mut partials: Vec<RankSelection> = values
                .chunks(chunk)
                .map(|c| {
                    let mut s = selection.clone();
                    c.iter().for_each(|&v| s.add(v));
                    s
                })
                .collect();
            let mut merged = partials.pop().unwrap_or_else(|| selection.clone());
            for p in partials.iter().rev() {
                merged.merge(p).unwrap();
            }
            selection = merged;
            if selection.pass() == 1 {
                selection.target(ranks);
            }
            selection.refine().unwrap();
        }
        ranks.iter().map(|&r| selection.value(r)).collect()
    }

    #[test]
    fn keys_preserve_total_order() {
        let values = [f64::NEG_INFINITY, -1e300, -2.5, -1e-310, -0.0, 0.0, 1e-310, 1.0, 2.5, 1e300, f64::INFINITY];
        let keys: Vec<u64> = values.iter().map(|&v| order_key(v)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        for v in values {
            assert_eq!(from_order_key(order_key(v)).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn heavy_ties_resolve_by_counting_to_single_keys() {
        // A million equal values and a few others: the tied bucket never shrinks below the collect limit,
        // so selection counts down to one-key buckets.
        let mut values = vec![3000.0; 100_000];
        values.extend([1.0, 2.0, 5000.0]);
        let got = select(&values, &[0, 1, 2, 50_000, 100_002], 8, 16, 3);
        assert_eq!(got, vec![Some(1.0), Some(2.0), Some(3000.0), Some(3000.0), Some(5000.0)]);
    }

    proptest! {
        #[test]
        fn selection_equals_sorting(
            values in prop::collection::vec(prop_oneof![-1e6f64..1e6, Just(0.0), Just(-0.0), Just(42.0)], 1..400),
            bits in 4u32..17,
            limit in 0u64..64,
            parts in 1usize..5,
        ) {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len() as u64;
            let ranks: Vec<u64> = vec![0, n / 4, n / 2, n.saturating_sub(1) / 2, 3 * n / 4, n - 1];
            let got = select(&values, &ranks, bits, limit, parts);
            for (r, v) in ranks.iter().zip(got) {
                prop_assert_eq!(v.map(f64::to_bits), Some(sorted[*r as usize].to_bits()));
            }
        }
    }
}
