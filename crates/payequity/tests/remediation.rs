//! Minimal individual adjustments (issue 20) against planted ground truth worked out here: women are paid
//! 8% below men's pay line; with the men's coefficients as the reference (`reference = "weight"`, W = 1),
//! the unexplained part is minus the women's mean residual under the men's fit, so lifting every residual
//! below a floor L to L brings it to −mean(max(eᵢ, L)). The floor that meets the threshold, the rows it
//! raises and their cost follow in closed form from the residuals (a hand-written one-covariate OLS).

use payequity::config::AuditConfig;
use payequity::polars::prelude::*;
use payequity::scenario::{scenario_run, ScenarioRequest, ScenarioSet};

const THRESHOLD: f64 = 0.02;

/// Deterministic noise in [−0.05, 0.05].
fn noise(i: usize) -> f64 {
    0.05 * ((i as f64) * 12.9898).sin()
}

/// 400 workers, one period: ln(pay / 160) = 2.5 + 0.02 tenure + noise − 0.08 for women.
fn payroll() -> DataFrame {
    let n = 400;
    let ids: Vec<String> = (0..n).map(|i| format!("E{i:04}")).collect();
    let gender: Vec<&str> = (0..n).map(|i| if i % 2 == 0 { "F" } else { "M" }).collect();
    let tenure: Vec<f64> = (0..n).map(|i| (i % 21) as f64).collect();
    let pay: Vec<f64> = (0..n)
        .map(|i| {
            let woman = if i % 2 == 0 { 0.08 } else { 0.0 };
            160.0 * (2.5 + 0.02 * tenure[i] + noise(i) - woman).exp()
        })
        .collect();
    df!(
        "employee_id" => ids,
        "gender" => gender,
        "period" => vec!["2025-01"; n],
        "hours" => vec![160.0; n],
        "tenure" => tenure,
        "base_pay" => pay,
    )
    .unwrap()
}

fn config(reference: &str) -> AuditConfig {
    let text = format!(
        "[columns]\nemployee_id = \"employee_id\"\ngender = \"gender\"\nperiod = \"period\"\nhours = \"hours\"\n\
         [pay]\nordinary = [\"base_pay\"]\n[gap]\nmin_cell = 0\n\
         [oaxaca]\noutcome = \"base_pay\"\nlog = true\ngroup = \"gender\"\ngroup_a = \"M\"\ngroup_b = \"F\"\n\
         covariates = [\"tenure\"]\n{reference}\n"
    );
    AuditConfig::from_toml(&text, "test.toml").expect("config")
}

fn no_scenarios() -> ScenarioSet {
    ScenarioSet { scenarios: Vec::new(), base_dir: ".".into() }
}

/// (ln pay, tenure, pay) of the rows of one gender.
fn rows(frame: &DataFrame, gender: &str) -> Vec<(f64, f64, f64)> {
    let g = frame.column("gender").unwrap().str().unwrap().clone();
    let t = frame.column("tenure").unwrap().f64().unwrap().clone();
    let p = frame.column("base_pay").unwrap().f64().unwrap().clone();
    (0..frame.height())
        .filter(|&i| g.get(i) == Some(gender))
        .map(|i| (p.get(i).unwrap().ln(), t.get(i).unwrap(), p.get(i).unwrap()))
        .collect()
}

