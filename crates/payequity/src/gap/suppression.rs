//! Disclosure control for published breakdowns: primary suppression of cells with fewer than `min_cell`
//! women or men, and complementary suppression so a lone suppressed cell cannot be recovered by
//! subtracting the other cells from the published total (shared/spec/transparency.md, "Disclosure control").

use std::collections::{BTreeMap, BTreeSet};

use crate::data::{FEMALE, MALE};
use crate::stats::Estimate;

use super::{GapFigures, GroupGap};

/// Which cells of a breakdown to withhold, from their counts of (women, men): `primary` for fewer than
/// `min_cell` of either, and `complementary` for the next smallest cell when a single cell is primary.
///
/// ```text
///  cell  F   M          cell  F    M     suppression
///  A     40  35   →     A     40   35
///  B     3   20         B     null null  primary (3 < 10)
///  C     12  15         C     null null  complementary (next smallest)
/// ```
pub(crate) fn cells_to_withhold(counts: &[(u64, u64)], min_cell: u64) -> Vec<(usize, &'static str)> {
    if min_cell == 0 {
        return Vec::new();
    }
    let small = |(f, m): (u64, u64)| f < min_cell || m < min_cell;
    let mut withheld: Vec<(usize, &'static str)> =
        (0..counts.len()).filter(|&i| small(counts[i])).map(|i| (i, "primary")).collect();
    // A single suppressed cell next to a published total is recoverable: withhold the next smallest too.
    if withheld.len() == 1 && counts.len() > 1 {
        let lone = withheld[0].0;
        let next = (0..counts.len())
            .filter(|&i| i != lone)
            .min_by_key(|&i| (counts[i].0.min(counts[i].1), counts[i].0 + counts[i].1, i));
        if let Some(i) = next {
            withheld.push((i, "complementary"));
        }
    }
    withheld
}

/// Which (cell, gender) pay figures to withhold for the gender values other than women and men (e.g. `X`),
/// from each cell's counts by gender (`None`: the cell is suppressed). The spec's cell rule counts women and
/// men only, and the other values are kept and reported (DESIGN.md, data contract), so their counts stay
/// published; but their mean and median are published next to the women's and men's, and with fewer than
/// `min_cell` members they would be the pay of a handful of people. When that leaves a single cell withheld
/// for the group while others publish it, the next smallest is withheld too, so the group's overall mean
/// and the published counts cannot give it away.
pub(crate) fn other_genders_to_withhold(
    counts: &[&BTreeMap<String, Option<u64>>],
    min_cell: u64,
) -> Vec<(usize, String)> {
    if min_cell == 0 {
        return Vec::new();
    }
    let labels: BTreeSet<&String> =
        counts.iter().flat_map(|c| c.keys()).filter(|k| k.as_str() != FEMALE && k.as_str() != MALE).collect();
    let mut withheld = Vec::new();
    for label in labels {
        let present: Vec<(usize, Option<u64>)> = counts
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.get(label).map(|&n| (i, n)))
            .filter(|&(_, n)| n != Some(0))
            .collect();
        let small: Vec<usize> =
            present.iter().filter(|(_, n)| n.is_none_or(|n| n < min_cell)).map(|&(i, _)| i).collect();
        let published = || present.iter().filter_map(|&(i, n)| n.map(|n| (i, n))).filter(|(i, _)| !small.contains(i));
        if small.len() == 1 {
            if let Some((i, _)) = published().min_by_key(|&(i, n)| (n, i)) {
                withheld.push((i, label.clone()));
            }
        }
        withheld.extend(
            present.iter().filter(|&&(i, n)| n.is_some() && small.contains(&i)).map(|&(i, _)| (i, label.clone())),
        );
    }
    withheld
}

/// Suppresses cells in place; `counts[i]` is (women, men) of `cells[i]`. Then withholds the pay figures
/// of the other gender values where they are too few ([`other_genders_to_withhold`]). Returns the number of
/// cells suppressed and the number of (cell, gender group) figures withheld besides.
pub(crate) fn suppress(cells: &mut [GroupGap], counts: &[(u64, u64)], min_cell: u64) -> (usize, usize) {
    let withheld = cells_to_withhold(counts, min_cell);
    for &(i, why) in &withheld {
        withhold(&mut cells[i], why);
    }
    let by_gender: Vec<&BTreeMap<String, Option<u64>>> = cells.iter().map(|c| &c.figures.n).collect();
    let others = other_genders_to_withhold(&by_gender, min_cell);
    for (i, label) in &others {
        withhold_pay_of(&mut cells[*i].figures, label);
    }
    (withheld.len(), others.len())
}

