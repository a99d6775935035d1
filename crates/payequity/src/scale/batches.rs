//! Record batches of a [`Source`], in file order, with projection (only the columns an analysis reads):
//! Parquet by row-group slices, Arrow IPC by slices of the projected file, CSV by chunks of whole records
//! parsed with the source's schema. Each batch knows the 0-based input row of its first row, so row numbers
//! in messages, duplicate checks and bootstrap draws are those of the whole input. A reader thread keeps
//! one batch ahead of the computation.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor};
use std::sync::mpsc::{sync_channel, Receiver};

use polars::prelude::*;

use super::source::{Source, SourceFile};
use crate::data::{csv_cast, guarded, io_error, FileFormat};
use crate::{Error, Result};

/// Rows of one batch, and what it is.
#[derive(Debug, Clone)]
pub struct Batch {
    pub frame: DataFrame,
    /// 0-based input row of the batch's first row.
    pub offset: u64,
    /// Index of the batch's file in [`Source::files`].
    pub file: usize,
}

/// Which columns to read: the named ones (those the source has), or all.
#[derive(Debug, Clone)]
pub struct Projection {
    file_columns: Option<Vec<String>>,
    hive_columns: Vec<(String, DataType)>,
}

impl Projection {
    /// The columns of `wanted` that `source` has (all columns when `wanted` is `None`), in source order.
    pub fn new(source: &Source, wanted: Option<&[String]>) -> Projection {
        let hive_names: Vec<&String> = source.hive_columns.iter().map(|(n, _)| n).collect();
        let file_columns: Option<Vec<String>> = wanted.map(|wanted| {
            source.column_names().into_iter().filter(|c| wanted.contains(c) && !hive_names.contains(&c)).collect()
        });
        let hive_columns =
            source.hive_columns.iter().filter(|(n, _)| wanted.is_none_or(|w| w.contains(n))).cloned().collect();
        Projection { file_columns, hive_columns }
    }
}

/// The batches of `source` in order, `batch_rows` rows at most each (CSV: about that many), read one ahead
/// on a reader thread.
pub fn read_batches(source: &Source, projection: &Projection, batch_rows: usize) -> Receiver<Result<Batch>> {
    let (sender, receiver) = sync_channel(1);
    let source = source.clone();
    let projection = projection.clone();
    std::thread::spawn(move || {
        let mut offset = 0u64;
        for (index, file) in source.files.iter().enumerate() {
            let sent = guarded(&file.path, || {
                read_file(&source, file, &projection, batch_rows.max(1), &mut |frame| {
                    let rows = frame.height() as u64;
                    let batch = Batch { frame, offset, file: index };
                    offset += rows;
                    sender.send(Ok(batch)).is_ok()
                })
            });
            match sent {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    let _ = sender.send(Err(e));
                    return;
                }
            }
        }
    });
    receiver
}

