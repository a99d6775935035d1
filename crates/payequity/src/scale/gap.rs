//! The raw gap over streamed batches, holding one unit per employee (× grouping cell) instead of the rows.
//!
//! Each batch is validated by [`crate::data::prepare`] row by row (the checks within a row); the checks
//! across rows run here in input order, as they do in memory: a later row of an (employee_id, period) key
//! is a `duplicate_key`, and an employee with rows of two gender values is `inconsistent_gender`. Valid rows
//! are summed into their unit in row order, so unit pay and hours, and therefore every mean, median and
//! bootstrap draw, equal the in-memory ones exactly. [`GapStream::finish`] hands the units to
//! [`crate::gap::gap_prepared`], the same code that finishes the in-memory analysis.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::batches::{for_each_batch, Batch, Projection};
use super::keys::KeyTracker;
use super::source::Source;
use super::{Progress, StreamOptions};
use crate::data::{
    combined_codes, prepare, ColumnMap, InputFormat, Ledger, Measure, Prepared, Reason, Unit, COL_GENDER, COL_HOURS,
    COL_PAY, COL_ROWS, COL_WEIGHT, FEMALE, MALE,
};
use crate::gap::{gap_prepared, GapOptions, GapResult};
use crate::{Error, Result};

/// Input row number kept through validation (for strict-mode messages).
const COL_INPUT_ROW: &str = "__pe_row";
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
}

/// The state of a streamed gap analysis: O(units) memory (units are employees × grouping cells, or rows
/// without an employee id).
#[derive(Debug)]
pub struct GapStream<'o> {
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

