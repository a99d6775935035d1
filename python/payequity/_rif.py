"""`payequity.rif` and `payequity.rif_regression`: the RIF decomposition of distributional statistics
(quantiles, variance, Gini, interquantile ranges and ratios) and the unconditional quantile regression."""

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


def rif_options_json(
    *,
    statistic: str | Sequence[str] | None = None,
    kernel: str | None = None,
    bandwidth: str | float | None = None,
    quantile_method: str | None = None,
    reweight: bool | None = None,
    reweight_group: str | None = None,
    reweight_covariates: Sequence[str] | None = None,
    trim: float | None = None,
    config: str | None = None,
) -> str:
    """The statistics, kernel and bandwidth as the JSON the Rust core reads (``[rif]`` of ``config`` first)."""
    options: dict[str, Any] = json.loads(_core.rif_options_from_config(config)) if config else {}
    if statistic is not None:
        options["statistic"] = [statistic] if isinstance(statistic, str) else list(statistic)
    if kernel is not None:
        options["kernel"] = kernel
    if bandwidth is not None:
        options["bandwidth"] = bandwidth
    if quantile_method is not None:
        options["quantile_method"] = quantile_method
    if reweight is not None:
        options["reweight"] = reweight
    if reweight_group is not None:
        options["reweight_group"] = reweight_group
    if reweight_covariates is not None:
        options["reweight_covariates"] = list(reweight_covariates)
    if trim is not None:
        options["trim"] = trim
    return json.dumps(options)


_RIF_ONLY = ("data", "statistic", "kernel", "bandwidth", "quantile_method", "reweight", "reweight_group",
             "reweight_covariates", "trim")


def rif(
    data: Any,
    *,
    statistic: str | Sequence[str] | None = None,
    kernel: str | None = None,
    bandwidth: str | float | None = None,
    quantile_method: str | None = None,
    reweight: bool | None = None,
    reweight_group: str | None = None,
    reweight_covariates: Sequence[str] | None = None,
    trim: float | None = None,
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
) -> RifResult:
    """RIF decomposition (Firpo, Fortin & Lemieux 2018; Stata's ``oaxaca_rif``) of one or several statistics.

    ``statistic`` is a name or a list: ``"mean"``, ``"var"``, ``"gini"``, ``"q10"`` (any ``qNN`` or
    ``"q:0.255"``), ``"iqr10_90"``, ``"iqratio90_10"`` (default ``["q10", "q50", "q90"]``). Each group's
    recentered influence function RIF(y; v) = v + IF(y; v) is computed from its own sample: quantiles by Stata's
    ``_pctile`` rule, the density at q by an exact weighted kernel estimate (``kernel="gaussian"`` default,
    ``"epanechnikov"`` (Stata's), ``"epan2"``, ``"triangular"``, ``"biweight"``) with the bandwidth of Stata's
    ``rifvar`` (``bandwidth="silverman"``), R's ``bw.nrd0`` (``"nrd0"``) or a fixed number;
    ``quantile_method="r7"`` reads quantiles as R's ``quantile()`` and numpy do. The mean RIFs are then
    decomposed exactly as :func:`payequity.oaxaca` decomposes means, with the same keywords (references, threefold, detailed terms,
    normalization, delta-method SEs with ``vce="classical" | "robust"``); the RIF decomposition of ``"mean"``
    is ``oaxaca`` itself. Every q, f(q) and bandwidth used is in ``result["results"][i]["density"]``.

    ``reweight=True`` adds the reweighted decomposition (``results[i]["reweighted"]``): B reweighted to A's
    covariates by a logit on ``reweight_covariates`` (default the covariates; ``reweight_group="a"`` reweights A
    to B's instead; ``trim`` caps the factor), its
    own RIF regression, and the four parts pure composition, specification error, pure wage structure and
    reweighting error, each with detailed terms; with ``se="bootstrap"`` (``reps``, ``seed``) they get
    bootstrap SEs (the plain part keeps delta SEs).
    """
    keywords = {k: v for k, v in locals().items() if k != "data"}
    options, rif_json = rif_jsons(keywords)
    return RifResult(_core.rif(as_table(data), options, rif_json))


def rif_jsons(keywords: dict[str, Any]) -> tuple[str, str]:
    """The ``oaxaca`` and ``rif`` options JSON of :func:`rif`'s keywords."""
    oaxaca_keywords = {k: v for k, v in keywords.items() if k not in _RIF_ONLY}
    rif_keywords = {k: v for k, v in keywords.items() if k in _RIF_ONLY or k == "config"}
    return oaxaca_options_json(**oaxaca_keywords), rif_options_json(**rif_keywords)


