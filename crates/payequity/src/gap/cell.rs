//! Statistics of one cell (a population or a group of it) by gender, and the gap figures derived from them.

use std::collections::BTreeMap;

use crate::data::{FEMALE, MALE};
use crate::stats::{median_bootstrap, t_quantile, Estimate, MeanMoments, MedianSample};

use super::GapFigures;

/// One gender group of a cell: mergeable mean moments, the exact median and its bootstrap replicates.
#[derive(Debug, Clone, PartialEq)]
pub struct GenderStats {
    pub label: String,
    pub moments: MeanMoments,
    pub median: Option<f64>,
    pub replicates: Vec<f64>,
}

/// Statistics of one cell for every gender group present (women and men always, possibly empty).
#[derive(Debug, Clone, PartialEq)]
pub struct CellStats {
    pub groups: Vec<GenderStats>,
}

/// How to compute a cell.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CellSpec<'a> {
    pub y: &'a [f64],
    pub w: Option<&'a [f64]>,
    /// Gender code of each unit: index into `labels` (0 = F, 1 = M, then other values).
    pub codes: &'a [u32],
    pub labels: &'a [String],
    pub with_medians: bool,
    pub reps: usize,
    pub seed: u64,
}

impl CellStats {
    /// Computes the cell over the given unit indices.
    pub(crate) fn compute(spec: &CellSpec<'_>, rows: impl Iterator<Item = usize> + Clone) -> CellStats {
        let k = spec.labels.len();
        // Count first so that each gender's values go into one exact allocation.
        let mut counts = vec![0usize; k];
        for i in rows.clone() {
            counts[spec.codes[i] as usize] += 1;
        }
        let mut ys: Vec<Vec<f64>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
        let mut ws: Vec<Vec<f64>> =
            counts.iter().map(|&c| Vec::with_capacity(if spec.w.is_some() { c } else { 0 })).collect();
        for i in rows {
            let g = spec.codes[i] as usize;
            ys[g].push(spec.y[i]);
            if let Some(w) = spec.w {
                ws[g].push(w[i]);
            }
        }
        let groups = ys
            .into_iter()
            .zip(ws)
            .enumerate()
            .filter(|(g, y)| *g < 2 || !y.0.is_empty())
            .map(|(g, (y, w))| {
                let weights = spec.w.map(|_| w.as_slice());
                let moments = MeanMoments::from_slice(&y, weights);
                let (median, replicates) = if spec.with_medians {
                    let mut sample = match spec.w {
                        None => MedianSample::Unweighted(y),
                        Some(_) => MedianSample::Weighted(y.into_iter().zip(w).collect()),
                    };
                    let median = sample.median();
                    let seed = crate::stats::mix64(spec.seed ^ (g as u64).wrapping_mul(0xA076_1D64_78BD_642F));
                    (median, median_bootstrap(&mut sample, spec.reps, seed))
                } else {
                    (None, Vec::new())
                };
                GenderStats { label: spec.labels[g].clone(), moments, median, replicates }
            })
            .collect();
        CellStats { groups }
    }

    fn group(&self, label: &str) -> Option<&GenderStats> {
        self.groups.iter().find(|g| g.label == label && g.moments.n > 0)
    }

    /// Units of women and men (the smaller decides suppression).
    pub fn counts_fm(&self) -> (u64, u64) {
        let n = |l: &str| self.group(l).map_or(0, |g| g.moments.n);
        (n(FEMALE), n(MALE))
    }

    /// Σ weights of women and men.
    pub fn weight_fm(&self) -> f64 {
        [FEMALE, MALE].iter().filter_map(|l| self.group(l)).map(|g| g.moments.sum_w).sum()
    }

    /// The mean gap in percent with its delta-method standard error and Welch degrees of freedom.
    ///
    /// gap = 100 (1 − m_F / m_M); Var ≈ 100² (V_F / m_M² + m_F² V_M / m_M⁴), V_g the variance of the mean.
    pub fn mean_gap(&self, confidence: f64) -> (Estimate, Estimate) {
        let (Some(f), Some(m)) = (self.group(FEMALE), self.group(MALE)) else {
            return (Estimate::null(), Estimate::null());
        };
        let (mf, mm) = (f.moments.mean, m.moments.mean);
        let difference = mm - mf;
        let gap = (mm != 0.0).then(|| 100.0 * difference / mm);
        let (Some(vf), Some(vm)) = (f.moments.var_of_mean(), m.moments.var_of_mean()) else {
            return (Estimate::point(gap), Estimate::point(Some(difference)));
        };
        // Welch–Satterthwaite degrees of freedom.
        let (nf, nm) = (f.moments.n as f64, m.moments.n as f64);
        let denominator = vf * vf / (nf - 1.0) + vm * vm / (nm - 1.0);
        let df = if denominator > 0.0 { (vf + vm).powi(2) / denominator } else { f64::INFINITY };
        let q = t_quantile(0.5 + confidence / 2.0, df);
        let se_difference = (vf + vm).sqrt();
        let se_gap = gap.map(|_| 100.0 * (vf / (mm * mm) + mf * mf * vm / mm.powi(4)).sqrt());
        (Estimate::symmetric(gap, se_gap, q), Estimate::symmetric(Some(difference), Some(se_difference), q))
    }

