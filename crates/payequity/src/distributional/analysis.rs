//! The RIF decomposition in the [`Analysis`] shape (unweighted; quantiles, mean, variance, IQR and their
//! ratios; not the Gini, whose RIF needs every value's rank, nor reweighting or bootstrap SEs, which read
//! the rows into memory: [`rif_streams`]). The plan of passes:
//! 1. facts (group values, levels, the repeated keys), as `oaxaca`;
//! 2. the used outcomes of each group: mean moments, and radix counts ([`RankSelection`]) for the ranks of
//!    every quantile the statistics need and of q25/q75 for the bandwidth, repeated, narrowing, until the
//!    order statistics are exact (two or three passes);
//! 3. the kernel density sums Σ K((q − y)/h) at each quantile (a sum: it merges);
//! 4. per statistic, the `oaxaca` moments of the RIF (and the residual pass for robust SEs).
//!
//! The document is [`super::rif_decompose`]'s on the same rows: quantiles and counts exactly, estimates to
//! summation order.

use std::sync::Arc;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::profile::{profile_from_rif, profile_rif_options, profile_statistics};
use super::{
    assemble_rif, check_rif, rif_map_of, rule_of_thumb, statistic_result_of, Bandwidth, DensityAt, Kernel,
    ProfileMethod, ProfileOptions, QuantileMethod, QuantileProfile, RifFunction, RifOptions, RifResult,
    RifStatisticResult, Statistic,
};
use crate::decompose::analysis::{Facts, Finished, OwnedModels};
use crate::decompose::OaxacaPartial;
use crate::decompose::{
    OaxacaAccumulator, OaxacaAnalysis, OaxacaOptions, OaxacaPass, OaxacaResult, OaxacaState, Plan, SeMethod,
};
use crate::scale::{
    decode_state, encode_state, Accumulator, Analysis, Batch, Columns, PassLabel, StateKind, Step, StreamOptions,
};
use crate::stats::{MeanMoments, RankSelection};
use crate::{Error, Result};

/// Whether the streamed RIF plan covers these options (else the rows are read into memory).
pub fn rif_streams(options: &OaxacaOptions, rif: &RifOptions) -> bool {
    options.weights.is_none()
        && rif.quantile_method == QuantileMethod::Stata
        && rif.bandwidth != Bandwidth::Nrd0
        && !rif.reweight
        && options.se != SeMethod::Bootstrap
        && !rif.statistic.iter().any(|s| matches!(s, Statistic::Gini))
}

/// The RIF decomposition ([`super::rif_decompose`]) as an analysis of the engine.
#[derive(Debug, Clone)]
pub struct RifAnalysis {
    pub oaxaca: OaxacaAnalysis,
    pub rif: RifOptions,
    /// Values a group's selection collects at most at once (from the memory limit).
    budget: u64,
}

impl RifAnalysis {
    /// The analysis under the memory limit of `stream`.
    ///
    /// # Errors
    /// Options the streamed plan does not cover ([`rif_streams`]), or that [`super::rif_decompose`] refuses.
    pub fn new(options: &OaxacaOptions, rif: &RifOptions, stream: &StreamOptions) -> Result<RifAnalysis> {
        check_rif(options, rif)?;
        if !rif_streams(options, rif) {
            return Err(Error::Invalid(
                "streamed and Spark or Dask RIF analyses cover unweighted statistics other than the Gini, with Stata's \
                 quantiles and bandwidth, without reweighting or bootstrap SEs: read the input in memory for these \
                 options"
                    .into(),
            ));
        }
        let budget = (stream.memory_limit / 16 / 8 / 2).max(1 << 12);
        Ok(RifAnalysis { oaxaca: OaxacaAnalysis::new(options), rif: rif.clone(), budget })
    }

    /// Every quantile the statistics need, and q25/q75 for Silverman's bandwidth.
    fn taus(&self) -> Vec<f64> {
        let mut taus: Vec<f64> = self.rif.statistic.iter().flat_map(|s| s.quantiles()).collect();
        if !taus.is_empty() && self.rif.bandwidth == Bandwidth::Silverman {
            taus.extend([0.25, 0.75]);
        }
        taus
    }

