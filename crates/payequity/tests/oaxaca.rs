//! Properties of the Oaxaca-Blinder decomposition that hold whatever the data: chunking and row order do not
//! matter, detailed terms add up, Yun-normalized details do not depend on the base level, and bad input
//! gives a clear error or warning with every row accounted for.

use payequity::decompose::{finish, oaxaca, oaxaca_plan, GroupMoments, OaxacaOptions, OaxacaResult, SeMethod};
use payequity::polars::prelude::*;
use payequity::Error;

/// A planted population: log pay = 2.5 + 0.04·tenure + occupation effect + unit effect (+ 0.1 for men),
/// deterministic pseudo-random draws so the test data is the same on every machine.
fn payroll(n: usize) -> DataFrame {
    let mut state = 0x1234_5678_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let occupations = ["nurse", "midwife", "physician", "care_aide"];
    let units = ["icu", "ward", "community"];
    let (mut gender, mut tenure, mut age, mut occupation, mut unit, mut pay) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let male = next() < 0.35;
        let shares = if male { [0.25, 0.1, 0.4, 0.25] } else { [0.45, 0.25, 0.1, 0.2] };
        let u_occ = next();
        let occ = (0..4).find(|&i| u_occ < shares[..=i].iter().sum::<f64>()).unwrap_or(3);
        let u = (next() * 3.0) as usize % 3;
        let t = (next() * 30.0).floor();
        let a = 22.0 + t + (next() * 10.0).floor();
        let effect = [0.0, 0.05, 0.6, -0.3][occ] + [0.08, 0.0, -0.02][u];
        let noise = (next() - 0.5) * 0.4;
        gender.push(if male { "M" } else { "F" });
        tenure.push(t);
        age.push(a);
        occupation.push(occupations[occ]);
        unit.push(units[u]);
        pay.push((2.5 + 0.04 * t + effect + if male { 0.1 } else { 0.0 } + noise).exp());
    }
    df!("gender" => gender, "tenure" => tenure, "age" => age, "occupation" => occupation, "unit" => unit,
        "hourly_pay" => pay)
    .unwrap()
}

fn options() -> OaxacaOptions {
    OaxacaOptions {
        outcome: "hourly_pay".into(),
        log: true,
        group: "gender".into(),
        group_a: "M".into(),
        covariates: vec!["tenure".into(), "age".into()],
        categorical: vec!["occupation".into(), "unit".into()],
        ..Default::default()
    }
}

fn figures(r: &OaxacaResult) -> Vec<f64> {
    let mut out = vec![r.difference.estimate.unwrap(), r.difference.se.unwrap()];
    for t in &r.twofold.detailed {
        out.extend([t.explained.estimate.unwrap(), t.unexplained.estimate.unwrap(), t.explained.se.unwrap()]);
    }
    for t in &r.threefold.detailed {
        out.extend([t.endowments.estimate.unwrap(), t.coefficients.estimate.unwrap(), t.interaction.se.unwrap()]);
    }
    out
}

fn assert_close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())), "{x} vs {y}");
    }
}

#[test]
fn chunking_into_1_7_and_64_parts_and_permuting_rows_change_nothing() {
    let frame = payroll(3_000);
    let opts = options();
    let whole = oaxaca(&frame, &opts).unwrap();
    let plan = oaxaca_plan(&frame, &opts).unwrap();
    for parts in [1usize, 7, 64] {
        let size = frame.height().div_ceil(parts);
        let mut merged = GroupMoments::new(plan.design.k());
        for start in (0..frame.height()).step_by(size) {
            let chunk = frame.slice(start as i64, size);
            merged = merged.merge(plan.scan(&chunk, start as u64).unwrap()).unwrap();
        }
        let result = finish(&plan, merged, None, None, &opts).unwrap();
        assert_close(&figures(&result), &figures(&whole), 1e-10);
        assert_eq!(result.ledger, whole.ledger);
    }
    let reversed = frame.reverse();
    assert_close(&figures(&oaxaca(&reversed, &opts).unwrap()), &figures(&whole), 1e-10);
}

#[test]
fn detailed_terms_sum_to_their_components() {
    let r = oaxaca(&payroll(2_000), &options()).unwrap();
    let sum = |f: &dyn Fn(&payequity::decompose::TwofoldTerm) -> f64| r.twofold.detailed.iter().map(f).sum::<f64>();
    assert!((sum(&|t| t.explained.estimate.unwrap()) - r.twofold.explained.estimate.unwrap()).abs() < 1e-10);
    assert!((sum(&|t| t.unexplained.estimate.unwrap()) - r.twofold.unexplained.estimate.unwrap()).abs() < 1e-10);
    let t3 = &r.threefold;
    let total: f64 = t3
        .detailed
        .iter()
        .map(|t| t.endowments.estimate.unwrap() + t.coefficients.estimate.unwrap() + t.interaction.estimate.unwrap())
        .sum();
    assert!((total - r.difference.estimate.unwrap()).abs() < 1e-10);
    // A categorical group is the sum of its levels.
    let occupation = r.twofold.groups.iter().find(|g| g.term == "occupation").unwrap();
    let levels: f64 = r
        .twofold
        .detailed
        .iter()
        .filter(|t| t.term.starts_with("occupation:"))
        .map(|t| t.unexplained.estimate.unwrap())
        .sum();
    assert!((levels - occupation.unexplained.estimate.unwrap()).abs() < 1e-12);
}

