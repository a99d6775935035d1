//! The `oaxaca` result document (`shared/spec/interfaces.md`): the same JSON from Rust, the CLI and Python.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::data::Ledger;
use crate::stats::Estimate;

/// A pair of values for groups A and B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair<T> {
    pub a: T,
    pub b: T,
}

/// Term → value, serialized as a JSON object in design order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermMap(pub Vec<(String, f64)>);

impl TermMap {
    pub fn get(&self, term: &str) -> Option<f64> {
        self.0.iter().find(|(t, _)| t == term).map(|(_, v)| *v)
    }
}

impl Serialize for TermMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TermMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TermVisitor;
        impl<'de> Visitor<'de> for TermVisitor {
            type Value = TermMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of term to number")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut access: M) -> Result<TermMap, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = access.next_entry::<String, f64>()? {
                    out.push((k, v));
                }
                Ok(TermMap(out))
            }
        }
        deserializer.deserialize_map(TermVisitor)
    }
}

/// One detailed term (or categorical group of terms) of the twofold decomposition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwofoldTerm {
    pub term: String,
    pub explained: Estimate,
    pub unexplained: Estimate,
    pub unexplained_a: Estimate,
    pub unexplained_b: Estimate,
}

/// One detailed term (or categorical group of terms) of the threefold decomposition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreefoldTerm {
    pub term: String,
    pub endowments: Estimate,
    pub coefficients: Estimate,
    pub interaction: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwofoldResult {
    /// pooled | neumark | cotton | reimers | weight
    pub reference: String,
    /// W of weight-type references (`cotton`: n_A / (n_A + n_B), `reimers`: 0.5); null for pooled/neumark.
    pub weight: Option<f64>,
    pub explained: Estimate,
    pub unexplained: Estimate,
    pub unexplained_a: Estimate,
    pub unexplained_b: Estimate,
    /// One entry per design term (`_cons`, numeric covariates, `column:level` for every level).
    pub detailed: Vec<TwofoldTerm>,
    /// One entry per categorical column: the sum over its levels.
    pub groups: Vec<TwofoldTerm>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreefoldResult {
    /// "b" (Stata's default) or "a" (`threefold(reverse)`).
    pub viewpoint: String,
    pub endowments: Estimate,
    pub coefficients: Estimate,
    pub interaction: Estimate,
    pub detailed: Vec<ThreefoldTerm>,
    pub groups: Vec<ThreefoldTerm>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficients {
    pub a: TermMap,
    pub b: TermMap,
    pub reference: TermMap,
}

/// A categorical covariate as encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalInfo {
    pub column: String,
    pub levels: Vec<String>,
    pub base: String,
    pub normalized: bool,
}

/// How the bootstrap ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapInfo {
    pub reps: usize,
    /// Replicates whose regressions could be fitted (the others are reported in `warnings`).
    pub successful: usize,
    pub seed: u64,
    pub draw: String,
    pub ci: String,
}

/// The Oaxaca-Blinder decomposition document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OaxacaResult {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub outcome: String,
    /// The outcome was logged by the library (`log = true`).
    pub log: bool,
    pub groups: Pair<String>,
    pub n: Pair<u64>,
    /// Σ sampling weights per group (equals `n` without weights).
    pub sum_weights: Pair<f64>,
    pub mean_prediction: Pair<Estimate>,
    /// mean(y_A) − mean(y_B): positive means group A has the higher outcome.
    pub difference: Estimate,
    pub twofold: TwofoldResult,
    pub threefold: ThreefoldResult,
    pub coefficients: Coefficients,
    /// Covariate means per group (level shares for categorical levels).
    pub means: Pair<TermMap>,
    pub categorical: Vec<CategoricalInfo>,
    /// delta | bootstrap | none
    pub se_method: String,
    /// Coefficient covariance of the delta method: classical | robust.
    pub vce: String,
    pub bootstrap: Option<BootstrapInfo>,
    pub confidence: f64,
}

impl OaxacaResult {
    /// The difference in percent, 100·(exp(R) − 1), meaningful when the outcome is in logs.
    pub fn difference_pct(&self) -> Option<f64> {
        self.difference.estimate.map(|r| 100.0 * (r.exp() - 1.0))
    }
}
