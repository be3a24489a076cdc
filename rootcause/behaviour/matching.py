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
PackedBits = npt.NDArray[np.uint8]


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


def _bits_cache(ctx: RunContext) -> dict[str, PackedBits]:
    """Packed match bits by normalised spec, for this context's database (its path is in the
    key, so a context is never served another run's bits)."""
    return ctx.memo(("match_bits", str(ctx.db_path)), dict)


def _announced(ctx: RunContext) -> dict[str, str]:
    return ctx.memo(("announced_bits", str(ctx.db_path)), dict)


def announce_bits(ctx: RunContext, specs: list[str]) -> None:
    """Say that the bits of `specs` will be wanted: the next scan of the run evaluates them
    too, so specs known early and those found later cost one pass over the texts."""
    announced = _announced(ctx)
    for spec in specs:
        try:
            announced[parse_behavior(spec).spec] = spec
        except InvalidBehaviorError:
            continue  # it fails where it is asked for


def match_bits(ctx: RunContext, specs: list[str]) -> list[PackedBits]:
    """Per-sample match bits (`row_idx` order, `np.packbits`) of every SQL-expressible spec.

    The specs this context has not seen are evaluated in one scan of the run, every pattern a
    column (with those announced by `announce_bits`), and kept packed (an eighth of a bool
    array) so the investigation's later tools (`behavior_hits`) reuse them instead of
    scanning the texts again.
    """
    cache = _bits_cache(ctx)
    keys = [parse_behavior(s).spec for s in specs]
    missing = {k: s for k, s in zip(keys, specs, strict=True) if k not in cache}
    if missing:
        announced = _announced(ctx)
        missing |= {k: s for k, s in announced.items() if k not in cache and _valid(ctx, s)}
        announced.clear()
        cache.update(zip(missing, _scan_bits(ctx, list(missing.values())), strict=True))
    return [cache[k] for k in keys]


def _valid(ctx: RunContext, spec: str) -> bool:
    """Whether an announced spec can be scanned (one that cannot fails when it is asked for)."""
    try:
        behavior = parse_behavior(spec)
        behavior_sql(behavior)
        if behavior.kind in ("regex", "terms"):
            check_regex(ctx, behavior.regex())
    except InvalidBehaviorError:
        return False
    return True


def keep_union_bits(ctx: RunContext, spec: str, parts: list[str]) -> None:
    """Keep the bits of `spec`, a pattern that matches a text exactly when one of `parts`
    does (an alternation of their patterns), as the union of the parts' bits: no scan."""
    cache = _bits_cache(ctx)
    key = parse_behavior(spec).spec
    if key not in cache:
        cache[key] = np.bitwise_or.reduce(match_bits(ctx, parts))


def _scan_bits(ctx: RunContext, specs: list[str]) -> list[PackedBits]:
    """Evaluate `specs` in one scan; NULL (never produced by `behavior_sql`) counts as no.

    The terms specs of a text field share one pre-filter, the literal alternation of all their
    cores: a text it does not find has none of their terms, so each spec's own pattern runs
    only on the texts it finds (the exact result, with one pass of RE2's fast path over all
    texts instead of one per spec).
    """
    behaviors = [parse_behavior(spec) for spec in specs]
    for behavior in behaviors:
        if behavior.kind in ("regex", "terms"):
            check_regex(ctx, behavior.regex())
    shared = _shared_prefilters(behaviors)
    exprs: list[str] = []
    params: list[Any] = []
    for i, behavior in enumerate(behaviors):
        expr, p = behavior_sql(behavior)
        if behavior.kind == "terms" and behavior.field in shared:
            expr = f"CASE WHEN pre_{behavior.field} THEN {expr} ELSE false END"
        exprs.append(f"({expr}) AS m{i}")
        params += p
    inner = "".join(
        f", regexp_matches(coalesce({field}, ''), ?) AS pre_{field}" for field in shared
    )
    table = ctx.con.sql(
        f"SELECT row_idx, {', '.join(exprs)} FROM (SELECT *{inner} FROM samples)",
        params=[*params, *shared.values()],
    ).to_arrow_table()
    rows, n = table.column("row_idx").to_numpy(), table.num_rows  # row_idx is 0..n-1
    out: list[PackedBits] = []
    for i in range(len(specs)):
        hits = np.zeros(n, dtype=bool)
        hits[rows] = table.column(f"m{i}").fill_null(False).to_numpy(zero_copy_only=False)
        out.append(np.packbits(hits))
    return out


def _shared_prefilters(behaviors: list[Behavior]) -> dict[str, str]:
    """Field -> the case-insensitive alternation of every core of its terms behaviours (only
    fields with two or more: one spec's own pre-filter is already that)."""
    cores: dict[str, list[str]] = {}
    for behavior in behaviors:
        if behavior.kind == "terms":
            cores.setdefault(behavior.field, []).append(
                "|".join(re.escape(inflection_core(t)) for t in behavior.terms())
            )
    return {
        field: f"(?i)(?:{'|'.join(dict.fromkeys(found))})"
        for field, found in cores.items()
        if len(found) >= 2
    }


def _hits(ctx: RunContext, behavior: Behavior) -> BoolArray:
    packed = _bits_cache(ctx).get(behavior.spec)
    if packed is not None:
        return np.unpackbits(packed, count=run_frame(ctx).n).astype(bool)
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
