//! The gap pipeline: prepare rows (ledger), build units, compute cell statistics in parallel, derive the
//! figures, suppress small cells, and add the factor-weighted gap.

use polars::prelude::*;
use rayon::prelude::*;

use crate::data::{prepare, Ledger, Measure, Prepared, Unit, COL_GENDER, COL_WEIGHT, FEMALE, MALE};
use crate::stats::mix64;
use crate::{Error, Result, COMMIT, VERSION};

use super::cell::{CellSpec, CellStats};
use super::factor_weighted::factor_weighted_gap;
use super::suppression::{suppress, suppress_overall};
use super::{GapOptions, GapResult, GroupGap, GroupKey};

const COL_Y: &str = "__y";
/// Upper bound on bootstrap replicates (memory: one f64 per replicate, gender and cell).
const MAX_BOOTSTRAP_REPS: usize = 100_000;

/// Computes raw gender pay gaps; see the module docs for the formulas.
///
/// Rows are validated and ledgered by [`crate::data::prepare`]; with an employee id the unit is the
/// employee (pay and hours summed over periods, so hourly pay = Σ pay / Σ hours), otherwise the row.
pub fn gap(data: &DataFrame, options: &GapOptions) -> Result<GapResult> {
    check_options(options)?;
    let factors = options.factors.clone().unwrap_or_else(|| options.by.clone());
    let mut keep: Vec<String> = options.by.clone();
    keep.extend(factors.iter().filter(|f| !options.by.contains(f)).cloned());
    let prepared = prepare(data, &options.prepare_spec(&keep, false))?;
    gap_prepared(&prepared, options)
}

