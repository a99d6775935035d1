//! Partial states for `payequity.spark` and `payequity.dask`: each function takes a partition (any Arrow
//! stream) or state bytes and returns state bytes or a result document, with the GIL released. The plan of
//! passes lives in `payequity::scale::distributed`; this file only converts.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use payequity::decompose::OaxacaOptions;
use payequity::entitlements::EntitlementOptions;
use payequity::equal_value::EqualValueOptions;
use payequity::gap::GapOptions;
use payequity::scale::distributed as dist;
use payequity::transparency::TransparencyOptions;

use crate::{arrow_import, options_from_json, to_py_err};

fn bytes<'py>(py: Python<'py>, result: payequity::Result<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
    let data = result.map_err(to_py_err)?;
    Ok(PyBytes::new(py, &data))
}

/// `gap_partition_column(columns, options_json) -> str | None`: the column to partition gap rows by.
#[pyfunction]
pub fn gap_partition_column(columns: Vec<String>, options_json: &str) -> PyResult<Option<String>> {
    let options: GapOptions = options_from_json(options_json)?;
    Ok(dist::gap_partition_column(&columns, &options))
}

/// `gap_partial(partition, options_json) -> bytes`.
#[pyfunction]
pub fn gap_partial<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    options_json: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let options: GapOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    let state = py.detach(|| dist::gap_partial(&frame, &options));
    bytes(py, state)
}

/// `gap_merge(a, b) -> bytes`.
#[pyfunction]
pub fn gap_merge<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let state = py.detach(|| dist::gap_merge(a, b));
    bytes(py, state)
}

/// `gap_finish(state, options_json) -> result_json`.
#[pyfunction]
pub fn gap_finish(py: Python<'_>, state: &[u8], options_json: &str) -> PyResult<String> {
    let options: GapOptions = options_from_json(options_json)?;
    let result = py.detach(|| dist::gap_finish(state, &options)).map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `oaxaca_key_columns(columns, options_json) -> (id, period) | None`: the key whose later rows the engine
/// flags in `__pe_duplicate`.
#[pyfunction]
pub fn oaxaca_key_columns(columns: Vec<String>, options_json: &str) -> PyResult<Option<(String, String)>> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    Ok(dist::oaxaca_key_columns(&columns, &options))
}

/// `oaxaca_facts(partition, options_json) -> bytes` (pass 1).
#[pyfunction]
pub fn oaxaca_facts<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    options_json: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    let state = py.detach(|| dist::oaxaca_facts(&frame, &options));
    bytes(py, state)
}

/// `oaxaca_facts_merge(a, b) -> bytes`.
#[pyfunction]
pub fn oaxaca_facts_merge<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let state = py.detach(|| dist::oaxaca_facts_merge(a, b));
    bytes(py, state)
}

/// `oaxaca_moments(partition, facts, options_json) -> bytes` (pass 2).
#[pyfunction]
pub fn oaxaca_moments<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    facts: &[u8],
    options_json: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    let state = py.detach(|| dist::oaxaca_moments(&frame, facts, &options));
    bytes(py, state)
}

/// `oaxaca_moments_merge(a, b) -> bytes`.
#[pyfunction]
pub fn oaxaca_moments_merge<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let state = py.detach(|| dist::oaxaca_moments_merge(a, b));
    bytes(py, state)
}

/// `oaxaca_finish(facts, moments, scores, duplicates, options_json) -> ("done", result_json) |
/// ("residuals", models_bytes)`: with robust SEs the first call asks for the residual pass.
#[pyfunction]
#[pyo3(signature = (facts, moments, scores, duplicates, options_json))]
pub fn oaxaca_finish<'py>(
    py: Python<'py>,
    facts: &[u8],
    moments: &[u8],
    scores: Option<&[u8]>,
    duplicates: bool,
    options_json: &str,
) -> PyResult<(String, Bound<'py, PyAny>)> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    let outcome = py.detach(|| dist::oaxaca_finish(facts, moments, scores, duplicates, &options)).map_err(to_py_err)?;
    match outcome {
        dist::OaxacaFinish::Done(result) => {
            let text = payequity::report::to_json(result.as_ref()).map_err(to_py_err)?;
            Ok(("done".into(), text.into_pyobject(py)?.into_any()))
        }
        dist::OaxacaFinish::NeedsResiduals(models) => Ok(("residuals".into(), PyBytes::new(py, &models).into_any())),
    }
}

