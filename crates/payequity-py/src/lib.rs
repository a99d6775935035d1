//! The `payequity._core` extension module: converts Python inputs (any `__arrow_c_stream__` object, or a
//! file path) into a polars frame, deserializes options from JSON into the library's option structs, runs
//! the library with the GIL released, and returns the JSON result document. Nothing statistical here.

mod arrow_import;
mod distributed;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;

use payequity::decompose::{OaxacaOptions, OaxacaResult};
use payequity::distributional::{
    DflOptions, DflResult, NonlinearResult, ProfileOptions, QuantileProfile, RifOptions, RifRegressionResult, RifResult,
};
use payequity::equal_value::{EqualValueOptions, EqualValueResult};
use payequity::gap::{gap_table, GapOptions, GapResult};
use payequity::polars::prelude::DataFrame;
use payequity::scale::{Silent, Source, StreamOptions};
use payequity::transparency::{TransparencyOptions, TransparencyResult};

/// mimalloc keeps freed column buffers for reuse instead of returning them to the kernel (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(_core, PayEquityError, PyException, "Base class of payequity errors.");
create_exception!(_core, InputError, PayEquityError, "The data does not fit the payroll data contract.");
create_exception!(_core, ConfigError, PayEquityError, "A configuration key is missing, unknown or invalid.");
create_exception!(_core, StrictModeError, InputError, "Strict mode: rows would have been excluded.");

/// Maps a library error to the Python exception class of the same name, with the hint appended and the
/// context as attributes: `column`, `row` (1-based input row), `key` (config key) and `hint`, each `None`
/// when the error has none.
fn to_py_err(err: payequity::Error) -> PyErr {
    use payequity::Error;
    let hint = err.hint();
    let message = match &hint {
        Some(hint) => format!("{err}\nhint: {hint}"),
        None => err.to_string(),
    };
    let (column, row, key): (Option<String>, Option<u64>, Option<String>) = match &err {
        Error::MissingColumn { column, .. } | Error::ColumnType { column, .. } => (Some(column.clone()), None, None),
        Error::InvalidValue { column, row, .. } => (Some(column.clone()), Some(*row as u64), None),
        Error::Strict { column, rows, .. } => (Some(column.clone()), rows.first().copied(), None),
        Error::Config { key, .. } => (None, None, Some(key.clone())),
        _ => (None, None, None),
    };
    let py_err = match err.python_class() {
        "InputError" => InputError::new_err(message),
        "ConfigError" => ConfigError::new_err(message),
        "StrictModeError" => StrictModeError::new_err(message),
        _ => PayEquityError::new_err(message),
    };
    Python::attach(|py| {
        let value = py_err.value(py);
        for (name, attribute) in [
            ("column", column.into_py_any(py)),
            ("row", row.into_py_any(py)),
            ("key", key.into_py_any(py)),
            ("hint", hint.into_py_any(py)),
        ] {
            if let Ok(attribute) = attribute {
                let _ = value.setattr(name, attribute);
            }
        }
    });
    py_err
}

fn options_from_json<T: serde::de::DeserializeOwned>(text: &str) -> PyResult<T> {
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        ConfigError::new_err(format!("option `{path}`: {}", e.into_inner()))
    })
}

/// A table from a path (str / os.PathLike; only the `columns` (required, optional) are read when known) or
/// any object implementing the Arrow PyCapsule stream protocol.
fn table_from(data: &Bound<'_, PyAny>, columns: (Vec<String>, Vec<String>)) -> PyResult<DataFrame> {
    if let Ok(path) = data.extract::<std::path::PathBuf>() {
        let py = data.py();
        return py
            .detach(|| {
                if columns.0.is_empty() {
                    payequity::data::load_table(&path)
                } else {
                    payequity::data::load_table_columns(&path, &columns.0, &columns.1)
                }
            })
            .map_err(to_py_err);
    }
    arrow_import::import_stream(data)
}

