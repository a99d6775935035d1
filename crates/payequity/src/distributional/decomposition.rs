//! The RIF decomposition (Firpo, Fortin & Lemieux 2018; Stata's `oaxaca_rif`): the Oaxaca-Blinder
//! decomposition of each group's recentered influence function of a statistic — so the difference is
//! ν_A − ν_B (the mean RIFs), and every reference, threefold, detailed term, normalization and SE of
//! `oaxaca` applies. The passes: the used outcomes of each group (the plan's validation), each group's RIF
//! from its own quantiles, density and bandwidth, then the `oaxaca` moments of the RIF.

use std::sync::Arc;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::reweight::ReweightGroup;
use super::reweighted::{reweighted_decomposition, ReweightedResult};
use super::rif::{DensityAt, RifFunction, Sample};
use super::statistic::{Bandwidth, Kernel, QuantileMethod, Statistic};
use crate::data::Ledger;
use crate::decompose::{
    finish, oaxaca_plan, poisson_draw, BootstrapDraw, Coefficients, GroupRows, OaxacaOptions, OaxacaResult, OutcomeMap,
    Pair, Plan, ReplicateMoments, ResidualModels, SeMethod, ThreefoldResult, TwofoldResult,
};
use crate::stats::{Estimate, Moments};
use crate::{Error, Result, COMMIT, VERSION};
use rayon::prelude::*;

/// Options of the distributional statistics: which statistics, and the density's kernel and bandwidth.
/// Defaults: `statistic = ["q10", "q50", "q90"]`, `kernel = "gaussian"`, `bandwidth = "silverman"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RifOptions {
    /// The statistics ν decomposed (or regressed), in order.
    #[serde(deserialize_with = "statistics")]
    pub statistic: Vec<Statistic>,
    pub kernel: Kernel,
    pub bandwidth: Bandwidth,
    /// How quantiles are read: `stata` (`_pctile`, default) or `r7` (R's and numpy's default).
    pub quantile_method: QuantileMethod,
    /// Add the reweighted decomposition (B reweighted to A's characteristics by a logit on the covariates).
    pub reweight: bool,
    /// Cap on the reweighting factor ψ.
    pub trim: Option<f64>,
    /// Which group is reweighted to the other's characteristics (`b`, default, as Stata's `wgt(0)`).
    pub reweight_group: ReweightGroup,
    /// The covariates Z of the reweighting logit (default: the decomposition's covariates; a subset of them).
    pub reweight_covariates: Vec<String>,
}

impl RifOptions {
    /// The RIF of `statistic` over the sample (`values`, `weights`) with these options' quantile rule, kernel
    /// and bandwidth.
    pub fn function(&self, values: &[f64], weights: &[f64], statistic: Statistic) -> Result<RifFunction> {
        let sample = Sample::new(values, weights).with_quantile_method(self.quantile_method);
        RifFunction::of(&sample, statistic, self.kernel, self.bandwidth)
    }
}

impl Default for RifOptions {
    fn default() -> Self {
        RifOptions {
            statistic: vec![Statistic::Quantile(0.1), Statistic::Quantile(0.5), Statistic::Quantile(0.9)],
            kernel: Kernel::Gaussian,
            bandwidth: Bandwidth::Silverman,
            quantile_method: QuantileMethod::Stata,
            reweight: false,
            trim: None,
            reweight_group: ReweightGroup::B,
            reweight_covariates: Vec::new(),
        }
    }
}

/// One statistic or a list of them (`"q50"`, `["q10", "q90"]`, or `"q10,q50"`).
pub(crate) fn statistics<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<Statistic>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let names = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(text) => text.split(',').map(str::to_string).collect(),
        OneOrMany::Many(names) => names,
    };
    names.iter().filter(|n| !n.trim().is_empty()).map(|n| n.parse().map_err(serde::de::Error::custom)).collect()
}

/// A value per group, and for the reweighted counterfactual (null without reweighting).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupValues<T> {
    pub a: T,
    pub b: T,
    pub counterfactual: Option<T>,
}