    fn moments_plan(&self, facts: &Facts, fit: &Fit, schema: &DataFrame) -> Result<Plan> {
        let rifs = fit.functions()?;
        Ok(self.oaxaca.plan(facts, schema)?.with_outcome_map(rif_map_of(&Arc::new(rifs))))
    }
}

/// One group's outcome statistics over the selection passes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcomes {
    moments: MeanMoments,
    selection: RankSelection,
}

/// What a statistic's RIF is made of, per group: ν's parts and the densities at its quantiles.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RifParts {
    mu: f64,
    variance: f64,
    densities: Vec<DensityAt>,
}

/// The statistics' RIFs and the decompositions done so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fit {
    /// Per statistic, the parts of groups A and B.
    parts: Vec<(Statistic, RifParts, RifParts)>,
    /// The statistic being decomposed.
    at: usize,
    results: Vec<RifStatisticResult>,
    last: Option<Box<OaxacaResult>>,
    warnings: Vec<String>,
}

impl Fit {
    fn functions(&self) -> Result<(RifFunction, RifFunction)> {
        let (statistic, a, b) = &self.parts[self.at];
        let function = |p: &RifParts| RifFunction::from_parts(*statistic, p.mu, p.variance, &p.densities);
        Ok((function(a)?, function(b)?))
    }
}

/// A pass of the RIF decomposition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RifPass {
    Facts,
    Select { facts: Facts, groups: Vec<Outcomes>, number: usize },
    Densities { facts: Facts, groups: Vec<Outcomes>, qs: Vec<Vec<f64>>, bandwidths: Vec<f64>, number: usize },
    Moments { facts: Facts, fit: Box<Fit>, number: usize },
    Scores { facts: Facts, fit: Box<Fit>, moments: Box<OaxacaPartial>, models: OwnedModels, number: usize },
}

/// A state of a pass.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per pass, never in a collection
pub enum RifState {
    Oaxaca(OaxacaState),
    Select(Vec<Outcomes>),
    Densities(Vec<Vec<f64>>),
}

/// The accumulator of a pass.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per pass, never in a collection
pub enum RifAccumulator<'a> {
    Oaxaca(OaxacaAccumulator<'a>),
    Select { plan: Plan, groups: Vec<Outcomes>, first: bool },
    Densities { plan: Plan, kernel: Kernel, bandwidths: &'a [f64], qs: &'a [Vec<f64>], sums: Vec<Vec<f64>> },
}

impl Accumulator for RifAccumulator<'_> {
    type State = RifState;

    fn update(&mut self, batch: &Batch) -> Result<()> {
        match self {
            RifAccumulator::Oaxaca(inner) => inner.update(batch),
            RifAccumulator::Select { plan, groups, first } => {
                let (a, b, _) = plan.slice_rows(&batch.frame, batch.offset)?;
                for (g, rows) in groups.iter_mut().zip([&a, &b]) {
                    for &y in &rows.y {
                        if *first {
                            g.moments.push(y, 1.0);
                        }
                        g.selection.add(y);
                    }
                }
                Ok(())
            }
            RifAccumulator::Densities { plan, kernel, bandwidths, qs, sums } => {
                let (a, b, _) = plan.slice_rows(&batch.frame, batch.offset)?;
                for (g, rows) in [&a, &b].into_iter().enumerate() {
                    density_sums(*kernel, bandwidths[g], &qs[g], &rows.y, &mut sums[g]);
                }
                Ok(())
            }
        }
    }

    fn state(self) -> Result<RifState> {
        Ok(match self {
            RifAccumulator::Oaxaca(inner) => RifState::Oaxaca(inner.state()?),
            RifAccumulator::Select { groups, .. } => RifState::Select(groups),
            RifAccumulator::Densities { sums, .. } => RifState::Densities(sums),
        })
    }
}

/// 0-based ranks of the Stata `_pctile` quantile τ of n unweighted values: one rank, or two to average.
fn quantile_ranks(n: u64, tau: f64) -> (u64, Option<u64>) {
    let nf = n as f64;
    let target = tau * nf;
    let tolerance = 1e-12 * nf;
    let first = ((target - tolerance).ceil() as u64).clamp(1, n);
    if ((first as f64) - target).abs() <= tolerance {
        (first - 1, Some(first.min(n - 1)))
    } else {
        (first - 1, None)
    }
}

