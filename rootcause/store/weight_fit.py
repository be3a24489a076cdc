"""Recover reward weights from logged advantages, the way group-relative trainers made them.

GRPO-style trainers (TRL's `sum_then_normalize`, NeMo-RL, prime-rl) compute a sample's
advantage from the weighted sum of its components, centred within its group and usually divided
by the group's (or the batch's) standard deviation:

    a_i = (sum_c w_c r_ci - mean_g) / s_g

so in every group the advantages are proportional to the centred weighted rewards, with an
unknown factor per group. With R_g the group's centred reward matrix and P_g the projection
orthogonal to its advantage vector, the weights minimise sum_g |P_g R_g w|^2 over |w| = 1: the
eigenvector of the smallest eigenvalue of sum_g R_g' P_g R_g. Dividing by a standard deviation
makes the weights known only up to one factor; when every group's factor is the same
(advantages not scaled), the absolute weights are recovered too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Groups whose advantages are all this close to zero carry no information about weights.
_SILENT = 1e-9
#: A fit this good or better is trusted.
MIN_R2 = 0.9
#: Per-group factors that agree this closely mean the advantages were not rescaled.
_SAME_SCALE = 1e-3


@dataclass(frozen=True)
class FittedWeights:
    """Weights by component, how well they explain the advantages, and whether their scale
    is known (unscaled advantages) or set so that the largest weight is 1."""

    weights: dict[str, float]
    r2: float
    groups: int
    absolute: bool

    @property
    def trusted(self) -> bool:
        return self.r2 >= MIN_R2

    def describe(self) -> str:
        shown = ", ".join(f"{name} {w:.3g}" for name, w in self.weights.items())
        scale = (
            "absolute (the advantages are not rescaled)"
            if self.absolute
            else "relative, the largest set to 1 (the advantages are divided by a standard "
            "deviation, which hides the scale)"
        )
        return f"{shown}; R² {self.r2:.3f} over {self.groups:,} groups; {scale}"


def fit_from_advantages(
    groups: NDArray[np.int64], rewards: FloatArray, advantages: FloatArray, names: list[str]
) -> FittedWeights | None:
    """Fit weights from rows of (group index, component rewards, advantage).

    `rewards` is (n, C) with NaN for a component that did not score a sample (counted as 0 in
    the sum, as the trainers' nansum does); rows where no component scored are left out, since
    the trainers give them advantage 0 whatever the weights. A component that does not vary
    within any informative group (absent from these rows, or constant) cannot be told from
    the advantages and is left out of the result. None when no group informs the fit.
    """
    # The rows used, as indexes (scored, in group order, in informative groups): the reward
    # matrix, the largest array, is copied once (on a 10M-sample run each copy is 240 MB).
    rows = np.flatnonzero(~np.isnan(rewards).all(axis=1) & np.isfinite(advantages))
    ordered = groups[rows]
    if np.any(ordered[1:] < ordered[:-1]):  # rows given in group order need no sort
        rows = rows[np.argsort(ordered, kind="stable")]
        ordered = groups[rows]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(rows) else rows
    sizes = np.diff(np.r_[starts, len(rows)])
    norms = np.add.reduceat(advantages[rows] ** 2, starts) if len(starts) else np.zeros(0)
    del ordered
    informative = (sizes >= 2) & (norms >= _SILENT)
    if not informative.any():
        return None
    keep = np.repeat(informative, sizes)
    label = np.repeat(np.arange(len(starts)), sizes)[keep]
    rows = rows[keep]
    centred, a = np.nan_to_num(rewards[rows], copy=False), advantages[rows]
    del rows, keep
    label = np.cumsum(np.r_[False, label[1:] != label[:-1]])  # dense, in order (sorted)
    count = np.bincount(label)
    for j in range(centred.shape[1]):  # in place, a column at a time (memory: see above)
        centred[:, j] -= (np.bincount(label, centred[:, j]) / count)[label]
    varies = np.array([np.abs(centred[:, j]).max() > _SILENT for j in range(centred.shape[1])])
    if not varies.any():
        return None
    if not varies.all():
        centred, names = centred[:, varies], [n for n, v in zip(names, varies, strict=True) if v]
    cross = np.stack([np.bincount(label, centred[:, j] * a) for j in range(len(names))], axis=1)
    norm = np.bincount(label, a * a)
    moment = centred.T @ centred - (cross / norm[:, None]).T @ cross
    _, vectors = np.linalg.eigh(moment)
    w = vectors[:, 0]
    if float(cross.sum(axis=0) @ w) < 0:
        w = -w
    pred = centred @ w
    factors = (cross @ w) / norm
    safe = np.where(np.abs(factors) > _SILENT, factors, np.inf)
    residual = float(((a - pred / safe[label]) ** 2).sum())
    total = float((a * a).sum())
    r2 = 1.0 - residual / total if total > 0 else 0.0
    absolute = bool(
        np.all(factors > 0) and (factors.max() - factors.min()) <= _SAME_SCALE * factors.mean()
    )
    w = w / float(factors.mean()) if absolute else w / float(np.abs(w).max())
    weights = {name: round(float(v), 6) + 0.0 for name, v in zip(names, w, strict=True)}
    return FittedWeights(weights, round(r2, 6), len(norm), absolute)


def fit_from_totals(
    rewards: FloatArray, totals: FloatArray, names: list[str]
) -> FittedWeights | None:
    """Least-squares weights of logged totals on the components (NaN rewards count as 0)."""
    keep = np.isfinite(totals) & ~np.isnan(rewards).all(axis=1)
    x, y = np.nan_to_num(rewards[keep]), totals[keep]
    if len(y) < 2 * len(names) + 2:
        return None
    w, *_ = np.linalg.lstsq(x, y, rcond=None)
    spread = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - x @ w) ** 2).sum()) / spread if spread > 0 else 0.0
    weights = {name: round(float(v), 6) + 0.0 for name, v in zip(names, w, strict=True)}
    return FittedWeights(weights, round(r2, 6), int(keep.sum()), True)
