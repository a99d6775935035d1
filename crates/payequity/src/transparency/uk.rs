//! UK gender pay gap: the six figures of the Equality Act 2010 (Gender Pay Gap Information) Regulations 2017
//! (`shared/spec/transparency.md`). Hourly figures over full-pay relevant employees in the snapshot pay
//! period; bonus figures over relevant employees (everyone paid in the snapshot period) with bonus pay in
//! the 12 months to the snapshot; quartiles with the regulation's tie rule. Gaps come from
//! [`crate::gap::gap`].

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::eu::ByGender;
use super::options::TransparencyOptions;
use super::quartiles::{quartile_bands, QuartileBand};
use super::units::{gap_options, positive_shares, unit_values};
use crate::data::{CompareOp, Ledger, Measure, RowFilter};
use crate::gap::{gap, GapResult};
use crate::{Error, Result};

/// Relevant employees from which publication is required (regulation 1(2), Schedule 19 of the Equality Act).
pub const UK_REPORTING_THRESHOLD: u64 = 250;

/// The UK block of the transparency document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UkResult {
    pub mean_hourly_gap_pct: Option<f64>,
    pub median_hourly_gap_pct: Option<f64>,
    pub mean_bonus_gap_pct: Option<f64>,
    pub median_bonus_gap_pct: Option<f64>,
    pub bonus_share_pct: ByGender<Option<f64>>,
    pub quartiles: Vec<QuartileBand>,
    pub snapshot_period: String,
    /// Periods whose bonus pay counts (12 periods ending with the snapshot), unless a bonus-window column
    /// is configured.
    pub bonus_window: Vec<String>,
    pub relevant_employees: u64,
    pub full_pay_relevant_employees: u64,
    pub reporting_required: bool,
    pub ledger: Ledger,
}

fn eq_filter(column: &str, values: Vec<String>) -> RowFilter {
    RowFilter { column: column.to_string(), op: CompareOp::Eq, values }
}

fn distinct_periods(frame: &DataFrame, period: &str) -> Result<Vec<String>> {
    // Distinct values first (a year of monthly payroll has twelve), then their text.
    let values = frame.column(period)?.unique()?.cast(&DataType::String)?;
    let set: BTreeSet<String> = values.str()?.iter().flatten().map(str::to_string).collect();
    Ok(set.into_iter().collect())
}

/// Rows whose period (as text) is one of `periods`.
fn period_equals(frame: &DataFrame, period: &str, periods: &[String]) -> Result<BooleanChunked> {
    let values = frame.column(period)?.cast(&DataType::String)?;
    let values = values.str()?;
    let mut mask = BooleanChunked::full("mask".into(), false, frame.height());
    for p in periods {
        mask = &mask | &values.equal(p.as_str()).fill_null_with_values(false)?;
    }
    Ok(mask)
}

/// The columns the UK figures read (those present; a missing one is reported by the validation).
pub fn uk_columns(options: &TransparencyOptions, names: &[String]) -> Vec<String> {
    let c = &options.columns;
    let roles = [&c.employee_id, &c.period, &c.hours, &c.fte, &c.weight];
    let mut wanted: Vec<String> = roles.into_iter().flatten().cloned().collect();
    wanted.extend(["employee_id", "period", "hours"].map(String::from));
    wanted.push(c.gender.clone());
    wanted.extend(options.pay.all());
    wanted.extend(options.uk_ordinary_components());
    wanted.extend(options.full_pay.iter().chain(options.bonus_window_pay.iter()).cloned());
    wanted.extend(options.factors.iter().flatten().cloned());
    let mut columns: Vec<String> = Vec::new();
    for name in names {
        if wanted.contains(name) && !columns.contains(name) {
            columns.push(name.clone());
        }
    }
    columns
}

/// The input's period column (`None`: the file is one snapshot), and the options the UK figures read the
/// rows with: the period column `period` for a file of one snapshot ([`super::periods::canonical_periods`]
/// adds it) and the configured snapshot period in canonical text.
pub fn uk_period_options(options: &TransparencyOptions, names: &[String]) -> (Option<String>, TransparencyOptions) {
    let found = crate::data::ColumnMap::resolve_optional(&options.columns.period, "period", names)
        .filter(|p| names.contains(p));
    let mut options = options.clone();
    if found.is_none() {
        options.columns.period = Some("period".into());
    }
    if let Some(snapshot) = &options.snapshot_period {
        options.snapshot_period = Some(super::periods::canonical_period(snapshot).unwrap_or_else(|| snapshot.clone()));
    }
    (found, options)
}

