"""The per-run task: one function, `scan_run`, that a process pool or Ray runs unchanged.

It ingests the run into the workspace (or reuses its DuckDB file: one file per run is the
shard, written through a temporary file by the ingest), runs the checks on it through a tool
context whose evidence stays in memory, and returns a `RunResult`. It never raises: a run that
cannot be read comes back with its one-line error, so the scan goes on.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import time
from pathlib import Path

import orjson

import rootcause
from rootcause.scan.checks import RunCheck, run_checks
from rootcause.scan.model import CheckOptions, RunResult, RunTask
from rootcause.store.ingest import IngestResult, ingest_run
from rootcause.store.options import IngestOptions
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import EvidenceLog, ToolContext

logger = logging.getLogger(__name__)

#: Packages whose code decides what a check finds: any change to them reruns every run.
_VERSIONED = ("scan", "tools", "analysis", "search", "history", "store")
#: Longest error kept for a run.
MAX_ERROR_CHARS = 500


def tool_versions() -> str:
    """A digest of the rootcause version and the source of every package a check runs through
    (so a rerun after an upgrade or a fix scans again)."""
    digest = hashlib.sha256(rootcause.__version__.encode())
    root = Path(rootcause.__file__).parent
    for package in _VERSIONED:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def input_fingerprint(run: Path, options: CheckOptions) -> str:
    """What identifies a run's inputs without reading them: its format, every input file's name,
    size and modification time (the overlay's `rootcause.yaml` among them), its deployments
    and config repo, and the ingest options. Raises what describing the run raises (a
    missing or unreadable run)."""
    from rootcause.store.formats import reader_for
    from rootcause.store.overlay import find_overlay

    path = run.expanduser().resolve()
    source = reader_for(path, options.fmt).describe(path)
    parts: list[object] = [source.format, str(source.root), options.skip_bad_lines]
    overlay = find_overlay(path, source.root)
    for file in [*source.files, *([] if overlay is None else [overlay])]:
        stat = file.stat()
        parts.append([str(file), stat.st_size, stat.st_mtime_ns])
    parts.append([[d.step, d.commit] for d in source.deployments])
    parts.append(None if source.config_repo is None else str(source.config_repo))
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()[:32]


def one_line(exc: BaseException) -> str:
    """An error as the one line a scan records."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    line = (
        first
        if type(exc).__name__ in first or _deliberate(exc)
        else f"{type(exc).__name__}: {first}"
    )
    return line[:MAX_ERROR_CHARS]


def _deliberate(exc: BaseException) -> bool:
    from rootcause.core.errors import RootcauseError

    return isinstance(exc, RootcauseError)


def ingest(task: RunTask) -> IngestResult:
    """Bring the run into the workspace as `ingest` does (its stored options unless given);
    a reused database comes back open (`IngestResult.open()`), as its state was read."""
    return ingest_run(
        Path(task.run),
        Workspace(Path(task.workspace)),
        fmt=task.options.fmt,
        options=IngestOptions(skip_bad_lines=task.options.skip_bad_lines),
        keep_open=True,
    )


def warm_up() -> float:
    """Import, once per process, what every run's checks need (the check modules with their
    tools, scipy.special for their statistics' distributions, pandas for pyarrow), so a
    worker reused across runs pays it once, as set-up, and not inside its first run's checks;
    the seconds it took (0 once done). Not scipy.stats (0.45 s): the default checks' tests
    take their distributions from scipy.special (`rootcause.analysis.distributions`)."""
    start = time.perf_counter()
    _imported()
    return time.perf_counter() - start


@functools.cache
def _imported() -> None:
    # pyarrow imports pandas, when it is installed, on an array's first `to_numpy`; pandas
    # is not a dependency of rootcause, and without it pyarrow goes without
    with contextlib.suppress(ImportError):
        import pandas  # noqa: F401
    from scipy import special  # noqa: F401  (the checks' tests of significance)

    from rootcause.scan.checks import load_checks

    load_checks()


def check_store(
    db_path: Path,
    run: str,
    options: CheckOptions,
    log: EvidenceLog | None = None,
    store: RunStore | None = None,
) -> RunResult:
    """Run the checks on an ingested run through one open store (`store`, closed here, or
    `db_path` opened); the result carries the alerts and the evidence they cite (recorded in
    `log` when given, so ids keep counting across calls, else in memory), and the seconds
    each check took."""
    log = log if log is not None else EvidenceLog()
    before = len(log.records)
    start = time.perf_counter()
    with store if store is not None else RunStore(db_path) as opened:
        run_id, notes = str(opened.info("run_id")), opened.notes()
        samples, first_step, steps = opened.sample_counts()
        open_s = time.perf_counter() - start
        workdir = db_path.parent / "scan-work"
        with ToolContext(opened, workdir, log, make_plots=False) as ctx:
            check = RunCheck(
                ctx=ctx, run=run, run_id=run_id, first_step=int(first_step or 0), options=options
            )
            alerts = run_checks(check)
    return RunResult(
        timings={"open": open_s, **check.seconds},
        run=run,
        run_id=run_id,
        status="ok",
        versions="",
        options_key=options.key(),
        samples=samples,
        steps=steps,
        alerts=alerts,
        evidence=log.records[before:],
        notes=notes,
    )


def scan_run(task: RunTask) -> RunResult:
    """Scan one run; never raises (a failure is the result's one-line error)."""
    t0 = time.perf_counter()
    timings = {"setup": warm_up()}
    try:
        ingested = ingest(task)
        timings["ingest"] = time.perf_counter() - t0 - timings["setup"]
        result = check_store(ingested.db_path, task.run, task.options, store=ingested.open())
        result.timings = {**timings, **result.timings}
    except Exception as exc:  # recorded for this run; the scan goes on
        logger.debug("scanning %s failed", task.run, exc_info=True)
        result = RunResult(
            run=task.run,
            status="error",
            error=one_line(exc),
            versions=task.versions,
            options_key=task.options.key(),
        )
    result.fingerprint = task.fingerprint
    result.versions = task.versions
    result.seconds = time.perf_counter() - t0
    return result
