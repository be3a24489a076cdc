"""The group bootstrap drawn from aggregated group statistics (the normal limit of the Poisson
bootstrap for large, near-normal cells) gives the same point sums and, on fixed seeds,
intervals within Monte Carlo error of drawing every group's weight in every replicate (the
algorithm it replaced, kept here as the reference)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from rootcause.analysis._groups import bootstrap_cells, group_index

GROUP = 8
B = 1000
#: Monte Carlo sd of a 2.5% / 97.5% percentile from B replicates, in bootstrap sds:
#: sqrt(p (1 - p) / B) / phi(1.96); two independent estimates differ by sqrt(2) times that.
ENDPOINT_MC_SD = np.sqrt(0.025 * 0.975 / B) / 0.0584 * np.sqrt(2)


def reference_sums(
    codes: npt.NDArray[np.int64], cell: npt.NDArray[np.int64], n_cells: int, values, seed: int
):
    """Every group's Poisson(1) weight drawn in every replicate; units are (group, cell)."""
    sizes = np.bincount(codes)
    frac = 1.0 / sizes[codes]
    keys, inv = np.unique(codes * n_cells + cell, return_inverse=True)
    unit_group, unit_cell = keys // n_cells, keys % n_cells
    cols = np.column_stack(
        [np.bincount(inv, weights=values[:, j]) for j in range(values.shape[1])]
        + [np.bincount(inv, weights=frac)]
    )
    onehot = np.zeros((keys.shape[0], n_cells))
    onehot[np.arange(keys.shape[0]), unit_cell] = 1.0
    rng = np.random.default_rng(seed)
    boot = np.zeros((B, n_cells, cols.shape[1]))
    for b in range(B):
        w = rng.poisson(1.0, size=sizes.shape[0])[unit_group]
        boot[b] = onehot.T @ (cols * w[:, None])
    return onehot.T @ cols, boot


def synthetic(seed: int, n_groups: int, split: bool):
    """Pressure-like per-sample terms: a binary behaviour centred in its group times rewards
    centred in theirs; 6 slices of very different sizes (one tiny, one skewed) x 3 windows."""
    rng = np.random.default_rng(seed)
    n = n_groups * GROUP
    codes = np.repeat(np.arange(n_groups), GROUP)
    behaviour = (rng.random(n) < 0.3).astype(float)
    rewards = rng.normal(size=(n, 2))
    rewards[:, 0] += 0.4 * behaviour
    gi = group_index(codes)
    values = gi.centred(rewards) * gi.centred(behaviour)[:, None]
    slice_of_group = rng.choice(6, size=n_groups, p=[0.35, 0.25, 0.2, 0.19, 0.008, 0.002])
    slices = np.repeat(slice_of_group, GROUP)
    if split:  # a quarter of the samples move to another slice: groups span cells
        moved = rng.random(n) < 0.25
        slices = np.where(moved, rng.integers(0, 6, size=n), slices)
    skewed = slices == 3
    values[skewed] *= rng.pareto(1.5, size=(int(skewed.sum()), 1)) + 1.0
    window = np.repeat(np.arange(n_groups) * 3 // n_groups, GROUP)
    return gi, slices * 3 + window, values


def _intervals(num, den):
    """Ratio estimates and 95% percentile intervals per cell and overall (cells summed)."""
    cells = num / den[..., None]
    overall = num.sum(axis=-2) / den.sum(axis=-1)[..., None]
    return cells, overall


@pytest.mark.parametrize("split", [False, True])
def test_intervals_match_drawing_every_group_within_monte_carlo_error(split: bool) -> None:
    gi, cell, values = synthetic(3, 30_000, split)
    n_cells = 18
    sums = bootstrap_cells(gi, cell, n_cells, values, B, np.random.default_rng(11))
    point, boot = reference_sums(gi.codes, cell, n_cells, values, seed=12)
    assert "from their normal limit" in sums.method
    assert "30,000 groups, 1000 replicates" in sums.method
    np.testing.assert_allclose(sums.num, point[:, :-1], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(sums.den, point[:, -1], rtol=1e-12)
    new = _intervals(sums.boot_num, sums.boot_den)
    old = _intervals(boot[:, :, :-1], boot[:, :, -1])
    for new_draws, old_draws in zip(new, old, strict=True):
        sd = old_draws.std(axis=0)
        for q in (2.5, 97.5):
            gap = np.abs(np.percentile(new_draws, q, axis=0) - np.percentile(old_draws, q, axis=0))
            assert np.all(gap <= 5 * ENDPOINT_MC_SD * sd), (q, (gap / sd).max())
        np.testing.assert_allclose(new_draws.std(axis=0), sd, rtol=0.15)


def test_small_and_skewed_cells_keep_their_groups_drawn() -> None:
    """The tiny and the heavy-tailed slices are not near normal: their groups are drawn."""
    gi, cell, values = synthetic(4, 30_000, split=False)
    sums = bootstrap_cells(gi, cell, 18, values, B, np.random.default_rng(0))
    n_normal = int(sums.method.split("(")[1].split(" groups")[0].replace(",", ""))
    tiny_or_skewed = np.isin(cell // 3, (3, 4, 5))
    drawn = np.unique(gi.codes[tiny_or_skewed]).shape[0]
    assert n_normal == 30_000 - drawn


def test_below_ten_thousand_groups_every_replicate_resamples_the_groups() -> None:
    gi, cell, values = synthetic(5, 2_000, split=False)
    sums = bootstrap_cells(gi, cell, 18, values, 200, np.random.default_rng(0))
    assert sums.method == "multinomial over 2,000 groups, 200 replicates"
    assert np.allclose(sums.boot_den.sum(axis=1), 2_000)  # G groups drawn per replicate
