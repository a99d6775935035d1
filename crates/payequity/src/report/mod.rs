//! Result documents shared by the CLI, Python and the HTML report: JSON serialization, the plain-text
//! summaries that `payequity ... --format table` prints and Python's `.summary()` returns, and the audit
//! report (`payequity report`): every configured analysis in one document, its HTML page, its plain-language
//! summary and the evidence pack of tables.

mod audit;
mod charts;
mod evidence;
mod gap_summary;
mod html;
mod profile_chart;
mod reading;

pub use audit::{
    audit_frame, audit_rows, audit_steps, breaches, read_input_columns, read_inputs, report_options, run_audit,
    run_audit_with, sha256_hex, AuditReport, Breach, FailIf, Headline, InputFile, ReportOptions, ReportRows,
};
pub use charts::{amount_bars, gap_bars, pay_line_chart, quartile_bars, scatter, GapBar, JobPoint, ScatterPoint};
pub use evidence::{generated_at, report_page, write_evidence, EvidenceFiles};
pub use gap_summary::gap_summary;
pub use html::{fragment_html, report_html, section_html, SECTION_KINDS};
pub use profile_chart::{profile_chart, ProfileLine};
pub use reading::{explained_by_variable, headline_text, lookup, money, oaxaca_reading, summary_markdown};

use serde::Serialize;

use crate::{Error, Result};

/// The JSON document of a result (pretty-printed, stable key order).
pub fn to_json<T: Serialize>(result: &T) -> Result<String> {
    serde_json::to_string_pretty(result).map_err(|e| Error::Invalid(format!("cannot serialize result: {e}")))
}
