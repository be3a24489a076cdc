"""Read-only access to a run's git repository of reward and data configs.

Only object-reading git commands are used (`cat-file`, `rev-parse`, `rev-list`), so the user's
repository is never modified: no index refresh, no checkout, no fetch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import yaml

from rootcause.core.errors import ConfigRepoError
from rootcause.core.run import DeploymentInfo
from rootcause.store.framework_config import weights_at_key

logger = logging.getLogger(__name__)

#: Folder of per-component reward configs in the config repo convention (README, "The config
#: repository").
REWARDS_DIR = "rewards"
#: Files that may hold a framework's reward config (TRL's GRPO config).
STRUCTURED_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
#: Larger files are not read for framework weights (configs are small; data is not).
MAX_CONFIG_BYTES = 1 << 20
#: libyaml's safe loader where PyYAML was built with it: every command that reuses an ingest
#: reads the weights of each deployed commit again, and the pure-Python loader made that the
#: largest part of a `rootcause tool overview` call (0.2 s for a lab run's 8 deployments).
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: A full (SHA-1) commit id.
_FULL_ID = re.compile(r"[0-9a-f]{40}")
#: A `rewards/` file that is not valid YAML.
_INVALID = object()


def load_yaml(text: str) -> Any:
    """A YAML document read safely (plain data only), with libyaml when it is there."""
    return yaml.load(text, Loader=_YAML_LOADER)


class ConfigRepo:
    """A git repository of configs, opened for reading only."""

    def __init__(self, path: Path, named_in: str = "config_repo"):
        self.path = path
        if not path.exists():
            raise ConfigRepoError(f"{named_in} {path} does not exist")
        try:
            self._repo = git.Repo(path, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise ConfigRepoError(f"{named_in} {path} is not a git repository") from None
        #: Parsed documents by blob id (the same file at many commits is parsed once).
        self._docs: dict[str, Any] = {}
        #: `rewards/` files read as YAML by blob id (`_INVALID` when they are not YAML).
        self._reward_docs: dict[str, Any] = {}
        #: Blob sizes by blob id, and commits by full id (both immutable: each lookup is a
        #: round trip to git's object reader, and a run's deployments share most objects).
        self._sizes: dict[str, int] = {}
        self._commits: dict[str, git.Commit] = {}

    def close(self) -> None:
        self._repo.close()

    def commit(self, rev: str, named_in: str = "commit") -> git.Commit:
        """Resolve a (possibly abbreviated) commit id; ConfigRepoError if it is not one. A
        full commit id is resolved once (it names the same commit for good; a branch name or
        a short id is resolved again each time)."""
        cached = self._commits.get(rev)
        if cached is not None:
            return cached
        try:
            commit = self._repo.commit(rev)
        except (git.BadName, ValueError, git.GitCommandError):
            raise ConfigRepoError(f"{named_in} {rev!r} is not a commit in {self.path}") from None
        if _FULL_ID.fullmatch(rev) and commit.hexsha == rev:
            self._commits[rev] = commit
        return commit

    def deployment(self, step: int, rev: str, named_in: str) -> DeploymentInfo:
        commit = self.commit(rev, named_in)
        message = str(commit.message).strip().splitlines()
        return DeploymentInfo(
            step=step,
            commit=commit.hexsha,
            message=message[0] if message else "",
            author=str(commit.author.name),
            committed_at=datetime.fromtimestamp(commit.committed_date, tz=UTC).isoformat(),
        )

    def read_text(self, rev: str, path: str) -> str | None:
        """Text of `path` at commit `rev`, or None when the file does not exist there."""
        tree = self.commit(rev).tree
        try:
            blob = tree / path
        except KeyError:
            return None
        return self.blob_text(blob.hexsha)

    def list_files(self, rev: str, under: str = "") -> list[str]:
        """Paths of all files at commit `rev`, optionally below folder `under`."""
        return [path for path, _ in self.blob_ids(rev, under)]

    def blob_ids(self, rev: str, under: str = "") -> list[tuple[str, str]]:
        """(path, blob id) of every file at commit `rev` (below folder `under` if given), by
        path (one walk of the tree; the blob id names the contents without reading them)."""
        tree = self.commit(rev).tree
        if under:
            try:
                tree = tree / under
            except KeyError:
                return []
        return sorted((str(b.path), b.hexsha) for b in tree.traverse() if isinstance(b, git.Blob))

    def blob_text(self, blob_id: str) -> str:
        """The text of a blob by its id."""
        data: bytes = self._repo.odb.stream(bytes.fromhex(blob_id)).read()
        return data.decode("utf-8", errors="replace")

    def log(self) -> list[git.Commit]:
        """Every commit reachable from any ref (`git rev-list --all --topo-order`): children
        before their parents, newest first."""
        try:
            return list(self._repo.iter_commits(all=True, topo_order=True))
        except (git.GitCommandError, ValueError):
            return []  # no refs yet (an empty repository)

    def file_ids(self, rev: str) -> dict[str, str]:
        """Path -> blob id of every file at commit `rev` (equal ids mean equal contents)."""
        tree = self.commit(rev).tree
        return {str(b.path): b.hexsha for b in tree.traverse() if isinstance(b, git.Blob)}

    def head(self) -> str | None:
        """The commit HEAD points at, or None in an empty repository."""
        try:
            return self._repo.head.commit.hexsha
        except (ValueError, git.GitCommandError):
            return None

    def document(self, rev: str, path: str) -> Any:
        """The parsed YAML/JSON/TOML document of `path` at `rev` (None if absent or unparsable)."""
        tree = self.commit(rev).tree
        try:
            blob = tree / path
        except KeyError:
            return None
        return self._document_of(path, blob)

    def _document_of(self, path: str, blob: git.Blob) -> Any:
        if blob.hexsha not in self._docs:
            self._docs[blob.hexsha] = _parse(path, blob)
        return self._docs[blob.hexsha]

    def _size(self, blob: git.Blob) -> int:
        if blob.hexsha not in self._sizes:
            self._sizes[blob.hexsha] = int(blob.size)
        return self._sizes[blob.hexsha]

    def framework_weights(self, rev: str) -> dict[str, float]:
        """Component weights from framework configs at `rev` (TRL's `reward_funcs` and
        `reward_weights`, or a registered framework's), outside `rewards/`: each file is read
        by the first framework, in detection order, whose config semantics recognise it."""
        from rootcause.store.frameworks import config_semantics

        semantics = [s for _name, s in config_semantics()]
        weights: dict[str, float] = {}
        tree = self.commit(rev).tree
        for item in tree.traverse():
            if not isinstance(item, git.Blob) or not str(item.path).endswith(STRUCTURED_SUFFIXES):
                continue
            if str(item.path).startswith(REWARDS_DIR + "/") or self._size(item) > MAX_CONFIG_BYTES:
                continue
            doc = self._document_of(str(item.path), item)
            reader = next((s for s in semantics if s.recognises(doc)), None)
            found = reader.weights(doc) if reader is not None else None
            for name, weight in (found or {}).items():
                weights.setdefault(name, weight)
        return weights

    def file_weights(self, rev: str, path: str, key: str | None, named_in: str) -> dict[str, float]:
        """Weights a config file gives at `rev` (see `framework_config.weights_at_key`)."""
        doc = self.document(rev, path)
        if doc is None:
            raise ConfigRepoError(f"{named_in}: {path} is missing or unparsable at {rev[:10]}")
        found = weights_at_key(doc, key)
        if not found:
            where = f"key {key!r}" if key else "reward_funcs/reward_weights or a weights mapping"
            raise ConfigRepoError(f"{named_in}: no weights at {where} in {path} at {rev[:10]}")
        return found

    def reward_weights(self, rev: str) -> dict[str, float]:
        """Component weights at `rev` from `rewards/*.yaml|yml|json` (`name`, `weight` keys),
        then from framework configs for components those do not name."""
        weights: dict[str, float] = {}
        for file, blob_id in self.blob_ids(rev, REWARDS_DIR):
            if not file.endswith((".yaml", ".yml", ".json")):
                continue
            doc = self._reward_doc(blob_id)
            if doc is _INVALID:
                logger.warning("%s at %s is not valid YAML; its weight is unknown", file, rev[:10])
                continue
            if not isinstance(doc, dict):
                continue
            name = doc.get("name") or Path(file).stem
            weight = doc.get("weight")
            if isinstance(weight, int | float) and not isinstance(weight, bool):
                weights[str(name)] = float(weight)
        for name, weight in self.framework_weights(rev).items():
            weights.setdefault(name, weight)
        return weights

    def _reward_doc(self, blob_id: str) -> Any:
        """A `rewards/` file read as YAML, once per contents (`_INVALID` if it is not YAML)."""
        if blob_id not in self._reward_docs:
            try:
                self._reward_docs[blob_id] = load_yaml(self.blob_text(blob_id))
            except yaml.YAMLError:
                self._reward_docs[blob_id] = _INVALID
        return self._reward_docs[blob_id]


def _parse(path: str, blob: git.Blob) -> Any:
    """A config blob as a document (None when it does not parse)."""
    import json
    import tomllib

    text = blob.data_stream.read().decode("utf-8", errors="replace")
    try:
        if path.endswith(".json"):
            return json.loads(text)
        if path.endswith(".toml"):
            return tomllib.loads(text)
        return load_yaml(text)
    except (ValueError, yaml.YAMLError, RecursionError):
        return None


@contextmanager
def open_config_repo(path: Path, named_in: str = "config_repo") -> Iterator[ConfigRepo]:
    repo = ConfigRepo(path, named_in)
    try:
        yield repo
    finally:
        repo.close()
