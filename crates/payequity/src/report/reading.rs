//! Plain-language readings of the result documents: the headline figures of an audit report, the reading
//! of a decomposition ("of the 32.2 log-point gap, 30.1 points are explained by ..."), and the one-page
//! `summary.md` of the evidence pack. Everything reads the JSON documents (`shared/spec/interfaces.md`),
//! so the CLI, Python and the HTML report word the same figures the same way.

use std::fmt::Write as _;

use serde_json::Value;

use super::audit::{AuditReport, Headline};

/// The value at a dot-separated `path` (`gap.overall.mean_gap_pct.estimate`; list items by index).
pub fn lookup<'a>(document: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(document, |value, key| match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn number(document: &Value, path: &str) -> Option<f64> {
    lookup(document, path).and_then(Value::as_f64)
}

/// A percentage with one decimal ("18.2%"), or "n/a".
pub fn pct(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |v| format!("{v:.1}%"))
}

/// An amount with thousands separators and two decimals ("1,234,567.89").
pub fn money(value: f64) -> String {
    let text = format!("{:.2}", value.abs());
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{}{grouped}.{cents}", if value < 0.0 { "-" } else { "" })
}

/// The headline figures of a report, each with the path of its value in the report document.
pub fn headline(report: &AuditReport) -> Vec<Headline> {
    let document = serde_json::to_value(report).unwrap_or(Value::Null);
    let mut out = Vec::new();
    let mut figure = |key: &str, label: &str, path: &str, unit: &str, text: Option<String>| {
        let value = number(&document, path);
        if value.is_some() || text.is_some() {
            out.push(Headline {
                key: key.into(),
                label: label.into(),
                path: path.into(),
                value,
                unit: unit.into(),
                text,
            });
        }
    };
    let measure = lookup(&document, "gap.measure").and_then(Value::as_str).unwrap_or("pay");
    figure(
        "mean_gap_pct",
        &format!("Mean gender pay gap ({measure} pay)"),
        "gap.overall.mean_gap_pct.estimate",
        "pct",
        None,
    );
    figure(
        "median_gap_pct",
        &format!("Median gender pay gap ({measure} pay)"),
        "gap.overall.median_gap_pct.estimate",
        "pct",
        None,
    );
    if report.oaxaca.is_some() {
        figure(
            "unexplained",
            "Unexplained part of the gap (Oaxaca-Blinder, log points × 100)",
            "oaxaca.twofold.unexplained.estimate",
            "log_points",
            None,
        );
    }
    if let Some(eu) = report.transparency.as_ref().and_then(|t| t.eu.as_ref()) {
        let open = eu.art10_flags.iter().filter(|f| f.justification.is_none()).count();
        figure(
            "eu_trigger",
            "EU joint pay assessment due (Art. 10)",
            "transparency.eu.art10_triggered",
            "text",
            Some(if eu.art10_triggered {
                format!("yes ({open} categor{})", if open == 1 { "y" } else { "ies" })
            } else {
                "no".into()
            }),
        );
    }
    if report.transparency.as_ref().is_some_and(|t| t.uk.is_some()) {
        figure("uk_mean_hourly_gap_pct", "UK mean hourly pay gap", "transparency.uk.mean_hourly_gap_pct", "pct", None);
    }
    if let Some(logib) = report.transparency.as_ref().and_then(|t| t.logib.as_ref()) {
        let verdict = logib.verdict.words();
        let direction = if logib.kennedy < 0.0 { "less" } else { "more" };
        figure(
            "logib_verdict",
            "Logib equal-pay test: women's pay at equal qualifications",
            "transparency.logib.verdict",
            "text",
            Some(format!("{:.1}% {direction} ({verdict})", 100.0 * logib.kennedy.abs())),
        );
    }
    if report.equal_value.as_ref().is_some_and(|e| e.cost.is_some()) {
        figure(
            "equal_value_cost",
            "Annual cost of closing equal-value shortfalls",
            "equal_value.cost.annual_total",
            "currency",
            None,
        );
    }
    if report.entitlements.is_some() {
        let currency = report.entitlements.as_ref().and_then(|a| a.ruleset.currency.clone());
        let label = match currency {
            Some(c) if !c.is_empty() => format!("Entitlement arrears owed ({c})"),
            _ => "Entitlement arrears owed".into(),
        };
        figure("arrears_total", &label, "entitlements.arrears_total", "currency", None);
        figure("workers_with_arrears", "Workers owed arrears", "entitlements.workers_with_arrears", "count", None);
    }
    out
}

/// A headline figure as shown (the HTML report and `summary.md` print exactly this).
pub fn headline_text(h: &Headline) -> String {
    match (h.unit.as_str(), h.value) {
        (_, None) | ("text", _) => h.text.clone().unwrap_or_else(|| "n/a".into()),
        ("pct", Some(v)) => format!("{v:.1}%"),
        ("log_points", Some(v)) => format!("{:.1}", 100.0 * v),
        ("currency", Some(v)) => money(v),
        (_, Some(v)) => format!("{v:.0}"),
    }
}