/// A path to stream in batches (same document, bounded memory): a directory or a glob of payroll files
/// (read whole by the streamed path, in one place), or a file too large for the default memory budget
/// (2 GiB), as the CLI's `--engine auto` decides ([`StreamOptions::reads_in_memory`]).
fn streamed_input(data: &Bound<'_, PyAny>) -> Option<String> {
    let path = data.extract::<std::path::PathBuf>().ok()?;
    let text = path.to_string_lossy().to_string();
    if path.is_dir() || (!path.exists() && text.contains(['*', '?', '['])) {
        return Some(text);
    }
    if !path.is_file() {
        return None;
    }
    let source = Source::resolve(&text).ok()?;
    (!StreamOptions::default().reads_in_memory(&source, payequity::scale::Engine::Auto)).then_some(text)
}

/// `gap(data, options_json) -> result_json`: the raw gap analysis (see `payequity.gap`).
#[pyfunction]
fn gap(py: Python<'_>, data: &Bound<'_, PyAny>, options_json: &str) -> PyResult<String> {
    let options: GapOptions = options_from_json(options_json)?;
    // Long-format rows are pivoted in memory: a single long file is read whole, however large.
    let long = options.input.format == payequity::data::InputFormat::Long;
    let result = match streamed_input(data).filter(|p| !(long && std::path::Path::new(p).is_file())) {
        Some(input) => py.detach(|| {
            let source = Source::resolve(&input)?;
            payequity::gap::gap_source(&source, &options, &StreamOptions::default(), &Silent)
        }),
        None => {
            let frame = table_from(data, options.columns_used())?;
            py.detach(|| payequity::gap::gap(&frame, &options))
        }
    }
    .map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `gap_options_from_config(path) -> options_json`: the gap options an audit config describes.
#[pyfunction]
fn gap_options_from_config(path: std::path::PathBuf) -> PyResult<String> {
    let config = payequity::config::AuditConfig::from_file(&path).map_err(to_py_err)?;
    serde_json::to_string(&config.gap_options()).map_err(|e| PayEquityError::new_err(e.to_string()))
}

/// `gap_summary(result_json) -> str`: the same text table as `payequity gap --format table`.
#[pyfunction]
fn gap_summary(result_json: &str) -> PyResult<String> {
    let result: GapResult = options_from_json(result_json)?;
    Ok(payequity::report::gap_summary(&result))
}

/// `gap_table_csv(result_json) -> str`: the flat table as CSV (the shape of `to_polars()`).
#[pyfunction]
fn gap_table_csv(result_json: &str) -> PyResult<String> {
    let result: GapResult = options_from_json(result_json)?;
    let mut table = gap_table(&result).map_err(to_py_err)?;
    csv_text(&mut table)
}

/// `oaxaca(data, options_json) -> result_json`: the Oaxaca-Blinder decomposition (see `payequity.oaxaca`).
#[pyfunction]
fn oaxaca(py: Python<'_>, data: &Bound<'_, PyAny>, options_json: &str) -> PyResult<String> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    options.validate().map_err(to_py_err)?;
    let result = match streamed_input(data) {
        Some(input) => py.detach(|| {
            let source = Source::resolve(&input)?;
            payequity::scale::run(
                &payequity::decompose::OaxacaAnalysis::new(&options),
                &source,
                &StreamOptions::default(),
                &Silent,
            )
        }),
        None => {
            let frame = table_from(data, (options.columns_used(), options.optional_columns()))?;
            py.detach(|| payequity::decompose::oaxaca(&frame, &options))
        }
    }
    .map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// The rows of a RIF analysis, in memory (a directory or glob is read whole: the RIF of a quantile needs each
/// group's whole sample).
fn rif_frame(data: &Bound<'_, PyAny>, options: &OaxacaOptions) -> PyResult<DataFrame> {
    let used: Vec<String> = options.columns_used().into_iter().filter(|c| !c.is_empty()).collect();
    let path = data.extract::<std::path::PathBuf>().ok();
    let many =
        path.as_ref().is_some_and(|p| p.is_dir() || (!p.exists() && p.to_string_lossy().contains(['*', '?', '['])));
    if let (true, Some(path)) = (many, path) {
        let text = path.to_string_lossy().to_string();
        return data
            .py()
            .detach(|| {
                let source = Source::resolve(&text)?;
                let mut wanted = used.clone();
                wanted.extend(options.optional_columns().into_iter().filter(|c| source.column_names().contains(c)));
                payequity::scale::load_source(&source, &payequity::scale::Projection::new(&source, Some(&wanted)))
            })
            .map_err(to_py_err);
    }
    table_from(data, (used, options.optional_columns()))
}

/// `rif(data, options_json, rif_json) -> result_json`: the RIF decomposition (see `payequity.rif`).
#[pyfunction]
fn rif(py: Python<'_>, data: &Bound<'_, PyAny>, options_json: &str, rif_json: &str) -> PyResult<String> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    options.validate().map_err(to_py_err)?;
    let rif: RifOptions = options_from_json(rif_json)?;
    if let Some(input) = streamed_input(data).filter(|_| payequity::distributional::rif_streams(&options, &rif)) {
        let result = py
            .detach(|| {
                let source = Source::resolve(&input)?;
                payequity::scale::run(
                    &payequity::distributional::RifAnalysis::new(&options, &rif, &StreamOptions::default())?,
                    &source,
                    &StreamOptions::default(),
                    &Silent,
                )
            })
            .map_err(to_py_err)?;
        return payequity::report::to_json(&result).map_err(to_py_err);
    }
    let frame = rif_frame(data, &options)?;
    let result = py.detach(|| payequity::distributional::rif_decompose(&frame, &options, &rif)).map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `rif_regression(data, options_json, rif_json) -> result_json`: the RIF regression (see
/// `payequity.rif_regression`).
#[pyfunction]
fn rif_regression(py: Python<'_>, data: &Bound<'_, PyAny>, options_json: &str, rif_json: &str) -> PyResult<String> {
    let mut options: OaxacaOptions = options_from_json(options_json)?;
    options.group = String::new();
    options.group_a = "all".into();
    options.validate().map_err(to_py_err)?;
    let rif: RifOptions = options_from_json(rif_json)?;
    let frame = rif_frame(data, &options)?;
    let result = py.detach(|| payequity::distributional::rif_regression(&frame, &options, &rif)).map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `dfl(data, options_json, dfl_json) -> result_json`: the DFL decomposition (see `payequity.dfl`).
#[pyfunction]
fn dfl(py: Python<'_>, data: &Bound<'_, PyAny>, options_json: &str, dfl_json: &str) -> PyResult<String> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    options.validate().map_err(to_py_err)?;
    let dfl: DflOptions = options_from_json(dfl_json)?;
    let frame = rif_frame(data, &options)?;
    let result = py.detach(|| payequity::distributional::dfl(&frame, &options, &dfl)).map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `quantile_profile(data, options_json, profile_json) -> result_json` (see `payequity.quantile_profile`).
#[pyfunction]
fn quantile_profile(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    options_json: &str,
    profile_json: &str,
) -> PyResult<String> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    options.validate().map_err(to_py_err)?;
    let profile: ProfileOptions = options_from_json(profile_json)?;
    if let Some(input) = streamed_input(data).filter(|_| payequity::distributional::profile_streams(&options, &profile))
    {
        let result = py
            .detach(|| {
                let source = Source::resolve(&input)?;
                let stream = StreamOptions::default();
                let analysis = payequity::distributional::ProfileAnalysis::new(&options, &profile, &stream)?;
                payequity::scale::run(&analysis, &source, &stream, &Silent)
            })
            .map_err(to_py_err)?;
        return payequity::report::to_json(&result).map_err(to_py_err);
    }
    let frame = rif_frame(data, &options)?;
    let result =
        py.detach(|| payequity::distributional::quantile_profile(&frame, &options, &profile)).map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `quantile_profile_summary(result_json) -> str`: the same text table as `payequity quantile-profile`.
#[pyfunction]
fn quantile_profile_summary(result_json: &str) -> PyResult<String> {
    let result: QuantileProfile = options_from_json(result_json)?;
    Ok(payequity::distributional::profile_table(&result))
}

/// `nonlinear(data, options_json) -> result_json`: the Fairlie/Yun decomposition (see
/// `payequity.nonlinear_decompose`).
#[pyfunction]
#[pyo3(signature = (data, options_json, model="logit"))]
fn nonlinear(py: Python<'_>, data: &Bound<'_, PyAny>, options_json: &str, model: &str) -> PyResult<String> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    let model: payequity::distributional::BinaryModel =
        options_from_json(&serde_json::to_string(model).map_err(|e| PayEquityError::new_err(e.to_string()))?)?;
    options.validate().map_err(to_py_err)?;
    let frame = rif_frame(data, &options)?;
    let result =
        py.detach(|| payequity::distributional::nonlinear_decompose(&frame, &options, model)).map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `nonlinear_summary(result_json) -> str`: the same text table as `payequity nonlinear`.
#[pyfunction]
fn nonlinear_summary(result_json: &str) -> PyResult<String> {
    let result: NonlinearResult = options_from_json(result_json)?;
    Ok(payequity::distributional::nonlinear_table(&result))
}

/// `dfl_summary(result_json) -> str`: the same text table as `payequity dfl`.
#[pyfunction]
fn dfl_summary(result_json: &str) -> PyResult<String> {
    let result: DflResult = options_from_json(result_json)?;
    Ok(payequity::distributional::dfl_table(&result))
}

/// `rif_options_from_config(path) -> rif_json`: the `[rif]` options of an audit config.
#[pyfunction]
fn rif_options_from_config(path: std::path::PathBuf) -> PyResult<String> {
    let config = payequity::config::AuditConfig::from_file(&path).map_err(to_py_err)?;
    serde_json::to_string(&config.rif.unwrap_or_default()).map_err(|e| PayEquityError::new_err(e.to_string()))
}

/// `rif_summary(result_json, detail) -> str`: the same text table as `payequity rif`.
#[pyfunction]
#[pyo3(signature = (result_json, detail=false))]
fn rif_summary(result_json: &str, detail: bool) -> PyResult<String> {
    let result: RifResult = options_from_json(result_json)?;
    Ok(payequity::distributional::rif_table(&result, detail))
}

/// `rif_regression_summary(result_json) -> str`: the same text table as `payequity rif-regression`.
#[pyfunction]
fn rif_regression_summary(result_json: &str) -> PyResult<String> {
    let result: RifRegressionResult = options_from_json(result_json)?;
    Ok(payequity::distributional::rif_regression_table(&result))
}

/// `oaxaca_options_from_config(path) -> options_json`: the `[oaxaca]` options of an audit config.
#[pyfunction]
fn oaxaca_options_from_config(path: std::path::PathBuf) -> PyResult<String> {
    let config = payequity::config::AuditConfig::from_file(&path).map_err(to_py_err)?;
    serde_json::to_string(&config.oaxaca_options()).map_err(|e| PayEquityError::new_err(e.to_string()))
}

/// `oaxaca_summary(result_json, detail) -> str`: the same text table as `payequity oaxaca`.
#[pyfunction]
#[pyo3(signature = (result_json, detail=false))]
fn oaxaca_summary(result_json: &str, detail: bool) -> PyResult<String> {
    let result: OaxacaResult = options_from_json(result_json)?;
    Ok(payequity::decompose::oaxaca_table(&result, detail))
}

/// `oaxaca_table_csv(result_json) -> str`: one row per component × term, as `payequity oaxaca --format csv`.
#[pyfunction]
fn oaxaca_table_csv(result_json: &str) -> PyResult<String> {
    let result: OaxacaResult = options_from_json(result_json)?;
    let mut table = payequity::decompose::oaxaca_frame(&result).map_err(to_py_err)?;
    csv_text(&mut table)
}

fn csv_text(table: &mut DataFrame) -> PyResult<String> {
    use payequity::polars::prelude::{CsvWriter, SerWriter};
    let mut buffer = Vec::new();
    // Raw values: this text becomes a DataFrame (`to_polars`), not a spreadsheet (files and stdout neutralize).
    CsvWriter::new(&mut buffer).finish(table).map_err(|e| to_py_err(e.into()))?;
    String::from_utf8(buffer).map_err(|e| PayEquityError::new_err(e.to_string()))
}

/// `transparency(data, options_json) -> result_json`: the transparency report (see `payequity.transparency`).
#[pyfunction]
fn transparency(py: Python<'_>, data: &Bound<'_, PyAny>, options_json: &str) -> PyResult<String> {
    let options: TransparencyOptions = options_from_json(options_json)?;
    let result = match streamed_input(data) {
        Some(input) => py.detach(|| {
            let source = Source::resolve(&input)?;
            payequity::scale::run(
                &payequity::transparency::TransparencyAnalysis::new(&options),
                &source,
                &StreamOptions::default(),
                &Silent,
            )
        }),
        None => {
            let frame = table_from(data, options.columns_used())?;
            py.detach(|| payequity::transparency::transparency(&frame, &options))
        }
    }
    .map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `transparency_options_from_config(path) -> options_json`: `[transparency]` completed by the other sections.
#[pyfunction]
fn transparency_options_from_config(path: std::path::PathBuf) -> PyResult<String> {
    let config = payequity::config::AuditConfig::from_file(&path).map_err(to_py_err)?;
    let options = config.transparency_options().map_err(to_py_err)?;
    serde_json::to_string(&options).map_err(|e| PayEquityError::new_err(e.to_string()))
}

/// `transparency_summary(result_json) -> str`: the same text table as `payequity transparency`.
#[pyfunction]
fn transparency_summary(result_json: &str) -> PyResult<String> {
    let result: TransparencyResult = options_from_json(result_json)?;
    Ok(payequity::transparency::transparency_table(&result))
}

/// `transparency_table_csv(result_json) -> str`: `regime, indicator, group, value` as CSV.
#[pyfunction]
fn transparency_table_csv(result_json: &str) -> PyResult<String> {
    let result: TransparencyResult = options_from_json(result_json)?;
    let mut table = payequity::transparency::transparency_frame(&result).map_err(to_py_err)?;
    csv_text(&mut table)
}

/// `equal_value(data, options_json) -> result_json`: the equal-value analysis (see `payequity.equal_value`).
#[pyfunction]
fn equal_value(py: Python<'_>, data: &Bound<'_, PyAny>, options_json: &str) -> PyResult<String> {
    let options: EqualValueOptions = options_from_json(options_json)?;
    let result = match streamed_input(data) {
        Some(input) => py.detach(|| {
            let source = Source::resolve(&input)?;
            payequity::scale::run(
                &payequity::equal_value::EqualValueAnalysis::new(&options),
                &source,
                &StreamOptions::default(),
                &Silent,
            )
        }),
        None => {
            let frame = table_from(data, options.columns_used())?;
            py.detach(|| payequity::equal_value::equal_value(&frame, &options))
        }
    }
    .map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `equal_value_options_from_config(path) -> options_json`: `[equal_value]` completed by the other sections.
#[pyfunction]
fn equal_value_options_from_config(path: std::path::PathBuf) -> PyResult<String> {
    let config = payequity::config::AuditConfig::from_file(&path).map_err(to_py_err)?;
    let options = config.equal_value_options().map_err(to_py_err)?;
    serde_json::to_string(&options).map_err(|e| PayEquityError::new_err(e.to_string()))
}

/// `equal_value_summary(result_json) -> str`: the same text table as `payequity equal-value`.
#[pyfunction]
fn equal_value_summary(result_json: &str) -> PyResult<String> {
    let result: EqualValueResult = options_from_json(result_json)?;
    Ok(payequity::equal_value::equal_value_table(&result))
}

/// `equal_value_table_csv(result_json) -> str`: one row per job class as CSV.
#[pyfunction]
fn equal_value_table_csv(result_json: &str) -> PyResult<String> {
    let result: EqualValueResult = options_from_json(result_json)?;
    let mut table = payequity::equal_value::equal_value_frame(&result).map_err(to_py_err)?;
    csv_text(&mut table)
}

/// `scenario(config_path, scenarios_path, target=None, remediate=None, annex_path=None) -> result_json`:
/// bargaining scenarios, the cheapest route to `target` and the individual adjustments to `remediate` when
/// given; the adjusted workers go only to `annex_path` (see `payequity.scenario`).
#[pyfunction]
#[pyo3(signature = (config_path, scenarios_path, target=None, remediate=None, annex_path=None))]
fn scenario(
    py: Python<'_>,
    config_path: std::path::PathBuf,
    scenarios_path: std::path::PathBuf,
    target: Option<String>,
    remediate: Option<f64>,
    annex_path: Option<std::path::PathBuf>,
) -> PyResult<String> {
    py.detach(|| {
        let config = payequity::config::AuditConfig::from_file(&config_path)?;
        let set = payequity::scenario::ScenarioSet::from_file(&scenarios_path)?;
        let request = payequity::scenario::ScenarioRequest {
            target: target.as_deref().map(payequity::scenario::Target::parse).transpose()?,
            remediate,
            annex: annex_path.is_some(),
        };
        if request.remediate.is_none() && request.annex {
            return Err(payequity::Error::Invalid("`annex` lists the workers of `remediate`: give a threshold".into()));
        }
        let needed = set.columns_needed(&config)?;
        let columns = needed.as_ref().map(|(r, o)| (r.as_slice(), o.as_slice()));
        let (frame, _) = payequity::report::read_input_columns(&config, columns)?;
        let mut result = payequity::scenario::scenario_run(&frame, &config, &set, &request)?;
        if let (Some(path), Some(remediation)) = (&annex_path, result.remediation.as_mut()) {
            payequity::data::write_table(&mut payequity::scenario::remediation_frame(remediation)?, path)?;
            remediation.workers = None;
        }
        payequity::report::to_json(&result)
    })
    .map_err(to_py_err)
}

/// `scenario_summary(result_json) -> str`: the CLI's scenario table.
#[pyfunction]
fn scenario_summary(result_json: &str) -> PyResult<String> {
    let result: payequity::scenario::ScenarioResult = options_from_json(result_json)?;
    Ok(payequity::scenario::scenario_table(&result))
}

/// `scenario_table_csv(result_json) -> str`: the baseline and one row per scenario as CSV.
#[pyfunction]
fn scenario_table_csv(result_json: &str) -> PyResult<String> {
    let result: payequity::scenario::ScenarioResult = options_from_json(result_json)?;
    let mut table = payequity::scenario::scenario_frame(&result).map_err(to_py_err)?;
    csv_text(&mut table)
}

/// `scenario_chart(result_json) -> str`: the SVG chart of mean gap against annual cost.
#[pyfunction]
fn scenario_chart(result_json: &str) -> PyResult<String> {
    let result: payequity::scenario::ScenarioResult = options_from_json(result_json)?;
    Ok(payequity::scenario::scenario_chart(&result))
}

/// `audit_entitlements(data, rules_json, options_json) -> (result_json, arrears_ipc)`: the entitlement
/// audit (see `payequity.audit_entitlements`). `rules_json` is a rule set as JSON (a Python dict) or empty
/// to read `options.rules` (paths); the arrears table comes back as Arrow IPC bytes.
#[pyfunction]
fn audit_entitlements(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    rules_json: &str,
    options_json: &str,
) -> PyResult<(String, Vec<u8>)> {
    use payequity::entitlements::{columns_needed, load_rules, EntitlementOptions, RuleSet};
    use payequity::polars::prelude::{IpcWriter, SerWriter};
    let options: EntitlementOptions = options_from_json(options_json)?;
    let rules =
        if rules_json.is_empty() { load_rules(&options.rules) } else { RuleSet::from_json(rules_json, "rules") }
            .map_err(to_py_err)?;
    let result = if let Some(input) = streamed_input(data) {
        py.detach(|| {
            let source = Source::resolve(&input)?;
            payequity::scale::run(
                &payequity::entitlements::AuditAnalysis::new(&rules, &options),
                &source,
                &StreamOptions::default(),
                &Silent,
            )
        })
    } else {
        let frame = if let Ok(path) = data.extract::<std::path::PathBuf>() {
            py.detach(|| {
                let schema = payequity::data::table_schema(&path)?;
                let columns = columns_needed(&schema, &rules, &options)?;
                payequity::data::load_table_columns(&path, &columns, &[])
            })
            .map_err(to_py_err)?
        } else {
            arrow_import::import_stream(data)?
        };
        py.detach(|| payequity::entitlements::audit_entitlements(&frame, &rules, &options))
    }
    .map_err(to_py_err)?;
    let mut buffer = Vec::new();
    let mut arrears = result.arrears.clone();
    IpcWriter::new(&mut buffer).finish(&mut arrears).map_err(|e| to_py_err(e.into()))?;
    Ok((payequity::report::to_json(&result).map_err(to_py_err)?, buffer))
}

/// `entitlement_options_from_config(path) -> options_json`: `[entitlements]` completed by `[columns]`.
#[pyfunction]
fn entitlement_options_from_config(path: std::path::PathBuf) -> PyResult<String> {
    let config = payequity::config::AuditConfig::from_file(&path).map_err(to_py_err)?;
    let options = config.entitlement_options().map_err(to_py_err)?;
    serde_json::to_string(&options).map_err(|e| PayEquityError::new_err(e.to_string()))
}

/// `entitlement_summary(result_json) -> str`: the same text as `payequity audit-entitlements`.
#[pyfunction]
fn entitlement_summary(result_json: &str) -> PyResult<String> {
    let result: payequity::entitlements::EntitlementAudit = options_from_json(result_json)?;
    Ok(payequity::entitlements::entitlement_table(&result))
}

/// `entitlement_table_csv(result_json) -> str`: the summary by rule as CSV.
#[pyfunction]
fn entitlement_table_csv(result_json: &str) -> PyResult<String> {
    let result: payequity::entitlements::EntitlementAudit = options_from_json(result_json)?;
    let mut table = payequity::entitlements::entitlement_frame(&result).map_err(to_py_err)?;
    csv_text(&mut table)
}

/// `generate(options_json, out) -> truth_json`: writes a synthetic payroll to `out` and returns its truths.
#[pyfunction]
fn generate(py: Python<'_>, options_json: &str, out: std::path::PathBuf) -> PyResult<String> {
    let options: payequity::synthetic::GeneratorOptions = options_from_json(options_json)?;
    py.detach(|| {
        let mut synthetic = payequity::synthetic::generate(&options)?;
        payequity::synthetic::write_synthetic(&mut synthetic, &out)?;
        Ok(synthetic.truth.to_string())
    })
    .map_err(to_py_err)
}

/// `render_html(result_json) -> str`: the result's section of the HTML report, with the report's style.
#[pyfunction]
fn render_html(result_json: &str) -> PyResult<String> {
    let document: serde_json::Value = options_from_json(result_json)?;
    payequity::report::fragment_html(&document).map_err(to_py_err)
}

/// `report(config_path, config_json, out) -> (report_json, report_html, summary_md)`: every analysis of an
/// audit config (a file, or a dict given as JSON whose relative paths start at the working directory);
/// writes the evidence pack into `out` when given.
#[pyfunction]
#[pyo3(signature = (config_path, config_json, out))]
fn report(
    py: Python<'_>,
    config_path: Option<std::path::PathBuf>,
    config_json: Option<&str>,
    out: Option<std::path::PathBuf>,
) -> PyResult<(String, String, String)> {
    let config = match (config_path, config_json) {
        (Some(path), _) => payequity::config::AuditConfig::from_file(&path).map_err(to_py_err)?,
        (None, Some(text)) => {
            let value: serde_json::Value = options_from_json(text)?;
            let table = toml::Value::try_from(value).map_err(|e| ConfigError::new_err(format!("config: {e}")))?;
            let text = toml::to_string(&table).map_err(|e| ConfigError::new_err(format!("config: {e}")))?;
            payequity::config::AuditConfig::from_toml(&text, "<dict>").map_err(to_py_err)?
        }
        (None, None) => return Err(ConfigError::new_err("report needs a config path or dict")),
    };
    py.detach(|| {
        let report = payequity::report::run_audit(&config, &mut |_| {})?;
        let generated_at = payequity::report::generated_at();
        if let Some(out) = &out {
            payequity::report::write_evidence(&report, out, &generated_at)?;
        }
        Ok((
            payequity::report::to_json(&report)?,
            payequity::report::report_page(&report, &generated_at)?,
            payequity::report::summary_markdown(&report),
        ))
    })
    .map_err(to_py_err)
}

/// Runs the `payequity` command (the same code as the binary) with `args` (program name first) and returns
/// its exit code; the console script `payequity` and `python -m payequity` call it. The GIL is released
/// while the command runs.
#[pyfunction]
fn cli_main(py: Python<'_>, args: Vec<String>) -> u8 {
    py.detach(|| payequity_cli::run(args))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    payequity::allocator::configure();
    // PEP 440 local version: the release, then the commit (`0.1.0+g1a2b3c4d5e6f`).
    m.add("__version__", format!("{}+g{}", payequity::VERSION, payequity::COMMIT))?;
    m.add("__commit__", payequity::COMMIT)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add("PayEquityError", m.py().get_type::<PayEquityError>())?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("ConfigError", m.py().get_type::<ConfigError>())?;
    m.add("StrictModeError", m.py().get_type::<StrictModeError>())?;
    m.add_function(wrap_pyfunction!(gap, m)?)?;
    m.add_function(wrap_pyfunction!(render_html, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(gap_summary, m)?)?;
    m.add_function(wrap_pyfunction!(gap_options_from_config, m)?)?;
    m.add_function(wrap_pyfunction!(gap_table_csv, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca, m)?)?;
    m.add_function(wrap_pyfunction!(rif, m)?)?;
    m.add_function(wrap_pyfunction!(dfl, m)?)?;
    m.add_function(wrap_pyfunction!(nonlinear, m)?)?;
    m.add_function(wrap_pyfunction!(nonlinear_summary, m)?)?;
    m.add_function(wrap_pyfunction!(quantile_profile, m)?)?;
    m.add_function(wrap_pyfunction!(quantile_profile_summary, m)?)?;
    m.add_function(wrap_pyfunction!(dfl_summary, m)?)?;
    m.add_function(wrap_pyfunction!(rif_regression, m)?)?;
    m.add_function(wrap_pyfunction!(rif_options_from_config, m)?)?;
    m.add_function(wrap_pyfunction!(rif_summary, m)?)?;
    m.add_function(wrap_pyfunction!(rif_regression_summary, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_options_from_config, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_summary, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_table_csv, m)?)?;
    m.add_function(wrap_pyfunction!(transparency, m)?)?;
    m.add_function(wrap_pyfunction!(equal_value, m)?)?;
    m.add_function(wrap_pyfunction!(equal_value_options_from_config, m)?)?;
    m.add_function(wrap_pyfunction!(equal_value_summary, m)?)?;
    m.add_function(wrap_pyfunction!(equal_value_table_csv, m)?)?;
    m.add_function(wrap_pyfunction!(scenario, m)?)?;
    m.add_function(wrap_pyfunction!(scenario_summary, m)?)?;
    m.add_function(wrap_pyfunction!(scenario_table_csv, m)?)?;
    m.add_function(wrap_pyfunction!(scenario_chart, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_options_from_config, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_summary, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_table_csv, m)?)?;
    m.add_function(wrap_pyfunction!(audit_entitlements, m)?)?;
    m.add_function(wrap_pyfunction!(entitlement_options_from_config, m)?)?;
    m.add_function(wrap_pyfunction!(entitlement_summary, m)?)?;
    m.add_function(wrap_pyfunction!(entitlement_table_csv, m)?)?;
    distributed::register(m)?;
    Ok(())
}
