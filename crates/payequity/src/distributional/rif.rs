//! Recentered influence functions RIF(y; ν) = ν + IF(y; ν) of a group's weighted sample
//! (`shared/spec/distributional.md`; Firpo, Fortin & Lemieux 2009; conventions of Stata's `rifvar`,
//! Rios-Avila 2020): the quantile rule, the exact weighted kernel density, the rule-of-thumb bandwidth, and
//! the RIF of every [`Statistic`], whose weighted mean over the sample is ν (quantiles: up to ties at q).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::statistic::{Bandwidth, Kernel, QuantileMethod, Statistic};
use crate::{Error, Result};

/// A group's weighted values, sorted.
#[derive(Debug, Clone)]
pub struct Sample {
    values: Vec<f64>,
    weights: Vec<f64>,
    total: f64,
    method: QuantileMethod,
}

impl Sample {
    /// The sample of `values` with sampling `weights` (all positive and finite; validation ensures it).
    pub fn new(values: &[f64], weights: &[f64]) -> Sample {
        let mut pairs: Vec<(f64, f64)> = values.iter().copied().zip(weights.iter().copied()).collect();
        pairs.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let (values, weights): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let total = weights.iter().sum();
        Sample { values, weights, total, method: QuantileMethod::Stata }
    }

    /// The same sample with quantiles read by `method`.
    pub fn with_quantile_method(mut self, method: QuantileMethod) -> Sample {
        self.method = method;
        self
    }