/// The variable of a decomposition term (`occupation:2221` → `occupation`).
fn variable_of(term: &str) -> &str {
    term.split_once(':').map_or(term, |(variable, _)| variable)
}

/// The explained part of a twofold decomposition by variable (dummies of a categorical variable summed),
/// largest contribution first.
pub fn explained_by_variable(oaxaca: &Value) -> Vec<(String, f64)> {
    let mut sums: Vec<(String, f64)> = Vec::new();
    for term in lookup(oaxaca, "twofold.detailed").and_then(Value::as_array).into_iter().flatten() {
        let name = term.get("term").and_then(Value::as_str).unwrap_or("");
        let Some(value) = number(term, "explained.estimate") else { continue };
        if name == "_cons" {
            continue;
        }
        let variable = variable_of(name);
        match sums.iter_mut().find(|(v, _)| v == variable) {
            Some(entry) => entry.1 += value,
            None => sums.push((variable.to_string(), value)),
        }
    }
    sums.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    sums
}

/// The decomposition in words: the gap, its explained part with the variables that explain most, and its
/// unexplained part (Oaxaca 1973, Blinder 1973; twofold with the document's reference coefficients).
pub fn oaxaca_reading(oaxaca: &Value) -> String {
    let (Some(difference), Some(explained), Some(unexplained)) = (
        number(oaxaca, "difference.estimate"),
        number(oaxaca, "twofold.explained.estimate"),
        number(oaxaca, "twofold.unexplained.estimate"),
    ) else {
        return "The decomposition has no estimate.".into();
    };
    let log = lookup(oaxaca, "log").and_then(Value::as_bool).unwrap_or(false);
    let outcome = lookup(oaxaca, "outcome").and_then(Value::as_str).unwrap_or("the outcome");
    let a = lookup(oaxaca, "groups.a").and_then(Value::as_str).unwrap_or("A");
    let b = lookup(oaxaca, "groups.b").and_then(Value::as_str).unwrap_or("B");
    let variables = explained_by_variable(oaxaca);
    let named: Vec<String> = variables
        .iter()
        .take(3)
        .map(|(v, x)| if log { format!("{v} ({:.1})", 100.0 * x) } else { format!("{v} ({x:.2})") })
        .collect();
    let by = if named.is_empty() { String::new() } else { format!(", chiefly by differences in {}", named.join(", ")) };
    if log {
        format!(
            "Group {a}'s mean log {outcome} exceeds group {b}'s by {:.1} log points (about {:.1}% at the geometric \
             mean). Of the {:.1} points, {:.1} are explained by differences in the characteristics measured{by}; \
             {:.1} points are unexplained: the part of the gap that equal characteristics would not remove, which \
             includes any discrimination and the effect of anything not measured.",
            100.0 * difference,
            100.0 * difference.exp_m1(),
            100.0 * difference,
            100.0 * explained,
            100.0 * unexplained
        )
    } else {
        format!(
            "Group {a}'s mean {outcome} exceeds group {b}'s by {difference:.2}. Of this, {explained:.2} is explained \
             by differences in the characteristics measured{by}; {unexplained:.2} is unexplained: the part that \
             equal characteristics would not remove, including any discrimination and anything not measured."
        )
    }
}

