//! Who is short-paid: for every grouping column and rule, the share of eligible worker-periods underpaid or not
//! paid and the arrears per worker, each group tested against the rest (Fisher's exact test for small
//! cells, the two-proportion z-test otherwise), small groups suppressed; and the logistic regression of
//! "short-paid" on the groups plus controls, fitted on covariate cells.

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use super::engine::{EMPLOYEE, ROW, RULE};
use super::sums::{AuditSums, CellSums};
use crate::data::column_codes;
use crate::stats::{compare_proportions, logit, LogitCells, LogitFit, ProportionTest};
use crate::Result;

/// One group of one grouping column for one rule: counts are of the rule's eligible worker-periods, and
/// the group is tested against the other groups eligible for the same rule (groups are compared at equal
/// eligibility, not through a mix of rules that differs between them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisparityRow {
    pub by: String,
    pub group: String,
    pub rule: String,
    /// Distinct workers with at least one eligible line.
    pub workers: Option<u64>,
    pub eligible: Option<u64>,
    /// Lines underpaid or not paid.
    pub underpaid: Option<u64>,
    pub underpaid_pct: Option<f64>,
    /// Arrears per eligible worker.
    pub mean_arrears: Option<f64>,
    pub arrears_total: Option<f64>,
    /// The group against all other groups.
    pub p_value: Option<f64>,
    pub test: Option<ProportionTest>,
    pub suppressed: bool,
}

/// The logistic regression of "short-paid" (underpaid or not paid) on group indicators and controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogitReport {
    pub outcome: String,
    /// The rules whose lines the model is fitted on: those with both short-paid and correctly paid lines.
    pub rules: Vec<String>,
    /// The base level of each categorical column (its most frequent level).
    pub reference: Vec<(String, String)>,
    pub groups: Vec<String>,
    pub controls: Vec<String>,
    #[serde(flatten)]
    pub fit: LogitFit,
}

/// The line codes of a grouping column and the label of each code.
pub(crate) struct LineGroups {
    pub codes: Vec<u32>,
    pub labels: Vec<String>,
}

