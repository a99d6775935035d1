//! Loading payroll tables into polars from Parquet, Arrow IPC / Feather and CSV (chosen by file extension),
//! and writing tables back out in the same formats.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use crate::{Error, Result};

/// The file formats payequity reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileFormat {
    Parquet,
    Ipc,
    Csv,
}

pub(crate) fn format_of(path: &Path) -> Result<FileFormat> {
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

/// Runs a file reader, turning a panic inside it into an input error naming the file: polars panics on some
/// damaged Parquet and Arrow IPC files (found by `tests/fuzz.rs`) instead of returning an error.
pub(crate) fn guarded<T>(path: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown failure");
        Err(Error::Io {
            path: path.display().to_string(),
            reason: format!(
                "the file is damaged or not in the format its extension says (the reader stopped: {})",
                super::terminal_safe(message).chars().take(200).collect::<String>()
            ),
        })
    })
}

pub(crate) fn io_error(path: &Path, err: impl std::fmt::Display) -> Error {
    Error::Io { path: path.display().to_string(), reason: err.to_string() }
}

/// Reads a whole payroll table. CSV files must have a header row; empty fields are nulls; column types
/// come from every row ([`csv_types`]).
pub fn load_table(path: impl AsRef<Path>) -> Result<DataFrame> {
    let path = path.as_ref();
    guarded(path, || load_table_unguarded(path))
}

fn load_table_unguarded(path: &Path) -> Result<DataFrame> {
    let format = format_of(path)?;
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let frame = match format {
        FileFormat::Parquet => {
            super::check_parquet_pages(path)?;
            ParquetReader::new(file).finish()
        }
        FileFormat::Ipc => {
            super::check_ipc_buffers(path)?;
            IpcReader::new(file).finish()
        }
        FileFormat::Csv => {
            return csv_text_reader(file, None, None)
                .finish()
                .map_err(|e| io_error(path, e))
                .and_then(|f| csv_types(f, path))
        }
    };
    frame.map_err(|e| io_error(path, e))
}

/// A CSV reader that reads every field as text (types are decided afterwards by [`csv_types`]).
fn csv_text_reader(file: File, rows: Option<usize>, columns: Option<Vec<String>>) -> CsvReader<File> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_n_rows(rows)
        .with_columns(columns.map(|c| c.iter().map(|n| n.as_str().into()).collect()))
        .into_reader_with_file_handle(file)
}

/// The types of CSV columns read as text, decided over every row: a column whose every non-empty value is an
/// integer is Int64, a number Float64 (`NaN`, `inf` included), `true`/`false` Boolean, anything else text.
/// A column with a number written with a leading zero (`007`, `-01`) stays text, so ids keep their zeros
/// (`007` and `7` are two employees). A repeated header name (polars renames it `name_duplicated_0`) is an
/// error: a second `pay` column would otherwise be read silently.
pub fn csv_types(frame: DataFrame, path: &Path) -> Result<DataFrame> {
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    if let Some(twice) = names.iter().find_map(|n| n.split_once("_duplicated_").map(|(base, _)| base)) {
        return Err(Error::Invalid(format!(
            "{}: the header names the column `{}` more than once: rename or remove the repeated column",
            path.display(),
            super::terminal_safe(twice).chars().take(60).collect::<String>()
        )));
    }
    let mut columns = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let Ok(text) = column.str() else {
            columns.push(column.clone());
            continue;
        };
        let values = || text.iter().flatten().map(str::trim).filter(|v| !v.is_empty());
        let dtype = if values().next().is_none() || values().any(leading_zero) {
            None
        } else if values().all(|v| v.parse::<i64>().is_ok()) {
            Some(DataType::Int64)
        } else if values().all(|v| v.parse::<f64>().is_ok()) {
            Some(DataType::Float64)
        } else if values().all(is_flag) {
            Some(DataType::Boolean)
        } else {
            None
        };
        columns.push(match dtype {
            Some(dtype) => typed_text(column, text, &dtype)?,
            None => column.clone(),
        });
    }
    Ok(DataFrame::new(frame.height(), columns)?)
}

/// A number written with a leading zero (`007`, `-01`): an id or a code, kept as text.
fn leading_zero(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    digits.len() > 1 && digits.starts_with('0') && digits.as_bytes()[1].is_ascii_digit()
}

