"""Compare two rate traces: is B a lagged, rescaled copy of A?

The goblin signature: the behaviour rate *without* the persona tracked the rate *with* it,
rescaled and slightly behind, because RL generalises a tic learned in one context to others.
`compare_traces` measures that directly: rescaled overlay, Pearson/Spearman correlation, the
best lag by cross-correlation, onset of each trace, and the least-squares fit
B(t) ~ a * A(t - lag) + c at the best lag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from rootcause.analysis._common import FloatArray, as_float
from rootcause.analysis.onset import OnsetResult, detect_onset, detect_onset_rates

Rescale = Literal["minmax", "z"]


@dataclass(frozen=True, slots=True)
class TraceComparison:
    """How trace B relates to trace A (bins where either is NaN are ignored).

    `lag` is in bins and `lag_steps` in steps: positive means B follows A (A leads).
    `scale` and `fit_r2` come from B(t) ~ scale * A(t - lag) + offset; `is_copy` is
    True when that fit explains at least `copy_r2` of B's variance with a positive scale.
    `onset_delay` = onset(B) - onset(A) in steps (None unless both traces have an onset).
    """

    x: FloatArray
    a_rescaled: FloatArray
    b_rescaled: FloatArray
    pearson: float
    spearman: float
    lag: int
    lag_steps: float
    scale: float
    fit_r2: float
    is_copy: bool
    onset_a: OnsetResult
    onset_b: OnsetResult
    onset_delay: float | None


def rescale_trace(y: FloatArray, method: Rescale = "minmax") -> FloatArray:
    """Min-max to [0, 1] or z-score a trace (NaN kept; a constant trace maps to zeros)."""
    if method == "minmax":
        lo, hi = np.nanmin(y), np.nanmax(y)
        return (y - lo) / (hi - lo) if hi > lo else np.where(np.isnan(y), np.nan, 0.0)
    sd = np.nanstd(y)
    return (y - np.nanmean(y)) / sd if sd > 0 else np.where(np.isnan(y), np.nan, 0.0)


def _corr(a: FloatArray, b: FloatArray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def _shifted(a: FloatArray, b: FloatArray, lag: int) -> tuple[FloatArray, FloatArray]:
    """Pairs (A(t - lag), B(t)) over the overlap."""
    if lag >= 0:
        return a[: a.shape[0] - lag], b[lag:]
    return a[-lag:], b[: b.shape[0] + lag]


def _onset(rate: FloatArray, n: FloatArray | None, x: FloatArray) -> OnsetResult:
    if n is None:
        return detect_onset_rates(rate, x)
    k = np.where(np.isfinite(rate), np.rint(rate * n), 0.0)
    return detect_onset(k, n, x)


def compare_traces(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    x: npt.ArrayLike | None = None,
    n_a: npt.ArrayLike | None = None,
    n_b: npt.ArrayLike | None = None,
    max_lag: int | None = None,
    min_overlap: int = 5,
    rescale: Rescale = "minmax",
    copy_r2: float = 0.8,
) -> TraceComparison:
    """Compare rate traces `a` and `b` on the same bins (`x` = bin start steps, default 0..T-1).

    `n_a`/`n_b` (samples per bin) enable the binomial onset model; without them onsets use the
    gaussian model. Lags are searched in [-max_lag, max_lag] bins (default T // 4) keeping at
    least `min_overlap` bins of overlap; the best lag maximises Pearson correlation.
    """
    ya = as_float(a, "a")
    yb = as_float(b, "b", ya.shape[0])
    T = ya.shape[0]
    xs = np.arange(T, dtype=np.float64) if x is None else as_float(x, "x", T)
    na = None if n_a is None else as_float(n_a, "n_a", T)
    nb = None if n_b is None else as_float(n_b, "n_b", T)
    max_lag = T // 4 if max_lag is None else max_lag
    lags = [lag for lag in range(-max_lag, max_lag + 1) if T - abs(lag) >= min_overlap]
    lag_corr = {lag: _corr(*_shifted(ya, yb, lag)) for lag in lags}
    finite = {k: v for k, v in lag_corr.items() if np.isfinite(v)}
    best = max(finite, key=lambda k: (finite[k], -abs(k))) if finite else 0
    sa, sb = _shifted(ya, yb, best)
    ok = np.isfinite(sa) & np.isfinite(sb)
    scale = offset = r2 = float("nan")
    if ok.sum() >= 3 and np.std(sa[ok]) > 0:
        scale, offset = (float(v) for v in np.polyfit(sa[ok], sb[ok], 1))
        resid = sb[ok] - (scale * sa[ok] + offset)
        ss = float(np.sum((sb[ok] - sb[ok].mean()) ** 2))
        r2 = 1.0 - float(np.sum(resid**2)) / ss if ss > 0 else float("nan")
    both = np.isfinite(ya) & np.isfinite(yb)
    varies = both.sum() >= 3 and np.ptp(ya[both]) > 0 and np.ptp(yb[both]) > 0
    from scipy import stats  # here, not at import: see rootcause.analysis._common

    # A constant trace has no rank correlation (scipy would warn and return nan).
    spearman = float(stats.spearmanr(ya[both], yb[both]).statistic) if varies else float("nan")
    onset_a, onset_b = _onset(ya, na, xs), _onset(yb, nb, xs)
    delay = (
        onset_b.onset.x - onset_a.onset.x
        if onset_a.onset is not None and onset_b.onset is not None
        else None
    )
    step = float(np.median(np.diff(xs))) if T > 1 else 1.0
    return TraceComparison(
        x=xs,
        a_rescaled=rescale_trace(ya, rescale),
        b_rescaled=rescale_trace(yb, rescale),
        pearson=_corr(ya, yb),
        spearman=spearman,
        lag=best,
        lag_steps=best * step,
        scale=scale,
        fit_r2=r2,
        is_copy=bool(np.isfinite(r2) and r2 >= copy_r2 and scale > 0),
        onset_a=onset_a,
        onset_b=onset_b,
        onset_delay=delay,
    )
