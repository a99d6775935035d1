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
            eprintln!("error: {err}");
            if let Some(hint) = err.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(1)
        }
    }
}
