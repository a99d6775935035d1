//! Validated units over streamed batches: one unit per employee (× grouping cell) instead of the rows, for
//! every analysis that validates rows with [`crate::data::prepare`] (gap, the EU and UK figures, equal value).
//!
//! Each batch is validated by [`crate::data::prepare`] row by row (the checks within a row); the checks
//! across rows run here in input order, as they do in memory: a later row of an (employee_id, period) key
//! is a `duplicate_key`, and an employee with rows of two gender values is `inconsistent_gender`. Valid rows
//! are summed into their unit in row order, so unit pay and hours, and therefore every mean, median and
//! bootstrap draw, equal the in-memory ones exactly. [`UnitStream::into_prepared`] hands them over as the
//! [`Prepared`] units the in-memory analyses finish from (e.g. [`crate::gap::gap_prepared`]). The validation
//! settings come as [`GapOptions`] (its [`GapOptions::prepare_spec`]).

use std::collections::HashMap;

use foldhash::fast::FixedState;
use polars::prelude::*;

use super::unit_partial::{merge_ledger, stack, IpcFrame, UnitPartial};
use crate::data::KeyTracker;
use crate::data::{
    combined_codes, component_column, prepare, ColumnMap, InputFormat, Ledger, Measure, Prepared, Reason, Unit,
    COL_GENDER, COL_HOURS, COL_PAY, COL_ROWS, COL_WEIGHT, FEMALE, MALE,
};
use crate::gap::{GapOptions, GapResult};
use crate::scale::Batch;
use crate::{Error, Result};

/// Input row number kept through validation (for strict-mode messages).
pub(crate) const COL_INPUT_ROW: &str = "__pe_row";
/// Rows named in strict-mode errors.
const STRICT_ROWS_SHOWN: usize = 5;

/// What is known of an employee across batches.
#[derive(Debug, Clone, Copy, Default)]
struct EmployeeFacts {
    /// Global gender label of the first valid row (`u32::MAX` before one).
    gender: u32,
    mixed: bool,
}

/// Sums of each unit, in order of first appearance.
#[derive(Debug, Default)]
struct UnitSums {
    employee: Vec<u32>,
    gender: Vec<u32>,
    pay: Vec<f64>,
    hours: Vec<f64>,
    rows: Vec<u64>,
    weight: Vec<f64>,
    /// Per pay component (with [`UnitStream::with_component_sums`]), its sum per unit.
    components: Vec<Vec<f64>>,
}

/// The state of a streamed gap analysis: O(units) memory (units are employees × grouping cells, or rows
/// without an employee id).
#[derive(Debug)]
pub struct UnitStream<'o> {
    options: &'o GapOptions,
    /// Grouping columns kept per unit (`by` and `factors`).
    keep: Vec<String>,
    /// Columns kept through validation: the key roles, the input row and `keep`.
    keep_batch: Vec<String>,
    id: Option<String>,
    period: Option<String>,
    unit: Unit,
    ledger: Ledger,
    measure: Option<Measure>,
    has_weight: bool,
    has_hours: bool,
    tracker: KeyTracker,
    labels: Vec<String>,
    employees: Vec<EmployeeFacts>,
    unit_of: HashMap<(u32, u32), u32, FixedState>,
    /// Global codes of the grouping cells (their texts).
    cells: HashMap<String, u32, FixedState>,
    units: UnitSums,
    /// Kept columns of each unit's first row, a frame per batch.
    firsts: Vec<DataFrame>,
    /// Pay components summed per unit (empty unless [`UnitStream::with_component_sums`]).
    components: Vec<String>,
    component_sums: bool,
}

/// Global code of the grouping cell of every row: the batch's distinct cells are coded by hashing, and
/// only their texts (nulls distinct from any text) are looked up in `cells`.
fn cell_codes(frame: &DataFrame, columns: &[String], cells: &mut HashMap<String, u32, FixedState>) -> Result<Vec<u32>> {
    if columns.is_empty() {
        return Ok(vec![0; frame.height()]);
    }
    let refs: Vec<&Column> = columns.iter().map(|c| frame.column(c)).collect::<PolarsResult<_>>()?;
    let local = combined_codes(&refs, frame.height())?;
    let texts: Vec<StringChunked> =
        refs.iter().map(|c| Ok(c.cast(&DataType::String)?.str()?.clone())).collect::<Result<_>>()?;
    let mut global = vec![u32::MAX; local.count];
    for (row, &code) in local.codes.iter().enumerate() {
        if global[code as usize] != u32::MAX {
            continue;
        }
        let mut key = String::new();
        for text in &texts {
            match text.get(row) {
                Some(v) => {
                    key.push('\u{1}');
                    key.push_str(v);
                }
                None => key.push('\u{0}'),
            }
        }
        let next = cells.len() as u32;
        global[code as usize] = *cells.entry(key).or_insert(next);
    }
    Ok(local.codes.iter().map(|&c| global[c as usize]).collect())
}

