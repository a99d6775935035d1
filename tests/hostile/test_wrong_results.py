"""Sloppy inputs that used to give wrong figures without a word (issue 18, items 7-11): gender spellings,
periods in mixed formats, CSV ids and late bad values, overflowing sums, doubled pay columns, duplicate rows,
null jobs and unusable controls in the equal-value analysis."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

import payequity as pe
from hostile_support import CLI, DEMO, ROOT, demo_config, rules_file, run, small_payroll


def test_gender_spellings_are_matched_and_unknown_values_warned() -> None:
    frame = small_payroll(["ward"]).with_columns(
        pl.when(pl.col("gender") == "F")
        .then(pl.Series(["f", " Female ", "woman", "F"] * 10))
        .otherwise(pl.Series(["M", "male", " m", "Man"] * 10))
        .alias("gender"))
    frame = pl.concat([frame, frame.head(3).with_columns(pl.lit("unknown").alias("gender"),
                                                          pl.Series(["x1", "x2", "x3"]).alias("employee_id"))])
    result = pe.gap(frame, pay="pay", hours="hours", min_cell=1)
    assert result["overall"]["n"]["F"] == 20 and result["overall"]["n"]["M"] == 20
    assert result["overall"]["n"]["unknown"] == 3
    warning = [w for w in result["warnings"] if "match neither" in w]
    assert len(warning) == 1 and "`unknown` (3)" in warning[0] and "hint:" in warning[0], result["warnings"]


def test_the_unmatched_gender_warning_is_the_same_streamed(tmp_path: Path) -> None:
    frame = pl.read_parquet(DEMO / "payroll.parquet").with_columns(
        pl.when(pl.col("employee_id").str.ends_with("7")).then(pl.lit("X"))
        .otherwise(pl.col("gender")).alias("gender"))
    path = tmp_path / "p.parquet"
    frame.write_parquet(path)
    args = ["--config", str(DEMO / "audit.toml"), "--format", "json"]
    memory = run("gap", str(path), *args, "--engine", "memory")
    streamed = run("gap", str(path), *args, "--engine", "stream", "--batch-rows", "5000")
    assert memory.returncode == 0 and streamed.returncode == 0, streamed.stderr
    assert json.loads(memory.stdout) == json.loads(streamed.stdout)
    assert any("`X`" in w for w in json.loads(memory.stdout)["warnings"])


def test_uk_snapshot_is_the_latest_period_across_formats() -> None:
    frame = pl.read_parquet(DEMO / "payroll.parquet")
    clean = pe.transparency(frame, config=str(DEMO / "audit.toml"), regimes=["uk"])
    december = pl.col("period") == "2025-12"
    half = pl.col("employee_id").str.slice(-1).cast(pl.Int32) % 2 == 0
    mixed = frame.with_columns(
        pl.when(december & half).then(pl.lit("Dec 2025"))
        .when(december).then(pl.lit("202512"))
        .otherwise(pl.col("period")).alias("period"))
    result = pe.transparency(mixed, config=str(DEMO / "audit.toml"), regimes=["uk"])
    for key in ("mean_hourly_gap_pct", "median_hourly_gap_pct"):
        assert result["uk"][key] == pytest.approx(clean["uk"][key], rel=1e-12)
    unknown = frame.with_columns(pl.when(pl.col("period") == "2025-06").then(pl.lit("Q2 2025"))
                                 .otherwise(pl.col("period")).alias("period"))
    with pytest.raises(pe.PayEquityError, match=r"Q2 2025"):
        pe.transparency(unknown, config=str(DEMO / "audit.toml"), regimes=["uk"])


def test_streamed_uk_figures_read_mixed_period_formats_as_in_memory(tmp_path: Path) -> None:
    frame = pl.read_parquet(DEMO / "payroll.parquet")
    mixed = frame.with_columns(pl.when(pl.col("period") == "2025-12").then(pl.lit("Dec 2025"))
                               .when(pl.col("period") == "2025-11").then(pl.lit("202511"))
                               .otherwise(pl.col("period")).alias("period"))
    path = tmp_path / "mixed.parquet"
    mixed.write_parquet(path)
    args = ["--config", str(DEMO / "audit.toml"), "--regime", "uk", "--format", "json"]
    memory = run("transparency", str(path), *args, "--engine", "memory")
    streamed = run("transparency", str(path), *args, "--engine", "stream", "--batch-rows", "4000")
    assert memory.returncode == 0 and streamed.returncode == 0, streamed.stderr
    clean = pe.transparency(frame, config=str(DEMO / "audit.toml"), regimes=["uk"])
    for document in (json.loads(memory.stdout), json.loads(streamed.stdout)):
        assert document["uk"]["mean_hourly_gap_pct"] == pytest.approx(clean["uk"]["mean_hourly_gap_pct"], rel=1e-12)
    # An unknown format is refused in the stream too, naming its 1-based input row.
    bad = mixed.with_columns(pl.when(pl.int_range(pl.len()) == 12_345).then(pl.lit("Q2 2025"))
                             .otherwise(pl.col("period")).alias("period"))
    bad.write_parquet(path)
    streamed = run("transparency", str(path), *args, "--engine", "stream", "--batch-rows", "4000")
    assert streamed.returncode == 1 and "row 12346" in streamed.stderr and "Q2 2025" in streamed.stderr


def test_overflowing_pay_is_an_error_not_infinity() -> None:
    frame = small_payroll(["ward"]).with_columns(pl.lit(1e308).alias("pay"), pl.lit(1.0).alias("hours"))
    with pytest.raises(pe.PayEquityError, match="overflow"):
        pe.gap(frame, pay="pay", hours="hours", min_cell=1)


def test_a_pay_column_listed_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(pe.PayEquityError, match="listed twice"):
        pe.gap(small_payroll(["ward"]), pay=["pay", "pay"], hours="hours", min_cell=1)


def test_a_rule_dividing_by_zero_names_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[ruleset]\nname = "t"\nperiod = "month"\n[[rule]]\nid = "ratio"\nkind = "hazard"\n'
                    'when = "hazard_hours >= 0"\namount = { expr = "hazard_pay / 0" }\npaid = "hazard_pay"\n')
    with pytest.raises(pe.PayEquityError, match=r"rule `ratio`.*not a finite number"):
        pe.audit_entitlements(DEMO / "payroll.parquet", rules=path)


def test_a_nan_gate_is_refused() -> None:
    result = run("audit-entitlements", str(DEMO / "payroll.parquet"), "--rules",
                 str(ROOT / "datasets" / "rules" / "demo-hospital.toml"), "--fail-on-arrears", "NaN")
    assert result.returncode != 0 and "amount of zero or more" in result.stderr


def test_csv_ids_keep_leading_zeros_and_types_come_from_every_row(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("employee_id,period,gender,pay,hours\n007,2025-01,F,10,1\n7,2025-01,M,30,1\n")
    result = pe.gap(str(path), pay="pay", hours="hours", min_cell=1)
    assert result["ledger"]["excluded"] == {} and result["overall"]["n"] == {"F": 1, "M": 1}
    late = tmp_path / "late.csv"
    rows = "".join(f"e{i},2025-01,{'F' if i % 2 else 'M'},{10 + i},1\n" for i in range(150_000))
    late.write_text("employee_id,period,gender,pay,hours\n" + rows + 'e999999,2025-01,F,"12,50",1\n')
    with pytest.raises(pe.PayEquityError, match=r"row 150001.*12,50"):
        pe.gap(str(late), pay="pay", hours="hours")


def test_a_repeated_csv_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("employee_id,gender,pay,pay,hours\n1,F,10,20,1\n2,M,30,40,1\n")
    result = run("gap", str(path), "--pay-column", "pay", "--hours-column", "hours")
    assert result.returncode == 1 and "more than once" in result.stderr


def test_a_late_csv_value_that_does_not_fit_is_named_when_streamed(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    rows = "".join(f"{1000 + i},2025-01,{'F' if i % 2 else 'M'},{10 + i % 50},1\n" for i in range(120_000))
    path.write_text("employee_id,period,gender,pay,hours\n" + rows + "007,2025-01,F,12,1\n")
    result = run("gap", str(path), "--pay-column", "pay", "--hours-column", "hours", "--engine", "stream")
    assert result.returncode == 1, result.stdout
    assert "employee_id" in result.stderr and "row 120001" in result.stderr and "007" in result.stderr
    # In memory the types come from every row, so the ids stay text and nothing is lost.
    memory = run("gap", str(path), "--pay-column", "pay", "--hours-column", "hours", "--engine", "memory",
                 "--format", "json")
    assert memory.returncode == 0 and json.loads(memory.stdout)["ledger"]["used"] == 120_001


def test_repeated_employee_period_rows_are_ledgered_and_warned(tmp_path: Path) -> None:
    frame = small_payroll(["ward"]).with_columns(pl.lit("2025-01").alias("period"))
    repeats = frame.head(4).with_columns(pl.col("pay") * 2)
    result = pe.gap(pl.concat([frame, repeats]), pay="pay", hours="hours", min_cell=1)
    assert result["ledger"]["excluded"] == {"duplicate_key": 4}
    warning = [w for w in result["warnings"] if "duplicate_key" in w]
    assert len(warning) == 1 and warning[0].startswith("4 row(s)") and "hint:" in warning[0]


EQUAL_VALUE = dict(config=str(DEMO / "audit.toml"))


def test_incumbents_without_a_job_are_in_the_ledger() -> None:
    frame = pl.read_parquet(DEMO / "payroll.parquet")
    lost = frame["employee_id"].unique().sort().head(25)
    holes = frame.with_columns(pl.when(pl.col("employee_id").is_in(lost.to_list())).then(None)
                               .otherwise(pl.col("occupation")).alias("occupation"))
    rows = holes.filter(pl.col("occupation").is_null() & pl.col("full_pay")).height  # the config keeps full_pay
    clean = pe.equal_value(frame, **EQUAL_VALUE)
    result = pe.equal_value(holes, **EQUAL_VALUE)
    ledger = result["ledger"]
    assert ledger["excluded"].get("null_job") == rows
    assert ledger["read"] == ledger["used"] + sum(ledger["excluded"].values())
    assert ledger["used"] == clean["ledger"]["used"] - rows
    with pytest.raises(pe.PayEquityError, match=r"no value in the job column `occupation`"):
        # Strict mode on rows that pass every other check (the config keeps full-pay periods; the demo has
        # planted duplicate keys).
        clean_rows = holes.filter(pl.col("full_pay")).unique(["employee_id", "period"], keep="first",
                                                            maintain_order=True)
        pe.equal_value(clean_rows, strict=True, **EQUAL_VALUE)


def test_the_adjusted_job_rate_says_which_incumbents_it_left_out() -> None:
    frame = pl.read_parquet(DEMO / "payroll.parquet")
    lost = frame["employee_id"].unique().sort().head(30)
    holes = frame.with_columns(pl.when(pl.col("employee_id").is_in(lost.to_list())).then(None)
                               .otherwise(pl.col("tenure_years")).alias("tenure_years"))
    result = pe.equal_value(holes, job_rate="adjusted", adjust_for=["tenure_years"], **EQUAL_VALUE)
    warning = [w for w in result["warnings"] if "left out of the adjusted job-rate fit" in w]
    assert len(warning) == 1 and "tenure_years" in warning[0], result["warnings"]
    assert int(warning[0].split()[0]) >= 30
