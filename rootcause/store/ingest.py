"""Bring a run (native or foreign) into the workspace, or reuse it when nothing changed."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from rootcause.core.errors import BadInputError
from rootcause.core.run import DeploymentInfo
from rootcause.store.config_repo import open_config_repo
from rootcause.store.database import RunDatabaseBuilder
from rootcause.store.formats import READERS, reader_for
from rootcause.store.run_store import RunStore
from rootcause.store.schema import SCHEMA_VERSION
from rootcause.store.source import LoadContext, RunSource, SkippedLine
from rootcause.store.workspace import Workspace

logger = logging.getLogger(__name__)

DB_NAME = "run.duckdb"


@dataclass
class IngestResult:
    """An ingested run ready to query, and what the ingest had to say."""

    db_path: Path
    source: RunSource
    reused: bool
    skipped: list[SkippedLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def open(self) -> RunStore:
        return RunStore(self.db_path)


def _resolve_deployments(
    source: RunSource,
) -> tuple[list[DeploymentInfo], dict[str, dict[str, float]]]:
    if source.config_repo is None:
        infos = [DeploymentInfo(step=d.step, commit=d.commit) for d in source.deployments]
        return infos, {}
    manifest = "run.yaml" if source.format == "native" else str(source.root)
    infos, weights = [], {}
    with open_config_repo(source.config_repo, f"{manifest}: config_repo") as repo:
        for i, d in enumerate(source.deployments):
            info = repo.deployment(d.step, d.commit, f"{manifest}: deployments[{i}].commit")
            infos.append(info)
            if info.commit not in weights:
                weights[info.commit] = repo.reward_weights(info.commit)
    return infos, weights


def _fingerprint(
    source: RunSource, deployments: list[DeploymentInfo], options: dict[str, object]
) -> str:
    """Identity of the inputs: file names, sizes and modification times, resolved commits."""
    parts: list[object] = [SCHEMA_VERSION, source.format, options]
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
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def ingest_run(
    path: Path,
    workspace: Workspace,
    fmt: str = "auto",
    skip_bad_lines: bool = False,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Ingest the run at `path` into `workspace` (or reuse an identical earlier ingest)."""
    path = path.expanduser()
    if not path.exists():
        raise BadInputError(f"{path}: no such file or directory")
    path = path.resolve()
    reader = reader_for(path, fmt)
    source = reader.describe(path)
    protected = [source.root if source.root.is_dir() else source.root.parent]
    if source.config_repo is not None:
        protected.append(source.config_repo)
    workspace.guard_against(*protected)
    deployments, weights = _resolve_deployments(source)
    options: dict[str, object] = {"skip_bad_lines": skip_bad_lines}
    fingerprint = _fingerprint(source, deployments, options)
    run_dir = workspace.ensure(workspace.run_dir(source.root, source.run_id))
    db_path = run_dir / DB_NAME
    if db_path.exists() and not force:
        previous = RunStore.fingerprint_of(db_path)
        if previous == fingerprint:
            logger.info("reusing %s (inputs unchanged)", db_path)
            with RunStore(db_path) as store:
                return IngestResult(db_path, source, True, store.skipped_lines(), store.notes())
    builder = RunDatabaseBuilder(db_path)
    try:
        ctx = LoadContext(builder, skip_bad_lines=skip_bad_lines, on_progress=on_progress)
        reader.load(source, ctx)
        ctx.flush()
        if builder.rows == 0:
            raise BadInputError(
                f"{path}: the run has no samples"
                + (f" ({len(ctx.skipped)} bad lines skipped)" if ctx.skipped else "")
            )
        info = {
            "run_id": source.run_id,
            "title": source.title,
            "format": source.format,
            "source": str(source.root),
            "config_repo": None if source.config_repo is None else str(source.config_repo),
            "fingerprint": fingerprint,
            "skipped_lines": [[s.file, s.line, s.reason] for s in ctx.skipped],
            "notes": [],
        }
        notes = builder.finish(source.run_id, deployments, weights, ctx.metrics, info)
    except BaseException:
        builder.abort()
        raise
    return IngestResult(db_path, source, False, ctx.skipped, notes)


__all__ = ["READERS", "IngestResult", "ingest_run"]
