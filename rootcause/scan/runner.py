"""`scan` and `scan_resume`: plan the runs, reuse what is unchanged, dispatch the rest to an
executor, write each result as it comes back, then the table.

A run is reused (not scanned again) when an earlier result for it, in the scan folder or the
workspace's cache, was made with the same check options and tool versions from inputs with
the same fingerprint. Runs that failed are always scanned again.
"""

from __future__ import annotations

import glob
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rootcause.core.errors import BadInputError
from rootcause.core.jobs import CancelToken
from rootcause.scan.events import (
    RunFinished,
    RunStarted,
    ScanAlert,
    ScanEventSink,
    ScanFinished,
    ScanStarted,
)
from rootcause.scan.executors import Executor
from rootcause.scan.folder import (
    ALERTS_JSON,
    ALERTS_MARKDOWN,
    ScanFolder,
    cache_path,
    read_result,
    write_atomic,
)
from rootcause.scan.model import (
    Alert,
    CheckOptions,
    RunResult,
    RunTask,
    ScanSpec,
    ScanSummary,
    Severity,
    is_alert,
)
from rootcause.scan.task import input_fingerprint, scan_run, tool_versions
from rootcause.store.workspace import Workspace, guard_output

logger = logging.getLogger(__name__)

_GLOB = set("*?[")


@dataclass(frozen=True)
class ScanProgress:
    """`done` of `total` runs finished; `alerts` counted so far; `result` the run just done."""

    done: int
    total: int
    alerts: int
    errors: int
    result: RunResult | None = None


ProgressFn = Callable[[ScanProgress], None]


@dataclass
class ScanResult:
    """A finished scan: its folder, spec, every run's result and the summary."""

    folder: Path
    spec: ScanSpec
    results: list[RunResult]
    summary: ScanSummary

    @property
    def alerts(self) -> list[Alert]:
        return [a for r in self.results for a in r.alerts]

    def has_alert(self, threshold: Severity = "low") -> bool:
        return any(r.alert_count(threshold) for r in self.results)


def expand_runs(patterns: list[str]) -> list[str]:
    """Run paths from paths and globs, in order, each once; a pattern that names no path is
    kept (its run is recorded as broken), a glob that matches nothing is said in the log."""
    runs: list[str] = []
    for pattern in patterns:
        expanded = str(Path(pattern).expanduser())
        if _GLOB & set(pattern):
            matched = sorted(glob.glob(expanded))
            if not matched:
                logger.warning("%s matched no run", pattern)
            runs += [str(Path(m).resolve()) for m in matched]
        else:
            runs.append(str(Path(expanded).resolve()))
    unique = list(dict.fromkeys(runs))
    if not unique:
        raise BadInputError(f"no runs matched {' '.join(patterns)}")
    return unique


def _reusable(earlier: RunResult | None, task: RunTask) -> bool:
    return (
        earlier is not None
        and earlier.status == "ok"
        and task.fingerprint is not None
        and earlier.fingerprint == task.fingerprint
        and earlier.versions == task.versions
        and earlier.options_key == task.options.key()
    )


def _fingerprint(run: str, options: CheckOptions) -> str | None:
    try:
        return input_fingerprint(Path(run), options)
    except Exception:  # the worker meets the same failure and records it
        return None


def _summary(results: list[RunResult], seconds: float, executor: str) -> ScanSummary:
    by_severity: dict[str, int] = {}
    by_check: dict[str, int] = {}
    for alert in (a for r in results for a in r.alerts):
        by_severity[alert.severity] = by_severity.get(alert.severity, 0) + 1
        if is_alert(alert.severity):
            by_check[alert.check] = by_check.get(alert.check, 0) + 1
    return ScanSummary(
        runs=len(results),
        scanned=sum(1 for r in results if not r.reused),
        reused=sum(1 for r in results if r.reused),
        errors=sum(1 for r in results if r.status == "error"),
        alerts=sum(r.alert_count() for r in results),
        by_severity=by_severity,
        by_check=by_check,
        samples=sum(r.samples for r in results),
        seconds=seconds,
        executor=executor,
    )


