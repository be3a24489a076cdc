"""Group helpers shared by the group-relative statistics (pressure, contrast).

Groups are the rollouts of one prompt (GRPO-style). Everything is computed with `np.bincount`
on dense group codes, so a million samples cost a few passes over memory and no Python loop.
The bootstrap resamples whole groups: groups are the independent units of an RL batch, samples
within a group are not.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rootcause.analysis._common import FloatArray, IntArray, encode_labels

#: Above this many groups the bootstrap uses Poisson(1) weights instead of exact multinomial
#: counts; with this many units the two are indistinguishable and Poisson is ~10x cheaper.
POISSON_BOOTSTRAP_MIN_GROUPS = 10_000

#: Memory budget (matrix entries) of one bootstrap chunk.
_CHUNK_ENTRIES = 16_000_000


@dataclass(frozen=True, slots=True)
class GroupIndex:
    """Dense group codes (0..G-1) per sample and the size of every group."""

    codes: IntArray
    sizes: IntArray

    @property
    def n_groups(self) -> int:
        return int(self.sizes.shape[0])

    def sum(self, values: FloatArray) -> FloatArray:
        """Per-group sums of a 1-D (n,) or 2-D (n, m) array."""
        if values.ndim == 1:
            return np.bincount(self.codes, weights=values, minlength=self.n_groups).astype(
                np.float64, copy=False
            )
        return np.stack([self.sum(values[:, j]) for j in range(values.shape[1])], axis=1)

    def mean(self, values: FloatArray) -> FloatArray:
        """Per-group means, shaped like `sum`."""
        sums = self.sum(values)
        return sums / (self.sizes if sums.ndim == 1 else self.sizes[:, None])

    def centred(self, values: FloatArray) -> FloatArray:
        """Values minus their group mean (per sample)."""
        return values - self.mean(values)[self.codes]

    def std(self, values: FloatArray) -> FloatArray:
        """Per-group population standard deviation (ddof=0) of a 1-D array."""
        dev = self.centred(values)
        return np.sqrt(self.sum(dev * dev) / self.sizes)


def group_index(groups: npt.ArrayLike) -> GroupIndex:
    """Encode group ids (ints or strings) as dense codes."""
    arr = np.asarray(groups)
    if arr.ndim != 1:
        raise ValueError(f"groups must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        _, codes = np.unique(arr, return_inverse=True)
        codes = codes.astype(np.int64)
    else:
        codes = encode_labels(arr).codes
    sizes = np.bincount(codes)
    return GroupIndex(codes=codes, sizes=sizes.astype(np.int64))


@dataclass(frozen=True, slots=True)
class CellSums:
    """Point and bootstrap sums of per-unit numerators and denominators for every cell.

    `num` is (K, m), `den` (K,), `boot_num` (B, K, m) and `boot_den` (B, K). Ratios of sums
    (after summing cells into marginals) are the estimates; summing before dividing keeps
    marginals exactly consistent with their cells.
    """

    num: FloatArray
    den: FloatArray
    boot_num: FloatArray
    boot_den: FloatArray
    method: str


def _draw_weights(rng: np.random.Generator, reps: int, n_groups: int) -> npt.NDArray[np.float32]:
    """Bootstrap weights of every group for `reps` replicates, shape (reps, n_groups).

    Exact multinomial counts (resampling G groups with replacement) for small G; for large G
    independent Poisson(1) counts drawn by inverse-CDF lookup on 16-bit uniforms (the "Poisson
    bootstrap", probabilities exact to 2^-16), which avoids a random scatter per draw.
    """
    if n_groups < POISSON_BOOTSTRAP_MIN_GROUPS:
        idx = rng.integers(0, n_groups, size=(reps, n_groups))
        idx += (np.arange(reps, dtype=np.int64) * n_groups)[:, None]
        counts = np.bincount(idx.ravel(), minlength=reps * n_groups)
        return counts.reshape(reps, n_groups).astype(np.float32)
    u16 = rng.integers(0, 65536, size=(reps, n_groups), dtype=np.uint16)
    return _poisson_table()[u16]


@functools.cache
def _poisson_table() -> npt.NDArray[np.float32]:
    """Poisson(1) counts by 16-bit uniform, built on first use (it needs scipy, which the
    statistics layer imports only when a function runs: see rootcause.analysis._common)."""
    from scipy import stats

    cdf = stats.poisson(1.0).cdf(np.arange(32))
    u = (np.arange(65536) + 0.5) / 65536.0
    return np.searchsorted(cdf, u).astype(np.float32)


def bootstrap_cells(
    gi: GroupIndex,
    cell: IntArray,
    n_cells: int,
    values: FloatArray,
    n_boot: int,
    rng: np.random.Generator,
) -> CellSums:
    """Sum per-sample `values` (n, m) and group fractions into cells, point and bootstrap.

    A unit is a (group, cell) pair. Its denominator is the fraction of the group's samples in
    the cell, so a group that lies in one cell counts as one group there, and a group split
    across cells is shared between them. Bootstrap replicate b weights every group by a random
    count and sums units; groups are drawn once per replicate, so all cells and columns of a
    replicate see the same resample (paired, and marginals stay consistent).
    Cost: O(B * units * m) in BLAS matrix products, in chunks of bounded memory.
    """
    G = gi.n_groups
    frac = 1.0 / gi.sizes[gi.codes]
    key = gi.codes * n_cells + cell
    first_cell = np.zeros(G, dtype=np.int64)
    first_cell[gi.codes] = cell  # any member's cell; checked below
    if np.all(first_cell[gi.codes] == cell):  # every group lies in one cell: unit == group
        unit_inv, unit_group, unit_cell = gi.codes, np.arange(G), first_cell
    else:
        keys, unit_inv = np.unique(key, return_inverse=True)
        unit_group, unit_cell = keys // n_cells, keys % n_cells
    U = unit_group.shape[0]
    cols = np.column_stack(
        [np.bincount(unit_inv, weights=values[:, j], minlength=U) for j in range(values.shape[1])]
        + [np.bincount(unit_inv, weights=frac, minlength=U)]
    )
    order = np.argsort(unit_cell, kind="stable")
    cols, unit_group, unit_cell = cols[order], unit_group[order], unit_cell[order]
    bounds = np.searchsorted(unit_cell, np.arange(n_cells + 1))
    point = np.zeros((n_cells, cols.shape[1]))
    for k in range(n_cells):
        point[k] = cols[bounds[k] : bounds[k + 1]].sum(axis=0)
    one_to_one = U == G  # then unit order is a permutation of groups and weights are i.i.d.
    cols32 = cols.astype(np.float32)
    boot = np.zeros((n_boot, n_cells, cols.shape[1]))
    chunk = max(1, min(n_boot, _CHUNK_ENTRIES // max(U, 1)))
    for b0 in range(0, n_boot, chunk):
        reps = min(chunk, n_boot - b0)
        w = _draw_weights(rng, reps, G)
        if not one_to_one:
            w = w[:, unit_group]
        for k in range(n_cells):
            s, e = bounds[k], bounds[k + 1]
            if e > s:
                boot[b0 : b0 + reps, k] = w[:, s:e] @ cols32[s:e]
    method = "multinomial" if G < POISSON_BOOTSTRAP_MIN_GROUPS else "poisson"
    return CellSums(point[:, :-1], point[:, -1], boot[:, :, :-1], boot[:, :, -1], method)
