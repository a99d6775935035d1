//! The distributional statistics ν a RIF is taken of (`shared/spec/distributional.md`, "Statistics ν and
//! their recentered influence functions"), the density kernels and the bandwidth rule, with the names the
//! CLI, Python and JSON share: `mean`, `q50` / `q:0.255`, `var`, `gini`, `iqr10_90`, `iqratio90_10`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// A distributional statistic ν.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// The mean μ.
    Mean,
    /// The quantile q_τ, τ in (0, 1).
    Quantile(f64),
    /// The variance Σw(y − μ)²/Σw.
    Variance,
    /// The Gini coefficient (exact discrete, mid-rank).
    Gini,
    /// q_high − q_low (`iqrP1_P2`, percentiles low then high).
    InterquantileRange(f64, f64),
    /// q_high / q_low (`iqratioP2_P1`, percentiles high then low).
    InterquantileRatio(f64, f64),
}

/// A percentile written as digits (`10`, `05`, `255` = 25.5 … the digits after the first two are decimals).
fn percentile(text: &str, name: &str) -> Result<f64> {
    let bad = || {
        Error::Invalid(format!(
            "statistic `{name}`: `{text}` is not a percentile; write two digits (q05, q50, q90) or q:0.255"
        ))
    };
    if text.len() < 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let value: f64 = format!("{}.{}", &text[..2], &text[2..]).parse().map_err(|_| bad())?;
    tau(value / 100.0, name)
}

fn tau(value: f64, name: &str) -> Result<f64> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(Error::Invalid(format!("statistic `{name}`: the quantile must be strictly between 0 and 1, got {value}")))
    }
}

impl FromStr for Statistic {
    type Err = Error;

    fn from_str(text: &str) -> Result<Statistic> {
        let name = text.trim();
        let lower = name.to_ascii_lowercase();
        let pair = |rest: &str| -> Result<(f64, f64)> {
            let (a, b) = rest.split_once('_').ok_or_else(|| {
                Error::Invalid(format!("statistic `{name}`: write the two percentiles as in iqr10_90 or iqratio90_10"))
            })?;
            Ok((percentile(a, name)?, percentile(b, name)?))
        };
        let statistic = match lower.as_str() {
            "mean" => Statistic::Mean,
            "var" | "variance" => Statistic::Variance,
            "gini" => Statistic::Gini,
            "median" => Statistic::Quantile(0.5),
            s if s.starts_with("q:") => {
                let value: f64 = s[2..]
                    .parse()
                    .map_err(|_| Error::Invalid(format!("statistic `{name}`: `{}` is not a number", &s[2..])))?;
                Statistic::Quantile(tau(value, name)?)
            }
            s if s.starts_with("iqratio") => {
                let (high, low) = pair(&s[7..])?;
                Statistic::InterquantileRatio(low, high)
            }
            s if s.starts_with("iqr") => {
                let (low, high) = pair(&s[3..])?;
                Statistic::InterquantileRange(low, high)
            }
            s if s.starts_with('q') => Statistic::Quantile(percentile(&s[1..], name)?),
            _ => {
                return Err(Error::Invalid(format!(
                "unknown statistic `{name}`; use mean, var, gini, q10 (any qNN or q:0.255), iqr10_90 or iqratio90_10"
            )))
            }
        };
        if let Statistic::InterquantileRange(low, high) | Statistic::InterquantileRatio(low, high) = statistic {
            if low >= high {
                return Err(Error::Invalid(format!(
                    "statistic `{name}`: the first percentile of iqr (the second of iqratio) must be the lower one"
                )));
            }
        }
        Ok(statistic)
    }
}

/// `τ` as the digits of a name: 0.1 → `10`, 0.05 → `05`, 0.255 → `255`.
fn digits(tau: f64) -> String {
    let percent = format!("{:.6}", tau * 100.0);
    let (whole, fraction) = percent.split_once('.').unwrap_or((&percent, ""));
    format!("{:0>2}{}", whole, fraction.trim_end_matches('0'))
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statistic::Mean => write!(f, "mean"),
            Statistic::Variance => write!(f, "var"),
            Statistic::Gini => write!(f, "gini"),
            Statistic::Quantile(t) => write!(f, "q{}", digits(*t)),
            Statistic::InterquantileRange(a, b) => write!(f, "iqr{}_{}", digits(*a), digits(*b)),
            Statistic::InterquantileRatio(a, b) => write!(f, "iqratio{}_{}", digits(*b), digits(*a)),
        }
    }
}

