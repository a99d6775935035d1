//! The ILO factor-weighted gender pay gap (ILO Global Wage Report 2018/19, ch. 6): gaps within subgroups
//! weighted by each subgroup's share of employment.

use serde::{Deserialize, Serialize};

use crate::stats::{normal_quantile, Estimate};

use super::cell::CellStats;
use super::GroupKey;

/// How the factor-weighted gap was formed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactorWeighted {
    /// The columns whose combinations form the subgroups.
    pub factors: Vec<String>,
    pub subgroups_used: usize,
    /// Subgroups without both women and men (excluded from the weighted sum).
    pub subgroups_excluded: usize,
    /// Share of employment (women and men) held by the excluded subgroups, in percent.
    pub excluded_employment_share_pct: f64,
    pub excluded: Vec<GroupKey>,
}

/// `FWGP = Σₖ sₖ · gapₖ` with `gapₖ = (mean_M,k − mean_F,k) / mean_M,k × 100` and `sₖ` the share of subgroup k
/// in the employment of the subgroups that have both women and men (weights renormalized after
/// excluding the others, which are reported). Standard error `√(Σ sₖ² seₖ²)` (independent subgroups,
/// shares taken as fixed); normal CI.
///
/// Example: subgroup a (gap 10 %, 30 workers) and b (gap 20 %, 10 workers) give 0.75·10 + 0.25·20 = 12.5 %.
pub fn factor_weighted_gap(
    cells: &[(GroupKey, CellStats)],
    factors: &[String],
    confidence: f64,
) -> (Estimate, FactorWeighted) {
    let total: f64 = cells.iter().map(|(_, c)| c.weight_fm()).sum();
    let mut used = Vec::new();
    let mut excluded = Vec::new();
    let mut excluded_weight = 0.0;
    for (group, cell) in cells {
        let (f, m) = cell.counts_fm();
        let (gap, _) = cell.mean_gap(confidence);
        match gap.estimate {
            Some(g) if f > 0 && m > 0 => used.push((cell.weight_fm(), g, gap.se)),
            _ => {
                excluded.push(group.clone());
                excluded_weight += cell.weight_fm();
            }
        }
    }
    let used_weight: f64 = used.iter().map(|u| u.0).sum();
    let estimate = (used_weight > 0.0).then(|| used.iter().map(|(w, g, _)| w / used_weight * g).sum::<f64>());
    let se = if used.iter().all(|u| u.2.is_some()) && used_weight > 0.0 {
        Some(used.iter().map(|(w, _, se)| (w / used_weight * se.unwrap_or(0.0)).powi(2)).sum::<f64>().sqrt())
    } else {
        None
    };
    let q = normal_quantile(0.5 + confidence / 2.0);
    let detail = FactorWeighted {
        factors: factors.to_vec(),
        subgroups_used: used.len(),
        subgroups_excluded: excluded.len(),
        excluded_employment_share_pct: if total > 0.0 { 100.0 * excluded_weight / total } else { 0.0 },
        excluded,
    };
    (Estimate::symmetric(estimate, se, q), detail)
}