fn f64_values(frame: &DataFrame, name: &str) -> Result<Vec<f64>> {
    Ok(frame.column(name)?.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect())
}

impl<'o> UnitStream<'o> {
    /// A stream for input with `columns` (names of the whole input).
    pub fn new(options: &'o GapOptions, columns: &[String]) -> Result<UnitStream<'o>> {
        if options.input.format == InputFormat::Long {
            return Err(Error::Invalid(
                "long-format input is pivoted in memory: streamed input must be wide (one row per employee × period)"
                    .into(),
            ));
        }
        let factors = options.factors.clone().unwrap_or_else(|| options.by.clone());
        let mut keep: Vec<String> = options.by.clone();
        keep.extend(factors.iter().filter(|f| !options.by.contains(f)).cloned());
        let id = ColumnMap::resolve_optional(&options.columns.employee_id, "employee_id", columns);
        let period = ColumnMap::resolve_optional(&options.columns.period, "period", columns);
        let unit = match options.unit {
            Unit::Auto if id.is_some() => Unit::Employee,
            Unit::Auto => Unit::Row,
            Unit::Employee if id.is_none() => {
                return Err(Error::MissingColumn {
                    column: "employee_id".into(),
                    role: "employee_id".into(),
                    available: columns.to_vec(),
                })
            }
            other => other,
        };
        let mut keep_batch: Vec<String> = id.iter().chain(period.iter()).cloned().collect();
        keep_batch.push(COL_INPUT_ROW.into());
        for k in &keep {
            if !keep_batch.contains(k) {
                keep_batch.push(k.clone());
            }
        }
        Ok(UnitStream {
            options,
            keep,
            keep_batch,
            id,
            period,
            unit,
            ledger: Ledger::new(0),
            measure: None,
            has_weight: false,
            has_hours: false,
            tracker: KeyTracker::default(),
            labels: vec![FEMALE.to_string(), MALE.to_string()],
            employees: Vec::new(),
            unit_of: HashMap::default(),
            cells: HashMap::default(),
            units: UnitSums::default(),
            firsts: Vec::new(),
            components: Vec::new(),
            component_sums: false,
        })
    }

    /// Also sums each pay component per unit, as [`crate::data::PrepareSpec::component_sums`] does.
    pub fn with_component_sums(mut self) -> UnitStream<'o> {
        self.component_sums = true;
        self.components =
            if self.options.columns.pay.is_empty() { vec!["pay".into()] } else { self.options.columns.pay.clone() };
        self.units.components = vec![Vec::new(); self.components.len()];
        self
    }

    fn label_index(&mut self, label: &str) -> u32 {
        match self.labels.iter().position(|l| l == label) {
            Some(i) => i as u32,
            None => {
                self.labels.push(label.to_string());
                (self.labels.len() - 1) as u32
            }
        }
    }

    /// Validates one batch (rows in input order, after every earlier batch) and adds its rows to their units.
    pub fn update(&mut self, batch: &Batch) -> Result<()> {
        let frame = if batch.frame.column(COL_INPUT_ROW).is_ok() {
            batch.frame.clone()
        } else {
            batch.frame.clone().with_row_index(COL_INPUT_ROW.into(), Some(batch.offset as IdxSize))?
        };
        let mut columns = self.options.columns.clone();
        columns.employee_id = Some(String::new());
        columns.period = Some(String::new());
        let mut spec = self.options.prepare_spec(&self.keep_batch, self.component_sums);
        spec.columns = &columns;
        spec.unit = Unit::Row;
        let prepared = prepare(&frame, &spec).map_err(|e| shift_rows(e, batch.offset))?;
        self.measure = Some(prepared.measure);
        self.has_weight = prepared.has_weight;
        self.has_hours = prepared.frame.column(COL_HOURS).is_ok();
        merge_ledger(&mut self.ledger, &prepared.ledger);
        self.add_rows(&prepared)
    }

