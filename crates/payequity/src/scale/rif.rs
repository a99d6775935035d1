//! The RIF decomposition over streamed batches, on the partial-state engine. The plan of passes:
//! 1. facts (group values, levels, the key check), as `oaxaca`;
//! 2. the used outcomes of each group: mean moments, and radix counts ([`RankSelection`]) for the ranks of
//!    every quantile the statistics need and of q25/q75 for the bandwidth — repeated, narrowing, until the
//!    order statistics are exact (two or three passes);
//! 3. the kernel density sums Σ K((q − y)/h) at each quantile (a sum: it merges);
//! 4. per statistic, the `oaxaca` moments of the RIF (and the residual pass for robust SEs).
//!
//! Unweighted only (a weighted quantile needs the cumulative weights in value order), not for the Gini (its
//! RIF needs every value's rank) and not with bootstrap SEs (each replicate recomputes its quantiles); those
//! read the rows into memory.

use std::sync::Arc;

use super::batches::{for_each_batch, Projection};
use super::oaxaca::{facts_pass, moments_and_finish};
use super::source::Source;
use super::{Progress, StreamOptions};
use crate::decompose::{check_columns, duplicate_key_columns, GroupRows, OaxacaOptions, OaxacaResult, Plan};
use crate::distributional::rule_of_thumb;
use crate::distributional::{
    rif_map_of, statistic_result_of, DensityAt, Kernel, RifFunction, RifOptions, RifResult, Statistic,
};
use crate::stats::{MeanMoments, RankSelection};
use crate::{Error, Result};

