//! The human-readable gap table: overall figures, the breakdown, the factor-weighted gap, and a footnote
//! with the row ledger and the disclosure setting. Percentages are rounded to one decimal here only.

use std::fmt::Write as _;

use crate::data::{Measure, Unit, FEMALE, MALE};
use crate::gap::GapResult;
use crate::stats::Estimate;

fn pct(e: &Estimate) -> String {
    e.estimate.map_or("–".into(), |v| format!("{v:.1}"))
}

fn ci(e: &Estimate) -> String {
    match (e.ci_low, e.ci_high) {
        (Some(l), Some(h)) => format!("[{l:.1}, {h:.1}]"),
        _ => String::new(),
    }
}

fn money(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2}"))
}

fn count(v: Option<u64>) -> String {
    v.map_or("–".into(), thousands)
}

fn thousands(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Renders a gap result as an aligned text table (what `payequity gap --format table` prints).
pub fn gap_summary(result: &GapResult) -> String {
    let mut out = String::new();
    let (measure, amounts) = match result.measure {
        Measure::Hourly => ("hourly pay", "currency units per hour"),
        Measure::Pay => ("pay level (sum of pay over the periods)", "currency units"),
    };
    let unit = match result.unit {
        Unit::Employee => "employees (pay and hours summed over their periods)",
        _ => "rows",
    };
    let level = (result.confidence * 100.0).round();
    let _ = writeln!(out, "Gender pay gap in {measure}: (men − women) / men × 100, in %.");
    let _ = writeln!(out, "Counted: {unit}.");
    let _ = writeln!(out, "Means and medians in {amounts}.");
    let o = &result.overall;
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<16}{:>10}{:>10}{:>9}  {level}% CI", "", "Women", "Men", "Gap %");
    let _ = writeln!(
        out,
        "{:<16}{:>10}{:>10}",
        "Count",
        count(o.n.get(FEMALE).copied().flatten()),
        count(o.n.get(MALE).copied().flatten())
    );
    let _ = writeln!(
        out,
        "{:<16}{:>10}{:>10}{:>9}  {}",
        "Mean",
        money(o.mean.get(FEMALE).copied().flatten()),
        money(o.mean.get(MALE).copied().flatten()),
        pct(&o.mean_gap_pct),
        ci(&o.mean_gap_pct)
    );
    let _ = writeln!(
        out,
        "{:<16}{:>10}{:>10}{:>9}  {}",
        "Median",
        money(o.median.get(FEMALE).copied().flatten()),
        money(o.median.get(MALE).copied().flatten()),
        pct(&o.median_gap_pct),
        ci(&o.median_gap_pct)
    );
    let others: Vec<String> =
        o.n.iter().filter(|(k, _)| *k != FEMALE && *k != MALE).map(|(k, v)| format!("{k}: {}", count(*v))).collect();
    if !others.is_empty() {
        let _ = writeln!(out, "Other gender values (reported, not in the gap): {}", others.join(", "));
    }

    if !result.by.is_empty() {
        let name = result.by_columns.join(" × ");
        let width = result
            .by
            .iter()
            .map(|g| group_label(g, &result.by_columns).chars().count())
            .max()
            .unwrap_or(0)
            .max(name.chars().count())
            .min(40);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<width$}  {:>7}{:>7}{:>10}{:>10}  {:>6} {:<15}{:>8} {:<15}",
            name, "n F", "n M", "mean F", "mean M", "mean", "gap % [CI]", "median", "gap % [CI]"
        );
        for g in &result.by {
            let f = &g.figures;
            let label = group_label(g, &result.by_columns);
            if g.suppressed {
                let _ =
                    writeln!(out, "{label:<width$}  suppressed ({})", g.suppression.as_deref().unwrap_or("small cell"));
                continue;
            }
            let _ = writeln!(
                out,
                "{:<width$}  {:>7}{:>7}{:>10}{:>10}  {:>6} {:<15}{:>8} {:<15}",
                label,
                count(f.n.get(FEMALE).copied().flatten()),
                count(f.n.get(MALE).copied().flatten()),
                money(f.mean.get(FEMALE).copied().flatten()),
                money(f.mean.get(MALE).copied().flatten()),
                pct(&f.mean_gap_pct),
                ci(&f.mean_gap_pct),
                pct(&f.median_gap_pct),
                ci(&f.median_gap_pct)
            );
        }
    }
    if let (Some(fw), Some(detail)) = (&result.factor_weighted_gap_pct, &result.factor_weighted) {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Factor-weighted gap (ILO) over {}: {}% {}  ({} subgroups; {} without both women and men excluded, {:.1}% of employment)",
            detail.factors.join(" × "),
            pct(fw),
            ci(fw),
            detail.subgroups_used,
            detail.subgroups_excluded,
            detail.excluded_employment_share_pct
        );
    }

    let ledger = &result.ledger;
    let _ = writeln!(out);
    let excluded: Vec<String> = ledger.excluded.iter().map(|(k, v)| format!("{k} {}", thousands(*v))).collect();
    let _ = writeln!(
        out,
        "Rows: read {}, used {}, excluded {}{}",
        thousands(ledger.read),
        thousands(ledger.used),
        thousands(ledger.excluded_total()),
        if excluded.is_empty() { String::new() } else { format!(" ({})", excluded.join(", ")) }
    );
    let suppression = if result.min_cell == 0 {
        "Disclosure control: off (min_cell = 0).".to_string()
    } else {
        format!("Disclosure control: groups with fewer than {} women or men are suppressed.", result.min_cell)
    };
    let _ = writeln!(
        out,
        "{suppression} Mean CI: delta method, Welch df; median CI: percentile bootstrap, {} replicates, seed {}.",
        result.bootstrap_reps, result.seed
    );
    for w in &result.warnings {
        let _ = writeln!(out, "Warning: {w}");
    }
    out
}

fn group_label(g: &crate::gap::GroupGap, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| g.group.get(c).cloned().flatten().unwrap_or_else(|| "(missing)".into()))
        .collect::<Vec<_>>()
        .join(" × ")
}
