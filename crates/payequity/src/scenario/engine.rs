//! Bargaining scenarios: the figures of the payroll as it is (the baseline) and under each scenario's pay
//! measures — mean and median gap, the unexplained Oaxaca part, the EU Art. 10 categories still flagged, the
//! equal-value shortfall left — with the annual cost, the workers raised by gender and the phase-in
//! (docs/scenarios.md). A scenario recomputes the statistics on adjusted pay; it does not model behaviour.
//!
//! The payroll is read and validated once ([`ScenarioBase`]); each scenario holds only its raises per row
//! and re-runs only the last step of the analyses the config sets up.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::apply::Adjusted;
use super::base::ScenarioBase;
use super::spec::{Scenario, ScenarioSet};
use crate::config::AuditConfig;
use crate::data::{Ledger, FEMALE, MALE};
use crate::{Error, Result, COMMIT, VERSION};

/// The figures a scenario is judged by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Mean gap of hourly pay, percent (men − women) / men (the config's `[gap]` measure).
    pub mean_gap_pct: Option<f64>,
    pub median_gap_pct: Option<f64>,
    /// The unexplained part of the Oaxaca-Blinder decomposition (`[oaxaca]` in the config), else null.
    pub unexplained: Option<f64>,
    /// EU Art. 10 categories flagged (gap of 5% or more; `[transparency]` in the config).
    pub art10_categories: Vec<String>,
    /// The annual cost of closing the equal-value shortfalls (first method of `[equal_value]`), else null.
    pub equal_value_shortfall_annual: Option<f64>,
}

/// One year of a scenario's phase-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseYear {
    pub year: u32,
    pub amount: f64,
    pub cumulative: f64,
}

/// What one measure of a scenario cost (in order; a later `cap` can reduce earlier raises, so the amounts
/// are the cost added by each measure as applied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureCost {
    pub kind: String,
    pub cost_annual: f64,
}

/// A scenario's figures and cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioFigures {
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
    /// Σ raises over the payroll's rows, annualized (× 12 / number of monthly periods).
    pub cost_annual: f64,
    pub cost_pct_of_payroll: f64,
    /// Distinct workers (or rows, without an employee id) whose pay rises, by gender value.
    pub workers_raised: BTreeMap<String, u64>,
    pub phase_in: Vec<PhaseYear>,
    pub measures: Vec<MeasureCost>,
}

/// The baseline's figures and the annual payroll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    #[serde(flatten)]
    pub figures: Figures,
    pub payroll_annual: f64,
}

/// The scenario document (`kind = "scenario"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub baseline: Baseline,
    pub scenarios: Vec<ScenarioFigures>,
    /// The cheapest route to a target (`--target`), when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<super::search::TargetResult>,
    /// The minimal individual adjustments (`--remediate`), when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<super::remediate::Remediation>,
}

/// What a scenario run computes beside the scenarios.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioRequest {
    /// The cheapest route to this target (`--target`).
    pub target: Option<super::search::Target>,
    /// The minimal individual adjustments that bring the unexplained Oaxaca part to this threshold.
    pub remediate: Option<f64>,
    /// List the workers of the individual adjustments (the annex).
    pub annex: bool,
}

/// The baseline and every scenario of `set` on `frame`, with the analyses of `config`. The rows are
/// validated once ([`ScenarioBase`]); each scenario then adds its raises to the prepared units.
pub fn scenario(frame: &DataFrame, config: &AuditConfig, set: &ScenarioSet) -> Result<ScenarioResult> {
    scenario_run(frame, config, set, &ScenarioRequest::default())
}

/// [`scenario`], with the target search and the individual adjustments of `request`, on one preparation
/// of the rows.
pub fn scenario_run(
    frame: &DataFrame,
    config: &AuditConfig,
    set: &ScenarioSet,
    request: &ScenarioRequest,
) -> Result<ScenarioResult> {
    let base = ScenarioBase::new(frame, config, &set.equal_value_methods())?;
    let (baseline, ledger, mut warnings) = base.baseline()?;
    let payroll = base.annual * base.payroll_total();
    // One scenario at a time, each using both cores inside its analyses: memory stays one scenario's raises.
    let scenarios =
        set.scenarios.iter().map(|s| run_one(&base, config, set, s, payroll)).collect::<Result<Vec<_>>>()?;
    if payroll <= 0.0 {
        warnings.push("the payroll total is zero: costs in % of payroll are null".into());
    }
    let target = match &request.target {
        Some(target) => Some(super::search::search(&base, config, set, target)?),
        None => None,
    };
    let remediation = match request.remediate {
        Some(threshold) => Some(super::remediate::remediate(&base, threshold, payroll, request.annex)?),
        None => None,
    };
    Ok(ScenarioResult {
        kind: "scenario".into(),
        version: VERSION.into(),
        commit: COMMIT.into(),
        ledger,
        warnings,
        baseline: Baseline { figures: baseline, payroll_annual: payroll },
        scenarios,
        target,
        remediation,
    })
}

