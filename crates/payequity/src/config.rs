//! The audit config (TOML, `shared/spec/interfaces.md`): one schema for every command. Sections map onto the
//! same option structs that CLI flags and Python keywords fill. Sections of capabilities that are not part
//! of this build yet (`[transparency]`, ...) are accepted as tables and left to those capabilities.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::data::{ColumnMap, GenderValues, InputFormat, LongFormat};
use crate::decompose::OaxacaOptions;
use crate::entitlements::EntitlementOptions;
use crate::equal_value::EqualValueOptions;
use crate::gap::{GapOptions, InputShape};
use crate::transparency::{PayComponents, TransparencyOptions};
use crate::{Error, Result};

/// `[input]`: where the payroll is and its shape.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputConfig {
    #[serde(deserialize_with = "crate::data::one_or_many_strings")]
    pub path: Vec<String>,
    pub format: InputFormat,
    pub long: LongFormat,
}

/// `[pay]`: pay components by kind (EU Art. 3, UK regulations).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PayConfig {
    pub ordinary: Vec<String>,
    pub variable: Vec<String>,
    pub bonus: Vec<String>,
}

impl PayConfig {
    /// All components: the EU "pay" (ordinary plus complementary or variable components, bonuses included).
    pub fn all(&self) -> Vec<String> {
        self.ordinary.iter().chain(&self.variable).chain(&self.bonus).cloned().collect()
    }
}

/// `[scenario]` of the audit config: the scenarios file whose figures the report includes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioConfig {
    /// A scenarios file (TOML, docs/scenarios.md), relative to the config's folder.
    pub file: String,
    /// The minimal individual adjustments that bring the unexplained Oaxaca part to this threshold (the
    /// workers are listed only with `[report] worker_annex = true`).
    #[serde(default)]
    pub remediate: Option<f64>,
}

/// The whole audit config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    pub input: InputConfig,
    pub columns: Option<ColumnMap>,
    pub gender_values: Option<GenderValues>,
    pub pay: Option<PayConfig>,
    pub gap: Option<GapOptions>,
    pub transparency: Option<toml::Table>,
    pub oaxaca: Option<OaxacaOptions>,
    /// `[rif]`: the statistics, kernel and bandwidth of `payequity rif` / `rif-regression` (their
    /// decomposition options are `[oaxaca]`'s).
    pub rif: Option<crate::distributional::RifOptions>,
    /// `[dfl]`: statistics, reweight group and trimming of `payequity dfl`.
    pub dfl: Option<crate::distributional::DflOptions>,
    pub equal_value: Option<toml::Table>,
    pub entitlements: Option<toml::Table>,
    /// `[scenario]`: the bargaining scenarios the report includes (`file`, relative to the config).
    pub scenario: Option<ScenarioConfig>,
    pub report: Option<toml::Table>,
    /// The config file's folder: relative paths in the config are relative to it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    #[serde(skip)]
    pub file: String,
    /// The config text as read (echoed into reports for reproducibility).
    #[serde(skip)]
    pub text: String,
}

impl AuditConfig {
    /// Reads and validates a config file; unknown keys are errors naming the key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<AuditConfig> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })?;
        let mut config = AuditConfig::from_toml(&text, &path.display().to_string())?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(config)
    }

    /// Parses config text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<AuditConfig> {
        let mut config: AuditConfig = toml::from_str(text).map_err(|e| config_error(file, text, &e))?;
        config.file = file.to_string();
        config.text = text.to_string();
        Ok(config)
    }

    /// Input paths resolved against the config's folder.
    pub fn input_paths(&self) -> Vec<PathBuf> {
        self.input.path.iter().map(|p| self.base_dir.join(p)).collect()
    }

    /// The gap options this config describes: `[gap]`, completed by `[columns]`, `[gender_values]`,
    /// `[pay]` (all components when `[columns] pay` is not given) and `[input]`.
    pub fn gap_options(&self) -> GapOptions {
        let mut options = self.gap.clone().unwrap_or_default();
        if let Some(columns) = &self.columns {
            options.columns = columns.clone();
        }
        if options.columns.pay.is_empty() {
            if let Some(pay) = &self.pay {
                options.columns.pay = pay.all();
            }
        }
        if let Some(genders) = &self.gender_values {
            options.gender_values = genders.clone();
        }
        options.input = InputShape { format: self.input.format, long: self.input.long.clone() };
        options
    }
}

