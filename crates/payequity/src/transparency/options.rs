//! The options of [`super::transparency`]: the `[transparency]` section of the audit config completed by
//! `[columns]`, `[gender_values]` and `[pay]` (`shared/spec/interfaces.md`), and the same keys from Python.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::{ColumnMap, GenderValues};

/// Pay components by kind (EU Art. 3; UK regulations).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PayComponents {
    /// Ordinary basic wage or salary.
    pub ordinary: Vec<String>,
    /// Complementary or variable components (overtime, allowances, hazard pay, in kind).
    pub variable: Vec<String>,
    /// Bonuses (variable components too; the UK bonus figures use these).
    pub bonus: Vec<String>,
}

impl PayComponents {
    /// Every component: the EU "pay".
    pub fn all(&self) -> Vec<String> {
        self.ordinary.iter().chain(&self.variable).chain(&self.bonus).cloned().collect()
    }

    /// The complementary or variable components of EU Art. 9(1)(b), (d), (e), (g): variable and bonus.
    pub fn complementary(&self) -> Vec<String> {
        self.variable.iter().chain(&self.bonus).cloned().collect()
    }
}

/// The columns of the Swiss standard analysis model (`[transparency.logib]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogibColumns {
    pub education_years: String,
    pub tenure_years: String,
    pub age: String,
    pub skill_level: String,
    pub position: String,
    /// Optional boolean column: rows in the analysed population; empty = all rows.
    pub population: String,
}

impl Default for LogibColumns {
    fn default() -> Self {
        LogibColumns {
            education_years: "education_years".into(),
            tenure_years: "tenure_years".into(),
            age: "age".into(),
            skill_level: "skill_level".into(),
            position: "position".into(),
            population: String::new(),
        }
    }
}

/// A reporting regime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Regime {
    Eu,
    Uk,
    Logib,
}

/// Options of the transparency report. Defaults: every regime, `min_cell = 10`, the UK snapshot and the
/// Logib sample in the last pay period of the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransparencyOptions {
    pub columns: ColumnMap,
    pub gender_values: GenderValues,
    pub pay: PayComponents,
    pub regimes: Vec<Regime>,
    /// Category-of-workers column (EU Art. 9(1)(g), Art. 10).
    pub category: Option<String>,
    /// UK: boolean column, full-pay relevant employee in the snapshot pay period.
    pub full_pay: Option<String>,
    /// UK: bonus paid in the 12 months to the snapshot date; default: the bonus components summed over the
    /// (up to) 12 periods ending with the snapshot period.
    pub bonus_window_pay: Option<String>,
    /// UK: the snapshot pay period (a value of the period column); default the last period.
    pub snapshot_period: Option<String>,
    /// UK ordinary pay components; default `[pay] ordinary` plus the variable components whose name does not
    /// contain "overtime" (the regulations count allowances and shift premia, not overtime).
    pub uk_ordinary: Option<Vec<String>>,
    /// Art. 10 justifications by category value.
    pub justifications: BTreeMap<String, String>,
    pub logib: LogibColumns,
    /// Cells with fewer women or men than this are suppressed; 0 disables suppression.
    pub min_cell: u64,
    /// Subgroups of the factor-weighted gap; default the category column.
    pub factors: Option<Vec<String>>,
    pub strict: bool,
}

impl Default for TransparencyOptions {
    fn default() -> Self {
        TransparencyOptions {
            columns: ColumnMap::default(),
            gender_values: GenderValues::default(),
            pay: PayComponents::default(),
            regimes: vec![Regime::Eu, Regime::Uk, Regime::Logib],
            category: None,
            full_pay: None,
            bonus_window_pay: None,
            snapshot_period: None,
            uk_ordinary: None,
            justifications: BTreeMap::new(),
            logib: LogibColumns::default(),
            min_cell: 10,
            factors: None,
            strict: false,
        }
    }
}

impl TransparencyOptions {
    /// The columns the report reads: (required, optional). Lets file readers skip the others.
    pub fn columns_used(&self) -> (Vec<String>, Vec<String>) {
        let mut required = vec![self.columns.gender.clone()];
        required.extend(self.pay.all());
        let mut optional: Vec<String> = Vec::new();
        let role = |explicit: &Option<String>, default: &str| match explicit {
            Some(name) if name.is_empty() => None,
            Some(name) => Some(name.clone()),
            None => Some(default.to_string()),
        };
        optional.extend(role(&self.columns.employee_id, "employee_id"));
        optional.extend(role(&self.columns.period, "period"));
        optional.extend(role(&self.columns.hours, "hours"));
        optional.extend(role(&self.columns.fte, "fte"));
        optional.extend(self.category.iter().cloned());
        optional.extend(self.full_pay.iter().cloned());
        optional.extend(self.bonus_window_pay.iter().cloned());
        optional.extend(self.uk_ordinary.iter().flatten().cloned());
        optional.extend(self.factors.iter().flatten().cloned());
        let l = &self.logib;
        optional.extend(
            [&l.education_years, &l.tenure_years, &l.age, &l.skill_level, &l.position, &l.population]
                .into_iter()
                .filter(|c| !c.is_empty())
                .cloned(),
        );
        optional.retain(|c| !required.contains(c));
        optional.sort();
        optional.dedup();
        (required, optional)
    }

    /// UK ordinary pay components (see `uk_ordinary`).
    pub fn uk_ordinary_components(&self) -> Vec<String> {
        match &self.uk_ordinary {
            Some(list) => list.clone(),
            None => self
                .pay
                .ordinary
                .iter()
                .chain(self.pay.variable.iter().filter(|c| !c.to_ascii_lowercase().contains("overtime")))
                .cloned()
                .collect(),
        }
    }
}
