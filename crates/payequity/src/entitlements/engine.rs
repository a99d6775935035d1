//! The audit engine: payroll rows → one line per worker × period × rule that applies, with expected
//! (amount × prorate, capped cumulatively per worker in time order, rounded), paid, shortfall and status.
//! Keys and periods are coded once in parallel (`data::keys`); every rule is a vectorized polars pipeline,
//! and the rules' pipelines run together in one `concat`.

use chrono::{Datelike, Months, NaiveDate};
use polars::prelude::*;
use rayon::prelude::*;

use super::compile::CompiledRule;
use super::rules::{CapYear, Combine, PeriodLength, RuleSet};
use crate::data::{column_codes, combine, later_occurrences, KeyCodes, Ledger, Reason};
use crate::{Error, Result};

/// Status codes of the `status` column of [`Lines`], in this order.
pub const STATUSES: [&str; 5] = ["ok", "underpaid", "not_paid", "overpaid", "late"];
pub(crate) const STATUS_UNDERPAID: u8 = 1;
pub(crate) const STATUS_NOT_PAID: u8 = 2;

/// Internal column names of the working frame and of the lines.
pub(crate) const ROW: &str = "__row";
pub(crate) const EMPLOYEE: &str = "__employee";
const START: &str = "__period_start";
const END: &str = "__period_end";
const YEAR: &str = "__year";
const PAID_ON: &str = "__paid_on";
pub(crate) const RULE: &str = "__rule";

/// Differences this close to zero are floating-point noise, never a shortfall.
const NOISE: f64 = 1e-9;

/// The payroll columns an audit reads besides those the rules name.
#[derive(Debug, Clone)]
pub(crate) struct Roles<'a> {
    pub employee_id: &'a str,
    pub period: &'a str,
}

/// Every worker × period × rule that applies.
#[derive(Debug)]
pub(crate) struct Lines {
    /// `__row` (input row), `__employee` (code), `__rule` (index), `expected`, `paid`, `shortfall`,
    /// `status` (code into [`STATUSES`]).
    pub frame: DataFrame,
    pub ledger: Ledger,
    /// Empty paid amounts per paid column (counted as nothing paid).
    pub paid_nulls: Vec<(String, u64)>,
    /// Rows without a payment date, when the rule set names a payment-date column.
    pub missing_payment_dates: Option<(String, u64)>,
    /// The first and last period start among the rows used (days since 1970-01-01).
    pub period_range: Option<(i32, i32)>,
}

/// Days since 1970-01-01 (polars' `Date`).
fn days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")).num_days() as i32
}

/// The date `days` after 1970-01-01; `None` beyond chrono's range (about ±262,000 years), so that a hostile
/// date value is refused instead of overflowing.
pub(crate) fn from_days(days: i32) -> Option<NaiveDate> {
    const CE_TO_EPOCH: i32 = 719_163;
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(CE_TO_EPOCH)?)
}

/// A period value as its first day: `YYYY-MM` (a month), `YYYY-MM-DD`, `YYYYMM`, a date or a datetime.
fn period_start(value: &AnyValue) -> Option<NaiveDate> {
    match value {
        AnyValue::String(s) => parse_period_text(s),
        AnyValue::StringOwned(s) => parse_period_text(s),
        AnyValue::Date(d) => from_days(*d),
        AnyValue::Datetime(v, unit, _) => {
            let per_day: i64 = match unit {
                TimeUnit::Nanoseconds => 86_400_000_000_000,
                TimeUnit::Microseconds => 86_400_000_000,
                TimeUnit::Milliseconds => 86_400_000,
            };
            from_days(i32::try_from(v.div_euclid(per_day)).ok()?)
        }
        other => {
            let number = other.extract::<i64>()?;
            match number {
                190_001..=299_912 => NaiveDate::from_ymd_opt((number / 100) as i32, (number % 100) as u32, 1),
                19_000_101..=29_991_231 => NaiveDate::from_ymd_opt(
                    (number / 10_000) as i32,
                    (number / 100 % 100) as u32,
                    (number % 100) as u32,
                ),
                _ => None,
            }
        }
    }
}

fn parse_period_text(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if text.len() == 7 {
        NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()
    } else {
        NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d").ok()
    }
}

/// The last day of the period starting on `start`.
fn period_end(start: NaiveDate, length: PeriodLength) -> NaiveDate {
    match length {
        PeriodLength::Month => start.checked_add_months(Months::new(1)).map_or(start, |d| d.pred_opt().unwrap_or(d)),
        PeriodLength::Fortnight => start.checked_add_days(chrono::Days::new(13)).unwrap_or(start),
        PeriodLength::Week => start.checked_add_days(chrono::Days::new(6)).unwrap_or(start),
        PeriodLength::Shift => start,
    }
}

