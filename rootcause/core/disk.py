"""Disk-full failures and the temporary files a killed or failed process leaves behind.

Every temporary file rootcause writes carries the writer's process id (`NAME.tmp-<pid>`,
and DuckDB's spill folder `NAME.tmp-<pid>.tmp/`), so the next start can tell a leftover of a
dead process from the work of a live one and remove only the former (`remove_dead_temps`).
A write that fails for want of space (`ENOSPC`, also when DuckDB or a wrapper reports it)
becomes one `DiskFullError` line naming the folder, the space left and how to continue.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from rootcause.core.errors import RootcauseError

logger = logging.getLogger(__name__)

#: How DuckDB and SQLite word a full disk in their messages (they do not keep the errno).
_FULL_WORDS = ("no space left on device", "database or disk is full", "disk is full")


class DiskFullError(RootcauseError):
    """A write failed because the disk holding `folder` is full (a runtime failure, exit 1).

    `resume` is the id of a job whose checkpoint is kept; the line then says `--resume ID`.
    `needed_bytes` is an estimate (for an ingest, the size of the run's files)."""

    def __init__(self, folder: Path, resume: str | None = None, needed_bytes: int | None = None):
        self.folder = folder
        self.resume = resume
        free = _free_text(folder)
        need = "" if not needed_bytes else f"; about {_mb(needed_bytes)} needed"
        if resume is None:
            hint = "free some space or give another --workspace"
        else:  # the job's checkpoint is in this workspace: it resumes only here
            hint = f"free some space, then continue with --resume {resume}"
        super().__init__(f"{folder}: disk full ({free}{need}): {hint}")


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MB"


def _free_text(folder: Path) -> str:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return f"{_mb(shutil.disk_usage(probe).free)} free"
    except OSError:
        return "free space unknown"


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error it was raised from, says the disk is full."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(words in str(exc).lower() for words in _FULL_WORDS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def written_via_temp(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write the whole file to: when the block ends it
    replaces `path`, so a reader sees the old file or the new one, never half of one; on any
    failure it is removed and the error goes on. Its name, `.NAME.tmp-<pid>-<thread>`, is one
    `remove_dead_temps` clears when a killed process leaves it behind, and two threads
    writing the same file (the app's workers) each write their own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_native_id()}")
    try:
        yield tmp
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (someone else's counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: A temporary name of rootcause's (`.report.json.tmp-123-456`, `run.duckdb.tmp-123.wal`,
#: DuckDB's spill folder `run.duckdb.tmp-123.tmp`): group 1 is the writer's process id (and
#: what follows it, the writing thread's).
TEMP_NAME = re.compile(r"^.+\.tmp-(\d+)(?:-\d+)?(?:\.wal|\.tmp)?$")


def remove_dead_temps(folder: Path, pattern: re.Pattern[str] = TEMP_NAME) -> list[Path]:
    """Remove the files and folders in `folder` named by `pattern` whose writer (the process
    id in group 1) is gone; those of live processes, this one included, stay."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in sorted(folder.iterdir()):
        match = pattern.match(path.name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or pid_alive(pid):
            continue
        remove_path(path)
        removed.append(path)
        logger.info("removed %s, left by a process that is gone", path)
    return removed


def in_use(folder: Path) -> bool:
    """Whether a running process holds a file open inside `folder` (Linux's /proc; where
    that cannot be read, the folder counts as in use)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    inside = str(folder.resolve()) + os.sep
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # gone meanwhile, or someone else's
            continue
        if any(_link(fd).startswith(inside) for fd in fds):
            return True
    return False


def _link(fd: Path) -> str:
    """Where an open file descriptor of /proc points ("" if it closed meanwhile)."""
    try:
        return os.readlink(fd)
    except OSError:
        return ""


def remove_unused_folder(folder: Path) -> bool:
    """Remove `folder` (a spill folder without a writer's pid in its name, such as DuckDB's
    default `run.duckdb.tmp/`) unless a running process has a file open in it."""
    if not folder.is_dir() or folder.is_symlink() or in_use(folder):
        return False
    remove_path(folder)
    logger.info("removed %s, which no running process uses", folder)
    return True


def files_size(paths: list[Path]) -> int:
    """The bytes of the files that exist among `paths` (what a database of them needs, give
    or take)."""
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def remove_path(path: Path) -> None:
    """Remove a file or a folder tree; a path already gone is fine."""
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
