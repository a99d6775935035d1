//! Decompositions of pay differences. This build has the Oaxaca-Blinder point estimates from group moments
//! (`oaxaca.rs`); standard errors, categorical normalization and the front ends follow (issue 4).

mod oaxaca;

pub use oaxaca::{oaxaca_point, OaxacaPoint, Reference, Threefold, Twofold};
