//! Inputs at any size for every analysis and the report: `--memory-limit` and `--engine`, the choice between reading
//! the rows into memory and streaming them in batches, and the progress bar of streamed passes
//! (rows per second, pass k of n) on stderr.

use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use payequity::polars::prelude::DataFrame;
use payequity::scale::{load_source, Engine, Progress, Projection, Source, StreamOptions};
use payequity::{Error, Result};

use crate::commands::read_input;
use crate::output::spinner;

/// Flags of commands that stream large inputs.
#[derive(Debug, Args, Default)]
pub struct ScaleArgs {
    /// Peak memory to stay within, e.g. 2GiB, 512MiB or a byte count (default 2GiB). Inputs estimated to
    /// need more are streamed in batches.
    #[arg(long)]
    memory_limit: Option<String>,
    /// auto (stream when the input would not fit the memory limit), memory or stream.
    #[arg(long, value_parser = Engine::NAMES, default_value = "auto")]
    engine: String,
    /// Rows per streamed batch (default: derived from the memory limit).
    #[arg(long, hide = true)]
    batch_rows: Option<usize>,
}

impl ScaleArgs {
    /// The memory limit and batch size, and the engine.
    pub fn stream_options(&self) -> Result<(StreamOptions, Engine)> {
        let memory_limit = match &self.memory_limit {
            Some(text) => parse_size(text)?,
            None => StreamOptions::default().memory_limit,
        };
        Ok((StreamOptions { memory_limit, batch_rows: self.batch_rows.unwrap_or(0) }, Engine::parse(&self.engine)?))
    }
}

/// Where the rows come from.
pub enum Input {
    Memory(DataFrame),
    Stream(Source, StreamOptions),
}

impl Input {
    /// Runs the analysis in memory (under a spinner named `what`) or streamed (under a progress bar).
    pub fn run<T>(
        self,
        what: &str,
        quiet: bool,
        memory: impl FnOnce(&DataFrame) -> Result<T>,
        streamed: impl FnOnce(&Source, &StreamOptions, &dyn Progress) -> Result<T>,
    ) -> Result<T> {
        match self {
            Input::Memory(frame) => {
                let bar = spinner(what, quiet);
                let result = memory(&frame);
                bar.finish_and_clear();
                result
            }
            Input::Stream(source, stream) => {
                let progress = BarProgress::new(quiet);
                let result = streamed(&source, &stream, &progress);
                progress.finish();
                result
            }
        }
    }
}

/// Parses `2GiB`, `512MiB`, `1.5GB`, `300000000`.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| Error::Invalid(format!("--memory-limit `{text}`: expected a size such as 2GiB or 512MiB")))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(Error::Invalid(format!(
                "--memory-limit `{text}`: unknown unit `{other}` (use B, KiB, MiB, GiB)"
            )))
        }
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && bytes >= (64u64 << 20) as f64) {
        return Err(Error::Invalid(format!("--memory-limit `{text}`: give at least 64MiB")));
    }
    Ok(bytes as u64)
}

/// Reads `input` into memory, or resolves it for streaming, as `--engine` and the memory limit decide.
pub fn open_input(input: &str, args: &ScaleArgs, quiet: bool, columns: (Vec<String>, Vec<String>)) -> Result<Input> {
    let (stream, engine) = args.stream_options()?;
    if input == "-" {
        if engine == Engine::Stream {
            return Err(Error::Invalid("--engine stream needs files: stdin is read into memory".into()));
        }
        return Ok(Input::Memory(read_input(input, quiet, columns)?));
    }
    let source = Source::resolve(input)?;
    if !stream.reads_in_memory(&source, engine) {
        return Ok(Input::Stream(source, stream));
    }
    if source.files.len() == 1 && source.hive_columns.is_empty() {
        return Ok(Input::Memory(read_input(input, quiet, columns)?));
    }
    let mut wanted = columns.0;
    wanted.extend(columns.1);
    let projection = Projection::new(&source, if wanted.is_empty() { None } else { Some(&wanted) });
    Ok(Input::Memory(load_source(&source, &projection)?))
}

/// A bar per streamed pass: `pass k/n <what>`, rows and rows per second.
pub struct BarProgress {
    bar: ProgressBar,
}

impl BarProgress {
    pub fn new(quiet: bool) -> BarProgress {
        if quiet {
            return BarProgress { bar: ProgressBar::hidden() };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}: {human_pos} rows ({per_sec}, {elapsed})")
                .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        BarProgress { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for BarProgress {
    fn start_pass(&self, pass: usize, passes: usize, what: &str) {
        self.bar.reset();
        self.bar.set_message(format!("pass {pass}/{passes} {what}"));
    }

    fn rows(&self, rows: u64) {
        self.bar.inc(rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("512 MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5GB").unwrap(), 1_500_000_000);
        assert!(parse_size("10").is_err());
        assert!(parse_size("2 parsecs").is_err());
        assert!(parse_size("NaNGiB").is_err());
    }
}
