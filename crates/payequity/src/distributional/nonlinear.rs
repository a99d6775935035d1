//! The nonlinear decomposition of a 0/1 outcome (Fairlie 2005; detailed terms by Yun 2004): "receives hazard
//! pay", "reached grade B8+", "promoted". A logit of the outcome on the covariates gives β*; the explained
//! part is what the difference in covariates makes of the predicted probabilities,
//!
//! ```text
//! explained   = Σ_A w F(x'β*)/W_A − Σ_B w F(x'β*)/W_B          F the logistic CDF
//! unexplained = (p_A − p_B) − explained
//! ```
//!
//! (F the logistic CDF for the logit, Φ for the probit) with β* by `reference`: `weight` 1 (β_A) or 0 (β_B), or `pooled` (a logit on A ∪ B with the group
//! indicator, whose coefficient is left out of the predictions, as Stata's `fairlie, pooled()`). Detailed terms
//! by Yun's deterministic weights: term k's share of the explained part is (x̄_Ak − x̄_Bk)β*_k / Σ_j (x̄_Aj −
//! x̄_Bj)β*_j, of the unexplained part [x̄_Ak(β_Ak − β*_k) + x̄_Bk(β*_k − β_Bk)] / Σ_j [same]. SEs: the delta
//! method (as Stata's `fairlie` and Yun 2004) for the explained part, g'V(β*)g with g = ∂explained/∂β*, and
//! for each detailed explained term E_k = W_k·E with W_k = Δx̄_k β*_k / S, S = Σ_j Δx̄_j β*_j:
//! ∂E_k/∂β*_j = W_k g_j + E·(1{j = k} Δx̄_k S − Δx̄_k β*_k Δx̄_j) / S²; the difference p_A − p_B gets the
//! sampling SE of two independent weighted shares, √(Σ_A w²(y − p_A)²/W_A² + Σ_B …); the unexplained parts
//! have SEs by the bootstrap only (`se = "bootstrap"` gives every figure one).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::reweighted::replicate_estimate;
use crate::data::Ledger;
use crate::decompose::{
    ledger_and_strict, oaxaca_plan, poisson_draw, GroupMoments, GroupRows, OaxacaOptions, Pair, Plan, SeMethod,
};
use crate::stats::{logit, normal_quantile, probit, Estimate, LogitCells, Moments};
use crate::{Error, Result, COMMIT, VERSION};
use polars::prelude::DataFrame;

/// One detailed term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NonlinearTerm {
    pub term: String,
    pub explained: Estimate,
    pub unexplained: Estimate,
}

/// The nonlinear decomposition document (`kind = "nonlinear"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NonlinearResult {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub model: String,
    pub outcome: String,
    pub groups: Pair<String>,
    pub n: Pair<u64>,
    /// Weighted shares of 1s per group.
    pub p: Pair<f64>,
    pub difference: Estimate,
    pub explained: Estimate,
    pub unexplained: Estimate,
    pub detailed: Vec<NonlinearTerm>,
    /// pooled | weight
    pub reference: String,
    pub weight: Option<f64>,
    /// β* by term.
    pub coefficients: Vec<(String, f64)>,
    /// delta | bootstrap | none
    pub se_method: String,
    pub reps: usize,
    pub confidence: f64,
}

/// The binary-outcome model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinaryModel {
    #[default]
    Logit,
    Probit,
}

impl BinaryModel {
    /// F(η) and its density f(η).
    fn link(&self, eta: f64) -> (f64, f64) {
        match self {
            BinaryModel::Logit => {
                let p = 1.0 / (1.0 + (-eta).exp());
                (p, p * (1.0 - p))
            }
            BinaryModel::Probit => {
                let normal = statrs::distribution::Normal::standard();
                use statrs::distribution::{Continuous, ContinuousCDF};
                (normal.cdf(eta), normal.pdf(eta))
            }
        }
    }
}

/// Which coefficients are β*.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reference {
    Pooled,
    A,
    B,
}

/// A fitted logit: coefficients on the regression columns and their covariance.
struct Fit {
    beta: Vec<f64>,
    covariance: Option<Vec<Vec<f64>>>,
}

