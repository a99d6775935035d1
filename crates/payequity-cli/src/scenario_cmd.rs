//! `payequity scenario`: bargaining scenarios — the audit config's figures on the payroll as it is and under
//! each scenario's pay measures, with their cost (docs/scenarios.md).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use payequity::config::AuditConfig;
use payequity::data::write_table;
use payequity::report::{read_input_columns, to_json};
use payequity::scenario::{
    remediation_frame, scenario_chart, scenario_frame, scenario_run, scenario_table, ScenarioRequest, ScenarioSet,
    Target,
};
use payequity::{Error, Result};

use crate::output::{emit, emit_line, print_csv, spinner, Format};

#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// Audit config: the payroll ([input] path), columns, pay components and the analyses to recompute.
    #[arg(long)]
    config: PathBuf,
    /// Scenarios file (TOML, `[[scenario]]` tables with `name`, `measures`, `phase_in_years`).
    #[arg(long)]
    scenarios: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write the table (`.csv` or `.parquet`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the chart of mean gap against annual cost (`.svg`).
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Find the cheapest scenario route to a target, e.g. "mean_gap_pct <= 5": each scenario's parameters are
    /// scaled by one factor (0 to 4×), found by bisection.
    #[arg(long)]
    target: Option<String>,
    /// The minimal individual adjustments that bring the unexplained Oaxaca part (log points with `log =
    /// true`) to this threshold, raising the workers with the most negative residuals first.
    #[arg(long, value_name = "THRESHOLD", allow_negative_numbers = true)]
    remediate: Option<f64>,
    /// Write the workers of the individual adjustments (employee ids, `.csv` or `.parquet`): the annex.
    #[arg(long, requires = "remediate")]
    annex: Option<PathBuf>,
    #[arg(long, short)]
    quiet: bool,
}

pub fn run_scenario(args: ScenarioArgs) -> Result<ExitCode> {
    let config = AuditConfig::from_file(&args.config)?;
    let set = ScenarioSet::from_file(&args.scenarios)?;
    let bar = spinner("recomputing the figures for every scenario", args.quiet);
    let needed = set.columns_needed(&config)?;
    let (frame, _) = read_input_columns(&config, needed.as_ref().map(|(r, o)| (r.as_slice(), o.as_slice())))?;
    let request = ScenarioRequest {
        target: args.target.as_deref().map(Target::parse).transpose()?,
        remediate: args.remediate,
        annex: args.annex.is_some(),
    };
    let mut result = scenario_run(&frame, &config, &set, &request)?;
    bar.finish_and_clear();
    if let (Some(path), Some(remediation)) = (&args.annex, result.remediation.as_mut()) {
        write_table(&mut remediation_frame(remediation)?, path)?;
        // The document and the table on the terminal stay free of employee ids.
        remediation.workers = None;
    }
    if let Some(path) = &args.out {
        write_table(&mut scenario_frame(&result)?, path)?;
    }
    if let Some(path) = &args.chart {
        if path.extension().and_then(|e| e.to_str()) != Some("svg") {
            return Err(Error::Invalid(format!(
                "--chart {}: the chart is written as SVG; name a .svg file",
                path.display()
            )));
        }
        std::fs::write(path, scenario_chart(&result))
            .map_err(|e| Error::Output { path: path.display().to_string(), reason: e.to_string() })?;
    }
    match args.format {
        Format::Table => emit(&scenario_table(&result))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => print_csv(scenario_frame(&result)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
