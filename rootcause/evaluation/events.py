"""The typed event stream of an eval: what every face (the CLI's progress bars, `--events`
JSON Lines, a TUI) sees while a suite is investigated and scored.

Each event is a pydantic model tagged by `type`:

- `eval_started` once the suite is loaded and the brain checked;
- `stage_started` for each stage: `prepare` (generate or reuse each distinct lab run, and
  ingest it), then `investigate` (one investigation per scenario and repeat);
- `lab_run_prepared` as each lab run is ready (or failed), `trial_investigated` as each
  investigation ends (its id, or its one-line error);
- `eval_finished` with the summary once the results folder is written, or `eval_failed` or
  `eval_cancelled`.

`event.model_dump_json()` is one line of the `--events` file and `parse_eval_event(line)`
reads it back. The events name the scenario and its bug, never an answer key's causes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from rootcause.core import jobs
from rootcause.evaluation.aggregate import Summary

Stage = Literal["prepare", "investigate"]


class _Event(BaseModel):
    """Fields every event has; the stream fills them in when the event is emitted."""

    eval: str = Field("", description="The eval's results folder.")
    seq: int = Field(0, description="Order of the event in this stream, from 1.")
    at: str = Field("", description="When it was emitted (ISO 8601, UTC).")


class EvalStarted(_Event):
    type: Literal["eval_started"] = "eval_started"
    suite: str
    brain: str
    scenarios: int
    repeats: int
    workers: int


class StageStarted(_Event):
    type: Literal["stage_started"] = "stage_started"
    stage: Stage
    total: int = Field(description="Lab runs to prepare, or investigations to run.")


class LabRunPrepared(_Event):
    type: Literal["lab_run_prepared"] = "lab_run_prepared"
    bug: str
    seed: int
    error: str | None = None
    seconds: float
    done: int
    total: int


class TrialInvestigated(_Event):
    type: Literal["trial_investigated"] = "trial_investigated"
    trial: str = Field(description="The scenario's id (with `-r<k>` when repeated).")
    investigation: str | None = None
    error: str | None = None
    seconds: float
    done: int
    total: int


class EvalFinished(_Event):
    type: Literal["eval_finished"] = "eval_finished"
    summary: Summary
    results_markdown: str


class EvalFailed(_Event):
    type: Literal["eval_failed"] = "eval_failed"
    error: str = Field(description="The error's kind.")
    message: str


class EvalCancelled(_Event):
    type: Literal["eval_cancelled"] = "eval_cancelled"
    stage: Stage | None = Field(description="The stage it stopped in (None: before one).")


EvalEvent = Annotated[
    EvalStarted
    | StageStarted
    | LabRunPrepared
    | TrialInvestigated
    | EvalFinished
    | EvalFailed
    | EvalCancelled,
    Field(discriminator="type"),
]

EvalEventSink = jobs.Sink[EvalEvent]

_ADAPTER: TypeAdapter[EvalEvent] = TypeAdapter(EvalEvent)


def parse_eval_event(data: str | bytes | dict[str, Any]) -> EvalEvent:
    """An event from one JSON line (or its parsed object)."""
    return jobs.parse_with(_ADAPTER, data)


class EvalEventStream(jobs.EventStream[EvalEvent]):
    """Stamps an eval's events with its results folder, their order and time."""

    def __init__(self, *subscribers: EvalEventSink | None) -> None:
        super().__init__(*subscribers)
        self.folder = ""

    def label(self, event: EvalEvent) -> None:
        event.eval = event.eval or self.folder


class EvalEventWriter(jobs.JsonlEventWriter[EvalEvent]):
    """`--events PATH`: the eval's events as JSON Lines, opened at `eval_started` (an eval
    refused before it starts writes nothing)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, opens_at=lambda event: isinstance(event, EvalStarted))
