"""Ingest as a job of the seam (`rootcause.core.jobs`): an `IngestRequest` in, typed events
out, an `IngestResult` at the end.

    job = start_ingest(IngestRequest(Path("runs/r1"), Workspace.resolve()))
    job.subscribe(print)        # ingest_started, rows_read ..., ingest_finished
    result = job.wait()         # or IngestCancelledError after job.cancel()

`run_ingest` runs the same in the caller's thread. A cancelled ingest stops at the next batch
of rows and leaves the workspace as it was (the ingest's failure path removes what it had
begun: a fresh database is written under a temporary name, an append is one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, TypeAdapter

from rootcause.core import jobs
from rootcause.store.ingest import IngestResult, ingest_run
from rootcause.store.options import IngestOptions
from rootcause.store.workspace import Workspace


class _Event(BaseModel):
    """Fields every event has; the stream fills them in when the event is emitted."""

    run: str = Field("", description="The run folder or log file being read.")
    seq: int = Field(0, description="Order of the event in this stream, from 1.")
    at: str = Field("", description="When it was emitted (ISO 8601, UTC).")


class IngestStarted(_Event):
    type: Literal["ingest_started"] = "ingest_started"
    format: str = Field(description="The format asked for (`auto`: detected).")
    force: bool


class RowsRead(_Event):
    type: Literal["rows_read"] = "rows_read"
    rows: int = Field(description="Samples read so far.")


class IngestFinished(_Event):
    type: Literal["ingest_finished"] = "ingest_finished"
    database: str
    reused: bool = Field(description="The earlier ingest was reused (inputs unchanged).")
    appended: bool = Field(description="Only the files the run added were read.")
    added_samples: int
    skipped_lines: int
    notes: list[str]


class IngestFailed(_Event):
    type: Literal["ingest_failed"] = "ingest_failed"
    error: str = Field(description="The error's kind.")
    message: str


class IngestCancelled(_Event):
    type: Literal["ingest_cancelled"] = "ingest_cancelled"
    rows: int = Field(description="Samples read before it stopped (none of them kept).")


IngestEvent = Annotated[
    IngestStarted | RowsRead | IngestFinished | IngestFailed | IngestCancelled,
    Field(discriminator="type"),
]
IngestEventSink = jobs.Sink[IngestEvent]
_ADAPTER: TypeAdapter[IngestEvent] = TypeAdapter(IngestEvent)


def parse_ingest_event(data: str | bytes | dict[str, Any]) -> IngestEvent:
    """An event from one JSON line (or its parsed object)."""
    return jobs.parse_with(_ADAPTER, data)


class IngestEventWriter(jobs.JsonlEventWriter[IngestEvent]):
    """`--events PATH`: the ingest's events as JSON Lines."""


class IngestCancelledError(jobs.Cancelled):
    """The ingest was cancelled; the workspace is as it was before it started."""

    def __init__(self, run: str = "") -> None:
        self.run = run
        super().__init__(f"ingest of {run or 'the run'} cancelled; the workspace is unchanged")


class IngestCancelToken(jobs.CancelToken):
    """A token whose `check()` raises `IngestCancelledError`."""

    error: ClassVar[type[jobs.Cancelled]] = IngestCancelledError


@dataclass(frozen=True)
class IngestRequest:
    """A run to read into a workspace: the arguments of `ingest_run` as one value a face
    builds (`options` left unset are those of the run's earlier ingest)."""

    run: Path
    workspace: Workspace
    fmt: str = "auto"
    options: IngestOptions | None = None
    force: bool = False
    append: bool = True


class IngestJob(jobs.Job[IngestEvent, IngestResult]):
    """A running (or finished) ingest: its events, `cancel()` and `wait()`."""

    what: ClassVar[str] = "ingest"
    token: ClassVar[type[jobs.CancelToken]] = IngestCancelToken


class _Rows:
    """Counts the rows read and says so on the stream; checks for a cancel between batches."""

    def __init__(self, stream: jobs.LabelledStream[IngestEvent], cancel: jobs.CancelToken) -> None:
        self.stream, self.cancel, self.rows = stream, cancel, 0

    def __call__(self, rows: int) -> None:
        self.cancel.check()
        self.rows += rows
        self.stream(RowsRead(rows=self.rows))


def run_ingest(
    request: IngestRequest,
    on_event: IngestEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> IngestResult:
    """Ingest (or reuse) the run `request` names, in this thread; its events go to
    `on_event`. Cancelled, it says so on the stream and raises `IngestCancelledError`."""
    stream: jobs.LabelledStream[IngestEvent] = jobs.LabelledStream(
        "run", str(request.run), on_event
    )
    rows = _Rows(stream, IngestCancelToken(cancel))
    stream(IngestStarted(format=request.fmt, force=request.force))
    try:
        result = ingest_run(
            request.run,
            request.workspace,
            fmt=request.fmt,
            options=request.options,
            force=request.force,
            on_progress=rows,
            append=request.append,
        )
    except jobs.Cancelled:
        stream(IngestCancelled(rows=rows.rows))
        raise IngestCancelledError(str(request.run)) from None
    except Exception as exc:
        stream(IngestFailed(error=type(exc).__name__, message=str(exc)))
        raise
    stream(
        IngestFinished(
            database=str(result.db_path),
            reused=result.reused,
            appended=result.appended,
            added_samples=result.added_samples,
            skipped_lines=len(result.skipped),
            notes=result.notes,
        )
    )
    return result


def start_ingest(
    request: IngestRequest,
    on_event: IngestEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> IngestJob:
    """Start an ingest in a thread of its own and return its job (`jobs.start_job`)."""
    return jobs.start_job(
        IngestJob(cancel), lambda publish, token: run_ingest(request, publish, token), on_event
    )
