//! The entitlement audit in the [`Analysis`] shape. Caps run over each worker's periods in time order, so
//! every update must hold whole workers: a distributed engine partitions by the employee id, and the
//! streamed runner spills the rows into partitions of whole workers first
//! ([`Analysis::whole_partitions`]). One pass audits each chunk with the in-memory code ([`audit_chunk`])
//! and adds its sums; the worker-level arrears table is kept beside the state (streamed) or computed per
//! partition by the engine ([`Analysis::rows`]).

use polars::prelude::*;

use super::{
    audit_chunk, audit_document, audit_entitlements, columns_needed, compile_rules, sort_arrears, AuditSums,
    CompiledRules, EntitlementAudit, EntitlementOptions, RuleSet,
};
use crate::scale::{
    decode_state, encode_state, input_row_error, Accumulator, Analysis, Batch, Columns, PassLabel, StateKind, Step,
};
use crate::Result;

/// The entitlement audit ([`audit_entitlements`]) as an analysis of the engine; the rule set is read
/// before (on the driver) and travels as a value.
#[derive(Debug, Clone)]
pub struct AuditAnalysis {
    pub rules: RuleSet,
    pub options: EntitlementOptions,
}

impl AuditAnalysis {
    pub fn new(rules: &RuleSet, options: &EntitlementOptions) -> AuditAnalysis {
        AuditAnalysis { rules: rules.clone(), options: options.clone() }
    }
}

/// The audit's state: the sums, the arrears rows of the chunks (not encoded: distributed engines compute
/// them per partition), and, for input without rows, the in-memory document of the empty table.
#[derive(Debug)]
pub struct AuditState {
    sums: AuditSums,
    arrears: Vec<DataFrame>,
    empty: Option<Box<EntitlementAudit>>,
}

/// The accumulator: chunks of whole workers audited one by one.
#[derive(Debug)]
pub struct AuditAccumulator<'a> {
    analysis: &'a AuditAnalysis,
    compiled: CompiledRules,
    schema: DataFrame,
    state: AuditState,
    chunks: usize,
}

impl Accumulator for AuditAccumulator<'_> {
    type State = AuditState;

    fn update(&mut self, batch: &Batch) -> Result<()> {
        let a = self.analysis;
        let (sums, owed) = audit_chunk(&batch.frame, &a.rules, &self.compiled, &a.options)
            .map_err(|e| input_row_error(e, &batch.frame))?;
        self.state.sums = std::mem::take(&mut self.state.sums).merge(sums);
        self.state.arrears.push(owed);
        self.chunks += 1;
        Ok(())
    }

    fn state(mut self) -> Result<AuditState> {
        if self.chunks == 0 {
            let a = self.analysis;
            self.state.empty = Some(Box::new(audit_entitlements(&self.schema, &a.rules, &a.options)?));
        }
        Ok(self.state)
    }
}

impl Analysis for AuditAnalysis {
    type Pass = ();
    type State = AuditState;
    type Accumulator<'a> = AuditAccumulator<'a>;
    type Document = EntitlementAudit;
    const NAME: &'static str = "audit-entitlements";

    fn columns(&self, schema: &DataFrame) -> Result<Columns> {
        // Columns and rules are checked against the schema first, with the in-memory messages.
        audit_entitlements(schema, &self.rules, &self.options)?;
        let mut read = columns_needed(schema.schema(), &self.rules, &self.options)?;
        read.retain(|c| schema.column(c).is_ok());
        let employee_id = self.options.columns.employee_id.clone().unwrap_or_else(|| "employee_id".into());
        Ok(Columns { read, partition_by: Some(employee_id) })
    }

    fn whole_partitions(&self) -> bool {
        true
    }

    fn first_pass(&self, _columns: &[String]) -> Result<()> {
        Ok(())
    }

    fn label(&self, _pass: &()) -> PassLabel {
        PassLabel::new(1, 1, "auditing workers")
    }

    fn accumulator<'a>(&'a self, _pass: &'a (), schema: &DataFrame) -> Result<AuditAccumulator<'a>> {
        Ok(AuditAccumulator {
            analysis: self,
            compiled: compile_rules(schema.schema(), &self.rules, &self.options)?,
            schema: schema.clone(),
            state: AuditState { sums: AuditSums::default(), arrears: Vec::new(), empty: None },
            chunks: 0,
        })
    }

    fn merge(&self, _pass: &(), a: AuditState, b: AuditState) -> Result<AuditState> {
        let mut arrears = a.arrears;
        arrears.extend(b.arrears);
        Ok(AuditState { sums: a.sums.merge(b.sums), arrears, empty: None })
    }

    fn next(&self, _pass: (), state: AuditState) -> Result<Step<(), EntitlementAudit>> {
        if state.sums.ledger.read == 0 {
            if let Some(document) = state.empty {
                return Ok(Step::Done(*document));
            }
        }
        let table = state.arrears.into_iter().reduce(|mut a, b| {
            a.vstack_mut_owned(b).expect("arrears tables share their columns");
            a
        });
        let table = match table {
            Some(mut t) => {
                t.rechunk_mut();
                sort_arrears(t)?
            }
            None => DataFrame::empty(),
        };
        Ok(Step::Done(audit_document(state.sums, table, &self.rules, &self.options)))
    }

    fn encode(&self, _pass: &(), state: &AuditState) -> Result<Vec<u8>> {
        encode_state(StateKind::Audit, &state.sums)
    }

    fn decode(&self, _pass: &(), bytes: &[u8]) -> Result<AuditState> {
        Ok(AuditState { sums: decode_state(StateKind::Audit, bytes)?, arrears: Vec::new(), empty: None })
    }

    fn rows(&self, _pass: &(), partition: &DataFrame) -> Result<Option<DataFrame>> {
        let compiled = compile_rules(partition.schema(), &self.rules, &self.options)?;
        let (_, owed) =
            audit_chunk(partition, &self.rules, &compiled, &self.options).map_err(|e| input_row_error(e, partition))?;
        Ok(Some(owed))
    }
}
