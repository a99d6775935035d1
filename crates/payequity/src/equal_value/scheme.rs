//! Gender-neutral job evaluation (`shared/spec/equal-value.md`, after ILO 2008 "Promoting equity"): the
//! scheme (four factors, sub-factors with weights and levels or points), job ratings (job × sub-factor
//! level) and the points of each job. Validation names the job and the sub-factor; the gender-neutrality
//! checklist of the ILO guide gives warnings.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The four factors of Art. 4(4) of Directive 2023/970 and the ILO guide.
pub const FACTORS: [&str; 4] = ["skills", "effort", "responsibility", "working_conditions"];

/// A job evaluation scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    pub scheme: SchemeHeader,
    #[serde(rename = "factor")]
    pub factors: Vec<Factor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemeHeader {
    pub name: String,
    #[serde(default = "default_max_points")]
    pub max_points: f64,
    #[serde(default)]
    pub source: Option<String>,
}

fn default_max_points() -> f64 {
    1000.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Factor {
    /// skills | effort | responsibility | working_conditions
    pub name: String,
    #[serde(rename = "subfactor")]
    pub subfactors: Vec<Subfactor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subfactor {
    pub name: String,
    /// Percent of `max_points`; the weights of all sub-factors sum to 100.
    pub weight: f64,
    /// Number of ordered levels (points of level L = weight% × max_points × L / levels).
    #[serde(default)]
    pub levels: Option<u32>,
    /// Or the points of each level, lowest first.
    #[serde(default)]
    pub points: Option<Vec<f64>>,
    #[serde(default)]
    pub description: Option<String>,
}

impl Subfactor {
    /// Number of levels.
    pub fn level_count(&self) -> u32 {
        self.points.as_ref().map_or(self.levels.unwrap_or(0), |p| p.len() as u32)
    }

    /// Points of `level` (1-based): the configured points, else linear in the level.
    pub fn points_of(&self, level: u32, max_points: f64) -> f64 {
        match &self.points {
            Some(points) => points[level as usize - 1],
            None => self.weight / 100.0 * max_points * f64::from(level) / f64::from(self.levels.unwrap_or(1)),
        }
    }
}

/// Sub-factor themes whose absence makes a scheme likely to undervalue care work (ILO 2008, ch. 4): the
/// theme, the words that recognise it in sub-factor names and descriptions.
const NEUTRALITY_CHECKLIST: [(&str, &[&str]); 3] = [
    ("emotional effort", &["emotional"]),
    ("responsibility for people", &["people", "patient", "well-being", "wellbeing", "care of", "client"]),
    ("working conditions", &["condition", "exposure", "infection", "hazard", "unsocial"]),
];

fn invalid(file: &str, key: &str, reason: String) -> Error {
    Error::Config { file: file.into(), key: key.into(), reason }
}

impl Scheme {
    /// Reads and validates a scheme file; returns it with the gender-neutrality warnings.
    pub fn from_file(path: impl AsRef<Path>) -> Result<(Scheme, Vec<String>)> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Invalid(format!("cannot read the job evaluation scheme {}: {e}", path.display())))?;
        Scheme::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates a scheme; returns it with the gender-neutrality warnings.
    pub fn from_toml(text: &str, file: &str) -> Result<(Scheme, Vec<String>)> {
        let scheme: Scheme = toml::from_str(text).map_err(|e| invalid(file, "scheme", e.message().to_string()))?;
        let warnings = scheme.validate(file)?;
        Ok((scheme, warnings))
    }

    /// Checks factor names, weights (sum 100), levels and points; returns the neutrality warnings.
    pub fn validate(&self, file: &str) -> Result<Vec<String>> {
        if !(self.scheme.max_points > 0.0 && self.scheme.max_points.is_finite()) {
            return Err(invalid(file, "scheme.max_points", "must be a positive number".into()));
        }
        let mut total = 0.0;
        let mut names = std::collections::BTreeSet::new();
        for factor in &self.factors {
            if !FACTORS.contains(&factor.name.as_str()) {
                return Err(invalid(
                    file,
                    "factor.name",
                    format!("unknown factor `{}`; expected one of {}", factor.name, FACTORS.join(", ")),
                ));
            }
            for sub in &factor.subfactors {
                let key = format!("factor `{}`, sub-factor `{}`", factor.name, sub.name);
                if !names.insert(sub.name.clone()) {
                    return Err(invalid(file, &key, "sub-factor names must be unique".into()));
                }
                if !(sub.weight > 0.0 && sub.weight.is_finite()) {
                    return Err(invalid(file, &key, format!("weight must be positive, got {}", sub.weight)));
                }
                total += sub.weight;
                match (&sub.levels, &sub.points) {
                    (Some(_), Some(_)) => {
                        return Err(invalid(file, &key, "give either `levels` or `points`, not both".into()))
                    }
                    (None, None) => return Err(invalid(file, &key, "needs `levels` or `points`".into())),
                    (Some(0), _) => return Err(invalid(file, &key, "needs at least one level".into())),
                    (_, Some(points))
                        if points.is_empty() || points.windows(2).any(|w| w[1] <= w[0]) || points[0] < 0.0 =>
                    {
                        return Err(invalid(file, &key, "points must be non-negative and increasing".into()));
                    }
                    _ => {}
                }
            }
        }
        if names.is_empty() {
            return Err(invalid(file, "factor", "the scheme has no sub-factors".into()));
        }
        if (total - 100.0).abs() > 1e-6 {
            return Err(invalid(file, "subfactor.weight", format!("sub-factor weights sum to {total}, not 100")));
        }
        let mut warnings = Vec::new();
        for factor in FACTORS {
            if !self.factors.iter().any(|f| f.name == factor) {
                warnings.push(format!("the scheme has no `{factor}` factor (Directive 2023/970 Art. 4(4) lists it)"));
            }
        }
        for (theme, words) in NEUTRALITY_CHECKLIST {
            let covered = self.subfactors().any(|(factor, sub)| {
                let text =
                    format!("{} {} {}", factor, sub.name, sub.description.as_deref().unwrap_or("")).to_lowercase();
                words.iter().any(|w| text.contains(w))
                    && (theme != "working conditions" || factor == "working_conditions")
            });
            if !covered {
                warnings.push(format!(
                    "no sub-factor for {theme}: demands typical of female-dominated care work may go unrated (ILO 2008 checklist)"
                ));
            }
        }
        Ok(warnings)
    }

    /// (factor name, sub-factor) in scheme order.
    pub fn subfactors(&self) -> impl Iterator<Item = (&str, &Subfactor)> {
        self.factors.iter().flat_map(|f| f.subfactors.iter().map(move |s| (f.name.as_str(), s)))
    }
}

/// One rated job: its points and optional title and ISCO-08 code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobScore {
    pub job: String,
    pub points: f64,
    /// Points per factor.
    pub by_factor: BTreeMap<String, f64>,
    pub title: Option<String>,
    pub isco08: Option<String>,
}

