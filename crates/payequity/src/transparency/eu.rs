//! EU Pay Transparency Directive (EU) 2023/970, Art. 9(1)(a)–(g) on hourly and annual pay, the Art. 10
//! joint pay assessment trigger and the Art. 9(2)–(4) reporting obligation (`shared/spec/transparency.md`).
//! Gaps come from [`crate::gap::gap`]: (men − women) / men × 100, positive = men paid more; employees are
//! the unit (pay summed over the periods of the data, hourly pay = Σ pay / Σ hours over the periods with
//! paid hours; annual pay = Σ pay over all periods). The rows are validated once per pay basis (sharing the
//! key codes); figures on some of the components come from the component sums of that pass (a missing
//! component counts as zero).

use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::options::TransparencyOptions;
use super::quartiles::{quartile_bands, QuartileBand};
use super::units::{gap_options, positive_shares, prepare_components, prepared_values};
use crate::data::{ColumnMap, Ledger, Measure, Prepared, RowKeys};
use crate::gap::{gap_prepared, GapResult};
use crate::stats::Estimate;
use crate::{Error, Result};

/// The Art. 10 threshold: a category gap of at least 5% (either sign) triggers a joint pay assessment.
pub const ART10_THRESHOLD_PCT: f64 = 5.0;

/// Women and men.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ByGender<T> {
    #[serde(rename = "F")]
    pub f: T,
    #[serde(rename = "M")]
    pub m: T,
}

/// Art. 9(1)(a)–(f) on one pay basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EuIndicators {
    pub a_mean_gap_pct: Option<f64>,
    pub b_variable_mean_gap_pct: Option<f64>,
    pub c_median_gap_pct: Option<f64>,
    pub d_variable_median_gap_pct: Option<f64>,
    pub e_share_receiving_variable_pct: ByGender<Option<f64>>,
    pub f_quartiles: Vec<QuartileBand>,
}

/// Art. 9(1)(g): one category of workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryGap {
    pub category: Option<String>,
    pub n: ByGender<Option<u64>>,
    pub basic_gap_pct: Option<f64>,
    pub variable_gap_pct: Option<f64>,
    pub total_gap_pct: Option<f64>,
    pub suppressed: bool,
}

/// Art. 10: a category whose gap reaches the threshold, with what Art. 10(2)(a)–(b) asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Art10Flag {
    pub category: Option<String>,
    /// Total hourly pay gap of the category, percent.
    pub gap_pct: f64,
    pub justification: Option<String>,
    pub n: ByGender<Option<u64>>,
    pub share_pct: ByGender<Option<f64>>,
    /// Mean hourly pay (all components) by gender.
    pub mean_pay: ByGender<Option<f64>>,
    /// Mean hourly complementary or variable components by gender.
    pub mean_variable: ByGender<Option<f64>>,
    pub mean_pay_difference: Option<f64>,
    pub mean_variable_difference: Option<f64>,
    /// True when the category is also suppressed in the published table (fewer than `min_cell` women or
    /// men): the flag is for the joint assessment, not for publication.
    pub suppressed_in_publication: bool,
}

/// The EU block of the transparency document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EuResult {
    /// Art. 9(1)(a)–(f) on hourly pay (the headline basis).
    #[serde(flatten)]
    pub hourly: EuIndicators,
    pub g_by_category: Vec<CategoryGap>,
    pub art10_flags: Vec<Art10Flag>,
    /// A flagged category has no justification in the config: a joint pay assessment is due (Art. 10(1)).
    pub art10_triggered: bool,
    pub pay_basis: String,
    pub annual: EuIndicators,
    pub headcount: ByGender<u64>,
    pub headcount_total: u64,
    pub reporting_obligation: String,
    pub category_column: Option<String>,
    pub factor_weighted_gap_pct: Option<Estimate>,
    pub ledger: Ledger,
}

fn mean_gap(r: &GapResult) -> Option<f64> {
    r.overall.mean_gap_pct.estimate
}

fn median_gap(r: &GapResult) -> Option<f64> {
    r.overall.median_gap_pct.estimate
}

/// Gap options of an overall EU figure (no breakdown, so no factor-weighted gap).
fn overall_options(options: &TransparencyOptions, pay: Vec<String>, measure: Measure) -> crate::gap::GapOptions {
    crate::gap::GapOptions { factors: Some(Vec::new()), ..gap_options(options, pay, measure, vec![], vec![], 0) }
}

