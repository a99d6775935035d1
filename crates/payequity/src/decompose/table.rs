//! The text table of an Oaxaca-Blinder result, laid out like Stata's `oaxaca`: a header, the differential
//! block (predictions and difference), then the decomposition blocks with coefficient, std. err., z,
//! P>|z| and the confidence interval; `detail` adds one row per term under each component.

use std::fmt::Write as _;

use statrs::distribution::{ContinuousCDF, Normal};

use super::result::OaxacaResult;
use crate::stats::Estimate;

const RULE: &str = "------------------------------------------------------------------------------";
const JOIN: &str = "-------------+----------------------------------------------------------------";

pub(crate) fn row(out: &mut String, label: &str, e: &Estimate) {
    let name: String = if label.chars().count() > 12 {
        format!("{}~", label.chars().take(11).collect::<String>())
    } else {
        label.to_string()
    };
    let estimate = e.estimate.map_or(".".to_string(), |v| format!("{v:.7}"));
    match (e.estimate, e.se) {
        (Some(v), Some(se)) if se > 0.0 => {
            let z = v / se;
            let normal = Normal::standard();
            let p = 2.0 * (1.0 - normal.cdf(z.abs()));
            let (lo, hi) = (e.ci_low.unwrap_or(f64::NAN), e.ci_high.unwrap_or(f64::NAN));
            let _ =
                writeln!(out, "{name:>12} | {estimate:>10.10} {se:>10.7} {z:>8.2} {p:>7.3}    {lo:>10.7} {hi:>10.7}");
        }
        _ => {
            let _ = writeln!(out, "{name:>12} | {estimate:>10.10}");
        }
    }
}

fn block(out: &mut String, title: &str) {
    let _ = writeln!(out, "{title:<12} |");
}

/// Renders the result as a Stata-like table.
pub fn oaxaca_table(result: &OaxacaResult, detail: bool) -> String {
    let mut out = String::new();
    let level = (result.confidence * 100.0).round();
    let reference = match result.twofold.weight {
        Some(w) if result.twofold.reference != "pooled" && result.twofold.reference != "neumark" => {
            format!("{} (W = {w:.4})", result.twofold.reference)
        }
        _ => result.twofold.reference.clone(),
    };
    let _ = writeln!(
        out,
        "Blinder-Oaxaca decomposition                   Number of obs  = {:>10}",
        result.n.a + result.n.b
    );
    let _ = writeln!(out, "Outcome: {:<38} N of obs A     = {:>10}", result.outcome, result.n.a);
    let _ = writeln!(out, "Group A: {:<38} N of obs B     = {:>10}", result.groups.a, result.n.b);
    let _ = writeln!(out, "Group B: {:<38} Std. errors: {}", result.groups.b, result.se_method);
    let _ = writeln!(
        out,
        "Twofold reference: {reference}; threefold from group {}'s viewpoint",
        result.threefold.viewpoint.to_uppercase()
    );
    let _ = writeln!(out, "{RULE}");
    let _ = writeln!(out, "{:>12} |      Coef.  Std. Err.        z    P>|z|     [{level}% Conf. Interval]", "");
    let _ = writeln!(out, "{JOIN}");
    block(&mut out, "Differential");
    row(&mut out, "Prediction_A", &result.mean_prediction.a);
    row(&mut out, "Prediction_B", &result.mean_prediction.b);
    row(&mut out, "Difference", &result.difference);
    let _ = writeln!(out, "{JOIN}");
    block(&mut out, "Threefold");
    row(&mut out, "Endowments", &result.threefold.endowments);
    row(&mut out, "Coefficients", &result.threefold.coefficients);
    row(&mut out, "Interaction", &result.threefold.interaction);
    let _ = writeln!(out, "{JOIN}");
    block(&mut out, "Twofold");
    row(&mut out, "Explained", &result.twofold.explained);
    row(&mut out, "Unexplained", &result.twofold.unexplained);
    row(&mut out, " of which A", &result.twofold.unexplained_a);
    row(&mut out, " of which B", &result.twofold.unexplained_b);
    if detail {
        let t = &result.threefold;
        let w = &result.twofold;
        for (title, pick) in [("Endowments", 0usize), ("Coefficients", 1), ("Interaction", 2)] {
            let _ = writeln!(out, "{JOIN}");
            block(&mut out, title);
            for term in t.detailed.iter().chain(&t.groups) {
                let e = [&term.endowments, &term.coefficients, &term.interaction][pick];
                row(&mut out, &term.term, e);
            }
        }
        for (title, explained) in [("Explained", true), ("Unexplained", false)] {
            let _ = writeln!(out, "{JOIN}");
            block(&mut out, title);
            for term in w.detailed.iter().chain(&w.groups) {
                row(&mut out, &term.term, if explained { &term.explained } else { &term.unexplained });
            }
        }
    }
    let _ = writeln!(out, "{RULE}");
    if result.log {
        if let Some(pct) = result.difference_pct() {
            let _ =
                writeln!(out, "Outcome logged: difference of {pct:.2}% (100·(exp(R) − 1)); positive = group A higher.");
        }
    } else {
        let _ = writeln!(out, "Positive values: group A has the higher outcome.");
    }
    let _ = writeln!(
        out,
        "Rows: {} read, {} used, {} excluded{}",
        result.ledger.read,
        result.ledger.used,
        result.ledger.excluded_total(),
        if result.ledger.excluded.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                result.ledger.excluded.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
            )
        }
    );
    for w in &result.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// The result as a long table, one row per component × term: `section` (overall, threefold, twofold),
