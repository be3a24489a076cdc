"""A cap on the size of any one value an untrusted query builds.

DuckDB checks for an interrupt between chunks, not inside one function call, and a string
built by one call is not held to `memory_limit`: `repeat('x', 2000000000)` takes a minute
and gigabytes whatever the time limit. So the functions that build a value of a size given
by an argument are held to `max_value_chars`:

- `repeat`, `lpad` and `rpad` are shadowed by temporary macros of the same name that raise
  an error before a result over the cap is built (also when the count comes from a column);
- a call to them by a qualified name (`system.main.repeat`), which would pass the macros, is
  refused, as is `printf`/`format` with a format that is not a literal or asks for a width
  over the cap, and `range`, `generate_series`, `list_resize` and `array_resize` used as
  scalar functions with a literal over the cap;
- a value built from others (the `||` operator, `concat`, `concat_ws`, the list
  concatenations, and the aggregates `string_agg`, `group_concat`, `listagg`, `list`,
  `array_agg`) is wrapped in a checking macro by rewriting the statement (`capped_sql`), so
  it can be at most twice the cap before it is refused: a doubling (`s || s` in a recursive
  CTE or nested subqueries) stops at the first step over the cap. An aggregate's value is
  checked once built, so it is bounded by the rows it reads, not by the cap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import duckdb
import orjson

#: The longest value (characters or list items) one function call of a query may build.
MAX_VALUE_CHARS = 100_000

#: Functions shadowed by a checking macro: name -> (parameters, the count parameter, when the
#: result is too big). The check guards the count argument itself: DuckDB may evaluate
#: every branch of a CASE, so a CASE around the call would build the value anyway.
_SHADOWED = {
    "repeat": ("s, n", "n", "n > {cap} OR length(s) * n > {cap}"),
    "lpad": ("s, n, p", "n", "n > {cap}"),
    "rpad": ("s, n, p", "n", "n > {cap}"),
}
_FORMATS = frozenset({"printf", "format"})
_SIZED = frozenset({"range", "generate_series", "list_resize", "array_resize"})
_WIDTH = re.compile(r"\d+")
#: Calls whose value is built from other values, checked by the `CAP_MACRO` once built.
_COMBINED = frozenset(
    {
        *("||", "concat", "concat_ws", "list_concat", "list_cat", "array_concat", "array_cat"),
        *("string_agg", "group_concat", "listagg", "list", "array_agg"),
    }
)
#: The macro wrapped around every `_COMBINED` call: the value, or an error over the cap (the
#: lambda names the value once, so nested wraps do not repeat the expression).
CAP_MACRO = "rootcause_value_cap"


class ValueCapError(ValueError):
    """A query would build a value over the cap (its message is the one line to show)."""


def _shadow_message(name: str, cap: int) -> str:
    return f"{name}: the result would exceed the sandbox cap of {cap:,} characters"


def _combined_message(cap: int) -> str:
    return f"a value built by || or concatenation would exceed the sandbox cap of {cap:,}"


def guard_message(engine_error: str, cap: int) -> str | None:
    """The guard's own one-line message when `engine_error` is one the macros raised (shown
    as ours, not quoted as data), else None. Only the fixed text is returned, never the
    engine's words around it."""
    for message in (*(_shadow_message(n, cap) for n in _SHADOWED), _combined_message(cap)):
        if message in engine_error:
            return message
    return None


def guard_statements(cap: int) -> list[str]:
    """The temporary macros that shadow the size-giving functions (see the module text)."""
    statements = []
    for name, (params, count, too_big) in _SHADOWED.items():
        check = too_big.format(cap=cap)
        message = _shadow_message(name, cap)
        checked = f"CASE WHEN {check} THEN CAST(error('{message}') AS INTEGER) ELSE {count} END"
        guarded = ", ".join(checked if p == count else p for p in params.split(", "))
        statements.append(f"CREATE TEMP MACRO {name}({params}) AS system.main.{name}({guarded})")
    message = _combined_message(cap)
    statements.append(
        f"CREATE TEMP MACRO {CAP_MACRO}(v) AS list_transform([v], lambda x: "
        f"CASE WHEN length(x) > {cap} THEN error('{message}') ELSE x END)[1]"
    )
    return statements


def capped_sql(con: duckdb.DuckDBPyConnection, sql: str, cap: int) -> str:
    """`sql` checked for calls the macros cannot hold (`_check_tree`), with every call that
    combines values (`_COMBINED`) wrapped in the checking macro; the text itself when there
    is none."""
    row = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    tree = orjson.loads(row[0]) if row else {}
    _check_tree(tree, cap)
    _keep_names(tree, sql.encode())
    if not _wrap_combined(tree):
        return sql
    text = con.execute("SELECT json_deserialize_sql(?)", [orjson.dumps(tree).decode()])
    rewritten = text.fetchone()
    return str(rewritten[0]) if rewritten else sql


