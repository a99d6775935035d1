//! The Oaxaca-Blinder kernel (`shared/spec/oaxaca.md`): from the moments of groups A and B over the full
//! design (constant, numeric covariates, one column per level of each categorical) to every component and
//! detailed term, with delta-method variances (Jann 2005, 2008). No pass over the data: the bootstrap calls
//! the same kernel on replicate moments.
//!
//! Notation: x̄_g, β_g per group; β* the reference; dx = x̄_A − x̄_B, dβ = β_A − β_B.
//! - difference R = x̄_A'β_A − x̄_B'β_B
//! - threefold (B's viewpoint) E = dx'β_B, C = x̄_B'dβ, I = dx'dβ; (A's) E = dx'β_A, C = x̄_A'dβ, I = −dx'dβ
//! - twofold Q = dx'β*, U_A = x̄_A'(β_A − β*), U_B = x̄_B'(β* − β_B), U = U_A + U_B
//!
//! Every component is a sum over terms j of products of entry j of two of those vectors, so the gradient of a
//! detailed term (or a categorical group of terms) is the component's gradient restricted to its entries.

use ndarray::{s, Array1, Array2};
use serde::{Deserialize, Serialize};

use super::covariance::{masked_quad, theta_covariance, Models, ScoreGrams, ThetaCovariance};
use super::options::Viewpoint;
use crate::stats::{ols, Moments, OlsFit};
use crate::{Error, Result};

/// The nondiscriminatory coefficients β* of the twofold decomposition (names as in the spec).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "reference", content = "weight")]
pub enum Reference {
    /// β* = W·β_A + (1−W)·β_B.
    Weight(f64),
    /// W = 0.5 (Reimers 1983).
    Reimers,
    /// W = n_A / (n_A + n_B), weighted counts (Cotton 1988).
    Cotton,
    /// Pooled regression over A ∪ B without a group indicator (Neumark 1988; Stata `omega`).
    Neumark,
    /// Pooled regression over A ∪ B with an indicator of group B, dropped from β* (Fortin 2008, Jann 2008).
    Pooled,
}

impl Reference {
    pub fn name(self) -> &'static str {
        match self {
            Reference::Weight(_) => "weight",
            Reference::Reimers => "reimers",
            Reference::Cotton => "cotton",
            Reference::Neumark => "neumark",
            Reference::Pooled => "pooled",
        }
    }
}

/// A categorical covariate in the full design: one column per level, the base level omitted from the
/// regressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalBlock {
    pub column: String,
    pub levels: Vec<String>,
    /// Full-design column of each level.
    pub columns: Vec<usize>,
    /// Position of the base level in `levels`.
    pub base: usize,
}

/// The full design: `_cons` first, numeric covariates, then the level columns of each categorical.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub terms: Vec<String>,
    pub blocks: Vec<CategoricalBlock>,
    /// Named detail groups: (name, member columns: numeric covariates or categorical columns).
    pub detail_groups: Vec<(String, Vec<String>)>,
}

impl Design {
    pub fn k(&self) -> usize {
        self.terms.len()
    }

    /// The design columns of a detail group's members: a numeric covariate's term, a categorical's levels.
    pub fn group_columns(&self, members: &[String]) -> Vec<usize> {
        let mut columns = Vec::new();
        for member in members {
            match self.blocks.iter().find(|b| &b.column == member) {
                Some(block) => columns.extend(block.columns.iter().copied()),
                None => columns.extend(self.terms.iter().position(|t| t == member)),
            }
        }
        columns.sort_unstable();
        columns
    }

    /// Full-design columns entering the regressions (all but the base levels).
    pub fn regression_columns(&self) -> Vec<usize> {
        let base: Vec<usize> = self.blocks.iter().map(|b| b.columns[b.base]).collect();
        (0..self.k()).filter(|j| !base.contains(j)).collect()
    }
}

/// The parts of a decomposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    MeanA,
    MeanB,
    Difference,
    Explained,
    Unexplained,
    UnexplainedA,
    UnexplainedB,
    Endowments,
    Coefficients,
    Interaction,
}

impl Component {
    pub const ALL: [Component; 10] = [
        Component::MeanA,
        Component::MeanB,
        Component::Difference,
        Component::Explained,
        Component::Unexplained,
        Component::UnexplainedA,
        Component::UnexplainedB,
        Component::Endowments,
        Component::Coefficients,
        Component::Interaction,
    ];

    /// Components that have detailed terms.
    fn detailed(self) -> bool {
        !matches!(self, Component::MeanA | Component::MeanB | Component::Difference)
    }
}

