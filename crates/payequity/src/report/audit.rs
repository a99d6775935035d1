//! The audit report (`kind = "audit_report"`): one config runs every analysis it configures on the payroll
//! (gaps, Oaxaca-Blinder, transparency regimes, equal value, entitlement audits), collects their documents,
//! the headline figures, the warnings, the input checksums and the `[report] fail_if` threshold breaches.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::AuditConfig;
use crate::data::{load_table, Ledger};
use crate::decompose::OaxacaResult;
use crate::entitlements::EntitlementAudit;
use crate::equal_value::EqualValueResult;
use crate::gap::GapResult;
use crate::scale::{for_each_batch, Engine, Projection, Silent, Source, StreamOptions};
use crate::transparency::TransparencyResult;
use crate::{Error, Result};

/// `[report]`: where the evidence goes, what it shows and which findings fail the job (exit 2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportOptions {
    /// Output folder (relative to the config file); the CLI's `--out` overrides it.
    pub out: Option<PathBuf>,
    /// Title of the report (default "Pay equity audit").
    pub title: Option<String>,
    /// The organisation audited, shown under the title.
    pub organisation: Option<String>,
    /// Add the worker-level annex (arrears by worker with employee ids) to the report and the pack.
    pub worker_annex: bool,
    pub fail_if: FailIf,
}

/// `[report.fail_if]`: thresholds that make `payequity report` exit with code 2.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FailIf {
    /// An Art. 10 flag without justification (a joint pay assessment is due).
    pub eu_trigger: bool,
    /// Entitlement arrears above this amount (0 = any arrears).
    pub arrears_total_above: Option<f64>,
    /// Mean gender pay gap (`[gap]`) above this percentage.
    pub mean_gap_above_pct: Option<f64>,
    /// Logib verdict "above the 5% tolerance limit".
    pub logib_above_limit: bool,
}

/// A threshold the findings breach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    pub key: String,
    pub limit: Option<f64>,
    pub value: Option<f64>,
    pub message: String,
}

/// An input file: its name, size and SHA-256, for reproducibility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub rows: u64,
}

/// One headline figure: `path` locates its value in this document (dot-separated keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub key: String,
    pub label: String,
    pub path: String,
    pub value: Option<f64>,
    /// `pct` | `log_points` | `currency` | `count` | `text`.
    pub unit: String,
    /// The figure in words (`text` figures, and the reading of the others).
    pub text: Option<String>,
}

/// The audit report document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditReport {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    /// Rows of the input (read = used: each analysis keeps its own ledger).
    pub ledger: Ledger,
    /// Every analysis' warnings, prefixed with the analysis.
    pub warnings: Vec<String>,
    pub title: String,
    pub organisation: Option<String>,
    pub config_file: String,
    pub config_sha256: String,
    /// The exact config text the report was produced with.
    pub config_text: String,
    pub inputs: Vec<InputFile>,
    pub min_cell: u64,
    pub worker_annex: bool,
    pub headline: Vec<Headline>,
    pub breaches: Vec<Breach>,
    pub fail_if: FailIf,
    pub gap: Option<GapResult>,
    pub oaxaca: Option<OaxacaResult>,
    /// The quantile profile (`[rif]` in the config, with the `[oaxaca]` groups and covariates).
    pub quantile_profile: Option<crate::distributional::QuantileProfile>,
    pub transparency: Option<TransparencyResult>,
    pub equal_value: Option<EqualValueResult>,
    pub entitlements: Option<EntitlementAudit>,
    /// The bargaining scenarios (`[scenario]` in the config).
    #[serde(default)]
    pub scenarios: Option<crate::scenario::ScenarioResult>,
}

impl AuditReport {
    /// True when a `fail_if` threshold is breached (the CLI exits 2).
    pub fn breached(&self) -> bool {
        !self.breaches.is_empty()
    }
}

