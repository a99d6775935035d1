//! The quantile profile: the gap, its composition part and its structure part at every percentile (5, 10, …,
//! 95 by default), with CIs — the picture of a "glass ceiling" (a gap widening at the top) or a "sticky floor"
//! (a gap largest at the bottom). By the RIF decomposition (delta-method CIs; composition = explained,
//! structure = unexplained) or by DFL reweighting (bootstrap CIs with `se = "bootstrap"`).

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::decomposition::{rif_decompose, RifOptions, RifResult};
use super::dfl::{dfl, DflOptions};
use super::statistic::{Bandwidth, Kernel, QuantileMethod, Statistic};
use crate::data::Ledger;
use crate::decompose::{OaxacaOptions, Pair, SeMethod};
use crate::stats::Estimate;
use crate::{Error, Result, COMMIT, VERSION};

/// How composition and structure are estimated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileMethod {
    /// RIF decomposition at each quantile (Firpo, Fortin & Lemieux 2018).
    #[default]
    Rif,
    /// DFL reweighting (DiNardo, Fortin & Lemieux 1996).
    Dfl,
}

/// Options of the profile: the method, the percentiles, and the density settings of the RIF method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileOptions {
    pub method: ProfileMethod,
    /// Percentiles in (0, 100); default 5, 10, …, 95.
    pub percentiles: Vec<f64>,
    pub kernel: Kernel,
    pub bandwidth: Bandwidth,
    /// The quantile rule of both methods.
    pub quantile_method: QuantileMethod,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            method: ProfileMethod::Rif,
            percentiles: (1..=19).map(|i| i as f64 * 5.0).collect(),
            kernel: Kernel::Gaussian,
            bandwidth: Bandwidth::Silverman,
            quantile_method: QuantileMethod::Stata,
        }
    }
}

/// The profile at one percentile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfilePoint {
    pub percentile: f64,
    /// The groups' quantiles (the sample statistic).
    pub a: Option<f64>,
    pub b: Option<f64>,
    /// What composition and structure add up to: the mean-RIF difference (RIF) or q_A − q_B (DFL).
    pub gap: Estimate,
    pub composition: Estimate,
    pub structure: Estimate,
}

/// The quantile profile document (`kind = "quantile_profile"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileProfile {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub method: ProfileMethod,
    pub outcome: String,
    pub log: bool,
    pub groups: Pair<String>,
    pub n: Pair<u64>,
    pub quantile_method: QuantileMethod,
    pub se_method: String,
    pub confidence: f64,
    pub points: Vec<ProfilePoint>,
}

/// The gap, composition and structure at every percentile of `profile`.
pub fn quantile_profile(
    frame: &DataFrame,
    options: &OaxacaOptions,
    profile: &ProfileOptions,
) -> Result<QuantileProfile> {
    let statistic = profile_statistics(profile)?;
    match profile.method {
        ProfileMethod::Rif => {
            let rif = profile_rif_options(profile, statistic);
            Ok(profile_from_rif(rif_decompose(frame, options, &rif)?, profile))
        }
        ProfileMethod::Dfl => {
            let mut dfl_options_oaxaca = options.clone();
            if dfl_options_oaxaca.se == SeMethod::Delta {
                dfl_options_oaxaca.se = SeMethod::None;
            }
            let d = dfl(
                frame,
                &dfl_options_oaxaca,
                &DflOptions { statistic, quantile_method: profile.quantile_method, ..Default::default() },
            )?;
            let points = profile
                .percentiles
                .iter()
                .zip(&d.results)
                .map(|(&percentile, s)| ProfilePoint {
                    percentile,
                    a: s.a,
                    b: s.b,
                    gap: s.difference,
                    composition: s.composition,
                    structure: s.structure,
                })
                .collect();
            Ok(QuantileProfile {
                kind: "quantile_profile".into(),
                version: VERSION.into(),
                commit: COMMIT.into(),
                ledger: d.ledger,
                warnings: d.warnings,
                method: ProfileMethod::Dfl,
                outcome: d.outcome,
                log: d.log,
                groups: d.groups,
                n: d.n,
                quantile_method: profile.quantile_method,
                se_method: d.se_method,
                confidence: d.confidence,
                points,
            })
        }
    }
}

/// The statistics of the profile: the quantile at each percentile.
pub(crate) fn profile_statistics(profile: &ProfileOptions) -> Result<Vec<Statistic>> {
    if profile.percentiles.is_empty() {
        return Err(Error::Invalid("no percentile given for the quantile profile".into()));
    }
    profile
        .percentiles
        .iter()
        .map(|&p| {
            if p > 0.0 && p < 100.0 {
                Ok(Statistic::Quantile(p / 100.0))
            } else {
                Err(Error::Invalid(format!("percentile {p} of the quantile profile is not strictly between 0 and 100")))
            }
        })
        .collect()
}

/// The RIF decomposition the profile's RIF method runs.
pub(crate) fn profile_rif_options(profile: &ProfileOptions, statistic: Vec<Statistic>) -> RifOptions {
    RifOptions {
        statistic,
        kernel: profile.kernel,
        bandwidth: profile.bandwidth,
        quantile_method: profile.quantile_method,
        ..Default::default()
    }
}

/// The profile of the RIF method from the RIF decomposition at its percentiles.
pub(crate) fn profile_from_rif(r: RifResult, profile: &ProfileOptions) -> QuantileProfile {
    let points = profile
        .percentiles
        .iter()
        .zip(&r.results)
        .map(|(&percentile, s)| ProfilePoint {
            percentile,
            a: Some(s.sample.a),
            b: Some(s.sample.b),
            gap: s.difference,
            composition: s.twofold.explained,
            structure: s.twofold.unexplained,
        })
        .collect();
    QuantileProfile {
        kind: "quantile_profile".into(),
        version: VERSION.into(),
        commit: COMMIT.into(),
        ledger: r.ledger,
        warnings: r.warnings,
        method: ProfileMethod::Rif,
        outcome: r.outcome,
        log: r.log,
        groups: r.groups,
        n: r.n,
        quantile_method: profile.quantile_method,
        se_method: r.se_method,
        confidence: r.confidence,
        points,
    }
}
