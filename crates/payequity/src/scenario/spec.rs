//! The scenarios file: named lists of pay measures (`[[scenario]]`, docs/scenarios.md), parsed strictly and
//! checked before any row is touched — unknown keys, negative floors or caps, non-finite amounts and `where`
//! conditions outside the rule-SQL allow-list are refused, naming the scenario and the measure.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::AuditConfig;
use crate::equal_value::Method;
use crate::{Error, Result};

/// One pay measure. Measures apply in the order listed; each sees the pay the earlier ones produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Measure {
    /// Every pay component × (1 + pct/100), on the rows `where` selects (all rows without it).
    Percent {
        pct: f64,
        #[serde(default, rename = "where")]
        condition: Option<String>,
    },
    /// A flat raise of the ordinary pay: `amount_per_hour` × hours, or `amount_per_period` per row.
    Flat {
        #[serde(default)]
        amount_per_hour: Option<f64>,
        #[serde(default)]
        amount_per_period: Option<f64>,
        #[serde(default, rename = "where")]
        condition: Option<String>,
    },
    /// A minimum hourly rate of ordinary pay: rows below it are lifted to `rate_per_hour` × hours.
    Floor {
        rate_per_hour: f64,
        #[serde(default, rename = "where")]
        condition: Option<String>,
    },
    /// Every incumbent of a class with an equal-value shortfall gets the class's shortfall per hour (the
    /// config's `[equal_value]` analysis, recomputed on the pay so far, with `method`).
    EqualValue {
        #[serde(default = "default_method")]
        method: Method,
    },
    /// The arrears the entitlement audit finds with `rules` (a rule file, relative to the scenarios file)
    /// are paid into each rule's `paid` column.
    PayArrears { rules: String },
    /// No worker's raise (all measures so far) above `amount_per_hour` × hours or `amount_per_period`.
    Cap {
        #[serde(default)]
        amount_per_hour: Option<f64>,
        #[serde(default)]
        amount_per_period: Option<f64>,
    },
}

fn default_method() -> Method {
    Method::JobToJob
}

impl Measure {
    /// The measure's kind as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Measure::Percent { .. } => "percent",
            Measure::Flat { .. } => "flat",
            Measure::Floor { .. } => "floor",
            Measure::EqualValue { .. } => "equal_value",
            Measure::PayArrears { .. } => "pay_arrears",
            Measure::Cap { .. } => "cap",
        }
    }

    /// The `where` condition, if any.
    pub fn condition(&self) -> Option<&str> {
        match self {
            Measure::Percent { condition, .. } | Measure::Flat { condition, .. } | Measure::Floor { condition, .. } => {
                condition.as_deref()
            }
            _ => None,
        }
    }
}

/// A named scenario: measures applied in order, and the years its cost is phased over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub measures: Vec<Measure>,
    #[serde(default = "one_year")]
    pub phase_in_years: u32,
}

fn one_year() -> u32 {
    1
}

/// The scenarios of a file, and the folder its relative paths start from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSet {
    #[serde(rename = "scenario")]
    pub scenarios: Vec<Scenario>,
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// The most scenarios one file may hold, and the most measures one scenario may list.
pub const MAX_SCENARIOS: usize = 200;
pub const MAX_MEASURES: usize = 50;

impl ScenarioSet {
    /// The equal-value methods the scenarios' `equal_value` measures use.
    pub fn equal_value_methods(&self) -> Vec<crate::equal_value::Method> {
        let mut methods = Vec::new();
        for measure in self.scenarios.iter().flat_map(|s| &s.measures) {
            if let Measure::EqualValue { method } = measure {
                if !methods.contains(method) {
                    methods.push(*method);
                }
            }
        }
        methods
    }

    /// The columns the scenarios of this set read with `config`, as (required, optional), so that a file
    /// reader can skip the others; `None` when a `pay_arrears` measure needs its rule files' columns (the
    /// whole table is read then).
    pub fn columns_needed(&self, config: &AuditConfig) -> Result<Option<(Vec<String>, Vec<String>)>> {
        let measures = || self.scenarios.iter().flat_map(|s| &s.measures);
        if measures().any(|m| matches!(m, Measure::PayArrears { .. })) {
            return Ok(None);
        }
        let map = config.columns.clone().unwrap_or_default();
        let (mut required, mut optional) = config.gap_options().columns_used();
        if let Some(pay) = &config.pay {
            required.extend(pay.all());
        }
        required.extend(map.pay.iter().cloned());
        optional.extend([map.hours.clone(), map.fte.clone(), map.weight.clone()].into_iter().flatten());
        optional.extend(["employee_id".to_string(), "period".into(), "hours".into()]);
        if config.transparency.is_some() {
            let (r, o) = config.transparency_options()?.columns_used();
            required.extend(r);
            optional.extend(o);
        }
        if config.oaxaca.is_some() {
            let options = config.oaxaca_options();
            required.extend(options.columns_used());
            optional.extend(options.optional_columns());
        }
        if config.equal_value.is_some() {
            let (r, o) = config.equal_value_options()?.columns_used();
            required.extend(r);
            optional.extend(o);
        }
        for condition in measures().filter_map(Measure::condition) {
            // Checked against the allow-list when the set was read; a condition that does not parse is
            // reported when it is applied, on the whole table.
            let Ok(expr) = polars::sql::sql_expr(condition) else { return Ok(None) };
            required.extend(expr.meta().root_names().iter().map(|n| n.to_string()));
        }
        required.retain(|c| !c.is_empty());
        optional.retain(|c| !c.is_empty());
        required.sort();
        required.dedup();
        optional.sort();
        optional.dedup();
        Ok(Some((required, optional)))
    }