/// The cheapest route to `target` among the scenarios of `set`, each scaled by one factor (see
/// [`super::search`]).
pub fn scenario_target(
    frame: &DataFrame,
    config: &AuditConfig,
    set: &ScenarioSet,
    target: &super::search::Target,
) -> Result<super::search::TargetResult> {
    let base = ScenarioBase::new(frame, config, &set.equal_value_methods())?;
    super::search::search(&base, config, set, target)
}

fn run_one(
    base: &ScenarioBase<'_>,
    config: &AuditConfig,
    set: &ScenarioSet,
    scenario: &Scenario,
    payroll: f64,
) -> Result<ScenarioFigures> {
    let mut adjusted = Adjusted::new(base);
    let mut measures = Vec::new();
    let mut before = 0.0;
    for measure in &scenario.measures {
        adjusted.apply(measure, config, &set.base_dir).map_err(|e| in_scenario(e, &scenario.name, measure.kind()))?;
        let after: f64 = adjusted.total_raise().iter().sum();
        measures.push(MeasureCost { kind: measure.kind().into(), cost_annual: base.annual * (after - before) });
        before = after;
    }
    let cost = base.annual * before;
    let figures = base.figures(&adjusted.raises, None).map_err(|e| in_scenario(e, &scenario.name, "figures"))?;
    Ok(ScenarioFigures {
        name: scenario.name.clone(),
        figures,
        cost_annual: cost,
        cost_pct_of_payroll: if payroll > 0.0 { 100.0 * cost / payroll } else { 0.0 },
        workers_raised: base.workers_raised(&adjusted.total_raise()),
        phase_in: phase_in(cost, scenario.phase_in_years),
        measures,
    })
}

fn in_scenario(error: Error, name: &str, step: &str) -> Error {
    match error {
        Error::Invalid(message) => Error::Invalid(format!("scenario `{name}`, {step}: {message}")),
        other => other,
    }
}

/// Equal yearly amounts over `years`.
pub fn phase_in(cost: f64, years: u32) -> Vec<PhaseYear> {
    let years = years.max(1);
    (1..=years)
        .map(|year| PhaseYear {
            year,
            amount: cost / f64::from(years),
            cumulative: cost * f64::from(year) / f64::from(years),
        })
        .collect()
}

/// The scenarios as a table: the baseline first, then one row per scenario.
pub fn scenario_frame(result: &ScenarioResult) -> Result<DataFrame> {
    let mut name = vec!["baseline".to_string()];
    let mut rows: Vec<(&Figures, Option<&ScenarioFigures>)> = vec![(&result.baseline.figures, None)];
    for s in &result.scenarios {
        name.push(s.name.clone());
        rows.push((&s.figures, Some(s)));
    }
    let opt = |f: &dyn Fn(&Figures) -> Option<f64>| -> Vec<Option<f64>> { rows.iter().map(|(x, _)| f(x)).collect() };
    let cost =
        |f: &dyn Fn(&ScenarioFigures) -> f64| -> Vec<f64> { rows.iter().map(|(_, s)| s.map_or(0.0, f)).collect() };
    let raised = |g: &str| -> Vec<u64> {
        rows.iter().map(|(_, s)| s.and_then(|s| s.workers_raised.get(g).copied()).unwrap_or(0)).collect()
    };
    let columns = vec![
        Column::new("scenario".into(), name),
        Column::new("mean_gap_pct".into(), opt(&|f| f.mean_gap_pct)),
        Column::new("median_gap_pct".into(), opt(&|f| f.median_gap_pct)),
        Column::new("unexplained".into(), opt(&|f| f.unexplained)),
        Column::new(
            "art10_categories".into(),
            rows.iter().map(|(f, _)| f.art10_categories.join("; ")).collect::<Vec<_>>(),
        ),
        Column::new("equal_value_shortfall_annual".into(), opt(&|f| f.equal_value_shortfall_annual)),
        Column::new("cost_annual".into(), cost(&|s| s.cost_annual)),
        Column::new("cost_pct_of_payroll".into(), cost(&|s| s.cost_pct_of_payroll)),
        Column::new("women_raised".into(), raised(FEMALE)),
        Column::new("men_raised".into(), raised(MALE)),
    ];
    Ok(DataFrame::new(name_len(&columns), columns)?)
}

fn name_len(columns: &[Column]) -> usize {
    columns.first().map_or(0, Column::len)
}

