//! The plan of an Oaxaca-Blinder pass: the facts gathered from the rows ([`PlanFacts`], mergeable over any
//! split of the rows), the column checks, the group values and the categorical levels, and the full design
//! they lay out ([`Plan`]). The passes over the rows that use a plan are in `scan.rs`.

use std::collections::BTreeSet;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::kernel::{CategoricalBlock, Design};
use super::options::OaxacaOptions;
use crate::data::{later_duplicates, require_column, require_numeric, ColumnMap};
use crate::{Error, Result};

/// The most levels a categorical covariate may have (`oaxaca`, `rif`, `dfl`, `nonlinear`): each level is a
/// regression column, and the cost grows with the cube of their number.
pub const MAX_CATEGORICAL_LEVELS: usize = 500;

/// How a row's group value is matched.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum GroupMatcher {
    /// A numeric column: compared as numbers, so `1` matches `1.0`.
    Numeric {
        a: f64,
        b: f64,
    },
    Text {
        a: String,
        b: String,
    },
    /// Every row is in group A (a single-sample regression, e.g. the RIF regression).
    All,
}

/// A map of the (validated, logged) outcome applied before the moments: `(is_group_b, y) ↦ y'`, e.g. each
/// group's recentered influence function.
#[derive(Clone)]
pub struct OutcomeMap(pub std::sync::Arc<dyn Fn(bool, f64) -> f64 + Send + Sync>);

impl std::fmt::Debug for OutcomeMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutcomeMap")
    }
}

/// Everything fixed before the pass over the rows.
#[derive(Debug, Clone)]
pub struct Plan {
    pub design: Design,
    pub labels: (String, String),
    pub(super) outcome: String,
    pub(super) log: bool,
    pub(super) group: String,
    pub(super) matcher: GroupMatcher,
    pub(super) covariates: Vec<String>,
    /// Per categorical column: level → full-design column.
    /// (Polars' fast hash map: one lookup per row and categorical.)
    pub(super) levels: Vec<(String, PlHashMap<String, usize>)>,
    pub(super) weights: Option<String>,
    /// Later rows of a duplicated (employee_id, period) key.
    pub(super) duplicates: DuplicateRows,
    /// A column of 0-based input row numbers (set by distributed engines, whose partitions are not
    /// contiguous runs of rows); without it a slice's rows are numbered from its offset.
    pub(super) row_column: Option<String>,
    /// Applied to each used row's outcome (after the log) before it enters the moments.
    pub(super) outcome_map: Option<OutcomeMap>,
}

/// Which rows repeat an earlier row's (employee_id, period) key (data contract: the key is unique).
#[derive(Debug, Clone, PartialEq)]
pub enum DuplicateRows {
    /// No key columns: no check.
    None,
    /// 0-based input rows, sorted.
    Rows(Vec<u64>),
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

pub(super) fn text_values(column: &Column) -> Result<StringChunked> {
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
        if options.group.is_empty() {
            facts.group = GroupValues::Text(BTreeSet::new());
        } else {
            facts.group = Self::group_values(frame, options, facts.group)?;
        }
        for (i, c) in options.categorical.iter().enumerate() {
            facts.levels[i] = distinct_text(frame.column(c)?)?.into_iter().collect();
        }
        for (i, c) in options.covariates.iter().chain(&options.categorical).enumerate() {
            let column = frame.column(c)?;
            facts.non_null[i] = (column.len() - column.null_count()) as u64;
        }
        Ok(facts)
    }

    /// The distinct values of the group column.
    fn group_values(frame: &DataFrame, options: &OaxacaOptions, kind: GroupValues) -> Result<GroupValues> {
        let column = frame.column(&options.group)?;
        Ok(match kind {
            GroupValues::Numeric(_) => {
                let values = column.cast(&DataType::Float64)?;
                let unique = values.f64()?.unique()?;
                GroupValues::Numeric(
                    unique.iter().flatten().filter(|v| !v.is_nan()).map(|v| (v + 0.0).to_bits()).collect(),
                )
            }
            GroupValues::Text(_) => GroupValues::Text(distinct_text(column)?.into_iter().collect()),
        })
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
    if !options.group.is_empty() {
        require_column(&options.group, "group", &available)?;
    }
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
        let (matcher, labels) = if options.group.is_empty() {
            (GroupMatcher::All, ("all".into(), String::new()))
        } else {
            group_matcher(facts, options)?
        };
        let mut terms = vec!["_cons".to_string()];
        terms.extend(options.covariates.iter().cloned());
        let mut blocks = Vec::new();
        let mut levels = Vec::new();
        for (i, c) in options.categorical.iter().enumerate() {
            let found = sorted_levels(facts.levels[i].iter().cloned().collect());
            if found.is_empty() {
                return Err(Error::Invalid(format!("categorical column `{c}` has no values (all null)")));
            }
            if found.len() > MAX_CATEGORICAL_LEVELS {
                return Err(Error::Invalid(format!(
                    "categorical column `{c}` has {} levels; at most {MAX_CATEGORICAL_LEVELS} are dummy-coded (each \
                     level is a regression column, and the cost grows with the cube of their number). Is `{c}` an \
                     id? Drop it, group its rare levels into one (e.g. `other`), or compare within its groups with \
                     `payequity gap --by {c}`",
                    found.len()
                )));
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
            design: Design {
                terms,
                blocks,
                detail_groups: options.detail_groups.iter().map(|(n, m)| (n.clone(), m.clone())).collect(),
            },
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
            outcome_map: None,
        })
    }

    /// The same plan with every used row's outcome mapped by `map` before the moments (the residual and
    /// bootstrap passes see the mapped outcome too).
    pub fn with_outcome_map(mut self, map: OutcomeMap) -> Plan {
        self.outcome_map = Some(map);
        self
    }

    /// Rows numbered by `column` (0-based input row numbers) instead of their position in the batch.
    pub fn with_row_column(mut self, column: &str) -> Plan {
        self.row_column = Some(column.to_string());
        self
    }
}
