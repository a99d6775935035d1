//! Options of the equal-value analysis (`[equal_value]` in the audit config, `pe.equal_value(...)` keywords,
//! `payequity equal-value` flags): one struct for every front end.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::{ColumnMap, GenderValues, RowFilter};

/// A comparison method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Method {
    /// Ontario Pay Equity Act s.6: each female class against a male class of equal (or lower) value.
    #[serde(rename = "job-to-job")]
    JobToJob,
    /// The male pay line (job rate on points over male classes), each female class against the line.
    #[serde(rename = "proportional")]
    Proportional,
}

/// Which statistic of the incumbents' hourly rates is the class's job rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobRate {
    /// The highest rate (Ontario's definition: the top of the class's pay range).
    Max,
    Median,
    Mean,
    /// The class's rate at the payroll's mean of `adjust_for` (tenure, ...): exp of the class effect of a
    /// regression of log hourly rate on class indicators and `adjust_for` (with squares), so that pay
    /// differences from a seniority system (Ontario s.8(1)(a)) are not counted as shortfalls.
    Adjusted,
}

/// Which male classes a female class is compared with when several are of equal value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparator {
    /// The lowest job rate (Ontario s.6(3)(a)).
    Lowest,
    /// The average job rate of the equal-value male classes (Quebec Pay Equity Act s.63).
    Average,
}

/// A predominance set by the config, with its reason (Ontario s.1(5): historical incumbency, stereotypes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredominanceOverride {
    /// female | male | neutral
    pub predominance: String,
    pub reason: String,
}

/// Options of [`super::equal_value`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EqualValueOptions {
    pub columns: ColumnMap,
    pub gender_values: GenderValues,
    /// Pay components of the hourly rate (default `[pay]`: every component).
    pub pay: Vec<String>,
    /// Hours columns subtracted from the hours of the rate: hours not paid by the pay components (e.g.
    /// `overtime_hours` when the rate is base pay per contracted hour).
    pub subtract_hours: Vec<String>,
    /// Scheme and ratings files (resolved against the config's folder by the front ends).
    pub scheme: String,
    pub ratings: String,
    /// The job class column of the payroll.
    pub job: String,
    pub method: Vec<Method>,
    /// Female job class: at least this share of women (Ontario s.1(3): 60%).
    pub female_threshold: f64,
    /// Male job class: at least this share of men (70%).
    pub male_threshold: f64,
    pub overrides: BTreeMap<String, PredominanceOverride>,
    /// Equal value: points within this percent of the higher score.
    pub band_pct: f64,
    /// Or: equal value when both scores fall in the same band (band edges, ascending).
    pub points_bands: Option<Vec<f64>>,
    pub comparator: Comparator,
    pub job_rate: JobRate,
    /// Numeric columns the adjusted job rate holds at their mean.
    pub adjust_for: Vec<String>,
    /// Weight the pay line by incumbents.
    pub weight_pay_line: bool,
    /// Rows used (e.g. `full_pay=true`: rates of pay from full-pay periods).
    pub filters: Vec<RowFilter>,
    /// Phase-in: at most this percent of the annual payroll per year (Ontario s.13: 1%); none = at once.
    pub phase_in_pct: Option<f64>,
    /// Classes with fewer women or men than this are not published by gender (counts suppressed).
    pub min_cell: u64,
    /// Add the adjustment of every worker (employee id, class, hours, adjustment) to the result.
    pub worker_adjustments: bool,
    pub strict: bool,
}

impl Default for EqualValueOptions {
    fn default() -> Self {
        EqualValueOptions {
            columns: ColumnMap::default(),
            gender_values: GenderValues::default(),
            pay: Vec::new(),
            subtract_hours: Vec::new(),
            scheme: String::new(),
            ratings: String::new(),
            job: "job_id".into(),
            method: vec![Method::JobToJob, Method::Proportional],
            female_threshold: 0.6,
            male_threshold: 0.7,
            overrides: BTreeMap::new(),
            band_pct: 5.0,
            points_bands: None,
            comparator: Comparator::Lowest,
            job_rate: JobRate::Max,
            adjust_for: Vec::new(),
            weight_pay_line: false,
            filters: Vec::new(),
            phase_in_pct: None,
            min_cell: 0,
            worker_adjustments: false,
            strict: false,
        }
    }
}

impl EqualValueOptions {
    /// The payroll columns the analysis reads: (required, optional). Lets file readers skip the others.
    pub fn columns_used(&self) -> (Vec<String>, Vec<String>) {
        let mut required = vec![self.job.clone(), self.columns.gender.clone()];
        // The pay components: the analysis' own, else the mapped ones, else the role's default name.
        match (self.pay.is_empty(), self.columns.pay.is_empty()) {
            (false, _) => required.extend(self.pay.iter().cloned()),
            (true, false) => required.extend(self.columns.pay.iter().cloned()),
            (true, true) => required.push("pay".into()),
        }
        let mut optional: Vec<String> = self.adjust_for.clone();
        optional.extend(self.subtract_hours.iter().cloned());
        optional.extend(self.filters.iter().map(|f| f.column.clone()));
        // Role defaults are read when the table has them, as the in-memory analysis of a whole table does.
        for (role, default) in [(&self.columns.employee_id, "employee_id"), (&self.columns.period, "period")] {
            match role {
                Some(name) if name.is_empty() => {}
                Some(name) => optional.push(name.clone()),
                None => optional.push(default.into()),
            }
        }
        optional.push(self.columns.hours.clone().unwrap_or_else(|| "hours".into()));
        (required, optional)
    }
}
