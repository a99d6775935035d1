//! Disclosure control for published breakdowns: primary suppression of cells with fewer than `min_cell`
//! women or men, and complementary suppression so a lone suppressed cell cannot be recovered by
//! subtracting the other cells from the published total (shared/spec/transparency.md, "Disclosure control").

use std::collections::BTreeMap;

use crate::stats::Estimate;

use super::{GapFigures, GroupGap};

/// Suppresses cells in place; `counts[i]` is (women, men) of `cells[i]`. Returns the number suppressed.
///
/// ```text
///  cell  F   M          cell  F    M     suppression
///  A     40  35   →     A     40   35
///  B     3   20         B     null null  primary (3 < 10)
///  C     12  15         C     null null  complementary (next smallest)
/// ```
pub(crate) fn suppress(cells: &mut [GroupGap], counts: &[(u64, u64)], min_cell: u64) -> usize {
    if min_cell == 0 {
        return 0;
    }
    let small = |(f, m): (u64, u64)| f < min_cell || m < min_cell;
    let mut primary: Vec<usize> = (0..cells.len()).filter(|&i| small(counts[i])).collect();
    for &i in &primary {
        withhold(&mut cells[i], "primary");
    }
    // A single suppressed cell next to a published total is recoverable: withhold the next smallest too.
    if primary.len() == 1 && cells.len() > 1 {
        let next = (0..cells.len())
            .filter(|i| !primary.contains(i))
            .min_by_key(|&i| (counts[i].0.min(counts[i].1), counts[i].0 + counts[i].1, i));
        if let Some(i) = next {
            withhold(&mut cells[i], "complementary");
            primary.push(i);
        }
    }
    primary.len()
}

fn withhold(cell: &mut GroupGap, why: &str) {
    let blank = |m: &BTreeMap<String, Option<u64>>| m.keys().map(|k| (k.clone(), None)).collect();
    let blank_f = |m: &BTreeMap<String, Option<f64>>| m.keys().map(|k| (k.clone(), None)).collect();
    cell.figures = GapFigures {
        mean_gap_pct: Estimate::null(),
        median_gap_pct: Estimate::null(),
        mean_difference: Estimate::null(),
        n: blank(&cell.figures.n),
        weighted_n: blank_f(&cell.figures.weighted_n),
        mean: blank_f(&cell.figures.mean),
        median: blank_f(&cell.figures.median),
    };
    cell.suppressed = true;
    cell.suppression = Some(why.to_string());
}

impl super::GapResult {
    /// This result as published with `min_cell`: the breakdown's cells suppressed from their counts of
    /// women and men, as [`super::gap`] would have with that setting. For a result computed with
    /// `min_cell = 0`, so one computation serves an unsuppressed and a published table.
    pub fn with_min_cell(&self, min_cell: u64) -> super::GapResult {
        let mut result = self.clone();
        result.min_cell = min_cell;
        let count = |cell: &GroupGap, label: &str| cell.figures.n.get(label).copied().flatten().unwrap_or(0);
        let counts: Vec<(u64, u64)> = result.by.iter().map(|c| (count(c, "F"), count(c, "M"))).collect();
        suppress(&mut result.by, &counts, min_cell);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(name: &str) -> GroupGap {
        GroupGap {
            group: [("unit".to_string(), Some(name.to_string()))].into(),
            figures: GapFigures {
                mean_gap_pct: Estimate::point(Some(5.0)),
                median_gap_pct: Estimate::point(Some(4.0)),
                mean_difference: Estimate::point(Some(1.0)),
                n: [("F".to_string(), Some(3)), ("M".to_string(), Some(20))].into(),
                weighted_n: BTreeMap::new(),
                mean: [("F".to_string(), Some(1.0))].into(),
                median: BTreeMap::new(),
            },
            suppressed: false,
            suppression: None,
        }
    }

    #[test]
    fn lone_small_cell_gets_a_complementary_partner() {
        let mut cells = vec![cell("A"), cell("B"), cell("C")];
        let counts = [(40, 35), (3, 20), (12, 15)];
        assert_eq!(suppress(&mut cells, &counts, 10), 2);
        assert!(!cells[0].suppressed);
        assert_eq!(cells[1].suppression.as_deref(), Some("primary"));
        assert_eq!(cells[2].suppression.as_deref(), Some("complementary"));
        assert_eq!(cells[1].figures.n["F"], None);
        assert_eq!(cells[1].figures.mean_gap_pct, Estimate::null());
    }

    #[test]
    fn two_small_cells_need_no_complement_and_zero_disables() {
        let mut cells = vec![cell("A"), cell("B"), cell("C")];
        assert_eq!(suppress(&mut cells, &[(40, 35), (3, 20), (12, 5)], 10), 2);
        assert!(!cells[0].suppressed);
        let mut cells = vec![cell("A"), cell("B")];
        assert_eq!(suppress(&mut cells, &[(1, 1), (2, 2)], 0), 0);
    }
}
