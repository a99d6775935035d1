"""Parity with published output: the README of R's ``ddecompose`` (Rios-Avila-style decompositions by
Gallusser & Meier; github.com/samumei/ddecompose, commit 69afd75, file README.md), on the package's own data
(``data/nlys00.rda`` and ``data/men8305.rda``, converted to Parquet in ``tests/data/ddecompose/``).

1. ``dfl_decompose(log(wage) ~ union*(education+experience) + education*experience, men8305, weights,
   group = year)``: the observed difference, composition and structure effects at the deciles, the mean, the
   variance, the Gini of wages and three interquantile ranges, and the reweighting factor's distribution.
   payequity's ``dfl(..., quantile_method="r7")`` must give every printed digit. Two conventions differ and
   are converted here, not hidden: R's variance is ``Hmisc::wtd.var`` (divisor W - 1; payequity publishes the
   population form, divisor W), and R's Gini integrates the Lorenz curve with ``stats::integrate`` (relative
   tolerance 1.2e-4), where payequity's mid-rank formula is the exact integral.
2. ``ob_decompose(log(wage) ~ age + region + education + ... + industry, nlys00, group = female,
   reference_0 = FALSE, subtract_1_from_0 = TRUE)``: the aggregate and per-variable (grouped factor dummies)
   estimates equal payequity's ``oaxaca(reference="weight", weight=1, detail_groups=...)`` with the sign
   flipped (R reports female - male). Its analytical SEs add the second-order term Σx∘Σβ of the exact
   variance of a product (Goodman 1960) to Jann's (2008) delta method that payequity and Stata use; the test
   computes that term independently (numpy, statsmodels) and checks sqrt(se² + term) against R's SEs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import payequity as pe

DATA = Path(__file__).resolve().parent / "data" / "ddecompose"


def printed(value: float, reference: float, digits_after_point: int, slack: float = 0.0) -> None:
    """``value`` rounds to the printed ``reference`` (half a unit of its last digit, plus ``slack``)."""
    tolerance = 0.5 * 10.0 ** -digits_after_point * (1 + 1e-9) + slack
    assert abs(value - reference) <= tolerance, f"{value} vs printed {reference} (tolerance {tolerance})"


# --- DFL on men8305 ----------------------------------------------------------------------------------

LEVELS = {
    "union": ["no", "yes"],
    "education": ["High School", "Elementary", "HS dropout", "Some College", "College", "Post-graduate"],
    "experience": ["20-24", "0-4", "5-9", "10-14", "15-19", "25-29", "30-34", "35-39", ">=40"],
}

# README.md, summary(flf_male_inequality): (estimate, digits after the point) of the observed difference,
# composition effect and structure effect, as printed.
DECILES = {
    0.1: ((0.062533, 6), (0.03342, 5), (0.02911, 5)),
    0.2: ((0.031163, 6), (0.05429, 5), (-0.02313, 5)),
    0.3: ((0.007079, 6), (0.07207, 5), (-0.06499, 5)),
    0.4: ((-0.002060, 6), (0.07697, 5), (-0.07903, 5)),
    0.5: ((0.004041, 6), (0.09504, 5), (-0.09100, 5)),
    0.6: ((0.022516, 6), (0.08023, 5), (-0.05771, 5)),
    0.7: ((0.044445, 6), (0.08993, 5), (-0.04548, 5)),
    0.8: ((0.101837, 6), (0.11981, 5), (-0.01797, 5)),
    0.9: ((0.174073, 6), (0.12265, 5), (0.05142, 5)),
}
OTHER = {
    "mean": ((0.06205, 5), (0.080587, 6), (-0.01853, 5)),
    "var": ((0.06211, 5), (0.023498, 6), (0.03861, 5)),
    "iqr10_90": ((0.11154, 5), (0.089236, 6), (0.02230, 5)),
    "iqr50_90": ((0.17003, 5), (0.027615, 6), (0.14242, 5)),
    "iqr10_50": ((-0.05849, 5), (0.061621, 6), (-0.12011, 5)),
}
GINI = ((0.04299, 5), (0.007114, 6), (0.03588, 5))
PSI = {"min": 0.1179, "p10": 0.3407, "p25": 0.6318, "p50": 0.7669, "p75": 1.2396, "p90": 1.7638, "max": 3.2585}


def logit_design(frame: pd.DataFrame) -> pd.DataFrame:
    """R's model.matrix of union*(education + experience) + education*experience: treatment dummies (first
    level left out) and all their pairwise products, without the intercept (payequity adds it)."""
    main = {f"{v}{level}": (frame[v] == level).astype(float) for v, levels in LEVELS.items() for level in levels[1:]}
    columns = dict(main)
    for left, right in [("union", "education"), ("union", "experience"), ("education", "experience")]:
        for a in LEVELS[left][1:]:
            for b in LEVELS[right][1:]:
                columns[f"{left}{a}:{right}{b}"] = main[f"{left}{a}"] * main[f"{right}{b}"]
    design = pd.DataFrame(columns)
    design.columns = [f"z{i}" for i in range(design.shape[1])]
    return design


@pytest.fixture(scope="module")
def men8305() -> pd.DataFrame:
    frame = pd.read_parquet(DATA / "men8305.parquet")
    design = logit_design(frame)
    design["wage"] = frame["wage"]
    design["year"] = frame["year"]
    design["weights"] = frame["weights"]
    return design


def run_dfl(frame: pd.DataFrame, statistics: list[str], log: bool) -> dict[str, Any]:
    covariates = [c for c in frame.columns if c.startswith("z")]
    result = pe.dfl(frame, outcome="wage", log=log, group="year", group_a="2003-2005", group_b="1983-1985",
                    covariates=covariates, weights="weights", statistic=statistics, quantile_method="r7")
    document: dict[str, Any] = result.to_dict()
    return document


def test_dfl_quantiles_mean_and_ranges_equal_ddecompose(men8305: pd.DataFrame) -> None:
    statistics = [f"q{int(tau * 100)}" for tau in DECILES] + list(OTHER)
    document = run_dfl(men8305, statistics, log=True)
    published = [*DECILES.values(), *OTHER.values()]
    assert len(document["results"]) == len(published)
    sum_weights = min(document["sum_weights"].values())
    for entry, expected in zip(document["results"], published, strict=True):
        variance = entry["statistic"] == "var"
        for part, (reference, digits) in zip(("difference", "composition", "structure"), expected, strict=True):
            # Hmisc::wtd.var divides by W - 1: the population variance times W/(W - 1) moves each variance
            # by at most var/(W - 1) (about 2e-5 here).
            slack = 2 * max(entry["a"], entry["b"], entry["counterfactual"]) / (sum_weights - 1) if variance else 0.0
            printed(entry[part]["estimate"], reference, digits, slack)


def test_dfl_gini_equals_ddecompose_within_rs_integration_tolerance(men8305: pd.DataFrame) -> None:
    entry = run_dfl(men8305, ["gini"], log=False)["results"][0]
    # R integrates the piecewise-linear Lorenz curve numerically (stats::integrate, rel.tol 1.22e-4) where
    # payequity's mid-rank formula is its exact integral: allow that tolerance on each of the two Ginis.
    slack = 1.22e-4 * (entry["a"] + entry["b"])
    for part, (reference, digits) in zip(("difference", "composition", "structure"), GINI, strict=True):
        printed(entry[part]["estimate"], reference, digits, slack)


def test_dfl_reweighting_factor_distribution_equals_ddecompose(men8305: pd.DataFrame) -> None:
    psi = run_dfl(men8305, ["mean"], log=True)["psi"]
    for key, reference in PSI.items():
        printed(psi[key], reference, 4)
    assert psi["trimmed"] == 0


def test_stata_quantile_rule_differs_where_r_and_stata_differ(men8305: pd.DataFrame) -> None:
    """The switch is real: Stata's _pctile rule moves q10's difference off R's printed 0.062533."""
    covariates = [c for c in men8305.columns if c.startswith("z")]
    entry = pe.dfl(men8305, outcome="wage", log=True, group="year", group_a="2003-2005", group_b="1983-1985",
                   covariates=covariates, weights="weights", statistic=["q10"]).to_dict()["results"][0]
    assert abs(entry["difference"]["estimate"] - 0.062533) > 1e-4


