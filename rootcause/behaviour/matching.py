"""Evaluate a behaviour on every sample of a run (cached per context and spec)."""

from __future__ import annotations

import re
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from rootcause.behaviour.behavior import (
    Behavior,
    InvalidBehaviorError,
    inflection_core,
    parse_behavior,
    word_bound,
)
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.frame import RunFrame, run_frame
from rootcause.store.sql import fetch_value

BoolArray = npt.NDArray[np.bool_]


def behavior_sql(behavior: Behavior) -> tuple[str, list[Any]]:
    """A DuckDB boolean expression over `samples` (regex, terms and words behaviours)."""
    column = f"coalesce({behavior.field}, '')"
    if behavior.kind == "terms":
        # A literal alternation of what every inflection of a term contains (no word
        # boundaries) runs on RE2's fast path, several times quicker than the full pattern;
        # only texts it finds are matched with the full regex.
        cores = "|".join(re.escape(inflection_core(t)) for t in behavior.terms())
        return (
            f"CASE WHEN regexp_matches({column}, ?) THEN regexp_matches({column}, ?) "
            "ELSE false END",
            [f"(?i)(?:{cores})", behavior.regex()],
        )
    if behavior.kind == "regex":
        return f"regexp_matches({column}, ?)", [behavior.regex()]
    if behavior.kind == "words":
        op, bound = word_bound(behavior)
        return f"len(regexp_extract_all({column}, '\\S+')) {op} ?", [bound]
    raise InvalidBehaviorError(f"behaviour {behavior.spec!r} cannot be expressed in SQL")


def check_regex(ctx: RunContext, pattern: str) -> None:
    """Raise InvalidBehaviorError when DuckDB (RE2) cannot compile `pattern`."""
    try:
        fetch_value(ctx.con, "SELECT regexp_matches('', ?)", [pattern])
    except duckdb.Error as exc:
        detail = str(exc).strip().splitlines()[0]
        raise InvalidBehaviorError(f"invalid regex {pattern!r}: {detail}") from None


def resolve(spec: str | Behavior) -> Behavior:
    return spec if isinstance(spec, Behavior) else parse_behavior(spec)


def behavior_hits(ctx: RunContext, spec: str | Behavior) -> BoolArray:
    """Whether each sample (in `row_idx` order) shows the behaviour."""
    behavior = resolve(spec)
    return ctx.memo(("hits", behavior.spec), lambda: _hits(ctx, behavior))


def _hits(ctx: RunContext, behavior: Behavior) -> BoolArray:
    if behavior.kind == "semantic":
        from rootcause.behaviour.semantic import semantic_hits

        return semantic_hits(ctx, behavior)
    if behavior.kind == "judge":
        from rootcause.behaviour.judge import judge_result

        return judge_result(ctx, behavior).hits
    if behavior.kind in ("regex", "terms"):
        check_regex(ctx, behavior.regex())
    expr, params = behavior_sql(behavior)
    table = ctx.con.sql(
        f"SELECT {expr} AS hit FROM samples ORDER BY row_idx", params=params
    ).to_arrow_table()
    return np.asarray(table.column("hit").to_numpy(), dtype=bool)


def evaluated_rows(ctx: RunContext, spec: str | Behavior) -> BoolArray:
    """Rows the behaviour was evaluated on: every row, except for semantic behaviours, which
    are scored on a stratified sample of the run."""
    behavior = resolve(spec)
    if behavior.kind == "judge":
        from rootcause.behaviour.judge import judge_result

        return judge_result(ctx, behavior).evaluated
    if behavior.kind != "semantic":
        return np.ones(run_frame(ctx).n, dtype=bool)
    from rootcause.behaviour.semantic import evaluated_mask

    behavior_hits(ctx, behavior)
    return evaluated_mask(ctx, behavior.spec)


def behavior_frame(ctx: RunContext, spec: str | Behavior) -> tuple[RunFrame, BoolArray]:
    """The run's columns and the behaviour's hits over the evaluated rows only, so every rate
    and covariance is computed where the behaviour was actually looked for."""
    hits = behavior_hits(ctx, spec)
    mask = evaluated_rows(ctx, spec)
    return run_frame(ctx).subset(mask), hits[mask]
