//! The library's one error type: every variant names what was wrong (column, row, key, value) and
//! [`Error::hint`] says what to do about it.

use std::fmt::Write as _;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, with enough context for the user to fix the input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A column named for a role or an analysis is not in the table.
    #[error("column `{column}` ({role}) is not in the data; available columns: {}", available.join(", "))]
    MissingColumn { column: String, role: String, available: Vec<String> },

    /// A column exists but its type cannot serve its role.
    #[error("column `{column}` ({role}) has type {dtype}, but a {expected} column is needed")]
    ColumnType { column: String, role: String, dtype: String, expected: String },

    /// A single value that makes the input unusable.
    #[error("column `{column}`, row {row}: {reason} (value: {value})")]
    InvalidValue { column: String, row: usize, value: String, reason: String },

    /// Strict mode: rows would have been excluded.
    #[error(
        "strict mode: {count} row(s) would be excluded as `{reason}` (column `{column}`); first offending row(s): {}",
        format_rows(rows)
    )]
    Strict { reason: String, column: String, count: u64, rows: Vec<u64> },

    /// A configuration key is missing, unknown or has a bad value.
    #[error("{file}: key `{key}`: {reason}")]
    Config { file: String, key: String, reason: String },

    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },

    /// An output file or folder could not be written.
    #[error("{path}: cannot write there: {reason}")]
    Output { path: String, reason: String },

    /// Options that contradict each other or the data (e.g. an unknown measure).
    #[error("{0}")]
    Invalid(String),

    /// An error raised inside polars while evaluating the data pipeline.
    #[error("data engine: {0}")]
    Polars(#[from] polars::error::PolarsError),
}

/// The roles of the config's `[columns]` table, each with a `--ROLE-column` CLI flag.
const COLUMN_ROLES: [&str; 6] = ["employee_id", "gender", "period", "pay", "hours", "weight"];

fn format_rows(rows: &[u64]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{row}");
    }
    out
}

impl Error {
    /// A one-line suggestion that the CLI prints after the message and Python appends to the exception.
    pub fn hint(&self) -> Option<String> {
        match self {
            // The roles of `[columns]` have a `--ROLE-column` flag; the others are named by their own option.
            Error::MissingColumn { role, .. } if COLUMN_ROLES.contains(&role.as_str()) => Some(format!(
                "map the {role} role to one of the available columns (CLI `--{}-column NAME`, config `[columns] {role} = \"NAME\"`, Python `{role}=\"NAME\"`)",
                role.replace('_', "-")
            )),
            Error::MissingColumn { role, .. } => Some(format!(
                "name one of the available columns as the {role} (column names are case-sensitive)"
            )),
            Error::ColumnType { expected, .. } => Some(format!(
                "convert the column to {expected} values (no thousands separators or currency signs), or map the role to another column"
            )),
            Error::InvalidValue { .. } => Some("correct the value in the input file".into()),
            Error::Strict { .. } => Some(
                "fix the rows listed, or run without --strict / strict=False to exclude them and count them in the ledger"
                    .into(),
            ),
            Error::Config { .. } => Some("see the config schema in docs/config.md".into()),
            Error::Io { path, .. } => Some(io_hint(path).into()),
            Error::Output { .. } => Some(
                "choose a folder you can write to (CLI `--out DIR`, Python `out=`); an existing pack there is replaced, other files are kept"
                    .into(),
            ),
            Error::Invalid(_) | Error::Polars(_) => None,
        }
    }

    /// The Python exception class this error maps to (`payequity.InputError`, ...).
    pub fn python_class(&self) -> &'static str {
        match self {
            Error::Config { .. } => "ConfigError",
            Error::Strict { .. } => "StrictModeError",
            Error::Io { .. } => "InputError",
            Error::MissingColumn { .. } | Error::ColumnType { .. } | Error::InvalidValue { .. } => "InputError",
            Error::Output { .. } | Error::Invalid(_) | Error::Polars(_) => "PayEquityError",
        }
    }
}

/// The hint of a file that could not be read or written, by what the file is: a payroll table, a TOML or
/// JSON file of settings (config, scheme, rule set), a CSV of ratings or rules, or standard output.
fn io_hint(path: &str) -> &'static str {
    let extension = std::path::Path::new(path).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        _ if path == "-" || path == "stdout" || path == "<stdout>" => {
            "the output could not be written: check that the pipe or terminal is still open and the disk has room"
        }
        _ if path == "<stdin>" => "standard input is read as one Arrow IPC stream (`… | payequity gap - …`)",
        Some("toml") | Some("json") => {
            "check the path of the settings file (config, job-evaluation scheme or rule set) and that it is UTF-8 text"
        }
        _ => "check the path and that the file is Parquet (.parquet), Arrow IPC (.arrow, .ipc, .feather) or CSV (.csv)",
    }
}

#[cfg(test)]
mod hint_tests {
    use super::*;

    #[test]
    fn io_hints_fit_the_file() {
        let io = |path: &str| Error::Io { path: path.into(), reason: "not found".into() }.hint().unwrap();
        assert!(io("payroll.parquet").contains("Parquet"));
        assert!(io("payroll/").contains("Parquet"));
        assert!(io("audit.toml").contains("settings file") && !io("audit.toml").contains("Parquet"));
        assert!(io("rules.JSON").contains("settings file"));
        assert!(io("-").contains("output could not be written"));
        assert!(io("<stdin>").contains("Arrow IPC stream"));
    }
}
