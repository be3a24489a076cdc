"""Read-only access to an ingested run's database."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import orjson

from rootcause.core.errors import WorkspaceError
from rootcause.core.run import DeploymentInfo, RunOverview
from rootcause.store.source import SkippedLine
from rootcause.store.sql import fetch_one, quiet, read_deployments


class RunStore:
    """An ingested run, opened read-only (several processes may read at once)."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        try:
            self.con = quiet(duckdb.connect(str(db_path), read_only=True))
        except duckdb.Error as exc:
            raise WorkspaceError(f"cannot open run database {db_path}: {exc}") from None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @staticmethod
    def fingerprint_of(db_path: Path) -> str | None:
        """The input fingerprint a database was built from, or None if unreadable."""
        value = RunStore.info_of(db_path, "fingerprint")
        return value if isinstance(value, str) else None

    @staticmethod
    def info_of(db_path: Path, key: str) -> Any:
        """One `run_info` value of a database, or None if absent or unreadable."""
        try:
            with RunStore(db_path) as store:
                return store.info(key)
        except (WorkspaceError, duckdb.Error):
            return None

    @staticmethod
    def open_with_info(db_path: Path) -> tuple[dict[str, Any], RunStore | None]:
        """Every `run_info` value of a database and the store they were read from, left
        open (the caller closes it); ({}, None) if the database is absent or unreadable."""
        if not db_path.exists():
            return {}, None
        try:
            store = RunStore(db_path)
        except WorkspaceError:
            return {}, None
        try:
            rows = store.con.execute("SELECT key, value FROM run_info").fetchall()
            info = {str(k): None if v is None else orjson.loads(v) for k, v in rows}
        except duckdb.Error:
            store.close()
            return {}, None
        except BaseException:
            store.close()
            raise
        return info, store

    def info(self, key: str) -> Any:
        row = fetch_one(self.con, "SELECT value FROM run_info WHERE key = ?", [key])
        return None if row is None or row[0] is None else orjson.loads(row[0])

    def notes(self) -> list[str]:
        return list(self.info("notes") or [])

    def skipped_lines(self) -> list[SkippedLine]:
        return [SkippedLine(f, int(n), r) for f, n, r in self.info("skipped_lines") or []]

    def _counts(self, column: str) -> dict[str, int]:
        rows = self.con.execute(
            f"SELECT {column}, count(*) FROM samples WHERE {column} IS NOT NULL "
            f"GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        return {str(k): int(v) for k, v in rows}

    def components(self) -> list[str]:
        rows = self.con.execute("SELECT DISTINCT component FROM rewards ORDER BY 1").fetchall()
        return [str(r[0]) for r in rows]

    def deployments(self) -> list[DeploymentInfo]:
        return read_deployments(self.con)

    def sample_counts(self) -> tuple[int, int | None, int]:
        """Samples, the first step (None without samples) and the distinct steps: the figures a
        scan records of a run, without the overview's other queries."""
        row = fetch_one(self.con, "SELECT count(*), min(step), count(DISTINCT step) FROM samples")
        assert row is not None
        return int(row[0]), row[1], int(row[2])

    def overview(self) -> RunOverview:
        row = fetch_one(
            self.con,
            "SELECT count(*), count(DISTINCT group_id), min(step), max(step), "
            "count(DISTINCT step), count(reasoning) > 0, count(advantage) > 0 FROM samples",
        )
        assert row is not None
        samples, groups, first, last, steps, has_reasoning, has_advantage = row
        graders = self.con.execute(
            "SELECT DISTINCT component FROM grader_inputs ORDER BY 1"
        ).fetchall()
        metrics = self.con.execute("SELECT DISTINCT name FROM metrics ORDER BY 1").fetchall()
        return RunOverview(
            run_id=str(self.info("run_id")),
            title=self.info("title"),
            format=str(self.info("format")),
            source=str(self.info("source")),
            samples=int(samples),
            groups=int(groups),
            first_step=first,
            last_step=last,
            steps=int(steps),
            personas=self._counts("persona"),
            data_sources=self._counts("data_source"),
            envs=self._counts("env"),
            splits=self._counts("split"),
            components=self.components(),
            graders_with_inputs=[str(g[0]) for g in graders],
            has_reasoning=bool(has_reasoning),
            has_advantage=bool(has_advantage),
            metrics=[str(m[0]) for m in metrics],
            config_repo=self.info("config_repo"),
            deployments=self.deployments(),
            notes=self.notes(),
        )
