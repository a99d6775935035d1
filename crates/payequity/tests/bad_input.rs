//! Bad input never panics and never loses a row: every row is used or excluded with a reason, strict mode
//! names the column and the row, and unusable inputs give errors that name what to fix.

use payequity::data::Reason;
use payequity::gap::{gap, GapOptions};
use payequity::polars::prelude::*;
use payequity::Error;

fn options() -> GapOptions {
    let mut o = GapOptions::default();
    o.columns.pay = vec!["base_pay".into(), "bonus".into()];
    o.columns.hours = Some("hours".into());
    o.min_cell = 0;
    o.bootstrap_reps = 50;
    o
}

/// One row per kind of problem, plus valid rows; row numbers are 1-based.
fn every_kind_of_bad_row() -> DataFrame {
    df!(
        "employee_id" => ["e1", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11", "e12", "e13"],
        "period" =>      ["m1", "m1", "m1", "m1", "m1", "m1", "m1", "m1", "m1", "m1", "m1",  "m1",  "m1",  "m1"],
        "gender" => [Some("F"), Some("F"), None, Some(""), Some("M"), Some("M"), Some("F"), Some("M"), Some("F"), Some("X"), Some("M"), Some("F"), Some("M"), Some("M")],
        "base_pay" => [Some(100.0), Some(100.0), Some(50.0), Some(50.0), None, Some(f64::NAN), Some(-10.0), Some(f64::INFINITY), Some(80.0), Some(70.0), Some(90.0), Some(60.0), Some(120.0), Some(100.0)],
        "bonus" => [Some(0.0), Some(0.0), Some(0.0), Some(0.0), None, Some(0.0), Some(0.0), Some(0.0), Some(0.0), Some(0.0), None, Some(0.0), Some(0.0), Some(0.0)],
        "hours" => [Some(10.0), Some(10.0), Some(5.0), Some(5.0), Some(5.0), Some(5.0), Some(5.0), Some(5.0), Some(0.0), Some(7.0), Some(9.0), None, Some(10.0), Some(-1.0)],
    )
    .unwrap()
}

#[test]
fn every_bad_row_is_counted_with_its_reason() {
    let result = gap(&every_kind_of_bad_row(), &options()).unwrap();
    let l = &result.ledger;
    assert_eq!(l.read, 14);
    assert!(l.balances(), "{l:?}");
    let expect = [
        (Reason::DuplicateKey, 1),
        (Reason::NullGender, 2),
        (Reason::NullPay, 1),
        (Reason::NonFinitePay, 2),
        (Reason::NegativePay, 1),
        (Reason::NonPositiveHours, 2),
        (Reason::NullHours, 1),
    ];
    for (reason, count) in expect {
        assert_eq!(l.excluded.get(reason.as_str()).copied(), Some(count), "{reason:?} in {l:?}");
    }
    // Used: e1 (F), e9 (X, its own group), e10 (M: null bonus counts as 0), e12 (M).
    assert_eq!(l.used, 4);
    assert_eq!(result.overall.n["X"], Some(1));
    assert_eq!(result.overall.n["F"], Some(1));
    assert_eq!(result.overall.n["M"], Some(2));
}

#[test]
fn strict_mode_names_column_and_first_row() {
    let mut o = options();
    o.strict = true;
    let err = gap(&every_kind_of_bad_row(), &o).unwrap_err();
    match &err {
        Error::Strict { reason, column, rows, .. } => {
            // Row 2 repeats row 1's key: it is the first offending row.
            assert_eq!(reason, "duplicate_key");
            assert!(column.contains("employee_id") && column.contains("period"), "{column}");
            assert_eq!(rows, &vec![2]);
        }
        other => panic!("expected a strict-mode error, got {other}"),
    }
    let message = err.to_string();
    assert!(message.contains("duplicate_key") && message.contains('2'), "{message}");
}

#[test]
fn strict_mode_reports_null_gender_row() {
    let mut o = options();
    o.strict = true;
    o.columns.employee_id = Some(String::new());
    let frame =
        df!("gender" => [Some("F"), None], "base_pay" => [1.0, 2.0], "bonus" => [0.0, 0.0], "hours" => [1.0, 1.0])
            .unwrap();
    let err = gap(&frame, &o).unwrap_err().to_string();
    assert!(err.contains("null_gender") && err.contains("`gender`") && err.contains("row(s): 2"), "{err}");
}

#[test]
fn empty_file_gives_null_gaps_and_a_balanced_ledger() {
    let frame = every_kind_of_bad_row().head(Some(0));
    let result = gap(&frame, &options()).unwrap();
    assert_eq!(result.ledger.read, 0);
    assert!(result.ledger.balances());
    assert_eq!(result.overall.mean_gap_pct.estimate, None);
    assert!(!result.warnings.is_empty());
}

#[test]
fn file_with_no_women_gives_null_gaps_and_a_warning() {
    let frame =
        df!("gender" => ["M", "M"], "base_pay" => [1.0, 2.0], "bonus" => [0.0, 0.0], "hours" => [1.0, 1.0]).unwrap();
    let result = gap(&frame, &options()).unwrap();
    assert_eq!(result.overall.mean_gap_pct.estimate, None);
    assert_eq!(result.overall.median_gap_pct.estimate, None);
    assert!(result.warnings.iter().any(|w| w.contains("0 women")), "{:?}", result.warnings);
}

#[test]
fn missing_column_lists_the_available_ones() {
    let mut o = options();
    o.columns.hours = Some("hours_worked".into());
    let err = gap(&every_kind_of_bad_row(), &o).unwrap_err();
    assert!(matches!(&err, Error::MissingColumn { column, .. } if column == "hours_worked"));
    let message = err.to_string();
    assert!(message.contains("hours_worked") && message.contains("base_pay"), "{message}");
    assert!(err.hint().unwrap().contains("--hours-column"));
}

#[test]
fn non_numeric_pay_column_is_a_type_error() {
    let frame = df!("gender" => ["F"], "base_pay" => ["1,200.50"], "bonus" => [0.0], "hours" => [1.0]).unwrap();
    let err = gap(&frame, &options()).unwrap_err();
    // A text column in a numeric role names the first value that is not a number (issue 18: the row of a
    // late bad value), not only the column's type.
    assert!(
        matches!(&err, Error::InvalidValue { column, row: 1, value, .. } if column == "base_pay" && value == "1,200.50"),
        "{err}"
    );
    assert!(err.to_string().contains("numeric"));
}

#[test]
fn nan_and_infinite_pay_are_excluded_not_propagated() {
    let frame = df!(
        "gender" => ["F", "F", "M", "M", "F"],
        "base_pay" => [10.0, f64::NAN, 20.0, f64::NEG_INFINITY, 12.0],
        "bonus" => [0.0; 5],
        "hours" => [1.0; 5],
    )
    .unwrap();
    let result = gap(&frame, &options()).unwrap();
    assert_eq!(result.ledger.excluded["non_finite_pay"], 2);
    assert!(result.overall.mean_gap_pct.estimate.unwrap().is_finite());
}

#[test]
fn numeric_gender_column_matches_integer_values() {
    let frame = df!("female" => [1.0, 1.0, 0.0, 0.0], "base_pay" => [8.0, 12.0, 15.0, 25.0], "bonus" => [0.0; 4], "hours" => [1.0; 4]).unwrap();
    let mut o = options();
    o.columns.gender = "female".into();
    o.gender_values.female = vec!["1".into()];
    o.gender_values.male = vec!["0".into()];
    let result = gap(&frame, &o).unwrap();
    // Women mean 10, men mean 20: gap 50 %.
    assert!((result.overall.mean_gap_pct.estimate.unwrap() - 50.0).abs() < 1e-12);
}

#[test]
fn filters_and_excluded_other_genders_are_ledgered() {
    let frame = df!(
        "gender" => ["F", "M", "X", "F", "M"],
        "contract" => ["agency", "permanent", "permanent", "permanent", "permanent"],
        "base_pay" => [1.0, 2.0, 3.0, 4.0, 5.0],
        "bonus" => [0.0; 5],
        "hours" => [1.0; 5],
    )
    .unwrap();
    let mut o = options();
    o.filters = vec!["contract!=agency".parse().unwrap()];
    o.gender_values.other = payequity::data::OtherGender::Exclude;
    let result = gap(&frame, &o).unwrap();
    assert_eq!(result.ledger.excluded["filtered"], 1);
    assert_eq!(result.ledger.excluded["unmapped_gender"], 1);
    assert_eq!(result.ledger.used, 3);
}

#[test]
fn long_format_gives_the_same_gaps_as_wide() {
    let wide = df!(
        "employee_id" => ["a", "b", "c", "d"],
        "gender" => ["F", "F", "M", "M"],
        "base_pay" => [100.0, 120.0, 150.0, 170.0],
        "bonus" => [0.0, 10.0, 5.0, 0.0],
        "hours" => [10.0, 10.0, 10.0, 10.0],
    )
    .unwrap();
    let long = df!(
        "employee_id" => ["a", "a", "a", "b", "b", "b", "c", "c", "c", "d", "d", "d", "d"],
        "gender" => ["F", "F", "F", "F", "F", "F", "M", "M", "M", "M", "M", "M", "M"],
        "element" => [Some("base_pay"), Some("bonus"), Some("hours"), Some("base_pay"), Some("bonus"), Some("hours"),
                      Some("base_pay"), Some("bonus"), Some("hours"), Some("base_pay"), Some("bonus"), Some("hours"), None],
        "amount" => [100.0, 0.0, 10.0, 120.0, 10.0, 10.0, 150.0, 5.0, 10.0, 170.0, 0.0, 10.0, 99.0],
    )
    .unwrap();
    let mut o = options();
    o.columns.period = Some(String::new());
    let a = gap(&wide, &o).unwrap();
    o.input.format = payequity::data::InputFormat::Long;
    let b = gap(&long, &o).unwrap();
    assert_eq!(a.overall.mean_gap_pct, b.overall.mean_gap_pct);
    assert_eq!(b.ledger.read, 13);
    assert_eq!(b.ledger.excluded["null_element"], 1);
    assert_eq!(b.ledger.used, 12);
}

#[test]
fn inconsistent_gender_excludes_all_rows_of_the_employee() {
    let frame = df!(
        "employee_id" => ["a", "a", "b", "c"],
        "period" => ["1", "2", "1", "1"],
        "gender" => ["F", "M", "F", "M"],
        "base_pay" => [1.0, 1.0, 2.0, 3.0],
        "bonus" => [0.0; 4],
        "hours" => [1.0; 4],
    )
    .unwrap();
    let result = gap(&frame, &options()).unwrap();
    assert_eq!(result.ledger.excluded["inconsistent_gender"], 2);
    assert!(result.ledger.balances());
}

#[test]
fn invalid_options_are_errors_not_panics() {
    let frame = every_kind_of_bad_row();
    let mut o = options();
    o.confidence = 1.5;
    assert!(matches!(gap(&frame, &o), Err(Error::Invalid(m)) if m.contains("confidence")));
    let mut o = options();
    o.bootstrap_reps = 1_000_000_000;
    assert!(matches!(gap(&frame, &o), Err(Error::Invalid(m)) if m.contains("bootstrap_reps")));
    let mut o = options();
    o.by = vec!["ward".into()];
    assert!(matches!(gap(&frame, &o), Err(Error::MissingColumn { column, .. }) if column == "ward"));
}

#[test]
fn duplicate_key_keeps_the_first_valid_row_of_the_key() {
    // Row 1 has no pay (excluded as null_pay); row 2 repeats its key but is the first valid row, so it is
    // used; row 3 is the duplicate. Employee b moves from grade G1 to G2: two spells, one employee overall.
    let frame = df!(
        "employee_id" => ["a", "a", "a", "b", "b"],
        "period" => ["1", "1", "1", "1", "2"],
        "gender" => ["F", "F", "F", "M", "M"],
        "base_pay" => [None, Some(10.0), Some(99.0), Some(20.0), Some(40.0)],
        "bonus" => [None, Some(0.0), Some(0.0), Some(0.0), Some(0.0)],
        "hours" => [1.0; 5],
        "grade" => ["G1", "G1", "G1", "G1", "G2"],
    )
    .unwrap();
    let mut o = options();
    o.by = vec!["grade".into()];
    o.min_cell = 0;
    let result = gap(&frame, &o).unwrap();
    assert_eq!(result.ledger.excluded["null_pay"], 1);
    assert_eq!(result.ledger.excluded["duplicate_key"], 1);
    assert_eq!(result.ledger.used, 3);
    assert_eq!(result.overall.n["F"], Some(1));
    assert_eq!(result.overall.n["M"], Some(1));
    // The woman's hourly pay is the used row's 10; the man's (20 + 40) / 2 = 30 over his two spells.
    assert!((result.overall.mean["F"].unwrap() - 10.0).abs() < 1e-12);
    assert!((result.overall.mean["M"].unwrap() - 30.0).abs() < 1e-12);
    assert_eq!(result.by.len(), 2);
    assert!(result.ledger.balances());
}
