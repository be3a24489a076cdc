"""`rootcause.analysis._pelt.pelt` finds ruptures' change points (ruptures' `Pelt` ran here
before; importing ruptures cost every scan worker half a second)."""

from __future__ import annotations

import numpy as np
import pytest
import ruptures as rpt

from rootcause.analysis._pelt import BinomialCost, L2Cost, pelt


class _Ours(rpt.base.BaseCost):  # type: ignore[misc]
    """One of our costs, as a ruptures custom cost."""

    model = "ours"

    def __init__(self, inner: BinomialCost | L2Cost) -> None:
        self.inner = inner
        self.min_size = inner.min_size

    def fit(self, signal: np.ndarray) -> _Ours:
        self.signal = signal
        return self

    def error(self, start: int, end: int) -> float:
        return self.inner.error(start, end)


def _binomial_trace(rng: np.random.Generator, size: int) -> np.ndarray:
    """Hits and trials per bin: a rate with a few steps, extra-binomial noise, empty bins."""
    n = rng.integers(0, 400, size).astype(np.float64)
    n[rng.random(size) < 0.05] = 0
    rate = np.full(size, rng.uniform(0, 0.3))
    for cut in rng.integers(1, size, rng.integers(0, 4)):
        rate[cut:] = np.clip(rate[cut:] + rng.normal(0, 0.15), 0, 1)
    rate = np.clip(rate * rng.lognormal(0, 0.2, size), 0, 1)
    k = rng.binomial(n.astype(np.int64), rate).astype(np.float64)
    return np.column_stack([k, n])


@pytest.mark.parametrize("seed", range(40))
def test_binomial_change_points_are_ruptures(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(2, 120))
    signal = _binomial_trace(rng, size)
    dispersion = float(rng.uniform(1, 5))
    for min_size in (1, 2, 3):
        for jump in (1, 2, 3):
            if min_size > size:
                continue
            for pen in (2.0 * np.log(max(size, 2)), float(rng.uniform(0.1, 30)), 0.5):
                cost = BinomialCost(dispersion).fit(signal)
                theirs = rpt.Pelt(
                    custom_cost=_Ours(BinomialCost(dispersion).fit(signal)),
                    min_size=min_size,
                    jump=jump,
                )
                expected = theirs.fit(signal).predict(pen=pen)
                assert pelt(cost, size, pen, min_size, jump) == expected


@pytest.mark.parametrize("seed", range(40))
def test_l2_change_points_are_ruptures(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    size = int(rng.integers(2, 150))
    y = rng.normal(0, 1, size)
    for cut in rng.integers(1, size, rng.integers(0, 4)):
        y[cut:] += rng.normal(0, 3)
    y[rng.random(size) < 0.1] = 0.0  # ties
    for min_size in (1, 2, 4):
        for jump in (1, 2, 5):
            if min_size > size:
                continue
            for pen in (2.0 * np.log(max(size, 2)), float(rng.uniform(0.01, 20))):
                theirs = rpt.Pelt(model="l2", min_size=min_size, jump=jump)
                expected = theirs.fit(y).predict(pen=pen)
                assert pelt(L2Cost().fit(y), size, pen, min_size, jump) == expected


def test_a_segment_longer_than_the_signal_is_refused() -> None:
    with pytest.raises(ValueError, match="no segment"):
        pelt(L2Cost().fit(np.zeros(3)), 3, 1.0, min_size=4)