/// The `[report]` options of a config (errors name the key, e.g. `report.fail_if.eu_triger`).
pub fn report_options(config: &AuditConfig) -> Result<ReportOptions> {
    match &config.report {
        Some(table) => crate::config::section(table, "report", &config.file),
        None => Ok(ReportOptions::default()),
    }
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn file_checksum(path: &Path) -> Result<(u64, String)> {
    use std::io::Read;
    let io = |e: std::io::Error| Error::Io { path: path.display().to_string(), reason: e.to_string() };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((bytes, hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()))
}

/// Reads the config's input files (stacked in order; they must share their columns) with their checksums.
pub fn read_inputs(config: &AuditConfig) -> Result<(DataFrame, Vec<InputFile>)> {
    read_input_columns(config, None)
}

/// [`read_inputs`], reading only `columns` = (required, optional) of each file when given (a file without
/// a required column is read whole, so that the analysis names what is missing among all its columns).
pub fn read_input_columns(
    config: &AuditConfig,
    columns: Option<(&[String], &[String])>,
) -> Result<(DataFrame, Vec<InputFile>)> {
    let paths = config.input_paths();
    if paths.is_empty() {
        return Err(Error::Config { file: config.file.clone(), key: "input.path".into(), reason: "missing".into() });
    }
    let mut frame: Option<DataFrame> = None;
    let mut inputs = Vec::new();
    for path in &paths {
        let table = match columns {
            Some((required, optional)) => crate::data::load_table_columns(path, required, optional)?,
            None => load_table(path)?,
        };
        let (bytes, sha256) = file_checksum(path)?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        inputs.push(InputFile { path: name, bytes, sha256, rows: table.height() as u64 });
        frame = Some(match frame {
            None => table,
            Some(mut stacked) => {
                stacked.vstack_mut(&table).map_err(|e| Error::Io {
                    path: path.display().to_string(),
                    reason: format!("cannot stack it under the first input (same columns and types needed): {e}"),
                })?;
                stacked
            }
        });
    }
    Ok((frame.expect("at least one input"), inputs))
}

/// The analyses of a config, in the order they run.
pub fn audit_steps(config: &AuditConfig) -> Vec<&'static str> {
    let mut steps = vec!["reading the payroll", "pay gaps"];
    if config.oaxaca.is_some() {
        steps.push("Oaxaca-Blinder decomposition");
    }
    if config.rif.is_some() {
        steps.push("quantile profile");
    }
    if config.transparency.is_some() {
        steps.push("pay transparency");
    }
    if config.scenario.is_some() {
        steps.push("bargaining scenarios");
    }
    if config.equal_value.is_some() {
        steps.push("equal value");
    }
    if config.entitlements.is_some() {
        steps.push("entitlement audit");
    }
    steps
}

/// Runs every analysis `config` configures on its input files. `progress` is called with each step of
/// [`audit_steps`] as it starts. The config text is echoed into the report. Inputs that would not fit the
/// default memory limit (2 GiB) are streamed ([`run_audit_with`]).
pub fn run_audit(config: &AuditConfig, progress: &mut dyn FnMut(&str)) -> Result<AuditReport> {
    run_audit_with(config, &StreamOptions::default(), Engine::Auto, progress)
}

/// [`run_audit`] within `stream.memory_limit`: in memory when `engine` says so (auto: when the input
/// fits), else every analysis streams its batches. The input
/// paths may be files, directories or globs. The document is the same either way.
pub fn run_audit_with(
    config: &AuditConfig,
    stream: &StreamOptions,
    engine: Engine,
    progress: &mut dyn FnMut(&str),
) -> Result<AuditReport> {
    let options = report_options(config)?;
    progress("reading the payroll");
    let paths: Vec<String> = config.input_paths().iter().map(|p| p.display().to_string()).collect();
    if paths.is_empty() {
        return Err(Error::Config { file: config.file.clone(), key: "input.path".into(), reason: "missing".into() });
    }
    let source = Source::resolve_all(&paths)?;
    let plain_files = config.input_paths().iter().all(|p| p.is_file());
    if stream.reads_in_memory(&source, engine) && plain_files {
        let (frame, inputs) = read_inputs(config)?;
        return audit_rows(config, &options, &ReportRows::Memory(&frame), inputs, progress);
    }
    let inputs = source_inputs(&source)?;
    audit_rows(config, &options, &ReportRows::Stream(&source, stream), inputs, progress)
}

