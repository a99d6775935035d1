//! Weighted least squares from mergeable [`Moments`]: a rank-revealing solve that drops collinear or
//! constant regressors (named in `warnings`, as Stata's "omitted because of collinearity"), classical
//! covariance, and HC1 / cluster-robust covariance from a second mergeable pass over the residuals.
//!
//! β = (X'WX)⁻¹ X'Wy on the kept columns; RSS = y'Wy − β'X'Wy; σ² = RSS / (n − k) (statsmodels `WLS`
//! `scale`); V_classical = σ² (X'WX)⁻¹; V_HC1 = n/(n−k) · B M B with B = (X'WX)⁻¹, M = Σ wᵢ² eᵢ² xᵢxᵢ'
//! (MacKinnon & White 1985); V_cluster = G/(G−1) · (n−1)/(n−k) · B (Σ_g s_g s_g') B with
//! s_g = Σ_{i∈g} wᵢ eᵢ xᵢ (Stata's `vce(cluster)` small-sample factor).

use std::collections::BTreeMap;

use nalgebra::{DMatrix, DVector};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::Moments;
use crate::{Error, Result};

/// Relative tolerance of the collinearity check: a regressor is dropped when the part of its weighted sum
/// of squares not explained by the regressors before it is below this share of its sum of squares.
pub const COLLINEARITY_TOLERANCE: f64 = 1e-10;

/// A fitted weighted least-squares regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OlsFit {
    pub names: Vec<String>,
    /// False for regressors dropped as collinear or constant (their coefficient and covariance are 0).
    pub kept: Vec<bool>,
    pub coefficients: Array1<f64>,
    /// Classical covariance σ² (X'WX)⁻¹ (zero rows and columns for dropped regressors).
    pub covariance: Array2<f64>,
    /// (X'WX)⁻¹ on the kept columns, zero elsewhere: the "bread" of robust covariances.
    pub bread: Array2<f64>,
    pub n: u64,
    pub rank: usize,
    pub df_resid: f64,
    pub rss: f64,
    pub sigma2: f64,
    /// Centered R² when a constant column is present, else uncentered.
    pub r2: f64,
    pub warnings: Vec<String>,
}

/// Which regressors are linearly independent of the ones before them, by sweeping X'WX in column order
/// (Goodnight 1979): the diagonal entry of a column, after sweeping the kept columns before it, is the
/// weighted residual sum of squares of that column regressed on them.
fn independent_columns(xtwx: &Array2<f64>) -> Vec<bool> {
    let k = xtwx.nrows();
    let mut a = xtwx.clone();
    let mut kept = vec![false; k];
    for j in 0..k {
        let original = xtwx[[j, j]];
        let residual = a[[j, j]];
        if original <= 0.0 || !residual.is_finite() || residual <= COLLINEARITY_TOLERANCE * original {
            continue;
        }
        kept[j] = true;
        // Sweep on j.
        let d = a[[j, j]];
        let row: Vec<f64> = (0..k).map(|l| a[[j, l]]).collect();
        for i in 0..k {
            if i == j {
                continue;
            }
            let aij = a[[i, j]];
            for l in 0..k {
                if l != j {
                    a[[i, l]] -= aij * row[l] / d;
                }
            }
            a[[i, j]] = aij / d;
        }
        for l in 0..k {
            if l != j {
                a[[j, l]] = row[l] / d;
            }
        }
        a[[j, j]] = -1.0 / d;
    }
    kept
}

