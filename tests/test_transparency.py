"""Transparency figures recomputed independently with pandas from the regulation texts
(shared/spec/transparency.md), on the demo payroll and on hand-made tables worked out by hand; Logib against
statsmodels OLS; Art. 10 boundaries; disclosure control; bad input."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import payequity as pe

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo" / "payroll.parquet"
CLI = Path(os.environ.get("PAYEQUITY_BIN", ROOT / "target" / "debug" / "payequity"))
ORDINARY = ["base_pay"]
VARIABLE = ["overtime_pay", "allowance_unsocial", "hazard_pay", "remote_allowance"]
BONUS = ["bonus"]
CONFIG = f"""
[input]
path = "{DEMO}"
[columns]
employee_id = "employee_id"
gender = "gender"
period = "period"
hours = "hours_paid"
fte = "fte"
[pay]
ordinary = {json.dumps(ORDINARY)}
variable = {json.dumps(VARIABLE)}
bonus = {json.dumps(BONUS)}
[transparency]
category = "grade"
full_pay = "full_pay"
justifications = {{ "B3" = "market supplement for ICU nurses" }}
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("transparency") / "audit.toml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def report(config: Path) -> dict[str, Any]:
    return pe.transparency(str(DEMO), config=str(config)).to_dict()


@pytest.fixture(scope="module")
def payroll() -> pd.DataFrame:
    data = pd.read_parquet(DEMO)
    # Data contract: a later row with the same (employee, period) is a duplicate; only F and M count.
    data = data.drop_duplicates(["employee_id", "period"], keep="first")
    return data[data["gender"].isin(["F", "M"])]


def gap(men: float, women: float) -> float:
    return (men - women) / men * 100


