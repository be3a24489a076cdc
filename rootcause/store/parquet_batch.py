"""Load consecutive Parquet sample files of one shape as one relation, on every DuckDB thread.

DuckDB reads a row group with one thread, and writers put up to a million rows in one, so a
run of such files loaded one at a time keeps one core busy. Files whose columns are the same
(names and types, in order) are read together instead, `read_parquet([...])` in a view
straight into the final tables, with each row's position, file and row number as loading them
one by one would give them: a file's first position is the sum of the rows of the files
before it (from their footers), its rows follow in file order. A batch holds up to
`BATCH_ROWS` rows, so a cancel or the progress bar waits for at most that many.

A batch that fails is loaded again file by file, each rolled back, to find the first file
that fails alone: its own error (naming it) stops the ingest, as it would have one file at a
time. A file whose footer or columns cannot be read loads on its own, which reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from rootcause.core.disk import is_disk_full
from rootcause.store.parquet_scan import load_headroom, null_free_columns
from rootcause.store.source import LoadContext
from rootcause.store.table_mapping import MappingSpec
from rootcause.store.table_sql import literal
from rootcause.store.tables import FILE_COLUMN, TableLoader

#: Rows read as one relation at most (a file of more is a batch of its own): enough row
#: groups for every thread, few enough that a cancel or a progress step comes every few
#: seconds and a `--skip-bad-lines` batch with faulty rows, kept as a temp table while they
#: are left out, stays the size of a few files.
BATCH_ROWS = 2_000_000
#: Files read as one relation at most (many small files of a live trainer's steps).
BATCH_FILES = 1_000
#: Column names the batch view adds or DuckDB reads as virtual columns of a Parquet scan; a
#: file with a column of such a name loads on its own.
_RESERVED = frozenset(("_pos", "_row", FILE_COLUMN, "file_index", "file_row_number", "filename"))
#: The view of one batch in the writer's connection.
BATCH_VIEW = "parquet_batch"


@dataclass(frozen=True)
class ParquetFile:
    """A Parquet sample file: its path, how lineage names it, its rows and its columns
    (name, DuckDB type) as its footer tells them (empty when it could not be read)."""

    path: Path
    shown: str
    rows: int = 0
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def batchable(self) -> bool:
        return bool(self.columns) and not any(name in _RESERVED for name, _ in self.columns)


def describe_file(con: duckdb.DuckDBPyConnection, path: Path, shown: str) -> ParquetFile:
    """The rows and columns of `path` from its footer (none when DuckDB cannot read it: the
    file then loads alone, which names it)."""
    try:
        source = f"read_parquet({literal(str(path))})"
        columns = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        rows = con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0]
    except duckdb.Error:
        return ParquetFile(path, shown)
    return ParquetFile(path, shown, int(rows), tuple((str(c[0]), str(c[1])) for c in columns))


def plan_batches(files: list[ParquetFile]) -> list[list[ParquetFile]]:
    """Consecutive files of the same columns in batches of up to `BATCH_ROWS` rows and
    `BATCH_FILES` files, in load order; a file that cannot be batched is a batch alone."""
    batches: list[list[ParquetFile]] = []
    current: list[ParquetFile] = []
    rows = 0
    for f in files:
        fits = (
            current
            and f.batchable
            and f.columns == current[0].columns
            and rows + f.rows <= BATCH_ROWS
            and len(current) < BATCH_FILES
        )
        if not fits:
            if current:
                batches.append(current)
            current, rows = [], 0
        current.append(f)
        rows += f.rows
        if not f.batchable:
            batches.append(current)
            current, rows = [], 0
    if current:
        batches.append(current)
    return batches


def load_parquet_files(
    ctx: LoadContext, files: list[tuple[Path, str]], mapping: MappingSpec
) -> None:
    """Load Parquet files (path, name in lineage) in this order into the final tables, as
    loading each alone would (same rows, positions, notes and errors), in batches."""
    con = ctx.builder.con
    described = [describe_file(con, path, shown) for path, shown in files]
    for batch in plan_batches(described):
        ctx.flush()
        if len(batch) == 1:
            rows = TableLoader(ctx).load_parquet(batch[0].path, batch[0].shown, mapping)
        else:
            rows = _load_batch(ctx, batch, mapping)
        ctx.loaded(rows)


def batch_name(batch: list[ParquetFile]) -> str:
    """How an error no single file explains names a batch."""
    return f"{batch[0].shown} .. {batch[-1].shown} ({len(batch)} files read together)"


def _view_sql(batch: list[ParquetFile]) -> str:
    """The batch as the loader reads it: the files' columns, then `_pos` (0-based position
    in the batch), `_row` (1-based row in its file) and `_file` (its name in lineage)."""
    paths = ", ".join(literal(str(f.path)) for f in batch)
    starts, total = [], 0
    for f in batch:
        starts.append(str(total))
        total += f.rows
    names = ", ".join(literal(f.shown) for f in batch)
    index = "CAST(file_index AS BIGINT) + 1"  # DuckDB's virtual column: the file's place
    return (
        f"CREATE OR REPLACE TEMP VIEW {BATCH_VIEW} AS SELECT *, "
        f"([{', '.join(starts)}]::BIGINT[])[{index}] + file_row_number AS _pos, "
        f"file_row_number + 1 AS _row, [{names}][{index}] AS {FILE_COLUMN} "
        f"FROM read_parquet([{paths}])"
    )


def _load_batch(ctx: LoadContext, batch: list[ParquetFile], mapping: MappingSpec) -> int:
    """Load `batch` as one relation into the final tables; if it fails, the error of the
    first file that fails alone (or the batch's own, if none does)."""
    loader = TableLoader(ctx)
    loader.write_final_tables()
    paths = [f.path for f in batch]
    headroom = load_headroom(loader.con, paths)
    loader.null_free = null_free_columns(loader.con, paths)
    try:
        with ctx.builder.memory_headroom(headroom):
            loader.con.execute(_view_sql(batch))
            rows = loader.load_relation(BATCH_VIEW, batch_name(batch), mapping)
            loader.con.execute(f"DROP VIEW {BATCH_VIEW}")
    except Exception as exc:
        if is_disk_full(exc):
            raise
        for f in batch:  # raises the first file's own error
            TableLoader(ctx).check_parquet(f.path, f.shown, mapping)
        ctx.place = (batch_name(batch), None)
        raise
    return rows
