//! The cheapest route to a target (`--target "mean_gap_pct <= 5"`, docs/scenarios.md): each scenario of the
//! file is a route whose measures' parameters (`pct`, the flat amount, the floor rate, the cap) are scaled by
//! one factor s ∈ [0, MAX_SCALE]; bisection finds the smallest s that meets the target (the figures fall as
//! pay rises for the disadvantaged group, so the target, once met, stays met), and the cheapest route that
//! meets it is reported with the measures it binds. A target no route meets is reported with the best value
//! reached.

use serde::{Deserialize, Serialize};

use super::apply::Adjusted;
use super::base::ScenarioBase;
use super::engine::Figures;
use super::spec::{Measure, Scenario, ScenarioSet};
use crate::config::AuditConfig;
use crate::{Error, Result};

/// The largest factor a route's parameters are scaled by.
pub const MAX_SCALE: f64 = 4.0;
/// Bisection steps (the factor to MAX_SCALE / 2^14).
const STEPS: usize = 14;

/// A target on one figure: `metric <= value` or `metric < value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub metric: String,
    pub strict: bool,
    pub value: f64,
}

/// The figures a target may name.
pub const TARGET_METRICS: [&str; 5] =
    ["mean_gap_pct", "median_gap_pct", "unexplained", "equal_value_shortfall_annual", "art10_categories"];

impl Target {
    /// Parses `metric <= value` (or `<`); the metric is one of [`TARGET_METRICS`].
    pub fn parse(text: &str) -> Result<Target> {
        let invalid = || {
            Error::Invalid(format!(
                "--target `{}`: write METRIC <= VALUE with METRIC one of {}",
                crate::data::terminal_safe(text).chars().take(80).collect::<String>(),
                TARGET_METRICS.join(", ")
            ))
        };
        let (metric, strict, value) = if let Some((m, v)) = text.split_once("<=") {
            (m, false, v)
        } else if let Some((m, v)) = text.split_once('<') {
            (m, true, v)
        } else {
            return Err(invalid());
        };
        let metric = metric.trim().to_string();
        let value: f64 = value.trim().parse().map_err(|_| invalid())?;
        if !TARGET_METRICS.contains(&metric.as_str()) || !value.is_finite() {
            return Err(invalid());
        }
        Ok(Target { metric, strict, value })
    }

    fn met(&self, figure: f64) -> bool {
        if self.strict {
            figure < self.value
        } else {
            figure <= self.value
        }
    }
}

/// One route tried: its best factor (the smallest that meets the target, else the largest tried), the
/// figure there and the cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub scenario: String,
    pub met: bool,
    pub scale: f64,
    /// The measures with their parameters at `scale` (the measures that bind).
    pub measures: Vec<Measure>,
    pub figure: Option<f64>,
    pub cost_annual: f64,
}

/// The search's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetResult {
    pub target: Target,
    pub baseline: Option<f64>,
    /// The cheapest route that meets the target, if any.
    pub cheapest: Option<Route>,
    /// When no route meets it: the route that came closest, at the largest factor.
    pub best_reached: Option<Route>,
    pub routes: Vec<Route>,
}

/// Scales the parameters of a measure by `s` (measures without a parameter are kept as they are).
fn scaled(measure: &Measure, s: f64) -> Measure {
    let times = |v: Option<f64>| v.map(|v| v * s);
    match measure.clone() {
        Measure::Percent { pct, condition } => Measure::Percent { pct: pct * s, condition },
        Measure::Flat { amount_per_hour, amount_per_period, condition } => Measure::Flat {
            amount_per_hour: times(amount_per_hour),
            amount_per_period: times(amount_per_period),
            condition,
        },
        Measure::Floor { rate_per_hour, condition } => Measure::Floor { rate_per_hour: rate_per_hour * s, condition },
        Measure::Cap { amount_per_hour, amount_per_period } => {
            Measure::Cap { amount_per_hour: times(amount_per_hour), amount_per_period: times(amount_per_period) }
        }
        other => other,
    }
}

