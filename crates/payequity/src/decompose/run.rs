//! The Oaxaca-Blinder analysis end to end: plan → one parallel pass of group moments → kernel → document,
//! with the ledger, strict mode, pruning of categorical levels absent from both groups, and the bootstrap
//! (replicate moments from counter-based weights, accumulated in one more pass).

use std::collections::HashMap;

use polars::prelude::*;
use rayon::prelude::*;

use super::covariance::ScoreGrams;
use super::kernel::{
    decompose, CategoricalBlock, Component, Decomposition, Design, KernelOptions, ResidualModels, Scope,
};
use super::options::{BootstrapCi, BootstrapDraw, OaxacaOptions, SeMethod, Vce, Viewpoint};
use super::plan::{plan, Plan};
use super::result::*;
use super::scan::{GroupMoments, SLICE_ROWS};
use crate::data::{Ledger, Reason};
use crate::stats::{mix64, normal_quantile, poisson1, unit_uniform, Estimate, Moments};
use crate::{Error, Result};

/// Replicate moments of groups A and B over the full design.
pub type ReplicateMoments = Vec<(Moments, Moments)>;

/// Oaxaca-Blinder decomposition of `options.outcome` between groups A and B of `options.group`.
///
/// ```
/// use payequity::decompose::{oaxaca, OaxacaOptions};
/// use payequity::polars::prelude::*;
/// // y = 1 + 2x in A and y = 0.5 + x in B: all four rows fit exactly, so the components are exact.
/// let frame = df!("g" => ["M", "M", "M", "F", "F", "F"], "x" => [1.0, 2.0, 4.0, 0.0, 1.0, 2.0],
///                 "y" => [3.0, 5.0, 9.0, 0.5, 1.5, 2.5]).unwrap();
/// let options = OaxacaOptions { outcome: "y".into(), group: "g".into(), group_a: "M".into(),
///     covariates: vec!["x".into()], reference: "weight".into(), weight: Some(1.0), ..Default::default() };
/// let result = oaxaca(&frame, &options).unwrap();
/// // x̄_A = 7/3, x̄_B = 1: explained with β_A is (7/3 − 1)·2 = 8/3; difference 17/3 − 1.5 = 25/6.
/// assert!((result.twofold.explained.estimate.unwrap() - 8.0 / 3.0).abs() < 1e-12);
/// assert!((result.difference.estimate.unwrap() - 25.0 / 6.0).abs() < 1e-12);
/// ```
pub fn oaxaca(frame: &DataFrame, options: &OaxacaOptions) -> Result<OaxacaResult> {
    let plan = plan(frame, options)?;
    let moments = plan.scan(frame, 0)?;
    let replicates = match options.se {
        SeMethod::Bootstrap => Some(bootstrap_moments(&plan, frame, 0, options)?),
        _ => None,
    };
    let residuals = |kept: &[usize], models: &ResidualModels<'_>| plan.score_grams(frame, 0, kept, models);
    finish(&plan, moments, replicates, Some(&residuals), options)
}

