"""The Python face of the decomposition: inputs of every kind give the same document, result helpers
(summary, to_polars, HTML, plot) work, and bad input raises the documented exception classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pytest

import payequity as pe


def frame(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    male = rng.random(n) < 0.5
    tenure = rng.uniform(0, 20, n)
    grade = rng.choice(["B1", "B2", "B3"], n)
    pay = np.exp(2.5 + 0.03 * tenure + 0.1 * male + (grade == "B3") * 0.2 + rng.normal(0, 0.2, n))
    return pd.DataFrame({"gender": np.where(male, "M", "F"), "tenure": tenure, "grade": grade, "pay": pay,
                         "w": rng.uniform(0.5, 2.0, n)})


KWARGS = {"outcome": "pay", "log": True, "group": "gender", "group_a": "M", "covariates": ["tenure"],
          "categorical": ["grade"]}


def test_pandas_polars_arrow_and_path_inputs_agree(tmp_path: Path) -> None:
    data = frame()
    path = tmp_path / "payroll.parquet"
    data.to_parquet(path)
    documents = [pe.oaxaca(d, **KWARGS).to_dict() for d in (data, pl.from_pandas(data), pa.Table.from_pandas(data),
                                                             str(path))]
    for document in documents[1:]:
        assert document["twofold"] == documents[0]["twofold"]


def test_result_helpers() -> None:
    result = pe.oaxaca(frame(), weights="w", **KWARGS)
    assert "Blinder-Oaxaca decomposition" in result.summary()
    assert "grade:B3" in result.summary(detail=True)
    table = result.to_polars()
    assert set(table["section"].unique()) == {"overall", "threefold", "twofold"}
    explained = table.filter((pl.col("component") == "explained") & (pl.col("scope") == "term"))
    assert explained["estimate"].sum() == pytest.approx(result.twofold["explained"]["estimate"], abs=1e-12)
    assert "<table>" in result._repr_html_() and "Difference in percent" in result._repr_html_()
    assert result.to_dict()["sum_weights"]["a"] != result.to_dict()["n"]["a"]
    assert "OaxacaResult" in repr(result)


def test_plot_draws_one_bar_per_term_or_group() -> None:
    import matplotlib

    matplotlib.use("Agg")
    result = pe.oaxaca(frame(), **KWARGS)
    ax = result.plot("unexplained")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["_cons", "tenure", "grade"]
    assert len(result.plot("endowments", groups=False).patches) == 5
    with pytest.raises(ValueError, match="unknown component"):
        result.plot("nonsense")


def test_bad_input_raises_the_documented_classes() -> None:
    data = frame()
    with pytest.raises(pe.InputError, match="`wage`"):
        pe.oaxaca(data, **{**KWARGS, "outcome": "wage"})
    with pytest.raises(pe.PayEquityError, match="unknown reference"):
        pe.oaxaca(data, **{**KWARGS, "reference": "oaxaca"})
    with pytest.raises(pe.PayEquityError, match="W must be in"):
        pe.oaxaca(data, **{**KWARGS, "reference": "weight", "weight": 1.5})
    data.loc[5, "pay"] = -1.0
    assert pe.oaxaca(data, **KWARGS).ledger["excluded"] == {"non_positive_outcome": 1}
    with pytest.raises(pe.StrictModeError, match="row\\(s\\): 6"):
        pe.oaxaca(data, strict=True, **KWARGS)


def test_config_section_fills_the_options(tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    config.write_text('[oaxaca]\noutcome = "pay"\nlog = true\ncovariates = ["tenure"]\nreference = "neumark"\n')
    result = pe.oaxaca(frame(), config=str(config))
    assert result.twofold["reference"] == "neumark"
    assert result["groups"] == {"a": "M", "b": "F"}
