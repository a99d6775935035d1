//! The entitlement audit of streamed input in bounded memory.
//!
//! Caps run over each worker's periods in time order, so the audit needs all of a worker's rows together.
//! Pass 1 spills the rows (only the columns the audit reads, with their input row number) into partitions
//! of whole workers, by a hash of the employee id, as Arrow IPC files in a private temporary folder; pass 2
//! audits one partition at a time with the in-memory code ([`audit_chunk`]) and adds its sums. The folder
//! is removed when the run ends, also on error. Peak memory is one partition (rows / partitions) plus the
//! arrears table (the lines owed, the result itself).

use std::fs::File;
use std::hash::BuildHasher;
use std::io::BufWriter;
use std::path::PathBuf;

use foldhash::fast::FixedState;
use polars::prelude::*;

use super::batches::{for_each_batch, Projection};
use super::source::Source;
use super::units::COL_INPUT_ROW;
use super::{Progress, StreamOptions};
use crate::entitlements::{
    audit_chunk, audit_document, audit_entitlements, columns_needed, compile_rules, sort_arrears, AuditSums,
    EntitlementAudit, EntitlementOptions, RuleSet,
};
use crate::{Error, Result};

/// Bytes of memory the in-memory audit needs per byte of input file (columns, lines and working copies).
const MEMORY_PER_FILE_BYTE: u64 = 32;

/// The partition of a worker: a hash of the id's text (nulls together).
fn partition_of(id: Option<&str>, partitions: usize) -> usize {
    (FixedState::with_seed(0x6175_6469_7473).hash_one(id.unwrap_or("\u{0}null")) % partitions as u64) as usize
}

/// Partitions needed for a partition to fit in half the memory limit.
fn partition_count(source: &Source, stream: &StreamOptions) -> usize {
    let need = source.bytes().saturating_mul(MEMORY_PER_FILE_BYTE);
    (need.div_ceil((stream.memory_limit / 2).max(1)) as usize).clamp(1, 4096)
}

/// A spill file that cannot be written or read (a full disk, a removed temporary folder).
fn spill_error(path: &std::path::Path, error: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: format!("the audit's temporary partition file: {error} (set TMPDIR to a folder with room)"),
    }
}

/// Audit errors name rows of the partition: give the input row (its `__pe_row`) instead.
pub(super) fn input_row_error(error: Error, chunk: &DataFrame) -> Error {
    match error {
        Error::InvalidValue { column, row, value, reason } => {
            let input_row = chunk
                .column(COL_INPUT_ROW)
                .ok()
                .and_then(|c| c.get(row).ok())
                .and_then(|v| v.extract::<u64>())
                .map_or(row, |r| r as usize);
            Error::InvalidValue { column, row: input_row, value, reason }
        }
        other => other,
    }
}

/// The entitlement audit of streamed input: the same document as [`audit_entitlements`] on the
/// concatenated rows, the arrears table in the same order.
pub fn audit_source(
    source: &Source,
    rules: &RuleSet,
    options: &EntitlementOptions,
    stream: &StreamOptions,
    progress: &dyn Progress,
) -> Result<EntitlementAudit> {
    // Columns and rules are checked against the schema first, with the in-memory messages.
    let empty = source.empty_frame();
    audit_entitlements(&empty, rules, options)?;
    let mut wanted = columns_needed(empty.schema(), rules, options)?;
    wanted.retain(|c| empty.column(c).is_ok());
    let employee_id = options.columns.employee_id.clone().unwrap_or_else(|| "employee_id".into());
    let partitions = partition_count(source, stream);
    let folder = tempfile::Builder::new()
        .prefix("payequity-audit-")
        .tempdir()
        .map_err(|e| Error::Invalid(format!("cannot create a temporary folder for the audit's partitions: {e}")))?;
    let projection = Projection::new(source, Some(&wanted));

    // Pass 1: rows to the partitions of their workers (a file per partition and batch).
    progress.start_pass(1, 2, "partitioning workers");
    let mut files: Vec<Vec<PathBuf>> = vec![Vec::new(); partitions];
    for_each_batch(source, &projection, stream.rows_per_batch(wanted.len()), |batch| {
        let frame = batch.frame.with_row_index(COL_INPUT_ROW.into(), Some(batch.offset as IdxSize))?;
        let ids = frame.column(&employee_id)?.cast(&DataType::String)?;
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

    // Pass 2: each partition audited in memory (rows in input order), its sums added.
    progress.start_pass(2, 2, "auditing workers");
    let compiled = compile_rules(empty.schema(), rules, options)?;
    let mut total = AuditSums::default();
    let mut arrears: Vec<DataFrame> = Vec::new();
    for paths in files.iter().filter(|f| !f.is_empty()) {
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
        let (sums, owed) = audit_chunk(&chunk, rules, &compiled, options).map_err(|e| input_row_error(e, &chunk))?;
        total = total.merge(sums);
        arrears.push(owed);
        progress.rows(chunk.height() as u64);
    }
    if total.ledger.read == 0 {
        // No rows: the in-memory document of the empty table.
        return audit_entitlements(&empty, rules, options);
    }
    let mut table = arrears.into_iter().reduce(|mut a, b| {
        a.vstack_mut_owned(b).expect("arrears tables share their columns");
        a
    });
    if let Some(t) = table.as_mut() {
        t.rechunk_mut();
    }
    let table = sort_arrears(table.expect("a partition was audited"))?;
    Ok(audit_document(total, table, rules, options))
}
