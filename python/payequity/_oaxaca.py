"""`payequity.oaxaca`: the Oaxaca-Blinder decomposition, and the result object shown in notebooks."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from payequity import _core
from payequity._document import Document
from payequity._input import as_table

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.axes import Axes


def oaxaca(
    data: Any,
    *,
    outcome: str | None = None,
    group: str | None = None,
    group_a: str | int | float | None = None,
    group_b: str | int | float | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    base_levels: Mapping[str, str] | None = None,
    detail_groups: Mapping[str, Sequence[str]] | None = None,
    normalize: bool | None = None,
    reference: str | None = None,
    weight: float | None = None,
    weights: str | None = None,
    log: bool | None = None,
    threefold_viewpoint: str | None = None,
    se: str | None = None,
    vce: str | None = None,
    reps: int | None = None,
    seed: int | None = None,
    draw: str | None = None,
    bootstrap_ci: str | None = None,
    confidence: float | None = None,
    strict: bool | None = None,
    config: str | None = None,
) -> OaxacaResult:
    """Oaxaca-Blinder decomposition of ``mean(outcome | A) - mean(outcome | B)``.

    ``data`` is a file path (a directory or a glob of files is streamed in batches, docs/scale.md), a polars or
    pandas DataFrame, a pyarrow Table or any ``__arrow_c_stream__`` object; for Spark and Dask DataFrames use
    :func:`payequity.spark.oaxaca` and :func:`payequity.dask.oaxaca`.

    Groups: rows whose ``group`` equals ``group_a`` form group A (the comparison group: positive values mean
    A has the higher outcome), rows equal to ``group_b`` (default: the one other value) group B; other rows
    are excluded as ``other_group``. A numeric group column is matched numerically (``group_a=1`` matches
    ``1.0``). ``covariates`` are numeric, ``categorical`` columns of labels are dummy-encoded (base level
    ``base_levels[col]`` or the first) and, with ``normalize=True`` (default), Yun (2005) normalized so
    detailed terms do not depend on the base. ``detail_groups={"demography": ["age", "region"]}`` sums the detailed
    terms of named groups of covariates (SEs from the joint covariance, as Stata's ``detail(name: vars)``);
    they are listed in ``twofold["groups"]`` / ``threefold["groups"]`` with the categorical columns not in a group.

    Components (Jann 2008): threefold ``E = (xA - xB)'bB``, ``C = xB'(bA - bB)``, ``I = (xA - xB)'(bA - bB)``
    (``threefold_viewpoint="a"`` for A's); twofold ``Q = (xA - xB)'b*``, ``U = xA'(bA - b*) + xB'(b* - bB)``
    with ``reference`` one of ``"pooled"`` (pooled regression with a group indicator, default),
    ``"neumark"`` (without), ``"cotton"`` (W = nA / (nA + nB)), ``"reimers"`` (W = 0.5) or ``"weight"``
    (b* = W bA + (1 - W) bB with ``weight=W``). ``weights`` names a sampling-weight column.

    Standard errors: ``se="delta"`` (Jann 2005; covariate means stochastic; ``vce="classical"`` or
    ``"robust"``, the stacked-score sandwich of Stata's ``suest``), ``"bootstrap"`` (``reps``,
    ``seed``, ``draw="poisson" | "multinomial"``, ``bootstrap_ci="normal" | "percentile"``) or ``"none"``.
    ``log=True`` takes the natural log of the outcome first. Every excluded row is counted in
    ``result.ledger``; ``strict=True`` raises instead.
    """
    keywords = {k: v for k, v in locals().items() if k != "data"}
    document = _core.oaxaca(as_table(data), oaxaca_options_json(**keywords))
    return OaxacaResult(document)


def oaxaca_options_json(
    *,
    outcome: str | None = None,
    group: str | None = None,
    group_a: str | int | float | None = None,
    group_b: str | int | float | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    base_levels: Mapping[str, str] | None = None,
    detail_groups: Mapping[str, Sequence[str]] | None = None,
    normalize: bool | None = None,
    reference: str | None = None,
    weight: float | None = None,
    weights: str | None = None,
    log: bool | None = None,
    threefold_viewpoint: str | None = None,
    se: str | None = None,
    vce: str | None = None,
    reps: int | None = None,
    seed: int | None = None,
    draw: str | None = None,
    bootstrap_ci: str | None = None,
    confidence: float | None = None,
    strict: bool | None = None,
    config: str | None = None,
) -> str:
    """The options of :func:`oaxaca` (same keywords) as the JSON the Rust core reads."""
    options: dict[str, Any] = json.loads(_core.oaxaca_options_from_config(config)) if config else {}

    def text(value: str | int | float | None) -> str | None:
        return None if value is None else str(value)

    settings: dict[str, object] = {
        "outcome": outcome, "group": group, "group_a": text(group_a), "group_b": text(group_b),
        "covariates": list(covariates) if covariates is not None else None,
        "categorical": list(categorical) if categorical is not None else None,
        "base_levels": dict(base_levels) if base_levels is not None else None, "normalize": normalize,
        "detail_groups": {k: list(v) for k, v in detail_groups.items()} if detail_groups is not None else None,
        "reference": reference, "weight": weight, "weights": weights, "log": log,
        "threefold_viewpoint": threefold_viewpoint, "se": se, "vce": vce, "reps": reps, "seed": seed, "draw": draw,
        "bootstrap_ci": bootstrap_ci, "confidence": confidence, "strict": strict,
    }
    for key, value in settings.items():
        if value is not None:
            options[key] = value
    return json.dumps(options)


_COMPONENTS = {
    "twofold": ("explained", "unexplained", "unexplained_a", "unexplained_b"),
    "threefold": ("endowments", "coefficients", "interaction"),
}


class OaxacaResult(Document):
    """The decomposition document (``kind = "oaxaca"``); the same JSON as ``payequity oaxaca --format json``."""

    @property
    def difference(self) -> dict[str, Any]:
        """mean(y_A) - mean(y_B) as an estimate object (``estimate``, ``se``, ``ci_low``, ``ci_high``)."""
        difference: dict[str, Any] = self._data["difference"]
        return difference

    @property
    def twofold(self) -> dict[str, Any]:
        """The twofold decomposition: ``explained`` (endowments) and ``unexplained`` (coefficients) with detailed terms and delta-method SEs, for the configured reference (docs/oaxaca.md, "Twofold")."""
        twofold: dict[str, Any] = self._data["twofold"]
        return twofold

    @property
    def threefold(self) -> dict[str, Any]:
        """The threefold decomposition: ``endowments``, ``coefficients`` and ``interaction`` from the viewpoint of group B (or A), with detailed terms (docs/oaxaca.md, "Threefold")."""
        threefold: dict[str, Any] = self._data["threefold"]
        return threefold

    @property
    def coefficients(self) -> dict[str, dict[str, float]]:
        """Coefficients of groups ``a`` and ``b`` and the ``reference`` b*, by term (normalized)."""
        coefficients: dict[str, dict[str, float]] = self._data["coefficients"]
        return coefficients

    def to_polars(self) -> pl.DataFrame:
        """One row per component x term (``section, component, term, scope, estimate, se, ci_low, ci_high,
        z, p_value``), the same columns as ``payequity oaxaca --format csv``."""
        import polars as pl

        text = _core.oaxaca_table_csv(self._json)
        floats = {c: pl.Float64 for c in ("estimate", "se", "ci_low", "ci_high", "z", "p_value")}
        return pl.read_csv(io.StringIO(text), schema_overrides=floats)

    def summary(self, detail: bool = False) -> str:
        """The Stata-like table printed by ``payequity oaxaca`` (``detail=True``: ``--detail``)."""
        return str(_core.oaxaca_summary(self._json, detail))

    def __repr__(self) -> str:
        d, two = self.difference, self.twofold
        def fmt(e: dict[str, Any]) -> str:
            v = e["estimate"]
            return "null" if v is None else f"{v:.4f}"

        return (f"<OaxacaResult {self._data['groups']['a']} - {self._data['groups']['b']}: difference {fmt(d)}, "
                f"explained {fmt(two['explained'])}, unexplained {fmt(two['unexplained'])} "
                f"({two['reference']})>")

    def plot(self, component: str = "explained", *, groups: bool = True, ax: Axes | None = None) -> Axes:
        """Horizontal bar chart of the detailed contributions to ``component`` with their CIs (matplotlib).

        ``component`` is a twofold (``explained``, ``unexplained``, ...) or threefold (``endowments``, ...)
        component. With ``groups=True`` each categorical covariate is one bar (the sum over its levels).
        """
        import matplotlib.pyplot as plt

        section = next((s for s, names in _COMPONENTS.items() if component in names), None)
        if section is None:
            known = ", ".join(n for names in _COMPONENTS.values() for n in names)
            raise ValueError(f"unknown component {component!r}; use one of {known}")
        part = self._data[section]
        grouped = {g["term"] for g in part["groups"]}
        terms = [t for t in part["detailed"] if not (groups and t["term"].split(":")[0] in grouped)]
        if groups:
            terms += part["groups"]
        labels = [t["term"] for t in terms]
        values = [t[component]["estimate"] or 0.0 for t in terms]
        errors = [[v - (t[component]["ci_low"] if t[component]["ci_low"] is not None else v) for v, t in
                   zip(values, terms)],
                  [(t[component]["ci_high"] if t[component]["ci_high"] is not None else v) - v for v, t in
                   zip(values, terms)]]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.4 * len(labels) + 1.2))
        ax.barh(labels, values, xerr=errors, color="#4477aa", ecolor="#333333", capsize=3)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.invert_yaxis()
        ax.set_xlabel(f"contribution to {component} ({self._data['outcome']})")
        ax.set_title(f"{section} decomposition: {self._data['groups']['a']} vs {self._data['groups']['b']}")
        return ax
