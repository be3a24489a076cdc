"""A similarity threshold calibrated on the run itself.

Most texts of a run have nothing to do with a given prototype; their cosine similarities form
one bulk. Texts that show the behaviour sit far above it. Two rules, chosen by the shape of the
score distribution:

* **Otsu** (bimodal scores): the threshold that maximises the between-class variance of the
  scores. Otsu's separability eta = between-class / total variance is 2/pi ~ 0.64 for a single
  Gaussian and approaches 1 for two well-separated modes; when eta >= 0.8 the behaviour is
  common enough to form its own mode, and Otsu's cut between the modes is used.
* **Robust z** (one bulk, a few outliers): median + 3.5 · 1.4826 · MAD (Iglewicz & Hoaglin's
  outlier cut; 1.4826·MAD estimates the bulk's standard deviation and a rare behaviour barely
  moves either statistic). About 2 in 10,000 texts of a Gaussian bulk pass it by chance.

The chosen threshold is never below the embedder's `min_similarity` floor, so a run where
nothing is on topic does not get its least unrelated texts flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

ROBUST_Z = 3.5
MIN_SEPARABILITY = 0.8
_MAD_SCALE = 1.4826


@dataclass(frozen=True)
class Calibration:
    """The threshold, how it was chosen, and the statistics behind it."""

    threshold: float
    method: str  # "otsu", "robust_z", "floor" or "empty"
    n: int
    median: float
    mad: float
    otsu: float
    separability: float
    floor: float

    def describe(self) -> str:
        return (
            f"threshold {self.threshold:.3f} by {self.method} on {self.n:,} sampled scores "
            f"(median {self.median:.3f}, MAD {self.mad:.3f}, Otsu cut {self.otsu:.3f}, "
            f"separability {self.separability:.2f}, floor {self.floor:.2f})"
        )


def otsu(scores: npt.NDArray[np.floating[Any]], bins: int = 256) -> tuple[float, float]:
    """Otsu's threshold and separability (between-class / total variance) of `scores`."""
    lo, hi = float(scores.min()), float(scores.max())
    if hi <= lo:
        return hi, 0.0
    counts, edges = np.histogram(scores, bins=bins, range=(lo, hi))
    centers = (edges[:-1] + edges[1:]) / 2
    p = counts / counts.sum()
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centers)
    mean = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean * w0 - m0) ** 2 / (w0 * (1 - w0))
    between = np.where(np.isfinite(between), between, 0.0)
    best = float(between.max())
    # Two clean modes leave a plateau of equally good cuts across the gap: take its middle.
    plateau = np.flatnonzero(between >= best * (1 - 1e-9))
    k_lo, k_hi = int(plateau[0]), int(plateau[-1])
    total = float(np.sum(p * (centers - mean) ** 2))
    cut = float((edges[k_lo + 1] + edges[k_hi + 1]) / 2)
    return cut, best / total if total > 0 else 0.0


def calibrate(scores: npt.NDArray[np.floating[Any]], floor: float = 0.0) -> Calibration:
    """Threshold above which a similarity counts as showing the behaviour (module docstring)."""
    values = np.asarray(scores, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Calibration(float("inf"), "empty", 0, *(float("nan"),) * 4, floor)
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    spread = _MAD_SCALE * mad if mad > 0 else float(values.std())
    cut, eta = otsu(values)
    if eta >= MIN_SEPARABILITY and cut > median:
        threshold, method = cut, "otsu"
    elif spread > 1e-9:
        threshold, method = median + ROBUST_Z * spread, "robust_z"
    else:  # all scores equal: nothing stands out
        threshold, method = float("inf"), "robust_z"
    if threshold < floor:
        threshold, method = floor, "floor"
    return Calibration(threshold, method, int(values.size), median, mad, cut, eta, floor)
