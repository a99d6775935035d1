//! Output formats of the CLI (`--format table|json|csv`) and the progress spinner.

use std::io::Write;
use std::time::Duration;

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use payequity::polars::prelude::{CsvWriter, DataFrame, SerWriter};
use payequity::{Error, Result};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned human-readable table with a ledger footnote.
    Table,
    /// The JSON document of shared/spec/interfaces.md.
    Json,
    /// One flat CSV table.
    Csv,
}

/// Writes a CSV table to stdout.
pub fn print_csv(mut frame: DataFrame) -> Result<()> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    CsvWriter::new(&mut lock).finish(&mut frame)?;
    lock.flush().map_err(|e| Error::Io { path: "<stdout>".into(), reason: e.to_string() })
}

/// A spinner on stderr for a step of work; hidden with `--quiet` or when stderr is not a terminal.
pub fn spinner(message: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