class _Tally:
    """Counts as runs finish, and the `run_finished` event of each."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.alerts, self.errors = total, 0, 0, 0

    def finished(self, result: RunResult) -> RunFinished:
        self.done += 1
        self.alerts += result.alert_count()
        self.errors += result.status == "error"
        return RunFinished(
            run=result.run,
            run_id=result.run_id,
            status=result.status,
            error=result.error,
            reused=result.reused,
            alerts=result.alert_count(),
            samples=result.samples,
            seconds=result.seconds,
            done=self.done,
            total=self.total,
            alerts_total=self.alerts,
            errors_total=self.errors,
            result=result,
        )


def _plan(
    folder: ScanFolder, spec: ScanSpec, reuse: bool
) -> tuple[dict[str, RunResult], list[RunTask]]:
    """The earlier results to reuse (written into the folder) and the tasks to run."""
    versions = tool_versions()
    results: dict[str, RunResult] = {}
    tasks: list[RunTask] = []
    for run in spec.runs:
        task = RunTask(
            run=run,
            workspace=spec.workspace,
            options=spec.options,
            fingerprint=_fingerprint(run, spec.options),
            versions=versions,
        )
        cached = cache_path(Path(spec.workspace), run, spec.options.key())
        earlier = next(
            (r for r in (folder.read_result(run), read_result(cached)) if _reusable(r, task)),
            None,
        ) if reuse else None  # fmt: skip
        if earlier is None:
            tasks.append(task)
            continue
        earlier.reused = True
        results[run] = earlier
        folder.write_result(earlier)
    return results, tasks


def execute(
    folder: ScanFolder,
    spec: ScanSpec,
    executor: Executor,
    emit: ScanEventSink,
    cancel: CancelToken,
    reuse: bool = True,
    resumed: bool = False,
) -> ScanResult:
    """Reuse what is unchanged, scan the rest, write each result as it arrives, then the
    table; the events say so as it happens. Once `cancel` is set no run is handed out; the
    runs under way finish and are kept, and `cancel.check()` raises. Holds the folder's lock
    throughout (the caller's)."""
    t0 = time.perf_counter()
    results, tasks = _plan(folder, spec, reuse)
    emit(ScanStarted(resumed=resumed, runs=len(spec.runs), reused=len(results),
                     executor=executor.name, spec=spec))  # fmt: skip
    tally = _Tally(len(spec.runs))
    for run in spec.runs:
        if run in results:
            emit(tally.finished(results[run]))
    workspace = Path(spec.workspace)

    def started(task: RunTask) -> None:
        emit(RunStarted(run=task.run))

    for result in executor.run(scan_run, tasks, started, lambda: cancel.cancelled):
        folder.write_result(result)
        if result.status == "ok":
            cached = cache_path(workspace, result.run, spec.options.key())
            write_atomic(cached, result.model_dump_json().encode())
        results[result.run] = result
        for alert in result.alerts:
            emit(ScanAlert(alert=alert))
        emit(tally.finished(result))
    cancel.check()
    ordered = [results[run] for run in spec.runs]
    summary = _summary(ordered, time.perf_counter() - t0, executor.name)
    folder.write_table(ordered, summary)
    emit(ScanFinished(summary=summary, alerts_json=str(folder.path / ALERTS_JSON),
                      alerts_markdown=str(folder.path / ALERTS_MARKDOWN)))  # fmt: skip
    return ScanResult(folder.path, spec, ordered, summary)


def new_scan_folder(workspace: Workspace) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return workspace.root / "scans" / f"{stamp}-{uuid.uuid4().hex[:6]}"


def new_spec(
    patterns: list[str],
    workspace: Workspace,
    options: CheckOptions,
    folder: Path,
    executor: tuple[int | None, bool, str | None],
) -> ScanSpec:
    """The spec of a new scan: the runs the patterns match (checked), its options checked,
    the folder refused if it lies inside one of the runs."""
    check_options(options)
    runs = expand_runs(patterns)
    guard_output(folder, [Path(r) for r in runs if Path(r).is_dir()], "--out")
    workers, ray, ray_address = executor
    return ScanSpec(
        patterns=patterns,
        runs=runs,
        options=options,
        workers=workers,
        ray=ray,
        ray_address=ray_address,
        workspace=str(workspace.root),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )


def check_options(options: CheckOptions) -> None:
    """Refuse what would fail in every run alike: an unparsable behaviour spec."""
    from rootcause.behaviour.behavior import parse_behavior

    for spec in options.behaviors:
        parse_behavior(spec)
    from rootcause.scan.checks import load_checks

    needing = [n for n, c in load_checks().items() if c.per_behavior and n in options.checks]
    if needing and not options.behaviors:
        raise BadInputError(f"--check {needing[0]} needs at least one --behavior SPEC")
