//! The HTML of results: one self-contained report page (inline CSS and SVG, no script, no network) and the
//! section of each result kind, rendered with minijinja from the JSON documents. Python's `_repr_html_`
//! renders the same sections, so a notebook shows what the report shows.

use minijinja::{context, Environment, Value as TemplateValue};
use serde_json::Value;

use super::audit::AuditReport;
use super::charts::{amount_bars, gap_bars, pay_line_chart, quartile_bars, GapBar, JobPoint};
use super::profile_chart::{profile_chart, ProfileLine};
use super::reading::{headline_text, lookup, money, oaxaca_reading};
use crate::{Error, Result};

const TEMPLATES: [(&str, &str); 11] = [
    ("style.css", include_str!("templates/style.css")),
    ("macros.html", include_str!("templates/macros.html")),
    ("report.html", include_str!("templates/report.html")),
    ("section.html", include_str!("templates/section.html")),
    ("gap.html", include_str!("templates/gap.html")),
    ("oaxaca.html", include_str!("templates/oaxaca.html")),
    ("quantile_profile.html", include_str!("templates/quantile_profile.html")),
    ("transparency.html", include_str!("templates/transparency.html")),
    ("equal_value.html", include_str!("templates/equal_value.html")),
    ("entitlement_audit.html", include_str!("templates/entitlement_audit.html")),
    ("scenario.html", include_str!("templates/scenario.html")),
];

/// The kinds of documents that have a section template.
pub const SECTION_KINDS: [&str; 7] =
    ["gap", "oaxaca", "quantile_profile", "transparency", "equal_value", "entitlement_audit", "scenario"];

fn pct(value: Option<f64>) -> String {
    value.filter(|v| v.is_finite()).map_or("–".into(), |v| format!("{v:.1}%"))
}

fn num(value: Option<f64>, decimals: Option<usize>) -> String {
    let decimals = decimals.unwrap_or(2);
    value.filter(|v| v.is_finite()).map_or("–".into(), |v| format!("{v:.decimals$}"))
}

fn pvalue(value: Option<f64>) -> String {
    match value.filter(|v| v.is_finite()) {
        None => "–".into(),
        Some(p) if p < 1e-4 => "< 0.0001".into(),
        Some(p) => format!("{p:.4}"),
    }
}

fn amount(value: Option<f64>) -> String {
    value.filter(|v| v.is_finite()).map_or("–".into(), money)
}

fn count(value: Option<f64>) -> String {
    value.map_or("–".into(), |v| {
        let text = money(v);
        text.split_once('.').map_or(text.clone(), |(whole, _)| whole.to_string())
    })
}

fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(template_error)?;
    }
    env.add_filter("pct", pct);
    env.add_filter("num", num);
    env.add_filter("money", amount);
    env.add_filter("count", count);
    env.add_filter("pvalue", pvalue);
    Ok(env)
}

fn template_error(e: minijinja::Error) -> Error {
    Error::Invalid(format!("report template: {e:#}"))
}

fn f64_at(document: &Value, path: &str) -> Option<f64> {
    lookup(document, path).and_then(Value::as_f64)
}

fn estimate_bar(label: String, estimate: &Value) -> Option<GapBar> {
    let value = estimate.get("estimate")?.as_f64()?;
    let ci = estimate.get("ci_low").and_then(Value::as_f64).zip(estimate.get("ci_high").and_then(Value::as_f64));
    Some(GapBar { label, value, ci })
}

