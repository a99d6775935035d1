//! Gender coding of payroll rows: the configured female and male values become codes 0 and 1, every other
//! value its own code from 2 in sorted order (kept and reported, DESIGN.md data contract), missing values null.
//! Text values match trimmed and case-insensitively (` f `, `F`, `f` are one value), and with the default
//! values `F`/`M` the words `female`/`woman` and `male`/`man` match too; every other value stays its own
//! group with its count, so a spelling the config does not know shows in the document's `n`.

use polars::prelude::*;

use super::columns::{GenderValues, FEMALE, MALE};
use super::prepare::COL_GENDER;
use crate::{Error, Result};

/// Code of the first gender value that is neither female nor male.
pub(super) const OTHER_GENDER: u32 = 2;
/// The gender column as read, kept while other values are coded.
pub(super) const COL_GENDER_RAW: &str = "__gender_raw";

/// The gender code expression: 0 (female values), 1 (male values), [`OTHER_GENDER`] (any other value), null
/// for null or empty values. A numeric column compares numerically, so a configured `1` matches `1.0`.
pub(super) fn gender_code(column: &str, dtype: &DataType, genders: &GenderValues) -> Result<Expr> {
    let numeric = dtype.is_primitive_numeric();
    let value = if numeric {
        col(column).cast(DataType::Float64)
    } else {
        col(column).cast(DataType::String).str().strip_chars(lit(NULL)).str().to_lowercase()
    };
    let is_missing = if numeric {
        value.clone().is_null().or(value.clone().is_nan())
    } else {
        value.clone().is_null().or(value.clone().eq(lit("")))
    };
    let literal = |v: &str| -> Result<Expr> {
        if !numeric {
            return Ok(lit(v.trim().to_lowercase()));
        }
        v.trim().parse::<f64>().map(lit).map_err(|_| Error::Config {
            file: "gender_values".into(),
            key: "female/male".into(),
            reason: format!("`{v}` is not a number, but the gender column `{column}` is numeric"),
        })
    };
    let matches = |values: &[String]| -> Result<Expr> {
        let mut expr = lit(false);
        for v in values {
            expr = expr.or(value.clone().eq(literal(v)?));
        }
        Ok(expr.fill_null(lit(false)))
    };
    Ok(when(is_missing)
        .then(lit(NULL).cast(DataType::UInt32))
        .when(matches(&with_default_words(&genders.female, "F", &["female", "woman"]))?)
        .then(lit(0u32))
        .when(matches(&with_default_words(&genders.male, "M", &["male", "man"]))?)
        .then(lit(1u32))
        .otherwise(lit(OTHER_GENDER)))
}

/// The configured values, plus the common words when the configuration is the default single letter.
fn with_default_words(values: &[String], default: &str, words: &[&str]) -> Vec<String> {
    let mut all = values.to_vec();
    if values.len() == 1 && values[0] == default {
        all.extend(words.iter().map(|w| w.to_string()));
    }
    all
}

/// Gives each other gender value its own code (2, 3, ... in sorted order); returns all labels. Vectorized:
/// the other values are found by a filter and each gets its code by one comparison over the column.
pub(super) fn code_other_genders(frame: &mut DataFrame) -> Result<Vec<String>> {
    let mut labels = vec![FEMALE.to_string(), MALE.to_string()];
    let codes = frame.column(COL_GENDER)?.u32()?.clone();
    let is_other = codes.equal(OTHER_GENDER).fill_null_with_values(false)?;
    if !is_other.any() {
        return Ok(labels);
    }
    let raw = frame.column(COL_GENDER_RAW)?.cast(&DataType::String)?;
    let raw = raw.str()?;
    let mut others: Vec<String> = raw
        .filter(&is_other)?
        .iter()
        .flatten()
        .map(String::from)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut recoded = codes;
    for (i, label) in others.iter().enumerate() {
        let this = &is_other & &raw.equal(label.as_str()).fill_null_with_values(false)?;
        recoded = recoded.set(&this, Some(OTHER_GENDER + i as u32))?;
    }
    frame.with_column(recoded.with_name(COL_GENDER.into()).into_column())?;
    labels.append(&mut others);
    Ok(labels)
}

/// The gender label of every row of `frame`, coded as the analyses code it ([`gender_code`]): an index into
/// the returned labels — `F`, `M`, then other values as written in sorted order, and `""` for missing values.
pub(crate) fn row_gender_labels(
    frame: &DataFrame,
    column: &str,
    genders: &GenderValues,
) -> Result<(Vec<u32>, Vec<String>)> {
    let dtype = frame.column(column)?.dtype().clone();
    let mut coded = frame
        .clone()
        .lazy()
        .select([gender_code(column, &dtype, genders)?.alias(COL_GENDER), col(column).alias(COL_GENDER_RAW)])
        .collect()?;
    let mut labels = code_other_genders(&mut coded)?;
    let missing = labels.len() as u32;
    let codes = coded.column(COL_GENDER)?.u32()?.iter().map(|c| c.unwrap_or(missing)).collect();
    labels.push(String::new());
    Ok((codes, labels))
}
