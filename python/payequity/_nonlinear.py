"""`payequity.nonlinear_decompose`: the Fairlie (2005) / Yun (2004) decomposition of a 0/1 outcome."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from payequity import _core
from payequity._document import Document
from payequity._input import as_table
from payequity._oaxaca import oaxaca_options_json

if TYPE_CHECKING:
    import polars as pl


def nonlinear_decompose(
    data: Any,
    *,
    outcome: str | None = None,
    group: str | None = None,
    group_a: str | int | float | None = None,
    group_b: str | int | float | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    reference: str | None = None,
    weight: float | None = None,
    weights: str | None = None,
    model: str = "logit",
    se: str | None = None,
    reps: int | None = None,
    seed: int | None = None,
    bootstrap_ci: str | None = None,
    confidence: float | None = None,
    strict: bool | None = None,
    config: str | None = None,
) -> NonlinearResult:
    """Fairlie/Yun decomposition of the difference in a 0/1 outcome (e.g. receives hazard pay).

    A logit (``model="probit"``: a probit) of ``outcome`` on the covariates gives b*: ``reference="pooled"`` (default; pooled logit with the
    group indicator, left out of the predictions) or ``reference="weight"`` with ``weight=1`` (group A's
    coefficients) or ``0`` (B's). ``explained = mean_A F(x'b*) - mean_B F(x'b*)``, ``unexplained`` the rest of
    ``p_A - p_B``; detailed terms by Yun's weights. ``se="delta"`` gives the explained part's SE, ``"bootstrap"``
    (``reps``, ``seed``) every figure's. A non-0/1 outcome raises an error naming the row.
    """
    options = oaxaca_options_json(outcome=outcome, group=group, group_a=group_a, group_b=group_b,
                                  covariates=covariates, categorical=categorical, reference=reference,
                                  weight=weight, weights=weights, se=se, reps=reps, seed=seed,
                                  bootstrap_ci=bootstrap_ci, confidence=confidence, strict=strict, config=config)
    return NonlinearResult(_core.nonlinear(as_table(data), options, model))


class NonlinearResult(Document):
    """The nonlinear decomposition document (``kind = "nonlinear"``)."""

    @property
    def explained(self) -> dict[str, Any]:
        """The explained part of the gap in the 0/1 outcome (Fairlie/Yun), with its delta-method SE (docs/distributional.md, "Nonlinear")."""
        explained: dict[str, Any] = self._data["explained"]
        return explained

    @property
    def unexplained(self) -> dict[str, Any]:
        """The unexplained part: the difference less the explained part (docs/distributional.md, "Nonlinear")."""
        unexplained: dict[str, Any] = self._data["unexplained"]
        return unexplained

    @property
    def detailed(self) -> list[dict[str, Any]]:
        """Yun's (2004) detailed explained terms, one per covariate (or dummy group), with delta-method SEs."""
        detailed: list[dict[str, Any]] = self._data["detailed"]
        return detailed

    def to_polars(self) -> pl.DataFrame:
        """One row per term x part (``explained``, ``unexplained``)."""
        import polars as pl

        rows = [{"term": t["term"], "part": part, "estimate": t[part]["estimate"], "se": t[part]["se"]}
                for t in self.detailed for part in ("explained", "unexplained")]
        return pl.DataFrame(rows, schema_overrides={"estimate": pl.Float64, "se": pl.Float64})

    def summary(self) -> str:
        """The table printed by ``payequity nonlinear``."""
        return str(_core.nonlinear_summary(self._json))

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"

    def __repr__(self) -> str:
        e = self.explained["estimate"]
        return f"<NonlinearResult {self._data['outcome']}: explained {'null' if e is None else f'{e:.4f}'}>"
