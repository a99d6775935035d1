//! Zero-copy import of any Arrow producer (pyarrow, polars, pandas via pyarrow, duckdb ...) through the
//! Arrow PyCapsule Interface (`__arrow_c_stream__`), using polars-arrow's C stream reader.

use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use payequity::polars::prelude::*;
use polars_arrow::array::{Array, StructArray};
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::ffi::{ArrowArrayStream, ArrowArrayStreamReader};

use crate::InputError;

fn input_error(e: impl std::fmt::Display) -> PyErr {
    InputError::new_err(format!("cannot read the Arrow stream: {e}"))
}

/// Reads every record batch of the object's Arrow C stream into one polars frame.
pub fn import_stream(data: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    if !data.hasattr("__arrow_c_stream__")? {
        let kind = data.get_type().name()?.to_string();
        return Err(InputError::new_err(format!(
            "a {kind} is not a table: pass a polars/pandas DataFrame, a pyarrow Table, a file path, or any object with __arrow_c_stream__"
        )));
    }
    let capsule = data.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast_into::<PyCapsule>().map_err(|e| input_error(e.to_string()))?;
    let pointer = capsule.pointer_checked(Some(c"arrow_array_stream"))?.cast::<ArrowArrayStream>();
    // SAFETY: the capsule holds a valid ArrowArrayStream (the PyCapsule protocol); we move it out and leave
    // a released (empty) stream behind so the capsule's destructor does not release it a second time.
    let stream = unsafe { std::ptr::replace(pointer.as_ptr(), ArrowArrayStream::empty()) };
    // SAFETY: the stream was produced by an Arrow C stream implementation and is now owned here.
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(Box::new(stream)) }.map_err(input_error)?;
    let ArrowDataType::Struct(fields) = reader.field().dtype().clone() else {
        return Err(input_error("the stream's schema is not a struct (record batch) schema"));
    };
    let mut chunks: Vec<Vec<Box<dyn Array>>> = vec![Vec::new(); fields.len()];
    // SAFETY: the reader owns the stream; batches are imported with their schema.
    while let Some(batch) = unsafe { reader.next() } {
        let batch = batch.map_err(input_error)?;
        let batch = batch
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| input_error("a record batch is not a struct array"))?;
        for (i, values) in batch.values().iter().enumerate() {
            chunks[i].push(values.clone());
        }
    }
    let columns = fields
        .iter()
        .zip(chunks)
        .map(|(field, arrays)| {
            let series = if arrays.is_empty() {
                Series::new_empty(field.name.clone(), &DataType::from_arrow_field(field))
            } else {
                Series::try_from((field, arrays)).map_err(input_error)?
            };
            Ok(series.into_column())
        })
        .collect::<PyResult<Vec<Column>>>()?;
    DataFrame::new_infer_height(columns).map_err(input_error)
}
