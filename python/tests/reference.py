"""An independent pandas implementation of the raw gap rules, written from the documented definitions
(DESIGN.md §2, docs/gap.md) without calling payequity: validation, employee units, means, medians, gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd


def employee_units(df: pd.DataFrame, pay: list[str], hours: str, keys: list[str]) -> pd.DataFrame:
    """Validate rows as documented and aggregate them to one unit per employee (and per `keys` cell)."""
    d = df.copy()
    d["_pay"] = d[pay].fillna(0).sum(axis=1)
    all_null = d[pay].isna().all(axis=1)
    bad = (
        d["gender"].isna() | (d["gender"].astype(str).str.strip() == "") | all_null
        | ~np.isfinite(d["_pay"]) | (d["_pay"] < 0)
        | d[hours].isna() | ~np.isfinite(d[hours]) | (d[hours] <= 0)
    )
    d = d[~bad]
    d = d[~d.duplicated(["employee_id", "period"], keep="first")]
    grouped = d.groupby(["employee_id", "gender", *keys], sort=False, dropna=False)
    units = grouped.agg(_pay=("_pay", "sum"), _hours=(hours, "sum")).reset_index()
    units["y"] = units["_pay"] / units["_hours"]
    return units


def gaps(units: pd.DataFrame) -> dict[str, float]:
    """Mean and median gap in percent: (men − women) / men × 100."""
    f = units.loc[units["gender"] == "F", "y"]
    m = units.loc[units["gender"] == "M", "y"]
    return {
        "mean_gap_pct": 100 * (m.mean() - f.mean()) / m.mean(),
        "median_gap_pct": 100 * (m.median() - f.median()) / m.median(),
        "n_F": len(f),
        "n_M": len(m),
        "mean_F": f.mean(),
        "mean_M": m.mean(),
        "median_F": f.median(),
        "median_M": m.median(),
    }