    fn add_rows(&mut self, prepared: &Prepared) -> Result<()> {
        let frame = &prepared.frame;
        let n = frame.height();
        let employee_codes = match &self.id {
            Some(id) => Some(self.tracker.employee_codes(frame.column(id)?)?),
            None => None,
        };
        let period_codes = match (&self.id, &self.period) {
            (Some(_), Some(period)) => Some(self.tracker.period_codes(frame.column(period)?)?),
            _ => None,
        };
        self.employees.resize(self.tracker.employees(), EmployeeFacts { gender: u32::MAX, mixed: false });
        let batch_labels: Vec<u32> = prepared.gender_labels.clone().iter().map(|l| self.label_index(l)).collect();
        let genders: Vec<u32> = frame.column(COL_GENDER)?.u32()?.iter().map(|g| g.unwrap_or(0)).collect();
        let pay = f64_values(frame, COL_PAY)?;
        let hours = if self.has_hours { Some(f64_values(frame, COL_HOURS)?) } else { None };
        let weight = if self.has_weight { Some(f64_values(frame, COL_WEIGHT)?) } else { None };
        let components: Vec<Vec<f64>> =
            self.components.iter().map(|c| f64_values(frame, &component_column(c))).collect::<Result<_>>()?;
        let rows: Vec<u64> =
            frame.column(COL_ROWS)?.cast(&DataType::UInt64)?.u64()?.iter().map(|r| r.unwrap_or(1)).collect();
        let input_rows: Vec<u64> =
            frame.column(COL_INPUT_ROW)?.cast(&DataType::UInt64)?.u64()?.iter().map(|r| r.unwrap_or(0)).collect();
        let by_employee = self.unit == Unit::Employee;
        let cells = if by_employee { cell_codes(frame, &self.keep, &mut self.cells)? } else { Vec::new() };
        let mut duplicates: Vec<u64> = Vec::new();
        let mut new_units: Vec<IdxSize> = Vec::new();
        for i in 0..n {
            let employee = employee_codes.as_ref().map(|c| c[i]).unwrap_or(0);
            if let Some(periods) = &period_codes {
                if !self.tracker.first_time(employee, periods[i]) {
                    duplicates.push(input_rows[i]);
                    continue;
                }
            }
            let gender = batch_labels[genders[i] as usize];
            let next = self.units.pay.len() as u32;
            let unit: usize = if by_employee {
                let facts = &mut self.employees[employee as usize];
                if facts.gender == u32::MAX {
                    facts.gender = gender;
                } else if facts.gender != gender {
                    facts.mixed = true;
                }
                *self.unit_of.entry((employee, cells[i])).or_insert(next) as usize
            } else {
                next as usize
            };
            if unit == self.units.pay.len() {
                self.units.employee.push(employee);
                self.units.gender.push(gender);
                self.units.pay.push(0.0);
                self.units.hours.push(0.0);
                self.units.rows.push(0);
                self.units.weight.push(weight.as_ref().map(|w| w[i]).unwrap_or(1.0));
                for sums in &mut self.units.components {
                    sums.push(0.0);
                }
                new_units.push(i as IdxSize);
            }
            for (sums, values) in self.units.components.iter_mut().zip(&components) {
                sums[unit] += values[i];
            }
            self.units.pay[unit] += pay[i];
            if let Some(h) = &hours {
                self.units.hours[unit] += h[i];
            }
            self.units.rows[unit] += rows[i];
        }
        if !duplicates.is_empty() {
            if self.options.strict {
                return Err(Error::Strict {
                    reason: Reason::DuplicateKey.as_str().into(),
                    column: format!(
                        "{} + {}",
                        self.id.as_deref().unwrap_or("employee_id"),
                        self.period.as_deref().unwrap_or("period")
                    ),
                    count: duplicates.len() as u64,
                    rows: duplicates.iter().take(STRICT_ROWS_SHOWN).map(|r| r + 1).collect(),
                });
            }
            self.ledger.exclude(Reason::DuplicateKey, duplicates.len() as u64);
        }
        let index = IdxCa::from_vec("".into(), new_units);
        let kept: Vec<&str> = self.keep_batch.iter().map(String::as_str).collect();
        self.firsts.push(frame.select(kept)?.take(&index)?);
        Ok(())
    }

