//! Text tables of the RIF decomposition and the RIF regression, laid out like Stata's `oaxaca_rif` and
//! `rifhdreg` output (coefficient, std. err., z or t, p-value and confidence interval per row).

use std::fmt::Write as _;

use super::decomposition::RifResult;
use super::dfl::DflResult;
use super::nonlinear::NonlinearResult;
use super::profile::{ProfileMethod, QuantileProfile};
use super::regression::RifRegressionResult;
use crate::decompose::table::row;
use crate::stats::Estimate;

const RULE: &str = "------------------------------------------------------------------------------";

/// Renders a RIF decomposition: per statistic, the groups' values, the densities used, and the twofold
/// decomposition (`detail` adds a row per term).
pub fn rif_table(result: &RifResult, detail: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "RIF decomposition of {} ({} = A vs {} = B; N = {} + {})",
        result.outcome, result.groups.a, result.groups.b, result.n.a, result.n.b
    );
    let bandwidth = serde_json::to_string(&result.bandwidth).unwrap_or_default();
    let _ = writeln!(
        out,
        "Reference: {}   Std. errors: {} ({})   Kernel: {:?}   Bandwidth: {}",
        result.reference,
        result.se_method,
        result.vce,
        result.kernel,
        bandwidth.trim_matches('"')
    );
    for s in &result.results {
        let _ = writeln!(out, "{RULE}");
        let _ = writeln!(
            out,
            "{:>12} | mean RIF A = {:.7}   B = {:.7}   (sample statistic A = {:.7}, B = {:.7})",
            s.statistic.to_string(),
            s.value.a,
            s.value.b,
            s.sample.a,
            s.sample.b
        );
        for (label, densities) in [("A", &s.density.a), ("B", &s.density.b)] {
            for d in densities {
                let _ = writeln!(
                    out,
                    "{:>12} | group {label}: q({}) = {:.7}, f(q) = {:.7}, h = {:.7}",
                    "", d.tau, d.q, d.f, d.bandwidth
                );
            }
        }
        row(&mut out, "difference", &s.difference);
        row(&mut out, "explained", &s.twofold.explained);
        row(&mut out, "unexplained", &s.twofold.unexplained);
        if let Some(r) = &s.reweighted {
            let _ = writeln!(
                out,
                "{:>12} | reweighted (C = B with A's covariates; mean RIF C = {:.7}; SEs: {}):",
                "",
                s.value.counterfactual.unwrap_or(f64::NAN),
                r.se_method
            );
            row(&mut out, "composition", &r.composition);
            row(&mut out, "  pure", &r.pure_composition);
            row(&mut out, "  spec. error", &r.specification_error);
            row(&mut out, "structure", &r.wage_structure);
            row(&mut out, "  pure", &r.pure_wage_structure);
            row(&mut out, "  rew. error", &r.reweighting_error);
        }
        if detail {
            for term in &s.twofold.detailed {
                row(&mut out, &format!("E {}", term.term), &term.explained);
            }
            for term in &s.twofold.detailed {
                row(&mut out, &format!("U {}", term.term), &term.unexplained);
            }
        }
    }
    let _ = writeln!(out, "{RULE}");
    out
}

/// Renders a RIF regression like `rifhdreg`: one row per coefficient.
pub fn rif_regression_table(result: &RifRegressionResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "RIF regression of {} on {} ({}; N = {}, R² = {:.4})",
        result.statistic, result.outcome, result.vce, result.n, result.r2
    );
    for d in &result.density {
        let _ = writeln!(out, "q({}) = {:.7}, f(q) = {:.7}, h = {:.7}", d.tau, d.q, d.f, d.bandwidth);
    }
    let _ = writeln!(out, "{RULE}");
    for c in &result.coefficients {
        let e = Estimate { estimate: c.estimate, se: c.se, ci_low: c.ci_low, ci_high: c.ci_high };
        row(&mut out, &c.term, &e);
    }
    let _ = writeln!(out, "{RULE}");
    out
}

