//! From a table to decomposition moments under a [`Plan`] (`plan.rs`): walks row slices in parallel, assigning every row to group A, group B or a ledger
//! reason and accumulating mergeable [`Moments`] per group ([`GroupMoments`]). Slices are merged in order,
//! so results do not depend on the thread count; any chunking of the rows gives the same moments up to
//! floating-point reassociation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use ndarray::{Array2, ArrayView2};
use polars::prelude::*;
use rayon::prelude::*;

use super::covariance::ScoreGrams;
use super::gram::GramAccumulator;
use super::kernel::ResidualModels;
use super::plan::{text_values, DuplicateRows, GroupMatcher, Plan};
use crate::data::Reason;
use crate::stats::Moments;
use crate::Result;

/// A used row's outcome and fitted value ([`Plan::fitted_rows`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FittedRow {
    pub row: u64,
    pub is_b: bool,
    pub y: f64,
    pub fitted: f64,
}

/// Rows per parallel task.
pub const SLICE_ROWS: usize = 16_384;
/// Offending rows named in strict-mode errors.
const STRICT_ROWS_SHOWN: usize = 5;

/// Per-reason exclusions of a pass: count, the column that failed, and the first 1-based rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exclusions {
    pub by_reason: BTreeMap<Reason, (u64, String, Vec<u64>)>,
}

impl Exclusions {
    fn add(&mut self, reason: Reason, column: &str, row: u64) {
        let entry = self.by_reason.entry(reason).or_insert_with(|| (0, column.to_string(), Vec::new()));
        entry.0 += 1;
        if entry.2.len() < STRICT_ROWS_SHOWN {
            entry.2.push(row + 1);
        }
    }

    pub fn merge(mut self, other: Exclusions) -> Exclusions {
        for (reason, (count, column, rows)) in other.by_reason {
            let entry = self.by_reason.entry(reason).or_insert_with(|| (0, column, Vec::new()));
            entry.0 += count;
            entry.2.extend(rows);
            entry.2.sort_unstable();
            entry.2.truncate(STRICT_ROWS_SHOWN);
        }
        self
    }
}

/// The moments of groups A and B over the full design, and what was excluded. Mergeable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMoments {
    pub read: u64,
    pub a: Moments,
    pub b: Moments,
    pub excluded: Exclusions,
}

impl GroupMoments {
    pub fn new(k: usize) -> GroupMoments {
        GroupMoments { read: 0, a: Moments::new(k), b: Moments::new(k), excluded: Exclusions::default() }
    }

    pub fn merge(self, other: GroupMoments) -> Result<GroupMoments> {
        Ok(GroupMoments {
            read: self.read + other.read,
            a: self.a.merge(&other.a)?,
            b: self.b.merge(&other.b)?,
            excluded: self.excluded.merge(other.excluded),
        })
    }
}

/// The used rows of one slice and group: row-major design, outcome, weight and 0-based row number.
#[derive(Debug, Default)]
pub struct GroupRows {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub w: Vec<f64>,
    pub rows: Vec<u64>,
}

impl GroupRows {
    pub fn design(&self, k: usize) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.y.len(), k), &self.x).expect("x holds k values per row")
    }
}

/// A numeric column of a slice as (values, validity).
struct NumericColumn {
    chunked: Float64Chunked,
}

impl NumericColumn {
    fn new(frame: &DataFrame, name: &str) -> Result<NumericColumn> {
        let chunked = frame.column(name)?.cast(&DataType::Float64)?.f64()?.rechunk().into_owned();
        Ok(NumericColumn { chunked })
    }

    fn parts(&self) -> (&[f64], Option<&polars_arrow::bitmap::Bitmap>) {
        match self.chunked.downcast_iter().next() {
            Some(array) => (array.values().as_slice(), array.validity()),
            None => (&[], None),
        }
    }
}

fn valid(validity: Option<&polars_arrow::bitmap::Bitmap>, i: usize) -> bool {
    validity.is_none_or(|v| v.get_bit(i))
}

