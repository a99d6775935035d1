//! Long-format payroll (one row per employee × period × pay element) pivoted to wide format (one row per
//! employee × period, one column per pay element). Capability modules only ever see wide frames.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Names of the element and amount columns of a long-format payroll (`[input.long]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LongFormat {
    /// Column holding the pay element's name (`base_pay`, `overtime_pay`, `hours_paid` ...).
    pub element: String,
    /// Column holding the element's amount.
    pub amount: String,
}

impl Default for LongFormat {
    fn default() -> Self {
        LongFormat { element: "element".into(), amount: "amount".into() }
    }
}

/// The result of [`pivot_long`]: the wide frame plus what the ledger needs.
#[derive(Debug)]
pub(crate) struct Pivoted {
    /// One row per key; `__rows` counts the long rows behind it, `__row` is the first of them (1-based).
    pub frame: DataFrame,
    /// Long rows dropped because their element name is null.
    pub null_element_rows: u64,
    /// The first such row (1-based), for strict-mode messages.
    pub first_null_element_row: Option<u64>,
}

/// Pivots a long payroll to wide: each distinct element becomes a column holding the sum of its amounts for
/// the key (null when the key has no such element); every other column takes its first value per key.
///
/// ```text
///  employee_id period element  amount        employee_id period base_pay overtime_pay __rows
///  e1          2025-01 base_pay 2000    →    e1          2025-01 2000     150          2
///  e1          2025-01 overtime_pay 150
/// ```
pub fn pivot_long(frame: &DataFrame, long: &LongFormat, keys: &[String]) -> Result<DataFrame> {
    Ok(pivot(frame, long, keys)?.frame)
}

pub(crate) fn pivot(frame: &DataFrame, long: &LongFormat, keys: &[String]) -> Result<Pivoted> {
    let available: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    for (column, role) in [(&long.element, "long-format element"), (&long.amount, "long-format amount")] {
        if !available.contains(column) {
            return Err(Error::MissingColumn { column: column.clone(), role: role.into(), available });
        }
    }
    if keys.is_empty() {
        return Err(Error::Invalid(
            "long format needs the employee_id (and usually period) columns to know which rows form one record".into(),
        ));
    }
    let amount_dtype = frame.column(&long.amount)?.dtype().clone();
    if !amount_dtype.is_primitive_numeric() {
        return Err(Error::ColumnType {
            column: long.amount.clone(),
            role: "long-format amount".into(),
            dtype: amount_dtype.to_string(),
            expected: "numeric".into(),
        });
    }
    let indexed = frame.clone().lazy().with_row_index("__row", Some(1));
    let element = col(long.element.as_str()).cast(DataType::String);
    let nulls = indexed
        .clone()
        .filter(element.clone().is_null())
        .select([len().alias("n"), col("__row").min().alias("first")])
        .collect()?;
    let null_element_rows = nulls.column("n")?.cast(&DataType::UInt64)?.u64()?.get(0).unwrap_or(0);
    let first_null_element_row = nulls.column("first")?.cast(&DataType::UInt64)?.u64()?.get(0);

    let valid = indexed.filter(element.clone().is_not_null());
    let elements_frame =
        valid.clone().select([element.clone().unique().sort(Default::default()).alias("e")]).collect()?;
    let elements: Vec<String> = elements_frame.column("e")?.str()?.iter().flatten().map(|s| s.to_string()).collect();

    let mut aggs: Vec<Expr> = Vec::new();
    for name in &elements {
        if available.contains(name) {
            return Err(Error::Invalid(format!(
                "long format: pay element `{name}` has the same name as a column of the table; rename one of them"
            )));
        }
        let is_element = element.clone().eq(lit(name.clone()));
        let amount = col(long.amount.as_str()).cast(DataType::Float64);
        aggs.push(
            when(is_element.clone().sum().gt(lit(0)))
                .then(amount.filter(is_element).sum())
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias(name.as_str()),
        );
    }
    for column in &available {
        if column != &long.element && column != &long.amount && !keys.contains(column) {
            aggs.push(col(column.as_str()).first());
        }
    }
    aggs.push(len().cast(DataType::UInt64).alias("__rows"));
    aggs.push(col("__row").min().alias("__row"));
    let key_exprs: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    let wide = valid.group_by_stable(key_exprs).agg(aggs).collect()?;
    Ok(Pivoted { frame: wide, null_element_rows, first_null_element_row })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pivots_elements_to_columns_and_counts_rows() {
        let long = df!(
            "employee_id" => ["e1", "e1", "e2", "e2", "e2"],
            "period" => ["2025-01"; 5],
            "gender" => ["F", "F", "M", "M", "M"],
            "element" => [Some("base_pay"), Some("overtime_pay"), Some("base_pay"), Some("base_pay"), None],
            "amount" => [2000.0, 150.0, 1000.0, 1500.0, 9.0],
        )
        .unwrap();
        let keys = vec!["employee_id".to_string(), "period".to_string()];
        let out = pivot(&long, &LongFormat::default(), &keys).unwrap();
        assert_eq!(out.null_element_rows, 1);
        assert_eq!(out.first_null_element_row, Some(5));
        let wide = out.frame;
        let base: Vec<_> = wide.column("base_pay").unwrap().f64().unwrap().iter().collect();
        let overtime: Vec<_> = wide.column("overtime_pay").unwrap().f64().unwrap().iter().collect();
        let rows: Vec<_> = wide.column("__rows").unwrap().u64().unwrap().iter().flatten().collect();
        assert_eq!(base, vec![Some(2000.0), Some(2500.0)]);
        assert_eq!(overtime, vec![Some(150.0), None]);
        assert_eq!(rows, vec![2, 2]);
    }
}
