//! Oaxaca-Blinder in the [`Analysis`] shape. The plan of passes:
//! 1. facts: the column checks, group values, categorical levels and non-null counts ([`PlanFacts`]), and
//!    the later rows of repeated (employee_id, period) keys in input order ([`KeyTracker`]);
//! 2. moments of groups A and B over the full design, with the bootstrap's replicate moments (Poisson
//!    draws keyed by input row) in the same pass ([`OaxacaPartial`]);
//! 3. only for robust standard errors: the stacked-score Gram matrices under the fitted models
//!    ([`ScoreGrams`]).
//!
//! The states are the in-memory analysis' own (`scan.rs`), so [`finish`] writes the same document.
//! Partitions of a distributed engine must hold whole employees when the input has an (employee_id,
//! period) key, so that a later row of a key is found within its partition.

use std::sync::Mutex;

use ndarray::Array1;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::OaxacaPartial;
use super::{
    check_columns, duplicate_key_columns, finish, BootstrapDraw, DuplicateRows, OaxacaOptions, OaxacaResult, Plan,
    PlanFacts, ResidualModels, ScoreGrams, SeMethod, Vce,
};
use crate::data::KeyTracker;
use crate::scale::{
    decode_state, encode_state, user_columns, Accumulator, Analysis, Batch, Columns, PassLabel, StateKind, Step,
    ROW_COLUMN,
};
use crate::{Error, Result};

/// Oaxaca-Blinder ([`super::oaxaca`]) as an analysis of the engine.
#[derive(Debug, Clone)]
pub struct OaxacaAnalysis {
    pub options: OaxacaOptions,
}

impl OaxacaAnalysis {
    pub fn new(options: &OaxacaOptions) -> OaxacaAnalysis {
        OaxacaAnalysis { options: options.clone() }
    }

    pub(crate) fn robust(&self) -> bool {
        self.options.se == SeMethod::Delta && self.options.vce == Vce::Robust
    }

    fn passes(&self) -> usize {
        if self.robust() {
            3
        } else {
            2
        }
    }

    /// The plan of the moments and score passes; rows are numbered by the engine's [`ROW_COLUMN`] when
    /// the batches carry it.
    pub(crate) fn plan(&self, facts: &Facts, schema: &DataFrame) -> Result<Plan> {
        let duplicates = match &facts.later {
            Some(rows) => DuplicateRows::Rows(rows.clone()),
            None => DuplicateRows::None,
        };
        let plan = Plan::from_facts(&facts.facts, duplicates, &self.options)?;
        Ok(if schema.column(ROW_COLUMN).is_ok() { plan.with_row_column(ROW_COLUMN) } else { plan })
    }
}

/// The merged first pass: plan facts and, with a key, the sorted input rows that repeat a key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Facts {
    pub(crate) facts: PlanFacts,
    pub(crate) later: Option<Vec<u64>>,
}

/// The fitted models of the residual pass, owned so they can travel to the workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnedModels {
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

/// A pass of the decomposition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // one value per pass, never in a collection
pub enum OaxacaPass {
    Facts,
    Moments(Facts),
    Scores { facts: Facts, moments: Box<OaxacaPartial>, models: OwnedModels },
}

/// A state of a pass.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per pass, never in a collection
pub enum OaxacaState {
    Facts(Facts),
    Moments(OaxacaPartial),
    Scores(ScoreGrams),
}

