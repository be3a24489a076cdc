"""Investigations as jobs a face can start, watch, cancel and wait for (the model is
inspect_scout's `scan()` / `scan_resume()`): `start_investigation` runs one in a thread and
returns its handle; the blocking `investigate` runs the same code in the caller's thread.

    handle = start_investigation(workspace, InvestigationRequest(run=..., symptom=...))
    for event in handle.events():      # ends when the job ends
        ...
    outcome = handle.wait()            # the Outcome, or the job's error (JobCancelled, ...)
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator

from rootcause.investigate.cancel import CancelToken
from rootcause.investigate.events import EventSink, InvestigationEvent, InvestigationStarted
from rootcause.investigate.job import InvestigationRequest, Outcome, run_investigation
from rootcause.store.workspace import Workspace

logger = logging.getLogger(__name__)


class InvestigationHandle:
    """A running (or finished) investigation: its events, so far and to come, `cancel()`,
    and `wait()` for its outcome. Safe to use from any thread."""

    def __init__(self, cancel: CancelToken | None = None) -> None:
        self._events: list[InvestigationEvent] = []
        self._subscribers: list[EventSink] = []
        # Held while events are handed out, so a late subscriber's replay and the live events
        # reach it in order, never interleaved.
        self._delivering = threading.RLock()
        self._changed = threading.Condition()
        self._done = False
        self._outcome: Outcome | None = None
        self._error: BaseException | None = None
        self._cancel = cancel or CancelToken()
        self._thread: threading.Thread | None = None

    # -- the job's side ---------------------------------------------------------------------
    def _publish(self, event: InvestigationEvent) -> None:
        with self._delivering:
            with self._changed:
                self._events.append(event)
                self._changed.notify_all()
            for subscriber in list(self._subscribers):
                _deliver(subscriber, event)

    def _finish(self, outcome: Outcome | None, error: BaseException | None) -> None:
        with self._changed:
            self._outcome, self._error, self._done = outcome, error, True
            self._changed.notify_all()

    # -- the face's side --------------------------------------------------------------------
    @property
    def id(self) -> str | None:
        """The investigation's id, once the job has it (after the run is ingested; on a resume
        at once); None before that or if the job failed first."""
        started = next((e for e in self._events if isinstance(e, InvestigationStarted)), None)
        return started.investigation if started else None

    @property
    def done(self) -> bool:
        return self._done

    def subscribe(self, callback: EventSink) -> None:
        """Call `callback` with every event: those already emitted now, the rest as they come
        (in the job's thread)."""
        with self._delivering:
            for event in list(self._events):
                _deliver(callback, event)
            self._subscribers.append(callback)

    def events(self, timeout: float | None = None) -> Iterator[InvestigationEvent]:
        """Every event from the first, as they come; ends when the job ends (or after waiting
        `timeout` seconds for the next one)."""
        seen = 0
        while True:
            more = functools.partial(self._more, seen)
            with self._changed:
                arrived = self._changed.wait_for(more, timeout)
                batch = self._events[seen:]
                finished = self._done
            if not arrived:
                return
            yield from batch
            seen += len(batch)
            if finished and not batch:
                return

    def _more(self, seen: int) -> bool:
        return len(self._events) > seen or self._done

    def cancel(self) -> None:
        """Ask the job to stop at its next step, tool call or model turn; it keeps its
        checkpoint and resumes with `--resume ID`."""
        self._cancel.cancel()

    def wait(self, timeout: float | None = None) -> Outcome:
        """The job's outcome once it ends; raises its error (`JobCancelled` when cancelled),
        or `TimeoutError` if it is still running after `timeout` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._done, timeout):
                raise TimeoutError("the investigation is still running")
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome


def _deliver(subscriber: EventSink, event: InvestigationEvent) -> None:
    try:
        subscriber(event)
    except Exception:  # a face's bug must not stop the job
        logger.exception("an event subscriber failed on %s", event.type)


def start_investigation(
    workspace: Workspace,
    request: InvestigationRequest,
    on_event: EventSink | None = None,
    cancel: CancelToken | None = None,
) -> InvestigationHandle:
    """Start (or resume) an investigation in a thread of its own and return its handle.
    `on_event`, if given, is subscribed before the job starts; `cancel`, if given, is the
    token `handle.cancel()` sets (one token can stop many jobs)."""
    handle = InvestigationHandle(cancel)
    if on_event is not None:
        handle.subscribe(on_event)

    def job() -> None:
        try:
            outcome = run_investigation(workspace, request, handle._publish, handle._cancel)
        except BaseException as exc:  # handed to wait(); the thread itself ends quietly
            handle._finish(None, exc)
        else:
            handle._finish(outcome, None)

    handle._thread = threading.Thread(target=job, name="rootcause-investigation", daemon=True)
    handle._thread.start()
    return handle
