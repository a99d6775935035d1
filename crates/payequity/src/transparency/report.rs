//! The transparency document (`kind = "transparency"`), its text table and its long table.

use std::fmt::Write as _;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::eu::{eu, EuIndicators, EuResult};
use super::logib::{logib, LogibResult};
use super::options::{Regime, TransparencyOptions};
use super::uk::{uk, UkResult};
use crate::data::{ColumnMap, Ledger};
use crate::stats::Estimate;
use crate::Result;

/// The transparency document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransparencyResult {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    /// Rows of the EU computation (or of the first regime run).
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub regimes: Vec<Regime>,
    /// Published cells have at least this many women and men (0 = suppression off).
    pub min_cell: u64,
    pub headcount: std::collections::BTreeMap<String, u64>,
    pub eu: Option<EuResult>,
    pub uk: Option<UkResult>,
    pub logib: Option<LogibResult>,
    pub factor_weighted_gap_pct: Option<Estimate>,
}

impl TransparencyResult {
    /// True when an Art. 10 flag has no justification (CLI `--fail-on-trigger` exits 2).
    pub fn art10_triggered(&self) -> bool {
        self.eu.as_ref().is_some_and(|e| e.art10_triggered)
    }
}

/// The last pay period of the data (the default UK snapshot and Logib sample).
pub fn last_period(frame: &DataFrame, options: &TransparencyOptions) -> Result<Option<String>> {
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let Some(period) = ColumnMap::resolve_optional(&options.columns.period, "period", &names) else { return Ok(None) };
    // The latest by date (`Dec 2025` after `2025-11`), not by string order; the raw value selects the rows.
    let values = frame.column(&period)?.unique()?.cast(&DataType::String)?;
    Ok(values
        .str()?
        .iter()
        .flatten()
        .max_by_key(|raw| (super::canonical_period(raw).unwrap_or_else(|| raw.to_string()), raw.to_string()))
        .map(str::to_string))
}

/// Runs the configured regimes.
pub fn transparency(frame: &DataFrame, options: &TransparencyOptions) -> Result<TransparencyResult> {
    let regimes = regimes_run(options);
    let period = match (&options.snapshot_period, regimes.contains(&Regime::Logib)) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => last_period(frame, options)?,
        (None, false) => None,
    };
    // The regimes read the same rows and share nothing else: they run side by side.
    let (eu_result, (uk_result, logib_result)) = rayon::join(
        || regimes.contains(&Regime::Eu).then(|| eu(frame, options)).transpose(),
        || {
            rayon::join(
                || regimes.contains(&Regime::Uk).then(|| uk(frame, options)).transpose(),
                || regimes.contains(&Regime::Logib).then(|| logib(frame, options, period.as_deref())).transpose(),
            )
        },
    );
    transparency_from(eu_result?, uk_result?, logib_result?, options)
}

/// The regimes to run, sorted and without repeats.
pub fn regimes_run(options: &TransparencyOptions) -> Vec<Regime> {
    let mut regimes = options.regimes.clone();
    regimes.sort();
    regimes.dedup();
    regimes
}

/// The document from the results of the regimes run (the streamed path computes them batch by batch).
pub fn transparency_from(
    eu_result: Option<EuResult>,
    uk_result: Option<UkResult>,
    logib_result: Option<LogibResult>,
    options: &TransparencyOptions,
) -> Result<TransparencyResult> {
    let regimes = regimes_run(options);
    let mut warnings = Vec::new();
    if let Some(l) = &logib_result {
        warnings.extend(l.warnings.iter().map(|w| format!("logib: {w}")));
    }
    if let Some(e) = &eu_result {
        if options.category.is_none() {
            warnings
                .push("no category column (`[transparency] category`): Art. 9(1)(g) and Art. 10 not computed".into());
        }
        if e.art10_flags.iter().any(|f| f.suppressed_in_publication) {
            warnings.push(format!(
                "some Art. 10 flags concern categories with fewer than {} women or men: they are for the joint \
                 assessment and are suppressed in the published table",
                options.min_cell
            ));
        }
    }
    let ledger = eu_result
        .as_ref()
        .map(|e| e.ledger.clone())
        .or_else(|| uk_result.as_ref().map(|u| u.ledger.clone()))
        .or_else(|| logib_result.as_ref().map(|l| l.ledger.clone()))
        .unwrap_or_default();
    let mut headcount = std::collections::BTreeMap::new();
    if let Some(e) = &eu_result {
        headcount.insert("F".to_string(), e.headcount.f);
        headcount.insert("M".to_string(), e.headcount.m);
        headcount.insert("other".to_string(), e.headcount_total - e.headcount.f - e.headcount.m);
    }
    Ok(TransparencyResult {
        kind: "transparency".into(),
        version: crate::VERSION.into(),
        commit: crate::COMMIT.into(),
        ledger,
        warnings,
        regimes,
        min_cell: options.min_cell,
        headcount,
        factor_weighted_gap_pct: eu_result.as_ref().and_then(|e| e.factor_weighted_gap_pct),
        eu: eu_result,
        uk: uk_result,
        logib: logib_result,
    })
}