impl Serialize for Statistic {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Statistic {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Statistic, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Statistic {
    /// The quantiles (τ) the statistic's RIF needs a density at.
    pub fn quantiles(&self) -> Vec<f64> {
        match *self {
            Statistic::Quantile(t) => vec![t],
            Statistic::InterquantileRange(a, b) | Statistic::InterquantileRatio(a, b) => vec![a, b],
            _ => Vec::new(),
        }
    }
}

/// The density kernel K of f(q) = Σ wᵢ K((q − yᵢ)/h) / (h·Σ wᵢ).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    /// φ(z), the standard normal density (default, as Stata's `rifvar`).
    #[default]
    Gaussian,
    /// Stata's: 0.75(1 − z²/5)/√5 for |z| < √5.
    Epanechnikov,
    /// 0.75(1 − z²) for |z| < 1.
    Epan2,
    /// 1 − |z| for |z| < 1.
    Triangular,
    /// 15/16 (1 − z²)² for |z| < 1.
    Biweight,
}

impl Kernel {
    /// K(z).
    pub fn weight(&self, z: f64) -> f64 {
        match self {
            Kernel::Gaussian => (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt(),
            Kernel::Epanechnikov => {
                let five = 5.0f64.sqrt();
                if z.abs() < five {
                    0.75 * (1.0 - z * z / 5.0) / five
                } else {
                    0.0
                }
            }
            Kernel::Epan2 if z.abs() < 1.0 => 0.75 * (1.0 - z * z),
            Kernel::Triangular if z.abs() < 1.0 => 1.0 - z.abs(),
            Kernel::Biweight if z.abs() < 1.0 => 15.0 / 16.0 * (1.0 - z * z).powi(2),
            _ => 0.0,
        }
    }

    /// Half-width of the kernel's support in units of h (infinite for the gaussian).
    pub fn support(&self) -> f64 {
        match self {
            Kernel::Gaussian => f64::INFINITY,
            Kernel::Epanechnikov => 5.0f64.sqrt(),
            _ => 1.0,
        }
    }

    /// The canonical bandwidth factor δ_K = (R(K)/μ₂(K)²)^(1/5) of the rule of thumb (Silverman 1986, §3.4).
    /// δ_gaussian = (1/(4π))^(1/10); δ_epanechnikov = (3/(5√5))^(1/5).
    pub fn delta(&self) -> f64 {
        match self {
            Kernel::Gaussian => (1.0 / (4.0 * std::f64::consts::PI)).powf(0.1),
            Kernel::Epanechnikov => (3.0 / (5.0 * 5.0f64.sqrt())).powf(0.2),
            Kernel::Epan2 => 15.0f64.powf(0.2),
            Kernel::Triangular => 24.0f64.powf(0.2),
            Kernel::Biweight => 35.0f64.powf(0.2),
        }
    }
}

impl FromStr for Kernel {
    type Err = Error;

    fn from_str(text: &str) -> Result<Kernel> {
        serde_json::from_value(serde_json::Value::String(text.trim().to_ascii_lowercase())).map_err(|_| {
            Error::Invalid(format!(
                "unknown kernel `{text}`; use gaussian, epanechnikov, epan2, triangular or biweight"
            ))
        })
    }
}

/// How a quantile is read off a sample: Stata's `_pctile` (default) or R's default `quantile(type = 7)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuantileMethod {
    /// P_i = τ exactly: the mean of y_i and y_{i+1}; else y_i for the smallest P_i > τ.
    #[default]
    Stata,
    /// Linear interpolation at h = (N − 1)τ between order statistics ⌊h⌋ and ⌊h⌋ + 1 (0-based), as R's
    /// `quantile()` and numpy's default; with weights, N = Σw and the rule of `Hmisc::wtd.quantile`.
    R7,
}

/// The density bandwidth h: a rule of thumb or a fixed positive number.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Bandwidth {
    /// h = 1.3643·δ_K·n^(−1/5)·min(s, IQR/1.349), as Stata's `rifvar`.
    #[default]
    Silverman,
    /// R's `bw.nrd0`: h = 0.9·min(s, IQR/1.34)·n^(−1/5), IQR by R's type-7 quantiles.
    Nrd0,
    Fixed(f64),
}

