//! What every regime needs from the rows, through the skeleton's functions only: gap options for a set of
//! pay components ([`gap_options`], so every gap figure comes from [`crate::gap::gap`]), and the measure of
//! each validated unit with its gender ([`unit_values`]) for shares and quartile bands, and the EU's
//! single validation pass ([`prepare_components`]).

use polars::prelude::*;

use super::options::TransparencyOptions;
use crate::data::{prepare, Measure, PrepareSpec, Prepared, RowFilter, RowKeys, Unit, COL_GENDER};
use crate::gap::GapOptions;
use crate::Result;

/// Gap options for `pay` components on `measure`, broken down by `by`, on the rows passing `filters`. No
/// bootstrap: transparency figures are published point values.
pub fn gap_options(
    options: &TransparencyOptions,
    pay: Vec<String>,
    measure: Measure,
    by: Vec<String>,
    filters: Vec<RowFilter>,
    min_cell: u64,
) -> GapOptions {
    let mut columns = options.columns.clone();
    columns.pay = pay;
    columns.weight = None;
    GapOptions {
        columns,
        gender_values: options.gender_values.clone(),
        by,
        factors: options.factors.clone(),
        measure: Some(measure),
        unit: Unit::Auto,
        filters,
        min_cell,
        bootstrap_reps: 0,
        strict: options.strict,
        ..GapOptions::default()
    }
}

/// Per unit (employee, or row without an employee id) of women and men: (measure, is_woman), and the unit
/// ids when units are employees.
pub struct UnitValues {
    pub values: Vec<(f64, bool)>,
    pub ids: Option<Vec<String>>,
}

pub fn unit_values(frame: &DataFrame, options: &GapOptions) -> Result<UnitValues> {
    let prepared = prepare(frame, &options.prepare_spec(&[], false))?;
    prepared_values(&prepared, true)
}

/// A validation pass shared by the EU figures on one pay basis: all pay components (their sums kept per
/// unit, so figures on some components need no second pass), the checks of `measure` (hourly pay needs
/// positive hours; annual pay counts periods without hours too), the `keep` columns kept, with the key codes
/// of `frame` when the caller computed them for several passes.
pub fn prepare_components(
    frame: &DataFrame,
    options: &TransparencyOptions,
    measure: Measure,
    keep: &[String],
    row_keys: Option<&RowKeys>,
) -> Result<Prepared> {
    let gap = gap_options(options, options.pay.all(), measure, vec![], vec![], 0);
    prepare(frame, &PrepareSpec { row_keys, ..gap.prepare_spec(keep, true) })
}

/// [`UnitValues`] of prepared units (with their ids when `with_ids` and units are employees).
pub fn prepared_values(prepared: &Prepared, with_ids: bool) -> Result<UnitValues> {
    let mut selection = vec![col(COL_GENDER), prepared.measure_expr().alias("__value")];
    if let (true, Some(id)) = (with_ids, &prepared.employee_id) {
        selection.push(col(id.as_str()).cast(DataType::String).alias("__id"));
    }
    let table = prepared.frame.clone().lazy().select(selection).collect()?;
    let genders = table.column(COL_GENDER)?.u32()?.clone();
    let values = table.column("__value")?.f64()?.clone();
    let ids = match table.column("__id") {
        Ok(c) => Some(c.str()?.clone()),
        Err(_) => None,
    };
    let mut out = Vec::with_capacity(table.height());
    let mut out_ids = ids.as_ref().map(|_| Vec::with_capacity(table.height()));
    for (i, (g, v)) in genders.iter().zip(values.iter()).enumerate() {
        let (Some(g), Some(v)) = (g, v) else { continue };
        if g > 1 || !v.is_finite() {
            continue;
        }
        out.push((v, g == 0));
        if let (Some(list), Some(ids)) = (out_ids.as_mut(), ids.as_ref()) {
            list.push(ids.get(i).unwrap_or_default().to_string());
        }
    }
    Ok(UnitValues { values: out, ids: out_ids })
}

/// Shares of women and men (in percent of each gender) whose value is positive.
pub fn positive_shares(values: &[(f64, bool)]) -> (Option<f64>, Option<f64>) {
    let share = |woman: bool| {
        let group: Vec<f64> = values.iter().filter(|v| v.1 == woman).map(|v| v.0).collect();
        (!group.is_empty()).then(|| 100.0 * group.iter().filter(|v| **v > 0.0).count() as f64 / group.len() as f64)
    };
    (share(true), share(false))
}
