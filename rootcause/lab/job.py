"""A lab run (a new seeded run, or a rerun with a fix) as a job of the seam
(`rootcause.core.jobs`): a request in, typed events out, a `RunResult` at the end.

    job = start_lab(NewRunRequest("persona_reward_quirk", 1, Path("runs/r1"), Path("r1.key")))
    job.subscribe(print)        # lab_started, steps_simulated ..., lab_finished
    result = job.wait()         # or LabCancelledError after job.cancel()

A lab run writes into a folder that was new or empty; cancelled or failed, what it wrote there
is removed, so the folder is as it was and the same command can run again.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, TypeAdapter

from rootcause.core import jobs
from rootcause.lab.api import RunResult, new_run, rerun


class _Event(BaseModel):
    """Fields every event has; the stream fills them in when the event is emitted."""

    run_dir: str = Field("", description="The run folder being written.")
    seq: int = Field(0, description="Order of the event in this stream, from 1.")
    at: str = Field("", description="When it was emitted (ISO 8601, UTC).")


class LabStarted(_Event):
    type: Literal["lab_started"] = "lab_started"
    kind: Literal["new", "rerun"]
    bug: str = Field("", description="The seeded bug (a rerun reads it from its key).")


class StepsSimulated(_Event):
    type: Literal["steps_simulated"] = "steps_simulated"
    done: int
    total: int


class LabFinished(_Event):
    type: Literal["lab_finished"] = "lab_finished"
    samples: int
    seconds: float
    rate_before: float | None
    rate_after: float | None


class LabFailed(_Event):
    type: Literal["lab_failed"] = "lab_failed"
    error: str = Field(description="The error's kind.")
    message: str


class LabCancelled(_Event):
    type: Literal["lab_cancelled"] = "lab_cancelled"
    done: int = Field(description="Steps simulated before it stopped (none of them kept).")


LabEvent = Annotated[
    LabStarted | StepsSimulated | LabFinished | LabFailed | LabCancelled,
    Field(discriminator="type"),
]
LabEventSink = jobs.Sink[LabEvent]
_ADAPTER: TypeAdapter[LabEvent] = TypeAdapter(LabEvent)


def parse_lab_event(data: str | bytes | dict[str, Any]) -> LabEvent:
    """An event from one JSON line (or its parsed object)."""
    return jobs.parse_with(_ADAPTER, data)


class LabEventWriter(jobs.JsonlEventWriter[LabEvent]):
    """`--events PATH`: the lab run's events as JSON Lines."""


class LabCancelledError(jobs.Cancelled):
    """The lab run was cancelled; what it had written was removed."""

    def __init__(self, run_dir: str = "") -> None:
        self.run_dir = run_dir
        super().__init__(f"lab run {run_dir or ''} cancelled; nothing of it was kept".strip())


class LabCancelToken(jobs.CancelToken):
    """A token whose `check()` raises `LabCancelledError`."""

    error: ClassVar[type[jobs.Cancelled]] = LabCancelledError


@dataclass(frozen=True)
class NewRunRequest:
    """`rootcause lab new`: a run with `bug` seeded, its answer key written apart."""

    bug: str
    seed: int
    out_dir: Path
    answer_key: Path
    steps: int = 200
    groups: int = 32
    group_size: int = 8
    samples_format: str = "jsonl.gz"
    plant_injections: bool = False


@dataclass(frozen=True)
class RerunRequest:
    """`rootcause lab rerun`: the keyed run simulated again with `fix` applied."""

    answer_key: Path
    fix: Path
    out_dir: Path


LabRequest = NewRunRequest | RerunRequest


class LabJob(jobs.Job[LabEvent, RunResult]):
    """A running (or finished) lab run: its events, `cancel()` and `wait()`."""

    what: ClassVar[str] = "lab run"
    token: ClassVar[type[jobs.CancelToken]] = LabCancelToken


class _Steps:
    """Says how far the simulation got; checks for a cancel between steps."""

    def __init__(self, stream: jobs.LabelledStream[LabEvent], cancel: jobs.CancelToken) -> None:
        self.stream, self.cancel, self.done = stream, cancel, 0

    def __call__(self, done: int, total: int) -> None:
        self.cancel.check()
        self.done = done
        self.stream(StepsSimulated(done=done, total=total))


def _simulate(request: LabRequest, steps: _Steps) -> RunResult:
    if isinstance(request, RerunRequest):
        return rerun(request.answer_key, request.fix, request.out_dir, steps)
    return new_run(
        request.bug,
        request.seed,
        request.out_dir,
        request.answer_key,
        request.steps,
        request.groups,
        request.group_size,
        request.samples_format,
        steps,
        plant_injections=request.plant_injections,
    )


def _remove_written(out: Path, existed: bool) -> None:
    """Remove what a stopped run wrote into `out` (new or empty when it started)."""
    if not out.is_dir():
        return
    if not existed:
        shutil.rmtree(out, ignore_errors=True)
        return
    for child in out.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def run_lab(
    request: LabRequest,
    on_event: LabEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> RunResult:
    """Write the lab run `request` asks for, in this thread; its events go to `on_event`.
    Cancelled or failed after it began writing, it removes what it wrote and says so."""
    out = request.out_dir.expanduser().resolve()
    stream: jobs.LabelledStream[LabEvent] = jobs.LabelledStream("run_dir", str(out), on_event)
    steps = _Steps(stream, LabCancelToken(cancel))
    bug = request.bug if isinstance(request, NewRunRequest) else ""
    kind: Literal["new", "rerun"] = "new" if isinstance(request, NewRunRequest) else "rerun"
    existed = out.exists()
    fresh = not existed or (out.is_dir() and not any(out.iterdir()))
    stream(LabStarted(kind=kind, bug=bug))
    try:
        result = _simulate(request, steps)
    except jobs.Cancelled:
        if fresh:
            _remove_written(out, existed)
        stream(LabCancelled(done=steps.done))
        raise LabCancelledError(str(out)) from None
    except Exception as exc:
        if fresh:
            _remove_written(out, existed)
        stream(LabFailed(error=type(exc).__name__, message=str(exc)))
        raise
    stream(
        LabFinished(
            samples=result.samples,
            seconds=result.seconds,
            rate_before=result.rate_before,
            rate_after=result.rate_after,
        )
    )
    return result


def start_lab(
    request: LabRequest,
    on_event: LabEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> LabJob:
    """Start a lab run in a thread of its own and return its job (`jobs.start_job`)."""
    return jobs.start_job(
        LabJob(cancel), lambda publish, token: run_lab(request, publish, token), on_event
    )
