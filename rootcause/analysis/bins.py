"""Step bins: the shared way of cutting a run's step axis into windows.

Prevalence traces, onset detection and per-window selection pressure all use the same half-open
bins `[edges[j], edges[j+1])` so their outputs line up bin for bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rootcause.analysis._common import IntArray, as_int


@dataclass(frozen=True, slots=True)
class StepBins:
    """Half-open step bins and the bin of every sample (-1 when outside all bins)."""

    edges: IntArray
    index: IntArray

    @property
    def n_bins(self) -> int:
        return int(self.edges.shape[0] - 1)

    @property
    def starts(self) -> IntArray:
        return self.edges[:-1]


def make_step_bins(steps: npt.ArrayLike, *, width: int | None = None, n_bins: int = 40) -> StepBins:
    """Assign samples to step bins of `width` steps, or let `n_bins` (default 40, fewer when
    the run has fewer distinct steps) choose an integer width covering min..max step."""
    step = as_int(steps, "steps")
    if step.size == 0:
        raise ValueError("no steps to bin")
    lo, hi = int(step.min()), int(step.max())
    span = hi - lo + 1
    if width is None:
        width = max(1, -(-span // max(1, min(n_bins, span))))
    if width < 1:
        raise ValueError("width must be >= 1")
    count = -(-span // width)
    edge = lo + width * np.arange(count + 1, dtype=np.int64)
    index = np.searchsorted(edge, step, side="right") - 1
    index[(step < edge[0]) | (step >= edge[-1])] = -1
    return StepBins(edges=edge, index=index.astype(np.int64))
