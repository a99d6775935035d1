//! Subcommands: `gap`, `oaxaca`, `transparency`, `equal-value` (in `equal_value_cmd`), `audit-entitlements`
//! (in `audit_cmd`), `report` and `demo` (in `report_cmd`), `generate`. Flags override config keys; both end in the library's
//! option structs.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use payequity::config::AuditConfig;
use payequity::data::{
    load_table, load_table_columns, load_table_from_ipc_bytes, InputFormat, Measure, RowFilter, Unit,
};
use payequity::decompose::{oaxaca, oaxaca_frame, oaxaca_table, OaxacaOptions};
use payequity::gap::{gap, gap_table, GapOptions, GapResult};
use payequity::polars::prelude::DataFrame;
use payequity::report::{gap_summary, to_json};
use payequity::synthetic::{generate, write_synthetic, GeneratorOptions};
use payequity::transparency::{transparency, transparency_frame, transparency_table, Regime};
use payequity::{Error, Result};

use crate::output::{emit, emit_line, print_csv, spinner, Format};
use crate::scale_cmd::{open_input, ScaleArgs};
use payequity::decompose::OaxacaAnalysis;
use payequity::gap::gap_source;
use payequity::scale;
use payequity::transparency::TransparencyAnalysis;

#[derive(Debug, Parser)]
#[command(
    name = "payequity",
    version = payequity::LONG_VERSION,
    about = "Remuneration equity analytics: pay gaps, decompositions, pay transparency, equal value, entitlement audits"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Raw mean and median gender pay gaps, overall and by group, with CIs and the factor-weighted gap.
    Gap(Box<GapArgs>),
    /// Oaxaca-Blinder decomposition of a mean difference (twofold, threefold, detailed; delta or bootstrap SEs).
    Oaxaca(Box<OaxacaArgs>),
    /// RIF decomposition of quantiles, variance, Gini... between two groups (Firpo, Fortin & Lemieux 2018).
    Rif(Box<crate::rif_cmd::RifArgs>),
    /// DiNardo-Fortin-Lemieux reweighting: composition and structure at quantiles and other statistics.
    Dfl(Box<crate::rif_cmd::DflArgs>),
    /// Fairlie/Yun decomposition of a 0/1 outcome (receives hazard pay, reached a senior grade): logit.
    Nonlinear(Box<crate::rif_cmd::NonlinearArgs>),
    /// Gap, composition and structure at every percentile (glass ceiling or sticky floor), by RIF or DFL.
    QuantileProfile(Box<crate::rif_cmd::ProfileArgs>),
    /// RIF regression (unconditional quantile regression; Firpo, Fortin & Lemieux 2009).
    RifRegression(Box<crate::rif_cmd::RifRegressionArgs>),
    /// Pay transparency: EU Directive 2023/970 Art. 9-10, UK gender pay gap, Swiss Logib (needs --config).
    Transparency(Box<TransparencyArgs>),
    /// Equal pay for work of equal value: job evaluation points, job classes, comparators, cost of closing.
    EqualValue(Box<crate::equal_value_cmd::EqualValueArgs>),
    /// Hazard pay, overtime and allowance rules checked against what was paid: arrears and disparities.
    AuditEntitlements(Box<crate::audit_cmd::AuditArgs>),
    /// Generate a synthetic health-and-care payroll with planted truths (writes truth.json beside it).
    Generate(GenerateArgs),
    /// Run every analysis of an audit config: HTML report, JSON document, summary and tables (exit 2 on a
    /// `[report.fail_if]` breach).
    Report(Box<crate::report_cmd::ReportArgs>),
    /// The report on the bundled demo payroll: prints the headline figures, writes `payequity-demo/`.
    Demo(crate::report_cmd::DemoArgs),
    /// Bargaining scenarios: every gap and its cost under proposed pay measures (needs --config and --scenarios).
    Scenario(Box<crate::scenario_cmd::ScenarioArgs>),
}

