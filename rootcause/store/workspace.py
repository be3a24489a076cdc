"""Where rootcause keeps derived state, and the rule that it never writes into a user's run.

Layout under the workspace root (default `./.rootcause`):

    runs/<run-key>/run.duckdb      one database per ingested run
    investigations/<id>/           one folder per investigation (spec, evidence, plots, report)
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from rootcause.core.errors import WorkspaceError

DEFAULT_WORKSPACE = ".rootcause"
WORKSPACE_ENV = "ROOTCAUSE_WORKSPACE"


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


class Workspace:
    """A workspace folder; created on first write, never inside a run or config repo."""

    def __init__(self, root: Path):
        self.root = root.expanduser().resolve()

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
            folder = folder.resolve()
            if _is_within(self.root, folder):
                raise WorkspaceError(
                    f"workspace {self.root} lies inside {folder}, which rootcause only reads; "
                    "pass --workspace DIR elsewhere"
                )

    def run_dir(self, source: Path, run_id: str) -> Path:
        """Folder of one ingested run, keyed by its id and its absolute source path."""
        digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:10]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", run_id).strip("-.")[:60] or "run"
        return self.root / "runs" / f"{slug}-{digest}"

    @property
    def investigations_dir(self) -> Path:
        return self.root / "investigations"

    def ensure(self, path: Path) -> Path:
        """Create `path` (inside the workspace) with its parents; a clear error if we cannot."""
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create {path}: {exc.strerror or exc}") from exc
        return path
