"""The job seam: long work (an investigation, a scan, an eval) as a `Job[Event, Result]` a face
can start, watch, cancel and wait for, whatever the work is.

    job = start_scan(ScanRequest(...))         # or start_investigation, start_eval
    job.subscribe(progress)                    # every event so far, then each as it comes
    for event in job.events(): ...             # the same, as an iterator; ends with the job
    job.cancel()                               # the work stops at its next check point
    result = job.wait()                        # the result, or the job's error

Each kind of work defines its typed events (pydantic models tagged by `type`, with `seq` and
`at` stamped by an `EventStream` as they are emitted), a request object, and a subclass of
`Job`; `Job.start` runs the work in a thread of its own, and the blocking library call
(`investigate`, `scan`, `run_suite`) runs the same work in the caller's thread. `--events PATH`
is a `JsonlEventWriter` subscribed to the job: one event per line, flushed as it happens, so
`tail -f` and other programs can follow it. It is a live stream, so it is written in place
(not through a temporary file like the job's results).

A subscriber that raises is logged and the job goes on: a face's bug must not stop the work.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from rootcause.core.errors import BadInputError, RootcauseError

if TYPE_CHECKING:
    from pydantic import TypeAdapter

logger = logging.getLogger(__name__)

#: The conventional exit status of a program stopped by Ctrl-C (128 + SIGINT).
EXIT_CANCELLED = 130


class JobEvent(Protocol):
    """What the seam needs of an event: its tag, its order and time (stamped when emitted)
    and its JSON form. Each kind's events are pydantic models with these fields."""

    @property
    def type(self) -> str: ...

    seq: int
    at: str

    def model_dump_json(self) -> str: ...


EventT = TypeVar("EventT", bound=JobEvent)
ResultT = TypeVar("ResultT")
Sink = Callable[[EventT], None]


class Cancelled(RootcauseError):
    """A job was cancelled (exit 130); each kind says how to continue it."""

    exit_code = EXIT_CANCELLED


class CancelToken:
    """Set once by whoever cancels (a face, a signal handler); checked by the job between its
    steps. `check()` raises the token's `error` (a kind of work may use its own subclass of
    `Cancelled`); `sharing` gives a token of another kind that is set with this one."""

    error: ClassVar[type[Cancelled]] = Cancelled

    def __init__(self, shared: CancelToken | None = None) -> None:
        self._event: threading.Event = shared._event if shared is not None else threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise the token's error if the job was cancelled (the job fills in where)."""
        if self._event.is_set():
            raise self.error()


def parse_with(adapter: TypeAdapter[EventT], data: str | bytes | dict[str, Any]) -> EventT:
    """An event of a kind's union (its `adapter`) from one JSON line or its parsed object."""
    if isinstance(data, dict):
        return adapter.validate_python(data)
    return adapter.validate_json(data)


def deliver(subscriber: Callable[[EventT], None], event: EventT) -> None:
    """Hand `event` to one subscriber; its failure is logged, never raised into the job."""
    try:
        subscriber(event)
    except Exception:  # a face's bug must not stop the job
        logger.exception("an event subscriber failed on %s", event.type)


class EventStream(Generic[EventT]):
    """Stamps events with their order and time (and, through `label`, the job's id) and hands
    them to the subscribers in order."""

    def __init__(self, *subscribers: Callable[[EventT], None] | None) -> None:
        self._subscribers = [s for s in subscribers if s is not None]
        self._seq = 0
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Callable[[EventT], None]) -> None:
        self._subscribers.append(subscriber)

    def label(self, event: EventT) -> None:
        """Fill in the job's id on `event` (each kind names its id field)."""

    def __call__(self, event: EventT) -> None:
        with self._lock:
            self._seq += 1
            self.label(event)
            event.seq = self._seq
            event.at = datetime.now(UTC).isoformat(timespec="milliseconds")
            for subscriber in self._subscribers:
                deliver(subscriber, event)


class LabelledStream(EventStream[EventT]):
    """A stream that fills in each event's job field (`field`: "run", "database", ...) with
    `value` where the event left it empty: the one label of a kind whose job is one value."""

    def __init__(self, field: str, value: str, *subscribers: Callable[[EventT], None] | None):
        super().__init__(*subscribers)
        self.field, self.value = field, value

    def label(self, event: EventT) -> None:
        if not getattr(event, self.field):
            setattr(event, self.field, self.value)


