"""A scan as a job of the seam (`rootcause.core.jobs`): a `ScanRequest` in, typed events
(`rootcause.scan.events`) out, a `ScanResult` at the end.

    job = start_scan(ScanRequest(runs=["runs/*"], workspace=Workspace.resolve()))
    job.subscribe(print)            # scan_started, run_started, alert, run_finished, ...
    result = job.wait()             # or ScanCancelledError after job.cancel()

`run_scan` runs the same work in the caller's thread; `scan()` and `scan_resume()` are that,
with their arguments as before and progress as `ScanProgress` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from rootcause.core import jobs
from rootcause.core.errors import BadInputError
from rootcause.scan.events import (
    RunFinished,
    ScanCancelled,
    ScanEvent,
    ScanEventSink,
    ScanEventStream,
    ScanFailed,
    ScanStarted,
)
from rootcause.scan.executors import make_executor
from rootcause.scan.folder import ScanFolder
from rootcause.scan.model import CheckOptions
from rootcause.scan.runner import (
    ProgressFn,
    ScanProgress,
    ScanResult,
    execute,
    new_scan_folder,
    new_spec,
)
from rootcause.store.workspace import Workspace


class ScanCancelledError(jobs.Cancelled):
    """The scan was cancelled; its finished runs are kept and `--resume FOLDER` scans the
    rest."""

    def __init__(self, folder: str = "") -> None:
        self.folder = folder
        hint = f"; continue with --resume {folder}" if folder else ""
        super().__init__(f"scan {folder or '(not started)'} cancelled{hint}")


class ScanCancelToken(jobs.CancelToken):
    """A token whose `check()` raises `ScanCancelledError`."""

    error: ClassVar[type[jobs.Cancelled]] = ScanCancelledError


@dataclass(frozen=True)
class ScanRequest:
    """What to scan and how: the arguments of `rootcause scan`, as one value a face builds.

    A new scan takes `runs` (paths or globs) and a `workspace`; `options` are the checks
    (default: the default checks); `out` is its folder (default a new one under
    `<workspace>/scans/`); `reuse` False scans every run again. `resume` continues the scan in
    that folder instead (its stored spec says what to scan; no runs are given). `workers`,
    `ray` and `ray_address` say where runs are scanned (None: cores, or for a resume, as
    stored)."""

    runs: list[str] = field(default_factory=list)
    workspace: Workspace | None = None
    options: CheckOptions | None = None
    out: Path | None = None
    resume: Path | None = None
    workers: int | None = None
    ray: bool | None = None
    ray_address: str | None = None
    reuse: bool = True

    def planned(self) -> ScanRequest:
        """The request checked, with its folder named (a new folder under the workspace if
        none was given), so a face can say where the scan is before it starts."""
        if self.resume is not None and self.runs:
            raise BadInputError("--resume DIR takes no runs: it scans the runs of its spec")
        if self.resume is None and not self.runs:
            raise BadInputError("give at least one run, or --resume DIR")
        if self.resume is not None or self.out is not None:
            return self
        if self.workspace is None:
            raise BadInputError("a new scan needs a workspace")
        return replace(self, out=new_scan_folder(self.workspace))

    def folder(self) -> Path:
        """The scan's folder, once `planned`."""
        chosen = self.resume or self.out
        assert chosen is not None, "plan the request first"
        return chosen.expanduser().resolve()


class ScanJob(jobs.Job[ScanEvent, ScanResult]):
    """A running (or finished) scan: its events, `cancel()` (no run is handed out after it;
    the runs under way finish and are kept) and `wait()` for its result."""

    what: ClassVar[str] = "scan"
    token: ClassVar[type[jobs.CancelToken]] = ScanCancelToken


