"""A config patch for a finding: remove or revert what it names, in `git diff` format.

The user's repository is only read (object reads: `rev-parse`, `show`, `diff` between two
commits). The edit is made on a throw-away clone (`git clone --no-hardlinks`, checked out at the
repository's HEAD), and the patch is that clone's `git diff` against HEAD, so `git apply` takes
it on any clone of the repository. Git runs without the user's global or system config, so
settings such as `diff.noprefix` cannot change what is written.

What each finding becomes:

- `reward_component`: drop the component (delete the `rewards/*` files that configure it);
- `config_change`: revert the change the finding's commit made to the component's files
  (restoring its weight, inputs, kind or checkpoint as of the commit before), on top of HEAD;
- `data_source` with the commit that brought it: revert that commit's change to the files that
  name the source;
- anything else (a persona, an env, a change that no longer reverts cleanly): no patch, and
  one line saying what a human must change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel

from rootcause.core.errors import ConfigRepoError, RootcauseError
from rootcause.core.report import Finding
from rootcause.history.links import component_of
from rootcause.store.config_repo import ConfigRepo, open_config_repo

PatchAction = Literal["drop_component", "revert_change", "revert_source", "manual"]

#: Environment of every git call: no user or system config, no prompts, English messages.
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


class ConfigPatch(BaseModel):
    """The patch for one finding, or what a human must change when there is none."""

    finding_kind: str
    finding_id: str
    commit: str | None
    repo: str
    head: str
    action: PatchAction
    files: list[str]
    description: str
    diff: str | None = None


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `cwd` with `GIT_ENV`; a failure is a RootcauseError naming the command."""
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise RootcauseError(f"git {args[0]} in {cwd}: {detail}")
    return done


@contextmanager
def scratch_clone(repo: Path, head: str) -> Iterator[Path]:
    """A throw-away clone of `repo` checked out (detached) at `head`."""
    base = Path(tempfile.mkdtemp(prefix="rootcause-fix-"))
    try:
        clone = base / "repo"
        git(base, "clone", "--quiet", "--no-hardlinks", "--no-checkout", str(repo), str(clone))
        git(clone, "checkout", "--quiet", "--detach", head)
        yield clone
    finally:
        shutil.rmtree(base, ignore_errors=True)


def working_diff(clone: Path) -> str:
    """The clone's changes against its HEAD as `git diff` prints them (a/ b/ prefixes)."""
    git(clone, "add", "--all")
    done = git(
        clone,
        "diff",
        "--cached",
        "--no-color",
        "--no-ext-diff",
        "--no-renames",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "HEAD",
    )
    return done.stdout


def component_files(repo: ConfigRepo, rev: str, component: str) -> list[str]:
    """The `rewards/*` files that configure `component` at `rev`."""
    out = []
    for path in repo.list_files(rev):
        text = repo.read_text(rev, path) or ""
        try:
            doc = yaml.safe_load(text) if path.endswith((".yaml", ".yml", ".json")) else None
        except yaml.YAMLError:
            doc = None
        if component_of(path, doc) == component:
            out.append(path)
    return out


def config_patch(repo_path: Path, finding: Finding) -> ConfigPatch:
    """The patch for `finding` against the HEAD of the config repo at `repo_path`."""
    with open_config_repo(repo_path, "config repo") as repo:
        head = repo.commit("HEAD", "HEAD of the config repo").hexsha
        base = ConfigPatch(
            finding_kind=finding.kind,
            finding_id=finding.id,
            commit=finding.commit,
            repo=str(repo_path),
            head=head,
            action="manual",
            files=[],
            description="",
        )
        if finding.kind == "reward_component":
            return _drop_component(repo, repo_path, base, finding)
        if finding.kind in ("config_change", "data_source") and finding.commit:
            return _revert(repo, repo_path, base, finding)
    return _manual(base, finding)


def _manual(base: ConfigPatch, finding: Finding, why: str = "") -> ConfigPatch:
    reason = why or (
        f"a {finding.kind} finding names no config change that a patch can revert"
        if finding.kind in ("config_change", "data_source")
        else f"a {finding.kind} is a slice of the traffic, not a config setting"
    )
    return base.model_copy(
        update={
            "action": "manual",
            "description": f"no patch for {finding.kind} {finding.id} ({reason}); a human must "
            f"change this: {finding.fix}",
        }
    )


def _drop_component(
    repo: ConfigRepo, repo_path: Path, base: ConfigPatch, finding: Finding
) -> ConfigPatch:
    name = base.finding_id
    files = component_files(repo, base.head, name)
    if not files:
        return _manual(
            base, finding, f"no rewards/* file configures {name} at HEAD {base.head[:10]}"
        )
    with scratch_clone(repo_path, base.head) as clone:
        for path in files:
            (clone / path).unlink()
        diff = working_diff(clone)
    return base.model_copy(
        update={
            "action": "drop_component",
            "files": files,
            "diff": diff,
            "description": f"drop reward component {name}: delete {', '.join(files)}",
        }
    )


def _revert(repo: ConfigRepo, repo_path: Path, base: ConfigPatch, finding: Finding) -> ConfigPatch:
    try:
        commit = repo.commit(str(finding.commit), "the finding's commit")
    except ConfigRepoError:
        return _manual(base, finding, f"commit {finding.commit} is not in the config repo")
    if not commit.parents:
        return _manual(base, finding, f"commit {commit.hexsha[:10]} is the repo's first")
    parent = commit.parents[0].hexsha
    changed = git(repo_path, "diff", "--name-only", "--no-renames", parent, commit.hexsha)
    candidates = [p for p in changed.stdout.splitlines() if p]
    files = [p for p in candidates if _belongs(repo, p, parent, commit.hexsha, finding)]
    if not files:
        return _manual(
            base, finding, f"commit {commit.hexsha[:10]} changed no file of {finding.id}"
        )
    forward = git(
        repo_path,
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-renames",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        parent,
        commit.hexsha,
        "--",
        *files,
    ).stdout
    with scratch_clone(repo_path, base.head) as clone:
        patch_file = clone.parent / "forward.diff"
        patch_file.write_text(forward)
        applied = git(clone, "apply", "--reverse", str(patch_file), check=False)
        if applied.returncode != 0:
            return _manual(
                base,
                finding,
                f"{', '.join(files)} changed again after {commit.hexsha[:10]}, so the change "
                "does not revert cleanly on HEAD",
            )
        diff = working_diff(clone)
    if not diff.strip():
        return _manual(base, finding, f"HEAD already has {', '.join(files)} as before the change")
    action: PatchAction = "revert_change" if finding.kind == "config_change" else "revert_source"
    return base.model_copy(
        update={
            "action": action,
            "files": files,
            "diff": diff,
            "description": f"revert what {commit.hexsha[:10]} changed in {', '.join(files)} "
            f"for {finding.id} (as of {parent[:10]}), on top of HEAD",
        }
    )


def _belongs(repo: ConfigRepo, path: str, parent: str, commit: str, finding: Finding) -> bool:
    """Whether a file changed by the commit is about the finding's component or source."""
    texts = [repo.read_text(rev, path) or "" for rev in (parent, commit)]
    if finding.kind == "config_change":
        for text in texts:
            try:
                doc = yaml.safe_load(text) if text else None
            except yaml.YAMLError:
                doc = None
            if component_of(path, doc) == finding.id:
                return True
        return False
    return any(finding.id in text for text in texts)
