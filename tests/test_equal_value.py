"""Equal pay for work of equal value: a hand-worked example, the demo's planted truths, the pay line against
numpy/statsmodels, and bad input (``shared/spec/equal-value.md``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

import payequity as pe

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"

# One sub-factor per factor would do; a single explicit points ladder keeps the hand example readable.
SCHEME = """
[scheme]
name = "hand"
max_points = 1000
[[factor]]
name = "skills"
  [[factor.subfactor]]
  name = "knowledge"
  weight = 100
  points = [300, 400, 450, 490, 500, 510]
"""
LEVEL = {300: 1, 400: 2, 450: 3, 490: 4, 500: 5, 510: 6}


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def ratings_csv(tmp: Path, points: dict[str, int]) -> str:
    lines = ["job,subfactor,level"] + [f"{job},knowledge,{LEVEL[p]}" for job, p in points.items()]
    return write(tmp, "ratings.csv", "\n".join(lines) + "\n")


def payroll(classes: dict[str, list[tuple[str, float, float]]]) -> pl.DataFrame:
    """Incumbents (gender, hourly rate, hours) by job; one row each."""
    rows = [(f"{job}-{i}", g, job, rate * hours, hours)
            for job, people in classes.items() for i, (g, rate, hours) in enumerate(people)]
    return pl.DataFrame(rows, schema=["employee_id", "gender", "job", "pay", "hours"], orient="row")


# Two female, three male and one neutral class. F1 (500 points) has two male classes of equal value (within
# 5% of the higher score: M1 at 510, M2 at 490): the comparator is the one with the LOWEST job rate, M2 (20.00).
# F2 (400) has no male class of equal value (M3 at 300 is 25% lower); the male classes of lower value paid more
# than F2 are M3 only (M1 and M2 score higher): comparator M3 (19.00). Job rate = highest rate of the class.
HAND = {
    "F1": [("F", 16.0, 100.0), ("F", 18.0, 150.0), ("F", 17.0, 100.0), ("F", 15.0, 50.0), ("M", 17.5, 100.0)],
    "F2": [("F", 14.0, 200.0), ("F", 15.0, 100.0), ("F", 12.0, 100.0)],
    "M1": [("M", 21.0, 100.0), ("M", 22.0, 100.0), ("M", 20.0, 100.0)],
    "M2": [("M", 20.0, 100.0), ("M", 19.0, 100.0), ("M", 18.0, 100.0), ("F", 18.5, 100.0)],
    "M3": [("M", 19.0, 100.0), ("M", 17.0, 100.0), ("M", 18.0, 100.0)],
    "N1": [("F", 30.0, 100.0), ("M", 29.0, 100.0)],
}
POINTS = {"F1": 500, "F2": 400, "M1": 510, "M2": 490, "M3": 300, "N1": 450}


@pytest.fixture()
def hand(tmp_path: Path) -> pe.EqualValueResult:
    return pe.equal_value(payroll(HAND), scheme=write(tmp_path, "scheme.toml", SCHEME),
                          ratings=ratings_csv(tmp_path, POINTS), job="job", method="both", phase_in_pct=1.0)


def test_hand_worked_comparators_and_shortfalls(hand: pe.EqualValueResult) -> None:
    classes = {c["job"]: c for c in hand.classes}
    assert {j: c["predominance"] for j, c in classes.items()} == {
        "F1": "female", "F2": "female", "M1": "male", "M2": "male", "M3": "male", "N1": "neutral"}
    # F1: 4 of 5 women = 80% >= 60%; M2: 3 of 4 men = 75% >= 70%; N1: 50/50.
    assert classes["F1"]["job_rate"] == 18.0 and classes["F2"]["job_rate"] == 15.0
    jtj = {c["job"]: c for c in hand.to_dict()["comparisons"] if c["method"] == "job-to-job"}
    assert jtj["F1"]["comparator"] == "M2" and jtj["F1"]["rule"] == "equal_value"
    assert jtj["F1"]["shortfall_per_hour"] == pytest.approx(20.0 - 18.0)
    assert jtj["F2"]["comparator"] == "M3" and jtj["F2"]["rule"] == "lower_value_higher_rate"
    assert jtj["F2"]["shortfall_per_hour"] == pytest.approx(19.0 - 15.0)
    # Cost: shortfall x hours of every incumbent of the class (F1: 500 h, F2: 400 h) = 1000 + 1600.
    assert jtj["F1"]["shortfall_per_year"] == pytest.approx(2.0 * 500.0)
    assert jtj["F2"]["shortfall_per_year"] == pytest.approx(4.0 * 400.0)
    cost = hand["cost"]
    assert cost["method"] == "job-to-job" and cost["annual_total"] == pytest.approx(2600.0)
    payroll_total = sum(rate * hours for people in HAND.values() for _, rate, hours in people)
    assert cost["pct_of_payroll"] == pytest.approx(100 * 2600.0 / payroll_total)
    # Phase-in at 1% of the previous year's payroll (which grows by the increases given).
    remaining, given, years = 2600.0, 0.0, []
    while remaining > 1e-9:
        amount = min(0.01 * (payroll_total + given), remaining)
        years.append(amount)
        given += amount
        remaining -= amount
    assert [y["amount"] for y in cost["phase_in"]] == pytest.approx(years)


def test_pay_line_equals_numpy_and_statsmodels(hand: pe.EqualValueResult, tmp_path: Path) -> None:
    males = [(510.0, 22.0), (490.0, 20.0), (300.0, 19.0)]
    x, y = np.array([m[0] for m in males]), np.array([m[1] for m in males])
    slope, intercept = np.polyfit(x, y, 1)
    line = hand.pay_line
    assert line is not None
    assert line["slope"] == pytest.approx(slope, abs=1e-10) and line["intercept"] == pytest.approx(intercept, abs=1e-10)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    assert line["r2"] == pytest.approx(fit.rsquared, abs=1e-10)
    prop = {c["job"]: c for c in hand.to_dict()["comparisons"] if c["method"] == "proportional"}
    assert prop["F2"]["target_rate"] == pytest.approx(intercept + slope * 400, abs=1e-10)
    # Weighted by incumbents (3, 4 and 3): statsmodels WLS.
    wls = sm.WLS(y, sm.add_constant(x), weights=np.array([3.0, 4.0, 3.0])).fit()
    config = write(tmp_path, "c.toml", '[equal_value]\nweight_pay_line = true\njob = "job"\n')
    result = pe.equal_value(payroll(HAND), scheme=str(tmp_path / "scheme.toml"), ratings=str(tmp_path / "ratings.csv"),
                            method="proportional", config=config)
    assert result.pay_line is not None and result.pay_line["weighted"]
    assert result.pay_line["slope"] == pytest.approx(wls.params[1], abs=1e-10)
    assert result.pay_line["intercept"] == pytest.approx(wls.params[0], abs=1e-10)
    assert result.pay_line["r2"] == pytest.approx(wls.rsquared, abs=1e-10)


def test_demo_recovers_the_planted_equal_value_truths() -> None:
    truth = json.loads((DEMO / "truth.json").read_text())["equal_value"]
    result = pe.equal_value(str(DEMO / "payroll.parquet"), config=str(DEMO / "audit.toml"))
    flagged = {c["job"]: c for c in result.flagged("job-to-job")}
    # Every planted class flagged, no other (at the demo's sample size).
    assert set(flagged) == {t["female_dominated"] for t in truth}
    for planted in truth:
        found = flagged[planted["female_dominated"]]
        assert found["comparator"] == planted["male_dominated"]
        assert found["rule"] == planted["rule"]
        # Shortfall as a percent of the comparator's rate, within 2 points of the planted base-rate gap.
        assert abs(found["shortfall_pct"] - planted["shortfall_pct"]) <= 2.0, (found, planted)
    ledger = result.ledger
    assert ledger["read"] == ledger["used"] + sum(ledger["excluded"].values())
    # Published class table: a class with fewer than min_cell women or men has no counts by gender.
    small = [c for c in result.classes if c["suppressed"]]
    assert small and all(c["n"]["F"] is None and c["n"]["M"] is None for c in small)


def test_cli_json_equals_python(tmp_path: Path) -> None:
    binary = os.environ.get("PAYEQUITY_BIN", str(ROOT / "target" / "debug" / "payequity"))
    out = subprocess.run([binary, "equal-value", "--config", str(DEMO / "audit.toml"), "--format", "json"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    cli = json.loads(out.stdout)
    py = pe.equal_value(str(DEMO / "payroll.parquet"), config=str(DEMO / "audit.toml")).to_dict()
    assert cli["classes"] == py["classes"] and cli["cost"] == py["cost"]


def test_unrated_jobs_are_listed(tmp_path: Path) -> None:
    points = {k: v for k, v in POINTS.items() if k not in ("M3", "N1")}
    with pytest.raises(pe.PayEquityError, match=r"no rating: M3, N1"):
        pe.equal_value(payroll(HAND), scheme=write(tmp_path, "s.toml", SCHEME), ratings=ratings_csv(tmp_path, points),
                       job="job")


def test_level_out_of_range_and_weights_not_100(tmp_path: Path) -> None:
    ratings = write(tmp_path, "r.csv", "job,subfactor,level\n" + "\n".join(
        f"{j},knowledge,{9 if j == 'F2' else LEVEL[p]}" for j, p in POINTS.items()) + "\n")
    with pytest.raises(pe.PayEquityError, match=r"job `F2`, sub-factor `knowledge`: level 9 is out of range"):
        pe.equal_value(payroll(HAND), scheme=write(tmp_path, "s.toml", SCHEME), ratings=ratings, job="job")
    bad = SCHEME.replace("weight = 100", "weight = 99")
    with pytest.raises(pe.PayEquityError, match=r"weights sum to 99"):
        pe.equal_value(payroll(HAND), scheme=write(tmp_path, "b.toml", bad), ratings=ratings_csv(tmp_path, POINTS),
                       job="job")


def test_one_incumbent_and_no_male_classes_give_clear_messages(tmp_path: Path) -> None:
    classes = {"F1": HAND["F1"], "F2": HAND["F2"], "N1": HAND["N1"], "X": [("F", 40.0, 10.0)]}
    points = {"F1": 500, "F2": 400, "N1": 450, "X": 510}
    result = pe.equal_value(payroll(classes), scheme=write(tmp_path, "s.toml", SCHEME),
                            ratings=ratings_csv(tmp_path, points), job="job", method="both")
    text = " ".join(result.warnings)
    assert "`X` has one incumbent" in text
    assert "the proportional method needs male job classes" in text
    assert result.pay_line is None
    comparisons = result.to_dict()["comparisons"]
    # X (one woman) is a female class too; with no male class, none of the three has a comparator.
    assert sorted(c["job"] for c in comparisons) == ["F1", "F2", "X"]
    assert all(c["rule"] == "no_comparator" and c["comparator"] is None and c["shortfall_per_hour"] == 0
               for c in comparisons)
    assert result.flagged("job-to-job") == []
    # Neutrality checklist: a one-sub-factor scheme rates none of the care-work demands.
    assert "emotional effort" in text


def test_toml_ratings_plot_and_html(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    jobs = "\n".join(f'[[job]]\njob = "{j}"\nlevels = {{ knowledge = {LEVEL[p]} }}\n' for j, p in POINTS.items())
    result = pe.equal_value(payroll(HAND), scheme=write(tmp_path, "s.toml", SCHEME),
                            ratings=write(tmp_path, "r.toml", jobs), job="job", method="both")
    assert {c["job"]: c["points"] for c in result.classes} == {j: float(p) for j, p in POINTS.items()}
    ax = result.plot_pay_line()
    assert ax.get_xlabel() == "job evaluation points" and len(ax.collections) >= 3
    assert "F1" in result._repr_html_() and "M2" in result.summary()


def test_cli_config_errors_name_the_key(tmp_path: Path) -> None:
    binary = os.environ.get("PAYEQUITY_BIN", str(ROOT / "target" / "debug" / "payequity"))
    config = write(tmp_path, "a.toml", '[equal_value]\njob = "occupation"\njob_rate = "highest"\n')
    out = subprocess.run([binary, "equal-value", str(DEMO / "payroll.parquet"), "--config", config],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1 and "job_rate" in out.stderr, out.stderr
