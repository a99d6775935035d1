//! Pay measures applied to a copy of the payroll (docs/scenarios.md). The state is the raise of every row
//! in every pay component; a measure adds to it, in order, so that later measures see the pay the earlier
//! ones produced and `cap` can scale the raises back.
//!
//! - `percent`: raise_c += pct/100 × (pay_c + raise_c) for every pay component c (every percentage gap is
//!   unchanged when it applies to all rows);
//! - `flat`: the ordinary component gains amount × rate hours (or the amount per row);
//! - `floor`: the ordinary component gains max(0, floor × rate hours − ordinary pay);
//! - `equal_value`: each incumbent row of a class with a shortfall gains shortfall per hour × rate hours;
//! - `pay_arrears`: each rule's `paid` column gains the audit's shortfall of the worker and period;
//! - `cap`: when a row's total raise exceeds the cap, every component's raise is scaled down to it.
//!
//! Rate hours are paid hours less `[equal_value] subtract_hours` (overtime hours, paid at another rate).
//! A rate column used as an outcome (e.g. `base_hourly_rate`) moves with the ordinary component:
//! rate × (ordinary pay after / before).

use std::path::Path;

use polars::prelude::*;

use super::base::ScenarioBase;
use super::spec::Measure;
use crate::config::AuditConfig;
use crate::{Error, Result};

/// Which columns the measures change and read, from the audit config.
#[derive(Debug, Clone)]
pub struct PayModel {
    /// Every pay component (`[pay]` ordinary, variable, bonus; else `[columns] pay`).
    pub components: Vec<String>,
    /// The component flat raises, floors and equal-value raises go to (the first ordinary one).
    pub ordinary: String,
    /// Paid hours.
    pub hours: String,
    /// Hours not paid at the ordinary rate (`[equal_value] subtract_hours`, e.g. overtime hours): the floor's
    /// and the per-hour amounts' hours are `hours` less these.
    pub subtract_hours: Vec<String>,
    /// Rate columns that move with the ordinary component (the Oaxaca outcome when it is not a component).
    pub rates: Vec<String>,
    /// The employee id column (`[columns] employee_id`, else `employee_id`), when the payroll has it.
    pub employee_id: Option<String>,
}

impl PayModel {
    /// The model of `config` for a payroll with `columns`; missing columns are named.
    pub fn new(config: &AuditConfig, columns: &[String]) -> Result<PayModel> {
        let map = config.columns.clone().unwrap_or_default();
        let components = match &config.pay {
            Some(pay) if !pay.all().is_empty() => pay.all(),
            _ if !map.pay.is_empty() => map.pay.clone(),
            _ => vec!["pay".into()],
        };
        let ordinary =
            config.pay.as_ref().and_then(|p| p.ordinary.first().cloned()).unwrap_or_else(|| components[0].clone());
        let hours = map.hours.clone().filter(|h| !h.is_empty()).unwrap_or_else(|| "hours".into());
        for (column, role) in components.iter().map(|c| (c, "pay")).chain([(&hours, "hours")]) {
            crate::data::require_column(column, role, columns)?;
        }
        let mut rates = Vec::new();
        if let Some(oaxaca) = &config.oaxaca {
            if !oaxaca.outcome.is_empty() && !components.contains(&oaxaca.outcome) && columns.contains(&oaxaca.outcome)
            {
                rates.push(oaxaca.outcome.clone());
            }
        }
        let subtract_hours = match &config.equal_value {
            Some(_) => config.equal_value_options()?.subtract_hours,
            None => Vec::new(),
        };
        for column in &subtract_hours {
            crate::data::require_column(column, "subtract_hours", columns)?;
        }
        let employee_id = Some(map.employee_id.clone().unwrap_or_else(|| "employee_id".into()))
            .filter(|id| !id.is_empty() && columns.contains(id));
        Ok(PayModel { components, ordinary, hours, subtract_hours, rates, employee_id })
    }
}

/// The payroll under the measures so far: the prepared rows and each component's raise per row.
#[derive(Debug)]
pub struct Adjusted<'b> {
    pub base: &'b ScenarioBase<'b>,
    /// Raise per row, one vector per component (in `model.components` order).
    pub raises: Vec<Vec<f64>>,
}

impl PayModel {
    /// The position of the ordinary component in `components`.
    pub fn ordinary_index(&self) -> usize {
        self.components.iter().position(|c| *c == self.ordinary).unwrap_or(0)
    }
}

