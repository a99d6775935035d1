//! The payroll prepared once for every scenario ([`ScenarioBase`]): the rows' pay per component, rate hours
//! and the rows measures may raise, and each configured analysis validated once into its units — the gap's
//! employee × cell units, the EU figures' spells and annual-pay units, the equal-value incumbents, the
//! Oaxaca plan. A scenario's raises are then added to the units their rows went into
//! ([`crate::data::Prepared::unit_of_row`]) and only the analyses' last step runs again (group means and
//! medians, the Art. 10 table, job classes and comparisons, the Oaxaca moments), instead of validating and
//! aggregating the rows for every scenario.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::apply::PayModel;
use crate::config::AuditConfig;
use crate::data::{component_column, Ledger, Prepared, COL_PAY, FEMALE, MALE, NO_UNIT};
use crate::decompose::{OaxacaOptions, Plan, SeMethod, Vce};
use crate::equal_value::{
    incumbents, load_scheme_and_ratings, score_jobs, EqualValueOptions, EqualValueResult, Incumbent, JobScore, Method,
    Scheme,
};
use crate::gap::{GapOptions, GapResult};
use crate::transparency::{Regime, TransparencyOptions};
use crate::{Error, Result};

use super::engine::Figures;

/// The units of the gap analysis and its options (no bootstrap: a scenario reports point estimates).
struct GapBase {
    options: GapOptions,
    units: Prepared,
}

/// The two unit sets of the EU figures.
struct EuBase {
    options: TransparencyOptions,
    spells: Prepared,
    annual_pay: Prepared,
}

/// The equal-value analysis up to its incumbents (one per unit of `units`, in order).
struct EqualValueBase {
    options: EqualValueOptions,
    scheme: Scheme,
    scores: BTreeMap<String, JobScore>,
    scheme_warnings: Vec<String>,
    units: Prepared,
    /// The pay components summed into the incumbents' pay.
    pay: Vec<String>,
    incumbents: Vec<Incumbent>,
}

/// The Oaxaca plan and the columns it reads.
struct OaxacaBase {
    options: OaxacaOptions,
    plan: Plan,
    /// The columns the plan reads (the outcome replaced per scenario).
    frame: DataFrame,
}

/// The payroll prepared once for every scenario (see the module docs).
pub struct ScenarioBase<'a> {
    pub frame: &'a DataFrame,
    pub model: PayModel,
    /// Each component's values per row (nulls and non-finite values as 0).
    pub pay: Vec<Vec<f64>>,
    /// Paid hours less `subtract_hours`, per row.
    pub rate_hours: Vec<f64>,
    /// Rows the measures may raise: ordinary pay finite and not negative, hours finite and positive, and the
    /// first row of a repeated (employee_id, period) key among those (the others are excluded by every
    /// analysis, so a raise there would be a cost without a figure).
    pub valid: Vec<bool>,
    /// 12 / the number of monthly periods (1 without a period column).
    pub annual: f64,
    workers: Workers,
    gap: GapBase,
    eu: Option<EuBase>,
    equal_value: Option<EqualValueBase>,
    oaxaca: Option<OaxacaBase>,
}

impl std::fmt::Debug for ScenarioBase<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScenarioBase")
            .field("rows", &self.frame.height())
            .field("model", &self.model)
            .field("annual", &self.annual)
            .field("gap_units", &self.gap.units.frame.height())
            .field("eu", &self.eu.is_some())
            .field("equal_value", &self.equal_value.is_some())
            .field("oaxaca", &self.oaxaca.is_some())
            .finish()
    }
}

/// Each component's values of `frame` per row (nulls and non-finite values as 0).
pub(crate) fn values_of(frame: &DataFrame, column: &str) -> Result<Vec<f64>> {
    let values = frame.column(column)?.cast(&DataType::Float64)?;
    Ok(values.f64()?.iter().map(|v| v.filter(|v| v.is_finite()).unwrap_or(0.0)).collect())
}

