"""Conversion of Python inputs into something the Rust core reads: a path, or an Arrow C stream."""

from __future__ import annotations

import os
from typing import Any


def as_table(data: Any) -> Any:
    """Return `data` in a form `payequity._core` accepts.

    Paths (str / os.PathLike) are read by the Rust core. Objects exposing ``__arrow_c_stream__`` (polars and
    pyarrow tables, duckdb results, ...) are passed through without copying. pandas DataFrames go through
    pyarrow, and polars LazyFrames are collected.
    """
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    if hasattr(data, "__arrow_c_stream__"):
        return data
    module = type(data).__module__
    if module.startswith("pandas"):
        import pyarrow as pa  # type: ignore[import-untyped]

        return pa.Table.from_pandas(data, preserve_index=False)
    if module.startswith("polars") and hasattr(data, "collect"):
        return data.collect()
    if hasattr(data, "to_arrow"):
        return data.to_arrow()
    return data
