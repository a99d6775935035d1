"""`payequity.audit_entitlements`: hazard pay, overtime and allowance rules checked against what was paid."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

from payequity import _core
from payequity._document import Document
from payequity._input import as_table

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.axes import Axes

RulesArgument = Union[str, "os.PathLike[str]", Mapping[str, Any], Sequence[Union[str, "os.PathLike[str]"]]]


def audit_entitlements(
    data: Any,
    *,
    rules: RulesArgument | None = None,
    by: Sequence[str] | None = None,
    controls: Sequence[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    min_cell: int | None = None,
    logit: bool | None = None,
    employee_id: str | None = None,
    period: str | None = None,
    gender: str | None = None,
) -> EntitlementAudit:
    """Audit entitlements (``docs/entitlements.md``): expected against paid for every worker, period
    and rule that applies; statuses ok / underpaid / not_paid / overpaid / late; arrears; and who is
    short-paid most often (``by`` columns, default the gender column), with Fisher / z tests and a logit of
    short-payment on the groups plus ``controls``.

    ``rules`` is a rule file (TOML), a list of them, or a dict of the same shape as the TOML file.
    """
    keywords = {k: v for k, v in locals().items() if k != "data"}
    rules_json, options_json = entitlement_options_json(**keywords)
    document, arrears = _core.audit_entitlements(as_table(data), rules_json, options_json)
    return EntitlementAudit(document, arrears)


def entitlement_options_json(
    *,
    rules: RulesArgument | None = None,
    by: Sequence[str] | None = None,
    controls: Sequence[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    min_cell: int | None = None,
    logit: bool | None = None,
    employee_id: str | None = None,
    period: str | None = None,
    gender: str | None = None,
) -> tuple[str, str]:
    """The rule set (JSON, empty when rule files are named) and the options document of
    :func:`audit_entitlements` (also used by ``pe.spark`` and ``pe.dask``)."""
    options: dict[str, Any] = json.loads(_core.entitlement_options_from_config(config)) if config else {}
    rules_json = ""
    if isinstance(rules, Mapping):
        rules_json = json.dumps(rules)
    elif isinstance(rules, (str, os.PathLike)):
        options["rules"] = [os.fspath(rules)]
    elif rules is not None:
        options["rules"] = [os.fspath(r) for r in rules]
    columns: dict[str, Any] = options.setdefault("columns", {})
    for key, value in {"employee_id": employee_id, "period": period, "gender": gender}.items():
        if value is not None:
            columns[key] = value
    settings: dict[str, object] = {
        "by": list(by) if by is not None else None,
        "controls": list(controls) if controls is not None else None,
        "min_cell": min_cell,
        "logit": logit,
    }
    for key, setting in settings.items():
        if setting is not None:
            options[key] = setting
    return rules_json, json.dumps(options)


class EntitlementAudit(Document):
    """The entitlement-audit document (``kind = "entitlement_audit"``), as ``payequity audit-entitlements
    --format json``, with the worker-level arrears table."""

    def __init__(self, document: str, arrears_ipc: bytes) -> None:
        super().__init__(document)
        self._arrears_ipc = arrears_ipc

    @property
    def rules(self) -> list[dict[str, Any]]:
        """One row per rule: lines checked, lines short-paid, expected, paid and arrears (docs/entitlements.md)."""
        rules: list[dict[str, Any]] = self._data["rules"]
        return rules

    @property
    def arrears_total(self) -> float:
        """Total arrears over every rule, worker and period (currency units, to the cent)."""
        return float(self._data["arrears_total"])

    @property
    def disparities(self) -> list[dict[str, Any]]:
        """Short-payment rates and arrears by the ``by`` groups, with small groups suppressed (docs/entitlements.md, "Disparities")."""
        rows: list[dict[str, Any]] = self._data["disparities"]
        return rows

    @property
    def logit(self) -> dict[str, Any] | None:
        """The logistic regression of short-payment on the groups and controls, or ``None`` when not fitted (docs/entitlements.md)."""
        fit: dict[str, Any] | None = self._data["logit"]
        return fit

    def arrears(self) -> pl.DataFrame:
        """Worker-level lines underpaid, not paid or late: ``employee_id, rule, period, expected, paid,
        shortfall, status`` (pseudonymous ids as in the payroll)."""
        import polars as pl

        return pl.read_ipc(io.BytesIO(self._arrears_ipc))

    def to_polars(self) -> pl.DataFrame:
        """The summary by rule, one row per rule."""
        import polars as pl

        return pl.read_csv(io.StringIO(_core.entitlement_table_csv(self._json)), schema_overrides={"rule": pl.String})

    def summary(self) -> str:
        """The text printed by ``payequity audit-entitlements``."""
        return str(_core.entitlement_summary(self._json))

    def __repr__(self) -> str:
        return f"<EntitlementAudit {len(self.rules)} rules, arrears {self.arrears_total:,.2f}>"

    def plot(self, *, by: str | None = None, ax: Axes | None = None) -> Axes:
        """Shortfall by rule (bars), or with ``by`` the share of eligible lines short-paid in each group of
        that column (suppressed groups left out)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if by is None:
            ids = [r["id"] for r in self.rules]
            ax.bar(ids, [r["shortfall_total"] for r in self.rules], color="#aa3377")
            ax.set_ylabel("shortfall")
            ax.set_title("Shortfall by rule")
        else:
            rows = [d for d in self.disparities if d["by"] == by and not d["suppressed"]]
            ax.bar([d["group"] for d in rows], [d["underpaid_pct"] for d in rows], color="#4477aa")
            ax.set_ylabel("% of eligible worker-periods short-paid")
            ax.set_title(f"Short-paid by {by}")
        return ax
