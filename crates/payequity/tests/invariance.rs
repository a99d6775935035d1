//! Properties every gap result must have: row order does not matter, scaling pay by a constant leaves
//! percentage gaps unchanged, and the ledger always balances.

use payequity::gap::{gap, GapOptions};
use payequity::polars::prelude::*;
use proptest::prelude::*;

fn frame(rows: &[(bool, u8, f64, f64)]) -> DataFrame {
    df!(
        "gender" => rows.iter().map(|r| if r.0 { "F" } else { "M" }).collect::<Vec<_>>(),
        "unit" => rows.iter().map(|r| format!("u{}", r.1 % 3)).collect::<Vec<_>>(),
        "pay" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "hours" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn options() -> GapOptions {
    let mut o = GapOptions::default();
    o.columns.pay = vec!["pay".into()];
    o.columns.hours = Some("hours".into());
    o.by = vec!["unit".into()];
    o.min_cell = 0;
    o.bootstrap_reps = 20;
    o
}

fn close(a: Option<f64>, b: Option<f64>, tol: f64) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0),
        (None, None) => true,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn row_order_and_pay_scale_do_not_change_gaps(
        rows in proptest::collection::vec((any::<bool>(), 0u8..6, -5.0f64..400.0, -1.0f64..40.0), 1..120),
        rotate in 0usize..120,
        scale in 0.01f64..100.0,
    ) {
        let base = gap(&frame(&rows), &options()).unwrap();
        prop_assert!(base.ledger.balances());
        prop_assert_eq!(base.ledger.read, rows.len() as u64);

        let mut rotated = rows.clone();
        let k = rotate % rows.len();
        rotated.rotate_left(k);
        let permuted = gap(&frame(&rotated), &options()).unwrap();
        prop_assert_eq!(&permuted.ledger, &base.ledger);
        prop_assert!(close(permuted.overall.mean_gap_pct.estimate, base.overall.mean_gap_pct.estimate, 1e-10));
        prop_assert_eq!(permuted.overall.median_gap_pct.estimate, base.overall.median_gap_pct.estimate);
        // Bootstrap streams are keyed by seed and cell, not by row position of the cell.
        prop_assert_eq!(permuted.by.len(), base.by.len());
        for (a, b) in permuted.by.iter().zip(&base.by) {
            prop_assert_eq!(&a.group, &b.group);
            prop_assert!(close(a.figures.mean_gap_pct.estimate, b.figures.mean_gap_pct.estimate, 1e-10));
            prop_assert_eq!(a.figures.median_gap_pct.estimate, b.figures.median_gap_pct.estimate);
        }

        let scaled_rows: Vec<_> = rows.iter().map(|r| (r.0, r.1, r.2 * scale, r.3)).collect();
        let scaled = gap(&frame(&scaled_rows), &options()).unwrap();
        prop_assert!(close(scaled.overall.mean_gap_pct.estimate, base.overall.mean_gap_pct.estimate, 1e-9));
        prop_assert!(close(scaled.overall.mean_gap_pct.se, base.overall.mean_gap_pct.se, 1e-9));
        prop_assert!(close(scaled.overall.median_gap_pct.estimate, base.overall.median_gap_pct.estimate, 1e-9));
    }
}