impl<'a> ScenarioBase<'a> {
    /// Validates `frame` once for every analysis `config` sets up; `methods` are the equal-value methods the
    /// scenarios' `equal_value` measures use (compared after the config's own, whose first gives the
    /// shortfall figure).
    pub fn new(frame: &'a DataFrame, config: &AuditConfig, methods: &[Method]) -> Result<ScenarioBase<'a>> {
        if config.input.format == crate::data::InputFormat::Long {
            return Err(Error::Invalid(
                "bargaining scenarios raise pay columns row by row, so they need wide input (one row per \
                 employee and period); hint: pivot the long payroll first (payequity::data::pivot_long) and set \
                 `[input] format = \"wide\"`"
                    .into(),
            ));
        }
        let columns: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
        let model = PayModel::new(config, &columns)?;
        let pay = model.components.iter().map(|c| values_of(frame, c)).collect::<Result<Vec<_>>>()?;
        let mut rate_hours = values_of(frame, &model.hours)?;
        for column in &model.subtract_hours {
            for (h, s) in rate_hours.iter_mut().zip(values_of(frame, column)?) {
                *h -= s;
            }
        }
        let map = config.columns.clone().unwrap_or_default();
        let period = map.period.clone().unwrap_or_else(|| "period".into());
        let keys = match &model.employee_id {
            Some(id) => {
                let period = Some(period.as_str()).filter(|p| !p.is_empty() && columns.iter().any(|c| c == p));
                Some(crate::data::RowKeys::compute(frame, id, period)?)
            }
            None => None,
        };
        let valid = raisable_rows(frame, &model, keys.as_ref())?;
        let workers = Workers::new(frame, config, keys.as_ref())?;
        let annual = annual_factor(frame, config)?;
        let gap = {
            let mut options = config.gap_options();
            options.bootstrap_reps = 0;
            let factors = options.factors.clone().unwrap_or_else(|| options.by.clone());
            let mut keep = options.by.clone();
            keep.extend(factors.iter().filter(|f| !options.by.contains(f)).cloned());
            crate::gap::check_options(&options)?;
            let units = crate::data::prepare(frame, &options.prepare_spec(&keep, true))?;
            GapBase { options, units }
        };
        let eu = match &config.transparency {
            Some(_) => {
                let mut options = config.transparency_options()?;
                options.regimes = vec![Regime::Eu];
                let (spells, annual_pay) = crate::transparency::eu_units(frame, &options)?;
                Some(EuBase { options, spells, annual_pay })
            }
            None => None,
        };
        let equal_value = match &config.equal_value {
            Some(_) => {
                let mut options = config.equal_value_options()?;
                for method in methods {
                    if !options.method.contains(method) {
                        options.method.push(*method);
                    }
                }
                Some(equal_value_base(frame, options)?)
            }
            None => None,
        };
        let oaxaca = match &config.oaxaca {
            Some(_) => {
                let mut options = config.oaxaca_options();
                // Point estimates: the standard errors are not reported for a scenario.
                options.se = SeMethod::None;
                options.vce = Vce::Classical;
                let plan = crate::decompose::oaxaca_plan(frame, &options)?;
                let names: Vec<String> = options.columns_used().into_iter().filter(|c| columns.contains(c)).collect();
                Some(OaxacaBase { plan, frame: frame.select(names)?, options })
            }
            None => None,
        };
        Ok(ScenarioBase { frame, model, pay, rate_hours, valid, annual, workers, gap, eu, equal_value, oaxaca })
    }

    /// Σ of every pay component over the rows measures may raise (before annualizing).
    pub fn payroll_total(&self) -> f64 {
        self.pay
            .iter()
            .map(|values| values.iter().zip(&self.valid).filter(|(_, ok)| **ok).map(|(v, _)| v).sum::<f64>())
            .sum()
    }

    /// The figures with `raises` (per component, per row) added to the pay; `only` computes just the
    /// analysis one target metric needs.
    pub fn figures(&self, raises: &[Vec<f64>], only: Option<&str>) -> Result<Figures> {
        Ok(self.figures_and_gap(raises, only)?.0)
    }

    /// The figures of the payroll as it is, with the gap analysis' ledger and warnings.
    pub fn baseline(&self) -> Result<(Figures, Ledger, Vec<String>)> {
        let zero = vec![vec![0.0; self.frame.height()]; self.model.components.len()];
        let (figures, gap) = self.figures_and_gap(&zero, None)?;
        let gap = gap.expect("every figure was asked for");
        Ok((figures, gap.ledger, gap.warnings))
    }

    fn figures_and_gap(&self, raises: &[Vec<f64>], only: Option<&str>) -> Result<(Figures, Option<GapResult>)> {
        let wants = |metrics: &[&str]| only.is_none_or(|m| metrics.contains(&m));
        let mut figures = Figures {
            mean_gap_pct: None,
            median_gap_pct: None,
            unexplained: None,
            art10_categories: Vec::new(),
            equal_value_shortfall_annual: None,
        };
        let mut gap_result = None;
        if wants(&["mean_gap_pct", "median_gap_pct"]) {
            let gap = crate::gap::gap_prepared(&self.raised(&self.gap.units, raises)?, &self.gap.options)?;
            figures.mean_gap_pct = gap.overall.mean_gap_pct.estimate;
            figures.median_gap_pct = gap.overall.median_gap_pct.estimate;
            gap_result = Some(gap);
        }
        if wants(&["unexplained"]) {
            figures.unexplained = self.unexplained(raises)?;
        }
        if wants(&["art10_categories"]) {
            if let Some(eu) = &self.eu {
                let result = crate::transparency::eu_from_units(
                    &self.raised(&eu.spells, raises)?,
                    &self.raised(&eu.annual_pay, raises)?,
                    &eu.options,
                )?;
                figures.art10_categories =
                    result.art10_flags.iter().map(|f| f.category.clone().unwrap_or_else(|| "all".into())).collect();
            }
        }
        if wants(&["equal_value_shortfall_annual"]) && self.equal_value.is_some() {
            figures.equal_value_shortfall_annual =
                self.equal_value(raises)?.and_then(|r| r.costs.first().map(|c| c.annual_total));
        }
        Ok((figures, gap_result))
    }

    /// The equal-value analysis with `raises` added to the incumbents' pay (`None` without `[equal_value]`).
    pub fn equal_value(&self, raises: &[Vec<f64>]) -> Result<Option<EqualValueResult>> {
        let Some(base) = &self.equal_value else { return Ok(None) };
        let sums = self.unit_sums(&base.units, &base.pay, raises)?;
        let mut incumbents = base.incumbents.clone();
        for (incumbent, raise) in incumbents.iter_mut().zip(&sums.total) {
            incumbent.pay += raise;
        }
        let result = crate::equal_value::equal_value_from(
            &incumbents,
            &base.units,
            &base.scores,
            &base.scheme,
            base.scheme_warnings.clone(),
            &base.options,
        )?;
        Ok(Some(result))
    }

    /// The equal-value options (`None` without `[equal_value]`).
    pub fn equal_value_options(&self) -> Option<&EqualValueOptions> {
        self.equal_value.as_ref().map(|b| &b.options)
    }

    /// The unexplained Oaxaca part with the outcome moved by `raises` (`None` without `[oaxaca]`).
    pub fn unexplained(&self, raises: &[Vec<f64>]) -> Result<Option<f64>> {
        let Some(base) = &self.oaxaca else { return Ok(None) };
        let frame = self.with_outcome(base, self.outcome_after(&base.options.outcome, raises)?)?;
        let moments = base.plan.scan(&frame, 0)?;
        let result = crate::decompose::finish(&base.plan, moments, None, None, &base.options)?;
        Ok(result.twofold.unexplained.estimate)
    }

    /// The Oaxaca outcome of every row after `raises`: a pay component plus its raise, or a rate column
    /// moved with the ordinary pay (rate × ordinary after / before).
    pub fn outcome_after(&self, outcome: &str, raises: &[Vec<f64>]) -> Result<Option<Float64Chunked>> {
        let before = self.frame.column(outcome)?.cast(&DataType::Float64)?;
        let before = before.f64()?;
        if let Some(c) = self.model.components.iter().position(|x| x == outcome) {
            if raises[c].iter().all(|r| *r == 0.0) {
                return Ok(None);
            }
            let moved = before.iter().zip(&raises[c]).map(|(v, r)| v.map(|v| if v.is_finite() { v + r } else { v }));
            return Ok(Some(moved.collect()));
        }
        if !self.model.rates.iter().any(|r| r == outcome) {
            return Ok(None);
        }
        let o = self.model.ordinary_index();
        if raises[o].iter().all(|r| *r == 0.0) {
            return Ok(None);
        }
        let ordinary = &self.pay[o];
        let moved = before
            .iter()
            .zip(ordinary.iter().zip(&raises[o]))
            .map(|(v, (b, r))| v.map(|v| if *b > 0.0 { v * (b + r) / b } else { v }));
        Ok(Some(moved.collect()))
    }

    fn with_outcome(&self, base: &OaxacaBase, outcome: Option<Float64Chunked>) -> Result<DataFrame> {
        let mut frame = base.frame.clone();
        if let Some(values) = outcome {
            frame.with_column(values.with_name(base.options.outcome.as_str().into()).into_column())?;
        }
        Ok(frame)
    }

    /// The Oaxaca plan, the columns it reads and its options (for the individual adjustments).
    pub(crate) fn oaxaca_parts(&self) -> Option<(&Plan, &DataFrame, &OaxacaOptions)> {
        self.oaxaca.as_ref().map(|b| (&b.plan, &b.frame, &b.options))
    }

    /// The employee id of each row as text (`None` without an employee id column).
    pub(crate) fn employee_ids(&self) -> Result<Option<StringChunked>> {
        let id = self.model.employee_id.as_deref().filter(|id| self.frame.column(id).is_ok());
        Ok(match id {
            Some(id) => Some(self.frame.column(id)?.cast(&DataType::String)?.str()?.clone()),
            None => None,
        })
    }

    /// The per-unit sums of `raises`: each prepared component's, and their total.
    fn unit_sums(&self, units: &Prepared, components: &[String], raises: &[Vec<f64>]) -> Result<UnitSums> {
        let of_row = units.unit_of_row.as_ref().ok_or_else(|| {
            Error::Invalid("internal: scenario units without their rows (long or streamed input)".into())
        })?;
        let n = units.frame.height();
        let mut by_component = Vec::with_capacity(components.len());
        let mut total = vec![0.0; n];
        for component in components {
            let mut sums = vec![0.0; n];
            if let Some(c) = self.model.components.iter().position(|x| x == component) {
                for (unit, raise) in of_row.iter().zip(&raises[c]) {
                    if *unit != NO_UNIT && *raise != 0.0 {
                        sums[*unit as usize] += raise;
                    }
                }
            }
            for (t, s) in total.iter_mut().zip(&sums) {
                *t += s;
            }
            by_component.push(sums);
        }
        Ok(UnitSums { by_component, total })
    }

    /// `units` with the raises of their rows added to the pay and to each component's sum.
    fn raised(&self, units: &Prepared, raises: &[Vec<f64>]) -> Result<Prepared> {
        let sums = self.unit_sums(units, &units.components, raises)?;
        let mut frame = units.frame.clone();
        let add = |frame: &mut DataFrame, name: &str, sums: &[f64]| -> Result<()> {
            let column = frame.column(name)?.f64()?.clone();
            let moved: Float64Chunked = column.iter().zip(sums).map(|(v, s)| v.map(|v| v + s)).collect();
            frame.with_column(moved.with_name(name.into()).into_column())?;
            Ok(())
        };
        for (component, component_sums) in units.components.iter().zip(&sums.by_component) {
            add(&mut frame, &component_column(component), component_sums)?;
        }
        add(&mut frame, COL_PAY, &sums.total)?;
        Ok(Prepared { frame, ..units.clone() })
    }
}

/// Per-unit raise sums.
struct UnitSums {
    by_component: Vec<Vec<f64>>,
    total: Vec<f64>,
}

/// The equal-value analysis validated up to its incumbents.
fn equal_value_base(frame: &DataFrame, options: EqualValueOptions) -> Result<EqualValueBase> {
    let (scheme, ratings, scheme_warnings) = load_scheme_and_ratings(&options)?;
    crate::equal_value::check_methods(&options)?;
    let scores = score_jobs(&scheme, &ratings)?;
    let (incumbents, units) = incumbents(frame, &options)?;
    if incumbents.len() != units.frame.height() {
        return Err(Error::Invalid("internal: equal-value incumbents do not match their units".into()));
    }
    // The incumbents' pay is the sum of the equal-value pay components (`[equal_value] pay`, else every
    // component): their raises are summed per unit over these.
    let mut pay = crate::equal_value::incumbent_validation(&options).columns.pay;
    if pay.is_empty() {
        pay = vec!["pay".into()];
    }
    Ok(EqualValueBase { options, scheme, scores, scheme_warnings, units, pay, incumbents })
}

/// The rows measures may raise (see [`ScenarioBase::valid`]).
fn raisable_rows(frame: &DataFrame, model: &PayModel, keys: Option<&crate::data::RowKeys>) -> Result<Vec<bool>> {
    let column = |name: &str| -> Result<Vec<Option<f64>>> {
        Ok(frame.column(name)?.cast(&DataType::Float64)?.f64()?.iter().collect())
    };
    let (pay, hours) = (column(&model.ordinary)?, column(&model.hours)?);
    let mut valid: Vec<bool> = pay
        .iter()
        .zip(&hours)
        .map(|(p, h)| p.is_some_and(|p| p.is_finite() && p >= 0.0) && h.is_some_and(|h| h.is_finite() && h > 0.0))
        .collect();
    if let Some(later) = keys.and_then(|k| k.later_occurrences(|row| valid[row])) {
        for (ok, repeat) in valid.iter_mut().zip(later) {
            *ok &= !repeat;
        }
    }
    Ok(valid)
}

/// Who each row's worker is and the gender label they are counted under (for the workers raised).
struct Workers {
    /// Worker code of each row (the employee id's code; the row itself without an id column).
    of_row: Vec<u32>,
    count: usize,
    /// Index into `labels` of each row's gender value.
    label_of_row: Vec<u32>,
    /// `F`, `M`, then other values as written, and `""` for missing values.
    labels: Vec<String>,
}

impl Workers {
    fn new(frame: &DataFrame, config: &AuditConfig, keys: Option<&crate::data::RowKeys>) -> Result<Workers> {
        let map = config.columns.clone().unwrap_or_default();
        let genders = config.gender_values.clone().unwrap_or_default();
        let (of_row, count) = match keys {
            Some(keys) => (keys.employee.codes.clone(), keys.employee.count),
            None => ((0..frame.height() as u32).collect(), frame.height()),
        };
        // Coded as the analyses code them (configured values, default words, numeric columns).
        let (label_of_row, labels) = crate::data::row_gender_labels(frame, &map.gender, &genders)?;
        Ok(Workers { of_row, count, label_of_row, labels })
    }
}

impl ScenarioBase<'_> {
    /// Distinct workers with a raise, by their gender value (F and M as configured, other values as written).
    pub fn workers_raised(&self, raise: &[f64]) -> BTreeMap<String, u64> {
        let workers = &self.workers;
        let mut seen = vec![false; workers.count];
        let mut counts = vec![0u64; workers.labels.len()];
        for (row, r) in raise.iter().enumerate() {
            let worker = workers.of_row[row] as usize;
            if *r > 0.0 && !seen[worker] {
                seen[worker] = true;
                counts[workers.label_of_row[row] as usize] += 1;
            }
        }
        let mut out: BTreeMap<String, u64> = BTreeMap::new();
        for (label, count) in workers.labels.iter().zip(counts) {
            if count > 0 || label == FEMALE || label == MALE {
                *out.entry(label.clone()).or_insert(0) += count;
            }
        }
        out
    }
}

/// 12 / the number of distinct periods (taken as months), 1 without a period column.
fn annual_factor(frame: &DataFrame, config: &AuditConfig) -> Result<f64> {
    let map = config.columns.clone().unwrap_or_default();
    let period = map.period.clone().unwrap_or_else(|| "period".into());
    if period.is_empty() || frame.column(&period).is_err() {
        return Ok(1.0);
    }
    let periods = frame.column(&period)?.drop_nulls().n_unique()?;
    Ok(if periods > 0 { 12.0 / periods as f64 } else { 1.0 })
}