pub(crate) fn line_groups(frame: &DataFrame, column: &str, rows: &[u32]) -> Result<LineGroups> {
    let source = frame.column(column)?;
    let codes = column_codes(source)?;
    let mut first_row = vec![u32::MAX; codes.count];
    for (row, &code) in codes.codes.iter().enumerate() {
        if first_row[code as usize] == u32::MAX {
            first_row[code as usize] = row as u32;
        }
    }
    let labels = first_row
        .iter()
        .map(|&row| {
            let value = source.get(row as usize)?;
            Ok(match value {
                AnyValue::Null => "(missing)".to_string(),
                AnyValue::String(s) => s.to_string(),
                AnyValue::StringOwned(s) => s.to_string(),
                other => other.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(LineGroups { codes: rows.par_iter().map(|&r| codes.codes[r as usize]).collect(), labels })
}

/// Distinct (cell, employee) pairs, counted in one pass: a bitset over cells × employees when it fits in
/// 64 MB, a hash set otherwise.
pub(crate) struct DistinctPairs {
    employees: usize,
    bits: Vec<u64>,
    fallback: Option<std::collections::HashSet<(u32, u32)>>,
}

impl DistinctPairs {
    const BITSET_LIMIT: usize = 1 << 29;

    pub fn new(cells: usize, employees: usize) -> DistinctPairs {
        match cells.checked_mul(employees).filter(|&n| n <= Self::BITSET_LIMIT) {
            Some(n) => DistinctPairs { employees, bits: vec![0; n.div_ceil(64)], fallback: None },
            None => DistinctPairs { employees, bits: Vec::new(), fallback: Some(Default::default()) },
        }
    }

    /// True the first time the pair is seen.
    pub fn insert(&mut self, cell: usize, employee: u32) -> bool {
        match &mut self.fallback {
            Some(set) => set.insert((cell as u32, employee)),
            None => {
                let index = cell * self.employees + employee as usize;
                let (word, bit) = (index / 64, 1u64 << (index % 64));
                let new = self.bits[word] & bit == 0;
                self.bits[word] |= bit;
                new
            }
        }
    }
}

/// Line columns as plain vectors.
pub(crate) struct LineColumns {
    pub rows: Vec<u32>,
    pub employees: Vec<u32>,
    pub rules: Vec<u32>,
    pub expected: Vec<f64>,
    pub paid: Vec<f64>,
    pub shortfall: Vec<f64>,
    pub status: Vec<u8>,
}

impl LineColumns {
    pub fn from_frame(lines: &DataFrame) -> Result<LineColumns> {
        let u32s = |name: &str| -> Result<Vec<u32>> {
            let column = lines.column(name)?.u32()?.rechunk();
            Ok(column.downcast_as_array().values().as_slice().to_vec())
        };
        let f64s = |name: &str| -> Result<Vec<f64>> {
            let column = lines.column(name)?.f64()?.rechunk();
            Ok(column.downcast_as_array().values().as_slice().to_vec())
        };
        // Seven columns of up to rules × rows values: copied side by side.
        let ((rows, employees), (rules, status)) = rayon::join(
            || rayon::join(|| u32s(ROW), || u32s(EMPLOYEE)),
            || rayon::join(|| u32s(RULE), || u32s("status")),
        );
        let ((expected, paid), shortfall) =
            rayon::join(|| rayon::join(|| f64s("expected"), || f64s("paid")), || f64s("shortfall"));
        Ok(LineColumns {
            rows: rows?,
            employees: employees?,
            rules: rules?,
            expected: expected?,
            paid: paid?,
            shortfall: shortfall?,
            status: status?.into_iter().map(|s| s as u8).collect(),
        })
    }
}

/// The disparity table of every `by` column, from the (group, rule) cells of the audit sums.
pub(crate) fn disparities(
    sums: &AuditSums,
    rule_ids: &[String],
    by: &[String],
    min_cell: usize,
) -> Result<Vec<DisparityRow>> {
    let mut out = Vec::new();
    for (column, cells) in by.iter().zip(&sums.disparity) {
        // Each rule is its own table, so that groups are compared at equal eligibility.
        for (r, rule) in rule_ids.iter().enumerate() {
            // Groups of the rule in label order (the map's order).
            let groups: Vec<(&String, &CellSums)> = cells
                .iter()
                .filter(|((_, rr), c)| *rr as usize == r && c.eligible > 0)
                .map(|((g, _), c)| (g, c))
                .collect();
            let total: u64 = groups.iter().map(|(_, c)| c.eligible).sum();
            let total_under: u64 = groups.iter().map(|(_, c)| c.under).sum();
            let mut suppressed: Vec<bool> = groups.iter().map(|(_, c)| (c.workers as usize) < min_cell).collect();
            // Complementary suppression: with one group withheld, the rule's totals would give it away.
            if suppressed.iter().filter(|s| **s).count() == 1 && groups.len() > 1 {
                if let Some(next) = (0..groups.len())
                    .filter(|&g| !suppressed[g])
                    .min_by_key(|&g| (groups[g].1.workers, groups[g].1.eligible))
                {
                    suppressed[next] = true;
                }
            }
            for (g, (label, c)) in groups.iter().enumerate() {
                let published = !suppressed[g];
                let comparison = published
                    .then(|| compare_proportions(c.under, c.eligible, total_under - c.under, total - c.eligible))
                    .flatten();
                out.push(DisparityRow {
                    by: column.clone(),
                    group: (*label).clone(),
                    rule: rule.clone(),
                    workers: published.then_some(c.workers),
                    eligible: published.then_some(c.eligible),
                    underpaid: published.then_some(c.under),
                    underpaid_pct: published.then(|| 100.0 * c.under as f64 / c.eligible as f64),
                    mean_arrears: published.then(|| round_cents(c.arrears) / c.workers as f64),
                    arrears_total: published.then(|| round_cents(c.arrears)),
                    p_value: comparison.map(|(_, p)| p),
                    test: comparison.map(|(t, _)| t),
                    suppressed: !published,
                });
            }
        }
    }
    Ok(out)
}

pub(crate) fn round_cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The logit of short-paid on `groups` + `controls` (+ the rule when there are several), every column
/// categorical with its most frequent level as base (ties: the first label in sort order), fitted on the
/// covariate cells of the audit sums (`model` names their columns: the groups, then the controls).
pub(crate) fn short_paid_logit(
    sums: &AuditSums,
    rule_ids: &[String],
    groups: &[String],
    controls: &[String],
    model: &[String],
) -> Result<LogitReport> {
    // Rules never (or always) short-paid carry no information on who is short-paid and would separate
    // perfectly: the model is fitted on the lines of the other rules.
    let mut per_rule = vec![(0u64, 0u64); rule_ids.len()];
    for ((_, rule), (n, y)) in &sums.logit {
        per_rule[*rule as usize].0 += n;
        per_rule[*rule as usize].1 += y;
    }
    let informative = |rule: u32| {
        let (n, y) = per_rule[rule as usize];
        y > 0 && y < n
    };
    let kept: Vec<(&Vec<String>, u32, u64, u64)> = sums
        .logit
        .iter()
        .filter(|((_, rule), _)| informative(*rule))
        .map(|((labels, rule), (n, y))| (labels, *rule, *n, *y))
        .collect();
    if kept.is_empty() {
        return Err(crate::Error::Invalid("no rule has both short-paid and correctly paid lines".into()));
    }
    let fitted_rules: Vec<String> =
        (0..rule_ids.len() as u32).filter(|&r| informative(r)).map(|r| rule_ids[r as usize].clone()).collect();
    let mut names: Vec<String> = model.to_vec();
    let with_rule = fitted_rules.len() > 1;
    if with_rule {
        names.push("rule".into());
    }
    // The label of column `c` of a kept cell.
    let label = |cell: &(&Vec<String>, u32, u64, u64), c: usize| -> String {
        if c < model.len() {
            cell.0[c].clone()
        } else {
            rule_ids[cell.1 as usize].clone()
        }
    };
    // Base level and the dummies of each column.
    let mut reference = Vec::new();
    let mut dummies: Vec<(usize, String, String)> = Vec::new(); // (column, level, term)
    for (c, name) in names.iter().enumerate() {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for cell in &kept {
            *counts.entry(label(cell, c)).or_insert(0) += cell.2;
        }
        // Levels in label order; the base is the first of the most frequent.
        let mut base: Option<(&String, u64)> = None;
        for (level, &n) in &counts {
            if base.is_none_or(|(_, m)| n > m) {
                base = Some((level, n));
            }
        }
        let base = base.map(|(l, _)| l.clone()).unwrap_or_default();
        reference.push((name.clone(), base.clone()));
        for level in counts.keys().filter(|l| **l != base) {
            dummies.push((c, level.clone(), format!("{name}={level}")));
        }
    }
    // A level whose lines are all (or never) short-paid separates perfectly: say which.
    for (c, level, term) in &dummies {
        let (mut n, mut y) = (0u64, 0u64);
        for cell in kept.iter().filter(|cell| label(cell, *c) == *level) {
            n += cell.2;
            y += cell.3;
        }
        if y == 0 || y == n {
            return Err(crate::Error::Invalid(format!(
                "`{term}`: {} of its {n} eligible lines short-paid, so its odds ratio is {}; leave `{}` out of the model or merge small levels",
                if y == 0 { "none" } else { "all" },
                if y == 0 { "zero" } else { "infinite" },
                names[*c]
            )));
        }
    }
    // Covariate cells: lines of the same labels (and rule, when it is a column) pooled.
    let mut cells: BTreeMap<Vec<String>, (f64, f64)> = BTreeMap::new();
    for cell in &kept {
        let key: Vec<String> = (0..names.len()).map(|c| label(cell, c)).collect();
        let slot = cells.entry(key).or_insert((0.0, 0.0));
        slot.0 += cell.2 as f64;
        slot.1 += cell.3 as f64;
    }
    let k = 1 + dummies.len();
    let mut design = LogitCells::new(k);
    let mut x = vec![0f64; k];
    for (key, (trials, successes)) in &cells {
        x[0] = 1.0;
        for (j, (c, level, _)) in dummies.iter().enumerate() {
            x[j + 1] = f64::from(u8::from(key[*c] == *level));
        }
        design.push(&x, *trials, *successes);
    }
    let terms: Vec<String> = std::iter::once("const".to_string()).chain(dummies.into_iter().map(|d| d.2)).collect();
    let fit = logit(&design, &terms)?;
    Ok(LogitReport {
        outcome: "underpaid or not paid".into(),
        rules: fitted_rules,
        reference,
        groups: groups.to_vec(),
        controls: controls.to_vec(),
        fit,
    })
}
