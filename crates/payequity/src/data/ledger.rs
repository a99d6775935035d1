//! The row ledger: rows read, rows used, rows excluded by reason. `read == used + Σ excluded` always.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why a row was not used. The string forms are the ledger keys of the JSON documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Reason {
    /// A user filter (`--where`) rejected the row.
    Filtered,
    /// The gender value is null or empty.
    NullGender,
    /// The gender value is neither female nor male and `gender_values.other = "exclude"`.
    UnmappedGender,
    /// The same employee has different gender values in different rows.
    InconsistentGender,
    /// Every pay component is null.
    NullPay,
    /// Pay is NaN or infinite.
    NonFinitePay,
    /// Total pay is negative.
    NegativePay,
    /// Hours are null (hourly measure only).
    NullHours,
    /// Hours are NaN or infinite.
    NonFiniteHours,
    /// Hours are zero or negative (hourly measure only).
    NonPositiveHours,
    /// The sampling weight is null, not finite, zero or negative.
    InvalidWeight,
    /// A later row with the same (employee_id, period) key as an earlier one.
    DuplicateKey,
    /// Long format: the pay element name is null.
    NullElement,
    /// Decompositions: the group value is null.
    NullGroup,
    /// Decompositions: the group value is neither group A nor group B.
    OtherGroup,
    /// Regressions: the outcome is null.
    NullOutcome,
    /// Regressions: the outcome is NaN or infinite.
    NonFiniteOutcome,
    /// Regressions on a logged outcome: the outcome is zero or negative.
    NonPositiveOutcome,
    /// Regressions: a covariate (numeric or categorical) is null.
    NullCovariate,
    /// Regressions: a numeric covariate is NaN or infinite.
    NonFiniteCovariate,
    /// Entitlement audits: the employee id or the period is null.
    NullKey,
    /// Equal value: the job (the class an incumbent belongs to) is null.
    NullJob,
}

impl Reason {
    /// Every reason, in the order checks are applied (the first failing check names the row's reason).
    pub const ALL: [Reason; 22] = [
        Reason::Filtered,
        Reason::NullGender,
        Reason::UnmappedGender,
        Reason::NullPay,
        Reason::NonFinitePay,
        Reason::NegativePay,
        Reason::NullHours,
        Reason::NonFiniteHours,
        Reason::NonPositiveHours,
        Reason::InvalidWeight,
        Reason::DuplicateKey,
        Reason::InconsistentGender,
        Reason::NullElement,
        Reason::NullGroup,
        Reason::OtherGroup,
        Reason::NullOutcome,
        Reason::NonFiniteOutcome,
        Reason::NonPositiveOutcome,
        Reason::NullCovariate,
        Reason::NonFiniteCovariate,
        Reason::NullKey,
        Reason::NullJob,
    ];

    /// The ledger key.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Filtered => "filtered",
            Reason::NullGender => "null_gender",
            Reason::UnmappedGender => "unmapped_gender",
            Reason::InconsistentGender => "inconsistent_gender",
            Reason::NullPay => "null_pay",
            Reason::NonFinitePay => "non_finite_pay",
            Reason::NegativePay => "negative_pay",
            Reason::NullHours => "null_hours",
            Reason::NonFiniteHours => "non_finite_hours",
            Reason::NonPositiveHours => "non_positive_hours",
            Reason::InvalidWeight => "invalid_weight",
            Reason::DuplicateKey => "duplicate_key",
            Reason::NullElement => "null_element",
            Reason::NullGroup => "null_group",
            Reason::OtherGroup => "other_group",
            Reason::NullOutcome => "null_outcome",
            Reason::NonFiniteOutcome => "non_finite_outcome",
            Reason::NonPositiveOutcome => "non_positive_outcome",
            Reason::NullCovariate => "null_covariate",
            Reason::NonFiniteCovariate => "non_finite_covariate",
            Reason::NullKey => "null_key",
            Reason::NullJob => "null_job",
        }
    }

    /// A compact numeric code (1-based position in [`Reason::ALL`]) used in columns while rows are checked.
    pub fn code(self) -> u32 {
        Reason::ALL.iter().position(|r| *r == self).expect("every reason is in ALL") as u32 + 1
    }

    /// Inverse of [`Reason::code`].
    pub fn from_code(code: u32) -> Option<Reason> {
        (code as usize).checked_sub(1).and_then(|i| Reason::ALL.get(i).copied())
    }

    /// Parses a ledger key back into a reason.
    pub fn from_key(key: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == key)
    }
}

/// Rows read, used and excluded (by reason) by one analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub read: u64,
    pub used: u64,
    pub excluded: BTreeMap<String, u64>,
}

impl Ledger {
    /// A ledger for `read` rows, all of them used until rows are excluded.
    pub fn new(read: u64) -> Ledger {
        Ledger { read, used: read, excluded: BTreeMap::new() }
    }

    /// Moves `count` rows from used to excluded under `reason`.
    pub fn exclude(&mut self, reason: Reason, count: u64) {
        if count == 0 {
            return;
        }
        debug_assert!(count <= self.used, "ledger would go negative");
        self.used -= count.min(self.used);
        *self.excluded.entry(reason.as_str().to_string()).or_insert(0) += count;
    }

    /// Total rows excluded.
    pub fn excluded_total(&self) -> u64 {
        self.excluded.values().sum()
    }

    /// `read == used + Σ excluded`.
    pub fn balances(&self) -> bool {
        self.read == self.used + self.excluded_total()
    }
    /// The warnings the counts alone call for (the same for rows in memory and streamed): every row
    /// excluded, or rows dropped as repeats of an earlier (employee_id, period) key, whose pay may differ.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.used == 0 && self.read > 0 {
            warnings.push("no row passed validation: every row was excluded (see the ledger)".into());
        }
        if let Some(repeats) = self.excluded.get(Reason::DuplicateKey.as_str()).filter(|n| **n > 0) {
            warnings.push(format!(
                "{repeats} row(s) repeat the (employee_id, period) key of an earlier row and are excluded as \
                 duplicate_key: only the first row of each key is used, even where the repeats carry other pay; \
                 hint: if they are corrections or extra payments, sum them per key before the analysis"
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_balances_after_exclusions() {
        let mut ledger = Ledger::new(10);
        ledger.exclude(Reason::NullPay, 3);
        ledger.exclude(Reason::NullPay, 1);
        ledger.exclude(Reason::DuplicateKey, 2);
        assert_eq!(ledger.used, 4);
        assert_eq!(ledger.excluded["null_pay"], 4);
        assert!(ledger.balances());
    }

    #[test]
    fn reason_keys_round_trip() {
        for reason in Reason::ALL {
            assert_eq!(Reason::from_key(reason.as_str()), Some(reason));
            assert_eq!(Reason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(Reason::from_code(0), None);
    }
}
