//! Pay periods as the UK figures read them: every value of the period column is parsed to a month or a day in
//! one of the documented formats and written back in one canonical text, so that the snapshot (the last
//! period) is chosen by date, not by string order — `2025-12`, `202512` and `Dec 2025` are one month. A value
//! in no documented format is refused, naming the row and the value. A file without a period column is one
//! snapshot.

use std::collections::HashMap;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::{Error, Result};

/// The period a file without a period column stands for.
pub const SINGLE_SNAPSHOT: &str = "single snapshot";

/// The canonical text of a period value: `YYYY-MM` for a month (`2025-12`, `202512`, `Dec 2025`,
/// `December 2025`, `12/2025`), `YYYY-MM-DD` for a day (`2025-12-31`, `20251231`, `2025-12-31T00:00:00`).
///
/// ```
/// use payequity::transparency::canonical_period;
/// assert_eq!(canonical_period(" Dec 2025").as_deref(), Some("2025-12"));
/// assert_eq!(canonical_period("202512").as_deref(), Some("2025-12"));
/// assert_eq!(canonical_period("2025-12-31").as_deref(), Some("2025-12-31"));
/// assert_eq!(canonical_period("Q4 2025"), None);
/// ```
pub fn canonical_period(text: &str) -> Option<String> {
    let text = text.trim();
    let month = |year: i32, month: u32| NaiveDate::from_ymd_opt(year, month, 1).map(|d| d.format("%Y-%m").to_string());
    let digits = text.chars().all(|c| c.is_ascii_digit());
    if digits && text.len() == 6 {
        return month(text[..4].parse().ok()?, text[4..].parse().ok()?);
    }
    if digits && text.len() == 8 {
        return NaiveDate::parse_from_str(text, "%Y%m%d").ok().map(|d| d.format("%Y-%m-%d").to_string());
    }
    if text.len() == 7 && text.as_bytes()[4] == b'-' {
        return month(text[..4].parse().ok()?, text[5..].parse().ok()?);
    }
    if let Some(day) = text.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
        return Some(day.format("%Y-%m-%d").to_string());
    }
    for format in ["%d %b %Y", "%d %B %Y"] {
        if let Ok(day) = NaiveDate::parse_from_str(text, format) {
            return Some(day.format("%Y-%m-%d").to_string());
        }
    }
    for format in ["%b %Y", "%B %Y", "%m/%Y"] {
        if let Ok(day) = NaiveDate::parse_from_str(&format!("1 {text}"), &format!("%d {format}")) {
            return Some(day.format("%Y-%m").to_string());
        }
    }
    None
}

/// The frame with its period column (`period`) in canonical text, or with a constant [`SINGLE_SNAPSHOT`]
/// column named `period` when it has none (a file of one snapshot).
pub fn canonical_periods(frame: &DataFrame, period: Option<&str>) -> Result<DataFrame> {
    let Some(period) = period else {
        let mut frame = frame.clone();
        frame.with_column(Column::new_scalar(
            "period".into(),
            Scalar::from(PlSmallStr::from(SINGLE_SNAPSHOT)),
            frame.height(),
        ))?;
        return Ok(frame);
    };
    let text = frame.column(period)?.cast(&DataType::String)?;
    let text = text.str()?;
    let mut canonical: HashMap<&str, String> = HashMap::new();
    for (row, value) in text.iter().enumerate() {
        let Some(value) = value else { continue };
        if canonical.contains_key(value) {
            continue;
        }
        let parsed = canonical_period(value).ok_or_else(|| Error::InvalidValue {
            column: period.to_string(),
            row: row + 1,
            value: value.chars().take(40).collect(),
            reason: "not a pay period in a known format: use YYYY-MM (2025-12), YYYYMM, Mon YYYY (Dec 2025), \
                     YYYY-MM-DD or a date column"
                .into(),
        })?;
        canonical.insert(value, parsed);
    }
    if canonical.iter().all(|(raw, parsed)| *raw == parsed) {
        return Ok(frame.clone());
    }
    let rewritten: StringChunked = text.iter().map(|v| v.map(|v| canonical.get(v).map_or(v, String::as_str))).collect();
    let mut frame = frame.clone();
    frame.with_column(rewritten.with_name(period.into()).into_column())?;
    Ok(frame)
}
