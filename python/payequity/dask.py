"""payequity on Dask: the in-memory functions' keywords and results, on a ``dask.dataframe.DataFrame``.

>>> import dask.dataframe as dd, payequity as pe                                  # doctest: +SKIP
>>> payroll = dd.read_parquet("payroll/")                                        # doctest: +SKIP
>>> pe.dask.gap(payroll, pay=["base_pay"], hours="hours_paid", by=["grade"])    # doctest: +SKIP

Each partition computes a small partial state in the Rust core (``map_partitions`` through
``to_delayed``); the states are merged in a tree and finished on the client. Rows are numbered in partition
order first (the order the in-memory function would see), and an employee's rows are shuffled into one
partition, so the document equals ``pe.gap`` / ``pe.oaxaca`` / ``pe.transparency`` on ``payroll.compute()``: counts, medians and
the ledger exactly, estimates to 1e-10. Install with ``pip install 'payequity[dask]'``. See docs/scale.md.
"""

from __future__ import annotations

from typing import Any

from payequity import _distributed
from payequity._dfl import QuantileProfileResult
from payequity._distributed import DistributedEntitlementAudit
from payequity._equal_value import EqualValueResult
from payequity._gap import GapResult
from payequity._oaxaca import OaxacaResult
from payequity._rif import RifResult
from payequity._transparency import TransparencyResult

__all__ = ["audit_entitlements", "equal_value", "gap", "oaxaca", "quantile_profile", "rif", "transparency"]


def _number(part: Any, offset: int) -> Any:
    import numpy as np

    part = part.copy()
    part[_distributed.ROW_COLUMN] = np.arange(offset, offset + len(part), dtype="int64")
    return part


class _DaskEngine:
    def __init__(self, frame: Any) -> None:
        self._frame = frame
        self._prepared: Any = None

    def columns(self) -> list[str]:
        return [str(c) for c in self._frame.columns]

    def empty_table(self) -> Any:
        import pyarrow as pa  # type: ignore[import-untyped]

        import numpy as np

        # Types from real rows (an empty meta frame types text columns as null).
        head = self._frame.head(1, npartitions=-1)
        head = head.assign(**{_distributed.ROW_COLUMN: np.zeros(len(head), dtype="int64")})
        return pa.Table.from_pandas(head, preserve_index=False).slice(0, 0)

    def prepare(self, employee: str | None) -> None:
        import dask.dataframe as dd
        import numpy as np
        from dask.delayed import delayed

        lengths = [int(n) for n in self._frame.map_partitions(len).compute()]
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype("int64")
        parts = self._frame.to_delayed()
        meta = self._frame._meta.assign(**{_distributed.ROW_COLUMN: np.array([], dtype="int64")})
        numbered = dd.from_delayed([delayed(_number)(p, int(o)) for p, o in zip(parts, offsets)], meta=meta)
        if employee is not None:
            numbered = numbered.shuffle(on=employee)
        self._prepared = numbered.persist()

    def map_partitions(self, fn: _distributed.PartitionFn) -> list[bytes]:
        import pyarrow as pa
        from dask.base import compute
        from dask.delayed import delayed

        def run(part: Any) -> bytes | None:
            if len(part) == 0:
                return None
            part = part.sort_values(_distributed.ROW_COLUMN, kind="stable")
            return fn(pa.Table.from_pandas(part, preserve_index=False))

        states = compute(*[delayed(run)(p) for p in self._prepared.to_delayed()])  # type: ignore[no-untyped-call]
        return [s for s in states if s is not None]

    def map_to_frame(self, fn: Any, spark_schema: str, arrow_schema: Any) -> Any:
        import io

        import dask.dataframe as dd
        import pyarrow as pa
        import pyarrow.ipc  # type: ignore[import-untyped]
        from dask.delayed import delayed

        def run(part: Any) -> Any:
            if len(part) == 0:
                return arrow_schema.empty_table().to_pandas()
            part = part.sort_values(_distributed.ROW_COLUMN, kind="stable")
            table = pa.Table.from_pandas(part, preserve_index=False)
            return pyarrow.ipc.open_file(io.BytesIO(fn(table))).read_all().cast(arrow_schema).to_pandas()

        meta = arrow_schema.empty_table().to_pandas()
        return dd.from_delayed([delayed(run)(p) for p in self._prepared.to_delayed()], meta=meta)

    def release(self) -> None:
        self._prepared = None


def gap(data: Any, **keywords: Any) -> GapResult:
    """:func:`payequity.gap` on a Dask DataFrame (the same keyword arguments and result)."""
    return _distributed.analysis(_DaskEngine(data), "gap", keywords)  # type: ignore[no-any-return]


def oaxaca(data: Any, **keywords: Any) -> OaxacaResult:
    """:func:`payequity.oaxaca` on a Dask DataFrame (the same keyword arguments and result)."""
    return _distributed.analysis(_DaskEngine(data), "oaxaca", keywords)  # type: ignore[no-any-return]


def rif(data: Any, **keywords: Any) -> RifResult:
    """:func:`payequity.rif` on a Dask DataFrame (the same keyword arguments and result; unweighted, without
    reweighting, the Gini or bootstrap SEs, which need every row at once)."""
    return _distributed.analysis(_DaskEngine(data), "rif", keywords)  # type: ignore[no-any-return]


def quantile_profile(data: Any, **keywords: Any) -> QuantileProfileResult:
    """:func:`payequity.quantile_profile` on a Dask DataFrame (the same keyword arguments and result; the RIF
    method, unweighted, without bootstrap SEs)."""
    return _distributed.analysis(_DaskEngine(data), "quantile-profile", keywords)  # type: ignore[no-any-return]


def transparency(data: Any, **keywords: Any) -> TransparencyResult:
    """:func:`payequity.transparency` on a Dask DataFrame (the same keyword arguments and result)."""
    return _distributed.analysis(_DaskEngine(data), "transparency", keywords)  # type: ignore[no-any-return]


def equal_value(data: Any, **keywords: Any) -> EqualValueResult:
    """:func:`payequity.equal_value` on a Dask DataFrame (the same keyword arguments and result)."""
    return _distributed.analysis(_DaskEngine(data), "equal-value", keywords)  # type: ignore[no-any-return]


def audit_entitlements(data: Any, **keywords: Any) -> DistributedEntitlementAudit:
    """:func:`payequity.audit_entitlements` on a Dask DataFrame (the same keyword arguments and document);
    ``result.arrears()`` is a Dask DataFrame computed partition by partition."""
    return _distributed.audit(_DaskEngine(data), keywords)