/// Fits y on X from the moments; `names` label the k regressors (the constant, if any, named `_cons`).
///
/// ```
/// use payequity::stats::{ols, Moments};
/// // y = (1, 2, 3, 5) on x = (0, 1, 2, 3) with a constant: slope 6.5 / 5 = 1.3, intercept 2.75 − 1.3 · 1.5 = 0.8,
/// // residuals (0.2, −0.1, −0.4, 0.3), RSS 0.3, σ² = 0.15, Var(slope) = σ² / Σ(x − x̄)² = 0.03.
/// let x = [1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0];
/// let fit = ols(&Moments::from_rows(2, &x, &[1.0, 2.0, 3.0, 5.0], None), &["_cons".into(), "x".into()]).unwrap();
/// assert!((fit.coefficients[1] - 1.3).abs() < 1e-12 && (fit.coefficients[0] - 0.8).abs() < 1e-12);
/// assert!((fit.rss - 0.3).abs() < 1e-12 && (fit.covariance[[1, 1]] - 0.03).abs() < 1e-12);
/// ```
pub fn ols(moments: &Moments, names: &[String]) -> Result<OlsFit> {
    let k = moments.k();
    if names.len() != k {
        return Err(Error::Invalid(format!("{} names for {k} regressors", names.len())));
    }
    let kept = independent_columns(&moments.xtwx);
    let index: Vec<usize> = (0..k).filter(|&j| kept[j]).collect();
    let rank = index.len();
    let mut warnings: Vec<String> = (0..k)
        .filter(|&j| !kept[j])
        .map(|j| format!("`{}` omitted because of collinearity (or no variation)", names[j]))
        .collect();
    if moments.n as usize <= rank {
        return Err(Error::Invalid(format!(
            "{} observations for {rank} parameters: a regression needs more observations than parameters",
            moments.n
        )));
    }
    let xtwx = DMatrix::from_fn(rank, rank, |r, c| moments.xtwx[[index[r], index[c]]]);
    let xtwy = DVector::from_fn(rank, |r, _| moments.xtwy[index[r]]);
    let cholesky = xtwx
        .cholesky()
        .ok_or_else(|| Error::Invalid("X'WX is not positive definite after dropping collinear columns".into()))?;
    let beta = cholesky.solve(&xtwy);
    let inverse = cholesky.inverse();

    let rss = (moments.ytwy - beta.dot(&xtwy)).max(0.0);
    let df_resid = moments.n as f64 - rank as f64;
    let sigma2 = rss / df_resid;
    let constant = (0..k).find(|&j| kept[j] && names[j] == "_cons");
    let tss = match constant {
        Some(c) => moments.ytwy - moments.xtwy[c] * moments.xtwy[c] / moments.sum_w,
        None => moments.ytwy,
    };
    let r2 = if tss > 0.0 { 1.0 - rss / tss } else { f64::NAN };
    if !r2.is_finite() {
        warnings.push("the outcome has no variation: R² is undefined".into());
    }

    let mut coefficients = Array1::zeros(k);
    let mut bread = Array2::zeros((k, k));
    for (r, &i) in index.iter().enumerate() {
        coefficients[i] = beta[r];
        for (c, &j) in index.iter().enumerate() {
            bread[[i, j]] = inverse[(r, c)];
        }
    }
    let covariance = &bread * sigma2;
    Ok(OlsFit {
        names: names.to_vec(),
        kept,
        coefficients,
        covariance,
        bread,
        n: moments.n,
        rank,
        df_resid,
        rss,
        sigma2,
        r2,
        warnings,
    })
}

/// Second-pass moments for HC1: `meat = Σ wᵢ² eᵢ² xᵢ xᵢ'` with eᵢ = yᵢ − xᵢ'β. Mergeable (a sum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResidualMoments {
    pub n: u64,
    pub meat: Array2<f64>,
}

impl ResidualMoments {
    pub fn new(k: usize) -> ResidualMoments {
        ResidualMoments { n: 0, meat: Array2::zeros((k, k)) }
    }

    /// Adds one observation given the fitted coefficients.
    pub fn push(&mut self, x: &[f64], y: f64, w: f64, beta: &Array1<f64>) {
        let e = y - x.iter().zip(beta.iter()).map(|(a, b)| a * b).sum::<f64>();
        let s = w * w * e * e;
        for i in 0..x.len() {
            for j in 0..x.len() {
                self.meat[[i, j]] += s * x[i] * x[j];
            }
        }
        self.n += 1;
    }

    pub fn merge(mut self, other: &ResidualMoments) -> ResidualMoments {
        self.n += other.n;
        self.meat += &other.meat;
        self
    }
}

/// Second-pass per-cluster score sums `s_g = Σ_{i∈g} wᵢ eᵢ xᵢ`. Mergeable (sums per cluster key).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClusterScores {
    pub n: u64,
    pub scores: BTreeMap<String, Array1<f64>>,
}

impl ClusterScores {
    /// Adds one observation of cluster `cluster`.
    pub fn push(&mut self, cluster: &str, x: &[f64], y: f64, w: f64, beta: &Array1<f64>) {
        let e = y - x.iter().zip(beta.iter()).map(|(a, b)| a * b).sum::<f64>();
        let score = self.scores.entry(cluster.to_string()).or_insert_with(|| Array1::zeros(x.len()));
        for (s, xi) in score.iter_mut().zip(x) {
            *s += w * e * xi;
        }
        self.n += 1;
    }

    pub fn merge(mut self, other: &ClusterScores) -> ClusterScores {
        self.n += other.n;
        for (key, score) in &other.scores {
            *self.scores.entry(key.clone()).or_insert_with(|| Array1::zeros(score.len())) += score;
        }
        self
    }
}

impl OlsFit {
    /// HC1 covariance `n/(n−k) · B M B`.
    pub fn hc1(&self, residuals: &ResidualMoments) -> Array2<f64> {
        let n = self.n as f64;
        self.bread.dot(&residuals.meat).dot(&self.bread) * (n / self.df_resid)
    }

