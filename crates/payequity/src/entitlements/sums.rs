//! Mergeable sums of audit lines ([`AuditSums`]): what the audit document needs from the worker × period ×
//! rule lines, kept per rule, per (group, rule) cell and per covariate cell of the logit, so that chunks of
//! whole workers (spill partitions of a streamed input, Spark and Dask partitions) merge by addition and
//! the document never needs the lines themselves. The in-memory audit is the same sums over one chunk.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::disparity::{round_cents, DistinctPairs, LineColumns, LineGroups};
use super::engine::{STATUS_NOT_PAID, STATUS_UNDERPAID};
use super::report::{RuleSummary, StatusCounts};
use super::rules::RuleSet;
use crate::data::Ledger;

/// One rule's line sums.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleSums {
    pub eligible: u64,
    pub workers: u64,
    pub expected: f64,
    pub paid: f64,
    pub shortfall: f64,
    /// Lines by status code ([`super::STATUSES`]).
    pub status: [u64; 5],
    pub workers_with_arrears: u64,
}

/// One (group, rule) cell of a disparity table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CellSums {
    pub eligible: u64,
    /// Lines underpaid or not paid.
    pub under: u64,
    pub arrears: f64,
    /// Distinct workers with a line in the cell.
    pub workers: u64,
}

/// The mergeable state of an entitlement audit over chunks of whole workers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditSums {
    pub ledger: Ledger,
    /// Empty paid amounts (counted as nothing paid) per paid column, in rule order.
    pub paid_nulls: Vec<(String, u64)>,
    /// Rows without a payment date (the column, the count).
    pub missing_payment_dates: Option<(String, u64)>,
    /// First and last period start among the rows used (days since 1970-01-01).
    pub period_range: Option<(i32, i32)>,
    pub rules: Vec<RuleSums>,
    /// Σ shortfall of every line (rounded to cents at the end).
    pub shortfall: f64,
    pub workers_with_arrears: u64,
    /// Per grouping column (`by`, in order): (group label, rule index) → sums.
    pub disparity: Vec<BTreeMap<(String, u32), CellSums>>,
    /// Covariate cells of the logit: (labels of the groups and controls, rule index) → (lines, short-paid).
    pub logit: BTreeMap<(Vec<String>, u32), (u64, u64)>,
}

fn is_short(status: u8) -> bool {
    status == STATUS_UNDERPAID || status == STATUS_NOT_PAID
}

impl AuditSums {
    /// The sums of the lines of one chunk of whole workers: `by` codes the grouping columns of the
    /// disparity tables, `model` the columns of the logit (groups then controls), line by line.
    pub(crate) fn of_lines(
        lines: &LineColumns,
        rule_count: usize,
        by: &[&LineGroups],
        model: &[&LineGroups],
    ) -> AuditSums {
        let mut sums = AuditSums { rules: vec![RuleSums::default(); rule_count], ..Default::default() };
        let employees = lines.employees.iter().max().map_or(0, |m| *m as usize + 1);
        let (mut seen, mut seen_arrears, mut owed) = (
            DistinctPairs::new(rule_count, employees),
            DistinctPairs::new(rule_count, employees),
            DistinctPairs::new(1, employees),
        );
        for line in 0..lines.rules.len() {
            let (rule, employee) = (lines.rules[line] as usize, lines.employees[line]);
            let r = &mut sums.rules[rule];
            r.eligible += 1;
            r.status[usize::from(lines.status[line]).min(4)] += 1;
            r.expected += lines.expected[line];
            r.paid += lines.paid[line];
            r.shortfall += lines.shortfall[line];
            if seen.insert(rule, employee) {
                r.workers += 1;
            }
            if lines.shortfall[line] > 0.0 {
                if seen_arrears.insert(rule, employee) {
                    r.workers_with_arrears += 1;
                }
                if owed.insert(0, employee) {
                    sums.workers_with_arrears += 1;
                }
            }
            sums.shortfall += lines.shortfall[line];
        }
        for groups in by {
            let k = groups.labels.len();
            let mut pairs = DistinctPairs::new(rule_count * k, employees);
            let mut cells: BTreeMap<(String, u32), CellSums> = BTreeMap::new();
            for (line, &g) in groups.codes.iter().enumerate() {
                let rule = lines.rules[line];
                let cell = cells.entry((groups.labels[g as usize].clone(), rule)).or_default();
                cell.eligible += 1;
                cell.under += u64::from(is_short(lines.status[line]));
                cell.arrears += lines.shortfall[line];
                if pairs.insert(rule as usize * k + g as usize, lines.employees[line]) {
                    cell.workers += 1;
                }
            }
            sums.disparity.push(cells);
        }
        // Lines are first counted per code combination, then keyed by their labels.
        let mut coded: std::collections::HashMap<(Vec<u32>, u32), (u64, u64)> = Default::default();
        for line in 0..lines.rules.len() {
            let key: Vec<u32> = model.iter().map(|g| g.codes[line]).collect();
            let cell = coded.entry((key, lines.rules[line])).or_default();
            cell.0 += 1;
            cell.1 += u64::from(is_short(lines.status[line]));
        }
        for ((codes, rule), counts) in coded {
            let labels: Vec<String> = codes.iter().zip(model).map(|(&c, g)| g.labels[c as usize].clone()).collect();
            let cell = sums.logit.entry((labels, rule)).or_default();
            cell.0 += counts.0;
            cell.1 += counts.1;
        }
        sums
    }