/// The input files of a streamed source with their sizes, checksums and row counts (one pass over a
/// single column).
fn source_inputs(source: &Source) -> Result<Vec<InputFile>> {
    let mut rows = vec![0u64; source.files.len()];
    let first = source.column_names().into_iter().take(1).collect::<Vec<_>>();
    let projection = Projection::new(source, Some(&first));
    for_each_batch(source, &projection, 1 << 20, |batch| {
        rows[batch.file] += batch.frame.height() as u64;
        Ok(())
    })?;
    source
        .files
        .iter()
        .zip(rows)
        .map(|(file, rows)| {
            let (bytes, sha256) = file_checksum(&file.path)?;
            let mut name = file.path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            for (key, value) in file.hive.iter().rev() {
                name = format!("{key}={value}/{name}");
            }
            Ok(InputFile { path: name, bytes, sha256, rows })
        })
        .collect()
}

/// Where the report's rows come from: a table in memory, or a source streamed in batches.
#[derive(Debug)]
pub enum ReportRows<'a> {
    Memory(&'a DataFrame),
    Stream(&'a Source, &'a StreamOptions),
}

impl ReportRows<'_> {
    fn gap(&self, o: &crate::gap::GapOptions) -> Result<crate::gap::GapResult> {
        match self {
            ReportRows::Memory(frame) => crate::gap::gap(frame, o),
            ReportRows::Stream(source, stream) => crate::gap::gap_source(source, o, stream, &Silent),
        }
    }

    fn oaxaca(&self, o: &crate::decompose::OaxacaOptions) -> Result<crate::decompose::OaxacaResult> {
        match self {
            ReportRows::Memory(frame) => crate::decompose::oaxaca(frame, o),
            ReportRows::Stream(source, stream) => {
                crate::scale::run(&crate::decompose::OaxacaAnalysis::new(o), source, stream, &Silent)
            }
        }
    }

    /// The profile reads the rows into memory (each group's whole sample), also for a streamed report.
    fn quantile_profile(
        &self,
        o: &crate::decompose::OaxacaOptions,
        p: &crate::distributional::ProfileOptions,
    ) -> Result<crate::distributional::QuantileProfile> {
        match self {
            ReportRows::Memory(frame) => crate::distributional::quantile_profile(frame, o, p),
            ReportRows::Stream(source, _) => {
                let mut wanted: Vec<String> = o.columns_used().into_iter().filter(|c| !c.is_empty()).collect();
                wanted.extend(o.optional_columns().into_iter().filter(|c| source.column_names().contains(c)));
                let frame = crate::scale::load_source(source, &crate::scale::Projection::new(source, Some(&wanted)))?;
                crate::distributional::quantile_profile(&frame, o, p)
            }
        }
    }

    fn transparency(
        &self,
        o: &crate::transparency::TransparencyOptions,
    ) -> Result<crate::transparency::TransparencyResult> {
        match self {
            ReportRows::Memory(frame) => crate::transparency::transparency(frame, o),
            ReportRows::Stream(source, stream) => {
                crate::scale::run(&crate::transparency::TransparencyAnalysis::new(o), source, stream, &Silent)
            }
        }
    }

    fn equal_value(&self, o: &crate::equal_value::EqualValueOptions) -> Result<crate::equal_value::EqualValueResult> {
        match self {
            ReportRows::Memory(frame) => crate::equal_value::equal_value(frame, o),
            ReportRows::Stream(source, stream) => {
                crate::scale::run(&crate::equal_value::EqualValueAnalysis::new(o), source, stream, &Silent)
            }
        }
    }

    fn entitlements(
        &self,
        rules: &crate::entitlements::RuleSet,
        o: &crate::entitlements::EntitlementOptions,
    ) -> Result<crate::entitlements::EntitlementAudit> {
        match self {
            ReportRows::Memory(frame) => crate::entitlements::audit_entitlements(frame, rules, o),
            ReportRows::Stream(source, stream) => {
                crate::scale::run(&crate::entitlements::AuditAnalysis::new(rules, o), source, stream, &Silent)
            }
        }
    }
}

/// [`run_audit`] on a table already in memory (`inputs` describes where it came from).
pub fn audit_frame(
    config: &AuditConfig,
    options: &ReportOptions,
    frame: &DataFrame,
    inputs: Vec<InputFile>,
    progress: &mut dyn FnMut(&str),
) -> Result<AuditReport> {
    audit_rows(config, options, &ReportRows::Memory(frame), inputs, progress)
}

