//! The generic entry points of `payequity.spark` and `payequity.dask`: every analysis the engine knows
//! (`payequity::scale::distributed::KINDS`) by its kind and options as JSON, with the GIL released. The
//! plan of passes lives in the analyses themselves; this file only converts.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use payequity::entitlements::EntitlementOptions;
use payequity::polars::prelude::{IpcWriter, SerWriter};
use payequity::scale::distributed as dist;
use payequity::scale::Step;

use crate::{arrow_import, options_from_json, to_py_err};

fn bytes<'py>(py: Python<'py>, result: payequity::Result<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
    let data = result.map_err(to_py_err)?;
    Ok(PyBytes::new(py, &data))
}

/// `analysis_plan(kind, options_json, empty) -> (columns_read, partition_by, first_pass)`: the input's
/// (empty) schema checked with the in-memory messages, the partitioning the analysis needs, and its first
/// pass as bytes.
#[pyfunction]
pub fn analysis_plan<'py>(
    py: Python<'py>,
    kind: &str,
    options_json: &str,
    empty: &Bound<'py, PyAny>,
) -> PyResult<(Vec<String>, Option<String>, Bound<'py, PyBytes>)> {
    let analysis = dist::analysis(kind, options_json).map_err(to_py_err)?;
    let frame = arrow_import::import_stream(empty)?;
    let (columns, pass) = py.detach(|| analysis.plan(&frame)).map_err(to_py_err)?;
    Ok((columns.read, columns.partition_by, PyBytes::new(py, &pass)))
}

/// `analysis_partial(kind, options_json, pass, partition) -> bytes`: the state of one partition (rows
/// sorted by `__pe_row`).
#[pyfunction]
pub fn analysis_partial<'py>(
    py: Python<'py>,
    kind: &str,
    options_json: &str,
    pass: &[u8],
    partition: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let analysis = dist::analysis(kind, options_json).map_err(to_py_err)?;
    let frame = arrow_import::import_stream(partition)?;
    let state = py.detach(|| analysis.partial(pass, &frame));
    bytes(py, state)
}

/// `analysis_merge(kind, options_json, pass, a, b) -> bytes`.
#[pyfunction]
pub fn analysis_merge<'py>(
    py: Python<'py>,
    kind: &str,
    options_json: &str,
    pass: &[u8],
    a: &[u8],
    b: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let analysis = dist::analysis(kind, options_json).map_err(to_py_err)?;
    let state = py.detach(|| analysis.merge(pass, a, b));
    bytes(py, state)
}

/// `analysis_next(kind, options_json, pass, state) -> ("pass", bytes) | ("done", document_json)`.
#[pyfunction]
pub fn analysis_next<'py>(
    py: Python<'py>,
    kind: &str,
    options_json: &str,
    pass: &[u8],
    state: &[u8],
) -> PyResult<(String, Bound<'py, PyAny>)> {
    let analysis = dist::analysis(kind, options_json).map_err(to_py_err)?;
    match py.detach(|| analysis.next(pass, state)).map_err(to_py_err)? {
        Step::Pass(next) => Ok(("pass".into(), PyBytes::new(py, &next).into_any())),
        Step::Done(document) => Ok(("done".into(), document.into_pyobject(py)?.into_any())),
    }
}

/// `analysis_rows(kind, options_json, pass, partition) -> bytes | None`: the analysis' row-level table of
/// one partition (Arrow IPC file bytes), e.g. the audit's arrears.
#[pyfunction]
pub fn analysis_rows<'py>(
    py: Python<'py>,
    kind: &str,
    options_json: &str,
    pass: &[u8],
    partition: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let analysis = dist::analysis(kind, options_json).map_err(to_py_err)?;
    let frame = arrow_import::import_stream(partition)?;
    let table = py
        .detach(|| {
            let Some(mut table) = analysis.rows(pass, &frame)? else { return Ok(None) };
            let mut buffer = Vec::new();
            IpcWriter::new(&mut buffer).finish(&mut table)?;
            Ok::<_, payequity::Error>(Some(buffer))
        })
        .map_err(to_py_err)?;
    Ok(table.map(|t| PyBytes::new(py, &t)))
}

/// `audit_rules(rules_json, options_json) -> str`: the rule set as JSON for the workers, read once on the
/// driver from `rules_json` or the rule files of the options.
#[pyfunction]
pub fn audit_rules(rules_json: &str, options_json: &str) -> PyResult<String> {
    let options: EntitlementOptions = options_from_json(options_json)?;
    dist::audit_rules(rules_json, &options).map_err(to_py_err)
}

/// Registers the functions of this file.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(analysis_plan, m)?)?;
    m.add_function(wrap_pyfunction!(analysis_partial, m)?)?;
    m.add_function(wrap_pyfunction!(analysis_merge, m)?)?;
    m.add_function(wrap_pyfunction!(analysis_next, m)?)?;
    m.add_function(wrap_pyfunction!(analysis_rows, m)?)?;
    m.add_function(wrap_pyfunction!(audit_rules, m)?)?;
    Ok(())
}
