//! Validation of payroll rows against the data contract: resolves column roles, computes the pay measure,
//! assigns every unusable row its ledger reason (first failing check wins), applies strict mode, and
//! aggregates employee × period rows into one unit per employee.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::columns::{ColumnMap, GenderValues, OtherGender};
use super::filter::RowFilter;
use super::gender::{code_other_genders, gender_code, COL_GENDER_RAW, OTHER_GENDER};
use std::borrow::Cow;

use super::keys::{
    column_codes, combine, combined_codes, keys_with_mixed_labels, later_occurrences, units, KeyCodes, RowKeys,
};
use super::ledger::{Ledger, Reason};
use super::long::{pivot, LongFormat};
use crate::{Error, Result};

/// Gender group of each unit, as an index into [`Prepared::gender_labels`] (0 = `F`, 1 = `M`, then the
/// other values).
pub const COL_GENDER: &str = "__gender";
/// Placeholder code of "another gender value" before other values get their own codes.
/// Total pay of the unit (sum of the pay components).
pub const COL_PAY: &str = "__pay";
/// Hours of the unit (only when an hours column is mapped).
pub const COL_HOURS: &str = "__hours";
/// Sampling weight of the unit (only when a weight column is mapped).
pub const COL_WEIGHT: &str = "__weight";
/// Number of input rows behind the unit (ledger accounting).
pub const COL_ROWS: &str = "__rows";
const COL_ROW: &str = "__row";
const COL_REASON: &str = "__reason";
/// Rows named in strict-mode errors.
const STRICT_ROWS_SHOWN: usize = 5;

/// What is measured: hourly pay (pay / hours) or the pay level itself (period or annual pay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// Σ pay / Σ hours per unit.
    Hourly,
    /// Σ pay per unit (annual pay when the input covers a year of periods).
    Pay,
}

/// The unit of analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// `employee` when an employee_id column is mapped, else `row`.
    #[default]
    Auto,
    /// One unit per employee: pay and hours summed over the employee's periods.
    Employee,
    /// Every input row is a unit.
    Row,
}

/// Wide (one row per employee × period) or long (one row per pay element) input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    #[default]
    Wide,
    Long,
}

/// Everything [`prepare`] needs to know about the rows.
#[derive(Debug, Clone, Copy)]
pub struct PrepareSpec<'a> {
    pub columns: &'a ColumnMap,
    pub genders: &'a GenderValues,
    /// Analysis columns to keep (grouping columns); they must exist.
    pub keep: &'a [String],
    pub filters: &'a [RowFilter],
    pub measure: Option<Measure>,
    pub unit: Unit,
    pub strict: bool,
    pub format: InputFormat,
    pub long: &'a LongFormat,
    /// Also keep each pay component's sum per unit ([`component_column`]), so figures on a subset of the
    /// components can be derived without validating the rows again ([`Prepared::with_pay`]).
    pub component_sums: bool,
    /// Key codes of the same (wide) input computed beforehand ([`RowKeys::compute`]) when several
    /// validations share one table; `None` computes them here.
    pub row_keys: Option<&'a RowKeys>,
}

/// The column of a unit's sum of one pay component (with [`PrepareSpec::component_sums`]).
pub fn component_column(component: &str) -> String {
    format!("__component:{component}")
}

/// Validated units ready for analysis.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Columns: the employee id (if unit = employee), [`COL_GENDER`], [`COL_PAY`], [`COL_HOURS`] (if
    /// mapped), [`COL_WEIGHT`] (if mapped), [`COL_ROWS`] and the kept columns.
    pub frame: DataFrame,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub measure: Measure,
    pub unit: Unit,
    /// The employee id column of `frame` when unit = employee.
    pub employee_id: Option<String>,
    /// Labels of the gender codes in [`COL_GENDER`]: `F`, `M`, then other values in sorted order.
    pub gender_labels: Vec<String>,
    pub has_weight: bool,
    /// The analysis columns kept per unit (employee × cell spells when not empty).
    pub kept: Vec<String>,
    /// Pay components whose per-unit sums are in `frame` ([`PrepareSpec::component_sums`]).
    pub components: Vec<String>,
    /// The unit (row of `frame`) each input row went into, [`NO_UNIT`] for excluded rows: set for wide
    /// input in memory, so that a change to the rows' pay (a bargaining scenario) can be added to their
    /// units without validating the rows again. `None` for long or streamed input and regrouped units.
    pub unit_of_row: Option<std::sync::Arc<Vec<u32>>>,
}