/// The accumulator of a pass.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per pass, never in a collection
pub enum OaxacaAccumulator<'a> {
    Facts { options: &'a OaxacaOptions, facts: PlanFacts, keys: Option<(String, String, KeyTracker, Vec<u64>)> },
    Moments { options: &'a OaxacaOptions, plan: Plan, schema: DataFrame, state: Option<OaxacaPartial> },
    Scores { plan: Plan, models: &'a OwnedModels, grams: Option<ScoreGrams> },
}

/// The engine's input row numbers of a batch ([`ROW_COLUMN`]); `None`: the rows are numbered from the
/// batch's offset.
fn engine_rows(batch: &Batch) -> Result<Option<Vec<u64>>> {
    match batch.frame.column(ROW_COLUMN) {
        Ok(column) => Ok(Some(column.cast(&DataType::UInt64)?.u64()?.iter().map(|r| r.unwrap_or(0)).collect())),
        Err(_) => Ok(None),
    }
}

impl Accumulator for OaxacaAccumulator<'_> {
    type State = OaxacaState;

    fn update(&mut self, batch: &Batch) -> Result<()> {
        match self {
            OaxacaAccumulator::Facts { options, facts, keys } => {
                check_columns(&batch.frame, options)?;
                let empty = PlanFacts::empty(batch.frame.schema(), options);
                *facts = std::mem::replace(facts, empty).merge(PlanFacts::observe(&batch.frame, options)?)?;
                if let Some((id, period, tracker, later)) = keys {
                    let employees = tracker.employee_codes(batch.frame.column(id)?)?;
                    let periods = tracker.period_codes(batch.frame.column(period)?)?;
                    let numbers = engine_rows(batch)?;
                    for (i, (e, p)) in employees.iter().zip(&periods).enumerate() {
                        if !tracker.first_time(*e, *p) {
                            later.push(numbers.as_ref().map_or(batch.offset + i as u64, |n| n[i]));
                        }
                    }
                }
            }
            OaxacaAccumulator::Moments { options, plan, state, .. } => {
                let part = OaxacaPartial::compute(plan, &batch.frame, batch.offset, options)?;
                *state = Some(match state.take() {
                    None => part,
                    Some(s) => s.merge(part)?,
                });
            }
            OaxacaAccumulator::Scores { plan, models, grams } => {
                let part = plan.score_grams(&batch.frame, batch.offset, &models.kept, &models.view())?;
                *grams = Some(match grams.take() {
                    None => part,
                    Some(g) => add_grams(g, part),
                });
            }
        }
        Ok(())
    }

    fn state(self) -> Result<OaxacaState> {
        Ok(match self {
            OaxacaAccumulator::Facts { facts, keys, .. } => {
                let later = keys.map(|(_, _, _, mut later)| {
                    later.sort_unstable();
                    later
                });
                OaxacaState::Facts(Facts { facts, later })
            }
            OaxacaAccumulator::Moments { options, plan, schema, state } => OaxacaState::Moments(match state {
                Some(s) => s,
                None => OaxacaPartial::compute(&plan, &schema, 0, options)?,
            }),
            OaxacaAccumulator::Scores { grams, .. } => {
                OaxacaState::Scores(grams.ok_or_else(|| Error::Invalid("no rows for the residual pass".into()))?)
            }
        })
    }
}

fn add_grams(mut a: ScoreGrams, b: ScoreGrams) -> ScoreGrams {
    a.a += &b.a;
    a.b += &b.b;
    a
}

/// What finishing from the moments gives: the document, or the models of the residual pass.
pub(crate) enum Finished {
    Done(Box<OaxacaResult>),
    NeedsScores(OwnedModels),
}

impl OaxacaAnalysis {
    /// [`finish`] from the merged moments (and, for robust SEs, the merged score grams). Without the grams,
    /// the kernel's request for the residual pass is answered with the models it asked for.
    pub(crate) fn finish_from(&self, plan: &Plan, state: OaxacaPartial, grams: Option<ScoreGrams>) -> Result<Finished> {
        let wanted: Mutex<Option<OwnedModels>> = Mutex::new(None);
        let residuals = |kept: &[usize], models: &ResidualModels<'_>| -> Result<ScoreGrams> {
            if let Some(grams) = &grams {
                return Ok(grams.clone());
            }
            *wanted.lock().map_err(|_| Error::Invalid("internal: poisoned lock".into()))? = Some(OwnedModels {
                kept: kept.to_vec(),
                columns: models.columns.to_vec(),
                beta_a: models.beta_a.clone(),
                beta_b: models.beta_b.clone(),
                beta_star: models.beta_star.cloned(),
                indicator: models.indicator,
            });
            Err(Error::Invalid(SCORES_NEEDED.into()))
        };
        match finish(plan, state.moments, state.replicates, Some(&residuals), &self.options) {
            Ok(result) => Ok(Finished::Done(Box::new(result))),
            Err(error) => match wanted.into_inner().ok().flatten() {
                Some(models) => Ok(Finished::NeedsScores(models)),
                None => Err(error),
            },
        }
    }
}

/// The kernel's residual pass is deferred to a pass over the rows (never shown: it is answered).
const SCORES_NEEDED: &str = "internal: the residual pass runs over the rows";

impl Analysis for OaxacaAnalysis {
    type Pass = OaxacaPass;
    type State = OaxacaState;
    type Accumulator<'a> = OaxacaAccumulator<'a>;
    type Document = OaxacaResult;
    const NAME: &'static str = "oaxaca";

    fn columns(&self, schema: &DataFrame) -> Result<Columns> {
        check_columns(schema, &self.options)?;
        if self.options.se == SeMethod::Bootstrap && self.options.draw == BootstrapDraw::Multinomial {
            return Err(Error::Invalid(
                "multinomial bootstrap draws need every row in memory at once; streamed input and Spark or Dask use \
                 draw = \"poisson\" (the default), or read the input in memory"
                    .into(),
            ));
        }
        let mut read = self.options.columns_used();
        let key = duplicate_key_columns(&user_columns(schema), &self.options);
        if let Some((id, period)) = &key {
            read.push(id.clone());
            read.push(period.clone());
        }
        Ok(Columns { read, partition_by: key.map(|(id, _)| id) })
    }

    fn first_pass(&self, _columns: &[String]) -> Result<OaxacaPass> {
        Ok(OaxacaPass::Facts)
    }

