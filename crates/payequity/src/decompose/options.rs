//! The options of [`super::oaxaca`]: one serde struct behind the `[oaxaca]` TOML section, the CLI flags and
//! the Python keywords (names as in `shared/spec/interfaces.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kernel::Reference;
use crate::{Error, Result};

/// How standard errors are computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeMethod {
    /// Delta method (Jann 2005, 2008), covariate means stochastic.
    #[default]
    Delta,
    /// Replicate-weight bootstrap (`reps`, `seed`, `draw`).
    Bootstrap,
    /// Point estimates only.
    None,
}

impl SeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SeMethod::Delta => "delta",
            SeMethod::Bootstrap => "bootstrap",
            SeMethod::None => "none",
        }
    }
}

/// Covariance of the regression coefficients in delta-method standard errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vce {
    /// σ²(X'WX)⁻¹ per group, model-based covariance with the pooled reference (Stata `oaxaca` default).
    #[default]
    Classical,
    /// Sandwich of stacked scores (Stata `suest`): heteroskedasticity-robust, joint for pooled/neumark.
    Robust,
}

/// Replicate weights of the bootstrap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootstrapDraw {
    /// Poisson(1) weight per row from a counter-based generator keyed by (seed, row, replicate).
    #[default]
    Poisson,
    /// Multinomial counts: exactly n draws with replacement over the used rows (the classical bootstrap).
    Multinomial,
}

/// Confidence intervals from bootstrap replicates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootstrapCi {
    /// estimate ± z·SE with SE the standard deviation of the replicates.
    #[default]
    Normal,
    /// The (α/2, 1−α/2) quantiles of the replicates.
    Percentile,
}

/// The viewpoint of the threefold decomposition (Stata's default is B; `a` is `threefold(reverse)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Viewpoint {
    A,
    #[default]
    B,
}

/// Options of the Oaxaca-Blinder decomposition. Defaults: `reference = "pooled"`, `se = "delta"`,
/// `reps = 500`, `seed = 20230510`, `confidence = 0.95`, `normalize = true`, threefold from B's viewpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OaxacaOptions {
    /// The outcome column (usually log hourly pay).
    pub outcome: String,
    /// Take the natural log of the outcome first (rows with outcome ≤ 0 are excluded as
    /// `non_positive_outcome`).
    pub log: bool,
    /// The column whose values define groups A and B.
    pub group: String,
    /// The value of `group` that is group A (the comparison group; positive gaps mean A earns more).
    pub group_a: String,
    /// The value that is group B; `None` = the one other value (an error when there are several).
    pub group_b: Option<String>,
    /// Numeric covariates.
    #[serde(deserialize_with = "crate::data::one_or_many_strings")]
    pub covariates: Vec<String>,
    /// Categorical covariates (columns of labels), dummy-encoded by the library.
    #[serde(deserialize_with = "crate::data::one_or_many_strings")]
    pub categorical: Vec<String>,
    /// Base (omitted) level per categorical column; default the first level in sort order.
    pub base_levels: BTreeMap<String, String>,
    /// Named groups of covariates whose detailed terms are summed, with SEs from the joint covariance (as
    /// Stata's `detail(name: vars)`): `{demography = ["age", "region"]}`. Categorical columns not named in a
    /// group are groups of their own.
    pub detail_groups: BTreeMap<String, Vec<String>>,
    /// Yun (2005) normalization of categorical coefficients (detailed terms independent of the base).
    pub normalize: bool,
    /// Reference coefficients of the twofold decomposition: pooled | neumark | cotton | reimers | weight.
    pub reference: String,
    /// W of `reference = "weight"`: β* = W·β_A + (1−W)·β_B.
    pub weight: Option<f64>,
    /// Sampling-weight column (`--weight-column`, Python `weights=`).
    pub weights: Option<String>,
    /// Employee id and pay period columns: a later row with the same (id, period) is excluded as
    /// `duplicate_key`. `None` = the columns `employee_id` / `period` when present; `""` = none.
    pub employee_id: Option<String>,
    pub period: Option<String>,
    pub threefold_viewpoint: Viewpoint,
    pub se: SeMethod,
    /// Coefficient covariance of the delta method: classical or robust.
    pub vce: Vce,
    pub reps: usize,
    pub seed: u64,
    pub draw: BootstrapDraw,
    pub bootstrap_ci: BootstrapCi,
    pub confidence: f64,
    /// Any excluded row, or a categorical level missing from a group, becomes an error.
    pub strict: bool,
}