    /// The units as a validated preparation, then the gap document.
    pub fn finish(self) -> Result<GapResult> {
        let options = self.options;
        self.into_partial()?.finish(options)
    }

    /// The units as the in-memory [`prepare`] gives them (units in order of their first valid row).
    pub fn into_prepared(self) -> Result<Prepared> {
        let options = self.options;
        self.into_partial()?.into_prepared(options)
    }

    /// The state as a mergeable partial: employees with rows of two gender values are settled here (every
    /// unit of theirs leaves the analysis), so partials must hold whole employees (partition by employee id).
    pub fn into_partial(mut self) -> Result<UnitPartial> {
        let mixed: Vec<bool> =
            self.units.employee.iter().map(|e| self.employees.get(*e as usize).is_some_and(|f| f.mixed)).collect();
        let mixed_rows: u64 = self.units.rows.iter().zip(&mixed).filter(|(_, m)| **m).map(|(r, _)| r).sum();
        let mut firsts = stack(&self.firsts)?;
        let first_row: Vec<u64> = match firsts.column(COL_INPUT_ROW) {
            Ok(column) => column.cast(&DataType::UInt64)?.u64()?.iter().map(|r| r.unwrap_or(0)).collect(),
            Err(_) => Vec::new(),
        };
        if mixed_rows > 0 {
            if self.options.strict {
                let rows: Vec<u64> = first_row
                    .iter()
                    .zip(&mixed)
                    .filter(|(_, m)| **m)
                    .map(|(r, _)| r + 1)
                    .take(STRICT_ROWS_SHOWN)
                    .collect();
                return Err(Error::Strict {
                    reason: Reason::InconsistentGender.as_str().into(),
                    column: self.options.columns.gender.clone(),
                    count: mixed_rows,
                    rows,
                });
            }
            self.ledger.exclude(Reason::InconsistentGender, mixed_rows);
        }
        let keep: Vec<bool> = mixed.iter().map(|m| !m).collect();
        if firsts.height() > 0 && mixed_rows > 0 {
            firsts = firsts.filter(&BooleanChunked::from_slice("".into(), &keep))?;
        }
        // The units of employees with mixed genders leave; otherwise the vectors move as they are.
        let all = mixed_rows == 0;
        let units = std::mem::take(&mut self.units);
        Ok(UnitPartial {
            ledger: self.ledger,
            labels: self.labels,
            employee_hashes: {
                let mut hashes = self.tracker.employee_hashes();
                hashes.sort_unstable();
                hashes
            },
            first_row: kept(first_row, &keep, all),
            gender: kept(units.gender, &keep, all),
            pay: kept(units.pay, &keep, all),
            hours: kept(units.hours, &keep, all),
            rows: kept(units.rows, &keep, all),
            weight: kept(units.weight, &keep, all),
            components: self.components,
            component_sums: units.components.into_iter().map(|c| kept(c, &keep, all)).collect(),
            firsts: IpcFrame(firsts),
            measure: self.measure,
            has_weight: self.has_weight,
            has_hours: self.has_hours,
            unit: self.unit,
            id: self.id,
            keep: self.keep,
            keep_batch: self.keep_batch,
        })
    }
}

/// The values whose `keep` flag is set (all of them, moved, when `all`).
fn kept<T>(values: Vec<T>, keep: &[bool], all: bool) -> Vec<T> {
    if all {
        return values;
    }
    values.into_iter().zip(keep).filter(|(_, k)| **k).map(|(v, _)| v).collect()
}

/// Strict-mode rows of a batch error as input rows.
pub(crate) fn shift_rows(error: Error, offset: u64) -> Error {
    match error {
        Error::Strict { reason, column, count, rows } => {
            Error::Strict { reason, column, count, rows: rows.into_iter().map(|r| r + offset).collect() }
        }
        other => other,
    }
}

impl crate::scale::Accumulator for UnitStream<'_> {
    type State = UnitPartial;

    fn update(&mut self, batch: &Batch) -> Result<()> {
        UnitStream::update(self, batch)
    }

    fn state(self) -> Result<UnitPartial> {
        self.into_partial()
    }
}
