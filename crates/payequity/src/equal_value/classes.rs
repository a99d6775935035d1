//! Job classes from payroll (`shared/spec/equal-value.md`): incumbents (validated through
//! [`crate::data::prepare`], so every row is used or ledgered), hourly rates, gender predominance (Ontario
//! Pay Equity Act s.1(3): 60% women / 70% men, with overrides) and the job rate (highest, median, mean or
//! seniority-adjusted rate).

use std::borrow::Cow;
use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::options::{EqualValueOptions, JobRate};
use super::scheme::JobScore;
use crate::data::{
    prepare, Measure, Prepared, Reason, Unit, COL_GENDER, COL_HOURS, COL_PAY, COL_ROWS, FEMALE, MALE, NO_UNIT,
};
use crate::gap::{cells_to_withhold, GapOptions};
use crate::stats::{ols, Moments};
use crate::{Error, Result};

/// Hours of the rate when `subtract_hours` is set.
const RATE_HOURS: &str = "__rate_hours";

/// One incumbent of a class: an employee's spell in the class (or a row without employee ids).
#[derive(Debug, Clone, PartialEq)]
pub struct Incumbent {
    pub id: Option<String>,
    pub job: String,
    /// Gender code: 0 women, 1 men, 2+ other values.
    pub gender: u32,
    pub hours: f64,
    pub pay: f64,
    pub controls: Vec<f64>,
}

impl Incumbent {
    pub fn rate(&self) -> f64 {
        self.pay / self.hours
    }
}

/// A job class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobClass {
    pub job: String,
    pub title: Option<String>,
    pub points: f64,
    pub by_factor: BTreeMap<String, f64>,
    pub n: BTreeMap<String, Option<u64>>,
    pub incumbents: u64,
    /// Women / incumbents; `null` when the class is suppressed (with `incumbents` it would give the counts).
    pub female_share: Option<f64>,
    /// female | male | neutral
    pub predominance: String,
    pub predominance_reason: Option<String>,
    pub job_rate: f64,
    pub mean_rate: f64,
    pub median_rate: f64,
    pub max_rate: f64,
    pub hours: f64,
    pub pay: f64,
    /// Women or men below `min_cell` (or withheld as the complement of a lone small class, since the
    /// equal-work table publishes the totals by gender): counts by gender and the female share withheld.
    pub suppressed: bool,
    /// `primary` (small class) or `complementary`, as in the `gap` documents.
    pub suppression: Option<String>,
}

/// The incumbents of the payroll, with the preparation (ledger, warnings) they came from.
pub fn incumbents(frame: &DataFrame, options: &EqualValueOptions) -> Result<(Vec<Incumbent>, Prepared)> {
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let frame = with_rate_hours(frame, options)?;
    let gap = incumbent_validation(options);
    let mut prepared = prepare(&frame, &gap.prepare_spec(&gap.by, false))?;
    drop_null_jobs(&mut prepared, options)?;
    check_controls(&frame, &names, options)?;
    let means = match &prepared.employee_id {
        Some(id) if !options.adjust_for.is_empty() => Some(control_means(&frame, id, options)?),
        _ => None,
    };
    let incumbents = incumbents_from(&prepared, means, options)?;
    Ok((incumbents, prepared))
}

/// Units without a job belong to no class: they leave the units and their rows move to the ledger under
/// `null_job` (strict mode refuses them), so every row stays accounted for.
pub fn drop_null_jobs(prepared: &mut Prepared, options: &EqualValueOptions) -> Result<()> {
    let nulls = prepared.frame.column(&options.job)?.is_null();
    if !nulls.any() {
        return Ok(());
    }
    let rows = prepared.frame.column(COL_ROWS)?.cast(&DataType::UInt64)?;
    let rows = rows.u64()?.filter(&nulls)?.sum().unwrap_or(0);
    if options.strict {
        return Err(Error::Invalid(format!(
            "{rows} row(s) have no value in the job column `{}` (strict mode); hint: fill in the job or drop \
             those rows, or run without --strict to count them in the ledger as null_job",
            options.job
        )));
    }
    prepared.frame = prepared.frame.filter(&!nulls.clone())?;
    if let Some(of_row) = &prepared.unit_of_row {
        // Units keep their order: each kept unit's new number counts the kept units before it.
        let mut next = 0u32;
        let renumber: Vec<u32> = nulls
            .iter()
            .map(|null| {
                if null == Some(true) {
                    NO_UNIT
                } else {
                    next += 1;
                    next - 1
                }
            })
            .collect();
        let of_row = of_row.iter().map(|&u| if u == NO_UNIT { NO_UNIT } else { renumber[u as usize] }).collect();
        prepared.unit_of_row = Some(std::sync::Arc::new(of_row));
    }
    prepared.ledger.exclude(Reason::NullJob, rows);
    Ok(())
}

