//! Input sources of the streaming front end: one file, a glob (`payroll/*.parquet`) or a directory of
//! Parquet / Arrow IPC / CSV files, with hive-style folders (`year=2025/`) turned into columns. Resolving a
//! source lists its files in a fixed order and checks that they share one schema, so every later pass
//! sees the same rows in the same order.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::data::{format_of, io_error, table_schema, FileFormat};
use crate::{Error, Result};

/// Files a directory may hold besides payroll files (Spark and Hadoop markers, hidden files).
fn ignored(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

/// One file of a source.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub(crate) format: FileFormat,
    /// Hive partition values of the file's folders (`year=2025` → (`year`, `2025`)), in folder order.
    pub hive: Vec<(String, String)>,
}

/// A resolved input: its files in reading order and the schema they share (hive columns last).
#[derive(Debug, Clone)]
pub struct Source {
    /// What the user gave (for messages).
    pub input: String,
    pub files: Vec<SourceFile>,
    /// Columns of the files followed by the hive columns.
    pub schema: Schema,
    /// Hive partition columns (typed Int64 when every value is an integer, else String).
    pub hive_columns: Vec<(String, DataType)>,
}

fn has_glob(input: &str) -> bool {
    input.contains(['*', '?', '['])
}

/// Payroll files under `dir`, recursively, in path order; folder symlinks are not followed (no loops).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if ignored(&name) {
            continue;
        }
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io_error(&path, e))?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else if format_of(&path).is_ok() {
            out.push(path);
        }
    }
    Ok(())
}

/// `key=value` folders between `root` and the file.
fn hive_parts(root: &Path, file: &Path) -> Vec<(String, String)> {
    let relative = file.strip_prefix(root).unwrap_or(file);
    let folders: Vec<_> = relative.parent().map(|p| p.components().collect()).unwrap_or_default();
    folders
        .iter()
        .filter_map(|c| {
            let text = c.as_os_str().to_string_lossy();
            let (key, value) = text.split_once('=')?;
            (!key.is_empty()).then(|| (key.to_string(), value.to_string()))
        })
        .collect()
}

/// The fixed root of a glob pattern: its folders up to the first one with a wildcard.
fn glob_root(pattern: &str) -> PathBuf {
    let mut root = PathBuf::new();
    for part in Path::new(pattern).components() {
        if has_glob(&part.as_os_str().to_string_lossy()) {
            break;
        }
        root.push(part);
    }
    root
}

impl Source {
    /// Resolves `input` (a file, a directory or a glob) to its files and checks their schemas agree.
    pub fn resolve(input: &str) -> Result<Source> {
        let path = Path::new(input);
        let (root, paths) = if has_glob(input) && !path.exists() {
            let matches = glob::glob(input)
                .map_err(|e| Error::Io { path: input.into(), reason: format!("not a valid glob pattern: {e}") })?;
            let mut paths = Vec::new();
            for entry in matches {
                let entry = entry.map_err(|e| io_error(e.path(), e.error()))?;
                if entry.is_file() && format_of(&entry).is_ok() {
                    paths.push(entry);
                }
            }
            paths.sort();
            if paths.is_empty() {
                return Err(Error::Io {
                    path: input.into(),
                    reason: "the glob matches no .parquet, .arrow/.ipc/.feather or .csv file".into(),
                });
            }
            (glob_root(input), paths)
        } else if path.is_dir() {
            let mut paths = Vec::new();
            walk(path, &mut paths)?;
            if paths.is_empty() {
                return Err(Error::Io {
                    path: input.into(),
                    reason: "the directory holds no .parquet, .arrow/.ipc/.feather or .csv file".into(),
                });
            }
            (path.to_path_buf(), paths)
        } else {
            format_of(path)?;
            if !path.is_file() {
                return Err(io_error(path, "no such file or directory"));
            }
            (PathBuf::new(), vec![path.to_path_buf()])
        };
        let files: Vec<SourceFile> = paths
            .into_iter()
            .map(|p| Ok(SourceFile { format: format_of(&p)?, hive: hive_parts(&root, &p), path: p }))
            .collect::<Result<_>>()?;
        let (schema, hive_columns) = shared_schema(&files)?;
        Ok(Source { input: input.into(), files, schema, hive_columns })
    }

    /// Resolves several inputs (each a file, a directory or a glob) as one source: their files in the
    /// order given, sharing one schema.
    pub fn resolve_all(inputs: &[String]) -> Result<Source> {
        let mut sources = inputs.iter().map(|i| Source::resolve(i)).collect::<Result<Vec<_>>>()?;
        if sources.len() == 1 {
            return Ok(sources.remove(0));
        }
        let files: Vec<SourceFile> = sources.into_iter().flat_map(|s| s.files).collect();
        if files.is_empty() {
            return Err(Error::Io { path: inputs.join(", "), reason: "no input file".into() });
        }
        let (schema, hive_columns) = shared_schema(&files)?;
        Ok(Source { input: inputs.join(", "), files, schema, hive_columns })
    }

