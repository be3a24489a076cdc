"""Reward contrast: does a component score samples *with* the behaviour higher?

Within each group (same prompt) compare the mean component score of samples showing the
behaviour against those that do not; only groups holding both kinds, and samples where the
component applied (non-NaN), count. Comparing within groups removes prompt difficulty and
source effects. The goblin audit's "creature words scored higher in 76.2% of datasets" is
`share_positive` over data-source slices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rootcause.analysis._common import Estimate, FloatArray, LabelsLike, as_behaviour, encode_labels
from rootcause.analysis._groups import group_index


@dataclass(frozen=True, slots=True)
class SliceContrast:
    """Mean within-group difference (with - without) in one slice, over `n_groups` groups."""

    label: str
    n_groups: int
    mean_diff: float


@dataclass(frozen=True, slots=True)
class RewardContrast:
    """Within-group contrast of one component.

    `diff` is the mean over groups of (mean score with behaviour - mean score without), with a
    t interval over groups (groups are independent). `share_positive` is the share of slices
    with at least `min_groups` groups whose mean difference is > 0 (None without slices).
    """

    component: str
    n_groups: int
    diff: Estimate
    mean_with: float
    mean_without: float
    slices: tuple[SliceContrast, ...]
    share_positive: float | None


def reward_contrast(
    groups: npt.ArrayLike,
    behaviour: npt.ArrayLike,
    rewards: npt.ArrayLike,
    components: Sequence[str],
    *,
    slices: LabelsLike | None = None,
    level: float = 0.95,
    min_groups: int = 5,
) -> tuple[RewardContrast, ...]:
    """Within-group reward contrast for every component column of `rewards` (n, C).

    A group's slice is the slice of its first sample (slices such as data source are constant
    within a prompt group).
    """
    b = as_behaviour(behaviour)
    gi = group_index(groups)
    R = np.asarray(rewards, dtype=np.float64).reshape(b.shape[0], -1)
    if R.shape[1] != len(components):
        raise ValueError("components must name every reward column")
    group_slice: npt.NDArray[np.int64] | None = None
    names: tuple[str, ...] = ()
    if slices is not None:
        labels = encode_labels(slices, b.shape[0])
        names = labels.names
        group_slice = np.zeros(gi.n_groups, dtype=np.int64)
        group_slice[gi.codes[::-1]] = labels.codes[::-1]
    out = []
    for j, comp in enumerate(components):
        applied = np.isfinite(R[:, j])
        score = np.where(applied, R[:, j], 0.0)
        with_b, without_b = applied & (b == 1), applied & (b == 0)
        n1 = np.bincount(gi.codes, weights=with_b, minlength=gi.n_groups)
        n0 = np.bincount(gi.codes, weights=without_b, minlength=gi.n_groups)
        s1 = np.bincount(gi.codes, weights=score * with_b, minlength=gi.n_groups)
        s0 = np.bincount(gi.codes, weights=score * without_b, minlength=gi.n_groups)
        both = (n1 > 0) & (n0 > 0)
        m1, m0 = s1[both] / n1[both], s0[both] / n0[both]
        out.append(
            _summarise(
                comp,
                m1,
                m0,
                None if group_slice is None else group_slice[both],
                names,
                level,
                min_groups,
            )
        )
    return tuple(out)


def _summarise(
    comp: str,
    m1: FloatArray,
    m0: FloatArray,
    group_slice: npt.NDArray[np.int64] | None,
    names: tuple[str, ...],
    level: float,
    min_groups: int,
) -> RewardContrast:
    d = m1 - m0
    G = d.shape[0]
    nan = float("nan")
    mean = float(d.mean()) if G else nan
    if G >= 2:
        from scipy import stats  # here, not at import: see rootcause.analysis._common

        half = float(stats.t.ppf(0.5 + level / 2, G - 1) * d.std(ddof=1) / np.sqrt(G))
        diff = Estimate(mean, mean - half, mean + half)
    else:
        diff = Estimate(mean, nan, nan)
    rows: list[SliceContrast] = []
    share: float | None = None
    if group_slice is not None:
        counts = np.bincount(group_slice, minlength=len(names))
        sums = np.bincount(group_slice, weights=d, minlength=len(names))
        rows = [
            SliceContrast(name, int(counts[i]), float(sums[i] / counts[i]))
            for i, name in enumerate(names)
            if counts[i] > 0
        ]
        eligible = [r for r in rows if r.n_groups >= min_groups]
        share = sum(r.mean_diff > 0 for r in eligible) / len(eligible) if eligible else None
    return RewardContrast(
        component=comp,
        n_groups=G,
        diff=diff,
        mean_with=float(m1.mean()) if G else nan,
        mean_without=float(m0.mean()) if G else nan,
        slices=tuple(rows),
        share_positive=share,
    )