/// Reads one file, handing each batch to `emit`; `Ok(false)` when the receiver is gone.
fn read_file(
    source: &Source,
    file: &SourceFile,
    projection: &Projection,
    batch_rows: usize,
    emit: &mut dyn FnMut(DataFrame) -> bool,
) -> Result<bool> {
    let path = &file.path;
    let with_hive = |frame: DataFrame| -> Result<DataFrame> { add_hive_columns(frame, file, projection) };
    match file.format {
        FileFormat::Parquet => {
            crate::data::check_parquet_pages(path)?;
            let open = || File::open(path).map_err(|e| io_error(path, e));
            let mut reader = ParquetReader::new(open()?);
            let metadata = reader.get_metadata().map_err(|e| io_error(path, e))?.clone();
            let rows = metadata.num_rows;
            let mut start = 0usize;
            while start < rows {
                let len = batch_rows.min(rows - start);
                let mut reader = ParquetReader::new(open()?)
                    .with_columns(projection.file_columns.clone())
                    .with_slice(Some((start, len)));
                reader.set_metadata(metadata.clone());
                let frame = reader.finish().map_err(|e| io_error(path, e))?;
                if !emit(with_hive(frame)?) {
                    return Ok(false);
                }
                start += len;
            }
            Ok(true)
        }
        FileFormat::Ipc => {
            crate::data::check_ipc_buffers(path)?;
            let file_handle = File::open(path).map_err(|e| io_error(path, e))?;
            let frame = IpcReader::new(file_handle)
                .with_columns(projection.file_columns.clone())
                .finish()
                .map_err(|e| io_error(path, e))?;
            let mut start = 0usize;
            while start < frame.height() {
                let slice = frame.slice(start as i64, batch_rows);
                start += slice.height();
                if !emit(with_hive(slice)?) {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        FileFormat::Csv => read_csv_chunks(source, file, projection, batch_rows, emit),
    }
}

/// Appends the file's hive partition values as constant columns.
fn add_hive_columns(mut frame: DataFrame, file: &SourceFile, projection: &Projection) -> Result<DataFrame> {
    for (name, dtype) in &projection.hive_columns {
        let value = file.hive.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
        let scalar = match dtype {
            DataType::Int64 => Scalar::new(DataType::Int64, AnyValue::Int64(value.parse().unwrap_or(0))),
            _ => Scalar::new(DataType::String, AnyValue::StringOwned(value.into())),
        };
        let column = Column::new_scalar(name.as_str().into(), scalar, frame.height());
        frame.with_column(column)?;
    }
    Ok(frame)
}

/// Bytes of CSV text per chunk (about `batch_rows` rows of 100 bytes).
fn chunk_bytes(batch_rows: usize) -> usize {
    batch_rows.saturating_mul(100).max(1 << 16)
}

/// Reads one CSV record (up to a newline outside quotes) into `out`; false at the end of the file.
fn read_record(reader: &mut impl BufRead, out: &mut Vec<u8>) -> std::io::Result<bool> {
    let start = out.len();
    let mut quotes = 0usize;
    loop {
        let before = out.len();
        if reader.read_until(b'\n', out)? == 0 {
            return Ok(out.len() > start);
        }
        quotes += out[before..].iter().filter(|&&b| b == b'"').count();
        if quotes % 2 == 0 {
            return Ok(true);
        }
    }
}

/// CSV in chunks of whole records, each parsed with the header and the source's column types.
fn read_csv_chunks(
    source: &Source,
    file: &SourceFile,
    projection: &Projection,
    batch_rows: usize,
    emit: &mut dyn FnMut(DataFrame) -> bool,
) -> Result<bool> {
    let path = &file.path;
    let handle = File::open(path).map_err(|e| io_error(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, handle);
    let mut header = Vec::new();
    if !read_record(&mut reader, &mut header).map_err(|e| io_error(path, e))? {
        return Ok(true);
    }
    if !header.ends_with(b"\n") {
        header.push(b'\n');
    }
    let hive: Vec<&String> = source.hive_columns.iter().map(|(n, _)| n).collect();
    let file_schema: Schema = source
        .schema
        .iter()
        .filter(|(n, _)| !hive.contains(&&n.to_string()))
        .map(|(n, d)| (n.clone(), d.clone()))
        .collect();
    // Every field is parsed as text and then cast to the source's types ([`csv_cast`]), so a late value
    // that does not fit is named rather than parsed into something else.
    let text_schema: Schema = file_schema.iter().map(|(n, _)| (n.clone(), DataType::String)).collect();
    let text_schema = Arc::new(text_schema);
    let limit = chunk_bytes(batch_rows);
    let mut records_before = 0u64;
    loop {
        let mut chunk = header.clone();
        let mut records = 0u64;
        while chunk.len() < limit {
            if !read_record(&mut reader, &mut chunk).map_err(|e| io_error(path, e))? {
                break;
            }
            records += 1;
        }
        if records == 0 {
            return Ok(true);
        }
        let mut options = CsvReadOptions::default().with_has_header(true).with_schema(Some(text_schema.clone()));
        if let Some(columns) = &projection.file_columns {
            options = options.with_columns(Some(columns.iter().map(|c| c.as_str().into()).collect()));
        }
        let frame = options.into_reader_with_file_handle(Cursor::new(chunk)).finish().map_err(|e| Error::Io {
            path: path.display().to_string(),
            reason: format!("in records {}-{}: {e}", records_before + 1, records_before + records),
        })?;
        let frame = csv_cast(frame, &file_schema, path, records_before + 1)?;
        records_before += records;
        if !emit(add_hive_columns(frame, file, projection)?) {
            return Ok(false);
        }
    }
}

/// Every batch of `source`, one after the other, handed to `visit` (which may stop with an error).
pub fn for_each_batch(
    source: &Source,
    projection: &Projection,
    batch_rows: usize,
    mut visit: impl FnMut(Batch) -> Result<()>,
) -> Result<()> {
    for batch in read_batches(source, projection, batch_rows) {
        visit(batch?)?;
    }
    Ok(())
}

/// Every batch of `source` stacked into one frame (the in-memory path for inputs of several files that fit
/// the memory limit).
pub fn load_source(source: &Source, projection: &Projection) -> Result<DataFrame> {
    let mut frame: Option<DataFrame> = None;
    for_each_batch(source, projection, 1 << 20, |batch| {
        match frame.as_mut() {
            None => frame = Some(batch.frame),
            Some(all) => {
                all.vstack_mut(&batch.frame).map_err(|e| io_error(&source.files[batch.file].path, e))?;
            }
        }
        Ok(())
    })?;
    let mut frame = frame.unwrap_or_else(|| source.empty_frame());
    frame.rechunk_mut();
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_ends_at_a_newline_outside_quotes() {
        let text = b"a,\"two\nlines\",1\nb,x,2\n";
        let mut reader = Cursor::new(&text[..]);
        let mut out = Vec::new();
        assert!(read_record(&mut reader, &mut out).unwrap());
        assert_eq!(out, b"a,\"two\nlines\",1\n");
        out.clear();
        assert!(read_record(&mut reader, &mut out).unwrap());
        assert_eq!(out, b"b,x,2\n");
        out.clear();
        assert!(!read_record(&mut reader, &mut out).unwrap());
    }
}
