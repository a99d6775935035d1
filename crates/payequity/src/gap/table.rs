//! The gap result as one flat table (overall row first, then the breakdown): the CSV output and the
//! Python `to_polars()` shape.

use polars::prelude::*;

use crate::data::{FEMALE, MALE};
use crate::stats::Estimate;
use crate::Result;

use super::{GapFigures, GapResult, GroupKey};

/// One published cell of the flat table.
struct Row<'a> {
    level: &'static str,
    group: Option<&'a GroupKey>,
    figures: &'a GapFigures,
    suppressed: bool,
}

/// Reads one field of an estimate.
type EstimateField = fn(&Estimate) -> Option<f64>;

/// The four columns of an estimate: value, se, CI bounds.
const ESTIMATE_FIELDS: [(&str, EstimateField); 4] =
    [("", |e| e.estimate), ("_se", |e| e.se), ("_ci_low", |e| e.ci_low), ("_ci_high", |e| e.ci_high)];

/// One row per published cell; columns `level`, the grouping columns, `n_F`, `n_M`, `mean_F`, `mean_M`,
/// `median_F`, `median_M`, then `mean_gap_pct`, `median_gap_pct`, each followed by `_se`, `_ci_low`,
/// `_ci_high`, and `suppressed`.
pub fn gap_table(result: &GapResult) -> Result<DataFrame> {
    let overall = Row { level: "overall", group: None, figures: &result.overall, suppressed: false };
    let rows: Vec<Row<'_>> = std::iter::once(overall)
        .chain(result.by.iter().map(|g| Row {
            level: "group",
            group: Some(&g.group),
            figures: &g.figures,
            suppressed: g.suppressed,
        }))
        .collect();
    let mut columns = vec![Column::new("level".into(), rows.iter().map(|r| r.level).collect::<Vec<_>>())];
    for key in &result.by_columns {
        let values: Vec<Option<String>> =
            rows.iter().map(|r| r.group.and_then(|g| g.get(key).cloned().flatten())).collect();
        columns.push(Column::new(key.as_str().into(), values));
    }
    for label in [FEMALE, MALE] {
        let n: Vec<Option<u64>> = rows.iter().map(|r| r.figures.n.get(label).copied().flatten()).collect();
        columns.push(Column::new(format!("n_{label}").into(), n));
    }
    for (name, pick) in [("mean", 0), ("median", 1)] {
        for label in [FEMALE, MALE] {
            let values: Vec<Option<f64>> = rows
                .iter()
                .map(|r| {
                    let map = if pick == 0 { &r.figures.mean } else { &r.figures.median };
                    map.get(label).copied().flatten()
                })
                .collect();
            columns.push(Column::new(format!("{name}_{label}").into(), values));
        }
    }
    for (name, pick) in [("mean_gap", 0), ("median_gap", 1)] {
        for (suffix, get) in ESTIMATE_FIELDS {
            let values: Vec<Option<f64>> = rows
                .iter()
                .map(|r| get(if pick == 0 { &r.figures.mean_gap_pct } else { &r.figures.median_gap_pct }))
                .collect();
            let column = if suffix.is_empty() { format!("{name}_pct") } else { format!("{name}{suffix}") };
            columns.push(Column::new(column.into(), values));
        }
    }
    columns.push(Column::new("suppressed".into(), rows.iter().map(|r| r.suppressed).collect::<Vec<_>>()));
    Ok(DataFrame::new_infer_height(columns)?)
}