    /// R's type-7 quantile, with weights as `Hmisc::wtd.quantile` (the rule of R's `rifreg` and `ddecompose`):
    /// with W = Σw, the position o = 1 + (W − 1)τ; the values at the 1-based positions ⌊o⌋ and
    /// min(⌊o⌋ + 1, W), each the smallest y_i whose cumulative weight reaches the position, are interpolated
    /// with the fraction o − ⌊o⌋. With unit weights this is R's `quantile(type = 7)` and numpy's default.
    fn quantile_r7(&self, tau: f64) -> f64 {
        let order = 1.0 + (self.total - 1.0).max(0.0) * tau;
        let low = order.floor().max(1.0);
        let high = (low + 1.0).min(self.total);
        let fraction = order - order.floor();
        let at = |position: f64| -> f64 {
            let mut cumulative = 0.0;
            for (&y, &w) in self.values.iter().zip(&self.weights) {
                cumulative += w;
                if cumulative >= position {
                    return y;
                }
            }
            self.values.last().copied().unwrap_or(f64::NAN)
        };
        let lower = at(low);
        if fraction == 0.0 {
            lower
        } else {
            (1.0 - fraction) * lower + fraction * at(high)
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The weighted mean μ = Σwy/Σw.
    pub fn mean(&self) -> f64 {
        self.values.iter().zip(&self.weights).map(|(y, w)| w * y).sum::<f64>() / self.total
    }

    /// The variance Σw(y − μ)²/Σw (the population form: its RIF is (y − μ)²).
    pub fn variance(&self) -> f64 {
        let mu = self.mean();
        self.values.iter().zip(&self.weights).map(|(y, w)| w * (y - mu).powi(2)).sum::<f64>() / self.total
    }

    /// The quantile q_τ by Stata's `_pctile` rule with weights: with P_i = Σ_{j≤i} w_j / W over the sorted
    /// values, q = (y_i + y_{i+1})/2 when P_i = τ for some i (to 1e-12 relative), else y_i for the smallest i
    /// with P_i > τ.
    ///
    /// ```
    /// use payequity::distributional::Sample;
    /// let s = Sample::new(&[4.0, 1.0, 3.0, 2.0], &[1.0; 4]);
    /// assert_eq!(s.quantile(0.5), 2.5); // P_2 = 0.5 exactly: the mean of y_2 and y_3
    /// assert_eq!(s.quantile(0.3), 2.0);
    /// ```
    pub fn quantile(&self, tau: f64) -> f64 {
        if self.method == QuantileMethod::R7 {
            return self.quantile_r7(tau);
        }
        let target = tau * self.total;
        let tolerance = 1e-12 * self.total;
        let mut cumulative = 0.0;
        for (i, (&y, &w)) in self.values.iter().zip(&self.weights).enumerate() {
            cumulative += w;
            if (cumulative - target).abs() <= tolerance {
                return 0.5 * (y + self.values.get(i + 1).copied().unwrap_or(y));
            }
            if cumulative > target {
                return y;
            }
        }
        self.values.last().copied().unwrap_or(f64::NAN)
    }

    /// The exact weighted kernel density f(q) = Σ wᵢ K((q − yᵢ)/h) / (h·Σ wᵢ) (no binning; values beyond the
    /// kernel's support, or beyond 40h for the gaussian, add nothing).
    pub fn density(&self, q: f64, kernel: Kernel, h: f64) -> f64 {
        let reach = kernel.support().min(40.0) * h;
        let from = self.values.partition_point(|&y| y < q - reach);
        let to = self.values.partition_point(|&y| y <= q + reach);
        let sum: f64 = self.values[from..to]
            .iter()
            .zip(&self.weights[from..to])
            .map(|(&y, &w)| w * kernel.weight((q - y) / h))
            .sum();
        sum / (h * self.total)
    }

    /// The bandwidth: fixed, or the rule of thumb of Stata's `rifvar`,
    /// h = 1.3643·δ_K·n^(−1/5)·min(s, IQR/1.349), n the rows, s the weighted SD with the aweight convention
    /// (weights scaled to sum to n, divisor n − 1), IQR = q_0.75 − q_0.25 by [`Sample::quantile`]. When one
    /// of s and IQR/1.349 is zero the other is used.
    pub fn bandwidth(&self, kernel: Kernel, bandwidth: Bandwidth) -> Result<f64> {
        if let Bandwidth::Fixed(h) = bandwidth {
            return Ok(h);
        }
        let n = self.len() as f64;
        if self.len() < 2 {
            return Err(Error::Invalid("a density needs at least two rows in each group".into()));
        }
        let s = (self.variance() * n / (n - 1.0)).sqrt();
        let (factor, divisor, iqr) = match bandwidth {
            Bandwidth::Nrd0 => (0.9, 1.34, self.quantile_r7(0.75) - self.quantile_r7(0.25)),
            _ => (1.3643 * kernel.delta(), 1.349, self.quantile(0.75) - self.quantile(0.25)),
        };
        rule_of_thumb(factor, n, s, iqr / divisor)
    }

    /// The plain statistic ν of the sample (no density needed); `None` where it is undefined (the Gini of a
    /// sample with a non-positive mean, a ratio over a zero quantile, an empty sample).
    pub fn statistic(&self, statistic: Statistic) -> Option<f64> {
        if self.is_empty() || self.total.is_nan() || self.total <= 0.0 {
            return None;
        }
        let value = match statistic {
            Statistic::Mean => self.mean(),
            Statistic::Variance => self.variance(),
            Statistic::Quantile(tau) => self.quantile(tau),
            Statistic::InterquantileRange(low, high) => self.quantile(high) - self.quantile(low),
            Statistic::InterquantileRatio(low, high) => {
                let q = self.quantile(low);
                if q == 0.0 {
                    return None;
                }
                self.quantile(high) / q
            }
            Statistic::Gini => {
                if self.mean() <= 0.0 {
                    return None;
                }
                self.gini().0
            }
        };
        value.is_finite().then_some(value)
    }

    /// The mid-rank Gini coefficient G = (2/μ)·Σ (wᵢ/W)·yᵢ·F_mid(yᵢ) − 1, F_mid(y) = P(Y < y) + P(Y = y)/2:
    /// exact for discrete samples, and the weighted mean of the Gini RIF. With the cumulative shares
    /// (distinct values, F(y) = Σ_{yⱼ ≤ y} wⱼ/W, GL(y) = Σ_{yⱼ ≤ y} wⱼ yⱼ/W) the RIF needs.
    fn gini(&self) -> (f64, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mu = self.mean();
        let (mut distinct, mut cum_f, mut cum_gl) = (Vec::new(), Vec::new(), Vec::new());
        let (mut f, mut gl, mut weighted) = (0.0, 0.0, 0.0);
        let mut i = 0;
        while i < self.values.len() {
            let y = self.values[i];
            let (mut w, mut j) = (0.0, i);
            while j < self.values.len() && self.values[j] == y {
                w += self.weights[j];
                j += 1;
            }
            let share = w / self.total;
            weighted += share * y * (f + share / 2.0);
            f += share;
            gl += share * y;
            distinct.push(y);
            cum_f.push(f);
            cum_gl.push(gl);
            i = j;
        }
        (2.0 / mu * weighted - 1.0, distinct, cum_f, cum_gl)
    }
}

/// h = factor·n^(−1/5)·min(s, spread) for a rule-of-thumb bandwidth (spread = IQR/1.349 or /1.34); when one
/// of s and spread is zero the other is used, and both zero is an error (a density needs variation).
pub fn rule_of_thumb(factor: f64, n: f64, s: f64, spread: f64) -> Result<f64> {
    let scale = match (s > 0.0, spread > 0.0) {
        (true, true) => s.min(spread),
        (true, false) => s,
        (false, true) => spread,
        (false, false) => {
            return Err(Error::Invalid(
                "every value of the outcome is the same in a group: its density at a quantile is undefined".into(),
            ))
        }
    };
    Ok(factor * n.powf(-0.2) * scale)
}

/// The density used at one quantile of a group (every q, f(q) and h is reported).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DensityAt {
    pub tau: f64,
    pub q: f64,
    pub f: f64,
    pub bandwidth: f64,
}

/// The influence of a quantile: IF(y) = (τ − 1{y < q})/f(q) (strict <, as Stata).
#[derive(Debug, Clone, Copy)]
struct QuantileInfluence {
    tau: f64,
    q: f64,
    f: f64,
}

impl QuantileInfluence {
    fn at(&self, y: f64) -> f64 {
        (self.tau - if y < self.q { 1.0 } else { 0.0 }) / self.f
    }
}

#[derive(Debug, Clone)]
enum Influence {
    Mean,
    Quantile(QuantileInfluence),
    Variance { mu: f64 },
    Gini { mu: f64, r: f64, distinct: Vec<f64>, cum_f: Vec<f64>, cum_gl: Vec<f64> },
    Range(QuantileInfluence, QuantileInfluence),
    Ratio(QuantileInfluence, QuantileInfluence),
}

/// The RIF of a statistic over one group's sample: ν, the densities used, and y ↦ RIF(y; ν).
#[derive(Debug, Clone)]
pub struct RifFunction {
    pub statistic: Statistic,
    /// The plain statistic ν of the sample (e.g. the quantile).
    pub value: f64,
    pub density: Vec<DensityAt>,
    influence: Influence,
}

impl RifFunction {
    /// The RIF of `statistic` over `sample`, with densities by `kernel` and `bandwidth`.
    ///
    /// ```
    /// use payequity::distributional::{Bandwidth, Kernel, RifFunction, Sample, Statistic};
    /// let y = [1.0, 2.0, 3.0, 4.0, 10.0];
    /// let sample = Sample::new(&y, &[1.0; 5]);
    /// let rif = RifFunction::of(&sample, Statistic::Variance, Kernel::Gaussian, Bandwidth::Silverman).unwrap();
    /// let mean_rif: f64 = y.iter().map(|&v| rif.apply(v)).sum::<f64>() / 5.0;
    /// assert!((mean_rif - rif.value).abs() < 1e-12); // the mean RIF is the variance, 10
    /// assert!((rif.value - 10.0).abs() < 1e-12);
    /// ```
    pub fn of(sample: &Sample, statistic: Statistic, kernel: Kernel, bandwidth: Bandwidth) -> Result<RifFunction> {
        if sample.is_empty() {
            return Err(Error::Invalid(format!("statistic {statistic}: a group has no rows")));
        }
        let needs_density = !statistic.quantiles().is_empty();
        let h = if needs_density { sample.bandwidth(kernel, bandwidth)? } else { f64::NAN };
        let mut density = Vec::new();
        let mut influence_at = |tau: f64| -> Result<QuantileInfluence> {
            let q = sample.quantile(tau);
            let f = sample.density(q, kernel, h);
            if !(f > 0.0 && f.is_finite()) {
                return Err(Error::Invalid(format!(
                    "statistic {statistic}: the density at q = {q} (τ = {tau}) is zero with the {kernel:?} kernel and \
                     bandwidth {h}: no value lies within the kernel's reach; use the gaussian kernel or a larger bandwidth"
                )));
            }
            density.push(DensityAt { tau, q, f, bandwidth: h });
            Ok(QuantileInfluence { tau, q, f })
        };
        let (value, influence) = match statistic {
            Statistic::Mean => (sample.mean(), Influence::Mean),
            Statistic::Variance => (sample.variance(), Influence::Variance { mu: sample.mean() }),
            Statistic::Quantile(tau) => {
                let q = influence_at(tau)?;
                (q.q, Influence::Quantile(q))
            }
            Statistic::InterquantileRange(low, high) => {
                let (a, b) = (influence_at(low)?, influence_at(high)?);
                (b.q - a.q, Influence::Range(a, b))
            }
            Statistic::InterquantileRatio(low, high) => {
                let (a, b) = (influence_at(low)?, influence_at(high)?);
                if a.q == 0.0 {
                    return Err(Error::Invalid(format!(
                        "statistic {statistic}: the lower quantile is 0, so the ratio is undefined"
                    )));
                }
                (b.q / a.q, Influence::Ratio(a, b))
            }
            Statistic::Gini => {
                let mu = sample.mean();
                if mu <= 0.0 {
                    return Err(Error::Invalid(format!(
                        "statistic gini: the mean of a group is {mu}; the Gini needs a positive mean"
                    )));
                }
                let (g, distinct, cum_f, cum_gl) = sample.gini();
                (g, Influence::Gini { mu, r: mu * (1.0 - g) / 2.0, distinct, cum_f, cum_gl })
            }
        };
        Ok(RifFunction { statistic, value, density, influence })
    }

