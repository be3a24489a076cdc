"""The PELT segment cost of `rootcause.analysis.onset`'s binomial model.

In its own module because it subclasses a ruptures class: `onset` imports it (and so ruptures
and scipy) only when a trace is segmented, keeping the statistics layer cheap to import.
"""

from __future__ import annotations

import numpy as np
import ruptures as rpt

from rootcause.analysis._common import FloatArray


class BinomialCost(rpt.base.BaseCost):
    """Dispersion-scaled binomial deviance of a segment, O(1) per call via cumulative sums."""

    model = "binomial"
    min_size = 1

    def __init__(self, dispersion: float = 1.0) -> None:
        self.dispersion = dispersion
        self.ck = np.zeros(1)
        self.cn = np.zeros(1)
        self.signal = np.zeros((0, 2))

    def fit(self, signal: FloatArray) -> BinomialCost:
        self.signal = signal
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