def uk_quartiles(values: pd.DataFrame) -> list[tuple[int, int]]:
    """Regulation 10 quartiles written independently: sort by rate, cut into four near-equal parts (extra
    people to the lower parts), then re-spread each block of one rate over the parts it touches in proportion
    to its women (largest remainder, earlier part first on ties). Returns (women, men) per band."""
    rates = values.sort_values("rate", kind="stable").reset_index(drop=True)
    n = len(rates)
    sizes = [n // 4 + (1 if i < n % 4 else 0) for i in range(4)]
    band = np.repeat(np.arange(4), sizes)
    women, men = [0] * 4, [0] * 4
    for _, block in rates.groupby("rate", sort=True):
        places = np.bincount(band[block.index], minlength=4)
        f = int((block["gender"] == "F").sum())
        exact = places * f / places.sum()
        share = np.floor(exact).astype(int)
        for i in sorted(range(4), key=lambda i: (-(exact[i] - math.floor(exact[i])), i))[: f - share.sum()]:
            share[i] += 1
        for i in range(4):
            women[i] += int(share[i])
            men[i] += int(places[i] - share[i])
    return list(zip(women, men))


def test_eu_indicators_match_an_independent_pandas_computation(report: dict[str, Any], payroll: pd.DataFrame) -> None:
    d = payroll.assign(total=payroll[ORDINARY + VARIABLE + BONUS].sum(axis=1),
                       variable=payroll[VARIABLE + BONUS].sum(axis=1))
    eu = report["eu"]
    # Hourly pay level: per worker, pay over the periods with paid hours divided by those hours.
    paid = d[d["hours_paid"] > 0].groupby(["employee_id", "gender"])[["total", "variable", "hours_paid"]].sum()
    hourly = (paid["total"] / paid["hours_paid"]).groupby(level="gender")
    variable = (paid["variable"] / paid["hours_paid"]).groupby(level="gender")
    assert eu["a_mean_gap_pct"] == pytest.approx(gap(hourly.mean()["M"], hourly.mean()["F"]), rel=1e-9)
    assert eu["c_median_gap_pct"] == pytest.approx(gap(hourly.median()["M"], hourly.median()["F"]), rel=1e-9)
    assert eu["b_variable_mean_gap_pct"] == pytest.approx(gap(variable.mean()["M"], variable.mean()["F"]), rel=1e-9)
    assert eu["d_variable_median_gap_pct"] == pytest.approx(
        gap(variable.median()["M"], variable.median()["F"]), rel=1e-9)
    # Annual pay level: everything paid in the year.
    annual = d.groupby(["employee_id", "gender"])[["total", "variable"]].sum()
    a = annual["total"].groupby(level="gender")
    assert eu["annual"]["a_mean_gap_pct"] == pytest.approx(gap(a.mean()["M"], a.mean()["F"]), rel=1e-9)
    assert eu["annual"]["c_median_gap_pct"] == pytest.approx(gap(a.median()["M"], a.median()["F"]), rel=1e-9)
    receiving = (annual["variable"] > 0).groupby(level="gender").mean() * 100
    assert eu["e_share_receiving_variable_pct"]["F"] == pytest.approx(receiving["F"], rel=1e-12)
    assert eu["e_share_receiving_variable_pct"]["M"] == pytest.approx(receiving["M"], rel=1e-12)
    rates = (paid["total"] / paid["hours_paid"]).rename("rate").reset_index()
    expected = uk_quartiles(rates)
    assert [(b["women"], b["men"]) for b in eu["f_quartiles"]] == expected
    assert eu["headcount"]["F"] + eu["headcount"]["M"] == payroll["employee_id"].nunique()


def test_eu_categories_and_art10_flags(report: dict[str, Any], payroll: pd.DataFrame) -> None:
    d = payroll[payroll["hours_paid"] > 0].assign(
        total=payroll[ORDINARY + VARIABLE + BONUS].sum(axis=1), basic=payroll[ORDINARY].sum(axis=1))
    units = d.groupby(["employee_id", "grade", "gender"])[["total", "basic", "hours_paid"]].sum()
    units["rate"] = units["total"] / units["hours_paid"]
    units["basic_rate"] = units["basic"] / units["hours_paid"]
    by = units.groupby(level=["grade", "gender"])[["rate", "basic_rate"]].mean().unstack("gender")
    counts = units.groupby(level=["grade", "gender"]).size().unstack("gender").fillna(0)
    published = {c["category"]: c for c in report["eu"]["g_by_category"]}
    for grade, row in by.iterrows():
        cell = published[grade]
        if cell["suppressed"]:
            continue
        assert min(counts.loc[grade, "F"], counts.loc[grade, "M"]) >= 10
        assert cell["total_gap_pct"] == pytest.approx(gap(row[("rate", "M")], row[("rate", "F")]), rel=1e-9)
        assert cell["basic_gap_pct"] == pytest.approx(gap(row[("basic_rate", "M")], row[("basic_rate", "F")]), rel=1e-9)
    total_gaps = {g: gap(r[("rate", "M")], r[("rate", "F")]) for g, r in by.iterrows()
                  if not (math.isnan(r[("rate", "M")]) or math.isnan(r[("rate", "F")]))}
    flagged = {f["category"]: f for f in report["eu"]["art10_flags"]}
    assert set(flagged) == {g for g, v in total_gaps.items() if abs(v) >= 5}
    assert flagged["B3"]["justification"] == "market supplement for ICU nurses"
    assert report["eu"]["art10_triggered"] is True


def test_uk_figures_match_an_independent_pandas_computation(report: dict[str, Any], payroll: pd.DataFrame) -> None:
    uk = report["uk"]
    snapshot = payroll["period"].max()
    assert uk["snapshot_period"] == snapshot
    now = payroll[payroll["period"] == snapshot]
    ordinary = ORDINARY + [c for c in VARIABLE if "overtime" not in c]  # overtime is not ordinary pay
    full = now[now["full_pay"] & (now["hours_paid"] > 0)]
    rate = full[ordinary].sum(axis=1) / full["hours_paid"]
    by = rate.groupby(full["gender"])
    assert uk["mean_hourly_gap_pct"] == pytest.approx(gap(by.mean()["M"], by.mean()["F"]), rel=1e-9)
    assert uk["median_hourly_gap_pct"] == pytest.approx(gap(by.median()["M"], by.median()["F"]), rel=1e-9)
    assert [(b["women"], b["men"]) for b in uk["quartiles"]] == uk_quartiles(
        pd.DataFrame({"rate": rate.to_numpy(), "gender": full["gender"].to_numpy()}))
    # Bonus: paid in the 12 months to the snapshot, over relevant employees (paid in the snapshot period).
    bonus = payroll.groupby("employee_id")[BONUS].sum().sum(axis=1).reindex(now["employee_id"]).fillna(0.0)
    relevant = pd.DataFrame({"gender": now["gender"].to_numpy(), "bonus": bonus.to_numpy()})
    shares = (relevant["bonus"] > 0).groupby(relevant["gender"]).mean() * 100
    assert uk["bonus_share_pct"]["F"] == pytest.approx(shares["F"], rel=1e-12)
    assert uk["bonus_share_pct"]["M"] == pytest.approx(shares["M"], rel=1e-12)
    got = relevant[relevant["bonus"] > 0].groupby("gender")["bonus"]
    assert uk["mean_bonus_gap_pct"] == pytest.approx(gap(got.mean()["M"], got.mean()["F"]), rel=1e-9)
    assert uk["median_bonus_gap_pct"] == pytest.approx(gap(got.median()["M"], got.median()["F"]), rel=1e-9)


def hand_table(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    """(employee, gender, base pay, hours, bonus) in one period, everyone on full pay."""
    return pd.DataFrame({"employee_id": [r[0] for r in rows], "gender": [r[1] for r in rows],
                         "period": "2025-04", "base_pay": [r[2] for r in rows], "hours": [r[3] for r in rows],
                         "bonus": [r[4] for r in rows], "full_pay": True, "fte": 1.0, "grade": "A"})


HAND: dict[str, Any] = {"ordinary": ["base_pay"], "variable": [], "bonus": ["bonus"], "hours": "hours",
                        "full_pay": "full_pay", "regimes": ["uk", "eu"], "min_cell": 0}


def test_hand_made_quartile_boundary_inside_a_block_of_equal_rates() -> None:
    # Hourly rates (base / 10 hours): 10 F | 20 F, 20 F, 20 M, 20 M | 30 M | 40 M | 50 F. Eight people: bands
    # of two. Rate 20 fills place 2 (band 1), places 3-4 (band 2) and place 5 (band 3); its 2 women of 4 are
    # owed 0.5, 1 and 0.5 → band 1 gets the tied remainder: band 1 = {10 F, one 20 F}, band 2 = one F and
    # one M at 20, band 3 = {20 M, 30 M}, band 4 = {40 M, 50 F}.
    data = hand_table([("e1", "F", 100, 10, 0), ("e2", "F", 200, 10, 0), ("e3", "F", 200, 10, 0),
                       ("e4", "M", 200, 10, 0), ("e5", "M", 200, 10, 0), ("e6", "M", 300, 10, 0),
                       ("e7", "M", 400, 10, 0), ("e8", "F", 500, 10, 0)])
    uk = pe.transparency(data, **HAND).uk
    assert uk is not None
    assert [(b["women"], b["men"]) for b in uk["quartiles"]] == [(2, 0), (1, 1), (0, 2), (1, 1)]
    assert [b["F_pct"] for b in uk["quartiles"]] == [100.0, 50.0, 0.0, 50.0]
    # Mean hourly: men (20+20+30+40)/4 = 27.5, women (10+20+20+50)/4 = 25 → 9.0909...%; medians 25 and 20 → 20%.
    assert uk["mean_hourly_gap_pct"] == pytest.approx(100 * 2.5 / 27.5, rel=1e-12)
    assert uk["median_hourly_gap_pct"] == pytest.approx(20.0, rel=1e-12)


def test_hand_made_company_without_bonuses() -> None:
    data = hand_table([(f"e{i}", "F" if i % 2 else "M", 100 + i, 10, 0) for i in range(12)])
    uk = pe.transparency(data, **HAND).uk
    assert uk is not None
    assert uk["mean_bonus_gap_pct"] is None and uk["median_bonus_gap_pct"] is None
    assert uk["bonus_share_pct"] == {"F": 0.0, "M": 0.0}


def test_art10_flags_exactly_from_five_percent() -> None:
    rows = []
    for category, women_rate in [("at_5.00", 95.0), ("at_4.99", 95.01), ("at_minus_5", 105.0)]:
        for i in range(3):
            rows.append((f"{category}-m{i}", "M", 100.0, category))
            rows.append((f"{category}-f{i}", "F", women_rate, category))
    data = pd.DataFrame({"employee_id": [r[0] for r in rows], "gender": [r[1] for r in rows], "period": "2025",
                         "pay": [r[2] for r in rows], "hours": 1.0, "grade": [r[3] for r in rows]})
    eu = pe.transparency(data, ordinary=["pay"], variable=[], bonus=[], hours="hours", category="grade",
                         regimes=["eu"], min_cell=0).eu
    assert eu is not None
    gaps = {c["category"]: c["total_gap_pct"] for c in eu["g_by_category"]}
    assert gaps["at_4.99"] == pytest.approx(4.99, abs=1e-9)
    assert {f["category"] for f in eu["art10_flags"]} == {"at_5.00", "at_minus_5"}


def test_no_published_cell_is_small_and_suppressed_cells_cannot_be_recovered(report: dict[str, Any]) -> None:
    cells = report["eu"]["g_by_category"]
    published = [c for c in cells if not c["suppressed"]]
    assert all(c["n"]["F"] >= 10 and c["n"]["M"] >= 10 for c in published)
    suppressed = [c for c in cells if c["suppressed"]]
    assert len(suppressed) != 1, "one suppressed cell would be recoverable from the headcount"
    # The subtraction an attacker would try gives only the sum over the suppressed cells.
    for gender in ("F", "M"):
        remainder = report["eu"]["headcount"][gender] - sum(c["n"][gender] for c in published)
        assert all(c["n"][gender] is None for c in suppressed)
        assert remainder >= 0
    assert report["min_cell"] == 10


def logib_design(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The standard analysis model written from the spec: ln(Σ pay / FTE) on education, service, potential
    experience and its square, skill level and position dummies (highest level as base) and female."""
    y = np.log(data[ORDINARY + VARIABLE + BONUS].sum(axis=1) / data["fte"])
    potential = np.maximum(data["age"] - data["education_years"] - 6, 0)
    x = pd.DataFrame({"const": 1.0, "education_years": data["education_years"], "tenure_years": data["tenure_years"],
                      "potential": potential, "potential_sq": potential**2})
    for column in ("skill_level", "position"):
        levels = sorted(data[column].unique())
        for level in levels[:-1]:
            x[f"{column}:{level}"] = (data[column] == level).astype(float)
    x["female"] = (data["gender"] == "F").astype(float)
    return y.to_numpy(), x.to_numpy(), list(x.columns)


def test_logib_equals_statsmodels_ols(report: dict[str, Any], payroll: pd.DataFrame) -> None:
    now = payroll[payroll["period"] == payroll["period"].max()]
    now = now[now[ORDINARY + VARIABLE + BONUS].sum(axis=1) > 0]
    y, x, _ = logib_design(now)
    fit = sm.OLS(y, x).fit()
    logib = report["logib"]
    assert logib["coefficient"]["estimate"] == pytest.approx(fit.params[-1], rel=1e-8)
    assert logib["coefficient"]["se"] == pytest.approx(fit.bse[-1], rel=1e-8)
    assert logib["t"] == pytest.approx(fit.tvalues[-1], rel=1e-8)
    assert logib["df"] == fit.df_resid
    assert logib["r2"] == pytest.approx(fit.rsquared, rel=1e-8)
    b, v = fit.params[-1], fit.bse[-1] ** 2
    assert logib["kennedy"] == pytest.approx(math.exp(b) / math.exp(v / 2) - 1, rel=1e-8)


def logib_sample(gap_pct: float, n: int = 2000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    female = rng.random(n) < 0.6
    education = rng.integers(9, 20, n).astype(float)
    tenure = rng.uniform(0, 30, n)
    age = education + 6 + tenure + rng.uniform(0, 10, n)
    skill = rng.integers(1, 5, n)
    position = rng.integers(1, 6, n)
    log_pay = (8.0 + 0.05 * education + 0.01 * tenure - 0.1 * skill - 0.05 * position
               + np.log1p(-gap_pct / 100) * female + rng.normal(0, 0.05, n))
    return pd.DataFrame({"employee_id": [f"e{i}" for i in range(n)], "gender": np.where(female, "F", "M"),
                         "period": "2025-10", "salary": np.exp(log_pay), "fte": 1.0, "education_years": education,
                         "tenure_years": tenure, "age": age, "skill_level": skill, "position": position})


@pytest.mark.parametrize(("gap_pct", "verdict"), [(0.0, "not_significant"), (2.0, "below_target"),
                                                  (4.0, "below_limit"), (9.0, "above_limit")])
def test_logib_reaches_each_verdict(gap_pct: float, verdict: str) -> None:
    logib = pe.transparency(logib_sample(gap_pct), ordinary=["salary"], variable=[], bonus=[],
                            regimes=["logib"]).logib
    assert logib is not None
    assert logib["verdict"] == verdict, logib


def test_the_logib_verdict_reads_in_words() -> None:
    result = pe.transparency(logib_sample(9.0), ordinary=["salary"], variable=[], bonus=[], regimes=["logib"])
    assert "verdict: significant, above the 5% limit" in result.summary()
    assert "AboveLimit" not in result.summary()


def test_logib_refuses_small_or_one_gender_populations() -> None:
    with pytest.raises(pe.PayEquityError, match="at least 50 employees"):
        pe.transparency(logib_sample(2.0, n=40), ordinary=["salary"], variable=[], bonus=[], regimes=["logib"])
    only_women = logib_sample(2.0).assign(gender="F")
    with pytest.raises(pe.PayEquityError, match="women and men"):
        pe.transparency(only_women, ordinary=["salary"], variable=[], bonus=[], regimes=["logib"])


def test_bad_input_gives_clear_errors_or_warnings(config: Path) -> None:
    data = pd.read_parquet(DEMO)
    with pytest.raises(pe.InputError, match="`band`"):
        pe.transparency(data, config=str(config), category="band", regimes=["eu"])
    with pytest.raises(pe.PayEquityError, match="snapshot period `2024-04`"):
        pe.transparency(data, config=str(config), snapshot_period="2024-04", regimes=["uk"])
    women_only = data.assign(grade=np.where(data["gender"] == "F", "W", data["grade"]))
    eu = pe.transparency(women_only, config=str(config), regimes=["eu"])
    cell = next(c for c in eu["eu"]["g_by_category"] if c["category"] == "W")
    assert cell["suppressed"] and cell["total_gap_pct"] is None
    zero = data.assign(**{c: 0.0 for c in ORDINARY + VARIABLE + BONUS})
    result = pe.transparency(zero, config=str(config), regimes=["eu"]).to_dict()
    assert result["eu"]["a_mean_gap_pct"] is None
    assert result["ledger"]["read"] == result["ledger"]["used"] + sum(result["ledger"]["excluded"].values())
    negative = data.assign(bonus=np.where(data.index == 7, -50.0, data["bonus"]))
    uk = pe.transparency(negative, config=str(config), regimes=["uk"]).to_dict()
    assert uk["ledger"]["read"] == uk["ledger"]["used"] + sum(uk["ledger"]["excluded"].values())


def test_cli_json_equals_python_and_fail_on_trigger_exits_2(config: Path, report: dict[str, Any]) -> None:
    out = subprocess.run([str(CLI), "transparency", "--config", str(config), "--format", "json", "-q"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["eu"] == report["eu"]
    failing = subprocess.run([str(CLI), "transparency", "--config", str(config), "--regime", "eu",
                              "--fail-on-trigger", "-q"], capture_output=True, text=True)
    assert failing.returncode == 2
    assert "joint pay assessment" in failing.stderr


def test_result_helpers(config: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    result = pe.transparency(str(DEMO), config=str(config), regimes=["eu", "uk"])
    assert "EU Pay Transparency Directive" in result.summary() and "UK gender pay gap" in result.summary()
    table = result.to_polars()
    assert set(table["regime"].unique()) == {"eu", "uk"}
    value = table.filter(table["indicator"] == "mean_hourly_gap_pct")["value"][0]
    assert value == pytest.approx(result.uk["mean_hourly_gap_pct"] if result.uk else None, rel=1e-12)
    assert len(result.plot_quartiles("uk").patches) == 8
    assert result.art10_triggered and "joint pay assessment due" in result._repr_html_()
    with pytest.raises(ValueError, match="not computed"):
        result.plot_quartiles("logib")