/// The decomposition of one statistic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RifStatisticResult {
    pub statistic: Statistic,
    /// The mean RIF per group (Stata's Prediction_1/2): what the terms add up to.
    pub value: GroupValues<f64>,
    /// The plain statistic of each group's sample (e.g. the quantile).
    pub sample: GroupValues<f64>,
    /// Every quantile, density and bandwidth used (one entry per quantile the statistic needs).
    pub density: GroupValues<Vec<DensityAt>>,
    /// value.a − value.b.
    pub difference: Estimate,
    pub twofold: TwofoldResult,
    pub threefold: ThreefoldResult,
    pub coefficients: Coefficients,
    /// The reweighted decomposition (`reweight = true`).
    pub reweighted: Option<ReweightedResult>,
}

/// The RIF decomposition document (`kind = "rif"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RifResult {
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
    pub kernel: Kernel,
    pub bandwidth: Bandwidth,
    pub quantile_method: QuantileMethod,
    pub reference: String,
    pub se_method: String,
    pub vce: String,
    pub confidence: f64,
    pub results: Vec<RifStatisticResult>,
}

/// The RIF functions of a statistic for groups A and B, each from its own sample.
pub(crate) fn group_rifs(
    plan: &Plan,
    frame: &DataFrame,
    statistic: Statistic,
    rif: &RifOptions,
) -> Result<(RifFunction, RifFunction)> {
    let [(ya, wa), (yb, wb)] = plan.group_outcomes(frame, 0)?;
    let of = |y: &[f64], w: &[f64], label: &str| {
        rif.function(y, w, statistic).map_err(|e| Error::Invalid(format!("group {label}: {e}")))
    };
    let (a, b) = rayon::join(|| of(&ya, &wa, &plan.labels.0), || of(&yb, &wb, &plan.labels.1));
    Ok((a?, b?))
}

/// Replicate moments of the RIF over the full design: in each Poisson-weighted replicate (keyed by seed and
/// input row, as `oaxaca`'s), each group's RIF is recomputed — its quantiles, density and bandwidth — from the
/// replicate's sample, so the SEs account for the estimation of q and f(q). Replicates whose RIF cannot be
/// computed (no rows, a density of zero) are left out, like replicates whose regressions cannot be fitted.
pub(crate) fn rif_replicates(
    plan: &Plan,
    (a, b): (&GroupRows, &GroupRows),
    statistic: Statistic,
    rif: &RifOptions,
    options: &OaxacaOptions,
) -> ReplicateMoments {
    let k = plan.design.k();
    (0..options.reps as u64)
        .into_par_iter()
        .filter_map(|r| {
            let moments = |rows: &GroupRows| -> Option<Moments> {
                let (used, w, f) = replicate_rif(rows, options.seed, r, statistic, rif)?;
                let mut m = Moments::new(k);
                for (&i, &wi) in used.iter().zip(&w) {
                    m.push(&rows.x[i * k..(i + 1) * k], f.apply(rows.y[i]), wi);
                }
                Some(m)
            };
            Some((moments(a)?, moments(b)?))
        })
        .collect()
}

/// Bootstrap replicate `r` of a group: the rows with a positive Poisson replicate weight (keyed by seed and
/// input row), their weights, and the RIF recomputed from that sample (`None` when it cannot be).
pub(crate) fn replicate_rif(
    rows: &GroupRows,
    seed: u64,
    r: u64,
    statistic: Statistic,
    rif: &RifOptions,
) -> Option<(Vec<usize>, Vec<f64>, RifFunction)> {
    let draws: Vec<f64> = rows.w.iter().zip(&rows.rows).map(|(w, &row)| w * poisson_draw(seed, row, r)).collect();
    let used: Vec<usize> = (0..draws.len()).filter(|&i| draws[i] > 0.0).collect();
    let y: Vec<f64> = used.iter().map(|&i| rows.y[i]).collect();
    let w: Vec<f64> = used.iter().map(|&i| draws[i]).collect();
    let f = rif.function(&y, &w, statistic).ok()?;
    Some((used, w, f))
}

/// The outcome map of a pair of group RIFs (group A's for A rows, B's for B rows).
pub(crate) fn rif_map(rifs: &Arc<(RifFunction, RifFunction)>) -> OutcomeMap {
    let shared = Arc::clone(rifs);
    OutcomeMap(Arc::new(move |is_b, y| if is_b { shared.1.apply(y) } else { shared.0.apply(y) }))
}

