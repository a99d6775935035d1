"""`payequity.generate`: the synthetic health-and-care payroll with planted truths."""

from __future__ import annotations

import json
import os
from typing import Any

from payequity import _core


def generate(
    out: str | os.PathLike[str],
    *,
    employees: int = 5000,
    months: int = 12,
    seed: int = 2022,
    plant_disparity: bool = True,
) -> dict[str, Any]:
    """Write a synthetic payroll to ``out`` (.parquet, .arrow or .csv) and return its planted truths.

    ``plant_disparity=False`` generates the control population: hazard pay unpaid equally often for everyone
    and women reaching management posts as often as men (no glass ceiling); datasets/demo/README.md lists the
    planted truths.
    """
    options = {"employees": employees, "months": months, "seed": seed, "plant_disparity": plant_disparity}
    result: dict[str, Any] = json.loads(_core.generate(json.dumps(options), os.fspath(out)))
    return result
