"""Peer comparison for the Oaxaca-Blinder decomposition on the same Parquet file of N rows x 20 covariates.

Each contender runs as its own process, end to end (process start, read the file, decompose, write the
result), timed with /usr/bin/time for wall time and peak memory (max RSS):
- statsmodels 0.15: pandas.read_parquet + OaxacaBlinder(...).three_fold() + .two_fold() (pooled), no SEs;
- numpy: pandas.read_parquet + per-group / pooled np.linalg.lstsq and the component formulas, no SEs;
- payequity CLI: `payequity oaxaca FILE ... --format json` (twofold pooled + threefold + detailed, delta SEs);
- payequity Python: `pe.oaxaca(path, ...)` in a fresh interpreter (same work as the CLI).

Usage: .venv/bin/python benches/peers/oaxaca_peers.py [--bin target/release/payequity] [ROWS ...]
(default rows 1,000,000 and 5,000,000; files are written under benches/data/).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
COVARIATES = [f"x{j:02}" for j in range(20)]

STATSMODELS = """
import sys, pandas as pd, statsmodels.api as sm
from statsmodels.stats.oaxaca import OaxacaBlinder
df = pd.read_parquet(sys.argv[1])
df["group"] = (df["gender"] == "F").astype(float)
cov = [c for c in df.columns if c.startswith("x")]
model = OaxacaBlinder(df["log_pay"], sm.add_constant(df[cov + ["group"]]), "group")
print(model.three_fold().params, model.two_fold().params)
"""

NUMPY = """
import sys, numpy as np, pandas as pd
df = pd.read_parquet(sys.argv[1])
cov = [c for c in df.columns if c.startswith("x")]
x = np.column_stack([np.ones(len(df)), df[cov].to_numpy()]); y = df["log_pay"].to_numpy()
a = (df["gender"] == "M").to_numpy()
ba = np.linalg.lstsq(x[a], y[a], rcond=None)[0]; bb = np.linalg.lstsq(x[~a], y[~a], rcond=None)[0]
star = np.linalg.lstsq(np.column_stack([x, (~a).astype(float)]), y, rcond=None)[0][:-1]
ma, mb = x[a].mean(axis=0), x[~a].mean(axis=0)
print((ma - mb) @ bb, mb @ (ba - bb), (ma - mb) @ (ba - bb), (ma - mb) @ star)
"""

PAYEQUITY_PY = """
import sys, payequity as pe
cov = [f"x{j:02}" for j in range(20)]
r = pe.oaxaca(sys.argv[1], outcome="log_pay", group="gender", group_a="M", covariates=cov)
print(r.to_json()[:80])
"""


def write_file(rows: int) -> Path:
    path = ROOT / "benches" / "data" / f"oaxaca_{rows}.parquet"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(4)
    male = rng.random(rows) < 0.3
    data = {"gender": np.where(male, "M", "F")}
    log_pay = 2.5 + 0.1 * male
    for j, name in enumerate(COVARIATES):
        x = rng.random(rows) * (1 + j) + 0.2 * male
        log_pay = log_pay + 0.01 * x / (1 + j)
        data[name] = x
    data["log_pay"] = log_pay + rng.normal(0, 0.1, rows)
    pd.DataFrame(data).to_parquet(path)
    return path


def timed(label: str, command: list[str]) -> tuple[float, float]:
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *command], capture_output=True, text=True, check=True)
    seconds, kib = out.stderr.strip().splitlines()[-1].split()
    print(f"  {label:<44} {float(seconds):7.2f} s  {int(kib) / 1024:8.0f} MiB peak")
    return float(seconds), int(kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "payequity"))
    parser.add_argument("rows", nargs="*", type=int, default=[1_000_000, 5_000_000])
    args = parser.parse_args()
    py = sys.executable
    for rows in args.rows:
        path = write_file(rows)
        print(f"{rows:,} rows x 20 covariates ({path.stat().st_size / 1e6:.0f} MB Parquet)")
        cli = [args.bin, "oaxaca", str(path), "--outcome", "log_pay", "--group", "gender", "--group-a", "M",
               "--covariates", ",".join(COVARIATES), "--format", "json", "-q"]
        ours, _ = timed("payequity CLI (delta SEs, detailed)", cli)
        timed("payequity Python pe.oaxaca (delta SEs, detailed)", [py, "-c", PAYEQUITY_PY, str(path)])
        sm_time, _ = timed("statsmodels three_fold + two_fold (no SEs)", [py, "-c", STATSMODELS, str(path)])
        np_time, _ = timed("numpy lstsq (no SEs)", [py, "-c", NUMPY, str(path)])
        print(f"  speed-up of the CLI: {sm_time / ours:.1f}x statsmodels, {np_time / ours:.1f}x numpy")


if __name__ == "__main__":
    main()
