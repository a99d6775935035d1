//! DiNardo-Fortin-Lemieux (1996) reweighting decomposition of distributional statistics: no regression, the
//! counterfactual C is group B's outcomes weighted by w·ψ(Z) (B's pay structure with A's characteristics),
//! and for every statistic ν: difference ν_A − ν_B = composition (ν_C − ν_B) + structure (ν_A − ν_C).
//! Standard errors by the bootstrap (Poisson replicate weights; the logit is refitted in every replicate).

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::reweight::{reweighting, PsiSummary, ReweightGroup};
use super::reweighted::replicate_estimate;
use super::rif::Sample;
use super::statistic::{QuantileMethod, Statistic};
use crate::data::Ledger;
use crate::decompose::{
    ledger_and_strict, oaxaca_plan, poisson_draw, GroupMoments, GroupRows, OaxacaOptions, Pair, SeMethod,
};
use crate::stats::{normal_quantile, Estimate, Moments};
use crate::{Error, Result, COMMIT, VERSION};

/// The statistics DFL reports by default: q05 … q95 in steps of 5, mean, var, gini, iqr10_90, iqr50_90,
/// iqr10_50.
pub fn default_dfl_statistics() -> Vec<Statistic> {
    let mut statistics: Vec<Statistic> = (1..=19).map(|i| Statistic::Quantile(i as f64 * 0.05)).collect();
    statistics.extend([
        Statistic::Mean,
        Statistic::Variance,
        Statistic::Gini,
        Statistic::InterquantileRange(0.1, 0.9),
        Statistic::InterquantileRange(0.5, 0.9),
        Statistic::InterquantileRange(0.1, 0.5),
    ]);
    statistics
}

/// Options of the DFL decomposition (the groups, outcome, weights, covariates of the logit, SEs, reps and
/// seed are the `oaxaca` options'). Defaults: [`default_dfl_statistics`], reweight group B, no trimming.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DflOptions {
    #[serde(deserialize_with = "super::decomposition::statistics")]
    pub statistic: Vec<Statistic>,
    pub reweight_group: ReweightGroup,
    /// Cap on ψ (rows above it are capped and counted in `psi.trimmed`).
    pub trim: Option<f64>,
    /// Sequential DFL: the covariates Z1 of a first reweighting (a subset of the covariates); the
    /// composition effect then splits into the part of Z1 (ν_C1 − ν_B) and of the rest given Z1 (ν_C − ν_C1).
    pub sequential: Vec<String>,
    /// How quantiles are read: `stata` (`_pctile`, default) or `r7` (R's type 7; with weights
    /// `Hmisc::wtd.quantile`, as R's `ddecompose`).
    pub quantile_method: QuantileMethod,
}

impl Default for DflOptions {
    fn default() -> Self {
        DflOptions {
            statistic: default_dfl_statistics(),
            reweight_group: ReweightGroup::B,
            trim: None,
            sequential: Vec::new(),
            quantile_method: QuantileMethod::Stata,
        }
    }
}

/// One statistic of the DFL decomposition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DflStatistic {
    pub statistic: Statistic,
    pub a: Option<f64>,
    pub b: Option<f64>,
    pub counterfactual: Option<f64>,
    pub difference: Estimate,
    pub composition: Estimate,
    pub structure: Estimate,
    /// Sequential DFL: the composition part of Z1 (ν_C1 − ν_B), and of the other covariates given Z1.
    pub composition_first: Option<Estimate>,
    pub composition_rest: Option<Estimate>,
}

/// The DFL document (`kind = "dfl"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DflResult {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub outcome: String,
    pub log: bool,
    pub groups: Pair<String>,
    pub n: Pair<u64>,
    pub sum_weights: Pair<f64>,
    /// The logit's covariates (numeric, then categorical).
    pub reweight_covariates: Vec<String>,
    pub reweight_group: ReweightGroup,
    pub quantile_method: QuantileMethod,
    /// bootstrap | none
    pub se_method: String,
    pub reps: usize,
    pub seed: u64,
    pub confidence: f64,
    pub results: Vec<DflStatistic>,
    pub psi: PsiSummary,
}

/// (difference, composition, structure) and the three values of each statistic, for one set of weights.
type Parts = Vec<[Option<f64>; 8]>;