/// Column-role flags shared by analysis commands (`--ROLE-column NAME`).
#[derive(Debug, Args, Default)]
struct RoleArgs {
    /// Pay component column(s), summed into the pay measure (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pay_column: Vec<String>,
    /// Hours the pay of the period covers; hourly pay = pay / hours.
    #[arg(long)]
    hours_column: Option<String>,
    /// Gender column (default `gender`); values mapped by --female / --male.
    #[arg(long)]
    gender_column: Option<String>,
    /// Employee id: with it, each employee is one unit (pay and hours summed over periods).
    #[arg(long)]
    employee_id_column: Option<String>,
    /// Pay period column (default `period`): (employee id, period) must be unique.
    #[arg(long)]
    period_column: Option<String>,
    /// Sampling weights.
    #[arg(long)]
    weight_column: Option<String>,
    /// Gender values meaning women (comma-separated; default F).
    #[arg(long, value_delimiter = ',')]
    female: Vec<String>,
    /// Gender values meaning men (comma-separated; default M).
    #[arg(long, value_delimiter = ',')]
    male: Vec<String>,
}

#[derive(Debug, Args)]
struct GapArgs {
    /// Payroll file (.parquet, .arrow/.ipc/.feather, .csv), a directory of them (hive folders such as
    /// year=2025/ become columns), a quoted glob ('payroll/*.parquet'), or - for Arrow IPC on stdin.
    /// Optional when the config names [input] path.
    input: Option<String>,
    /// Grouping columns of the breakdown (comma-separated).
    #[arg(long, value_delimiter = ',')]
    by: Vec<String>,
    /// Subgroups of the factor-weighted gap (default: the --by columns).
    #[arg(long, value_delimiter = ',')]
    factors: Vec<String>,
    #[command(flatten)]
    roles: RoleArgs,
    /// hourly (default with an hours column) or pay (period/annual pay level).
    #[arg(long, value_parser = ["hourly", "pay"])]
    measure: Option<String>,
    /// auto (employee when an employee id exists), employee or row.
    #[arg(long, value_parser = ["auto", "employee", "row"])]
    unit: Option<String>,
    /// Long-format input: one row per pay element (columns element, amount).
    #[arg(long)]
    long: bool,
    /// Row filter COLUMN=VALUE, COLUMN!=V1|V2, COLUMN>=VALUE ... (repeatable).
    #[arg(long = "where")]
    filters: Vec<String>,
    /// Suppress groups with fewer women or men than this (0 = off).
    #[arg(long)]
    min_cell: Option<u64>,
    /// Confidence level of the intervals (default 0.95).
    #[arg(long)]
    confidence: Option<f64>,
    /// Bootstrap replicates for the median CI (0 = none).
    #[arg(long)]
    bootstrap_reps: Option<usize>,
    /// Seed of the bootstrap (results are reproducible for a seed, whatever the thread count).
    #[arg(long)]
    seed: Option<u64>,
    /// Audit config (TOML); flags override its keys.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Fail (exit 1) if any row would be excluded, naming the first offending rows.
    #[arg(long)]
    strict: bool,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    scale: ScaleArgs,
}

