"""What an ingest of one run reads, resolved before any file is read: the reader, the run
as described (with the overlay laid over it), the deployments and weights from the config
repo, and the fingerprint that decides whether a stored ingest is reused or appended to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rootcause.core.errors import BadInputError, ReadError, RootcauseError
from rootcause.core.run import DeploymentInfo
from rootcause.store.database import remove_dead_leftovers
from rootcause.store.formats import other_formats_note, reader_for
from rootcause.store.frameworks import NATIVE
from rootcause.store.options import IngestOptions
from rootcause.store.overlay_resolve import ResolvedOverlay, apply_identity, resolve_overlay
from rootcause.store.paths import check_file_names
from rootcause.store.run_store import RunStore
from rootcause.store.schema import SCHEMA_VERSION
from rootcause.store.source import RunReader, RunSource
from rootcause.store.workspace import Workspace, real_path

DB_NAME = "run.duckdb"
#: Part of every fingerprint: bump when the rules for what an ingest accepts change, so that
#: databases read under older rules (e.g. before non-finite numbers were refused) are rebuilt.
#: 5: conversational messages rendered, Inspect zstd/.json logs, TRL and W&B block groups.
READ_RULES = 5


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
    from rootcause.store.config_repo import open_config_repo  # git: only for a config repo

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
class IngestPlan:
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
    #: The earlier ingest's store, left open (read-only) when the plan was asked to keep it.
    store: RunStore | None = None

    def close_store(self) -> None:
        """Close the kept store, if any (before the database is rebuilt, or on failure)."""
        if self.store is not None:
            self.store.close()
            self.store = None

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


def plan_ingest(
    path: Path,
    workspace: Workspace,
    fmt: str,
    options: IngestOptions | None,
    keep_store: bool = False,
) -> IngestPlan:
    """What an ingest of the run at `path` reads. With `keep_store`, the earlier ingest's
    database stays open in the plan (`store`), so a caller that reuses it does not open it
    again (a DuckDB instance takes about 12 ms to start); the caller closes it."""
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
    stored, store = RunStore.open_with_info(db_path)
    if not keep_store and store is not None:
        store.close()
        store = None
    try:
        plan = _resolve_plan(path, workspace, reader, found, db_path, options, stored)
    except BaseException:
        if store is not None:
            store.close()
        raise
    plan.store = store
    return plan


def _resolve_plan(
    path: Path,
    workspace: Workspace,
    reader: RunReader,
    found: RunSource,
    db_path: Path,
    options: IngestOptions | None,
    stored: dict[str, Any],
) -> IngestPlan:
    """The plan once the run is described and its stored ingest read: options over the
    earlier ones, the overlay, the deployments and weights, the identity and inputs."""
    earlier = IngestOptions.from_json(stored["ingest_options"]) if stored else None
    chosen = (options or IngestOptions()).over(earlier).resolved()
    resolved = resolve_overlay(path, found.root, chosen)
    source = apply_identity(found, resolved)
    if source.config_repo is not None:
        workspace.guard_against(source.config_repo)
    deployments, weights, repo_notes = _resolve_deployments(source, resolved)
    repo_notes = [*other_formats_note(path, reader), *repo_notes]
    identity = _identity(source, deployments, chosen, resolved, weights)
    return IngestPlan(
        reader, source, db_path, chosen, resolved, deployments, weights, repo_notes, identity,
        _inputs(source), stored,
    )  # fmt: skip


def new_files_of(plan: IngestPlan) -> list[Path] | None:
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
