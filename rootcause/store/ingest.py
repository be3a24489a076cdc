"""Bring a run (native or foreign) into the workspace, or reuse it when nothing changed."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from rootcause.core.errors import BadInputError, ReadError, RootcauseError
from rootcause.core.run import DeploymentInfo
from rootcause.store.config_repo import open_config_repo
from rootcause.store.database import STAGING, RunDatabaseBuilder, remove_dead_leftovers
from rootcause.store.formats import READERS, reader_for
from rootcause.store.options import IngestOptions
from rootcause.store.overlay_apply import apply_overlay
from rootcause.store.overlay_resolve import ResolvedOverlay, apply_identity, resolve_overlay
from rootcause.store.paths import check_file_names, outside_links_note
from rootcause.store.run_store import RunStore
from rootcause.store.schema import SCHEMA_VERSION
from rootcause.store.source import LoadContext, RunReader, RunSource, SkippedLine
from rootcause.store.weights import plan_weights
from rootcause.store.workspace import Workspace

logger = logging.getLogger(__name__)

DB_NAME = "run.duckdb"
#: Part of every fingerprint: bump when the rules for what an ingest accepts change, so that
#: databases read under older rules (e.g. before non-finite numbers were refused) are rebuilt.
READ_RULES = 3


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
    if resolved.deployments is not None:
        manifest = str(resolved.file) if resolved.file else "overlay"
    else:
        manifest = "run.yaml" if source.format == "native" else str(source.root)
    infos, weights, notes = [], {}, []
    spec = resolved.overlay.weights
    from_file = spec if spec is not None and spec.kind == "config" else None
    with open_config_repo(source.config_repo, f"{manifest}: config_repo") as repo:
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


def _fingerprint(
    source: RunSource,
    deployments: list[DeploymentInfo],
    options: IngestOptions,
    overlay: ResolvedOverlay,
    weights: dict[str, dict[str, float]],
) -> str:
    """Identity of the inputs: file names, sizes and modification times, resolved commits,
    the options and overlay that change what is read, and the configured weights."""
    parts: list[object] = [SCHEMA_VERSION, READ_RULES, source.format, options.to_json()]
    for path in source.files:
        stat = path.stat()
        parts.append(
            [
                str(path.relative_to(source.root)) if path != source.root else ".",
                stat.st_size,
                stat.st_mtime_ns,
            ]
        )
    parts.append([[d.step, d.commit] for d in deployments])
    parts.append([overlay.to_json(), source.run_id, source.title, str(source.config_repo)])
    parts.append(weights)
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


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


def _stored_options(db_path: Path) -> IngestOptions | None:
    if not db_path.exists():
        return None
    return IngestOptions.from_json(RunStore.info_of(db_path, "ingest_options"))


def ingest_run(
    path: Path,
    workspace: Workspace,
    fmt: str = "auto",
    options: IngestOptions | None = None,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Ingest the run at `path` into `workspace` (or reuse an identical earlier ingest).

    Options left unset in `options` are taken from the earlier ingest of the same run, so
    every command reads a run the way it was last ingested. The run overlay (a
    `rootcause.yaml` next to the logs, `--overlay PATH`, or overlay keys among the options)
    is laid over what the reader finds."""
    path = path.expanduser()
    if not path.exists():
        raise BadInputError(f"{path}: no such file or directory")
    path = path.resolve()
    reader = reader_for(path, fmt)
    found = _describe(reader, path, workspace)
    # The folder is named by the reader's run id, so an overlay's run_id never moves it.
    run_dir = workspace.ensure(workspace.run_dir(found.root, found.run_id))
    db_path = run_dir / DB_NAME
    remove_dead_leftovers(db_path)
    chosen = (options or IngestOptions()).over(_stored_options(db_path)).resolved()
    resolved = resolve_overlay(path, found.root, chosen)
    source = apply_identity(found, resolved)
    if source.config_repo is not None:
        workspace.guard_against(source.config_repo)
    deployments, weights, repo_notes = _resolve_deployments(source, resolved)
    fingerprint = _fingerprint(source, deployments, chosen, resolved, weights)
    if db_path.exists() and not force:
        previous = RunStore.fingerprint_of(db_path)
        if previous == fingerprint:
            logger.info("reusing %s (inputs unchanged)", db_path)
            with RunStore(db_path) as store:
                skipped, notes = store.skipped_lines(), store.notes()
            return IngestResult(db_path, source, True, skipped, notes, chosen)
    builder = RunDatabaseBuilder(db_path)
    ctx = LoadContext(
        builder,
        skip_bad_lines=bool(chosen.skip_bad_lines),
        on_progress=on_progress,
        nan_means_missing=reader.nan_means_missing,
        overlay=resolved.overlay,
    )
    try:
        _load(reader, source, ctx)
        overlay_notes = apply_overlay(builder.con, resolved.overlay, 0)
        plan = plan_weights(builder.con, STAGING, deployments, weights, resolved.overlay.weights)
        info = {
            "run_id": source.run_id,
            "title": source.title,
            "format": source.format,
            "source": str(source.root),
            "config_repo": None if source.config_repo is None else str(source.config_repo),
            "fingerprint": fingerprint,
            "ingest_options": chosen.to_json(),
            "overlay": resolved.to_json(),
            "skipped_lines": [[s.file, s.line, s.reason] for s in ctx.skipped],
            "notes": [
                *_read_notes(source, ctx),
                *resolved.notes,
                *repo_notes,
                *ctx.notes,
                *overlay_notes,
                *plan.notes,
            ],
        }
        notes = builder.finish(source.run_id, deployments, plan.by_commit, ctx.metrics, info)
    except BaseException:
        builder.abort()
        raise
    return IngestResult(db_path, source, False, ctx.skipped, notes, chosen)


def _load(reader: RunReader, source: RunSource, ctx: LoadContext) -> None:
    """Load every file, naming the file and line being read if something unforeseen fails."""
    try:
        reader.load(source, ctx)
        ctx.flush()
    except RootcauseError:
        raise
    except Exception as exc:
        file, line = ctx.place
        where = file if file is not None else source.root
        raise ReadError(f"unexpected {type(exc).__name__}: {exc}", where, line) from exc
    if ctx.builder.rows == 0:
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


__all__ = ["READERS", "IngestOptions", "IngestResult", "ingest_run"]
