//! `payequity rif` (the RIF decomposition of quantiles and other statistics) and `payequity rif-regression`
//! (unconditional quantile regression). `rif` takes every `oaxaca` flag; the statistics, kernel and bandwidth
//! come from `--statistic`, `--kernel`, `--bandwidth` over the config's `[rif]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use payequity::config::AuditConfig;
use payequity::decompose::OaxacaOptions;
use payequity::distributional::{
    dfl, dfl_table, nonlinear_decompose, nonlinear_table, profile_table, quantile_profile, rif_decompose,
    rif_regression, rif_regression_table, rif_table, RifOptions, Statistic,
};
use payequity::distributional::{profile_streams, rif_streams, ProfileAnalysis, RifAnalysis};
use payequity::polars::prelude::DataFrame;
use payequity::report::to_json;
use payequity::scale::{load_source, run, Projection};
use payequity::{Error, Result};

use crate::commands::{input_path, oaxaca_options, parse_enum, OaxacaArgs};
use crate::output::{emit, emit_line, print_csv, Format};
use crate::scale_cmd::{open_input, ScaleArgs};

/// Flags of the distributional statistics.
#[derive(Debug, Args)]
pub struct StatisticArgs {
    /// Statistics (comma-separated): mean, var, gini, q10 (any qNN or q:0.255), iqr10_90, iqratio90_10.
    #[arg(long, value_delimiter = ',')]
    statistic: Vec<String>,
    /// Density kernel at the quantiles.
    #[arg(long, value_parser = ["gaussian", "epanechnikov", "epan2", "triangular", "biweight"])]
    kernel: Option<String>,
    /// Density bandwidth: silverman (Stata's rifvar rule), nrd0 (R's bw.nrd0) or a positive number.
    #[arg(long)]
    bandwidth: Option<String>,
    /// Quantile rule: stata (_pctile, default) or r7 (R's type 7; weighted as Hmisc::wtd.quantile).
    #[arg(long, value_parser = ["stata", "r7"])]
    quantile_method: Option<String>,
}

impl StatisticArgs {
    /// Config `[rif]` first, then flags on top.
    fn options(&self, config: Option<&AuditConfig>) -> Result<RifOptions> {
        let mut options = config.and_then(|c| c.rif.clone()).unwrap_or_default();
        if !self.statistic.is_empty() {
            options.statistic = self.statistic.iter().map(|s| s.parse::<Statistic>()).collect::<Result<_>>()?;
        }
        if let Some(kernel) = &self.kernel {
            options.kernel = kernel.parse()?;
        }
        if let Some(bandwidth) = &self.bandwidth {
            options.bandwidth = bandwidth.parse()?;
        }
        if let Some(method) = &self.quantile_method {
            options.quantile_method = parse_enum(method)?;
        }
        Ok(options)
    }
}

