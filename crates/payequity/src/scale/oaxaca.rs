//! Oaxaca-Blinder over streamed batches. The plan of passes:
//! 1. facts: group values, categorical levels, non-null counts ([`PlanFacts`]), and the (employee_id,
//!    period) key check in input order ([`KeyTracker`]);
//! 2. moments of groups A and B over the full design, with the bootstrap's replicate moments (Poisson
//!    draws keyed by input row) in the same pass;
//! 3. only for robust standard errors: the residual pass of stacked-score Gram matrices.
//!
//! The states ([`OaxacaPartial`]) are the in-memory analysis' own (`decompose::scan`), so
//! [`crate::decompose::finish`] writes the same document.

use serde::{Deserialize, Serialize};

use super::batches::{for_each_batch, Projection};
use super::keys::KeyTracker;
use super::source::Source;
use super::{Progress, StreamOptions};
use crate::decompose::{
    bootstrap_moments, check_columns, duplicate_key_columns, finish, BootstrapDraw, DuplicateRows, GroupMoments,
    OaxacaOptions, OaxacaResult, Plan, PlanFacts, ReplicateMoments, ResidualModels, ScoreGrams, SeMethod, Vce,
};
use crate::stats::Moments;
use crate::{Error, Result};

/// The mergeable state of the moments pass: group moments and, for the bootstrap, replicate moments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OaxacaPartial {
    pub moments: GroupMoments,
    pub replicates: Option<ReplicateMoments>,
}

impl OaxacaPartial {
    /// The moments of one batch whose first row is input row `offset`.
    pub fn compute(
        plan: &Plan,
        frame: &polars::prelude::DataFrame,
        offset: u64,
        options: &OaxacaOptions,
    ) -> Result<Self> {
        let moments = plan.scan(frame, offset)?;
        let replicates = match options.se {
            SeMethod::Bootstrap => Some(bootstrap_moments(plan, frame, offset, options)?),
            _ => None,
        };
        Ok(OaxacaPartial { moments, replicates })
    }

    /// Sums (associative and commutative up to floating-point reassociation).
    pub fn merge(self, other: OaxacaPartial) -> Result<OaxacaPartial> {
        let replicates = match (self.replicates, other.replicates) {
            (Some(a), Some(b)) => Some(merge_replicates(a, b)?),
            (None, None) => None,
            _ => return Err(Error::Invalid("internal: bootstrap and plain moments merged".into())),
        };
        Ok(OaxacaPartial { moments: self.moments.merge(other.moments)?, replicates })
    }
}

/// Replicate-by-replicate sums of two sets of replicate moments.
pub fn merge_replicates(a: ReplicateMoments, b: ReplicateMoments) -> Result<ReplicateMoments> {
    if a.len() != b.len() {
        return Err(Error::Invalid("internal: replicate moments of different bootstrap sizes merged".into()));
    }
    a.into_iter()
        .zip(b)
        .map(|((aa, ab), (ba, bb)): ((Moments, Moments), (Moments, Moments))| Ok((aa.merge(&ba)?, ab.merge(&bb)?)))
        .collect()
}

/// The columns the analysis reads (required and optional).
fn wanted_columns(source: &Source, options: &OaxacaOptions) -> Vec<String> {
    let mut wanted = options.columns_used();
    let available = source.column_names();
    if let Some((id, period)) = duplicate_key_columns(&available, options) {
        wanted.push(id);
        wanted.push(period);
    }
    wanted
}

/// Pass 1: facts of every batch and the later rows of duplicated keys.
pub(super) fn facts_pass(
    source: &Source,
    options: &OaxacaOptions,
    batch_rows: usize,
    progress: &dyn Progress,
) -> Result<(PlanFacts, DuplicateRows)> {
    let available = source.column_names();
    let keys = duplicate_key_columns(&available, options);
    let mut wanted: Vec<String> = vec![options.group.clone()];
    wanted.extend(options.categorical.iter().cloned());
    wanted.extend(options.covariates.iter().cloned());
    wanted.extend(options.weights.iter().cloned());
    wanted.push(options.outcome.clone());
    if let Some((id, period)) = &keys {
        wanted.push(id.clone());
        wanted.push(period.clone());
    }
    let projection = Projection::new(source, Some(&wanted));
    let mut facts = PlanFacts::empty(&source.schema, options);
    let mut tracker = KeyTracker::default();
    let mut later = Vec::new();
    for_each_batch(source, &projection, batch_rows, |batch| {
        check_columns(&batch.frame, options).map_err(|e| in_file(e, source, batch.file))?;
        facts = std::mem::replace(&mut facts, PlanFacts::empty(&source.schema, options))
            .merge(PlanFacts::observe(&batch.frame, options)?)?;
        if let Some((id, period)) = &keys {
            let employees = tracker.employee_codes(batch.frame.column(id)?)?;
            let periods = tracker.period_codes(batch.frame.column(period)?)?;
            for (i, (e, p)) in employees.iter().zip(&periods).enumerate() {
                if !tracker.first_time(*e, *p) {
                    later.push(batch.offset + i as u64);
                }
            }
        }
        progress.rows(batch.frame.height() as u64);
        Ok(())
    })?;
    let duplicates = if keys.is_some() { DuplicateRows::Rows(later) } else { DuplicateRows::None };
    Ok((facts, duplicates))
}