impl AuditConfig {
    /// The transparency options: `[transparency]` (and `[transparency.logib]`) completed by `[columns]`,
    /// `[gender_values]`, `[pay]` and `[gap] min_cell`.
    pub fn transparency_options(&self) -> Result<TransparencyOptions> {
        let mut options: TransparencyOptions = match &self.transparency {
            Some(table) => section(table, "transparency", &self.file)?,
            None => TransparencyOptions::default(),
        };
        if let Some(columns) = &self.columns {
            options.columns = columns.clone();
        }
        if let Some(genders) = &self.gender_values {
            options.gender_values = genders.clone();
        }
        if let Some(pay) = &self.pay {
            options.pay = PayComponents {
                ordinary: pay.ordinary.clone(),
                variable: pay.variable.clone(),
                bonus: pay.bonus.clone(),
            };
        }
        let has_min_cell = self.transparency.as_ref().is_some_and(|t| t.contains_key("min_cell"));
        if let (false, Some(gap)) = (has_min_cell, &self.gap) {
            options.min_cell = gap.min_cell;
        }
        Ok(options)
    }

    /// The equal-value options: `[equal_value]` completed by `[columns]`, `[gender_values]` and `[pay]` (every
    /// component), with the scheme and ratings paths resolved against the config's folder.
    pub fn equal_value_options(&self) -> Result<EqualValueOptions> {
        let mut options: EqualValueOptions = match &self.equal_value {
            Some(table) => section(table, "equal_value", &self.file)?,
            None => {
                return Err(Error::Config {
                    file: self.file.clone(),
                    key: "equal_value".into(),
                    reason: "no [equal_value] section: set scheme, ratings and job".into(),
                })
            }
        };
        if let Some(columns) = &self.columns {
            options.columns = columns.clone();
        }
        if let Some(genders) = &self.gender_values {
            options.gender_values = genders.clone();
        }
        if let (true, Some(pay)) = (options.pay.is_empty(), &self.pay) {
            options.pay = pay.all();
        }
        for path in [&mut options.scheme, &mut options.ratings] {
            if !path.is_empty() {
                *path = self.base_dir.join(&*path).display().to_string();
            }
        }
        Ok(options)
    }

    /// The entitlement-audit options: `[entitlements]` completed by `[columns]`, with rule paths resolved
    /// against the config's folder.
    pub fn entitlement_options(&self) -> Result<EntitlementOptions> {
        let mut options: EntitlementOptions = match &self.entitlements {
            Some(table) => section(table, "entitlements", &self.file)?,
            None => EntitlementOptions::default(),
        };
        if let Some(columns) = &self.columns {
            options.columns = columns.clone();
        }
        if options.min_cell == EntitlementOptions::default().min_cell {
            if let (false, Some(gap)) =
                (self.entitlements.as_ref().is_some_and(|t| t.contains_key("min_cell")), &self.gap)
            {
                options.min_cell = gap.min_cell as usize;
            }
        }
        for path in &mut options.rules {
            *path = self.base_dir.join(&*path).display().to_string();
        }
        Ok(options)
    }

    /// The decomposition options: `[oaxaca]`, with the group defaulting to `[columns] gender` (group A the
    /// first male value, group B the first female value) and sampling weights to `[columns] weight`.
    pub fn oaxaca_options(&self) -> OaxacaOptions {
        let mut options = self.oaxaca.clone().unwrap_or_default();
        let columns = self.columns.clone().unwrap_or_default();
        let genders = self.gender_values.clone().unwrap_or_default();
        let group_unset = options.group == OaxacaOptions::default().group;
        if group_unset {
            options.group = columns.gender.clone();
        }
        if options.group == columns.gender && options.group_a.is_empty() {
            options.group_a = genders.male.first().cloned().unwrap_or_default();
            if options.group_b.is_none() {
                options.group_b = genders.female.first().cloned();
            }
        }
        if options.weights.is_none() {
            options.weights = columns.weight.filter(|w| !w.is_empty());
        }
        if options.employee_id.is_none() {
            options.employee_id = columns.employee_id;
        }
        if options.period.is_none() {
            options.period = columns.period;
        }
        options
    }
}

/// A config section (kept as a TOML table) as its typed options; errors name the full key
/// (`equal_value.job_rate`), also for a bad value where serde's message names only the value.
pub(crate) fn section<T: serde::de::DeserializeOwned>(table: &toml::Table, name: &str, file: &str) -> Result<T> {
    serde_path_to_error::deserialize(table.clone()).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().message().to_string();
        let prefix = if path == "." || path.is_empty() { name.to_string() } else { format!("{name}.{path}") };
        // "unknown field `salary`" is reported at the table holding it.
        let key = match message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next()) {
            Some(field) => format!("{prefix}.{field}"),
            None => prefix,
        };
        Error::Config { file: file.to_string(), key, reason: message }
    })
}

