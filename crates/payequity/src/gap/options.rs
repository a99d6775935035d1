//! The options of [`super::gap`]: one serde struct behind the TOML config, the CLI flags and Python keywords.

use serde::{Deserialize, Serialize};

use crate::data::{ColumnMap, GenderValues, InputFormat, LongFormat, Measure, RowFilter, Unit};

/// Wide or long input and, for long input, its element/amount columns (`[input]` of the config).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputShape {
    pub format: InputFormat,
    pub long: LongFormat,
}

/// Options of the raw gap analysis. Defaults are the documented ones: `min_cell = 10`,
/// `confidence = 0.95`, `bootstrap_reps = 1000`, `seed = 20230510` (the date the Directive was signed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GapOptions {
    pub columns: ColumnMap,
    pub gender_values: GenderValues,
    pub input: InputShape,
    /// Grouping columns of the breakdown (`--by`).
    #[serde(deserialize_with = "crate::data::one_or_many_strings")]
    pub by: Vec<String>,
    /// Subgroups of the factor-weighted gap; `None` = the `by` columns.
    pub factors: Option<Vec<String>>,
    /// `hourly` (default when an hours column is mapped) or `pay`.
    pub measure: Option<Measure>,
    pub unit: Unit,
    /// Row filters (`COLUMN=VALUE`, ...); failing rows are ledgered as `filtered`.
    pub filters: Vec<RowFilter>,
    /// Cells with fewer women or men than this are suppressed; 0 disables suppression.
    pub min_cell: u64,
    pub confidence: f64,
    /// Bootstrap replicates for the median gap CI; 0 disables it.
    pub bootstrap_reps: usize,
    pub seed: u64,
    /// Any excluded row becomes an error.
    pub strict: bool,
}

impl GapOptions {
    /// How [`crate::data::prepare`] validates the rows of this analysis, keeping the `keep` columns.
    pub fn prepare_spec<'a>(&'a self, keep: &'a [String], component_sums: bool) -> crate::data::PrepareSpec<'a> {
        crate::data::PrepareSpec {
            columns: &self.columns,
            genders: &self.gender_values,
            keep,
            filters: &self.filters,
            measure: self.measure,
            unit: self.unit,
            strict: self.strict,
            format: self.input.format,
            long: &self.input.long,
            component_sums,
            row_keys: None,
        }
    }

    /// The columns this analysis reads: (required, optional). Optional ones are role defaults used only
    /// when the table has them (`employee_id`, `period`, `hours`). Lets file readers skip other columns.
    pub fn columns_used(&self) -> (Vec<String>, Vec<String>) {
        let mut required = vec![self.columns.gender.clone()];
        let mut optional = Vec::new();
        if self.columns.pay.is_empty() {
            required.push("pay".into());
        } else {
            required.extend(self.columns.pay.iter().cloned());
        }
        for (role, default) in [
            (&self.columns.employee_id, "employee_id"),
            (&self.columns.period, "period"),
            (&self.columns.hours, "hours"),
        ] {
            match role {
                Some(name) if name.is_empty() => {}
                Some(name) => required.push(name.clone()),
                None => optional.push(default.to_string()),
            }
        }
        if let Some(w) = self.columns.weight.as_ref().filter(|w| !w.is_empty()) {
            required.push(w.clone());
        }
        required.extend(self.by.iter().cloned());
        required.extend(self.factors.iter().flatten().cloned());
        required.extend(self.filters.iter().map(|f| f.column.clone()));
        if self.input.format == InputFormat::Long {
            // Pay elements are rows, not columns: read everything.
            return (Vec::new(), Vec::new());
        }
        (required, optional)
    }
}

impl Default for GapOptions {
    fn default() -> Self {
        GapOptions {
            columns: ColumnMap::default(),
            gender_values: GenderValues::default(),
            input: InputShape::default(),
            by: Vec::new(),
            factors: None,
            measure: None,
            unit: Unit::Auto,
            filters: Vec::new(),
            min_cell: 10,
            confidence: 0.95,
            bootstrap_reps: 1000,
            seed: 20230510,
            strict: false,
        }
    }
}
