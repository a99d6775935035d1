//! From a table to decomposition moments: resolves the group values, the categorical levels and the full
//! design ([`Plan`]), then walks row slices in parallel, assigning every row to group A, group B or a ledger
//! reason and accumulating mergeable [`Moments`] per group ([`GroupMoments`]). Slices are merged in order,
//! so results do not depend on the thread count; any chunking of the rows gives the same moments up to
//! floating-point reassociation.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use ndarray::{Array2, ArrayView2};
use polars::prelude::*;
use rayon::prelude::*;

use super::covariance::ScoreGrams;
use super::gram::GramAccumulator;
use super::kernel::{CategoricalBlock, Design, ResidualModels};
use super::options::OaxacaOptions;
use crate::data::{later_duplicates, require_column, require_numeric, ColumnMap, Reason};
use crate::stats::Moments;
use crate::{Error, Result};

/// Rows per parallel task.
pub const SLICE_ROWS: usize = 16_384;
/// Offending rows named in strict-mode errors.
const STRICT_ROWS_SHOWN: usize = 5;

/// How a row's group value is matched.
#[derive(Debug, Clone, PartialEq)]
enum GroupMatcher {
    /// A numeric column: compared as numbers, so `1` matches `1.0`.
    Numeric {
        a: f64,
        b: f64,
    },
    Text {
        a: String,
        b: String,
    },
}

/// Everything fixed before the pass over the rows.
#[derive(Debug, Clone)]
pub struct Plan {
    pub design: Design,
    pub labels: (String, String),
    outcome: String,
    log: bool,
    group: String,
    matcher: GroupMatcher,
    covariates: Vec<String>,
    /// Per categorical column: level → full-design column.
    /// (Polars' fast hash map: one lookup per row and categorical.)
    levels: Vec<(String, PlHashMap<String, usize>)>,
    weights: Option<String>,
    /// Later rows of a duplicated (employee_id, period) key.
    duplicates: DuplicateRows,
    /// A column of 0-based input row numbers (set by distributed engines, whose partitions are not
    /// contiguous runs of rows); without it a slice's rows are numbered from its offset.
    row_column: Option<String>,
}

/// Which rows repeat an earlier row's (employee_id, period) key (data contract: the key is unique).
#[derive(Debug, Clone, PartialEq)]
pub enum DuplicateRows {
    /// No key columns: no check.
    None,
    /// 0-based input rows, sorted.
    Rows(Vec<u64>),
    /// A boolean column of the rows marks them (set by a distributed engine, which numbers the rows itself).
    Flag(String),
}

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

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Levels in sort order: numerically when every label is a number, else lexicographically.
fn sorted_levels(mut levels: Vec<String>) -> Vec<String> {
    let numbers: Option<Vec<f64>> = levels.iter().map(|l| l.trim().parse::<f64>().ok()).collect();
    match numbers {
        Some(_) => levels.sort_by(|x, y| {
            let (p, q) = (x.trim().parse::<f64>().unwrap_or(0.0), y.trim().parse::<f64>().unwrap_or(0.0));
            p.total_cmp(&q).then_with(|| x.cmp(y))
        }),
        None => levels.sort(),
    }
    levels
}

fn text_values(column: &Column) -> Result<StringChunked> {
    Ok(column.cast(&DataType::String)?.str()?.clone())
}

fn distinct_text(column: &Column) -> Result<Vec<String>> {
    let values = text_values(column)?.unique()?;
    Ok(values.iter().flatten().filter(|v| !v.is_empty()).map(str::to_string).collect())
}

/// Group A must occur among `values`; group B is the given value or, without one, the one other value.
fn pick_groups<T: PartialEq + Clone>(
    values: &[T],
    labels: &[String],
    a: T,
    b: Option<T>,
    options: &OaxacaOptions,
) -> Result<(T, T)> {
    let shown = labels.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
    if !values.contains(&a) {
        return Err(Error::Invalid(format!(
            "group A value `{}` does not occur in column `{}` (values: {shown})",
            options.group_a, options.group
        )));
    }
    let b = match b {
        Some(b) => b,
        None => {
            let others: Vec<&T> = values.iter().filter(|v| **v != a).collect();
            match others.as_slice() {
                [b] => (*b).clone(),
                _ => {
                    return Err(Error::Invalid(format!(
                        "column `{}` has {} values besides group A `{}` ({shown}): name group B with `--group-b` / \
                         `group_b=`",
                        options.group,
                        others.len(),
                        options.group_a
                    )))
                }
            }
        }
    };
    if a == b {
        return Err(Error::Invalid("group A and group B are the same value".into()));
    }
    Ok((a, b))
}

/// Distinct values of the group column: numbers (as bits of non-NaN f64) or non-empty texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GroupValues {
    Numeric(BTreeSet<u64>),
    Text(BTreeSet<String>),
}