fn pct(v: Option<f64>) -> String {
    v.map_or("suppressed/none".to_string(), |v| format!("{v:.1}%"))
}

fn indicators_text(out: &mut String, title: &str, i: &EuIndicators) {
    let _ = writeln!(out, "  {title}");
    let _ = writeln!(out, "    (a) mean gap                          {:>10}", pct(i.a_mean_gap_pct));
    let _ = writeln!(out, "    (b) mean gap, variable components     {:>10}", pct(i.b_variable_mean_gap_pct));
    let _ = writeln!(out, "    (c) median gap                        {:>10}", pct(i.c_median_gap_pct));
    let _ = writeln!(out, "    (d) median gap, variable components   {:>10}", pct(i.d_variable_median_gap_pct));
    let _ = writeln!(
        out,
        "    (e) receiving variable components     women {}, men {}",
        pct(i.e_share_receiving_variable_pct.f),
        pct(i.e_share_receiving_variable_pct.m)
    );
    for band in &i.f_quartiles {
        let _ = writeln!(
            out,
            "    (f) quartile band {} (n {:>6})        women {}, men {}",
            band.band,
            band.n,
            pct(band.f_pct),
            pct(band.m_pct)
        );
    }
}

/// The text table (figures rounded to one decimal, as published).
pub fn transparency_table(r: &TransparencyResult) -> String {
    let mut out = String::new();
    let suppression = if r.min_cell == 0 {
        "suppression off (internal audit)".to_string()
    } else {
        format!("cells with fewer than {} women or men suppressed", r.min_cell)
    };
    let _ = writeln!(out, "Pay transparency report ({suppression}); positive gap = men paid more");
    if let Some(e) = &r.eu {
        let _ = writeln!(out, "\nEU Pay Transparency Directive 2023/970, Art. 9");
        let _ = writeln!(
            out,
            "  headcount {} (women {}, men {}): {}",
            e.headcount_total, e.headcount.f, e.headcount.m, e.reporting_obligation
        );
        indicators_text(&mut out, "hourly pay", &e.hourly);
        indicators_text(&mut out, "annual pay", &e.annual);
        if let Some(column) = &e.category_column {
            let _ = writeln!(out, "  (g) by category of workers (`{column}`): basic / variable / total gap");
            for c in &e.g_by_category {
                let name = c.category.clone().unwrap_or_else(|| "(missing)".into());
                if c.suppressed {
                    let _ = writeln!(out, "    {name:<12} suppressed");
                } else {
                    let _ = writeln!(
                        out,
                        "    {name:<12} {:>10} {:>10} {:>10}   n women {}, men {}",
                        pct(c.basic_gap_pct),
                        pct(c.variable_gap_pct),
                        pct(c.total_gap_pct),
                        c.n.f.unwrap_or(0),
                        c.n.m.unwrap_or(0)
                    );
                }
            }
            let _ = writeln!(out, "  Art. 10: categories with a gap of 5% or more");
            if e.art10_flags.is_empty() {
                let _ = writeln!(out, "    none");
            }
            for f in &e.art10_flags {
                let _ = writeln!(
                    out,
                    "    {:<12} {:>8}  {}",
                    f.category.clone().unwrap_or_default(),
                    pct(Some(f.gap_pct)),
                    f.justification.clone().unwrap_or_else(|| "NOT JUSTIFIED: joint pay assessment due".into())
                );
            }
        }
    }
    if let Some(u) = &r.uk {
        let _ = writeln!(
            out,
            "\nUK gender pay gap (snapshot period {}, {} relevant employees)",
            u.snapshot_period, u.relevant_employees
        );
        let _ = writeln!(out, "  mean hourly gap      {:>10}", pct(u.mean_hourly_gap_pct));
        let _ = writeln!(out, "  median hourly gap    {:>10}", pct(u.median_hourly_gap_pct));
        let _ = writeln!(out, "  mean bonus gap       {:>10}", pct(u.mean_bonus_gap_pct));
        let _ = writeln!(out, "  median bonus gap     {:>10}", pct(u.median_bonus_gap_pct));
        let _ = writeln!(
            out,
            "  received bonus       women {}, men {}",
            pct(u.bonus_share_pct.f),
            pct(u.bonus_share_pct.m)
        );
        for band in &u.quartiles {
            let _ =
                writeln!(out, "  quartile {}           women {}, men {}", band.band, pct(band.f_pct), pct(band.m_pct));
        }
    }
    if let Some(l) = &r.logib {
        let _ = writeln!(out, "\nLogib (Swiss standard analysis model), {} women and {} men", l.n.f, l.n.m);
        let _ = writeln!(
            out,
            "  female coefficient {:.4} (SE {:.4}, t {:.2}, df {}, p {:.4}), R² {:.3}",
            l.coefficient.estimate.unwrap_or(f64::NAN),
            l.coefficient.se.unwrap_or(f64::NAN),
            l.t,
            l.df,
            l.p_value,
            l.r2
        );
        let _ = writeln!(out, "  {}; verdict: {}", l.reading, l.verdict.words());
    }
    let _ =
        writeln!(out, "\nRows: {} read, {} used, {} excluded", r.ledger.read, r.ledger.used, r.ledger.excluded_total());
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// The long table: `regime, indicator, group, value` (one row per published figure; percentages in percent).
pub fn transparency_frame(r: &TransparencyResult) -> Result<DataFrame> {
    let mut rows: Vec<(&str, String, Option<String>, Option<f64>)> = Vec::new();
    let indicators = |basis: &str, i: &EuIndicators, rows: &mut Vec<(&str, String, Option<String>, Option<f64>)>| {
        rows.push(("eu", format!("{basis}_a_mean_gap_pct"), None, i.a_mean_gap_pct));
        rows.push(("eu", format!("{basis}_b_variable_mean_gap_pct"), None, i.b_variable_mean_gap_pct));
        rows.push(("eu", format!("{basis}_c_median_gap_pct"), None, i.c_median_gap_pct));
        rows.push(("eu", format!("{basis}_d_variable_median_gap_pct"), None, i.d_variable_median_gap_pct));
        rows.push((
            "eu",
            format!("{basis}_e_share_receiving_variable_pct"),
            Some("F".into()),
            i.e_share_receiving_variable_pct.f,
        ));
        rows.push((
            "eu",
            format!("{basis}_e_share_receiving_variable_pct"),
            Some("M".into()),
            i.e_share_receiving_variable_pct.m,
        ));
        for b in &i.f_quartiles {
            rows.push(("eu", format!("{basis}_f_quartile_{}_F_pct", b.band), None, b.f_pct));
            rows.push(("eu", format!("{basis}_f_quartile_{}_M_pct", b.band), None, b.m_pct));
        }
    };
    if let Some(e) = &r.eu {
        indicators("hourly", &e.hourly, &mut rows);
        indicators("annual", &e.annual, &mut rows);
        for c in &e.g_by_category {
            rows.push(("eu", "g_basic_gap_pct".into(), c.category.clone(), c.basic_gap_pct));
            rows.push(("eu", "g_variable_gap_pct".into(), c.category.clone(), c.variable_gap_pct));
            rows.push(("eu", "g_total_gap_pct".into(), c.category.clone(), c.total_gap_pct));
        }
        for f in &e.art10_flags {
            rows.push(("eu", "art10_flag_gap_pct".into(), f.category.clone(), Some(f.gap_pct)));
        }
    }
    if let Some(u) = &r.uk {
        rows.push(("uk", "mean_hourly_gap_pct".into(), None, u.mean_hourly_gap_pct));
        rows.push(("uk", "median_hourly_gap_pct".into(), None, u.median_hourly_gap_pct));
        rows.push(("uk", "mean_bonus_gap_pct".into(), None, u.mean_bonus_gap_pct));
        rows.push(("uk", "median_bonus_gap_pct".into(), None, u.median_bonus_gap_pct));
        rows.push(("uk", "bonus_share_pct".into(), Some("F".into()), u.bonus_share_pct.f));
        rows.push(("uk", "bonus_share_pct".into(), Some("M".into()), u.bonus_share_pct.m));
        for b in &u.quartiles {
            rows.push(("uk", format!("quartile_{}_F_pct", b.band), None, b.f_pct));
            rows.push(("uk", format!("quartile_{}_M_pct", b.band), None, b.m_pct));
        }
    }
    if let Some(l) = &r.logib {
        rows.push(("logib", "coefficient".into(), None, l.coefficient.estimate));
        rows.push(("logib", "se".into(), None, l.coefficient.se));
        rows.push(("logib", "t".into(), None, Some(l.t)));
        rows.push(("logib", "kennedy_pct".into(), None, Some(100.0 * l.kennedy)));
        rows.push(("logib", "r2".into(), None, Some(l.r2)));
    }
    let frame = df!(
        "regime" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "indicator" => rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        "group" => rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        "value" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    )?;
    Ok(frame)
}
