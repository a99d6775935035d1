//! Partial states for distributed engines (`pe.spark`, `pe.dask`), as versioned bytes. The engine moves
//! the rows; payequity computes. Each partition's rows carry two engine-made columns:
//! - [`ROW_COLUMN`], the 0-based row number in input order (the in-memory row order), which numbers rows
//!   in ledger messages and keys the bootstrap's Poisson draws, so replicates equal the in-memory ones;
//! - [`DUPLICATE_COLUMN`] (oaxaca, with employee id and period), true for a later row of a key.
//!
//! Gap partials need whole employees per partition, rows sorted by [`ROW_COLUMN`] (repartition by the
//! employee id, then sort within partitions). Oaxaca partials take any partitioning.

use std::collections::BTreeSet;
use std::sync::Mutex;

use ndarray::Array1;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit::input_row_error;
use super::equal_value::{check_equal_value_columns, equal_value_finish, EqualValuePartial, EqualValueStream};
use super::oaxaca::OaxacaPartial;
use super::state::{decode_state, encode_state, StateKind};
use super::transparency::{
    batch_periods, check_transparency_columns, periods_needed, TransparencyPartial, TransparencyPlan,
};
use super::UnitPartial;
use crate::data::ColumnMap;
use crate::decompose::{
    check_columns, duplicate_key_columns, finish, DuplicateRows, OaxacaOptions, OaxacaResult, Plan, PlanFacts,
    ResidualModels, ScoreGrams,
};
use crate::entitlements::{
    audit_chunk, audit_document, audit_entitlements, compile_rules, load_rules, AuditSums, EntitlementAudit,
    EntitlementOptions, RuleSet,
};
use crate::equal_value::{incumbent_validation, EqualValueOptions, EqualValueResult};
use crate::gap::{GapOptions, GapResult};
use crate::transparency::{TransparencyOptions, TransparencyResult};
use crate::{Error, Result};

/// Input row numbers made by the engine.
pub const ROW_COLUMN: &str = "__pe_row";
/// Later rows of an (employee_id, period) key, flagged by the engine.
pub const DUPLICATE_COLUMN: &str = "__pe_duplicate";
const NEEDS_RESIDUALS: &str = "__needs_residual_pass";

/// The column a gap partition must be partitioned by (the employee id), when the analysis has one.
pub fn gap_partition_column(columns: &[String], options: &GapOptions) -> Option<String> {
    ColumnMap::resolve_optional(&options.columns.employee_id, "employee_id", columns)
}

/// The partial gap state of one partition of whole employees, rows sorted by [`ROW_COLUMN`].
pub fn gap_partial(frame: &DataFrame, options: &GapOptions) -> Result<Vec<u8>> {
    if frame.column(ROW_COLUMN).is_err() {
        return Err(Error::Invalid(format!("internal: a partition lacks the `{ROW_COLUMN}` column")));
    }
    encode_state(StateKind::Gap, &UnitPartial::compute(frame, 0, options)?)
}

/// Merges two partial gap states (of different employees).
pub fn gap_merge(a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
    let a: UnitPartial = decode_state(StateKind::Gap, a)?;
    let b: UnitPartial = decode_state(StateKind::Gap, b)?;
    encode_state(StateKind::Gap, &a.merge(b)?)
}

/// The gap document from the merged state.
pub fn gap_finish(state: &[u8], options: &GapOptions) -> Result<GapResult> {
    decode_state::<UnitPartial>(StateKind::Gap, state)?.finish(options)
}

/// The user's columns of a partition (without the engine's).
fn user_columns(frame: &DataFrame) -> Vec<String> {
    frame
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .filter(|c| c != ROW_COLUMN && c != DUPLICATE_COLUMN)
        .collect()
}

/// Missing or mistyped columns of a transparency input (its empty schema) get the in-memory message.
pub fn transparency_check_columns(empty: &DataFrame, options: &TransparencyOptions) -> Result<()> {
    check_transparency_columns(&user_columns(empty), empty, options).map(|_| ())
}

/// The period column whose distinct values the first transparency pass collects (`None`: no such pass).
pub fn transparency_period_column(columns: &[String], options: &TransparencyOptions) -> Option<String> {
    periods_needed(options, columns)
}

/// Pass 1 of the transparency report: the distinct periods of a partition.
pub fn transparency_periods(frame: &DataFrame, column: &str) -> Result<Vec<u8>> {
    encode_state(StateKind::Periods, &batch_periods(frame, column)?)
}

