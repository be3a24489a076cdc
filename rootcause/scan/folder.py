"""A scan's folder, written by the driver alone, every file through a temporary file:

    spec.json          the scan as asked (patterns, the runs they matched, checks, executor)
    runs/<key>.json    one run's result (alerts, evidence, or its error), written when it ends
    alerts.parquet     the alert table across runs (also alerts.json and alerts.md)
    errors.json        the runs that could not be scanned, with their one-line errors
    summary.json       counts: runs, reused, errors, alerts by severity and check, time
    lock               held by the process writing the folder (its pid)

A killed scan leaves its finished runs' results; `scan_resume` reads them and scans the rest.
Results are also kept in the workspace (`scans/cache/`), so a later scan of the same runs with
the same checks reuses a run whose inputs and tool versions are unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from rootcause.core.disk import DiskFullError, is_disk_full, remove_dead_temps, written_via_temp
from rootcause.core.errors import BadInputError
from rootcause.scan.model import Alert, RunResult, ScanSpec, ScanSummary

SPEC = "spec.json"
RUNS = "runs"
ALERTS_PARQUET = "alerts.parquet"
ALERTS_JSON = "alerts.json"
ALERTS_MARKDOWN = "alerts.md"
ERRORS = "errors.json"
SUMMARY = "summary.json"
LOCK = "lock"
CACHE = "cache"


def write_atomic(path: Path, data: bytes, scan_folder: Path | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same folder; the temporary file
    goes on failure, and a full disk is one line naming the folder (and, given the scan's
    folder, how to resume the scan)."""
    try:
        with written_via_temp(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        if is_disk_full(exc):
            resume = None if scan_folder is None else str(scan_folder)
            raise DiskFullError(path.parent, resume=resume) from exc
        raise


def run_key(run: str) -> str:
    """A file name for a run: its folder name and a digest of its absolute path."""
    digest = hashlib.sha256(str(Path(run).expanduser().resolve()).encode()).hexdigest()[:10]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(run).name).strip("-.")[:60] or "run"
    return f"{slug}-{digest}"


class ScanBusyError(BadInputError):
    """Another process is writing the scan folder."""


class ScanFolder:
    """One scan's folder; `lock()` before writing (one writer at a time)."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def lock(self) -> ScanFolder:
        import fcntl

        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ScanBusyError(f"scan {self.path} is being written by another process") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        for folder in (self.path, self.path / RUNS):  # what a killed or failed writer left
            remove_dead_temps(folder)
        return self

    def unlock(self) -> None:
        if self._fd is None:
            return
        import fcntl

        with contextlib.suppress(FileNotFoundError):
            (self.path / LOCK).unlink()
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> ScanFolder:
        return self.lock()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.unlock()

    def write_spec(self, spec: ScanSpec) -> None:
        write_atomic(self.path / SPEC, spec.model_dump_json(indent=2).encode() + b"\n", self.path)

    def read_spec(self) -> ScanSpec:
        path = self.path / SPEC
        try:
            return ScanSpec.model_validate_json(path.read_bytes())
        except OSError:
            raise BadInputError(f"{self.path}: not a scan folder (no {SPEC})") from None
        except ValidationError as exc:
            raise BadInputError(f"{path}: not a scan spec: {exc.errors()[0]['msg']}") from None

    def result_path(self, run: str) -> Path:
        return self.path / RUNS / f"{run_key(run)}.json"

    def write_result(self, result: RunResult) -> None:
        write_atomic(self.result_path(result.run), result.model_dump_json().encode(), self.path)

    def read_result(self, run: str) -> RunResult | None:
        return read_result(self.result_path(run))

    def write_table(self, results: list[RunResult], summary: ScanSummary) -> None:
        """The alert table (Parquet, JSON, Markdown), the errors and the summary."""
        from rootcause.scan.table import alerts_markdown, alerts_parquet

        alerts = [a for r in results for a in r.alerts]
        alerts_parquet(alerts, self.path / ALERTS_PARQUET)
        rows = [a.model_dump(mode="json") for a in alerts]
        write_atomic(
            self.path / ALERTS_JSON, json.dumps(rows, indent=1).encode() + b"\n", self.path
        )
        write_atomic(
            self.path / ALERTS_MARKDOWN, alerts_markdown(results, summary).encode(), self.path
        )
        errors = [{"run": r.run, "error": r.error} for r in results if r.status == "error"]
        write_atomic(self.path / ERRORS, json.dumps(errors, indent=1).encode() + b"\n", self.path)
        write_atomic(
            self.path / SUMMARY, summary.model_dump_json(indent=2).encode() + b"\n", self.path
        )


def read_result(path: Path) -> RunResult | None:
    """A stored result, or None when absent or unreadable (it is scanned again)."""
    try:
        return RunResult.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError):
        return None


def cache_path(workspace: Path, run: str, options_key: str) -> Path:
    return workspace / "scans" / CACHE / f"{run_key(run)}-{options_key}.json"


def alerts_of(results: list[RunResult]) -> list[Alert]:
    return [a for r in results for a in r.alerts]
