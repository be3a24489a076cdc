"""Bring a run (native or foreign) into the workspace, or reuse it when nothing changed."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from rootcause.core.disk import DiskFullError, files_size, is_disk_full
from rootcause.core.errors import BadInputError, ReadError, RootcauseError
from rootcause.store.database import APPEND_SUMMARY, new_builder
from rootcause.store.ingest_plan import DB_NAME, READ_RULES, IngestPlan, new_files_of, plan_ingest
from rootcause.store.options import IngestOptions
from rootcause.store.overlay_apply import apply_overlay
from rootcause.store.paths import outside_links_note
from rootcause.store.run_store import RunStore
from rootcause.store.source import LoadContext, RunReader, RunSource, SkippedLine
from rootcause.store.table_sql import first_line
from rootcause.store.workspace import Workspace

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """An ingested run ready to query, and what the ingest had to say."""

    db_path: Path
    source: RunSource
    reused: bool
    skipped: list[SkippedLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The options the run was read with (given ones over those of the earlier ingest).
    options: IngestOptions = field(default_factory=IngestOptions)
    #: Whether only the files a grown run added were read and appended.
    appended: bool = False
    #: The files read and appended (when `appended`).
    new_files: list[Path] = field(default_factory=list)
    #: Samples this call added: the appended ones, all of them on a full read, 0 if reused.
    added_samples: int = 0
    #: The reused database's store, left open by `keep_open` (read-only; `open` hands it over).
    store: RunStore | None = None

    def open(self) -> RunStore:
        """The run's store, read-only: the one `keep_open` kept, else newly opened."""
        store, self.store = self.store, None
        return store if store is not None else RunStore(self.db_path)


def ingest_run(
    path: Path,
    workspace: Workspace,
    fmt: str = "auto",
    options: IngestOptions | None = None,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
    append: bool = True,
    keep_open: bool = False,
) -> IngestResult:
    """Ingest the run at `path` into `workspace` (or reuse an identical earlier ingest).

    Options left unset in `options` are taken from the earlier ingest of the same run, so
    every command reads a run the way it was last ingested. The run overlay (a
    `rootcause.yaml` next to the logs, `--overlay PATH`, or overlay keys among the options)
    is laid over what the reader finds. With `append` (see `append_new_files`), a run that
    only grew by new files has just those read and added to the stored database. With
    `keep_open`, a reused database is returned open (`IngestResult.open()` takes it): the
    store its stored state was read from, not a second one."""
    plan = plan_ingest(path, workspace, fmt, options, keep_store=keep_open)
    try:
        if plan.stored and not force and plan.stored.get("fingerprint") == plan.fingerprint:
            return _reused(plan)
    except BaseException:
        plan.close_store()
        raise
    plan.close_store()  # the database is rebuilt or appended to: not through this store
    db_path, source = plan.db_path, plan.source
    new_files = None
    if plan.stored and not force and append and plan.reader.appendable:
        new_files = new_files_of(plan)
    builder = new_builder(db_path, new_files is not None, lambda: files_size(source.files))
    ctx = LoadContext(
        builder,
        skip_bad_lines=bool(plan.options.skip_bad_lines),
        on_progress=on_progress,
        nan_means_missing=plan.reader.nan_means_missing,
        overlay=plan.overlay.overlay,
        prior_state=plan.stored.get("reader_state") if new_files else None,
    )
    try:
        notes = _read_all(plan, ctx) if new_files is None else _append(plan, new_files, ctx)
    except BaseException as exc:
        builder.abort()
        if is_disk_full(exc):
            raise DiskFullError(db_path.parent, needed_bytes=files_size(source.files)) from exc
        raise
    return IngestResult(
        db_path,
        source,
        False,
        ctx.skipped,
        notes,
        plan.options,
        appended=new_files is not None,
        new_files=new_files or [],
        added_samples=builder.rows - builder.first_new,
    )


def _reused(plan: IngestPlan) -> IngestResult:
    """The stored ingest, its inputs unchanged (with the plan's store, when kept)."""
    logger.info("reusing %s (inputs unchanged)", plan.db_path)
    skipped = [SkippedLine(f, int(n), r) for f, n, r in plan.stored["skipped_lines"]]
    notes = list(plan.stored["notes"])
    result = IngestResult(plan.db_path, plan.source, True, skipped, notes, plan.options)
    result.store, plan.store = plan.store, None
    return result


def _read_all(plan: IngestPlan, ctx: LoadContext) -> list[str]:
    """Load every file, lay the overlay over the rows, decide the weights, write the run."""
    from rootcause.store.weights import plan_weights  # numpy: not to reuse a stored ingest

    builder, source, overlay = ctx.builder, plan.source, plan.overlay
    _load(plan.reader, source, ctx)
    overlay_notes = apply_overlay(builder.con, overlay.overlay, 0)
    weights = plan_weights(
        builder.con, "samples", plan.deployments, plan.weights, overlay.overlay.weights
    )
    info = plan.info()
    info["reader_state"] = ctx.state
    info["skipped_lines"] = [[s.file, s.line, s.reason] for s in ctx.skipped]
    info["notes"] = [
        *_read_notes(source, ctx),
        *overlay.notes,
        *plan.repo_notes,
        *ctx.notes,
        *overlay_notes,
        *weights.notes,
    ]
    return builder.finish(source.run_id, plan.deployments, weights.by_commit, ctx.metrics, info)