#[derive(Debug, Args)]
pub(crate) struct OaxacaArgs {
    /// Payroll file (.parquet, .arrow/.ipc/.feather, .csv), a directory of them (hive folders such as
    /// year=2025/ become columns), a quoted glob ('payroll/*.parquet'), or - for Arrow IPC on stdin.
    /// Optional when the config names [input] path.
    pub(crate) input: Option<String>,
    /// Outcome column (usually log hourly pay).
    #[arg(long)]
    outcome: Option<String>,
    /// Take the natural log of the outcome (rows with outcome <= 0 are excluded as non_positive_outcome).
    #[arg(long)]
    log: bool,
    /// Column whose values define the groups (default: the gender column).
    #[arg(long)]
    group: Option<String>,
    /// Value of --group that is group A, the comparison group (positive = A higher). `1` matches 1.0.
    #[arg(long)]
    group_a: Option<String>,
    /// Value that is group B (default: the one other value; rows with other values are excluded).
    #[arg(long)]
    group_b: Option<String>,
    /// Numeric covariates (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) covariates: Vec<String>,
    /// Categorical covariates, dummy-encoded (comma-separated).
    #[arg(long, value_delimiter = ',')]
    categorical: Vec<String>,
    /// Base level of a categorical, COLUMN=LEVEL (repeatable; default: the first level).
    #[arg(long = "base")]
    base_levels: Vec<String>,
    /// Sum detailed terms into a named group, NAME=col1,col2 (repeatable; SEs from the joint covariance, as
    /// Stata's detail(name: vars)). Categorical columns not in a group are groups of their own.
    #[arg(long = "detail-group")]
    detail_groups: Vec<String>,
    /// Keep the dummy coding of the base level instead of Yun (2005) normalization.
    #[arg(long)]
    no_normalize: bool,
    /// Reference coefficients of the twofold decomposition.
    #[arg(long, value_parser = ["pooled", "neumark", "cotton", "reimers", "weight"])]
    reference: Option<String>,
    /// W of --reference weight: beta* = W beta_A + (1 - W) beta_B.
    #[arg(long)]
    weight: Option<f64>,
    /// Sampling weights.
    #[arg(long)]
    weight_column: Option<String>,
    /// Threefold viewpoint: b (Stata's default) or a (Stata's threefold(reverse)).
    #[arg(long, value_parser = ["a", "b"])]
    viewpoint: Option<String>,
    /// Standard errors.
    #[arg(long, value_parser = ["delta", "bootstrap", "none"])]
    pub(crate) se: Option<String>,
    /// Coefficient covariance of the delta method: classical, or robust (stacked-score sandwich, as suest).
    #[arg(long, value_parser = ["classical", "robust"])]
    vce: Option<String>,
    /// Bootstrap replicates.
    #[arg(long)]
    reps: Option<usize>,
    /// Bootstrap seed (reproducible whatever the thread count).
    #[arg(long)]
    seed: Option<u64>,
    /// Bootstrap replicate weights.
    #[arg(long, value_parser = ["poisson", "multinomial"])]
    draw: Option<String>,
    /// Bootstrap confidence intervals.
    #[arg(long, value_parser = ["normal", "percentile"])]
    bootstrap_ci: Option<String>,
    /// Confidence level (default 0.95).
    #[arg(long)]
    confidence: Option<f64>,
    /// Table output: add one row per term under each component.
    #[arg(long)]
    pub(crate) detail: bool,
    /// Audit config (TOML); flags override its [oaxaca] keys.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Fail (exit 1) if any row would be excluded or a categorical level is missing from a group.
    #[arg(long)]
    strict: bool,
    #[arg(long, short)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) scale: ScaleArgs,
}

#[derive(Debug, Args)]
struct TransparencyArgs {
    /// Payroll file; optional when the config names [input] path.
    input: Option<String>,
    /// Audit config with [columns], [pay] and [transparency].
    #[arg(long)]
    config: PathBuf,
    /// Which regime to report (repeatable or comma-separated; default: the config's, else all).
    #[arg(long, value_delimiter = ',', value_parser = ["eu", "uk", "logib", "all"])]
    regime: Vec<String>,
    /// Suppress cells with fewer women or men than this (0 = off).
    #[arg(long)]
    min_cell: Option<u64>,
    /// Exit with code 2 when an Art. 10 flag has no justification (batch audits).
    #[arg(long)]
    fail_on_trigger: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[arg(long)]
    strict: bool,
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    scale: ScaleArgs,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    #[arg(long, default_value_t = 5000)]
    employees: usize,
    #[arg(long, default_value_t = 12)]
    months: usize,
    #[arg(long, default_value_t = 2022)]
    seed: u64,
    /// Output file (.parquet, .arrow, .csv); truth.json is written next to it.
    #[arg(long)]
    out: PathBuf,
    /// Generate a control population without the planted group disparities (hazard-pay non-payment, the
    /// glass ceiling in promotion to management).
    #[arg(long)]
    no_disparity: bool,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Gap(args) => run_gap(*args),
        Command::Oaxaca(args) => run_oaxaca(*args),
        Command::Rif(args) => crate::rif_cmd::run_rif(*args),
        Command::Nonlinear(args) => crate::rif_cmd::run_nonlinear(*args),
        Command::QuantileProfile(args) => crate::rif_cmd::run_profile(*args),
        Command::Dfl(args) => crate::rif_cmd::run_dfl(*args),
        Command::RifRegression(args) => crate::rif_cmd::run_rif_regression(*args),
        Command::Transparency(args) => run_transparency(*args),
        Command::EqualValue(args) => crate::equal_value_cmd::run_equal_value(*args),
        Command::AuditEntitlements(args) => crate::audit_cmd::run_audit(*args),
        Command::Generate(args) => run_generate(args),
        Command::Scenario(args) => crate::scenario_cmd::run_scenario(*args),
        Command::Report(args) => crate::report_cmd::run_report(*args),
        Command::Demo(args) => crate::report_cmd::run_demo(args),
    }
}