fn text_column(frame: &DataFrame, name: &str) -> Result<Option<Vec<Option<String>>>> {
    match frame.column(name) {
        Ok(c) => Ok(Some(c.cast(&DataType::String)?.str()?.iter().map(|v| v.map(str::to_string)).collect())),
        Err(_) => Ok(None),
    }
}

/// Points of every rated job from a ratings table: long (`job`, `subfactor`, `level`) or wide (`job` and one
/// column per sub-factor). Every job needs one level for every sub-factor, within the sub-factor's range.
pub fn score_jobs(scheme: &Scheme, ratings: &DataFrame) -> Result<BTreeMap<String, JobScore>> {
    let names: Vec<String> = ratings.get_column_names().iter().map(|c| c.to_string()).collect();
    let jobs = text_column(ratings, "job")?.ok_or_else(|| Error::MissingColumn {
        column: "job".into(),
        role: "ratings job".into(),
        available: names.clone(),
    })?;
    let titles = text_column(ratings, "title")?;
    let iscos = text_column(ratings, "isco08")?;
    // (job, sub-factor) → level, in table order.
    let mut levels: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut meta: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    let mut record = |job: &str, sub: &str, level: Option<f64>, row: usize| -> Result<()> {
        let level = level.ok_or_else(|| {
            Error::Invalid(format!("ratings row {}: job `{job}`, sub-factor `{sub}` has no level", row + 1))
        })?;
        if levels.insert((job.to_string(), sub.to_string()), level).is_some() {
            return Err(Error::Invalid(format!("ratings: job `{job}` is rated twice on sub-factor `{sub}`")));
        }
        Ok(())
    };
    let long = names.iter().any(|c| c == "subfactor") && names.iter().any(|c| c == "level");
    if long {
        let subs = text_column(ratings, "subfactor")?.expect("checked");
        let values = ratings.column("level")?.cast(&DataType::Float64)?;
        let values: Vec<Option<f64>> = values.f64()?.iter().collect();
        for row in 0..ratings.height() {
            let job = jobs[row].clone().ok_or_else(|| Error::Invalid(format!("ratings row {}: no job", row + 1)))?;
            let sub = subs[row].clone().unwrap_or_default();
            record(&job, &sub, values[row], row)?;
        }
    } else {
        for (_, sub) in scheme.subfactors() {
            if !names.contains(&sub.name) {
                continue;
            }
            let values = ratings.column(&sub.name)?.cast(&DataType::Float64)?;
            for (row, value) in values.f64()?.iter().enumerate() {
                let job =
                    jobs[row].clone().ok_or_else(|| Error::Invalid(format!("ratings row {}: no job", row + 1)))?;
                record(&job, &sub.name, value, row)?;
            }
        }
    }
    for (row, job) in jobs.iter().enumerate() {
        if let Some(job) = job {
            let title = titles.as_ref().and_then(|t| t[row].clone());
            let isco = iscos.as_ref().and_then(|t| t[row].clone());
            let entry = meta.entry(job.clone()).or_default();
            entry.0 = entry.0.take().or(title);
            entry.1 = entry.1.take().or(isco);
        }
    }

    let known: std::collections::BTreeSet<&str> = scheme.subfactors().map(|(_, s)| s.name.as_str()).collect();
    if let Some(((job, sub), _)) = levels.iter().find(|((_, s), _)| !known.contains(s.as_str())) {
        return Err(Error::Invalid(format!(
            "ratings: job `{job}` is rated on `{sub}`, which is not a sub-factor of scheme `{}` (sub-factors: {})",
            scheme.scheme.name,
            known.iter().copied().collect::<Vec<_>>().join(", ")
        )));
    }
    let mut scores = BTreeMap::new();
    let mut missing = Vec::new();
    for (job, (title, isco08)) in meta {
        let mut points = 0.0;
        let mut by_factor = BTreeMap::new();
        for (factor, sub) in scheme.subfactors() {
            let Some(&level) = levels.get(&(job.clone(), sub.name.clone())) else {
                missing.push(format!("`{job}` × `{}`", sub.name));
                continue;
            };
            let count = sub.level_count();
            if level.fract() != 0.0 || level < 1.0 || level > f64::from(count) {
                return Err(Error::Invalid(format!(
                    "ratings: job `{job}`, sub-factor `{}`: level {level} is out of range (1 to {count})",
                    sub.name
                )));
            }
            let p = sub.points_of(level as u32, scheme.scheme.max_points);
            points += p;
            *by_factor.entry(factor.to_string()).or_insert(0.0) += p;
        }
        scores.insert(job.clone(), JobScore { job, points, by_factor, title, isco08 });
    }
    if !missing.is_empty() {
        return Err(Error::Invalid(format!("ratings: missing rating(s) for {}", missing.join(", "))));
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEME: &str = r#"
[scheme]
name = "t"
max_points = 1000
[[factor]]
name = "skills"
  [[factor.subfactor]]
  name = "knowledge"
  weight = 60
  levels = 4
[[factor]]
name = "working_conditions"
  [[factor.subfactor]]
  name = "exposure to infection"
  weight = 40
  points = [100, 250, 400]
"#;

    #[test]
    fn points_are_linear_in_levels_or_listed() {
        let (scheme, warnings) = Scheme::from_toml(SCHEME, "t.toml").unwrap();
        let (_, knowledge) = scheme.subfactors().next().unwrap();
        // 60% of 1000 points over 4 levels: 150 a level.
        assert_eq!(knowledge.points_of(3, 1000.0), 450.0);
        // No effort or responsibility factor, no emotional effort or responsibility for people.
        assert!(warnings.iter().any(|w| w.contains("no `effort` factor")));
        assert!(warnings.iter().any(|w| w.contains("emotional effort")));
        assert!(!warnings.iter().any(|w| w.contains("working conditions:")));
        let ratings = df!("job" => ["a", "a", "b", "b"], "subfactor" => ["knowledge", "exposure to infection", "knowledge", "exposure to infection"], "level" => [4i64, 1, 1, 3]).unwrap();
        let scores = score_jobs(&scheme, &ratings).unwrap();
        assert_eq!(scores["a"].points, 600.0 + 100.0);
        assert_eq!(scores["b"].points, 150.0 + 400.0);
        assert_eq!(scores["b"].by_factor["working_conditions"], 400.0);
        // The same ratings wide.
        let wide = df!("job" => ["a", "b"], "knowledge" => [4i64, 1], "exposure to infection" => [1i64, 3]).unwrap();
        assert_eq!(score_jobs(&scheme, &wide).unwrap(), scores);
    }

    #[test]
    fn invalid_schemes_and_ratings_name_the_problem() {
        let unknown = SCHEME.replace("working_conditions", "stamina");
        let err = Scheme::from_toml(&unknown, "t.toml").unwrap_err().to_string();
        assert!(err.contains("unknown factor `stamina`"), "{err}");
        let decreasing = SCHEME.replace("[100, 250, 400]", "[100, 90, 400]");
        let err = Scheme::from_toml(&decreasing, "t.toml").unwrap_err().to_string();
        assert!(err.contains("exposure to infection") && err.contains("increasing"), "{err}");
        let (scheme, _) = Scheme::from_toml(SCHEME, "t.toml").unwrap();
        let missing = df!("job" => ["a"], "subfactor" => ["knowledge"], "level" => [2i64]).unwrap();
        let err = score_jobs(&scheme, &missing).unwrap_err().to_string();
        assert!(err.contains("`a` × `exposure to infection`"), "{err}");
        let stray = df!("job" => ["a", "a", "a"], "subfactor" => ["knowledge", "exposure to infection", "charm"], "level" => [2i64, 1, 1]).unwrap();
        let err = score_jobs(&scheme, &stray).unwrap_err().to_string();
        assert!(err.contains("`charm`") && err.contains("job `a`"), "{err}");
        let fractional =
            df!("job" => ["a", "a"], "subfactor" => ["knowledge", "exposure to infection"], "level" => [2.5, 1.0])
                .unwrap();
        assert!(score_jobs(&scheme, &fractional).unwrap_err().to_string().contains("out of range"));
    }

    #[test]
    fn shipped_health_and_care_scheme_is_valid_and_gender_neutral() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/equal_value/health-and-care-scheme.toml");
        let (scheme, warnings) = Scheme::from_file(path).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let total: f64 = scheme.subfactors().map(|(_, s)| s.points_of(s.level_count(), scheme.scheme.max_points)).sum();
        assert!((total - 1000.0).abs() < 1e-9);
    }
}
