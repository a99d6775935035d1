//! The `payequity` command as a library: argument parsing, loading, progress and output around the
//! `payequity` crate's analyses. The `payequity` binary and the Python package's `payequity` console script
//! (through `payequity._core.cli_main`) both call [`run`], so the command is the same code everywhere.
//! Exit codes: 0 success, 1 input or config error, 2 threshold breached.

mod audit_cmd;
mod commands;
mod equal_value_cmd;
mod output;
mod report_cmd;
mod rif_cmd;
mod scale_cmd;
mod scenario_cmd;

use std::process::ExitCode;

use clap::Parser;

use commands::Cli;

/// Runs the command line `args` (the program name first, as `std::env::args_os` gives it) and returns the
/// exit code. Clap's `--help` and `--version` print and return 0; usage errors return 1.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    payequity::allocator::configure();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 1 } else { 0 };
            let _ = err.print();
            return code;
        }
    };
    match commands::run(cli) {
        Ok(code) => exit_code_number(code),
        Err(err) => {
            eprintln!("error: {}", shown_error(&err.to_string()));
            if let Some(hint) = err.hint() {
                eprintln!("hint: {}", shown_error(&hint));
            }
            1
        }
    }
}

/// The number of an [`ExitCode`] the commands return (only 0, 1 and 2 are used).
fn exit_code_number(code: ExitCode) -> u8 {
    [0u8, 1, 2].into_iter().find(|n| ExitCode::from(*n) == code).unwrap_or(1)
}

/// An error message for the terminal: escape sequences neutralized and at most 2,000 characters, so that a
/// binary file's bytes echoed by a reader cannot flood or drive the terminal.
fn shown_error(message: &str) -> String {
    const LIMIT: usize = 2_000;
    let safe = payequity::data::terminal_safe(message);
    let mut shown: String = safe.chars().take(LIMIT).collect();
    if safe.chars().nth(LIMIT).is_some() {
        shown.push_str(" … (message truncated)");
    }
    shown
}
