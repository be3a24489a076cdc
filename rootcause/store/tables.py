"""Load a columnar table (Parquet file, or an Arrow table) into the staging samples.

The work stays inside DuckDB, vectorised: column types are checked once, bad rows are found
with one query each, and rewards become long rows with a few `INSERT ... SELECT`s. Native
Parquet samples, TRL completion files and W&B tables all come through here with a
`TableMapping` that says which column plays which part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from rootcause.core.errors import RunFormatError
from rootcause.store.database import STAGING, RunDatabaseBuilder
from rootcause.store.sql import fetch_one, fetch_value

_INTEGER_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)
_NUMBER_TYPES = (*_INTEGER_TYPES, "FLOAT", "DOUBLE", "DECIMAL", '"NULL"', "NULL")
_TEXT_TYPES = ("VARCHAR", "JSON", '"NULL"', "NULL")

#: Canonical scalar fields a mapping can fill, with the kind of column each needs.
SCALAR_FIELDS: dict[str, str] = {
    "sample_id": "id",
    "group_id": "id",
    "split": "text",
    "data_source": "text",
    "persona": "text",
    "env": "text",
    "prompt": "text",
    "reasoning": "text",
    "completion": "text",
    "reference": "text",
    "reward_total": "number",
    "advantage": "number",
}


@dataclass
class TableMapping:
    """Which source column plays which part of a sample.

    `fields` maps canonical names (and `step`) to source columns. `reward_columns` are wide
    columns, one per reward component (component name -> column). `rewards` and
    `grader_inputs` name a nested column (STRUCT, MAP or JSON text) of component -> value.
    Every other column is kept in `extras`.
    """

    fields: dict[str, str]
    reward_columns: dict[str, str] = field(default_factory=dict)
    rewards: str | None = None
    grader_inputs: str | None = None
    meta: str | None = None


#: A mapping, or a function that builds one from the source's columns (name -> DuckDB type),
#: for formats whose layout depends on the file (e.g. one column per reward function).
MappingSpec = TableMapping | Callable[[dict[str, str]], TableMapping]


def is_number_type(column_type: str) -> bool:
    """Whether a DuckDB column type (as DESCRIBE prints it) holds plain numbers, not lists."""
    return column_type.startswith(_NUMBER_TYPES) and not column_type.endswith("]")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class TableLoader:
    """Loads one source table (a DuckDB relation named `src` with a `_row` column) at a time."""

    def __init__(self, builder: RunDatabaseBuilder):
        self.builder = builder
        self.con = builder.con

    def load_parquet(self, path: Path, source_file: str, mapping: MappingSpec) -> int:
        """Load a Parquet file; returns the number of rows."""
        try:
            self.con.execute(
                "CREATE OR REPLACE TEMP VIEW src AS SELECT * EXCLUDE (file_row_number), "
                "file_row_number AS _pos, file_row_number + 1 AS _row "
                f"FROM read_parquet({_lit(str(path))}, file_row_number = true)"
            )
            fetch_one(self.con, "SELECT count(*) FROM src")
        except duckdb.Error as exc:
            raise RunFormatError(
                f"not a readable Parquet file ({_first_line(exc)})", source_file
            ) from None
        return self._load(source_file, mapping)

    def load_arrow(
        self, table: pa.Table, source_file: str, mapping: TableMapping, first_row: int = 1
    ) -> int:
        """Load an in-memory Arrow table whose rows are numbered from `first_row`."""
        positions = pa.array(range(table.num_rows), type=pa.int64())
        rows = pa.array(range(first_row, first_row + table.num_rows), type=pa.int64())
        table = table.append_column("_pos", positions).append_column("_row", rows)
        self.con.register("src_arrow", table)
        self.con.execute("CREATE OR REPLACE TEMP VIEW src AS SELECT * FROM src_arrow")
        try:
            return self._load(source_file, mapping)
        finally:
            self.con.unregister("src_arrow")

    def load_json_chunk(
        self, chunk: bytes, first_line: int, source_file: str, mapping: TableMapping
    ) -> bool:
        """Fast path for a chunk of JSON lines: parse with Arrow, load in one transaction.

        Returns False (and loads nothing) whenever the chunk needs the line-by-line reader:
        blank lines (rows would not match lines), a parse or type error, or anything Arrow
        infers differently from the sample format. That reader then gives the exact error.
        """
        import pyarrow.json as pa_json

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

    def _columns(self) -> dict[str, str]:
        rows = self.con.execute("DESCRIBE src").fetchall()
        return {str(name): str(kind) for name, kind, *_ in rows if name not in ("_row", "_pos")}

    def _load(self, source_file: str, spec: MappingSpec) -> int:
        columns = self._columns()
        mapping = spec if isinstance(spec, TableMapping) else spec(columns)
        where = source_file
        for role in ("step", "completion"):
            if role not in mapping.fields or mapping.fields[role] not in columns:
                wanted = mapping.fields.get(role, role)
                raise RunFormatError(f"missing required column '{wanted}'", where)
        step_col = mapping.fields["step"]
        step_type = columns[step_col]
        if not step_type.startswith(_NUMBER_TYPES):
            raise RunFormatError(f"column '{step_col}' must be an integer, got {step_type}", where)
        self._check_rows(
            f"{_q(step_col)} IS NULL OR {_q(step_col)} < 0 "
            f"OR {_q(step_col)} <> floor({_q(step_col)})",
            f"column '{step_col}' must be a non-negative integer",
            where,
        )
        select: list[str] = []
        used = {step_col}
        for name in ("sample_id", "group_id"):
            select.append(self._scalar(name, mapping, columns, used, where))
        select.insert(1, f"CAST({_q(step_col)} AS BIGINT)")
        for name in SCALAR_FIELDS:
            if name not in ("sample_id", "group_id"):
                select.append(self._scalar(name, mapping, columns, used, where))
        self._check_rows(
            f"{_q(mapping.fields['completion'])} IS NULL",
            f"column '{mapping.fields['completion']}' is null",
            where,
        )
        meta = mapping.meta if mapping.meta in columns else None
        select.append(f"CAST(to_json({_q(meta)}) AS JSON)" if meta else "NULL")
        nested = {mapping.rewards, mapping.grader_inputs, meta, *mapping.reward_columns.values()}
        used |= {c for c in nested if c}
        extras = [c for c in columns if c not in used]
        select.append(
            "CAST(json_object(" + ", ".join(f"{_lit(c)}, {_q(c)}" for c in extras) + ") AS JSON)"
            if extras
            else "NULL"
        )
        offset = self.builder.rows
        sql = (
            f"INSERT INTO {STAGING} SELECT {offset} + _pos, "
            + ", ".join(select)
            + f", {_lit(source_file)}, _row, NULL FROM src"
        )
        self._run(sql, where, "a column has the wrong type")
        for component, column in mapping.reward_columns.items():
            if column in columns:
                self._run(
                    f"INSERT INTO rewards SELECT {offset} + _pos, {_lit(component)}, "
                    f"CAST({_q(column)} AS DOUBLE) FROM src WHERE {_q(column)} IS NOT NULL "
                    f"AND NOT isnan(CAST({_q(column)} AS DOUBLE))",
                    where,
                    f"reward column '{column}' must be numeric",
                )
        if mapping.rewards in columns:
            self._load_nested("rewards", mapping.rewards, columns, "DOUBLE", offset, where)
        if mapping.grader_inputs in columns:
            self._load_nested(
                "grader_inputs", mapping.grader_inputs, columns, "VARCHAR", offset, where
            )
        rows = int(fetch_value(self.con, "SELECT count(*) FROM src") or 0)
        self.builder.rows += rows
        return rows

    def _scalar(
        self, name: str, mapping: TableMapping, columns: dict[str, str], used: set[str], where: str
    ) -> str:
        column = mapping.fields.get(name)
        if column is None or column not in columns:
            return "NULL"
        used.add(column)
        kind, ctype = SCALAR_FIELDS[name], columns[column]
        if kind == "number":
            if not is_number_type(ctype):
                raise RunFormatError(f"column '{column}' must be numeric, got {ctype}", where)
            # NaN means "no value" here, as in the record path.
            return f"nullif(CAST({_q(column)} AS DOUBLE), 'NaN'::DOUBLE)"
        allowed = _TEXT_TYPES + (_INTEGER_TYPES if kind == "id" else ())
        if not ctype.startswith(allowed):
            raise RunFormatError(f"column '{column}' must be text, got {ctype}", where)
        return f"CAST({_q(column)} AS VARCHAR)"

    def _load_nested(
        self,
        table: str,
        column: str,
        columns: dict[str, str],
        value_type: str,
        offset: int,
        where: str,
    ) -> None:
        ctype, col = columns[column], _q(column)
        row = f"{offset} + _pos"
        if ctype.startswith("STRUCT"):
            fields = _struct_fields(ctype)
            allowed = _NUMBER_TYPES if value_type == "DOUBLE" else _TEXT_TYPES
            for name, kind in fields:
                if not kind.startswith(allowed):
                    raise RunFormatError(f"'{column}.{name.strip(chr(34))}' has type {kind}", where)
            keys = [name.strip('"').replace('""', '"') for name, _ in fields]
            parts = [
                f"SELECT {row}, {_lit(k)}, CAST({col}.{_q(k)} AS {value_type}) FROM src "
                f"WHERE {col}.{_q(k)} IS NOT NULL"
                for k in keys
            ]
            sql = " UNION ALL ".join(parts)
            if not sql:
                return
        elif ctype.startswith("MAP"):
            sql = (
                f"SELECT r, k, CAST(v AS {value_type}) FROM (SELECT {row} AS r, "
                f"unnest(map_keys({col})) AS k, unnest(map_values({col})) AS v FROM src) "
                "WHERE v IS NOT NULL"
            )
        elif ctype.startswith(_TEXT_TYPES):
            extract = "json_extract_string" if value_type == "VARCHAR" else "json_extract"
            sql = (
                f"SELECT r, k, CAST({extract}(j, '$.\"' || k || '\"') AS {value_type}) FROM "
                f"(SELECT {row} AS r, CAST({col} AS JSON) AS j, "
                f"unnest(json_keys(CAST({col} AS JSON))) AS k FROM src WHERE {col} IS NOT NULL) "
                "WHERE json_extract(j, '$.\"' || k || '\"') <> 'null'"
            )
        else:
            raise RunFormatError(
                f"column '{column}' must be a struct, map or JSON object, got {ctype}", where
            )
        self._run(
            f"INSERT INTO {table} {sql}", where, f"column '{column}' has values of the wrong type"
        )

    def _check_rows(self, bad_condition: str, message: str, where: str) -> None:
        bad_row = fetch_value(self.con, f"SELECT min(_row) FROM src WHERE {bad_condition}")
        if bad_row is not None:
            raise RunFormatError(f"row {int(bad_row)}: {message}", where)

    def _run(self, sql: str, where: str, what: str) -> None:
        try:
            self.con.execute(sql)
        except duckdb.Error as exc:
            raise RunFormatError(f"{what} ({_first_line(exc)})", where) from None


def _struct_fields(struct_type: str) -> list[tuple[str, str]]:
    """Split DuckDB's `STRUCT(a DOUBLE, "b c" STRUCT(x INT))` into (name, type) pairs."""
    inner = struct_type[len("STRUCT(") : -1]
    fields: list[str] = []
    depth, current, quoted = 0, "", False
    for ch in inner:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            fields.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        fields.append(current.strip())
    pairs: list[tuple[str, str]] = []
    for f in fields:
        if f.startswith('"'):
            end = f.index('"', 1)
            pairs.append((f[: end + 1], f[end + 1 :].strip()))
        else:
            name, _, kind = f.partition(" ")
            pairs.append((name, kind))
    return pairs


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
