"""Read-only SQL over a run's tables for untrusted queries (an LLM's or a user's).

A DuckDB instance of its own per tool context: an in-memory database that attaches the run's
file READ_ONLY, then turns off spilling to disk, file and extension access, caps memory and
threads, and locks that configuration, once. DuckDB shares one instance per file path within
a process, so configuring the run's own connection would lock it for everyone; a separate
in-memory instance keeps the sandbox's settings to itself and serves any number of queries.

Each call runs exactly one SELECT statement (DESCRIBE, SHOW, SUMMARIZE and FROM-first queries
parse as SELECT). The query runs wrapped in a projection that cuts every text-like cell in the
database (lists, structs and blobs are shown as their text), so a huge value is never copied
into Python; rows, columns and the total fetched size are capped, and a timer interrupts
queries that run too long. No one function call may build a value longer than
`max_value_chars` (see `rootcause.tools.sql_guard`): DuckDB cannot interrupt such a call.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from rootcause.core.errors import BadInputError
from rootcause.core.untrusted import fenced
from rootcause.store.sql import quiet
from rootcause.tools.sql_guard import (
    MAX_VALUE_CHARS,
    ValueCapError,
    capped_sql,
    guard_message,
    guard_statements,
)

logger = logging.getLogger(__name__)

#: Memory the sandbox's queries may use (DuckDB's memory_limit); nothing spills to disk.
MEMORY_LIMIT = "1GB"
#: Threads a query may use.
THREADS = max(1, min(4, os.cpu_count() or 1))
#: Longest text cell fetched (cut in the database; the full length is reported).
MAX_CELL_CHARS = 2000
#: Most columns fetched; the rest are counted, not fetched.
MAX_COLUMNS = 50
#: Characters fetched per result at most (rows stop coming once it is reached).
MAX_RESULT_CHARS = 1_000_000
#: Rows taken from the database per fetch.
FETCH_ROWS = 64

#: DuckDB types fetched as they are (small, fixed size); every other type is cut as text.
_FIXED_TYPES = frozenset(
    (
        *"boolean tinyint smallint integer bigint hugeint utinyint usmallint uinteger ubigint "
        "uhugeint float double decimal date time timestamp timestamp_s timestamp_ms "
        "timestamp_ns interval uuid".split(),
        "timestamp with time zone",
        "time with time zone",
    )
)


def _settings(memory_limit: str) -> tuple[str, ...]:
    """What the sandbox sets once, in this order: spilling off (before file access goes, as
    DuckDB then refuses to change it), no extension installs or loads, no file access, memory
    and threads capped, and the configuration locked so no query can loosen it."""
    return (
        "SET temp_directory = ''",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET enable_external_access = false",
        f"SET memory_limit = '{memory_limit}'",
        f"SET threads = {THREADS}",
        "SET lock_configuration = true",
    )


class SqlError(BadInputError):
    """The query failed, was refused, or took too long."""


@dataclass(frozen=True)
class CutCell:
    """A text cell cut to MAX_CELL_CHARS: where it is and its full length."""

    row: int
    column: int
    length: int


@dataclass
class SqlResult:
    """What a query returned, within the caps."""

    columns: list[str]
    rows: list[list[Any]]
    more_rows: bool = False
    hidden_columns: int = 0
    size_cut: bool = False
    cut_cells: list[CutCell] = field(default_factory=list)


class SqlSandbox:
    """One sandboxed DuckDB instance over a run's database; `query` may be called any number
    of times (one query at a time); `close` releases it."""

    def __init__(
        self,
        db_path: Path,
        memory_limit: str = MEMORY_LIMIT,
        max_value_chars: int = MAX_VALUE_CHARS,
    ):
        self._lock = threading.Lock()
        self.memory_limit = memory_limit
        self.max_value_chars = max_value_chars
        self._con = quiet(duckdb.connect(":memory:"))
        try:
            self._con.execute("ATTACH ? AS run (READ_ONLY)", [str(db_path)])
            self._con.execute("USE run")
            for setting in (*guard_statements(max_value_chars), *_settings(memory_limit)):
                self._con.execute(setting)
        except duckdb.Error as exc:
            self._con.close()
            detail = " ".join(str(exc).split())
            raise SqlError(f"SQL error: cannot open the run for queries: {detail}") from None

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def query(self, sql: str, max_rows: int, timeout_s: float) -> SqlResult:
        """Run one read-only SELECT; at most `max_rows` rows, cells and size capped."""
        with self._lock:
            timer = threading.Timer(timeout_s, self._con.interrupt)
            timer.start()
            try:
                return self._run(sql, max_rows)
            except duckdb.InterruptException:
                stopped = f"SQL error: query stopped after {timeout_s:g} s (time limit)"
                raise SqlError(stopped) from None
            except duckdb.OutOfMemoryException:
                raise SqlError(
                    f"SQL error: query stopped: it needed more than the sandbox's memory limit "
                    f"({self.memory_limit}); aggregate, filter or select fewer columns"
                ) from None
            except duckdb.Error as exc:
                detail = " ".join(str(exc).split())
                ours = guard_message(detail, self.max_value_chars)
                raise SqlError(f"SQL error: {ours or fenced(detail, 300)}") from None
            finally:
                timer.cancel()

    def _run(self, sql: str, max_rows: int) -> SqlResult:
        inner = self._single_select(sql)
        try:
            inner = capped_sql(self._con, inner, self.max_value_chars)
        except ValueCapError as exc:
            raise SqlError(f"SQL error: {exc}") from None
        relation = self._con.sql(inner)  # bound, not run: a SELECT relation is lazy
        names, types = list(relation.columns), [t.id for t in relation.types]
        shown = min(len(names), MAX_COLUMNS)
        aliases = ", ".join(f"c{i}" for i in range(len(names)))
        projection = ", ".join(_projected(i, types[i]) for i in range(shown))
        wrapped = f"SELECT {projection} FROM (\n{inner}\n) AS q({aliases}) LIMIT {max_rows + 1}"
        cursor = self._con.execute(wrapped)
        result = SqlResult(columns=names[:shown], rows=[], hidden_columns=len(names) - shown)
        texts = [types[i] not in _FIXED_TYPES for i in range(shown)]
        size = 0
        while len(result.rows) <= max_rows and not result.size_cut:
            chunk = cursor.fetchmany(FETCH_ROWS)
            if not chunk:
                break
            for raw in chunk:
                if len(result.rows) == max_rows:
                    result.more_rows = True
                    break
                size += self._add_row(result, raw, texts)
                if size > MAX_RESULT_CHARS:
                    result.size_cut = True
                    break
        return result

    def _single_select(self, sql: str) -> str:
        """The query's one statement, checked to be a SELECT, without a trailing `;`."""
        statements = self._con.extract_statements(sql)
        if len(statements) != 1:
            found = "no statement" if not statements else f"{len(statements)} statements"
            raise SqlError(f"SQL error: give exactly one SELECT statement per call ({found})")
        (statement,) = statements
        if statement.type != duckdb.StatementType.SELECT:
            kind = str(statement.type).rsplit(".", 1)[-1]
            raise SqlError(f"SQL error: only read-only SELECT queries may run here ({kind})")
        return statement.query.strip().rstrip(";").rstrip()

    @staticmethod
    def _add_row(result: SqlResult, raw: tuple[Any, ...], texts: list[bool]) -> int:
        """Append one fetched row (text columns come as value, full length); its size."""
        row: list[Any] = []
        size = 0
        values = iter(raw)
        for column, is_text in enumerate(texts):
            value = next(values)
            if is_text:
                length = next(values)
                if length is not None and length > MAX_CELL_CHARS:
                    result.cut_cells.append(CutCell(len(result.rows), column, int(length)))
                size += len(value) if value is not None else 0
            else:
                size += 16
            row.append(value)
        result.rows.append(row)
        return size


def _projected(index: int, type_id: str) -> str:
    """Column `index` as fetched: fixed-size types as they are, everything else as text cut in
    the database, followed by its full length."""
    column = f"c{index}"
    if type_id in _FIXED_TYPES:
        return column
    text = f"CAST({column} AS VARCHAR)"
    return f"left({text}, {MAX_CELL_CHARS}), length({text})"