#[derive(Debug, Args)]
pub struct RifArgs {
    #[command(flatten)]
    oaxaca: OaxacaArgs,
    #[command(flatten)]
    statistics: StatisticArgs,
    /// Add the reweighted decomposition: pure composition, specification error, pure wage structure and
    /// reweighting error (B reweighted to A's covariates by a logit; SEs with --se bootstrap).
    #[arg(long)]
    reweight: bool,
    /// Cap on the reweighting factor psi.
    #[arg(long)]
    trim: Option<f64>,
    /// With --reweight: which group gets the other's covariates, b (default; Stata's wgt(0)) or a.
    #[arg(long, value_parser = ["a", "b"])]
    reweight_group: Option<String>,
    /// With --reweight: the covariates of the reweighting logit (default: the decomposition's; a subset).
    #[arg(long, value_delimiter = ',')]
    reweight_covariates: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DflArgs {
    #[command(flatten)]
    oaxaca: OaxacaArgs,
    /// Statistics (comma-separated; default q05..q95 in steps of 5, mean, var, gini, iqr10_90, iqr50_90,
    /// iqr10_50).
    #[arg(long, value_delimiter = ',')]
    statistic: Vec<String>,
    /// Numeric covariates Z of the reweighting logit (same as --covariates).
    #[arg(long, value_delimiter = ',')]
    reweight_covariates: Vec<String>,
    /// Which group gets the other's characteristics: b (default; C = B with A's Z) or a.
    #[arg(long, value_parser = ["a", "b"])]
    reweight_group: Option<String>,
    /// Cap on the reweighting factor psi (capped rows are counted).
    #[arg(long)]
    trim: Option<f64>,
    /// Sequential DFL: reweight on these covariates first (comma-separated), splitting the composition
    /// effect into their part and the rest's.
    #[arg(long, value_delimiter = ',')]
    sequential: Vec<String>,
    /// Quantile rule: stata (_pctile, default) or r7 (R's type 7; weighted as Hmisc::wtd.quantile).
    #[arg(long, value_parser = ["stata", "r7"])]
    quantile_method: Option<String>,
}

#[derive(Debug, Args)]
pub struct NonlinearArgs {
    #[command(flatten)]
    oaxaca: OaxacaArgs,
    /// The binary model.
    #[arg(long, value_parser = ["logit", "probit"], default_value = "logit")]
    model: String,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    oaxaca: OaxacaArgs,
    /// rif (default: RIF decomposition at each quantile, delta CIs) or dfl (reweighting; CIs with --se bootstrap).
    #[arg(long, value_parser = ["rif", "dfl"])]
    method: Option<String>,
    /// Percentiles (comma-separated; default 5,10,...,95).
    #[arg(long, value_delimiter = ',')]
    percentiles: Vec<f64>,
    /// Density kernel of the RIF method.
    #[arg(long, value_parser = ["gaussian", "epanechnikov", "epan2", "triangular", "biweight"])]
    kernel: Option<String>,
    /// Density bandwidth of the RIF method: silverman, nrd0 or a positive number.
    #[arg(long)]
    bandwidth: Option<String>,
    /// Quantile rule: stata (_pctile, default) or r7 (R's type 7; weighted as Hmisc::wtd.quantile).
    #[arg(long, value_parser = ["stata", "r7"])]
    quantile_method: Option<String>,
}

#[derive(Debug, Args)]
pub struct RifRegressionArgs {
    /// Payroll file, directory or glob; optional when the config names [input] path.
    input: Option<String>,
    /// Outcome column.
    #[arg(long)]
    outcome: Option<String>,
    /// Take the natural log of the outcome first.
    #[arg(long)]
    log: bool,
    /// Numeric covariates (comma-separated).
    #[arg(long, value_delimiter = ',')]
    covariates: Vec<String>,
    /// Categorical covariates, dummy-encoded (comma-separated).
    #[arg(long, value_delimiter = ',')]
    categorical: Vec<String>,
    /// Sampling weights.
    #[arg(long)]
    weight_column: Option<String>,
    /// Coefficient covariance: classical or robust (HC1), as rifhdreg.
    #[arg(long, value_parser = ["classical", "robust"])]
    vce: Option<String>,
    /// Standard errors: delta (the --vce covariance) or bootstrap (q, f(q) and the RIF recomputed per replicate).
    #[arg(long, value_parser = ["delta", "bootstrap"])]
    se: Option<String>,
    /// Bootstrap replicates.
    #[arg(long)]
    reps: Option<usize>,
    /// Bootstrap seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Confidence level (default 0.95).
    #[arg(long)]
    confidence: Option<f64>,
    #[command(flatten)]
    statistics: StatisticArgs,
    /// Audit config (TOML): [oaxaca] outcome, covariates, weights; [rif] statistic, kernel, bandwidth.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Fail (exit 1) if any row would be excluded.
    #[arg(long)]
    strict: bool,
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    scale: ScaleArgs,
}

/// The rows the RIF analyses read: in memory even when the input is a directory or beyond the memory limit
/// (the RIF of a quantile needs each group's whole sample; see docs/distributional.md).
fn load(input: &str, scale: &ScaleArgs, quiet: bool, options: &OaxacaOptions) -> Result<DataFrame> {
    let mut used: Vec<String> = options.columns_used().into_iter().filter(|c| !c.is_empty()).collect();
    used.dedup();
    let columns = (used, options.optional_columns());
    open_input(input, scale, quiet, columns.clone())?.run(
        "reading",
        quiet,
        |frame| Ok(frame.clone()),
        |source, _, _| {
            let mut wanted = columns.0.clone();
            wanted.extend(columns.1.iter().filter(|c| source.column_names().contains(c)).cloned());
            load_source(source, &Projection::new(source, Some(&wanted)))
        },
    )
}

pub fn run_rif(args: RifArgs) -> Result<ExitCode> {
    let config = args.oaxaca.config.as_ref().map(AuditConfig::from_file).transpose()?;
    let options = oaxaca_options(&args.oaxaca, config.as_ref())?;
    options.validate()?;
    let mut rif = args.statistics.options(config.as_ref())?;
    rif.reweight |= args.reweight;
    if args.trim.is_some() {
        rif.trim = args.trim;
    }
    if let Some(group) = &args.reweight_group {
        rif.reweight_group = parse_enum(group)?;
    }
    if !args.reweight_covariates.is_empty() {
        rif.reweight_covariates.clone_from(&args.reweight_covariates);
    }
    let input = input_path(&args.oaxaca.input, &config)?;
    let columns =
        (options.columns_used().into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>(), options.optional_columns());
    // Streamed on the partial-state engine when it covers the options; else the rows are read whole.
    let result = open_input(&input, &args.oaxaca.scale, args.oaxaca.quiet, columns)?.run(
        "decomposing",
        args.oaxaca.quiet,
        |frame| rif_decompose(frame, &options, &rif),
        |source, stream, progress| {
            if rif_streams(&options, &rif) {
                run(&RifAnalysis::new(&options, &rif, stream)?, source, stream, progress)
            } else {
                let mut wanted: Vec<String> = options.columns_used().into_iter().filter(|c| !c.is_empty()).collect();
                wanted.extend(options.optional_columns().into_iter().filter(|c| source.column_names().contains(c)));
                rif_decompose(&load_source(source, &Projection::new(source, Some(&wanted)))?, &options, &rif)
            }
        },
    )?;
    match args.oaxaca.format {
        Format::Table => emit(&rif_table(&result, args.oaxaca.detail))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => return Err(Error::Invalid("rif: use --format table or json".into())),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_rif_regression(args: RifRegressionArgs) -> Result<ExitCode> {
    let config = args.config.as_ref().map(AuditConfig::from_file).transpose()?;
    let mut options = config.as_ref().map(AuditConfig::oaxaca_options).unwrap_or_default();
    if let Some(outcome) = &args.outcome {
        options.outcome.clone_from(outcome);
    }
    options.log |= args.log;
    if !args.covariates.is_empty() {
        options.covariates.clone_from(&args.covariates);
    }
    if !args.categorical.is_empty() {
        options.categorical.clone_from(&args.categorical);
    }
    if args.weight_column.is_some() {
        options.weights.clone_from(&args.weight_column);
    }
    if let Some(vce) = &args.vce {
        options.vce = parse_enum(vce)?;
    }
    if let Some(confidence) = args.confidence {
        options.confidence = confidence;
    }
    if let Some(se) = &args.se {
        options.se = parse_enum(se)?;
    }
    if let Some(reps) = args.reps {
        options.reps = reps;
    }
    if let Some(seed) = args.seed {
        options.seed = seed;
    }
    options.strict |= args.strict;
    options.group = String::new();
    options.group_a = "all".into();
    let rif = args.statistics.options(config.as_ref())?;
    let input = input_path(&args.input, &config)?;
    let frame = load(&input, &args.scale, args.quiet, &options)?;
    let result = rif_regression(&frame, &options, &rif)?;
    match args.format {
        Format::Table => emit(&rif_regression_table(&result))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => {
            use payequity::polars::prelude::*;
            let c = &result.coefficients;
            let frame = df!(
                "term" => c.iter().map(|c| c.term.clone()).collect::<Vec<_>>(),
                "estimate" => c.iter().map(|c| c.estimate).collect::<Vec<_>>(),
                "se" => c.iter().map(|c| c.se).collect::<Vec<_>>(),
                "ci_low" => c.iter().map(|c| c.ci_low).collect::<Vec<_>>(),
                "ci_high" => c.iter().map(|c| c.ci_high).collect::<Vec<_>>()
            )?;
            print_csv(frame)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_dfl(mut args: DflArgs) -> Result<ExitCode> {
    if !args.reweight_covariates.is_empty() {
        args.oaxaca.covariates = std::mem::take(&mut args.reweight_covariates);
    }
    let config = args.oaxaca.config.as_ref().map(AuditConfig::from_file).transpose()?;
    let mut options = oaxaca_options(&args.oaxaca, config.as_ref())?;
    if args.oaxaca.se.is_none() {
        // DFL has no delta method: without --se bootstrap the figures are points.
        options.se = payequity::decompose::SeMethod::None;
    }
    options.validate()?;
    let mut dfl_options = config.as_ref().and_then(|c| c.dfl.clone()).unwrap_or_default();
    if !args.statistic.is_empty() {
        dfl_options.statistic = args.statistic.iter().map(|s| s.parse::<Statistic>()).collect::<Result<_>>()?;
    }
    if let Some(group) = &args.reweight_group {
        dfl_options.reweight_group = parse_enum(group)?;
    }
    if args.trim.is_some() {
        dfl_options.trim = args.trim;
    }
    if !args.sequential.is_empty() {
        dfl_options.sequential.clone_from(&args.sequential);
    }
    if let Some(method) = &args.quantile_method {
        dfl_options.quantile_method = parse_enum(method)?;
    }
    let input = input_path(&args.oaxaca.input, &config)?;
    let frame = load(&input, &args.oaxaca.scale, args.oaxaca.quiet, &options)?;
    let result = dfl(&frame, &options, &dfl_options)?;
    match args.oaxaca.format {
        Format::Table => emit(&dfl_table(&result))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => return Err(Error::Invalid("dfl: use --format table or json".into())),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_profile(args: ProfileArgs) -> Result<ExitCode> {
    let config = args.oaxaca.config.as_ref().map(AuditConfig::from_file).transpose()?;
    let options = oaxaca_options(&args.oaxaca, config.as_ref())?;
    options.validate()?;
    let mut profile = payequity::distributional::ProfileOptions::default();
    if let Some(rif) = config.as_ref().and_then(|c| c.rif.as_ref()) {
        profile.kernel = rif.kernel;
        profile.bandwidth = rif.bandwidth;
        profile.quantile_method = rif.quantile_method;
    }
    if let Some(method) = &args.method {
        profile.method = parse_enum(method)?;
    }
    if !args.percentiles.is_empty() {
        profile.percentiles.clone_from(&args.percentiles);
    }
    if let Some(kernel) = &args.kernel {
        profile.kernel = kernel.parse()?;
    }
    if let Some(bandwidth) = &args.bandwidth {
        profile.bandwidth = bandwidth.parse()?;
    }
    if let Some(method) = &args.quantile_method {
        profile.quantile_method = parse_enum(method)?;
    }
    let input = input_path(&args.oaxaca.input, &config)?;
    let columns =
        (options.columns_used().into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>(), options.optional_columns());
    // Streamed on the engine when the RIF plan covers the options; else the rows are read whole.
    let result = open_input(&input, &args.oaxaca.scale, args.oaxaca.quiet, columns)?.run(
        "profiling",
        args.oaxaca.quiet,
        |frame| quantile_profile(frame, &options, &profile),
        |source, stream, progress| {
            if profile_streams(&options, &profile) {
                run(&ProfileAnalysis::new(&options, &profile, stream)?, source, stream, progress)
            } else {
                let mut wanted: Vec<String> = options.columns_used().into_iter().filter(|c| !c.is_empty()).collect();
                wanted.extend(options.optional_columns().into_iter().filter(|c| source.column_names().contains(c)));
                quantile_profile(&load_source(source, &Projection::new(source, Some(&wanted)))?, &options, &profile)
            }
        },
    )?;
    match args.oaxaca.format {
        Format::Table => emit(&profile_table(&result))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => {
            use payequity::polars::prelude::*;
            let p = &result.points;
            let frame = df!(
                "percentile" => p.iter().map(|p| p.percentile).collect::<Vec<_>>(),
                "a" => p.iter().map(|p| p.a).collect::<Vec<_>>(),
                "b" => p.iter().map(|p| p.b).collect::<Vec<_>>(),
                "gap" => p.iter().map(|p| p.gap.estimate).collect::<Vec<_>>(),
                "gap_ci_low" => p.iter().map(|p| p.gap.ci_low).collect::<Vec<_>>(),
                "gap_ci_high" => p.iter().map(|p| p.gap.ci_high).collect::<Vec<_>>(),
                "composition" => p.iter().map(|p| p.composition.estimate).collect::<Vec<_>>(),
                "composition_se" => p.iter().map(|p| p.composition.se).collect::<Vec<_>>(),
                "structure" => p.iter().map(|p| p.structure.estimate).collect::<Vec<_>>(),
                "structure_se" => p.iter().map(|p| p.structure.se).collect::<Vec<_>>()
            )?;
            print_csv(frame)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_nonlinear(args: NonlinearArgs) -> Result<ExitCode> {
    let config = args.oaxaca.config.as_ref().map(AuditConfig::from_file).transpose()?;
    let options = oaxaca_options(&args.oaxaca, config.as_ref())?;
    options.validate()?;
    let input = input_path(&args.oaxaca.input, &config)?;
    let frame = load(&input, &args.oaxaca.scale, args.oaxaca.quiet, &options)?;
    let result = nonlinear_decompose(&frame, &options, parse_enum(&args.model)?)?;
    match args.oaxaca.format {
        Format::Table => emit(&nonlinear_table(&result))?,
        Format::Json => emit_line(&to_json(&result)?)?,
        Format::Csv => return Err(Error::Invalid("nonlinear: use --format table or json".into())),
    }
    Ok(ExitCode::SUCCESS)
}
