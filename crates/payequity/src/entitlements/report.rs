//! The entitlement audit as a document (`kind = "entitlement_audit"`, `spec/interfaces.md`): the summary by
//! rule, arrears, disparities and the logit; the worker-level arrears table for remediation; and the
//! public entry points shared by the CLI and the Python binding.

use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::compile::{CompiledRule, Compiler};
use super::disparity::{
    disparities, line_groups, round_cents, short_paid_logit, DisparityRow, LineColumns, LineGroups, LogitReport,
};
use super::engine::{audit_lines, from_days, referenced_columns, Roles, ROW, RULE, STATUSES};
use super::rules::RuleSet;
use super::sums::AuditSums;
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
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
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
    let compiled = compile_rules(frame.schema(), rules, options)?;
    let (sums, arrears) = audit_chunk(frame, rules, &compiled, options)?;
    Ok(audit_document(sums, sort_arrears(arrears)?, rules, options))
}

/// The rules compiled against a payroll schema (every rule checked before any row is processed).
#[derive(Debug)]
pub struct CompiledRules(Vec<CompiledRule>);

fn rules_file(options: &EntitlementOptions) -> String {
    if options.rules.is_empty() {
        "rules".to_string()
    } else {
        options.rules.join(", ")
    }
}

/// Compiles every rule against `schema`.
pub fn compile_rules(schema: &Schema, rules: &RuleSet, options: &EntitlementOptions) -> Result<CompiledRules> {
    let file = rules_file(options);
    let compiler = Compiler::new(schema, &file);
    Ok(CompiledRules(rules.rules.iter().map(|r| compiler.compile(r)).collect::<Result<Vec<_>>>()?))
}

/// The audit of one chunk of whole workers (rows in input order): its mergeable sums and its arrears rows
/// (unsorted; [`sort_arrears`] orders the table). Chunks of different workers add up to the audit of all.
pub fn audit_chunk(
    frame: &DataFrame,
    rules: &RuleSet,
    compiled: &CompiledRules,
    options: &EntitlementOptions,
) -> Result<(AuditSums, DataFrame)> {
    let file = rules_file(options);
    let employee_id = options.columns.employee_id.clone().unwrap_or_else(|| "employee_id".into());
    let period = options.columns.period.clone().unwrap_or_else(|| "period".into());
    let roles = &Roles { employee_id: &employee_id, period: &period };
    let lines = audit_lines(frame, rules, &compiled.0, roles, &file)?;
    let columns = LineColumns::from_frame(&lines.frame)?;
    let groups = options.groups();
    let model = model_columns(options);
    let mut names: Vec<String> = groups.clone();
    for name in &model {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let coded = names
        .iter()
        .map(|name| Ok((name.clone(), line_groups(frame, name, &columns.rows)?)))
        .collect::<Result<Vec<(String, LineGroups)>>>()?;
    let pick = |wanted: &[String]| -> Vec<&LineGroups> {
        wanted.iter().filter_map(|n| coded.iter().find(|(c, _)| c == n).map(|(_, g)| g)).collect()
    };
    let mut sums = AuditSums::of_lines(&columns, rules.rules.len(), &pick(&groups), &pick(&model));
    sums.ledger = lines.ledger;
    sums.paid_nulls = lines.paid_nulls;
    sums.missing_payment_dates = lines.missing_payment_dates;
    sums.period_range = lines.period_range;
    let rule_ids: Vec<String> = rules.rules.iter().map(|r| r.id.clone()).collect();
    let arrears = arrears_table(frame, &lines.frame, &rule_ids, roles)?;
    Ok((sums, arrears))
}

/// The columns of the logit: the groups, then the controls not among them.
fn model_columns(options: &EntitlementOptions) -> Vec<String> {
    let mut model = options.groups();
    for control in &options.controls {
        if !model.contains(control) {
            model.push(control.clone());
        }
    }
    model
}

/// The document from the merged sums of every chunk and the arrears table.
pub fn audit_document(
    sums: AuditSums,
    arrears: DataFrame,
    rules: &RuleSet,
    options: &EntitlementOptions,
) -> EntitlementAudit {
    let mut warnings = sums.row_warnings();
    if rules.ruleset.illustrative {
        warnings.push(format!(
            "rule set `{}` is illustrative: its amounts are examples, not an entitlement in force",
            rules.ruleset.name
        ));
    }
    let groups = options.groups();
    let rule_ids: Vec<String> = rules.rules.iter().map(|r| r.id.clone()).collect();
    let lines: u64 = sums.rules.iter().map(|r| r.eligible).sum();
    let (disparity_rows, fit) = rayon::join(
        || disparities(&sums, &rule_ids, &groups, options.min_cell),
        || {
            (options.logit && lines > 0)
                .then(|| short_paid_logit(&sums, &rule_ids, &groups, &options.controls, &model_columns(options)))
        },
    );
    let logit = match fit {
        Some(Ok(report)) => Some(report),
        Some(Err(e)) => {
            warnings.push(format!("logistic regression not reported: {e}"));
            None
        }
        None => None,
    };
    EntitlementAudit {
        kind: "entitlement_audit".into(),
        version: crate::VERSION.into(),
        commit: crate::COMMIT.into(),
        ruleset: RuleSetSummary {
            name: rules.ruleset.name.clone(),
            currency: rules.ruleset.currency.clone(),
            period: rules.ruleset.period.as_str().into(),
            source: rules.ruleset.source.clone(),
            illustrative: rules.ruleset.illustrative,
        },
        periods: sums.period_range.map(|(a, b)| {
            let shown = |d: i32| from_days(d).map_or_else(|| format!("day {d}"), |d| d.to_string());
            (shown(a), shown(b))
        }),
        rules: sums.rule_summaries(rules),
        arrears_total: round_cents(sums.shortfall),
        workers_with_arrears: sums.workers_with_arrears,
        disparities: disparity_rows.unwrap_or_default(),
        logit,
        min_cell: options.min_cell,
        warnings,
        ledger: sums.ledger,
        arrears,
    }
}

/// The arrears table ordered by employee, period and rule.
pub fn sort_arrears(table: DataFrame) -> Result<DataFrame> {
    Ok(table.sort(["employee_id", "period", "rule"], SortMultipleOptions::default())?)
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
    Ok(table)
}
