//! Comparisons of female job classes (`shared/spec/equal-value.md`): equal-value bands, job-to-job
//! comparators (Ontario Pay Equity Act s.6(2)–(3); Quebec s.63 averaging), the male pay line
//! (proportional value, OLS through the shared kernel), and the cost of closing the shortfalls with an
//! optional phase-in (Ontario s.13).

use serde::{Deserialize, Serialize};

use super::classes::{Incumbent, JobClass};
use super::options::{Comparator, EqualValueOptions, Method};
use crate::stats::{ols, Moments};
use crate::Result;

/// The comparison of one female class by one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub job: String,
    pub method: Method,
    /// The male comparator class(es) (job-to-job), empty for the pay line.
    pub comparator: Option<String>,
    /// Why that comparator: `equal_value`, `lower_value_higher_rate` or `no_comparator`; `pay_line`.
    pub rule: String,
    pub target_rate: Option<f64>,
    pub job_rate: f64,
    /// max(target − job rate, 0) per hour.
    pub shortfall_per_hour: f64,
    pub shortfall_pct: f64,
    /// Annual cost of closing: shortfall × hours of every incumbent of the class.
    pub shortfall_per_year: f64,
    /// Women in a class with a shortfall (`null` when the class's counts are suppressed).
    pub affected_women: Option<u64>,
    pub affected_incumbents: u64,
}

/// The male pay line: job rate = intercept + slope × points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayLine {
    pub intercept: f64,
    pub slope: f64,
    pub r2: f64,
    pub classes: u64,
    pub weighted: bool,
}

/// Equal value: both scores in the same configured band, or within `band_pct` of the higher score.
pub fn of_equal_value(a: f64, b: f64, options: &EqualValueOptions) -> bool {
    match &options.points_bands {
        Some(edges) => {
            let band = |p: f64| edges.iter().filter(|e| p >= **e).count();
            band(a) == band(b)
        }
        None => (a - b).abs() <= options.band_pct / 100.0 * a.max(b) + 1e-9,
    }
}

fn comparison(
    class: &JobClass,
    method: Method,
    comparator: Option<String>,
    rule: &str,
    target: Option<f64>,
) -> Comparison {
    let shortfall = target.map_or(0.0, |t| (t - class.job_rate).max(0.0));
    let women = class.n.get("F").copied().flatten();
    Comparison {
        job: class.job.clone(),
        method,
        comparator,
        rule: rule.into(),
        target_rate: target,
        job_rate: class.job_rate,
        shortfall_per_hour: shortfall,
        shortfall_pct: target.map_or(0.0, |t| 100.0 * shortfall / t),
        shortfall_per_year: shortfall * class.hours,
        affected_women: if shortfall > 0.0 { women } else { Some(0) },
        affected_incumbents: if shortfall > 0.0 { class.incumbents } else { 0 },
    }
}

/// Job-to-job: each female class against the male classes of equal value (the lowest job rate, or their
/// average); with none, against the male classes of lower value paid a higher job rate (the highest).
pub fn job_to_job(classes: &[JobClass], options: &EqualValueOptions) -> Vec<Comparison> {
    let males: Vec<&JobClass> = classes.iter().filter(|c| c.predominance == "male").collect();
    classes
        .iter()
        .filter(|c| c.predominance == "female")
        .map(|female| {
            let equal: Vec<&&JobClass> =
                males.iter().filter(|m| of_equal_value(female.points, m.points, options)).collect();
            if !equal.is_empty() {
                return match options.comparator {
                    Comparator::Lowest => {
                        let m = equal.iter().min_by(|a, b| a.job_rate.total_cmp(&b.job_rate)).expect("not empty");
                        comparison(female, Method::JobToJob, Some(m.job.clone()), "equal_value", Some(m.job_rate))
                    }
                    Comparator::Average => {
                        let average = equal.iter().map(|m| m.job_rate).sum::<f64>() / equal.len() as f64;
                        let names = equal.iter().map(|m| m.job.as_str()).collect::<Vec<_>>().join("+");
                        comparison(female, Method::JobToJob, Some(names), "equal_value_average", Some(average))
                    }
                };
            }
            let lower = males
                .iter()
                .filter(|m| m.points < female.points && m.job_rate > female.job_rate)
                .max_by(|a, b| a.job_rate.total_cmp(&b.job_rate));
            match lower {
                Some(m) => comparison(
                    female,
                    Method::JobToJob,
                    Some(m.job.clone()),
                    "lower_value_higher_rate",
                    Some(m.job_rate),
                ),
                None => comparison(female, Method::JobToJob, None, "no_comparator", None),
            }
        })
        .collect()
}

