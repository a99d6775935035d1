//! Logib, the Swiss standard analysis model of the Federal Office for Gender Equality (after its R package
//! `logib`; `shared/spec/transparency.md`): ln(standardized salary) on years of education, years of service,
//! potential experience and its square, skill level and professional position (categorical, base = highest
//! level) and a female indicator, by OLS with classical standard errors through [`crate::stats::ols`]; the
//! Kennedy (1981) estimator of the percentage effect and the four-level verdict.

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::eu::ByGender;
use super::options::TransparencyOptions;
use crate::data::{require_column, ColumnMap, Ledger, Reason};
use crate::stats::{ols, t_quantile, Estimate, Moments};
use crate::{Error, Result};

/// Fewer employees than this cannot be analysed with the standard model.
pub const LOGIB_MIN_EMPLOYEES: usize = 50;
/// The tolerance threshold ("target value") and the limit value of the Swiss model.
pub const LOGIB_TARGET: f64 = 0.025;
pub const LOGIB_LIMIT: f64 = 0.05;

/// The four-level verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogibVerdict {
    /// The female coefficient is not significant (two-sided t-test, 5%).
    NotSignificant,
    /// Significant, |k| ≤ 2.5% (the target value).
    BelowTarget,
    /// Significant, 2.5% < |k| ≤ 5% (the limit value).
    BelowLimit,
    /// Significant, |k| > 5%: exceeds the limit value.
    AboveLimit,
}

impl LogibVerdict {
    /// The verdict in words, as tables and the report print it.
    pub fn words(self) -> &'static str {
        match self {
            LogibVerdict::NotSignificant => "not significant",
            LogibVerdict::BelowTarget => "significant, within the 2.5% target",
            LogibVerdict::BelowLimit => "significant, within the 5% limit",
            LogibVerdict::AboveLimit => "significant, above the 5% limit",
        }
    }
}

/// The Logib block of the transparency document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogibResult {
    /// The female coefficient b (log points), SE, t-based 95% CI.
    pub coefficient: Estimate,
    pub t: f64,
    pub df: f64,
    pub p_value: f64,
    pub r2: f64,
    pub n: ByGender<u64>,
    /// Kennedy (1981): k = exp(b) / exp(V(b)/2) − 1.
    pub kennedy: f64,
    pub verdict: LogibVerdict,
    /// "Under otherwise equal circumstances women earn 3.1% less than men."
    pub reading: String,
    pub period: Option<String>,
    pub coefficients: Vec<(String, f64)>,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
}

/// The verdict from the significance of b and the Kennedy estimate (floored to 0.1 percentage points).
pub fn logib_verdict(p_value: f64, kennedy: f64) -> LogibVerdict {
    if p_value >= 0.05 {
        return LogibVerdict::NotSignificant;
    }
    let floored = (kennedy.abs() * 1000.0).floor() / 1000.0;
    if floored <= LOGIB_TARGET {
        LogibVerdict::BelowTarget
    } else if floored <= LOGIB_LIMIT {
        LogibVerdict::BelowLimit
    } else {
        LogibVerdict::AboveLimit
    }
}

fn numbers(frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(frame.column(name)?.cast(&DataType::Float64)?.f64()?.iter().collect())
}

/// A column as text (the labels are then borrowed from it, row by row, without copies).
fn text_column(frame: &DataFrame, name: &str) -> Result<StringChunked> {
    Ok(frame.column(name)?.cast(&DataType::String)?.str()?.clone())
}

/// Levels in sort order (numeric when all are numbers); the base is the highest.
fn sorted_levels(values: &[Option<&str>]) -> Vec<String> {
    let mut levels: Vec<String> =
        values.iter().flatten().collect::<std::collections::BTreeSet<_>>().into_iter().map(|l| l.to_string()).collect();
    if levels.iter().all(|l| l.parse::<f64>().is_ok()) {
        levels.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
    }
    levels
}

/// The Swiss standard analysis model on the rows of `period` (default: all rows; the transparency report
/// passes the snapshot period).
pub fn logib(frame: &DataFrame, options: &TransparencyOptions, period: Option<&str>) -> Result<LogibResult> {
    logib_with(frame, options, period, 0)
}