/// (a)–(d) and (f) on one pay basis, from the employees of the shared validation pass; (e) — who receives
/// variable components in the year — is the same on both bases and computed once by the caller.
fn indicators(
    employees: &Prepared,
    options: &TransparencyOptions,
    measure: Measure,
    receiving: ByGender<Option<f64>>,
) -> Result<(EuIndicators, GapResult)> {
    let all = options.pay.all();
    let variable = options.pay.complementary();
    let units = employees.with_measure(measure)?;
    let total_units = units.with_pay(&all)?;
    let total = gap_prepared(&total_units, &overall_options(options, all, measure))?;
    let var = if variable.is_empty() {
        None
    } else {
        Some(gap_prepared(&units.with_pay(&variable)?, &overall_options(options, variable, measure))?)
    };
    let values = prepared_values(&total_units, false)?;
    Ok((
        EuIndicators {
            a_mean_gap_pct: mean_gap(&total),
            b_variable_mean_gap_pct: var.as_ref().and_then(mean_gap),
            c_median_gap_pct: median_gap(&total),
            d_variable_median_gap_pct: var.as_ref().and_then(median_gap),
            e_share_receiving_variable_pct: receiving,
            f_quartiles: quartile_bands(&values.values).to_vec(),
        },
        total,
    ))
}

/// Art. 9(2)–(4): which reporting obligation a headcount carries.
pub fn reporting_obligation(headcount: u64) -> &'static str {
    match headcount {
        250.. => "annual from 2027-06-07 (250 or more workers)",
        150..=249 => "every three years from 2027-06-07 (150-249 workers)",
        100..=149 => "every three years from 2031-06-07 (100-149 workers)",
        _ => "no reporting obligation (fewer than 100 workers); reporting is voluntary",
    }
}

fn category_of(key: &crate::gap::GroupKey, column: &str) -> Option<String> {
    key.get(column).cloned().flatten()
}

fn n_of(f: &crate::gap::GapFigures) -> ByGender<Option<u64>> {
    ByGender { f: f.n.get("F").copied().flatten(), m: f.n.get("M").copied().flatten() }
}

/// The EU indicators, the category table and the Art. 10 flags.
pub fn eu(frame: &DataFrame, options: &TransparencyOptions) -> Result<EuResult> {
    let (spells, annual_pay) = eu_units(frame, options)?;
    eu_from_units(&spells, &annual_pay, options)
}

/// The units [`eu_from_units`] reads, validated from `frame`: `(spells, annual_pay)`, each with the sum of
/// every pay component per unit.
pub fn eu_units(frame: &DataFrame, options: &TransparencyOptions) -> Result<(Prepared, Prepared)> {
    if options.pay.all().is_empty() {
        return Err(Error::Invalid("no pay components: set [pay] ordinary / variable / bonus in the config".into()));
    }
    // Two validation passes, one per pay basis, side by side; every figure below is derived from their units.
    let keep = eu_kept_columns(options);
    // The key codes (employee id, employee id × period) are the same for both passes: hashed once.
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let employee_id = ColumnMap::resolve_optional(&options.columns.employee_id, "employee_id", &names);
    let period = ColumnMap::resolve_optional(&options.columns.period, "period", &names);
    let row_keys = employee_id
        .filter(|id| names.contains(id))
        .map(|id| RowKeys::compute(frame, &id, period.as_deref()))
        .transpose()?;
    let (spells, annual_pay) = rayon::join(
        || prepare_components(frame, options, Measure::Hourly, &keep, row_keys.as_ref()),
        || prepare_components(frame, options, Measure::Pay, &[], row_keys.as_ref()),
    );
    Ok((spells?, annual_pay?))
}

/// The columns kept per unit of the hourly validation pass: the category, then the factors.
pub fn eu_kept_columns(options: &TransparencyOptions) -> Vec<String> {
    let mut keep: Vec<String> = options.category.iter().cloned().collect();
    for factor in options.factors.iter().flatten() {
        if !keep.contains(factor) {
            keep.push(factor.clone());
        }
    }
    keep
}