/// For every kept row, the date of its value in `column` (parsed once per distinct value). Errors name
/// the column, the first row with an unparseable value and the value.
fn dates_by_value(
    column: &Column,
    codes: &KeyCodes,
    keep: &[bool],
    what: &str,
    fix: &str,
) -> Result<Vec<Option<NaiveDate>>> {
    // The first kept row of each distinct value, parsed once; then every row looks its value up.
    let mut first_row = vec![usize::MAX; codes.count];
    for (row, &code) in codes.codes.iter().enumerate() {
        if keep[row] && first_row[code as usize] == usize::MAX {
            first_row[code as usize] = row;
        }
    }
    let mut parsed: Vec<Option<NaiveDate>> = vec![None; codes.count];
    for (code, &row) in first_row.iter().enumerate() {
        if row == usize::MAX {
            continue;
        }
        let value = column.get(row)?;
        if !value.is_null() {
            parsed[code] = Some(period_start(&value).ok_or_else(|| Error::InvalidValue {
                column: column.name().to_string(),
                row,
                value: value.to_string(),
                reason: format!("not {what}; {fix}"),
            })?);
        }
    }
    Ok(codes
        .codes
        .par_iter()
        .zip(keep.par_iter())
        .map(|(&code, &kept)| if kept { parsed[code as usize] } else { None })
        .collect())
}

/// The input rows the audit uses: non-null keys, the first row of each (employee, period) key.
fn kept_rows(frame: &DataFrame, roles: &Roles, ledger: &mut Ledger) -> Result<(Vec<bool>, Vec<u32>, KeyCodes)> {
    let employee = frame.column(roles.employee_id)?;
    let period = frame.column(roles.period)?;
    let null_flags = |column: &Column| -> Vec<bool> {
        let mask = column.is_null();
        let mask = mask.rechunk();
        mask.downcast_as_array().values().iter().collect()
    };
    let null_key: Vec<bool> = null_flags(employee).into_iter().zip(null_flags(period)).map(|(a, b)| a || b).collect();
    let employees = column_codes(employee)?;
    let periods = column_codes(period)?;
    let keys = combine(&employees, &periods);
    let duplicate = later_occurrences(&keys, |row| !null_key[row]);
    let nulls = null_key.iter().filter(|&&n| n).count() as u64;
    let duplicates = duplicate.iter().zip(&null_key).filter(|(&d, &n)| d && !n).count() as u64;
    ledger.exclude(Reason::NullKey, nulls);
    ledger.exclude(Reason::DuplicateKey, duplicates);
    let keep = null_key.iter().zip(&duplicate).map(|(&n, &d)| !n && !d).collect();
    Ok((keep, employees.codes, periods))
}

/// Errors on a negative or non-finite paid amount (naming the column, the row and the rule); counts nulls
/// (nothing paid) per paid column.
fn check_paid(frame: &DataFrame, rules: &RuleSet, keep: &[bool]) -> Result<Vec<(String, u64)>> {
    let mut nulls_by_column = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for rule in &rules.rules {
        for name in &rule.paid {
            if seen.contains(&name.as_str()) {
                continue;
            }
            seen.push(name);
            let values = frame.column(name)?.cast(&DataType::Float64)?;
            let values = values.f64()?;
            let bad = |v: f64| !v.is_finite() || v < 0.0;
            // The cheap aggregates first; the row is looked for only when there is one to name.
            let suspicious = values.min().is_some_and(|m| m < 0.0)
                || values.max().is_some_and(|m| !m.is_finite())
                || values.iter().any(|v| v.is_some_and(f64::is_nan));
            if suspicious {
                if let Some((row, v)) =
                    values.iter().enumerate().find_map(|(row, v)| v.filter(|&v| keep[row] && bad(v)).map(|v| (row, v)))
                {
                    return Err(Error::InvalidValue {
                        column: name.clone(),
                        row,
                        value: v.to_string(),
                        reason: format!(
                            "a negative or non-finite amount paid (rule `{}`); record reversals against the period they correct",
                            rule.id
                        ),
                    });
                }
            }
            let nulls = if values.null_count() == 0 {
                0
            } else {
                values.iter().zip(keep).filter(|(v, &k)| k && v.is_none()).count() as u64
            };
            nulls_by_column.push((name.clone(), nulls));
        }
    }
    Ok(nulls_by_column)
}