fn parts(
    plan: &crate::decompose::Plan,
    rows: (&GroupRows, &GroupRows),
    weights: (&[f64], &[f64]),
    options: &DflOptions,
) -> Result<(Parts, PsiSummary)> {
    let (a, b) = rows;
    let reweighted = reweighting(plan, a, b, weights, options.reweight_group, options.trim)?;
    let (wa, wb) = weights;
    let sample = |y: &[f64], w: &[f64]| Sample::new(y, w).with_quantile_method(options.quantile_method);
    let sample_a = sample(&a.y, wa);
    let sample_b = sample(&b.y, wb);
    let sample_c = match options.reweight_group {
        ReweightGroup::B => {
            let w: Vec<f64> = wb.iter().zip(&reweighted.psi).map(|(w, p)| w * p).collect();
            sample(&b.y, &w)
        }
        ReweightGroup::A => {
            let w: Vec<f64> = wa.iter().zip(&reweighted.psi).map(|(w, p)| w * p).collect();
            sample(&a.y, &w)
        }
    };
    // Sequential: B reweighted to A's distribution of Z1 only.
    let sample_c1 = if options.sequential.is_empty() {
        None
    } else {
        let columns = super::reweight::logit_columns(&plan.design, &options.sequential);
        let first = super::reweight::reweighting_on(plan, &columns, a, b, weights, ReweightGroup::B, options.trim)?;
        let w: Vec<f64> = wb.iter().zip(&first.psi).map(|(w, p)| w * p).collect();
        Some(sample(&b.y, &w))
    };
    let rows = options
        .statistic
        .iter()
        .map(|&s| {
            let (va, vb, vc) = (sample_a.statistic(s), sample_b.statistic(s), sample_c.statistic(s));
            let minus = |x: Option<f64>, y: Option<f64>| x.zip(y).map(|(x, y)| x - y);
            let (composition, structure) = match options.reweight_group {
                ReweightGroup::B => (minus(vc, vb), minus(va, vc)),
                ReweightGroup::A => (minus(va, vc), minus(vc, vb)),
            };
            let vc1 = sample_c1.as_ref().and_then(|c1| c1.statistic(s));
            [minus(va, vb), composition, structure, va, vb, vc, minus(vc1, vb), minus(vc, vc1)]
        })
        .collect();
    Ok((rows, reweighted.summary))
}

