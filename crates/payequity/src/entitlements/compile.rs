//! Rules → polars expressions. Every SQL text (`when`, `prorate`, tier conditions, `expr`, and every field
//! naming a column) is parsed by polars' SQL expression parser and checked against the payroll schema —
//! unknown columns, SQL that does not evaluate, a condition that is not true/false, an amount that is not
//! a number — before any row is processed. Nothing but these SQL expressions is ever evaluated.

use polars::prelude::*;

use super::rules::{Amount, HoursSpec, Rule, RuleKind};
use crate::{Error, Result};

/// What an SQL text must evaluate to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Condition,
    Number,
}

/// One rule as expressions over a payroll row.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    /// `when` and (for tiers) some tier holds; null counts as false. Effective dates are added by the engine.
    pub applies: Expr,
    /// The amount before prorating and caps (Float64; null inputs give 0).
    pub amount: Expr,
    /// The prorating factor, clipped to [0, 1].
    pub prorate: Option<Expr>,
    /// What was paid for the rule (Float64, nulls 0): the sum of the `paid` columns, or for
    /// `kind = "hours"` the value of the hours paid.
    pub paid: Expr,
}

/// Compiles rules against one payroll schema.
pub(crate) struct Compiler<'a> {
    schema: &'a Schema,
    empty: DataFrame,
    file: &'a str,
}

