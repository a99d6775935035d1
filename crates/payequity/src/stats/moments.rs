//! Mergeable sufficient statistics: [`Moments`] (n, Σw, Σw·x, X'WX, X'Wy, y'Wy) for regressions and
//! [`MeanMoments`] (a weighted mean with the variance terms of its linearization) for gaps. `merge` is
//! associative and commutative, so one streaming pass over chunks, threads or cluster partitions gives the
//! same statistics as a single pass (up to floating-point reassociation).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Weighted cross-product moments of a design matrix X (k columns, usually with a constant) and outcome y.
///
/// `xtwx = Σ wᵢ xᵢ xᵢ'`, `xtwy = Σ wᵢ xᵢ yᵢ`, `ytwy = Σ wᵢ yᵢ²`, `sum_wx = Σ wᵢ xᵢ`. With X = \[1\] the
/// weighted mean is `xtwy[0] / sum_w`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    pub n: u64,
    pub sum_w: f64,
    pub sum_w2: f64,
    pub sum_wx: Array1<f64>,
    pub xtwx: Array2<f64>,
    pub xtwy: Array1<f64>,
    pub ytwy: f64,
}

impl Moments {
    /// Empty moments for `k` regressors.
    pub fn new(k: usize) -> Moments {
        Moments {
            n: 0,
            sum_w: 0.0,
            sum_w2: 0.0,
            sum_wx: Array1::zeros(k),
            xtwx: Array2::zeros((k, k)),
            xtwy: Array1::zeros(k),
            ytwy: 0.0,
        }
    }

    /// Number of regressors.
    pub fn k(&self) -> usize {
        self.xtwy.len()
    }

    /// Adds one observation.
    pub fn push(&mut self, x: &[f64], y: f64, w: f64) {
        let k = self.k();
        debug_assert_eq!(x.len(), k);
        self.n += 1;
        self.sum_w += w;
        self.sum_w2 += w * w;
        for i in 0..k {
            let wxi = w * x[i];
            self.sum_wx[i] += wxi;
            self.xtwy[i] += wxi * y;
            for (j, xj) in x.iter().enumerate().take(i + 1) {
                let v = wxi * xj;
                self.xtwx[[i, j]] += v;
                if j != i {
                    self.xtwx[[j, i]] += v;
                }
            }
        }
        self.ytwy += w * y * y;
    }

    /// Accumulates a row-major block of observations (`x.len() == y.len() * k`); `w = None` means unit weights.
    pub fn from_rows(k: usize, x: &[f64], y: &[f64], w: Option<&[f64]>) -> Moments {
        let mut m = Moments::new(k);
        for (i, &yi) in y.iter().enumerate() {
            m.push(&x[i * k..(i + 1) * k], yi, w.map_or(1.0, |w| w[i]));
        }
        m
    }

    /// Accumulates a block of observations with one matrix product (`x` is m × k, row-major):
    /// X'WX += X'(w∘X) by a cache-blocked GEMM, the fast path of a streaming pass.
    pub fn push_block(&mut self, x: ArrayView2<f64>, y: &[f64], w: &[f64]) {
        debug_assert_eq!(x.ncols(), self.k());
        let m = y.len();
        if m == 0 {
            return;
        }
        let mut wx = x.to_owned();
        for (mut row, &wi) in wx.rows_mut().into_iter().zip(w) {
            row *= wi;
        }
        general_mat_mul(1.0, &x.t(), &wx, 1.0, &mut self.xtwx);
        let y_view = ArrayView1::from(y);
        self.xtwy += &wx.t().dot(&y_view);
        self.sum_wx += &wx.sum_axis(Axis(0));
        self.n += m as u64;
        for (&yi, &wi) in y.iter().zip(w) {
            self.sum_w += wi;
            self.sum_w2 += wi * wi;
            self.ytwy += wi * yi * yi;
        }
    }

    /// The moments of the regressors at `columns` (in that order): exact, no pass over the data.
    pub fn select(&self, columns: &[usize]) -> Moments {
        let k = columns.len();
        Moments {
            n: self.n,
            sum_w: self.sum_w,
            sum_w2: self.sum_w2,
            sum_wx: Array1::from_shape_fn(k, |i| self.sum_wx[columns[i]]),
            xtwx: Array2::from_shape_fn((k, k), |(i, j)| self.xtwx[[columns[i], columns[j]]]),
            xtwy: Array1::from_shape_fn(k, |i| self.xtwy[columns[i]]),
            ytwy: self.ytwy,
        }
    }

