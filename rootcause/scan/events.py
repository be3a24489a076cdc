"""The typed event stream of a scan: what every face (the CLI's progress bar, `--events` JSON
Lines, a TUI, a fleet runner) sees while a scan runs.

Each event is a pydantic model tagged by `type`, emitted by the scan's driver:

- `scan_started` once the folder is locked and the runs are planned;
- `run_finished` at once for each run reused from an earlier scan (`reused` true);
- `run_started` when a run is handed to a worker (with Ray: dispatched to the cluster), then
  one `alert` per row of its alert table (`info` rows included) and its `run_finished`;
- `scan_finished` with the summary once the table is written, or `scan_failed` or
  `scan_cancelled` (with the folder to give `--resume`).

A resumed scan announces itself with `resumed` true. `event.model_dump_json()` is one line of
the `--events` file and `parse_scan_event(line)` reads it back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from rootcause.core import jobs
from rootcause.scan.model import Alert, RunResult, RunStatus, ScanSpec, ScanSummary


class _Event(BaseModel):
    """Fields every event has; the stream fills them in when the event is emitted."""

    scan: str = Field("", description="The scan's folder.")
    seq: int = Field(0, description="Order of the event in this stream, from 1.")
    at: str = Field("", description="When it was emitted (ISO 8601, UTC).")


class ScanStarted(_Event):
    type: Literal["scan_started"] = "scan_started"
    resumed: bool
    runs: int = Field(description="Runs in the scan.")
    reused: int = Field(description="Runs whose earlier result is reused.")
    executor: str
    spec: ScanSpec


class RunStarted(_Event):
    type: Literal["run_started"] = "run_started"
    run: str


class ScanAlert(_Event):
    type: Literal["alert"] = "alert"
    alert: Alert


class RunFinished(_Event):
    type: Literal["run_finished"] = "run_finished"
    run: str
    run_id: str | None
    status: RunStatus
    error: str | None = None
    reused: bool
    alerts: int = Field(description="The run's alerts (rows of severity low and up).")
    samples: int
    seconds: float
    done: int = Field(description="Runs finished so far, reused ones included.")
    total: int
    alerts_total: int = Field(description="Alerts so far, over every run finished.")
    errors_total: int = Field(description="Runs failed so far.")
    #: The run's whole result, for a subscriber in this process; not written to `--events`
    #: (the scan folder's `runs/` file holds it).
    result: RunResult | None = Field(None, exclude=True, repr=False)


class ScanFinished(_Event):
    type: Literal["scan_finished"] = "scan_finished"
    summary: ScanSummary
    alerts_json: str
    alerts_markdown: str


class ScanFailed(_Event):
    type: Literal["scan_failed"] = "scan_failed"
    error: str = Field(description="The error's kind.")
    message: str


class ScanCancelled(_Event):
    type: Literal["scan_cancelled"] = "scan_cancelled"
    done: int = Field(description="Runs finished and kept.")
    total: int
    resume: str = Field(description="The folder to give `--resume`.")


ScanEvent = Annotated[
    ScanStarted | RunStarted | ScanAlert | RunFinished | ScanFinished | ScanFailed | ScanCancelled,
    Field(discriminator="type"),
]

ScanEventSink = jobs.Sink[ScanEvent]

_ADAPTER: TypeAdapter[ScanEvent] = TypeAdapter(ScanEvent)


def parse_scan_event(data: str | bytes | dict[str, Any]) -> ScanEvent:
    """An event from one JSON line (or its parsed object)."""
    return jobs.parse_with(_ADAPTER, data)


class ScanEventStream(jobs.EventStream[ScanEvent]):
    """Stamps a scan's events with its folder, their order and time."""

    def __init__(self, *subscribers: ScanEventSink | None) -> None:
        super().__init__(*subscribers)
        self.folder = ""

    def label(self, event: ScanEvent) -> None:
        event.scan = event.scan or self.folder


class ScanEventWriter(jobs.JsonlEventWriter[ScanEvent]):
    """`--events PATH`: the scan's events as JSON Lines, opened at `scan_started` (a scan
    refused before it has a folder writes nothing)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, opens_at=lambda event: isinstance(event, ScanStarted))
