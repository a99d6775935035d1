//! Pay quartile bands (EU Art. 9(1)(f); UK regulation 10): employees ranked by pay level, split into four
//! bands as equal in size as possible (band 1 the lowest paid; when n is not a multiple of 4 the lower bands
//! take the extra employees), and the UK tie rule: employees with the same pay who straddle a band boundary
//! are spread so that each band concerned gets the same proportion of women and men as the whole block of
//! that rate, as far as whole numbers allow (largest remainders).

use serde::{Deserialize, Serialize};

/// Women and men in one band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuartileBand {
    /// 1 = lowest paid.
    pub band: u8,
    pub n: u64,
    pub women: u64,
    pub men: u64,
    #[serde(rename = "F_pct")]
    pub f_pct: Option<f64>,
    #[serde(rename = "M_pct")]
    pub m_pct: Option<f64>,
}

/// Band sizes for n employees: as equal as possible, extras to the lower bands.
pub fn band_sizes(n: u64) -> [u64; 4] {
    let base = n / 4;
    let extra = n % 4;
    std::array::from_fn(|i| base + u64::from((i as u64) < extra))
}

/// Splits `total` into parts proportional to `weights` (summing to `total`) by largest remainders; ties go
/// to the earlier part.
fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u64 = weights.iter().sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|&w| total as f64 * w as f64 / sum as f64).collect();
    let mut parts: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let mut left = total - parts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &i in &order {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// Quartile bands of `(pay, is_woman)` pairs (any order). Pay must be finite.
///
/// ```
/// use payequity::transparency::quartile_bands;
/// // 8 employees; ranks 2–5 share the rate 20 (2 women, 2 men) and straddle the band-1/2 and band-2/3
/// // boundaries: bands 1..4 hold ranks {1,2}, {3,4}, {5,6}, {7,8}. The block of rate 20 covers one place in
/// // band 1, two in band 2, one in band 3; women are spread 1:2:1 × 1/2 → band 2 gets one woman and one man.
/// let people = [(10.0, true), (20.0, true), (20.0, true), (20.0, false), (20.0, false), (30.0, false),
///               (40.0, false), (50.0, true)];
/// let bands = quartile_bands(&people);
/// assert_eq!((bands[1].women, bands[1].men), (1, 1));
/// assert_eq!(bands.iter().map(|b| b.women).sum::<u64>(), 4);
/// ```
pub fn quartile_bands(people: &[(f64, bool)]) -> [QuartileBand; 4] {
    let mut sorted: Vec<(f64, bool)> = people.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = sorted.len() as u64;
    let sizes = band_sizes(n);
    // Band boundaries as cumulative positions.
    let mut ends = [0u64; 4];
    let mut acc = 0;
    for (i, s) in sizes.iter().enumerate() {
        acc += s;
        ends[i] = acc;
    }
    let band_of = |position: u64| ends.iter().position(|&e| position < e).unwrap_or(3);
    let mut women = [0u64; 4];
    let mut men = [0u64; 4];
    let mut start = 0usize;
    while start < sorted.len() {
        let mut end = start + 1;
        while end < sorted.len() && sorted[end].0 == sorted[start].0 {
            end += 1;
        }
        let block_women = sorted[start..end].iter().filter(|p| p.1).count() as u64;
        // Places of this block in each band.
        let mut places = [0u64; 4];
        for position in start..end {
            places[band_of(position as u64)] += 1;
        }
        let spread = apportion(block_women, &places);
        for b in 0..4 {
            women[b] += spread[b];
            men[b] += places[b] - spread[b];
        }
        start = end;
    }
    std::array::from_fn(|i| {
        let total = women[i] + men[i];
        let pct = |x: u64| (total > 0).then(|| 100.0 * x as f64 / total as f64);
        QuartileBand {
            band: i as u8 + 1,
            n: total,
            women: women[i],
            men: men[i],
            f_pct: pct(women[i]),
            m_pct: pct(men[i]),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_as_equal_as_possible() {
        assert_eq!(band_sizes(8), [2, 2, 2, 2]);
        assert_eq!(band_sizes(10), [3, 3, 2, 2]);
        assert_eq!(band_sizes(3), [1, 1, 1, 0]);
    }

    #[test]
    fn a_block_of_one_rate_spanning_every_band_is_spread_evenly() {
        // 12 people on one rate, 6 women: each band of 3 places is owed 1.5 women; the remainders tie, so
        // the earlier bands take the extra ones.
        let people: Vec<(f64, bool)> = (0..12).map(|i| (15.0, i % 2 == 0)).collect();
        let bands = quartile_bands(&people);
        assert_eq!(bands.map(|b| b.women), [2, 2, 1, 1]);
        assert_eq!(bands.map(|b| b.n), [3, 3, 3, 3]);
    }

    #[test]
    fn distinct_rates_are_ranked_plainly() {
        let people = [(1.0, true), (2.0, false), (3.0, true), (4.0, false)];
        let bands = quartile_bands(&people);
        assert_eq!(bands.map(|b| b.women), [1, 0, 1, 0]);
        assert_eq!(bands[0].f_pct, Some(100.0));
    }
}