# --- Oaxaca-Blinder on nlys00 ------------------------------------------------------------------------

NUMERIC = ["age", "years_worked_civilian", "years_worked_military", "part_time", "family_responsibility"]
FACTORS = {
    "region": ["East", "North-central", "South", "West"],
    "education": ["10-12 yrs (no diploma or GED)", "<10 yrs", "HS grad (diploma)", "HS grad (GED)", "Some college",
                  "BA or equiv. degree", "MA or equiv. degree", "Ph.D or prof. degree"],
    "industry": ["Primary, Constr., Utilities", "Manufacturing", "Education, Health, Public Admin.",
                 "Other services"],
}
# README.md, summary(gender_gap_decomposition): female - male, male coefficients as the reference.
AGGREGATE = {  # (estimate, SE)
    "difference": (-0.23330029, 0.01466550),
    "explained": (-0.20686977, 0.01828421),
    "unexplained": (-0.02643052, 0.01907475),
}
STRUCTURE = {  # (estimate, SE), printed with 10 decimals
    "_cons": (-0.0981318689, 0.2137428884),
    "age": (0.2024835070, 0.2327690880),
    "region": (-0.0353034766, 0.0271166306),
    "education": (-0.0742506682, 0.0335841725),
    "years_worked_civilian": (-0.1954027885, 0.0575554072),
    "years_worked_military": (0.0008898637, 0.0008924724),
    "part_time": (0.0813405909, 0.0153752265),
    "family_responsibility": (-0.0037184554, 0.0179140863),
    "industry": (0.0956627763, 0.0335458386),
}
COMPOSITION = {  # (estimate with 9 decimals, SE with 7 significant digits), as printed
    "age": (-0.007885058, 2.292319e-03),
    "region": (-0.004396870, 2.357891e-03),
    "education": (0.020456057, 7.611010e-03),
    "years_worked_civilian": (-0.075649400, 7.599371e-03),
    "years_worked_military": (-0.017728902, 2.902154e-03),
    "part_time": (-0.066637519, 9.159341e-03),
    "family_responsibility": (-0.031868276, 1.096548e-02),
    "industry": (-0.023159799, 6.351270e-03),
}


