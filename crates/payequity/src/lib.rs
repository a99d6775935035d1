//! payequity: remuneration equity analytics over payroll data held in Arrow / polars.
//!
//! Data flows one way (see `DESIGN.md`): [`data`] loads and validates payroll rows and keeps the row
//! [`data::Ledger`]; [`stats`] holds the numeric kernels (mergeable moments, quantiles, inference);
//! capability modules such as [`gap`] turn them into results; [`report`] holds the shared document parts.
//! Every public function returns its result together with a ledger in which
//! `read == used + Σ excluded` holds.
//!
//! ```
//! use payequity::gap::{gap, GapOptions};
//! use polars::prelude::*;
//!
//! let payroll = df!(
//!     "gender" => ["F", "F", "M", "M"],
//!     "pay" => [900.0, 1100.0, 1200.0, 1300.0],
//!     "hours" => [50.0, 50.0, 50.0, 50.0],
//! )?;
//! let mut options = GapOptions::default();
//! options.columns.pay = vec!["pay".into()];
//! options.min_cell = 0;
//! let result = gap(&payroll, &options)?;
//! // Hourly means: women 20, men 25; gap = (25 − 20) / 25 × 100 = 20 %.
//! assert!((result.overall.mean_gap_pct.estimate.unwrap() - 20.0).abs() < 1e-12);
//! assert_eq!(result.ledger.read, 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod allocator;
pub mod config;
pub mod data;
pub mod decompose;
pub mod distributional;
pub mod entitlements;
pub mod equal_value;
mod error;
pub mod gap;
pub mod report;
pub mod scale;
pub mod scenario;
pub mod stats;
pub mod synthetic;
pub mod transparency;

pub use error::{Error, Result};

/// The library version written into every result document (`"version"`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit the library was built from (12 hex digits, or `unknown`), written into every result
/// document (`"commit"`); see `build.rs`.
pub const COMMIT: &str = env!("PAYEQUITY_COMMIT");
/// The version and commit, as `payequity --version` prints them.
pub const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("PAYEQUITY_COMMIT"), ")");
pub use polars;
