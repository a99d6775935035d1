//! The transparency report over streamed batches, in O(employees) memory.
//!
//! The plan of passes ([`TransparencyPlan`]):
//! 1. the distinct pay periods (only when the UK figures or the Logib sample need the last one);
//! 2. one pass that feeds every regime: the EU figures keep the validated units of their two pay bases
//!    ([`UnitStream`], employee × category spells and employees); the UK figures keep the snapshot period's
//!    rows and the bonus window's rows with bonus pay; Logib keeps the rows of its sample period.
//!
//! Each regime then finishes with the in-memory code ([`eu_from_units`], [`uk_from_rows`],
//! [`logib_with`]), the rows left out counted as filtered, so the document equals the in-memory one.

use std::collections::BTreeSet;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{ColumnMap, Measure};
use crate::gap::GapOptions;
use crate::gap::{stack, stack_frames, IpcFrame, UnitPartial, UnitStream, COL_INPUT_ROW};
use crate::scale::Batch;
use crate::transparency::{
    canonical_period, canonical_periods, eu_from_units, eu_kept_columns, gap_options, logib_with, regimes_run,
    transparency_from, uk_bonus_window, uk_columns, uk_from_rows, uk_period_column, uk_period_options, uk_rows_needed,
    uk_snapshot, Regime, TransparencyOptions, TransparencyResult, SINGLE_SNAPSHOT,
};
use crate::{Error, Result};

/// What the UK figures keep of the rows. Periods are compared in canonical text
/// ([`canonical_periods`]), as in memory: each batch's period column is rewritten before the rows are picked.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UkPlan {
    /// The input's period column; `None`: the input is one snapshot (a constant `period` column is added).
    found: Option<String>,
    /// The options the UK figures read the rows with ([`uk_period_options`]); JSON inside a pass's bytes.
    #[serde(with = "crate::scale::as_json")]
    options: TransparencyOptions,
    /// The input's distinct periods in canonical text, sorted.
    periods: Vec<String>,
    period: String,
    snapshot: String,
    window: Vec<String>,
    columns: Vec<String>,
}

/// The passes of a streamed transparency report, decided from the columns and (pass 1) the periods.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransparencyPlan {
    /// Options travel as JSON inside a pass's bytes (they read user input through self-describing forms);
    /// the rest is binary (JSON would fold `logib`'s `Some(None)` into `None`).
    #[serde(with = "crate::scale::as_json")]
    options: TransparencyOptions,
    /// Validation settings of the EU's hourly spells and annual pay.
    #[serde(with = "crate::scale::as_json")]
    eu: Option<(GapOptions, GapOptions)>,
    uk: Option<UkPlan>,
    /// `Some(None)`: Logib reads every row (no period); `Some(Some((column, value)))`: that period's rows.
    logib: Option<Option<(String, String)>>,
    /// The columns Logib reads (those of the input), with the input row number.
    logib_columns: Vec<String>,
}

/// The period column whose distinct values pass 1 collects, when the UK figures or the Logib sample need
/// them (`None`: no first pass).
pub fn periods_needed(options: &TransparencyOptions, columns: &[String]) -> Option<String> {
    let regimes = regimes_run(options);
    let wanted =
        regimes.contains(&Regime::Uk) || (regimes.contains(&Regime::Logib) && options.snapshot_period.is_none());
    let period = ColumnMap::resolve_optional(&options.columns.period, "period", columns)?;
    (wanted && columns.contains(&period)).then_some(period)
}

/// Pass 1's check that every period value of a batch is in a documented format (needed by the UK figures),
/// naming the value's input row (`offset`: the input row of the batch's first row, 0-based).
pub fn check_batch_periods(frame: &DataFrame, column: &str, offset: u64) -> Result<()> {
    match canonical_periods(&frame.select([column])?, Some(column)) {
        Err(Error::InvalidValue { column, row, value, reason }) => {
            Err(Error::InvalidValue { column, row: row + offset as usize, value, reason })
        }
        other => other.map(|_| ()),
    }
}

/// The distinct period values of a batch, as the in-memory figures read them (texts, nulls left out).
pub fn batch_periods(frame: &DataFrame, column: &str) -> Result<BTreeSet<String>> {
    let values = frame.column(column)?.unique()?.cast(&DataType::String)?;
    Ok(values.str()?.iter().flatten().map(str::to_string).collect())
}

