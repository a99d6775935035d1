//! The checks of a rule set that need no data (`spec/entitlements.md`): one amount form per rule with its
//! fields, non-negative amounts, caps, effective ranges, payment deadlines, and rules that share a `paid`
//! column over overlapping dates without a `combine` policy; merging several rule files into one.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::rules::{parse_day, Amount, AmountSpec, CapYear, DateRange, Rule, RuleKind, RuleSet};
use crate::{Error, Result};

impl RuleSet {
    /// Several rule files as one: the rules in file order; every file must describe the same period length
    /// and currency.
    pub fn merge(sets: Vec<RuleSet>, file: &str) -> Result<RuleSet> {
        let mut sets = sets.into_iter();
        let mut merged =
            sets.next().ok_or_else(|| Error::Invalid("an entitlement audit needs at least one rule file".into()))?;
        for set in sets {
            if set.ruleset.period != merged.ruleset.period || set.ruleset.currency != merged.ruleset.currency {
                return Err(Error::Config {
                    file: file.into(),
                    key: "ruleset.period".into(),
                    reason: format!(
                        "rule sets `{}` and `{}` differ in period or currency; audit them separately",
                        merged.ruleset.name, set.ruleset.name
                    ),
                });
            }
            merged.ruleset.name = format!("{} + {}", merged.ruleset.name, set.ruleset.name);
            merged.ruleset.illustrative |= set.ruleset.illustrative;
            if merged.ruleset.payment_date.is_none() {
                merged.ruleset.payment_date = set.ruleset.payment_date;
            }
            merged.rules.extend(set.rules);
        }
        merged.validate(file)?;
        Ok(merged)
    }