def _keep_names(node: Any, text: bytes) -> None:
    """Name each unnamed combining call of a select list by its own text, as DuckDB would
    (an operator in parentheses), so that wrapping it does not rename the column."""
    if isinstance(node, dict):
        for item in node.get("select_list") or []:
            start, size = item.get("query_location"), item.get("query_location_length")
            if _is_combined(item) and not item.get("alias") and start is not None and size:
                shown = text[start : start + size].decode("utf-8", "replace")
                item["alias"] = f"({shown})" if item.get("is_operator") else shown
        for value in node.values():
            _keep_names(value, text)
    elif isinstance(node, list):
        for value in node:
            _keep_names(value, text)


def _wrap_combined(node: Any) -> bool:
    """Wrap every `_COMBINED` call below `node` in a call of `CAP_MACRO`, in place; whether
    any was found."""
    found = False
    if isinstance(node, dict):
        for key, value in node.items():
            if _is_combined(value):
                _wrap_combined(value)
                node[key] = _cap_call(value)
                found = True
            else:
                found = _wrap_combined(value) or found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if _is_combined(value):
                _wrap_combined(value)
                node[i] = _cap_call(value)
                found = True
            else:
                found = _wrap_combined(value) or found
    return found


def _is_combined(node: Any) -> bool:
    """A call that combines values: a function, or an aggregate used as a window
    (`string_agg(...) OVER (...)`)."""
    return (
        isinstance(node, dict)
        and node.get("class") in ("FUNCTION", "WINDOW")
        and str(node.get("function_name", "")).lower() in _COMBINED
    )


def _cap_call(call: dict[str, Any]) -> dict[str, Any]:
    """A call of `CAP_MACRO` around `call` (a function or a window), taking over its alias."""
    return {
        "class": "FUNCTION",
        "type": "FUNCTION",
        "alias": call.get("alias", ""),
        "query_location": call.get("query_location"),
        "query_location_length": call.get("query_location_length"),
        "function_name": CAP_MACRO,
        "schema": "",
        "catalog": "",
        "filter": None,
        "order_bys": {"type": "ORDER_MODIFIER", "orders": []},
        "distinct": False,
        "is_operator": False,
        "export_state": False,
        "arguments": [{"name": "", "expression": {**call, "alias": ""}}],
        "qualified_name": {"path": [CAP_MACRO]},
        "is_legacy_function_call": False,
    }


def _check_tree(tree: Any, cap: int) -> None:
    """Refuse a statement whose calls the macros cannot hold to `cap` (see the module text)."""
    for node in _functions(tree):
        name = str(node.get("function_name", "")).lower()
        qualified = bool(node.get("schema") or node.get("catalog"))
        if name in _SHADOWED and qualified:
            raise ValueCapError(f"call {name} by its plain name, not a qualified one")
        arguments = [a.get("expression", a) for a in node.get("arguments") or []]
        if name in _FORMATS:
            _check_format(name, arguments, cap)
        elif name in _SIZED:
            for value in _literals(arguments):
                if abs(value) > cap:
                    raise ValueCapError(f"{name}: {value:g} exceeds the sandbox's cap of {cap:,}")


def _check_format(name: str, arguments: list[Any], cap: int) -> None:
    first = arguments[0] if arguments else {}
    literal = first.get("literal") if isinstance(first, dict) else None
    if first.get("class") != "CONSTANT" or not isinstance(literal, dict):
        raise ValueCapError(f"{name}: give the format as a literal string")
    widths = [int(w) for w in _WIDTH.findall(str(literal.get("text", "")))]
    if any(w > cap for w in widths):
        raise ValueCapError(f"{name}: a width in the format exceeds the sandbox's cap of {cap:,}")


def _literals(arguments: list[Any]) -> Iterator[float]:
    for argument in arguments:
        if isinstance(argument, dict) and argument.get("class") == "CONSTANT":
            text = (argument.get("literal") or {}).get("text")
            try:
                yield float(str(text))
            except ValueError:
                continue


def _functions(node: Any) -> Iterator[dict[str, Any]]:
    """Every function call in a serialised statement tree."""
    if isinstance(node, dict):
        if node.get("class") == "FUNCTION":
            yield node
        for key, value in node.items():
            if key == "function" and node.get("type") == "TABLE_FUNCTION":
                # A table function (FROM range(n)) streams its rows: only its arguments count.
                yield from _functions(value.get("arguments") if isinstance(value, dict) else None)
            else:
                yield from _functions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _functions(value)
