"""Bring a run (native or foreign) into the workspace, or reuse it when nothing changed."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rootcause.core.disk import DiskFullError, files_size, is_disk_full
from rootcause.core.errors import BadInputError, ReadError, RootcauseError
from rootcause.core.run import DeploymentInfo
from rootcause.store.config_repo import open_config_repo
from rootcause.store.database import (
    APPEND_SUMMARY,
    new_builder,
    remove_dead_leftovers,
)
from rootcause.store.formats import other_formats_note, reader_for
from rootcause.store.frameworks import NATIVE
from rootcause.store.options import IngestOptions
from rootcause.store.overlay_apply import apply_overlay
from rootcause.store.overlay_resolve import ResolvedOverlay, apply_identity, resolve_overlay
from rootcause.store.paths import check_file_names, outside_links_note
from rootcause.store.run_store import RunStore
from rootcause.store.schema import SCHEMA_VERSION
from rootcause.store.source import LoadContext, RunReader, RunSource, SkippedLine
from rootcause.store.weights import plan_weights
from rootcause.store.workspace import Workspace, real_path

logger = logging.getLogger(__name__)

DB_NAME = "run.duckdb"
#: Part of every fingerprint: bump when the rules for what an ingest accepts change, so that
#: databases read under older rules (e.g. before non-finite numbers were refused) are rebuilt.
#: 5: conversational messages rendered, Inspect zstd/.json logs, TRL and W&B block groups.
READ_RULES = 5


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

    def open(self) -> RunStore:
        return RunStore(self.db_path)


def _resolve_deployments(
    source: RunSource, resolved: ResolvedOverlay
) -> tuple[list[DeploymentInfo], dict[str, dict[str, float]], list[str]]:
    """The deployments resolved against the config repo, the weights configured at each
    deployed commit (the key "" for steps no deployment covers), and notes on both."""
    if source.config_repo is None:
        infos = [DeploymentInfo(step=d.step, commit=d.commit) for d in source.deployments]
        spec = resolved.overlay.weights
        if spec is not None and spec.kind == "config":
            raise BadInputError("overlay weights: reading a config file needs a config_repo")
        return infos, {}, []
    overlay_file = str(resolved.file) if resolved.file else "overlay"
    reader_file = "run.yaml" if source.format == NATIVE else str(source.root)
    # Each error names the file that set the value at fault: the overlay or the run's own.
    manifest = overlay_file if resolved.deployments is not None else reader_file
    repo_from = overlay_file if resolved.overlay.config_repo else reader_file
    infos, weights, notes = [], {}, []
    spec = resolved.overlay.weights
    from_file = spec if spec is not None and spec.kind == "config" else None
    with open_config_repo(source.config_repo, f"{repo_from}: config_repo") as repo:
        for i, d in enumerate(source.deployments):
            info = repo.deployment(d.step, d.commit, f"{manifest}: deployments[{i}].commit")
            infos.append(info)
            if info.commit not in weights:
                weights[info.commit] = repo.reward_weights(info.commit)
                if from_file is not None:
                    assert from_file.file is not None
                    weights[info.commit].update(
                        repo.file_weights(info.commit, from_file.file, from_file.key, "weights")
                    )
        head = repo.head()
        if not infos and head is not None:
            weights[""] = repo.reward_weights(head)
            if from_file is not None:
                assert from_file.file is not None
                weights[""].update(
                    repo.file_weights(head, from_file.file, from_file.key, "weights")
                )
            notes.append(
                f"config_repo has no deployments: its commits are not placed on steps, and its "
                f"weights are read at HEAD ({head[:10]}); give deployments to link changes to steps"
            )
    return infos, {c: w for c, w in weights.items() if w}, notes


def _identity(
    source: RunSource,
    deployments: list[DeploymentInfo],
    options: IngestOptions,
    overlay: ResolvedOverlay,
    weights: dict[str, dict[str, float]],
) -> str:
    """Everything but the input files that decides what an ingest reads: the format and
    rules, the options and overlay, resolved commits, configured weights, the reader's facts."""
    parts: list[object] = [SCHEMA_VERSION, READ_RULES, source.format, options.to_json()]
    parts.append([[d.step, d.commit] for d in deployments])
    parts.append([overlay.to_json(), source.run_id, source.title, str(source.config_repo)])
    parts.append([weights, source.facts])
    return _digest(parts)


def _inputs(source: RunSource) -> list[list[object]]:
    """(file, size, modification time) of every input file, in the reader's order."""
    out: list[list[object]] = []
    for path in source.files:
        stat = path.stat()
        name = str(path.relative_to(source.root)) if path != source.root else "."
        out.append([name, stat.st_size, stat.st_mtime_ns])
    return out


