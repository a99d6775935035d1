"""`payequity.dfl`: the DiNardo-Fortin-Lemieux reweighting decomposition of distributional statistics."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from payequity import _core
from payequity._document import Document
from payequity._input import as_table
from payequity._oaxaca import oaxaca_options_json

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.axes import Axes


def dfl(
    data: Any,
    *,
    statistic: str | Sequence[str] | None = None,
    reweight_group: str | None = None,
    trim: float | None = None,
    sequential: Sequence[str] | None = None,
    quantile_method: str | None = None,
    outcome: str | None = None,
    group: str | None = None,
    group_a: str | int | float | None = None,
    group_b: str | int | float | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    weights: str | None = None,
    log: bool | None = None,
    se: str | None = None,
    reps: int | None = None,
    seed: int | None = None,
    bootstrap_ci: str | None = None,
    confidence: float | None = None,
    strict: bool | None = None,
    config: str | None = None,
) -> DflResult:
    """DFL reweighting (DiNardo, Fortin & Lemieux 1996): composition and structure at every statistic.

    A weighted logit of P(B | Z) on ``covariates`` and ``categorical`` gives each row of B the factor
    ``psi = P(A|Z)/P(B|Z) * P(B)/P(A)``; the counterfactual C is B's outcomes weighted by ``w * psi`` (B's pay
    structure with A's characteristics; ``reweight_group="a"`` reweights A to B instead). For every statistic
    (default q05..q95 in steps of 5, mean, var, gini, iqr10_90, iqr50_90, iqr10_50): difference
    ``v_A - v_B`` = composition ``v_C - v_B`` + structure ``v_A - v_C``. ``se="bootstrap"`` (``reps``,
    ``seed``) refits the logit in every Poisson-weighted replicate; ``trim`` caps psi. The distribution of psi
    is in ``result["psi"]``. ``sequential=["grade"]`` reweights on those covariates first and splits the
    composition effect into ``composition_first`` (their part) and ``composition_rest`` (the others' given them).
    ``quantile_method="r7"`` reads quantiles as R does (type 7; with weights ``Hmisc::wtd.quantile``, the rule
    of R's ``ddecompose``) instead of Stata's ``_pctile`` (docs/distributional.md, "Conventions").
    """
    options = oaxaca_options_json(outcome=outcome, group=group, group_a=group_a, group_b=group_b,
                                  covariates=covariates, categorical=categorical, weights=weights, log=log,
                                  se=se if se is not None else "none", reps=reps, seed=seed,
                                  bootstrap_ci=bootstrap_ci, confidence=confidence, strict=strict, config=config)
    dfl_options: dict[str, Any] = {}
    if statistic is not None:
        dfl_options["statistic"] = [statistic] if isinstance(statistic, str) else list(statistic)
    if reweight_group is not None:
        dfl_options["reweight_group"] = reweight_group
    if trim is not None:
        dfl_options["trim"] = trim
    if sequential is not None:
        dfl_options["sequential"] = list(sequential)
    if quantile_method is not None:
        dfl_options["quantile_method"] = quantile_method
    return DflResult(_core.dfl(as_table(data), options, json.dumps(dfl_options)))


class DflResult(Document):
    """The DFL document (``kind = "dfl"``); the same JSON as ``payequity dfl --format json``."""

    @property
    def results(self) -> list[dict[str, Any]]:
        """One row per statistic: the difference, the composition part (reweighted counterfactual) and the structure part (docs/distributional.md, "DFL")."""
        results: list[dict[str, Any]] = self._data["results"]
        return results

    @property
    def psi(self) -> Mapping[str, Any]:
        """The distribution of the reweighting factor (min, p10, p25, p50, p75, p90, max, trimmed)."""
        psi: Mapping[str, Any] = self._data["psi"]
        return psi

    def to_polars(self) -> pl.DataFrame:
        """One row per statistic x part (``difference``, ``composition``, ``structure``)."""
        import polars as pl

        rows = [{"statistic": r["statistic"], "part": part, "estimate": r[part]["estimate"], "se": r[part]["se"],
                 "ci_low": r[part]["ci_low"], "ci_high": r[part]["ci_high"]}
                for r in self.results for part in ("difference", "composition", "structure")]
        floats = {c: pl.Float64 for c in ("estimate", "se", "ci_low", "ci_high")}
        return pl.DataFrame(rows, schema_overrides=floats)

    def summary(self) -> str:
        """The table printed by ``payequity dfl``."""
        return str(_core.dfl_summary(self._json))

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"

    def __repr__(self) -> str:
        return f"<DflResult {self._data['groups']['a']} - {self._data['groups']['b']}: {len(self.results)} statistics>"

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """Difference, composition and structure at each quantile statistic (x: percentile)."""
        import matplotlib.pyplot as plt

        quantiles = [r for r in self.results if r["statistic"].startswith("q")]
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 3.8))
        x = [_percentile(r["statistic"]) for r in quantiles]
        _plot_parts(ax, x, quantiles, "difference")
        ax.set_ylabel(f"difference in {self._data['outcome']}")
        ax.set_title(f"DFL: {self._data['groups']['a']} vs {self._data['groups']['b']}")
        return ax


def _plot_parts(ax: Axes, x: list[float], rows: list[dict[str, Any]], total: str) -> None:
    """The total (``gap`` or ``difference``), composition and structure of each row against x, with CI bands."""
    for part, color in ((total, "black"), ("composition", "#4477aa"), ("structure", "#ee6677")):
        ax.plot(x, [r[part]["estimate"] for r in rows], marker="o", color=color, label=part)
        low = [r[part]["ci_low"] for r in rows]
        high = [r[part]["ci_high"] for r in rows]
        if all(v is not None for v in low + high):
            ax.fill_between(x, low, high, color=color, alpha=0.15)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("percentile")
    ax.legend()


def _percentile(name: str) -> float:
    """``q05`` -> 5.0, ``q255`` -> 25.5, ``q:0.3`` -> 30.0."""
    if name.startswith("q:"):
        return float(name[2:]) * 100
    digits = name[1:]
    return float(f"{digits[:2]}.{digits[2:] or '0'}")


def quantile_profile(
    data: Any,
    *,
    method: str | None = None,
    percentiles: Sequence[float] | None = None,
    kernel: str | None = None,
    bandwidth: str | float | None = None,
    quantile_method: str | None = None,
    outcome: str | None = None,
    group: str | None = None,
    group_a: str | int | float | None = None,
    group_b: str | int | float | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    weights: str | None = None,
    log: bool | None = None,
    reference: str | None = None,
    se: str | None = None,
    vce: str | None = None,
    reps: int | None = None,
    seed: int | None = None,
    confidence: float | None = None,
    strict: bool | None = None,
    config: str | None = None,
) -> QuantileProfileResult:
    """The gap, its composition part and its structure part at every percentile (default 5, 10, ..., 95).

    ``method="rif"`` (default) runs the RIF decomposition at each quantile (composition = explained,
    structure = unexplained; delta-method CIs, ``reference`` as in :func:`payequity.oaxaca`);
    ``method="dfl"`` reweights (CIs with ``se="bootstrap"``). A gap that widens at the top is a glass ceiling,
    one largest at the bottom a sticky floor. ``.plot()`` draws it.
    """
    keywords = {k: v for k, v in locals().items() if k != "data"}
    options, profile = profile_jsons(keywords)
    return QuantileProfileResult(_core.quantile_profile(as_table(data), options, profile))


def profile_jsons(keywords: dict[str, Any]) -> tuple[str, str]:
    """The ``oaxaca`` options and the profile options (JSON) of :func:`quantile_profile`'s keywords."""
    profile_keys = ("method", "percentiles", "kernel", "bandwidth", "quantile_method")
    options = oaxaca_options_json(**{k: v for k, v in keywords.items() if k not in profile_keys})
    method, percentiles, kernel, bandwidth, quantile_method = (keywords.get(k) for k in profile_keys)
    profile: dict[str, Any] = {}
    if method is not None:
        profile["method"] = method
    if percentiles is not None:
        profile["percentiles"] = [float(p) for p in percentiles]
    if kernel is not None:
        profile["kernel"] = kernel
    if bandwidth is not None:
        profile["bandwidth"] = bandwidth
    if quantile_method is not None:
        profile["quantile_method"] = quantile_method
    return options, json.dumps(profile)


class QuantileProfileResult(Document):
    """The quantile profile (``kind = "quantile_profile"``); ``_repr_html_`` is the report's section."""

    @property
    def points(self) -> list[dict[str, Any]]:
        """One row per percentile: the gap, its composition and structure parts and their SEs (docs/distributional.md, "Quantile profile")."""
        points: list[dict[str, Any]] = self._data["points"]
        return points

    def to_polars(self) -> pl.DataFrame:
        """One row per percentile: quantiles of A and B, the gap with its CI, composition and structure."""
        import polars as pl

        rows = [{"percentile": p["percentile"], "a": p["a"], "b": p["b"], "gap": p["gap"]["estimate"],
                 "gap_ci_low": p["gap"]["ci_low"], "gap_ci_high": p["gap"]["ci_high"],
                 "composition": p["composition"]["estimate"], "composition_se": p["composition"]["se"],
                 "structure": p["structure"]["estimate"], "structure_se": p["structure"]["se"]}
                for p in self.points]
        return pl.DataFrame(rows, schema_overrides={k: pl.Float64 for k in rows[0]} if rows else None)

    def summary(self) -> str:
        """The table printed by ``payequity quantile-profile``."""
        return str(_core.quantile_profile_summary(self._json))

    def __repr__(self) -> str:
        return f"<QuantileProfileResult {self._data['method']}: {len(self.points)} percentiles>"

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """Gap, composition and structure by percentile with CI bands (x: percentile, y: outcome units)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 3.8))
        _plot_parts(ax, [p["percentile"] for p in self.points], self.points, "gap")
        ax.set_ylabel(("log " if self._data["log"] else "") + self._data["outcome"])
        ax.set_title(f"Quantile profile: {self._data['groups']['a']} vs {self._data['groups']['b']}")
        return ax
