"""Read-only SQL over a run's tables for untrusted queries (an LLM's or a user's).

A separate DuckDB connection opened read-only, with external access disabled and the
configuration locked, so a query cannot write, attach, read or copy files, or loosen the
limits; rows are capped and a timer interrupts queries that run too long.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb

from rootcause.core.errors import BadInputError


class SqlError(BadInputError):
    """The query failed, was refused, or took too long."""


def run_readonly_sql(
    db_path: Path, query: str, max_rows: int, timeout_s: float
) -> tuple[list[str], list[tuple[Any, ...]], bool]:
    """Run `query`; returns (column names, at most `max_rows` rows, whether more existed)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.start()
        try:
            cursor = con.execute(query)
            if cursor.description is None:
                return [], [], False
            columns = [str(d[0]) for d in cursor.description]
            rows = cursor.fetchmany(max_rows + 1)
        except duckdb.InterruptException:
            raise SqlError(f"query stopped after {timeout_s:g} s (time limit)") from None
        except duckdb.Error as exc:
            detail = " ".join(str(exc).split())
            raise SqlError(f"SQL error: {detail[:300]}") from None
        finally:
            timer.cancel()
    finally:
        con.close()
    return columns, [tuple(r) for r in rows[:max_rows]], len(rows) > max_rows