impl TransparencyPlan {
    /// The plan for input with `columns`, given the input's distinct `periods` (sorted; empty when
    /// [`periods_needed`] asked for none).
    pub fn new(options: &TransparencyOptions, columns: &[String], periods: Vec<String>) -> Result<TransparencyPlan> {
        let regimes = regimes_run(options);
        if regimes.contains(&Regime::Eu) && options.pay.all().is_empty() {
            return Err(Error::Invalid(
                "no pay components: set [pay] ordinary / variable / bonus in the config".into(),
            ));
        }
        let eu = regimes.contains(&Regime::Eu).then(|| {
            let basis = |measure: Measure, by: Vec<String>, factors: Vec<String>| GapOptions {
                by,
                factors: Some(factors),
                ..gap_options(options, options.pay.all(), measure, vec![], vec![], 0)
            };
            let keep = eu_kept_columns(options);
            let (by, factors) = match options.category.clone() {
                Some(category) => (vec![category], keep[1..].to_vec()),
                None => (vec![], keep),
            };
            (basis(Measure::Hourly, by, factors), basis(Measure::Pay, vec![], vec![]))
        });
        let uk = if regimes.contains(&Regime::Uk) {
            let (found, uk_options) = uk_period_options(options, columns);
            let mut names = columns.to_vec();
            let canonical: BTreeSet<String> = match &found {
                Some(column) => periods
                    .iter()
                    .map(|raw| {
                        canonical_period(raw).ok_or_else(|| {
                            Error::Invalid(format!(
                                "column `{column}`: `{}` is not a pay period in a known format; hint: use YYYY-MM \
                                 (2025-12), YYYYMM, Mon YYYY (Dec 2025) or YYYY-MM-DD",
                                raw.chars().take(40).collect::<String>()
                            ))
                        })
                    })
                    .collect::<Result<_>>()?,
                None => {
                    names.push("period".into());
                    BTreeSet::from([SINGLE_SNAPSHOT.to_string()])
                }
            };
            let canonical: Vec<String> = canonical.into_iter().collect();
            let period = uk_period_column(&uk_options, &names)?;
            let snapshot = uk_snapshot(&uk_options, &period, &canonical)?;
            let window = uk_bonus_window(&uk_options, &canonical, &snapshot);
            let columns = uk_columns(&uk_options, &names);
            Some(UkPlan { found, options: uk_options, periods: canonical, period, snapshot, window, columns })
        } else {
            None
        };
        let logib = regimes.contains(&Regime::Logib).then(|| {
            let column =
                ColumnMap::resolve_optional(&options.columns.period, "period", columns).filter(|c| columns.contains(c));
            // The latest by date, as in memory ([`crate::transparency::last_period`]).
            let latest = periods
                .iter()
                .max_by_key(|raw| (canonical_period(raw).unwrap_or_else(|| raw.to_string()), raw.to_string()));
            let value = options.snapshot_period.clone().or_else(|| latest.cloned());
            column.zip(value)
        });
        Ok(TransparencyPlan { options: options.clone(), eu, uk, logib, logib_columns: logib_columns(options, columns) })
    }

    /// An empty state for input with `columns`.
    pub fn stream(&self, columns: &[String]) -> Result<TransparencyStream<'_>> {
        let eu = match &self.eu {
            Some((hourly, pay)) => Some((
                UnitStream::new(hourly, columns)?.with_component_sums(),
                UnitStream::new(pay, columns)?.with_component_sums(),
            )),
            None => None,
        };
        Ok(TransparencyStream {
            plan: self,
            eu,
            uk: Vec::new(),
            uk_elsewhere: 0,
            logib: Vec::new(),
            logib_elsewhere: 0,
        })
    }

    /// The document from the merged state.
    pub fn finish(&self, partial: TransparencyPartial) -> Result<TransparencyResult> {
        let options = &self.options;
        let eu = match (&self.eu, partial.eu) {
            (Some((hourly, pay)), Some((spells, annual))) => {
                Some(eu_from_units(&spells.into_prepared(hourly)?, &annual.into_prepared(pay)?, options)?)
            }
            _ => None,
        };
        let uk = match (&self.uk, partial.uk) {
            (Some(uk), Some(rows)) => {
                Some(uk_from_rows(&in_input_order(rows.0)?, &uk.periods, partial.uk_elsewhere, &uk.options)?)
            }
            _ => None,
        };
        let logib = match (&self.logib, partial.logib) {
            (Some(period), Some(rows)) => Some(logib_with(
                &in_input_order(rows.0)?,
                options,
                period.as_ref().map(|(_, value)| value.as_str()),
                partial.logib_elsewhere,
            )?),
            _ => None,
        };
        transparency_from(eu, uk, logib, options)
    }
}

/// The columns of the Logib model present in `columns` (role columns, the model's, the pay components),
/// and the input row number.
fn logib_columns(options: &TransparencyOptions, columns: &[String]) -> Vec<String> {
    let c = &options.logib;
    let role = |explicit: &Option<String>, default: &str| match explicit {
        Some(name) if !name.is_empty() => name.clone(),
        _ => default.to_string(),
    };
    let mut wanted = vec![
        role(&options.columns.period, "period"),
        role(&options.columns.employee_id, "employee_id"),
        role(&options.columns.fte, "fte"),
        options.columns.gender.clone(),
    ];
    wanted.extend(
        [&c.education_years, &c.tenure_years, &c.age, &c.skill_level, &c.position, &c.population].map(String::clone),
    );
    wanted.extend(options.pay.all());
    let mut out: Vec<String> = Vec::new();
    for name in columns {
        if wanted.contains(name) && !out.contains(name) {
            out.push(name.clone());
        }
    }
    out.push(COL_INPUT_ROW.into());
    out
}

