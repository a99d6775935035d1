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

/// Writes a CSV table to stdout, cells that would start a spreadsheet formula neutralized.
pub fn print_csv(frame: DataFrame) -> Result<()> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let written = CsvWriter::new(&mut lock).finish(&mut payequity::data::csv_safe(&frame)?);
    match written.map_err(|e| e.to_string()).and_then(|()| lock.flush().map_err(|e| e.to_string())) {
        Ok(()) => Ok(()),
        Err(reason) if reason.contains("Broken pipe") => std::process::exit(0),
        Err(reason) => Err(Error::Io { path: "<stdout>".into(), reason }),
    }
}

/// Writes text to stdout for a terminal: control characters and direction overrides in labels become `?`
/// ([`payequity::data::terminal_safe`]). A closed pipe (`payequity … | head`) ends the output quietly; any
/// other write error (a full disk) is an error naming stdout, never a panic.
pub fn emit(text: &str) -> Result<()> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let written = lock.write_all(payequity::data::terminal_safe(text).as_bytes()).and_then(|()| lock.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::Io { path: "<stdout>".into(), reason: e.to_string() }),
    }
}

/// [`emit`] with a newline.
pub fn emit_line(text: &str) -> Result<()> {
    emit(&format!("{text}\n"))
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
