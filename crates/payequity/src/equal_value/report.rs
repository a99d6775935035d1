//! The equal-value document (`kind = "equal_value"`, `shared/spec/interfaces.md`): the entry point
//! [`equal_value`], its text table and its class table as a polars frame.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::classes::{incumbents, job_classes, Incumbent, JobClass};
use super::compare::{
    cost, job_to_job, pay_line, proportional, worker_adjustments, Comparison, Cost, PayLine, WorkerAdjustment,
};
use super::options::{EqualValueOptions, Method};
use super::scheme::{score_jobs, JobScore, Scheme};
use crate::data::{load_table, Ledger, Prepared};
use crate::gap::{gap_prepared, GapOptions, GapResult};
use crate::{Error, Result};

/// A job class with the comparison of the first configured method that applies to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassRow {
    #[serde(flatten)]
    pub class: JobClass,
    pub method: Option<Method>,
    pub comparator: Option<String>,
    pub rule: Option<String>,
    pub target_rate: Option<f64>,
    pub shortfall_per_hour: Option<f64>,
    pub shortfall_per_year: Option<f64>,
}

/// The equal-value document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EqualValueResult {
    pub kind: String,
    pub version: String,
    /// The git commit of the code that produced the document.
    #[serde(default)]
    pub commit: String,
    pub ledger: Ledger,
    pub warnings: Vec<String>,
    pub scheme: String,
    pub job_column: String,
    pub job_rate: String,
    pub methods: Vec<Method>,
    pub classes: Vec<ClassRow>,
    /// Every comparison of every female class by every method.
    pub comparisons: Vec<Comparison>,
    pub pay_line: Option<PayLine>,
    /// Cost of the first method; `costs` has every method.
    pub cost: Option<Cost>,
    pub costs: Vec<Cost>,
    /// Equal work: the gender gap within each job class (the gap capability, suppression applied).
    pub equal_work: GapResult,
    pub worker_adjustments: Option<Vec<WorkerAdjustment>>,
    pub min_cell: u64,
}

impl EqualValueResult {
    /// Female classes flagged (a positive shortfall) by `method`.
    pub fn flagged(&self, method: Method) -> Vec<&Comparison> {
        self.comparisons.iter().filter(|c| c.method == method && c.shortfall_per_hour > 0.0).collect()
    }
}

/// Runs the analysis with the scheme and ratings files named in `options` (paths as given).
pub fn equal_value(frame: &DataFrame, options: &EqualValueOptions) -> Result<EqualValueResult> {
    let (scheme, ratings, warnings) = load_scheme_and_ratings(options)?;
    equal_value_with(frame, &scheme, &ratings, warnings, options)
}

