"""`payequity.gap`: raw gender pay gaps, and the result object shown in notebooks."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from payequity import _core
from payequity._document import Document
from payequity._input import as_table

if TYPE_CHECKING:
    import polars as pl


def _columns_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return list(value)


def gap(
    data: Any,
    *,
    pay: str | Sequence[str] | None = None,
    hours: str | None = None,
    gender: str | None = None,
    by: Sequence[str] | None = None,
    weights: str | None = None,
    min_cell: int | None = None,
    strict: bool | None = None,
    employee_id: str | None = None,
    period: str | None = None,
    female: str | int | Sequence[str | int] | None = None,
    male: str | int | Sequence[str | int] | None = None,
    other_gender: str | None = None,
    measure: str | None = None,
    unit: str | None = None,
    filters: Sequence[str] | None = None,
    factors: Sequence[str] | None = None,
    confidence: float | None = None,
    bootstrap_reps: int | None = None,
    seed: int | None = None,
    long: bool | None = None,
    config: str | None = None,
) -> GapResult:
    """Raw mean and median gender pay gaps, overall and by group.

    ``gap = (men - women) / men * 100`` on the mean and the median of hourly pay (``pay / hours``) or,
    without hours (or with ``measure="pay"``), of the pay level. With an employee id column each employee is
    one unit: pay and hours are summed over the periods. Mean CIs use the delta method with Welch degrees of
    freedom; median CIs the percentile bootstrap (``bootstrap_reps``, ``seed``). Groups with fewer than
    ``min_cell`` (default 10) women or men are suppressed. The ILO factor-weighted gap is computed over the
    ``by`` (or ``factors``) subgroups.

    ``data`` is a file path (a directory or a glob of files is streamed in batches, docs/scale.md), a polars or pandas DataFrame, a pyarrow Table, or any ``__arrow_c_stream__``
    object. Keyword arguments override ``config`` (an audit TOML file); every excluded row is counted in
    ``result.ledger``, and ``strict=True`` raises :class:`payequity.StrictModeError` instead.
    """
    keywords = {k: v for k, v in locals().items() if k != "data"}
    document = _core.gap(as_table(data), gap_options_json(**keywords))
    return GapResult(document)


def gap_options_json(
    *,
    pay: str | Sequence[str] | None = None,
    hours: str | None = None,
    gender: str | None = None,
    by: Sequence[str] | None = None,
    weights: str | None = None,
    min_cell: int | None = None,
    strict: bool | None = None,
    employee_id: str | None = None,
    period: str | None = None,
    female: str | int | Sequence[str | int] | None = None,
    male: str | int | Sequence[str | int] | None = None,
    other_gender: str | None = None,
    measure: str | None = None,
    unit: str | None = None,
    filters: Sequence[str] | None = None,
    factors: Sequence[str] | None = None,
    confidence: float | None = None,
    bootstrap_reps: int | None = None,
    seed: int | None = None,
    long: bool | None = None,
    config: str | None = None,
) -> str:
    """The options of :func:`gap` (same keywords) as the JSON the Rust core reads."""
    options: dict[str, Any] = json.loads(_core.gap_options_from_config(config)) if config else {}
    columns: dict[str, Any] = options.setdefault("columns", {})
    genders: dict[str, Any] = options.setdefault("gender_values", {})
    roles: dict[str, object] = {"pay": _columns_list(pay), "hours": hours, "gender": gender, "weight": weights,
                                "employee_id": employee_id, "period": period}
    for key, value in roles.items():
        if value is not None:
            columns[key] = value
    for key, values in {"female": female, "male": male}.items():
        if values is not None:
            items = values if isinstance(values, (list, tuple)) else [values]
            genders[key] = [str(v) for v in items]
    if other_gender is not None:
        genders["other"] = other_gender
    settings: dict[str, object] = {
        "by": _columns_list(by), "min_cell": min_cell, "strict": strict, "measure": measure, "unit": unit,
        "filters": _columns_list(filters), "factors": _columns_list(factors), "confidence": confidence,
        "bootstrap_reps": bootstrap_reps, "seed": seed}
    for key, value in settings.items():
        if value is not None:
            options[key] = value
    if long:
        options.setdefault("input", {})["format"] = "long"
    return json.dumps(options)


class GapResult(Document):
    """The gap result document (``kind = "gap"``); the same JSON as ``payequity gap --format json``."""

    @property
    def overall(self) -> dict[str, Any]:
        """Figures for the whole population: ``mean_gap_pct``, ``median_gap_pct``, ``n``, ``mean``, ``median``."""
        overall: dict[str, Any] = self._data["overall"]
        return overall

    @property
    def by(self) -> list[dict[str, Any]]:
        """One entry per group of the breakdown (``group``, the figures, ``suppressed``)."""
        by: list[dict[str, Any]] = self._data["by"]
        return by

    def to_polars(self) -> pl.DataFrame:
        """One row per published cell (overall first), the same columns as ``--format csv``."""
        import polars as pl

        text = _core.gap_table_csv(self._json)
        overrides = {c: pl.String for c in self._data["by_columns"]}
        overrides["level"] = pl.String
        return pl.read_csv(io.StringIO(text), schema_overrides=overrides)

    def summary(self) -> str:
        """The aligned text table printed by ``payequity gap``."""
        return str(_core.gap_summary(self._json))

    def __repr__(self) -> str:
        o = self.overall
        mean = o["mean_gap_pct"]["estimate"]
        median = o["median_gap_pct"]["estimate"]
        def fmt(v: float | None) -> str:
            return "null" if v is None else f"{v:.2f}%"

        return f"<GapResult mean gap {fmt(mean)}, median gap {fmt(median)}, {len(self.by)} groups>"