/// The `oaxaca` document of the outcome mapped by each group's RIF.
fn oaxaca_of_rif(
    plan: &Plan,
    frame: &DataFrame,
    rifs: &Arc<(RifFunction, RifFunction)>,
    options: &OaxacaOptions,
) -> Result<OaxacaResult> {
    let plan = plan.clone().with_outcome_map(rif_map(rifs));
    let moments = plan.scan(frame, 0)?;
    let residuals = |kept: &[usize], models: &ResidualModels<'_>| plan.score_grams(frame, 0, kept, models);
    finish(&plan, moments, None, Some(&residuals), options)
}

/// The RIF decomposition of every statistic of `rif` between groups A and B of `options.group`.
///
/// Each group's RIF comes from its own sample ([`RifFunction::of`]); the decomposition of the mean RIF is
/// [`crate::decompose::oaxaca`]'s on the RIF, so the RIF decomposition of `mean` is `oaxaca` itself.
///
/// ```
/// use payequity::decompose::{oaxaca, OaxacaOptions};
/// use payequity::distributional::{rif_decompose, RifOptions};
/// use payequity::polars::prelude::*;
/// let frame = df!("g" => ["M", "M", "M", "M", "F", "F", "F", "F"], "x" => [1.0, 2.0, 4.0, 3.0, 0.0, 1.0, 2.0, 2.5],
///                 "y" => [3.0, 5.5, 9.0, 7.0, 0.5, 1.5, 2.0, 3.0]).unwrap();
/// let options = OaxacaOptions { outcome: "y".into(), group: "g".into(), group_a: "M".into(),
///     covariates: vec!["x".into()], ..Default::default() };
/// let mean = RifOptions { statistic: vec!["mean".parse().unwrap()], ..Default::default() };
/// let rif = rif_decompose(&frame, &options, &mean).unwrap();
/// let ob = oaxaca(&frame, &options).unwrap();
/// assert!((rif.results[0].twofold.explained.estimate.unwrap() - ob.twofold.explained.estimate.unwrap()).abs() < 1e-12);
/// ```
pub fn rif_decompose(frame: &DataFrame, options: &OaxacaOptions, rif: &RifOptions) -> Result<RifResult> {
    check(options, rif)?;
    // With `reweight`, `se = "bootstrap"` gives the reweighted parts bootstrap SEs and the plain
    // decomposition keeps its delta-method SEs; without, the plain decomposition is bootstrapped.
    let bootstrap = options.se == SeMethod::Bootstrap;
    let plain_bootstrap = bootstrap && !rif.reweight;
    let plain = if bootstrap && rif.reweight {
        OaxacaOptions { se: SeMethod::Delta, ..options.clone() }
    } else {
        options.clone()
    };
    let options = &plain;
    let plan = oaxaca_plan(frame, options)?;
    let rows = if rif.reweight || plain_bootstrap { Some(plan.slice_rows(frame, 0)?) } else { None };
    let mut results = Vec::with_capacity(rif.statistic.len());
    let mut last: Option<OaxacaResult> = None;
    let mut warnings = Vec::new();
    for &statistic in &rif.statistic {
        let rifs = Arc::new(group_rifs(&plan, frame, statistic, rif)?);
        let document = match (&rows, plain_bootstrap) {
            (Some((a, b, _)), true) => {
                let replicates = rif_replicates(&plan, (a, b), statistic, rif, options);
                let mapped = plan.clone().with_outcome_map(rif_map(&rifs));
                let moments = mapped.scan(frame, 0)?;
                finish(&mapped, moments, Some(replicates), None, options)?
            }
            _ => oaxaca_of_rif(&plan, frame, &rifs, options)?,
        };
        for warning in &document.warnings {
            if !warnings.contains(warning) {
                warnings.push(warning.clone());
            }
        }
        let mut result = statistic_result(statistic, &rifs, &document);
        if let (Some((a, b, _)), true) = (&rows, rif.reweight) {
            let (reweighted, counterfactual) =
                reweighted_decomposition(&plan, (a, b), statistic, options, rif, bootstrap)?;
            let difference = result.difference.estimate.unwrap_or(f64::NAN).abs();
            for (name, part) in [
                ("reweighting error", &reweighted.reweighting_error),
                ("specification error", &reweighted.specification_error),
            ] {
                if part.estimate.is_some_and(|v| v.abs() > 0.1 * difference) {
                    warnings.push(format!(
                        "{statistic}: the {name} is more than 10% of the difference ({}): {}",
                        part.estimate.map_or(String::new(), |v| format!("{v:.4}")),
                        if name == "reweighting error" {
                            "the reweighting did not balance the covariates; add terms to the logit or trim ψ"
                        } else {
                            "the linear RIF model is misspecified; add interactions or nonlinear terms"
                        }
                    ));
                }
            }
            result.value.counterfactual = Some(counterfactual.value);
            result.sample.counterfactual = Some(counterfactual.sample);
            result.density.counterfactual = Some(counterfactual.density);
            result.reweighted = Some(reweighted);
        }
        results.push(result);
        last = Some(document);
    }
    assemble(last, results, warnings, options, rif)
}

