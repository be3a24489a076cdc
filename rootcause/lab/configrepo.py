"""The config repository of a lab run: a real git repo of reward and data configs.

Commits are made with gitpython from a plan of file contents, with fixed authors and dates, so
the same plan gives the same commit shas. The simulator reads the config back from git at each
deployed commit, so a patch to the repo (see `build_repo`) really changes what is simulated.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import yaml

from rootcause.core.errors import BadInputError, ConfigRepoError
from rootcause.lab.graders import Component, parse_component

log = logging.getLogger(__name__)


@dataclass
class PlannedCommit:
    """One commit of the plan: the files it writes (full text) or deletes (None)."""

    step: int
    message: str
    author: tuple[str, str]  # (name, email)
    timestamp: int
    tz: str
    files: dict[str, str | None]


@dataclass
class LiveConfig:
    """The config at one commit, as the trainer would load it."""

    components: list[Component]
    sources: dict[str, float]
    personas: dict[str, float]
    trainer: dict[str, Any] = field(default_factory=dict)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Deterministic YAML text of a config document."""
    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False, width=100)


def _apply_patch(state: dict[str, str], patch: Path, scratch: Path) -> dict[str, str] | None:
    """`state` with `patch` applied (as `git apply` would), or None if it does not apply."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    for rel, text in state.items():
        target = scratch / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    cmd = ["git", "apply", "--whitespace=nowarn", str(patch.resolve())]
    done = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log.debug("patch does not apply here: %s", done.stderr.strip())
        return None
    out = {}
    for path in sorted(scratch.rglob("*")):
        if path.is_file():
            out[path.relative_to(scratch).as_posix()] = path.read_text()
    return out


def build_repo(
    repo_dir: Path, plan: list[PlannedCommit], patch: Path | None = None
) -> tuple[list[str], int]:
    """Create the repo from `plan`; return the commit shas and how many trees the patch changed.

    With `patch`, every commit's full tree is patched before it is committed when the patch
    applies to it (commits it does not apply to, e.g. ones before the patched file existed, are
    kept as they were): the history then reads as if the fix had been in place all along.
    """
    repo = git.Repo.init(repo_dir, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "rootcause lab")
        cw.set_value("user", "email", "lab@localhost")
    state: dict[str, str] = {}
    committed: dict[str, str] = {}
    shas: list[str] = []
    patched = 0
    scratch = repo_dir.parent / ".lab-scratch"
    try:
        for item in plan:
            for rel, text in item.files.items():
                if text is None:
                    state.pop(rel, None)
                else:
                    state[rel] = text
            tree = dict(state)
            if patch is not None:
                new = _apply_patch(tree, patch, scratch)
                if new is not None:
                    patched += new != tree
                    tree = new
            for rel in sorted(set(committed) - set(tree)):
                (repo_dir / rel).unlink()
                repo.index.remove([rel])
            changed = [rel for rel in sorted(tree) if committed.get(rel) != tree[rel]]
            for rel in changed:
                target = repo_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(tree[rel])
            if changed:
                repo.index.add(changed)
            committed = tree
            actor = git.Actor(*item.author)
            date = f"{item.timestamp} {item.tz}"
            commit = repo.index.commit(
                item.message,
                author=actor,
                committer=actor,
                author_date=date,
                commit_date=date,
            )
            shas.append(commit.hexsha)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
    return shas, patched


def read_config(repo_dir: Path, sha: str) -> LiveConfig:
    """Load the live config at commit `sha` from git (not from the working tree)."""
    repo = git.Repo(repo_dir)
    try:
        tree = repo.commit(sha).tree
    except (ValueError, git.BadName) as exc:
        raise ConfigRepoError(f"no commit {sha}", repo_dir) from exc
    components: list[Component] = []
    sources: dict[str, float] = {}
    personas: dict[str, float] = {}
    trainer: dict[str, Any] = {}
    for blob in tree.traverse():
        if not isinstance(blob, git.Blob):
            continue
        path = str(blob.path)
        if not path.endswith((".yaml", ".yml")):
            continue
        try:
            data = yaml.safe_load(blob.data_stream.read().decode())
        except yaml.YAMLError as exc:
            raise ConfigRepoError(f"invalid YAML at {sha[:10]}: {exc}", path) from exc
        if path.startswith("rewards/"):
            components.append(parse_component(path, data))
        elif path == "data/mixture.yaml":
            if not isinstance(data, Mapping):
                raise ConfigRepoError("expected a mapping", path)
            for name, spec in (data.get("sources") or {}).items():
                weight = spec.get("weight", 0.0) if isinstance(spec, Mapping) else spec
                sources[str(name)] = float(weight)
            personas = {str(k): float(v) for k, v in (data.get("personas") or {}).items()}
        elif path == "trainer.yaml" and isinstance(data, Mapping):
            trainer = dict(data)
    if not sources or not personas:
        raise BadInputError(f"config at {sha[:10]} has no sources or personas in data/mixture.yaml")
    components.sort(key=lambda c: c.name)
    return LiveConfig(components, sources, personas, trainer)
