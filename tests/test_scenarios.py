"""Bargaining scenarios from the CLI and Python (issue 20): the same document from both, the spec's keys,
the table as CSV/Parquet and the chart as SVG, and bad scenario files refused with exit 1 and a message."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

import payequity as pe

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(os.environ.get("PAYEQUITY_BIN", ROOT / "target" / "debug" / "payequity"))
DEMO = ROOT / "datasets" / "demo"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=600)


def test_the_demo_scenarios_from_cli_and_python_agree(tmp_path: Path) -> None:
    args = ["scenario", "--config", str(DEMO / "audit.toml"), "--scenarios", str(DEMO / "scenarios.toml")]
    cli = run(*args, "--format", "json", "--out", str(tmp_path / "s.parquet"), "--chart", str(tmp_path / "s.svg"))
    assert cli.returncode == 0, cli.stderr
    document = json.loads(cli.stdout)
    assert document == pe.scenario(DEMO / "audit.toml", DEMO / "scenarios.toml").to_dict()
    assert document["kind"] == "scenario" and len(document["scenarios"]) == 3
    for key in ("mean_gap_pct", "median_gap_pct", "unexplained", "art10_categories", "equal_value_shortfall_annual",
                "payroll_annual"):
        assert key in document["baseline"]
    for scenario in document["scenarios"]:
        for key in ("name", "mean_gap_pct", "cost_annual", "cost_pct_of_payroll", "workers_raised", "phase_in"):
            assert key in scenario
        assert scenario["cost_annual"] > 0
        assert sum(year["amount"] for year in scenario["phase_in"]) == pytest.approx(scenario["cost_annual"])
    table = pl.read_parquet(tmp_path / "s.parquet")
    assert table["scenario"].to_list()[0] == "baseline" and table.height == 4
    assert (tmp_path / "s.svg").read_text().startswith("<svg")
    text = run(*args)
    assert text.returncode == 0 and "floor of 14 an hour" in text.stdout


@pytest.mark.parametrize("measure, message", [
    ("{ kind = \"floor\", rate_per_hour = -3 }", "floor"),
    ("{ kind = \"percent\", pct = 2, where = \"employee_id IN (SELECT x FROM read_csv('/etc/passwd'))\" }", "refused"),
    ("{ kind = \"flat\", amount_per_hour = 1, where = \"no_such_column > 1\" }", "no_such_column"),
    ("{ kind = \"raise\", pct = 2 }", "scenario"),
])
def test_bad_measures_exit_1_with_a_message(tmp_path: Path, measure: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"[[scenario]]\nname = \"bad\"\nmeasures = [{measure}]\n")
    result = run("scenario", "--config", str(DEMO / "audit.toml"), "--scenarios", str(path))
    assert result.returncode == 1 and message in result.stderr and "root:" not in result.stderr, result.stderr


def test_the_demo_report_carries_the_three_scenarios_without_employee_ids(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    result = run("demo", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    names = [s["name"] for s in report["scenarios"]["scenarios"]]
    assert len(names) == 3
    page = (out / "report.html").read_text()
    assert "Bargaining scenarios" in page and all(name in page for name in names)
    ids = set(pl.read_parquet(DEMO / "payroll.parquet")["employee_id"].unique().to_list())
    for name in ("scenarios.json", "scenarios.csv", "report.json", "report.html", "summary.md"):
        text = (out / name).read_text()
        assert not any(i in text for i in ids), name


def test_the_target_search_from_cli_and_python(tmp_path: Path) -> None:
    args = ["scenario", "--config", str(DEMO / "audit.toml"), "--scenarios", str(DEMO / "scenarios.toml")]
    cli = run(*args, "--target", "mean_gap_pct <= 24", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    document = json.loads(cli.stdout)
    route = document["target"]["cheapest"]
    assert route["figure"] <= 24 and route["cost_annual"] == min(
        r["cost_annual"] for r in document["target"]["routes"] if r["met"])
    python = pe.scenario(DEMO / "audit.toml", DEMO / "scenarios.toml", target="mean_gap_pct <= 24").to_dict()
    assert python == document
    unreachable = run(*args, "--target", "mean_gap_pct <= 1")
    assert unreachable.returncode == 0 and "no route meets it" in unreachable.stdout and "best reached" in unreachable.stdout


def test_individual_adjustments_list_the_workers_only_in_the_annex(tmp_path: Path) -> None:
    args = ["scenario", "--config", str(DEMO / "audit.toml"), "--scenarios", str(DEMO / "scenarios.toml")]
    cli = run(*args, "--remediate", "0.01", "--annex", str(tmp_path / "cli.csv"), "--format", "json")
    assert cli.returncode == 0, cli.stderr
    document = json.loads(cli.stdout)
    remediation = document["remediation"]
    assert remediation["met"] and remediation["unexplained_after"] <= 0.01 < remediation["unexplained_before"]
    assert "workers" not in remediation
    annex = pl.read_csv(tmp_path / "cli.csv", schema_overrides={"employee_id": pl.String})
    assert annex.columns == ["employee_id", "rows", "residual", "raise_annual"]
    assert annex.height == remediation["workers_raised"] and annex["rows"].sum() == remediation["rows_raised"]
    assert annex["raise_annual"].sum() == pytest.approx(remediation["cost_annual"])
    assert annex["residual"].is_sorted() and (annex["residual"] < remediation["residual_floor"]).all()
    # The raised workers are women: group B of the demo's decomposition.
    women = set(pl.read_parquet(DEMO / "payroll.parquet").filter(pl.col("gender") == "F")["employee_id"].to_list())
    assert set(annex["employee_id"].to_list()) <= women
    ids = set(annex["employee_id"].to_list())
    assert not any(i in cli.stdout for i in ids)
    python = pe.scenario(DEMO / "audit.toml", DEMO / "scenarios.toml", remediate=0.01, annex=tmp_path / "py.csv")
    assert python.remediation == remediation and python.to_dict() == document
    assert (tmp_path / "py.csv").read_text() == (tmp_path / "cli.csv").read_text()
    table = run(*args, "--remediate", "0.01")
    assert table.returncode == 0 and "individual adjustments to unexplained <= 0.01: reached" in table.stdout
    assert not any(i in table.stdout for i in ids)
    lonely = run(*args, "--annex", str(tmp_path / "x.csv"))
    assert lonely.returncode != 0 and "--remediate" in lonely.stderr
