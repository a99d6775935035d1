//! Prints the gap JSON document of a payroll file computed through the Rust API, with the options of an
//! audit config: `gap_json CONFIG.toml [INPUT]`. The cross-language test compares it with the CLI and Python.

use payequity::config::AuditConfig;
use payequity::data::load_table;
use payequity::gap::gap;
use payequity::report::to_json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let config = AuditConfig::from_file(args.next().ok_or("usage: gap_json CONFIG.toml [INPUT]")?)?;
    let input = match args.next() {
        Some(path) => path.into(),
        None => config.input_paths().first().cloned().ok_or("the config has no [input] path")?,
    };
    let frame = load_table(input)?;
    println!("{}", to_json(&gap(&frame, &config.gap_options())?)?);
    Ok(())
}
