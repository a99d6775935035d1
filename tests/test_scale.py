"""Inputs at any size: the same rows give the same document in memory, streamed from a directory of files
by the CLI, on Dask and on Spark (local mode) — counts, medians and the ledger exactly, estimates to 1e-10
relative. Bad sources exit 1 naming the file; a Spark DataFrame missing a column gets a file's error."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import payequity as pe

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(os.environ.get("PAYEQUITY_BIN", ROOT / "target" / "debug" / "payequity"))
DEMO = ROOT / "datasets" / "demo" / "payroll.parquet"

GAP = dict(pay=["base_pay", "overtime_pay"], hours="hours_paid", by=["occupation"], min_cell=5, bootstrap_reps=40)
# The demo audit's EU categories, UK figures and Logib, at a set snapshot (the planted gender switch sits alone
# in the last period).
TRANSPARENCY = dict(config=str(ROOT / "datasets" / "demo" / "audit.toml"), snapshot_period="2025-12", min_cell=3)
EQUAL_VALUE = dict(config=str(ROOT / "datasets" / "demo" / "audit.toml"), worker_adjustments=True)
AUDIT = dict(config=str(ROOT / "datasets" / "demo" / "audit.toml"), min_cell=3)
OAXACA = dict(outcome="base_pay", log=True, group="gender", group_a="M", group_b="F",
              covariates=["tenure_years", "age"], categorical=["grade"])
RIF = dict(statistic=["q10", "q50", "q90", "iqr10_90"], **OAXACA)


@pytest.fixture(scope="module")
def payroll() -> pd.DataFrame:
    frame = pq.read_table(DEMO).to_pandas()
    employees = sorted(frame["employee_id"].unique())[:400]
    frame = frame[frame["employee_id"].isin(employees)].reset_index(drop=True)
    # Planted: a duplicated (employee, period) key far from its first row, a null pay, an employee whose
    # gender changes in a later partition.
    duplicate = frame.iloc[[5]]
    switch = frame.iloc[[40]].assign(gender="X", period="2099-12", hours_paid=150.0)
    frame = pd.concat([frame, duplicate, switch], ignore_index=True)
    frame.loc[len(frame) // 3, "base_pay"] = None
    return frame


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Integers, strings and nulls exactly; other numbers to 1e-10 relative."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) <= 1e-10 * max(abs(a), abs(b)) + 1e-12, f"{path}: {a} vs {b}"
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def assert_same_audit(engine: Any, memory: Any, to_pandas: Any) -> None:
    """The document to 1e-10, and the engine's arrears DataFrame (sorted) equal to the in-memory table."""
    expected = memory.to_dict()
    assert expected["arrears_total"] > 0 and expected["ledger"]["excluded"]["duplicate_key"] >= 1
    assert_same(engine.to_dict(), expected)
    keys = ["employee_id", "period", "rule"]
    arrears = to_pandas(engine.arrears()).sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(arrears, memory.arrears().to_pandas(), check_dtype=False)


def test_dask_gives_the_in_memory_documents(payroll: pd.DataFrame) -> None:
    dd = pytest.importorskip("dask.dataframe")
    import dask

    frame = dd.from_pandas(payroll, npartitions=5)
    with dask.config.set(scheduler="threads"):
        memory = pe.gap(payroll, **GAP).to_dict()
        excluded = memory["ledger"]["excluded"]
        assert excluded["duplicate_key"] >= 1 and excluded["inconsistent_gender"] >= 2
        assert pe.dask.gap(frame, **GAP).to_dict() == memory
        for se, vce in [("delta", "classical"), ("delta", "robust"), ("bootstrap", "classical")]:
            expected = pe.oaxaca(payroll, se=se, vce=vce, reps=15, **OAXACA).to_dict()
            assert expected["ledger"]["excluded"]["duplicate_key"] >= 1
            assert_same(pe.dask.oaxaca(frame, se=se, vce=vce, reps=15, **OAXACA).to_dict(), expected)
        for vce in ["classical", "robust"]:
            expected = pe.rif(payroll, vce=vce, **RIF).to_dict()
            assert len(expected["results"]) == 4
            assert_same(pe.dask.rif(frame, vce=vce, **RIF).to_dict(), expected)
        expected = pe.quantile_profile(payroll, percentiles=[10, 50, 90], **OAXACA).to_dict()
        assert_same(pe.dask.quantile_profile(frame, percentiles=[10, 50, 90], **OAXACA).to_dict(), expected)
        expected = pe.transparency(payroll, **TRANSPARENCY).to_dict()
        assert expected["eu"] and expected["uk"] and expected["logib"]
        assert_same(pe.dask.transparency(frame, **TRANSPARENCY).to_dict(), expected)
        expected = pe.equal_value(payroll, **EQUAL_VALUE).to_dict()
        assert expected["classes"] and expected["ledger"]["excluded"]["duplicate_key"] >= 1
        assert_same(pe.dask.equal_value(frame, **EQUAL_VALUE).to_dict(), expected)
        assert_same_audit(pe.dask.audit_entitlements(frame, **AUDIT), pe.audit_entitlements(payroll, **AUDIT),
                          lambda arrears: arrears.compute())


