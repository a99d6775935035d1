//! The evidence pack: what `payequity report` writes into its output folder — `report.html`, `report.json`
//! (the whole document), `summary.md`, and every table as CSV and Parquet. Everything but the HTML's
//! timestamp is a function of the config and the inputs: two runs write byte-identical JSON and CSV.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::audit::AuditReport;
use super::html::report_html;
use super::reading::summary_markdown;
use super::to_json;
use crate::data::write_table;
use crate::{Error, Result};

/// The files written, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceFiles {
    pub files: Vec<PathBuf>,
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| io_error(path, e))
}

/// One row of the ledger table: analysis, rows read, rows used, exclusion reason, rows excluded.
type LedgerRow<'a> = (&'a str, u64, u64, Option<String>, Option<u64>);

/// The row ledgers of every analysis: `analysis, read, used, reason, rows`.
fn ledger_frame(report: &AuditReport) -> Result<DataFrame> {
    let mut rows: Vec<LedgerRow> = Vec::new();
    let ledgers = [
        ("gap", report.gap.as_ref().map(|r| &r.ledger)),
        ("oaxaca", report.oaxaca.as_ref().map(|r| &r.ledger)),
        ("quantile_profile", report.quantile_profile.as_ref().map(|r| &r.ledger)),
        ("transparency", report.transparency.as_ref().map(|r| &r.ledger)),
        ("equal_value", report.equal_value.as_ref().map(|r| &r.ledger)),
        ("entitlements", report.entitlements.as_ref().map(|r| &r.ledger)),
    ];
    for (name, ledger) in ledgers {
        let Some(ledger) = ledger else { continue };
        if ledger.excluded.is_empty() {
            rows.push((name, ledger.read, ledger.used, None, None));
        }
        for (reason, n) in &ledger.excluded {
            rows.push((name, ledger.read, ledger.used, Some(reason.clone()), Some(*n)));
        }
    }
    Ok(df!(
        "analysis" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "read" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "used" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "reason" => rows.iter().map(|r| r.3.clone()).collect::<Vec<_>>(),
        "rows" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
    )?)
}

/// Short-paid share and arrears by group (`min_cell` suppression as in the document).
fn disparity_frame(report: &AuditReport) -> Result<Option<DataFrame>> {
    let Some(audit) = &report.entitlements else { return Ok(None) };
    let d = &audit.disparities;
    Ok(Some(df!(
        "by" => d.iter().map(|r| r.by.clone()).collect::<Vec<_>>(),
        "group" => d.iter().map(|r| r.group.clone()).collect::<Vec<_>>(),
        "rule" => d.iter().map(|r| r.rule.clone()).collect::<Vec<_>>(),
        "workers" => d.iter().map(|r| r.workers).collect::<Vec<_>>(),
        "eligible" => d.iter().map(|r| r.eligible).collect::<Vec<_>>(),
        "underpaid" => d.iter().map(|r| r.underpaid).collect::<Vec<_>>(),
        "underpaid_pct" => d.iter().map(|r| r.underpaid_pct).collect::<Vec<_>>(),
        "mean_arrears" => d.iter().map(|r| r.mean_arrears).collect::<Vec<_>>(),
        "arrears_total" => d.iter().map(|r| r.arrears_total).collect::<Vec<_>>(),
        "p_value" => d.iter().map(|r| r.p_value).collect::<Vec<_>>(),
        "suppressed" => d.iter().map(|r| r.suppressed).collect::<Vec<_>>(),
    )?))
}

/// Arrears by rule and period (no worker ids): lines, workers, expected, paid and shortfall.
fn arrears_by_period(report: &AuditReport) -> Result<Option<DataFrame>> {
    let Some(audit) = &report.entitlements else { return Ok(None) };
    let frame = audit
        .arrears
        .clone()
        .lazy()
        .group_by([col("rule"), col("period")])
        .agg([
            len().cast(DataType::UInt64).alias("lines"),
            col("employee_id").n_unique().cast(DataType::UInt64).alias("workers"),
            col("expected").sum().alias("expected"),
            col("paid").sum().alias("paid"),
            col("shortfall").sum().alias("shortfall"),
        ])
        .sort(["rule", "period"], Default::default())
        .collect()?;
    Ok(Some(frame))
}

