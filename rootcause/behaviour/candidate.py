"""A candidate detector for a symptom and its measurement on the whole run: hits, rates in
the first and last quarter of the samples (by step), the two-proportion z of the change, and
how much of a reference detector's hits it also finds (its *recall* of the symptom's own words).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from rootcause.behaviour.behavior import parse_behavior
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.matching import behavior_sql, check_regex
from rootcause.behaviour.precision import TermCheck
from rootcause.behaviour.run_behaviours import step_quartiles

Direction = Literal["up", "down"]

#: |z| of the change between the first and last quarter that counts as moved.
MIN_Z = 3.0


@dataclass
class Candidate:
    """A detector to measure: its spec, where it came from, how it carries the symptom, and
    its measured rates (first and last quarter of the samples)."""

    spec: str
    source: str
    basis: str
    tier: int  # 3 quoted / named length, 2 the symptom's words, 1 meaning only, 0 data only
    coverage: int = 0  # stems of the symptom's words its terms share
    similarity: float | None = None
    meaning_z: float | None = None
    label: str = ""
    hits: int = 0
    early: float = math.nan
    late: float = math.nan
    z: float = 0.0
    verdict: str = ""
    recall: float = 1.0  # share of the reference detector's hits it also finds
    terms: list[str] = field(default_factory=list)  # the n-grams it matches, when known
    checks: list[TermCheck] = field(default_factory=list)  # its added terms' precision checks

    @property
    def carries(self) -> bool:
        return self.tier > 0

    @property
    def direction(self) -> Direction:
        return "up" if self.z >= 0 else "down"

    def moved(self, stated: Direction | None) -> bool:
        return abs(self.z) >= MIN_Z and (stated is None or self.direction == stated)


def measure(ctx: RunContext, candidates: list[Candidate]) -> None:
    """Hits and first/last-quarter rates of every candidate, in one pass over the run."""
    low, high = step_quartiles(ctx)
    exprs: list[str] = []
    params: list[object] = []
    for c in candidates:
        expr, p = sql_of(ctx, c.spec)
        exprs.append(f"count_if({expr})")
        params += p
    if not exprs:
        return
    rows = ctx.con.execute(
        f"SELECT CASE WHEN step <= {low!r} THEN 0 WHEN step >= {high!r} THEN 1 ELSE 2 END, "
        f"count(*), {', '.join(exprs)} FROM samples GROUP BY 1",
        params,
    ).fetchall()
    table = {int(r[0]): r[1:] for r in rows}
    empty = (0, *(0 for _ in candidates))
    early, late, mid = (table.get(w, empty) for w in (0, 1, 2))
    for i, c in enumerate(candidates, start=1):
        c.hits = int(early[i] + late[i] + mid[i])
        c.early = early[i] / early[0] if early[0] else math.nan
        c.late = late[i] / late[0] if late[0] else math.nan
        pooled = (early[i] + late[i]) / max(early[0] + late[0], 1)
        se = math.sqrt(
            max(pooled * (1 - pooled), 1e-12) * (1 / max(early[0], 1) + 1 / max(late[0], 1))
        )
        c.z = 0.0 if not (early[0] and late[0]) else (c.late - c.early) / se


def sql_of(ctx: RunContext, spec: str) -> tuple[str, list[object]]:
    """The DuckDB boolean expression of the detector `spec` and its parameters (regexes checked
    for the engine first)."""
    behavior = parse_behavior(spec)
    if behavior.kind in ("regex", "terms"):
        check_regex(ctx, behavior.regex())
    expr, params = behavior_sql(behavior)
    return expr, list(params)


def measure_recall(ctx: RunContext, candidates: list[Candidate], reference: Candidate) -> None:
    """Each candidate's share of the hits of `reference` that it also finds (one pass)."""
    if not reference.hits or not candidates:
        return
    ref_expr, ref_params = sql_of(ctx, reference.spec)
    exprs: list[str] = []
    params: list[object] = []
    for c in candidates:
        expr, p = sql_of(ctx, c.spec)
        exprs.append(f"count_if(({expr}) AND ({ref_expr}))")
        params += [*p, *ref_params]
    row = ctx.con.execute(f"SELECT {', '.join(exprs)} FROM samples", params).fetchall()[0]
    for c, joint in zip(candidates, row, strict=True):
        c.recall = int(joint) / reference.hits


def association_groups(ctx: RunContext, specs: list[str]) -> list[list[int]]:
    """Groups of the detectors `specs` (by index) that mark one behaviour: two join when their
    hits occur together more often than apart (both > either alone, i.e. Jaccard > 1/2), and
    groups are the connected sets of such pairs. Two words that are merely common at the same
    time (both rising, one everywhere) stay apart."""
    if len(specs) < 2:
        return [[i] for i in range(len(specs))]
    parsed = [sql_of(ctx, s) for s in specs]
    pairs = [(i, j) for i in range(len(specs)) for j in range(i + 1, len(specs))]
    exprs: list[str] = []
    params: list[object] = []
    for i, j in pairs:
        (left, p_left), (right, p_right) = parsed[i], parsed[j]
        exprs.append(f"count_if(({left}) AND ({right})) > count_if(({left}) != ({right}))")
        params += [*p_left, *p_right, *p_left, *p_right]
    row = ctx.con.execute(f"SELECT {', '.join(exprs)} FROM samples", params).fetchall()[0]
    parent = list(range(len(specs)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for (i, j), together in zip(pairs, row, strict=True):
        if together:
            parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(specs)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())