    /// The median gap in percent; SE and percentile CI from the paired bootstrap replicates.
    pub fn median_gap(&self, confidence: f64) -> Estimate {
        let (Some(f), Some(m)) = (self.group(FEMALE), self.group(MALE)) else {
            return Estimate::null();
        };
        let (Some(mf), Some(mm)) = (f.median, m.median) else {
            return Estimate::null();
        };
        let gap = (mm != 0.0).then(|| 100.0 * (mm - mf) / mm);
        let mut replicates: Vec<f64> = f
            .replicates
            .iter()
            .zip(&m.replicates)
            .filter(|(_, m)| **m != 0.0)
            .map(|(f, m)| 100.0 * (m - f) / m)
            .collect();
        if gap.is_none() || replicates.len() < 2 {
            return Estimate::point(gap);
        }
        let r = replicates.len() as f64;
        let mean = replicates.iter().sum::<f64>() / r;
        let se = (replicates.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r - 1.0)).sqrt();
        replicates.sort_unstable_by(f64::total_cmp);
        let alpha = 1.0 - confidence;
        Estimate {
            estimate: gap,
            se: Some(se),
            ci_low: Some(percentile(&replicates, alpha / 2.0)),
            ci_high: Some(percentile(&replicates, 1.0 - alpha / 2.0)),
        }
    }

    /// The published figures of the cell.
    pub fn figures(&self, confidence: f64) -> GapFigures {
        let (mean_gap_pct, mean_difference) = self.mean_gap(confidence);
        let mut n = BTreeMap::new();
        let mut weighted_n = BTreeMap::new();
        let mut mean = BTreeMap::new();
        let mut median = BTreeMap::new();
        for g in &self.groups {
            let present = g.moments.n > 0;
            n.insert(g.label.clone(), Some(g.moments.n));
            weighted_n.insert(g.label.clone(), Some(g.moments.sum_w));
            mean.insert(g.label.clone(), present.then_some(g.moments.mean));
            median.insert(g.label.clone(), g.median);
        }
        GapFigures {
            mean_gap_pct,
            median_gap_pct: self.median_gap(confidence),
            mean_difference,
            n,
            weighted_n,
            mean,
            median,
        }
    }
}

/// Linear-interpolation percentile of sorted values (Hyndman & Fan type 7, numpy's default).
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(y: &[f64], codes: &[u32]) -> CellStats {
        let labels = vec!["F".to_string(), "M".to_string(), "X".to_string()];
        let spec = CellSpec { y, w: None, codes, labels: &labels, with_medians: true, reps: 0, seed: 1 };
        CellStats::compute(&spec, 0..y.len())
    }

    #[test]
    fn hand_worked_cell() {
        // Women 10, 12, 14 (mean 12, median 12, s² = 4); men 15, 20, 25 (mean 20, median 20, s² = 25).
        let c = cell(&[10.0, 12.0, 14.0, 15.0, 20.0, 25.0, 30.0], &[0, 0, 0, 1, 1, 1, 2]);
        let (gap, diff) = c.mean_gap(0.95);
        assert!((gap.estimate.unwrap() - 40.0).abs() < 1e-12);
        assert!((diff.estimate.unwrap() - 8.0).abs() < 1e-12);
        // Var(m_F) = 4/3, Var(m_M) = 25/3: se_gap = 100 sqrt(4/3/400 + 144·25/3/160000).
        let se = 100.0 * ((4.0f64 / 3.0) / 400.0 + 144.0 * (25.0 / 3.0) / 160_000.0).sqrt();
        assert!((gap.se.unwrap() - se).abs() < 1e-12);
        assert!((diff.se.unwrap() - (29.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((c.median_gap(0.95).estimate.unwrap() - 40.0).abs() < 1e-12);
        assert_eq!(c.counts_fm(), (3, 3));
        let figures = c.figures(0.95);
        assert_eq!(figures.n["X"], Some(1));
    }

    #[test]
    fn no_women_gives_null_gaps() {
        let c = cell(&[15.0, 20.0], &[1, 1]);
        assert_eq!(c.mean_gap(0.95).0, Estimate::null());
        assert_eq!(c.median_gap(0.95), Estimate::null());
        assert_eq!(c.figures(0.95).n["F"], Some(0));
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.5), 2.5);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert!((percentile(&v, 0.025) - 1.075).abs() < 1e-12);
    }
}