/// The document from the last statistic's `oaxaca` document (ledger, groups, counts) and every result.
pub(crate) fn assemble(
    last: Option<OaxacaResult>,
    results: Vec<RifStatisticResult>,
    warnings: Vec<String>,
    options: &OaxacaOptions,
    rif: &RifOptions,
) -> Result<RifResult> {
    let document = last.ok_or_else(|| Error::Invalid("no statistic to decompose: give --statistic".into()))?;
    Ok(RifResult {
        kind: "rif".into(),
        version: VERSION.into(),
        commit: COMMIT.into(),
        ledger: document.ledger,
        warnings,
        outcome: document.outcome,
        log: document.log,
        groups: document.groups,
        n: document.n,
        sum_weights: document.sum_weights,
        kernel: rif.kernel,
        bandwidth: rif.bandwidth,
        quantile_method: rif.quantile_method,
        reference: options.reference.clone(),
        se_method: document.se_method,
        vce: document.vce,
        confidence: document.confidence,
        results,
    })
}

/// Options the RIF analyses support in this version.
pub(crate) fn check(options: &OaxacaOptions, rif: &RifOptions) -> Result<()> {
    if rif.statistic.is_empty() {
        return Err(Error::Invalid("no statistic given: use e.g. --statistic q10,q50,q90 / statistic=\"q50\"".into()));
    }
    if options.se == SeMethod::Bootstrap && options.draw == BootstrapDraw::Multinomial {
        return Err(Error::Invalid(
            "the RIF bootstrap draws Poisson replicate weights: use draw = \"poisson\" (the default)".into(),
        ));
    }
    for column in &rif.reweight_covariates {
        if !options.covariates.contains(column) && !options.categorical.contains(column) {
            return Err(Error::Invalid(format!(
                "reweight_covariates: `{column}` is not among the decomposition's covariates or categorical columns \
                 (the logit's covariates are a subset of them)"
            )));
        }
    }
    if rif.reweight && options.covariates.is_empty() && options.categorical.is_empty() {
        return Err(Error::Invalid("reweight needs covariates for the reweighting logit".into()));
    }
    Ok(())
}

pub(crate) fn statistic_result(
    statistic: Statistic,
    rifs: &(RifFunction, RifFunction),
    document: &OaxacaResult,
) -> RifStatisticResult {
    let value = |e: &Estimate| e.estimate.unwrap_or(f64::NAN);
    RifStatisticResult {
        statistic,
        value: GroupValues {
            a: value(&document.mean_prediction.a),
            b: value(&document.mean_prediction.b),
            counterfactual: None,
        },
        sample: GroupValues { a: rifs.0.value, b: rifs.1.value, counterfactual: None },
        density: GroupValues { a: rifs.0.density.clone(), b: rifs.1.density.clone(), counterfactual: None },
        difference: document.difference,
        twofold: document.twofold.clone(),
        threefold: document.threefold.clone(),
        coefficients: document.coefficients.clone(),
        reweighted: None,
    }
}
