//! Decompositions of pay differences. Oaxaca-Blinder (`shared/spec/oaxaca.md`): [`oaxaca`] plans the
//! analysis (`scan.rs`), accumulates group moments in one parallel pass, runs the kernel (`kernel.rs`:
//! every component, detailed terms, Yun normalization, delta-method variances) and writes the document
//! (`result.rs`, `table.rs`); the bootstrap reruns the kernel on replicate moments (`run.rs`).

pub(crate) mod analysis;
mod covariance;
mod gram;
mod kernel;
mod options;
mod partial;
mod plan;
mod result;
mod run;
mod scan;
pub(crate) mod table;

pub use analysis::{OaxacaAccumulator, OaxacaAnalysis, OaxacaPass, OaxacaState};
pub use covariance::ScoreGrams;
pub use kernel::{
    decompose, CategoricalBlock, Component, Decomposition, Design, KernelOptions, Reference, ResidualModels, Scope,
    ScorePass,
};
pub use options::{BootstrapCi, BootstrapDraw, OaxacaOptions, SeMethod, Vce, Viewpoint};
pub use partial::OaxacaPartial;
pub use plan::{check_columns, duplicate_key_columns, DuplicateRows, GroupValues, OutcomeMap, Plan, PlanFacts};
pub use result::{
    BootstrapInfo, CategoricalInfo, Coefficients, OaxacaResult, Pair, TermMap, ThreefoldResult, ThreefoldTerm,
    TwofoldResult, TwofoldTerm,
};
pub use run::{bootstrap_moments, finish, oaxaca, oaxaca_plan, ReplicateMoments, ResidualPass};
pub(crate) use run::{ledger_and_strict, poisson_draw};
pub use scan::{Exclusions, FittedRow, GroupMoments, GroupRows, SLICE_ROWS};
pub use table::{oaxaca_frame, oaxaca_table};
