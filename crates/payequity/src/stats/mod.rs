//! Numeric kernels shared by every capability: mergeable moments, weighted least squares from moments,
//! quantiles and inference helpers.

mod inference;
mod median;
mod moments;
mod ols;

pub use inference::{normal_quantile, t_quantile, Estimate};
pub use median::{median, median_bootstrap, weighted_median, MedianSample};
pub(crate) use median::{mix64, poisson1, unit_uniform};
pub use moments::{MeanMoments, Moments};
pub use ols::{ols, ClusterScores, OlsFit, ResidualMoments, COLLINEARITY_TOLERANCE};