impl FromStr for Bandwidth {
    type Err = Error;

    fn from_str(text: &str) -> Result<Bandwidth> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("silverman") {
            return Ok(Bandwidth::Silverman);
        }
        if text.eq_ignore_ascii_case("nrd0") {
            return Ok(Bandwidth::Nrd0);
        }
        match text.parse::<f64>() {
            Ok(h) if h.is_finite() && h > 0.0 => Ok(Bandwidth::Fixed(h)),
            _ => Err(Error::Invalid(format!("bandwidth `{text}`: use \"silverman\", \"nrd0\" or a positive number"))),
        }
    }
}

impl Serialize for Bandwidth {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Bandwidth::Silverman => serializer.serialize_str("silverman"),
            Bandwidth::Nrd0 => serializer.serialize_str("nrd0"),
            Bandwidth::Fixed(h) => serializer.serialize_f64(*h),
        }
    }
}

impl<'de> Deserialize<'de> for Bandwidth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Bandwidth, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) => s.parse().map_err(serde::de::Error::custom),
            serde_json::Value::Number(n) => {
                n.as_f64().unwrap_or(f64::NAN).to_string().parse().map_err(serde::de::Error::custom)
            }
            other => {
                Err(serde::de::Error::custom(format!("bandwidth: expected \"silverman\" or a number, got {other}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ["mean", "var", "gini", "q10", "q50", "q05", "q255", "iqr10_90", "iqratio90_10", "iqr50_90"] {
            let s: Statistic = name.parse().unwrap();
            assert_eq!(s.to_string(), name);
        }
        assert_eq!("q:0.255".parse::<Statistic>().unwrap(), Statistic::Quantile(0.255));
        assert_eq!("median".parse::<Statistic>().unwrap(), Statistic::Quantile(0.5));
        assert_eq!("iqr10_90".parse::<Statistic>().unwrap(), Statistic::InterquantileRange(0.1, 0.9));
        assert_eq!("iqratio90_10".parse::<Statistic>().unwrap(), Statistic::InterquantileRatio(0.1, 0.9));
    }

    #[test]
    fn bad_names_say_what_to_write() {
        for (name, needle) in [
            ("q1", "two digits"),
            ("q:1.5", "between 0 and 1"),
            ("q00", "between 0 and 1"),
            ("iqr90_10", "lower one"),
            ("p50", "unknown statistic"),
            ("q:abc", "not a number"),
        ] {
            let message = name.parse::<Statistic>().unwrap_err().to_string();
            assert!(message.contains(needle), "{name}: {message}");
        }
        assert!("box".parse::<Kernel>().unwrap_err().to_string().contains("epanechnikov"));
        assert!("-1".parse::<Bandwidth>().is_err());
    }

    #[test]
    fn kernels_integrate_to_one() {
        for kernel in [Kernel::Gaussian, Kernel::Epanechnikov, Kernel::Epan2, Kernel::Triangular, Kernel::Biweight] {
            let step = 1e-4;
            let total: f64 = (-80_000..80_000).map(|i| kernel.weight(i as f64 * step) * step).sum();
            assert!((total - 1.0).abs() < 1e-6, "{kernel:?}: {total}");
        }
        // δ_K = (R(K)/μ₂(K)²)^(1/5) by numerical integration: 0.7764 (gaussian), 0.7686 (Stata's
        // epanechnikov, unit variance), 1.7188 (epan2), 1.8882 (triangular), 2.0362 (biweight).
        for kernel in [Kernel::Gaussian, Kernel::Epanechnikov, Kernel::Epan2, Kernel::Triangular, Kernel::Biweight] {
            let step = 1e-4;
            let grid = (-80_000..80_000).map(|i| i as f64 * step);
            let roughness: f64 = grid.clone().map(|z| kernel.weight(z).powi(2) * step).sum();
            let mu2: f64 = grid.map(|z| z * z * kernel.weight(z) * step).sum();
            let delta = (roughness / (mu2 * mu2)).powf(0.2);
            assert!((kernel.delta() / delta - 1.0).abs() < 1e-5, "{kernel:?}: {} vs {delta}", kernel.delta());
        }
    }
}
