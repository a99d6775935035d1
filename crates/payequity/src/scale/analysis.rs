//! Defines the [`Analysis`] shape every analysis is written in, and its byte-level form for distributed
//! engines ([`DistributedAnalysis`]).
//!
//! The model is DataFusion's `Accumulator` (`update_batch`, `state`, `merge_batch`, `evaluate`), extended
//! with a plan of passes (`shared/spec/scale.md`):
//!
//! ```text
//!   columns(schema) ──► first_pass ──► ┌──────────── pass k ─────────────┐
//!                                      │ accumulator(pass)               │
//!                                      │   .update(batch) … per batch    │ one per stream or partition
//!                                      │   .state()                      │
//!                                      │ merge(state, state) … per state │
//!                                      └──────────────┬──────────────────┘
//!                                        next(pass, merged state)
//!                                      ┌──────────────┴──────────────┐
//!                                 Step::Pass(pass k+1)        Step::Done(document)
//! ```
//!
//! A pass value carries what the passes before found (the merged facts, periods, fitted models); it is what
//! a distributed driver broadcasts to its workers. One runner ([`super::run`]) drives the shape over
//! streamed batches, and three generic entry points ([`DistributedAnalysis::partial`], `merge`, `next`)
//! drive it on Spark and Dask, so an analysis is wired once.

use std::borrow::Cow;

use polars::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::batches::Batch;
use super::state::{decode_state, encode_state, StateKind};
use crate::{Error, Result};

/// Input row numbers made by a distributed engine (0-based, in the input order of the whole table).
pub const ROW_COLUMN: &str = "__pe_row";

/// Where a pass stands in the plan, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassLabel {
    /// 1-based number of the pass.
    pub number: usize,
    /// Passes the plan has (the most it can have, when later passes depend on the data).
    pub of: usize,
    /// What the pass computes, in a few words.
    pub what: Cow<'static, str>,
}

impl PassLabel {
    /// Pass `number` of `of`, named `what`.
    pub fn new(number: usize, of: usize, what: impl Into<Cow<'static, str>>) -> PassLabel {
        PassLabel { number, of, what: what.into() }
    }
}

/// What follows a pass: another pass, or the document.
#[derive(Debug)]
pub enum Step<P, D> {
    Pass(P),
    Done(D),
}

/// The rows an analysis reads and how a distributed engine must partition them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// The input's columns the analysis reads (the projection of every pass).
    pub read: Vec<String>,
    /// Partitions must hold all rows of each value of this column (the employee id of per-employee
    /// analyses); `None`: any partitioning.
    pub partition_by: Option<String>,
}

/// The state of one pass over the batches of a stream or of one partition (DataFusion's `Accumulator`).
pub trait Accumulator {
    type State;
    /// Adds a batch: the rows after every earlier batch of this accumulator, in input order.
    ///
    /// # Errors
    /// Bad data in the batch (a value that cannot be used, naming its input row).
    fn update(&mut self, batch: &Batch) -> Result<()>;
    /// The mergeable state of every batch added.
    ///
    /// # Errors
    /// A check over the whole stream or partition fails (strict mode, an employee of two genders).
    fn state(self) -> Result<Self::State>;
}

/// An analysis, written once in its own folder, run by every front end.
pub trait Analysis: Sync {
    /// A pass of the plan, with what the passes before it found.
    type Pass: Serialize + DeserializeOwned + Clone + Send + Sync;
    /// The mergeable state of a pass.
    type State: Send;
    /// The accumulator of a pass.
    type Accumulator<'a>: Accumulator<State = Self::State>
    where
        Self: 'a;
    /// The result document.
    type Document: Serialize;

    /// The analysis' name, as the CLI subcommand and the Python function call it.
    const NAME: &'static str;

    /// Checks the input's (empty) `schema` before any row is read, with the in-memory messages, and
    /// names the columns read.
    ///
    /// # Errors
    /// A missing or mistyped column, a bad option, a file of the options that cannot be read.
    fn columns(&self, schema: &DataFrame) -> Result<Columns>;

    /// The first pass, for input with `columns`.
    ///
    /// # Errors
    /// Options that do not fit the input.
    fn first_pass(&self, columns: &[String]) -> Result<Self::Pass>;

    /// Where `pass` stands in the plan.
    fn label(&self, pass: &Self::Pass) -> PassLabel;

    /// Whether every update must hold all rows of each value of [`Columns::partition_by`] (a worker's
    /// periods in time order): the streamed runner then spills the rows into partitions of whole workers
    /// first, and feeds each partition as one batch.
    fn whole_partitions(&self) -> bool {
        false
    }

    /// The columns `pass` reads, when fewer than [`Columns::read`] (a pass of facts or periods).
    fn pass_columns(&self, _pass: &Self::Pass) -> Option<Vec<String>> {
        None
    }

    /// An empty accumulator of `pass`, for input with the (empty) `schema`.
    ///
    /// # Errors
    /// Options that do not fit the input's columns.
    fn accumulator<'a>(&'a self, pass: &'a Self::Pass, schema: &DataFrame) -> Result<Self::Accumulator<'a>>;

    /// Merges two states of `pass` (associative and commutative; for per-employee analyses, of different
    /// employees).
    ///
    /// # Errors
    /// States of different shapes (a bug).
    fn merge(&self, pass: &Self::Pass, a: Self::State, b: Self::State) -> Result<Self::State>;

    /// The next pass, or the document, from the merged state of `pass`.
    ///
    /// # Errors
    /// The estimate cannot be computed from the data (an empty group, a singular design …).
    fn next(&self, pass: Self::Pass, state: Self::State) -> Result<Step<Self::Pass, Self::Document>>;