/// The analysis a target's metric needs is configured.
fn check_metric(config: &AuditConfig, metric: &str) -> Result<()> {
    let (missing, section) = match metric {
        "unexplained" => (config.oaxaca.is_none(), "[oaxaca]"),
        "equal_value_shortfall_annual" => (config.equal_value.is_none(), "[equal_value]"),
        "art10_categories" => (config.transparency.is_none(), "[transparency]"),
        _ => (false, ""),
    };
    if missing {
        return Err(Error::Invalid(format!("a target on `{metric}` needs the config's {section} section")));
    }
    Ok(())
}

/// The one figure a target names.
fn figure(figures: &Figures, metric: &str) -> Option<f64> {
    match metric {
        "mean_gap_pct" => figures.mean_gap_pct,
        "median_gap_pct" => figures.median_gap_pct,
        "unexplained" => figures.unexplained,
        "equal_value_shortfall_annual" => figures.equal_value_shortfall_annual,
        _ => Some(figures.art10_categories.len() as f64),
    }
}

/// What every evaluation of the search shares.
struct Context<'a> {
    base: &'a ScenarioBase<'a>,
    config: &'a AuditConfig,
    set: &'a ScenarioSet,
    target: &'a Target,
}

/// The figure and the annualized cost of a scenario's measures at factor `s`.
fn evaluate(ctx: &Context<'_>, scenario: &Scenario, s: f64) -> Result<(Option<f64>, f64, Vec<Measure>)> {
    let mut adjusted = Adjusted::new(ctx.base);
    let measures: Vec<Measure> = scenario.measures.iter().map(|m| scaled(m, s)).collect();
    for measure in &measures {
        adjusted.apply(measure, ctx.config, &ctx.set.base_dir)?;
    }
    let cost = ctx.base.annual * adjusted.total_raise().iter().sum::<f64>();
    let metric = ctx.target.metric.as_str();
    Ok((figure(&ctx.base.figures(&adjusted.raises, Some(metric))?, metric), cost, measures))
}

/// Searches every scenario of `set` as a route to `target` (see the module docs) on the prepared payroll.
pub(crate) fn search(
    base: &ScenarioBase<'_>,
    config: &AuditConfig,
    set: &ScenarioSet,
    target: &Target,
) -> Result<TargetResult> {
    check_metric(config, &target.metric)?;
    let zero = vec![vec![0.0; base.frame.height()]; base.model.components.len()];
    let baseline = figure(&base.figures(&zero, Some(&target.metric))?, &target.metric);
    let ctx = Context { base, config, set, target };
    let mut routes = Vec::new();
    for scenario in &set.scenarios {
        let at = |s: f64| evaluate(&ctx, scenario, s);
        let (top_figure, top_cost, top_measures) = at(MAX_SCALE)?;
        if !top_figure.is_some_and(|f| target.met(f)) {
            routes.push(Route {
                scenario: scenario.name.clone(),
                met: false,
                scale: MAX_SCALE,
                measures: top_measures,
                figure: top_figure,
                cost_annual: top_cost,
            });
            continue;
        }
        let (mut low, mut high) = (0.0, MAX_SCALE);
        let mut best = (top_figure, top_cost, top_measures);
        for _ in 0..STEPS {
            let mid = 0.5 * (low + high);
            let (figure, cost, measures) = at(mid)?;
            if figure.is_some_and(|f| target.met(f)) {
                high = mid;
                best = (figure, cost, measures);
            } else {
                low = mid;
            }
        }
        routes.push(Route {
            scenario: scenario.name.clone(),
            met: true,
            scale: high,
            measures: best.2,
            figure: best.0,
            cost_annual: best.1,
        });
    }
    let cheapest = routes.iter().filter(|r| r.met).min_by(|a, b| a.cost_annual.total_cmp(&b.cost_annual)).cloned();
    let best_reached = match cheapest {
        Some(_) => None,
        None => routes
            .iter()
            .filter(|r| r.figure.is_some())
            .min_by(|a, b| a.figure.unwrap_or(f64::INFINITY).total_cmp(&b.figure.unwrap_or(f64::INFINITY)))
            .cloned(),
    };
    Ok(TargetResult { target: target.clone(), baseline, cheapest, best_reached, routes })
}
