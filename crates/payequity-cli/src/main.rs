//! The `payequity` command: parses arguments, loads data, shows progress, formats results. All statistics
//! live in the `payequity` library; exit codes: 0 success, 1 input or config error, 2 threshold breached.

mod audit_cmd;
mod commands;
mod equal_value_cmd;
mod output;
mod report_cmd;
mod rif_cmd;
mod scale_cmd;

use std::process::ExitCode;

use clap::Parser;

use commands::Cli;

/// mimalloc keeps freed column buffers for reuse instead of returning them to the kernel (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    payequity::allocator::configure();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 1 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", shown_error(&err.to_string()));
            if let Some(hint) = err.hint() {
                eprintln!("hint: {}", shown_error(&hint));
            }
            ExitCode::from(1)
        }
    }
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