    /// Associative, commutative merge: every field is a sum.
    pub fn merge(mut self, other: &Moments) -> Result<Moments> {
        if self.k() != other.k() {
            return Err(Error::Invalid(format!("cannot merge moments of {} and {} regressors", self.k(), other.k())));
        }
        self.n += other.n;
        self.sum_w += other.sum_w;
        self.sum_w2 += other.sum_w2;
        self.sum_wx += &other.sum_wx;
        self.xtwx += &other.xtwx;
        self.xtwy += &other.xtwy;
        self.ytwy += other.ytwy;
        Ok(self)
    }

    /// Weighted mean of the regressors, `Σ w x / Σ w`.
    pub fn mean_x(&self) -> Array1<f64> {
        &self.sum_wx / self.sum_w
    }

    /// Compact binary form (postcard) for shipping moments between processes (Spark, Dask workers).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        postcard::to_stdvec(self).map_err(|e| Error::Invalid(format!("cannot serialize moments: {e}")))
    }

    /// Inverse of [`Moments::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Moments> {
        postcard::from_bytes(bytes).map_err(|e| Error::Invalid(format!("cannot deserialize moments: {e}")))
    }
}

/// A weighted mean with what its sampling variance needs, kept centred for numerical stability.
///
/// With d = y − ȳ: `m2 = Σ w d²`, `c1 = Σ w² d`, `c2 = Σ w² d²`. Merging re-centres with the pairwise
/// formulas of Chan, Golub & LeVeque (1983). The variance of the weighted mean by linearization (sampling
/// weights) is `V(ȳ) = n/(n−1) · c2 / (Σw)²`, which with unit weights is the familiar s²/n.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MeanMoments {
    pub n: u64,
    pub sum_w: f64,
    pub sum_w2: f64,
    pub mean: f64,
    pub m2: f64,
    pub c1: f64,
    pub c2: f64,
}

impl MeanMoments {
    /// Moments of one observation.
    pub fn one(y: f64, w: f64) -> MeanMoments {
        MeanMoments { n: 1, sum_w: w, sum_w2: w * w, mean: y, m2: 0.0, c1: 0.0, c2: 0.0 }
    }

    /// Moments of a slice: exact two-pass statistics within blocks of 1024 values (no division per value,
    /// vectorizable), blocks merged pairwise (bounded rounding error). Large slices split in halves computed
    /// in parallel; the split does not depend on the thread count, so neither does the result.
    pub fn from_slice(y: &[f64], w: Option<&[f64]>) -> MeanMoments {
        const BLOCK: usize = 1024;
        const PARALLEL: usize = 1 << 16;
        if y.len() <= BLOCK {
            return MeanMoments::block(y, w);
        }
        let mid = y.len() / 2;
        let (wl, wr) = match w {
            Some(w) => (Some(&w[..mid]), Some(&w[mid..])),
            None => (None, None),
        };
        let (left, right) = if y.len() >= PARALLEL {
            rayon::join(|| MeanMoments::from_slice(&y[..mid], wl), || MeanMoments::from_slice(&y[mid..], wr))
        } else {
            (MeanMoments::from_slice(&y[..mid], wl), MeanMoments::from_slice(&y[mid..], wr))
        };
        left.merge(&right)
    }

    /// Two-pass moments of a small block.
    fn block(y: &[f64], w: Option<&[f64]>) -> MeanMoments {
        if y.is_empty() {
            return MeanMoments::default();
        }
        match w {
            None => {
                let n = y.len() as f64;
                let mean = y.iter().sum::<f64>() / n;
                let (mut m2, mut c1) = (0.0, 0.0);
                for &v in y {
                    let d = v - mean;
                    c1 += d;
                    m2 += d * d;
                }
                MeanMoments { n: y.len() as u64, sum_w: n, sum_w2: n, mean, m2, c1, c2: m2 }
            }
            Some(w) => {
                let (mut sum_w, mut sum_w2, mut sum_wy) = (0.0, 0.0, 0.0);
                for (&v, &wi) in y.iter().zip(w) {
                    sum_w += wi;
                    sum_w2 += wi * wi;
                    sum_wy += wi * v;
                }
                let mean = sum_wy / sum_w;
                let (mut m2, mut c1, mut c2) = (0.0, 0.0, 0.0);
                for (&v, &wi) in y.iter().zip(w) {
                    let d = v - mean;
                    m2 += wi * d * d;
                    c1 += wi * wi * d;
                    c2 += wi * wi * d * d;
                }
                MeanMoments { n: y.len() as u64, sum_w, sum_w2, mean, m2, c1, c2 }
            }
        }
    }

