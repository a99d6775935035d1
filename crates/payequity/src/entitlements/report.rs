//! The entitlement audit as a document (`kind = "entitlement_audit"`, `spec/interfaces.md`): the summary by
//! rule, arrears, disparities and the logit; the worker-level arrears table for remediation; and the
//! public entry points shared by the CLI and the Python binding.

use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::compile::Compiler;
use super::disparity::{
    disparities, line_groups, round_cents, short_paid_logit, DisparityRow, DistinctPairs, LineColumns, LineGroups,
    LogitReport,
};
use super::engine::{audit_lines, referenced_columns, Roles, ROW, RULE, STATUSES};
use super::rules::RuleSet;
use crate::data::{ColumnMap, Ledger};
use crate::{Error, Result};

/// Options of [`audit_entitlements`] (`[entitlements]` in the audit config, `pe.audit_entitlements`
/// keywords, `payequity audit-entitlements` flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EntitlementOptions {
    pub columns: ColumnMap,
    /// Rule files (TOML), audited together.
    #[serde(deserialize_with = "crate::data::one_or_many_strings")]
    pub rules: Vec<String>,
    /// Grouping columns of the disparity tables (default: the gender column).
    #[serde(deserialize_with = "crate::data::one_or_many_strings")]
    pub by: Vec<String>,
    /// Categorical controls of the logistic regression (cadre, unit, ...).
    #[serde(deserialize_with = "crate::data::one_or_many_strings")]
    pub controls: Vec<String>,
    /// Groups with fewer workers are suppressed in the disparity tables.
    pub min_cell: usize,
    /// Fit the logistic regression of short-payment on the groups and controls.
    pub logit: bool,
}

impl Default for EntitlementOptions {
    fn default() -> Self {
        EntitlementOptions {
            columns: ColumnMap::default(),
            rules: Vec::new(),
            by: Vec::new(),
            controls: Vec::new(),
            min_cell: 10,
            logit: true,
        }
    }
}

impl EntitlementOptions {
    /// The grouping columns: `by`, or the gender column.
    pub fn groups(&self) -> Vec<String> {
        if self.by.is_empty() {
            vec![self.columns.gender.clone()]
        } else {
            self.by.clone()
        }
    }
}

/// Counts of lines by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub ok: u64,
    pub underpaid: u64,
    pub not_paid: u64,
    pub overpaid: u64,
    pub late: u64,
}

impl StatusCounts {
    fn add(&mut self, status: u8, count: u64) {
        match status {
            0 => self.ok += count,
            1 => self.underpaid += count,
            2 => self.not_paid += count,
            3 => self.overpaid += count,
            _ => self.late += count,
        }
    }
}

/// One rule's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSummary {
    pub id: String,
    pub kind: String,
    pub description: String,
    pub source: String,
    pub paid_columns: Vec<String>,
    /// Worker-periods where the rule applies.
    pub eligible: u64,
    pub workers: u64,
    pub expected_total: f64,
    pub paid_total: f64,
    /// Σ max(expected − paid, 0) over lines underpaid or not paid.
    pub shortfall_total: f64,
    pub status_counts: StatusCounts,
    pub not_paid_pct: Option<f64>,
    pub underpaid_pct: Option<f64>,
    pub workers_with_arrears: u64,
}

/// The rule set as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSetSummary {
    pub name: String,
    pub currency: Option<String>,
    pub period: String,
    pub source: Option<String>,
    pub illustrative: bool,
}

/// The result of [`audit_entitlements`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntitlementAudit {
    pub kind: String,
    pub version: String,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub ruleset: RuleSetSummary,
    /// First and last period audited (YYYY-MM-DD of their first days).
    pub periods: Option<(String, String)>,
    pub rules: Vec<RuleSummary>,
    pub arrears_total: f64,
    pub workers_with_arrears: u64,
    pub disparities: Vec<DisparityRow>,
    pub logit: Option<LogitReport>,
    pub min_cell: usize,
    /// Worker-level arrears (`employee_id, rule, period, expected, paid, shortfall, status`): every line
    /// underpaid, not paid or paid late. Not part of the JSON document (it holds worker ids).
    #[serde(skip)]
    pub arrears: DataFrame,
}

/// Reads rule files and merges them.
pub fn load_rules(paths: &[String]) -> Result<RuleSet> {
    if paths.is_empty() {
        return Err(Error::Invalid(
            "no rule file: pass --rules FILE (CLI), rules=... (Python) or [entitlements] rules = [...] (config)".into(),
        ));
    }
    let sets = paths.iter().map(|p| RuleSet::from_file(Path::new(p))).collect::<Result<Vec<_>>>()?;
    RuleSet::merge(sets, &paths.join(", "))
}