/// Which terms a figure sums over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    Total,
    /// One full-design term.
    Term(usize),
    /// All levels of categorical block `i`.
    Block(usize),
    /// The terms of named detail group `i`.
    Group(usize),
}

/// What the kernel needs besides the moments.
#[derive(Debug, Clone, Copy)]
pub struct KernelOptions {
    pub reference: Reference,
    pub viewpoint: Viewpoint,
    pub normalize: bool,
    pub strict: bool,
    /// Compute delta-method variances (skipped in bootstrap replicates).
    pub variances: bool,
}

/// Every figure of one decomposition, in a fixed order (`labels[i]` names `values[i]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    pub labels: Vec<(Component, Scope)>,
    pub values: Vec<f64>,
    /// Delta-method variances, when asked for.
    pub variances: Option<Vec<f64>>,
    pub xbar_a: Vec<f64>,
    pub xbar_b: Vec<f64>,
    /// Coefficients in the full design (normalized when asked; base levels 0 otherwise).
    pub beta_a: Vec<f64>,
    pub beta_b: Vec<f64>,
    pub beta_star: Vec<f64>,
    /// W of weight-type references (Cotton's from the weighted counts).
    pub reference_weight: Option<f64>,
    pub warnings: Vec<String>,
}

/// A component as per-term contributions and the gradient of their sum with respect to
/// θ = (x̄_A, x̄_B, β_A, β_B, β*).
struct Linear {
    terms: Array1<f64>,
    xa: Array1<f64>,
    xb: Array1<f64>,
    ba: Array1<f64>,
    bb: Array1<f64>,
    bs: Array1<f64>,
}

impl Linear {
    fn variance(&self, v: &ThetaCovariance, mask: &[usize]) -> f64 {
        let q = |m: &Array2<f64>, g: &Array1<f64>, h: &Array1<f64>| masked_quad(m, g, h, mask);
        let var = q(&v.xa, &self.xa, &self.xa)
            + q(&v.xb, &self.xb, &self.xb)
            + q(&v.aa, &self.ba, &self.ba)
            + q(&v.bb, &self.bb, &self.bb)
            + q(&v.ss, &self.bs, &self.bs)
            + 2.0 * q(&v.as_, &self.ba, &self.bs)
            + 2.0 * q(&v.bs, &self.bb, &self.bs);
        var.max(0.0)
    }

    /// β* = W·β_A + (1−W)·β_B: its gradient moves onto β_A and β_B.
    fn fold_reference(mut self, w: Option<f64>) -> Linear {
        if let Some(w) = w {
            self.ba = &self.ba + &(&self.bs * w);
            self.bb = &self.bb + &(&self.bs * (1.0 - w));
            self.bs.fill(0.0);
        }
        self
    }
}

/// Pooled moments over A ∪ B with an extra regressor D = 1 for group B (last column).
fn pooled_with_indicator(a: &Moments, b: &Moments) -> Result<Moments> {
    let k = a.k();
    let both = a.clone().merge(b)?;
    let mut m = Moments::new(k + 1);
    m.n = both.n;
    m.sum_w = both.sum_w;
    m.sum_w2 = both.sum_w2;
    m.ytwy = both.ytwy;
    m.xtwx.slice_mut(s![..k, ..k]).assign(&both.xtwx);
    m.sum_wx.slice_mut(s![..k]).assign(&both.sum_wx);
    m.xtwy.slice_mut(s![..k]).assign(&both.xtwy);
    // Σ_B w·x·D = Σ_B w·x; Σ_B w·D² = Σ_B w; Σ_B w·y·D = X'Wy of B at the constant.
    m.xtwx.slice_mut(s![..k, k]).assign(&b.sum_wx);
    m.xtwx.slice_mut(s![k, ..k]).assign(&b.sum_wx);
    m.xtwx[[k, k]] = b.sum_w;
    m.sum_wx[k] = b.sum_w;
    m.xtwy[k] = b.xtwy[0];
    Ok(m)
}

/// The linear map from regression coefficients (non-base columns) to full-design coefficients: embed, then
/// Yun (2005) normalization — each block's level coefficients minus their mean over all K levels (the base
/// included at 0), the means added to the constant.
fn coefficient_map(design: &Design, regression: &[usize], normalize: bool) -> Array2<f64> {
    let k = design.k();
    let mut embed = Array2::zeros((k, regression.len()));
    for (s, &j) in regression.iter().enumerate() {
        embed[[j, s]] = 1.0;
    }
    if !normalize || design.blocks.is_empty() {
        return embed;
    }
    let mut t = Array2::<f64>::eye(k);
    for block in &design.blocks {
        let share = 1.0 / block.columns.len() as f64;
        for &l in &block.columns {
            for &m in &block.columns {
                t[[l, m]] -= share;
            }
            t[[0, l]] += share;
        }
    }
    t.dot(&embed)
}

