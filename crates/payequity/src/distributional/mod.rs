//! Distributional decompositions (`shared/spec/distributional.md`): the statistics ν and their recentered
//! influence functions (`statistic.rs`, `rif.rs`), the RIF regression (`regression.rs`) and the RIF
//! decomposition (`decomposition.rs`), the DFL reweighting decomposition (`reweight.rs`, `dfl.rs`), built on the `oaxaca` engine: each group's outcome is mapped by its
//! RIF and decomposed with every `oaxaca` option.

mod analysis;
mod decomposition;
mod dfl;
mod nonlinear;
mod profile;
mod regression;
mod reweight;
mod reweighted;
mod rif;
mod statistic;
mod table;

pub use analysis::{profile_streams, rif_streams, ProfileAnalysis, RifAnalysis};
pub(crate) use decomposition::{
    assemble as assemble_rif, check as check_rif, rif_map as rif_map_of, statistic_result as statistic_result_of,
};
pub use decomposition::{rif_decompose, GroupValues, RifOptions, RifResult, RifStatisticResult};
pub use dfl::{default_dfl_statistics, dfl, DflOptions, DflResult, DflStatistic};
pub use nonlinear::{nonlinear_decompose, BinaryModel, NonlinearResult, NonlinearTerm};
pub use profile::{quantile_profile, ProfileMethod, ProfileOptions, ProfilePoint, QuantileProfile};
pub use regression::{rif_regression, RifCoefficient, RifRegressionResult};
pub use reweight::{reweighting, PsiSummary, ReweightGroup, Reweighting};
pub use reweighted::{ReweightedResult, ReweightedTerm};
pub use rif::{rule_of_thumb, DensityAt, RifFunction, Sample};
pub use statistic::{Bandwidth, Kernel, QuantileMethod, Statistic};
pub use table::{dfl_table, nonlinear_table, profile_table, rif_regression_table, rif_table};
