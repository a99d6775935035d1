//! The gap result as one flat table (overall row first, then the breakdown): the CSV output and the
//! Python `to_polars()` shape.

use polars::prelude::*;

use crate::data::{FEMALE, MALE};
use crate::Result;

use super::{GapFigures, GapResult};

/// One row per published cell; columns `level`, the grouping columns, `n_F`, `n_M`, `mean_F`, `mean_M`,
/// `median_F`, `median_M`, then `mean_gap_pct`, `median_gap_pct` with `_se`, `_ci_low`, `_ci_high`, and
/// `suppressed`.
pub fn gap_table(result: &GapResult) -> Result<DataFrame> {
    let rows: Vec<(
        &str,
        Option<&std::collections::BTreeMap<String, Option<String>>>,
        &GapFigures,
        bool,
    )> = std::iter::once(("overall", None, &result.overall, false))
        .chain(
            result
                .by
                .iter()
                .map(|g| ("group", Some(&g.group), &g.figures, g.suppressed)),
        )
        .collect();
    let mut columns: Vec<Column> = Vec::new();
    columns.push(Column::new(
        "level".into(),
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
    ));
    for key in &result.by_columns {
        let values: Vec<Option<String>> = rows
            .iter()
            .map(|r| r.1.and_then(|g| g.get(key).cloned().flatten()))
            .collect();
        columns.push(Column::new(key.as_str().into(), values));
    }
    for label in [FEMALE, MALE] {
        let n: Vec<Option<u64>> = rows
            .iter()
            .map(|r| r.2.n.get(label).copied().flatten())
            .collect();
        columns.push(Column::new(format!("n_{label}").into(), n));
    }
    for (name, pick) in [("mean", 0), ("median", 1)] {
        for label in [FEMALE, MALE] {
            let values: Vec<Option<f64>> = rows
                .iter()
                .map(|r| {
                    if pick == 0 { &r.2.mean } else { &r.2.median }
                        .get(label)
                        .copied()
                        .flatten()
                })
                .collect();
            columns.push(Column::new(format!("{name}_{label}").into(), values));
        }
    }
    for (name, pick) in [("mean_gap_pct", 0), ("median_gap_pct", 1)] {
        let estimate = |r: &GapFigures| {
            if pick == 0 {
                r.mean_gap_pct
            } else {
                r.median_gap_pct
            }
        };
        let stem = name.trim_end_matches("_pct");
        let fields: [(String, fn(&crate::stats::Estimate) -> Option<f64>); 4] = [
            (name.to_string(), |e| e.estimate),
            (format!("{stem}_se"), |e| e.se),
            (format!("{stem}_ci_low"), |e| e.ci_low),
            (format!("{stem}_ci_high"), |e| e.ci_high),
        ];
        for (column, get) in fields {
            let values: Vec<Option<f64>> = rows.iter().map(|r| get(&estimate(r.2))).collect();
            columns.push(Column::new(column.into(), values));
        }
    }
    columns.push(Column::new(
        "suppressed".into(),
        rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    ));
    Ok(DataFrame::new_infer_height(columns)?)
}