/// The Stata quantile τ of a group from its resolved ranks.
fn quantile(g: &Outcomes, tau: f64) -> f64 {
    let (r, next) = quantile_ranks(g.moments.n, tau);
    let lower = g.selection.value(r).unwrap_or(f64::NAN);
    next.map_or(lower, |n| 0.5 * (lower + g.selection.value(n).unwrap_or(f64::NAN)))
}

/// The bandwidth of a group: fixed, or the rule of thumb from its moments and quartiles (the same rule as
/// [`super::Sample::bandwidth`]).
fn bandwidth(g: &Outcomes, rif: &RifOptions) -> Result<f64> {
    if let Bandwidth::Fixed(h) = rif.bandwidth {
        return Ok(h);
    }
    let n = g.moments.n as f64;
    let s = (g.moments.m2 / g.moments.sum_w * n / (n - 1.0)).sqrt();
    rule_of_thumb(1.3643 * rif.kernel.delta(), n, s, (quantile(g, 0.75) - quantile(g, 0.25)) / 1.349)
}

/// Adds Σ K((q − y)/h) for each q over `values` (values beyond the kernel's reach, or 40h, add nothing).
fn density_sums(kernel: Kernel, h: f64, qs: &[f64], values: &[f64], sums: &mut [f64]) {
    let reach = kernel.support().min(40.0) * h;
    for (q, sum) in qs.iter().zip(sums.iter_mut()) {
        *sum += values.iter().filter(|&&y| (y - q).abs() <= reach).map(|&y| kernel.weight((q - y) / h)).sum::<f64>();
    }
}

impl RifAnalysis {
    /// After the facts: the first selection pass of both groups.
    fn select(&self, facts: Facts) -> Result<RifPass> {
        self.oaxaca.plan(&facts, &DataFrame::empty())?;
        let fresh = || Outcomes { moments: MeanMoments::default(), selection: RankSelection::new(16, self.budget) };
        Ok(RifPass::Select { facts, groups: vec![fresh(), fresh()], number: 2 })
    }

    /// After a selection pass: the ranks targeted (first pass) and narrowed; another pass, or the bandwidths.
    fn after_select(&self, facts: Facts, mut groups: Vec<Outcomes>, number: usize) -> Result<RifPass> {
        let taus = self.taus();
        if number == 2 {
            for g in groups.iter_mut().filter(|g| g.moments.n > 0) {
                let n = g.moments.n;
                let ranks: Vec<u64> = taus
                    .iter()
                    .flat_map(|&t| {
                        let (r, next) = quantile_ranks(n, t);
                        std::iter::once(r).chain(next)
                    })
                    .collect();
                g.selection.target(&ranks);
            }
        }
        for g in &mut groups {
            g.selection.refine()?;
        }
        if !groups.iter().all(|g| g.selection.is_done()) {
            return Ok(RifPass::Select { facts, groups, number: number + 1 });
        }
        let plan = self.oaxaca.plan(&facts, &DataFrame::empty())?;
        let labels = [plan.labels.0.clone(), plan.labels.1.clone()];
        for (g, label) in groups.iter().zip(&labels) {
            if g.moments.n < 2 {
                return Err(Error::Invalid(format!(
                    "group {label}: a RIF needs at least two rows, found {}",
                    g.moments.n
                )));
            }
        }
        let bandwidths = groups
            .iter()
            .zip(&labels)
            .map(|(g, label)| bandwidth(g, &self.rif).map_err(|e| Error::Invalid(format!("group {label}: {e}"))))
            .collect::<Result<Vec<f64>>>()?;
        let qs = groups.iter().map(|g| taus.iter().map(|&t| quantile(g, t)).collect()).collect();
        Ok(RifPass::Densities { facts, groups, qs, bandwidths, number: number + 1 })
    }