/// Every analysis of `config` on `rows`.
pub fn audit_rows(
    config: &AuditConfig,
    options: &ReportOptions,
    rows: &ReportRows<'_>,
    inputs: Vec<InputFile>,
    progress: &mut dyn FnMut(&str),
) -> Result<AuditReport> {
    let frame = rows;
    let mut warnings = Vec::new();
    progress("pay gaps");
    let gap_options = config.gap_options();
    let gap = frame.gap(&gap_options)?;
    warnings.extend(gap.warnings.iter().map(|w| format!("gap: {w}")));
    let oaxaca = match &config.oaxaca {
        Some(_) => {
            progress("Oaxaca-Blinder decomposition");
            let r = frame.oaxaca(&config.oaxaca_options())?;
            warnings.extend(r.warnings.iter().map(|w| format!("oaxaca: {w}")));
            Some(r)
        }
        None => None,
    };
    let quantile_profile = match &config.rif {
        Some(rif) => {
            progress("quantile profile");
            let profile = crate::distributional::ProfileOptions {
                kernel: rif.kernel,
                bandwidth: rif.bandwidth,
                ..Default::default()
            };
            let r = frame.quantile_profile(&config.oaxaca_options(), &profile)?;
            warnings.extend(r.warnings.iter().map(|w| format!("quantile profile: {w}")));
            Some(r)
        }
        None => None,
    };
    let transparency = match &config.transparency {
        Some(_) => {
            progress("pay transparency");
            let r = frame.transparency(&config.transparency_options()?)?;
            warnings.extend(r.warnings.iter().map(|w| format!("transparency: {w}")));
            Some(r)
        }
        None => None,
    };
    let equal_value = match &config.equal_value {
        Some(_) => {
            progress("equal value");
            let mut r = frame.equal_value(&config.equal_value_options()?)?;
            warnings.extend(r.warnings.iter().map(|w| format!("equal value: {w}")));
            // Worker-level adjustments name employees: only in the annex.
            if r.worker_adjustments.is_some() && !options.worker_annex {
                r.worker_adjustments = None;
                warnings.push(
                    "equal value: the worker-level adjustments name employees and are left out of the report; \
                     set `[report] worker_annex = true` to include them"
                        .into(),
                );
            }
            Some(r)
        }
        None => None,
    };
    let entitlements = match &config.entitlements {
        Some(_) => {
            progress("entitlement audit");
            let audit_options = config.entitlement_options()?;
            let rules = crate::entitlements::load_rules(&audit_options.rules)?;
            let r = frame.entitlements(&rules, &audit_options)?;
            warnings.extend(r.warnings.iter().map(|w| format!("entitlements: {w}")));
            Some(r)
        }
        None => None,
    };
    let scenarios = match &config.scenario {
        Some(section) => {
            progress("bargaining scenarios");
            let ReportRows::Memory(table) = frame else {
                return Err(Error::Invalid(
                    "bargaining scenarios need the payroll in memory: run the report with `--engine memory` \
                     (or a larger `--memory-limit`)"
                        .into(),
                ));
            };
            let set = crate::scenario::ScenarioSet::from_file(config.base_dir.join(&section.file))?;
            let request = crate::scenario::ScenarioRequest {
                target: None,
                remediate: section.remediate,
                annex: options.worker_annex,
            };
            let r = crate::scenario::scenario_run(table, config, &set, &request)?;
            warnings.extend(r.warnings.iter().map(|w| format!("scenarios: {w}")));
            Some(r)
        }
        None => None,
    };
    let rows: u64 = inputs.iter().map(|i| i.rows).sum();
    let mut report = AuditReport {
        kind: "audit_report".into(),
        version: crate::VERSION.into(),
        commit: crate::COMMIT.into(),
        ledger: Ledger::new(rows),
        warnings,
        title: options.title.clone().unwrap_or_else(|| "Pay equity audit".into()),
        organisation: options.organisation.clone(),
        config_file: Path::new(&config.file)
            .file_name()
            .map_or_else(|| config.file.clone(), |n| n.to_string_lossy().into_owned()),
        config_sha256: sha256_hex(config.text.as_bytes()),
        config_text: config.text.clone(),
        inputs,
        min_cell: gap_options.min_cell,
        worker_annex: options.worker_annex,
        headline: Vec::new(),
        breaches: Vec::new(),
        fail_if: options.fail_if.clone(),
        gap: Some(gap),
        oaxaca,
        quantile_profile,
        transparency,
        equal_value,
        entitlements,
        scenarios,
    };
    report.headline = super::reading::headline(&report);
    report.breaches = breaches(&report, &options.fail_if);
    Ok(report)
}

