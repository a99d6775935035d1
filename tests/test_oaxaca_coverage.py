"""Monte Carlo check of the delta-method standard errors: over 500 samples from a population with known
components, the 95% confidence intervals must cover the truth between 93% and 97% of the time. Slow-marked
(a few seconds), but part of ``make test``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import payequity as pe

N_A, N_B = 600, 400
MEAN = {"a": np.array([1.0, 12.0, 0.6]), "b": np.array([1.0, 10.5, 0.3])}  # constant, tenure, shift share
BETA = {"a": np.array([2.2, 0.045, 0.15]), "b": np.array([2.0, 0.035, 0.10])}
SIGMA = {"a": 0.35, "b": 0.25}


def draw(rng: np.random.Generator, n: int, group: str) -> tuple[np.ndarray, np.ndarray]:
    tenure = rng.gamma(shape=4.0, scale=MEAN[group][1] / 4.0, size=n)
    night = (rng.random(n) < MEAN[group][2]).astype(float)
    x = np.column_stack([np.ones(n), tenure, night])
    y = x @ BETA[group] + rng.normal(0.0, SIGMA[group], n)
    return x, y


def sample(rng: np.random.Generator, n_a: int = N_A, n_b: int = N_B) -> pd.DataFrame:
    xa, ya = draw(rng, n_a, "a")
    xb, yb = draw(rng, n_b, "b")
    return pd.DataFrame({"group": ["a"] * n_a + ["b"] * n_b, "tenure": np.r_[xa[:, 1], xb[:, 1]],
                         "night": np.r_[xa[:, 2], xb[:, 2]], "y": np.r_[ya, yb]})


def truth(reference: str) -> dict[str, float]:
    """Population components: exact means and coefficients; the pooled reference from a 4M-row sample."""
    ma, mb, ba, bb = MEAN["a"], MEAN["b"], BETA["a"], BETA["b"]
    if reference == "pooled":
        big = sample(np.random.default_rng(99), 2_400_000, 1_600_000)
        x = np.column_stack([np.ones(len(big)), big["tenure"], big["night"], (big["group"] == "b").astype(float)])
        star = np.linalg.lstsq(x, big["y"].to_numpy(), rcond=None)[0][:3]
    else:
        star = 0.5 * (ba + bb)
    dx, db = ma - mb, ba - bb
    return {"difference": ma @ ba - mb @ bb, "endowments": dx @ bb, "coefficients": mb @ db,
            "interaction": dx @ db, "explained": dx @ star, "unexplained": ma @ (ba - star) + mb @ (star - bb)}


@pytest.mark.slow
@pytest.mark.parametrize("reference", ["pooled", "reimers"])
def test_delta_method_intervals_cover_the_truth_95_percent_of_the_time(reference: str) -> None:
    target = truth(reference)
    rng = np.random.default_rng(2024)
    hits = {name: 0 for name in target}
    samples = 500
    for _ in range(samples):
        r = pe.oaxaca(sample(rng), outcome="y", group="group", group_a="a", covariates=["tenure", "night"],
                      reference=reference).to_dict()
        found: dict[str, Any] = {"difference": r["difference"], **{k: r["threefold"][k] for k in
                                 ("endowments", "coefficients", "interaction")},
                                 "explained": r["twofold"]["explained"], "unexplained": r["twofold"]["unexplained"]}
        for name, estimate in found.items():
            hits[name] += estimate["ci_low"] <= target[name] <= estimate["ci_high"]
    coverage = {name: count / samples for name, count in hits.items()}
    for name, share in coverage.items():
        assert 0.93 <= share <= 0.97, f"{reference} {name}: coverage {share:.3f} ({coverage})"
    print(reference, coverage)