    /// After the density pass: each statistic's RIF of each group, and the first statistic's moments pass.
    fn after_densities(&self, pass: RifPass, sums: Vec<Vec<f64>>) -> Result<RifPass> {
        let RifPass::Densities { facts, groups, qs, bandwidths, number } = pass else {
            return Err(Error::Invalid("internal: RIF densities finished under another pass".into()));
        };
        let taus = self.taus();
        let plan = self.oaxaca.plan(&facts, &DataFrame::empty())?;
        let labels = [plan.labels.0.clone(), plan.labels.1.clone()];
        let parts_of = |statistic: Statistic, g: usize| -> Result<RifParts> {
            let n = groups[g].moments.n as f64;
            let densities: Vec<DensityAt> = statistic
                .quantiles()
                .iter()
                .map(|&tau| {
                    let i = taus.iter().position(|&t| t == tau).unwrap_or(0);
                    DensityAt { tau, q: qs[g][i], f: sums[g][i] / (bandwidths[g] * n), bandwidth: bandwidths[g] }
                })
                .collect();
            let m = &groups[g].moments;
            let parts = RifParts { mu: m.mean, variance: m.m2 / m.sum_w, densities };
            // Checked here, once, with the group named.
            RifFunction::from_parts(statistic, parts.mu, parts.variance, &parts.densities)
                .map_err(|e| Error::Invalid(format!("group {}: {e}", labels[g])))?;
            Ok(parts)
        };
        let parts = self
            .rif
            .statistic
            .iter()
            .map(|&s| Ok((s, parts_of(s, 0)?, parts_of(s, 1)?)))
            .collect::<Result<Vec<_>>>()?;
        let fit = Fit { parts, at: 0, results: Vec::new(), last: None, warnings: Vec::new() };
        Ok(RifPass::Moments { facts, fit: Box::new(fit), number: number + 1 })
    }

    /// A statistic decomposed: the next statistic's moments pass, or the document.
    fn after_statistic(
        &self,
        facts: Facts,
        mut fit: Box<Fit>,
        document: OaxacaResult,
        number: usize,
    ) -> Result<Step<RifPass, RifResult>> {
        for warning in &document.warnings {
            if !fit.warnings.contains(warning) {
                fit.warnings.push(warning.clone());
            }
        }
        let rifs = fit.functions()?;
        let statistic = fit.parts[fit.at].0;
        fit.results.push(statistic_result_of(statistic, &rifs, &document));
        fit.last = Some(Box::new(document));
        fit.at += 1;
        if fit.at < fit.parts.len() {
            return Ok(Step::Pass(RifPass::Moments { facts, fit, number: number + 1 }));
        }
        let fit = *fit;
        let last = fit.last.map(|d| *d);
        Ok(Step::Done(assemble_rif(last, fit.results, fit.warnings, &self.oaxaca.options, &self.rif)?))
    }
}

impl Analysis for RifAnalysis {
    type Pass = RifPass;
    type State = RifState;
    type Accumulator<'a> = RifAccumulator<'a>;
    type Document = RifResult;
    const NAME: &'static str = "rif";

    fn columns(&self, schema: &DataFrame) -> Result<Columns> {
        self.oaxaca.columns(schema)
    }

    fn first_pass(&self, _columns: &[String]) -> Result<RifPass> {
        Ok(RifPass::Facts)
    }

    fn label(&self, pass: &RifPass) -> PassLabel {
        match pass {
            RifPass::Facts => PassLabel::new(1, 4, "levels and keys"),
            RifPass::Select { number, .. } => PassLabel::new(*number, (*number).max(4), "exact quantiles"),
            RifPass::Densities { number, .. } => PassLabel::new(*number, number + 1, "densities"),
            RifPass::Moments { fit, number, .. } => {
                PassLabel::new(*number, *number, format!("{}: moments", fit.parts[fit.at].0))
            }
            RifPass::Scores { number, .. } => PassLabel::new(*number, *number, "residuals"),
        }
    }

    fn accumulator<'a>(&'a self, pass: &'a RifPass, schema: &DataFrame) -> Result<RifAccumulator<'a>> {
        let options = &self.oaxaca.options;
        Ok(match pass {
            RifPass::Facts => RifAccumulator::Oaxaca(self.oaxaca.accumulator(&OaxacaPass::Facts, schema)?),
            RifPass::Select { facts, groups, number } => RifAccumulator::Select {
                plan: self.oaxaca.plan(facts, schema)?,
                groups: groups.clone(),
                first: *number == 2,
            },
            RifPass::Densities { facts, qs, bandwidths, .. } => RifAccumulator::Densities {
                plan: self.oaxaca.plan(facts, schema)?,
                kernel: self.rif.kernel,
                bandwidths,
                qs,
                sums: qs.iter().map(|q| vec![0.0; q.len()]).collect(),
            },
            RifPass::Moments { facts, fit, .. } => RifAccumulator::Oaxaca(OaxacaAccumulator::Moments {
                options,
                plan: self.moments_plan(facts, fit, schema)?,
                schema: schema.clone(),
                state: None,
            }),
            RifPass::Scores { facts, fit, models, .. } => RifAccumulator::Oaxaca(OaxacaAccumulator::Scores {
                plan: self.moments_plan(facts, fit, schema)?,
                models,
                grams: None,
            }),
        })
    }

