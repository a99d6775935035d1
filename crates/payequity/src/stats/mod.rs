//! Numeric kernels shared by every capability: mergeable moments, weighted least squares from moments,
//! quantiles and inference helpers.

mod inference;
mod logit;
mod median;
mod moments;
mod ols;
mod probit;
mod proportions;
mod radix;

pub use inference::{normal_quantile, t_quantile, Estimate};
pub use logit::{logit, LogitCells, LogitFit, LogitTerm};
pub use median::{bootstrap_ranks, median, median_bootstrap, weighted_median, MedianSample};
pub(crate) use median::{mix64, poisson1, unit_uniform};
pub use moments::{MeanMoments, Moments};
pub use ols::{ols, ClusterScores, OlsFit, ResidualMoments, COLLINEARITY_TOLERANCE};
pub use probit::{probit, ProbitFit};
pub use proportions::{compare_proportions, fisher_exact, two_proportion_z, ProportionTest};
pub use radix::{from_order_key, order_key, RankSelection};