/// The charts of a section (SVG text by name).
fn charts(kind: &str, doc: &Value) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let items = |path: &str| lookup(doc, path).and_then(Value::as_array).cloned().unwrap_or_default();
    match kind {
        "gap" => {
            let mut bars: Vec<GapBar> = Vec::new();
            if let Some(bar) = lookup(doc, "overall.mean_gap_pct").and_then(|e| estimate_bar("all".into(), e)) {
                bars.push(bar);
            }
            for group in items("by") {
                if group.get("suppressed").and_then(Value::as_bool).unwrap_or(false) {
                    continue;
                }
                let label = group
                    .get("group")
                    .and_then(Value::as_object)
                    .map(|g| g.values().map(|v| v.as_str().unwrap_or("(missing)").to_string()).collect::<Vec<_>>())
                    .unwrap_or_default()
                    .join(" / ");
                if let Some(bar) = group.get("mean_gap_pct").and_then(|e| estimate_bar(label, e)) {
                    bars.push(bar);
                }
            }
            out.insert("gaps".into(), Value::String(gap_bars("Mean gender pay gap with 95% CI", &bars)));
        }
        "transparency" => {
            let bands = |path: &str| -> Vec<(String, f64, f64)> {
                items(path)
                    .iter()
                    .filter_map(|b| {
                        let band = b.get("band")?.as_u64()?;
                        Some((format!("quartile {band}"), b.get("F_pct")?.as_f64()?, b.get("M_pct")?.as_f64()?))
                    })
                    .collect()
            };
            for (name, path, title) in [
                ("eu_quartiles", "eu.f_quartiles", "EU Art. 9(1)(f): women and men by hourly pay quartile band"),
                ("uk_quartiles", "uk.quartiles", "UK: women and men by hourly pay quartile"),
            ] {
                let b = bands(path);
                if !b.is_empty() {
                    out.insert(name.into(), Value::String(quartile_bars(title, &b)));
                }
            }
        }
        "equal_value" => {
            let jobs: Vec<JobPoint> = items("classes")
                .iter()
                .filter(|c| !c.get("suppressed").and_then(Value::as_bool).unwrap_or(false))
                .filter_map(|c| {
                    Some(JobPoint {
                        label: c.get("job")?.as_str()?.to_string(),
                        points: c.get("points")?.as_f64()?,
                        rate: c.get("job_rate")?.as_f64()?,
                        predominance: c.get("predominance")?.as_str().unwrap_or("neutral").to_string(),
                        target: c.get("target_rate").and_then(Value::as_f64),
                    })
                })
                .collect();
            let line = f64_at(doc, "pay_line.intercept").zip(f64_at(doc, "pay_line.slope"));
            out.insert(
                "pay_line".into(),
                Value::String(pay_line_chart("Job rates by evaluation points; male pay line dashed", &jobs, line)),
            );
        }
        "quantile_profile" => {
            let line = |name: &str, part: &str, colour: &str| ProfileLine {
                name: name.into(),
                colour: colour.into(),
                points: items("points")
                    .iter()
                    .filter_map(|p| {
                        let value = f64_at(p, &format!("{part}.estimate"))?;
                        let ci = f64_at(p, &format!("{part}.ci_low")).zip(f64_at(p, &format!("{part}.ci_high")));
                        Some((p.get("percentile")?.as_f64()?, value, ci))
                    })
                    .collect(),
            };
            let lines = [
                line("gap", "gap", "#222222"),
                line("composition", "composition", "#4477aa"),
                line("structure", "structure", "#ee6677"),
            ];
            let unit =
                if doc.get("log").and_then(Value::as_bool).unwrap_or(false) { "log points" } else { "outcome units" };
            out.insert(
                "profile".into(),
                Value::String(profile_chart("Gap, composition and structure by percentile", unit, &lines)),
            );
        }
        "scenario" => {
            if let Ok(result) = serde_json::from_value::<crate::scenario::ScenarioResult>(doc.clone()) {
                out.insert("scatter".into(), Value::String(crate::scenario::scenario_chart(&result)));
            }
        }
        "entitlement_audit" => {
            let rules: Vec<(String, f64)> = items("rules")
                .iter()
                .filter_map(|r| Some((r.get("id")?.as_str()?.to_string(), r.get("shortfall_total")?.as_f64()?)))
                .collect();
            out.insert("arrears".into(), Value::String(amount_bars("Arrears by rule", &rules, money)));
        }
        _ => {}
    }
    out
}

