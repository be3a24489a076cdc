"""Pieces shared by the statistics tools: argument types and conversions."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from rootcause.analysis._common import Estimate
from rootcause.analysis.bins import StepBins, make_step_bins
from rootcause.behaviour.frame import RunFrame
from rootcause.tools.base import ToolInput

SliceField = Literal["persona", "data_source", "env", "split"]

BEHAVIOR_HELP = (
    "Behaviour spec: regex:PATTERN, terms:a,b, semantic:TEXT or words:>N, optionally ending in "
    "@completion (default), @reasoning, @prompt or @reference."
)


class BehaviorInput(ToolInput):
    behavior: str = Field(description=BEHAVIOR_HELP)


class Interval(BaseModel):
    """A point estimate with its confidence interval."""

    value: float
    low: float
    high: float

    @classmethod
    def of(cls, estimate: Estimate) -> Interval:
        return cls(value=estimate.value, low=estimate.lo, high=estimate.hi)

    def text(self, fmt: str = ".3g") -> str:
        return f"{self.value:{fmt}} [{self.low:{fmt}}, {self.high:{fmt}}]"


def step_bins(frame: RunFrame, bins: int) -> StepBins:
    return make_step_bins(frame.step, n_bins=bins)


def finite_or_none(value: float | None) -> float | None:
    """A JSON-safe number: None for missing, NaN or infinite values."""
    return float(value) if value is not None and np.isfinite(value) else None