fn fit_model(
    model: BinaryModel,
    groups: &[(&GroupRows, &[f64], Option<f64>)],
    k: usize,
    columns: &[usize],
    names: &[String],
    with_cov: bool,
) -> Result<Fit> {
    let indicator = groups.iter().any(|g| g.2.is_some());
    let width = columns.len() + usize::from(indicator);
    let mut cells = LogitCells::new(width);
    let mut row = Vec::with_capacity(width);
    for (rows, weights, d) in groups {
        for (i, (&y, &w)) in rows.y.iter().zip(weights.iter()).enumerate() {
            row.clear();
            row.extend(columns.iter().map(|&j| rows.x[i * k + j]));
            if let Some(d) = d {
                row.push(*d);
            }
            cells.push(&row, w, w * y);
        }
    }
    let mut labels = names.to_vec();
    if indicator {
        labels.push("group".into());
    }
    if model == BinaryModel::Probit {
        let fit = probit(&cells).map_err(|e| Error::Invalid(format!("outcome {e}")))?;
        let p = columns.len();
        let covariance = with_cov.then(|| fit.covariance.iter().take(p).map(|row| row[..p].to_vec()).collect());
        return Ok(Fit { beta: fit.coefficients[..p].to_vec(), covariance });
    }
    let fit = logit(&cells, &labels).map_err(|e| {
        let message = e.to_string();
        if message.contains("separation") || message.contains("singular") {
            Error::Invalid(
                "the outcome's logit separates perfectly (a covariate value occurs only with 0s or only with 1s in \
                 a group, so a coefficient is infinite): drop or merge that covariate or level"
                    .into(),
            )
        } else {
            Error::Invalid(format!("outcome logit: {message}"))
        }
    })?;
    let beta: Vec<f64> = fit.terms.iter().take(columns.len()).map(|t| t.coef).collect();
    let covariance = with_cov.then(|| {
        // The logit reports SEs; rebuild the covariance of β from the information at the optimum.
        information_inverse(&cells, &fit.terms.iter().map(|t| t.coef).collect::<Vec<_>>(), columns.len())
    });
    Ok(Fit { beta, covariance: covariance.flatten() })
}

/// (X'WX)⁻¹ of the logit at `beta`, restricted to the first `p` columns.
fn information_inverse(cells: &LogitCells, beta: &[f64], p: usize) -> Option<Vec<Vec<f64>>> {
    let k = cells.k;
    let mut information = nalgebra::DMatrix::<f64>::zeros(k, k);
    for (i, (&trials, _)) in cells.trials.iter().zip(&cells.successes).enumerate() {
        let x = &cells.design[i * k..(i + 1) * k];
        let mu = BinaryModel::Logit.link(x.iter().zip(beta).map(|(a, b)| a * b).sum()).0;
        let w = trials * mu * (1.0 - mu);
        for a in 0..k {
            for b in 0..k {
                information[(a, b)] += w * x[a] * x[b];
            }
        }
    }
    let inverse = information.try_inverse()?;
    Some((0..p).map(|a| (0..p).map(|b| inverse[(a, b)]).collect()).collect())
}

/// Point figures: [difference, explained, unexplained], detailed [explained, unexplained] per term, β*, and
/// the gradient of the explained part.
struct Parts {
    totals: [f64; 3],
    detailed: Vec<[f64; 2]>,
    star: Fit,
    gradient: Vec<f64>,
    /// x̄_A − x̄_B per regression column.
    x_difference: Vec<f64>,
    /// Sampling variance of p_A − p_B (independent weighted shares).
    difference_variance: f64,
    p: (f64, f64),
}