#[test]
fn normalized_details_do_not_depend_on_the_base_level() {
    let frame = payroll(2_000);
    let first = oaxaca(&frame, &options()).unwrap();
    let mut other = options();
    other.base_levels.insert("occupation".into(), "physician".into());
    other.base_levels.insert("unit".into(), "ward".into());
    let second = oaxaca(&frame, &other).unwrap();
    assert_eq!(second.categorical[0].base, "physician");
    assert_close(&figures(&first), &figures(&second), 1e-9);
    // Without normalization the detailed unexplained terms do depend on the base (the identification problem).
    let (mut raw_first, mut raw_second) = (options(), other.clone());
    raw_first.normalize = false;
    raw_second.normalize = false;
    let (a, b) = (oaxaca(&frame, &raw_first).unwrap(), oaxaca(&frame, &raw_second).unwrap());
    let cons = |r: &OaxacaResult| r.twofold.detailed[0].unexplained.estimate.unwrap();
    assert!((cons(&a) - cons(&b)).abs() > 1e-4);
    assert!((a.twofold.unexplained.estimate.unwrap() - b.twofold.unexplained.estimate.unwrap()).abs() < 1e-10);
}

#[test]
fn logged_outcome_with_non_positive_values_is_ledgered_and_strict_refuses_it() {
    let mut frame = payroll(400);
    let pay: Vec<f64> = frame
        .column("hourly_pay")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .enumerate()
        .map(|(i, v)| if i % 50 == 3 { 0.0 } else { v })
        .collect();
    frame.replace("hourly_pay", Column::new("hourly_pay".into(), pay)).unwrap();
    let r = oaxaca(&frame, &options()).unwrap();
    assert_eq!(r.ledger.excluded["non_positive_outcome"], 8);
    assert_eq!(r.ledger.read, 400);
    assert_eq!(r.ledger.used, 392);
    let mut strict = options();
    strict.strict = true;
    match oaxaca(&frame, &strict).unwrap_err() {
        Error::Strict { reason, column, rows, .. } => {
            assert_eq!(reason, "non_positive_outcome");
            assert_eq!(column, "hourly_pay");
            assert_eq!(rows[0], 4);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn covariate_constant_within_a_group_is_dropped_with_a_warning() {
    let frame = df!("g" => ["a", "a", "a", "a", "b", "b", "b", "b"],
                    "x" => [1.0, 2.0, 3.0, 5.0, 1.0, 2.0, 4.0, 4.0],
                    "z" => [7.0, 7.0, 7.0, 7.0, 1.0, 2.0, 0.0, 3.0],
                    "y" => [2.0, 3.5, 4.0, 6.5, 1.0, 1.2, 2.5, 2.0])
    .unwrap();
    let opts = OaxacaOptions {
        outcome: "y".into(),
        group: "g".into(),
        group_a: "a".into(),
        covariates: vec!["x".into(), "z".into()],
        reference: "reimers".into(),
        ..Default::default()
    };
    let r = oaxaca(&frame, &opts).unwrap();
    assert!(r.warnings.iter().any(|w| w.contains("group A (`a`)") && w.contains("`z` omitted")), "{:?}", r.warnings);
    assert_eq!(r.coefficients.a.get("z"), Some(0.0));
    assert!(r.difference.estimate.unwrap().is_finite());
}

#[test]
fn group_with_fewer_rows_than_parameters_is_an_error_naming_it() {
    let frame = df!("g" => ["a", "a", "b", "b", "b", "b", "b"],
                    "x" => [1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 6.0],
                    "y" => [1.0, 2.0, 1.0, 2.5, 2.5, 4.0, 5.0])
    .unwrap();
    let opts = OaxacaOptions {
        outcome: "y".into(),
        group: "g".into(),
        group_a: "a".into(),
        covariates: vec!["x".into()],
        ..Default::default()
    };
    let err = oaxaca(&frame, &opts).unwrap_err().to_string();
    assert!(err.contains("group A (`a`)") && err.contains("2 observations for 2 parameters"), "{err}");
}

#[test]
fn all_null_covariate_is_an_error_and_null_values_are_ledgered() {
    let mut frame = payroll(300);
    frame.with_column(Column::new("bonus".into(), vec![None::<f64>; 300])).unwrap();
    let mut opts = options();
    opts.covariates.push("bonus".into());
    let err = oaxaca(&frame, &opts).unwrap_err().to_string();
    assert!(err.contains("`bonus`") && err.contains("all 300 rows are null"), "{err}");

    let some_null: Vec<Option<f64>> = (0..300).map(|i| if i % 10 == 0 { None } else { Some(i as f64) }).collect();
    frame.replace("bonus", Column::new("bonus".into(), some_null)).unwrap();
    let r = oaxaca(&frame, &opts).unwrap();
    assert_eq!(r.ledger.excluded["null_covariate"], 30);
    assert!(r.ledger.balances());
}

#[test]
fn other_group_values_are_ledgered_and_numeric_group_a_matches_floats() {
    let frame = df!("g" => [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0, f64::NAN],
                    "x" => [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 5.0, 9.0, 9.0],
                    "y" => [2.0, 3.0, 4.5, 5.0, 1.0, 1.5, 2.5, 3.0, 9.0, 9.0])
    .unwrap();
    let mut opts = OaxacaOptions {
        outcome: "y".into(),
        group: "g".into(),
        group_a: "1".into(),
        covariates: vec!["x".into()],
        ..Default::default()
    };
    let err = oaxaca(&frame, &opts).unwrap_err().to_string();
    assert!(err.contains("--group-b"), "{err}");
    opts.group_b = Some("0".into());
    let r = oaxaca(&frame, &opts).unwrap();
    assert_eq!((r.n.a, r.n.b), (4, 4));
    assert_eq!(r.ledger.excluded["other_group"], 1);
    assert_eq!(r.ledger.excluded["null_group"], 1);
    assert_eq!(r.groups.a, "1");
}

#[test]
fn level_missing_from_a_group_gets_zero_with_a_warning_and_strict_makes_it_an_error() {
    let mut frame = payroll(1_000);
    // No woman is a care aide.
    let (gender, occupation) = (frame.column("gender").unwrap().clone(), frame.column("occupation").unwrap().clone());
    let fixed: Vec<&str> = gender
        .str()
        .unwrap()
        .iter()
        .flatten()
        .zip(occupation.str().unwrap().iter().flatten())
        .map(|(g, o)| if g == "F" && o == "care_aide" { "nurse" } else { o })
        .collect();
    frame.replace("occupation", Column::new("occupation".into(), fixed)).unwrap();
    let r = oaxaca(&frame, &options()).unwrap();
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("occupation:care_aide") && w.contains("group B (`F`)") && w.contains("relax")),
        "{:?}",
        r.warnings
    );
    assert!(r.difference.estimate.unwrap().is_finite() && r.twofold.explained.se.unwrap().is_finite());
    let mut strict = options();
    strict.strict = true;
    let err = oaxaca(&frame, &strict).unwrap_err().to_string();
    assert!(err.contains("strict mode") && err.contains("care_aide"), "{err}");
}

#[test]
fn bootstrap_is_reproducible_for_a_seed_and_close_to_the_delta_method() {
    let frame = payroll(4_000);
    let mut opts = options();
    opts.se = SeMethod::Bootstrap;
    opts.reps = 200;
    let first = oaxaca(&frame, &opts).unwrap();
    let again = oaxaca(&frame, &opts).unwrap();
    assert_eq!(first.twofold.explained, again.twofold.explained);
    assert_eq!(first.bootstrap.as_ref().unwrap().successful, 200);
    let delta = oaxaca(&frame, &options()).unwrap();
    for (b, d) in [
        (&first.difference, &delta.difference),
        (&first.twofold.explained, &delta.twofold.explained),
        (&first.twofold.unexplained, &delta.twofold.unexplained),
    ] {
        let ratio = b.se.unwrap() / d.se.unwrap();
        assert!((0.8..1.25).contains(&ratio), "bootstrap {:?} vs delta {:?}", b.se, d.se);
    }
}

#[test]
fn later_rows_of_a_duplicated_employee_period_are_ledgered() {
    let frame = payroll(500);
    let n = frame.height();
    let ids: Vec<String> = (0..n).map(|i| format!("E{}", i.min(n - 3))).collect();
    let mut with_keys = frame.clone();
    with_keys.with_column(Column::new("employee_id".into(), ids)).unwrap();
    with_keys.with_column(Column::new("period".into(), vec!["2025-04"; n])).unwrap();
    // The last three rows share employee E497 and the period: two of them are later duplicates.
    let r = oaxaca(&with_keys, &options()).unwrap();
    assert_eq!(r.ledger.excluded["duplicate_key"], 2);
    assert_eq!(r.ledger.used + 2, oaxaca(&frame, &options()).unwrap().ledger.used);
    let none = OaxacaOptions { employee_id: Some(String::new()), ..options() };
    assert!(!oaxaca(&with_keys, &none).unwrap().ledger.excluded.contains_key("duplicate_key"));
}