impl<'b> Adjusted<'b> {
    pub fn new(base: &'b ScenarioBase<'b>) -> Adjusted<'b> {
        let rows = base.frame.height();
        Adjusted { base, raises: vec![vec![0.0; rows]; base.model.components.len()] }
    }

    fn index(&self, component: &str) -> Result<usize> {
        self.base.model.components.iter().position(|c| c == component).ok_or_else(|| {
            Error::Invalid(format!("column `{component}` is not a pay component of the config's [pay] section"))
        })
    }

    /// The total raise of each row.
    pub fn total_raise(&self) -> Vec<f64> {
        let mut total = vec![0.0; self.base.frame.height()];
        for raise in &self.raises {
            for (t, r) in total.iter_mut().zip(raise) {
                *t += r;
            }
        }
        total
    }

    /// The payroll with the raises added to the components and the rate columns moved with the ordinary pay
    /// (what the entitlement audit of `pay_arrears` reads, and the full recomputation the tests compare
    /// the prepared figures with).
    pub fn frame(&self) -> Result<DataFrame> {
        let mut frame = self.base.frame.clone();
        let model = &self.base.model;
        for (component, raise) in model.components.iter().zip(&self.raises) {
            let column = self.base.frame.column(component)?.cast(&DataType::Float64)?;
            let adjusted: Float64Chunked = column
                .f64()?
                .iter()
                .zip(raise)
                .map(|(v, r)| v.map(|v| if v.is_finite() { v + r } else { v }))
                .collect();
            frame.with_column(adjusted.with_name(component.as_str().into()).into_column())?;
        }
        for rate in &model.rates {
            if let Some(moved) = self.base.outcome_after(rate, &self.raises)? {
                frame.with_column(moved.with_name(rate.as_str().into()).into_column())?;
            }
        }
        Ok(frame)
    }

    /// Rows the measure's `where` selects (every row without one).
    fn selected(&self, condition: Option<&str>) -> Result<Vec<bool>> {
        let valid = &self.base.valid;
        let Some(text) = condition else { return Ok(valid.clone()) };
        let shown = crate::entitlements::sql_guard::shown(text);
        crate::entitlements::sql_guard::check_sql_expression(text)
            .map_err(|reason| Error::Invalid(format!("measure `where` {shown} is refused: {reason}")))?;
        let expr = polars::sql::sql_expr(text)
            .map_err(|e| Error::Invalid(format!("measure `where` {shown} does not parse: {e}")))?;
        let frame = self.base.frame;
        let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
        for name in expr.clone().meta().root_names() {
            crate::data::require_column(name.as_str(), "measure `where`", &names)?;
        }
        let mask = frame.clone().lazy().select([expr.alias("__where")]).collect()?;
        let mask = mask.column("__where")?.cast(&DataType::Boolean).map_err(|_| {
            Error::Invalid(format!("measure `where` {shown} is not a condition (true/false) on this payroll"))
        })?;
        Ok(mask.bool()?.iter().zip(valid).map(|(v, ok)| *ok && v.unwrap_or(false)).collect())
    }

    /// Applies one measure (`base_dir`: where relative rule files start).
    pub fn apply(&mut self, measure: &Measure, config: &AuditConfig, base_dir: &Path) -> Result<()> {
        let base = self.base;
        let hours = &base.rate_hours;
        match measure {
            Measure::Percent { pct, condition } => {
                let rows = self.selected(condition.as_deref())?;
                for (c, pay) in base.pay.iter().enumerate() {
                    for (i, raise) in self.raises[c].iter_mut().enumerate() {
                        if rows[i] {
                            *raise += pct / 100.0 * (pay[i] + *raise);
                        }
                    }
                }
            }
            Measure::Flat { amount_per_hour, amount_per_period, condition } => {
                let rows = self.selected(condition.as_deref())?;
                let o = base.model.ordinary_index();
                for (i, raise) in self.raises[o].iter_mut().enumerate() {
                    if rows[i] {
                        *raise +=
                            amount_per_hour.map_or(0.0, |a| a * hours[i].max(0.0)) + amount_per_period.unwrap_or(0.0);
                    }
                }
            }
            Measure::Floor { rate_per_hour, condition } => {
                let rows = self.selected(condition.as_deref())?;
                let o = base.model.ordinary_index();
                let pay = &base.pay[o];
                for (i, raise) in self.raises[o].iter_mut().enumerate() {
                    if rows[i] && hours[i] > 0.0 {
                        *raise += (rate_per_hour * hours[i] - (pay[i] + *raise)).max(0.0);
                    }
                }
            }
            Measure::EqualValue { method } => self.equal_value(*method)?,
            Measure::PayArrears { rules } => self.pay_arrears(&base_dir.join(rules), config)?,
            Measure::Cap { amount_per_hour, amount_per_period } => {
                let total = self.total_raise();
                for (i, t) in total.iter().enumerate() {
                    let cap = amount_per_hour.map_or(0.0, |a| a * hours[i].max(0.0)) + amount_per_period.unwrap_or(0.0);
                    if *t > cap && *t > 0.0 {
                        let scale = cap / t;
                        for raise in &mut self.raises {
                            raise[i] *= scale;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Raises every incumbent row of a class with a shortfall by the shortfall per hour × its rate hours
    /// (paid hours less `subtract_hours`), in the equal-value pay component; the shortfalls are those of
    /// the pay so far (earlier measures may have closed some).
    fn equal_value(&mut self, method: crate::equal_value::Method) -> Result<()> {
        let base = self.base;
        let Some(options) = base.equal_value_options() else {
            return Err(Error::Invalid(
                "an `equal_value` measure needs the config's [equal_value] section (scheme, ratings, job)".into(),
            ));
        };
        if !options.method.contains(&method) {
            return Err(Error::Invalid(
                "internal: the scenario base was prepared without this equal-value method".into(),
            ));
        }
        let result = base.equal_value(&self.raises)?.expect("[equal_value] is configured");
        let component = options.pay.first().cloned().unwrap_or_else(|| base.model.ordinary.clone());
        let c = self.index(&component)?;
        let shortfall: std::collections::HashMap<&str, f64> = result
            .comparisons
            .iter()
            .filter(|c| c.method == method && c.shortfall_per_hour > 0.0)
            .map(|c| (c.job.as_str(), c.shortfall_per_hour))
            .collect();
        if shortfall.is_empty() {
            return Ok(());
        }
        let jobs = base.frame.column(&options.job)?.cast(&DataType::String)?;
        for (i, job) in jobs.str()?.iter().enumerate() {
            let Some(per_hour) = job.and_then(|j| shortfall.get(j)) else { continue };
            if base.rate_hours[i] > 0.0 && base.valid[i] {
                self.raises[c][i] += per_hour * base.rate_hours[i];
            }
        }
        Ok(())
    }

    /// Pays the arrears of the entitlement audit with `rules` into each rule's `paid` column.
    fn pay_arrears(&mut self, rules: &Path, config: &AuditConfig) -> Result<()> {
        let set = crate::entitlements::RuleSet::from_file(rules)?;
        let options = crate::entitlements::EntitlementOptions { logit: false, ..config.entitlement_options()? };
        let audit = crate::entitlements::audit_entitlements(&self.frame()?, &set, &options)?;
        let map = config.columns.clone().unwrap_or_default();
        let id = map.employee_id.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| "employee_id".into());
        let period = map.period.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| "period".into());
        let text = |column: &str| -> Result<Vec<Option<String>>> {
            let values = self.base.frame.column(column)?.cast(&DataType::String)?;
            Ok(values.str()?.iter().map(|v| v.map(str::to_string)).collect())
        };
        let (ids, periods) = (text(&id)?, text(&period)?);
        let mut row_of = std::collections::HashMap::new();
        for (i, key) in ids.into_iter().zip(periods).enumerate() {
            if let (Some(e), Some(p)) = key {
                row_of.entry((e, p)).or_insert(i);
            }
        }
        let arrears = &audit.arrears;
        let column = |name: &str| -> Result<Vec<Option<String>>> {
            let values = arrears.column(name)?.cast(&DataType::String)?;
            Ok(values.str()?.iter().map(|v| v.map(str::to_string)).collect())
        };
        let (workers, rule_ids, arrear_periods) = (column("employee_id")?, column("rule")?, column("period")?);
        let shortfall = arrears.column("shortfall")?.cast(&DataType::Float64)?;
        for (k, amount) in shortfall.f64()?.iter().enumerate() {
            let (Some(amount), Some(worker), Some(rule), Some(p)) =
                (amount, workers[k].clone(), rule_ids[k].clone(), arrear_periods[k].clone())
            else {
                continue;
            };
            let Some(&row) = row_of.get(&(worker, p)) else { continue };
            let paid = set.rules.iter().find(|r| r.id == rule).and_then(|r| r.paid.first().cloned());
            let Some(paid) = paid else { continue };
            let c = self.index(&paid)?;
            self.raises[c][row] += amount.max(0.0);
        }
        Ok(())
    }
}
