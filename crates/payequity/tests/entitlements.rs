//! Entitlement audits against tables worked out by hand: every amount form, prorating, each cap type
//! crossing its limit, effective-date edges, late payment, tolerance, combined rules, the ledger and bad
//! input. The expected numbers are computed in the comments from the rule text, not by the code.

use payequity::entitlements::{audit_entitlements, EntitlementAudit, EntitlementOptions, RuleSet};
use polars::prelude::*;

fn audit(rules: &str, payroll: &DataFrame) -> payequity::Result<EntitlementAudit> {
    let set = RuleSet::from_toml(rules, "test.toml")?;
    audit_entitlements(payroll, &set, &EntitlementOptions { min_cell: 0, logit: false, ..Default::default() })
}

/// (employee, period, rule) → (expected, paid, shortfall, status) from the arrears table.
fn arrears(result: &EntitlementAudit) -> Vec<(String, String, String, f64, f64, f64, String)> {
    let t = &result.arrears;
    let s = |c: &str| {
        let column = t.column(c).unwrap().str().unwrap().clone();
        (0..t.height()).map(|i| column.get(i).unwrap().to_string()).collect::<Vec<_>>()
    };
    let f = |c: &str| t.column(c).unwrap().f64().unwrap().into_no_null_iter().collect::<Vec<_>>();
    let (e, r, p, st) = (s("employee_id"), s("rule"), s("period"), s("status"));
    let (x, y, z) = (f("expected"), f("paid"), f("shortfall"));
    (0..t.height()).map(|i| (e[i].clone(), p[i].clone(), r[i].clone(), x[i], y[i], z[i], st[i].clone())).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn flat_amount_prorate_period_cap_effective_edges_late_and_tolerance() {
    let rules = r#"
[ruleset]
name = "t"
payment_date = "paid_on"
[[rule]]
id = "icu"
kind = "allowance"
when = "unit = 'icu'"
amount = { flat = 100 }
prorate = "days / 20"
cap = { per_period = 90 }
paid = "paid"
effective = { from = 2024-02-01, to = "2024-03-31" }
due_within_days = 10
tolerance = 0.5
"#;
    let payroll = df!(
        "employee_id" => ["A", "A", "A", "A", "B", "B", "C", "D"],
        "period" => ["2024-01", "2024-02", "2024-03", "2024-04", "2024-02", "2024-03", "2024-02", "2024-02"],
        "gender" => ["F", "F", "F", "F", "M", "M", "F", "M"],
        "unit" => ["icu", "icu", "icu", "icu", "icu", "icu", "icu", "ward"],
        "days" => [20.0, 20.0, 10.0, 20.0, 30.0, 15.0, 20.0, 20.0],
        "paid" => [0.0, 90.0, 49.6, 0.0, 0.0, 70.0, 95.0, 0.0],
        "paid_on" => ["2024-02-05", "2024-03-05", "2024-04-15", "2024-05-05", "2024-03-05", "2024-04-10", "2024-03-05", "2024-03-05"],
    )
    .unwrap();
    let result = audit(rules, &payroll).unwrap();
    let rule = &result.rules[0];
    // January and April are outside the effective range (edges: February 1 and March 31 are inside); D is
    // not in the ICU. Eligible: A-02, A-03, B-02, B-03, C-02.
    assert_eq!(rule.eligible, 5);
    // A-02: 100 × 20/20 = 100, capped at 90, paid 90 on 03-05 ≤ 02-29 + 10 → ok.
    // A-03: 100 × 10/20 = 50, paid 49.60: 0.40 short, within the 0.50 tolerance; paid 04-15 > 03-31 + 10 → late.
    // B-02: 100 × min(30/20, 1) = 100 → 90, nothing paid → not_paid, 90 short.
    // B-03: 100 × 15/20 = 75, paid 70 → underpaid by 5; paid 04-10 = the last day allowed, not late.
    // C-02: 90 due, 95 paid → overpaid.
    let counts = &rule.status_counts;
    assert_eq!((counts.ok, counts.late, counts.not_paid, counts.underpaid, counts.overpaid), (1, 1, 1, 1, 1));
    assert!(close(rule.expected_total, 90.0 + 50.0 + 90.0 + 75.0 + 90.0));
    assert!(close(rule.paid_total, 90.0 + 49.6 + 0.0 + 70.0 + 95.0));
    assert!(close(rule.shortfall_total, 95.0));
    assert!(close(result.arrears_total, 95.0));
    let table = arrears(&result);
    assert_eq!(table.len(), 3, "{table:?}");
    assert_eq!(table[0].0, "A");
    assert_eq!(table[0].6, "late");
    assert!(close(table[0].5, 0.0));
    assert_eq!((table[1].0.as_str(), table[1].1.as_str(), table[1].6.as_str()), ("B", "2024-02", "not_paid"));
    assert!(close(table[1].5, 90.0));
    assert_eq!((table[2].1.as_str(), table[2].6.as_str()), ("2024-03", "underpaid"));
    assert!(close(table[2].5, 5.0));
    assert!(result.ledger.balances());
    assert_eq!(result.ledger.used, 8);
}

#[test]
fn cumulative_caps_per_calendar_year_and_per_worker_in_time_order() {
    let rules = r#"
[ruleset]
name = "t"
[[rule]]
id = "per_hour"
kind = "hazard"
amount = { per_hour = 2, hours = "hz_hours" }
cap = { per_year = 50 }
paid = "hz_paid"
[[rule]]
id = "per_shift"
kind = "hazard"
amount = { per_shift = 15, shifts = "shifts" }
cap = { per_worker_total = 40 }
paid = "shift_paid"
"#;
    // Rows out of time order on purpose: caps follow the periods, not the file.
    let payroll = df!(
        "employee_id" => ["A", "A", "A", "B"],
        "period" => ["2025-01", "2024-11", "2024-12", "2024-12"],
        "gender" => ["F", "F", "F", "M"],
        "hz_hours" => [15.0, 10.0, 20.0, 30.0],
        "hz_paid" => [25.0, 20.0, 30.0, 50.0],
        "shifts" => [1i64, 1, 2, 3],
        "shift_paid" => [0.0, 15.0, 25.0, 40.0],
    )
    .unwrap();
    let result = audit(rules, &payroll).unwrap();
    // per_hour, A: 2024-11 2 × 10 = 20; 2024-12 2 × 20 = 40 but only 50 − 20 = 30 left in 2024; 2025-01 a new
    // year: 2 × 15 = 30, paid 25 → underpaid by 5. B: 2 × 30 = 60 → capped at 50, paid 50.
    let hours = &result.rules[0];
    assert!(close(hours.expected_total, 20.0 + 30.0 + 30.0 + 50.0), "{}", hours.expected_total);
    assert_eq!(hours.status_counts.underpaid, 1);
    assert!(close(hours.shortfall_total, 5.0));
    // per_shift, A: 15 (cum 15), 2 × 15 = 30 → 40 − 15 = 25 left, 2025-01: 15 → 0 left → 0 due, 0 paid.
    // B: 3 × 15 = 45 → capped at 40, paid 40.
    let shifts = &result.rules[1];
    assert!(close(shifts.expected_total, 15.0 + 25.0 + 0.0 + 40.0), "{}", shifts.expected_total);
    assert_eq!(shifts.status_counts.ok, 4);
    assert!(close(result.arrears_total, 5.0));
}

#[test]
fn rule_year_cap_pct_multiplier_tiers_and_expr() {
    let rules = r#"
[ruleset]
name = "t"
[[rule]]
id = "pct"
kind = "allowance"
amount = { pct = 10, of = "base" }
cap = { per_year = 250, year = "rule" }
effective = { from = "2024-03-01" }
paid = "pct_paid"
[[rule]]
id = "ot"
kind = "overtime"
when = "ot > 0"
amount = { multiplier = 1.5, rate = "rate", hours = "ot" }
paid = "ot_paid"
[[rule]]
id = "tier"
kind = "hazard"
amount = { tiers = [ { when = "risk = 'high'", flat = 30 }, { when = "risk = 'medium'", expr = "rate * 2" } ] }
paid = "tier_paid"
[[rule]]
id = "expr"
kind = "allowance"
amount = { expr = "base * 0.01 + 5" }
paid = "expr_paid"
"#;
    let payroll = df!(
        "employee_id" => ["A", "A", "A", "A", "A", "A"],
        "period" => ["2024-02", "2024-03", "2024-04", "2024-05", "2025-02", "2025-03"],
        "gender" => ["F"; 6],
        "base" => [1000.0; 6],
        "pct_paid" => [0.0, 100.0, 100.0, 50.0, 0.0, 90.0],
        "rate" => [20.0; 6],
        "ot" => [3.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        "ot_paid" => [80.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        "risk" => ["high", "medium", "low", "low", "low", "low"],
        "tier_paid" => [30.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        "expr_paid" => [15.0; 6],
    )
    .unwrap();
    let result = audit(rules, &payroll).unwrap();
    let by_id = |id: &str| result.rules.iter().find(|r| r.id == id).unwrap();
    // pct: from 2024-03 (February is before the rule); rule years start on March 1. 2024-03, -04: 100 each;
    // 2024-05: 100 → 250 − 200 = 50; 2025-02 is still rule year 2024: 0 left; 2025-03 a new rule year: 100,
    // paid 90 → underpaid 10 (a calendar-year cap would have owed 100 in 2025-02).
    let pct = by_id("pct");
    assert_eq!(pct.eligible, 5);
    assert!(close(pct.expected_total, 100.0 + 100.0 + 50.0 + 0.0 + 100.0), "{}", pct.expected_total);
    assert!(close(pct.shortfall_total, 10.0));
    // ot: 1.5 × 20 × 3 = 90, paid 80 → underpaid 10.
    let ot = by_id("ot");
    assert_eq!(ot.eligible, 1);
    assert!(close(ot.expected_total, 90.0) && close(ot.shortfall_total, 10.0));
    // tier: high → 30 (paid 30), medium → 20 × 2 = 40 (not paid), low → no tier, not eligible.
    let tier = by_id("tier");
    assert_eq!(tier.eligible, 2);
    assert_eq!(tier.status_counts.not_paid, 1);
    assert!(close(tier.expected_total, 70.0) && close(tier.shortfall_total, 40.0));
    // expr: 1000 × 0.01 + 5 = 15 every month, paid 15.
    let expr = by_id("expr");
    assert_eq!((expr.eligible, expr.status_counts.ok), (6, 6));
    assert!(close(result.arrears_total, 10.0 + 10.0 + 40.0));
}

#[test]
fn hours_rule_values_unpaid_hours_with_the_overtime_multiplier() {
    let rules = r#"
[ruleset]
name = "t"
[[rule]]
id = "hours"
kind = "hours"
hours = { worked = "worked", paid = "paid_hours", rate = "rate", overtime_multiplier = 2, overtime_above = 10 }
"#;
    let payroll = df!(
        "employee_id" => ["A", "B"], "period" => ["2024-01", "2024-01"], "gender" => ["F", "M"],
        "worked" => [12.0, 8.0], "paid_hours" => [10.0, 8.0], "rate" => [10.0, 10.0],
    )
    .unwrap();
    let result = audit(rules, &payroll).unwrap();
    // A: due 10 × (10 + 2 × 2) = 140, paid for 10 hours = 100 → underpaid 40. B: 80 due, 80 paid.
    let rule = &result.rules[0];
    assert!(close(rule.expected_total, 220.0) && close(rule.paid_total, 180.0));
    assert_eq!((rule.status_counts.underpaid, rule.status_counts.ok), (1, 1));
    assert!(close(result.arrears_total, 40.0));
}

#[test]
fn combined_rules_share_one_paid_column_in_file_order() {
    let rules = r#"
[ruleset]
name = "t"
[[rule]]
id = "first"
kind = "allowance"
when = "a"
amount = { flat = 50 }
paid = "combo"
combine = "sum"
[[rule]]
id = "second"
kind = "allowance"
when = "b"
amount = { flat = 30 }
paid = "combo"
combine = "sum"
"#;
    let payroll = df!(
        "employee_id" => ["A", "B"], "period" => ["2024-01", "2024-01"], "gender" => ["F", "M"],
        "a" => [true, false], "b" => [true, true], "combo" => [60.0, 40.0],
    )
    .unwrap();
    let result = audit(rules, &payroll).unwrap();
    // A: both apply, 60 paid: `first` takes its 50, `second` the remaining 10 of 30 → underpaid 20.
    // B: only `second` applies and takes all 40 → overpaid by 10.
    assert_eq!(result.rules[0].status_counts.ok, 1);
    assert_eq!((result.rules[1].status_counts.underpaid, result.rules[1].status_counts.overpaid), (1, 1));
    assert!(close(result.arrears_total, 20.0));
}

#[test]
fn ledger_counts_null_keys_and_duplicates_and_bad_values_are_named() {
    let rules =
        "[ruleset]\nname = \"t\"\n[[rule]]\nid = \"r\"\nkind = \"allowance\"\namount = { flat = 10 }\npaid = \"p\"\n";
    let payroll = df!(
        "employee_id" => [Some("A"), Some("A"), None, Some("B")],
        "period" => ["2024-01", "2024-01", "2024-01", "2024-01"],
        "gender" => ["F", "F", "F", "M"],
        "p" => [10.0, 0.0, 10.0, 10.0],
    )
    .unwrap();
    let result = audit(rules, &payroll).unwrap();
    assert_eq!(result.ledger.read, 4);
    assert_eq!(result.ledger.used, 2);
    assert_eq!(result.ledger.excluded["duplicate_key"], 1);
    assert_eq!(result.ledger.excluded["null_key"], 1);
    assert_eq!(result.rules[0].status_counts.ok, 2);

    let negative = df!("employee_id" => ["A", "B"], "period" => ["2024-01", "2024-01"], "gender" => ["F", "M"], "p" => [10.0, -3.0]).unwrap();
    let message = audit(rules, &negative).unwrap_err().to_string();
    assert!(message.contains("column `p`, row 1") && message.contains("rule `r`"), "{message}");

    let bad_period = df!("employee_id" => ["A", "B"], "period" => ["2024-01", "Jan 2024"], "gender" => ["F", "M"], "p" => [10.0, 3.0]).unwrap();
    let message = audit(rules, &bad_period).unwrap_err().to_string();
    assert!(message.contains("column `period`, row 1") && message.contains("YYYY-MM"), "{message}");

    let message =
        audit(&rules.replace("flat = 10", "per_hour = 2, hours = \"hourz\""), &payroll).unwrap_err().to_string();
    assert!(message.contains("rule[r].amount.hours") && message.contains("`hourz`"), "{message}");
}

#[test]
fn random_toml_never_panics_the_rule_parser() {
    use proptest::prelude::*;
    let fragments = prop::collection::vec(
        prop::sample::select(vec![
            "[ruleset]\n",
            "name = \"x\"\n",
            "[[rule]]\n",
            "id = \"a\"\n",
            "kind = \"hazard\"\n",
            "kind = 3\n",
            "amount = { flat = 1 }\n",
            "amount = { tiers = [] }\n",
            "amount = { per_hour = -1, hours = \"h\" }\n",
            "amount = { tiers = [ { when = \"x\", tiers = [] } ] }\n",
            "paid = \"p\"\n",
            "paid = []\n",
            "cap = { per_year = 5, year = \"rule\" }\n",
            "effective = { from = \"2024-02-30\" }\n",
            "effective = { from = 2024-01-01, to = 2023-01-01 }\n",
            "combine = \"sum\"\n",
            "due_within_days = 3\n",
            "hours = { worked = \"w\", paid = \"p\", rate = \"r\" }\n",
            "kind = \"hours\"\n",
            "tolerance = -1\n",
            "= =\n",
            "[ruleset\n",
            "\"\n",
            "period = \"year\"\n",
            "when = \"\"\n",
        ]),
        0..24,
    );
    let mut runner =
        proptest::test_runner::TestRunner::new(ProptestConfig { cases: 2000, ..ProptestConfig::default() });
    runner
        .run(&fragments, |parts| {
            let text: String = parts.concat();
            let _ = RuleSet::from_toml(&text, "fuzz.toml");
            Ok(())
        })
        .unwrap();
}
