"""Enrichment of a behaviour in the levels of a categorical label (source, persona, env).

Per level: behaviour rate inside vs outside, lift (rate in / rate out), odds ratio, a Fisher
exact test on the 2x2 table, and Benjamini-Hochberg q-values across levels so that scanning
many data sources does not manufacture a "cause" out of multiple testing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from rootcause.analysis._common import LabelsLike, as_behaviour, benjamini_hochberg, encode_labels

Alternative = Literal["two-sided", "greater", "less"]


@dataclass(frozen=True, slots=True)
class LevelEnrichment:
    """One level's 2x2 table summary; `lift` is inf when the rate outside is 0."""

    label: str
    n_in: int
    hits_in: int
    rate_in: float
    n_out: int
    hits_out: int
    rate_out: float
    lift: float
    p_value: float
    q_value: float


@dataclass(frozen=True, slots=True)
class Enrichment:
    """Enrichment of every level, sorted by q-value then lift."""

    levels: tuple[LevelEnrichment, ...]
    n: int
    hits: int


def enrichment(
    behaviour: npt.ArrayLike,
    labels: LabelsLike,
    *,
    alternative: Alternative = "two-sided",
) -> Enrichment:
    """Fisher exact test per level of `labels` (in the level vs all other samples) with BH FDR.

    `alternative="greater"` tests over-representation only.
    """
    from scipy import stats  # here, not at import: see rootcause.analysis._common

    b = as_behaviour(behaviour)
    lab = encode_labels(labels, b.shape[0])
    n_l = np.bincount(lab.codes, minlength=lab.n_levels)
    k_l = np.rint(np.bincount(lab.codes, weights=b, minlength=lab.n_levels)).astype(np.int64)
    N, K = int(n_l.sum()), int(k_l.sum())
    rows = []
    for j, name in enumerate(lab.names):
        n_in, k_in = int(n_l[j]), int(k_l[j])
        n_out, k_out = N - n_in, K - k_in
        table = [[k_in, n_in - k_in], [k_out, n_out - k_out]]
        _, p = stats.fisher_exact(table, alternative=alternative)
        rate_in = k_in / n_in
        rate_out = k_out / n_out if n_out else float("nan")
        lift = rate_in / rate_out if rate_out else (float("inf") if rate_in else float("nan"))
        rows.append(
            LevelEnrichment(name, n_in, k_in, rate_in, n_out, k_out, rate_out, lift, float(p), 1.0)
        )
    q = benjamini_hochberg([r.p_value for r in rows])
    levels = [replace(r, q_value=float(qv)) for r, qv in zip(rows, q, strict=True)]
    levels.sort(key=lambda e: (e.q_value, -np.nan_to_num(e.lift, nan=-np.inf), e.label))
    return Enrichment(tuple(levels), N, K)
