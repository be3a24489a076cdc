"""Recover reward component weights from logged totals, per deployment window.

If reward_total = sum_c w_c r_c (+ intercept), least squares on the logged samples returns the
weights that were live, so a silent weight or sign change between config deployments shows up
as a jump between windows even when nobody logged the weights. NaN component scores count as 0
(the component did not apply), matching how the total is formed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rootcause.analysis._common import Labels, as_float, encode_labels


@dataclass(frozen=True, slots=True)
class WeightFit:
    """Least-squares weights in one window.

    `weights[c]` is NaN for components that cannot be identified there (never applied, or
    collinear with others; listed in `unidentified`). `poor_fit` is True when R^2 < min_r2,
    i.e. the total is not (only) a weighted sum of the logged components.
    """

    window: str
    n: int
    weights: dict[str, float]
    intercept: float
    r2: float
    poor_fit: bool
    unidentified: tuple[str, ...]


def fit_weights(
    reward_total: npt.ArrayLike,
    rewards: npt.ArrayLike,
    components: Sequence[str],
    *,
    windows: Sequence[Any] | npt.ArrayLike | None = None,
    intercept: bool = True,
    min_r2: float = 0.95,
) -> tuple[WeightFit, ...]:
    """Fit reward_total ~ sum_c w_c r_c (+ intercept) separately in each window label
    (e.g. the deployment commit live at each sample's step); one fit over all when None.
    """
    y = as_float(reward_total, "reward_total")
    R = np.asarray(rewards, dtype=np.float64).reshape(y.shape[0], -1)
    if R.shape[1] != len(components):
        raise ValueError("components must name every reward column")
    # One window: the label "all" for every row, without building and sorting n strings.
    labels = (
        Labels(("all",), np.zeros(y.shape[0], dtype=np.int64))
        if windows is None
        else encode_labels(windows, y.shape[0])
    )
    # NaN scores count as 0 (non-finite ones are made finite as nan_to_num does); a matrix
    # with none is used as it is, not copied.
    X_all = R if np.isfinite(R).all() else np.nan_to_num(R, nan=0.0)
    fits = []
    for j, name in enumerate(labels.names):
        rows = (labels.codes == j) & np.isfinite(y)
        y_in, X_in = (y, X_all) if rows.all() else (y[rows], X_all[rows])  # no copy of all
        fits.append(_fit(name, y_in, X_in, tuple(components), intercept, min_r2))
    return tuple(fits)


def _fit(
    name: str,
    y: npt.NDArray[np.float64],
    X: npt.NDArray[np.float64],
    components: tuple[str, ...],
    intercept: bool,
    min_r2: float,
) -> WeightFit:
    n = y.shape[0]
    active = np.any(X != 0, axis=0)
    design = np.column_stack([X[:, active], np.ones(n)]) if intercept else X[:, active]
    nan = float("nan")
    if n == 0 or design.shape[1] == 0:
        return WeightFit(name, n, dict.fromkeys(components, nan), nan, nan, True, components)
    coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    sse = float(resid @ resid)
    sst = float(np.sum((y - y.mean()) ** 2)) if intercept else float(y @ y)
    r2 = 1.0 - sse / sst if sst > 0 else (1.0 if sse <= 1e-12 else 0.0)
    weights = dict.fromkeys(components, nan)
    unidentified = [c for c, a in zip(components, active, strict=True) if not a]
    full_rank = rank == design.shape[1]
    for pos, c in enumerate(c for c, a in zip(components, active, strict=True) if a):
        if full_rank:
            weights[c] = float(coef[pos])
        else:
            unidentified.append(c)
    return WeightFit(
        window=name,
        n=n,
        weights=weights,
        intercept=float(coef[-1]) if intercept and full_rank else (0.0 if not intercept else nan),
        r2=float(r2),
        poor_fit=bool(r2 < min_r2 or not full_rank),
        unidentified=tuple(unidentified),
    )