    /// Adds one observation (Welford / West's weighted update).
    pub fn push(&mut self, y: f64, w: f64) {
        if self.n == 0 {
            *self = MeanMoments::one(y, w);
            return;
        }
        let sum_w = self.sum_w + w;
        let delta = y - self.mean;
        let mean = self.mean + delta * w / sum_w;
        let shift = self.mean - mean; // old centre minus new centre
        let d_new = y - mean;
        self.c2 += 2.0 * shift * self.c1 + shift * shift * self.sum_w2 + w * w * d_new * d_new;
        self.c1 += shift * self.sum_w2 + w * w * d_new;
        self.m2 += w * delta * d_new;
        self.n += 1;
        self.sum_w = sum_w;
        self.sum_w2 += w * w;
        self.mean = mean;
    }

    /// Associative, commutative merge.
    pub fn merge(&self, other: &MeanMoments) -> MeanMoments {
        if self.n == 0 {
            return *other;
        }
        if other.n == 0 {
            return *self;
        }
        let sum_w = self.sum_w + other.sum_w;
        let delta = other.mean - self.mean;
        let mean = self.mean + delta * other.sum_w / sum_w;
        let (da, db) = (self.mean - mean, other.mean - mean);
        MeanMoments {
            n: self.n + other.n,
            sum_w,
            sum_w2: self.sum_w2 + other.sum_w2,
            mean,
            m2: self.m2 + other.m2 + delta * delta * self.sum_w * other.sum_w / sum_w,
            c1: self.c1 + da * self.sum_w2 + other.c1 + db * other.sum_w2,
            c2: self.c2
                + 2.0 * da * self.c1
                + da * da * self.sum_w2
                + other.c2
                + 2.0 * db * other.c1
                + db * db * other.sum_w2,
        }
    }

    /// Sampling variance of the weighted mean (linearization); `None` with fewer than two observations.
    pub fn var_of_mean(&self) -> Option<f64> {
        (self.n >= 2).then(|| {
            let n = self.n as f64;
            n / (n - 1.0) * self.c2 / (self.sum_w * self.sum_w)
        })
    }

