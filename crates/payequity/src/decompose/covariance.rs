//! The covariance of θ = (x̄_A, x̄_B, β_A, β_B, β*) behind the delta-method standard errors of the
//! decomposition (Jann 2005, 2008): covariate means stochastic and independent across groups; coefficients
//! classical (σ²(X'WX)⁻¹, with the model-based covariance of the pooled reference) or robust, from the
//! Gram matrices of stacked scores per group (Stata's `suest`), accumulated in one residual pass.

use ndarray::{s, Array1, Array2};

use crate::stats::{Moments, OlsFit};

/// Covariance of θ over the full design: x̄_A, x̄_B independent; (β_A, β_B, β*) jointly.
pub(super) struct ThetaCovariance {
    pub xa: Array2<f64>,
    pub xb: Array2<f64>,
    pub aa: Array2<f64>,
    pub bb: Array2<f64>,
    pub ss: Array2<f64>,
    pub as_: Array2<f64>,
    pub bs: Array2<f64>,
}

/// g'V h over the entries in `mask` (one detailed term, a categorical group, or all).
pub(super) fn masked_quad(v: &Array2<f64>, g: &Array1<f64>, h: &Array1<f64>, mask: &[usize]) -> f64 {
    let mut total = 0.0;
    for &i in mask {
        if g[i] == 0.0 {
            continue;
        }
        let mut row = 0.0;
        for &j in mask {
            row += v[[i, j]] * h[j];
        }
        total += g[i] * row;
    }
    total
}

/// Covariance of the mean vector, S / n with S the weighted covariance matrix of X with the n/(n−1)
/// correction (zero for the constant): covariate means are stochastic (Jann 2008).
fn mean_covariance(m: &Moments) -> Array2<f64> {
    let xbar = m.mean_x();
    let n = m.n as f64;
    let k = m.k();
    Array2::from_shape_fn((k, k), |(i, j)| (m.xtwx[[i, j]] / m.sum_w - xbar[i] * xbar[j]) / (n - 1.0))
}

/// X_g'W X*_g for the rows of one group: the cross-moments of the group design and the pooled design
/// (with D = `indicator` appended when the pooled regression has the group-B indicator).
fn cross_with_pooled(g: &Moments, indicator: Option<f64>) -> Array2<f64> {
    let k = g.k();
    match indicator {
        None => g.xtwx.clone(),
        Some(d) => {
            let mut c = Array2::zeros((k, k + 1));
            c.slice_mut(s![.., ..k]).assign(&g.xtwx);
            c.slice_mut(s![.., k]).assign(&(&g.sum_wx * d));
            c
        }
    }
}

/// X*_g'W X*_g over one group's rows.
fn pooled_gram(g: &Moments, indicator: Option<f64>) -> Array2<f64> {
    let k = g.k();
    match indicator {
        None => g.xtwx.clone(),
        Some(d) => {
            let mut c = Array2::zeros((k + 1, k + 1));
            c.slice_mut(s![..k, ..k]).assign(&g.xtwx);
            c.slice_mut(s![..k, k]).assign(&(&g.sum_wx * d));
            c.slice_mut(s![k, ..k]).assign(&(&g.sum_wx * d));
            c[[k, k]] = g.sum_w * d * d;
            c
        }
    }
}

/// The fitted regressions in the regression space (non-base columns), and the pooled regression of
/// `pooled` / `neumark` with its group-B indicator flag.
pub(super) struct Models<'a> {
    pub sub_a: &'a Moments,
    pub sub_b: &'a Moments,
    pub fit_a: &'a OlsFit,
    pub fit_b: &'a OlsFit,
    pub star: Option<(&'a OlsFit, bool)>,
    /// Regression space → full design (embedding and normalization).
    pub map: &'a Array2<f64>,
}

/// Per group g, the Gram matrix Σ_{i∈g} sᵢsᵢ' of the stacked scores sᵢ = wᵢ·[e_g,i·xᵢ, e*ᵢ·x*ᵢ] (the pooled
/// part only with a pooled reference), p + p* square. Mergeable (sums).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoreGrams {
    pub a: Array2<f64>,
    pub b: Array2<f64>,
}