/// [`Prepared::unit_of_row`] of an input row that is in no unit (excluded).
pub const NO_UNIT: u32 = u32::MAX;

impl Prepared {
    /// The measure of each unit: pay / hours (hourly) or pay.
    pub fn measure_expr(&self) -> Expr {
        match self.measure {
            Measure::Hourly => col(COL_PAY) / col(COL_HOURS),
            Measure::Pay => col(COL_PAY),
        }
    }

    /// The same units measured by `measure` (hourly needs hours, which the preparation then checked).
    pub fn with_measure(&self, measure: Measure) -> Result<Prepared> {
        if measure == Measure::Hourly && self.frame.column(COL_HOURS).is_err() {
            return Err(Error::MissingColumn { column: "hours".into(), role: "hours".into(), available: vec![] });
        }
        Ok(Prepared { measure, ..self.clone() })
    }

    /// The same units with pay = Σ of `components` (a subset of the prepared components; nulls count 0).
    pub fn with_pay(&self, components: &[String]) -> Result<Prepared> {
        let mut total = lit(0.0);
        for component in components {
            if !self.components.contains(component) {
                return Err(Error::Invalid(format!("internal: pay component `{component}` was not prepared")));
            }
            total = total + col(component_column(component).as_str());
        }
        let frame = self.frame.clone().lazy().with_column(total.alias(COL_PAY)).collect()?;
        Ok(Prepared { frame, ..self.clone() })
    }

    /// One unit per employee: the employee × cell spells of the kept columns summed (pay, hours, rows and
    /// component sums; weight from the first spell). Row units and preparations without kept columns are
    /// returned as they are.
    pub fn employees(&self) -> Result<Prepared> {
        let Some(id) = &self.employee_id else { return Ok(self.clone()) };
        if self.kept.is_empty() {
            return Ok(self.clone());
        }
        let names: Vec<String> = self.frame.get_column_names().iter().map(|c| c.to_string()).collect();
        let sums: Vec<String> = [COL_PAY, COL_HOURS]
            .into_iter()
            .map(String::from)
            .chain(self.components.iter().map(|c| component_column(c)))
            .filter(|c| names.contains(c))
            .collect();
        let units = units(&column_codes(self.frame.column(id)?)?, |_| true);
        let mut columns = vec![units.first(self.frame.column(id)?)?, units.first(self.frame.column(COL_GENDER)?)?];
        for column in &sums {
            columns.push(units.sum(self.frame.column(column)?.f64()?).with_name(column.into()).into_column());
        }
        let rows = self.frame.column(COL_ROWS)?.cast(&DataType::UInt64)?;
        columns.push(units.sum_u64(rows.u64()?).with_name(COL_ROWS.into()).into_column());
        if self.has_weight {
            columns.push(units.first(self.frame.column(COL_WEIGHT)?)?);
        }
        let frame = DataFrame::new(units.len(), columns)?;
        Ok(Prepared { frame, kept: Vec::new(), unit_of_row: None, ..self.clone() })
    }
}

pub(crate) fn require_column(name: &str, role: &str, available: &[String]) -> Result<()> {
    if available.iter().any(|c| c == name) {
        Ok(())
    } else {
        Err(Error::MissingColumn { column: name.into(), role: role.into(), available: available.to_vec() })
    }
}