/// `oaxaca_scores(partition, facts, models, options_json) -> bytes` (pass 3, robust SEs).
#[pyfunction]
pub fn oaxaca_scores<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    facts: &[u8],
    models: &[u8],
    options_json: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let options: OaxacaOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    let state = py.detach(|| dist::oaxaca_scores(&frame, facts, models, &options));
    bytes(py, state)
}

/// `oaxaca_scores_merge(a, b) -> bytes`.
#[pyfunction]
pub fn oaxaca_scores_merge<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let state = py.detach(|| dist::oaxaca_scores_merge(a, b));
    bytes(py, state)
}

/// `transparency_check_columns(empty_table, options_json)`: the in-memory column errors, raised.
#[pyfunction]
pub fn transparency_check_columns(data: &Bound<'_, PyAny>, options_json: &str) -> PyResult<()> {
    let options: TransparencyOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    dist::transparency_check_columns(&frame, &options).map_err(to_py_err)
}

/// `transparency_period_column(columns, options_json) -> str | None`: the column of pass 1 (distinct periods).
#[pyfunction]
pub fn transparency_period_column(columns: Vec<String>, options_json: &str) -> PyResult<Option<String>> {
    let options: TransparencyOptions = options_from_json(options_json)?;
    Ok(dist::transparency_period_column(&columns, &options))
}

/// `transparency_partition_column(columns, options_json) -> str | None`: the column to partition rows by.
#[pyfunction]
pub fn transparency_partition_column(columns: Vec<String>, options_json: &str) -> PyResult<Option<String>> {
    let options: TransparencyOptions = options_from_json(options_json)?;
    Ok(dist::transparency_partition_column(&columns, &options))
}

/// `transparency_periods(partition, column) -> bytes` (pass 1).
#[pyfunction]
pub fn transparency_periods<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    column: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let frame = arrow_import::import_stream(data)?;
    let state = py.detach(|| dist::transparency_periods(&frame, column));
    bytes(py, state)
}

/// `transparency_periods_merge(a, b) -> bytes`.
#[pyfunction]
pub fn transparency_periods_merge<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let state = py.detach(|| dist::transparency_periods_merge(a, b));
    bytes(py, state)
}

/// `transparency_partial(partition, options_json, periods) -> bytes` (pass 2; `periods` from pass 1 or None).
#[pyfunction]
#[pyo3(signature = (data, options_json, periods=None))]
pub fn transparency_partial<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    options_json: &str,
    periods: Option<Vec<u8>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let options: TransparencyOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    let state = py.detach(|| dist::transparency_partial(&frame, &options, periods.as_deref()));
    bytes(py, state)
}

/// `transparency_merge(a, b) -> bytes`.
#[pyfunction]
pub fn transparency_merge<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let state = py.detach(|| dist::transparency_merge(a, b));
    bytes(py, state)
}

/// `transparency_finish(state, options_json, columns, periods) -> result_json`.
#[pyfunction]
#[pyo3(signature = (state, options_json, columns, periods=None))]
pub fn transparency_finish(
    py: Python<'_>,
    state: &[u8],
    options_json: &str,
    columns: Vec<String>,
    periods: Option<Vec<u8>>,
) -> PyResult<String> {
    let options: TransparencyOptions = options_from_json(options_json)?;
    let result =
        py.detach(|| dist::transparency_finish(state, &options, &columns, periods.as_deref())).map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `equal_value_check_columns(empty_table, options_json)`: the in-memory column errors, raised.
#[pyfunction]
pub fn equal_value_check_columns(data: &Bound<'_, PyAny>, options_json: &str) -> PyResult<()> {
    let options: EqualValueOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    dist::equal_value_check_columns(&frame, &options).map_err(to_py_err)
}

/// `equal_value_partition_column(columns, options_json) -> str | None`: the column to partition rows by.
#[pyfunction]
pub fn equal_value_partition_column(columns: Vec<String>, options_json: &str) -> PyResult<Option<String>> {
    let options: EqualValueOptions = options_from_json(options_json)?;
    Ok(dist::equal_value_partition_column(&columns, &options))
}

/// `equal_value_partial(partition, options_json) -> bytes`.
#[pyfunction]
pub fn equal_value_partial<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    options_json: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let options: EqualValueOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    let state = py.detach(|| dist::equal_value_partial(&frame, &options));
    bytes(py, state)
}

/// `equal_value_merge(a, b) -> bytes`.
#[pyfunction]
pub fn equal_value_merge<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let state = py.detach(|| dist::equal_value_merge(a, b));
    bytes(py, state)
}

