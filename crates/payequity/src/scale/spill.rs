//! Defines the spill of streamed rows into partitions of whole workers, for analyses whose every update
//! needs all of a worker's rows ([`super::Analysis::whole_partitions`]: caps over a worker's periods).
//!
//! One pass writes each batch's rows (only the columns read, with their input row number in
//! [`ROW_COLUMN`]) to the partition of their worker, by a hash of the id, as Arrow IPC files in a private
//! temporary folder. Each partition is then read back whole, rows in input order. The folder is removed
//! when the run ends, also on error. Peak memory is one partition (input / partitions).

use std::fs::File;
use std::hash::BuildHasher;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use foldhash::fast::FixedState;
use polars::prelude::*;

use super::analysis::ROW_COLUMN;
use super::batches::{for_each_batch, Batch, Projection};
use super::source::Source;
use super::{Progress, StreamOptions};
use crate::{Error, Result};

/// Bytes of memory an in-memory chunk needs per byte of input file (columns, lines and working copies).
const SPILL_MEMORY_PER_FILE_BYTE: u64 = 32;

/// The partition of a worker: a hash of the id's text (nulls together).
fn partition_of(id: Option<&str>, partitions: usize) -> usize {
    (FixedState::with_seed(0x6175_6469_7473).hash_one(id.unwrap_or("\u{0}null")) % partitions as u64) as usize
}

/// Partitions needed for a partition to fit in half the memory limit.
fn partition_count(source: &Source, stream: &StreamOptions) -> usize {
    let need = source.bytes().saturating_mul(SPILL_MEMORY_PER_FILE_BYTE);
    (need.div_ceil((stream.memory_limit / 2).max(1)) as usize).clamp(1, 4096)
}

/// A spill file that cannot be written or read (a full disk, a removed temporary folder).
fn spill_error(path: &Path, error: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: format!("a temporary partition file: {error} (set TMPDIR to a folder with room)"),
    }
}

/// Errors about a row of a partition name the input row (its [`ROW_COLUMN`]) instead.
pub(crate) fn input_row_error(error: Error, chunk: &DataFrame) -> Error {
    match error {
        Error::InvalidValue { column, row, value, reason } => {
            let input_row = chunk
                .column(ROW_COLUMN)
                .ok()
                .and_then(|c| c.get(row).ok())
                .and_then(|v| v.extract::<u64>())
                .map_or(row, |r| r as usize);
            Error::InvalidValue { column, row: input_row, value, reason }
        }
        other => other,
    }
}

/// The spilled rows of a source: per partition, its files in input order.
pub(crate) struct Spill {
    _folder: tempfile::TempDir,
    files: Vec<Vec<PathBuf>>,
}

impl Spill {
    /// Writes the rows of `source` (the columns of `projection`) to the partitions of their `key` values.
    pub(crate) fn write(
        source: &Source,
        projection: &Projection,
        key: &str,
        (batch_rows, stream): (usize, &StreamOptions),
        progress: &dyn Progress,
    ) -> Result<Spill> {
        let partitions = partition_count(source, stream);
        let folder = tempfile::Builder::new()
            .prefix("payequity-partitions-")
            .tempdir()
            .map_err(|e| Error::Invalid(format!("cannot create a temporary folder for the partitions: {e}")))?;
        let mut files: Vec<Vec<PathBuf>> = vec![Vec::new(); partitions];
        for_each_batch(source, projection, batch_rows, |batch| {
            let frame = batch.frame.with_row_index(ROW_COLUMN.into(), Some(batch.offset as IdxSize))?;
            let ids = frame.column(key)?.cast(&DataType::String)?;
            let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); partitions];
            for (row, id) in ids.str()?.iter().enumerate() {
                rows[partition_of(id, partitions)].push(row as IdxSize);
            }
            for (p, rows) in rows.into_iter().enumerate().filter(|(_, r)| !r.is_empty()) {
                let mut part = frame.take(&IdxCa::from_vec("".into(), rows))?;
                let path = folder.path().join(format!("partition-{p:04}-{:06}.arrow", files[p].len()));
                IpcWriter::new(BufWriter::new(File::create(&path).map_err(|e| spill_error(&path, e))?))
                    .finish(&mut part)?;
                files[p].push(path);
            }
            progress.rows(batch.frame.height() as u64);
            Ok(())
        })?;
        Ok(Spill { _folder: folder, files })
    }

    /// Each non-empty partition as one batch of whole workers (rows in input order).
    pub(crate) fn for_each_partition(&self, mut visit: impl FnMut(Batch) -> Result<()>) -> Result<()> {
        for paths in self.files.iter().filter(|f| !f.is_empty()) {
            let mut chunk = DataFrame::empty();
            for path in paths {
                let part = IpcReader::new(File::open(path).map_err(|e| spill_error(path, e))?).finish()?;
                if chunk.width() == 0 {
                    chunk = part;
                } else {
                    chunk.vstack_mut_owned(part)?;
                }
            }
            chunk.rechunk_mut();
            visit(Batch { frame: chunk, offset: 0, file: 0 })?;
        }
        Ok(())
    }
}
