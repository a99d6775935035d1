"""Usability findings of issue 18 (item 12): a UK snapshot without a period column, the README's commands on
the demo, 1-based row numbers, config errors that name the key, and a hint on every input error."""

from __future__ import annotations

import json
import re
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

import payequity as pe
from hostile_support import CLI, DEMO, ROOT, demo_config, rules_file, run, small_payroll


def test_uk_figures_from_a_single_snapshot_without_a_period_column() -> None:
    frame = pl.read_parquet(DEMO / "payroll.parquet")
    december = frame.filter(pl.col("period") == "2025-12")
    with_period = pe.transparency(december, config=str(DEMO / "audit.toml"), regimes=["uk"])
    without = pe.transparency(december.drop("period"), config=str(DEMO / "audit.toml"), regimes=["uk"])
    for key in ("mean_hourly_gap_pct", "median_hourly_gap_pct"):
        assert without["uk"][key] == pytest.approx(with_period["uk"][key], rel=1e-12)


def readme_commands() -> list[str]:
    """The commands of the README's "Command line" block, one per `$` line (continuations joined)."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("## Command line"):]
    block = block[block.index("```console") + len("```console"):]
    block = block[:block.index("```")]
    commands: list[str] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            commands.append(line[2:])
        elif commands:
            commands[-1] += " " + line.strip()
    return [re.sub(r"\s+#.*$", "", c.replace("\\ ", " ")).strip() for c in commands]


def test_the_readme_commands_run_on_a_generated_payroll(tmp_path: Path) -> None:
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    env = {**os.environ, "PATH": f"{CLI.parent}:{os.environ['PATH']}"}
    generated = subprocess.run([str(CLI), "generate", "--employees", "400", "--months", "12", "--out",
                                "payroll.parquet"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert generated.returncode == 0, generated.stderr
    ran = 0
    for command in readme_commands():
        # Placeholders (`...`) and inputs the reader brings (a CSV, a folder, stdin, their own config) are skipped.
        if any(p in command for p in ("...", "payroll/", "payroll.csv", "payroll.arrows", " generate ")) or (
                "audit.toml" in command and "datasets/demo/audit.toml" not in command):
            continue
        command = command.replace("[--reweight]", "--reweight")
        result = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=600)
        # 2 is a gate that fired (--fail-on-arrears), which the README's audit example asks for.
        assert result.returncode in (0, 2), (command, result.stderr)
        assert "panicked" not in result.stderr
        ran += 1
    assert ran >= 7


def test_row_numbers_are_1_based_and_python_errors_carry_their_context(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("employee_id,gender,pay,hours\ne1,F,10,1\ne2,M,20,1\ne3,F,-5,1\ne4,M,30,1\n")
    with pytest.raises(pe.StrictModeError) as error:
        pe.gap(str(path), pay="pay", hours="hours", strict=True)
    assert "first offending row(s): 3" in str(error.value)
    assert error.value.row == 3 and error.value.column == "pay" and error.value.hint
    result = run("gap", str(path), "--pay-column", "pay", "--hours-column", "hours", "--strict")
    assert result.returncode == 1 and "row(s): 3" in result.stderr
    with pytest.raises(pe.InputError) as missing:
        pe.gap(str(path), pay="salary", hours="hours")
    assert missing.value.column == "salary" and missing.value.row is None


def test_config_errors_name_the_dotted_key_and_line_with_a_hint(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[columns]\ngender = "gender"\n[gap]\nmin_cell = "ten"\n')
    result = run("gap", str(DEMO / "payroll.parquet"), "--config", str(config))
    assert result.returncode == 1
    assert "key `gap.min_cell`" in result.stderr and "line 4" in result.stderr and "hint:" in result.stderr
    with pytest.raises(pe.ConfigError) as error:
        pe.gap(DEMO / "payroll.parquet", config=str(config))
    assert error.value.key == "gap.min_cell"