/// Checks every rule against a payroll schema (read from a file's footer, before any row is read) and
/// returns the columns the audit reads: the rules' columns, the keys, the payment date, `by` and
/// `controls`.
pub fn columns_needed(schema: &Schema, rules: &RuleSet, options: &EntitlementOptions) -> Result<Vec<String>> {
    let file = if options.rules.is_empty() { "rules".to_string() } else { options.rules.join(", ") };
    let compiler = Compiler::new(schema, &file);
    let compiled = rules.rules.iter().map(|r| compiler.compile(r)).collect::<Result<Vec<_>>>()?;
    let mut names = referenced_columns(&compiled, schema)?;
    let keys = [
        options.columns.employee_id.clone().unwrap_or_else(|| "employee_id".into()),
        options.columns.period.clone().unwrap_or_else(|| "period".into()),
    ];
    let extra = keys
        .into_iter()
        .chain(rules.ruleset.payment_date.clone())
        .chain(options.groups())
        .chain(options.controls.clone());
    for name in extra {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// Audits the payroll against the rules: expected against paid for every worker × period × rule that
/// applies, arrears, and disparities by the `by` columns (`spec/entitlements.md`).
pub fn audit_entitlements(
    frame: &DataFrame,
    rules: &RuleSet,
    options: &EntitlementOptions,
) -> Result<EntitlementAudit> {
    let file = if options.rules.is_empty() { "rules".to_string() } else { options.rules.join(", ") };
    let available: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let employee_id = options.columns.employee_id.clone().unwrap_or_else(|| "employee_id".into());
    let period = options.columns.period.clone().unwrap_or_else(|| "period".into());
    for (name, role) in [(&employee_id, "employee_id"), (&period, "period")] {
        crate::data::require_column(name, role, &available)?;
    }
    let groups = options.groups();
    for name in groups.iter().chain(&options.controls) {
        crate::data::require_column(name, "grouping", &available)?;
    }
    // Every rule is compiled and checked against the schema before any row is processed.
    let compiler = Compiler::new(frame.schema(), &file);
    let compiled = rules.rules.iter().map(|r| compiler.compile(r)).collect::<Result<Vec<_>>>()?;
    let roles = Roles { employee_id: &employee_id, period: &period };
    let lines = audit_lines(frame, rules, &compiled, &roles, &file)?;
    let mut warnings = lines.warnings.clone();
    if rules.ruleset.illustrative {
        warnings.push(format!(
            "rule set `{}` is illustrative: its amounts are examples, not an entitlement in force",
            rules.ruleset.name
        ));
    }

    let columns = LineColumns::from_frame(&lines.frame)?;
    // The summary by rule runs beside the coding of the grouping columns.
    let names: Vec<String> = {
        let mut names: Vec<String> = Vec::new();
        for name in groups.iter().chain(&options.controls) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    };
    let (summaries, coded) = rayon::join(
        || rule_summaries(rules, &columns),
        || {
            names
                .iter()
                .map(|name| Ok((name.clone(), line_groups(frame, name, &columns.rows)?)))
                .collect::<Result<Vec<(String, LineGroups)>>>()
        },
    );
    let coded = coded?;
    let arrears_total = round_cents(columns.shortfall.iter().sum());
    let workers_with_arrears = {
        let mut seen = DistinctPairs::new(1, columns.employees.iter().max().map_or(0, |m| *m as usize + 1));
        let owed = columns.employees.iter().zip(&columns.shortfall).filter(|(_, &s)| s > 0.0);
        owed.filter(|(&e, _)| seen.insert(0, e)).count() as u64
    };
    let pick = |names: &[String]| -> Vec<(&String, &LineGroups)> {
        names.iter().filter_map(|n| coded.iter().find(|(c, _)| c == n).map(|(c, g)| (c, g))).collect()
    };
    let rule_ids: Vec<String> = rules.rules.iter().map(|r| r.id.clone()).collect();
    let (disparity_rows, fit) = rayon::join(
        || disparities(&columns, &rule_ids, &pick(&groups), options.min_cell),
        || {
            (options.logit && !columns.rows.is_empty())
                .then(|| short_paid_logit(&columns, &rule_ids, &pick(&groups), &pick(&options.controls)))
        },
    );
    let disparity_rows = disparity_rows?;
    let logit = match fit {
        Some(Ok(report)) => Some(report),
        Some(Err(e)) => {
            warnings.push(format!("logistic regression not reported: {e}"));
            None
        }
        None => None,
    };
    let arrears = arrears_table(frame, &lines.frame, &rule_ids, &roles)?;
    Ok(EntitlementAudit {
        kind: "entitlement_audit".into(),
        version: crate::VERSION.into(),
        ledger: lines.ledger,
        warnings,
        ruleset: RuleSetSummary {
            name: rules.ruleset.name.clone(),
            currency: rules.ruleset.currency.clone(),
            period: rules.ruleset.period.as_str().into(),
            source: rules.ruleset.source.clone(),
            illustrative: rules.ruleset.illustrative,
        },
        periods: lines.period_range.map(|(a, b)| (a.to_string(), b.to_string())),
        rules: summaries,
        arrears_total,
        workers_with_arrears,
        disparities: disparity_rows,
        logit,
        min_cell: options.min_cell,
        arrears,
    })
}

/// Sums by rule and status, and workers by rule, in one pass over the lines.
fn rule_summaries(rules: &RuleSet, lines: &LineColumns) -> Vec<RuleSummary> {
    let mut out: Vec<RuleSummary> = rules
        .rules
        .iter()
        .map(|r| RuleSummary {
            id: r.id.clone(),
            kind: format!("{:?}", r.kind).to_lowercase(),
            description: r.description.clone(),
            source: r.source.clone(),
            paid_columns: r.paid.clone(),
            eligible: 0,
            workers: 0,
            expected_total: 0.0,
            paid_total: 0.0,
            shortfall_total: 0.0,
            status_counts: StatusCounts::default(),
            not_paid_pct: None,
            underpaid_pct: None,
            workers_with_arrears: 0,
        })
        .collect();
    let employees = lines.employees.iter().max().map_or(0, |m| *m as usize + 1);
    let (mut seen, mut seen_arrears) =
        (DistinctPairs::new(rules.rules.len(), employees), DistinctPairs::new(rules.rules.len(), employees));
    for line in 0..lines.rules.len() {
        let rule = lines.rules[line] as usize;
        let summary = &mut out[rule];
        summary.eligible += 1;
        summary.status_counts.add(lines.status[line], 1);
        summary.expected_total += lines.expected[line];
        summary.paid_total += lines.paid[line];
        summary.shortfall_total += lines.shortfall[line];
        if seen.insert(rule, lines.employees[line]) {
            summary.workers += 1;
        }
        if lines.shortfall[line] > 0.0 && seen_arrears.insert(rule, lines.employees[line]) {
            summary.workers_with_arrears += 1;
        }
    }
    for summary in &mut out {
        summary.expected_total = round_cents(summary.expected_total);
        summary.paid_total = round_cents(summary.paid_total);
        summary.shortfall_total = round_cents(summary.shortfall_total);
        if summary.eligible > 0 {
            let e = summary.eligible as f64;
            summary.not_paid_pct = Some(100.0 * summary.status_counts.not_paid as f64 / e);
            summary.underpaid_pct = Some(100.0 * summary.status_counts.underpaid as f64 / e);
        }
    }
    out
}

/// The worker-level arrears table: lines underpaid, not paid or late, with the payroll's own employee id
/// and period, ordered by employee, period and rule.
fn arrears_table(frame: &DataFrame, lines: &DataFrame, rule_ids: &[String], roles: &Roles) -> Result<DataFrame> {
    let flagged = lines
        .clone()
        .lazy()
        .filter(col("status").eq(lit(1u32)).or(col("status").eq(lit(2u32))).or(col("status").eq(lit(4u32))))
        .collect()?;
    let rows = flagged.column(ROW)?.u32()?.clone();
    let rows = IdxCa::from_vec("rows".into(), rows.into_no_null_iter().map(|r| r as IdxSize).collect());
    let employee = frame.column(roles.employee_id)?.take(&rows)?.cast(&DataType::String)?;
    let period = frame.column(roles.period)?.take(&rows)?.cast(&DataType::String)?;
    let rule: Vec<&str> =
        flagged.column(RULE)?.u32()?.into_no_null_iter().map(|r| rule_ids[r as usize].as_str()).collect();
    let status: Vec<&str> =
        flagged.column("status")?.u32()?.into_no_null_iter().map(|s| STATUSES[s as usize]).collect();
    let table = DataFrame::new_infer_height(vec![
        employee.with_name("employee_id".into()),
        Column::new("rule".into(), rule),
        period.with_name("period".into()),
        flagged.column("expected")?.clone(),
        flagged.column("paid")?.clone(),
        flagged.column("shortfall")?.clone(),
        Column::new("status".into(), status),
    ])?;
    Ok(table.sort(["employee_id", "period", "rule"], SortMultipleOptions::default())?)
}