/// V(θ) over the full design.
///
/// Classical (as Stata `oaxaca`'s default): V(β_g) = σ²_g (X_g'WX_g)⁻¹. For `pooled`/`neumark`, β* is
/// estimated on the same rows, so its covariance with β_A and β_B is not zero. Under the group models
/// (Var yᵢ = σ²_g / wᵢ for i in g), with B = (X'WX)⁻¹ of each regression:
/// Cov(β_g, β*) = σ²_g B_g (X_g'W X*_g) B*, Var(β*) = B* (Σ_g σ²_g X*_g'W X*_g) B*.
///
/// Robust (`scores`): the sandwich of the stacked scores (Stata `suest`), with N/(N − 1), N = n_A + n_B:
/// V(β_g) = c B_g S_g,gg B_g, Cov(β_g, β*) = c B_g S_g,g* B*, Var(β*) = c B* (S_A,** + S_B,**) B*.
pub(super) fn theta_covariance(
    a: &Moments,
    b: &Moments,
    m: &Models<'_>,
    scores: Option<&ScoreGrams>,
) -> ThetaCovariance {
    let k = m.map.nrows();
    let p = m.fit_a.coefficients.len();
    let map = m.map;
    let to_full = |v: &Array2<f64>| map.dot(v).dot(&map.t());
    // Pooled coefficients beyond the first p (the group indicator) are not part of β*.
    let head_cols = |v: &Array2<f64>| v.slice(s![.., ..p]).to_owned();
    let head = |v: &Array2<f64>| v.slice(s![..p, ..p]).to_owned();
    let zeros = || Array2::zeros((k, k));
    let (aa, bb, ss, as_, bs) = match scores {
        None => {
            let (aa, bb) = (to_full(&m.fit_a.covariance), to_full(&m.fit_b.covariance));
            match m.star {
                None => (aa, bb, zeros(), zeros(), zeros()),
                Some((star, indicator)) => {
                    let (sa, sb) = (m.fit_a.sigma2, m.fit_b.sigma2);
                    // D = 0 in A, 1 in B.
                    let (d_a, d_b) = if indicator { (Some(0.0), Some(1.0)) } else { (None, None) };
                    let meat = pooled_gram(m.sub_a, d_a) * sa + pooled_gram(m.sub_b, d_b) * sb;
                    let v_star = star.bread.dot(&meat).dot(&star.bread);
                    let c_as = m.fit_a.bread.dot(&cross_with_pooled(m.sub_a, d_a)).dot(&star.bread) * sa;
                    let c_bs = m.fit_b.bread.dot(&cross_with_pooled(m.sub_b, d_b)).dot(&star.bread) * sb;
                    (aa, bb, to_full(&head(&v_star)), to_full(&head_cols(&c_as)), to_full(&head_cols(&c_bs)))
                }
            }
        }
        Some(grams) => {
            let n = (a.n + b.n) as f64;
            let c = n / (n - 1.0);
            let sandwich = |left: &Array2<f64>, meat: Array2<f64>, right: &Array2<f64>| left.dot(&meat).dot(right) * c;
            let (ga, gb) = (&grams.a, &grams.b);
            let aa = to_full(&sandwich(&m.fit_a.bread, ga.slice(s![..p, ..p]).to_owned(), &m.fit_a.bread));
            let bb = to_full(&sandwich(&m.fit_b.bread, gb.slice(s![..p, ..p]).to_owned(), &m.fit_b.bread));
            match m.star {
                None => (aa, bb, zeros(), zeros(), zeros()),
                Some((star, _)) => {
                    let b_star = &star.bread;
                    let pooled_meat = ga.slice(s![p.., p..]).to_owned() + gb.slice(s![p.., p..]);
                    let v_star = sandwich(b_star, pooled_meat, b_star);
                    let c_as = sandwich(&m.fit_a.bread, ga.slice(s![..p, p..]).to_owned(), b_star);
                    let c_bs = sandwich(&m.fit_b.bread, gb.slice(s![..p, p..]).to_owned(), b_star);
                    (aa, bb, to_full(&head(&v_star)), to_full(&head_cols(&c_as)), to_full(&head_cols(&c_bs)))
                }
            }
        }
    };
    ThetaCovariance { xa: mean_covariance(a), xb: mean_covariance(b), aa, bb, ss, as_, bs }
}