/// Reads the input: Arrow IPC from stdin for `-`, else the file, reading only the `columns` (required,
/// optional) the analysis uses when they are known.
pub(crate) fn read_input(input: &str, quiet: bool, columns: (Vec<String>, Vec<String>)) -> Result<DataFrame> {
    let bar = spinner(&format!("reading {input}"), quiet);
    let frame = if input == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Io { path: "<stdin>".into(), reason: e.to_string() })?;
        load_table_from_ipc_bytes(bytes)?
    } else if columns.0.is_empty() {
        load_table(input)?
    } else {
        load_table_columns(input, &columns.0, &columns.1)?
    };
    bar.finish_and_clear();
    Ok(frame)
}

pub(crate) fn parse_enum<T: serde::de::DeserializeOwned>(value: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(value.into())).map_err(|e| Error::Invalid(e.to_string()))
}

/// Config first, then flags on top.
fn gap_options(args: &GapArgs, config: Option<&AuditConfig>) -> Result<GapOptions> {
    let mut o = config.map(AuditConfig::gap_options).unwrap_or_default();
    let r = &args.roles;
    if !r.pay_column.is_empty() {
        o.columns.pay = r.pay_column.clone();
    }
    let set = |slot: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            slot.clone_from(value);
        }
    };
    set(&mut o.columns.hours, &r.hours_column);
    set(&mut o.columns.employee_id, &r.employee_id_column);
    set(&mut o.columns.period, &r.period_column);
    set(&mut o.columns.weight, &r.weight_column);
    if let Some(g) = &r.gender_column {
        o.columns.gender = g.clone();
    }
    if !r.female.is_empty() {
        o.gender_values.female = r.female.clone();
    }
    if !r.male.is_empty() {
        o.gender_values.male = r.male.clone();
    }
    if !args.by.is_empty() {
        o.by = args.by.clone();
    }
    if !args.factors.is_empty() {
        o.factors = Some(args.factors.clone());
    }
    if let Some(m) = &args.measure {
        o.measure = Some(parse_enum::<Measure>(m)?);
    }
    if let Some(u) = &args.unit {
        o.unit = parse_enum::<Unit>(u)?;
    }
    if args.long {
        o.input.format = InputFormat::Long;
    }
    for f in &args.filters {
        o.filters.push(f.parse::<RowFilter>()?);
    }
    if let Some(v) = args.min_cell {
        o.min_cell = v;
    }
    if let Some(v) = args.confidence {
        o.confidence = v;
    }
    if let Some(v) = args.bootstrap_reps {
        o.bootstrap_reps = v;
    }
    if let Some(v) = args.seed {
        o.seed = v;
    }
    o.strict |= args.strict;
    Ok(o)
}

fn print_gap(result: &GapResult, format: Format) -> Result<()> {
    match format {
        Format::Table => emit(&gap_summary(result))?,
        Format::Json => emit_line(&to_json(result)?)?,
        Format::Csv => print_csv(gap_table(result)?)?,
    }
    Ok(())
}