/// The controls (`adjust_for`) exist and are numeric.
pub fn check_controls(frame: &DataFrame, names: &[String], options: &EqualValueOptions) -> Result<()> {
    for control in &options.adjust_for {
        crate::data::require_column(control, "adjust_for", names)?;
        crate::data::require_numeric(frame, control, "adjust_for")?;
    }
    Ok(())
}

/// How the rows are validated into incumbents: hourly pay per employee × job spell, as a gap analysis
/// broken down by job (so the streamed [`crate::gap::UnitStream`] validates them the same way).
pub fn incumbent_validation(options: &EqualValueOptions) -> GapOptions {
    let mut columns = options.columns.clone();
    if !options.pay.is_empty() {
        columns.pay = options.pay.clone();
    }
    columns.weight = None;
    if !options.subtract_hours.is_empty() {
        columns.hours = Some(RATE_HOURS.into());
    }
    GapOptions {
        columns,
        gender_values: options.gender_values.clone(),
        by: vec![options.job.clone()],
        factors: Some(Vec::new()),
        measure: Some(Measure::Hourly),
        unit: Unit::Auto,
        filters: options.filters.clone(),
        strict: options.strict,
        ..GapOptions::default()
    }
}

/// The rows with the hours of the rate: paid hours less `subtract_hours` (e.g. overtime hours) when set.
pub fn with_rate_hours<'f>(frame: &'f DataFrame, options: &EqualValueOptions) -> Result<Cow<'f, DataFrame>> {
    if options.subtract_hours.is_empty() {
        return Ok(Cow::Borrowed(frame));
    }
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let hours = options.columns.hours.clone().filter(|h| !h.is_empty()).unwrap_or_else(|| "hours".into());
    crate::data::require_column(&hours, "hours", &names)?;
    let mut rate_hours = col(hours.as_str()).cast(DataType::Float64);
    for column in &options.subtract_hours {
        crate::data::require_column(column, "subtract_hours", &names)?;
        crate::data::require_numeric(frame, column, "subtract_hours")?;
        rate_hours = rate_hours - col(column.as_str()).cast(DataType::Float64).fill_null(lit(0.0));
    }
    Ok(Cow::Owned(frame.clone().lazy().with_column(rate_hours.alias(RATE_HOURS)).collect()?))
}

/// Name of the employee id text column of [`control_means`].
pub const MEANS_ID: &str = "__id";
/// Name of the job text column of [`control_means`].
pub const MEANS_JOB: &str = "__job";

/// The mean of each control over every row of an employee × job (tenure may change from period to
/// period): columns [`MEANS_ID`], [`MEANS_JOB`] (texts) and the controls.
pub fn control_means(frame: &DataFrame, id: &str, options: &EqualValueOptions) -> Result<DataFrame> {
    let controls: Vec<Expr> =
        options.adjust_for.iter().map(|c| col(c.as_str()).cast(DataType::Float64).mean()).collect();
    Ok(frame
        .clone()
        .lazy()
        .group_by([
            col(id).cast(DataType::String).alias(MEANS_ID),
            col(options.job.as_str()).cast(DataType::String).alias(MEANS_JOB),
        ])
        .agg(controls)
        .collect()?)
}