    fn merge(&self, pass: &RifPass, a: RifState, b: RifState) -> Result<RifState> {
        Ok(match (a, b) {
            (RifState::Oaxaca(a), RifState::Oaxaca(b)) => {
                RifState::Oaxaca(self.oaxaca.merge(&OaxacaPass::Facts, a, b)?)
            }
            (RifState::Select(mut a), RifState::Select(b)) => {
                let first = matches!(pass, RifPass::Select { number: 2, .. });
                for (x, y) in a.iter_mut().zip(&b) {
                    if first {
                        x.moments = x.moments.merge(&y.moments);
                    }
                    x.selection.merge(&y.selection)?;
                }
                RifState::Select(a)
            }
            (RifState::Densities(mut a), RifState::Densities(b)) => {
                for (x, y) in a.iter_mut().zip(&b) {
                    x.iter_mut().zip(y).for_each(|(s, t)| *s += t);
                }
                RifState::Densities(a)
            }
            _ => return Err(Error::Invalid("internal: states of different RIF passes merged".into())),
        })
    }

    fn next(&self, pass: RifPass, state: RifState) -> Result<Step<RifPass, RifResult>> {
        let schema = DataFrame::empty();
        match (pass, state) {
            (RifPass::Facts, RifState::Oaxaca(OaxacaState::Facts(facts))) => Ok(Step::Pass(self.select(facts)?)),
            (RifPass::Select { facts, groups, number }, RifState::Select(counted)) => {
                // The pass's moments are the counted ones in the first pass, the earlier ones after.
                let groups = if number == 2 {
                    counted
                } else {
                    counted
                        .into_iter()
                        .zip(groups)
                        .map(|(c, g)| Outcomes { moments: g.moments, selection: c.selection })
                        .collect()
                };
                Ok(Step::Pass(self.after_select(facts, groups, number)?))
            }
            (pass @ RifPass::Densities { .. }, RifState::Densities(sums)) => {
                Ok(Step::Pass(self.after_densities(pass, sums)?))
            }
            (RifPass::Moments { facts, fit, number }, RifState::Oaxaca(OaxacaState::Moments(moments))) => {
                let plan = self.moments_plan(&facts, &fit, &schema)?;
                let kept = if self.oaxaca.robust() { Some(moments.clone()) } else { None };
                match self.oaxaca.finish_from(&plan, moments, None)? {
                    Finished::Done(document) => self.after_statistic(facts, fit, *document, number),
                    Finished::NeedsScores(models) => {
                        let moments =
                            kept.ok_or_else(|| Error::Invalid("internal: an unexpected residual pass".into()))?;
                        Ok(Step::Pass(RifPass::Scores {
                            facts,
                            fit,
                            moments: Box::new(moments),
                            models,
                            number: number + 1,
                        }))
                    }
                }
            }
            (RifPass::Scores { facts, fit, moments, number, .. }, RifState::Oaxaca(OaxacaState::Scores(grams))) => {
                let plan = self.moments_plan(&facts, &fit, &schema)?;
                match self.oaxaca.finish_from(&plan, *moments, Some(grams))? {
                    // The next statistic's pass follows its moments pass in the numbering (as the residual one).
                    Finished::Done(document) => self.after_statistic(facts, fit, *document, number - 1),
                    Finished::NeedsScores(_) => Err(Error::Invalid("internal: a second residual pass".into())),
                }
            }
            _ => Err(Error::Invalid("internal: a RIF state finished under another pass".into())),
        }
    }

