"""PELT change points as ruptures 1.1 finds them, and the two segment costs of `onset`.

ruptures' `Pelt` is a short pure-Python loop over a cost object, but importing ruptures loads
every search and cost it has, and with them scipy.stats, scipy.signal and scipy.spatial:
about half a second that every `rootcause scan` worker paid for this loop. `pelt` is the same
loop with the same arithmetic: each candidate partition's cost is summed with `sum` over the
same values in the same order, the first minimum is kept, and the admissible points are
pruned as ruptures prunes them (it pairs them with the candidates it could build, which
after a skipped point is not the candidate built from that point; kept, so the change points
are ruptures' own). A partition is kept as its list of segment costs and its cuts, not as a
dict copied for every candidate. `tests/analysis/test_pelt.py` compares the change points
with ruptures' on random traces (ruptures stays a test dependency).

Adapted from ruptures 1.1.10 (`ruptures/detection/pelt.py`, `ruptures/costs/costl2.py`):
BSD 2-Clause License, Copyright (c) 2017-2021, ENS Paris-Saclay, CNRS. Redistribution and
use in source and binary forms, with or without modification, are permitted provided that
(1) redistributions of source code retain this copyright notice, this list of conditions and
the following disclaimer, and (2) redistributions in binary form reproduce them in the
documentation and/or other materials provided with the distribution. THIS SOFTWARE IS
PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED
WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND
FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR
CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR
CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR
OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
POSSIBILITY OF SUCH DAMAGE.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from rootcause.analysis._common import FloatArray


class SegmentCost(Protocol):
    """A segment cost fitted to a signal: `error(start, end)` of the rows [start, end)."""

    min_size: int

    def error(self, start: int, end: int) -> Any: ...


class BinomialCost:
    """Dispersion-scaled binomial deviance of a segment, O(1) per call via cumulative sums
    (rows of the signal: hits, trials)."""

    min_size = 1

    def __init__(self, dispersion: float = 1.0) -> None:
        self.dispersion = dispersion
        self.ck = np.zeros(1)
        self.cn = np.zeros(1)

    def fit(self, signal: FloatArray) -> BinomialCost:
        self.ck = np.concatenate([[0.0], np.cumsum(signal[:, 0])])
        self.cn = np.concatenate([[0.0], np.cumsum(signal[:, 1])])
        return self

    def error(self, start: int, end: int) -> float:
        k = self.ck[end] - self.ck[start]
        n = self.cn[end] - self.cn[start]
        if n <= 0 or k <= 0 or k >= n:
            return 0.0
        p = k / n
        return float(-2.0 * (k * np.log(p) + (n - k) * np.log1p(-p)) / self.dispersion)


class L2Cost:
    """Least squared deviation of a segment from its mean (ruptures' `CostL2`)."""

    min_size = 1

    def __init__(self) -> None:
        self.signal = np.zeros((0, 1))

    def fit(self, signal: FloatArray) -> L2Cost:
        self.signal = signal.reshape(-1, 1) if signal.ndim == 1 else signal
        return self

    def error(self, start: int, end: int) -> Any:
        return self.signal[start:end].var(axis=0).sum() * (end - start)


def pelt(
    cost: SegmentCost, n_samples: int, pen: float, min_size: int = 2, jump: int = 1
) -> list[int]:
    """The change points minimising the summed segment costs plus `pen` per segment, as
    ruptures' `Pelt(custom_cost=cost, min_size=min_size, jump=jump).predict(pen)` returns them
    (the last is `n_samples`). ValueError when no segment of `min_size` fits."""
    min_size = max(min_size, cost.min_size)
    if min_size > n_samples:
        raise ValueError(f"no segment of {min_size} fits in {n_samples} samples")
    # The best partition of [0, t) for each t reached: its segment costs, in the order
    # ruptures sums them (its first entry stands for ruptures' (0, 0) entry), and its cuts.
    costs: dict[int, list[Any]] = {0: [0]}
    cuts: dict[int, list[int]] = {0: []}
    admissible: list[int] = []
    ends = [k for k in range(0, n_samples, jump) if k >= min_size] + [n_samples]
    for end in ends:
        admissible.append(math.floor((end - min_size) / jump) * jump)
        candidates: list[tuple[int, list[Any], Any]] = []
        for start in admissible:
            if start not in costs:  # no partition of [0, start) exists
                continue
            chain = [*costs[start], cost.error(start, end) + pen]
            candidates.append((start, chain, sum(chain)))
        best = min(candidates, key=lambda candidate: candidate[2])
        costs[end], cuts[end] = best[1], [*cuts[best[0]], end]
        bound = best[2] + pen
        admissible = [t for t, c in zip(admissible, candidates, strict=False) if c[2] <= bound]
    return sorted(cuts[n_samples])