/// Whether the streamed RIF plan covers these options (else the rows are read into memory).
pub fn rif_streams(options: &OaxacaOptions, rif: &RifOptions) -> bool {
    options.weights.is_none()
        && rif.quantile_method == crate::distributional::QuantileMethod::Stata
        && rif.bandwidth != crate::distributional::Bandwidth::Nrd0
        && !rif.reweight
        && options.se != crate::decompose::SeMethod::Bootstrap
        && !rif.statistic.iter().any(|s| matches!(s, Statistic::Gini))
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

/// One group's outcome statistics over the passes.
struct GroupOutcomes {
    moments: MeanMoments,
    selection: RankSelection,
}

fn visit_groups(
    plan: &Plan,
    source: &Source,
    projection: &Projection,
    batch_rows: usize,
    progress: &dyn Progress,
    mut each: impl FnMut(usize, &GroupRows),
) -> Result<()> {
    for_each_batch(source, projection, batch_rows, |batch| {
        let (a, b, _) = plan.slice_rows(&batch.frame, batch.offset)?;
        each(0, &a);
        each(1, &b);
        progress.rows(batch.frame.height() as u64);
        Ok(())
    })
}

/// The RIF decomposition of streamed input: the same document as [`crate::distributional::rif_decompose`] on
/// the concatenated rows (quantiles and counts exactly, estimates to summation order), in memory that does
/// not grow with the rows. See the module docs for what it covers.
pub fn rif_source(
    source: &Source,
    options: &OaxacaOptions,
    rif: &RifOptions,
    stream: &StreamOptions,
    progress: &dyn Progress,
) -> Result<RifResult> {
    crate::distributional::check_rif(options, rif)?;
    if !rif_streams(options, rif) {
        return Err(Error::Invalid(
            "weighted, reweighted and Gini RIF analyses read the rows into memory; use the in-memory engine".into(),
        ));
    }
    check_columns(&source.empty_frame(), options)?;
    let mut wanted = options.columns_used();
    if let Some((id, period)) = duplicate_key_columns(&source.column_names(), options) {
        wanted.extend([id, period]);
    }
    let batch_rows = stream.rows_per_batch(wanted.len());
    let projection = Projection::new(source, Some(&wanted));
    progress.start_pass(1, 4, "levels and keys");
    let (facts, duplicates) = facts_pass(source, options, batch_rows, progress)?;
    let plan = Plan::from_facts(&facts, duplicates, options)?;

    // Pass 2…: moments and order statistics of each group's outcome.
    let taus: Vec<f64> = {
        let mut taus: Vec<f64> = rif.statistic.iter().flat_map(|s| s.quantiles()).collect();
        if !taus.is_empty() && rif.bandwidth == crate::distributional::Bandwidth::Silverman {
            taus.extend([0.25, 0.75]);
        }
        taus
    };
    let budget = (stream.memory_limit / 16 / 8 / 2).max(1 << 12);
    let mut groups: Vec<GroupOutcomes> = (0..2)
        .map(|_| GroupOutcomes { moments: MeanMoments::default(), selection: RankSelection::new(16, budget) })
        .collect();
    let mut pass = 2;
    loop {
        progress.start_pass(pass, pass.max(4), "exact quantiles");
        let first = pass == 2;
        visit_groups(&plan, source, &projection, batch_rows, progress, |g, rows| {
            for &y in &rows.y {
                if first {
                    groups[g].moments.push(y, 1.0);
                }
                groups[g].selection.add(y);
            }
        })?;
        if first {
            for g in &mut groups {
                let n = g.moments.n;
                if n == 0 {
                    continue;
                }
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
        pass += 1;
        if groups.iter().all(|g| g.selection.is_done()) {
            break;
        }
    }
    let labels = [plan.labels.0.clone(), plan.labels.1.clone()];
    for (g, label) in groups.iter().zip(&labels) {
        if g.moments.n < 2 {
            return Err(Error::Invalid(format!("group {label}: a RIF needs at least two rows, found {}", g.moments.n)));
        }
    }
    let quantile = |g: &GroupOutcomes, tau: f64| -> f64 {
        let (r, next) = quantile_ranks(g.moments.n, tau);
        let lower = g.selection.value(r).unwrap_or(f64::NAN);
        next.map_or(lower, |n| 0.5 * (lower + g.selection.value(n).unwrap_or(f64::NAN)))
    };
    let bandwidths: Vec<f64> = groups
        .iter()
        .zip(&labels)
        .map(|(g, label)| bandwidth(g, rif, &quantile).map_err(|e| Error::Invalid(format!("group {label}: {e}"))))
        .collect::<Result<_>>()?;

    // Density pass: Σ K((q − y)/h) at every quantile of every group.
    progress.start_pass(pass, pass + 1, "densities");
    let qs: Vec<Vec<f64>> = groups.iter().map(|g| taus.iter().map(|&t| quantile(g, t)).collect()).collect();
    let mut sums = vec![vec![0.0; taus.len()]; 2];
    visit_groups(&plan, source, &projection, batch_rows, progress, |g, rows| {
        density_sums(rif.kernel, bandwidths[g], &qs[g], &rows.y, &mut sums[g]);
    })?;

    let mut results = Vec::new();
    let mut last: Option<OaxacaResult> = None;
    let mut warnings = Vec::new();
    for &statistic in &rif.statistic {
        let functions: Vec<RifFunction> = (0..2)
            .map(|g| {
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
                RifFunction::from_parts(statistic, m.mean, m.m2 / m.sum_w, &densities)
                    .map_err(|e| Error::Invalid(format!("group {}: {e}", labels[g])))
            })
            .collect::<Result<_>>()?;
        let rifs = Arc::new((functions[0].clone(), functions[1].clone()));
        pass += 1;
        progress.start_pass(pass, pass, &format!("{statistic}: moments"));
        let mapped = plan.clone().with_outcome_map(rif_map_of(&rifs));
        let document =
            moments_and_finish(&mapped, source, &projection, batch_rows, options, progress, (pass + 1, pass + 1))?;
        for warning in &document.warnings {
            if !warnings.contains(warning) {
                warnings.push(warning.clone());
            }
        }
        results.push(statistic_result_of(statistic, &rifs, &document));
        last = Some(document);
    }
    crate::distributional::assemble_rif(last, results, warnings, options, rif)
}

/// The bandwidth of a group: fixed, or the rule of thumb from its moments and quartiles (the same rule as
/// [`crate::distributional::Sample::bandwidth`]).
fn bandwidth(g: &GroupOutcomes, rif: &RifOptions, quantile: &dyn Fn(&GroupOutcomes, f64) -> f64) -> Result<f64> {
    if let crate::distributional::Bandwidth::Fixed(h) = rif.bandwidth {
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