/// The reading of a section in words (decompositions only).
fn reading(kind: &str, doc: &Value) -> Option<String> {
    (kind == "oaxaca").then(|| oaxaca_reading(doc))
}

/// The HTML section of one result document (`kind` as in the document).
pub fn section_html(doc: &Value) -> Result<String> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
    if !SECTION_KINDS.contains(&kind) {
        return Err(Error::Invalid(format!("no HTML section for documents of kind `{kind}`")));
    }
    let env = environment()?;
    let template = env.get_template(&format!("{kind}.html")).map_err(template_error)?;
    template
        .render(context! {
            doc => TemplateValue::from_serialize(doc),
            charts => TemplateValue::from_serialize(charts(kind, doc)),
            reading => reading(kind, doc),
            difference_pct => (kind == "oaxaca" && doc.get("log").and_then(Value::as_bool).unwrap_or(false))
                .then(|| f64_at(doc, "difference.estimate").map(|d| 100.0 * d.exp_m1()))
                .flatten(),
        })
        .map_err(template_error)
}

/// A section as a standalone fragment with the report's style (notebooks' `_repr_html_`).
pub fn fragment_html(doc: &Value) -> Result<String> {
    let body = section_html(doc)?;
    let env = environment()?;
    let template = env.get_template("section.html").map_err(template_error)?;
    template.render(context! { body => TemplateValue::from_safe_string(body) }).map_err(template_error)
}

/// The whole report page. `generated_at` is the only part that differs between two runs of one config.
pub fn report_html(report: &AuditReport, generated_at: &str, annex_rows: Option<&Value>) -> Result<String> {
    let doc = serde_json::to_value(report).map_err(|e| Error::Invalid(format!("cannot serialize report: {e}")))?;
    let mut sections = Vec::new();
    for (key, title) in [
        ("gap", "Gender pay gaps"),
        ("oaxaca", "Explaining the gap: Oaxaca-Blinder decomposition"),
        ("quantile_profile", "Where in the pay distribution: the quantile profile"),
        ("transparency", "Pay transparency"),
        ("equal_value", "Equal pay for work of equal value"),
        ("entitlements", "Entitlements: hazard pay, overtime and allowances"),
        ("scenarios", "Bargaining scenarios: what a settlement does to the gaps, and what it costs"),
    ] {
        if let Some(section) = doc.get(key).filter(|v| !v.is_null()) {
            sections.push(context! {
                id => key,
                title => title,
                html => TemplateValue::from_safe_string(section_html(section)?),
            });
        }
    }
    let headline: Vec<TemplateValue> = report
        .headline
        .iter()
        .map(|h| {
            context! {
                key => h.key, label => h.label, path => h.path, value => h.value, unit => h.unit,
                shown => headline_text(h),
                scale => if h.unit == "log_points" { 100.0 } else { 1.0 },
                decimals => match h.unit.as_str() { "pct" | "log_points" => 1, "currency" => 2, _ => 0 },
            }
        })
        .collect();
    let ledgers: Vec<TemplateValue> = [
        ("gaps", "gap"),
        ("Oaxaca-Blinder", "oaxaca"),
        ("quantile profile", "quantile_profile"),
        ("transparency", "transparency"),
        ("equal value", "equal_value"),
        ("entitlements", "entitlements"),
    ]
    .into_iter()
    .filter_map(|(name, key)| {
        let ledger = doc.get(key)?.get("ledger")?;
        Some(context! { name => name, ledger => TemplateValue::from_serialize(ledger) })
    })
    .collect();
    let env = environment()?;
    let template = env.get_template("report.html").map_err(template_error)?;
    template
        .render(context! {
            report => TemplateValue::from_serialize(&doc),
            headline => headline,
            sections => sections,
            ledgers => ledgers,
            generated_at => generated_at,
            annex => annex_rows.map(TemplateValue::from_serialize),
        })
        .map_err(template_error)
}
