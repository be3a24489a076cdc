"""Investigations as jobs a face can start, watch, cancel and wait for (the model is
inspect_scout's `scan()` / `scan_resume()`): `start_investigation` runs one in a thread and
returns its handle, a `Job` of the seam every long task shares (`rootcause.core.jobs`); the
blocking `investigate` runs the same code in the caller's thread.

    handle = start_investigation(workspace, InvestigationRequest(run=..., symptom=...))
    for event in handle.events():      # ends when the job ends
        ...
    outcome = handle.wait()            # the Outcome, or the job's error (JobCancelled, ...)
"""

from __future__ import annotations

import logging
from typing import ClassVar

from rootcause.core import jobs
from rootcause.investigate.cancel import CancelToken
from rootcause.investigate.events import EventSink, InvestigationEvent, InvestigationStarted
from rootcause.investigate.job import InvestigationRequest, Outcome, run_investigation
from rootcause.store.workspace import Workspace

logger = logging.getLogger(__name__)


class InvestigationHandle(jobs.Job[InvestigationEvent, Outcome]):
    """A running (or finished) investigation: its events, so far and to come, `cancel()`
    (it stops at its next step, tool call or model turn, keeps its checkpoint and resumes with
    `--resume ID`), and `wait()` for its outcome (`JobCancelled` when cancelled). Safe to use
    from any thread."""

    what: ClassVar[str] = "investigation"
    token: ClassVar[type[jobs.CancelToken]] = CancelToken

    @property
    def id(self) -> str | None:
        """The investigation's id, once the job has it (after the run is ingested; on a resume
        at once); None before that or if the job failed first."""
        started = next((e for e in self._events if isinstance(e, InvestigationStarted)), None)
        return started.investigation if started else None


def start_investigation(
    workspace: Workspace,
    request: InvestigationRequest,
    on_event: EventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> InvestigationHandle:
    """Start (or resume) an investigation in a thread of its own and return its handle.
    `on_event`, if given, is subscribed before the job starts; `cancel`, if given, is set
    with `handle.cancel()` (one token can stop many jobs)."""
    handle = InvestigationHandle(cancel)
    if on_event is not None:
        handle.subscribe(on_event)
    handle.start(lambda publish, token: run_investigation(workspace, request, publish, token))
    return handle