    /// Every check that needs no data.
    pub fn validate(&self, file: &str) -> Result<()> {
        let error = |key: String, reason: String| Error::Config { file: file.into(), key, reason };
        if self.rules.is_empty() {
            return Err(error("rule".into(), "the rule set has no [[rule]] entries".into()));
        }
        let mut ids = BTreeSet::new();
        for rule in &self.rules {
            let key = |field: &str| format!("rule[{}].{field}", rule.id);
            if rule.id.trim().is_empty() {
                return Err(error("rule.id".into(), "every rule needs a non-empty id".into()));
            }
            if !ids.insert(rule.id.as_str()) {
                return Err(error(key("id"), format!("two rules have the id `{}`", rule.id)));
            }
            if !(rule.tolerance.is_finite() && rule.tolerance >= 0.0) {
                return Err(error(key("tolerance"), format!("must be a number ≥ 0, got {}", rule.tolerance)));
            }
            if rule.kind == RuleKind::Hours {
                let hours = rule.hours.as_ref().ok_or_else(|| {
                    error(key("hours"), "a `kind = \"hours\"` rule needs hours = { worked, paid, rate }".into())
                })?;
                if rule.amount.is_some() || !rule.paid.is_empty() {
                    return Err(error(
                        key("amount"),
                        "a `kind = \"hours\"` rule values hours itself: drop `amount` and `paid`".into(),
                    ));
                }
                for (name, value) in
                    [("overtime_multiplier", hours.overtime_multiplier), ("overtime_above", hours.overtime_above)]
                {
                    if value.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                        return Err(error(key(&format!("hours.{name}")), "must be a number ≥ 0".into()));
                    }
                }
                if hours.overtime_multiplier.is_some() != hours.overtime_above.is_some() {
                    return Err(error(
                        key("hours"),
                        "set both overtime_multiplier and overtime_above, or neither".into(),
                    ));
                }
            } else {
                if rule.hours.is_some() {
                    return Err(error(key("hours"), "`hours = {...}` belongs to `kind = \"hours\"` rules".into()));
                }
                let amount = rule.amount.as_ref().ok_or_else(|| {
                    error(
                        key("amount"),
                        "missing: give one amount form (flat, per_hour, per_shift, pct, multiplier, tiers, expr)"
                            .into(),
                    )
                })?;
                amount_form(amount, &key("amount"), false).map_err(|(k, r)| error(k, r))?;
                if rule.paid.is_empty() {
                    return Err(error(key("paid"), "missing: name the column(s) holding what was paid".into()));
                }
            }
            if let Some(cap) = &rule.cap {
                for (name, value) in [
                    ("per_period", cap.per_period),
                    ("per_year", cap.per_year),
                    ("per_worker_total", cap.per_worker_total),
                ] {
                    if value.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                        return Err(error(key(&format!("cap.{name}")), "a cap must be a number ≥ 0".into()));
                    }
                }
                if cap.year == CapYear::Rule && rule.date_range(file)?.from.is_none() {
                    return Err(error(key("cap.year"), "`year = \"rule\"` needs effective.from".into()));
                }
            }
            let range = rule.date_range(file)?;
            if let (Some(from), Some(to)) = (range.from, range.to) {
                if from > to {
                    return Err(error(key("effective"), format!("from ({from}) is after to ({to})")));
                }
            }
            if rule.due_within_days.is_some() && self.ruleset.payment_date.is_none() {
                return Err(error(
                    key("due_within_days"),
                    "needs a payment-date column: set [ruleset] payment_date = \"COLUMN\"".into(),
                ));
            }
        }
        // Rules paying into one column over overlapping dates need a combine policy.
        for (i, a) in self.rules.iter().enumerate() {
            for b in &self.rules[i + 1..] {
                let shared: Vec<&String> = a.paid.iter().filter(|c| b.paid.contains(c)).collect();
                if shared.is_empty() || !a.date_range(file)?.overlaps(&b.date_range(file)?) {
                    continue;
                }
                if a.combine.is_none() || b.combine.is_none() {
                    return Err(error(
                        format!("rule[{}].paid", b.id),
                        format!(
                            "rules `{}` and `{}` both read the paid column `{}` over overlapping dates; set \
                             `combine = \"sum\"` on both (the column holds the sum of both entitlements), make \
                             their effective ranges disjoint, or merge them into one rule with tiers",
                            a.id, b.id, shared[0]
                        ),
                    ));
                }
                if a.paid != b.paid {
                    return Err(error(
                        format!("rule[{}].paid", b.id),
                        format!("rules combined with `{}` must list the same paid columns", a.id),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Rule {
    /// The parsed effective range.
    pub fn date_range(&self, file: &str) -> Result<DateRange> {
        let Some(effective) = &self.effective else { return Ok(DateRange::default()) };
        let parse = |value: &Option<toml::Value>, field: &str| -> Result<Option<NaiveDate>> {
            let Some(value) = value else { return Ok(None) };
            let text = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Datetime(d) => d.to_string(),
                other => other.to_string(),
            };
            parse_day(&text).map(Some).ok_or_else(|| Error::Config {
                file: file.into(),
                key: format!("rule[{}].effective.{field}", self.id),
                reason: format!("`{text}` is not a date; write YYYY-MM-DD"),
            })
        };
        Ok(DateRange { from: parse(&effective.from, "from")?, to: parse(&effective.to, "to")? })
    }

    /// The validated amount form (`None` for `kind = "hours"`).
    pub fn amount_form(&self) -> Option<Amount> {
        let spec = self.amount.as_ref()?;
        amount_form(spec, "", false).ok()
    }
}

/// The one amount form of `spec`; errors are `(key, reason)`.
fn amount_form(spec: &AmountSpec, key: &str, in_tier: bool) -> std::result::Result<Amount, (String, String)> {
    let fail =
        |field: &str, reason: String| Err((format!("{key}{}{field}", if field.is_empty() { "" } else { "." }), reason));
    if spec.when.is_some() && !in_tier {
        return fail(
            "when",
            "`when` inside an amount belongs to a tier; put the rule's condition in the rule's `when`".into(),
        );
    }
    let mut forms = Vec::new();
    if spec.flat.is_some() {
        forms.push("flat");
    }
    if spec.per_hour.is_some() {
        forms.push("per_hour");
    }
    if spec.per_shift.is_some() {
        forms.push("per_shift");
    }
    if spec.pct.is_some() {
        forms.push("pct");
    }
    if spec.multiplier.is_some() {
        forms.push("multiplier");
    }
    if spec.tiers.is_some() {
        forms.push("tiers");
    }
    if spec.expr.is_some() {
        forms.push("expr");
    }
    let [form] = forms.as_slice() else {
        return fail(
            "",
            if forms.is_empty() {
                "no amount form: give one of flat, per_hour, per_shift, pct, multiplier, tiers, expr".into()
            } else {
                format!("one amount form per amount, found {}", forms.join(" and "))
            },
        );
    };
    let number = |field: &str, value: f64| -> std::result::Result<f64, (String, String)> {
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err((format!("{key}.{field}"), format!("a negative or non-finite amount ({value}); amounts due are ≥ 0")))
        }
    };
    let field = |name: &str, value: &Option<String>, what: &str| -> std::result::Result<String, (String, String)> {
        match value {
            Some(text) if !text.trim().is_empty() => Ok(text.clone()),
            _ => Err((format!("{key}.{name}"), format!("the `{form}` form needs `{name}` ({what})"))),
        }
    };
    let used: &[(&str, bool)] = &[
        ("hours", spec.hours.is_some()),
        ("shifts", spec.shifts.is_some()),
        ("of", spec.of.is_some()),
        ("rate", spec.rate.is_some()),
    ];
    let allowed: &[&str] = match *form {
        "per_hour" => &["hours"],
        "per_shift" => &["shifts"],
        "pct" => &["of"],
        "multiplier" => &["rate", "hours"],
        _ => &[],
    };
    if let Some((extra, _)) = used.iter().find(|(name, set)| *set && !allowed.contains(name)) {
        return fail(extra, format!("`{extra}` does not belong to the `{form}` form"));
    }
    Ok(match *form {
        "flat" => Amount::Flat(number("flat", spec.flat.unwrap_or_default())?),
        "per_hour" => Amount::PerHour {
            per_hour: number("per_hour", spec.per_hour.unwrap_or_default())?,
            hours: field("hours", &spec.hours, "the column or SQL expression of the hours")?,
        },
        "per_shift" => Amount::PerShift {
            per_shift: number("per_shift", spec.per_shift.unwrap_or_default())?,
            shifts: field("shifts", &spec.shifts, "the column or SQL expression of the shifts")?,
        },
        "pct" => Amount::Pct {
            pct: number("pct", spec.pct.unwrap_or_default())?,
            of: field("of", &spec.of, "the column the percentage applies to")?,
        },
        "multiplier" => Amount::Multiplier {
            multiplier: number("multiplier", spec.multiplier.unwrap_or_default())?,
            rate: field("rate", &spec.rate, "the column of the hourly rate")?,
            hours: field("hours", &spec.hours, "the column or SQL expression of the hours")?,
        },
        "tiers" => {
            if in_tier {
                return fail("tiers", "tiers cannot be nested".into());
            }
            let tiers = spec.tiers.as_deref().unwrap_or_default();
            if tiers.is_empty() {
                return fail("tiers", "give at least one tier".into());
            }
            let mut out = Vec::new();
            for (i, tier) in tiers.iter().enumerate() {
                let tier_key = format!("{key}.tiers[{i}]");
                let when = match &tier.when {
                    Some(w) if !w.trim().is_empty() => w.clone(),
                    _ => return Err((format!("{tier_key}.when"), "every tier needs `when`".into())),
                };
                out.push((when, amount_form(tier, &tier_key, true)?));
            }
            Amount::Tiers(out)
        }
        _ => Amount::Expr(field("expr", &spec.expr, "an SQL expression")?),
    })
}