fn parts(
    plan: &Plan,
    model: BinaryModel,
    (a, b): (&GroupRows, &GroupRows),
    (wa, wb): (&[f64], &[f64]),
    reference: Reference,
    with_cov: bool,
) -> Result<Parts> {
    let k = plan.design.k();
    let columns = plan.design.regression_columns();
    let names: Vec<String> = columns.iter().map(|&j| plan.design.terms[j].clone()).collect();
    let fit_a = fit_model(model, &[(a, wa, None)], k, &columns, &names, false)?;
    let fit_b = fit_model(model, &[(b, wb, None)], k, &columns, &names, false)?;
    let star = match reference {
        Reference::A => fit_model(model, &[(a, wa, None)], k, &columns, &names, with_cov)?,
        Reference::B => fit_model(model, &[(b, wb, None)], k, &columns, &names, with_cov)?,
        Reference::Pooled => {
            fit_model(model, &[(a, wa, Some(0.0)), (b, wb, Some(1.0))], k, &columns, &names, with_cov)?
        }
    };
    let p = columns.len();
    // Weighted means of F(x'β*) and of its gradient f(x'β*)·x per group, and covariate means.
    let predict = |rows: &GroupRows, w: &[f64]| -> (f64, Vec<f64>, Vec<f64>, f64) {
        let (mut mean_f, mut gradient, mut x_mean, mut total) = (0.0, vec![0.0; p], vec![0.0; p], 0.0);
        for (i, &wi) in w.iter().enumerate() {
            let x: Vec<f64> = columns.iter().map(|&j| rows.x[i * k + j]).collect();
            let eta: f64 = x.iter().zip(&star.beta).map(|(a, b)| a * b).sum();
            let (f, density) = model.link(eta);
            mean_f += wi * f;
            for j in 0..p {
                gradient[j] += wi * density * x[j];
                x_mean[j] += wi * x[j];
            }
            total += wi;
        }
        (
            mean_f / total,
            gradient.iter().map(|g| g / total).collect(),
            x_mean.iter().map(|x| x / total).collect(),
            total,
        )
    };
    let (fa, ga, xa, total_a) = predict(a, wa);
    let (fb, gb, xb, total_b) = predict(b, wb);
    let share = |rows: &GroupRows, w: &[f64], total: f64| rows.y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / total;
    let (pa, pb) = (share(a, wa, total_a), share(b, wb, total_b));
    let share_variance = |rows: &GroupRows, w: &[f64], total: f64, p: f64| {
        rows.y.iter().zip(w).map(|(y, w)| (w * (y - p)).powi(2)).sum::<f64>() / (total * total)
    };
    let difference_variance = share_variance(a, wa, total_a, pa) + share_variance(b, wb, total_b, pb);
    let explained = fa - fb;
    let unexplained = (pa - pb) - explained;
    let linear_explained: Vec<f64> = (0..p).map(|j| (xa[j] - xb[j]) * star.beta[j]).collect();
    let linear_unexplained: Vec<f64> =
        (0..p).map(|j| xa[j] * (fit_a.beta[j] - star.beta[j]) + xb[j] * (star.beta[j] - fit_b.beta[j])).collect();
    let weights = |linear: &[f64], total: f64| -> Vec<f64> {
        let sum: f64 = linear.iter().sum();
        linear.iter().map(|l| if sum != 0.0 { l / sum * total } else { 0.0 }).collect()
    };
    let (de, du) = (weights(&linear_explained, explained), weights(&linear_unexplained, unexplained));
    Ok(Parts {
        totals: [pa - pb, explained, unexplained],
        detailed: de.into_iter().zip(du).map(|(e, u)| [e, u]).collect(),
        gradient: ga.iter().zip(&gb).map(|(a, b)| a - b).collect(),
        x_difference: xa.iter().zip(&xb).map(|(a, b)| a - b).collect(),
        difference_variance,
        star,
        p: (pa, pb),
    })
}

/// ∂E_k/∂β* of the detailed explained term E_k = W_k·E (Yun 2004): W_k g + E·∂W_k/∂β*, with
/// ∂W_k/∂β*_j = (1{j = k} Δx̄_k S − Δx̄_k β*_k Δx̄_j) / S². Zero when S is (no covariate differs).
fn detailed_explained_gradient(point: &Parts, k: usize) -> Vec<f64> {
    let (dx, beta) = (&point.x_difference, &point.star.beta);
    let sum: f64 = dx.iter().zip(beta).map(|(d, b)| d * b).sum();
    if sum == 0.0 {
        return vec![0.0; dx.len()];
    }
    let (explained, linear_k) = (point.totals[1], dx[k] * beta[k]);
    let share = linear_k / sum;
    (0..dx.len())
        .map(|j| {
            let own = if j == k { dx[k] * sum } else { 0.0 };
            share * point.gradient[j] + explained * (own - linear_k * dx[j]) / (sum * sum)
        })
        .collect()
}