def append_new_files(
    path: Path,
    workspace: Workspace,
    fmt: str = "auto",
    options: IngestOptions | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Bring the stored ingest of a growing run up to date, reading only what it added.

    For a run being written (a live trainer, `rootcause watch`): when every file of the
    stored ingest is unchanged (name, size, modification time) and the reader lists new
    files after them, only those are read and their samples added to the stored database,
    with the weights, deployments, groups and labels decided by the first ingest (the
    reader's kept state carries e.g. TRL's group size and the last file's batch, so a
    repeated batch across the boundary is still left out). The database is replaced
    atomically, as on a full ingest. Anything else (an earlier file changed or gone, other
    options or overlay, a format whose files cannot be read on their own) reads the whole
    run again; nothing new returns the stored ingest (`reused`). The result says which
    happened (`appended`, `reused`), which files were new and how many samples were added
    (all of them on a full read). A truncated newest file is skipped and reported under
    `skip_bad_lines` and read in full on a later call, once it is complete.
    """
    return ingest_run(path, workspace, fmt, options, on_progress=on_progress, append=True)


def _append(plan: IngestPlan, new_files: list[Path], ctx: LoadContext) -> list[str]:
    """Load only `new_files` and add their rows to a copy of the stored database, with the
    weights, deployments and overlay decisions stored there; the reader's notes on the new
    files are added, and one note sums up the appends since the full ingest."""
    builder, source = ctx.builder, dataclasses.replace(plan.source, files=new_files)
    first = builder.first_new
    _load(plan.reader, source, ctx, allow_empty=True)
    apply_overlay(builder.con, ctx.overlay, first)
    added = builder.rows - first
    earlier = plan.stored.get("appended") or {"files": 0, "samples": 0, "appends": 0}
    appended = {
        "files": earlier["files"] + len(new_files),
        "samples": earlier["samples"] + added,
        "appends": earlier["appends"] + 1,
    }
    info = plan.info()
    info["appended"] = appended
    info["reader_state"] = {**(ctx.prior_state or {}), **ctx.state}
    info["skipped_lines"] = [[s.file, s.line, s.reason] for s in ctx.skipped]
    times = "once" if appended["appends"] == 1 else f"in {appended['appends']} appends"
    info["notes"] = [
        *_read_notes(source, ctx),
        *ctx.notes,
        f"{APPEND_SUMMARY}{appended['files']} new files ({appended['samples']:,} samples) "
        f"{times} since the full ingest; weights, groups and labels read as decided then",
    ]
    weights = builder.stored_weights()
    return builder.finish(source.run_id, builder.stored_deployments(), weights, ctx.metrics, info)


def _load(
    reader: RunReader, source: RunSource, ctx: LoadContext, allow_empty: bool = False
) -> None:
    """Load every file, naming the file and line being read if something unforeseen fails."""
    try:
        reader.load(source, ctx)
        ctx.settle()
    except RootcauseError:
        raise
    except Exception as exc:
        if is_disk_full(exc):  # the disk's fault, not the file being read
            raise
        file, line = ctx.place
        where = file if file is not None else source.root
        if isinstance(exc, duckdb.OutOfMemoryException):  # our cap, not the data's fault
            detail = first_line(exc)
            raise ReadError(
                f"ran out of the ingest's memory cap ({detail}); the data is not at fault: "
                "please report this with the run's shape (files, rows, columns)",
                where,
                line,
            ) from exc
        raise ReadError(f"unexpected {type(exc).__name__}: {exc}", where, line) from exc
    if ctx.builder.rows == 0 and not allow_empty:
        skipped = f" ({len(ctx.skipped)} bad lines skipped)" if ctx.skipped else ""
        raise BadInputError(f"{source.root}: the run has no samples{skipped}")


def _read_notes(source: RunSource, ctx: LoadContext) -> list[str]:
    """What the reading itself has to report: NaN read as missing, files from elsewhere."""
    notes: list[str] = []
    missing = ctx.missing_nan
    if missing:
        fields = ", ".join(f"{name}: {n}" for name, n in sorted(missing.items()))
        notes.append(
            f"{sum(missing.values())} NaN values read as missing ({fields}): "
            f"the {source.format} writer logs NaN for no value"
        )
    links = outside_links_note(source.root, source.files)
    if links:
        notes.append(links)
    return notes


__all__ = [
    "DB_NAME",
    "READ_RULES",
    "IngestOptions",
    "IngestResult",
    "append_new_files",
    "ingest_run",
]
