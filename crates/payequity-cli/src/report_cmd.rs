//! `payequity report --config audit.toml` and `payequity demo`: every analysis the config sets up, with a
//! progress bar per step, the headline figures on stdout, and the evidence pack (report.html, report.json,
//! summary.md, tables as CSV and Parquet) in the output folder. Exit 2 when a `[report.fail_if]` threshold
//! is breached.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use payequity::config::AuditConfig;
use payequity::report::{
    audit_steps, gap_summary, generated_at, headline_text, report_options, run_audit_with, to_json, write_evidence,
    AuditReport,
};
use payequity::{Error, Result};

use crate::output::{emit, emit_line, Format};
use crate::scale_cmd::ScaleArgs;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The audit config (TOML): input, columns, analyses, `[report]` output folder and thresholds.
    #[arg(long)]
    config: PathBuf,
    /// Output folder (overrides `[report] out`; default `payequity-report/`).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    print: PrintArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output folder of the evidence pack (default `payequity-demo/`).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    print: PrintArgs,
}

/// What the report commands print.
#[derive(Debug, Args)]
pub struct PrintArgs {
    /// `table`: headline figures and each analysis' table; `json`: the report document.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    scale: ScaleArgs,
}

/// A progress bar over the steps of an audit (hidden with `--quiet` or when stderr is not a terminal).
fn steps_bar(steps: usize, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
            .expect("valid template")
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Runs the audit of `config` with progress, writes the pack into `out`, prints the figures.
fn audit_and_write(config: &AuditConfig, out: &Path, print: &PrintArgs) -> Result<AuditReport> {
    let (format, quiet) = (print.format, print.quiet);
    let (stream, engine) = print.scale.stream_options()?;
    if format == Format::Csv {
        return Err(Error::Invalid(
            "--format csv: the report has many tables; they are written as CSV (and Parquet) into the output \
             folder. Use --format table or json"
                .into(),
        ));
    }
    let steps = audit_steps(config);
    let bar = steps_bar(steps.len(), quiet);
    let mut started = 0u64;
    let report = run_audit_with(config, &stream, engine, &mut |step| {
        bar.set_position(started);
        bar.set_message(step.to_string());
        started += 1;
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            bar.abandon();
            return Err(e);
        }
    };
    bar.set_message("writing the evidence pack");
    let files = write_evidence(&report, out, &generated_at())?;
    bar.finish_and_clear();
    match format {
        Format::Json => emit_line(&to_json(&report)?)?,
        Format::Table | Format::Csv => {
            emit(&report_text(&report))?;
            emit_line(&format!(
                "\nWrote {} files to {}: report.html, report.json, summary.md and the tables (CSV, Parquet)",
                files.files.len(),
                payequity::data::terminal_safe(
                    &std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf()).display().to_string()
                )
            ))?;
        }
    }
    Ok(report)
}

/// The headline figures, breaches and each analysis' table.
pub fn report_text(report: &AuditReport) -> String {
    let mut out = format!("{}\n", report.title);
    if let Some(o) = &report.organisation {
        out.push_str(&format!("{o}\n"));
    }
    out.push_str("\nHeadline figures\n");
    for h in &report.headline {
        out.push_str(&format!("  {:<62} {}\n", h.label, headline_text(h)));
    }
    if let Some(gap) = &report.gap {
        out.push('\n');
        out.push_str(&gap_summary(gap));
    }
    if let Some(oaxaca) = &report.oaxaca {
        out.push('\n');
        out.push_str(&payequity::decompose::oaxaca_table(oaxaca, false));
    }
    if let Some(t) = &report.transparency {
        out.push('\n');
        out.push_str(&payequity::transparency::transparency_table(t));
    }
    if let Some(e) = &report.equal_value {
        out.push('\n');
        out.push_str(&payequity::equal_value::equal_value_table(e));
    }
    if let Some(a) = &report.entitlements {
        out.push('\n');
        out.push_str(&payequity::entitlements::entitlement_table(a));
    }
    if !report.breaches.is_empty() {
        out.push_str("\nThresholds breached ([report.fail_if]):\n");
        for b in &report.breaches {
            out.push_str(&format!("  {}: {}\n", b.key, b.message));
        }
    }
    out
}

/// The output folder: the flag, else `[report] out` (relative to the config file), else `default`.
fn output_folder(flag: &Option<PathBuf>, config: &AuditConfig, default: &str) -> Result<PathBuf> {
    if let Some(out) = flag {
        return Ok(out.clone());
    }
    Ok(match report_options(config)?.out {
        Some(out) if out.is_relative() => config.base_dir.join(out),
        Some(out) => out,
        None => PathBuf::from(default),
    })
}

pub fn run_report(args: ReportArgs) -> Result<ExitCode> {
    let config = AuditConfig::from_file(&args.config)?;
    let out = output_folder(&args.out, &config, "payequity-report")?;
    let report = audit_and_write(&config, &out, &args.print)?;
    Ok(if report.breached() { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// The bundled demo folder: `datasets/demo` under the current directory or the source tree.
/// The folder of the demo data: `$PAYEQUITY_DATA_DIR/demo` (the Python package sets it to its package data),
/// else `datasets/demo` of the working directory or of the repository the binary was built from.
fn demo_dir() -> Result<PathBuf> {
    let packaged = std::env::var_os("PAYEQUITY_DATA_DIR").map(|d| PathBuf::from(d).join("demo"));
    let candidates = packaged
        .into_iter()
        .chain([PathBuf::from("datasets/demo"), Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/demo")]);
    candidates.into_iter().find(|p| p.join("audit.toml").is_file()).ok_or_else(|| Error::Io {
        path: "datasets/demo/audit.toml".into(),
        reason: "the demo data is not found: run from the repository root, or install the payequity wheel \
                 (its `payequity` command carries the demo data)"
            .into(),
    })
}

/// The report on the bundled demo payroll with its shipped config. The demo shows the thresholds it
/// breaches but exits 0: it is a showcase, `payequity report` is the batch job.
pub fn run_demo(args: DemoArgs) -> Result<ExitCode> {
    let config = AuditConfig::from_file(demo_dir()?.join("audit.toml"))?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("payequity-demo"));
    if args.print.format == Format::Table {
        emit_line("payequity demo: synthetic health-and-care payroll (datasets/demo)\n")?;
    }
    let report = audit_and_write(&config, &out, &args.print)?;
    if args.print.format == Format::Table && report.breached() {
        emit_line(
            "(`payequity report --config datasets/demo/audit.toml` exits 2 on these breaches; the demo exits 0)",
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