/// A pass over the rows again for robust standard errors: given the kept full-design columns and the fitted
/// models, the merged stacked-score Gram matrices ([`Plan::score_grams`] over every batch).
pub type ResidualPass<'a> = &'a (dyn Fn(&[usize], &ResidualModels<'_>) -> Result<ScoreGrams> + Sync);

/// Plans the analysis (column checks, group values, categorical levels) without a pass over the rows:
/// with [`Plan::scan`] over any chunking of the rows and [`GroupMoments::merge`], then [`finish`].
pub fn oaxaca_plan(frame: &DataFrame, options: &OaxacaOptions) -> Result<Plan> {
    plan(frame, options)
}

/// The ledger of a pass, or in strict mode the error naming the first reason rows were excluded for.
pub(crate) fn ledger_and_strict(moments: &GroupMoments, strict: bool) -> Result<Ledger> {
    let mut ledger = Ledger::new(moments.read);
    for (reason, (count, _, _)) in &moments.excluded.by_reason {
        ledger.exclude(*reason, *count);
    }
    if strict {
        if let Some((reason, (count, column, rows))) =
            Reason::ALL.iter().find_map(|r| moments.excluded.by_reason.get(r).map(|v| (r, v))).filter(|(_, v)| v.0 > 0)
        {
            return Err(Error::Strict {
                reason: reason.as_str().into(),
                column: column.clone(),
                count: *count,
                rows: rows.clone(),
            });
        }
    }
    Ok(ledger)
}

/// Drops level columns without observations in either group (they carry no information) and settles the
/// base level (the chosen one, else the first level observed in both groups); returns the pruned design
/// and the kept full-design columns.
fn prune_levels(
    design: &Design,
    a: &Moments,
    b: &Moments,
    options: &OaxacaOptions,
    warnings: &mut Vec<String>,
) -> Result<(Design, Vec<usize>)> {
    let level_columns: Vec<usize> = design.blocks.iter().flat_map(|b| b.columns.iter().copied()).collect();
    let present = |j: usize| a.xtwx[[j, j]] > 0.0 || b.xtwx[[j, j]] > 0.0;
    let kept: Vec<usize> = (0..design.k()).filter(|&j| !level_columns.contains(&j) || present(j)).collect();
    let position: HashMap<usize, usize> = kept.iter().enumerate().map(|(new, &old)| (old, new)).collect();
    let mut blocks = Vec::new();
    for block in &design.blocks {
        let mut levels = Vec::new();
        let mut columns = Vec::new();
        let mut base = None;
        for (i, &column) in block.columns.iter().enumerate() {
            if let Some(&new) = position.get(&column) {
                if i == block.base {
                    base = Some(levels.len());
                }
                levels.push(block.levels[i].clone());
                columns.push(new);
            }
        }
        let base = match base {
            Some(b) => b,
            None if options.base_levels.contains_key(&block.column) => {
                return Err(Error::Invalid(format!(
                    "base level `{}` of `{}` has no observations in groups A or B",
                    block.levels[block.base], block.column
                )))
            }
            None => 0,
        };
        // Without a chosen base, the first level observed in both groups (a base missing from a group
        // leaves that group's dummies collinear with the constant).
        let base = if options.base_levels.contains_key(&block.column) {
            base
        } else {
            let in_both = |j: usize| a.xtwx[[kept[j], kept[j]]] > 0.0 && b.xtwx[[kept[j], kept[j]]] > 0.0;
            columns.iter().position(|&c| in_both(c)).unwrap_or(0)
        };
        if levels.len() == 1 {
            warnings.push(format!("`{}` has a single level among the used rows: it explains nothing", block.column));
        }
        blocks.push(CategoricalBlock { column: block.column.clone(), levels, columns, base });
    }
    let terms = kept.iter().map(|&j| design.terms[j].clone()).collect();
    Ok((Design { terms, blocks, detail_groups: design.detail_groups.clone() }, kept))
}

/// From merged group moments (and bootstrap replicates over the same full design) to the document.
/// `residuals` runs the residual pass of `vce = "robust"` over the rows again.
pub fn finish(
    plan: &Plan,
    moments: GroupMoments,
    replicates: Option<ReplicateMoments>,
    residuals: Option<ResidualPass<'_>>,
    options: &OaxacaOptions,
) -> Result<OaxacaResult> {
    let ledger = ledger_and_strict(&moments, options.strict)?;
    let mut warnings = Vec::new();
    let (design, kept) = prune_levels(&plan.design, &moments.a, &moments.b, options, &mut warnings)?;
    let (a, b) = (moments.a.select(&kept), moments.b.select(&kept));
    let kernel = KernelOptions {
        reference: options.reference()?,
        viewpoint: options.threefold_viewpoint,
        normalize: options.normalize,
        strict: options.strict,
        variances: options.se == SeMethod::Delta,
    };
    let labels = (plan.labels.0.as_str(), plan.labels.1.as_str());
    let robust = options.se == SeMethod::Delta && options.vce == Vce::Robust;
    let main = match (robust, residuals) {
        (false, _) => decompose(&a, &b, &design, labels, kernel, None)?,
        (true, Some(residuals)) => {
            let pass = |models: &ResidualModels<'_>| residuals(&kept, models);
            decompose(&a, &b, &design, labels, kernel, Some(&pass))?
        }
        (true, None) => {
            return Err(Error::Invalid("robust standard errors need the rows again for a residual pass".into()))
        }
    };
    warnings.extend(main.warnings.iter().cloned());

    let q = normal_quantile(1.0 - (1.0 - options.confidence) / 2.0);
    let mut successful = 0;
    let estimates: Vec<Estimate> = match (options.se, replicates) {
        (SeMethod::Delta, _) => {
            let variances = main.variances.as_ref().expect("asked for variances");
            main.values
                .iter()
                .zip(variances)
                .map(|(v, var)| Estimate::symmetric(Some(*v), Some(var.sqrt()), q))
                .collect()
        }
        (SeMethod::Bootstrap, Some(replicates)) => {
            let reps = replicates.len();
            let quiet = KernelOptions { variances: false, strict: false, ..kernel };
            let draws: Vec<Decomposition> = replicates
                .into_par_iter()
                .filter_map(|(ra, rb)| {
                    decompose(&ra.select(&kept), &rb.select(&kept), &design, labels, quiet, None).ok()
                })
                .collect();
            if draws.len() < 2 {
                return Err(Error::Invalid(format!(
                    "only {} of {reps} bootstrap replicates could be fitted: too few observations for the model",
                    draws.len()
                )));
            }
            if draws.len() < reps {
                warnings.push(format!(
                    "{} of {reps} bootstrap replicates could not be fitted and were skipped",
                    reps - draws.len()
                ));
            }
            successful = draws.len();
            bootstrap_estimates(&main, &draws, options.bootstrap_ci, options.confidence, q)
        }
        _ => main.values.iter().map(|v| Estimate::point(Some(*v))).collect(),
    };
    let mut result = document(plan, &design, &a, &b, &main, &estimates, ledger, warnings, options);
    if let Some(info) = result.bootstrap.as_mut() {
        info.successful = successful;
    }
    Ok(result)
}

/// The grouped detail: named detail groups first, then each categorical column not in one of them.
fn detail_scopes(design: &Design) -> Vec<(String, Scope)> {
    let grouped: Vec<&String> = design.detail_groups.iter().flat_map(|g| g.1.iter()).collect();
    let mut scopes: Vec<(String, Scope)> =
        design.detail_groups.iter().enumerate().map(|(i, g)| (g.0.clone(), Scope::Group(i))).collect();
    scopes.extend(
        design
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| !grouped.contains(&&b.column))
            .map(|(i, b)| (b.column.clone(), Scope::Block(i))),
    );
    scopes
}

fn bootstrap_estimates(
    main: &Decomposition,
    draws: &[Decomposition],
    ci: BootstrapCi,
    confidence: f64,
    q: f64,
) -> Vec<Estimate> {
    (0..main.values.len())
        .map(|i| {
            let mut values: Vec<f64> = draws.iter().map(|d| d.values[i]).collect();
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            match ci {
                BootstrapCi::Normal => Estimate::symmetric(Some(main.values[i]), Some(sd), q),
                BootstrapCi::Percentile => {
                    values.sort_by(f64::total_cmp);
                    let alpha = 1.0 - confidence;
                    Estimate {
                        estimate: Some(main.values[i]),
                        se: Some(sd),
                        ci_low: Some(quantile_sorted(&values, alpha / 2.0)),
                        ci_high: Some(quantile_sorted(&values, 1.0 - alpha / 2.0)),
                    }
                }
            }
        })
        .collect()
}

/// Linear-interpolation quantile of sorted values (Hyndman & Fan type 7, numpy's default).
fn quantile_sorted(values: &[f64], p: f64) -> f64 {
    let h = (values.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    values[lo] + (h - lo as f64) * (values[hi] - values[lo])
}

#[allow(clippy::too_many_arguments)]
fn document(
    plan: &Plan,
    design: &Design,
    a: &Moments,
    b: &Moments,
    main: &Decomposition,
    estimates: &[Estimate],
    ledger: Ledger,
    warnings: Vec<String>,
    options: &OaxacaOptions,
) -> OaxacaResult {
    let index: HashMap<(Component, Scope), usize> = main.labels.iter().enumerate().map(|(i, l)| (*l, i)).collect();
    let get = |c: Component, s: Scope| estimates[index[&(c, s)]];
    let twofold_term = |term: String, s: Scope| TwofoldTerm {
        term,
        explained: get(Component::Explained, s),
        unexplained: get(Component::Unexplained, s),
        unexplained_a: get(Component::UnexplainedA, s),
        unexplained_b: get(Component::UnexplainedB, s),
    };
    let threefold_term = |term: String, s: Scope| ThreefoldTerm {
        term,
        endowments: get(Component::Endowments, s),
        coefficients: get(Component::Coefficients, s),
        interaction: get(Component::Interaction, s),
    };
    let terms = &design.terms;
    let term_map = |v: &[f64]| TermMap(terms.iter().cloned().zip(v.iter().copied()).collect());
    let reference = options.reference().expect("validated");
    OaxacaResult {
        kind: "oaxaca".into(),
        version: crate::VERSION.into(),
        commit: crate::COMMIT.into(),
        ledger,
        warnings,
        outcome: options.outcome.clone(),
        log: options.log,
        groups: Pair { a: plan.labels.0.clone(), b: plan.labels.1.clone() },
        n: Pair { a: a.n, b: b.n },
        sum_weights: Pair { a: a.sum_w, b: b.sum_w },
        mean_prediction: Pair { a: get(Component::MeanA, Scope::Total), b: get(Component::MeanB, Scope::Total) },
        difference: get(Component::Difference, Scope::Total),
        twofold: TwofoldResult {
            reference: reference.name().into(),
            weight: main.reference_weight,
            explained: get(Component::Explained, Scope::Total),
            unexplained: get(Component::Unexplained, Scope::Total),
            unexplained_a: get(Component::UnexplainedA, Scope::Total),
            unexplained_b: get(Component::UnexplainedB, Scope::Total),
            detailed: terms.iter().enumerate().map(|(j, t)| twofold_term(t.clone(), Scope::Term(j))).collect(),
            groups: detail_scopes(design).into_iter().map(|(name, scope)| twofold_term(name, scope)).collect(),
        },
        threefold: ThreefoldResult {
            viewpoint: match options.threefold_viewpoint {
                Viewpoint::A => "a".into(),
                Viewpoint::B => "b".into(),
            },
            endowments: get(Component::Endowments, Scope::Total),
            coefficients: get(Component::Coefficients, Scope::Total),
            interaction: get(Component::Interaction, Scope::Total),
            detailed: terms.iter().enumerate().map(|(j, t)| threefold_term(t.clone(), Scope::Term(j))).collect(),
            groups: detail_scopes(design).into_iter().map(|(name, scope)| threefold_term(name, scope)).collect(),
        },
        coefficients: Coefficients {
            a: term_map(&main.beta_a),
            b: term_map(&main.beta_b),
            reference: term_map(&main.beta_star),
        },
        means: Pair { a: term_map(&main.xbar_a), b: term_map(&main.xbar_b) },
        categorical: design
            .blocks
            .iter()
            .map(|bl| CategoricalInfo {
                column: bl.column.clone(),
                levels: bl.levels.clone(),
                base: bl.levels[bl.base].clone(),
                normalized: options.normalize,
            })
            .collect(),
        se_method: options.se.as_str().into(),
        vce: match options.vce {
            Vce::Classical => "classical".into(),
            Vce::Robust => "robust".into(),
        },
        bootstrap: (options.se == SeMethod::Bootstrap).then(|| BootstrapInfo {
            reps: options.reps,
            successful: 0,
            seed: options.seed,
            draw: match options.draw {
                BootstrapDraw::Poisson => "poisson".into(),
                BootstrapDraw::Multinomial => "multinomial".into(),
            },
            ci: match options.bootstrap_ci {
                BootstrapCi::Normal => "normal".into(),
                BootstrapCi::Percentile => "percentile".into(),
            },
        }),
        confidence: options.confidence,
    }
}

/// Replicate weight of 0-based input `row` in replicate `r`: Poisson(1) from a counter-based generator, so
/// it depends only on (seed, row, r) — not on chunking or threads.
pub(crate) fn poisson_draw(seed: u64, row: u64, r: u64) -> f64 {
    poisson1(unit_uniform(mix64(mix64(seed ^ 0x6F61_7861_6361) ^ mix64(row.wrapping_mul(0x9E37_79B9) ^ (r << 40) ^ r))))
}

/// Multinomial counts of replicate `r` over `n_used` rows: n_used draws with replacement, draw j taking
/// used row ⌊u_j · n_used⌋ with u_j from the counter (seed, r, j).
fn multinomial_counts(seed: u64, r: u64, n_used: usize) -> Vec<u32> {
    let mut counts = vec![0u32; n_used];
    let key = mix64(seed ^ 0x6D75_6C74_696E) ^ mix64(r);
    for j in 0..n_used as u64 {
        let u = mix64(key ^ mix64(j));
        let pick = ((u as u128 * n_used as u128) >> 64) as usize;
        counts[pick] += 1;
    }
    counts
}

/// Replicate moments for the bootstrap: every replicate's weights applied to the same design rows, in
/// batches of slices merged in order (deterministic whatever the thread count).
/// `offset` is the 0-based input row of the frame's first row (Poisson draws depend on it; multinomial draws
/// need every used row in one frame, so `offset` must then be 0).
pub fn bootstrap_moments(
    plan: &Plan,
    frame: &DataFrame,
    offset: u64,
    options: &OaxacaOptions,
) -> Result<ReplicateMoments> {
    if offset > 0 && options.draw == BootstrapDraw::Multinomial {
        return Err(Error::Invalid(
            "multinomial bootstrap draws need every row in memory at once; streamed or distributed input uses \
             draw = \"poisson\" (the default)"
                .into(),
        ));
    }
    let k = plan.design.k();
    let reps = options.reps;
    let starts: Vec<usize> = (0..frame.height()).step_by(SLICE_ROWS).collect();
    // Multinomial draws need each used row's position among the used rows.
    let used_rows: Option<Vec<u64>> = match options.draw {
        BootstrapDraw::Poisson => None,
        BootstrapDraw::Multinomial => {
            let mut rows = Vec::new();
            for &start in &starts {
                let (a, b, _) = plan.slice_rows(&frame.slice(start as i64, SLICE_ROWS), offset + start as u64)?;
                rows.extend(a.rows);
                rows.extend(b.rows);
            }
            rows.sort_unstable();
            Some(rows)
        }
    };
    let mut total: ReplicateMoments = (0..reps).map(|_| (Moments::new(k), Moments::new(k))).collect();
    // Replicates per pass: bounded so multinomial counts stay under 2^26 entries.
    let per_pass = match &used_rows {
        None => reps,
        Some(rows) => (((1usize << 26) / rows.len().max(1)).max(1)).min(reps),
    };
    let batch = rayon::current_num_threads().max(1) * 2;
    for first in (0..reps).step_by(per_pass) {
        let last = (first + per_pass).min(reps);
        let counts: Option<Vec<Vec<u32>>> = used_rows.as_ref().map(|rows| {
            (first..last).into_par_iter().map(|r| multinomial_counts(options.seed, r as u64, rows.len())).collect()
        });
        for group in starts.chunks(batch) {
            let parts: Vec<ReplicateMoments> = group
                .par_iter()
                .map(|&start| {
                    let slice = frame.slice(start as i64, SLICE_ROWS);
                    let (ra, rb, _) = plan.slice_rows(&slice, offset + start as u64)?;
                    let mut out: ReplicateMoments = (first..last).map(|_| (Moments::new(k), Moments::new(k))).collect();
                    for (which, rows) in [(0, &ra), (1, &rb)] {
                        let positions: Option<Vec<usize>> = used_rows.as_ref().map(|used| {
                            rows.rows.iter().map(|row| used.binary_search(row).expect("a used row")).collect()
                        });
                        let mut w = vec![0.0; rows.w.len()];
                        for (slot, r) in (first..last).enumerate() {
                            for (i, wi) in w.iter_mut().enumerate() {
                                let factor = match (&counts, &positions) {
                                    (Some(c), Some(p)) => c[slot][p[i]] as f64,
                                    _ => poisson_draw(options.seed, rows.rows[i], r as u64),
                                };
                                *wi = rows.w[i] * factor;
                            }
                            let target = if which == 0 { &mut out[slot].0 } else { &mut out[slot].1 };
                            push_positive(target, rows, &w, k);
                        }
                    }
                    Ok(out)
                })
                .collect::<Result<_>>()?;
            for part in parts {
                for (slot, (pa, pb)) in part.into_iter().enumerate() {
                    let (ta, tb) = &mut total[first + slot];
                    *ta = std::mem::replace(ta, Moments::new(k)).merge(&pa)?;
                    *tb = std::mem::replace(tb, Moments::new(k)).merge(&pb)?;
                }
            }
        }
    }
    Ok(total)
}

/// Accumulates the rows with a positive replicate weight (a row drawn 0 times is not in the replicate: it
/// must not count towards n).
fn push_positive(target: &mut Moments, rows: &super::scan::GroupRows, w: &[f64], k: usize) {
    let keep: Vec<usize> = (0..w.len()).filter(|&i| w[i] > 0.0).collect();
    if keep.len() == w.len() {
        target.push_block(rows.design(k), &rows.y, w);
        return;
    }
    let mut x = Vec::with_capacity(keep.len() * k);
    let mut y = Vec::with_capacity(keep.len());
    let mut wk = Vec::with_capacity(keep.len());
    for &i in &keep {
        x.extend_from_slice(&rows.x[i * k..(i + 1) * k]);
        y.push(rows.y[i]);
        wk.push(w[i]);
    }
    let view = ndarray::ArrayView2::from_shape((y.len(), k), &x).expect("k values per row");
    target.push_block(view, &y, &wk);
}
