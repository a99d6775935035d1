//! Equal value in the [`Analysis`] shape: one pass that keeps the incumbents' validated units (employee ×
//! job spells of hourly pay) and, for the seniority-adjusted job rate, the sums and counts of each control
//! per employee × job, in O(employees × jobs) memory. The scheme and ratings are read on the driver when
//! the document is finished by the in-memory code. Partitions must hold whole employees.

use polars::prelude::*;

use super::{check_equal_value_columns, equal_value_finish, EqualValuePartial, EqualValueStream};
use super::{incumbent_validation, load_scheme_and_ratings, EqualValueOptions, EqualValueResult};
use crate::data::ColumnMap;
use crate::gap::GapOptions;
use crate::scale::{decode_state, encode_state, user_columns, Analysis, Columns, PassLabel, StateKind, Step};
use crate::Result;

/// Equal value ([`super::equal_value`]) as an analysis of the engine.
#[derive(Debug, Clone)]
pub struct EqualValueAnalysis {
    pub options: EqualValueOptions,
    validation: GapOptions,
}

impl EqualValueAnalysis {
    pub fn new(options: &EqualValueOptions) -> EqualValueAnalysis {
        EqualValueAnalysis { options: options.clone(), validation: incumbent_validation(options) }
    }
}

impl Analysis for EqualValueAnalysis {
    type Pass = ();
    type State = EqualValuePartial;
    type Accumulator<'a> = EqualValueStream<'a>;
    type Document = EqualValueResult;
    const NAME: &'static str = "equal-value";

    fn columns(&self, schema: &DataFrame) -> Result<Columns> {
        // The files are read (and refused) before any row, as in memory.
        load_scheme_and_ratings(&self.options)?;
        let available = user_columns(schema);
        let read = check_equal_value_columns(&available, schema, &self.options)?;
        let partition_by = ColumnMap::resolve_optional(&self.options.columns.employee_id, "employee_id", &available)
            .filter(|c| available.contains(c));
        Ok(Columns { read, partition_by })
    }

    fn first_pass(&self, _columns: &[String]) -> Result<()> {
        Ok(())
    }

    fn label(&self, _pass: &()) -> PassLabel {
        PassLabel::new(1, 1, "incumbents")
    }

    fn accumulator<'a>(&'a self, _pass: &'a (), schema: &DataFrame) -> Result<EqualValueStream<'a>> {
        EqualValueStream::new(&self.options, &self.validation, &user_columns(schema))
    }

    fn merge(&self, _pass: &(), a: EqualValuePartial, b: EqualValuePartial) -> Result<EqualValuePartial> {
        a.merge(b)
    }

    fn next(&self, _pass: (), state: EqualValuePartial) -> Result<Step<(), EqualValueResult>> {
        Ok(Step::Done(equal_value_finish(state, &self.options)?))
    }

    fn encode(&self, _pass: &(), state: &EqualValuePartial) -> Result<Vec<u8>> {
        encode_state(StateKind::EqualValue, state)
    }

    fn decode(&self, _pass: &(), bytes: &[u8]) -> Result<EqualValuePartial> {
        decode_state(StateKind::EqualValue, bytes)
    }
}