class Job(Generic[EventT, ResultT]):
    """A running (or finished) job: its events, so far and to come, `cancel()`, and `wait()`
    for its result. Safe to use from any thread."""

    #: What the job is called in messages ("the scan is still running").
    what: ClassVar[str] = "job"
    #: The cancel token type this kind of work checks.
    token: ClassVar[type[CancelToken]] = CancelToken

    def __init__(self, cancel: CancelToken | None = None) -> None:
        self._events: list[EventT] = []
        self._subscribers: list[Callable[[EventT], None]] = []
        # Held while events are handed out, so a late subscriber's replay and the live events
        # reach it in order, never interleaved.
        self._delivering = threading.RLock()
        self._changed = threading.Condition()
        self._done = False
        self._result: ResultT | None = None
        self._error: BaseException | None = None
        self._cancel = self.token(cancel) if cancel is not None else self.token()
        self._thread: threading.Thread | None = None

    # -- the job's side ---------------------------------------------------------------------
    def _publish(self, event: EventT) -> None:
        with self._delivering:
            with self._changed:
                self._events.append(event)
                self._changed.notify_all()
            for subscriber in list(self._subscribers):
                deliver(subscriber, event)

    def _finish(self, result: ResultT | None, error: BaseException | None) -> None:
        with self._changed:
            self._result, self._error, self._done = result, error, True
            self._changed.notify_all()

    def start(self, work: Callable[[Sink[EventT], CancelToken], ResultT]) -> None:
        """Run `work(publish, cancel)` in a thread of its own; its result or error is what
        `wait()` gives."""

        def run() -> None:
            try:
                result = work(self._publish, self._cancel)
            except BaseException as exc:  # handed to wait(); the thread itself ends quietly
                self._finish(None, exc)
            else:
                self._finish(result, None)

        self._thread = threading.Thread(target=run, name=f"rootcause-{self.what}", daemon=True)
        self._thread.start()

    # -- the face's side --------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._done

    @property
    def cancelled(self) -> bool:
        """Whether `cancel()` was called (the job may still be stopping)."""
        return self._cancel.cancelled

    def subscribe(self, callback: Callable[[EventT], None]) -> None:
        """Call `callback` with every event: those already emitted now, the rest as they come
        (in the job's thread)."""
        with self._delivering:
            for event in list(self._events):
                deliver(callback, event)
            self._subscribers.append(callback)

    def events(self, timeout: float | None = None) -> Iterator[EventT]:
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
        """Ask the job to stop at its next check point."""
        self._cancel.cancel()

    def wait(self, timeout: float | None = None) -> ResultT:
        """The job's result once it ends; raises its error (a `Cancelled` when cancelled), or
        `TimeoutError` if it is still running after `timeout` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._done, timeout):
                raise TimeoutError(f"the {self.what} is still running")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


JobT = TypeVar("JobT", bound="Job[Any, Any]")


def start_job(
    job: JobT,
    work: Callable[[Sink[Any], CancelToken], Any],
    on_event: Callable[[Any], None] | None = None,
) -> JobT:
    """Start `work(publish, cancel)` as `job` in a thread of its own and return the job;
    `on_event`, if given, is subscribed first, so it sees every event. Each kind's `start_X`
    is this with its job type and its work."""
    if on_event is not None:
        job.subscribe(on_event)
    job.start(work)
    return job


class JsonlEventWriter(Generic[EventT]):
    """Writes each event as one JSON line to `path`, flushed per event. The file is opened
    (and truncated) at the first event `opens_at` accepts (default: the first event), so a job
    refused before it started writes nothing; its folder is created then."""

    def __init__(self, path: Path, opens_at: Callable[[EventT], bool] | None = None) -> None:
        self.path = path
        self._opens_at = opens_at
        self._out: IO[str] | None = None

    def __call__(self, event: EventT) -> None:
        if self._out is None:
            if self._opens_at is not None and not self._opens_at(event):
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = self.path.open("w", encoding="utf-8")
        self._out.write(event.model_dump_json() + "\n")
        self._out.flush()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def check_events_path(path: Path, option: str = "--events") -> Path:
    """Refuse, before a job starts, an events file that cannot be written: a folder, a file
    that is not writable, or a place under a file or an unwritable folder. Nothing is created
    or truncated here (the writer does that when the job starts). One line, exit 2."""
    target = path.expanduser()
    if target.is_dir():
        raise BadInputError(f"{option} {path}: is a folder; give a file")
    if target.exists():
        if not os.access(target, os.W_OK):
            raise BadInputError(f"{option} {path}: cannot write it (permission denied)")
        return target
    parent = target.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise BadInputError(f"{option} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadInputError(f"{option} {path}: cannot write in {parent} (permission denied)")
    return target