    fn label(&self, pass: &OaxacaPass) -> PassLabel {
        let of = self.passes();
        match pass {
            OaxacaPass::Facts => PassLabel::new(1, of, "levels and keys"),
            OaxacaPass::Moments(_) => PassLabel::new(2, of, "moments"),
            OaxacaPass::Scores { .. } => PassLabel::new(3, of, "residuals"),
        }
    }

    fn accumulator<'a>(&'a self, pass: &'a OaxacaPass, schema: &DataFrame) -> Result<OaxacaAccumulator<'a>> {
        let options = &self.options;
        Ok(match pass {
            OaxacaPass::Facts => OaxacaAccumulator::Facts {
                options,
                facts: PlanFacts::empty(schema.schema(), options),
                keys: duplicate_key_columns(&user_columns(schema), options)
                    .map(|(id, period)| (id, period, KeyTracker::default(), Vec::new())),
            },
            OaxacaPass::Moments(facts) => OaxacaAccumulator::Moments {
                options,
                plan: self.plan(facts, schema)?,
                schema: schema.clone(),
                state: None,
            },
            OaxacaPass::Scores { facts, models, .. } => {
                OaxacaAccumulator::Scores { plan: self.plan(facts, schema)?, models, grams: None }
            }
        })
    }

    fn merge(&self, _pass: &OaxacaPass, a: OaxacaState, b: OaxacaState) -> Result<OaxacaState> {
        Ok(match (a, b) {
            (OaxacaState::Facts(a), OaxacaState::Facts(b)) => {
                let later = match (a.later, b.later) {
                    (Some(mut x), Some(y)) => {
                        x.extend(y);
                        x.sort_unstable();
                        Some(x)
                    }
                    (x, y) => x.or(y),
                };
                OaxacaState::Facts(Facts { facts: a.facts.merge(b.facts)?, later })
            }
            (OaxacaState::Moments(a), OaxacaState::Moments(b)) => OaxacaState::Moments(a.merge(b)?),
            (OaxacaState::Scores(a), OaxacaState::Scores(b)) => OaxacaState::Scores(add_grams(a, b)),
            _ => return Err(Error::Invalid("internal: states of different Oaxaca passes merged".into())),
        })
    }

    fn next(&self, pass: OaxacaPass, state: OaxacaState) -> Result<Step<OaxacaPass, OaxacaResult>> {
        let schema = DataFrame::empty();
        match (pass, state) {
            (OaxacaPass::Facts, OaxacaState::Facts(facts)) => {
                // The plan is checked here, once, before the rows are read again.
                self.plan(&facts, &schema)?;
                Ok(Step::Pass(OaxacaPass::Moments(facts)))
            }
            (OaxacaPass::Moments(facts), OaxacaState::Moments(moments)) => {
                let plan = self.plan(&facts, &schema)?;
                // The moments are kept for the residual pass only when it will run.
                let kept = if self.robust() { Some(moments.clone()) } else { None };
                match self.finish_from(&plan, moments, None)? {
                    Finished::Done(result) => Ok(Step::Done(*result)),
                    Finished::NeedsScores(models) => {
                        let moments =
                            kept.ok_or_else(|| Error::Invalid("internal: an unexpected residual pass".into()))?;
                        Ok(Step::Pass(OaxacaPass::Scores { facts, moments: Box::new(moments), models }))
                    }
                }
            }
            (OaxacaPass::Scores { facts, moments, .. }, OaxacaState::Scores(grams)) => {
                let plan = self.plan(&facts, &schema)?;
                match self.finish_from(&plan, *moments, Some(grams))? {
                    Finished::Done(result) => Ok(Step::Done(*result)),
                    Finished::NeedsScores(_) => Err(Error::Invalid("internal: a second residual pass".into())),
                }
            }
            _ => Err(Error::Invalid("internal: an Oaxaca state finished under another pass".into())),
        }
    }

    fn encode(&self, _pass: &OaxacaPass, state: &OaxacaState) -> Result<Vec<u8>> {
        match state {
            OaxacaState::Facts(facts) => encode_state(StateKind::OaxacaFacts, facts),
            OaxacaState::Moments(moments) => encode_state(StateKind::OaxacaMoments, moments),
            OaxacaState::Scores(grams) => encode_state(StateKind::OaxacaScores, grams),
        }
    }

    fn decode(&self, pass: &OaxacaPass, bytes: &[u8]) -> Result<OaxacaState> {
        Ok(match pass {
            OaxacaPass::Facts => OaxacaState::Facts(decode_state(StateKind::OaxacaFacts, bytes)?),
            OaxacaPass::Moments(_) => OaxacaState::Moments(decode_state(StateKind::OaxacaMoments, bytes)?),
            OaxacaPass::Scores { .. } => OaxacaState::Scores(decode_state(StateKind::OaxacaScores, bytes)?),
        })
    }
}