/// The EU figures from the units of the two validation passes: `spells` (hourly pay, units employee ×
/// [`eu_kept_columns`], every pay component summed) and `annual_pay` (pay, units employees, components
/// summed). The streamed path builds the same units batch by batch.
pub fn eu_from_units(spells: &Prepared, annual_pay: &Prepared, options: &TransparencyOptions) -> Result<EuResult> {
    if options.pay.all().is_empty() {
        return Err(Error::Invalid("no pay components: set [pay] ordinary / variable / bonus in the config".into()));
    }
    let variable = options.pay.complementary();
    let receiving = if variable.is_empty() {
        ByGender { f: None, m: None }
    } else {
        let shares = positive_shares(&prepared_values(&annual_pay.with_pay(&variable)?, false)?.values);
        ByGender { f: shares.0, m: shares.1 }
    };
    let (hourly, total) = indicators(&spells.employees()?, options, Measure::Hourly, receiving)?;
    let (annual, _) = indicators(annual_pay, options, Measure::Pay, receiving)?;
    let headcount = ByGender {
        f: total.overall.n.get("F").copied().flatten().unwrap_or(0),
        m: total.overall.n.get("M").copied().flatten().unwrap_or(0),
    };
    let headcount_total: u64 = total.overall.n.values().map(|v| v.unwrap_or(0)).sum();

    let mut g_by_category = Vec::new();
    let mut art10_flags = Vec::new();
    let mut factor_weighted_gap_pct = None;
    if let Some(category) = &options.category {
        let by = vec![category.clone()];
        let run = |pay: Vec<String>, min_cell: u64| -> Result<Option<GapResult>> {
            if pay.is_empty() {
                return Ok(None);
            }
            gap_prepared(
                &spells.with_pay(&pay)?,
                &gap_options(options, pay, Measure::Hourly, by.clone(), vec![], min_cell),
            )
            .map(Some)
        };
        // Computed once unsuppressed (Art. 10 is for the joint assessment: every category, small ones
        // included), then published with `min_cell`.
        let all_total = run(options.pay.all(), 0)?.expect("pay components exist");
        let all_basic = run(options.pay.ordinary.clone(), 0)?;
        let all_variable = run(options.pay.complementary(), 0)?;
        let published_total = all_total.with_min_cell(options.min_cell);
        let published_basic = all_basic.map(|r| r.with_min_cell(options.min_cell));
        let published_variable = all_variable.as_ref().map(|r| r.with_min_cell(options.min_cell));
        factor_weighted_gap_pct = published_total.factor_weighted_gap_pct;
        let lookup = |r: &Option<GapResult>, key: &crate::gap::GroupKey| {
            r.as_ref().and_then(|r| r.by.iter().find(|g| &g.group == key)).and_then(|g| g.figures.mean_gap_pct.estimate)
        };
        for cell in &published_total.by {
            g_by_category.push(CategoryGap {
                category: category_of(&cell.group, category),
                n: if cell.suppressed { ByGender { f: None, m: None } } else { n_of(&cell.figures) },
                basic_gap_pct: if cell.suppressed { None } else { lookup(&published_basic, &cell.group) },
                variable_gap_pct: if cell.suppressed { None } else { lookup(&published_variable, &cell.group) },
                total_gap_pct: if cell.suppressed { None } else { cell.figures.mean_gap_pct.estimate },
                suppressed: cell.suppressed,
            });
        }
        for cell in &all_total.by {
            let Some(gap_pct) = cell.figures.mean_gap_pct.estimate else { continue };
            if gap_pct.abs() < ART10_THRESHOLD_PCT {
                continue;
            }
            let name = category_of(&cell.group, category);
            let n = n_of(&cell.figures);
            let total_n = n.f.unwrap_or(0) + n.m.unwrap_or(0);
            let share = |x: Option<u64>| (total_n > 0).then(|| 100.0 * x.unwrap_or(0) as f64 / total_n as f64);
            let variable_cell = all_variable.as_ref().and_then(|r| r.by.iter().find(|g| g.group == cell.group));
            let mean = |f: &crate::gap::GapFigures, g: &str| f.mean.get(g).copied().flatten();
            let mean_pay = ByGender { f: mean(&cell.figures, "F"), m: mean(&cell.figures, "M") };
            let mean_variable = ByGender {
                f: variable_cell.and_then(|v| mean(&v.figures, "F")),
                m: variable_cell.and_then(|v| mean(&v.figures, "M")),
            };
            let difference = |x: &ByGender<Option<f64>>| x.m.zip(x.f).map(|(m, f)| m - f);
            let suppressed_in_publication =
                published_total.by.iter().find(|g| g.group == cell.group).is_none_or(|g| g.suppressed);
            art10_flags.push(Art10Flag {
                justification: name.as_ref().and_then(|c| options.justifications.get(c).cloned()),
                category: name,
                gap_pct,
                share_pct: ByGender { f: share(n.f), m: share(n.m) },
                n,
                mean_pay_difference: difference(&mean_pay),
                mean_variable_difference: difference(&mean_variable),
                mean_pay,
                mean_variable,
                suppressed_in_publication,
            });
        }
    }
    Ok(EuResult {
        art10_triggered: art10_flags.iter().any(|f| f.justification.is_none()),
        hourly,
        g_by_category,
        art10_flags,
        pay_basis: "hourly".into(),
        annual,
        headcount,
        headcount_total,
        reporting_obligation: reporting_obligation(headcount_total).into(),
        category_column: options.category.clone(),
        factor_weighted_gap_pct,
        ledger: total.ledger,
    })
}