pub(crate) fn require_numeric(frame: &DataFrame, name: &str, role: &str) -> Result<()> {
    let column = frame.column(name)?;
    let dtype = column.dtype();
    // A column without any value (e.g. from a header-only CSV) has no meaningful type: it is all nulls.
    let no_values = column.null_count() == column.len();
    if dtype.is_primitive_numeric() || dtype.is_null() || no_values {
        Ok(())
    } else if let Ok(text) = column.str() {
        // A text column (CSV types are decided over every row): name the first value that is not a number.
        let (row, value) = text
            .iter()
            .enumerate()
            .find_map(|(i, v)| v.filter(|v| !v.trim().is_empty() && v.trim().parse::<f64>().is_err()).map(|v| (i, v)))
            .unwrap_or((0, ""));
        Err(Error::InvalidValue {
            column: name.into(),
            row: row + 1,
            value: crate::data::terminal_safe(value).chars().take(40).collect(),
            reason: format!(
                "the {role} column must be numeric: write numbers with a decimal point and no thousands separator"
            ),
        })
    } else {
        Err(Error::ColumnType {
            column: name.into(),
            role: role.into(),
            dtype: dtype.to_string(),
            expected: "numeric".into(),
        })
    }
}

/// Validates and prepares payroll rows; see the module docs. Returns an error for missing or mistyped
/// columns, and in strict mode for any row that would be excluded.
pub fn prepare(input: &DataFrame, spec: &PrepareSpec<'_>) -> Result<Prepared> {
    let columns = spec.columns;
    let mut warnings = Vec::new();
    let names: Vec<String> = input.get_column_names().iter().map(|c| c.to_string()).collect();
    let employee_id = ColumnMap::resolve_optional(&columns.employee_id, "employee_id", &names);
    let period = ColumnMap::resolve_optional(&columns.period, "period", &names);
    for (name, role) in [(&employee_id, "employee_id"), (&period, "period")] {
        if let Some(name) = name {
            require_column(name, role, &names)?;
        }
    }

    // Long format: pivot first; the ledger counts long rows through `__rows`.
    let (mut frame, read, null_elements) = match spec.format {
        InputFormat::Wide => {
            let frame = input
                .clone()
                .lazy()
                .with_row_index(COL_ROW, Some(1))
                .with_column(lit(1u64).alias(COL_ROWS))
                .collect()?;
            (frame, input.height() as u64, None)
        }
        InputFormat::Long => {
            let keys: Vec<String> = employee_id.iter().chain(period.iter()).cloned().collect();
            let pivoted = pivot(input, spec.long, &keys)?;
            let read = input.height() as u64;
            let nulls =
                (pivoted.null_element_rows > 0).then_some((pivoted.null_element_rows, pivoted.first_null_element_row));
            (pivoted.frame.lazy().with_column(col(COL_ROW).cast(IDX_DTYPE)).collect()?, read, nulls)
        }
    };
    // The user's columns (without the row number and row count added above), for lookups and messages.
    let available: Vec<String> =
        frame.get_column_names().iter().map(|c| c.to_string()).filter(|c| c != COL_ROW && c != COL_ROWS).collect();
    let mut ledger = Ledger::new(read);
    if let Some((count, first)) = null_elements {
        if spec.strict {
            return Err(Error::Strict {
                reason: Reason::NullElement.as_str().into(),
                column: spec.long.element.clone(),
                count,
                rows: first.into_iter().collect(),
            });
        }
        ledger.exclude(Reason::NullElement, count);
    }

    // Roles.
    require_column(&columns.gender, "gender", &available)?;
    let pay: Vec<String> = if columns.pay.is_empty() { vec!["pay".into()] } else { columns.pay.clone() };
    for component in &pay {
        require_column(component, "pay", &available)?;
        require_numeric(&frame, component, "pay")?;
    }
    let hours = ColumnMap::resolve_optional(&columns.hours, "hours", &available);
    let measure = spec.measure.unwrap_or(if hours.is_some() { Measure::Hourly } else { Measure::Pay });
    if let Some(h) = &hours {
        require_column(h, "hours", &available)?;
        require_numeric(&frame, h, "hours")?;
    } else if measure == Measure::Hourly {
        return Err(Error::MissingColumn { column: "hours".into(), role: "hours".into(), available });
    }
    let weight = columns.weight.clone().filter(|w| !w.is_empty());
    if let Some(w) = &weight {
        require_column(w, "weight", &available)?;
        require_numeric(&frame, w, "weight")?;
    }
    for column in spec.keep {
        require_column(column, "grouping", &available)?;
    }
    for filter in spec.filters {
        require_column(&filter.column, "filter", &available)?;
    }
    let unit = match spec.unit {
        Unit::Auto if employee_id.is_some() => Unit::Employee,
        Unit::Auto => Unit::Row,
        Unit::Employee if employee_id.is_none() => {
            return Err(Error::MissingColumn { column: "employee_id".into(), role: "employee_id".into(), available })
        }
        other => other,
    };

    // Expressions of the measure and of each check.
    let gender_dtype = frame.column(&columns.gender)?.dtype().clone();
    let gender = gender_code(&columns.gender, &gender_dtype, spec.genders)?;
    let components: Vec<Expr> = pay.iter().map(|c| col(c.as_str()).cast(DataType::Float64)).collect();
    let all_pay_null = components.iter().map(|c| c.clone().is_null()).reduce(|a, b| a.and(b)).expect("pay has columns");
    let pay_total =
        components.iter().map(|c| c.clone().fill_null(lit(0.0))).reduce(|a, b| a + b).expect("pay has columns");
    let mut passes = lit(true);
    for filter in spec.filters {
        let dtype = frame.column(&filter.column)?.dtype().clone();
        passes = passes.and(filter.to_expr(&dtype)?);
    }

    let mut selected =
        vec![col(COL_ROW), col(COL_ROWS), gender.alias(COL_GENDER), pay_total.alias(COL_PAY), passes.alias("__passes")];
    selected.push(col(columns.gender.as_str()).alias(COL_GENDER_RAW));
    let mut checks: Vec<(Reason, Expr)> =
        vec![(Reason::Filtered, col("__passes").not()), (Reason::NullGender, col(COL_GENDER).is_null())];
    if spec.genders.other == OtherGender::Exclude {
        checks.push((Reason::UnmappedGender, col(COL_GENDER).eq(lit(OTHER_GENDER))));
    }
    selected.push(all_pay_null.alias("__pay_null"));
    checks.push((Reason::NullPay, col("__pay_null")));
    checks.push((Reason::NonFinitePay, col(COL_PAY).is_finite().not()));
    checks.push((Reason::NegativePay, col(COL_PAY).lt(lit(0.0))));
    if let Some(h) = &hours {
        selected.push(col(h.as_str()).cast(DataType::Float64).alias(COL_HOURS));
        if measure == Measure::Hourly {
            checks.push((Reason::NullHours, col(COL_HOURS).is_null()));
            checks.push((Reason::NonFiniteHours, col(COL_HOURS).is_finite().not()));
            checks.push((Reason::NonPositiveHours, col(COL_HOURS).lt_eq(lit(0.0))));
        }
    }
    if let Some(w) = &weight {
        let weight_expr = col(w.as_str()).cast(DataType::Float64);
        selected.push(weight_expr.alias(COL_WEIGHT));
        let invalid =
            col(COL_WEIGHT).is_null().or(col(COL_WEIGHT).is_finite().not()).or(col(COL_WEIGHT).lt_eq(lit(0.0)));
        checks.push((Reason::InvalidWeight, invalid));
    }
    let components_kept: Vec<String> = if spec.component_sums { pay.clone() } else { Vec::new() };
    for component in &components_kept {
        selected.push(
            col(component.as_str()).cast(DataType::Float64).fill_null(lit(0.0)).alias(component_column(component)),
        );
    }
    let mut kept: Vec<String> = Vec::new();
    for name in employee_id.iter().chain(period.iter()).chain(spec.keep.iter()) {
        if !kept.contains(name) {
            kept.push(name.clone());
            selected.push(col(name.as_str()));
        }
    }
    // Each check is a boolean column (bitmap kernels); the reason code of the first failing check is then
    // looked up only for rows that fail any check.
    let check_names: Vec<String> = (0..checks.len()).map(|i| format!("__check_{i}")).collect();
    let check_exprs: Vec<Expr> = checks
        .iter()
        .zip(&check_names)
        .map(|((_, c), name)| c.clone().fill_null(lit(false)).alias(name.as_str()))
        .collect();
    let any_failed = check_names.iter().map(|n| col(n.as_str())).reduce(|a, b| a.or(b)).expect("checks exist");
    frame =
        frame.lazy().select(selected).with_columns(check_exprs).with_column(any_failed.alias("__failed")).collect()?;
    let reason_codes: Vec<u32> = checks.iter().map(|(r, _)| r.code()).collect();
    let reason_codes_column = first_failed_check(&frame, &check_names, &reason_codes)?;
    frame = frame.drop_many(check_names.iter().map(String::as_str).chain(["__failed"]));
    frame.with_column(reason_codes_column.into_column())?;
    let gender_labels = code_other_genders(&mut frame)?;

    // Checks across rows: duplicate (employee_id, period) keys and inconsistent gender per employee.
    // Shared codes apply to the rows of a wide input, which keep their order up to here.
    let shared = spec.row_keys.filter(|k| spec.format == InputFormat::Wide && k.rows == frame.height());
    let employee_codes: Option<Cow<KeyCodes>> = match (&employee_id, shared) {
        (Some(_), Some(keys)) => Some(Cow::Borrowed(&keys.employee)),
        (Some(id), None) => Some(Cow::Owned(column_codes(frame.column(id)?)?)),
        (None, _) => None,
    };
    if let Some(employees) = &employee_codes {
        let mut reasons: Vec<Option<u32>> = frame.column(COL_REASON)?.u32()?.iter().collect();
        let mut changed = false;
        if let Some(per) = &period {
            let keys = match shared.and_then(|k| k.employee_period.as_ref()) {
                Some(keys) => Cow::Borrowed(keys),
                None => Cow::Owned(combine(employees, &column_codes(frame.column(per)?)?)),
            };
            for (row, duplicate) in later_occurrences(&keys, |r| reasons[r].is_none()).into_iter().enumerate() {
                if duplicate {
                    reasons[row] = Some(Reason::DuplicateKey.code());
                    changed = true;
                }
            }
        }
        if unit == Unit::Employee {
            let genders = frame.column(COL_GENDER)?.u32()?.rechunk();
            let genders = genders.cont_slice().map_err(|_| Error::Invalid("internal: null gender code".into()));
            // Null gender codes are excluded rows: give them any label, they are not admitted.
            let labels: Vec<u32> = match genders {
                Ok(g) => g.to_vec(),
                Err(_) => frame.column(COL_GENDER)?.u32()?.iter().map(|g| g.unwrap_or(u32::MAX)).collect(),
            };
            let mixed = keys_with_mixed_labels(employees, &labels, |r| reasons[r].is_none());
            for (row, code) in employees.codes.iter().enumerate() {
                if mixed[*code as usize] && reasons[row].is_none() {
                    reasons[row] = Some(Reason::InconsistentGender.code());
                    changed = true;
                }
            }
        }
        if changed {
            let column = UInt32Chunked::from_iter_options(COL_REASON.into(), reasons.into_iter());
            frame.with_column(column.into_column())?;
        }
    }

    // Ledger and strict mode.
    let counts = frame
        .clone()
        .lazy()
        .filter(col(COL_REASON).is_not_null())
        .group_by([col(COL_REASON)])
        .agg([
            col(COL_ROWS).sum().cast(DataType::UInt64).alias("n"),
            col(COL_ROW).min().cast(DataType::UInt64).alias("first"),
        ])
        .sort(["first"], Default::default())
        .collect()?;
    let reason_keys: Vec<String> = counts
        .column(COL_REASON)?
        .u32()?
        .iter()
        .flatten()
        .map(|code| Reason::from_code(code).expect("codes come from Reason::code").as_str().to_string())
        .collect();
    let reason_counts: Vec<u64> = counts.column("n")?.u64()?.iter().flatten().collect();
    if spec.strict && !reason_keys.is_empty() {
        // The reason of the earliest offending row, with its first rows.
        let key = &reason_keys[0];
        let rows_frame = frame
            .clone()
            .lazy()
            .filter(col(COL_REASON).eq(lit(Reason::from_key(key).expect("a reason key").code())))
            .select([col(COL_ROW).cast(DataType::UInt64)])
            .limit(STRICT_ROWS_SHOWN as IdxSize)
            .collect()?;
        let rows: Vec<u64> = rows_frame.column(COL_ROW)?.u64()?.iter().flatten().collect();
        let reason = Reason::from_key(key).expect("reasons come from Reason::as_str");
        let column =
            reason_column(reason, period.as_deref(), &pay, hours.as_deref(), weight.as_deref(), &employee_id, spec);
        return Err(Error::Strict { reason: key.clone(), column, count: reason_counts[0], rows });
    }
    for (key, count) in reason_keys.iter().zip(&reason_counts) {
        ledger.exclude(Reason::from_key(key).expect("reasons come from Reason::as_str"), *count);
    }

    // One unit per employee (per employee × grouping cell: an employee who moved keeps both spells).
    let employee_key = if unit == Unit::Employee { employee_id.clone() } else { None };
    let (frame, unit_of_row) = match (&employee_key, &employee_codes) {
        (Some(id), Some(employees)) => {
            let mut sums: Vec<String> = components_kept.iter().map(|c| component_column(c)).collect();
            if hours.is_some() {
                sums.insert(0, COL_HOURS.to_string());
            }
            employee_units(&frame, id, employees, spec.keep, &sums, weight.is_some())?
        }
        _ => {
            let mut next = 0u32;
            let unit_of_row: Vec<u32> = frame
                .column(COL_REASON)?
                .is_null()
                .iter()
                .map(|admitted| {
                    if admitted == Some(true) {
                        next += 1;
                        next - 1
                    } else {
                        NO_UNIT
                    }
                })
                .collect();
            let frame = frame
                .lazy()
                .filter(col(COL_REASON).is_null())
                .drop(cols([COL_REASON, "__pay_null", "__passes", COL_ROW, COL_GENDER_RAW]))
                .collect()?;
            (frame, unit_of_row)
        }
    };
    let unit_of_row = (spec.format == InputFormat::Wide).then(|| std::sync::Arc::new(unit_of_row));
    warnings.extend(ledger.warnings());
    debug_assert!(ledger.balances());
    Ok(Prepared {
        frame,
        ledger,
        warnings,
        measure,
        unit,
        employee_id: employee_key,
        gender_labels,
        has_weight: weight.is_some(),
        kept: spec.keep.to_vec(),
        components: components_kept,
        unit_of_row,
    })
}