/// Runs the rules over the payroll.
pub(crate) fn audit_lines(
    frame: &DataFrame,
    rules: &RuleSet,
    compiled: &[CompiledRule],
    roles: &Roles,
    file: &str,
) -> Result<Lines> {
    let height = frame.height();
    let mut ledger = Ledger::new(height as u64);
    let (keep, employee_codes, period_codes) = kept_rows(frame, roles, &mut ledger)?;
    let paid_nulls = check_paid(frame, rules, &keep)?;
    let mut missing_payment_dates = None;

    let starts = dates_by_value(
        frame.column(roles.period)?,
        &period_codes,
        &keep,
        "a period",
        "write periods as YYYY-MM (a month) or YYYY-MM-DD (the period's first day)",
    )?;
    let paid_on = match &rules.ruleset.payment_date {
        Some(name) => {
            let column = frame.column(name).map_err(|_| Error::Config {
                file: file.into(),
                key: "ruleset.payment_date".into(),
                reason: format!("column `{name}` is not in the payroll"),
            })?;
            let codes = column_codes(column)?;
            let dates = dates_by_value(column, &codes, &keep, "a date", "write payment dates as YYYY-MM-DD")?;
            let missing = dates.iter().zip(&keep).filter(|(d, &k)| k && d.is_none()).count();
            missing_payment_dates = Some((name.clone(), missing as u64));
            Some(dates)
        }
        None => None,
    };

    let used_columns = referenced_columns(compiled, frame.schema())?;
    let mut columns: Vec<Column> =
        used_columns.iter().map(|c| frame.column(c).cloned()).collect::<PolarsResult<_>>()?;
    let length = rules.ruleset.period;
    let start_days: Vec<Option<i32>> = starts.par_iter().map(|d| d.map(days)).collect();
    let end_days: Vec<Option<i32>> = starts.par_iter().map(|d| d.map(|d| days(period_end(d, length)))).collect();
    let years: Vec<Option<i32>> = starts.par_iter().map(|d| d.map(|d| d.year())).collect();
    columns.push(Column::new(ROW.into(), (0..height as u32).collect::<Vec<u32>>()));
    columns.push(Column::new(EMPLOYEE.into(), employee_codes));
    columns.push(Column::new(START.into(), start_days));
    columns.push(Column::new(END.into(), end_days));
    columns.push(Column::new(YEAR.into(), years));
    if let Some(paid_on) = &paid_on {
        columns.push(Column::new(PAID_ON.into(), paid_on.par_iter().map(|d| d.map(days)).collect::<Vec<_>>()));
    }
    for (i, rule) in rules.rules.iter().enumerate() {
        if rule.cap.as_ref().is_some_and(|c| c.per_year.is_some() && c.year == CapYear::Rule) {
            let from = rule.date_range(file)?.from.ok_or_else(|| Error::Config {
                file: file.into(),
                key: format!("rule[{}].cap.year", rule.id),
                reason: "`year = \"rule\"` needs effective.from".into(),
            })?;
            let rule_years: Vec<Option<i32>> = starts
                .iter()
                .map(|d| d.map(|d| d.year() - i32::from((d.month(), d.day()) < (from.month(), from.day()))))
                .collect();
            columns.push(Column::new(format!("__rule_year_{i}").into(), rule_years));
        }
    }
    let mut working = DataFrame::new_infer_height(columns)?;
    let mask = BooleanChunked::from_slice("keep".into(), &keep);
    working = working.filter(&mask)?;
    let period_range = {
        let start = working.column(START)?.i32()?;
        start.min().zip(start.max())
    };
    let cumulative = rules
        .rules
        .iter()
        .any(|r| r.cap.as_ref().is_some_and(|c| c.per_year.is_some() || c.per_worker_total.is_some()));
    // Cumulative caps follow each worker's periods in time order; windows keep row order, so the rows are
    // sorted unless they already come in period order (as payroll exports usually do).
    let in_time_order = {
        let start = working.column(START)?.i32()?;
        let mut previous = i32::MIN;
        start.iter().all(|s| {
            let s = s.unwrap_or(i32::MIN);
            let ordered = s >= previous;
            previous = s;
            ordered
        })
    };
    if cumulative && !in_time_order {
        working = working.sort([EMPLOYEE, START], SortMultipleOptions::default().with_multithreaded(true))?;
    }

    let expected: Vec<Expr> =
        (0..rules.rules.len()).map(|i| expected_expr(rules, compiled, i, file)).collect::<Result<_>>()?;
    let applies: Vec<Expr> =
        (0..rules.rules.len()).map(|i| applies_expr(rules, compiled, i, file)).collect::<Result<_>>()?;
    let mut pipelines = Vec::with_capacity(rules.rules.len());
    for (i, rule) in rules.rules.iter().enumerate() {
        let paid = paid_expr(rules, compiled, &applies, &expected, i);
        let late = match (rule.due_within_days, &paid_on) {
            (Some(days), Some(_)) => col(PAID_ON).gt(col(END) + lit(days as i32)).fill_null(lit(false)),
            _ => lit(false),
        };
        // Rows where the rule does not apply count 0 in its cumulative caps, so filtering first leaves the
        // caps unchanged; rules combined on one paid column need every rule's amounts on each row, so their
        // amounts are computed over all rows before the filter.
        let base = working.clone().lazy();
        let selected = if rule.combine.is_some() {
            base.with_columns([
                applies[i].clone().alias("__applies"),
                expected[i].clone().alias("expected"),
                paid.alias("paid"),
                late.alias("late"),
            ])
            .filter(col("__applies"))
        } else {
            base.filter(applies[i].clone()).with_columns([
                expected[i].clone().alias("expected"),
                paid.alias("paid"),
                late.alias("late"),
            ])
        };
        let pipeline = selected.select([
            col(ROW),
            col(EMPLOYEE),
            lit(i as u32).cast(DataType::UInt32).alias(RULE),
            col("expected"),
            col("paid"),
            col("late"),
            lit(rule.tolerance).alias("tolerance"),
        ]);
        pipelines.push(pipeline);
    }
    let lines = concat(pipelines, UnionArgs { parallel: true, rechunk: false, ..Default::default() })?
        .with_columns([
            (col("expected") - col("paid")).alias("short"),
            (col("tolerance") - lit(NOISE)).alias("threshold"),
        ])
        .with_columns([
            (col("short").gt_eq(col("threshold")).and(col("short").gt(lit(NOISE)))).alias("under"),
            ((-col("short")).gt_eq(col("threshold")).and((-col("short")).gt(lit(NOISE)))).alias("over"),
            col("paid").abs().lt(col("tolerance").clip_min(lit(NOISE))).alias("nothing"),
        ])
        .select([
            col(ROW),
            col(EMPLOYEE),
            col(RULE),
            col("expected"),
            col("paid"),
            when(col("under")).then(col("short")).otherwise(lit(0.0)).alias("shortfall"),
            when(col("under").and(col("nothing")))
                .then(lit(STATUS_NOT_PAID))
                .when(col("under"))
                .then(lit(STATUS_UNDERPAID))
                .when(col("over"))
                .then(lit(3u8))
                .when(col("late"))
                .then(lit(4u8))
                .otherwise(lit(0u8))
                .cast(DataType::UInt32)
                .alias("status"),
        ])
        .collect()?;
    refuse_non_finite(&lines, rules)?;
    Ok(Lines { frame: lines, ledger, paid_nulls, missing_payment_dates, period_range })
}

