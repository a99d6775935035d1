//! The raw gap in the [`Analysis`] shape: one pass that validates each batch and sums its rows into
//! employee × cell units ([`UnitStream`], O(units)); the merged units are finished by the in-memory
//! [`gap_prepared`], so the document is the in-memory one.
//!
//! Partitions must hold whole employees (an employee of two genders leaves the analysis, which only a
//! state of all their rows can tell).

use polars::prelude::*;

use super::{check_options, gap, GapOptions, GapResult};
use super::{UnitPartial, UnitStream};
use crate::data::ColumnMap;
use crate::scale::{decode_state, encode_state};
use crate::scale::{user_columns, Analysis, Columns, PassLabel, StateKind, Step};
use crate::Result;

/// The raw gap ([`gap`]) as an analysis of the engine.
#[derive(Debug, Clone)]
pub struct GapAnalysis {
    pub options: GapOptions,
}

impl GapAnalysis {
    pub fn new(options: &GapOptions) -> GapAnalysis {
        GapAnalysis { options: options.clone() }
    }
}

impl Analysis for GapAnalysis {
    type Pass = ();
    type State = UnitPartial;
    type Accumulator<'a> = UnitStream<'a>;
    type Document = GapResult;
    const NAME: &'static str = "gap";

    fn columns(&self, schema: &DataFrame) -> Result<Columns> {
        check_options(&self.options)?;
        let available = user_columns(schema);
        let (required, optional) = self.options.columns_used();
        if required.iter().any(|c| !available.contains(c)) {
            // The in-memory checks name the role; run them on the (empty) schema for the same message.
            gap(schema, &self.options)?;
        }
        let mut read = required;
        read.extend(optional);
        let partition_by = ColumnMap::resolve_optional(&self.options.columns.employee_id, "employee_id", &available);
        Ok(Columns { read, partition_by })
    }

    fn first_pass(&self, _columns: &[String]) -> Result<()> {
        Ok(())
    }

    fn label(&self, _pass: &()) -> PassLabel {
        PassLabel::new(1, 1, "units")
    }

    fn accumulator<'a>(&'a self, _pass: &'a (), schema: &DataFrame) -> Result<UnitStream<'a>> {
        UnitStream::new(&self.options, &user_columns(schema))
    }

    fn merge(&self, _pass: &(), a: UnitPartial, b: UnitPartial) -> Result<UnitPartial> {
        a.merge(b)
    }

    fn next(&self, _pass: (), state: UnitPartial) -> Result<Step<(), GapResult>> {
        Ok(Step::Done(state.finish(&self.options)?))
    }

    fn encode(&self, _pass: &(), state: &UnitPartial) -> Result<Vec<u8>> {
        encode_state(StateKind::Gap, state)
    }

    fn decode(&self, _pass: &(), bytes: &[u8]) -> Result<UnitPartial> {
        decode_state(StateKind::Gap, bytes)
    }
}