    /// Column names of the source (file columns, then hive columns).
    pub fn column_names(&self) -> Vec<String> {
        self.schema.iter_names().map(|n| n.to_string()).collect()
    }

    /// An empty frame with the source's schema (for plans that check column types before any row is read).
    pub fn empty_frame(&self) -> DataFrame {
        DataFrame::empty_with_schema(&self.schema)
    }

    /// Total size of the files in bytes (the CLI compares it with the memory limit).
    pub fn bytes(&self) -> u64 {
        self.files.iter().filter_map(|f| std::fs::metadata(&f.path).ok()).map(|m| m.len()).sum()
    }
}

/// The schema every file must share. Parquet and IPC types must agree exactly; CSV types are inferred per
/// file, so numeric columns widen to their common type and a text column stays text.
fn shared_schema(files: &[SourceFile]) -> Result<(Schema, Vec<(String, DataType)>)> {
    let first = &files[0];
    let mut schema = table_schema(&first.path)?;
    let keys: Vec<String> = first.hive.iter().map(|(k, _)| k.clone()).collect();
    for file in &files[1..] {
        let other = table_schema(&file.path)?;
        let names = |s: &Schema| s.iter_names().map(|n| n.to_string()).collect::<Vec<_>>();
        if names(&other) != names(&schema) {
            return Err(Error::Io {
                path: file.path.display().to_string(),
                reason: format!(
                    "its columns ({}) differ from those of {} ({}); every file of one input must have the same columns",
                    names(&other).join(", "),
                    first.path.display(),
                    names(&schema).join(", ")
                ),
            });
        }
        let file_keys: Vec<String> = file.hive.iter().map(|(k, _)| k.clone()).collect();
        if file_keys != keys {
            return Err(Error::Io {
                path: file.path.display().to_string(),
                reason: format!(
                    "its partition folders ({}) differ from those of {} ({})",
                    file_keys.join("/"),
                    first.path.display(),
                    keys.join("/")
                ),
            });
        }
        for ((name, dtype), (_, theirs)) in schema.clone().iter().zip(other.iter()) {
            if dtype == theirs {
                continue;
            }
            let widened = match first.format {
                FileFormat::Csv => widen(dtype, theirs),
                _ => None,
            };
            match widened {
                Some(common) => {
                    schema.with_column(name.clone(), common);
                }
                None => {
                    return Err(Error::Io {
                        path: file.path.display().to_string(),
                        reason: format!(
                            "column `{name}` has type {theirs} here but {dtype} in {}; every file must give a column one type",
                            first.path.display()
                        ),
                    })
                }
            }
        }
    }
    let mut hive_columns = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if schema.contains(key) {
            return Err(Error::Io {
                path: first.path.display().to_string(),
                reason: format!("partition folder `{key}=...` names a column the files already have"),
            });
        }
        let integer = files.iter().all(|f| f.hive[i].1.parse::<i64>().is_ok());
        let dtype = if integer { DataType::Int64 } else { DataType::String };
        schema.with_column(key.as_str().into(), dtype.clone());
        hive_columns.push((key.clone(), dtype));
    }
    Ok((schema, hive_columns))
}

/// The common type of a CSV column inferred differently in two files.
fn widen(a: &DataType, b: &DataType) -> Option<DataType> {
    if a.is_null() {
        return Some(b.clone());
    }
    if b.is_null() {
        return Some(a.clone());
    }
    if a.is_primitive_numeric() && b.is_primitive_numeric() {
        return Some(DataType::Float64);
    }
    if a.is_string() || b.is_string() {
        return Some(DataType::String);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_parts_read_key_value_folders() {
        let parts = hive_parts(Path::new("/data"), Path::new("/data/year=2025/region=N/part-0.parquet"));
        assert_eq!(parts, vec![("year".into(), "2025".into()), ("region".into(), "N".into())]);
        assert!(hive_parts(Path::new("/data"), Path::new("/data/plain/part.parquet")).is_empty());
    }

    #[test]
    fn glob_root_stops_at_the_first_wildcard() {
        assert_eq!(glob_root("/data/payroll/*/x.parquet"), PathBuf::from("/data/payroll"));
        assert_eq!(glob_root("p*.csv"), PathBuf::new());
    }

    #[test]
    fn csv_types_widen_to_a_common_type() {
        assert_eq!(widen(&DataType::Int64, &DataType::Float64), Some(DataType::Float64));
        assert_eq!(widen(&DataType::Int64, &DataType::String), Some(DataType::String));
        assert_eq!(widen(&DataType::Null, &DataType::Int64), Some(DataType::Int64));
        assert_eq!(widen(&DataType::Boolean, &DataType::Int64), None);
    }
}
