"""Peer comparison for the RIF decomposition at q10, q50 and q90 with delta-method SEs, on the Parquet file of
N rows x 20 covariates that `oaxaca_peers.py` writes (the same data).

Each contender runs as its own process, end to end (process start, read, decompose, print), timed with
/usr/bin/time for wall time and peak memory:
- numpy + statsmodels: pandas.read_parquet; per group and statistic the quantile (np.quantile), a gaussian
  kernel density at q with the rule-of-thumb bandwidth (vectorized numpy over all rows), the RIF; then
  statsmodels OLS of the RIF per group and pooled (with the group indicator) and the twofold components with
  delta-method SEs from the OLS covariances and the covariate means' covariances (Jann 2008);
- payequity CLI: `payequity rif FILE --statistic q10,q50,q90 --format json` (twofold and threefold, detailed,
  delta SEs).

Usage: .venv/bin/python benches/peers/rif_peers.py [--bin target/release/payequity] [ROWS ...]
(default 1,000,000 rows).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oaxaca_peers import COVARIATES, ROOT, timed, write_file  # noqa: E402

NUMPY_STATSMODELS = """
import sys, numpy as np, pandas as pd, statsmodels.api as sm
df = pd.read_parquet(sys.argv[1])
cov = [c for c in df.columns if c.startswith("x")]
x = sm.add_constant(df[cov].to_numpy()); y = df["log_pay"].to_numpy()
a = (df["gender"] == "M").to_numpy()

def rif(values, tau):
    n = len(values)
    q = np.quantile(values, tau)
    s = values.std(ddof=1)
    iqr = np.subtract(*np.quantile(values, [0.75, 0.25]))
    h = 1.3643 * (1 / (4 * np.pi)) ** 0.1 * n ** -0.2 * min(s, iqr / 1.349)
    f = np.exp(-0.5 * ((q - values) / h) ** 2).sum() / (np.sqrt(2 * np.pi) * h * n)
    return q + (tau - (values < q)) / f

for tau in (0.1, 0.5, 0.9):
    ra, rb = rif(y[a], tau), rif(y[~a], tau)
    fa, fb = sm.OLS(ra, x[a]).fit(), sm.OLS(rb, x[~a]).fit()
    d = (~a).astype(float)
    pooled = sm.OLS(np.r_[ra, rb], np.column_stack([np.r_[x[a], x[~a]], np.r_[d[a], d[~a]]])).fit()
    star, vstar = pooled.params[:-1], pooled.cov_params()[:-1, :-1]
    ma, mb = x[a].mean(axis=0), x[~a].mean(axis=0)
    va, vb = np.cov(x[a], rowvar=False) / a.sum(), np.cov(x[~a], rowvar=False) / (~a).sum()
    explained = (ma - mb) @ star
    se_explained = np.sqrt((ma - mb) @ vstar @ (ma - mb) + star @ (va + vb) @ star)
    ua, ub = fa.params - star, star - fb.params
    unexplained = ma @ ua + mb @ ub
    se_unexplained = np.sqrt(ma @ (fa.cov_params() + vstar) @ ma + mb @ (fb.cov_params() + vstar) @ mb
                             + ua @ va @ ua + ub @ vb @ ub)
    print(tau, explained, se_explained, unexplained, se_unexplained)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "payequity"))
    parser.add_argument("rows", nargs="*", type=int, default=[1_000_000])
    args = parser.parse_args()
    for rows in args.rows:
        path = write_file(rows)
        print(f"{rows:,} rows x 20 covariates ({path.stat().st_size / 1e6:.0f} MB Parquet), q10/q50/q90")
        cli = [args.bin, "rif", str(path), "--outcome", "log_pay", "--group", "gender", "--group-a", "M",
               "--covariates", ",".join(COVARIATES), "--statistic", "q10,q50,q90", "--format", "json", "-q"]
        ours, _ = timed("payequity CLI rif (delta SEs, detailed, threefold)", cli)
        peer, _ = timed("numpy + statsmodels (delta SEs, twofold)", [sys.executable, "-c", NUMPY_STATSMODELS,
                                                                     str(path)])
        print(f"  speed-up of the CLI: {peer / ours:.1f}x numpy + statsmodels")


if __name__ == "__main__":
    main()