/// Reads job ratings: CSV / Parquet / Arrow, or TOML (`[[job]]` tables with `job`, optional `title` and
/// `isco08`, and `levels = { "<sub-factor>" = level, ... }`).
pub fn load_ratings(path: impl AsRef<Path>) -> Result<DataFrame> {
    let path = path.as_ref();
    if path.extension().and_then(|e| e.to_str()) != Some("toml") {
        return load_table(path);
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RatingsFile {
        job: Vec<RatedJob>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RatedJob {
        job: String,
        title: Option<String>,
        isco08: Option<String>,
        levels: BTreeMap<String, i64>,
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Invalid(format!("cannot read the job ratings {}: {e}", path.display())))?;
    let file: RatingsFile = toml::from_str(&text).map_err(|e| Error::Config {
        file: path.display().to_string(),
        key: "job".into(),
        reason: e.message().to_string(),
    })?;
    let (mut jobs, mut titles, mut iscos, mut subs, mut levels) = (vec![], vec![], vec![], vec![], vec![]);
    for rated in file.job {
        for (sub, level) in rated.levels {
            jobs.push(rated.job.clone());
            titles.push(rated.title.clone());
            iscos.push(rated.isco08.clone());
            subs.push(sub);
            levels.push(level);
        }
    }
    Ok(df!("job" => jobs, "title" => titles, "isco08" => iscos, "subfactor" => subs, "level" => levels)?)
}

/// Runs the analysis on a parsed scheme and a ratings table.
pub fn equal_value_with(
    frame: &DataFrame,
    scheme: &Scheme,
    ratings: &DataFrame,
    scheme_warnings: Vec<String>,
    options: &EqualValueOptions,
) -> Result<EqualValueResult> {
    check_methods(options)?;
    let scores = score_jobs(scheme, ratings)?;
    let (incumbents, prepared) = incumbents(frame, options)?;
    equal_value_from(&incumbents, &prepared, &scores, scheme, scheme_warnings, options)
}

/// The scheme and the ratings files named in `options`, checked, with the scheme's warnings.
pub fn load_scheme_and_ratings(options: &EqualValueOptions) -> Result<(Scheme, DataFrame, Vec<String>)> {
    if options.scheme.is_empty() || options.ratings.is_empty() {
        return Err(Error::Invalid(
            "equal value needs a job evaluation scheme and job ratings (`scheme`, `ratings`)".into(),
        ));
    }
    let (scheme, warnings) = Scheme::from_file(&options.scheme)?;
    Ok((scheme, load_ratings(&options.ratings)?, warnings))
}

/// The methods and predominance thresholds are usable.
pub fn check_methods(options: &EqualValueOptions) -> Result<()> {
    if options.method.is_empty() {
        return Err(Error::Invalid("no method: set `method` to job-to-job, proportional or both".into()));
    }
    if !(0.5..=1.0).contains(&options.female_threshold) || !(0.5..=1.0).contains(&options.male_threshold) {
        return Err(Error::Invalid("predominance thresholds must be between 0.5 and 1".into()));
    }
    Ok(())
}

/// The document from the incumbents and their validated units (the streamed path builds both batch by
/// batch) and the scored jobs.
pub fn equal_value_from(
    incumbents: &[Incumbent],
    prepared: &Prepared,
    scores: &BTreeMap<String, JobScore>,
    scheme: &Scheme,
    scheme_warnings: Vec<String>,
    options: &EqualValueOptions,
) -> Result<EqualValueResult> {
    let (classes, class_warnings) = job_classes(incumbents, scores, &prepared.gender_labels, options)?;
    let mut warnings = scheme_warnings;
    warnings.extend(prepared.warnings.iter().cloned());
    warnings.extend(class_warnings);
    let males = classes.iter().filter(|c| c.predominance == "male").count();
    let females = classes.iter().filter(|c| c.predominance == "female").count();
    if females == 0 {
        warnings.push("no female job class: nothing to compare".into());
    }

    let mut comparisons = Vec::new();
    let mut line = None;
    for method in &options.method {
        match method {
            Method::JobToJob => {
                if males == 0 {
                    warnings.push("no male job class: job-to-job finds no comparator for any female class".into());
                }
                comparisons.extend(job_to_job(&classes, options));
            }
            Method::Proportional => match pay_line(&classes, options)? {
                Some(l) => {
                    if l.slope <= 0.0 {
                        warnings.push(format!(
                            "the male pay line does not rise with points (slope {:.4} over {} male classes): proportional targets are not meaningful",
                            l.slope, l.classes
                        ));
                    }
                    comparisons.extend(proportional(&classes, &l));
                    line = Some(l);
                }
                None => warnings.push(format!(
                    "the proportional method needs male job classes with at least two different point scores; the payroll has {males} male class(es)"
                )),
            },
        }
    }
    let payroll: f64 = incumbents.iter().map(|i| i.pay).sum();
    let costs: Vec<Cost> = options
        .method
        .iter()
        .filter(|m| comparisons.iter().any(|c| c.method == **m))
        .map(|m| cost(*m, &comparisons, payroll, options.phase_in_pct))
        .collect();
    let rows = classes
        .iter()
        .map(|class| {
            let first =
                options.method.iter().find_map(|m| comparisons.iter().find(|c| c.job == class.job && c.method == *m));
            ClassRow {
                class: class.clone(),
                method: first.map(|c| c.method),
                comparator: first.and_then(|c| c.comparator.clone()),
                rule: first.map(|c| c.rule.clone()),
                target_rate: first.and_then(|c| c.target_rate),
                shortfall_per_hour: first.map(|c| c.shortfall_per_hour),
                shortfall_per_year: first.map(|c| c.shortfall_per_year),
            }
        })
        .collect();
    let first_method_comparisons: Vec<Comparison> =
        comparisons.iter().filter(|c| Some(c.method) == costs.first().map(|k| k.method)).cloned().collect();
    let equal_work = gap_prepared(
        prepared,
        &GapOptions {
            by: vec![options.job.clone()],
            factors: Some(Vec::new()),
            min_cell: options.min_cell,
            bootstrap_reps: 0,
            ..GapOptions::default()
        },
    )?;
    Ok(EqualValueResult {
        kind: "equal_value".into(),
        version: crate::VERSION.into(),
        commit: crate::COMMIT.into(),
        ledger: prepared.ledger.clone(),
        warnings,
        scheme: scheme.scheme.name.clone(),
        job_column: options.job.clone(),
        job_rate: format!("{:?}", options.job_rate).to_lowercase(),
        methods: options.method.clone(),
        classes: rows,
        worker_adjustments: options
            .worker_adjustments
            .then(|| worker_adjustments(incumbents, &first_method_comparisons)),
        comparisons,
        pay_line: line,
        cost: costs.first().cloned(),
        costs,
        equal_work,
        min_cell: options.min_cell,
    })
}

fn money(v: f64) -> String {
    format!("{v:.2}")
}

/// The text report: classes, comparisons, pay line and cost.
pub fn equal_value_table(r: &EqualValueResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Equal pay for work of equal value — scheme {}, job rate = {}", r.scheme, r.job_rate);
    let _ = writeln!(
        out,
        "{:<8} {:>7} {:>6} {:>6} {:<9} {:>9} {:>9} {:<10} {:>9} {:>10}",
        "job", "points", "women", "men", "predom.", "job rate", "median", "comparator", "target", "shortfall"
    );
    for row in &r.classes {
        let c = &row.class;
        let count = |g: &str| c.n.get(g).copied().flatten().map_or("-".to_string(), |v| v.to_string());
        let _ = writeln!(
            out,
            "{:<8} {:>7.0} {:>6} {:>6} {:<9} {:>9} {:>9} {:<10} {:>9} {:>10}",
            c.job,
            c.points,
            count("F"),
            count("M"),
            c.predominance,
            money(c.job_rate),
            money(c.median_rate),
            row.comparator.as_deref().unwrap_or(if row.rule.as_deref() == Some("pay_line") { "pay line" } else { "-" }),
            row.target_rate.map_or("-".into(), money),
            row.shortfall_per_hour.map_or("-".into(), money),
        );
    }
    if let Some(l) = &r.pay_line {
        let _ = writeln!(
            out,
            "Male pay line: rate = {:.4} + {:.6} × points (R² {:.3}, {} male classes{})",
            l.intercept,
            l.slope,
            l.r2,
            l.classes,
            if l.weighted { ", weighted by incumbents" } else { "" }
        );
    }
    for c in &r.costs {
        let method = serde_json::to_value(c.method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        let _ = writeln!(
            out,
            "Cost of closing ({method}): {} a year = {:.2}% of payroll {}",
            money(c.annual_total),
            c.pct_of_payroll,
            money(c.payroll)
        );
        for y in &c.phase_in {
            let _ = writeln!(out, "  year {}: {} (cumulative {})", y.year, money(y.amount), money(y.cumulative));
        }
    }
    let _ = writeln!(out, "Rows: {} read, {} used, {:?} excluded", r.ledger.read, r.ledger.used, r.ledger.excluded);
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// The class table as a frame (one row per class; the first method's comparison).
pub fn equal_value_frame(r: &EqualValueResult) -> Result<DataFrame> {
    let c = |f: &dyn Fn(&ClassRow) -> Option<f64>| r.classes.iter().map(f).collect::<Vec<_>>();
    let count =
        |g: &'static str| r.classes.iter().map(move |row| row.class.n.get(g).copied().flatten()).collect::<Vec<_>>();
    Ok(df!(
        "job" => r.classes.iter().map(|row| row.class.job.clone()).collect::<Vec<_>>(),
        "title" => r.classes.iter().map(|row| row.class.title.clone()).collect::<Vec<_>>(),
        "points" => c(&|row| Some(row.class.points)),
        "n_F" => count("F"),
        "n_M" => count("M"),
        "predominance" => r.classes.iter().map(|row| row.class.predominance.clone()).collect::<Vec<_>>(),
        "job_rate" => c(&|row| Some(row.class.job_rate)),
        "mean_rate" => c(&|row| Some(row.class.mean_rate)),
        "median_rate" => c(&|row| Some(row.class.median_rate)),
        "comparator" => r.classes.iter().map(|row| row.comparator.clone()).collect::<Vec<_>>(),
        "target_rate" => c(&|row| row.target_rate),
        "shortfall_per_hour" => c(&|row| row.shortfall_per_hour),
        "shortfall_per_year" => c(&|row| row.shortfall_per_year),
    )?)
}
