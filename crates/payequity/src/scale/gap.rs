//! The raw gap of streamed input. With an employee id (or sampling weights) the units are validated and
//! summed per employee ([`super::UnitStream`], O(employees)) and finished by the in-memory
//! [`crate::gap::gap_prepared`]; rows that are their own units take the radix-selection plan of
//! [`super::row_gap`] instead, whose memory does not grow with the row count.

use super::row_gap::row_gap_source;
use super::source::Source;
use super::units::UnitStream;
use super::{stream_pass, Progress, StreamOptions};
use crate::data::{ColumnMap, Unit};
use crate::gap::{check_options, GapOptions, GapResult};
use crate::Result;

/// The raw gap of streamed input: the same document as [`crate::gap::gap`] on the concatenated rows.
pub fn gap_source(
    source: &Source,
    options: &GapOptions,
    stream: &StreamOptions,
    progress: &dyn Progress,
) -> Result<GapResult> {
    check_options(options)?;
    let available = source.column_names();
    let (required, optional) = options.columns_used();
    for column in &required {
        if !available.contains(column) {
            // The in-memory checks name the role; run them on the (empty) schema for the same message.
            let empty = source.empty_frame();
            crate::gap::gap(&empty, options)?;
        }
    }
    let mut wanted = required;
    wanted.extend(optional);
    if rows_are_units(options, &available) {
        return row_gap_source(source, options, &wanted, stream, progress);
    }
    let mut state = UnitStream::new(options, &available)?;
    stream_pass(source, &wanted, stream, progress, (1, 1, "units"), |batch| state.update(batch))?;
    state.finish()
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
