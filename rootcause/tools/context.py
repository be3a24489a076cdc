"""What a tool runs against: one ingested run, a folder for plots and caches, an evidence log."""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import orjson

from rootcause.behaviour.context import RunContext
from rootcause.core.evidence import Evidence
from rootcause.store.run_store import RunStore

if TYPE_CHECKING:
    from rootcause.tools.sandbox import SqlSandbox

logger = logging.getLogger(__name__)

_SANDBOX = "sql-sandbox"


class EvidenceLog:
    """Evidence records in call order (`E1`, `E2`, ...), appended to `path` as JSONL if given."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.records: list[Evidence] = []
        if path is not None and path.exists():
            with path.open("rb") as lines:  # records are capped, so this stays small
                self.records = [
                    Evidence.model_validate_json(line) for line in lines if line.strip()
                ]

    def next_id(self) -> str:
        """The id the next record gets: one past the highest `E<n>` held, so an id is never
        given twice whatever the records' order or gaps (one writer per log: the caller's)."""
        numbers = [int(r.id[1:]) for r in self.records if r.id[:1] == "E" and r.id[1:].isdigit()]
        return f"E{max(numbers, default=0) + 1}"

    def add(self, record: Evidence) -> Evidence:
        self.records.append(record)
        if self.path is not None:
            with self.path.open("ab") as out:
                out.write(orjson.dumps(record.model_dump(mode="json")) + b"\n")
        return record

    def get(self, evidence_id: str) -> Evidence | None:
        return next((r for r in self.records if r.id == evidence_id), None)

    def ids(self) -> set[str]:
        return {r.id for r in self.records}


class ToolContext(RunContext):
    """One run, opened read-only, plus a work folder for plots and derived caches, and the
    evidence log of the calls made on it.

    Tools share loaded arrays through `memo` (see `RunContext`). The SQL sandbox is opened on
    first use and kept for the context's life; `close` (or leaving a `with` block) releases it.
    """

    def __init__(
        self,
        store: RunStore,
        workdir: Path,
        evidence: EvidenceLog | None = None,
        make_plots: bool = True,
    ):
        super().__init__(store, workdir)
        self.evidence = evidence or EvidenceLog()
        self.make_plots = make_plots

    @property
    def plots_dir(self) -> Path:
        return self.workdir / "plots"

    @property
    def sandbox(self) -> SqlSandbox:
        """The sandboxed DuckDB instance for untrusted SQL over this run (opened once)."""
        from rootcause.tools.sandbox import SqlSandbox

        return self.memo(_SANDBOX, lambda: SqlSandbox(self.db_path))

    def close(self) -> None:
        """Release what the context opened (the SQL sandbox); the run store is the caller's."""
        sandbox = self._memo.pop(_SANDBOX, None)
        if sandbox is not None:
            sandbox.close()

    def __enter__(self) -> ToolContext:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
