//! Probit regression P(y = 1 | x) = Φ(x'β) by Fisher scoring on covariate cells (the same
//! `LogitCells` of trials and successes as the logit): β ← β + I(β)⁻¹ s(β) with
//! s = Σ (y − nΦ)·φ/(Φ(1 − Φ))·x and I = Σ n·φ²/(Φ(1 − Φ))·x x', until the largest step is below 1e-10;
//! the covariance is the inverse of the observed information (minus the Hessian) at the optimum, as
//! statsmodels' `Probit(...).fit()` and Stata's `probit` report it.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use super::logit::LogitCells;
use crate::{Error, Result};

/// A fitted probit: coefficients and their covariance.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbitFit {
    pub coefficients: Vec<f64>,
    pub covariance: Vec<Vec<f64>>,
    pub iterations: usize,
}

/// Φ, φ and the Fisher weight φ²/(Φ(1 − Φ)) at η, kept away from 0 and 1 in the far tails.
fn parts(normal: &Normal, eta: f64) -> (f64, f64, f64) {
    let p = normal.cdf(eta).clamp(1e-300, 1.0 - 1e-16);
    let d = normal.pdf(eta);
    (p, d, d * d / (p * (1.0 - p)))
}

/// Minus the Hessian of the log-likelihood at `beta`:
/// Σ φ·[s(φ + ηΦ)/Φ² + (n − s)(φ − η(1 − Φ))/(1 − Φ)²]·x x'.
fn observed_information(cells: &LogitCells, beta: &DVector<f64>, normal: &Normal) -> DMatrix<f64> {
    let k = cells.k;
    let mut information = DMatrix::<f64>::zeros(k, k);
    for i in 0..cells.trials.len() {
        let x = &cells.design[i * k..(i + 1) * k];
        let eta: f64 = x.iter().zip(beta.iter()).map(|(a, b)| a * b).sum();
        let (p, d, _) = parts(normal, eta);
        let (s, n) = (cells.successes[i], cells.trials[i]);
        let w = d * (s * (d + eta * p) / (p * p) + (n - s) * (d - eta * (1.0 - p)) / ((1.0 - p) * (1.0 - p)));
        for a in 0..k {
            for b in 0..k {
                information[(a, b)] += w * x[a] * x[b];
            }
        }
    }
    information
}

/// Fits the probit on `cells` (design rows of width k, first column usually the constant).
///
/// ```
/// use payequity::stats::{probit, LogitCells};
/// // Two cells: x = 0 with 1 success in 4, x = 1 with 3 in 4 → Φ(β₀) = 1/4, Φ(β₀ + β₁) = 3/4.
/// let mut cells = LogitCells::new(2);
/// cells.push(&[1.0, 0.0], 4.0, 1.0);
/// cells.push(&[1.0, 1.0], 4.0, 3.0);
/// let fit = probit(&cells).unwrap();
/// assert!((fit.coefficients[0] + 0.6744897501960817).abs() < 1e-9);
/// assert!((fit.coefficients[1] - 2.0 * 0.6744897501960817).abs() < 1e-9);
/// ```
pub fn probit(cells: &LogitCells) -> Result<ProbitFit> {
    let k = cells.k;
    let normal = Normal::standard();
    let rows = cells.trials.len();
    let mut beta = DVector::<f64>::zeros(k);
    let mut information = DMatrix::<f64>::zeros(k, k);
    for iteration in 1..=100 {
        information.fill(0.0);
        let mut score = DVector::<f64>::zeros(k);
        for i in 0..rows {
            let x = &cells.design[i * k..(i + 1) * k];
            let eta: f64 = x.iter().zip(beta.iter()).map(|(a, b)| a * b).sum();
            let (p, d, w) = parts(&normal, eta);
            let residual = (cells.successes[i] - cells.trials[i] * p) * d / (p * (1.0 - p));
            for a in 0..k {
                score[a] += residual * x[a];
                for b in 0..k {
                    information[(a, b)] += cells.trials[i] * w * x[a] * x[b];
                }
            }
        }
        let step = information.clone().cholesky().map(|c| c.solve(&score)).ok_or_else(|| {
            Error::Invalid("probit: the information matrix is singular (no variation, or collinear terms)".into())
        })?;
        beta += &step;
        if !beta.iter().all(|b| b.is_finite()) || beta.iter().any(|b| b.abs() > 30.0) {
            return Err(Error::Invalid("probit: perfect separation (a coefficient is infinite)".into()));
        }
        if step.amax() < 1e-10 {
            let covariance = observed_information(cells, &beta, &normal)
                .try_inverse()
                .ok_or_else(|| Error::Invalid("probit: the information matrix is singular at the optimum".into()))?;
            return Ok(ProbitFit {
                coefficients: beta.iter().copied().collect(),
                covariance: (0..k).map(|a| (0..k).map(|b| covariance[(a, b)]).collect()).collect(),
                iterations: iteration,
            });
        }
    }
    Err(Error::Invalid("probit: no convergence in 100 iterations".into()))
}
