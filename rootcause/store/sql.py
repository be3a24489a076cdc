"""Small DuckDB helpers.

DuckDB 2.0 refuses new work on a connection while a result is unfinished, and `fetchone()`
leaves it unfinished; these helpers always read results to the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb

from rootcause.core.run import DeploymentInfo


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`con` without DuckDB's progress bar, which it would draw on stdout (where our data goes)
    for a slow query."""
    con.execute("SET enable_progress_bar = false")
    return con


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first row of a query (or None), with the result read to the end."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def fetch_value(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row (or None)."""
    row = fetch_one(con, sql, params)
    return None if row is None else row[0]


def read_deployments(con: duckdb.DuckDBPyConnection) -> list[DeploymentInfo]:
    """The deployments table of a run database, in step order."""
    rows = con.execute(
        "SELECT step, commit, message, author, committed_at FROM deployments ORDER BY step"
    ).fetchall()
    return [
        DeploymentInfo(step=s, commit=c, message=m, author=a, committed_at=t)
        for s, c, m, a, t in rows
    ]


#: Rows of `samples` an in-place UPDATE of an ingest changes at a time. DuckDB holds a
#: transaction's updates in memory until a checkpoint writes them, and cannot spill them, so
#: one UPDATE of every row ran out of the ingest's memory cap at a million samples; windows
#: of this many rows, each checkpointed, keep that memory flat (`row_windows`).
UPDATE_WINDOW_ROWS = 131_072


def row_windows(con: duckdb.DuckDBPyConnection, first: int, end: int) -> Iterator[tuple[int, int]]:
    """[from, to) windows of `row_idx` covering `first`..`end`, for an UPDATE to run window by
    window; the current database is checkpointed after each (see `UPDATE_WINDOW_ROWS`), so
    `con` must hold no open transaction with changes of its own (DuckDB refuses a CHECKPOINT
    then): call it after the builder has settled its writes."""
    for start in range(first, end, UPDATE_WINDOW_ROWS):
        yield start, min(start + UPDATE_WINDOW_ROWS, end)
        con.execute("CHECKPOINT")
