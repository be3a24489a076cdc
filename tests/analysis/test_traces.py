"""Trace comparison on degenerate input."""

from __future__ import annotations

import math
import warnings

import numpy as np

from rootcause.analysis.traces import compare_traces


def test_a_constant_trace_has_no_rank_correlation_and_no_warning() -> None:
    rising = np.linspace(0.0, 0.5, 12)
    flat = np.zeros(12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = compare_traces(rising, flat)
    assert math.isnan(found.spearman)
