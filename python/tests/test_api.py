"""The Python API: result object, errors as Python exceptions, strict mode, ledger invariant."""

from __future__ import annotations

import math

import pandas as pd
import polars as pl
import pytest

import payequity as pe


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "gender": ["F", "F", "F", "M", "M", "M", None, "F"],
            "unit": ["a", "a", "b", "a", "b", "b", "a", "b"],
            "pay": [10.0, 12.0, 14.0, 15.0, 20.0, 25.0, 9.0, float("nan")],
            "hours": [1.0] * 8,
        }
    )


def test_result_object_shapes() -> None:
    r = pe.gap(frame(), pay="pay", hours="hours", by=["unit"], min_cell=0, bootstrap_reps=100, seed=1)
    d = r.to_dict()
    assert d["kind"] == "gap" and pe.__version__ == f"{d['version']}+g{d['commit']}"
    assert d["commit"] == pe.__commit__
    assert d["ledger"] == {"read": 8, "used": 6, "excluded": {"non_finite_pay": 1, "null_gender": 1}}
    assert math.isclose(r.overall["mean_gap_pct"]["estimate"], 40.0)
    table = r.to_polars()
    assert table.columns[:2] == ["level", "unit"]
    assert table.height == 3 and table["n_F"].to_list() == [3, 2, 1]
    assert "Gender pay gap" in r.summary() and "Rows: read 8, used 6" in r.summary()
    assert "<table>" in r._repr_html_()
    assert "GapResult" in repr(r)


def test_suppression_applies_by_default() -> None:
    r = pe.gap(frame(), pay="pay", hours="hours", by=["unit"])
    assert all(g["suppressed"] for g in r.by)
    assert all(g["mean_gap_pct"]["estimate"] is None for g in r.by)


def test_errors_are_python_exceptions_with_hints() -> None:
    with pytest.raises(pe.InputError, match="hours_worked") as info:
        pe.gap(frame(), pay="pay", hours="hours_worked")
    assert "hint:" in str(info.value)
    with pytest.raises(pe.StrictModeError, match="row"):
        pe.gap(frame(), pay="pay", hours="hours", strict=True)
    with pytest.raises(pe.InputError, match="numeric"):
        pe.gap(pl.DataFrame({"gender": ["F"], "pay": ["1,200"], "hours": [1.0]}), pay="pay", hours="hours")
    with pytest.raises(pe.ConfigError, match="measure"):
        pe.gap(frame(), pay="pay", measure="weekly")
    with pytest.raises(pe.InputError, match="not a table"):
        pe.gap(42, pay="pay")
    assert issubclass(pe.StrictModeError, pe.InputError) and issubclass(pe.InputError, pe.PayEquityError)


def test_pandas_input_and_nan_pay() -> None:
    df = pd.DataFrame({"gender": ["F", "M", "M"], "pay": [1.0, float("inf"), 2.0], "hours": [1.0, 1.0, 1.0]})
    r = pe.gap(df, pay="pay", hours="hours", min_cell=0)
    assert r.ledger["excluded"] == {"non_finite_pay": 1}
    assert math.isclose(r.overall["mean_gap_pct"]["estimate"], 50.0)


def test_empty_and_no_women() -> None:
    empty = frame().head(0)
    r = pe.gap(empty, pay="pay", hours="hours")
    assert r.ledger == {"read": 0, "used": 0, "excluded": {}}
    men = frame().filter(pl.col("gender") == "M")
    r = pe.gap(men, pay="pay", hours="hours")
    assert r.overall["mean_gap_pct"]["estimate"] is None and r.warnings
