//! The transparency report in the [`Analysis`] shape, in O(employees) memory. The plan of passes:
//! 1. the distinct pay periods, only when the UK figures or the Logib sample need the last one (each value
//!    checked to be a period in a documented format when the UK figures run);
//! 2. one pass that feeds every regime ([`TransparencyPlan`]): the EU figures keep the validated units of
//!    their two pay bases, the UK figures the snapshot's and the bonus window's rows, Logib its sample's.
//!
//! Each regime then finishes with the in-memory code, so the document is the in-memory one. Partitions
//! must hold whole employees.

use std::collections::BTreeSet;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    batch_periods, check_batch_periods, periods_needed, TransparencyPartial, TransparencyPlan, TransparencyStream,
};
use super::{regimes_run, transparency, Regime, TransparencyOptions, TransparencyResult};
use crate::data::ColumnMap;
use crate::scale::{
    columns_to_read, decode_state, encode_state, input_row_error, Accumulator, Analysis, Batch, Columns, PassLabel,
    StateKind, Step,
};
use crate::Result;

/// The transparency report ([`transparency`]) as an analysis of the engine.
#[derive(Debug, Clone)]
pub struct TransparencyAnalysis {
    pub options: TransparencyOptions,
}

impl TransparencyAnalysis {
    pub fn new(options: &TransparencyOptions) -> TransparencyAnalysis {
        TransparencyAnalysis { options: options.clone() }
    }
}

/// A pass of the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum TransparencyPass {
    /// The distinct values of the period `column`, for input with `columns`.
    Periods { column: String, columns: Vec<String> },
    /// The figures of every regime.
    Figures { plan: Box<TransparencyPlan>, passes: usize },
}

/// A state of a pass.
#[derive(Debug)]
pub enum TransparencyState {
    Periods(BTreeSet<String>),
    Figures(Box<TransparencyPartial>),
}

/// The accumulator of a pass.
#[derive(Debug)]
pub enum TransparencyAccumulator<'a> {
    Periods { column: &'a str, check: bool, periods: BTreeSet<String> },
    Figures(Box<TransparencyStream<'a>>),
}

impl Accumulator for TransparencyAccumulator<'_> {
    type State = TransparencyState;

    fn update(&mut self, batch: &Batch) -> Result<()> {
        match self {
            TransparencyAccumulator::Periods { column, check, periods } => {
                if *check {
                    check_batch_periods(&batch.frame, column, batch.offset)
                        .map_err(|e| input_row_error(e, &batch.frame))?;
                }
                periods.extend(batch_periods(&batch.frame, column)?);
                Ok(())
            }
            TransparencyAccumulator::Figures(stream) => stream.update(batch),
        }
    }

    fn state(self) -> Result<TransparencyState> {
        Ok(match self {
            TransparencyAccumulator::Periods { periods, .. } => TransparencyState::Periods(periods),
            TransparencyAccumulator::Figures(stream) => TransparencyState::Figures(Box::new(stream.into_partial()?)),
        })
    }
}

impl TransparencyAnalysis {
    fn figures(&self, columns: &[String], periods: BTreeSet<String>, passes: usize) -> Result<TransparencyPass> {
        let plan = TransparencyPlan::new(&self.options, columns, periods.into_iter().collect())?;
        Ok(TransparencyPass::Figures { plan: Box::new(plan), passes })
    }
}

impl Analysis for TransparencyAnalysis {
    type Pass = TransparencyPass;
    type State = TransparencyState;
    type Accumulator<'a> = TransparencyAccumulator<'a>;
    type Document = TransparencyResult;
    const NAME: &'static str = "transparency";

    fn columns(&self, schema: &DataFrame) -> Result<Columns> {
        let available = crate::scale::user_columns(schema);
        let read = columns_to_read(&available, self.options.columns_used(), || transparency(schema, &self.options))?;
        let partition_by = ColumnMap::resolve_optional(&self.options.columns.employee_id, "employee_id", &available)
            .filter(|c| available.contains(c));
        Ok(Columns { read, partition_by })
    }

    fn first_pass(&self, columns: &[String]) -> Result<TransparencyPass> {
        match periods_needed(&self.options, columns) {
            Some(column) => Ok(TransparencyPass::Periods { column, columns: columns.to_vec() }),
            None => self.figures(columns, BTreeSet::new(), 1),
        }
    }

    fn label(&self, pass: &TransparencyPass) -> PassLabel {
        match pass {
            TransparencyPass::Periods { .. } => PassLabel::new(1, 2, "pay periods"),
            TransparencyPass::Figures { passes, .. } => PassLabel::new(*passes, *passes, "figures"),
        }
    }

    fn pass_columns(&self, pass: &TransparencyPass) -> Option<Vec<String>> {
        match pass {
            TransparencyPass::Periods { column, .. } => Some(vec![column.clone()]),
            TransparencyPass::Figures { .. } => None,
        }
    }

    fn accumulator<'a>(
        &'a self,
        pass: &'a TransparencyPass,
        schema: &DataFrame,
    ) -> Result<TransparencyAccumulator<'a>> {
        Ok(match pass {
            TransparencyPass::Periods { column, .. } => TransparencyAccumulator::Periods {
                column,
                check: regimes_run(&self.options).contains(&Regime::Uk),
                periods: BTreeSet::new(),
            },
            TransparencyPass::Figures { plan, .. } => {
                TransparencyAccumulator::Figures(Box::new(plan.stream(&crate::scale::user_columns(schema))?))
            }
        })
    }

    fn merge(&self, _pass: &TransparencyPass, a: TransparencyState, b: TransparencyState) -> Result<TransparencyState> {
        Ok(match (a, b) {
            (TransparencyState::Periods(mut a), TransparencyState::Periods(b)) => {
                a.extend(b);
                TransparencyState::Periods(a)
            }
            (TransparencyState::Figures(a), TransparencyState::Figures(b)) => {
                TransparencyState::Figures(Box::new(a.merge(*b)?))
            }
            _ => return Err(crate::Error::Invalid("internal: states of different transparency passes merged".into())),
        })
    }

    fn next(
        &self,
        pass: TransparencyPass,
        state: TransparencyState,
    ) -> Result<Step<TransparencyPass, TransparencyResult>> {
        match (pass, state) {
            (TransparencyPass::Periods { columns, .. }, TransparencyState::Periods(periods)) => {
                Ok(Step::Pass(self.figures(&columns, periods, 2)?))
            }
            (TransparencyPass::Figures { plan, .. }, TransparencyState::Figures(partial)) => {
                Ok(Step::Done(plan.finish(*partial)?))
            }
            _ => Err(crate::Error::Invalid("internal: a transparency state finished under another pass".into())),
        }
    }

    fn encode(&self, _pass: &TransparencyPass, state: &TransparencyState) -> Result<Vec<u8>> {
        match state {
            TransparencyState::Periods(periods) => encode_state(StateKind::Periods, periods),
            TransparencyState::Figures(partial) => encode_state(StateKind::Transparency, partial.as_ref()),
        }
    }

    fn decode(&self, pass: &TransparencyPass, bytes: &[u8]) -> Result<TransparencyState> {
        Ok(match pass {
            TransparencyPass::Periods { .. } => TransparencyState::Periods(decode_state(StateKind::Periods, bytes)?),
            TransparencyPass::Figures { .. } => {
                TransparencyState::Figures(Box::new(decode_state(StateKind::Transparency, bytes)?))
            }
        })
    }
}