    /// The RIF from statistics computed elsewhere (a streamed pass): the mean μ, the variance Σw(y − μ)²/Σw,
    /// and per quantile of `statistic.quantiles()` its (q, f(q), h). Not for the Gini (its RIF needs every
    /// value).
    pub fn from_parts(statistic: Statistic, mu: f64, variance: f64, quantiles: &[DensityAt]) -> Result<RifFunction> {
        let at = |i: usize| -> Result<QuantileInfluence> {
            let d = quantiles.get(i).ok_or_else(|| Error::Invalid("internal: a quantile is missing".into()))?;
            if !(d.f > 0.0 && d.f.is_finite()) {
                return Err(Error::Invalid(format!(
                    "statistic {statistic}: the density at q = {} (τ = {}) is zero with bandwidth {}: use the gaussian \
                     kernel or a larger bandwidth",
                    d.q, d.tau, d.bandwidth
                )));
            }
            Ok(QuantileInfluence { tau: d.tau, q: d.q, f: d.f })
        };
        let (value, influence) = match statistic {
            Statistic::Mean => (mu, Influence::Mean),
            Statistic::Quantile(_) => {
                let q = at(0)?;
                (q.q, Influence::Quantile(q))
            }
            Statistic::InterquantileRange(_, _) => {
                let (a, b) = (at(0)?, at(1)?);
                (b.q - a.q, Influence::Range(a, b))
            }
            Statistic::InterquantileRatio(_, _) => {
                let (a, b) = (at(0)?, at(1)?);
                if a.q == 0.0 {
                    return Err(Error::Invalid(format!("statistic {statistic}: the lower quantile is 0")));
                }
                (b.q / a.q, Influence::Ratio(a, b))
            }
            Statistic::Variance => (variance, Influence::Variance { mu }),
            Statistic::Gini => {
                return Err(Error::Invalid(format!("internal: {statistic} is not built from parts")));
            }
        };
        Ok(RifFunction { statistic, value, density: quantiles.to_vec(), influence })
    }

