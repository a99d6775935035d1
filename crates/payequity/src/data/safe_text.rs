//! Text that leaves payequity for a spreadsheet or a terminal: labels and ids come from untrusted payroll
//! files. In CSV, a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`
//! so that spreadsheet programs show it instead of running it as a formula (OWASP, "CSV Injection"); Parquet
//! keeps the raw value. On a terminal, control characters (escape sequences) and Unicode direction
//! overrides are replaced by `?`.

use std::borrow::Cow;

use polars::prelude::*;

use crate::Result;

/// Whether a CSV cell would be read as a formula.
fn starts_formula(text: &str) -> bool {
    matches!(text.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

/// One CSV cell, neutralized: `'` before a leading `=`, `+`, `-`, `@`, tab or carriage return.
///
/// ```
/// use payequity::data::csv_cell;
/// assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(csv_cell("Nurse"), "Nurse");
/// ```
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    if starts_formula(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The frame with every text column's cells neutralized by [`csv_cell`] (numbers are left alone: `-3.5` in
/// a numeric column is a number, not a formula). Categorical columns are written as their text.
pub fn csv_safe(frame: &DataFrame) -> Result<DataFrame> {
    let mut columns = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let text = match column.dtype() {
            DataType::String => Some(column.clone()),
            DataType::Categorical(..) | DataType::Enum(..) => Some(column.cast(&DataType::String)?),
            _ => None,
        };
        match text {
            Some(text) => {
                let safe = text.str()?.apply_values(|value| csv_cell(value));
                columns.push(safe.with_name(column.name().clone()).into_column());
            }
            None => columns.push(column.clone()),
        }
    }
    Ok(DataFrame::new(frame.height(), columns)?)
}

/// Text for a terminal: control characters other than newline, and Unicode direction overrides (U+202A–U+202E,
/// U+2066–U+2069), become `?`.
///
/// ```
/// use payequity::data::terminal_safe;
/// assert_eq!(terminal_safe("ward \u{1b}[31mICU"), "ward ?[31mICU");
/// ```
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n')
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if text.chars().any(unsafe_char) {
        Cow::Owned(text.chars().map(|c| if unsafe_char(c) { '?' } else { c }).collect())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_start_a_formula_are_quoted_and_numbers_are_not() {
        let frame = df!("label" => ["=1+1", "+x", "-y", "@SUM(A1)", "\tz", "\rw", "plain", "a=b"],
                        "pay" => [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
        .unwrap();
        let safe = csv_safe(&frame).unwrap();
        let labels: Vec<&str> = safe.column("label").unwrap().str().unwrap().iter().flatten().collect();
        assert_eq!(labels, ["'=1+1", "'+x", "'-y", "'@SUM(A1)", "'\tz", "'\rw", "plain", "a=b"]);
        assert_eq!(safe.column("pay").unwrap().f64().unwrap().get(0), Some(-1.0));
    }

    #[test]
    fn terminal_text_loses_escapes_but_keeps_newlines() {
        assert_eq!(terminal_safe("a\nb"), "a\nb");
        assert_eq!(terminal_safe("x\u{7}\u{202E}y\r"), "x??y?");
    }
}