fn is_flag(value: &str) -> bool {
    value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
}

/// A text column in `dtype` (Int64, Float64 or Boolean; values trimmed, empty values null).
fn typed_text(column: &Column, text: &StringChunked, dtype: &DataType) -> Result<Column> {
    let trimmed = || text.iter().map(|v| v.map(str::trim).filter(|v| !v.is_empty()));
    Ok(if *dtype == DataType::Boolean {
        let flags: BooleanChunked = trimmed().map(|v| v.map(|v| v.eq_ignore_ascii_case("true"))).collect();
        flags.with_name(column.name().clone()).into_column()
    } else {
        let trimmed: StringChunked = trimmed().collect();
        trimmed.with_name(column.name().clone()).into_column().strict_cast(dtype)?
    })
}

/// One chunk of a streamed CSV, read as text, in the types `schema` decided from the file's first rows
/// ([`table_schema`]). A later value that does not fit (text in a numeric column, or a leading zero that would
/// turn the id `007` into 7) is an error naming the column, its input row (`first_row`: the 1-based row of
/// the chunk's first record) and the value, never a silent change.
pub fn csv_cast(frame: DataFrame, schema: &Schema, path: &Path, first_row: u64) -> Result<DataFrame> {
    let mut columns = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let (Ok(text), Some(dtype)) = (column.str(), schema.get(column.name())) else {
            columns.push(column.clone());
            continue;
        };
        if !matches!(dtype, DataType::Int64 | DataType::Float64 | DataType::Boolean) {
            columns.push(column.clone());
            continue;
        }
        let fits = |v: &str| match dtype {
            DataType::Int64 => !leading_zero(v) && v.parse::<i64>().is_ok(),
            DataType::Float64 => !leading_zero(v) && v.parse::<f64>().is_ok(),
            _ => is_flag(v),
        };
        let misfit = text.iter().enumerate().find_map(|(row, v)| {
            let v = v.map(str::trim).filter(|v| !v.is_empty())?;
            (!fits(v)).then(|| (row, v.to_string()))
        });
        if let Some((row, value)) = misfit {
            return Err(Error::Invalid(format!(
                "{}: column `{}` row {}: `{}` is not {} as the file's first 100,000 rows are; hint: quote the \
                 column's values consistently, or convert the file to Parquet with the column's type stated",
                path.display(),
                super::terminal_safe(column.name()),
                first_row + row as u64,
                super::terminal_safe(&value).chars().take(40).collect::<String>(),
                match dtype {
                    DataType::Int64 => "a whole number",
                    DataType::Float64 => "a number",
                    _ => "true or false",
                }
            )));
        }
        columns.push(typed_text(column, text, dtype)?);
    }
    Ok(DataFrame::new(frame.height(), columns)?)
}

/// Column names of a payroll file, read from its footer (Parquet, IPC) or header row (CSV).
pub fn table_columns(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    guarded(path, || table_columns_unguarded(path))
}

fn table_columns_unguarded(path: &Path) -> Result<Vec<String>> {
    let format = format_of(path)?;
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let names: PolarsResult<Vec<String>> = match format {
        FileFormat::Parquet => {
            ParquetReader::new(file).schema().map(|s| s.iter_names().map(|n| n.to_string()).collect())
        }
        FileFormat::Ipc => IpcReader::new(file).schema().map(|s| s.iter_names().map(|n| n.to_string()).collect()),
        FileFormat::Csv => csv_text_reader(file, Some(1), None)
            .finish()
            .map(|f| f.get_column_names().iter().map(|n| n.to_string()).collect()),
    };
    let names = names.map_err(|e| io_error(path, e))?;
    if format == FileFormat::Csv {
        let header =
            DataFrame::new(0, names.iter().map(|n| Column::new_empty(n.as_str().into(), &DataType::String)).collect())?;
        csv_types(header, path)?;
    }
    Ok(names)
}

/// The schema (names and types) of a payroll file without reading its rows: from the footer (Parquet,
/// IPC) or, for CSV, from the types of its first 100,000 rows ([`csv_types`]; [`load_table`] decides them
/// over every row).
pub fn table_schema(path: impl AsRef<Path>) -> Result<Schema> {
    let path = path.as_ref();
    guarded(path, || table_schema_unguarded(path))
}

