"""Lab runs for evals, generated once per (bug, seed, options) and reused.

    <workspace>/eval-cache/<hash>/run/        the run folder the investigator is given
    <workspace>/eval-cache/<hash>/key.json    its answer key, beside the run, never inside it
    <workspace>/eval-cache/<hash>/spec.json   what was generated (bug, seed, options)

The lab writes the key last, so an entry is complete exactly when `key.json` exists; an
incomplete entry (a killed generation) is removed and generated again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from rootcause.core.errors import RootcauseError
from rootcause.evaluation.suite import LabOptions
from rootcause.lab.api import new_run
from rootcause.store.workspace import EVAL_CACHE

log = logging.getLogger(__name__)

CACHE_DIR = EVAL_CACHE
#: Bump when the lab changes in a way that makes cached runs stale.
CACHE_VERSION = 1


@dataclass(frozen=True)
class CachedRun:
    """Where a generated run and its answer key are."""

    run_dir: Path
    key_path: Path
    generated: bool


def cache_key(bug: str, seed: int, options: LabOptions) -> str:
    """A short stable hash of everything that determines the run's bytes."""
    spec = {"v": CACHE_VERSION, "bug": bug, "seed": seed, **options.model_dump()}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def entry_dir(workspace_root: Path, bug: str, seed: int, options: LabOptions) -> Path:
    return workspace_root / CACHE_DIR / cache_key(bug, seed, options)


def ensure_run(workspace_root: Path, bug: str, seed: int, options: LabOptions) -> CachedRun:
    """The cached run for (bug, seed, options), generating it first if needed."""
    entry = entry_dir(workspace_root, bug, seed, options)
    run_dir, key_path = entry / "run", entry / "key.json"
    if key_path.is_file() and run_dir.is_dir():
        return CachedRun(run_dir, key_path, False)
    if entry.exists():
        log.info("removing incomplete cache entry %s", entry)
        shutil.rmtree(entry)
    entry.mkdir(parents=True)
    spec = {"bug": bug, "seed": seed, "options": options.model_dump()}
    (entry / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    try:
        new_run(
            bug,
            seed,
            run_dir,
            key_path,
            steps=options.steps,
            groups=options.groups,
            group_size=options.group_size,
            samples_format=options.samples_format,
        )
    except RootcauseError:
        shutil.rmtree(entry, ignore_errors=True)
        raise
    return CachedRun(run_dir, key_path, True)
