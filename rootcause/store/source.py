"""What every reader produces: a described run source and the context it loads into."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from rootcause.core.errors import RunFormatError
from rootcause.core.run import Deployment
from rootcause.store.database import RunDatabaseBuilder
from rootcause.store.records import RecordBuffer, RecordError


@dataclass
class SkippedLine:
    """A line `--skip-bad-lines` passed over."""

    file: str
    line: int
    reason: str


@dataclass
class RunSource:
    """A run as found on disk, before ingest: identity, inputs to fingerprint, configs."""

    format: str
    root: Path
    run_id: str
    files: list[Path]
    title: str | None = None
    config_repo: Path | None = None
    deployments: list[Deployment] = field(default_factory=list)
    metrics_file: Path | None = None


class LoadContext:
    """Where a reader writes samples; handles `--skip-bad-lines` and progress in one place."""

    def __init__(
        self,
        builder: RunDatabaseBuilder,
        skip_bad_lines: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ):
        self.builder = builder
        self.skip_bad_lines = skip_bad_lines
        self.skipped: list[SkippedLine] = []
        self._on_progress = on_progress
        self.buffer = RecordBuffer(self._sink, first_row_idx=builder.rows)
        self.metrics: pa.Table | None = None

    def _sink(self, samples: pa.Table, rewards: pa.Table, inputs: pa.Table) -> None:
        self.builder.append(samples, rewards, inputs)
        if self._on_progress:
            self._on_progress(samples.num_rows)

    def bad_line(self, file: str, line: int, reason: str) -> None:
        """Record a bad line when skipping is on, else stop the ingest naming it."""
        if not self.skip_bad_lines:
            raise RunFormatError(reason, file, line)
        self.skipped.append(SkippedLine(file, line, reason))

    def add_record(self, record: object, file: str, line: int) -> None:
        try:
            self.buffer.add(record, file, line)  # type: ignore[arg-type]
        except RecordError as exc:
            self.bad_line(file, line, str(exc))

    def flush(self) -> None:
        """Write buffered records; call before loading anything through the builder directly."""
        self.buffer.flush()
        self.buffer.next_row_idx = self.builder.rows

    def loaded(self, rows: int) -> None:
        """Account for `rows` loaded through the builder directly (not via the buffer)."""
        self.buffer.next_row_idx = self.builder.rows
        if self._on_progress:
            self._on_progress(rows)


class RunReader(Protocol):
    """A run format: recognise a path, describe the run, load its samples."""

    name: str

    def detect(self, path: Path) -> bool: ...

    def describe(self, path: Path) -> RunSource: ...

    def load(self, source: RunSource, ctx: LoadContext) -> None: ...
