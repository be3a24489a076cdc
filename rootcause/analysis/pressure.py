"""Selection pressure: which reward component pushes a behaviour up, where, and since when.

Price-equation view of policy-gradient RL: to first order the expected change of a behaviour's
rate under a group-relative policy gradient is proportional to the covariance, within groups,
between the behaviour b and the advantage A = (r - mean_g r) / sd_g(r). Since the total reward
is r = sum_c w_c r_c, that covariance splits exactly into one term per component:

    S(c) = mean over groups g of  (1/n_g) sum_{i in g} (u_ci - mean_g u_c)(b_i - mean_g b) / sd_g(r)

with u_ci = w_ci r_ci. The 1/n_g makes each group's term a per-sample covariance, so groups of
different sizes are comparable and S is "covariance of b with the standardized advantage".
Conventions (all documented because they change numbers):

* NaN component scores (the component did not apply to the sample) and NaN weights contribute 0
  to u; this is what a weighted sum that skips inapplicable graders does.
* sd_g is the population standard deviation (ddof=0) of the reward used for advantages. Groups
  with sd_g <= eps get zero advantage in GRPO, so they contribute exactly 0 but still count as
  groups (they are part of the batch the gradient averages over).
* When `reward_total` is given it is the reward used for advantages and a `residual` column
  (reward_total - sum_c u_c) is added; otherwise r = sum_c u_c. Either way the columns sum to
  `total` exactly (up to float rounding), by linearity.
* Slices and step windows are sample labels; a group split across cells is shared between
  them by its fraction of samples (see `_groups.bootstrap_cells`), so cell estimates are
  "pressure per group-equivalent" and are consistent with their marginals.

Because advantages are standardized per group, a component that is independent of b can still
carry a small *negative* share when another component is strongly tied to b (it inflates sd_g
where the behaviour's reward gap is large). Judge components against the leading one, not
against exact zero. When b is independent of all rewards every column is zero in expectation.

Intervals are percentile bootstrap over groups (see `_groups.bootstrap_cells`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rootcause.analysis._common import (
    Estimate,
    FloatArray,
    IntArray,
    LabelsLike,
    as_behaviour,
    as_int,
    encode_labels,
    percentile_interval,
)
from rootcause.analysis._groups import (
    GroupIndex,
    LazyColumns,
    ValuesLike,
    bootstrap_cells,
    group_index,
)


@dataclass(frozen=True, slots=True)
class PressureData:
    """Validated inputs of the pressure functions; build once with `pressure_data`, reuse."""

    gi: GroupIndex
    behaviour: FloatArray
    contributions: FloatArray  # (n, C): w_ci * r_ci with NaN -> 0
    reward: FloatArray  # (n,): the reward advantages are computed from
    components: tuple[str, ...]
    has_residual: bool
    slice_names: tuple[str, ...] | None
    slice_codes: IntArray
    window_edges: IntArray | None
    window_codes: IntArray  # window index, n_windows for samples outside every window


def pressure_data(
    groups: npt.ArrayLike,
    behaviour: npt.ArrayLike,
    rewards: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    components: Sequence[str] | None = None,
    reward_total: npt.ArrayLike | None = None,
    slices: LabelsLike | None = None,
    steps: npt.ArrayLike | None = None,
    window_edges: Sequence[int] | npt.ArrayLike | None = None,
) -> PressureData:
    """Validate and precompute pressure inputs.

    `rewards` is the (n, C) matrix of component scores r_c (NaN where not applied); `weights`
    is either one weight per component (C,) or a per-sample matrix (n, C) when weights changed
    between deployments. `window_edges` (with `steps`) cut steps into windows [e_j, e_j+1).
    """
    b = as_behaviour(behaviour)
    n = b.shape[0]
    R = np.asarray(rewards, dtype=np.float64)
    if R.ndim == 1:
        R = R[:, None]
    if R.shape[0] != n:
        raise ValueError(f"rewards has {R.shape[0]} rows, expected {n}")
    W = np.asarray(weights, dtype=np.float64)
    if W.shape not in {(R.shape[1],), R.shape}:
        raise ValueError(f"weights must have shape ({R.shape[1]},) or {R.shape}, got {W.shape}")
    U = np.nan_to_num(R * W, nan=0.0, posinf=np.nan, neginf=np.nan, copy=False)
    if not np.all(np.isfinite(U)):
        raise ValueError("rewards or weights contain infinities")
    names = (
        tuple(components) if components is not None else tuple(f"c{j}" for j in range(R.shape[1]))
    )
    if len(names) != R.shape[1] or len(set(names)) != len(names):
        raise ValueError("components must name every reward column once")
    if reward_total is not None:
        r = np.asarray(reward_total, dtype=np.float64)
        if r.shape != (n,) or not np.all(np.isfinite(r)):
            raise ValueError("reward_total must be finite with one value per sample")
    else:
        r = U.sum(axis=1)
    gi = group_index(groups)
    if gi.codes.shape[0] != n:
        raise ValueError(f"groups has {gi.codes.shape[0]} entries, expected {n}")
    slice_names: tuple[str, ...] | None = None
    slice_codes = np.zeros(n, dtype=np.int64)
    if slices is not None:
        labels = encode_labels(slices, n)
        slice_names, slice_codes = labels.names, labels.codes
    edges: IntArray | None = None
    window_codes = np.zeros(n, dtype=np.int64)
    if window_edges is not None:
        if steps is None:
            raise ValueError("window_edges need steps")
        edges = as_int(window_edges, "window_edges")
        if edges.shape[0] < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("window_edges must be strictly increasing with at least two entries")
        step = as_int(steps, "steps", n)
        window_codes = np.searchsorted(edges, step, side="right") - 1
        window_codes[(step < edges[0]) | (step >= edges[-1])] = edges.shape[0] - 1
    return PressureData(
        gi, b, U, r, names, reward_total is not None, slice_names, slice_codes, edges, window_codes
    )


@dataclass(frozen=True, slots=True)
class PressureCell:
    """Estimates of every column in one cell (slice=None / window=None mean "all")."""

    slice: str | None
    window: tuple[int, int] | None
    n_samples: int
    n_groups: float
    values: Mapping[str, Estimate]


@dataclass(frozen=True, slots=True)
class PressureTrace:
    """One column over the step windows: arrays aligned with the windows."""

    column: str
    slice: str | None
    window_start: IntArray
    value: FloatArray
    lo: FloatArray
    hi: FloatArray


@dataclass(frozen=True, slots=True)
class PressureTable:
    """Pressure estimates, overall and per slice, window and slice x window.

    Each cell's `values` are keyed by the estimated quantities (for `selection_pressure`:
    "total", the components, and "residual" when a reward_total was given).
    `n_zero_variance_groups` counts groups whose reward had sd <= eps (zero advantage, zero
    contribution); `bootstrap` names how the group resampling was done.
    """

    overall: PressureCell
    by_slice: tuple[PressureCell, ...]
    by_window: tuple[PressureCell, ...]
    by_slice_window: tuple[PressureCell, ...]
    n_groups: int
    n_zero_variance_groups: int
    bootstrap: str

    def cell(self, slice: str | None = None, window: tuple[int, int] | None = None) -> PressureCell:
        """The cell for a slice label and/or window (None = all); KeyError when absent."""
        pool = (
            (self.overall,)
            if slice is None and window is None
            else self.by_slice
            if window is None
            else self.by_window
            if slice is None
            else self.by_slice_window
        )
        for c in pool:
            if c.slice == slice and c.window == window:
                return c
        raise KeyError((slice, window))

    def trace(self, column: str = "total", slice: str | None = None) -> PressureTrace:
        """Per-window trace of one column (for one slice or all): "since when" is it pushed."""
        cells = [c for c in (self.by_slice_window if slice else self.by_window) if c.slice == slice]
        est = [c.values[column] for c in cells]
        return PressureTrace(
            column,
            slice,
            np.array([c.window[0] for c in cells if c.window], dtype=np.int64),
            np.array([e.value for e in est]),
            np.array([e.lo for e in est]),
            np.array([e.hi for e in est]),
        )


def _advantage_factor(data: PressureData, reward: FloatArray, eps: float) -> tuple[FloatArray, int]:
    """Per-sample (b - mean_g b) / (n_g sd_g(reward)), 0 where sd_g <= eps, and how many
    groups have sd_g <= eps."""
    gi = data.gi
    sd = gi.std(reward)
    flat = sd <= eps
    scale = np.where(flat, 0.0, 1.0 / (gi.sizes * np.where(flat, 1.0, sd)))
    return gi.centred(data.behaviour) * scale[gi.codes], int(flat.sum())


def _term(data: PressureData, column: FloatArray, factor: FloatArray) -> FloatArray:
    """Per-sample terms (u - mean_g u) * factor of one column u: with `_advantage_factor`,
    (u - mean_g u)(b - mean_g b) / (n_g sd_g(reward)). Made one column at a time (see
    `LazyColumns`); the same arithmetic, element by element, as centring an (n, m) matrix."""
    return data.gi.centred(column) * factor


def _table(
    data: PressureData,
    names: tuple[str, ...],
    values: ValuesLike,
    n_zero: int,
    n_boot: int,
    level: float,
    seed: int,
) -> PressureTable:
    """Bootstrap per-sample `values` over groups into the overall/slice/window cells."""
    n_s = 1 if data.slice_names is None else len(data.slice_names)
    n_w = 1 if data.window_edges is None else data.window_edges.shape[0]  # windows + outside
    cell = data.slice_codes * n_w + data.window_codes
    sums = bootstrap_cells(data.gi, cell, n_s * n_w, values, n_boot, np.random.default_rng(seed))
    n_cell = np.bincount(cell, minlength=n_s * n_w).reshape(n_s, n_w)
    num = sums.num.reshape(n_s, n_w, -1)
    den = sums.den.reshape(n_s, n_w)
    bnum = sums.boot_num.reshape(n_boot, n_s, n_w, -1)
    bden = sums.boot_den.reshape(n_boot, n_s, n_w)

    def cells(
        axes: tuple[int, ...], slice_of: Any, window_of: Any, drop_outside: bool
    ) -> list[PressureCell]:
        p_num, p_den = num.sum(axis=axes, keepdims=True), den.sum(axis=axes, keepdims=True)
        b_num = bnum.sum(axis=tuple(a + 1 for a in axes), keepdims=True)
        b_den = bden.sum(axis=tuple(a + 1 for a in axes), keepdims=True)
        count = n_cell.sum(axis=axes, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = p_num / p_den[..., None]
            lo, hi = percentile_interval(b_num / b_den[..., None], level)
        out = []
        for i in range(est.shape[0]):
            for j in range(est.shape[1]):
                if (drop_outside and j == n_w - 1) or count[i, j] == 0:
                    continue
                vals = {
                    name: Estimate(float(est[i, j, m]), float(lo[i, j, m]), float(hi[i, j, m]))
                    for m, name in enumerate(names)
                }
                out.append(
                    PressureCell(
                        slice_of(i), window_of(j), int(count[i, j]), float(p_den[i, j]), vals
                    )
                )
        return out

    edges = data.window_edges
    snames = data.slice_names

    def no(_: int) -> None:
        return None

    def sl(i: int) -> str | None:
        return None if snames is None else snames[i]

    def win(j: int) -> tuple[int, int] | None:
        return None if edges is None else (int(edges[j]), int(edges[j + 1]))

    has_w = edges is not None
    return PressureTable(
        overall=cells((0, 1), no, no, False)[0],
        by_slice=tuple(cells((1,), sl, no, False)) if snames else (),
        by_window=tuple(cells((0,), no, win, True)) if has_w else (),
        by_slice_window=tuple(cells((), sl, win, True)) if (snames and has_w) else (),
        n_groups=data.gi.n_groups,
        n_zero_variance_groups=n_zero,
        bootstrap=sums.method,
    )


def _component_columns(
    data: PressureData, keep: npt.NDArray[np.bool_], reward: FloatArray
) -> tuple[tuple[str, ...], list[FloatArray]]:
    """Kept component contributions (views, not copies), plus the residual column when a
    reward_total was given."""
    names = tuple(n for n, k in zip(data.components, keep, strict=True) if k)
    cols = [data.contributions[:, j] for j in np.flatnonzero(keep)]
    if data.has_residual:
        kept = data.contributions if keep.all() else data.contributions[:, keep]
        return (*names, "residual"), [*cols, reward - kept.sum(axis=1)]
    return names, cols


def selection_pressure(
    data: PressureData,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    eps: float = 1e-8,
) -> PressureTable:
    """Price-equation selection pressure on the behaviour, total and per reward component.

    Columns: "total" (covariance of b with the standardized advantage, computed from the reward
    itself) and one per component (plus "residual" with a reward_total); components sum to the
    total. Positive means the reward pushes the behaviour up. Read `trace(column)` for when.
    """
    names, cols = _component_columns(data, np.ones(len(data.components), dtype=bool), data.reward)
    factor, n_zero = _advantage_factor(data, data.reward, eps)
    columns = [data.reward, *cols]
    values = LazyColumns(len(columns), lambda j: _term(data, columns[j], factor))
    return _table(data, ("total", *names), values, n_zero, n_boot, level, seed)


@dataclass(frozen=True, slots=True)
class CounterfactualPressure:
    """Pressure with some components removed from the reward, against the actual pressure.

    Columns of `table`: "baseline" (actual total), "remaining" (total after removal, advantages
    re-standardized within groups), "change" = baseline - remaining (paired bootstrap: the same
    group resamples), then the remaining components (and "residual").
    """

    removed: tuple[str, ...]
    table: PressureTable


def counterfactual_pressure(
    data: PressureData,
    remove: str | Sequence[str],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    eps: float = 1e-8,
) -> CounterfactualPressure:
    """Recompute advantages without the `remove` components (r' = r - sum w_c r_c) and report the
    pressure that remains. If the remaining pressure's interval covers zero, the removed
    components explain the push; if it stays positive, something else pushes too.
    """
    removed = (remove,) if isinstance(remove, str) else tuple(remove)
    unknown = set(removed) - set(data.components)
    if unknown:
        raise ValueError(f"unknown components: {sorted(unknown)}")
    keep = np.array([c not in removed for c in data.components])
    reward_cf = data.reward - data.contributions[:, ~keep].sum(axis=1)
    names, cols = _component_columns(data, keep, reward_cf)
    base_factor, _ = _advantage_factor(data, data.reward, eps)
    factor, n_zero = _advantage_factor(data, reward_cf, eps)

    def column(j: int) -> FloatArray:
        """baseline, remaining, change = baseline - remaining, then the remaining columns."""
        if j == 0:
            return _term(data, data.reward, base_factor)
        if j == 1:
            return _term(data, reward_cf, factor)
        if j == 2:
            return _term(data, data.reward, base_factor) - _term(data, reward_cf, factor)
        return _term(data, cols[j - 3], factor)

    values = LazyColumns(3 + len(cols), column)
    table = _table(
        data, ("baseline", "remaining", "change", *names), values, n_zero, n_boot, level, seed
    )
    return CounterfactualPressure(removed, table)
