//! The mergeable state of validated units ([`UnitPartial`]): what a [`UnitStream`] holds after its rows, as
//! plain vectors that serialize, merge over disjoint employees (Spark and Dask partitions of whole
//! employees) and turn back into the [`Prepared`] units of the in-memory path.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::units::{UnitStream, COL_INPUT_ROW};
use crate::data::{
    component_column, Ledger, Measure, Prepared, Unit, COL_GENDER, COL_HOURS, COL_PAY, COL_ROWS, COL_WEIGHT, FEMALE,
    MALE,
};
use crate::gap::{gap_prepared, GapOptions, GapResult};
use crate::scale::Batch;
use crate::{Error, Result};

/// The frames stacked (an empty frame for none).
pub(crate) fn stack(frames: &[DataFrame]) -> Result<DataFrame> {
    let Some((first, rest)) = frames.split_first() else { return Ok(DataFrame::empty()) };
    let mut all = first.clone();
    for frame in rest {
        all.vstack_mut(frame)?;
    }
    all.rechunk_mut();
    Ok(all)
}

/// A frame inside a state: held as is in the process, serialized as Arrow IPC bytes when the state travels.
#[derive(Debug, Clone, Default)]
pub struct IpcFrame(pub DataFrame);

impl PartialEq for IpcFrame {
    fn eq(&self, other: &IpcFrame) -> bool {
        self.0.equals_missing(&other.0)
    }
}

impl Serialize for IpcFrame {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let bytes = ipc_bytes(&mut self.0.clone()).map_err(serde::ser::Error::custom)?;
        serializer.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for IpcFrame {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<IpcFrame, D::Error> {
        let bytes: Vec<u8> = Deserialize::deserialize(deserializer)?;
        from_ipc_bytes(&bytes).map(IpcFrame).map_err(serde::de::Error::custom)
    }
}

/// Frames stacked, the empty ones (no columns) left out.
pub(crate) fn stack_frames(frames: Vec<DataFrame>) -> Result<DataFrame> {
    let frames: Vec<DataFrame> = frames.into_iter().filter(|f| f.width() > 0).collect();
    stack(&frames)
}

pub(super) fn ipc_bytes(frame: &mut DataFrame) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    IpcWriter::new(&mut bytes).finish(frame)?;
    Ok(bytes)
}

pub(super) fn from_ipc_bytes(bytes: &[u8]) -> Result<DataFrame> {
    Ok(IpcReader::new(std::io::Cursor::new(bytes.to_vec())).finish()?)
}

/// The mergeable state of the gap over whole employees: the units (sums in row order), each with its first
/// input row and its kept columns, the gender labels and the ledger. Size O(units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitPartial {
    pub(super) ledger: Ledger,
    pub(super) labels: Vec<String>,
    /// Sorted id hashes of the employees seen (two partials must not share one).
    pub(super) employee_hashes: Vec<u128>,
    pub(super) first_row: Vec<u64>,
    pub(super) gender: Vec<u32>,
    pub(super) pay: Vec<f64>,
    pub(super) hours: Vec<f64>,
    pub(super) rows: Vec<u64>,
    pub(super) weight: Vec<f64>,
    /// Pay components summed per unit, and their sums (one list per component).
    pub(super) components: Vec<String>,
    pub(super) component_sums: Vec<Vec<f64>>,
    /// Arrow IPC bytes of the kept columns of each unit's first row.
    pub(super) firsts: IpcFrame,
    pub(super) measure: Option<Measure>,
    pub(super) has_weight: bool,
    pub(super) has_hours: bool,
    pub(super) unit: Unit,
    pub(super) id: Option<String>,
    pub(super) keep: Vec<String>,
    pub(super) keep_batch: Vec<String>,
}

impl UnitPartial {
    /// The partial of one batch of whole employees (rows in input order; `offset` numbers them unless the
    /// frame carries an `__pe_row` column of input row numbers).
    pub fn compute(frame: &DataFrame, offset: u64, options: &GapOptions) -> Result<UnitPartial> {
        let columns: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
        let mut stream = UnitStream::new(options, &columns)?;
        stream.update(&Batch { frame: frame.clone(), offset, file: 0 })?;
        stream.into_partial()
    }

    /// Disjoint union of two partials of different employees (an employee in both is an error).
    pub fn merge(self, other: UnitPartial) -> Result<UnitPartial> {
        if self.unit != other.unit
            || self.id != other.id
            || self.keep != other.keep
            || self.components != other.components
        {
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
        let firsts = IpcFrame(stack_frames(vec![self.firsts.0, other.firsts.0])?);
        let cat = |mut a: Vec<f64>, b: Vec<f64>| {
            a.extend(b);
            a
        };
        Ok(UnitPartial {
            ledger,
            labels,
            employee_hashes: hashes,
            first_row: [self.first_row, other.first_row].concat(),
            gender: [self.gender, other.gender.iter().map(|g| recode[*g as usize]).collect()].concat(),
            pay: cat(self.pay, other.pay),
            hours: cat(self.hours, other.hours),
            rows: [self.rows, other.rows].concat(),
            weight: cat(self.weight, other.weight),
            component_sums: self.component_sums.into_iter().zip(other.component_sums).map(|(a, b)| cat(a, b)).collect(),
            components: self.components,
            firsts,
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

    /// The units as the in-memory [`crate::data::prepare`] gives them: in order of their first input row.
    pub fn into_prepared(self, options: &GapOptions) -> Result<Prepared> {
        let mut order: Vec<usize> = (0..self.pay.len()).collect();
        order.sort_by_key(|&i| self.first_row.get(i).copied().unwrap_or(i as u64));
        let firsts = self.firsts.0;
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
        for (component, sums) in self.components.iter().zip(&self.component_sums) {
            columns.push(Float64Chunked::from_vec(component_column(component).into(), ordered(sums)).into_column());
        }
        let frame = DataFrame::new(height, columns)?;
        let warnings = self.ledger.warnings();
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
            components: self.components,
            unit_of_row: None,
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
pub(crate) fn merge_ledger(total: &mut Ledger, part: &Ledger) {
    total.read += part.read;
    total.used += part.used;
    for (reason, count) in &part.excluded {
        *total.excluded.entry(reason.clone()).or_insert(0) += count;
    }
}