/// The confidence level and the number of bootstrap replicates are in range.
pub(crate) fn check_options(options: &GapOptions) -> Result<()> {
    if !(options.confidence > 0.0 && options.confidence < 1.0) {
        return Err(Error::Invalid(format!("confidence must be between 0 and 1, got {}", options.confidence)));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = options.columns.pay.iter().find(|c| !seen.insert(c.as_str())) {
        return Err(Error::Invalid(format!(
            "pay column `{twice}` is listed twice; each pay component is summed once, so list it once"
        )));
    }
    if options.bootstrap_reps > MAX_BOOTSTRAP_REPS {
        return Err(Error::Invalid(format!(
            "bootstrap_reps = {} is more than {MAX_BOOTSTRAP_REPS}; 1,000 to 10,000 replicates give stable 95% intervals",
            options.bootstrap_reps
        )));
    }
    Ok(())
}

/// [`gap`] on units already validated by [`crate::data::prepare`] (the row filters, measure and unit of
/// `options` are those of the preparation; its kept columns must include `by` and `factors`). Several
/// analyses of one payroll share one validation pass this way.
pub fn gap_prepared(prepared: &Prepared, options: &GapOptions) -> Result<GapResult> {
    let factors = options.factors.clone().unwrap_or_else(|| options.by.clone());
    for column in options.by.iter().chain(&factors) {
        if !prepared.kept.contains(column) {
            return Err(Error::Invalid(format!("internal: column `{column}` was not kept by the preparation")));
        }
    }
    let warnings = prepared.warnings.clone();

    let units = with_measure(prepared, prepared.frame.clone())?;
    let whole = match &prepared.employee_id {
        Some(_) if !prepared.kept.is_empty() => with_measure(prepared, prepared.employees()?.frame)?,
        _ => units.clone(),
    };
    let labels = prepared.gender_labels.clone();
    let weighted = prepared.has_weight;

    // Overall figures and the breakdown's cells, computed concurrently.
    let whole_columns = UnitColumns::new(&whole, weighted)?;
    let columns = UnitColumns::new(&units, weighted)?;
    let (overall, by_cells) = rayon::join(
        || {
            let spec = whole_columns.spec(&labels, true, options, mix64(options.seed));
            CellStats::compute(&spec, 0..whole_columns.len())
        },
        || {
            if options.by.is_empty() {
                Ok(Vec::new())
            } else {
                cells(&units, &options.by, &columns, &labels, options, true)
            }
        },
    );
    let by_cells = by_cells?;
    let factor_cells = if factors.is_empty() || factors == options.by {
        None
    } else {
        Some(cells(&units, &factors, &columns, &labels, options, false)?)
    };
    let facts = GapFacts {
        ledger: prepared.ledger.clone(),
        warnings,
        measure: prepared.measure,
        unit: prepared.unit,
        weighted,
    };
    finite(publish(facts, GapCells { overall, by: by_cells, factors: factor_cells }, options))
}

/// What the validation established, published with the figures.
pub(crate) struct GapFacts {
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub measure: Measure,
    pub unit: Unit,
    pub weighted: bool,
}

/// The statistics of every cell: the whole population, the breakdown by `by` (in key order), and the
/// factor cells when `factors` differ from `by` (means only).
pub(crate) struct GapCells {
    pub overall: CellStats,
    pub by: Vec<(GroupKey, CellStats)>,
    pub factors: Option<Vec<(GroupKey, CellStats)>>,
}

/// The gap document from the cells' statistics: figures, suppression, warnings and the factor-weighted
/// gap (the same for units in memory and for streamed rows).
/// The result, or an error when a mean overflowed (pay values near 1e308 sum to infinity): an infinite
/// gap must not be published.
pub(crate) fn finite(result: GapResult) -> Result<GapResult> {
    let overflowed = result.overall.mean.values().chain(result.by.iter().flat_map(|g| g.figures.mean.values()));
    if overflowed.flatten().any(|m| !m.is_finite()) {
        return Err(Error::Invalid(
            "pay sums overflow (a mean is infinite): the pay values are far too large (about 1e300 or more); \
             check the pay column's unit and remove corrupt values"
                .into(),
        ));
    }
    Ok(result)
}

/// Most unmatched gender values named in the warning (the document's `n` lists them all).
const MAX_NAMED_GENDER_VALUES: usize = 20;

/// The warning naming every gender value that matched neither the female nor the male values, with its
/// count of units: such units stay in `n` under their own value but are not in any gap. Built from the
/// merged overall cell, so in-memory and streamed documents carry the same warning.
fn unmatched_gender_warning(overall: &CellStats) -> Option<String> {
    let unmatched: Vec<String> = overall
        .groups
        .iter()
        .filter(|g| g.label != FEMALE && g.label != MALE && g.moments.n > 0)
        .map(|g| format!("`{}` ({})", g.label, g.moments.n))
        .collect();
    if unmatched.is_empty() {
        return None;
    }
    let more = unmatched.len().saturating_sub(MAX_NAMED_GENDER_VALUES);
    let mut named = unmatched.into_iter().take(MAX_NAMED_GENDER_VALUES).collect::<Vec<_>>().join(", ");
    if more > 0 {
        named.push_str(&format!(" and {more} more"));
    }
    Some(format!(
        "gender value(s) {named} match neither the female nor the male values: those units are counted in n \
         but left out of every gap; hint: if they are women or men, list them under [gender_values] female/male"
    ))
}

pub(crate) fn publish(facts: GapFacts, cells: GapCells, options: &GapOptions) -> GapResult {
    let GapFacts { ledger, mut warnings, measure, unit, weighted } = facts;
    let GapCells { overall, by: by_cells, factors: factor_cells } = cells;
    let factors = options.factors.clone().unwrap_or_else(|| options.by.clone());
    let (n_f, n_m) = overall.counts_fm();
    if n_f == 0 || n_m == 0 {
        warnings.push(format!(
            "the data has {n_f} women and {n_m} men after validation: a gap needs both, so the gaps are null"
        ));
    } else if options.min_cell > 0 && (n_f < options.min_cell || n_m < options.min_cell) {
        warnings.push(format!(
            "only {n_f} women and {n_m} men in total (fewer than min_cell = {}): individual pay may be inferred from the overall figures",
            options.min_cell
        ));
    }

    if let Some(warning) = unmatched_gender_warning(&overall) {
        warnings.push(warning);
    }

    let mut overall_figures = overall.figures(options.confidence);
    let withheld = suppress_overall(&mut overall_figures, options.min_cell);
    if !withheld.is_empty() {
        warnings.push(format!(
            "mean and median pay of gender group(s) {} withheld: fewer than min_cell = {} in total",
            withheld.join(", "),
            options.min_cell
        ));
    }

    // Breakdown: publish and suppress.
    let mut by: Vec<GroupGap> = by_cells
        .iter()
        .map(|(group, stats)| GroupGap {
            group: group.clone(),
            figures: stats.figures(options.confidence),
            suppressed: false,
            suppression: None,
        })
        .collect();
    let counts: Vec<(u64, u64)> = by_cells.iter().map(|(_, s)| s.counts_fm()).collect();
    let (suppressed, other_genders_withheld) = suppress(&mut by, &counts, options.min_cell);
    if suppressed > 0 {
        warnings.push(format!(
            "{suppressed} group(s) suppressed: fewer than {} women or men, or withheld so that a small group cannot be recovered from the totals",
            options.min_cell
        ));
    }
    if other_genders_withheld > 0 {
        warnings.push(format!(
            "mean and median pay of other gender values withheld in {other_genders_withheld} group(s): fewer than {} of them, or withheld so that it cannot be recovered from the overall figures",
            options.min_cell
        ));
    }

    // Factor-weighted gap over the factor subgroups (reusing the breakdown when they coincide).
    let (factor_weighted_gap_pct, factor_weighted) = if factors.is_empty() {
        (None, None)
    } else {
        let factor_cells = factor_cells.unwrap_or(by_cells);
        let (estimate, detail) = factor_weighted_gap(&factor_cells, &factors, options.confidence);
        (Some(estimate), Some(detail))
    };

    GapResult {
        kind: "gap".into(),
        version: VERSION.into(),
        commit: COMMIT.into(),
        ledger,
        warnings,
        measure,
        unit,
        weighted,
        by_columns: options.by.clone(),
        min_cell: options.min_cell,
        confidence: options.confidence,
        bootstrap_reps: options.bootstrap_reps,
        seed: options.seed,
        overall: overall_figures,
        by,
        factor_weighted_gap_pct,
        factor_weighted,
    }
}

/// Adds the measure column `__y`.
fn with_measure(prepared: &Prepared, frame: DataFrame) -> Result<DataFrame> {
    Ok(frame.lazy().with_column(prepared.measure_expr().alias(COL_Y)).collect()?)
}

/// Contiguous columns of the units: measure, weight and gender code (borrowed from the frame, not copied;
/// validation guarantees they have no nulls).
struct UnitColumns {
    y: Float64Chunked,
    w: Option<Float64Chunked>,
    codes: UInt32Chunked,
}

fn contiguous<T: PolarsNumericType>(column: &ChunkedArray<T>, name: &str) -> Result<ChunkedArray<T>> {
    let column = column.rechunk().into_owned();
    if column.null_count() > 0 {
        return Err(Error::Invalid(format!("internal: column {name} has nulls after validation")));
    }
    Ok(column)
}

impl UnitColumns {
    fn new(frame: &DataFrame, weighted: bool) -> Result<UnitColumns> {
        let y = contiguous(frame.column(COL_Y)?.f64()?, COL_Y)?;
        let w = if weighted { Some(contiguous(frame.column(COL_WEIGHT)?.f64()?, COL_WEIGHT)?) } else { None };
        let codes = contiguous(frame.column(COL_GENDER)?.u32()?, COL_GENDER)?;
        Ok(UnitColumns { y, w, codes })
    }

    fn len(&self) -> usize {
        self.y.len()
    }

    fn spec<'a>(&'a self, labels: &'a [String], with_medians: bool, options: &GapOptions, seed: u64) -> CellSpec<'a> {
        let slice = |c: &'a Float64Chunked| c.cont_slice().expect("rechunked without nulls");
        CellSpec {
            y: slice(&self.y),
            w: self.w.as_ref().map(slice),
            codes: self.codes.cont_slice().expect("rechunked without nulls"),
            labels,
            with_medians,
            reps: options.bootstrap_reps,
            seed,
        }
    }
}

/// Row indices of one group.
enum GroupRows<'a> {
    Idx(&'a [IdxSize]),
    Range(usize, usize),
}

/// The cells of a breakdown by `keys`, in key order, computed in parallel.
fn cells(
    frame: &DataFrame,
    keys: &[String],
    columns: &UnitColumns,
    labels: &[String],
    options: &GapOptions,
    with_medians: bool,
) -> Result<Vec<(GroupKey, CellStats)>> {
    let grouped = frame.group_by_stable(keys.iter().map(String::as_str))?;
    let key_columns: Vec<StringChunked> =
        grouped.keys().iter().map(|c| Ok(c.cast(&DataType::String)?.str()?.clone())).collect::<Result<_>>()?;
    let rows: Vec<GroupRows<'_>> = match &**grouped.get_groups() {
        GroupsType::Idx(idx) => idx.all().iter().map(|g| GroupRows::Idx(g.as_slice())).collect(),
        GroupsType::Slice { groups, .. } => {
            groups.iter().map(|[first, len]| GroupRows::Range(*first as usize, *len as usize)).collect()
        }
    };
    let groups: Vec<GroupKey> = (0..rows.len())
        .map(|g| keys.iter().zip(&key_columns).map(|(k, c)| (k.clone(), c.get(g).map(String::from))).collect())
        .collect();
    let stats: Vec<CellStats> = rows
        .par_iter()
        .zip(groups.par_iter())
        .map(|(rows, group)| {
            let spec = columns.spec(labels, with_medians, options, cell_seed(options, group));
            match rows {
                GroupRows::Idx(idx) => CellStats::compute(&spec, idx.iter().map(|&i| i as usize)),
                GroupRows::Range(first, len) => CellStats::compute(&spec, *first..*first + *len),
            }
        })
        .collect();
    let mut cells: Vec<_> = groups.into_iter().zip(stats).collect();
    // Published in key order (nulls first), whatever the order of first appearance.
    cells.sort_by(|a, b| a.0.values().cmp(b.0.values()));
    Ok(cells)
}