/// The `fail_if` thresholds the findings breach.
pub fn breaches(report: &AuditReport, fail_if: &FailIf) -> Vec<Breach> {
    let mut out = Vec::new();
    if fail_if.eu_trigger {
        if let Some(eu) = report.transparency.as_ref().and_then(|t| t.eu.as_ref()) {
            let open: Vec<String> = eu
                .art10_flags
                .iter()
                .filter(|f| f.justification.is_none())
                .map(|f| f.category.clone().unwrap_or_else(|| "(missing)".into()))
                .collect();
            if !open.is_empty() {
                out.push(Breach {
                    key: "eu_trigger".into(),
                    limit: None,
                    value: Some(open.len() as f64),
                    message: format!(
                        "EU Art. 10: a gap of 5% or more without justification in {} ({}): a joint pay \
                         assessment is due",
                        if open.len() == 1 { "one category" } else { "several categories" },
                        open.join(", ")
                    ),
                });
            }
        }
    }
    if let (Some(limit), Some(audit)) = (fail_if.arrears_total_above, &report.entitlements) {
        if audit.arrears_total > limit {
            out.push(Breach {
                key: "arrears_total_above".into(),
                limit: Some(limit),
                value: Some(audit.arrears_total),
                message: format!(
                    "entitlement arrears {} {currency} exceed the limit {}",
                    super::reading::money(audit.arrears_total),
                    super::reading::money(limit),
                    currency = audit.ruleset.currency.clone().unwrap_or_default()
                ),
            });
        }
    }
    if let Some(limit) = fail_if.mean_gap_above_pct {
        if let Some(gap) = report.gap.as_ref().and_then(|g| g.overall.mean_gap_pct.estimate) {
            if gap > limit {
                out.push(Breach {
                    key: "mean_gap_above_pct".into(),
                    limit: Some(limit),
                    value: Some(gap),
                    message: format!("the mean gender pay gap {gap:.1}% exceeds {limit:.1}%"),
                });
            }
        }
    }
    if fail_if.logib_above_limit {
        if let Some(logib) = report.transparency.as_ref().and_then(|t| t.logib.as_ref()) {
            if logib.verdict == crate::transparency::LogibVerdict::AboveLimit {
                out.push(Breach {
                    key: "logib_above_limit".into(),
                    limit: Some(5.0),
                    value: Some(100.0 * logib.kennedy),
                    message: "Logib: the unexplained wage difference is significantly above the 5% tolerance limit"
                        .into(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(report: &str) -> AuditConfig {
        AuditConfig::from_toml(&format!("[input]\npath = \"p.parquet\"\n\n[report]\n{report}\n"), "audit.toml").unwrap()
    }

    #[test]
    fn report_section_is_typed_with_defaults() {
        let options = report_options(&config("fail_if = { eu_trigger = true, arrears_total_above = 0 }")).unwrap();
        assert!(options.fail_if.eu_trigger && !options.worker_annex);
        assert_eq!(options.fail_if.arrears_total_above, Some(0.0));
        assert_eq!(options.fail_if.mean_gap_above_pct, None);
        assert_eq!(report_options(&AuditConfig::default()).unwrap(), ReportOptions::default());
    }

    #[test]
    fn unknown_report_keys_name_the_full_key() {
        let err = report_options(&config("fail_if = { eu_triger = true }")).unwrap_err().to_string();
        assert!(err.contains("report.fail_if.eu_triger"), "{err}");
        let err = report_options(&config("worker_annex = \"yes\"")).unwrap_err().to_string();
        assert!(err.contains("report.worker_annex"), "{err}");
    }

    #[test]
    fn checksum_is_sha256() {
        // FIPS 180-2 test vector.
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
