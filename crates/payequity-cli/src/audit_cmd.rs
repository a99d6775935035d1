//! `payequity audit-entitlements`: hazard pay, overtime and allowance rules checked against what was paid,
//! worker by worker. Flags override `[entitlements]` keys of the config; exit 2 when `--fail-on-arrears`
//! is exceeded.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use payequity::config::AuditConfig;
use payequity::data::write_table;
use payequity::entitlements::AuditAnalysis;
use payequity::entitlements::{
    audit_entitlements, columns_needed, entitlement_frame, entitlement_table, load_rules, EntitlementOptions,
};
use payequity::report::to_json;
use payequity::scale::{run, Source};
use payequity::Result;

use crate::commands::input_path;
use crate::output::{emit, emit_line, print_csv, Format};
use crate::scale_cmd::{open_input, ScaleArgs};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Payroll file (one row per worker and period); optional when the config names [input] path.
    payroll: Option<String>,
    /// Rule file(s) (TOML, comma-separated); see datasets/rules/.
    #[arg(long, value_delimiter = ',')]
    rules: Vec<PathBuf>,
    /// Grouping columns of the disparity tables (default: the gender column).
    #[arg(long, value_delimiter = ',')]
    by: Vec<String>,
    /// Categorical controls of the logistic regression (e.g. occupation,unit).
    #[arg(long, value_delimiter = ',')]
    controls: Vec<String>,
    /// Audit config ([columns], [entitlements]).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write the worker-level arrears table (Parquet, Arrow IPC or CSV by extension).
    #[arg(long)]
    arrears_out: Option<PathBuf>,
    /// Exit with status 2 when total arrears exceed this amount.
    #[arg(long, value_parser = parse_limit)]
    fail_on_arrears: Option<f64>,
    /// Groups with fewer workers are suppressed in the disparity tables.
    #[arg(long)]
    min_cell: Option<usize>,
    /// Employee id column (default `employee_id`).
    #[arg(long)]
    employee_id_column: Option<String>,
    /// Period column (default `period`): YYYY-MM or YYYY-MM-DD.
    #[arg(long)]
    period_column: Option<String>,
    /// Gender column (default `gender`), the default grouping.
    #[arg(long)]
    gender_column: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    scale: ScaleArgs,
}

pub fn run_audit(args: AuditArgs) -> Result<ExitCode> {
    let config = args.config.as_ref().map(AuditConfig::from_file).transpose()?;
    let mut options = match &config {
        Some(c) => c.entitlement_options()?,
        None => EntitlementOptions::default(),
    };
    if !args.rules.is_empty() {
        options.rules = args.rules.iter().map(|p| p.display().to_string()).collect();
    }
    if !args.by.is_empty() {
        options.by = args.by.clone();
    }
    if !args.controls.is_empty() {
        options.controls = args.controls.clone();
    }
    if let Some(m) = args.min_cell {
        options.min_cell = m;
    }
    if args.employee_id_column.is_some() {
        options.columns.employee_id.clone_from(&args.employee_id_column);
    }
    if args.period_column.is_some() {
        options.columns.period.clone_from(&args.period_column);
    }
    if let Some(g) = &args.gender_column {
        options.columns.gender.clone_from(g);
    }
    let rules = load_rules(&options.rules)?;
    let input = input_path(&args.payroll, &config)?;
    // The rules are checked against the file's schema before any row is read; then only their columns are read.
    let columns = if input == "-" {
        Vec::new()
    } else {
        columns_needed(Source::resolve(&input)?.empty_frame().schema(), &rules, &options)?
    };
    let result = open_input(&input, &args.scale, args.quiet, (columns, Vec::new()))?.run(
        "auditing entitlements",
        args.quiet,
        |frame| audit_entitlements(frame, &rules, &options),
        |source, stream, progress| run(&AuditAnalysis::new(&rules, &options), source, stream, progress),
    )?;
    match args.format {
        Format::Table => emit(&entitlement_table(&result))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => print_csv(entitlement_frame(&result)?)?,
    }
    if let Some(path) = &args.arrears_out {
        write_table(&mut result.arrears.clone(), path)?;
        if args.format == Format::Table {
            emit_line(&format!("Wrote {} arrears lines to {}", result.arrears.height(), path.display()))?;
        }
    }
    if let Some(limit) = args.fail_on_arrears {
        if result.arrears_total > limit {
            eprintln!("payequity: total arrears {:.2} exceed --fail-on-arrears {limit}", result.arrears_total);
            return Ok(ExitCode::from(2));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A gate's limit: a finite amount, zero or more (`NaN` would silently disable the gate).
fn parse_limit(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(limit) if limit.is_finite() && limit >= 0.0 => Ok(limit),
        _ => Err(format!(
            "`{}` is not an amount of zero or more (e.g. 0 or 1500.50)",
            text.chars().take(40).collect::<String>()
        )),
    }
}
