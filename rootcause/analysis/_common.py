"""Shared types and small helpers of the statistics layer: arrays, labels, intervals, tests.

Everything here is pure numpy/scipy. Result types are frozen dataclasses holding plain Python
scalars (and numpy arrays for traces) so the tools layer can render or wrap them without
re-computing anything.

scipy is imported inside the functions that use them, never at the top of a module of this
layer: every tool module imports the statistics layer, and importing scipy.stats takes most of
a second, which `rootcause --help` and `rootcause tool overview` must not pay
(`tests/test_headless.py` checks it). What the scan's checks need comes from scipy.special
(`distributions.py`), so a scan does not load scipy.stats either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Label used for a missing (None / NaN) slice value.
MISSING_LABEL = "<missing>"


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with a two-sided interval (NaN when undefined)."""

    value: float
    lo: float
    hi: float

    @property
    def excludes_zero(self) -> bool:
        """True when the whole interval lies strictly on one side of zero."""
        return bool(self.lo > 0 or self.hi < 0)


@dataclass(frozen=True, slots=True)
class Labels:
    """Categorical labels encoded as dense integer codes into `names` (sorted)."""

    names: tuple[str, ...]
    codes: IntArray

    @property
    def n_levels(self) -> int:
        return len(self.names)


#: Labels as the statistics take them: any 1-D labels, or labels already encoded.
LabelsLike = Labels | Sequence[Any] | npt.ArrayLike


def as_float(values: npt.ArrayLike, name: str, n: int | None = None) -> FloatArray:
    """1-D float64 copy-free view of `values`; checks the length against `n` when given."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries, expected {n}")
    return arr


def as_int(values: npt.ArrayLike, name: str, n: int | None = None) -> IntArray:
    """1-D int64 array of `values`; rejects non-integral floats."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and not (np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
        raise ValueError(f"{name} must hold integers")
    out = arr.astype(np.int64, copy=False)
    if out.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {out.shape}")
    if n is not None and out.shape[0] != n:
        raise ValueError(f"{name} has {out.shape[0]} entries, expected {n}")
    return out


def as_behaviour(values: npt.ArrayLike, n: int | None = None) -> FloatArray:
    """Behaviour indicator as float 0/1; rejects anything that is not 0/1 (or bool)."""
    arr = as_float(values, "behaviour", n)
    if not np.all((arr == 0.0) | (arr == 1.0)):
        raise ValueError("behaviour must be 0/1 (or boolean)")
    return arr


def encode_labels(labels: Labels | Sequence[Any] | npt.ArrayLike, n: int | None = None) -> Labels:
    """Encode any 1-D labels (strings, ints, None) as sorted names and dense codes.

    None and float NaN become `MISSING_LABEL`; everything else is rendered with `str`. Labels
    already encoded (`Labels`, as `labels_from_codes` makes them) are taken as they are.
    """
    if isinstance(labels, Labels):
        if n is not None and labels.codes.shape[0] != n:
            raise ValueError(f"labels have {labels.codes.shape[0]} entries, expected {n}")
        return labels
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"labels have {arr.shape[0]} entries, expected {n}")
    if arr.dtype.kind in "iub":
        uniq, codes = np.unique(arr, return_inverse=True)
        return Labels(tuple(str(u) for u in uniq.tolist()), codes.astype(np.int64))
    if arr.dtype.kind in "US":
        text = arr.astype(str)
    else:
        text = np.array([MISSING_LABEL if _is_missing(v) else str(v) for v in arr.tolist()])
    uniq, codes = np.unique(text, return_inverse=True)
    return Labels(tuple(str(u) for u in uniq.tolist()), codes.astype(np.int64))


def labels_from_codes(codes: npt.ArrayLike, names: Sequence[str]) -> Labels:
    """`Labels` from dictionary codes into `names` (-1: missing), exactly as `encode_labels`
    encodes the same labels written out as strings, without building or sorting the strings:
    the levels present, sorted (`MISSING_LABEL` among them when a code is -1), and the codes
    remapped into them. The names are few; the rows may be millions."""
    arr = np.asarray(codes, dtype=np.int64)
    levels = [*names, MISSING_LABEL]
    shifted = np.where(arr < 0, len(names), arr)
    present = np.flatnonzero(np.bincount(shifted, minlength=len(levels)))
    order = sorted(present.tolist(), key=lambda i: levels[i])
    rank = np.full(len(levels), -1, dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return Labels(tuple(levels[i] for i in order), rank[shifted])


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def z_quantile(level: float) -> float:
    """Two-sided normal quantile for confidence `level` (1.96 for 0.95)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    from rootcause.analysis.distributions import norm_ppf

    return norm_ppf(0.5 + level / 2.0)


def wilson_interval(
    k: npt.ArrayLike, n: npt.ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for binomial proportions k/n (vectorised; NaN where n == 0).

    Preferred over the Wald interval because it stays inside [0, 1] and keeps close to nominal
    coverage for small n and rates near 0 or 1, which is where rare behaviours live.
    """
    k_arr = np.asarray(k, dtype=np.float64)
    n_arr = np.asarray(n, dtype=np.float64)
    z = z_quantile(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k_arr / n_arr
        denom = 1.0 + z * z / n_arr
        centre = (p + z * z / (2.0 * n_arr)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n_arr + z * z / (4.0 * n_arr * n_arr)) / denom
    lo = np.where(n_arr > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    hi = np.where(n_arr > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)


def two_proportion_z(
    k1: float, n1: float, k2: float, n2: float, dispersion: float = 1.0
) -> tuple[float, float]:
    """Pooled two-proportion z-test of p2 > p1 vs p2 != p1: returns (z, two-sided p-value).

    `dispersion` (>= 1) inflates the binomial variance for extra-binomial noise (quasi-binomial).
    Returns (0.0, 1.0) when the pooled rate is 0 or 1 (no evidence either way).
    """
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (k1 + k2) / (n1 + n2)
    var = dispersion * pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if var <= 0:
        return 0.0, 1.0
    z = float((k2 / n2 - k1 / n1) / np.sqrt(var))
    return z, two_sided_p(z)


def two_sided_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic `z`."""
    from rootcause.analysis.distributions import norm_sf

    return 2.0 * norm_sf(abs(z))


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini–Hochberg FDR q-values (step-up, monotone, capped at 1; NaN stays NaN)."""
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return q
    order = ok[np.argsort(p[ok], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return q


def percentile_interval(
    draws: FloatArray, level: float, axis: int = 0
) -> tuple[FloatArray, FloatArray]:
    """Percentile bootstrap interval along `axis`, ignoring NaN draws (all-NaN gives NaN)."""
    alpha = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(draws).any(axis=axis)
        safe = np.where(np.isfinite(draws), draws, np.nan)
        if not finite.all():
            safe = np.where(np.expand_dims(finite, axis), safe, 0.0)
        lo, hi = np.nanquantile(safe, [alpha, 1.0 - alpha], axis=axis)
    return np.where(finite, lo, np.nan), np.where(finite, hi, np.nan)
