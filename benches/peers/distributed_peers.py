"""Spark local mode and Dask against the in-memory functions, on the same rows (benches/RESULTS.md).

    .venv/bin/python benches/peers/distributed_peers.py PARQUET [ROWS]

Reads the first ROWS rows (default 2,000,000) of a payroll Parquet file (benches/scale_data.py), then times
`pe.gap` and `pe.oaxaca` on the pandas frame, on a Dask DataFrame of 8 partitions (threaded scheduler) and on
a Spark DataFrame in `local[2]` (session start excluded; the DataFrame is cached and counted first), and
checks the documents agree. Wall-clock seconds, best of two.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable

import pyarrow.parquet as pq

import payequity as pe

GAP = dict(pay=["base_pay", "overtime_pay"], hours="hours_paid", by=["grade"], bootstrap_reps=200)
OAXACA = dict(outcome="base_pay", log=True, group="gender", group_a="M", group_b="F",
              covariates=["tenure_years", "age", "education_years"], categorical=["grade", "region"])


def best(run: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(2):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(path: str, rows: int) -> None:
    columns = ["employee_id", "period", "gender", "base_pay", "overtime_pay", "hours_paid", "grade", "region",
               "tenure_years", "age", "education_years"]
    frame = pq.read_table(path, columns=columns).slice(0, rows).to_pandas()
    print(f"rows: {len(frame):,}")

    import dask
    import dask.dataframe as dd

    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").config("spark.sql.shuffle.partitions", "8")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "6g")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    spark_frame = spark.createDataFrame(frame).cache()
    spark_frame.count()
    dask_frame = dd.from_pandas(frame, npartitions=8)
    print("| analysis | in memory (pandas in) | Dask, 8 partitions | Spark local[2] |")
    print("|---|---|---|---|")
    for name, function, keywords in [("gap", "gap", GAP), ("oaxaca (delta SEs)", "oaxaca", OAXACA)]:
        memory_time, memory = best(lambda: getattr(pe, function)(frame, **keywords))
        with dask.config.set(scheduler="threads"):
            dask_time, on_dask = best(lambda: getattr(pe.dask, function)(dask_frame, **keywords))
        spark_time, on_spark = best(lambda: getattr(pe.spark, function)(spark_frame, **keywords))
        for other in (on_dask, on_spark):
            assert other.ledger == memory.ledger
        print(f"| {name} | {memory_time:.2f} s | {dask_time:.2f} s | {spark_time:.2f} s |")
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000)