def run_scan(
    request: ScanRequest,
    on_event: ScanEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> ScanResult:
    """Run (or resume) the scan `request` asks for, in this thread; its events go to
    `on_event`. Cancelled (`cancel`, or Ctrl-C in this thread), it says so on the stream and
    raises `ScanCancelledError` (or the `KeyboardInterrupt`)."""
    stream = ScanEventStream(on_event)
    tally = _Tally()
    stream.subscribe(tally)
    token = ScanCancelToken(cancel)
    try:
        planned = request.planned()
        if planned.resume is not None:
            return _resume(planned, stream, token)
        return _new(planned, stream, token)
    except (jobs.Cancelled, KeyboardInterrupt) as exc:
        folder = stream.folder
        stream(ScanCancelled(done=tally.done, total=tally.total, resume=folder))
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ScanCancelledError(folder) from None
    except Exception as exc:
        stream(ScanFailed(error=type(exc).__name__, message=str(exc)))
        raise


class _Tally:
    """How far the scan got: runs finished (and kept) of its total."""

    def __init__(self) -> None:
        self.done = self.total = 0

    def __call__(self, event: ScanEvent) -> None:
        if isinstance(event, ScanStarted):
            self.total = event.runs
        elif isinstance(event, RunFinished):
            self.done = event.done


def _new(request: ScanRequest, stream: ScanEventStream, cancel: jobs.CancelToken) -> ScanResult:
    assert request.workspace is not None
    folder = request.folder()
    options = request.options or CheckOptions()
    executor_args = (request.workers, bool(request.ray), request.ray_address)
    spec = new_spec(request.runs, request.workspace, options, folder, executor_args)
    executor = make_executor(*executor_args)
    with ScanFolder(folder) as locked:
        stream.folder = str(folder)
        locked.write_spec(spec)
        return execute(locked, spec, executor, stream, cancel, request.reuse)


def _resume(request: ScanRequest, stream: ScanEventStream, cancel: jobs.CancelToken) -> ScanResult:
    with ScanFolder(request.folder()) as locked:
        spec = locked.read_spec()
        stream.folder = str(locked.path)
        executor = make_executor(
            request.workers if request.workers is not None else spec.workers,
            spec.ray if request.ray is None else request.ray,
            request.ray_address if request.ray_address is not None else spec.ray_address,
        )
        return execute(locked, spec, executor, stream, cancel, resumed=True)


def start_scan(
    request: ScanRequest,
    on_event: ScanEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> ScanJob:
    """Start (or resume) a scan in a thread of its own and return its job. `on_event`, if
    given, is subscribed before the scan starts; `cancel`, if given, is set with
    `job.cancel()`."""
    return jobs.start_job(
        ScanJob(cancel), lambda publish, token: run_scan(request, publish, token), on_event
    )


class _Progress:
    """A scan's events as the `ScanProgress` values `scan(on_progress=...)` has always given:
    one once the reused runs are counted, then one per run scanned, with its result."""

    def __init__(self, tick: ProgressFn) -> None:
        self.tick = tick
        self.reused = 0

    def __call__(self, event: ScanEvent) -> None:
        if isinstance(event, ScanStarted):
            self.reused = event.reused
            if not event.reused:
                self.tick(ScanProgress(0, event.runs, 0, 0))
        elif isinstance(event, RunFinished):
            counts = (event.done, event.total, event.alerts_total, event.errors_total)
            if not event.reused:
                self.tick(ScanProgress(*counts, event.result))
            elif event.done == self.reused:
                self.tick(ScanProgress(*counts))


def scan(
    patterns: list[str],
    workspace: Workspace,
    options: CheckOptions | None = None,
    out: Path | None = None,
    workers: int | None = None,
    ray: bool = False,
    ray_address: str | None = None,
    on_progress: ProgressFn | None = None,
    reuse: bool = True,
) -> ScanResult:
    """Scan every run the patterns match; results go to `out` (default a new folder under
    `<workspace>/scans/`). A run whose earlier result (in `out` or the workspace's cache) has
    the same inputs, checks and tool versions is reused unless `reuse` is False. (The
    request-and-events form is `run_scan` / `start_scan`.)"""
    request = ScanRequest(
        runs=list(patterns),
        workspace=workspace,
        options=options,
        out=out,
        workers=workers,
        ray=ray,
        ray_address=ray_address,
        reuse=reuse,
    )
    return run_scan(request, None if on_progress is None else _Progress(on_progress))


def scan_resume(
    folder_path: Path,
    workers: int | None = None,
    ray: bool | None = None,
    ray_address: str | None = None,
    on_progress: ProgressFn | None = None,
) -> ScanResult:
    """Continue the scan in `folder_path` (killed or finished): its finished runs are kept,
    the rest scanned with the stored spec (executor options given here replace the stored)."""
    request = ScanRequest(resume=folder_path, workers=workers, ray=ray, ray_address=ray_address)
    return run_scan(request, None if on_progress is None else _Progress(on_progress))