impl Plan {
    /// Sorts the rows of one slice (starting at 0-based row `offset` of the whole input) into groups A and
    /// B, building the design rows, and ledgers the rest (the first failing check names the reason).
    pub fn slice_rows(&self, slice: &DataFrame, offset: u64) -> Result<(GroupRows, GroupRows, Exclusions)> {
        let mut groups = (GroupRows::default(), GroupRows::default());
        let excluded = self.visit_rows(slice, offset, |is_b, x, y, w, row| {
            let target = if is_b { &mut groups.1 } else { &mut groups.0 };
            target.x.extend_from_slice(x);
            target.y.push(y);
            target.w.push(w);
            target.rows.push(row);
        })?;
        Ok((groups.0, groups.1, excluded))
    }

    /// Calls `used(is_group_b, design_row, y, w, row)` for every used row of the slice, in order, and
    /// returns the exclusions.
    fn visit_rows(
        &self,
        slice: &DataFrame,
        offset: u64,
        mut used: impl FnMut(bool, &[f64], f64, f64, u64),
    ) -> Result<Exclusions> {
        let n = slice.height();
        let k = self.design.k();
        let outcome = NumericColumn::new(slice, &self.outcome)?;
        let covariates: Vec<NumericColumn> =
            self.covariates.iter().map(|c| NumericColumn::new(slice, c)).collect::<Result<_>>()?;
        let weights = self.weights.as_deref().map(|w| NumericColumn::new(slice, w)).transpose()?;
        let categorical: Vec<StringChunked> =
            self.levels.iter().map(|(c, _)| text_values(slice.column(c)?)).collect::<Result<_>>()?;
        let categorical_values: Vec<Vec<Option<&str>>> = categorical.iter().map(|c| c.iter().collect()).collect();
        // 0 = A, 1 = B, 2 = null, 3 = other.
        let group_codes: Vec<u8> = match &self.matcher {
            GroupMatcher::Numeric { a, b } => {
                let g = NumericColumn::new(slice, &self.group)?;
                let (values, validity) = g.parts();
                (0..n)
                    .map(|i| match (valid(validity, i), values.get(i)) {
                        (true, Some(v)) if *v == *a => 0,
                        (true, Some(v)) if *v == *b => 1,
                        (true, Some(v)) if !v.is_nan() => 3,
                        _ => 2,
                    })
                    .collect()
            }
            GroupMatcher::All => vec![0; n],
            GroupMatcher::Text { a, b } => text_values(slice.column(&self.group)?)?
                .iter()
                .map(|v| match v {
                    None | Some("") => 2,
                    Some(v) if v == a => 0,
                    Some(v) if v == b => 1,
                    Some(_) => 3,
                })
                .collect(),
        };

        let row_numbers: Option<Vec<u64>> = match &self.row_column {
            Some(name) => {
                Some(slice.column(name)?.cast(&DataType::UInt64)?.u64()?.iter().map(|r| r.unwrap_or(0)).collect())
            }
            None => None,
        };
        let row_of = |i: usize| row_numbers.as_ref().map_or(offset + i as u64, |r| r[i]);
        let duplicate_flags: Option<Vec<bool>> = match &self.duplicates {
            DuplicateRows::None => None,
            DuplicateRows::Rows(rows) if rows.is_empty() => None,
            DuplicateRows::Rows(rows) => Some((0..n).map(|i| rows.binary_search(&row_of(i)).is_ok()).collect()),
        };
        let (y_values, y_valid) = outcome.parts();
        let covariate_parts: Vec<_> = covariates.iter().map(NumericColumn::parts).collect();
        let weight_parts = weights.as_ref().map(NumericColumn::parts);
        let mut excluded = Exclusions::default();
        let mut row_x = vec![0.0; k];
        'rows: for i in 0..n {
            let row = row_of(i);
            match group_codes[i] {
                2 => {
                    excluded.add(Reason::NullGroup, &self.group, row);
                    continue;
                }
                3 => {
                    excluded.add(Reason::OtherGroup, &self.group, row);
                    continue;
                }
                _ => {}
            }
            if duplicate_flags.as_ref().is_some_and(|d| d[i]) {
                excluded.add(Reason::DuplicateKey, "employee_id + period", row);
                continue;
            }
            if !valid(y_valid, i) {
                excluded.add(Reason::NullOutcome, &self.outcome, row);
                continue;
            }
            let mut y = y_values[i];
            if !y.is_finite() {
                excluded.add(Reason::NonFiniteOutcome, &self.outcome, row);
                continue;
            }
            if self.log {
                if y <= 0.0 {
                    excluded.add(Reason::NonPositiveOutcome, &self.outcome, row);
                    continue;
                }
                y = y.ln();
            }
            if let Some(map) = &self.outcome_map {
                y = (map.0)(group_codes[i] == 1, y);
            }
            row_x.fill(0.0);
            row_x[0] = 1.0;
            for (j, (values, validity)) in covariate_parts.iter().enumerate() {
                if !valid(*validity, i) {
                    excluded.add(Reason::NullCovariate, &self.covariates[j], row);
                    continue 'rows;
                }
                if !values[i].is_finite() {
                    excluded.add(Reason::NonFiniteCovariate, &self.covariates[j], row);
                    continue 'rows;
                }
                row_x[1 + j] = values[i];
            }
            for (c, (name, level_columns)) in self.levels.iter().enumerate() {
                match categorical_values[c][i].and_then(|v| level_columns.get(v)) {
                    Some(&column) => row_x[column] = 1.0,
                    None => {
                        excluded.add(Reason::NullCovariate, name, row);
                        continue 'rows;
                    }
                }
            }
            let w = match weight_parts {
                None => 1.0,
                Some((values, validity)) => {
                    let w = if valid(validity, i) { values[i] } else { f64::NAN };
                    if !(w.is_finite() && w > 0.0) {
                        excluded.add(Reason::InvalidWeight, self.weights.as_deref().unwrap_or("weight"), row);
                        continue;
                    }
                    w
                }
            };
            used(group_codes[i] == 1, &row_x, y, w, row);
        }
        Ok(excluded)
    }

    /// The used rows' outcomes and weights of groups A and B (after the log, before any outcome map), in
    /// row order: the samples a distributional statistic is taken of. Slices in parallel.
    pub fn group_outcomes(&self, frame: &DataFrame, offset: u64) -> Result<[(Vec<f64>, Vec<f64>); 2]> {
        let unmapped = Plan { outcome_map: None, ..self.clone() };
        let starts: Vec<usize> = (0..frame.height()).step_by(SLICE_ROWS).collect();
        let parts: Vec<[(Vec<f64>, Vec<f64>); 2]> = starts
            .par_iter()
            .map(|&start| {
                let slice = frame.slice(start as i64, SLICE_ROWS);
                let mut groups: [(Vec<f64>, Vec<f64>); 2] = Default::default();
                unmapped.visit_rows(&slice, offset + start as u64, |is_b, _, y, w, _| {
                    let g = &mut groups[usize::from(is_b)];
                    g.0.push(y);
                    g.1.push(w);
                })?;
                Ok(groups)
            })
            .collect::<Result<_>>()?;
        let mut all: [(Vec<f64>, Vec<f64>); 2] = Default::default();
        for part in parts {
            for (target, [y, w]) in all.iter_mut().zip(part.map(|(y, w)| [y, w])) {
                target.0.extend(y);
                target.1.extend(w);
            }
        }
        Ok(all)
    }

    /// One pass over `frame` (whose first row is input row `offset`): group moments over the full design.
    pub fn scan(&self, frame: &DataFrame, offset: u64) -> Result<GroupMoments> {
        let k = self.design.k();
        let starts: Vec<usize> = (0..frame.height()).step_by(SLICE_ROWS).collect();
        let parts: Vec<GroupMoments> = starts
            .par_iter()
            .map(|&start| {
                let slice = frame.slice(start as i64, SLICE_ROWS);
                let (mut a, mut b) = (GramAccumulator::new(k), GramAccumulator::new(k));
                let excluded = self.visit_rows(&slice, offset + start as u64, |is_b, x, y, w, _| {
                    if is_b {
                        b.push(x, y, w)
                    } else {
                        a.push(x, y, w)
                    }
                })?;
                Ok(GroupMoments { read: slice.height() as u64, a: a.finish(), b: b.finish(), excluded })
            })
            .collect::<Result<_>>()?;
        parts.into_iter().try_fold(GroupMoments::new(k), |acc, part| acc.merge(part))
    }

    /// Each used row's fit under the coefficients `beta` (full design, in [`Design::terms`] order): 0-based
    /// input row (`frame`'s first row is `offset`), whether it is in group B, the outcome as it entered
    /// the regressions (logged when `log`) and x·β. In row order; the rows of individual remediation.
    ///
    /// [`Design::terms`]: super::kernel::Design::terms
    pub fn fitted_rows(&self, frame: &DataFrame, offset: u64, beta: &[f64]) -> Result<Vec<FittedRow>> {
        let starts: Vec<usize> = (0..frame.height()).step_by(SLICE_ROWS).collect();
        let parts: Vec<Vec<FittedRow>> = starts
            .par_iter()
            .map(|&start| {
                let slice = frame.slice(start as i64, SLICE_ROWS);
                let mut rows = Vec::new();
                self.visit_rows(&slice, offset + start as u64, |is_b, x, y, _, row| {
                    let fitted = x.iter().zip(beta).map(|(x, b)| x * b).sum();
                    rows.push(FittedRow { row, is_b, y, fitted });
                })?;
                Ok(rows)
            })
            .collect::<Result<_>>()?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// The residual pass of robust standard errors: for each used row of group g, the stacked score
    /// wᵢ·[e_g,i·xᵢ, e*ᵢ·x*ᵢ] (regression columns of the pruned design, `kept` mapping them to this plan's
    /// design), accumulated into per-group Gram matrices. Slices in parallel, merged in order.
    pub fn score_grams(
        &self,
        frame: &DataFrame,
        offset: u64,
        kept: &[usize],
        models: &ResidualModels<'_>,
    ) -> Result<ScoreGrams> {
        let columns: Vec<usize> = models.columns.iter().map(|&j| kept[j]).collect();
        let p = columns.len();
        let p_star = match models.beta_star {
            None => 0,
            Some(_) => p + usize::from(models.indicator),
        };
        let dim = p + p_star;
        let starts: Vec<usize> = (0..frame.height()).step_by(SLICE_ROWS).collect();
        let parts: Vec<(Array2<f64>, Array2<f64>)> = starts
            .par_iter()
            .map(|&start| {
                let slice = frame.slice(start as i64, SLICE_ROWS);
                let (mut a, mut b) = (GramAccumulator::new(dim), GramAccumulator::new(dim));
                let mut score = vec![0.0; dim];
                self.visit_rows(&slice, offset + start as u64, |is_b, x, y, w, _| {
                    let beta = if is_b { models.beta_b } else { models.beta_a };
                    let fitted: f64 = columns.iter().zip(beta).map(|(&c, b)| x[c] * b).sum();
                    let e = y - fitted;
                    for (j, &c) in columns.iter().enumerate() {
                        score[j] = e * x[c];
                    }
                    if let Some(star) = models.beta_star {
                        let d = if is_b { 1.0 } else { 0.0 };
                        let mut fitted: f64 = columns.iter().zip(star).map(|(&c, b)| x[c] * b).sum();
                        if models.indicator {
                            fitted += d * star[p];
                        }
                        let e_star = y - fitted;
                        for (j, &c) in columns.iter().enumerate() {
                            score[p + j] = e_star * x[c];
                        }
                        if models.indicator {
                            score[2 * p] = e_star * d;
                        }
                    }
                    // Rows w·score: the accumulator scales by the square root of its weight.
                    if is_b {
                        b.push(&score, 0.0, w * w)
                    } else {
                        a.push(&score, 0.0, w * w)
                    }
                })?;
                Ok((a.raw_gram(), b.raw_gram()))
            })
            .collect::<Result<_>>()?;
        let mut grams = ScoreGrams { a: Array2::zeros((dim, dim)), b: Array2::zeros((dim, dim)) };
        for (a, b) in parts {
            grams.a += &a;
            grams.b += &b;
        }
        Ok(grams)
    }
}
