//! User row filters (`--where "contract_type!=agency"`, config `filters = [...]`): rows that fail a filter are
//! excluded with ledger reason `filtered`.

use std::fmt;
use std::str::FromStr;

use polars::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// A comparison operator of a [`RowFilter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl CompareOp {
    fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::NotEq => "!=",
            CompareOp::Lt => "<",
            CompareOp::LtEq => "<=",
            CompareOp::Gt => ">",
            CompareOp::GtEq => ">=",
        }
    }
}

/// `column OP value`, where value may list alternatives with `|` for `=` and `!=`
/// (`occupation=2221|2222`). Numeric columns compare numerically, others as text. Rows whose filter column
/// is null fail the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFilter {
    pub column: String,
    pub op: CompareOp,
    pub values: Vec<String>,
}

impl FromStr for RowFilter {
    type Err = Error;

    fn from_str(text: &str) -> Result<RowFilter> {
        // Two-character operators first so that `>=` is not read as `>`.
        let ops = [
            ("!=", CompareOp::NotEq),
            ("<=", CompareOp::LtEq),
            (">=", CompareOp::GtEq),
            ("==", CompareOp::Eq),
            ("=", CompareOp::Eq),
            ("<", CompareOp::Lt),
            (">", CompareOp::Gt),
        ];
        for (symbol, op) in ops {
            if let Some(pos) = text.find(symbol) {
                let column = text[..pos].trim();
                let value = text[pos + symbol.len()..].trim();
                if column.is_empty() || value.is_empty() {
                    break;
                }
                let values: Vec<String> = value.split('|').map(|v| v.trim().to_string()).collect();
                if values.len() > 1 && !matches!(op, CompareOp::Eq | CompareOp::NotEq) {
                    break;
                }
                return Ok(RowFilter { column: column.to_string(), op, values });
            }
        }
        Err(Error::Invalid(format!(
            "filter `{text}` is not of the form COLUMN=VALUE, COLUMN!=V1|V2, COLUMN<VALUE, COLUMN<=VALUE, COLUMN>VALUE or COLUMN>=VALUE"
        )))
    }
}

impl fmt::Display for RowFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.column, self.op.symbol(), self.values.join("|"))
    }
}

impl Serialize for RowFilter {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for RowFilter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl RowFilter {
    /// The boolean expression "row passes", given the column's type.
    pub(crate) fn to_expr(&self, dtype: &DataType) -> Result<Expr> {
        let numeric = dtype.is_primitive_numeric();
        let mut literals = Vec::with_capacity(self.values.len());
        for value in &self.values {
            if numeric {
                let number: f64 = value.parse().map_err(|_| {
                    Error::Invalid(format!(
                        "filter `{self}`: column `{}` is numeric but `{value}` is not a number",
                        self.column
                    ))
                })?;
                literals.push(lit(number));
            } else {
                literals.push(lit(value.clone()));
            }
        }
        let column = if numeric {
            col(self.column.as_str()).cast(DataType::Float64)
        } else {
            col(self.column.as_str()).cast(DataType::String)
        };
        let any_equal = || {
            literals
                .iter()
                .cloned()
                .map(|l| column.clone().eq(l))
                .reduce(|a, b| a.or(b))
                .expect("a filter has at least one value")
        };
        let first = literals[0].clone();
        let passes = match self.op {
            CompareOp::Eq => any_equal(),
            CompareOp::NotEq => any_equal().not(),
            CompareOp::Lt => column.lt(first),
            CompareOp::LtEq => column.lt_eq(first),
            CompareOp::Gt => column.gt(first),
            CompareOp::GtEq => column.gt_eq(first),
        };
        Ok(passes.fill_null(lit(false)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_operator() {
        let f: RowFilter = "contract_type != agency|bank".parse().unwrap();
        assert_eq!(f.op, CompareOp::NotEq);
        assert_eq!(f.values, vec!["agency", "bank"]);
        assert_eq!("age>=18".parse::<RowFilter>().unwrap().op, CompareOp::GtEq);
        assert_eq!("age<18".parse::<RowFilter>().unwrap().op, CompareOp::Lt);
        assert!("no operator".parse::<RowFilter>().is_err());
        assert!("age>1|2".parse::<RowFilter>().is_err());
    }

    #[test]
    fn filters_rows_numerically_and_textually() {
        let frame = df!("age" => [Some(17i64), Some(30), None], "unit" => ["ICU", "ward", "ICU"]).unwrap();
        let age: RowFilter = "age>=18".parse().unwrap();
        let unit: RowFilter = "unit=ICU".parse().unwrap();
        let out = frame
            .lazy()
            .select([
                age.to_expr(&DataType::Int64).unwrap().alias("a"),
                unit.to_expr(&DataType::String).unwrap().alias("u"),
            ])
            .collect()
            .unwrap();
        let a: Vec<_> = out.column("a").unwrap().bool().unwrap().iter().flatten().collect();
        let u: Vec<_> = out.column("u").unwrap().bool().unwrap().iter().flatten().collect();
        assert_eq!(a, vec![false, true, false]);
        assert_eq!(u, vec![true, false, true]);
    }
}