def _digest(value: object) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _describe(reader: RunReader, path: Path, workspace: Workspace) -> RunSource:
    """The run at `path`, checked for names we cannot store and for overlap with the
    workspace (neither may lie inside the other)."""
    try:
        source = reader.describe(path)
    except RootcauseError:
        raise
    except Exception as exc:  # a fault no check foresaw, while reading this path
        raise ReadError(f"unexpected {type(exc).__name__}: {exc}", path) from exc
    check_file_names(source.root, source.files)
    workspace.guard_against(source.root if source.root.is_dir() else source.root.parent)
    workspace.guard_run(source.root)
    return source


@dataclass
class _Plan:
    """What an ingest of one run reads, resolved before any file is read."""

    reader: RunReader
    source: RunSource
    db_path: Path
    options: IngestOptions
    overlay: ResolvedOverlay
    deployments: list[DeploymentInfo]
    weights: dict[str, dict[str, float]]
    repo_notes: list[str]
    identity: str
    inputs: list[list[object]]
    #: The `run_info` of the earlier ingest ({} if none).
    stored: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        return _digest([self.identity, self.inputs])

    def info(self) -> dict[str, Any]:
        """The `run_info` entries that say what was read and how."""
        source = self.source
        return {
            "run_id": source.run_id,
            "title": source.title,
            "format": source.format,
            "source": str(source.root),
            "config_repo": None if source.config_repo is None else str(source.config_repo),
            "fingerprint": self.fingerprint,
            "identity": self.identity,
            "inputs": self.inputs,
            "ingest_options": self.options.to_json(),
            "overlay": self.overlay.to_json(),
        }


def _plan(path: Path, workspace: Workspace, fmt: str, options: IngestOptions | None) -> _Plan:
    path = path.expanduser()
    given, path = path, real_path(path)  # a symlink loop is one line, not "no such file"
    if not path.exists():
        raise BadInputError(f"{given}: no such file or directory")
    reader = reader_for(path, fmt)
    found = _describe(reader, path, workspace)
    # The folder is named by the reader's run id, so an overlay's run_id never moves it.
    workspace.remove_dead_temps()  # once per process: what killed commands left anywhere
    run_dir = workspace.ensure(workspace.run_dir(found.root, found.run_id))
    db_path = run_dir / DB_NAME
    remove_dead_leftovers(db_path)
    stored = RunStore.all_info_of(db_path)
    earlier = IngestOptions.from_json(stored["ingest_options"]) if stored else None
    chosen = (options or IngestOptions()).over(earlier).resolved()
    resolved = resolve_overlay(path, found.root, chosen)
    source = apply_identity(found, resolved)
    if source.config_repo is not None:
        workspace.guard_against(source.config_repo)
    deployments, weights, repo_notes = _resolve_deployments(source, resolved)
    repo_notes = [*other_formats_note(path, reader), *repo_notes]
    identity = _identity(source, deployments, chosen, resolved, weights)
    return _Plan(
        reader, source, db_path, chosen, resolved, deployments, weights, repo_notes, identity,
        _inputs(source), stored,
    )  # fmt: skip


def _new_files(plan: _Plan) -> list[Path] | None:
    """The files a grown run added after those of its stored ingest, when that is all that
    changed: the same identity (format, options, overlay, commits, weights), every earlier
    file unchanged, the new ones after them in the reader's order."""
    if plan.stored.get("identity") != plan.identity:
        return None
    stored = plan.stored.get("inputs")
    if not isinstance(stored, list) or len(stored) >= len(plan.inputs):
        return None
    if [list(x) for x in stored] != plan.inputs[: len(stored)]:
        return None
    return plan.source.files[len(stored) :]


def ingest_run(
    path: Path,
    workspace: Workspace,
    fmt: str = "auto",
    options: IngestOptions | None = None,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
    append: bool = True,
) -> IngestResult:
    """Ingest the run at `path` into `workspace` (or reuse an identical earlier ingest).

    Options left unset in `options` are taken from the earlier ingest of the same run, so
    every command reads a run the way it was last ingested. The run overlay (a
    `rootcause.yaml` next to the logs, `--overlay PATH`, or overlay keys among the options)
    is laid over what the reader finds. With `append` (see `append_new_files`), a run that
    only grew by new files has just those read and added to the stored database."""
    plan = _plan(path, workspace, fmt, options)
    db_path, source = plan.db_path, plan.source
    new_files = None
    if plan.stored and not force:
        if plan.stored.get("fingerprint") == plan.fingerprint:
            logger.info("reusing %s (inputs unchanged)", db_path)
            skipped = [SkippedLine(f, int(n), r) for f, n, r in plan.stored["skipped_lines"]]
            notes = list(plan.stored["notes"])
            return IngestResult(db_path, source, True, skipped, notes, plan.options)
        if append and plan.reader.appendable:
            new_files = _new_files(plan)
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


def _read_all(plan: _Plan, ctx: LoadContext) -> list[str]:
    """Load every file, lay the overlay over the rows, decide the weights, write the run."""
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


def _append(plan: _Plan, new_files: list[Path], ctx: LoadContext) -> list[str]:
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


__all__ = ["IngestOptions", "IngestResult", "append_new_files", "ingest_run"]