/// The incumbents of validated units (employee × job spells), with the control means of each spell when
/// the job rate is adjusted (`means` from [`control_means`]).
pub fn incumbents_from(
    prepared: &Prepared,
    means: Option<DataFrame>,
    options: &EqualValueOptions,
) -> Result<Vec<Incumbent>> {
    let mut units = prepared.frame.clone().lazy().with_column(col(options.job.as_str()).cast(DataType::String));
    let id = prepared.employee_id.clone();
    if !options.adjust_for.is_empty() {
        match (&id, means) {
            (Some(id), Some(means)) => {
                let left = [col(id.as_str()).cast(DataType::String), col(options.job.as_str())];
                let right = [col(MEANS_ID), col(MEANS_JOB)];
                let join = JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) };
                units = units.join(means.lazy(), left, right, join);
            }
            _ => {
                return Err(Error::Invalid(
                    "the adjusted job rate needs an employee id (`[columns] employee_id`) to average the controls"
                        .into(),
                ))
            }
        }
    }
    let units = units.collect()?;
    let jobs = units.column(&options.job)?.str()?.clone();
    let genders = units.column(COL_GENDER)?.u32()?.clone();
    let pay = units.column(COL_PAY)?.f64()?.clone();
    let hours = units.column(COL_HOURS)?.f64()?.clone();
    let ids = match &id {
        Some(i) => Some(units.column(i)?.cast(&DataType::String)?.str()?.clone()),
        None => None,
    };
    let controls: Vec<Float64Chunked> = options
        .adjust_for
        .iter()
        .map(|c| Ok(units.column(c)?.cast(&DataType::Float64)?.f64()?.clone()))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(units.height());
    for row in 0..units.height() {
        let (Some(job), Some(gender), Some(pay), Some(hours)) =
            (jobs.get(row), genders.get(row), pay.get(row), hours.get(row))
        else {
            continue;
        };
        let values: Vec<f64> = controls.iter().map(|c| c.get(row).unwrap_or(f64::NAN)).collect();
        out.push(Incumbent {
            id: ids.as_ref().and_then(|i| i.get(row).map(str::to_string)),
            job: job.to_string(),
            gender,
            hours,
            pay,
            controls: values,
        });
    }
    Ok(out)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Job rates adjusted to the mean of the controls: log rate = α_class + Σ (β_j x_j + γ_j x_j²) by OLS over
