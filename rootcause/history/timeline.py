"""The config repository of a run as a timeline: commits, when each went live, what each changed.

Built on the read-only `ConfigRepo` (only object reads and `rev-list`; the user's repository is
never touched) and the run's `deployments` table: a commit "went live" at every step a
deployment names it; commits never deployed have no live steps and say so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import git

from rootcause.core.errors import ConfigRepoError
from rootcause.core.run import DeploymentInfo
from rootcause.history.structural import FileDiff, diff_file
from rootcause.store.config_repo import ConfigRepo
from rootcause.store.run_store import RunStore

FileStatus = Literal["added", "removed", "modified"]


@dataclass(frozen=True)
class CommitInfo:
    """One commit of the config repo and the steps it went live (empty: never deployed)."""

    sha: str
    message: str
    author: str
    date: str
    parents: tuple[str, ...]
    files: tuple[tuple[str, FileStatus], ...]
    live_steps: tuple[int, ...]

    @property
    def short(self) -> str:
        return self.sha[:10]

    @property
    def deployed(self) -> bool:
        return bool(self.live_steps)


@dataclass
class CommitDiff:
    """What changed from `base` (None: the empty tree, for a root commit) to `commit`."""

    commit: str
    base: str | None
    files: list[FileDiff] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [line for f in self.files for line in f.lines()]


class ConfigHistory:
    """Commits, deployments and diffs of one run's config repo."""

    def __init__(self, repo: ConfigRepo, deployments: Sequence[DeploymentInfo]):
        self.repo = repo
        self.deployments: list[DeploymentInfo] = []
        for d in sorted(deployments, key=lambda d: d.step):
            try:
                sha = repo.commit(d.commit).hexsha
            except ConfigRepoError:
                sha = d.commit  # kept as logged; diffs of it fail with a clear error
            self.deployments.append(d.model_copy(update={"commit": sha}))
        self._commits: list[CommitInfo] | None = None

    def resolve(self, rev: str, named_in: str = "commit") -> str:
        """Full sha of a (possibly abbreviated) commit; ConfigRepoError naming it otherwise."""
        return self.repo.commit(rev, named_in).hexsha

    def live_steps(self, sha: str) -> tuple[int, ...]:
        """Steps at which `sha` went live (several if it was redeployed)."""
        return tuple(d.step for d in self.deployments if d.commit == sha)

    def live_at(self, step: int) -> str | None:
        """The commit live at `step` (the last deployment at or before it), if any."""
        live = [d.commit for d in self.deployments if d.step <= step]
        return live[-1] if live else None

    def commits(self) -> list[CommitInfo]:
        """Every commit reachable from a ref (parents before children), then deployed commits
        that are on no branch."""
        if self._commits is None:
            ordered = list(reversed(self.repo.log()))
            known = {c.hexsha for c in ordered}
            for d in self.deployments:  # deployed but on no branch: appended in step order
                if d.commit not in known:
                    try:
                        ordered.append(self.repo.commit(d.commit))
                    except ConfigRepoError:
                        continue
                    known.add(d.commit)
            self._commits = [self._info(c) for c in ordered]
        return self._commits

    def _info(self, commit: git.Commit) -> CommitInfo:
        parent = commit.parents[0].hexsha if commit.parents else None
        lines = str(commit.message).strip().splitlines()
        return CommitInfo(
            sha=commit.hexsha,
            message=lines[0] if lines else "",
            author=str(commit.author.name),
            date=datetime.fromtimestamp(commit.committed_date, tz=UTC).isoformat(),
            parents=tuple(p.hexsha for p in commit.parents),
            files=tuple(self.changed_files(parent, commit.hexsha)),
            live_steps=self.live_steps(commit.hexsha),
        )

    def parent_of(self, sha: str) -> str | None:
        parents = self.repo.commit(sha).parents
        return parents[0].hexsha if parents else None

    def changed_files(self, base: str | None, commit: str) -> list[tuple[str, FileStatus]]:
        """(path, status) of files that differ between `base` (None: empty) and `commit`."""
        old = {} if base is None else self.repo.file_ids(base)
        new = self.repo.file_ids(commit)
        out: list[tuple[str, FileStatus]] = []
        for path in sorted(set(old) | set(new)):
            if path not in old:
                out.append((path, "added"))
            elif path not in new:
                out.append((path, "removed"))
            elif old[path] != new[path]:
                out.append((path, "modified"))
        return out

    def diff(
        self, commit: str, base: str | None = None, *, against_parent: bool = True
    ) -> CommitDiff:
        """Semantic diff of `commit` against `base`, or its first parent when `base` is None
        (and `against_parent`); revisions may be abbreviated."""
        head = self.resolve(commit, "commit")
        if base is not None:
            old: str | None = self.resolve(base, "base")
        else:
            old = self.parent_of(head) if against_parent else None
        files = [
            diff_file(
                path,
                None if old is None or status == "added" else self.repo.read_text(old, path),
                None if status == "removed" else self.repo.read_text(head, path),
            )
            for path, status in self.changed_files(old, head)
        ]
        return CommitDiff(commit=head, base=old, files=files)

    def deployment_diffs(self) -> list[tuple[DeploymentInfo, CommitDiff | None]]:
        """Each deployment with what it changed relative to the previously deployed commit
        (None for the first deployment, and when either commit is not in the repo)."""
        out: list[tuple[DeploymentInfo, CommitDiff | None]] = []
        previous: str | None = None
        for d in self.deployments:
            change: CommitDiff | None = None
            if previous is not None and previous != d.commit:
                try:
                    change = self.diff(d.commit, previous)
                except ConfigRepoError:
                    change = None
            elif previous == d.commit:
                change = CommitDiff(commit=d.commit, base=previous)
            out.append((d, change))
            previous = d.commit
        return out

    def latest(self) -> str | None:
        """The commit files are looked up at by default: the last deployed one, else the
        newest commit."""
        if self.deployments:
            return self.deployments[-1].commit
        commits = self.commits()
        return commits[-1].sha if commits else None


@contextmanager
def open_history(store: RunStore) -> Iterator[ConfigHistory | None]:
    """The config history of an ingested run, or None when the run has no config repo."""
    path = store.info("config_repo")
    if not path:
        yield None
        return
    repo = ConfigRepo(Path(path), "config_repo of the run")
    try:
        yield ConfigHistory(repo, store.deployments())
    finally:
        repo.close()
