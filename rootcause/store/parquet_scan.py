"""Read a folder of Parquet step files with one DuckDB scan instead of one query per file.

A trainer writes one small file per logging step; what costs is the per-file work, not the
rows. The files' footers are checked first (a truncated file, as a live or crashed run leaves
its last one, has none), and the good ones are read in one `read_parquet([...])` into a temp
table with each row's file (as lineage names it), 1-based row and load order. A file that is
unreadable or truncated stops the ingest naming it, or is skipped and reported under
`--skip-bad-lines`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from rootcause.core.errors import RunFormatError
from rootcause.store import database
from rootcause.store.source import LoadContext
from rootcause.store.sql import fetch_one
from rootcause.store.table_sql import first_line, literal

logger = logging.getLogger(__name__)

MAGIC = b"PAR1"
#: Rows of one file never exceed this, so (file index, row) orders rows as one number.
_ROWS_PER_FILE = 1 << 32


@dataclass(frozen=True)
class StepFile:
    """One file to scan: its path, how lineage names it, and its index in load order."""

    path: Path
    shown: str
    index: int


def footer_problem(path: Path) -> str | None:
    """Why a Parquet file cannot be read to its end (None when its framing is whole)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(4)
            if size < 12:
                return f"truncated Parquet file ({size} bytes)"
            stream.seek(size - 8)
            tail = stream.read(8)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if head != MAGIC:
        return "not a Parquet file (no PAR1 header)"
    if tail[4:] != MAGIC:
        return "truncated Parquet file (no footer: the writer did not finish it)"
    footer = int.from_bytes(tail[:4], "little")
    if footer <= 0 or footer > size - 12:
        return "truncated Parquet file (its footer length does not fit the file)"
    return None


#: DuckDB's memory cap, at least, while Parquet files of more than one row group are loaded.
#: DuckDB writes row groups on every thread only while their rows fit in a quarter of its cap,
#: else one thread writes and the others wait (its `BatchMemoryManager`); under the ingest's
#: usual cap (64 MB plus a row group per thread) the writing ran on one thread. Fixed, so
#: memory still does not grow with the run.
PARALLEL_WRITE_BYTES = 512_000_000


