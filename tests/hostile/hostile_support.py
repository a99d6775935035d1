"""Shared helpers of the hostile-input suite (issue 18): the CLI runner, small payrolls, rule files and a
demo config with absolute paths."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("PAYEQUITY_BIN", ROOT / "target" / "debug" / "payequity"))
DEMO = ROOT / "datasets" / "demo"


def run(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, input=input_text, timeout=300)


def small_payroll(labels: list[str]) -> pl.DataFrame:
    rows = []
    for i in range(40):
        rows.append({"employee_id": f"e{i}", "gender": "F" if i % 2 else "M", "pay": 1000.0 + 10 * i,
                     "hours": 100.0, "unit": labels[i % len(labels)]})
    return pl.DataFrame(rows)


def rules_file(tmp_path: Path, when: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[ruleset]\nname = "t"\nperiod = "month"\n[[rule]]\nid = "hazard"\nkind = "hazard"\n'
        f"when = {json.dumps(when)}\namount = {{ flat = 10 }}\npaid = \"hazard_pay\"\n"
    )
    return path


def demo_config(tmp_path: Path, annex: bool, title: str = "Audit") -> Path:
    text = (DEMO / "audit.toml").read_text().replace('path = "payroll.parquet"',
                                                     f'path = "{(DEMO / "payroll.parquet").as_posix()}"')
    text = text.replace('"../', f'"{(ROOT / "datasets").as_posix()}/')
    text = text.replace('file = "scenarios.toml"', f'file = "{(DEMO / "scenarios.toml").as_posix()}"')
    path = tmp_path / f"audit-{annex}.toml"
    lines = []
    for line in text.splitlines():
        if line.startswith("worker_annex"):
            line = f"worker_annex = {'true' if annex else 'false'}"
        if line.startswith("title"):
            line = f"title = {json.dumps(title)}"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path
