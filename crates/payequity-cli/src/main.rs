//! The `payequity` binary: the command-line tool of [`payequity_cli`].

use std::process::ExitCode;

/// mimalloc keeps freed column buffers for reuse instead of returning them to the kernel (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(payequity_cli::run(std::env::args_os()))
}
