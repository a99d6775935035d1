//! Entitlement audits (`spec/entitlements.md`): declarative rules for hazard pay, allowances, overtime and
//! pay for all hours; what each worker was due in each period against what payroll shows; arrears; and
//! who is short-paid most often.
//!
//! ```
//! use payequity::entitlements::{audit_entitlements, EntitlementOptions, RuleSet};
//! use polars::prelude::*;
//!
//! let rules = RuleSet::from_toml(r#"
//! [ruleset]
//! name = "example"
//! [[rule]]
//! id = "hazard"
//! kind = "hazard"
//! when = "risk = 'high'"
//! amount = { per_hour = 2.5, hours = "hazard_hours" }
//! paid = "hazard_paid"
//! "#, "example.toml")?;
//! let payroll = df!(
//!     "employee_id" => ["a", "b", "c"], "period" => ["2025-01", "2025-01", "2025-01"],
//!     "gender" => ["F", "M", "F"], "risk" => ["high", "high", "low"],
//!     "hazard_hours" => [40.0, 20.0, 0.0], "hazard_paid" => [0.0, 50.0, 0.0],
//! )?;
//! let audit = audit_entitlements(&payroll, &rules, &EntitlementOptions { min_cell: 0, ..Default::default() })?;
//! // a was due 2.5 × 40 = 100 and got nothing; b got the 50 due; c is not eligible.
//! assert_eq!(audit.rules[0].eligible, 2);
//! assert_eq!(audit.rules[0].status_counts.not_paid, 1);
//! assert_eq!(audit.arrears_total, 100.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod analysis;
mod compile;
mod disparity;
mod engine;
mod report;
mod rules;
pub(crate) mod sql_guard;
mod sums;
mod table;
mod validate;

pub use analysis::AuditAnalysis;
pub use disparity::{DisparityRow, LogitReport};
pub use engine::STATUSES;
pub use report::{
    audit_chunk, audit_document, audit_entitlements, columns_needed, compile_rules, load_rules, sort_arrears,
    CompiledRules, EntitlementAudit, EntitlementOptions, RuleSetSummary, RuleSummary, StatusCounts,
};
pub use rules::{
    Amount, AmountSpec, Cap, CapYear, Combine, DateRange, Effective, HoursSpec, PeriodLength, Rule, RuleKind, RuleSet,
    RuleSetInfo,
};
pub use sums::{AuditSums, CellSums, RuleSums};
pub use table::{entitlement_frame, entitlement_table};