/// The figures of the whole population with the pay of the other gender values withheld where they are
/// too few (there is no total above the whole population, so no complementary cell is needed).
pub(crate) fn suppress_overall(figures: &mut GapFigures, min_cell: u64) -> Vec<String> {
    let labels: Vec<String> =
        other_genders_to_withhold(&[&figures.n], min_cell).into_iter().map(|(_, label)| label).collect();
    for label in &labels {
        withhold_pay_of(figures, label);
    }
    labels
}

/// Withholds one gender group's mean and median in a cell (its count stays published).
fn withhold_pay_of(figures: &mut GapFigures, label: &str) {
    for map in [&mut figures.mean, &mut figures.median] {
        if let Some(value) = map.get_mut(label) {
            *value = None;
        }
    }
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
        suppress_overall(&mut result.overall, min_cell);
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
        assert_eq!(suppress(&mut cells, &counts, 10), (2, 0));
        assert!(!cells[0].suppressed);
        assert_eq!(cells[1].suppression.as_deref(), Some("primary"));
        assert_eq!(cells[2].suppression.as_deref(), Some("complementary"));
        assert_eq!(cells[1].figures.n["F"], None);
        assert_eq!(cells[1].figures.mean_gap_pct, Estimate::null());
    }

    #[test]
    fn two_small_cells_need_no_complement_and_zero_disables() {
        let mut cells = vec![cell("A"), cell("B"), cell("C")];
        assert_eq!(suppress(&mut cells, &[(40, 35), (3, 20), (12, 5)], 10), (2, 0));
        assert!(!cells[0].suppressed);
        let mut cells = vec![cell("A"), cell("B")];
        assert_eq!(suppress(&mut cells, &[(1, 1), (2, 2)], 0), (0, 0));
    }

    fn counts(pairs: &[(&str, Option<u64>)]) -> BTreeMap<String, Option<u64>> {
        pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn few_other_gender_members_withhold_their_pay_with_a_complement() {
        // X: 3 in A (withheld), 25 in B and 12 in C (the smaller, C, withheld as complement), none in D.
        let a = counts(&[("F", Some(40)), ("M", Some(35)), ("X", Some(3))]);
        let b = counts(&[("F", Some(40)), ("M", Some(35)), ("X", Some(25))]);
        let c = counts(&[("F", Some(40)), ("M", Some(35)), ("X", Some(12))]);
        let d = counts(&[("F", Some(40)), ("M", Some(35))]);
        let mut withheld = other_genders_to_withhold(&[&a, &b, &c, &d], 10);
        withheld.sort();
        assert_eq!(withheld, vec![(0, "X".to_string()), (2, "X".to_string())]);
        // Two small cells need no complement; women and men are never touched here; 0 disables.
        let e = counts(&[("F", Some(40)), ("M", Some(35)), ("X", Some(1))]);
        let mut withheld = other_genders_to_withhold(&[&a, &b, &e], 10);
        withheld.sort();
        assert_eq!(withheld, vec![(0, "X".to_string()), (2, "X".to_string())]);
        assert!(other_genders_to_withhold(&[&a, &b], 0).is_empty());
        // A suppressed cell (counts null) already hides its X: a lone one still gets a complement.
        let hidden = counts(&[("F", None), ("M", None), ("X", None)]);
        assert_eq!(other_genders_to_withhold(&[&hidden, &b, &c], 10), vec![(2, "X".to_string())]);
    }

    #[test]
    fn withholding_other_genders_keeps_their_counts_and_the_gap() {
        let mut cells = vec![cell("A"), cell("B"), cell("C")];
        for (cell, x) in cells.iter_mut().zip([2, 30, 40]) {
            cell.figures.n.insert("X".into(), Some(x));
            cell.figures.mean.insert("X".into(), Some(9.0));
        }
        assert_eq!(suppress(&mut cells, &[(40, 35), (50, 20), (12, 15)], 10), (0, 2));
        assert_eq!(cells[0].figures.mean["X"], None);
        assert_eq!(cells[0].figures.n["X"], Some(2));
        assert_eq!(cells[1].figures.mean["X"], None, "complement: the next smallest X group");
        assert_eq!(cells[2].figures.mean["X"], Some(9.0));
        assert_eq!(cells[0].figures.mean["F"], Some(1.0));
        assert!(!cells[0].suppressed);
    }
}
