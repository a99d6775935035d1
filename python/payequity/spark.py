"""payequity on Spark: the in-memory functions' keywords and results, on a ``pyspark.sql.DataFrame``.

>>> import payequity as pe                                                        # doctest: +SKIP
>>> payroll = spark.read.parquet("s3://lake/payroll/")                           # doctest: +SKIP
>>> pe.spark.oaxaca(payroll, outcome="hourly_pay", log=True, group="gender", group_a="M",
...                 covariates=["tenure_years"], categorical=["grade"])          # doctest: +SKIP

Executors compute small partial states in the Rust core with ``mapInArrow``; the driver collects them
(bytes, independent of the row count), merges and finishes them. Rows are numbered in the DataFrame's order
(``monotonically_increasing_id`` ranked per partition) and an employee's rows are repartitioned into one
partition, so the document equals the in-memory function on ``payroll.toPandas()``: counts, medians and
the ledger exactly, estimates to 1e-10. payequity must be installed on the executors
(``pip install 'payequity[spark]'``). See docs/scale.md.
"""

from __future__ import annotations

from collections.abc import Iterator
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

_PARTITION_BITS = 33


class _SparkEngine:
    def __init__(self, frame: Any) -> None:
        self._frame = frame
        self._prepared: Any = None
        self._cached: list[Any] = []

    def columns(self) -> list[str]:
        return [str(c) for c in self._frame.columns]

    def empty_table(self) -> Any:
        import pyarrow as pa  # type: ignore[import-untyped]
        from pyspark.sql.pandas.types import to_arrow_schema

        schema = to_arrow_schema(self._frame.schema).append(pa.field(_distributed.ROW_COLUMN, pa.int64()))
        return schema.empty_table()

    def prepare(self, employee: str | None) -> None:
        from pyspark.sql import functions as F

        mono = self._frame.withColumn("__pe_mono", F.monotonically_increasing_id()).withColumn(
            "__pe_part", F.shiftright("__pe_mono", _PARTITION_BITS))
        mono = mono.persist()
        self._cached.append(mono)
        counts = sorted((r["__pe_part"], r["count"]) for r in mono.groupBy("__pe_part").count().collect())
        offsets, total = [], 0
        for part, count in counts:
            offsets.append((part, total))
            total += count
        spark = self._frame.sparkSession
        offset_frame = spark.createDataFrame(offsets or [(0, 0)], "__pe_part long, __pe_offset long")
        local = F.col("__pe_mono").bitwiseAND((1 << _PARTITION_BITS) - 1)
        numbered = (mono.join(F.broadcast(offset_frame), "__pe_part")
                    .withColumn(_distributed.ROW_COLUMN, F.col("__pe_offset") + local)
                    .drop("__pe_mono", "__pe_part", "__pe_offset"))
        if employee is not None:
            numbered = numbered.repartition(employee)
        numbered = numbered.sortWithinPartitions(_distributed.ROW_COLUMN).persist()
        self._cached.append(numbered)
        self._prepared = numbered

    def map_partitions(self, fn: _distributed.PartitionFn) -> list[bytes]:
        def run(batches: Iterator[Any]) -> Iterator[Any]:
            import pyarrow as pa

            collected = list(batches)
            if not collected or sum(b.num_rows for b in collected) == 0:
                return
            table = pa.Table.from_batches(collected).sort_by(_distributed.ROW_COLUMN)
            yield pa.RecordBatch.from_pydict({"state": [fn(table)]}, schema=pa.schema([("state", pa.binary())]))

        rows = self._prepared.mapInArrow(run, "state binary").collect()
        return [bytes(r["state"]) for r in rows]

    def map_to_frame(self, fn: Any, spark_schema: str, arrow_schema: Any) -> Any:
        prepared = self._prepared

        def run(batches: Iterator[Any]) -> Iterator[Any]:
            import io

            import pyarrow as pa
            import pyarrow.ipc  # type: ignore[import-untyped]

            collected = list(batches)
            if not collected or sum(b.num_rows for b in collected) == 0:
                return
            table = pa.Table.from_batches(collected).sort_by(_distributed.ROW_COLUMN)
            rows = pyarrow.ipc.open_file(io.BytesIO(fn(table))).read_all().cast(arrow_schema)
            yield from rows.to_batches()

        # Lazy: computed from the numbered, partitioned rows when the DataFrame is used.
        return prepared.mapInArrow(run, spark_schema)

    def release(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        self._cached = []
        self._prepared = None


def gap(data: Any, **keywords: Any) -> GapResult:
    """:func:`payequity.gap` on a Spark DataFrame (the same keyword arguments and result)."""
    return _distributed.analysis(_SparkEngine(data), "gap", keywords)  # type: ignore[no-any-return]


def oaxaca(data: Any, **keywords: Any) -> OaxacaResult:
    """:func:`payequity.oaxaca` on a Spark DataFrame (the same keyword arguments and result)."""
    return _distributed.analysis(_SparkEngine(data), "oaxaca", keywords)  # type: ignore[no-any-return]


def rif(data: Any, **keywords: Any) -> RifResult:
    """:func:`payequity.rif` on a Spark DataFrame (the same keyword arguments and result; unweighted, without
    reweighting, the Gini or bootstrap SEs, which need every row at once)."""
    return _distributed.analysis(_SparkEngine(data), "rif", keywords)  # type: ignore[no-any-return]


def quantile_profile(data: Any, **keywords: Any) -> QuantileProfileResult:
    """:func:`payequity.quantile_profile` on a Spark DataFrame (the same keyword arguments and result; the RIF
    method, unweighted, without bootstrap SEs)."""
    return _distributed.analysis(_SparkEngine(data), "quantile-profile", keywords)  # type: ignore[no-any-return]


def transparency(data: Any, **keywords: Any) -> TransparencyResult:
    """:func:`payequity.transparency` on a Spark DataFrame (the same keyword arguments and result)."""
    return _distributed.analysis(_SparkEngine(data), "transparency", keywords)  # type: ignore[no-any-return]


def equal_value(data: Any, **keywords: Any) -> EqualValueResult:
    """:func:`payequity.equal_value` on a Spark DataFrame (the same keyword arguments and result)."""
    return _distributed.analysis(_SparkEngine(data), "equal-value", keywords)  # type: ignore[no-any-return]


def audit_entitlements(data: Any, **keywords: Any) -> DistributedEntitlementAudit:
    """:func:`payequity.audit_entitlements` on a Spark DataFrame (the same keyword arguments and document);
    ``result.arrears()`` is a Spark DataFrame computed on the executors."""
    return _distributed.audit(_SparkEngine(data), keywords)
