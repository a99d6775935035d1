//! The raw gap of streamed input: validated units ([`super::UnitStream`]) finished by the in-memory
//! [`crate::gap::gap_prepared`].

use super::source::Source;
use super::units::UnitStream;
use super::{stream_pass, Progress, StreamOptions};
use crate::gap::{GapOptions, GapResult};
use crate::Result;

/// The raw gap of streamed input: the same document as [`crate::gap::gap`] on the concatenated rows.
pub fn gap_source(
    source: &Source,
    options: &GapOptions,
    stream: &StreamOptions,
    progress: &dyn Progress,
) -> Result<GapResult> {
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
    let mut state = UnitStream::new(options, &available)?;
    stream_pass(source, &wanted, stream, progress, (1, 1, "units"), |batch| state.update(batch))?;
    state.finish()
}