/// `equal_value_finish(state, options_json) -> result_json`.
#[pyfunction]
pub fn equal_value_finish(py: Python<'_>, state: &[u8], options_json: &str) -> PyResult<String> {
    let options: EqualValueOptions = options_from_json(options_json)?;
    let result = py.detach(|| dist::equal_value_finish_state(state, &options)).map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// `audit_rules(rules_json, options_json) -> rules_json`: the rule set read once on the driver.
#[pyfunction]
pub fn audit_rules(rules_json: &str, options_json: &str) -> PyResult<String> {
    let options: EntitlementOptions = options_from_json(options_json)?;
    dist::audit_rules(rules_json, &options).map_err(to_py_err)
}

/// `audit_check(empty_table, rules_json, options_json)`: the in-memory column and rule errors, raised.
#[pyfunction]
pub fn audit_check(data: &Bound<'_, PyAny>, rules_json: &str, options_json: &str) -> PyResult<()> {
    let options: EntitlementOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    dist::audit_check(&frame, rules_json, &options).map_err(to_py_err)
}

/// `audit_partition_column(options_json) -> str`: the employee id column to partition rows by.
#[pyfunction]
pub fn audit_partition_column(options_json: &str) -> PyResult<String> {
    let options: EntitlementOptions = options_from_json(options_json)?;
    Ok(dist::audit_partition_column(&options))
}

/// `audit_partial(partition, rules_json, options_json) -> bytes`.
#[pyfunction]
pub fn audit_partial<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    rules_json: &str,
    options_json: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let options: EntitlementOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    let state = py.detach(|| dist::audit_partial(&frame, rules_json, &options));
    bytes(py, state)
}

/// `audit_arrears(partition, rules_json, options_json) -> bytes`: the partition's arrears rows (Arrow IPC).
#[pyfunction]
pub fn audit_arrears<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    rules_json: &str,
    options_json: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    use payequity::polars::prelude::{IpcWriter, SerWriter};
    let options: EntitlementOptions = options_from_json(options_json)?;
    let frame = arrow_import::import_stream(data)?;
    let table = py.detach(|| {
        let mut table = dist::audit_arrears(&frame, rules_json, &options)?;
        let mut buffer = Vec::new();
        IpcWriter::new(&mut buffer).finish(&mut table)?;
        Ok::<_, payequity::Error>(buffer)
    });
    bytes(py, table)
}

/// `audit_merge(a, b) -> bytes`.
#[pyfunction]
pub fn audit_merge<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let state = py.detach(|| dist::audit_merge(a, b));
    bytes(py, state)
}

/// `audit_finish(state, rules_json, options_json) -> result_json`.
#[pyfunction]
pub fn audit_finish(py: Python<'_>, state: &[u8], rules_json: &str, options_json: &str) -> PyResult<String> {
    let options: EntitlementOptions = options_from_json(options_json)?;
    let result = py.detach(|| dist::audit_finish(state, rules_json, &options)).map_err(to_py_err)?;
    payequity::report::to_json(&result).map_err(to_py_err)
}

/// Registers the functions of this file.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gap_partition_column, m)?)?;
    m.add_function(wrap_pyfunction!(gap_partial, m)?)?;
    m.add_function(wrap_pyfunction!(gap_merge, m)?)?;
    m.add_function(wrap_pyfunction!(gap_finish, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_key_columns, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_facts, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_facts_merge, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_moments, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_moments_merge, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_finish, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_scores, m)?)?;
    m.add_function(wrap_pyfunction!(oaxaca_scores_merge, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_check_columns, m)?)?;
    m.add_function(wrap_pyfunction!(audit_rules, m)?)?;
    m.add_function(wrap_pyfunction!(audit_check, m)?)?;
    m.add_function(wrap_pyfunction!(audit_partition_column, m)?)?;
    m.add_function(wrap_pyfunction!(audit_partial, m)?)?;
    m.add_function(wrap_pyfunction!(audit_arrears, m)?)?;
    m.add_function(wrap_pyfunction!(audit_merge, m)?)?;
    m.add_function(wrap_pyfunction!(audit_finish, m)?)?;
    m.add_function(wrap_pyfunction!(equal_value_check_columns, m)?)?;
    m.add_function(wrap_pyfunction!(equal_value_partition_column, m)?)?;
    m.add_function(wrap_pyfunction!(equal_value_partial, m)?)?;
    m.add_function(wrap_pyfunction!(equal_value_merge, m)?)?;
    m.add_function(wrap_pyfunction!(equal_value_finish, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_period_column, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_partition_column, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_periods, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_periods_merge, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_partial, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_merge, m)?)?;
    m.add_function(wrap_pyfunction!(transparency_finish, m)?)?;
    Ok(())
}
