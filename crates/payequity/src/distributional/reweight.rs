//! The reweighting factor of DiNardo, Fortin & Lemieux (1996), shared by `dfl` and the reweighted RIF
//! decomposition: a weighted logit of P(B | Z) over A ∪ B, and for each row of B the factor
//! ψ(Z) = [P(A|Z)/P(B|Z)]·[P(B)/P(A)] that gives B the distribution of Z in A (the counterfactual C: B's pay
//! structure with A's characteristics). `reweight_group = "a"` reweights A to B instead.

use serde::{Deserialize, Serialize};

use crate::decompose::{GroupRows, Plan};
use crate::stats::{logit, LogitCells};
use crate::{Error, Result};

/// Which group is reweighted to the other's characteristics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReweightGroup {
    /// C = B with A's characteristics (Stata's `oaxaca_rif` default, `wgt(0)`).
    #[default]
    B,
    /// C = A with B's characteristics.
    A,
}

/// The distribution of ψ over the reweighted rows, and how many were trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PsiSummary {
    pub min: f64,
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub max: f64,
    /// Rows whose ψ exceeded `trim` and were capped at it.
    pub trimmed: u64,
    pub trim: Option<f64>,
}

/// The reweighting of one group: ψ per row of that group (in the plan's row order).
#[derive(Debug, Clone)]
pub struct Reweighting {
    pub psi: Vec<f64>,
    pub summary: PsiSummary,
}

/// The logit design of a row: the constant, covariates and every level but each categorical's base.
fn logit_row(rows: &GroupRows, i: usize, k: usize, columns: &[usize], out: &mut Vec<f64>) {
    let x = &rows.x[i * k..(i + 1) * k];
    out.extend(columns.iter().map(|&j| x[j]));
}

/// ψ for the rows of the reweighted group, from a logit of P(B | Z) on the rows of A and B with weights
/// `wa`, `wb` (the sampling weights, or a bootstrap replicate's), capped at `trim`.
pub fn reweighting(
    plan: &Plan,
    a: &GroupRows,
    b: &GroupRows,
    weights: (&[f64], &[f64]),
    group: ReweightGroup,
    trim: Option<f64>,
) -> Result<Reweighting> {
    reweighting_on(plan, &plan.design.regression_columns(), a, b, weights, group, trim)
}

/// The logit's design columns for a subset of the covariates: the constant, and the members' regression
/// columns (a numeric covariate's term, a categorical's levels but its base).
pub fn logit_columns(design: &crate::decompose::Design, members: &[String]) -> Vec<usize> {
    let regression = design.regression_columns();
    std::iter::once(0).chain(design.group_columns(members)).filter(|c| regression.contains(c)).collect()
}

/// [`reweighting`] with the logit on the design `columns` only (the constant and a subset of the covariates:
/// the first stage of a sequential decomposition).
pub fn reweighting_on(
    plan: &Plan,
    columns: &[usize],
    a: &GroupRows,
    b: &GroupRows,
    (wa, wb): (&[f64], &[f64]),
    group: ReweightGroup,
    trim: Option<f64>,
) -> Result<Reweighting> {
    let k = plan.design.k();
    let names: Vec<String> = columns.iter().map(|&j| plan.design.terms[j].clone()).collect();
    let mut cells = LogitCells::new(columns.len());
    let mut row = Vec::with_capacity(columns.len());
    for (rows, weights, is_b) in [(a, wa, 0.0), (b, wb, 1.0)] {
        for (i, &w) in weights.iter().enumerate() {
            row.clear();
            logit_row(rows, i, k, columns, &mut row);
            cells.push(&row, w, w * is_b);
        }
    }
    let fit = logit(&cells, &names).map_err(|e| {
        let message = e.to_string();
        if message.contains("separation") || message.contains("singular") {
            Error::Invalid(
                "the reweighting logit separates the groups (some covariate values occur in one group only, so ψ \
                 would be 0 or infinite): drop or merge those covariates or levels (`reweight_covariates`)"
                    .into(),
            )
        } else {
            Error::Invalid(format!("reweighting logit: {message}"))
        }
    })?;
    let beta: Vec<f64> = fit.terms.iter().map(|t| t.coef).collect();
    let (total_a, total_b): (f64, f64) = (wa.iter().sum(), wb.iter().sum());
    let (rows, weights) = match group {
        ReweightGroup::B => (b, wb),
        ReweightGroup::A => (a, wa),
    };
    let mut psi = Vec::with_capacity(weights.len());
    for i in 0..weights.len() {
        row.clear();
        logit_row(rows, i, k, columns, &mut row);
        // log odds of B: η = z'β; P(A|Z)/P(B|Z) = exp(−η).
        let eta: f64 = row.iter().zip(&beta).map(|(x, b)| x * b).sum();
        let factor = match group {
            ReweightGroup::B => (-eta).exp() * total_b / total_a,
            ReweightGroup::A => eta.exp() * total_a / total_b,
        };
        psi.push(factor);
    }
    let summary = summarize(&mut psi, trim);
    Ok(Reweighting { psi, summary })
}

/// Caps ψ at `trim` and describes its distribution.
fn summarize(psi: &mut [f64], trim: Option<f64>) -> PsiSummary {
    let mut trimmed = 0;
    if let Some(cap) = trim {
        for value in psi.iter_mut().filter(|v| **v > cap) {
            *value = cap;
            trimmed += 1;
        }
    }
    let mut sorted = psi.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |p: f64| {
        if sorted.is_empty() {
            return f64::NAN;
        }
        sorted[((p * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1)]
    };
    PsiSummary {
        min: at(0.0),
        p10: at(0.1),
        p25: at(0.25),
        p50: at(0.5),
        p75: at(0.75),
        p90: at(0.9),
        max: at(1.0),
        trimmed,
        trim,
    }
}