/// The six UK figures.
pub fn uk(frame: &DataFrame, options: &TransparencyOptions) -> Result<UkResult> {
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let (found, options) = uk_period_options(options, &names);
    let frame = &super::periods::canonical_periods(frame, found.as_deref())?;
    let options = &options;
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let period = uk_period_column(options, &names)?;
    let periods = distinct_periods(frame, &period)?;
    let projected = frame.select(uk_columns(options, &names))?;
    uk_from_rows(&projected, &periods, 0, options)
}

/// The pay period column the UK figures need.
pub fn uk_period_column(options: &TransparencyOptions, names: &[String]) -> Result<String> {
    crate::data::ColumnMap::resolve_optional(&options.columns.period, "period", names)
        .ok_or_else(|| Error::Invalid("the UK figures need a pay period column (`[columns] period`)".into()))
}

/// The snapshot pay period: the configured one (it must have rows) or the last of `periods` (sorted texts).
pub fn uk_snapshot(options: &TransparencyOptions, period: &str, periods: &[String]) -> Result<String> {
    match &options.snapshot_period {
        Some(p) if periods.contains(p) => Ok(p.clone()),
        Some(p) => Err(Error::Invalid(format!(
            "snapshot period `{p}` has no rows in column `{period}` (periods from {} to {})",
            periods.first().map_or("-", String::as_str),
            periods.last().map_or("-", String::as_str)
        ))),
        None => periods.last().cloned().ok_or_else(|| Error::Invalid(format!("column `{period}` has no values"))),
    }
}

/// The periods whose bonus pay counts: the 12 periods ending with the snapshot, when bonus components are
/// summed over periods (no bonus-window column); empty otherwise.
pub fn uk_bonus_window(options: &TransparencyOptions, periods: &[String], snapshot: &str) -> Vec<String> {
    if options.bonus_window_pay.is_some() || options.pay.bonus.is_empty() {
        return Vec::new();
    }
    let end = periods.iter().position(|p| p == snapshot).unwrap_or(0);
    periods[end.saturating_sub(11)..=end.min(periods.len().saturating_sub(1))].to_vec()
}

/// The rows the UK figures read, of a frame with the [`uk_columns`]: the snapshot period's rows and the
/// bonus window's rows with bonus pay. Streamed input keeps only these ([`uk_from_rows`]).
pub fn uk_rows_needed(
    frame: &DataFrame,
    options: &TransparencyOptions,
    period: &str,
    snapshot: &str,
    window: &[String],
) -> Result<BooleanChunked> {
    let at_snapshot = period_equals(frame, period, &[snapshot.to_string()])?;
    if window.is_empty() {
        return Ok(at_snapshot);
    }
    Ok(&at_snapshot | &(&period_equals(frame, period, window)? & &any_bonus(frame, options)?))
}

/// Rows with a non-zero bonus component.
fn any_bonus(frame: &DataFrame, options: &TransparencyOptions) -> Result<BooleanChunked> {
    let mut any = BooleanChunked::full("any".into(), false, frame.height());
    for component in &options.pay.bonus {
        let values = frame.column(component)?.cast(&DataType::Float64)?;
        let nonzero = values.f64()?.not_equal(0.0);
        any = &any | &nonzero.fill_null_with_values(false)?;
    }
    Ok(any)
}