/// An amount that is infinite or not a number (a rule dividing by zero, an overflow) must not become
/// arrears: the first such line is an error naming the rule and the input row.
fn refuse_non_finite(lines: &DataFrame, rules: &RuleSet) -> Result<()> {
    for name in ["expected", "paid"] {
        let values = lines.column(name)?.f64()?;
        let Some(at) = values.iter().position(|v| v.is_some_and(|v| !v.is_finite())) else { continue };
        let rule = lines.column(RULE)?.u32()?.get(at).unwrap_or(0) as usize;
        let row = lines.column(ROW)?.cast(&DataType::UInt64)?.u64()?.get(at).unwrap_or(0);
        let id = rules.rules.get(rule).map_or("?", |r| r.id.as_str());
        return Err(Error::Invalid(format!(
            "rule `{id}` gives a {name} amount that is not a finite number at input row {} (a division by zero \
             or an overflow): guard the divisor, e.g. CASE WHEN hours_paid > 0 THEN … ELSE 0 END",
            row + 1
        )));
    }
    Ok(())
}

/// Payroll columns named by the compiled rules.
pub(crate) fn referenced_columns(compiled: &[CompiledRule], schema: &Schema) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for rule in compiled {
        let mut exprs = vec![rule.applies.clone(), rule.amount.clone(), rule.paid.clone()];
        exprs.extend(rule.prorate.clone());
        for expr in exprs {
            for name in expr.meta().root_names() {
                if schema.get(name.as_str()).is_some() && !names.iter().any(|n| n == name.as_str()) {
                    names.push(name.to_string());
                }
            }
        }
    }
    Ok(names)
}

