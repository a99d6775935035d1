#!/usr/bin/env python3
"""Every command's JSON document on the demo payroll, from two builds of `payequity`, compared field by field.

    python3 tests/documents/compare.py BEFORE_BIN AFTER_BIN [--engine memory|stream]

A refactoring must leave every document unchanged: the script runs each command of `COMMANDS` with both
binaries and reports the first differing field of each document (the build's `commit` is left out). Exit 0
when all are equal. `tests/test_documents.py` runs the same commands in memory and streamed with one build.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo"
PAYROLL = str(DEMO / "payroll.parquet")
PAY = "base_pay,overtime_pay,allowance_unsocial,hazard_pay,remote_allowance,bonus"
OAXACA = ["--outcome", "base_hourly_rate", "--log", "--group", "gender", "--group-a", "M", "--group-b", "F",
          "--covariates", "tenure_years,age,fte", "--categorical", "occupation"]

# name → arguments (each prints one JSON document with --format json); `streams`: takes --engine.
COMMANDS: dict[str, tuple[list[str], bool]] = {
    "gap": (["gap", PAYROLL, "--pay-column", PAY, "--hours-column", "hours_paid", "--by", "occupation"], True),
    "gap-rows": (["gap", PAYROLL, "--pay-column", PAY, "--hours-column", "hours_paid", "--by", "grade",
                  "--unit", "row"], True),
    "oaxaca": (["oaxaca", PAYROLL, *OAXACA, "--detail"], True),
    "oaxaca-robust": (["oaxaca", PAYROLL, *OAXACA, "--vce", "robust"], True),
    "oaxaca-bootstrap": (["oaxaca", PAYROLL, *OAXACA, "--se", "bootstrap", "--reps", "20", "--seed", "7"], True),
    "rif": (["rif", PAYROLL, *OAXACA, "--statistic", "q10,q50,q90"], True),
    "quantile-profile": (["quantile-profile", PAYROLL, *OAXACA, "--percentiles", "10,25,50,75,90"], True),
    "transparency": (["transparency", "--config", str(DEMO / "audit.toml"), PAYROLL], True),
    "equal-value": (["equal-value", PAYROLL, "--scheme", str(ROOT / "datasets/equal_value/health-and-care-scheme.toml"),
                     "--ratings", str(ROOT / "datasets/equal_value/demo-ratings.csv"), "--job", "occupation",
                     "--config", str(DEMO / "audit.toml"), "--method", "both"], True),
    "audit-entitlements": (["audit-entitlements", PAYROLL, "--rules", str(ROOT / "datasets/rules/demo-hospital.toml"),
                            "--by", "gender,contract_type", "--controls", "occupation"], True),
    "report": (["report", "--config", str(DEMO / "audit.toml")], False),
    "scenario": (["scenario", "--config", str(DEMO / "audit.toml"), "--scenarios", str(DEMO / "scenarios.toml")],
                 False),
}


def without_commit(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_commit(v) for k, v in value.items() if k != "commit"}
    if isinstance(value, list):
        return [without_commit(v) for v in value]
    return value


def document(binary: str, args: list[str], engine: str | None) -> Any:
    extra = ["--engine", engine] if engine else []
    done = subprocess.run([binary, *args, *extra, "--format", "json", "-q"], capture_output=True, text=True,
                          timeout=900, cwd=ROOT)
    if done.returncode not in (0, 2):
        raise RuntimeError(f"{' '.join(args[:1])}: exit {done.returncode}: {done.stderr.strip()[-2000:]}")
    return without_commit(json.loads(done.stdout))


def first_difference(a: Any, b: Any, path: str = "", tol: float = 0.0) -> str | None:
    """The path of the first field that differs (numbers to `tol` relative, 1e-12 absolute; exactly by
    default), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key} (only in one)"
            found = first_difference(a[key], b[key], f"{path}.{key}", tol)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} (lengths {len(a)} and {len(b)})"
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]", tol)
            if found:
                return found
        return None
    if tol and isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        # Relative, with an absolute floor for figures that are zero up to rounding (1e-15).
        return None if abs(a - b) <= tol * max(abs(a), abs(b)) + 1e-12 else f"{path}: {a!r} != {b!r}"
    return None if a == b else f"{path}: {a!r} != {b!r}"


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 64
    before, after = sys.argv[1], sys.argv[2]
    engine = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--engine" else None
    failed = 0
    for name, (args, streams) in COMMANDS.items():
        chosen = engine if streams else None
        difference = first_difference(document(before, args, chosen), document(after, args, chosen))
        print(f"{name:20} {'same' if difference is None else 'DIFFERENT at ' + difference}")
        failed += difference is not None
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