/// Merges two period states.
pub fn transparency_periods_merge(a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
    let mut a: BTreeSet<String> = decode_state(StateKind::Periods, a)?;
    a.extend(decode_state::<BTreeSet<String>>(StateKind::Periods, b)?);
    encode_state(StateKind::Periods, &a)
}

fn transparency_plan(
    columns: &[String],
    options: &TransparencyOptions,
    periods: Option<&[u8]>,
) -> Result<TransparencyPlan> {
    let periods: Vec<String> = match periods {
        Some(bytes) => decode_state::<BTreeSet<String>>(StateKind::Periods, bytes)?.into_iter().collect(),
        None => Vec::new(),
    };
    TransparencyPlan::new(options, columns, periods)
}

/// The column transparency partitions must be partitioned by (the employee id), when the input has one.
pub fn transparency_partition_column(columns: &[String], options: &TransparencyOptions) -> Option<String> {
    ColumnMap::resolve_optional(&options.columns.employee_id, "employee_id", columns).filter(|c| columns.contains(c))
}

/// Pass 2: the partial transparency state of one partition of whole employees, rows sorted by
/// [`ROW_COLUMN`]; `periods` is the merged state of pass 1 when there was one.
pub fn transparency_partial(
    frame: &DataFrame,
    options: &TransparencyOptions,
    periods: Option<&[u8]>,
) -> Result<Vec<u8>> {
    if frame.column(ROW_COLUMN).is_err() {
        return Err(Error::Invalid(format!("internal: a partition lacks the `{ROW_COLUMN}` column")));
    }
    let columns = user_columns(frame);
    let plan = transparency_plan(&columns, options, periods)?;
    let mut stream = plan.stream(&columns)?;
    stream.update(&super::Batch { frame: frame.clone(), offset: 0, file: 0 })?;
    encode_state(StateKind::Transparency, &stream.into_partial()?)
}

/// Merges two partial transparency states (of different employees).
pub fn transparency_merge(a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
    let a: TransparencyPartial = decode_state(StateKind::Transparency, a)?;
    let b: TransparencyPartial = decode_state(StateKind::Transparency, b)?;
    encode_state(StateKind::Transparency, &a.merge(b)?)
}

/// The transparency document from the merged state, for input with `columns`.
pub fn transparency_finish(
    state: &[u8],
    options: &TransparencyOptions,
    columns: &[String],
    periods: Option<&[u8]>,
) -> Result<TransparencyResult> {
    let plan = transparency_plan(columns, options, periods)?;
    plan.finish(decode_state(StateKind::Transparency, state)?)
}

/// Missing columns of an equal-value input (its empty schema) get the in-memory message.
pub fn equal_value_check_columns(empty: &DataFrame, options: &EqualValueOptions) -> Result<()> {
    check_equal_value_columns(&user_columns(empty), empty, options).map(|_| ())
}

/// The column equal-value partitions must be partitioned by (the employee id), when the input has one.
pub fn equal_value_partition_column(columns: &[String], options: &EqualValueOptions) -> Option<String> {
    ColumnMap::resolve_optional(&options.columns.employee_id, "employee_id", columns).filter(|c| columns.contains(c))
}

/// The partial equal-value state of one partition of whole employees, rows sorted by [`ROW_COLUMN`].
pub fn equal_value_partial(frame: &DataFrame, options: &EqualValueOptions) -> Result<Vec<u8>> {
    if frame.column(ROW_COLUMN).is_err() {
        return Err(Error::Invalid(format!("internal: a partition lacks the `{ROW_COLUMN}` column")));
    }
    let validation = incumbent_validation(options);
    let mut stream = EqualValueStream::new(options, &validation, &user_columns(frame))?;
    stream.update(&super::Batch { frame: frame.clone(), offset: 0, file: 0 })?;
    encode_state(StateKind::EqualValue, &stream.into_partial()?)
}

/// Merges two partial equal-value states (of different employees).
pub fn equal_value_merge(a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
    let a: EqualValuePartial = decode_state(StateKind::EqualValue, a)?;
    let b: EqualValuePartial = decode_state(StateKind::EqualValue, b)?;
    encode_state(StateKind::EqualValue, &a.merge(b)?)
}

/// The equal-value document from the merged state (the scheme and ratings are read on the driver).
pub fn equal_value_finish_state(state: &[u8], options: &EqualValueOptions) -> Result<EqualValueResult> {
    equal_value_finish(decode_state(StateKind::EqualValue, state)?, options)
}

