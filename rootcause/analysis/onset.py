"""Change points and the onset of a behaviour on a rate trace (per step bin).

Segmentation is PELT (exact for additive costs), as ruptures computes it (`_pelt.py`). Two models:

* binomial (`detect_onset(k, n)`): segment cost is the binomial deviance -2 log L of the
  segment's pooled rate, divided by a dispersion phi >= 1 estimated from adjacent-bin
  differences (quasi-binomial: real traces vary between steps more than binomial noise allows,
  and with a million samples a pure binomial model would cut at every wiggle). The penalty is
  BIC-like: 2 log T per change point (one rate and one location) on that scaled deviance.
* gaussian (`detect_onset_rates(rate)`): l2 cost with penalty 2 sigma^2 log T, sigma estimated
  robustly from the MAD of first differences; used when only rates are known.

Every change point is then tested, adjacent segment against adjacent segment: a two-proportion
z-test with the variance inflated by phi (binomial), or a z-test on segment means (gaussian).
These are post-selection tests (the cut was placed where the difference is largest), so treat
p-values as screening evidence, which is why the default alpha is a strict 0.01. The onset is
the first significant upward change, or None.

scipy.special (for the tests' distributions) is imported when a trace is tested, not when this
module is: every tool module imports it, and `rootcause tool overview` or `--help` must not pay
for it.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rootcause.analysis._common import FloatArray, as_float, two_proportion_z, two_sided_p
from rootcause.analysis._pelt import BinomialCost, L2Cost, pelt


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment of the input: its first bin (index), that bin's step `x_start`, its rate."""

    start: int
    x_start: float
    rate: float


@dataclass(frozen=True, slots=True)
class ChangePoint:
    """A change at bin `index` (first bin of the new segment) / step `x`, with its test."""

    index: int
    x: float
    before: float
    after: float
    p_value: float
    upward: bool
    significant: bool


@dataclass(frozen=True, slots=True)
class OnsetResult:
    """Tested change points and the onset (first significant upward change)."""

    change_points: tuple[ChangePoint, ...]
    onset: ChangePoint | None
    noise: float  # dispersion phi (binomial) or sigma (gaussian)


