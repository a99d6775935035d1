//! Numeric kernels shared by every capability: mergeable moments, quantiles and inference helpers.

mod inference;
mod median;
mod moments;

pub use inference::{normal_quantile, t_quantile, Estimate};
pub(crate) use median::mix64;
pub use median::{median, median_bootstrap, weighted_median, MedianSample};
pub use moments::{MeanMoments, Moments};
