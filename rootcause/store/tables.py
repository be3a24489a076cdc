"""Load a columnar table (Parquet file, or an Arrow table) into the run's sample tables: a
Parquet file straight into the final ones, anything else into the staging ones.

The work stays inside DuckDB, vectorised: column types are checked once, bad rows are found
with two queries (the row checks, then the reward values), and rewards become long rows with
a few `INSERT ... SELECT`s. Native
Parquet samples, TRL completion files and W&B tables all come through here with a
`TableMapping` (`rootcause.store.table_mapping`) that says which column plays which part.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from rootcause.core.errors import RunFormatError
from rootcause.store.database import LoadTarget
from rootcause.store.parquet_scan import load_headroom, null_free_columns
from rootcause.store.source import LoadContext
from rootcause.store.sql import fetch_one, fetch_value
from rootcause.store.table_mapping import SCALAR_FIELDS, MappingSpec, TableMapping, scalar_select
from rootcause.store.table_sql import (
    NUMBER_TYPES,
    finite_check,
    first_line,
    literal,
    load_error,
    nested_select,
    quote,
)

#: Optimizers that trust Parquet min/max statistics, which leave NaN out: with them DuckDB 2.0
#: folds `isnan(x)` to false and prunes the row groups holding NaN, so NaN would go unseen.
#: Turned off while a Parquet file loads (its queries scan every row anyway).
_NAN_BLIND_OPTIMIZERS = "statistics_propagation,filter_pushdown"

#: The column of a many-file relation that names each row's file (see `load_relation`).
FILE_COLUMN = "_file"
#: Columns the loader adds to a source table; never data.
_INTERNAL = frozenset(("_row", "_pos", FILE_COLUMN))


class TableLoader:
    """Loads one source table (a DuckDB relation named `src` with a `_row` column) at a time.

    Row-level faults (a bad step, a null completion, a non-finite number where the reader's
    NaN policy does not allow it) stop the load naming the row, or, under `--skip-bad-lines`,
    are recorded in the context and the rows left out.
    """

    def __init__(self, ctx: LoadContext):
        self.ctx = ctx
        self.builder = ctx.builder
        self._target(ctx.builder.staging())
        #: Source columns known to hold no null (a Parquet footer's counts): not scanned for it.
        self.null_free: frozenset[str] = frozenset()

    def _target(self, target: LoadTarget) -> None:
        self.target = target
        self.con = target.con

    def write_final_tables(self) -> None:
        """Load into the final tables within the writer's transaction, for a source that loads
        whole or stops the ingest (a Parquet file): its rows are written once."""
        self._target(self.builder.final_tables())

    def load_parquet(self, path: Path, source_file: str, mapping: MappingSpec) -> int:
        """Load a Parquet file; returns the number of rows loaded. A file loads whole or stops
        the ingest, so its rows go straight into the final tables (written once)."""
        self.ctx.place = (source_file, None)
        self.write_final_tables()
        with self.builder.memory_headroom(load_headroom(self.con, [path])):
            return self._load_parquet(path, source_file, mapping)

    def check_parquet(self, path: Path, source_file: str, mapping: MappingSpec) -> None:
        """Load a Parquet file into the staging tables and roll it back: raises what loading
        it alone raises (after a batch of files failed, to name the file at fault)."""
        self.ctx.place = (source_file, None)
        rows, skipped = self.builder.rows, len(self.ctx.skipped)
        missing_nan = self.ctx.table_missing_nan.copy()
        with self.builder.memory_headroom(load_headroom(self.con, [path])):
            self.con.begin()
            try:
                self._load_parquet(path, source_file, mapping)
            finally:
                self.con.rollback()
                self.builder.rows = rows
                del self.ctx.skipped[skipped:]
                self.ctx.table_missing_nan = missing_nan

    def _load_parquet(self, path: Path, source_file: str, mapping: MappingSpec) -> int:
        try:
            self.con.execute(
                "CREATE OR REPLACE TEMP VIEW src AS SELECT * EXCLUDE (file_row_number), "
                "file_row_number AS _pos, file_row_number + 1 AS _row "
                f"FROM read_parquet({literal(str(path))}, file_row_number = true)"
            )
            fetch_one(self.con, "SELECT count(*) FROM src")
        except duckdb.Error as exc:
            raise RunFormatError(
                f"not a readable Parquet file ({first_line(exc)})", source_file
            ) from None
        self.null_free = null_free_columns(self.con, [path])
        self.con.execute(f"SET disabled_optimizers = '{_NAN_BLIND_OPTIMIZERS}'")
        try:
            return self._load(source_file, mapping, skip=self.ctx.skip_bad_lines)
        finally:
            self._reset_optimizers()

    def load_arrow(
        self,
        table: pa.Table,
        source_file: str,
        mapping: TableMapping,
        first_row: int = 1,
        skip: bool = False,
    ) -> int:
        """Load an in-memory Arrow table whose rows are numbered from `first_row`."""
        positions = pa.array(np.arange(table.num_rows, dtype=np.int64))
        rows = pa.array(np.arange(first_row, first_row + table.num_rows, dtype=np.int64))
        table = table.append_column("_pos", positions).append_column("_row", rows)
        self.con.register("src_arrow", table)
        self.con.execute("CREATE OR REPLACE TEMP VIEW src AS SELECT * FROM src_arrow")
        try:
            return self._load(source_file, mapping, skip)
        finally:
            self.con.unregister("src_arrow")

    def load_json_chunk(
        self, chunk: bytes, first_line: int, source_file: str, mapping: TableMapping
    ) -> bool:
        """Fast path for a chunk of JSON lines: parse with Arrow, load in one transaction.

        Returns False (and loads nothing) whenever the chunk needs the line-by-line reader:
        blank lines (rows would not match lines), a parse or type error, a bad row, or
        anything Arrow infers differently from the sample format. That reader then gives the
        exact error (or skips the exact line).
        """
        import pyarrow.json as pa_json

        self.ctx.place = (source_file, first_line)
        lines = chunk.count(b"\n")
        if chunk.startswith(b"\n") or b"\n\n" in chunk or b"\r" in chunk:
            return False
        try:
            table = pa_json.read_json(pa.BufferReader(chunk))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False
        if table.num_rows != lines:
            return False
        rows_before = self.builder.rows
        self.con.begin()
        try:
            self.load_arrow(table, source_file, mapping, first_row=first_line)
        except (RunFormatError, duckdb.Error):
            self.con.rollback()
            self.builder.rows = rows_before
            return False
        self.con.commit()
        return True

    def load_relation(self, relation: str, folder: str, mapping: MappingSpec) -> int:
        """Load a relation of many files at once (one scan of a folder): it has the source
        columns plus `_file` (the file as lineage names it), `_row` (1-based row in that file)
        and either `_pos` (0-based dense load position) or `_order` (the order to load in).
        `folder` names the whole in errors about columns."""
        self.ctx.place = (folder, None)
        names = {str(r[0]) for r in self.con.execute(f"DESCRIBE {relation}").fetchall()}
        if "_pos" in names:
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW src AS SELECT * FROM {relation}")
        else:  # numbered once (a table, not a view: every query reads `src`)
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE src_rows AS SELECT * EXCLUDE (_order), "
                f"row_number() OVER (ORDER BY _order) - 1 AS _pos FROM {relation}"
            )
            self.con.execute("CREATE OR REPLACE TEMP VIEW src AS SELECT * FROM src_rows")
        self.con.execute(f"SET disabled_optimizers = '{_NAN_BLIND_OPTIMIZERS}'")
        try:
            return self._load(folder, mapping, self.ctx.skip_bad_lines, file_column=FILE_COLUMN)
        finally:
            self._reset_optimizers()

    def _reset_optimizers(self) -> None:
        """Turn the optimizers back on; after a failed statement the transaction refuses any
        statement, and the error that failed it is the one to report (the ingest stops)."""
        with contextlib.suppress(duckdb.TransactionException):
            self.con.execute("RESET disabled_optimizers")

    def _columns(self) -> dict[str, str]:
        rows = self.con.execute("DESCRIBE src").fetchall()
        return {str(name): str(kind) for name, kind, *_ in rows if name not in _INTERNAL}

    def _load(
        self, source_file: str, spec: MappingSpec, skip: bool, file_column: str | None = None
    ) -> int:
        """Load `src`; rows come from `source_file`, or from the file each row's
        `file_column` names."""
        columns = self._columns()
        mapping = spec if isinstance(spec, TableMapping) else spec(columns)
        where = source_file
        file_expr = quote(file_column) if file_column else literal(source_file)
        for role in ("step", "completion"):
            if role not in mapping.fields or mapping.fields[role] not in columns:
                wanted = mapping.fields.get(role, role)
                raise RunFormatError(f"missing required column '{wanted}'", where)
        step_col = mapping.fields["step"]
        step_type = columns[step_col]
        if not step_type.startswith(NUMBER_TYPES):
            raise RunFormatError(f"column '{step_col}' must be an integer, got {step_type}", where)
        used = {step_col}
        scalars = {
            name: scalar_select(name, mapping, columns, used, where) for name in SCALAR_FIELDS
        }
        offset = self.builder.rows
        self._insert_rewards(mapping, columns, offset, where)
        checks = self._row_checks(mapping, scalars)
        bad = self._bad_rows(checks, offset, file_expr, first_only=not skip)
        if bad and not skip:
            _, row, file, reason = bad[0]
            raise RunFormatError(f"row {row}: {reason}", file)
        if bad:
            for _, row, file, reason in bad:
                self.ctx.bad_line(file, row, reason)
            self._drop_rows([pos for pos, *_ in bad], offset)
            self._insert_rewards(mapping, columns, offset, where)
        missing_nan = self._missing_nan(scalars, offset)
        self._insert_samples(mapping, columns, scalars, used, offset, file_expr)
        if mapping.grader_inputs in columns:
            inputs = nested_select(mapping.grader_inputs, columns, "VARCHAR", offset, where)
            if inputs:
                self._run(
                    f"INSERT INTO {self.target.inputs} {inputs}",
                    where,
                    f"column '{mapping.grader_inputs}' has values of the wrong type",
                )
        rows = int(fetch_value(self.con, "SELECT count(*) FROM src") or 0)
        self.con.execute("DROP VIEW src")
        self.con.execute("DROP TABLE IF EXISTS src_kept")
        self.con.execute("DROP TABLE IF EXISTS src_rows")
        self.ctx.table_missing_nan.update(missing_nan)
        self.builder.add_loaded(self.target, rows)
        return rows

    def _insert_samples(
        self,
        mapping: TableMapping,
        columns: dict[str, str],
        scalars: dict[str, str],
        used: set[str],
        offset: int,
        file_expr: str,
    ) -> None:
        """The staging rows of `src`: scalars, step, meta and every unused column as extras;
        `file_expr` gives each row's source file (a literal, or the `_file` column)."""
        step_col = mapping.fields["step"]
        select = [scalars["sample_id"], f"CAST({quote(step_col)} AS BIGINT)"]
        select += [self._value(name, expr) for name, expr in scalars.items() if name != "sample_id"]
        meta = mapping.meta if mapping.meta in columns else None
        select.append(f"CAST(to_json({quote(meta)}) AS JSON)" if meta else "NULL")
        nested = {mapping.rewards, mapping.grader_inputs, meta, *mapping.reward_columns.values()}
        used |= {c for c in nested if c}
        extras = [c for c in columns if c not in used]
        select.append(
            "CAST(json_object("
            + ", ".join(f"{literal(c)}, {quote(c)}" for c in extras)
            + ") AS JSON)"
            if extras
            else "NULL"
        )
        logged = f"({self._value('reward_total', scalars['reward_total'])}) IS NOT NULL"
        sql = (
            f"INSERT INTO {self.target.samples} SELECT {offset} + _pos, "
            + ", ".join(select)
            + f", {file_expr}, _row, {logged} FROM src"
        )
        self._run(sql, self.ctx.place[0] or "", "a column has the wrong type")

    def _nan_missing(self, field: str) -> bool:
        return field in self.ctx.nan_means_missing

    def _value(self, name: str, expr: str) -> str:
        """The column expression of a scalar, with NaN as NULL where the reader says so."""
        if SCALAR_FIELDS[name] == "number" and expr != "NULL" and self._nan_missing(name):
            return f"nullif({expr}, 'NaN'::DOUBLE)"
        return expr

    def _row_checks(self, mapping: TableMapping, scalars: dict[str, str]) -> list[tuple[str, str]]:
        """(condition over `src`, SQL text of the reason) for every row-level fault."""
        step_col, completion = mapping.fields["step"], mapping.fields["completion"]
        step = quote(step_col)
        checks = [
            (
                f"{step} IS NULL OR {step} < 0 OR {step} <> floor({step}) "
                f"OR CAST({step} AS DOUBLE) >= {float(2**63)}",
                literal(f"column '{step_col}' must be a non-negative integer below 2**63"),
            ),
        ]
        if completion not in self.null_free:
            checks.append(
                (f"{quote(completion)} IS NULL", literal(f"column '{completion}' is null"))
            )
        for name, expr in scalars.items():
            if SCALAR_FIELDS[name] == "number" and expr != "NULL":
                checks.append(finite_check(self._nan_missing(name), literal(name), expr))
        return checks

    def _bad_rows(
        self, checks: list[tuple[str, str]], offset: int, file_expr: str, first_only: bool
    ) -> list[tuple[int, int, str, str]]:
        """(position, row, file, reason) of the faulty rows in load order, one reason per
        row; reward values are checked in the `rewards` rows this table added (from `offset`
        on)."""
        first_reason = " ".join(f"WHEN {condition} THEN {why}" for condition, why in checks)
        any_fault = " OR ".join(f"({condition})" for condition, _ in checks)
        bad, reason = finite_check(
            self._nan_missing("rewards"), "'rewards.' || r.component", "r.value"
        )
        limit = " LIMIT 1" if first_only else ""
        # One scan of the source, and one query at a time: scans of a Parquet file running
        # side by side each hold a row group's buffers, past the ingest's memory cap.
        rows = self.con.execute(
            f"SELECT _pos, _row, {file_expr} AS file, CASE {first_reason} END AS reason, "
            f"0 AS k FROM src WHERE {any_fault} ORDER BY _pos{limit}"
        ).fetchall()
        bad_values = self.con.execute(
            f"SELECT r.row_idx - {offset}, {reason} FROM {self.target.rewards} r "
            f"WHERE r.row_idx >= {offset} AND {bad} ORDER BY r.row_idx, r.component{limit}"
        ).fetchall()
        if bad_values:  # their rows' places: a second scan only when there are any
            places = {
                int(pos): (row, file)
                for pos, row, file in self.con.execute(
                    f"SELECT _pos, _row, {file_expr} FROM src "
                    "WHERE _pos IN (SELECT unnest(?::BIGINT[]))",
                    [[int(pos) for pos, _ in bad_values]],
                ).fetchall()
            }
            rows += [(pos, *places[int(pos)], why, 1) for pos, why in bad_values]
        rows.sort(key=lambda row: (int(row[0]), int(row[4])))
        if first_only:
            rows = rows[:1]
        first: dict[int, tuple[int, int, str, str]] = {}
        for pos, row, file, why, _ in rows:
            first.setdefault(int(pos), (int(pos), int(row), str(file), str(why)))
        return list(first.values())

    def _drop_rows(self, positions: list[int], offset: int) -> None:
        """Leave the rows at `positions` out of `src` (positions renumbered) and forget their
        reward values."""
        self.con.execute(f"DELETE FROM {self.target.rewards} WHERE row_idx >= {offset}")
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE src_kept AS SELECT * EXCLUDE (_pos), "
            "row_number() OVER (ORDER BY _pos) - 1 AS _pos FROM src "
            "WHERE _pos NOT IN (SELECT unnest(?::BIGINT[]))",
            [positions],
        )
        self.con.execute("CREATE OR REPLACE TEMP VIEW src AS SELECT * FROM src_kept")

    def _missing_nan(self, scalars: dict[str, str], offset: int) -> Counter[str]:
        """Count the NaN the reader's policy reads as missing; drop such reward values."""
        counts: Counter[str] = Counter()
        for name, expr in scalars.items():
            if SCALAR_FIELDS[name] == "number" and expr != "NULL" and self._nan_missing(name):
                sql = f"SELECT count(*) FROM src WHERE isnan({expr})"
                counts[name] += int(fetch_value(self.con, sql) or 0)
        if self._nan_missing("rewards"):
            where = f"row_idx >= {offset} AND isnan(value)"
            for component, n in self.con.execute(
                f"SELECT component, count(*) FROM {self.target.rewards} WHERE {where} GROUP BY 1"
            ).fetchall():
                counts[f"rewards.{component}"] += int(n)
            self.con.execute(f"DELETE FROM {self.target.rewards} WHERE {where}")
        return +counts

    def _insert_rewards(
        self, mapping: TableMapping, columns: dict[str, str], offset: int, where: str
    ) -> None:
        """Reward values of every row of `src` as long rows (non-finite ones included, for
        the checks to find)."""
        for component, column in mapping.reward_columns.items():
            if column in columns:
                self._run(
                    f"INSERT INTO {self.target.rewards} SELECT {offset} + _pos, "
                    f"{literal(component)}, CAST({quote(column)} AS DOUBLE) FROM src "
                    f"WHERE {quote(column)} IS NOT NULL",
                    where,
                    f"reward column '{column}' must be numeric",
                )
        if mapping.rewards in columns:
            sql = nested_select(mapping.rewards, columns, "DOUBLE", offset, where)
            if sql:
                self._run(
                    f"INSERT INTO {self.target.rewards} {sql}",
                    where,
                    f"column '{mapping.rewards}' has values of the wrong type",
                )

    def _run(self, sql: str, where: str, what: str) -> None:
        try:
            self.con.execute(sql)
        except duckdb.OutOfMemoryException:
            raise  # not the data's fault: the file's error says so
        except duckdb.Error as exc:
            raise load_error(exc, what, where) from None