impl<'a> Compiler<'a> {
    pub fn new(schema: &'a Schema, file: &'a str) -> Compiler<'a> {
        Compiler { schema, empty: DataFrame::empty_with_schema(schema), file }
    }

    fn error(&self, rule: &str, field: &str, reason: String) -> Error {
        Error::Config { file: self.file.into(), key: format!("rule[{rule}].{field}"), reason }
    }

    /// Parses `text` and checks its columns and result type.
    fn sql(&self, rule: &str, field: &str, text: &str, want: Want) -> Result<Expr> {
        let shown = super::sql_guard::shown(text);
        super::sql_guard::check_sql_expression(text)
            .map_err(|reason| self.error(rule, field, format!("SQL `{shown}` is refused: {reason}")))?;
        let expr = polars::sql::sql_expr(text)
            .map_err(|e| self.error(rule, field, format!("SQL `{shown}` does not parse: {}", sql_message(&e))))?;
        for name in expr.clone().meta().root_names() {
            if self.schema.get(name.as_str()).is_none() {
                let available: Vec<&str> = self.schema.iter_names().map(|n| n.as_str()).collect();
                return Err(self.error(
                    rule,
                    field,
                    format!(
                        "SQL `{shown}` names the column `{name}`, which is not in the payroll; available columns: {}",
                        available.join(", ")
                    ),
                ));
            }
        }
        let probe = self.empty.clone().lazy().select([expr.clone().alias("value")]).collect().map_err(|e| {
            self.error(rule, field, format!("SQL `{shown}` cannot be evaluated on this payroll: {}", sql_message(&e)))
        })?;
        let dtype = probe.column("value").map(|c| c.dtype().clone()).unwrap_or(DataType::Null);
        let fits = match want {
            Want::Condition => matches!(dtype, DataType::Boolean | DataType::Null),
            Want::Number => dtype.is_primitive_numeric() || dtype.is_null(),
        };
        if !fits {
            let expected = if want == Want::Condition { "a condition (true/false)" } else { "a number" };
            return Err(self.error(
                rule,
                field,
                format!("SQL `{shown}` gives {dtype} values, but {expected} is needed"),
            ));
        }
        Ok(match want {
            Want::Condition => expr.fill_null(lit(false)),
            Want::Number => expr.cast(DataType::Float64),
        })
    }

    fn number(&self, rule: &str, field: &str, text: &str) -> Result<Expr> {
        self.sql(rule, field, text, Want::Number)
    }

    /// The expressions of one rule.
    pub fn compile(&self, rule: &Rule) -> Result<CompiledRule> {
        let id = rule.id.as_str();
        let mut applies = match &rule.when {
            Some(text) => self.sql(id, "when", text, Want::Condition)?,
            None => lit(true),
        };
        let prorate = match &rule.prorate {
            Some(text) => Some(self.number(id, "prorate", text)?.fill_null(lit(0.0)).clip(lit(0.0), lit(1.0))),
            None => None,
        };
        if rule.kind == RuleKind::Hours {
            let hours = rule.hours.as_ref().ok_or_else(|| self.error(id, "hours", "missing".into()))?;
            let (expected, paid) = self.hours_values(id, hours)?;
            return Ok(CompiledRule { applies, amount: expected, prorate, paid });
        }
        let form = rule.amount_form().ok_or_else(|| self.error(id, "amount", "missing or invalid".into()))?;
        let amount = match &form {
            Amount::Tiers(tiers) => {
                let mut conditions = Vec::new();
                let mut values = Vec::new();
                for (i, (condition, tier_amount)) in tiers.iter().enumerate() {
                    let field = format!("amount.tiers[{i}]");
                    conditions.push(self.sql(id, &format!("{field}.when"), condition, Want::Condition)?);
                    values.push(self.amount(id, &field, tier_amount)?);
                }
                // The first matching tier: built from the last tier outwards.
                let mut chosen = lit(0.0);
                for (condition, value) in conditions.iter().zip(values).rev() {
                    chosen = when(condition.clone()).then(value).otherwise(chosen);
                }
                applies = applies.and(any_horizontal(conditions)?);
                chosen
            }
            other => self.amount(id, "amount", other)?,
        };
        let mut paid_terms = Vec::new();
        for column in &rule.paid {
            match self.schema.get(column.as_str()) {
                None => {
                    let available: Vec<&str> = self.schema.iter_names().map(|n| n.as_str()).collect();
                    return Err(self.error(
                        id,
                        "paid",
                        format!("column `{column}` is not in the payroll; available columns: {}", available.join(", ")),
                    ));
                }
                Some(dtype) if !(dtype.is_primitive_numeric() || dtype.is_null()) => {
                    return Err(self.error(id, "paid", format!("column `{column}` has type {dtype}, not numbers")));
                }
                Some(_) => paid_terms.push(col(column.as_str()).cast(DataType::Float64).fill_null(lit(0.0))),
            }
        }
        let paid = paid_terms.into_iter().reduce(|a, b| a + b).unwrap_or_else(|| lit(0.0));
        Ok(CompiledRule { applies, amount: amount.fill_null(lit(0.0)), prorate, paid })
    }

    /// One amount form as an expression (formulas of `spec/entitlements.md`).
    fn amount(&self, id: &str, field: &str, amount: &Amount) -> Result<Expr> {
        Ok(match amount {
            Amount::Flat(x) => lit(*x),
            Amount::PerHour { per_hour, hours } => self.number(id, &format!("{field}.hours"), hours)? * lit(*per_hour),
            Amount::PerShift { per_shift, shifts } => {
                self.number(id, &format!("{field}.shifts"), shifts)? * lit(*per_shift)
            }
            Amount::Pct { pct, of } => self.number(id, &format!("{field}.of"), of)? * lit(pct / 100.0),
            // m × rate × hours, evaluated as (hours × rate) × m, the order in which payroll systems compute it.
            Amount::Multiplier { multiplier, rate, hours } => {
                self.number(id, &format!("{field}.hours"), hours)?
                    * self.number(id, &format!("{field}.rate"), rate)?
                    * lit(*multiplier)
            }
            Amount::Expr(text) => self.number(id, &format!("{field}.expr"), text)?,
            Amount::Tiers(_) => return Err(self.error(id, field, "tiers cannot be nested".into())),
        })
    }

    /// `kind = "hours"`: value(h) = rate × (min(h, T) + m × max(h − T, 0)), or rate × h without a threshold.
    fn hours_values(&self, id: &str, hours: &HoursSpec) -> Result<(Expr, Expr)> {
        let worked = self.number(id, "hours.worked", &hours.worked)?.fill_null(lit(0.0));
        let paid = self.number(id, "hours.paid", &hours.paid)?.fill_null(lit(0.0));
        let rate = self.number(id, "hours.rate", &hours.rate)?.fill_null(lit(0.0));
        let value = |h: Expr| match (hours.overtime_above, hours.overtime_multiplier) {
            (Some(threshold), Some(multiplier)) => {
                let ordinary = h.clone().clip_max(lit(threshold));
                let extra = (h - lit(threshold)).clip_min(lit(0.0));
                rate.clone() * (ordinary + extra * lit(multiplier))
            }
            _ => rate.clone() * h,
        };
        Ok((value(worked), value(paid)))
    }
}