/// The bootstrap seed of a breakdown cell: from the options' seed and the cell's key, so that a cell's
/// stream does not depend on thread order or on how the rows arrived.
pub(crate) fn cell_seed(options: &GapOptions, group: &GroupKey) -> u64 {
    let key = serde_json::to_string(group).unwrap_or_default();
    mix64(options.seed ^ fnv1a(key.as_bytes()))
}

/// FNV-1a: a stable hash of a cell's key, so a cell's bootstrap stream does not depend on thread order.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Unit as U;

    fn options() -> GapOptions {
        let mut o = GapOptions::default();
        o.columns.pay = vec!["pay".into()];
        o.columns.hours = Some("hours".into());
        o.min_cell = 0;
        o.bootstrap_reps = 0;
        o
    }

    #[test]
    fn employee_units_sum_pay_and_hours_over_periods() {
        let frame = df!(
            "employee_id" => ["a", "a", "b", "c"],
            "period" => ["1", "2", "1", "1"],
            "gender" => ["F", "F", "M", "M"],
            "pay" => [100.0, 300.0, 250.0, 150.0],
            "hours" => [10.0, 10.0, 10.0, 10.0],
        )
        .unwrap();
        let result = gap(&frame, &options()).unwrap();
        assert_eq!(result.unit, U::Employee);
        // Woman: 400 / 20 = 20; men 25 and 15 → mean 20; gap 0.
        assert_eq!(result.overall.n["F"], Some(1));
        assert!((result.overall.mean["F"].unwrap() - 20.0).abs() < 1e-12);
        assert!(result.overall.mean_gap_pct.estimate.unwrap().abs() < 1e-12);
        assert!(result.ledger.balances());
    }

    #[test]
    fn scaling_pay_leaves_percentage_gaps_unchanged() {
        let frame = df!(
            "gender" => ["F", "F", "F", "M", "M", "M"],
            "unit" => ["a", "b", "a", "b", "a", "b"],
            "pay" => [10.0, 12.0, 17.0, 15.0, 20.0, 26.0],
            "hours" => [1.0; 6],
        )
        .unwrap();
        let scaled = frame.clone().lazy().with_column(col("pay") * lit(3.7)).collect().unwrap();
        let mut o = options();
        o.by = vec!["unit".into()];
        let a = gap(&frame, &o).unwrap();
        let b = gap(&scaled, &o).unwrap();
        let close = |x: Option<f64>, y: Option<f64>| (x.unwrap() - y.unwrap()).abs() < 1e-10;
        assert!(close(a.overall.mean_gap_pct.estimate, b.overall.mean_gap_pct.estimate));
        assert!(close(a.overall.mean_gap_pct.se, b.overall.mean_gap_pct.se));
        assert!(close(a.overall.median_gap_pct.estimate, b.overall.median_gap_pct.estimate));
        assert!(close(a.by[0].figures.mean_gap_pct.estimate, b.by[0].figures.mean_gap_pct.estimate));
    }
}