/// The reason code of each row's first failing check (null when every check passes).
fn first_failed_check(frame: &DataFrame, check_names: &[String], codes: &[u32]) -> Result<UInt32Chunked> {
    let failed = frame.column("__failed")?.bool()?;
    if failed.sum().unwrap_or(0) == 0 {
        return Ok(UInt32Chunked::full_null(COL_REASON.into(), frame.height()));
    }
    let checks: Vec<BooleanChunked> =
        check_names.iter().map(|n| Ok(frame.column(n)?.bool()?.rechunk().into_owned())).collect::<Result<_>>()?;
    let reasons = failed.iter().enumerate().map(|(row, f)| {
        if f != Some(true) {
            return None;
        }
        checks.iter().zip(codes).find(|(c, _)| c.get(row) == Some(true)).map(|(_, code)| *code)
    });
    Ok(UInt32Chunked::from_iter_options(COL_REASON.into(), reasons))
}

/// The column a reason refers to, for strict-mode messages.
fn reason_column(
    reason: Reason,
    period: Option<&str>,
    pay: &[String],
    hours: Option<&str>,
    weight: Option<&str>,
    employee_id: &Option<String>,
    spec: &PrepareSpec<'_>,
) -> String {
    match reason {
        Reason::Filtered => spec.filters.iter().map(|f| f.column.clone()).collect::<Vec<_>>().join(", "),
        Reason::NullGender | Reason::UnmappedGender | Reason::InconsistentGender => spec.columns.gender.clone(),
        Reason::NullPay | Reason::NonFinitePay | Reason::NegativePay => pay.join(" + "),
        Reason::NullHours | Reason::NonFiniteHours | Reason::NonPositiveHours => hours.unwrap_or("hours").into(),
        Reason::InvalidWeight => weight.unwrap_or("weight").into(),
        Reason::DuplicateKey => {
            format!("{} + {}", employee_id.as_deref().unwrap_or("employee_id"), period.unwrap_or("period"))
        }
        Reason::NullElement => spec.long.element.clone(),
        // Regression and audit reasons never arise in gap preparation.
        Reason::NullGroup
        | Reason::OtherGroup
        | Reason::NullOutcome
        | Reason::NonFiniteOutcome
        | Reason::NonPositiveOutcome
        | Reason::NullCovariate
        | Reason::NonFiniteCovariate
        | Reason::NullKey
        | Reason::NullJob => reason.as_str().into(),
    }
}

