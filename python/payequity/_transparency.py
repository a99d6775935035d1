"""`payequity.transparency`: EU Pay Transparency Directive, UK gender pay gap and Swiss Logib figures."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from payequity import _core
from payequity._document import Document
from payequity._input import as_table

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.axes import Axes


def transparency(
    data: Any,
    *,
    config: str | None = None,
    regimes: Sequence[str] | None = None,
    category: str | None = None,
    full_pay: str | None = None,
    bonus_window_pay: str | None = None,
    snapshot_period: str | None = None,
    justifications: Mapping[str, str] | None = None,
    min_cell: int | None = None,
    ordinary: Sequence[str] | None = None,
    variable: Sequence[str] | None = None,
    bonus: Sequence[str] | None = None,
    gender: str | None = None,
    hours: str | None = None,
    employee_id: str | None = None,
    period: str | None = None,
    fte: str | None = None,
    strict: bool | None = None,
) -> TransparencyResult:
    """Pay transparency figures (``docs/transparency.md``).

    ``regimes``: any of ``"eu"`` (Directive 2023/970 Art. 9(1)(a)-(g) on hourly and annual pay, Art. 10
    flags for categories with a gap of 5% or more, the reporting obligation), ``"uk"`` (the six gender pay
    gap figures on the snapshot pay period, with the quartile tie rule) and ``"logib"`` (the Swiss standard
    analysis model, Kennedy estimator and verdict); default all. Pay components come from ``ordinary``,
    ``variable`` and ``bonus`` (or the config's ``[pay]``). Gaps are (men - women) / men x 100.
    Cells with fewer than ``min_cell`` (default 10) women or men are suppressed.

    ``data`` is a table, a file path, or a directory or glob of Parquet / Arrow IPC / CSV files (streamed in
    bounded memory, the same document).
    """
    keywords = {k: v for k, v in locals().items() if k != "data"}
    return TransparencyResult(_core.transparency(as_table(data), transparency_options_json(**keywords)))


def transparency_options_json(
    *,
    config: str | None = None,
    regimes: Sequence[str] | None = None,
    category: str | None = None,
    full_pay: str | None = None,
    bonus_window_pay: str | None = None,
    snapshot_period: str | None = None,
    justifications: Mapping[str, str] | None = None,
    min_cell: int | None = None,
    ordinary: Sequence[str] | None = None,
    variable: Sequence[str] | None = None,
    bonus: Sequence[str] | None = None,
    gender: str | None = None,
    hours: str | None = None,
    employee_id: str | None = None,
    period: str | None = None,
    fte: str | None = None,
    strict: bool | None = None,
) -> str:
    """The options document of :func:`transparency` (also used by ``pe.spark`` and ``pe.dask``)."""
    options: dict[str, Any] = json.loads(_core.transparency_options_from_config(config)) if config else {}
    columns: dict[str, Any] = options.setdefault("columns", {})
    for key, value in {"gender": gender, "hours": hours, "employee_id": employee_id, "period": period,
                       "fte": fte}.items():
        if value is not None:
            columns[key] = value
    pay: dict[str, Any] = options.setdefault("pay", {})
    for key, components in {"ordinary": ordinary, "variable": variable, "bonus": bonus}.items():
        if components is not None:
            pay[key] = list(components)
    settings: dict[str, object] = {
        "regimes": list(regimes) if regimes is not None else None, "category": category, "full_pay": full_pay,
        "bonus_window_pay": bonus_window_pay, "snapshot_period": snapshot_period,
        "justifications": dict(justifications) if justifications is not None else None, "min_cell": min_cell,
        "strict": strict,
    }
    for key, setting in settings.items():
        if setting is not None:
            options[key] = setting
    return json.dumps(options)


class TransparencyResult(Document):
    """The transparency document (``kind = "transparency"``), as ``payequity transparency --format json``."""

    @property
    def eu(self) -> dict[str, Any] | None:
        """The EU Pay Transparency Directive figures (Art. 9 indicators, Art. 10 categories and flags), or ``None`` when the regime was not run (docs/transparency.md)."""
        eu: dict[str, Any] | None = self._data["eu"]
        return eu

    @property
    def uk(self) -> dict[str, Any] | None:
        """The six UK gender pay gap figures of the snapshot period, or ``None`` (docs/transparency.md, "UK")."""
        uk: dict[str, Any] | None = self._data["uk"]
        return uk

    @property
    def logib(self) -> dict[str, Any] | None:
        """The Logib regression (Swiss Federal Office for Gender Equality) with its tolerance threshold, or ``None`` (docs/transparency.md, "Logib")."""
        logib: dict[str, Any] | None = self._data["logib"]
        return logib

    @property
    def art10_triggered(self) -> bool:
        """An Art. 10 flag without justification: a joint pay assessment is due."""
        return bool(self.eu and self.eu["art10_triggered"])

    def to_polars(self) -> pl.DataFrame:
        """One row per published figure: ``regime, indicator, group, value``."""
        import polars as pl

        text = _core.transparency_table_csv(self._json)
        return pl.read_csv(io.StringIO(text), schema_overrides={"group": pl.String, "value": pl.Float64})

    def summary(self) -> str:
        """The text table printed by ``payequity transparency`` (figures rounded to one decimal)."""
        return str(_core.transparency_summary(self._json))

    def __repr__(self) -> str:
        return f"<TransparencyResult regimes {', '.join(self._data['regimes'])}, min_cell {self._data['min_cell']}>"

    def plot_quartiles(self, regime: str = "eu", *, ax: Axes | None = None) -> Axes:
        """Stacked bars of women and men (percent) in each pay quartile band (1 = lowest paid)."""
        import matplotlib.pyplot as plt

        block = self._data.get(regime)
        if not block:
            raise ValueError(f"regime {regime!r} was not computed")
        bands = block["f_quartiles"] if regime == "eu" else block["quartiles"]
        labels = [f"Q{b['band']}" for b in bands]
        women = [b["F_pct"] or 0.0 for b in bands]
        men = [b["M_pct"] or 0.0 for b in bands]
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2))
        ax.bar(labels, women, color="#aa3377", label="women")
        ax.bar(labels, men, bottom=women, color="#4477aa", label="men")
        ax.set_ylabel("% of band")
        ax.set_ylim(0, 100)
        ax.set_title(f"Pay quartile bands ({regime.upper()})")
        ax.legend(loc="lower right")
        return ax
