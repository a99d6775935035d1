//! Bargaining scenarios (docs/scenarios.md): pay measures applied in order to a copy of the payroll
//! (`percent`, `flat`, `floor`, `equal_value`, `pay_arrears`, `cap`) and the audit's figures recomputed on
//! the adjusted pay, with the cost of each scenario. `where` conditions pass the rule-SQL allow-list.

mod apply;
mod base;
mod engine;
mod remediate;
mod search;
mod spec;

pub use apply::{Adjusted, PayModel};
pub use base::ScenarioBase;
pub use engine::{
    phase_in, scenario, scenario_chart, scenario_frame, scenario_run, scenario_table, scenario_target, Baseline,
    Figures, MeasureCost, PhaseYear, ScenarioFigures, ScenarioRequest, ScenarioResult,
};
pub use remediate::{remediate, remediation_frame, Remediation, WorkerRaise};
pub use search::{Route, Target, TargetResult, MAX_SCALE, TARGET_METRICS};
pub use spec::{Measure, Scenario, ScenarioSet, MAX_MEASURES, MAX_SCENARIOS};
