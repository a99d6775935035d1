//! RIF regression, the unconditional quantile regression of Firpo, Fortin & Lemieux (2009) (Stata's
//! `rifhdreg`): weighted OLS of RIF(y; ν) on X over one sample. The coefficients are unconditional partial
//! effects on ν; SEs are classical or HC1, treating the RIF as known (as `rifhdreg`), or the bootstrap, which
//! recomputes q, f(q) and the RIF in every replicate.

use std::sync::Arc;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::decomposition::{check, replicate_rif, RifOptions};
use super::reweighted::replicate_estimate;
use super::rif::DensityAt;
use super::statistic::{Kernel, Statistic};
use crate::data::Ledger;
use crate::decompose::{ledger_and_strict, oaxaca_plan, OaxacaOptions, OutcomeMap, ResidualModels, Vce};
use crate::decompose::{GroupRows, SeMethod};
use crate::stats::{normal_quantile, ols, t_quantile, Estimate, Moments};
use crate::{Error, Result, COMMIT, VERSION};
use rayon::prelude::*;

/// One coefficient of the RIF regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RifCoefficient {
    pub term: String,
    pub estimate: Option<f64>,
    pub se: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// The RIF regression document (`kind = "rif_regression"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RifRegressionResult {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub outcome: String,
    pub log: bool,
    pub statistic: Statistic,
    /// The mean RIF (the constant-only prediction): ν up to ties at q.
    pub value: f64,
    /// The plain statistic of the sample.
    pub sample: f64,
    pub n: u64,
    pub sum_weights: f64,
    pub r2: f64,
    pub coefficients: Vec<RifCoefficient>,
    /// classical | robust
    pub vce: String,
    pub kernel: Kernel,
    pub density: Vec<DensityAt>,
    pub confidence: f64,
}