/// `when` (and tiers) and the effective range.
fn applies_expr(rules: &RuleSet, compiled: &[CompiledRule], i: usize, file: &str) -> Result<Expr> {
    let range = rules.rules[i].date_range(file)?;
    let mut applies = compiled[i].applies.clone();
    if let Some(from) = range.from {
        applies = applies.and(col(START).gt_eq(lit(days(from))));
    }
    if let Some(to) = range.to {
        applies = applies.and(col(START).lt_eq(lit(days(to))));
    }
    Ok(applies)
}

/// expected = round(cap(amount × prorate)), caps per period, then cumulative per (worker, year) and per
/// worker in time order: capped = min(x, max(cap − Σ earlier x, 0)). Rows where the rule does not apply
/// count as 0, so windows over all of a worker's rows equal windows over the rows where it applies.
fn expected_expr(rules: &RuleSet, compiled: &[CompiledRule], i: usize, file: &str) -> Result<Expr> {
    let rule = &rules.rules[i];
    let mut x = compiled[i].amount.clone();
    if let Some(prorate) = &compiled[i].prorate {
        x = x * prorate.clone();
    }
    x = when(applies_expr(rules, compiled, i, file)?).then(x).otherwise(lit(0.0));
    if let Some(cap) = &rule.cap {
        if let Some(limit) = cap.per_period {
            x = x.clip_max(lit(limit));
        }
        let cumulative_cap = |x: Expr, limit: f64, by: Vec<Expr>| -> Result<Expr> {
            let earlier = x.clone().cum_sum(false).over(by)? - x.clone();
            Ok(polars::lazy::dsl::min_horizontal([x, (lit(limit) - earlier).clip_min(lit(0.0))])?)
        };
        if let Some(limit) = cap.per_year {
            let year = match cap.year {
                CapYear::Calendar => col(YEAR),
                CapYear::Rule => col(format!("__rule_year_{i}")),
            };
            x = cumulative_cap(x, limit, vec![col(EMPLOYEE), year])?;
        }
        if let Some(limit) = cap.per_worker_total {
            x = cumulative_cap(x, limit, vec![col(EMPLOYEE)])?;
        }
    }
    Ok(x.round(rules.ruleset.decimals, RoundMode::HalfAwayFromZero))
}

/// What was paid for rule `i`: its paid columns, or for rules combined on one column (`combine = "sum"`)
/// the share allocated to it — the rules in file order take up to their expected amount, the last rule
/// that applies on the row takes the rest.
fn paid_expr(rules: &RuleSet, compiled: &[CompiledRule], applies: &[Expr], expected: &[Expr], i: usize) -> Expr {
    let rule = &rules.rules[i];
    if rule.combine != Some(Combine::Sum) {
        return compiled[i].paid.clone();
    }
    let group: Vec<usize> = rules
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.combine == Some(Combine::Sum) && r.paid == rule.paid)
        .map(|(j, _)| j)
        .collect();
    let mut remaining = compiled[i].paid.clone();
    for (position, &j) in group.iter().enumerate() {
        let later_applies = group[position + 1..]
            .iter()
            .map(|&k| applies[k].clone())
            .reduce(|a, b| a.or(b))
            .unwrap_or_else(|| lit(false));
        let share = when(applies[j].clone())
            .then(
                when(later_applies)
                    .then(
                        polars::lazy::dsl::min_horizontal([remaining.clone(), expected[j].clone()]).unwrap_or(lit(0.0)),
                    )
                    .otherwise(remaining.clone()),
            )
            .otherwise(lit(0.0));
        if j == i {
            return share;
        }
        remaining = remaining - share;
    }
    compiled[i].paid.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_in_every_documented_form() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(period_start(&AnyValue::String("2025-03")), d(2025, 3, 1));
        assert_eq!(period_start(&AnyValue::String("2025-03-15")), d(2025, 3, 15));
        assert_eq!(period_start(&AnyValue::Int64(202503)), d(2025, 3, 1));
        assert_eq!(period_start(&AnyValue::Int64(20250315)), d(2025, 3, 15));
        assert_eq!(period_start(&AnyValue::String("March")), None);
        assert_eq!(period_end(d(2024, 2, 1).unwrap(), PeriodLength::Month), d(2024, 2, 29).unwrap());
        assert_eq!(period_end(d(2024, 2, 5).unwrap(), PeriodLength::Week), d(2024, 2, 11).unwrap());
    }
}
