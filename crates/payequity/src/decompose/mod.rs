//! Decompositions of pay differences. This build has the Oaxaca-Blinder decomposition from group moments
//! (`oaxaca.rs`: point estimates for every reference, delta-method SEs for the threefold and weight-type
//! references). Pooled/Neumark SEs, the bootstrap, categorical normalization (Yun 2005) and the CLI and
//! Python front ends are the rest of issue 4.

mod oaxaca;

pub use oaxaca::{oaxaca_point, OaxacaPoint, Reference, Threefold, Twofold};
