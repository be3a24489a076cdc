"""What every reader produces: a described run source and the context it loads into."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rootcause.core.errors import RunFormatError
from rootcause.core.run import Deployment
from rootcause.store.database import RunDatabaseBuilder
from rootcause.store.overlay import RunOverlay

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class SkippedLine:
    """A line `--skip-bad-lines` passed over (line 0: the whole file)."""

    file: str
    line: int
    reason: str

    @property
    def place(self) -> str:
        return self.file if self.line == 0 else f"{self.file}:{self.line}"


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
    #: What the reader learnt from files it does not load as samples (e.g. TRL's reward
    #: function names from trainer_state.json); part of the run's identity.
    facts: dict[str, Any] = field(default_factory=dict)


class LoadContext:
    """Where a reader writes samples; handles `--skip-bad-lines`, the reader's NaN policy and
    progress in one place, and knows which file and line is being read (`place`)."""

    def __init__(
        self,
        builder: RunDatabaseBuilder,
        skip_bad_lines: bool = False,
        on_progress: Callable[[int], None] | None = None,
        nan_means_missing: Collection[str] = (),
        overlay: RunOverlay | None = None,
        prior_state: dict[str, Any] | None = None,
    ):
        self.builder = builder
        #: What the reader kept of an earlier ingest of the run when appending new files to
        #: it (None on a full ingest); `state` is what it keeps of this one.
        self.prior_state = prior_state
        self.state: dict[str, Any] = {}
        #: The overlay in force: readers take `group_size`, `table` and the like from it.
        self.overlay = overlay or RunOverlay()
        #: What the reader decided about the logs (grouping, columns, duplicates), for the
        #: overview; every decision an importer makes is said here.
        self.notes: list[str] = []
        self.skip_bad_lines = skip_bad_lines
        self.nan_means_missing = frozenset(nan_means_missing)
        self.skipped: list[SkippedLine] = []
        self._on_progress = on_progress
        # Records (and pyarrow) load when rows are read, not when a stored ingest is reused.
        from rootcause.store.records import RecordBuffer, RecordError

        self._record_error = RecordError
        self.buffer = RecordBuffer(
            self._sink, first_row_idx=builder.rows, nan_means_missing=self.nan_means_missing
        )
        self.metrics: pa.Table | None = None
        #: NaN values read as missing by the table loader, by field (the buffer counts its own).
        self.table_missing_nan: Counter[str] = Counter()
        #: The file (as shown to the user) and line being read, for errors nobody foresaw.
        self.place: tuple[str | None, int | None] = (None, None)

    @property
    def missing_nan(self) -> Counter[str]:
        """NaN values read as missing, by field, over every path."""
        return self.buffer.missing_nan + self.table_missing_nan

    def _sink(self, samples: pa.Table, rewards: pa.Table, inputs: pa.Table) -> None:
        self.builder.append(samples, rewards, inputs)
        if self._on_progress:
            self._on_progress(samples.num_rows)

    def bad_line(self, file: str, line: int, reason: str) -> None:
        """Record a bad line when skipping is on, else stop the ingest naming it."""
        if not self.skip_bad_lines:
            raise RunFormatError(reason, file, line)
        self.skipped.append(SkippedLine(file, line, reason))

    def bad_file(self, file: str, reason: str) -> None:
        """Record an unreadable file (truncated, corrupt) when skipping is on, else stop the
        ingest naming it; a skipped file is reported as line 0."""
        if not self.skip_bad_lines:
            raise RunFormatError(reason, file)
        self.skipped.append(SkippedLine(file, 0, reason))

    def add_record(self, record: object, file: str, line: int) -> None:
        self.place = (file, line)
        try:
            self.buffer.add(record, file, line)  # type: ignore[arg-type]
        except self._record_error as exc:
            self.bad_line(file, line, str(exc))

    def flush(self) -> None:
        """Write buffered records; call before loading anything through the builder directly
        (and outside a transaction: staged rows may move to the final tables)."""
        self.buffer.flush()
        self.buffer.next_row_idx = self.builder.rows
        self.builder.move()

    def settle(self) -> None:
        """Write everything read so far into the final tables (`samples`, `rewards`,
        `grader_inputs`): call before querying them."""
        self.flush()
        self.builder.settle()

    def loaded(self, rows: int) -> None:
        """Account for `rows` loaded through the builder directly (not via the buffer)."""
        self.buffer.next_row_idx = self.builder.rows
        if self._on_progress:
            self._on_progress(rows)


class RunReader(Protocol):
    """A run format: recognise a path, describe the run, load its samples."""

    name: str
    #: Fields (of `rootcause.store.records.NUMBER_FIELDS`) in which this format's writer puts
    #: NaN for "no value"; NaN anywhere else is refused like infinity.
    nan_means_missing: frozenset[str]
    #: Whether new files of a grown run can be loaded on their own and appended (each file
    #: read independently, given the `prior_state` the reader kept).
    appendable: bool

    def detect(self, path: Path) -> bool: ...

    def describe(self, path: Path) -> RunSource: ...

    def load(self, source: RunSource, ctx: LoadContext) -> None: ...
