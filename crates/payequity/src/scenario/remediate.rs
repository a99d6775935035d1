//! Minimal individual adjustments (docs/scenarios.md, "Individual adjustments"): the raises that bring the
//! unexplained part of the audit's Oaxaca-Blinder decomposition to a threshold, given to the workers of
//! the disadvantaged group with the most negative residuals first, as commercial remediation tools do.
//!
//! Each used row i of the disadvantaged group has the residual eᵢ = yᵢ − xᵢ·β* under the decomposition's
//! reference coefficients β* (y logged when `log = true`). A floor L on the residuals raises every row
//! below it to it: y′ᵢ = max(yᵢ, xᵢ·β* + L), i.e. the outcome × exp(L − eᵢ) in logs (+ (L − eᵢ) in
//! levels), and the pay component the outcome is (or the ordinary pay, for a rate outcome) by the same
//! factor. The unexplained part falls as L rises (with β* = β_A it falls by exactly the group's weighted
//! mean lift), so bisection finds the lowest floor that meets the threshold: the most negative residuals
//! are lifted first and no row more than needed. The workers and their raises name employees: they go to
//! the annex only ([`Remediation::workers`] is filled when asked for).

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::base::ScenarioBase;
use crate::decompose::FittedRow;
use crate::{Error, Result};

/// Bisection steps on the residual floor.
const STEPS: usize = 30;

/// One worker of the annex: the rows raised, the lowest residual among them and the annual raise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerRaise {
    pub employee_id: String,
    pub rows: u64,
    pub residual: f64,
    pub raise_annual: f64,
}

/// The minimal individual adjustments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remediation {
    /// The threshold on the unexplained part (`unexplained <= threshold`).
    pub threshold: f64,
    pub met: bool,
    pub unexplained_before: Option<f64>,
    /// The unexplained part after the adjustments (the best reached when not met).
    pub unexplained_after: Option<f64>,
    /// The group raised (the group the unexplained part disadvantages).
    pub group: String,
    /// The residual floor L every raised row is lifted to (log points when the outcome is logged).
    pub residual_floor: Option<f64>,
    pub rows_raised: u64,
    pub workers_raised: u64,
    pub cost_annual: f64,
    pub cost_pct_of_payroll: f64,
    /// The workers raised, most negative residual first: only in the annex (`--annex`, `worker_annex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<Vec<WorkerRaise>>,
}

/// The rows of the disadvantaged group, their residuals and what a lift of their outcome does to pay.
struct Candidates {
    /// (payroll row, residual), most negative residual first.
    rows: Vec<(usize, f64)>,
    log: bool,
    /// The component raised: the outcome itself, or the ordinary pay when the outcome is a rate.
    component: usize,
    /// The outcome moves with the component: raise = component pay × (outcome′ / outcome − 1).
    outcome: Vec<f64>,
}

impl Candidates {
    /// The raises (per component, per row) that lift every residual below `floor` to it.
    fn raises(&self, base: &ScenarioBase<'_>, floor: f64) -> Vec<Vec<f64>> {
        let mut raises = vec![vec![0.0; base.frame.height()]; base.model.components.len()];
        for &(row, residual) in self.rows.iter().take_while(|(_, e)| *e < floor) {
            let lift = floor - residual;
            let ratio = if self.log {
                lift.exp() - 1.0
            } else if self.outcome[row] > 0.0 {
                lift / self.outcome[row]
            } else {
                0.0
            };
            raises[self.component][row] = base.pay[self.component][row] * ratio;
        }
        raises
    }
}