/// The first line of a polars error, without the error kind's prefix noise, at most 200 characters.
fn sql_message(error: &PolarsError) -> String {
    let text = error.to_string();
    super::sql_guard::shown(text.lines().next().unwrap_or_default().trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entitlements::rules::RuleSet;

    fn schema() -> Schema {
        Schema::from_iter([
            Field::new("risk".into(), DataType::String),
            Field::new("days".into(), DataType::Float64),
            Field::new("paid".into(), DataType::Float64),
        ])
    }

    fn compile(rule: &str) -> Result<CompiledRule> {
        let text = format!("[ruleset]\nname = \"t\"\n[[rule]]\nid = \"r\"\nkind = \"hazard\"\npaid = \"paid\"\n{rule}");
        let set = RuleSet::from_toml(&text, "t.toml")?;
        let schema = schema();
        Compiler::new(&schema, "t.toml").compile(&set.rules[0])
    }

    #[test]
    fn sql_errors_name_rule_field_and_column() {
        let m = compile("when = \"riskk = 'high'\"\namount = { flat = 1 }").unwrap_err().to_string();
        assert!(m.contains("rule[r].when") && m.contains("`riskk`") && m.contains("available columns"), "{m}");
        let m = compile("when = \"risk = = 'high'\"\namount = { flat = 1 }").unwrap_err().to_string();
        assert!(m.contains("rule[r].when") && m.contains("does not parse"), "{m}");
        let m = compile("when = \"days + 1\"\namount = { flat = 1 }").unwrap_err().to_string();
        assert!(m.contains("condition"), "{m}");
        let m = compile("amount = { expr = \"risk\" }").unwrap_err().to_string();
        assert!(m.contains("rule[r].amount.expr") && m.contains("a number"), "{m}");
        let m = compile("amount = { per_hour = 2, hours = \"hourz\" }").unwrap_err().to_string();
        assert!(m.contains("rule[r].amount.hours") && m.contains("`hourz`"), "{m}");
    }

    #[test]
    fn expressions_evaluate() {
        let rule = compile(
            "when = \"risk = 'high'\"\namount = { per_hour = 2, hours = \"days * 8\" }\nprorate = \"days / 20\"",
        )
        .unwrap();
        let frame = df!("risk" => ["high", "low"], "days" => [10.0, 30.0], "paid" => [1.0, 2.0]).unwrap();
        let out = frame
            .lazy()
            .select([
                rule.applies.alias("a"),
                rule.amount.alias("x"),
                rule.prorate.unwrap().alias("p"),
                rule.paid.alias("paid"),
            ])
            .collect()
            .unwrap();
        let get = |c: &str| out.column(c).unwrap().as_materialized_series().clone();
        assert_eq!(get("a").bool().unwrap().get(0), Some(true));
        assert_eq!(get("a").bool().unwrap().get(1), Some(false));
        assert_eq!(get("x").f64().unwrap().get(0), Some(160.0));
        assert_eq!(get("p").f64().unwrap().get(1), Some(1.0)); // 30/20 clipped to 1
    }
}