/// `component`, `term` (`total`, a design term, or a categorical column for the sum over its levels),
/// `scope` (total, term, group), `estimate`, `se`, `ci_low`, `ci_high`, `z`, `p_value`.
pub fn oaxaca_frame(result: &OaxacaResult) -> crate::Result<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let mut rows: Vec<(&str, &str, String, &str, &Estimate)> = vec![
        ("overall", "prediction_a", "total".into(), "total", &result.mean_prediction.a),
        ("overall", "prediction_b", "total".into(), "total", &result.mean_prediction.b),
        ("overall", "difference", "total".into(), "total", &result.difference),
    ];
    let t = &result.threefold;
    for (name, e) in [("endowments", &t.endowments), ("coefficients", &t.coefficients), ("interaction", &t.interaction)]
    {
        rows.push(("threefold", name, "total".into(), "total", e));
    }
    let w = &result.twofold;
    for (name, e) in [
        ("explained", &w.explained),
        ("unexplained", &w.unexplained),
        ("unexplained_a", &w.unexplained_a),
        ("unexplained_b", &w.unexplained_b),
    ] {
        rows.push(("twofold", name, "total".into(), "total", e));
    }
    for (terms, scope) in [(&t.detailed, "term"), (&t.groups, "group")] {
        for term in terms {
            rows.push(("threefold", "endowments", term.term.clone(), scope, &term.endowments));
            rows.push(("threefold", "coefficients", term.term.clone(), scope, &term.coefficients));
            rows.push(("threefold", "interaction", term.term.clone(), scope, &term.interaction));
        }
    }
    for (terms, scope) in [(&w.detailed, "term"), (&w.groups, "group")] {
        for term in terms {
            rows.push(("twofold", "explained", term.term.clone(), scope, &term.explained));
            rows.push(("twofold", "unexplained", term.term.clone(), scope, &term.unexplained));
            rows.push(("twofold", "unexplained_a", term.term.clone(), scope, &term.unexplained_a));
            rows.push(("twofold", "unexplained_b", term.term.clone(), scope, &term.unexplained_b));
        }
    }
    let normal = Normal::standard();
    let z: Vec<Option<f64>> = rows
        .iter()
        .map(|r| match (r.4.estimate, r.4.se) {
            (Some(v), Some(s)) if s > 0.0 => Some(v / s),
            _ => None,
        })
        .collect();
    let p: Vec<Option<f64>> = z.iter().map(|z| z.map(|z| 2.0 * (1.0 - normal.cdf(z.abs())))).collect();
    let frame = df!(
        "section" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "component" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "term" => rows.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(),
        "scope" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        "estimate" => rows.iter().map(|r| r.4.estimate).collect::<Vec<_>>(),
        "se" => rows.iter().map(|r| r.4.se).collect::<Vec<_>>(),
        "ci_low" => rows.iter().map(|r| r.4.ci_low).collect::<Vec<_>>(),
        "ci_high" => rows.iter().map(|r| r.4.ci_high).collect::<Vec<_>>(),
        "z" => z,
        "p_value" => p,
    )?;
    Ok(frame)
}