/// Names the file of a batch in an error about its data.
fn in_file(error: Error, source: &Source, file: usize) -> Error {
    match error {
        Error::ColumnType { column, role, dtype, expected } => Error::ColumnType {
            column: format!("{column}` in `{}", source.files[file].path.display()),
            role,
            dtype,
            expected,
        },
        other => other,
    }
}

/// Oaxaca-Blinder decomposition of streamed input: the same document as [`crate::decompose::oaxaca`] on
/// the concatenated rows (estimates to floating-point reassociation, counts and ledger exactly), in memory
/// that does not grow with the number of rows.
pub fn oaxaca_source(
    source: &Source,
    options: &OaxacaOptions,
    stream: &StreamOptions,
    progress: &dyn Progress,
) -> Result<OaxacaResult> {
    check_columns(&source.empty_frame(), options)?;
    if options.se == SeMethod::Bootstrap && options.draw == BootstrapDraw::Multinomial {
        return Err(Error::Invalid(
            "multinomial bootstrap draws need every row in memory at once; streamed input uses draw = \"poisson\" \
             (the default), or read the input in memory"
                .into(),
        ));
    }
    let wanted = wanted_columns(source, options);
    let batch_rows = stream.rows_per_batch(wanted.len());
    let robust = options.se == SeMethod::Delta && options.vce == Vce::Robust;
    let passes = if robust { 3 } else { 2 };

    progress.start_pass(1, passes, "levels and keys");
    let (facts, duplicates) = facts_pass(source, options, batch_rows, progress)?;
    let plan = Plan::from_facts(&facts, duplicates, options)?;

    progress.start_pass(2, passes, "moments");
    let projection = Projection::new(source, Some(&wanted));
    moments_and_finish(&plan, source, &projection, batch_rows, options, progress, (3, passes))
}

/// The moments pass over the rows (with the bootstrap's replicate moments), then [`finish`] with a residual
/// pass for robust SEs (shown as pass `residual_pass` of `passes`). Shared by `oaxaca` and the RIF
/// decomposition, whose plan maps the outcome.
pub(super) fn moments_and_finish(
    plan: &Plan,
    source: &Source,
    projection: &Projection,
    batch_rows: usize,
    options: &OaxacaOptions,
    progress: &dyn Progress,
    (residual_pass, passes): (usize, usize),
) -> Result<OaxacaResult> {
    let mut state: Option<OaxacaPartial> = None;
    for_each_batch(source, projection, batch_rows, |batch| {
        let part = OaxacaPartial::compute(plan, &batch.frame, batch.offset, options)?;
        state = Some(match state.take() {
            None => part,
            Some(s) => s.merge(part)?,
        });
        progress.rows(batch.frame.height() as u64);
        Ok(())
    })?;
    let state = match state {
        Some(s) => s,
        None => OaxacaPartial::compute(plan, &source.empty_frame(), 0, options)?,
    };
    let residuals = |kept: &[usize], models: &ResidualModels<'_>| -> Result<ScoreGrams> {
        progress.start_pass(residual_pass, passes, "residuals");
        let mut grams: Option<ScoreGrams> = None;
        for_each_batch(source, projection, batch_rows, |batch| {
            let part = plan.score_grams(&batch.frame, batch.offset, kept, models)?;
            grams = Some(match grams.take() {
                None => part,
                Some(mut g) => {
                    g.a += &part.a;
                    g.b += &part.b;
                    g
                }
            });
            progress.rows(batch.frame.height() as u64);
            Ok(())
        })?;
        grams.ok_or_else(|| Error::Invalid("no rows for the residual pass".into()))
    };
    finish(plan, state.moments, state.replicates, Some(&residuals), options)
}