/// `<`, `>` and `&` as entities: titles and labels come from the config and the payroll, and a Markdown
/// viewer would render HTML in them (a `<script>` or an `<img onerror>` in a job title).
fn escape_html_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The one-page plain-language summary of the evidence pack (`summary.md`), HTML in labels escaped.
pub fn summary_markdown(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}", report.title);
    if let Some(organisation) = &report.organisation {
        let _ = writeln!(out, "\n{organisation}");
    }
    let inputs: Vec<String> = report.inputs.iter().map(|i| format!("{} ({} rows)", i.path, i.rows)).collect();
    let _ = writeln!(
        out,
        "\npayequity {} on {}; groups with fewer than {} women or men are not shown.\n",
        report.version,
        inputs.join(", "),
        report.min_cell
    );
    let _ = writeln!(out, "## Key figures\n");
    for h in &report.headline {
        let _ = writeln!(out, "- **{}**: {}", h.label, headline_text(h));
    }
    if !report.breaches.is_empty() {
        let _ = writeln!(out, "\n## Thresholds breached\n");
        for b in &report.breaches {
            let _ = writeln!(out, "- {}", b.message);
        }
    }
    let _ = writeln!(out, "\n## What the figures say\n");
    if let Some(gap) = &report.gap {
        let n = |g: &str| gap.overall.n.get(g).copied().flatten().unwrap_or(0);
        let _ = writeln!(
            out,
            "- On average, women ({}) are paid {} less per {} than men ({}); at the median the gap is {}. A positive \
             gap means men are paid more.",
            n("F"),
            pct(gap.overall.mean_gap_pct.estimate),
            if gap.measure == crate::data::Measure::Hourly { "hour" } else { "period" },
            n("M"),
            pct(gap.overall.median_gap_pct.estimate)
        );
    }
    if let Some(oaxaca) = &report.oaxaca {
        let _ = writeln!(out, "- {}", oaxaca_reading(&serde_json::to_value(oaxaca).unwrap_or(Value::Null)));
    }
    if let Some(t) = &report.transparency {
        if let Some(eu) = &t.eu {
            let flagged: Vec<String> = eu
                .art10_flags
                .iter()
                .map(|f| match f.suppressed_in_publication {
                    true => "a small category (figures withheld)".to_string(),
                    false => format!(
                        "{} ({:.1}%{})",
                        f.category.clone().unwrap_or_default(),
                        f.gap_pct,
                        if f.justification.is_some() { ", justified" } else { "" }
                    ),
                })
                .collect();
            let _ = writeln!(
                out,
                "- EU Pay Transparency Directive: {} categories of workers have a gap of 5% or more{}. {}",
                flagged.len(),
                if flagged.is_empty() { String::new() } else { format!(": {}", flagged.join(", ")) },
                if eu.art10_triggered {
                    "At least one has no objective, gender-neutral justification: a joint pay assessment with \
                     workers' representatives is due (Art. 10)."
                } else {
                    "No joint pay assessment is triggered."
                }
            );
        }
        if let Some(uk) = &t.uk {
            let _ = writeln!(
                out,
                "- UK gender pay gap (snapshot {}): mean hourly gap {}, median {}; mean bonus gap {}.",
                uk.snapshot_period,
                pct(uk.mean_hourly_gap_pct),
                pct(uk.median_hourly_gap_pct),
                pct(uk.mean_bonus_gap_pct)
            );
        }
        if let Some(logib) = &t.logib {
            let _ = writeln!(out, "- Logib equal-pay test: {}.", logib.reading);
        }
    }
    if let Some(ev) = &report.equal_value {
        let flagged = ev.comparisons.iter().filter(|c| c.shortfall_per_hour > 0.0).count();
        let cost = ev.cost.as_ref().map_or("n/a".into(), |c| format!("{} a year", money(c.annual_total)));
        let _ = writeln!(
            out,
            "- Equal pay for work of equal value: {flagged} comparisons find female-dominated jobs paid below jobs \
             of equal value; closing the shortfalls costs {cost}."
        );
    }
    if let Some(audit) = &report.entitlements {
        let currency = audit.ruleset.currency.clone().unwrap_or_default();
        let _ = writeln!(
            out,
            "- Entitlements (hazard pay, overtime, allowances): {} {currency} of arrears are owed to {} workers.",
            money(audit.arrears_total),
            audit.workers_with_arrears
        );
        for rule in audit.rules.iter().filter(|r| r.shortfall_total > 0.0) {
            let _ = writeln!(out, "  - {}: {} {currency} short-paid", rule.id, money(rule.shortfall_total));
        }
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "\n{} warnings are listed in the report's log.", report.warnings.len());
    }
    let _ = writeln!(
        out,
        "\nThe full figures, methods and sources are in `report.html`; the tables in CSV and Parquet; every number in \
         `report.json`."
    );
    escape_html_text(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_keeps_the_sign() {
        assert_eq!(money(1234567.891), "1,234,567.89");
        assert_eq!(money(-12.5), "-12.50");
        assert_eq!(money(999.0), "999.00");
    }

    #[test]
    fn lookup_follows_keys_and_indices() {
        let v: Value = serde_json::json!({"a": {"b": [1.5, {"c": 2}]}});
        assert_eq!(number(&v, "a.b.0"), Some(1.5));
        assert_eq!(number(&v, "a.b.1.c"), Some(2.0));
        assert_eq!(lookup(&v, "a.x"), None);
    }

    #[test]
    fn explained_parts_of_dummies_add_up_by_variable() {
        let v: Value = serde_json::json!({"twofold": {"detailed": [
            {"term": "_cons", "explained": {"estimate": 0.0}},
            {"term": "educ", "explained": {"estimate": 0.01}},
            {"term": "occ:1", "explained": {"estimate": 0.02}},
            {"term": "occ:2", "explained": {"estimate": 0.03}}]}});
        let by = explained_by_variable(&v);
        assert_eq!(by[0].0, "occ");
        assert!((by[0].1 - 0.05).abs() < 1e-15);
        assert_eq!(by[1].0, "educ");
    }
}
