//! Loading payroll tables into polars from Parquet, Arrow IPC / Feather and CSV (chosen by file extension),
//! and writing tables back out in the same formats.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use crate::{Error, Result};

/// The file formats payequity reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileFormat {
    Parquet,
    Ipc,
    Csv,
}

fn format_of(path: &Path) -> Result<FileFormat> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "parquet" | "pq" => Ok(FileFormat::Parquet),
        "arrow" | "ipc" | "feather" => Ok(FileFormat::Ipc),
        "csv" | "txt" => Ok(FileFormat::Csv),
        _ => Err(Error::Io {
            path: path.display().to_string(),
            reason: format!("unknown file extension `.{ext}`; expected .parquet, .arrow/.ipc/.feather or .csv"),
        }),
    }
}

fn io_error(path: &Path, err: impl std::fmt::Display) -> Error {
    Error::Io { path: path.display().to_string(), reason: err.to_string() }
}

/// Reads a whole payroll table. CSV files must have a header row; empty fields are nulls.
pub fn load_table(path: impl AsRef<Path>) -> Result<DataFrame> {
    let path = path.as_ref();
    let format = format_of(path)?;
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let frame = match format {
        FileFormat::Parquet => ParquetReader::new(file).finish(),
        FileFormat::Ipc => IpcReader::new(file).finish(),
        FileFormat::Csv => CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(100_000))
            .into_reader_with_file_handle(file)
            .finish(),
    };
    frame.map_err(|e| io_error(path, e))
}

/// Reads an Arrow IPC file or stream held in memory (the CLI's `-` input reads stdin this way).
pub fn load_table_from_ipc_bytes(bytes: Vec<u8>) -> Result<DataFrame> {
    let is_file = bytes.starts_with(b"ARROW1");
    let cursor = Cursor::new(bytes);
    let frame = if is_file { IpcReader::new(cursor).finish() } else { IpcStreamReader::new(cursor).finish() };
    frame.map_err(|e| Error::Io { path: "<stdin>".into(), reason: e.to_string() })
}

/// Writes a table; the format follows the extension (Parquet with zstd compression).
pub fn write_table(frame: &mut DataFrame, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let format = format_of(path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    }
    let file = File::create(path).map_err(|e| io_error(path, e))?;
    let written = match format {
        FileFormat::Parquet => {
            ParquetWriter::new(file).with_compression(ParquetCompression::Zstd(None)).finish(frame).map(|_| ())
        }
        FileFormat::Ipc => IpcWriter::new(file).finish(frame),
        FileFormat::Csv => CsvWriter::new(file).finish(frame),
    };
    written.map_err(|e| io_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_format() {
        let dir = std::env::temp_dir().join(format!("payequity-load-{}", std::process::id()));
        let mut frame = df!("gender" => ["F", "M"], "pay" => [1.5, 2.5]).unwrap();
        for ext in ["parquet", "arrow", "csv"] {
            let path = dir.join(format!("t.{ext}"));
            write_table(&mut frame, &path).unwrap();
            let back = load_table(&path).unwrap();
            assert!(back.equals(&frame), "{ext}: {back:?}");
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn unknown_extension_names_the_file() {
        let err = load_table("payroll.xlsx").unwrap_err().to_string();
        assert!(err.contains("payroll.xlsx") && err.contains(".xlsx"), "{err}");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        assert!(matches!(load_table("/nonexistent/p.parquet"), Err(Error::Io { .. })));
    }
}
