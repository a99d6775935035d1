"""`payequity.equal_value`: equal pay for work of equal value (job evaluation, job classes, comparisons)."""

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
    from matplotlib.axes import Axes


def equal_value(
    data: Any,
    *,
    scheme: str | None = None,
    ratings: str | None = None,
    config: str | None = None,
    job: str | None = None,
    method: str | Sequence[str] | None = None,
    job_rate: str | None = None,
    adjust_for: Sequence[str] | None = None,
    pay: Sequence[str] | None = None,
    subtract_hours: Sequence[str] | None = None,
    filters: Sequence[str] | None = None,
    band_pct: float | None = None,
    comparator: str | None = None,
    phase_in_pct: float | None = None,
    min_cell: int | None = None,
    worker_adjustments: bool | None = None,
    gender: str | None = None,
    hours: str | None = None,
    employee_id: str | None = None,
    strict: bool | None = None,
) -> EqualValueResult:
    """Equal pay for work of equal value (``docs/equal-value.md``).

    Job classes (``job`` column) are scored with the job evaluation ``scheme`` (TOML) and ``ratings``
    (CSV/Parquet/TOML); female classes (>= 60% women) are compared with male classes (>= 70% men) of equal
    value (``method="job-to-job"``, Ontario Pay Equity Act s.6) or with the male pay line
    (``"proportional"``). ``job_rate``: ``"max"`` (Ontario), ``"median"``, ``"mean"`` or ``"adjusted"``
    (at the mean of ``adjust_for``). The cost of closing the shortfalls is phased in at ``phase_in_pct``
    percent of payroll a year.

    ``data`` is a table, a file path, or a directory or glob of Parquet / Arrow IPC / CSV files (streamed in
    bounded memory, the same document).
    """
    keywords = {k: v for k, v in locals().items() if k != "data"}
    return EqualValueResult(_core.equal_value(as_table(data), equal_value_options_json(**keywords)))


def equal_value_options_json(
    *,
    scheme: str | None = None,
    ratings: str | None = None,
    config: str | None = None,
    job: str | None = None,
    method: str | Sequence[str] | None = None,
    job_rate: str | None = None,
    adjust_for: Sequence[str] | None = None,
    pay: Sequence[str] | None = None,
    subtract_hours: Sequence[str] | None = None,
    filters: Sequence[str] | None = None,
    band_pct: float | None = None,
    comparator: str | None = None,
    phase_in_pct: float | None = None,
    min_cell: int | None = None,
    worker_adjustments: bool | None = None,
    gender: str | None = None,
    hours: str | None = None,
    employee_id: str | None = None,
    strict: bool | None = None,
) -> str:
    """The options document of :func:`equal_value` (also used by ``pe.spark`` and ``pe.dask``)."""
    options: dict[str, Any] = json.loads(_core.equal_value_options_from_config(config)) if config else {}
    columns: dict[str, Any] = options.setdefault("columns", {})
    for key, value in {"gender": gender, "hours": hours, "employee_id": employee_id}.items():
        if value is not None:
            columns[key] = value
    methods = [method] if isinstance(method, str) else method
    if methods is not None and "both" in methods:
        methods = ["job-to-job", "proportional"]
    settings: dict[str, object] = {
        "scheme": scheme, "ratings": ratings, "job": job,
        "method": list(methods) if methods is not None else None, "job_rate": job_rate,
        "adjust_for": list(adjust_for) if adjust_for is not None else None,
        "pay": list(pay) if pay is not None else None,
        "subtract_hours": list(subtract_hours) if subtract_hours is not None else None,
        "filters": list(filters) if filters is not None else None, "band_pct": band_pct,
        "comparator": comparator, "phase_in_pct": phase_in_pct, "min_cell": min_cell,
        "worker_adjustments": worker_adjustments, "strict": strict,
    }
    for key, setting in settings.items():
        if setting is not None:
            options[key] = setting
    return json.dumps(options)


class EqualValueResult(Document):
    """The equal-value document (``kind = "equal_value"``), as ``payequity equal-value --format json``."""

    @property
    def classes(self) -> list[dict[str, Any]]:
        """One row per job class: points, incumbents by gender, predominance, job rate, comparator and shortfall (docs/equal-value.md)."""
        classes: list[dict[str, Any]] = self._data["classes"]
        return classes

    @property
    def pay_line(self) -> dict[str, Any] | None:
        """The male pay line (rate against points, OLS over male-predominant classes) of the proportional method, or ``None`` (docs/equal-value.md)."""
        line: dict[str, Any] | None = self._data["pay_line"]
        return line

    def flagged(self, method: str = "job-to-job") -> list[dict[str, Any]]:
        """The comparisons of ``method`` with a positive shortfall."""
        return [c for c in self._data["comparisons"] if c["method"] == method and c["shortfall_per_hour"] > 0]

    def to_polars(self) -> pl.DataFrame:
        """One row per job class with its first method's comparison."""
        import polars as pl

        text = _core.equal_value_table_csv(self._json)
        return pl.read_csv(io.StringIO(text), schema_overrides={"job": pl.String, "comparator": pl.String})

    def summary(self) -> str:
        """The text table printed by ``payequity equal-value``."""
        return str(_core.equal_value_summary(self._json))

    def __repr__(self) -> str:
        return f"<EqualValueResult {len(self.classes)} job classes, {len(self.flagged())} flagged job-to-job>"

    def plot_pay_line(self, *, ax: Axes | None = None) -> Axes:
        """Job classes (points vs job rate) coloured by predominance, the male pay line and female targets."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        colours = {"female": "#aa3377", "male": "#4477aa", "neutral": "#999999"}
        for predominance, colour in colours.items():
            rows = [c for c in self.classes if c["predominance"] == predominance]
            ax.scatter([c["points"] for c in rows], [c["job_rate"] for c in rows], color=colour,
                       label=f"{predominance} classes")
        line = self.pay_line
        if line is not None:
            xs = [min(c["points"] for c in self.classes), max(c["points"] for c in self.classes)]
            ax.plot(xs, [line["intercept"] + line["slope"] * x for x in xs], color="#4477aa", linestyle="--",
                    label=f"male pay line (R² {line['r2']:.2f})")
        targets = [c for c in self._data["comparisons"] if c["target_rate"] is not None and c["shortfall_per_hour"] > 0]
        points = {c["job"]: c["points"] for c in self.classes}
        ax.scatter([points[c["job"]] for c in targets], [c["target_rate"] for c in targets], marker="_", s=200,
                   color="#aa3377", label="female targets")
        ax.set_xlabel("job evaluation points")
        ax.set_ylabel("job rate per hour")
        ax.set_title("Equal value: job rates and points")
        ax.legend(loc="upper left", fontsize="small")
        return ax