/// Weighted OLS of RIF(y; ν) on the covariates of `options` (the outcome, log, covariates, categorical
/// columns and their base levels, weights, duplicate-key check, `vce`, `confidence` and `strict`; the group
/// columns are not used). One statistic: `rif.statistic` must hold exactly one.
///
/// ```
/// use payequity::decompose::OaxacaOptions;
/// use payequity::distributional::{rif_regression, RifOptions};
/// use payequity::polars::prelude::*;
/// // The RIF of the mean is y itself: the RIF regression of `mean` is OLS (y = 1 + 2x exactly here).
/// let frame = df!("x" => [0.0, 1.0, 2.0, 3.0], "y" => [1.0, 3.0, 5.0, 7.0]).unwrap();
/// let options = OaxacaOptions { outcome: "y".into(), covariates: vec!["x".into()], ..Default::default() };
/// let rif = RifOptions { statistic: vec!["mean".parse().unwrap()], ..Default::default() };
/// let fit = rif_regression(&frame, &options, &rif).unwrap();
/// assert!((fit.coefficients[1].estimate.unwrap() - 2.0).abs() < 1e-12);
/// ```
pub fn rif_regression(frame: &DataFrame, options: &OaxacaOptions, rif: &RifOptions) -> Result<RifRegressionResult> {
    check(options, rif)?;
    let [statistic] = rif.statistic[..] else {
        return Err(Error::Invalid(format!(
            "rif-regression takes one statistic, got {}: run it once per statistic",
            rif.statistic.len()
        )));
    };
    let single = OaxacaOptions { group: String::new(), group_a: "all".into(), group_b: None, ..options.clone() };
    let plan = oaxaca_plan(frame, &single)?;
    let [(y, w), _] = plan.group_outcomes(frame, 0)?;
    let function = Arc::new(rif.function(&y, &w, statistic)?);
    let bootstrap = options.se == SeMethod::Bootstrap;
    // The replicates need the outcomes before the RIF map.
    let raw_rows = if bootstrap { Some(plan.slice_rows(frame, 0)?.0) } else { None };
    let shared = Arc::clone(&function);
    let plan = plan.with_outcome_map(OutcomeMap(Arc::new(move |_, y| shared.apply(y))));
    let moments = plan.scan(frame, 0)?;
    let ledger = ledger_and_strict(&moments, options.strict)?;

    // Regression columns: the constant, the covariates and every level but each categorical's base.
    let design = &plan.design;
    let bases: Vec<usize> = design.blocks.iter().map(|b| b.columns[b.base]).collect();
    let columns: Vec<usize> = (0..design.k()).filter(|j| !bases.contains(j)).collect();
    let names: Vec<String> = columns.iter().map(|&j| design.terms[j].clone()).collect();
    let sample_moments = moments.a.select(&columns);
    let fit = ols(&sample_moments, &names)?;
    let replicates: Vec<Vec<f64>> = match &raw_rows {
        Some(rows) => replicate_coefficients(rows, design.k(), &columns, &names, statistic, rif, options),
        None => Vec::new(),
    };
    if bootstrap && replicates.len() < 2 {
        return Err(Error::Invalid(format!(
            "only {} of {} bootstrap replicates of the RIF regression could be computed",
            replicates.len(),
            options.reps
        )));
    }
    let covariance = match options.vce {
        _ if bootstrap => fit.covariance.clone(),
        Vce::Classical => fit.covariance.clone(),
        Vce::Robust => {
            let identity: Vec<usize> = (0..design.k()).collect();
            let models = ResidualModels {
                columns: &columns,
                beta_a: &fit.coefficients,
                beta_b: &fit.coefficients,
                beta_star: None,
                indicator: false,
            };
            let grams = plan.score_grams(frame, 0, &identity, &models)?;
            fit.bread.dot(&grams.a).dot(&fit.bread) * (fit.n as f64 / fit.df_resid)
        }
    };
    let q = t_quantile(1.0 - (1.0 - options.confidence) / 2.0, fit.df_resid);
    let coefficients = names
        .iter()
        .enumerate()
        .map(|(j, term)| {
            let kept = fit.kept[j];
            let e = if bootstrap && kept {
                let draws: Vec<f64> = replicates.iter().map(|c| c[j]).collect();
                let z = normal_quantile(1.0 - (1.0 - options.confidence) / 2.0);
                replicate_estimate(fit.coefficients[j], draws, options.bootstrap_ci, options.confidence, z)
            } else {
                Estimate::symmetric(
                    kept.then(|| fit.coefficients[j]),
                    kept.then(|| covariance[[j, j]].max(0.0).sqrt()),
                    q,
                )
            };
            RifCoefficient { term: term.clone(), estimate: e.estimate, se: e.se, ci_low: e.ci_low, ci_high: e.ci_high }
        })
        .collect();
    Ok(RifRegressionResult {
        kind: "rif_regression".into(),
        version: VERSION.into(),
        commit: COMMIT.into(),
        ledger,
        warnings: fit.warnings.clone(),
        outcome: options.outcome.clone(),
        log: options.log,
        statistic,
        value: sample_moments.xtwy[0] / sample_moments.sum_w,
        sample: function.value,
        n: fit.n,
        sum_weights: sample_moments.sum_w,
        r2: fit.r2,
        coefficients,
        vce: match options.vce {
            _ if bootstrap => "bootstrap".into(),
            Vce::Classical => "classical".into(),
            Vce::Robust => "robust".into(),
        },
        kernel: rif.kernel,
        density: function.density.clone(),
        confidence: options.confidence,
    })
}

/// The coefficients of each Poisson-weighted bootstrap replicate, with q, f(q) and the RIF recomputed from the
/// replicate's sample (replicates that cannot be computed are left out).
fn replicate_coefficients(
    rows: &GroupRows,
    k: usize,
    columns: &[usize],
    names: &[String],
    statistic: Statistic,
    rif: &RifOptions,
    options: &OaxacaOptions,
) -> Vec<Vec<f64>> {
    (0..options.reps as u64)
        .into_par_iter()
        .filter_map(|r| {
            let (used, w, f) = replicate_rif(rows, options.seed, r, statistic, rif)?;
            let mut m = Moments::new(columns.len());
            let mut x = Vec::with_capacity(columns.len());
            for (&i, &wi) in used.iter().zip(&w) {
                x.clear();
                x.extend(columns.iter().map(|&j| rows.x[i * k + j]));
                m.push(&x, f.apply(rows.y[i]), wi);
            }
            ols(&m, names).ok().map(|fit| fit.coefficients.to_vec())
        })
        .collect()
}
