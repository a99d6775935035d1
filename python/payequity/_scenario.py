"""Bargaining scenarios (docs/scenarios.md): the audit's figures on the payroll as it is and under proposed
pay measures, with their cost."""

from __future__ import annotations

import html
import io
from os import PathLike
from typing import TYPE_CHECKING, Any

from payequity import _core
from payequity._document import Document

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.axes import Axes


def scenario(
    config: str | PathLike[str],
    scenarios: str | PathLike[str],
    *,
    target: str | None = None,
    remediate: float | None = None,
    annex: str | PathLike[str] | None = None,
) -> ScenarioResult:
    """Recompute the audit config's figures under each scenario of ``scenarios`` (a TOML file of
    ``[[scenario]]`` tables: ``name``, ``measures`` applied in order, ``phase_in_years``).

    Measures: ``percent`` (``pct``, optional SQL ``where``), ``flat`` (``amount_per_hour`` or
    ``amount_per_period``, ``where``), ``floor`` (``rate_per_hour``), ``equal_value`` (``method``),
    ``pay_arrears`` (``rules``) and ``cap``. The figures: mean and median gap, the unexplained Oaxaca part,
    the EU Art. 10 categories flagged, the equal-value shortfall left; the cost a year, in % of payroll, the
    workers raised by gender and the phase-in. A scenario recomputes statistics on adjusted pay; it does not
    model behaviour.

    ``target="mean_gap_pct <= 5"`` also searches each scenario as a route, its parameters scaled by one factor
    (0 to 4×, bisection), and reports the cheapest route that meets the target (``result["target"]``), or the
    best value reached when none does.

    ``remediate=0.02`` also finds the minimal individual adjustments that bring the unexplained Oaxaca part
    (log points with ``log = true``) to 0.02 or below: the workers of the disadvantaged group with the most
    negative residuals are raised first, to a common residual floor (``result.remediation``: the floor, the
    unexplained part reached, workers and rows raised, cost). The workers name employees: they are written
    only to ``annex`` (a ``.csv`` or ``.parquet`` path), never into the document.

    >>> r = pe.scenario("datasets/demo/audit.toml", "datasets/demo/scenarios.toml")  # doctest: +SKIP
    >>> print(r.summary())  # doctest: +SKIP
    """
    return ScenarioResult(_core.scenario(config, scenarios, target, remediate, annex))


class ScenarioResult(Document):
    """The scenario document (``kind = "scenario"``), as ``payequity scenario --format json``."""

    @property
    def baseline(self) -> dict[str, Any]:
        """The figures of the payroll as it is, and ``payroll_annual``."""
        baseline: dict[str, Any] = self._data["baseline"]
        return baseline

    @property
    def scenarios(self) -> list[dict[str, Any]]:
        """One entry per scenario: its figures, ``cost_annual``, ``cost_pct_of_payroll``, ``workers_raised``,
        ``phase_in`` and the cost of each measure."""
        scenarios: list[dict[str, Any]] = self._data["scenarios"]
        return scenarios

    @property
    def remediation(self) -> dict[str, Any] | None:
        """The minimal individual adjustments (``remediate=``): ``threshold``, ``met``, ``unexplained_before``,
        ``unexplained_after``, ``group``, ``residual_floor``, ``rows_raised``, ``workers_raised``,
        ``cost_annual``, ``cost_pct_of_payroll``; ``None`` when not asked for."""
        remediation: dict[str, Any] | None = self._data.get("remediation")
        return remediation

    def to_polars(self) -> pl.DataFrame:
        """The baseline and one row per scenario."""
        import polars as pl

        return pl.read_csv(io.StringIO(_core.scenario_table_csv(self._json)), schema_overrides={"scenario": pl.String})

    def summary(self) -> str:
        """The text table printed by ``payequity scenario``."""
        return str(_core.scenario_summary(self._json))

    def chart_svg(self) -> str:
        """The SVG chart of mean gap against annual cost (``payequity scenario --chart FILE.svg``)."""
        return str(_core.scenario_chart(self._json))

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(s['name']))}</td><td>{_number(s['mean_gap_pct'])}</td>"
            f"<td>{_number(s['median_gap_pct'])}</td><td>{s['cost_annual']:,.0f}</td>"
            f"<td>{s['cost_pct_of_payroll']:.2f}</td></tr>"
            for s in self.scenarios
        )
        base = self.baseline
        return (
            f"{self.chart_svg()}<table><tr><th>scenario</th><th>mean gap %</th><th>median gap %</th>"
            f"<th>cost a year</th><th>cost %</th></tr><tr><td>baseline</td><td>{_number(base['mean_gap_pct'])}</td>"
            f"<td>{_number(base['median_gap_pct'])}</td><td>-</td><td>-</td></tr>{rows}</table>"
        )

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """Mean gap against annual cost, one point per scenario (the baseline hollow at zero cost)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        base = self.baseline["mean_gap_pct"]
        if base is not None:
            ax.scatter([0.0], [base], facecolors="none", edgecolors="#b2182b", label="baseline")
        for s in self.scenarios:
            if s["mean_gap_pct"] is not None:
                ax.scatter([s["cost_annual"]], [s["mean_gap_pct"]], color="#b2182b")
                ax.annotate(str(s["name"]), (s["cost_annual"], s["mean_gap_pct"]), fontsize=8,
                            xytext=(4, 4), textcoords="offset points")
        ax.set_xlabel("annual cost")
        ax.set_ylabel("mean gap, %")
        ax.set_title("Bargaining scenarios: gap against cost")
        return ax

    def __repr__(self) -> str:
        return f"<ScenarioResult {len(self.scenarios)} scenario(s)>"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
