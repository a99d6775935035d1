//! Defines the one runner of every [`Analysis`]: its plan of passes over the record batches of a
//! [`Source`], each pass one accumulator fed every batch in input order, in memory that does not grow with
//! the row count (the states are small, or O(employees) for per-employee analyses).
//!
//! ```text
//!   pass 1: accumulator ◄── batch, batch, … ──► state ─┐
//!   pass 2: accumulator ◄── batch, batch, … ──► state ─┼─► next ─► … ─► document
//! ```

use super::analysis::{Accumulator, Analysis, Step};
use super::batches::{for_each_batch, Batch, Projection};
use super::source::Source;
use super::spill::Spill;
use super::{Progress, StreamOptions};
use crate::{Error, Result};

/// Runs `analysis` over the batches of `source`: the same document as the analysis' in-memory function on
/// the concatenated rows (estimates to floating-point reassociation; counts, quantiles and the ledger
/// exactly).
///
/// # Errors
/// The analysis' own errors (missing columns before any row is read, bad values naming their input row),
/// and files that cannot be read.
pub fn run<A: Analysis>(
    analysis: &A,
    source: &Source,
    stream: &StreamOptions,
    progress: &dyn Progress,
) -> Result<A::Document> {
    let schema = source.empty_frame();
    let columns = analysis.columns(&schema)?;
    let spill = match (&columns.partition_by, analysis.whole_partitions()) {
        (Some(key), true) => {
            progress.start_pass(1, 2, "partitioning workers");
            let projection = Projection::new(source, Some(&columns.read));
            let batch_rows = stream.rows_per_batch(columns.read.len());
            Some(Spill::write(source, &projection, key, (batch_rows, stream), progress)?)
        }
        _ => None,
    };
    let mut pass = analysis.first_pass(&source.column_names())?;
    loop {
        let label = analysis.label(&pass);
        let spilled = usize::from(spill.is_some());
        progress.start_pass(label.number + spilled, label.of + spilled, &label.what);
        let read = analysis.pass_columns(&pass).unwrap_or_else(|| columns.read.clone());
        let projection = Projection::new(source, Some(&read));
        let batch_rows = stream.rows_per_batch(read.len());
        let state = {
            let mut accumulator = analysis.accumulator(&pass, &schema)?;
            let mut each = |batch: Batch| -> Result<()> {
                // A spilled partition holds rows of many files: only a batch read from one file names it.
                let named = |e| if spill.is_some() { e } else { in_file(e, source, batch.file) };
                accumulator.update(&batch).map_err(named)?;
                progress.rows(batch.frame.height() as u64);
                Ok(())
            };
            match &spill {
                Some(spill) => spill.for_each_partition(&mut each)?,
                None => for_each_batch(source, &projection, batch_rows, &mut each)?,
            }
            accumulator.state()?
        };
        match analysis.next(pass, state)? {
            Step::Pass(next) => pass = next,
            Step::Done(document) => return Ok(document),
        }
    }
}

/// Names the file of a batch in an error about a column's type (CSV types are inferred per file).
fn in_file(error: Error, source: &Source, file: usize) -> Error {
    match error {
        Error::ColumnType { column, role, dtype, expected } => Error::ColumnType {
            column: format!("{column}` in `{}", source.files[file].path.display()),
            role,
            dtype,
            expected,
        },
        other => other,
    }
}