/// The rule set of an audit as JSON for the workers: `rules_json` (a rule set as JSON) or the rule files
/// of `options`, read once on the driver.
pub fn audit_rules(rules_json: &str, options: &EntitlementOptions) -> Result<String> {
    let rules =
        if rules_json.is_empty() { load_rules(&options.rules)? } else { RuleSet::from_json(rules_json, "rules")? };
    let mut value =
        serde_json::to_value(&rules).map_err(|e| Error::Invalid(format!("cannot encode the rule set: {e}")))?;
    drop_nulls(&mut value);
    Ok(value.to_string())
}

/// Unset options are left out (rule sets are TOML-shaped: there is no null).
fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

fn rule_set(rules_json: &str) -> Result<RuleSet> {
    RuleSet::from_json(rules_json, "rules")
}

/// Missing columns and rules that do not fit the schema get the in-memory messages (run on the empty table).
pub fn audit_check(empty: &DataFrame, rules_json: &str, options: &EntitlementOptions) -> Result<()> {
    audit_entitlements(empty, &rule_set(rules_json)?, options).map(|_| ())
}

/// The column audit partitions must be partitioned by: the employee id (caps run per worker).
pub fn audit_partition_column(options: &EntitlementOptions) -> String {
    options.columns.employee_id.clone().unwrap_or_else(|| "employee_id".into())
}

/// The audit of one partition of whole workers (rows sorted by [`ROW_COLUMN`]), errors naming input rows.
fn audit_partition(
    frame: &DataFrame,
    rules_json: &str,
    options: &EntitlementOptions,
) -> Result<(AuditSums, DataFrame)> {
    let rules = rule_set(rules_json)?;
    let compiled = compile_rules(frame.schema(), &rules, options)?;
    audit_chunk(frame, &rules, &compiled, options).map_err(|error| input_row_error(error, frame))
}

/// The partial audit state (sums) of one partition of whole workers.
pub fn audit_partial(frame: &DataFrame, rules_json: &str, options: &EntitlementOptions) -> Result<Vec<u8>> {
    encode_state(StateKind::Audit, &audit_partition(frame, rules_json, options)?.0)
}

/// The arrears rows of one partition of whole workers (unsorted).
pub fn audit_arrears(frame: &DataFrame, rules_json: &str, options: &EntitlementOptions) -> Result<DataFrame> {
    Ok(audit_partition(frame, rules_json, options)?.1)
}

/// Merges two partial audit states (of different workers).
pub fn audit_merge(a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
    let a: AuditSums = decode_state(StateKind::Audit, a)?;
    let b: AuditSums = decode_state(StateKind::Audit, b)?;
    encode_state(StateKind::Audit, &a.merge(b))
}

/// The audit document from the merged state (its arrears table is left empty: the engine holds it).
pub fn audit_finish(state: &[u8], rules_json: &str, options: &EntitlementOptions) -> Result<EntitlementAudit> {
    let sums: AuditSums = decode_state(StateKind::Audit, state)?;
    Ok(audit_document(sums, DataFrame::empty(), &rule_set(rules_json)?, options))
}

/// The (employee_id, period) columns whose later rows the engine must flag in [`DUPLICATE_COLUMN`].
pub fn oaxaca_key_columns(columns: &[String], options: &OaxacaOptions) -> Option<(String, String)> {
    duplicate_key_columns(columns, options)
}

/// Pass 1 of one partition: column checks and plan facts.
pub fn oaxaca_facts(frame: &DataFrame, options: &OaxacaOptions) -> Result<Vec<u8>> {
    check_columns(frame, options)?;
    encode_state(StateKind::OaxacaFacts, &PlanFacts::observe(frame, options)?)
}

/// Merges plan facts.
pub fn oaxaca_facts_merge(a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
    let a: PlanFacts = decode_state(StateKind::OaxacaFacts, a)?;
    let b: PlanFacts = decode_state(StateKind::OaxacaFacts, b)?;
    encode_state(StateKind::OaxacaFacts, &a.merge(b)?)
}

fn distributed_plan(facts: &[u8], options: &OaxacaOptions, duplicates: bool) -> Result<Plan> {
    let facts: PlanFacts = decode_state(StateKind::OaxacaFacts, facts)?;
    let flagged = if duplicates { DuplicateRows::Flag(DUPLICATE_COLUMN.into()) } else { DuplicateRows::None };
    Ok(Plan::from_facts(&facts, flagged, options)?.with_row_column(ROW_COLUMN))
}

