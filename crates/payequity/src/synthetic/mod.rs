//! The synthetic health-and-care payroll generator (`payequity generate`): a realistic workforce with
//! planted, documented truths written next to the data as `truth.json`. Deterministic for a seed.

mod workforce;

pub use workforce::{generate, GeneratorOptions, Synthetic, OCCUPATIONS};

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes the payroll to `out` (format by extension) and the truths to `truth.json` in the same folder;
/// returns the truth file's path.
pub fn write_synthetic(synthetic: &mut Synthetic, out: &Path) -> Result<PathBuf> {
    crate::data::write_table(&mut synthetic.payroll, out)?;
    let truth_path = out.parent().unwrap_or(Path::new(".")).join("truth.json");
    let text = serde_json::to_string_pretty(&synthetic.truth).map_err(|e| Error::Invalid(e.to_string()))?;
    std::fs::write(&truth_path, text + "\n")
        .map_err(|e| Error::Io { path: truth_path.display().to_string(), reason: e.to_string() })?;
    Ok(truth_path)
}