fn fit_group(moments: &Moments, names: &[String], label: &str) -> Result<OlsFit> {
    ols(moments, names).map_err(|e| match e {
        Error::Invalid(message) => Error::Invalid(format!("{label}: {message}")),
        other => other,
    })
}

/// Warnings (or, in strict mode, an error) for categorical levels without observations in a group: their
/// coefficient is 0 there (Stata's `relax`).
fn check_levels(
    design: &Design,
    moments: &Moments,
    label: &str,
    strict: bool,
    warnings: &mut Vec<String>,
) -> Result<()> {
    for block in &design.blocks {
        for (i, &column) in block.columns.iter().enumerate() {
            if moments.xtwx[[column, column]] > 0.0 {
                continue;
            }
            let what = if i == block.base {
                format!(
                    "base level `{}` of `{}` has no observations in {label}: choose another base level",
                    block.levels[i], block.column
                )
            } else {
                format!(
                    "level `{}:{}` has no observations in {label}: its coefficient is 0 there (as Stata's `relax`)",
                    block.column, block.levels[i]
                )
            };
            if strict {
                return Err(Error::Invalid(format!("strict mode: {what}")));
            }
            warnings.push(what);
        }
    }
    Ok(())
}

/// The fitted regressions a residual pass needs: the regression columns of the design and the coefficients
/// on them (the pooled one with the group-B indicator last when `indicator`).
#[derive(Debug)]
pub struct ResidualModels<'a> {
    pub columns: &'a [usize],
    pub beta_a: &'a Array1<f64>,
    pub beta_b: &'a Array1<f64>,
    pub beta_star: Option<&'a Array1<f64>>,
    pub indicator: bool,
}

