//! Pay transparency reporting (`shared/spec/transparency.md`): the EU Pay Transparency Directive's Art. 9
//! indicators, Art. 10 trigger and reporting obligation (`eu.rs`), the UK gender pay gap figures (`uk.rs`),
//! the Swiss Logib model (`logib.rs`), quartile bands with the UK tie rule (`quartiles.rs`), all gap figures
//! through the skeleton's [`crate::gap::gap`] (`units.rs`), and the document (`report.rs`).

mod analysis;
mod eu;
mod logib;
mod options;
mod periods;
mod quartiles;
mod report;
mod stream;
mod uk;
mod units;

pub use analysis::TransparencyAnalysis;
pub use eu::{
    eu, eu_from_units, eu_kept_columns, eu_units, reporting_obligation, Art10Flag, ByGender, CategoryGap, EuIndicators,
    EuResult, ART10_THRESHOLD_PCT,
};
pub use logib::{
    logib, logib_verdict, logib_with, LogibResult, LogibVerdict, LOGIB_LIMIT, LOGIB_MIN_EMPLOYEES, LOGIB_TARGET,
};
pub use options::{LogibColumns, PayComponents, Regime, TransparencyOptions};
pub use periods::{canonical_period, canonical_periods, SINGLE_SNAPSHOT};
pub use quartiles::{band_sizes, quartile_bands, QuartileBand};
pub use report::{
    last_period, regimes_run, transparency, transparency_frame, transparency_from, transparency_table,
    TransparencyResult,
};
pub use stream::{
    batch_periods, check_batch_periods, periods_needed, TransparencyPartial, TransparencyPlan, TransparencyStream,
};
pub use uk::{
    uk, uk_bonus_window, uk_columns, uk_from_rows, uk_period_column, uk_period_options, uk_rows_needed, uk_snapshot,
    UkResult, UK_REPORTING_THRESHOLD,
};
pub use units::gap_options;