/// The worker-level arrears as JSON rows for the report's annex.
fn annex_rows(arrears: &DataFrame) -> Result<serde_json::Value> {
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        let column = arrears.column(name)?.cast(&DataType::String)?;
        Ok(column.str()?.iter().map(|v| v.map(str::to_string)).collect())
    };
    let number = |name: &str| -> Result<Vec<Option<f64>>> {
        Ok(arrears.column(name)?.cast(&DataType::Float64)?.f64()?.iter().collect())
    };
    let (ids, rules, periods, statuses) = (text("employee_id")?, text("rule")?, text("period")?, text("status")?);
    let (expected, paid, shortfall) = (number("expected")?, number("paid")?, number("shortfall")?);
    let rows = (0..arrears.height())
        .map(|i| {
            serde_json::json!({
                "employee_id": ids[i], "rule": rules[i], "period": periods[i], "expected": expected[i],
                "paid": paid[i], "shortfall": shortfall[i], "status": statuses[i],
            })
        })
        .collect();
    Ok(serde_json::Value::Array(rows))
}

/// The time stamp of a report page: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now, in UTC.
pub fn generated_at() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse::<i64>().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
    });
    chrono::DateTime::from_timestamp(seconds, 0)
        .map_or_else(|| "unknown time".into(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// The report page, with the worker-level annex when the report asks for it.
pub fn report_page(report: &AuditReport, generated_at: &str) -> Result<String> {
    let annex = match (&report.entitlements, report.worker_annex) {
        (Some(audit), true) => Some(annex_rows(&audit.arrears)?),
        _ => None,
    };
    report_html(report, generated_at, annex.as_ref())
}

/// The documents a pack may hold.
const PACK_DOCUMENTS: [&str; 10] = [
    "report.json",
    "report.html",
    "summary.md",
    "gap.json",
    "oaxaca.json",
    "quantile_profile.json",
    "transparency.json",
    "equal_value.json",
    "entitlement_audit.json",
    "scenarios.json",
];
/// The tables a pack may hold, each as `.csv` and `.parquet`.
const PACK_TABLES: [&str; 11] = [
    "ledger",
    "gap_by_group",
    "oaxaca",
    "transparency",
    "equal_value_classes",
    "entitlement_rules",
    "entitlement_disparities",
    "arrears_by_rule_period",
    "arrears_by_worker",
    "scenarios",
    "remediation_by_worker",
];

/// Every file name a pack owns (and a new pack replaces or removes).
fn pack_file_names() -> Vec<String> {
    let mut names: Vec<String> = PACK_DOCUMENTS.iter().map(|n| n.to_string()).collect();
    for table in PACK_TABLES {
        names.push(format!("{table}.csv"));
        names.push(format!("{table}.parquet"));
    }
    names
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Output { path: path.display().to_string(), reason: e.to_string() }
}

/// Writes the report page, the JSON document, the summary and the tables into `out`. `generated_at` appears
/// in the HTML only.
///
/// The pack is written into a temporary folder inside `out` first; only when every file is written are the
/// files the pack owns moved into `out` (a failed run leaves the previous pack as it was). Files of an earlier
/// pack that this one does not write (the worker annex of an earlier run) are removed; links in `out` are
/// replaced, never followed; other files in `out` are left alone.
pub fn write_evidence(report: &AuditReport, out: &Path, generated_at: &str) -> Result<EvidenceFiles> {
    if let Ok(meta) = std::fs::symlink_metadata(out) {
        if !meta.is_dir() && !meta.file_type().is_symlink() {
            return Err(Error::Output {
                path: out.display().to_string(),
                reason: "is a file, not a folder: give --out a folder for the evidence pack".into(),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(|e| io_error(out, e))?;
    let staging = tempfile::Builder::new().prefix(".payequity-pack-").tempdir_in(out).map_err(|e| io_error(out, e))?;
    let written = write_pack_files(report, staging.path(), generated_at)?;
    let names: Vec<String> =
        written.files.iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    for stale in pack_file_names().into_iter().filter(|n| !names.contains(n)) {
        let path = out.join(&stale);
        if std::fs::symlink_metadata(&path).is_ok() {
            std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
        }
    }
    let mut files = EvidenceFiles::default();
    for name in names {
        let target = out.join(&name);
        if std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
            return Err(Error::Output {
                path: target.display().to_string(),
                reason: "is a folder where the evidence pack writes a file: move it away".into(),
            });
        }
        // rename replaces a link at `target` itself; it never writes through it.
        std::fs::rename(staging.path().join(&name), &target).map_err(|e| io_error(&target, e))?;
        files.files.push(target);
    }
    Ok(files)
}

/// Writes every file of the pack into the folder `out` (the staging folder).
fn write_pack_files(report: &AuditReport, out: &Path, generated_at: &str) -> Result<EvidenceFiles> {
    let mut files = EvidenceFiles::default();
    let documents = [
        ("report.json", to_json(report)? + "\n"),
        ("report.html", report_page(report, generated_at)?),
        ("summary.md", summary_markdown(report)),
    ];
    // Each analysis' own document too (the interface spec's shapes), for scripts that read one kind.
    let analyses = [
        ("gap.json", report.gap.as_ref().map(to_json).transpose()?),
        ("oaxaca.json", report.oaxaca.as_ref().map(to_json).transpose()?),
        ("quantile_profile.json", report.quantile_profile.as_ref().map(to_json).transpose()?),
        ("transparency.json", report.transparency.as_ref().map(to_json).transpose()?),
        ("equal_value.json", report.equal_value.as_ref().map(to_json).transpose()?),
        ("entitlement_audit.json", report.entitlements.as_ref().map(to_json).transpose()?),
        ("scenarios.json", report.scenarios.as_ref().map(to_json).transpose()?),
    ];
    let analyses = analyses.into_iter().filter_map(|(name, text)| text.map(|t| (name, t + "\n")));
    for (name, text) in documents.into_iter().chain(analyses) {
        let path = out.join(name);
        write_text(&path, &text)?;
        files.files.push(path);
    }
    let mut tables: Vec<(&str, DataFrame)> = vec![("ledger", ledger_frame(report)?)];
    if let Some(gap) = &report.gap {
        tables.push(("gap_by_group", crate::gap::gap_table(gap)?));
    }
    if let Some(oaxaca) = &report.oaxaca {
        tables.push(("oaxaca", crate::decompose::oaxaca_frame(oaxaca)?));
    }
    if let Some(t) = &report.transparency {
        tables.push(("transparency", crate::transparency::transparency_frame(t)?));
    }
    if let Some(ev) = &report.equal_value {
        tables.push(("equal_value_classes", crate::equal_value::equal_value_frame(ev)?));
    }
    if let Some(scenarios) = &report.scenarios {
        tables.push(("scenarios", crate::scenario::scenario_frame(scenarios)?));
    }
    if let Some(audit) = &report.entitlements {
        tables.push(("entitlement_rules", crate::entitlements::entitlement_frame(audit)?));
    }
    if let Some(frame) = disparity_frame(report)? {
        tables.push(("entitlement_disparities", frame));
    }
    if let Some(frame) = arrears_by_period(report)? {
        tables.push(("arrears_by_rule_period", frame));
    }
    if let (Some(audit), true) = (&report.entitlements, report.worker_annex) {
        tables.push(("arrears_by_worker", audit.arrears.clone()));
    }
    if let Some(remediation) = report.scenarios.as_ref().and_then(|s| s.remediation.as_ref()) {
        if remediation.workers.is_some() {
            tables.push(("remediation_by_worker", crate::scenario::remediation_frame(remediation)?));
        }
    }
    for (name, mut frame) in tables {
        for ext in ["csv", "parquet"] {
            let path = out.join(format!("{name}.{ext}"));
            write_table(&mut frame, &path)?;
            files.files.push(path);
        }
    }
    Ok(files)
}
