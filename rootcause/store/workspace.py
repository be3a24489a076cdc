"""Where rootcause keeps derived state, and the rule that it never writes into a user's run.

Layout under the workspace root (default `./.rootcause`):

    runs/<run-key>/run.duckdb      one database per ingested run
    investigations/<id>/           one folder per investigation (spec, evidence, plots, report)
    eval-cache/<hash>/run/         lab runs generated for evals (the only runs allowed inside)

Nothing rootcause writes may land in a folder it only reads: the workspace may not lie inside
a run folder or config repo, a run folder may not lie inside the workspace (where databases
and reports are written), and outputs the user names (`--json`, `--markdown`, `--out`) are
checked with `guard_output`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from rootcause.core.disk import remove_dead_temps
from rootcause.core.errors import BadInputError, LocatedError, WorkspaceError

DEFAULT_WORKSPACE = ".rootcause"
WORKSPACE_ENV = "ROOTCAUSE_WORKSPACE"
EVAL_CACHE = "eval-cache"
#: Workspaces this process has cleaned of dead processes' temporary files.
_CLEANED: set[Path] = set()


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def guard_output(path: Path, protected: Iterable[Path | None], what: str = "output") -> Path:
    """Refuse an output path inside a folder rootcause only reads (a run folder, a config
    repo, the eval cache); returns the path resolved. `what` names the option in the error."""
    target = real_path(path.expanduser())
    for folder in protected:
        if folder is None:
            continue
        real = real_path(folder.expanduser())
        if _is_within(target, real):
            raise BadInputError(
                f"{what} {path}: lies inside {real}, which rootcause only reads; write it elsewhere"
            )
    return target


def real_path(path: Path) -> Path:
    """`path` with its symlinks resolved; a symlink loop is bad input naming the path."""
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11 raises RuntimeError("Symlink loop from ...")
        raise LocatedError("a symlink loop (the link points back to itself)", path) from None
    except OSError as exc:
        raise LocatedError(f"cannot resolve: {exc.strerror or exc}", path) from None


class Workspace:
    """A workspace folder; created on first write, never inside a run or config repo."""

    def __init__(self, root: Path):
        try:  # DuckDB and SQLite take UTF-8 paths only (DuckDB fails with std::bad_cast)
            str(root).encode("utf-8")
        except UnicodeEncodeError:
            shown = str(root).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise WorkspaceError(
                f"workspace {shown}: the folder name is not valid UTF-8; choose another name"
            ) from None
        self.root = real_path(root.expanduser())

    @classmethod
    def resolve(cls, option: Path | None = None) -> Workspace:
        """The workspace from `--workspace`, else `$ROOTCAUSE_WORKSPACE`, else `./.rootcause`."""
        if option is not None:
            return cls(option)
        env = os.environ.get(WORKSPACE_ENV)
        return cls(Path(env) if env else Path.cwd() / DEFAULT_WORKSPACE)

    def guard_against(self, *protected: Path) -> None:
        """Refuse to use a workspace that lies inside a folder we must only read."""
        for folder in protected:
            folder = real_path(folder)
            if _is_within(self.root, folder):
                raise WorkspaceError(
                    f"workspace {self.root} lies inside {folder}, which rootcause only reads; "
                    "pass --workspace DIR elsewhere"
                )

    def guard_run(self, run_root: Path) -> None:
        """Refuse a run folder inside the workspace (where ingests and investigations write),
        except the eval cache's lab runs."""
        real = real_path(run_root)
        if _is_within(real, self.root) and not _is_within(real, self.eval_cache_dir):
            raise WorkspaceError(
                f"run folder {real} lies inside the workspace {self.root}, where rootcause "
                "writes; move the run out or pass --workspace DIR elsewhere"
            )

    def run_dir(self, source: Path, run_id: str) -> Path:
        """Folder of one ingested run, keyed by its id and its absolute source path."""
        digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:10]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", run_id).strip("-.")[:60] or "run"
        return self.root / "runs" / f"{slug}-{digest}"

    @property
    def investigations_dir(self) -> Path:
        return self.root / "investigations"

    @property
    def eval_cache_dir(self) -> Path:
        return self.root / EVAL_CACHE

    def remove_dead_temps(self) -> list[Path]:
        """Remove the temporary files (`NAME.tmp-<pid>`) and spill folders that processes now
        gone left in the workspace: at its root and in each run and investigation folder.
        Done once per process and workspace (the first command to use it)."""
        if self.root in _CLEANED or not self.root.is_dir():
            return []
        _CLEANED.add(self.root)
        folders = [self.root]
        for top in (self.root / "runs", self.investigations_dir):
            if top.is_dir():
                folders += [top, *(p for p in top.iterdir() if p.is_dir() and not p.is_symlink())]
        removed: list[Path] = []
        for folder in folders:
            removed += remove_dead_temps(folder)
        return removed

    def ensure(self, path: Path) -> Path:
        """Create `path` (inside the workspace) with its parents; a clear error if we cannot."""
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create {path}: {exc.strerror or exc}") from exc
        return path
