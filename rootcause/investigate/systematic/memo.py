"""What the systematic brain keeps between steps, in the checkpointed state: each tool output
it reuses with its evidence id, and the attributions its tests established. Plain data (typed
pydantic), so a checkpoint round-trips and a resumed step reads what the killed one left."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rootcause.core.report import FindingKind
from rootcause.investigate.memo import BrainMemo, brain_memo
from rootcause.tools.builtin.contrast import EnrichmentOutput
from rootcause.tools.builtin.detect import DetectOutput
from rootcause.tools.builtin.events import EventAlignmentOutput
from rootcause.tools.builtin.pressure import CounterfactualOutput, PressureOutput
from rootcause.tools.builtin.prevalence import OnsetOutput, PrevalenceOutput
from rootcause.tools.builtin.run import OverviewOutput, SqlOutput


class Attribution(BaseModel):
    """A pusher traced to a change: the finding it supports and the evidence behind it."""

    kind: FindingKind
    target: str
    commit: str | None
    slice: dict[str, str] | None
    confidence: float
    mechanism: str
    fix: str
    evidence: list[str] = Field(default_factory=list)


@brain_memo
class SystematicMemo(BrainMemo):
    """Tool outputs as `(output, evidence id)`, called once per investigation (also across a
    resume), and the attributions by hypothesis id."""

    brain: Literal["systematic"] = "systematic"
    overview: tuple[OverviewOutput, str] | None = None
    detect: tuple[DetectOutput, str] | None = None
    prevalence: tuple[PrevalenceOutput, str] | None = None
    onset: tuple[OnsetOutput, str] | None = None
    #: Selection pressure over the whole run, by slice kind (persona, data_source, env).
    pressure: dict[str, tuple[PressureOutput, str]] = Field(default_factory=dict)
    events: tuple[EventAlignmentOutput, str] | None = None
    #: Each data source's first step (a `sql` query).
    sources: tuple[SqlOutput, str] | None = None
    #: Selection pressure over one window of steps, keyed `"lo:hi"` (steps [lo, hi)).
    window_pressure: dict[str, tuple[PressureOutput, str]] = Field(default_factory=dict)
    #: Counterfactuals by the component removed.
    counterfactual: dict[str, tuple[CounterfactualOutput, str]] = Field(default_factory=dict)
    #: Enrichment by data source from a first step on, keyed by that step.
    enrichment: dict[int, tuple[EnrichmentOutput, str]] = Field(default_factory=dict)
    attributions: dict[str, Attribution] = Field(default_factory=dict)