fn table_schema_unguarded(path: &Path) -> Result<Schema> {
    let format = format_of(path)?;
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let schema: PolarsResult<Schema> = match format {
        FileFormat::Parquet => ParquetReader::new(file).schema().map(|s| Schema::from_arrow_schema(s.as_ref())),
        FileFormat::Ipc => IpcReader::new(file).schema().map(|s| Schema::from_arrow_schema(s.as_ref())),
        FileFormat::Csv => {
            let head = csv_text_reader(file, Some(100_000), None).finish().map_err(|e| io_error(path, e))?;
            return Ok(csv_types(head, path)?.schema().as_ref().clone());
        }
    };
    schema.map_err(|e| io_error(path, e))
}

/// Reads only the columns an analysis uses (projection pushdown: Parquet and IPC skip the other column
/// chunks). `required` columns must exist; `optional` ones are read when present. When a required column is
/// missing, the whole table is read so that the analysis reports the error with every available column.
pub fn load_table_columns(path: impl AsRef<Path>, required: &[String], optional: &[String]) -> Result<DataFrame> {
    let path = path.as_ref();
    guarded(path, || load_table_columns_unguarded(path, required, optional))
}

fn load_table_columns_unguarded(path: &Path, required: &[String], optional: &[String]) -> Result<DataFrame> {
    let available = table_columns(path)?;
    if required.iter().any(|c| !available.contains(c)) {
        return load_table(path);
    }
    let mut wanted: Vec<String> = Vec::new();
    for c in required.iter().chain(optional.iter().filter(|c| available.contains(c))) {
        if !wanted.contains(c) {
            wanted.push(c.clone());
        }
    }
    // Keep the file's column order.
    wanted.sort_by_key(|c| available.iter().position(|a| a == c));
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let frame = match format_of(path)? {
        FileFormat::Parquet => {
            super::check_parquet_pages(path)?;
            ParquetReader::new(file).with_columns(Some(wanted)).finish()
        }
        FileFormat::Ipc => {
            super::check_ipc_buffers(path)?;
            IpcReader::new(file).with_columns(Some(wanted)).finish()
        }
        FileFormat::Csv => {
            let text = csv_text_reader(file, None, Some(wanted)).finish().map_err(|e| io_error(path, e))?;
            return csv_types(text, path);
        }
    };
    frame.map_err(|e| io_error(path, e))
}

/// Reads an Arrow IPC file or stream held in memory (the CLI's `-` input reads stdin this way).
pub fn load_table_from_ipc_bytes(bytes: Vec<u8>) -> Result<DataFrame> {
    guarded(Path::new("<stdin>"), || load_ipc_bytes_unguarded(bytes))
}

fn load_ipc_bytes_unguarded(bytes: Vec<u8>) -> Result<DataFrame> {
    let is_file = bytes.starts_with(b"ARROW1");
    let cursor = Cursor::new(bytes);
    let frame = if is_file { IpcReader::new(cursor).finish() } else { IpcStreamReader::new(cursor).finish() };
    frame.map_err(|e| Error::Io { path: "<stdin>".into(), reason: e.to_string() })
}

/// Writes a table; the format follows the extension (Parquet with zstd compression). CSV cells that would
/// start a spreadsheet formula are neutralized ([`super::csv_safe`]); Parquet and Arrow keep raw values.
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
        FileFormat::Csv => CsvWriter::new(file).finish(&mut super::csv_safe(frame)?),
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
    fn projection_reads_only_used_columns_and_falls_back_when_one_is_missing() {
        let dir = std::env::temp_dir().join(format!("payequity-proj-{}", std::process::id()));
        let mut frame = df!("gender" => ["F", "M"], "pay" => [1.5, 2.5], "unit" => ["a", "b"]).unwrap();
        for ext in ["parquet", "arrow", "csv"] {
            let path = dir.join(format!("t.{ext}"));
            write_table(&mut frame, &path).unwrap();
            assert_eq!(table_columns(&path).unwrap(), vec!["gender", "pay", "unit"]);
            let req = vec!["pay".to_string(), "gender".to_string()];
            let projected = load_table_columns(&path, &req, &["hours".to_string()]).unwrap();
            assert_eq!(projected.get_column_names(), vec!["gender", "pay"], "{ext}");
            let full = load_table_columns(&path, &["salary".to_string()], &[]).unwrap();
            assert_eq!(full.width(), 3);
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
