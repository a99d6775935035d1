//! Column roles (`[columns]` in the config, `--ROLE-column` flags, Python keywords) and gender value mapping.

use serde::{Deserialize, Deserializer, Serialize};

/// Group label used in results for the workers mapped to `gender_values.female`.
pub const FEMALE: &str = "F";
/// Group label used in results for the workers mapped to `gender_values.male`.
pub const MALE: &str = "M";

/// Maps the roles of the payroll data contract (DESIGN.md §2) to column names.
///
/// `None` means "the role name if such a column exists" for optional roles; an empty string means "no such
/// column". `pay` lists the pay components that are summed into the pay measure; when empty, the `[pay]`
/// section of the config (ordinary + variable + bonus) or the column `pay` is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColumnMap {
    pub employee_id: Option<String>,
    pub gender: String,
    pub period: Option<String>,
    #[serde(deserialize_with = "one_or_many")]
    pub pay: Vec<String>,
    pub hours: Option<String>,
    pub fte: Option<String>,
    pub weight: Option<String>,
}

impl Default for ColumnMap {
    fn default() -> Self {
        ColumnMap {
            employee_id: None,
            gender: "gender".into(),
            period: None,
            pay: Vec::new(),
            hours: None,
            fte: None,
            weight: None,
        }
    }
}

impl ColumnMap {
    /// Resolves an optional role: an explicit name must exist (checked by the caller), `None` falls back to
    /// the default name when the table has it, and `""` disables the role.
    pub fn resolve_optional(explicit: &Option<String>, default: &str, available: &[String]) -> Option<String> {
        match explicit {
            Some(name) if name.is_empty() => None,
            Some(name) => Some(name.clone()),
            None => available.iter().any(|c| c == default).then(|| default.to_string()),
        }
    }
}

/// What to do with gender values that are neither in `female` nor in `male`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherGender {
    /// Keep them as their own group, reported with its own counts (never in the gap itself).
    #[default]
    Keep,
    /// Exclude them, counted in the ledger as `unmapped_gender`.
    Exclude,
}

/// Which values of the gender column mean women and men (`[gender_values]`).
///
/// Values may be given as strings or numbers; `1` matches a numeric column's `1.0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenderValues {
    #[serde(deserialize_with = "one_or_many")]
    pub female: Vec<String>,
    #[serde(deserialize_with = "one_or_many")]
    pub male: Vec<String>,
    pub other: OtherGender,
}

impl Default for GenderValues {
    fn default() -> Self {
        GenderValues { female: vec!["F".into()], male: vec!["M".into()], other: OtherGender::Keep }
    }
}

/// A scalar from TOML / JSON / Python that names a value: strings stay, numbers become their shortest text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Scalar),
    Many(Vec<Scalar>),
}

/// Accepts `"a"`, `1`, `["a", "b"]` or `[1, 0]` and yields strings; used for column lists and value lists.
pub(crate) fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(s) => vec![s.into_string()],
        OneOrMany::Many(v) => v.into_iter().map(Scalar::into_string).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gender_values_accept_numbers_and_single_values() {
        let v: GenderValues = toml::from_str("female = 1\nmale = [0]").unwrap();
        assert_eq!(v.female, vec!["1"]);
        assert_eq!(v.male, vec!["0"]);
        assert_eq!(v.other, OtherGender::Keep);
    }

    #[test]
    fn unknown_column_role_is_rejected() {
        let err = toml::from_str::<ColumnMap>("salary = \"x\"").unwrap_err().to_string();
        assert!(err.contains("salary"), "{err}");
    }

    #[test]
    fn optional_roles_fall_back_to_role_names() {
        let available = vec!["employee_id".to_string(), "pay".to_string()];
        assert_eq!(ColumnMap::resolve_optional(&None, "employee_id", &available), Some("employee_id".into()));
        assert_eq!(ColumnMap::resolve_optional(&None, "period", &available), None);
        assert_eq!(ColumnMap::resolve_optional(&Some(String::new()), "employee_id", &available), None);
    }
}