    /// Weighted sample variance with frequency-style correction `m2 / (Σw − 1)` for unit weights, i.e. s².
    pub fn variance(&self) -> Option<f64> {
        (self.n >= 2).then(|| {
            let n = self.n as f64;
            self.m2 / self.sum_w * n / (n - 1.0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
    }

    fn design(rows: &[(f64, f64, f64)]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        let mut w = Vec::new();
        for &(a, b, wi) in rows {
            x.extend([1.0, a, a * b]);
            y.push(2.0 + 0.5 * a - b);
            w.push(wi);
        }
        (x, y, w)
    }

    #[test]
    fn mean_moments_match_textbook_formulas() {
        let y = [3.0, 5.0, 10.0, 2.0];
        let m = MeanMoments::from_slice(&y, None);
        assert!(close(m.mean, 5.0, 1e-15));
        // s² = ((−2)² + 0² + 5² + (−3)²) / 3 = 38 / 3; var of mean = s² / 4.
        assert!(close(m.variance().unwrap(), 38.0 / 3.0, 1e-14));
        assert!(close(m.var_of_mean().unwrap(), 38.0 / 12.0, 1e-14));
        // Weighted: w = (1, 2, 1, 0.5): mean = (3 + 10 + 10 + 1) / 4.5.
        let w = [1.0, 2.0, 1.0, 0.5];
        let m = MeanMoments::from_slice(&y, Some(&w));
        let mean = 24.0 / 4.5;
        assert!(close(m.mean, mean, 1e-15));
        let c2: f64 = y.iter().zip(&w).map(|(y, w)| w * w * (y - mean) * (y - mean)).sum();
        assert!(close(m.c2, c2, 1e-13));
        assert!(close(m.var_of_mean().unwrap(), 4.0 / 3.0 * c2 / (4.5 * 4.5), 1e-13));
    }

    #[test]
    fn streaming_push_equals_block_moments() {
        let y: Vec<f64> = (0..3000).map(|i| ((i * 37) % 101) as f64 + 1e4).collect();
        let w: Vec<f64> = (0..3000).map(|i| 0.5 + (i % 7) as f64).collect();
        let mut streamed = MeanMoments::default();
        for (yi, wi) in y.iter().zip(&w) {
            streamed.push(*yi, *wi);
        }
        let block = MeanMoments::from_slice(&y, Some(&w));
        assert_eq!(streamed.n, block.n);
        for (a, b) in [(streamed.mean, block.mean), (streamed.m2, block.m2), (streamed.c2, block.c2)] {
            assert!(close(a, b, 1e-10), "{a} vs {b}");
        }
        // c1 = Σ w² d is not 0 with unequal weights; both paths must agree on it.
        assert!(
            (streamed.c1 - block.c1).abs() < 1e-8 * block.sum_w2 * block.m2.sqrt(),
            "{} vs {}",
            streamed.c1,
            block.c1
        );
    }

    #[test]
    fn block_push_equals_row_push_and_select_is_exact() {
        let (x, y, w) = design(&[(1.0, 2.0, 1.0), (3.0, 1.0, 2.0), (0.5, 4.0, 0.5), (-2.0, 0.5, 1.5)]);
        let rows = Moments::from_rows(3, &x, &y, Some(&w));
        let mut block = Moments::new(3);
        block.push_block(ArrayView2::from_shape((4, 3), &x).unwrap(), &y, &w);
        assert_eq!(block.n, rows.n);
        for (a, b) in block.xtwx.iter().zip(rows.xtwx.iter()).chain(block.xtwy.iter().zip(rows.xtwy.iter())) {
            assert!(close(*a, *b, 1e-13), "{a} vs {b}");
        }
        assert!(close(block.ytwy, rows.ytwy, 1e-13) && close(block.sum_w2, rows.sum_w2, 1e-13));
        let picked = rows.select(&[2, 0]);
        assert_eq!(picked.xtwx[[0, 1]], rows.xtwx[[2, 0]]);
        assert_eq!(picked.xtwy[0], rows.xtwy[2]);
        assert_eq!(picked.sum_wx[1], rows.sum_wx[0]);
    }

    #[test]
    fn moments_round_trip_through_bytes() {
        let (x, y, w) = design(&[(1.0, 2.0, 1.0), (3.0, 1.0, 2.0), (0.5, 4.0, 0.5)]);
        let m = Moments::from_rows(3, &x, &y, Some(&w));
        assert_eq!(Moments::from_bytes(&m.to_bytes().unwrap()).unwrap(), m);
        assert!(Moments::new(2).merge(&m).is_err());
    }

    proptest! {
        /// Splitting the rows into arbitrary chunks and merging in any grouping gives the same moments.
        #[test]
        fn merging_random_chunkings_matches_one_pass(
            rows in proptest::collection::vec((-50.0f64..50.0, 0.0f64..20.0, 0.1f64..3.0), 2..300),
            cuts in proptest::collection::vec(0usize..300, 0..12),
        ) {
            let (x, y, w) = design(&rows);
            let whole = Moments::from_rows(3, &x, &y, Some(&w));
            let whole_mean = MeanMoments::from_slice(&y, Some(&w));
            let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % (rows.len() + 1)).collect();
            bounds.extend([0, rows.len()]);
            bounds.sort_unstable();
            let mut merged = Moments::new(3);
            let mut merged_mean = MeanMoments::default();
            // Merge chunk moments in reverse order to exercise commutativity as well.
            for pair in bounds.windows(2).rev() {
                let (a, b) = (pair[0], pair[1]);
                let chunk = Moments::from_rows(3, &x[a * 3..b * 3], &y[a..b], Some(&w[a..b]));
                merged = merged.merge(&chunk).unwrap();
                merged_mean = MeanMoments::from_slice(&y[a..b], Some(&w[a..b])).merge(&merged_mean);
            }
            prop_assert_eq!(merged.n, whole.n);
            // Summation error is bounded relative to Σ|terms| (Higham 2002, §4.2), not to a sum that cancels:
            // the moments of |x|, |y| give that scale entry by entry.
            let abs_x: Vec<f64> = x.iter().map(|v| v.abs()).collect();
            let abs_y: Vec<f64> = y.iter().map(|v| v.abs()).collect();
            let scale = Moments::from_rows(3, &abs_x, &abs_y, Some(&w));
            let within = |a: f64, b: f64, s: f64| (a - b).abs() <= 1e-12 * s.max(1e-300);
            for ((a, b), s) in merged.xtwx.iter().zip(whole.xtwx.iter()).zip(scale.xtwx.iter()) {
                prop_assert!(within(*a, *b, *s), "{a} vs {b} (scale {s})");
            }
            for ((a, b), s) in merged.xtwy.iter().zip(whole.xtwy.iter()).zip(scale.xtwy.iter()) {
                prop_assert!(within(*a, *b, *s), "{a} vs {b} (scale {s})");
            }
            prop_assert!(close(merged.ytwy, whole.ytwy, 1e-12));
            prop_assert!(close(merged.sum_w, whole.sum_w, 1e-12));
            let mean_scale = scale.xtwy[0] / scale.sum_w; // weighted mean of |y|
            prop_assert!(within(merged_mean.mean, whole_mean.mean, mean_scale));
            prop_assert!(close(merged_mean.m2, whole_mean.m2, 1e-10));
            prop_assert!(close(merged_mean.c2, whole_mean.c2, 1e-10));
        }
    }
}
