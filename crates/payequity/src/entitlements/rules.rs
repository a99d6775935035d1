//! The rule language of entitlement audits (`spec/entitlements.md`): the TOML rule file as serde structs
//! (a Python dict of the same shape deserializes into the same structs), and every check that needs no
//! data: one amount form per rule with its fields, non-negative amounts, caps, effective ranges, payment
//! deadlines, and rules that share a `paid` column over overlapping dates without a `combine` policy
//! (those checks live in `validate.rs`).

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::data::one_or_many_strings as one_or_many;
use crate::{Error, Result};

/// A rule file: `[ruleset]` and its `[[rule]]` entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub ruleset: RuleSetInfo,
    #[serde(rename = "rule", default)]
    pub rules: Vec<Rule>,
}

/// `[ruleset]`: what the rules are and the shape of one payroll row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetInfo {
    pub name: String,
    #[serde(default)]
    pub currency: Option<String>,
    /// The period one payroll row covers.
    #[serde(default)]
    pub period: PeriodLength,
    #[serde(default)]
    pub description: Option<String>,
    /// Where the rule set comes from (law, agreement), printed in reports.
    #[serde(default)]
    pub source: Option<String>,
    /// Illustrative amounts, not a real entitlement: reports say so.
    #[serde(default)]
    pub illustrative: bool,
    /// The column holding the date each row was paid (needed by `due_within_days`).
    #[serde(default)]
    pub payment_date: Option<String>,
    /// Decimal places expected amounts are rounded to (half away from zero), as payroll rounds to the
    /// currency's minor unit. Default 2.
    #[serde(default = "default_decimals")]
    pub decimals: u32,
}

fn default_decimals() -> u32 {
    2
}

/// The period one payroll row covers: sets the period's end (for payment deadlines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodLength {
    #[default]
    Month,
    Fortnight,
    Week,
    Shift,
}

impl PeriodLength {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodLength::Month => "month",
            PeriodLength::Fortnight => "fortnight",
            PeriodLength::Week => "week",
            PeriodLength::Shift => "shift",
        }
    }
}

/// What a rule is about (reports group rules by kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Hazard,
    Overtime,
    Remote,
    Allowance,
    /// Hours worked against hours paid, valued at the worker's rate (`hours = {...}`).
    Hours,
}

/// How rules sharing a `paid` column over overlapping dates split what was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    /// The column holds the sum of the rules' entitlements: what was paid goes to the rules in file order,
    /// each up to its expected amount, any excess to the last rule that applies.
    Sum,
}

/// One `[[rule]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub source: String,
    /// SQL predicate on the payroll row; absent = every row.
    #[serde(default)]
    pub when: Option<String>,
    #[serde(default)]
    pub amount: Option<AmountSpec>,
    /// SQL expression, clipped to [0, 1], multiplying the amount.
    #[serde(default)]
    pub prorate: Option<String>,
    #[serde(default)]
    pub cap: Option<Cap>,
    /// Column(s) holding what was paid for this rule (summed).
    #[serde(default, deserialize_with = "one_or_many")]
    pub paid: Vec<String>,
    #[serde(default)]
    pub effective: Option<Effective>,
    /// Days after the end of the period by which the payment is due; later = `late`.
    #[serde(default)]
    pub due_within_days: Option<u32>,
    /// Absolute difference (currency units) below which expected and paid count as equal. Default 0.01.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    #[serde(default)]
    pub combine: Option<Combine>,
    /// `kind = "hours"`: hours worked and paid and their value.
    #[serde(default)]
    pub hours: Option<HoursSpec>,
}

fn default_tolerance() -> f64 {
    0.01
}

/// The amount forms of the spec, as written (exactly one form per amount). Every field naming a column
/// may be any SQL expression. In `tiers`, each tier carries its own `when` and one amount form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_hour: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_shift: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shifts: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<AmountSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
}