@pytest.fixture(scope="module")
def spark() -> Any:
    pytest.importorskip("pyspark")
    import sys

    from pyspark.sql import SparkSession

    # Executors run this interpreter (the venv with payequity), not whatever python3 is on PATH.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable

    session = (SparkSession.builder.master("local[2]").appName("payequity-tests")
               .config("spark.sql.shuffle.partitions", "3")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.ui.enabled", "false")
               .getOrCreate())
    yield session
    session.stop()


def test_spark_gives_the_in_memory_documents(payroll: pd.DataFrame, spark: Any) -> None:
    frame = spark.createDataFrame(payroll)
    assert frame.rdd.getNumPartitions() >= 2
    assert pe.spark.gap(frame, **GAP).to_dict() == pe.gap(payroll, **GAP).to_dict()
    for se, vce in [("delta", "classical"), ("delta", "robust"), ("bootstrap", "classical")]:
        expected = pe.oaxaca(payroll, se=se, vce=vce, reps=15, **OAXACA).to_dict()
        assert_same(pe.spark.oaxaca(frame, se=se, vce=vce, reps=15, **OAXACA).to_dict(), expected)
    assert_same(pe.spark.rif(frame, vce="robust", **RIF).to_dict(), pe.rif(payroll, vce="robust", **RIF).to_dict())
    assert_same(pe.spark.quantile_profile(frame, percentiles=[25, 75], **OAXACA).to_dict(),
                pe.quantile_profile(payroll, percentiles=[25, 75], **OAXACA).to_dict())
    expected = pe.transparency(payroll, **TRANSPARENCY).to_dict()
    assert_same(pe.spark.transparency(frame, **TRANSPARENCY).to_dict(), expected)
    expected = pe.equal_value(payroll, **EQUAL_VALUE).to_dict()
    assert_same(pe.spark.equal_value(frame, **EQUAL_VALUE).to_dict(), expected)
    assert_same_audit(pe.spark.audit_entitlements(frame, **AUDIT), pe.audit_entitlements(payroll, **AUDIT),
                      lambda arrears: arrears.toPandas())


def test_a_spark_frame_missing_a_column_gets_the_file_error(payroll: pd.DataFrame, spark: Any,
                                                            tmp_path: Path) -> None:
    without = payroll.drop(columns=["hours_paid"])
    path = tmp_path / "payroll.parquet"
    without.to_parquet(path)
    with pytest.raises(pe.InputError) as from_file:
        pe.gap(str(path), **GAP)
    with pytest.raises(pe.InputError) as from_spark:
        pe.spark.gap(spark.createDataFrame(without), **GAP)
    assert str(from_spark.value) == str(from_file.value)
    assert "hours_paid" in str(from_spark.value)
    # The per-employee analyses: a missing category column, a rule naming a missing column.
    for column, run, engine_run in [
        ("grade", lambda d: pe.transparency(d, **TRANSPARENCY), lambda d: pe.spark.transparency(d, **TRANSPARENCY)),
        ("hazard_hours", lambda d: pe.audit_entitlements(d, **AUDIT),
         lambda d: pe.spark.audit_entitlements(d, **AUDIT)),
    ]:
        without = payroll.drop(columns=[column])
        path = tmp_path / f"without-{column}.parquet"
        without.to_parquet(path)
        with pytest.raises(pe.PayEquityError) as from_file:
            run(str(path))
        with pytest.raises(pe.PayEquityError) as from_spark:
            engine_run(spark.createDataFrame(without))
        # The same error and message; a file read in memory lists only the columns it read (the analysis'),
        # the engine every column of the DataFrame.
        assert type(from_spark.value) is type(from_file.value) and f"`{column}`" in str(from_file.value)
        assert str(from_spark.value).split("available")[0] == str(from_file.value).split("available")[0]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=600)