def binomial_dispersion(k: FloatArray, n: FloatArray) -> float:
    """Robust quasi-binomial dispersion phi >= 1 from adjacent-bin rate differences.

    Under pure binomial noise (p_t - p_t+1)^2 / (p(1-p)(1/n_t + 1/n_t+1)) ~ chi2_1; the median
    ratio over the trace divided by the chi2_1 median estimates phi, and one real step change
    moves the median by at most one pair.
    """
    k1, k2, n1, n2 = k[:-1], k[1:], n[:-1], n[1:]
    pooled = (k1 + k2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    ok = var > 0
    if not ok.any():
        return 1.0
    ratio = (k1[ok] / n1[ok] - k2[ok] / n2[ok]) ** 2 / var[ok]
    return max(1.0, float(np.median(ratio)) / _median_chi2_1())


@functools.cache
def _median_chi2_1() -> float:
    """The median of chi2 with one degree of freedom (scipy loads here, on first use)."""
    from rootcause.analysis.distributions import chi2_ppf

    return chi2_ppf(0.5, 1)


def _bins_x(x: npt.ArrayLike | None, size: int) -> FloatArray:
    return np.arange(size, dtype=np.float64) if x is None else as_float(x, "x", size)


def _finish(
    cuts: list[int],
    x: FloatArray,
    rates: FloatArray,
    test: list[tuple[float, float]],
    noise: float,
    alpha: float,
) -> OnsetResult:
    bounds = [0, *cuts]
    segments = tuple(Segment(s, float(x[s]), float(rates[i])) for i, s in enumerate(bounds[:-1]))
    points = tuple(
        ChangePoint(
            index=seg.start,
            x=seg.x_start,
            before=prev.rate,
            after=seg.rate,
            p_value=p,
            upward=seg.rate > prev.rate,
            significant=p < alpha,
        )
        for prev, seg, (_, p) in zip(segments[:-1], segments[1:], test, strict=True)
    )
    onset = next((c for c in points if c.upward and c.significant), None)
    return OnsetResult(points, onset, noise)


def detect_onset(
    k: npt.ArrayLike,
    n: npt.ArrayLike,
    x: npt.ArrayLike | None = None,
    *,
    alpha: float = 0.01,
    min_size: int = 2,
    penalty: float | None = None,
) -> OnsetResult:
    """Change points of a binomial rate trace (hits `k` of `n` per bin; bins with n == 0 are
    dropped) and its onset. `x` gives each bin's step (default: bin index); indices in the
    result refer to the kept bins. `penalty` overrides the BIC-like 2 log T.
    """
    k_arr, n_arr = as_float(k, "k"), as_float(n, "n")
    if k_arr.shape != n_arr.shape:
        raise ValueError("k and n differ in length")
    keep = n_arr > 0
    xs = _bins_x(x, k_arr.shape[0])[keep]
    k_arr, n_arr = k_arr[keep], n_arr[keep]
    T = k_arr.shape[0]
    phi = binomial_dispersion(k_arr, n_arr) if T > 1 else 1.0
    pen = 2.0 * np.log(max(T, 2)) if penalty is None else penalty
    cuts: list[int] = [T]
    if 2 * min_size <= T:
        cost = BinomialCost(phi).fit(np.column_stack([k_arr, n_arr]))
        cuts = [int(c) for c in pelt(cost, T, pen, min_size)]
    bounds = [0, *cuts]
    seg_k = np.array([k_arr[s:e].sum() for s, e in itertools.pairwise(bounds)])
    seg_n = np.array([n_arr[s:e].sum() for s, e in itertools.pairwise(bounds)])
    tests = [
        two_proportion_z(seg_k[i], seg_n[i], seg_k[i + 1], seg_n[i + 1], phi)
        for i in range(len(seg_k) - 1)
    ]
    return _finish(cuts, xs, seg_k / seg_n, tests, phi, alpha)


def detect_onset_rates(
    rate: npt.ArrayLike,
    x: npt.ArrayLike | None = None,
    *,
    alpha: float = 0.01,
    min_size: int = 2,
    penalty: float | None = None,
) -> OnsetResult:
    """Gaussian mean-shift version of `detect_onset` for a trace known only as rates (NaN bins
    dropped); noise sigma = MAD(diff(rate)) / (0.6745 sqrt 2). Prefer `detect_onset` with counts.
    """
    y = as_float(rate, "rate")
    keep = np.isfinite(y)
    xs, y = _bins_x(x, y.shape[0])[keep], y[keep]
    T = y.shape[0]
    diffs = np.diff(y)
    sigma = (
        float(np.median(np.abs(diffs - np.median(diffs)))) / (0.6745 * np.sqrt(2)) if T > 2 else 0.0
    )
    sigma = sigma if sigma > 0 else float(np.std(y)) or 1e-12
    pen = 2.0 * sigma**2 * np.log(max(T, 2)) if penalty is None else penalty
    cuts: list[int] = [T]
    if 2 * min_size <= T:
        cuts = [int(c) for c in pelt(L2Cost().fit(y), T, pen, min_size)]
    bounds = [0, *cuts]
    means = np.array([y[s:e].mean() for s, e in itertools.pairwise(bounds)])
    sizes = np.diff(np.array(bounds, dtype=np.float64))
    tests = []
    for i in range(len(means) - 1):
        z = (means[i + 1] - means[i]) / (sigma * np.sqrt(1 / sizes[i] + 1 / sizes[i + 1]))
        tests.append((float(z), two_sided_p(float(z))))
    return _finish(cuts, xs, means, tests, sigma, alpha)
