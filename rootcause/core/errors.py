"""One exception root for everything rootcause raises on purpose.

`BadInputError` and its subclasses mean the user gave us something we cannot use (exit 2);
any other `RootcauseError` is a runtime failure (exit 1). Messages are one line and name the
file, line or field at fault, because the CLI prints them without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class RootcauseError(Exception):
    """Root of all deliberate rootcause errors; a runtime failure unless a subclass says so."""

    exit_code = 1


class BadInputError(RootcauseError):
    """The input (a run, a file, an argument) is unusable as given."""

    exit_code = 2


class LocatedError(BadInputError):
    """Bad input at a known place: `path:line: message` (line optional)."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.detail = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        if self.path is None:
            return self.detail
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.detail}"


class ReadError(LocatedError):
    """Reading a known place failed in a way no check foresaw.

    The place is named so the user can look at it, but the fault may be ours, so this is a
    runtime failure (exit 1) rather than bad input.
    """

    exit_code = 1


class RunFormatError(LocatedError):
    """A run folder or one of its files does not follow its format."""


class ConfigRepoError(LocatedError):
    """The config repository is missing, not a git repository, or lacks a named commit."""


class WorkspaceError(RootcauseError):
    """The workspace cannot be used (unwritable, or placed inside a user's run)."""

    exit_code = 2
