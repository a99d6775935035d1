//! `payequity equal-value`: equal pay for work of equal value (job evaluation, job classes, job-to-job and
//! proportional comparisons, cost of closing). Flags override `[equal_value]` keys of the config.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use payequity::config::AuditConfig;
use payequity::equal_value::EqualValueAnalysis;
use payequity::equal_value::{equal_value, equal_value_frame, equal_value_table, EqualValueOptions, Method};
use payequity::report::to_json;
use payequity::scale::run;
use payequity::Result;

use crate::commands::{input_path, parse_enum};
use crate::output::{emit, emit_line, print_csv, Format};
use crate::scale_cmd::{open_input, ScaleArgs};

#[derive(Debug, Args)]
pub struct EqualValueArgs {
    /// Payroll file; optional when the config names [input] path.
    payroll: Option<String>,
    /// Job evaluation scheme (TOML).
    #[arg(long)]
    scheme: Option<PathBuf>,
    /// Job ratings (CSV / Parquet long or wide, or TOML).
    #[arg(long)]
    ratings: Option<PathBuf>,
    /// Audit config ([columns], [pay], [equal_value]).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Job class column of the payroll.
    #[arg(long)]
    job: Option<String>,
    #[arg(long, value_parser = ["job-to-job", "proportional", "both"])]
    method: Option<String>,
    /// Job rate of a class: max (Ontario), median, mean or adjusted.
    #[arg(long, value_parser = ["max", "median", "mean", "adjusted"])]
    job_rate: Option<String>,
    /// List every worker's adjustment in the JSON document.
    #[arg(long)]
    worker_adjustments: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[arg(long)]
    strict: bool,
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    scale: ScaleArgs,
}

pub fn run_equal_value(args: EqualValueArgs) -> Result<ExitCode> {
    let config = args.config.as_ref().map(AuditConfig::from_file).transpose()?;
    let mut options = match &config {
        Some(c) if c.equal_value.is_some() => c.equal_value_options()?,
        Some(c) => EqualValueOptions {
            columns: c.columns.clone().unwrap_or_default(),
            gender_values: c.gender_values.clone().unwrap_or_default(),
            pay: c.pay.as_ref().map(|p| p.all()).unwrap_or_default(),
            ..EqualValueOptions::default()
        },
        None => EqualValueOptions::default(),
    };
    if let Some(s) = &args.scheme {
        options.scheme = s.display().to_string();
    }
    if let Some(r) = &args.ratings {
        options.ratings = r.display().to_string();
    }
    if let Some(j) = &args.job {
        options.job = j.clone();
    }
    if let Some(m) = &args.method {
        options.method = match m.as_str() {
            "both" => vec![Method::JobToJob, Method::Proportional],
            other => vec![parse_enum(other)?],
        };
    }
    if let Some(r) = &args.job_rate {
        options.job_rate = parse_enum(r)?;
    }
    options.worker_adjustments |= args.worker_adjustments;
    options.strict |= args.strict;
    let input = input_path(&args.payroll, &config)?;
    let result = open_input(&input, &args.scale, args.quiet, options.columns_used())?.run(
        "comparing job classes",
        args.quiet,
        |frame| equal_value(frame, &options),
        |source, stream, progress| run(&EqualValueAnalysis::new(&options), source, stream, progress),
    )?;
    match args.format {
        Format::Table => emit(&equal_value_table(&result))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => print_csv(equal_value_frame(&result)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
