//! Raw gender pay gaps: mean and median gaps in hourly pay (or pay level), overall and by grouping columns,
//! with confidence intervals, small-cell suppression and the ILO factor-weighted gap.
//!
//! `gap = (men − women) / men × 100` (positive: men paid more), on means or medians of the measure.

mod analysis;
mod cell;
pub(crate) mod compute;
mod factor_weighted;
mod options;
mod row_gap;
mod stream;
mod suppression;
mod table;
mod unit_partial;
mod units;

pub use analysis::GapAnalysis;
pub use cell::{CellStats, GenderStats};
pub(crate) use compute::{cell_seed, check_options, publish, GapCells, GapFacts};
pub use compute::{gap, gap_prepared};
pub use factor_weighted::{factor_weighted_gap, FactorWeighted};
pub use options::{GapOptions, InputShape};
pub use stream::gap_source;
pub use table::gap_table;
pub use unit_partial::UnitPartial;
pub(crate) use unit_partial::{stack, stack_frames, IpcFrame};
pub use units::UnitStream;
pub(crate) use units::COL_INPUT_ROW;

pub(crate) use suppression::cells_to_withhold;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::{Ledger, Measure, Unit};
use crate::stats::Estimate;

/// Grouping column → value of one cell of a breakdown (as text; `None` for missing values).
pub type GroupKey = BTreeMap<String, Option<String>>;

/// Figures of one published cell (the whole population, or one group of the `by` breakdown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapFigures {
    /// `(mean_M − mean_F) / mean_M × 100`, CI by the delta method with Welch degrees of freedom.
    pub mean_gap_pct: Estimate,
    /// `(median_M − median_F) / median_M × 100`, CI by the percentile bootstrap.
    pub median_gap_pct: Estimate,
    /// `mean_M − mean_F` in the units of the measure, Welch CI.
    pub mean_difference: Estimate,
    /// Units per gender group (`F`, `M`, and any other value kept as its own group).
    pub n: BTreeMap<String, Option<u64>>,
    /// Sum of sampling weights per group (equals `n` without weights).
    pub weighted_n: BTreeMap<String, Option<f64>>,
    pub mean: BTreeMap<String, Option<f64>>,
    pub median: BTreeMap<String, Option<f64>>,
}

/// One row of the `by` breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupGap {
    /// Grouping column → value (as text; `null` for missing values).
    pub group: GroupKey,
    #[serde(flatten)]
    pub figures: GapFigures,
    /// True when the cell's figures are withheld (fewer than `min_cell` women or men, or complementary).
    pub suppressed: bool,
    /// `primary` (small cell) or `complementary` (withheld so a small cell cannot be recovered).
    pub suppression: Option<String>,
}

/// The result document of [`gap`] (`"kind": "gap"` in `shared/spec/interfaces.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapResult {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub measure: Measure,
    pub unit: Unit,
    pub weighted: bool,
    pub by_columns: Vec<String>,
    pub min_cell: u64,
    pub confidence: f64,
    pub bootstrap_reps: usize,
    pub seed: u64,
    pub overall: GapFigures,
    pub by: Vec<GroupGap>,
    /// ILO factor-weighted gap in percent (`null` without subgroups).
    pub factor_weighted_gap_pct: Option<Estimate>,
    pub factor_weighted: Option<FactorWeighted>,
}