/// For every row: is it a later row with the same `keys` values as an earlier row (data contract: the
/// (employee_id, period) key is unique)?
pub(crate) fn later_duplicates(frame: &DataFrame, keys: &[&str]) -> Result<Vec<bool>> {
    let columns: Vec<&Column> = keys.iter().map(|k| frame.column(k)).collect::<PolarsResult<_>>()?;
    let codes = combined_codes(&columns, frame.height())?;
    Ok(later_occurrences(&codes, |_| true))
}

/// Sums the valid rows (null [`COL_REASON`]) of each employee (× kept cell) into one unit, in order of first
/// appearance: pay, input rows and the `sums` columns (hours, component sums) summed; gender (constant per employee after the cross-row checks),
/// weight and kept columns from the unit's first row.
fn employee_units(
    frame: &DataFrame,
    id: &str,
    employees: &KeyCodes,
    keep: &[String],
    sums: &[String],
    has_weight: bool,
) -> Result<(DataFrame, Vec<u32>)> {
    let valid: Vec<bool> = frame.column(COL_REASON)?.is_null().iter().map(|v| v.unwrap_or(false)).collect();
    let mut cells = employees.clone();
    let kept: Vec<&String> = keep.iter().filter(|k| k.as_str() != id).collect();
    for column in &kept {
        cells = combine(&cells, &column_codes(frame.column(column)?)?);
    }
    let units = units(&cells, |row| valid[row]);
    let mut columns = vec![units.first(frame.column(id)?)?];
    for column in &kept {
        columns.push(units.first(frame.column(column)?)?);
    }
    columns.push(units.first(frame.column(COL_GENDER)?)?);
    columns.push(units.sum(frame.column(COL_PAY)?.f64()?).with_name(COL_PAY.into()).into_column());
    let rows = frame.column(COL_ROWS)?.cast(&DataType::UInt64)?;
    columns.push(units.sum_u64(rows.u64()?).with_name(COL_ROWS.into()).into_column());
    for column in sums {
        columns.push(units.sum(frame.column(column)?.f64()?).with_name(column.into()).into_column());
    }
    if has_weight {
        columns.push(units.first(frame.column(COL_WEIGHT)?)?);
    }
    Ok((DataFrame::new(units.len(), columns)?, units.of_row))
}
