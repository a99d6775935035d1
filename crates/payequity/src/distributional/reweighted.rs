//! The reweighted RIF decomposition (Firpo, Fortin & Lemieux 2018, §3; Stata's `oaxaca_rif, rwlogit()`):
//! the counterfactual C is B reweighted to A's characteristics by the DFL factor ψ (`reweight.rs`), each of
//! A, B and C gets its own RIF and RIF regression β_g, and
//!
//! ```text
//! wage structure ν_A − ν_C = pure  X̄_A(β_A − β_C)  + reweighting error    (X̄_A − X̄_C)β_C
//! composition    ν_C − ν_B = pure  (X̄_C − X̄_B)β_B  + specification error  X̄_C(β_C − β_B)
//! ```
//!
//! each with detailed terms (`reweight_group = "a"`: C = A with B's characteristics, structure ν_C − ν_B =
//! X̄_B(β_C − β_B) + (X̄_C − X̄_B)β_C and composition ν_A − ν_C = (X̄_A − X̄_C)β_A + X̄_C(β_A − β_C)). A large
//! reweighting error says the reweighting failed to balance X; a large
//! specification error that the linear RIF model is misspecified. Standard errors by the bootstrap (the logit,
//! the RIFs and the regressions recomputed in every Poisson-weighted replicate).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::decomposition::RifOptions;
use super::reweight::{logit_columns, reweighting, reweighting_on, PsiSummary, ReweightGroup};
use super::rif::{DensityAt, RifFunction};
use super::statistic::Statistic;
use crate::decompose::{poisson_draw, BootstrapCi, GroupRows, OaxacaOptions, Plan};
use crate::stats::{normal_quantile, ols, Estimate, Moments};
use crate::{Error, Result};

/// The four parts of one detailed term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReweightedTerm {
    pub term: String,
    pub pure_wage_structure: Estimate,
    pub reweighting_error: Estimate,
    pub pure_composition: Estimate,
    pub specification_error: Estimate,
}

/// The reweighted decomposition of one statistic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReweightedResult {
    pub wage_structure: Estimate,
    pub pure_wage_structure: Estimate,
    pub reweighting_error: Estimate,
    pub composition: Estimate,
    pub pure_composition: Estimate,
    pub specification_error: Estimate,
    /// Regression terms (dummy-coded: the base level of each categorical is left out, no normalization).
    pub detailed: Vec<ReweightedTerm>,
    pub psi: PsiSummary,
    /// se method of the four parts: bootstrap | none
    pub se_method: String,
    pub reps: usize,
}

/// The counterfactual's own figures.
#[derive(Debug, Clone)]
pub(crate) struct Counterfactual {
    pub value: f64,
    pub sample: f64,
    pub density: Vec<DensityAt>,
}

/// Point values: the six totals, then the four parts of each detailed term.
struct Parts {
    totals: [f64; 6],
    detailed: Vec<[f64; 4]>,
}

/// Moments of `rows` (regression columns) with the outcome mapped by `rif` and weights `w`.
fn rif_moments(rows: &GroupRows, k: usize, columns: &[usize], rif: &RifFunction, w: &[f64]) -> Moments {
    let mut moments = Moments::new(columns.len());
    let mut x = Vec::with_capacity(columns.len());
    for (i, (&y, &wi)) in rows.y.iter().zip(w).enumerate() {
        x.clear();
        x.extend(columns.iter().map(|&j| rows.x[i * k + j]));
        moments.push(&x, rif.apply(y), wi);
    }
    moments
}

fn parts(
    plan: &Plan,
    (a, b): (&GroupRows, &GroupRows),
    (wa, wb): (&[f64], &[f64]),
    statistic: Statistic,
    rif: &RifOptions,
) -> Result<(Parts, PsiSummary, Counterfactual)> {
    let group = rif.reweight_group;
    let reweighted = if rif.reweight_covariates.is_empty() {
        reweighting(plan, a, b, (wa, wb), group, rif.trim)?
    } else {
        let columns = logit_columns(&plan.design, &rif.reweight_covariates);
        reweighting_on(plan, &columns, a, b, (wa, wb), group, rif.trim)?
    };
    // C is the reweighted group's rows with weights w·ψ.
    let (c_rows, c_base) = match group {
        ReweightGroup::B => (b, wb),
        ReweightGroup::A => (a, wa),
    };
    let wc: Vec<f64> = c_base.iter().zip(&reweighted.psi).map(|(w, p)| w * p).collect();
    let of = |y: &[f64], w: &[f64], label: &str| {
        rif.function(y, w, statistic).map_err(|e| Error::Invalid(format!("{label}: {e}")))
    };
    let (rif_a, rif_b, rif_c) =
        (of(&a.y, wa, "group A")?, of(&b.y, wb, "group B")?, of(&c_rows.y, &wc, "the reweighted counterfactual")?);
    let k = plan.design.k();
    let columns = plan.design.regression_columns();
    let names: Vec<String> = columns.iter().map(|&j| plan.design.terms[j].clone()).collect();
    let moments = [
        rif_moments(a, k, &columns, &rif_a, wa),
        rif_moments(b, k, &columns, &rif_b, wb),
        rif_moments(c_rows, k, &columns, &rif_c, &wc),
    ];
    let fits = moments.iter().map(|m| ols(m, &names)).collect::<Result<Vec<_>>>()?;
    let (ba, bb, bc) = (&fits[0].coefficients, &fits[1].coefficients, &fits[2].coefficients);
    let (xa, xb, xc) = (moments[0].mean_x(), moments[1].mean_x(), moments[2].mean_x());
    // [pure wage structure, reweighting error, pure composition, specification error] per term.
    let detailed: Vec<[f64; 4]> = (0..columns.len())
        .map(|j| match group {
            // C = B with A's X: structure ν_A − ν_C, composition ν_C − ν_B.
            ReweightGroup::B => {
                [xa[j] * (ba[j] - bc[j]), (xa[j] - xc[j]) * bc[j], (xc[j] - xb[j]) * bb[j], xc[j] * (bc[j] - bb[j])]
            }
            // C = A with B's X: structure ν_C − ν_B, composition ν_A − ν_C.
            ReweightGroup::A => {
                [xb[j] * (bc[j] - bb[j]), (xc[j] - xb[j]) * bc[j], (xa[j] - xc[j]) * ba[j], xc[j] * (ba[j] - bc[j])]
            }
        })
        .collect();
    let sum = |part: usize| detailed.iter().map(|d| d[part]).sum::<f64>();
    let (pws, rwe, pc, spe) = (sum(0), sum(1), sum(2), sum(3));
    let value_c = moments[2].xtwy[0] / moments[2].sum_w;
    let counterfactual = Counterfactual { value: value_c, sample: rif_c.value, density: rif_c.density.clone() };
    Ok((Parts { totals: [pws + rwe, pws, rwe, pc + spe, pc, spe], detailed }, reweighted.summary, counterfactual))
}

