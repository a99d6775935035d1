//! The raw gap of streamed input. With an employee id (or sampling weights) the analysis is
//! [`crate::gap::GapAnalysis`] (units summed per employee, O(employees)); rows that are their own units take
//! the radix-selection plan of `row_gap.rs` instead, whose memory does not grow with the row count.

use super::row_gap::row_gap_source;
use crate::data::ColumnMap;
use crate::data::Unit;
use crate::gap::{GapAnalysis, GapOptions, GapResult};
use crate::scale::Analysis;
use crate::scale::{run, Progress, Source, StreamOptions};
use crate::Result;

/// The raw gap of streamed input: the same document as [`crate::gap::gap`] on the concatenated rows.
///
/// # Errors
/// As [`crate::gap::gap`], and files that cannot be read.
pub fn gap_source(
    source: &Source,
    options: &GapOptions,
    stream: &StreamOptions,
    progress: &dyn Progress,
) -> Result<GapResult> {
    let analysis = GapAnalysis::new(options);
    let available = source.column_names();
    if rows_are_units(options, &available) {
        let columns = analysis.columns(&source.empty_frame())?;
        return row_gap_source(source, options, &columns.read, stream, progress);
    }
    run(&analysis, source, stream, progress)
}

/// Rows are their own units, unweighted, and wide: no checks across rows, so their order statistics can be
/// selected pass by pass.
fn rows_are_units(options: &GapOptions, available: &[String]) -> bool {
    let id = ColumnMap::resolve_optional(&options.columns.employee_id, "employee_id", available);
    id.is_none()
        && options.unit != Unit::Employee
        && options.columns.weight.is_none()
        && options.input.format == crate::data::InputFormat::Wide
}