def test_cli_streams_a_directory_to_the_in_memory_document(payroll: pd.DataFrame, tmp_path: Path) -> None:
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.Table.from_pandas(payroll, preserve_index=False), whole)
    folder = tmp_path / "parts"
    for i, start in enumerate(range(0, len(payroll), 2000)):
        (folder / f"year={2025 + i % 2}").mkdir(parents=True, exist_ok=True)
        part = payroll.iloc[start:start + 2000]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"year={2025 + i % 2}" / f"{i:03}.parquet")
    # Hive folders list year=2025 before year=2026: the directory's row order is that of the files.
    ordered = pd.concat([pq.read_table(p).to_pandas() for p in sorted(folder.glob("*/*.parquet"))], ignore_index=True)
    ordered_path = tmp_path / "ordered.parquet"
    pq.write_table(pa.Table.from_pandas(ordered, preserve_index=False), ordered_path)
    gap_args = ["--pay-column", "base_pay,overtime_pay", "--hours-column", "hours_paid", "--by", "occupation",
                "--min-cell", "5", "--bootstrap-reps", "40", "--format", "json", "-q"]
    memory = run_cli("gap", str(ordered_path), "--engine", "memory", *gap_args)
    streamed = run_cli("gap", str(folder), "--engine", "stream", "--batch-rows", "777", *gap_args)
    assert memory.returncode == 0 and streamed.returncode == 0, streamed.stderr
    assert json.loads(streamed.stdout) == json.loads(memory.stdout)
    # Python streams a directory (or glob) the same way.
    assert pe.gap(str(folder), **GAP).to_dict() == json.loads(memory.stdout)
    oaxaca_args = ["--outcome", "base_pay", "--log", "--group", "gender", "--group-a", "M", "--group-b", "F",
                   "--covariates", "tenure_years,age", "--categorical", "grade,year", "--format", "json", "-q"]
    in_memory = run_cli("oaxaca", str(folder), "--engine", "memory", *oaxaca_args)
    streamed = run_cli("oaxaca", f"{folder}/*/*.parquet", "--engine", "stream", "--batch-rows", "500", *oaxaca_args)
    assert in_memory.returncode == 0 and streamed.returncode == 0, streamed.stderr
    assert_same(json.loads(streamed.stdout), json.loads(in_memory.stdout))
    # The transparency report (EU, UK, Logib) from the same directory, the CLI and Python.
    config = tmp_path / "audit.toml"
    text = (ROOT / "datasets" / "demo" / "audit.toml").read_text()
    config.write_text(text.replace("[transparency]\n", '[transparency]\nsnapshot_period = "2025-12"\nmin_cell = 3\n'))
    args = ["--config", str(config), "--format", "json", "-q"]
    in_memory = run_cli("transparency", str(ordered_path), "--engine", "memory", *args)
    streamed = run_cli("transparency", str(folder), "--engine", "stream", "--batch-rows", "900", *args)
    assert in_memory.returncode == 0 and streamed.returncode == 0, streamed.stderr
    expected = json.loads(in_memory.stdout)
    assert expected["uk"]["snapshot_period"] == "2025-12" and expected["logib"] is not None
    assert_same(json.loads(streamed.stdout), expected)
    assert_same(pe.transparency(str(folder), config=str(config)).to_dict(), expected)
    # Equal value (seniority-adjusted job rates of contracted hours) from the same directory.
    args = ["--config", str(ROOT / "datasets" / "demo" / "audit.toml"), "--format", "json", "-q"]
    in_memory = run_cli("equal-value", str(ordered_path), "--engine", "memory", *args)
    streamed = run_cli("equal-value", str(folder), "--engine", "stream", "--batch-rows", "700", *args)
    assert in_memory.returncode == 0 and streamed.returncode == 0, streamed.stderr
    expected = json.loads(in_memory.stdout)
    assert expected["classes"] and expected["job_rate"] == "adjusted"
    assert_same(json.loads(streamed.stdout), expected)
    # The entitlement audit (workers spilled to partitions), its document and arrears table.
    args = ["--config", str(ROOT / "datasets" / "demo" / "audit.toml"), "--min-cell", "3", "--format", "json", "-q"]
    in_memory = run_cli("audit-entitlements", str(ordered_path), "--engine", "memory",
                        "--arrears-out", str(tmp_path / "memory.csv"), *args)
    streamed = run_cli("audit-entitlements", str(folder), "--engine", "stream", "--batch-rows", "600",
                       "--arrears-out", str(tmp_path / "streamed.csv"), *args)
    assert in_memory.returncode == 0 and streamed.returncode == 0, streamed.stderr
    expected = json.loads(in_memory.stdout)
    assert expected["arrears_total"] > 0
    assert_same(json.loads(streamed.stdout), expected)
    assert (tmp_path / "streamed.csv").read_text() == (tmp_path / "memory.csv").read_text()


def test_cli_refuses_bad_sources_naming_the_file(payroll: pd.DataFrame, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    pq.write_table(pa.Table.from_pandas(payroll.iloc[:100], preserve_index=False), folder / "a.parquet")
    pq.write_table(pa.Table.from_pandas(payroll.iloc[100:200].drop(columns=["age"]), preserve_index=False),
                   folder / "b.parquet")
    args = ["--pay-column", "base_pay", "--hours-column", "hours_paid", "--format", "json", "-q"]
    cases = {
        str(folder): "b.parquet",
        str(tmp_path / "empty"): "holds no",
        f"{tmp_path}/nothing-*.parquet": "matches no",
    }
    (tmp_path / "empty").mkdir()
    for source, message in cases.items():
        result = run_cli("gap", source, *args)
        assert result.returncode == 1, (source, result.stderr)
        assert message in result.stderr and result.stdout == ""
    (folder / "b.parquet").write_bytes(b"PAR1 truncated")
    result = run_cli("gap", str(folder), "--engine", "stream", *args)
    assert result.returncode == 1 and "b.parquet" in result.stderr and result.stdout == ""