/// The DFL decomposition of every statistic of `dfl` between groups A and B of `options.group`, with ψ from a
/// logit on `options.covariates` and `options.categorical`.
pub fn dfl(frame: &DataFrame, options: &OaxacaOptions, dfl: &DflOptions) -> Result<DflResult> {
    if dfl.statistic.is_empty() {
        return Err(Error::Invalid("no statistic given: use e.g. --statistic q10,q50,q90".into()));
    }
    if options.covariates.is_empty() && options.categorical.is_empty() {
        return Err(Error::Invalid(
            "DFL needs the covariates Z of the reweighting logit: give --covariates / --categorical".into(),
        ));
    }
    for column in &dfl.sequential {
        if !options.covariates.contains(column) && !options.categorical.contains(column) {
            return Err(Error::Invalid(format!(
                "sequential DFL: `{column}` is not among the covariates or categorical columns of the logit"
            )));
        }
    }
    if !dfl.sequential.is_empty() && dfl.reweight_group == ReweightGroup::A {
        return Err(Error::Invalid("sequential DFL reweights group B: use reweight_group = \"b\"".into()));
    }
    if let Some(trim) = dfl.trim {
        if !(trim > 0.0 && trim.is_finite()) {
            return Err(Error::Invalid(format!("trim must be a positive number, got {trim}")));
        }
    }
    let plan = oaxaca_plan(frame, options)?;
    let (a, b, excluded) = plan.slice_rows(frame, 0)?;
    let k = plan.design.k();
    let counted = GroupMoments { read: frame.height() as u64, a: Moments::new(k), b: Moments::new(k), excluded };
    let ledger = ledger_and_strict(&counted, options.strict)?;
    if a.y.len() < 2 || b.y.len() < 2 {
        return Err(Error::Invalid(format!(
            "DFL needs rows in both groups: {} in {} and {} in {} after validation",
            a.y.len(),
            plan.labels.0,
            b.y.len(),
            plan.labels.1
        )));
    }
    let (point, psi) = parts(&plan, (&a, &b), (&a.w, &b.w), dfl)?;
    let mut warnings = Vec::new();
    let bootstrap = options.se == SeMethod::Bootstrap;
    let replicates: Vec<Parts> = if bootstrap {
        let draws: Vec<Result<Parts>> = (0..options.reps as u64)
            .into_par_iter()
            .map(|r| {
                let weigh = |rows: &GroupRows| -> Vec<f64> {
                    rows.w.iter().zip(&rows.rows).map(|(w, &row)| w * poisson_draw(options.seed, row, r)).collect()
                };
                let (wa, wb) = (weigh(&a), weigh(&b));
                // A replicate without rows in a group cannot be reweighted: it is skipped.
                let keep = |w: &[f64]| w.iter().filter(|&&x| x > 0.0).count() >= 2;
                if !keep(&wa) || !keep(&wb) {
                    return Err(Error::Invalid("empty group".into()));
                }
                let (a_used, wa_used) = positive(&a, &wa);
                let (b_used, wb_used) = positive(&b, &wb);
                parts(&plan, (&a_used, &b_used), (&wa_used, &wb_used), dfl).map(|p| p.0)
            })
            .collect();
        let failed = draws.iter().filter(|d| d.is_err()).count();
        if failed > 0 {
            warnings.push(format!(
                "{failed} of {} bootstrap replicates could not be reweighted and were skipped",
                options.reps
            ));
        }
        draws.into_iter().filter_map(|d| d.ok()).collect()
    } else {
        Vec::new()
    };
    if psi.trimmed > 0 {
        warnings.push(format!(
            "{} rows had ψ above trim = {} and were capped",
            psi.trimmed,
            psi.trim.unwrap_or(f64::NAN)
        ));
    }
    if psi.max > 100.0 * psi.p50.max(f64::MIN_POSITIVE) {
        warnings.push(format!(
            "the reweighting factor ψ ranges up to {:.3} (median {:.3}): a few rows carry the counterfactual; consider `trim`",
            psi.max, psi.p50
        ));
    }
    let q = normal_quantile(1.0 - (1.0 - options.confidence) / 2.0);
    let estimate = |s: usize, part: usize| -> Estimate {
        let value = point[s][part];
        if !bootstrap {
            return Estimate::point(value);
        }
        let draws: Vec<f64> = replicates.iter().filter_map(|r| r[s][part]).collect();
        match value {
            Some(v) => replicate_estimate(v, draws, options.bootstrap_ci, options.confidence, q),
            None => Estimate::point(None),
        }
    };
    let results = dfl
        .statistic
        .iter()
        .enumerate()
        .map(|(s, &statistic)| DflStatistic {
            statistic,
            a: point[s][3],
            b: point[s][4],
            counterfactual: point[s][5],
            difference: estimate(s, 0),
            composition: estimate(s, 1),
            structure: estimate(s, 2),
            composition_first: (!dfl.sequential.is_empty()).then(|| estimate(s, 6)),
            composition_rest: (!dfl.sequential.is_empty()).then(|| estimate(s, 7)),
        })
        .collect();
    let mut reweight_covariates = options.covariates.clone();
    reweight_covariates.extend(options.categorical.iter().cloned());
    Ok(DflResult {
        kind: "dfl".into(),
        version: VERSION.into(),
        commit: COMMIT.into(),
        ledger,
        warnings,
        outcome: options.outcome.clone(),
        log: options.log,
        groups: Pair { a: plan.labels.0.clone(), b: plan.labels.1.clone() },
        n: Pair { a: a.y.len() as u64, b: b.y.len() as u64 },
        sum_weights: Pair { a: a.w.iter().sum(), b: b.w.iter().sum() },
        reweight_covariates,
        reweight_group: dfl.reweight_group,
        quantile_method: dfl.quantile_method,
        se_method: if bootstrap { "bootstrap".into() } else { "none".into() },
        reps: if bootstrap { options.reps } else { 0 },
        seed: options.seed,
        confidence: options.confidence,
        results,
        psi,
    })
}

/// The rows with a positive replicate weight, and those weights.
fn positive(rows: &GroupRows, weights: &[f64]) -> (GroupRows, Vec<f64>) {
    let k = if rows.y.is_empty() { 0 } else { rows.x.len() / rows.y.len() };
    let mut out = GroupRows::default();
    let mut kept = Vec::new();
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            out.x.extend_from_slice(&rows.x[i * k..(i + 1) * k]);
            out.y.push(rows.y[i]);
            out.w.push(w);
            out.rows.push(rows.rows[i]);
            kept.push(w);
        }
    }
    (out, kept)
}