/// An amount form after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Amount {
    /// A fixed amount per period.
    Flat(f64),
    /// `per_hour × hours`.
    PerHour { per_hour: f64, hours: String },
    /// `per_shift × shifts`.
    PerShift { per_shift: f64, shifts: String },
    /// `pct / 100 × of`.
    Pct { pct: f64, of: String },
    /// `multiplier × rate × hours` (overtime: the whole premium hour is due).
    Multiplier { multiplier: f64, rate: String, hours: String },
    /// The first tier whose `when` holds; no tier = the rule does not apply.
    Tiers(Vec<(String, Amount)>),
    /// Any SQL expression.
    Expr(String),
}

/// Caps, applied in this order and cumulatively in time order per worker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cap {
    #[serde(default)]
    pub per_period: Option<f64>,
    #[serde(default)]
    pub per_year: Option<f64>,
    #[serde(default)]
    pub per_worker_total: Option<f64>,
    /// `calendar` (default) or `rule`: years starting on the month and day of `effective.from`.
    #[serde(default)]
    pub year: CapYear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CapYear {
    #[default]
    Calendar,
    Rule,
}

/// Dates between which the rule is in force, both inclusive; a payroll row is covered when its period
/// starts within them. TOML dates (`from = 2021-07-01`) and strings (`"2021-07-01"`) are both accepted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effective {
    #[serde(default)]
    pub from: Option<toml::Value>,
    #[serde(default)]
    pub to: Option<toml::Value>,
}

/// `kind = "hours"`: expected = value(worked), paid = value(paid), value(h) = rate × (min(h, T) +
/// m × max(h − T, 0)) with the overtime threshold T per period and multiplier m (no threshold: rate × h).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSpec {
    pub worked: String,
    pub paid: String,
    pub rate: String,
    #[serde(default)]
    pub overtime_multiplier: Option<f64>,
    #[serde(default)]
    pub overtime_above: Option<f64>,
}

/// The days between which a rule applies, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DateRange {
    pub(super) fn overlaps(&self, other: &DateRange) -> bool {
        let starts_before_other_ends = match (self.from, other.to) {
            (Some(a), Some(b)) => a <= b,
            _ => true,
        };
        let other_starts_before_end = match (other.from, self.to) {
            (Some(a), Some(b)) => a <= b,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_end
    }
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

impl RuleSet {
    /// Reads and validates a rule file (TOML).
    pub fn from_file(path: impl AsRef<Path>) -> Result<RuleSet> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })?;
        RuleSet::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates TOML text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<RuleSet> {
        let raw: toml::Table = toml::from_str(text).map_err(|e| Error::Config {
            file: file.into(),
            key: e.span().map_or("(file)".into(), |s| format!("at byte {}", s.start)),
            reason: e.message().to_string(),
        })?;
        let rules: RuleSet = deserialize(toml::Value::Table(raw.clone()), &toml::Value::Table(raw), file)?;
        rules.validate(file)?;
        Ok(rules)
    }

    /// Parses and validates the JSON form (a Python dict of the same shape as the TOML file).
    pub fn from_json(text: &str, file: &str) -> Result<RuleSet> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Config {
            file: file.into(),
            key: "(rules)".into(),
            reason: e.to_string(),
        })?;
        let as_toml: toml::Value = toml::Value::try_from(&value).map_err(|e| Error::Config {
            file: file.into(),
            key: "(rules)".into(),
            reason: e.to_string(),
        })?;
        let rules: RuleSet = deserialize(value, &as_toml, file)?;
        rules.validate(file)?;
        Ok(rules)
    }
}

/// Deserializes `value` into `T`; errors name the key, with a rule's index replaced by its id.
fn deserialize<'de, T, D>(value: D, raw: &toml::Value, file: &str) -> Result<T>
where
    T: serde::de::DeserializeOwned,
    D: serde::Deserializer<'de>,
    D::Error: std::fmt::Display,
{
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut key = e.path().to_string();
        if let Some(rest) = key.strip_prefix("rule[") {
            if let Some((index, tail)) = rest.split_once(']') {
                let id = index
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| raw.get("rule")?.get(i)?.get("id")?.as_str().map(str::to_string));
                if let Some(id) = id {
                    key = format!("rule[{id}]{tail}");
                }
            }
        }
        Error::Config { file: file.into(), key, reason: e.into_inner().to_string() }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[ruleset]
