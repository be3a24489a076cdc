"""What a behaviour is read against: one ingested run, a work folder for derived caches, a
memo of loaded arrays, and optionally a judge (an LLM answering `judge:` questions).

The tools' `ToolContext` (`rootcause.tools.context`) is a `RunContext` that also keeps an
evidence log, draws plots and opens the SQL sandbox; the behaviour layer needs only this part,
so it sits below the tools.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import duckdb

from rootcause.store.run_store import RunStore

T = TypeVar("T")


class Judge(Protocol):
    """Answers a yes/no question about texts (an LLM, for `judge:` behaviours); `model` names
    it in the workspace cache."""

    @property
    def model(self) -> str: ...

    def answer(self, question: str, texts: list[str]) -> list[bool]: ...


class RunContext:
    """One run, opened read-only, plus a work folder for derived caches.

    Readers share loaded arrays through `memo`, so an investigation that measures many
    behaviours reads each column from DuckDB once.
    """

    def __init__(self, store: RunStore, workdir: Path):
        self.store = store
        self.workdir = workdir
        self.judge: Judge | None = None  # set by a brain with a configured LLM
        self._memo: dict[Any, Any] = {}

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.store.con

    @property
    def db_path(self) -> Path:
        return self.store.db_path

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """Compute once per context; later calls with the same key return the same value."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value