/// The reweighted decomposition of `statistic`, with bootstrap SEs when `options.se` is `bootstrap`.
pub(crate) fn reweighted_decomposition(
    plan: &Plan,
    (a, b): (&GroupRows, &GroupRows),
    statistic: Statistic,
    options: &OaxacaOptions,
    rif: &RifOptions,
    bootstrap: bool,
) -> Result<(ReweightedResult, Counterfactual)> {
    let (point, psi, counterfactual) = parts(plan, (a, b), (&a.w, &b.w), statistic, rif)?;
    let replicates: Vec<Parts> = if bootstrap {
        (0..options.reps as u64)
            .into_par_iter()
            .filter_map(|r| {
                let draw = |rows: &GroupRows| -> Vec<f64> {
                    rows.w.iter().zip(&rows.rows).map(|(w, &row)| w * poisson_draw(options.seed, row, r)).collect()
                };
                parts(plan, (a, b), (&draw(a), &draw(b)), statistic, rif).ok().map(|p| p.0)
            })
            .collect()
    } else {
        Vec::new()
    };
    if bootstrap && replicates.len() < 2 {
        return Err(Error::Invalid(format!(
            "only {} of {} bootstrap replicates of the reweighted decomposition could be computed",
            replicates.len(),
            options.reps
        )));
    }
    let q = normal_quantile(1.0 - (1.0 - options.confidence) / 2.0);
    let estimate = |value: f64, pick: &dyn Fn(&Parts) -> f64| -> Estimate {
        if !bootstrap {
            return Estimate::point(Some(value));
        }
        let draws: Vec<f64> = replicates.iter().map(pick).collect();
        replicate_estimate(value, draws, options.bootstrap_ci, options.confidence, q)
    };
    let total = |i: usize| estimate(point.totals[i], &|p: &Parts| p.totals[i]);
    let columns = plan.design.regression_columns();
    let detailed = columns
        .iter()
        .enumerate()
        .map(|(j, &column)| {
            let part = |i: usize| estimate(point.detailed[j][i], &|p: &Parts| p.detailed[j][i]);
            ReweightedTerm {
                term: plan.design.terms[column].clone(),
                pure_wage_structure: part(0),
                reweighting_error: part(1),
                pure_composition: part(2),
                specification_error: part(3),
            }
        })
        .collect();
    let result = ReweightedResult {
        wage_structure: total(0),
        pure_wage_structure: total(1),
        reweighting_error: total(2),
        composition: total(3),
        pure_composition: total(4),
        specification_error: total(5),
        detailed,
        psi,
        se_method: if bootstrap { "bootstrap".into() } else { "none".into() },
        reps: if bootstrap { replicates.len() } else { 0 },
    };
    Ok((result, counterfactual))
}

/// Estimate ± z·SD of the replicates (`normal`), or their (α/2, 1 − α/2) quantiles (`percentile`).
pub(crate) fn replicate_estimate(
    value: f64,
    mut draws: Vec<f64>,
    ci: BootstrapCi,
    confidence: f64,
    q: f64,
) -> Estimate {
    draws.retain(|d| d.is_finite());
    if draws.len() < 2 {
        return Estimate::point(Some(value));
    }
    let n = draws.len() as f64;
    let mean = draws.iter().sum::<f64>() / n;
    let se = (draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    match ci {
        BootstrapCi::Normal => Estimate::symmetric(Some(value), Some(se), q),
        BootstrapCi::Percentile => {
            draws.sort_by(f64::total_cmp);
            let at = |p: f64| draws[((p * (n - 1.0)).round() as usize).min(draws.len() - 1)];
            let alpha = 1.0 - confidence;
            Estimate {
                estimate: Some(value),
                se: Some(se),
                ci_low: Some(at(alpha / 2.0)),
                ci_high: Some(at(1.0 - alpha / 2.0)),
            }
        }
    }
}
