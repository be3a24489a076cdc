"""The few distribution functions the scan's checks need, from `scipy.special`.

`scipy.stats` takes about 0.45 s to import (its hundred distributions are built at import),
`scipy.special` about 0.1 s, and every `rootcause scan` worker paid the difference for four
functions. Each function here is the expression `scipy.stats` 1.x evaluates for these
arguments (`norm.sf(x)` is `ndtr(-x)`, `t.sf(x, df)` is `stdtr(df, -x)`, a quantile is
`ppf * scale + loc` with scale 1 and loc 0), so the values are the same to the bit:
`tests/analysis/test_distributions.py` compares them with `scipy.stats` over grids of
arguments, edges included. Imported inside the functions (see `rootcause.analysis._common`).
"""

from __future__ import annotations


def norm_sf(x: float) -> float:
    """Standard normal survival function, P(Z > x) (`scipy.stats.norm.sf`)."""
    from scipy import special

    return float(special.ndtr(-x))


def norm_ppf(q: float) -> float:
    """Standard normal quantile of `q` (`scipy.stats.norm.ppf`; 0 -> -inf, 1 -> inf, NaN
    outside [0, 1])."""
    from scipy import special

    return float(special.ndtri(q) * 1.0 + 0.0) if 0.0 <= q <= 1.0 else float("nan")


def norm_isf(q: float) -> float:
    """Standard normal upper quantile: the z with P(Z > z) = q (`scipy.stats.norm.isf`)."""
    from scipy import special

    return float(-special.ndtri(q) * 1.0 + 0.0) if 0.0 <= q <= 1.0 else float("nan")


def t_sf(x: float, df: float) -> float:
    """Student's t survival function with `df` degrees of freedom (`scipy.stats.t.sf`; NaN
    for df <= 0)."""
    from scipy import special

    return float(special.stdtr(df, -x)) if df > 0 else float("nan")


def chi2_ppf(q: float, df: float) -> float:
    """Chi-squared quantile of `q` with `df` degrees of freedom (`scipy.stats.chi2.ppf`; the
    median is `chi2_ppf(0.5, df)`)."""
    from scipy import special

    if not (df > 0 and 0.0 <= q <= 1.0):
        return float("nan")
    if q == 1.0:
        return float("inf")
    return float(2 * special.gammaincinv(df / 2, q) * 1.0 + 0.0)