impl Default for OaxacaOptions {
    fn default() -> Self {
        OaxacaOptions {
            outcome: String::new(),
            log: false,
            group: "gender".into(),
            group_a: String::new(),
            group_b: None,
            covariates: Vec::new(),
            categorical: Vec::new(),
            base_levels: BTreeMap::new(),
            detail_groups: BTreeMap::new(),
            normalize: true,
            reference: "pooled".into(),
            weight: None,
            weights: None,
            employee_id: None,
            period: None,
            threefold_viewpoint: Viewpoint::B,
            se: SeMethod::Delta,
            vce: Vce::Classical,
            reps: 500,
            seed: 20230510,
            draw: BootstrapDraw::Poisson,
            bootstrap_ci: BootstrapCi::Normal,
            confidence: 0.95,
            strict: false,
        }
    }
}

impl OaxacaOptions {
    /// The reference as a typed value, checking `weight` (required and in [0, 1] exactly for `weight`).
    pub fn reference(&self) -> Result<Reference> {
        let reference = match self.reference.to_ascii_lowercase().as_str() {
            "pooled" => Reference::Pooled,
            "neumark" | "omega" => Reference::Neumark,
            "cotton" => Reference::Cotton,
            "reimers" => Reference::Reimers,
            "weight" => {
                let w = self.weight.ok_or_else(|| {
                    Error::Invalid("reference `weight` needs the weight W (`--weight W`, `weight=W`)".into())
                })?;
                if !(0.0..=1.0).contains(&w) {
                    return Err(Error::Invalid(format!("the reference weight W must be in [0, 1], got {w}")));
                }
                Reference::Weight(w)
            }
            other => {
                return Err(Error::Invalid(format!(
                    "unknown reference `{other}`: use pooled, neumark, cotton, reimers or weight"
                )))
            }
        };
        if self.weight.is_some() && !matches!(reference, Reference::Weight(_)) {
            return Err(Error::Invalid(format!(
                "`weight` is the W of `reference = \"weight\"`, but the reference is `{}`; for sampling weights \
                 use `--weight-column` / `weights=`",
                self.reference
            )));
        }
        Ok(reference)
    }

    /// Checks what can be checked without the data.
    pub fn validate(&self) -> Result<()> {
        if self.outcome.is_empty() {
            return Err(Error::Invalid("no outcome column: give `--outcome COLUMN` / `outcome=`".into()));
        }
        if self.group_a.is_empty() {
            return Err(Error::Invalid("no group A value: give `--group-a VALUE` / `group_a=`".into()));
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::Invalid(format!("confidence must be in (0, 1), got {}", self.confidence)));
        }
        if self.se == SeMethod::Bootstrap && self.reps < 2 {
            return Err(Error::Invalid(format!("the bootstrap needs at least 2 replicates, got reps = {}", self.reps)));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in self.covariates.iter().chain(&self.categorical) {
            if c == &self.outcome || c == &self.group {
                return Err(Error::Invalid(format!("column `{c}` is the outcome or group and cannot be a covariate")));
            }
            if !seen.insert(c) {
                return Err(Error::Invalid(format!("column `{c}` is listed twice among the covariates")));
            }
        }
        let mut grouped = std::collections::BTreeSet::new();
        for (name, members) in &self.detail_groups {
            if members.is_empty() {
                return Err(Error::Invalid(format!("detail group `{name}` has no columns")));
            }
            for member in members {
                if !self.covariates.contains(member) && !self.categorical.contains(member) {
                    return Err(Error::Invalid(format!(
                        "detail group `{name}`: `{member}` is not among the covariates or categorical columns"
                    )));
                }
                if !grouped.insert(member) {
                    return Err(Error::Invalid(format!("`{member}` is in more than one detail group")));
                }
            }
        }
        for column in self.base_levels.keys() {
            if !self.categorical.contains(column) {
                return Err(Error::Invalid(format!("base level given for `{column}`, which is not a categorical")));
            }
        }
        self.reference().map(|_| ())
    }

    /// Columns read when present (the duplicate-key check).
    pub fn optional_columns(&self) -> Vec<String> {
        [(&self.employee_id, "employee_id"), (&self.period, "period")]
            .into_iter()
            .filter_map(|(explicit, default)| match explicit {
                Some(name) if name.is_empty() => None,
                Some(name) => Some(name.clone()),
                None => Some(default.to_string()),
            })
            .collect()
    }

    /// Every column the analysis reads (for projection when loading files).
    pub fn columns_used(&self) -> Vec<String> {
        let mut out = vec![self.outcome.clone(), self.group.clone()];
        out.extend(self.covariates.iter().cloned());
        out.extend(self.categorical.iter().cloned());
        out.extend(self.weights.iter().cloned());
        out
    }
}