/// the incumbents; rate = exp(α_class + Σ (β_j x̄_j + γ_j x̄_j²)). Incumbents with a missing or non-finite
/// control or a zero rate cannot enter the log fit: they are counted in a warning (they stay in every other
/// figure), and the fit's own warnings (e.g. collinear controls) are passed on.
fn adjusted_rates(
    incumbents: &[Incumbent],
    jobs: &[String],
    control_names: &[String],
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, f64>> {
    let controls = incumbents.first().map_or(0, |i| i.controls.len());
    let k = jobs.len() + 2 * controls;
    let usable: Vec<&Incumbent> =
        incumbents.iter().filter(|i| i.controls.iter().all(|v| v.is_finite()) && i.rate() > 0.0).collect();
    let left_out = incumbents.len() - usable.len();
    if left_out > 0 {
        warnings.push(format!(
            "{left_out} of {} incumbent(s) left out of the adjusted job-rate fit: a control ({}) is missing or \
             not finite, or the hourly rate is zero; hint: fill in the controls to use every incumbent",
            incumbents.len(),
            control_names.join(", ")
        ));
    }
    let mut x = Vec::with_capacity(usable.len() * k);
    let mut y = Vec::with_capacity(usable.len());
    let mut means = vec![0.0; controls];
    for inc in &usable {
        let class = jobs.iter().position(|j| *j == inc.job).expect("classes cover incumbents");
        x.extend((0..jobs.len()).map(|c| if c == class { 1.0 } else { 0.0 }));
        for v in &inc.controls {
            x.push(*v);
            x.push(v * v);
        }
        for (m, v) in means.iter_mut().zip(&inc.controls) {
            *m += v / usable.len() as f64;
        }
        y.push(inc.rate().ln());
    }
    let moments = Moments::from_rows(k, &x, &y, None);
    let mut names: Vec<String> = jobs.iter().map(|j| format!("job:{j}")).collect();
    for c in 0..controls {
        let name = control_names.get(c).cloned().unwrap_or_else(|| format!("control{c}"));
        names.push(format!("{name}²"));
        names.insert(names.len() - 1, name);
    }
    let fit = ols(&moments, &names)?;
    warnings.extend(fit.warnings.iter().map(|w| format!("adjusted job-rate fit: {w}")));
    let shift: f64 = (0..controls)
        .map(|c| {
            fit.coefficients[jobs.len() + 2 * c] * means[c]
                + fit.coefficients[jobs.len() + 2 * c + 1] * means[c] * means[c]
        })
        .sum();
    Ok(jobs.iter().enumerate().map(|(c, j)| (j.clone(), (fit.coefficients[c] + shift).exp())).collect())
}

/// The job classes of the rated jobs, with predominance and rates. `labels` are the gender labels.
pub fn job_classes(
    incumbents: &[Incumbent],
    scores: &BTreeMap<String, JobScore>,
    labels: &[String],
    options: &EqualValueOptions,
) -> Result<(Vec<JobClass>, Vec<String>)> {
    let mut warnings = Vec::new();
    let unrated: std::collections::BTreeSet<&str> =
        incumbents.iter().map(|i| i.job.as_str()).filter(|j| !scores.contains_key(*j)).collect();
    if !unrated.is_empty() {
        return Err(Error::Invalid(format!(
            "job(s) in the payroll column `{}` with no rating: {} — add them to the ratings file",
            options.job,
            unrated.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    for job in options.overrides.keys() {
        if !scores.contains_key(job) {
            return Err(Error::Invalid(format!("predominance override for job `{job}`, which has no rating")));
        }
    }
    let jobs: Vec<String> = scores.keys().filter(|j| incumbents.iter().any(|i| &i.job == *j)).cloned().collect();
    let adjusted = if options.job_rate == JobRate::Adjusted {
        Some(adjusted_rates(incumbents, &jobs, &options.adjust_for, &mut warnings)?)
    } else {
        None
    };
    let mut classes = Vec::new();
    for job in &jobs {
        let members: Vec<&Incumbent> = incumbents.iter().filter(|i| &i.job == job).collect();
        let score = &scores[job];
        let mut rates: Vec<f64> = members.iter().map(|i| i.rate()).collect();
        let women = members.iter().filter(|i| i.gender == 0).count() as u64;
        let men = members.iter().filter(|i| i.gender == 1).count() as u64;
        let total = members.len() as u64;
        let female_share = women as f64 / total as f64;
        let (predominance, reason) = match options.overrides.get(job) {
            Some(o) => {
                if !["female", "male", "neutral"].contains(&o.predominance.as_str()) {
                    return Err(Error::Invalid(format!(
                        "predominance override for job `{job}`: `{}` is not female, male or neutral",
                        o.predominance
                    )));
                }
                (o.predominance.clone(), Some(o.reason.clone()))
            }
            None if female_share >= options.female_threshold => ("female".to_string(), None),
            None if men as f64 / total as f64 >= options.male_threshold => ("male".to_string(), None),
            None => ("neutral".to_string(), None),
        };
        if total == 1 {
            warnings.push(format!(
                "job class `{job}` has one incumbent: its job rate is that person's pay (suppress it when publishing)"
            ));
        }
        let mean_rate = rates.iter().sum::<f64>() / rates.len() as f64;
        let max_rate = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let median_rate = median(&mut rates);
        let job_rate = match options.job_rate {
            JobRate::Max => max_rate,
            JobRate::Median => median_rate,
            JobRate::Mean => mean_rate,
            JobRate::Adjusted => adjusted.as_ref().expect("computed")[job],
        };
        let mut n = BTreeMap::new();
        for (code, label) in labels.iter().enumerate() {
            let count = members.iter().filter(|i| i.gender as usize == code).count() as u64;
            if code < 2 || count > 0 {
                n.insert(label.clone(), Some(count));
            }
        }
        classes.push(JobClass {
            job: job.clone(),
            title: score.title.clone(),
            points: score.points,
            by_factor: score.by_factor.clone(),
            n,
            incumbents: total,
            female_share: Some(female_share),
            predominance,
            predominance_reason: reason,
            job_rate,
            mean_rate,
            median_rate,
            max_rate,
            hours: members.iter().map(|i| i.hours).sum(),
            pay: members.iter().map(|i| i.pay).sum(),
            suppressed: false,
            suppression: None,
        });
    }
    suppress_classes(&mut classes, options.min_cell);
    Ok((classes, warnings))
}

/// Disclosure control of the class table: the rule of the `gap` breakdowns (shared/spec/transparency.md,
/// "Disclosure control") applied to the classes' counts of women and men. A withheld class keeps its
/// pooled figures (points, predominance, rates, hours, pay: none is by gender) but not its counts by
/// gender or its female share.
fn suppress_classes(classes: &mut [JobClass], min_cell: u64) {
    let count = |class: &JobClass, label: &str| class.n.get(label).copied().flatten().unwrap_or(0);
    let counts: Vec<(u64, u64)> = classes.iter().map(|c| (count(c, FEMALE), count(c, MALE))).collect();
    for (i, why) in cells_to_withhold(&counts, min_cell) {
        let class = &mut classes[i];
        class.n.values_mut().for_each(|n| *n = None);
        class.female_share = None;
        class.suppressed = true;
        class.suppression = Some(why.to_string());
    }
}
