//! Who is short-paid: for every grouping column and rule, the share of eligible worker-periods underpaid or not
//! paid and the arrears per worker, each group tested against the rest (Fisher's exact test for small
//! cells, the two-proportion z-test otherwise), small groups suppressed; and the logistic regression of
//! "short-paid" on the groups plus controls, fitted on covariate cells.

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::engine::{EMPLOYEE, ROW, RULE, STATUS_NOT_PAID, STATUS_UNDERPAID};
use crate::data::{column_codes, combine, KeyCodes};
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
    codes: Vec<u32>,
    labels: Vec<String>,
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

fn short_paid(status: &[u8]) -> Vec<bool> {
    status.iter().map(|&s| s == STATUS_UNDERPAID || s == STATUS_NOT_PAID).collect()
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

/// The disparity table of every `by` column.
pub(crate) fn disparities(
    lines: &LineColumns,
    rule_ids: &[String],
    by: &[(&String, &LineGroups)],
    min_cell: usize,
) -> Result<Vec<DisparityRow>> {
    let short = short_paid(&lines.status);
    let employees = lines.employees.iter().max().map_or(0, |m| *m as usize + 1);
    let mut out = Vec::new();
    for &(column, groups) in by {
        let k = groups.labels.len();
        // Cells (rule, group): each rule is its own table, so that groups are compared at equal eligibility.
        let cells = rule_ids.len() * k;
        let (mut eligible, mut under, mut arrears, mut workers) =
            (vec![0u64; cells], vec![0u64; cells], vec![0f64; cells], vec![0u64; cells]);
        let mut pairs = DistinctPairs::new(cells, employees);
        for (line, &g) in groups.codes.iter().enumerate() {
            let cell = lines.rules[line] as usize * k + g as usize;
            eligible[cell] += 1;
            under[cell] += u64::from(short[line]);
            arrears[cell] += lines.shortfall[line];
            if pairs.insert(cell, lines.employees[line]) {
                workers[cell] += 1;
            }
        }
        for (r, rule) in rule_ids.iter().enumerate() {
            let cell = |g: usize| r * k + g;
            let total: u64 = (0..k).map(|g| eligible[cell(g)]).sum();
            let total_under: u64 = (0..k).map(|g| under[cell(g)]).sum();
            let mut order: Vec<usize> = (0..k).filter(|&g| eligible[cell(g)] > 0).collect();
            order.sort_by(|&a, &b| groups.labels[a].cmp(&groups.labels[b]));
            let mut suppressed: Vec<bool> = (0..k).map(|g| (workers[cell(g)] as usize) < min_cell).collect();
            // Complementary suppression: with one group withheld, the rule's totals would give it away.
            if order.iter().filter(|&&g| suppressed[g]).count() == 1 && order.len() > 1 {
                if let Some(&next) =
                    order.iter().filter(|&&g| !suppressed[g]).min_by_key(|&&g| (workers[cell(g)], eligible[cell(g)]))
                {
                    suppressed[next] = true;
                }
            }
            for g in order {
                let c = cell(g);
                let published = !suppressed[g];
                let comparison = published
                    .then(|| compare_proportions(under[c], eligible[c], total_under - under[c], total - eligible[c]))
                    .flatten();
                out.push(DisparityRow {
                    by: column.clone(),
                    group: groups.labels[g].clone(),
                    rule: rule.clone(),
                    workers: published.then_some(workers[c]),
                    eligible: published.then_some(eligible[c]),
                    underpaid: published.then_some(under[c]),
                    underpaid_pct: published.then(|| 100.0 * under[c] as f64 / eligible[c] as f64),
                    mean_arrears: published.then(|| round_cents(arrears[c]) / workers[c] as f64),
                    arrears_total: published.then(|| round_cents(arrears[c])),
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
/// categorical with its most frequent level as base (ties: the first label in sort order).
pub(crate) fn short_paid_logit(
    lines: &LineColumns,
    rule_ids: &[String],
    groups: &[(&String, &LineGroups)],
    controls: &[(&String, &LineGroups)],
) -> Result<LogitReport> {
    // Rules never (or always) short-paid carry no information on who is short-paid and would separate
    // perfectly: the model is fitted on the lines of the other rules.
    let all_short = short_paid(&lines.status);
    let mut per_rule = vec![(0u64, 0u64); rule_ids.len()];
    for (line, &rule) in lines.rules.iter().enumerate() {
        per_rule[rule as usize].0 += 1;
        per_rule[rule as usize].1 += u64::from(all_short[line]);
    }
    let informative = |rule: u32| {
        let (n, y) = per_rule[rule as usize];
        y > 0 && y < n
    };
    let keep: Vec<usize> = (0..lines.rules.len()).filter(|&l| informative(lines.rules[l])).collect();
    if keep.is_empty() {
        return Err(crate::Error::Invalid("no rule has both short-paid and correctly paid lines".into()));
    }
    let kept_rules: Vec<u32> = keep.iter().map(|&l| lines.rules[l]).collect();
    let kept_status: Vec<u8> = keep.iter().map(|&l| lines.status[l]).collect();
    let fitted_rules: Vec<String> =
        (0..rule_ids.len() as u32).filter(|&r| informative(r)).map(|r| rule_ids[r as usize].clone()).collect();
    let short = short_paid(&kept_status);
    let mut columns: Vec<(String, LineGroups)> = Vec::new();
    for &(name, all) in groups.iter().chain(controls) {
        if !columns.iter().any(|(n, _)| n == name) {
            let codes = keep.iter().map(|&l| all.codes[l]).collect();
            columns.push((name.clone(), LineGroups { codes, labels: all.labels.clone() }));
        }
    }
    let used_rules: Vec<u32> = {
        let mut seen = vec![false; rule_ids.len()];
        kept_rules.iter().for_each(|&r| seen[r as usize] = true);
        (0..rule_ids.len() as u32).filter(|&r| seen[r as usize]).collect()
    };
    if used_rules.len() > 1 {
        columns.push(("rule".into(), LineGroups { codes: lines.rules.clone(), labels: rule_ids.to_vec() }));
    }
    // Base level and the dummies of each column.
    let mut reference = Vec::new();
    let mut dummies: Vec<(usize, u32, String)> = Vec::new(); // (column, level code, term)
    for (c, (name, g)) in columns.iter().enumerate() {
        let mut counts = vec![0u64; g.labels.len()];
        g.codes.iter().for_each(|&code| counts[code as usize] += 1);
        let mut present: Vec<u32> = (0..g.labels.len() as u32).filter(|&l| counts[l as usize] > 0).collect();
        present.sort_by(|&a, &b| g.labels[a as usize].cmp(&g.labels[b as usize]));
        let mut base = present.first().copied().unwrap_or(0);
        for &level in &present {
            if counts[level as usize] > counts[base as usize] {
                base = level;
            }
        }
        reference.push((name.clone(), g.labels.get(base as usize).cloned().unwrap_or_default()));
        for level in present.into_iter().filter(|&l| l != base) {
            dummies.push((c, level, format!("{name}={}", g.labels[level as usize])));
        }
    }
    // Covariate cells.
    let lines_count = short.len();
    let mut cells = KeyCodes { codes: vec![0; lines_count], count: 1 };
    for (_, g) in &columns {
        cells = combine(&cells, &KeyCodes { codes: g.codes.clone(), count: g.labels.len() });
    }
    let mut trials = vec![0f64; cells.count];
    let mut successes = vec![0f64; cells.count];
    let mut example = vec![usize::MAX; cells.count];
    for (line, &cell) in cells.codes.iter().enumerate() {
        let cell = cell as usize;
        trials[cell] += 1.0;
        successes[cell] += f64::from(u8::from(short[line]));
        if example[cell] == usize::MAX {
            example[cell] = line;
        }
    }
    // A level whose lines are all (or never) short-paid separates perfectly: say which.
    for (c, level, term) in &dummies {
        let (mut n, mut y) = (0u64, 0u64);
        for (line, &code) in columns[*c].1.codes.iter().enumerate() {
            if code == *level {
                n += 1;
                y += u64::from(short[line]);
            }
        }
        if y == 0 || y == n {
            return Err(crate::Error::Invalid(format!(
                "`{term}`: {} of its {n} eligible lines short-paid, so its odds ratio is {}; leave `{}` out of the model or merge small levels",
                if y == 0 { "none" } else { "all" },
                if y == 0 { "zero" } else { "infinite" },
                columns[*c].0
            )));
        }
    }
    let k = 1 + dummies.len();
    let mut design = LogitCells::new(k);
    let mut x = vec![0f64; k];
    for cell in 0..cells.count {
        let line = example[cell];
        x[0] = 1.0;
        for (j, (c, level, _)) in dummies.iter().enumerate() {
            x[j + 1] = f64::from(u8::from(columns[*c].1.codes[line] == *level));
        }
        design.push(&x, trials[cell], successes[cell]);
    }
    let names: Vec<String> = std::iter::once("const".to_string()).chain(dummies.into_iter().map(|d| d.2)).collect();
    let fit = logit(&design, &names)?;
    Ok(LogitReport {
        outcome: "underpaid or not paid".into(),
        rules: fitted_rules,
        reference,
        groups: groups.iter().map(|(n, _)| (*n).clone()).collect(),
        controls: controls.iter().map(|(n, _)| (*n).clone()).collect(),
        fit,
    })
}