    /// RIF(y; ν) = ν + IF(y; ν); see the table of `distributional.md`.
    pub fn apply(&self, y: f64) -> f64 {
        match &self.influence {
            Influence::Mean => y,
            Influence::Variance { mu } => (y - mu).powi(2),
            Influence::Quantile(q) => q.q + q.at(y),
            Influence::Range(a, b) => (b.q + b.at(y)) - (a.q + a.at(y)),
            Influence::Ratio(a, b) => {
                let ratio = b.q / a.q;
                ratio + (b.at(y) - ratio * a.at(y)) / a.q
            }
            Influence::Gini { mu, r, distinct, cum_f, cum_gl } => {
                // F and GL at y: the shares of the values ≤ y.
                let at = distinct.partition_point(|&v| v <= y);
                let (f, gl) = if at == 0 { (0.0, 0.0) } else { (cum_f[at - 1], cum_gl[at - 1]) };
                1.0 + 2.0 * y * r / (mu * mu) - 2.0 / mu * (y * (1.0 - f) + gl)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_rif(y: &[f64], w: &[f64], statistic: Statistic) -> (f64, f64) {
        let sample = Sample::new(y, w);
        let rif = RifFunction::of(&sample, statistic, Kernel::Gaussian, Bandwidth::Silverman).unwrap();
        let total: f64 = w.iter().sum();
        (y.iter().zip(w).map(|(&v, &wi)| wi * rif.apply(v)).sum::<f64>() / total, rif.value)
    }

    #[test]
    fn mean_rif_equals_the_statistic() {
        let y: Vec<f64> = (0..500).map(|i| ((i * 7919) % 500) as f64 * 0.37 + 1.0 + (i % 3) as f64 * 0.011).collect();
        let w: Vec<f64> = (0..500).map(|i| 0.5 + (i % 5) as f64 * 0.3).collect();
        for name in ["mean", "var", "gini"] {
            let (mean, value) = mean_rif(&y, &w, name.parse().unwrap());
            assert!((mean - value).abs() < 1e-10 * value.abs().max(1.0), "{name}: {mean} vs {value}");
        }
        // Quantiles without ties at q: P(y < q) = τ up to one observation's weight.
        for name in ["q10", "q50", "q90", "iqr10_90", "iqratio90_10"] {
            let (mean, value) = mean_rif(&y, &[1.0; 500], name.parse().unwrap());
            let f = 0.001; // the density is about 1/(0.37·500); one value moves the mean RIF by ≤ (1/500)/f
            assert!((mean - value).abs() <= 0.002 / f * 3.0, "{name}: {mean} vs {value}");
        }
    }

    #[test]
    fn gini_of_hand_worked_samples() {
        // Two people, incomes 1 and 3: mean absolute difference 1, G = Δ/(2μ) with Δ = E|Y − Y'| = 1 → 0.25.
        let sample = Sample::new(&[1.0, 3.0], &[1.0, 1.0]);
        assert!((sample.gini().0 - 0.25).abs() < 1e-15);
        // Equal incomes: 0.
        assert!(Sample::new(&[2.0; 4], &[1.0; 4]).gini().0.abs() < 1e-15);
    }

    #[test]
    fn weighted_quantile_follows_stata_pctile() {
        // Weights 1, 1, 2 on 1, 2, 3: P = 0.25, 0.5, 1 → q50 = (2 + 3)/2, q40 = 2, q60 = 3.
        let s = Sample::new(&[3.0, 1.0, 2.0], &[2.0, 1.0, 1.0]);
        assert_eq!(s.quantile(0.5), 2.5);
        assert_eq!(s.quantile(0.4), 2.0);
        assert_eq!(s.quantile(0.6), 3.0);
    }

    #[test]
    fn a_density_of_zero_is_an_error_naming_the_cure() {
        let s = Sample::new(&[1.0, 2.0, 100.0, 101.0], &[1.0; 4]);
        let e = RifFunction::of(&s, Statistic::Quantile(0.5), Kernel::Epan2, Bandwidth::Fixed(0.1)).unwrap_err();
        assert!(e.to_string().contains("larger bandwidth"), "{e}");
    }
}