    /// Reads and checks a scenarios file (TOML).
    pub fn from_file(path: impl AsRef<Path>) -> Result<ScenarioSet> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })?;
        let mut set = ScenarioSet::from_toml(&text, &path.display().to_string())?;
        set.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(set)
    }

    /// Parses and checks scenarios text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<ScenarioSet> {
        let set: ScenarioSet = toml::from_str(text).map_err(|e| Error::Config {
            file: file.to_string(),
            key: "scenario".into(),
            reason: e.message().trim().to_string(),
        })?;
        set.check(file)?;
        Ok(set)
    }

    /// The checks that need no data: names, counts, finite and non-negative amounts, the SQL allow-list.
    pub fn check(&self, file: &str) -> Result<()> {
        let error = |key: String, reason: String| Error::Config { file: file.to_string(), key, reason };
        if self.scenarios.is_empty() || self.scenarios.len() > MAX_SCENARIOS {
            return Err(error("scenario".into(), format!("give 1 to {MAX_SCENARIOS} [[scenario]] tables")));
        }
        for (i, scenario) in self.scenarios.iter().enumerate() {
            let name = &scenario.name;
            if name.trim().is_empty() || self.scenarios[..i].iter().any(|s| &s.name == name) {
                return Err(error(format!("scenario[{}].name", i + 1), "names must be present and unique".into()));
            }
            if scenario.measures.is_empty() || scenario.measures.len() > MAX_MEASURES {
                return Err(error(format!("scenario[{name}].measures"), format!("give 1 to {MAX_MEASURES} measures")));
            }
            if !(1..=30).contains(&scenario.phase_in_years) {
                return Err(error(format!("scenario[{name}].phase_in_years"), "must be 1 to 30".into()));
            }
            for (m, measure) in scenario.measures.iter().enumerate() {
                let key = format!("scenario[{name}].measures[{}] ({})", m + 1, measure.kind());
                check_measure(measure).map_err(|reason| error(key.clone(), reason))?;
                if let Some(condition) = measure.condition() {
                    crate::entitlements::sql_guard::check_sql_expression(condition).map_err(|reason| {
                        error(
                            key.clone(),
                            format!(
                                "`where` {} is refused: {reason}",
                                crate::entitlements::sql_guard::shown(condition)
                            ),
                        )
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// A finite, non-negative amount.
fn amount(name: &str, value: f64) -> std::result::Result<(), String> {
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{name}` must be a finite amount of zero or more (got {value})"));
    }
    Ok(())
}

/// Exactly one of the per-hour and per-period amounts.
fn one_amount(per_hour: Option<f64>, per_period: Option<f64>) -> std::result::Result<(), String> {
    match (per_hour, per_period) {
        (Some(h), None) => amount("amount_per_hour", h),
        (None, Some(p)) => amount("amount_per_period", p),
        _ => Err("give exactly one of `amount_per_hour` and `amount_per_period`".into()),
    }
}

fn check_measure(measure: &Measure) -> std::result::Result<(), String> {
    match measure {
        Measure::Percent { pct, .. } => {
            if !pct.is_finite() || *pct <= -100.0 {
                return Err(format!("`pct` must be a finite percentage above -100 (got {pct})"));
            }
            Ok(())
        }
        Measure::Flat { amount_per_hour, amount_per_period, .. } => one_amount(*amount_per_hour, *amount_per_period),
        Measure::Floor { rate_per_hour, .. } => amount("rate_per_hour", *rate_per_hour).map_err(|_| {
            format!("`rate_per_hour` must be a finite rate of zero or more (a floor of {rate_per_hour} is not)")
        }),
        Measure::Cap { amount_per_hour, amount_per_period } => one_amount(*amount_per_hour, *amount_per_period),
        Measure::EqualValue { .. } => Ok(()),
        Measure::PayArrears { rules } => {
            if rules.trim().is_empty() {
                return Err("`rules` names the rule file".into());
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_parse_in_order_and_bad_ones_name_their_place() {
        let set = ScenarioSet::from_toml(
            "[[scenario]]\nname = \"a\"\nmeasures = [{ kind = \"floor\", rate_per_hour = 14 }, \
             { kind = \"percent\", pct = 5, where = \"grade = 'B'\" }]\nphase_in_years = 3\n",
            "s.toml",
        )
        .unwrap();
        assert_eq!(set.scenarios[0].measures[0].kind(), "floor");
        assert_eq!(set.scenarios[0].measures[1].condition(), Some("grade = 'B'"));
        let bad = |text: &str| ScenarioSet::from_toml(text, "s.toml").unwrap_err().to_string();
        assert!(bad("[[scenario]]\nname = \"a\"\nmeasures = [{ kind = \"floor\", rate_per_hour = -1 }]\n")
            .contains("scenario[a].measures[1] (floor)"));
        assert!(bad(
            "[[scenario]]\nname = \"a\"\nmeasures = [{ kind = \"percent\", pct = 1, where = \"x IN (SELECT 1)\" }]\n"
        )
        .contains("refused"));
        assert!(bad("[[scenario]]\nname = \"a\"\nmeasures = [{ kind = \"bonus\", pct = 1 }]\n").contains("scenario"));
    }
}