    /// The sums of two chunks of different workers.
    pub fn merge(mut self, other: AuditSums) -> AuditSums {
        self.ledger.read += other.ledger.read;
        self.ledger.used += other.ledger.used;
        for (reason, count) in other.ledger.excluded {
            *self.ledger.excluded.entry(reason).or_insert(0) += count;
        }
        for (name, count) in other.paid_nulls {
            match self.paid_nulls.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 += count,
                None => self.paid_nulls.push((name, count)),
            }
        }
        self.missing_payment_dates = match (self.missing_payment_dates, other.missing_payment_dates) {
            (Some((name, a)), Some((_, b))) => Some((name, a + b)),
            (a, b) => a.or(b),
        };
        self.period_range = match (self.period_range, other.period_range) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        };
        if self.rules.is_empty() {
            self.rules = vec![RuleSums::default(); other.rules.len()];
        }
        for (mine, theirs) in self.rules.iter_mut().zip(other.rules) {
            mine.eligible += theirs.eligible;
            mine.workers += theirs.workers;
            mine.expected += theirs.expected;
            mine.paid += theirs.paid;
            mine.shortfall += theirs.shortfall;
            for (a, b) in mine.status.iter_mut().zip(theirs.status) {
                *a += b;
            }
            mine.workers_with_arrears += theirs.workers_with_arrears;
        }
        self.shortfall += other.shortfall;
        self.workers_with_arrears += other.workers_with_arrears;
        if self.disparity.is_empty() {
            self.disparity = vec![BTreeMap::new(); other.disparity.len()];
        }
        for (mine, theirs) in self.disparity.iter_mut().zip(other.disparity) {
            for (key, cell) in theirs {
                let slot = mine.entry(key).or_default();
                slot.eligible += cell.eligible;
                slot.under += cell.under;
                slot.arrears += cell.arrears;
                slot.workers += cell.workers;
            }
        }
        for (key, (n, y)) in other.logit {
            let slot = self.logit.entry(key).or_default();
            slot.0 += n;
            slot.1 += y;
        }
        self
    }

    /// The summary by rule.
    pub(crate) fn rule_summaries(&self, rules: &RuleSet) -> Vec<RuleSummary> {
        rules
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let sums = self.rules.get(i).cloned().unwrap_or_default();
                let status_counts = StatusCounts {
                    ok: sums.status[0],
                    underpaid: sums.status[1],
                    not_paid: sums.status[2],
                    overpaid: sums.status[3],
                    late: sums.status[4],
                };
                let share = |n: u64| (sums.eligible > 0).then(|| 100.0 * n as f64 / sums.eligible as f64);
                RuleSummary {
                    id: r.id.clone(),
                    kind: format!("{:?}", r.kind).to_lowercase(),
                    description: r.description.clone(),
                    source: r.source.clone(),
                    paid_columns: r.paid.clone(),
                    eligible: sums.eligible,
                    workers: sums.workers,
                    expected_total: round_cents(sums.expected),
                    paid_total: round_cents(sums.paid),
                    shortfall_total: round_cents(sums.shortfall),
                    not_paid_pct: share(status_counts.not_paid),
                    underpaid_pct: share(status_counts.underpaid),
                    status_counts,
                    workers_with_arrears: sums.workers_with_arrears,
                }
            })
            .collect()
    }

    /// The warnings of the rows: empty paid amounts and missing payment dates.
    pub(crate) fn row_warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> = self
            .paid_nulls
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("paid column `{name}`: {n} row(s) are empty and count as nothing paid"))
            .collect();
        if let Some((name, missing)) = self.missing_payment_dates.as_ref().filter(|(_, n)| *n > 0) {
            warnings.push(format!(
                "payment date `{name}`: {missing} row(s) have none; their payments are not checked for lateness"
            ));
        }
        warnings
    }
}
