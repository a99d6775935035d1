//! The engine (docs/architecture.md): the [`Analysis`] shape every analysis is written in, input sources of
//! many files ([`Source`]), record batches in bounded memory ([`read_batches`]), the one runner of an
//! analysis' plan of passes over them ([`run`]), the spill into partitions of whole workers, the entry
//! points of distributed engines by analysis kind ([`distributed`]), and the versioned bytes that carry
//! partial states between processes (Spark and Dask workers, [`encode_state`]).
//!
//! Every analysis is an [`Analysis`]: a plan of passes, each an [`Accumulator`] (`update(batch)`, `state`)
//! whose states `merge`, and `next` from the merged state to the next pass or the document; the in-memory
//! functions are the same steps over one frame, so the documents agree.

mod analysis;
mod batches;
pub mod distributed;
mod runner;
mod source;
mod spill;
mod state;

pub(crate) use analysis::{as_json, user_columns};
pub use analysis::{Accumulator, Analysis, Columns, DistributedAnalysis, PassLabel, Step, ROW_COLUMN};
pub use batches::{for_each_batch, load_source, read_batches, Batch, Projection};
pub use runner::run;
pub use source::{Source, SourceFile};
pub(crate) use spill::input_row_error;
pub use state::{decode_state, encode_state, StateKind, STATE_VERSION};

/// Memory and batch settings of a streamed run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamOptions {
    /// Peak memory the run should stay within, in bytes (the CLI's `--memory-limit`, default 2 GiB).
    pub memory_limit: u64,
    /// Rows per record batch (0 = derived from the memory limit).
    pub batch_rows: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions { memory_limit: 2 << 30, batch_rows: 0 }
    }
}

/// Where an analysis reads its rows: all in memory, or streamed in record batches (the CLI's `--engine`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// In memory when the input fits the memory limit, else streamed.
    #[default]
    Auto,
    Memory,
    Stream,
}

impl Engine {
    /// The names of the engines, as `--engine` takes them.
    pub const NAMES: [&'static str; 3] = ["auto", "memory", "stream"];

    /// The engine of a name of [`Engine::NAMES`].
    ///
    /// # Errors
    /// Another name (the message lists the valid ones).
    pub fn parse(name: &str) -> crate::Result<Engine> {
        match name {
            "auto" => Ok(Engine::Auto),
            "memory" => Ok(Engine::Memory),
            "stream" => Ok(Engine::Stream),
            other => {
                Err(crate::Error::Invalid(format!("engine `{other}`: expected one of {}", Engine::NAMES.join(", "))))
            }
        }
    }
}

/// Bytes of memory an in-memory run needs per byte of input file (decoded columns and working copies).
pub const MEMORY_PER_FILE_BYTE: u64 = 24;

impl StreamOptions {
    /// Whether an input of `file_bytes` on disk fits the memory limit in memory (else it is streamed).
    pub fn fits_in_memory(&self, file_bytes: u64) -> bool {
        file_bytes.saturating_mul(MEMORY_PER_FILE_BYTE) <= self.memory_limit
    }

    /// The one memory-or-stream decision of every front end (the CLI, Python and the report): whether
    /// `source` is read into memory under `engine`.
    pub fn reads_in_memory(&self, source: &Source, engine: Engine) -> bool {
        match engine {
            Engine::Memory => true,
            Engine::Stream => false,
            Engine::Auto => self.fits_in_memory(source.bytes()),
        }
    }

    /// Rows per batch: two batches are in memory at once (one read ahead), each column's values and the
    /// analysis' working copies at about 64 bytes per row and column; at most 2²⁰ rows.
    pub fn rows_per_batch(&self, columns: usize) -> usize {
        if self.batch_rows > 0 {
            return self.batch_rows;
        }
        let per_row = 64 * columns.max(1) as u64;
        let budget = self.memory_limit / 8;
        ((budget / per_row) as usize).clamp(1 << 14, 1 << 20)
    }
}

/// One pass over `source` reading `columns` (those it has): `each` gets every batch in input order, and
/// `progress` shows pass `pass` of `passes`, named `what`.
pub(crate) fn stream_pass(
    source: &Source,
    columns: &[String],
    stream: &StreamOptions,
    progress: &dyn Progress,
    (pass, passes, what): (usize, usize, &str),
    mut each: impl FnMut(&Batch) -> crate::Result<()>,
) -> crate::Result<()> {
    progress.start_pass(pass, passes, what);
    let projection = Projection::new(source, Some(columns));
    for_each_batch(source, &projection, stream.rows_per_batch(columns.len()), |batch| {
        each(&batch)?;
        progress.rows(batch.frame.height() as u64);
        Ok(())
    })
}

/// The columns of `used` (required, optional) the source has; when some are missing, `in_memory` (the
/// analysis on the source's empty schema) is run first and its missing- or mistyped-column error returned,
/// so that streamed input gets the in-memory message.
pub(crate) fn columns_to_read<T>(
    available: &[String],
    used: (Vec<String>, Vec<String>),
    in_memory: impl FnOnce() -> crate::Result<T>,
) -> crate::Result<Vec<String>> {
    let (required, optional) = used;
    if !required.iter().chain(&optional).all(|c| available.contains(c)) {
        if let Err(e @ (crate::Error::MissingColumn { .. } | crate::Error::ColumnType { .. })) = in_memory() {
            return Err(e);
        }
    }
    Ok(required.into_iter().chain(optional).filter(|c| available.contains(c)).collect())
}

/// Progress of a streamed run (the CLI shows a bar; the library's default shows nothing).
pub trait Progress: Sync {
    /// Pass `pass` of `passes` starts (`what` names it).
    fn start_pass(&self, _pass: usize, _passes: usize, _what: &str) {}
    /// `rows` more rows were processed in the current pass.
    fn rows(&self, _rows: u64) {}
}

/// No progress display.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