/// The Fairlie/Yun decomposition of the 0/1 `options.outcome` between groups A and B (`options.reference`:
/// `pooled`, or `weight` with `weight` 1 or 0; `se`: delta (explained part), bootstrap or none).
pub fn nonlinear_decompose(frame: &DataFrame, options: &OaxacaOptions, model: BinaryModel) -> Result<NonlinearResult> {
    if options.log {
        return Err(Error::Invalid("the nonlinear decomposition takes a 0/1 outcome: drop log".into()));
    }
    let reference = match (options.reference.as_str(), options.weight) {
        ("pooled", _) => Reference::Pooled,
        ("weight", Some(1.0)) => Reference::A,
        ("weight", Some(0.0)) => Reference::B,
        (other, weight) => {
            return Err(Error::Invalid(format!(
                "reference `{other}`{} is not available for the nonlinear decomposition: use pooled, or weight with \
                 weight = 1 (group A's coefficients) or 0 (group B's)",
                weight.map_or(String::new(), |w| format!(" (weight {w})"))
            )))
        }
    };
    let plan = oaxaca_plan(frame, options)?;
    let (a, b, excluded) = plan.slice_rows(frame, 0)?;
    for rows in [&a, &b] {
        if let Some((i, y)) = rows.y.iter().enumerate().find(|(_, y)| **y != 0.0 && **y != 1.0) {
            return Err(Error::InvalidValue {
                column: options.outcome.clone(),
                row: rows.rows[i] as usize + 1,
                value: y.to_string(),
                reason: "the nonlinear decomposition needs a 0/1 outcome (e.g. receives hazard pay: 1, else 0)".into(),
            });
        }
    }
    let k = plan.design.k();
    let counted = GroupMoments { read: frame.height() as u64, a: Moments::new(k), b: Moments::new(k), excluded };
    let ledger = ledger_and_strict(&counted, options.strict)?;
    let delta = options.se == SeMethod::Delta;
    let point = parts(&plan, model, (&a, &b), (&a.w, &b.w), reference, delta)?;
    let bootstrap = options.se == SeMethod::Bootstrap;
    let replicates: Vec<Parts> = if bootstrap {
        (0..options.reps as u64)
            .into_par_iter()
            .filter_map(|r| {
                let draw = |rows: &GroupRows| -> Vec<f64> {
                    rows.w.iter().zip(&rows.rows).map(|(w, &row)| w * poisson_draw(options.seed, row, r)).collect()
                };
                parts(&plan, model, (&a, &b), (&draw(&a), &draw(&b)), reference, false).ok()
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut warnings = Vec::new();
    if bootstrap && replicates.len() < options.reps {
        warnings.push(format!(
            "{} of {} bootstrap replicates could not be fitted and were skipped",
            options.reps - replicates.len(),
            options.reps
        ));
    }
    let q = normal_quantile(1.0 - (1.0 - options.confidence) / 2.0);
    let estimate = |value: f64, pick: &dyn Fn(&Parts) -> f64| -> Estimate {
        if bootstrap {
            replicate_estimate(
                value,
                replicates.iter().map(pick).collect(),
                options.bootstrap_ci,
                options.confidence,
                q,
            )
        } else {
            Estimate::point(Some(value))
        }
    };
    let mut explained = estimate(point.totals[1], &|p: &Parts| p.totals[1]);
    let mut difference = estimate(point.totals[0], &|p: &Parts| p.totals[0]);
    let columns = plan.design.regression_columns();
    let mut detailed: Vec<NonlinearTerm> = columns
        .iter()
        .enumerate()
        .map(|(j, &column)| NonlinearTerm {
            term: plan.design.terms[column].clone(),
            explained: estimate(point.detailed[j][0], &|p: &Parts| p.detailed[j][0]),
            unexplained: estimate(point.detailed[j][1], &|p: &Parts| p.detailed[j][1]),
        })
        .collect();
    if let (true, Some(v)) = (delta, &point.star.covariance) {
        let delta_se = |g: &[f64]| -> f64 {
            let variance: f64 = (0..g.len()).map(|i| (0..g.len()).map(|j| g[i] * v[i][j] * g[j]).sum::<f64>()).sum();
            variance.max(0.0).sqrt()
        };
        explained = Estimate::symmetric(Some(point.totals[1]), Some(delta_se(&point.gradient)), q);
        difference = Estimate::symmetric(Some(point.totals[0]), Some(point.difference_variance.sqrt()), q);
        for (k, term) in detailed.iter_mut().enumerate() {
            let gradient = detailed_explained_gradient(&point, k);
            term.explained = Estimate::symmetric(Some(point.detailed[k][0]), Some(delta_se(&gradient)), q);
        }
    }
    Ok(NonlinearResult {
        kind: "nonlinear".into(),
        version: VERSION.into(),
        commit: COMMIT.into(),
        ledger,
        warnings,
        model: match model {
            BinaryModel::Logit => "logit".into(),
            BinaryModel::Probit => "probit".into(),
        },
        outcome: options.outcome.clone(),
        groups: Pair { a: plan.labels.0.clone(), b: plan.labels.1.clone() },
        n: Pair { a: a.y.len() as u64, b: b.y.len() as u64 },
        p: Pair { a: point.p.0, b: point.p.1 },
        difference,
        explained,
        unexplained: estimate(point.totals[2], &|p: &Parts| p.totals[2]),
        detailed,
        reference: options.reference.clone(),
        weight: options.weight,
        coefficients: columns
            .iter()
            .map(|&j| plan.design.terms[j].clone())
            .zip(point.star.beta.iter().copied())
            .collect(),
        se_method: match options.se {
            SeMethod::Delta => "delta".into(),
            SeMethod::Bootstrap => "bootstrap".into(),
            SeMethod::None => "none".into(),
        },
        reps: if bootstrap { replicates.len() } else { 0 },
        confidence: options.confidence,
    })
}
