//! Streamed input gives the in-memory document: the synthetic payroll written as several Parquet, Arrow IPC
//! and CSV files (and hive folders) and read in batches of any size equals the analysis of the whole frame —
//! counts, medians and the ledger exactly, estimates to 1e-10 relative. Bad sources are refused naming the file.

use std::path::{Path, PathBuf};

use payequity::data::write_table;
use payequity::decompose::{oaxaca, OaxacaAnalysis, OaxacaOptions, SeMethod, Vce};
use payequity::entitlements::{audit_entitlements, load_rules, AuditAnalysis};
use payequity::equal_value::{equal_value, EqualValueAnalysis};
use payequity::gap::gap_source;
use payequity::gap::{gap, GapOptions};
use payequity::polars::prelude::*;
use payequity::scale::{run, Silent, Source, StreamOptions};
use payequity::synthetic::{generate, GeneratorOptions};
use payequity::transparency::{transparency, TransparencyAnalysis, TransparencyOptions};
use proptest::prelude::*;
use serde_json::Value;

fn payroll(employees: usize, months: usize) -> DataFrame {
    let options = GeneratorOptions { employees, months, seed: 7, ..Default::default() };
    let mut frame = generate(&options).unwrap().payroll;
    // Planted problems the ledger must count the same way: a duplicated key across files, a null pay, and
    // an employee whose gender changes in a later file.
    let n = frame.height();
    let dup = frame.slice(3, 1);
    let mut switch = frame.slice(20, 1);
    switch.with_column(Column::new("gender".into(), ["X"])).unwrap();
    switch.with_column(Column::new("period".into(), ["2099-12"])).unwrap();
    switch.with_column(Column::new("hours_paid".into(), [150.0])).unwrap();
    frame.vstack_mut(&dup).unwrap();
    frame.vstack_mut(&switch).unwrap();
    let pay: Vec<Option<f64>> = frame
        .column("base_pay")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| if i == n / 2 { None } else { v })
        .collect();
    frame.with_column(Column::new("base_pay".into(), pay)).unwrap();
    frame.rechunk_mut();
    frame
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("payequity-streaming-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `frame` as `parts` files of the extension `ext` under `dir`.
fn write_parts(frame: &DataFrame, dir: &Path, parts: usize, ext: &str) {
    let size = frame.height().div_ceil(parts);
    for (i, start) in (0..frame.height()).step_by(size).enumerate() {
        let mut part = frame.slice(start as i64, size);
        write_table(&mut part, dir.join(format!("part-{i:03}.{ext}"))).unwrap();
    }
}

fn gap_options() -> GapOptions {
    let mut o = GapOptions::default();
    o.columns.pay = vec!["base_pay".into(), "overtime_pay".into()];
    o.columns.hours = Some("hours_paid".into());
    o.by = vec!["occupation".into()];
    o.min_cell = 5;
    o.bootstrap_reps = 50;
    o
}

fn oaxaca_options(se: SeMethod, vce: Vce) -> OaxacaOptions {
    OaxacaOptions {
        outcome: "base_pay".into(),
        log: true,
        group: "gender".into(),
        group_a: "M".into(),
        group_b: Some("F".into()),
        covariates: vec!["tenure_years".into(), "age".into()],
        categorical: vec!["occupation".into()],
        se,
        vce,
        reps: 20,
        ..Default::default()
    }
}

/// Equal JSON: integers exactly, other numbers to `tol` relative.
fn assert_same(a: &Value, b: &Value, tol: f64, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                // Values that are zero up to rounding (e.g. a component that vanishes) get an absolute floor.
                assert!((x - y).abs() <= tol * x.abs().max(y.abs()) + 1e-12, "{path}: {x} vs {y}");
            } else {
                assert_eq!(x, y, "{path}");
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>(), "{path}");
            for (k, v) in x {
                assert_same(v, &y[k], tol, &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_same(v, w, tol, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

fn stream(batch_rows: usize) -> StreamOptions {
    StreamOptions { batch_rows, ..Default::default() }
}

#[test]
fn streamed_gap_equals_the_in_memory_document_exactly() {
    let frame = payroll(300, 12);
    let dir = temp_dir("gap");
    write_parts(&frame, &dir, 3, "parquet");
    let source = Source::resolve(dir.to_str().unwrap()).unwrap();
    assert_eq!(source.files.len(), 3);
    let options = gap_options();
    let memory = gap(&frame, &options).unwrap();
    // One duplicate planted by the generator, one here.
    assert_eq!(memory.ledger.excluded.get("duplicate_key"), Some(&2));
    assert!(memory.ledger.excluded.get("inconsistent_gender").is_some_and(|n| *n >= 2), "{:?}", memory.ledger);
    for batch_rows in [97, 1000, 1 << 20] {
        let streamed = gap_source(&source, &options, &stream(batch_rows), &Silent).unwrap();
        // Units are summed in row order: the documents are identical, bootstrap intervals included.
        assert_eq!(json(&streamed), json(&memory), "batch_rows = {batch_rows}");
    }
}

/// Rows without an employee id are their own units: the streamed gap keeps moments per cell and selects
/// the medians and every bootstrap replicate's order statistics by radix (several passes), so medians, CIs,
/// counts and the ledger equal the in-memory ones exactly, means to summation order.
fn assert_row_gap_matches(frame: &DataFrame, options: &GapOptions, source: &Source, limit: StreamOptions) {
    let batch_rows = limit.batch_rows;
    let memory = gap(frame, options).unwrap();
    let streamed = gap_source(source, options, &limit, &Silent).unwrap();
    assert_same(&json(&streamed), &json(&memory), 1e-12, "row gap");
    let exact = |r: &payequity::gap::GapResult| {
        let mut figures = vec![json(&r.overall.median), json(&r.overall.median_gap_pct)];
        figures.extend(r.by.iter().map(|g| json(&(&g.figures.median, &g.figures.median_gap_pct))));
        figures
    };
    assert_eq!(exact(&streamed), exact(&memory), "medians and their bootstrap CIs, batch_rows = {batch_rows}");
}

#[test]
fn streamed_row_units_select_exact_medians_by_radix() {
    let mut frame = payroll(1500, 36);
    frame = frame.drop("employee_id").unwrap();
    assert!(frame.height() > 50_000);
    let dir = temp_dir("row-gap");
    write_parts(&frame, &dir, 4, "parquet");
    let source = Source::resolve(dir.to_str().unwrap()).unwrap();
    let mut options = gap_options();
    options.factors = Some(vec!["occupation".into(), "grade".into()]);
    options.bootstrap_reps = 200;
    let memory = gap(&frame, &options).unwrap();
    assert_eq!(memory.unit, payequity::data::Unit::Row);
    assert!(memory.ledger.excluded.values().sum::<u64>() >= 1, "{:?}", memory.ledger);
    assert!(memory.overall.median.len() >= 3, "women, men and the planted X");
    // A small memory limit makes the selection count the median's interval again before collecting it.
    for limit in [StreamOptions { memory_limit: 1 << 20, batch_rows: 4099 }, stream(1 << 20)] {
        assert_row_gap_matches(&frame, &options, &source, limit);
    }
    // Pay in whole currency units: heavy ties at the median.
    let rounded = frame.clone().lazy().with_column(col("base_pay").round(0, RoundMode::HalfToEven)).collect().unwrap();
    let tied = temp_dir("row-gap-ties");
    write_parts(&rounded, &tied, 2, "parquet");
    let mut level = options.clone();
    level.measure = Some(payequity::data::Measure::Pay);
    level.columns.pay = vec!["base_pay".into()];
    let tied_source = Source::resolve(tied.to_str().unwrap()).unwrap();
    assert_row_gap_matches(&rounded, &level, &tied_source, StreamOptions { memory_limit: 1 << 20, batch_rows: 10_000 });
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&tied);
}

/// The RIF decomposition on the partial-state engine: quantiles by radix selection, densities and moments in
/// further passes, equal to the in-memory document (quantiles exactly, estimates to summation order).
#[test]
fn streamed_rif_decomposition_equals_the_in_memory_document() {
    use payequity::distributional::{rif_decompose, RifOptions};
    let frame = payroll(400, 12);
    let dir = temp_dir("rif");
    write_parts(&frame, &dir, 3, "parquet");
    let source = Source::resolve(dir.to_str().unwrap()).unwrap();
    let mut options = oaxaca_options(SeMethod::Delta, Vce::Robust);
    options.categorical = vec!["grade".into()];
    let statistics = ["q10", "q50", "q90", "mean", "var", "iqr10_90"];
    let rif = RifOptions { statistic: statistics.iter().map(|s| s.parse().unwrap()).collect(), ..Default::default() };
    let memory = rif_decompose(&frame, &options, &rif).unwrap();
    for limit in [StreamOptions { memory_limit: 1 << 20, batch_rows: 333 }, stream(1 << 20)] {
        let streamed = run(
            &payequity::distributional::RifAnalysis::new(&options, &rif, &limit).unwrap(),
            &source,
            &limit,
            &Silent,
        )
        .unwrap();
        assert_same(&json(&streamed), &json(&memory), 1e-9, "rif");
        for (s, m) in streamed.results.iter().zip(&memory.results).filter(|(_, m)| !m.statistic.quantiles().is_empty())
        {
            assert_eq!(json(&s.sample), json(&m.sample), "{}: quantiles exactly", m.statistic);
            assert_eq!(
                s.density.a.iter().map(|d| d.q).collect::<Vec<_>>(),
                m.density.a.iter().map(|d| d.q).collect::<Vec<_>>()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn streamed_oaxaca_equals_the_in_memory_document() {
    let frame = payroll(300, 12);
    let dir = temp_dir("oaxaca");
    write_parts(&frame, &dir, 4, "arrow");
    let source = Source::resolve(dir.to_str().unwrap()).unwrap();
    for (se, vce) in
        [(SeMethod::Delta, Vce::Classical), (SeMethod::Delta, Vce::Robust), (SeMethod::Bootstrap, Vce::Classical)]
    {
        let options = oaxaca_options(se, vce);
        let memory = oaxaca(&frame, &options).unwrap();
        // One duplicate planted by the generator, one here.
        assert_eq!(memory.ledger.excluded.get("duplicate_key"), Some(&2));
        let streamed = run(&OaxacaAnalysis::new(&options), &source, &stream(613), &Silent).unwrap();
        assert_same(&json(&streamed), &json(&memory), 1e-10, "oaxaca");
    }
}

/// The demo audit's transparency settings (EU with categories and Art. 10 flags, UK, Logib).
fn transparency_options() -> TransparencyOptions {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/demo/audit.toml");
    let mut options = payequity::config::AuditConfig::from_file(path).unwrap().transparency_options().unwrap();
    options.min_cell = 3;
    options
}

#[test]
fn streamed_transparency_equals_the_in_memory_document() {
    let planted = payroll(400, 14);
    // The planted gender switch sits alone in its own last period: a set snapshot there, the default one
    // (the last period) on the rows without it.
    let usual = planted.slice(0, planted.height() - 1);
    let mut options = transparency_options();
    for (frame, snapshot) in [(planted, Some("2025-12".to_string())), (usual, None)] {
        let dir = temp_dir(&format!("transparency-{}", snapshot.is_some()));
        write_parts(&frame, &dir, 3, "parquet");
        let source = Source::resolve(dir.to_str().unwrap()).unwrap();
        options.snapshot_period = snapshot.clone();
        let memory = transparency(&frame, &options).unwrap();
        assert!(memory.eu.is_some() && memory.uk.is_some() && memory.logib.is_some());
        assert!(memory.ledger.excluded.contains_key("duplicate_key"), "{:?}", memory.ledger);
        for batch_rows in [113, 1 << 20] {
            let streamed = run(&TransparencyAnalysis::new(&options), &source, &stream(batch_rows), &Silent).unwrap();
            assert_same(&json(&streamed), &json(&memory), 1e-10, &format!("{snapshot:?}/{batch_rows}"));
        }
    }
    // Missing columns get the in-memory message.
    let frame = payroll(40, 2);
    let dir = temp_dir("transparency-missing");
    write_parts(&frame, &dir, 2, "parquet");
    let source = Source::resolve(dir.to_str().unwrap()).unwrap();
    options.category = Some("no_such_column".into());
    let memory = transparency(&frame, &options).unwrap_err().to_string();
    let streamed = run(&TransparencyAnalysis::new(&options), &source, &stream(100), &Silent).unwrap_err().to_string();
    assert_eq!(streamed, memory);
}

#[test]
fn streamed_equal_value_equals_the_in_memory_document() {
    let frame = payroll(400, 12);
    let dir = temp_dir("equal-value");
    write_parts(&frame, &dir, 3, "arrow");
    let source = Source::resolve(dir.to_str().unwrap()).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/demo/audit.toml");
    let config = payequity::config::AuditConfig::from_file(path).unwrap();
    // The demo's seniority-adjusted rates of contracted hours, and plain highest rates over every row.
    let adjusted = config.equal_value_options().unwrap();
    let plain = payequity::equal_value::EqualValueOptions {
        job_rate: payequity::equal_value::JobRate::Max,
        adjust_for: vec![],
        subtract_hours: vec![],
        filters: vec![],
        worker_adjustments: true,
        ..adjusted.clone()
    };
    for options in [adjusted, plain] {
        let memory = equal_value(&frame, &options).unwrap();
        assert!(!memory.classes.is_empty() && memory.ledger.excluded.contains_key("duplicate_key"));
        for batch_rows in [211, 1 << 20] {
            let streamed = run(&EqualValueAnalysis::new(&options), &source, &stream(batch_rows), &Silent).unwrap();
            assert_same(&json(&streamed), &json(&memory), 1e-10, &format!("equal value/{batch_rows}"));
        }
    }
}

#[test]
fn streamed_entitlement_audit_equals_the_in_memory_document() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/demo/audit.toml");
    let options = payequity::config::AuditConfig::from_file(path).unwrap().entitlement_options().unwrap();
    let rules = load_rules(&options.rules).unwrap();
    let frame = payroll(300, 14);
    // Rows in period order, and the same rows with the periods running backwards (caps then need sorting).
    let backwards = frame.reverse();
    for (name, frame) in [("forwards", frame), ("backwards", backwards)] {
        let dir = temp_dir(&format!("audit-{name}"));
        write_parts(&frame, &dir, 3, "parquet");
        let source = Source::resolve(dir.to_str().unwrap()).unwrap();
        let memory = audit_entitlements(&frame, &rules, &options).unwrap();
        assert!(memory.arrears_total > 0.0 && memory.arrears.height() > 0, "{name}");
        assert!(memory.ledger.excluded.contains_key("duplicate_key"), "{name}");
        // A 64 MiB limit on a small file gives one partition; a tiny one many (not enforced below 64 MiB by
        // the CLI, but the library takes it).
        for memory_limit in [64 << 20, 40_000] {
            let stream = StreamOptions { memory_limit, batch_rows: 500 };
            let streamed = run(&AuditAnalysis::new(&rules, &options), &source, &stream, &Silent).unwrap();
            assert_same(&json(&streamed), &json(&memory), 1e-10, &format!("{name}/{memory_limit}"));
            assert!(streamed.arrears.equals_missing(&memory.arrears), "{name}/{memory_limit}: arrears differ");
        }
    }
}

#[test]
fn the_streamed_report_equals_the_in_memory_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets");
    // Without `[scenario]`: scenarios read the payroll into memory (the streamed report refuses them).
    let demo = std::fs::read_to_string(root.join("demo/audit.toml")).unwrap();
    let demo = demo.split("\n[scenario]").next().unwrap().to_string();
    // Without the planted period of its own at the end (the default snapshot of the UK figures and Logib).
    let planted = payroll(300, 12);
    let frame = planted.slice(0, planted.height() - 1);
    let dir = temp_dir("report");
    write_parts(&frame, &dir.join("parts"), 3, "parquet");
    write_table(&mut frame.clone(), dir.join("whole.parquet")).unwrap();
    let config = |input: &str| {
        let text = demo
            .replace("path = \"payroll.parquet\"", &format!("path = \"{input}\""))
            .replace("\"../", &format!("\"{}/", root.display()))
            .replace("min_cell = 10", "min_cell = 3");
        let mut config =
            payequity::config::AuditConfig::from_toml(&text, dir.join("audit.toml").to_str().unwrap()).unwrap();
        config.base_dir = dir.clone();
        config
    };
    let memory = payequity::report::run_audit(&config("whole.parquet"), &mut |_| {}).unwrap();
    let tiny = StreamOptions { memory_limit: 50_000, batch_rows: 400 };
    let streamed =
        payequity::report::run_audit_with(&config("parts"), &tiny, payequity::scale::Engine::Auto, &mut |_| {})
            .unwrap();
    assert_eq!(streamed.inputs.len(), 3);
    assert_eq!(streamed.inputs.iter().map(|i| i.rows).sum::<u64>(), frame.height() as u64);
    let (mut a, mut b) = (json(&streamed), json(&memory));
    for key in ["inputs", "config_text", "config_sha256"] {
        a.as_object_mut().unwrap().remove(key);
        b.as_object_mut().unwrap().remove(key);
    }
    assert!(b["transparency"].is_object() && b["entitlements"].is_object() && b["equal_value"].is_object());
    assert_same(&a, &b, 1e-10, "report");
}

#[test]
fn csv_and_hive_folders_stream_like_parquet() {
    let frame = payroll(120, 6);
    let dir = temp_dir("hive");
    let first = frame.slice(0, frame.height() / 2);
    let second = frame.slice((frame.height() / 2) as i64, frame.height());
    for (i, part) in [first, second].into_iter().enumerate() {
        let folder = dir.join(format!("batch={}", i + 1));
        std::fs::create_dir_all(&folder).unwrap();
        write_table(&mut part.clone(), folder.join("part.csv")).unwrap();
    }
    std::fs::write(dir.join("_SUCCESS"), "").unwrap();
    let source = Source::resolve(dir.to_str().unwrap()).unwrap();
    assert_eq!(source.hive_columns.len(), 1);
    assert!(source.column_names().contains(&"batch".to_string()));
    let mut options = gap_options();
    options.by = vec!["batch".into()];
    let mut whole = frame.clone();
    let batch: Vec<i64> = (0..frame.height()).map(|i| if i < frame.height() / 2 { 1 } else { 2 }).collect();
    whole.with_column(Column::new("batch".into(), batch)).unwrap();
    let memory = gap(&whole, &options).unwrap();
    let streamed = gap_source(&source, &options, &stream(50), &Silent).unwrap();
    assert_eq!(json(&streamed), json(&memory));
    // A glob over the same files.
    let pattern = format!("{}/batch=*/*.csv", dir.display());
    assert_eq!(Source::resolve(&pattern).unwrap().files.len(), 2);
}

#[test]
fn bad_sources_are_refused_naming_the_file() {
    let frame = payroll(20, 2);
    let dir = temp_dir("bad");
    write_parts(&frame, &dir, 2, "parquet");
    // A file with other columns.
    let mut other = frame.clone().drop("age").unwrap();
    write_table(&mut other, dir.join("part-009.parquet")).unwrap();
    let message = Source::resolve(dir.to_str().unwrap()).unwrap_err().to_string();
    assert!(message.contains("part-009.parquet") && message.contains("differ"), "{message}");
    std::fs::remove_file(dir.join("part-009.parquet")).unwrap();
    // A corrupt file among good ones.
    std::fs::write(dir.join("part-005.parquet"), b"PAR1 not really parquet").unwrap();
    let message = Source::resolve(dir.to_str().unwrap()).unwrap_err().to_string();
    assert!(message.contains("part-005.parquet"), "{message}");
    // An empty directory and a glob matching nothing.
    let empty = temp_dir("empty");
    let message = Source::resolve(empty.to_str().unwrap()).unwrap_err().to_string();
    assert!(message.contains("no .parquet"), "{message}");
    let message = Source::resolve(&format!("{}/*.parquet", empty.display())).unwrap_err().to_string();
    assert!(message.contains("matches no"), "{message}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Any split of the rows into batches (and of the workers into partitions) gives the same documents.
    #[test]
    fn any_batch_size_gives_the_same_result(batch_rows in 1usize..400) {
        let frame = payroll(40, 6);
        let dir = temp_dir(&format!("prop-{batch_rows}"));
        write_parts(&frame, &dir, 3, "parquet");
        let source = Source::resolve(dir.to_str().unwrap()).unwrap();
        let mut options = gap_options();
        options.min_cell = 0;
        let memory = gap(&frame, &options).unwrap();
        let streamed = gap_source(&source, &options, &stream(batch_rows), &Silent).unwrap();
        prop_assert_eq!(json(&streamed), json(&memory));
        // The same rows without an employee id: row units, medians by radix selection.
        let rows = frame.drop("employee_id").unwrap();
        let rows_dir = temp_dir(&format!("prop-rows-{batch_rows}"));
        write_parts(&rows, &rows_dir, 3, "parquet");
        let rows_source = Source::resolve(rows_dir.to_str().unwrap()).unwrap();
        assert_row_gap_matches(&rows, &options, &rows_source, StreamOptions { memory_limit: 1 << 16, batch_rows });
        let _ = std::fs::remove_dir_all(&rows_dir);
        let o = oaxaca_options(SeMethod::Delta, Vce::Classical);
        let streamed = run(&OaxacaAnalysis::new(&o), &source, &stream(batch_rows), &Silent).unwrap();
        assert_same(&json(&streamed), &json(&oaxaca(&frame, &o).unwrap()), 1e-10, "oaxaca");
        // The EU and UK figures (Logib needs 50 employees) and the audit, its workers spread over as many
        // partitions as the memory limit asks for.
        let mut t = transparency_options();
        t.regimes = vec![payequity::transparency::Regime::Eu, payequity::transparency::Regime::Uk];
        t.snapshot_period = Some("2025-06".into());
        let streamed = run(&TransparencyAnalysis::new(&t), &source, &stream(batch_rows), &Silent).unwrap();
        assert_same(&json(&streamed), &json(&transparency(&frame, &t).unwrap()), 1e-10, "transparency");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/demo/audit.toml");
        let a = payequity::config::AuditConfig::from_file(path).unwrap().entitlement_options().unwrap();
        let rules = load_rules(&a.rules).unwrap();
        let limit = StreamOptions { memory_limit: 2_000 * batch_rows as u64, batch_rows };
        let streamed = run(&AuditAnalysis::new(&rules, &a), &source, &limit, &Silent).unwrap();
        assert_same(&json(&streamed), &json(&audit_entitlements(&frame, &rules, &a).unwrap()), 1e-10, "audit");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A distributed engine in miniature, through the generic entry points only: rows numbered in input order,
/// partitioned by the plan's column (hash) or in `parts` slices, sorted by row within a partition, each pass
/// partial → tree merge → next, as `pe.spark` and `pe.dask` drive it.
fn distributed_document(kind: &str, options_json: &str, frame: &DataFrame, parts: usize) -> Value {
    use payequity::scale::distributed::{analysis, ROW_COLUMN};
    use payequity::scale::Step;
    let analysis = analysis(kind, options_json).unwrap();
    let numbered = frame.clone().with_row_index(ROW_COLUMN.into(), None).unwrap();
    let numbered = numbered.clone().lazy().with_column(col(ROW_COLUMN).cast(DataType::Int64)).collect().unwrap();
    let (columns, mut pass) = analysis.plan(&numbered.clear()).unwrap();
    let partitions: Vec<DataFrame> = match &columns.partition_by {
        Some(key) => {
            let codes = numbered.column(key).unwrap().cast(&DataType::String).unwrap();
            let hash =
                |s: Option<&str>| s.map_or(0, |t| t.bytes().fold(7u64, |h, b| h.wrapping_mul(31) ^ u64::from(b)));
            let which: Vec<u64> = codes.str().unwrap().iter().map(|s| hash(s) % parts as u64).collect();
            (0..parts as u64)
                .map(|p| {
                    let mask: BooleanChunked = which.iter().map(|w| *w == p).collect();
                    numbered.filter(&mask).unwrap()
                })
                .filter(|f| f.height() > 0)
                .collect()
        }
        None => {
            let size = numbered.height().div_ceil(parts);
            (0..parts).map(|p| numbered.slice((p * size) as i64, size)).filter(|f| f.height() > 0).collect()
        }
    };
    loop {
        let mut states: Vec<Vec<u8>> =
            partitions.iter().map(|p| analysis.partial(&pass, p).unwrap_or_else(|e| panic!("{kind}: {e}"))).collect();
        while states.len() > 1 {
            let mut next = Vec::new();
            for pair in states.chunks(2) {
                next.push(if pair.len() == 2 {
                    analysis.merge(&pass, &pair[0], &pair[1]).unwrap()
                } else {
                    pair[0].clone()
                });
            }
            states = next;
        }
        match analysis.next(&pass, &states[0]).unwrap() {
            Step::Pass(p) => pass = p,
            Step::Done(document) => return serde_json::from_str(&document).unwrap(),
        }
    }
}

#[test]
fn the_generic_distributed_entry_points_give_the_in_memory_documents() {
    let frame = payroll(120, 8);
    let memory = json(&gap(&frame, &gap_options()).unwrap());
    for parts in [1, 3, 7] {
        let options = serde_json::to_string(&gap_options()).unwrap();
        assert_same(&distributed_document("gap", &options, &frame, parts), &memory, 1e-10, "gap");
    }
    for (se, vce) in
        [(SeMethod::Delta, Vce::Classical), (SeMethod::Delta, Vce::Robust), (SeMethod::Bootstrap, Vce::Classical)]
    {
        let options = oaxaca_options(se, vce);
        let memory = json(&oaxaca(&frame, &options).unwrap());
        let text = serde_json::to_string(&options).unwrap();
        for parts in [1, 4] {
            assert_same(&distributed_document("oaxaca", &text, &frame, parts), &memory, 1e-10, "oaxaca");
        }
    }
    {
        use payequity::distributional::{rif_decompose, RifOptions};
        let mut options = oaxaca_options(SeMethod::Delta, Vce::Robust);
        options.categorical = vec!["grade".into()];
        let statistics = ["q10", "q50", "q90", "var", "iqr10_90"];
        let rif =
            RifOptions { statistic: statistics.iter().map(|s| s.parse().unwrap()).collect(), ..Default::default() };
        let memory = json(&rif_decompose(&frame, &options, &rif).unwrap());
        let job = serde_json::json!({ "oaxaca": options, "rif": rif }).to_string();
        for parts in [1, 4] {
            assert_same(&distributed_document("rif", &job, &frame, parts), &memory, 1e-9, "rif");
        }
        // The quantile profile (the RIF at each percentile), streamed and distributed.
        let profile = payequity::distributional::ProfileOptions {
            percentiles: vec![10.0, 25.0, 50.0, 75.0, 90.0],
            ..Default::default()
        };
        let memory = payequity::distributional::quantile_profile(&frame, &options, &profile).unwrap();
        assert_eq!(memory.points.len(), 5);
        let job = serde_json::json!({ "oaxaca": options, "profile": profile }).to_string();
        assert_same(&distributed_document("quantile-profile", &job, &frame, 3), &json(&memory), 1e-9, "profile");
        let dir = temp_dir("profile");
        write_parts(&frame, &dir, 3, "parquet");
        let source = Source::resolve(dir.to_str().unwrap()).unwrap();
        let limit = StreamOptions { memory_limit: 1 << 20, batch_rows: 97 };
        let analysis = payequity::distributional::ProfileAnalysis::new(&options, &profile, &limit).unwrap();
        let streamed = run(&analysis, &source, &limit, &Silent).unwrap();
        assert_same(&json(&streamed), &json(&memory), 1e-9, "streamed profile");
        let _ = std::fs::remove_dir_all(&dir);
    }
    // Without the planted switch alone in the last period: the default snapshot (the last period) then
    // needs the pass of distinct periods first.
    let usual = frame.slice(0, frame.height() - 1);
    let options = transparency_options();
    let memory = transparency(&usual, &options).unwrap();
    assert!(memory.eu.is_some() && memory.uk.is_some() && memory.logib.is_some());
    let text = serde_json::to_string(&options).unwrap();
    assert_same(&distributed_document("transparency", &text, &usual, 3), &json(&memory), 1e-10, "transparency");
    // One snapshot without a period column: Logib then reads every row (a plan that must survive its bytes).
    let first = usual.column("period").unwrap().str().unwrap().get(0).unwrap().to_string();
    let mask = usual.column("period").unwrap().str().unwrap().equal(first.as_str());
    let snapshot = usual.filter(&mask).unwrap().drop("period").unwrap();
    let mut options = TransparencyOptions { regimes: vec![payequity::transparency::Regime::Logib], ..options };
    options.columns.period = None;
    let text = serde_json::to_string(&options).unwrap();
    let memory = transparency(&snapshot, &options).unwrap();
    assert!(memory.logib.is_some(), "Logib on a single snapshot");
    assert_same(&distributed_document("transparency", &text, &snapshot, 3), &json(&memory), 1e-10, "snapshot");

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/demo/audit.toml");
    let config = payequity::config::AuditConfig::from_file(path).unwrap();
    let options = config.equal_value_options().unwrap();
    let memory = json(&equal_value(&frame, &options).unwrap());
    let text = serde_json::to_string(&options).unwrap();
    assert_same(&distributed_document("equal-value", &text, &frame, 3), &memory, 1e-10, "equal value");

    let options = config.entitlement_options().unwrap();
    let rules = load_rules(&options.rules).unwrap();
    let mut memory = json(&audit_entitlements(&frame, &rules, &options).unwrap());
    let job = serde_json::json!({
        "rules": serde_json::from_str::<Value>(&payequity::scale::distributed::audit_rules("", &options).unwrap()).unwrap(),
        "options": serde_json::to_value(&options).unwrap(),
    });
    let mut distributed = distributed_document("audit-entitlements", &job.to_string(), &frame, 3);
    // The arrears table is the engine's (a DataFrame of its own), not part of the merged document.
    for document in [&mut memory, &mut distributed] {
        document.as_object_mut().unwrap().remove("arrears");
    }
    assert_same(&distributed, &memory, 1e-10, "audit");
    assert!(payequity::scale::distributed::analysis("dfl", "{}").is_err());
}
