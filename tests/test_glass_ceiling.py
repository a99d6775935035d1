"""The planted glass ceiling of the synthetic payroll (datasets/demo/README.md, truth 4): management posts pay
10% more to anyone and women reach them with half men's probability at equal tenure. payequity must recover
the premium (ln 1.10) and show the ceiling as a composition part of the gap that is significant at every
quantile and grows from the bottom to the top, and must find none in the control population generated
without it (same seed, ``plant_disparity=False``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import payequity as pe

STATISTICS = ["q10", "q50", "q90"]


def one_month(path: Path) -> pl.DataFrame:
    """One row per employee (the first month), women and men, with the management dummy."""
    frame = pl.read_parquet(path)
    return (
        frame.filter(pl.col("period") == pl.col("period").min(), pl.col("gender").is_in(["F", "M"]))
        .unique(subset=["employee_id"], keep="first", maintain_order=True)
        .with_columns((pl.col("position") <= 3).cast(pl.Float64).alias("management"))
    )


@pytest.fixture(scope="module")
def populations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[pl.DataFrame, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("glass_ceiling")
    out: dict[str, tuple[pl.DataFrame, dict[str, Any]]] = {}
    for name, plant in (("planted", True), ("control", False)):
        path = folder / f"{name}.parquet"
        truth = pe.generate(path, employees=8000, months=1, seed=31, plant_disparity=plant)
        out[name] = (one_month(path), truth)
    return out


def management_composition(frame: pl.DataFrame) -> list[tuple[float, float]]:
    """(estimate, SE) of the management dummy's explained part at q10, q50, q90 (men = A, women = B)."""
    document = pe.rif(frame, statistic=STATISTICS, outcome="base_hourly_rate", log=True, group="gender",
                      group_a="M", group_b="F", covariates=["tenure_years", "management"],
                      categorical=["occupation"], reference="pooled").to_dict()
    parts = []
    for result in document["results"]:
        term = next(t for t in result["twofold"]["detailed"] if t["term"] == "management")
        parts.append((term["explained"]["estimate"], term["explained"]["se"]))
    return parts


def test_truth_states_the_glass_ceiling(populations: dict[str, tuple[pl.DataFrame, dict[str, Any]]]) -> None:
    assert populations["planted"][1]["glass_ceiling"]["female_management_odds"] == 0.5
    assert populations["control"][1]["glass_ceiling"]["female_management_odds"] == 1.0
    assert populations["planted"][1]["glass_ceiling"]["management_premium_pct"] == pytest.approx(10.0)


def test_women_reach_management_half_as_often(populations: dict[str, tuple[pl.DataFrame, dict[str, Any]]]) -> None:
    for name, expected in (("planted", 0.5), ("control", 1.0)):
        frame = populations[name][0]
        share = {g: frame.filter(pl.col("gender") == g)["management"].mean() for g in ("F", "M")}
        ratio = float(share["F"]) / float(share["M"])  # type: ignore[arg-type]
        assert abs(ratio - expected) < 0.2 * expected, (name, share)


def test_mean_rif_regression_recovers_the_management_premium(
        populations: dict[str, tuple[pl.DataFrame, dict[str, Any]]]) -> None:
    frame = populations["planted"][0].with_columns((pl.col("gender") == "F").cast(pl.Float64).alias("female"))
    document = pe.rif_regression(frame, statistic="mean", outcome="base_hourly_rate", log=True,
                                 covariates=["tenure_years", "management", "female"],
                                 categorical=["occupation"]).to_dict()
    coefficient = next(c for c in document["coefficients"] if c["term"] == "management")
    assert abs(coefficient["estimate"] - math.log(1.10)) < 3 * coefficient["se"], coefficient


def test_rif_decomposition_finds_the_ceiling_growing_to_the_top(
        populations: dict[str, tuple[pl.DataFrame, dict[str, Any]]]) -> None:
    planted = management_composition(populations["planted"][0])
    for estimate, se in planted:
        assert estimate > 3 * se, planted
    assert planted[2][0] > planted[0][0], planted
    control = management_composition(populations["control"][0])
    for (estimate, se), (with_ceiling, _) in zip(control, planted, strict=True):
        assert abs(estimate) < 3 * se, control
        assert estimate < with_ceiling, (control, planted)