def _row_groups(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> tuple[int, int, float, int]:
    """(largest row group's compressed bytes, row groups, largest uncompressed bytes per row,
    DuckDB's threads) of `paths`; zeros for no files or a footer DuckDB cannot read (which
    the load then reports; no statement follows the failed one)."""
    if not paths:
        return 0, 0, 0.0, 0
    listed = "[" + ", ".join(literal(str(p)) for p in paths) + "]"
    try:
        largest, groups, row_bytes = fetch_one(
            con,
            "SELECT max(size), count(*), max(row_bytes) FROM (SELECT sum(total_compressed_size) "
            "AS size, sum(total_uncompressed_size) / greatest(max(row_group_num_rows), 1) "
            f"AS row_bytes FROM parquet_metadata({listed}) GROUP BY file_name, row_group_id)",
        )
        threads = int(fetch_one(con, "SELECT current_setting('threads')")[0])
    except duckdb.Error:
        return 0, 0, 0.0, 0
    return int(largest or 0), int(groups or 0), float(row_bytes or 0), threads


def _read_bytes(largest: int, groups: int, row_bytes: float, threads: int) -> int:
    busy = min(threads, groups)
    writing = max(busy - 1, 0) * database.INGEST_ROW_GROUP_ROWS * row_bytes
    return largest * busy + int(writing)


def row_group_bytes(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> int:
    """The memory DuckDB needs to read `paths` beyond its usual buffers: it reads each column
    chunk of a row group whole (compressed) into one block, and each of its threads reads a
    row group at a time; so the largest row group's compressed size, once per thread that can
    be busy. Threads writing side by side each also fill a row group of the database
    (`INGEST_ROW_GROUP_ROWS` rows, at the files' largest uncompressed bytes per row) before it
    goes to the file; the cap covers one. (0 for no files or a footer DuckDB cannot read,
    which the scan then reports.)"""
    return _read_bytes(*_row_groups(con, paths))


def load_headroom(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> int:
    """What to raise the cap by while `paths` are loaded into the run's tables: their row
    groups' needs (`row_group_bytes`), and with more than one row group to share among
    threads, up to `PARALLEL_WRITE_BYTES` in all."""
    stats = _row_groups(con, paths)
    needed = _read_bytes(*stats)
    if stats[1] > 1:
        needed = max(needed, PARALLEL_WRITE_BYTES - database.INGEST_MEMORY_BYTES)
    return needed


def null_free_columns(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> frozenset[str]:
    """Columns whose footers count no null in any row group of `paths` (a column without
    the count is not among them). DuckDB itself trusts these counts; the loader then need not
    read a long text column just to look for nulls (a null there would still be refused by
    the table's NOT NULL, naming the file)."""
    if not paths:
        return frozenset()
    listed = "[" + ", ".join(literal(str(p)) for p in paths) + "]"
    try:
        rows = con.execute(
            f"SELECT path_in_schema FROM parquet_metadata({listed}) GROUP BY 1 "
            "HAVING bool_and(stats_null_count = 0)"
        ).fetchall()
    except duckdb.Error:
        return frozenset()
    return frozenset(str(r[0]) for r in rows)


def _scan_sql(relation: str, files: list[StepFile]) -> str:
    paths = "[" + ", ".join(literal(str(f.path)) for f in files) + "]"
    return (
        f"CREATE OR REPLACE TABLE {relation} AS SELECT r.* EXCLUDE (_rc_path, "
        "file_row_number), f._file, r.file_row_number + 1 AS _row, f._index, "
        f"f._index * {_ROWS_PER_FILE} + r.file_row_number AS _order "
        f"FROM read_parquet({paths}, filename = '_rc_path', file_row_number = true, "
        "union_by_name = true) r JOIN scan_files f ON r._rc_path = f._rc_path"
    )


def scan_parquet(
    ctx: LoadContext,
    files: list[StepFile],
    relation: str,
    folder: str,
    con: duckdb.DuckDBPyConnection,
) -> list[StepFile]:
    """Scan `files` into the table `relation` (a qualified name: `temp.x`, or in a scratch
    database attached to `con`; source columns + `_file`, `_row`, `_index`, `_order`) in a
    statement of its own (a failed scan leaves no transaction aborted, so each file can then
    be tried alone); returns the files read (bad ones skipped, or the ingest stopped).
    `folder` names the files as a whole in an error none of them explains alone."""
    good = []
    for f in files:
        problem = footer_problem(f.path)
        if problem is None:
            good.append(f)
        else:
            ctx.bad_file(f.shown, problem)
    while True:
        _register(con, good)
        try:
            if good:
                with ctx.builder.memory_headroom(row_group_bytes(con, [f.path for f in good])):
                    con.execute(_scan_sql(relation, good))
            return good
        except duckdb.OutOfMemoryException:
            raise  # not a file's fault: trying them one by one would blame one
        except duckdb.Error as exc:
            logger.info("one scan failed (%s); finding the unreadable file", first_line(exc))
            failure = first_line(exc)
        bad = _unreadable(con, good)
        if not bad:  # the files do not go together (e.g. one column of clashing types)
            raise RunFormatError(f"the step files cannot be read together ({failure})", folder)
        for f, reason in bad:
            ctx.bad_file(f.shown, reason)
        good = [f for f in good if f not in {b for b, _ in bad}]


def _register(con: duckdb.DuckDBPyConnection, files: list[StepFile]) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE scan_files AS SELECT unnest(?::VARCHAR[]) AS _rc_path, "
        "unnest(?::VARCHAR[]) AS _file, unnest(?::BIGINT[]) AS _index",
        [[str(f.path) for f in files], [f.shown for f in files], [f.index for f in files]],
    )


def _unreadable(
    con: duckdb.DuckDBPyConnection, files: list[StepFile]
) -> list[tuple[StepFile, str]]:
    """The files DuckDB cannot read on their own, with why (only after a failed scan)."""
    bad = []
    for f in files:
        try:
            con.execute(  # every value decoded: a corrupt page passes a count(*)
                f"SELECT count(*), max(hash(COLUMNS(*))) FROM read_parquet({literal(str(f.path))})"
            ).fetchall()
        except duckdb.Error as exc:
            bad.append((f, f"not a readable Parquet file ({first_line(exc)})"))
    return bad


def positioned(con: duckdb.DuckDBPyConnection, relation: str, view: str) -> None:
    """A view of a scanned `relation` ready for `TableLoader.load_relation`: with `_pos`
    from each file's offset when every row of every file is there (no sort needed), else
    with `_order` for the loader to number."""
    counts = con.execute(
        f"SELECT _index, count(*), max(_row) FROM {relation} GROUP BY 1 ORDER BY 1"
    ).fetchall()
    if any(int(n) != int(last) for _, n, last in counts):
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * EXCLUDE (_index) FROM {relation}"
        )
        return
    offsets, total = [], 0
    for _, n, _ in counts:
        offsets.append(total)
        total += int(n)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE scan_offsets AS SELECT unnest(?::BIGINT[]) AS _index, "
        "unnest(?::BIGINT[]) AS _offset",
        [[int(i) for i, _, _ in counts], offsets],
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT r.* EXCLUDE (_index, _order), "
        f"o._offset + r._row - 1 AS _pos FROM {relation} r JOIN scan_offsets o USING (_index)"
    )
