"""One engine behind three front ends: the Rust API (examples/gap_json), the CLI (`--format json`) and
Python return the same document for the same call; CLI exit codes and messages for bad input."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

import payequity as pe

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "target" / "debug"
CLI = Path(os.environ.get("PAYEQUITY_BIN", TARGET / "payequity"))
RUST_EXAMPLE = TARGET / "examples" / "gap_json"
DEMO = ROOT / "datasets" / "demo"


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(CLI), *args], capture_output=True, input=stdin, cwd=ROOT, check=False)


def test_rust_cli_and_python_agree_on_the_demo() -> None:
    config = str(DEMO / "audit.toml")
    rust = json.loads(subprocess.run([str(RUST_EXAMPLE), config], capture_output=True, check=True).stdout)
    cli = run_cli("gap", "--config", config, "--format", "json", "--quiet")
    assert cli.returncode == 0, cli.stderr.decode()
    python = pe.gap(DEMO / "payroll.parquet", config=config).to_dict()
    assert rust == json.loads(cli.stdout) == python


def test_flags_and_keywords_reach_the_same_options(tmp_path: Path) -> None:
    data = DEMO / "payroll.parquet"
    cli = run_cli("gap", str(data), "--pay-column", "base_pay", "--hours-column", "hours_paid",
                  "--by", "unit,region", "--min-cell", "5", "--where", "contract_type!=agency",
                  "--bootstrap-reps", "200", "--seed", "9", "--format", "json", "-q")
    assert cli.returncode == 0, cli.stderr.decode()
    python = pe.gap(data, pay="base_pay", hours="hours_paid", by=["unit", "region"], min_cell=5,
                    filters=["contract_type!=agency"], bootstrap_reps=200, seed=9)
    assert json.loads(cli.stdout) == python.to_dict()
    assert python.ledger["excluded"]["filtered"] > 0


def test_csv_output_is_the_polars_table() -> None:
    cli = run_cli("gap", "--config", str(DEMO / "audit.toml"), "--format", "csv", "-q")
    assert cli.returncode == 0
    from io import BytesIO

    table = pl.read_csv(BytesIO(cli.stdout), schema_overrides={"occupation": pl.String})
    python = pe.gap(DEMO / "payroll.parquet", config=str(DEMO / "audit.toml")).to_polars()
    assert table.equals(python)


def test_stdin_arrow_ipc() -> None:
    frame = pl.DataFrame({"gender": ["F", "M", "F", "M"], "pay": [8.0, 10.0, 9.0, 12.0]})
    from io import BytesIO

    buffer = BytesIO()
    frame.write_ipc_stream(buffer)
    cli = run_cli("gap", "-", "--pay-column", "pay", "--min-cell", "0", "--format", "json", stdin=buffer.getvalue())
    assert cli.returncode == 0, cli.stderr.decode()
    assert json.loads(cli.stdout)["overall"]["mean"] == {"F": 8.5, "M": 11.0}


def test_demo_prints_headline_figures(tmp_path: Path) -> None:
    cli = run_cli("demo", "--out", str(tmp_path), "-q")
    out = cli.stdout.decode()
    assert cli.returncode == 0, cli.stderr.decode()
    assert "Mean" in out and "Median" in out and "occupation" in out and "Rows: read" in out
    document = json.loads((tmp_path / "gap.json").read_text())
    assert document["ledger"]["read"] == document["ledger"]["used"] + sum(document["ledger"]["excluded"].values())
    assert (tmp_path / "gap_by_group.csv").exists() and (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["gap", "datasets/demo/payroll.parquet", "--pay-column", "salary"], "salary"),
        (["gap", "datasets/demo/payroll.parquet", "--pay-column", "occupation_title"], "numeric"),
        (["gap", "nonexistent.parquet"], "nonexistent.parquet"),
        (["gap", "datasets/demo/payroll.parquet", "--where", "nonsense"], "COLUMN=VALUE"),
        (["gap", "--no-such-flag"], "--no-such-flag"),
    ],
)
def test_input_errors_exit_1_with_a_message(args: list[str], needle: str) -> None:
    cli = run_cli(*args, "-q") if args[-1] != "--no-such-flag" else run_cli(*args)
    assert cli.returncode == 1
    assert needle in cli.stderr.decode()


def test_strict_mode_exits_1_naming_column_and_row() -> None:
    cli = run_cli("gap", "--config", str(DEMO / "audit.toml"), "--strict", "-q")
    assert cli.returncode == 1
    err = cli.stderr.decode()
    assert "strict mode" in err and ("hours_paid" in err or "employee_id" in err)
    assert "row" in err


def test_config_with_unknown_key_names_it(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[gap]\nmin_cells = 5\n')
    cli = run_cli("gap", "datasets/demo/payroll.parquet", "--config", str(config))
    assert cli.returncode == 1
    assert "min_cells" in cli.stderr.decode() and "bad.toml" in cli.stderr.decode()


def test_generate_is_deterministic_and_matches_python(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "p.parquet", tmp_path / "b" / "p.parquet"
    cli = run_cli("generate", "--employees", "300", "--months", "2", "--seed", "5", "--out", str(a))
    assert cli.returncode == 0, cli.stderr.decode()
    truth = pe.generate(b, employees=300, months=2, seed=5)
    assert pl.read_parquet(a).equals(pl.read_parquet(b))
    assert json.loads((a.parent / "truth.json").read_text()) == truth