    fn encode(&self, _pass: &RifPass, state: &RifState) -> Result<Vec<u8>> {
        match state {
            RifState::Oaxaca(inner) => self.oaxaca.encode(&OaxacaPass::Facts, inner),
            RifState::Select(groups) => encode_state(StateKind::RifOutcomes, groups),
            RifState::Densities(sums) => encode_state(StateKind::RifDensities, sums),
        }
    }

    fn decode(&self, pass: &RifPass, bytes: &[u8]) -> Result<RifState> {
        Ok(match pass {
            RifPass::Facts => RifState::Oaxaca(OaxacaState::Facts(decode_state(StateKind::OaxacaFacts, bytes)?)),
            RifPass::Select { .. } => RifState::Select(decode_state(StateKind::RifOutcomes, bytes)?),
            RifPass::Densities { .. } => RifState::Densities(decode_state(StateKind::RifDensities, bytes)?),
            RifPass::Moments { .. } => {
                RifState::Oaxaca(OaxacaState::Moments(decode_state(StateKind::OaxacaMoments, bytes)?))
            }
            RifPass::Scores { .. } => {
                RifState::Oaxaca(OaxacaState::Scores(decode_state(StateKind::OaxacaScores, bytes)?))
            }
        })
    }
}

/// The quantile profile of the RIF method ([`super::quantile_profile`]) as an analysis of the engine: the
/// RIF decomposition at every percentile ([`RifAnalysis`]'s passes), its document reshaped into the profile.
#[derive(Debug, Clone)]
pub struct ProfileAnalysis {
    pub rif: RifAnalysis,
    pub profile: ProfileOptions,
}

impl ProfileAnalysis {
    /// The profile under the memory limit of `stream`.
    ///
    /// # Errors
    /// The DFL method (it reweights every row), percentiles outside (0, 100), and options the streamed RIF
    /// plan does not cover ([`profile_streams`]).
    pub fn new(options: &OaxacaOptions, profile: &ProfileOptions, stream: &StreamOptions) -> Result<ProfileAnalysis> {
        if profile.method != ProfileMethod::Rif {
            return Err(Error::Invalid(
                "the DFL quantile profile reweights every row: read the input in memory (method = \"rif\" streams)"
                    .into(),
            ));
        }
        let rif = profile_rif_options(profile, profile_statistics(profile)?);
        Ok(ProfileAnalysis { rif: RifAnalysis::new(options, &rif, stream)?, profile: profile.clone() })
    }
}

/// Whether the streamed plan covers the profile (the RIF method, under [`rif_streams`]).
pub fn profile_streams(options: &OaxacaOptions, profile: &ProfileOptions) -> bool {
    profile.method == ProfileMethod::Rif
        && profile_statistics(profile).is_ok_and(|s| rif_streams(options, &profile_rif_options(profile, s)))
}

impl Analysis for ProfileAnalysis {
    type Pass = RifPass;
    type State = RifState;
    type Accumulator<'a> = RifAccumulator<'a>;
    type Document = QuantileProfile;
    const NAME: &'static str = "quantile-profile";

    fn columns(&self, schema: &DataFrame) -> Result<Columns> {
        self.rif.columns(schema)
    }

    fn first_pass(&self, columns: &[String]) -> Result<RifPass> {
        self.rif.first_pass(columns)
    }

    fn label(&self, pass: &RifPass) -> PassLabel {
        self.rif.label(pass)
    }

    fn accumulator<'a>(&'a self, pass: &'a RifPass, schema: &DataFrame) -> Result<RifAccumulator<'a>> {
        self.rif.accumulator(pass, schema)
    }

    fn merge(&self, pass: &RifPass, a: RifState, b: RifState) -> Result<RifState> {
        self.rif.merge(pass, a, b)
    }

    fn next(&self, pass: RifPass, state: RifState) -> Result<Step<RifPass, QuantileProfile>> {
        Ok(match self.rif.next(pass, state)? {
            Step::Pass(next) => Step::Pass(next),
            Step::Done(rif) => Step::Done(profile_from_rif(rif, &self.profile)),
        })
    }

    fn encode(&self, pass: &RifPass, state: &RifState) -> Result<Vec<u8>> {
        self.rif.encode(pass, state)
    }

    fn decode(&self, pass: &RifPass, bytes: &[u8]) -> Result<RifState> {
        self.rif.decode(pass, bytes)
    }
}
