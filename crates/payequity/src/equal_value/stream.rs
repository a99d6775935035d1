//! Equal value over streamed batches, in O(employees × jobs) memory: the incumbents' validated units
//! ([`UnitStream`], employee × job spells of hourly pay) and, for the seniority-adjusted job rate, the sums
//! and counts of each control per employee × job, in one pass. The document is then finished by the
//! in-memory code ([`incumbents_from`], [`equal_value_from`]).

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::ColumnMap;
use crate::equal_value::{
    check_controls, check_methods, drop_null_jobs, equal_value_from, equal_value_with, incumbent_validation,
    incumbents_from, load_scheme_and_ratings, score_jobs, with_rate_hours, EqualValueOptions, EqualValueResult,
    MEANS_ID, MEANS_JOB,
};
use crate::gap::GapOptions;
use crate::gap::{UnitPartial, UnitStream};
use crate::scale::{columns_to_read, Batch};
use crate::Result;

/// Σ and count of each control's non-null values per (employee id, job), as texts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ControlSums {
    cells: BTreeMap<(String, String), Vec<(f64, u64)>>,
}

impl ControlSums {
    /// Adds the rows of a batch (rows without an id or a job belong to no incumbent).
    pub fn update(&mut self, frame: &DataFrame, id: &str, options: &EqualValueOptions) -> Result<()> {
        if options.adjust_for.is_empty() {
            return Ok(());
        }
        let ids = frame.column(id)?.cast(&DataType::String)?;
        let jobs = frame.column(&options.job)?.cast(&DataType::String)?;
        let controls: Vec<Float64Chunked> = options
            .adjust_for
            .iter()
            .map(|c| Ok(frame.column(c)?.cast(&DataType::Float64)?.f64()?.clone()))
            .collect::<Result<_>>()?;
        for (row, (id, job)) in ids.str()?.iter().zip(jobs.str()?.iter()).enumerate() {
            let (Some(id), Some(job)) = (id, job) else { continue };
            let cell =
                self.cells.entry((id.to_string(), job.to_string())).or_insert_with(|| vec![(0.0, 0); controls.len()]);
            for (slot, values) in cell.iter_mut().zip(&controls) {
                if let Some(v) = values.get(row) {
                    slot.0 += v;
                    slot.1 += 1;
                }
            }
        }
        Ok(())
    }

    /// The union of two sums (cells in both are added).
    pub fn merge(mut self, other: ControlSums) -> ControlSums {
        for (key, cell) in other.cells {
            match self.cells.get_mut(&key) {
                Some(mine) => {
                    for (a, b) in mine.iter_mut().zip(cell) {
                        a.0 += b.0;
                        a.1 += b.1;
                    }
                }
                None => {
                    self.cells.insert(key, cell);
                }
            }
        }
        self
    }

    /// The means as [`crate::equal_value::control_means`] gives them.
    pub fn means(&self, options: &EqualValueOptions) -> Result<DataFrame> {
        let ids: Vec<&str> = self.cells.keys().map(|k| k.0.as_str()).collect();
        let jobs: Vec<&str> = self.cells.keys().map(|k| k.1.as_str()).collect();
        let mut columns = vec![Column::new(MEANS_ID.into(), ids), Column::new(MEANS_JOB.into(), jobs)];
        for (c, name) in options.adjust_for.iter().enumerate() {
            let means: Vec<Option<f64>> =
                self.cells.values().map(|cell| (cell[c].1 > 0).then(|| cell[c].0 / cell[c].1 as f64)).collect();
            columns.push(Column::new(name.as_str().into(), means));
        }
        Ok(DataFrame::new(self.cells.len(), columns)?)
    }
}

/// The mergeable state of equal value over whole employees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EqualValuePartial {
    units: UnitPartial,
    controls: ControlSums,
}

impl EqualValuePartial {
    /// The union of two states of different employees.
    pub fn merge(self, other: EqualValuePartial) -> Result<EqualValuePartial> {
        Ok(EqualValuePartial { units: self.units.merge(other.units)?, controls: self.controls.merge(other.controls) })
    }
}

/// The state of a streamed equal-value analysis.
#[derive(Debug)]
pub struct EqualValueStream<'o> {
    options: &'o EqualValueOptions,
    names: Vec<String>,
    id: Option<String>,
    units: UnitStream<'o>,
    controls: ControlSums,
}

impl<'o> EqualValueStream<'o> {
    /// A stream for input with `columns`; `validation` is [`incumbent_validation`] of `options`.
    pub fn new(
        options: &'o EqualValueOptions,
        validation: &'o GapOptions,
        columns: &[String],
    ) -> Result<EqualValueStream<'o>> {
        let mut names = columns.to_vec();
        if !options.subtract_hours.is_empty() {
            names.extend(validation.columns.hours.clone());
        }
        let id = ColumnMap::resolve_optional(&options.columns.employee_id, "employee_id", columns);
        Ok(EqualValueStream {
            options,
            units: UnitStream::new(validation, &names)?,
            names,
            id,
            controls: ControlSums::default(),
        })
    }

    /// Adds one batch (rows in input order, after every earlier batch of this state).
    pub fn update(&mut self, batch: &Batch) -> Result<()> {
        let frame = with_rate_hours(&batch.frame, self.options)?;
        self.units.update(&Batch { frame: frame.clone().into_owned(), offset: batch.offset, file: batch.file })?;
        check_controls(&frame, &self.names, self.options)?;
        if let Some(id) = &self.id {
            self.controls.update(&frame, id, self.options)?;
        }
        Ok(())
    }

    pub fn into_partial(self) -> Result<EqualValuePartial> {
        Ok(EqualValuePartial { units: self.units.into_partial()?, controls: self.controls })
    }
}

/// The document from the merged state (the scheme and ratings files are read here).
pub fn equal_value_finish(partial: EqualValuePartial, options: &EqualValueOptions) -> Result<EqualValueResult> {
    let (scheme, ratings, warnings) = load_scheme_and_ratings(options)?;
    check_methods(options)?;
    let scores = score_jobs(&scheme, &ratings)?;
    let mut prepared = partial.units.into_prepared(&incumbent_validation(options))?;
    drop_null_jobs(&mut prepared, options)?;
    let means = match &prepared.employee_id {
        Some(_) if !options.adjust_for.is_empty() => Some(partial.controls.means(options)?),
        _ => None,
    };
    let incumbents = incumbents_from(&prepared, means, options)?;
    equal_value_from(&incumbents, &prepared, &scores, &scheme, warnings, options)
}

/// Missing columns get the in-memory message (the analysis run on the input's empty schema); the columns
/// to read.
pub(crate) fn check_equal_value_columns(
    available: &[String],
    empty: &DataFrame,
    options: &EqualValueOptions,
) -> Result<Vec<String>> {
    columns_to_read(available, options.columns_used(), || {
        let (scheme, ratings, warnings) = load_scheme_and_ratings(options)?;
        equal_value_with(empty, &scheme, &ratings, warnings, options)
    })
}

impl crate::scale::Accumulator for EqualValueStream<'_> {
    type State = EqualValuePartial;

    fn update(&mut self, batch: &Batch) -> Result<()> {
        EqualValueStream::update(self, batch)
    }

    fn state(self) -> Result<EqualValuePartial> {
        self.into_partial()
    }
}
