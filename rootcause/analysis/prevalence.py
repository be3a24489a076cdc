"""Prevalence of a behaviour over training steps, and where it concentrates.

`prevalence_trace` answers "how often, when, and in which slice" (rate per step bin with Wilson
intervals, overall and per persona / data source / env). `concentration` answers "is the behaviour
over-represented in one slice": the share of behaviour hits a slice holds versus its share of
traffic (the goblin case: 2.5% of responses, 66.7% of the mentions, a ratio of about 27).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rootcause.analysis._common import (
    FloatArray,
    IntArray,
    LabelsLike,
    as_behaviour,
    as_int,
    encode_labels,
    wilson_interval,
)
from rootcause.analysis.bins import StepBins, make_step_bins


@dataclass(frozen=True, slots=True)
class RateSeries:
    """Behaviour rate per step bin for one slice (rate, lo, hi are NaN where n == 0)."""

    label: str
    bin_start: IntArray
    n: IntArray
    k: IntArray
    rate: FloatArray
    lo: FloatArray
    hi: FloatArray


@dataclass(frozen=True, slots=True)
class PrevalenceTrace:
    """Overall and per-slice rate series on the same step bins."""

    overall: RateSeries
    slices: tuple[RateSeries, ...]

    def slice(self, label: str) -> RateSeries:
        """The series of one slice label (KeyError when absent)."""
        for series in self.slices:
            if series.label == label:
                return series
        raise KeyError(label)


def rate_series(
    label: str, bins: StepBins, k: npt.ArrayLike, n: npt.ArrayLike, level: float = 0.95
) -> RateSeries:
    """Build a `RateSeries` from per-bin hit counts `k` and sample counts `n`."""
    k_arr = as_int(k, "k", bins.n_bins)
    n_arr = as_int(n, "n", bins.n_bins)
    lo, hi = wilson_interval(k_arr, n_arr, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n_arr > 0, k_arr / np.maximum(n_arr, 1), np.nan)
    return RateSeries(label, bins.starts, n_arr, k_arr, rate, lo, hi)


def prevalence_trace(
    steps: npt.ArrayLike,
    behaviour: npt.ArrayLike,
    *,
    slices: LabelsLike | None = None,
    bins: StepBins | None = None,
    level: float = 0.95,
) -> PrevalenceTrace:
    """Rate of a 0/1 behaviour per step bin, overall and per slice label, with Wilson intervals.

    `bins` defaults to `make_step_bins(steps)`; samples outside the bins are ignored. `slices`
    is one label per sample (persona, data_source, env...); missing labels form their own slice.
    """
    b = as_behaviour(behaviour)
    step = as_int(steps, "steps", b.shape[0])
    bins = make_step_bins(step) if bins is None else bins
    if bins.index.shape[0] != b.shape[0]:
        raise ValueError("bins were made for a different number of samples")
    inside = bins.index >= 0
    nb = bins.n_bins
    n_all = np.bincount(bins.index[inside], minlength=nb)
    k_all = np.bincount(bins.index[inside], weights=b[inside], minlength=nb)
    overall = rate_series("all", bins, np.rint(k_all), n_all, level)
    series: list[RateSeries] = []
    if slices is not None:
        labels = encode_labels(slices, b.shape[0])
        cell = labels.codes[inside] * nb + bins.index[inside]
        size = labels.n_levels * nb
        n_cell = np.bincount(cell, minlength=size).reshape(labels.n_levels, nb)
        k_cell = np.bincount(cell, weights=b[inside], minlength=size).reshape(labels.n_levels, nb)
        for j, name in enumerate(labels.names):
            series.append(rate_series(name, bins, np.rint(k_cell[j]), n_cell[j], level))
    return PrevalenceTrace(overall=overall, slices=tuple(series))


@dataclass(frozen=True, slots=True)
class SliceConcentration:
    """How much of the behaviour one slice holds relative to its traffic.

    `ratio` = hit_share / traffic_share (= slice rate / overall rate); its interval is the
    Wilson interval of the hit share (slice hits of all hits, i.e. conditional on the total
    number of hits) divided by the (fixed) traffic share.
    """

    label: str
    n: int
    hits: int
    rate: float
    traffic_share: float
    hit_share: float
    ratio: float
    ratio_lo: float
    ratio_hi: float


@dataclass(frozen=True, slots=True)
class Concentration:
    """Concentration ratios of every slice (sorted by ratio, highest first)."""

    n: int
    hits: int
    slices: tuple[SliceConcentration, ...]


def concentration(
    behaviour: npt.ArrayLike,
    slices: LabelsLike,
    *,
    level: float = 0.95,
) -> Concentration:
    """Share of behaviour hits vs share of traffic per slice (select the steps beforehand).

    A ratio well above 1 with an interval excluding 1 means the slice over-produces the
    behaviour. Ratios are NaN when there are no hits.
    """
    b = as_behaviour(behaviour)
    labels = encode_labels(slices, b.shape[0])
    n_s = np.bincount(labels.codes, minlength=labels.n_levels)
    k_s = np.rint(np.bincount(labels.codes, weights=b, minlength=labels.n_levels)).astype(np.int64)
    n_tot, k_tot = int(n_s.sum()), int(k_s.sum())
    lo, hi = wilson_interval(k_s, np.full(labels.n_levels, k_tot), level)
    rows = []
    for j, name in enumerate(labels.names):
        traffic = n_s[j] / n_tot
        share = k_s[j] / k_tot if k_tot else float("nan")
        rows.append(
            SliceConcentration(
                label=name,
                n=int(n_s[j]),
                hits=int(k_s[j]),
                rate=float(k_s[j] / n_s[j]),
                traffic_share=float(traffic),
                hit_share=float(share),
                ratio=float(share / traffic),
                ratio_lo=float(lo[j] / traffic),
                ratio_hi=float(hi[j] / traffic),
            )
        )
    rows.sort(key=lambda r: (-np.nan_to_num(r.ratio, nan=-np.inf), r.label))
    return Concentration(n_tot, k_tot, tuple(rows))
