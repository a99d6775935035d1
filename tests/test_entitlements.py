"""Entitlement audits (``shared/spec/entitlements.md``): the demo's planted non-payment recovered to the cent,
an independent pandas implementation of the demo rules, disparity tests against scipy and statsmodels, the
no-disparity control, the shipped rule sets, the CLI and bad input."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm
from scipy.stats import fisher_exact
from statsmodels.stats.proportion import proportions_ztest

import payequity as pe

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"
RULES = ROOT / "datasets" / "rules"
DEMO_RULES = RULES / "demo-hospital.toml"
BIN = os.environ.get("PAYEQUITY_BIN", str(ROOT / "target" / "debug" / "payequity"))


def cents(x: pd.Series) -> pd.Series:
    """Half away from zero, as payroll rounds (amounts here are ≥ 0)."""
    return np.floor(x * 100 + 0.5) / 100


def demo_lines() -> pd.DataFrame:
    """The demo rules written from their text, in pandas: one row per worker × period × rule that applies."""
    df = pl.read_parquet(DEMO / "payroll.parquet").to_pandas()
    df = df.drop_duplicates(["employee_id", "period"], keep="first")
    share = df["risk_level"].map({"high": 0.25, "medium": 0.10})
    hazard = df[(df["hazard_hours"] > 0) & share.notna()].assign(
        rule="hazard", expected=lambda d: cents(d["hazard_hours"] * d["base_hourly_rate"] * share[d.index]),
        paid=lambda d: d["hazard_pay"])
    overtime = df[df["overtime_hours"] > 0].assign(
        rule="overtime", expected=lambda d: cents(d["overtime_hours"] * d["base_hourly_rate"] * 1.5),
        paid=lambda d: d["overtime_pay"])
    remote = df[(df["remoteness_tier"] == 2) & (df["hours_paid"] > 0)].assign(
        rule="remote_area", expected=lambda d: cents(180 * d["fte"]), paid=lambda d: d["remote_allowance"])
    lines = pd.concat([hazard, overtime, remote])
    short = lines["expected"] - lines["paid"]
    lines["status"] = np.where(short >= 0.01 - 1e-9, np.where(lines["paid"] < 0.01, "not_paid", "underpaid"),
                               np.where(-short >= 0.01 - 1e-9, "overpaid", "ok"))
    lines["short_paid"] = lines["status"].isin(["underpaid", "not_paid"])
    lines["shortfall"] = np.where(lines["short_paid"], short, 0.0)
    return lines


@pytest.fixture(scope="module")
def demo() -> pe.EntitlementAudit:
    return pe.audit_entitlements(DEMO / "payroll.parquet", rules=DEMO_RULES, by=["gender", "contract_type"],
                                 controls=["occupation"])


def test_planted_non_payment_recovered_to_the_cent(demo: pe.EntitlementAudit) -> None:
    truth = json.loads((DEMO / "truth.json").read_text())["hazard_non_payment"]
    planted = {(c["employee_id"], c["period"]): c for c in truth["cases"]}
    arrears = demo.arrears()
    assert arrears.columns == ["employee_id", "rule", "period", "expected", "paid", "shortfall", "status"]
    found = {(r["employee_id"], r["period"]): r for r in arrears.iter_rows(named=True)}
    assert set(found) == set(planted)  # every planted case found, none invented
    for key, case in planted.items():
        row = found[key]
        assert row["rule"] == "hazard"
        assert row["status"] == case["status"]
        assert row["expected"] == pytest.approx(case["expected"], abs=1e-9)
        assert row["shortfall"] == pytest.approx(case["shortfall"], abs=1e-9)
    assert round(demo.arrears_total, 2) == truth["shortfall_total"]
    hazard = demo.rules[0]
    assert hazard["eligible"] == truth["eligible_worker_periods"]
    assert hazard["expected_total"] == truth["expected_total"]
    # The 25 planted duplicate rows are excluded and counted.
    assert demo.ledger["excluded"] == {"duplicate_key": 25}
    assert demo.ledger["read"] == demo.ledger["used"] + 25


def test_rule_summaries_equal_an_independent_pandas_implementation(demo: pe.EntitlementAudit) -> None:
    lines = demo_lines()
    for rule in demo.rules:
        mine = lines[lines["rule"] == rule["id"]]
        assert rule["eligible"] == len(mine)
        assert rule["workers"] == mine["employee_id"].nunique()
        assert rule["expected_total"] == pytest.approx(round(mine["expected"].sum(), 2), abs=0.005)
        assert rule["paid_total"] == pytest.approx(round(mine["paid"].sum(), 2), abs=0.005)
        counts = mine["status"].value_counts().to_dict()
        for status in ["ok", "underpaid", "not_paid", "overpaid"]:
            assert rule["status_counts"][status] == counts.get(status, 0), (rule["id"], status)


def test_disparity_tests_equal_scipy_and_statsmodels(demo: pe.EntitlementAudit) -> None:
    lines = demo_lines()
    published = [row for row in demo.disparities if not row["suppressed"]]
    assert {(row["by"], row["rule"]) for row in published} == {(b, r) for b in ["gender", "contract_type"]
                                                                for r in ["hazard", "overtime", "remote_area"]}
    for row in published:
        rule = lines[lines["rule"] == row["rule"]]
        inside = rule[row["by"]] == row["group"]
        x1, n1 = int(rule.loc[inside, "short_paid"].sum()), int(inside.sum())
        x2, n2 = int(rule.loc[~inside, "short_paid"].sum()), int((~inside).sum())
        assert (row["eligible"], row["underpaid"]) == (n1, x1)
        assert row["workers"] == rule.loc[inside, "employee_id"].nunique()
        assert row["mean_arrears"] == pytest.approx(rule.loc[inside, "shortfall"].sum() / row["workers"], rel=1e-9)
        if x1 + x2 == 0:
            assert (row["test"], row["p_value"]) == ("fisher", 1.0)  # nobody short-paid: nothing to compare
            continue
        assert row["test"] == "z"
        _, p = proportions_ztest([x1, x2], [n1, n2])
        assert row["p_value"] == pytest.approx(p, rel=1e-6, abs=1e-300)
    # The planted disparity (women and agency workers are left unpaid more often) is detected.
    by = {(d["by"], d["rule"], d["group"]): d for d in demo.disparities}
    assert by[("gender", "hazard", "F")]["p_value"] < 0.01
    assert by[("contract_type", "hazard", "agency")]["p_value"] < 0.01
    assert by[("contract_type", "hazard", "agency")]["underpaid_pct"] > by[("contract_type", "hazard", "permanent")]["underpaid_pct"]
    # Few X workers are eligible for hazard pay: that cell is withheld, and the men's cell with it (the
    # rule's totals would otherwise give the X cell away).
    assert by[("gender", "hazard", "X")]["suppressed"] and by[("gender", "hazard", "M")]["suppressed"]
    assert by[("gender", "hazard", "M")]["underpaid_pct"] is None
    assert demo.logit is not None
    odds = {t["term"]: t for t in demo.logit["terms"]}
    assert odds["gender=M"]["odds_ratio"] < 1 and odds["gender=M"]["p_value"] < 0.01


def test_logit_equals_statsmodels(demo: pe.EntitlementAudit) -> None:
    fit = demo.logit
    assert fit is not None
    assert fit["rules"] == ["hazard"]  # overtime and remote-area pay were never short-paid
    lines = demo_lines()
    lines = lines[lines["rule"] == "hazard"]
    base = {"gender": "F", "contract_type": "permanent", "occupation": "2221"}
    assert dict(map(tuple, fit["reference"])) == base
    design = pd.DataFrame({"const": 1.0}, index=lines.index)
    for column, reference in base.items():
        for level in sorted(set(lines[column]) - {reference}):
            design[f"{column}={level}"] = (lines[column] == level).astype(float)
    model = sm.Logit(lines["short_paid"].astype(float), design).fit(disp=0, tol=1e-12, maxiter=100)
    terms = {t["term"]: t for t in fit["terms"]}
    assert list(terms) == list(design.columns)
    for name in design.columns:
        assert terms[name]["coef"] == pytest.approx(model.params[name], abs=1e-6)
        assert terms[name]["se"] == pytest.approx(model.bse[name], abs=1e-6)
        assert terms[name]["p_value"] == pytest.approx(model.pvalues[name], abs=1e-6)
    assert fit["log_likelihood"] == pytest.approx(model.llf, abs=1e-6)
    assert fit["pseudo_r2"] == pytest.approx(model.prsquared, abs=1e-8)
    assert fit["n"] == len(lines)


def test_no_disparity_control_is_not_flagged(tmp_path: Path) -> None:
    path = tmp_path / "control.parquet"
    truth = pe.generate(path, employees=5000, months=12, seed=7, plant_disparity=False)
    result = pe.audit_entitlements(path, rules=DEMO_RULES, by=["gender", "contract_type"])
    by = {(d["by"], d["rule"], d["group"]): d for d in result.disparities}
    assert by[("gender", "hazard", "F")]["p_value"] > 0.05
    assert by[("contract_type", "hazard", "agency")]["p_value"] > 0.05
    assert round(result.arrears_total, 2) == truth["hazard_non_payment"]["shortfall_total"]


def small_table() -> pl.DataFrame:
    # 6 women: 3 not paid; 8 men: 1 not paid → Fisher's exact test (expected counts below 5).
    women = [("W%d" % i, "F", 0.0 if i < 3 else 10.0) for i in range(6)]
    men = [("M%d" % i, "M", 0.0 if i < 1 else 10.0) for i in range(8)]
    rows = women + men
    return pl.DataFrame({"employee_id": [r[0] for r in rows], "period": ["2024-01"] * len(rows),
                         "gender": [r[1] for r in rows], "paid": [r[2] for r in rows]})


RULE_DICT: dict[str, Any] = {
    "ruleset": {"name": "dict rules"},
    "rule": [{"id": "flat", "kind": "allowance", "amount": {"flat": 10}, "paid": "paid"}],
}


def test_fisher_exact_for_small_cells_and_rules_as_a_dict() -> None:
    result = pe.audit_entitlements(small_table(), rules=RULE_DICT, min_cell=0, logit=False)
    by = {d["group"]: d for d in result.disparities}
    assert all(d["rule"] == "flat" for d in result.disparities)
    assert by["F"]["test"] == "fisher"
    _, p = fisher_exact([[3, 3], [1, 7]])
    assert by["F"]["p_value"] == pytest.approx(p, rel=1e-9)
    assert by["M"]["p_value"] == pytest.approx(p, rel=1e-9)
    assert result.arrears_total == 40.0
    assert result.arrears()["status"].to_list() == ["not_paid"] * 4


def test_small_groups_are_suppressed_with_a_complement() -> None:
    result = pe.audit_entitlements(small_table(), rules=RULE_DICT, min_cell=7, logit=False)
    # Women (6 workers) fall under 7; the men would give them away through the totals, so they go too.
    assert [d["suppressed"] for d in result.disparities] == [True, True]
    assert all(d["underpaid_pct"] is None for d in result.disparities)


def test_python_result_api(demo: pe.EntitlementAudit) -> None:
    table = demo.to_polars()
    assert table["rule"].to_list() == ["hazard", "overtime", "remote_area"]
    assert "Entitlement audit" in demo.summary()
    assert "Arrears by rule" in demo._repr_html_() and "<svg" in demo._repr_html_()
    assert demo.to_dict()["kind"] == "entitlement_audit"
    import matplotlib

    matplotlib.use("Agg")
    assert demo.plot().get_title() == "Shortfall by rule"
    assert demo.plot(by="gender").get_title() == "Short-paid by gender"


def test_config_section_and_cli(tmp_path: Path) -> None:
    from_config = pe.audit_entitlements(DEMO / "payroll.parquet", config=DEMO / "audit.toml")
    planted = json.loads((DEMO / "truth.json").read_text())["hazard_non_payment"]["shortfall_total"]
    assert from_config.arrears_total == pytest.approx(planted, abs=0.005)
    out = tmp_path / "arrears.csv"
    run = subprocess.run([BIN, "audit-entitlements", str(DEMO / "payroll.parquet"), "--rules", str(DEMO_RULES),
                          "--format", "json", "--arrears-out", str(out), "--fail-on-arrears", "1000", "-q"],
                         capture_output=True, text=True)
    assert run.returncode == 2, run.stderr
    assert "exceed --fail-on-arrears" in run.stderr
    document = json.loads(run.stdout)
    assert document["kind"] == "entitlement_audit"
    assert document["arrears_total"] == from_config.arrears_total
    assert pl.read_csv(out).height == 1348
    run = subprocess.run([BIN, "audit-entitlements", str(DEMO / "payroll.parquet"), "--rules", str(DEMO_RULES),
                          "--fail-on-arrears", "1000000", "-q"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_shipped_rule_sets_parse_and_cite_their_source(tmp_path: Path) -> None:
    files = sorted(RULES.glob("*.toml"))
    assert {f.name for f in files} >= {"ph-ra11712-hea.toml", "us-5cfr550-hazard.toml", "us-flsa-overtime.toml",
                                        "illustrative-remote-area.toml", "demo-hospital.toml"}
    import tomllib

    for path in files:
        rules = tomllib.loads(path.read_text())
        assert rules["ruleset"].get("source"), path.name
    # The rule sets written for the demo's columns run on it.
    data = pl.read_parquet(DEMO / "payroll.parquet").with_columns(hea_paid=pl.lit(0.0))
    for name in ["us-5cfr550-hazard.toml", "illustrative-remote-area.toml"]:
        result = pe.audit_entitlements(data, rules=RULES / name)
        assert result.rules[0]["eligible"] > 0, name
    # The demo's periods (2025) are after the Philippine public health emergency ended (2023-07-21).
    assert pe.audit_entitlements(data, rules=RULES / "ph-ra11712-hea.toml").rules[0]["eligible"] == 0
    illustrative = pe.audit_entitlements(DEMO / "payroll.parquet", rules=RULES / "illustrative-remote-area.toml")
    assert any("illustrative" in w for w in illustrative.warnings)
    # PH HEA: high risk, 22 days → PHP 9,000; 11 days → 4,500; outside the emergency → not eligible.
    week = pl.DataFrame({"employee_id": ["a", "b", "c"], "period": ["2022-01", "2022-01", "2023-08"],
                         "gender": ["F", "M", "F"], "risk_level": ["high", "high", "high"],
                         "days_worked": [22.0, 11.0, 22.0], "hea_paid": [9000.0, 3000.0, 0.0]})
    hea = pe.audit_entitlements(week, rules=RULES / "ph-ra11712-hea.toml", min_cell=0, logit=False)
    assert hea.rules[0]["eligible"] == 2
    assert hea.rules[0]["expected_total"] == 13500.0
    assert hea.arrears_total == 1500.0


BAD_RULES = {
    "unknown column": ('when = "risk = \'high\'"\namount = { flat = 1 }\npaid = "p"', "rule[r].when", "`risk`"),
    "sql syntax": ('when = "hours >> = 2"\namount = { flat = 1 }\npaid = "p"', "rule[r].when", "does not parse"),
    "missing field": ('amount = { per_shift = 3 }\npaid = "p"', "rule[r].amount.shifts", "needs `shifts`"),
    "negative amount": ('amount = { flat = -3 }\npaid = "p"', "rule[r].amount.flat", "negative"),
    "unknown paid": ('amount = { flat = 3 }\npaid = "paid_x"', "rule[r].paid", "`paid_x`"),
}


@pytest.mark.parametrize("case", list(BAD_RULES))
def test_bad_rules_name_the_rule_and_field(case: str, tmp_path: Path) -> None:
    body, key, words = BAD_RULES[case]
    path = tmp_path / "rules.toml"
    path.write_text(f'[ruleset]\nname = "bad"\n[[rule]]\nid = "r"\nkind = "hazard"\n{body}\n')
    data = pl.DataFrame({"employee_id": ["a"], "period": ["2024-01"], "gender": ["F"], "hours": [1.0], "p": [1.0]})
    with pytest.raises(pe.ConfigError) as error:
        pe.audit_entitlements(data, rules=path)
    assert key in str(error.value) and words in str(error.value)


def test_bad_payroll_values_are_named(tmp_path: Path) -> None:
    overlapping = dict(RULE_DICT, rule=[RULE_DICT["rule"][0], dict(RULE_DICT["rule"][0], id="flat2")])
    with pytest.raises(pe.ConfigError, match=r"rule\[flat2\]\.paid.*`flat` and `flat2`.*combine"):
        pe.audit_entitlements(small_table(), rules=overlapping)
    negative = small_table().with_columns(paid=pl.when(pl.col("employee_id") == "M3").then(-5.0).otherwise(pl.col("paid")))
    with pytest.raises(pe.InputError, match=r"column `paid`, row 9.*rule `flat`"):
        pe.audit_entitlements(negative, rules=RULE_DICT)
    bad_period = small_table().with_columns(period=pl.lit("January"))
    with pytest.raises(pe.InputError, match=r"column `period`, row 0.*YYYY-MM"):
        pe.audit_entitlements(bad_period, rules=RULE_DICT)
