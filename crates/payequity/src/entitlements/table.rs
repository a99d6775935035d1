//! The entitlement audit as text (CLI `--format table`, Python `.summary()`) and as a flat table of the
//! summary by rule (CLI `--format csv`, Python `.to_polars()`).

use std::fmt::Write as _;

use polars::prelude::*;

use super::report::EntitlementAudit;
use crate::Result;

fn money(x: f64) -> String {
    format!("{x:.2}")
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.1}"))
}

/// A text summary: rules, arrears, disparities, the logit and the ledger.
pub fn entitlement_table(r: &EntitlementAudit) -> String {
    let mut out = String::new();
    let currency = r.ruleset.currency.clone().map(|c| format!(" ({c})")).unwrap_or_default();
    let _ = writeln!(out, "Entitlement audit — {}{currency}, one row = one {}", r.ruleset.name, r.ruleset.period);
    if let Some((first, last)) = &r.periods {
        let _ = writeln!(out, "Periods {first} to {last}");
    }
    let _ = writeln!(
        out,
        "{:<20} {:>9} {:>14} {:>14} {:>12} {:>6} {:>9} {:>9} {:>6}",
        "rule", "eligible", "expected", "paid", "shortfall", "ok", "underpaid", "not paid", "late"
    );
    for rule in &r.rules {
        let c = &rule.status_counts;
        let _ = writeln!(
            out,
            "{:<20} {:>9} {:>14} {:>14} {:>12} {:>6} {:>9} {:>9} {:>6}",
            rule.id,
            rule.eligible,
            money(rule.expected_total),
            money(rule.paid_total),
            money(rule.shortfall_total),
            c.ok,
            c.underpaid,
            c.not_paid,
            c.late
        );
    }
    let _ = writeln!(out, "Arrears: {} owed to {} workers", money(r.arrears_total), r.workers_with_arrears);
    if !r.disparities.is_empty() {
        let _ =
            writeln!(out, "\nShort-paid (underpaid or not paid) by group, rule by rule; each group against the rest");
        let _ = writeln!(
            out,
            "{:<14} {:<14} {:<16} {:>8} {:>9} {:>11} {:>14} {:>10} {:>7}",
            "by", "rule", "group", "workers", "eligible", "short-paid%", "arrears/worker", "p", "test"
        );
        for d in &r.disparities {
            let test = d.test.map_or("-", |t| match t {
                crate::stats::ProportionTest::Fisher => "fisher",
                crate::stats::ProportionTest::Z => "z",
            });
            let _ = writeln!(
                out,
                "{:<14} {:<14} {:<16} {:>8} {:>9} {:>11} {:>14} {:>10} {:>7}",
                d.by,
                d.rule,
                d.group,
                d.workers.map_or("<min".into(), |v| v.to_string()),
                d.eligible.map_or("-".into(), |v| v.to_string()),
                pct(d.underpaid_pct),
                d.mean_arrears.map_or("-".into(), money),
                d.p_value.map_or("-".into(), |p| format!("{p:.2e}")),
                test
            );
        }
    }
    if let Some(logit) = &r.logit {
        let reference: Vec<String> = logit.reference.iter().map(|(c, l)| format!("{c}={l}")).collect();
        let _ = writeln!(
            out,
            "\nLogit of short-paid (n = {}, pseudo R² {:.4}; base: {})",
            logit.fit.n,
            logit.fit.pseudo_r2,
            reference.join(", ")
        );
        let _ = writeln!(out, "{:<30} {:>10} {:>10} {:>10} {:>10}", "term", "odds ratio", "coef", "se", "p");
        for t in &logit.fit.terms {
            let _ = writeln!(
                out,
                "{:<30} {:>10.3} {:>10.4} {:>10.4} {:>10.2e}",
                t.term, t.odds_ratio, t.coef, t.se, t.p_value
            );
        }
    }
    let l = &r.ledger;
    let excluded: Vec<String> = l.excluded.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        out,
        "\nRows: {} read, {} used{}; cells under {} workers suppressed",
        l.read,
        l.used,
        if excluded.is_empty() { String::new() } else { format!(", excluded: {}", excluded.join(", ")) },
        r.min_cell
    );
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// The summary by rule as one row per rule.
pub fn entitlement_frame(r: &EntitlementAudit) -> Result<DataFrame> {
    let rules = &r.rules;
    Ok(df!(
        "rule" => rules.iter().map(|x| x.id.clone()).collect::<Vec<_>>(),
        "kind" => rules.iter().map(|x| x.kind.clone()).collect::<Vec<_>>(),
        "eligible" => rules.iter().map(|x| x.eligible).collect::<Vec<_>>(),
        "workers" => rules.iter().map(|x| x.workers).collect::<Vec<_>>(),
        "expected_total" => rules.iter().map(|x| x.expected_total).collect::<Vec<_>>(),
        "paid_total" => rules.iter().map(|x| x.paid_total).collect::<Vec<_>>(),
        "shortfall_total" => rules.iter().map(|x| x.shortfall_total).collect::<Vec<_>>(),
        "ok" => rules.iter().map(|x| x.status_counts.ok).collect::<Vec<_>>(),
        "underpaid" => rules.iter().map(|x| x.status_counts.underpaid).collect::<Vec<_>>(),
        "not_paid" => rules.iter().map(|x| x.status_counts.not_paid).collect::<Vec<_>>(),
        "overpaid" => rules.iter().map(|x| x.status_counts.overpaid).collect::<Vec<_>>(),
        "late" => rules.iter().map(|x| x.status_counts.late).collect::<Vec<_>>(),
        "workers_with_arrears" => rules.iter().map(|x| x.workers_with_arrears).collect::<Vec<_>>(),
    )?)
}
