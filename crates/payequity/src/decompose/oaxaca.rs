//! Oaxaca-Blinder point estimates from the mergeable moments of groups A and B (`shared/spec/oaxaca.md`):
//! difference, threefold (group B's viewpoint), twofold with every reference coefficient vector, and the
//! detailed terms of each component. Regressors must have the constant `_cons` first.

use serde::{Deserialize, Serialize};

use ndarray::Array2;

use crate::stats::{ols, Moments, OlsFit};
use crate::{Error, Result};

/// The nondiscriminatory coefficients β* of the twofold decomposition (names as in the spec).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "reference", content = "weight")]
pub enum Reference {
    /// β* = W·β_A + (1−W)·β_B.
    Weight(f64),
    /// W = 0.5 (Reimers 1983).
    Reimers,
    /// W = n_A / (n_A + n_B), weighted counts (Cotton 1988).
    Cotton,
    /// Pooled regression over A ∪ B without a group indicator (Neumark 1988; Stata `omega`).
    Neumark,
    /// Pooled regression over A ∪ B with an indicator of group B, dropped from β* (Fortin 2008, Jann 2008).
    Pooled,
}

/// Threefold components with their per-regressor terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threefold {
    pub endowments: f64,
    pub coefficients: f64,
    pub interaction: f64,
    /// Delta-method standard errors of (endowments, coefficients, interaction).
    pub se: (f64, f64, f64),
    /// (term, endowments, coefficients, interaction) per regressor.
    pub detailed: Vec<(String, f64, f64, f64)>,
}

/// Twofold components with their per-regressor terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Twofold {
    pub reference: Reference,
    pub explained: f64,
    pub unexplained: f64,
    pub unexplained_a: f64,
    pub unexplained_b: f64,
    /// Delta-method standard errors of (explained, unexplained); `None` for `pooled` and `neumark`, whose
    /// joint covariance with the group coefficients needs the stacked-score pass (not in this build).
    pub se: Option<(f64, f64)>,
    /// (term, explained, unexplained) per regressor.
    pub detailed: Vec<(String, f64, f64)>,
    pub beta_star: Vec<f64>,
}

/// Point estimates of the decomposition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OaxacaPoint {
    pub names: Vec<String>,
    pub mean_a: f64,
    pub mean_b: f64,
    pub difference: f64,
    pub xbar_a: Vec<f64>,
    pub xbar_b: Vec<f64>,
    pub beta_a: Vec<f64>,
    pub beta_b: Vec<f64>,
    pub threefold: Threefold,
    pub twofold: Twofold,
    pub warnings: Vec<String>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// g' V g.
fn quad(v: &Array2<f64>, g: &[f64]) -> f64 {
    let k = g.len();
    (0..k).map(|i| (0..k).map(|j| g[i] * v[[i, j]] * g[j]).sum::<f64>()).sum()
}

/// Covariance of the mean vector, `S / n` with S the (weighted) covariance matrix of X with the n/(n−1)
/// correction (zero for the constant): covariate means are treated as stochastic (Jann 2008).
fn mean_covariance(m: &Moments) -> Array2<f64> {
    let xbar = m.mean_x();
    let n = m.n as f64;
    let k = m.k();
    Array2::from_shape_fn((k, k), |(i, j)| (m.xtwx[[i, j]] / m.sum_w - xbar[i] * xbar[j]) / (n - 1.0))
}

/// Pooled moments over A ∪ B with an extra regressor D = 1 for group B (last column).
fn pooled_with_indicator(a: &Moments, b: &Moments) -> Result<Moments> {
    let k = a.k();
    let both = a.clone().merge(b)?;
    let mut m = Moments::new(k + 1);
    m.n = both.n;
    m.sum_w = both.sum_w;
    m.sum_w2 = both.sum_w2;
    m.ytwy = both.ytwy;
    for i in 0..k {
        m.sum_wx[i] = both.sum_wx[i];
        m.xtwy[i] = both.xtwy[i];
        for j in 0..k {
            m.xtwx[[i, j]] = both.xtwx[[i, j]];
        }
        // Σ_B w·x_i·D = Σ_B w·x_i.
        m.xtwx[[i, k]] = b.sum_wx[i];
        m.xtwx[[k, i]] = b.sum_wx[i];
    }
    m.sum_wx[k] = b.sum_w;
    m.xtwx[[k, k]] = b.sum_w;
    // Σ_B w·y·D = Σ_B w·y = X'Wy of B at the constant.
    m.xtwy[k] = b.xtwy[0];
    Ok(m)
}

