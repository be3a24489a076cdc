"""Lay an overlay's sample-level keys over the rows an importer staged: labels, reasoning,
which columns are components, and group ids from a group size.

Each step works in DuckDB over the staging rows from `first_row` on (an append touches only
the rows it added) and returns the notes that say what it did, so no decision is silent. Rows
are changed window by window (`_update`), so memory stays flat however long the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb

from rootcause.core.errors import BadInputError
from rootcause.store.overlay import LabelRule, ReasoningSpec, RunOverlay
from rootcause.store.sql import fetch_value, row_windows
from rootcause.store.table_sql import literal, quote

_OPEN, _CLOSE = "<think>", "</think>"


def apply_overlay(con: duckdb.DuckDBPyConnection, overlay: RunOverlay, first_row: int) -> list[str]:
    """Apply labels, reasoning, components and group size to staging rows from `first_row`."""
    notes: list[str] = []
    for name, rule in (overlay.labels or {}).items():
        notes.append(_apply_label(con, name, rule, first_row))
    if overlay.reasoning is not None:
        notes.append(_apply_reasoning(con, overlay.reasoning, first_row))
    if overlay.components is not None:
        notes += _apply_components(con, overlay, first_row)
    if overlay.group_size is not None:
        notes += _apply_group_size(con, overlay.group_size, first_row)
    return [n for n in notes if n]


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    return int(fetch_value(con, sql, params) or 0)


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list[object], what: str) -> None:
    try:
        con.execute(sql, params)
    except duckdb.Error as exc:
        detail = str(exc).strip().splitlines()[0]
        raise BadInputError(f"overlay {what}: {detail}") from None


def _update(
    con: duckdb.DuckDBPyConnection,
    sql: Callable[[str], str],
    params: list[object],
    first: int,
    what: str,
) -> None:
    """Run the UPDATE of `samples` that `sql` makes of a window of `row_idx` (SQL text to
    follow a row index: `BETWEEN a AND b`) over the rows from `first` on, one window at a
    time (`row_windows`): DuckDB keeps a statement's updates in memory until checkpointed."""
    end = int(fetch_value(con, "SELECT coalesce(max(row_idx) + 1, 0) FROM samples") or 0)
    for start, stop in row_windows(con, first, end):
        _run(con, sql(f"BETWEEN {start} AND {stop - 1}"), params, what)


def _apply_label(con: duckdb.DuckDBPyConnection, name: str, rule: LabelRule, first: int) -> str:
    rows = _count(con, "SELECT count(*) FROM samples WHERE row_idx >= ?", [first])
    where = f"labels.{name}"
    if rule.source == "value":
        set_value = f"UPDATE samples SET {name} = ? WHERE row_idx "
        _update(con, lambda rows: set_value + rows, [rule.value], first, where)
        return f"{name} set to {rule.value!r} for every sample (overlay)"
    if rule.source == "column":
        assert rule.column is not None
        path = "$." + '"' + rule.column.replace('"', '\\"') + '"'
        value = f"json_extract_string(extras, {literal(path)})"
        found = _count(
            con,
            f"SELECT count(*) FROM samples WHERE row_idx >= ? AND {value} IS NOT NULL",
            [first],
        )
        if found == 0 and rows:
            keys = _extras_keys(con, first)
            raise BadInputError(
                f"overlay {where}: no column {rule.column!r} among the kept columns "
                f"({', '.join(keys) or 'none'})"
            )
        _update(
            con,
            lambda rows: (
                f"UPDATE samples SET {name} = {value} WHERE row_idx {rows} AND {value} IS NOT NULL"
            ),
            [],
            first,
            where,
        )
        return f"{name} taken from column {rule.column!r} for {found:,} of {rows:,} samples"
    assert rule.regex is not None
    group = 1 if re.compile(rule.regex).groups else 0
    field = quote(rule.source)
    matches = f"regexp_matches({field}, ?)"
    _check_regex(con, rule.regex, where)
    found = _count(
        con, f"SELECT count(*) FROM samples WHERE row_idx >= ? AND {matches}", [first, rule.regex]
    )
    _update(
        con,
        lambda rows: (
            f"UPDATE samples SET {name} = nullif(regexp_extract({field}, ?, {group}), "
            f"'') WHERE row_idx {rows} AND {matches}"
        ),
        [rule.regex, rule.regex],
        first,
        where,
    )
    rest = f"; the other {rows - found:,} keep their logged {name}, if any" if found < rows else ""
    return f"{name} taken from the {rule.describe()}: {found:,} of {rows:,} samples matched{rest}"


def _check_regex(con: duckdb.DuckDBPyConnection, pattern: str, what: str) -> None:
    """Refuse a pattern RE2 (DuckDB's regex engine) cannot compile, naming the overlay key."""
    try:
        con.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
    except duckdb.Error as exc:
        detail = str(exc).strip().splitlines()[0]
        raise BadInputError(
            f"overlay {what}: regex '{pattern}' is not valid RE2 ({detail})"
        ) from None


def _extras_keys(con: duckdb.DuckDBPyConnection, first: int) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT unnest(json_keys(extras)) FROM (SELECT extras FROM samples "
        "WHERE row_idx >= ? AND extras IS NOT NULL LIMIT 1000) ORDER BY 1",
        [first],
    ).fetchall()
    return [str(r[0]) for r in rows]