impl<'o> GapStream<'o> {
    /// A stream for input with `columns` (names of the whole input).
    pub fn new(options: &'o GapOptions, columns: &[String]) -> Result<GapStream<'o>> {
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
        Ok(GapStream {
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
        })
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
        let mut spec = self.options.prepare_spec(&self.keep_batch, false);
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
                new_units.push(i as IdxSize);
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

    /// The state as a mergeable partial: employees with rows of two gender values are settled here (every
    /// unit of theirs leaves the analysis), so partials must hold whole employees (partition by employee id).
    pub fn into_partial(mut self) -> Result<GapPartial> {
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
        if firsts.height() > 0 {
            firsts = firsts.filter(&BooleanChunked::from_slice("".into(), &keep))?;
        }
        fn pick<T: Copy>(values: &[T], keep: &[bool]) -> Vec<T> {
            values.iter().zip(keep).filter(|(_, k)| **k).map(|(v, _)| *v).collect()
        }
        let units = &self.units;
        Ok(GapPartial {
            ledger: self.ledger,
            labels: self.labels,
            employee_hashes: {
                let mut hashes = self.tracker.employee_hashes();
                hashes.sort_unstable();
                hashes
            },
            first_row: pick(&first_row, &keep),
            gender: pick(&units.gender, &keep),
            pay: pick(&units.pay, &keep),
            hours: pick(&units.hours, &keep),
            rows: pick(&units.rows, &keep),
            weight: pick(&units.weight, &keep),
            firsts: ipc_bytes(&mut firsts)?,
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

/// The frames stacked (an empty frame for none).
fn stack(frames: &[DataFrame]) -> Result<DataFrame> {
    let Some((first, rest)) = frames.split_first() else { return Ok(DataFrame::empty()) };
    let mut all = first.clone();
    for frame in rest {
        all.vstack_mut(frame)?;
    }
    all.rechunk_mut();
    Ok(all)
}

fn ipc_bytes(frame: &mut DataFrame) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    IpcWriter::new(&mut bytes).finish(frame)?;
    Ok(bytes)
}

fn from_ipc_bytes(bytes: &[u8]) -> Result<DataFrame> {
    Ok(IpcReader::new(std::io::Cursor::new(bytes.to_vec())).finish()?)
}

/// The mergeable state of the gap over whole employees: the units (sums in row order), each with its first
/// input row and its kept columns, the gender labels and the ledger. Size O(units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapPartial {
    ledger: Ledger,
    labels: Vec<String>,
    /// Sorted id hashes of the employees seen (two partials must not share one).
    employee_hashes: Vec<u128>,
    first_row: Vec<u64>,
    gender: Vec<u32>,
    pay: Vec<f64>,
    hours: Vec<f64>,
    rows: Vec<u64>,
    weight: Vec<f64>,
    /// Arrow IPC bytes of the kept columns of each unit's first row.
    firsts: Vec<u8>,
    measure: Option<Measure>,
    has_weight: bool,
    has_hours: bool,
    unit: Unit,
    id: Option<String>,
    keep: Vec<String>,
    keep_batch: Vec<String>,
}

impl GapPartial {
    /// The partial of one batch of whole employees (rows in input order; `offset` numbers them unless the
    /// frame carries an `__pe_row` column of input row numbers).
    pub fn compute(frame: &DataFrame, offset: u64, options: &GapOptions) -> Result<GapPartial> {
        let columns: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
        let mut stream = GapStream::new(options, &columns)?;
        stream.update(&Batch { frame: frame.clone(), offset, file: 0 })?;
        stream.into_partial()
    }

    /// Disjoint union of two partials of different employees (an employee in both is an error).
    pub fn merge(self, other: GapPartial) -> Result<GapPartial> {
        if self.unit != other.unit || self.id != other.id || self.keep != other.keep {
            return Err(Error::Invalid("internal: partial gap states of different analyses merged".into()));
        }
        if first_shared(&self.employee_hashes, &other.employee_hashes).is_some() {
            return Err(Error::Invalid(format!(
                "an employee's rows are in two partitions; partition the rows by `{}` before computing partial \
                 gap states (pe.spark and pe.dask do this)",
                self.id.as_deref().unwrap_or("employee_id")
            )));
        }
        let mut labels = self.labels.clone();
        let recode: Vec<u32> = other
            .labels
            .iter()
            .map(|l| match labels.iter().position(|x| x == l) {
                Some(i) => i as u32,
                None => {
                    labels.push(l.clone());
                    (labels.len() - 1) as u32
                }
            })
            .collect();
        let mut ledger = self.ledger.clone();
        merge_ledger(&mut ledger, &other.ledger);
        let mut hashes = self.employee_hashes;
        hashes.extend(other.employee_hashes);
        hashes.sort_unstable();
        let mut firsts = stack(
            &[from_ipc_bytes(&self.firsts)?, from_ipc_bytes(&other.firsts)?]
                .into_iter()
                .filter(|f| f.width() > 0)
                .collect::<Vec<_>>(),
        )?;
        let cat = |mut a: Vec<f64>, b: Vec<f64>| {
            a.extend(b);
            a
        };
        Ok(GapPartial {
            ledger,
            labels,
            employee_hashes: hashes,
            first_row: [self.first_row, other.first_row].concat(),
            gender: [self.gender, other.gender.iter().map(|g| recode[*g as usize]).collect()].concat(),
            pay: cat(self.pay, other.pay),
            hours: cat(self.hours, other.hours),
            rows: [self.rows, other.rows].concat(),
            weight: cat(self.weight, other.weight),
            firsts: ipc_bytes(&mut firsts)?,
            measure: self.measure.or(other.measure),
            has_weight: self.has_weight || other.has_weight,
            has_hours: self.has_hours || other.has_hours,
            unit: self.unit,
            id: self.id,
            keep: self.keep,
            keep_batch: self.keep_batch,
        })
    }

    /// The gap document: units in order of their first input row, as the in-memory analysis orders them.
    pub fn finish(self, options: &GapOptions) -> Result<GapResult> {
        let prepared = self.into_prepared(options)?;
        gap_prepared(&prepared, options)
    }

    fn into_prepared(self, options: &GapOptions) -> Result<Prepared> {
        let mut order: Vec<usize> = (0..self.pay.len()).collect();
        order.sort_by_key(|&i| self.first_row.get(i).copied().unwrap_or(i as u64));
        let firsts = from_ipc_bytes(&self.firsts)?;
        let firsts = if firsts.height() > 0 {
            firsts.take(&IdxCa::from_vec("".into(), order.iter().map(|&i| i as IdxSize).collect()))?
        } else {
            firsts
        };
        // Gender codes as in memory: F, M, then the other values in sorted order.
        let mut others: Vec<String> = self.labels[2..].to_vec();
        others.sort();
        let mut labels = vec![FEMALE.to_string(), MALE.to_string()];
        labels.extend(others);
        let recode: Vec<u32> =
            self.labels.iter().map(|l| labels.iter().position(|f| f == l).unwrap_or(0) as u32).collect();
        let gender: Vec<u32> = order.iter().map(|&i| recode[self.gender[i] as usize]).collect();
        let ordered = |values: &[f64]| -> Vec<f64> { order.iter().map(|&i| values[i]).collect() };
        let rows: Vec<u64> = order.iter().map(|&i| self.rows[i]).collect();
        let height = order.len();

        let employee_id = if self.unit == Unit::Employee { self.id.clone() } else { None };
        let unit_columns: Vec<String> = match &employee_id {
            Some(id) => std::iter::once(id.clone()).chain(self.keep.iter().filter(|k| *k != id).cloned()).collect(),
            None => self.keep_batch.iter().filter(|c| c.as_str() != COL_INPUT_ROW).cloned().collect(),
        };
        let mut columns: Vec<Column> = Vec::new();
        for name in &unit_columns {
            match firsts.column(name) {
                Ok(column) => columns.push(column.clone()),
                Err(_) => columns.push(Column::full_null(name.as_str().into(), height, &DataType::String)),
            }
        }
        columns.push(UInt32Chunked::from_vec(COL_GENDER.into(), gender).into_column());
        columns.push(Float64Chunked::from_vec(COL_PAY.into(), ordered(&self.pay)).into_column());
        columns.push(UInt64Chunked::from_vec(COL_ROWS.into(), rows).into_column());
        if self.has_hours {
            columns.push(Float64Chunked::from_vec(COL_HOURS.into(), ordered(&self.hours)).into_column());
        }
        if self.has_weight {
            columns.push(Float64Chunked::from_vec(COL_WEIGHT.into(), ordered(&self.weight)).into_column());
        }
        let frame = DataFrame::new(height, columns)?;
        let mut warnings = Vec::new();
        if self.ledger.used == 0 && self.ledger.read > 0 {
            warnings.push("no row passed validation: every row was excluded (see the ledger)".into());
        }
        Ok(Prepared {
            frame,
            ledger: self.ledger,
            warnings,
            measure: self.measure.or(options.measure).unwrap_or(Measure::Pay),
            unit: self.unit,
            employee_id,
            gender_labels: labels,
            has_weight: self.has_weight,
            kept: self.keep,
            components: Vec::new(),
        })
    }
}

/// A value in both sorted lists.
fn first_shared(a: &[u128], b: &[u128]) -> Option<u128> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return Some(a[i]),
        }
    }
    None
}

/// Adds a batch's ledger to the running one.
fn merge_ledger(total: &mut Ledger, part: &Ledger) {
    total.read += part.read;
    total.used += part.used;
    for (reason, count) in &part.excluded {
        *total.excluded.entry(reason.clone()).or_insert(0) += count;
    }
}

/// Strict-mode rows of a batch error as input rows.
fn shift_rows(error: Error, offset: u64) -> Error {
    match error {
        Error::Strict { reason, column, count, rows } => {
            Error::Strict { reason, column, count, rows: rows.into_iter().map(|r| r + offset).collect() }
        }
        other => other,
    }
}

/// The raw gap of streamed input: the same document as [`crate::gap::gap`] on the concatenated rows.
pub fn gap_source(
    source: &Source,
    options: &GapOptions,
    stream: &StreamOptions,
    progress: &dyn Progress,
) -> Result<GapResult> {
    let available = source.column_names();
    let (required, optional) = options.columns_used();
    for column in &required {
        if !available.contains(column) {
            // The in-memory checks name the role; run them on the (empty) schema for the same message.
            let empty = source.empty_frame();
            crate::gap::gap(&empty, options)?;
        }
    }
    let mut wanted = required;
    wanted.extend(optional);
    let batch_rows = stream.rows_per_batch(wanted.len());
    let projection = Projection::new(source, Some(&wanted));
    let mut state = GapStream::new(options, &available)?;
    progress.start_pass(1, 1, "units");
    for_each_batch(source, &projection, batch_rows, |batch| {
        state.update(&batch)?;
        progress.rows(batch.frame.height() as u64);
        Ok(())
    })?;
    state.finish()
}
