//! Exact medians (unweighted and weighted) and their bootstrap distributions.
//!
//! Medians are not mergeable, so they are computed exactly from the values of a cell in O(n) (selection,
//! not sorting). The unweighted bootstrap draws the median of a multinomial resample directly from the
//! order statistics: with U₍ⱼ₎ the j-th order statistic of n uniforms, the resample's j-th order statistic
//! is X₍⌈n·U₍ⱼ₎⌉₎, and U₍ₖ₎ ~ Beta(k, n − k + 1) (David & Nagaraja 2003, §2.2), so each replicate costs
//! O(1) after one selection — an exact simulation of the nonparametric bootstrap, not an approximation.
//! Weighted samples use Poisson(1) replicate weights (the streaming bootstrap of DESIGN.md §3).

use rand::distr::Distribution;
use rand_core::SeedableRng;
use rand_pcg::Pcg64;
use statrs::distribution::Beta;

/// Median of `values` (the mean of the two middle values when n is even); reorders the slice.
/// `None` when empty.
///
/// ```
/// let mut v = vec![4.0, 1.0, 3.0, 2.0];
/// assert_eq!(payequity::stats::median(&mut v), Some(2.5));
/// ```
pub fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let upper = *values.select_nth_unstable_by(n / 2, f64::total_cmp).1;
    if n % 2 == 1 {
        return Some(upper);
    }
    // The lower middle value is the largest of the left part.
    let lower = values[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(0.5 * (lower + upper))
}