/// Pass 2 of one partition: group moments (and bootstrap replicates) under the plan of the merged facts.
pub fn oaxaca_moments(frame: &DataFrame, facts: &[u8], options: &OaxacaOptions) -> Result<Vec<u8>> {
    let plan = distributed_plan(facts, options, frame.column(DUPLICATE_COLUMN).is_ok())?;
    encode_state(StateKind::OaxacaMoments, &OaxacaPartial::compute(&plan, frame, 0, options)?)
}

/// Merges moment states.
pub fn oaxaca_moments_merge(a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
    let a: OaxacaPartial = decode_state(StateKind::OaxacaMoments, a)?;
    let b: OaxacaPartial = decode_state(StateKind::OaxacaMoments, b)?;
    encode_state(StateKind::OaxacaMoments, &a.merge(b)?)
}

/// The fitted models of a residual pass, owned so they can travel to the workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OwnedModels {
    kept: Vec<usize>,
    columns: Vec<usize>,
    beta_a: Array1<f64>,
    beta_b: Array1<f64>,
    beta_star: Option<Array1<f64>>,
    indicator: bool,
}

impl OwnedModels {
    fn view(&self) -> ResidualModels<'_> {
        ResidualModels {
            columns: &self.columns,
            beta_a: &self.beta_a,
            beta_b: &self.beta_b,
            beta_star: self.beta_star.as_ref(),
            indicator: self.indicator,
        }
    }
}

/// What finishing the decomposition gives: the document, or (robust standard errors) the models the
/// workers need for the residual pass ([`oaxaca_scores`]), after which finishing is called again with the
/// merged score Gram matrices.
#[derive(Debug)]
pub enum OaxacaFinish {
    Done(Box<OaxacaResult>),
    NeedsResiduals(Vec<u8>),
}

/// Finishes from the merged facts and moments (and, for robust SEs, the merged score grams).
pub fn oaxaca_finish(
    facts: &[u8],
    moments: &[u8],
    scores: Option<&[u8]>,
    duplicates: bool,
    options: &OaxacaOptions,
) -> Result<OaxacaFinish> {
    let plan = distributed_plan(facts, options, duplicates)?;
    let state: OaxacaPartial = decode_state(StateKind::OaxacaMoments, moments)?;
    let grams: Option<ScoreGrams> = scores.map(|s| decode_state(StateKind::OaxacaScores, s)).transpose()?;
    let wanted: Mutex<Option<OwnedModels>> = Mutex::new(None);
    let residuals = |kept: &[usize], models: &ResidualModels<'_>| -> Result<ScoreGrams> {
        if let Some(grams) = &grams {
            return Ok(grams.clone());
        }
        *wanted.lock().expect("not poisoned") = Some(OwnedModels {
            kept: kept.to_vec(),
            columns: models.columns.to_vec(),
            beta_a: models.beta_a.clone(),
            beta_b: models.beta_b.clone(),
            beta_star: models.beta_star.cloned(),
            indicator: models.indicator,
        });
        Err(Error::Invalid(NEEDS_RESIDUALS.into()))
    };
    match finish(&plan, state.moments, state.replicates, Some(&residuals), options) {
        Ok(result) => Ok(OaxacaFinish::Done(Box::new(result))),
        Err(Error::Invalid(message)) if message == NEEDS_RESIDUALS => {
            let models = wanted.lock().expect("not poisoned").take().expect("models were recorded");
            Ok(OaxacaFinish::NeedsResiduals(encode_state(StateKind::OaxacaModels, &models)?))
        }
        Err(other) => Err(other),
    }
}

/// Pass 3 of one partition (robust SEs): the stacked-score Gram matrices under the driver's models.
pub fn oaxaca_scores(frame: &DataFrame, facts: &[u8], models: &[u8], options: &OaxacaOptions) -> Result<Vec<u8>> {
    let plan = distributed_plan(facts, options, frame.column(DUPLICATE_COLUMN).is_ok())?;
    let models: OwnedModels = decode_state(StateKind::OaxacaModels, models)?;
    let grams = plan.score_grams(frame, 0, &models.kept, &models.view())?;
    encode_state(StateKind::OaxacaScores, &grams)
}

/// Merges score Gram matrices.
pub fn oaxaca_scores_merge(a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
    let mut a: ScoreGrams = decode_state(StateKind::OaxacaScores, a)?;
    let b: ScoreGrams = decode_state(StateKind::OaxacaScores, b)?;
    a.a += &b.a;
    a.b += &b.b;
    encode_state(StateKind::OaxacaScores, &a)
}