def _apply_reasoning(con: duckdb.DuckDBPyConnection, spec: ReasoningSpec, first: int) -> str:
    """Split reasoning out of completions that have none logged."""
    todo = f"row_idx >= {int(first)} AND reasoning IS NULL"
    if spec.regex is not None:
        _check_regex(con, spec.regex, "reasoning")
        pattern = literal(spec.regex)
        where = f"{todo} AND regexp_matches(completion, {pattern})"
        found = _count(con, f"SELECT count(*) FROM samples WHERE {where}")
        _update(
            con,
            lambda rows: (
                f"UPDATE samples SET reasoning = regexp_extract(completion, {pattern}, "
                f"1), completion = trim(regexp_replace(completion, {pattern}, '')) "
                f"WHERE row_idx {rows} AND {where}"
            ),
            [],
            first,
            "reasoning",
        )
        return f"reasoning split from the completion by regex '{spec.regex}' in {found:,} samples"
    o, c = f"strpos(completion, {literal(_OPEN)})", f"strpos(completion, {literal(_CLOSE)})"
    close_only = f"{c} > 0 AND ({o} = 0 OR {o} > {c})"
    both = f"{o} > 0 AND {c} > {o}"
    open_only = f"{o} > 0 AND {c} = 0"
    counts = fetch_value(
        con,
        f"SELECT [count(*) FILTER (WHERE {close_only}), count(*) FILTER (WHERE {both}), "
        f"count(*) FILTER (WHERE {open_only})] FROM samples WHERE {todo}",
    )
    n_close, n_both, n_open = (int(v) for v in counts)
    after_close = f"substr(completion, {c} + {len(_CLOSE)})"
    split = (
        f"UPDATE samples SET "
        f"reasoning = trim(CASE WHEN {close_only} THEN substr(completion, 1, {c} - 1) "
        f"WHEN {both} THEN substr(completion, {o} + {len(_OPEN)}, {c} - {o} - {len(_OPEN)}) "
        f"ELSE substr(completion, {o} + {len(_OPEN)}) END), "
        f"completion = trim(CASE WHEN {close_only} THEN {after_close} "
        f"WHEN {both} THEN substr(completion, 1, {o} - 1) || {after_close} "
        f"ELSE substr(completion, 1, {o} - 1) END) "
        f"WHERE {todo} AND ({close_only} OR {both} OR {open_only})"
    )
    _update(con, lambda rows: f"{split} AND row_idx {rows}", [], first, "reasoning")
    parts = [f"{n_both:,} with both tags"]
    if n_close:
        parts.append(f"{n_close:,} closing a tag opened in the prompt")
    if n_open:
        parts.append(f"{n_open:,} never closed (cut off while thinking: no final answer)")
    total = n_close + n_both + n_open
    return f"reasoning split from <think> tags in {total:,} samples ({'; '.join(parts)})"


def _components(con: duckdb.DuckDBPyConnection, first: int) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT component FROM rewards WHERE row_idx >= ? ORDER BY 1", [first]
    ).fetchall()
    return [str(r[0]) for r in rows]


def _apply_components(con: duckdb.DuckDBPyConnection, overlay: RunOverlay, first: int) -> list[str]:
    """Move the components the overlay leaves out into extras; make numeric extras it names
    components."""
    spec = overlay.components
    assert spec is not None
    present = _components(con, first)
    notes: list[str] = []
    dropped = [name for name in present if not spec.keeps(name)]
    for name in dropped:
        _update(
            con,
            lambda rows: (
                "UPDATE samples s SET extras = CAST(json_merge_patch(coalesce("
                "s.extras, '{}'), json_object(r.component, r.value)) AS JSON) FROM rewards r "
                f"WHERE r.row_idx = s.row_idx AND r.component = ? AND r.row_idx {rows} "
                f"AND s.row_idx {rows}"
            ),
            [name],
            first,
            "components",
        )
        con.execute("DELETE FROM rewards WHERE component = ? AND row_idx >= ?", [name, first])
    if dropped:
        notes.append(f"not reward components (overlay), kept as extras: {', '.join(dropped)}")
    for name in [n for n in spec.include or [] if n not in present]:
        path = literal("$." + '"' + name.replace('"', '\\"') + '"')
        value = f"TRY_CAST(json_extract(extras, {path}) AS DOUBLE)"
        added = _count(
            con,
            f"SELECT count(*) FROM samples WHERE row_idx >= ? AND {value} IS NOT NULL",
            [first],
        )
        if added == 0:
            raise BadInputError(
                f"overlay components.include: {name!r} is neither a reward component nor a "
                f"numeric column (components: {', '.join(present) or 'none'})"
            )
        con.execute(
            f"INSERT INTO rewards SELECT row_idx, ?, {value} FROM samples "
            f"WHERE row_idx >= ? AND {value} IS NOT NULL",
            [name, first],
        )
        notes.append(f"{name} made a reward component from its column (overlay): {added:,} values")
    return notes


def _apply_group_size(con: duckdb.DuckDBPyConnection, size: int, first: int) -> list[str]:
    """Group ids for rows without one: blocks of `size` consecutive rows of a file."""
    missing = _count(
        con, "SELECT count(*) FROM samples WHERE row_idx >= ? AND group_id IS NULL", [first]
    )
    logged = _count(con, "SELECT count(*) FROM samples WHERE row_idx >= ?", [first]) - missing
    notes = []
    if missing:
        _update(
            con,
            lambda rows: (
                "UPDATE samples SET group_id = source_file || '#' || "
                f"((source_row - 1) // ?) WHERE row_idx {rows} AND group_id IS NULL"
            ),
            [size],
            first,
            "group_size",
        )
        notes.append(
            f"group_id from group_size {size} (overlay): blocks of {size} consecutive rows "
            f"of a file, for {missing:,} samples"
        )
    if logged:
        notes.append(f"group_size {size} (overlay) not used for {logged:,} samples with a group")
    return notes