def rif_regression(
    data: Any,
    *,
    outcome: str | None = None,
    statistic: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    base_levels: Mapping[str, str] | None = None,
    weights: str | None = None,
    log: bool | None = None,
    vce: str | None = None,
    se: str | None = None,
    reps: int | None = None,
    seed: int | None = None,
    bootstrap_ci: str | None = None,
    kernel: str | None = None,
    bandwidth: str | float | None = None,
    quantile_method: str | None = None,
    confidence: float | None = None,
    strict: bool | None = None,
    config: str | None = None,
) -> RifRegressionResult:
    """RIF regression (unconditional quantile regression; Firpo, Fortin & Lemieux 2009; Stata's ``rifhdreg``).

    Weighted OLS of RIF(y; v) on the covariates; the coefficients are the effects of a small shift in a
    covariate's distribution on the unconditional statistic ``statistic`` (one name, default ``"q50"``).
    ``vce="classical"`` (default) or ``"robust"`` (HC1) treat the RIF as known, as ``rifhdreg`` does;
    ``se="bootstrap"`` (``reps``, ``seed``) recomputes q, f(q) and the RIF in every replicate.
    """
    options = oaxaca_options_json(
        outcome=outcome, covariates=covariates, categorical=categorical, base_levels=base_levels, weights=weights,
        log=log, vce=vce, se=se, reps=reps, seed=seed, bootstrap_ci=bootstrap_ci, confidence=confidence,
        strict=strict, config=config, group_a="all",
    )
    chosen = statistic if statistic is not None else (None if config else "q50")
    rif_json = rif_options_json(statistic=chosen, kernel=kernel, bandwidth=bandwidth,
                                quantile_method=quantile_method, config=config)
    return RifRegressionResult(_core.rif_regression(as_table(data), options, rif_json))


class RifResult(Document):
    """The RIF decomposition document (``kind = "rif"``); the same JSON as ``payequity rif --format json``."""

    @property
    def results(self) -> list[dict[str, Any]]:
        """One entry per statistic: ``value``, ``sample``, ``density``, ``difference``, ``twofold``, ..."""
        results: list[dict[str, Any]] = self._data["results"]
        return results

    def to_polars(self) -> pl.DataFrame:
        """One row per statistic x twofold component (``statistic, component, estimate, se, ci_low, ci_high``)."""
        import polars as pl

        rows = []
        for r in self.results:
            parts = [("difference", r["difference"])]
            parts += [(c, r["twofold"][c]) for c in ("explained", "unexplained", "unexplained_a", "unexplained_b")]
            for component, e in parts:
                rows.append({"statistic": r["statistic"], "component": component, "estimate": e["estimate"],
                             "se": e["se"], "ci_low": e["ci_low"], "ci_high": e["ci_high"]})
        floats = {c: pl.Float64 for c in ("estimate", "se", "ci_low", "ci_high")}
        return pl.DataFrame(rows, schema_overrides=floats)

    def summary(self, detail: bool = False) -> str:
        """The table printed by ``payequity rif`` (``detail=True``: one row per term)."""
        return str(_core.rif_summary(self._json, detail))

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"

    def __repr__(self) -> str:
        parts = []
        for r in self.results:
            e = r["difference"]["estimate"]
            parts.append(f"{r['statistic']} {'null' if e is None else f'{e:.4f}'}")
        return f"<RifResult {self._data['groups']['a']} - {self._data['groups']['b']}: {', '.join(parts)}>"

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """Explained and unexplained parts of the difference at each statistic, with CIs (matplotlib)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        names = [r["statistic"] for r in self.results]
        positions = list(range(len(names)))
        for offset, component, color in ((-0.2, "explained", "#4477aa"), (0.2, "unexplained", "#ee6677")):
            values = [r["twofold"][component]["estimate"] or 0.0 for r in self.results]
            low = [v - (r["twofold"][component]["ci_low"] if r["twofold"][component]["ci_low"] is not None else v)
                   for v, r in zip(values, self.results)]
            high = [(r["twofold"][component]["ci_high"] if r["twofold"][component]["ci_high"] is not None else v) - v
                    for v, r in zip(values, self.results)]
            ax.bar([p + offset for p in positions], values, width=0.4, yerr=[low, high], color=color, capsize=3,
                   label=component)
        ax.plot(positions, [r["difference"]["estimate"] or 0.0 for r in self.results], "ko", label="difference")
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(positions, names)
        ax.set_ylabel(f"difference in {self._data['outcome']}")
        ax.set_title(f"RIF decomposition: {self._data['groups']['a']} vs {self._data['groups']['b']}")
        ax.legend()
        return ax


class RifRegressionResult(Document):
    """The RIF regression document (``kind = "rif_regression"``)."""

    @property
    def coefficients(self) -> list[dict[str, Any]]:
        """One entry per term: ``term, estimate, se, ci_low, ci_high``."""
        coefficients: list[dict[str, Any]] = self._data["coefficients"]
        return coefficients

    def to_polars(self) -> pl.DataFrame:
        """One row per term (``term, estimate, se, ci_low, ci_high``)."""
        import polars as pl

        floats = {c: pl.Float64 for c in ("estimate", "se", "ci_low", "ci_high")}
        return pl.DataFrame(self.coefficients, schema_overrides={"term": pl.String, **floats})

    def summary(self) -> str:
        """The table printed by ``payequity rif-regression``."""
        return str(_core.rif_regression_summary(self._json))

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"

    def __repr__(self) -> str:
        return f"<RifRegressionResult {self._data['statistic']} of {self._data['outcome']}: n = {self._data['n']}>"

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """The coefficients (without the constant) with their CIs (matplotlib)."""
        import matplotlib.pyplot as plt

        terms = [c for c in self.coefficients if c["term"] != "_cons" and c["estimate"] is not None]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.4 * len(terms) + 1.2))
        values = [c["estimate"] for c in terms]
        errors = [[v - (c["ci_low"] if c["ci_low"] is not None else v) for v, c in zip(values, terms)],
                  [(c["ci_high"] if c["ci_high"] is not None else v) - v for v, c in zip(values, terms)]]
        ax.barh([c["term"] for c in terms], values, xerr=errors, color="#4477aa", ecolor="#333333", capsize=3)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.invert_yaxis()
        ax.set_xlabel(f"effect on {self._data['statistic']} of {self._data['outcome']}")
        return ax