    /// The versioned bytes of a state of `pass` (`PEQS`, the format version, the kind).
    ///
    /// # Errors
    /// A state that cannot be encoded (a bug).
    fn encode(&self, pass: &Self::Pass, state: &Self::State) -> Result<Vec<u8>>;

    /// A state of `pass` from bytes made by [`Analysis::encode`].
    ///
    /// # Errors
    /// Bytes of another version or kind, or corrupt bytes.
    fn decode(&self, pass: &Self::Pass, bytes: &[u8]) -> Result<Self::State>;

    /// The analysis' row-level table (the audit's arrears) of one partition of whole employees under the
    /// last pass; `None`: the analysis has no such table.
    ///
    /// # Errors
    /// As [`Accumulator::update`].
    fn rows(&self, _pass: &Self::Pass, _partition: &DataFrame) -> Result<Option<DataFrame>> {
        Ok(None)
    }
}

/// The byte-level form of an analysis for distributed engines: passes and states travel as versioned
/// bytes, partitions arrive as data frames with the engine's [`ROW_COLUMN`], documents leave as JSON.
pub trait DistributedAnalysis {
    /// The analysis' name.
    fn name(&self) -> &'static str;
    /// The columns read and the partitioning, checked against the input's (empty) schema, and the first
    /// pass as bytes.
    ///
    /// # Errors
    /// As [`Analysis::columns`] and [`Analysis::first_pass`].
    fn plan(&self, schema: &DataFrame) -> Result<(Columns, Vec<u8>)>;
    /// The state of one partition under `pass` (rows sorted by [`ROW_COLUMN`]).
    ///
    /// # Errors
    /// As [`Accumulator::update`] and [`Accumulator::state`].
    fn partial(&self, pass: &[u8], partition: &DataFrame) -> Result<Vec<u8>>;
    /// Two states of `pass` merged.
    ///
    /// # Errors
    /// As [`Analysis::merge`].
    fn merge(&self, pass: &[u8], a: &[u8], b: &[u8]) -> Result<Vec<u8>>;
    /// The next pass (bytes) or the document (JSON) from the merged state of `pass`.
    ///
    /// # Errors
    /// As [`Analysis::next`].
    fn next(&self, pass: &[u8], state: &[u8]) -> Result<Step<Vec<u8>, String>>;
    /// The row-level table of one partition under the last pass, when the analysis has one.
    ///
    /// # Errors
    /// As [`Analysis::rows`].
    fn rows(&self, pass: &[u8], partition: &DataFrame) -> Result<Option<DataFrame>>;
}

fn decode_pass<A: Analysis>(bytes: &[u8]) -> Result<A::Pass> {
    decode_state(StateKind::Pass, bytes)
}

/// The user's columns of a partition (without the engine's row numbers).
pub(crate) fn user_columns(frame: &DataFrame) -> Vec<String> {
    frame.get_column_names().iter().map(|c| c.to_string()).filter(|c| c != ROW_COLUMN).collect()
}

impl<A: Analysis> DistributedAnalysis for A {
    fn name(&self) -> &'static str {
        A::NAME
    }

    fn plan(&self, schema: &DataFrame) -> Result<(Columns, Vec<u8>)> {
        let schema = schema.drop(ROW_COLUMN).unwrap_or_else(|_| schema.clone());
        let columns = self.columns(&schema)?;
        let pass = self.first_pass(&user_columns(&schema))?;
        // The first pass over the empty schema, on the driver: what the workers would refuse (a mistyped
        // column, options that do not fit the input) is refused here with the in-memory message.
        let mut accumulator = self.accumulator(&pass, &schema)?;
        accumulator.update(&Batch { frame: schema.clone(), offset: 0, file: 0 })?;
        accumulator.state()?;
        Ok((columns, encode_state(StateKind::Pass, &pass)?))
    }

    fn partial(&self, pass: &[u8], partition: &DataFrame) -> Result<Vec<u8>> {
        if partition.column(ROW_COLUMN).is_err() {
            return Err(Error::Invalid(format!("internal: a partition lacks the `{ROW_COLUMN}` column")));
        }
        let pass = decode_pass::<A>(pass)?;
        let schema = partition.clear();
        let mut accumulator = self.accumulator(&pass, &schema)?;
        accumulator.update(&Batch { frame: partition.clone(), offset: 0, file: 0 })?;
        let state = accumulator.state()?;
        self.encode(&pass, &state)
    }

    fn merge(&self, pass: &[u8], a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
        let pass = decode_pass::<A>(pass)?;
        let merged = Analysis::merge(self, &pass, self.decode(&pass, a)?, self.decode(&pass, b)?)?;
        self.encode(&pass, &merged)
    }

    fn next(&self, pass: &[u8], state: &[u8]) -> Result<Step<Vec<u8>, String>> {
        let pass = decode_pass::<A>(pass)?;
        let state = self.decode(&pass, state)?;
        match Analysis::next(self, pass, state)? {
            Step::Pass(next) => Ok(Step::Pass(encode_state(StateKind::Pass, &next)?)),
            Step::Done(document) => Ok(Step::Done(crate::report::to_json(&document)?)),
        }
    }

    fn rows(&self, pass: &[u8], partition: &DataFrame) -> Result<Option<DataFrame>> {
        Analysis::rows(self, &decode_pass::<A>(pass)?, partition)
    }
}

/// Serde of a pass field as JSON text inside the binary encoding: options that read user input through
/// self-describing forms (a name or a list of names) cannot be read back from postcard otherwise.
pub(crate) mod as_json {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<T: Serialize, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&serde_json::to_string(value).map_err(S::Error::custom)?)
    }

    pub(crate) fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
        serde_json::from_str(&String::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}