/// What the plan needs to know about the rows, gathered in a pass and mergeable (set unions and sums):
/// the group values, the levels of each categorical column, the non-null counts of the covariates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFacts {
    pub rows: u64,
    pub group: GroupValues,
    /// Per `options.categorical` column, its distinct non-empty labels.
    pub levels: Vec<BTreeSet<String>>,
    /// Per `options.covariates` then `options.categorical` column, its non-null values.
    pub non_null: Vec<u64>,
}

impl PlanFacts {
    /// Facts of no rows, for a table of `schema`.
    pub fn empty(schema: &Schema, options: &OaxacaOptions) -> PlanFacts {
        let numeric = schema.get(options.group.as_str()).is_some_and(|d| d.is_primitive_numeric());
        PlanFacts {
            rows: 0,
            group: if numeric { GroupValues::Numeric(BTreeSet::new()) } else { GroupValues::Text(BTreeSet::new()) },
            levels: vec![BTreeSet::new(); options.categorical.len()],
            non_null: vec![0; options.covariates.len() + options.categorical.len()],
        }
    }

    /// The facts of one batch of rows (columns checked by [`check_columns`] first).
    pub fn observe(frame: &DataFrame, options: &OaxacaOptions) -> Result<PlanFacts> {
        let mut facts = PlanFacts::empty(frame.schema(), options);
        facts.rows = frame.height() as u64;
        let column = frame.column(&options.group)?;
        facts.group = match facts.group {
            GroupValues::Numeric(_) => {
                let values = column.cast(&DataType::Float64)?;
                let unique = values.f64()?.unique()?;
                GroupValues::Numeric(
                    unique.iter().flatten().filter(|v| !v.is_nan()).map(|v| (v + 0.0).to_bits()).collect(),
                )
            }
            GroupValues::Text(_) => GroupValues::Text(distinct_text(column)?.into_iter().collect()),
        };
        for (i, c) in options.categorical.iter().enumerate() {
            facts.levels[i] = distinct_text(frame.column(c)?)?.into_iter().collect();
        }
        for (i, c) in options.covariates.iter().chain(&options.categorical).enumerate() {
            let column = frame.column(c)?;
            facts.non_null[i] = (column.len() - column.null_count()) as u64;
        }
        Ok(facts)
    }

    /// Set unions and sums (associative and commutative).
    pub fn merge(mut self, other: PlanFacts) -> Result<PlanFacts> {
        self.rows += other.rows;
        self.group = match (self.group, other.group) {
            (GroupValues::Numeric(mut a), GroupValues::Numeric(b)) => {
                a.extend(b);
                GroupValues::Numeric(a)
            }
            (GroupValues::Text(mut a), GroupValues::Text(b)) => {
                a.extend(b);
                GroupValues::Text(a)
            }
            _ => {
                return Err(Error::Invalid(
                    "the group column is numeric in one part of the input and text in another".into(),
                ))
            }
        };
        if self.levels.len() != other.levels.len() || self.non_null.len() != other.non_null.len() {
            return Err(Error::Invalid("internal: plan facts of different analyses merged".into()));
        }
        for (a, b) in self.levels.iter_mut().zip(other.levels) {
            a.extend(b);
        }
        for (a, b) in self.non_null.iter_mut().zip(other.non_null) {
            *a += b;
        }
        Ok(self)
    }
}

fn group_matcher(facts: &PlanFacts, options: &OaxacaOptions) -> Result<(GroupMatcher, (String, String))> {
    match &facts.group {
        GroupValues::Numeric(bits) => {
            let parse = |v: &str, which: &str| {
                v.trim().parse::<f64>().map_err(|_| {
                    Error::Invalid(format!(
                        "group {which} value `{v}` is not a number, but column `{}` is numeric",
                        options.group
                    ))
                })
            };
            let mut values: Vec<f64> = bits.iter().map(|b| f64::from_bits(*b)).collect();
            values.sort_by(f64::total_cmp);
            let labels: Vec<String> = values.iter().map(|v| format_number(*v)).collect();
            let b = options.group_b.as_deref().map(|b| parse(b, "B")).transpose()?;
            let (a, b) = pick_groups(&values, &labels, parse(&options.group_a, "A")?, b, options)?;
            let label_b = options.group_b.clone().unwrap_or_else(|| format_number(b));
            Ok((GroupMatcher::Numeric { a, b }, (options.group_a.clone(), label_b)))
        }
        GroupValues::Text(texts) => {
            let values = sorted_levels(texts.iter().cloned().collect());
            let (a, b) = pick_groups(&values, &values, options.group_a.clone(), options.group_b.clone(), options)?;
            Ok((GroupMatcher::Text { a: a.clone(), b: b.clone() }, (a, b)))
        }
    }
}