/// A pass over the rows that returns the stacked-score Gram matrices for the robust covariance.
pub type ScorePass<'a> = &'a (dyn Fn(&ResidualModels<'_>) -> Result<ScoreGrams> + Sync);

/// Decomposes from the full-design moments of A and B. With `scores`, coefficient covariances are robust
/// (stacked-score sandwich from that residual pass); without, classical.
pub fn decompose(
    a: &Moments,
    b: &Moments,
    design: &Design,
    labels: (&str, &str),
    options: KernelOptions,
    scores: Option<ScorePass<'_>>,
) -> Result<Decomposition> {
    let k = design.k();
    if a.k() != k || b.k() != k {
        return Err(Error::Invalid(format!("moments of {} / {} columns for a design of {k}", a.k(), b.k())));
    }
    let (label_a, label_b) = (format!("group A (`{}`)", labels.0), format!("group B (`{}`)", labels.1));
    for (m, label) in [(a, &label_a), (b, &label_b)] {
        if m.n == 0 || m.sum_w <= 0.0 {
            return Err(Error::Invalid(format!("{label} has no usable rows")));
        }
    }
    let mut warnings = Vec::new();
    check_levels(design, a, &label_a, options.strict, &mut warnings)?;
    check_levels(design, b, &label_b, options.strict, &mut warnings)?;

    let regression = design.regression_columns();
    let names: Vec<String> = regression.iter().map(|&j| design.terms[j].clone()).collect();
    let (sub_a, sub_b) = (a.select(&regression), b.select(&regression));
    let fit_a = fit_group(&sub_a, &names, &label_a)?;
    let fit_b = fit_group(&sub_b, &names, &label_b)?;
    let is_empty_level = |j: usize, m: &Moments| m.xtwx[[regression[j], regression[j]]] <= 0.0;
    for (fit, m, label) in [(&fit_a, a, &label_a), (&fit_b, b, &label_b)] {
        // Empty levels were reported above; other dropped columns get the regression's own warning.
        for (j, w) in fit.kept.iter().enumerate() {
            if !w && !is_empty_level(j, m) {
                warnings.push(format!("{label}: `{}` omitted because of collinearity (or no variation)", names[j]));
            }
        }
    }

    let map = coefficient_map(design, &regression, options.normalize);
    let beta_a = map.dot(&fit_a.coefficients);
    let beta_b = map.dot(&fit_b.coefficients);
    let reference_weight = match options.reference {
        Reference::Weight(w) => Some(w),
        Reference::Reimers => Some(0.5),
        Reference::Cotton => Some(a.sum_w / (a.sum_w + b.sum_w)),
        Reference::Neumark | Reference::Pooled => None,
    };
    // The pooled regression (Neumark: without, pooled: with the group-B indicator) and the map of its
    // coefficients into the full design.
    let pooled = match options.reference {
        Reference::Neumark => Some((sub_a.clone().merge(&sub_b)?, None)),
        Reference::Pooled => Some((pooled_with_indicator(&sub_a, &sub_b)?, Some(1.0))),
        _ => None,
    };
    let mut star_fit = None;
    let beta_star = match (&pooled, reference_weight) {
        (_, Some(w)) => &beta_a * w + &beta_b * (1.0 - w),
        (Some((moments, indicator)), None) => {
            let mut star_names = names.clone();
            if indicator.is_some() {
                star_names.push("_group_b".into());
            }
            let fit = fit_group(moments, &star_names, "the pooled regression over A ∪ B")?;
            let beta = map.dot(&fit.coefficients.slice(s![..names.len()]));
            star_fit = Some(fit);
            beta
        }
        (None, None) => unreachable!("every reference is a weight or a pooled regression"),
    };

    let xbar_a = a.mean_x();
    let xbar_b = b.mean_x();
    let dx = &xbar_a - &xbar_b;
    let db = &beta_a - &beta_b;
    let zero = Array1::<f64>::zeros(k);
    let lin = |terms: Array1<f64>,
               xa: &Array1<f64>,
               xb: &Array1<f64>,
               ba: &Array1<f64>,
               bb: &Array1<f64>,
               bs: &Array1<f64>| {
        Linear { terms, xa: xa.clone(), xb: xb.clone(), ba: ba.clone(), bb: bb.clone(), bs: bs.clone() }
            .fold_reference(reference_weight)
    };
    let neg = |v: &Array1<f64>| -v;
    let component = |c: Component| -> Linear {
        match c {
            Component::MeanA => lin(&xbar_a * &beta_a, &beta_a, &zero, &xbar_a, &zero, &zero),
            Component::MeanB => lin(&xbar_b * &beta_b, &zero, &beta_b, &zero, &xbar_b, &zero),
            Component::Difference => {
                lin(&xbar_a * &beta_a - &xbar_b * &beta_b, &beta_a, &neg(&beta_b), &xbar_a, &neg(&xbar_b), &zero)
            }
            Component::Explained => lin(&dx * &beta_star, &beta_star, &neg(&beta_star), &zero, &zero, &dx),
            Component::UnexplainedA => {
                let d = &beta_a - &beta_star;
                lin(&xbar_a * &d, &d, &zero, &xbar_a, &zero, &neg(&xbar_a))
            }
            Component::UnexplainedB => {
                let d = &beta_star - &beta_b;
                lin(&xbar_b * &d, &zero, &d, &zero, &neg(&xbar_b), &xbar_b)
            }
            Component::Unexplained => {
                let (da, dbs) = (&beta_a - &beta_star, &beta_star - &beta_b);
                lin(&xbar_a * &da + &xbar_b * &dbs, &da, &dbs, &xbar_a, &neg(&xbar_b), &(&xbar_b - &xbar_a))
            }
            Component::Endowments => match options.viewpoint {
                Viewpoint::B => lin(&dx * &beta_b, &beta_b, &neg(&beta_b), &zero, &dx, &zero),
                Viewpoint::A => lin(&dx * &beta_a, &beta_a, &neg(&beta_a), &dx, &zero, &zero),
            },
            Component::Coefficients => match options.viewpoint {
                Viewpoint::B => lin(&xbar_b * &db, &zero, &db, &xbar_b, &neg(&xbar_b), &zero),
                Viewpoint::A => lin(&xbar_a * &db, &db, &zero, &xbar_a, &neg(&xbar_a), &zero),
            },
            Component::Interaction => match options.viewpoint {
                Viewpoint::B => lin(&dx * &db, &db, &neg(&db), &dx, &neg(&dx), &zero),
                Viewpoint::A => lin(-(&dx * &db), &neg(&db), &db, &neg(&dx), &dx, &zero),
            },
        }
    };

    let covariance = if options.variances {
        let models = Models {
            sub_a: &sub_a,
            sub_b: &sub_b,
            fit_a: &fit_a,
            fit_b: &fit_b,
            star: star_fit.as_ref().map(|f| (f, matches!(options.reference, Reference::Pooled))),
            map: &map,
        };
        let grams = match scores {
            Some(pass) => {
                let residual_models = ResidualModels {
                    columns: &regression,
                    beta_a: &fit_a.coefficients,
                    beta_b: &fit_b.coefficients,
                    beta_star: star_fit.as_ref().map(|f| &f.coefficients),
                    indicator: matches!(options.reference, Reference::Pooled),
                };
                Some(pass(&residual_models)?)
            }
            None => None,
        };
        Some(theta_covariance(a, b, &models, grams.as_ref()))
    } else {
        None
    };
    let all: Vec<usize> = (0..k).collect();
    let mut scopes: Vec<(Scope, Vec<usize>)> = vec![(Scope::Total, all)];
    scopes.extend((0..k).map(|j| (Scope::Term(j), vec![j])));
    scopes.extend(design.blocks.iter().enumerate().map(|(i, b)| (Scope::Block(i), b.columns.clone())));
    scopes.extend(design.detail_groups.iter().enumerate().map(|(i, g)| (Scope::Group(i), design.group_columns(&g.1))));

    let mut out_labels = Vec::new();
    let mut values = Vec::new();
    let mut variances = Vec::new();
    for c in Component::ALL {
        let linear = component(c);
        for (scope, mask) in &scopes {
            if *scope != Scope::Total && !c.detailed() {
                continue;
            }
            out_labels.push((c, *scope));
            values.push(mask.iter().map(|&j| linear.terms[j]).sum());
            if let Some(v) = &covariance {
                variances.push(linear.variance(v, mask));
            }
        }
    }
    Ok(Decomposition {
        labels: out_labels,
        values,
        variances: covariance.map(|_| variances),
        xbar_a: xbar_a.to_vec(),
        xbar_b: xbar_b.to_vec(),
        beta_a: beta_a.to_vec(),
        beta_b: beta_b.to_vec(),
        beta_star: beta_star.to_vec(),
        reference_weight,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple_design() -> Design {
        Design { terms: vec!["_cons".into(), "x".into()], blocks: vec![], detail_groups: vec![] }
    }

    fn options(reference: Reference) -> KernelOptions {
        KernelOptions { reference, viewpoint: Viewpoint::B, normalize: true, strict: false, variances: true }
    }

    fn value(d: &Decomposition, c: Component, s: Scope) -> f64 {
        d.values[d.labels.iter().position(|l| *l == (c, s)).unwrap()]
    }

    /// A: x = (1, 2, 3), y = (2, 4, 6) → β_A = (0, 2), x̄_A = 2. B: x = (0, 1, 2), y = (1, 2, 3) → β_B = (1, 1),
    /// x̄_B = 1. R = 2; E = (2 − 1)·1 = 1, C = 1·(0 − 1) + 1·(2 − 1) = 0, I = 1·(2 − 1) = 1; Reimers
    /// β* = (0.5, 1.5): Q = 1.5, U = 0.5.
    #[test]
    fn hand_worked_threefold_and_reimers() {
        let a = Moments::from_rows(2, &[1.0, 1.0, 1.0, 2.0, 1.0, 3.0], &[2.0, 4.0, 6.0], None);
        let b = Moments::from_rows(2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0], &[1.0, 2.0, 3.0], None);
        let d = decompose(&a, &b, &simple_design(), ("a", "b"), options(Reference::Reimers), None).unwrap();
        let v = |c| value(&d, c, Scope::Total);
        assert!((v(Component::Difference) - 2.0).abs() < 1e-12);
        assert!((v(Component::Endowments) - 1.0).abs() < 1e-12 && v(Component::Coefficients).abs() < 1e-12);
        assert!((v(Component::Interaction) - 1.0).abs() < 1e-12);
        assert!((v(Component::Explained) - 1.5).abs() < 1e-12 && (v(Component::Unexplained) - 0.5).abs() < 1e-12);
        let detailed =
            value(&d, Component::Explained, Scope::Term(0)) + value(&d, Component::Explained, Scope::Term(1));
        assert!((detailed - 1.5).abs() < 1e-12);
    }

    #[test]
    fn too_few_rows_names_the_group() {
        let a = Moments::from_rows(2, &[1.0, 1.0, 1.0, 2.0], &[2.0, 4.0], None);
        let b = Moments::from_rows(2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0], &[1.0, 2.0, 3.0], None);
        let err = decompose(&a, &b, &simple_design(), ("M", "F"), options(Reference::Pooled), None).unwrap_err();
        assert!(err.to_string().contains("group A (`M`)"), "{err}");
    }
}
