"""`watch`: follow a run that is still training and alert the first time a check fires.

Each iteration brings the run's store up to date with the step files on disk, re-runs the
scan's checks over the run as it now stands (the emerging check compares the first and last
quarter of the steps seen so far), and returns the alerts whose key (check, subject,
component) it has not raised before: a behaviour rising clear of noise, a grader starting to
see reasoning, a given behaviour's push by one component becoming clear of zero. Nothing is
written into the run; the evidence goes to the workspace (`runs/<run>/watch/evidence.jsonl`),
so evidence ids keep counting across iterations.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from rootcause.core.errors import BadInputError
from rootcause.core.evidence import Evidence
from rootcause.scan.model import Alert, CheckOptions, is_alert
from rootcause.scan.task import check_store
from rootcause.store.ingest import IngestResult, append_new_files
from rootcause.store.options import IngestOptions
from rootcause.store.workspace import Workspace
from rootcause.tools.context import EvidenceLog

logger = logging.getLogger(__name__)


class WatchAlert(BaseModel):
    """An alert raised by a watch: the last step ingested when it fired, and its evidence."""

    last_step: int | None
    samples: int
    alert: Alert
    evidence: Evidence | None


def refresh_store(run: Path, workspace: Workspace, options: CheckOptions) -> IngestResult:
    """Bring the run's DuckDB file up to date with the files on disk now: only the step files
    that appeared since the last look are read and appended (`append_new_files`); a changed
    earlier file reads the run again; a truncated newest file waits for the next look."""
    return append_new_files(
        run,
        workspace,
        fmt=options.fmt,
        options=IngestOptions(skip_bad_lines=options.skip_bad_lines),
    )


@dataclass
class WatchState:
    """What a watch remembers between iterations."""

    run: Path
    workspace: Workspace
    options: CheckOptions
    raised: set[tuple[str, str, str]] = field(default_factory=set)
    fingerprint: str | None = None
    log: EvidenceLog | None = None
    #: The last look's ingest (whether it appended new files, how many samples it added).
    last_ingest: IngestResult | None = None


def watch_once(state: WatchState) -> list[WatchAlert]:
    """One iteration: refresh the store; if the run grew, re-run the checks and return the
    alerts not raised before. A run caught mid-write (a step file half written) is bad input
    for now: logged, and tried again next iteration."""
    from rootcause.store.run_store import RunStore

    try:
        ingested = refresh_store(state.run, state.workspace, state.options)
    except BadInputError as exc:
        logger.warning("run not readable yet, trying again: %s", exc)
        return []
    state.last_ingest = ingested
    fingerprint = RunStore.fingerprint_of(ingested.db_path)
    if fingerprint == state.fingerprint:
        return []
    state.fingerprint = fingerprint
    if state.log is None:
        folder = state.workspace.ensure(ingested.db_path.parent / "watch")
        state.log = EvidenceLog(folder / "evidence.jsonl")
    result = check_store(ingested.db_path, str(state.run), state.options, state.log)
    with RunStore(ingested.db_path) as store:
        last_step = store.overview().last_step
    raised = []
    for alert in result.alerts:
        if not is_alert(alert.severity) or alert.key() in state.raised:
            continue
        state.raised.add(alert.key())
        record = state.log.get(alert.evidence)
        raised.append(WatchAlert(last_step=last_step, samples=result.samples, alert=alert,
                                 evidence=record))  # fmt: skip
    return raised


def run_on_alert(command: str, alert: WatchAlert) -> None:
    """Run `command` (split like a shell line, no shell) with the alert as JSON on stdin."""
    try:
        subprocess.run(
            shlex.split(command), input=alert.model_dump_json().encode(), check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("--on-alert %s failed: %s", command, exc)


def watch(
    run: Path,
    workspace: Workspace,
    options: CheckOptions,
    interval: float,
    on_alert: Callable[[WatchAlert], None],
    stop: threading.Event | None = None,
) -> None:
    """Iterate every `interval` seconds until `stop` is set (or the caller is interrupted)."""
    state = WatchState(run=run.expanduser().resolve(), workspace=workspace, options=options)
    halt = stop or threading.Event()
    while not halt.is_set():
        for alert in watch_once(state):
            on_alert(alert)
        halt.wait(interval)