#[test]
fn adjustments_lift_the_most_negative_residuals_to_the_floor_that_meets_the_threshold() {
    let frame = payroll();
    let config = config("reference = \"weight\"\nweight = 1.0");
    let request = ScenarioRequest { remediate: Some(THRESHOLD), annex: true, ..Default::default() };
    let result = scenario_run(&frame, &config, &no_scenarios(), &request).unwrap();
    let r = result.remediation.expect("asked for");

    // Men's line by hand: b = Sxy / Sxx, a = ȳ − b·x̄.
    let men = rows(&frame, "M");
    let n = men.len() as f64;
    let (mx, my) = (men.iter().map(|r| r.1).sum::<f64>() / n, men.iter().map(|r| r.0).sum::<f64>() / n);
    let sxy: f64 = men.iter().map(|r| (r.1 - mx) * (r.0 - my)).sum();
    let sxx: f64 = men.iter().map(|r| (r.1 - mx) * (r.1 - mx)).sum();
    let (b, a) = (sxy / sxx, my - sxy / sxx * mx);
    let women = rows(&frame, "F");
    let mut residuals: Vec<(f64, f64)> = women.iter().map(|r| (r.0 - a - b * r.1, r.2)).collect();
    residuals.sort_by(|x, y| x.0.total_cmp(&y.0));
    let m = residuals.len() as f64;
    let before = -residuals.iter().map(|r| r.0).sum::<f64>() / m;
    assert!((r.unexplained_before.unwrap() - before).abs() < 1e-9, "{:?} vs {before}", r.unexplained_before);
    assert!(before > 0.05, "the planted 8% gap shows: {before}");

    // The floor L with −mean(max(e, L)) = THRESHOLD: with the k lowest residuals lifted,
    // L = (−THRESHOLD·m − Σ_{j≥k} e_j) / k, valid when e_{k−1} ≤ L ≤ e_k.
    let mut floor = None;
    for k in 1..=residuals.len() {
        let rest: f64 = residuals[k..].iter().map(|r| r.0).sum();
        let level = (-THRESHOLD * m - rest) / k as f64;
        let upper = residuals.get(k).map_or(f64::INFINITY, |r| r.0);
        if level >= residuals[k - 1].0 && level <= upper {
            floor = Some((level, k));
            break;
        }
    }
    let (level, lifted) = floor.expect("a floor exists");
    assert!((r.residual_floor.unwrap() - level).abs() < 1e-7, "floor {:?} vs {level}", r.residual_floor);
    assert!(r.met && r.unexplained_after.unwrap() <= THRESHOLD);
    assert!((r.unexplained_after.unwrap() - THRESHOLD).abs() < 1e-7);
    assert_eq!(r.workers_raised as usize, lifted);
    assert_eq!(r.rows_raised as usize, lifted);
    // One period: the annual cost is 12 × Σ pay·(exp(L − e) − 1) over the lifted rows.
    let cost: f64 = 12.0 * residuals[..lifted].iter().map(|(e, pay)| pay * ((level - e).exp() - 1.0)).sum::<f64>();
    assert!((r.cost_annual - cost).abs() < 1e-6 * cost, "cost {} vs {cost}", r.cost_annual);
    assert_eq!(r.group, "F");

    // The annex: the lifted workers, most negative residual first; the lowest is the first.
    let workers = r.workers.expect("annex asked for");
    assert_eq!(workers.len(), lifted);
    assert!((workers[0].residual - residuals[0].0).abs() < 1e-9);
    assert!(workers.windows(2).all(|w| w[0].residual <= w[1].residual));
    let sum: f64 = workers.iter().map(|w| w.raise_annual).sum();
    assert!((sum - r.cost_annual).abs() < 1e-6 * cost);
}

#[test]
fn without_the_annex_no_worker_is_named_and_a_met_threshold_costs_nothing() {
    let frame = payroll();
    let config = config("reference = \"pooled\"");
    let request = ScenarioRequest { remediate: Some(THRESHOLD), annex: false, ..Default::default() };
    let result = scenario_run(&frame, &config, &no_scenarios(), &request).unwrap();
    let r = result.remediation.as_ref().unwrap();
    assert!(r.met && r.unexplained_after.unwrap() <= THRESHOLD + 1e-12);
    assert!(r.workers.is_none());
    let json = payequity::report::to_json(&result).unwrap();
    assert!(!json.contains("E0"), "no employee id in the document");
    // A threshold above the gap: nothing to do.
    let request = ScenarioRequest { remediate: Some(1.0), ..Default::default() };
    let r = scenario_run(&frame, &config, &no_scenarios(), &request).unwrap().remediation.unwrap();
    assert!(r.met && r.cost_annual == 0.0 && r.workers_raised == 0);
    // Without [oaxaca] there is nothing to remediate: said so.
    let bare = AuditConfig::from_toml(
        "[columns]\nemployee_id = \"employee_id\"\ngender = \"gender\"\nperiod = \"period\"\nhours = \"hours\"\n\
         [pay]\nordinary = [\"base_pay\"]\n",
        "bare.toml",
    )
    .unwrap();
    let request = ScenarioRequest { remediate: Some(THRESHOLD), ..Default::default() };
    let err = scenario_run(&frame, &bare, &no_scenarios(), &request).unwrap_err().to_string();
    assert!(err.contains("[oaxaca]"), "{err}");
}