/// Rows collected from several batches or partitions, sorted by input row, without the row column.
fn in_input_order(rows: DataFrame) -> Result<DataFrame> {
    if rows.column(COL_INPUT_ROW).is_err() {
        return Ok(rows);
    }
    let sorted = rows.sort([COL_INPUT_ROW], SortMultipleOptions::default())?;
    Ok(sorted.drop(COL_INPUT_ROW)?)
}

/// The state of a streamed transparency report: O(employees).
#[derive(Debug)]
pub struct TransparencyStream<'p> {
    plan: &'p TransparencyPlan,
    eu: Option<(UnitStream<'p>, UnitStream<'p>)>,
    uk: Vec<DataFrame>,
    uk_elsewhere: u64,
    logib: Vec<DataFrame>,
    logib_elsewhere: u64,
}

impl TransparencyStream<'_> {
    /// Adds one batch (rows in input order, after every earlier batch of this state).
    pub fn update(&mut self, batch: &Batch) -> Result<()> {
        let frame = if batch.frame.column(COL_INPUT_ROW).is_ok() {
            batch.frame.clone()
        } else {
            batch.frame.clone().with_row_index(COL_INPUT_ROW.into(), Some(batch.offset as IdxSize))?
        };
        let batch = Batch { frame, offset: batch.offset, file: batch.file };
        if let Some((spells, annual)) = &mut self.eu {
            let (a, b) = rayon::join(|| spells.update(&batch), || annual.update(&batch));
            a?;
            b?;
        }
        let frame = &batch.frame;
        if let Some(uk) = &self.plan.uk {
            let mut columns = uk.columns.clone();
            columns.push(COL_INPUT_ROW.into());
            let projected = canonical_periods(frame, uk.found.as_deref())?.select(columns)?;
            let mask = uk_rows_needed(&projected, &uk.options, &uk.period, &uk.snapshot, &uk.window)?;
            let kept = projected.filter(&mask)?;
            self.uk_elsewhere += (frame.height() - kept.height()) as u64;
            self.uk.push(kept);
        }
        match &self.plan.logib {
            Some(Some((column, value))) => {
                let mask = frame.column(column)?.cast(&DataType::String)?.str()?.equal(value.as_str());
                let kept = frame.select(self.plan.logib_columns.iter().map(String::as_str))?.filter(&mask)?;
                self.logib_elsewhere += (frame.height() - kept.height()) as u64;
                self.logib.push(kept);
            }
            Some(None) => self.logib.push(frame.select(self.plan.logib_columns.iter().map(String::as_str))?),
            None => {}
        }
        Ok(())
    }

    /// The state as mergeable bytes-friendly parts.
    pub fn into_partial(self) -> Result<TransparencyPartial> {
        let eu = match self.eu {
            Some((spells, annual)) => Some((spells.into_partial()?, annual.into_partial()?)),
            None => None,
        };
        let rows = |frames: Vec<DataFrame>, wanted: bool| -> Result<Option<IpcFrame>> {
            wanted.then(|| Ok(IpcFrame(stack(&frames)?))).transpose()
        };
        Ok(TransparencyPartial {
            eu,
            uk: rows(self.uk, self.plan.uk.is_some())?,
            uk_elsewhere: self.uk_elsewhere,
            logib: rows(self.logib, self.plan.logib.is_some())?,
            logib_elsewhere: self.logib_elsewhere,
        })
    }
}

/// The mergeable state of the transparency report: the EU units of both pay bases (whole employees per
/// state), the rows the UK figures and Logib read (Arrow IPC bytes with their input row numbers), and the
/// counts of rows left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransparencyPartial {
    eu: Option<(UnitPartial, UnitPartial)>,
    uk: Option<IpcFrame>,
    uk_elsewhere: u64,
    logib: Option<IpcFrame>,
    logib_elsewhere: u64,
}

impl TransparencyPartial {
    /// The union of two states of different employees.
    pub fn merge(self, other: TransparencyPartial) -> Result<TransparencyPartial> {
        let eu = match (self.eu, other.eu) {
            (Some((a1, a2)), Some((b1, b2))) => Some((a1.merge(b1)?, a2.merge(b2)?)),
            (a, b) => a.or(b),
        };
        let rows = |a: Option<IpcFrame>, b: Option<IpcFrame>| -> Result<Option<IpcFrame>> {
            match (a, b) {
                (Some(a), Some(b)) => Ok(Some(IpcFrame(stack_frames(vec![a.0, b.0])?))),
                (a, b) => Ok(a.or(b)),
            }
        };
        Ok(TransparencyPartial {
            eu,
            uk: rows(self.uk, other.uk)?,
            uk_elsewhere: self.uk_elsewhere + other.uk_elsewhere,
            logib: rows(self.logib, other.logib)?,
            logib_elsewhere: self.logib_elsewhere + other.logib_elsewhere,
        })
    }
}
