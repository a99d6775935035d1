"""Bad payroll files through the CLI and Python: every row used or counted with its reason, strict mode
names column and row, and empty files, files without women, missing columns, non-numeric pay and NaN/inf
pay give clear results or errors, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import payequity as pe

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(os.environ.get("PAYEQUITY_BIN", ROOT / "target" / "debug" / "payequity"))

HEADER = "employee_id,period,gender,base_pay,bonus,hours\n"
# One row per kind of problem (1-based data rows in the comments).
BAD_ROWS = (
    "e1,m1,F,100,0,10\n"      # 1 used
    "e1,m1,F,100,0,10\n"      # 2 duplicate_key
    "e2,m1,,50,0,5\n"         # 3 null_gender (empty field)
    "e3,m1,M,,,5\n"           # 4 null_pay (every component null)
    "e4,m1,M,NaN,0,5\n"       # 5 non_finite_pay
    "e5,m1,F,-10,0,5\n"       # 6 negative_pay
    "e6,m1,M,inf,0,5\n"       # 7 non_finite_pay
    "e7,m1,F,80,0,0\n"        # 8 non_positive_hours
    "e8,m1,X,70,0,7\n"        # 9 used, other gender kept as its own group
    "e9,m1,M,90,,9\n"         # 10 used (null bonus counts as 0)
    "e10,m1,F,60,0,\n"        # 11 null_hours
    "e11,m1,M,120,0,10\n"     # 12 used
    "e12,m1,M,100,0,-1\n"     # 13 non_positive_hours
)
ARGS = ["--pay-column", "base_pay,bonus", "--hours-column", "hours", "--min-cell", "0"]
EXPECTED = {"duplicate_key": 1, "null_gender": 1, "null_pay": 1, "non_finite_pay": 2, "negative_pay": 1,
            "non_positive_hours": 2, "null_hours": 1}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args, "-q"], capture_output=True, text=True, cwd=ROOT, check=False)


@pytest.fixture()
def bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + BAD_ROWS)
    return path


def test_every_bad_row_is_ledgered_from_cli_and_python(bad_csv: Path) -> None:
    run = cli("gap", str(bad_csv), *ARGS, "--format", "json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    ledger = document["ledger"]
    assert ledger == {"read": 13, "used": 4, "excluded": EXPECTED}
    assert document["overall"]["n"] == {"F": 1, "M": 2, "X": 1}
    python = pe.gap(bad_csv, pay=["base_pay", "bonus"], hours="hours", min_cell=0)
    assert python.to_dict() == document


def test_strict_mode_names_reason_column_and_row(bad_csv: Path) -> None:
    run = cli("gap", str(bad_csv), *ARGS, "--strict")
    assert run.returncode == 1
    assert "duplicate_key" in run.stderr and "employee_id + period" in run.stderr and "row(s): 2" in run.stderr
    assert "hint:" in run.stderr


def test_header_only_file_gives_an_empty_ledger(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(HEADER)
    run = cli("gap", str(path), *ARGS, "--format", "json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["ledger"] == {"read": 0, "used": 0, "excluded": {}}
    assert document["overall"]["mean_gap_pct"]["estimate"] is None and document["warnings"]


def test_zero_byte_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "nothing.csv"
    path.write_text("")
    run = cli("gap", str(path), *ARGS)
    assert run.returncode == 1 and "nothing.csv" in run.stderr
    assert "panicked" not in run.stderr


def test_no_women_gives_null_gaps_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "men.csv"
    path.write_text(HEADER + "e1,m1,M,100,0,10\ne2,m1,M,120,0,10\n")
    document = json.loads(cli("gap", str(path), *ARGS, "--format", "json").stdout)
    assert document["overall"]["mean_gap_pct"]["estimate"] is None
    assert any("0 women" in w for w in document["warnings"])


def test_missing_and_non_numeric_columns_are_named(tmp_path: Path, bad_csv: Path) -> None:
    run = cli("gap", str(bad_csv), "--pay-column", "salary")
    assert run.returncode == 1 and "`salary`" in run.stderr and "base_pay" in run.stderr
    path = tmp_path / "text.csv"
    path.write_text(HEADER + 'e1,m1,F,"1,200.50",0,10\n')
    run = cli("gap", str(path), *ARGS)
    assert run.returncode == 1 and "`base_pay`" in run.stderr and "numeric" in run.stderr
    with pytest.raises(pe.InputError, match="base_pay"):
        pe.gap(path, pay=["base_pay", "bonus"], hours="hours")


def test_nan_and_inf_pay_never_reach_the_figures(tmp_path: Path) -> None:
    path = tmp_path / "nan.csv"
    path.write_text(HEADER + "e1,m1,F,100,0,10\ne2,m1,M,NaN,0,10\ne3,m1,M,-inf,0,10\ne4,m1,M,150,0,10\n")
    document = json.loads(cli("gap", str(path), *ARGS, "--format", "json").stdout)
    assert document["ledger"]["excluded"] == {"non_finite_pay": 2}
    assert document["overall"]["mean_gap_pct"]["estimate"] == pytest.approx(100 * (15 - 10) / 15, rel=1e-12)