/// The male pay line by OLS of job rate on points over the male classes (weighted by incumbents when
/// configured). `None` with fewer than two male classes of distinct points.
pub fn pay_line(classes: &[JobClass], options: &EqualValueOptions) -> Result<Option<PayLine>> {
    let males: Vec<&JobClass> = classes.iter().filter(|c| c.predominance == "male").collect();
    let distinct = males.iter().map(|m| m.points.to_bits()).collect::<std::collections::BTreeSet<_>>().len();
    if distinct < 2 {
        return Ok(None);
    }
    if males.len() == 2 {
        // Two classes: the line through both (no residual degrees of freedom for the regression).
        let (a, b) = (males[0], males[1]);
        let slope = (b.job_rate - a.job_rate) / (b.points - a.points);
        return Ok(Some(PayLine {
            intercept: a.job_rate - slope * a.points,
            slope,
            r2: 1.0,
            classes: 2,
            weighted: options.weight_pay_line,
        }));
    }
    let x: Vec<f64> = males.iter().flat_map(|m| [1.0, m.points]).collect();
    let y: Vec<f64> = males.iter().map(|m| m.job_rate).collect();
    let w: Vec<f64> = males.iter().map(|m| if options.weight_pay_line { m.incumbents as f64 } else { 1.0 }).collect();
    let fit = ols(&Moments::from_rows(2, &x, &y, Some(&w)), &["_cons".into(), "points".into()])?;
    Ok(Some(PayLine {
        intercept: fit.coefficients[0],
        slope: fit.coefficients[1],
        r2: fit.r2,
        classes: males.len() as u64,
        weighted: options.weight_pay_line,
    }))
}

/// Proportional value: each female class against the male pay line at its points.
pub fn proportional(classes: &[JobClass], line: &PayLine) -> Vec<Comparison> {
    classes
        .iter()
        .filter(|c| c.predominance == "female")
        .map(|c| {
            let target = line.intercept + line.slope * c.points;
            comparison(c, Method::Proportional, None, "pay_line", Some(target))
        })
        .collect()
}

/// One worker's adjustment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerAdjustment {
    pub employee_id: Option<String>,
    pub job: String,
    pub hours: f64,
    pub shortfall_per_hour: f64,
    pub adjustment: f64,
}

/// One year of the phase-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseInYear {
    pub year: u32,
    pub amount: f64,
    pub cumulative: f64,
}

/// The cost of closing the shortfalls of one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub method: Method,
    pub annual_total: f64,
    pub payroll: f64,
    pub pct_of_payroll: f64,
    pub phase_in_pct: Option<f64>,
    pub phase_in: Vec<PhaseInYear>,
}

/// Per-worker adjustments (shortfall of the worker's class × the worker's paid hours).
pub fn worker_adjustments(incumbents: &[Incumbent], comparisons: &[Comparison]) -> Vec<WorkerAdjustment> {
    incumbents
        .iter()
        .filter_map(|i| {
            let c = comparisons.iter().find(|c| c.job == i.job && c.shortfall_per_hour > 0.0)?;
            Some(WorkerAdjustment {
                employee_id: i.id.clone(),
                job: i.job.clone(),
                hours: i.hours,
                shortfall_per_hour: c.shortfall_per_hour,
                adjustment: c.shortfall_per_hour * i.hours,
            })
        })
        .collect()
}