fn fit(moments: &Moments, names: &[String], group: &str, warnings: &mut Vec<String>) -> Result<OlsFit> {
    let fit = ols(moments, names)?;
    warnings.extend(fit.warnings.iter().map(|w| format!("group {group}: {w}")));
    Ok(fit)
}

/// Oaxaca-Blinder point estimates from the moments of A and B (X = [`_cons`, regressors...]).
///
/// R = ȳ_A − ȳ_B = x̄_A'β_A − x̄_B'β_B; threefold E = (x̄_A − x̄_B)'β_B, C = x̄_B'(β_A − β_B),
/// I = (x̄_A − x̄_B)'(β_A − β_B); twofold Q = (x̄_A − x̄_B)'β*, U_A = x̄_A'(β_A − β*), U_B = x̄_B'(β* − β_B).
pub fn oaxaca_point(a: &Moments, b: &Moments, names: &[String], reference: Reference) -> Result<OaxacaPoint> {
    if names.first().map(String::as_str) != Some("_cons") {
        return Err(Error::Invalid("the first regressor must be the constant `_cons`".into()));
    }
    if let Reference::Weight(w) = reference {
        if !(0.0..=1.0).contains(&w) {
            return Err(Error::Invalid(format!("the reference weight W must be in [0, 1], got {w}")));
        }
    }
    let mut warnings = Vec::new();
    let fit_a = fit(a, names, "A", &mut warnings)?;
    let fit_b = fit(b, names, "B", &mut warnings)?;
    let (beta_a, beta_b) = (fit_a.coefficients.to_vec(), fit_b.coefficients.to_vec());
    let (xbar_a, xbar_b) = (a.mean_x().to_vec(), b.mean_x().to_vec());
    let (mean_a, mean_b) = (a.xtwy[0] / a.sum_w, b.xtwy[0] / b.sum_w);
    let combine = |w: f64| -> Vec<f64> { beta_a.iter().zip(&beta_b).map(|(x, y)| w * x + (1.0 - w) * y).collect() };
    let beta_star = match reference {
        Reference::Weight(w) => combine(w),
        Reference::Reimers => combine(0.5),
        Reference::Cotton => combine(a.sum_w / (a.sum_w + b.sum_w)),
        Reference::Neumark => fit(&a.clone().merge(b)?, names, "A ∪ B", &mut warnings)?.coefficients.to_vec(),
        Reference::Pooled => {
            let mut pooled_names = names.to_vec();
            pooled_names.push("_group_b".into());
            let pooled = fit(&pooled_with_indicator(a, b)?, &pooled_names, "A ∪ B", &mut warnings)?;
            pooled.coefficients.to_vec()[..names.len()].to_vec()
        }
    };

    let dx: Vec<f64> = xbar_a.iter().zip(&xbar_b).map(|(x, y)| x - y).collect();
    let db: Vec<f64> = beta_a.iter().zip(&beta_b).map(|(x, y)| x - y).collect();
    let threefold_terms: Vec<(String, f64, f64, f64)> =
        (0..names.len()).map(|j| (names[j].clone(), dx[j] * beta_b[j], xbar_b[j] * db[j], dx[j] * db[j])).collect();
    let twofold_terms: Vec<(String, f64, f64, f64)> = (0..names.len())
        .map(|j| {
            let ua = xbar_a[j] * (beta_a[j] - beta_star[j]);
            let ub = xbar_b[j] * (beta_star[j] - beta_b[j]);
            (names[j].clone(), dx[j] * beta_star[j], ua, ub)
        })
        .collect();
    // Delta method (Jann 2008): θ = (x̄_A, x̄_B, β_A, β_B) with block-diagonal covariance.
    let (vxa, vxb) = (mean_covariance(a), mean_covariance(b));
    let (vba, vbb) = (&fit_a.covariance, &fit_b.covariance);
    let (vx, vb) = (&vxa + &vxb, vba + vbb);
    let se_threefold = (
        (quad(&vx, &beta_b) + quad(vbb, &dx)).sqrt(),
        (quad(&vxb, &db) + quad(&vb, &xbar_b)).sqrt(),
        (quad(&vx, &db) + quad(&vb, &dx)).sqrt(),
    );
    let reference_weight = match reference {
        Reference::Weight(w) => Some(w),
        Reference::Reimers => Some(0.5),
        Reference::Cotton => Some(a.sum_w / (a.sum_w + b.sum_w)),
        Reference::Neumark | Reference::Pooled => None,
    };
    let se_twofold = reference_weight.map(|w| {
        let scaled = |v: &[f64], f: f64| -> Vec<f64> { v.iter().map(|x| x * f).collect() };
        let mix: Vec<f64> = xbar_a.iter().zip(&xbar_b).map(|(xa, xb)| (1.0 - w) * xa + w * xb).collect();
        let explained = quad(&vx, &beta_star) + quad(vba, &scaled(&dx, w)) + quad(vbb, &scaled(&dx, 1.0 - w));
        let unexplained = quad(&vxa, &scaled(&db, 1.0 - w)) + quad(&vxb, &scaled(&db, w)) + quad(&vb, &mix);
        (explained.sqrt(), unexplained.sqrt())
    });
    if se_twofold.is_none() {
        warnings
            .push(format!("standard errors of the {reference:?} twofold decomposition are not computed in this build"));
    }
    let threefold = Threefold {
        endowments: threefold_terms.iter().map(|t| t.1).sum(),
        coefficients: threefold_terms.iter().map(|t| t.2).sum(),
        interaction: threefold_terms.iter().map(|t| t.3).sum(),
        se: se_threefold,
        detailed: threefold_terms,
    };
    let unexplained_a: f64 = twofold_terms.iter().map(|t| t.2).sum();
    let unexplained_b: f64 = twofold_terms.iter().map(|t| t.3).sum();
    let twofold = Twofold {
        reference,
        explained: twofold_terms.iter().map(|t| t.1).sum(),
        unexplained: unexplained_a + unexplained_b,
        unexplained_a,
        unexplained_b,
        se: se_twofold,
        detailed: twofold_terms.into_iter().map(|(n, e, ua, ub)| (n, e, ua + ub)).collect(),
        beta_star,
    };
    Ok(OaxacaPoint {
        names: names.to_vec(),
        mean_a,
        mean_b,
        difference: dot(&xbar_a, &beta_a) - dot(&xbar_b, &beta_b),
        xbar_a,
        xbar_b,
        beta_a,
        beta_b,
        threefold,
        twofold,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two groups, one regressor. A: x = (1, 2, 3), y = (2, 4, 6) → β_A = (0, 2), x̄_A = 2, ȳ_A = 4.
    /// B: x = (0, 1, 2), y = (1, 2, 3) → β_B = (1, 1), x̄_B = 1, ȳ_B = 2. R = 2;
    /// E = (2 − 1)·1 = 1, C = 1·(0 − 1) + 1·(2 − 1) = 0, I = 1·(2 − 1) = 1.
    #[test]
    fn hand_worked_threefold_and_reimers() {
        let names = vec!["_cons".to_string(), "x".to_string()];
        let a = Moments::from_rows(2, &[1.0, 1.0, 1.0, 2.0, 1.0, 3.0], &[2.0, 4.0, 6.0], None);
        let b = Moments::from_rows(2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0], &[1.0, 2.0, 3.0], None);
        let p = oaxaca_point(&a, &b, &names, Reference::Reimers).unwrap();
        assert!((p.difference - 2.0).abs() < 1e-12);
        let t = &p.threefold;
        assert!(
            (t.endowments - 1.0).abs() < 1e-12 && t.coefficients.abs() < 1e-12 && (t.interaction - 1.0).abs() < 1e-12
        );
        // Reimers β* = (0.5, 1.5): Q = 1 · 1.5 = 1.5, U = 0.5.
        assert!((p.twofold.explained - 1.5).abs() < 1e-12 && (p.twofold.unexplained - 0.5).abs() < 1e-12);
        let detailed: f64 = p.twofold.detailed.iter().map(|d| d.1 + d.2).sum();
        assert!((detailed - p.difference).abs() < 1e-12);
    }

    #[test]
    fn weight_out_of_range_and_missing_constant_are_errors() {
        let names = vec!["_cons".to_string(), "x".to_string()];
        let m = Moments::from_rows(2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0], &[1.0, 2.0, 3.0], None);
        assert!(oaxaca_point(&m, &m, &names, Reference::Weight(1.5)).is_err());
        assert!(oaxaca_point(&m, &m, &["x".to_string(), "_cons".to_string()], Reference::Reimers).is_err());
    }
}