name = "t"
period = "month"
payment_date = "paid_on"
"#;

    fn parse(rules: &str) -> Result<RuleSet> {
        RuleSet::from_toml(&format!("{BASE}{rules}"), "t.toml")
    }

    fn message(rules: &str) -> String {
        parse(rules).unwrap_err().to_string()
    }

    #[test]
    fn every_amount_form_parses() {
        let set = parse(
            r#"
[[rule]]
id = "a"
kind = "hazard"
amount = { tiers = [ { when = "risk = 'high'", flat = 9000 }, { when = "risk = 'low'", pct = 5, of = "base" } ] }
paid = "x"
effective = { from = 2021-07-01, to = "2023-07-21" }
due_within_days = 45
[[rule]]
id = "b"
kind = "overtime"
amount = { multiplier = 1.5, rate = "rate", hours = "ot" }
paid = ["y", "z"]
"#,
        )
        .unwrap();
        assert_eq!(set.rules.len(), 2);
        let range = set.rules[0].date_range("t").unwrap();
        assert_eq!(range.from, NaiveDate::from_ymd_opt(2021, 7, 1));
        assert_eq!(range.to, NaiveDate::from_ymd_opt(2023, 7, 21));
        assert!(matches!(set.rules[0].amount_form(), Some(Amount::Tiers(t)) if t.len() == 2));
        assert_eq!(set.rules[1].paid, vec!["y".to_string(), "z".to_string()]);
    }

    #[test]
    fn errors_name_the_rule_and_the_field() {
        let m = message("[[rule]]\nid = \"h\"\nkind = \"hazard\"\namount = { per_hour = 5 }\npaid = \"x\"\n");
        assert!(m.contains("rule[h].amount.hours") && m.contains("per_hour"), "{m}");
        let m = message("[[rule]]\nid = \"h\"\nkind = \"hazard\"\namount = { flat = -5 }\npaid = \"x\"\n");
        assert!(m.contains("rule[h].amount.flat") && m.contains("negative"), "{m}");
        let m = message(
            "[[rule]]\nid = \"h\"\nkind = \"hazard\"\namount = { flat = 5, pct = 3, of = \"b\" }\npaid = \"x\"\n",
        );
        assert!(m.contains("flat and pct"), "{m}");
        let m = message("[[rule]]\nid = \"h\"\nkind = \"danger\"\namount = { flat = 5 }\npaid = \"x\"\n");
        assert!(m.contains("rule[h].kind"), "{m}");
        let m = message("[[rule]]\nid = \"h\"\nkind = \"hazard\"\namount = { flat = 5 }\n");
        assert!(m.contains("rule[h].paid"), "{m}");
        let m = message("[[rule]]\nid = \"h\"\nkind = \"hazard\"\namount = { flat = 5 }\npaid = \"x\"\neffective = { from = \"2021-13-01\" }\n");
        assert!(m.contains("rule[h].effective.from"), "{m}");
    }

    #[test]
    fn overlapping_rules_on_one_paid_column_need_combine() {
        let two = |extra: &str| {
            format!(
                "[[rule]]\nid = \"a\"\nkind = \"hazard\"\namount = {{ flat = 5 }}\npaid = \"x\"\neffective = {{ from = \"2021-01-01\", to = \"2021-12-31\" }}\n{extra}\n\
                 [[rule]]\nid = \"b\"\nkind = \"hazard\"\namount = {{ flat = 5 }}\npaid = \"x\"\neffective = {{ from = \"2021-12-31\" }}\n{extra}\n"
            )
        };
        let m = message(&two(""));
        assert!(m.contains("rule[b].paid") && m.contains("`a` and `b`") && m.contains("combine"), "{m}");
        assert!(parse(&two("combine = \"sum\"")).is_ok());
        // Disjoint ranges need no policy.
        let disjoint = two("").replace("from = \"2021-12-31\"", "from = \"2022-01-01\"");
        assert!(parse(&disjoint).is_ok());
    }
}