/// The annual cost of a method's shortfalls and the phase-in: each year at most `phase_in_pct` of the
/// previous year's payroll (which grows by the increases already given), until every shortfall is closed.
pub fn cost(method: Method, comparisons: &[Comparison], payroll: f64, phase_in_pct: Option<f64>) -> Cost {
    let total: f64 = comparisons.iter().filter(|c| c.method == method).map(|c| c.shortfall_per_year).sum();
    let mut phase_in = Vec::new();
    match phase_in_pct {
        Some(pct) if pct > 0.0 => {
            let (mut given, mut year) = (0.0, 0);
            while given < total - 1e-9 && year < 100 {
                year += 1;
                let budget = pct / 100.0 * (payroll + given);
                let amount = budget.min(total - given);
                given += amount;
                phase_in.push(PhaseInYear { year, amount, cumulative: given });
            }
        }
        _ if total > 0.0 => phase_in.push(PhaseInYear { year: 1, amount: total, cumulative: total }),
        _ => {}
    }
    Cost {
        method,
        annual_total: total,
        payroll,
        pct_of_payroll: if payroll > 0.0 { 100.0 * total / payroll } else { 0.0 },
        phase_in_pct,
        phase_in,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn class(job: &str, points: f64, predominance: &str, job_rate: f64, hours: f64) -> JobClass {
        JobClass {
            job: job.into(),
            title: None,
            points,
            by_factor: BTreeMap::new(),
            n: BTreeMap::from([("F".to_string(), Some(3)), ("M".to_string(), Some(1))]),
            incumbents: 4,
            female_share: Some(0.75),
            predominance: predominance.into(),
            predominance_reason: None,
            job_rate,
            mean_rate: job_rate,
            median_rate: job_rate,
            max_rate: job_rate,
            hours,
            pay: job_rate * hours,
            suppressed: false,
            suppression: None,
        }
    }

    #[test]
    fn equal_value_band_is_relative_to_the_higher_score_or_a_configured_band() {
        let options = EqualValueOptions::default();
        assert!(of_equal_value(100.0, 95.0, &options));
        assert!(!of_equal_value(100.0, 94.9, &options));
        let banded = EqualValueOptions { points_bands: Some(vec![0.0, 300.0, 600.0]), ..options };
        assert!(of_equal_value(301.0, 599.0, &banded));
        assert!(!of_equal_value(299.0, 301.0, &banded));
    }

    #[test]
    fn quebec_average_comparator_and_no_comparator() {
        let classes = vec![
            class("F", 500.0, "female", 18.0, 100.0),
            class("M1", 510.0, "male", 22.0, 100.0),
            class("M2", 490.0, "male", 20.0, 100.0),
            class("G", 200.0, "female", 10.0, 100.0),
        ];
        let options = EqualValueOptions { comparator: Comparator::Average, ..EqualValueOptions::default() };
        let result = job_to_job(&classes, &options);
        assert_eq!(result[0].comparator.as_deref(), Some("M1+M2"));
        assert!((result[0].shortfall_per_hour - 3.0).abs() < 1e-12);
        // G: no male class of equal value, none of lower value.
        assert_eq!(result[1].rule, "no_comparator");
        assert_eq!(result[1].shortfall_per_hour, 0.0);
    }

    #[test]
    fn phase_in_spends_at_most_the_share_of_the_growing_payroll() {
        let classes = vec![class("F", 500.0, "female", 10.0, 1000.0), class("M", 500.0, "male", 15.0, 1000.0)];
        let comparisons = job_to_job(&classes, &EqualValueOptions::default());
        // Shortfall 5 × 1000 hours = 5000 a year; payroll 100,000; 2% a year = 2000, then 2% of 102,000.
        let c = cost(Method::JobToJob, &comparisons, 100_000.0, Some(2.0));
        assert!((c.annual_total - 5000.0).abs() < 1e-9);
        let amounts: Vec<f64> = c.phase_in.iter().map(|y| y.amount).collect();
        assert_eq!(amounts.len(), 3);
        assert!((amounts[0] - 2000.0).abs() < 1e-9 && (amounts[1] - 2040.0).abs() < 1e-9);
        assert!((amounts[2] - 960.0).abs() < 1e-9);
        assert!((c.pct_of_payroll - 5.0).abs() < 1e-12);
    }
}