fn run_gap(args: GapArgs) -> Result<ExitCode> {
    let config = args.config.as_ref().map(AuditConfig::from_file).transpose()?;
    let options = gap_options(&args, config.as_ref())?;
    let input = input_path(&args.input, &config)?;
    let result = open_input(&input, &args.scale, args.quiet, options.columns_used())?.run(
        "computing gaps",
        args.quiet,
        |frame| gap(frame, &options),
        |source, stream, progress| gap_source(source, &options, stream, progress),
    )?;
    print_gap(&result, args.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Config `[oaxaca]` first, then flags on top.
pub(crate) fn oaxaca_options(args: &OaxacaArgs, config: Option<&AuditConfig>) -> Result<OaxacaOptions> {
    let mut o = config.map(AuditConfig::oaxaca_options).unwrap_or_default();
    let set = |slot: &mut String, value: &Option<String>| {
        if let Some(v) = value {
            slot.clone_from(v);
        }
    };
    set(&mut o.outcome, &args.outcome);
    set(&mut o.group, &args.group);
    set(&mut o.group_a, &args.group_a);
    if args.group_b.is_some() {
        o.group_b.clone_from(&args.group_b);
    }
    o.log |= args.log;
    if !args.covariates.is_empty() {
        o.covariates = args.covariates.clone();
    }
    if !args.categorical.is_empty() {
        o.categorical = args.categorical.clone();
    }
    for base in &args.base_levels {
        let (column, level) =
            base.split_once('=').ok_or_else(|| Error::Invalid(format!("--base `{base}`: expected COLUMN=LEVEL")))?;
        o.base_levels.insert(column.trim().into(), level.trim().into());
    }
    for group in &args.detail_groups {
        let (name, members) = group
            .split_once('=')
            .ok_or_else(|| Error::Invalid(format!("--detail-group `{group}`: expected NAME=col1,col2")))?;
        let members: Vec<String> = members.split(',').map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect();
        o.detail_groups.insert(name.trim().to_string(), members);
    }
    if args.no_normalize {
        o.normalize = false;
    }
    set(&mut o.reference, &args.reference);
    if args.weight.is_some() {
        o.weight = args.weight;
    }
    if args.weight_column.is_some() {
        o.weights.clone_from(&args.weight_column);
    }
    if let Some(v) = &args.viewpoint {
        o.threefold_viewpoint = parse_enum(v)?;
    }
    if let Some(v) = &args.se {
        o.se = parse_enum(v)?;
    }
    if let Some(v) = &args.vce {
        o.vce = parse_enum(v)?;
    }
    if let Some(v) = args.reps {
        o.reps = v;
    }
    if let Some(v) = args.seed {
        o.seed = v;
    }
    if let Some(v) = &args.draw {
        o.draw = parse_enum(v)?;
    }
    if let Some(v) = &args.bootstrap_ci {
        o.bootstrap_ci = parse_enum(v)?;
    }
    if let Some(v) = args.confidence {
        o.confidence = v;
    }
    o.strict |= args.strict;
    Ok(o)
}

pub(crate) fn input_path(input: &Option<String>, config: &Option<AuditConfig>) -> Result<String> {
    match (input, config) {
        (Some(input), _) => Ok(input.clone()),
        (None, Some(c)) if !c.input_paths().is_empty() => Ok(c.input_paths()[0].display().to_string()),
        _ => Err(Error::Invalid("no input: give a payroll file (or - for stdin), or [input] path in --config".into())),
    }
}

fn run_oaxaca(args: OaxacaArgs) -> Result<ExitCode> {
    let config = args.config.as_ref().map(AuditConfig::from_file).transpose()?;
    let options = oaxaca_options(&args, config.as_ref())?;
    options.validate()?;
    let input = input_path(&args.input, &config)?;
    let columns = (options.columns_used(), options.optional_columns());
    let result = open_input(&input, &args.scale, args.quiet, columns)?.run(
        "decomposing",
        args.quiet,
        |frame| oaxaca(frame, &options),
        |source, stream, progress| scale::run(&OaxacaAnalysis::new(&options), source, stream, progress),
    )?;
    match args.format {
        Format::Table => emit(&oaxaca_table(&result, args.detail))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => print_csv(oaxaca_frame(&result)?)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn run_transparency(args: TransparencyArgs) -> Result<ExitCode> {
    let config = AuditConfig::from_file(&args.config)?;
    let mut options = config.transparency_options()?;
    if !args.regime.is_empty() {
        options.regimes = if args.regime.iter().any(|r| r == "all") {
            vec![Regime::Eu, Regime::Uk, Regime::Logib]
        } else {
            args.regime.iter().map(|r| parse_enum(r)).collect::<Result<_>>()?
        };
    }
    if let Some(v) = args.min_cell {
        options.min_cell = v;
    }
    options.strict |= args.strict;
    let input = input_path(&args.input, &Some(config))?;
    let result = open_input(&input, &args.scale, args.quiet, options.columns_used())?.run(
        "computing transparency figures",
        args.quiet,
        |frame| transparency(frame, &options),
        |source, stream, progress| scale::run(&TransparencyAnalysis::new(&options), source, stream, progress),
    )?;
    match args.format {
        Format::Table => emit(&transparency_table(&result))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => print_csv(transparency_frame(&result)?)?,
    }
    if args.fail_on_trigger && result.art10_triggered() {
        eprintln!("Art. 10: a category gap of 5% or more has no justification: joint pay assessment due");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn run_generate(args: GenerateArgs) -> Result<ExitCode> {
    let options = GeneratorOptions {
        employees: args.employees,
        months: args.months,
        seed: args.seed,
        plant_disparity: !args.no_disparity,
        ..GeneratorOptions::default()
    };
    let mut synthetic = generate(&options)?;
    let truth_path = write_synthetic(&mut synthetic, &args.out)?;
    eprintln!(
        "wrote {} rows to {} and the planted truths to {}",
        synthetic.payroll.height(),
        args.out.display(),
        truth_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