/// The minimal individual adjustments that bring the unexplained Oaxaca part to `threshold` (see the
/// module docs). `payroll` is the annual payroll; `with_workers` fills [`Remediation::workers`].
pub fn remediate(base: &ScenarioBase<'_>, threshold: f64, payroll: f64, with_workers: bool) -> Result<Remediation> {
    if !threshold.is_finite() {
        return Err(Error::Invalid(format!("the remediation threshold must be a number, got {threshold}")));
    }
    let Some((plan, frame, options)) = base.oaxaca_parts() else {
        return Err(Error::Invalid(
            "individual adjustments bring the unexplained Oaxaca part down: they need the config's [oaxaca] section"
                .into(),
        ));
    };
    let result = crate::decompose::finish(plan, plan.scan(frame, 0)?, None, None, options)?;
    let before = result.twofold.unexplained.estimate;
    let Some(before_value) = before else {
        return Err(Error::Invalid("the Oaxaca decomposition has no unexplained part to bring down".into()));
    };
    // The unexplained part is A − B's: positive, it disadvantages B.
    let raise_b = before_value > 0.0;
    let group = if raise_b { result.groups.b.clone() } else { result.groups.a.clone() };
    let mut done = Remediation {
        threshold,
        met: true,
        unexplained_before: before,
        unexplained_after: before,
        group,
        residual_floor: None,
        rows_raised: 0,
        workers_raised: 0,
        cost_annual: 0.0,
        cost_pct_of_payroll: 0.0,
        workers: with_workers.then(Vec::new),
    };
    let target = |u: f64| if raise_b { u <= threshold } else { u >= -threshold };
    if target(before_value) {
        return Ok(done);
    }
    let beta: Vec<f64> =
        plan.design.terms.iter().map(|t| result.coefficients.reference.get(t).unwrap_or(0.0)).collect();
    let fitted = plan.fitted_rows(frame, 0, &beta)?;
    let candidates = candidates(base, &options.outcome, options.log, &fitted, raise_b)?;
    let Some(&(_, lowest)) = candidates.rows.first() else {
        return Err(Error::Invalid(format!("no row of group `{}` can be raised", done.group)));
    };
    let highest = candidates.rows.iter().map(|(_, e)| *e).fold(f64::NEG_INFINITY, f64::max);
    let unexplained = |floor: f64| -> Result<Option<f64>> { base.unexplained(&candidates.raises(base, floor)) };
    // Lifting every residual to 0 pays each row its predicted outcome; if that is not enough, up to the
    // group's highest residual (everyone at the same residual).
    let mut high = 0.0_f64.max(lowest);
    let mut at_high = unexplained(high)?;
    if !at_high.is_some_and(target) && highest > high {
        high = highest;
        at_high = unexplained(high)?;
    }
    if at_high.is_some_and(target) {
        let mut low = lowest;
        for _ in 0..STEPS {
            let mid = 0.5 * (low + high);
            let at_mid = unexplained(mid)?;
            if at_mid.is_some_and(target) {
                high = mid;
                at_high = at_mid;
            } else {
                low = mid;
            }
        }
    } else {
        done.met = false;
    }
    let raises = candidates.raises(base, high);
    let total: Vec<f64> = raises[candidates.component].clone();
    done.unexplained_after = at_high;
    done.residual_floor = Some(high);
    done.rows_raised = total.iter().filter(|r| **r > 0.0).count() as u64;
    done.cost_annual = base.annual * total.iter().sum::<f64>();
    done.cost_pct_of_payroll = if payroll > 0.0 { 100.0 * done.cost_annual / payroll } else { 0.0 };
    let workers = workers(base, &candidates, &total)?;
    done.workers_raised = workers.len() as u64;
    if with_workers {
        done.workers = Some(workers);
    }
    Ok(done)
}

/// The used rows of the group to raise that a measure may raise, most negative residual first.
fn candidates(
    base: &ScenarioBase<'_>,
    outcome: &str,
    log: bool,
    fitted: &[FittedRow],
    raise_b: bool,
) -> Result<Candidates> {
    let component = match base.model.components.iter().position(|c| c == outcome) {
        Some(c) => c,
        None if base.model.rates.iter().any(|r| r == outcome) => base.model.ordinary_index(),
        None => {
            return Err(Error::Invalid(format!(
                "the Oaxaca outcome `{outcome}` is neither a pay component nor a rate of pay: there is no pay to raise"
            )))
        }
    };
    let outcome = super::base::values_of(base.frame, outcome)?;
    let mut rows: Vec<(usize, f64)> = fitted
        .iter()
        .filter(|f| f.is_b == raise_b)
        .map(|f| (f.row as usize, f.y - f.fitted))
        .filter(|(row, residual)| base.valid.get(*row).copied().unwrap_or(false) && residual.is_finite())
        .filter(|(row, _)| base.pay[component][*row] > 0.0)
        .collect();
    rows.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    Ok(Candidates { rows, log, component, outcome })
}

/// The workers raised (rows without an employee id are their own worker, `row N`), most negative residual
/// first, with their annual raise.
fn workers(base: &ScenarioBase<'_>, candidates: &Candidates, raise: &[f64]) -> Result<Vec<WorkerRaise>> {
    let ids = base.employee_ids()?;
    let mut by_worker: BTreeMap<String, WorkerRaise> = BTreeMap::new();
    for &(row, residual) in &candidates.rows {
        if raise[row] <= 0.0 {
            continue;
        }
        let id = ids.as_ref().and_then(|ids| ids.get(row)).map_or_else(|| format!("row {}", row + 1), str::to_string);
        let worker = by_worker.entry(id.clone()).or_insert(WorkerRaise {
            employee_id: id,
            rows: 0,
            residual,
            raise_annual: 0.0,
        });
        worker.rows += 1;
        worker.residual = worker.residual.min(residual);
        worker.raise_annual += base.annual * raise[row];
    }
    let mut workers: Vec<WorkerRaise> = by_worker.into_values().collect();
    workers.sort_by(|a, b| a.residual.total_cmp(&b.residual).then_with(|| a.employee_id.cmp(&b.employee_id)));
    Ok(workers)
}

/// The annex table of the workers raised (empty without them).
pub fn remediation_frame(remediation: &Remediation) -> Result<DataFrame> {
    let workers = remediation.workers.as_deref().unwrap_or_default();
    Ok(df!(
        "employee_id" => workers.iter().map(|w| w.employee_id.clone()).collect::<Vec<_>>(),
        "rows" => workers.iter().map(|w| w.rows).collect::<Vec<_>>(),
        "residual" => workers.iter().map(|w| w.residual).collect::<Vec<_>>(),
        "raise_annual" => workers.iter().map(|w| w.raise_annual).collect::<Vec<_>>(),
    )?)
}