/// Renders a DFL decomposition: one row per statistic with the groups' values, the counterfactual, and the
/// difference split into composition and structure (SEs with the bootstrap).
pub fn dfl_table(result: &DflResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "DFL reweighting decomposition of {} ({} = A vs {} = B; N = {} + {}); C = {} reweighted on {}",
        result.outcome,
        result.groups.a,
        result.groups.b,
        result.n.a,
        result.n.b,
        match result.reweight_group {
            super::reweight::ReweightGroup::B => "B",
            super::reweight::ReweightGroup::A => "A",
        },
        result.reweight_covariates.join(", ")
    );
    let p = &result.psi;
    let _ = writeln!(
        out,
        "psi: min {:.4}  p10 {:.4}  p50 {:.4}  p90 {:.4}  max {:.4}  (trimmed {}); SEs: {}",
        p.min, p.p10, p.p50, p.p90, p.max, p.trimmed, result.se_method
    );
    let _ = writeln!(out, "{RULE}");
    let _ = writeln!(
        out,
        "{:>12} | {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "statistic", "A", "B", "C", "difference", "composition", "structure"
    );
    let _ = writeln!(out, "{RULE}");
    let number = |v: Option<f64>| v.map_or(".".to_string(), |v| format!("{v:.5}"));
    for s in &result.results {
        let _ = writeln!(
            out,
            "{:>12} | {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            s.statistic.to_string(),
            number(s.a),
            number(s.b),
            number(s.counterfactual),
            number(s.difference.estimate),
            number(s.composition.estimate),
            number(s.structure.estimate)
        );
        if s.composition.se.is_some() {
            let se = |e: &Estimate| e.se.map_or(".".to_string(), |v| format!("({v:.5})"));
            let _ = writeln!(
                out,
                "{:>12} | {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                "",
                "",
                "",
                "",
                se(&s.difference),
                se(&s.composition),
                se(&s.structure)
            );
        }
    }
    let _ = writeln!(out, "{RULE}");
    out
}

/// Renders a quantile profile: one row per percentile with the gap, its CI, composition and structure.
pub fn profile_table(result: &QuantileProfile) -> String {
    let mut out = String::new();
    let method = match result.method {
        ProfileMethod::Rif => "RIF decomposition",
        ProfileMethod::Dfl => "DFL reweighting",
    };
    let _ = writeln!(
        out,
        "Quantile profile of {} ({} = A vs {} = B; N = {} + {}); {method}; SEs: {}",
        result.outcome, result.groups.a, result.groups.b, result.n.a, result.n.b, result.se_method
    );
    let _ = writeln!(out, "{RULE}");
    let _ = writeln!(
        out,
        "{:>10} | {:>9} {:>9} {:>9} {:>21} {:>11} {:>9}",
        "percentile", "A", "B", "gap", "CI", "composition", "structure"
    );
    let _ = writeln!(out, "{RULE}");
    let number = |v: Option<f64>| v.map_or(".".to_string(), |v| format!("{v:.4}"));
    for p in &result.points {
        let ci = match (p.gap.ci_low, p.gap.ci_high) {
            (Some(lo), Some(hi)) => format!("[{lo:.4}, {hi:.4}]"),
            _ => ".".into(),
        };
        let _ = writeln!(
            out,
            "{:>10} | {:>9} {:>9} {:>9} {:>21} {:>11} {:>9}",
            format!("{}", p.percentile),
            number(p.a),
            number(p.b),
            number(p.gap.estimate),
            ci,
            number(p.composition.estimate),
            number(p.structure.estimate)
        );
    }
    let _ = writeln!(out, "{RULE}");
    out
}

/// Renders a nonlinear (Fairlie/Yun) decomposition: shares of 1s, difference, explained, unexplained and the
/// detailed terms.
pub fn nonlinear_table(result: &NonlinearResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Nonlinear decomposition ({}) of {} ({} = A vs {} = B; N = {} + {}); reference {}; SEs: {}",
        result.model,
        result.outcome,
        result.groups.a,
        result.groups.b,
        result.n.a,
        result.n.b,
        result.reference,
        result.se_method
    );
    let _ = writeln!(out, "share of 1s: A = {:.5}, B = {:.5}", result.p.a, result.p.b);
    let _ = writeln!(out, "{RULE}");
    row(&mut out, "difference", &result.difference);
    row(&mut out, "explained", &result.explained);
    row(&mut out, "unexplained", &result.unexplained);
    for term in &result.detailed {
        row(&mut out, &format!("E {}", term.term), &term.explained);
    }
    let _ = writeln!(out, "{RULE}");
    out
}
