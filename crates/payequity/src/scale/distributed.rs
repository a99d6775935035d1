//! Analyses by kind for distributed engines (`pe.spark`, `pe.dask`): the generic entry points (plan,
//! partial, merge, next, rows) of [`DistributedAnalysis`] for every analysis the engine knows, built from the
//! kind's name and its options as JSON. The engine moves the rows; payequity computes.
//!
//! Each partition's rows carry [`ROW_COLUMN`], the 0-based row number in input order (the in-memory row
//! order), which numbers rows in ledger messages and keys the bootstrap's Poisson draws, so replicates equal
//! the in-memory ones. Rows are sorted by it within a partition, and partitioned by the plan's
//! `partition_by` column when it names one.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::analysis::DistributedAnalysis;
pub use super::analysis::ROW_COLUMN;
use super::StreamOptions;
use crate::decompose::{OaxacaAnalysis, OaxacaOptions};
use crate::distributional::{ProfileAnalysis, ProfileOptions, RifAnalysis, RifOptions};
use crate::entitlements::{load_rules, AuditAnalysis, EntitlementOptions, RuleSet};
use crate::equal_value::EqualValueAnalysis;
use crate::gap::GapAnalysis;
use crate::transparency::TransparencyAnalysis;
use crate::{Error, Result};

/// The analyses distributed engines run, by the name of their CLI subcommand.
pub const KINDS: [&str; 7] =
    ["gap", "oaxaca", "rif", "quantile-profile", "transparency", "equal-value", "audit-entitlements"];

/// Options from JSON; a bad option is a config error naming its dotted key.
fn options<T: DeserializeOwned>(kind: &str, json: &str) -> Result<T> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(deserializer).map_err(|e| Error::Config {
        file: format!("{kind} options"),
        key: e.path().to_string(),
        reason: e.into_inner().to_string(),
    })
}

/// The options of an entitlement audit on a distributed engine: the rule set as a value (read once on the
/// driver, see [`audit_rules`]) and the audit's options.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditJob {
    rules: serde_json::Value,
    options: EntitlementOptions,
}

/// The options of a RIF decomposition: the `oaxaca` options and the `rif` statistics.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RifJob {
    oaxaca: OaxacaOptions,
    rif: RifOptions,
}

/// The options of a quantile profile: the `oaxaca` options and the `profile` percentiles.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileJob {
    oaxaca: OaxacaOptions,
    profile: ProfileOptions,
}

/// The analysis `kind` (one of [`KINDS`]) with its options as JSON.
///
/// # Errors
/// An unknown kind, or options that do not parse.
pub fn analysis(kind: &str, options_json: &str) -> Result<Box<dyn DistributedAnalysis + Send + Sync>> {
    Ok(match kind {
        "gap" => Box::new(GapAnalysis::new(&options(kind, options_json)?)),
        "oaxaca" => Box::new(OaxacaAnalysis::new(&options(kind, options_json)?)),
        "rif" => {
            let job: RifJob = options(kind, options_json)?;
            job.oaxaca.validate()?;
            Box::new(RifAnalysis::new(&job.oaxaca, &job.rif, &StreamOptions::default())?)
        }
        "quantile-profile" => {
            let job: ProfileJob = options(kind, options_json)?;
            job.oaxaca.validate()?;
            Box::new(ProfileAnalysis::new(&job.oaxaca, &job.profile, &StreamOptions::default())?)
        }
        "transparency" => Box::new(TransparencyAnalysis::new(&options(kind, options_json)?)),
        "equal-value" => Box::new(EqualValueAnalysis::new(&options(kind, options_json)?)),
        "audit-entitlements" => {
            let job: AuditJob = options(kind, options_json)?;
            let rules = RuleSet::from_json(&job.rules.to_string(), "rules")?;
            Box::new(AuditAnalysis::new(&rules, &job.options))
        }
        other => {
            return Err(Error::Invalid(format!(
                "no analysis `{other}` on distributed engines; known: {}",
                KINDS.join(", ")
            )))
        }
    })
}

/// The rule set of an audit as JSON for the workers: `rules_json` (a rule set as JSON) or the rule files
/// of `options`, read once on the driver.
///
/// # Errors
/// Rule files that cannot be read or parsed.
pub fn audit_rules(rules_json: &str, options: &EntitlementOptions) -> Result<String> {
    let rules =
        if rules_json.is_empty() { load_rules(&options.rules)? } else { RuleSet::from_json(rules_json, "rules")? };
    let mut value =
        serde_json::to_value(&rules).map_err(|e| Error::Invalid(format!("cannot encode the rule set: {e}")))?;
    drop_nulls(&mut value);
    Ok(value.to_string())
}

/// Unset options are left out (rule sets are TOML-shaped: there is no null).
fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}