/// Checks that the columns the analysis names exist with usable types (`frame` may hold no rows: only its
/// schema is read, except that a column without any value passes the type check as in [`require_numeric`]).
pub fn check_columns(frame: &DataFrame, options: &OaxacaOptions) -> Result<()> {
    options.validate()?;
    let available: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    require_column(&options.outcome, "outcome", &available)?;
    require_numeric(frame, &options.outcome, "outcome")?;
    require_column(&options.group, "group", &available)?;
    for c in &options.covariates {
        require_column(c, "covariate", &available)?;
        require_numeric(frame, c, "covariate").map_err(|e| match e {
            Error::ColumnType { column, dtype, .. } => Error::ColumnType {
                column,
                role: "covariate (list text columns under categorical)".into(),
                dtype,
                expected: "numeric".into(),
            },
            other => other,
        })?;
    }
    for c in &options.categorical {
        require_column(c, "categorical covariate", &available)?;
    }
    if let Some(w) = &options.weights {
        require_column(w, "weight", &available)?;
        require_numeric(frame, w, "weight")?;
    }
    if let Some((id, period)) = duplicate_key_columns(&available, options) {
        require_column(&id, "employee_id", &available)?;
        require_column(&period, "period", &available)?;
    }
    Ok(())
}

/// The (employee_id, period) key columns, when both roles resolve: later rows of a key are duplicates.
pub fn duplicate_key_columns(available: &[String], options: &OaxacaOptions) -> Option<(String, String)> {
    let id = ColumnMap::resolve_optional(&options.employee_id, "employee_id", available);
    let period = ColumnMap::resolve_optional(&options.period, "period", available);
    id.zip(period)
}

/// Resolves columns, group values and categorical levels, and lays out the full design.
pub fn plan(frame: &DataFrame, options: &OaxacaOptions) -> Result<Plan> {
    check_columns(frame, options)?;
    let facts = PlanFacts::observe(frame, options)?;
    let available: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let duplicates = match duplicate_key_columns(&available, options) {
        Some((id, period)) => {
            let later = later_duplicates(frame, &[id.as_str(), period.as_str()])?;
            DuplicateRows::Rows(later.iter().enumerate().filter(|(_, d)| **d).map(|(r, _)| r as u64).collect())
        }
        None => DuplicateRows::None,
    };
    Plan::from_facts(&facts, duplicates, options)
}

impl Plan {
    /// The plan from the facts of every row (merged over any split of the rows) and the duplicate rows.
    pub fn from_facts(facts: &PlanFacts, duplicates: DuplicateRows, options: &OaxacaOptions) -> Result<Plan> {
        for (i, c) in options.covariates.iter().chain(&options.categorical).enumerate() {
            if facts.rows > 0 && facts.non_null[i] == 0 {
                return Err(Error::Invalid(format!(
                    "covariate `{c}` has no values (all {} rows are null): drop it or fix the column",
                    facts.rows
                )));
            }
        }
        let (matcher, labels) = group_matcher(facts, options)?;
        let mut terms = vec!["_cons".to_string()];
        terms.extend(options.covariates.iter().cloned());
        let mut blocks = Vec::new();
        let mut levels = Vec::new();
        for (i, c) in options.categorical.iter().enumerate() {
            let found = sorted_levels(facts.levels[i].iter().cloned().collect());
            if found.is_empty() {
                return Err(Error::Invalid(format!("categorical column `{c}` has no values (all null)")));
            }
            let base = match options.base_levels.get(c) {
                Some(b) => found.iter().position(|l| l == b).ok_or_else(|| {
                    Error::Invalid(format!(
                        "base level `{b}` does not occur in column `{c}` (levels: {})",
                        found.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
                    ))
                })?,
                None => 0,
            };
            let first = terms.len();
            terms.extend(found.iter().map(|l| format!("{c}:{l}")));
            let columns: Vec<usize> = (first..terms.len()).collect();
            levels.push((c.clone(), found.iter().cloned().zip(columns.iter().copied()).collect()));
            blocks.push(CategoricalBlock { column: c.clone(), levels: found, columns, base });
        }
        Ok(Plan {
            design: Design { terms, blocks },
            labels,
            outcome: options.outcome.clone(),
            log: options.log,
            group: options.group.clone(),
            matcher,
            covariates: options.covariates.clone(),
            levels,
            weights: options.weights.clone(),
            duplicates,
            row_column: None,
        })
    }

    /// Rows numbered by `column` (0-based input row numbers) instead of their position in the batch.
    pub fn with_row_column(mut self, column: &str) -> Plan {
        self.row_column = Some(column.to_string());
        self
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
            DuplicateRows::Flag(name) => Some(slice.column(name)?.bool()?.iter().map(|v| v.unwrap_or(false)).collect()),
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
