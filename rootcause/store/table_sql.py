"""SQL text helpers for loading columnar tables: type classes, quoting, nested columns."""

from __future__ import annotations

import duckdb

from rootcause.core.errors import RunFormatError

INTEGER_TYPES = (
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
NUMBER_TYPES = (*INTEGER_TYPES, "FLOAT", "DOUBLE", "DECIMAL", '"NULL"', "NULL")
TEXT_TYPES = ("VARCHAR", "JSON", '"NULL"', "NULL")


def is_number_type(column_type: str) -> bool:
    """Whether a DuckDB column type (as DESCRIBE prints it) holds plain numbers, not lists."""
    return column_type.startswith(NUMBER_TYPES) and not column_type.endswith("]")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def nested_select(
    column: str, columns: dict[str, str], value_type: str, offset: int, where: str
) -> str:
    """SELECT of (row_idx, key, value) rows from a struct, map or JSON-object column."""
    ctype, col = columns[column], quote(column)
    row = f"{offset} + _pos"
    if ctype.startswith("STRUCT"):
        fields = struct_fields(ctype)
        allowed = NUMBER_TYPES if value_type == "DOUBLE" else TEXT_TYPES
        for name, kind in fields:
            if not kind.startswith(allowed):
                raise RunFormatError(f"'{column}.{name.strip(chr(34))}' has type {kind}", where)
        keys = [name.strip('"').replace('""', '"') for name, _ in fields]
        return " UNION ALL ".join(
            f"SELECT {row}, {literal(k)}, CAST({col}.{quote(k)} AS {value_type}) FROM src "
            f"WHERE {col}.{quote(k)} IS NOT NULL"
            for k in keys
        )
    if ctype.startswith("MAP"):
        return (
            f"SELECT r, k, CAST(v AS {value_type}) FROM (SELECT {row} AS r, "
            f"unnest(map_keys({col})) AS k, unnest(map_values({col})) AS v FROM src) "
            "WHERE v IS NOT NULL"
        )
    if ctype.startswith(TEXT_TYPES):
        extract = "json_extract_string" if value_type == "VARCHAR" else "json_extract"
        return (
            f"SELECT r, k, CAST({extract}(j, '$.\"' || k || '\"') AS {value_type}) FROM "
            f"(SELECT {row} AS r, CAST({col} AS JSON) AS j, "
            f"unnest(json_keys(CAST({col} AS JSON))) AS k FROM src WHERE {col} IS NOT NULL) "
            "WHERE json_extract(j, '$.\"' || k || '\"') <> 'null'"
        )
    raise RunFormatError(
        f"column '{column}' must be a struct, map or JSON object, got {ctype}", where
    )


def finite_check(nan_missing: bool, field_sql: str, expr: str) -> tuple[str, str]:
    """(condition, reason) refusing a non-finite `expr`; NaN passes when it means missing.

    `field_sql` is SQL text that gives the field's name for the reason."""
    bad = f"isinf({expr})" if nan_missing else f"NOT isfinite({expr})"
    got = f"CASE WHEN isnan({expr}) THEN 'NaN' WHEN {expr} > 0 THEN 'Infinity' ELSE '-Infinity' END"
    reason = f"'field ''' || {field_sql} || ''' must be a finite number, got ' || {got}"
    return bad, reason


def struct_fields(struct_type: str) -> list[tuple[str, str]]:
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


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


#: DuckDB's errors of a value that does not fit its column's type.
_TYPE_ERRORS = (
    duckdb.ConversionException,
    duckdb.BinderException,
    duckdb.TypeMismatchException,
    duckdb.InvalidTypeException,
)


def load_error(exc: duckdb.Error, what: str, where: str) -> RunFormatError:
    """The error of a failed load statement: a value it could not convert means `what` (a
    column has the wrong type); anything else, that the data would not read (a corrupt page
    is not a column's type)."""
    if isinstance(exc, _TYPE_ERRORS):
        return RunFormatError(f"{what} ({first_line(exc)})", where)
    return RunFormatError(f"could not be read ({first_line(exc)})", where)