/// [`logib`] on rows that hold at least those of `period`, in input order; `elsewhere` counts the input
/// rows of other periods left out beforehand (streamed input keeps only the period's rows), ledgered as
/// filtered.
pub fn logib_with(
    frame: &DataFrame,
    options: &TransparencyOptions,
    period: Option<&str>,
    elsewhere: u64,
) -> Result<LogibResult> {
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let c = &options.logib;
    let fte = options.columns.fte.clone().filter(|f| !f.is_empty()).unwrap_or_else(|| "fte".into());
    for (column, role) in [
        (&c.education_years, "logib education_years"),
        (&c.tenure_years, "logib tenure_years"),
        (&c.age, "logib age"),
        (&c.skill_level, "logib skill_level"),
        (&c.position, "logib position"),
        (&fte, "fte"),
        (&options.columns.gender, "gender"),
    ] {
        require_column(column, role, &names)?;
    }
    let pay = options.pay.all();
    if pay.is_empty() {
        return Err(Error::Invalid("no pay components: set [pay] in the config".into()));
    }
    for p in &pay {
        require_column(p, "pay", &names)?;
    }
    let period_column = ColumnMap::resolve_optional(&options.columns.period, "period", &names);
    let mut ledger = Ledger::new(frame.height() as u64 + elsewhere);
    ledger.exclude(Reason::Filtered, elsewhere);
    // The period's rows first (a year of payroll holds twelve times more), by a vectorized filter.
    let in_period;
    let frame = match (&period_column, period) {
        (Some(pc), Some(p)) => {
            let mask = frame.column(pc)?.cast(&DataType::String)?.str()?.equal(p);
            // Only the columns of the model are filtered (a payroll has many more).
            let mut read: Vec<&str> = vec![pc.as_str(), options.columns.gender.as_str(), fte.as_str()];
            read.extend([&c.education_years, &c.tenure_years, &c.age, &c.skill_level, &c.position].map(String::as_str));
            read.extend(pay.iter().map(String::as_str));
            read.extend([c.population.as_str()].into_iter().filter(|p| names.iter().any(|n| n == p)));
            let employee_id = ColumnMap::resolve_optional(&options.columns.employee_id, "employee_id", &names);
            read.extend(employee_id.as_deref().filter(|id| names.iter().any(|n| n == id)));
            let mut columns: Vec<&str> = Vec::new();
            for name in read {
                if !columns.contains(&name) {
                    columns.push(name);
                }
            }
            in_period = frame.select(columns)?.filter(&mask)?;
            ledger.exclude(Reason::Filtered, (frame.height() - in_period.height()) as u64);
            &in_period
        }
        _ => frame,
    };
    let mut rows: Vec<usize> = (0..frame.height()).collect();
    if !c.population.is_empty() {
        require_column(&c.population, "logib population", &names)?;
        let population = text_column(frame, &c.population)?;
        let population: Vec<Option<&str>> = population.iter().collect();
        let before = rows.len();
        rows.retain(|&i| matches!(population[i], Some("true") | Some("1") | Some("1.0")));
        ledger.exclude(Reason::Filtered, (before - rows.len()) as u64);
    }
    // One row per employee: a later row of the same employee (in the period) is a duplicate.
    if let Some(id) = ColumnMap::resolve_optional(&options.columns.employee_id, "employee_id", &names) {
        let ids = text_column(frame, &id)?;
        let ids: Vec<Option<&str>> = ids.iter().collect();
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        let before = rows.len();
        rows.retain(|&i| ids[i].is_none_or(|v| seen.insert(v)));
        ledger.exclude(Reason::DuplicateKey, (before - rows.len()) as u64);
    }
    let gender_column = text_column(frame, &options.columns.gender)?;
    let gender: Vec<Option<&str>> = gender_column.iter().collect();
    let pay_values: Vec<Vec<Option<f64>>> = pay.iter().map(|p| numbers(frame, p)).collect::<Result<_>>()?;
    let (fte_v, edu, tenure, age) = (
        numbers(frame, &fte)?,
        numbers(frame, &c.education_years)?,
        numbers(frame, &c.tenure_years)?,
        numbers(frame, &c.age)?,
    );
    let (skill_column, position_column) = (text_column(frame, &c.skill_level)?, text_column(frame, &c.position)?);
    let skill: Vec<Option<&str>> = skill_column.iter().collect();
    let position: Vec<Option<&str>> = position_column.iter().collect();
    let (skill_levels, position_levels) = (sorted_levels(&skill), sorted_levels(&position));
    let genders = &options.gender_values;

    let mut design_names = vec![
        "_cons".to_string(),
        "education_years".into(),
        "tenure_years".into(),
        "potential_experience".into(),
        "potential_experience_sq".into(),
    ];
    // Base = the highest level: dummies for every other level.
    let skill_dummies = &skill_levels[..skill_levels.len().saturating_sub(1)];
    let position_dummies = &position_levels[..position_levels.len().saturating_sub(1)];
    design_names.extend(skill_dummies.iter().map(|l| format!("skill_level:{l}")));
    design_names.extend(position_dummies.iter().map(|l| format!("position:{l}")));
    design_names.push("female".into());
    let k = design_names.len();
    let mut moments = Moments::new(k);
    let (mut women, mut men) = (0u64, 0u64);
    let mut x = vec![0.0; k];
    for &i in &rows {
        let g = gender[i];
        let female = match g {
            None | Some("") => {
                ledger.exclude(Reason::NullGender, 1);
                continue;
            }
            Some(v) if genders.female.iter().any(|f| f == v) => true,
            Some(v) if genders.male.iter().any(|m| m == v) => false,
            Some(_) => {
                ledger.exclude(Reason::UnmappedGender, 1);
                continue;
            }
        };
        let parts: Vec<Option<f64>> = pay_values.iter().map(|p| p[i]).collect();
        if parts.iter().all(Option::is_none) {
            ledger.exclude(Reason::NullPay, 1);
            continue;
        }
        let total: f64 = parts.iter().flatten().sum();
        let salary = match fte_v[i] {
            Some(f) if f > 0.0 && f.is_finite() => total / f,
            _ => {
                ledger.exclude(Reason::NonPositiveHours, 1);
                continue;
            }
        };
        if !(salary > 0.0 && salary.is_finite()) {
            ledger.exclude(Reason::NonPositiveOutcome, 1);
            continue;
        }
        let (Some(e), Some(t), Some(a), Some(s), Some(p)) = (edu[i], tenure[i], age[i], skill[i], position[i]) else {
            ledger.exclude(Reason::NullCovariate, 1);
            continue;
        };
        let potential = (a - e - 6.0).max(0.0);
        x.fill(0.0);
        x[..5].copy_from_slice(&[1.0, e, t, potential, potential * potential]);
        if let Some(j) = skill_dummies.iter().position(|l| l == s) {
            x[5 + j] = 1.0;
        }
        if let Some(j) = position_dummies.iter().position(|l| l == p) {
            x[5 + skill_dummies.len() + j] = 1.0;
        }
        x[k - 1] = if female { 1.0 } else { 0.0 };
        moments.push(&x, salary.ln(), 1.0);
        if female {
            women += 1;
        } else {
            men += 1;
        }
    }
    let n = (women + men) as usize;
    if n < LOGIB_MIN_EMPLOYEES {
        return Err(Error::Invalid(format!(
            "Logib needs at least {LOGIB_MIN_EMPLOYEES} employees; {n} usable in the analysed population"
        )));
    }
    if women == 0 || men == 0 {
        return Err(Error::Invalid(format!(
            "Logib needs women and men; the analysed population has {women} women and {men} men"
        )));
    }
    let fit = ols(&moments, &design_names)?;
    if !fit.kept[k - 1] {
        return Err(Error::Invalid("the female indicator is collinear with the other regressors".into()));
    }
    let b = fit.coefficients[k - 1];
    let variance = fit.covariance[[k - 1, k - 1]];
    let se = variance.sqrt();
    let t = b / se;
    let df = fit.df_resid;
    let p_value = match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => 2.0 * (1.0 - dist.cdf(t.abs())),
        Err(_) => f64::NAN,
    };
    let kennedy = b.exp() / (variance / 2.0).exp() - 1.0;
    let verdict = logib_verdict(p_value, kennedy);
    let q = t_quantile(0.975, df);
    let reading = format!(
        "Under otherwise equal circumstances women earn {:.1}% {} than men",
        100.0 * kennedy.abs(),
        if kennedy < 0.0 { "less" } else { "more" }
    );
    Ok(LogibResult {
        coefficient: Estimate::symmetric(Some(b), Some(se), q),
        t,
        df,
        p_value,
        r2: fit.r2,
        n: ByGender { f: women, m: men },
        kennedy,
        verdict,
        reading,
        period: period.map(str::to_string),
        coefficients: design_names.iter().cloned().zip(fit.coefficients.iter().copied()).collect(),
        ledger,
        warnings: fit.warnings.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_levels_follow_the_floored_kennedy_estimate() {
        assert_eq!(logib_verdict(0.2, -0.09), LogibVerdict::NotSignificant);
        assert_eq!(logib_verdict(0.01, -0.0259), LogibVerdict::BelowTarget); // floors to 0.025
        assert_eq!(logib_verdict(0.01, -0.0261), LogibVerdict::BelowLimit);
        assert_eq!(logib_verdict(0.01, 0.0509), LogibVerdict::BelowLimit);
        assert_eq!(logib_verdict(0.01, -0.0511), LogibVerdict::AboveLimit);
    }
}
