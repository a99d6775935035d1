//! Tests of two proportions: Fisher's exact test (small cells) and the two-proportion z-test.

use statrs::distribution::{ContinuousCDF, Discrete, Hypergeometric, Normal};

use crate::{Error, Result};

/// Relative tolerance under which a table counts as "as extreme" as the observed one (scipy uses 1e-14).
const FISHER_RELATIVE_TOLERANCE: f64 = 1e-14;

/// Two-sided Fisher exact test of the 2×2 table `[[a, b], [c, d]]` (rows: groups; columns: outcome yes/no).
///
/// p = Σ P(X = x) over every x with P(X = x) ≤ P(X = a)·(1 + 1e-14), X hypergeometric with population
/// a+b+c+d, a+c successes and a+b draws (Fisher 1935; the rule of `scipy.stats.fisher_exact`).
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> Result<f64> {
    let population = a + b + c + d;
    let successes = a + c;
    let draws = a + b;
    if population == 0 {
        return Err(Error::Invalid("Fisher's exact test needs a table with at least one count".into()));
    }
    let law = Hypergeometric::new(population, successes, draws)
        .map_err(|e| Error::Invalid(format!("Fisher's exact test: {e}")))?;
    let low = draws.saturating_sub(population - successes);
    let high = draws.min(successes);
    let observed = law.ln_pmf(a);
    let limit = observed + FISHER_RELATIVE_TOLERANCE.ln_1p();
    let p: f64 = (low..=high).map(|x| law.ln_pmf(x)).filter(|&l| l <= limit).map(f64::exp).sum();
    Ok(p.min(1.0))
}

/// The two-proportion z-test with the pooled variance (the default of statsmodels' `proportions_ztest`).
///
/// z = (p₁ − p₂) / √(p̄(1 − p̄)(1/n₁ + 1/n₂)), p̄ = (x₁ + x₂)/(n₁ + n₂); two-sided p = 2·Φ(−|z|).
/// Returns `(z, p)`; `None` when a group is empty or the pooled proportion is 0 or 1 (no variation).
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<(f64, f64)> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f);
    if variance <= 0.0 {
        return None;
    }
    let z = (x1 as f64 / n1f - x2 as f64 / n2f) / variance.sqrt();
    let normal = Normal::standard();
    Some((z, 2.0 * normal.cdf(-z.abs())))
}

/// Which test [`compare_proportions`] used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProportionTest {
    Fisher,
    Z,
}

/// Compares x₁/n₁ with x₂/n₂: Fisher's exact test when an expected count of the 2×2 table is below 5
/// (Cochran's rule), the two-proportion z-test otherwise. `None` when there is nothing to compare.
pub fn compare_proportions(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<(ProportionTest, f64)> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let total = (n1 + n2) as f64;
    let yes = (x1 + x2) as f64;
    let no = total - yes;
    let smallest_expected =
        [n1 as f64 * yes, n1 as f64 * no, n2 as f64 * yes, n2 as f64 * no].into_iter().fold(f64::INFINITY, f64::min)
            / total;
    if smallest_expected < 5.0 {
        fisher_exact(x1, n1 - x1, x2, n2 - x2).ok().map(|p| (ProportionTest::Fisher, p))
    } else {
        two_proportion_z(x1, n1, x2, n2).map(|(_, p)| (ProportionTest::Z, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fisher_tea_tasting() {
        // Fisher's lady tasting tea, [[3, 1], [1, 3]]: two-sided p = 34/70 = 0.4857142857.
        let p = fisher_exact(3, 1, 1, 3).unwrap();
        assert!((p - 34.0 / 70.0).abs() < 1e-12, "{p}");
        // A table whose cells are all certain: p = 1.
        assert!((fisher_exact(0, 5, 0, 5).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn z_test_by_hand() {
        // 30/100 vs 20/100: pooled 0.25, var 0.25·0.75·0.02 = 0.00375, z = 0.1/0.0612372 = 1.632993.
        let (z, _) = two_proportion_z(30, 100, 20, 100).unwrap();
        assert!((z - 0.1 / 0.00375f64.sqrt()).abs() < 1e-12);
        assert!(two_proportion_z(0, 10, 0, 10).is_none());
    }
}
