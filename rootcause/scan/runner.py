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
from rootcause.scan.executors import Executor, make_executor
from rootcause.scan.folder import ScanFolder, cache_path, read_result, write_atomic
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


def _execute(
    folder: ScanFolder,
    spec: ScanSpec,
    executor: Executor,
    on_progress: ProgressFn | None,
    reuse: bool = True,
) -> ScanResult:
    """Reuse what is unchanged, scan the rest, write each result as it arrives, then the
    table. Holds the folder's lock throughout."""
    t0 = time.perf_counter()
    tick = on_progress or (lambda _: None)
    workspace = Path(spec.workspace)
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
        cached = cache_path(workspace, run, spec.options.key())
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
    counts = {"alerts": sum(r.alert_count() for r in results.values()), "errors": 0}
    tick(ScanProgress(len(results), len(spec.runs), counts["alerts"], 0))
    for result in executor.run(scan_run, tasks):
        folder.write_result(result)
        if result.status == "ok":
            cached = cache_path(workspace, result.run, spec.options.key())
            write_atomic(cached, result.model_dump_json().encode())
        results[result.run] = result
        counts["alerts"] += result.alert_count()
        counts["errors"] += result.status == "error"
        tick(ScanProgress(len(results), len(spec.runs), counts["alerts"], counts["errors"], result))
    ordered = [results[run] for run in spec.runs]
    summary = _summary(ordered, time.perf_counter() - t0, executor.name)
    folder.write_table(ordered, summary)
    return ScanResult(folder.path, spec, ordered, summary)


def new_scan_folder(workspace: Workspace) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return workspace.root / "scans" / f"{stamp}-{uuid.uuid4().hex[:6]}"


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
    the same inputs, checks and tool versions is reused unless `reuse` is False."""
    chosen = options or CheckOptions()
    check_options(chosen)
    runs = expand_runs(patterns)
    folder_path = (out or new_scan_folder(workspace)).expanduser().resolve()
    guard_output(folder_path, [Path(r) for r in runs if Path(r).is_dir()], "--out")
    spec = ScanSpec(
        patterns=patterns,
        runs=runs,
        options=chosen,
        workers=workers,
        ray=ray,
        ray_address=ray_address,
        workspace=str(workspace.root),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    executor = make_executor(workers, ray, ray_address)
    with ScanFolder(folder_path) as folder:
        folder.write_spec(spec)
        return _execute(folder, spec, executor, on_progress, reuse)


def scan_resume(
    folder_path: Path,
    workers: int | None = None,
    ray: bool | None = None,
    ray_address: str | None = None,
    on_progress: ProgressFn | None = None,
) -> ScanResult:
    """Continue the scan in `folder_path` (killed or finished): its finished runs are kept,
    the rest scanned with the stored spec (executor options given here replace the stored)."""
    with ScanFolder(folder_path.expanduser().resolve()) as folder:
        spec = folder.read_spec()
        use_ray = spec.ray if ray is None else ray
        executor = make_executor(
            workers if workers is not None else spec.workers,
            use_ray,
            ray_address if ray_address is not None else spec.ray_address,
        )
        return _execute(folder, spec, executor, on_progress)


def check_options(options: CheckOptions) -> None:
    """Refuse what would fail in every run alike: an unparsable behaviour spec."""
    from rootcause.tools.behavior import parse_behavior

    for spec in options.behaviors:
        parse_behavior(spec)
    from rootcause.scan.checks import load_checks

    needing = [n for n, c in load_checks().items() if c.per_behavior and n in options.checks]
    if needing and not options.behaviors:
        raise BadInputError(f"--check {needing[0]} needs at least one --behavior SPEC")
