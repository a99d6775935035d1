//! Equal pay for work of equal value (`shared/spec/equal-value.md`): gender-neutral job evaluation
//! ([`scheme`]), job classes with gender predominance and job rates ([`classes`]), job-to-job and
//! proportional-value comparisons with the cost of closing the gaps ([`compare`]), and the document
//! ([`report`]).

mod analysis;
pub mod classes;
pub mod compare;
pub mod options;
pub mod report;
pub mod scheme;
mod stream;

pub use analysis::EqualValueAnalysis;
pub use classes::{
    check_controls, control_means, drop_null_jobs, incumbent_validation, incumbents, incumbents_from, with_rate_hours,
    MEANS_ID, MEANS_JOB,
};
pub use classes::{Incumbent, JobClass};
pub use compare::{of_equal_value, Comparison, Cost, PayLine, PhaseInYear, WorkerAdjustment};
pub use options::{Comparator, EqualValueOptions, JobRate, Method, PredominanceOverride};
pub use report::{
    check_methods, equal_value, equal_value_frame, equal_value_from, equal_value_table, equal_value_with, load_ratings,
    load_scheme_and_ratings, ClassRow, EqualValueResult,
};
pub use scheme::{score_jobs, JobScore, Scheme, FACTORS};
pub(crate) use stream::{check_equal_value_columns, equal_value_finish};
pub use stream::{ControlSums, EqualValuePartial, EqualValueStream};