    /// Cluster-robust covariance `G/(G−1) · (n−1)/(n−k) · B (Σ s_g s_g') B`; `None` with fewer than two
    /// clusters.
    pub fn cluster(&self, clusters: &ClusterScores) -> Option<Array2<f64>> {
        let g = clusters.scores.len() as f64;
        if g < 2.0 {
            return None;
        }
        let k = self.coefficients.len();
        let mut meat = Array2::<f64>::zeros((k, k));
        for s in clusters.scores.values() {
            for i in 0..k {
                for j in 0..k {
                    meat[[i, j]] += s[i] * s[j];
                }
            }
        }
        let n = self.n as f64;
        let factor = g / (g - 1.0) * (n - 1.0) / self.df_resid;
        Some(self.bread.dot(&meat).dot(&self.bread) * factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (Vec<f64>, Vec<f64>) {
        (vec![1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0], vec![1.0, 2.0, 3.0, 5.0])
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hc1_matches_the_hand_computed_sandwich() {
        let (x, y) = tiny();
        let fit = ols(&Moments::from_rows(2, &x, &y, None), &names(&["_cons", "x"])).unwrap();
        let mut residuals = ResidualMoments::new(2);
        for i in 0..4 {
            residuals.push(&x[2 * i..2 * i + 2], y[i], 1.0, &fit.coefficients);
        }
        // By hand: X'X = [[4, 6], [6, 14]], (X'X)⁻¹ = [[14, −6], [−6, 4]] / 20; residuals (0.2, −0.1, −0.4, 0.3);
        // meat = Σ e² x x' = [[0.30, 0.60], [0.60, 1.46]]; slope variance = n/(n−k) · (B M B)[1,1].
        let b = [[0.7, -0.3], [-0.3, 0.2]];
        let m = [[0.30, 0.60], [0.60, 1.46]];
        let mut bmb = [[0.0; 2]; 2];
        for i in 0..2 {
            for j in 0..2 {
                for p in 0..2 {
                    for q in 0..2 {
                        bmb[i][j] += b[i][p] * m[p][q] * b[q][j];
                    }
                }
            }
        }
        let v = fit.hc1(&residuals);
        for i in 0..2 {
            for j in 0..2 {
                assert!((v[[i, j]] - 2.0 * bmb[i][j]).abs() < 1e-12, "{i},{j}: {} vs {}", v[[i, j]], 2.0 * bmb[i][j]);
            }
        }
        assert!((fit.r2 - (1.0 - 0.3 / 8.75)).abs() < 1e-12);
    }

    #[test]
    fn collinear_and_constant_columns_are_dropped_and_named() {
        // Columns: _cons, x, 2x (collinear), zero (no variation), x² (kept).
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let mut x = Vec::new();
        let mut y = Vec::new();
        for &v in &xs {
            x.extend([1.0, v, 2.0 * v, 0.0, v * v]);
            y.push(1.0 + 0.5 * v - 0.25 * v * v);
        }
        let fit = ols(&Moments::from_rows(5, &x, &y, None), &names(&["_cons", "x", "x2", "zero", "xsq"])).unwrap();
        assert_eq!(fit.kept, vec![true, true, false, false, true]);
        assert_eq!(fit.rank, 3);
        assert!(fit.warnings.iter().any(|w| w.contains("`x2`")) && fit.warnings.iter().any(|w| w.contains("`zero`")));
        // Exact data: the planted coefficients come back, dropped ones are 0.
        let expected = [1.0, 0.5, 0.0, 0.0, -0.25];
        for (got, want) in fit.coefficients.iter().zip(expected) {
            assert!((got - want).abs() < 1e-10, "{got} vs {want}");
        }
        assert_eq!(fit.covariance[[2, 2]], 0.0);
    }

    #[test]
    fn too_few_observations_is_an_error() {
        let x = [1.0, 0.0, 1.0, 1.0];
        let err = ols(&Moments::from_rows(2, &x, &[1.0, 2.0], None), &names(&["_cons", "x"])).unwrap_err();
        assert!(err.to_string().contains("more observations than parameters"), "{err}");
    }

    #[test]
    fn cluster_scores_merge_and_give_the_stata_factor() {
        let (x, y) = tiny();
        let fit = ols(&Moments::from_rows(2, &x, &y, None), &names(&["_cons", "x"])).unwrap();
        let clusters = ["a", "a", "b", "b"];
        let mut whole = ClusterScores::default();
        let mut left = ClusterScores::default();
        let mut right = ClusterScores::default();
        for i in 0..4 {
            whole.push(clusters[i], &x[2 * i..2 * i + 2], y[i], 1.0, &fit.coefficients);
            let part = if i % 2 == 0 { &mut left } else { &mut right };
            part.push(clusters[i], &x[2 * i..2 * i + 2], y[i], 1.0, &fit.coefficients);
        }
        assert_eq!(left.merge(&right), whole);
        let v = fit.cluster(&whole).unwrap();
        // Cluster scores: a = (0.2 − 0.1, 0 − 0.1) = (0.1, −0.1); b = (−0.1, −0.8 + 0.9) = (−0.1, 0.1).
        let s = [[0.1, -0.1], [-0.1, 0.1]];
        let mut meat = [[0.0; 2]; 2];
        for g in s {
            for i in 0..2 {
                for j in 0..2 {
                    meat[i][j] += g[i] * g[j];
                }
            }
        }
        let b = [[0.7, -0.3], [-0.3, 0.2]];
        let factor = 2.0 / 1.0 * 3.0 / 2.0;
        let mut slope = 0.0;
        for p in 0..2 {
            for q in 0..2 {
                slope += b[1][p] * meat[p][q] * b[q][1];
            }
        }
        assert!((v[[1, 1]] - factor * slope).abs() < 1e-12);
    }
}
