"""The typed event stream of an investigation: what every face (the CLI's stderr progress,
`--events` JSON Lines, a TUI, a fleet runner) sees while a job runs.

Each event is a pydantic model tagged by `type`. Who emits what, once for both brains:

- the job: `investigation_started`, then `investigation_finished`, `investigation_failed` or
  `investigation_cancelled`;
- the protocol: `phase_started` at each step, `detector_settled` after characterise;
- the toolbox: `tool_called`, then `evidence_recorded` or `tool_failed` with the same evidence
  id (a failed call records no evidence, so the next call is given the id it reserved);
- the ledger: `hypothesis_changed` for every hypothesis proposed or result recorded;
- the LLM brain: `model_turn` after each model call, `model_text` for streamed text deltas,
  `model_retry`, `step_failed`, `conclusion_rejected` and `budget_stopped`.

A resumed job emits from its last checkpoint on. Events are plain data: `event.model_dump_json()`
is one line of the `--events` file and `parse_event(line)` reads it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from rootcause.core import jobs
from rootcause.core.evidence import Evidence
from rootcause.core.report import (
    BehaviorSummary,
    Finding,
    FindingKind,
    HypothesisStatus,
    Stats,
    Verdict,
)
from rootcause.investigate.state import InvestigationSpec

logger = logging.getLogger(__name__)

Phase = Literal["characterise", "propose", "test", "conclude", "report"]


class _Event(BaseModel):
    """Fields every event has; the stream fills them in when the event is emitted."""

    investigation: str = Field("", description="The investigation's id.")
    seq: int = Field(0, description="Order of the event in this stream, from 1.")
    at: str = Field("", description="When it was emitted (ISO 8601, UTC).")


class InvestigationStarted(_Event):
    type: Literal["investigation_started"] = "investigation_started"
    run: str
    folder: str
    resumed: bool
    spec: InvestigationSpec


class PhaseStarted(_Event):
    type: Literal["phase_started"] = "phase_started"
    phase: Phase
    hypothesis: str | None = Field(None, description="The hypothesis a test step tests.")


class DetectorSettled(_Event):
    type: Literal["detector_settled"] = "detector_settled"
    behavior: BehaviorSummary | None = Field(description="None: no detector was settled.")


class ToolCalled(_Event):
    type: Literal["tool_called"] = "tool_called"
    evidence_id: str = Field(description="The id the call's evidence record gets.")
    tool: str
    arguments: dict[str, Any]


class EvidenceRecorded(_Event):
    type: Literal["evidence_recorded"] = "evidence_recorded"
    evidence: Evidence


class ToolFailed(_Event):
    type: Literal["tool_failed"] = "tool_failed"
    evidence_id: str | None = Field(
        description="The id the call had reserved; None when it was refused before the call."
    )
    tool: str
    error: str


class HypothesisChanged(_Event):
    type: Literal["hypothesis_changed"] = "hypothesis_changed"
    change: Literal["proposed", "recorded"]
    id: str
    kind: FindingKind
    candidate: str
    commit: str | None = None
    statement: str
    status: HypothesisStatus
    confidence: float
    evidence: list[str]
    note: str | None = None


class ModelTurn(_Event):
    type: Literal["model_turn"] = "model_turn"
    phase: str
    turn: int
    tokens_in: int
    tokens_out: int
    usage_estimated: bool = False
    tokens_in_total: int
    tokens_out_total: int
    cost_usd_total: float
    calls: list[str] = Field(default_factory=list, description="Tools the model called.")
    text: str = Field("", description="What the model wrote (whole, not streamed).")
    finish_reason: str | None = None


class ModelText(_Event):
    type: Literal["model_text"] = "model_text"
    phase: str
    delta: str


class ModelRetry(_Event):
    type: Literal["model_retry"] = "model_retry"
    attempt: int
    retries: int
    status: int | None = Field(description="The HTTP status; None for a dropped connection.")
    delay_s: float
    error: str


class StepFailed(_Event):
    type: Literal["step_failed"] = "step_failed"
    step: str
    reason: str
    corrective: bool = Field(description="True: the model gets one corrective turn.")


class ConclusionRejected(_Event):
    type: Literal["conclusion_rejected"] = "conclusion_rejected"
    problems: list[str]
    kept: bool = Field(description="True: kept with its findings marked not grounded.")


class BudgetStopped(_Event):
    type: Literal["budget_stopped"] = "budget_stopped"
    reason: str


class InvestigationFinished(_Event):
    type: Literal["investigation_finished"] = "investigation_finished"
    verdict: Verdict
    summary: str
    findings: list[Finding]
    stats: Stats
    report_json: str
    report_markdown: str


class InvestigationFailed(_Event):
    type: Literal["investigation_failed"] = "investigation_failed"
    error: str = Field(description="The error's kind.")
    message: str
    resumable: bool = False


class InvestigationCancelled(_Event):
    type: Literal["investigation_cancelled"] = "investigation_cancelled"
    phase: str
    resume: str = Field(description="The id to give `--resume`.")


InvestigationEvent = Annotated[
    InvestigationStarted
    | PhaseStarted
    | DetectorSettled
    | ToolCalled
    | EvidenceRecorded
    | ToolFailed
    | HypothesisChanged
    | ModelTurn
    | ModelText
    | ModelRetry
    | StepFailed
    | ConclusionRejected
    | BudgetStopped
    | InvestigationFinished
    | InvestigationFailed
    | InvestigationCancelled,
    Field(discriminator="type"),
]

EventSink = Callable[[InvestigationEvent], None]

_ADAPTER: TypeAdapter[InvestigationEvent] = TypeAdapter(InvestigationEvent)


def parse_event(data: str | bytes | dict[str, Any]) -> InvestigationEvent:
    """An event from one JSON line (or its parsed object)."""
    return jobs.parse_with(_ADAPTER, data)


class EventStream(jobs.EventStream[InvestigationEvent]):
    """Stamps events with the investigation id, their order and time, and hands them to the
    subscribers in order. A subscriber that raises is logged and the job goes on (a face's bug
    must not stop an investigation)."""

    def __init__(self, *subscribers: EventSink | None) -> None:
        super().__init__(*subscribers)
        self.investigation = ""

    def label(self, event: InvestigationEvent) -> None:
        event.investigation = event.investigation or self.investigation


class JsonlEventWriter(jobs.JsonlEventWriter[InvestigationEvent]):
    """Writes each event as one JSON line to `path`, flushed per event, so `tail -f` and other
    programs can follow a job. The file is opened (and truncated) at `investigation_started`:
    a job refused before it has a folder (its outputs are checked then) writes nothing."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, opens_at=lambda event: isinstance(event, InvestigationStarted))
