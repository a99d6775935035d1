//! The Oaxaca moments state of the engine: group moments and, for the bootstrap, replicate moments
//! ([`crate::decompose::OaxacaAnalysis`] runs the plan of passes). The state is the in-memory analysis' own
//! (`decompose::scan`), so [`crate::decompose::finish`] writes the same document.

use serde::{Deserialize, Serialize};

use crate::decompose::{bootstrap_moments, GroupMoments, OaxacaOptions, Plan, ReplicateMoments, SeMethod};
use crate::stats::Moments;
use crate::{Error, Result};
/// The mergeable state of the moments pass: group moments and, for the bootstrap, replicate moments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OaxacaPartial {
    pub moments: GroupMoments,
    pub replicates: Option<ReplicateMoments>,
}

impl OaxacaPartial {
    /// The moments of one batch whose first row is input row `offset`.
    pub fn compute(
        plan: &Plan,
        frame: &polars::prelude::DataFrame,
        offset: u64,
        options: &OaxacaOptions,
    ) -> Result<Self> {
        let moments = plan.scan(frame, offset)?;
        let replicates = match options.se {
            SeMethod::Bootstrap => Some(bootstrap_moments(plan, frame, offset, options)?),
            _ => None,
        };
        Ok(OaxacaPartial { moments, replicates })
    }

    /// Sums (associative and commutative up to floating-point reassociation).
    pub fn merge(self, other: OaxacaPartial) -> Result<OaxacaPartial> {
        let replicates = match (self.replicates, other.replicates) {
            (Some(a), Some(b)) => Some(merge_replicates(a, b)?),
            (None, None) => None,
            _ => return Err(Error::Invalid("internal: bootstrap and plain moments merged".into())),
        };
        Ok(OaxacaPartial { moments: self.moments.merge(other.moments)?, replicates })
    }
}

/// Replicate-by-replicate sums of two sets of replicate moments.
pub fn merge_replicates(a: ReplicateMoments, b: ReplicateMoments) -> Result<ReplicateMoments> {
    if a.len() != b.len() {
        return Err(Error::Invalid("internal: replicate moments of different bootstrap sizes merged".into()));
    }
    a.into_iter()
        .zip(b)
        .map(|((aa, ab), (ba, bb)): ((Moments, Moments), (Moments, Moments))| Ok((aa.merge(&ba)?, ab.merge(&bb)?)))
        .collect()
}