/// The six UK figures from `whole`: rows with the [`uk_columns`] in input order, holding at least those of
/// [`uk_rows_needed`]; `periods` are the input's distinct periods (sorted texts) and `elsewhere` counts the
/// input rows left out of `whole` (ledgered as filtered, with the other rows outside the snapshot).
pub fn uk_from_rows(
    whole: &DataFrame,
    periods: &[String],
    elsewhere: u64,
    options: &TransparencyOptions,
) -> Result<UkResult> {
    let names: Vec<String> = whole.get_column_names().iter().map(|c| c.to_string()).collect();
    let period = uk_period_column(options, &names)?;
    let snapshot = uk_snapshot(options, &period, periods)?;
    let at_snapshot = eq_filter(&period, vec![snapshot.clone()]);
    let full_pay = options.full_pay.clone().ok_or_else(|| {
        Error::Invalid("the UK figures need the full-pay relevant employee flag (`[transparency] full_pay`)".into())
    })?;
    let full_pay_filters = vec![at_snapshot.clone(), eq_filter(&full_pay, vec!["true".into()])];
    let ordinary = options.uk_ordinary_components();
    if ordinary.is_empty() {
        return Err(Error::Invalid("no UK ordinary pay components (`[pay] ordinary` or `uk_ordinary`)".into()));
    }
    // Work on the snapshot period's rows (a twelfth of a year of payroll); the others are ledgered as
    // filtered below.
    let snapshot_rows = whole.filter(&period_equals(whole, &period, std::slice::from_ref(&snapshot))?)?;
    let outside = (whole.height() - snapshot_rows.height()) as u64 + elsewhere;
    let frame = &snapshot_rows;
    let hourly =
        gap(frame, &gap_options(options, ordinary.clone(), Measure::Hourly, vec![], full_pay_filters.clone(), 0))?;
    let units = unit_values(frame, &gap_options(options, ordinary, Measure::Hourly, vec![], full_pay_filters, 0))?;
    let full_pay_relevant = units.values.len() as u64;

    // Relevant employees: everyone paid in the snapshot period; their bonus in the window.
    let snapshot_units = unit_values(
        frame,
        &gap_options(options, options.pay.all(), Measure::Pay, vec![], vec![at_snapshot.clone()], 0),
    )?;
    let relevant = snapshot_units.values.len() as u64;
    let (bonus_values, bonus_window) = match &options.bonus_window_pay {
        Some(column) => {
            let bonus = unit_values(
                frame,
                &gap_options(options, vec![column.clone()], Measure::Pay, vec![], vec![at_snapshot], 0),
            )?;
            (bonus.values, Vec::new())
        }
        None if options.pay.bonus.is_empty() => {
            (snapshot_units.values.iter().map(|v| (0.0, v.1)).collect(), Vec::new())
        }
        None => {
            let window = uk_bonus_window(options, periods, &snapshot);
            // Rows of the window that carry bonus pay (zero rows add nothing to the sums).
            let mask = &period_equals(whole, &period, &window)? & &any_bonus(whole, options)?;
            let bonus_rows = whole.filter(&mask)?;
            let bonus = unit_values(
                &bonus_rows,
                &gap_options(
                    options,
                    options.pay.bonus.clone(),
                    Measure::Pay,
                    vec![],
                    vec![eq_filter(&period, window.clone())],
                    0,
                ),
            )?;
            // Keep the relevant employees only (paid in the snapshot period); others had no bonus.
            let by_id: HashMap<&str, f64> = match (&bonus.ids, &snapshot_units.ids) {
                (Some(ids), Some(_)) => ids.iter().map(String::as_str).zip(bonus.values.iter().map(|v| v.0)).collect(),
                _ => HashMap::new(),
            };
            let values = match &snapshot_units.ids {
                Some(ids) => ids
                    .iter()
                    .zip(&snapshot_units.values)
                    .map(|(id, v)| (by_id.get(id.as_str()).copied().unwrap_or(0.0), v.1))
                    .collect(),
                None => bonus.values,
            };
            (values, window)
        }
    };
    if bonus_values.iter().any(|v| v.0 < 0.0) {
        return Err(Error::Invalid("bonus pay is negative for some employees: check the bonus components".into()));
    }
    let shares = positive_shares(&bonus_values);
    let bonus_gap = bonus_gap(&bonus_values)?;
    Ok(UkResult {
        mean_hourly_gap_pct: hourly.overall.mean_gap_pct.estimate,
        median_hourly_gap_pct: hourly.overall.median_gap_pct.estimate,
        mean_bonus_gap_pct: bonus_gap.as_ref().and_then(|r| r.overall.mean_gap_pct.estimate),
        median_bonus_gap_pct: bonus_gap.as_ref().and_then(|r| r.overall.median_gap_pct.estimate),
        bonus_share_pct: ByGender { f: shares.0, m: shares.1 },
        quartiles: quartile_bands(&units.values).to_vec(),
        snapshot_period: snapshot,
        bonus_window,
        relevant_employees: relevant,
        full_pay_relevant_employees: full_pay_relevant,
        reporting_required: relevant >= UK_REPORTING_THRESHOLD,
        ledger: {
            let mut ledger = hourly.ledger;
            ledger.read += outside;
            ledger.used += outside;
            ledger.exclude(crate::data::Reason::Filtered, outside);
            ledger
        },
    })
}

/// Mean and median bonus gaps over employees with bonus pay, through [`gap`] on a table of their bonuses.
fn bonus_gap(values: &[(f64, bool)]) -> Result<Option<GapResult>> {
    let paid: Vec<&(f64, bool)> = values.iter().filter(|v| v.0 > 0.0).collect();
    if paid.is_empty() {
        return Ok(None);
    }
    let table = df!(
        "gender" => paid.iter().map(|v| if v.1 { "F" } else { "M" }).collect::<Vec<_>>(),
        "bonus" => paid.iter().map(|v| v.0).collect::<Vec<_>>(),
    )?;
    let mut o =
        crate::gap::GapOptions { measure: Some(Measure::Pay), min_cell: 0, bootstrap_reps: 0, ..Default::default() };
    o.columns.pay = vec!["bonus".into()];
    o.columns.employee_id = Some(String::new());
    o.columns.period = Some(String::new());
    gap(&table, &o).map(Some)
}