def close_to_printed(value: float, reference: float, significant: int) -> None:
    tolerance = 0.5 * 10.0 ** (np.floor(np.log10(abs(reference))) - significant + 1) * (1 + 1e-9)
    assert abs(value - reference) <= tolerance, f"{value} vs printed {reference}"


@pytest.fixture(scope="module")
def nlys00() -> pd.DataFrame:
    frame = pd.read_parquet(DATA / "nlys00.parquet")
    frame["gender"] = np.where(frame["female"] == "yes", "F", "M")
    return frame


@pytest.fixture(scope="module")
def ob(nlys00: pd.DataFrame) -> dict[str, Any]:
    groups = {name: [name] for name in FACTORS}
    result = pe.oaxaca(nlys00, outcome="wage", log=True, group="gender", group_a="M", group_b="F",
                       covariates=NUMERIC, categorical=list(FACTORS),
                       base_levels={name: levels[0] for name, levels in FACTORS.items()},
                       detail_groups=groups, normalize=False, reference="weight", weight=1.0)
    document: dict[str, Any] = result.to_dict()
    return document


def covariances(frame: pd.DataFrame) -> tuple[dict[str, list[int]], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each variable's block of columns in R's design (intercept, numeric, treatment dummies), and per gender
    Σx = cov(X)/n (R's cov.wt: divisor n - 1) and Σβ, the homoscedastic OLS covariance (statsmodels)."""
    columns = list(NUMERIC)
    design = frame[NUMERIC].astype(float).copy()
    blocks: dict[str, list[int]] = {"_cons": [0]}
    for name in NUMERIC:
        blocks[name] = [1 + columns.index(name)]
    for name, levels in FACTORS.items():
        start = 1 + len(columns)
        for level in levels[1:]:
            design[f"{name}{level}"] = (frame[name] == level).astype(float)
            columns.append(f"{name}{level}")
        blocks[name] = list(range(start, 1 + len(columns)))
    sigma_x, sigma_b = {}, {}
    for gender in ("M", "F"):
        rows = frame["gender"] == gender
        x = sm.add_constant(design[rows].to_numpy(), has_constant="add")
        fit = sm.OLS(np.log(frame.loc[rows, "wage"].to_numpy()), x).fit()
        sigma_x[gender] = np.cov(x, rowvar=False) / x.shape[0]
        sigma_b[gender] = np.asarray(fit.cov_params())
    return blocks, sigma_x, sigma_b


def goodman_terms(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The terms ddecompose adds, male coefficients the reference, summed over each variable's block:
    difference Σx_M∘Σβ_M + Σx_F∘Σβ_F, composition (Σx_M + Σx_F)∘Σβ_M, structure Σx_F∘(Σβ_M + Σβ_F)."""
    blocks, sx, sb = covariances(frame)
    products = {
        "difference": sx["M"] * sb["M"] + sx["F"] * sb["F"],
        "composition": (sx["M"] + sx["F"]) * sb["M"],
        "structure": sx["F"] * (sb["M"] + sb["F"]),
    }
    terms: dict[str, dict[str, float]] = {}
    for part, product in products.items():
        terms[part] = {name: float(product[np.ix_(block, block)].sum()) for name, block in blocks.items()}
        terms[part]["total"] = float(product.sum())
    return terms


def by_term(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Detailed terms and the grouped ones (the named detail groups: R's per-variable rows of factors)."""
    entries = [*document["twofold"]["detailed"], *document["twofold"]["groups"]]
    return {entry["term"]: entry for entry in entries}


def test_oaxaca_estimates_equal_ddecompose(ob: dict[str, Any]) -> None:
    twofold = ob["twofold"]
    printed(-ob["difference"]["estimate"], AGGREGATE["difference"][0], 8)
    printed(-twofold["explained"]["estimate"], AGGREGATE["explained"][0], 8)
    printed(-twofold["unexplained"]["estimate"], AGGREGATE["unexplained"][0], 8)
    terms = by_term(ob)
    for name, (estimate, _) in STRUCTURE.items():
        printed(-terms[name]["unexplained"]["estimate"], estimate, 10)
    for name, (estimate, _) in COMPOSITION.items():
        printed(-terms[name]["explained"]["estimate"], estimate, 9)
    assert terms["_cons"]["explained"]["estimate"] == 0.0


def test_oaxaca_standard_errors_equal_ddecompose_plus_the_goodman_term(nlys00: pd.DataFrame,
                                                                       ob: dict[str, Any]) -> None:
    extra = goodman_terms(nlys00)
    twofold = ob["twofold"]

    def with_term(se: float, term: float) -> float:
        return float(np.sqrt(se**2 + term))

    printed(with_term(ob["difference"]["se"], extra["difference"]["total"]), AGGREGATE["difference"][1], 8)
    printed(with_term(twofold["explained"]["se"], extra["composition"]["total"]), AGGREGATE["explained"][1], 8)
    printed(with_term(twofold["unexplained"]["se"], extra["structure"]["total"]), AGGREGATE["unexplained"][1], 8)
    terms = by_term(ob)
    for name, (_, se) in STRUCTURE.items():
        printed(with_term(terms[name]["unexplained"]["se"], extra["structure"][name]), se, 10)
    for name, (_, se) in COMPOSITION.items():  # printed as 7 significant digits
        close_to_printed(with_term(terms[name]["explained"]["se"], extra["composition"][name]), se, 7)


def test_oaxaca_standard_errors_differ_from_ddecompose_without_the_term(ob: dict[str, Any]) -> None:
    """payequity keeps Jann's delta method (Stata's numbers): its SE of the difference is below R's."""
    assert ob["difference"]["se"] < AGGREGATE["difference"][1] - 1e-5
