"""One investigation's folder: its files, the lock that keeps it to one writer, and its status.

    investigations/<id>/spec.json           what was asked
    investigations/<id>/report.json|md      the report (finished)
    investigations/<id>/error.json          why the job failed
    investigations/<id>/cancelled.json      where a cancelled job stopped (resume with the id)
    investigations/<id>/checkpoints.sqlite  LangGraph checkpoints of this investigation
    investigations/<id>/lock                held by the one process writing the folder (its pid)

A job's status is read from these files: `running` while a live process holds the lock, then
`finished`, `cancelled` or `failed`; `interrupted` when the process stopped without a word (it
was killed); each but `finished` continues with `--resume ID`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Literal

from pydantic import BaseModel, ValidationError

from rootcause.core.disk import written_via_temp
from rootcause.core.errors import BadInputError
from rootcause.core.report import VERDICTS, Verdict
from rootcause.investigate.state import InvestigationSpec
from rootcause.store.workspace import Workspace

logger = logging.getLogger(__name__)

SPEC = "spec.json"
REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"
ERROR = "error.json"
CANCELLED = "cancelled.json"
CHECKPOINTS = "checkpoints.sqlite"
LOCK = "lock"

Status = Literal["running", "finished", "cancelled", "failed", "interrupted"]


class FolderBusyError(BadInputError):
    """Another process (or job) is writing the investigation's folder."""


class FolderLock:
    """An exclusive lock on one investigation folder (`flock` on `lock`, which names the pid of
    its holder). The operating system releases it when the holder dies, so a killed job never
    leaves a folder locked; a second writer, in this process or another, is refused."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / LOCK
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        import fcntl

        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = lock_holder(self.folder)
                who = f"process {holder}" if holder else "another job"
                raise FolderBusyError(
                    f"investigation {self.folder.name} is being written by {who}; wait for it "
                    "to finish or cancel it"
                ) from None
            # The holder before us may have removed the file while we waited: lock the file
            # that is there now.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        import fcntl

        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def lock_holder(folder: Path) -> int | None:
    """The pid named in the folder's lock file, if the file is there and names one."""
    try:
        text = (folder / LOCK).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def record_cancelled(folder: Path, investigation_id: str, phase: str) -> None:
    payload = {
        "cancelled": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "phase": phase,
        "resume": investigation_id,
    }
    write_json(folder / CANCELLED, payload)


def clear_status(folder: Path) -> None:
    """Forget how an earlier attempt ended (the job is running again)."""
    for name in (ERROR, CANCELLED):
        (folder / name).unlink(missing_ok=True)


def write_json(path: Path, payload: Mapping[str, object]) -> None:
    """Write through a temporary file; a status file that cannot be written is logged, never
    raised over the job's own outcome."""
    try:
        with written_via_temp(path) as tmp:
            tmp.write_text(json.dumps(payload, indent=2) + "\n")
    except OSError as exc:
        logger.warning("could not write %s: %s", path, exc)


class InvestigationSummary(BaseModel):
    """One investigation in a workspace, as `list_investigations` reads it from its folder."""

    id: str
    run: str
    symptom: str
    brain: str
    created: str
    status: Status
    verdict: Verdict | None = None
    #: The error's one line, for a failed job.
    error: str | None = None
    folder: str


def status_of(folder: Path) -> Status:
    holder = lock_holder(folder)
    if holder is not None and _alive(holder):
        return "running"
    if (folder / REPORT_JSON).is_file():
        return "finished"
    if (folder / CANCELLED).is_file():
        return "cancelled"
    if (folder / ERROR).is_file():
        return "failed"
    return "interrupted"


def summarise(folder: Path) -> InvestigationSummary | None:
    """The folder's summary, or None if it holds no readable spec (not an investigation)."""
    try:
        spec = InvestigationSpec.model_validate_json((folder / SPEC).read_text())
    except (OSError, ValidationError):
        return None
    status = status_of(folder)
    verdict = error = None
    if status == "finished":
        verdict = _read_json(folder / REPORT_JSON).get("verdict")
    elif status == "failed":
        message = _read_json(folder / ERROR).get("message")
        error = str(message).splitlines()[0] if message else None
    return InvestigationSummary(
        id=spec.id,
        run=spec.run,
        symptom=spec.symptom,
        brain=spec.brain,
        created=spec.created,
        status=status,
        verdict=verdict if verdict in VERDICTS else None,
        error=error,
        folder=str(folder),
    )


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def list_investigations(workspace: Workspace) -> list[InvestigationSummary]:
    """Every investigation in the workspace with its status and verdict, oldest first."""
    root = workspace.investigations_dir
    if not root.is_dir():
        return []
    found = (summarise(p) for p in sorted(root.iterdir()) if p.is_dir())
    return sorted((s for s in found if s is not None), key=lambda s: (s.created, s.id))
