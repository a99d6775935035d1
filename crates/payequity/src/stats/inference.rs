//! Inference helpers: the estimate-with-uncertainty object of every result document, and quantiles of the
//! normal and Student t distributions (statrs).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// An estimate with its standard error and confidence interval; `None` serializes as `null` (undefined or
/// suppressed). Interface: `{ "estimate": x, "se": s, "ci_low": l, "ci_high": h }`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub estimate: Option<f64>,
    pub se: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

impl Estimate {
    /// An estimate without uncertainty.
    pub fn point(estimate: Option<f64>) -> Estimate {
        Estimate { estimate, ..Estimate::default() }
    }

    /// `estimate ± q · se` (symmetric interval); the interval is null when the se is.
    pub fn symmetric(estimate: Option<f64>, se: Option<f64>, q: f64) -> Estimate {
        let (ci_low, ci_high) = match (estimate, se) {
            (Some(e), Some(s)) if s.is_finite() => (Some(e - q * s), Some(e + q * s)),
            _ => (None, None),
        };
        Estimate { estimate, se: se.filter(|s| s.is_finite()), ci_low, ci_high }
    }

    /// The suppressed / undefined estimate: every field null.
    pub fn null() -> Estimate {
        Estimate::default()
    }
}

/// The `p` quantile of the standard normal distribution.
pub fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// The `p` quantile of Student's t with `df` degrees of freedom (normal when `df` is infinite or huge).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !df.is_finite() || df > 1e7 {
        return normal_quantile(p);
    }
    StudentsT::new(0.0, 1.0, df).map(|t| t.inverse_cdf(p)).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_tables() {
        // Abramowitz & Stegun table 26.1 / 26.10.
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-9);
        assert!((t_quantile(0.975, 10.0) - 2.228138851986274).abs() < 1e-9);
    }

    #[test]
    fn symmetric_interval_is_null_without_se() {
        let e = Estimate::symmetric(Some(2.0), None, 1.96);
        assert_eq!((e.ci_low, e.ci_high), (None, None));
        let e = Estimate::symmetric(Some(2.0), Some(0.5), 2.0);
        assert_eq!((e.ci_low, e.ci_high), (Some(1.0), Some(3.0)));
    }
}