/// The plain-text table of the CLI.
pub fn scenario_table(result: &ScenarioResult) -> String {
    use std::fmt::Write as _;
    let number = |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Bargaining scenarios (payroll {:.0} a year; a scenario recomputes the figures on adjusted pay, it does not model behaviour)",
        result.baseline.payroll_annual
    );
    let _ = writeln!(
        out,
        "{:<32} {:>8} {:>8} {:>11} {:>7} {:>14} {:>14} {:>7} {:>9}",
        "scenario",
        "mean %",
        "median %",
        "unexplained",
        "art.10",
        "EV shortfall",
        "cost a year",
        "cost %",
        "raised F/M"
    );
    let row = |out: &mut String, name: &str, f: &Figures, s: Option<&ScenarioFigures>| {
        let shown: String = crate::data::terminal_safe(name).chars().take(32).collect();
        let raised = s.map_or("-".to_string(), |s| {
            format!("{}/{}", s.workers_raised.get(FEMALE).unwrap_or(&0), s.workers_raised.get(MALE).unwrap_or(&0))
        });
        let _ = writeln!(
            out,
            "{:<32} {:>8} {:>8} {:>11} {:>7} {:>14} {:>14} {:>7} {:>9}",
            shown,
            number(f.mean_gap_pct, 2),
            number(f.median_gap_pct, 2),
            number(f.unexplained, 4),
            f.art10_categories.len(),
            number(f.equal_value_shortfall_annual, 0),
            s.map_or("-".into(), |s| format!("{:.0}", s.cost_annual)),
            s.map_or("-".into(), |s| format!("{:.2}", s.cost_pct_of_payroll)),
            raised
        );
    };
    row(&mut out, "baseline", &result.baseline.figures, None);
    for s in &result.scenarios {
        row(&mut out, &s.name, &s.figures, Some(s));
    }
    if let Some(t) = &result.target {
        let goal = format!("{} {} {}", t.target.metric, if t.target.strict { "<" } else { "<=" }, t.target.value);
        match (&t.cheapest, &t.best_reached) {
            (Some(route), _) => {
                let _ = writeln!(
                    out,
                    "target {goal}: met most cheaply by `{}` at {:.3} × its parameters ({} = {}, cost {:.0} a year)",
                    crate::data::terminal_safe(&route.scenario),
                    route.scale,
                    t.target.metric,
                    number(route.figure, 4),
                    route.cost_annual
                );
                let binding: Vec<String> = route.measures.iter().map(describe).collect();
                let _ = writeln!(out, "  binding measures: {}", binding.join("; "));
            }
            (None, Some(best)) => {
                let _ = writeln!(
                    out,
                    "target {goal}: no route meets it within {}× the parameters; best reached {} by `{}` (cost {:.0} a year)",
                    super::search::MAX_SCALE,
                    number(best.figure, 4),
                    crate::data::terminal_safe(&best.scenario),
                    best.cost_annual
                );
            }
            (None, None) => {
                let _ = writeln!(out, "target {goal}: no route gives the figure");
            }
        }
    }
    if let Some(r) = &result.remediation {
        let goal = format!("unexplained <= {}", r.threshold);
        let shown: String = crate::data::terminal_safe(&r.group).chars().take(40).collect();
        let verdict = if r.met { "reached" } else { "not reached; best" };
        let _ = writeln!(
            out,
            "individual adjustments to {goal}: {verdict} {} (from {}) by raising {} worker(s) of group {shown} \
             ({} rows) to a residual floor of {}, cost {:.0} a year ({:.2}% of payroll); the workers are listed \
             only in the annex",
            number(r.unexplained_after, 4),
            number(r.unexplained_before, 4),
            r.workers_raised,
            r.rows_raised,
            number(r.residual_floor, 4),
            r.cost_annual,
            r.cost_pct_of_payroll
        );
    }
    for s in &result.scenarios {
        if s.phase_in.len() > 1 {
            let years: Vec<String> = s.phase_in.iter().map(|y| format!("year {}: {:.0}", y.year, y.amount)).collect();
            let shown: String = crate::data::terminal_safe(&s.name).chars().take(60).collect();
            let _ = writeln!(out, "phase-in of {shown}: {}", years.join(", "));
        }
    }
    out
}

/// The chart of the scenarios: mean gap against annual cost, one point per scenario and the baseline at 0.
pub fn scenario_chart(result: &ScenarioResult) -> String {
    use crate::report::{scatter, ScatterPoint};
    let mut points: Vec<ScatterPoint> = result
        .baseline
        .figures
        .mean_gap_pct
        .map(|y| ScatterPoint { label: "baseline".into(), x: 0.0, y, reference: true })
        .into_iter()
        .collect();
    points.extend(result.scenarios.iter().filter_map(|s| {
        s.figures.mean_gap_pct.map(|y| ScatterPoint { label: s.name.clone(), x: s.cost_annual, y, reference: false })
    }));
    scatter("Mean hourly pay gap against annual cost", &points, "annual cost", "mean gap, %")
}

/// A measure with its parameters, for the table.
fn describe(measure: &super::spec::Measure) -> String {
    use super::spec::Measure;
    let amount = |h: &Option<f64>, p: &Option<f64>| match (h, p) {
        (Some(h), _) => format!("{h:.2} per hour"),
        (_, Some(p)) => format!("{p:.2} per period"),
        _ => "-".into(),
    };
    match measure {
        Measure::Percent { pct, condition } => {
            format!("percent {pct:.3}%{}", condition.as_ref().map_or(String::new(), |c| format!(" where {c}")))
        }
        Measure::Flat { amount_per_hour, amount_per_period, .. } => {
            format!("flat {}", amount(amount_per_hour, amount_per_period))
        }
        Measure::Floor { rate_per_hour, .. } => format!("floor {rate_per_hour:.2} per hour"),
        Measure::Cap { amount_per_hour, amount_per_period } => {
            format!("cap {}", amount(amount_per_hour, amount_per_period))
        }
        other => other.kind().to_string(),
    }
}
