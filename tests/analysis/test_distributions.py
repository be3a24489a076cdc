"""The distribution functions from `scipy.special` give what `scipy.stats` gives, to the bit
(the scan's statistics moved to them to skip importing `scipy.stats`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from rootcause.analysis import distributions as dist

#: Arguments from the tails to the centre, the edges and non-finite values included.
XS = [
    *np.linspace(-40, 40, 801).tolist(),
    *np.random.default_rng(3).normal(0, 4, 500).tolist(),
    0.0,
    -0.0,
    1e-300,
    -1e-300,
    1e300,
    math.inf,
    -math.inf,
    math.nan,
]
QS = [
    *np.linspace(0, 1, 1001).tolist(),
    *np.random.default_rng(4).uniform(0, 1, 500).tolist(),
    *(10.0**-k for k in range(1, 320, 7)),
    *(1 - 10.0**-k for k in range(1, 17)),
    0.5,
    -0.1,
    1.1,
    math.inf,
    math.nan,
]
DFS = [1, 2, 3, 5, 8, 30, 117, 1e6, 0.5, 2.5, 0, -1, math.inf, math.nan]


def same(ours: float, theirs: float) -> bool:
    """Equal to the bit (both NaN, or the same float with the same sign of zero)."""
    theirs = float(theirs)
    if math.isnan(theirs):
        return math.isnan(ours)
    return ours == theirs and math.copysign(1, ours) == math.copysign(1, theirs)


def test_normal_functions_are_scipy_stats_to_the_bit() -> None:
    for x in XS:
        assert same(dist.norm_sf(x), stats.norm.sf(x)), x
    for q in QS:
        assert same(dist.norm_ppf(q), stats.norm.ppf(q)), q
        assert same(dist.norm_isf(q), stats.norm.isf(q)), q


@pytest.mark.parametrize("df", DFS)
def test_t_survival_is_scipy_stats_to_the_bit(df: float) -> None:
    for x in XS:
        assert same(dist.t_sf(x, df), stats.t.sf(x, df)), (x, df)


@pytest.mark.parametrize("df", DFS)
def test_chi2_quantile_is_scipy_stats_to_the_bit(df: float) -> None:
    for q in QS:
        assert same(dist.chi2_ppf(q, df), stats.chi2.ppf(q, df)), (q, df)
    assert same(dist.chi2_ppf(0.5, df), stats.chi2.median(df))
