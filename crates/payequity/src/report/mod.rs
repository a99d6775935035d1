//! Result documents shared by the CLI, Python and (later) the HTML report: JSON serialization and the
//! plain-text summaries that `payequity ... --format table` prints and Python's `.summary()` returns.

mod gap_summary;

pub use gap_summary::gap_summary;

use serde::Serialize;

use crate::{Error, Result};

/// The JSON document of a result (pretty-printed, stable key order).
pub fn to_json<T: Serialize>(result: &T) -> Result<String> {
    serde_json::to_string_pretty(result).map_err(|e| Error::Invalid(format!("cannot serialize result: {e}")))
}