/// Weighted median: the smallest value whose cumulative weight reaches half the total; when the
/// cumulative weight equals exactly half at a value, the mean of it and the next value (so equal weights
/// give the ordinary median). Sorts `pairs` (value, weight) by value.
///
/// ```
/// let mut p = vec![(1.0, 1.0), (2.0, 1.0), (10.0, 3.0)];
/// assert_eq!(payequity::stats::weighted_median(&mut p), Some(10.0));
/// ```
pub fn weighted_median(pairs: &mut [(f64, f64)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    weighted_median_sorted(pairs.iter().map(|p| p.0), pairs.iter().map(|p| p.1))
}

fn weighted_median_sorted(
    values: impl Iterator<Item = f64> + Clone,
    weights: impl Iterator<Item = f64> + Clone,
) -> Option<f64> {
    let total: f64 = weights.clone().sum();
    if total <= 0.0 {
        return None;
    }
    let half = 0.5 * total;
    let tolerance = 1e-12 * total;
    let mut cumulative = 0.0;
    let mut pending: Option<f64> = None;
    for (v, w) in values.zip(weights) {
        if w <= 0.0 {
            continue;
        }
        if let Some(lower) = pending {
            return Some(0.5 * (lower + v));
        }
        cumulative += w;
        if (cumulative - half).abs() <= tolerance {
            pending = Some(v);
        } else if cumulative > half {
            return Some(v);
        }
    }
    pending
}

/// A cell's values prepared for the median and its bootstrap.
#[derive(Debug, Clone)]
pub enum MedianSample {
    /// Unit weights: the values, partially ordered around the middle.
    Unweighted(Vec<f64>),
    /// Sampling weights: (value, weight) pairs sorted by value.
    Weighted(Vec<(f64, f64)>),
}

impl MedianSample {
    /// The point median of the sample.
    pub fn median(&mut self) -> Option<f64> {
        match self {
            MedianSample::Unweighted(v) => median(v),
            MedianSample::Weighted(p) => weighted_median(p),
        }
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        match self {
            MedianSample::Unweighted(v) => v.len(),
            MedianSample::Weighted(p) => p.len(),
        }
    }

    /// True when there are no observations.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// SplitMix64 finalizer: the counter-based generator behind replicate weights and stream seeds.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn unit_uniform(bits: u64) -> f64 {
    // 53 random bits in (0, 1).
    ((bits >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// A Poisson(1) draw by inversion of a uniform.
pub(crate) fn poisson1(u: f64) -> f64 {
    let mut p = (-1.0f64).exp();
    let mut cdf = p;
    let mut k = 0.0;
    while u > cdf && k < 20.0 {
        k += 1.0;
        p /= k;
        cdf += p;
    }
    k
}

/// `reps` bootstrap replicates of the median of `sample`, reproducible for `seed` (and independent of
/// thread count: the stream depends only on the seed). Empty when the sample is empty or `reps` is 0.
pub fn median_bootstrap(sample: &mut MedianSample, reps: usize, seed: u64) -> Vec<f64> {
    if sample.is_empty() || reps == 0 {
        return Vec::new();
    }
    match sample {
        MedianSample::Unweighted(values) => unweighted_bootstrap(values, reps, seed),
        MedianSample::Weighted(pairs) => weighted_bootstrap(pairs, reps, seed),
    }
}

/// Order statistics on demand: a sorted window around the middle, selection outside it.
struct OrderStatistics<'a> {
    values: &'a mut [f64],
    lo: usize,
    hi: usize,
}

impl<'a> OrderStatistics<'a> {
    fn new(values: &'a mut [f64]) -> OrderStatistics<'a> {
        let n = values.len();
        let half_width = (12.0 * (n as f64).sqrt()) as usize + 16;
        let lo = (n / 2).saturating_sub(half_width);
        let hi = (n / 2 + half_width).min(n - 1);
        values.select_nth_unstable_by(lo, f64::total_cmp);
        values[lo..].select_nth_unstable_by(hi - lo, f64::total_cmp);
        values[lo..=hi].sort_unstable_by(f64::total_cmp);
        OrderStatistics { values, lo, hi }
    }

    /// The value of 0-based rank `r`.
    fn get(&mut self, r: usize) -> f64 {
        if r >= self.lo && r <= self.hi {
            self.values[r]
        } else if r < self.lo {
            *self.values[..self.lo].select_nth_unstable_by(r, f64::total_cmp).1
        } else {
            *self.values[self.hi + 1..].select_nth_unstable_by(r - self.hi - 1, f64::total_cmp).1
        }
    }
}

fn unweighted_bootstrap(values: &mut [f64], reps: usize, seed: u64) -> Vec<f64> {
    let ranks = bootstrap_ranks(values.len(), reps, seed);
    let mut order = OrderStatistics::new(values);
    ranks
        .into_iter()
        .map(|(lower, upper)| match upper {
            None => order.get(lower),
            Some(upper) => 0.5 * (order.get(lower) + order.get(upper)),
        })
        .collect()
}

/// The 0-based ranks whose values make each replicate of the unweighted median bootstrap of n values:
/// the (lower) middle order statistic of the resample, and for even n the next one (the replicate is
/// their mean). They depend only on n, `reps` and `seed`, so a streamed sample can select these ranks
/// exactly ([`crate::stats::RankSelection`]) and give the in-memory replicates.
pub fn bootstrap_ranks(n: usize, reps: usize, seed: u64) -> Vec<(usize, Option<usize>)> {
    if n == 0 {
        return Vec::new();
    }
    let nf = n as f64;
    let mut rng = Pcg64::seed_from_u64(seed);
    // 1-based rank k of the (lower) middle order statistic of the resample.
    let k = n.div_ceil(2);
    let beta = Beta::new(k as f64, (n - k + 1) as f64).expect("valid beta shape");
    let rank_of = |u: f64| ((nf * u).ceil() as usize).clamp(1, n) - 1;
    (0..reps)
        .map(|r| {
            let u_k = beta.sample(&mut rng);
            if n % 2 == 1 {
                (rank_of(u_k), None)
            } else {
                // U₍ₖ₊₁₎ = the minimum of the n − k uniforms above U₍ₖ₎.
                let v = unit_uniform(mix64(seed ^ mix64(r as u64 + 1)));
                let u_next = u_k + (1.0 - u_k) * (1.0 - v.powf(1.0 / (n - k) as f64));
                (rank_of(u_k), Some(rank_of(u_next)))
            }
        })
        .collect()
}

fn weighted_bootstrap(pairs: &mut [(f64, f64)], reps: usize, seed: u64) -> Vec<f64> {
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    (0..reps)
        .map(|r| {
            let stream = mix64(seed ^ mix64(r as u64 + 1));
            let draw =
                |i: usize| poisson1(unit_uniform(mix64(stream ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))));
            let weights: Vec<f64> = pairs.iter().enumerate().map(|(i, p)| p.1 * draw(i)).collect();
            weighted_median_sorted(pairs.iter().map(|p| p.0), weights.iter().copied()).unwrap_or(f64::NAN)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_small_samples() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5.0]), Some(5.0));
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        let mut equal = vec![(4.0, 2.0), (1.0, 2.0), (3.0, 2.0), (2.0, 2.0)];
        assert_eq!(weighted_median(&mut equal), Some(2.5));
        let mut heavy = vec![(1.0, 1.0), (2.0, 1.0), (3.0, 5.0)];
        assert_eq!(weighted_median(&mut heavy), Some(3.0));
    }

    #[test]
    fn order_statistics_outside_the_window_are_exact() {
        let mut values: Vec<f64> = (0..5000).map(|i| ((i * 7919) % 5000) as f64).collect();
        let mut order = OrderStatistics::new(&mut values);
        for r in [0, 1, 17, 2499, 2500, 4998, 4999] {
            assert_eq!(order.get(r), r as f64);
        }
    }

    /// The exact order-statistic bootstrap agrees with brute-force multinomial resampling in distribution:
    /// the bootstrap mean and standard deviation of the median of 0..n match the brute-force ones.
    #[test]
    fn order_statistic_bootstrap_matches_brute_force_resampling() {
        for n in [41usize, 40] {
            let data: Vec<f64> = (0..n).map(|i| (i as f64).powf(1.5)).collect();
            let reps = 20_000;
            let exact = median_bootstrap(&mut MedianSample::Unweighted(data.clone()), reps, 7);
            let mut brute = Vec::with_capacity(reps);
            for r in 0..reps {
                let mut resample: Vec<f64> = (0..n)
                    .map(|i| data[(unit_uniform(mix64(mix64(r as u64) ^ i as u64)) * n as f64) as usize])
                    .collect();
                brute.push(median(&mut resample).unwrap());
            }
            let stats = |v: &[f64]| {
                let m = v.iter().sum::<f64>() / v.len() as f64;
                (m, (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt())
            };
            let (me, se) = stats(&exact);
            let (mb, sb) = stats(&brute);
            assert!((me - mb).abs() < 0.05 * sb, "n={n}: mean {me} vs {mb}");
            assert!((se / sb - 1.0).abs() < 0.05, "n={n}: sd {se} vs {sb}");
        }
    }

    #[test]
    fn bootstrap_is_reproducible_for_a_seed() {
        let values: Vec<f64> = (0..101).map(|i| i as f64).collect();
        let a = median_bootstrap(&mut MedianSample::Unweighted(values.clone()), 50, 3);
        let b = median_bootstrap(&mut MedianSample::Unweighted(values.clone()), 50, 3);
        let c = median_bootstrap(&mut MedianSample::Unweighted(values), 50, 4);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let pairs: Vec<(f64, f64)> = (0..30).map(|i| (i as f64, 1.0 + (i % 3) as f64)).collect();
        let w1 = median_bootstrap(&mut MedianSample::Weighted(pairs.clone()), 20, 9);
        let w2 = median_bootstrap(&mut MedianSample::Weighted(pairs), 20, 9);
        assert_eq!(w1, w2);
        assert!(w1.iter().all(|m| m.is_finite()));
    }
}
