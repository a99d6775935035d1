"""Peer comparison for raw gaps by group: payequity (Python API) against pandas and polars computing the same
point estimates (mean and median hourly gap overall and by occupation) on the same in-memory rows.

Usage: .venv/bin/python benches/peers/gap_peers.py [ROWS]   (default 10,000,000)
The peers compute point estimates only; payequity also computes CIs (delta method, bootstrap) and the ledger.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
import polars as pl

import payequity as pe

OCCUPATIONS = np.array(["2211", "2212", "2221", "2222", "3221", "3253", "5321", "5322", "9112", "9621"])


def payroll(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(7)
    occ = rng.integers(0, 10, rows)
    female = rng.random(rows) < 0.75
    hours = 80.0 + np.round(rng.random(rows) * 90.0)
    rate = 12.0 + 3.0 * occ + 4.0 * rng.random(rows) - np.where(female, 1.5, 0.0)
    return pl.DataFrame({"gender": np.where(female, "F", "M"), "occupation": OCCUPATIONS[occ],
                         "pay": rate * hours, "hours": hours})


def timed(label: str, fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<48} {best:7.3f} s (best of 3)")
    return best


def pandas_gaps(df: pd.DataFrame) -> None:
    y = df["pay"] / df["hours"]
    d = df.assign(y=y)
    overall = d.groupby("gender")["y"].agg(["mean", "median"])
    by = d.groupby(["occupation", "gender"])["y"].agg(["mean", "median"]).unstack()
    _ = 100 * (overall.loc["M"] - overall.loc["F"]) / overall.loc["M"]
    _ = 100 * (by[("mean", "M")] - by[("mean", "F")]) / by[("mean", "M")]


def polars_gaps(df: pl.DataFrame) -> None:
    d = df.with_columns((pl.col("pay") / pl.col("hours")).alias("y"))
    d.group_by("gender").agg(pl.col("y").mean().alias("mean"), pl.col("y").median().alias("median"))
    d.group_by("occupation", "gender").agg(pl.col("y").mean().alias("mean"), pl.col("y").median().alias("median"))


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    frame = payroll(rows)
    pdf = frame.to_pandas()
    print(f"{rows:,} rows, by occupation (10 groups)")
    timed("pandas groupby mean+median (points only)", lambda: pandas_gaps(pdf))
    timed("polars group_by mean+median (points only)", lambda: polars_gaps(frame))
    timed("payequity pe.gap, CIs, bootstrap 1000", lambda: pe.gap(frame, pay="pay", hours="hours", by=["occupation"]))
    timed("payequity pe.gap, CIs, no bootstrap", lambda: pe.gap(frame, pay="pay", hours="hours", by=["occupation"],
                                                               bootstrap_reps=0))


if __name__ == "__main__":
    main()
