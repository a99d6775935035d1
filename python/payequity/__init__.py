"""payequity: remuneration equity analytics for payroll data.

The Rust core does the work; this package converts inputs, shapes results and displays them.

>>> import payequity as pe
>>> result = pe.gap("datasets/demo/payroll.parquet", pay=["base_pay"], hours="hours_paid", by=["occupation"])  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import sys

if sys.version_info < (3, 9):  # pragma: no cover - checked by tests/wheel on Python 3.8
    raise ImportError(
        f"payequity needs Python 3.9 or newer; this is Python {sys.version.split()[0]}. "
        "Install it into a Python 3.9+ environment (pip install payequity)."
    )

from payequity._core import (
    ConfigError,
    InputError,
    PayEquityError,
    StrictModeError,
    __commit__,
    __version__,
)

# Every payequity exception carries its context (None when the error has none): the column, the 1-based
# input row, the config key and the hint; errors raised from the Rust core set them per instance.
for _attribute in ("column", "row", "key", "hint"):
    setattr(PayEquityError, _attribute, None)

from payequity._gap import GapResult, gap
from payequity._generate import generate
from payequity._nonlinear import NonlinearResult, nonlinear_decompose
from payequity._oaxaca import OaxacaResult, oaxaca
from payequity._dfl import DflResult, QuantileProfileResult, dfl, quantile_profile
from payequity._rif import RifRegressionResult, RifResult, rif, rif_regression
from payequity._entitlements import EntitlementAudit, audit_entitlements
from payequity._equal_value import EqualValueResult, equal_value
from payequity._report import AuditReport, report
from payequity._data import demo, demo_files
from payequity._scenario import ScenarioResult, scenario
from payequity._transparency import TransparencyResult, transparency
from payequity import dask, spark

__all__ = [
    "ConfigError",
    "GapResult",
    "InputError",
    "OaxacaResult",
    "PayEquityError",
    "StrictModeError",
    "TransparencyResult",
    "__commit__",
    "__version__",
    "demo",
    "demo_files",
    "scenario",
    "ScenarioResult",
    "gap",
    "generate",
    "oaxaca",
    "rif",
    "dfl",
    "nonlinear_decompose",
    "NonlinearResult",
    "quantile_profile",
    "QuantileProfileResult",
    "DflResult",
    "rif_regression",
    "RifResult",
    "RifRegressionResult",
    "transparency",
    "equal_value",
    "EqualValueResult",
    "audit_entitlements",
    "EntitlementAudit",
    "report",
    "AuditReport",
    "dask",
    "spark",
]
