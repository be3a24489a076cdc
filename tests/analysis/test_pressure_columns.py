"""The pressure statistics made one column at a time (issue 27: no (n, m) matrices of
per-sample terms at 10M samples) give exactly the figures of the matrix formula they replaced,
kept here as the reference, on fixed seeds: the same point estimates, intervals and group
counts to the last bit, in both bootstrap regimes (multinomial below 10,000 groups, Poisson
with cells from their normal limit above), with and without a logged total, with groups split
across cells, per-sample weights and a counterfactual removal."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from rootcause.analysis import pressure
from rootcause.analysis._groups import group_index
from rootcause.analysis.pressure import (
    PressureData,
    PressureTable,
    counterfactual_pressure,
    pressure_data,
    selection_pressure,
)

GROUP = 8
EPS = 1e-8


def old_contributions(
    data: PressureData, columns: npt.NDArray[np.float64], reward: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], int]:
    """The replaced formula: group-centred copies of the whole (n, m) matrix."""
    gi = data.gi
    sd = gi.std(reward)
    flat = sd <= EPS
    scale = np.where(flat, 0.0, 1.0 / (gi.sizes * np.where(flat, 1.0, sd)))
    factor = gi.centred(data.behaviour) * scale[gi.codes]
    return gi.centred(columns) * factor[:, None], int(flat.sum())


def old_component_columns(
    data: PressureData, keep: npt.NDArray[np.bool_], reward: npt.NDArray[np.float64]
) -> tuple[tuple[str, ...], npt.NDArray[np.float64]]:
    names = tuple(n for n, k in zip(data.components, keep, strict=True) if k)
    cols = data.contributions[:, keep]
    if data.has_residual:
        resid = reward - cols.sum(axis=1)
        return (*names, "residual"), np.column_stack([cols, resid])
    return names, cols


def old_selection_pressure(data: PressureData, n_boot: int, seed: int) -> PressureTable:
    keep = np.ones(len(data.components), dtype=bool)
    names, cols = old_component_columns(data, keep, data.reward)
    values, n_zero = old_contributions(data, np.column_stack([data.reward, cols]), data.reward)
    return pressure._table(data, ("total", *names), values, n_zero, n_boot, 0.95, seed)


def old_counterfactual(data: PressureData, removed: str, n_boot: int, seed: int) -> PressureTable:
    keep = np.array([c != removed for c in data.components])
    reward_cf = data.reward - data.contributions[:, ~keep].sum(axis=1)
    names, cols = old_component_columns(data, keep, reward_cf)
    base, _ = old_contributions(data, data.reward[:, None], data.reward)
    rest, n_zero = old_contributions(data, np.column_stack([reward_cf, cols]), reward_cf)
    values = np.column_stack([base, rest[:, :1], base - rest[:, :1], rest[:, 1:]])
    names = ("baseline", "remaining", "change", *names)
    return pressure._table(data, names, values, n_zero, n_boot, 0.95, seed)


def synthetic(seed: int, n_groups: int, *, total: bool, split: bool, per_sample: bool):
    """Groups of 8 over 50 steps and 4 personas; component a tied to the behaviour, c applying
    to half the samples, some groups with a flat reward; optionally a logged total with an
    extra unlogged reward, personas that differ within a group, per-sample weights."""
    rng = np.random.default_rng(seed)
    n = n_groups * GROUP
    groups = np.repeat(np.arange(n_groups), GROUP)
    b = (rng.random(n) < 0.3).astype(float)
    R = rng.normal(size=(n, 3))
    R[:, 0] += 0.5 * b
    R[rng.random(n) < 0.5, 2] = np.nan
    R[np.repeat(rng.random(n_groups) < 0.05, GROUP)] = 1.0
    W: npt.NDArray[np.float64] = np.array([1.0, 0.5, 2.0])
    if per_sample:
        W = np.tile(W, (n, 1))
        W[n // 2 :, 1] = 1.5
    persona = np.repeat(rng.integers(0, 4, size=n_groups), GROUP)
    if split:
        persona = np.where(rng.random(n) < 0.2, rng.integers(0, 4, size=n), persona)
    steps = np.repeat(np.arange(n_groups) * 50 // n_groups, GROUP)
    reward_total = np.nan_to_num(R * W).sum(axis=1) + rng.normal(size=n) if total else None
    return pressure_data(
        groups,
        b,
        R,
        W,
        components=["a", "b", "c"],
        reward_total=reward_total,
        slices=np.array(["nerdy", "plain", "pirate", "formal"])[persona],
        steps=steps,
        window_edges=[0, 10, 25, 40, 50],
    )


def assert_same(new: PressureTable, old: PressureTable) -> None:
    assert new.bootstrap == old.bootstrap
    assert new.n_groups == old.n_groups
    assert new.n_zero_variance_groups == old.n_zero_variance_groups
    pools = ("by_slice", "by_window", "by_slice_window")
    new_cells = [new.overall, *(c for p in pools for c in getattr(new, p))]
    old_cells = [old.overall, *(c for p in pools for c in getattr(old, p))]
    assert len(new_cells) == len(old_cells) > 20
    for a, b in zip(new_cells, old_cells, strict=True):
        assert (a.slice, a.window, a.n_samples, a.n_groups) == (
            b.slice,
            b.window,
            b.n_samples,
            b.n_groups,
        )
        assert list(a.values) == list(b.values)
        got = [(e.value, e.lo, e.hi) for e in a.values.values()]
        want = [(e.value, e.lo, e.hi) for e in b.values.values()]
        np.testing.assert_array_equal(got, want)


CASES = [
    # (n_groups, total, split, per_sample): 600 groups -> multinomial; 12,000 -> Poisson
    (600, False, False, False),
    (600, True, True, True),
    (12_000, True, False, False),
    (12_000, False, True, True),
]


@pytest.mark.parametrize(("n_groups", "total", "split", "per_sample"), CASES)
def test_selection_pressure_equals_the_matrix_formula(
    n_groups: int, total: bool, split: bool, per_sample: bool
) -> None:
    data = synthetic(7, n_groups, total=total, split=split, per_sample=per_sample)
    new = selection_pressure(data, n_boot=200, seed=3)
    assert_same(new, old_selection_pressure(data, 200, 3))
    if n_groups > 10_000:
        assert new.bootstrap.startswith("poisson")


@pytest.mark.parametrize(("n_groups", "total", "split", "per_sample"), CASES)
def test_counterfactual_equals_the_matrix_formula(
    n_groups: int, total: bool, split: bool, per_sample: bool
) -> None:
    data = synthetic(8, n_groups, total=total, split=split, per_sample=per_sample)
    for removed in ("a", "c"):
        new = counterfactual_pressure(data, removed, n_boot=200, seed=5).table
        assert_same(new, old_counterfactual(data, removed, 200, 5))


def test_dense_group_ids_are_taken_as_codes() -> None:
    """Ids already 0..G-1 (dictionary codes) skip the sort and give np.unique's codes; other
    ids (gaps, negatives, unsorted values) still go through it."""
    rng = np.random.default_rng(0)
    for ids in (
        rng.permutation(np.repeat(np.arange(500), 3)),
        np.repeat(np.arange(0, 1000, 2), 3),
        np.array([-1, 5, 5, -1, 7]),
        np.array([3, 1, 2, 0], dtype=np.uint8),
    ):
        gi = group_index(ids)
        _, want = np.unique(ids, return_inverse=True)
        np.testing.assert_array_equal(gi.codes, want)
        assert gi.codes.dtype == np.int64
        np.testing.assert_array_equal(gi.sizes, np.bincount(want))