/// The error of a config that does not parse or does not fit the schema, naming the key by its dotted path
/// (`gap.min_cell`) and the 1-based line, never a value in place of the key.
fn config_error(file: &str, text: &str, err: &toml::de::Error) -> Error {
    let message = err.message().trim().to_string();
    let at = err.span().map(|s| s.start.min(text.len()));
    let located = at.map(|offset| key_at(text, offset));
    // serde names an unknown or missing field between backticks ("unknown field `salary`, expected ...").
    let named = (message.starts_with("unknown field") || message.starts_with("missing field"))
        .then(|| message.split('`').nth(1).map(str::to_string))
        .flatten();
    let key = match (located.as_ref().and_then(|(_, key)| key.clone()), named) {
        (Some(path), Some(field)) if !path.ends_with(&field) => format!("{path}.{field}"),
        (Some(path), _) => path,
        (None, Some(field)) => field,
        (None, None) => "(syntax)".to_string(),
    };
    let line = located.map(|(line, _)| format!(" (line {line})")).unwrap_or_default();
    Error::Config { file: file.to_string(), key, reason: format!("{message}{line}") }
}

/// The 1-based line of byte `offset` and the dotted key written there: the last `[table]` header above it
/// and the key before `=` on its line (or the header itself when the offset is in one).
fn key_at(text: &str, offset: usize) -> (usize, Option<String>) {
    let mut offset = offset;
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    let line = text[line_start..line_end].trim();
    let number = text[..line_start].matches('\n').count() + 1;
    let header = |l: &str| l.trim_start_matches('[').split(']').next().map(|t| t.trim().to_string());
    if line.starts_with('[') {
        return (number, header(line).filter(|t| !t.is_empty()));
    }
    let table = text[..line_start].lines().rev().map(str::trim).find(|l| l.starts_with('[')).and_then(header);
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        .filter(|k| !k.is_empty() && !k.contains(char::is_whitespace));
    let path = match (table, key) {
        (Some(table), Some(key)) => Some(format!("{table}.{key}")),
        (None, Some(key)) => Some(key),
        (table, None) => table,
    };
    (number, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_the_dotted_key_and_the_line() {
        let error = |text: &str| match AuditConfig::from_toml(text, "a.toml") {
            Err(Error::Config { key, reason, .. }) => (key, reason),
            other => panic!("expected a config error, got {other:?}"),
        };
        let (key, reason) = error("[columns]\ngender = \"sex\"\n[gap]\nmin_cell = \"ten\"\n");
        assert_eq!(key, "gap.min_cell");
        assert!(reason.contains("line 4"), "{reason}");
        assert_eq!(error("[gap]\nbogus = 1\n").0, "gap.bogus");
        assert_eq!(error("gap = 3\n").0, "gap");
        assert_eq!(error("[gap]\nmin_cell = -1\n").0, "gap.min_cell");
        assert_eq!(error("x\n").0, "(syntax)");
    }

    #[test]
    fn interface_example_sections_parse() {
        let text = r#"
            [input]
            path = "payroll.parquet"
            format = "wide"
            [columns]
            employee_id = "employee_id"
            gender = "gender"
            hours = "hours_paid"
            weight = ""
            [gender_values]
            female = ["F"]
            male = ["M"]
            [pay]
            ordinary = ["base_pay"]
            variable = ["overtime_pay"]
            bonus = ["bonus"]
            [gap]
            by = ["occupation"]
            min_cell = 10
            [oaxaca]
            outcome = "log_hourly_pay"
        "#;
        let config = AuditConfig::from_toml(text, "audit.toml").unwrap();
        let options = config.gap_options();
        assert_eq!(options.columns.pay, vec!["base_pay", "overtime_pay", "bonus"]);
        assert_eq!(options.columns.hours.as_deref(), Some("hours_paid"));
        assert_eq!(options.by, vec!["occupation"]);
        assert_eq!(config.input.path, vec!["payroll.parquet"]);
        let oaxaca = config.oaxaca_options();
        assert_eq!(oaxaca.outcome, "log_hourly_pay");
        assert_eq!((oaxaca.group.as_str(), oaxaca.group_a.as_str()), ("gender", "M"));
        assert_eq!(oaxaca.group_b.as_deref(), Some("F"));
        assert_eq!(oaxaca.weights, None);
    }

    #[test]
    fn unknown_keys_name_key_and_file() {
        let err = AuditConfig::from_toml("[gap]\nmin_cells = 5\n", "audit.toml").unwrap_err();
        match err {
            Error::Config { file, key, .. } => {
                assert_eq!(file, "audit.toml");
                assert_eq!(key, "gap.min_cells");
            }
            other => panic!("{other}"),
        }
    }
}
