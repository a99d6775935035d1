"""Hostile inputs, security (issue 18, items 1-4): rule SQL that reads files, spreadsheet formulas and terminal
escapes in labels, oversized binary input echoed in errors, links and stale files in the output folder."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

import payequity as pe
from hostile_support import CLI, DEMO, ROOT, demo_config, rules_file, run, small_payroll


@pytest.mark.parametrize("when", [
    "employee_id IN (SELECT x FROM read_csv('/etc/passwd'))",
    "read_csv('/etc/passwd') IS NOT NULL",
    "read_parquet('/etc/passwd') = 1",
    "EXISTS (SELECT 1)",
])
def test_rule_sql_that_reads_files_is_refused_without_echoing_them(tmp_path: Path, when: str) -> None:
    with pytest.raises(pe.PayEquityError) as error:
        pe.audit_entitlements(DEMO / "payroll.parquet", rules=rules_file(tmp_path, when))
    message = str(error.value)
    assert "rule[hazard].when" in message and "refused" in message
    assert "root:" not in message


def test_a_5000_term_rule_is_refused_with_a_message(tmp_path: Path) -> None:
    when = " OR ".join(["hazard_hours > 0"] * 5000)
    result = run("audit-entitlements", str(DEMO / "payroll.parquet"), "--rules", str(rules_file(tmp_path, when)))
    assert result.returncode == 1, result.stderr
    assert "characters" in result.stderr and "panicked" not in result.stderr


def test_csv_outputs_neutralize_formulas(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    small_payroll(["=HYPERLINK(\"http://x\")", "+cmd", "@SUM(A1)", "-2+3", "ward"]).write_parquet(path)
    result = run("gap", str(path), "--pay-column", "pay", "--hours-column", "hours", "--by", "unit",
                 "--min-cell", "1", "--format", "csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()[1:]
    assert not any(cell[:1] in {"=", "+", "@"} for line in lines for cell in line.replace('"', "").split(","))
    assert any(line.startswith("'=HYPERLINK") or "'=HYPERLINK" in line for line in lines), result.stdout
    # The DataFrame (and Parquet) keep the raw value.
    table = pe.gap(pl.read_parquet(path), pay="pay", hours="hours", by=["unit"], min_cell=1).to_polars()
    assert "=HYPERLINK(\"http://x\")" in table["unit"].to_list()


def test_terminal_escapes_in_labels_do_not_reach_the_terminal(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    small_payroll(["\x1b[31mred\x1b[0m", "\u202eevil", "ward"]).write_parquet(path)
    result = run("gap", str(path), "--pay-column", "pay", "--hours-column", "hours", "--by", "unit",
                 "--min-cell", "1")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "?[31mred" in result.stdout


def test_binary_input_error_is_short(tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(os.urandom(100_000))
    result = run("gap", str(path))
    assert result.returncode == 1
    assert len(result.stderr) < 3_000 and "\x1b" not in result.stderr


def test_output_folder_links_are_replaced_and_stale_annex_removed(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "report.json").symlink_to(victim)
    (out / "arrears_by_worker.csv").write_text("employee_id\nE00001\n")
    (out / "notes.txt").write_text("the user's own file")
    result = run("report", "--config", str(demo_config(tmp_path, annex=False, title="<script>alert(1)</script>")),
                 "--out", str(out))
    assert result.returncode in (0, 2), result.stderr
    assert victim.read_text() == "keep me"
    assert not (out / "report.json").is_symlink()
    assert not (out / "arrears_by_worker.csv").exists()
    assert (out / "notes.txt").read_text() == "the user's own file"
    assert not [p for p in out.iterdir() if p.name.startswith(".payequity-pack-")]
    summary = (out / "summary.md").read_text()
    assert "<script>" not in summary and "&lt;script&gt;" in summary


def test_a_failed_run_leaves_the_previous_pack_intact(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    first = run("report", "--config", str(demo_config(tmp_path, annex=False)), "--out", str(out))
    assert first.returncode in (0, 2), first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = tmp_path / "broken.toml"
    broken.write_text(demo_config(tmp_path, annex=False).read_text().replace("demo-ratings.csv", "missing.csv"))
    failed = run("report", "--config", str(broken), "--out", str(out))
    assert failed.returncode == 1 and "missing.csv" in failed.stderr, failed.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
